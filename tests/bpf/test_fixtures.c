// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_fixtures.c - the fixture table. Each FIXTURE names a scenario; see
 * fixtures.h for what every one of them checks.
 */
#include <string.h>
#include <criterion/criterion.h>
#include "fixtures.h"

/* ---- streams ------------------------------------------------------------- */

static void one_read(struct eng *e)
{
	eng_tag(e, 1, 0, 8192);
	add_read(e, 1, 8192, 4096);
}

static void six_reads(struct eng *e)
{
	int i;

	for (i = 1; i <= 6; i++) {
		eng_tag(e, i, i * 4096, 2000);
		add_read(e, i, 2000, 2000);
	}
}

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

static void long_pdu(struct eng *e)
{
	eng_tag(e, 1, 0, 30000);
	add_read(e, 1, 30000, 30000);
}

static void run_odd_frames(struct eng *e)
{
	static const size_t cut[] = { 1448, 1, 7, 100, 999, 2, 1448 };
	size_t off = 0, i = 0;

	while (off < e->s.len) {
		size_t n = cut[i++ % 7];

		if (n > e->s.len - off)
			n = e->s.len - off;
		eng_send(e, off, n);
		off += n;
	}
}

static void sg_128(struct eng *e)
{
	eng_tag_sg(e, 1, 1, 25600, 128, 3);
	add_read(e, 1, 25600, 8000);
}

static void sg_256(struct eng *e)
{
	eng_tag_sg(e, 1, 3, 25600, 256, 1);
	add_read(e, 1, 25600, 7777);
}

