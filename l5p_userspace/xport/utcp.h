/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * utcp.h - a small user-space TCP over AF_XDP for the NVMe/TCP host.
 *
 * An xsk_port (xsk_port.h) is an AF_XDP socket on each RX queue of an
 * interface where the engine is attached; their UMEM is the engine's
 * buffer region, so that frames and destination buffers share one memory. Connections (active
 * open only) are steered to it by the engine (a DDP_SK_XSK flow) from the
 * SYN on. What a connection receives stays in its UMEM frames until the
 * application consumes it: bytes the engine placed are never copied (and,
 * in frames the engine compacted, are not even in the frame).
 *
 * Everything here may be called from several threads: a port's lock is
 * taken by every call; whichever thread polls processes the port's
 * frames and timers for all its connections. Nothing runs in between:
 * ACKs and retransmissions go out while some thread is in a call.
 *
 * IPv4 and IPv6 (no IPv6 extension headers: a segment with one is left
 * to be sent again), no VLAN, no IP options sent; the next hop's MAC
 * comes from the kernel's neighbour table (ARP, neighbour discovery).
 * SACK both ways, no timestamps: SACK recovery (RFC 6675) or NewReno (RFC 6582),
 * limited transmit, tail loss probes, RFC 6298 timers.
 */
#ifndef L5P_UTCP_H
#define L5P_UTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <linux/types.h>

struct ddp_dev;
struct utcp_port;
struct utcp_conn;

/* Open the TCP on an AF_XDP port on every RX queue of ifname over the
 * engine's region (xsk_port.h), bound as mode says (enum xsk_mode: 0 is
 * zero-copy where the driver has it, else copy): -errno, with a message
 * naming the step, if AF_XDP is not possible there (the caller falls back
 * to kernel sockets). */
int utcp_port_open(struct ddp_dev *dev, const char *ifname, int mode,
		   struct utcp_port **out, char *err, size_t errlen);
/* Connections still open are reset and freed first. */
void utcp_port_close(struct utcp_port *up);
/* The RX queues it serves: all of its interface's */
__u32 utcp_port_queues(const struct utcp_port *up);
/* Bound zero-copy? */
bool utcp_port_zerocopy(const struct utcp_port *up);
/* The engine's flags for a flow of this port (DDP_SK_XSK, and
 * DDP_SK_ZEROCOPY if it is bound so) */
__u32 utcp_port_sk_flags(const struct utcp_port *up);

/* Timers and sizes of the connections a port opens from then on; a 0
 * field keeps the default (in brackets). */
struct utcp_limits {
	__u32 rto_min_ms; /* [200] */
	__u32 rto_init_ms; /* [1000] the SYN's, and until an RTT is known */
	__u32 syn_retries; /* [5] SYN retransmissions, then -ETIMEDOUT */
	__u32 retries; /* [8] retransmissions of the same data, then
			* -ETIMEDOUT (15 s with the defaults) */
	__u32 ack_delay_ms; /* [10] delayed ACK */
	__u32 close_ms; /* [3000] utcp_close's wait for the end */
	__u32 rcv_frames; /* [256] frames a connection's window holds */
	__u32 snd_frames; /* [256] frames of data queued or in flight */
};
void utcp_port_limits(struct utcp_port *up, const struct utcp_limits *lim);

/* Connect to raddr:rport (IPv4 or IPv6) from the port's interface: a local port
 * is reserved from the kernel (a bound socket, never used), the next hop's
 * MAC comes from the kernel's neighbour table, the flow is steered to the
 * port, then SYN with MSS, window scaling and SACK-permitted. Waits for
 * the handshake: -ECONNREFUSED (RST), -ETIMEDOUT (no SYN-ACK),
 * -EHOSTUNREACH (no neighbour), with the reason in err. */
int utcp_connect(struct utcp_port *up, const char *raddr, __u16 rport,
		 struct utcp_conn **out, char *err, size_t errlen);
/* FIN, wait (bounded) for the peer's, unsteer, free. A connection reset
 * or timed out is freed the same way. Unread bytes, and what arrives
 * meanwhile, are dropped; past the bound the peer gets an RST. */
