// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * host.c - the NVMe/TCP host: queues, commands and their PDUs, and the
 * direct data placement of reads through the engine (kernel-socket mode
 * of docs/ARCHITECTURE.md).
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include "host.h"
#include "libddp.h"
#include "utcp.h"

#define HIST 256 /* PDU starts remembered for resync answers */
#define ADMIN_QSIZE 32
#define KEEP_CID_BITS 16

struct host_cmd {
	struct host_io *io;
	bool busy;
	bool write;
	bool ddp; /* a tag registered for it */
	bool rsp; /* response (or DATA_SUCCESS) received */
	__u16 cid;
	__u16 status;
	__u32 result; /* CQE dw0 */
	__u32 received; /* read bytes */
	__u32 skipped; /* of them, placed by the engine */
	bool td_wait; /* teardown asked, waiting for done */
	bool td_done; /* written by the event thread */
};

struct host_queue {
	struct host *h;
	__u16 qid;
	__u32 size;
	__u32 slot_bits;
	struct xport x;
	struct ntcp_params p;
	struct host_cmd *cmds;
	__u16 *uses; /* per slot: rotates the CIDs through all 16 bits */
	int inflight;
	__u64 completed;
	__u32 incapsule; /* in-capsule data limit */
	int efd; /* the event thread wakes us */
	__u32 flow_id;
	__u64 resync; /* a pending request: id << 32 | seq */
	__u32 hist[HIST];
	__u32 nhist;
	struct host_qstats st;
	int failed;
	__u8 scratch[NTCP_HDR_MAX + 256];
};

struct host {
	struct host_opts o;
	struct host_queue admin;
	struct host_queue *ioq;
	__u32 nioq;
	__u16 cntlid;
	__u32 max_xfer;
	__u32 ioccsz;
	/* the engine, when it offloads our queues */
	struct ddp_dev *dev;
	__u32 threshold;
	char ifname[IF_NAMESIZE];
	struct xsk_port *xsk; /* queues over AF_XDP, or NULL: kernel sockets */
	pthread_t ev;
	bool ev_on;
	volatile int ev_stop;
	char err[256];
};

static __u64 now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * 1000000000ull + t.tv_nsec;
}

static int herr(struct host *h, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -err;
}

const char *host_error(const struct host *h)
{
	return h->err;
}

/* ---- queues: commands out, PDUs in ------------------------------------------ */

static struct host_cmd *hq_cmd_of(struct host_queue *q, __u16 cid)
{
	struct host_cmd *c = &q->cmds[cid & ((1u << q->slot_bits) - 1)];

	return c->busy && c->cid == cid && c->io ? c : NULL;
}

/* A fatal transport error: tell the controller, close, fail the rest. */
static int hq_fatal(struct host_queue *q, __u16 fes, __u32 fei, const void *hdr,
		    size_t hdr_len, const char *why)
{
	__u8 buf[NTCP_TERM_MAX_PLEN];
	struct iovec v = { buf, 0 };

	if (fes) {
		v.iov_len =
			ntcp_enc_term(buf, NTCP_HOST, fes, fei, hdr, hdr_len);
		xport_send(&q->x, &v, 1);
	}
	herr(q->h, -EPROTO, "queue %u: %s", q->qid, why);
	q->failed = -EPROTO;
	xport_close(&q->x);
	return -EPROTO;
}

static void hq_complete(struct host_queue *q, struct host_cmd *c)
{
	struct host_io *io = c->io;

	io->status = c->status;
	io->err = 0;
	io->placed_all = c->ddp && c->skipped == io->len;
	io->completed_ns = now_ns();
	q->st.ios++;
	q->st.bytes += io->len;
	c->busy = false;
	c->io = NULL;
	q->inflight--;
	q->completed++;
	if (io->done)
		io->done(io);
}

/* The command is over on the wire: a registered buffer is the engine's
 * until teardown_done. */
static void hq_finish(struct host_queue *q, struct host_cmd *c)
{
	if (c->ddp && ddp_teardown(q->h->dev, q->flow_id, c->cid, c) == 0) {
		c->td_wait = true;
		return;
	}
	hq_complete(q, c);
}

static int hq_send_cmd(struct host_queue *q, struct host_cmd *c,
		       struct nvme_sqe *sqe, const void *data, __u32 len)
{
	__u8 hdr[NTCP_HDR_MAX + 128];
	__u32 incap = data ? len : 0, dgst;
	struct iovec v[3] = { { hdr, 0 } };
	int n = 1;

