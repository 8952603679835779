// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * perf.c - ddp-host perf: a load on every I/O queue from a thread each,
 * its latencies in histograms, and the summary (text or JSON) with the
 * CPU time spent and what the engine placed.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include "libddp.h"
#include "main.h"
#include "nvme/pattern.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* ---- perf ------------------------------------------------------------------ */

/* Latencies in µs: exact below 16, then 16 buckets per power of two. */
#define LAT_BUCKETS (16 + 16 * 40)

struct perf {
	struct args *a;
	struct host *h;
	__u64 blocks;
	__u32 lba;
	__u64 t0, end_ns;
	__u64 issued; /* all queues, for --ios */
	/* sizes in a range, buffers in the region: each I/O's is taken at
	 * its size when it is submitted and given back when it completes */
	bool per_io;
};

struct perf_queue;

struct perf_io {
	struct host_io io;
	struct perf_queue *pq;
	bool busy;
};

struct perf_queue {
	struct perf *p;
	struct host_queue *q;
	struct perf_io *slots;
	__u64 rnd, next_lba;
	__u64 ios, bytes, read_bytes, bad, failed;
	__u64 lat[LAT_BUCKETS];
	int err;
};

static __u64 now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * 1000000000ull + t.tv_nsec;
}

/* CPU time of the whole process, all threads */
static __u64 rusage_ns(const struct rusage *r)
{
	return (r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1000000000ull +
	       (r->ru_utime.tv_usec + r->ru_stime.tv_usec) * 1000ull;
}

static __u64 rnd64(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int lat_bucket(__u64 us)
{
	int e = 0;

	if (us < 16)
		return us;
	while ((us >> e) >= 32)
		e++;
	return 16 + 16 * e + (us >> e) - 16 < LAT_BUCKETS ?
		       16 + 16 * e + (us >> e) - 16 :
		       LAT_BUCKETS - 1;
}

static __u64 lat_value(int b)
{
	return b < 16 ? (__u64)b :
			(__u64)(16 + (b - 16) % 16) << ((b - 16) / 16);
}

static __u64 lat_percentile(const __u64 *lat, __u64 n, double pct)
{
	__u64 want = (__u64)ceil(n * pct / 100.0), seen = 0;
	int b;

	for (b = 0; b < LAT_BUCKETS; b++) {
		seen += lat[b];
		if (seen >= want && seen)
			return lat_value(b);
	}
	return 0;
}

static __u32 pick_size(struct perf_queue *pq)
{
	__u32 lo = pq->p->a->bs_min, hi = pq->p->a->bs_max, n = 0, s;

	if (lo == hi)
		return lo;
	/* a power of two between the bounds, each as likely */
	for (s = lo; s <= hi; s *= 2)
		n++;
	s = lo << (rnd64(&pq->rnd) % n);
	return s > hi ? hi : s;
}

static void perf_account(struct host_io *io)
{
	struct perf_io *pio = (struct perf_io *)io;
	struct perf_queue *pq = pio->pq;
	__u64 us = (io->completed_ns - io->submitted_ns) / 1000;

	pio->busy = false;
	if (io->status || io->err) {
		pq->failed++;
		return;
	}
	pq->ios++;
	pq->bytes += io->len;
	pq->lat[lat_bucket(us)]++;
	if (io->opcode != NVME_CMD_READ)
		return;
	pq->read_bytes += io->len;
	if (pq->p->a->verify &&
	    ddp_pattern_check(io->buf, io->slba * pq->p->lba, io->len) >= 0)
		pq->bad++;
}

static void perf_done(struct host_io *io)
{
	struct perf *p = ((struct perf_io *)io)->pq->p;

	perf_account(io);
	/* its teardown is done: nothing writes there any more */
	if (p->per_io) {
		host_buf_free(p->h, io->buf);
		io->buf = NULL;
	}
}

static int perf_fill(struct perf_queue *pq, struct perf_io *pio)
{
	struct perf *p = pq->p;
	struct args *a = p->a;
	__u32 len = pick_size(pq), nlb = len / p->lba;
	__u64 span = p->blocks - nlb + 1, lba;
	bool rnd = !strncmp(a->rw, "rand", 4) || !strcmp(a->rw, "mix");
	bool read = !strcmp(a->rw, "read") || !strcmp(a->rw, "randread") ||
		    (!strcmp(a->rw, "mix") &&
		     (int)(rnd64(&pq->rnd) % 100) < a->mixread);

	if (rnd) {
		lba = rnd64(&pq->rnd) % span / nlb * nlb;
	} else {
		if (pq->next_lba + nlb > p->blocks)
			pq->next_lba = 0;
		lba = pq->next_lba;
		pq->next_lba += nlb;
	}
	pio->io.opcode = read ? NVME_CMD_READ : NVME_CMD_WRITE;
	pio->io.nsid = a->nsid;
	pio->io.slba = lba;
	pio->io.nlb = nlb;
	pio->io.len = len;
	pio->io.done = perf_done;
	if (p->per_io) {
		pio->io.buf = host_buf_alloc(p->h, len);
		if (!pio->io.buf)
			return -ENOMEM;
	}
	/* writes keep the namespace in pattern: reads stay verifiable */
	if (!read)
		ddp_pattern_fill(pio->io.buf, lba * p->lba, len);
	return 0;
}

static void *perf_queue_run(void *arg)
{
	struct perf_queue *pq = arg;
	struct perf *p = pq->p;
	__u32 i, qd = p->a->qd;
	int n;

	for (;;) {
		bool over = stopping || now_ns() >= p->end_ns;

		for (i = 0; i < qd && !over; i++) {
			struct perf_io *pio = &pq->slots[i];

			if (pio->busy)
				continue;
			if (p->a->ios &&
			    __atomic_fetch_add(&p->issued, 1,
					       __ATOMIC_RELAXED) >= p->a->ios) {
				over = true;
				break;
			}
			pq->err = perf_fill(pq, pio);
			if (pq->err)
				return NULL;
			pio->busy = true;
			pq->err = hq_submit(pq->q, &pio->io);
			if (pq->err) {
				pio->busy = false;
				return NULL;
			}
		}
		if (over && !hq_inflight(pq->q))
			return NULL;
		n = hq_poll(pq->q, 100);
		if (n < 0) {
			pq->err = n;
			return NULL;
		}
	}
}

static void perf_progress(struct perf *p, struct perf_queue *pqs, __u32 nq)
{
	__u64 ios = 0, bytes = 0, t = now_ns() - p->t0;
	__u32 i;

	for (i = 0; i < nq; i++) {
		ios += __atomic_load_n(&pqs[i].ios, __ATOMIC_RELAXED);
		bytes += __atomic_load_n(&pqs[i].bytes, __ATOMIC_RELAXED);
	}
	fprintf(stderr, "\r[%4.0fs] %8.0f IOPS %7.3f GiB/s ", t / 1e9,
		ios / (t / 1e9), bytes / (t / 1e9) / (1 << 30));
}

int cmd_perf(struct args *a)
{
	struct perf p = { .a = a };
	struct ddp_stats e0 = { 0 }, e1 = { 0 };
	struct perf_queue *pqs;
	struct host_qstats qs = { 0 };
	__u64 ios = 0, bytes = 0, rbytes = 0, bad = 0, failed = 0, cpu_ns;
	__u64 lat[LAT_BUCKETS] = { 0 };
	struct rusage ru0, ru1;
	pthread_t *th;
	bool engine, tty = isatty(STDERR_FILENO);
	__u32 nq, i, k, offl = 0, unplaceable = 0;
	double secs;
	int err = 0;

	if (strcmp(a->rw, "read") && strcmp(a->rw, "randread") &&
	    strcmp(a->rw, "write") && strcmp(a->rw, "randwrite") &&
	    strcmp(a->rw, "mix"))
		return usage_error(
			"--rw %s: read, randread, write, randwrite or mix",
			a->rw);
	if (connect_or_fail(a, &p.h, a->o.nr_io_queues))
		return EXIT_FAILURE;
	if (host_ns_info(p.h, a->nsid, &p.blocks, &p.lba)) {
		fprintf(stderr, "ddp-host: %s\n", host_error(p.h));
		host_disconnect(p.h);
		return EXIT_FAILURE;
	}
	if (a->bs_max / p.lba > p.blocks ||
	    (host_max_xfer(p.h) && a->bs_max > host_max_xfer(p.h))) {
		fprintf(stderr,
			"ddp-host: I/O size %u larger than the namespace or the controller's limit\n",
			a->bs_max);
		host_disconnect(p.h);
		return EXIT_FAILURE;
	}
	nq = host_nr_queues(p.h);
	/* the region by use: with sizes in a range, each I/O's buffer at
	 * its size, taken at submission and given back at completion (one
	 * for each slot at the largest would keep most of the region from
	 * the other processes using it). Not pinned buffers of our own: a
	 * pin and an unpin per read would cost more than the memory. */
	p.per_io = a->bs_min < a->bs_max && hq_offloaded(host_queue(p.h, 0)) &&
		   !host_pins_buffers(p.h);
	pqs = calloc(nq, sizeof(*pqs));
	th = calloc(nq, sizeof(*th));
	for (i = 0; i < nq; i++) {
		pqs[i] = (struct perf_queue){ .p = &p,
					      .q = host_queue(p.h, i),
					      .rnd = 0x9e3779b97f4a7c15ull *
						     (i + 1) };
		pqs[i].slots = calloc(a->qd, sizeof(*pqs[i].slots));
		for (k = 0; k < a->qd; k++) {
			void *buf = NULL;

			pqs[i].slots[k].pq = &pqs[i];
			if (p.per_io)
				continue;
			buf = host_buf_alloc(p.h, a->bs_max);
			pqs[i].slots[k].io.buf = buf;
			unplaceable += hq_offloaded(pqs[i].q) &&
				       !host_buf_placeable(p.h, buf, a->bs_max);
		}
	}
	if (unplaceable)
		fprintf(stderr,
			"ddp-host: %u of %u buffers do not fit in the engine's buffer region: their reads are copied (a larger region: ddpctl attach --buffers)\n",
			unplaceable, nq * a->qd);
	engine = host_ddp_stats(p.h, &e0);
	getrusage(RUSAGE_SELF, &ru0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	p.t0 = now_ns();
	p.end_ns = p.t0 + (__u64)(a->secs * 1e9);
	for (i = 0; i < nq; i++)
		pthread_create(&th[i], NULL, perf_queue_run, &pqs[i]);
	while (tty && !stopping && now_ns() < p.end_ns) {
		struct timespec one = { 1, 0 };

		nanosleep(&one, NULL);
		perf_progress(&p, pqs, nq);
	}
	for (i = 0; i < nq; i++)
		pthread_join(th[i], NULL);
	secs = (now_ns() - p.t0) / 1e9;
	getrusage(RUSAGE_SELF, &ru1);
	cpu_ns = rusage_ns(&ru1) - rusage_ns(&ru0);
	if (tty)
		fprintf(stderr, "\n");
	if (engine)
		host_ddp_stats(p.h, &e1);
	for (i = 0; i < nq; i++) {
		const struct host_qstats *s = hq_stats(pqs[i].q);

		ios += pqs[i].ios;
		bytes += pqs[i].bytes;
		rbytes += pqs[i].read_bytes;
		bad += pqs[i].bad;
		failed += pqs[i].failed;
		for (k = 0; k < LAT_BUCKETS; k++)
			lat[k] += pqs[i].lat[k];
		qs.ddp_ios += s->ddp_ios;
		qs.ddp_fail += s->ddp_fail;
		qs.skipped += s->skipped;
		qs.copied += s->copied;
		qs.discarded += s->discarded;
		qs.placed_uncut += s->placed_uncut;
		qs.ddgst_unclean += s->ddgst_unclean;
		qs.resync_confirm += s->resync_confirm;
		qs.resync_deny += s->resync_deny;
		qs.ddgst_ok += s->ddgst_ok;
		qs.ddgst_bad += s->ddgst_bad;
		qs.ddgst_computed += s->ddgst_computed;
		offl += hq_offloaded(pqs[i].q);
		if (pqs[i].err && !err) {
			err = pqs[i].err;
			/* the error names its queue */
			fprintf(stderr, "ddp-host: %s\n", host_error(p.h));
		}
	}
	if (a->json) {
		printf("{\"transport\":\"%s\",\"ios\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"iops\":%.0f,\"gibps\":%.4f,"
		       "\"lat_p50_us\":%llu,\"lat_p99_us\":%llu,\"lat_p999_us\":%llu,"
		       "\"failed\":%llu,\"verify_bad\":%llu,\"queues_offloaded\":%u,"
		       "\"ddp_ios\":%llu,\"ddp_fail\":%llu,\"read_bytes\":%llu,"
		       "\"placed_bytes\":%llu,\"copied_bytes\":%llu,\"placed_in_frames\":%llu,"
		       "\"resync_confirm\":%llu,\"resync_deny\":%llu,\"cpu_ns\":%llu,"
		       "\"ddgst_ok\":%llu,\"ddgst_bad\":%llu,\"ddgst_computed\":%llu,"
		       "\"ddgst_unclean\":%llu,\"bufs_pinned\":%u,"
		       "\"discarded_bytes\":%llu",
		       host_transport(p.h), (unsigned long long)ios,
		       (unsigned long long)bytes, secs, ios / secs,
		       bytes / secs / (1 << 30),
		       (unsigned long long)lat_percentile(lat, ios, 50),
		       (unsigned long long)lat_percentile(lat, ios, 99),
		       (unsigned long long)lat_percentile(lat, ios, 99.9),
		       (unsigned long long)failed, (unsigned long long)bad,
		       offl, (unsigned long long)qs.ddp_ios,
		       (unsigned long long)qs.ddp_fail,
		       (unsigned long long)rbytes,
		       (unsigned long long)qs.skipped,
		       (unsigned long long)qs.copied,
		       (unsigned long long)qs.placed_uncut,
		       (unsigned long long)qs.resync_confirm,
		       (unsigned long long)qs.resync_deny,
		       (unsigned long long)cpu_ns,
		       (unsigned long long)qs.ddgst_ok,
		       (unsigned long long)qs.ddgst_bad,
		       (unsigned long long)qs.ddgst_computed,
		       (unsigned long long)qs.ddgst_unclean,
		       host_bufs_pinned(p.h), (unsigned long long)qs.discarded);
		for (k = 0; engine && k < DDP_STATS_NR; k++)
			printf(",\"engine_%s\":%llu", ddp_stat_name(k),
			       (unsigned long long)(((__u64 *)&e1)[k] -
						    ((__u64 *)&e0)[k]));
		printf("}\n");
	} else {
		printf("%s over %s: bs %u-%u, qd %u, %u queue(s), %.1f s\n",
		       a->rw, host_transport(p.h), a->bs_min, a->bs_max, a->qd,
		       nq, secs);
		printf("ios %llu, %.0f IOPS, %.3f GiB/s, failed %llu\n",
		       (unsigned long long)ios, ios / secs,
		       bytes / secs / (1 << 30), (unsigned long long)failed);
		printf("latency us: p50 %llu, p99 %llu, p99.9 %llu\n",
		       (unsigned long long)lat_percentile(lat, ios, 50),
		       (unsigned long long)lat_percentile(lat, ios, 99),
		       (unsigned long long)lat_percentile(lat, ios, 99.9));
		printf("cpu: %.3f s in this process, %.2f ns per byte\n",
		       cpu_ns / 1e9, bytes ? (double)cpu_ns / bytes : 0.0);
		printf("ddp: %u of %u queues offloaded, %llu reads registered (%llu refused), "
		       "read bytes placed %llu, copied %llu (%.1f%% placed), "
		       "resyncs confirmed %llu, denied %llu\n",
		       offl, nq, (unsigned long long)qs.ddp_ios,
		       (unsigned long long)qs.ddp_fail,
		       (unsigned long long)qs.skipped,
		       (unsigned long long)qs.copied,
		       rbytes ? 100.0 * qs.skipped / rbytes : 0.0,
		       (unsigned long long)qs.resync_confirm,
		       (unsigned long long)qs.resync_deny);
		if (qs.ddgst_ok + qs.ddgst_bad + qs.ddgst_computed)
			printf("data digests: %llu checked by the engine (%llu bad), %llu by the host\n",
			       (unsigned long long)(qs.ddgst_ok + qs.ddgst_bad),
			       (unsigned long long)qs.ddgst_bad,
			       (unsigned long long)qs.ddgst_computed);
		if (qs.discarded)
			printf("discard: %llu bytes read thrown away uncopied\n",
			       (unsigned long long)qs.discarded);
		if (a->verify)
			printf("verify: %llu bad reads of %llu bytes read\n",
			       (unsigned long long)bad,
			       (unsigned long long)rbytes);
	}
	for (i = 0; i < nq; i++) {
		for (k = 0; k < a->qd; k++)
			host_buf_free(p.h, pqs[i].slots[k].io.buf);
		free(pqs[i].slots);
	}
	free(pqs);
	free(th);
	host_disconnect(p.h);
	return err || failed || bad ? EXIT_FAILURE : 0;
}
