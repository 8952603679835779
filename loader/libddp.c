// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libddp.c - loading an engine instance and the control operations.
 *
 * Control operations run the engine's BPF_PROG_TYPE_SYSCALL programs
 * (bpf/ddp_ctl.h) with BPF_PROG_TEST_RUN; host-written fields (segments,
 * resync replies) go through the mmapped maps.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "libddp.h"
#include "libddp_priv.h"
#include "ddp.skel.h"

int ddp_err(struct ddp_dev *d, int err, const char *fmt, ...)
{
	va_list ap;

	if (d) {
		va_start(ap, fmt);
		vsnprintf(d->err, sizeof(d->err), fmt, ap);
		va_end(ap);
	}
	return err < 0 ? err : -err;
}

/* why the last ddp_dev_load() of this thread failed */
static __thread char ddp_load_err[256];

const char *ddp_errmsg(const struct ddp_dev *d)
{
	return d ? d->err : ddp_load_err;
}

static void ddp_limits_fill(struct ddp_limits *lim)
{
	if (!lim->max_flows)
		lim->max_flows = DDP_DEF_MAX_FLOWS;
	if (!lim->tags_per_flow)
		lim->tags_per_flow = DDP_DEF_TAGS_PER_FLOW;
	if (!lim->buf_size)
		lim->buf_size = DDP_DEF_BUF_SIZE;
	if (!lim->io_threshold)
		lim->io_threshold = DDP_DEF_IO_THRESHOLD;
}

static int ddp_limits_check(struct ddp_dev *d, const struct ddp_limits *lim)
{
	if (lim->max_flows > 4096)
		return ddp_err(d, -EINVAL, "max_flows %u: at most 4096",
			       lim->max_flows);
	if (lim->tags_per_flow > 65536)
		return ddp_err(d, -EINVAL, "tags_per_flow %u: at most 65536",
			       lim->tags_per_flow);
	if ((__u64)lim->max_flows * lim->tags_per_flow > (1u << 20))
		return ddp_err(d, -EINVAL,
			       "max_flows * tags_per_flow: at most %u tags",
			       1u << 20);
	if (lim->buf_size % 4096 || lim->buf_size > (1u << 29))
		return ddp_err(
			d, -EINVAL,
			"buffer size %u: a multiple of 4096, at most 512 MiB",
			lim->buf_size);
	return 0;
}

static void *ddp_map_mmap(struct bpf_map *map, size_t *len)
{
	size_t sz =
		(size_t)bpf_map__value_size(map) * bpf_map__max_entries(map);
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	sz = (sz + page - 1) / page * page;
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map),
		 0);
	if (p == MAP_FAILED)
		return NULL;
	*len = sz;
	return p;
}

static int ddp_dev_map_memory(struct ddp_dev *d)
{
	struct ddp_bpf *s = d->skel;

	d->bufs = ddp_map_mmap(s->maps.ddp_bufs, &d->bufs_len);
	d->flows = ddp_map_mmap(s->maps.ddp_flows, &d->flows_len);
	d->tags = ddp_map_mmap(s->maps.ddp_tags, &d->tags_len);
	d->recs = ddp_map_mmap(s->maps.ddp_recs, &d->recs_len);
	if (!d->bufs || !d->flows || !d->tags || !d->recs)
		return ddp_err(d, -errno, "mmap of the engine's maps: %s",
			       strerror(errno));
	return 0;
}

static int ddp_ring_cb(void *arg, void *data, size_t len)
{
	struct ddp_dev *d = arg;

	if (len >= sizeof(struct ddp_event) && d->ev_cb)
		d->ev_cb(d->ev_arg, data);
	return 0;
}

