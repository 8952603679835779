// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* probe.c - what the running kernel allows the engine, asked once at load. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "libddp_priv.h"
#include "ddp_probe.skel.h"

/* Tests: the limit of another kernel (0: probe this one) */
__u32 ddp_probe_csum_pretend;

__u32 ddp_probe_csum_max(void)
{
	struct ddp_probe_bpf *s;
	__u8 pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = sizeof(pkt));
	__u32 max = 0;

	if (ddp_probe_csum_pretend)
		return ddp_probe_csum_pretend;
	s = ddp_probe_bpf__open_and_load();
	if (!s)
		return 0;
	if (!bpf_prog_test_run_opts(bpf_program__fd(s->progs.ddp_csum_probe),
				    &o))
		max = o.retval;
	ddp_probe_bpf__destroy(s);
	return max;
}
