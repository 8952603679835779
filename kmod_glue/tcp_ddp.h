/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tcp_ddp.h - the specification's device interface for in-kernel L5Ps
 * (tcp-ddp-offload.rst: tcp_ddp_ops and tcp_ddp_ulp_ops), exported by
 * kmod_glue's module ddp_glue for the engine attached to a device
 * (ddpctl attach with the module loaded). Names, arguments and semantics
 * are the specification's, with what this kernel (6.1) lacks passed
 * explicitly:
 *  - an L5P's tcp_ddp_ulp_ops come with its sk_add (6.1's sockets have no
 *    field for them);
 *  - which bytes the engine placed, which a NIC shows by skb fragments
 *    that point at the destination buffer (the src == dst check), comes
 *    from tcp_ddp_placed(): XDP cannot change what the socket receives.
 *
 * All but tcp_ddp_placed() and tcp_ddp_resync() may sleep: call them in
 * process context. One context per socket calls setup, teardown and
 * placed; resync_request comes in softirq context.
 */
#ifndef TCP_DDP_H
#define TCP_DDP_H

#include <linux/netdevice.h>
#include <linux/scatterlist.h>
#include <net/sock.h>

enum tcp_ddp_type {
	TCP_DDP_NVME = 1,
};

/* What the device calls up to the L5P. */
struct tcp_ddp_ulp_ops {
	/* Is there a PDU header whose last byte is at TCP sequence seq?
	 * Softirq context: note it and return true; answer with
	 * tcp_ddp_resync() once the stream is read that far. False: ask
	 * again at the next header. */
	bool (*resync_request)(struct sock *sk, u32 seq, u32 flags);
	/* The buffers of the tcp_ddp_teardown() given ddp_ctx are no longer
	 * written: they are the L5P's again. From a workqueue. */
	void (*ddp_teardown_done)(void *ddp_ctx);
};

struct tcp_ddp_config {
	enum tcp_ddp_type type;
	const struct tcp_ddp_ulp_ops *ulp_ops;
};

/**
 * struct nvme_tcp_ddp_config - nvme tcp ddp configuration for an IO queue
 * @pfv:        pdu version (0: NVMe/TCP 1.0)
 * @cpda:       controller pdu data alignment (dwords, 0's based)
 * @dgst:       digest types enabled (NVME_TCP_DGST_HDR, _DATA); data
 *              digests are checked by the engine where it offloads them
 * @queue_size: number of nvme-tcp IO queue elements
 * @queue_id:   queue identifier
 * @io_cpu:     cpu core running the IO thread for this queue
 */
struct nvme_tcp_ddp_config {
	struct tcp_ddp_config cfg;

	u16 pfv;
	u8 cpda;
	u8 dgst;
	int queue_size;
	int queue_id;
	int io_cpu;
};

/**
 * struct tcp_ddp_io - tcp ddp configuration for an IO request.
 * @command_id:  identifier on the wire associated with these buffers
 * @nents:       number of entries in the sg_table
 * @sg_table:    describing the buffers for this IO request (kernel pages)
 * @first_sgl:   first SGL in sg_table
 */
struct tcp_ddp_io {
	u32 command_id;
	int nents;
	struct sg_table sg_table;
	struct scatterlist first_sgl[SG_CHUNK_SIZE];
};

/* Offload sk, connected through netdev, from the next byte it receives,
 * which must begin a PDU (nothing unread). 0, or -errno and the L5P goes
 * on in software: -ENODEV no engine bound to netdev, -EINVAL a bad
 * config, -EBUSY bytes unread, -EEXIST sk offloaded already, -ENOSPC no
 * free flow. */
int tcp_ddp_sk_add(struct net_device *netdev, struct sock *sk,
		   struct tcp_ddp_config *config);
/* Offload of sk ends: its tags are torn down; teardowns still pending
 * complete. */
void tcp_ddp_sk_del(struct net_device *netdev, struct sock *sk);
/* Register io's buffer for its command: 0, or -errno and the command's
 * data is copied by the L5P: -ENOENT sk not offloaded, -EEXIST the CID has
 * a buffer, -EINVAL more than DDP_MAX_SEGS entries or an empty one,
 * -ENOSPC no free tag, -ENODEV the engine was detached. */
int tcp_ddp_setup(struct net_device *netdev, struct sock *sk,
		  struct tcp_ddp_io *io);
/* Unregister io's buffer: 0 and ulp_ops->ddp_teardown_done(ddp_ctx) once
 * nothing writes it, or -ENOENT (no such CID registered: nothing done). */
int tcp_ddp_teardown(struct net_device *netdev, struct sock *sk,
		     struct tcp_ddp_io *io, void *ddp_ctx);
/* The L5P's answer to resync_request, once its stream is at or past the
 * seq asked about: that seq if a PDU header it read ends there (it
 * confirms, placement resumes), else the last byte of a header it found
 * after it (the engine searches on). */
void tcp_ddp_resync(struct net_device *netdev, struct sock *sk, u32 seq);

/* How the len bytes of command command_id's data from sequence number
 * seq start: *placed if the engine placed them into the command's buffer
 * (skip them), else copy them; for as many bytes as returned. Ask only
 * for bytes sk's receive queue holds already, in order. */
u32 tcp_ddp_placed(struct net_device *netdev, struct sock *sk, u32 seq,
		   u32 len, u32 command_id, bool *placed);

#endif /* TCP_DDP_H */
