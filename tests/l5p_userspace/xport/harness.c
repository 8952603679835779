// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * harness.c - namespaces, veth, engine and port for the utcp tests, the
 * kernel peer's behaviours, and the fault programs.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include "bpffs.h"
#include "harness.h"
#include "xport/xsk_port.h"

struct env env;

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void in_ns(int fd)
{
	cr_assert_eq(setns(fd, CLONE_NEWNET), 0, "setns: %s", strerror(errno));
}

void sh(bool in_b, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (in_b)
		in_ns(env.nsb);
	ret = system(cmd);
	if (in_b)
		in_ns(env.nsa);
	cr_assert_eq(ret, 0, "%s: exit %d", cmd, ret);
}

static int ns_here(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "opening my network namespace: %s",
		      strerror(errno));
	return fd;
}

void env_init(void)
{
	struct ddp_attach_opts o = { .mode = DDP_MODE_NATIVE,
				     .lim = { .max_flows = 8,
					      .buf_size = 16 << 20 } };
	char err[256];
	int pid = getpid();

	memset(&env, 0, sizeof(env));
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(bpffs_private(), 0, "a BPF filesystem of our own");
	env.nsa = ns_here();
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	env.nsb = ns_here();
	in_ns(env.nsa);
	snprintf(env.va, sizeof(env.va), "ut%da", pid);
	snprintf(env.vb, sizeof(env.vb), "ut%db", pid);
	snprintf(env.da, sizeof(env.da), "ut%dx", pid);
	snprintf(env.db, sizeof(env.db), "ut%dy", pid);
	sh(false, "ip link add %s type veth peer name %s netns /proc/%d/fd/%d",
	   env.va, env.vb, pid, env.nsb);
	sh(false,
	   "ip link set lo up && ip addr add " ADDR_A "/24 dev %s && "
	   "ip addr add " ADDR6_A "/64 dev %s nodad && ip link set %s up",
	   env.va, env.va, env.va);
	/* the peer sends as a NIC on a wire: full checksums, a qdisc */
	sh(true,
	   "ip link set lo up && ip addr add " ADDR_B "/24 dev %s && "
	   "ip addr add " ADDR6_B "/64 dev %s nodad && "
	   "ip link set %s up && ethtool -K %s tx off >/dev/null && "
	   "tc qdisc replace dev %s root pfifo_fast",
	   env.vb, env.vb, env.vb, env.vb, env.vb);
	in_ns(env.nsb);
	env.vb_ifindex = if_nametoindex(env.vb);
	in_ns(env.nsa);
	cr_assert_neq(env.vb_ifindex, 0);

	if (getenv("UTCP_PCAP")) {
		/* it ends with the namespace */
		sh(true,
		   "dumpcap -q -i %s -s 80 -w %s >/dev/null 2>&1 & sleep 1",
		   env.vb, getenv("UTCP_PCAP"));
	}
	cr_assert_eq(ddp_dev_attach(env.va, &o, &env.dev), 0,
		     "attaching the engine to %s: %s", env.va,
		     ddp_errmsg(NULL));
	cr_assert_eq(utcp_port_open(env.dev, env.va, XSK_MODE_AUTO, &env.port,
				    err, sizeof(err)),
		     0, "%s", err);
}

void env_fini(void)
{
	/* whatever the test left; the namespaces go with the process */
	if (env.port)
		utcp_port_close(env.port);
	env.port = NULL;
	if (env.dev)
		ddp_dev_close(env.dev);
	env.dev = NULL;
	ddp_dev_detach(env.va);
	if (env.faults.obj)
		fault_env_close(&env.faults);
}

void env_fast_timers(void)
{
	struct utcp_limits l = { .rto_min_ms = 50,
				 .rto_init_ms = 100,
				 .syn_retries = 2,
				 .retries = 3,
				 .close_ms = 1000 };

	utcp_port_limits(env.port, &l);
}

