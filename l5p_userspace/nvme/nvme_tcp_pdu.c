// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nvme_tcp_pdu.c - NVMe/TCP PDU checks, decoding, encoding and digests. */
#include <errno.h>
#include <string.h>
#include <isa-l/crc.h>
#include "nvme_tcp_pdu.h"

__u32 ntcp_crc32c_update(__u32 crc, const void *buf, size_t len)
{
	return crc32_iscsi((unsigned char *)buf, len, crc);
}

__u32 ntcp_crc32c(const void *buf, size_t len)
{
	return ~ntcp_crc32c_update(~0u, buf, len);
}

const char *ntcp_type_name(__u8 type)
{
	static const char *const names[] = {
		"ICReq",      "ICResp",	     "H2CTermReq", "C2HTermReq",
		"CapsuleCmd", "CapsuleResp", "H2CData",	   "C2HData",
		"?",	      "R2T",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

static __u16 get16(const __u8 *b, int off)
{
	__u16 v;

	memcpy(&v, b + off, 2);
	return v;
}

static __u32 get32(const __u8 *b, int off)
{
	__u32 v;

	memcpy(&v, b + off, 4);
	return v;
}

static void put16(__u8 *b, int off, __u16 v)
{
	memcpy(b + off, &v, 2);
}

static void put32(__u8 *b, int off, __u32 v)
{
	memcpy(b + off, &v, 4);
}

static int fail(struct ntcp_err *e, __u16 fes, __u32 fei, const char *why)
{
	e->fes = fes;
	e->fei = fei;
	e->why = why;
	return -EPROTO;
}

static __u8 type_hlen(__u8 type)
{
	switch (type) {
	case NVME_TCP_ICREQ:
	case NVME_TCP_ICRESP:
		return NVME_TCP_IC_HLEN;
	case NVME_TCP_H2C_TERM:
	case NVME_TCP_C2H_TERM:
		return NVME_TCP_TERM_HLEN;
	case NVME_TCP_CMD:
		return NVME_TCP_CMD_HLEN;
	case NVME_TCP_RSP:
		return NVME_TCP_RSP_HLEN;
	case NVME_TCP_H2C_DATA:
	case NVME_TCP_C2H_DATA:
		return NVME_TCP_DATA_HLEN;
	case NVME_TCP_R2T:
		return NVME_TCP_R2T_HLEN;
	}
	return 0;
}

/* Sent by the other side of `side`: 1 for its IC PDU, 2 for the rest. */
static int type_for(enum ntcp_side side, __u8 type)
{
	if (side == NTCP_HOST)
		return type == NVME_TCP_ICRESP ? 1 :
		       (type == NVME_TCP_C2H_TERM || type == NVME_TCP_RSP ||
			type == NVME_TCP_C2H_DATA || type == NVME_TCP_R2T) ?
						 2 :
						 0;
	return type == NVME_TCP_ICREQ ? 1 :
	       (type == NVME_TCP_H2C_TERM || type == NVME_TCP_CMD ||
		type == NVME_TCP_H2C_DATA) ?
					2 :
					0;
}

static bool has_hdgst(__u8 type)
{
	return type == NVME_TCP_CMD || type == NVME_TCP_RSP ||
	       type == NVME_TCP_H2C_DATA || type == NVME_TCP_C2H_DATA ||
	       type == NVME_TCP_R2T;
}

static bool is_term(__u8 type)
{
	return type == NVME_TCP_H2C_TERM || type == NVME_TCP_C2H_TERM;
}

int ntcp_ch_check(const struct ntcp_params *p, enum ntcp_side side,
		  const void *ch, __u32 *hdr_len, struct ntcp_err *e)
{
	const __u8 *h = ch;
	__u8 type = h[0], flags = h[1], hlen = h[2];
	__u32 plen = get32(h, 4), hd;
	int kind = type_for(side, type);

	if (!kind)
		return fail(e, NTCP_FES_INVALID_HDR, 0,
			    "PDU type not expected from the other side");
	if ((kind == 1) == p->ic_done && !is_term(type))
		return fail(e, NTCP_FES_SEQUENCE, 0,
			    p->ic_done ?
				    "connection already initialized" :
				    "PDU before connection initialization");
	if (hlen != type_hlen(type))
		return fail(e, NTCP_FES_INVALID_HDR, 2,
			    "header length wrong for the PDU type");
	hd = has_hdgst(type) && p->hdgst ? NTCP_DGST_LEN : 0;
	if (!!(flags & NVME_TCP_F_HDGST) != !!hd)
		return fail(e, NTCP_FES_INVALID_HDR, 1,
			    "header digest flag not as negotiated");
	if (plen < hlen + hd)
		return fail(e, NTCP_FES_INVALID_HDR, 4,
			    "PDU length shorter than its header");
	*hdr_len = hlen + hd;
	return 0;
}

/* Data at pdo: after the header and digest, padded to (pda + 1) dwords or
 * not padded at all. */
static bool pdo_ok(__u32 pdo, __u32 hdr_len, __u8 pda)
{
	__u32 align = (pda + 1) * 4;

	return pdo == hdr_len ||
	       (pdo > hdr_len && pdo % align == 0 && pdo - hdr_len < align);
}

/* The data of a data PDU: where, how much, and its digest flag. */
static int data_layout(const struct ntcp_params *p, const __u8 *h,
		       struct ntcp_pdu *pdu, __u8 pda, struct ntcp_err *e)
{
	__u32 dd = p->ddgst ? NTCP_DGST_LEN : 0;

	if (!pdo_ok(pdu->pdo, pdu->hdr_len, pda) || pdu->pdo > pdu->plen)
		return fail(e, NTCP_FES_INVALID_HDR, 3,
			    "data offset not after the header as aligned");
	if (!!(pdu->flags & NVME_TCP_F_DDGST) != !!dd)
		return fail(e, NTCP_FES_INVALID_HDR, 1,
			    "data digest flag not as negotiated");
	if ((__u64)pdu->pdo + dd > pdu->plen)
		return fail(e, NTCP_FES_INVALID_HDR, 4,
			    "PDU length shorter than its data");
	(void)h;
	pdu->pad_len = pdu->pdo - pdu->hdr_len;
	pdu->data_len = pdu->plen - pdu->pdo - dd;
	pdu->ddgst = dd;
	return 0;
}

static int parse_ic(const struct ntcp_params *p, enum ntcp_side side,
		    const __u8 *h, struct ntcp_pdu *pdu, struct ntcp_err *e)
{
	(void)p;
	pdu->ic.pfv = get16(h, 8);
	pdu->ic.pda = h[10];
	pdu->ic.dgst = h[11];
	pdu->ic.maxdata = get32(h, 12);
	if (pdu->plen != NVME_TCP_IC_HLEN)
		return fail(e, NTCP_FES_INVALID_HDR, 4,
			    "IC PDU of wrong length");
	if (pdu->pdo)
		return fail(e, NTCP_FES_INVALID_HDR, 3, "IC PDU with data");
	if (pdu->ic.pfv != 0)
		return fail(e, NTCP_FES_UNSUPPORTED, 8,
			    "PDU format version not supported");
	if (pdu->ic.pda > NTCP_PDA_MAX)
		return fail(e, NTCP_FES_INVALID_HDR, 10,
			    "data alignment out of range");
	if (pdu->ic.dgst & ~(NVME_TCP_DGST_HDR | NVME_TCP_DGST_DATA))
		return fail(e, NTCP_FES_INVALID_HDR, 11,
			    "reserved digest bits");
	if (side == NTCP_HOST &&
	    (pdu->ic.maxdata < NTCP_MAXH2CDATA_MIN || pdu->ic.maxdata % 4))
		return fail(e, NTCP_FES_INVALID_HDR, 12,
			    "MAXH2CDATA below 4096 or not a dword multiple");
	return 0;
}

int ntcp_hdr_parse(const struct ntcp_params *p, enum ntcp_side side,
		   const void *hdr, __u32 hdr_len, struct ntcp_pdu *pdu,
		   struct ntcp_err *e)
{
	const __u8 *h = hdr;
	__u32 want;
	int err;

	memset(pdu, 0, sizeof(*pdu));
	err = ntcp_ch_check(p, side, h, &want, e);
	if (err)
		return err;
	if (hdr_len != want)
		return fail(e, NTCP_FES_INVALID_HDR, 2, "header length");
	pdu->type = h[0];
	pdu->flags = h[1];
	pdu->hlen = h[2];
	pdu->pdo = h[3];
	pdu->plen = get32(h, 4);
	pdu->hdr_len = hdr_len;
	if (hdr_len > pdu->hlen &&
	    ntcp_crc32c(h, pdu->hlen) != get32(h, pdu->hlen))
		return fail(e, NTCP_FES_HDGST, 0, "header digest mismatch");

	switch (pdu->type) {
	case NVME_TCP_ICREQ:
	case NVME_TCP_ICRESP:
		return parse_ic(p, side, h, pdu, e);
	case NVME_TCP_H2C_TERM:
	case NVME_TCP_C2H_TERM:
		if (pdu->plen > NTCP_TERM_MAX_PLEN)
			return fail(e, NTCP_FES_INVALID_HDR, 4,
				    "TermReq longer than 152 bytes");
		pdu->term.fes = get16(h, 8);
		pdu->term.fei = get32(h, 10);
		pdu->data_len = pdu->plen - pdu->hlen;
		return 0;
	case NVME_TCP_CMD:
		memcpy(&pdu->cmd, h + 8, sizeof(pdu->cmd));
		if (!pdu->pdo) {
			if (pdu->plen != hdr_len)
				return fail(
					e, NTCP_FES_INVALID_HDR, 4,
					"capsule length without a data offset");
			return 0;
		}
		return data_layout(p, h, pdu, p->cpda, e);
	case NVME_TCP_RSP:
		memcpy(&pdu->rsp, h + 8, sizeof(pdu->rsp));
		if (pdu->pdo || pdu->plen != hdr_len)
			return fail(e, NTCP_FES_INVALID_HDR, pdu->pdo ? 3 : 4,
				    "response with data");
		return 0;
	case NVME_TCP_R2T:
		pdu->data.cccid = get16(h, 8);
		pdu->data.ttag = get16(h, 10);
		pdu->data.off = get32(h, 12);
		pdu->data.len = get32(h, 16);
		if (pdu->pdo || pdu->plen != hdr_len)
			return fail(e, NTCP_FES_INVALID_HDR, pdu->pdo ? 3 : 4,
				    "R2T with data");
		if (!pdu->data.len)
			return fail(e, NTCP_FES_INVALID_HDR, 16,
				    "R2T for no data");
		return 0;
	}

	/* H2CData, C2HData */
	pdu->data.cccid = get16(h, 8);
	pdu->data.ttag = get16(h, 10);
	pdu->data.off = get32(h, 12);
	pdu->data.len = get32(h, 16);
	err = data_layout(p, h, pdu,
			  pdu->type == NVME_TCP_C2H_DATA ? p->hpda : p->cpda,
			  e);
	if (err)
		return err;
	if (!pdu->data.len || pdu->data.len != pdu->data_len)
		return fail(e, NTCP_FES_INVALID_HDR, 16,
			    "data length does not match the PDU length");
	if (pdu->type == NVME_TCP_H2C_DATA) {
		if (pdu->flags & NVME_TCP_F_DATA_SUCCESS)
			return fail(e, NTCP_FES_INVALID_HDR, 1,
				    "SUCCESS flag in H2CData");
		if (p->maxh2cdata && pdu->data.len > p->maxh2cdata)
			return fail(e, NTCP_FES_LIMIT, 16,
				    "H2CData larger than MAXH2CDATA");
	} else if ((pdu->flags & NVME_TCP_F_DATA_SUCCESS) &&
		   !(pdu->flags & NVME_TCP_F_DATA_LAST)) {
		return fail(e, NTCP_FES_INVALID_HDR, 1,
			    "SUCCESS without LAST_PDU");
	}
	return 0;
}

/* Common header, header digest and padding: bytes before the data. */
static size_t finish(__u8 *b, const struct ntcp_params *p, __u8 type,
		     __u8 flags, __u32 data_len, __u8 pda)
{
	__u8 hlen = type_hlen(type);
	__u32 hd = p && p->hdgst && has_hdgst(type) ? NTCP_DGST_LEN : 0;
	__u32 dd = data_len && p && p->ddgst ? NTCP_DGST_LEN : 0;
	__u32 align = (pda + 1) * 4, pdo = 0, end = hlen + hd;

	if (data_len)
		pdo = (end + align - 1) / align * align;
	b[0] = type;
	b[1] = flags | (hd ? NVME_TCP_F_HDGST : 0) |
	       (dd ? NVME_TCP_F_DDGST : 0);
	b[2] = hlen;
	b[3] = pdo;
	put32(b, 4, (data_len ? pdo + data_len + dd : end));
	if (hd)
		put32(b, hlen, ntcp_crc32c(b, hlen));
	if (pdo > end)
		memset(b + end, 0, pdo - end);
	return data_len ? pdo : end;
}

size_t ntcp_enc_icreq(void *buf, __u8 hpda, __u8 dgst, __u32 maxr2t)
{
	__u8 *b = buf;

	memset(b, 0, NVME_TCP_IC_HLEN);
	b[10] = hpda;
	b[11] = dgst;
	put32(b, 12, maxr2t);
	return finish(b, NULL, NVME_TCP_ICREQ, 0, 0, 0);
}

size_t ntcp_enc_icresp(void *buf, __u8 cpda, __u8 dgst, __u32 maxh2cdata)
{
	__u8 *b = buf;

	memset(b, 0, NVME_TCP_IC_HLEN);
	b[10] = cpda;
	b[11] = dgst;
	put32(b, 12, maxh2cdata);
	return finish(b, NULL, NVME_TCP_ICRESP, 0, 0, 0);
}

size_t ntcp_enc_term(void *buf, enum ntcp_side from, __u16 fes, __u32 fei,
		     const void *bad, size_t bad_len)
{
	__u8 *b = buf;

	if (bad_len > NTCP_TERM_MAX_PLEN - NVME_TCP_TERM_HLEN)
		bad_len = NTCP_TERM_MAX_PLEN - NVME_TCP_TERM_HLEN;
	memset(b, 0, NVME_TCP_TERM_HLEN);
	b[0] = from == NTCP_HOST ? NVME_TCP_H2C_TERM : NVME_TCP_C2H_TERM;
	b[2] = NVME_TCP_TERM_HLEN;
	put32(b, 4, NVME_TCP_TERM_HLEN + bad_len);
	put16(b, 8, fes);
	put32(b, 10, fei);
	if (bad_len)
		memcpy(b + NVME_TCP_TERM_HLEN, bad, bad_len);
	return NVME_TCP_TERM_HLEN + bad_len;
}

size_t ntcp_enc_cmd(void *buf, const struct ntcp_params *p,
		    const struct nvme_sqe *sqe, __u32 incapsule)
{
	__u8 *b = buf;

	memset(b, 0, NVME_TCP_CMD_HLEN);
	memcpy(b + 8, sqe, sizeof(*sqe));
	return finish(b, p, NVME_TCP_CMD, 0, incapsule, p->cpda);
}

size_t ntcp_enc_rsp(void *buf, const struct ntcp_params *p,
		    const struct nvme_cqe *cqe)
{
	__u8 *b = buf;

	memset(b, 0, NVME_TCP_RSP_HLEN);
	memcpy(b + 8, cqe, sizeof(*cqe));
	return finish(b, p, NVME_TCP_RSP, 0, 0, 0);
}

size_t ntcp_enc_r2t(void *buf, const struct ntcp_params *p, __u16 cccid,
		    __u16 ttag, __u32 r2to, __u32 r2tl)
{
	__u8 *b = buf;

	memset(b, 0, NVME_TCP_R2T_HLEN);
	put16(b, 8, cccid);
	put16(b, 10, ttag);
	put32(b, 12, r2to);
	put32(b, 16, r2tl);
	return finish(b, p, NVME_TCP_R2T, 0, 0, 0);
}

size_t ntcp_enc_data(void *buf, const struct ntcp_params *p, __u8 type,
		     __u16 cccid, __u16 ttag, __u32 datao, __u32 datal,
		     __u8 flags)
{
	__u8 *b = buf;

	memset(b, 0, NVME_TCP_DATA_HLEN);
	put16(b, 8, cccid);
	put16(b, 10, ttag);
	put32(b, 12, datao);
	put32(b, 16, datal);
	return finish(b, p, type, flags, datal,
		      type == NVME_TCP_C2H_DATA ? p->hpda : p->cpda);
}

int ntcp_pdu_begins(__u32 *at, __u32 seq, ntcp_peek_fn peek, void *arg,
		    int max_pdus)
{
	__u8 ch[NTCP_CH_LEN];
	__u32 plen;
	int i;

	for (i = 0; i <= max_pdus; i++) {
		if (*at == seq)
			return 1;
		if ((int)(*at - seq) > 0)
			return 0; /* a PDU spans it */
		if (i == max_pdus || peek(arg, *at, ch, sizeof(ch)))
			return -1;
		plen = get32(ch, 4);
		/* a broken stream, which its reader fails: nothing begins */
		if (plen < NTCP_CH_LEN)
			return 0;
		*at += plen;
	}
	return -1;
}
