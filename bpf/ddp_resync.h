/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_resync.h - losing and regaining sync.
 *
 * Out of order data never gets placed. A gap that only skipped bytes after
 * the current header is absorbed (the header positions stay known).
 * Otherwise the engine scans for a header that ddp_hdr_check() accepts,
 * tracks PDUs from it until DDP_CHAIN_MIN more headers matched at the
 * offsets their plen predicted, then asks the host whether a PDU starts at
 * that header's FIRST byte (the specification's text names the last byte;
 * the first is what the host's PDU bookkeeping holds). Placement resumes
 * with the first header framed after the host confirmed; a denial restarts
 * the scan.
 */
#ifndef DDP_RESYNC_H
#define DDP_RESYNC_H

static __always_inline void ddp_pdu_end(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;

	ddp_ddgst_end(rx);
	f->pdu_seq += f->plen;
	f->pdu_off = 0;
	f->place = 0;
	f->rec_open = 0;
}

static __always_inline void ddp_lose_sync(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;

	if (f->sync == DDP_SYNC_OK)
		rx->st->sync_lost++;
	ddp_ddgst_end(rx);
	f->sync = DDP_SYNC_SEARCH;
	f->pdu_off = 0;
	f->place = 0;
	f->rec_open = 0;
}

/* Bytes [seq, end) never reached the engine (a gap): whatever comes of
 * them later, nothing of them was placed. */
static __always_inline void ddp_hole(struct ddp_flow *f, __u32 seq, __u32 end)
{
	__u32 i = f->hole_head++ & (DDP_HOLES - 1);

	f->holes[i].seq = seq;
	f->holes[i].end = end;
}

struct ddp_hole_find {
	struct ddp_flow *f;
	__u32 seq, end;
	int found;
};

static long ddp_hole_cb(__u32 i, void *arg)
{
	struct ddp_hole_find *c = arg;
	struct ddp_rev *h = &c->f->holes[i & (DDP_HOLES - 1)];

	/* a hole far behind may be of another lap of sequence space */
	if ((__u32)(c->f->exp_seq - h->seq) < (1u << 30) &&
	    !ddp_seq_lt(c->seq, h->seq) && !ddp_seq_lt(h->end, c->end)) {
		c->found = 1;
		return 1;
	}
	return 0;
}

/* Bytes [seq, end) came again: records overlapping them may describe bytes
 * the transport did not take (it may have dropped the first copy). Not if
 * they all lie in a gap (the resent or late copy of bytes the engine never
 * saw: the common case under loss), which keeps the few revocations the
 * host can remember for those that matter. */
static __always_inline void ddp_revoke(struct ddp_flow *f, struct ddp_stats *st,
				       __u32 seq, __u32 end)
{
	struct ddp_hole_find h = { .f = f, .seq = seq, .end = end };
	__u32 i = f->rev_head & (DDP_REV_RING - 1);

	if (!(f->cfg.flags & DDP_SK_RECORDS))
		return;
	bpf_loop(DDP_HOLES, ddp_hole_cb, &h, 0);
	if (h.found)
		return;
	f->rev[i].seq = seq;
	f->rev[i].end = end;
	f->rec_open = 0;
	st->revoked++;
	/* the entry is complete before the host can count it */
	__sync_fetch_and_add(&f->rev_head, 1);
}

/*
 * A segment carrying bytes [seq, end) went to the transport without the
 * engine tracking it (a checksum it could not confirm, a fragment): the
 * transport may take it. Records of those bytes placed from another copy
 * are revoked now, and what the engine places there later (a duplicate
 * it takes for new data) is revoked as it is placed: see ign_end.
 */
static __always_inline void
ddp_untracked(struct ddp_flow *f, struct ddp_stats *st, __u32 seq, __u32 end)
{
	ddp_ddgst_untracked(f, seq, end);
	/* it may bring the transport a header the tracker waits for: which
	 * copy the transport takes is unknown now */
	f->late_ok = 0;
	if (!(f->cfg.flags & DDP_SK_RECORDS))
		return;
	if (ddp_seq_lt(seq, f->exp_seq))
		ddp_revoke(f, st, seq,
			   ddp_seq_lt(end, f->exp_seq) ? end : f->exp_seq);
	if (ddp_seq_lt(f->ign_end, end))
		f->ign_end = end;
}

static __always_inline int ddp_addr_eq(const __u8 *a, const __u8 *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1];
}

