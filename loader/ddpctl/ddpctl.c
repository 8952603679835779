// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ddpctl - attach, watch and detach the DDP engine.
 *
 * This file: the command table, the options every command parses, and
 * the commands that change the engine (attach, detach, reap); show.c has
 * those that show what it does.
 *
 * Exit codes: 0 success, 1 the operation failed, 2 the command line is
 * wrong. Errors go to stderr as "ddpctl: <what>: <why>; <fix>".
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ddpctl.h"

#define EXIT_USAGE 2

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help;
};

static const struct cmd *cur;

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ddpctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: ddpctl %s %s\n", cur->name, cur->args);
	return EXIT_USAGE;
}

int fail(const char *msg)
{
	fprintf(stderr, "ddpctl: %s\n", msg);
	return EXIT_FAILURE;
}

/* 64M, 1G, 4096, 8K: binary units */
static int parse_size(const char *s, __u32 *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	int shift = 0;

	if (end == s)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	}
	if (*end == 'i' && end[-1] != *s)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (v << shift) >> shift != v || (v << shift) > 0xffffffffULL)
		return -1;
	*out = v << shift;
	return 0;
}

void size_str(char *buf, size_t len, __u64 v)
{
	if (v && !(v % (1 << 30)))
		snprintf(buf, len, "%llu GiB", (unsigned long long)(v >> 30));
	else if (v && !(v % (1 << 20)))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(v >> 20));
	else if (v && !(v % (1 << 10)))
		snprintf(buf, len, "%llu KiB", (unsigned long long)(v >> 10));
	else
		snprintf(buf, len, "%llu B", (unsigned long long)v);
}

const char *mode_str(__u32 xdp_flags)
{
	return xdp_flags & XDP_FLAGS_DRV_MODE ? "native" :
	       xdp_flags & XDP_FLAGS_SKB_MODE ? "skb" :
						"-";
}

/* Options every command takes: --help, --json; the rest per command. */
int parse_opts(int argc, char **argv, const struct option *more,
	       const char *shortopts, int (*opt)(int c, const char *arg),
	       bool *json)
{
	struct option all[16] = { { "help", no_argument, NULL, 'h' },
				  { "json", no_argument, NULL, 'j' } };
	char so[32];
	int n = 2, c;

	for (; more && more->name; more++)
		all[n++] = *more;
	snprintf(so, sizeof(so), "hj%s", shortopts);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, so, all, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: ddpctl %s %s\n\n%s\n", cur->name,
			       cur->args, cur->help);
			exit(0);
		}
		if (c == 'j' && json) {
			*json = true;
			continue;
		}
		if (c == '?' || c == ':' || c == 'j' || !opt)
			return usage_error("bad option '%s'", argv[optind - 1]);
		if (opt(c, optarg)) {
			struct option *o = all;

			while (o->name && o->val != c)
				o++;
			return usage_error("bad value '%s' for --%s",
					   optarg ? optarg : "", o->name);
		}
	}
	return 0;
}

int join(const char *dev, struct ddp_dev **d)
{
	if (ddp_dev_join(dev, d))
		return fail(ddp_errmsg(NULL));
	return 0;
}

/* ---- attach, detach ------------------------------------------------------ */

static struct ddp_attach_opts attach_opts;

static int attach_opt(int c, const char *arg)
{
	/* 0 would mean the default: say it, don't mean it */
	if (strchr("btfTSPR", c) && arg && strtoull(arg, NULL, 10) == 0)
		return -1;
	switch (c) {
	case 'm':
		if (!strcmp(arg, "native"))
			attach_opts.mode = DDP_MODE_NATIVE;
		else if (!strcmp(arg, "skb"))
			attach_opts.mode = DDP_MODE_SKB;
		else if (!strcmp(arg, "auto"))
			attach_opts.mode = DDP_MODE_AUTO;
		else
			return -1;
		return 0;
	case 'b':
		return parse_size(arg, &attach_opts.lim.buf_size);
	case 't':
		return parse_size(arg, &attach_opts.lim.io_threshold);
	case 'f':
		return parse_size(arg, &attach_opts.lim.max_flows);
	case 'T':
		return parse_size(arg, &attach_opts.lim.tags_per_flow);
	case 'S':
		return parse_size(arg, &attach_opts.lim.seg_pool);
	case 'P':
		return parse_size(arg, &attach_opts.lim.tag_pool);
	case 'R':
		return parse_size(arg, &attach_opts.lim.rec_pool);
	case 'D':
		attach_opts.lim.no_ddgst_offload = true;
		return 0;
	case 'K':
		attach_opts.lim.no_kfuncs = true;
		return 0;
	}
	return -1;
}

