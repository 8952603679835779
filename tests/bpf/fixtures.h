/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fixtures.h - the engine's fixture table: each entry names a scenario,
 * builds a controller stream and its tags, sends it frame by frame with the
 * host's actions in between, and states what must follow.
 *
 * Every fixture runs twice, once as a kernel-socket flow (records) and
 * once as an AF_XDP flow (frame metadata), unless it names its flags.
 * Checked for each: the verdict and the unchanged frame (every frame), the
 * bytes reported placed against the stream and the buffer, the bytes of
 * the region outside any tag (untouched), the named counters, the resync
 * requests, and that teardown leaves nothing behind.
 */
#ifndef TESTS_FIXTURES_H
#define TESTS_FIXTURES_H

#include "harness.h"

struct stat_want {
	const char *name;
	__u64 val;
};

struct fixture {
	const char *name;
	int v6;
	__u16 vlan;
	__u8 tcp_opt_len;
	__u8 ip6_dstopts; /* IPv6 destination options header bytes */
	struct pdu_opts o;
	__u32 flags; /* 0: run as both kernel-socket and AF_XDP flow */
	__u32 io_threshold; /* 0: the harness default, 1024 */
	__u32 max_data; /* sk_add's, 0: the engine's default */
	__u32 csum_max; /* load as if bpf_csum_diff took no more (0: as is) */
	bool csum_partial; /* partial checksums accepted (veth, skb mode) */
	bool no_ddgst_offload; /* attached with --no-ddgst-offload */
	bool no_socket; /* AF_XDP flows without a socket in ddp_xsks */
	void (*build)(struct eng *e);
	void (*run)(struct eng *e);
	/* per C2HData PDU in stream order: 'P' all its data reported placed
	 * and in the buffer, '-' none reported and its buffer untouched,
	 * '?' anything (what is reported is still checked); NULL: all 'P';
	 * "*": the fixture's run checks them */
	const char *placed;
	/* per C2HData PDU: the data digest verdict the host is given, 'o'
	 * ok, 'b' bad, '-' none, '?' any; NULL: not checked (any verdict
	 * given is checked against the stream all the same) */
	const char *verdicts;
	struct stat_want stats[8];
	int events; /* resync requests expected (-1: any) */
};

void run_fixture_modes(const struct fixture *fx);
/* Send the stream in 1448-byte frames, answering resync requests
 * truthfully after each frame: the default run. */
void run_answering(struct eng *e);

#define FIXTURE(id, ...)                                                    \
	static const struct fixture fx_##id = { .name = #id, __VA_ARGS__ }; \
	Test(fixtures, id)                                                  \
	{                                                                   \
		run_fixture_modes(&fx_##id);                                \
	}

/* Streams and runs more than one table uses (fixture_streams.c) */
void one_read(struct eng *e);
void six_reads(struct eng *e);
void long_pdu(struct eng *e);
void run_odd_frames(struct eng *e);
void sg_256(struct eng *e);
void unknown_cid(struct eng *e);
void long_read_then_one(struct eng *e);
void run_lost_data(struct eng *e);
void run_duplicated(struct eng *e);
void send_losing_header(struct eng *e, size_t from, int answer_from);
void run_lost_header(struct eng *e);
void run_corrupt_header(struct eng *e);
void run_another_cpu_tracking(struct eng *e);

/* Helpers shared by the fixtures and the randomized test */
void gen_data(__u8 *buf, size_t n, __u32 seed);
/* A read of len bytes for cid: C2HData PDUs of pdu bytes, then a
 * CapsuleResp. */
void add_read(struct eng *e, __u16 cid, __u32 len, __u32 pdu);
/* Stream offsets: first byte, first data byte and end of PDU i */
size_t P(const struct eng *e, size_t i);
size_t D(const struct eng *e, size_t i);
size_t E(const struct eng *e, size_t i);
/* Stream index of the i-th C2HData */
size_t C(const struct eng *e, int i);

#endif /* TESTS_FIXTURES_H */
