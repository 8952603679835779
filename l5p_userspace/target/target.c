// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * target.c - the NVMe/TCP target's transport: the listener, one thread
 * per connection, ICReq, PDUs received and sent, and each connection's
 * loop; the commands are handled in target_admin.c (controllers, Fabrics
 * and admin commands) and target_io.c (I/O commands and the completion
 * orders described in target.h), on the namespace of target_ns.c.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "target_priv.h"

/* One line per call, so that threads do not interleave within a line. */
void tlog(struct tconn *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ddp-target: %s: %s\n", c->peer, msg);
}

/* IPv4-mapped IPv6 addresses (a dual-stack listener) print as IPv4. */
int fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t len,
	     int *port)
{
	const struct sockaddr_in *s4 = (const void *)ss;
	const struct sockaddr_in6 *s6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, buf, len);
		*port = ntohs(s4->sin_port);
		return AF_INET;
	}
	*port = ntohs(s6->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, len);
		return AF_INET;
	}
	inet_ntop(AF_INET6, &s6->sin6_addr, buf, len);
	return AF_INET6;
}

/* Sending */

static void make_cqe(struct tconn *c, struct nvme_cqe *cqe, __u16 cid,
		     __u16 status, __u64 result)
{
	memset(cqe, 0, sizeof(*cqe));
	cqe->result = (__u32)result;
	cqe->rsvd = result >> 32; /* 8-byte property values */
	cqe->sqhd = c->no_sqfc ? 0 : c->sqhd;
	cqe->sqid = c->qid;
	cqe->cid = cid;
	cqe->status = status << 1; /* phase 0 */
}

int send_rsp(struct tconn *c, __u16 cid, __u16 status, __u64 result)
{
	__u8 buf[NTCP_HDR_MAX];
	struct nvme_cqe cqe;
	struct iovec v = { buf, 0 };

	make_cqe(c, &cqe, cid, status, result);
	v.iov_len = ntcp_enc_rsp(buf, &c->p, &cqe);
	return xport_send(&c->x, &v, 1);
}

/* One C2HData, and the response after it if cqe. */
int send_c2h(struct tconn *c, __u16 cid, __u32 datao, const void *data,
	     __u32 len, __u8 flags, const struct nvme_cqe *cqe)
{
	__u8 hdr[NTCP_HDR_MAX + 128], rsp[NTCP_HDR_MAX];
	struct iovec v[4];
	__u32 dg;
	int n = 0;

	v[n].iov_base = hdr;
	v[n++].iov_len = ntcp_enc_data(hdr, &c->p, NVME_TCP_C2H_DATA, cid, 0,
				       datao, len, flags);
	v[n].iov_base = (void *)data;
	v[n++].iov_len = len;
	if (c->p.ddgst) {
		dg = ntcp_crc32c(data, len);
		v[n].iov_base = &dg;
		v[n++].iov_len = NTCP_DGST_LEN;
	}
	if (cqe) {
		v[n].iov_base = rsp;
		v[n++].iov_len = ntcp_enc_rsp(rsp, &c->p, cqe);
	}
	return xport_send(&c->x, v, n);
}

/* The end of a command that returns data: LAST_PDU on its last C2HData,
 * with SUCCESS instead of a response when the host disabled SQ flow
 * control and there is nothing to report. */
int send_last(struct tconn *c, __u16 cid, __u32 datao, const void *data,
	      __u32 len, __u16 status, __u64 result)
{
	struct nvme_cqe cqe;

	if (c->no_sqfc && !status && !result)
		return send_c2h(c, cid, datao, data, len,
				NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS,
				NULL);
	make_cqe(c, &cqe, cid, status, result);
	return send_c2h(c, cid, datao, data, len, NVME_TCP_F_DATA_LAST, &cqe);
}

