// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_fixtures.c - the fixture table: framing (PDU types, digests,
 * segments, CIDs, bad headers), arrival orders and the host's actions
 * (loss, reordering, duplicates, resyncs), limits and compaction. See
 * fixtures.h for what every fixture checks.
 */

#include <string.h>
#include <criterion/criterion.h>
#include "fixtures.h"

static void eight_reads(struct eng *e)
{
	int i;

	for (i = 1; i <= 8; i++) {
		eng_tag(e, i, i * 4096, 2000);
		add_read(e, i, 2000, 2000);
	}
}

static void every_type(struct eng *e)
{
	struct stream *s = &e->s;

	eng_tag(e, 1, 100, 3000);
	pdu_cmd(s, &e->o, 7, 0);
	pdu_cmd(s, &e->o, 8, 100);
	pdu_h2c_data(s, &e->o, 8, 0, 200);
	pdu_r2t(s, &e->o, 8, 0, 4096);
	pdu_term(s, NVME_TCP_H2C_TERM, 1, 8);
	pdu_term(s, NVME_TCP_C2H_TERM, 2, 40);
	pdu_icreq(s, &e->o);
	pdu_icresp(s, &e->o);
	pdu_rsp(s, &e->o, 7);
	add_read(e, 1, 3000, 3000);
}

/* PDU k's header is cut after k bytes, k = 1 .. 31 (header, digest and
 * the first data bytes). */
static void split_headers(struct eng *e)
{
	int k;

	for (k = 1; k <= 31; k++) {
		eng_tag(e, k, k * 2048, 1100);
		add_read(e, k, 1100, 1100);
	}
}

static void run_split_headers(struct eng *e)
{
	size_t i;

	for (i = 0; i < e->s.npdus; i++) {
		size_t k = i / 2 + 1; /* C2HData and CapsuleResp alternate */

		if (e->s.pdus[i].type != NVME_TCP_C2H_DATA) {
			eng_send(e, P(e, i), E(e, i) - P(e, i));
			continue;
		}
		eng_send(e, P(e, i), k);
		eng_send(e, P(e, i) + k, E(e, i) - P(e, i) - k);
	}
}

static void run_one_byte_header(struct eng *e)
{
	size_t i, end = D(e, 0);

	for (i = 0; i < end; i++)
		eng_send(e, i, 1);
	eng_send_all(e, end, e->s.len, 1448);
}

static void many_pdus(struct eng *e)
{
	int i;

	for (i = 0; i < 60; i++)
		pdu_rsp(&e->s, &e->o, 100 + i);
	for (i = 1; i <= 10; i++) {
		eng_tag(e, i, i * 2048, 1100);
		add_read(e, i, 1100, 1100);
	}
}

static void run_big_frames(struct eng *e)
{
	eng_send_all(e, 0, e->s.len, 2900);
}

static void sg_128(struct eng *e)
{
	eng_tag_sg(e, 1, 1, 25600, 128, 3);
	add_read(e, 1, 25600, 8000);
}

static void cid_range(struct eng *e)
{
	eng_tag(e, 0, 0, 2000);
	eng_tag(e, 0xffff, 4096, 2000);
	add_read(e, 0, 2000, 2000);
	add_read(e, 0xffff, 2000, 2000);
}

static void cid_reuse(struct eng *e)
{
	eng_tag(e, 5, 0, 4000);
	add_read(e, 5, 4000, 4000);
	add_read(e, 5, 4000, 4000);
}

static void run_cid_reuse(struct eng *e)
{
	size_t rsp = 1; /* the first read's CapsuleResp */

	eng_send_all(e, 0, E(e, rsp), 1448);
	eng_untag(e, 5);
	eng_tag(e, 5, 8192, 4000);
	eng_send_all(e, E(e, rsp), e->s.len, 1448);
}

static void long_pdu_8000(struct eng *e)
{
	eng_tag(e, 1, 0, 8000);
	add_read(e, 1, 8000, 8000);
}

