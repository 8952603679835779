// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_ctl.c - the control library and the engine's control programs:
 * what sk_add, sk_del, setup, teardown and release accept, refuse and
 * count, teardown epochs, asynchronous teardown_done, the region
 * allocator, and the bad input of one process (test_owners.c has what
 * one process may not do to another's).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include "harness.h"
#include "libddp_priv.h"

static struct ddp_dev *d;
static struct ddp_flow_key key;
static struct ddp_sk_config cfg;
/* a segment pool of two words: two tags of the most segments fill it */
static struct ddp_limits lim = { .max_flows = 4,
				 .tags_per_flow = 8,
				 .buf_size = 8 << 20,
				 .seg_pool = 2 * DDP_SEGS_PER_WORD };

#define MINE (2u << 20) /* the region's first chunks: this process's */

static void ctl_init(void)
{
	struct pkt_flow fl;
	__u32 off;

	cr_assert_eq(ddp_dev_load(&lim, &d), 0, "%s", ddp_errmsg(NULL));
	cr_assert_eq(ddp_buf_alloc(d, MINE, 0, &off), 0, "%s", ddp_errmsg(d));
	cr_assert_eq(off, 0);
	pkt_flow_init(&fl, 0, 4420, 40000);
	pkt_flow_key(&fl, &key);
	cfg = (struct ddp_sk_config){ .queue_size = 32,
				      .start_seq = 1000,
				      .flags = DDP_SK_OFFLOAD |
					       DDP_SK_RECORDS };
}

static void ctl_fini(void)
{
	ddp_dev_close(d);
}

static struct ddp_stats stats(void)
{
	struct ddp_stats st;

	cr_assert_eq(ddp_stats_read(d, &st), 0);
	return st;
}

static __u32 add_flow(__u16 lport)
{
	struct ddp_flow_key k = key;
	__u32 id;

	k.lport = htons(lport);
	cr_assert_eq(ddp_sk_add(d, &k, &cfg, &id), 0, "%s", ddp_errmsg(d));
	return id;
}

/* A tag as the engine sees it, writable: to play a placement in progress
 * (its writers count), which the library's read-only mapping cannot. */
static struct ddp_tag *tag_rw(__u32 id, __u32 tag)
{
	struct ddp_caps c;
	size_t len;
	struct ddp_tag *t;

	ddp_dev_caps(d, &c);
	len = (size_t)c.max_tags * sizeof(struct ddp_tag);
	t = mmap(NULL, (len + 4095) & ~4095ul, PROT_READ | PROT_WRITE,
		 MAP_SHARED, d->map_fd[M_ddp_tags], 0);
	cr_assert_neq(t, MAP_FAILED);
	cr_assert_not_null(ddp_tag_mem(d, id, tag));
	return &t[ddp_tag_mem(d, id, tag) - d->tags];
}

/* Segment i of a tag, as the engine keeps it in the pool */
static struct ddp_seg_ent seg_ent(__u32 id, __u32 tag, __u32 i)
{
	__u32 k = ddp_tag_mem(d, id, tag)->seg_first + i;
	struct ddp_seg_ent e;

	cr_assert_eq(bpf_map_lookup_elem(ddp_map_fd(d, "ddp_segs"), &k, &e), 0);
	return e;
}

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

/* Wait (at most 2 s) for the library's teardown thread to free a flow. */
static void wait_flow_free(__u32 id)
{
	int i;

	for (i = 0; i < 200 && ddp_flow_mem(d, id)->state != DDP_FLOW_FREE; i++)
		poll(NULL, 0, 10);
	cr_assert_eq(ddp_flow_mem(d, id)->state, DDP_FLOW_FREE);
}

TestSuite(ctl, .init = ctl_init, .fini = ctl_fini);

/* Each field past its limit, refused by name; max_data at its limit is
 * taken */
Test(ctl, sk_add_refuses_bad_config)
{
	static const struct {
		struct ddp_sk_config cfg;
		const char *why;
	} bad[] = {
		{ { .pfv = 1, .queue_size = 32 },
		  "sk_add: pfv 1: only 0 (NVMe/TCP 1.0)" },
		{ { .cpda = 32, .queue_size = 32 },
		  "sk_add: cpda 32: at most 31" },
		{ { .dgst = 4, .queue_size = 32 },
		  "sk_add: dgst 0x4: unknown digest bits" },
		{ { .queue_size = 0 }, "sk_add: queue_size 0" },
		{ { .queue_size = 32, .max_data = DDP_MAX_MAX_DATA + 1 },
		  "sk_add: max_data 2147483649: at most 2147483648" },
		{ { .queue_size = 32, .max_data = ~0u },
		  "sk_add: max_data 4294967295: at most 2147483648" },
		{ { .queue_size = 32, .flags = 1 << 7 },
		  "sk_add: flags 0x80: unknown bits 0x80" },
		/* an in-kernel L5P's flow, which only kmod_glue adds */
		{ { .queue_size = 32, .flags = DDP_SK_OFFLOAD | DDP_SK_KERNEL },
		  "sk_add: flags 0x9: DDP_SK_KERNEL is kmod_glue's alone" },
		/* only an AF_XDP socket is bound zero-copy or not */
		{ { .queue_size = 32,
		    .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS | DDP_SK_ZEROCOPY },
		  "sk_add: flags 0x15: DDP_SK_ZEROCOPY without DDP_SK_XSK" },
	};
	struct ddp_sk_config at = cfg;
	unsigned int i;
	__u32 id;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ddp_sk_add(d, &key, &bad[i].cfg, &id), -EINVAL,
			     "config %u accepted", i);
		cr_assert_str_eq(ddp_errmsg(d), bad[i].why);
	}
	cr_assert_eq(stats().sk_add_fail, i);
	cr_assert_eq(stats().queue_init, 0);

	at.max_data = DDP_MAX_MAX_DATA;
	cr_assert_eq(ddp_sk_add(d, &key, &at, &id), 0, "%s", ddp_errmsg(d));
	at.max_data = DDP_MAX_MAX_DATA + 1;
	cr_assert_eq(ddp_sk_update(d, id, &at), -EINVAL);
	cr_assert_str_eq(ddp_errmsg(d),
			 "sk_update: max_data 2147483649: at most 2147483648");
}