/* Admin data: [off, off + len) of page, zeros past its end. */
int send_page(struct tconn *c, const struct nvme_sqe *sqe, const void *page,
	      __u64 page_len, __u64 off, __u64 len)
{
	__u32 datao = 0, n;
	int err;

	if (len > sqe->sgl_len)
		len = sqe->sgl_len;
	if (!len)
		return send_rsp(c, sqe->cid, 0, 0);
	for (; len; len -= n, off += n, datao += n) {
		n = len < c->t->o.pdu_size ? len : c->t->o.pdu_size;
		memset(c->sbuf, 0, n);
		if (off < page_len)
			memcpy(c->sbuf, (const __u8 *)page + off,
			       page_len - off < n ? page_len - off : n);
		if (n == len)
			return send_last(c, sqe->cid, datao, c->sbuf, n, 0, 0);
		err = send_c2h(c, sqe->cid, datao, c->sbuf, n, 0, NULL);
		if (err)
			return err;
	}
	return 0;
}

/* Receiving */

/* A protocol error: the connection ends with a C2HTermReq carrying the
 * header being handled. */
int fatal(struct tconn *c, __u16 fes, __u32 fei, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	c->err.fes = fes;
	c->err.fei = fei;
	c->term = true;
	return -EPROTO;
}

/* For the log: the type's name, or its number if it has none. */
static const char *pdu_name(__u8 type, char *buf)
{
	const char *name = ntcp_type_name(type);

	if (strcmp(name, "?"))
		return name;
	snprintf(buf, 16, "PDU type 0x%02x", type);
	return buf;
}

static int recv_hdr(struct tconn *c, struct ntcp_pdu *pdu)
{
	char name[16];
	__u32 hl;
	int err;

	c->hdr_len = 0;
	err = xport_recv(&c->x, c->hdr, NTCP_CH_LEN);
	if (err)
		return err;
	c->hdr_len = NTCP_CH_LEN;
	if (ntcp_ch_check(&c->p, NTCP_CTRL, c->hdr, &hl, &c->err))
		return fatal(c, c->err.fes, c->err.fei, "%s: %s",
			     pdu_name(c->hdr[0], name), c->err.why);
	err = xport_recv(&c->x, c->hdr + NTCP_CH_LEN, hl - NTCP_CH_LEN);
	if (err)
		return err;
	c->hdr_len = hl;
	if (ntcp_hdr_parse(&c->p, NTCP_CTRL, c->hdr, hl, pdu, &c->err))
		return fatal(c, c->err.fes, c->err.fei, "%s: %s",
			     ntcp_type_name(c->hdr[0]), c->err.why);
	return 0;
}

/* A PDU's padding, its data into buf, and its data digest, checked. */
int recv_data(struct tconn *c, const struct ntcp_pdu *pdu, void *buf)
{
	__u8 pad[256];
	__u32 dg;
	int err;

	err = xport_recv(&c->x, pad, pdu->pad_len);
	if (!err)
		err = xport_recv(&c->x, buf, pdu->data_len);
	if (err || !pdu->ddgst)
		return err;
	err = xport_recv(&c->x, &dg, NTCP_DGST_LEN);
	if (err)
		return err;
	if (ntcp_crc32c(buf, pdu->data_len) != dg)
		return fatal(c, NTCP_FES_HDGST, 0, "%s: data digest mismatch",
			     ntcp_type_name(pdu->type));
	return 0;
}

static int host_term(struct tconn *c, const struct ntcp_pdu *pdu)
{
	__u8 data[NTCP_TERM_MAX_PLEN];

	xport_recv(&c->x, data, pdu->data_len);
	tlog(c,
	     "the host ended the connection (H2CTermReq, FES 0x%02x, FEI %u)",
	     pdu->term.fes, pdu->term.fei);
	c->logged = true;
	return -ECONNABORTED;
}

