// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * utcp.c - the host's TCP over an xsk_port: active open with MSS,
 * window scaling and SACK, reassembly in the received frames, delayed
 * ACKs, the RFC 6298 retransmission timer, fast retransmit and recovery
 * (SACK-based as RFC 6675 has it, NewReno (RFC 6582) without SACK) with
 * limited transmit (RFC 3042), FIN and RST.
 *
 * Received payload stays in its UMEM frame until read, described by a
 * struct utcp_rseg that carries the frame's placement metadata along, so
 * that every byte is delivered from exactly one frame and judged by that
 * frame's metadata. Segments sent stay in their TX frames until ACKed and
 * are retransmitted from there with their header brought up to date.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/random.h>
#include <sys/socket.h>
#include "libddp.h"
#include "utcp_priv.h"

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };

#define ETH_LEN 14
#define DATA_OFF (ETH_LEN + 20 + 20) /* payload of the segments we send */
#define SEGS_CAP 512 /* > snd_frames + SYN + FIN */
#define RTO_MAX_US 60000000u
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

enum ut_state {
	UT_CLOSED,
	UT_SYN_SENT,
	UT_ESTABLISHED,
	UT_FIN_WAIT_1,
	UT_FIN_WAIT_2,
	UT_CLOSING,
	UT_TIME_WAIT,
	UT_CLOSE_WAIT,
	UT_LAST_ACK,
};

/* A segment queued or in flight, in its TX frame */
struct tseg {
	__u32 frame;
	__u32 seq;
	__u16 len; /* payload */
	__u8 flags; /* F_SYN, F_FIN */
	__u8 sacked : 1; /* the peer has it (SACK) */
	__u8 resent : 1; /* retransmitted in this recovery */
	__u32 xno; /* number of its last transmission */
};

struct utcp_conn {
	struct xsk_port *p;
	struct utcp_conn *next;
	enum ut_state state;
	int err; /* -ECONNRESET, -ECONNREFUSED, -ETIMEDOUT */
	bool closing; /* utcp_close runs: what arrives is dropped */
	__be32 laddr, raddr;
	__be16 lport, rport;
	__u8 rmac[6];
	int resv_fd; /* holds the local port */
	__u32 flow_id;
	struct utcp_limits lim;

	/* send: segs[shead ..] from snd_una on; snxt is the first not sent
	 * since the last RTO went back */
	struct tseg segs[SEGS_CAP];
	__u32 shead, nsegs, snxt, ndata;
	__u32 iss, snd_una, snd_nxt, snd_max, snd_end;
	__u32 snd_wnd, snd_wl1, snd_wl2;
	__u8 snd_ws, rcv_ws;
	__u16 smss, rmss;
	__u32 cwnd, ssthresh, ca_acked, dupacks, recover;
	bool recovery;
	bool rexmit; /* the first unacknowledged segment is due again */
	bool sack_ok; /* both sides sent SACK-permitted */
	__u32 sack_hi; /* end of the highest block the peer SACKed */
	__u32 xno; /* transmissions */
	__u32 deliv_xno; /* the latest transmission SACKed */
	bool tlp_sent; /* a tail loss probe since the last new ACK */

	/* timers, in microseconds */
	__u32 srtt, rttvar, rto;
	bool rtt_on;
	__u32 rtt_seq;
	__u64 rtt_t0;
	__u32 retries;
	__u64 rto_at, dack_at, tlp_at;

	/* receive */
	struct utcp_rcv rcv;
	__u32 rcv_adv; /* right edge advertised: never moves back */
	__u32 syn_wnd;
	bool fin_seen, fin_rcvd;
	__u32 fin_seq;
	__u32 ack_pending; /* in-order segments not yet acknowledged */
	bool ack_now;
	__u32 ooo_last; /* the last segment kept out of order: its block
			 * goes first in SACK options */

	struct utcp_stats st;
};

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

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

