// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * utcp_conn.c - the TCP on a port, and its connections as the application
 * sees them (RFC 9293 3.10.1 to 3.10.6, the user calls): connect (the
 * next hop's MAC, a reserved local port, the steering, the handshake),
 * close, abort, send, read, poll.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include "libddp.h"
#include "utcp_priv.h"

/* The connection is over: the error is what its calls return now */
void utcp_reset(struct utcp_conn *c, int err)
{
	c->err = err;
	c->state = UT_CLOSED;
	utcp_drop_send_queue(c);
	c->rto_at = c->dack_at = c->tlp_at = 0;
	c->ack_now = false;
	c->ack_pending = 0;
}

static void rcv_release(void *arg, __u64 addr)
{
	xp_rx_unhold(arg, addr);
}

/* ---- Connecting ---------------------------------------------------------- */

/* An address of the connection's family in a sockaddr */
static socklen_t sockaddr_of(const struct utcp_conn *c,
			     const struct in6_addr *a, __be16 port,
			     struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!c->v6) {
		s4->sin_family = AF_INET;
		s4->sin_port = port;
		memcpy(&s4->sin_addr, utcp_ip(c, a), 4);
		return sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = port;
	s6->sin6_addr = *a;
	/* a link-local address is the port's interface's */
	if (IN6_IS_ADDR_LINKLOCAL(a))
		s6->sin6_scope_id = c->p->ifindex;
	return sizeof(*s6);
}

/* The local address the kernel would use, and the next hop's MAC from
 * its neighbour table (asking it to resolve first if needed: ARP or
 * neighbour discovery). */
static int resolve(struct xsk_port *p, struct utcp_conn *c, const char *ra,
		   char *err, size_t errlen)
{
	int family = c->v6 ? AF_INET6 : AF_INET, fd, i, ret;
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(c, &c->raddr, c->rport, &ss);
	char hop_s[INET6_ADDRSTRLEN];
	__u8 hop[16];

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xp_fail(err, errlen, -errno,
			       "UDP socket for routing: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p->ifname,
		       strlen(p->ifname) + 1)) {
		ret = xp_fail(err, errlen, -errno,
			      "binding a UDP socket to '%s': %s", p->ifname,
			      strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl)) {
		ret = xp_fail(err, errlen, -errno,
			      "no route to %s through '%s': %s", ra, p->ifname,
			      strerror(errno));
		goto out;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		ret = xp_fail(err, errlen, -errno,
			      "local address towards %s: %s", ra,
			      strerror(errno));
		goto out;
	}
	if (c->v6)
		c->laddr = ((struct sockaddr_in6 *)&ss)->sin6_addr;
	else
		memcpy(utcp_ip(c, &c->laddr),
		       &((struct sockaddr_in *)&ss)->sin_addr, 4);
	ret = utcp_next_hop(family, utcp_ip(c, &c->raddr), p->ifindex, hop);
	if (ret) {
		ret = xp_fail(err, errlen, ret,
			      "the kernel's route to %s through '%s': %s", ra,
			      p->ifname, strerror(-ret));
		goto out;
	}
	inet_ntop(family, hop, hop_s, sizeof(hop_s));
	/* as long as the kernel tries: 3 solicitations a second apart (its
	 * mcast_solicit and retrans_time defaults); the first may be lost,
	 * on a link just up */
	for (i = 0; i < 300; i++) {
		if (!utcp_neigh_mac(family, hop, p->ifindex, c->rmac))
			goto out;
		/* a datagram makes the kernel resolve the next hop */
		if (i % 25 == 0)
			send(fd, "", 0, MSG_DONTWAIT);
		usleep(10000);
	}
	ret = xp_fail(
		err, errlen, -EHOSTUNREACH,
		"no neighbour entry for %s (next hop to %s) on '%s' after 3 s of %s",
		hop_s, ra, p->ifname, c->v6 ? "neighbour discovery" : "ARP");
out:
	close(fd);
	return ret;
}

