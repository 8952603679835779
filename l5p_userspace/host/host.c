// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * host.c - the NVMe/TCP host's queues: commands and their PDUs, and the
 * direct data placement of reads through the engine (kernel-socket mode
 * of docs/ARCHITECTURE.md); the engine's events for them. The
 * association that opens them is host_connect.c's.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "host_priv.h"
#include "libddp.h"
#include "xport/utcp.h"

int herr(struct host *h, int err, const char *fmt, ...)
{
	char msg[sizeof(h->err)];
	va_list ap;

	/* apart first: an argument may be h->err, the message so far */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(h->err, msg, sizeof(msg));
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

/* The stream failed under a PDU being read: the queue with it. */
static int hq_lost(struct host_queue *q, int err)
{
	q->failed = err;
	return herr(q->h, err, "queue %u: %s", q->qid,
		    err == -ECONNRESET ? "the controller closed it" :
		    err == -ETIMEDOUT  ? "the controller stopped inside a PDU" :
					 strerror(-err));
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

/* Tear down the tags of the commands this poll finished, in one call:
 * each completes now, or once its teardown is done (hq_reap). */
static void hq_teardowns(struct host_queue *q)
{
	__u32 i, n = q->ntd;
	__u16 cids[HQ_TD_MAX];
	void *ctxs[HQ_TD_MAX];
	int res[HQ_TD_MAX];

	if (!n)
		return;
	q->ntd = 0;
	for (i = 0; i < n; i++) {
		cids[i] = q->td[i]->cid;
		ctxs[i] = q->td[i];
	}
	ddp_teardown_many(q->h->dev, q->flow_id, cids, ctxs, res, n);
	for (i = 0; i < n; i++) {
		struct host_cmd *c = q->td[i];

		if (res[i] == 0) {
			c->td_wait = true;
			q->td_waiting++;
		} else {
			hq_complete(q, c);
		}
	}
}

/* The command is over on the wire: a registered buffer is the engine's
 * until its teardown is done, mostly at once, else at teardown_done. */
static void hq_finish(struct host_queue *q, struct host_cmd *c)
{
	if (!c->ddp) {
		hq_complete(q, c);
		return;
	}
	if (q->ntd == HQ_TD_MAX)
		hq_teardowns(q);
	q->td[q->ntd++] = c;
}

int hq_send_cmd(struct host_queue *q, struct host_cmd *c, struct nvme_sqe *sqe,
		const void *data, __u32 len)
{
	__u32 incap = data ? len : 0, dgst;
	__u8 *hdr;
	int err;

	if (q->ncmds == HQ_OUT_CMDS) {
		err = hq_flush(q);
		if (err)
			return err;
	}
	hdr = q->outbuf[q->ncmds++];
	c->deadline = now_ns() + q->h->io_timeout_ns;
	sqe->cid = c->cid;
	sqe->flags = NVME_SGL_PSDT;
	sqe->sgl_len = len;
	sqe->sgl_type = data ? NVME_SGL_INCAPSULE : NVME_SGL_TRANSPORT;
	sqe->sgl_addr = 0;
	q->out[q->nout++] =
		(struct iovec){ hdr, ntcp_enc_cmd(hdr, &q->p, sqe, incap) };
	if (incap) {
		q->out[q->nout++] = (struct iovec){ (void *)data, len };
		if (q->p.ddgst) {
			dgst = ntcp_crc32c(data, len);
			/* after the header, in its slot */
			memcpy(hdr + NTCP_HDR_MAX, &dgst, sizeof(dgst));
			q->out[q->nout++] = (struct iovec){ hdr + NTCP_HDR_MAX,
							    sizeof(dgst) };
		}
	}
	return 0;
}

struct host_cmd *hq_slot(struct host_queue *q)
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

/* A read's tag set up (err 0), or refused: its data is then copied */
static void hq_registered(struct host_queue *q, struct host_cmd *c, int err)
{
	if (!c)
		return;
	if (err) {
		q->st.ddp_fail++;
		return;
	}
	c->ddp = true;
	q->st.ddp_ios++;
}

/* Set up the tags of the reads queued since the last flush, in one call,
 * before their capsules go. */
static void hq_setups(struct host_queue *q)
{
	int res[HQ_OUT_CMDS];
	__u32 i;

	if (!q->nsu)
		return;
	ddp_setup_many(q->h->dev, q->flow_id, q->su_cid, q->su, NULL, res,
		       q->nsu);
	for (i = 0; i < q->nsu; i++)
		hq_registered(q, hq_cmd_of(q, q->su_cid[i]), res[i]);
	q->nsu = 0;
}

/* Register a read's buffer as a tag, if the engine may place it: at once
 * in a pin, else in the region with the others of its flush (hq_setups). */
static void hq_register(struct host_queue *q, struct host_cmd *c,
			struct host_io *io)
{
	struct host *h = q->h;
	struct host_pin pin;
	struct ddp_seg seg;
	int err;

	if (!q->x.offloaded || io->len < h->threshold)
		return;
	/* one look-up of the pins: the buffer is in one, or in the region */
	if (h->pin_bufs && host_buf_pin(h, io->buf, io->len, &pin)) {
		seg = (struct ddp_seg){ (__u8 *)io->buf - (__u8 *)pin.buf,
					io->len };
		err = ddp_setup_pinned(h->dev, q->flow_id, c->cid, pin.id, &seg,
				       1, NULL);
	} else {
		/* set up with the others sent together (hq_flush) */
		if (host_buf_in_region(h, io->buf, io->len)) {
			if (q->nsu == HQ_OUT_CMDS)
				hq_setups(q);
			q->su[q->nsu] = (struct ddp_seg){
				(__u8 *)io->buf - ddp_buf_mem(h->dev), io->len
			};
			q->su_cid[q->nsu++] = c->cid;
		}
		return;
	}
	hq_registered(q, c, err);
}

int hq_flush(struct host_queue *q)
{
	int err;

	if (q->failed || !q->nout) {
		/* a failed queue sends nothing, and sets nothing up */
		q->nout = q->ncmds = q->nsu = 0;
		return q->failed;
	}
	hq_setups(q);
	err = xport_send(&q->x, q->out, q->nout);
	q->nout = q->ncmds = 0;
	if (err && !q->failed) {
		q->failed = err;
		return herr(q->h, err, "queue %u: sending commands: %s", q->qid,
			    err == -ETIMEDOUT ? "the controller took nothing" :
						strerror(-err));
	}
	return err;
}

int hq_submit(struct host_queue *q, struct host_io *io)
{
	struct nvme_sqe sqe = { .opcode = io->opcode, .nsid = io->nsid };
	struct host_cmd *c;
	bool incap;

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
	return hq_send_cmd(q, c, &sqe, incap ? io->buf : NULL,
			   io->opcode == NVME_CMD_FLUSH ? 0 : io->len);
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

/* The data digest of a C2HData PDU just read: the engine's verdict where
 * the transport lets it be believed, else our own CRC over the buffer
 * (placed or copied, the data is there now). A mismatch fails the
 * command, as Linux's host does. */
static void hq_check_ddgst(struct host_queue *q, struct host_cmd *c,
			   const struct ntcp_pdu *pdu, const void *dst,
			   __u32 len, __u32 dgst)
{
	switch (xport_ddgst_verdict(&q->x, c->cid, pdu->plen)) {
	case DDP_VERDICT_OK:
		q->st.ddgst_ok++;
		return;
	case DDP_VERDICT_BAD:
		q->st.ddgst_bad++;
		c->status = NVME_SC_DATA_XFER_ERROR;
		return;
	}
	q->st.ddgst_computed++;
	if (ntcp_crc32c(dst, len) != dgst)
		c->status = NVME_SC_DATA_XFER_ERROR;
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
	} else if (q->h->o.discard && q->qid != NVME_ADMIN_QID) {
		err = xport_skip(&q->x, len);
		if (err)
			return err;
		q->st.discarded += len;
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
		hq_check_ddgst(q, c, pdu, dst, len, dgst);
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
	int err;

	if (!c || !c->write)
		return hq_fatal(q, NTCP_FES_INVALID_HDR, 8, hdr, pdu->hdr_len,
				"R2T for a command that writes nothing");
	if (off > c->io->len || pdu->data.len > c->io->len - off)
		return hq_fatal(q, NTCP_FES_OUT_OF_RANGE, 12, hdr, pdu->hdr_len,
				"R2T out of the command's range");
	err = hq_flush(q);
	if (err)
		return err;
	end = off + pdu->data.len;
	while (off < end) {
		__u32 n = end - off < max ? end - off : max, dgst;
		__u8 h[NTCP_HDR_MAX + 128];
		const __u8 *data = (const __u8 *)c->io->buf + off;
		struct iovec v[3] = { { h, 0 }, { (void *)data, n } };
		int cnt = 2;

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

/* The socket's bytes from sequence number seq, unread */
static int hq_peek(void *arg, __u32 seq, void *buf, __u32 len)
{
	struct host_queue *q = arg;

	return xport_peek(&q->x, seq - xport_seq_of(&q->x, q->x.rx), buf, len);
}

/* Answer the engine once the stream holds the sequence number it asks
 * about: we know every PDU boundary we crossed, and those ahead. */
static void hq_answer_resync(struct host_queue *q)
{
	__u64 r = __atomic_load_n(&q->resync, __ATOMIC_ACQUIRE);
	__u32 seq = (__u32)r, id = r >> 32, cur, i;
	bool yes = false;

	if (!r || !q->x.offloaded)
		return;
	cur = xport_seq_of(&q->x, q->x.rx);
	if ((int)(seq - cur) > 0) {
		/* ahead: the headers the socket holds (in order, taken by
		 * the kernel) tell, from the end of the PDU being read, or
		 * on from where the last walk went if not past seq */
		int begins;

		if ((int)(q->ahead - q->next_pdu) < 0 ||
		    (int)(q->ahead - seq) > 0)
			q->ahead = q->next_pdu;
		begins = ntcp_pdu_begins(&q->ahead, seq, hq_peek, q, HIST);
		if (begins < 0)
			return; /* not there yet */
		yes = begins;
	}
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

/* C2HData, CapsuleResp, R2T and C2HTermReq all have 24-byte headers */
#define HQ_HLEN 24
_Static_assert(NVME_TCP_DATA_HLEN == HQ_HLEN && NVME_TCP_RSP_HLEN == HQ_HLEN &&
		       NVME_TCP_R2T_HLEN == HQ_HLEN &&
		       NVME_TCP_TERM_HLEN == HQ_HLEN,
	       "a header read whole must be no longer than any");

/* Receive one PDU. */
static int hq_recv_pdu(struct host_queue *q)
{
	__u8 hdr[NTCP_HDR_MAX];
	struct ntcp_pdu pdu;
	struct ntcp_err e;
	struct host_cmd *c;
	__u32 hdr_len, got;
	int err;

	if (q->x.offloaded) {
		/* a PDU begins here; the next one after its header says */
		q->next_pdu = xport_seq_of(&q->x, q->x.rx);
		q->hist[q->nhist++ % HIST] = q->next_pdu;
		hq_answer_resync(q);
	}
	/* Every header a host is sent after ICResp is 24 bytes and its
	 * digest: read with the common header when they are there already,
	 * one system call instead of two. Only then: a short, broken PDU
	 * must fail at once, not wait for bytes that never come. */
	got = xport_pending(&q->x, HQ_HLEN) >= HQ_HLEN ? HQ_HLEN : NTCP_CH_LEN;
	err = xport_recv(&q->x, hdr, got);
	if (!err && ntcp_ch_check(&q->p, NTCP_HOST, hdr, &hdr_len, &e))
		return hq_fatal(q, e.fes, e.fei, hdr, got, e.why);
	if (!err && hdr_len > got)
		err = xport_recv(&q->x, hdr + got, hdr_len - got);
	if (err)
		return hq_lost(q, err);
	if (ntcp_hdr_parse(&q->p, NTCP_HOST, hdr, hdr_len, &pdu, &e))
		return hq_fatal(q, e.fes, e.fei, hdr, hdr_len, e.why);
	if (q->x.offloaded)
		q->next_pdu += pdu.plen;

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
	__u32 i;

	for (i = 0; i < q->size && q->td_waiting; i++) {
		struct host_cmd *c = &q->cmds[i];

		if (c->busy && c->td_wait &&
		    __atomic_load_n(&c->td_done, __ATOMIC_ACQUIRE)) {
			q->td_waiting--;
			hq_complete(q, c);
		}
	}
}

/* A command past its deadline fails the queue, as a host's I/O timeout
 * resets its controller; looked for every 100 ms. */
static int hq_timeouts(struct host_queue *q)
{
	unsigned long long secs = q->h->io_timeout_ns / 1000000000;
	__u64 now = now_ns();
	const char *why;
	__u32 i;

	if (now < q->check_at)
		return 0;
	q->check_at = now + 100000000;
	for (i = 0; i < q->size; i++) {
		const struct host_cmd *c = &q->cmds[i];

		if (!c->busy || now < c->deadline)
			continue;
		why = c->td_wait  ? "its buffer's teardown never ended" :
		      c->received ? "its data stopped coming" :
				    "the controller never answered";
		q->failed = -ETIMEDOUT;
		return herr(q->h, -ETIMEDOUT,
			    "queue %u: command %u not done in %llu s: %s",
			    q->qid, c->cid, secs, why);
	}
	return 0;
}

int hq_poll(struct host_queue *q, int timeout_ms)
{
	__u64 before = q->completed;
	int budget = 64, err, r;

	err = hq_flush(q);
	if (err)
		return err;
	hq_reap(q);
	if (q->failed)
		return q->failed;
	if (q->completed != before || !q->inflight)
		return q->completed - before;
	err = hq_timeouts(q);
	if (err)
		return err;
	r = xport_wait_any(&q->x, q->efd, timeout_ms);
	if (r < 0) {
		q->failed = r;
		return herr(q->h, r, "queue %u: %s", q->qid, strerror(-r));
	}
	if (r) {
		do {
			err = hq_recv_pdu(q);
		} while (!err && --budget &&
			 xport_pending(&q->x, NTCP_CH_LEN) >= NTCP_CH_LEN);
		hq_teardowns(q);
		if (err)
			return q->failed ? err : hq_lost(q, err);
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
		q->st.ddgst_unclean = us.ddgst_unclean;
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
void *host_events(void *arg)
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
