// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* fixture_run.c - what every fixture checks, and shared stream helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "fixtures.h"
#include "libddp_priv.h"
#include "ddp.skel.h"

void gen_data(__u8 *buf, size_t n, __u32 seed)
{
	__u32 x = seed * 2654435761u + 1;
	size_t i;

	/* never ENG_FILL, so an untouched byte never looks placed */
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = x % ENG_FILL;
	}
}

void add_read(struct eng *e, __u16 cid, __u32 len, __u32 pdu)
{
	__u8 *data = malloc(len);
	__u32 off;

	gen_data(data, len, cid * 7919u + e->s.len);
	for (off = 0; off < len; off += pdu) {
		__u32 n = len - off < pdu ? len - off : pdu;

		pdu_c2h_data(&e->s, &e->o, cid, off, data + off, n,
			     off + n == len ? NVME_TCP_F_DATA_LAST : 0);
	}
	pdu_rsp(&e->s, &e->o, cid);
	free(data);
}

size_t P(const struct eng *e, size_t i)
{
	return e->s.pdus[i].off;
}

size_t D(const struct eng *e, size_t i)
{
	return e->s.pdus[i].off + e->s.pdus[i].data_off;
}

size_t E(const struct eng *e, size_t i)
{
	return e->s.pdus[i].off + e->s.pdus[i].plen;
}

size_t C(const struct eng *e, int i)
{
	return eng_pdu(e, NVME_TCP_C2H_DATA, i);
}

static __u64 stat_get(const struct ddp_stats *st, const char *name)
{
	unsigned int i;

	for (i = 0; ddp_stat_name(i); i++)
		if (!strcmp(ddp_stat_name(i), name))
			return ((const __u64 *)st)[i];
	cr_assert_fail("no counter named %s", name);
	return 0;
}

/* The buffer bytes of PDU i's data are all still ENG_FILL. */
static int untouched(struct eng *e, size_t i)
{
	const struct pdu_pos *p = &e->s.pdus[i];
	const __u8 *buf = ddp_buf_mem(e->d);
	int t = e->pdu_tag && i < e->pdu_tag_n ? e->pdu_tag[i] : -1;
	__u32 k, left, io;

	if (t < 0)
		return 1;
	io = p->datao;
	left = p->datal;
	for (k = 0; k < e->tags[t].nsegs && left; k++) {
		const struct ddp_seg *s = &e->tags[t].segs[k];
		__u32 a;

		if (io >= s->len) {
			io -= s->len;
			continue;
		}
		for (a = s->addr + io; a < s->addr + s->len && left;
		     a++, left--)
			if (buf[a] != ENG_FILL)
				return 0;
		io = 0;
	}
	return 1;
}

/* Every verdict the host is given is right about the stream (what the
 * transport takes); with fx->verdicts, each is the one expected. */
static void check_verdicts(struct eng *e, const struct fixture *fx,
			   const char *mode)
{
	static const char name[] = { '-', 'o', 'b' };
	size_t i, n = 0;
	int v;

	for (i = 0; i < e->s.npdus; i++) {
		if (e->s.pdus[i].type != NVME_TCP_C2H_DATA)
			continue;
		v = eng_verdict(e, i);
		cr_assert(v == DDP_VERDICT_NONE ||
				  (v == DDP_VERDICT_OK) == eng_digest_right(e, i),
			  "%s (%s): C2HData %zu: verdict %c, the digest is %s",
			  fx->name, mode, n, name[v],
			  eng_digest_right(e, i) ? "right" : "wrong");
		if (fx->verdicts) {
			cr_assert(fx->verdicts[n], "%s: more C2HData than verdicts[]",
				  fx->name);
			cr_assert(fx->verdicts[n] == '?' ||
					  fx->verdicts[n] == name[v],
				  "%s (%s): C2HData %zu: verdict %c, expected %c",
				  fx->name, mode, n, name[v], fx->verdicts[n]);
		}
		n++;
	}
}

static void check_placed(struct eng *e, const struct fixture *fx,
			 const char *mode)
{
	size_t i, n = 0;

	for (i = 0; i < e->s.npdus; i++) {
		const struct pdu_pos *p = &e->s.pdus[i];
		char want;
		__u32 rep;

		if (p->type != NVME_TCP_C2H_DATA)
			continue;
		if (fx->placed && !strcmp(fx->placed, "*"))
			return; /* the fixture's run checks them */
		want = fx->placed ? fx->placed[n] : 'P';
		cr_assert(want, "%s: more C2HData PDUs than placed[] says",
			  fx->name);
		rep = eng_reported(e, i);
		if (want == 'P') {
			cr_assert_eq(
				rep, p->datal,
				"%s (%s): C2HData #%zu: %u of %u bytes reported placed",
				fx->name, mode, n, rep, p->datal);
			cr_assert_eq(eng_in_buffer(e, i), p->datal,
				     "%s (%s): C2HData #%zu not in its buffer",
				     fx->name, mode, n);
		} else if (want == '-') {
			cr_assert_eq(
				rep, 0,
				"%s (%s): C2HData #%zu: %u bytes reported placed, none expected",
				fx->name, mode, n, rep);
			cr_assert(
				untouched(e, i),
				"%s (%s): C2HData #%zu: its buffer was written",
				fx->name, mode, n);
		}
		n++;
	}
	cr_assert(!fx->placed || !fx->placed[n],
		  "%s: placed[] names %zu PDUs, the stream has %zu", fx->name,
		  strlen(fx->placed), n);
}

