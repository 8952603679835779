// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_admin.c - ddp-target's admin commands: Connect, the properties,
 * Identify, the features, the discovery controller and its log, on IPv4
 * and IPv6, and the rules for connecting I/O queues.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <criterion/criterion.h>
#include "target_fixture.h"

/* Admin commands */

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
