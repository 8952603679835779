/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_ctl_tag.h - a tag slot's states as the control programs move them
 * (see struct ddp_tag in ddp.h): claimed FREE to BUSY under a new
 * generation while a setup fills it; killed ACTIVE to DEAD under another,
 * its CID no longer findable; freed DEAD to FREE once no placement writes
 * it, its segment blocks going back to their pool; and the walks over a
 * flow's tags that kill or free them all. Included by ddp_ctl.h only,
 * after ddp_ctl_pool.h.
 */
#ifndef DDP_CTL_TAG_H
#define DDP_CTL_TAG_H

struct ddp_tag_claim {
	__u32 base; /* the flow's first slot */
	__u32 tag;
	__u32 stamp; /* the claimed tag's, once active */
	__u32 was; /* its stamp before: free */
};

/* Claim a free slot: BUSY with a new generation while it is filled, so a
 * stale placement into it (from the tag it was before) fails its stamp
 * check, and nothing finds it before its CID is inserted. */
static long ddp_claim_tag_cb(__u32 i, void *arg)
{
	struct ddp_tag_claim *c = arg;
	struct ddp_tag *t = ddp_tag_get(c->base + i);
	__u32 s;

	if (!t)
		return 1;
	s = READ_ONCE(t->stamp);
	if (DDP_TAG_STATE(s) != DDP_TAG_FREE ||
	    __sync_val_compare_and_swap(&t->stamp, s,
					DDP_TAG_STAMP(DDP_TAG_GEN(s) + 1,
						      DDP_TAG_BUSY)) != s)
		return 0;
	c->tag = i;
	c->stamp = DDP_TAG_STAMP(DDP_TAG_GEN(s) + 1, DDP_TAG_ACTIVE);
	c->was = s;
	return 1;
}

/* A dead tag nobody writes becomes free. The stamp changed (a full
 * barrier) before writers is read here: a placement that counted itself
 * later sees the new stamp and writes nothing. The stamp is read with a
 * fetching atomic, a full barrier too, so that writers is not read before
 * it on a weakly ordered CPU. */
static __always_inline int ddp_tag_free(struct ddp_tag *t)
{
	__u32 s = __sync_fetch_and_or(&t->stamp, 0);

	/* BUSY while its blocks go back: whoever claims the slot next
	 * finds it FREE only after that */
	if (DDP_TAG_STATE(s) != DDP_TAG_DEAD || READ_ONCE(t->writers) ||
	    __sync_val_compare_and_swap(&t->stamp, s,
					DDP_TAG_STAMP(DDP_TAG_GEN(s),
						      DDP_TAG_BUSY)) != s)
		return 0;
	ddp_pool_put(DDP_POOL_SEGS, t->seg_word, t->seg_mask);
	__sync_lock_test_and_set(&t->stamp,
				 DDP_TAG_STAMP(DDP_TAG_GEN(s), DDP_TAG_FREE));
	return 1;
}

/* Tear one tag down: no new PDU finds it, no running one starts another
 * copy (its stamp changed); free at once unless a copy is under way.
 * Returns 0 if it was not active, 1 if dead, 2 if free. */
static __always_inline int ddp_tag_kill(struct ddp_tag *t, struct ddp_stats *st,
					bool count)
{
	struct ddp_cid_key key = { .flow_id = t->flow_id, .cid = t->cid };
	__u32 s = READ_ONCE(t->stamp), gen = DDP_TAG_GEN(s) + 1;

	if (DDP_TAG_STATE(s) != DDP_TAG_ACTIVE ||
	    __sync_val_compare_and_swap(&t->stamp, s,
					DDP_TAG_STAMP(gen, DDP_TAG_BUSY)) != s)
		return 0;
	bpf_map_delete_elem(&ddp_cids, &key);
	__sync_lock_test_and_set(&t->stamp, DDP_TAG_STAMP(gen, DDP_TAG_DEAD));
	if (count)
		ddp_count(&st->ddp_teardown);
	return 1 + ddp_tag_free(t);
}

struct ddp_flow_tags {
	struct ddp_stats *st;
	__u32 first; /* the flow's tag_first */
	__u32 n;
	__u64 epoch;
};

static long ddp_kill_cb(__u32 i, void *arg)
{
	struct ddp_flow_tags *c = arg;
	struct ddp_tag *t = ddp_tag_get(c->first + i);

	if (!t)
		return 1;
	c->n += !!ddp_tag_kill(t, c->st, true);
	return 0;
}

static long ddp_free_cb(__u32 i, void *arg)
{
	struct ddp_flow_tags *c = arg;
	struct ddp_tag *t = ddp_tag_get(c->first + i);

	if (!t)
		return 1;
	c->n += ddp_tag_free(t);
	return 0;
}

#endif /* DDP_CTL_TAG_H */