int ddp_dev_load(const struct ddp_limits *in, struct ddp_dev **out)
{
	struct ddp_limits lim = in ? *in : (struct ddp_limits){ 0 };
	struct ddp_dev *d;
	struct ddp_bpf *s;
	__u32 tags;
	int err;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	ddp_limits_fill(&lim);
	err = ddp_limits_check(d, &lim);
	if (err)
		goto fail;
	d->lim = lim;
	s = d->skel = ddp_bpf__open();
	if (!s) {
		err = ddp_err(d, -errno, "open of the engine's BPF object: %s",
			      strerror(errno));
		goto fail;
	}
	tags = lim.max_flows * lim.tags_per_flow;
	s->rodata->cfg_max_flows = lim.max_flows;
	s->rodata->cfg_tags_per_flow = lim.tags_per_flow;
	s->rodata->cfg_buf_size = lim.buf_size;
	s->rodata->cfg_io_threshold = lim.io_threshold;
	bpf_map__set_max_entries(s->maps.ddp_socks, lim.max_flows);
	bpf_map__set_max_entries(s->maps.ddp_flows, lim.max_flows);
	bpf_map__set_max_entries(s->maps.ddp_cids, tags);
	bpf_map__set_max_entries(s->maps.ddp_tags, tags);
	bpf_map__set_max_entries(s->maps.ddp_recs,
				 lim.max_flows * DDP_REC_RING);
	bpf_map__set_value_size(s->maps.ddp_bufs, lim.buf_size + DDP_BUF_GUARD);
	err = ddp_bpf__load(s);
	if (err) {
		err = ddp_err(
			d, err,
			"load of the engine: %s (the verifier log is above; root and a kernel with BTF are needed)",
			strerror(-err));
		goto fail;
	}
	err = ddp_dev_map_memory(d);
	if (err)
		goto fail;
	d->ring = ring_buffer__new(bpf_map__fd(s->maps.ddp_events), ddp_ring_cb,
				   d, NULL);
	if (!d->ring) {
		err = ddp_err(d, -errno, "ring buffer ddp_events: %s",
			      strerror(errno));
		goto fail;
	}
	*out = d;
	return 0;
fail:
	snprintf(ddp_load_err, sizeof(ddp_load_err), "%s", d->err);
	ddp_dev_close(d);
	return err;
}

void ddp_dev_close(struct ddp_dev *d)
{
	if (!d)
		return;
	ring_buffer__free(d->ring);
	if (d->bufs)
		munmap(d->bufs, d->bufs_len);
	if (d->flows)
		munmap(d->flows, d->flows_len);
	if (d->tags)
		munmap(d->tags, d->tags_len);
	if (d->recs)
		munmap(d->recs, d->recs_len);
	ddp_bpf__destroy(d->skel);
	free(d);
}

void ddp_dev_limits(const struct ddp_dev *d, struct ddp_limits *lim)
{
	*lim = d->lim;
}

int ddp_xdp_prog_fd(const struct ddp_dev *d)
{
	return bpf_program__fd(d->skel->progs.ddp_rx);
}

