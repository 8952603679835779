// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xport_sock.c - the kernel-socket stream, and receiving C2HData that the
 * engine may have placed: a byte is skipped only if it is already in the
 * socket (taken in order by the kernel) and a valid placement record for
 * the same command covers it; everything else is copied.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "libddp.h"
#include "utcp.h"
#include "xport.h"

#ifndef TCP_REPAIR_OFF_NO_WP
#define TCP_REPAIR_OFF_NO_WP -1
#endif

int xport_connect(struct xport *x, const char *addr, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV },
			*ai;
	int one = 1, fd, err;

	memset(x, 0, sizeof(*x));
	x->fd = -1;
	err = getaddrinfo(addr, port, &hints, &ai);
	if (err)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return err;
	}
	freeaddrinfo(ai);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	x->fd = fd;
	return 0;
}

int xport_connect_xsk(struct xport *x, struct utcp_port *p, const char *addr,
		      const char *port, char *err, size_t errlen)
{
	char *end;
	unsigned long n = strtoul(port, &end, 10);

	memset(x, 0, sizeof(*x));
	x->fd = -1;
	if (*end || !n || n > 65535)
		return -EINVAL;
	return utcp_connect(p, addr, n, &x->u, err, errlen);
}

void xport_from_fd(struct xport *x, int fd)
{
	int one = 1;

	memset(x, 0, sizeof(*x));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	x->fd = fd;
}

void xport_close(struct xport *x)
{
	if (x->u)
		utcp_close(x->u);
	x->u = NULL;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
}

