/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_rx.h - one received frame: steering, the sequence check, the PDU
 * tracker's steps, and the verdict.
 *
 * The frame is never changed in kernel-socket mode and never dropped. Each
 * tracker step consumes header bytes, placed data, or skipped bytes of the
 * current PDU, or scans one position while searching.
 */
#ifndef DDP_RX_H
#define DDP_RX_H

/* A complete header was gathered into f->hdr. */
static __always_inline void ddp_pdu_begin(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;
	struct ddp_pdu_info pi;

	if (ddp_hdr_check((const void *)f->hdr, &f->cfg, &pi)) {
		__u32 again = f->pdu_seq + 1;

		if (f->sync == DDP_SYNC_OK) {
			rx->st->pdu_err++;
			rx->err = 1;
		}
		ddp_lose_sync(rx);
		ddp_rescan_from(rx, again);
		return;
	}
	rx->st->pdus++;
	f->plen = pi.plen;
	f->data_off = pi.data_off;
	f->data_end = pi.data_end;
	f->datao = pi.datao;
	f->cid = pi.cid;
	f->type = pi.type;
	f->place = 0;
	ddp_ddgst_begin(f);
	if (f->sync == DDP_SYNC_OK) {
		if (pi.type == NVME_TCP_C2H_DATA)
			ddp_tag_begin(rx);
	} else {
		ddp_resync_header(rx);
	}
}

static __always_inline int ddp_hdr_step(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;
	__u32 off = f->pdu_off;
	__u32 n = rx->end - rx->pos;

	if (off >= DDP_HDR_NEED)
		return 1;
	if (n > DDP_HDR_NEED - off)
		n = DDP_HDR_NEED - off;
	if (!n)
		return 1;
	/* an untracked segment may have brought these bytes already */
	if (!off)
		f->hdr_ign = 0;
	if (ddp_seq_lt(ddp_seq_at(rx, rx->pos), rx->ign))
		f->hdr_ign = 1;
	/* Verifier: off + n <= 23 + 32 keeps f->hdr[] in bounds (the mask
	 * kept from the compiler, which knows it redundant) */
	barrier_var(off);
	off &= 31;
	n = ddp_size(n, 31);
	if (bpf_xdp_load_bytes(rx->ctx, rx->pos, f->hdr + off, n)) {
		rx->err = 1;
		ddp_lose_sync(rx);
		return 1;
	}
	f->pdu_off = off + n;
	rx->pos += n;
	if (f->pdu_off == DDP_HDR_NEED)
		ddp_pdu_begin(rx);
	return 0;
}

static __always_inline int ddp_body_step(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;
	__u32 off = f->pdu_off;
	__u32 avail = rx->end - rx->pos;
	__u32 stop, n;

	/* placed or digested: data and what follows it taken apart */
	if (!f->place && f->ddgst != DDP_DDGST_RUN)
		stop = f->plen;
	else if (off < f->data_off)
		stop = f->data_off;
	else if (off < f->data_end)
		stop = f->data_end;
	else
		stop = f->plen;
	n = stop - off;
	if (n > avail)
		n = avail;
	if (f->ddgst == DDP_DDGST_RUN && n > DDP_CRC_STEP)
		n = DDP_CRC_STEP;
	if (f->place && off >= f->data_off && off < f->data_end) {
		__u32 placed = ddp_place(rx, n);

		if (placed)
			n = placed;
	}
	ddp_ddgst_step(rx, off, n);
	f->pdu_off = off + n;
	rx->pos += n;
	if (f->pdu_off >= f->plen)
		ddp_pdu_end(rx);
	return 0;
}

static long ddp_step(__u32 i, void *arg)
{
	struct ddp_rx *rx = arg;
	struct ddp_flow *f = rx->f;

	if (rx->pos >= rx->end)
		return 1;
	if (f->sync == DDP_SYNC_SEARCH)
		return ddp_scan_step(rx);
	if (f->pdu_off < DDP_HDR_NEED)
		return ddp_hdr_step(rx);
	return ddp_body_step(rx);
}