	sqe->cid = c->cid;
	sqe->flags = NVME_SGL_PSDT;
	sqe->sgl_len = len;
	sqe->sgl_type = data ? NVME_SGL_INCAPSULE : NVME_SGL_TRANSPORT;
	sqe->sgl_addr = 0;
	v[0].iov_len = ntcp_enc_cmd(hdr, &q->p, sqe, incap);
	if (incap) {
		v[n++] = (struct iovec){ (void *)data, len };
		if (q->p.ddgst) {
			dgst = ntcp_crc32c(data, len);
			v[n++] = (struct iovec){ &dgst, sizeof(dgst) };
		}
	}
	return xport_send(&q->x, v, n);
}

static struct host_cmd *hq_slot(struct host_queue *q)
{
	__u32 i;

	for (i = 0; i < q->size; i++) {
		struct host_cmd *c = &q->cmds[i];

		if (c->busy)
			continue;
		memset(c, 0, sizeof(*c));
		c->busy = true;
		/* the slot in the low bits, a use count above */
		c->cid = i | (__u16)(q->uses[i]++ << q->slot_bits);
		q->inflight++;
		return c;
	}
	return NULL;
}

/* Register a read's buffer as a tag, if the engine may place it. */
static void hq_register(struct host_queue *q, struct host_cmd *c,
			struct host_io *io)
{
	struct host *h = q->h;
	struct ddp_seg seg;

	if (!q->x.offloaded || io->len < h->threshold ||
	    !host_buf_placeable(h, io->buf, io->len))
		return;
	seg = (struct ddp_seg){ (__u8 *)io->buf - ddp_buf_mem(h->dev),
				io->len };
	if (ddp_setup(h->dev, q->flow_id, c->cid, &seg, 1, NULL)) {
		q->st.ddp_fail++;
		return;
	}
	c->ddp = true;
	q->st.ddp_ios++;
}

int hq_submit(struct host_queue *q, struct host_io *io)
{
	struct nvme_sqe sqe = { .opcode = io->opcode, .nsid = io->nsid };
	struct host_cmd *c;
	bool incap;
	int err;

	if (q->failed)
		return q->failed;
	c = hq_slot(q);
	if (!c)
		return -EBUSY;
	c->io = io;
	c->write = io->opcode == NVME_CMD_WRITE;
	io->submitted_ns = now_ns();
	if (io->opcode != NVME_CMD_FLUSH) {
		sqe.cdw10 = (__u32)io->slba;
		sqe.cdw11 = io->slba >> 32;
		sqe.cdw12 = io->nlb - 1;
	}
	if (io->opcode == NVME_CMD_READ)
		hq_register(q, c, io);
	incap = c->write && io->len <= q->incapsule;
	err = hq_send_cmd(q, c, &sqe, incap ? io->buf : NULL,
			  io->opcode == NVME_CMD_FLUSH ? 0 : io->len);
	if (err) {
		q->failed = err;
		return err;
	}
	return 0;
}

static int hq_recv_pad(struct host_queue *q, __u32 n)
{
	while (n) {
		__u32 k = n < sizeof(q->scratch) ? n : sizeof(q->scratch);
		int err = xport_recv(&q->x, q->scratch, k);

		if (err)
			return err;
		n -= k;
	}
	return 0;
}

static int hq_c2h_data(struct host_queue *q, const struct ntcp_pdu *pdu,
		       const void *hdr)
{
	struct host_cmd *c = hq_cmd_of(q, pdu->data.cccid);
	__u32 off = pdu->data.off, len = pdu->data.len, dgst;
	__u8 *dst;
	ssize_t skipped;
	int err;

	if (!c || c->write || !c->io->buf)
		return hq_fatal(q, NTCP_FES_INVALID_HDR, 8, hdr, pdu->hdr_len,
				"C2HData for a command that reads nothing");
	if (off > c->io->len || len > c->io->len - off)
		return hq_fatal(q, NTCP_FES_OUT_OF_RANGE, 12, hdr, pdu->hdr_len,
				"C2HData out of the command's range");
	err = hq_recv_pad(q, pdu->pad_len);
	if (err)
		return err;
	dst = (__u8 *)c->io->buf + off;
	if (c->ddp) {
		skipped = xport_recv_data(&q->x, dst, len, c->cid);
		if (skipped < 0)
			return skipped;
		c->skipped += skipped;
		q->st.skipped += skipped;
		q->st.copied += len - skipped;
	} else {
		err = xport_recv(&q->x, dst, len);
		if (err)
			return err;
		q->st.copied += len;
	}
	c->received += len;
	if (pdu->ddgst) {
		err = xport_recv(&q->x, &dgst, sizeof(dgst));
		if (err)
			return err;
		/* placed or copied, the data is in the buffer now */
		if (ntcp_crc32c(dst, len) != dgst)
			c->status = NVME_SC_DATA_XFER_ERROR;
	}
	if (pdu->flags & NVME_TCP_F_DATA_SUCCESS) {
		c->rsp = true;
		hq_finish(q, c);
	}
	return 0;
}

