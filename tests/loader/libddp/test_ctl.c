// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_ctl.c - the control library and the engine's control programs:
 * what sk_add, sk_del, setup, teardown and release accept, refuse and
 * count for flows and their tags, teardown epochs, asynchronous
 * teardown_done. The suite's other files: test_pools.c (the segment, tag
 * and record pools), test_limits.c (limits, caps, the region allocator),
 * test_bad_input.c (the bad input of one process); test_owners.c has what
 * one process may not do to another's.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "ctl_fixture.h"

Test(ctl, sk_add_refuses_duplicates_and_counts)
{
	__u32 id, id2;

	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &id), 0);
	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &id2), -EEXIST);
	cr_assert_str_eq(ddp_errmsg(d), "sk_add: connection already offloaded");
	cr_assert_eq(stats().queue_init, 1);
	cr_assert_eq(stats().sk_add_fail, 1);
	/* the refused add did not take a flow slot */
	cr_assert_eq(ddp_flow_mem(d, id + 1)->state, DDP_FLOW_FREE);
}

Test(ctl, sk_add_runs_out_of_flows)
{
	__u32 id;
	int i;

	for (i = 0; i < 4; i++)
		add_flow(40000 + i);
	key.lport = htons(50000);
	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &id), -ENOSPC);
	cr_assert(strstr(ddp_errmsg(d), "all 4 flows in use"), "%s",
		  ddp_errmsg(d));
}

Test(ctl, flow_is_reused_once_its_deletion_completed)
{
	__u32 id = add_flow(40000), id2;
	int i;

	for (i = 1; i < 4; i++)
		add_flow(40000 + i);
	char msg[64];

	cr_assert_eq(ddp_sk_del(d, id), 0);
	cr_assert_eq(ddp_sk_del(d, id), -ENOENT);
	snprintf(msg, sizeof(msg), "sk_del: flow %u is not offloaded", id);
	cr_assert_str_eq(ddp_errmsg(d), msg);
	wait_flow_free(id);
	key.lport = htons(50000);
	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &id2), 0, "%s", ddp_errmsg(d));
	/* the same slot, a new incarnation: the old id names nothing */
	cr_assert_eq(DDP_FLOW_SLOT(id2), DDP_FLOW_SLOT(id));
	cr_assert_neq(id2, id);
	cr_assert_eq(ddp_sk_del(d, id), -ENOENT);
	cr_assert_eq(ddp_flow_mem(d, id2)->state, DDP_FLOW_ALIVE);
	cr_assert_eq(stats().queue_teardown, 1);
}

Test(ctl, setup_checks_segments_and_counts_failures)
{
	__u32 id = add_flow(40000), tag, i;
	struct ddp_seg ok = { 4096, 8192 };
	struct ddp_seg outside = { (8 << 20) - 100, 200 };
	struct ddp_seg past = { 8 << 20, 1 };
	struct ddp_seg empty = { 0, 0 };
	struct ddp_seg many[DDP_MAX_SEGS + 1];
	char msg[128];

	for (i = 0; i <= DDP_MAX_SEGS; i++)
		many[i] = (struct ddp_seg){ 32768 + i * 16, 16 };
	cr_assert_eq(ddp_setup(d, id, 1, &outside, 1, NULL), -EINVAL);
	cr_assert_str_eq(
		ddp_errmsg(d),
		"setup cid 1: a segment is empty or outside the 8388608-byte buffer region");
	cr_assert_eq(ddp_setup(d, id, 1, &past, 1, NULL), -EINVAL);
	cr_assert_eq(ddp_setup(d, id, 1, &empty, 1, NULL), -EINVAL);
	cr_assert_eq(ddp_setup(d, id, 1, many, DDP_MAX_SEGS + 1, NULL),
		     -EINVAL);
	cr_assert_str_eq(ddp_errmsg(d),
			 "setup cid 1: 257 segments; 1 to 256 allowed");
	cr_assert_eq(ddp_setup(d, id + 1, 1, &ok, 1, NULL), -ENOENT);
	snprintf(msg, sizeof(msg), "setup: flow %u is not offloaded", id + 1);
	cr_assert_str_eq(ddp_errmsg(d), msg);
	cr_assert_eq(stats().ddp_setup_fail, 5);
	cr_assert_eq(stats().ddp_setup, 0);

	cr_assert_eq(ddp_setup(d, id, 1, many, DDP_MAX_SEGS, &tag), 0, "%s",
		     ddp_errmsg(d));
	cr_assert_eq(ddp_tag_mem(d, id, tag)->len, DDP_MAX_SEGS * 16);
	cr_assert_eq(seg_ent(id, tag, DDP_MAX_SEGS - 1).end, DDP_MAX_SEGS * 16);
	cr_assert_eq(seg_ent(id, tag, 7).addr, 32768 + 7 * 16);
	cr_assert_eq(ddp_setup(d, id, 1, &ok, 1, NULL), -EEXIST);
	snprintf(msg, sizeof(msg), "setup: cid 1 already registered in flow %u",
		 id);
	cr_assert_str_eq(ddp_errmsg(d), msg);
	/* the whole 16-bit CID range, until the table is full */
	for (i = 0; i < 7; i++) {
		ok.addr = 65536 * (i + 1);
		cr_assert_eq(ddp_setup(d, id, 0xffff - i, &ok, 1, NULL), 0,
			     "%s", ddp_errmsg(d));
	}
	ok.addr = 65536 * 8;
	cr_assert_eq(ddp_setup(d, id, 9, &ok, 1, NULL), -ENOSPC);
	snprintf(
		msg, sizeof(msg),
		"setup cid 9: tag table of flow %u full (8 tags registered or being torn down)",
		id);
	cr_assert_str_eq(ddp_errmsg(d), msg);
	cr_assert_eq(stats().ddp_setup_fail, 7);
	cr_assert_eq(stats().ddp_setup, 8);
}

