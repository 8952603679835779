// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_transport.c - ddp-target driven by a raw NVMe/TCP host over
 * loopback, its transport: connection initialization and digests, and
 * bad input ending only its own connection. The suite's other files:
 * test_admin.c (the admin commands), test_io.c (reads, writes, completion
 * orders); test_cli.c has the target's command line.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <criterion/criterion.h>
#include "target_fixture.h"

/* Connection initialization */

Test(target, ic_digests_both_ways)
{
	int dg;

	tgt_start(&tgt, "--size", "1M", "--maxh2cdata", "64K", NULL);
	for (dg = 0; dg < 4; dg++) {
		__u8 id[NVME_IDENTIFY_LEN];
		struct nvme_sqe s;
		struct nvme_cqe cqe;
		struct tc c;

		/* the codec checks the target's digests as it receives */
		tc_admin(&c, tgt.port, TC_NQN, dg & 1, dg & 2);
		cr_assert_eq(c.p.maxh2cdata, 65536);
		s = sqe_admin(NVME_ADM_IDENTIFY, 1, 0, sizeof(id));
		s.cdw10 = NVME_ID_CNS_CTRL;
		cqe = tc_exec(&c, &s, NULL, 0, id, sizeof(id));
		cr_assert_eq(cqe_sc(&cqe), 0);
		cr_assert_str_eq((char *)id + NVME_IDC_SUBNQN, TC_NQN);
		tc_close(&c);
	}
}

Test(target, c2h_data_padded_to_hpda)
{
	__u8 id[NVME_IDENTIFY_LEN];
	struct ntcp_pdu pdu;
	struct nvme_sqe s;
	struct nvme_cqe cqe;
	struct tc c;
	int hd;

	tgt_start(&tgt, "--size", "1M", NULL);
	for (hd = 0; hd < 2; hd++) {
		tc_open(&c, tgt.port);
		tc_ic(&c, hd, true, 7, 0); /* 32-byte alignment */
		cqe = tc_connect(&c, TC_NQN, 0, 0xffff, 31, 0);
		cr_assert_eq(cqe_sc(&cqe), 0);
		tc_prop_set(&c, NVME_REG_CC, NVME_CC_EN);
		s = sqe_admin(NVME_ADM_IDENTIFY, 9, 0, sizeof(id));
		s.cdw10 = NVME_ID_CNS_CTRL;
		tc_send_cmd(&c, &s, NULL, 0);
		cr_assert_eq(tc_recv(&c, &pdu, id, sizeof(id), true), 0);
		cr_assert_eq(pdu.type, NVME_TCP_C2H_DATA);
		cr_assert_eq(pdu.pdo, 32);
		cr_assert_eq(pdu.pad_len, hd ? 4 : 8);
		cr_assert_eq(pdu.data_len, sizeof(id));
		cr_assert(pdu.flags & NVME_TCP_F_DATA_LAST);
		cqe = tc_recv_rsp(&c);
		cr_assert_eq(cqe.cid, 9);
		tc_close(&c);
	}
}

Test(target, ic_refusals)
{
	__u8 b[NTCP_HDR_MAX];
	struct nvme_sqe s = { 0 };
	struct tc c;

	tgt_start(&tgt, "--size", "1M", NULL);
	tc_open(&c, tgt.port); /* pfv 1 */
	ntcp_enc_icreq(b, 0, 0, 0);
	b[8] = 1;
	tc_send(&c, b, 128);
	tc_expect_term(&c, NTCP_FES_UNSUPPORTED, 8, NULL);
	tc_close(&c);
	tc_open(&c, tgt.port); /* a capsule before the ICReq */
	tc_send(&c, b, ntcp_enc_cmd(b, &c.p, &s, 0));
	tc_expect_term(&c, NTCP_FES_SEQUENCE, 0, NULL);
	tc_close(&c);
	tc_start(&c, tgt.port); /* a second ICReq */
	tc_send(&c, b, ntcp_enc_icreq(b, 0, 0, 0));
	tc_expect_term(&c, NTCP_FES_SEQUENCE, 0, NULL);
	tc_close(&c);
}

