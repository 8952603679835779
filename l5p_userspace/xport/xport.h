/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xport.h - the byte stream an NVMe/TCP queue runs on: a kernel TCP
 * socket, or the host's own TCP over AF_XDP (utcp.h); either way the DDP
 * engine may place its C2HData. The host and the target read and write
 * PDUs through it; only the host asks it to receive data that may already
 * be placed. On a socket, placed bytes are known from the engine's
 * records; on AF_XDP, from each frame's metadata.
 */
#ifndef L5P_XPORT_H
#define L5P_XPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <linux/types.h>

struct ddp_dev;
struct utcp_conn;
struct utcp_port;

/* The engine's view of this stream, once sk_add succeeded. */
struct xport_ddp {
	struct ddp_dev *dev;
	__u32 flow_id;
	__u32 seq0; /* TCP sequence number of stream byte rx0 */
	__u64 rx0;
	__u32 rec_tail; /* placement records consumed */
	__u64 skipped; /* bytes not copied: the engine placed them */
	__u64 copied; /* C2HData bytes copied */
	__u64 cid_mismatch; /* records of another command: not trusted */
	int lowat; /* SO_RCVLOWAT as last set; 0 until then */
	__u32 pdu_rec; /* the last record used for the PDU being read... */
	bool have_rec; /* ...if any: its data digest verdict is there */
};

struct xport {
	int fd; /* the kernel socket; -1 on AF_XDP */
	struct utcp_conn *u; /* the AF_XDP connection, or NULL */
	__u64 rx, tx; /* stream bytes received and sent */
	size_t inq; /* kernel socket: bytes known queued, a lower bound */
	int timeout_ms; /* a read or send waits this long for progress */
	struct xport_ddp ddp;
	bool offloaded;
};

/* Connect to addr:port (IPv4 or IPv6 literal), optionally from a local
 * port; TCP_NODELAY. Returns 0 or -errno. */
int xport_connect(struct xport *x, const char *addr, const char *port);
/* Connect over AF_XDP through port p instead. */
int xport_connect_xsk(struct xport *x, struct utcp_port *p, const char *addr,
		      const char *port, char *err, size_t errlen);
/* Take an accepted socket. */
void xport_from_fd(struct xport *x, int fd);
void xport_close(struct xport *x);

/* A read or send that makes no progress for ms milliseconds fails with
 * -ETIMEDOUT (0: it waits for ever, the default). */
int xport_set_timeout(struct xport *x, int ms);
#define XPORT_IOV_MAX 128 /* iovecs one xport_send takes */
/* Write all of iov (at most XPORT_IOV_MAX), or fail. */
int xport_send(struct xport *x, const struct iovec *iov, int n);
/* Read exactly len bytes; -ECONNRESET when the peer closed. */
int xport_recv(struct xport *x, void *buf, size_t len);
/* Take len bytes as xport_recv() would, and throw them away uncopied
 * (MSG_TRUNC; AF_XDP: the frames released). */
int xport_skip(struct xport *x, size_t len);
/* Read len bytes of C2HData payload destined for dst. Offloaded, bytes
 * the engine reports placed (for command cid) are discarded unread with
 * MSG_TRUNC; the others are copied. Returns the bytes discarded. */
ssize_t xport_recv_data(struct xport *x, void *dst, size_t len, __u16 cid);
/* The engine's data digest verdict (enum ddp_verdict) on the C2HData PDU
 * of command cid whose DDGST was just read, plen bytes long: NONE unless
 * the stream is offloaded and the transport's rules let it be believed. */
int xport_ddgst_verdict(struct xport *x, __u16 cid, __u32 plen);
/* Bytes readable now, at least need of them? Returns how many (a lower
 * bound); asks the kernel only when what it last said does not cover need. */
size_t xport_pending(struct xport *x, size_t need);
/* Copy len readable bytes from off bytes ahead of the next byte to read,
 * leaving them unread (kernel sockets): 0, or -EAGAIN if they are not all
 * there yet, or -EOPNOTSUPP. */
int xport_peek(struct xport *x, size_t off, void *buf, size_t len);
/* Wait until bytes are readable (1), efd is (0, and its count is read),
 * or timeout_ms passed. */
int xport_wait_any(struct xport *x, int efd, int timeout_ms);

/* The TCP sequence number of the next byte to read (TCP_REPAIR; nothing
 * may be queued unread). */
int xport_rcv_seq(struct xport *x, __u32 *seq);
/* The kernel socket's 5-tuple as the engine keys it (remote first). */
struct ddp_flow_key;
int xport_flow_key(const struct xport *x, struct ddp_flow_key *key);
/* The TCP sequence number of stream byte off (offloaded streams). */
__u32 xport_seq_of(const struct xport *x, __u64 off);

#endif /* L5P_XPORT_H */