int peer_listen(__u16 port)
{
	/* IPv6 and IPv4 (mapped) alike */
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int fd, one = 1, zero = 0;

	in_ns(env.nsb);
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	in_ns(env.nsa);
	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "bind [::]:%u: %s", port, strerror(errno));
	cr_assert_eq(listen(fd, 4), 0);
	return fd;
}

/* ---- Faults -------------------------------------------------------------- */

void env_faults(unsigned int rate_mbit)
{
	char err[512];
	int ret;

	in_ns(env.nsb);
	ret = fault_env_open(&env.faults, DDP_BUILD "/utcp_fault.bpf.o", env.vb,
			     env.da, env.db, rate_mbit, err, sizeof(err));
	in_ns(env.nsa);
	cr_assert_eq(ret, 0, "the fault programs: %s", err);
}

void fault_set(const struct fault_cfg *cfg)
{
	cr_assert_eq(fault_env_set(&env.faults, cfg), 0, "fault_cfg: %s",
		     strerror(errno));
}

void fault_stats(struct fault_stats *st)
{
	cr_assert_eq(fault_env_stats(&env.faults, st), 0, "fault_stats: %s",
		     strerror(errno));
}

/* ---- Content ------------------------------------------------------------- */

void pat_fill(__u64 seed, __u64 off, void *buf, size_t len)
{
	__u8 *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = pat(seed, off + i);
}

long pat_check(__u64 seed, __u64 off, const void *buf, size_t len)
{
	const __u8 *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != pat(seed, off + i))
			return (long)i;
	return -1;
}

/* ---- The kernel peer ----------------------------------------------------- */

