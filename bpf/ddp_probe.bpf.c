// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ddp_probe.bpf.c - what the running kernel's helpers allow, run once by
 * the loader before it sizes the engine: how many bytes one
 * bpf_csum_diff() call sums (kernels before 6.13 refuse more than 512).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define DDP_PROBE_LEN 9216

/* 0 -> bytes to sum */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, DDP_PROBE_LEN);
} ddp_probe_buf SEC(".maps");

/* Returns the largest of 9216 and 512 that one call takes, or 0. */
SEC("xdp")
int ddp_csum_probe(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u8 *buf = bpf_map_lookup_elem(&ddp_probe_buf, &zero);

	if (!buf)
		return 0;
	if (bpf_csum_diff(0, 0, (void *)buf, DDP_PROBE_LEN, 0) >= 0)
		return DDP_PROBE_LEN;
	if (bpf_csum_diff(0, 0, (void *)buf, 512, 0) >= 0)
		return 512;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
