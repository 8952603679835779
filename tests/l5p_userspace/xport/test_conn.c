// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_conn.c - utcp against the kernel's TCP on a clean veth: the
 * handshake, bulk both ways, many small exchanges, closes from either
 * side, a reset, a refused and an unanswered connect, a connection that
 * times out, two connections on one port.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <criterion/criterion.h>
#include "harness.h"
#include "xport/xsk_port.h"

TestSuite(conn, .init = env_init, .fini = env_fini, .timeout = 30);

Test(conn, handshake_then_echo)
{
	struct peer pr = { .chunk = 4096 };
	struct ddp_flow_key key;
	struct utcp_conn *c;
	struct iovec v = { .iov_base = "hello, kernel", .iov_len = 13 };
	char buf[16] = { 0 };

	peer_start(&pr, 4420, peer_echo);
	c = connect_b(4420);
	utcp_flow_key(c, &key);
	cr_assert_eq(ntohs(key.rport), 4420);
	cr_assert_eq(key.raddr[10], 0xff, "IPv4-mapped");
	cr_assert_neq(utcp_flow_id(c), DDP_NO_TAG);
	cr_assert_eq(utcp_send(c, &v, 1), 0);
	cr_assert_eq(utcp_read(c, buf, 13), 0);
	cr_assert_str_eq(buf, "hello, kernel");
	cr_assert_eq(utcp_readable(c), 0);
	utcp_close(c);
	peer_join(&pr);
	cr_assert(pr.eof, "the peer saw our FIN");
	cr_assert_eq(pr.got, 13);
}

Test(conn, bulk_to_the_peer)
{
	struct peer pr = { .seed = 11 };
	__u64 len = 64ull << 20;
	struct utcp_conn *c;
	double t0, dt;

	peer_start(&pr, 4420, peer_sink);
	c = connect_b(4420);
	t0 = now_s();
	send_pattern(c, 11, len, 256 << 10);
	print_stats("bulk to the peer", c);
	utcp_close(c);
	peer_join(&pr);
	dt = now_s() - t0;
	cr_assert_eq(pr.err, 0, "peer: %s", strerror(pr.err));
	cr_assert_eq(pr.bad_at, -1, "byte %ld wrong at the peer", pr.bad_at);
	cr_assert_eq(pr.got, len);
	fprintf(stderr, "utcp -> kernel: %llu MiB in %.2f s: %.2f Gbit/s\n",
		(unsigned long long)(len >> 20), dt, len * 8 / dt / 1e9);
}

Test(conn, bulk_from_the_peer)
{
	struct peer pr = { .seed = 12, .len = 64ull << 20 };
	struct utcp_conn *c;
	double t0, dt;
	char x;

	peer_start(&pr, 4420, peer_source);
	c = connect_b(4420);
	t0 = now_s();
	read_pattern(c, 12, pr.len, 256 << 10);
	dt = now_s() - t0;
	cr_assert_eq(utcp_read(c, &x, 1), -EPIPE, "the peer's FIN");
	print_stats("bulk from the peer", c);
	utcp_close(c);
	peer_join(&pr);
	cr_assert_eq(pr.err, 0, "peer: %s", strerror(pr.err));
	fprintf(stderr, "kernel -> utcp: %llu MiB in %.2f s: %.2f Gbit/s\n",
		(unsigned long long)(pr.len >> 20), dt, pr.len * 8 / dt / 1e9);
}

/* Over IPv6: the key is the addresses as they are (not IPv4-mapped), the
 * segments IPv6's (checksums with its pseudo-header, 60 bytes less of
 * headers for the MSS) both ways, verified byte by byte */
Test(conn, both_ways_over_ipv6)
{
	struct peer in = { .seed = 14 },
		    out = { .seed = 15, .len = 8ull << 20 };
	struct ddp_flow_key key;
	struct in6_addr b6;
	struct utcp_conn *c;

	peer_start(&in, 4420, peer_sink);
	c = connect_b6(4420);
	utcp_flow_key(c, &key);
	inet_pton(AF_INET6, ADDR6_B, &b6);
	cr_assert_arr_eq(key.raddr, &b6, 16, "the peer's IPv6 address");
	send_pattern(c, 14, 4ull << 20, 64 << 10);
	utcp_close(c);
	peer_join(&in);
	cr_assert(in.eof && in.bad_at < 0 && in.got == 4ull << 20,
		  "the peer got %llu bytes, bad at %ld",
		  (unsigned long long)in.got, in.bad_at);

	peer_start(&out, 4421, peer_source);
	c = connect_b6(4421);
	read_pattern(c, 15, out.len, 256 << 10);
	print_stats("from the peer over IPv6", c);
	utcp_close(c);
	peer_join(&out);
	cr_assert_eq(out.err, 0, "peer: %s", strerror(out.err));
}