int xport_set_timeout(struct xport *x, int ms)
{
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };

	x->timeout_ms = ms;
	if (x->u) {
		utcp_set_timeout(x->u, ms);
		return 0;
	}
	if (setsockopt(x->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(x->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

/* -errno of a failed recv or send: one that timed out is -ETIMEDOUT */
static int xport_errno(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
}

int xport_send(struct xport *x, const struct iovec *iov, int n)
{
	struct iovec v[XPORT_IOV_MAX];
	int i = 0;

	if (x->u) {
		int err = utcp_send(x->u, iov, n);

		for (i = 0; !err && i < n; i++)
			x->tx += iov[i].iov_len;
		return err;
	}
	if (n > XPORT_IOV_MAX)
		return -EINVAL;
	memcpy(v, iov, n * sizeof(*iov));
	while (i < n) {
		struct msghdr m = { .msg_iov = v + i, .msg_iovlen = n - i };
		ssize_t r = sendmsg(x->fd, &m, MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return xport_errno();
		}
		x->tx += r;
		while (i < n && (size_t)r >= v[i].iov_len)
			r -= v[i++].iov_len;
		if (i < n) {
			v[i].iov_base = (char *)v[i].iov_base + r;
			v[i].iov_len -= r;
		}
	}
	return 0;
}

/* r bytes were read off the kernel socket. */
static void xport_took(struct xport *x, size_t r)
{
	x->rx += r;
	x->inq = x->inq > r ? x->inq - r : 0;
}

/* The socket's receive low-water mark, set only when it changes. */
static int xport_set_lowat(struct xport *x, int lowat)
{
	if (x->ddp.lowat == lowat)
		return 0;
	if (setsockopt(x->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)))
		return -errno;
	x->ddp.lowat = lowat;
	return 0;
}

/* len bytes into buf, or thrown away uncopied if buf is NULL */
static int xport_take(struct xport *x, void *buf, size_t len)
{
	if (x->u) {
		int err = buf ? utcp_read(x->u, buf, len) :
				utcp_skip(x->u, len);

		if (!err)
			x->rx += len;
		return err;
	}
	/* A reader blocked in recv is woken only when SO_RCVLOWAT bytes are
	 * unread (tcp_data_ready), however few it still needs: after a large
	 * PDU's data raised it, a header or digest whose last bytes come in
	 * a later segment would wait for ever. Lowered only if they are not
	 * all there yet. */
	if ((size_t)x->ddp.lowat > 1 && xport_pending(x, len) < len) {
		int err = xport_set_lowat(x, 1);

		if (err)
			return err;
	}
	while (len) {
		ssize_t r = recv(x->fd, buf, len,
				 MSG_WAITALL | (buf ? 0 : MSG_TRUNC));

		if (r == 0)
			return -ECONNRESET;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return xport_errno();
		}
		xport_took(x, r);
		if (buf)
			buf = (char *)buf + r;
		len -= r;
	}
	return 0;
}

int xport_recv(struct xport *x, void *buf, size_t len)
{
	return xport_take(x, buf, len);
}

int xport_skip(struct xport *x, size_t len)
{
	return xport_take(x, NULL, len);
}

size_t xport_pending(struct xport *x, size_t need)
{
	int n = 0;

	if (x->u)
		return utcp_readable(x->u);
	if (x->inq < need || !need)
		x->inq = ioctl(x->fd, SIOCINQ, &n) ? 0 : (size_t)n;
	return x->inq;
}

int xport_peek(struct xport *x, size_t off, void *buf, size_t len)
{
	int at = (int)off, none = -1;
	ssize_t r;

	if (x->u)
		return -EOPNOTSUPP;
	if (off > INT_MAX || xport_pending(x, off + len) < off + len)
		return -EAGAIN;
	if (setsockopt(x->fd, SOL_SOCKET, SO_PEEK_OFF, &at, sizeof(at)))
		return -errno;
	r = recv(x->fd, buf, len, MSG_PEEK | MSG_DONTWAIT);
	setsockopt(x->fd, SOL_SOCKET, SO_PEEK_OFF, &none, sizeof(none));
	return r == (ssize_t)len ? 0 : -EAGAIN;
}

__u32 xport_seq_of(const struct xport *x, __u64 off)
{
	return x->ddp.seq0 + (__u32)(off - x->ddp.rx0);
}

int xport_ddgst_verdict(struct xport *x, __u16 cid, __u32 plen)
{
	__u32 end;

	if (!x->offloaded)
		return DDP_VERDICT_NONE;
	if (x->u)
		return utcp_ddgst_verdict(x->u, plen);
	if (!x->ddp.have_rec)
		return DDP_VERDICT_NONE;
	x->ddp.have_rec = false;
	end = xport_seq_of(x, x->rx);
	return ddp_ddgst_verdict(x->ddp.dev, x->ddp.flow_id, x->ddp.pdu_rec,
				 cid, end - plen, end);
}

/*
 * Wait until len bytes are in the socket or the kernel wants it drained:
 * returns how many are there (at least 1), or -errno. One wake-up however
 * many segments bring them: poll wakes at SO_RCVLOWAT (which grows the
 * receive buffer to hold it) and also when memory runs short or the window
 * closes, so it never waits for bytes the window keeps out (a blocking
 * recv(MSG_PEEK | MSG_WAITALL) would).
 */
static ssize_t xport_wait_data(struct xport *x, size_t len)
{
	struct pollfd p = { .fd = x->fd, .events = POLLIN };
	size_t avail;
	int err;

	if (x->inq >= len)
		return x->inq;
	err = xport_set_lowat(x, len < INT_MAX ? (int)len : INT_MAX);
	if (err)
		return err;
	for (;;) {
		int r = poll(&p, 1, x->timeout_ms ? x->timeout_ms : -1);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (!r)
			return -ETIMEDOUT;
		avail = xport_pending(x, 0);
		if (avail)
			return avail;
		if (p.revents & (POLLHUP | POLLERR | POLLRDHUP))
			return -ECONNRESET;
		if (p.revents & POLLIN) {
			char c;

			/* readable but nothing queued: the peer closed */
			if (recv(x->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
				return -ECONNRESET;
		}
	}
}

/* How the n bytes from sequence number seq start (ddp_rec_run()): *placed
 * if a valid record of command cid covers seq, for as long as returned. */
static size_t xport_placed_run(struct xport *x, __u32 seq, size_t n, __u16 cid,
			       bool *placed)
{
	struct xport_ddp *d = &x->ddp;
	enum ddp_run run;
	__u32 rec;

	n = ddp_rec_run_of(d->dev, d->flow_id, &d->rec_tail, seq, n, cid, &run,
			   &rec);
	d->cid_mismatch += run == DDP_RUN_OTHER;
	*placed = run == DDP_RUN_PLACED;
	if (*placed) {
		d->pdu_rec = rec;
		d->have_rec = true;
	}
	return n;
}

ssize_t xport_recv_data(struct xport *x, void *dst, size_t len, __u16 cid)
{
	ssize_t skipped = 0;
	int err;

	if (x->u) {
		/* the frames say what was placed; framing is agreed on */
		skipped = utcp_read_data(x->u, dst, len);
		if (skipped >= 0) {
			x->rx += len;
			x->ddp.skipped += skipped;
			x->ddp.copied += len - skipped;
		}
		return skipped;
	}
	if (!x->offloaded) {
		err = xport_recv(x, dst, len);
		return err ? err : 0;
	}
	x->ddp.have_rec = false;
	while (len) {
		ssize_t avail = xport_wait_data(x, len);
		size_t n;
		bool placed;

		if (avail < 0)
			return avail;
		/* only bytes the kernel already took in order are judged */
		n = xport_placed_run(x, xport_seq_of(x, x->rx),
				     (size_t)avail < len ? (size_t)avail : len,
				     cid, &placed);
		if (placed) {
			ssize_t r = recv(x->fd, NULL, n, MSG_TRUNC);

			if (r <= 0)
				return r ? -errno : -ECONNRESET;
			xport_took(x, r);
			x->ddp.skipped += r;
			skipped += r;
			dst = (char *)dst + r;
			len -= r;
			continue;
		}
		err = xport_recv(x, dst, n);
		if (err)
			return err;
		x->ddp.copied += n;
		dst = (char *)dst + n;
		len -= n;
	}
	/* SO_RCVLOWAT stays: the next PDU of this size needs no setsockopt,
	 * and xport_wait_any lowers it before it sleeps */
	return skipped;
}

int xport_wait_any(struct xport *x, int efd, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = x->u ? utcp_fd(x->u) : x->fd,
				 .events = POLLIN },
			       { .fd = efd, .events = POLLIN } };

	if (xport_pending(x, 1))
		return 1;
	/* a poll woken by the next PDU header, not by its data */
	if (!x->u && x->ddp.lowat > 1) {
		int err = xport_set_lowat(x, 1);

		if (err)
			return err;
	}
	/* another thread may take our frames off the shared ring: look
	 * again soon rather than trust the descriptor */
	if (x->u && (timeout_ms < 0 || timeout_ms > 1))
		timeout_ms = 1;
	if (poll(p, 2, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	if (p[1].revents & POLLIN) {
		__u64 cnt;

		/* counted wake-ups: read, efd is quiet until the next */
		(void)!read(efd, &cnt, sizeof(cnt));
	}
	if (x->u) {
		return utcp_poll(x->u, 0);
	}
	return !!p[0].revents;
}

int xport_rcv_seq(struct xport *x, __u32 *seq)
{
	int on = 1, off = TCP_REPAIR_OFF_NO_WP, q = TCP_RECV_QUEUE, err = 0;
	socklen_t len = sizeof(*seq);

	if (xport_pending(x, 1))
		return -EBUSY;
	if (x->u) {
		*seq = utcp_rcv_seq(x->u);
		return 0;
	}
	if (setsockopt(x->fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		return -errno;
	if (setsockopt(x->fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    getsockopt(x->fd, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &len))
		err = -errno;
	setsockopt(x->fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off));
	return err;
}

int xport_flow_key(const struct xport *x, struct ddp_flow_key *key)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);

	if (getsockname(x->fd, (void *)&l, &ll) ||
	    getpeername(x->fd, (void *)&r, &rl))
		return -errno;
	if (r.ss_family == AF_INET) {
		const struct sockaddr_in *l4 = (void *)&l, *r4 = (void *)&r;

		ddp_flow_key_ipv4(key, l4->sin_addr.s_addr, l4->sin_port,
				  r4->sin_addr.s_addr, r4->sin_port);
	} else {
		const struct sockaddr_in6 *l6 = (void *)&l, *r6 = (void *)&r;

		memset(key, 0, sizeof(*key));
		memcpy(key->raddr, &r6->sin6_addr, 16);
		memcpy(key->laddr, &l6->sin6_addr, 16);
		key->rport = r6->sin6_port;
		key->lport = l6->sin6_port;
	}
	return 0;
}
