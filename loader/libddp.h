/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libddp.h - the control library of the DDP engine: what an L5P links.
 *
 * The seed's tcp_ddp_ops for user space: sk_add, sk_del, setup, teardown,
 * resync, limits and statistics, over one engine instance (struct ddp_dev).
 * Functions return 0 or a negative errno and, on failure, leave a message
 * naming the step, the object and the reason in ddp_errmsg(dev).
 */
#ifndef LIBDDP_H
#define LIBDDP_H

#include <stddef.h>
#include <linux/types.h>
#include "ddp.h"

/* Sizes fixed when the engine is loaded; 0 means the default. */
struct ddp_limits {
	__u32 max_flows; /* offloaded connections */
	__u32 tags_per_flow; /* tags registered at once per connection */
	__u32 buf_size; /* buffer region bytes, a multiple of 4096 */
	__u32 io_threshold; /* smallest tag placed (default for sk_add) */
};

struct ddp_dev;

/* Load an engine instance without attaching it (tests, benchmarks). On
 * failure ddp_errmsg(NULL) says why. */
int ddp_dev_load(const struct ddp_limits *lim, struct ddp_dev **out);
void ddp_dev_close(struct ddp_dev *d);
const char *ddp_errmsg(const struct ddp_dev *d);

/* What this instance was loaded with. */
void ddp_dev_limits(const struct ddp_dev *d, struct ddp_limits *lim);
int ddp_xdp_prog_fd(const struct ddp_dev *d);
/* fd of one of the engine's maps, by name (ddp_flows, ddp_stats...) */
int ddp_map_fd(const struct ddp_dev *d, const char *name);

/* Offload a connection; on failure the L5P goes on in software. */
int ddp_sk_add(struct ddp_dev *d, const struct ddp_flow_key *key,
	       const struct ddp_sk_config *cfg, __u32 *flow_id);
/* Stop offloading it; its tags are torn down with it. The flow id is free
 * again once a ddp_sync() and ddp_release() have passed. */
int ddp_sk_del(struct ddp_dev *d, __u32 flow_id);

/* Register the buffer of command `cid` as tag `tag` of the flow. */
int ddp_setup(struct ddp_dev *d, __u32 flow_id, __u32 tag, __u16 cid,
	      const struct ddp_seg *segs, __u32 nsegs);
/* Stop placing into it. The engine may still be writing it until a
 * ddp_sync() has returned; *tag (optional) names the tag slot used. */
int ddp_teardown(struct ddp_dev *d, __u32 flow_id, __u16 cid, __u32 *tag);

/* Wait until no engine program that saw anything torn down before this
 * call still runs; *epoch is what ddp_release() then frees up to. */
int ddp_sync(struct ddp_dev *d, __u64 *epoch);
/* Free the flow's tags (and the flow, if deleted) that died before epoch. */
int ddp_release(struct ddp_dev *d, __u32 flow_id, __u64 epoch, __u32 *freed);

/* The host's answer to resync request (seq, req_id) of a flow. */
void ddp_resync_reply(struct ddp_dev *d, __u32 flow_id, __u32 seq, __u32 req_id,
		      int confirm);

/* Counters summed over CPUs. */
int ddp_stats_read(struct ddp_dev *d, struct ddp_stats *sum);
/* Name of counter i of struct ddp_stats (NULL past the last one). */
const char *ddp_stat_name(unsigned int i);
#define DDP_STATS_NR (sizeof(struct ddp_stats) / sizeof(__u64))

/* Shared memory, read by the host, written as the ABI says. */
__u8 *ddp_buf_mem(const struct ddp_dev *d);
struct ddp_flow *ddp_flow_mem(const struct ddp_dev *d, __u32 flow_id);
struct ddp_tag *ddp_tag_mem(const struct ddp_dev *d, __u32 flow_id, __u32 tag);
struct ddp_rec *ddp_rec_mem(const struct ddp_dev *d, __u32 flow_id, __u32 n);

/* Whether record r of the flow may still be skipped: no revocation
 * written since it was opened overlaps it. Call it only for bytes the
 * transport has already taken in order. */
int ddp_rec_valid(const struct ddp_dev *d, __u32 flow_id,
		  const struct ddp_rec *r);

/* Resync requests: fd to poll, and a drain calling cb for each event. */
typedef void (*ddp_event_cb)(void *arg, const struct ddp_event *ev);
int ddp_events_fd(const struct ddp_dev *d);
int ddp_events_drain(struct ddp_dev *d, ddp_event_cb cb, void *arg);

#endif /* LIBDDP_H */
