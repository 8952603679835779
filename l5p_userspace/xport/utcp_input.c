// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * utcp_input.c - segment arrival (RFC 9293 3.10.7): the port's frames
 * parsed, checked and handed to their connection; SYN-SENT, the
 * acceptability test, ACKs, SACK blocks and duplicate ACKs, data into the
 * receive queue, FIN and RST.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include "libddp.h"
#include "utcp_priv.h"

/* What the TCP header of a received segment says */
struct seg_in {
	__u32 seq, ack;
	__u32 win;
	__u8 flags;
	__u16 opt_mss;
	int opt_ws; /* -1: none */
	bool opt_sack_ok;
	__u32 nsack;
	__u32 sack[4][2]; /* [start, end) */
};

/* ---- Receiving ----------------------------------------------------------- */

static void fin_acked(struct utcp_conn *c)
{
	switch (c->state) {
	case UT_FIN_WAIT_1:
		c->state = UT_FIN_WAIT_2;
		break;
	case UT_CLOSING:
		c->state = UT_TIME_WAIT;
		break;
	case UT_LAST_ACK:
		c->state = UT_CLOSED;
		break;
	default:
		break;
	}
}

static void free_acked(struct utcp_conn *c, __u32 ack)
{
	struct tseg *t;
	bool fin = false;

	while (c->nsegs) {
		t = seg_at(c, 0);
		if (seq_gt(seg_end(t), ack))
			break;
		fin |= t->flags & F_FIN;
		if (!t->flags)
			c->ndata--;
		xp_tx_put(c->p, t->frame);
		c->shead = (c->shead + 1) % SEGS_CAP;
		c->nsegs--;
		if (c->snxt)
			c->snxt--;
		c->rexmit = false;
	}
	if (fin)
		fin_acked(c);
}

/* Mark what SACK blocks cover (RFC 2018) */
static void sack_mark(struct utcp_conn *c, const struct seg_in *in)
{
	__u32 b, i, l, r;
	struct tseg *t;

	for (b = 0; b < in->nsack; b++) {
		l = in->sack[b][0];
		r = in->sack[b][1];
		if (!seq_gt(r, c->snd_una) || seq_gt(r, c->snd_max) ||
		    !seq_lt(l, r))
			continue;
		for (i = 0; i < c->nsegs; i++) {
			t = seg_at(c, i);
			if (seq_geq(t->seq, r))
				break;
			if (seq_geq(t->seq, l) && seq_leq(seg_end(t), r) &&
			    !t->sacked) {
				t->sacked = 1;
				if (seq_gt(t->xno, c->deliv_xno))
					c->deliv_xno = t->xno;
			}
		}
		if (seq_gt(r, c->sack_hi))
			c->sack_hi = r;
	}
}

static void dupack(struct utcp_conn *c)
{
	__u32 flight = c->snd_max - c->snd_una, i;

	if (c->recovery) {
		/* SACK's pipe knows what left the network */
		if (!c->sack_ok)
			c->cwnd += c->smss;
		return;
	}
	/* RFC 6582: once per window, and not for a window an RTO resent */
	if (++c->dupacks != 3 || !seq_gt(c->snd_una, c->recover))
		return;
	c->ssthresh = MAX(flight / 2, 2u * c->smss);
	c->cwnd = c->ssthresh + (c->sack_ok ? 0 : 3 * c->smss);
	c->recover = c->snd_max;
	c->recovery = true;
	for (i = 0; i < c->nsegs; i++)
		seg_at(c, i)->resent = 0;
	if (!c->sack_ok || !seq_lt(c->snd_una, c->sack_hi))
		c->rexmit = true; /* else the holes are resent */
	c->st.fast_retransmits++;
}

