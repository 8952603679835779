// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_untracked.c - fixtures of what the engine does not follow: resends
 * it cannot check or parse (a vouched checksum, fragments, ESP, unknown
 * extensions, truncated or jumbo frames) revoke what they replace;
 * checksums partial or summed in calls; frames another CPU saw. See
 * fixtures.h for what every fixture checks.
 */

#include <string.h>
#include <criterion/criterion.h>
#include "fixtures.h"

/*
 * six_reads: C2HData 2 is [2048, 4072), its data from 2072, its
 * CapsuleResp at 4072. A data-only frame of it arrives corrupted: placed
 * (data-only frames are not checked) and recorded, and dropped by the
 * transport. The resend comes repacketised, [3000, 4100), with the
 * CapsuleResp's header in its new bytes, in a way the engine cannot
 * follow; the transport takes it. The record of the corrupted bytes must
 * go, or the host skips bytes that are wrong in its buffer.
 */
static void send_corrupted_then(struct eng *e, void (*resend)(struct eng *))
{
	struct eng_patch p = { 2, { 10, 500 }, { 0xff, 0x01 } };

	eng_send_all(e, 0, 3048, 1000);
	eng_send_corrupt(e, 3048, 1000, &p);
	resend(e);
	send_losing_header(e, 4100, 0);
	cr_assert_eq(eng_reported(e, C(e, 1)), 0,
		     "the corrupted bytes trusted");
}

/* ... with a checksum the engine finds wrong, which an offload vouched
 * for (or a partial one where the engine may not take those) */
static void resend_vouched(struct eng *e)
{
	e->fl.csum = PKT_CSUM_WRONG;
	eng_send(e, 3000, 1100);
	e->fl.csum = PKT_CSUM_FULL;
}

static void run_resend_vouched(struct eng *e)
{
	send_corrupted_then(e, resend_vouched);
}

/* ... as two IP fragments, which only the kernel reassembles */
static void resend_fragmented(struct eng *e)
{
	static __u8 frame[PKT_MAX], a[PKT_MAX], b[PKT_MAX];
	size_t n = pkt_build(&e->fl, e->isn + 3000, e->s.buf + 3000, 1100,
			     frame),
	       n2, n1 = pkt_fragment(&e->fl, frame, n, 512, a, b, &n2);

	eng_send_frame(e, a, n1);
	eng_send_frame(e, b, n2);
}

static void run_resend_fragmented(struct eng *e)
{
	send_corrupted_then(e, resend_fragmented);
	cr_assert_eq(eng_flow_stats(e).untracked, 1, "the first fragment");
}

/* ... behind an IP header the engine cannot look past (ESP) */
static void resend_opaque(struct eng *e)
{
	__u8 frame[PKT_MAX];

	eng_send_frame(e, frame,
		       pkt_build_ip(&e->fl, 50, e->s.buf + 3000, 1100, frame));
}

static void run_resend_opaque(struct eng *e)
{
	send_corrupted_then(e, resend_opaque);
	cr_assert_eq(eng_flow_stats(e).unparsed, 1);
	/* and nothing placed within a datagram's reach is believed */
	cr_assert_eq(eng_reported(e, C(e, 2)), 0);
}

/* ... cut short: the frame holds `keep` bytes of it (counted from the
 * TCP header) while its IP length names all of it, as the first buffer of
 * a multi-buffer frame would; the engine cannot read it whole */
static void resend_truncated_at(struct eng *e, size_t keep)
{
	static __u8 frame[PKT_MAX];
	size_t n = pkt_build(&e->fl, e->isn + 3000, e->s.buf + 3000, 1100,
			     frame),
	       l4 = n - 1100 - 20 - e->fl.tcp_opt_len;

	eng_send_frame(e, frame, l4 + keep);
}

/* in the payload */
static void resend_truncated(struct eng *e)
{
	resend_truncated_at(e, 20 + e->fl.tcp_opt_len + 700);
}

/* in the TCP header's options: its data offset past the frame's end */
static void resend_truncated_in_options(struct eng *e)
{
	resend_truncated_at(e, 30);
}

static void run_resend_truncated(struct eng *e)
{
	send_corrupted_then(e, resend_truncated);
	cr_assert_eq(eng_flow_stats(e).untracked, 1, "the cut resend");
}

