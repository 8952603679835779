// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_codec.c - the NVMe/TCP PDU codec: every PDU type encoded and parsed
 * back, every rejection of ntcp_ch_check() and ntcp_hdr_parse() with its
 * FES and FEI, and the CRC32C digest against known vectors.
 */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>
#include "nvme/nvme_tcp_pdu.h"

static const struct ntcp_params p_plain = { .ic_done = true,
					    .maxh2cdata = 65536 };
static const struct ntcp_params p_dgst = { .ic_done = true,
					   .hdgst = true,
					   .ddgst = true,
					   .maxh2cdata = 65536 };

static int parse(const struct ntcp_params *p, enum ntcp_side side,
		 const void *buf, struct ntcp_pdu *pdu, struct ntcp_err *e)
{
	__u32 hl;
	int err = ntcp_ch_check(p, side, buf, &hl, e);

	return err ? err : ntcp_hdr_parse(p, side, buf, hl, pdu, e);
}

static void parse_ok(const struct ntcp_params *p, enum ntcp_side side,
		     const void *buf, struct ntcp_pdu *pdu)
{
	struct ntcp_err e = { 0 };

	cr_assert_eq(parse(p, side, buf, pdu, &e), 0, "rejected: %s", e.why);
}

static void rejects(const struct ntcp_params *p, enum ntcp_side side,
		    const void *buf, __u16 fes, __u32 fei)
{
	struct ntcp_pdu pdu;
	struct ntcp_err e = { 0 };

	cr_assert_eq(parse(p, side, buf, &pdu, &e), -EPROTO, "accepted");
	cr_assert_eq(e.fes, fes, "FES 0x%x, expected 0x%x (%s)", e.fes, fes,
		     e.why);
	cr_assert_eq(e.fei, fei, "FEI %u, expected %u (%s)", e.fei, fei, e.why);
	cr_assert(e.why && *e.why);
}

static void put32(__u8 *b, int off, __u32 v)
{
	memcpy(b + off, &v, 4);
}

/* After a header is altered, so that only the intended check fails. */
static void redigest(__u8 *b)
{
	if (b[1] & NVME_TCP_F_HDGST)
		put32(b, b[2], ntcp_crc32c(b, b[2]));
}

/* CRC32C */

Test(crc32c, known_vectors)
{
	__u8 buf[32];
	int i;

	cr_assert_eq(ntcp_crc32c("123456789", 9), 0xe3069283);
	cr_assert_eq(ntcp_crc32c("", 0), 0);
	/* RFC 3720, B.4 */
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(ntcp_crc32c(buf, 32), 0x8a9136aa);
	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(ntcp_crc32c(buf, 32), 0x62a8ab43);
	for (i = 0; i < 32; i++)
		buf[i] = i;
	cr_assert_eq(ntcp_crc32c(buf, 32), 0x46dd794e);
	for (i = 0; i < 32; i++)
		buf[i] = 31 - i;
	cr_assert_eq(ntcp_crc32c(buf, 32), 0x113fdb5c);
}

Test(crc32c, in_pieces)
{
	const char *s = "123456789";
	__u32 crc = ~0u;

	crc = ntcp_crc32c_update(crc, s, 4);
	crc = ntcp_crc32c_update(crc, s + 4, 5);
	cr_assert_eq(~crc, 0xe3069283);
}

Test(crc32c, header_digest_stored_little_endian)
{
	struct nvme_cqe cqe = { .cid = 7 };
	__u8 b[NTCP_HDR_MAX];
	__u32 crc;

	cr_assert_eq(ntcp_enc_rsp(b, &p_dgst, &cqe), 28);
	crc = ntcp_crc32c(b, 24);
	cr_assert_eq(b[24] | b[25] << 8 | b[26] << 16 | (__u32)b[27] << 24,
		     crc);
}

/* Round trips */

