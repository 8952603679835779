// SPDX-License-Identifier: GPL-2.0-only
/*
 * l5p_nvme.c - the test L5P's NVMe/TCP: a queue over a kernel socket
 * (ICReq/ICResp, no digests), commands one at a time, and C2HData read
 * as an offloading L5P reads it: the bytes the engine placed into the
 * command's buffer are skipped (tcp_ddp_placed(), for bytes already in
 * the receive queue), the others copied; resync requests answered at the
 * first PDU header at or past the one asked about.
 */
#include <linux/in.h>
#include <linux/net.h>
#include <linux/uio.h>
#include <linux/uuid.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "l5p.h"

#define L5P_TIMEOUT (10 * HZ) /* a stuck target fails the test */

static int l5p_send(struct l5p_queue *q, const void *a, size_t alen,
		    const void *b, size_t blen)
{
	struct kvec v[2] = { { (void *)a, alen }, { (void *)b, blen } };
	struct msghdr m = { .msg_flags = MSG_NOSIGNAL };
	int r = kernel_sendmsg(q->sock, &m, v, blen ? 2 : 1, alen + blen);

	return r == alen + blen ? 0 : r < 0 ? r : -EIO;
}

/* len bytes into buf; buf NULL: len bytes consumed, not copied */
static int l5p_recv(struct l5p_queue *q, void *buf, size_t len)
{
	struct msghdr m = {};
	struct kvec v;
	int r;

	while (len) {
		v = (struct kvec){ buf, len };
		r = kernel_recvmsg(q->sock, &m, &v, 1, len,
				   MSG_WAITALL | (buf ? 0 : MSG_TRUNC));
		if (r <= 0)
			return r ? r : -ECONNRESET;
		len -= r;
		if (buf)
			buf += r;
	}
	return 0;
}

/* Wait for received bytes: how many the socket holds in order */
static int l5p_wait(struct l5p_queue *q)
{
	struct msghdr m = {};
	struct kvec v;
	char c;
	int r;

	v = (struct kvec){ &c, 1 };
	r = kernel_recvmsg(q->sock, &m, &v, 1, 1, MSG_PEEK);
	if (r <= 0)
		return r ? r : -ECONNRESET;
	return tcp_inq(q->sock->sk);
}

int l5p_queue_open(struct l5p_queue *q, __be32 addr, u16 port, u16 qid)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = addr,
				   .sin_port = htons(port) };
	u8 ic[NVME_TCP_IC_HLEN] = { NVME_TCP_ICREQ, 0, NVME_TCP_IC_HLEN, 0 };
	u32 plen = NVME_TCP_IC_HLEN;
	int err;

	memset(q, 0, sizeof(*q));
	q->qid = qid;
	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &q->sock);
	if (err)
		return err;
	q->sock->sk->sk_rcvtimeo = L5P_TIMEOUT;
	q->sock->sk->sk_sndtimeo = L5P_TIMEOUT;
	q->sock->sk->sk_user_data = q;
	err = kernel_connect(q->sock, (struct sockaddr *)&sin, sizeof(sin), 0);
	if (err)
		return err;
	/* ICReq: PFV 0, HPDA 0, no digests, MAXR2T 0 */
	memcpy(ic + 4, &plen, 4);
	err = l5p_send(q, ic, sizeof(ic), NULL, 0) ?:
		      l5p_recv(q, ic, sizeof(ic));
	if (err)
		return err;
	/* ICResp, PFV 0, CPDA 0, no digests */
	if (ic[0] != NVME_TCP_ICRESP || ic[2] != NVME_TCP_IC_HLEN || ic[8] ||
	    ic[9] || ic[10] || ic[11])
		return -EPROTO;
	return 0;
}

void l5p_queue_close(struct l5p_queue *q)
{
	if (q->offloaded)
		tcp_ddp_sk_del(q->netdev, q->sock->sk);
	q->offloaded = false;
	if (q->netdev)
		dev_put(q->netdev);
	q->netdev = NULL;
	if (q->sock)
		sock_release(q->sock);
	q->sock = NULL;
}

int l5p_queue_offload(struct l5p_queue *q, const struct tcp_ddp_ulp_ops *ops)
{
	struct nvme_tcp_ddp_config c = {
		.cfg = { .type = TCP_DDP_NVME, .ulp_ops = ops },
		.queue_size = 32,
		.queue_id = q->qid,
		.io_cpu = raw_smp_processor_id(),
	};
	struct dst_entry *dst = __sk_dst_get(q->sock->sk);
	int err;

	/* the device the connection's route goes out of, as nvme-tcp
	 * finds it */
	if (!dst || !dst->dev)
		return -ENODEV;
	q->netdev = dst->dev;
	dev_hold(q->netdev);
	err = tcp_ddp_sk_add(q->netdev, q->sock->sk, &c.cfg);
	q->offloaded = !err;
	return err;
}

bool l5p_resync_request(struct sock *sk, u32 seq, u32 flags)
{
	struct l5p_queue *q = sk->sk_user_data;

	atomic64_set(&q->resync_req, (u64)seq + 1);
	return true;
}

/* A PDU header whose last byte is at hdr_end was read: answer a request
 * about it or one before it, which the stream may have passed already
 * (the engine asks once it saw the header after): yes if it was one of
 * the last headers read */
static void l5p_resync_answer(struct l5p_queue *q, u32 hdr_end)
{
	u64 req = atomic64_read(&q->resync_req);
	u32 seq = (u32)(req - 1), i;
	bool yes = false;

	q->hist[q->nhist++ % ARRAY_SIZE(q->hist)] = hdr_end;
	if (!req || after(seq, hdr_end) ||
	    atomic64_cmpxchg(&q->resync_req, req, 0) != req)
		return;
	for (i = 0; i < ARRAY_SIZE(q->hist) && i < q->nhist; i++)
		yes |= q->hist[i] == seq;
	q->resyncs++;
	q->confirmed += yes;
	tcp_ddp_resync(q->netdev, q->sock->sk, yes ? seq : hdr_end);
}