static int conn_ic(struct tconn *c)
{
	const struct target_opts *o = &c->t->o;
	struct ntcp_pdu pdu;
	__u8 buf[NTCP_HDR_MAX];
	struct iovec v = { buf, 0 };
	int err;

	err = recv_hdr(c, &pdu);
	if (err)
		return err;
	if (pdu.type == NVME_TCP_H2C_TERM)
		return host_term(c, &pdu);
	c->p.hdgst = pdu.ic.dgst & NVME_TCP_DGST_HDR;
	c->p.ddgst = pdu.ic.dgst & NVME_TCP_DGST_DATA;
	c->p.hpda = pdu.ic.pda;
	c->p.cpda = 0;
	c->p.maxh2cdata = o->maxh2cdata;
	c->maxr2t = pdu.ic.maxdata < TGT_R2T_MAX ? pdu.ic.maxdata + 1 :
						   TGT_R2T_MAX;
	v.iov_len = ntcp_enc_icresp(buf, 0, pdu.ic.dgst, o->maxh2cdata);
	err = xport_send(&c->x, &v, 1);
	if (err)
		return err;
	c->p.ic_done = true;
	vlog(c, "ICReq: hpda %u, header digest %s, data digest %s, maxr2t %u",
	     c->p.hpda, c->p.hdgst ? "on" : "off", c->p.ddgst ? "on" : "off",
	     pdu.ic.maxdata);
	return 0;
}

static int recv_cmd(struct tconn *c, const struct ntcp_pdu *pdu)
{
	const struct nvme_sqe *sqe = &pdu->cmd;
	int err;

	if (pdu->data_len > TGT_INCAPSULE)
		return fatal(
			c, NTCP_FES_LIMIT, 4,
			"CapsuleCmd: %u bytes of in-capsule data, more than %u",
			pdu->data_len, TGT_INCAPSULE);
	err = recv_data(c, pdu, c->rbuf);
	if (err)
		return err;
	if (c->qsize)
		c->sqhd = (c->sqhd + 1) % c->qsize;
	if (!c->ctrl) {
		if (sqe->opcode == NVME_FABRICS &&
		    ((const __u8 *)sqe)[NVME_FC_TYPE] == NVME_FCT_CONNECT)
			return fab_connect(c, sqe, c->rbuf, pdu->data_len);
		return send_rsp(c, sqe->cid,
				NVME_SC_CMD_SEQ_ERROR | NVME_SC_DNR, 0);
	}
	if (!c->qid)
		return admin_exec(c, sqe);
	return io_submit(c, sqe, c->rbuf, pdu->data_len);
}

static int recv_pdu(struct tconn *c)
{
	struct ntcp_pdu pdu;
	int err;

	err = recv_hdr(c, &pdu);
	if (err)
		return err;
	switch (pdu.type) {
	case NVME_TCP_H2C_TERM:
		return host_term(c, &pdu);
	case NVME_TCP_CMD:
		return recv_cmd(c, &pdu);
	case NVME_TCP_H2C_DATA:
		return recv_h2c(c, &pdu);
	}
	/* the codec lets nothing else through once initialized */
	return fatal(c, NTCP_FES_INVALID_HDR, 0, "unexpected %s",
		     ntcp_type_name(pdu.type));
}

