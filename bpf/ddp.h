/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp.h - the one ABI of the DDP engine.
 *
 * Included by the XDP engine (bpf/, after vmlinux.h), the control library
 * (loader/), the NVMe/TCP host and target (l5p_userspace/), kmod_glue/ and
 * tests/. Everything here is shared between BPF and user space: fixed-width
 * types, explicit padding, no pointers. Change it and bump DDP_ABI_VERSION.
 */
#ifndef DDP_H
#define DDP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/ioctl.h>
#endif

#define DDP_ABI_VERSION 12

/* kmod_glue's module: its BTF (/sys/kernel/btf/NAME) offers the kfuncs */
#define DDP_KMOD_NAME "ddp_glue"

/* ---- kmod_glue: buffers of any process's memory ---------------------------- */

/* The module's device pins a process's buffer for tags to place into
 * (ddp_setup with a pin): its pages stay pinned until the process unpins
 * it or closes the device; a tag of a buffer unpinned places nothing. */
#define DDP_KMOD_DEV "/dev/" DDP_KMOD_NAME
#define DDP_PIN_MAX (1ULL << 32) /* bytes: segments are 32-bit offsets */

struct ddp_pin_req {
	__u64 addr; /* in: the buffer, anonymous memory, any alignment */
	__u64 len; /* in: bytes, 1 .. DDP_PIN_MAX */
	__u64 id; /* out of DDP_IOC_PIN, in to DDP_IOC_UNPIN; never 0 */
};

#define DDP_IOC_PIN _IOWR('D', 1, struct ddp_pin_req)
#define DDP_IOC_UNPIN _IOW('D', 2, struct ddp_pin_req)

/* The module's API for in-kernel L5Ps (kmod_glue/tcp_ddp.h) drives the
 * engine attached to a device once the engine is bound to it: ddpctl
 * attach binds it when the module is loaded, with the control programs
 * and maps below; ddpctl detach unbinds it, deleting the flows in-kernel
 * L5Ps added. The module holds what it was given until then. */
#define DDP_BIND_PROGS(X)                                                \
	X(sk_add) X(sk_del) X(setup) X(teardown) X(sync_begin) X(release) \
		X(resync) X(owner_add) X(owner_del)
/* flows, recs and info are the engine's maps of those names; token is a
 * map named ddp_owner, the module's liveness token (see struct ddp_owner) */
#define DDP_BIND_MAPS(X) X(flows) X(recs) X(info) X(token)

#define DDP_BIND_ENUM(name) DDP_BIND_##name,
enum ddp_bind_prog { DDP_BIND_PROGS(DDP_BIND_ENUM) DDP_BIND_PROG_NR };
enum ddp_bind_map { DDP_BIND_MAPS(DDP_BIND_ENUM) DDP_BIND_MAP_NR };
#undef DDP_BIND_ENUM

struct ddp_bind_req {
	__u32 ifindex; /* the device the engine is attached to, in the
			* caller's network namespace */
	__u32 abi_version; /* DDP_ABI_VERSION */
	__s32 prog_fd[DDP_BIND_PROG_NR];
	__s32 map_fd[DDP_BIND_MAP_NR];
	__u32 pad;
};

#define DDP_IOC_BIND _IOW('D', 3, struct ddp_bind_req)
#define DDP_IOC_UNBIND _IOW('D', 4, __u32) /* the ifindex */

/* ---- NVMe/TCP wire format, as far as the engine needs it ---------------- */

enum nvme_tcp_pdu_type {
	NVME_TCP_ICREQ = 0x00,
	NVME_TCP_ICRESP = 0x01,
	NVME_TCP_H2C_TERM = 0x02,
	NVME_TCP_C2H_TERM = 0x03,
	NVME_TCP_CMD = 0x04,
	NVME_TCP_RSP = 0x05,
	NVME_TCP_H2C_DATA = 0x06,
	NVME_TCP_C2H_DATA = 0x07,
	NVME_TCP_R2T = 0x09,
};

enum nvme_tcp_pdu_flags {
	NVME_TCP_F_HDGST = 1 << 0,
	NVME_TCP_F_DDGST = 1 << 1,
	NVME_TCP_F_DATA_LAST = 1 << 2,
	NVME_TCP_F_DATA_SUCCESS = 1 << 3,
};

