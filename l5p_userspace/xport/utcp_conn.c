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

/* The gateway to raddr through ifname in the main table, or raddr */
static __be32 next_hop(const char *ifname, __be32 raddr)
{
	unsigned int dst, gw, flags, mask;
	char line[256], dev[IF_NAMESIZE + 1];
	__be32 hop = raddr;
	int best = -1;
	FILE *f;

	f = fopen("/proc/net/route", "re");
	if (!f)
		return raddr;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", dev, &dst, &gw,
			   &flags, &mask) != 5 ||
		    strcmp(dev, ifname) || !(flags & 1) ||
		    (raddr & mask) != dst || __builtin_popcount(mask) <= best)
			continue;
		best = __builtin_popcount(mask);
		hop = flags & 2 ? gw : raddr;
	}
	fclose(f);
	return hop;
}

static int arp_lookup(const char *ifname, __be32 ip, __u8 mac[6])
{
	char line[256], addr[64], hw[64], dev[IF_NAMESIZE + 1];
	unsigned int type, flags, m[6];
	struct in_addr a;
	int ret = -ENOENT, i;
	FILE *f;

	f = fopen("/proc/net/arp", "re");
	if (!f)
		return -errno;
	while (ret && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s 0x%x 0x%x %63s %*s %16s", addr, &type,
			   &flags, hw, dev) != 5 ||
		    inet_pton(AF_INET, addr, &a) != 1 || a.s_addr != ip ||
		    strcmp(dev, ifname) || !(flags & 2) ||
		    sscanf(hw, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
			   &m[4], &m[5]) != 6)
			continue;
		for (i = 0; i < 6; i++)
			mac[i] = m[i];
		ret = 0;
	}
	fclose(f);
	return ret;
}

/* The local address the kernel would use, and the next hop's MAC from
 * its neighbour table (asking it to resolve first if needed). */
static int resolve(struct xsk_port *p, struct utcp_conn *c, const char *ra,
		   char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = c->rport,
				  .sin_addr.s_addr = c->raddr };
	socklen_t sl = sizeof(sa);
	char hop_s[INET_ADDRSTRLEN];
	__be32 hop;
	int fd, i, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
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
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = xp_fail(err, errlen, -errno,
			      "no route to %s through '%s': %s", ra, p->ifname,
			      strerror(errno));
		goto out;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		ret = xp_fail(err, errlen, -errno,
			      "local address towards %s: %s", ra,
			      strerror(errno));
		goto out;
	}
	c->laddr = sa.sin_addr.s_addr;
	hop = next_hop(p->ifname, c->raddr);
	inet_ntop(AF_INET, &hop, hop_s, sizeof(hop_s));
	ret = 0;
	for (i = 0; i < 100; i++) {
		if (!arp_lookup(p->ifname, hop, c->rmac))
			goto out;
		/* a datagram makes the kernel resolve the next hop */
		if (i % 25 == 0)
			send(fd, "", 0, MSG_DONTWAIT);
		usleep(10000);
	}
	ret = xp_fail(
		err, errlen, -EHOSTUNREACH,
		"no neighbour entry for %s (next hop to %s) on '%s' after 1 s of ARP",
		hop_s, ra, p->ifname);
out:
	close(fd);
	return ret;
}

/* A bound socket the kernel keeps the local port for, never used */
static int reserve_port(struct utcp_conn *c, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = c->laddr };
	socklen_t sl = sizeof(sa);
	char la[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->laddr, la, sizeof(la));
	c->resv_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->resv_fd < 0 ||
	    bind(c->resv_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(c->resv_fd, (struct sockaddr *)&sa, &sl))
		return xp_fail(err, errlen, -errno,
			       "reserving a local TCP port on %s: %s", la,
			       strerror(errno));
	c->lport = sa.sin_port;
	return 0;
}

static void key_of(const struct utcp_conn *c, struct ddp_flow_key *key)
{
	ddp_flow_key_ipv4(key, c->laddr, c->lport, c->raddr, c->rport);
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
	struct ddp_sk_config cfg = { .queue_size = 1, .flags = DDP_SK_XSK };
	char la[INET_ADDRSTRLEN];
	struct ddp_flow_key key;
	struct utcp_conn *c;
	struct in_addr ra;
	__u32 max_wnd;
	int ret;

	*out = NULL;
	if (inet_pton(AF_INET, raddr, &ra) != 1)
		return xp_fail(
			err, errlen, -EINVAL,
			"'%s' is not an IPv4 address (utcp is IPv4 only)",
			raddr);
	c = calloc(1, sizeof(*c));
	if (!c)
		return xp_fail(err, errlen, -ENOMEM, "out of memory");
	c->p = p;
	c->up = up;
	c->raddr = ra.s_addr;
	c->rport = htons(rport);
	c->resv_fd = -1;
	c->flow_id = DDP_NO_TAG;
	ret = resolve(p, c, raddr, err, errlen);
	if (!ret)
		ret = reserve_port(c, err, errlen);
	if (ret)
		goto err_free;
	inet_ntop(AF_INET, &c->laddr, la, sizeof(la));
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
	c->rmss = MIN(p->mtu - 40,
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

int utcp_port_open(struct ddp_dev *dev, const char *ifname,
		   struct utcp_port **out, char *err, size_t errlen)
{
	struct utcp_port *up;
	int ret;

	*out = NULL;
	up = calloc(1, sizeof(*up));
	if (!up)
		return xp_fail(err, errlen, -ENOMEM, "out of memory");
	ret = xsk_port_open(dev, ifname, &up->xp, err, errlen);
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
			ret = utcp_rcv_read(&c->rcv, p->mem, (__u8 *)dst + done,
					    n, data, &placed);
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
