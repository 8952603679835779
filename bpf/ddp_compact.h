/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_compact.h - AF_XDP frames without their placed bytes.
 *
 * In copy mode the kernel copies every frame into the UMEM; placed payload
 * bytes would be copied a second time. So, as the specification's NIC "will
 * only store the remaining TCP and PDU headers", the engine cuts the placed
 * ranges out of a frame it redirects: the bytes between them (digests,
 * headers) move down, the frame is shortened, and the metadata says so.
 * A frame is cut only once its TCP checksum is known right, since nobody
 * can check it afterwards; and only when what moves is small.
 */
#ifndef DDP_COMPACT_H
#define DDP_COMPACT_H

#define DDP_MOVE_MAX 256 /* unplaced bytes moved per frame, at most */

/* Move [from, from + n) down to `to` (to < from), n <= DDP_MOVE_MAX,
 * through tmp, the per-CPU scratch buffer (the stack has no room). */
static __always_inline int ddp_move(struct xdp_md *ctx, __u8 *tmp, __u32 to,
				    __u32 from, __u32 n)
{
	n &= DDP_MOVE_MAX * 2 - 1;
	if (!n)
		return 0;
	if (n > DDP_MOVE_MAX)
		return -1;
	n = ddp_size(n, DDP_MOVE_MAX - 1);
	if (bpf_xdp_load_bytes(ctx, from, tmp, n))
		return -1;
	return bpf_xdp_store_bytes(ctx, to, tmp, n);
}

/*
 * The payload starts at pay_off and is pay_len long. Returns 0 with the
 * frame compacted, or -1 with the frame untouched (nothing was moved if
 * what had to move was too much).
 */
static __always_inline int ddp_compact(struct xdp_md *ctx,
				       const struct ddp_meta *m, __u32 pay_off,
				       __u32 pay_len)
{
	__u32 keep = 0, placed = 0, start = 0, i, zero = 0;
	__u8 *tmp;

	/* first: how much stays, so a refused frame is left as it was */
#pragma unroll
	for (i = 0; i < DDP_META_RANGES; i++) {
		if (i >= m->nr)
			break;
		keep += m->r[i].off - start;
		placed += m->r[i].len;
		start = m->r[i].off + m->r[i].len;
	}
	if (start > pay_len)
		return -1;
	keep += pay_len - start;
	tmp = bpf_map_lookup_elem(&ddp_scratch, &zero);
	if (keep > DDP_MOVE_MAX || !placed || !tmp)
		return -1;

	/* then each unplaced run down by the placed bytes before it */
	start = 0;
	placed = 0;
#pragma unroll
	for (i = 0; i < DDP_META_RANGES; i++) {
		if (i >= m->nr)
			break;
		if (placed && ddp_move(ctx, tmp, pay_off + start - placed,
				       pay_off + start, m->r[i].off - start))
			return -1;
		placed += m->r[i].len;
		start = m->r[i].off + m->r[i].len;
	}
	if (ddp_move(ctx, tmp, pay_off + start - placed, pay_off + start,
		     pay_len - start))
		return -1;
	return bpf_xdp_adjust_tail(ctx, -(int)placed) ? -1 : 0;
}

#endif /* DDP_COMPACT_H */
