/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * harness.h - utcp against the Linux kernel's TCP: each test makes two
 * network namespaces of its own (gone with the test process): "A" with
 * the engine attached natively on veth 'ut<pid>a' and the AF_XDP port
 * on it, and "B", the kernel peer, on 'ut<pid>b', sending as a NIC would
 * (full checksums, a qdisc). The engine is pinned in a BPF filesystem of
 * the test process's own (bpffs_private()), gone with the process.
 *
 * UTCP_PCAP=FILE captures B's veth (headers) into FILE, one test at a
 * time (--filter): what to look at when a test fails.
 */
#ifndef UTCP_HARNESS_H
#define UTCP_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "libddp.h"
#include "xport/utcp.h"
#include "fault_env.h"

#define ADDR_A "10.77.0.1"
#define ADDR_B "10.77.0.2"
#define ADDR_SILENT "10.77.0.9" /* a neighbour entry, nobody there */
#define ADDR_NOBODY "10.77.0.99" /* not even that */
#define ADDR6_A "fd00:77::1" /* the same link over IPv6 */
#define ADDR6_B "fd00:77::2"
#define ADDR6_NOBODY "fd00:77::99"

struct env {
	char va[16], vb[16], da[16], db[16];
	int nsa, nsb; /* namespace fds */
	int vb_ifindex; /* in B */
	struct ddp_dev *dev;
	struct utcp_port *port;
	struct fault_env faults; /* when env_faults() set them up */
};

extern struct env env;

/* Criterion init and fini: namespaces, veth, engine, port. */
void env_init(void);
void env_fini(void);
/* Run a shell command in namespace B (true) or A (false); must succeed */
void sh(bool in_b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A listening TCP socket in B on ADDR_B:port */
int peer_listen(__u16 port);
/* Port limits for the tests: short timers */
void env_fast_timers(void);

/* The fault programs on B's veth (and the detour for delays, with tbf at
 * rate_mbit); rates set with fault_set. */
void env_faults(unsigned int rate_mbit);
void fault_set(const struct fault_cfg *cfg);
void fault_stats(struct fault_stats *st);

/* The stream's content: byte i of stream `seed` */
static inline __u8 pat(__u64 seed, __u64 i)
{
	__u64 x = (i >> 3) * 0x9e3779b97f4a7c15ull + seed;

	x ^= x >> 29;
	return (__u8)(x >> (8 * (i & 7)));
}
void pat_fill(__u64 seed, __u64 off, void *buf, size_t len);
/* Index of the first byte that differs, or -1 */
long pat_check(__u64 seed, __u64 off, const void *buf, size_t len);

double now_s(void);

/* ---- The kernel peer: one connection, served in a thread ----------------- */

struct peer {
	int lfd, fd;
	pthread_t t;
	void (*fn)(struct peer *);
	/* what the test asks */
	__u64 seed, len;
	size_t chunk;
	int rounds;
	bool linger0; /* close with an RST */
	/* what happened */
	__u64 got;
	long bad_at; /* first wrong byte, or -1 */
	int err; /* errno of the first failure */
	__u32 retrans; /* TCP_INFO's total retransmissions */
	double secs;
	bool eof;
};

void peer_start(struct peer *pr, __u16 port, void (*fn)(struct peer *));
void peer_join(struct peer *pr);
/* Behaviours */
void peer_sink(struct peer *pr); /* read and check until EOF, then close */
void peer_source(struct peer *pr); /* send len bytes, FIN, wait for EOF */
void peer_echo(struct peer *pr); /* echo until EOF */
void peer_hold(struct peer *pr); /* read until EOF, never answer */

/* utcp side helpers */
struct utcp_conn *connect_b(__u16 port);
/* ... to ADDR6_B */
struct utcp_conn *connect_b6(__u16 port);
void send_pattern(struct utcp_conn *c, __u64 seed, __u64 len, size_t chunk);
void read_pattern(struct utcp_conn *c, __u64 seed, __u64 len, size_t chunk);
void print_stats(const char *what, struct utcp_conn *c);

#endif /* UTCP_HARNESS_H */
