/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libddp.h - the control library of the DDP engine: what an L5P links.
 *
 * The specification's tcp_ddp_ops for user space: sk_add, sk_del, setup,
 * teardown (asynchronous, with teardown_done), resync, limits and
 * statistics, over one engine instance (struct ddp_dev) attached to an
 * interface, or joined there through the maps pinned under
 * /sys/fs/bpf/ddp/<ifname>/.
 *
 * Functions return 0 (or a count) or a negative errno and, on failure,
 * leave a message naming the step, the object, the reason and the fix in
 * ddp_errmsg(dev). A ddp_dev may be used from several threads.
 */
#ifndef LIBDDP_H
#define LIBDDP_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#include "ddp.h"
#include "ddp_records.h"

#define DDP_PIN_ROOT "/sys/fs/bpf/ddp"

struct ddp_dev;

/* ---- Instances ------------------------------------------------------------ */

/* Sizes fixed when the engine is loaded; 0 means the default. */
struct ddp_limits {
	__u32 max_flows; /* offloaded connections */
	/* tags registered at once per connection, at most 1024: a
	 * connection holds as many as its queue size, up to this */
	__u32 tags_per_flow;
	/* tags of all connections at once, a multiple of 16, at most
	 * 1,048,576 (default: every flow at tags_per_flow); a connection
	 * takes its tags rounded up to 16 */
	__u32 tag_pool;
	__u32 buf_size; /* buffer region bytes, a multiple of 4096 */
	__u32 io_threshold; /* smallest tag placed (default for sk_add) */
	/* buffer segments of all tags at once, a multiple of 256 (default
	 * 8 a tag); a tag takes its segments rounded up to 4 */
	__u32 seg_pool;
	/* placement records of a kernel-socket flow at most, a power of 2
	 * from 64 to 1024 (default 8 a tag): what its host may fall behind
	 * the engine. A flow's ring is 8 records a tag it holds, at least
	 * 64, from a pool of rec_pool records, a multiple of 16 (default:
	 * every flow at rec_ring, as far as the tag pool lets them hold
	 * their tags); AF_XDP flows take none. */
	__u32 rec_ring;
	__u32 rec_pool;
	bool no_ddgst_offload; /* data digests not checked by the engine */
	/* the kernel module's kfuncs (kmod_glue) not used, even if loaded */
	bool no_kfuncs;
};

enum ddp_mode {
	DDP_MODE_AUTO = 0, /* native, else generic with a notice */
	DDP_MODE_NATIVE,
	DDP_MODE_SKB,
};

struct ddp_attach_opts {
	enum ddp_mode mode;
	struct ddp_limits lim;
};

/* Load the engine, attach it to ifname and pin it for others to join.
 * Refuses an interface with any other XDP program. */
int ddp_dev_attach(const char *ifname, const struct ddp_attach_opts *opts,
		   struct ddp_dev **out);
/* Use the engine someone attached to ifname. */
int ddp_dev_join(const char *ifname, struct ddp_dev **out);
/* Take the engine off ifname and remove its pins; those who joined keep
 * working on what they hold until they close. */
int ddp_dev_detach(const char *ifname);
/* Load an engine without attaching or pinning it (tests, benchmarks). */
int ddp_dev_load(const struct ddp_limits *lim, struct ddp_dev **out);
/* Release this process's handle: pending teardowns are completed first.
 * An attached engine stays attached. */
void ddp_dev_close(struct ddp_dev *d);

/* Why the last call failed; ddp_errmsg(NULL): why the last attach, join,
 * detach or load of this thread failed. */
const char *ddp_errmsg(const struct ddp_dev *d);
/* Something worth telling about a successful attach (a mode fallback),
 * or NULL. */
const char *ddp_dev_notice(const struct ddp_dev *d);

/* What the engine can do, as the specification's driver reports its
 * limits. */