/* Send the data an R2T asks for. */
static int hq_r2t(struct host_queue *q, const struct ntcp_pdu *pdu,
		  const void *hdr)
{
	struct host_cmd *c = hq_cmd_of(q, pdu->data.cccid);
	__u32 off = pdu->data.off, end, max = q->p.maxh2cdata;

	if (!c || !c->write)
		return hq_fatal(q, NTCP_FES_INVALID_HDR, 8, hdr, pdu->hdr_len,
				"R2T for a command that writes nothing");
	if (off > c->io->len || pdu->data.len > c->io->len - off)
		return hq_fatal(q, NTCP_FES_OUT_OF_RANGE, 12, hdr, pdu->hdr_len,
				"R2T out of the command's range");
	end = off + pdu->data.len;
	while (off < end) {
		__u32 n = end - off < max ? end - off : max, dgst;
		__u8 h[NTCP_HDR_MAX + 128];
		const __u8 *data = (const __u8 *)c->io->buf + off;
		struct iovec v[3] = { { h, 0 }, { (void *)data, n } };
		int cnt = 2, err;

		v[0].iov_len = ntcp_enc_data(
			h, &q->p, NVME_TCP_H2C_DATA, c->cid, pdu->data.ttag,
			off, n, off + n == end ? NVME_TCP_F_DATA_LAST : 0);
		if (q->p.ddgst) {
			dgst = ntcp_crc32c(data, n);
			v[cnt++] = (struct iovec){ &dgst, sizeof(dgst) };
		}
		err = xport_send(&q->x, v, cnt);
		if (err)
			return err;
		off += n;
	}
	return 0;
}

/* Answer the engine once the stream is at or past the sequence number
 * it asks about: we know every PDU boundary we crossed. */
static void hq_answer_resync(struct host_queue *q)
{
	__u64 r = __atomic_load_n(&q->resync, __ATOMIC_ACQUIRE);
	__u32 seq = (__u32)r, id = r >> 32, cur, i;
	bool yes = false;

	if (!r || !q->x.offloaded)
		return;
	cur = xport_seq_of(&q->x, q->x.rx);
	if ((int)(seq - cur) > 0)
		return; /* not there yet */
	for (i = 0; i < HIST && i < q->nhist; i++)
		if (q->hist[i] == seq)
			yes = true;
	if (ddp_resync(q->h->dev, q->flow_id, seq, id, yes) && q->h->o.verbose)
		fprintf(stderr, "ddp-host: queue %u: %s\n", q->qid,
			ddp_errmsg(q->h->dev));
	if (yes)
		q->st.resync_confirm++;
	else
		q->st.resync_deny++;
	__atomic_compare_exchange_n(&q->resync, &r, 0, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_RELAXED);
}

/* Receive one PDU. */
static int hq_recv_pdu(struct host_queue *q)
{
	__u8 hdr[NTCP_HDR_MAX];
	struct ntcp_pdu pdu;
	struct ntcp_err e;
	struct host_cmd *c;
	__u32 hdr_len;
	int err;

	if (q->x.offloaded) {
		q->hist[q->nhist++ % HIST] = xport_seq_of(&q->x, q->x.rx);
		hq_answer_resync(q);
	}
	err = xport_recv(&q->x, hdr, NTCP_CH_LEN);
	if (!err && ntcp_ch_check(&q->p, NTCP_HOST, hdr, &hdr_len, &e))
		return hq_fatal(q, e.fes, e.fei, hdr, NTCP_CH_LEN, e.why);
	if (!err)
		err = xport_recv(&q->x, hdr + NTCP_CH_LEN,
				 hdr_len - NTCP_CH_LEN);
	if (err) {
		q->failed = err;
		return herr(q->h, err, "queue %u: %s", q->qid,
			    err == -ECONNRESET ? "the controller closed it" :
						 strerror(-err));
	}
	if (ntcp_hdr_parse(&q->p, NTCP_HOST, hdr, hdr_len, &pdu, &e))
		return hq_fatal(q, e.fes, e.fei, hdr, hdr_len, e.why);

	switch (pdu.type) {
	case NVME_TCP_C2H_DATA:
		return hq_c2h_data(q, &pdu, hdr);
	case NVME_TCP_R2T:
		return hq_r2t(q, &pdu, hdr);
	case NVME_TCP_C2H_TERM:
		hq_recv_pad(q, pdu.data_len);
		q->failed = -ECONNABORTED;
		return herr(
			q->h, -ECONNABORTED,
			"queue %u: the controller ended the connection (C2HTermReq FES %#x FEI %u)",
			q->qid, pdu.term.fes, pdu.term.fei);
	case NVME_TCP_RSP:
		c = hq_cmd_of(q, pdu.rsp.cid);
		if (!c)
			return hq_fatal(q, NTCP_FES_INVALID_HDR, 20, hdr,
					hdr_len, "response to no command");
		c->status = nvme_cqe_status(&pdu.rsp) ?: c->status;
		c->result = pdu.rsp.result;
		c->rsp = true;
		hq_finish(q, c);
		return 0;
	}
	return hq_fatal(q, NTCP_FES_INVALID_HDR, 0, hdr, hdr_len,
			"unexpected PDU");
}

