// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fixture_streams.c - the streams and the runs more than one fixture
 * table uses (test_fixtures.c, test_untracked.c, test_ddgst.c).
 */

#include <string.h>
#include <criterion/criterion.h>
#include "fixtures.h"

void one_read(struct eng *e)
{
	eng_tag(e, 1, 0, 8192);
	add_read(e, 1, 8192, 4096);
}

void six_reads(struct eng *e)
{
	int i;

	for (i = 1; i <= 6; i++) {
		eng_tag(e, i, i * 4096, 2000);
		add_read(e, i, 2000, 2000);
	}
}

void long_pdu(struct eng *e)
{
	eng_tag(e, 1, 0, 30000);
	add_read(e, 1, 30000, 30000);
}

void run_odd_frames(struct eng *e)
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

void sg_256(struct eng *e)
{
	eng_tag_sg(e, 1, 3, 25600, 256, 1);
	add_read(e, 1, 25600, 7777);
}

void unknown_cid(struct eng *e)
{
	eng_tag(e, 1, 0, 2000);
	add_read(e, 9, 2000, 2000);
	add_read(e, 1, 2000, 2000);
}

void long_read_then_one(struct eng *e)
{
	eng_tag(e, 1, 0, 6000);
	add_read(e, 1, 6000, 6000);
	eng_tag(e, 2, 8192, 2000);
	add_read(e, 2, 2000, 2000);
}

/* Frame [2000, 3000) of the 6000-byte PDU is lost; TCP resends it last. */
void run_lost_data(struct eng *e)
{
	eng_send_all(e, 0, 2000, 1000);
	eng_send_all(e, 3000, e->s.len, 1000);
	eng_send(e, 2000, 1000);
	cr_assert_eq(eng_reported(e, C(e, 0)), 5000);
}

void run_duplicated(struct eng *e)
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

/* six_reads: C2HData k at 2048 * (k - 1), CapsuleResp at 2048 k - 24.
 * The frame holding C2HData 2's header is lost. */
void send_losing_header(struct eng *e, size_t from, int answer_from)
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

void run_lost_header(struct eng *e)
{
	eng_send_all(e, 0, 2048, 1024);
	send_losing_header(e, 3048, 0);
	eng_send(e, 2048, 1000); /* the retransmission */
}

/* The frame with C2HData 2's header arrives with its datao changed (and
 * so a bad checksum), then as it was sent. Its first copy steers nothing;
 * the transport might have taken it (the engine cannot tell a corrupted
 * frame from one whose checksum an offload vouched for), so what the
 * second copy places is not believed on a kernel socket: records of
 * those bytes are revoked. AF_XDP frames carry their own metadata. */
void run_corrupt_header(struct eng *e)
{
	struct eng_patch p = { 1, { 12 + 1 }, { 0x40 } }; /* datao += 16K */

	eng_send_all(e, 0, 2048, 1024);
	eng_send_corrupt(e, 2048, 1000, &p);
	eng_send_all(e, 2048, e->s.len, 1000);
	cr_assert_eq(eng_reported(e, C(e, 1)),
		     e->sk_flags & DDP_SK_RECORDS ? 2000 - (1000 - 24) : 2000);
}

/* A frame of C2HData 2 comes while another CPU tracks the flow (skb mode
 * takes frames on the sender's CPU): it is not followed, and everything
 * that depended on the engine seeing every frame is dropped: the records
 * so far, and belief in what is placed within a datagram's reach. */
void run_another_cpu_tracking(struct eng *e)
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
