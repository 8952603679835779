// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* harness.c - drives the engine with BPF_PROG_TEST_RUN. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>
#include <criterion/criterion.h>
#include "harness.h"
#include "libddp_priv.h"
#include "ddp.skel.h"

char eng_where[200];

void eng_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/*
 * An AF_XDP socket, bound in copy mode to a veth of a network namespace
 * this test process made for itself (both go with the process): put in
 * ddp_xsks, it makes the engine redirect AF_XDP flows' frames as on a
 * host, and BPF_PROG_TEST_RUN report XDP_REDIRECT for them.
 */
static int eng_xsk_fd(void)
{
	static struct xsk_socket *xsk;
	static struct xsk_umem *umem;
	static struct xsk_ring_prod fill, tx;
	static struct xsk_ring_cons comp, rx;
	struct xsk_socket_config cfg = {
		.rx_size = 64,
		.tx_size = 64,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	size_t len = 64 * 4096;
	void *mem;

	if (xsk)
		return xsk_socket__fd(xsk);
	eng_assert(!unshare(CLONE_NEWNET), "unshare: %s", strerror(errno));
	eng_assert(!system("ip link add ddpxa type veth peer name ddpxb && "
			   "ip link set ddpxa up && ip link set ddpxb up"),
		   "a veth pair for the AF_XDP socket");
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	eng_assert(mem != MAP_FAILED, "UMEM");
	eng_assert(!xsk_umem__create(&umem, mem, len, &fill, &comp, NULL),
		   "UMEM");
	eng_assert(!xsk_socket__create(&xsk, "ddpxa", 0, umem, &rx, &tx, &cfg),
		   "AF_XDP socket on ddpxa");
	return xsk_socket__fd(xsk);
}

void eng_xsk_bind(struct eng *e, bool on)
{
	int fd, map = ddp_map_fd(e->d, "ddp_xsks");
	__u32 q = 0;

	if (on) {
		fd = eng_xsk_fd();
		eng_assert(!bpf_map_update_elem(map, &q, &fd, BPF_ANY),
			   "ddp_xsks: %s", strerror(errno));
	} else {
		bpf_map_delete_elem(map, &q);
	}
	e->xsk_bound = on;
}

struct ddp_flow *eng_flow_rw(struct eng *e)
{
	size_t len = e->lim.max_flows * sizeof(struct ddp_flow);
	struct ddp_flow *f = mmap(NULL, (len + 4095) & ~4095ul,
				  PROT_READ | PROT_WRITE, MAP_SHARED,
				  e->d->map_fd[M_ddp_flows], 0);

	eng_assert(f != MAP_FAILED, "mmap of ddp_flows");
	return &f[DDP_FLOW_SLOT(e->flow_id)];
}

void eng_open_lim(struct eng *e, const struct ddp_limits *lim)
{
	__u32 off;
	int err;

	memset(e, 0, sizeof(*e));
	e->lim = *lim;
	err = ddp_dev_load(&e->lim, &e->d);
	eng_assert(err == 0, "engine load: %d", err);
	e->lim = e->d->lim;
	e->prog = ddp_xdp_prog_fd(e->d);
	/* the whole region is this process's: tags may go anywhere */
	err = ddp_buf_alloc(e->d, e->lim.buf_size, 0, &off);
	eng_assert(err == 0 && off == 0, "the region: %s", ddp_errmsg(e->d));
	memset(ddp_buf_mem(e->d), ENG_FILL, e->lim.buf_size);
	pkt_flow_init(&e->fl, 0, 4420, 40000);
	e->isn = 0xfffff000; /* wraps within the first stream */
}

void eng_limits(struct ddp_limits *lim, __u32 buf_size)
{
	*lim = (struct ddp_limits){ .max_flows = 8,
				    .tags_per_flow = 64,
				    .buf_size = buf_size,
				    .io_threshold = 1024 };
}

void eng_open(struct eng *e, __u32 buf_size)
{
	struct ddp_limits lim;

	eng_limits(&lim, buf_size);
	eng_open_lim(e, &lim);
}

/* Free flows deleted earlier, once the engine can no longer use them. */
static void eng_release_dead(struct eng *e)
{
	__u32 i;

	if (!e->ndead)
		return;
	eng_assert(ddp_sync(e->d, &e->epoch) == 0, "sync: %s",
		   ddp_errmsg(e->d));
	for (i = 0; i < e->ndead; i++) {
		eng_assert(ddp_release(e->d, e->dead[i], e->epoch, NULL) == 0,
			   "release: %s", ddp_errmsg(e->d));
		ddp_live_del(e->d, e->dead[i], 0, true);
	}
	e->ndead = 0;
}

void eng_next_flow(struct eng *e, __u32 sk_flags)
{
	eng_assert(eng_stray_bytes(e) == 0,
		   "bytes written outside every tag's buffer");
	eng_assert(ddp_ctl_sk_del(e->d, e->flow_id) == 0, "sk_del: %s",
		   ddp_errmsg(e->d));
	/* between engine runs nothing writes its tags' buffers: they are
	 * the host's again at once */
	ddp_live_del(e->d, e->flow_id, 0, true);
	e->dead[e->ndead++] = e->flow_id;
	if (e->ndead + 1 >= e->lim.max_flows)
		eng_release_dead(e);
	stream_free(&e->s);
	free(e->reported);
	free(e->verdict_at);
	free(e->pdu_tag);
	e->reported = NULL;
	e->verdict_at = NULL;
	e->pdu_tag = NULL;
	e->pdu_tag_n = 0;
	e->ntags = e->nev = e->frames = 0;
	memset(ddp_buf_mem(e->d), ENG_FILL, e->lim.buf_size);
	e->fl.lport++;
	eng_flow(e, sk_flags);
}

void eng_flow(struct eng *e, __u32 sk_flags)
{
	struct ddp_flow_key key;
	struct ddp_sk_config cfg = {
		.cpda = e->o.cpda,
		.dgst = (e->o.hdgst ? NVME_TCP_DGST_HDR : 0) |
			(e->o.ddgst ? NVME_TCP_DGST_DATA : 0),
		.queue_size = 128,
		.io_threshold = e->threshold,
		.max_data = e->max_data,
		.start_seq = e->isn,
		.flags = sk_flags,
	};
	int err;

	e->sk_flags = sk_flags;
	pkt_flow_key(&e->fl, &key);
	err = ddp_sk_add(e->d, &key, &cfg, &e->flow_id);
	eng_assert((err) == (0), "sk_add: %s", ddp_errmsg(e->d));
	e->base = eng_stats(e);
	if ((sk_flags & DDP_SK_XSK) && !e->xsk_bound && !e->no_socket)
		eng_xsk_bind(e, true);
}

static struct eng_tag *eng_tag_new(struct eng *e, __u16 cid)
{
	struct eng_tag *t;

	eng_assert(e->ntags < ENG_MAX_TAGS, "too many tags");
	t = &e->tags[e->ntags++];
	memset(t, 0, sizeof(*t));
	t->cid = cid;
	return t;
}

static void eng_tag_register(struct eng *e, struct eng_tag *t)
{
	int err =
		ddp_setup(e->d, e->flow_id, t->cid, t->segs, t->nsegs, &t->tag);

	/* a flow only steered holds no tags: nothing can be placed */
	if (!(e->sk_flags & DDP_SK_OFFLOAD)) {
		eng_assert(err == -ENOSPC, "setup cid %u on a steered flow: %d",
			   t->cid, err);
		return;
	}
	eng_assert(err == 0, "setup cid %u: %s", t->cid, ddp_errmsg(e->d));
	t->live = true;
}

void eng_tag_sg(struct eng *e, __u16 cid, __u32 addr, __u32 len, __u32 nsegs,
		__u32 gap)
{
	struct eng_tag *t = eng_tag_new(e, cid);
	__u32 i, left = len;

	for (i = 0; i < nsegs; i++) {
		__u32 n = i + 1 == nsegs ? left : len / nsegs;

		t->segs[i].addr = addr;
		t->segs[i].len = n;
		addr += n + gap;
		left -= n;
	}
	t->nsegs = nsegs;
	t->len = len;
	eng_tag_register(e, t);
}

void eng_tag(struct eng *e, __u16 cid, __u32 addr, __u32 len)
{
	eng_tag_sg(e, cid, addr, len, 1, 0);
}

static struct eng_tag *eng_live_tag(struct eng *e, __u16 cid)
{
	int i;

	for (i = e->ntags - 1; i >= 0; i--)
		if (e->tags[i].live && e->tags[i].cid == cid)
			return &e->tags[i];
	return NULL;
}

void eng_untag(struct eng *e, __u16 cid)
{
	struct eng_tag *t = eng_live_tag(e, cid);
	int err;

	eng_assert(t, "no live tag for cid %u", cid);
	/* between engine runs no placement is writing: free at once */
	err = ddp_ctl_teardown(e->d, e->flow_id, cid, NULL);
	eng_assert(err == 1, "teardown: %d %s", err, ddp_errmsg(e->d));
	ddp_live_del(e->d, e->flow_id, t->tag, false);
	t->live = false;
}

/* Note, for each PDU whose header completes in [off, off + len), the
 * registration its CID has now: the one the engine would look up. */
static void eng_note_headers(struct eng *e, size_t off, size_t len)
{
	size_t i;

	if (e->pdu_tag_n < e->s.npdus) {
		e->pdu_tag = realloc(e->pdu_tag, e->s.npdus * sizeof(int));
		for (i = e->pdu_tag_n; i < e->s.npdus; i++)
			e->pdu_tag[i] = -2;
		e->pdu_tag_n = e->s.npdus;
	}
	for (i = 0; i < e->s.npdus; i++) {
		const struct pdu_pos *p = &e->s.pdus[i];
		size_t h = p->off + DDP_HDR_NEED - 1;
		struct eng_tag *t;

		if (e->pdu_tag[i] != -2 || h < off || h >= off + len ||
		    p->type != NVME_TCP_C2H_DATA)
			continue;
		t = eng_live_tag(e, p->cid);
		e->pdu_tag[i] = t ? (int)(t - e->tags) : -1;
	}
}

static void eng_note_meta(struct eng *e, size_t off, size_t len,
			  const __u8 *out, __u32 metalen)
{
	const struct ddp_meta *m = (const void *)out;
	__u32 i;

	eng_assert(metalen == 0 || metalen == sizeof(*m),
		   "metadata of %u bytes", metalen);
	eng_assert(metalen == 0 || (e->sk_flags & DDP_SK_XSK),
		   "metadata on a kernel-socket flow");
	if (!metalen)
		return;
	eng_assert((m->magic) == (DDP_META_MAGIC),
		   "(m->magic) == (DDP_META_MAGIC)");
	eng_assert(m->nr <= DDP_META_RANGES, "metadata of %u ranges", m->nr);
	if (m->ddgst) {
		eng_assert(m->ddgst <= DDP_VERDICT_BAD && m->ddgst_end <= len,
			   "verdict %u ending at %u of a %zu-byte payload",
			   m->ddgst, m->ddgst_end, len);
		e->verdict_at[off + m->ddgst_end] = m->ddgst;
	}
	for (i = 0; i < m->nr; i++) {
		eng_assert(
			m->r[i].len && m->r[i].off + m->r[i].len <= len,
			"metadata range [%u, +%u) outside a %zu-byte payload",
			m->r[i].off, m->r[i].len, len);
		memset(e->reported + off + m->r[i].off, 1, m->r[i].len);
	}
}

/*
 * A frame of `len` bytes whose last pay_len are TCP payload came out as
 * out (out_len bytes, after the metadata). It must be the frame, or, when
 * the metadata says compacted, the frame without the placed ranges: the
 * same headers, the other payload bytes in order.
 */
static void eng_check_out(struct eng *e, const __u8 *frame, size_t len,
			  size_t pay_len, const __u8 *out, size_t out_len,
			  const struct ddp_meta *m)
{
	size_t hdr = len - pay_len, at = 0, o = hdr;
	__u32 i;

	if (!m || !(m->flags & DDP_META_COMPACT)) {
		eng_assert(out_len == len && !memcmp(out, frame, len),
			   "frame %d came out changed", e->frames);
		return;
	}
	eng_assert(e->sk_flags & DDP_SK_XSK, "a kernel-socket frame compacted");
	eng_assert(m->flags & DDP_META_CSUM, "compacted, checksum unchecked");
	eng_assert(!memcmp(out, frame, hdr), "compacted: headers changed");
	for (i = 0; i <= m->nr; i++) {
		size_t end = i < m->nr ? m->r[i].off : pay_len;

		eng_assert(
			o + end - at <= out_len &&
				!memcmp(out + o, frame + hdr + at, end - at),
			"compacted frame %d: unplaced bytes [%zu, %zu) differ",
			e->frames, at, end);
		o += end - at;
		if (i < m->nr)
			at = m->r[i].off + m->r[i].len;
	}
	eng_assert(o == out_len, "compacted frame %d: %zu bytes, %zu expected",
		   e->frames, out_len, o);
}

/* Run one frame; checks the verdict and what came out. Returns the
 * metadata length; the output (metadata first) is in out. `ours`: a
 * frame of the flow under test. */
static __u32 eng_run(struct eng *e, const __u8 *frame, size_t len,
		     size_t pay_len, __u8 *out, size_t out_cap, bool ours)
{
	struct xdp_md ctx_in = { .data_end = len }, ctx_out = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = len, .data_out = out,
		    .data_size_out = out_cap, .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out));
	int err = bpf_prog_test_run_opts(e->prog, &opts);
	__u32 want = ours && (e->sk_flags & DDP_SK_XSK) && e->xsk_bound ?
			     XDP_REDIRECT :
			     XDP_PASS;

	eng_assert(err == 0, "test_run: %d", err);
	e->frames++;
	e->verdict = opts.retval;
	/* Never dropped; redirected only to a bound AF_XDP socket */
	eng_assert(opts.retval == want, "frame %d: verdict %u, not %u",
		   e->frames, opts.retval, want);
	eng_assert(ctx_out.data == 0 || ctx_out.data == sizeof(struct ddp_meta),
		   "metadata of %u bytes", ctx_out.data);
	/* A frame's headroom may hold what an earlier use of its buffer
	 * left there (a zero-copy driver recycles frames the host never
	 * saw): every redirected frame carries metadata of its own. */
	eng_assert(opts.retval != XDP_REDIRECT || ctx_out.data,
		   "frame %d redirected without metadata", e->frames);
	/* a frame that goes to the stack is exactly the frame received */
	if (opts.retval == XDP_PASS) {
		eng_assert(ctx_out.data == 0 && opts.data_size_out == len &&
				   !memcmp(out, frame, len),
			   "frame %d passed to the stack changed", e->frames);
		return 0;
	}
	eng_check_out(e, frame, len, pay_len, out + ctx_out.data,
		      opts.data_size_out - ctx_out.data,
		      ctx_out.data ? (const void *)out : NULL);
	return ctx_out.data;
}

