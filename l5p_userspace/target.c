// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * target.c - the NVMe/TCP target: the listener, one thread per connection,
 * controllers, the namespace, admin and I/O commands, and the completion
 * orders described in target.h.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "nvme_tcp_pdu.h"
#include "pattern.h"
#include "target.h"
#include "xport.h"

#define TGT_MAX_CTRLS 64
#define TGT_MAX_CONNS 1024
#define TGT_R2T_MAX 8 /* R2Ts outstanding per command, at most */
#define TGT_AERL 3 /* Asynchronous Event Requests held, 0's based */
#define TGT_VS 0x00010400 /* NVMe 1.4 */
#define TGT_MDTS 13 /* 4 KiB << 13: the 32 MiB a 16-bit NLB reaches */
#define TGT_KAS 10 /* keep alive granularity, 100 ms units */
#define TGT_CAP_TO 15 /* CAP.TO, 500 ms units */
#define TGT_DRAIN_MAX 64 /* PDUs read between two sent */
#define TGT_LINGER_MS 2000 /* after a TermReq, for the host to read it */
#define TGT_PORTID 1
#define TGT_ADMIN_OPC_AER 0x0c
#define TGT_SC_AER_LIMIT 0x105
#define TGT_SC_CTRL_BUSY 0x181
#define TGT_SC_SGL_TYPE 0x011
#define TGT_CSTS_SHST_MASK (3u << 2)
#define TGT_DLP_LEN (2 * NVME_DLP_ENTRY) /* header and one entry */

struct tctrl {
	__u16 cntlid;
	bool discovery;
	int refs; /* connections on it */
	__u32 cc, csts; /* set by the admin queue, read by all: atomics */
	__u32 kato;
	__u32 nr_queues; /* granted by Set Features */
	bool *qids; /* I/O queue connected, by qid */
	char hostnqn[NVME_NQN_MAX + 1];
};

enum tcmd_kind {
	TC_NONE,
	TC_READ,
	TC_WRITE,
	TC_FLUSH,
};

/* An I/O command between its capsule and its completion. */
struct tcmd {
	bool busy;
	__u8 kind;
	__u16 cid;
	__u16 status; /* NVMe status (SCT << 8 | SC), 0 so far */
	__u64 seq; /* arrival order on the connection, from 1 */
	__u64 off; /* namespace byte offset */
	__u32 len; /* data bytes (0 once failed before any transfer) */
	__u32 done; /* read: bytes sent; write: bytes received */
	__u32 r2t_off; /* write: bytes asked for so far */
	__u8 nr2t;
	struct {
		__u32 off, len, got;
	} r2t[TGT_R2T_MAX];
};

