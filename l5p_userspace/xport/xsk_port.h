/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xsk_port.h - one AF_XDP socket on one RX queue of an interface where
 * the engine is attached, over the engine's buffer region: its UMEM is
 * the region, so that frames and destination buffers share one memory,
 * and the engine redirects the frames of the flows steered to it. The
 * port moves frames and knows nothing of what they carry; the host's TCP
 * (utcp_priv.h) runs on it.
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

/* The frame layout: the port's block holds its TX frames, then its RX
 * frames, XSK_FRAME bytes each */
#define XSK_FRAME 4096u
/* copy mode puts the packet this far into a frame; metadata goes before */
#define XSK_RX_HEADROOM 256u
#define XSK_PORT_RX_FRAMES 1024 /* shared by the port's connections */
#define XSK_PORT_TX_FRAMES 512
#define XSK_PORT_FRAMES (XSK_PORT_RX_FRAMES + XSK_PORT_TX_FRAMES) /* 6 MiB */

struct xsk_port {
	pthread_mutex_t lock;
	struct ddp_dev *dev;
	char ifname[IF_NAMESIZE];
	int ifindex;
	__u32 queue;
	__u32 mtu;
	__u8 mac[6];

	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	int fd; /* the XSK's */
	int xsks_fd; /* the engine's ddp_xsks */
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	__u8 *mem; /* the region: UMEM offsets are region offsets */
	__u32 block; /* region offset of our frames: ntx TX, then nrx RX */
	__u32 ntx, nrx;

	__u32 *tx_free; /* stack of free TX frame indices */
	__u32 tx_nfree;
	__u8 *tx_state; /* per TX frame: XSK_TXF_* */
	__u32 tx_queued; /* descriptors produced since the last kick */
	__u32 fill_queued; /* fill entries reserved, not submitted */
	__u32 rx_held; /* RX frames held by connections */
};

enum {
	XSK_TXF_KERNEL = 1, /* in the TX ring or being sent */
	XSK_TXF_ORPHAN = 2, /* free it when the kernel gives it back */
};

/* TX frames below this many are kept for ACKs, RSTs and FINs */
#define XSK_TX_RESERVE 16

/* Open an AF_XDP socket on (ifname, queue) over the engine's region and
 * bind it into the engine's ddp_xsks map. -errno, with a message naming
 * the step, if AF_XDP is not possible there (the caller falls back to
 * kernel sockets). Takes XSK_PORT_FRAMES frames of the region. */
int xsk_port_open(struct ddp_dev *dev, const char *ifname, __u32 queue,
		  struct xsk_port **out, char *err, size_t errlen);
/* Unbind the socket, free the frames and the port. */
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
/* Give a received frame back to the fill ring (addr: any address in it). */
void xp_rx_put(struct xsk_port *p, __u64 addr);
/* Take back sent frames, kick the TX ring, submit the fill ring. */
void xp_flush(struct xsk_port *p);
/* Up to max received descriptors: first index, count; then release. */
__u32 xp_rx_peek(struct xsk_port *p, __u32 max, __u32 *idx);
void xp_rx_release(struct xsk_port *p, __u32 n);
/* Drop the lock, wait for frames at most timeout_ms, take it again. */
void xp_wait(struct xsk_port *p, int timeout_ms);

/* Print the reason into err (if any), return ret */
int xp_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* L5P_XSK_PORT_H */