/* ICReq/ICResp digest bits (dgst field), also used in struct ddp_sk_config */
enum nvme_tcp_digest {
	NVME_TCP_DGST_HDR = 1 << 0,
	NVME_TCP_DGST_DATA = 1 << 1,
};

#define NVME_TCP_DIGEST_LEN 4
#define NVME_TCP_IC_HLEN 128
#define NVME_TCP_TERM_HLEN 24
#define NVME_TCP_CMD_HLEN 72
#define NVME_TCP_RSP_HLEN 24
#define NVME_TCP_DATA_HLEN 24
#define NVME_TCP_R2T_HLEN 24
#define NVME_TCP_TERM_MAX_DATA 128 /* bytes of the bad PDU a TermReq carries */

/* The first 24 bytes of a PDU: the common header and, for data PDUs,
 * the fields the engine frames and places by. */
struct nvme_tcp_hdr24 {
	__u8 type;
	__u8 flags;
	__u8 hlen;
	__u8 pdo;
	__u32 plen;
	__u16 cccid; /* C2HData/H2CData/R2T: command id */
	__u16 ttag;
	__u32 datao; /* data offset within the command's transfer */
	__u32 datal; /* data bytes in this PDU */
	__u32 rsvd;
};

/* ---- Limits fixed by the ABI --------------------------------------------- */

#define DDP_MAX_SEGS 256 /* buffer segments per tag */
/* The pools of segments and of tags are handed out in runs of blocks
 * within one word of their bitmaps, DDP_POOL_WORD blocks to a word: a
 * tag of the most segments takes one word, and so does a flow of the
 * most tags. */
#define DDP_POOL_WORD 64
#define DDP_POOL_SCAN 1024 /* words a claim looks at for room */
#define DDP_SEG_BLOCK 4
#define DDP_SEGS_PER_WORD (DDP_SEG_BLOCK * DDP_POOL_WORD)
#define DDP_SEG_POOL_MAX (1u << 24) /* segments in the pool at most */
#define DDP_TAG_BLOCK 16
#define DDP_TAGS_PER_WORD (DDP_TAG_BLOCK * DDP_POOL_WORD)
#define DDP_MAX_TAGS_PER_FLOW DDP_TAGS_PER_WORD
#define DDP_TAG_POOL_MAX (1u << 20) /* tags in the pool at most */
#define DDP_REC_BLOCK 16
#define DDP_RECS_PER_WORD (DDP_REC_BLOCK * DDP_POOL_WORD)
#define DDP_REC_POOL_MAX (1u << 26) /* records in the pool at most */
#define DDP_HDR_NEED 24 /* PDU header bytes the engine gathers */
/* placement records of a kernel-socket flow (a power of 2): 8 for each
 * tag it holds, within these bounds, and at most ddp_limits.rec_ring */
#define DDP_REC_RING_MIN 64
#define DDP_REC_RING_MAX 1024
#define DDP_MAX_FLOWS 65536 /* the flow slots a flow id can name */
#define DDP_REV_RING 16 /* revocations remembered per flow, power of 2 */
#define DDP_HOLES 8 /* gaps remembered per flow, power of 2 */
#define DDP_META_RANGES 6 /* placed ranges one AF_XDP frame can describe */
#define DDP_XSK_QUEUES 64 /* RX queues the engine redirects to AF_XDP */
#define DDP_BUF_GUARD 65536 /* unused tail of the buffer map (verifier bound) */
#define DDP_CHAIN_MIN 1 /* headers that must follow a resync candidate */
#define DDP_MAX_STEPS 4096 /* tracker steps per packet */
#define DDP_NO_TAG 0xffffffff

/* Defaults of what the loader may size before load (see struct ddp_limits) */
#define DDP_DEF_MAX_FLOWS 64
/* segments in the pool: this many per tag */
#define DDP_DEF_SEGS_PER_TAG 8
#define DDP_DEF_TAGS_PER_FLOW 128
#define DDP_DEF_BUF_SIZE (64u << 20)
#define DDP_DEF_IO_THRESHOLD 32768
#define DDP_DEF_MAX_DATA (16u << 20) /* sk_add's max_data when 0 */
/* the largest max_data sk_add takes: a PDU's length must stay in 32 bits
 * with its headers and digests added */
