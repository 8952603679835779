// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_pools.c - the ctl suite's pools: the segments every flow's tags
 * take from one pool, the runs of tags flows take from another, the rings
 * of records kernel-socket flows take from a third; each refused when
 * full, changing nothing, and given back.
 */
#include <errno.h>
#include <stdio.h>
#include <criterion/criterion.h>
#include "ctl_fixture.h"

/* n segments of len bytes each, one after the other from base */
static void segs_at(struct ddp_seg *sg, __u32 n, __u32 base, __u32 len)
{
	__u32 i;

	for (i = 0; i < n; i++)
		sg[i] = (struct ddp_seg){ base + i * len, len };
}

static __u32 pool_used(void)
{
	__u32 n;

	cr_assert_eq(ddp_seg_pool_used(d, &n), 0, "%s", ddp_errmsg(d));
	return n;
}

/* Tags of every flow take their segments from one pool, as many as they
 * need (in blocks of 4); a setup it has no room for is refused, counted,
 * and changes nothing; a tag's segments come back when it is free. */
Test(ctl, segment_pool_shared_refused_when_full_and_given_back)
{
	__u32 id = add_flow(40000), other = add_flow(40001), t, i;
	struct ddp_seg big[DDP_MAX_SEGS], five[5], one = { 0, 4096 };
	char msg[160];

	segs_at(five, 5, 65536, 100);
	cr_assert_eq(pool_used(), 0);
	segs_at(big, DDP_MAX_SEGS, 4096, 16);
	cr_assert_eq(ddp_setup(d, id, 1, big, DDP_MAX_SEGS, NULL), 0, "%s",
		     ddp_errmsg(d));
	segs_at(big, DDP_MAX_SEGS, 8192, 16);
	cr_assert_eq(ddp_setup(d, other, 1, big, DDP_MAX_SEGS, NULL), 0, "%s",
		     ddp_errmsg(d));
	cr_assert_eq(pool_used(), 2 * DDP_MAX_SEGS);
	cr_assert_eq(ddp_setup(d, id, 2, &one, 1, NULL), -ENOBUFS);
	snprintf(
		msg, sizeof(msg),
		"setup cid 2: the segment pool has no room for 1 segments (ddpctl attach --segs; %u in all)",
		2 * DDP_SEGS_PER_WORD);
	cr_assert_str_eq(ddp_errmsg(d), msg);
	cr_assert_eq(stats().ddp_setup_fail, 1);
	cr_assert_eq(ddp_ctl_teardown(d, id, 2, NULL), -ENOENT,
		     "a refused setup registers nothing");
	cr_assert_eq(pool_used(), 2 * DDP_MAX_SEGS);

	/* given back: the next tag takes only what it needs */
	cr_assert_eq(ddp_ctl_teardown(d, id, 1, NULL), 1);
	cr_assert_eq(pool_used(), DDP_MAX_SEGS);
	cr_assert_eq(ddp_setup(d, id, 2, five, 5, &t), 0, "%s", ddp_errmsg(d));
	cr_assert_eq(pool_used(), DDP_MAX_SEGS + 2 * DDP_SEG_BLOCK);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(seg_ent(id, t, i).addr, 65536 + i * 100);
		cr_assert_eq(seg_ent(id, t, i).end, (i + 1) * 100);
	}
	cr_assert_eq(ddp_tag_mem(d, id, t)->len, 500);
	/* no word is whole now: room for small tags only */
	segs_at(big, DDP_MAX_SEGS, 262144, 16);
	cr_assert_eq(ddp_setup(d, id, 3, big, DDP_MAX_SEGS, NULL), -ENOBUFS);
	for (i = 0; i < 7; i++) {
		one.addr = 131072 + i * 4096;
		cr_assert_eq(ddp_setup(d, other, 10 + i, &one, 1, &t), 0, "%s",
			     ddp_errmsg(d));
		/* each in a block of its own, further into the word */
		cr_assert_eq(seg_ent(other, t, 0).addr, one.addr);
		cr_assert_eq(seg_ent(other, t, 0).end, 4096);
		cr_assert_eq(ddp_tag_mem(d, other, t)->seg_first % 256,
			     (i + 2) * DDP_SEG_BLOCK);
	}
	cr_assert_eq(ddp_ctl_teardown(d, id, 2, NULL), 1);
	cr_assert_eq(ddp_setup(d, id, 3, big, DDP_MAX_SEGS, NULL), -ENOBUFS,
		     "the small tags hold blocks of the word");
	for (i = 0; i < 7; i++)
		cr_assert_eq(ddp_ctl_teardown(d, other, 10 + i, NULL), 1);
	cr_assert_eq(ddp_setup(d, id, 3, big, DDP_MAX_SEGS, NULL), 0, "%s",
		     ddp_errmsg(d));
	cr_assert_eq(pool_used(), 2 * DDP_MAX_SEGS);
	cr_assert_eq(stats().ddp_setup_fail, 3);

	/* a flow deleted gives its tags' segments back with them */
	cr_assert_eq(ddp_sk_del(d, other), 0, "%s", ddp_errmsg(d));
	wait_flow_free(other);
	cr_assert_eq(pool_used(), DDP_MAX_SEGS);
}

