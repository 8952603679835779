// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pdu.c - NVMe/TCP PDU streams for tests. */
#include <stdlib.h>
#include <string.h>
#include "pdu.h"

static const __u8 digest_marker[4] = { 0xd1, 0x6e, 0x57, 0xaa };

/* CRC32C a bit at a time: the reference the engine's tables are checked
 * against, sharing nothing with them. */
__u32 pdu_crc32c(__u32 crc, const void *buf, size_t len)
{
	const __u8 *b = buf;
	int k;

	while (len--) {
		crc ^= *b++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
	}
	return crc;
}

void stream_free(struct stream *s)
{
	free(s->buf);
	free(s->pdus);
	memset(s, 0, sizeof(*s));
}

static __u8 *stream_grow(struct stream *s, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2 + 4096;
		s->buf = realloc(s->buf, s->cap);
		if (!s->buf)
			abort();
	}
	memset(s->buf + s->len, 0, n);
	s->len += n;
	return s->buf + s->len - n;
}

void stream_raw(struct stream *s, const void *p, size_t len)
{
	memcpy(stream_grow(s, len), p, len);
}

static struct pdu_pos *stream_note(struct stream *s, size_t off, __u8 type,
				   __u32 plen)
{
	struct pdu_pos *p;

	if (s->npdus == s->pcap) {
		s->pcap = s->pcap * 2 + 16;
		s->pdus = realloc(s->pdus, s->pcap * sizeof(*p));
		if (!s->pdus)
			abort();
	}
	p = &s->pdus[s->npdus++];
	memset(p, 0, sizeof(*p));
	p->off = off;
	p->type = type;
	p->plen = plen;
	return p;
}

long stream_pdu_at(const struct stream *s, size_t off)
{
	size_t lo = 0, hi = s->npdus;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->pdus[mid].off + s->pdus[mid].plen <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->npdus && s->pdus[lo].off <= off ? (long)lo : -1;
}

/* Common header; returns a pointer to the PDU's first byte. */
static __u8 *put_hdr(struct stream *s, __u8 type, __u8 flags, __u8 hlen,
		     __u8 pdo, __u32 plen)
{
	size_t off = s->len;
	__u8 *h = stream_grow(s, plen);

	h[0] = type;
	h[1] = flags;
	h[2] = hlen;
	h[3] = pdo;
	memcpy(h + 4, &plen, 4);
	stream_note(s, off, type, plen);
	return h;
}

static void put_le16(__u8 *p, __u16 v)
{
	memcpy(p, &v, 2);
}

static void put_le32(__u8 *p, __u32 v)
{
	memcpy(p, &v, 4);
}

void pdu_icresp(struct stream *s, const struct pdu_opts *o)
{
	__u8 *h = put_hdr(s, NVME_TCP_ICRESP, 0, 128, 0, 128);

	h[10] = o->cpda;
	h[11] = (o->hdgst ? NVME_TCP_DGST_HDR : 0) |
		(o->ddgst ? NVME_TCP_DGST_DATA : 0);
	put_le32(h + 12, 1 << 20);
}

void pdu_icreq(struct stream *s, const struct pdu_opts *o)
{
	__u8 *h = put_hdr(s, NVME_TCP_ICREQ, 0, 128, 0, 128);

	h[11] = (o->hdgst ? NVME_TCP_DGST_HDR : 0) |
		(o->ddgst ? NVME_TCP_DGST_DATA : 0);
}

void pdu_term(struct stream *s, __u8 type, __u16 fes, __u32 extra)
{
	__u8 *h = put_hdr(s, type, 0, 24, 0, 24 + extra);

	put_le16(h + 8, fes);
}

/* Header digest and padding: returns the data offset for a data PDU. */
static __u32 hdr_tail(const struct pdu_opts *o, __u32 hlen, int align)
{
	__u32 a = align ? (o->cpda + 1) * 4u : 1;
	__u32 end = hlen + (o->hdgst ? 4 : 0);

	return (end + a - 1) / a * a;
}