#define DDP_MAX_MAX_DATA (1u << 31)
/* the longest TCP segment the engine sums for its checksum: a jumbo
 * frame's; longer ones are not tracked */
#define DDP_MAX_SUMMED 9216
#define DDP_MAX_DGRAM 65536 /* bytes one IP datagram can carry, at most */

/* ---- Connections (flows) ------------------------------------------------- */

/* A connection as seen on receive: the remote end is the NVMe/TCP
 * controller. IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d). */
struct ddp_flow_key {
	__u8 raddr[16];
	__u8 laddr[16];
	__be16 rport;
	__be16 lport;
};

enum ddp_sk_flags {
	DDP_SK_OFFLOAD = 1 << 0, /* track PDUs and place C2HData */
	DDP_SK_XSK = 1 << 1, /* redirect to the XSK of the RX queue */
	DDP_SK_RECORDS = 1 << 2, /* write placement records (kernel socket) */
	/* an in-kernel L5P's, through kmod_glue's module (tcp_ddp.h): resync
	 * requests go to the module's kfunc, not to the ring; only the
	 * module may set it */
	DDP_SK_KERNEL = 1 << 3,
	/* the AF_XDP socket is bound zero-copy: for the tools (ddpctl
	 * flows), the engine does the same either way */
	DDP_SK_ZEROCOPY = 1 << 4,
};
#define DDP_SK_FLAGS_ALL                                                \
	(DDP_SK_OFFLOAD | DDP_SK_XSK | DDP_SK_RECORDS | DDP_SK_KERNEL | \
	 DDP_SK_ZEROCOPY)

/* sk_add's configuration: the ICResp parameters and where the stream is. */
struct ddp_sk_config {
	__u16 pfv; /* must be 0 (NVMe/TCP 1.0) */
	__u8 cpda; /* C2HData alignment, dwords, 0's based: the HPDA the
		    * host sent in ICReq (the specification calls it cpda) */
	__u8 dgst; /* enum nvme_tcp_digest */
	__u32 queue_size; /* I/O queue entries */
	__u32 queue_id;
	__u32 io_cpu; /* CPU hint of the queue's I/O thread */
	__u32 io_threshold; /* smallest tag placed; 0 = the engine default */
	__u32 start_seq; /* TCP seq of the next byte, a PDU's first byte */
	__u32 flags; /* enum ddp_sk_flags */
	__u32 max_data; /* most data one PDU carries: the controller's MDTS
			 * in bytes, or the host's largest transfer;
			 * 0 = DDP_DEF_MAX_DATA, at most DDP_MAX_MAX_DATA.
			 * Longer headers are bad. */
};

/* A flow id names a slot of ddp_flows and its incarnation: each sk_add
 * of a slot bumps the incarnation, so an id kept after sk_del acts on
 * nothing, even once the slot is offloading another connection. */
#define DDP_FLOW_SLOT_BITS 16
#define DDP_FLOW_SLOT(id) ((id) & ((1u << DDP_FLOW_SLOT_BITS) - 1))
#define DDP_FLOW_ID(slot, inc) (((inc) << DDP_FLOW_SLOT_BITS) | (slot))

enum ddp_flow_state {
	DDP_FLOW_FREE = 0,
	DDP_FLOW_ALIVE = 1,
	DDP_FLOW_DEAD = 2, /* deleted, waiting for release after a sync */
	DDP_FLOW_DYING = 3, /* being deleted */
};

enum ddp_sync {
	DDP_SYNC_OK = 0, /* tracking PDUs and placing */
	DDP_SYNC_SEARCH = 1, /* scanning for a PDU header */
	DDP_SYNC_CANDIDATE = 2, /* tracking a candidate, checking the chain */
	DDP_SYNC_PENDING = 3, /* resync requested, waiting for the host */
};

/* A byte range the engine saw again (retransmitted or duplicated) after it
 * may have placed it. */
struct ddp_rev {
	__u32 seq;
	__u32 end;
};

/* The engine's verdict on a C2HData PDU's data digest. */
enum ddp_verdict {
	DDP_VERDICT_NONE = 0, /* unknown: the host computes the CRC */
	DDP_VERDICT_OK = 1, /* the data the engine saw matched the DDGST */
	DDP_VERDICT_BAD = 2, /* it did not: a data digest error */
};

