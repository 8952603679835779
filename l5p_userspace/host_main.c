// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ddp-host - an NVMe/TCP host with nvme-cli's habits:
 *   ddp-host COMMAND -t tcp -a ADDR [-s PORT] -n NQN [options]
 * Exit codes: 0 done, 1 failed, 2 bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "host.h"
#include "libddp.h"
#include "pattern.h"

#define EXIT_USAGE 2
#define DEF_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:ddp-host"

struct args {
	struct host_opts o;
	__u32 nsid;
	__u64 slba;
	__u32 nlb; /* 1-based */
	const char *data;
	/* perf */
	const char *rw;
	__u32 bs_min, bs_max;
	__u32 qd;
	double secs;
	__u64 ios;
	int mixread;
	bool verify, json;
};

static const char *cmd_name;
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ddp-host: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\ntry 'ddp-host %s --help'\n", cmd_name);
	return EXIT_USAGE;
}

static int parse_size(const char *s, __u32 *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end || !v || v > (1u << 30))
		return -1;
	*out = v;
	return 0;
}

static const char usage_common[] =
	"  -t, --transport T       tcp: TCP over AF_XDP where it works, else over\n"
	"                          kernel sockets; xsk or kernel: that one only\n"
	"  -a, --traddr ADDR       the target's address\n"
	"  -s, --trsvcid PORT      its port (4420)\n"
	"  -n, --nqn NQN           the subsystem\n"
	"  -q, --hostnqn NQN       this host (" DEF_HOSTNQN ")\n"
	"  -g, --hdr-digest        ask for header digests\n"
	"  -G, --data-digest       ask for data digests\n"
	"  -i, --nr-io-queues N    I/O queues (1)\n"
	"  -Q, --queue-size N      entries per I/O queue (128)\n"
	"      --disable-sqflow    no SQ flow control: reads may end with SUCCESS\n"
	"      --no-ddp            no direct data placement: copy everything\n"
	"      --ddp-dev IF        the engine's interface (default: the route's)\n"
	"  -v, --verbose\n";

