/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_parse.h - Ethernet, VLAN, IPv4, IPv6 and TCP parsing.
 *
 * Contract: ddp_parse() returns 0 and fills struct ddp_pkt for a TCP
 * segment whose remote port has offloaded flows, or a negative value for
 * anything else, which the caller passes untouched. It reads the packet
 * only: it never changes it.
 */
#ifndef DDP_PARSE_H
#define DDP_PARSE_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IPPROTO_TCP 6
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

struct ddp_pkt {
	struct ddp_flow_key key;
	__u32 seq;
	__u32 pay_off; /* TCP payload: offset from the frame's start */
	__u32 pay_len;
	__u32 l4_off; /* TCP header: offset from the frame's start */
	__u32 l4_len; /* TCP header and payload */
	__u8 v6;
};

struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
};

/* Looks the remote port up first: most TCP traffic stops here. */
static __always_inline int ddp_port_offloaded(__be16 port)
{
	__u32 key = bpf_ntohs(port);
	__u32 *n = bpf_map_lookup_elem(&ddp_ports, &key);

	return n && *n;
}

static __always_inline int ddp_parse_tcp(void *data, void *data_end,
					 struct tcphdr *th, __u32 l4_len,
					 struct ddp_pkt *p)
{
	__u32 doff;

	if ((void *)(th + 1) > data_end)
		return -1;
	if (!ddp_port_offloaded(th->source))
		return -1;
	doff = th->doff * 4;
	if (doff < sizeof(*th) || doff > l4_len)
		return -1;
	p->key.rport = th->source;
	p->key.lport = th->dest;
	p->seq = bpf_ntohl(th->seq);
	p->l4_off = (void *)th - data;
	p->l4_len = l4_len;
	p->pay_off = p->l4_off + doff;
	p->pay_len = l4_len - doff;
	/* The IP length, not data_end, bounds the payload (Ethernet pads
	 * short frames); a frame shorter than its IP length is not ours. */
	if (p->pay_off + p->pay_len > data_end - data)
		return -1;
	return 0;
}

static __always_inline int ddp_parse(struct xdp_md *ctx, struct ddp_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	__be16 proto;
	int i;

	if (l3 > data_end)
		return -1;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < 2; i++) {
		struct vlan_hdr_ *vh = l3;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end)
			return -1;
		proto = vh->proto;
		l3 = vh + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l3;
		__u32 ihl, tot;

		if ((void *)(iph + 1) > data_end)
			return -1;
		if (iph->protocol != IPPROTO_TCP ||
		    (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return -1;
		ihl = iph->ihl * 4;
		tot = bpf_ntohs(iph->tot_len);
		if (ihl < sizeof(*iph) || tot < ihl)
			return -1;
		if (ddp_parse_tcp(data, data_end, l3 + ihl, tot - ihl, p))
			return -1;
		p->v6 = 0;
		__builtin_memset(p->key.raddr, 0, 10);
		p->key.raddr[10] = 0xff;
		p->key.raddr[11] = 0xff;
		__builtin_memcpy(&p->key.raddr[12], &iph->saddr, 4);
		__builtin_memset(p->key.laddr, 0, 10);
		p->key.laddr[10] = 0xff;
		p->key.laddr[11] = 0xff;
		__builtin_memcpy(&p->key.laddr[12], &iph->daddr, 4);
		return 0;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		/* Extension headers are not followed: such packets pass, and
		 * a flow that uses them loses sync and resyncs. */
		if (ip6->nexthdr != IPPROTO_TCP)
			return -1;
		if (ddp_parse_tcp(data, data_end, (void *)(ip6 + 1),
				  bpf_ntohs(ip6->payload_len), p))
			return -1;
		p->v6 = 1;
		__builtin_memcpy(p->key.raddr, &ip6->saddr, 16);
		__builtin_memcpy(p->key.laddr, &ip6->daddr, 16);
		return 0;
	}
	return -1;
}

/*
 * Whether the TCP checksum of the segment is right. A NIC checks it before
 * it places anything; the engine checks it on the frames whose header bytes
 * it would trust, so that a corrupted frame the transport will drop cannot
 * steer placement. The segment is copied into a per-CPU scratch buffer:
 * bpf_csum_diff() takes memory of a known bound, which a packet range of
 * variable length is not.
 */
static __always_inline int ddp_tcp_csum_ok(struct xdp_md *ctx,
					   const struct ddp_pkt *p)
{
	__u8 pseudo[40] = {};
	__u32 zero = 0, n = p->l4_len, plen;
	__u8 *buf = bpf_map_lookup_elem(&ddp_scratch, &zero);
	__s64 sum;

	if (!buf || n < sizeof(struct tcphdr) || n > DDP_SCRATCH_LEN - 4)
		return 0;
	if (bpf_xdp_load_bytes(ctx, p->l4_off, buf, n))
		return 0;
	/* a partial last word counts as if zero-padded */
	buf[n] = 0;
	buf[(n + 1) & 0x3fff] = 0;
	buf[(n + 2) & 0x3fff] = 0;
	if (p->v6) {
		__builtin_memcpy(pseudo, p->key.raddr, 16);
		__builtin_memcpy(pseudo + 16, p->key.laddr, 16);
		pseudo[34] = n >> 8;
		pseudo[35] = n;
		pseudo[39] = IPPROTO_TCP;
		plen = 40;
	} else {
		__builtin_memcpy(pseudo, &p->key.raddr[12], 4);
		__builtin_memcpy(pseudo + 4, &p->key.laddr[12], 4);
		pseudo[9] = IPPROTO_TCP;
		pseudo[10] = n >> 8;
		pseudo[11] = n;
		plen = 12;
	}
	sum = bpf_csum_diff(0, 0, (void *)pseudo, plen & 0x3c, 0);
	if (sum < 0)
		return 0;
	sum = bpf_csum_diff(0, 0, (void *)buf, (n + 3) & 0x3ffc, sum);
	if (sum < 0)
		return 0;
	sum = (sum & 0xffff) + ((sum >> 16) & 0xffff);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

#endif /* DDP_PARSE_H */