static __u32 tags_held(void)
{
	__u32 n;

	cr_assert_eq(ddp_tag_pool_used(d, &n), 0, "%s", ddp_errmsg(d));
	return n;
}

/* This suite's engine again, with other limits */
static void reload(struct ddp_limits *l)
{
	__u32 off;

	ddp_dev_close(d);
	cr_assert_eq(ddp_dev_load(l, &d), 0, "%s", ddp_errmsg(NULL));
	cr_assert_eq(ddp_buf_alloc(d, MINE, 0, &off), 0, "%s", ddp_errmsg(d));
}

/* Flows take their tags from one pool, as many as their queue size in
 * runs of 16: a flow the pool has no room for is refused, and counted; a
 * deleted flow's run goes back to the pool. */
Test(ctl, tag_pool_shared_by_flows_refused_when_full_and_given_back)
{
	struct ddp_limits l = { .max_flows = 4,
				.tags_per_flow = 32,
				.tag_pool = 48,
				.buf_size = 8 << 20 };
	struct ddp_seg one = { 0, 4096 };
	__u32 a, b, c, t, i;
	char msg[160];

	reload(&l);
	cr_assert_eq(tags_held(), 0);
	a = add_flow(40000); /* queue size 32: 32 tags */
	cr_assert_eq(ddp_flow_tag_count(d, a), 32);
	cfg.queue_size = 4;
	b = add_flow(40001);
	cr_assert_eq(ddp_flow_tag_count(d, b), 4);
	cr_assert_eq(tags_held(), 48, "4 tags take a run of 16");
	cr_assert_geq(ddp_flow_mem(d, a)->tag_first + 32,
		      ddp_flow_mem(d, a)->tag_first);
	cr_assert(ddp_flow_mem(d, b)->tag_first >=
				  ddp_flow_mem(d, a)->tag_first + 32 ||
			  ddp_flow_mem(d, b)->tag_first + 16 <=
				  ddp_flow_mem(d, a)->tag_first,
		  "runs overlap");

	key.lport = htons(40002);
	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &c), -ENOBUFS);
	cr_assert_str_eq(
		ddp_errmsg(d),
		"sk_add: the tag pool has no room for 4 tags (ddpctl attach --tag-pool; 48 in all)");
	cr_assert_eq(stats().sk_add_fail, 1);
	cr_assert_eq(stats().queue_init, 2);

	/* a flow holds what its queue size says, not tags_per_flow */
	for (i = 0; i < 4; i++) {
		one.addr = i * 4096;
		cr_assert_eq(ddp_setup(d, b, i, &one, 1, &t), 0, "%s",
			     ddp_errmsg(d));
		cr_assert_eq(t, i);
	}
	one.addr = 8 * 4096;
	cr_assert_eq(ddp_setup(d, b, 9, &one, 1, NULL), -ENOSPC, "%s",
		     ddp_errmsg(d));
	snprintf(
		msg, sizeof(msg),
		"setup cid 9: tag table of flow %u full (4 tags registered or being torn down)",
		b);
	cr_assert_str_eq(ddp_errmsg(d), msg);

	/* b's run goes back with b, its tags torn down first */
	cr_assert_eq(ddp_sk_del(d, b), 0, "%s", ddp_errmsg(d));
	wait_flow_free(b);
	cr_assert_eq(tags_held(), 32);
	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &c), 0, "%s", ddp_errmsg(d));
	cr_assert_eq(tags_held(), 48);
	/* whoever takes the run finds every tag of it free, and none of
	 * b's CIDs */
	cr_assert_eq(ddp_ctl_teardown(d, c, 0, NULL), -ENOENT);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(DDP_TAG_STATE(ddp_tag_mem(d, c, i)->stamp),
			     DDP_TAG_FREE);
		one.addr = i * 4096;
		cr_assert_eq(ddp_setup(d, c, i, &one, 1, NULL), 0, "%s",
			     ddp_errmsg(d));
	}
}