Test(codec, icreq_icresp)
{
	struct ntcp_params p0 = { 0 };
	struct ntcp_pdu pdu;
	__u8 b[NTCP_HDR_MAX + 128];

	cr_assert_eq(ntcp_enc_icreq(b, 5, 3, 7), 128);
	parse_ok(&p0, NTCP_CTRL, b, &pdu);
	cr_assert_eq(pdu.type, NVME_TCP_ICREQ);
	cr_assert_eq(pdu.hlen, 128);
	cr_assert_eq(pdu.plen, 128);
	cr_assert_eq(pdu.pdo, 0);
	cr_assert_eq(pdu.hdr_len, 128);
	cr_assert_eq(pdu.ic.pfv, 0);
	cr_assert_eq(pdu.ic.pda, 5);
	cr_assert_eq(pdu.ic.dgst, 3);
	cr_assert_eq(pdu.ic.maxdata, 7);

	cr_assert_eq(ntcp_enc_icresp(b, 2, 1, 131072), 128);
	parse_ok(&p0, NTCP_HOST, b, &pdu);
	cr_assert_eq(pdu.type, NVME_TCP_ICRESP);
	cr_assert_eq(pdu.ic.pda, 2);
	cr_assert_eq(pdu.ic.dgst, 1);
	cr_assert_eq(pdu.ic.maxdata, 131072);
}

Test(codec, termreq_both_ways)
{
	struct ntcp_params p0 = { 0 };
	struct ntcp_pdu pdu;
	__u8 b[NTCP_HDR_MAX + 128], bad[200];
	size_t i;

	for (i = 0; i < sizeof(bad); i++)
		bad[i] = i;
	cr_assert_eq(ntcp_enc_term(b, NTCP_CTRL, NTCP_FES_HDGST, 10, bad, 30),
		     54);
	parse_ok(&p0, NTCP_HOST, b, &pdu); /* before IC too */
	parse_ok(&p_dgst, NTCP_HOST, b, &pdu);
	cr_assert_eq(pdu.type, NVME_TCP_C2H_TERM);
	cr_assert_eq(pdu.plen, 54);
	cr_assert_eq(pdu.hdr_len, 24); /* never a header digest */
	cr_assert_eq(pdu.data_len, 30);
	cr_assert_eq(pdu.term.fes, NTCP_FES_HDGST);
	cr_assert_eq(pdu.term.fei, 10);
	cr_assert_arr_eq(b + 24, bad, 30);

	/* at most 128 bytes of the bad PDU */
	cr_assert_eq(ntcp_enc_term(b, NTCP_HOST, NTCP_FES_LIMIT, 16, bad,
				   sizeof(bad)),
		     NTCP_TERM_MAX_PLEN);
	parse_ok(&p_plain, NTCP_CTRL, b, &pdu);
	cr_assert_eq(pdu.type, NVME_TCP_H2C_TERM);
	cr_assert_eq(pdu.data_len, 128);
	cr_assert_eq(pdu.term.fes, NTCP_FES_LIMIT);
}