struct tconn {
	struct target *t;
	struct tconn *next;
	struct xport x;
	char peer[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage local;
	struct ntcp_params p;
	__u32 maxr2t; /* R2Ts outstanding per command, 1-based */
	struct tctrl *ctrl;
	__u16 qid;
	__u32 qsize; /* sqsize + 1 */
	__u32 sqhd;
	bool no_sqfc;
	__u32 aers;
	struct tcmd *cmds; /* qsize slots; I/O queues only */
	__u32 pending;
	__u64 seq, batch_end;
	struct timespec last_cmd;
	__u8 hdr[NTCP_HDR_MAX]; /* the header being handled */
	__u32 hdr_len;
	__u8 *rbuf, *sbuf;
	bool term, logged;
	struct ntcp_err err;
	char why[192];
};

struct target {
	struct target_opts o;
	int lfd, stopfd;
	char addr[INET6_ADDRSTRLEN];
	int port;
	__u64 size; /* namespace bytes */
	__u8 *mem; /* RAM namespace */
	int fd; /* file namespace, or -1 */
	char sn[21];
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct tconn *conns;
	__u32 nconns;
	bool stopping;
	struct tctrl *ctrls[TGT_MAX_CTRLS]; /* by cntlid - 1 */
};

static __u16 get16(const void *b, int off)
{
	__u16 v;

	memcpy(&v, (const __u8 *)b + off, 2);
	return v;
}

static __u32 get32(const void *b, int off)
{
	__u32 v;

	memcpy(&v, (const __u8 *)b + off, 4);
	return v;
}

static void put16(void *b, int off, __u16 v)
{
	memcpy((__u8 *)b + off, &v, 2);
}

static void put32(void *b, int off, __u32 v)
{
	memcpy((__u8 *)b + off, &v, 4);
}

static void put64(void *b, int off, __u64 v)
{
	memcpy((__u8 *)b + off, &v, 8);
}

/* An ASCII field of Identify data: space padded, not terminated. */
static void put_str(void *b, int off, size_t width, const char *s)
{
	size_t n = strlen(s);

	memset((__u8 *)b + off, ' ', width);
	memcpy((__u8 *)b + off, s, n < width ? n : width);
}

static __u32 min32(__u32 a, __u32 b)
{
	return a < b ? a : b;
}

static void tlog(struct tconn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line per call, so that threads do not interleave within a line. */
static void tlog(struct tconn *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ddp-target: %s: %s\n", c->peer, msg);
}

#define vlog(c, ...)                            \
	do {                                    \
		if ((c)->t->o.verbose)          \
			tlog((c), __VA_ARGS__); \
	} while (0)

/* IPv4-mapped IPv6 addresses (a dual-stack listener) print as IPv4. */
static int fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t len,
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

/* The namespace */

static int ns_read(struct target *t, __u64 off, void *buf, size_t len)
{
	if (t->mem) {
		memcpy(buf, t->mem + off, len);
		return 0;
	}
	while (len) {
		ssize_t r = pread(t->fd, buf, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r) { /* the file shrank: what is gone reads as zeros */
			memset(buf, 0, len);
			return 0;
		}
		buf = (__u8 *)buf + r;
		off += r;
		len -= r;
	}
	return 0;
}

static int ns_write(struct target *t, __u64 off, const void *buf, size_t len)
{
	if (t->mem) {
		memcpy(t->mem + off, buf, len);
		return 0;
	}
	while (len) {
		ssize_t r = pwrite(t->fd, buf, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -ENOSPC;
		buf = (const __u8 *)buf + r;
		off += r;
		len -= r;
	}
	return 0;
}

static int ns_flush(struct target *t)
{
	return t->fd >= 0 && fdatasync(t->fd) ? -errno : 0;
}

static int ns_fill_pattern(struct target *t)
{
	static __u8 buf[1 << 20];
	__u64 off;
	size_t n;
	int err;

	for (off = 0; off < t->size; off += n) {
		n = t->size - off < sizeof(buf) ? t->size - off : sizeof(buf);
		if (t->mem) {
			ddp_pattern_fill(t->mem + off, off, n);
			continue;
		}
		ddp_pattern_fill(buf, off, n);
		err = ns_write(t, off, buf, n);
		if (err)
			return err;
	}
	return 0;
}

static int ns_open(struct target *t, char *errbuf, size_t errlen)
{
	const char *what;
	off_t end;
	int err;

	if (!t->o.file) {
		t->size = t->o.size;
		/* pages are only taken as written */
		t->mem = mmap(NULL, t->size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			      0);
		if (t->mem == MAP_FAILED) {
			t->mem = NULL;
			snprintf(
				errbuf, errlen,
				"couldn't allocate %llu bytes of namespace: %s",
				(unsigned long long)t->size, strerror(errno));
			return -1;
		}
		what = "memory";
	} else {
		t->fd = open(t->o.file, O_RDWR | O_CLOEXEC);
		end = t->fd < 0 ? -1 : lseek(t->fd, 0, SEEK_END);
		if (end < 0) {
			snprintf(errbuf, errlen, "couldn't open %s: %s",
				 t->o.file, strerror(errno));
			return -1;
		}
		t->size = (__u64)end & ~((1ull << TGT_LBA_SHIFT) - 1);
		if (!t->size) {
			snprintf(errbuf, errlen,
				 "%s is smaller than one 512-byte block",
				 t->o.file);
			return -1;
		}
		what = t->o.file;
	}
	if (t->o.pattern) {
		err = ns_fill_pattern(t);
		if (err) {
			snprintf(errbuf, errlen,
				 "couldn't write the pattern to %s: %s", what,
				 strerror(-err));
			return -1;
		}
	}
	return 0;
}

/* Controllers */

static struct tctrl *ctrl_new(struct tconn *c, bool disc, const char *hostnqn,
			      __u32 kato)
{
	struct target *t = c->t;
	struct tctrl *ctrl = NULL;
	int i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < TGT_MAX_CTRLS && t->ctrls[i]; i++)
		;
	if (i < TGT_MAX_CTRLS)
		ctrl = calloc(1, sizeof(*ctrl));
	if (ctrl) {
		ctrl->qids = calloc(t->o.max_queues + 1, sizeof(bool));
		if (!ctrl->qids) {
			free(ctrl);
			ctrl = NULL;
		}
	}
	if (ctrl) {
		ctrl->cntlid = i + 1;
		ctrl->discovery = disc;
		ctrl->refs = 1;
		ctrl->kato = kato;
		ctrl->nr_queues = t->o.max_queues;
		snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", hostnqn);
		t->ctrls[i] = ctrl;
		c->ctrl = ctrl;
	}
	pthread_mutex_unlock(&t->lock);
	return ctrl;
}

/* The controller an I/O queue names, if it may join it. */
static struct tctrl *ctrl_join(struct tconn *c, __u16 cntlid, __u16 qid,
			       const char *hostnqn, const char **why,
			       __u16 *ipo)
{
	struct target *t = c->t;
	struct tctrl *ctrl;

	pthread_mutex_lock(&t->lock);
	ctrl = cntlid && cntlid <= TGT_MAX_CTRLS ? t->ctrls[cntlid - 1] : NULL;
	*ipo = NVME_CONNECT_CNTLID;
	if (!ctrl || ctrl->discovery) {
		*why = "no such controller";
	} else if (strcmp(ctrl->hostnqn, hostnqn)) {
		*why = "controller of another host";
		*ipo = NVME_CONNECT_HOSTNQN;
	} else if (ctrl->qids[qid]) {
		*why = "queue already connected";
	} else {
		*why = NULL;
	}
	if (*why) {
		ctrl = NULL;
	} else {
		ctrl->qids[qid] = true;
		ctrl->refs++;
		c->ctrl = ctrl;
	}
	pthread_mutex_unlock(&t->lock);
	return ctrl;
}

/* A connection leaves its controller; the admin queue takes the I/O queues
 * with it. */
static void ctrl_leave(struct tconn *c)
{
	struct target *t = c->t;
	struct tctrl *ctrl = c->ctrl;
	struct tconn *o;

	if (!ctrl)
		return;
	pthread_mutex_lock(&t->lock);
	if (!c->qid) {
		t->ctrls[ctrl->cntlid - 1] = NULL;
		for (o = t->conns; o; o = o->next)
			if (o != c && o->ctrl == ctrl)
				shutdown(o->x.fd, SHUT_RDWR);
	} else {
		ctrl->qids[c->qid] = false;
	}
	c->ctrl = NULL;
	if (!--ctrl->refs) {
		free(ctrl->qids);
		free(ctrl);
	}
	pthread_mutex_unlock(&t->lock);
}

static bool ctrl_ready(const struct tctrl *ctrl)
{
	return __atomic_load_n(&ctrl->csts, __ATOMIC_ACQUIRE) & NVME_CSTS_RDY;
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

static int send_rsp(struct tconn *c, __u16 cid, __u16 status, __u64 result)
{
	__u8 buf[NTCP_HDR_MAX];
	struct nvme_cqe cqe;
	struct iovec v = { buf, 0 };

	make_cqe(c, &cqe, cid, status, result);
	v.iov_len = ntcp_enc_rsp(buf, &c->p, &cqe);
	return xport_send(&c->x, &v, 1);
}

/* One C2HData, and the response after it if cqe. */
static int send_c2h(struct tconn *c, __u16 cid, __u32 datao, const void *data,
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
static int send_last(struct tconn *c, __u16 cid, __u32 datao, const void *data,
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
static int send_page(struct tconn *c, const struct nvme_sqe *sqe,
		     const void *page, __u64 page_len, __u64 off, __u64 len)
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

static int fatal(struct tconn *c, __u16 fes, __u32 fei, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A protocol error: the connection ends with a C2HTermReq carrying the
 * header being handled. */
static int fatal(struct tconn *c, __u16 fes, __u32 fei, const char *fmt, ...)
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
static int recv_data(struct tconn *c, const struct ntcp_pdu *pdu, void *buf)
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

/* Fabrics: Connect, Property Get and Set */

static int connect_fail(struct tconn *c, __u16 cid, bool in_data, __u16 off,
			const char *why)
{
	vlog(c, "Connect refused: %s", why);
	return send_rsp(c, cid, NVME_SC_CONNECT_INVALID_PARAM | NVME_SC_DNR,
			(in_data ? 1u << 16 : 0) | off);
}

static int fab_connect(struct tconn *c, const struct nvme_sqe *sqe,
		       const __u8 *data, __u32 dlen)
{
	struct target *t = c->t;
	__u16 qid = get16(sqe, NVME_CONNECT_QID);
	__u16 sqsize = get16(sqe, NVME_CONNECT_SQSIZE);
	__u8 cattr = ((const __u8 *)sqe)[NVME_CONNECT_CATTR];
	char subnqn[NVME_NQN_MAX + 1], hostnqn[NVME_NQN_MAX + 1];
	const char *why;
	__u16 ipo;
	bool disc;

	if (dlen < NVME_CONNECT_DATA_LEN)
		return send_rsp(c, sqe->cid,
				NVME_SC_SGL_INVALID_DATA | NVME_SC_DNR, 0);
	snprintf(subnqn, sizeof(subnqn), "%.*s", NVME_NQN_MAX,
		 (const char *)data + NVME_CONNECT_SUBNQN);
	snprintf(hostnqn, sizeof(hostnqn), "%.*s", NVME_NQN_MAX,
		 (const char *)data + NVME_CONNECT_HOSTNQN);
	disc = !strcmp(subnqn, NVME_DISC_NQN);
	if (get16(sqe, NVME_CONNECT_RECFMT))
		return connect_fail(c, sqe->cid, false, NVME_CONNECT_RECFMT,
				    "record format not 0");
	if (!disc && strcmp(subnqn, t->o.nqn))
		return connect_fail(c, sqe->cid, true, NVME_CONNECT_SUBNQN,
				    "unknown subsystem");
	if (!sqsize || sqsize >= t->o.queue_size)
		return connect_fail(c, sqe->cid, false, NVME_CONNECT_SQSIZE,
				    "queue size out of range");
	c->qid = qid; /* before a controller is taken: ctrl_leave() reads it */
	if (!qid) {
		if (get16(data, NVME_CONNECT_CNTLID) != 0xffff)
			return connect_fail(
				c, sqe->cid, true, NVME_CONNECT_CNTLID,
				"admin queue not for cntlid 0xFFFF");
		if (!ctrl_new(c, disc, hostnqn, get32(sqe, NVME_CONNECT_KATO)))
			return send_rsp(c, sqe->cid, TGT_SC_CTRL_BUSY, 0);
	} else {
		if (disc || qid > t->o.max_queues)
			return connect_fail(c, sqe->cid, false,
					    NVME_CONNECT_QID,
					    "queue ID out of range");
		if (!ctrl_join(c, get16(data, NVME_CONNECT_CNTLID), qid,
			       hostnqn, &why, &ipo))
			return connect_fail(c, sqe->cid, true, ipo, why);
		c->cmds = calloc(sqsize + 1, sizeof(*c->cmds));
		if (!c->cmds)
			return -ENOMEM;
	}
	c->qsize = sqsize + 1;
	c->sqhd = 1 % c->qsize; /* the Connect itself was taken */
	c->no_sqfc = cattr & NVME_CATTR_NO_SQFC;
	vlog(c, "%s controller %u, queue %u of %u entries%s, host %s",
	     disc ? "discovery" : "NVM", c->ctrl->cntlid, qid, c->qsize,
	     c->no_sqfc ? " without SQ flow control" : "", hostnqn);
	return send_rsp(c, sqe->cid, 0, c->ctrl->cntlid);
}

static void cc_write(struct tctrl *ctrl, __u32 cc)
{
	__u32 old = ctrl->cc, csts = ctrl->csts;

	if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN))
		csts |= NVME_CSTS_RDY;
	if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN))
		csts &= ~(NVME_CSTS_RDY | TGT_CSTS_SHST_MASK); /* a reset */
	csts &= ~TGT_CSTS_SHST_MASK;
	if (cc & NVME_CC_SHN_MASK)
		csts |= NVME_CSTS_SHST_DONE; /* nothing to write back */
	ctrl->cc = cc;
	__atomic_store_n(&ctrl->csts, csts, __ATOMIC_RELEASE);
}

static int fab_property(struct tconn *c, const struct nvme_sqe *sqe, bool set)
{
	const struct target_opts *o = &c->t->o;
	struct tctrl *ctrl = c->ctrl;
	__u8 size8 = ((const __u8 *)sqe)[NVME_PROP_ATTRIB] & 7;
	__u32 off = get32(sqe, NVME_PROP_OFFSET);
	__u64 v;

	if (c->qid || size8 > 1)
		return send_rsp(c, sqe->cid,
				NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
	if (set) {
		if (off != NVME_REG_CC || size8)
			return send_rsp(c, sqe->cid,
					NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
		cc_write(ctrl, get32(sqe, NVME_PROP_VALUE));
		return send_rsp(c, sqe->cid, 0, 0);
	}
	switch (off) {
	case NVME_REG_CAP:
		/* MQES, contiguous queues, timeout, NVM command set */
		v = (o->queue_size - 1) | 1u << 16 | TGT_CAP_TO << 24 |
		    1ull << 37;
		break;
	case NVME_REG_VS:
		v = TGT_VS;
		break;
	case NVME_REG_CC:
		v = ctrl->cc;
		break;
	case NVME_REG_CSTS:
		v = ctrl->csts;
		break;
	default:
		return send_rsp(c, sqe->cid,
				NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
	}
	return send_rsp(c, sqe->cid, 0, size8 ? v : (__u32)v);
}

/* Admin commands */

static void id_ctrl(struct tconn *c, __u8 *id)
{
	struct target *t = c->t;
	struct tctrl *ctrl = c->ctrl;

	put_str(id, NVME_IDC_SN, 20, t->sn);
	put_str(id, NVME_IDC_MN, 40, "xdp-ddp NVMe/TCP target");
	put_str(id, NVME_IDC_FR, 8, "1.0");
	id[NVME_IDC_MDTS] = TGT_MDTS;
	put16(id, NVME_IDC_CNTLID, ctrl->cntlid);
	put32(id, NVME_IDC_VER, TGT_VS);
	id[111] = ctrl->discovery ? 2 : 1; /* CNTRLTYPE */
	id[259] = TGT_AERL;
	id[261] = 1 << 2; /* LPA: extended Get Log Page (NUMDU, offset) */
	put16(id, NVME_IDC_KAS, TGT_KAS);
	id[NVME_IDC_SQES] = 0x66;
	id[NVME_IDC_CQES] = 0x44;
	put16(id, NVME_IDC_MAXCMD, t->o.queue_size);
	put32(id, NVME_IDC_NN, ctrl->discovery ? 0 : 1);
	id[525] = t->fd >= 0; /* VWC: a file's writes need Flush */
	/* SGLs without alignment, and in-capsule data at an offset */
	put32(id, NVME_IDC_SGLS, 1u << 0 | 1u << 20);
	snprintf((char *)id + NVME_IDC_SUBNQN, NVME_NQN_MAX, "%s",
		 ctrl->discovery ? NVME_DISC_NQN : t->o.nqn);
	put32(id, NVME_IDC_IOCCSZ,
	      (TGT_INCAPSULE + sizeof(struct nvme_sqe)) / 16);
	put32(id, NVME_IDC_IORCSZ, sizeof(struct nvme_cqe) / 16);
	put16(id, NVME_IDC_ICDOFF, 0);
	id[NVME_IDC_MSDBD] = 1;
}

static void id_ns(struct target *t, __u8 *id)
{
	__u64 nlb = t->size >> TGT_LBA_SHIFT;
	__u32 crc = ntcp_crc32c(t->o.nqn, strlen(t->o.nqn));

	put64(id, NVME_IDNS_NSZE, nlb);
	put64(id, NVME_IDNS_NCAP, nlb);
	put64(id, NVME_IDNS_NUSE, nlb);
	id[NVME_IDNS_NLBAF] = 0;
	id[NVME_IDNS_FLBAS] = 0;
	id[NVME_IDNS_LBAF0 + 2] = TGT_LBA_SHIFT;
	/* NGUID: stable for the subsystem, so hosts can tell paths apart */
	put32(id, 104, crc);
	put32(id, 108, ~crc);
	put32(id, 112, 0xdd9a0001);
	put32(id, 116, 1);
}

static int adm_identify(struct tconn *c, const struct nvme_sqe *sqe)
{
	__u8 id[NVME_IDENTIFY_LEN] = { 0 };
	bool disc = c->ctrl->discovery;

	switch (sqe->cdw10 & 0xff) {
	case NVME_ID_CNS_CTRL:
		id_ctrl(c, id);
		break;
	case NVME_ID_CNS_NS:
		if (disc || sqe->nsid != 1)
			return send_rsp(c, sqe->cid,
					NVME_SC_INVALID_NS | NVME_SC_DNR, 0);
		id_ns(c->t, id);
		break;
	case NVME_ID_CNS_NS_ACTIVE_LIST:
		if (sqe->nsid >= 0xfffffffe)
			return send_rsp(c, sqe->cid,
					NVME_SC_INVALID_NS | NVME_SC_DNR, 0);
		if (!disc && sqe->nsid < 1)
			put32(id, 0, 1);
		break;
	default:
		return send_rsp(c, sqe->cid,
				NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
	}
	return send_page(c, sqe, id, sizeof(id), 0, sizeof(id));
}

/* The discovery log: the NVM subsystem, at the address this host used. */
static int adm_get_log(struct tconn *c, const struct nvme_sqe *sqe)
{
	struct target *t = c->t;
	__u8 page[TGT_DLP_LEN] = { 0 }, *e = page + NVME_DLP_ENTRY;
	__u64 numd =
		((__u64)(sqe->cdw11 & 0xffff) << 16 | sqe->cdw10 >> 16) + 1;
	__u64 off = sqe->cdw12 | (__u64)sqe->cdw13 << 32;
	char addr[INET6_ADDRSTRLEN];
	int port, fam;

	if ((sqe->cdw10 & 0xff) != NVME_LOG_DISCOVERY || !c->ctrl->discovery ||
	    off & 3)
		return send_rsp(c, sqe->cid,
				NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
	put64(page, NVME_DLP_GENCTR, 1);
	put64(page, NVME_DLP_NUMREC, 1);
	fam = fmt_addr(&c->local, addr, sizeof(addr), &port);
	e[NVME_DLE_TRTYPE] = NVME_TRTYPE_TCP;
	e[NVME_DLE_ADRFAM] = fam == AF_INET ? NVME_ADRFAM_IP4 : NVME_ADRFAM_IP6;
	e[NVME_DLE_SUBTYPE] = NVME_SUBTYPE_NVME;
	e[NVME_DLE_TREQ] = 1 << 2; /* SQ flow control may be disabled */
	put16(e, NVME_DLE_PORTID, TGT_PORTID);
	put16(e, NVME_DLE_CNTLID, 0xffff);
	put16(e, NVME_DLE_ASQSZ, t->o.queue_size);
	snprintf((char *)e + NVME_DLE_TRSVCID, 32, "%d", t->port);
	snprintf((char *)e + NVME_DLE_SUBNQN, NVME_NQN_MAX, "%s", t->o.nqn);
	snprintf((char *)e + NVME_DLE_TRADDR, 256, "%s", addr);
	return send_page(c, sqe, page, sizeof(page), off, numd * 4);
}

static int adm_features(struct tconn *c, const struct nvme_sqe *sqe, bool set)
{
	struct tctrl *ctrl = c->ctrl;
	__u32 max = c->t->o.max_queues, nsq, ncq, n;

	switch (sqe->cdw10 & 0xff) {
	case NVME_FEAT_NUM_QUEUES:
		if (ctrl->discovery)
			break;
		if (!set) {
			n = ctrl->nr_queues - 1;
			return send_rsp(c, sqe->cid, 0, n << 16 | n);
		}
		nsq = (sqe->cdw11 & 0xffff) + 1;
		ncq = (sqe->cdw11 >> 16) + 1;
		if (nsq > 0xffff || ncq > 0xffff)
			break;
		nsq = min32(nsq, max);
		ncq = min32(ncq, max);
		ctrl->nr_queues = min32(nsq, ncq);
		return send_rsp(c, sqe->cid, 0, (ncq - 1) << 16 | (nsq - 1));
	case NVME_FEAT_KATO:
		/* accepted, not enforced: a dead host's TCP connection ends
		 * its controller */
		if (set)
			ctrl->kato = sqe->cdw11;
		return send_rsp(c, sqe->cid, 0, set ? 0 : ctrl->kato);
	}
	return send_rsp(c, sqe->cid, NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
}

static bool sqe_sgl_ok(const struct nvme_sqe *sqe)
{
	return (sqe->flags & 0xc0) == NVME_SGL_PSDT &&
	       (sqe->sgl_type == NVME_SGL_TRANSPORT || !sqe->sgl_len);
}

static int admin_exec(struct tconn *c, const struct nvme_sqe *sqe)
{
	__u8 fct = ((const __u8 *)sqe)[NVME_FC_TYPE];

	if (sqe->opcode == NVME_FABRICS) {
		if (fct == NVME_FCT_PROPERTY_GET ||
		    fct == NVME_FCT_PROPERTY_SET)
			return fab_property(c, sqe,
					    fct == NVME_FCT_PROPERTY_SET);
		return send_rsp(c, sqe->cid,
				(fct == NVME_FCT_CONNECT ?
					 NVME_SC_CMD_SEQ_ERROR :
					 NVME_SC_INVALID_FIELD) |
					NVME_SC_DNR,
				0);
	}
	if (!ctrl_ready(c->ctrl))
		return send_rsp(c, sqe->cid,
				NVME_SC_CMD_SEQ_ERROR | NVME_SC_DNR, 0);
	switch (sqe->opcode) {
	case NVME_ADM_IDENTIFY:
	case NVME_ADM_GET_LOG_PAGE:
		if (!sqe_sgl_ok(sqe))
			return send_rsp(c, sqe->cid,
					TGT_SC_SGL_TYPE | NVME_SC_DNR, 0);
		return sqe->opcode == NVME_ADM_IDENTIFY ? adm_identify(c, sqe) :
							  adm_get_log(c, sqe);
	case NVME_ADM_SET_FEATURES:
	case NVME_ADM_GET_FEATURES:
		return adm_features(c, sqe,
				    sqe->opcode == NVME_ADM_SET_FEATURES);
	case NVME_ADM_KEEP_ALIVE:
		return send_rsp(c, sqe->cid, 0, 0);
	case TGT_ADMIN_OPC_AER:
		/* held: there are no events to report */
		if (++c->aers <= TGT_AERL + 1)
			return 0;
		return send_rsp(c, sqe->cid, TGT_SC_AER_LIMIT | NVME_SC_DNR, 0);
	}
	return send_rsp(c, sqe->cid, NVME_SC_INVALID_OPCODE | NVME_SC_DNR, 0);
}

/* I/O commands */

/* Check a command and describe its transfer; its status. */
static __u16 io_check(struct tconn *c, const struct nvme_sqe *sqe, __u32 dlen,
		      struct tcmd *m)
{
	__u64 nblocks = c->t->size >> TGT_LBA_SHIFT, slba;
	__u32 nlb, len;

	if (sqe->opcode == NVME_FABRICS)
		return ((const __u8 *)sqe)[NVME_FC_TYPE] == NVME_FCT_CONNECT ?
			       NVME_SC_CMD_SEQ_ERROR :
			       NVME_SC_INVALID_FIELD;
	if (!ctrl_ready(c->ctrl))
		return NVME_SC_CMD_SEQ_ERROR;
	if (sqe->opcode == NVME_CMD_FLUSH) {
		if (sqe->nsid != 1 && sqe->nsid != 0xffffffff)
			return NVME_SC_INVALID_NS;
		m->kind = TC_FLUSH;
		return 0;
	}
	if (sqe->opcode != NVME_CMD_READ && sqe->opcode != NVME_CMD_WRITE)
		return NVME_SC_INVALID_OPCODE;
	if (sqe->nsid != 1)
		return NVME_SC_INVALID_NS;
	if ((sqe->flags & 0xc0) != NVME_SGL_PSDT)
		return NVME_SC_INVALID_FIELD;
	slba = sqe->cdw10 | (__u64)sqe->cdw11 << 32;
	nlb = (sqe->cdw12 & 0xffff) + 1;
	len = nlb << TGT_LBA_SHIFT;
	if (sqe->sgl_type == NVME_SGL_INCAPSULE &&
	    sqe->opcode == NVME_CMD_WRITE) {
		if (sqe->sgl_addr) /* icdoff is 0 */
			return NVME_SC_INVALID_FIELD;
		if (dlen != sqe->sgl_len)
			return NVME_SC_SGL_INVALID_DATA;
	} else if (sqe->sgl_type == NVME_SGL_TRANSPORT) {
		if (dlen)
			return NVME_SC_INVALID_FIELD;
	} else {
		return TGT_SC_SGL_TYPE;
	}
	if (sqe->sgl_len != len)
		return NVME_SC_SGL_INVALID_DATA;
	if (slba >= nblocks || nlb > nblocks - slba)
		return NVME_SC_LBA_RANGE;
	m->kind = sqe->opcode == NVME_CMD_READ ? TC_READ : TC_WRITE;
	m->off = slba << TGT_LBA_SHIFT;
	m->len = len;
	return 0;
}

/* A write's R2Ts, as many as the host allows outstanding. */
static int send_r2ts(struct tconn *c, struct tcmd *m)
{
	__u8 buf[NTCP_HDR_MAX];
	struct iovec v = { buf, 0 };
	__u32 n;
	int err;

	while (m->nr2t < c->maxr2t && m->r2t_off < m->len) {
		n = min32(c->p.maxh2cdata, m->len - m->r2t_off);
		m->r2t[m->nr2t].off = m->r2t_off;
		m->r2t[m->nr2t].len = n;
		m->r2t[m->nr2t++].got = 0;
		v.iov_len = ntcp_enc_r2t(buf, &c->p, m->cid, m - c->cmds,
					 m->r2t_off, n);
		m->r2t_off += n;
		err = xport_send(&c->x, &v, 1);
		if (err)
			return err;
	}
	return 0;
}

static int io_submit(struct tconn *c, const struct nvme_sqe *sqe,
		     const __u8 *data, __u32 dlen)
{
	struct tcmd *m = NULL;
	__u32 i;

	for (i = 0; i < c->qsize; i++) {
		if (!c->cmds[i].busy) {
			if (!m)
				m = &c->cmds[i];
		} else if (c->cmds[i].cid == sqe->cid) {
			return fatal(c, NTCP_FES_SEQUENCE, 10,
				     "CapsuleCmd: command ID %u already in use",
				     sqe->cid);
		}
	}
	if (!m)
		return fatal(
			c, NTCP_FES_SEQUENCE, 0,
			"CapsuleCmd: more than the %u commands the queue holds",
			c->qsize);
	memset(m, 0, sizeof(*m));
	m->busy = true;
	m->cid = sqe->cid;
	m->seq = ++c->seq;
	c->pending++;
	clock_gettime(CLOCK_MONOTONIC, &c->last_cmd);
	m->status = io_check(c, sqe, dlen, m);
	if (m->status) {
		m->status |= NVME_SC_DNR;
		m->len = 0;
		return 0;
	}
	if (m->kind != TC_WRITE)
		return 0;
	if (sqe->sgl_type == NVME_SGL_INCAPSULE) {
		if (ns_write(c->t, m->off, data, dlen))
			m->status = NVME_SC_INTERNAL;
		m->done = m->len;
		return 0;
	}
	return send_r2ts(c, m);
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

static int recv_h2c(struct tconn *c, const struct ntcp_pdu *pdu)
{
	__u16 ttag = pdu->data.ttag;
	__u32 off = pdu->data.off, len = pdu->data.len, i;
	struct tcmd *m;
	int err;

	m = c->cmds && ttag < c->qsize ? &c->cmds[ttag] : NULL;
	if (!m || !m->busy || m->kind != TC_WRITE || !m->nr2t)
		return fatal(c, NTCP_FES_INVALID_HDR, 10,
			     "H2CData for transfer tag %u, which has no R2T",
			     ttag);
	if (pdu->data.cccid != m->cid)
		return fatal(
			c, NTCP_FES_INVALID_HDR, 8,
			"H2CData for command %u with transfer tag %u of command %u",
			pdu->data.cccid, ttag, m->cid);
	for (i = 0; i < m->nr2t; i++)
		if (m->r2t[i].off + m->r2t[i].got == off)
			break;
	if (i == m->nr2t)
		return fatal(
			c, NTCP_FES_OUT_OF_RANGE, 12,
			"H2CData at offset %u of command %u, where no R2T continues",
			off, m->cid);
	if (len > m->r2t[i].len - m->r2t[i].got)
		return fatal(
			c, NTCP_FES_OUT_OF_RANGE, 16,
			"H2CData [%u, %llu) of command %u beyond its R2T [%u, %u)",
			off, (unsigned long long)off + len, m->cid,
			m->r2t[i].off, m->r2t[i].off + m->r2t[i].len);
	err = recv_data(c, pdu, c->rbuf);
	if (err)
		return err;
	if (!m->status && ns_write(c->t, m->off + off, c->rbuf, len))
		m->status = NVME_SC_INTERNAL;
	m->done += len;
	m->r2t[i].got += len;
	if (m->r2t[i].got < m->r2t[i].len)
		return 0;
	m->r2t[i] = m->r2t[--m->nr2t];
	return send_r2ts(c, m);
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

/* Completion order */

static __u32 cmd_left(const struct tcmd *m)
{
	return m->kind == TC_READ && !m->status ? m->len - m->done : 0;
}

static bool cmd_ready(const struct tcmd *m)
{
	return m->kind != TC_WRITE || m->done == m->len;
}

static long ms_since(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - ts->tv_sec) * 1000 +
	       (now.tv_nsec - ts->tv_nsec) / 1000000;
}

/* The command to send a PDU for now, or NULL to wait for the host. */
static struct tcmd *pick(struct tconn *c)
{
	const struct target_opts *o = &c->t->o;
	struct tcmd *best = NULL, *m;
	__u32 i;

	if (o->completion == TGT_COMPL_REVERSE && !c->batch_end) {
		if (c->pending < o->reverse_n &&
		    !(c->pending &&
		      ms_since(&c->last_cmd) >= TGT_REVERSE_IDLE_MS))
			return NULL;
		c->batch_end = c->seq;
	}
	for (i = 0; i < c->qsize; i++) {
		m = &c->cmds[i];
		if (!m->busy)
			continue;
		switch (o->completion) {
		case TGT_COMPL_OOO:
			if (cmd_ready(m) &&
			    (!best || cmd_left(m) < cmd_left(best) ||
			     (cmd_left(m) == cmd_left(best) &&
			      m->seq < best->seq)))
				best = m;
			break;
		case TGT_COMPL_FIFO:
			if (!best || m->seq < best->seq)
				best = m;
			break;
		case TGT_COMPL_REVERSE:
			if (m->seq <= c->batch_end &&
			    (!best || m->seq > best->seq))
				best = m;
			break;
		}
	}
	if (o->completion == TGT_COMPL_REVERSE && !best && c->batch_end) {
		c->batch_end = 0; /* batch done: is the next one due? */
		return pick(c);
	}
	return best && cmd_ready(best) ? best : NULL;
}

/* How long to wait for the host: until a reverse batch is due. */
static int wait_ms(struct tconn *c)
{
	const struct target_opts *o = &c->t->o;
	long left;

	if (o->completion != TGT_COMPL_REVERSE || c->batch_end || !c->pending)
		return -1;
	left = TGT_REVERSE_IDLE_MS - ms_since(&c->last_cmd);
	return left > 0 ? left : 0;
}

static void cmd_free(struct tconn *c, struct tcmd *m)
{
	m->busy = false;
	c->pending--;
}

/* One PDU for m: a C2HData (with the response after the last), or the
 * response. */
static int cmd_step(struct tconn *c, struct tcmd *m)
{
	struct target *t = c->t;
	__u32 n = min32(t->o.pdu_size, cmd_left(m));
	__u16 cid = m->cid, status;
	__u32 datao = m->done;
	int err;

	if (n && ns_read(t, m->off + m->done, c->sbuf, n))
		m->status = NVME_SC_INTERNAL; /* cut short: only a response */
	if (n && !m->status) {
		m->done += n;
		if (m->done < m->len)
			return send_c2h(c, cid, datao, c->sbuf, n, 0, NULL);
		cmd_free(c, m);
		return send_last(c, cid, datao, c->sbuf, n, 0, 0);
	}
	if (m->kind == TC_FLUSH && !m->status && ns_flush(t))
		m->status = NVME_SC_INTERNAL;
	status = m->status;
	cmd_free(c, m);
	err = send_rsp(c, cid, status, 0);
	return err;
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