static void run_resend_truncated_in_options(struct eng *e)
{
	send_corrupted_then(e, resend_truncated_in_options);
	cr_assert_eq(eng_flow_stats(e).untracked, 1, "the cut resend");
}

/* ... in one jumbo frame of more bytes than the engine sums, [0, 10000):
 * a multi-buffer frame (BPF_PROG_TEST_RUN makes one past a page) */
static void resend_jumbo(struct eng *e)
{
	static __u8 frame[2 * PKT_MAX];
	size_t n = pkt_build(&e->fl, e->isn, e->s.buf, 10000, frame);

	cr_assert_gt(10000, DDP_MAX_SUMMED);
	eng_send_frame(e, frame, n);
}

static void run_resend_jumbo(struct eng *e)
{
	send_corrupted_then(e, resend_jumbo);
	cr_assert_eq(eng_reported(e, C(e, 0)), 0, "C2HData 1 trusted");
	cr_assert_eq(eng_flow_stats(e).untracked, 1, "the jumbo resend");
}

/* ... behind an IPv6 extension header the engine does not know
 * (mobility, 135) */
static void resend_unknown_ext(struct eng *e)
{
	__u8 frame[PKT_MAX];

	eng_send_frame(e, frame,
		       pkt_build_ip(&e->fl, 135, e->s.buf + 3000, 1100, frame));
}

static void run_resend_unknown_ext(struct eng *e)
{
	send_corrupted_then(e, resend_unknown_ext);
	cr_assert_eq(eng_flow_stats(e).unparsed, 1);
	cr_assert_eq(eng_reported(e, C(e, 2)), 0);
}

/* The transport took a frame the engine could not check ([3048, 4100),
 * an offload vouched for it); then a corrupted copy of its data-only part
 * comes (a spurious resend): new bytes to the engine, which places them
 * unchecked, a duplicate to the transport, which drops it and never asks
 * for them again. Nothing of it may be believed. */
static void run_duplicate_of_untracked(struct eng *e)
{
	struct eng_patch p = { 1, { 300 }, { 0x5a } };

	eng_send_all(e, 0, 3048, 1000);
	e->fl.csum = PKT_CSUM_WRONG;
	eng_send(e, 3048, 1052);
	e->fl.csum = PKT_CSUM_FULL;
	eng_send_corrupt(e, 3048, 1000, &p);
	send_losing_header(e, 4100, 0);
	/* the record of C2HData 2 grew over the duplicate: all of it goes */
	cr_assert_eq(eng_reported(e, C(e, 1)), 0);
}

/* Every frame of the stream comes with a partial checksum (a sender on
 * this host leaving it to offload): taken as the kernel takes it where
 * the engine is told the kernel hands those on, never flagged checked. */
static void run_partial_checksums(struct eng *e)
{
	e->fl.csum = PKT_CSUM_PARTIAL;
	run_answering(e);
	e->fl.csum = PKT_CSUM_FULL;
}

/* Three reads of 30000 bytes in 1000-byte frames; every fourth frame of
 * data is lost and comes three frames late (reordered, or resent): gaps
 * the engine absorbs, then copies of bytes it never saw. They need no
 * revocation (nothing of them was placed); writing one for each would
 * overflow the 16 a host remembers, and cost it every record. */
static void three_long_reads(struct eng *e)
{
	int i;

	for (i = 1; i <= 3; i++) {
		eng_tag(e, i, (i - 1) * 32768, 30000);
		add_read(e, i, 30000, 30000);
	}
}

/* Is [off, off + n) all data of one C2HData? */
static bool data_only(struct eng *e, size_t off, size_t n)
{
	long p = stream_pdu_at(&e->s, off);

	return p >= 0 && e->s.pdus[p].type == NVME_TCP_C2H_DATA &&
	       off >= D(e, p) && off + n <= D(e, p) + e->s.pdus[p].datal;
}

