// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pkt.c - the test packet builder. */
#include <string.h>
#include <arpa/inet.h>
#include "pkt.h"

static const __u8 mac_r[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const __u8 mac_l[6] = { 0x02, 0, 0, 0, 0, 0x02 };

void pkt_flow_init(struct pkt_flow *fl, int v6, __u16 rport, __u16 lport)
{
	memset(fl, 0, sizeof(*fl));
	fl->v6 = v6;
	fl->rport = rport;
	fl->lport = lport;
	if (v6) {
		inet_pton(AF_INET6, "2001:db8::1", fl->raddr);
		inet_pton(AF_INET6, "2001:db8::2", fl->laddr);
	} else {
		fl->raddr[10] = fl->raddr[11] = 0xff;
		fl->laddr[10] = fl->laddr[11] = 0xff;
		inet_pton(AF_INET, "192.0.2.1", &fl->raddr[12]);
		inet_pton(AF_INET, "192.0.2.2", &fl->laddr[12]);
	}
}

void pkt_flow_key(const struct pkt_flow *fl, struct ddp_flow_key *key)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->raddr, fl->raddr, 16);
	memcpy(key->laddr, fl->laddr, 16);
	key->rport = htons(fl->rport);
	key->lport = htons(fl->lport);
}

static __u32 csum_add(__u32 sum, const void *p, size_t len)
{
	const __u8 *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/* Ethernet (+VLAN) header; returns its length. */
static size_t put_l2(const struct pkt_flow *fl, __u8 *out)
{
	size_t off = 12;
	__u16 proto = htons(fl->v6 ? 0x86DD : 0x0800);

	memcpy(out, mac_l, 6);
	memcpy(out + 6, mac_r, 6);
	if (fl->vlan) {
		__u16 tpid = htons(0x8100), tci = htons(fl->vlan);

		memcpy(out + off, &tpid, 2);
		memcpy(out + off + 2, &tci, 2);
		off += 4;
	}
	memcpy(out + off, &proto, 2);
	return off + 2;
}

/* IP header (and IPv6 extension headers) for an l4 of l4_len bytes;
 * returns its length. */
static size_t put_l3(const struct pkt_flow *fl, __u8 proto, size_t l4_len,
		     __u8 *out)
{
	if (fl->v6) {
		__u32 vtc = htonl(6u << 28);
		__u16 plen = htons(fl->ip6_dstopts + l4_len);
		__u8 *x = out + 40;

		memcpy(out, &vtc, 4);
		memcpy(out + 4, &plen, 2);
		out[6] = fl->ip6_dstopts ? 60 : proto;
		out[7] = 64;
		memcpy(out + 8, fl->raddr, 16);
		memcpy(out + 24, fl->laddr, 16);
		if (fl->ip6_dstopts) {
			/* next header, length in 8 bytes less one, PadN */
			memset(x, 0, fl->ip6_dstopts);
			x[0] = proto;
			x[1] = fl->ip6_dstopts / 8 - 1;
			x[2] = 1;
			x[3] = fl->ip6_dstopts - 4;
		}
		return 40 + fl->ip6_dstopts;
	}
	__u16 tot = htons(20 + l4_len), sum;

	memset(out, 0, 20);
	out[0] = 0x45;
	memcpy(out + 2, &tot, 2);
	out[6] = 0x40; /* DF */
	out[8] = 64;
	out[9] = proto;
	memcpy(out + 12, &fl->raddr[12], 4);
	memcpy(out + 16, &fl->laddr[12], 4);
	sum = csum_fold(csum_add(0, out, 20));
	memcpy(out + 10, &sum, 2);
	return 20;
}

static __u32 pseudo_sum(const struct pkt_flow *fl, __u8 proto, size_t l4_len)
{
	__u32 sum = proto + l4_len;

	if (fl->v6)
		return csum_add(csum_add(sum, fl->raddr, 16), fl->laddr, 16);
	return csum_add(csum_add(sum, &fl->raddr[12], 4), &fl->laddr[12], 4);
}

size_t pkt_build(const struct pkt_flow *fl, __u32 seq, const void *payload,
		 size_t len, __u8 *out)
{
	size_t l2 = put_l2(fl, out), thl = 20 + fl->tcp_opt_len, l3;
	__u8 *th;
	__u32 nseq = htonl(seq), ack = htonl(1);
	__u16 sport = htons(fl->rport), dport = htons(fl->lport);
	__u16 win = htons(512), sum;
	size_t i;

	l3 = put_l3(fl, 6, thl + len, out + l2);
	th = out + l2 + l3;
	memset(th, 0, thl);
	memcpy(th, &sport, 2);
	memcpy(th + 2, &dport, 2);
	memcpy(th + 4, &nseq, 4);
	memcpy(th + 8, &ack, 4);
	th[12] = (thl / 4) << 4;
	th[13] = 0x18; /* PSH ACK */
	memcpy(th + 14, &win, 2);
	/* options: NOPs, then a timestamp in the last 10 bytes if room */
	for (i = 20; i < thl; i++)
		th[i] = 1;
	if (fl->tcp_opt_len >= 12) {
		th[thl - 10] = 8;
		th[thl - 9] = 10;
	}
	memcpy(th + thl, payload, len);
	if (fl->csum == PKT_CSUM_PARTIAL)
		/* ~csum_fold(): the sum before it is inverted */
		sum = ~csum_fold(pseudo_sum(fl, 6, thl + len)) & 0xffff;
	else
		sum = csum_fold(csum_add(pseudo_sum(fl, 6, thl + len), th,
					 thl + len)) ^
		      (fl->csum == PKT_CSUM_WRONG ? 0x0100 : 0);
	memcpy(th + 16, &sum, 2);
	return l2 + l3 + thl + len;
}

int pkt_tcp_csum_ok(const struct pkt_flow *fl, const __u8 *frame, size_t len)
{
	size_t l4 = (fl->vlan ? 18 : 14) + (fl->v6 ? 40 + fl->ip6_dstopts : 20);

	return csum_fold(csum_add(pseudo_sum(fl, 6, len - l4), frame + l4,
				  len - l4)) == 0;
}

size_t pkt_build_ip(const struct pkt_flow *fl, __u8 proto, const void *payload,
		    size_t len, __u8 *out)
{
	size_t l2 = put_l2(fl, out), l3 = put_l3(fl, proto, len, out + l2);

	memcpy(out + l2 + l3, payload, len);
	return l2 + l3 + len;
}

size_t pkt_fragment(const struct pkt_flow *fl, const __u8 *frame, size_t len,
		    size_t at, __u8 *out1, __u8 *out2, size_t *len2)
{
	size_t l2 = fl->vlan ? 18 : 14, hl = fl->v6 ? 40 : 20;
	size_t pay = len - l2 - hl, rest = pay - at, fh = fl->v6 ? 8 : 0;
	__u8 *h;
	__u16 v, sum;
	int k;

	for (k = 0; k < 2; k++) {
		__u8 *o = k ? out2 : out1;
		size_t n = k ? rest : at, from = k ? at : 0;

		memcpy(o, frame, l2 + hl);
		memcpy(o + l2 + hl + fh, frame + l2 + hl + from, n);
		h = o + l2;
		if (fl->v6) {
			/* a fragment header: next, 0, offset|M, id */
			__u8 *f = h + 40;

			f[0] = h[6];
			f[1] = 0;
			v = htons(from | !k);
			memcpy(f + 2, &v, 2);
			memcpy(f + 4, "\0\0\0\x2a", 4);
			h[6] = 44;
			v = htons(fh + n);
			memcpy(h + 4, &v, 2);
		} else {
			v = htons(hl + n);
			memcpy(h + 2, &v, 2);
			v = htons((from / 8) | (k ? 0 : 0x2000));
			memcpy(h + 6, &v, 2);
			memset(h + 10, 0, 2);
			sum = csum_fold(csum_add(0, h, 20));
			memcpy(h + 10, &sum, 2);
		}
	}
	*len2 = l2 + hl + fh + rest;
	return l2 + hl + fh + at;
}

size_t pkt_build_udp(const struct pkt_flow *fl, const void *payload, size_t len,
		     __u8 *out)
{
	size_t l2 = put_l2(fl, out), l3 = put_l3(fl, 17, 8 + len, out + l2);
	__u8 *uh = out + l2 + l3;
	__u16 sport = htons(fl->rport), dport = htons(fl->lport);
	__u16 ulen = htons(8 + len);

	memcpy(uh, &sport, 2);
	memcpy(uh + 2, &dport, 2);
	memcpy(uh + 4, &ulen, 2);
	memset(uh + 6, 0, 2);
	memcpy(uh + 8, payload, len);
	return l2 + l3 + 8 + len;
}
