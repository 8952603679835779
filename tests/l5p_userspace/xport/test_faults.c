// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_faults.c - utcp against the kernel's TCP through faults injected
 * on the peer's veth by tc programs: segments dropped, duplicated,
 * delayed past the ones behind them, corrupted, at 1% and at higher
 * rates, in both directions. Every byte is checked, and the counters
 * (ours, the peer's TCP_INFO, the fault programs') show that the faults
 * happened and were repaired.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "harness.h"

TestSuite(faults, .init = env_init, .fini = env_fini, .timeout = 60);

struct run {
	struct utcp_stats up, down; /* utcp's, sending and receiving */
	__u32 peer_retrans_up, peer_retrans_down;
	struct fault_stats f;
};

/* len bytes from utcp to a kernel sink, then len bytes from a kernel
 * source to utcp, with the faults of cfg; all checked. */
static void both_ways(const char *what, struct fault_cfg cfg, __u64 len,
		      unsigned int tbf_mbit, struct run *r)
{
	struct peer sink = { .seed = 61 }, src = { .seed = 62, .len = len };
	struct utcp_conn *c;
	double t0, up, down;

	env_faults(tbf_mbit);
	cfg.port = 4420;

	peer_start(&sink, 4420, peer_sink);
	c = connect_b(4420);
	fault_set(&cfg);
	t0 = now_s();
	send_pattern(c, 61, len, 128 << 10);
	do {
		utcp_poll(c, 10);
		utcp_stats(c, &r->up);
	} while (r->up.snd_queued && now_s() - t0 < 30);
	utcp_close(c);
	peer_join(&sink);
	up = now_s() - t0;
	cr_assert_eq(sink.err, 0, "peer: %s", strerror(sink.err));
	cr_assert_eq(sink.bad_at, -1, "byte %ld wrong at the peer",
		     sink.bad_at);
	cr_assert_eq(sink.got, len, "the peer got %llu",
		     (unsigned long long)sink.got);
	r->peer_retrans_up = sink.retrans;

	peer_start(&src, 4420, peer_source);
	c = connect_b(4420);
	t0 = now_s();
	read_pattern(c, 62, len, 128 << 10);
	utcp_stats(c, &r->down);
	utcp_close(c);
	peer_join(&src);
	down = now_s() - t0;
	cr_assert_eq(src.err, 0, "peer: %s", strerror(src.err));
	r->peer_retrans_down = src.retrans;
	fault_stats(&r->f);

	fprintf(stderr,
		"%s: %llu KiB each way, up %.2f s (%.0f Mbit/s), down %.2f s (%.0f Mbit/s)\n"
		"  faults: seen %llu dropped %llu duped %llu delayed %llu back %llu corrupted %llu | in: seen %llu dropped %llu duped %llu\n"
		"  up:   retransmits %llu (rto %llu, fast %llu) ooo %llu dup %llu csum_bad %llu; peer retrans %u\n"
		"  down: retransmits %llu (rto %llu, fast %llu) ooo %llu dup %llu csum_bad %llu; peer retrans %u\n",
		what, (unsigned long long)(len >> 10), up, len * 8 / up / 1e6,
		down, len * 8 / down / 1e6, (unsigned long long)r->f.seen,
		(unsigned long long)r->f.dropped,
		(unsigned long long)r->f.duped,
		(unsigned long long)r->f.delayed, (unsigned long long)r->f.back,
		(unsigned long long)r->f.corrupted,
		(unsigned long long)r->f.in_seen,
		(unsigned long long)r->f.in_dropped,
		(unsigned long long)r->f.in_duped,
		(unsigned long long)r->up.retransmits,
		(unsigned long long)r->up.rto,
		(unsigned long long)r->up.fast_retransmits,
		(unsigned long long)r->up.ooo_segs,
		(unsigned long long)r->up.dup_segs,
		(unsigned long long)r->up.csum_bad, r->peer_retrans_up,
		(unsigned long long)r->down.retransmits,
		(unsigned long long)r->down.rto,
		(unsigned long long)r->down.fast_retransmits,
		(unsigned long long)r->down.ooo_segs,
		(unsigned long long)r->down.dup_segs,
		(unsigned long long)r->down.csum_bad, r->peer_retrans_down);
}