static void put_hdgst(const struct pdu_opts *o, __u8 *h, __u32 hlen)
{
	if (o->hdgst)
		memcpy(h + hlen, digest_marker, 4);
}

void pdu_cmd(struct stream *s, const struct pdu_opts *o, __u16 cid,
	     __u32 incapsule)
{
	__u32 pdo = incapsule ? hdr_tail(o, 72, 0) : 0;
	__u32 dd = incapsule && o->ddgst ? 4 : 0;
	__u32 plen = incapsule ? pdo + incapsule + dd : 72 + (o->hdgst ? 4 : 0);
	__u8 flags = (o->hdgst ? NVME_TCP_F_HDGST : 0) |
		     (dd ? NVME_TCP_F_DDGST : 0);
	__u8 *h = put_hdr(s, NVME_TCP_CMD, flags, 72, pdo, plen);

	h[8] = 0x02; /* NVMe Read */
	put_le16(h + 10, cid);
	put_hdgst(o, h, 72);
}

void pdu_rsp(struct stream *s, const struct pdu_opts *o, __u16 cid)
{
	__u8 *h = put_hdr(s, NVME_TCP_RSP, o->hdgst ? NVME_TCP_F_HDGST : 0, 24,
			  0, 24 + (o->hdgst ? 4 : 0));

	put_le16(h + 8 + 12, cid); /* CQE command id, PDU offset 20 */
	put_hdgst(o, h, 24);
}

void pdu_r2t(struct stream *s, const struct pdu_opts *o, __u16 cid, __u32 r2to,
	     __u32 r2tl)
{
	__u8 *h = put_hdr(s, NVME_TCP_R2T, o->hdgst ? NVME_TCP_F_HDGST : 0, 24,
			  0, 24 + (o->hdgst ? 4 : 0));

	put_le16(h + 8, cid);
	put_le32(h + 12, r2to);
	put_le32(h + 16, r2tl);
	put_hdgst(o, h, 24);
}

static __u8 *put_data_pdu(struct stream *s, const struct pdu_opts *o, __u8 type,
			  __u16 cid, __u32 datao, __u32 datal, __u8 flags,
			  int align)
{
	__u32 pdo = hdr_tail(o, 24, align);
	__u32 plen = pdo + datal + (o->ddgst ? 4 : 0);
	__u8 *h;

	flags |= (o->hdgst ? NVME_TCP_F_HDGST : 0) |
		 (o->ddgst ? NVME_TCP_F_DDGST : 0);
	h = put_hdr(s, type, flags, 24, pdo, plen);
	put_le16(h + 8, cid);
	put_le32(h + 12, datao);
	put_le32(h + 16, datal);
	put_hdgst(o, h, 24);
	if (o->ddgst)
		memcpy(h + pdo + datal, digest_marker, 4);
	return h;
}

void pdu_h2c_data(struct stream *s, const struct pdu_opts *o, __u16 cid,
		  __u32 datao, __u32 datal)
{
	__u8 *h = put_data_pdu(s, o, NVME_TCP_H2C_DATA, cid, datao, datal,
			       NVME_TCP_F_DATA_LAST, 0);

	memset(h + (h[3]), 0x5a, datal);
}

void pdu_c2h_data(struct stream *s, const struct pdu_opts *o, __u16 cid,
		  __u32 datao, const void *data, __u32 datal, __u8 flags)
{
	size_t off = s->len;
	__u8 *h = put_data_pdu(s, o, NVME_TCP_C2H_DATA, cid, datao, datal,
			       flags, 1);
	struct pdu_pos *p = &s->pdus[s->npdus - 1];

	memcpy(h + h[3], data, datal);
	/* a real data digest: the engine checks it */
	if (o->ddgst)
		put_le32(h + h[3] + datal, ~pdu_crc32c(~0u, data, datal));
	p->off = off;
	p->data_off = h[3];
	p->datal = datal;
	p->cid = cid;
	p->datao = datao;
}
