// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_random.c - seeded random NVMe/TCP response streams, cut into
 * random frames, with drops, duplicates, reorderings, overlapping and
 * corrupted retransmissions and malformed headers, run through the engine
 * and checked against a plain-C reference model of placement:
 *
 *  - the model knows, for every stream byte, the command, its offset, and
 *    so the one buffer address it may be written to;
 *  - no byte reported placed differs from the stream (harness), no byte
 *    outside the tags' buffers is written, and without corrupted frames
 *    every written byte holds what the model says;
 *  - without faults every byte the model calls placeable is reported
 *    placed, and nothing else is;
 *  - with faults, placement resumes: the last placeable PDU of a clean
 *    tail is reported placed in full;
 *  - data digest verdicts: see check_digests().
 *
 * DDP_SEED and DDP_STREAMS choose the run; a failure prints the seed of
 * the failing stream, which DDP_SEED=<it> DDP_STREAMS=1 replays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fixtures.h"

#define MAX_CMDS 12

/* Types a resync may start from (as the engine's ddp_type_resyncable) */
static int ddp_candidate_type(__u8 t)
{
	return t == NVME_TCP_C2H_DATA || t == NVME_TCP_RSP ||
	       t == NVME_TCP_R2T || t == NVME_TCP_C2H_TERM;
}
#define REGION (1u << 20)

struct rng {
	__u64 s;
};

static __u64 rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

static __u32 below(struct rng *r, __u32 n)
{
	return n ? rnd(r) % n : 0;
}

static int chance(struct rng *r, int pct)
{
	return below(r, 100) < (__u32)pct;
}

static __u64 splitmix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The reference model: what each command's buffer must receive. */
struct cmd {
	__u16 cid;
	__u32 len;
	__u8 *data;
	int reg; /* index in e->tags, -1: not registered */
	__u32 next; /* bytes already put in PDUs */
};

struct frame {
	size_t off, len;
	int corrupt;
};

struct run {
	struct rng r;
	struct eng *e;
	struct cmd cmds[MAX_CMDS];
	int ncmds;
	__u32 threshold;
	size_t zone_end; /* faults only before this stream offset */
	int fault_pct;
	int faults, garbage, corrupt;
	int bad_pdus; /* C2HData whose data no longer matches its digest */
	struct frame *fr;
	size_t nfr, cap;
	size_t tail; /* frames from here on: in order, untouched, answered */
};

static void push_frame(struct run *u, size_t off, size_t len, int disturbed)
{
	if (u->nfr == u->cap) {
		u->cap = u->cap * 2 + 64;
		u->fr = realloc(u->fr, u->cap * sizeof(*u->fr));
	}
	u->fr[u->nfr++] = (struct frame){ off, len, disturbed == 2 };
	/* the answer to a request made with a disturbed frame, or in the
	 * fault zone, is read with the frame after it */
	if (disturbed || off < u->zone_end)
		u->tail = u->nfr + 1;
}

/* Register cmd's buffer as 1..n segments at random places and alignment;
 * sometimes shorter than the command. */
static void register_cmd(struct run *u, struct cmd *c, __u32 *cursor)
{
	struct eng_tag *t = &u->e->tags[u->e->ntags++];
	__u32 len = c->len, nsegs, i, left;

	if (chance(&u->r, 5) && len > 1)
		len -= 1 + below(&u->r, len - 1);
	nsegs = chance(&u->r, 10) ? 1 + below(&u->r, len < 256 ? len : 256) :
				    1 + below(&u->r, len < 8 ? len : 8);
	memset(t, 0, sizeof(*t));
	t->cid = c->cid;
	t->nsegs = nsegs;
	t->len = len;
	left = len;
	for (i = 0; i < nsegs; i++) {
		__u32 n = i + 1 == nsegs ? left :
					   1 + below(&u->r, left - (nsegs - i));

		*cursor += below(&u->r, 64);
		t->segs[i].addr = *cursor;
		t->segs[i].len = n;
		*cursor += n;
		left -= n;
	}
	eng_assert(*cursor < REGION, "region too small for the stream");
	eng_assert(ddp_setup(u->e->d, u->e->flow_id, c->cid, t->segs, nsegs,
			     &t->tag) == 0,
		   "setup: %s", ddp_errmsg(u->e->d));
	t->live = true;
	c->reg = t - u->e->tags;
}