/* An AF_XDP connection is steered from its SYN: that takes no tags, so a
 * full pool never keeps it from being made. Offloaded later without room
 * in the pool, it is refused and stays steered (read in software). */
Test(ctl, steered_flows_take_no_tags_and_stay_steered_without_room)
{
	struct ddp_limits l = { .max_flows = 4,
				.tags_per_flow = 16,
				.tag_pool = 16,
				.buf_size = 8 << 20 };
	struct ddp_sk_config steer = cfg, offload = cfg;
	__u32 a, b;

	reload(&l);
	steer.flags = DDP_SK_XSK;
	steer.queue_size = 1;
	offload.flags = DDP_SK_OFFLOAD | DDP_SK_XSK;
	offload.queue_size = 16;
	cr_assert_eq(ddp_sk_add(d, &key, &steer, &a), 0, "%s", ddp_errmsg(d));
	key.lport = htons(40001);
	cr_assert_eq(ddp_sk_add(d, &key, &steer, &b), 0, "%s", ddp_errmsg(d));
	cr_assert_eq(tags_held(), 0);
	cr_assert_eq(ddp_flow_tag_count(d, a), 0);
	cr_assert_eq(ddp_sk_update(d, a, &offload), 0, "%s", ddp_errmsg(d));
	cr_assert_eq(ddp_flow_tag_count(d, a), 16);
	cr_assert_eq(ddp_sk_update(d, b, &offload), -ENOBUFS);
	cr_assert_str_eq(
		ddp_errmsg(d),
		"sk_update: the tag pool has no room for 16 tags (ddpctl attach --tag-pool; 16 in all)");
	cr_assert_eq(ddp_flow_mem(d, b)->state, DDP_FLOW_ALIVE);
	cr_assert_eq(ddp_flow_mem(d, b)->cfg.flags, DDP_SK_XSK,
		     "still steered");
	cr_assert_eq(ddp_flow_tag_count(d, b), 0);
}

/* A flow takes its tags once, when it is first offloaded, and keeps them
 * where they are while it lives: a setup or a placement that read where
 * they were never finds another flow's. A default pool holds every flow
 * at its most, though a run never spans two bitmap words. */
Test(ctl, tags_taken_once_never_moved_and_every_flow_fits)
{
	struct ddp_limits l = { .max_flows = 64,
				.tags_per_flow = 48,
				.buf_size = 8 << 20 };
	struct ddp_sk_config two = cfg;
	struct ddp_seg one = { 0, 4096 };
	__u32 id, first, i;

	reload(&l);
	cfg.queue_size = 48;
	id = add_flow(40000);
	first = ddp_flow_mem(d, id)->tag_first;
	two.queue_size = 2;
	cr_assert_eq(ddp_sk_update(d, id, &two), 0, "%s", ddp_errmsg(d));
	cr_assert_eq(ddp_flow_tag_count(d, id), 48);
	cr_assert_eq(ddp_flow_mem(d, id)->tag_first, first);
	cr_assert_eq(ddp_setup(d, id, 1, &one, 1, NULL), 0, "%s",
		     ddp_errmsg(d));
	cr_assert_eq(ddp_sk_update(d, id, &cfg), 0, "%s", ddp_errmsg(d));
	cr_assert_eq(ddp_flow_mem(d, id)->tag_first, first);
	cr_assert_eq(DDP_TAG_STATE(ddp_tag_mem(d, id, 0)->stamp),
		     DDP_TAG_ACTIVE);
	/* 3 blocks a flow, 21 flows a word: 63 in 3 words, one more */
	for (i = 1; i < 64; i++)
		add_flow(40000 + i);
	cr_assert_eq(tags_held(), 64 * 48);
	cr_assert_eq(stats().sk_add_fail, 0);
}

static __u32 recs_held(void)
{
	__u32 n;

	cr_assert_eq(ddp_rec_pool_used(d, &n), 0, "%s", ddp_errmsg(d));
	return n;
}

/* A kernel-socket flow takes a ring of 8 records a tag it holds (64 at
 * least) from one pool, an AF_XDP flow none; a flow the pool has no room
 * for is refused; a deleted flow's ring goes back; a live flow's ring is
 * never moved, which the engine may be writing. */
