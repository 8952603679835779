// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * owner.c - this process as a user of the engine, and cleaning up after
 * processes that are gone.
 *
 * A process becomes an owner (a slot of ddp_info.owners) when it first
 * adds a flow or claims region chunks. Its liveness token is a small BPF
 * map it holds open and nobody pins: the kernel frees it with the process
 * however it ends, and its id is global, so any process in any pid
 * namespace can tell. A dead owner is reaped in order: its flows deleted
 * (their tags torn down with them), a sync so that no engine run still
 * places into its buffers, the flows released, and only then its chunks
 * and its slot freed. A closing process does the same for itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "libddp_priv.h"

#define TOKEN_NAME "ddp_owner"

/* Is the process behind token id still there? */
static bool ddp_token_alive(__u32 id)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	int fd = bpf_map_get_fd_by_id(id);
	bool alive;

	if (fd < 0)
		return errno != ENOENT; /* not sure: alive */
	alive = !bpf_obj_get_info_by_fd(fd, &mi, &len) &&
		!strcmp(mi.name, TOKEN_NAME);
	close(fd);
	return alive;
}

const char *ddp_owner_str(const struct ddp_dev *d, __u32 o, char *buf,
			  size_t len)
{
	const struct ddp_owner *w = o < DDP_OWNERS_MAX ? &d->info->owners[o] :
							 NULL;
	__u32 st = w ? __atomic_load_n(&w->state, __ATOMIC_ACQUIRE) : 0;

	if (st == DDP_OWNER_LIVE && !w->tgid)
		snprintf(buf, len, "kernel"); /* kmod_glue's in-kernel L5Ps */
	else if (st == DDP_OWNER_LIVE && ddp_token_alive(w->token))
		snprintf(buf, len, "pid %u", w->tgid);
	else if (st == DDP_OWNER_LIVE || st == DDP_OWNER_REAPING)
		snprintf(buf, len, "dead %u", w->tgid);
	else
		snprintf(buf, len, "-");
	return buf;
}

static int ddp_owner_run(struct ddp_dev *d, enum ddp_prog_idx p, __u32 owner)
{
	struct ddp_ctl_owner a = { .owner = owner };

	return ddp_ctl_run(d, p, &a, sizeof(a));
}

/* Flows of owner o in state st: counted, and each passed to fn. */
static __u32 ddp_owner_flows(struct ddp_dev *d, __u32 o, __u32 st,
			     int (*fn)(struct ddp_dev *d, __u32 flow_id,
				       __u64 epoch),
			     __u64 epoch)
{
	__u32 i, n = 0;

	for (i = 0; i < d->lim.max_flows; i++) {
		const struct ddp_flow *f = &d->flows[i];

		if (__atomic_load_n(&f->state, __ATOMIC_ACQUIRE) != st ||
		    f->owner != o)
			continue;
		n++;
		if (fn)
			fn(d, f->flow_id, epoch);
	}
	return n;
}

static int ddp_del_cb(struct ddp_dev *d, __u32 flow_id, __u64 epoch)
{
	(void)epoch;
	return ddp_ctl_sk_del(d, flow_id);
}

static int ddp_release_cb(struct ddp_dev *d, __u32 flow_id, __u64 epoch)
{
	return ddp_release(d, flow_id, epoch, NULL);
}

static __u32 ddp_owner_tags(const struct ddp_dev *d, __u32 o)
{
	__u32 i, t, n = 0;

	for (i = 0; i < d->lim.max_flows; i++) {
		if (d->flows[i].state != DDP_FLOW_ALIVE ||
		    d->flows[i].owner != o)
			continue;
		for (t = 0; t < ddp_flow_tag_count(d, i); t++) {
			const struct ddp_tag *g = ddp_tag_mem(d, i, t);

			n += g && DDP_TAG_STATE(g->stamp) == DDP_TAG_ACTIVE;
		}
	}
	return n;
}

static __u32 ddp_owner_chunks(const struct ddp_dev *d, __u32 o)
{
	__u32 c, n = 0;

	for (c = 0; c < DDP_CHUNKS_MAX; c++)
		n += d->info->chunk_owner[c] &&
		     DDP_CHUNK_OWNER(d->info->chunk_owner[c]) == o;
	return n;
}