/* Commands whose teardown is done complete now. */
static void hq_reap(struct host_queue *q)
{
	__u64 cnt;
	__u32 i;

	(void)!read(q->efd, &cnt, sizeof(cnt));
	for (i = 0; i < q->size; i++) {
		struct host_cmd *c = &q->cmds[i];

		if (c->busy && c->td_wait &&
		    __atomic_load_n(&c->td_done, __ATOMIC_ACQUIRE))
			hq_complete(q, c);
	}
}

int hq_poll(struct host_queue *q, int timeout_ms)
{
	__u64 before = q->completed;
	int budget = 64, err, r;

	hq_reap(q);
	if (q->failed)
		return q->failed;
	if (q->completed != before || !q->inflight)
		return q->completed - before;
	r = xport_wait_any(&q->x, q->efd, timeout_ms);
	if (r < 0) {
		q->failed = r;
		return herr(q->h, r, "queue %u: %s", q->qid, strerror(-r));
	}
	if (r) {
		do {
			err = hq_recv_pdu(q);
			if (err)
				return err;
		} while (--budget && xport_pending(&q->x) >= NTCP_CH_LEN);
	}
	if (q->x.offloaded)
		hq_answer_resync(q);
	hq_reap(q);
	return q->completed - before;
}

int hq_inflight(const struct host_queue *q)
{
	return q->inflight;
}

const struct host_qstats *hq_stats(struct host_queue *q)
{
	struct utcp_stats us;

	if (q->x.u) {
		utcp_stats(q->x.u, &us);
		q->st.placed_uncut = us.placed_uncut;
	}
	return &q->st;
}

bool hq_offloaded(const struct host_queue *q)
{
	return q->x.offloaded;
}

/* ---- the engine's events ------------------------------------------------- */

static void on_resync(void *arg, __u32 flow_id, __u32 seq, __u32 req_id)
{
	struct host *h = arg;
	__u64 one = 1;
	__u32 i;

	for (i = 0; i < h->nioq; i++) {
		struct host_queue *q = &h->ioq[i];

		if (q->x.offloaded && q->flow_id == flow_id) {
			__atomic_store_n(&q->resync, (__u64)req_id << 32 | seq,
					 __ATOMIC_RELEASE);
			(void)!write(q->efd, &one, sizeof(one));
		}
	}
}

static void on_teardown_done(void *arg, void *ctx)
{
	struct host *h = arg;
	struct host_cmd *c = ctx;
	__u64 one = 1;
	__u32 i;

	__atomic_store_n(&c->td_done, true, __ATOMIC_RELEASE);
	for (i = 0; i < h->nioq; i++)
		if (c >= h->ioq[i].cmds && c < h->ioq[i].cmds + h->ioq[i].size)
			(void)!write(h->ioq[i].efd, &one, sizeof(one));
}

/* Delivers teardown completions and resync requests to the queues; also
 * looks every 20 ms, as another process may have read our wake-up. */
static void *host_events(void *arg)
{
	struct host *h = arg;
	struct ddp_ulp_ops ops = { on_resync, on_teardown_done, h };
	struct pollfd p = { .fd = ddp_dev_fd(h->dev), .events = POLLIN };

	while (!h->ev_stop) {
		poll(&p, 1, 20);
		ddp_dev_process(h->dev, &ops);
	}
	ddp_dev_process(h->dev, &ops);
	return NULL;
}

/* ---- connecting ----------------------------------------------------------- */

