// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_unit.c - the parts of utcp that need no network: sequence
 * arithmetic across the wrap, the Internet checksum against a plain
 * reference, and the receive queue (reassembly of segments arriving in
 * any order, duplicated and overlapping, and bytes the engine placed)
 * over a fake UMEM, counting every frame given back; the receive window's
 * right edge and segments trimmed there.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <criterion/criterion.h>
#include <sys/socket.h>
#include <unistd.h>
#include "xport/utcp_priv.h"
#include "xport/xport.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))

Test(unit, sequence_numbers_compare_across_the_wrap)
{
	cr_assert(seq_lt(1, 2));
	cr_assert(seq_lt(0xfffffff0u, 0x10));
	cr_assert(seq_gt(0x10, 0xfffffff0u));
	cr_assert(seq_leq(5, 5) && seq_geq(5, 5));
	cr_assert(!seq_lt(5, 5) && !seq_gt(5, 5));
	cr_assert(seq_lt(0x7fffffffu, 0x80000000u));
	cr_assert(seq_geq(0x80000000u, 0x7fffffffu));
	cr_assert(seq_leq(0xffffffffu, 0));
}

/* RFC 1071 the slow way: 16-bit big-endian words */
static __u16 ref_csum(const __u8 *b, size_t len, __u32 sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

Test(unit, checksum_matches_rfc_1071)
{
	const __u8 ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	__u8 buf[1600], out[2];
	__u16 c;
	size_t len, off, i;

	/* RFC 1071's example sums to 0xddf2 */
	c = utcp_csum_fold(utcp_csum_add(0, ex, sizeof(ex)));
	memcpy(out, &c, 2);
	cr_assert(out[0] == 0x22 && out[1] == 0x0d, "%02x%02x", out[0], out[1]);
	srand(7);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = rand();
	for (len = 0; len < 300; len++)
		for (off = 0; off < 4; off++) {
			c = utcp_csum_fold(utcp_csum_add(0, buf + off, len));
			memcpy(out, &c, 2);
			cr_assert_eq(out[0] << 8 | out[1],
				     ref_csum(buf + off, len, 0),
				     "len %zu off %zu", len, off);
		}
	/* two pieces at an even length are one */
	c = utcp_csum_fold(
		utcp_csum_add(utcp_csum_add(0, buf, 40), buf + 40, 1461));
	cr_assert_eq(c, utcp_csum_fold(utcp_csum_add(0, buf, 1501)));
}

Test(unit, tcp_checksum_covers_the_pseudo_header)
{
	__u8 seg[20 + 33] = { 0 }, ph[12];
	__be32 s = inet_addr("10.77.0.1"), d = inet_addr("10.77.0.2");
	__u16 c;
	__u8 *p;
	size_t i;

	for (i = 0; i < sizeof(seg); i++)
		seg[i] = i * 37;
	seg[12] = 5 << 4;
	seg[16] = seg[17] = 0;
	c = utcp_tcp_csum(&s, &d, false, seg, sizeof(seg));
	memcpy(seg + 16, &c, 2);
	cr_assert_eq(utcp_tcp_csum(&s, &d, false, seg, sizeof(seg)), 0,
		     "a segment with its checksum sums to zero");
	memcpy(ph, &s, 4);
	memcpy(ph + 4, &d, 4);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = 0;
	ph[11] = sizeof(seg);
	p = (__u8 *)&c;
	seg[16] = seg[17] = 0;
	cr_assert_eq(p[0] << 8 | p[1],
		     ref_csum(seg, sizeof(seg),
			      (__u16)~ref_csum(ph, sizeof(ph), 0)));
	seg[30] ^= 1;
	memcpy(seg + 16, &c, 2);
	cr_assert_neq(utcp_tcp_csum(&s, &d, false, seg, sizeof(seg)), 0,
		      "one bit wrong is seen");
}

/* IPv6's pseudo-header (RFC 8200 8.1): 16-byte addresses, a 32-bit
 * length, three zero bytes, the next header; over a segment longer than
 * 65535 bytes too (a jumbogram's length has high bits) */
Test(unit, tcp_checksum_over_ipv6)
{
	static __u8 seg[70000];
	__u8 s[16], d[16], ph[40];
	size_t lens[] = { 20, 53, 1460, sizeof(seg) }, i, j, len;
	__u16 c;
	__u8 *p;

	inet_pton(AF_INET6, "fd00:77::1", s);
	inet_pton(AF_INET6, "fd00:77:ffff::2", d);
	for (i = 0; i < sizeof(seg); i++)
		seg[i] = i * 37 + (i >> 8);
	for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
		len = lens[j];
		seg[12] = 5 << 4;
		seg[16] = seg[17] = 0;
		c = utcp_tcp_csum(s, d, true, seg, len);
		memcpy(ph, s, 16);
		memcpy(ph + 16, d, 16);
		ph[32] = len >> 24;
		ph[33] = len >> 16;
		ph[34] = len >> 8;
		ph[35] = len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 6;
		p = (__u8 *)&c;
		cr_assert_eq(p[0] << 8 | p[1],
			     ref_csum(seg, len,
				      (__u16)~ref_csum(ph, sizeof(ph), 0)),
			     "len %zu", len);
		memcpy(seg + 16, &c, 2);
		cr_assert_eq(utcp_tcp_csum(s, d, true, seg, len), 0,
			     "len %zu: a segment with its checksum sums to 0",
			     len);
		/* the addresses count: one bit of one changed is seen */
		d[15] ^= 1;
		cr_assert_neq(utcp_tcp_csum(s, d, true, seg, len), 0);
		d[15] ^= 1;
	}
}

