// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl.c - connections, tags, asynchronous teardown, resync and the events
 * an L5P processes. Control operations run the engine's
 * BPF_PROG_TYPE_SYSCALL programs (bpf/ddp_ctl.h) through prog.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "libddp_priv.h"

enum ddp_wait {
	DDP_WAIT_NONE, /* done: deliver teardown_done(ctx) */
	DDP_WAIT_TAG, /* a placement was writing the tag: wait until free */
	DDP_WAIT_FLOW, /* a deleted flow: sync and release, nothing to tell */
};

/* A teardown or a flow's deletion waiting for the thread or delivery. */
struct ddp_done {
	struct ddp_done *next;
	__u32 flow_id;
	__u32 tag;
	__u32 slot; /* DDP_WAIT_TAG: the tag's slot in the pool */
	void *ctx;
	enum ddp_wait wait;
};

static void ddp_free_list(struct ddp_done *t)
{
	struct ddp_done *next;

	for (; t; t = next) {
		next = t->next;
		free(t);
	}
}

static bool ddp_flow_is_mine(const struct ddp_dev *d, __u32 flow_id)
{
	__u32 slot = DDP_FLOW_SLOT(flow_id);

	return slot < d->lim.max_flows && d->mine[slot] &&
	       d->flows[slot].flow_id == flow_id;
}

/* The tags a flow of this config takes (as the engine's ddp_cfg_tags) */
static __u32 ddp_want_tags(const struct ddp_dev *d,
			   const struct ddp_sk_config *cfg)
{
	if (!(cfg->flags & DDP_SK_OFFLOAD))
		return 0;
	return cfg->queue_size < d->lim.tags_per_flow ? cfg->queue_size :
							d->lim.tags_per_flow;
}

/* The engine refused a config: say which field, as ddp_cfg_check sees it */
static int ddp_bad_cfg(struct ddp_dev *d, int err, const char *step,
		       const struct ddp_sk_config *cfg)
{
	if (cfg->pfv)
		return ddp_err(d, err, "%s: pfv %u: only 0 (NVMe/TCP 1.0)",
			       step, cfg->pfv);
	if (cfg->cpda > 31)
		return ddp_err(d, err, "%s: cpda %u: at most 31", step,
			       cfg->cpda);
	if (cfg->dgst & ~(NVME_TCP_DGST_HDR | NVME_TCP_DGST_DATA))
		return ddp_err(d, err, "%s: dgst %#x: unknown digest bits",
			       step, cfg->dgst);
	if (!cfg->queue_size)
		return ddp_err(d, err, "%s: queue_size 0", step);
	if (cfg->max_data > DDP_MAX_MAX_DATA)
		return ddp_err(d, err, "%s: max_data %u: at most %u", step,
			       cfg->max_data, DDP_MAX_MAX_DATA);
	if (cfg->flags & ~DDP_SK_FLAGS_ALL)
		return ddp_err(d, err, "%s: flags %#x: unknown bits %#x", step,
			       cfg->flags, cfg->flags & ~DDP_SK_FLAGS_ALL);
	if (cfg->flags & DDP_SK_KERNEL)
		return ddp_err(
			d, err,
			"%s: flags %#x: DDP_SK_KERNEL is kmod_glue's alone",
			step, cfg->flags);
	if (cfg->flags & DDP_SK_ZEROCOPY && !(cfg->flags & DDP_SK_XSK))
		return ddp_err(
			d, err,
			"%s: flags %#x: DDP_SK_ZEROCOPY without DDP_SK_XSK",
			step, cfg->flags);
	return ddp_err(d, err, "%s: bad config", step);
}

