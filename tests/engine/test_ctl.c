// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_ctl.c - the engine's control programs: what sk_add, sk_del, setup,
 * teardown and release accept, refuse and count, and the teardown epochs.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include "harness.h"

static struct ddp_dev *d;
static struct ddp_flow_key key;
static struct ddp_sk_config cfg;
static struct ddp_limits lim = { .max_flows = 4,
				 .tags_per_flow = 8,
				 .buf_size = 1 << 20 };

static void ctl_init(void)
{
	struct pkt_flow fl;

	cr_assert_eq(ddp_dev_load(&lim, &d), 0);
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

TestSuite(ctl, .init = ctl_init, .fini = ctl_fini);

Test(ctl, sk_add_refuses_bad_config)
{
	struct ddp_sk_config bad[] = {
		{ .pfv = 1, .queue_size = 32 },
		{ .cpda = 32, .queue_size = 32 },
		{ .dgst = 4, .queue_size = 32 },
		{ .queue_size = 0 },
		{ .queue_size = 32, .flags = 1 << 7 },
	};
	unsigned int i;
	__u32 id;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ddp_sk_add(d, &key, &bad[i], &id), -EINVAL,
			     "config %u accepted", i);
		cr_assert(strstr(ddp_errmsg(d), "bad config"), "%s",
			  ddp_errmsg(d));
	}
	cr_assert_eq(stats().sk_add_fail, i);
	cr_assert_eq(stats().queue_init, 0);
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

Test(ctl, flow_is_reused_only_after_sync_and_release)
{
	__u32 id = add_flow(40000), id2, freed;
	__u64 epoch;
	int i;

	for (i = 1; i < 4; i++)
		add_flow(40000 + i);
	cr_assert_eq(ddp_sk_del(d, id), 0);
	cr_assert_eq(ddp_sk_del(d, id), -ENOENT);
	cr_assert_eq(ddp_flow_mem(d, id)->state, DDP_FLOW_DEAD);
	key.lport = htons(50000);
	/* still dead: not reusable */
	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &id2), -ENOSPC);
	cr_assert_eq(ddp_sync(d, &epoch), 0);
	cr_assert_eq(ddp_release(d, id, epoch, &freed), 0);
	cr_assert_eq(ddp_sk_add(d, &key, &cfg, &id2), 0);
	cr_assert_eq(id2, id);
	cr_assert_eq(stats().queue_teardown, 1);
}

Test(ctl, setup_checks_segments_and_counts_failures)
{
	__u32 id = add_flow(40000);
	struct ddp_seg ok = { 4096, 8192 };
	struct ddp_seg outside = { (1 << 20) - 100, 200 };
	struct ddp_seg past = { 1 << 20, 1 };
	struct ddp_seg empty = { 0, 0 };
	struct ddp_seg many[DDP_MAX_SEGS + 1];
	unsigned int i;

	for (i = 0; i <= DDP_MAX_SEGS; i++)
		many[i] = (struct ddp_seg){ i * 16, 16 };
	cr_assert_eq(ddp_setup(d, id, 0, 1, &outside, 1), -EINVAL);
	cr_assert(strstr(ddp_errmsg(d),
			 "outside the 1048576-byte buffer region"),
		  "%s", ddp_errmsg(d));
	cr_assert_eq(ddp_setup(d, id, 0, 1, &past, 1), -EINVAL);
	cr_assert_eq(ddp_setup(d, id, 0, 1, &empty, 1), -EINVAL);
	cr_assert_eq(ddp_setup(d, id, 0, 1, many, DDP_MAX_SEGS + 1), -EINVAL);
	cr_assert(strstr(ddp_errmsg(d), "1 to 256 segments"), "%s",
		  ddp_errmsg(d));
	cr_assert_eq(ddp_setup(d, id, 8, 1, &ok, 1), -EINVAL);
	cr_assert_eq(ddp_setup(d, id + 1, 0, 1, &ok, 1), -ENOENT);
	cr_assert_eq(stats().ddp_setup_fail, 6);
	cr_assert_eq(stats().ddp_setup, 0);

	cr_assert_eq(ddp_setup(d, id, 0, 1, many, DDP_MAX_SEGS), 0, "%s",
		     ddp_errmsg(d));
	cr_assert_eq(ddp_tag_mem(d, id, 0)->len, DDP_MAX_SEGS * 16);
	cr_assert_eq(ddp_tag_mem(d, id, 0)->end[DDP_MAX_SEGS - 1],
		     DDP_MAX_SEGS * 16);
	/* the same CID twice, a tag in use */
	cr_assert_eq(ddp_setup(d, id, 1, 1, &ok, 1), -EEXIST);
	cr_assert_eq(ddp_setup(d, id, 0, 2, &ok, 1), -EBUSY);
	cr_assert(strstr(ddp_errmsg(d), "in use"), "%s", ddp_errmsg(d));
	/* the busy tag's segments were not overwritten */
	cr_assert_eq(ddp_tag_mem(d, id, 0)->segs[0].addr, 0);
	cr_assert_eq(stats().ddp_setup_fail, 8);
	cr_assert_eq(stats().ddp_setup, 1);
}