/* ---- The receive queue over a fake UMEM ---------------------------------- */

#define STREAM 200000
#define SEQ0 0xfffff000u /* the stream crosses the wrap */
#define SLOT 4096

static __u8 stream[STREAM];
static __u8 mem[8192 * SLOT];
static __u8 held[8192];
static __u32 nslots, released;

static void rel(void *arg, __u64 addr)
{
	__u32 slot = addr / SLOT;

	(void)arg;
	cr_assert_lt(slot, nslots);
	cr_assert(held[slot], "frame %u given back twice", slot);
	held[slot] = 0;
	released++;
}

static void fake_init(struct utcp_rcv *r, __u32 cap)
{
	__u32 i;

	for (i = 0; i < STREAM; i++)
		stream[i] = i * 7 + (i >> 8);
	memset(held, 0, sizeof(held));
	nslots = released = 0;
	cr_assert_eq(utcp_rcv_init(r, cap, SEQ0, rel, NULL), 0);
}

/* A frame holding stream[off, off + len) as sent; placed ranges (in
 * payload offsets) are cut out if compact. */
static struct utcp_rseg seg_of(__u32 off, __u32 len, int nr,
			       const __u16 (*rg)[2], bool compact)
{
	struct utcp_rseg s = { .seq = SEQ0 + off,
			       .olen = len,
			       .hi = len,
			       .nr = nr,
			       .compact = compact };
	__u8 *f = mem + nslots * SLOT;
	__u32 i, o = 0, n = 0;

	cr_assert_lt(nslots, sizeof(held));
	s.addr = nslots * SLOT;
	held[nslots++] = 1;
	for (i = 0; i < (__u32)nr; i++) {
		s.r[i].off = rg[i][0];
		s.r[i].len = rg[i][1];
	}
	for (o = 0; o < len; o++) {
		bool placed = false;

		for (i = 0; i < (__u32)nr; i++)
			placed |= o >= rg[i][0] && o < rg[i][0] + rg[i][1];
		if (!compact || !placed)
			f[n++] = stream[off + o];
	}
	cr_assert_eq(utcp_rseg_check(&s, n), 0);
	return s;
}

static enum utcp_take take(struct utcp_rcv *r, __u32 off, __u32 len)
{
	struct utcp_rseg s = seg_of(off, len, 0, NULL, false);

	return utcp_rcv_take(r, &s);
}

static void read_all(struct utcp_rcv *r, __u32 from, __u32 len)
{
	static __u8 buf[STREAM];

	cr_assert_eq(r->bytes, len);
	cr_assert_eq(utcp_rcv_read(r, mem, buf, len, false, NULL), len);
	cr_assert_eq(memcmp(buf, stream + from, len), 0);
	cr_assert_eq(r->read_seq, SEQ0 + from + len);
}