int ddp_sk_add(struct ddp_dev *d, const struct ddp_flow_key *key,
	       const struct ddp_sk_config *cfg, __u32 *flow_id)
{
	struct ddp_ctl_sk_add a = { .key = *key, .cfg = *cfg };
	int err = ddp_owner_ensure(d);

	if (err)
		return err;
	a.owner = d->owner;
	err = ddp_ctl_run(d, P_ddp_sk_add, &a, sizeof(a));
	if (err == -EEXIST)
		return ddp_err(d, err, "sk_add: connection already offloaded");
	if (err == -ENOBUFS)
		return ddp_err(
			d, err,
			"sk_add: the tag pool has no room for %u tags (ddpctl attach --tag-pool; %u in all)",
			ddp_want_tags(d, cfg), d->lim.tag_pool);
	if (err == -ENOMEM)
		return ddp_err(
			d, err,
			"sk_add: the record pool has no room for a ring of records (ddpctl attach --rec-pool; %u in all)",
			d->lim.rec_pool);
	if (err == -ENOSPC || err == -E2BIG)
		return ddp_err(
			d, err,
			"sk_add: all %u flows in use (or waiting for their teardown to end)",
			d->lim.max_flows);
	if (err == -EINVAL)
		return ddp_bad_cfg(d, err, "sk_add", cfg);
	if (err)
		return ddp_err(d, err, "sk_add: %s", strerror(-err));
	pthread_mutex_lock(&d->lock);
	d->mine[DDP_FLOW_SLOT(a.flow_id)] = true;
	d->req_seen[DDP_FLOW_SLOT(a.flow_id)] = 0;
	pthread_mutex_unlock(&d->lock);
	*flow_id = a.flow_id;
	return 0;
}

int ddp_sk_update(struct ddp_dev *d, __u32 flow_id,
		  const struct ddp_sk_config *cfg)
{
	struct ddp_ctl_sk_update a = { .flow_id = flow_id, .cfg = *cfg };
	int err = ddp_ctl_run(d, P_ddp_sk_update, &a, sizeof(a));

	if (err == -ENOENT || err == -EPERM)
		return ddp_not_mine(d, err, "sk_update", flow_id);
	if (err == -EINVAL)
		return ddp_bad_cfg(d, err, "sk_update", cfg);
	if (err == -EBUSY)
		return ddp_err(
			d, err,
			"sk_update: flow %u holds tags: its queue size can change only while it holds none",
			flow_id);
	if (err == -ENOBUFS)
		return ddp_err(
			d, err,
			"sk_update: the tag pool has no room for %u tags (ddpctl attach --tag-pool; %u in all)",
			ddp_want_tags(d, cfg), d->lim.tag_pool);
	if (err == -ENOMEM)
		return ddp_err(
			d, err,
			"sk_update: the record pool has no room for a ring of records (ddpctl attach --rec-pool; %u in all)",
			d->lim.rec_pool);
	if (err)
		return ddp_err(d, err, "sk_update: %s", strerror(-err));
	return 0;
}

static void *ddp_teardown_thread(void *arg);

static void ddp_append(struct ddp_done **list, struct ddp_done *t)
{
	while (*list)
		list = &(*list)->next;
	*list = t;
}

/* Queue what must wait for the teardown thread. */
static int ddp_queue(struct ddp_dev *d, __u32 flow_id, __u32 tag, __u32 slot,
		     void *ctx, enum ddp_wait wait)
{
	struct ddp_done *t = calloc(1, sizeof(*t));
	int err = 0;

	if (!t)
		return ddp_err(d, -ENOMEM, "out of memory");
	t->flow_id = flow_id;
	t->tag = tag;
	t->slot = slot;
	t->ctx = ctx;
	t->wait = wait;
	pthread_mutex_lock(&d->lock);
	if (!d->thread_on) {
		err = -pthread_create(&d->thread, NULL, ddp_teardown_thread, d);
		d->thread_on = !err;
	}
	if (!err) {
		ddp_append(&d->pending, t);
		pthread_cond_signal(&d->wake);
	}
	pthread_mutex_unlock(&d->lock);
	if (err) {
		free(t);
		return ddp_err(d, err, "teardown thread: %s", strerror(-err));
	}
	return 0;
}

