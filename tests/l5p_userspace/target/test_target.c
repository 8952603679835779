// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_target.c - ddp-target driven by a raw NVMe/TCP host over loopback:
 * connection initialization and digests, the admin commands, reads of the
 * pattern, writes in capsules and by R2T, the completion orders, the
 * DATA_SUCCESS path, and bad input ending only its own connection.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <criterion/criterion.h>
#include "ctl_client.h"
#include "nvme/pattern.h"

static struct tgt_proc tgt;

static void fini(void)
{
	tgt_stop(&tgt);
}

TestSuite(target, .fini = fini, .timeout = 30);

#define NS_16M (16u << 20)
#define NBLK_16M (NS_16M / 512)

/* An association: its admin queue, and I/O queue 1. */
struct assoc {
	struct tc adm, io;
	__u16 cntlid;
};

static void assoc(struct assoc *a, bool hdgst, bool ddgst, __u8 cattr)
{
	a->cntlid = tc_admin(&a->adm, tgt.port, TC_NQN, hdgst, ddgst);
	tc_ioq(&a->io, tgt.port, a->cntlid, 1, 31, cattr, hdgst, ddgst);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	cr_assert(p);
	return p;
}

/* Read nlb blocks at slba and check them against the pattern. */
static void read_pattern(struct tc *c, __u16 cid, __u64 slba, __u32 nlb)
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

/* Admin commands */

static struct nvme_cqe identify(struct tc *c, __u8 cns, __u32 nsid, __u8 *id)
{
	struct nvme_sqe s = sqe_admin(NVME_ADM_IDENTIFY, c->next_cid++, nsid,
				      NVME_IDENTIFY_LEN);

	s.cdw10 = cns;
	memset(id, 0xee, NVME_IDENTIFY_LEN);
	return tc_exec(c, &s, NULL, 0, id, NVME_IDENTIFY_LEN);
}

static struct nvme_cqe features(struct tc *c, bool set, __u8 fid, __u32 cdw11)
{
	struct nvme_sqe s =
		sqe_admin(set ? NVME_ADM_SET_FEATURES : NVME_ADM_GET_FEATURES,
			  c->next_cid++, 0, 0);

	s.cdw10 = fid;
	s.cdw11 = cdw11;
	return tc_exec(c, &s, NULL, 0, NULL, 0);
}

static __u32 get32(const __u8 *b, int off)
{
	__u32 v;

	memcpy(&v, b + off, 4);
	return v;
}

static __u64 get64(const __u8 *b, int off)
{
	__u64 v;

	memcpy(&v, b + off, 8);
	return v;
}