/* One read of more than the window holds (a large PDU's data): it must
 * take the bytes as they come, or the window never opens again */
Test(conn, read_larger_than_the_window)
{
	struct peer pr = { .seed = 13, .len = 8ull << 20 };
	struct utcp_conn *c;

	peer_start(&pr, 4420, peer_source);
	c = connect_b(4420);
	read_pattern(c, 13, pr.len, 2 << 20);
	utcp_close(c);
	peer_join(&pr);
	cr_assert_eq(pr.err, 0, "peer: %s", strerror(pr.err));
}

/* Skips larger than the window, between reads: the bytes after each skip
 * are the stream's own, and the skipped ones count as copied by nobody */
Test(conn, skip_between_reads_keeps_the_stream_in_step)
{
	struct peer pr = { .seed = 17, .len = 8ull << 20 };
	struct utcp_stats s;
	struct utcp_conn *c;
	__u64 off;
	__u8 buf[4096];
	char x;

	peer_start(&pr, 4420, peer_source);
	c = connect_b(4420);
	for (off = 0; off < pr.len; off += sizeof(buf)) {
		cr_assert_eq(utcp_skip(c, (1 << 20) - sizeof(buf)), 0);
		off += (1 << 20) - sizeof(buf);
		cr_assert_eq(utcp_read(c, buf, sizeof(buf)), 0);
		cr_assert_eq(pat_check(17, off, buf, sizeof(buf)), -1,
			     "the bytes after a skip, at %llu",
			     (unsigned long long)off);
	}
	cr_assert_eq(utcp_skip(c, 1), -EPIPE, "the peer's FIN");
	cr_assert_eq(utcp_read(c, &x, 1), -EPIPE);
	utcp_stats(c, &s);
	cr_assert_eq(s.copied_bytes, 8 * sizeof(buf), "only what was read");
	utcp_close(c);
	peer_join(&pr);
	cr_assert_eq(pr.err, 0, "peer: %s", strerror(pr.err));
}

/* Request and answer, sizes from 1 byte to a few segments */
Test(conn, many_small_exchanges)
{
	struct peer pr = { .chunk = 65536 };
	__u8 out[5000], in[5000];
	struct utcp_conn *c;
	struct iovec v[2];
	size_t len, half;
	__u64 off = 0;
	double t0;
	int i;

	peer_start(&pr, 4420, peer_echo);
	c = connect_b(4420);
	t0 = now_s();
	for (i = 0; i < 3000; i++) {
		len = 1 + (i * 7919u) % (i % 10 ? 200 : sizeof(out));
		half = len / 2;
		pat_fill(21, off, out, len);
		v[0] = (struct iovec){ .iov_base = out, .iov_len = half };
		v[1] = (struct iovec){ .iov_base = out + half,
				       .iov_len = len - half };
		cr_assert_eq(utcp_send(c, v, 2), 0, "exchange %d", i);
		cr_assert_eq(utcp_read(c, in, len), 0, "exchange %d", i);
		cr_assert_eq(pat_check(21, off, in, len), -1, "exchange %d", i);
		off += len;
	}
	fprintf(stderr, "3000 exchanges in %.2f s: %.0f us each\n",
		now_s() - t0, (now_s() - t0) / 3000 * 1e6);
	print_stats("small exchanges", c);
	utcp_close(c);
	peer_join(&pr);
	cr_assert_eq(pr.got, off);
	cr_assert(pr.eof);
}