static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "buffers", required_argument, NULL, 'b' },
		{ "threshold", required_argument, NULL, 't' },
		{ "flows", required_argument, NULL, 'f' },
		{ "tags", required_argument, NULL, 'T' },
		{ "segs", required_argument, NULL, 'S' },
		{ "tag-pool", required_argument, NULL, 'P' },
		{ "rec-pool", required_argument, NULL, 'R' },
		{ "no-ddgst-offload", no_argument, NULL, 'D' },
		{ "no-kfuncs", no_argument, NULL, 'K' },
		{ 0 }
	};
	struct ddp_dev *d;
	struct ddp_caps c;
	char sz[32];
	int err, i;

	/* gone: the engine recognises what the option was for by itself */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--trust-checksums"))
			return usage_error(
				"--trust-checksums is no more: the engine accepts the partial checksums of a veth or tun sender by itself, and checks all others (ddpctl status shows which)");
	attach_opts = (struct ddp_attach_opts){ .mode = DDP_MODE_AUTO };
	err = parse_opts(argc, argv, opts, "m:b:t:f:T:S:P:R:DK", attach_opt,
			 NULL);
	if (err)
		return err;
	if (optind != argc - 1)
		return usage_error("attach takes one device");
	/* the library's message: the step, the errno, the kernel's reason */
	if (ddp_dev_attach(argv[optind], &attach_opts, &d))
		return fail(ddp_errmsg(NULL));
	if (ddp_dev_notice(d))
		fprintf(stderr, "ddpctl: %s\n", ddp_dev_notice(d));
	ddp_dev_caps(d, &c);
	size_str(sz, sizeof(sz), c.buf_size);
	printf("attached to %s in %s mode: %u flows, %u tags per flow, %u tags, %u buffer segments, %s buffer region, io_threshold %u, data digests %s\n",
	       argv[optind], mode_str(c.xdp_flags), c.max_flows,
	       c.tags_per_flow, c.max_tags, c.seg_pool, sz, c.io_threshold,
	       c.crc_kfunc   ? "checked (the kernel's crc32c, kmod_glue)" :
	       c.crc_offload ? "checked" :
			       "not checked");
	ddp_dev_close(d);
	return 0;
}

static int cmd_detach(int argc, char **argv)
{
	int err = parse_opts(argc, argv, NULL, "", NULL, NULL);

	if (err)
		return err;
	if (optind != argc - 1)
		return usage_error("detach takes one device");
	if (ddp_dev_detach(argv[optind]))
		return fail(ddp_errmsg(NULL));
	printf("detached from %s\n", argv[optind]);
	return 0;
}

/* ---- reap ---------------------------------------------------------------- */

static int cmd_reap(int argc, char **argv)
{
	struct ddp_reaped r[DDP_OWNERS_MAX];
	struct ddp_dev *d;
	int err, n, i;

	err = parse_opts(argc, argv, NULL, "", NULL, NULL);
	if (err)
		return err;
	if (optind != argc - 1)
		return usage_error("reap takes one device");
	if (join(argv[optind], &d))
		return EXIT_FAILURE;
	n = ddp_dev_reap(d, r, DDP_OWNERS_MAX);
	if (n < 0) {
		err = fail(ddp_errmsg(d));
	} else if (!n) {
		printf("nothing to reap on %s: every process using it is alive\n",
		       argv[optind]);
	}
	for (i = 0; i < n; i++)
		printf("reaped pid %u: %u flows, %u tags, %u chunks of the region\n",
		       r[i].tgid, r[i].flows, r[i].tags, r[i].chunks);
	ddp_dev_close(d);
	return err;
}

/* ---- the table ----------------------------------------------------------- */