Test(target, admin_sequence)
{
	__u8 id[NVME_IDENTIFY_LEN], zero[NVME_IDENTIFY_LEN] = { 0 };
	struct nvme_cqe cqe;
	struct tc c;
	__u64 cap;
	__u16 cntlid;

	tgt_start(&tgt, "--size", "16M", "--max-queues", "6", NULL);
	tc_start(&c, tgt.port);
	/* nothing but Connect before Connect */
	cqe = identify(&c, NVME_ID_CNS_CTRL, 0, id);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_CMD_SEQ_ERROR);
	cqe = tc_connect(&c, "nqn.2024-01.io.ddp:nothere", 0, 0xffff, 31, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_CONNECT_INVALID_PARAM);
	cr_assert_eq(cqe.result, 1u << 16 | NVME_CONNECT_SUBNQN);
	cqe = tc_connect(&c, TC_NQN, 0, 0xffff, 128, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_CONNECT_INVALID_PARAM);
	cr_assert_eq(cqe.result, NVME_CONNECT_SQSIZE);

	cqe = tc_connect(&c, TC_NQN, 0, 0xffff, 31, 0);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(cqe.sqid, 0);
	cr_assert_eq(cqe.sqhd, 1);
	cr_assert_eq(cqe.status & 1, 0);
	cntlid = cqe.result & 0xffff;
	cr_assert(cntlid && cntlid != 0xffff);

	cap = tc_prop_get(&c, NVME_REG_CAP, true);
	cr_assert_eq(cap & 0xffff, 127, "MQES %llu", cap & 0xffff);
	cr_assert(cap & (1ull << 37), "CSS: NVM");
	cr_assert_eq(tc_prop_get(&c, NVME_REG_VS, false), 0x10400);
	cr_assert_eq(tc_prop_get(&c, NVME_REG_CSTS, false), 0);
	cqe = identify(&c, NVME_ID_CNS_CTRL, 0, id);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_CMD_SEQ_ERROR, "before CC.EN");

	tc_prop_set(&c, NVME_REG_CC, NVME_CC_EN | 6 << 16 | 4 << 20);
	cr_assert_eq(tc_prop_get(&c, NVME_REG_CSTS, false), NVME_CSTS_RDY);
	cr_assert_eq(tc_prop_get(&c, NVME_REG_CC, false),
		     NVME_CC_EN | 6 << 16 | 4 << 20);

	cqe = identify(&c, NVME_ID_CNS_CTRL, 0, id);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(id[NVME_IDC_CNTLID] | id[NVME_IDC_CNTLID + 1] << 8,
		     cntlid);
	cr_assert_eq(get32(id, NVME_IDC_VER), 0x10400);
	cr_assert(!memcmp(id + NVME_IDC_MN, "xdp-ddp", 7));
	cr_assert_neq(id[NVME_IDC_SN], ' ');
	cr_assert_neq(id[NVME_IDC_FR], ' ');
	cr_assert_eq(id[NVME_IDC_MDTS], 13);
	cr_assert_eq(id[NVME_IDC_SQES], 0x66);
	cr_assert_eq(id[NVME_IDC_CQES], 0x44);
	cr_assert_eq(id[NVME_IDC_MAXCMD] | id[NVME_IDC_MAXCMD + 1] << 8, 128);
	cr_assert_eq(get32(id, NVME_IDC_NN), 1);
	cr_assert_eq(get32(id, NVME_IDC_SGLS), 1u << 20 | 1);
	cr_assert_str_eq((char *)id + NVME_IDC_SUBNQN, TC_NQN);
	cr_assert_eq(get32(id, NVME_IDC_IOCCSZ), (16384 + 64) / 16);
	cr_assert_eq(get32(id, NVME_IDC_IORCSZ), 1);
	cr_assert_eq(id[NVME_IDC_ICDOFF] | id[NVME_IDC_ICDOFF + 1], 0);
	cr_assert_eq(id[NVME_IDC_MSDBD], 1);

	cqe = identify(&c, NVME_ID_CNS_NS, 1, id);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(get64(id, NVME_IDNS_NSZE), NBLK_16M);
	cr_assert_eq(get64(id, NVME_IDNS_NCAP), NBLK_16M);
	cr_assert_eq(get64(id, NVME_IDNS_NUSE), NBLK_16M);
	cr_assert_eq(id[NVME_IDNS_NLBAF], 0);
	cr_assert_eq(id[NVME_IDNS_FLBAS], 0);
	cr_assert_eq(id[NVME_IDNS_LBAF0 + 2], 9);
	cqe = identify(&c, NVME_ID_CNS_NS, 2, id);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_INVALID_NS);

	cqe = identify(&c, NVME_ID_CNS_NS_ACTIVE_LIST, 0, id);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(get32(id, 0), 1);
	cr_assert(!memcmp(id + 4, zero, sizeof(id) - 4));
	cqe = identify(&c, NVME_ID_CNS_NS_ACTIVE_LIST, 1, id);
	cr_assert(!memcmp(id, zero, sizeof(id)), "no namespace after 1");
	cqe = identify(&c, 0x10, 0, id);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_INVALID_FIELD);

	/* queues: 4 granted as asked, 100 cut to the 6 there are */
	cqe = features(&c, true, NVME_FEAT_NUM_QUEUES, 3 << 16 | 3);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(cqe.result, 3u << 16 | 3);
	cqe = features(&c, false, NVME_FEAT_NUM_QUEUES, 0);
	cr_assert_eq(cqe.result, 3u << 16 | 3);
	cqe = features(&c, true, NVME_FEAT_NUM_QUEUES, 99 << 16 | 99);
	cr_assert_eq(cqe.result, 5u << 16 | 5);
	cqe = features(&c, true, NVME_FEAT_KATO, 120000);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cqe = features(&c, false, NVME_FEAT_KATO, 0);
	cr_assert_eq(cqe.result, 120000);
	cqe = features(&c, true, 0x7e, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_INVALID_FIELD);

	cqe = tc_exec(&c,
		      &(struct nvme_sqe){ .opcode = NVME_ADM_KEEP_ALIVE,
					  .cid = 77 },
		      NULL, 0, NULL, 0);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(cqe.cid, 77);
	cqe = tc_exec(&c, &(struct nvme_sqe){ .opcode = 0x80, .cid = 78 }, NULL,
		      0, NULL, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_INVALID_OPCODE);
	/* the discovery log is the discovery controller's */
	cqe = tc_exec(&c,
		      &(struct nvme_sqe){ .opcode = NVME_ADM_GET_LOG_PAGE,
					  .flags = NVME_SGL_PSDT,
					  .cid = 79,
					  .sgl_len = 1024,
					  .sgl_type = NVME_SGL_TRANSPORT,
					  .cdw10 = NVME_LOG_DISCOVERY |
						   255 << 16 },
		      NULL, 0, id, sizeof(id));
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_INVALID_FIELD);

	/* shutdown */
	tc_prop_set(&c, NVME_REG_CC, NVME_CC_EN | 1 << 14);
	cr_assert_eq(tc_prop_get(&c, NVME_REG_CSTS, false) & 0xd,
		     NVME_CSTS_RDY | NVME_CSTS_SHST_DONE);
	tc_close(&c);
}