/* Bad input: a C2HTermReq, that connection closed, the others served */

static void still_served(struct tc *adm)
{
	struct tc c;

	cr_assert_eq(tc_prop_get(adm, NVME_REG_VS, false), 0x10400);
	tc_admin(&c, tgt.port, NVME_DISC_NQN, false, false);
	tc_close(&c);
}

Test(target, bad_header_digest)
{
	struct nvme_sqe s = sqe_admin(NVME_ADM_IDENTIFY, 1, 0, 4096);
	__u8 b[NTCP_HDR_MAX + 128], bad[NTCP_TERM_MAX_PLEN];
	struct tc adm, c;
	char *log;

	tgt_start(&tgt, "--size", "1M", NULL);
	tc_admin(&adm, tgt.port, TC_NQN, true, true);
	tc_open(&c, tgt.port);
	tc_ic(&c, true, false, 0, 0);
	ntcp_enc_cmd(b, &c.p, &s, 0);
	b[72] ^= 0x10;
	tc_send(&c, b, 76);
	cr_assert_eq(tc_expect_term(&c, NTCP_FES_HDGST, 0, bad), 76);
	cr_assert_arr_eq(bad, b, 76, "the bad header comes back");
	tc_close(&c);
	still_served(&adm);
	log = tgt_log(&tgt);
	cr_assert(strstr(log, "ddp-target: 127.0.0.1:"), "%s", log);
	cr_assert(strstr(log, "header digest mismatch; connection closed"),
		  "%s", log);
	free(log);
}

Test(target, bad_data_digest)
{
	struct nvme_sqe s = sqe_rw(NVME_CMD_WRITE, 1, 0, 1, true);
	__u8 b[NTCP_HDR_MAX + 128], data[512];
	struct assoc a;
	__u32 dg;

	tgt_start(&tgt, "--size", "1M", NULL);
	assoc(&a, false, true, 0);
	memset(data, 7, sizeof(data));
	tc_send(&a.io, b, ntcp_enc_cmd(b, &a.io.p, &s, sizeof(data)));
	tc_send(&a.io, data, sizeof(data));
	dg = ~ntcp_crc32c(data, sizeof(data));
	tc_send(&a.io, &dg, sizeof(dg));
	tc_expect_term(&a.io, NTCP_FES_HDGST, 0, NULL);
	still_served(&a.adm);
}

Test(target, unknown_pdu_type)
{
	__u8 b[24] = { 0x0a, 0, 24, 0, 24 };
	struct tc adm, c;
	char *log;

	tgt_start(&tgt, "--size", "1M", NULL);
	tc_admin(&adm, tgt.port, TC_NQN, false, false);
	tc_start(&c, tgt.port);
	tc_send(&c, b, sizeof(b));
	cr_assert_eq(tc_expect_term(&c, NTCP_FES_INVALID_HDR, 0, NULL), 8);
	tc_close(&c);
	/* a controller-to-host type from the host */
	tc_start(&c, tgt.port);
	b[0] = NVME_TCP_RSP;
	tc_send(&c, b, sizeof(b));
	tc_expect_term(&c, NTCP_FES_INVALID_HDR, 0, NULL);
	tc_close(&c);
	still_served(&adm);
	log = tgt_log(&tgt);
	cr_assert(strstr(log,
			 "not expected from the other side; connection closed"),
		  "%s", log);
	free(log);
}

