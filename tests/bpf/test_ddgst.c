// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_ddgst.c - fixtures of the data digest offload: a verdict per
 * C2HData PDU, given only where every byte of the PDU was followed. See
 * fixtures.h for what every fixture checks.
 */

#include <string.h>
#include <criterion/criterion.h>
#include "fixtures.h"

/* A byte of C2HData k's data (or, at -1, of its DDGST) changed after the
 * digest was computed: the frames' TCP checksums cover the change, as a
 * fault between the target's memory and its TCP would leave it. */
static void corrupt_pdu(struct eng *e, int k, long at)
{
	size_t i = C(e, k);

	e->s.buf[at < 0 ? E(e, i) + at : D(e, i) + at] ^= 0x5a;
}

static void six_reads_data_corrupted(struct eng *e)
{
	six_reads(e);
	corrupt_pdu(e, 2, 1000);
}

static void six_reads_ddgst_corrupted(struct eng *e)
{
	six_reads(e);
	corrupt_pdu(e, 3, -1);
}

/* C2HData k's frame ends k % 4 bytes into its DDGST; the last one's DDGST
 * comes a byte a frame. */
static void run_split_trailers(struct eng *e)
{
	size_t i, k = 0, cut;

	for (i = 0; i < e->s.npdus; i++) {
		if (e->s.pdus[i].type != NVME_TCP_C2H_DATA) {
			eng_send(e, P(e, i), E(e, i) - P(e, i));
			continue;
		}
		cut = E(e, i) - NVME_TCP_DIGEST_LEN + k % 4;
		if (k++ == 5)
			cut = E(e, i) - NVME_TCP_DIGEST_LEN;
		eng_send(e, P(e, i), cut - P(e, i));
		if (k == 6)
			eng_send_all(e, cut, E(e, i), 1);
		else
			eng_send(e, cut, E(e, i) - cut);
	}
}

/* The data of C2HData 2 in one-byte frames. */
static void run_data_in_one_byte_frames(struct eng *e)
{
	size_t i = C(e, 1);

	eng_send_all(e, 0, D(e, i), 1448);
	eng_send_all(e, D(e, i), D(e, i) + e->s.pdus[i].datal, 1);
	eng_send_all(e, D(e, i) + e->s.pdus[i].datal, e->s.len, 1448);
}

/* six_reads with digests: a data-only frame of C2HData 2 arrives with a
 * bad TCP checksum, then resent: it is checked like a header frame (its
 * bytes are digested), ignored, and its resend leaves the PDU unjudged. */
static void run_corrupt_digested_data(struct eng *e)
{
	struct eng_patch p = { 2, { 10, 500 }, { 0xff, 0x01 } };
	size_t d = D(e, C(e, 1));

	eng_send_all(e, 0, d + 500, 1000);
	eng_send_corrupt(e, d + 500, 1000, &p);
	eng_send_all(e, d + 1500, e->s.len, 1000);
	eng_send(e, d + 500, 1000);
	/* never placed from the corrupted copy */
	cr_assert_eq(eng_reported(e, C(e, 1)), 1000, "%u",
		     eng_reported(e, C(e, 1)));
}

/* The 6000-byte PDU is judged, then a frame of it comes again: the
 * kernel may have dropped the first copy and takes this one. */
static void run_resent_after_judged(struct eng *e)
{
	eng_send_all(e, 0, e->s.len, 1000);
	eng_send(e, 2000, 1000);
}

/* As run_another_cpu_tracking, the host's view left to the verdicts. */
static void run_another_cpu_digesting(struct eng *e)
{
	struct ddp_flow *f = eng_flow_rw(e);

	eng_send_all(e, 0, 3048, 1000);
	f->busy = 1;
	eng_send(e, 3048, 1000);
	f->busy = 0;
	eng_send_all(e, 4048, e->s.len, 1000);
}

/* the data digest offload: a verdict per C2HData PDU */
FIXTURE(data_digests_checked, .o = { .ddgst = 1 }, .build = six_reads,
	.verdicts = "oooooo",
	.stats = { { "ddgst_ok", 6 },
		   { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 },
		   { "csum_bad", 0 } })

FIXTURE(data_digests_not_checked_when_turned_off, .o = { .ddgst = 1 },
	.no_ddgst_offload = true, .build = six_reads, .verdicts = "------",
	.stats = { { "ddgst_ok", 0 },
		   { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 },
		   { "offload_bytes", 6 * 2000 } })

FIXTURE(header_digests_only_no_verdicts, .o = { .hdgst = 1 },
	.build = six_reads,
	.stats = { { "ddgst_ok", 0 },
		   { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 } })

