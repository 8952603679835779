// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_io.c - ddp-target's I/O: reads of the pattern, writes in capsules
 * and by R2T, command errors, the completion orders, the DATA_SUCCESS
 * path, full queues, and a file for a namespace.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "target_fixture.h"

static struct nvme_cqe io(struct tc *c, __u8 opcode, __u16 cid, __u64 slba,
			  __u32 nlb, bool incapsule, void *buf)
{
	struct nvme_sqe s = sqe_rw(opcode, cid, slba, nlb, incapsule);

	if (opcode == NVME_CMD_WRITE)
		return tc_exec(c, &s, buf, nlb * 512, NULL, 0);
	return tc_exec(c, &s, NULL, 0, buf, nlb * 512);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* I/O */

Test(target, read_pattern_with_digests)
{
	struct assoc a;
	struct tc q2;

	tgt_start(&tgt, "--size", "16M", "--pattern", "--pdu-size", "16K",
		  NULL);
	assoc(&a, true, true, 0);
	read_pattern(&a.io, 1, 0, 8);
	read_pattern(&a.io, 2, 1000, 200); /* 100 KiB in 7 PDUs */
	read_pattern(&a.io, 3, NBLK_16M - 1, 1);
	read_pattern(&a.io, 4, 12345, 16384); /* 8 MiB */
	/* a second queue with the header digest only */
	tc_ioq(&q2, tgt.port, a.cntlid, 2, 15, 0, true, false);
	read_pattern(&q2, 1, 77, 9);
	tc_close(&q2);
	tc_close(&a.io);
	tc_close(&a.adm);
}

Test(target, read_split_into_pdus)
{
	struct nvme_sqe s = sqe_rw(NVME_CMD_READ, 5, 0, 48, false);
	__u8 buf[48 * 512];
	struct ntcp_pdu pdu;
	struct assoc a;
	__u32 off = 0;

	tgt_start(&tgt, "--size", "1M", "--pattern", "--pdu-size", "5000",
		  NULL);
	assoc(&a, false, true, 0);
	tc_send_cmd(&a.io, &s, NULL, 0);
	do {
		cr_assert_eq(tc_recv(&a.io, &pdu, buf, sizeof(buf), true), 0);
		cr_assert_eq(pdu.type, NVME_TCP_C2H_DATA);
		cr_assert_eq(pdu.data.off, off);
		cr_assert_leq(pdu.data.len, 5000);
		off += pdu.data.len;
		cr_assert_eq(!!(pdu.flags & NVME_TCP_F_DATA_LAST),
			     off == sizeof(buf));
		cr_assert_eq(pdu.flags & NVME_TCP_F_DATA_SUCCESS, 0);
	} while (off < sizeof(buf));
	cr_assert_eq(tc_recv_rsp(&a.io).cid, 5);
	cr_assert_eq(ddp_pattern_check(buf, 0, sizeof(buf)), -1);
}

Test(target, write_in_capsule_and_by_r2t)
{
	__u8 *w = xmalloc(200 * 1024), *r = xmalloc(200 * 1024);
	struct nvme_cqe cqe;
	struct assoc a;
	size_t i;

	for (i = 0; i < 200 * 1024; i++)
		w[i] = rand();
	tgt_start(&tgt, "--size", "16M", "--maxh2cdata", "8K", NULL);
	assoc(&a, true, true, 0);
	/* in-capsule, up to the 16 KiB of IOCCSZ */
	cqe = io(&a.io, NVME_CMD_WRITE, 1, 10, 8, true, w);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cqe = io(&a.io, NVME_CMD_WRITE, 2, 100, 32, true, w + 4096);
	cr_assert_eq(cqe_sc(&cqe), 0);
	/* by R2T: 200 KiB in R2Ts of at most 8 KiB */
	cqe = io(&a.io, NVME_CMD_WRITE, 3, 1000, 400, false, w);
	cr_assert_eq(cqe_sc(&cqe), 0);

	cqe = io(&a.io, NVME_CMD_READ, 4, 10, 8, false, r);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_arr_eq(r, w, 4096);
	cqe = io(&a.io, NVME_CMD_READ, 5, 100, 32, false, r);
	cr_assert_arr_eq(r, w + 4096, 16384);
	cqe = io(&a.io, NVME_CMD_READ, 6, 1000, 400, false, r);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_arr_eq(r, w, 200 * 1024);
	/* the last block, and one past it */
	cqe = io(&a.io, NVME_CMD_WRITE, 7, NBLK_16M - 1, 1, true, w);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cqe = io(&a.io, NVME_CMD_WRITE, 8, NBLK_16M - 1, 2, true, w);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_LBA_RANGE);
	free(w);
	free(r);
}