Test(ctl, tag_being_written_stays_dead_until_its_writer_is_done)
{
	__u32 id = add_flow(40000), t1, t2, freed, i;
	struct ddp_seg seg = { 0, 4096 };
	struct ddp_tag *busy;
	__u64 e1;

	for (i = 0; i < 8; i++) {
		seg.addr = i * 4096;
		cr_assert_eq(ddp_setup(d, id, 100 + i, &seg, 1,
				       i == 3 ? &t1 :
				       i == 4 ? &t2 :
						NULL),
			     0, "%s", ddp_errmsg(d));
	}
	seg.addr = 8 * 4096;
	cr_assert_eq(ddp_ctl_teardown(d, id, 103, NULL), 1, "nobody writes it");
	cr_assert_eq(ddp_ctl_teardown(d, id, 103, NULL), -ENOENT);
	cr_assert_eq(DDP_TAG_STATE(ddp_tag_mem(d, id, t1)->stamp),
		     DDP_TAG_FREE);
	/* as the engine counts a copy in progress */
	busy = tag_rw(id, t2);
	__atomic_fetch_add(&busy->writers, 1, __ATOMIC_SEQ_CST);
	cr_assert_eq(ddp_ctl_teardown(d, id, 104, NULL), 0);
	cr_assert_eq(DDP_TAG_STATE(busy->stamp), DDP_TAG_DEAD);
	/* a dead tag is not reused: one slot free of eight */
	cr_assert_eq(ddp_setup(d, id, 200, &seg, 1, NULL), 0);
	seg.addr += 4096;
	cr_assert_eq(ddp_setup(d, id, 201, &seg, 1, NULL), -ENOSPC);
	cr_assert_eq(ddp_sync(d, &e1), 0);
	cr_assert_eq(ddp_release(d, id, e1, &freed), 0);
	cr_assert_eq(freed, 0, "a sync does not free what is being written");
	__atomic_fetch_sub(&busy->writers, 1, __ATOMIC_SEQ_CST);
	cr_assert_eq(ddp_release(d, id, 0, &freed), 0);
	cr_assert_eq(freed, 1);
	cr_assert_eq(DDP_TAG_STATE(busy->stamp), DDP_TAG_FREE);
	cr_assert_eq(ddp_setup(d, id, 201, &seg, 1, NULL), 0);
	/* a release cannot name an epoch that has not begun */
	cr_assert_eq(ddp_release(d, id, e1 + 5, &freed), -EINVAL);
	cr_assert_eq(stats().ddp_teardown, 2);
}

struct dones {
	void *ctx[16];
	int n;
};

