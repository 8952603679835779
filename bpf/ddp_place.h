/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_place.h - C2HData placement: the tag of a PDU, its segments, the copy
 * into the buffer region, and what the host is told about it (per-frame
 * metadata for AF_XDP, per-PDU records for kernel sockets).
 *
 * A byte is written only at its exact place, and only if the host can be
 * told about it: the metadata slot is checked before the copy.
 */
#ifndef DDP_PLACE_H
#define DDP_PLACE_H

/* kmod_glue's kfunc (kmod_glue/ddp_kfuncs.c): copy len bytes of the frame
 * from off into pin pin_id at pin_off; 0 or -errno (no such pin: it was
 * unpinned). Weak: called only under cfg_pin_kfunc (see ddp_ddgst.h). */
extern int bpf_ddp_copy_pinned(struct xdp_md *ctx, __u32 off, __u32 len,
			       __u64 pin_id, __u64 pin_off) __ksym __weak;

/* Index of the segment holding byte `off` of the command: the first one
 * whose end is above it (ends increase). A global function: its branches
 * would multiply the verifier's states at every call site. */
__attribute__((noinline)) __u32 ddp_seg_find(__u32 first, __u32 nsegs,
					     __u32 off)
{
	__u32 lo = 0, hi = nsegs, k;
	struct ddp_seg_ent *e;
	int i;

	for (i = 0; i < 9; i++) { /* log2(DDP_MAX_SEGS) + 1 */
		__u32 mid = (lo + hi) / 2;

		if (lo >= hi)
			continue;
		k = first + mid;
		e = bpf_map_lookup_elem(&ddp_segs, &k);
		if (!e)
			return DDP_MAX_SEGS;
		if (e->end > off)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The cursor to the segment holding byte off; false if none does */
static __always_inline bool ddp_seg_seek(struct ddp_flow *f,
					 const struct ddp_tag *t, __u32 off)
{
	__u32 seg = ddp_seg_find(t->seg_first, t->nsegs, off);
	struct ddp_seg_ent *prev = seg ? ddp_seg_get(t, seg - 1) : NULL;

	f->seg = seg;
	f->seg_start = prev ? prev->end : 0;
	return seg < t->nsegs && (!seg || prev);
}

/* A C2HData header was framed in sync: find its tag and decide whether its
 * data is placed. */
static __always_inline void ddp_tag_begin(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;
	struct ddp_cid_key key = { .flow_id = f->flow_id, .cid = f->cid };
	__u32 datal = f->data_end - f->data_off;
	struct ddp_tag *t;
	__u32 *slot, stamp;

	slot = bpf_map_lookup_elem(&ddp_cids, &key);
	if (!slot) {
		rx->st->no_tag++;
		return;
	}
	t = ddp_tag_get(*slot);
	if (!t) {
		rx->st->no_tag++;
		return;
	}
	stamp = READ_ONCE(t->stamp);
	if (DDP_TAG_STATE(stamp) != DDP_TAG_ACTIVE ||
	    t->flow_id != f->flow_id || t->cid != f->cid) {
		rx->st->no_tag++;
		return;
	}
	if (t->len < f->cfg.io_threshold) {
		rx->st->small_io++;
		return;
	}
	if (f->datao > t->len || datal > t->len - f->datao) {
		rx->st->bad_tag++;
		return;
	}
	f->place = 1;
	f->slot = *slot;
	f->tag_gen = stamp;
	f->placed_pdus++;
	ddp_seg_seek(f, t, f->datao);
}

/* Can the host be told about bytes placed at rx->pos? A record always
 * can: the ring overwrites the oldest, and the host sees it did. */
static __always_inline int ddp_note_room(struct ddp_rx *rx)
{
	struct ddp_flow *f = rx->f;

	if (f->cfg.flags & DDP_SK_XSK) {
		__u32 last = DDP_META_RANGES - 1;

		if (rx->meta->nr >= DDP_META_RANGES &&
		    rx->meta->r[last].off + rx->meta->r[last].len !=
			    rx->pos - rx->base) {
			rx->st->meta_full++;
			return 0;
		}
	}
	return 1;
}

static __always_inline struct ddp_rec *ddp_rec_get(struct ddp_flow *f, __u32 n)
{
	__u32 ring = f->rec_ring, key = f->rec_first + (n & (ring - 1));

	return ring ? bpf_map_lookup_elem(&ddp_recs, &key) : NULL;
}

/* Tell the host: n bytes at rx->pos (sequence number seq) were placed. */
static __always_inline void ddp_note(struct ddp_rx *rx, __u32 seq, __u32 n)
{
	struct ddp_flow *f = rx->f;

	if (f->cfg.flags & DDP_SK_XSK) {
		__u32 off = rx->pos - rx->base;
		struct ddp_meta *m = rx->meta;
		__u32 nr = m->nr, last = nr - 1;

		barrier_var(last); /* verifier: bounded by the test below */
		if (last < DDP_META_RANGES &&
		    m->r[last].off + m->r[last].len == off) {
			m->r[last].len += n;
		} else if (nr < DDP_META_RANGES) {
			m->r[nr].off = off;
			m->r[nr].len = n;
			m->nr = nr + 1;
		}
	}
	if (f->cfg.flags & DDP_SK_RECORDS) {
		struct ddp_rec *r;

		if (f->rec_open) {
			r = ddp_rec_get(f, f->rec_head - 1);
			if (r && r->seq + r->len == seq) {
				r->len += n;
				return;
			}
		}
		r = ddp_rec_get(f, f->rec_head);
		if (!r)
			return;
		r->seq = seq;
		r->len = n;
		r->rev = f->rev_head;
		r->cid = f->cid;
		r->ddgst = DDP_VERDICT_NONE;
		/* the record is complete before the host can count it */
		__sync_fetch_and_add(&f->rec_head, 1);
		f->rec_open = 1;
	}
}

/* ddp_place() for tag t, counted in its writers. */
static __always_inline __u32 ddp_place_tag(struct ddp_rx *rx, struct ddp_tag *t,
					   __u32 n)
{
	struct ddp_flow *f = rx->f;
	__u32 io = f->datao + (f->pdu_off - f->data_off);
	__u32 seq = ddp_seq_at(rx, rx->pos);
	struct ddp_seg_ent *e;
	__u64 addr, room;

	/* torn down since the PDU began: stop writing its buffer (its
	 * segments are its own while it is counted in writers) */
	if (READ_ONCE(t->stamp) != f->tag_gen) {
		f->place = 0;
		return 0;
	}
	e = f->seg < t->nsegs ? ddp_seg_get(t, f->seg) : NULL;
	if (!e || io < f->seg_start || io >= e->end) {
		e = ddp_seg_seek(f, t, io) ? ddp_seg_get(t, f->seg) : NULL;
		if (!e) {
			f->place = 0;
			return 0;
		}
	}
	room = e->end - io;
	if (n > room)
		n = room;
	addr = (__u64)e->addr + (io - f->seg_start);
	if (!ddp_note_room(rx))
		return 0;
	if (cfg_pin_kfunc && t->pin) {
		/* the module checks the pin's bounds, and that it lives */
		n &= 0xffff;
		if (!n || bpf_ddp_copy_pinned(rx->ctx, rx->pos, n, t->pin, addr)) {
			f->place = 0;
			rx->err = 1;
			return 0;
		}
		goto placed;
	}
	/* Setup keeps segments inside the region; the checks below are
	 * for the verifier, which also needs n masked and addr bounded. */
	n &= 0xffff;
	if (!n || addr >= cfg_buf_size || n > cfg_buf_size - addr) {
		f->place = 0;
		rx->err = 1;
		return 0;
	}
	/* addr below cfg_buf_size, n at most 64 KiB: within the map value's
	 * DDP_BUF_GUARD */
	n = ddp_size(n, 0xffff);
	asm volatile("" : "+r"(addr));
	if (bpf_xdp_load_bytes(rx->ctx, rx->pos, rx->buf + addr, n)) {
		f->place = 0;
		rx->err = 1;
		return 0;
	}
placed:
	ddp_note(rx, seq, n);
	if (io + n == e->end) {
		f->seg++;
		f->seg_start = io + n;
	}
	rx->placed += n;
	rx->st->offload_bytes += n;
	f->placed_bytes += n;
	return n;
}

/* Place up to n bytes of the current PDU's data found at rx->pos. Returns
 * the bytes placed; 0 means none, and the caller passes them unplaced. */
static __always_inline __u32 ddp_place(struct ddp_rx *rx, __u32 n)
{
	struct ddp_tag *t = ddp_tag_get(rx->f->slot);
	__u32 w;

	if (!t) {
		rx->f->place = 0;
		return 0;
	}
	/* Counted before the stamp is read, with a fetching atomic (a full
	 * barrier on every JIT): see struct ddp_tag. */
	w = __sync_fetch_and_add(&t->writers, 1);
	barrier_var(w);
	n = ddp_place_tag(rx, t, n);
	w = __sync_fetch_and_sub(&t->writers, 1);
	barrier_var(w);
	return n;
}

#endif /* DDP_PLACE_H */
