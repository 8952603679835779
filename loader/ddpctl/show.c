// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * show.c - the ddpctl commands that show what the engine does: status,
 * stats, flows, tags, events. They read the engine's state and counters
 * and change nothing.
 */
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "ddpctl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void addr_str(char *buf, size_t len, const __u8 *a, __be16 port)
{
	static const __u8 v4[12] = { [10] = 0xff, [11] = 0xff };
	char ip[INET6_ADDRSTRLEN];

	if (!memcmp(a, v4, 12)) {
		inet_ntop(AF_INET, a + 12, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(port));
	} else {
		inet_ntop(AF_INET6, a, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(port));
	}
}

/* ---- status -------------------------------------------------------------- */

/* The active tags of the flow in slot id; a free slot's run of the tag
 * pool may be someone else's already */
static __u32 flow_tags(struct ddp_dev *d, __u32 id)
{
	__u32 t, n = 0;

	if (ddp_flow_mem(d, id)->state == DDP_FLOW_FREE)
		return 0;
	for (t = 0; t < ddp_flow_tag_count(d, id); t++) {
		const struct ddp_tag *g = ddp_tag_mem(d, id, t);

		n += g && DDP_TAG_STATE(g->stamp) == DDP_TAG_ACTIVE;
	}
	return n;
}

static void count_live(struct ddp_dev *d, __u32 *flows, __u32 *tags)
{
	struct ddp_caps c;
	__u32 i;

	ddp_dev_caps(d, &c);
	*flows = *tags = 0;
	for (i = 0; i < c.max_flows; i++) {
		*flows += ddp_flow_mem(d, i)->state == DDP_FLOW_ALIVE;
		*tags += flow_tags(d, i);
	}
}

/* Which TCP checksums the engine checks, and how: "headers" (the frames
 * whose PDU header bytes it uses), "in N-byte calls" where the kernel's
 * bpf_csum_diff() takes no more, "partial ok" where it accepts the
 * kernel's partial checksums. */
static void csum_str(char *buf, size_t len, const struct ddp_caps *c)
{
	int n = snprintf(buf, len, c->csum_max ? "headers" : "none");

	if (c->csum_max && c->csum_max < DDP_MAX_SUMMED)
		n += snprintf(buf + n, len - n, ",%uB-calls", c->csum_max);
	if (c->csum_partial)
		snprintf(buf + n, len - n, ",partial-ok");
}

/* Who computes the data digests' CRC32C: "kfunc" (the kernel's crc32c,
 * through kmod_glue), "bpf" (the engine's tables), "none" (not checked). */
static const char *crc_str(const struct ddp_caps *c)
{
	return c->crc_kfunc ? "kfunc" : c->crc_offload ? "bpf" : "none";
}