static void on_done(void *arg, void *ctx)
{
	struct dones *x = arg;

	x->ctx[x->n++] = ctx;
}

/* The copy into t's buffer ends: its one teardown_done, with ctx, comes
 * through ops into got, and the tag is free. */
static void writer_ends(struct ddp_tag *t, struct ddp_ulp_ops *ops,
			struct dones *got, void *ctx)
{
	int i;

	__atomic_fetch_sub(&t->writers, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 200 && !got->n; i++) {
		poll(NULL, 0, 5);
		ddp_dev_process(d, ops);
	}
	cr_assert_eq(got->n, 1);
	cr_assert_eq(got->ctx[0], ctx);
	cr_assert_eq(DDP_TAG_STATE(t->stamp), DDP_TAG_FREE);
}

/* No placement is writing them: the teardowns are done on return, the
 * tags free, and no teardown_done follows. */
Test(ctl, an_idle_tags_teardown_is_done_at_once)
{
	__u32 id = add_flow(40000), tags[3], i;
	struct ddp_seg seg = { 0, 4096 };
	struct dones got = { 0 };
	struct ddp_ulp_ops ops = { .teardown_done = on_done, .arg = &got };

	for (i = 0; i < 3; i++) {
		seg.addr = i * 4096;
		cr_assert_eq(ddp_setup(d, id, i, &seg, 1, &tags[i]), 0);
	}
	for (i = 0; i < 3; i++) {
		cr_assert_eq(ddp_teardown(d, id, i, &tags[i]), 1);
		/* the engine can no longer reach the buffer */
		cr_assert_eq(DDP_TAG_STATE(ddp_tag_mem(d, id, tags[i])->stamp),
			     DDP_TAG_FREE);
	}
	cr_assert_eq(ddp_teardown(d, id, 1, NULL), -ENOENT);
	poll(NULL, 0, 20);
	cr_assert_eq(ddp_dev_process(d, &ops), 0);
	cr_assert_eq(got.n, 0, "teardown_done for a teardown done at once");
	cr_assert_eq(stats().ddp_teardown, 3);
	/* and the bytes may carry a new tag at once */
	seg.addr = 0;
	cr_assert_eq(ddp_setup(d, id, 3, &seg, 1, NULL), 0, "%s", ddp_errmsg(d));
}

Test(ctl, teardown_done_waits_for_the_writer)
{
	__u32 id = add_flow(40000), tag;
	struct ddp_seg seg = { 0, 4096 };
	struct dones got = { 0 };
	struct ddp_ulp_ops ops = { .teardown_done = on_done, .arg = &got };
	struct pollfd p = { .fd = ddp_dev_fd(d), .events = POLLIN };
	struct ddp_tag *t;
	int i;

	cr_assert_eq(ddp_setup(d, id, 7, &seg, 1, &tag), 0);
	t = tag_rw(id, tag);
	__atomic_fetch_add(&t->writers, 1, __ATOMIC_SEQ_CST);
	cr_assert_eq(ddp_teardown(d, id, 7, &tag), 0, "done with a writer");
	cr_assert_eq(ddp_setup(d, id, 8, &seg, 1, NULL), -EBUSY,
		     "its bytes taken again while a copy into them runs");
	for (i = 0; i < 20; i++) {
		poll(NULL, 0, 5);
		ddp_dev_process(d, &ops);
	}
	cr_assert_eq(got.n, 0, "done while a copy into the buffer runs");
	writer_ends(t, &ops, &got, &tag);
	/* delivered through the device's fd, which the thread woke */
	cr_assert_eq(poll(&p, 1, 0), 0, "still readable after processing");
}

/* Many setups in one call, as a host sends the reads of one poll: each
 * entry judged as ddp_setup would judge it, the call's other entries
 * counted among the live tags; more than one call holds. */
