/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * utcp_priv.h - the host's TCP over an xsk_port: active open with MSS,
 * window scaling and SACK, reassembly in the received frames, delayed
 * ACKs, the RFC 6298 retransmission timer, fast retransmit and recovery
 * (SACK-based as RFC 6675 has it, NewReno (RFC 6582) without SACK) with
 * limited transmit (RFC 3042), FIN and RST.
 *
 * Received payload stays in its UMEM frame until read, described by a
 * struct utcp_rseg that carries the frame's placement metadata along, so
 * that every byte is delivered from exactly one frame and judged by that
 * frame's metadata. Segments sent stay in their TX frames until ACKed and
 * are retransmitted from there with their header brought up to date.
 *
 * Split as RFC 9293 divides TCP: utcp_conn.c (the port's TCP, opening and
 * closing connections, the user calls), utcp_input.c (segment arrival),
 * utcp_rcvq.c (the receive queue), utcp_output.c (what is sent),
 * utcp_timer.c (timers). This header is what they share, and what the
 * unit tests reach: sequence arithmetic, the Internet checksum, the
 * receive queue, the connection.
 */
#ifndef L5P_UTCP_PRIV_H
#define L5P_UTCP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <linux/types.h>
#include "ddp.h"
#include "utcp.h"
#include "xsk_port.h"

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
/* The TCP checksum of a segment (header and payload, contiguous), its
 * addresses as in the IP header (16 bytes each if v6, else 4). 0 over a
 * segment whose field is right. */
__u16 utcp_tcp_csum(const void *saddr, const void *daddr, bool v6,
		    const void *tcp, size_t len);

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
	__u16 vend; /* payload offset after the DDGST judged, if verdict */
	__u8 verdict; /* enum ddp_verdict */
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

/* ---- Connections -------------------------------------------------------- */

/* The TCP on a port: its connections, and what new ones start with. The
 * port's lock guards it, as everything of the port's connections. */
struct utcp_port {
	struct xsk_port *xp;
	struct utcp_conn *conns;
	struct utcp_limits lim;
	__u16 ip_id;
};

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };

#define ETH_LEN 14
#define SEGS_CAP 512 /* > snd_frames + SYN + FIN */
#define RTO_MAX_US 60000000u
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

enum ut_state {
	UT_CLOSED,
	UT_SYN_SENT,
	UT_ESTABLISHED,
	UT_FIN_WAIT_1,
	UT_FIN_WAIT_2,
	UT_CLOSING,
	UT_TIME_WAIT,
	UT_CLOSE_WAIT,
	UT_LAST_ACK,
};

/* A segment queued or in flight, in its TX frame */
struct tseg {
	__u32 frame;
	__u32 seq;
	__u16 len; /* payload */
	__u8 flags; /* F_SYN, F_FIN */
	__u8 sacked : 1; /* the peer has it (SACK) */
	__u8 resent : 1; /* retransmitted in this recovery */
	__u32 xno; /* number of its last transmission */
};

#define UTCP_VERDICTS 16 /* data digest verdicts kept, power of 2 */

struct utcp_conn {
	struct xsk_port *p;
	struct utcp_port *up;
	struct utcp_conn *next;
	enum ut_state state;
	int err; /* -ECONNRESET, -ECONNREFUSED, -ETIMEDOUT */
	bool closing; /* utcp_close runs: what arrives is dropped */
	bool v6;
	struct in6_addr laddr, raddr; /* IPv4: IPv4-mapped */
	__be16 lport, rport;
	__u8 rmac[6];
	int resv_fd; /* holds the local port */
	__u32 flow_id;
	struct utcp_limits lim;
	__u64 timeout_us; /* utcp_set_timeout(); 0: none */

	/* send: segs[shead ..] from snd_una on; snxt is the first not sent
	 * since the last RTO went back */
	struct tseg segs[SEGS_CAP];
	__u32 shead, nsegs, snxt, ndata;
	__u32 iss, snd_una, snd_nxt, snd_max, snd_end;
	__u32 snd_wnd, snd_wl1, snd_wl2;
	__u8 snd_ws, rcv_ws;
	__u16 smss, rmss;
	__u32 cwnd, ssthresh, ca_acked, dupacks, recover;
	bool recovery;
	bool rexmit; /* the first unacknowledged segment is due again */
	bool sack_ok; /* both sides sent SACK-permitted */
	__u32 sack_hi; /* end of the highest block the peer SACKed */
	__u32 xno; /* transmissions */
	__u32 deliv_xno; /* the latest transmission SACKed */
	bool tlp_sent; /* a tail loss probe since the last new ACK */

	/* timers, in microseconds */
	__u32 srtt, rttvar, rto;
	bool rtt_on;
	__u32 rtt_seq;
	__u64 rtt_t0;
	__u32 retries;
	__u64 rto_at, dack_at, tlp_at;

