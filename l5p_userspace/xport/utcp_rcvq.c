// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * utcp_rcvq.c - the receive queue: segments held in their frames, in
 * order (a ring) and out of order (sorted), reassembled as the holes fill,
 * and delivered with their placed bytes skipped or refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "utcp_priv.h"

/* ---- The receive queue --------------------------------------------------- */

int utcp_rcv_init(struct utcp_rcv *r, __u32 cap, __u32 seq,
		  void (*release)(void *, __u64), void *arg)
{
	memset(r, 0, sizeof(*r));
	if (!cap || cap & (cap - 1))
		return -EINVAL;
	r->q = calloc(cap, sizeof(*r->q));
	r->ooo = calloc(cap, sizeof(*r->ooo));
	if (!r->q || !r->ooo) {
		free(r->q);
		free(r->ooo);
		return -ENOMEM;
	}
	r->cap = cap;
	r->nxt = r->read_seq = seq;
	r->release = release;
	r->arg = arg;
	return 0;
}

static struct utcp_rseg *rq_at(struct utcp_rcv *r, __u32 i)
{
	return &r->q[(r->head + i) & (r->cap - 1)];
}

void utcp_rcv_free(struct utcp_rcv *r)
{
	__u32 i;

	for (i = 0; i < r->n; i++)
		r->release(r->arg, rq_at(r, i)->addr);
	for (i = 0; i < r->nooo; i++)
		r->release(r->arg, r->ooo[i].addr);
	free(r->q);
	free(r->ooo);
	r->q = r->ooo = NULL;
	r->n = r->nooo = 0;
	r->bytes = 0;
}

int utcp_rseg_check(const struct utcp_rseg *s, __u32 flen)
{
	__u32 end = 0, placed = 0, i;

	if (s->nr > DDP_META_RANGES || s->lo > s->hi || s->hi > s->olen)
		return -EINVAL;
	for (i = 0; i < s->nr; i++) {
		if (!s->r[i].len || s->r[i].off < end ||
		    s->r[i].off + s->r[i].len > s->olen)
			return -EINVAL;
		end = s->r[i].off + s->r[i].len;
		placed += s->r[i].len;
	}
	if (s->compact && !s->nr)
		return -EINVAL;
	if (flen < s->olen - (s->compact ? placed : 0))
		return -EINVAL;
	return 0;
}

/* RFC 9293 3.10.7.4: what lies beyond the window is not kept. The frame
 * keeps its bytes; the segment is recorded as the shorter one the peer
 * could have sent, and the placed ranges as the part of them in it (in a
 * compacted frame, what comes before the edge does not move). */
bool utcp_rseg_trim(struct utcp_rseg *s, __u32 edge)
{
	__u32 end, i;

	if (!seq_gt(s->seq + s->hi, edge))
		return false;
	end = seq_gt(edge, s->seq + s->lo) ? edge - s->seq : s->lo;
	s->hi = s->olen = end;
	for (i = 0; i < s->nr && s->r[i].off < end; i++)
		s->r[i].len = MIN(s->r[i].len, end - s->r[i].off);
	s->nr = i;
	if (!s->nr)
		s->compact = 0; /* nothing before the edge was cut out */
	return true;
}

static __u32 rs_start(const struct utcp_rseg *s)
{
	return s->seq + s->lo;
}

static __u32 rs_end(const struct utcp_rseg *s)
{
	return s->seq + s->hi;
}

static void rq_push(struct utcp_rcv *r, const struct utcp_rseg *s)
{
	*rq_at(r, r->n++) = *s;
	r->nxt = rs_end(s);
	r->bytes += s->hi - s->lo;
}

static void ooo_remove(struct utcp_rcv *r, __u32 i)
{
	r->nooo--;
	memmove(r->ooo + i, r->ooo + i + 1, (r->nooo - i) * sizeof(*r->ooo));
}

enum utcp_take utcp_rcv_take(struct utcp_rcv *r, const struct utcp_rseg *in)
{
	struct utcp_rseg s = *in, o;
	enum utcp_take ret;
	__u32 i;

	if (s.lo >= s.hi || seq_leq(rs_end(&s), r->nxt))
		goto dup;
	if (seq_lt(rs_start(&s), r->nxt))
		s.lo += r->nxt - rs_start(&s);
	if (rs_start(&s) == r->nxt) {
		/* the segment the others wait for must get in: the last
		 * out-of-order one makes room, the peer sends it again */
		if (r->n + r->nooo >= r->cap && r->nooo)
			r->release(r->arg, r->ooo[--r->nooo].addr);
		if (r->n + r->nooo >= r->cap)
			goto full;
		ret = r->nooo ? UTCP_TAKE_FILLED : UTCP_TAKE_INORDER;
		rq_push(r, &s);
		while (r->nooo && seq_leq(rs_start(&r->ooo[0]), r->nxt)) {
			o = r->ooo[0];
			ooo_remove(r, 0);
			if (seq_leq(rs_end(&o), r->nxt)) {
				r->release(r->arg, o.addr);
				continue;
			}
			o.lo += r->nxt - rs_start(&o);
			rq_push(r, &o);
		}
		return ret;
	}