/* false: drop the segment */
static bool ack_in(struct utcp_conn *c, const struct seg_in *in, bool pure,
		   __u64 now)
{
	__u32 win = in->win << c->snd_ws, acked;
	bool win_changed = false;

	if (seq_gt(in->ack, c->snd_max)) {
		utcp_send_ack(c);
		return false;
	}
	if (seq_lt(in->ack, c->snd_una))
		return true;
	if (c->sack_ok && in->nsack)
		sack_mark(c, in);
	if (seq_lt(c->snd_wl1, in->seq) ||
	    (c->snd_wl1 == in->seq && seq_leq(c->snd_wl2, in->ack))) {
		win_changed = win != c->snd_wnd;
		c->snd_wnd = win;
		c->snd_wl1 = in->seq;
		c->snd_wl2 = in->ack;
	}
	if (in->ack == c->snd_una) {
		/* a window that moved makes it no duplicate (RFC 5681),
		 * unless SACK says there is a hole: Linux's window grows
		 * while its application reads */
		if (pure && (!win_changed || (c->sack_ok && in->nsack)) &&
		    c->snd_max != c->snd_una)
			dupack(c);
		if (!c->snd_wnd)
			c->retries = 0; /* a full peer, not a gone one */
		return true;
	}

	acked = in->ack - c->snd_una;
	c->tlp_sent = false;
	c->tlp_at = 0;
	free_acked(c, in->ack);
	c->snd_una = in->ack;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	if (c->rtt_on && seq_geq(in->ack, c->rtt_seq)) {
		utcp_rtt_sample(c, now);
		c->rtt_on = false;
	}
	c->retries = 0;
	if (c->recovery) {
		if (seq_geq(in->ack, c->recover)) {
			c->recovery = false;
			c->cwnd = MAX(MIN(c->ssthresh,
					  c->snd_max - c->snd_una + c->smss),
				      c->smss);
		} else if (!c->sack_ok) {
			/* partial ACK: the next hole, now */
			c->rexmit = true;
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			c->cwnd += c->smss;
		}
	} else if (c->cwnd < c->ssthresh) {
		c->cwnd += MIN(acked, 2u * c->smss);
	} else {
		c->ca_acked += acked;
		if (c->ca_acked >= c->cwnd) {
			c->ca_acked -= c->cwnd;
			c->cwnd += c->smss;
		}
	}
	c->cwnd = MIN(c->cwnd, 1u << 30);
	c->dupacks = 0;
	c->rto_at = c->snd_una == c->snd_max ? 0 : now + c->rto;
	return true;
}

static void fin_in(struct utcp_conn *c)
{
	if (!c->fin_seen || c->fin_rcvd || c->rcv.nxt != c->fin_seq)
		return;
	c->fin_rcvd = true;
	c->rcv.nxt++;
	c->ack_now = true;
	switch (c->state) {
	case UT_ESTABLISHED:
		c->state = UT_CLOSE_WAIT;
		break;
	case UT_FIN_WAIT_1:
		c->state = UT_CLOSING;
		break;
	case UT_FIN_WAIT_2:
		c->state = UT_TIME_WAIT;
		break;
	default:
		break;
	}
}

static void syn_sent_in(struct utcp_conn *c, const struct seg_in *in, __u64 now)
{
	__u16 mss;

	if (in->flags & F_ACK && in->ack != c->iss + 1) {
		if (!(in->flags & F_RST))
			utcp_send_ctl(c, in->ack, F_RST);
		return;
	}
	if (in->flags & F_RST) {
		if (in->flags & F_ACK)
			utcp_reset(c, -ECONNREFUSED);
		return;
	}
	if ((in->flags & (F_SYN | F_ACK)) != (F_SYN | F_ACK))
		return;
	c->st.rx_segs++;
	c->rcv.nxt = c->rcv.read_seq = in->seq + 1;
	c->ddgst_clean = in->seq + 1;
	mss = in->opt_mss ? in->opt_mss : 536;
	c->smss = MIN(mss, c->p->mtu - utcp_ip_hlen(c) - 20);
	if (in->opt_ws >= 0) {
		c->snd_ws = MIN(in->opt_ws, 14);
	} else {
		/* both scale or neither does */
		c->snd_ws = 0;
		c->rcv_ws = 0;
	}
	c->sack_ok = in->opt_sack_ok;
	c->snd_wnd = in->win;
	c->snd_wl1 = in->seq;
	c->snd_wl2 = in->ack;
	c->rcv_adv = c->rcv.nxt + c->syn_wnd;
	free_acked(c, in->ack);
	c->snd_una = c->snd_nxt = c->sack_hi = in->ack;
	if (c->rtt_on)
		utcp_rtt_sample(c, now);
	c->rtt_on = false;
	c->retries = 0;
	c->rto_at = 0;
	/* RFC 6928's initial window */
	c->cwnd = MIN(10u * c->smss, MAX(2u * c->smss, 14600u));
	c->ssthresh = 1u << 30;
	c->state = UT_ESTABLISHED;
	utcp_send_ack(c);
}

static bool can_receive(const struct utcp_conn *c)
{
	return !c->fin_rcvd &&
	       (c->state == UT_ESTABLISHED || c->state == UT_FIN_WAIT_1 ||
		c->state == UT_FIN_WAIT_2);
}