/* The host's MAXR2T: that many R2Ts outstanding (0's based), no more. */
Test(target, r2ts_honour_maxr2t)
{
	struct nvme_sqe s = sqe_rw(NVME_CMD_WRITE, 9, 0, 80, false);
	__u8 *w = xmalloc(40960), *r = xmalloc(40960);
	struct ntcp_pdu pdu, r2t[5];
	struct pollfd p;
	struct nvme_cqe cqe;
	struct assoc a;
	int i;

	for (i = 0; i < 40960; i++)
		w[i] = i * 7;
	tgt_start(&tgt, "--size", "1M", "--maxh2cdata", "8K", NULL);
	a.cntlid = tc_admin(&a.adm, tgt.port, TC_NQN, false, false);
	tc_open(&a.io, tgt.port);
	tc_ic(&a.io, false, true, 0, 3); /* 4 R2Ts outstanding */
	cqe = tc_connect(&a.io, TC_NQN, 1, a.cntlid, 31, 0);
	cr_assert_eq(cqe_sc(&cqe), 0);
	tc_send_cmd(&a.io, &s, NULL, 0);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(tc_recv(&a.io, &r2t[i], NULL, 0, false), 0);
		cr_assert_eq(r2t[i].type, NVME_TCP_R2T);
		cr_assert_eq(r2t[i].data.cccid, 9);
		cr_assert_eq(r2t[i].data.off, i * 8192u);
		cr_assert_eq(r2t[i].data.len, 8192);
	}
	p = (struct pollfd){ .fd = a.io.fd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 100), 0, "a fifth R2T outstanding");
	/* answered out of order: the second one first */
	tc_send_h2c(&a.io, 9, r2t[1].data.ttag, 8192, w + 8192, 8192, true);
	cr_assert_eq(tc_recv(&a.io, &r2t[4], NULL, 0, false), 0);
	cr_assert_eq(r2t[4].type, NVME_TCP_R2T);
	cr_assert_eq(r2t[4].data.off, 32768);
	cr_assert_eq(r2t[4].data.len, 8192);
	for (i = 0; i < 5; i++) {
		__u32 off = r2t[i].data.off;

		if (i == 1)
			continue;
		/* in two H2CData PDUs */
		tc_send_h2c(&a.io, 9, r2t[i].data.ttag, off, w + off, 4096,
			    false);
		tc_send_h2c(&a.io, 9, r2t[i].data.ttag, off + 4096,
			    w + off + 4096, 4096, true);
	}
	cr_assert_eq(tc_recv(&a.io, &pdu, NULL, 0, false), 0);
	cr_assert_eq(pdu.type, NVME_TCP_RSP);
	cr_assert_eq(pdu.rsp.cid, 9);
	cr_assert_eq(cqe_sc(&pdu.rsp), 0);
	cqe = io(&a.io, NVME_CMD_READ, 10, 0, 80, false, r);
	cr_assert_arr_eq(r, w, 40960);
	free(w);
	free(r);
}