/* Is a PDU (or the end of the stream) waiting? */
static int readable(struct tconn *c, int ms)
{
	struct pollfd p = { .fd = c->x.fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r > 0;
}

static int io_loop(struct tconn *c)
{
	struct tcmd *m;
	int err, i;

	for (;;) {
		for (i = 0; i < TGT_DRAIN_MAX; i++) {
			err = readable(c, 0);
			if (err <= 0)
				break;
			err = recv_pdu(c);
			if (err)
				return err;
		}
		if (err < 0)
			return err;
		m = pick(c);
		if (m) {
			err = cmd_step(c, m);
			if (err)
				return err;
			continue;
		}
		err = readable(c, wait_ms(c));
		if (err > 0)
			err = recv_pdu(c);
		if (err < 0)
			return err;
	}
}

/* Connections */

/* After a TermReq: let the host read it before the socket goes, reading
 * (and dropping) what it still sends, until it closes or time is up. */
static void linger_closed(struct tconn *c)
{
	struct timespec t0;
	char buf[4096];
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((left = TGT_LINGER_MS - ms_since(&t0)) > 0) {
		if (readable(c, left) <= 0 ||
		    recv(c->x.fd, buf, sizeof(buf), MSG_DONTWAIT) == 0)
			break;
	}
}

static void conn_end(struct tconn *c, int err)
{
	struct target *t = c->t;
	__u8 buf[NTCP_TERM_MAX_PLEN];
	struct iovec v = { buf, 0 };
	struct tconn **pp;
	bool stopping;

	pthread_mutex_lock(&t->lock);
	stopping = t->stopping;
	pthread_mutex_unlock(&t->lock);
	if (c->term) {
		struct timeval tmo = { .tv_sec = TGT_LINGER_MS / 1000 };

		/* a host that does not read must not hold the thread */
		setsockopt(c->x.fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
		v.iov_len = ntcp_enc_term(buf, NTCP_CTRL, c->err.fes,
					  c->err.fei, c->hdr, c->hdr_len);
		if (!xport_send(&c->x, &v, 1)) {
			shutdown(c->x.fd, SHUT_WR);
			linger_closed(c);
		}
		tlog(c, "%s; connection closed", c->why);
	} else if (!c->logged && !stopping && err != -ECONNRESET) {
		tlog(c, "%s; connection closed", strerror(-err));
	} else if (!c->logged) {
		vlog(c, "connection closed");
	}
	ctrl_leave(c);
	pthread_mutex_lock(&t->lock);
	for (pp = &t->conns; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	xport_close(&c->x);
	if (!--t->nconns)
		pthread_cond_broadcast(&t->idle);
	pthread_mutex_unlock(&t->lock);
	free(c->cmds);
	free(c->rbuf);
	free(c->sbuf);
	free(c);
}

static void *conn_main(void *arg)
{
	struct tconn *c = arg;
	int err;

	err = conn_ic(c);
	/* the admin queue, or a queue until it is connected as I/O queue */
	while (!err && !c->cmds)
		err = recv_pdu(c);
	if (!err)
		err = io_loop(c);
	conn_end(c, err);
	return NULL;
}

static void conn_accept(struct target *t)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct tconn *c;
	pthread_attr_t attr;
	pthread_t th;
	sigset_t all, old;
	int fd, port, err;

	fd = accept4(t->lfd, (void *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
			fprintf(stderr, "ddp-target: accept: %s\n",
				strerror(errno));
			usleep(100000); /* let connections end */
		}
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c) {
		c->rbuf = malloc(t->o.maxh2cdata > TGT_INCAPSULE ?
					 t->o.maxh2cdata :
					 TGT_INCAPSULE);
		c->sbuf = malloc(t->o.pdu_size > NVME_IDENTIFY_LEN ?
					 t->o.pdu_size :
					 NVME_IDENTIFY_LEN);
	}
	if (!c || !c->rbuf || !c->sbuf) {
		fprintf(stderr, "ddp-target: no memory for a connection\n");
		if (c) {
			free(c->rbuf);
			free(c->sbuf);
		}
		free(c);
		close(fd);
		return;
	}
	c->t = t;
	xport_from_fd(&c->x, fd);
	err = fmt_addr(&ss, c->peer, INET6_ADDRSTRLEN, &port);
	if (err == AF_INET6) {
		memmove(c->peer + 1, c->peer, strlen(c->peer) + 1);
		c->peer[0] = '[';
		strcat(c->peer, "]");
	}
	snprintf(c->peer + strlen(c->peer), sizeof(c->peer) - strlen(c->peer),
		 ":%d", port);
	sl = sizeof(c->local);
	getsockname(fd, (void *)&c->local, &sl);

	pthread_mutex_lock(&t->lock);
	if (t->nconns >= TGT_MAX_CONNS) {
		pthread_mutex_unlock(&t->lock);
		tlog(c, "more than %d connections; connection closed",
		     TGT_MAX_CONNS);
		close(fd);
		free(c->rbuf);
		free(c->sbuf);
		free(c);
		return;
	}
	c->next = t->conns;
	t->conns = c;
	t->nconns++;
	pthread_mutex_unlock(&t->lock);
	vlog(c, "connected");

	/* signals are for the thread in target_run() */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&th, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		c->logged = true;
		tlog(c, "couldn't start a thread: %s; connection closed",
		     strerror(err));
		conn_end(c, -err);
	}
}

/* The target */

void target_opts_default(struct target_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->addr = "0.0.0.0";
	o->port = "4420";
	o->nqn = TGT_DEF_NQN;
	o->size = TGT_DEF_SIZE;
	o->pdu_size = TGT_DEF_PDU_SIZE;
	o->maxh2cdata = TGT_DEF_MAXH2CDATA;
	o->completion = TGT_COMPL_OOO;
	o->reverse_n = 1;
	o->queue_size = TGT_DEF_QUEUE_SIZE;
	o->max_queues = TGT_DEF_MAX_QUEUES;
}

static int target_listen(struct target *t, char *errbuf, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST |
					      AI_NUMERICSERV },
			*ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1, err;

	err = getaddrinfo(t->o.addr, t->o.port, &hints, &ai);
	if (err) {
		snprintf(
			errbuf, errlen,
			"'%s' port '%s' is not an IPv4 or IPv6 address and a port",
			t->o.addr, t->o.port);
		return -1;
	}
	t->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->lfd < 0 ||
	    setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(t->lfd, ai->ai_addr, ai->ai_addrlen) || listen(t->lfd, 128) ||
	    getsockname(t->lfd, (void *)&ss, &sl)) {
		snprintf(errbuf, errlen, "couldn't listen on %s port %s: %s",
			 t->o.addr, t->o.port, strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			  t->addr, sizeof(t->addr));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  t->addr, sizeof(t->addr));
	t->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

