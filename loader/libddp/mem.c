// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mem.c - the engine's shared memory read as the ABI says, read-only: a
 * flow's slot, its tags, its ring of records, and the digest verdicts the
 * records carry (libddp.h, "Shared memory").
 */
#include "libddp_priv.h"

const struct ddp_flow *ddp_flow_mem(const struct ddp_dev *d, __u32 flow_id)
{
	__u32 slot = DDP_FLOW_SLOT(flow_id);

	return slot < d->lim.max_flows ? &d->flows[slot] : NULL;
}

const struct ddp_tag *ddp_tag_mem(const struct ddp_dev *d, __u32 flow_id,
				  __u32 tag)
{
	const struct ddp_flow *f = ddp_flow_mem(d, flow_id);
	__u32 first, count;

	if (!f)
		return NULL;
	/* the count is written after the first: read before it */
	count = __atomic_load_n(&f->tag_count, __ATOMIC_ACQUIRE);
	first = __atomic_load_n(&f->tag_first, __ATOMIC_RELAXED);
	if (tag >= count || first + tag >= d->lim.tag_pool)
		return NULL;
	return &d->tags[first + tag];
}

__u32 ddp_flow_tag_count(const struct ddp_dev *d, __u32 flow_id)
{
	const struct ddp_flow *f = ddp_flow_mem(d, flow_id);

	return f ? __atomic_load_n(&f->tag_count, __ATOMIC_ACQUIRE) : 0;
}

/* The ring of records of flow f (*ring of them), or NULL if it has none */
static const struct ddp_rec *ddp_recs_of(const struct ddp_dev *d,
					 const struct ddp_flow *f, __u32 *ring)
{
	__u32 first;

	/* the ring's size is written after where it is: read before it */
	*ring = __atomic_load_n(&f->rec_ring, __ATOMIC_ACQUIRE);
	first = __atomic_load_n(&f->rec_first, __ATOMIC_RELAXED);
	if (!*ring || first > d->lim.rec_pool ||
	    *ring > d->lim.rec_pool - first)
		return NULL;
	return &d->recs[first];
}

bool ddp_rec_read(const struct ddp_dev *d, __u32 flow_id, __u32 n,
		  struct ddp_rec *r)
{
	const struct ddp_flow *f = ddp_flow_mem(d, flow_id);
	__u32 ring;
	/* only this flow's ring, not that of whoever has the slot now */
	const struct ddp_rec *recs =
		f && __atomic_load_n(&f->flow_id, __ATOMIC_RELAXED) == flow_id ?
			ddp_recs_of(d, f, &ring) :
			NULL;

	return recs && ddp_rec_copy(f, recs, ring, n, r);
}

bool ddp_rec_valid(const struct ddp_dev *d, __u32 flow_id,
		   const struct ddp_rec *live)
{
	const struct ddp_flow *f = ddp_flow_mem(d, flow_id);
	struct ddp_rec r = *live; /* the engine may be extending it */

	return f && ddp_rec_unrevoked(f, r.rev, r.seq, r.len);
}

__u32 ddp_rec_run_of(const struct ddp_dev *d, __u32 flow_id, __u32 *tail,
		     __u32 seq, __u32 n, __u16 cid, enum ddp_run *run,
		     __u32 *rec)
{
	const struct ddp_flow *f = ddp_flow_mem(d, flow_id);
	__u32 ring;
	/* only this flow's ring, not that of whoever has the slot now */
	const struct ddp_rec *recs =
		f && __atomic_load_n(&f->flow_id, __ATOMIC_RELAXED) == flow_id ?
			ddp_recs_of(d, f, &ring) :
			NULL;

	*run = DDP_RUN_COPY;
	if (!recs)
		return n;
	return ddp_rec_run(f, recs, ring, tail, seq, n, cid, run, rec);
}

int ddp_ddgst_verdict(const struct ddp_dev *d, __u32 flow_id, __u32 n,
		      __u16 cid, __u32 seq, __u32 end)
{
	const struct ddp_flow *f = ddp_flow_mem(d, flow_id);
	struct ddp_rec r;

	if (!f || f->flow_id != flow_id || !ddp_rec_read(d, flow_id, n, &r))
		return DDP_VERDICT_NONE;
	/* a record of this PDU's data, not overwritten, nothing revoked
	 * over the PDU since it was opened */
	if (r.cid != cid || (int)(r.seq - seq) < 0 ||
	    (int)(end - (r.seq + r.len)) < 0 ||
	    (r.ddgst != DDP_VERDICT_OK && r.ddgst != DDP_VERDICT_BAD) ||
	    !ddp_rec_unrevoked(f, r.rev, seq, end - seq))
		return DDP_VERDICT_NONE;
	return r.ddgst;
}