	if (r->n + r->nooo >= r->cap)
		goto full;
	/* after those starting at or before it; what they hold is cut */
	for (i = 0; i < r->nooo && seq_leq(rs_start(&r->ooo[i]), rs_start(&s));
	     i++)
		;
	if (i && seq_gt(rs_end(&r->ooo[i - 1]), rs_start(&s))) {
		if (seq_geq(rs_end(&r->ooo[i - 1]), rs_end(&s)))
			goto dup;
		s.lo += rs_end(&r->ooo[i - 1]) - rs_start(&s);
	}
	/* those it covers entirely go: its frame has their bytes */
	while (i < r->nooo && seq_leq(rs_end(&r->ooo[i]), rs_end(&s))) {
		r->release(r->arg, r->ooo[i].addr);
		ooo_remove(r, i);
	}
	if (i < r->nooo && seq_gt(rs_end(&s), rs_start(&r->ooo[i]))) {
		s.hi -= rs_end(&s) - rs_start(&r->ooo[i]);
		if (s.lo >= s.hi)
			goto dup;
	}
	memmove(r->ooo + i + 1, r->ooo + i, (r->nooo - i) * sizeof(s));
	r->ooo[i] = s;
	r->nooo++;
	return UTCP_TAKE_OOO;
dup:
	r->release(r->arg, in->addr);
	return UTCP_TAKE_DUP;
full:
	r->release(r->arg, in->addr);
	return UTCP_TAKE_FULL;
}

/* The run of s from payload offset o to at most end that is all placed
 * or all not; *foff: where an unplaced run is in the frame. */
static __u32 rs_run(const struct utcp_rseg *s, __u32 o, __u32 end, bool *placed,
		    __u32 *foff)
{
	__u32 cut = 0, i, a, b;

	for (i = 0; i < s->nr; i++) {
		a = s->r[i].off;
		b = a + s->r[i].len;
		if (o >= b) {
			cut += s->r[i].len;
			continue;
		}
		if (o >= a) {
			*placed = true;
			return MIN(b, end) - o;
		}
		end = MIN(a, end);
		break;
	}
	*placed = false;
	*foff = o - (s->compact ? cut : 0);
	return end - o;
}

/* Consume len bytes: copy the unplaced ones to dst (if any), count the
 * placed ones. */
static size_t rcv_consume(struct utcp_rcv *r, const __u8 *mem, __u8 *dst,
			  size_t len, __u64 *placed)
{
	struct utcp_rseg *s;
	size_t copied = 0;
	__u32 o, end, n, foff = 0;
	bool pl;

	while (len) {
		s = rq_at(r, 0);
		end = s->lo + MIN(len, (size_t)(s->hi - s->lo));
		for (o = s->lo; o < end; o += n) {
			n = rs_run(s, o, end, &pl, &foff);
			if (pl) {
				if (placed)
					*placed += n;
			} else if (dst) {
				memcpy(dst + o - s->lo, mem + s->addr + foff,
				       n);
				copied += n;
			}
		}
		n = end - s->lo;
		if (dst)
			dst += n;
		len -= n;
		r->bytes -= n;
		r->read_seq += n;
		s->lo = end;
		if (s->lo == s->hi) {
			r->release(r->arg, s->addr);
			r->head = (r->head + 1) & (r->cap - 1);
			r->n--;
		}
	}
	return copied;
}

ssize_t utcp_rcv_read(struct utcp_rcv *r, const __u8 *mem, __u8 *dst,
		      size_t len, bool data, __u64 *placed)
{
	struct utcp_rseg *s;
	__u32 i, o, end, n, foff;
	size_t left;
	bool pl;

	if (len > r->bytes)
		return -EINVAL;
	/* a copy must not miss bytes that are elsewhere: check first */
	for (i = 0, left = len; !data && left; i++) {
		s = rq_at(r, i);
		end = s->lo + MIN(left, (size_t)(s->hi - s->lo));
		for (o = s->lo; o < end; o += n) {
			n = rs_run(s, o, end, &pl, &foff);
			if (pl)
				return -EPROTO;
		}
		left -= end - s->lo;
	}
	return rcv_consume(r, mem, dst, len, placed);
}

void utcp_rcv_discard(struct utcp_rcv *r, size_t len)
{
	rcv_consume(r, NULL, NULL, len, NULL);
}