int target_open(const struct target_opts *o, struct target **out, char *errbuf,
		size_t errlen)
{
	struct target *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	t->o = *o;
	t->fd = t->lfd = t->stopfd = -1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->idle, NULL);
	snprintf(t->sn, sizeof(t->sn), "DDP%08X",
		 ntcp_crc32c(o->nqn, strlen(o->nqn)));
	if (ns_open(t, errbuf, errlen) || target_listen(t, errbuf, errlen)) {
		target_close(t);
		return -1;
	}
	t->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->stopfd < 0) {
		snprintf(errbuf, errlen, "eventfd: %s", strerror(errno));
		target_close(t);
		return -1;
	}
	*out = t;
	return 0;
}

const char *target_addr(const struct target *t)
{
	return t->addr;
}

int target_port(const struct target *t)
{
	return t->port;
}

void target_stop(struct target *t)
{
	__u64 one = 1;
	ssize_t r = write(t->stopfd, &one, sizeof(one));

	(void)r;
}

int target_run(struct target *t)
{
	struct pollfd p[2] = { { .fd = t->lfd, .events = POLLIN },
			       { .fd = t->stopfd, .events = POLLIN } };
	struct tconn *c;
	int err = 0;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			conn_accept(t);
	}
	/* wake every connection's thread and wait for them to end */
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	for (c = t->conns; c; c = c->next)
		shutdown(c->x.fd, SHUT_RDWR);
	while (t->nconns)
		pthread_cond_wait(&t->idle, &t->lock);
	pthread_mutex_unlock(&t->lock);
	return err;
}

void target_close(struct target *t)
{
	if (!t)
		return;
	if (t->lfd >= 0)
		close(t->lfd);
	if (t->stopfd >= 0)
		close(t->stopfd);
	if (t->fd >= 0)
		close(t->fd);
	if (t->mem)
		munmap(t->mem, t->size);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->idle);
	free(t);
}
