// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * main.c - ddp-target, the NVMe/TCP target's command line. Exit
 * codes: 0 stopped by SIGTERM or SIGINT, 1 failed, 2 bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nvme/nvme.h"
#include "target.h"

#define NQN_MAX_LEN 223 /* NVMe: an NQN is at most 223 bytes */

static const char usage[] =
	"usage: ddp-target [-a ADDR] [-s PORT] [-n NQN] [--size BYTES|--file PATH]\n"
	"                  [--pattern] [--pdu-size BYTES] [--maxh2cdata BYTES]\n"
	"                  [--completion ooo|fifo|reverse:N] [--queue-size N]\n"
	"                  [--max-queues N] [-v] [--help]\n";

static const char help[] =
	"\n"
	"An NVMe/TCP target: the NVM subsystem NQN with namespace 1 (512-byte\n"
	"blocks), and the discovery subsystem, on one TCP port.\n"
	"\n"
	"  -a, --addr ADDR        IPv4 or IPv6 address to listen on (0.0.0.0)\n"
	"  -s, --port PORT        TCP port (4420); 0 picks a free one\n"
	"  -n, --nqn NQN          subsystem NQN (" TGT_DEF_NQN ")\n"
	"      --size BYTES       namespace in memory, K/M/G suffixes (64M)\n"
	"      --file PATH        namespace in a file or block device instead\n"
	"      --pattern          fill the namespace with the verifiable pattern\n"
	"                         (overwrites a --file)\n"
	"      --pdu-size BYTES   largest C2HData payload (128K)\n"
	"      --maxh2cdata BYTES largest H2CData and R2T (128K)\n"
	"      --completion MODE  ooo: the command with least data left goes\n"
	"                         first, PDU by PDU (default); fifo: in arrival\n"
	"                         order; reverse:N: batches of N (or what came\n"
	"                         within 200 ms), last received first\n"
	"      --queue-size N     entries per queue (128)\n"
	"      --max-queues N     I/O queues per controller (16)\n"
	"  -v, --verbose          log connections and controllers\n"
	"\n"
	"The first line on stdout is 'listening on ADDR PORT'. SIGTERM or\n"
	"SIGINT stops the target.\n";

static struct target *running;
static volatile sig_atomic_t stop_asked;

