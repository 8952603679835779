// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * utcp_fault.bpf.c - faults between the kernel's TCP and utcp, as tc
 * programs on the kernel peer's veth (netem is not in this kernel):
 *
 *   fault_egress   (clsact egress):  drop, duplicate (a clone sent ahead),
 *                                    delay (out through a detour device
 *                                    and back: reordering), corrupt (the
 *                                    TCP checksum no longer matches),
 *                                    mangle (a C2HData byte changed, the
 *                                    checksum fixed: TCP takes it)
 *   fault_ingress  (clsact ingress): drop and duplicate what utcp sends
 *   fault_detour   (ingress of the detour's far end): sends the delayed
 *                                    frames home, drops the fillers
 *
 * The detour's near end has a tbf qdisc: a filler clone sent just ahead
 * of each delayed frame empties the bucket, so the frame waits its own
 * length at the tbf rate while the segments after it go straight on.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "utcp_fault.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_STOLEN 4
#define ETH_P_IP 0x0800
#define IPPROTO_TCP 6

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* 0 -> rates and devices */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fault_cfg);
} fault_cfg SEC(".maps");

/* 0 -> what was done */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fault_stats);
} fault_stats SEC(".maps");

struct seg {
	__u16 sport, dport;
	__u32 csum_off; /* of the TCP checksum, from the MAC header */
	__u32 pay_off; /* of the payload, from the MAC header */
	__u32 paylen;
};

/* An IPv4 TCP segment? Offsets from the MAC header, at either hook. */
static __always_inline int parse(struct __sk_buff *skb, struct seg *s)
{
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr th;
	__u32 ihl, thl;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) ||
	    eth.h_proto != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, sizeof(eth), &ip, sizeof(ip)) ||
	    ip.protocol != IPPROTO_TCP)
		return -1;
	ihl = ip.ihl * 4;
	if (ihl < 20 ||
	    bpf_skb_load_bytes(skb, sizeof(eth) + ihl, &th, sizeof(th)))
		return -1;
	thl = th.doff * 4;
	s->sport = bpf_ntohs(th.source);
	s->dport = bpf_ntohs(th.dest);
	s->csum_off = sizeof(eth) + ihl + 16;
	s->pay_off = sizeof(eth) + ihl + thl;
	s->paylen = bpf_ntohs(ip.tot_len) - ihl - thl;
	return 0;
}

static __always_inline bool chosen(__u32 *r, __u32 rate)
{
	if (*r < rate)
		return true;
	*r -= rate;
	return false;
}

/* A segment that begins with the header of a C2HData PDU of more than 4
 * KiB (not the admin queue's identify data: connecting must succeed) and
 * holds its data's byte 64: a 16-bit word of that data is changed,
 * and the TCP checksum with it (a partial one, still to be completed from
 * the payload, is left as it is by the helper). */
static __always_inline int mangle(struct __sk_buff *skb, const struct seg *s)
{
	__u8 h[24];
	__u32 at, datal;
	__u16 old, new;

	if (s->paylen < 24 + 66 ||
	    bpf_skb_load_bytes(skb, s->pay_off, h, sizeof(h)) ||
	    h[0] != 7 || h[2] != 24 || h[3] < 24)
		return 0;
	datal = h[16] | h[17] << 8 | h[18] << 16 | (__u32)h[19] << 24;
	/* an even offset from the TCP header: a word of its checksum */
	at = (h[3] + 64) & ~1u;
	if (datal <= 4096 || s->paylen < at + 2)
		return 0;
	at += s->pay_off;
	if (bpf_skb_load_bytes(skb, at, &old, 2))
		return 0;
	new = old ^ 0x5a5a;
	if (bpf_skb_store_bytes(skb, at, &new, 2, 0) ||
	    bpf_l4_csum_replace(skb, s->csum_off, old, new, 2))
		return 0;
	return 1;
}

