// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_fixture.c - the ctl suite: its engine, flow key and config, defined
 * once for the suite's files (ctl_fixture.h), and its init and fini.
 */
#include <criterion/criterion.h>
#include "ctl_fixture.h"

struct ddp_dev *d;
struct ddp_flow_key key;
struct ddp_sk_config cfg;

/* a segment pool of two words: two tags of the most segments fill it */
static struct ddp_limits lim = { .max_flows = 4,
				 .tags_per_flow = 8,
				 .buf_size = 8 << 20,
				 .seg_pool = 2 * DDP_SEGS_PER_WORD };

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

TestSuite(ctl, .init = ctl_init, .fini = ctl_fini);
