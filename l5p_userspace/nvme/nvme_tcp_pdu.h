/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nvme_tcp_pdu.h - NVMe/TCP PDUs (transport specification 1.0): checking
 * and decoding received headers, encoding sent ones, and the CRC32C
 * digests. PDU types, flags and header lengths are those of bpf/ddp.h,
 * which the engine frames by.
 *
 * A receiver reads the 8-byte common header, learns from ntcp_ch_check()
 * how many more header bytes to read, reads them, and ntcp_hdr_parse()
 * checks and decodes the whole header. Both return 0, or -EPROTO with the
 * fatal error status and index (FES, FEI) a TermReq must carry.
 */
#ifndef L5P_NVME_TCP_PDU_H
#define L5P_NVME_TCP_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "ddp.h"
#include "nvme.h"

#define NTCP_CH_LEN 8
#define NTCP_DGST_LEN 4
#define NTCP_HDR_MAX 128 /* the largest header with its digest */
#define NTCP_TERM_MAX_PLEN 152 /* a TermReq: header and the bad one */
#define NTCP_PDA_MAX 31 /* PDU data alignment, 0's based dwords */
#define NTCP_MAXH2CDATA_MIN 4096

enum ntcp_fes {
	NTCP_FES_INVALID_HDR = 0x01, /* FEI: offset of the bad field */
	NTCP_FES_SEQUENCE = 0x02,
	NTCP_FES_HDGST = 0x03,
	NTCP_FES_OUT_OF_RANGE = 0x04,
	NTCP_FES_LIMIT = 0x05,
	NTCP_FES_UNSUPPORTED = 0x06,
};

/* Which end receives what is checked. */
enum ntcp_side {
	NTCP_HOST,
	NTCP_CTRL,
};

/* A connection's parameters once ICReq and ICResp are exchanged. */
struct ntcp_params {
	bool ic_done;
	bool hdgst, ddgst;
	__u8 hpda; /* C2H data alignment, asked by the host */
	__u8 cpda; /* H2C data alignment, asked by the controller */
	__u32 maxh2cdata; /* largest H2CData the controller takes */
};

struct ntcp_err {
	__u16 fes;
	__u32 fei;
	const char *why; /* for the log line */
};

/* A received header, checked and decoded. */
struct ntcp_pdu {
	__u8 type, flags, hlen, pdo;
	__u32 plen;
	__u32 hdr_len; /* hlen and the header digest */
	__u32 pad_len; /* between them and the data */
	__u32 data_len; /* in-capsule, H2C/C2H or TermReq data */
	bool ddgst; /* a data digest follows the data */
	union {
		struct {
			__u16 pfv;
			__u8 pda; /* hpda in ICReq, cpda in ICResp */
			__u8 dgst;
			__u32 maxdata; /* maxr2t in ICReq, maxh2cdata in ICResp */
		} ic;
		struct {
			__u16 fes;
			__u32 fei;
		} term;
		struct nvme_sqe cmd;
		struct nvme_cqe rsp;
		struct {
			__u16 cccid, ttag;
			__u32 off, len; /* datao, datal; r2to, r2tl */
		} data;
	};
};

int ntcp_ch_check(const struct ntcp_params *p, enum ntcp_side side,
		  const void *ch, __u32 *hdr_len, struct ntcp_err *e);
int ntcp_hdr_parse(const struct ntcp_params *p, enum ntcp_side side,
		   const void *hdr, __u32 hdr_len, struct ntcp_pdu *pdu,
		   struct ntcp_err *e);

/*
 * Encoders: each writes a header, its digest and the padding up to the
 * data into buf (at least NTCP_HDR_MAX + 128 bytes) and returns how many
 * bytes that is; the caller sends the data and, for data PDUs with
 * p->ddgst, ntcp_crc32c() of it after them.
 */
size_t ntcp_enc_icreq(void *buf, __u8 hpda, __u8 dgst, __u32 maxr2t);
size_t ntcp_enc_icresp(void *buf, __u8 cpda, __u8 dgst, __u32 maxh2cdata);
/* A whole TermReq: from which side, why, and up to 128 bytes of the bad
 * header. */
size_t ntcp_enc_term(void *buf, enum ntcp_side from, __u16 fes, __u32 fei,
		     const void *bad, size_t bad_len);
size_t ntcp_enc_cmd(void *buf, const struct ntcp_params *p,
		    const struct nvme_sqe *sqe, __u32 incapsule);
size_t ntcp_enc_rsp(void *buf, const struct ntcp_params *p,
		    const struct nvme_cqe *cqe);
size_t ntcp_enc_r2t(void *buf, const struct ntcp_params *p, __u16 cccid,
		    __u16 ttag, __u32 r2to, __u32 r2tl);
/* C2HData (flags: LAST, SUCCESS) or H2CData (LAST) */
size_t ntcp_enc_data(void *buf, const struct ntcp_params *p, __u8 type,
		     __u16 cccid, __u16 ttag, __u32 datao, __u32 datal,
		     __u8 flags);

/* The NVMe/TCP digest: CRC32C, seed ~0, final xor ~0 (ISA-L's). */
__u32 ntcp_crc32c(const void *buf, size_t len);
/* ... over pieces: start with ~0, feed each, end with ~crc. */
__u32 ntcp_crc32c_update(__u32 crc, const void *buf, size_t len);

const char *ntcp_type_name(__u8 type);

/* Bytes of the stream from sequence number seq, len of them, into buf: 0,
 * or nonzero if they are not all there yet. */
typedef int (*ntcp_peek_fn)(void *arg, __u32 seq, void *buf, __u32 len);
/* Does a PDU begin at sequence number seq? Walked from *at, where one
 * begins, PDU by PDU by the lengths their common headers say, as a reader
 * would take them (at most max_pdus): 1 or 0; -1 if a header on the way
 * is not there yet (or the walk is longer). *at is left where a PDU
 * begins, as far as the walk went: a later walk to a later seq goes on
 * from there. */
int ntcp_pdu_begins(__u32 *at, __u32 seq, ntcp_peek_fn peek, void *arg,
		    int max_pdus);

#endif /* L5P_NVME_TCP_PDU_H */
