/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* libddp_priv.h - the library's own view of an engine instance. */
#ifndef LIBDDP_PRIV_H
#define LIBDDP_PRIV_H

#include "libddp.h"

struct ddp_bpf;
struct ring_buffer;

struct ddp_dev {
	struct ddp_bpf *skel;
	struct ddp_limits lim;
	struct ring_buffer *ring;
	ddp_event_cb ev_cb;
	void *ev_arg;
	/* the mmapped maps */
	__u8 *bufs;
	struct ddp_flow *flows;
	struct ddp_tag *tags;
	struct ddp_rec *recs;
	size_t bufs_len, flows_len, tags_len, recs_len;
	char err[256];
};

/* Record a message for ddp_errmsg() and return -|err|. */
int ddp_err(struct ddp_dev *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* LIBDDP_PRIV_H */