int ddp_map_fd(const struct ddp_dev *d, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(d->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

/* Run a control program; its return value is 0 or -errno. */
static int ddp_ctl_run(struct ddp_dev *d, struct bpf_program *prog, void *ctx,
		       size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = len);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	if (err)
		return ddp_err(d, -errno, "run of %s: %s",
			       bpf_program__name(prog), strerror(errno));
	return (int)opts.retval;
}

int ddp_sk_add(struct ddp_dev *d, const struct ddp_flow_key *key,
	       const struct ddp_sk_config *cfg, __u32 *flow_id)
{
	struct ddp_ctl_sk_add a = { .key = *key, .cfg = *cfg };
	int err = ddp_ctl_run(d, d->skel->progs.ddp_sk_add, &a, sizeof(a));

	if (err == -EEXIST)
		return ddp_err(d, err, "sk_add: connection already offloaded");
	if (err == -ENOSPC || err == -E2BIG)
		return ddp_err(d, err, "sk_add: all %u flows in use",
			       d->lim.max_flows);
	if (err == -EINVAL)
		return ddp_err(
			d, err,
			"sk_add: bad config (pfv %u, cpda %u, dgst %u, queue_size %u, flags %#x)",
			cfg->pfv, cfg->cpda, cfg->dgst, cfg->queue_size,
			cfg->flags);
	if (err)
		return ddp_err(d, err, "sk_add: %s", strerror(-err));
	*flow_id = a.flow_id;
	return 0;
}

int ddp_sk_del(struct ddp_dev *d, __u32 flow_id)
{
	struct ddp_ctl_sk_del a = { .flow_id = flow_id };
	int err = ddp_ctl_run(d, d->skel->progs.ddp_sk_del, &a, sizeof(a));

	if (err == -ENOENT)
		return ddp_err(d, err, "sk_del: flow %u is not offloaded",
			       flow_id);
	return err;
}

int ddp_setup(struct ddp_dev *d, __u32 flow_id, __u32 tag, __u16 cid,
	      const struct ddp_seg *segs, __u32 nsegs)
{
	struct ddp_ctl_setup a = {
		.flow_id = flow_id, .tag = tag, .cid = cid, .nsegs = nsegs
	};
	struct ddp_tag *t = ddp_tag_mem(d, flow_id, tag);
	int err;

	/* A FREE slot is never read by the engine: it is ours to fill. In any
	 * other case the setup program refuses, and counts, the request. */
	if (t && nsegs && nsegs <= DDP_MAX_SEGS &&
	    __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == DDP_TAG_FREE)
		memcpy(t->segs, segs, nsegs * sizeof(*segs));
	err = ddp_ctl_run(d, d->skel->progs.ddp_setup, &a, sizeof(a));
	if (err == -EEXIST)
		return ddp_err(d, err,
			       "setup: cid %u already registered in flow %u",
			       cid, flow_id);
	if (err == -EINVAL && (!t || !nsegs || nsegs > DDP_MAX_SEGS))
		return ddp_err(
			d, err,
			"setup cid %u: tag %u and %u segments; tags 0 to %u and 1 to %u segments allowed",
			cid, tag, nsegs, d->lim.tags_per_flow - 1,
			DDP_MAX_SEGS);
	if (err == -EINVAL)
		return ddp_err(
			d, err,
			"setup cid %u: a segment is empty or outside the %u-byte buffer region",
			cid, d->lim.buf_size);
	if (err == -ENOENT)
		return ddp_err(d, err, "setup cid %u: flow %u is not offloaded",
			       cid, flow_id);
	if (err == -EBUSY)
		return ddp_err(d, err,
			       "setup cid %u: tag %u of flow %u is in use", cid,
			       tag, flow_id);
	return err;
}

int ddp_teardown(struct ddp_dev *d, __u32 flow_id, __u16 cid, __u32 *tag)
{
	struct ddp_ctl_teardown a = { .flow_id = flow_id, .cid = cid };
	int err = ddp_ctl_run(d, d->skel->progs.ddp_teardown, &a, sizeof(a));

	if (err == -ENOENT)
		return ddp_err(d, err,
			       "teardown: cid %u is not registered in flow %u",
			       cid, flow_id);
	if (!err && tag)
		*tag = a.tag;
	return err;
}

int ddp_sync(struct ddp_dev *d, __u64 *epoch)
{
	struct ddp_ctl_sync_begin a = { 0 };
	int inner = bpf_map__fd(d->skel->maps.ddp_sync_inner);
	__u32 zero = 0;
	int err;

	err = ddp_ctl_run(d, d->skel->progs.ddp_sync_begin, &a, sizeof(a));
	if (err)
		return err;
	/* returns after synchronize_rcu(): every engine run that could have
	 * seen a tag alive has finished */
	if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.ddp_sync), &zero,
				&inner, BPF_ANY))
		return ddp_err(d, -errno, "sync through ddp_sync: %s",
			       strerror(errno));
	*epoch = a.epoch;
	return 0;
}

int ddp_release(struct ddp_dev *d, __u32 flow_id, __u64 epoch, __u32 *freed)
{
	struct ddp_ctl_release a = { .flow_id = flow_id, .epoch = epoch };
	int err = ddp_ctl_run(d, d->skel->progs.ddp_release, &a, sizeof(a));

	if (err)
		return ddp_err(d, err, "release of flow %u: %s", flow_id,
			       strerror(-err));
	if (freed)
		*freed = a.freed;
	return 0;
}