Test(ctl, record_rings_by_tags_from_a_shared_pool)
{
	struct ddp_limits l = { .max_flows = 4,
				.tags_per_flow = 32,
				.rec_pool = 512,
				.buf_size = 8 << 20 };
	struct ddp_sk_config xsk = cfg, more;
	__u32 a, b, c, first;

	reload(&l);
	cfg.queue_size = 32; /* 32 tags: 256 records */
	a = add_flow(40000);
	cr_assert_eq(ddp_flow_mem(d, a)->rec_ring, 256);
	cfg.queue_size = 4; /* 4 tags: 64 records, the least */
	b = add_flow(40001);
	cr_assert_eq(ddp_flow_mem(d, b)->rec_ring, 64);
	xsk.flags = DDP_SK_OFFLOAD | DDP_SK_XSK;
	key.lport = htons(40002);
	cr_assert_eq(ddp_sk_add(d, &key, &xsk, &c), 0, "%s", ddp_errmsg(d));
	cr_assert_eq(ddp_flow_mem(d, c)->rec_ring, 0, "AF_XDP: no records");
	cr_assert_eq(recs_held(), 320);

	cfg.queue_size = 32;
	key.lport = htons(40003);
	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &c), -ENOMEM);
	cr_assert_str_eq(
		ddp_errmsg(d),
		"sk_add: the record pool has no room for a ring of records (ddpctl attach --rec-pool; 512 in all)");
	cr_assert_eq(stats().sk_add_fail, 1);
	cr_assert_eq(tags_held(), 32 + 16 + 32, "its tags given back");

	/* a larger queue later: the ring stays where it is */
	first = ddp_flow_mem(d, b)->rec_first;
	more = cfg;
	more.queue_size = 32;
	cr_assert_eq(ddp_sk_update(d, b, &more), 0, "%s", ddp_errmsg(d));
	cr_assert_eq(ddp_flow_mem(d, b)->rec_first, first);
	cr_assert_eq(ddp_flow_mem(d, b)->rec_ring, 64);

	cr_assert_eq(ddp_sk_del(d, a), 0, "%s", ddp_errmsg(d));
	wait_flow_free(a);
	cr_assert_eq(recs_held(), 64);
	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &c), 0, "%s", ddp_errmsg(d));
	cr_assert_eq(recs_held(), 320);
	cr_assert_eq(ddp_flow_mem(d, c)->rec_head, 0, "no record of a's");
}

/* A tag torn down while a placement still writes through its segments
 * keeps them: no other tag is given them (and writes them) until it is
 * free. */
Test(ctl, segments_of_a_tag_being_written_not_given_to_another)
{
	__u32 id = add_flow(40000), t1, t2, freed;
	struct ddp_seg big[DDP_MAX_SEGS];
	struct ddp_tag *busy;

	segs_at(big, DDP_MAX_SEGS, 4096, 16);
	cr_assert_eq(ddp_setup(d, id, 1, big, DDP_MAX_SEGS, &t1), 0);
	segs_at(big, DDP_MAX_SEGS, 8192, 16);
	cr_assert_eq(ddp_setup(d, id, 2, big, DDP_MAX_SEGS, &t2), 0);
	busy = tag_rw(id, t1);
	__atomic_fetch_add(&busy->writers, 1, __ATOMIC_SEQ_CST);
	cr_assert_eq(ddp_ctl_teardown(d, id, 1, NULL), 0);
	cr_assert_eq(DDP_TAG_STATE(busy->stamp), DDP_TAG_DEAD);
	segs_at(big, DDP_MAX_SEGS, 1 << 20, 16);
	cr_assert_eq(ddp_setup(d, id, 3, big, DDP_MAX_SEGS, NULL), -ENOBUFS);
	cr_assert_eq(seg_ent(id, t1, 0).addr, 4096, "its segments unchanged");
	cr_assert_eq(ddp_release(d, id, 0, &freed), 0);
	cr_assert_eq(freed, 0);
	__atomic_fetch_sub(&busy->writers, 1, __ATOMIC_SEQ_CST);
	cr_assert_eq(ddp_release(d, id, 0, &freed), 0);
	cr_assert_eq(freed, 1);
	cr_assert_eq(pool_used(), DDP_MAX_SEGS);
	cr_assert_eq(ddp_setup(d, id, 3, big, DDP_MAX_SEGS, NULL), 0, "%s",
		     ddp_errmsg(d));
}