SEC("tc")
int fault_egress(struct __sk_buff *skb)
{
	struct fault_stats *st;
	struct fault_cfg *cfg;
	struct seg s;
	__u32 k = 0, r;
	__u16 sum;

	if (skb->mark == FAULT_MARK_PASS) {
		skb->mark = 0;
		return TC_ACT_OK;
	}
	cfg = bpf_map_lookup_elem(&fault_cfg, &k);
	st = bpf_map_lookup_elem(&fault_stats, &k);
	if (!cfg || !st || parse(skb, &s) || s.sport != cfg->port ||
	    (cfg->data_only && !s.paylen))
		return TC_ACT_OK;
	__sync_fetch_and_add(&st->seen, 1);
	r = bpf_get_prandom_u32() % FAULT_MILLION;
	/* lost on the wire: SHOT would tell TCP, which sends it again at
	 * once and in order, as if nothing happened */
	if (chosen(&r, cfg->drop)) {
		__sync_fetch_and_add(&st->dropped, 1);
		return TC_ACT_STOLEN;
	}
	if (chosen(&r, cfg->dup)) {
		skb->mark = FAULT_MARK_PASS;
		if (!bpf_clone_redirect(skb, cfg->home_ifindex, 0))
			__sync_fetch_and_add(&st->duped, 1);
		skb->mark = 0;
		return TC_ACT_OK;
	}
	if (chosen(&r, cfg->delay) && cfg->detour_ifindex) {
		skb->mark = FAULT_MARK_FILLER;
		bpf_clone_redirect(skb, cfg->detour_ifindex, 0);
		skb->mark = FAULT_MARK_DELAY;
		__sync_fetch_and_add(&st->delayed, 1);
		return bpf_redirect(cfg->detour_ifindex, 0);
	}
	if (cfg->mangle && chosen(&r, cfg->mangle) && mangle(skb, &s)) {
		__sync_fetch_and_add(&st->mangled, 1);
		return TC_ACT_OK;
	}
	/* whether the checksum is final here or completed later from this
	 * field, a changed field makes the one on the wire wrong */
	if (chosen(&r, cfg->corrupt) &&
	    !bpf_skb_load_bytes(skb, s.csum_off, &sum, 2)) {
		sum ^= 0x0100;
		if (!bpf_skb_store_bytes(skb, s.csum_off, &sum, 2, 0))
			__sync_fetch_and_add(&st->corrupted, 1);
	}
	return TC_ACT_OK;
}

SEC("tc")
int fault_ingress(struct __sk_buff *skb)
{
	struct fault_stats *st;
	struct fault_cfg *cfg;
	struct seg s;
	__u32 k = 0, r;

	if (skb->mark == FAULT_MARK_PASS) {
		skb->mark = 0;
		return TC_ACT_OK;
	}
	cfg = bpf_map_lookup_elem(&fault_cfg, &k);
	st = bpf_map_lookup_elem(&fault_stats, &k);
	if (!cfg || !st || parse(skb, &s) || s.dport != cfg->port ||
	    (cfg->data_only && !s.paylen))
		return TC_ACT_OK;
	__sync_fetch_and_add(&st->in_seen, 1);
	r = bpf_get_prandom_u32() % FAULT_MILLION;
	if (chosen(&r, cfg->in_drop)) {
		__sync_fetch_and_add(&st->in_dropped, 1);
		return TC_ACT_SHOT;
	}
	if (chosen(&r, cfg->in_dup)) {
		skb->mark = FAULT_MARK_PASS;
		if (!bpf_clone_redirect(skb, cfg->home_ifindex, BPF_F_INGRESS))
			__sync_fetch_and_add(&st->in_duped, 1);
		skb->mark = 0;
	}
	return TC_ACT_OK;
}

SEC("tc")
int fault_detour(struct __sk_buff *skb)
{
	struct fault_stats *st;
	struct fault_cfg *cfg;
	__u32 k = 0;

	cfg = bpf_map_lookup_elem(&fault_cfg, &k);
	st = bpf_map_lookup_elem(&fault_stats, &k);
	if (!cfg || !st || skb->mark != FAULT_MARK_DELAY)
		return TC_ACT_SHOT; /* fillers, and whatever else comes */
	skb->mark = FAULT_MARK_PASS;
	__sync_fetch_and_add(&st->back, 1);
	return bpf_redirect(cfg->home_ifindex, 0);
}