int eng_send_frame(struct eng *e, const __u8 *frame, size_t len)
{
	static __u8 out[2 * PKT_MAX + 256]; /* jumbo frames too */
	__u32 metalen = eng_run(e, frame, len, 0, out, sizeof(out), false);

	eng_assert((metalen) == (0), "metadata on a frame of another flow");
	return e->verdict;
}

/* Send stream bytes [off, off + len); with a patch, bytes of the payload
 * are changed after the checksum was computed, as a line would corrupt
 * them: the transport drops such a frame, metadata and all. */
static int eng_send_frame_of(struct eng *e, size_t off, size_t len,
			     const struct eng_patch *patch)
{
	static __u8 frame[PKT_MAX], out[PKT_MAX + 256];
	size_t flen;
	__u32 metalen, i;

	eng_assert(off + len <= e->s.len, "frame past the stream's end");
	if (!e->reported) {
		e->reported = calloc(1, e->s.len + 1);
		e->verdict_at = calloc(1, e->s.len + 1);
	}
	eng_note_headers(e, off, len);
	flen = pkt_build(&e->fl, e->isn + off, e->s.buf + off, len, frame);
	for (i = 0; patch && i < patch->n; i++) {
		eng_assert(patch->at[i] < len, "patch past the frame");
		frame[flen - len + patch->at[i]] ^= patch->xor [i];
	}
	metalen = eng_run(e, frame, flen, len, out, sizeof(out), true);
	/* flagged checked only if the engine computed a right checksum (a
	 * corruption the checksum misses, as TCP's would, is right) */
	if (metalen && (((struct ddp_meta *)out)->flags & DDP_META_CSUM))
		eng_assert(pkt_tcp_csum_ok(&e->fl, frame, flen),
			   "frame %d flagged checked, its checksum is not right",
			   e->frames);
	if (!patch)
		eng_note_meta(e, off, len, out, metalen);
	return e->verdict;
}