/* A process cannot make its flow an in-kernel L5P's, whose resync
 * requests would go to kmod_glue's module and never reach it */
Test(ctl, sk_update_refuses_the_kernel_flag)
{
	struct ddp_sk_config k = cfg;
	__u32 id;

	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &id), 0);
	k.flags |= DDP_SK_KERNEL;
	cr_assert_eq(ddp_sk_update(d, id, &k), -EINVAL);
	cr_assert(strstr(ddp_errmsg(d), "DDP_SK_KERNEL is kmod_glue's alone"),
		  "%s", ddp_errmsg(d));
	cr_assert_eq(ddp_flow_mem(d, id)->cfg.flags, cfg.flags);
}

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

static __u32 chunks_mine(void)
{
	__u32 i, n = 0;

	for (i = 0; i < 8; i++)
		n += d->info->chunk_owner[i] &&
		     DDP_CHUNK_OWNER(d->info->chunk_owner[i]) == d->owner;
	return n;
}

Test(ctl, region_allocator_aligns_and_shares_out_chunks)
{
	__u32 a, b, big, i;

	cr_assert_eq(chunks_mine(), 2, "the two of ctl_init");
	cr_assert_eq(ddp_buf_alloc(d, 100, 0, &a), 0);
	cr_assert_eq(ddp_buf_alloc(d, 5000, 4096, &b), 0);
	cr_assert_eq(b % 4096, 0);
	cr_assert(b >= a + 100 || b + 5000 <= a, "overlap");
	cr_assert_eq(ddp_buf_alloc(d, 3 << 20, 0, &big), 0);
	cr_assert_eq(big % DDP_CHUNK_SIZE, 0);
	cr_assert(big >= b + 5000 || big + (3 << 20) <= a, "overlap");
	cr_assert_eq(chunks_mine(), 6, "one chunk split, three whole");
	cr_assert_eq(ddp_buf_alloc(d, 3 << 20, 0, &i), -ENOSPC);
	cr_assert(strstr(ddp_errmsg(d), "no room for 3145728 bytes"), "%s",
		  ddp_errmsg(d));
	cr_assert_eq(ddp_buf_alloc(d, 64, 3, &i), -EINVAL);
	cr_assert_eq(ddp_buf_free(d, big), 0);
	cr_assert_eq(ddp_buf_free(d, a), 0);
	cr_assert_eq(ddp_buf_free(d, b), 0);
	cr_assert_eq(chunks_mine(), 2, "chunks kept");
	cr_assert_eq(ddp_buf_alloc(d, 6 << 20, 0, &big), 0);
}

Test(ctl, limits_are_checked_before_load)
{
	struct ddp_limits bad = { .buf_size = 1000 };
	struct ddp_dev *x;

	cr_assert_eq(ddp_dev_load(&bad, &x), -EINVAL);
	cr_assert_null(x);
	cr_assert_str_eq(
		ddp_errmsg(NULL),
		"buffer region of 1000 bytes: a multiple of 4096, at most 512 MiB");
	bad = (struct ddp_limits){ .max_flows = 65537, .tags_per_flow = 8 };
	cr_assert_eq(ddp_dev_load(&bad, &x), -EINVAL);
	cr_assert_str_eq(ddp_errmsg(NULL), "max flows 65537: at most 65536");
	bad = (struct ddp_limits){ .rec_ring = 100 };
	cr_assert_eq(ddp_dev_load(&bad, &x), -EINVAL);
	cr_assert_str_eq(ddp_errmsg(NULL),
			 "100 records per flow: a power of 2 from 64 to 1024");
	bad = (struct ddp_limits){ .rec_ring = 2048 };
	cr_assert_eq(ddp_dev_load(&bad, &x), -EINVAL);
}

