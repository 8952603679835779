/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xsk_port.h - AF_XDP sockets on every RX queue of an interface where the
 * engine is attached, sharing one UMEM: the engine's buffer region, so
 * that frames and destination buffers share one memory. The NIC spreads
 * flows over its queues (RSS) and the engine redirects each frame to the
 * socket of the queue it arrived on, so a port serves whichever queue a
 * flow lands on. The port moves frames and knows nothing of what they
 * carry; the host's TCP (utcp_priv.h) runs on it.
 *
 * The port's lock is its user's: every call here but xsk_port_open() and
 * xsk_port_close() is made with it held.
 */
#ifndef L5P_XSK_PORT_H
#define L5P_XSK_PORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>
#include <xdp/xsk.h>

struct ddp_dev;

/* The frame layout: the port's block holds its TX frames, then each
 * queue's RX frames, XSK_FRAME bytes each */
#define XSK_FRAME 4096u
/* copy mode puts the packet this far into a frame; metadata goes before */
#define XSK_RX_HEADROOM 256u
/* RX frames of one queue, shared by the connections it brings: this
 * many with one or two queues, fewer with more (XSK_PORT_RX_TOTAL over
 * the queues, a power of 2, at least XSK_QUEUE_RX_MIN) */
#define XSK_PORT_RX_FRAMES 1024
#define XSK_PORT_RX_TOTAL 2048
#define XSK_QUEUE_RX_MIN 64
#define XSK_PORT_TX_FRAMES 512

/* One RX queue's socket and rings */
struct xsk_rxq {
	struct xsk_socket *xsk;
	int fd;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp; /* required by the kernel, never used */
	__u32 fill_queued; /* fill entries reserved, not submitted */
	__u32 held; /* its RX frames held by connections */
	bool mapped; /* in ddp_xsks: ours to take out */
};

/* How the sockets bind: zero-copy where the driver offers it, else copy
 * (the kernel's own choice when asked for neither); or only one of them. */
enum xsk_mode {
	XSK_MODE_AUTO = 0,
	XSK_MODE_COPY,
	XSK_MODE_ZEROCOPY,
};

struct xsk_port {
	pthread_mutex_t lock;
	struct ddp_dev *dev;
	char ifname[IF_NAMESIZE];
	int ifindex;
	__u32 mtu;
	__u8 mac[6];

	struct xsk_umem *umem;
	struct xsk_rxq *q; /* nq queues; queue 0's socket sends, too */
	__u32 nq;
	enum xsk_mode mode; /* asked for */
	bool zc; /* bound zero-copy (all queues share queue 0's mode) */
	int fd; /* what to poll for frames: queue 0's socket, or an epoll
		 * set of every queue's */
	int xsks_fd; /* the engine's ddp_xsks */
	struct xsk_ring_prod tx;
	struct xsk_ring_cons comp;
	__u8 *mem; /* the region: UMEM offsets are region offsets */
	__u32 block; /* region offset of our frames: ntx TX, then nrx RX
		      * frames for each queue */
	__u32 ntx, nrx; /* nrx: per queue */

	__u32 *tx_free; /* stack of free TX frame indices */
	__u32 tx_nfree;
	__u8 *tx_state; /* per TX frame: XSK_TXF_* */
	__u32 tx_queued; /* descriptors produced since the last kick */
};

enum {
	XSK_TXF_KERNEL = 1, /* in the TX ring or being sent */
	XSK_TXF_ORPHAN = 2, /* free it when the kernel gives it back */
};

/* TX frames below this many are kept for ACKs, RSTs and FINs */
#define XSK_TX_RESERVE 16

/* Open an AF_XDP socket on each RX queue of ifname over the engine's
 * region and bind them into the engine's ddp_xsks map. -errno, with a
 * message naming the step, if AF_XDP is not possible there (the caller
 * falls back to kernel sockets). Takes ntx + nq * nrx frames of the
 * region. */
int xsk_port_open(struct ddp_dev *dev, const char *ifname, enum xsk_mode mode,
		  struct xsk_port **out, char *err, size_t errlen);
/* Unbind the sockets, free the frames and the port. */
void xsk_port_close(struct xsk_port *p);

static inline __u64 xp_tx_addr(const struct xsk_port *p, __u32 i)
{
	return p->block + (__u64)i * XSK_FRAME;
}

static inline __u8 *xp_tx_ptr(const struct xsk_port *p, __u32 i)
{
	return p->mem + xp_tx_addr(p, i);
}

/* A free TX frame, or -1; data segments leave XSK_TX_RESERVE. */
int xp_tx_get(struct xsk_port *p, bool ctl);
/* Give a TX frame back: now, or when the kernel returns it. */
void xp_tx_put(struct xsk_port *p, __u32 i);
/* Queue TX frame i, len bytes, for sending; orphan: free it once sent. */
void xp_tx_send(struct xsk_port *p, __u32 i, __u32 len, bool orphan);
/* The queue whose RX frame holds addr (any address in it) */
static inline struct xsk_rxq *xp_rx_queue(const struct xsk_port *p, __u64 addr)
{
	return &p->q[((addr - p->block) / XSK_FRAME - p->ntx) / p->nrx];
}

/* Give a received frame back to its queue's fill ring. */
void xp_rx_put(struct xsk_port *p, __u64 addr);
/* Keep a received frame (counted in its queue's held) if its queue can
 * spare it: false when nearly all the queue's frames are held, so that
 * its fill ring keeps going for everybody. xp_rx_unhold() gives it back. */
bool xp_rx_hold(struct xsk_port *p, __u64 addr);
void xp_rx_unhold(struct xsk_port *p, __u64 addr);
/* Take back sent frames, kick the TX ring, submit the fill rings. */
void xp_flush(struct xsk_port *p);
/* Up to max received descriptors of queue q: first index, count; then
 * release. */
__u32 xp_rx_peek(struct xsk_port *p, __u32 q, __u32 max, __u32 *idx);
void xp_rx_release(struct xsk_port *p, __u32 q, __u32 n);
static inline const struct xdp_desc *xp_rx_desc(const struct xsk_port *p,
						__u32 q, __u32 idx)
{
	return xsk_ring_cons__rx_desc(&p->q[q].rx, idx);
}
/* Drop the lock, wait for frames at most timeout_ms, take it again. */
void xp_wait(struct xsk_port *p, int timeout_ms);

/* Print the reason into err (if any), return ret */
int xp_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* L5P_XSK_PORT_H */