static void help(void)
{
	printf("usage: ddp-host %s -t tcp -a ADDR [-s PORT] -n NQN [options]\n%s",
	       cmd_name, usage_common);
	if (!strcmp(cmd_name, "read") || !strcmp(cmd_name, "write") ||
	    !strcmp(cmd_name, "verify"))
		printf("  -N, --namespace-id N    (1)\n"
		       "  -S, --start-block LBA\n"
		       "  -c, --block-count N     blocks, 0's based as nvme-cli's\n"
		       "  -d, --data FILE         %s (default: %s)\n",
		       !strcmp(cmd_name, "write") ? "data to write" :
						    "where the data goes",
		       !strcmp(cmd_name, "write") ? "stdin" : "stdout");
	if (!strcmp(cmd_name, "id-ns"))
		printf("  -N, --namespace-id N    (1)\n");
	if (!strcmp(cmd_name, "perf"))
		printf("  -N, --namespace-id N    (1)\n"
		       "      --rw MODE           read, randread, write, randwrite, mix (read)\n"
		       "      --rwmixread PCT     reads in mix (50)\n"
		       "      --bs SIZE[-SIZE]    I/O size, or a range of powers of 2 (4K)\n"
		       "      --qd N              queue depth per queue (32)\n"
		       "      --time SECONDS      (5)\n"
		       "      --ios N             stop after N I/Os\n"
		       "      --verify            check every read against the pattern\n"
		       "      --json              the summary as JSON\n");
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "traddr", required_argument, NULL, 'a' },
		{ "trsvcid", required_argument, NULL, 's' },
		{ "nqn", required_argument, NULL, 'n' },
		{ "hostnqn", required_argument, NULL, 'q' },
		{ "hdr-digest", no_argument, NULL, 'g' },
		{ "data-digest", no_argument, NULL, 'G' },
		{ "nr-io-queues", required_argument, NULL, 'i' },
		{ "queue-size", required_argument, NULL, 'Q' },
		{ "no-ddp", no_argument, NULL, 1 },
		{ "ddp-dev", required_argument, NULL, 2 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "namespace-id", required_argument, NULL, 'N' },
		{ "start-block", required_argument, NULL, 'S' },
		{ "block-count", required_argument, NULL, 'c' },
		{ "data", required_argument, NULL, 'd' },
		{ "rw", required_argument, NULL, 3 },
		{ "bs", required_argument, NULL, 4 },
		{ "qd", required_argument, NULL, 5 },
		{ "time", required_argument, NULL, 6 },
		{ "verify", no_argument, NULL, 7 },
		{ "rwmixread", required_argument, NULL, 8 },
		{ "ios", required_argument, NULL, 9 },
		{ "json", no_argument, NULL, 10 },
		{ "disable-sqflow", no_argument, NULL, 11 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *end, *dash;
	int c;

	*a = (struct args){ .o = { .trsvcid = "4420",
				   .hostnqn = DEF_HOSTNQN,
				   .nr_io_queues = 1,
				   .queue_size = 128 },
			    .nsid = 1,
			    .nlb = 1,
			    .rw = "read",
			    .bs_min = 4096,
			    .bs_max = 4096,
			    .qd = 32,
			    .secs = 5,
			    .mixread = 50 };
	while ((c = getopt_long(argc, argv, "t:a:s:n:q:gGi:Q:vN:S:c:d:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 't':
			/* nvme-cli's tcp, or TCP over a path of ours */
			if (!strcmp(optarg, "xsk"))
				a->o.transport = HOST_XPORT_XSK;
			else if (!strcmp(optarg, "kernel"))
				a->o.transport = HOST_XPORT_KERNEL;
			else if (strcmp(optarg, "tcp"))
				return usage_error(
					"transport '%s': tcp, xsk or kernel",
					optarg);
			break;
		case 'a':
			a->o.traddr = optarg;
			break;
		case 's':
			a->o.trsvcid = optarg;
			break;
		case 'n':
			a->o.subnqn = optarg;
			break;
		case 'q':
			a->o.hostnqn = optarg;
			break;
		case 'g':
			a->o.hdgst = true;
			break;
		case 'G':
			a->o.ddgst = true;
			break;
		case 'i':
			a->o.nr_io_queues = strtoul(optarg, &end, 0);
			if (*end || !a->o.nr_io_queues ||
			    a->o.nr_io_queues > 64)
				return usage_error("%s I/O queues: 1 to 64",
						   optarg);
			break;
		case 'Q':
			a->o.queue_size = strtoul(optarg, &end, 0);
			if (*end || a->o.queue_size < 2 ||
			    a->o.queue_size > 1024)
				return usage_error("queue size %s: 2 to 1024",
						   optarg);
			break;
		case 1:
			a->o.no_ddp = true;
			break;
		case 2:
			a->o.ddp_dev = optarg;
			break;
		case 'v':
			a->o.verbose = true;
			break;
		case 'N':
			a->nsid = strtoul(optarg, &end, 0);
			break;
		case 'S':
			a->slba = strtoull(optarg, &end, 0);
			break;
		case 'c':
			a->nlb = strtoul(optarg, &end, 0) + 1;
			if (*end || a->nlb > 65536)
				return usage_error("block count %s: 0 to 65535",
						   optarg);
			break;
		case 'd':
			a->data = optarg;
			break;
		case 3:
			a->rw = optarg;
			break;
		case 4:
			dash = strchr(optarg, '-');
			if (dash)
				*dash = 0;
			if (parse_size(optarg, &a->bs_min) ||
			    parse_size(dash ? dash + 1 : optarg, &a->bs_max) ||
			    a->bs_min > a->bs_max || a->bs_min % 512 ||
			    a->bs_max % 512)
				return usage_error(
					"block size %s: like 4K or 4K-1M, multiples of 512",
					optarg);
			break;
		case 5:
			a->qd = strtoul(optarg, &end, 0);
			if (*end || !a->qd || a->qd > 1024)
				return usage_error("queue depth %s: 1 to 1024",
						   optarg);
			break;
		case 6:
			a->secs = strtod(optarg, &end);
			break;
		case 7:
			a->verify = true;
			break;
		case 8:
			a->mixread = atoi(optarg);
			break;
		case 9:
			a->ios = strtoull(optarg, &end, 0);
			break;
		case 10:
			a->json = true;
			break;
		case 11:
			a->o.no_sqfc = true;
			break;
		case 'h':
			help();
			exit(0);
		default:
			return usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!a->o.traddr)
		return usage_error("%s", "no target address (-a)");
	if (!a->o.subnqn && strcmp(cmd_name, "discover"))
		return usage_error("%s", "no subsystem NQN (-n)");
	if (!strcmp(cmd_name, "discover"))
		a->o.subnqn = NVME_DISC_NQN;
	if (a->qd > a->o.queue_size)
		a->o.queue_size = a->qd;
	return 0;
}

static int connect_or_fail(struct args *a, struct host **h, __u32 ioq)
{
	char err[256];

	a->o.nr_io_queues = ioq;
	if (host_connect(&a->o, h, err, sizeof(err))) {
		fprintf(stderr, "ddp-host: %s\n", err);
		return EXIT_FAILURE;
	}
	return 0;
}

/* ---- admin commands ------------------------------------------------------- */

static void str_field(const char *name, const __u8 *p, int len)
{
	printf("%-10s: %-*.*s\n", name, len, len, (const char *)p);
}

static __u32 le32(const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return v;
}

static __u16 le16(const __u8 *p)
{
	__u16 v;

	memcpy(&v, p, 2);
	return v;
}

static int cmd_id_ctrl(struct args *a)
{
	__u8 id[NVME_IDENTIFY_LEN];
	struct host *h;

	if (connect_or_fail(a, &h, 0))
		return EXIT_FAILURE;
	if (host_identify(h, NVME_ID_CNS_CTRL, 0, id)) {
		fprintf(stderr, "ddp-host: identify: %s\n", host_error(h));
		host_disconnect(h);
		return EXIT_FAILURE;
	}
	printf("NVME Identify Controller:\n");
	printf("%-10s: %#x\n", "vid", le16(id + NVME_IDC_VID));
	str_field("sn", id + NVME_IDC_SN, 20);
	str_field("mn", id + NVME_IDC_MN, 40);
	str_field("fr", id + NVME_IDC_FR, 8);
	printf("%-10s: %u\n", "mdts", id[NVME_IDC_MDTS]);
	printf("%-10s: %#x\n", "cntlid", le16(id + NVME_IDC_CNTLID));
	printf("%-10s: %#x\n", "ver", le32(id + NVME_IDC_VER));
	printf("%-10s: %u\n", "maxcmd", le16(id + NVME_IDC_MAXCMD));
	printf("%-10s: %u\n", "nn", le32(id + NVME_IDC_NN));
	printf("%-10s: %#x\n", "sgls", le32(id + NVME_IDC_SGLS));
	printf("%-10s: %.256s\n", "subnqn", (const char *)id + NVME_IDC_SUBNQN);
	printf("%-10s: %u\n", "ioccsz", le32(id + NVME_IDC_IOCCSZ));
	printf("%-10s: %u\n", "iorcsz", le32(id + NVME_IDC_IORCSZ));
	host_disconnect(h);
	return 0;
}

static int cmd_id_ns(struct args *a)
{
	__u8 id[NVME_IDENTIFY_LEN];
	struct host *h;
	__u64 v;
	int i;

	if (connect_or_fail(a, &h, 0))
		return EXIT_FAILURE;
	if (host_identify(h, NVME_ID_CNS_NS, a->nsid, id)) {
		fprintf(stderr, "ddp-host: identify namespace %u: %s\n",
			a->nsid, host_error(h));
		host_disconnect(h);
		return EXIT_FAILURE;
	}
	printf("NVME Identify Namespace %u:\n", a->nsid);
	memcpy(&v, id + NVME_IDNS_NSZE, 8);
	printf("%-10s: %llu\n", "nsze", (unsigned long long)v);
	memcpy(&v, id + NVME_IDNS_NCAP, 8);
	printf("%-10s: %llu\n", "ncap", (unsigned long long)v);
	memcpy(&v, id + NVME_IDNS_NUSE, 8);
	printf("%-10s: %llu\n", "nuse", (unsigned long long)v);
	printf("%-10s: %u\n", "nlbaf", id[NVME_IDNS_NLBAF]);
	printf("%-10s: %u\n", "flbas", id[NVME_IDNS_FLBAS]);
	for (i = 0; i <= id[NVME_IDNS_NLBAF] && i < 16; i++)
		printf("lbaf %2d : ms:%u lbads:%u rp:%u%s\n", i,
		       le16(id + NVME_IDNS_LBAF0 + 4 * i),
		       id[NVME_IDNS_LBAF0 + 4 * i + 2],
		       id[NVME_IDNS_LBAF0 + 4 * i + 3],
		       i == (id[NVME_IDNS_FLBAS] & 0xf) ? " (in use)" : "");
	host_disconnect(h);
	return 0;
}

static int cmd_list_ns(struct args *a)
{
	__u8 list[NVME_IDENTIFY_LEN];
	struct host *h;
	int i;

	if (connect_or_fail(a, &h, 0))
		return EXIT_FAILURE;
	if (host_identify(h, NVME_ID_CNS_NS_ACTIVE_LIST, 0, list)) {
		fprintf(stderr, "ddp-host: list namespaces: %s\n",
			host_error(h));
		host_disconnect(h);
		return EXIT_FAILURE;
	}
	for (i = 0; i < 1024 && le32(list + 4 * i); i++)
		printf("[%4d]:%#x\n", i, le32(list + 4 * i));
	host_disconnect(h);
	return 0;
}

static const char *trtype_str(__u8 t)
{
	return t == NVME_TRTYPE_TCP ? "tcp" : "unknown";
}

static int cmd_discover(struct args *a)
{
	__u8 head[NVME_DLP_ENTRY], *log;
	struct host *h;
	__u64 n, gen, i;
	int rc = EXIT_FAILURE;

	if (connect_or_fail(a, &h, 0))
		return EXIT_FAILURE;
	if (host_get_log(h, NVME_LOG_DISCOVERY, head, sizeof(head)))
		goto out;
	memcpy(&n, head + NVME_DLP_NUMREC, 8);
	memcpy(&gen, head + NVME_DLP_GENCTR, 8);
	if (n > 64)
		n = 64;
	log = malloc((n + 1) * NVME_DLP_ENTRY);
	if (!log || host_get_log(h, NVME_LOG_DISCOVERY, log,
				 (n + 1) * NVME_DLP_ENTRY)) {
		free(log);
		goto out;
	}
	printf("\nDiscovery Log Number of Records %llu, Generation counter %llu\n",
	       (unsigned long long)n, (unsigned long long)gen);
	for (i = 0; i < n; i++) {
		const __u8 *e = log + (i + 1) * NVME_DLP_ENTRY;

		printf("=====Discovery Log Entry %llu======\n",
		       (unsigned long long)i);
		printf("trtype:  %s\n", trtype_str(e[NVME_DLE_TRTYPE]));
		printf("adrfam:  %s\n",
		       e[NVME_DLE_ADRFAM] == NVME_ADRFAM_IP6 ? "ipv6" : "ipv4");
		printf("subtype: %s\n",
		       e[NVME_DLE_SUBTYPE] == NVME_SUBTYPE_NVME ?
			       "nvme subsystem" :
			       "discovery subsystem");
		printf("portid:  %u\n", le16(e + NVME_DLE_PORTID));
		printf("trsvcid: %.32s\n", (const char *)e + NVME_DLE_TRSVCID);
		printf("subnqn:  %.256s\n", (const char *)e + NVME_DLE_SUBNQN);
		printf("traddr:  %.256s\n", (const char *)e + NVME_DLE_TRADDR);
	}
	free(log);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "ddp-host: discovery log: %s\n", host_error(h));
	host_disconnect(h);
	return rc;
}

/* ---- read, write, verify ---------------------------------------------------- */

static void io_done(struct host_io *io)
{
	*(int *)io->arg = 1;
}

/* One command on the first I/O queue, to completion. */
static int one_io(struct host *h, struct host_io *io)
{
	struct host_queue *q = host_queue(h, 0);
	int done = 0, err;

	io->done = io_done;
	io->arg = &done;
	err = hq_submit(q, io);
	while (!err && !done) {
		err = hq_poll(q, 1000);
		err = err < 0 ? err : 0;
	}
	if (err) {
		fprintf(stderr, "ddp-host: I/O: %s\n", host_error(h));
		return EXIT_FAILURE;
	}
	if (io->status) {
		fprintf(stderr, "ddp-host: I/O failed: NVMe status %#x\n",
			io->status);
		return EXIT_FAILURE;
	}
	return 0;
}

static int cmd_rw(struct args *a, bool write, bool verify)
{
	struct host_io io = { .opcode = write ? NVME_CMD_WRITE : NVME_CMD_READ,
			      .nsid = a->nsid,
			      .slba = a->slba,
			      .nlb = a->nlb };
	__u64 blocks;
	__u32 lba;
	struct host *h;
	FILE *f = NULL;
	int rc = EXIT_FAILURE;
	int64_t bad;

	if (connect_or_fail(a, &h, 1))
		return EXIT_FAILURE;
	if (host_ns_info(h, a->nsid, &blocks, &lba)) {
		fprintf(stderr, "ddp-host: %s\n", host_error(h));
		goto out;
	}
	io.len = a->nlb * lba;
	io.buf = host_buf_alloc(h, io.len);
	if (a->data) {
		f = fopen(a->data, write ? "rb" : "wb");
		if (!f) {
			fprintf(stderr, "ddp-host: %s: %s\n", a->data,
				strerror(errno));
			goto out_buf;
		}
	}
	if (write && fread(io.buf, 1, io.len, f ?: stdin) != io.len) {
		fprintf(stderr, "ddp-host: fewer than %u bytes to write\n",
			io.len);
		goto out_file;
	}
	if (one_io(h, &io))
		goto out_file;
	if (verify) {
		bad = ddp_pattern_check(io.buf, a->slba * lba, io.len);
		if (bad >= 0) {
			fprintf(stderr,
				"ddp-host: verify: byte %lld differs from the pattern\n",
				(long long)bad);
			goto out_file;
		}
		printf("verified %u bytes at LBA %llu%s\n", io.len,
		       (unsigned long long)a->slba,
		       io.placed_all ? " (placed by the engine)" : "");
	} else if (!write && fwrite(io.buf, 1, io.len, f ?: stdout) != io.len) {
		fprintf(stderr, "ddp-host: write out: %s\n", strerror(errno));
		goto out_file;
	}
	rc = 0;
out_file:
	if (f)
		fclose(f);
out_buf:
	host_buf_free(h, io.buf);
out:
	host_disconnect(h);
	return rc;
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

static void perf_done(struct host_io *io)
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

static void perf_fill(struct perf_queue *pq, struct perf_io *pio)
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
	/* writes keep the namespace in pattern: reads stay verifiable */
	if (!read)
		ddp_pattern_fill(pio->io.buf, lba * p->lba, len);
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
			perf_fill(pq, pio);
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

static int cmd_perf(struct args *a)
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
	pqs = calloc(nq, sizeof(*pqs));
	th = calloc(nq, sizeof(*th));
	for (i = 0; i < nq; i++) {
		pqs[i] = (struct perf_queue){ .p = &p,
					      .q = host_queue(p.h, i),
					      .rnd = 0x9e3779b97f4a7c15ull *
						     (i + 1) };
		pqs[i].slots = calloc(a->qd, sizeof(*pqs[i].slots));
		for (k = 0; k < a->qd; k++) {
			void *buf = host_buf_alloc(p.h, a->bs_max);

			pqs[i].slots[k].pq = &pqs[i];
			pqs[i].slots[k].io.buf = buf;
			unplaceable += !host_buf_placeable(p.h, buf, a->bs_max);
		}
	}
	if (unplaceable && hq_offloaded(pqs[0].q))
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
		qs.placed_uncut += s->placed_uncut;
		qs.resync_confirm += s->resync_confirm;
		qs.resync_deny += s->resync_deny;
		offl += hq_offloaded(pqs[i].q);
		if (pqs[i].err && !err) {
			err = pqs[i].err;
			fprintf(stderr, "ddp-host: queue %u: %s\n", i + 1,
				host_error(p.h));
		}
	}
	if (a->json) {
		printf("{\"transport\":\"%s\",\"ios\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"iops\":%.0f,\"gibps\":%.4f,"
		       "\"lat_p50_us\":%llu,\"lat_p99_us\":%llu,\"lat_p999_us\":%llu,"
		       "\"failed\":%llu,\"verify_bad\":%llu,\"queues_offloaded\":%u,"
		       "\"ddp_ios\":%llu,\"ddp_fail\":%llu,\"read_bytes\":%llu,"
		       "\"placed_bytes\":%llu,\"copied_bytes\":%llu,\"placed_in_frames\":%llu,"
		       "\"resync_confirm\":%llu,\"resync_deny\":%llu,\"cpu_ns\":%llu",
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
		       (unsigned long long)cpu_ns);
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

/* ---- the table -------------------------------------------------------------- */

struct cmd {
	const char *name;
	const char *what;
};

static const struct cmd cmds[] = {
	{ "discover", "the discovery log of the target" },
	{ "id-ctrl", "identify the controller" },
	{ "id-ns", "identify a namespace" },
	{ "list-ns", "the active namespaces" },
	{ "read", "read blocks to a file or stdout" },
	{ "write", "write blocks from a file or stdin" },
	{ "verify", "read blocks and check them against the target's pattern" },
	{ "perf", "a load: IOPS, GiB/s, latency percentiles, placement" },
	{ 0 }
};

static int quiet_libbpf(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l;
	(void)f;
	(void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	struct args a;
	int err;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		FILE *out = argc < 2 ? stderr : stdout;

		fprintf(out,
			"usage: ddp-host COMMAND -t tcp -a ADDR [-s PORT] -n NQN [options]\n\ncommands:\n");
		for (c = cmds; c->name; c++)
			fprintf(out, "  %-9s %s\n", c->name, c->what);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (c = cmds; c->name && strcmp(c->name, argv[1]); c++)
		;
	if (!c->name) {
		fprintf(stderr,
			"ddp-host: no command '%s'; try 'ddp-host --help'\n",
			argv[1]);
		return EXIT_USAGE;
	}
	cmd_name = c->name;
	err = parse_args(argc - 1, argv + 1, &a);
	if (err)
		return err;
	if (!a.o.verbose)
		libbpf_set_print(quiet_libbpf);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd_name, "discover"))
		return cmd_discover(&a);
	if (!strcmp(cmd_name, "id-ctrl"))
		return cmd_id_ctrl(&a);
	if (!strcmp(cmd_name, "id-ns"))
		return cmd_id_ns(&a);
	if (!strcmp(cmd_name, "list-ns"))
		return cmd_list_ns(&a);
	if (!strcmp(cmd_name, "read"))
		return cmd_rw(&a, false, false);
	if (!strcmp(cmd_name, "write"))
		return cmd_rw(&a, true, false);
	if (!strcmp(cmd_name, "verify"))
		return cmd_rw(&a, false, true);
	return cmd_perf(&a);
}