struct ddp_caps {
	__u32 max_segs; /* buffer segments per tag */
	__u32 io_threshold; /* sk_add's default: smaller tags not placed */
	__u32 max_flows;
	__u32 max_tags; /* in all: the tag pool */
	__u32 tags_per_flow; /* registered at once per connection */
	__u32 buf_size; /* buffer region bytes */
	__u32 seg_pool; /* segments of all tags at once */
	__u32 rec_ring; /* placement records of a flow at most */
	__u32 rec_pool; /* records of all kernel-socket flows at once */
	__u32 digests; /* NVME_TCP_DGST_*: framed with them on */
	/* The engine checks the data digest of each C2HData PDU it follows,
	 * and tells the host its verdict (ddp_ddgst_verdict(), AF_XDP frame
	 * metadata): the host computes CRC32C only where it has none */
	bool crc_offload;
	/* ... with the kernel's crc32c, by kmod_glue's kfunc (the module was
	 * loaded when the engine was), not the engine's own tables */
	bool crc_kfunc;
	/* A tag's segments may lie in any buffer of the caller's memory,
	 * pinned by kmod_glue's module (ddp_pin_buf(), ddp_setup_pinned()), not
	 * only in the buffer region */
	bool pinned_buffers;
	bool full_cid_range; /* true: any 16-bit CID */
	/* The engine checks the TCP checksum of every frame whose PDU header
	 * bytes it uses, with calls of at most csum_max bytes (the kernel's
	 * limit); where the kernel hands on partial checksums (veth, tun,
	 * skb mode) it accepts them as the kernel does (csum_partial). */
	__u32 csum_max;
	bool csum_partial;
	__u32 ifindex; /* 0: not attached */
	__u32 xdp_flags; /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
};
void ddp_dev_caps(const struct ddp_dev *d, struct ddp_caps *caps);
/* Segments of the pool that tags hold now (blocks of 4) */
int ddp_seg_pool_used(struct ddp_dev *d, __u32 *used);
/* Tags the flows hold in the tag pool (rounded up to 16 each) */
int ddp_tag_pool_used(struct ddp_dev *d, __u32 *used);
/* Records the kernel-socket flows hold in their rings */
int ddp_rec_pool_used(struct ddp_dev *d, __u32 *used);
/* Chunks of the buffer region processes hold now (AF_XDP frames' too),
 * of the *total it has: a process that is gone holds its own until it is
 * reaped (ddp_dev_reap) */
int ddp_region_chunks_held(struct ddp_dev *d, __u32 *held, __u32 *total);

/* Clean up after processes that used the engine and are gone: their flows
 * deleted, their tags torn down, then their region chunks freed. Returns
 * how many, and what each held (up to max of them in out). Done also when
 * a process first needs room, and by 'ddpctl reap'. */
struct ddp_reaped {
	__u32 owner; /* slot */
	__u32 tgid; /* pid, as the kernel numbers it (initial pid namespace) */
	__u32 flows, tags, chunks;
};
int ddp_dev_reap(struct ddp_dev *d, struct ddp_reaped *out, int max);

/* ---- The buffer region ------------------------------------------------------
 * Shared by all who use the instance: placement writes into it, and it is
 * registrable as AF_XDP UMEM. Offsets, not pointers, name buffers. A
 * process claims 1 MiB chunks of it; its tags may point only into its own
 * chunks, never into AF_XDP frames. */

__u8 *ddp_buf_mem(const struct ddp_dev *d);
__u32 ddp_buf_size(const struct ddp_dev *d);
/* size bytes aligned to align (a power of two, 0: 64); *off names them. */
int ddp_buf_alloc(struct ddp_dev *d, __u32 size, __u32 align, __u32 *off);
/* size bytes of AF_XDP frames, in whole chunks no tag may use. */
int ddp_buf_alloc_frames(struct ddp_dev *d, __u32 size, __u32 *off);
/* -EBUSY while a tag of ours may still write it (until teardown_done). */
int ddp_buf_free(struct ddp_dev *d, __u32 off);

/* ---- Connections and tags ------------------------------------------------ */