int ddp_sk_del(struct ddp_dev *d, __u32 flow_id)
{
	int err = ddp_ctl_sk_del(d, flow_id);

	if (err)
		return err;
	pthread_mutex_lock(&d->lock);
	d->mine[DDP_FLOW_SLOT(flow_id)] = false;
	pthread_mutex_unlock(&d->lock);
	/* the flow id is free again once a sync has passed */
	return ddp_queue(d, flow_id, 0, 0, NULL, DDP_WAIT_FLOW);
}

/* A refused setup, said */
static int ddp_setup_said(struct ddp_dev *d, int err, __u32 flow_id, __u16 cid,
			  __u64 pin, __u32 nsegs)
{
	if (err == -EEXIST)
		return ddp_err(d, err,
			       "setup: cid %u already registered in flow %u",
			       cid, flow_id);
	if (err == -EOPNOTSUPP)
		return ddp_err(
			d, err,
			"setup cid %u: a pinned buffer needs kmod_glue's module (" DDP_KMOD_NAME
			"), loaded before the engine was",
			cid);
	if (err == -EPERM && pin && ddp_flow_is_mine(d, flow_id))
		return ddp_err(
			d, err,
			"setup cid %u: pin %#llx is not one this process made, or it was unpinned",
			cid, (unsigned long long)pin);
	if (err == -EINVAL && pin)
		return ddp_err(
			d, err,
			"setup cid %u: a segment is empty or outside pin %#llx",
			cid, (unsigned long long)pin);
	if (err == -EINVAL)
		return ddp_err(
			d, err,
			"setup cid %u: a segment is empty or outside the %u-byte buffer region",
			cid, d->lim.buf_size);
	if (err == -EPERM && ddp_flow_is_mine(d, flow_id))
		return ddp_err(
			d, err,
			"setup cid %u: a segment lies outside this process's buffers, or on AF_XDP frames",
			cid);
	if (err == -ENOENT || err == -EPERM)
		return ddp_not_mine(d, err, "setup", flow_id);
	if (err == -ENOBUFS)
		return ddp_err(
			d, err,
			"setup cid %u: the segment pool has no room for %u segments (ddpctl attach --segs; %u in all)",
			cid, nsegs, d->lim.seg_pool);
	if (err == -ENOSPC)
		return ddp_err(
			d, err,
			"setup cid %u: tag table of flow %u full (%u tags registered or being torn down)",
			cid, flow_id, ddp_flow_tag_count(d, flow_id));
	return ddp_err(d, err, "setup cid %u: %s", cid, strerror(-err));
}

/* ddp_setup() into the region (pin 0) or into a pin of the caller's. */
static int ddp_setup_in(struct ddp_dev *d, __u32 flow_id, __u16 cid, __u64 pin,
			const struct ddp_seg *segs, __u32 nsegs, __u32 *tag)
{
	struct ddp_ctl_setup a = { .flow_id = flow_id, .cid = cid, .pin = pin };
	int err;

	if (nsegs == 0 || nsegs > DDP_MAX_SEGS) {
		/* refused by the program too, which counts it */
		a.nsegs = 0;
		ddp_ctl_run(d, P_ddp_setup, &a, sizeof(a));
		return ddp_err(d, -EINVAL,
			       "setup cid %u: %u segments; 1 to %u allowed",
			       cid, nsegs, DDP_MAX_SEGS);
	}
	a.nsegs = nsegs;
	memcpy(a.segs, segs, nsegs * sizeof(*segs));
	/* checked against what our live tags point at in the region, and
	 * noted, as one; a flow not ours the engine refuses with the reason.
	 * A pin is the caller's own memory: its tags are its business. */
	pthread_mutex_lock(&d->live_lock);
	err = ddp_flow_is_mine(d, flow_id) && !pin ?
		      ddp_live_check(d, cid, segs, nsegs) :
		      0;
	if (err) {
		pthread_mutex_unlock(&d->live_lock);
		return err; /* said by ddp_live_check */
	}
	err = ddp_ctl_run(d, P_ddp_setup, &a, sizeof(a));
	if (!err && !pin)
		ddp_live_add(d, flow_id, a.tag, segs, nsegs);
	pthread_mutex_unlock(&d->live_lock);
	if (err)
		return ddp_setup_said(d, err, flow_id, cid, pin, nsegs);
	if (tag)
		*tag = a.tag;
	return 0;
}

