// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * utcp_output.c - what a connection sends (RFC 9293 3.8): the Internet
 * checksum, the window it advertises, headers and SACK options, ACKs and
 * RSTs of their own, and segments from the send queue as the windows and
 * recovery (RFC 6675's pipe, limited transmit) allow.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include "utcp_priv.h"

/* ---- Checksums ----------------------------------------------------------- */

__u64 utcp_csum_add(__u64 sum, const void *buf, size_t len)
{
	const __u8 *b = buf;
	__u16 h = 0;
	__u32 w;

	/* 32-bit words in memory order: their sum folds to the same one's
	 * complement sum as 16-bit words, in either byte order */
	for (; len >= 4; b += 4, len -= 4) {
		memcpy(&w, b, 4);
		sum += w;
	}
	if (len >= 2) {
		memcpy(&h, b, 2);
		sum += h;
		b += 2;
		len -= 2;
	}
	if (len) {
		h = 0;
		memcpy(&h, b, 1);
		sum += h;
	}
	return sum;
}

__u16 utcp_csum_fold(__u64 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

__u16 utcp_tcp_csum(const void *saddr, const void *daddr, bool v6,
		    const void *tcp, size_t len)
{
	__u32 alen = v6 ? 16 : 4;
	__u8 tail[4] = { 0, 0, 0, IPPROTO_TCP };
	__u64 sum;

	/* the pseudo-header: addresses, then the length and the protocol
	 * (RFC 9293 3.1; RFC 8200 8.1), summed as 16-bit words */
	sum = utcp_csum_add(0, saddr, alen);
	sum = utcp_csum_add(sum, daddr, alen);
	sum += htons(len & 0xffff) + htons(len >> 16);
	sum = utcp_csum_add(sum, tail, sizeof(tail));
	return utcp_csum_fold(utcp_csum_add(sum, tcp, len));
}

/* ---- Sending ------------------------------------------------------------- */

/*
 * The field counts units of 1 << ws from nxt. The edge advertised before
 * is kept (segments sent into it are taken), but from a nxt that moved by
 * other than whole units no field reaches it exactly. Rounded up, the
 * window would reach past what the frames take, by up to a unit each
 * time, and from one ACK to the next that adds up: a peer that fills the
 * window then finds room for bytes no frame is left for. So the field is
 * rounded up only as far as room goes, down otherwise: the peer may then
 * see the edge back by less than a unit (RFC 7323 2.4 allows for it), and
 * *adv, which segments are trimmed at, stays where it was.
 */
__u16 utcp_wnd_field(__u32 nxt, __u32 room, __u8 ws, __u32 *adv)
{
	__u32 wnd = room, field;

	if (seq_lt(nxt + wnd, *adv))
		wnd = *adv - nxt;
	wnd = MIN(wnd, 65535u << ws);
	field = wnd >> ws;
	if (seq_lt(nxt + (field << ws), *adv) && field < 65535 &&
	    (field + 1) << ws <= room)
		field++;
	if (seq_gt(nxt + (field << ws), *adv))
		*adv = nxt + (field << ws);
	return field;
}

/* The window to advertise: what the frames not yet held can take, in
 * segments of our MSS. */
static __u16 rcv_window(struct utcp_conn *c)
{
	__u32 room = c->closing ? c->lim.rcv_frames : rcv_room(c);

	return utcp_wnd_field(c->rcv.nxt, room * c->rmss, c->rcv_ws,
			      &c->rcv_adv);
}

/* SACK blocks of what is held out of order, the latest one first (RFC
 * 2018); returns the option bytes written at o (at most 36). */
static __u32 sack_opts(struct utcp_conn *c, __u8 *o)
{
	struct utcp_rcv *r = &c->rcv;
	__u32 b[4][2], nb = 0, i, first = 0, n = 0, k, st, en;

	for (i = 0; i < r->nooo; i++) {
		st = r->ooo[i].seq + r->ooo[i].lo;
		en = r->ooo[i].seq + r->ooo[i].hi;
		if (nb && b[nb - 1][1] == st) {
			b[nb - 1][1] = en;
		} else if (nb < 4) {
			b[nb][0] = st;
			b[nb++][1] = en;
		} else {
			break;
		}
		if (seq_geq(c->ooo_last, b[nb - 1][0]) &&
		    seq_lt(c->ooo_last, en))
			first = nb - 1;
	}
	if (!nb)
		return 0;
	o[0] = o[1] = 1; /* NOP NOP */
	o[2] = 5;
	for (k = 0; k < nb; k++) {
		i = (first + k) % nb;
		put32(o + 4 + 8 * n, b[i][0]);
		put32(o + 8 + 8 * n++, b[i][1]);
	}
	o[3] = 2 + 8 * n;
	return 4 + 8 * n;
}

/* Headers of a segment whose payload (len bytes) is already in place;
 * segments without payload may carry SACK blocks. */
static __u32 tx_build(struct utcp_conn *c, __u8 *f, __u32 seq, __u8 flags,
		      __u32 len)
{
	struct xsk_port *p = c->p;
	__u32 thl = flags & F_SYN ? 32 : 20, iphl = utcp_ip_hlen(c);
	__u8 *ip = f + ETH_LEN, *th = ip + iphl;
	struct iphdr ip4 = { 0 };
	__u16 win, sum;

	if (!len && !(flags & F_SYN) && flags & F_ACK && c->sack_ok)
		thl += sack_opts(c, th + 20);

	memcpy(f, c->rmac, 6);
	memcpy(f + 6, p->mac, 6);
	if (c->v6) {
		put16(f + 12, 0x86dd);
		put32(ip, 6u << 28); /* version, no traffic class, no label */
		put16(ip + 4, thl + len);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64; /* hop limit */
		memcpy(ip + 8, &c->laddr, 16);
		memcpy(ip + 24, &c->raddr, 16);
	} else {
		put16(f + 12, 0x0800);
		ip4.version = 4;
		ip4.ihl = 5;
		ip4.tot_len = htons(20 + thl + len);
		ip4.id = htons(c->up->ip_id++);
		ip4.frag_off = htons(IP_DF);
		ip4.ttl = 64;
		ip4.protocol = IPPROTO_TCP;
		memcpy(&ip4.saddr, utcp_ip(c, &c->laddr), 4);
		memcpy(&ip4.daddr, utcp_ip(c, &c->raddr), 4);
		ip4.check = utcp_csum_fold(utcp_csum_add(0, &ip4, 20));
		memcpy(ip, &ip4, 20);
	}

	win = flags & F_SYN ? c->syn_wnd : rcv_window(c);
	memcpy(th, &c->lport, 2);
	memcpy(th + 2, &c->rport, 2);
	put32(th + 4, seq);
	put32(th + 8, flags & F_ACK ? c->rcv.nxt : 0);
	th[12] = thl / 4 << 4;
	th[13] = flags;
	put16(th + 14, win);
	memset(th + 16, 0, 4);
	if (flags & F_SYN) {
		th[20] = 2; /* MSS */
		th[21] = 4;
		put16(th + 22, c->rmss);
		th[24] = 1; /* NOP */
		th[25] = 3; /* window scale */
		th[26] = 3;
		th[27] = c->rcv_ws;
		th[28] = th[29] = 1; /* NOP NOP */
		th[30] = 4; /* SACK permitted */
		th[31] = 2;
	}
	sum = utcp_tcp_csum(utcp_ip(c, &c->laddr), utcp_ip(c, &c->raddr), c->v6,
			    th, thl + len);
	memcpy(th + 16, &sum, 2);
	if (flags & F_ACK) {
		c->ack_pending = 0;
		c->ack_now = false;
		c->dack_at = 0;
	}
	c->st.tx_segs++;
	return ETH_LEN + iphl + thl + len;
}

/* A segment of its own (ACK, RST), in a frame freed once sent */
void utcp_send_ctl(struct utcp_conn *c, __u32 seq, __u8 flags)
{
	int f = xp_tx_get(c->p, true);
	__u32 len;

	if (f < 0) {
		if (flags & F_ACK)
			c->ack_now = true; /* when frames come back */
		return;
	}
	len = tx_build(c, xp_tx_ptr(c->p, f), seq, flags, 0);
	xp_tx_send(c->p, f, len, true);
}

void utcp_send_ack(struct utcp_conn *c)
{
	utcp_send_ctl(c, c->snd_nxt, F_ACK);
}

int utcp_seg_xmit(struct utcp_conn *c, struct tseg *t)
{
	__u8 flags = t->flags;
	__u32 len;

	/* the kernel still has the frame from the last time */
	if (c->p->tx_state[t->frame] & XSK_TXF_KERNEL)
		return -EBUSY;
	if (!(flags & F_SYN))
		flags |= F_ACK;
	if (t->len)
		flags |= F_PSH;
	len = tx_build(c, xp_tx_ptr(c->p, t->frame), t->seq, flags, t->len);
	xp_tx_send(c->p, t->frame, len, false);
	t->xno = ++c->xno;
	return 0;
}

static void resent(struct utcp_conn *c, struct tseg *t)
{
	t->resent = 1;
	c->rtt_on = false; /* Karn: its ACK times nothing */
	c->st.retransmits++;
}

/* A hole below the highest SACK, not resent, or resent and then passed
 * by three later transmissions that arrived (as RACK finds lost
 * retransmissions) */
static bool sack_lost(const struct utcp_conn *c, const struct tseg *t)
{
	return !t->sacked && seq_lt(t->seq, c->sack_hi) &&
	       (!t->resent || seq_lt(t->xno + 3, c->deliv_xno));
}

/* RFC 6675's pipe, roughly: what is in flight and not known to have
 * left the network (SACKed, or lost) */
static __u32 sack_pipe(struct utcp_conn *c)
{
	__u32 i, pipe = 0;
	struct tseg *t;

	for (i = 0; i < c->snxt; i++) {
		t = seg_at(c, i);
		if (!t->sacked && !sack_lost(c, t))
			pipe += t->len + 1;
	}
	return pipe;
}

/* SACK recovery: resend the holes */
static __u32 sack_holes(struct utcp_conn *c)
{
	__u32 i, pipe = sack_pipe(c);
	struct tseg *t;

	for (i = 0; i < c->snxt && pipe < c->cwnd; i++) {
		t = seg_at(c, i);
		if (!sack_lost(c, t))
			continue;
		if (utcp_seg_xmit(c, t))
			break;
		resent(c, t);
		pipe += t->len + 1;
	}
	return pipe;
}

/* Send what the windows allow */
void utcp_output(struct utcp_conn *c, __u64 now)
{
	bool sack = c->recovery && c->sack_ok;
	__u32 wnd, end, pipe = 0;
	struct tseg *t;

	if (c->state == UT_CLOSED)
		return;
	if (c->rexmit && c->nsegs && !utcp_seg_xmit(c, seg_at(c, 0))) {
		c->rexmit = false;
		resent(c, seg_at(c, 0));
	}
	if (sack)
		pipe = sack_holes(c);
	wnd = c->cwnd;
	if (!c->recovery && c->dupacks && c->dupacks < 3)
		wnd += c->dupacks * c->smss; /* limited transmit */
	wnd = MIN(wnd, c->snd_wnd);
	while (c->snxt < c->nsegs) {
		t = seg_at(c, c->snxt);
		end = seg_end(t);
		/* after an RTO: what the peer SACKed is not sent again */
		if (t->sacked && seq_lt(t->seq, c->snd_max)) {
			c->snd_nxt = end;
			c->snxt++;
			continue;
		}
		if (c->state != UT_SYN_SENT &&
		    (seq_gt(end, c->snd_una + (sack ? c->snd_wnd : wnd)) ||
		     (sack && pipe + t->len + 1 > c->cwnd))) {
			/* persist: no ACK in flight would open the window */
			if (c->snd_una == c->snd_max && !c->rto_at)
				c->rto_at = now + c->rto;
			break;
		}
		if (utcp_seg_xmit(c, t))
			break;
		pipe += t->len + 1;
		if (seq_lt(t->seq, c->snd_max))
			resent(c, t);
		c->snd_nxt = end;
		if (seq_gt(end, c->snd_max)) {
			c->snd_max = end;
			if (!c->rtt_on) {
				c->rtt_on = true;
				c->rtt_seq = end;
				c->rtt_t0 = now;
			}
		}
		c->snxt++;
		if (!c->rto_at)
			c->rto_at = now + c->rto;
	}
}

/* Queue up to len bytes after what is queued; 0 if no frame is free. */
size_t utcp_queue_data(struct utcp_conn *c, const __u8 *b, size_t len)
{
	struct tseg *t = c->nsegs ? seg_at(c, c->nsegs - 1) : NULL;
	size_t room;
	int f;

	/* a segment never sent may grow */
	if (!t || t->flags || t->len >= c->smss || seq_lt(t->seq, c->snd_max)) {
		if (c->ndata >= c->lim.snd_frames || c->nsegs >= SEGS_CAP)
			return 0;
		f = xp_tx_get(c->p, false);
		if (f < 0)
			return 0;
		t = seg_at(c, c->nsegs++);
		*t = (struct tseg){ .frame = f, .seq = c->snd_end };
		c->ndata++;
	}
	room = MIN(len, (size_t)(c->smss - t->len));
	memcpy(xp_tx_ptr(c->p, t->frame) + utcp_data_off(c) + t->len, b, room);
	t->len += room;
	c->snd_end += room;
	return room;
}

int utcp_queue_ctl(struct utcp_conn *c, __u8 flags)
{
	int f = xp_tx_get(c->p, true);

	if (f < 0 || c->nsegs >= SEGS_CAP) {
		if (f >= 0)
			xp_tx_put(c->p, f);
		return -ENOBUFS;
	}
	*seg_at(c, c->nsegs++) =
		(struct tseg){ .frame = f, .seq = c->snd_end, .flags = flags };
	c->snd_end++;
	return 0;
}

void utcp_drop_send_queue(struct utcp_conn *c)
{
	while (c->nsegs) {
		xp_tx_put(c->p, seg_at(c, 0)->frame);
		c->shead = (c->shead + 1) % SEGS_CAP;
		c->nsegs--;
	}
	c->snxt = c->ndata = 0;
	c->rexmit = false;
}