Test(ctl, teardown_is_released_only_by_a_later_sync)
{
	__u32 id = add_flow(40000), tag, freed;
	struct ddp_seg seg = { 0, 4096 };
	__u64 e1, e2;

	cr_assert_eq(ddp_setup(d, id, 3, 0xffff, &seg, 1), 0);
	cr_assert_eq(ddp_setup(d, id, 4, 7, &seg, 1), 0);
	cr_assert_eq(ddp_teardown(d, id, 0xffff, &tag), 0);
	cr_assert_eq(tag, 3);
	cr_assert_eq(ddp_teardown(d, id, 0xffff, &tag), -ENOENT);
	cr_assert_eq(ddp_sync(d, &e1), 0);
	cr_assert_eq(ddp_teardown(d, id, 7, NULL), 0);
	/* tag 4 died after e1 began: a release up to e1 keeps it */
	cr_assert_eq(ddp_release(d, id, e1, &freed), 0);
	cr_assert_eq(freed, 1);
	cr_assert_eq(ddp_tag_mem(d, id, 3)->state, DDP_TAG_FREE);
	cr_assert_eq(ddp_tag_mem(d, id, 4)->state, DDP_TAG_DEAD);
	cr_assert_eq(ddp_setup(d, id, 4, 8, &seg, 1), -EBUSY);
	cr_assert_eq(ddp_sync(d, &e2), 0);
	cr_assert_eq(ddp_release(d, id, e2, &freed), 0);
	cr_assert_eq(freed, 1);
	cr_assert_eq(ddp_setup(d, id, 4, 8, &seg, 1), 0);
	/* a release cannot name an epoch that has not begun */
	cr_assert_eq(ddp_release(d, id, e2 + 5, &freed), -EINVAL);
	cr_assert_eq(stats().ddp_teardown, 2);
}

Test(ctl, sk_del_tears_down_its_tags)
{
	__u32 id = add_flow(40000), other = add_flow(40001);
	struct ddp_seg seg = { 0, 4096 };
	struct ddp_stats st;

	cr_assert_eq(ddp_setup(d, id, 0, 1, &seg, 1), 0);
	cr_assert_eq(ddp_setup(d, id, 7, 2, &seg, 1), 0);
	cr_assert_eq(ddp_setup(d, other, 0, 1, &seg, 1), 0);
	cr_assert_eq(ddp_sk_del(d, id), 0);
	st = stats();
	cr_assert_eq(st.ddp_teardown, 2);
	cr_assert_eq(st.ddp_setup - st.ddp_teardown, 1);
	cr_assert_eq(ddp_tag_mem(d, other, 0)->state, DDP_TAG_ACTIVE);
	/* its CIDs are gone: a teardown finds nothing */
	cr_assert_eq(ddp_teardown(d, id, 1, NULL), -ENOENT);
	cr_assert_eq(ddp_setup(d, id, 1, 3, &seg, 1), -ENOENT);
}

Test(ctl, limits_are_checked_before_load)
{
	struct ddp_limits bad = { .buf_size = 1000 };
	struct ddp_dev *x;

	cr_assert_eq(ddp_dev_load(&bad, &x), -EINVAL);
	cr_assert_null(x);
	bad = (struct ddp_limits){ .max_flows = 5000 };
	cr_assert_eq(ddp_dev_load(&bad, &x), -EINVAL);
}
