/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pkt.h - a typed packet builder for tests: Ethernet (optionally VLAN),
 * IPv4 or IPv6, TCP with options of any length, and a payload.
 */
#ifndef TESTS_PKT_H
#define TESTS_PKT_H

#include <stddef.h>
#include <linux/types.h>
#include "ddp.h"

/* What the TCP checksum field of a built frame holds */
enum pkt_csum {
	PKT_CSUM_FULL = 0, /* the checksum, as a NIC on a wire gets it */
	/* the pseudo-header sum only: what the kernel's CHECKSUM_PARTIAL
	 * leaves for the offload (a sender on this host, GRO) */
	PKT_CSUM_PARTIAL,
	PKT_CSUM_WRONG, /* neither */
};

/* One direction of a connection: the controller (remote) sending to the
 * host (local). */
struct pkt_flow {
	int v6;
	__u16 vlan; /* 0: untagged */
	__u8 raddr[16]; /* IPv4 in the last 4 bytes */
	__u8 laddr[16];
	__u16 rport, lport;
	__u8 tcp_opt_len; /* 0..40, a multiple of 4: NOPs and a timestamp */
	__u8 ip6_dstopts; /* IPv6: bytes of a destination options header
			   * before TCP, a multiple of 8 (0: none) */
	enum pkt_csum csum;
};

#define PKT_MAX 9216

/* A flow with documentation addresses; v6 selects the family. */
void pkt_flow_init(struct pkt_flow *fl, int v6, __u16 rport, __u16 lport);
/* The engine's key for it. */
void pkt_flow_key(const struct pkt_flow *fl, struct ddp_flow_key *key);
/* Writes the frame into out (PKT_MAX bytes); returns its length. */
size_t pkt_build(const struct pkt_flow *fl, __u32 seq, const void *payload,
		 size_t len, __u8 *out);
/* A frame that is not TCP (UDP to the same host). */
size_t pkt_build_udp(const struct pkt_flow *fl, const void *payload, size_t len,
		     __u8 *out);
/* Whether the TCP checksum of a frame built by pkt_build is right. */
int pkt_tcp_csum_ok(const struct pkt_flow *fl, const __u8 *frame, size_t len);
/* An IP packet of protocol proto (50: ESP) between the flow's hosts. */
size_t pkt_build_ip(const struct pkt_flow *fl, __u8 proto, const void *payload,
		    size_t len, __u8 *out);
/* Cut a frame built by pkt_build into two IP fragments: the first holds
 * `at` bytes (a multiple of 8) of the IP payload, the second the rest.
 * Returns the first's length, the second's in *len2. */
size_t pkt_fragment(const struct pkt_flow *fl, const __u8 *frame, size_t len,
		    size_t at, __u8 *out1, __u8 *out2, size_t *len2);

#endif /* TESTS_PKT_H */
