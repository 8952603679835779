// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xdp_pass.bpf.c - somebody else's XDP program, for the tests that check
 * the engine never replaces one. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int not_ddp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
