/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddpctl.h - what the ddpctl commands share: the options every command
 * takes, its messages, and the commands that show state (show.c), for the
 * command table (ddpctl.c).
 */
#ifndef DDPCTL_H
#define DDPCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include "libddp_priv.h"

/* "ddpctl: <message>" and the command's usage; returns the exit code 2 */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "ddpctl: <msg>"; returns the exit code 1 */
int fail(const char *msg);
/* Options every command takes: --help, --json; the rest per command. */
int parse_opts(int argc, char **argv, const struct option *more,
	       const char *shortopts, int (*opt)(int c, const char *arg),
	       bool *json);
/* Join the engine on dev, or say why not (1) */
int join(const char *dev, struct ddp_dev **d);
/* 64 MiB, 4 KiB, 100 B */
void size_str(char *buf, size_t len, __u64 v);
/* native, skb */
const char *mode_str(__u32 xdp_flags);

/* show.c */
int cmd_status(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_tags(int argc, char **argv);
int cmd_events(int argc, char **argv);

#endif /* DDPCTL_H */
