/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_records.h - how a kernel-socket host reads the placement records of
 * its flow (struct ddp_rec): one reading for the user-space hosts
 * (loader/libddp) and the in-kernel ones (kmod_glue/tcp_ddp.c). The
 * engine writes the records and revocations without waiting for anyone;
 * a reader copies what it needs, then checks nothing overwrote it.
 *
 * Judge only bytes the transport has already taken in order: a
 * retransmission the engine saw revokes before its bytes are readable.
 */
#ifndef DDP_RECORDS_H
#define DDP_RECORDS_H

#include "ddp.h"

#ifdef __KERNEL__
#include <asm/barrier.h>
#define ddp_acquire(p) smp_load_acquire(p)
#define ddp_rmb() smp_rmb()
#else
#include <stdbool.h>
#define ddp_acquire(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define ddp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif

/* Record n of flow f (recs: the flow's ring of `ring` records) into *r;
 * false if it is not written yet or was overwritten. */
static inline bool ddp_rec_copy(const struct ddp_flow *f,
				const struct ddp_rec *recs, __u32 ring, __u32 n,
				struct ddp_rec *r)
{
	__u32 head = ddp_acquire(&f->rec_head);

	if ((int)(n - head) >= 0 || head - n > ring)
		return false;
	*r = recs[n & (ring - 1)];
	/* record n + ring is written in its slot while rec_head is n + ring:
	 * if it is not yet, the copy is record n */
	ddp_rmb();
	head = ddp_acquire(&f->rec_head);
	return head - n < ring;
}

/* [a, a + alen) and [b, b + blen) intersect, in sequence space */
static inline bool ddp_seq_overlap(__u32 a, __u32 alen, __u32 b, __u32 blen)
{
	return (__u32)(a - b) < blen || (__u32)(b - a) < alen;
}

/* No revocation written since rev_head was rev overlaps [seq, seq + len),
 * and none may have been without our seeing it. */
static inline bool ddp_rec_unrevoked(const struct ddp_flow *f, __u32 rev,
				     __u32 seq, __u32 len)
{
	__u32 head = ddp_acquire(&f->rev_head), i;

	/* entry j is overwritten by entry j + DDP_REV_RING, which the engine
	 * writes while rev_head is still j + DDP_REV_RING */
	if (head - rev >= DDP_REV_RING)
		return false;
	for (i = rev; i != head; i++) {
		const struct ddp_rev *v = &f->rev[i & (DDP_REV_RING - 1)];

		if (ddp_seq_overlap(seq, len, v->seq, v->end - v->seq))
			return false;
	}
	/* the entries read above were not overwritten meanwhile */
	ddp_rmb();
	return ddp_acquire(&f->rev_head) - rev < DDP_REV_RING;
}

/* What the bytes from a sequence number are, for ddp_rec_run() */
enum ddp_run {
	DDP_RUN_COPY = 0, /* not placed, or not known to be: copy them */
	DDP_RUN_PLACED = 1, /* placed into command cid's buffer: skip them */
	DDP_RUN_OTHER = 2, /* a record of another command: copy them */
};

/*
 * How the n bytes from sequence number seq start, for command cid: *run
 * says what they are and the length returned how far that lasts. *tail is
 * the reader's cursor in the records, advanced past those behind seq;
 * *rec is the record n of a placed run. Records the engine overwrote
 * before the reader got to them say nothing: their bytes are copied.
 */
static inline __u32 ddp_rec_run(const struct ddp_flow *f,
				const struct ddp_rec *recs, __u32 ring,
				__u32 *tail, __u32 seq, __u32 n, __u16 cid,
				enum ddp_run *run, __u32 *rec)
{
	__u32 head = ddp_acquire(&f->rec_head);
	struct ddp_rec r;
	bool have = false;

	*run = DDP_RUN_COPY;
	if (head - *tail > ring)
		*tail = head - ring; /* lapped */
	/* records behind the stream are done with */
	for (; *tail != head; (*tail)++) {
		have = ddp_rec_copy(f, recs, ring, *tail, &r);
		if (have && (int)(r.seq + r.len - seq) > 0)
			break;
	}
	if (*tail == head || !have)
		return n;
	if ((int)(r.seq - seq) > 0)
		return r.seq - seq < n ? r.seq - seq : n;
	n = r.seq + r.len - seq < n ? r.seq + r.len - seq : n;
	if (r.cid != cid)
		*run = DDP_RUN_OTHER;
	else if (ddp_rec_unrevoked(f, r.rev, r.seq, r.len))
		*run = DDP_RUN_PLACED;
	*rec = *tail;
	return n;
}

#endif /* DDP_RECORDS_H */
