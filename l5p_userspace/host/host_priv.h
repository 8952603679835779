/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * host_priv.h - what the host's files share: a host, its queues and their
 * commands, and the calls between the queues (host.c) and the
 * association (host_connect.c).
 */
#ifndef L5P_HOST_PRIV_H
#define L5P_HOST_PRIV_H

#include <pthread.h>
#include <time.h>
#include <net/if.h>
#include "host.h"

#define HIST 256 /* PDU starts remembered for resync answers */
#define ADMIN_QSIZE 32
#define KEEP_CID_BITS 16
#define HQ_OUT_CMDS 32 /* capsules held for one send (hq_flush) */
#define HQ_TD_MAX 64 /* teardowns held for one call (hq_teardowns) */

struct host_cmd {
	struct host_io *io;
	bool busy;
	bool write;
	bool ddp; /* a tag registered for it */
	bool rsp; /* response (or DATA_SUCCESS) received */
	__u16 cid;
	__u16 status;
	__u32 result; /* CQE dw0 */
	__u32 received; /* read bytes */
	__u32 skipped; /* of them, placed by the engine */
	bool td_wait; /* teardown asked, waiting for done */
	bool td_done; /* written by the event thread */
	__u64 deadline; /* now_ns() when it times out */
};

struct host_queue {
	struct host *h;
	__u16 qid;
	__u32 size;
	__u32 slot_bits;
	struct xport x;
	struct ntcp_params p;
	struct host_cmd *cmds;
	__u16 *uses; /* per slot: rotates the CIDs through all 16 bits */
	int inflight;
	__u64 completed;
	__u32 incapsule; /* in-capsule data limit */
	int efd; /* the event thread wakes us */
	__u32 td_waiting; /* commands waiting for teardown_done */
	/* commands a poll finished, torn down together at its end */
	struct host_cmd *td[HQ_TD_MAX];
	__u32 ntd;
	__u32 flow_id;
	__u64 resync; /* a pending request: id << 32 | seq */
	__u32 hist[HIST];
	__u32 nhist;
	__u32 next_pdu; /* where the PDU after the one being read begins */
	__u32 ahead; /* where one begins further on, as far as a resync
		      * answer looked (ntcp_pdu_begins) */
	struct host_qstats st;
	__u64 check_at; /* now_ns() when timeouts are looked for next */
	int failed;
	/* Capsules sent since the last poll, in one system call when the
	 * queue polls next (hq_flush): the commands a poll's completions
	 * make room for go together, not one call each. Their headers and
	 * digests are here; in-capsule data stays in the caller's buffer,
	 * which is the command's until it completes. */
	struct iovec out[3 * HQ_OUT_CMDS];
	__u32 nout, ncmds;
	__u8 outbuf[HQ_OUT_CMDS][NTCP_HDR_MAX + NTCP_DGST_LEN];
	/* the tags of the reads among them, set up just before they go */
	struct ddp_seg su[HQ_OUT_CMDS];
	__u16 su_cid[HQ_OUT_CMDS];
	__u32 nsu;
	__u8 scratch[NTCP_HDR_MAX + 256];
};

struct host {
	struct host_opts o;
	struct host_queue admin;
	struct host_queue *ioq;
	__u32 nioq;
	__u16 cntlid;
	__u64 io_timeout_ns;
	__u32 max_xfer;
	__u32 ioccsz;
	/* the engine, when it offloads our queues */
	struct ddp_dev *dev;
	__u32 threshold;
	char ifname[IF_NAMESIZE];
	struct utcp_port *xsk; /* queues over AF_XDP, or NULL: kernel sockets */
	/* Buffers of our own memory pinned through kmod_glue's module, where
	 * the engine offers it (caps.pinned_buffers): reads are placed into
	 * them, not into the buffer region */
	bool pin_bufs;
	struct host_pin *pins;
	__u32 npins, pins_cap;
	pthread_mutex_t pins_lock;
	pthread_t ev;
	bool ev_on;
	volatile int ev_stop;
	char err[256];
};

/* A buffer host_buf_alloc() pinned */
struct host_pin {
	void *buf;
	__u32 len;
	__u64 id;
};

/* Whether buf[0, len) lies in the engine's buffer region */
bool host_buf_in_region(const struct host *h, const void *buf, __u32 len);
/* Whether buf[0, len) lies in a pin of ours; which one in *out (if not
 * NULL) */
bool host_buf_pin(struct host *h, const void *buf, __u32 len,
		  struct host_pin *out);

static inline __u64 now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * 1000000000ull + t.tv_nsec;
}

/* Record the reason for host_error(); returns -|err| */
int herr(struct host *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A free command slot, its CID rotated; NULL when the queue is full */
struct host_cmd *hq_slot(struct host_queue *q);
/* Queue c's capsule, with its in-capsule data if data, for hq_flush */
int hq_send_cmd(struct host_queue *q, struct host_cmd *c, struct nvme_sqe *sqe,
		const void *data, __u32 len);
/* Send the capsules queued; an error fails the queue */
int hq_flush(struct host_queue *q);
/* The thread that hands the engine's events to the queues */
void *host_events(void *arg);

#endif /* L5P_HOST_PRIV_H */