/*
 * Frame p, of bytes before exp_seq, holds the whole header the tracker lost
 * to a gap (late_hdr): the late or resent copy the transport takes to fill
 * the gap, its checksum checked (ddp_frame_has_header). If the stream is
 * still inside that PDU, tracking resumes in it as if the gap had been
 * absorbed, without a resync: the engine knew a header began there, and
 * now knows which. One try: a copy that does not fit gives up.
 */
static __always_inline void ddp_late_header(struct ddp_rx *rx,
					    const struct ddp_pkt *p)
{
	struct ddp_flow *f = rx->f;
	__u32 h = f->late_hdr, at = h - p->seq, cur = f->exp_seq, zero = 0;
	struct ddp_late {
		struct nvme_tcp_hdr24 hdr;
		struct ddp_pdu_info pi;
	} *l;

	if (!f->late_ok || f->sync == DDP_SYNC_OK || at >= p->pay_len ||
	    p->pay_len - at < DDP_HDR_NEED)
		return;
	f->late_ok = 0;
	/* in this CPU's scratch buffer, free until the tracker's steps: the
	 * stack has no room left on 6.1 */
	l = bpf_map_lookup_elem(&ddp_scratch, &zero);
	if (!l || at > 0xffff ||
	    bpf_xdp_load_bytes(rx->ctx, p->pay_off + at, &l->hdr,
			       sizeof(l->hdr)) ||
	    ddp_hdr_check(&l->hdr, &f->cfg, &l->pi) ||
	    ddp_seq_lt(cur, h + DDP_HDR_NEED) ||
	    !ddp_seq_lt(cur, h + l->pi.plen))
		return;
	__builtin_memcpy(f->hdr, &l->hdr, sizeof(l->hdr));
	f->sync = DDP_SYNC_OK;
	f->pdu_seq = h;
	f->pdu_off = cur - h;
	f->rec_open = 0;
	rx->st->pdus++;
	f->plen = l->pi.plen;
	f->data_off = l->pi.data_off;
	f->data_end = l->pi.data_end;
	f->datao = l->pi.datao;
	f->cid = l->pi.cid;
	f->type = l->pi.type;
	f->place = 0;
	/* its first bytes were not seen in order: no verdict */
	ddp_ddgst_begin(f);
	ddp_ddgst_lose(f);
	if (f->type == NVME_TCP_C2H_DATA)
		ddp_tag_begin(rx);
}

/* Where this frame's payload stands against the expected sequence number;
 * returns the first payload byte to track, or -1 if none is new. */
static __always_inline int ddp_seq_check(struct ddp_rx *rx,
					 const struct ddp_pkt *p)
{
	struct ddp_flow *f = rx->f;
	int d = p->seq - f->exp_seq;
	__u32 start = 0;

	if (d < 0) {
		__u32 old = -(__u32)d;

		rx->st->retrans++;
		ddp_late_header(rx, p);
		/* the transport may take this copy: not the one digested */
		ddp_ddgst_untracked(f, p->seq, p->seq + p->pay_len);
		if (old >= p->pay_len) {
			ddp_revoke(f, rx->st, p->seq, p->seq + p->pay_len);
			return -1;
		}
		ddp_revoke(f, rx->st, p->seq, f->exp_seq);
		start = old;
	} else if (d > 0) {
		ddp_hole(f, f->exp_seq, p->seq);
		if (!ddp_absorb(rx, d)) {
			ddp_late_note(f);
			ddp_lose_sync(rx);
		}
	}
	f->exp_seq = p->seq + p->pay_len;
	return start;
}

/* Whether the tracker would take header bytes from this frame (frame
 * state is not changed): a header in it, or a search through it. */