static struct nvme_cqe get_log(struct tc *c, __u32 numd, __u64 off, __u8 *buf,
			       __u32 len)
{
	struct nvme_sqe s =
		sqe_admin(NVME_ADM_GET_LOG_PAGE, c->next_cid++, 0, numd * 4);

	s.cdw10 = NVME_LOG_DISCOVERY | ((numd - 1) & 0xffff) << 16;
	s.cdw11 = (numd - 1) >> 16;
	s.cdw12 = (__u32)off;
	s.cdw13 = off >> 32;
	memset(buf, 0xee, len);
	return tc_exec(c, &s, NULL, 0, buf, len);
}

static void check_disc_entry(const __u8 *e, __u8 adrfam, const char *traddr)
{
	char port[16];

	snprintf(port, sizeof(port), "%d", tgt.port);
	cr_assert_eq(e[NVME_DLE_TRTYPE], NVME_TRTYPE_TCP);
	cr_assert_eq(e[NVME_DLE_ADRFAM], adrfam);
	cr_assert_eq(e[NVME_DLE_SUBTYPE], NVME_SUBTYPE_NVME);
	cr_assert_eq(e[NVME_DLE_PORTID] | e[NVME_DLE_PORTID + 1] << 8, 1);
	cr_assert_eq(e[NVME_DLE_CNTLID] | e[NVME_DLE_CNTLID + 1] << 8, 0xffff);
	cr_assert_eq(e[NVME_DLE_ASQSZ] | e[NVME_DLE_ASQSZ + 1] << 8, 128);
	cr_assert_str_eq((char *)e + NVME_DLE_TRSVCID, port);
	cr_assert_str_eq((char *)e + NVME_DLE_SUBNQN, TC_NQN);
	cr_assert_str_eq((char *)e + NVME_DLE_TRADDR, traddr);
}

Test(target, discovery)
{
	__u8 id[NVME_IDENTIFY_LEN], page[4096];
	struct nvme_cqe cqe;
	struct tc c, q;
	__u16 cntlid;

	tgt_start(&tgt, "--size", "1M", NULL);
	cntlid = tc_admin(&c, tgt.port, NVME_DISC_NQN, false, false);
	cqe = identify(&c, NVME_ID_CNS_CTRL, 0, id);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_str_eq((char *)id + NVME_IDC_SUBNQN, NVME_DISC_NQN);
	cr_assert_eq(id[111], 2, "CNTRLTYPE: discovery");
	cr_assert_eq(get32(id, NVME_IDC_NN), 0);

	cqe = get_log(&c, 2048 / 4, 0, page, 2048);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(get64(page, NVME_DLP_NUMREC), 1);
	cr_assert_eq(page[NVME_DLP_RECFMT], 0);
	check_disc_entry(page + NVME_DLP_ENTRY, NVME_ADRFAM_IP4, "127.0.0.1");
	/* the header alone, then the entry alone, by offset */
	cqe = get_log(&c, 4, 0, page, 16);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(get64(page, NVME_DLP_NUMREC), 1);
	cqe = get_log(&c, 256, NVME_DLP_ENTRY, page, 1024);
	cr_assert_eq(cqe_sc(&cqe), 0);
	check_disc_entry(page, NVME_ADRFAM_IP4, "127.0.0.1");
	/* past the end: zeros */
	cqe = get_log(&c, 64, 4096, page, 256);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(get64(page, 0) | get64(page, 248), 0);
	cqe = get_log(&c, 4, 2, page, 16);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_INVALID_FIELD, "unaligned offset");

	/* no I/O queues on a discovery controller */
	tc_start(&q, tgt.port);
	cqe = tc_connect(&q, NVME_DISC_NQN, 1, cntlid, 31, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_CONNECT_INVALID_PARAM);
	tc_close(&q);
	tc_close(&c);
}