static void build_cmds(struct run *u)
{
	__u32 cursor = below(&u->r, 4096), i;

	u->ncmds = 3 + below(&u->r, MAX_CMDS - 2);
	for (i = 0; i < (__u32)u->ncmds; i++) {
		struct cmd *c = &u->cmds[i];

		c->cid = (__u16)rnd(&u->r);
		c->cid = (c->cid & ~0xf) | i; /* unique */
		c->len = 1 + below(&u->r, chance(&u->r, 50) ? 20000 : 3000);
		c->data = malloc(c->len);
		gen_data(c->data, c->len, (__u32)rnd(&u->r));
		c->reg = -1;
		c->next = 0;
		if (chance(&u->r, 85))
			register_cmd(u, c, &cursor);
	}
}

static void add_garbage_header(struct run *u)
{
	struct nvme_tcp_hdr24 h = { .type = NVME_TCP_C2H_DATA,
				    .hlen = 24,
				    .pdo = 24,
				    .plen = (__u32)rnd(&u->r),
				    .datal = 7 };

	stream_raw(&u->e->s, &h, sizeof(h));
	u->garbage++;
}

/* Commands complete out of order: their PDUs interleave. */
static void build_stream(struct run *u)
{
	struct eng *e = u->e;
	int left = u->ncmds;

	while (left) {
		struct cmd *c = &u->cmds[below(&u->r, u->ncmds)];
		__u32 n, flags = 0;

		if (c->next == c->len)
			continue;
		if (chance(&u->r, 8))
			pdu_r2t(&e->s, &e->o, (__u16)rnd(&u->r), 0, 4096);
		if (u->fault_pct && e->s.len < u->zone_end && chance(&u->r, 2))
			add_garbage_header(u);
		n = 1 + below(&u->r, c->len - c->next);
		if (chance(&u->r, 30))
			n = c->len - c->next;
		if (c->next + n == c->len) {
			flags = NVME_TCP_F_DATA_LAST;
			if (chance(&u->r, 20))
				flags |= NVME_TCP_F_DATA_SUCCESS;
		}
		pdu_c2h_data(&e->s, &e->o, c->cid, c->next, c->data + c->next,
			     n, flags);
		c->next += n;
		if (c->next == c->len) {
			if (!(flags & NVME_TCP_F_DATA_SUCCESS))
				pdu_rsp(&e->s, &e->o, c->cid);
			left--;
		}
	}
}

static size_t frame_size(struct run *u, int in_zone)
{
	static const size_t mss[] = { 536, 1000, 1448, 2900 };
	int k = below(&u->r, 10);

	if (in_zone && k == 0)
		return 1 + below(&u->r, 30);
	if (in_zone && k < 3)
		return 1 + below(&u->r, 300);
	return mss[below(&u->r, 4)];
}

/* Cut the stream into frames and disturb those in the fault zone. */
static void build_frames(struct run *u)
{
	struct frame held[8];
	int nheld = 0, wait[8], i;
	size_t off = 0, len = u->e->s.len;

	while (off < len) {
		int zone = off < u->zone_end;
		size_t n = frame_size(u, zone);

		if (n > len - off)
			n = len - off;
		if (zone && u->fault_pct && chance(&u->r, u->fault_pct) &&
		    nheld < 8) {
			int kind = below(&u->r, 4);

			u->faults++;
			if (kind == 0) { /* lost, resent later */
				wait[nheld] = 1 + below(&u->r, 5);
				held[nheld++] = (struct frame){ off, n, 0 };
			} else if (kind == 1) { /* duplicated */
				push_frame(u, off, n, 1);
				push_frame(u, off, n, 1);
			} else if (kind == 2) { /* corrupted, resent later */
				push_frame(u, off, n, 2);
				u->corrupt++;
				wait[nheld] = 1 + below(&u->r, 3);
				held[nheld++] = (struct frame){ off, n, 0 };
			} else { /* resent overlapping new bytes */
				/* no longer than the frames around it */
				size_t more = n / 2 < len - off - n ?
						      n / 2 :
						      len - off - n;

				push_frame(u, off, n, 1);
				push_frame(u, off + n / 2, n - n / 2 + more, 1);
				n += more;
			}
		} else {
			push_frame(u, off, n, 0);
		}
		off += n;
		for (i = 0; i < nheld; i++) {
			if (--wait[i] > 0 && off < u->zone_end)
				continue;
			push_frame(u, held[i].off, held[i].len, 1);
			nheld--;
			held[i] = held[nheld];
			wait[i] = wait[nheld];
			i--;
		}
	}
	for (i = 0; i < nheld; i++)
		push_frame(u, held[i].off, held[i].len, 1);
}

/* The host: truthful, but in the fault zone it sometimes denies a real
 * header or first writes a stale reply. */