static void run_teardown_mid_pdu(struct eng *e)
{
	const __u8 *buf = ddp_buf_mem(e->d);
	__u32 placed = 2 * 1448 - 24, i;

	eng_send_all(e, 0, 2 * 1448, 1448);
	eng_untag(e, 1);
	eng_send_all(e, 2 * 1448, e->s.len, 1448);
	/* after teardown_done the engine never wrote the buffer again */
	for (i = placed; i < 8000; i++)
		cr_assert_eq(buf[i], ENG_FILL, "byte %u written after teardown",
			     i);
	cr_assert_eq(eng_flow_stats(e).offload_bytes, placed);
}

static void short_buffer(struct eng *e)
{
	eng_tag(e, 1, 0, 2000);
	eng_tag(e, 2, 4096, 2000);
	add_read(e, 1, 3000, 3000);
	add_read(e, 2, 2000, 2000);
}

static void datao_beyond(struct eng *e)
{
	__u8 data[1000];

	eng_tag(e, 1, 0, 4096);
	gen_data(data, sizeof(data), 1);
	pdu_c2h_data(&e->s, &e->o, 1, 4000, data, sizeof(data),
		     NVME_TCP_F_DATA_LAST);
	pdu_rsp(&e->s, &e->o, 1);
}

static void below_threshold(struct eng *e)
{
	eng_tag(e, 1, 0, 1000);
	eng_tag(e, 2, 4096, 2000);
	add_read(e, 1, 1000, 1000);
	add_read(e, 2, 2000, 2000);
}

/* A read, a malformed C2HData header, then five reads. */
static void bad_header(struct eng *e, const struct nvme_tcp_hdr24 *bad)
{
	int i;

	eng_tag(e, 1, 0, 2000);
	add_read(e, 1, 2000, 2000);
	stream_raw(&e->s, bad, sizeof(*bad));
	for (i = 2; i <= 6; i++) {
		eng_tag(e, i, i * 4096, 2000);
		add_read(e, i, 2000, 2000);
	}
}

static void bad_plen(struct eng *e)
{
	struct nvme_tcp_hdr24 h = { .type = NVME_TCP_C2H_DATA,
				    .hlen = 24,
				    .pdo = 24,
				    .plen = 10,
				    .cccid = 2,
				    .datal = 100 };
	bad_header(e, &h);
}

static void bad_hlen(struct eng *e)
{
	struct nvme_tcp_hdr24 h = { .type = NVME_TCP_C2H_DATA,
				    .hlen = 200,
				    .pdo = 200,
				    .plen = 300,
				    .cccid = 2,
				    .datal = 100 };
	bad_header(e, &h);
}

static void bad_pdo(struct eng *e)
{
	struct nvme_tcp_hdr24 h = { .type = NVME_TCP_C2H_DATA,
				    .hlen = 24,
				    .pdo = 20,
				    .plen = 120,
				    .cccid = 2,
				    .datal = 100 };
	bad_header(e, &h);
}

static void bad_datal(struct eng *e)
{
	struct nvme_tcp_hdr24 h = { .type = NVME_TCP_C2H_DATA,
				    .hlen = 24,
				    .pdo = 24,
				    .plen = 124,
				    .cccid = 2,
				    .datal = 0xfffffff0 };
	bad_header(e, &h);
}

static void bad_type(struct eng *e)
{
	struct nvme_tcp_hdr24 h = { .type = 0x0b, .hlen = 24, .plen = 24 };

	bad_header(e, &h);
}