int eng_send(struct eng *e, size_t off, size_t len)
{
	return eng_send_frame_of(e, off, len, NULL);
}

int eng_send_corrupt(struct eng *e, size_t off, size_t len,
		     const struct eng_patch *patch)
{
	return eng_send_frame_of(e, off, len, patch);
}

bool eng_patch_caught(struct eng *e, size_t off, size_t len,
		      const struct eng_patch *patch)
{
	static __u8 frame[PKT_MAX];
	size_t flen =
		pkt_build(&e->fl, e->isn + off, e->s.buf + off, len, frame);
	__u32 i;

	for (i = 0; i < patch->n; i++)
		frame[flen - len + patch->at[i]] ^= patch->xor [i];
	return !pkt_tcp_csum_ok(&e->fl, frame, flen);
}

void eng_send_all(struct eng *e, size_t from, size_t to, size_t mss)
{
	while (from < to) {
		size_t n = to - from < mss ? to - from : mss;

		eng_send(e, from, n);
		from += n;
	}
}

static void eng_request(void *arg, __u32 flow_id, __u32 seq, __u32 req_id)
{
	struct eng *e = arg;

	eng_assert(e->nev < ENG_MAX_EVENTS, "too many resync requests");
	eng_assert(flow_id == e->flow_id, "request for flow %u", flow_id);
	e->ev[e->nev++] = (struct ddp_event){ .type = DDP_EV_RESYNC,
					      .flow_id = flow_id,
					      .seq = seq,
					      .req_id = req_id };
}

