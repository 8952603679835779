/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * l5p.h - the in-kernel test L5P: an NVMe/TCP host just big enough to
 * read through kmod_glue's API (tcp_ddp.h) and check what it read.
 */
#ifndef L5P_H
#define L5P_H

#include <linux/net.h>
#include <linux/types.h>
#include "nvme.h"
#include "../ddp.h"
#include "../tcp_ddp.h"

/* One NVMe/TCP queue over a kernel TCP socket */
struct l5p_queue {
	struct socket *sock;
	struct net_device *netdev; /* the offload's, if sk_add took it */
	u16 qid;
	u16 next_cid;
	bool offloaded;
	/* resync: the last request, the header's last byte (seq + 1, 0:
	 * none), written by resync_request in softirq context */
	atomic64_t resync_req;
	u64 resyncs, confirmed;
	/* the last byte of the last PDU headers read: the engine may ask
	 * about one once the stream is past it (it asks at the header after) */
	u32 hist[16];
	u32 nhist;
};

/* What one read brought */
struct l5p_data {
	void *buf; /* where the command's data goes */
	u32 len;
	bool ddp; /* its buffer is registered: placed bytes are skipped */
	u64 placed, copied;
};

int l5p_queue_open(struct l5p_queue *q, __be32 addr, u16 port, u16 qid);
void l5p_queue_close(struct l5p_queue *q);
/* sk_add of the queue's socket; 0 or the API's error */
int l5p_queue_offload(struct l5p_queue *q, const struct tcp_ddp_ulp_ops *ops);
int l5p_fabrics_connect(struct l5p_queue *q, const char *nqn, u16 cntlid,
			u16 *got);
int l5p_prop(struct l5p_queue *q, bool set, u32 off, u64 *val);
/* Send sqe (its cid set here) and take PDUs until its response: data
 * into d (NULL: none); the NVMe status, or -errno. */
int l5p_command(struct l5p_queue *q, struct nvme_sqe *sqe, struct l5p_data *d,
		u32 *result);
/* The resync_request of this L5P (ulp_ops) */
bool l5p_resync_request(struct sock *sk, u32 seq, u32 flags);

#endif
