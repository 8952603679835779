/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libddp_priv.h - the library's own view of an instance, and the
 * low-level control calls its tests and tools also use.
 */
#ifndef LIBDDP_PRIV_H
#define LIBDDP_PRIV_H

#include <pthread.h>
#include "libddp.h"

/* The engine's maps and programs, by the names they are pinned under. */
/* clang-format reflows these lists differently at each run: */
/* clang-format off */
#define DDP_MAPS(X)                                                    \
	X(ddp_socks)                                                   \
	X(ddp_flows)                                                   \
	X(ddp_cids)                                                    \
	X(ddp_tags) X(ddp_tag_map) X(ddp_segs) X(ddp_seg_map) X(ddp_recs) X(ddp_rec_map) X(ddp_ports) X(ddp_bufs) X(ddp_events) \
		X(ddp_stats) X(ddp_xsks) X(ddp_sync) X(ddp_sync_inner) \
			X(ddp_info)
#define DDP_PROGS(X)                                                  \
	X(ddp_rx)                                                     \
	X(ddp_sk_add)                                                 \
	X(ddp_sk_update)                                              \
	X(ddp_sk_del)                                                 \
	X(ddp_setup) X(ddp_setup_many) X(ddp_teardown)                \
		X(ddp_teardown_many)                                  \
		X(ddp_sync_begin) X(ddp_release)                      \
		X(ddp_resync) X(ddp_owner_add) X(ddp_owner_reap)      \
			X(ddp_owner_del) X(ddp_chunk_get) X(ddp_chunk_put)
/* clang-format on */

#define DDP_ENUM(name) M_##name,
enum ddp_map_idx { DDP_MAPS(DDP_ENUM) DDP_MAP_NR };
#undef DDP_ENUM
#define DDP_ENUM(name) P_##name,
enum ddp_prog_idx { DDP_PROGS(DDP_ENUM) DDP_PROG_NR };
#undef DDP_ENUM

/* names.c */
extern const char *const ddp_map_names[DDP_MAP_NR];
extern const char *const ddp_prog_names[DDP_PROG_NR];

struct ring_buffer;
struct ddp_done;
struct ddp_bpf;

/* A byte range of the region a tag of this process may still write:
 * set up, and not yet known free (teardown_done, or its flow released). */
struct ddp_live {
	__u32 flow_id;
	__u32 tag;
	__u32 start, end;
};

/* a message's room: the kernel's reason and a hint besides ours */
#define DDP_MSG_LEN 512

struct ddp_dev {
	int map_fd[DDP_MAP_NR];
	int prog_fd[DDP_PROG_NR];
	struct ddp_bpf *skel; /* if loaded here */
	struct ddp_limits lim;
	char ifname[16];
	__u32 ifindex, xdp_flags;
	__u32 csum_max; /* bytes one bpf_csum_diff() takes */
	bool crc_kfunc; /* digests by the module's kfunc */
	bool pin_kfunc; /* tags may place into the module's pins */
	int pin_fd; /* the module's device, once a pin is made; else -1 */
	/* this process as an owner (owner.c), once it needs to be one */
	pthread_mutex_t owner_lock;
	bool owner_on;
	__u32 owner;
	int token_fd;
	/* the mmapped maps: read-only but for the region */
	struct ddp_info *info;
	__u8 *bufs;
	struct ddp_flow *flows;
	struct ddp_tag *tags;
	struct ddp_rec *recs;
	/* events: the ring (wake-ups), an eventfd (teardowns done), one
	 * epoll set holding both */
	struct ring_buffer *ring;
	int efd, epfd;
	/* flows this process added: resync requests already delivered */
	bool *mine;
	__u32 *req_seen;
	/* asynchronous teardown: a thread syncs and releases batches */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool thread_on, stopping;
	struct ddp_done *pending, *done;
	/* the buffer region allocator, and what tags of ours point at */
	struct ddp_alloc *alloc;
	pthread_mutex_t live_lock;
	struct ddp_live *live;
	size_t nlive, live_cap;
	char notice[DDP_MSG_LEN];
	char err[DDP_MSG_LEN];
};