FIXTURE(data_changed_under_a_good_tcp_checksum_is_bad, .o = { .ddgst = 1 },
	.build = six_reads_data_corrupted, .verdicts = "oobooo",
	.stats = { { "ddgst_ok", 5 },
		   { "ddgst_bad", 1 },
		   { "ddgst_unknown", 0 },
		   { "csum_bad", 0 } })

FIXTURE(ddgst_changed_is_bad, .o = { .hdgst = 1, .ddgst = 1 },
	.build = six_reads_ddgst_corrupted, .verdicts = "oooboo",
	.stats = { { "ddgst_ok", 5 },
		   { "ddgst_bad", 1 },
		   { "ddgst_unknown", 0 } })

FIXTURE(ddgst_split_across_frames_at_every_offset, .o = { .ddgst = 1 },
	.build = six_reads, .run = run_split_trailers, .verdicts = "oooooo",
	.stats = { { "ddgst_ok", 6 },
		   { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 } })

FIXTURE(data_digested_in_one_byte_frames, .o = { .hdgst = 1, .ddgst = 1 },
	.build = six_reads, .run = run_data_in_one_byte_frames,
	.stats = { { "ddgst_ok", 6 }, { "ddgst_bad", 0 } })

FIXTURE(data_digest_with_cpda_padding, .o = { .ddgst = 1, .cpda = 31 },
	.build = one_read,
	.stats = { { "ddgst_ok", 2 },
		   { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 } })

FIXTURE(data_digest_over_many_frames_and_segments, .o = { .ddgst = 1 },
	.build = sg_256, .run = run_odd_frames,
	.stats = { { "ddgst_ok", 4 },
		   { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 } })

FIXTURE(data_digest_of_an_unregistered_command, .o = { .ddgst = 1 },
	.build = unknown_cid, .placed = "-P",
	.stats = { { "ddgst_ok", 2 }, { "no_tag", 1 } })

FIXTURE(lost_data_frame_leaves_its_pdu_unknown, .o = { .ddgst = 1 },
	.build = long_read_then_one, .run = run_lost_data, .placed = "?P",
	.verdicts = "-o",
	.stats = { { "ddgst_ok", 1 },
		   { "ddgst_bad", 0 },
		   { "ddgst_unknown", 1 },
		   { "gap_absorbed", 1 } },
	.events = 0)

FIXTURE(duplicate_over_a_digested_pdu_leaves_it_unknown, .o = { .ddgst = 1 },
	.build = long_read_then_one, .run = run_duplicated, .placed = "?P",
	.verdicts = "-o",
	.stats = { { "ddgst_ok", 1 },
		   { "ddgst_bad", 0 },
		   { "ddgst_unknown", 1 } },
	.events = 0)

FIXTURE(corrupted_data_frame_never_judged, .o = { .ddgst = 1 },
	.build = six_reads, .run = run_corrupt_digested_data,
	.placed = "P?PPPP", .verdicts = "o-oooo",
	.stats = { { "csum_bad", 1 },
		   { "ddgst_ok", 5 },
		   { "ddgst_bad", 0 },
		   { "ddgst_unknown", 1 } })

FIXTURE(lost_header_resync_no_verdict_before_sync, .o = { .ddgst = 1 },
	.build = six_reads, .run = run_lost_header, .placed = "P--PPP",
	.stats = { { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 },
		   { "resync_confirm", 1 } },
	.events = 1)

FIXTURE(resend_over_a_judged_pdu_unbelieved, .o = { .ddgst = 1 },
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .build = long_read_then_one,
	.run = run_resent_after_judged, .placed = "?P", .verdicts = "-o",
	.stats = { { "ddgst_ok", 2 }, { "ddgst_unknown", 0 } }, .events = 0)

/* a frame met on another CPU may be the copy the transport takes: the
 * PDU it falls in, and those a datagram's reach after, are not judged */
FIXTURE(frame_another_cpu_tracks_leaves_digests_unjudged, .o = { .ddgst = 1 },
	.flags = DDP_SK_OFFLOAD | DDP_SK_XSK, .build = six_reads,
	.run = run_another_cpu_digesting, .placed = "??????", .events = -1,
	.verdicts = "o-----",
	.stats = { { "contended", 1 }, { "ddgst_bad", 0 } })

FIXTURE(frame_another_cpu_tracks_revokes_verdicts, .o = { .ddgst = 1 },
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .build = six_reads,
	.run = run_another_cpu_digesting, .placed = "??????", .events = -1,
	.verdicts = "------",
	.stats = { { "contended", 1 }, { "ddgst_bad", 0 } })