static int status_one(const char *dev, bool json, bool first)
{
	struct bpf_prog_info pi = { 0 };
	__u32 plen = sizeof(pi), flows, tags, held, segs, recs, chunks, nchunks;
	char sz[32], fl[32], tg[32], sg[32], rc[32], ch[32], cs[48];
	struct ddp_dev *d;
	struct ddp_caps c;

	if (join(dev, &d))
		return EXIT_FAILURE;
	ddp_dev_caps(d, &c);
	if (bpf_obj_get_info_by_fd(ddp_xdp_prog_fd(d), &pi, &plen))
		pi.id = 0;
	count_live(d, &flows, &tags);
	if (ddp_seg_pool_used(d, &segs) || ddp_tag_pool_used(d, &held) ||
	    ddp_rec_pool_used(d, &recs) ||
	    ddp_region_chunks_held(d, &chunks, &nchunks)) {
		fprintf(stderr, "ddpctl: %s\n", ddp_errmsg(d));
		ddp_dev_close(d);
		return EXIT_FAILURE;
	}
	size_str(sz, sizeof(sz), c.buf_size);
	snprintf(sg, sizeof(sg), "%u/%u", segs, c.seg_pool);
	snprintf(rc, sizeof(rc), "%u/%u", recs, c.rec_pool);
	snprintf(ch, sizeof(ch), "%u/%u", chunks, nchunks);
	snprintf(fl, sizeof(fl), "%u/%u", flows, c.max_flows);
	snprintf(tg, sizeof(tg), "%u/%u/%u", tags, held, c.max_tags);
	csum_str(cs, sizeof(cs), &c);
	if (json)
		printf("%s{\"dev\":\"%s\",\"mode\":\"%s\",\"prog_id\":%u,\"flows\":%u,\"max_flows\":%u,\"tags\":%u,\"tags_held\":%u,\"max_tags\":%u,\"segs\":%u,\"seg_pool\":%u,\"recs\":%u,\"rec_pool\":%u,\"chunks_held\":%u,\"chunks\":%u,\"buf_size\":%u,\"io_threshold\":%u,\"csum_checked\":\"%s\",\"csum_call_max\":%u,\"csum_partial\":%s,\"ddgst_checked\":%s,\"ddgst_crc\":\"%s\",\"pinned_buffers\":%s}",
		       first ? "" : ",", dev, mode_str(c.xdp_flags), pi.id,
		       flows, c.max_flows, tags, held, c.max_tags, segs,
		       c.seg_pool, recs, c.rec_pool, chunks, nchunks,
		       c.buf_size, c.io_threshold,
		       c.csum_max ? "headers" : "none", c.csum_max,
		       c.csum_partial ? "true" : "false",
		       c.crc_offload ? "true" : "false", crc_str(&c),
		       c.pinned_buffers ? "true" : "false");
	else
		printf("%-15s %-7s %-6u %-9s %-13s %-15s %-15s %-9s %-9s %-10u %-24s %s\n",
		       dev, mode_str(c.xdp_flags), pi.id, fl, tg, sg, rc, ch,
		       sz, c.io_threshold, cs,
		       c.crc_kfunc   ? "ddgst-kfunc" :
		       c.crc_offload ? "ddgst" :
				       "no-ddgst");
	ddp_dev_close(d);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	bool json = false, first = true;
	struct dirent *e;
	int err, rc = 0;
	DIR *dir;

	err = parse_opts(argc, argv, NULL, "", NULL, &json);
	if (err)
		return err;
	if (argc - optind > 1)
		return usage_error("status takes at most one device");
	if (optind < argc) {
		/* one device: its error alone, no empty table */
		struct ddp_dev *d;

		if (join(argv[optind], &d))
			return EXIT_FAILURE;
		ddp_dev_close(d);
	}
	if (json)
		printf("[");
	else
		printf("%-15s %-7s %-6s %-9s %-13s %-15s %-15s %-9s %-9s %-10s %-24s %s\n",
		       "DEV", "MODE", "PROG", "FLOWS", "TAGS", "SEGS", "RECS",
		       "CHUNKS", "REGION", "THRESHOLD", "CHECKSUMS", "DIGESTS");
	if (optind < argc) {
		rc = status_one(argv[optind], json, true);
	} else if ((dir = opendir(DDP_PIN_ROOT))) {
		while ((e = readdir(dir))) {
			/* bpffs is shared by all network namespaces: list
			 * only the engines on devices of this one */
			if (e->d_name[0] == '.' || !if_nametoindex(e->d_name))
				continue;
			rc |= status_one(e->d_name, json, first);
			first = false;
		}
		closedir(dir);
	}
	if (json)
		printf("]\n");
	return rc;
}

/* ---- stats --------------------------------------------------------------- */

static double watch_secs;

static int stats_opt(int c, const char *arg)
{
	char *end;

	if (c != 'w')
		return -1;
	watch_secs = arg ? strtod(arg, &end) : 1.0;
	return (arg && *end) || watch_secs <= 0 ? -1 : 0;
}

static void stats_print(const struct ddp_stats *s, const struct ddp_stats *prev,
			double secs, bool json)
{
	unsigned int i;

	if (json)
		printf("{");
	else if (prev)
		printf("%-16s %20s %14s\n", "COUNTER", "VALUE", "PER SECOND");
	for (i = 0; i < DDP_STATS_NR; i++) {
		__u64 v = ((const __u64 *)s)[i];

		if (json)
			printf("%s\"%s\":%llu", i ? "," : "", ddp_stat_name(i),
			       (unsigned long long)v);
		else if (prev)
			printf("%-16s %20llu %14.0f\n", ddp_stat_name(i),
			       (unsigned long long)v,
			       (v - ((const __u64 *)prev)[i]) / secs);
		else
			printf("%-16s %llu\n", ddp_stat_name(i),
			       (unsigned long long)v);
	}
	if (json)
		printf("}\n");
	fflush(stdout);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", optional_argument, NULL, 'w' }, { 0 }
	};
	struct ddp_stats s, prev;
	bool json = false;
	struct ddp_dev *d;
	int err;

	watch_secs = 0;
	err = parse_opts(argc, argv, opts, "w::", stats_opt, &json);
	if (err)
		return err;
	if (optind != argc - 1)
		return usage_error("stats takes one device");
	if (join(argv[optind], &d))
		return EXIT_FAILURE;
	if (ddp_stats_read(d, &s)) {
		err = fail(ddp_errmsg(d));
		goto out;
	}
	stats_print(&s, NULL, 0, json);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (watch_secs > 0 && !stop) {
		struct timespec ts = {
			(time_t)watch_secs,
			(long)((watch_secs - (time_t)watch_secs) * 1e9)
		};

		prev = s;
		nanosleep(&ts, NULL);
		if (stop || ddp_stats_read(d, &s))
			break;
		if (!json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		else if (!json)
			printf("\n");
		stats_print(&s, &prev, watch_secs, json);
	}
out:
	ddp_dev_close(d);
	return err;
}