/* utcp closes first: the peer reads EOF and closes in turn */
Test(conn, close_from_utcp)
{
	struct peer pr = { 0 };
	struct iovec v = { .iov_base = "bye", .iov_len = 3 };
	struct utcp_conn *c;
	double t0;

	peer_start(&pr, 4420, peer_hold);
	c = connect_b(4420);
	cr_assert_eq(utcp_send(c, &v, 1), 0);
	t0 = now_s();
	utcp_close(c);
	cr_assert_lt(now_s() - t0, 0.5, "the FINs crossed quickly");
	peer_join(&pr);
	cr_assert(pr.eof, "the peer saw our FIN");
	cr_assert_eq(pr.got, 3);
}

/* The peer sends and closes: everything is read, then -EPIPE */
Test(conn, close_from_the_peer)
{
	struct peer pr = { .seed = 31, .len = 100000 };
	struct utcp_conn *c;
	struct iovec v = { .iov_base = "x", .iov_len = 1 };
	double t0;
	char x;

	peer_start(&pr, 4420, peer_source);
	c = connect_b(4420);
	read_pattern(c, 31, pr.len, 7000);
	cr_assert_eq(utcp_read(c, &x, 1), -EPIPE);
	cr_assert_eq(utcp_poll(c, 100), -EPIPE);
	cr_assert_eq(utcp_send(c, &v, 1), 0, "half-closed: we may still send");
	t0 = now_s();
	utcp_close(c);
	cr_assert_lt(now_s() - t0, 0.5, "LAST_ACK answered at once");
	peer_join(&pr);
	cr_assert(pr.eof);
}

static void peer_send_then_reset(struct peer *pr)
{
	__u8 buf[1000], ok[2];

	pat_fill(41, 0, buf, sizeof(buf));
	if (write(pr->fd, buf, sizeof(buf)) != sizeof(buf) ||
	    read(pr->fd, ok, 2) != 2)
		pr->err = EIO;
	pr->linger0 = true;
}

Test(conn, reset_by_the_peer)
{
	struct peer pr = { 0 };
	struct iovec v = { .iov_base = "ok", .iov_len = 2 };
	struct utcp_conn *c;
	__u8 buf[1000];

	peer_start(&pr, 4420, peer_send_then_reset);
	c = connect_b(4420);
	cr_assert_eq(utcp_read(c, buf, sizeof(buf)), 0);
	cr_assert_eq(pat_check(41, 0, buf, sizeof(buf)), -1);
	cr_assert_eq(utcp_send(c, &v, 1), 0);
	cr_assert_eq(utcp_read(c, buf, 1), -ECONNRESET);
	cr_assert_eq(utcp_send(c, &v, 1), -ECONNRESET);
	cr_assert_eq(utcp_poll(c, 0), -ECONNRESET);
	peer_join(&pr);
	cr_assert_eq(pr.err, 0);
	utcp_close(c);
}

Test(conn, connect_to_a_closed_port_is_refused)
{
	struct utcp_conn *c;
	char err[256], want[256];
	double t0 = now_s();
	int ret;

	ret = utcp_connect(env.port, ADDR_B, 4421, &c, err, sizeof(err));
	cr_assert_eq(ret, -ECONNREFUSED, "%d: %s", ret, err);
	cr_assert_null(c);
	cr_assert_lt(now_s() - t0, 0.5);
	snprintf(want, sizeof(want), "connecting to %s:4421 from %s:", ADDR_B,
		 ADDR_A);
	cr_assert(!strncmp(err, want, strlen(want)), "%s", err);
	cr_assert_not_null(strstr(err, "refused (the peer answered RST)"), "%s",
			   err);
	/* the steering went with it: the engine has no flow left */
	cr_assert_eq(ddp_flow_mem(env.dev, 0)->state == DDP_FLOW_ALIVE, 0);
}

Test(conn, connect_to_a_silent_address_times_out)
{
	struct utcp_conn *c;
	char err[256];
	double t0, dt;
	int ret;

	env_fast_timers();
	sh(false,
	   "ip neigh add " ADDR_SILENT
	   " lladdr 02:00:00:00:00:09 dev %s nud permanent",
	   env.va);
	t0 = now_s();
	ret = utcp_connect(env.port, ADDR_SILENT, 4420, &c, err, sizeof(err));
	dt = now_s() - t0;
	cr_assert_eq(ret, -ETIMEDOUT, "%d: %s", ret, err);
	cr_assert_not_null(strstr(err, "no answer to 3 SYNs"), "%s", err);
	/* 100, 200 and 400 ms */
	cr_assert(dt > 0.6 && dt < 1.5, "%.2f s", dt);
}