static __u16 get16(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

static __u32 get32(const __u8 *b)
{
	return (__u32)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
}

static void put16(__u8 *b, __u16 v)
{
	b[0] = v >> 8;
	b[1] = v;
}

static void put32(__u8 *b, __u32 v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

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

__u16 utcp_tcp_csum(__be32 saddr, __be32 daddr, const void *tcp, size_t len)
{
	__u8 ph[12];
	__u64 sum;

	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	put16(ph + 10, len);
	sum = utcp_csum_add(0, ph, sizeof(ph));
	return utcp_csum_fold(utcp_csum_add(sum, tcp, len));
}

/* ---- The receive queue --------------------------------------------------- */

int utcp_rcv_init(struct utcp_rcv *r, __u32 cap, __u32 seq,
		  void (*release)(void *, __u64), void *arg)
{
	memset(r, 0, sizeof(*r));
	if (!cap || cap & (cap - 1))
		return -EINVAL;
	r->q = calloc(cap, sizeof(*r->q));
	r->ooo = calloc(cap, sizeof(*r->ooo));
	if (!r->q || !r->ooo) {
		free(r->q);
		free(r->ooo);
		return -ENOMEM;
	}
	r->cap = cap;
	r->nxt = r->read_seq = seq;
	r->release = release;
	r->arg = arg;
	return 0;
}

static struct utcp_rseg *rq_at(struct utcp_rcv *r, __u32 i)
{
	return &r->q[(r->head + i) & (r->cap - 1)];
}

void utcp_rcv_free(struct utcp_rcv *r)
{
	__u32 i;

	for (i = 0; i < r->n; i++)
		r->release(r->arg, rq_at(r, i)->addr);
	for (i = 0; i < r->nooo; i++)
		r->release(r->arg, r->ooo[i].addr);
	free(r->q);
	free(r->ooo);
	r->q = r->ooo = NULL;
	r->n = r->nooo = 0;
	r->bytes = 0;
}

int utcp_rseg_check(const struct utcp_rseg *s, __u32 flen)
{
	__u32 end = 0, placed = 0, i;

	if (s->nr > DDP_META_RANGES || s->lo > s->hi || s->hi > s->olen)
		return -EINVAL;
	for (i = 0; i < s->nr; i++) {
		if (!s->r[i].len || s->r[i].off < end ||
		    s->r[i].off + s->r[i].len > s->olen)
			return -EINVAL;
		end = s->r[i].off + s->r[i].len;
		placed += s->r[i].len;
	}
	if (s->compact && !s->nr)
		return -EINVAL;
	if (flen < s->olen - (s->compact ? placed : 0))
		return -EINVAL;
	return 0;
}

/* RFC 9293 3.10.7.4: what lies beyond the window is not kept. The frame
 * keeps its bytes; the segment is recorded as the shorter one the peer
 * could have sent, and the placed ranges as the part of them in it (in a
 * compacted frame, what comes before the edge does not move). */
bool utcp_rseg_trim(struct utcp_rseg *s, __u32 edge)
{
	__u32 end, i;

	if (!seq_gt(s->seq + s->hi, edge))
		return false;
	end = seq_gt(edge, s->seq + s->lo) ? edge - s->seq : s->lo;
	s->hi = s->olen = end;
	for (i = 0; i < s->nr && s->r[i].off < end; i++)
		s->r[i].len = MIN(s->r[i].len, end - s->r[i].off);
	s->nr = i;
	if (!s->nr)
		s->compact = 0; /* nothing before the edge was cut out */
	return true;
}

static __u32 rs_start(const struct utcp_rseg *s)
{
	return s->seq + s->lo;
}

static __u32 rs_end(const struct utcp_rseg *s)
{
	return s->seq + s->hi;
}

static void rq_push(struct utcp_rcv *r, const struct utcp_rseg *s)
{
	*rq_at(r, r->n++) = *s;
	r->nxt = rs_end(s);
	r->bytes += s->hi - s->lo;
}

static void ooo_remove(struct utcp_rcv *r, __u32 i)
{
	r->nooo--;
	memmove(r->ooo + i, r->ooo + i + 1, (r->nooo - i) * sizeof(*r->ooo));
}

enum utcp_take utcp_rcv_take(struct utcp_rcv *r, const struct utcp_rseg *in)
{
	struct utcp_rseg s = *in, o;
	enum utcp_take ret;
	__u32 i;

	if (s.lo >= s.hi || seq_leq(rs_end(&s), r->nxt))
		goto dup;
	if (seq_lt(rs_start(&s), r->nxt))
		s.lo += r->nxt - rs_start(&s);
	if (rs_start(&s) == r->nxt) {
		/* the segment the others wait for must get in: the last
		 * out-of-order one makes room, the peer sends it again */
		if (r->n + r->nooo >= r->cap && r->nooo)
			r->release(r->arg, r->ooo[--r->nooo].addr);
		if (r->n + r->nooo >= r->cap)
			goto full;
		ret = r->nooo ? UTCP_TAKE_FILLED : UTCP_TAKE_INORDER;
		rq_push(r, &s);
		while (r->nooo && seq_leq(rs_start(&r->ooo[0]), r->nxt)) {
			o = r->ooo[0];
			ooo_remove(r, 0);
			if (seq_leq(rs_end(&o), r->nxt)) {
				r->release(r->arg, o.addr);
				continue;
			}
			o.lo += r->nxt - rs_start(&o);
			rq_push(r, &o);
		}
		return ret;
	}

	if (r->n + r->nooo >= r->cap)
		goto full;
	/* after those starting at or before it; what they hold is cut */
	for (i = 0; i < r->nooo && seq_leq(rs_start(&r->ooo[i]), rs_start(&s));
	     i++)
		;
	if (i && seq_gt(rs_end(&r->ooo[i - 1]), rs_start(&s))) {
		if (seq_geq(rs_end(&r->ooo[i - 1]), rs_end(&s)))
			goto dup;
		s.lo += rs_end(&r->ooo[i - 1]) - rs_start(&s);
	}
	/* those it covers entirely go: its frame has their bytes */
	while (i < r->nooo && seq_leq(rs_end(&r->ooo[i]), rs_end(&s))) {
		r->release(r->arg, r->ooo[i].addr);
		ooo_remove(r, i);
	}
	if (i < r->nooo && seq_gt(rs_end(&s), rs_start(&r->ooo[i]))) {
		s.hi -= rs_end(&s) - rs_start(&r->ooo[i]);
		if (s.lo >= s.hi)
			goto dup;
	}
	memmove(r->ooo + i + 1, r->ooo + i, (r->nooo - i) * sizeof(s));
	r->ooo[i] = s;
	r->nooo++;
	return UTCP_TAKE_OOO;
dup:
	r->release(r->arg, in->addr);
	return UTCP_TAKE_DUP;
full:
	r->release(r->arg, in->addr);
	return UTCP_TAKE_FULL;
}

/* The run of s from payload offset o to at most end that is all placed
 * or all not; *foff: where an unplaced run is in the frame. */
static __u32 rs_run(const struct utcp_rseg *s, __u32 o, __u32 end, bool *placed,
		    __u32 *foff)
{
	__u32 cut = 0, i, a, b;

	for (i = 0; i < s->nr; i++) {
		a = s->r[i].off;
		b = a + s->r[i].len;
		if (o >= b) {
			cut += s->r[i].len;
			continue;
		}
		if (o >= a) {
			*placed = true;
			return MIN(b, end) - o;
		}
		end = MIN(a, end);
		break;
	}
	*placed = false;
	*foff = o - (s->compact ? cut : 0);
	return end - o;
}

/* Consume len bytes: copy the unplaced ones to dst (if any), count the
 * placed ones. */
static size_t rcv_consume(struct utcp_rcv *r, const __u8 *mem, __u8 *dst,
			  size_t len, __u64 *placed)
{
	struct utcp_rseg *s;
	size_t copied = 0;
	__u32 o, end, n, foff = 0;
	bool pl;

	while (len) {
		s = rq_at(r, 0);
		end = s->lo + MIN(len, (size_t)(s->hi - s->lo));
		for (o = s->lo; o < end; o += n) {
			n = rs_run(s, o, end, &pl, &foff);
			if (pl) {
				if (placed)
					*placed += n;
			} else if (dst) {
				memcpy(dst + o - s->lo, mem + s->addr + foff,
				       n);
				copied += n;
			}
		}
		n = end - s->lo;
		if (dst)
			dst += n;
		len -= n;
		r->bytes -= n;
		r->read_seq += n;
		s->lo = end;
		if (s->lo == s->hi) {
			r->release(r->arg, s->addr);
			r->head = (r->head + 1) & (r->cap - 1);
			r->n--;
		}
	}
	return copied;
}

ssize_t utcp_rcv_read(struct utcp_rcv *r, const __u8 *mem, __u8 *dst,
		      size_t len, bool data, __u64 *placed)
{
	struct utcp_rseg *s;
	__u32 i, o, end, n, foff;
	size_t left;
	bool pl;

	if (len > r->bytes)
		return -EINVAL;
	/* a copy must not miss bytes that are elsewhere: check first */
	for (i = 0, left = len; !data && left; i++) {
		s = rq_at(r, i);
		end = s->lo + MIN(left, (size_t)(s->hi - s->lo));
		for (o = s->lo; o < end; o += n) {
			n = rs_run(s, o, end, &pl, &foff);
			if (pl)
				return -EPROTO;
		}
		left -= end - s->lo;
	}
	return rcv_consume(r, mem, dst, len, placed);
}

void utcp_rcv_discard(struct utcp_rcv *r, size_t len)
{
	rcv_consume(r, NULL, NULL, len, NULL);
}

/* ---- Sending ------------------------------------------------------------- */

static struct tseg *seg_at(struct utcp_conn *c, __u32 i)
{
	return &c->segs[(c->shead + i) % SEGS_CAP];
}

static __u32 seg_end(const struct tseg *t)
{
	return t->seq + t->len + !!(t->flags & (F_SYN | F_FIN));
}

/* Frames the connection may still hold */
static __u32 rcv_room(const struct utcp_conn *c)
{
	__u32 held = utcp_rcv_held(&c->rcv);

	return held < c->lim.rcv_frames ? c->lim.rcv_frames - held : 0;
}

/* The window the peer was last told of, from rcv.nxt */
static __u32 adv_wnd(const struct utcp_conn *c)
{
	return seq_gt(c->rcv_adv, c->rcv.nxt) ? c->rcv_adv - c->rcv.nxt : 0;
}

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
	__u32 thl = flags & F_SYN ? 32 : 20;
	__u8 *th = f + ETH_LEN + 20;
	struct iphdr ip = { 0 };
	__u16 win, sum;

	if (!len && !(flags & F_SYN) && flags & F_ACK && c->sack_ok)
		thl += sack_opts(c, th + 20);

	memcpy(f, c->rmac, 6);
	memcpy(f + 6, p->mac, 6);
	put16(f + 12, 0x0800);
	ip.version = 4;
	ip.ihl = 5;
	ip.tot_len = htons(20 + thl + len);
	ip.id = htons(p->ip_id++);
	ip.frag_off = htons(IP_DF);
	ip.ttl = 64;
	ip.protocol = IPPROTO_TCP;
	ip.saddr = c->laddr;
	ip.daddr = c->raddr;
	ip.check = utcp_csum_fold(utcp_csum_add(0, &ip, 20));
	memcpy(f + ETH_LEN, &ip, 20);

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
	sum = utcp_tcp_csum(c->laddr, c->raddr, th, thl + len);
	memcpy(th + 16, &sum, 2);
	if (flags & F_ACK) {
		c->ack_pending = 0;
		c->ack_now = false;
		c->dack_at = 0;
	}
	c->st.tx_segs++;
	return ETH_LEN + 20 + thl + len;
}

/* A segment of its own (ACK, RST), in a frame freed once sent */
static void send_ctl(struct utcp_conn *c, __u32 seq, __u8 flags)
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

static void send_ack(struct utcp_conn *c)
{
	send_ctl(c, c->snd_nxt, F_ACK);
}

static int seg_xmit(struct utcp_conn *c, struct tseg *t)
{
	__u8 flags = t->flags;
	__u32 len;

	/* the kernel still has the frame from the last time */
	if (c->p->tx_state[t->frame] & UTCP_TXF_KERNEL)
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
		if (seg_xmit(c, t))
			break;
		resent(c, t);
		pipe += t->len + 1;
	}
	return pipe;
}