/* ---- flows, tags --------------------------------------------------------- */

static const char *sync_str(__u32 s)
{
	static const char *const n[] = { "ok", "search", "candidate",
					 "pending" };

	return s < 4 ? n[s] : "?";
}

static const char *path_str(__u32 flags)
{
	if (!(flags & DDP_SK_OFFLOAD))
		return "steer";
	if (flags & DDP_SK_XSK)
		return flags & DDP_SK_ZEROCOPY ? "xsk-zc" : "xsk";
	return flags & DDP_SK_RECORDS ? "kernel" : "place";
}

int cmd_flows(int argc, char **argv)
{
	bool json = false, first = true;
	struct ddp_dev *d;
	struct ddp_caps c;
	int err;
	__u32 i;

	err = parse_opts(argc, argv, NULL, "", NULL, &json);
	if (err)
		return err;
	if (optind != argc - 1)
		return usage_error("flows takes one device");
	if (join(argv[optind], &d))
		return EXIT_FAILURE;
	ddp_dev_caps(d, &c);
	if (json)
		printf("[");
	else
		printf("%-8s %-26s %-26s %-6s %-9s %-10s %-5s %-12s %-8s %s\n",
		       "ID", "REMOTE", "LOCAL", "PATH", "SYNC", "EXP_SEQ",
		       "TAGS", "PLACED", "RESYNCS", "OWNER");
	for (i = 0; i < c.max_flows; i++) {
		const struct ddp_flow *f = ddp_flow_mem(d, i);
		char r[64], l[64], o[32];

		if (f->state != DDP_FLOW_ALIVE)
			continue;
		addr_str(r, sizeof(r), f->key.raddr, f->key.rport);
		addr_str(l, sizeof(l), f->key.laddr, f->key.lport);
		ddp_owner_str(d, f->owner, o, sizeof(o));
		if (json)
			printf("%s{\"id\":%u,\"remote\":\"%s\",\"local\":\"%s\",\"path\":\"%s\",\"sync\":\"%s\",\"exp_seq\":%u,\"tags\":%u,\"placed_bytes\":%llu,\"resyncs\":%llu,\"owner\":\"%s\"}",
			       first ? "" : ",", f->flow_id, r, l,
			       path_str(f->cfg.flags), sync_str(f->sync),
			       f->exp_seq, flow_tags(d, i),
			       (unsigned long long)f->placed_bytes,
			       (unsigned long long)f->resyncs, o);
		else
			printf("%-8u %-26s %-26s %-6s %-9s %-10u %-5u %-12llu %-8llu %s\n",
			       f->flow_id, r, l, path_str(f->cfg.flags),
			       sync_str(f->sync), f->exp_seq, flow_tags(d, i),
			       (unsigned long long)f->placed_bytes,
			       (unsigned long long)f->resyncs, o);
		first = false;
	}
	if (json)
		printf("]\n");
	ddp_dev_close(d);
	return 0;
}

