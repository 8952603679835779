// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_place.c - the engine placing C2HData for a utcp connection: the
 * kernel peer sends NVMe/TCP C2HData PDUs, the engine writes their data
 * into the buffers registered for their command IDs and hands utcp the
 * frames without those bytes (compacted) and with their ranges in the
 * metadata. utcp_read() refuses placed bytes, utcp_read_data() skips
 * them; every byte of every buffer is checked, and the count of bytes
 * copied shows that no placed byte was. With data digests, every verdict
 * utcp believes is right about the bytes it delivered, through drops,
 * duplicates, reordering and data changed under a good TCP checksum.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "harness.h"
#include "nvme/nvme_tcp_pdu.h"

TestSuite(place, .init = env_init, .fini = env_fini, .timeout = 30);

#define NCMD 24
#define DATA (48 << 10)

static bool digests; /* C2HData carry a data digest */

static void peer_c2h(struct peer *pr)
{
	struct nvme_tcp_hdr24 h = { .type = NVME_TCP_C2H_DATA,
				    .flags = NVME_TCP_F_DATA_LAST |
					     NVME_TCP_F_DATA_SUCCESS,
				    .hlen = 24,
				    .pdo = 24,
				    .plen = 24 + DATA,
				    .datal = DATA };
	__u32 len = 24 + DATA + (digests ? 4 : 0), dgst;
	__u8 *buf = malloc(len);
	char go;
	int cid;

	if (read(pr->fd, &go, 1) != 1) {
		pr->err = EIO;
		goto out;
	}
	if (digests) {
		h.flags |= NVME_TCP_F_DDGST;
		h.plen += 4;
	}
	for (cid = 0; cid < NCMD; cid++) {
		h.cccid = cid;
		memcpy(buf, &h, 24);
		pat_fill(100 + cid, 0, buf + 24, DATA);
		dgst = ntcp_crc32c(buf + 24, DATA);
		if (digests)
			memcpy(buf + 24 + DATA, &dgst, 4);
		if (write(pr->fd, buf, len) != (ssize_t)len) {
			pr->err = errno;
			goto out;
		}
	}
	while (read(pr->fd, &go, 1) > 0)
		;
out:
	free(buf);
}

/* The data digest of command cid, just read into buf: the verdict utcp
 * believes must be right about it. Returns the verdict; *right: the data
 * matches the digest. */
static int check_digest(struct utcp_conn *c, int cid, const __u8 *buf,
			bool *right)
{
	__u32 dgst;
	int v;

	cr_assert_eq(utcp_read(c, &dgst, 4), 0);
	v = utcp_ddgst_verdict(c, 24 + DATA + 4);
	*right = ntcp_crc32c(buf, DATA) == dgst;
	cr_assert(v == DDP_VERDICT_NONE || (v == DDP_VERDICT_OK) == *right,
		  "command %d: verdict %d, the digest is %s", cid, v,
		  *right ? "right" : "wrong");
	return v;
}

/* Reads the commands; returns how many had a verdict believed. */
static int read_commands(struct utcp_conn *c, __u32 *off, bool all_placed)
{
	__u8 *mem = ddp_buf_mem(env.dev), *tmp = malloc(DATA);
	int cid, judged = 0, changed = 0;
	struct nvme_tcp_hdr24 h;
	struct utcp_stats st;
	__u64 skipped = 0;
	bool right = true;
	ssize_t n;

	for (cid = 0; cid < NCMD; cid++) {
		cr_assert_eq(utcp_read(c, &h, 24), 0);
		cr_assert_eq(h.type, NVME_TCP_C2H_DATA);
		cr_assert_eq(h.cccid, cid);
		cr_assert_eq(h.datal, DATA);
		/* a copy refuses placed bytes (taking none: here all are) */
		if (all_placed)
			cr_assert_eq(utcp_read(c, tmp, DATA), -EPROTO,
				     "command %d: placed bytes refused", cid);
		/* placed bytes skipped, others copied, wherever either is
		 * (a PDU may start unplaced and end placed: a copy could
		 * take its first bytes and then refuse) */
		n = utcp_read_data(c, mem + off[cid], DATA);
		cr_assert_geq(n, 0, "%s", strerror(-n));
		if (all_placed)
			cr_assert_eq(n, DATA, "command %d: %zd bytes placed",
				     cid, n);
		skipped += n;
		if (digests)
			judged += check_digest(c, cid, mem + off[cid], &right) !=
				  DDP_VERDICT_NONE;
		/* a byte changed on the way is what the digest is for */
		changed += !right;
		if (right)
			cr_assert_eq(pat_check(100 + cid, 0, mem + off[cid],
					       DATA),
				     -1, "command %d: a byte wrong", cid);
	}
	utcp_stats(c, &st);
	cr_assert_eq(st.placed_bytes, skipped);
	cr_assert_eq(st.copied_bytes,
		     NCMD * (24 + (digests ? 4 : 0)) + (__u64)NCMD * DATA -
			     skipped,
		     "copied %llu: placed bytes were copied",
		     (unsigned long long)st.copied_bytes);
	fprintf(stderr,
		"%d commands of %u bytes: %llu placed, %llu copied, %d verdicts believed, %d changed\n",
		NCMD, DATA, (unsigned long long)st.placed_bytes,
		(unsigned long long)st.copied_bytes, judged, changed);
	print_stats("placement", c);
	free(tmp);
	return judged;
}