Test(conn, connect_without_a_neighbour_fails)
{
	struct utcp_conn *c;
	char err[256];
	int ret;

	ret = utcp_connect(env.port, ADDR_NOBODY, 4420, &c, err, sizeof(err));
	cr_assert_eq(ret, -EHOSTUNREACH, "%d: %s", ret, err);
	cr_assert_not_null(strstr(err, "no neighbour entry for " ADDR_NOBODY),
			   "%s", err);
	ret = utcp_connect(env.port, ADDR6_NOBODY, 4420, &c, err, sizeof(err));
	cr_assert_eq(ret, -EHOSTUNREACH, "%d: %s", ret, err);
	cr_assert_not_null(strstr(err, "no neighbour entry for " ADDR6_NOBODY),
			   "%s", err);
	cr_assert_not_null(strstr(err, "after 3 s of neighbour discovery"),
			   "%s", err);
	ret = utcp_connect(env.port, "10.77.0.300", 4420, &c, err, sizeof(err));
	cr_assert_eq(ret, -EINVAL);
	cr_assert_str_eq(err, "'10.77.0.300' is not an IPv4 or IPv6 address");
}

Test(conn, port_refuses_what_it_cannot_serve)
{
	struct xsk_port *p;
	char err[256];
	int ret;

	cr_assert_eq(xsk_port_open(env.dev, "lo", XSK_MODE_AUTO, &p, err,
				   sizeof(err)),
		     -EINVAL);
	cr_assert_not_null(strstr(err, "the engine is not attached to 'lo'"),
			   "%s", err);
	cr_assert_eq(xsk_port_open(env.dev, "nosuch0", XSK_MODE_AUTO, &p, err,
				   sizeof(err)),
		     -ENODEV);
	cr_assert_str_eq(err,
			 "no interface 'nosuch0' in this network namespace");
	ret = xsk_port_open(env.dev, env.va, XSK_MODE_AUTO, &p, err,
			    sizeof(err));
	cr_assert_eq(ret, -EBUSY, "%d %s", ret, err);
	cr_assert_not_null(strstr(err, "another AF_XDP socket"), "%s", err);
}

/* Zero-copy is tried first; veth has none, so the port runs in copy mode,
 * says so, and so do its flows. Zero-copy alone is refused, and why. */
Test(conn, port_binds_zero_copy_where_it_can_else_copy)
{
	struct utcp_conn *c;
	struct peer pr = { .chunk = 65536 };
	struct xsk_port *p;
	char err[256], want[256];
	int ret;

	cr_assert_not(utcp_port_zerocopy(env.port));
	cr_assert_eq(utcp_port_sk_flags(env.port), DDP_SK_XSK);
	peer_start(&pr, 4420, peer_echo);
	c = connect_b(4420);
	cr_assert_eq(ddp_flow_mem(env.dev, utcp_flow_id(c))->cfg.flags,
		     DDP_SK_XSK);
	utcp_close(c);
	peer_join(&pr);

	utcp_port_close(env.port);
	env.port = NULL;
	ret = xsk_port_open(env.dev, env.va, XSK_MODE_ZEROCOPY, &p, err,
			    sizeof(err));
	cr_assert_eq(ret, -EOPNOTSUPP, "%d %s", ret, err);
	snprintf(
		want, sizeof(want),
		"binding '%s' queue 0 zero-copy: Operation not supported (the driver offers no zero-copy there; copy mode would)",
		env.va);
	cr_assert_str_eq(err, want);
	ret = xsk_port_open(env.dev, env.va, XSK_MODE_COPY, &p, err,
			    sizeof(err));
	cr_assert_eq(ret, 0, "%s", err);
	cr_assert_not(p->zc);
	xsk_port_close(p);
}

