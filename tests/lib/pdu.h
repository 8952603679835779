/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pdu.h - NVMe/TCP PDU streams for tests: every PDU type, digests and
 * padding, appended to a byte stream that remembers where each PDU is.
 * Digest bytes are a fixed marker: the engine never reads them.
 */
#ifndef TESTS_PDU_H
#define TESTS_PDU_H

#include <stddef.h>
#include <linux/types.h>
#include "ddp.h"

struct pdu_opts {
	int hdgst, ddgst;
	__u8 cpda;
};

/* Where a PDU is in its stream. */
struct pdu_pos {
	size_t off; /* first byte in the stream */
	__u8 type;
	__u32 plen;
	__u32 data_off, datal; /* C2HData: data at off + data_off */
	__u16 cid;
	__u32 datao;
};

struct stream {
	__u8 *buf;
	size_t len, cap;
	struct pdu_pos *pdus;
	size_t npdus, pcap;
};

void stream_free(struct stream *s);
/* The index of the PDU holding stream byte off, or -1. */
long stream_pdu_at(const struct stream *s, size_t off);

void pdu_icresp(struct stream *s, const struct pdu_opts *o);
void pdu_icreq(struct stream *s, const struct pdu_opts *o);
void pdu_term(struct stream *s, __u8 type, __u16 fes, __u32 extra);
void pdu_cmd(struct stream *s, const struct pdu_opts *o, __u16 cid,
	     __u32 incapsule);
void pdu_rsp(struct stream *s, const struct pdu_opts *o, __u16 cid);
void pdu_r2t(struct stream *s, const struct pdu_opts *o, __u16 cid, __u32 r2to,
	     __u32 r2tl);
void pdu_h2c_data(struct stream *s, const struct pdu_opts *o, __u16 cid,
		  __u32 datao, __u32 datal);
/* CRC32C, not inverted on the way in or out (bitwise: the reference). */
__u32 pdu_crc32c(__u32 crc, const void *buf, size_t len);
/* C2HData carrying data[0..datal) of command cid at datao, with its real
 * data digest if o->ddgst. */
void pdu_c2h_data(struct stream *s, const struct pdu_opts *o, __u16 cid,
		  __u32 datao, const void *data, __u32 datal, __u8 flags);
/* Append raw bytes (garbage, a bad header). */
void stream_raw(struct stream *s, const void *p, size_t len);

#endif /* TESTS_PDU_H */