void ddp_resync_reply(struct ddp_dev *d, __u32 flow_id, __u32 seq, __u32 req_id,
		      int confirm)
{
	struct ddp_flow *f = ddp_flow_mem(d, flow_id);

	if (f)
		__atomic_store_n(&f->resync_reply,
				 DDP_RESYNC_REPLY(seq, req_id, confirm),
				 __ATOMIC_RELEASE);
}

static const char *const ddp_stat_names[] = {
#define DDP_STAT_NAME(name) #name,
	DDP_STATS(DDP_STAT_NAME)
#undef DDP_STAT_NAME
};

const char *ddp_stat_name(unsigned int i)
{
	return i < DDP_STATS_NR ? ddp_stat_names[i] : NULL;
}

int ddp_stats_read(struct ddp_dev *d, struct ddp_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ddp_stats *per;
	__u32 zero = 0;
	int c;

	if (ncpu < 0)
		return ddp_err(d, ncpu, "number of CPUs unknown");
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(d->skel->maps.ddp_stats), &zero,
				per)) {
		free(per);
		return ddp_err(d, -errno, "read of ddp_stats: %s",
			       strerror(errno));
	}
	memset(sum, 0, sizeof(*sum));
	for (c = 0; c < ncpu; c++) {
		__u64 *dst = (__u64 *)sum, *src = (__u64 *)&per[c];
		size_t i;

		for (i = 0; i < DDP_STATS_NR; i++)
			dst[i] += src[i];
	}
	free(per);
	return 0;
}

__u8 *ddp_buf_mem(const struct ddp_dev *d)
{
	return d->bufs;
}

struct ddp_flow *ddp_flow_mem(const struct ddp_dev *d, __u32 flow_id)
{
	return flow_id < d->lim.max_flows ? &d->flows[flow_id] : NULL;
}

struct ddp_tag *ddp_tag_mem(const struct ddp_dev *d, __u32 flow_id, __u32 tag)
{
	if (flow_id >= d->lim.max_flows || tag >= d->lim.tags_per_flow)
		return NULL;
	return &d->tags[flow_id * d->lim.tags_per_flow + tag];
}

struct ddp_rec *ddp_rec_mem(const struct ddp_dev *d, __u32 flow_id, __u32 n)
{
	if (flow_id >= d->lim.max_flows)
		return NULL;
	return &d->recs[flow_id * DDP_REC_RING + (n & (DDP_REC_RING - 1))];
}

/* [a, a + alen) and [b, b + blen) intersect, in sequence space */
static int seq_overlap(__u32 a, __u32 alen, __u32 b, __u32 blen)
{
	return (__u32)(a - b) < blen || (__u32)(b - a) < alen;
}

int ddp_rec_valid(const struct ddp_dev *d, __u32 flow_id,
		  const struct ddp_rec *r)
{
	const struct ddp_flow *f = ddp_flow_mem(d, flow_id);
	__u32 head, i;

	if (!f)
		return 0;
	head = __atomic_load_n(&f->rev_head, __ATOMIC_ACQUIRE);
	if (head - r->rev > DDP_REV_RING)
		return 0;
	for (i = r->rev; i != head; i++) {
		const struct ddp_rev *v = &f->rev[i & (DDP_REV_RING - 1)];

		if (seq_overlap(r->seq, r->len, v->seq, v->end - v->seq))
			return 0;
	}
	/* entries read above were not overwritten meanwhile */
	return __atomic_load_n(&f->rev_head, __ATOMIC_ACQUIRE) - r->rev <=
	       DDP_REV_RING;
}

int ddp_events_fd(const struct ddp_dev *d)
{
	return ring_buffer__epoll_fd(d->ring);
}

int ddp_events_drain(struct ddp_dev *d, ddp_event_cb cb, void *arg)
{
	int n;

	d->ev_cb = cb;
	d->ev_arg = arg;
	n = ring_buffer__consume(d->ring);
	d->ev_cb = NULL;
	return n < 0 ? ddp_err(d, n, "read of ddp_events: %s", strerror(-n)) :
		       n;
}