/*
 * One connection, in slot DDP_FLOW_SLOT(flow_id) of the mmapable ddp_flows
 * map. Hosts map it read-only; two owners write it, never each other's
 * fields: the control programs (header, and the resync reply they pass
 * on from the host) and the engine (tracker).
 */
struct ddp_flow {
	/* control programs */
	__u32 state; /* enum ddp_flow_state */
	__u32 flow_id; /* slot and incarnation */
	struct ddp_flow_key key;
	struct ddp_sk_config cfg;
	__u64 dead_epoch; /* sync epoch when deleted */
	__u32 owner; /* slot in ddp_info.owners of the process that added it */
	/* its tags: ddp_tags [tag_first, tag_first + tag_count), a run of
	 * the tag pool's blocks it holds while it is not FREE */
	__u32 tag_first;
	__u32 tag_count; /* min(cfg.queue_size, tags_per_flow); 0: none yet */
	/* its placement records (DDP_SK_RECORDS): a ring of rec_ring, a
	 * power of 2, from ddp_recs entry rec_first on, held until the flow
	 * is FREE (the engine may write it until a sync); 0: none */
	__u32 rec_first;
	__u32 rec_ring;
	/* held by sk_update while it gives the flow its tags and records,
	 * and by sk_del as it marks the flow dying: never both at once */
	__u32 ctl_busy;
	__u64 resync_reply; /* DDP_RESYNC_REPLY(), written by ddp_resync */

	/* engine: TCP and PDU tracker */
	__u32 exp_seq; /* next expected TCP sequence number */
	__u32 sync; /* enum ddp_sync */
	__u32 pdu_seq; /* seq of the current PDU's first byte */
	__u32 pdu_off; /* bytes of the current PDU seen */
	__u32 plen; /* current PDU: valid once pdu_off >= DDP_HDR_NEED */
	__u32 data_off; /* C2HData: first data byte (pdo), else plen */
	__u32 data_end; /* C2HData: pdo + datal, else plen */
	__u32 datao; /* C2HData: offset of its data in the command */
	__u32 slot; /* tag slot being placed into */
	__u32 tag_gen; /* that tag's stamp when its PDU began */
	__u32 seg; /* segment cursor: index */
	__u32 seg_start; /* segment cursor: its first byte in the command */
	__u16 cid;
	__u8 type;
	__u8 place; /* the current PDU's data is being placed */
	__u8 rec_open; /* the last record may grow */
	__u8 late_ok; /* late_hdr holds where a header begins */
	__u8 pad1[2];
	/* bytes up to here (exclusive) may have reached the transport in a
	 * frame the engine did not track: what it places there is revoked */
	__u32 ign_end;
	/* one CPU at a time tracks the flow (busy); a frame that finds it
	 * busy is not followed, and says so (missed) */
	__u32 busy;
	__u32 missed;
	/* a gap took the header the tracker knew began here: its resent or
	 * late copy resumes tracking without a resync (ddp_late_header) */
	__u32 late_hdr;

	/* engine: resync */
	__u32 cand_seq; /* candidate header's first byte */
	__u32 chain; /* headers matched after the candidate */
	__u32 req_seq; /* pending request: header's first byte */
	__u32 req_id; /* pending request: id, echoed in the reply */
	__u64 reply_seen; /* last resync_reply value acted on */

	/* engine: placement records and revocations (DDP_SK_RECORDS) */
	__u32 rec_head; /* records written */
	__u32 rev_head; /* revocations written */
	struct ddp_rev rev[DDP_REV_RING];
	/* the last gaps: bytes the engine never saw, so never placed */
	__u32 hole_head;
	__u32 pad3;
	struct ddp_rev holes[DDP_HOLES];

	/* engine: per-connection counters */
	__u64 placed_bytes;
	__u64 placed_pdus;
	__u64 resyncs;

	/* engine: the data digest of the current PDU (ddp_ddgst.h) */
	__u32 crc; /* CRC32C of its data so far, not inverted */
	__u32 ddgst_rec; /* rec_head when it began: its records follow */
	__u32 ddgst_rev; /* rev_head when it began */
	__u8 ddgst; /* enum ddp_ddgst */
	__u8 hdr_ign; /* a byte of its header was below ign_end */
	__u8 pad4[2];
	/* its DDGST as gathered: 4 bytes; 8 so that any offset < 4 plus
	 * any length <= 4 is in bounds for the verifier */
	__u8 ddgst_wire[8];