/* Two connections on one port, their data interleaved */
Test(conn, two_connections_share_the_port)
{
	struct peer p1 = { .chunk = 65536 }, p2 = { .chunk = 65536 };
	__u8 out[3000], in[3000];
	struct utcp_conn *a, *b;
	struct iovec v;
	__u64 off = 0;
	int i;

	peer_start(&p1, 4420, peer_echo);
	peer_start(&p2, 4422, peer_echo);
	a = connect_b(4420);
	b = connect_b(4422);
	cr_assert_neq(utcp_flow_id(a), utcp_flow_id(b));
	for (i = 0; i < 300; i++, off += sizeof(out)) {
		pat_fill(51, off, out, sizeof(out));
		v = (struct iovec){ .iov_base = out, .iov_len = sizeof(out) };
		cr_assert_eq(utcp_send(a, &v, 1), 0);
		pat_fill(52, off, out, sizeof(out));
		cr_assert_eq(utcp_send(b, &v, 1), 0);
		cr_assert_eq(utcp_read(b, in, sizeof(in)), 0);
		cr_assert_eq(pat_check(52, off, in, sizeof(in)), -1);
		cr_assert_eq(utcp_read(a, in, sizeof(in)), 0);
		cr_assert_eq(pat_check(51, off, in, sizeof(in)), -1);
	}
	utcp_close(a);
	utcp_close(b);
	peer_join(&p1);
	peer_join(&p2);
	cr_assert_eq(p1.got, off);
	cr_assert_eq(p2.got, off);
}

/* The peer stops answering: retransmissions give up with -ETIMEDOUT */
Test(conn, data_unanswered_times_out)
{
	struct fault_cfg f = { .port = 4420, .in_drop = FAULT_MILLION };
	struct peer pr = { 0 };
	struct iovec v = { .iov_base = "lost", .iov_len = 4 };
	struct utcp_stats st;
	struct utcp_conn *c;
	double t0;
	char x;

	env_faults(100);
	env_fast_timers();
	peer_start(&pr, 4420, peer_hold);
	c = connect_b(4420);
	fault_set(&f);
	t0 = now_s();
	cr_assert_eq(utcp_send(c, &v, 1), 0);
	cr_assert_eq(utcp_read(c, &x, 1), -ETIMEDOUT);
	fprintf(stderr, "gave up after %.2f s\n", now_s() - t0);
	utcp_stats(c, &st);
	cr_assert_eq(st.rto, 3, "rto %llu", (unsigned long long)st.rto);
	cr_assert_leq(st.probes, 1);
	cr_assert_eq(st.retransmits, st.rto + st.probes);
	cr_assert_eq(utcp_send(c, &v, 1), -ETIMEDOUT);
	utcp_close(c);
	/* the peer never heard of it: wake it up */
	shutdown(pr.fd, SHUT_RD);
	peer_join(&pr);
}

static void peer_slow_sink(struct peer *pr)
{
	usleep(700000); /* its window closes meanwhile */
	peer_sink(pr);
}

static volatile bool sink_open;

static void peer_gated_sink(struct peer *pr)
{
	while (!sink_open)
		usleep(1000);
	peer_sink(pr);
}

/* A read or a send that makes no progress for utcp_set_timeout()'s time
 * fails with -ETIMEDOUT (a controller that stopped): a peer that sends
 * nothing, then one that reads nothing until told */
Test(conn, reads_and_sends_without_progress_time_out)
{
	struct peer pr = { 0 }, sk = { .seed = 73 };
	size_t len = 16 << 20;
	__u8 buf[10], *big = malloc(len);
	struct iovec v = { big, len };
	struct utcp_conn *c;
	double t0;

	cr_assert_not_null(big);
	peer_start(&pr, 4420, peer_hold);
	c = connect_b(4420);
	utcp_set_timeout(c, 300);
	t0 = now_s();
	cr_assert_eq(utcp_read(c, buf, sizeof(buf)), -ETIMEDOUT);
	cr_assert_geq(now_s() - t0, 0.29);
	utcp_close(c);
	peer_join(&pr);

	pat_fill(73, 0, big, len);
	peer_start(&sk, 4421, peer_gated_sink);
	c = connect_b(4421);
	utcp_set_timeout(c, 300);
	cr_assert_eq(utcp_send(c, &v, 1), -ETIMEDOUT);
	sink_open = true;
	utcp_close(c);
	peer_join(&sk);
	/* what went out went out right */
	cr_assert_eq(sk.bad_at, -1);
	cr_assert_gt(sk.got, 0);
	free(big);
}