/* Defaults derived from small limits are still whole: a pool of at least
 * one bitmap word, a ring of at least 64 records */
Test(ctl, defaults_of_small_limits_load)
{
	struct ddp_limits one = { .max_flows = 1, .tags_per_flow = 1 };
	struct ddp_caps c;
	struct ddp_dev *x;

	cr_assert_eq(ddp_dev_load(&one, &x), 0, "%s", ddp_errmsg(NULL));
	ddp_dev_caps(x, &c);
	cr_assert_eq(c.max_tags, DDP_TAG_BLOCK, "a run of one block");
	cr_assert_eq(c.seg_pool, DDP_SEGS_PER_WORD);
	cr_assert_eq(c.rec_ring, DDP_REC_RING_MIN);
	ddp_dev_close(x);
	one = (struct ddp_limits){ .max_flows = 3, .tags_per_flow = 40 };
	cr_assert_eq(ddp_dev_load(&one, &x), 0, "%s", ddp_errmsg(NULL));
	ddp_dev_caps(x, &c);
	cr_assert_eq(c.max_tags, 3 * 48, "40 a flow, rounded up to 16");
	cr_assert_eq(c.seg_pool, 5 * DDP_SEGS_PER_WORD, "1152 rounded up");
	cr_assert_eq(c.rec_ring, 512);
	ddp_dev_close(x);
}

Test(ctl, caps_report_the_limits)
{
	struct ddp_caps c;

	ddp_dev_caps(d, &c);
	cr_assert_eq(c.max_segs, DDP_MAX_SEGS);
	cr_assert_eq(c.max_flows, 4);
	cr_assert_eq(c.tags_per_flow, 8);
	cr_assert_eq(c.max_tags, 64, "4 flows of 8 tags, 16 a run");
	cr_assert_eq(c.seg_pool, 2 * DDP_SEGS_PER_WORD);
	cr_assert_eq(c.rec_ring, 64, "8 a tag, at least 64");
	cr_assert_eq(c.rec_pool, 4 * 64, "every flow at its most");
	cr_assert_eq(c.buf_size, 8 << 20);
	cr_assert_eq(c.io_threshold, DDP_DEF_IO_THRESHOLD);
	cr_assert(c.full_cid_range);
	cr_assert_eq(c.digests, NVME_TCP_DGST_HDR | NVME_TCP_DGST_DATA);
	cr_assert_eq(c.ifindex, 0, "loaded, not attached");
}

/* ---- bad input: a table of refusals, each said, none changing anything --- */

/* What a refusal must leave as it was: the flows, the tags, who owns which
 * chunk, what our tags point at, the counters (but the failure counts). */
struct snap {
	struct ddp_stats st;
	struct ddp_flow flows[4];
	struct ddp_tag tags[32];
	__u32 chunks[DDP_CHUNKS_MAX];
	size_t nlive;
};

static void snap_take(struct snap *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	s->st = stats();
	s->st.ddp_setup_fail = s->st.sk_add_fail = 0;
	memcpy(s->flows, d->flows, sizeof(s->flows));
	/* a free tag is its stamp: what else its slot holds means nothing */
	for (i = 0; i < 32; i++)
		if (DDP_TAG_STATE(d->tags[i].stamp) == DDP_TAG_FREE)
			s->tags[i].stamp = d->tags[i].stamp;
		else
			s->tags[i] = d->tags[i];
	memcpy(s->chunks, d->info->chunk_owner, sizeof(s->chunks));
	s->nlive = d->nlive;
}