Test(codec, capsule_cmd)
{
	struct nvme_sqe sqe = { .opcode = 1,
				.cid = 0xbeef,
				.nsid = 1,
				.cdw10 = 0x12345678,
				.cdw15 = 0xabcdef01 };
	const struct ntcp_params *ps[] = { &p_plain, &p_dgst };
	struct ntcp_params pda;
	struct ntcp_pdu pdu;
	__u8 b[NTCP_HDR_MAX + 128];
	int i;

	for (i = 0; i < 2; i++) {
		__u32 hd = ps[i]->hdgst ? 4 : 0, dd = ps[i]->ddgst ? 4 : 0;

		cr_assert_eq(ntcp_enc_cmd(b, ps[i], &sqe, 0), 72 + hd);
		parse_ok(ps[i], NTCP_CTRL, b, &pdu);
		cr_assert_eq(pdu.type, NVME_TCP_CMD);
		cr_assert_eq(pdu.plen, 72 + hd);
		cr_assert_eq(pdu.pdo, 0);
		cr_assert_eq(pdu.data_len, 0);
		cr_assert_arr_eq(&pdu.cmd, &sqe, sizeof(sqe));

		cr_assert_eq(ntcp_enc_cmd(b, ps[i], &sqe, 100), 72 + hd);
		parse_ok(ps[i], NTCP_CTRL, b, &pdu);
		cr_assert_eq(pdu.pdo, 72 + hd);
		cr_assert_eq(pdu.plen, 72 + hd + 100 + dd);
		cr_assert_eq(pdu.data_len, 100);
		cr_assert_eq(pdu.pad_len, 0);
		cr_assert_eq(pdu.ddgst, !!dd);
		cr_assert_eq(!!(pdu.flags & NVME_TCP_F_HDGST), !!hd);
		cr_assert_eq(!!(pdu.flags & NVME_TCP_F_DDGST), !!dd);
	}
	/* in-capsule data aligned to the controller's CPDA */
	pda = p_dgst;
	pda.cpda = 3;
	cr_assert_eq(ntcp_enc_cmd(b, &pda, &sqe, 64), 80);
	parse_ok(&pda, NTCP_CTRL, b, &pdu);
	cr_assert_eq(pdu.pdo, 80);
	cr_assert_eq(pdu.pad_len, 4);
	cr_assert_eq(pdu.data_len, 64);
}

Test(codec, capsule_resp)
{
	struct nvme_cqe cqe = { .result = 0x11223344,
				.sqhd = 5,
				.sqid = 2,
				.cid = 0x4242,
				.status = 0x80 << 1 };
	const struct ntcp_params *ps[] = { &p_plain, &p_dgst };
	struct ntcp_pdu pdu;
	__u8 b[NTCP_HDR_MAX + 128];
	int i;

	for (i = 0; i < 2; i++) {
		cr_assert_eq(ntcp_enc_rsp(b, ps[i], &cqe),
			     24 + (ps[i]->hdgst ? 4 : 0));
		parse_ok(ps[i], NTCP_HOST, b, &pdu);
		cr_assert_eq(pdu.type, NVME_TCP_RSP);
		cr_assert_arr_eq(&pdu.rsp, &cqe, sizeof(cqe));
		cr_assert_eq(nvme_cqe_status(&pdu.rsp), 0x80);
		cr_assert_eq(b[20] | b[21] << 8, 0x4242); /* CID at 20 */
	}
}

Test(codec, r2t)
{
	const struct ntcp_params *ps[] = { &p_plain, &p_dgst };
	struct ntcp_pdu pdu;
	__u8 b[NTCP_HDR_MAX + 128];
	int i;

	for (i = 0; i < 2; i++) {
		ntcp_enc_r2t(b, ps[i], 9, 3, 4096, 8192);
		parse_ok(ps[i], NTCP_HOST, b, &pdu);
		cr_assert_eq(pdu.type, NVME_TCP_R2T);
		cr_assert_eq(pdu.data.cccid, 9);
		cr_assert_eq(pdu.data.ttag, 3);
		cr_assert_eq(pdu.data.off, 4096);
		cr_assert_eq(pdu.data.len, 8192);
		cr_assert_eq(pdu.data_len, 0);
	}
}

Test(codec, h2c_data)
{
	const struct ntcp_params *ps[] = { &p_plain, &p_dgst };
	struct ntcp_pdu pdu;
	__u8 b[NTCP_HDR_MAX + 128];
	int i;

	for (i = 0; i < 2; i++) {
		__u32 hd = ps[i]->hdgst ? 4 : 0, dd = ps[i]->ddgst ? 4 : 0;

		cr_assert_eq(ntcp_enc_data(b, ps[i], NVME_TCP_H2C_DATA, 12, 5,
					   512, 1000, NVME_TCP_F_DATA_LAST),
			     24 + hd);
		parse_ok(ps[i], NTCP_CTRL, b, &pdu);
		cr_assert_eq(pdu.type, NVME_TCP_H2C_DATA);
		cr_assert_eq(pdu.data.cccid, 12);
		cr_assert_eq(pdu.data.ttag, 5);
		cr_assert_eq(pdu.data.off, 512);
		cr_assert_eq(pdu.data.len, 1000);
		cr_assert_eq(pdu.data_len, 1000);
		cr_assert_eq(pdu.plen, 24 + hd + 1000 + dd);
		cr_assert(pdu.flags & NVME_TCP_F_DATA_LAST);
	}
}

