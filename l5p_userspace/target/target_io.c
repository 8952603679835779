// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * target_io.c - the target's I/O commands (Read, Write with in-capsule
 * data or R2Ts and H2CData, Flush) and the order they complete in.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "target_priv.h"

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

int io_submit(struct tconn *c, const struct nvme_sqe *sqe, const __u8 *data,
	      __u32 dlen)
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

int recv_h2c(struct tconn *c, const struct ntcp_pdu *pdu)
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

/* Completion order */

static __u32 cmd_left(const struct tcmd *m)
{
	return m->kind == TC_READ && !m->status ? m->len - m->done : 0;
}

static bool cmd_ready(const struct tcmd *m)
{
	return m->kind != TC_WRITE || m->done == m->len;
}

/* The command to send a PDU for now, or NULL to wait for the host. */
struct tcmd *pick(struct tconn *c)
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
int wait_ms(struct tconn *c)
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
int cmd_step(struct tconn *c, struct tcmd *m)
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