static int cmd_help(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "attach", cmd_attach,
	  "DEV [--mode native|skb|auto] [--buffers SIZE] [--threshold BYTES] [--flows N] [--tags N] [--tag-pool N] [--segs N] [--rec-pool N] [--no-ddgst-offload] [--no-kfuncs]",
	  "Load the engine, attach it to DEV and pin it under " DDP_PIN_ROOT
	  "/DEV.\n"
	  "  --mode       native (driver), skb (generic) or auto (native, else skb;\n"
	  "               the default)\n"
	  "  --buffers    buffer region size, e.g. 64M (default 64M, at most 512M)\n"
	  "  --threshold  smallest I/O placed, in bytes (default 32K)\n"
	  "  --flows      connections offloaded at once (default 64, at most 65536)\n"
	  "  --tags       tags registered at once per connection (default 128, at\n"
	  "               most 1024); a connection holds as many as its queue\n"
	  "               size, up to this\n"
	  "  --tag-pool   tags of all connections, a multiple of 16 (default: every\n"
	  "               connection at --tags); a connection takes its tags,\n"
	  "               rounded up to 16, from this pool as it is offloaded\n"
	  "  --segs       buffer segments of all tags at once, a multiple of 256\n"
	  "               (default 8 a tag of the pool); a tag takes its buffer's\n"
	  "               segments, rounded up to 4, from this pool\n"
	  "  --rec-pool   placement records of all kernel-socket connections, a\n"
	  "               multiple of 16; each takes a ring of 8 a tag it holds\n"
	  "               (64 to 1024) as it is offloaded; AF_XDP ones take none\n"
	  "  --no-ddgst-offload  do not check C2HData data digests (the engine\n"
	  "               checks them by default and counts ddgst_ok, _bad, _unknown)\n"
	  "  --no-kfuncs  do not use the kfuncs of kmod_glue's module (ddp_glue)\n"
	  "               even where it is loaded: the engine's own CRC32C\n"
	  "Refuses a device that has another XDP program. In auto mode, falls back\n"
	  "to skb mode only where the driver has no native XDP." },
	{ "detach", cmd_detach, "DEV",
	  "Take the engine off DEV and remove its pins. Processes that joined it\n"
	  "keep what they hold until they exit." },
	{ "status", cmd_status, "[DEV] [--json]",
	  "The engines attached (or the one on DEV): mode, program id, flows in\n"
	  "use, tags (registered/held by flows/the pool), segments and records\n"
	  "in use, chunks of the buffer region held of all (a process gone\n"
	  "holds its own until it is reaped), the region's size, io_threshold,\n"
	  "and the TCP checksums the engine checks: 'headers' (every frame whose\n"
	  "PDU header bytes it uses; data-only frames are revoked instead if\n"
	  "resent), ',512B-calls' where the kernel's bpf_csum_diff() sums no more\n"
	  "at once, ',partial-ok' where it accepts the partial checksums the kernel\n"
	  "itself hands on (veth, tun, skb mode); then whether it checks data\n"
	  "digests ('ddgst', 'ddgst-kfunc' where kmod_glue's module computes their\n"
	  "CRC32C, or 'no-ddgst')." },
	{ "stats", cmd_stats, "DEV [--json] [--watch[=SECONDS]]",
	  "The engine's counters summed over CPUs. --watch prints them again every\n"
	  "SECONDS (default 1) with the rate of each, until interrupted." },
	{ "flows", cmd_flows, "DEV [--json]",
	  "The offloaded connections: id, addresses, receive path (kernel socket,\n"
	  "xsk, xsk-zc where the socket is bound zero-copy, steer), sync state, expected sequence number, tags, bytes placed,\n"
	  "resyncs, and the process that owns it ('dead' once it is gone: 'ddpctl\n"
	  "reap' cleans up)." },
	{ "reap", cmd_reap, "DEV",
	  "Clean up after the processes that used the engine on DEV and are gone:\n"
	  "their flows are deleted and their tags torn down, then their chunks of\n"
	  "the buffer region are freed. A process that needs room does the same." },
	{ "tags", cmd_tags, "DEV [--json]",
	  "The registered tags: flow, CID, state (active, or dead while its\n"
	  "teardown completes), length, segments, generation." },
	{ "events", cmd_events, "DEV [--count N] [--timeout SECONDS]",
	  "Follow the flows: added, removed, sync lost, resync requested, back in\n"
	  "sync. Reads only: the hosts still get every request. Stops after N\n"
	  "events, SECONDS, or when interrupted." },
	{ "help", cmd_help, "[COMMAND]",
	  "Say how to use ddpctl or a command." },
	{ 0 }
};

static const struct cmd *find(const char *name)
{
	const struct cmd *c;

	for (c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void overview(FILE *out)
{
	const struct cmd *c;

	fprintf(out,
		"usage: ddpctl [-v] COMMAND [ARGS]   (ddpctl help COMMAND)\n\n"
		"The DDP engine's control tool. Commands:\n");
	for (c = cmds; c->name; c++)
		fprintf(out, "  %-7s %s\n", c->name, c->args);
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		overview(stdout);
		return 0;
	}
	c = find(argv[1]);
	if (!c)
		return usage_error("no command '%s'", argv[1]);
	printf("usage: ddpctl %s %s\n\n%s\n", c->name, c->args, c->help);
	return 0;
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd *c;

	/* libbpf's own messages only with -v, as xdp-tools do */
	if (argc > 1 &&
	    (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose"))) {
		argc--;
		argv++;
	} else {
		libbpf_set_print(quiet_libbpf);
	}

	if (argc < 2) {
		overview(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		overview(stdout);
		return 0;
	}
	c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "ddpctl: no command '%s'; try 'ddpctl help'\n",
			argv[1]);
		return EXIT_USAGE;
	}
	cur = c;
	if (c->run != cmd_help && geteuid()) {
		/* before anything else, as xdp-tools do */
		if (!(argc > 2 &&
		      (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))))
			return fail(
				"must be run as root (BPF and XDP need CAP_BPF, CAP_NET_ADMIN)");
	}
	return c->run(argc - 1, argv + 1);
}