int eng_events(struct eng *e)
{
	struct ddp_ulp_ops ops = { .resync_request = eng_request, .arg = e };
	int before = e->nev;

	eng_assert(ddp_dev_process(e->d, &ops) >= 0, "%s", ddp_errmsg(e->d));
	return e->nev - before;
}

size_t eng_off(const struct eng *e, __u32 seq)
{
	return (__u32)(seq - e->isn);
}

void eng_reply(struct eng *e, __u32 seq, __u32 req_id, int confirm)
{
	ddp_resync(e->d, e->flow_id, seq, req_id, confirm);
}

void eng_answer(struct eng *e, int i)
{
	size_t off = eng_off(e, e->ev[i].seq);
	long p = stream_pdu_at(&e->s, off);
	int is_hdr = p >= 0 && e->s.pdus[p].off == off;

	eng_reply(e, e->ev[i].seq, e->ev[i].req_id, is_hdr);
}

struct ddp_stats eng_stats(struct eng *e)
{
	struct ddp_stats st;

	eng_assert((ddp_stats_read(e->d, &st)) == (0),
		   "(ddp_stats_read(e->d, &st)) == (0)");
	return st;
}

struct ddp_stats eng_flow_stats(struct eng *e)
{
	struct ddp_stats st = eng_stats(e);
	__u64 *now = (__u64 *)&st;
	const __u64 *then = (const __u64 *)&e->base;
	size_t i;