/* addr, an IPv4 address in network order, IPv4-mapped (::ffff:a.b.c.d):
 * how the engine keys IPv4 */
static inline void ddp_addr_v4mapped(__u8 mapped[16], __be32 addr)
{
	memset(mapped, 0, 10);
	mapped[10] = mapped[11] = 0xff;
	memcpy(&mapped[12], &addr, 4);
}

/* The key of an IPv4 flow, addresses and ports in network order. */
static inline void ddp_flow_key_ipv4(struct ddp_flow_key *key, __be32 laddr,
				     __be16 lport, __be32 raddr, __be16 rport)
{
	memset(key, 0, sizeof(*key));
	ddp_addr_v4mapped(key->raddr, raddr);
	ddp_addr_v4mapped(key->laddr, laddr);
	key->rport = rport;
	key->lport = lport;
}

/* Offload a connection; on failure the L5P goes on in software. The flow
 * id names this incarnation: once deleted, it names nothing. Flows and
 * tags act only for the process that added them. */
int ddp_sk_add(struct ddp_dev *d, const struct ddp_flow_key *key,
	       const struct ddp_sk_config *cfg, __u32 *flow_id);
/* A new config for a flow already added, with the tracker starting at
 * cfg->start_seq: how an AF_XDP host, steered from its SYN on, installs
 * the offload once ICResp is read (nothing may be in flight). */
int ddp_sk_update(struct ddp_dev *d, __u32 flow_id,
		  const struct ddp_sk_config *cfg);
/* Stop offloading it; its tags go with it (without teardown_done). */
int ddp_sk_del(struct ddp_dev *d, __u32 flow_id);

/* Register the buffer of command cid; *tag (optional) says which tag.
 * Segments lie in this process's buffers and overlap no other live tag's
 * (nor each other). */
int ddp_setup(struct ddp_dev *d, __u32 flow_id, __u16 cid,
	      const struct ddp_seg *segs, __u32 nsegs, __u32 *tag);
/* ddp_setup of one segment each, segs[i] for cids[i], i < n, of one flow,
 * in one system call per DDP_SETUP_MANY (the reads a host sends
 * together): 0 or a negative errno into res[i], the tag into tags[i] (if
 * tags). Each entry is judged as ddp_setup would, the others of the call
 * counted among the live tags. */
void ddp_setup_many(struct ddp_dev *d, __u32 flow_id, const __u16 *cids,
		    const struct ddp_seg *segs, __u32 *tags, int *res, __u32 n);
/* The same into a buffer pinned by ddp_pin_buf() (caps.pinned_buffers):
 * segments are offsets in it. */
int ddp_setup_pinned(struct ddp_dev *d, __u32 flow_id, __u16 cid, __u64 pin,
		     const struct ddp_seg *segs, __u32 nsegs, __u32 *tag);
/* Pin len bytes of this process's memory at buf through kmod_glue's
 * module, for tags to place into; *pin names it. Unpin only once no tag
 * of it is live (a tag of an unpinned buffer places nothing, and its
 * reads are copied). Closing the device (ddp_dev_close, exit) unpins all. */
int ddp_pin_buf(struct ddp_dev *d, void *buf, size_t len, __u64 *pin);
int ddp_unpin_buf(struct ddp_dev *d, __u64 pin);

/* Stop placing for cid. Returns 1 if the buffer is the caller's again
 * at once (no teardown_done follows); 0 if a placement was writing it:
 * the engine may then write it until teardown_done(ctx) is delivered by
 * ddp_dev_process(); or a negative errno. */
int ddp_teardown(struct ddp_dev *d, __u32 flow_id, __u16 cid, void *ctx);
/* ddp_teardown of cids[0, n) of one flow, with ctxs[i] (or NULL), in one
 * system call per DDP_TD_MANY: what it returns for cids[i] into res[i]
 * (an error for all of them if the call fails, a flow not the caller's
 * say). A host ends the commands one poll completed so. */