Test(target, flush_and_command_errors)
{
	struct nvme_sqe s;
	struct nvme_cqe cqe;
	struct assoc a;
	__u8 buf[1024];
	__u16 hd;

	tgt_start(&tgt, "--size", "16M", NULL);
	assoc(&a, false, false, 0);
	hd = 1; /* the Connect */
	s = (struct nvme_sqe){ .opcode = NVME_CMD_FLUSH, .cid = 40, .nsid = 1 };
	cqe = tc_exec(&a.io, &s, NULL, 0, NULL, 0);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(cqe.cid, 40);
	cr_assert_eq(cqe.sqid, 1);
	cr_assert_eq(cqe.sqhd, ++hd);
	cr_assert_eq(cqe.status & 1, 0, "phase 0");
	s.nsid = 2;
	s.cid = 41;
	cqe = tc_exec(&a.io, &s, NULL, 0, NULL, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_INVALID_NS);
	cr_assert_eq(cqe.sqhd, ++hd);

	cqe = io(&a.io, NVME_CMD_READ, 42, NBLK_16M, 1, false, buf);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_LBA_RANGE);
	cr_assert_eq(cqe.cid, 42);
	cr_assert_eq(cqe.sqhd, ++hd);
	cr_assert_eq(cqe.status & 1, 0);
	cr_assert(cqe.status & 0x8000, "DNR");
	cqe = io(&a.io, NVME_CMD_READ, 43, NBLK_16M - 1, 2, false, buf);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_LBA_RANGE);
	cqe = io(&a.io, NVME_CMD_READ, 44, ~0ull, 1, false, buf);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_LBA_RANGE);

	s = sqe_rw(0x05, 45, 0, 1, false); /* Compare: not supported */
	cqe = tc_exec(&a.io, &s, NULL, 0, NULL, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_INVALID_OPCODE);
	cr_assert_eq(cqe.cid, 45);
	s = sqe_rw(NVME_CMD_READ, 46, 0, 1, false);
	s.nsid = 2;
	cqe = tc_exec(&a.io, &s, NULL, 0, buf, sizeof(buf));
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_INVALID_NS);
	s = sqe_rw(NVME_CMD_READ, 47, 0, 2, false);
	s.sgl_len = 512; /* not the 1024 bytes of 2 blocks */
	cqe = tc_exec(&a.io, &s, NULL, 0, buf, sizeof(buf));
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_SGL_INVALID_DATA);
	/* the queue wraps: sqhd counts modulo sqsize + 1 = 32 */
	for (hd = 0; hd < 40; hd++) {
		s = (struct nvme_sqe){ .opcode = NVME_CMD_FLUSH,
				       .cid = 100 + hd,
				       .nsid = 1 };
		cqe = tc_exec(&a.io, &s, NULL, 0, NULL, 0);
	}
	cr_assert_eq(cqe.sqhd, (9 + 40) % 32);
}

/* Completion order */

struct seen {
	__u8 type;
	__u16 cid;
	__u8 flags;
};

/* Receive until n CapsuleResps (or SUCCESS C2HData) came, noting each PDU
 * and checking read data against the pattern at slba[cid]. */
static int collect(struct tc *c, int n, struct seen *seen, int max,
		   const __u64 *slba)
{
	static __u8 buf[32 << 20];
	struct ntcp_pdu pdu;
	int k = 0;

	while (n) {
		cr_assert_eq(tc_recv(c, &pdu, buf, sizeof(buf), false), 0);
		cr_assert_lt(k, max);
		seen[k].type = pdu.type;
		seen[k].flags = pdu.flags;
		if (pdu.type == NVME_TCP_C2H_DATA) {
			seen[k].cid = pdu.data.cccid;
			cr_assert_eq(
				ddp_pattern_check(buf,
						  slba[pdu.data.cccid] * 512 +
							  pdu.data.off,
						  pdu.data_len),
				-1);
			if (pdu.flags & NVME_TCP_F_DATA_SUCCESS)
				n--;
		} else {
			cr_assert_eq(pdu.type, NVME_TCP_RSP);
			cr_assert_eq(cqe_sc(&pdu.rsp), 0);
			seen[k].cid = pdu.rsp.cid;
			n--;
		}
		k++;
	}
	return k;
}