/* RFC 793's acceptability test */
static bool acceptable(const struct utcp_conn *c, __u32 seq, __u32 seglen)
{
	__u32 nxt = c->rcv.nxt, wnd = adv_wnd(c);

	if (!seglen)
		return wnd ? seq_geq(seq, nxt) && seq_lt(seq, nxt + wnd) :
			     seq == nxt;
	if (!wnd)
		return false;
	return (seq_geq(seq, nxt) && seq_lt(seq, nxt + wnd)) ||
	       (seq_geq(seq + seglen - 1, nxt) &&
		seq_lt(seq + seglen - 1, nxt + wnd));
}

/* The verdict the engine sent with a segment kept in the queue. */
static void ddgst_keep(struct utcp_conn *c, const struct utcp_rseg *s)
{
	__u32 i;

	if (!s->verdict || s->vend > s->hi)
		return;
	i = c->nvd++ % UTCP_VERDICTS;
	c->vd[i].end = s->seq + s->vend;
	c->vd[i].verdict = s->verdict;
}

/* The bytes up to end may be held, or come to be, in a copy other than
 * the one the engine judged: no verdict on them is believed. */
static void ddgst_taint(struct utcp_conn *c, __u32 end)
{
	if (seq_gt(end, c->ddgst_clean))
		c->ddgst_clean = end;
}

int utcp_ddgst_verdict(struct utcp_conn *c, __u32 plen)
{
	__u32 end = c->rcv.read_seq, i;

	/* a mark left far behind would wrap around and refuse everything */
	if (seq_lt(c->ddgst_clean, end - (1u << 30)))
		c->ddgst_clean = end - (1u << 30);
	if (seq_lt(end - plen, c->ddgst_clean)) {
		c->st.ddgst_unclean++;
		return DDP_VERDICT_NONE;
	}
	for (i = 0; i < UTCP_VERDICTS && i < c->nvd; i++)
		if (c->vd[(c->nvd - 1 - i) % UTCP_VERDICTS].end == end)
			return c->vd[(c->nvd - 1 - i) % UTCP_VERDICTS].verdict;
	return DDP_VERDICT_NONE;
}

/* Returns true if the frame went to the receive queue (kept or freed
 * there), false if the caller frees it. *kept: it was the next bytes,
 * all kept, in order. */
static bool conn_input(struct utcp_conn *c, const struct seg_in *in,
		       struct utcp_rseg *s, __u64 now, bool *kept)
{
	struct xsk_port *p = c->p;
	__u32 seglen = s->olen + !!(in->flags & F_SYN) + !!(in->flags & F_FIN);
	__u32 nxt0 = c->rcv.nxt;
	bool cut = false, taken = false;

	if (c->state == UT_SYN_SENT) {
		syn_sent_in(c, in, now);
		return false;
	}
	if (c->state == UT_CLOSED)
		return false;
	c->st.rx_segs++;
	if (!acceptable(c, in->seq, seglen)) {
		if (!(in->flags & F_RST)) {
			if (s->olen && seq_leq(in->seq + s->olen, c->rcv.nxt))
				c->st.dup_segs++;
			utcp_send_ack(c);
		}
		return false;
	}
	if (in->flags & F_RST) {
		if (in->seq == c->rcv.nxt)
			utcp_reset(c, -ECONNRESET);
		else
			utcp_send_ack(c); /* RFC 5961's challenge */
		return false;
	}
	if (in->flags & F_SYN) {
		utcp_send_ack(c);
		return false;
	}
	if (!(in->flags & F_ACK))
		return false;
	if (!ack_in(c, in, !s->olen && !(in->flags & F_FIN), now) ||
	    c->state == UT_CLOSED)
		return false;