/* Record a message for ddp_errmsg() and return -|err| (err.c). */
int ddp_err(struct ddp_dev *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for calls without an instance (attach, join, detach, load) */
int ddp_err0(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Instances (dev.c): a new one holding nothing */
struct ddp_dev *ddp_dev_new(void);
/* Map the mmapable maps, open the ring and the event fds. */
int ddp_dev_setup_common(struct ddp_dev *d);
/* Load the engine sized to in (defaults filled in, checked), set up. */
int ddp_load_instance(const struct ddp_limits *in, struct ddp_dev **out);
/* Write ddp_info, what those who join learn of the instance. */
int ddp_info_write(struct ddp_dev *d, __u32 ifindex, __u64 netns_ino,
		   __u32 xdp_flags);
/* The inode of this process's network namespace, 0 if unknown. */
__u64 ddp_netns_ino(void);

/* Run a control program; its return value or -errno (prog.c). */
int ddp_ctl_run(struct ddp_dev *d, enum ddp_prog_idx p, void *ctx, size_t len);
/* -ENOENT or -EPERM from a program about flow_id, said for step. */
int ddp_not_mine(struct ddp_dev *d, int err, const char *step, __u32 flow_id);
/* Control programs, one call each (prog.c): no queueing, no thread */
int ddp_ctl_sk_del(struct ddp_dev *d, __u32 flow_id);
/* 1: the tag is free already; 0: DEAD until a release frees it. */
int ddp_ctl_teardown(struct ddp_dev *d, __u32 flow_id, __u16 cid, __u32 *tag);
/* Start an epoch and wait for every running engine program. */
int ddp_sync(struct ddp_dev *d, __u64 *epoch);
/* Free the flow's dead tags no placement writes, and the flow, if it was
 * deleted before epoch. */
int ddp_release(struct ddp_dev *d, __u32 flow_id, __u64 epoch, __u32 *freed);
/* Stop the teardown thread once it has worked through what is pending
 * (ctl.c). */
void ddp_teardown_stop(struct ddp_dev *d);

/* The region allocator (bufs.c) */
int ddp_alloc_init(struct ddp_dev *d);
void ddp_alloc_fini(struct ddp_dev *d);
/* What tags of ours point at (bufs.c). With live_lock held: a new tag's
 * segments overlap neither each other nor a live tag (and there is room
 * to note them), then they are noted. ddp_live_del takes the lock and
 * forgets a tag once it is free (all: every tag of the flow). */
int ddp_live_check(struct ddp_dev *d, __u16 cid, const struct ddp_seg *segs,
		   __u32 nsegs);
void ddp_live_add(struct ddp_dev *d, __u32 flow_id, __u32 tag,
		  const struct ddp_seg *segs, __u32 nsegs);
void ddp_live_del(struct ddp_dev *d, __u32 flow_id, __u32 tag, bool all);

/* This process as an owner (owner.c) */
int ddp_owner_ensure(struct ddp_dev *d);
void ddp_owner_leave(struct ddp_dev *d);
/* A new liveness token: its fd, its map id in *id; or -errno */
int ddp_token_new(__u32 *id);
/* Owner o as a user reads it: "pid N", "dead N" (gone, not yet reaped),
 * "kernel" (kmod_glue's, for in-kernel L5Ps) */
const char *ddp_owner_str(const struct ddp_dev *d, __u32 o, char *buf,
			  size_t len);

/* The engine d attached, bound to kmod_glue's in-kernel L5P API; and the
 * engine of ifindex unbound, its in-kernel flows deleted (glue.c). */
int ddp_glue_bind(struct ddp_dev *d);
int ddp_glue_unbind(__u32 ifindex);

/* kmod_glue's module offers every kfunc of names, NULL-ended (probe.c). */
bool ddp_probe_kfuncs(const char *const *names);
/* Bytes one bpf_csum_diff() call sums on this kernel, 0 if none (probe.c);
 * tests set ddp_probe_csum_pretend to load as on another kernel. */
__u32 ddp_probe_csum_max(void);
extern __u32 ddp_probe_csum_pretend;
/* 0 if the kernel has every feature the engine needs, else -EOPNOTSUPP
 * and ddp_errmsg(NULL) names the first one missing and the Linux that
 * has it; tests name one in ddp_probe_pretend_missing to see it so. */
int ddp_probe_features(void);
extern const char *ddp_probe_pretend_missing;

#endif /* LIBDDP_PRIV_H */