/* Where cid's completion is in seen, or -1. */
static int done_at(const struct seen *seen, int k, __u16 cid)
{
	int i;

	for (i = 0; i < k; i++)
		if (seen[i].cid == cid &&
		    (seen[i].type == NVME_TCP_RSP ||
		     (seen[i].flags & NVME_TCP_F_DATA_SUCCESS)))
			return i;
	return -1;
}

Test(target, reverse_completes_last_received_first)
{
	__u64 slba[8] = { 0, 100, 200, 300, 400, 500, 600 };
	struct seen seen[64];
	struct assoc a;
	struct nvme_sqe s;
	long t0;
	int k, i, cid;

	tgt_start(&tgt, "--size", "1M", "--pattern", "--pdu-size", "4K",
		  "--completion", "reverse:4", NULL);
	assoc(&a, false, true, 0);
	for (cid = 1; cid <= 4; cid++) {
		s = sqe_rw(NVME_CMD_READ, cid, slba[cid], 16, false);
		tc_send_cmd(&a.io, &s, NULL, 0);
	}
	/* each fully, 4 then 3, 2, 1: two C2HData and the response */
	k = collect(&a.io, 4, seen, 64, slba);
	cr_assert_eq(k, 12);
	for (i = 0; i < 12; i++) {
		cr_assert_eq(seen[i].cid, 4 - i / 3, "PDU %d of command %u", i,
			     seen[i].cid);
		cr_assert_eq(seen[i].type,
			     i % 3 == 2 ? NVME_TCP_RSP : NVME_TCP_C2H_DATA);
	}
	/* fewer than 4: after 200 ms without another */
	t0 = now_ms();
	for (cid = 5; cid <= 6; cid++) {
		s = sqe_rw(NVME_CMD_READ, cid, slba[cid], 1, false);
		tc_send_cmd(&a.io, &s, NULL, 0);
	}
	k = collect(&a.io, 2, seen, 64, slba);
	cr_assert_geq(now_ms() - t0, 180);
	cr_assert_eq(k, 4);
	cr_assert_eq(done_at(seen, k, 6), 1);
	cr_assert_eq(done_at(seen, k, 5), 3);
}

Test(target, fifo_completes_in_arrival_order)
{
	__u64 slba[4] = { 0, 0, 5000, 6000 };
	struct seen seen[64];
	struct assoc a;
	struct nvme_sqe s[3];
	int k, i;

	tgt_start(&tgt, "--size", "16M", "--pattern", "--pdu-size", "64K",
		  "--completion", "fifo", NULL);
	assoc(&a, false, false, 0);
	s[0] = sqe_rw(NVME_CMD_READ, 1, slba[1], 2048, false); /* 1 MiB */
	s[1] = sqe_rw(NVME_CMD_READ, 2, slba[2], 8, false);
	s[2] = sqe_rw(NVME_CMD_READ, 3, slba[3], 1, false);
	tc_send_cmds(&a.io, s, 3);
	k = collect(&a.io, 3, seen, 64, slba);
	cr_assert_eq(k, 16 + 1 + 2 + 2);
	for (i = 0; i < 17; i++)
		cr_assert_eq(seen[i].cid, 1);
	cr_assert_eq(done_at(seen, k, 1), 16);
	cr_assert_eq(done_at(seen, k, 2), 18);
	cr_assert_eq(done_at(seen, k, 3), 20);
}

/* Sent together, the short reads go first: least data left. */
Test(target, ooo_least_data_first)
{
	__u64 slba[4] = { 0, 0, 5000, 6000 };
	struct seen seen[64];
	struct assoc a;
	struct nvme_sqe s[3];
	int k;

	tgt_start(&tgt, "--size", "16M", "--pattern", "--pdu-size", "64K",
		  NULL);
	assoc(&a, false, false, 0);
	s[0] = sqe_rw(NVME_CMD_READ, 1, slba[1], 2048, false); /* 1 MiB */
	s[1] = sqe_rw(NVME_CMD_READ, 2, slba[2], 8, false); /* 4 KiB */
	s[2] = sqe_rw(NVME_CMD_READ, 3, slba[3], 1, false); /* 512 B */
	tc_send_cmds(&a.io, s, 3);
	k = collect(&a.io, 3, seen, 64, slba);
	cr_assert_eq(k, 21);
	cr_assert_lt(done_at(seen, k, 3), done_at(seen, k, 2));
	cr_assert_lt(done_at(seen, k, 2), done_at(seen, k, 1));
	cr_assert_eq(done_at(seen, k, 1), 20);
}