static void success_flags(struct eng *e)
{
	__u8 data[2000];

	gen_data(data, sizeof(data), 3);
	eng_tag(e, 1, 0, 2000);
	pdu_c2h_data(&e->s, &e->o, 1, 0, data, 2000,
		     NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	eng_tag(e, 2, 4096, 2000);
	add_read(e, 2, 2000, 2000);
}

static void success_without_last(struct eng *e)
{
	__u8 data[2000];
	int i;

	gen_data(data, sizeof(data), 4);
	eng_tag(e, 1, 0, 2000);
	pdu_c2h_data(&e->s, &e->o, 1, 0, data, 2000, NVME_TCP_F_DATA_SUCCESS);
	for (i = 2; i <= 6; i++) {
		eng_tag(e, i, i * 4096, 2000);
		add_read(e, i, 2000, 2000);
	}
}

static void tiny_pdus(struct eng *e)
{
	int i;

	for (i = 1; i <= 10; i++) {
		eng_tag(e, i, i * 256, 100);
		add_read(e, i, 100, 100);
	}
}

static void run_tiny_pdus(struct eng *e)
{
	struct ddp_stats st;

	eng_send(e, 0, e->s.len);
	st = eng_flow_stats(e);
	/* one frame: AF_XDP metadata has room for DDP_META_RANGES of them */
	if (e->sk_flags & DDP_SK_XSK) {
		cr_assert_eq(st.offload_bytes, DDP_META_RANGES * 100);
		cr_assert_eq(st.meta_full, 10 - DDP_META_RANGES);
	} else {
		cr_assert_eq(st.offload_bytes, 1000);
		cr_assert_eq(st.meta_full, 0);
	}
}

static void run_reordered_data(struct eng *e)
{
	eng_send_all(e, 0, 2000, 1000);
	eng_send(e, 3000, 1000);
	eng_send(e, 2000, 1000);
	eng_send_all(e, 4000, e->s.len, 1000);
	cr_assert_eq(eng_reported(e, C(e, 0)), 5000);
}

static void run_overlapping_retransmit(struct eng *e)
{
	eng_send_all(e, 0, 2000, 1000);
	eng_send(e, 1500, 1000); /* [1500, 2000) again, then new bytes */
	eng_send_all(e, 2500, e->s.len, 1000);
	if (e->sk_flags & DDP_SK_RECORDS)
		cr_assert_eq(eng_reported(e, C(e, 0)), 6024 - 2000);
	else
		cr_assert_eq(eng_reported(e, C(e, 0)), 6000);
}

/* The frame holding C2HData 2's header comes one frame late: the tracker
 * knew a header began there, reads it from the late frame and resumes in
 * that PDU, without a resync. */
static void run_reordered_header(struct eng *e)
{
	eng_send_all(e, 0, 2048, 1024);
	eng_send(e, 3048, 1000);
	eng_send(e, 2048, 1000);
	send_losing_header(e, 4048, 0);
	cr_assert_eq(eng_reported(e, C(e, 1)), 24, "the PDU's bytes after it");
}

/* ... but a first late copy has a bad checksum: the transport may take it
 * (an offload's mark), so which header it has is unknown, and the good
 * copy after it is not read either: a resync. */
static void run_late_header_bad_copy(struct eng *e)
{
	struct eng_patch p = { 1, { 12 + 1 }, { 0x40 } }; /* datao += 16K */

	eng_send_all(e, 0, 2048, 1024);
	eng_send(e, 3048, 1000);
	eng_send_corrupt(e, 2048, 1000, &p);
	eng_send(e, 2048, 1000);
	send_losing_header(e, 4048, 0);
}

/* ... but it comes after the stream left that PDU: the header after it
 * went by unread, so nothing is resumed: a resync. */
static void run_late_header_too_late(struct eng *e)
{
	eng_send_all(e, 0, 2048, 1024);
	eng_send_all(e, 3048, 5048, 1000);
	eng_send(e, 2048, 1000);
	cr_assert_eq(eng_events(e), 1);
	eng_answer(e, 0);
	send_losing_header(e, 5048, 1);
}

static void run_resync_denied(struct eng *e)
{
	eng_send_all(e, 0, 2048, 1024);
	eng_send_all(e, 3048, 5048, 1000);
	cr_assert_eq(eng_events(e), 1);
	eng_reply(e, e->ev[0].seq, e->ev[0].req_id, 0);
	send_losing_header(e, 5048, 1);
}

static void run_resync_stale(struct eng *e)
{
	eng_send_all(e, 0, 2048, 1024);
	eng_send_all(e, 3048, 5048, 1000);
	cr_assert_eq(eng_events(e), 1);
	/* wrong sequence number, then wrong request id: both ignored */
	eng_reply(e, e->ev[0].seq + 1, e->ev[0].req_id, 1);
	eng_send(e, 5048, 1000);
	eng_reply(e, e->ev[0].seq, e->ev[0].req_id + 1, 1);
	eng_send(e, 6048, 1000);
	eng_answer(e, 0);
	send_losing_header(e, 7048, 1);
}

static void run_reply_unasked(struct eng *e)
{
	eng_send_all(e, 0, 3000, 1448);
	eng_reply(e, e->isn + 4096, 1, 1);
	eng_send_all(e, 3000, e->s.len, 1448);
}

static void run_other_flows(struct eng *e)
{
	struct pkt_flow other = e->fl;
	__u8 frame[PKT_MAX], payload[200];
	size_t len;

	memset(payload, 0x07, sizeof(payload));
	len = pkt_build_udp(&e->fl, payload, sizeof(payload), frame);
	eng_send_frame(e, frame, len);
	other.rport = 4421;
	len = pkt_build(&other, e->isn, e->s.buf, 1000, frame);
	eng_send_frame(e, frame, len);
	other = e->fl;
	other.laddr[15] ^= 1;
	len = pkt_build(&other, e->isn, e->s.buf, 1000, frame);
	eng_send_frame(e, frame, len);
	other = e->fl;
	other.lport = e->fl.lport + 1;
	len = pkt_build(&other, e->isn, e->s.buf, 1000, frame);
	eng_send_frame(e, frame, len);
	cr_assert_eq(eng_flow_stats(e).rx_packets, 0,
		     "another flow was tracked");
	run_answering(e);
}

/* A data-only frame of C2HData 2 arrives corrupted, then resent. */
static void run_corrupt_data(struct eng *e)
{
	struct eng_patch p = { 2, { 10, 500 }, { 0xff, 0x01 } };

	eng_send_all(e, 0, 3048, 1000);
	eng_send_corrupt(e, 3048, 1000, &p);
	eng_send_all(e, 4048, e->s.len, 1000);
	eng_send(e, 3048, 1000);
	/* records: the PDU's one record covered the corrupted bytes, the
	 * resent frame revokes it; AF_XDP: the transport dropped the frame
	 * with its metadata */
	cr_assert_eq(eng_reported(e, C(e, 1)),
		     e->sk_flags & DDP_SK_RECORDS ? 0 : 2000 - 1000, "%u",
		     eng_reported(e, C(e, 1)));
}

static void run_slot_reused(struct eng *e)
{
	const __u8 *buf = ddp_buf_mem(e->d);
	__u32 i;

	eng_send_all(e, 0, 2 * 1448, 1448);
	eng_untag(e, 1);
	eng_tag(e, 2, 16384, 8000);
	cr_assert_eq(e->tags[1].tag, e->tags[0].tag, "the slot was not reused");
	eng_send_all(e, 2 * 1448, e->s.len, 1448);
	for (i = 0; i < 8000; i++)
		cr_assert_eq(buf[16384 + i], ENG_FILL,
			     "the new tag's byte %u written by the old PDU", i);
	cr_assert_eq(eng_flow_stats(e).offload_bytes, 2 * 1448 - 24);
}

/* Bytes 8 to 20 of C2HData 2's header are lost: the gap is inside a
 * header, so no absorbing it. */
static void run_gap_in_header(struct eng *e)
{
	eng_send_all(e, 0, 2048, 1024);
	eng_send(e, 2048, 8);
	send_losing_header(e, 2068, 0);
	eng_send(e, 2056, 12);
}

static void tiny_pdus_1100(struct eng *e)
{
	__u8 data[1100];
	int i;

	gen_data(data, sizeof(data), 11);
	eng_tag(e, 1, 0, 2000);
	for (i = 0; i < 1100; i++)
		pdu_c2h_data(&e->s, &e->o, 1, i, &data[i], 1,
			     i == 1099 ? NVME_TCP_F_DATA_LAST : 0);
	pdu_rsp(&e->s, &e->o, 1);
}

static void run_record_ring_full(struct eng *e)
{
	int i;

	eng_send_all(e, 0, e->s.len, 1448);
	/* the engine never waits for the host: the ring holds the last
	 * rec_ring - 1 records whole (the oldest slot is the next
	 * one's), the older ones say nothing any more */
	for (i = 0; i < 1100; i++)
		cr_assert_eq(eng_reported(e, C(e, i)),
			     i > 1100 - (int)eng_rec_ring(e), "C2HData %d", i);
	cr_assert_eq(eng_flow_stats(e).offload_bytes, 1100);
}

static void rsps_then_read(struct eng *e)
{
	int i;

	for (i = 0; i < 20; i++)
		pdu_rsp(&e->s, &e->o, 100 + i);
	eng_tag(e, 1, 0, 2000);
	add_read(e, 1, 2000, 2000);
}

/* More revocations than the flow remembers, none overlapping the read:
 * its record can no longer be trusted. */
static void run_revocations_overflow(struct eng *e)
{
	int i;

	eng_send_all(e, 0, e->s.len, 1448);
	for (i = 0; i < DDP_REV_RING + 1; i++)
		eng_send(e, i * 24, 24);
	cr_assert_eq(eng_reported(e, C(e, 0)),
		     e->sk_flags & DDP_SK_RECORDS ? 0 : 2000);
}

/* Every frame with placed bytes comes out without them: the frames that
 * hold only data, and those with a PDU boundary (its few unplaced bytes
 * move down). */
static void run_compacted(struct eng *e)
{
	struct ddp_stats st;

	eng_send_all(e, 0, e->s.len, 1448);
	st = eng_flow_stats(e);
	cr_assert_gt(st.offload_packets, 4);
	cr_assert_eq(st.compacted, st.offload_packets, "%llu of %llu",
		     (unsigned long long)st.compacted,
		     (unsigned long long)st.offload_packets);
}

/* A header in a read's data that is self-consistent but claims 1 GiB:
 * the tracker, searching after a lost header, must not follow it for a
 * gigabyte; the next real header resyncs. */
static void fake_huge_header(struct eng *e)
{
	struct nvme_tcp_hdr24 h = { .type = NVME_TCP_C2H_DATA,
				    .flags = NVME_TCP_F_DATA_LAST,
				    .hlen = 24,
				    .pdo = 24,
				    .plen = 24 + (1u << 30),
				    .cccid = 9,
				    .datal = 1u << 30 };
	__u8 data[6000];
	int i;

	gen_data(data, sizeof(data), 5);
	memcpy(data + 3000, &h, sizeof(h)); /* in the second frame's data */
	eng_tag(e, 1, 0, 2000);
	add_read(e, 1, 2000, 2000);
	eng_tag(e, 2, 4096, 6000);
	pdu_c2h_data(&e->s, &e->o, 2, 0, data, sizeof(data),
		     NVME_TCP_F_DATA_LAST);
	pdu_rsp(&e->s, &e->o, 2);
	for (i = 3; i <= 6; i++) {
		eng_tag(e, i, i * 8192, 2000);
		add_read(e, i, 2000, 2000);
	}
}

/* The frame with C2HData 2's header is lost: the search finds the fake
 * header first. */
static void run_fake_huge_header(struct eng *e)
{
	size_t lost = D(e, C(e, 1)) - 24;

	eng_send_all(e, 0, lost, 1000);
	send_losing_header(e, lost + 1000, 0);
	eng_send(e, lost, 1000);
}

/* max_data 8 KiB: a C2HData carrying 16 KiB is a protocol error */
static void over_max_data(struct eng *e)
{
	int i;

	eng_tag(e, 1, 0, 16384);
	add_read(e, 1, 16384, 16384);
	for (i = 2; i <= 6; i++) {
		eng_tag(e, i, 16384 + i * 4096, 2000);
		add_read(e, i, 2000, 2000);
	}
}

/* A read of exactly max_data (8192) in one PDU, then five small ones */
static void at_max_data(struct eng *e)
{
	int i;

	eng_tag(e, 1, 0, 8192);
	add_read(e, 1, 8192, 8192);
	for (i = 2; i <= 6; i++) {
		eng_tag(e, i, 8192 + i * 4096, 2000);
		add_read(e, i, 2000, 2000);
	}
}

FIXTURE(read_in_full_frames, .build = one_read,
	.stats = { { "offload_bytes", 8192 },
		   { "pdus", 3 },
		   { "resync", 0 },
		   { "drop", 0 } })

FIXTURE(every_pdu_type_framed, .build = every_type,
	.stats = { { "pdus", 11 },
		   { "pdu_err", 0 },
		   { "sync_lost", 0 },
		   { "offload_bytes", 3000 } })

FIXTURE(every_pdu_type_with_digests, .o = { .hdgst = 1, .ddgst = 1 },
	.build = every_type,
	.stats = { { "pdus", 11 }, { "pdu_err", 0 }, { "sync_lost", 0 } })

FIXTURE(header_split_at_every_offset, .o = { .hdgst = 1, .ddgst = 1 },
	.build = split_headers, .run = run_split_headers,
	.stats = { { "sync_lost", 0 }, { "offload_bytes", 31 * 1100 } })

FIXTURE(header_in_one_byte_frames, .o = { .hdgst = 1 }, .build = one_read,
	.run = run_one_byte_header, .stats = { { "offload_bytes", 8192 } })

FIXTURE(many_pdus_per_frame, .build = many_pdus, .run = run_big_frames,
	.stats = { { "pdus", 80 }, { "offload_bytes", 11000 } })

FIXTURE(metadata_ranges_per_frame, .build = tiny_pdus, .run = run_tiny_pdus,
	.io_threshold = 64, .placed = "??????????", .events = 0)

FIXTURE(c2h_data_over_many_frames, .build = long_pdu, .run = run_odd_frames,
	.stats = { { "offload_bytes", 30000 }, { "sync_lost", 0 } })

FIXTURE(segment_boundaries_128, .build = sg_128,
	.stats = { { "offload_bytes", 25600 } })

FIXTURE(segment_boundaries_256_unaligned, .build = sg_256,
	.run = run_odd_frames, .stats = { { "offload_bytes", 25600 } })

FIXTURE(header_digest, .o = { .hdgst = 1 }, .build = one_read)

FIXTURE(data_digest, .o = { .ddgst = 1 }, .build = one_read)

FIXTURE(both_digests, .o = { .hdgst = 1, .ddgst = 1 }, .build = one_read)

FIXTURE(cpda_padding, .o = { .hdgst = 1, .cpda = 7 }, .build = sg_256)

FIXTURE(cpda_largest, .o = { .ddgst = 1, .cpda = 31 }, .build = one_read)

FIXTURE(ipv6, .v6 = 1, .build = six_reads)

FIXTURE(tcp_options_40_bytes, .tcp_opt_len = 40, .build = six_reads)

FIXTURE(vlan_tagged, .vlan = 42, .v6 = 1, .build = one_read)

FIXTURE(unknown_cid_not_placed, .build = unknown_cid, .placed = "-P",
	.stats = { { "no_tag", 1 } })

FIXTURE(full_cid_range, .build = cid_range)

FIXTURE(cid_reused_after_teardown, .build = cid_reuse, .run = run_cid_reuse,
	.stats = { { "offload_bytes", 8000 }, { "ddp_teardown", 1 } })

FIXTURE(teardown_while_frames_arrive, .build = long_pdu_8000,
	.run = run_teardown_mid_pdu, .placed = "?")

FIXTURE(buffer_shorter_than_datal, .build = short_buffer, .placed = "-P",
	.stats = { { "bad_tag", 1 }, { "offload_bytes", 2000 } })

FIXTURE(datao_beyond_buffer, .build = datao_beyond, .placed = "-",
	.stats = { { "bad_tag", 1 } })

FIXTURE(below_io_threshold, .build = below_threshold, .placed = "-P",
	.stats = { { "small_io", 1 } })

FIXTURE(absurd_plen, .build = bad_plen, .placed = "P????P",
	.stats = { { "pdu_err", 1 }, { "sync_lost", 1 }, { "resync", 1 } },
	.events = 1)

FIXTURE(absurd_hlen, .build = bad_hlen, .placed = "P????P",
	.stats = { { "pdu_err", 1 }, { "resync", 1 } }, .events = 1)

FIXTURE(absurd_pdo, .build = bad_pdo, .placed = "P????P",
	.stats = { { "pdu_err", 1 }, { "resync", 1 } }, .events = 1)

FIXTURE(absurd_datal, .build = bad_datal, .placed = "P????P",
	.stats = { { "pdu_err", 1 }, { "resync", 1 } }, .events = 1)

FIXTURE(unknown_pdu_type, .build = bad_type, .placed = "P????P",
	.stats = { { "pdu_err", 1 }, { "resync", 1 } }, .events = 1)

FIXTURE(data_success_flag, .build = success_flags,
	.stats = { { "pdu_err", 0 }, { "offload_bytes", 4000 } })

FIXTURE(success_without_last_pdu, .build = success_without_last,
	.placed = "-????P", .stats = { { "pdu_err", 1 } }, .events = 1)

FIXTURE(lost_data_only_frame_absorbed, .build = long_read_then_one,
	.run = run_lost_data, .placed = "?P",
	.stats = { { "gap_absorbed", 1 },
		   { "sync_lost", 0 },
		   { "resync", 0 },
		   { "retrans", 1 } },
	.events = 0)

FIXTURE(reordered_data_frames, .build = long_read_then_one,
	.run = run_reordered_data, .placed = "?P",
	.stats = { { "gap_absorbed", 1 }, { "resync", 0 }, { "retrans", 1 } },
	.events = 0)

FIXTURE(duplicated_frame, .build = long_read_then_one, .run = run_duplicated,
	.placed = "?P", .stats = { { "retrans", 1 }, { "resync", 0 } },
	.events = 0)

FIXTURE(retransmission_overlapping_new_bytes, .build = long_read_then_one,
	.run = run_overlapping_retransmit, .placed = "?P",
	.stats = { { "retrans", 1 }, { "resync", 0 } }, .events = 0)

FIXTURE(lost_header_frame_resync_confirmed, .build = six_reads,
	.run = run_lost_header, .placed = "P--PPP",
	.stats = { { "sync_lost", 1 },
		   { "resync", 1 },
		   { "resync_confirm", 1 },
		   { "retrans", 1 } },
	.events = 1)

FIXTURE(corrupted_header_frame_ignored, .build = six_reads,
	.run = run_corrupt_header, .placed = "P?PPPP",
	.stats = { { "csum_bad", 1 },
		   { "sync_lost", 0 },
		   { "resync", 0 },
		   { "offload_bytes", 6 * 2000 } })

FIXTURE(corrupted_data_frame_not_trusted, .build = six_reads,
	.run = run_corrupt_data, .placed = "P?PPPP",
	.stats = { { "csum_bad", 0 }, { "resync", 0 } })

FIXTURE(tag_slot_reused_while_its_old_pdu_arrives, .build = long_pdu_8000,
	.run = run_slot_reused, .placed = "?")

FIXTURE(gap_inside_a_header_not_absorbed, .build = six_reads,
	.run = run_gap_in_header, .placed = "P--PPP",
	.stats = { { "gap_absorbed", 0 },
		   { "sync_lost", 1 },
		   { "resync_confirm", 1 } },
	.events = 1)

FIXTURE(record_ring_full, .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS,
	.io_threshold = 64, .build = tiny_pdus_1100,
	.run = run_record_ring_full, .placed = "*")

FIXTURE(more_revocations_than_remembered, .build = rsps_then_read,
	.run = run_revocations_overflow, .placed = "?",
	.stats = { { "retrans", DDP_REV_RING + 1 } })

FIXTURE(reordered_header_frame_resumes_without_resync, .build = six_reads,
	.run = run_reordered_header, .placed = "P?PPPP",
	.stats = { { "sync_lost", 1 }, { "resync", 0 }, { "retrans", 1 } },
	.events = 0)

FIXTURE(late_header_after_a_bad_copy_not_read, .build = six_reads,
	.run = run_late_header_bad_copy, .placed = "P--PPP",
	.stats = { { "csum_bad", 1 },
		   { "sync_lost", 1 },
		   { "resync_confirm", 1 } },
	.events = 1)

FIXTURE(late_header_after_its_pdu_not_read, .build = six_reads,
	.run = run_late_header_too_late, .placed = "P--PPP",
	.stats = { { "sync_lost", 1 }, { "resync_confirm", 1 }, { "pdu_err", 0 } },
	.events = 1)

FIXTURE(resync_denied, .build = eight_reads, .run = run_resync_denied,
	.placed = "P---PPPP",
	.stats = { { "resync", 2 },
		   { "resync_deny", 1 },
		   { "resync_confirm", 1 } },
	.events = 2)

FIXTURE(resync_stale_and_wrong_replies, .build = six_reads,
	.run = run_resync_stale, .placed = "P---PP",
	.stats = { { "resync", 1 },
		   { "resync_stale", 2 },
		   { "resync_confirm", 1 } },
	.events = 1)

FIXTURE(reply_without_request, .build = one_read, .run = run_reply_unasked,
	.stats = { { "resync_stale", 1 }, { "offload_bytes", 8192 } },
	.events = 0)

FIXTURE(other_flows_untouched, .build = one_read, .run = run_other_flows)

FIXTURE(xsk_frames_compacted, .flags = DDP_SK_OFFLOAD | DDP_SK_XSK,
	.o = { .hdgst = 1, .ddgst = 1 }, .build = long_read_then_one,
	.run = run_compacted)

FIXTURE(steered_only_flow_not_tracked, .flags = DDP_SK_XSK, .build = one_read,
	.placed = "--", .stats = { { "rx_packets", 0 }, { "pdus", 0 } })

/* a plausible header with a huge length stalls nothing */
FIXTURE(huge_header_in_read_data_not_followed, .build = fake_huge_header,
	.run = run_fake_huge_header, .placed = "P-???P", .events = 1,
	.stats = { { "resync_confirm", 1 } })

FIXTURE(data_longer_than_max_data_is_an_error, .max_data = 8192,
	.build = over_max_data, .placed = "-????P",
	.stats = { { "pdu_err", 1 }, { "resync_confirm", 1 } }, .events = 1)

/* ... and data of exactly max_data is placed, every byte */
FIXTURE(data_of_max_data_placed, .max_data = 8192, .build = at_max_data,
	.stats = { { "pdu_err", 0 }, { "offload_bytes", 8192 + 5 * 2000 } },
	.events = 0)

/* an AF_XDP flow whose frames go to the stack (no socket on the queue)
 * finds every frame as it came: nothing cut out */
FIXTURE(no_socket_frames_pass_unchanged, .flags = DDP_SK_OFFLOAD | DDP_SK_XSK,
	.no_socket = true, .o = { .hdgst = 1, .ddgst = 1 },
	.build = long_read_then_one, .placed = "??",
	.stats = { { "compacted", 0 }, { "offload_bytes", 8000 } })
