/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * main.h - ddp-host's command line: the options parsed, and the commands
 * the table in main.c runs (cmds.c, perf.c).
 */
#ifndef L5P_HOST_MAIN_H
#define L5P_HOST_MAIN_H

#include <stdbool.h>
#include <linux/types.h>
#include "host.h"

#define EXIT_USAGE 2

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

/* "ddp-host: <fmt with arg>" and where to find help; returns EXIT_USAGE */
int usage_error(const char *fmt, const char *arg);
/* host_connect() with ioq I/O queues, or say why not (EXIT_FAILURE) */
int connect_or_fail(struct args *a, struct host **h, __u32 ioq);

/* cmds.c */
int cmd_discover(struct args *a);
int cmd_id_ctrl(struct args *a);
int cmd_id_ns(struct args *a);
int cmd_list_ns(struct args *a);
int cmd_rw(struct args *a, bool write, bool verify);
/* perf.c */
int cmd_perf(struct args *a);

#endif /* L5P_HOST_MAIN_H */
