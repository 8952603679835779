/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_parse.h - Ethernet, VLAN, IPv4, IPv6 (and its extension headers) and
 * TCP parsing, and the TCP checksum.
 *
 * Contract: ddp_parse() reads the frame only, never changes it, and
 * returns one of enum ddp_parsed for a packet that may concern an
 * offloaded connection (its remote port has offloaded flows; for
 * DDP_PKT_OPAQUE, whose ports are hidden, the caller looks the addresses
 * up), or a negative value for anything else, which the caller passes
 * untouched. What struct ddp_pkt
 * holds for each is said below.
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
#define IP6_OFFSET 0xfff8
#define IP6_MF 0x0001
#define DDP_IP6_EXT_MAX 4 /* extension headers followed, at most */

enum ddp_parsed {
	/* a whole TCP segment: every field of struct ddp_pkt */
	DDP_PKT_TCP = 0,
	/* the first fragment of a TCP datagram: key and seq; the kernel
	 * reassembles it, the engine cannot (at most DDP_MAX_DGRAM bytes) */
	DDP_PKT_FRAG,
	/* a TCP segment longer than the frame holds (pay_len from the IP
	 * header): key, seq, pay_len */
	DDP_PKT_TRUNC,
	/* an IP packet whose transport header the engine cannot find (AH,
	 * ESP, an unknown IPv6 extension header): the addresses in key */
	DDP_PKT_OPAQUE,
};

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

/* A TCP header at th, l4_len bytes of TCP in all; frag: the IP datagram is
 * a first fragment. */
static __always_inline int ddp_parse_tcp(void *data, void *data_end,
					 struct tcphdr *th, __u32 l4_len,
					 int frag, struct ddp_pkt *p)
{
	__u32 doff;

	if ((void *)(th + 1) > data_end)
		return -1;
	if (!ddp_port_offloaded(th->source))
		return -1;
	p->key.rport = th->source;
	p->key.lport = th->dest;
	p->seq = bpf_ntohl(th->seq);
	if (frag)
		return DDP_PKT_FRAG;
	doff = th->doff * 4;
	if (doff < sizeof(*th) || doff > l4_len)
		return -1;
	p->l4_off = (void *)th - data;
	p->l4_len = l4_len;
	p->pay_off = p->l4_off + doff;
	p->pay_len = l4_len - doff;
	/* The IP length, not data_end, bounds the payload (Ethernet pads
	 * short frames); a frame shorter than its IP length holds only a
	 * part of the segment (a driver's multi-buffer frame). */
	if (p->pay_off + p->pay_len > data_end - data)
		return DDP_PKT_TRUNC;
	return DDP_PKT_TCP;
}

static __always_inline void ddp_key_ipv4(struct ddp_pkt *p,
					 const struct iphdr *iph)
{
	p->v6 = 0;
	__builtin_memset(p->key.raddr, 0, 10);
	p->key.raddr[10] = 0xff;
	p->key.raddr[11] = 0xff;
	__builtin_memcpy(&p->key.raddr[12], &iph->saddr, 4);
	__builtin_memset(p->key.laddr, 0, 10);
	p->key.laddr[10] = 0xff;
	p->key.laddr[11] = 0xff;
	__builtin_memcpy(&p->key.laddr[12], &iph->daddr, 4);
}

/* IP protocols that hide the transport header: IPsec's */
static __always_inline int ddp_proto_opaque(__u8 proto)
{
	return proto == 50 || proto == 51; /* ESP, AH */
}

static __always_inline int ddp_parse_ipv4(void *data, void *data_end,
					  struct iphdr *iph, struct ddp_pkt *p)
{
	__u32 ihl, tot;
	__u16 frag;

	if ((void *)(iph + 1) > data_end)
		return -1;
	ddp_key_ipv4(p, iph);
	if (ddp_proto_opaque(iph->protocol))
		return DDP_PKT_OPAQUE;
	frag = bpf_ntohs(iph->frag_off);
	/* later fragments: the first one stands for the datagram */
	if (iph->protocol != IPPROTO_TCP || (frag & IP_OFFSET))
		return -1;
	ihl = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (ihl < sizeof(*iph) || tot < ihl)
		return -1;
	return ddp_parse_tcp(data, data_end, (void *)iph + (ihl & 0x3c),
			     tot - ihl, frag & IP_MF, p);
}

/* IPv6: the hop-by-hop, routing, destination and fragment headers are
 * followed; any other extension header makes the packet opaque. */
static __always_inline int ddp_parse_ipv6(void *data, void *data_end,
					  struct ipv6hdr *ip6,
					  struct ddp_pkt *p)
{
	__u8 *h = (__u8 *)(ip6 + 1);
	__u32 len, ext = 0;
	int frag = 0, i;
	__u8 next;