Test(ctl, setup_many_judges_each_entry)
{
	__u32 id = add_flow(40000), i, n = 42, tags[42];
	struct ddp_seg segs[42];
	__u16 cids[42];
	int res[42], want;
	struct ddp_stats before = stats(), after;

	for (i = 0; i < n; i++) {
		cids[i] = i;
		segs[i] = (struct ddp_seg){ (1u << 20) + i * 4096, 4096 };
	}
	segs[0].addr = 0;
	segs[1].addr = 4096;
	segs[2].addr = 2048; /* over entry 0's buffer */
	segs[3].addr = (8u << 20) - 100; /* past the region */
	segs[4].addr = 4u << 20; /* not this process's chunk */
	for (i = 5; i < 35; i++)
		cids[i] = 0; /* entry 0's CID again: the engine refuses */
	ddp_setup_many(d, id, cids, segs, tags, res, n);
	for (i = 0; i < n; i++) {
		want = i < 2 || (i >= 35 && i < 41) ? 0 :
		       i == 2			    ? -EBUSY :
		       i == 3			    ? -EINVAL :
		       i == 4			    ? -EPERM :
		       i < 35			    ? -EEXIST :
						      -ENOSPC; /* 8 tags */
		cr_assert_eq(res[i], want, "entry %u (cid %u): %d", i, cids[i],
			     res[i]);
		if (!want)
			cr_assert_eq(
				DDP_TAG_STATE(
					ddp_tag_mem(d, id, tags[i])->stamp),
				DDP_TAG_ACTIVE);
	}
	cr_assert_str_eq(
		ddp_errmsg(d),
		"setup cid 41: tag table of flow 65536 full (8 tags registered or being torn down)");
	after = stats();
	cr_assert_eq(after.ddp_setup - before.ddp_setup, 8);
	cr_assert_eq(after.ddp_setup_fail - before.ddp_setup_fail, 33);
	/* the ones set up are live: a setup over one is refused */
	cr_assert_eq(ddp_setup(d, id, 99, &segs[36], 1, NULL), -EBUSY);
	cr_assert_eq(ddp_teardown(d, id, 36, NULL), 1);
	cr_assert_eq(ddp_setup(d, id, 99, &segs[36], 1, NULL), 0, "%s",
		     ddp_errmsg(d));
	/* and the ones refused in the call are not */
	cr_assert_eq(ddp_teardown(d, id, 0, NULL), 1);
	cr_assert_eq(ddp_teardown(d, id, 1, NULL), 1);
	cr_assert_eq(ddp_setup(d, id, 2, &segs[2], 1, NULL), 0, "%s",
		     ddp_errmsg(d));
}

/* Two reads of one call over the same bytes: the second refused, said */
Test(ctl, setup_many_refuses_overlap_within_the_call)
{
	__u32 id = add_flow(40000);
	struct ddp_seg segs[2] = { { 0, 8192 }, { 4096, 4096 } };
	__u16 cids[2] = { 1, 2 };
	int res[2];

	ddp_setup_many(d, id, cids, segs, NULL, res, 2);
	cr_assert_eq(res[0], 0);
	cr_assert_eq(res[1], -EBUSY);
	cr_assert_str_eq(
		ddp_errmsg(d),
		"setup cid 2: segment 0 [4096, +4096) overlaps the buffer of another read set up with it");
}

/* Many teardowns in one call, as a host ends the commands of one poll:
 * each entry judged on its own (unknown CIDs, one of another flow, one
 * twice, a tag a copy is writing into), more than one call holds. */
Test(ctl, teardown_many_judges_each_entry)
{
	__u32 id = add_flow(40000), other = add_flow(40001), i, n = 40;
	struct ddp_seg seg = { 0, 4096 };
	struct dones got = { 0 };
	struct ddp_ulp_ops ops = { .teardown_done = on_done, .arg = &got };
	void *ctxs[40] = { 0 };
	__u16 cids[40];
	__u32 tag5 = 0;
	struct ddp_tag *t;
	int res[40], want;

	/* 0-6 first, 7 past the first call's DDP_TD_MANY entries; unknown
	 * CIDs between; then the other flow's, and 3 again */
	for (i = 0; i < n; i++)
		cids[i] = i < 7 ? i : 1000 + i;
	cids[37] = 7;
	cids[38] = 100;
	cids[39] = 3;
	for (i = 0; i < 8; i++) {
		seg.addr = i * 4096;
		cr_assert_eq(ddp_setup(d, id, i, &seg, 1,
				       i == 5 ? &tag5 : NULL),
			     0, "%s", ddp_errmsg(d));
	}
	ctxs[5] = &tag5;
	seg.addr = 8 * 4096;
	cr_assert_eq(ddp_setup(d, other, 100, &seg, 1, NULL), 0);
	/* a copy runs into cid 5's buffer */
	t = tag_rw(id, tag5);
	__atomic_fetch_add(&t->writers, 1, __ATOMIC_SEQ_CST);
	ddp_teardown_many(d, id, cids, ctxs, res, n);
	for (i = 0; i < n; i++) {
		want = i == 5 ? 0 : i < 7 || i == 37 ? 1 : -ENOENT;
		cr_assert_eq(res[i], want, "entry %u (cid %u): %d", i, cids[i],
			     res[i]);
	}
	cr_assert_eq(stats().ddp_teardown, 8);
	cr_assert_eq(DDP_TAG_STATE(t->stamp), DDP_TAG_DEAD);
	/* the other flow's tag is still set up */
	cr_assert_eq(ddp_teardown(d, other, 100, NULL), 1);
	/* cid 5's done comes once its copy ends */
	writer_ends(t, &ops, &got, &tag5);
}