/* Run one admin (or Connect) command to completion. */
static int hq_sync_cmd(struct host_queue *q, struct nvme_sqe *sqe, void *buf,
		       __u32 len, bool write, __u32 *result)
{
	struct host *h = q->h;
	struct host_io io = { .buf = buf, .len = len };
	struct host_cmd *c = hq_slot(q);
	int err;

	if (!c)
		return herr(h, -EBUSY, "admin queue full");
	c->io = &io;
	c->write = write;
	err = hq_send_cmd(q, c, sqe, write ? buf : NULL, len);
	while (!err && c->busy && c->io == &io)
		err = hq_poll(q, 5000) < 0 ? q->failed ?: -EIO : 0;
	if (err)
		return herr(h, err, "%s", h->err[0] ? h->err : strerror(-err));
	if (result)
		*result = c->result;
	if (io.status)
		return herr(h, -EIO, "command %#x failed: NVMe status %#x",
			    sqe->opcode, io.status);
	return 0;
}

static int host_uuid(__u8 *id)
{
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");
	unsigned int b[16];
	int i, n;

	if (!f)
		return -errno;
	n = fscanf(f, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x",
		   &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7],
		   &b[8], &b[9], &b[10], &b[11], &b[12], &b[13], &b[14],
		   &b[15]);
	fclose(f);
	for (i = 0; i < 16; i++)
		id[i] = i < n ? b[i] : 0;
	return 0;
}

static int hq_fabrics_connect(struct host_queue *q, __u16 cntlid, __u16 *got)
{
	struct host *h = q->h;
	__u8 data[NVME_CONNECT_DATA_LEN] = { 0 };
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS };
	__u8 *s = (__u8 *)&sqe;
	__u16 qid = q->qid, sqsize = q->size - 1;
	__u32 result = 0;
	int err;

	s[NVME_FC_TYPE] = NVME_FCT_CONNECT;
	memcpy(s + NVME_CONNECT_QID, &qid, 2);
	memcpy(s + NVME_CONNECT_SQSIZE, &sqsize, 2);
	s[NVME_CONNECT_CATTR] = h->o.no_sqfc ? NVME_CATTR_NO_SQFC : 0;
	host_uuid(data + NVME_CONNECT_HOSTID);
	memcpy(data + NVME_CONNECT_CNTLID, &cntlid, 2);
	snprintf((char *)data + NVME_CONNECT_SUBNQN, NVME_NQN_MAX, "%s",
		 h->o.subnqn);
	snprintf((char *)data + NVME_CONNECT_HOSTNQN, NVME_NQN_MAX, "%s",
		 h->o.hostnqn);
	err = hq_sync_cmd(q, &sqe, data, sizeof(data), true, &result);
	if (err)
		return herr(h, err, "Connect of queue %u: %s", q->qid, h->err);
	if (got)
		*got = result & 0xffff;
	return 0;
}

/* Offload the queue's stream: right after ICResp, nothing is in flight
 * and the stream is at a PDU boundary. A kernel socket is added to the
 * engine then; an AF_XDP connection, steered since its SYN, is updated. */
static void hq_offload(struct host_queue *q)
{
	struct host *h = q->h;
	struct ddp_sk_config cfg = {
		.dgst = (q->p.hdgst ? NVME_TCP_DGST_HDR : 0) |
			(q->p.ddgst ? NVME_TCP_DGST_DATA : 0),
		.cpda = q->p.hpda,
		.queue_size = q->size,
		.queue_id = q->qid,
		.io_cpu = q->qid % (sysconf(_SC_NPROCESSORS_ONLN) ?: 1),
		.flags = DDP_SK_OFFLOAD |
			 (q->x.u ? DDP_SK_XSK : DDP_SK_RECORDS),
		/* no PDU carries more than a command: MDTS, if it says */
		.max_data = h->max_xfer,
	};
	struct ddp_flow_key key;
	int err;

	if (!h->dev || h->o.no_ddp || xport_rcv_seq(&q->x, &cfg.start_seq))
		return;
	if (q->x.u) { /* steered since its SYN: now offloaded too */
		q->flow_id = utcp_flow_id(q->x.u);
		err = ddp_sk_update(h->dev, q->flow_id, &cfg);
	} else {
		err = xport_flow_key(&q->x, &key) ?:
			      ddp_sk_add(h->dev, &key, &cfg, &q->flow_id);
	}
	if (err) {
		if (h->o.verbose)
			fprintf(stderr, "ddp-host: queue %u in software: %s\n",
				q->qid, ddp_errmsg(h->dev));
		return;
	}
	q->x.ddp = (struct xport_ddp){ .dev = h->dev,
				       .flow_id = q->flow_id,
				       .seq0 = cfg.start_seq,
				       .rx0 = q->x.rx };
	q->x.offloaded = true;
}