static void answer(struct run *u, int first, size_t at)
{
	struct eng *e = u->e;
	int i;

	for (i = first; i < e->nev; i++) {
		int roll = below(&u->r, 10);

		if (at < u->zone_end && roll == 0) {
			eng_reply(e, e->ev[i].seq, e->ev[i].req_id, 0);
		} else if (at < u->zone_end && roll == 1) {
			eng_reply(e, e->ev[i].seq, e->ev[i].req_id ^ 2, 1);
			/* the real answer comes after the next frame */
			e->ev[i].type = 0;
		} else {
			eng_answer(e, i);
		}
	}
}

static void send_frames(struct run *u)
{
	struct eng *e = u->e;
	size_t i;
	int j;

	for (i = 0; i < u->nfr; i++) {
		int first = e->nev;

		if (u->fr[i].corrupt) {
			/* one to four bytes changed anywhere: headers too */
			struct eng_patch p = { .n = 1 + below(&u->r, 4) };
			__u32 k;

			for (k = 0; k < p.n; k++) {
				p.at[k] = below(&u->r, u->fr[i].len);
				p.xor [k] = 1 + below(&u->r, 255);
			}
			/* the model has TCP drop a corrupted frame: changes
			 * that cancel out in its checksum would be taken (a
			 * byte changed alone never does) */
			if (!eng_patch_caught(e, u->fr[i].off, u->fr[i].len,
					      &p))
				p.n = 1;
			eng_send_corrupt(e, u->fr[i].off, u->fr[i].len, &p);
		} else {
			eng_send(e, u->fr[i].off, u->fr[i].len);
		}
		if (getenv("DDP_TRACE")) {
			const struct ddp_flow *f =
				ddp_flow_mem(e->d, e->flow_id);

			fprintf(stderr,
				"frame [%zu, %zu)%s: sync %u pdu at %zu off %u place %u\n",
				u->fr[i].off, u->fr[i].off + u->fr[i].len,
				u->fr[i].corrupt ? " corrupt" : "", f->sync,
				eng_off(e, f->pdu_seq), f->pdu_off, f->place);
		}
		for (j = 0; j < first; j++) /* late answers to stale ones */
			if (!e->ev[j].type) {
				e->ev[j].type = DDP_EV_RESYNC;
				eng_answer(e, j);
			}
		eng_events(e);
		answer(u, first, u->fr[i].off);
	}
}

static struct cmd *cmd_of(struct run *u, __u16 cid)
{
	int i;

	for (i = 0; i < u->ncmds; i++)
		if (u->cmds[i].cid == cid)
			return &u->cmds[i];
	return NULL;
}

/* The model's rule: a C2HData is placed iff its command has a tag at or
 * above the threshold and the PDU's data lies inside it. */
static int placeable(struct run *u, const struct pdu_pos *p)
{
	const struct cmd *c = cmd_of(u, p->cid);
	const struct eng_tag *t;

	if (!c || c->reg < 0)
		return 0;
	t = &u->e->tags[c->reg];
	return t->len >= u->threshold && p->datao + p->datal <= t->len;
}

/* Every byte written into a command's buffer is the model's byte. */
static void check_buffers(struct run *u)
{
	const __u8 *buf = ddp_buf_mem(u->e->d);
	int i;

	for (i = 0; i < u->ncmds; i++) {
		const struct cmd *c = &u->cmds[i];
		const struct eng_tag *t;
		__u32 s, k, io = 0;

		if (c->reg < 0)
			continue;
		t = &u->e->tags[c->reg];
		for (s = 0; s < t->nsegs; s++)
			for (k = 0; k < t->segs[s].len; k++, io++) {
				__u8 b = buf[t->segs[s].addr + k];

				eng_assert(
					b == ENG_FILL || b == c->data[io],
					"cid %u byte %u: %#x written, the stream has %#x",
					c->cid, io, b, c->data[io]);
			}
	}
}

/* The tail frame (index into u->fr) in which stream byte off arrives,
 * or -1. */
static long tail_frame(struct run *u, size_t off)
{
	size_t i;

	for (i = u->tail; i < u->nfr; i++)
		if (off >= u->fr[i].off && off < u->fr[i].off + u->fr[i].len)
			return i;
	return -1;
}

/* Whether the model expects PDU last placed after the faults: a header
 * wholly inside one tail frame is the candidate, the next header completes
 * the chain and the request, the host's answer is read with the next
 * frame, and a header completing two frames after that is placed. */
