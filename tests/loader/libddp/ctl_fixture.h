/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ctl_fixture.h - what the ctl suite's files share: the engine each test
 * loads (small limits, the first chunks of its region this process's), a
 * flow key and a config to offload, and helpers on them. ctl_fixture.c
 * defines these and declares the suite with its init and fini, so a file
 * of the suite adds Test(ctl, ...) alone.
 */
#ifndef TESTS_LIBDDP_CTL_FIXTURE_H
#define TESTS_LIBDDP_CTL_FIXTURE_H

#include <poll.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include "harness.h"
#include "libddp_priv.h"

extern struct ddp_dev *d;
extern struct ddp_flow_key key;
extern struct ddp_sk_config cfg;

#define MINE (2u << 20) /* the region's first chunks: this process's */

static inline struct ddp_stats stats(void)
{
	struct ddp_stats st;

	cr_assert_eq(ddp_stats_read(d, &st), 0);
	return st;
}

static inline __u32 add_flow(__u16 lport)
{
	struct ddp_flow_key k = key;
	__u32 id;

	k.lport = htons(lport);
	cr_assert_eq(ddp_sk_add(d, &k, &cfg, &id), 0, "%s", ddp_errmsg(d));
	return id;
}

/* A tag as the engine sees it, writable: to play a placement in progress
 * (its writers count), which the library's read-only mapping cannot. */
static inline struct ddp_tag *tag_rw(__u32 id, __u32 tag)
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
static inline struct ddp_seg_ent seg_ent(__u32 id, __u32 tag, __u32 i)
{
	__u32 k = ddp_tag_mem(d, id, tag)->seg_first + i;
	struct ddp_seg_ent e;

	cr_assert_eq(bpf_map_lookup_elem(ddp_map_fd(d, "ddp_segs"), &k, &e), 0);
	return e;
}

/* Wait (at most 2 s) for the library's teardown thread to free a flow. */
static inline void wait_flow_free(__u32 id)
{
	int i;

	for (i = 0; i < 200 && ddp_flow_mem(d, id)->state != DDP_FLOW_FREE; i++)
		poll(NULL, 0, 10);
	cr_assert_eq(ddp_flow_mem(d, id)->state, DDP_FLOW_FREE);
}

#endif /* TESTS_LIBDDP_CTL_FIXTURE_H */