static int hq_open(struct host *h, struct host_queue *q, __u16 qid, __u32 size)
{
	__u8 buf[NTCP_HDR_MAX];
	struct ntcp_pdu pdu;
	struct ntcp_err e;
	struct iovec v = { buf, 0 };
	__u8 dgst = (h->o.hdgst ? NVME_TCP_DGST_HDR : 0) |
		    (h->o.ddgst ? NVME_TCP_DGST_DATA : 0);
	__u32 hl;
	int err;

	memset(q, 0, sizeof(*q));
	q->x.fd = -1; /* not connected: nothing to close */
	q->h = h;
	q->qid = qid;
	for (q->slot_bits = 0; (1u << q->slot_bits) < size; q->slot_bits++)
		;
	q->size = 1u << q->slot_bits;
	q->cmds = calloc(q->size, sizeof(*q->cmds));
	q->uses = calloc(q->size, sizeof(*q->uses));
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!q->cmds || !q->uses || q->efd < 0)
		return herr(h, -ENOMEM, "out of memory");
	if (h->xsk) {
		char why[160] = "";

		err = xport_connect_xsk(&q->x, h->xsk, h->o.traddr,
					h->o.trsvcid, why, sizeof(why));
		if (err)
			return herr(
				h, err,
				"couldn't connect to %s port %s over AF_XDP: %s",
				h->o.traddr, h->o.trsvcid, why);
	} else {
		err = xport_connect(&q->x, h->o.traddr, h->o.trsvcid);
		if (err)
			return herr(h, err,
				    "couldn't connect to %s port %s: %s",
				    h->o.traddr, h->o.trsvcid, strerror(-err));
	}
	v.iov_len = ntcp_enc_icreq(buf, 0, dgst, 0);
	err = xport_send(&q->x, &v, 1);
	if (!err)
		err = xport_recv(&q->x, buf, NVME_TCP_IC_HLEN);
	if (err)
		return herr(h, err, "ICReq/ICResp with %s: %s", h->o.traddr,
			    strerror(-err));
	if (ntcp_ch_check(&q->p, NTCP_HOST, buf, &hl, &e) ||
	    ntcp_hdr_parse(&q->p, NTCP_HOST, buf, hl, &pdu, &e))
		return herr(h, -EPROTO, "bad ICResp: %s", e.why);
	/* digests are on where both asked for them */
	q->p = (struct ntcp_params){ .ic_done = true,
				     .hdgst = pdu.ic.dgst & NVME_TCP_DGST_HDR,
				     .ddgst = pdu.ic.dgst & NVME_TCP_DGST_DATA,
				     .cpda = pdu.ic.pda,
				     .maxh2cdata = pdu.ic.maxdata };
	if (qid)
		hq_offload(q);
	return 0;
}

static void hq_close(struct host_queue *q)
{
	/* an AF_XDP connection takes its steering away itself */
	if (q->x.offloaded && !q->x.u)
		ddp_sk_del(q->h->dev, q->flow_id);
	xport_close(&q->x);
	if (q->efd > 0)
		close(q->efd);
	free(q->cmds);
	free(q->uses);
}

static int prop(struct host *h, bool set, __u32 off, __u64 *val)
{
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS };
	__u8 *s = (__u8 *)&sqe;
	__u32 result = 0;
	int err;

	s[NVME_FC_TYPE] = set ? NVME_FCT_PROPERTY_SET : NVME_FCT_PROPERTY_GET;
	s[NVME_PROP_ATTRIB] = off == NVME_REG_CAP; /* 8 bytes */
	memcpy(s + NVME_PROP_OFFSET, &off, 4);
	if (set)
		memcpy(s + NVME_PROP_VALUE, val, 8);
	err = hq_sync_cmd(&h->admin, &sqe, NULL, 0, false, &result);
	if (!err && !set)
		*val = result;
	return err;
}

/* The interface the kernel routes traddr through, by the local address
 * a UDP socket connected there gets. */
static void host_route_ifname(struct host *h)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST },
			*ai;
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);
	struct ifaddrs *ifs, *i;
	int fd;

	if (h->o.ddp_dev) {
		snprintf(h->ifname, sizeof(h->ifname), "%s", h->o.ddp_dev);
		return;
	}
	if (getaddrinfo(h->o.traddr, h->o.trsvcid, &hints, &ai))
		return;
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, ai->ai_addr, ai->ai_addrlen) &&
	    !getsockname(fd, (void *)&me, &len) && !getifaddrs(&ifs)) {
		for (i = ifs; i; i = i->ifa_next) {
			const void *a, *b;
			size_t n;

			if (!i->ifa_addr ||
			    i->ifa_addr->sa_family != me.ss_family)
				continue;
			if (me.ss_family == AF_INET) {
				a = &((struct sockaddr_in *)i->ifa_addr)
					     ->sin_addr;
				b = &((struct sockaddr_in *)&me)->sin_addr;
				n = 4;
			} else {
				a = &((struct sockaddr_in6 *)i->ifa_addr)
					     ->sin6_addr;
				b = &((struct sockaddr_in6 *)&me)->sin6_addr;
				n = 16;
			}
			if (!memcmp(a, b, n))
				snprintf(h->ifname, sizeof(h->ifname), "%s",
					 i->ifa_name);
		}
		freeifaddrs(ifs);
	}
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
}