static void unknown_cid(struct eng *e)
{
	eng_tag(e, 1, 0, 2000);
	add_read(e, 9, 2000, 2000);
	add_read(e, 1, 2000, 2000);
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

/* ---- arrival orders and host actions -------------------------------------- */

static void long_read_then_one(struct eng *e)
{
	eng_tag(e, 1, 0, 6000);
	add_read(e, 1, 6000, 6000);
	eng_tag(e, 2, 8192, 2000);
	add_read(e, 2, 2000, 2000);
}

/* Frame [2000, 3000) of the 6000-byte PDU is lost; TCP resends it last. */
static void run_lost_data(struct eng *e)
{
	eng_send_all(e, 0, 2000, 1000);
	eng_send_all(e, 3000, e->s.len, 1000);
	eng_send(e, 2000, 1000);
	cr_assert_eq(eng_reported(e, C(e, 0)), 5000);
}

static void run_reordered_data(struct eng *e)
{
	eng_send_all(e, 0, 2000, 1000);
	eng_send(e, 3000, 1000);
	eng_send(e, 2000, 1000);
	eng_send_all(e, 4000, e->s.len, 1000);
	cr_assert_eq(eng_reported(e, C(e, 0)), 5000);
}

static void run_duplicated(struct eng *e)
{
	eng_send_all(e, 0, 3000, 1000);
	eng_send(e, 2000, 1000);
	eng_send_all(e, 3000, e->s.len, 1000);
	/* a kernel socket may have dropped the first copy: the record that
	 * covered it is revoked; frame metadata goes with the frame */
	if (e->sk_flags & DDP_SK_RECORDS)
		cr_assert_eq(eng_reported(e, C(e, 0)), 6024 - 3000);
	else
		cr_assert_eq(eng_reported(e, C(e, 0)), 6000);
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

/* six_reads: C2HData k at 2048 * (k - 1), CapsuleResp at 2048 k - 24.
 * The frame holding C2HData 2's header is lost. */
static void send_losing_header(struct eng *e, size_t from, int answer_from)
{
	size_t off = from;
	int i;

	while (off < e->s.len) {
		size_t n = e->s.len - off < 1000 ? e->s.len - off : 1000;
		int first = e->nev;

		eng_send(e, off, n);
		eng_events(e);
		for (i = first; i < e->nev; i++)
			if (i >= answer_from)
				eng_answer(e, i);
		off += n;
	}
}

static void run_lost_header(struct eng *e)
{
	eng_send_all(e, 0, 2048, 1024);
	send_losing_header(e, 3048, 0);
	eng_send(e, 2048, 1000); /* the retransmission */
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

/* The frame with C2HData 2's header arrives with its datao changed (and
 * so a bad checksum), then as it was sent. Its first copy steers nothing;
 * the transport might have taken it (the engine cannot tell a corrupted
 * frame from one whose checksum an offload vouched for), so what the
 * second copy places is not believed on a kernel socket: records of
 * those bytes are revoked. AF_XDP frames carry their own metadata. */
static void run_corrupt_header(struct eng *e)
{
	struct eng_patch p = { 1, { 12 + 1 }, { 0x40 } }; /* datao += 16K */

	eng_send_all(e, 0, 2048, 1024);
	eng_send_corrupt(e, 2048, 1000, &p);
	eng_send_all(e, 2048, e->s.len, 1000);
	cr_assert_eq(eng_reported(e, C(e, 1)),
		     e->sk_flags & DDP_SK_RECORDS ? 2000 - (1000 - 24) : 2000);
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

/* ---- what the engine does not track (integrity) ---------------------------- */

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

/* A frame of C2HData 2 comes while another CPU tracks the flow (skb mode
 * takes frames on the sender's CPU): it is not followed, and everything
 * that depended on the engine seeing every frame is dropped: the records
 * so far, and belief in what is placed within a datagram's reach. */
static void run_another_cpu_tracking(struct eng *e)
{
	struct ddp_flow *f = eng_flow_rw(e);

	eng_send_all(e, 0, 3048, 1000);
	f->busy = 1;
	eng_send(e, 3048, 1000);
	f->busy = 0;
	eng_send_all(e, 4048, e->s.len, 1000);
	cr_assert_eq(eng_reported(e, C(e, 0)), 0, "a record kept");
	if (e->sk_flags & DDP_SK_RECORDS)
		cr_assert_eq(eng_reported(e, C(e, 5)), 0, "believed too soon");
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
	       off >= D(e, p) &&
	       off + n <= D(e, p) + e->s.pdus[p].datal;
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

/* ---- the data digest ----------------------------------------------------- */

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

/* ---- the table ------------------------------------------------------------ */

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

/* the data digest offload: a verdict per C2HData PDU */
FIXTURE(data_digests_checked, .o = { .ddgst = 1 }, .build = six_reads,
	.verdicts = "oooooo", .stats = { { "ddgst_ok", 6 },
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
	.stats = { { "ddgst_ok", 0 }, { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 } })
FIXTURE(data_changed_under_a_good_tcp_checksum_is_bad, .o = { .ddgst = 1 },
	.build = six_reads_data_corrupted, .verdicts = "oobooo",
	.stats = { { "ddgst_ok", 5 },
		   { "ddgst_bad", 1 },
		   { "ddgst_unknown", 0 },
		   { "csum_bad", 0 } })
FIXTURE(ddgst_changed_is_bad, .o = { .hdgst = 1, .ddgst = 1 },
	.build = six_reads_ddgst_corrupted, .verdicts = "oooboo",
	.stats = { { "ddgst_ok", 5 }, { "ddgst_bad", 1 },
		   { "ddgst_unknown", 0 } })
FIXTURE(ddgst_split_across_frames_at_every_offset, .o = { .ddgst = 1 },
	.build = six_reads, .run = run_split_trailers, .verdicts = "oooooo",
	.stats = { { "ddgst_ok", 6 }, { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 } })
FIXTURE(data_digested_in_one_byte_frames, .o = { .hdgst = 1, .ddgst = 1 },
	.build = six_reads, .run = run_data_in_one_byte_frames,
	.stats = { { "ddgst_ok", 6 }, { "ddgst_bad", 0 } })
FIXTURE(data_digest_with_cpda_padding, .o = { .ddgst = 1, .cpda = 31 },
	.build = one_read,
	.stats = { { "ddgst_ok", 2 }, { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 } })
FIXTURE(data_digest_over_many_frames_and_segments, .o = { .ddgst = 1 },
	.build = sg_256, .run = run_odd_frames,
	.stats = { { "ddgst_ok", 4 }, { "ddgst_bad", 0 },
		   { "ddgst_unknown", 0 } })
FIXTURE(data_digest_of_an_unregistered_command, .o = { .ddgst = 1 },
	.build = unknown_cid, .placed = "-P",
	.stats = { { "ddgst_ok", 2 }, { "no_tag", 1 } })
FIXTURE(lost_data_frame_leaves_its_pdu_unknown, .o = { .ddgst = 1 },
	.build = long_read_then_one, .run = run_lost_data, .placed = "?P",
	.verdicts = "-o", .stats = { { "ddgst_ok", 1 }, { "ddgst_bad", 0 },
		   { "ddgst_unknown", 1 }, { "gap_absorbed", 1 } },
	.events = 0)
FIXTURE(duplicate_over_a_digested_pdu_leaves_it_unknown, .o = { .ddgst = 1 },
	.build = long_read_then_one, .run = run_duplicated, .placed = "?P",
	.verdicts = "-o", .stats = { { "ddgst_ok", 1 }, { "ddgst_bad", 0 },
		   { "ddgst_unknown", 1 } },
	.events = 0)
FIXTURE(corrupted_data_frame_never_judged, .o = { .ddgst = 1 },
	.build = six_reads, .run = run_corrupt_digested_data, .placed = "P?PPPP",
	.verdicts = "o-oooo", .stats = { { "csum_bad", 1 }, { "ddgst_ok", 5 }, { "ddgst_bad", 0 },
		   { "ddgst_unknown", 1 } })
FIXTURE(lost_header_resync_no_verdict_before_sync, .o = { .ddgst = 1 },
	.build = six_reads, .run = run_lost_header, .placed = "P--PPP",
	.stats = { { "ddgst_bad", 0 }, { "ddgst_unknown", 0 },
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
	.verdicts = "o-----", .stats = { { "contended", 1 }, { "ddgst_bad", 0 } })
FIXTURE(frame_another_cpu_tracks_revokes_verdicts, .o = { .ddgst = 1 },
	.flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS, .build = six_reads,
	.run = run_another_cpu_digesting, .placed = "??????", .events = -1,
	.verdicts = "------", .stats = { { "contended", 1 }, { "ddgst_bad", 0 } })