static __always_inline int ddp_frame_has_header(const struct ddp_flow *f,
						const struct ddp_pkt *p)
{
	int d = p->seq - f->exp_seq;
	__u32 start = 0, off = f->pdu_off;

	/* a copy of a header lost to a gap: read only if its checksum holds */
	if (f->late_ok && f->sync != DDP_SYNC_OK &&
	    (__u32)(f->late_hdr - p->seq) < p->pay_len)
		return 1;
	if (d < 0) {
		if (-(__u32)d >= p->pay_len)
			return 0;
		start = -(__u32)d;
	} else if (d > 0 && f->sync != DDP_SYNC_SEARCH) {
		/* a gap not absorbed starts a search */
		if (off < DDP_HDR_NEED || d > f->plen - off)
			return 1;
		off += d;
		if (off == f->plen)
			return 1;
	}
	if (f->sync == DDP_SYNC_SEARCH || off < DDP_HDR_NEED)
		return 1;
	return f->plen - off < p->pay_len - start;
}

/*
 * Tracks frame p of flow f: checks its checksum, follows its PDUs, places
 * their data, notes the ranges placed in meta. Returns 1 if the frame's TCP
 * checksum was computed, and right. A global function: verified once,
 * whatever path the parser took to it, not once per path.
 */
__attribute__((noinline)) int ddp_track(struct xdp_md *ctx, struct ddp_flow *f,
					const struct ddp_pkt *p,
					struct ddp_stats *st,
					struct ddp_meta *meta)
{
	struct ddp_rx frame = { .ctx = ctx, .f = f, .st = st, .meta = meta };
	struct ddp_rx *rx = &frame;
	__u32 exp, ign, end;
	int start;

	rx->buf = ddp_buf_get();
	if (!f || !p || !st || !meta || !rx->buf)
		return 0;
	rx->l4_off = p->l4_off;
	exp = f->exp_seq;
	ign = f->ign_end;
	end = p->seq + p->pay_len;
	rx->st->rx_packets++;
	rx->st->rx_bytes += p->pay_len;
	ddp_resync_reply(rx);
	rx->ign = ign;
	/* a frame whose bytes are digested is checked as a header frame */
	if (ddp_frame_has_header(f, p) || f->ddgst == DDP_DDGST_RUN) {
		int v = ddp_tcp_csum(rx->ctx, p);

		if (v == DDP_TCPSUM_BAD) {
			/* as if it never came; but the transport may know
			 * better (an offload's mark) and take it */
			rx->st->csum_bad++;
			ddp_untracked(f, rx->st, p->seq, end);
			return 0;
		}
		rx->csum_ok = v == DDP_TCPSUM_OK;
		if (v == DDP_TCPSUM_PARTIAL)
			rx->st->csum_partial++;
	}
	start = ddp_seq_check(rx, p);
	if (start >= 0) {
		rx->base = p->pay_off;
		rx->seq = p->seq;
		rx->pos = p->pay_off + start;
		rx->end = p->pay_off + p->pay_len;
		bpf_loop(DDP_MAX_STEPS, ddp_step, rx, 0);
		/* out of steps while tracking: the tracker no longer knows
		 * where the next header is */
		if (rx->pos < rx->end && f->sync != DDP_SYNC_SEARCH) {
			rx->err = 1;
			ddp_lose_sync(rx);
		}
	}
	/* placed over bytes an untracked frame may have brought the
	 * transport already: this copy may be a corrupted duplicate */
	if (rx->placed && ddp_seq_lt(exp, ign)) {
		__u32 lo = ddp_seq_lt(p->seq, exp) ? exp : p->seq;
		__u32 hi = ddp_seq_lt(ign, end) ? ign : end;

		if (ddp_seq_lt(lo, hi))
			ddp_revoke(f, rx->st, lo, hi);
	}
	if (ddp_seq_lt(f->ign_end, f->exp_seq))
		f->ign_end = f->exp_seq;
	if (rx->placed)
		rx->st->offload_packets++;
	if (rx->err)
		rx->st->drop++;
	return rx->csum_ok;
}