void ddp_teardown_many(struct ddp_dev *d, __u32 flow_id, const __u16 *cids,
		       void *const *ctxs, int *res, __u32 n);

/* ---- What the engine asks and tells ---------------------------------------- */

struct ddp_ulp_ops {
	/* is there a PDU header whose first byte is TCP sequence seq?
	 * Answer with ddp_resync() once the stream got there. */
	void (*resync_request)(void *arg, __u32 flow_id, __u32 seq,
			       __u32 req_id);
	/* the engine will never again write the buffer torn down with ctx */
	void (*teardown_done)(void *arg, void *ctx);
	void *arg;
};

/* Readable (epoll, poll) when ddp_dev_process() has something to deliver.
 * Resync requests of this process's flows are also found without it:
 * call ddp_dev_process() whenever convenient. */
int ddp_dev_fd(const struct ddp_dev *d);
/* Deliver what is pending; returns how many callbacks ran. */
int ddp_dev_process(struct ddp_dev *d, const struct ddp_ulp_ops *ops);
/* The host's answer to request (seq, req_id) of a flow of its own. */
int ddp_resync(struct ddp_dev *d, __u32 flow_id, __u32 seq, __u32 req_id,
	       bool confirm);

/* ---- Statistics ------------------------------------------------------------ */

/* Counters summed over CPUs, named as the engine names them. */
int ddp_stats_read(struct ddp_dev *d, struct ddp_stats *sum);
#define DDP_STATS_NR (sizeof(struct ddp_stats) / sizeof(__u64))
/* Name of counter i of struct ddp_stats (NULL past the last one). */
const char *ddp_stat_name(unsigned int i);

/* ---- Shared memory, read as the ABI says (read-only) ----------------------- */

/* The slot of flow_id (whatever incarnation is in it now) */
const struct ddp_flow *ddp_flow_mem(const struct ddp_dev *d, __u32 flow_id);
/* Tag `tag` (0 .. its tag count - 1) of the flow in flow_id's slot */
const struct ddp_tag *ddp_tag_mem(const struct ddp_dev *d, __u32 flow_id,
				  __u32 tag);
/* The tags the flow in flow_id's slot holds */
__u32 ddp_flow_tag_count(const struct ddp_dev *d, __u32 flow_id);
/* Record n of a flow, if written and not yet overwritten: a copy in *r. */
bool ddp_rec_read(const struct ddp_dev *d, __u32 flow_id, __u32 n,
		  struct ddp_rec *r);
/* Whether record r may still be skipped: no revocation written since it
 * was opened overlaps it. Ask only for bytes the transport has already
 * taken in order. */
bool ddp_rec_valid(const struct ddp_dev *d, __u32 flow_id,
		   const struct ddp_rec *r);
/* How the n bytes of flow_id from seq start, for command cid: the reading
 * of ddp_rec_run() (ddp_records.h), *tail the caller's cursor. Ask only
 * for bytes the transport has already taken in order. */
__u32 ddp_rec_run_of(const struct ddp_dev *d, __u32 flow_id, __u32 *tail,
		     __u32 seq, __u32 n, __u16 cid, enum ddp_run *run,
		     __u32 *rec);
/* The engine's data digest verdict (enum ddp_verdict) on the C2HData PDU
 * of command cid that took sequence numbers [seq, end), DDGST included,
 * as record n (the last of its records the host used) carries it:
 * DDP_VERDICT_NONE unless n is the PDU's, still there, judged, and no
 * revocation written since it was opened overlaps the PDU. Ask only once
 * the transport has taken the whole PDU in order. */
int ddp_ddgst_verdict(const struct ddp_dev *d, __u32 flow_id, __u32 n,
		      __u16 cid, __u32 seq, __u32 end);

int ddp_xdp_prog_fd(const struct ddp_dev *d);
/* fd of one of the engine's maps, by name (ddp_xsks, ddp_stats...) */
int ddp_map_fd(const struct ddp_dev *d, const char *name);

#endif /* LIBDDP_H */