/* AF_XDP is impossible: an error if asked for by name, else said once
 * and kernel sockets instead */
static int host_no_xsk(struct host *h, int err, const char *why)
{
	if (h->o.transport == HOST_XPORT_XSK)
		return herr(h, err, "AF_XDP on %s: %s", h->ifname, why);
	fprintf(stderr, "ddp-host: no AF_XDP on %s: %s; using kernel sockets\n",
		h->ifname, why);
	return 0;
}

/* The engine on that interface, and AF_XDP on it unless kernel sockets
 * were asked for. */
static int host_setup_transport(struct host *h)
{
	bool want_xsk = h->o.transport != HOST_XPORT_KERNEL;
	struct ddp_caps caps;
	char why[200];
	int err;

	host_route_ifname(h);
	if (!h->ifname[0]) {
		if (h->o.transport == HOST_XPORT_XSK)
			return herr(
				h, -ENODEV,
				"AF_XDP needs the target reached through an interface with the engine attached (ddpctl attach DEV)");
		return 0;
	}
	if (!want_xsk && h->o.no_ddp)
		return 0;
	if (ddp_dev_join(h->ifname, &h->dev)) {
		snprintf(why, sizeof(why), "%s", ddp_errmsg(NULL));
		h->dev = NULL;
		if (want_xsk)
			return host_no_xsk(h, -ENOENT, why);
		if (h->o.verbose)
			fprintf(stderr, "ddp-host: no offload: %s\n", why);
		return 0;
	}
	ddp_dev_caps(h->dev, &caps);
	h->threshold = caps.io_threshold;
	if (pthread_create(&h->ev, NULL, host_events, h) == 0)
		h->ev_on = true;
	if (!want_xsk)
		return 0;
	err = xsk_port_open(h->dev, h->ifname, 0, &h->xsk, why, sizeof(why));
	if (err) {
		h->xsk = NULL;
		return host_no_xsk(h, err, why);
	}
	return 0;
}

const char *host_transport(const struct host *h)
{
	return h->xsk ? "xsk" : "kernel";
}

int host_connect(const struct host_opts *o, struct host **out, char *errbuf,
		 size_t errlen)
{
	struct host *h = calloc(1, sizeof(*h));
	__u8 *id = NULL;
	__u64 cap = 0, cc, csts = 0;
	__u32 result, i, want;
	struct nvme_sqe sqe;
	int err, tries;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->o = *o;
	h->admin.x.fd = -1; /* until hq_open */
	err = host_setup_transport(h);
	if (!err)
		err = hq_open(h, &h->admin, NVME_ADMIN_QID, ADMIN_QSIZE);
	if (err)
		goto fail;
	err = hq_fabrics_connect(&h->admin, 0xffff, &h->cntlid);
	if (!err)
		err = prop(h, false, NVME_REG_CAP, &cap);
	cc = NVME_CC_EN | (6u << 16) | (4u << 20);
	if (!err)
		err = prop(h, true, NVME_REG_CC, &cc);
	for (tries = 0; !err && !(csts & NVME_CSTS_RDY) && tries < 500;
	     tries++) {
		err = prop(h, false, NVME_REG_CSTS, &csts);
		if (!err && !(csts & NVME_CSTS_RDY))
			usleep(10000);
	}
	if (!err && !(csts & NVME_CSTS_RDY))
		err = herr(h, -ETIMEDOUT, "the controller never became ready");
	if (err)
		goto fail;
	id = calloc(1, NVME_IDENTIFY_LEN);
	err = id ? host_identify(h, NVME_ID_CNS_CTRL, 0, id) : -ENOMEM;
	if (err)
		goto fail;
	/* MDTS in units of the minimum page size (CAP.MPSMIN, 4 KiB << n) */
	if (id[NVME_IDC_MDTS])
		h->max_xfer = (4096u << ((cap >> 48) & 0xf))
			      << id[NVME_IDC_MDTS];
	memcpy(&h->ioccsz, id + NVME_IDC_IOCCSZ, 4);
	free(id);
	if (!strcmp(o->subnqn, NVME_DISC_NQN) || !o->nr_io_queues) {
		*out = h;
		return 0;
	}

	want = o->nr_io_queues;
	sqe = (struct nvme_sqe){ .opcode = NVME_ADM_SET_FEATURES,
				 .cdw10 = NVME_FEAT_NUM_QUEUES,
				 .cdw11 = (want - 1) | (want - 1) << 16 };
	err = hq_sync_cmd(&h->admin, &sqe, NULL, 0, false, &result);
	if (err)
		goto fail;
	if ((result & 0xffff) + 1 < want)
		want = (result & 0xffff) + 1;
	h->ioq = calloc(want, sizeof(*h->ioq));
	if (!h->ioq) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < want; i++) {
		err = hq_open(h, &h->ioq[i], i + 1, o->queue_size);
		h->nioq = i + 1;
		if (!err)
			err = hq_fabrics_connect(&h->ioq[i], h->cntlid, NULL);
		if (err)
			goto fail;
		h->ioq[i].incapsule =
			h->ioccsz * 16 > sizeof(struct nvme_sqe) ?
				h->ioccsz * 16 - sizeof(struct nvme_sqe) :
				0;
	}
	*out = h;
	return 0;