/* Send everything in 1448-byte frames, answering resync requests
 * truthfully after each frame, as a host would. */
void run_answering(struct eng *e)
{
	size_t off = 0;

	while (off < e->s.len) {
		size_t n = e->s.len - off < 1448 ? e->s.len - off : 1448;
		int first = e->nev, i;

		eng_send(e, off, n);
		eng_events(e);
		for (i = first; i < e->nev; i++)
			eng_answer(e, i);
		off += n;
	}
}

/* Where kmod_glue's module is loaded, the engine's digests go through its
 * kfunc: the suite, run there, checks the kfunc's CRCs. */
static void check_crc_kfunc(struct eng *e, const struct fixture *fx,
			    const char *mode)
{
	bool kmod = !access("/sys/kernel/btf/" DDP_KMOD_NAME, F_OK);
	struct ddp_caps c;

	ddp_dev_caps(e->d, &c);
	cr_assert_eq(c.crc_kfunc, kmod && !fx->no_ddgst_offload,
		     "%s (%s): the CRC by the kfunc %s, the module %s", fx->name,
		     mode, c.crc_kfunc ? "on" : "off",
		     kmod ? "loaded" : "not loaded");
}

/* One fixture's stream on the flow just offloaded */
static void run_mode(struct eng *e, const struct fixture *fx, const char *mode)
{
	struct ddp_stats st;
	int i;

	snprintf(eng_where, sizeof(eng_where), "%s, %s", fx->name, mode);
	check_crc_kfunc(e, fx, mode);
	fx->build(e);
	(fx->run ? fx->run : run_answering)(e);
	eng_events(e);

	check_placed(e, fx, mode);
	check_verdicts(e, fx, mode);
	cr_assert_eq(eng_reported_outside(e), 0,
		     "%s (%s): bytes reported placed outside C2HData data",
		     fx->name, mode);
	st = eng_flow_stats(e);
	for (i = 0; i < 8 && fx->stats[i].name; i++)
		cr_assert_eq(stat_get(&st, fx->stats[i].name), fx->stats[i].val,
			     "%s (%s): %s is %llu, expected %llu", fx->name,
			     mode, fx->stats[i].name,
			     (unsigned long long)stat_get(&st,
							  fx->stats[i].name),
			     (unsigned long long)fx->stats[i].val);
	if (fx->events >= 0)
		cr_assert_eq(e->nev, fx->events,
			     "%s (%s): %d resync requests, expected %d",
			     fx->name, mode, e->nev, fx->events);
	for (i = 0; i < e->nev; i++) {
		size_t off = eng_off(e, e->ev[i].seq);
		long p = stream_pdu_at(&e->s, off);

		/* these streams hold nothing that looks like a header but
		 * headers: every request names a PDU's first byte */
		cr_assert(
			p >= 0 && e->s.pdus[p].off == off,
			"%s (%s): request %d names stream offset %zu, not a PDU start",
			fx->name, mode, i, off);
	}
}

/* The fixture on a flow of each mode, one after the other on one engine:
 * loading it is most of a fixture's time (seconds, under TCG), and the
 * second flow finds an engine that has served and deleted the first. */
void run_fixture_modes(const struct fixture *fx)
{
	static const struct {
		__u32 flags;
		const char *mode;
	} both[] = { { DDP_SK_OFFLOAD | DDP_SK_RECORDS, "kernel socket" },
		     { DDP_SK_OFFLOAD | DDP_SK_XSK, "AF_XDP" } };
	struct ddp_limits lim;
	struct eng e;
	unsigned int i;

	snprintf(eng_where, sizeof(eng_where), "%s", fx->name);
	eng_limits(&lim, 1 << 20);
	lim.no_ddgst_offload = fx->no_ddgst_offload;
	ddp_probe_csum_pretend = fx->csum_max;
	eng_open_lim(&e, &lim);
	ddp_probe_csum_pretend = 0;
	e.d->skel->bss->ddp_csum_partial = fx->csum_partial;
	e.no_socket = fx->no_socket;
	e.max_data = fx->max_data;
	pkt_flow_init(&e.fl, fx->v6, 4420, 40000);
	e.fl.vlan = fx->vlan;
	e.fl.tcp_opt_len = fx->tcp_opt_len;
	e.fl.ip6_dstopts = fx->ip6_dstopts;
	e.o = fx->o;
	e.threshold = fx->io_threshold;
	for (i = 0; i < (fx->flags ? 1 : 2); i++) {
		__u32 flags = fx->flags ? fx->flags : both[i].flags;

		if (i)
			eng_next_flow(&e, flags);
		else
			eng_flow(&e, flags);
		run_mode(&e, fx, fx->flags ? "as declared" : both[i].mode);
	}
	eng_close(&e);
}
