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
	/* Verifier: off < 24 and n <= 24 keep f->hdr[off + n] in bounds */
	off &= 31;
	n &= 31;
	if (!n)
		return 1;
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

	if (!f->place)
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
	if (f->place && off >= f->data_off && off < f->data_end) {
		__u32 placed = ddp_place(rx, n);

		if (placed)
			n = placed;
	}
	f->pdu_off = off + n;
	rx->pos += n;
	if (f->pdu_off >= f->plen)
		ddp_pdu_end(f);
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
		if (old >= p->pay_len) {
			ddp_revoke(f, p->seq, p->seq + p->pay_len);
			return -1;
		}
		ddp_revoke(f, p->seq, f->exp_seq);
		start = old;
	} else if (d > 0 && !ddp_absorb(rx, d)) {
		ddp_lose_sync(rx);
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

static __always_inline void ddp_track(struct ddp_rx *rx,
				      const struct ddp_pkt *p)
{
	struct ddp_flow *f = rx->f;
	int start;

	rx->st->rx_packets++;
	rx->st->rx_bytes += p->pay_len;
	ddp_resync_reply(rx);
	/* as if it never came: the transport drops it too */
	if (cfg_csum_check && ddp_frame_has_header(f, p)) {
		if (!ddp_tcp_csum_ok(rx->ctx, p)) {
			rx->st->csum_bad++;
			return;
		}
		rx->csum_ok = 1;
	}
	start = ddp_seq_check(rx, p);
	if (start < 0)
		return;
	rx->base = p->pay_off;
	rx->seq = p->seq;
	rx->pos = p->pay_off + start;
	rx->end = p->pay_off + p->pay_len;
	bpf_loop(DDP_MAX_STEPS, ddp_step, rx, 0);
	/* out of steps while tracking: the tracker no longer knows where
	 * the next header is */
	if (rx->pos < rx->end && f->sync != DDP_SYNC_SEARCH) {
		rx->err = 1;
		ddp_lose_sync(rx);
	}
	if (rx->placed)
		rx->st->offload_packets++;
	if (rx->err)
		rx->st->drop++;
}

static __always_inline void ddp_meta_write(struct xdp_md *ctx,
					   const struct ddp_meta *m)
{
	struct ddp_meta *dst;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*dst)))
		return;
	dst = (void *)(long)ctx->data_meta;
	if ((void *)(dst + 1) > (void *)(long)ctx->data)
		return;
	__builtin_memcpy(dst, m, sizeof(*dst));
	dst->magic = DDP_META_MAGIC;
}

static __always_inline int ddp_rx_frame(struct xdp_md *ctx)
{
	struct ddp_rx rx = { .ctx = ctx };
	struct ddp_pkt p;
	struct ddp_flow *f;
	__u32 *id;

	if (ddp_parse(ctx, &p))
		return XDP_PASS;
	id = bpf_map_lookup_elem(&ddp_socks, &p.key);
	if (!id)
		return XDP_PASS;
	f = ddp_flow_get(*id);
	if (!f || f->state != DDP_FLOW_ALIVE)
		return XDP_PASS;
	if (p.pay_len && (f->cfg.flags & DDP_SK_OFFLOAD)) {
		rx.f = f;
		rx.st = ddp_stats_get();
		rx.buf = ddp_buf_get();
		if (rx.st && rx.buf)
			ddp_track(&rx, &p);
	}
	if (!(f->cfg.flags & DDP_SK_XSK))
		return XDP_PASS;
	if (rx.meta.nr) {
		/* header frames had their checksum checked before tracking */
		if (!cfg_csum_check || rx.csum_ok || ddp_tcp_csum_ok(ctx, &p)) {
			rx.meta.flags = DDP_META_CSUM;
			if (!ddp_compact(ctx, &rx.meta, p.pay_off, p.pay_len)) {
				rx.meta.flags |= DDP_META_COMPACT;
				rx.st->compacted++;
			}
		}
		ddp_meta_write(ctx, &rx.meta);
	}
	return bpf_redirect_map(&ddp_xsks, ctx->rx_queue_index, XDP_PASS);
}

#endif /* DDP_RX_H */