/* A 4 KiB read sent while a 32 MiB one is being sent overtakes it. */
Test(target, ooo_small_read_overtakes_large)
{
	__u64 slba[4] = { 0, 4096, 70000 };
	static struct seen seen[1024];
	struct nvme_sqe big = sqe_rw(NVME_CMD_READ, 1, slba[1], 65536, false);
	struct nvme_sqe small = sqe_rw(NVME_CMD_READ, 2, slba[2], 8, false);
	struct ntcp_pdu pdu;
	struct assoc a;
	__u8 first[64 << 10];
	int k, small_at, big_before = 0, i;

	tgt_start(&tgt, "--size", "40M", "--pattern", "--pdu-size", "64K",
		  NULL);
	assoc(&a, false, false, 0);
	tc_send_cmd(&a.io, &big, NULL, 0);
	cr_assert_eq(tc_recv(&a.io, &pdu, first, sizeof(first), false), 0);
	cr_assert_eq(pdu.type, NVME_TCP_C2H_DATA);
	cr_assert_eq(pdu.data.cccid, 1);
	tc_send_cmd(&a.io, &small, NULL, 0);
	k = collect(&a.io, 2, seen, 1024, slba);
	cr_assert_eq(k, 512 - 1 + 1 + 2);
	small_at = done_at(seen, k, 2);
	cr_assert_lt(small_at, done_at(seen, k, 1), "the 4 KiB read waited");
	for (i = 0; i < small_at; i++)
		big_before += seen[i].cid == 1;
	/* it went in at the first PDU boundary after it arrived, not after
	 * everything the socket buffers could hold */
	cr_assert_lt(big_before, 256, "%d PDUs of the large read before it",
		     big_before);
	cr_log_info("ooo: the 4 KiB read completed after %d of 512 PDUs of "
		    "the 32 MiB read",
		    big_before + 1);
}

Test(target, data_success_without_response)
{
	__u64 slba[4] = { 0, 8, 16 };
	struct seen seen[16];
	struct nvme_sqe two[2];
	struct nvme_cqe cqe;
	struct assoc a;
	__u8 buf[8192];
	int k;

	tgt_start(&tgt, "--size", "1M", "--pattern", "--pdu-size", "4K", NULL);
	assoc(&a, true, true, NVME_CATTR_NO_SQFC);
	/* a Flush with it, and only the Flush has a response */
	two[0] = sqe_rw(NVME_CMD_READ, 1, slba[1], 16, false);
	two[1] = (struct nvme_sqe){ .opcode = NVME_CMD_FLUSH,
				    .cid = 2,
				    .nsid = 1 };
	tc_send_cmds(&a.io, two, 2);
	k = collect(&a.io, 2, seen, 16, slba);
	cr_assert_eq(k, 3);
	cr_assert_eq(done_at(seen, k, 2), 0, "the flush goes first (ooo)");
	cr_assert_eq(seen[1].type, NVME_TCP_C2H_DATA);
	cr_assert_eq(seen[1].flags & 0xc, 0);
	cr_assert_eq(seen[2].type, NVME_TCP_C2H_DATA);
	cr_assert_eq(seen[2].flags & 0xc,
		     NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	/* errors are still reported by a response, and writes have one */
	cqe = io(&a.io, NVME_CMD_READ, 3, 4096, 1, false, buf);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_LBA_RANGE);
	cqe = io(&a.io, NVME_CMD_WRITE, 4, 0, 16, false, buf);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(cqe.sqhd, 0, "no SQ head without SQ flow control");
	cqe = io(&a.io, NVME_CMD_READ, 5, 0, 16, false, buf);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(cqe.status, 0);
}