	/* receive */
	struct utcp_rcv rcv;
	__u32 rcv_adv; /* right edge advertised: never moves back */
	__u32 syn_wnd;
	bool fin_seen, fin_rcvd;
	__u32 fin_seq;
	__u32 ack_pending; /* in-order segments not yet acknowledged */
	bool ack_now;
	__u32 ooo_last; /* the last segment kept out of order: its block
			 * goes first in SACK options */
	/* The engine's data digest verdicts, believed only for PDUs that
	 * start at or after ddgst_clean: every byte before it may have been
	 * taken from a copy other than the first one sent (which is the one
	 * the engine judged), for a frame carrying it was dropped here, or
	 * a frame after it came first (the first copy may have been lost
	 * between the engine and the socket). */
	__u32 ddgst_clean;
	__u32 nvd;
	struct {
		__u32 end; /* sequence number after the DDGST */
		__u8 verdict;
	} vd[UTCP_VERDICTS];

	struct utcp_stats st;
};

/* An address as the IP header has it: 16 bytes, or IPv4's 4 */
static inline __u8 *utcp_ip(const struct utcp_conn *c, const struct in6_addr *a)
{
	return (__u8 *)a->s6_addr + (c->v6 ? 0 : 12);
}

static inline __u32 utcp_ip_hlen(const struct utcp_conn *c)
{
	return c->v6 ? 40 : 20;
}

/* Where the payload of the segments we send begins in their frames */
static inline __u32 utcp_data_off(const struct utcp_conn *c)
{
	return ETH_LEN + utcp_ip_hlen(c) + 20;
}

/* utcp_neigh.c: the next hop towards dst (4 or 16 bytes by family) out
 * of ifindex as the kernel routes it (its gateway, or dst itself), and
 * the link-layer address the kernel resolved for hop (-ENOENT: none yet) */
int utcp_next_hop(int family, const void *dst, int ifindex, void *hop);
int utcp_neigh_mac(int family, const void *hop, int ifindex, __u8 mac[6]);

static inline __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

static inline __u16 get16(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

static inline __u32 get32(const __u8 *b)
{
	return (__u32)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
}

static inline void put16(__u8 *b, __u16 v)
{
	b[0] = v >> 8;
	b[1] = v;
}

static inline void put32(__u8 *b, __u32 v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

/* ---- The send queue and the windows -------------------------------------- */

static inline struct tseg *seg_at(struct utcp_conn *c, __u32 i)
{
	return &c->segs[(c->shead + i) % SEGS_CAP];
}

static inline __u32 seg_end(const struct tseg *t)
{
	return t->seq + t->len + !!(t->flags & (F_SYN | F_FIN));
}

/* Frames the connection may still hold */
static inline __u32 rcv_room(const struct utcp_conn *c)
{
	__u32 held = utcp_rcv_held(&c->rcv);

	return held < c->lim.rcv_frames ? c->lim.rcv_frames - held : 0;
}

/* The window the peer was last told of, from rcv.nxt */
static inline __u32 adv_wnd(const struct utcp_conn *c)
{
	return seq_gt(c->rcv_adv, c->rcv.nxt) ? c->rcv_adv - c->rcv.nxt : 0;
}

/* utcp_conn.c: the connection is over: the error is what its calls
 * return now */
void utcp_reset(struct utcp_conn *c, int err);

/* utcp_output.c */
/* A segment of its own (ACK, RST), in a frame freed once sent */
void utcp_send_ctl(struct utcp_conn *c, __u32 seq, __u8 flags);
void utcp_send_ack(struct utcp_conn *c);
/* (Re)send segment t from its frame; -EBUSY while the kernel has it */
int utcp_seg_xmit(struct utcp_conn *c, struct tseg *t);
/* Send what the windows allow */
void utcp_output(struct utcp_conn *c, __u64 now);
/* Queue up to len bytes after what is queued; 0 if no frame is free. */
size_t utcp_queue_data(struct utcp_conn *c, const __u8 *b, size_t len);
/* Queue a SYN or a FIN: -ENOBUFS if no frame is free */
int utcp_queue_ctl(struct utcp_conn *c, __u8 flags);
void utcp_drop_send_queue(struct utcp_conn *c);

/* utcp_input.c: process received frames and timers of every connection */
int utcp_port_run(struct utcp_port *up);

/* utcp_timer.c */
void utcp_rtt_sample(struct utcp_conn *c, __u64 now);
/* Timers due at now, then what may be sent, and the ACK policy */
void utcp_tick(struct utcp_conn *c, __u64 now);
/* Wait for frames, at most until the next timer or deadline (us) */
void utcp_port_wait(struct utcp_port *up, __u64 deadline);

#endif /* L5P_UTCP_PRIV_H */
