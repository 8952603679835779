// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_engine.c - what the engine costs per frame, measured side by side
 * in one run with BPF_PROG_TEST_RUN repeat, against an empty XDP program and
 * a user-space memcpy of the same bytes, and the data digest's CRC32C
 * against ISA-L's. Each figure is this thread's CPU
 * time over a run of REPEAT frames (the kernel's own duration is whole ns
 * per frame: too coarse at 5 ns), the median of ROUNDS runs, with the least
 * and the most of them. Not a test: it prints figures and ratios; the
 * targets are printed beside them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <isa-l/crc.h>
#include "libddp.h"
#include "pkt.h"
#include "pdu.h"
#include "bench_engine.skel.h"

#define REPEAT 2000000
#define ROUNDS 7
#define BIG (1u << 20)

static struct ddp_dev *dev;
static struct bench_engine_bpf *bench;

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench-engine: %s: %s\n", what, why);
	exit(1);
}

/* A figure: the median of the runs, and their spread. */
struct ns {
	double med, min, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct ns summary(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return (struct ns){ v[n / 2], v[0], v[n - 1] };
}

static double cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* ns per run of prog on frame */
static struct ns prog_ns(int prog, const __u8 *frame, size_t len)
{
	double v[ROUNDS], t;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = len, .repeat = REPEAT);

		t = cpu_ns();
		if (bpf_prog_test_run_opts(prog, &o))
			die("test_run", strerror(errno));
		v[i] = (cpu_ns() - t) / REPEAT;
		if (o.retval != XDP_PASS)
			die("test_run", "verdict is not XDP_PASS");
	}
	return summary(v, ROUNDS);
}

static void *(*volatile copy)(void *, const void *, size_t) = memcpy;

static struct ns memcpy_ns(__u8 *dst, const __u8 *src, size_t len)
{
	double v[ROUNDS], t;
	int i, k;

	for (i = 0; i < ROUNDS; i++) {
		t = cpu_ns();
		for (k = 0; k < REPEAT; k++) {
			copy(dst, src, len);
			asm volatile("" ::: "memory");
		}
		v[i] = (cpu_ns() - t) / REPEAT;
	}
	return summary(v, ROUNDS);
}

/* Run one frame through the engine, for real, once. */
static void feed(const __u8 *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(ddp_xdp_prog_fd(dev), &o))
		die("test_run", strerror(errno));
}

/* The rewound front will restore the flow's tracker as it is now. */
static void snapshot(__u32 flow_id)
{
	bench->bss->bench_flow = DDP_FLOW_SLOT(flow_id);
	memcpy(&bench->bss->bench_state, ddp_flow_mem(dev, flow_id),
	       sizeof(struct ddp_flow));
}

static void set_next(int prog_fd)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(bench->maps.bench_next), &zero,
				&prog_fd, BPF_ANY))
		die("bench_next", strerror(errno));
}

static __u32 add_flow(struct pkt_flow *fl, __u16 lport, __u32 isn, __u8 dgst)
{
	struct ddp_sk_config cfg = { .queue_size = 128,
				     .start_seq = isn,
				     .dgst = dgst,
				     .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS };
	struct ddp_flow_key key;
	__u32 id;

	pkt_flow_init(fl, 0, 4420, lport);
	fl->tcp_opt_len = 12; /* timestamps, as Linux sends them */
	pkt_flow_key(fl, &key);
	if (ddp_sk_add(dev, &key, &cfg, &id))
		die("sk_add", ddp_errmsg(dev));
	return id;
}

static void setup(void)
{
	struct ddp_limits lim = { .max_flows = 4, .tags_per_flow = 4 };
	int err;

	if (ddp_dev_load(&lim, &dev))
		die("engine load", ddp_errmsg(NULL));
	bench = bench_engine_bpf__open();
	if (!bench)
		die("open of the bench object", strerror(errno));
	err = bpf_map__reuse_fd(bench->maps.ddp_flows,
				ddp_map_fd(dev, "ddp_flows"));
	if (!err)
		err = bench_engine_bpf__load(bench);
	if (err)
		die("load of the bench object", strerror(-err));
}

static volatile __u32 crc_sink;

/* ISA-L's CRC32C (as the host computes digests) over len bytes, per call */
static struct ns isal_ns(const __u8 *src, size_t len)
{
	double v[ROUNDS], t0;
	int r, i;

	for (r = 0; r < ROUNDS; r++) {
		t0 = cpu_ns();
		for (i = 0; i < REPEAT / 4; i++)
			crc_sink = crc32_iscsi((unsigned char *)src, len, ~0u);
		v[r] = (cpu_ns() - t0) / (REPEAT / 4);
	}
	return summary(v, ROUNDS);
}

