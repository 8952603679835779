/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_ddgst.h - the data digest offload: the CRC32C of each C2HData PDU's
 * data, computed as the tracker consumes it, and a verdict at its end.
 *
 * A verdict is `ok` or `bad` only if every byte of the PDU's data and
 * digest passed the tracker in order, in frames whose TCP checksum the
 * engine checked (or the kernel would take unchecked: a partial checksum),
 * and no copy of them went or may go to the transport untracked: a gap, a
 * resync, a retransmission or an untracked segment over the PDU makes it
 * `unknown`. PDUs the tracker frames out of sync get none.
 */
#ifndef DDP_DDGST_H
#define DDP_DDGST_H

#include "ddp_crc32c_tab.h"

/* Most data bytes one tracker step digests: one call of ddp_crc32c(). */
#define DDP_CRC_STEP 2048

/* kmod_glue's kfunc (kmod_glue/ddp_kfuncs.c): the CRC32C of buf[off, off
 * + len), as much of it as lies in the buffer, with the kernel's crc32c.
 * Weak: without the module the loader leaves cfg_crc_kfunc clear, and the
 * verifier removes the call as dead code. */
extern __u32 bpf_ddp_crc32c(__u32 crc, const void *buf, __u32 buf__sz,
			    __u32 off, __u32 len) __ksym __weak;

/* The low byte of x as a table index, in a form the verifier of 6.1 bounds
 * (it learns nothing from the xor the compiler moves the mask across). */
static __always_inline __u32 ddp_crc_idx(__u32 x)
{
	barrier_var(x);
	return x & 0xff;
}

/*
 * crc over len (<= DDP_CRC_STEP) bytes of this CPU's scratch buffer from
 * off, by the module's kfunc or slicing by 8: the CRC is not inverted on
 * the way in or out. A global function: its loops are verified once.
 */
__attribute__((noinline)) __u32 ddp_crc32c(__u32 crc, __u32 off, __u32 len)
{
	const __u32(*t)[256] = ddp_crc32c_tab;
	__u32 zero = 0, i, p, hi;
	__u8 *buf = bpf_map_lookup_elem(&ddp_scratch, &zero);
	__u64 v;

	if (!buf)
		return crc;
	if (cfg_crc_kfunc)
		return bpf_ddp_crc32c(crc, buf, DDP_SCRATCH_LEN, off, len);
	for (i = 0; i < DDP_CRC_STEP / 8; i++) {
		p = off;
		if (len < 8 || p > DDP_SCRATCH_LEN - 8)
			break;
		v = *(__u64 *)(buf + p);
		crc ^= (__u32)v;
		hi = v >> 32;
		crc = t[7][ddp_crc_idx(crc)] ^ t[6][ddp_crc_idx(crc >> 8)] ^
		      t[5][ddp_crc_idx(crc >> 16)] ^ t[4][ddp_crc_idx(crc >> 24)] ^
		      t[3][ddp_crc_idx(hi)] ^ t[2][ddp_crc_idx(hi >> 8)] ^
		      t[1][ddp_crc_idx(hi >> 16)] ^ t[0][ddp_crc_idx(hi >> 24)];
		off += 8;
		len -= 8;
	}
	for (i = 0; i < 7; i++) {
		p = off;
		if (!len || p > DDP_SCRATCH_LEN - 1)
			break;
		crc = t[0][ddp_crc_idx(crc ^ buf[p])] ^ (crc >> 8);
		off++;
		len--;
	}
	return crc;
}

/* A C2HData header was framed: digest its data if the queue has digests
 * and the engine saw the PDU from its first byte, in sync. */
static __always_inline void ddp_ddgst_begin(struct ddp_flow *f)
{
	f->ddgst = DDP_DDGST_NONE;
	if (f->type != NVME_TCP_C2H_DATA ||
	    !(f->cfg.dgst & NVME_TCP_DGST_DATA) || !cfg_ddgst_offload ||
	    f->sync != DDP_SYNC_OK)
		return;
	f->crc = ~0u;
	f->ddgst_rec = f->rec_head;
	f->ddgst_rev = f->rev_head;
	/* its header may have come untracked: its framing, not ours */
	f->ddgst = f->hdr_ign ? DDP_DDGST_LOST : DDP_DDGST_RUN;
}

/* Some byte of the PDU being digested may reach the transport in a copy
 * the engine did not digest. */
static __always_inline void ddp_ddgst_lose(struct ddp_flow *f)
{
	if (f->ddgst == DDP_DDGST_RUN)
		f->ddgst = DDP_DDGST_LOST;
}