fail:
	snprintf(errbuf, errlen, "%s", h->err[0] ? h->err : strerror(-err));
	host_disconnect(h);
	return err;
}

void host_disconnect(struct host *h)
{
	__u64 cc = NVME_CC_EN | (1u << 14); /* normal shutdown */
	__u32 i;

	if (!h)
		return;
	for (i = 0; i < h->nioq; i++)
		hq_close(&h->ioq[i]);
	if ((h->admin.x.fd >= 0 || h->admin.x.u) && !h->admin.failed &&
	    h->cntlid)
		prop(h, true, NVME_REG_CC, &cc);
	hq_close(&h->admin);
	if (h->ev_on) {
		h->ev_stop = 1;
		pthread_join(h->ev, NULL);
	}
	if (h->xsk)
		xsk_port_close(h->xsk);
	ddp_dev_close(h->dev);
	free(h->ioq);
	free(h);
}

int host_identify(struct host *h, __u8 cns, __u32 nsid, void *buf)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADM_IDENTIFY,
				.nsid = nsid,
				.cdw10 = cns };

	return hq_sync_cmd(&h->admin, &sqe, buf, NVME_IDENTIFY_LEN, false,
			   NULL);
}

int host_get_log(struct host *h, __u8 lid, void *buf, __u32 len)
{
	__u32 numd = len / 4 - 1;
	struct nvme_sqe sqe = { .opcode = NVME_ADM_GET_LOG_PAGE,
				.cdw10 = lid | (numd & 0xffff) << 16,
				.cdw11 = numd >> 16 };

	return hq_sync_cmd(&h->admin, &sqe, buf, len, false, NULL);
}

int host_ns_info(struct host *h, __u32 nsid, __u64 *blocks, __u32 *lba_size)
{
	__u8 id[NVME_IDENTIFY_LEN];
	__u8 flbas;
	int err = host_identify(h, NVME_ID_CNS_NS, nsid, id);

	if (err)
		return err;
	memcpy(blocks, id + NVME_IDNS_NSZE, 8);
	flbas = id[NVME_IDNS_FLBAS] & 0xf;
	*lba_size = 1u << id[NVME_IDNS_LBAF0 + 4 * flbas + 2];
	if (!*blocks || *lba_size < 512)
		return herr(h, -ENXIO, "namespace %u is not usable", nsid);
	return 0;
}

__u32 host_nr_queues(const struct host *h)
{
	return h->nioq;
}

struct host_queue *host_queue(struct host *h, __u32 i)
{
	return i < h->nioq ? &h->ioq[i] : NULL;
}

__u32 host_max_xfer(const struct host *h)
{
	return h->max_xfer;
}

void *host_buf_alloc(struct host *h, __u32 len)
{
	__u32 off;
	void *p;

	if (h->dev && !ddp_buf_alloc(h->dev, len, 4096, &off))
		return ddp_buf_mem(h->dev) + off;
	p = aligned_alloc(4096, (len + 4095) / 4096 * 4096);
	return p;
}

bool host_buf_placeable(const struct host *h, const void *buf, __u32 len)
{
	const __u8 *region = h->dev ? ddp_buf_mem(h->dev) : NULL;

	return region && (const __u8 *)buf >= region &&
	       (const __u8 *)buf + len <= region + ddp_buf_size(h->dev);
}

void host_buf_free(struct host *h, void *buf)
{
	if (host_buf_placeable(h, buf, 1))
		ddp_buf_free(h->dev, (__u8 *)buf - ddp_buf_mem(h->dev));
	else
		free(buf);
}

bool host_ddp_stats(struct host *h, struct ddp_stats *st)
{
	return h->dev && !ddp_stats_read(h->dev, st);
}