static int resumes_before(struct run *u, size_t last)
{
	const struct stream *s = &u->e->s;
	size_t i;

	for (i = 0; i + 1 < last; i++) {
		const struct pdu_pos *p = &s->pdus[i];
		long a = tail_frame(u, p->off), b, chain;

		if (a < 0 || !ddp_candidate_type(p->type))
			continue;
		b = tail_frame(u, p->off + DDP_HDR_NEED - 1);
		if (a != b)
			continue;
		chain = tail_frame(u, s->pdus[i + 1].off + DDP_HDR_NEED - 1);
		return chain >= 0 &&
		       tail_frame(u, s->pdus[last].off + DDP_HDR_NEED - 1) >=
			       chain + 3;
	}
	return 0;
}

/* A byte of some C2HData's data changed after its digest was computed,
 * in the stream and in the model alike (what the target sent is what it
 * had): TCP carries it, only the digest can tell. */
static void corrupt_digested(struct run *u)
{
	struct stream *s = &u->e->s;
	size_t i = below(&u->r, s->npdus), k;

	for (k = 0; k < s->npdus; k++, i = (i + 1) % s->npdus) {
		const struct pdu_pos *p = &s->pdus[i];
		__u32 at = below(&u->r, p->datal);
		int c;

		if (p->type != NVME_TCP_C2H_DATA)
			continue;
		for (c = 0; c < u->ncmds && u->cmds[c].cid != p->cid; c++)
			;
		s->buf[p->off + p->data_off + at] ^= 0x10;
		u->cmds[c].data[p->datao + at] ^= 0x10;
		u->bad_pdus++;
		return;
	}
}

/*
 * The digest verdicts: never `ok` for a PDU whose data changed, never `bad`
 * for one whose data did not (corrupted frames carry bad TCP checksums),
 * counted or told the host; without faults, every C2HData judged, and
 * rightly.
 */
static void check_digests(struct run *u, const struct ddp_stats *before,
			  const struct ddp_stats *st)
{
	struct eng *e = u->e;
	__u64 ok = st->ddgst_ok - before->ddgst_ok,
	      bad = st->ddgst_bad - before->ddgst_bad,
	      unknown = st->ddgst_unknown - before->ddgst_unknown;
	__u64 n = 0;
	size_t i;
	int v;

	for (i = 0; i < e->s.npdus; i++) {
		if (e->s.pdus[i].type != NVME_TCP_C2H_DATA)
			continue;
		n++;
		/* what the host is told is right about what it has */
		v = eng_verdict(e, i);
		eng_assert(v == DDP_VERDICT_NONE ||
				   (v == DDP_VERDICT_OK) == eng_digest_right(e, i),
			   "PDU %zu: verdict %d, its digest %s", i, v,
			   eng_digest_right(e, i) ? "right" : "wrong");
	}
	if (!e->o.ddgst) {
		eng_assert(ok + bad + unknown == 0,
			   "verdicts without data digests: %llu %llu %llu",
			   ok, bad, unknown);
		return;
	}
	eng_assert(ok <= n - u->bad_pdus && bad <= (__u64)u->bad_pdus &&
			   ok + bad + unknown <= n,
		   "digest verdicts ok %llu bad %llu unknown %llu of %llu C2HData, %d changed",
		   ok, bad, unknown, n, u->bad_pdus);
	if (!u->faults && !u->garbage)
		eng_assert(ok == n - u->bad_pdus && bad == (__u64)u->bad_pdus &&
				   !unknown,
			   "fault-free stream: digest verdicts ok %llu bad %llu unknown %llu of %llu C2HData, %d changed",
			   ok, bad, unknown, n, u->bad_pdus);
}

struct totals {
	long streams, frames, faults, placed, resyncs;
};

static void check_stream(struct run *u, const struct ddp_stats *before,
			 struct totals *tot)
{
	struct eng *e = u->e;
	struct ddp_stats st = eng_stats(e);
	int overflow = st.meta_full != before->meta_full ||
		       ddp_flow_mem(e->d, e->flow_id)->rec_head >
			       eng_rec_ring(e);
	size_t i, last = 0;
	__u32 placed = 0;
	int have_last = 0;