static void row(const char *what, struct ns v, struct ns empty,
		const char *note)
{
	printf("%-40s %7.2f %6.2f-%-6.2f %8.2f%s%s\n", what, v.med, v.min, v.max,
	       v.med / empty.med, note ? "   " : "", note ? note : "");
}

int main(void)
{
	static __u8 frame[PKT_MAX], frame64[PKT_MAX], rsp[PKT_MAX],
		other[PKT_MAX], udp[PKT_MAX];
	struct pdu_opts o = { 0 };
	struct stream big = { 0 }, small = { 0 };
	struct pkt_flow fl, fl2, fl3;
	struct ddp_seg seg = { 0, BIG };
	size_t n, n64, nrsp, nother, nudp;
	struct ns empty, over, pass, pass_udp, hdr, place, place64, mc, mc64;
	struct ns kc, kc64, dg, dg64, isal, isal64;
	struct stream dig = { 0 };
	static __u8 dframe[PKT_MAX], dframe64[PKT_MAX];
	size_t dn, dn64;
	__u32 id, id2, id3, isn = 1000;
	__u8 *data = malloc(BIG);
	double per_place, per_copy, per_kcopy;

	setup();
	memset(data, 0x3c, BIG);
	/* a buffer of this process's for the tag */
	if (ddp_buf_alloc(dev, BIG, 0, &seg.addr))
		die("buffer", ddp_errmsg(dev));
	id = add_flow(&fl, 40000, isn, 0);
	if (ddp_setup(dev, id, 1, &seg, 1, NULL))
		die("setup", ddp_errmsg(dev));
	/* one 1 MiB C2HData: its header and first bytes go through for
	 * real, the rest of the PDU is what the frames measured carry */
	pdu_c2h_data(&big, &o, 1, 0, data, BIG, NVME_TCP_F_DATA_LAST);
	n = pkt_build(&fl, isn, big.buf, 1448, frame);
	feed(frame, n);
	n = pkt_build(&fl, isn + 1448, big.buf + 1448, 1448, frame);
	n64 = pkt_build(&fl, isn + 1448, big.buf + 1448, 64, frame64);

	fl3 = fl;
	fl3.rport = 80;
	nother = pkt_build(&fl3, 1, big.buf + 1448, 1448, other);
	nudp = pkt_build_udp(&fl3, big.buf + 1448, 1448, udp);

	id2 = add_flow(&fl2, 40001, isn, 0);
	pdu_rsp(&small, &o, 1);
	nrsp = pkt_build(&fl2, isn, small.buf, small.len, rsp);

	empty = prog_ns(bpf_program__fd(bench->progs.bench_empty), other,
			nother);
	pass = prog_ns(ddp_xdp_prog_fd(dev), other, nother);
	pass_udp = prog_ns(ddp_xdp_prog_fd(dev), udp, nudp);

	set_next(bpf_program__fd(bench->progs.bench_empty));
	snapshot(id);
	over = prog_ns(bpf_program__fd(bench->progs.bench_rewound), frame, n);

	set_next(ddp_xdp_prog_fd(dev));
	snapshot(id2);
	hdr = prog_ns(bpf_program__fd(bench->progs.bench_rewound), rsp, nrsp);
	snapshot(id);
	place = prog_ns(bpf_program__fd(bench->progs.bench_rewound), frame, n);
	place64 = prog_ns(bpf_program__fd(bench->progs.bench_rewound), frame64,
			  n64);
	if (ddp_buf_mem(dev)[1448] != 0x3c)
		die("placement", "the measured frames placed nothing");

	/* the same on a queue with data digests: placed and digested (the
	 * frame's checksum checked too, as the engine does for them) */
	{
		struct pkt_flow fld;
		struct pdu_opts od = { .ddgst = 1 };

		ddp_teardown(dev, id, 1, NULL);
		id3 = add_flow(&fld, 40002, isn, NVME_TCP_DGST_DATA);
		if (ddp_setup(dev, id3, 1, &seg, 1, NULL))
			die("setup", ddp_errmsg(dev));
		pdu_c2h_data(&dig, &od, 1, 0, data, BIG, NVME_TCP_F_DATA_LAST);
		dn = pkt_build(&fld, isn, dig.buf, 1448, dframe);
		feed(dframe, dn);
		dn = pkt_build(&fld, isn + 1448, dig.buf + 1448, 1448, dframe);
		dn64 = pkt_build(&fld, isn + 1448, dig.buf + 1448, 64, dframe64);
		snapshot(id3);
		dg = prog_ns(bpf_program__fd(bench->progs.bench_rewound), dframe,
			     dn);
		dg64 = prog_ns(bpf_program__fd(bench->progs.bench_rewound),
			       dframe64, dn64);
		isal = isal_ns(dig.buf + 1448, 1448);
		isal64 = isal_ns(dig.buf + 1448, 64);
	}

	/* the payload is the frame's tail */
	bench->bss->copy_off = n - 1448;
	bench->bss->copy_len = 1448;
	kc = prog_ns(bpf_program__fd(bench->progs.bench_copy), frame, n);
	bench->bss->copy_off = n64 - 64;
	bench->bss->copy_len = 64;
	kc64 = prog_ns(bpf_program__fd(bench->progs.bench_copy), frame64, n64);

	mc = memcpy_ns(ddp_buf_mem(dev) + 4096, big.buf + 1448, 1448);
	mc64 = memcpy_ns(ddp_buf_mem(dev) + 4096, big.buf + 1448, 64);

	per_place = (place.med - place64.med) / (1448 - 64);
	per_copy = (mc.med - mc64.med) / (1448 - 64);
	per_kcopy = (kc.med - kc64.med) / (1448 - 64);
	printf("DDP engine, BPF_PROG_TEST_RUN repeat %d, CPU time, median of %d runs\n\n",
	       REPEAT, ROUNDS);
	printf("%-40s %7s %13s %8s\n", "per frame", "ns", "min-max", "x empty");
	row("empty XDP program", empty, empty, NULL);
	row("non-NVMe TCP frame (another port)", pass, empty,
	    "target <= 1.50");
	row("non-TCP frame (UDP)", pass_udp, empty, NULL);
	row("rewind + tail call (measuring front)", over, empty, NULL);
	row("in-sync non-data PDU (CapsuleResp)", hdr, empty, "incl. front");
	row("1448-byte C2HData placement", place, empty, "incl. front");
	row("64-byte C2HData placement", place64, empty, "incl. front");
	row("bare copy in XDP, 1448 bytes", kc, empty, "the helper");
	row("bare copy in XDP, 64 bytes", kc64, empty, "the helper");
	row("user-space memcpy, 1448 bytes", mc, empty, NULL);
	row("user-space memcpy, 64 bytes", mc64, empty, NULL);
	row("1448-byte C2HData placed and digested", dg, empty, "incl. front");
	row("64-byte C2HData placed and digested", dg64, empty, "incl. front");
	row("ISA-L CRC32C, 1448 bytes", isal, empty, NULL);
	row("ISA-L CRC32C, 64 bytes", isal64, empty, NULL);
	printf("\nplacement: %.1f GiB/s per frame (1448 B in %.1f ns); memcpy %.1f GiB/s\n",
	       1448 / (place.med - over.med) / 1.073741824,
	       place.med - over.med, 1448 / mc.med / 1.073741824);
	printf("per byte (1448-byte minus 64-byte cost, / 1384 bytes):\n");
	printf("  placement %.4f ns/B, memcpy %.4f ns/B, ratio %.2f   target <= 1.50\n",
	       per_place, per_copy, per_place / per_copy);
	printf("  the same from the runs' extremes: ratio %.2f-%.2f\n",
	       (place.min - place64.max) / (mc.max - mc64.min),
	       (place.max - place64.min) / (mc.min - mc64.max));
	printf("  the helper's bare copy %.4f ns/B: placement / bare copy %.2f\n",
	       per_kcopy, per_place / per_kcopy);
	printf("fixed cost of a placed frame beyond its bytes: %.1f ns\n",
	       place64.med - over.med - 64 * per_place);
	printf("data digest, per byte: the engine's CRC and checksum %.4f ns/B "
	       "(placed and digested %.4f less placed %.4f), ISA-L's CRC32C "
	       "%.4f ns/B: %.1fx\n",
	       (dg.med - dg64.med) / (1448 - 64) - per_place,
	       (dg.med - dg64.med) / (1448 - 64), per_place,
	       (isal.med - isal64.med) / (1448 - 64),
	       ((dg.med - dg64.med) / (1448 - 64) - per_place) /
		       ((isal.med - isal64.med) / (1448 - 64)));
	bench_engine_bpf__destroy(bench);
	ddp_dev_close(dev);
	stream_free(&big);
	stream_free(&small);
	stream_free(&dig);
	free(data);
	return 0;
}
