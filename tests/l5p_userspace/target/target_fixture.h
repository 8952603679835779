/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * target_fixture.h - what the target suite's files share: the target, run
 * as a child by each test (ctl_client.h), an association to it, and
 * helpers for reads and admin commands. target_fixture.c defines the
 * target and declares the suite with its fini (the target stopped) and
 * timeout, so a file of the suite adds Test(target, ...) alone.
 */
#ifndef TESTS_L5P_TARGET_FIXTURE_H
#define TESTS_L5P_TARGET_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "ctl_client.h"
#include "nvme/pattern.h"

extern struct tgt_proc tgt;

#define NS_16M (16u << 20)
#define NBLK_16M (NS_16M / 512)

/* An association: its admin queue, and I/O queue 1. */
struct assoc {
	struct tc adm, io;
	__u16 cntlid;
};

static inline void assoc(struct assoc *a, bool hdgst, bool ddgst, __u8 cattr)
{
	a->cntlid = tc_admin(&a->adm, tgt.port, TC_NQN, hdgst, ddgst);
	tc_ioq(&a->io, tgt.port, a->cntlid, 1, 31, cattr, hdgst, ddgst);
}

static inline void *xmalloc(size_t n)
{
	void *p = malloc(n);

	cr_assert(p);
	return p;
}

/* Read nlb blocks at slba and check them against the pattern. */
static inline void read_pattern(struct tc *c, __u16 cid, __u64 slba, __u32 nlb)
{
	struct nvme_sqe s = sqe_rw(NVME_CMD_READ, cid, slba, nlb, false);
	__u8 *buf = xmalloc(nlb * 512);
	struct nvme_cqe cqe;
	int64_t bad;

	memset(buf, 0xee, nlb * 512);
	cqe = tc_exec(c, &s, NULL, 0, buf, nlb * 512);
	cr_assert_eq(cqe_sc(&cqe), 0, "read: status 0x%x", cqe_sc(&cqe));
	bad = ddp_pattern_check(buf, slba * 512, nlb * 512);
	cr_assert_eq(bad, -1, "wrong byte at %lld", (long long)bad);
	free(buf);
}

static inline struct nvme_cqe identify(struct tc *c, __u8 cns, __u32 nsid,
				       __u8 *id)
{
	struct nvme_sqe s = sqe_admin(NVME_ADM_IDENTIFY, c->next_cid++, nsid,
				      NVME_IDENTIFY_LEN);

	s.cdw10 = cns;
	memset(id, 0xee, NVME_IDENTIFY_LEN);
	return tc_exec(c, &s, NULL, 0, id, NVME_IDENTIFY_LEN);
}

static inline __u64 get64(const __u8 *b, int off)
{
	__u64 v;

	memcpy(&v, b + off, 8);
	return v;
}

#endif /* TESTS_L5P_TARGET_FIXTURE_H */