Test(unit, in_order_out_of_order_duplicates_and_overlaps)
{
	struct utcp_rcv r;

	fake_init(&r, 64);
	cr_assert_eq(take(&r, 0, 1000), UTCP_TAKE_INORDER);
	cr_assert_eq(take(&r, 3000, 1000), UTCP_TAKE_OOO);
	cr_assert_eq(take(&r, 2000, 500), UTCP_TAKE_OOO);
	cr_assert_eq(take(&r, 3500, 1000), UTCP_TAKE_OOO, "overlaps the end");
	cr_assert_eq(take(&r, 3200, 100), UTCP_TAKE_DUP, "inside one held");
	cr_assert_eq(take(&r, 500, 400), UTCP_TAKE_DUP, "already in order");
	cr_assert_eq(take(&r, 1900, 1200), UTCP_TAKE_OOO,
		     "covers one held and overlaps two");
	cr_assert_eq(r.nooo, 3, "the one covered was given back");
	cr_assert_eq(r.nxt, SEQ0 + 1000);
	cr_assert_eq(take(&r, 800, 1100), UTCP_TAKE_FILLED);
	cr_assert_eq(r.nooo, 0);
	cr_assert_eq(r.nxt, SEQ0 + 4500);
	read_all(&r, 0, 4500);
	cr_assert_eq(utcp_rcv_held(&r), 0);
	utcp_rcv_free(&r);
	cr_assert_eq(released, nslots, "every frame given back once");
}

Test(unit, random_arrivals_reassemble_the_stream)
{
	static struct {
		__u32 off, len;
	} segs[4000];
	struct utcp_rcv r;
	__u32 n, off, i, j, round;
	__u32 seed = 1;

	for (round = 0; round < 20; round++) {
		fake_init(&r, 8192);
		srand(seed++);
		/* random boundaries, some repeated, some overlapping */
		for (n = 0, off = 0; off < 40000 && n < 3000; n++) {
			segs[n].off = off;
			segs[n].len = 1 + rand() % 1460;
			if (off + segs[n].len > 40000)
				segs[n].len = 40000 - off;
			off += segs[n].len - (rand() % 4 ? 0 : segs[n].len / 2);
		}
		for (i = 0; i < n / 5; i++) {
			segs[n + i].off = rand() % 39000;
			segs[n + i].len = 1 + rand() % 1000;
		}
		n += i;
		for (i = n - 1; i > 0; i--) {
			j = rand() % (i + 1);
			segs[3999] = segs[i];
			segs[i] = segs[j];
			segs[j] = segs[3999];
		}
		for (i = 0; i < n; i++)
			take(&r, segs[i].off, segs[i].len);
		cr_assert_eq(r.nooo, 0, "round %u: all reassembled", round);
		read_all(&r, 0, 40000);
		utcp_rcv_free(&r);
		cr_assert_eq(released, nslots, "round %u", round);
	}
}

Test(unit, a_full_queue_still_takes_the_missing_segment)
{
	struct utcp_rcv r;
	__u32 i;

	fake_init(&r, 8);
	for (i = 1; i <= 8; i++)
		cr_assert_eq(take(&r, i * 100, 100), UTCP_TAKE_OOO);
	cr_assert_eq(take(&r, 1000, 100), UTCP_TAKE_FULL);
	/* the last held one makes room */
	cr_assert_eq(take(&r, 0, 100), UTCP_TAKE_FILLED);
	cr_assert_eq(r.nxt, SEQ0 + 800);
	read_all(&r, 0, 800);
	utcp_rcv_free(&r);
	cr_assert_eq(released, nslots);
}

