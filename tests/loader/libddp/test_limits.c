// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_limits.c - the ctl suite's limits: the region allocator, the limits
 * checked before anything is loaded, the defaults of small ones, and the
 * caps that report them.
 */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>
#include "ctl_fixture.h"

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
