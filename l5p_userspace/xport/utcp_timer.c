// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * utcp_timer.c - a connection's timers (RFC 9293 3.10.8): RTT samples and
 * the RFC 6298 retransmission timeout with backoff, the zero-window probe,
 * tail loss probes, the delayed ACK; and the wait for frames until the
 * next one is due.
 */
#include <errno.h>
#include "utcp_priv.h"

/* ---- Timers -------------------------------------------------------------- */

void utcp_rtt_sample(struct utcp_conn *c, __u64 now)
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
			utcp_send_ctl(c, c->snd_max, F_RST | F_ACK);
		utcp_reset(c, -ETIMEDOUT);
		return;
	}
	c->rto = MIN(c->rto * 2, RTO_MAX_US);
	if (!flight && c->state != UT_SYN_SENT) {
		/* persist: probe the zero window with the next segment */
		t = seg_at(c, c->snxt);
		if (c->snxt < c->nsegs && !utcp_seg_xmit(c, t)) {
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
	utcp_output(c, now);
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
	if (utcp_seg_xmit(c, t))
		return;
	c->tlp_sent = true;
	c->rtt_on = false;
	c->st.retransmits++;
	c->st.probes++;
}

void utcp_tick(struct utcp_conn *c, __u64 now)
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
	utcp_output(c, now); /* data takes the ACK along */
	/* a probe well before the RTO: a lost tail, or a receiver that
	 * holds its ACKs (Linux may for 200 ms), costs 2 RTT, not an RTO */
	if (!c->tlp_at && !c->tlp_sent && !c->recovery && c->srtt &&
	    c->snd_una != c->snd_max && c->state != UT_SYN_SENT)
		c->tlp_at = now + MAX(2ull * c->srtt, 10000);
	if (c->state == UT_SYN_SENT)
		return;
	if (c->ack_now || c->ack_pending >= 2)
		utcp_send_ack(c);
	else if (c->ack_pending && !c->dack_at)
		c->dack_at = now + c->lim.ack_delay_ms * 1000ull;
}

/* Wait for frames, at most until the next timer or deadline (us) */
void utcp_port_wait(struct utcp_port *up, __u64 deadline)
{
	__u64 now = now_us(), t = now + 1000000;
	struct xsk_port *p = up->xp;
	struct utcp_conn *c;

	for (c = up->conns; c; c = c->next) {
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
	if (p->tx_queued || p->tx_nfree <= XSK_TX_RESERVE)
		t = MIN(t, now + 1000);
	xp_wait(p, t > now ? (int)((t - now + 999) / 1000) : 0);
}