/* Send what the windows allow */
static void conn_output(struct utcp_conn *c, __u64 now)
{
	bool sack = c->recovery && c->sack_ok;
	__u32 wnd, end, pipe = 0;
	struct tseg *t;

	if (c->state == UT_CLOSED)
		return;
	if (c->rexmit && c->nsegs && !seg_xmit(c, seg_at(c, 0))) {
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
		if (seg_xmit(c, t))
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
static size_t queue_data(struct utcp_conn *c, const __u8 *b, size_t len)
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
	memcpy(xp_tx_ptr(c->p, t->frame) + DATA_OFF + t->len, b, room);
	t->len += room;
	c->snd_end += room;
	return room;
}

static int queue_ctl(struct utcp_conn *c, __u8 flags)
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

static void drop_send_queue(struct utcp_conn *c)
{
	while (c->nsegs) {
		xp_tx_put(c->p, seg_at(c, 0)->frame);
		c->shead = (c->shead + 1) % SEGS_CAP;
		c->nsegs--;
	}
	c->snxt = c->ndata = 0;
	c->rexmit = false;
}

/* The connection is over: the error is what its calls return now */
static void conn_reset(struct utcp_conn *c, int err)
{
	c->err = err;
	c->state = UT_CLOSED;
	drop_send_queue(c);
	c->rto_at = c->dack_at = c->tlp_at = 0;
	c->ack_now = false;
	c->ack_pending = 0;
}

/* ---- Timers -------------------------------------------------------------- */

static void rtt_sample(struct utcp_conn *c, __u64 now)
{
	__u32 r = MAX(now - c->rtt_t0, 1), d;

	if (!c->srtt) {
		c->srtt = r;
		c->rttvar = r / 2;
	} else {
		d = c->srtt > r ? c->srtt - r : r - c->srtt;
		c->rttvar = (3 * c->rttvar + d) / 4;
		c->srtt = (7 * c->srtt + r) / 8;
	}
	c->rto = c->srtt + MAX(1000u, 4 * c->rttvar);
	c->rto = MAX(c->rto, c->lim.rto_min_ms * 1000);
	c->rto = MIN(c->rto, RTO_MAX_US);
}

static void on_rto(struct utcp_conn *c, __u64 now)
{
	__u32 flight = c->snd_max - c->snd_una, i;
	struct tseg *t;

	if (c->state == UT_CLOSED || !c->nsegs)
		return;
	if (++c->retries >
	    (c->state == UT_SYN_SENT ? c->lim.syn_retries : c->lim.retries)) {
		if (c->state != UT_SYN_SENT)
			send_ctl(c, c->snd_max, F_RST | F_ACK);
		conn_reset(c, -ETIMEDOUT);
		return;
	}
	c->rto = MIN(c->rto * 2, RTO_MAX_US);
	if (!flight && c->state != UT_SYN_SENT) {
		/* persist: probe the zero window with the next segment */
		t = seg_at(c, c->snxt);
		if (c->snxt < c->nsegs && !seg_xmit(c, t)) {
			c->snd_nxt = seg_end(t);
			c->snd_max = c->snd_nxt;
			c->snxt++;
		}
		c->rto_at = now + c->rto;
		return;
	}
	if (c->state != UT_SYN_SENT) {
		c->ssthresh = MAX(flight / 2, 2u * c->smss);
		c->cwnd = c->smss;
		c->recovery = false;
		c->recover = c->snd_max;
		c->dupacks = 0;
		c->ca_acked = 0;
	}
	c->st.rto++;
	c->rtt_on = false;
	for (i = 0; i < c->nsegs; i++)
		seg_at(c, i)->resent = 0;
	/* go back: resend from the first unacknowledged segment */
	c->snd_nxt = c->snd_una;
	c->snxt = 0;
	c->rexmit = false;
	conn_output(c, now);
	if (!c->rto_at)
		c->rto_at = now + c->rto;
}

/* RFC 8985's tail loss probe: the last segment sent, again, asks for
 * an ACK at once (a duplicate is always acknowledged at once) */
static void tail_probe(struct utcp_conn *c)
{
	struct tseg *t;

	if (c->recovery || !c->snxt || c->snd_una == c->snd_max ||
	    c->state == UT_CLOSED || c->state == UT_SYN_SENT)
		return;
	t = seg_at(c, c->snxt - 1);
	if (seg_xmit(c, t))
		return;
	c->tlp_sent = true;
	c->rtt_on = false;
	c->st.retransmits++;
	c->st.probes++;
}

static void conn_tick(struct utcp_conn *c, __u64 now)
{
	if (c->dack_at && now >= c->dack_at) {
		c->dack_at = 0;
		c->ack_now = true;
	}
	if (c->rto_at && now >= c->rto_at) {
		c->rto_at = 0;
		on_rto(c, now);
	}
	if (c->tlp_at && now >= c->tlp_at) {
		c->tlp_at = 0;
		tail_probe(c);
	}
	if (c->state == UT_CLOSED)
		return;
	conn_output(c, now); /* data takes the ACK along */
	/* a probe well before the RTO: a lost tail, or a receiver that
	 * holds its ACKs (Linux may for 200 ms), costs 2 RTT, not an RTO */
	if (!c->tlp_at && !c->tlp_sent && !c->recovery && c->srtt &&
	    c->snd_una != c->snd_max && c->state != UT_SYN_SENT)
		c->tlp_at = now + MAX(2ull * c->srtt, 10000);
	if (c->state == UT_SYN_SENT)
		return;
	if (c->ack_now || c->ack_pending >= 2)
		send_ack(c);
	else if (c->ack_pending && !c->dack_at)
		c->dack_at = now + c->lim.ack_delay_ms * 1000ull;
}

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
		send_ack(c);
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
		rtt_sample(c, now);
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
			send_ctl(c, in->ack, F_RST);
		return;
	}
	if (in->flags & F_RST) {
		if (in->flags & F_ACK)
			conn_reset(c, -ECONNREFUSED);
		return;
	}
	if ((in->flags & (F_SYN | F_ACK)) != (F_SYN | F_ACK))
		return;
	c->st.rx_segs++;
	c->rcv.nxt = c->rcv.read_seq = in->seq + 1;
	mss = in->opt_mss ? in->opt_mss : 536;
	c->smss = MIN(mss, c->p->mtu - 40);
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
		rtt_sample(c, now);
	c->rtt_on = false;
	c->retries = 0;
	c->rto_at = 0;
	/* RFC 6928's initial window */
	c->cwnd = MIN(10u * c->smss, MAX(2u * c->smss, 14600u));
	c->ssthresh = 1u << 30;
	c->state = UT_ESTABLISHED;
	send_ack(c);
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

