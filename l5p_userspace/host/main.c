// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ddp-host - an NVMe/TCP host with nvme-cli's habits:
 *   ddp-host COMMAND -t tcp -a ADDR [-s PORT] -n NQN [options]
 * Exit codes: 0 done, 1 failed, 2 bad command line.
 *
 * This file: the command table, the options, and main; cmds.c has the
 * admin commands and read, write, verify; perf.c the load generator.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "main.h"
#include "xport/xsk_port.h"

#define DEF_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:ddp-host"

static const char *cmd_name;

int usage_error(const char *fmt, const char *arg)
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
	"      --zero-copy         bind AF_XDP zero-copy or not at all (default:\n"
	"                          zero-copy where the driver has it, else copy)\n"
	"      --copy              bind AF_XDP in copy mode\n"
	"      --io-timeout SEC    a command not done in SEC seconds fails its\n"
	"                          queue (30, as nvme_core.io_timeout)\n"
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
		       "      --discard           throw read data away uncopied (implies\n"
		       "                          --no-ddp): the host's cost with no copy\n"
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
		{ "io-timeout", required_argument, NULL, 12 },
		{ "zero-copy", no_argument, NULL, 13 },
		{ "copy", no_argument, NULL, 14 },
		{ "discard", no_argument, NULL, 15 },
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
			    a->o.nr_io_queues > 1024)
				return usage_error("%s I/O queues: 1 to 1024",
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
		case 12:
			a->o.io_timeout = strtoul(optarg, &end, 0);
			if (*end || !a->o.io_timeout || a->o.io_timeout > 3600)
				return usage_error(
					"I/O timeout %s: 1 to 3600 seconds",
					optarg);
			break;
		case 13:
		case 14:
			if (a->o.xsk_mode)
				return usage_error(
					"%s",
					"--zero-copy and --copy: one or the other");
			a->o.xsk_mode = c == 13 ? XSK_MODE_ZEROCOPY :
						  XSK_MODE_COPY;
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
		case 15:
			a->o.discard = a->o.no_ddp = true;
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
	if (a->o.xsk_mode && a->o.transport == HOST_XPORT_KERNEL)
		return usage_error(
			"%s",
			"--zero-copy and --copy are AF_XDP's (-t tcp or xsk)");
	if (a->o.discard && strcmp(cmd_name, "perf"))
		return usage_error("%s", "--discard is perf's");
	if (a->o.discard && (a->verify || a->o.ddgst))
		return usage_error(
			"%s",
			"--discard throws the data away: no --verify, no -G");
	if (!strcmp(cmd_name, "discover"))
		a->o.subnqn = NVME_DISC_NQN;
	if (a->qd > a->o.queue_size)
		a->o.queue_size = a->qd;
	return 0;
}

int connect_or_fail(struct args *a, struct host **h, __u32 ioq)
{
	char err[256];

	a->o.nr_io_queues = ioq;
	if (host_connect(&a->o, h, err, sizeof(err))) {
		fprintf(stderr, "ddp-host: %s\n", err);
		return EXIT_FAILURE;
	}
	return 0;
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