	for (i = 0; i < sizeof(st) / sizeof(*now); i++)
		now[i] -= then[i];
	return st;
}

size_t eng_pdu(const struct eng *e, __u8 type, int n)
{
	size_t i;

	for (i = 0; i < e->s.npdus; i++)
		if (e->s.pdus[i].type == type && n-- == 0)
			return i;
	eng_assert(0, "no PDU of type %u number %d", type, n);
	return 0;
}

/* Buffer address of byte io of a registration, or -1. */
static long eng_tag_addr(const struct eng_tag *t, __u32 io)
{
	__u32 i;

	for (i = 0; i < t->nsegs; i++) {
		if (io < t->segs[i].len)
			return t->segs[i].addr + io;
		io -= t->segs[i].len;
	}
	return -1;
}

/* Mark the bytes of valid records (kernel-socket host view): those the
 * ring still holds (the slot of the oldest is the next one's). */
static void eng_note_records(struct eng *e)
{
	const struct ddp_flow *f = ddp_flow_mem(e->d, e->flow_id);
	__u32 n = f->rec_head >= eng_rec_ring(e) ?
			  f->rec_head - eng_rec_ring(e) + 1 :
			  0;
	struct ddp_rec r;

	if (!(e->sk_flags & DDP_SK_RECORDS))
		return;
	for (; n != f->rec_head; n++) {
		size_t off;
		long p;

		eng_assert(ddp_rec_read(e->d, e->flow_id, n, &r),
			   "record %u unreadable", n);
		off = eng_off(e, r.seq);
		p = stream_pdu_at(&e->s, off);
		eng_assert(p >= 0 && e->s.pdus[p].type == NVME_TCP_C2H_DATA,
			   "record at stream offset %zu is not in a C2HData",
			   off);
		eng_assert((r.cid) == (e->s.pdus[p].cid),
			   "(r.cid) == (e->s.pdus[p].cid)");
		eng_assert((off + r.len) <=
				   (e->s.pdus[p].off + e->s.pdus[p].data_off +
				    e->s.pdus[p].datal),
			   "record runs past its PDU's data");
		if (ddp_rec_valid(e->d, e->flow_id, &r))
			memset(e->reported + off, 1, r.len);
	}
}

