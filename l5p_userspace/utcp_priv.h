/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * utcp_priv.h - what xsk_port.c and utcp.c share, and what the unit tests
 * reach: the port (socket, UMEM frames, rings), sequence arithmetic, the
 * Internet checksum, and the receive queue (reassembly, placed bytes).
 */
#ifndef L5P_UTCP_PRIV_H
#define L5P_UTCP_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <sys/types.h>
#include <linux/types.h>
#include <xdp/xsk.h>
#include "ddp.h"
#include "utcp.h"

#define UTCP_FRAME 4096u
/* copy mode puts the packet this far into a frame; metadata goes before */
#define UTCP_RX_HEADROOM 256u

/* ---- Sequence numbers ---------------------------------------------------- */

static inline bool seq_lt(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

static inline bool seq_leq(__u32 a, __u32 b)
{
	return (__s32)(a - b) <= 0;
}

static inline bool seq_gt(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

static inline bool seq_geq(__u32 a, __u32 b)
{
	return (__s32)(a - b) >= 0;
}

/* ---- The Internet checksum (RFC 1071) ------------------------------------ */

/* Sum of buf as 16-bit words in memory order, to be folded. Any length;
 * chain calls only at even lengths. */
__u64 utcp_csum_add(__u64 sum, const void *buf, size_t len);
/* Folded one's complement, complemented: what goes into a header (as
 * stored in memory), or 0 when checking a sum that includes one. */
__u16 utcp_csum_fold(__u64 sum);
/* The TCP checksum of an IPv4 segment (header and payload, contiguous),
 * addresses as in the IP header. 0 over a segment whose field is right. */
__u16 utcp_tcp_csum(__be32 saddr, __be32 daddr, const void *tcp, size_t len);

/* ---- The receive queue --------------------------------------------------- */

/*
 * A received segment held in its frame. Its payload is described in the
 * coordinates of the payload as sent (olen bytes from seq); [lo, hi) are
 * still to be delivered. Placed ranges come from the frame's metadata; in
 * a compacted frame they are not in the frame and the bytes between them
 * are moved down.
 */
struct utcp_rseg {
	__u64 addr; /* UMEM offset of the first payload byte in the frame */
	__u32 seq; /* sequence number of payload byte 0 */
	__u16 olen; /* payload length as sent */
	__u16 lo, hi;
	__u8 nr; /* placed ranges */
	__u8 compact; /* placed ranges cut out of the frame */
	struct {
		__u16 off, len;
	} r[DDP_META_RANGES];
};

/* Receive state: in-order segments (a ring) and the out-of-order ones
 * (sorted by sequence, disjoint). release() gives a frame back. */
struct utcp_rcv {
	struct utcp_rseg *q; /* ring of cap */
	__u32 head, n; /* in order */
	struct utcp_rseg *ooo; /* sorted array of cap */
	__u32 nooo;
	__u32 cap; /* frames held at most (both), a power of 2 */
	__u32 nxt; /* next sequence number expected */
	__u32 read_seq; /* next sequence number to read */
	size_t bytes; /* in order, unread */
	void (*release)(void *arg, __u64 addr);
	void *arg;
};

enum utcp_take {
	UTCP_TAKE_DUP = 0, /* nothing new: frame released */
	UTCP_TAKE_INORDER = 1, /* appended in order */
	UTCP_TAKE_FILLED = 2, /* in order, and out-of-order ones followed */
	UTCP_TAKE_OOO = 3, /* kept out of order */
	UTCP_TAKE_FULL = 4, /* no room: frame released */
};

int utcp_rcv_init(struct utcp_rcv *r, __u32 cap, __u32 seq,
		  void (*release)(void *, __u64), void *arg);
/* Free what is held and the arrays. */
void utcp_rcv_free(struct utcp_rcv *r);
/* Check a segment's metadata against its lengths: 0 or -EINVAL. flen is
 * the payload bytes present in the frame. */
int utcp_rseg_check(const struct utcp_rseg *s, __u32 flen);
/* Trim s at the sequence number edge (the window's right edge): the
 * bytes from there on are not kept, olen and the placed ranges end there
 * too. Returns true if any were cut. */
bool utcp_rseg_trim(struct utcp_rseg *s, __u32 edge);
/* The window field to advertise at nxt (scaled by ws) when the frames
 * not yet held can take room bytes. *adv, the right edge advertised (and
 * accepted up to), moves forward to the edge the field makes: never back,
 * never beyond nxt + room. */
__u16 utcp_wnd_field(__u32 nxt, __u32 room, __u8 ws, __u32 *adv);
/* Take s (trimmed to [lo, hi) by the caller to the window) */
enum utcp_take utcp_rcv_take(struct utcp_rcv *r, const struct utcp_rseg *s);
/* Frames held, in order and not. */
static inline __u32 utcp_rcv_held(const struct utcp_rcv *r)
{
	return r->n + r->nooo;
}
/*
 * Deliver len in-order bytes (len <= r->bytes) from the frames in mem.
 * data: placed bytes are skipped (dst holds them by construction) and
 * counted in *placed; otherwise any placed byte makes it -EPROTO before
 * anything is consumed. Returns the bytes copied, or -EPROTO.
 */
ssize_t utcp_rcv_read(struct utcp_rcv *r, const __u8 *mem, __u8 *dst,
		      size_t len, bool data, __u64 *placed);
/* Drop len in-order bytes unread (a closing connection). */
void utcp_rcv_discard(struct utcp_rcv *r, size_t len);

/* Print the reason into err (if any), return ret */
int utcp_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- The port ------------------------------------------------------------ */

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
	__u8 *tx_state; /* per TX frame: UTCP_TXF_* */
	__u32 tx_queued; /* descriptors produced since the last kick */
	__u32 fill_queued; /* fill entries reserved, not submitted */
	__u32 rx_held; /* RX frames held by connections */

	struct utcp_conn *conns;
	struct utcp_limits lim;
	__u16 ip_id;
};

enum {
	UTCP_TXF_KERNEL = 1, /* in the TX ring or being sent */
	UTCP_TXF_ORPHAN = 2, /* free it when the kernel gives it back */
};

/* TX frames below this many are kept for ACKs, RSTs and FINs */
#define UTCP_TX_RESERVE 16

static inline __u64 xp_tx_addr(const struct xsk_port *p, __u32 i)
{
	return p->block + (__u64)i * UTCP_FRAME;
}

static inline __u8 *xp_tx_ptr(const struct xsk_port *p, __u32 i)
{
	return p->mem + xp_tx_addr(p, i);
}

/* A free TX frame, or -1; data segments leave UTCP_TX_RESERVE. */
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

/* utcp.c: process received frames and timers of every connection */
int utcp_port_run(struct xsk_port *p);
/* utcp.c: reset every connection of a port that is closing */
void utcp_port_abort(struct xsk_port *p);

#endif /* L5P_UTCP_PRIV_H */