Test(target, h2c_data_out_of_range)
{
	struct nvme_sqe s = sqe_rw(NVME_CMD_WRITE, 7, 0, 16, false);
	__u8 data[16384] = { 0 };
	struct ntcp_pdu r2t;
	struct assoc a;
	struct tc q;
	int i;

	tgt_start(&tgt, "--size", "1M", "--pattern", NULL);
	assoc(&a, false, false, 0);
	for (i = 0; i < 4; i++) {
		__u16 qid = 2 + i;

		tc_ioq(&q, tgt.port, a.cntlid, qid, 31, 0, false, false);
		tc_send_cmd(&q, &s, NULL, 0);
		cr_assert_eq(tc_recv(&q, &r2t, NULL, 0, false), 0);
		cr_assert_eq(r2t.type, NVME_TCP_R2T);
		cr_assert_eq(r2t.data.len, 8192);
		switch (i) {
		case 0: /* beyond the R2T's end */
			tc_send_h2c(&q, 7, r2t.data.ttag, 0, data, 12288, true);
			tc_expect_term(&q, NTCP_FES_OUT_OF_RANGE, 16, NULL);
			break;
		case 1: /* not where the R2T starts */
			tc_send_h2c(&q, 7, r2t.data.ttag, 8192, data, 512,
				    true);
			tc_expect_term(&q, NTCP_FES_OUT_OF_RANGE, 12, NULL);
			break;
		case 2: /* an unknown transfer tag */
			tc_send_h2c(&q, 7, r2t.data.ttag + 9, 0, data, 512,
				    true);
			tc_expect_term(&q, NTCP_FES_INVALID_HDR, 10, NULL);
			break;
		case 3: /* another command's */
			tc_send_h2c(&q, 8, r2t.data.ttag, 0, data, 512, true);
			tc_expect_term(&q, NTCP_FES_INVALID_HDR, 8, NULL);
			break;
		}
		tc_close(&q);
	}
	/* the association's own I/O queue still works */
	read_pattern(&a.io, 1, 0, 1);
}

Test(target, host_termreq)
{
	__u8 b[NTCP_TERM_MAX_PLEN];
	struct assoc a;
	char *log, x;

	tgt_start(&tgt, "--size", "1M", NULL);
	assoc(&a, true, false, 0);
	tc_send(&a.io, b,
		ntcp_enc_term(b, NTCP_HOST, NTCP_FES_LIMIT, 16, "xyz", 3));
	cr_assert_eq(recv(a.io.fd, &x, 1, 0), 0, "closed, without a reply");
	still_served(&a.adm);
	log = tgt_log(&tgt);
	cr_assert(strstr(log, "H2CTermReq, FES 0x05, FEI 16"), "%s", log);
	free(log);
}

Test(target, cid_in_use)
{
	struct nvme_sqe s = sqe_rw(NVME_CMD_READ, 3, 0, 1, false);
	struct assoc a;

	tgt_start(&tgt, "--size", "1M", "--completion", "reverse:8", NULL);
	assoc(&a, false, false, 0);
	tc_send_cmd(&a.io, &s, NULL, 0);
	tc_send_cmd(&a.io, &s, NULL, 0);
	tc_expect_term(&a.io, NTCP_FES_SEQUENCE, 10, NULL);
	still_served(&a.adm);
}

/* Random bytes, and random headers with valid common fields, on many
 * connections: the target answers or closes, and never falls over. */
Test(target, garbage_never_crashes)
{
	unsigned int seed = time(NULL);
	__u8 b[512];
	struct tc adm, c;
	int i, j;

	tgt_start(&tgt, "--size", "1M", NULL);
	tc_admin(&adm, tgt.port, TC_NQN, false, false);
	srand(seed);
	cr_log_info("garbage: seed %u", seed);
	for (i = 0; i < 60; i++) {
		struct ntcp_pdu pdu;

		for (j = 0; j < (int)sizeof(b); j++)
			b[j] = rand();
		tc_open(&c, tgt.port);
		if (i & 1) {
			tc_ic(&c, i & 2, i & 4, 0, 0);
			b[0] = (__u8[]){ 2, 4, 6, 8 }[i / 2 % 4];
			b[2] = (__u8[]){ 24, 72, 24, 24 }[i / 2 % 4];
			b[4] = b[4] % 200;
			b[5] = b[6] = b[7] = 0;
		}
		send(c.fd, b, sizeof(b), MSG_NOSIGNAL);
		while (tc_recv(&c, &pdu, b, sizeof(b), false) == 0 &&
		       pdu.type != NVME_TCP_C2H_TERM)
			;
		tc_close(&c);
	}
	still_served(&adm);
}