int ddp_setup(struct ddp_dev *d, __u32 flow_id, __u16 cid,
	      const struct ddp_seg *segs, __u32 nsegs, __u32 *tag)
{
	return ddp_setup_in(d, flow_id, cid, 0, segs, nsegs, tag);
}

/* One call of ddp_setup_many's program for the k entries of a, whose
 * segments are segs[idx[j]]: results into res. Under live_lock; if mine,
 * the k are noted live already (tag unknown) as the last k, so that no
 * two of one call overlap, and noted again with their tags if set up. */
static void ddp_setup_run(struct ddp_dev *d, struct ddp_ctl_setup_many *a,
			  const __u16 *cids, const struct ddp_seg *segs,
			  const __u32 *idx, __u32 k, bool mine, __u32 *tags,
			  int *res)
{
	__u32 j, i;
	int err;

	a->n = k;
	err = ddp_ctl_run(d, P_ddp_setup_many, a, sizeof(*a));
	if (mine)
		d->nlive -= k;
	for (j = 0; j < k; j++) {
		i = idx[j];
		if (err || a->e[j].tag < 0) {
			res[i] = ddp_setup_said(d, err ?: a->e[j].tag,
						a->flow_id, cids[i], 0, 1);
			continue;
		}
		if (mine)
			ddp_live_add(d, a->flow_id, a->e[j].tag, &segs[i], 1);
		res[i] = 0;
		if (tags)
			tags[i] = a->e[j].tag;
	}
}

void ddp_setup_many(struct ddp_dev *d, __u32 flow_id, const __u16 *cids,
		    const struct ddp_seg *segs, __u32 *tags, int *res, __u32 n)
{
	struct ddp_ctl_setup_many a = { .flow_id = flow_id };
	bool mine = ddp_flow_is_mine(d, flow_id);
	__u32 i, k = 0, idx[DDP_SETUP_MANY];

	pthread_mutex_lock(&d->live_lock);
	for (i = 0; i < n; i++) {
		/* as ddp_setup: not over a live tag's buffer, nor another
		 * of these (noted live at once); said by ddp_live_check */
		res[i] = mine ? ddp_live_check(d, cids[i], &segs[i], 1) : 0;
		if (res[i])
			continue;
		if (mine)
			ddp_live_add(d, flow_id, DDP_NO_TAG, &segs[i], 1);
		a.e[k].cid = cids[i];
		a.e[k].addr = segs[i].addr;
		a.e[k].len = segs[i].len;
		idx[k++] = i;
		if (k == DDP_SETUP_MANY) {
			ddp_setup_run(d, &a, cids, segs, idx, k, mine, tags,
				      res);
			k = 0;
		}
	}
	if (k)
		ddp_setup_run(d, &a, cids, segs, idx, k, mine, tags, res);
	pthread_mutex_unlock(&d->live_lock);
}

int ddp_setup_pinned(struct ddp_dev *d, __u32 flow_id, __u16 cid, __u64 pin,
		     const struct ddp_seg *segs, __u32 nsegs, __u32 *tag)
{
	if (!pin)
		return ddp_err(d, -EINVAL, "setup cid %u: pin 0 is none", cid);
	return ddp_setup_in(d, flow_id, cid, pin, segs, nsegs, tag);
}

/* What ddp_teardown returns for a tag the engine tore down: 1 if it was
 * free at once, else 0 with its teardown_done(ctx) to come. */