	/* engine: gathered header bytes; 64 so that any offset < 24 plus
	 * any length <= 24 is in bounds for the verifier */
	__u8 hdr[64];
};

/* Where the digest of the current C2HData PDU stands. */
enum ddp_ddgst {
	DDP_DDGST_NONE = 0, /* no digest, or not judged */
	DDP_DDGST_RUN = 1, /* every byte so far seen in order, and digested */
	DDP_DDGST_LOST = 2, /* some byte was not: its verdict is unknown */
};

/* The host's answer to resync request (seq, id): one 8-byte store. */
#define DDP_RESYNC_REPLY(seq, id, confirm)                             \
	(((__u64)((((__u32)(id)) << 1) | ((confirm) ? 1 : 0)) << 32) | \
	 (__u32)(seq))

/*
 * A run of placed C2HData bytes, [seq, seq + len), all in one PDU
 * (kernel-socket host): record n of a flow, in ring slot n % its
 * rec_ring, ddp_recs entry rec_first + that slot.
 * It is revoked if any ddp_rev written since `rev` overlaps it, or if
 * DDP_REV_RING or more revocations were written since (the engine adds
 * DDP_REV_RING to rev_head to revoke every record at once). The engine
 * never waits for the host: record n is gone once rec_head passed
 * n + rec_ring, which the host checks after reading it.
 *
 * The last record of a PDU with a data digest also carries the engine's
 * verdict on it, written when the PDU ends (see ddp_ddgst_verdict()).
 */
struct ddp_rec {
	__u32 seq;
	__u32 len;
	__u32 rev; /* flow's rev_head when the record was opened */
	__u16 cid;
	__u8 ddgst; /* enum ddp_verdict of its PDU, once known */
	__u8 pad;
};

/* ---- Tags: destination buffers ------------------------------------------- */

/*
 * A tag's state and generation share one word (stamp), so that one load
 * sees both: the generation changes at every setup and every teardown,
 * and a placement continues only while the stamp is the one its PDU
 * began with. A placement counts itself in writers before it looks at the
 * stamp; teardown changes the stamp before it looks at writers: one of
 * them sees the other, so a dead tag with no writers is written no more.
 */
enum ddp_tag_state {
	DDP_TAG_FREE = 0,
	DDP_TAG_ACTIVE = 1,
	DDP_TAG_DEAD = 2, /* torn down, a placement still writing it */
	DDP_TAG_BUSY = 3, /* being set up or torn down */
};
#define DDP_TAG_STATE(stamp) ((stamp)&3)
#define DDP_TAG_GEN(stamp) ((stamp) >> 2)
#define DDP_TAG_STAMP(gen, state) (((gen) << 2) | (state))

/* A piece of a destination buffer: offset and length in the buffer region */
struct ddp_seg {
	__u32 addr;
	__u32 len;
};

/* A segment of a tag, in the shared segment pool (ddp_segs) */
struct ddp_seg_ent {
	__u32 addr;
	__u32 len;
	__u32 end; /* end of this segment within the command */
	__u32 pad;
};

/* A tag slot (a flow's tag_first + tag) in the mmapable ddp_tags map,
 * written by the control programs only. Its segments are ddp_segs
 * [seg_first, seg_first + nsegs), a run of blocks it holds from setup
 * until it is free again: seg_mask in word seg_word of ddp_seg_map. */
struct ddp_tag {
	__u32 stamp; /* DDP_TAG_STAMP(generation, enum ddp_tag_state) */
	__u32 flow_id;
	__u16 cid;
	__u16 nsegs;
	__u32 len; /* total bytes */
	__u32 writers; /* placements copying into the buffer right now */
	__u32 seg_first;
	/* 0: segments are offsets in the buffer region; else in this pin of
	 * kmod_glue's module (struct ddp_pin_req) */
	__u64 pin;
	__u64 seg_mask;
	__u32 seg_word;
	__u32 pad;
};

/* Key of ddp_cids */
struct ddp_cid_key {
	__u32 flow_id;
	__u16 cid;
	__u16 pad;
};

/* ---- What the host receives ---------------------------------------------- */