static void run_holes_filled_late(struct eng *e)
{
	size_t off, late = 0, lost = 0, n;
	int i, holes = 0, due = -1;

	for (off = 0, i = 0; off < e->s.len; off += n, i++) {
		n = e->s.len - off < 1000 ? e->s.len - off : 1000;
		if (i == due)
			eng_send(e, late, 1000); /* three frames late */
		if (i % 4 == 2 && data_only(e, off, n)) {
			late = off;
			due = i + 3;
			lost += n;
			holes++;
			continue;
		}
		eng_send(e, off, n);
	}
	cr_assert_gt(holes, DDP_REV_RING, "%d holes", holes);
	cr_assert_eq(eng_flow_stats(e).revoked, 0);
	/* the host copies the late bytes: the engine never placed them */
	cr_assert_eq(eng_reported(e, C(e, 0)) + eng_reported(e, C(e, 1)) +
			     eng_reported(e, C(e, 2)),
		     90000 - lost, "all but the late bytes (%zu)", lost);
}

/* integrity: what the engine does not follow still revokes */
FIXTURE(resend_with_a_vouched_checksum_revokes, .build = six_reads,
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .run = run_resend_vouched,
	.placed = "P?????", .events = -1,
	.stats = { { "csum_bad", 1 }, { "sync_lost", 1 } })

FIXTURE(duplicate_of_an_untracked_frame_not_believed, .build = six_reads,
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS,
	.run = run_duplicate_of_untracked, .placed = "P?????", .events = -1)

FIXTURE(resend_in_ip_fragments_revokes, .build = six_reads,
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .run = run_resend_fragmented,
	.placed = "P?????", .events = -1)

FIXTURE(resend_in_ipv6_fragments_revokes, .v6 = 1, .build = six_reads,
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .run = run_resend_fragmented,
	.placed = "P?????", .events = -1)

FIXTURE(resend_behind_esp_revokes_every_record, .build = six_reads,
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .run = run_resend_opaque,
	.placed = "??????", .events = -1)

FIXTURE(truncated_resend_revokes, .build = six_reads,
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .run = run_resend_truncated,
	.placed = "P?????", .events = -1)

FIXTURE(ipv6_truncated_resend_revokes, .v6 = 1, .build = six_reads,
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .run = run_resend_truncated,
	.placed = "P?????", .events = -1)

FIXTURE(resend_cut_in_its_tcp_options_revokes, .tcp_opt_len = 40,
	.build = six_reads, .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS,
	.run = run_resend_truncated_in_options, .placed = "??????",
	.events = -1)

FIXTURE(jumbo_resend_in_frags_revokes, .build = six_reads,
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .run = run_resend_jumbo,
	.placed = "??????", .events = -1)

FIXTURE(resend_behind_ipv6_esp_revokes_every_record, .v6 = 1,
	.build = six_reads, .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS,
	.run = run_resend_opaque, .placed = "??????", .events = -1)

FIXTURE(resend_behind_unknown_ipv6_extension_revokes_every_record, .v6 = 1,
	.build = six_reads, .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS,
	.run = run_resend_unknown_ext, .placed = "??????", .events = -1)

FIXTURE(ipv6_destination_options_followed, .v6 = 1, .ip6_dstopts = 16,
	.build = six_reads,
	.stats = { { "offload_bytes", 6 * 2000 }, { "sync_lost", 0 } })

FIXTURE(partial_checksums_taken_where_the_kernel_hands_them_on,
	.csum_partial = true, .build = six_reads, .run = run_partial_checksums,
	.stats = { { "offload_bytes", 6 * 2000 },
		   { "csum_bad", 0 },
		   { "compacted", 0 } })

FIXTURE(partial_checksums_refused_elsewhere, .build = six_reads,
	.run = run_partial_checksums, .placed = "------",
	.stats = { { "offload_bytes", 0 }, { "csum_partial", 0 } })

FIXTURE(checksums_in_512_byte_calls, .csum_max = 512, .build = six_reads,
	.run = run_corrupt_header, .placed = "P?PPPP",
	.stats = { { "csum_bad", 1 }, { "offload_bytes", 6 * 2000 } })

FIXTURE(ipv6_checksums_in_512_byte_calls, .csum_max = 512, .v6 = 1,
	.tcp_opt_len = 40, .build = long_pdu,
	.stats = { { "offload_bytes", 30000 }, { "csum_bad", 0 } })

FIXTURE(frame_another_cpu_tracks_is_missed_and_said,
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .build = six_reads,
	.run = run_another_cpu_tracking, .placed = "??????", .events = -1,
	.stats = { { "contended", 1 } })

FIXTURE(holes_filled_late_revoke_nothing, .build = three_long_reads,
	.run = run_holes_filled_late, .placed = "???",
	.stats = { { "sync_lost", 0 } })