Test(target, ipv6_discovery)
{
	__u8 page[2048];
	struct nvme_cqe cqe;
	struct tc c;
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM, 0), err;

	err = fd < 0 || bind(fd, (void *)&lo, sizeof(lo));
	if (fd >= 0)
		close(fd);
	if (err)
		cr_skip_test("no IPv6 loopback");
	tgt_start(&tgt, "-a", "::1", "--size", "1M", NULL);
	tc_open_addr(&c, "::1", tgt.port);
	tc_ic(&c, false, false, 0, 0);
	cqe = tc_connect(&c, NVME_DISC_NQN, 0, 0xffff, 31, 0);
	cr_assert_eq(cqe_sc(&cqe), 0);
	tc_prop_set(&c, NVME_REG_CC, NVME_CC_EN);
	cqe = get_log(&c, 512, 0, page, sizeof(page));
	cr_assert_eq(cqe_sc(&cqe), 0);
	check_disc_entry(page + NVME_DLP_ENTRY, NVME_ADRFAM_IP6, "::1");
	tc_close(&c);
}

Test(target, io_queue_connect_rules)
{
	struct nvme_cqe cqe;
	struct tc adm, q, q2;
	__u16 cntlid;
	char x;

	tgt_start(&tgt, "--size", "1M", "--max-queues", "2", "--queue-size",
		  "64", NULL);
	cntlid = tc_admin(&adm, tgt.port, TC_NQN, false, false);
	tc_start(&q, tgt.port);
	cqe = tc_connect(&q, TC_NQN, 3, cntlid, 31, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_CONNECT_INVALID_PARAM);
	cr_assert_eq(cqe.result, NVME_CONNECT_QID);
	cqe = tc_connect(&q, TC_NQN, 1, cntlid + 1, 31, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_CONNECT_INVALID_PARAM);
	cr_assert_eq(cqe.result, 1u << 16 | NVME_CONNECT_CNTLID);
	cqe = tc_connect_as(&q, "nqn.2024-01.io.ddp:other", TC_NQN, 1, cntlid,
			    31, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_CONNECT_INVALID_PARAM);
	cr_assert_eq(cqe.result, 1u << 16 | NVME_CONNECT_HOSTNQN);
	cqe = tc_connect(&q, TC_NQN, 1, cntlid, 64, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_CONNECT_INVALID_PARAM);
	cqe = tc_connect(&q, TC_NQN, 1, cntlid, 63, 0);
	cr_assert_eq(cqe_sc(&cqe), 0);
	cr_assert_eq(cqe.sqid, 1);
	tc_start(&q2, tgt.port); /* the same queue twice */
	cqe = tc_connect(&q2, TC_NQN, 1, cntlid, 63, 0);
	cr_assert_eq(cqe_sc(&cqe), NVME_SC_CONNECT_INVALID_PARAM);
	cqe = tc_connect(&q2, TC_NQN, 2, cntlid, 63, 0);
	cr_assert_eq(cqe_sc(&cqe), 0);
	/* the controller goes with its admin queue, and its queues too */
	tc_close(&adm);
	cr_assert_eq(recv(q.fd, &x, 1, 0), 0);
	cr_assert_eq(recv(q2.fd, &x, 1, 0), 0);
	tc_close(&q);
	tc_close(&q2);
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

/* The command line */

static int run(const char *const *argv, char *err, size_t len)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	if (!pid) {
		dup2(p[1], 2);
		dup2(p[1], 1);
		execv(DDP_BUILD "/ddp-target", (char **)argv);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], err, len - 1);
	err[n > 0 ? n : 0] = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(cli, errors_and_exit_codes)
{
	const char *bin = DDP_BUILD "/ddp-target";
	char out[4096];

	cr_assert_eq(run((const char *[]){ bin, "--size", "12x", NULL }, out,
			 sizeof(out)),
		     2);
	cr_assert(strstr(out, "--size '12x': not a size"), "%s", out);
	cr_assert(strstr(out, "usage: ddp-target"), "%s", out);
	cr_assert_eq(run((const char *[]){ bin, "--completion", "lifo", NULL },
			 out, sizeof(out)),
		     2);
	cr_assert(strstr(out, "expected ooo, fifo or reverse:N"), "%s", out);
	cr_assert_eq(run((const char *[]){ bin, "--size", "1M", "--file", "/x",
					   NULL },
			 out, sizeof(out)),
		     2);
	cr_assert_eq(run((const char *[]){ bin, "--file", "/nonexistent/ns.img",
					   NULL },
			 out, sizeof(out)),
		     1);
	cr_assert(strstr(out, "couldn't open /nonexistent/ns.img"), "%s", out);
	cr_assert_eq(run((const char *[]){ bin, "-a", "localhost", NULL }, out,
			 sizeof(out)),
		     1);
	cr_assert(strstr(out, "not an IPv4 or IPv6 address"), "%s", out);
	cr_assert_eq(run((const char *[]){ bin, "--help", NULL }, out,
			 sizeof(out)),
		     0);
	cr_assert(strstr(out, "--completion"), "%s", out);
}