Test(ctl, sk_del_tears_down_its_tags)
{
	__u32 id = add_flow(40000), other = add_flow(40001), tag;
	struct ddp_seg seg = { 0, 4096 };
	struct ddp_stats st;

	cr_assert_eq(ddp_setup(d, id, 1, &seg, 1, NULL), 0);
	seg.addr = 4096;
	cr_assert_eq(ddp_setup(d, id, 2, &seg, 1, NULL), 0);
	seg.addr = 8192;
	cr_assert_eq(ddp_setup(d, other, 1, &seg, 1, &tag), 0);
	cr_assert_eq(ddp_sk_del(d, id), 0);
	st = stats();
	cr_assert_eq(st.ddp_teardown, 2);
	cr_assert_eq(st.ddp_setup - st.ddp_teardown, 1);
	cr_assert_eq(DDP_TAG_STATE(ddp_tag_mem(d, other, tag)->stamp),
		     DDP_TAG_ACTIVE);
	/* its CIDs are gone */
	cr_assert_eq(ddp_ctl_teardown(d, id, 1, NULL), -ENOENT);
	seg.addr = 12288;
	cr_assert_eq(ddp_setup(d, id, 3, &seg, 1, NULL), -ENOENT);
	wait_flow_free(id);
}

/* Once its teardown is done, a tag's buffer is the host's to free: at
 * once, or at teardown_done if a placement was writing it. */
Test(ctl, a_buffer_is_freed_once_its_teardown_is_done)
{
	__u32 id = add_flow(40000), buf, tag;
	struct dones got = { 0 };
	struct ddp_ulp_ops ops = { .teardown_done = on_done, .arg = &got };
	struct ddp_seg seg;
	struct ddp_tag *t;
	int i;

	cr_assert_eq(ddp_buf_alloc(d, 8192, 0, &buf), 0);
	seg = (struct ddp_seg){ buf, 8192 };
	cr_assert_eq(ddp_setup(d, id, 5, &seg, 1, NULL), 0);
	cr_assert_eq(ddp_buf_free(d, buf), -EBUSY);
	cr_assert_eq(ddp_teardown(d, id, 5, &seg), 1);
	cr_assert_eq(ddp_buf_free(d, buf), 0, "%s", ddp_errmsg(d));

	/* its bytes carry a new tag, which a placement is writing */
	cr_assert_eq(ddp_buf_alloc(d, 8192, 0, &buf), 0);
	seg = (struct ddp_seg){ buf, 8192 };
	cr_assert_eq(ddp_setup(d, id, 6, &seg, 1, &tag), 0, "%s",
		     ddp_errmsg(d));
	t = tag_rw(id, tag);
	__atomic_fetch_add(&t->writers, 1, __ATOMIC_SEQ_CST);
	cr_assert_eq(ddp_teardown(d, id, 6, &seg), 0);
	cr_assert_eq(ddp_buf_free(d, buf), -EBUSY, "freed before done");
	__atomic_fetch_sub(&t->writers, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 200 && !got.n; i++) {
		ddp_dev_process(d, &ops);
		poll(NULL, 0, 5);
	}
	cr_assert_eq(got.n, 1);
	cr_assert_eq(ddp_buf_free(d, buf), 0, "%s", ddp_errmsg(d));
}