	if (s->olen && can_receive(c)) {
		cut = utcp_rseg_trim(s, c->rcv_adv);
		if (!xp_rx_hold(p, s->addr)) {
			/* its queue's frames are nearly all held: keep the
			 * fill ring going for everybody */
			c->ack_now = true;
			return false;
		}
		taken = true;
		switch (utcp_rcv_take(&c->rcv, s)) {
		case UTCP_TAKE_INORDER:
			c->ack_pending++;
			/* the first copy of each of its bytes, in order */
			*kept = !cut && in->seq == nxt0;
			ddgst_keep(c, s);
			break;
		case UTCP_TAKE_FILLED:
			c->ack_now = true;
			ddgst_keep(c, s);
			break;
		case UTCP_TAKE_OOO:
			ddgst_keep(c, s);
			c->st.ooo_segs++;
			c->ooo_last = s->seq + s->lo;
			utcp_send_ack(c); /* a duplicate ACK for each */
			break;
		case UTCP_TAKE_DUP:
			c->st.dup_segs++;
			utcp_send_ack(c);
			break;
		case UTCP_TAKE_FULL:
			c->ack_now = true;
			break;
		}
		c->st.rx_bytes += c->rcv.nxt - nxt0;
	}
	if (in->flags & F_FIN && !cut && can_receive(c)) {
		c->fin_seen = true;
		c->fin_seq = in->seq + s->olen;
	}
	fin_in(c);
	if (c->closing && c->rcv.bytes)
		utcp_rcv_discard(&c->rcv, c->rcv.bytes);
	return taken;
}

static void parse_opts(const __u8 *o, __u32 len, struct seg_in *in)
{
	__u32 i;

	while (len && o[0] != 0) {
		if (o[0] == 1) {
			o++;
			len--;
			continue;
		}
		if (len < 2 || o[1] < 2 || o[1] > len)
			break;
		if (o[0] == 2 && o[1] == 4)
			in->opt_mss = get16(o + 2);
		if (o[0] == 3 && o[1] == 3)
			in->opt_ws = o[2];
		if (o[0] == 4 && o[1] == 2)
			in->opt_sack_ok = true;
		for (i = 0; o[0] == 5 && i < (o[1] - 2u) / 8 && i < 4; i++) {
			in->sack[i][0] = get32(o + 2 + 8 * i);
			in->sack[i][1] = get32(o + 6 + 8 * i);
			in->nsack = i + 1;
		}
		len -= o[1];
		o += o[1];
	}
}

static struct utcp_conn *lookup(struct utcp_port *up,
				const struct in6_addr *saddr,
				const struct in6_addr *daddr, const __u8 *th)
{
	struct utcp_conn *c;

	for (c = up->conns; c; c = c->next)
		if (!memcmp(&c->raddr, saddr, 16) &&
		    !memcmp(&c->laddr, daddr, 16) &&
		    !memcmp(&c->rport, th, 2) && !memcmp(&c->lport, th + 2, 2))
			return c;
	return NULL;
}

/* The frame's IP header: its length, the bytes it says follow it (TCP
 * header and payload), its addresses (IPv4 IPv4-mapped); false if it is
 * not TCP in IPv4 or IPv6 without extension headers, or is malformed. */
static bool ip_in(const __u8 *pkt, __u32 len, __u32 *ihl, __u32 *tlen,
		  struct in6_addr *saddr, struct in6_addr *daddr)
{
	const __u8 *ip = pkt + ETH_LEN;
	struct iphdr ip4;

	if (get16(pkt + 12) == 0x86dd) {
		if (len < ETH_LEN + 40 + 20 || ip[0] >> 4 != 6 ||
		    ip[6] != IPPROTO_TCP)
			return false;
		*ihl = 40;
		*tlen = get16(ip + 4);
		memcpy(saddr, ip + 8, 16);
		memcpy(daddr, ip + 24, 16);
		return true;
	}
	if (len < ETH_LEN + 20 + 20 || get16(pkt + 12) != 0x0800)
		return false;
	memcpy(&ip4, ip, 20);
	*ihl = ip4.ihl * 4;
	if (ip4.version != 4 || *ihl < 20 || ip4.protocol != IPPROTO_TCP ||
	    ETH_LEN + *ihl + 20 > len || ntohs(ip4.tot_len) < *ihl ||
	    ntohs(ip4.frag_off) & (IP_MF | IP_OFFMASK) ||
	    utcp_csum_fold(utcp_csum_add(0, ip, *ihl)))
		return false;
	*tlen = ntohs(ip4.tot_len) - *ihl;
	ddp_addr_v4mapped(saddr->s6_addr, ip4.saddr);
	ddp_addr_v4mapped(daddr->s6_addr, ip4.daddr);
	return true;
}