#define REFUSED(call, err, msg)                                              \
	do {                                                                 \
		struct snap a_, b_;                                          \
		snap_take(&a_);                                              \
		cr_assert_eq((call), (err), "%s: %s", #call, ddp_errmsg(d)); \
		cr_assert_str_eq(ddp_errmsg(d), (msg), "%s: said %s", #call, \
				 ddp_errmsg(d));                             \
		snap_take(&b_);                                              \
		cr_assert(!memcmp(&a_, &b_, sizeof(a_)),                     \
			  "%s changed the state", #call);                    \
	} while (0)

Test(ctl, bad_input_is_refused_with_a_reason_and_changes_nothing)
{
	__u32 id = add_flow(40000), stale, rest, i;
	struct ddp_seg seg = { 0, 4096 },
		       two[2] = { { 8192, 4096 }, { 12000, 100 } };
	struct ddp_seg many[DDP_MAX_SEGS + 1];
	char m[256];

	cr_assert_eq(ddp_setup(d, id, 1, &seg, 1, NULL), 0);
	stale = DDP_FLOW_ID(DDP_FLOW_SLOT(id), (id >> DDP_FLOW_SLOT_BITS) + 1);

	/* flows that are not there, or no longer */
	snprintf(m, sizeof(m), "setup: flow %u is not offloaded", stale);
	REFUSED(ddp_setup(d, stale, 2, &seg, 1, NULL), -ENOENT, m);
	snprintf(m, sizeof(m), "sk_del: flow %u is not offloaded", 3);
	REFUSED(ddp_sk_del(d, 3), -ENOENT, m);
	snprintf(m, sizeof(m), "sk_update: flow %u is not offloaded", stale);
	REFUSED(ddp_sk_update(d, stale, &cfg), -ENOENT, m);
	snprintf(m, sizeof(m), "resync: flow %u is not offloaded", stale);
	REFUSED(ddp_resync(d, stale, 1, 1, true), -ENOENT, m);
	snprintf(m, sizeof(m), "teardown: cid 9 is not registered in flow %u",
		 id);
	REFUSED(ddp_teardown(d, id, 9, NULL), -ENOENT, m);

	/* buffers: overlapping a live tag, overlapping itself */
	seg = (struct ddp_seg){ 2048, 4096 };
	snprintf(
		m, sizeof(m),
		"setup cid 2: segment 0 [2048, +4096) overlaps the buffer of live tag 0 of flow %u",
		id);
	REFUSED(ddp_setup(d, id, 2, &seg, 1, NULL), -EBUSY, m);
	two[1].addr = 10000;
	REFUSED(ddp_setup(d, id, 2, two, 2, NULL), -EINVAL,
		"setup cid 2: segments 0 and 1 overlap");

	/* lengths at and past the limits: the region's end, 256 segments */
	cr_assert_eq(ddp_buf_alloc(d, (8 << 20) - MINE, 0, &rest), 0);
	seg = (struct ddp_seg){ (8 << 20) - 4096, 4097 };
	REFUSED(ddp_setup(d, id, 2, &seg, 1, NULL), -EINVAL,
		"setup cid 2: a segment is empty or outside the 8388608-byte buffer region");
	for (i = 0; i <= DDP_MAX_SEGS; i++)
		many[i] = (struct ddp_seg){ 65536 + i * 16, 16 };
	REFUSED(ddp_setup(d, id, 2, many, DDP_MAX_SEGS + 1, NULL), -EINVAL,
		"setup cid 2: 257 segments; 1 to 256 allowed");
	seg.len = 4096;
	cr_assert_eq(ddp_setup(d, id, 2, &seg, 1, NULL), 0, "%s",
		     ddp_errmsg(d));
	cr_assert_eq(ddp_setup(d, id, 3, many, DDP_MAX_SEGS, NULL), 0, "%s",
		     ddp_errmsg(d));

	/* the region: sizes and alignments, buffers a tag points into */
	REFUSED(ddp_buf_alloc(d, 0, 0, &i), -EINVAL,
		"buffer of 0 bytes aligned to 64: size 1 to 8388608, alignment a power of 2");
	REFUSED(ddp_buf_alloc(d, (8 << 20) + 1, 0, &i), -EINVAL,
		"buffer of 8388609 bytes aligned to 64: size 1 to 8388608, alignment a power of 2");
	REFUSED(ddp_buf_alloc(d, 64, 48, &i), -EINVAL,
		"buffer of 64 bytes aligned to 48: size 1 to 8388608, alignment a power of 2");
	snprintf(
		m, sizeof(m),
		"free of 0: tag 0 of flow %u still points into it; free it after its teardown_done",
		id);
	REFUSED(ddp_buf_free(d, 0), -EBUSY, m);
	REFUSED(ddp_buf_free(d, 12345), -ENOENT,
		"free of 12345: no buffer of this process starts there");
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

/* A kernel without what the engine needs is refused before anything is
 * loaded, naming the feature and the first Linux that has it. */
Test(ctl, a_kernel_lacking_a_feature_is_refused_by_name)
{
	struct ddp_dev *x;
	struct utsname u;
	char want[256];

	cr_assert_eq(uname(&u), 0);
	ddp_probe_pretend_missing = "bpf_xdp_load_bytes()";
	cr_assert_eq(ddp_dev_load(NULL, &x), -EOPNOTSUPP);
	ddp_probe_pretend_missing = "";
	cr_assert_null(x);
	snprintf(want, sizeof(want),
		 "this kernel (%s) lacks bpf_xdp_load_bytes(), which the engine needs: Linux 5.18 or later",
		 u.release);
	cr_assert_str_eq(ddp_errmsg(NULL), want);
}