static int ddp_torn_down(struct ddp_dev *d, __u32 flow_id, __u32 tag,
			 bool freed, void *ctx)
{
	const struct ddp_tag *g;
	int r;

	if (freed) {
		/* no placement was writing it: done now, as a NIC may be
		 * (the specification allows either), at no thread's cost */
		ddp_live_del(d, flow_id, tag, false);
		return 1;
	}
	/* its slot, found now: the flow may be gone, and its run someone
	 * else's, before the tag is free */
	g = ddp_tag_mem(d, flow_id, tag);
	r = ddp_queue(d, flow_id, tag, g ? (__u32)(g - d->tags) : DDP_NO_TAG,
		      ctx, DDP_WAIT_TAG);
	return r < 0 ? r : 0;
}

int ddp_teardown(struct ddp_dev *d, __u32 flow_id, __u16 cid, void *ctx)
{
	__u32 tag = 0;
	int r = ddp_ctl_teardown(d, flow_id, cid, &tag);

	return r < 0 ? r : ddp_torn_down(d, flow_id, tag, r, ctx);
}

void ddp_teardown_many(struct ddp_dev *d, __u32 flow_id, const __u16 *cids,
		       void *const *ctxs, int *res, __u32 n)
{
	struct ddp_ctl_teardown_many a = { .flow_id = flow_id };
	__u32 i, k, done;
	int err;

	for (done = 0; done < n; done += k) {
		k = n - done < DDP_TD_MANY ? n - done : DDP_TD_MANY;
		a.n = k;
		for (i = 0; i < k; i++)
			a.e[i].cid = cids[done + i];
		err = ddp_ctl_run(d, P_ddp_teardown_many, &a, sizeof(a));
		if (err == -EPERM)
			err = ddp_not_mine(d, err, "teardown", flow_id);
		else if (err)
			err = ddp_err(d, err, "teardown of %u tags: %s", k,
				      strerror(-err));
		for (i = 0; err && i < k; i++)
			res[done + i] = err;
		for (i = 0; !err && i < k; i++)
			res[done + i] =
				a.e[i].tag < 0 ?
					ddp_err(d, a.e[i].tag,
						"teardown: cid %u is not registered in flow %u",
						cids[done + i], flow_id) :
					ddp_torn_down(d, flow_id, a.e[i].tag,
						      a.e[i].freed,
						      ctxs ? ctxs[done + i] :
							     NULL);
	}
}

/* Is the tag of a DDP_WAIT_TAG teardown free now? It stays DEAD (the
 * slot cannot be taken again) until then. */
static bool ddp_tag_freed(struct ddp_dev *d, const struct ddp_done *t)
{
	const struct ddp_tag *tag;

	if (t->slot >= d->lim.tag_pool)
		return true;
	tag = &d->tags[t->slot];
	/* freed, and maybe another flow's since */
	return DDP_TAG_STATE(__atomic_load_n(&tag->stamp, __ATOMIC_ACQUIRE)) !=
		       DDP_TAG_DEAD ||
	       tag->flow_id != t->flow_id;
}

/* Everything queued while the thread works forms the next batch: one
 * sync (a few milliseconds) serves all the deleted flows in it, one
 * release per flow frees the tags no placement writes any more. */