	if ((void *)(ip6 + 1) > data_end)
		return -1;
	p->v6 = 1;
	__builtin_memcpy(p->key.raddr, &ip6->saddr, 16);
	__builtin_memcpy(p->key.laddr, &ip6->daddr, 16);
	next = ip6->nexthdr;
#pragma unroll
	for (i = 0; i < DDP_IP6_EXT_MAX; i++) {
		if (next != 0 && next != 43 && next != 44 && next != 60)
			break;
		if ((void *)(h + 8) > data_end)
			return -1;
		if (next == 44) { /* fragment: 8 bytes */
			__u16 off = bpf_ntohs(*(__be16 *)(h + 2));

			if (off & IP6_OFFSET)
				return -1; /* a later fragment */
			frag = off & IP6_MF;
			len = 8;
		} else {
			len = (h[1] + 1) * 8;
		}
		next = h[0];
		h += len;
		ext += len;
	}
	if (next == IPPROTO_TCP) {
		__u32 plen = bpf_ntohs(ip6->payload_len);

		if (plen < ext)
			return -1;
		return ddp_parse_tcp(data, data_end, (void *)h, plen - ext,
				     frag, p);
	}
	/* 50 ESP, 51 AH, 135 mobility, 139 HIP, 140 shim6, 253/254 tests,
	 * or more extension headers than followed */
	if (next == 50 || next == 51 || next == 135 || next == 139 ||
	    next == 140 || next == 253 || next == 254 || next == 0 ||
	    next == 43 || next == 44 || next == 60)
		return DDP_PKT_OPAQUE;
	return -1;
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
	if (proto == bpf_htons(ETH_P_IP))
		return ddp_parse_ipv4(data, data_end, l3, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return ddp_parse_ipv6(data, data_end, l3, p);
	return -1;
}

/* What the engine knows of a TCP checksum. */
enum ddp_csum_verdict {
	DDP_TCPSUM_BAD = 0, /* wrong, or more bytes than the engine sums */
	DDP_TCPSUM_OK, /* computed over the segment, and right */
	/* only the pseudo-header sum: the kernel does not check it either
	 * (a local sender's CHECKSUM_PARTIAL, a GRO aggregate) */
	DDP_TCPSUM_PARTIAL,
};

/* The folded 16-bit ones' complement sum, as the kernel's csum_fold()
 * leaves it before inverting. */
static __always_inline __u16 ddp_fold(__s64 sum)
{
	__u32 s = sum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s;
}

struct ddp_csum_walk {
	__u32 len; /* bytes to sum, a multiple of 4 */
	__s64 sum;
};

/* One bpf_csum_diff() call of at most 512 bytes: the limit of kernels
 * before 6.12 (a per-CPU scratchpad of MAX_BPF_STACK bytes). */
static long ddp_csum_chunk(__u32 i, void *arg)
{
	struct ddp_csum_walk *w = arg;
	__u32 zero = 0, off, n;
	__u8 *buf = bpf_map_lookup_elem(&ddp_scratch, &zero);

	if (!buf || i >= DDP_SCRATCH_LEN / 512)
		return 1;
	off = i * 512;
	if (off >= w->len)
		return 1;
	n = w->len - off;
	if (n > 512)
		n = 512;
	w->sum = bpf_csum_diff(0, 0, (void *)(buf + off), n & 0x3fc, w->sum);
	return w->sum < 0;
}

/*
 * The TCP checksum of the segment. A NIC checks it before it places
 * anything; the engine checks it on the frames whose header bytes it would
 * trust, so that a corrupted frame the transport will drop cannot steer
 * placement. The segment is copied into a per-CPU scratch buffer:
 * bpf_csum_diff() takes memory of a known bound, which a packet range of
 * variable length is not. Where the loader allows it (veth, skb mode), a
 * partial checksum is recognised as the kernel's own mark. A global
 * function: its stack is not added to the step loop's.
 */
__attribute__((noinline)) int ddp_tcp_csum(struct xdp_md *ctx,
					   const struct ddp_pkt *p)
{
	__u8 pseudo[40] = {};
	__u32 zero = 0, n, plen;
	__u8 *buf = bpf_map_lookup_elem(&ddp_scratch, &zero);
	struct ddp_csum_walk w;
	__s64 sum;
	__u16 check;

	if (!p || !buf || p->l4_len < sizeof(struct tcphdr))
		return DDP_TCPSUM_BAD;
	n = p->l4_len;
	w.len = (n + 3) & ~3u;
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
		return DDP_TCPSUM_BAD;
	if (n <= DDP_SCRATCH_LEN - 4 &&
	    !bpf_xdp_load_bytes(ctx, p->l4_off, buf, n)) {
		/* a partial last word counts as if zero-padded */
		buf[n] = 0;
		buf[(n + 1) & 0x3fff] = 0;
		buf[(n + 2) & 0x3fff] = 0;
		__u32 len = (n + 3) & 0x3ffc;

		check = *(__u16 *)(buf + 16);
		w.sum = sum;
		if (cfg_csum_max >= DDP_SCRATCH_LEN - 4 &&
		    len <= DDP_SCRATCH_LEN - 4)
			w.sum = bpf_csum_diff(0, 0, (void *)buf, len, sum);
		else
			bpf_loop(DDP_SCRATCH_LEN / 512, ddp_csum_chunk, &w, 0);
		if (w.sum >= 0 && ddp_fold(w.sum) == 0xffff)
			return DDP_TCPSUM_OK;
	} else if (bpf_xdp_load_bytes(ctx, p->l4_off + 16, &check, 2)) {
		return DDP_TCPSUM_BAD;
	}
	if (ddp_csum_partial && check == ddp_fold(sum))
		return DDP_TCPSUM_PARTIAL;
	return DDP_TCPSUM_BAD;
}

#endif /* DDP_PARSE_H */