#define DDP_META_MAGIC 0xdd9a

enum ddp_meta_flags {
	/* the placed ranges were cut out of the frame: the payload holds the
	 * other bytes, in order; IP and TCP headers are as received */
	DDP_META_COMPACT = 1 << 0,
	/* the engine computed the TCP checksum of the frame as received,
	 * and it was right: the host need not check it again */
	DDP_META_CSUM = 1 << 1,
};

/* XDP metadata in front of an AF_XDP frame of an offloaded flow: the TCP
 * payload byte ranges of this frame that were placed, in the payload as
 * it was received, and a data digest verdict. At most 32 bytes: the
 * kernel's limit. */
struct ddp_meta {
	__u16 magic;
	__u8 nr;
	__u8 flags; /* enum ddp_meta_flags */
	struct {
		__u16 off; /* from the first TCP payload byte */
		__u16 len;
	} r[DDP_META_RANGES];
	/* The data digest verdict (enum ddp_verdict) of a C2HData PDU whose
	 * DDGST ends in this frame, at payload offset ddgst_end: the first of
	 * them, if several do. Believed only if the transport took every byte
	 * of the PDU from the first copy it was sent (see utcp). */
	__u16 ddgst_end;
	__u8 ddgst;
	__u8 pad;
};

enum ddp_event_type {
	DDP_EV_RESYNC = 1, /* is there a PDU header at seq? */
};

/* ddp_events ring buffer record */
struct ddp_event {
	__u32 type;
	__u32 flow_id;
	__u32 seq; /* TCP seq of the candidate header's FIRST byte */
	__u32 req_id;
};

/* ---- Statistics: ddp_stats, one per CPU ----------------------------------- */

/* One list: the struct below and the names the tools print. */
#define DDP_STATS(X)                                                       \
	/* the specification's nine and sk_add_fail */                     \
	X(queue_init) /* sk_add succeeded */                               \
	X(queue_teardown) /* sk_del */                                     \
	X(ddp_setup) /* tags registered */                                 \
	X(ddp_setup_fail) /* tag registrations refused */                  \
	X(ddp_teardown) /* tags torn down */                               \
	X(drop) /* frames unplaced on an error (passed, never dropped) */  \
	X(resync) /* resync requests sent */                               \
	X(offload_packets) /* frames with placed bytes */                  \
	X(offload_bytes) /* bytes placed */                                \
	X(sk_add_fail) /* sk_add refused */                                \
	/* more */                                                         \
	X(rx_packets) /* frames with payload on offloaded flows */         \
	X(rx_bytes) /* their TCP payload bytes */                          \
	X(pdus) /* PDU headers framed */                                   \
	X(pdu_err) /* malformed PDU headers in sync: sync lost */          \
	X(no_tag) /* C2HData without a registered tag */                   \
	X(small_io) /* C2HData of tags under io_threshold */               \
	X(bad_tag) /* C2HData not inside its tag's buffer */               \
	X(retrans) /* segments (partly) before the expected seq */         \
	X(gap_absorbed) /* gaps of data bytes only: no resync needed */    \
	X(sync_lost) /* gaps or errors that started a header search */     \
	X(resync_confirm) /* confirmations accepted */                     \
	X(resync_deny) /* denials accepted */                              \
	X(resync_stale) /* replies that matched no pending request */      \
	X(meta_full) /* placements skipped: frame metadata full */         \
	X(csum_bad) /* header frames with a bad checksum: not tracked */   \
	X(csum_partial) /* header frames taken on a partial checksum */    \
	X(untracked) /* segments not followed (fragments): revoked */      \
	X(unparsed) /* unreadable packets (ESP): flows' records revoked */ \
	X(revoked) /* revocations written */                               \
	X(contended) /* frames another CPU was tracking the flow of */     \
	X(compacted) /* AF_XDP frames cut down to their unplaced bytes */  \
	X(xsk_no_meta) /* AF_XDP frames dropped: no room for metadata */   \
	/* the data digest offload: verdicts of C2HData PDUs */            \
	X(ddgst_ok) /* data matched the DDGST */                           \
	X(ddgst_bad) /* data did not match the DDGST */                    \
	X(ddgst_unknown) /* framed in sync, but not all seen in order */