Test(unit, placed_bytes_are_skipped_never_copied)
{
	static const __u16 rg1[][2] = { { 10, 100 }, { 300, 50 } };
	static const __u16 rg2[][2] = { { 0, 20 }, { 400, 100 } };
	struct utcp_rseg s;
	struct utcp_rcv r;
	__u8 dst[1500];
	__u64 placed = 0;
	__u32 i;

	fake_init(&r, 16);
	s = seg_of(0, 500, 2, rg1, false); /* placed, still in the frame */
	cr_assert_eq(utcp_rcv_take(&r, &s), UTCP_TAKE_INORDER);
	s = seg_of(500, 500, 2, rg2, true); /* compacted */
	cr_assert_eq(utcp_rcv_take(&r, &s), UTCP_TAKE_INORDER);
	cr_assert_eq(take(&r, 1000, 500), UTCP_TAKE_INORDER);
	cr_assert_eq(r.bytes, 1500);

	/* a plain read refuses, and takes nothing */
	cr_assert_eq(utcp_rcv_read(&r, mem, dst, 11, false, NULL), -EPROTO);
	cr_assert_eq(r.bytes, 1500);
	cr_assert_eq(utcp_rcv_read(&r, mem, dst, 10, false, NULL), 10);
	cr_assert_eq(memcmp(dst, stream, 10), 0);

	memset(dst, 0xee, sizeof(dst));
	cr_assert_eq(utcp_rcv_read(&r, mem, dst + 10, 1490, true, &placed),
		     1490 - 270);
	cr_assert_eq(placed, 270);
	for (i = 10; i < 1500; i++) {
		bool p = (i >= 10 && i < 110) || (i >= 300 && i < 350) ||
			 (i >= 500 && i < 520) || (i >= 900 && i < 1000);

		if (p)
			cr_assert_eq(dst[i], 0xee, "placed byte %u written", i);
		else
			cr_assert_eq(dst[i], stream[i], "byte %u", i);
	}
	cr_assert_eq(utcp_rcv_held(&r), 0);
	utcp_rcv_free(&r);
	cr_assert_eq(released, nslots);
}

/* A frame's part is trimmed (old bytes, or beyond what is held): its
 * metadata still describes the right bytes */
Test(unit, trimmed_compacted_frames_keep_their_placement)
{
	static const __u16 rg[][2] = { { 100, 200 } };
	struct utcp_rseg s;
	struct utcp_rcv r;
	__u8 dst[1000];
	__u64 placed = 0;

	fake_init(&r, 16);
	cr_assert_eq(take(&r, 0, 150), UTCP_TAKE_INORDER);
	s = seg_of(0, 600, 1, rg, true); /* again, from 0: 150 are old */
	cr_assert_eq(utcp_rcv_take(&r, &s), UTCP_TAKE_INORDER);
	cr_assert_eq(r.bytes, 600);
	memset(dst, 0xee, sizeof(dst));
	cr_assert_eq(utcp_rcv_read(&r, mem, dst, 600, true, &placed),
		     600 - 150);
	cr_assert_eq(placed, 150, "only 150..300 of the placed range");
	cr_assert_eq(memcmp(dst, stream, 150), 0);
	cr_assert_eq(dst[150], 0xee);
	cr_assert_eq(dst[299], 0xee);
	cr_assert_eq(memcmp(dst + 300, stream + 300, 300), 0);
	utcp_rcv_free(&r);
	cr_assert_eq(released, nslots);
}

Test(unit, inconsistent_metadata_is_refused)
{
	struct utcp_rseg s = { .olen = 1000, .hi = 1000, .nr = 2 };

	s.r[0].off = 100;
	s.r[0].len = 200;
	s.r[1].off = 250; /* overlaps */
	s.r[1].len = 10;
	cr_assert_eq(utcp_rseg_check(&s, 1000), -EINVAL);
	s.r[1].off = 900;
	s.r[1].len = 101; /* past the payload */
	cr_assert_eq(utcp_rseg_check(&s, 1000), -EINVAL);
	s.r[1].len = 100;
	cr_assert_eq(utcp_rseg_check(&s, 1000), 0);
	cr_assert_eq(utcp_rseg_check(&s, 999), -EINVAL, "frame too short");
	s.compact = 1;
	cr_assert_eq(utcp_rseg_check(&s, 700), 0);
	cr_assert_eq(utcp_rseg_check(&s, 699), -EINVAL);
	s.nr = 8;
	cr_assert_eq(utcp_rseg_check(&s, 1000), -EINVAL);
	s.nr = 0;
	cr_assert_eq(utcp_rseg_check(&s, 1000), -EINVAL,
		     "compact, nothing cut");
	s.r[0].len = 0;
	s.nr = 1;
	cr_assert_eq(utcp_rseg_check(&s, 1000), -EINVAL, "empty range");
}

/* ---- The receive window -------------------------------------------------- */

