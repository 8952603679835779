// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_engine.bpf.c - programs for the engine benchmark: an empty XDP
 * program; a bare copy of a frame's bytes with the helper the engine places
 * with (the floor of any placement: the kernel's memcpy); and a front that
 * rewinds one flow's tracker and tail-calls the engine as loaded, so that
 * BPF_PROG_TEST_RUN's repeat runs the same in-order frame again and again.
 * ddp_flows is the engine's own map.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ddp.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ddp_flow);
} ddp_flows SEC(".maps");

/* 0 -> the program to run after the rewind */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_next SEC(".maps");

__u32 bench_flow;
struct ddp_flow bench_state;
__u32 copy_off, copy_len;
__u8 copy_buf[2048];

SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int bench_copy(struct xdp_md *ctx)
{
	__u32 len = copy_len & (sizeof(copy_buf) - 1);

	if (len)
		bpf_xdp_load_bytes(ctx, copy_off, copy_buf, len);
	return XDP_PASS;
}

SEC("xdp")
int bench_rewound(struct xdp_md *ctx)
{
	struct ddp_flow *f = bpf_map_lookup_elem(&ddp_flows, &bench_flow);

	if (f) {
		f->exp_seq = bench_state.exp_seq;
		f->ign_end = bench_state.ign_end;
		f->pdu_seq = bench_state.pdu_seq;
		f->pdu_off = bench_state.pdu_off;
		f->place = bench_state.place;
		f->seg = bench_state.seg;
		f->seg_start = bench_state.seg_start;
		f->rec_head = bench_state.rec_head;
		f->rec_open = bench_state.rec_open;
	}
	bpf_tail_call(ctx, &bench_next, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
