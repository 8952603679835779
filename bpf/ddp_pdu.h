/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_pdu.h - NVMe/TCP PDU framing: header checks and the per-frame cursor.
 *
 * ddp_hdr_check() returns 0 and fills struct ddp_pdu_info when the first
 * DDP_HDR_NEED bytes of a PDU are consistent with the queue's
 * configuration, or -1. The same check frames PDUs while in sync and judges
 * resync candidates, so a header the tracker would refuse is never
 * proposed to the host. No PDU is longer than the connection allows
 * (cfg->max_data of data, headers and digests besides): a header found in
 * read data cannot hold the tracker as a candidate for longer than that.
 */
#ifndef DDP_PDU_H
#define DDP_PDU_H

struct ddp_pdu_info {
	__u32 plen;
	__u32 data_off; /* C2HData: first data byte (pdo); else plen */
	__u32 data_end; /* C2HData: pdo + datal; else plen */
	__u32 datao;
	__u16 cid;
	__u8 type;
};

/* Per-frame cursor, passed to the bpf_loop steps. Frame offsets, not
 * pointers: each step re-derives what the verifier needs. */
struct ddp_rx {
	struct xdp_md *ctx;
	struct ddp_flow *f;
	struct ddp_stats *st;
	__u8 *buf;
	__u32 pos; /* next byte to look at */
	__u32 end; /* end of the TCP payload */
	__u32 base; /* first TCP payload byte */
	__u32 seq; /* its sequence number */
	__u32 placed; /* bytes placed from this frame */
	__u32 err; /* offload of this frame failed on an error */
	__u32 csum_ok; /* its TCP checksum was checked, and right: the
			* segment is in the scratch buffer */
	__u32 l4_off; /* where the segment starts */
	__u32 ign; /* bytes before this may have reached the transport in
		    * a segment the engine did not track (ign_end) */
	struct ddp_meta *meta; /* per CPU: kept off the stack */
};

static __always_inline int ddp_seq_lt(__u32 a, __u32 b)
{
	return (int)(a - b) < 0;
}

static __always_inline __u32 ddp_seq_at(const struct ddp_rx *rx, __u32 pos)
{
	return rx->seq + (pos - rx->base);
}

/* The header lengths the NVMe/TCP 1.0 transport fixes per PDU type. */
static __always_inline __u32 ddp_type_hlen(__u8 type)
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

/* Types a controller sends once the queue is connected: the only ones a
 * resync may start from. */
static __always_inline int ddp_type_resyncable(__u8 type)
{
	return type == NVME_TCP_C2H_DATA || type == NVME_TCP_RSP ||
	       type == NVME_TCP_R2T || type == NVME_TCP_C2H_TERM;
}

/* A global function: verified once, not at every call site. */
__attribute__((noinline)) int ddp_hdr_check(const struct nvme_tcp_hdr24 *h,
					    const struct ddp_sk_config *cfg,
					    struct ddp_pdu_info *pi)
{
	__u32 hlen, hd, dd, plen, pdo;
	__u8 flags;

	if (!h || !cfg || !pi)
		return -1;
	hlen = ddp_type_hlen(h->type);
	hd = (cfg->dgst & NVME_TCP_DGST_HDR) ? NVME_TCP_DIGEST_LEN : 0;
	dd = (cfg->dgst & NVME_TCP_DGST_DATA) ? NVME_TCP_DIGEST_LEN : 0;
	flags = h->flags;
	plen = h->plen;
	pdo = h->pdo;
	if (!hlen || h->hlen != hlen || plen < hlen)
		return -1;
	/* header, digests and padding take at most 256 bytes besides */
	if (plen - hlen > cfg->max_data + 256)
		return -1;
	pi->type = h->type;
	pi->plen = plen;
	pi->data_off = plen;
	pi->data_end = plen;
	pi->datao = 0;
	pi->cid = 0;

	switch (h->type) {
	case NVME_TCP_ICREQ:
	case NVME_TCP_ICRESP:
		/* digests are not in force before ICResp */
		return (flags || pdo || plen != hlen) ? -1 : 0;
	case NVME_TCP_H2C_TERM:
	case NVME_TCP_C2H_TERM:
		return (flags || pdo || plen > hlen + NVME_TCP_TERM_MAX_DATA) ?
			       -1 :
			       0;
	}

	/* Capsules, responses, data and R2T carry the header digest iff it
	 * was negotiated. */
	if (!!(flags & NVME_TCP_F_HDGST) != !!hd || plen < hlen + hd)
		return -1;
	if (h->type == NVME_TCP_RSP || h->type == NVME_TCP_R2T)
		return (pdo || plen != hlen + hd ||
			(flags & ~NVME_TCP_F_HDGST)) ?
			       -1 :
			       0;

	if (h->type == NVME_TCP_C2H_DATA) {
		__u32 align = (cfg->cpda + 1) * 4;
		__u32 want_pdo = (hlen + hd + align - 1) / align * align;
		__u64 total;

		/* Padded to the alignment the host asked for (its HPDA, the
		 * config's cpda), or not padded: targets read the ICReq and
		 * ICResp fields differently. */
		if ((pdo != want_pdo && pdo != hlen + hd) || !h->datal ||
		    h->datal > cfg->max_data)
			return -1;
		if (!!(flags & NVME_TCP_F_DDGST) != !!dd)
			return -1;
		/* SUCCESS without LAST_PDU is a protocol error */
		if ((flags & NVME_TCP_F_DATA_SUCCESS) &&
		    !(flags & NVME_TCP_F_DATA_LAST))
			return -1;
		total = (__u64)pdo + h->datal +
			((flags & NVME_TCP_F_DDGST) ? NVME_TCP_DIGEST_LEN : 0);
		if (total != plen)
			return -1;
		pi->data_off = pdo;
		pi->data_end = pdo + h->datal;
		pi->datao = h->datao;
		pi->cid = h->cccid;
		return 0;
	}

	/* CapsuleCmd and H2CData: framed, never placed. In-capsule data
	 * starts at pdo; without data pdo is 0. */
	if (pdo && (pdo < hlen + hd || pdo > plen))
		return -1;
	if (!pdo && plen != hlen + hd)
		return -1;
	return 0;
}

#endif /* DDP_PDU_H */