/*
 * A receiver of FRAMES frames of MSS bytes, window scale 3: a segment of
 * 1460 moves rcv.nxt by half a unit of the field, so the window it had
 * advertised is not a whole number of units from there. The peer sends a
 * segment whenever the window it was told of is open, whole even if it
 * does not fit (as a collapsed retransmission may); one segment is short.
 * Every segment is acknowledged, nothing is read. The window must never
 * reach past what the frames take, FRAMES * MSS bytes from the start, and
 * the segment that crosses that edge is cut there.
 */
#define FRAMES 64
#define MSS 1460
#define WS 3
#define SHORT 10 /* this one carries 1000 bytes */

Test(unit, a_segment_beyond_the_window_is_trimmed_at_its_edge)
{
	const __u32 edge = SEQ0 + FRAMES * MSS;
	__u32 adv, prev, seen, field, held, len, n = 0, ncut = 0;
	__s32 past = 0, back = 0;
	struct utcp_rseg s;
	struct utcp_rcv r;

	fake_init(&r, 2 * FRAMES);
	adv = SEQ0 + 65535; /* the SYN's window, not scaled */
	field = utcp_wnd_field(r.nxt, FRAMES * MSS, WS, &adv);
	cr_assert_eq(field, FRAMES * MSS >> WS);
	cr_assert_eq(adv, edge);
	seen = r.nxt + (field << WS);
	while (seq_lt(r.nxt, seen) && n < 2 * FRAMES) {
		/* acceptable: it starts in the window */
		cr_assert(seq_lt(r.nxt, adv));
		len = n == SHORT ? 1000 : MSS;
		s = seg_of(r.nxt - SEQ0, len, 0, NULL, false);
		if (utcp_rseg_trim(&s, adv)) {
			ncut++;
			cr_assert_eq(s.seq + s.hi, adv, "cut at the edge");
		}
		cr_assert_eq(utcp_rcv_take(&r, &s), UTCP_TAKE_INORDER);
		n++;
		/* the ACK */
		held = utcp_rcv_held(&r);
		prev = adv;
		field = utcp_wnd_field(
			r.nxt, (held < FRAMES ? FRAMES - held : 0) * MSS, WS,
			&adv);
		seen = r.nxt + (field << WS);
		cr_assert(seq_geq(adv, prev), "the right edge moved back");
		cr_assert(seq_leq(seen, adv));
		past = MAX(past, (__s32)(adv - edge));
		back = MAX(back, (__s32)(adv - seen));
	}
	cr_assert_eq(past, 0, "the window reached %d bytes past the frames",
		     past);
	cr_assert_lt(back, 1 << WS, "the peer saw the edge back by a unit");
	cr_assert_eq(ncut, 1, "only the last one crosses the edge");
	cr_assert_eq(n, FRAMES + 1);
	cr_assert_eq(r.nxt, edge);
	cr_assert_eq(field, 0, "closed");
	read_all(&r, 0, FRAMES * MSS);
	utcp_rcv_free(&r);
	cr_assert_eq(released, nslots);
}

/* Cut at the edge, a frame keeps its placement for what is left: a range
 * across the edge ends there, one past it is gone, and in a compacted
 * frame the bytes before the edge are found where they were. */