static void rx_frame(struct utcp_port *up, const struct xdp_desc *d, __u64 now)
{
	struct xsk_port *p = up->xp;
	__u8 *pkt = p->mem + d->addr;
	struct seg_in in = { .opt_ws = -1 };
	struct utcp_rseg s = { 0 };
	const struct ddp_meta *m = NULL;
	struct in6_addr saddr, daddr;
	struct utcp_conn *c;
	__u32 ihl, thl, tlen, flen, i;
	bool kept = false, taken = false;
	const __u8 *th;

	if (!ip_in(pkt, d->len, &ihl, &tlen, &saddr, &daddr))
		goto release;
	th = pkt + ETH_LEN + ihl;
	thl = (th[12] >> 4) * 4;
	if (thl < 20 || thl > tlen || ETH_LEN + ihl + thl > d->len)
		goto release;
	c = lookup(up, &saddr, &daddr, th);
	if (!c)
		goto release;
	/* the payload as sent: a compacted frame is shorter than that */
	s.olen = tlen - thl;
	s.seq = get32(th + 4);
	flen = d->len - ETH_LEN - ihl - thl;
	if ((d->addr & (XSK_FRAME - 1)) == XSK_RX_HEADROOM) {
		m = (const struct ddp_meta *)(pkt - sizeof(*m));
		if (m->magic != DDP_META_MAGIC)
			m = NULL;
	}
	if (m) {
		s.nr = m->nr;
		s.compact = !!(m->flags & DDP_META_COMPACT);
		memcpy(s.r, m->r, sizeof(s.r));
		s.verdict = m->ddgst;
		s.vend = m->ddgst_end;
		if (s.compact)
			c->st.compacted++;
		else
			for (i = 0; i < s.nr && i < DDP_META_RANGES; i++)
				c->st.placed_uncut += s.r[i].len;
	}
	if (!m || !(m->flags & DDP_META_CSUM)) {
		/* nobody can check a compacted frame any more */
		if (s.compact) {
			c->st.csum_bad++;
			goto drop;
		}
		if (flen < s.olen) {
			c->st.bad_frames++;
			goto drop;
		}
		if (utcp_tcp_csum(utcp_ip(c, &saddr), utcp_ip(c, &daddr), c->v6,
				  th, thl + s.olen)) {
			c->st.csum_bad++;
			goto drop;
		}
	}
	s.addr = d->addr + ETH_LEN + ihl + thl;
	s.hi = s.olen;
	if (utcp_rseg_check(&s, flen)) {
		c->st.bad_frames++;
		goto drop;
	}
	in.seq = s.seq;
	in.ack = get32(th + 8);
	in.flags = th[13];
	in.win = get16(th + 14);
	parse_opts(th + 20, thl - 20, &in);
	taken = conn_input(c, &in, &s, now, &kept);
drop:
	/* Anything but the first copy of new bytes, in order: a copy of
	 * them will come again, or came before, or the bytes before them
	 * will (the first copy may have been lost after the engine saw it,
	 * the socket's ring full); which copy the engine judged is unknown */
	if (!kept && s.olen)
		ddgst_taint(c, s.seq + s.olen);
	if (taken)
		return;
release: /* not IPv4/TCP, malformed, or no longer ours */
	xp_rx_put(p, d->addr);
}

/* A batch of queue q's frames; how many */
static __u32 rx_batch(struct utcp_port *up, __u32 q, __u64 now)
{
	struct xsk_port *p = up->xp;
	__u32 n, idx, i;

	n = xp_rx_peek(p, q, 64, &idx);
	for (i = 0; i < n; i++) {
		/* the kernel wrote the frames on another CPU: fetch the
		 * metadata and headers a few frames ahead */
		if (i + 4 < n) {
			const __u8 *f =
				p->mem + xp_rx_desc(p, q, idx + i + 4)->addr;

			__builtin_prefetch(f - sizeof(struct ddp_meta));
			__builtin_prefetch(f + 64);
		}
		rx_frame(up, xp_rx_desc(p, q, idx + i), now);
	}
	if (n)
		xp_rx_release(p, q, n);
	return n;
}

int utcp_port_run(struct utcp_port *up)
{
	struct xsk_port *p = up->xp;
	struct utcp_conn *c;
	__u32 n, q, rounds;
	__u64 now = now_us();

	xp_flush(p);
	/* a batch of each queue, then ACKs for them (as GRO would make
	 * them) and the timers; with no frame at all, the timers alone */
	for (rounds = 0; rounds < 8; rounds++) {
		for (n = 0, q = 0; q < p->nq; q++)
			n += rx_batch(up, q, now);
		if (!n && rounds)
			break;
		for (c = up->conns; c; c = c->next)
			utcp_tick(c, now);
		xp_flush(p);
	}
	return 0;
}