/* A frame of f was not tracked and its bytes are unknown: every record
 * goes, and what the engine places within a datagram's reach of where it
 * is (or of bytes it already did not track) is not believed. The ranges
 * are the tracker's: one that is not tracking the flow only says so. */
static __always_inline void ddp_missed(struct ddp_flow *f, struct ddp_stats *st)
{
	/* the PDU being digested gets no verdict either (see ddgst_end) */
	__sync_lock_test_and_set(&f->missed, 1);
	if (!(f->cfg.flags & DDP_SK_RECORDS))
		return;
	__sync_fetch_and_add(&f->rev_head, DDP_REV_RING);
	st->revoked++;
}

/*
 * One CPU at a time tracks a flow, as a NIC queue's context is one queue's:
 * frames of one flow may reach two CPUs at once (skb mode takes them on
 * the sender's CPU, RPS spreads them, an RSS table changes). The tracker
 * state is the one that enters; what the others missed, it hears.
 */
static __always_inline int ddp_flow_enter(struct ddp_flow *f,
					  struct ddp_stats *st)
{
	__u32 far;

	if (__sync_val_compare_and_swap(&f->busy, 0, 1)) {
		st->contended++;
		ddp_missed(f, st);
		return 0;
	}
	if (READ_ONCE(f->missed) && __sync_lock_test_and_set(&f->missed, 0)) {
		far = (ddp_seq_lt(f->ign_end, f->exp_seq) ? f->exp_seq :
							    f->ign_end) +
		      DDP_MAX_DGRAM;
		f->ign_end = far;
		/* a missed frame may have brought a header waited for */
		f->late_ok = 0;
	}
	return 1;
}

static __always_inline void ddp_flow_exit(struct ddp_flow *f)
{
	/* a full barrier: what was written is seen by the next one in */
	__sync_lock_test_and_set(&f->busy, 0);
}

struct ddp_pair {
	const struct ddp_flow_key *key;
	struct ddp_stats *st;
	/* one of them was: a flag, not a count, so that the verifier sees
	 * few states of the loop, however many flows it runs over */
	__u32 hit;
};

static long ddp_revoke_pair_cb(__u32 i, void *arg)
{
	struct ddp_pair *c = arg;
	struct ddp_flow *f = bpf_map_lookup_elem(&ddp_flows, &i);

	if (!f)
		return 1;
	if (f->state != DDP_FLOW_ALIVE || !(f->cfg.flags & DDP_SK_RECORDS) ||
	    !ddp_addr_eq(f->key.raddr, c->key->raddr) ||
	    !ddp_addr_eq(f->key.laddr, c->key->laddr))
		return 0;
	ddp_missed(f, c->st);
	c->hit = 1;
	return 0;
}

/* A packet between these addresses that the engine cannot read may be a
 * segment of any of their flows. */
static __always_inline void ddp_revoke_pair(const struct ddp_flow_key *key,
					    struct ddp_stats *st)
{
	struct ddp_pair c = { .key = key, .st = st };

	bpf_loop(cfg_max_flows, ddp_revoke_pair_cb, &c, 0);
	if (c.hit)
		st->unparsed++;
}

/* A gap takes the tracker's next header: where it begins, if the tracker
 * knows (in sync: the current PDU's end, or the header it was gathering). */
static __always_inline void ddp_late_note(struct ddp_flow *f)
{
	if (f->sync != DDP_SYNC_OK)
		return;
	f->late_hdr =
		f->pdu_off < DDP_HDR_NEED ? f->pdu_seq : f->pdu_seq + f->plen;
	f->late_ok = 1;
}

/* `gap` bytes before this frame never arrived. Returns 1 if the tracker
 * still knows where it is. */
static __always_inline int ddp_absorb(struct ddp_rx *rx, __u32 gap)
{
	struct ddp_flow *f = rx->f;

	if (f->sync == DDP_SYNC_SEARCH)
		return 1;
	if (f->pdu_off < DDP_HDR_NEED || gap > f->plen - f->pdu_off)
		return 0;
	rx->st->gap_absorbed++;
	ddp_ddgst_lose(f);
	f->pdu_off += gap;
	f->rec_open = 0;
	if (f->pdu_off == f->plen)
		ddp_pdu_end(rx);
	return 1;
}

/* After a bad header, look again from `seq` if it is in this frame. */
static __always_inline void ddp_rescan_from(struct ddp_rx *rx, __u32 seq)
{
	__u32 delta = seq - rx->seq;

	if ((int)delta >= 0 && rx->base + delta < rx->pos)
		rx->pos = rx->base + delta;
}