/* A bound socket the kernel keeps the local port for, never used */
static int reserve_port(struct utcp_conn *c, const char *la, char *err,
			size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(c, &c->laddr, 0, &ss);

	c->resv_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->resv_fd < 0 || bind(c->resv_fd, (struct sockaddr *)&ss, sl) ||
	    getsockname(c->resv_fd, (struct sockaddr *)&ss, &sl))
		return xp_fail(err, errlen, -errno,
			       "reserving a local TCP port on %s: %s", la,
			       strerror(errno));
	c->lport = c->v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
			   ((struct sockaddr_in *)&ss)->sin_port;
	return 0;
}

/* The engine's key: IPv4 addresses IPv4-mapped, as they are kept here */
static void key_of(const struct utcp_conn *c, struct ddp_flow_key *key)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->raddr, &c->raddr, 16);
	memcpy(key->laddr, &c->laddr, 16);
	key->rport = c->rport;
	key->lport = c->lport;
}

static void conn_unlink(struct utcp_conn *c)
{
	struct utcp_conn **pp;

	for (pp = &c->up->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
}

/* Lock held */
static void conn_free(struct utcp_conn *c)
{
	conn_unlink(c);
	utcp_drop_send_queue(c);
	if (c->rcv.q)
		utcp_rcv_free(&c->rcv);
	if (c->flow_id != DDP_NO_TAG)
		ddp_sk_del(c->p->dev, c->flow_id);
	if (c->resv_fd >= 0)
		close(c->resv_fd);
	free(c);
}

static __u32 pow2_at_least(__u32 v)
{
	__u32 n = 1;

	while (n < v)
		n <<= 1;
	return n;
}

int utcp_connect(struct utcp_port *up, const char *raddr, __u16 rport,
		 struct utcp_conn **out, char *err, size_t errlen)
{
	struct xsk_port *p = up->xp;
	struct ddp_sk_config cfg = { .queue_size = 1,
				     .flags = utcp_port_sk_flags(up) };
	char la[INET6_ADDRSTRLEN];
	struct ddp_flow_key key;
	struct utcp_conn *c;
	struct in6_addr ra;
	__be32 ra4;
	bool v6 = false;
	__u32 max_wnd;
	int ret;

	*out = NULL;
	/* IPv4 kept IPv4-mapped, as the engine keys it */
	if (inet_pton(AF_INET, raddr, &ra4) == 1)
		ddp_addr_v4mapped(ra.s6_addr, ra4);
	else if (inet_pton(AF_INET6, raddr, &ra) == 1)
		v6 = !IN6_IS_ADDR_V4MAPPED(&ra);
	else
		return xp_fail(err, errlen, -EINVAL,
			       "'%s' is not an IPv4 or IPv6 address", raddr);
	c = calloc(1, sizeof(*c));
	if (!c)
		return xp_fail(err, errlen, -ENOMEM, "out of memory");
	c->p = p;
	c->up = up;
	c->v6 = v6;
	c->raddr = ra;
	c->laddr = ra; /* the mapping's prefix; resolve() sets the rest */
	c->rport = htons(rport);
	c->resv_fd = -1;
	c->flow_id = DDP_NO_TAG;
	ret = resolve(p, c, raddr, err, errlen);
	if (ret)
		goto err_free;
	inet_ntop(v6 ? AF_INET6 : AF_INET, utcp_ip(c, &c->laddr), la,
		  sizeof(la));
	ret = reserve_port(c, la, err, errlen);
	if (ret)
		goto err_free;
	key_of(c, &key);
	ret = ddp_sk_add(p->dev, &key, &cfg, &c->flow_id);
	if (ret) {
		c->flow_id = DDP_NO_TAG;
		ret = xp_fail(
			err, errlen, ret,
			"steering %s:%u -> %s:%u to the AF_XDP socket (ddp_sk_add): %s",
			raddr, rport, la, ntohs(c->lport), ddp_errmsg(p->dev));
		goto err_free;
	}

	pthread_mutex_lock(&p->lock);
	c->lim = up->lim;
	ret = utcp_rcv_init(&c->rcv, pow2_at_least(2 * c->lim.rcv_frames), 0,
			    rcv_release, p);
	if (ret) {
		pthread_mutex_unlock(&p->lock);
		ret = xp_fail(err, errlen, ret, "out of memory");
		goto err_free;
	}
	c->rmss = MIN(p->mtu - utcp_ip_hlen(c) - 20,
		      XSK_FRAME - XSK_RX_HEADROOM - ETH_LEN - 60 - 40);
	max_wnd = c->lim.rcv_frames * c->rmss;
	while (c->rcv_ws < 14 && max_wnd >> c->rcv_ws > 65535)
		c->rcv_ws++;
	c->syn_wnd = MIN(max_wnd, 65535u);
	if (getrandom(&c->iss, sizeof(c->iss), 0) != sizeof(c->iss))
		c->iss = (__u32)now_us();
	c->snd_una = c->snd_nxt = c->snd_max = c->snd_end = c->iss;
	c->recover = c->iss;
	c->rto = c->lim.rto_init_ms * 1000;
	c->smss = 536;
	c->next = up->conns;
	up->conns = c;
	c->state = UT_SYN_SENT;
	if (utcp_queue_ctl(c, F_SYN)) {
		ret = xp_fail(err, errlen, -ENOBUFS, "no TX frame for the SYN");
		goto err_unlock;
	}
	while (c->state == UT_SYN_SENT) {
		utcp_port_run(up);
		if (c->state != UT_SYN_SENT)
			break;
		utcp_port_wait(up, 0);
	}
	if (c->err == -ECONNREFUSED) {
		ret = xp_fail(
			err, errlen, c->err,
			"connecting to %s:%u from %s:%u on '%s': refused (the peer answered RST)",
			raddr, rport, la, ntohs(c->lport), p->ifname);
		goto err_unlock;
	} else if (c->err) {
		ret = xp_fail(
			err, errlen, c->err,
			"connecting to %s:%u from %s:%u on '%s': no answer to %u SYNs",
			raddr, rport, la, ntohs(c->lport), p->ifname,
			c->lim.syn_retries + 1);
		goto err_unlock;
	}
	pthread_mutex_unlock(&p->lock);
	*out = c;
	return 0;

err_unlock:
	conn_free(c);
	xp_flush(p);
	pthread_mutex_unlock(&p->lock);
	return ret;
err_free:
	pthread_mutex_lock(&p->lock);
	conn_free(c);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* Our FIN is queued and the exchange of FINs is not over */
static bool fin_pending(const struct utcp_conn *c)
{
	return c->state == UT_FIN_WAIT_1 || c->state == UT_FIN_WAIT_2 ||
	       c->state == UT_CLOSING || c->state == UT_LAST_ACK;
}

void utcp_close(struct utcp_conn *c)
{
	struct xsk_port *p;
	__u64 deadline;

	if (!c)
		return;
	p = c->p;
	pthread_mutex_lock(&p->lock);
	deadline = now_us() + c->lim.close_ms * 1000ull;
	c->closing = true;
	utcp_rcv_discard(&c->rcv, c->rcv.bytes);
	if (c->state == UT_ESTABLISHED || c->state == UT_CLOSE_WAIT) {
		if (!utcp_queue_ctl(c, F_FIN))
			c->state = c->state == UT_ESTABLISHED ? UT_FIN_WAIT_1 :
								UT_LAST_ACK;
	}
	while (fin_pending(c) && now_us() < deadline) {
		utcp_port_run(c->up);
		if (!fin_pending(c))
			break;
		utcp_port_wait(c->up, deadline);
	}
	/* the peer stays silent, or we had no frame for the FIN */
	if (c->state != UT_CLOSED && c->state != UT_TIME_WAIT)
		utcp_send_ctl(c, c->snd_max, F_RST | F_ACK);
	conn_free(c);
	xp_flush(p);
	pthread_mutex_unlock(&p->lock);
}

/* Reset every connection of a port that is closing */
static void port_abort(struct utcp_port *up)
{
	struct utcp_conn *c;

	while ((c = up->conns)) {
		if (c->state != UT_CLOSED && c->state != UT_SYN_SENT &&
		    c->state != UT_TIME_WAIT)
			utcp_send_ctl(c, c->snd_max, F_RST | F_ACK);
		conn_free(c);
	}
	xp_flush(up->xp);
}

/* ---- The TCP on a port --------------------------------------------------- */

static void defaults(struct utcp_limits *l)
{
	*l = (struct utcp_limits){ .rto_min_ms = 200,
				   .rto_init_ms = 1000,
				   .syn_retries = 5,
				   .retries = 8,
				   .ack_delay_ms = 10,
				   .close_ms = 3000,
				   .rcv_frames = 256,
				   .snd_frames = 256 };
}

void utcp_port_limits(struct utcp_port *up, const struct utcp_limits *lim)
{
	struct xsk_port *p = up->xp;
	struct utcp_limits d;

	defaults(&d);
	pthread_mutex_lock(&p->lock);
#define PICK(f) up->lim.f = lim->f ? lim->f : d.f
	PICK(rto_min_ms);
	PICK(rto_init_ms);
	PICK(syn_retries);
	PICK(retries);
	PICK(ack_delay_ms);
	PICK(close_ms);
	PICK(rcv_frames);
	PICK(snd_frames);
#undef PICK
	/* the frames a connection may hold must leave some for the others
	 * its queue brings */
	if (up->lim.rcv_frames > p->nrx / 2)
		up->lim.rcv_frames = p->nrx / 2;
	if (up->lim.snd_frames > p->ntx - XSK_TX_RESERVE)
		up->lim.snd_frames = p->ntx - XSK_TX_RESERVE;
	pthread_mutex_unlock(&p->lock);
}

int utcp_port_open(struct ddp_dev *dev, const char *ifname, int mode,
		   struct utcp_port **out, char *err, size_t errlen)
{
	struct utcp_port *up;
	int ret;

	*out = NULL;
	up = calloc(1, sizeof(*up));
	if (!up)
		return xp_fail(err, errlen, -ENOMEM, "out of memory");
	ret = xsk_port_open(dev, ifname, mode, &up->xp, err, errlen);
	if (ret) {
		free(up);
		return ret;
	}
	utcp_port_limits(up, &(struct utcp_limits){ 0 });
	*out = up;
	return 0;
}

void utcp_port_close(struct utcp_port *up)
{
	if (!up)
		return;
	pthread_mutex_lock(&up->xp->lock);
	port_abort(up);
	pthread_mutex_unlock(&up->xp->lock);
	xsk_port_close(up->xp);
	free(up);
}

__u32 utcp_port_queues(const struct utcp_port *up)
{
	return up->xp->nq;
}

bool utcp_port_zerocopy(const struct utcp_port *up)
{
	return up->xp->zc;
}

__u32 utcp_port_sk_flags(const struct utcp_port *up)
{
	return DDP_SK_XSK | (up->xp->zc ? DDP_SK_ZEROCOPY : 0);
}

/* ---- Sending and receiving ----------------------------------------------- */

void utcp_set_timeout(struct utcp_conn *c, int ms)
{
	c->timeout_us = ms > 0 ? ms * 1000ull : 0;
}

/* Wait for the port, with no progress since *idle (us; 0: since now, the
 * clock read only when there is a wait): -ETIMEDOUT once the connection's
 * timeout has passed, else 0. */
static int conn_wait(struct utcp_conn *c, __u64 *idle)
{
	__u64 end;

	if (!c->timeout_us) {
		utcp_port_wait(c->up, 0);
		return 0;
	}
	if (!*idle)
		*idle = now_us();
	end = *idle + c->timeout_us;
	if (now_us() >= end)
		return -ETIMEDOUT;
	utcp_port_wait(c->up, end);
	return 0;
}

int utcp_send(struct utcp_conn *c, const struct iovec *iov, int n)
{
	struct xsk_port *p = c->p;
	__u64 idle = 0;
	const __u8 *b;
	size_t left, m;
	int i, ret = 0;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < n && !ret; i++) {
		b = iov[i].iov_base;
		left = iov[i].iov_len;
		while (left) {
			if (c->err) {
				ret = c->err;
				break;
			}
			if (c->state != UT_ESTABLISHED &&
			    c->state != UT_CLOSE_WAIT) {
				ret = -EPIPE;
				break;
			}
			m = utcp_queue_data(c, b, left);
			if (!m) {
				/* all frames in flight: ACKs free them */
				utcp_port_run(c->up);
				m = utcp_queue_data(c, b, left);
			}
			if (!m) {
				ret = conn_wait(c, &idle);
				if (ret)
					break;
				continue;
			}
			idle = 0;
			b += m;
			left -= m;
			/* a full segment may leave at once */
			if (seg_at(c, c->nsegs - 1)->len == c->smss) {
				utcp_output(c, now_us());
				xp_flush(p);
			}
		}
	}
	if (!ret) {
		utcp_output(c, now_us());
		xp_flush(p);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* Acknowledge at once if reading opened the window a lot (as Linux's
 * tcp_cleanup_rbuf): at least doubled, and by a segment or more. */
static void read_done(struct utcp_conn *c)
{
	__u32 cur = adv_wnd(c), room = rcv_room(c);

	if (c->state == UT_CLOSED || c->fin_rcvd)
		return;
	if (2 * cur <= c->lim.rcv_frames * c->rmss &&
	    room * c->rmss >= MAX(2 * cur, (__u32)c->rmss)) {
		utcp_send_ack(c);
		xp_flush(c->p);
	}
}

/* Bytes are taken as they come, not once all of len is there: a read
 * (a PDU's data) may be larger than the window, which only reading
 * opens again. */
static ssize_t conn_read(struct utcp_conn *c, void *dst, size_t len, bool data)
{
	struct xsk_port *p = c->p;
	__u64 placed, skipped = 0, idle = 0;
	size_t done = 0, n;
	ssize_t ret = 0;

	pthread_mutex_lock(&p->lock);
	while (done < len) {
		/* the port only when what is queued does not do (its ACKs
		 * and timers run there, at least once per batch) */
		if (c->rcv.bytes < len - done)
			utcp_port_run(c->up);
		n = MIN(c->rcv.bytes, len - done);
		if (n) {
			placed = 0;
			ret = utcp_rcv_read(&c->rcv, p->mem,
					    dst ? (__u8 *)dst + done : NULL, n,
					    data, &placed);
			if (ret < 0)
				goto out;
			c->st.copied_bytes += ret;
			c->st.placed_bytes += placed;
			skipped += placed;
			done += n;
			read_done(c);
			idle = 0;
			continue;
		}
		if (c->err) {
			ret = c->err;
			goto out;
		}
		if (c->fin_rcvd || c->closing) {
			ret = -EPIPE;
			goto out;
		}
		if (c->state == UT_CLOSED) {
			ret = -ENOTCONN;
			goto out;
		}
		ret = conn_wait(c, &idle);
		if (ret)
			goto out;
	}
	ret = data ? (ssize_t)skipped : 0;
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int utcp_read(struct utcp_conn *c, void *dst, size_t len)
{
	return conn_read(c, dst, len, false);
}

int utcp_skip(struct utcp_conn *c, size_t len)
{
	return conn_read(c, NULL, len, false);
}

ssize_t utcp_read_data(struct utcp_conn *c, void *dst, size_t len)
{
	return conn_read(c, dst, len, true);
}

size_t utcp_readable(struct utcp_conn *c)
{
	size_t n;

	pthread_mutex_lock(&c->p->lock);
	if (!c->rcv.bytes)
		utcp_port_run(c->up);
	n = c->rcv.bytes;
	pthread_mutex_unlock(&c->p->lock);
	return n;
}

int utcp_poll(struct utcp_conn *c, int timeout_ms)
{
	struct xsk_port *p = c->p;
	__u64 deadline = now_us() + (timeout_ms > 0 ? timeout_ms : 0) * 1000ull;
	int ret;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		utcp_port_run(c->up);
		if (c->rcv.bytes)
			ret = 1;
		else if (c->err)
			ret = c->err;
		else if (c->fin_rcvd)
			ret = -EPIPE;
		else if (c->state == UT_CLOSED)
			ret = -ENOTCONN;
		else if (now_us() >= deadline)
			ret = 0;
		else {
			utcp_port_wait(c->up, deadline);
			continue;
		}
		break;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int utcp_fd(const struct utcp_conn *c)
{
	return c->p->fd;
}

__u32 utcp_rcv_seq(const struct utcp_conn *c)
{
	return c->rcv.read_seq;
}

void utcp_flow_key(const struct utcp_conn *c, struct ddp_flow_key *key)
{
	key_of(c, key);
}

__u32 utcp_flow_id(const struct utcp_conn *c)
{
	return c->flow_id;
}

void utcp_stats(const struct utcp_conn *c, struct utcp_stats *st)
{
	pthread_mutex_lock(&c->p->lock);
	*st = c->st;
	st->snd_queued = c->snd_end - c->snd_una;
	pthread_mutex_unlock(&c->p->lock);
}
