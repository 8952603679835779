// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_bad_input.c - the ctl suite's bad input of one process: configs
 * refused field by field, a table of refusals each said and changing
 * nothing, and a kernel lacking what the engine needs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <criterion/criterion.h>
#include "ctl_fixture.h"

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
	snprintf(
		want, sizeof(want),
		"this kernel (%s) lacks bpf_xdp_load_bytes(), which the engine needs: Linux 5.18 or later",
		u.release);
	cr_assert_str_eq(ddp_errmsg(NULL), want);
}