/* The peer's window closes: utcp waits, probes, and goes on */
Test(conn, zero_window_from_the_peer)
{
	struct peer pr = { .seed = 71 };
	__u64 len = 16 << 20;
	struct utcp_conn *c;
	double t0 = now_s();

	peer_start(&pr, 4420, peer_slow_sink);
	c = connect_b(4420);
	send_pattern(c, 71, len, 1 << 20);
	print_stats("zero window from the peer", c);
	utcp_close(c);
	peer_join(&pr);
	cr_assert_eq(pr.bad_at, -1);
	cr_assert_eq(pr.got, len);
	cr_assert_lt(now_s() - t0, 5);
}

/* utcp reads late: its window closes (it holds rcv_frames frames at
 * most), the peer waits and probes, then everything arrives */
Test(conn, zero_window_from_utcp)
{
	struct peer pr = { .seed = 72, .len = 8 << 20 };
	struct utcp_stats st;
	struct utcp_conn *c;
	size_t n;

	peer_start(&pr, 4420, peer_source);
	c = connect_b(4420);
	usleep(300000);
	n = utcp_readable(c);
	cr_assert_gt(n, 0);
	cr_assert_leq(n, 256 * 1460, "no more than the window: %zu", n);
	utcp_stats(c, &st);
	read_pattern(c, 72, pr.len, 100000);
	utcp_close(c);
	peer_join(&pr);
	cr_assert_eq(pr.err, 0);
}

struct worker {
	__u16 port;
	__u64 seed;
	int rounds;
	long bad;
	int err;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	__u8 out[20000], in[20000];
	struct utcp_conn *c;
	struct iovec v;
	__u64 off = 0;
	char err[256];
	size_t len;
	int i;

	w->bad = -1;
	w->err = utcp_connect(env.port, ADDR_B, w->port, &c, err, sizeof(err));
	if (w->err)
		return NULL;
	for (i = 0; i < w->rounds && !w->err; i++, off += len) {
		len = 1 + (i * 4099u) % sizeof(out);
		pat_fill(w->seed, off, out, len);
		v = (struct iovec){ .iov_base = out, .iov_len = len };
		w->err = utcp_send(c, &v, 1);
		if (!w->err)
			w->err = utcp_read(c, in, len);
		if (!w->err && pat_check(w->seed, off, in, len) >= 0)
			w->bad = off;
	}
	utcp_close(c);
	return NULL;
}

/* Threads of their own on one port: whoever polls serves both */
Test(conn, threads_share_the_port)
{
	struct peer p[3] = { { .chunk = 65536 },
			     { .chunk = 65536 },
			     { .chunk = 65536 } };
	struct worker w[3];
	pthread_t t[3];
	int i;

	for (i = 0; i < 3; i++) {
		peer_start(&p[i], 4430 + i, peer_echo);
		w[i] = (struct worker){ .port = 4430 + i,
					.seed = 80 + i,
					.rounds = 400 };
		cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		peer_join(&p[i]);
		cr_assert_eq(w[i].err, 0, "worker %d: %s", i,
			     strerror(-w[i].err));
		cr_assert_eq(w[i].bad, -1, "worker %d", i);
		cr_assert(p[i].eof);
	}
}

Test(conn, poll_says_when_bytes_are_there)
{
	struct peer pr = { .chunk = 4096 };
	struct iovec v = { .iov_base = "ping", .iov_len = 4 };
	struct utcp_conn *c;
	char buf[4];
	double t0;
	__u32 seq;

	peer_start(&pr, 4420, peer_echo);
	c = connect_b(4420);
	cr_assert_geq(utcp_fd(c), 0);
	t0 = now_s();
	cr_assert_eq(utcp_poll(c, 50), 0);
	cr_assert_geq(now_s() - t0, 0.045, "waited");
	cr_assert_eq(utcp_send(c, &v, 1), 0);
	cr_assert_eq(utcp_poll(c, 1000), 1);
	cr_assert_eq(utcp_readable(c), 4);
	seq = utcp_rcv_seq(c);
	cr_assert_eq(utcp_read(c, buf, 4), 0);
	cr_assert_eq(utcp_rcv_seq(c), seq + 4);
	cr_assert_eq(memcmp(buf, "ping", 4), 0);
	utcp_close(c);
	peer_join(&pr);
}