/* C2HData's data: placed runs skipped, the rest copied */
static int l5p_data(struct l5p_queue *q, struct l5p_data *d, u16 cid,
		    u32 datao, u32 datal)
{
	struct sock *sk = q->sock->sk;
	u32 n, seq;
	bool placed;
	int avail, err;

	if (!d || datao > d->len || datal > d->len - datao)
		return -EPROTO;
	while (datal) {
		avail = l5p_wait(q);
		if (avail < 0)
			return avail;
		n = min_t(u32, datal, avail ?: 1);
		placed = false;
		if (d->ddp) {
			seq = READ_ONCE(tcp_sk(sk)->copied_seq);
			n = tcp_ddp_placed(q->netdev, sk, seq, n, cid, &placed);
		}
		err = l5p_recv(q, placed ? NULL : d->buf + datao, n);
		if (err)
			return err;
		if (placed)
			d->placed += n;
		else
			d->copied += n;
		datao += n;
		datal -= n;
	}
	return 0;
}

int l5p_command(struct l5p_queue *q, struct nvme_sqe *sqe, struct l5p_data *d,
		u32 *result)
{
	u8 ch[NVME_TCP_CMD_HLEN - sizeof(*sqe)] = { NVME_TCP_CMD, 0,
						    NVME_TCP_CMD_HLEN };
	bool out = d && sqe->sgl_type == NVME_SGL_INCAPSULE;
	u32 plen = NVME_TCP_CMD_HLEN + (out ? d->len : 0);
	struct nvme_tcp_hdr24 h;
	struct nvme_cqe cqe;
	u32 hdr_end;
	int err;

	ch[3] = out ? NVME_TCP_CMD_HLEN : 0;
	memcpy(ch + 4, &plen, 4);
	err = l5p_send(q, ch, sizeof(ch), sqe, sizeof(*sqe));
	if (!err && out)
		err = l5p_send(q, d->buf, d->len, NULL, 0);
	for (;;) {
		if (err)
			return err;
		err = l5p_recv(q, &h, sizeof(h));
		if (err)
			return err;
		hdr_end = READ_ONCE(tcp_sk(q->sock->sk)->copied_seq) - 1;
		if (q->offloaded)
			l5p_resync_answer(q, hdr_end);
		if (h.type == NVME_TCP_RSP && h.plen == NVME_TCP_RSP_HLEN) {
			memcpy(&cqe, (u8 *)&h + 8, sizeof(cqe));
			if (cqe.cid != sqe->cid)
				return -EPROTO;
			if (result)
				*result = cqe.result;
			return nvme_cqe_status(&cqe);
		}
		if (h.type != NVME_TCP_C2H_DATA ||
		    h.hlen != NVME_TCP_DATA_HLEN ||
		    h.pdo != NVME_TCP_DATA_HLEN || h.cccid != sqe->cid ||
		    h.plen != NVME_TCP_DATA_HLEN + h.datal)
			return -EPROTO;
		err = l5p_data(q, d, h.cccid, h.datao, h.datal);
		if (!err && (h.flags & NVME_TCP_F_DATA_SUCCESS))
			return 0;
	}
}

int l5p_fabrics_connect(struct l5p_queue *q, const char *nqn, u16 cntlid,
			u16 *got)
{
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS,
				.flags = NVME_SGL_PSDT,
				.cid = q->next_cid++,
				.sgl_len = NVME_CONNECT_DATA_LEN,
				.sgl_type = NVME_SGL_INCAPSULE };
	struct l5p_data d = { .len = NVME_CONNECT_DATA_LEN };
	u8 *s = (u8 *)&sqe;
	u16 sqsize = 31;
	u32 result = 0;
	int err;

	d.buf = kzalloc(d.len, GFP_KERNEL);
	if (!d.buf)
		return -ENOMEM;
	s[NVME_FC_TYPE] = NVME_FCT_CONNECT;
	memcpy(s + NVME_CONNECT_QID, &q->qid, 2);
	memcpy(s + NVME_CONNECT_SQSIZE, &sqsize, 2);
	generate_random_uuid(d.buf + NVME_CONNECT_HOSTID);
	memcpy(d.buf + NVME_CONNECT_CNTLID, &cntlid, 2);
	strscpy(d.buf + NVME_CONNECT_SUBNQN, nqn, NVME_NQN_MAX);
	strscpy(d.buf + NVME_CONNECT_HOSTNQN, "nqn.2014-08.org.ddp:l5p-test",
		NVME_NQN_MAX);
	err = l5p_command(q, &sqe, &d, &result);
	kfree(d.buf);
	if (!err && got)
		*got = result & 0xffff;
	return err;
}

int l5p_prop(struct l5p_queue *q, bool set, u32 off, u64 *val)
{
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS,
				.flags = NVME_SGL_PSDT,
				.cid = q->next_cid++,
				.sgl_type = NVME_SGL_TRANSPORT };
	u8 *s = (u8 *)&sqe;
	u32 result = 0;
	int err;

	s[NVME_FC_TYPE] = set ? NVME_FCT_PROPERTY_SET : NVME_FCT_PROPERTY_GET;
	memcpy(s + NVME_PROP_OFFSET, &off, 4);
	if (set)
		memcpy(s + NVME_PROP_VALUE, val, 8);
	err = l5p_command(q, &sqe, NULL, &result);
	if (!err && !set)
		*val = result;
	return err;
}