/* Bytes [seq, end) went or may go to the transport untracked, or again:
 * the PDU being digested loses its verdict if it holds any of them. */
static __always_inline void ddp_ddgst_untracked(struct ddp_flow *f, __u32 seq,
						__u32 end)
{
	if (f->ddgst == DDP_DDGST_RUN && ddp_seq_lt(seq, f->pdu_seq + f->plen) &&
	    ddp_seq_lt(f->pdu_seq, end))
		f->ddgst = DDP_DDGST_LOST;
}

/* The tracker consumes n bytes at rx->pos, PDU offset off, all in one of
 * the PDU's parts: digest data, gather the trailer. */
static __always_inline void ddp_ddgst_step(struct ddp_rx *rx, __u32 off,
					   __u32 n)
{
	struct ddp_flow *f = rx->f;
	__u32 o, zero = 0;
	__u8 *buf;

	if (f->ddgst != DDP_DDGST_RUN || off < f->data_off)
		return;
	/* an untracked segment may have brought these bytes already */
	if (ddp_seq_lt(ddp_seq_at(rx, rx->pos), rx->ign)) {
		f->ddgst = DDP_DDGST_LOST;
		return;
	}
	if (off < f->data_end) {
		/* checked frames are in the scratch buffer already */
		if (rx->csum_ok) {
			f->crc = ddp_crc32c(f->crc, rx->pos - rx->l4_off, n);
			return;
		}
		buf = bpf_map_lookup_elem(&ddp_scratch, &zero);
		if (!buf || n > DDP_CRC_STEP ||
		    bpf_xdp_load_bytes(rx->ctx, rx->pos, buf,
				       ddp_size(n, DDP_CRC_STEP - 1))) {
			f->ddgst = DDP_DDGST_LOST;
			return;
		}
		f->crc = ddp_crc32c(f->crc, 0, n);
		return;
	}
	o = off - f->data_end;
	if (o >= NVME_TCP_DIGEST_LEN)
		return;
	if (n > NVME_TCP_DIGEST_LEN - o)
		n = NVME_TCP_DIGEST_LEN - o;
	barrier_var(o);
	o &= 3;
	if (bpf_xdp_load_bytes(rx->ctx, rx->pos, f->ddgst_wire + o,
			       ddp_size(n, 3)))
		f->ddgst = DDP_DDGST_LOST;
}

/* Tell the host verdict v of the PDU that ends at rx->pos: AF_XDP in the
 * frame's metadata, a kernel-socket host in the PDU's last record. */
static __always_inline void ddp_ddgst_note(struct ddp_rx *rx, __u8 v)
{
	struct ddp_flow *f = rx->f;
	struct ddp_rec *r;

	if ((f->cfg.flags & DDP_SK_XSK) && !rx->meta->ddgst) {
		rx->meta->ddgst = v;
		rx->meta->ddgst_end = rx->pos - rx->base;
	}
	/* in its last placement record, if any of it was placed: the host
	 * reads it once the kernel has taken the DDGST, after this frame */
	if ((f->cfg.flags & DDP_SK_RECORDS) && f->rec_head != f->ddgst_rec) {
		r = ddp_rec_get(f, f->rec_head - 1);
		if (r)
			r->ddgst = v;
	}
}

/* The PDU ends (rx->pos just past it), or the tracker loses it: its
 * verdict. */
static __always_inline void ddp_ddgst_end(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;
	__u8 v;

	/* a frame of the flow went by on another CPU meanwhile (it may be
	 * the copy the transport takes), or every record was revoked */
	if (f->ddgst == DDP_DDGST_RUN &&
	    (READ_ONCE(f->missed) ||
	     READ_ONCE(f->rev_head) - f->ddgst_rev >= DDP_REV_RING))
		f->ddgst = DDP_DDGST_LOST;
	if (f->ddgst == DDP_DDGST_RUN && f->pdu_off >= f->plen) {
		v = ~f->crc == *(__u32 *)f->ddgst_wire ? DDP_VERDICT_OK :
							 DDP_VERDICT_BAD;
		if (v == DDP_VERDICT_OK)
			rx->st->ddgst_ok++;
		else
			rx->st->ddgst_bad++;
		ddp_ddgst_note(rx, v);
	} else if (f->ddgst != DDP_DDGST_NONE) {
		rx->st->ddgst_unknown++;
	}
	f->ddgst = DDP_DDGST_NONE;
}

#endif /* DDP_DDGST_H */