	if (!u->corrupt)
		check_buffers(u);
	check_digests(u, before, &st);
	eng_assert(eng_reported_outside(e) == 0,
		   "bytes reported placed outside C2HData data");
	for (i = 0; i < e->s.npdus; i++) {
		const struct pdu_pos *p = &e->s.pdus[i];
		int can;
		__u32 rep;

		if (p->type != NVME_TCP_C2H_DATA)
			continue;
		can = placeable(u, p);
		rep = eng_reported(e, i);
		placed += rep;
		if (!can)
			eng_assert(
				rep == 0,
				"PDU %zu of an unplaceable command reported placed",
				i);
		else if (!u->faults && !u->garbage && !overflow)
			eng_assert(
				rep == p->datal,
				"fault-free stream: PDU %zu: %u of %u bytes reported placed",
				i, rep, p->datal);
		if (can) {
			last = i;
			have_last = 1;
		}
	}
	if ((u->faults || u->garbage) && !overflow && have_last &&
	    resumes_before(u, last))
		eng_assert(eng_reported(e, last) == e->s.pdus[last].datal,
			   "placement did not resume: last placeable PDU %zu",
			   last);
	tot->streams++;
	tot->frames += e->frames;
	tot->faults += u->faults + u->garbage;
	tot->placed += placed;
	tot->resyncs += e->nev;
}

static void one_stream(struct eng *e, __u64 seed, struct totals *tot)
{
	static const __u8 cpdas[] = { 0, 0, 1, 7, 31 };
	static const __u8 opts[] = { 0, 12, 20, 40 };
	struct run u = { .r = { seed | 1 }, .e = e };
	struct ddp_stats before = eng_stats(e);
	int i;

	e->o.hdgst = chance(&u.r, 50);
	e->o.ddgst = chance(&u.r, 50);
	e->o.cpda = cpdas[below(&u.r, 5)];
	e->fl.v6 = chance(&u.r, 30);
	pkt_flow_init(&e->fl, e->fl.v6, 4420, e->fl.lport);
	e->fl.tcp_opt_len = opts[below(&u.r, 4)];
	e->isn = (__u32)rnd(&u.r);
	u.threshold = chance(&u.r, 50) ? 64 : 1024;
	e->threshold = u.threshold;
	u.fault_pct = (int[]){ 0, 0, 2, 8 }[below(&u.r, 4)];
	eng_next_flow(e, chance(&u.r, 50) ? DDP_SK_OFFLOAD | DDP_SK_RECORDS :
					    DDP_SK_OFFLOAD | DDP_SK_XSK);
	build_cmds(&u);
	/* faults in the first 60% of the stream (its data, mostly) */
	for (i = 0; i < u.ncmds; i++)
		u.zone_end += u.fault_pct ? u.cmds[i].len * 6 / 10 : 0;
	build_stream(&u);
	if (e->o.ddgst && chance(&u.r, 25))
		corrupt_digested(&u);
	build_frames(&u);
	if (getenv("DDP_TRACE")) {
		for (i = 0; i < (int)e->s.npdus; i++)
			fprintf(stderr,
				"pdu %d: [%zu, %zu) type %u cid %u datal %u%s\n",
				i, e->s.pdus[i].off,
				e->s.pdus[i].off + e->s.pdus[i].plen,
				e->s.pdus[i].type, e->s.pdus[i].cid,
				e->s.pdus[i].datal,
				e->s.pdus[i].type == NVME_TCP_C2H_DATA &&
						placeable(&u, &e->s.pdus[i]) ?
					" placeable" :
					"");
		fprintf(stderr, "zone ends at %zu\n", u.zone_end);
	}
	send_frames(&u);
	check_stream(&u, &before, tot);
	for (i = 0; i < u.ncmds; i++)
		free(u.cmds[i].data);
	free(u.fr);
}

Test(random, streams_against_reference_model, .timeout = 600)
{
	struct ddp_limits lim = { .max_flows = 64,
				  .tags_per_flow = 16,
				  .buf_size = REGION,
				  .io_threshold = 1024 };
	const char *s_seed = getenv("DDP_SEED"), *s_n = getenv("DDP_STREAMS");
	__u64 master = s_seed ? strtoull(s_seed, NULL, 0) :
				(__u64)time(NULL) * 1000003u;
	long n = s_n ? atol(s_n) : 3000, k;
	struct totals tot = { 0 };
	struct eng e;

	snprintf(eng_where, sizeof(eng_where), "loading");
	eng_open_lim(&e, &lim);
	eng_flow(&e, DDP_SK_OFFLOAD);
	for (k = 0; k < n; k++) {
		__u64 seed = n == 1 ? master : splitmix(master + k);

		snprintf(eng_where, sizeof(eng_where),
			 "stream %ld, replay: DDP_SEED=%#llx DDP_STREAMS=1", k,
			 (unsigned long long)seed);
		one_stream(&e, seed, &tot);
	}
	eng_close(&e);
	fprintf(stderr,
		"random: seed %#llx: %ld streams, %ld frames, %ld faults, %ld bytes placed, %ld resync requests\n",
		(unsigned long long)master, tot.streams, tot.frames, tot.faults,
		tot.placed, tot.resyncs);
}