struct ddp_stats {
#define DDP_STAT_FIELD(name) __u64 name;
	DDP_STATS(DDP_STAT_FIELD)
#undef DDP_STAT_FIELD
};

/* ---- The instance: ddp_info, pinned with the engine ----------------------- */

#define DDP_CHUNK_SIZE (1u << 20) /* unit of the region shared out */
#define DDP_CHUNKS_MAX 512 /* a region of at most 512 MiB */
#define DDP_OWNERS_MAX 64 /* processes using one engine at once */

/*
 * A process using the engine. Its flows and region chunks name it by slot;
 * the control programs act for it only when called by that process (tgid,
 * as the kernel numbers it in its initial pid namespace). Whether it is
 * alive does not depend on that number: token is the id of a BPF map the
 * process holds open and nobody pins, gone when the process is.
 */
enum ddp_owner_state {
	DDP_OWNER_FREE = 0,
	DDP_OWNER_BUSY = 1, /* being claimed */
	DDP_OWNER_LIVE = 2,
	DDP_OWNER_REAPING = 3, /* found dead: its flows are being deleted */
};

struct ddp_owner {
	__u32 state; /* enum ddp_owner_state */
	__u32 tgid;
	__u32 token; /* id of the process's liveness map */
	__u32 pad;
};

/* chunk_owner[]: 0 free, else the owner's slot + 1, with this bit set for
 * the chunks of an AF_XDP socket's frames, which no tag may use. */
#define DDP_CHUNK_FRAMES (1u << 31)
#define DDP_CHUNK_OWNER(v) (((v) & ~DDP_CHUNK_FRAMES) - 1)

/* Written once by whoever attached the engine; read by those who join.
 * owners[] and chunk_owner[] change later, through the control programs
 * only: everyone else maps ddp_info read-only. */
struct ddp_info {
	__u32 abi_version; /* DDP_ABI_VERSION of the build that attached */
	__u32 max_flows;
	__u32 tags_per_flow;
	__u32 buf_size;
	__u32 io_threshold;
	__u32 ifindex;
	__u64 netns_ino; /* network namespace of ifindex */
	__u32 xdp_flags; /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
	/* The TCP checksums of header frames are always checked. Where the
	 * kernel itself hands on segments whose checksum field holds only
	 * the pseudo-header sum (CHECKSUM_PARTIAL: a sender on this host
	 * leaving it to offload, through veth or tun, or any segment in skb
	 * mode), such a field is accepted as the kernel accepts it. */
	__u32 csum_partial;
	__u32 csum_max; /* bytes one bpf_csum_diff() call takes (probed) */
	__u32 ddgst_offload; /* data digests checked (ddp_ddgst.h) */
	__u32 crc_kfunc; /* ... by kmod_glue's kfunc (cfg_crc_kfunc) */
	__u32 pin_kfunc; /* tags may place into pins (cfg_pin_kfunc) */
	__u32 seg_pool; /* segments in ddp_segs */
	__u32 rec_ring; /* records of a flow's ring at most */
	__u32 tag_pool; /* tags in ddp_tags */
	__u32 rec_pool; /* records in ddp_recs */
	struct ddp_owner owners[DDP_OWNERS_MAX];
	__u32 chunk_owner[DDP_CHUNKS_MAX];
};

/* ---- Control programs (BPF_PROG_TYPE_SYSCALL, run with test_run) --------- */

/*
 * Each returns 0 or -errno and acts only for its caller: on flows whose
 * owner is the calling process (or, for sk_del, an owner found dead), on
 * chunks it owns. -EPERM: someone else's.
 */

/* ddp_owner_add: token in, owner slot out. ddp_owner_reap: the owner is
 * dead (user space saw its token gone): its flows may be deleted by
 * anyone. ddp_owner_del: the owner's flows are all free (deleted and
 * released after a sync): its chunks and its slot are free again. */
struct ddp_ctl_owner {
	__u32 owner;
	__u32 token;
};

/* ddp_chunk_get: claims chunks [first, first + n) if all are free;
 * ddp_chunk_put: frees those of them the owner holds. */
struct ddp_ctl_chunks {
	__u32 owner;
	__u32 first;
	__u32 n;
	__u32 flags; /* DDP_CHUNK_FRAMES */
};