__u32 eng_in_buffer(struct eng *e, size_t pdu)
{
	const struct pdu_pos *p = &e->s.pdus[pdu];
	const __u8 *buf = ddp_buf_mem(e->d);
	const struct eng_tag *t;
	__u32 i, n = 0;

	if (!e->pdu_tag || pdu >= e->pdu_tag_n || e->pdu_tag[pdu] < 0)
		return 0;
	t = &e->tags[e->pdu_tag[pdu]];
	for (i = 0; i < p->datal; i++) {
		long a = eng_tag_addr(t, p->datao + i);

		if (a >= 0 && buf[a] == e->s.buf[p->off + p->data_off + i])
			n++;
	}
	return n;
}

__u32 eng_reported(struct eng *e, size_t pdu)
{
	const struct pdu_pos *p = &e->s.pdus[pdu];
	const __u8 *buf = ddp_buf_mem(e->d);
	const struct eng_tag *t = NULL;
	__u32 i, n = 0;

	eng_assert((p->type) == (NVME_TCP_C2H_DATA),
		   "(p->type) == (NVME_TCP_C2H_DATA)");
	if (!e->reported)
		return 0;
	eng_note_records(e);
	if (e->pdu_tag && pdu < e->pdu_tag_n && e->pdu_tag[pdu] >= 0)
		t = &e->tags[e->pdu_tag[pdu]];
	for (i = 0; i < p->datal; i++) {
		size_t x = p->off + p->data_off + i;
		long a;

		if (!e->reported[x])
			continue;
		eng_assert(t, "PDU %zu reported placed without a tag", pdu);
		a = eng_tag_addr(t, p->datao + i);
		eng_assert(a >= 0, "PDU %zu byte %u outside its tag", pdu, i);
		eng_assert((buf[a]) == (e->s.buf[x]),
			   "PDU %zu byte %u reported placed but differs", pdu,
			   i);
		n++;
	}
	/* no byte outside C2HData data is ever reported */
	return n;
}