static void *peer_main(void *arg)
{
	struct peer *pr = arg;
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	double t0;

	pr->fd = accept(pr->lfd, NULL, NULL);
	if (pr->fd < 0) {
		pr->err = errno;
		return NULL;
	}
	t0 = now_s();
	pr->fn(pr);
	pr->secs = now_s() - t0;
	if (!getsockopt(pr->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl))
		pr->retrans = ti.tcpi_total_retrans;
	if (pr->linger0)
		setsockopt(pr->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(pr->fd);
	return NULL;
}

void peer_start(struct peer *pr, __u16 port, void (*fn)(struct peer *))
{
	pr->lfd = peer_listen(port);
	pr->fn = fn;
	pr->bad_at = -1;
	if (!pr->chunk)
		pr->chunk = 65536;
	cr_assert_eq(pthread_create(&pr->t, NULL, peer_main, pr), 0);
}

void peer_join(struct peer *pr)
{
	pthread_join(pr->t, NULL);
	close(pr->lfd);
}

void peer_sink(struct peer *pr)
{
	__u8 *buf = malloc(pr->chunk);
	ssize_t n;
	long bad;

	while ((n = read(pr->fd, buf, pr->chunk)) > 0) {
		bad = pat_check(pr->seed, pr->got, buf, n);
		if (bad >= 0 && pr->bad_at < 0)
			pr->bad_at = pr->got + bad;
		pr->got += n;
	}
	if (n < 0)
		pr->err = errno;
	else
		pr->eof = true;
	free(buf);
}

void peer_source(struct peer *pr)
{
	__u8 *buf = malloc(pr->chunk);
	__u64 off = 0;
	size_t m;
	ssize_t n;

	while (off < pr->len) {
		m = pr->len - off < pr->chunk ? pr->len - off : pr->chunk;
		pat_fill(pr->seed, off, buf, m);
		n = write(pr->fd, buf, m);
		if (n <= 0) {
			pr->err = n < 0 ? errno : EIO;
			break;
		}
		off += n;
	}
	pr->got = off;
	/* FIN, then wait for utcp's: everything was acknowledged, and
	 * TCP_INFO counts all the retransmissions */
	shutdown(pr->fd, SHUT_WR);
	while ((n = read(pr->fd, buf, pr->chunk)) > 0)
		;
	pr->eof = n == 0;
	free(buf);
}

void peer_echo(struct peer *pr)
{
	__u8 *buf = malloc(pr->chunk);
	ssize_t n, w, k;

	while ((n = read(pr->fd, buf, pr->chunk)) > 0) {
		pr->got += n;
		for (w = 0; w < n; w += k) {
			k = write(pr->fd, buf + w, n - w);
			if (k <= 0) {
				pr->err = k < 0 ? errno : EIO;
				goto out;
			}
		}
	}
	if (n < 0)
		pr->err = errno;
	else
		pr->eof = true;
out:
	free(buf);
}

void peer_hold(struct peer *pr)
{
	__u8 buf[4096];
	ssize_t n;

	while ((n = read(pr->fd, buf, sizeof(buf))) > 0)
		pr->got += n;
	if (n < 0)
		pr->err = errno;
	else
		pr->eof = true;
}

/* ---- The utcp side ------------------------------------------------------- */

struct utcp_conn *connect_b(__u16 port)
{
	struct utcp_conn *c;
	char err[256];
	int ret;

	ret = utcp_connect(env.port, ADDR_B, port, &c, err, sizeof(err));
	cr_assert_eq(ret, 0, "utcp_connect: %d: %s", ret, err);
	return c;
}

struct utcp_conn *connect_b6(__u16 port)
{
	struct utcp_conn *c;
	char err[256];
	int ret;

	ret = utcp_connect(env.port, ADDR6_B, port, &c, err, sizeof(err));
	cr_assert_eq(ret, 0, "utcp_connect: %d: %s", ret, err);
	return c;
}

void send_pattern(struct utcp_conn *c, __u64 seed, __u64 len, size_t chunk)
{
	__u8 *buf = malloc(chunk);
	struct iovec v;
	__u64 off;
	int ret;

	for (off = 0; off < len; off += v.iov_len) {
		v.iov_base = buf;
		v.iov_len = len - off < chunk ? len - off : chunk;
		pat_fill(seed, off, buf, v.iov_len);
		ret = utcp_send(c, &v, 1);
		cr_assert_eq(ret, 0, "utcp_send at %llu: %s",
			     (unsigned long long)off, strerror(-ret));
	}
	free(buf);
}

void read_pattern(struct utcp_conn *c, __u64 seed, __u64 len, size_t chunk)
{
	__u8 *buf = malloc(chunk);
	__u64 off;
	size_t m;
	long bad;
	int ret;

	for (off = 0; off < len; off += m) {
		m = len - off < chunk ? len - off : chunk;
		ret = utcp_read(c, buf, m);
		cr_assert_eq(ret, 0, "utcp_read at %llu: %s",
			     (unsigned long long)off, strerror(-ret));
		bad = pat_check(seed, off, buf, m);
		cr_assert_eq(bad, -1, "byte %llu wrong",
			     (unsigned long long)(off + bad));
	}
	free(buf);
}

void print_stats(const char *what, struct utcp_conn *c)
{
	struct utcp_stats s;

	utcp_stats(c, &s);
	fprintf(stderr,
		"%s: rx_segs %llu tx_segs %llu rx_bytes %llu copied %llu placed %llu compacted %llu ooo %llu dup %llu csum_bad %llu bad %llu retransmits %llu rto %llu fast %llu\n",
		what, (unsigned long long)s.rx_segs,
		(unsigned long long)s.tx_segs, (unsigned long long)s.rx_bytes,
		(unsigned long long)s.copied_bytes,
		(unsigned long long)s.placed_bytes,
		(unsigned long long)s.compacted, (unsigned long long)s.ooo_segs,
		(unsigned long long)s.dup_segs, (unsigned long long)s.csum_bad,
		(unsigned long long)s.bad_frames,
		(unsigned long long)s.retransmits, (unsigned long long)s.rto,
		(unsigned long long)s.fast_retransmits);
}