Test(unit, a_trimmed_frame_reports_no_placed_bytes_past_the_edge)
{
	static const __u16 rg[][2] = { { 100, 200 },
				       { 600, 300 },
				       { 950, 20 } };
	struct utcp_rseg s;
	struct utcp_rcv r;
	__u8 dst[1000];
	__u64 placed = 0;
	bool compact;
	__u32 i;

	for (compact = false;; compact = true) {
		fake_init(&r, 16);
		/* 1000 bytes, 1000 - 520 in the frame if compacted */
		s = seg_of(0, 1000, 3, rg, compact);
		cr_assert(!utcp_rseg_trim(&s, SEQ0 + 1000), "all in");
		cr_assert(!utcp_rseg_trim(&s, SEQ0 + 1200), "all in");
		cr_assert(utcp_rseg_trim(&s, SEQ0 + 700));
		cr_assert_eq(s.hi, 700);
		cr_assert_eq(s.olen, 700, "recorded as 700 bytes sent");
		cr_assert_eq(s.nr, 2);
		cr_assert_eq(s.r[1].off, 600);
		cr_assert_eq(s.r[1].len, 100, "the range ends at the edge");
		cr_assert_eq(s.compact, compact);
		cr_assert_eq(utcp_rseg_check(&s, compact ? 480 : 1000), 0);
		cr_assert_eq(utcp_rcv_take(&r, &s), UTCP_TAKE_INORDER);
		cr_assert_eq(r.nxt, SEQ0 + 700);
		cr_assert_eq(r.bytes, 700);
		memset(dst, 0xee, sizeof(dst));
		placed = 0;
		cr_assert_eq(utcp_rcv_read(&r, mem, dst, 700, true, &placed),
			     700 - 300);
		cr_assert_eq(placed, 300, "200 + 100, none past the edge");
		for (i = 0; i < 700; i++)
			if ((i >= 100 && i < 300) || i >= 600)
				cr_assert_eq(dst[i], 0xee, "placed byte %u", i);
			else
				cr_assert_eq(dst[i], stream[i], "byte %u", i);
		cr_assert_eq(dst[700], 0xee, "nothing past the edge");
		/* the rest comes again, placed as its own frame says */
		cr_assert_eq(take(&r, 700, 300), UTCP_TAKE_INORDER);
		read_all(&r, 700, 300);
		utcp_rcv_free(&r);
		cr_assert_eq(released, nslots);
		if (compact)
			break;
	}

	/* every range past the edge: nothing was cut out before it */
	fake_init(&r, 16);
	s = seg_of(0, 1000, 3, rg, true);
	cr_assert(utcp_rseg_trim(&s, SEQ0 + 90));
	cr_assert_eq(s.nr, 0);
	cr_assert_eq(s.compact, 0);
	cr_assert_eq(utcp_rseg_check(&s, 480), 0);
	cr_assert_eq(utcp_rcv_take(&r, &s), UTCP_TAKE_INORDER);
	read_all(&r, 0, 90);
	/* a segment beyond the edge altogether keeps nothing */
	s = seg_of(200, 100, 0, NULL, false);
	cr_assert(utcp_rseg_trim(&s, SEQ0 + 150));
	cr_assert_eq(s.hi, s.lo);
	cr_assert_eq(utcp_rcv_take(&r, &s), UTCP_TAKE_DUP, "given back");
	utcp_rcv_free(&r);
	cr_assert_eq(released, nslots);
}

/* A kernel socket's bytes ahead, seen and left unread (resync answers) */
Test(unit, xport_peek_leaves_the_bytes_unread)
{
	struct xport x = { .fd = -1 };
	__u8 in[200], out[16];
	int sv[2], i;

	for (i = 0; i < (int)sizeof(in); i++)
		in[i] = i;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	x.fd = sv[0];
	cr_assert_eq(write(sv[1], in, sizeof(in)), (ssize_t)sizeof(in));
	cr_assert_eq(xport_peek(&x, 150, out, 16), 0);
	cr_assert_eq(memcmp(out, in + 150, 16), 0);
	/* not all there: not yet */
	cr_assert_eq(xport_peek(&x, 190, out, 16), -EAGAIN);
	/* nothing was consumed, and reading starts where it did */
	cr_assert_eq(xport_recv(&x, out, 16), 0);
	cr_assert_eq(memcmp(out, in, 16), 0);
	cr_assert_eq(xport_peek(&x, 0, out, 8), 0);
	cr_assert_eq(memcmp(out, in + 16, 8), 0);
	close(sv[0]);
	close(sv[1]);
}

/* A connected pair of loopback TCP sockets: *a connects, *b accepts */
static void tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(l, 0);
	cr_assert_eq(bind(l, (void *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(l, 1), 0);
	cr_assert_eq(getsockname(l, (void *)&sin, &len), 0);
	*a = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(*a, (void *)&sin, sizeof(sin)), 0);
	*b = accept(l, NULL, NULL);
	cr_assert_geq(*b, 0);
	close(l);
}

struct slow_read {
	struct xport *x;
	__u8 buf[20];
	int err;
};

static void *slow_read(void *arg)
{
	struct slow_read *r = arg;

	r->err = xport_recv(r->x, r->buf, sizeof(r->buf));
	return NULL;
}

/* After a large PDU's data the socket's SO_RCVLOWAT is high, and the
 * kernel wakes a blocked reader only at that mark (tcp_data_ready): a
 * header or digest read that blocks for its last bytes must still get
 * them, here 8 bytes now and 12 in a later segment. */