void utcp_close(struct utcp_conn *c);

/* A read or send that makes no progress for ms milliseconds fails with
 * -ETIMEDOUT (0: it waits for ever, the default). */
void utcp_set_timeout(struct utcp_conn *c, int ms);
/* Queue all of iov for sending (waiting for window), and send. */
int utcp_send(struct utcp_conn *c, const struct iovec *iov, int n);
/* Read exactly len in-order bytes, copied; waits, taking them as they
 * come (len may exceed the window). -ECONNRESET on reset, -ETIMEDOUT
 * after the retransmissions gave up, -EPIPE at the peer's FIN, -EPROTO if
 * any of the bytes was placed by the engine (not in a frame). On an error
 * the bytes taken before it stay consumed; none of those readable when
 * the error came is (utcp_readable() tells what is left before a FIN). */
int utcp_read(struct utcp_conn *c, void *dst, size_t len);
/* Take len in-order bytes as utcp_read() would, and throw them away. */
int utcp_skip(struct utcp_conn *c, size_t len);
/* Read len in-order bytes of C2HData destined for dst: bytes the engine
 * placed (there, by construction) are skipped, the others copied. Returns
 * the bytes skipped, or -errno as utcp_read(). */
ssize_t utcp_read_data(struct utcp_conn *c, void *dst, size_t len);
/* The engine's data digest verdict (enum ddp_verdict) on the C2HData PDU
 * whose last byte (of its DDGST) was the last read, plen bytes long:
 * DDP_VERDICT_NONE unless a frame that ended it carried one, and every
 * byte of it came in the first copy sent (the one the engine judged). */
int utcp_ddgst_verdict(struct utcp_conn *c, __u32 plen);
/* In-order bytes that can be read now without waiting (the port's new
 * frames are taken in only when none are queued). */
size_t utcp_readable(struct utcp_conn *c);
/* Process frames and timers; wait at most timeout_ms for something to
 * arrive for this connection. Returns 1 if it has readable bytes, 0 if
 * not, -errno if it failed (-EPIPE: nothing left before the peer's FIN). */
int utcp_poll(struct utcp_conn *c, int timeout_ms);
/* A file descriptor readable when the port has frames (the XSK's). */
int utcp_fd(const struct utcp_conn *c);

/* The TCP sequence number of the next byte utcp_read() would return, and
 * the 5-tuple as the engine keys it, for sk_add once ICResp is read. */
__u32 utcp_rcv_seq(const struct utcp_conn *c);
struct ddp_flow_key;
void utcp_flow_key(const struct utcp_conn *c, struct ddp_flow_key *key);
/* The engine's flow id of the steering the connection was set up with:
 * ddp_sk_update() it to offload the connection once ICResp is read. */
__u32 utcp_flow_id(const struct utcp_conn *c);

struct utcp_stats {
	__u64 rx_segs, tx_segs;
	__u64 rx_bytes; /* payload taken in order */
	__u64 placed_bytes; /* of them, placed by the engine: never copied */
	__u64 copied_bytes; /* copied out of frames */
	__u64 compacted; /* frames the engine shortened */
	__u64 placed_uncut; /* placed bytes also in frames not shortened:
			     * the kernel copied them into the UMEM */
	__u64 ooo_segs; /* kept out of order, then reassembled */
	__u64 dup_segs; /* already received: dropped, ACKed */
	__u64 csum_bad; /* dropped: bad checksum, or compacted unchecked */
	__u64 bad_frames; /* dropped: malformed, or metadata inconsistent */
	__u64 ddgst_unclean; /* data digest verdicts not believed: a byte of
			      * the PDU may have come from a copy other than
			      * the one judged (a duplicate, a reordering) */
	__u64 retransmits, rto, fast_retransmits;
	__u64 probes; /* tail loss probes (counted in retransmits) */
	__u64 snd_queued; /* bytes sent or queued, not yet acknowledged */
};
void utcp_stats(const struct utcp_conn *c, struct utcp_stats *st);

#endif /* L5P_UTCP_H */