int eng_verdict(struct eng *e, size_t pdu)
{
	const struct pdu_pos *p = &e->s.pdus[pdu];

	__u32 seq = e->isn + p->off, end = seq + p->plen, head, n, last = 0;
	bool have = false;
	struct ddp_rec r;

	if (e->sk_flags & DDP_SK_RECORDS) {
		/* as the host: the last valid record of the PDU's data */
		head = ddp_flow_mem(e->d, e->flow_id)->rec_head;
		for (n = head > eng_rec_ring(e) ? head - eng_rec_ring(e) : 0;
		     n != head; n++)
			if (ddp_rec_read(e->d, e->flow_id, n, &r) &&
			    (int)(r.seq - seq) >= 0 &&
			    (int)(end - (r.seq + r.len)) >= 0 &&
			    ddp_rec_valid(e->d, e->flow_id, &r)) {
				last = n;
				have = true;
			}
		return have ? ddp_ddgst_verdict(e->d, e->flow_id, last, p->cid,
						seq, end) :
			      DDP_VERDICT_NONE;
	}
	return e->verdict_at ? e->verdict_at[p->off + p->plen] :
			       DDP_VERDICT_NONE;
}

bool eng_digest_right(const struct eng *e, size_t pdu)
{
	const struct pdu_pos *p = &e->s.pdus[pdu];
	const __u8 *d = e->s.buf + p->off + p->data_off, *w = d + p->datal;
	__u32 want = w[0] | w[1] << 8 | w[2] << 16 | (__u32)w[3] << 24;

	return ~pdu_crc32c(~0u, d, p->datal) == want;
}

size_t eng_reported_outside(struct eng *e)
{
	__u8 *left;
	size_t i, n = 0;

	if (!e->reported)
		return 0;
	eng_note_records(e);
	left = malloc(e->s.len);
	memcpy(left, e->reported, e->s.len);
	for (i = 0; i < e->s.npdus; i++) {
		const struct pdu_pos *p = &e->s.pdus[i];

		if (p->type == NVME_TCP_C2H_DATA)
			memset(left + p->off + p->data_off, 0, p->datal);
	}
	for (i = 0; i < e->s.len; i++)
		n += left[i];
	free(left);
	return n;
}

size_t eng_stray_bytes(struct eng *e)
{
	const __u8 *buf = ddp_buf_mem(e->d);
	__u8 *mine = calloc(1, e->lim.buf_size);
	size_t n = 0, a;
	int i;
	__u32 s, k;

	for (i = 0; i < e->ntags; i++)
		for (s = 0; s < e->tags[i].nsegs; s++)
			for (k = 0; k < e->tags[i].segs[s].len; k++)
				mine[e->tags[i].segs[s].addr + k] = 1;
	for (a = 0; a < e->lim.buf_size; a++)
		if (!mine[a] && buf[a] != ENG_FILL)
			n++;
	free(mine);
	return n;
}

void eng_close(struct eng *e)
{
	struct ddp_stats st;
	int i;

	eng_assert((eng_stray_bytes(e)) == (0),
		   "bytes written outside every tag's buffer");
	for (i = 0; i < e->ntags; i++)
		if (e->tags[i].live)
			eng_untag(e, e->tags[i].cid);
	eng_assert(ddp_ctl_sk_del(e->d, e->flow_id) == 0, "sk_del: %s",
		   ddp_errmsg(e->d));
	e->dead[e->ndead++] = e->flow_id;
	eng_release_dead(e);
	st = eng_stats(e);
	eng_assert((st.ddp_setup) == (st.ddp_teardown),
		   "tags leaked: %llu set up, %llu torn down",
		   (unsigned long long)st.ddp_setup,
		   (unsigned long long)st.ddp_teardown);
	eng_assert((st.queue_init) == (st.queue_teardown), "flows leaked");
	eng_assert(
		(ddp_flow_mem(e->d, e->flow_id)->state) == (DDP_FLOW_FREE),
		"(ddp_flow_mem(e->d, e->flow_id)->state) == (DDP_FLOW_FREE)");
	ddp_dev_close(e->d);
	stream_free(&e->s);
	free(e->reported);
	free(e->verdict_at);
	free(e->pdu_tag);
}