Test(unit, xport_recv_gets_its_bytes_under_a_raised_rcvlowat)
{
	struct xport x = { .fd = -1 };
	struct slow_read r = { .x = &x, .err = 1 };
	int lowat = 256 << 10, a, b, i;
	struct timespec until;
	__u8 in[20];
	pthread_t t;

	for (i = 0; i < (int)sizeof(in); i++)
		in[i] = i;
	tcp_pair(&a, &b);
	x.fd = a;
	/* as the last xport_recv_data() left it */
	cr_assert_eq(setsockopt(a, SOL_SOCKET, SO_RCVLOWAT, &lowat,
				sizeof(lowat)),
		     0);
	x.ddp.lowat = lowat;
	cr_assert_eq(write(b, in, 8), 8);
	cr_assert_eq(pthread_create(&t, NULL, slow_read, &r), 0);
	usleep(200 * 1000); /* the reader took 8 and sleeps for 12 */
	cr_assert_eq(write(b, in + 8, 12), 12);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	if (pthread_timedjoin_np(t, NULL, &until)) {
		shutdown(a, SHUT_RDWR); /* let it go, then fail */
		pthread_join(t, NULL);
		cr_assert_fail("the read never woke for its last 12 bytes");
	}
	cr_assert_eq(r.err, 0);
	cr_assert_eq(memcmp(r.buf, in, sizeof(in)), 0);
	close(a);
	close(b);
}

struct late_write {
	int fd;
	const __u8 *buf;
	size_t len;
	ssize_t ret;
};

static void *late_write(void *arg)
{
	struct late_write *w = arg;

	usleep(200 * 1000);
	w->ret = write(w->fd, w->buf, w->len);
	return NULL;
}

/* Skipped bytes are taken off the stream uncopied, counted as read, and
 * reading goes on right after them; a skip waits for bytes to come as a
 * read does, and fails as one at the peer's close */
Test(unit, xport_skip_takes_bytes_unread)
{
	struct xport x = { .fd = -1 };
	__u8 in[3000], out[100];
	struct late_write w = { .buf = in + 2000, .len = 1000 };
	pthread_t t;
	int a, b, i;

	for (i = 0; i < (int)sizeof(in); i++)
		in[i] = i * 7 + i / 256;
	tcp_pair(&a, &b);
	x.fd = a;
	cr_assert_eq(write(b, in, 2000), 2000);
	cr_assert_eq(xport_skip(&x, 1000), 0);
	cr_assert_eq(x.rx, 1000);
	cr_assert_eq(xport_recv(&x, out, 100), 0);
	cr_assert_eq(memcmp(out, in + 1000, 100), 0, "read after the skip");
	/* more than is there: the rest comes later */
	w.fd = b;
	cr_assert_eq(pthread_create(&t, NULL, late_write, &w), 0);
	cr_assert_eq(xport_skip(&x, 1850), 0);
	pthread_join(t, NULL);
	cr_assert_eq(w.ret, 1000, "the late writer");
	cr_assert_eq(xport_recv(&x, out, 50), 0);
	cr_assert_eq(memcmp(out, in + 2950, 50), 0, "the last bytes");
	cr_assert_eq(x.rx, 3000);
	close(b);
	cr_assert_eq(xport_skip(&x, 1), -ECONNRESET);
	close(a);
}

/* A read that makes no progress within the stream's timeout fails with
 * -ETIMEDOUT (a controller that stopped), after taking what came */
Test(unit, xport_recv_times_out_without_progress)
{
	struct xport x = { .fd = -1 };
	__u8 in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[20];
	struct timespec t0, t1;
	int a, b;

	tcp_pair(&a, &b);
	x.fd = a;
	cr_assert_eq(xport_set_timeout(&x, 200), 0);
	cr_assert_eq(write(b, in, sizeof(in)), (ssize_t)sizeof(in));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(xport_recv(&x, out, sizeof(out)), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_geq((t1.tv_sec - t0.tv_sec) * 1000 +
			      (t1.tv_nsec - t0.tv_nsec) / 1000000,
		      190);
	cr_assert_eq(x.rx, sizeof(in));
	cr_assert_eq(memcmp(out, in, sizeof(in)), 0);
	close(a);
	close(b);
}