int cmd_tags(int argc, char **argv)
{
	static const char *const st[] = { "free", "active", "dead", "busy" };
	bool json = false, first = true;
	struct ddp_dev *d;
	struct ddp_caps c;
	__u32 i, t;
	int err;

	err = parse_opts(argc, argv, NULL, "", NULL, &json);
	if (err)
		return err;
	if (optind != argc - 1)
		return usage_error("tags takes one device");
	if (join(argv[optind], &d))
		return EXIT_FAILURE;
	ddp_dev_caps(d, &c);
	if (json)
		printf("[");
	else
		printf("%-8s %-5s %-6s %-7s %-11s %-5s %s\n", "FLOW", "TAG",
		       "CID", "STATE", "LEN", "SEGS", "GEN");
	for (i = 0; i < c.max_flows; i++)
		for (t = 0; ddp_flow_mem(d, i)->state != DDP_FLOW_FREE &&
			    t < ddp_flow_tag_count(d, i);
		     t++) {
			const struct ddp_tag *g = ddp_tag_mem(d, i, t);
			__u32 stamp = g ? g->stamp : 0;

			if (DDP_TAG_STATE(stamp) == DDP_TAG_FREE)
				continue;
			if (json)
				printf("%s{\"flow\":%u,\"tag\":%u,\"cid\":%u,\"state\":\"%s\",\"len\":%u,\"segs\":%u,\"gen\":%u}",
				       first ? "" : ",", g->flow_id, t, g->cid,
				       st[DDP_TAG_STATE(stamp)], g->len,
				       g->nsegs, DDP_TAG_GEN(stamp));
			else
				printf("%-8u %-5u %-6u %-7s %-11u %-5u %u\n",
				       g->flow_id, t, g->cid,
				       st[DDP_TAG_STATE(stamp)], g->len,
				       g->nsegs, DDP_TAG_GEN(stamp));
			first = false;
		}
	if (json)
		printf("]\n");
	ddp_dev_close(d);
	return 0;
}

/* ---- events -------------------------------------------------------------- */

static long ev_count;
static double ev_timeout;

static int events_opt(int c, const char *arg)
{
	char *end;

	if (c == 'c') {
		ev_count = strtol(arg, &end, 10);
		return *end || ev_count <= 0 ? -1 : 0;
	}
	if (c == 't') {
		ev_timeout = strtod(arg, &end);
		return *end || ev_timeout <= 0 ? -1 : 0;
	}
	return -1;
}

/* What a flow looked like at the last look. */
struct seen {
	__u32 state, sync, req_id;
};

/* Watches the flows (reading, never consuming what the engine tells the
 * hosts): one line per change seen. */
int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ 0 }
	};
	struct timespec t0, now, tick = { 0, 10 * 1000 * 1000 };
	struct ddp_dev *d;
	struct ddp_caps c;
	struct seen *was;
	long n = 0;
	__u32 i;
	int err;

	ev_count = 0;
	ev_timeout = 0;
	err = parse_opts(argc, argv, opts, "c:t:", events_opt, NULL);
	if (err)
		return err;
	if (optind != argc - 1)
		return usage_error("events takes one device");
	if (join(argv[optind], &d))
		return EXIT_FAILURE;
	ddp_dev_caps(d, &c);
	was = calloc(c.max_flows, sizeof(*was));
	for (i = 0; i < c.max_flows; i++) {
		const struct ddp_flow *f = ddp_flow_mem(d, i);

		was[i] = (struct seen){ f->state, f->sync, f->req_id };
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!stop && (!ev_count || n < ev_count)) {
		for (i = 0; i < c.max_flows && (!ev_count || n < ev_count);
		     i++) {
			const struct ddp_flow *f = ddp_flow_mem(d, i);
			struct seen now_ = { __atomic_load_n(&f->state,
							     __ATOMIC_ACQUIRE),
					     f->sync, f->req_id };
			char r[64], l[64], what[96] = "";

			if (!memcmp(&now_, &was[i], sizeof(now_)))
				continue;
			addr_str(r, sizeof(r), f->key.raddr, f->key.rport);
			addr_str(l, sizeof(l), f->key.laddr, f->key.lport);
			/* dead or already free: a poll may miss the dead state */
			if (now_.state == DDP_FLOW_ALIVE &&
			    was[i].state != DDP_FLOW_ALIVE)
				snprintf(what, sizeof(what), "added");
			else if (was[i].state == DDP_FLOW_ALIVE &&
				 now_.state != DDP_FLOW_ALIVE)
				snprintf(what, sizeof(what), "removed");
			else if (now_.state != was[i].state)
				; /* dead to free: nothing new for a user */
			else if (now_.req_id != was[i].req_id)
				snprintf(what, sizeof(what),
					 "resync request seq %u (id %u)",
					 f->req_seq, now_.req_id);
			else if (now_.sync == DDP_SYNC_OK)
				snprintf(what, sizeof(what), "in sync");
			else if (was[i].sync == DDP_SYNC_OK)
				snprintf(what, sizeof(what), "sync lost");
			was[i] = now_;
			if (!what[0])
				continue;
			printf("flow %u %s > %s: %s\n", f->flow_id, r, l, what);
			n++;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ev_timeout > 0 &&
		    (now.tv_sec - t0.tv_sec) +
				    (now.tv_nsec - t0.tv_nsec) / 1e9 >=
			    ev_timeout)
			break;
		nanosleep(&tick, NULL);
	}
	free(was);
	ddp_dev_close(d);
	return 0;
}