static void *ddp_teardown_thread(void *arg)
{
	struct ddp_dev *d = arg;
	__u64 one = 1;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		struct ddp_done *batch, *t, *u, *again = NULL;
		bool flows = false;
		__u64 epoch = 0;
		int tries = 0;

		while (!d->pending && !d->stopping)
			pthread_cond_wait(&d->wake, &d->lock);
		if (!d->pending)
			break;
		batch = d->pending;
		d->pending = NULL;
		pthread_mutex_unlock(&d->lock);

		for (t = batch; t; t = t->next)
			flows |= t->wait == DDP_WAIT_FLOW;
		/* never free a flow without a sync: on a lasting failure its
		 * flows stay dead (epoch 0 releases none); tags need no sync */
		while (flows && ddp_sync(d, &epoch) && ++tries < 100)
			usleep(1000);
		if (tries == 100)
			epoch = 0;
		for (t = batch; t; t = t->next) {
			for (u = batch; u != t && u->flow_id != t->flow_id;
			     u = u->next)
				;
			if (u == t) /* once per flow */
				ddp_release(d, t->flow_id, epoch, NULL);
		}

		pthread_mutex_lock(&d->lock);
		for (t = batch; t; t = u) {
			u = t->next;
			t->next = NULL;
			if (t->wait == DDP_WAIT_FLOW) {
				/* its tags are free with it (a sync passed) */
				if (epoch)
					ddp_live_del(d, t->flow_id, 0, true);
				free(t);
			} else if (ddp_tag_freed(d, t)) {
				t->wait = DDP_WAIT_NONE;
				ddp_append(&d->done, t);
			} else {
				ddp_append(&again, t);
			}
		}
		/* fails only if the count would overflow: still readable */
		(void)!write(d->efd, &one, sizeof(one));
		if (again && d->stopping) {
			/* the writers count of a tag is in shared memory: never
			 * hang on one that a bad process left counted */
			ddp_free_list(again);
		} else if (again) {
			/* a copy into the buffer takes well under this */
			ddp_append(&again, d->pending);
			d->pending = again;
			pthread_mutex_unlock(&d->lock);
			usleep(50);
			pthread_mutex_lock(&d->lock);
		}
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

void ddp_teardown_stop(struct ddp_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	if (d->thread_on)
		pthread_join(d->thread, NULL);
	d->thread_on = false;
	ddp_free_list(d->done);
	d->done = NULL;
}

int ddp_dev_fd(const struct ddp_dev *d)
{
	return d->epfd;
}

/* A consistent (seq, id) of a pending request: the engine writes seq,
 * then id; reading id, seq, id again sees them match. */
static bool ddp_pending_request(const struct ddp_flow *f, __u32 *seq, __u32 *id)
{
	__u32 a, b;

	if (__atomic_load_n(&f->sync, __ATOMIC_ACQUIRE) != DDP_SYNC_PENDING)
		return false;
	a = __atomic_load_n(&f->req_id, __ATOMIC_ACQUIRE);
	*seq = __atomic_load_n(&f->req_seq, __ATOMIC_ACQUIRE);
	b = __atomic_load_n(&f->req_id, __ATOMIC_ACQUIRE);
	*id = a;
	return a == b;
}

int ddp_dev_process(struct ddp_dev *d, const struct ddp_ulp_ops *ops)
{
	struct ddp_done *list, *t;
	__u64 cnt;
	__u32 i, seq, id;
	int n = 0;

	(void)!read(d->efd, &cnt, sizeof(cnt)); /* EAGAIN: nothing counted */
	ring_buffer__consume(d->ring);
	pthread_mutex_lock(&d->lock);
	list = d->done;
	d->done = NULL;
	pthread_mutex_unlock(&d->lock);
	while ((t = list)) {
		list = t->next;
		/* the buffer is the host's again: it may free it now */
		ddp_live_del(d, t->flow_id, t->tag, false);
		if (ops && ops->teardown_done)
			ops->teardown_done(ops->arg, t->ctx);
		free(t);
		n++;
	}
	for (i = 0; i < d->lim.max_flows; i++) {
		if (!d->mine[i] ||
		    !ddp_pending_request(&d->flows[i], &seq, &id) ||
		    id == d->req_seen[i])
			continue;
		d->req_seen[i] = id;
		if (ops && ops->resync_request)
			ops->resync_request(ops->arg, d->flows[i].flow_id, seq,
					    id);
		n++;
	}
	return n;
}

int ddp_resync(struct ddp_dev *d, __u32 flow_id, __u32 seq, __u32 req_id,
	       bool confirm)
{
	struct ddp_ctl_resync a = {
		.flow_id = flow_id,
		.reply = DDP_RESYNC_REPLY(seq, req_id, confirm),
	};
	int err = ddp_ctl_run(d, P_ddp_resync, &a, sizeof(a));

	if (err == -ENOENT || err == -EPERM)
		return ddp_not_mine(d, err, "resync", flow_id);
	return err;
}