/* 0, or -1 if the driver gives the frame no room for metadata */
static __always_inline int ddp_meta_write(struct xdp_md *ctx,
					  const struct ddp_meta *m)
{
	struct ddp_meta *dst;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*dst)))
		return -1;
	dst = (void *)(long)ctx->data_meta;
	if ((void *)(dst + 1) > (void *)(long)ctx->data)
		return -1;
	__builtin_memcpy(dst, m, sizeof(*dst));
	dst->magic = DDP_META_MAGIC;
	return 0;
}

/* A segment the engine cannot follow, of flow f: the kernel may take it. */
static __always_inline void ddp_rx_untracked(struct ddp_flow *f,
					     const struct ddp_pkt *p, int kind)
{
	struct ddp_stats *st = ddp_stats_get();

	if (!st || !(f->cfg.flags & DDP_SK_OFFLOAD))
		return;
	st->untracked++;
	if (!ddp_flow_enter(f, st))
		return;
	ddp_untracked(f, st, p->seq,
		      p->seq + (kind == DDP_PKT_FRAG ? DDP_MAX_DGRAM :
						       p->pay_len));
	ddp_flow_exit(f);
}

static __always_inline int ddp_rx_frame(struct xdp_md *ctx)
{
	struct ddp_stats *st;
	struct ddp_meta *meta;
	struct ddp_flow *f;
	struct ddp_pkt p;
	int kind, act, csum_ok = 0;
	__u32 *id;

	kind = ddp_parse(ctx, &p);
	if (kind < 0)
		return XDP_PASS;
	if (kind == DDP_PKT_OPAQUE) {
		st = ddp_stats_get();
		if (st)
			ddp_revoke_pair(&p.key, st);
		return XDP_PASS;
	}
	id = bpf_map_lookup_elem(&ddp_socks, &p.key);
	if (!id)
		return XDP_PASS;
	f = ddp_flow_get(DDP_FLOW_SLOT(*id));
	if (!f || f->state != DDP_FLOW_ALIVE)
		return XDP_PASS;
	if (kind != DDP_PKT_TCP) {
		ddp_rx_untracked(f, &p, kind);
		return XDP_PASS;
	}
	st = ddp_stats_get();
	meta = ddp_rx_meta_get();
	if (!st || !meta)
		return XDP_PASS;
	/* tracked if no other CPU tracks the flow this instant */
	if (p.pay_len && (f->cfg.flags & DDP_SK_OFFLOAD) &&
	    ddp_flow_enter(f, st)) {
		csum_ok = ddp_track(ctx, f, &p, st, meta);
		ddp_flow_exit(f);
	}
	if (!(f->cfg.flags & DDP_SK_XSK))
		return XDP_PASS;
	/* The redirect is decided first: a frame that goes to the stack
	 * (no socket on this queue) is never changed. One that is
	 * redirected reaches the socket or is dropped. */
	act = bpf_redirect_map(&ddp_xsks, ctx->rx_queue_index, XDP_PASS);
	if (act != XDP_REDIRECT)
		return act;
	/* header frames had their checksum checked before tracking; a
	 * frame is flagged, and cut, only if it was computed and right.
	 * Others are summed here only if something was placed or judged:
	 * else the host sums them, as it would without the engine. */
	if (csum_ok || ((meta->nr || meta->ddgst) &&
			ddp_tcp_csum(ctx, &p) == DDP_TCPSUM_OK)) {
		meta->flags = DDP_META_CSUM;
		if (meta->nr && !ddp_compact(ctx, meta, p.pay_off, p.pay_len)) {
			meta->flags |= DDP_META_COMPACT;
			st->compacted++;
		}
	}
	/* Every redirected frame carries metadata of its own, even with
	 * nothing in it: its headroom may hold what an earlier use of the
	 * buffer left there (a zero-copy driver recycles the frames it
	 * passes or drops without the host seeing them), and the host
	 * believes a magic it finds. Without room for it, not at all. */
	if (ddp_meta_write(ctx, meta)) {
		st->xsk_no_meta++;
		return XDP_DROP;
	}
	return act;
}

#endif /* DDP_RX_H */