static struct utcp_conn *offloaded(__u32 *off)
{
	struct ddp_sk_config cfg = { .queue_size = 32,
				     .io_threshold = 4096,
				     .dgst = digests ? NVME_TCP_DGST_DATA : 0,
				     .flags = DDP_SK_OFFLOAD | DDP_SK_XSK };
	struct iovec v = { .iov_base = "g", .iov_len = 1 };
	struct utcp_conn *c;
	struct ddp_seg seg;
	__u32 id;
	int cid;

	c = connect_b(4420);
	/* the peer waits for "g": nothing is in flight */
	cfg.start_seq = utcp_rcv_seq(c);
	id = utcp_flow_id(c);
	cr_assert_eq(ddp_flow_mem(env.dev, id)->cfg.flags, DDP_SK_XSK,
		     "steered only");
	cr_assert_eq(ddp_sk_update(env.dev, id, &cfg), 0, "%s",
		     ddp_errmsg(env.dev));
	cr_assert_eq(ddp_flow_mem(env.dev, id)->cfg.flags,
		     DDP_SK_OFFLOAD | DDP_SK_XSK);
	for (cid = 0; cid < NCMD; cid++) {
		cr_assert_eq(ddp_buf_alloc(env.dev, DATA, 4096, &off[cid]), 0,
			     "%s", ddp_errmsg(env.dev));
		memset(ddp_buf_mem(env.dev) + off[cid], 0, DATA);
		seg = (struct ddp_seg){ .addr = off[cid], .len = DATA };
		cr_assert_eq(ddp_setup(env.dev, id, cid, &seg, 1, NULL), 0,
			     "%s", ddp_errmsg(env.dev));
	}
	cr_assert_eq(utcp_send(c, &v, 1), 0);
	return c;
}

Test(place, c2h_data_placed_by_the_engine_is_never_copied)
{
	struct peer pr = { 0 };
	struct utcp_stats st;
	struct ddp_stats ds;
	struct utcp_conn *c;
	__u32 off[NCMD];

	peer_start(&pr, 4420, peer_c2h);
	c = offloaded(off);
	read_commands(c, off, true);
	utcp_stats(c, &st);
	cr_assert_eq(st.placed_bytes, (__u64)NCMD * DATA, "all placed");
	cr_assert_gt(st.compacted, 0, "frames came without their data");
	cr_assert_lt(st.copied_bytes, 4096, "headers only");
	cr_assert_eq(ddp_stats_read(env.dev, &ds), 0);
	cr_assert_geq(ds.offload_bytes, st.placed_bytes);
	utcp_close(c);
	peer_join(&pr);
	cr_assert_eq(pr.err, 0);
}

/* Lost frames make the engine lose its place: what it did not place is
 * copied; each byte is right either way. */
Test(place, c2h_data_through_drops_and_duplicates_is_right)
{
	struct fault_cfg f = { .port = 4420,
			       .drop = 10000,
			       .dup = 10000,
			       .delay = 10000,
			       .in_drop = 10000 };
	struct peer pr = { 0 };
	struct utcp_conn *c;
	__u32 off[NCMD];

	env_faults(100);
	peer_start(&pr, 4420, peer_c2h);
	c = offloaded(off);
	fault_set(&f);
	read_commands(c, off, false);
	utcp_close(c);
	peer_join(&pr);
	cr_assert_eq(pr.err, 0);
}

/* Data digests: the engine judges each PDU, utcp believes it; unless a
 * segment came twice or out of order (a loaded machine delays ACKs, and
 * the peer sends again): then none before it, whose copy may not be the
 * one judged. */
Test(place, c2h_data_digests_judged_by_the_engine)
{
	struct peer pr = { 0 };
	struct utcp_stats st;
	struct utcp_conn *c;
	__u32 off[NCMD];
	int judged;

	digests = true;
	peer_start(&pr, 4420, peer_c2h);
	c = offloaded(off);
	judged = read_commands(c, off, true);
	utcp_stats(c, &st);
	cr_assert(judged == NCMD || st.dup_segs || st.ooo_segs,
		  "%d of %d verdicts believed", judged, NCMD);
	utcp_close(c);
	peer_join(&pr);
	cr_assert_eq(pr.err, 0);
}

/* Through drops, duplicates, reordering and data changed under a good
 * TCP checksum: no verdict utcp believes is wrong about what it has. */
Test(place, c2h_data_digest_verdicts_through_faults_are_right)
{
	struct fault_cfg f = { .port = 4420,
			       .drop = 10000,
			       .dup = 10000,
			       .delay = 10000,
			       .mangle = 100000 };
	struct peer pr = { 0 };
	struct utcp_conn *c;
	__u32 off[NCMD];

	digests = true;
	env_faults(100);
	peer_start(&pr, 4420, peer_c2h);
	c = offloaded(off);
	fault_set(&f);
	read_commands(c, off, false);
	utcp_close(c);
	peer_join(&pr);
	cr_assert_eq(pr.err, 0);
}