Test(target, many_queues_full_depth)
{
	enum { NQ = 4, DEPTH = 32 };
	struct tc adm, q[NQ];
	__u64 slba[NQ * DEPTH + 1];
	static struct seen seen[NQ * DEPTH * 2];
	struct nvme_sqe s;
	__u16 cntlid;
	int i, j, k;

	tgt_start(&tgt, "--size", "16M", "--pattern", "--pdu-size", "2K",
		  "--queue-size", "32", "--max-queues", "4", NULL);
	cntlid = tc_admin(&adm, tgt.port, TC_NQN, false, false);
	for (i = 0; i < NQ; i++)
		tc_ioq(&q[i], tgt.port, cntlid, i + 1, DEPTH - 1, 0, false,
		       true);
	for (i = 0; i < NQ; i++) {
		for (j = 0; j < DEPTH; j++) {
			__u16 cid = i * DEPTH + j + 1;

			slba[cid] = cid * 17;
			s = sqe_rw(NVME_CMD_READ, cid, slba[cid], 8, false);
			tc_send_cmd(&q[i], &s, NULL, 0);
		}
	}
	for (i = 0; i < NQ; i++) {
		k = collect(&q[i], DEPTH, seen, NQ * DEPTH * 2, slba);
		cr_assert_eq(k, DEPTH * 3); /* 2 C2HData and a response */
		for (j = 0; j < DEPTH; j++)
			cr_assert_geq(done_at(seen, k, i * DEPTH + j + 1), 0);
	}
}

Test(target, more_commands_than_the_queue_holds)
{
	struct nvme_sqe s;
	struct assoc a;
	int cid;

	tgt_start(&tgt, "--size", "1M", "--completion", "reverse:100", NULL);
	a.cntlid = tc_admin(&a.adm, tgt.port, TC_NQN, false, false);
	tc_ioq(&a.io, tgt.port, a.cntlid, 1, 3, 0, false, false);
	for (cid = 1; cid <= 5; cid++) { /* 4 entries */
		s = sqe_rw(NVME_CMD_READ, cid, 0, 1, false);
		tc_send_cmd(&a.io, &s, NULL, 0);
	}
	tc_expect_term(&a.io, NTCP_FES_SEQUENCE, ~0u, NULL);
	cr_assert_eq(tc_prop_get(&a.adm, NVME_REG_VS, false), 0x10400);
}

Test(target, file_namespace)
{
	char path[] = "/tmp/test_l5p_ns.XXXXXX";
	__u8 w[4096], r[4096], id[NVME_IDENTIFY_LEN];
	struct nvme_sqe s;
	struct nvme_cqe cqe;
	struct assoc a;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (1 << 20) + 100), 0); /* a partial block */
	tgt_start(&tgt, "--file", path, "--pattern", NULL);
	assoc(&a, false, false, 0);
	cqe = identify(&a.adm, NVME_ID_CNS_NS, 1, id);
	cr_assert_eq(get64(id, NVME_IDNS_NSZE), 2048);
	cqe = identify(&a.adm, NVME_ID_CNS_CTRL, 0, id);
	cr_assert_eq(id[525], 1, "a volatile write cache: Flush matters");
	read_pattern(&a.io, 1, 0, 2048);
	memset(w, 0x5c, sizeof(w));
	cqe = io(&a.io, NVME_CMD_WRITE, 2, 100, 8, false, w);
	cr_assert_eq(cqe_sc(&cqe), 0);
	s = (struct nvme_sqe){ .opcode = NVME_CMD_FLUSH, .cid = 3, .nsid = 1 };
	cqe = tc_exec(&a.io, &s, NULL, 0, NULL, 0);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cqe = io(&a.io, NVME_CMD_READ, 4, 100, 8, false, r);
	cr_assert_arr_eq(r, w, sizeof(w));
	cr_assert_eq(pread(fd, r, sizeof(r), 100 * 512), (ssize_t)sizeof(r));
	cr_assert_arr_eq(r, w, sizeof(w));
	close(fd);
	unlink(path);
}