/* ddp_sk_add: returns 0 and flow_id, or -errno */
struct ddp_ctl_sk_add {
	struct ddp_flow_key key;
	struct ddp_sk_config cfg;
	__u32 owner;
	__u32 flow_id; /* out */
};

/* ddp_sk_update: a new config (and a fresh tracker) for a live flow */
struct ddp_ctl_sk_update {
	__u32 flow_id;
	__u32 pad;
	struct ddp_sk_config cfg;
};

/* ddp_sk_del: tears down the flow's tags; returns 0 or -errno */
struct ddp_ctl_sk_del {
	__u32 flow_id;
	__u32 torn; /* out: tags torn down with it */
};

/* ddp_setup: registers the buffer of command cid in a free tag of the
 * flow. Segments lie in chunks the flow's owner holds, not frames, or,
 * with a pin, in that pin, which the caller made. The whole struct is
 * passed whatever nsegs is. */
struct ddp_ctl_setup {
	__u32 flow_id;
	__u16 cid;
	__u16 nsegs;
	__u32 tag; /* out: 0 .. the flow's tag_count - 1 */
	__u32 len; /* out: total bytes */
	__u64 pin; /* 0, or the pin segments are offsets in */
	struct ddp_seg segs[DDP_MAX_SEGS];
};

/* ddp_teardown: (flow_id, cid) stops being placed; returns the tag, and
 * whether it is free already (no placement was writing its buffer). */
struct ddp_ctl_teardown {
	__u32 flow_id;
	__u16 cid;
	__u16 pad;
	__u32 tag; /* out */
	__u32 freed; /* out: 1, or 0 if DEAD until a release frees it */
};

/* ddp_setup_many: ddp_setup of one segment each for e[0, n) of one flow in
 * one call, the reads a host sends together; each entry's tag, or -errno
 * (its length is the segment's) */
#define DDP_SETUP_MANY 32
struct ddp_ctl_setup_many {
	__u32 flow_id;
	__u32 n; /* 1 .. DDP_SETUP_MANY */
	struct {
		__u16 cid;
		__u16 pad;
		__u32 addr;
		__u32 len;
		__s32 tag; /* out */
	} e[DDP_SETUP_MANY];
};

/* ddp_teardown_many: ddp_teardown for e[0, n) of one flow in one call, the
 * CIDs a poll of the host's completed; each entry's tag, or -errno */
#define DDP_TD_MANY 32
struct ddp_ctl_teardown_many {
	__u32 flow_id;
	__u32 n; /* 1 .. DDP_TD_MANY */
	struct {
		__u16 cid;
		__u16 freed; /* out */
		__s32 tag; /* out: as ddp_teardown's, or -ENOENT */
	} e[DDP_TD_MANY];
};

/* ddp_resync: the host's answer, DDP_RESYNC_REPLY(seq, id, confirm) */
struct ddp_ctl_resync {
	__u32 flow_id;
	__u32 pad;
	__u64 reply;
};

/*
 * A tag is free once no placement writes it (see struct ddp_tag): at once
 * in ddp_teardown mostly, else by a later ddp_release. A deleted flow's
 * memory is read by engine runs without a count, so it is freed in three
 * steps, batched by the library:
 *   ddp_sk_del                 marks the flow DEAD at the current epoch;
 *   ddp_sync_begin             starts a new epoch E;
 *   update of ddp_sync         waits for every running engine program;
 *   ddp_release(flow, E)       frees the flow if it died before E, and its
 *                              dead tags that nobody writes.
 */
struct ddp_ctl_sync_begin {
	__u64 epoch; /* out */
};

struct ddp_ctl_release {
	__u32 flow_id;
	__u32 freed; /* out: tags freed (the flow itself not counted) */
	__u64 epoch; /* from ddp_sync_begin, after the wait */
};

/* The mmapped arrays' values lie 8 bytes apart: the structs must agree. */
_Static_assert(sizeof(struct ddp_flow) % 8 == 0, "ddp_flow: 8-byte multiple");
_Static_assert(sizeof(struct ddp_tag) % 8 == 0, "ddp_tag: 8-byte multiple");
_Static_assert(sizeof(struct ddp_rec) % 8 == 0, "ddp_rec: 8-byte multiple");
_Static_assert(sizeof(struct ddp_info) % 8 == 0, "ddp_info: 8-byte multiple");

#endif /* DDP_H */