Test(faults, drops_one_percent)
{
	struct fault_cfg f = { .drop = 10000, .in_drop = 10000 };
	struct run r;

	both_ways("1% dropped", f, 8 << 20, 100, &r);
	cr_assert_gt(r.f.dropped, 0);
	cr_assert_gt(r.f.in_dropped, 0);
	cr_assert_gt(r.up.retransmits, 0, "utcp resent what was dropped");
	cr_assert_gt(r.up.fast_retransmits, 0);
	cr_assert_gt(r.peer_retrans_down, 0, "the kernel resent");
	cr_assert_gt(r.down.ooo_segs, 0, "gaps were reassembled");
}

Test(faults, duplicates_one_percent)
{
	struct fault_cfg f = { .dup = 10000, .in_dup = 10000 };
	struct run r;

	both_ways("1% duplicated", f, 8 << 20, 100, &r);
	cr_assert_gt(r.f.duped, 0);
	cr_assert_gt(r.f.in_duped, 0);
	cr_assert_gt(r.down.dup_segs, 0, "duplicates recognised");
}

Test(faults, reordered_one_percent)
{
	struct fault_cfg f = { .delay = 10000 };
	struct run r;

	both_ways("1% delayed", f, 8 << 20, 100, &r);
	cr_assert_gt(r.f.delayed, 0);
	cr_assert_eq(r.f.back, r.f.delayed, "every delayed frame came back");
	cr_assert_gt(r.down.ooo_segs, 0, "overtaken segments held");
}

Test(faults, corrupted_one_percent)
{
	struct fault_cfg f = { .corrupt = 10000 };
	struct run r;

	both_ways("1% corrupted", f, 8 << 20, 100, &r);
	cr_assert_gt(r.f.corrupted, 0);
	cr_assert_gt(r.down.csum_bad + r.up.csum_bad, 0,
		     "bad checksums caught");
	cr_assert_gt(r.peer_retrans_down, 0, "and the kernel resent them");
}

Test(faults, everything_at_three_percent)
{
	struct fault_cfg f = { .drop = 30000,
			       .dup = 30000,
			       .delay = 30000,
			       .corrupt = 30000,
			       .in_drop = 30000,
			       .in_dup = 30000 };
	struct run r;

	both_ways("3% of each", f, 4 << 20, 100, &r);
	cr_assert_gt(r.up.retransmits, 0);
	cr_assert_gt(r.down.ooo_segs, 0);
	cr_assert_gt(r.down.dup_segs, 0);
	cr_assert_gt(r.down.csum_bad + r.up.csum_bad, 0);
}

Test(faults, drops_ten_percent)
{
	struct fault_cfg f = { .drop = 100000, .in_drop = 100000 };
	struct run r;

	both_ways("10% dropped", f, 256 << 10, 100, &r);
	cr_assert_gt(r.up.retransmits, 0);
	cr_assert_gt(r.peer_retrans_down, 0);
}

/* Without SACK (the peer's sysctl): NewReno both ways */
Test(faults, drops_one_percent_without_sack)
{
	struct fault_cfg f = { .drop = 10000, .in_drop = 10000 };
	struct run r;

	sh(true, "echo 0 > /proc/sys/net/ipv4/tcp_sack");
	both_ways("1% dropped, no SACK", f, 4 << 20, 100, &r);
	cr_assert_gt(r.up.retransmits, 0);
	cr_assert_gt(r.up.fast_retransmits, 0);
	cr_assert_gt(r.peer_retrans_down, 0);
}