/* Delete owner o's flows, wait until no engine run can still place for
 * them, release them, then free its chunks and its slot. */
static int ddp_owner_clear(struct ddp_dev *d, __u32 o)
{
	__u64 epoch;
	int err, tries;

	ddp_owner_flows(d, o, DDP_FLOW_ALIVE, ddp_del_cb, 0);
	for (tries = 0; tries < 100; tries++) {
		err = ddp_sync(d, &epoch);
		if (err)
			return err;
		ddp_owner_flows(d, o, DDP_FLOW_DEAD, ddp_release_cb, epoch);
		err = ddp_owner_run(d, P_ddp_owner_del, o);
		if (err != -EBUSY)
			break;
		/* a flow still dying (another cleaner): look again */
		usleep(1000);
	}
	if (err)
		return ddp_err(d, err, "freeing owner %u: %s", o,
			       strerror(-err));
	return 0;
}

int ddp_owner_reap_one(struct ddp_dev *d, __u32 o, struct ddp_reaped *r)
{
	const struct ddp_owner *w = &d->info->owners[o];
	__u32 state = __atomic_load_n(&w->state, __ATOMIC_ACQUIRE);
	int err;

	if (d->owner_on && o == d->owner)
		return 0;
	if (state == DDP_OWNER_LIVE && ddp_token_alive(w->token))
		return 0;
	if (state != DDP_OWNER_LIVE && state != DDP_OWNER_REAPING)
		return 0;
	*r = (struct ddp_reaped){
		.owner = o,
		.tgid = w->tgid,
		.flows = ddp_owner_flows(d, o, DDP_FLOW_ALIVE, NULL, 0),
		.tags = ddp_owner_tags(d, o),
		.chunks = ddp_owner_chunks(d, o),
	};
	err = ddp_owner_run(d, P_ddp_owner_reap, o);
	if (err == -ENOENT) /* freed meanwhile */
		return 0;
	if (err)
		return ddp_err(d, err, "reaping owner %u: %s", o,
			       strerror(-err));
	err = ddp_owner_clear(d, o);
	return err ? err : 1;
}

int ddp_dev_reap(struct ddp_dev *d, struct ddp_reaped *out, int max)
{
	struct ddp_reaped r;
	int n = 0, err;
	__u32 o;

	for (o = 0; o < DDP_OWNERS_MAX; o++) {
		err = ddp_owner_reap_one(d, o, &r);
		if (err < 0)
			return err;
		if (err && n < max && out)
			out[n] = r;
		n += err;
	}
	return n;
}

int ddp_token_new(__u32 *id)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, TOKEN_NAME, 4, 4, 1, NULL);

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*id = mi.id;
	return fd;
}

int ddp_owner_ensure(struct ddp_dev *d)
{
	struct ddp_ctl_owner a = { 0 };
	int err;

	pthread_mutex_lock(&d->owner_lock);
	if (d->owner_on) {
		pthread_mutex_unlock(&d->owner_lock);
		return 0;
	}
	/* slots and chunks of the dead first */
	err = ddp_dev_reap(d, NULL, 0);
	if (err < 0)
		goto out;
	d->token_fd = ddp_token_new(&a.token);
	if (d->token_fd < 0) {
		err = ddp_err(d, d->token_fd, "liveness token (a BPF map): %s",
			      strerror(-d->token_fd));
		goto out;
	}
	err = ddp_ctl_run(d, P_ddp_owner_add, &a, sizeof(a));
	if (err == -ENOSPC)
		err = ddp_err(
			d, err,
			"all %u owner slots of the engine are taken: that many processes use it",
			DDP_OWNERS_MAX);
	else if (err)
		err = ddp_err(d, err, "registering as an owner: %s",
			      strerror(-err));
	if (err)
		goto out;
	d->owner = a.owner;
	d->owner_on = true;
out:
	if (err && d->token_fd >= 0) {
		close(d->token_fd);
		d->token_fd = -1;
	}
	pthread_mutex_unlock(&d->owner_lock);
	return err;
}

void ddp_owner_leave(struct ddp_dev *d)
{
	if (!d->owner_on)
		return;
	/* on failure the slot stays: once the token is gone, the next
	 * process that needs room reaps it */
	ddp_owner_clear(d, d->owner);
	d->owner_on = false;
	close(d->token_fd);
	d->token_fd = -1;
}
