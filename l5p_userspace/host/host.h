/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * host.h - the NVMe/TCP host: a controller association (an admin queue and
 * I/O queues, each a TCP connection), admin commands, and I/O with direct
 * data placement through the engine when it offloads the queue's socket.
 *
 * Each I/O queue is driven by one thread at a time: hq_submit() queues a
 * command when a slot is free, hq_poll() sends the commands queued (in one
 * system call), receives what arrived and completes commands through
 * their callbacks. Reads at or above the
 * engine's io_threshold are registered as tags before their capsule is
 * sent, and complete only after their teardown is done.
 */
#ifndef L5P_HOST_H
#define L5P_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "nvme/nvme.h"
#include "nvme/nvme_tcp_pdu.h"
#include "xport/xport.h"

enum host_transport {
	HOST_XPORT_AUTO = 0, /* AF_XDP where it works, else kernel sockets */
	HOST_XPORT_XSK,
	HOST_XPORT_KERNEL,
};

struct host_opts {
	enum host_transport transport;
	const char *traddr;
	const char *trsvcid;
	const char *subnqn;
	const char *hostnqn;
	bool hdgst, ddgst;
	__u32 nr_io_queues;
	__u32 queue_size; /* I/O queue entries */
	bool no_sqfc; /* let the target end reads with DATA_SUCCESS */
	bool no_ddp; /* the plain software path */
	/* I/O queues' read data taken from the stream and thrown away,
	 * never copied (with no_ddp and no data digest): what reading costs
	 * when no byte is copied, the most placement could save */
	bool discard;
	const char *ddp_dev; /* engine's interface; NULL: the route's */
	__u32 io_timeout; /* seconds a command may take, then its queue
			   * fails (0: 30, as nvme_core.io_timeout) */
	int xsk_mode; /* enum xsk_mode: 0 zero-copy where the driver
		       * has it, else copy; or copy, or zero-copy only */
	bool verbose;
};

struct host;
struct host_queue;
struct host_io;

typedef void (*host_io_done)(struct host_io *io);

/* One I/O: the buffer is the caller's; for direct placement it must lie
 * in the engine's buffer region or in a buffer pinned through kmod_glue's
 * module (host_buf_alloc() gives either). */
struct host_io {
	__u8 opcode; /* NVME_CMD_READ, _WRITE, _FLUSH */
	__u32 nsid;
	__u64 slba;
	__u32 nlb; /* blocks, 1-based */
	void *buf;
	__u32 len; /* bytes */
	host_io_done done;
	void *arg;
	/* set at completion */
	__u16 status; /* NVMe status (SCT << 8 | SC) or 0 */
	int err; /* a transport error, -errno */
	bool placed_all; /* read entirely placed by the engine */
	__u64 submitted_ns, completed_ns;
};

/* Queue counters, for the summary. */
struct host_qstats {
	__u64 ios, bytes;
	__u64 ddp_ios; /* reads registered with the engine */
	__u64 ddp_fail; /* registrations refused: copied instead */
	__u64 skipped; /* read bytes the engine placed: not copied */
	__u64 copied; /* read bytes copied from the socket */
	__u64 discarded; /* read bytes thrown away unread (discard) */
	__u64 placed_uncut; /* AF_XDP: placed bytes the kernel also copied
			     * into frames the engine did not cut */
	__u64 resync_confirm, resync_deny;
	/* C2HData data digests: the engine's verdict taken (ok: the host's
	 * CRC skipped; bad: a digest error), or the host's own CRC */
	__u64 ddgst_ok, ddgst_bad, ddgst_computed;
	/* AF_XDP: of the computed, PDUs whose verdict the transport's trust
	 * rules kept from the host (utcp_stats.ddgst_unclean) */
	__u64 ddgst_unclean;
};

/* Connect: ICReq/ICResp, Fabrics Connect, enable the controller, identify
 * it, and the I/O queues (each offloaded if the engine is there). errbuf
 * gets a message on failure. */
int host_connect(const struct host_opts *o, struct host **out, char *errbuf,
		 size_t errlen);
void host_disconnect(struct host *h);

/* Admin commands; buf is NVME_IDENTIFY_LEN bytes where one is returned. */
int host_identify(struct host *h, __u8 cns, __u32 nsid, void *buf);
int host_get_log(struct host *h, __u8 lid, void *buf, __u32 len);
/* Blocks of namespace nsid and its LBA size. */
int host_ns_info(struct host *h, __u32 nsid, __u64 *blocks, __u32 *lba_size);
const char *host_error(const struct host *h);
/* "xsk" or "kernel" */
const char *host_transport(const struct host *h);

__u32 host_nr_queues(const struct host *h);
struct host_queue *host_queue(struct host *h, __u32 i);
/* Largest transfer the controller takes, in bytes (0: no limit). */
__u32 host_max_xfer(const struct host *h);

/* Submit io, sent by the next hq_poll(); -EBUSY when the queue is full. */
int hq_submit(struct host_queue *q, struct host_io *io);
/* Receive and complete; waits up to timeout_ms for something to do.
 * Returns completions, or -errno when the queue failed. */
int hq_poll(struct host_queue *q, int timeout_ms);
int hq_inflight(const struct host_queue *q);
const struct host_qstats *hq_stats(struct host_queue *q);
bool hq_offloaded(const struct host_queue *q);

/* Buffers for reads the engine may place: pinned memory of ours where
 * kmod_glue's module is loaded, else in the engine's buffer region, else
 * plain memory (copied). Free each before host_disconnect(). */
void *host_buf_alloc(struct host *h, __u32 len);
void host_buf_free(struct host *h, void *buf);
/* In the engine's region or a pin of ours: a buffer the engine can place
 * into */
bool host_buf_placeable(struct host *h, const void *buf, __u32 len);
/* Buffers of ours pinned for the engine right now (kmod_glue's module) */
__u32 host_bufs_pinned(struct host *h);
/* Reads are placed into the host's own buffers, pinned (kmod_glue's
 * module), not into the engine's region */
bool host_pins_buffers(const struct host *h);
/* The engine's counters (false: no engine). */
struct ddp_stats;
bool host_ddp_stats(struct host *h, struct ddp_stats *st);

#endif /* L5P_HOST_H */