/* kmod_glue's kfunc: asks the in-kernel L5P of flow flow_id (of the
 * engine on ctx's device) whether a PDU header begins at seq; 0 if it
 * took the request. Weak: called only under cfg_pin_kfunc (ddp_ddgst.h). */
extern int bpf_ddp_resync_request(struct xdp_md *ctx, __u32 flow_id,
				  __u32 seq, __u32 req_id) __ksym __weak;

/* The host's answer, if a new one was written. */
static __always_inline void ddp_resync_reply(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;
	__u64 r = READ_ONCE(f->resync_reply);

	if (r == f->reply_seen)
		return;
	f->reply_seen = r;
	if (f->sync != DDP_SYNC_PENDING || (__u32)r != f->req_seq ||
	    (__u32)(r >> 33) != f->req_id) {
		rx->st->resync_stale++;
		return;
	}
	if ((r >> 32) & 1) {
		f->sync = DDP_SYNC_OK;
		f->late_ok = 0;
		rx->st->resync_confirm++;
	} else {
		f->sync = DDP_SYNC_SEARCH;
		f->pdu_off = 0;
		rx->st->resync_deny++;
	}
}

/* The candidate's chain holds: ask the host. If the ring is full, stay a
 * candidate and ask again at the next header. */
static __always_inline void ddp_resync_request(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;
	struct ddp_event ev = {
		.type = DDP_EV_RESYNC,
		.flow_id = f->flow_id,
		.seq = f->cand_seq,
		.req_id = (f->req_id + 1) & 0x7fffffff,
	};

	if (!ev.req_id)
		ev.req_id = 1;
	if (f->cfg.flags & DDP_SK_KERNEL) {
		/* an in-kernel L5P is asked through the module, as a driver
		 * asks it (resync_request); one that says no is asked again */
		if (!cfg_pin_kfunc ||
		    bpf_ddp_resync_request(rx->ctx, ev.flow_id, ev.seq,
					   ev.req_id))
			return;
	} else if (bpf_ringbuf_output(&ddp_events, &ev, sizeof(ev), 0)) {
		return;
	}
	/* seq before id: a host reading id, seq, id sees a matching pair */
	WRITE_ONCE(f->req_seq, f->cand_seq);
	WRITE_ONCE(f->req_id, ev.req_id);
	WRITE_ONCE(f->sync, DDP_SYNC_PENDING);
	f->resyncs++;
	rx->st->resync++;
}

/* A header was framed while not in sync. */
static __always_inline void ddp_resync_header(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;

	if (f->sync != DDP_SYNC_CANDIDATE || f->pdu_seq == f->cand_seq)
		return;
	if (++f->chain >= DDP_CHAIN_MIN)
		ddp_resync_request(rx);
}

/* One scan step: is there a plausible header at rx->pos? Headers that
 * straddle the frame's end are not considered. */
static __always_inline int ddp_scan_step(struct ddp_rx *rx)
{
	void *data = (void *)(long)rx->ctx->data;
	void *data_end = (void *)(long)rx->ctx->data_end;
	struct ddp_flow *f = rx->f;
	struct nvme_tcp_hdr24 h;
	struct ddp_pdu_info pi;
	__u32 pos = rx->pos;
	__u8 *p;

	/* headers straddling the frame's end, or beyond what the mask below
	 * keeps exact, are not considered */
	if (pos + DDP_HDR_NEED > rx->end || pos > 0x3fff) {
		rx->pos = rx->end;
		return 1;
	}
	p = data + (pos & 0x3fff); /* verifier: < MAX_PACKET_OFF - 24 */
	if ((void *)(p + DDP_HDR_NEED) > data_end) {
		rx->pos = rx->end;
		return 1;
	}
	rx->pos = pos + 1;
	if (!ddp_type_resyncable(p[0]) || p[2] != ddp_type_hlen(p[0]))
		return 0;
	if (bpf_xdp_load_bytes(rx->ctx, pos, &h, sizeof(h)) ||
	    ddp_hdr_check(&h, &f->cfg, &pi))
		return 0;
	rx->pos = pos;
	f->sync = DDP_SYNC_CANDIDATE;
	f->pdu_seq = ddp_seq_at(rx, pos);
	f->cand_seq = f->pdu_seq;
	f->chain = 0;
	f->pdu_off = 0;
	return 0;
}

#endif /* DDP_RESYNC_H */