static void rcv_release(void *arg, __u64 addr)
{
	struct xsk_port *p = arg;

	xp_rx_put(p, addr);
	p->rx_held--;
}

/* Returns true if the frame went to the receive queue (kept or freed
 * there), false if the caller frees it. */
static bool conn_input(struct utcp_conn *c, const struct seg_in *in,
		       struct utcp_rseg *s, __u64 now)
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
			send_ack(c);
		}
		return false;
	}
	if (in->flags & F_RST) {
		if (in->seq == c->rcv.nxt)
			conn_reset(c, -ECONNRESET);
		else
			send_ack(c); /* RFC 5961's challenge */
		return false;
	}
	if (in->flags & F_SYN) {
		send_ack(c);
		return false;
	}
	if (!(in->flags & F_ACK))
		return false;
	if (!ack_in(c, in, !s->olen && !(in->flags & F_FIN), now) ||
	    c->state == UT_CLOSED)
		return false;

	if (s->olen && can_receive(c)) {
		cut = utcp_rseg_trim(s, c->rcv_adv);
		if (p->rx_held + 64 >= p->nrx) {
			/* the port's frames are nearly all held: keep the
			 * fill ring going for everybody */
			c->ack_now = true;
			return false;
		}
		p->rx_held++;
		taken = true;
		switch (utcp_rcv_take(&c->rcv, s)) {
		case UTCP_TAKE_INORDER:
			c->ack_pending++;
			break;
		case UTCP_TAKE_FILLED:
			c->ack_now = true;
			break;
		case UTCP_TAKE_OOO:
			c->st.ooo_segs++;
			c->ooo_last = s->seq + s->lo;
			send_ack(c); /* a duplicate ACK for each */
			break;
		case UTCP_TAKE_DUP:
			c->st.dup_segs++;
			send_ack(c);
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

static struct utcp_conn *lookup(struct xsk_port *p, __be32 saddr, __be32 daddr,
				const __u8 *th)
{
	struct utcp_conn *c;

	for (c = p->conns; c; c = c->next)
		if (c->raddr == saddr && c->laddr == daddr &&
		    !memcmp(&c->rport, th, 2) && !memcmp(&c->lport, th + 2, 2))
			return c;
	return NULL;
}

static void rx_frame(struct xsk_port *p, const struct xdp_desc *d, __u64 now)
{
	__u8 *pkt = p->mem + d->addr;
	struct seg_in in = { .opt_ws = -1 };
	struct utcp_rseg s = { 0 };
	const struct ddp_meta *m = NULL;
	struct utcp_conn *c;
	struct iphdr ip;
	__u32 ihl, thl, tot, flen, i;
	const __u8 *th;

	if (d->len < ETH_LEN + 40 || get16(pkt + 12) != 0x0800)
		goto release;
	memcpy(&ip, pkt + ETH_LEN, 20);
	ihl = ip.ihl * 4;
	tot = ntohs(ip.tot_len);
	if (ip.version != 4 || ihl < 20 || ip.protocol != IPPROTO_TCP ||
	    ETH_LEN + ihl + 20 > d->len ||
	    ntohs(ip.frag_off) & (IP_MF | IP_OFFMASK) ||
	    utcp_csum_fold(utcp_csum_add(0, pkt + ETH_LEN, ihl)))
		goto release;
	th = pkt + ETH_LEN + ihl;
	thl = (th[12] >> 4) * 4;
	if (thl < 20 || ihl + thl > tot || ETH_LEN + ihl + thl > d->len)
		goto release;
	c = lookup(p, ip.saddr, ip.daddr, th);
	if (!c)
		goto release;
	/* the payload as sent: a compacted frame is shorter than that */
	s.olen = tot - ihl - thl;
	flen = d->len - ETH_LEN - ihl - thl;
	if ((d->addr & (UTCP_FRAME - 1)) == UTCP_RX_HEADROOM) {
		m = (const struct ddp_meta *)(pkt - sizeof(*m));
		if (m->magic != DDP_META_MAGIC)
			m = NULL;
	}
	if (m) {
		s.nr = m->nr;
		s.compact = !!(m->flags & DDP_META_COMPACT);
		memcpy(s.r, m->r, sizeof(s.r));
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
			goto release;
		}
		if (flen < s.olen) {
			c->st.bad_frames++;
			goto release;
		}
		if (utcp_tcp_csum(ip.saddr, ip.daddr, th, thl + s.olen)) {
			c->st.csum_bad++;
			goto release;
		}
	}
	s.addr = d->addr + ETH_LEN + ihl + thl;
	s.seq = get32(th + 4);
	s.hi = s.olen;
	if (utcp_rseg_check(&s, flen)) {
		c->st.bad_frames++;
		goto release;
	}
	in.seq = s.seq;
	in.ack = get32(th + 8);
	in.flags = th[13];
	in.win = get16(th + 14);
	parse_opts(th + 20, thl - 20, &in);
	if (conn_input(c, &in, &s, now))
		return;
release: /* not IPv4/TCP, malformed, or no longer ours */
	xp_rx_put(p, d->addr);
}

int utcp_port_run(struct xsk_port *p)
{
	struct utcp_conn *c;
	__u32 n, idx, i, rounds;
	__u64 now = now_us();

	xp_flush(p);
	/* a batch, then ACKs for it (as GRO would make them) and the timers;
	 * with no frame at all, the timers alone */
	for (rounds = 0; rounds < 8; rounds++) {
		n = xp_rx_peek(p, 64, &idx);
		if (!n && rounds)
			break;
		for (i = 0; i < n; i++) {
			/* the kernel wrote the frames on another CPU: fetch
			 * the metadata and headers a few frames ahead */
			if (i + 4 < n) {
				const __u8 *f =
					p->mem + xsk_ring_cons__rx_desc(
							 &p->rx, idx + i + 4)
							 ->addr;

				__builtin_prefetch(f - sizeof(struct ddp_meta));
				__builtin_prefetch(f + 64);
			}
			rx_frame(p, xsk_ring_cons__rx_desc(&p->rx, idx + i),
				 now);
		}
		xp_rx_release(p, n);
		for (c = p->conns; c; c = c->next)
			conn_tick(c, now);
		xp_flush(p);
	}
	return 0;
}

/* Wait for frames, at most until the next timer or deadline (us) */
static void port_wait(struct xsk_port *p, __u64 deadline)
{
	__u64 now = now_us(), t = now + 1000000;
	struct utcp_conn *c;

	for (c = p->conns; c; c = c->next) {
		if (c->rto_at && c->rto_at < t)
			t = c->rto_at;
		if (c->dack_at && c->dack_at < t)
			t = c->dack_at;
		if (c->tlp_at && c->tlp_at < t)
			t = c->tlp_at;
	}
	if (deadline && deadline < t)
		t = deadline;
	/* sent frames come back without a wakeup */
	if (p->tx_queued || p->tx_nfree <= UTCP_TX_RESERVE)
		t = MIN(t, now + 1000);
	xp_wait(p, t > now ? (int)((t - now + 999) / 1000) : 0);
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
		return utcp_fail(err, errlen, -errno,
				 "UDP socket for routing: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p->ifname,
		       strlen(p->ifname) + 1)) {
		ret = utcp_fail(err, errlen, -errno,
				"binding a UDP socket to '%s': %s", p->ifname,
				strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = utcp_fail(err, errlen, -errno,
				"no route to %s through '%s': %s", ra,
				p->ifname, strerror(errno));
		goto out;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		ret = utcp_fail(err, errlen, -errno,
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
	ret = utcp_fail(
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
		return utcp_fail(err, errlen, -errno,
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

	for (pp = &c->p->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
}

/* Lock held */
static void conn_free(struct utcp_conn *c)
{
	conn_unlink(c);
	drop_send_queue(c);
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

int utcp_connect(struct xsk_port *p, const char *raddr, __u16 rport,
		 struct utcp_conn **out, char *err, size_t errlen)
{
	struct ddp_sk_config cfg = { .queue_size = 1, .flags = DDP_SK_XSK };
	char la[INET_ADDRSTRLEN];
	struct ddp_flow_key key;
	struct utcp_conn *c;
	struct in_addr ra;
	__u32 max_wnd;
	int ret;

	*out = NULL;
	if (inet_pton(AF_INET, raddr, &ra) != 1)
		return utcp_fail(
			err, errlen, -EINVAL,
			"'%s' is not an IPv4 address (utcp is IPv4 only)",
			raddr);
	c = calloc(1, sizeof(*c));
	if (!c)
		return utcp_fail(err, errlen, -ENOMEM, "out of memory");
	c->p = p;
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
		ret = utcp_fail(
			err, errlen, ret,
			"steering %s:%u -> %s:%u to the AF_XDP socket (ddp_sk_add): %s",
			raddr, rport, la, ntohs(c->lport), ddp_errmsg(p->dev));
		goto err_free;
	}

	pthread_mutex_lock(&p->lock);
	c->lim = p->lim;
	ret = utcp_rcv_init(&c->rcv, pow2_at_least(2 * c->lim.rcv_frames), 0,
			    rcv_release, p);
	if (ret) {
		pthread_mutex_unlock(&p->lock);
		ret = utcp_fail(err, errlen, ret, "out of memory");
		goto err_free;
	}
	c->rmss = MIN(p->mtu - 40,
		      UTCP_FRAME - UTCP_RX_HEADROOM - ETH_LEN - 60 - 40);
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
	c->next = p->conns;
	p->conns = c;
	c->state = UT_SYN_SENT;
	if (queue_ctl(c, F_SYN)) {
		ret = utcp_fail(err, errlen, -ENOBUFS,
				"no TX frame for the SYN");
		goto err_unlock;
	}
	while (c->state == UT_SYN_SENT) {
		utcp_port_run(p);
		if (c->state != UT_SYN_SENT)
			break;
		port_wait(p, 0);
	}
	if (c->err == -ECONNREFUSED) {
		ret = utcp_fail(
			err, errlen, c->err,
			"connecting to %s:%u from %s:%u on '%s': refused (the peer answered RST)",
			raddr, rport, la, ntohs(c->lport), p->ifname);
		goto err_unlock;
	} else if (c->err) {
		ret = utcp_fail(
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
		if (!queue_ctl(c, F_FIN))
			c->state = c->state == UT_ESTABLISHED ? UT_FIN_WAIT_1 :
								UT_LAST_ACK;
	}
	while (fin_pending(c) && now_us() < deadline) {
		utcp_port_run(p);
		if (!fin_pending(c))
			break;
		port_wait(p, deadline);
	}
	/* the peer stays silent, or we had no frame for the FIN */
	if (c->state != UT_CLOSED && c->state != UT_TIME_WAIT)
		send_ctl(c, c->snd_max, F_RST | F_ACK);
	conn_free(c);
	xp_flush(p);
	pthread_mutex_unlock(&p->lock);
}

void utcp_port_abort(struct xsk_port *p)
{
	struct utcp_conn *c;

	while ((c = p->conns)) {
		if (c->state != UT_CLOSED && c->state != UT_SYN_SENT &&
		    c->state != UT_TIME_WAIT)
			send_ctl(c, c->snd_max, F_RST | F_ACK);
		conn_free(c);
	}
	xp_flush(p);
}

/* ---- Sending and receiving ----------------------------------------------- */

int utcp_send(struct utcp_conn *c, const struct iovec *iov, int n)
{
	struct xsk_port *p = c->p;
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
			m = queue_data(c, b, left);
			if (!m) {
				/* all frames in flight: ACKs free them */
				utcp_port_run(p);
				m = queue_data(c, b, left);
			}
			if (!m) {
				port_wait(p, 0);
				continue;
			}
			b += m;
			left -= m;
			/* a full segment may leave at once */
			if (seg_at(c, c->nsegs - 1)->len == c->smss) {
				conn_output(c, now_us());
				xp_flush(p);
			}
		}
	}
	if (!ret) {
		conn_output(c, now_us());
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
		send_ack(c);
		xp_flush(c->p);
	}
}

/* Bytes are taken as they come, not once all of len is there: a read
 * (a PDU's data) may be larger than the window, which only reading
 * opens again. */
static ssize_t conn_read(struct utcp_conn *c, void *dst, size_t len, bool data)
{
	struct xsk_port *p = c->p;
	__u64 placed, skipped = 0;
	size_t done = 0, n;
	ssize_t ret = 0;

	pthread_mutex_lock(&p->lock);
	while (done < len) {
		/* the port only when what is queued does not do (its ACKs
		 * and timers run there, at least once per batch) */
		if (c->rcv.bytes < len - done)
			utcp_port_run(p);
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
		port_wait(p, 0);
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
		utcp_port_run(c->p);
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
		utcp_port_run(p);
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
			port_wait(p, deadline);
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