Test(codec, c2h_data_padded_to_hpda)
{
	struct ntcp_params p = p_dgst;
	struct ntcp_pdu pdu;
	__u8 b[NTCP_HDR_MAX + 128];

	/* no padding: data right after header and digest */
	cr_assert_eq(ntcp_enc_data(b, &p, NVME_TCP_C2H_DATA, 1, 0, 0, 4096,
				   NVME_TCP_F_DATA_LAST |
					   NVME_TCP_F_DATA_SUCCESS),
		     28);
	parse_ok(&p, NTCP_HOST, b, &pdu);
	cr_assert_eq(pdu.type, NVME_TCP_C2H_DATA);
	cr_assert_eq(pdu.pdo, 28);
	cr_assert_eq(pdu.flags & 0xc,
		     NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	/* hpda 7: 32-byte alignment */
	p.hpda = 7;
	cr_assert_eq(ntcp_enc_data(b, &p, NVME_TCP_C2H_DATA, 1, 0, 8192, 4096,
				   0),
		     32);
	parse_ok(&p, NTCP_HOST, b, &pdu);
	cr_assert_eq(pdu.pdo, 32);
	cr_assert_eq(pdu.pad_len, 4);
	cr_assert_eq(pdu.data.off, 8192);
	cr_assert_eq(pdu.data_len, 4096);
	cr_assert_eq(pdu.plen, 32 + 4096 + 4);
	/* hpda 31: 128 */
	p.hpda = 31;
	cr_assert_eq(ntcp_enc_data(b, &p, NVME_TCP_C2H_DATA, 1, 0, 0, 16, 0),
		     128);
	parse_ok(&p, NTCP_HOST, b, &pdu);
	cr_assert_eq(pdu.pad_len, 100);
}

/* Rejections: ntcp_ch_check() */

Test(reject, type_from_the_wrong_side)
{
	__u8 b[NTCP_HDR_MAX + 128];
	struct nvme_cqe cqe = { 0 };

	ntcp_enc_rsp(b, &p_plain, &cqe);
	rejects(&p_plain, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 0);
	ntcp_enc_data(b, &p_plain, NVME_TCP_H2C_DATA, 1, 0, 0, 8, 0);
	rejects(&p_plain, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 0);
}

Test(reject, unknown_type)
{
	__u8 b[NTCP_HDR_MAX] = { 0x08, 0, 24, 0, 24 };

	rejects(&p_plain, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 0);
	rejects(&p_plain, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 0);
	b[0] = 0x0a;
	rejects(&p_plain, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 0);
	b[0] = 0xff;
	rejects(&p_plain, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 0);
}

Test(reject, sequence)
{
	struct ntcp_params p0 = { 0 };
	struct nvme_sqe sqe = { 0 };
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_icreq(b, 0, 0, 0);
	rejects(&p_plain, NTCP_CTRL, b, NTCP_FES_SEQUENCE, 0);
	ntcp_enc_icresp(b, 0, 0, 65536);
	rejects(&p_plain, NTCP_HOST, b, NTCP_FES_SEQUENCE, 0);
	ntcp_enc_cmd(b, &p0, &sqe, 0);
	rejects(&p0, NTCP_CTRL, b, NTCP_FES_SEQUENCE, 0);
}

Test(reject, header_length)
{
	struct nvme_sqe sqe = { 0 };
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_cmd(b, &p_plain, &sqe, 0);
	b[2] = 70;
	rejects(&p_plain, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 2);
	ntcp_enc_icreq(b, 0, 0, 0);
	b[2] = 24;
	rejects(&(struct ntcp_params){ 0 }, NTCP_CTRL, b, NTCP_FES_INVALID_HDR,
		2);
}

Test(reject, header_digest_flag)
{
	struct nvme_sqe sqe = { 0 };
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_cmd(b, &p_dgst, &sqe, 0); /* flag set, not negotiated */
	rejects(&p_plain, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 1);
	ntcp_enc_cmd(b, &p_plain, &sqe, 0); /* negotiated, flag clear */
	rejects(&p_dgst, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 1);
}

Test(reject, plen_below_header)
{
	struct nvme_sqe sqe = { 0 };
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_cmd(b, &p_dgst, &sqe, 0);
	put32(b, 4, 72); /* the digest is missing */
	rejects(&p_dgst, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 4);
}

/* Rejections: ntcp_hdr_parse() */

Test(reject, header_length_given)
{
	struct nvme_sqe sqe = { 0 };
	struct ntcp_pdu pdu;
	struct ntcp_err e;
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_cmd(b, &p_dgst, &sqe, 0);
	cr_assert_eq(ntcp_hdr_parse(&p_dgst, NTCP_CTRL, b, 72, &pdu, &e),
		     -EPROTO);
	cr_assert_eq(e.fes, NTCP_FES_INVALID_HDR);
	cr_assert_eq(e.fei, 2);
}

Test(reject, header_digest)
{
	struct nvme_sqe sqe = { .cid = 3 };
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_cmd(b, &p_dgst, &sqe, 0);
	b[72] ^= 1;
	rejects(&p_dgst, NTCP_CTRL, b, NTCP_FES_HDGST, 0);
	ntcp_enc_cmd(b, &p_dgst, &sqe, 0);
	b[20] ^= 0x80; /* a header byte */
	rejects(&p_dgst, NTCP_CTRL, b, NTCP_FES_HDGST, 0);
}

Test(reject, ic_fields)
{
	struct ntcp_params p0 = { 0 };
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_icreq(b, 0, 0, 0);
	put32(b, 4, 132);
	rejects(&p0, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 4);
	ntcp_enc_icreq(b, 0, 0, 0);
	b[3] = 8;
	rejects(&p0, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 3);
	ntcp_enc_icreq(b, 0, 0, 0);
	b[8] = 1;
	rejects(&p0, NTCP_CTRL, b, NTCP_FES_UNSUPPORTED, 8);
	ntcp_enc_icreq(b, 32, 0, 0);
	rejects(&p0, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 10);
	ntcp_enc_icreq(b, 0, 4, 0);
	rejects(&p0, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 11);
	ntcp_enc_icresp(b, 0, 0, 1024);
	rejects(&p0, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 12);
	ntcp_enc_icresp(b, 0, 0, 4098);
	rejects(&p0, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 12);
}

Test(reject, termreq_too_long)
{
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_term(b, NTCP_HOST, 1, 0, NULL, 0);
	put32(b, 4, NTCP_TERM_MAX_PLEN + 1);
	rejects(&p_plain, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 4);
}

Test(reject, capsule_layout)
{
	struct ntcp_params pda = p_dgst;
	struct nvme_sqe sqe = { 0 };
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_cmd(b, &p_dgst, &sqe, 0);
	put32(b, 4, 76 + 16); /* data without a data offset */
	redigest(b);
	rejects(&p_dgst, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 4);
	ntcp_enc_cmd(b, &p_dgst, &sqe, 16);
	b[3] = 78; /* not after the header digest */
	redigest(b);
	rejects(&p_dgst, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 3);
	ntcp_enc_cmd(b, &p_dgst, &sqe, 16);
	b[3] = 72; /* inside the header digest */
	redigest(b);
	rejects(&p_dgst, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 3);
	pda.cpda = 3; /* 16-byte alignment: 80, not 96 */
	ntcp_enc_cmd(b, &pda, &sqe, 16);
	b[3] = 96;
	put32(b, 4, 96 + 16 + 4);
	redigest(b);
	rejects(&pda, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 3);
	/* pdo == plen with a data digest: shorter than its data digest */
	ntcp_enc_cmd(b, &p_dgst, &sqe, 16);
	put32(b, 4, 76);
	redigest(b);
	rejects(&p_dgst, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 4);
}

Test(reject, data_offset_beyond_pdu)
{
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_data(b, &p_plain, NVME_TCP_C2H_DATA, 1, 0, 0, 8, 0);
	b[3] = 32; /* pdo 32 with hpda 0 is neither right after nor aligned */
	put32(b, 4, 30);
	rejects(&p_plain, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 3);
}

Test(reject, data_digest_flag)
{
	struct nvme_sqe sqe = { 0 };
	__u8 b[NTCP_HDR_MAX + 128];
	struct ntcp_params ponly = p_dgst;

	ponly.ddgst = false;
	ntcp_enc_cmd(b, &p_dgst, &sqe, 16); /* DDGSTF, not negotiated */
	rejects(&ponly, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 1);
	ntcp_enc_data(b, &ponly, NVME_TCP_C2H_DATA, 1, 0, 0, 8, 0);
	rejects(&p_dgst, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 1);
}

Test(reject, response_and_r2t_with_data)
{
	struct nvme_cqe cqe = { 0 };
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_rsp(b, &p_plain, &cqe);
	b[3] = 24;
	rejects(&p_plain, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 3);
	ntcp_enc_rsp(b, &p_plain, &cqe);
	put32(b, 4, 28);
	rejects(&p_plain, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 4);
	ntcp_enc_r2t(b, &p_plain, 1, 1, 0, 512);
	b[3] = 24;
	rejects(&p_plain, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 3);
	ntcp_enc_r2t(b, &p_plain, 1, 1, 0, 512);
	put32(b, 4, 32);
	rejects(&p_plain, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 4);
	ntcp_enc_r2t(b, &p_dgst, 1, 1, 0, 0);
	rejects(&p_dgst, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 16);
}

Test(reject, data_length)
{
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_data(b, &p_dgst, NVME_TCP_C2H_DATA, 1, 0, 0, 512, 0);
	put32(b, 16, 500); /* DATAL against PLEN */
	redigest(b);
	rejects(&p_dgst, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 16);
	ntcp_enc_data(b, &p_dgst, NVME_TCP_H2C_DATA, 1, 0, 0, 512, 0);
	put32(b, 16, 0);
	put32(b, 4, 28 + 4);
	redigest(b);
	rejects(&p_dgst, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 16);
}

Test(reject, data_flags)
{
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_data(b, &p_plain, NVME_TCP_H2C_DATA, 1, 0, 0, 8,
		      NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	rejects(&p_plain, NTCP_CTRL, b, NTCP_FES_INVALID_HDR, 1);
	ntcp_enc_data(b, &p_plain, NVME_TCP_C2H_DATA, 1, 0, 0, 8,
		      NVME_TCP_F_DATA_SUCCESS);
	rejects(&p_plain, NTCP_HOST, b, NTCP_FES_INVALID_HDR, 1);
}

Test(reject, h2c_beyond_maxh2cdata)
{
	__u8 b[NTCP_HDR_MAX + 128];

	ntcp_enc_data(b, &p_plain, NVME_TCP_H2C_DATA, 1, 0, 0, 65536, 0);
	parse_ok(&p_plain, NTCP_CTRL, b, &(struct ntcp_pdu){ 0 });
	ntcp_enc_data(b, &p_plain, NVME_TCP_H2C_DATA, 1, 0, 0, 65540, 0);
	rejects(&p_plain, NTCP_CTRL, b, NTCP_FES_LIMIT, 16);
}

/* ---- where PDUs begin, ahead of a reader (resync answers) ---------------- */

/* A stream of PDUs as a socket would hold it: bytes from seq0, len of them */
struct stream {
	__u32 seq0;
	__u8 b[4096];
	__u32 len;
};

static int stream_peek(void *arg, __u32 seq, void *buf, __u32 len)
{
	struct stream *s = arg;
	__u32 off = seq - s->seq0;

	if (off > s->len || len > s->len - off)
		return -EAGAIN;
	memcpy(buf, s->b + off, len);
	return 0;
}

/* A C2HData-like PDU of plen bytes at the stream's end */
static void stream_pdu(struct stream *s, __u32 plen)
{
	memset(s->b + s->len, 0xaa, plen);
	s->b[s->len] = NVME_TCP_C2H_DATA;
	put32(s->b + s->len, 4, plen);
	s->len += plen;
}

/* A walk from at (ntcp_pdu_begins), where it stopped in *stop */
static int begins_from(__u32 at, __u32 seq, struct stream *s, int max,
		       __u32 *stop)
{
	int r = ntcp_pdu_begins(&at, seq, stream_peek, s, max);

	if (stop)
		*stop = at;
	return r;
}

static int begins(__u32 at, __u32 seq, struct stream *s, int max)
{
	return begins_from(at, seq, s, max, NULL);
}

Test(codec, pdu_begins_where_the_lengths_say)
{
	/* across the wrap of sequence space */
	struct stream s = { .seq0 = 0xfffffff0u };
	__u32 a = s.seq0, b = a + 124, c = b + 200, d = c + 24, stop;

	stream_pdu(&s, 124);
	stream_pdu(&s, 200);
	stream_pdu(&s, 24);
	cr_assert_eq(begins(a, a, &s, 8), 1);
	cr_assert_eq(begins(a, b, &s, 8), 1);
	cr_assert_eq(begins(a, c, &s, 8), 1);
	cr_assert_eq(begins(a, d, &s, 8), 1);
	/* a header-like byte inside a PDU is not a PDU: the engine's false
	 * candidate is denied */
	cr_assert_eq(begins(a, b + 100, &s, 8), 0);
	cr_assert_eq(begins(a, a + 1, &s, 8), 0);
	cr_assert_eq(begins(b, c - 8, &s, 8), 0);
	/* from a later start, only what lies after it */
	cr_assert_eq(begins(c, d, &s, 8), 1);
	cr_assert_eq(begins(c, b, &s, 8), 0);
	/* a walk stops where a PDU begins, not past what it looked for */
	cr_assert_eq(begins_from(a, b + 100, &s, 8, &stop), 0);
	cr_assert_eq(stop, c);
	cr_assert_eq(begins_from(a, d + 50, &s, 8, &stop), -1);
	cr_assert_eq(stop, d);
}

Test(codec, pdu_begins_unknown_until_the_bytes_are_there)
{
	struct stream s = { .seq0 = 1000 };

	stream_pdu(&s, 124);
	s.b[s.len] = NVME_TCP_C2H_DATA; /* the next header: 3 bytes of it */
	s.len += 3;
	/* its length is not there yet: neither yes nor no */
	cr_assert_eq(begins(1000, 1124 + 500, &s, 8), -1);
	cr_assert_eq(begins(1000, 1124, &s, 8), 1);
	/* nor further than the reader would walk */
	s.len = 0;
	stream_pdu(&s, 8);
	stream_pdu(&s, 8);
	stream_pdu(&s, 8);
	cr_assert_eq(begins(1000, 1024, &s, 2), -1);
	cr_assert_eq(begins(1000, 1016, &s, 2), 1);
}

Test(codec, pdu_begins_nowhere_after_a_broken_length)
{
	struct stream s = { .seq0 = 0 };

	stream_pdu(&s, 124);
	stream_pdu(&s, 64);
	put32(s.b + 124, 4, 3); /* shorter than a common header */
	cr_assert_eq(begins(0, 127, &s, 8), 0);
	cr_assert_eq(begins(0, 188, &s, 8), 0);
}