static void on_signal(int sig)
{
	(void)sig;
	stop_asked = 1;
	if (running)
		target_stop(running);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: what is wrong, then the usage; exit code 2. */
static int bad(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ddp-target: %s\n%s", msg, usage);
	return 2;
}

/* A byte count with an optional K, M or G (powers of 1024). */
static int parse_size(const char *s, unsigned long long *v)
{
	unsigned long long n, mul = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		mul = 1ull << 10;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (*end && end[1])
		return -1;
	if (n > ULLONG_MAX / mul)
		return -1;
	*v = n * mul;
	return 0;
}

static int parse_num(const char *s, unsigned long long min,
		     unsigned long long max, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end || *v < min || *v > max ? -1 : 0;
}

enum {
	OPT_SIZE = 256,
	OPT_FILE,
	OPT_PATTERN,
	OPT_PDU_SIZE,
	OPT_MAXH2CDATA,
	OPT_COMPLETION,
	OPT_QUEUE_SIZE,
	OPT_MAX_QUEUES,
};

static const struct option longopts[] = {
	{ "addr", required_argument, NULL, 'a' },
	{ "port", required_argument, NULL, 's' },
	{ "nqn", required_argument, NULL, 'n' },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "pattern", no_argument, NULL, OPT_PATTERN },
	{ "pdu-size", required_argument, NULL, OPT_PDU_SIZE },
	{ "maxh2cdata", required_argument, NULL, OPT_MAXH2CDATA },
	{ "completion", required_argument, NULL, OPT_COMPLETION },
	{ "queue-size", required_argument, NULL, OPT_QUEUE_SIZE },
	{ "max-queues", required_argument, NULL, OPT_MAX_QUEUES },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_args(int argc, char **argv, struct target_opts *o)
{
	unsigned long long v;
	bool size_set = false;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a:s:n:vh", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'a':
			o->addr = optarg;
			break;
		case 's':
			if (parse_num(optarg, 0, 65535, &v))
				return bad(
					"--port '%s': not a TCP port (0 to 65535)",
					optarg);
			o->port = optarg;
			break;
		case 'n':
			if (!*optarg || strlen(optarg) > NQN_MAX_LEN)
				return bad(
					"--nqn '%s': an NQN has 1 to 223 bytes",
					optarg);
			if (!strcmp(optarg, NVME_DISC_NQN))
				return bad(
					"--nqn '%s': that is the discovery subsystem's NQN",
					optarg);
			o->nqn = optarg;
			break;
		case OPT_SIZE:
			if (parse_size(optarg, &v))
				return bad(
					"--size '%s': not a size (bytes, or with K, M or G)",
					optarg);
			if (!v || v % 512)
				return bad(
					"--size %s: not a positive multiple of 512 bytes",
					optarg);
			if (v > (1ull << 40))
				return bad(
					"--size %s: more than 1 TiB of memory",
					optarg);
			o->size = v;
			size_set = true;
			break;
		case OPT_FILE:
			o->file = optarg;
			break;
		case OPT_PATTERN:
			o->pattern = true;
			break;
		case OPT_PDU_SIZE:
			if (parse_size(optarg, &v) || v < 512 ||
			    v > TGT_MAX_XFER)
				return bad(
					"--pdu-size '%s': expected 512 to 16M bytes",
					optarg);
			o->pdu_size = v;
			break;
		case OPT_MAXH2CDATA:
			if (parse_size(optarg, &v) || v < 4096 ||
			    v > TGT_MAX_XFER || v % 4)
				return bad(
					"--maxh2cdata '%s': expected 4K to 16M bytes, a multiple of 4",
					optarg);
			o->maxh2cdata = v;
			break;
		case OPT_COMPLETION:
			if (!strcmp(optarg, "ooo")) {
				o->completion = TGT_COMPL_OOO;
			} else if (!strcmp(optarg, "fifo")) {
				o->completion = TGT_COMPL_FIFO;
			} else if (!strncmp(optarg, "reverse:", 8) &&
				   !parse_num(optarg + 8, 1, 65536, &v)) {
				o->completion = TGT_COMPL_REVERSE;
				o->reverse_n = v;
			} else {
				return bad(
					"--completion '%s': expected ooo, fifo or reverse:N (N from 1 to 65536)",
					optarg);
			}
			break;
		case OPT_QUEUE_SIZE:
			if (parse_num(optarg, 2, 65536, &v))
				return bad(
					"--queue-size '%s': expected 2 to 65536",
					optarg);
			o->queue_size = v;
			break;
		case OPT_MAX_QUEUES:
			if (parse_num(optarg, 1, 1024, &v))
				return bad(
					"--max-queues '%s': expected 1 to 1024",
					optarg);
			o->max_queues = v;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			printf("%s%s", usage, help);
			exit(0);
		case ':':
			return bad("%s needs a value", argv[optind - 1]);
		default:
			return bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (size_set && o->file)
		return bad("--size and --file exclude each other");
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct target_opts o;
	struct target *t;
	char err[512];
	int rc;

	target_opts_default(&o);
	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (target_open(&o, &t, err, sizeof(err))) {
		fprintf(stderr, "ddp-target: %s\n", err);
		return 1;
	}
	printf("listening on %s %d\n", target_addr(t), target_port(t));
	fflush(stdout);
	running = t;
	if (stop_asked) /* before running was set */
		target_stop(t);
	rc = target_run(t);
	target_close(t);
	if (rc) {
		fprintf(stderr, "ddp-target: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}
