/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_ctl_owner.h - owners and region chunks: ddp_owner_add gives the
 * caller's process an owner slot for its token, ddp_owner_reap marks a
 * dead process's owner so that others may clean up after it, and
 * ddp_owner_del frees the slot and its chunks once none of its flows is
 * left; ddp_chunk_get and ddp_chunk_put claim and free chunks of the
 * region for an owner. Included by ddp_ctl.h only, after its common part.
 */
#ifndef DDP_CTL_OWNER_H
#define DDP_CTL_OWNER_H

struct ddp_owner_claim {
	struct ddp_info *in;
	__u32 token;
	__u32 owner;
};

static long ddp_owner_claim_cb(__u32 i, void *arg)
{
	struct ddp_owner_claim *c = arg;
	struct ddp_owner *w = ddp_owner_get(c->in, i);

	if (!w)
		return 1;
	if (__sync_val_compare_and_swap(&w->state, DDP_OWNER_FREE,
					DDP_OWNER_BUSY) != DDP_OWNER_FREE)
		return 0;
	w->tgid = ddp_caller_tgid();
	w->token = c->token;
	__sync_lock_test_and_set(&w->state, DDP_OWNER_LIVE);
	c->owner = i;
	return 1;
}

SEC("syscall")
int ddp_owner_add(struct ddp_ctl_owner *a)
{
	struct ddp_owner_claim c = { .in = ddp_info_get(),
				     .token = a->token,
				     .owner = DDP_NO_TAG };

	if (!c.in || !c.token)
		return -EINVAL;
	bpf_loop(DDP_OWNERS_MAX, ddp_owner_claim_cb, &c, 0);
	if (c.owner == DDP_NO_TAG)
		return -ENOSPC;
	a->owner = c.owner;
	return 0;
}

/* The owner's process is gone (its token with it): from now on its flows
 * may be deleted by whoever cleans up, and it acts for nobody. */
SEC("syscall")
int ddp_owner_reap(struct ddp_ctl_owner *a)
{
	struct ddp_info *in = ddp_info_get();
	struct ddp_owner *w = in ? ddp_owner_get(in, a->owner) : NULL;

	if (!w)
		return -EINVAL;
	if (__sync_val_compare_and_swap(&w->state, DDP_OWNER_LIVE,
					DDP_OWNER_REAPING) != DDP_OWNER_LIVE &&
	    READ_ONCE(w->state) != DDP_OWNER_REAPING)
		return -ENOENT;
	return 0;
}

struct ddp_owner_use {
	struct ddp_info *in;
	__u32 owner;
	__u32 n;
};

static long ddp_owner_flows_cb(__u32 i, void *arg)
{
	struct ddp_owner_use *c = arg;
	struct ddp_flow *f = ddp_flow_get(i);

	if (!f)
		return 1;
	c->n += READ_ONCE(f->state) != DDP_FLOW_FREE && f->owner == c->owner;
	return 0;
}

static long ddp_owner_chunks_cb(__u32 i, void *arg)
{
	struct ddp_owner_use *c = arg;
	__u32 *v = &c->in->chunk_owner[i & (DDP_CHUNKS_MAX - 1)];
	__u32 cur = READ_ONCE(*v);

	if (cur && DDP_CHUNK_OWNER(cur) == c->owner)
		c->n += __sync_val_compare_and_swap(v, cur, 0) == cur;
	return 0;
}

/* The owner's flows are all free, so no placement can write its chunks
 * any more: they, and the slot, are free again. Its own process, or
 * whoever reaps it. */
SEC("syscall")
int ddp_owner_del(struct ddp_ctl_owner *a)
{
	struct ddp_owner_use c = { .in = ddp_info_get(), .owner = a->owner };
	struct ddp_owner *w = c.in ? ddp_owner_get(c.in, c.owner) : NULL;

	if (!w)
		return -EINVAL;
	if (!ddp_caller_is(c.in, c.owner) &&
	    READ_ONCE(w->state) != DDP_OWNER_REAPING)
		return -EPERM;
	bpf_loop(cfg_max_flows, ddp_owner_flows_cb, &c, 0);
	if (c.n)
		return -EBUSY;
	bpf_loop(DDP_CHUNKS_MAX, ddp_owner_chunks_cb, &c, 0);
	w->tgid = 0;
	w->token = 0;
	__sync_lock_test_and_set(&w->state, DDP_OWNER_FREE);
	return 0;
}

struct ddp_chunk_run {
	struct ddp_info *in;
	__u32 first;
	__u32 want; /* the value to claim with */
	__u32 done; /* claimed, or freed */
	int err;
};

static long ddp_chunk_get_cb(__u32 i, void *arg)
{
	struct ddp_chunk_run *c = arg;
	__u32 k = (c->first + i) & (DDP_CHUNKS_MAX - 1);

	if (__sync_val_compare_and_swap(&c->in->chunk_owner[k], 0, c->want)) {
		c->err = -EBUSY;
		return 1;
	}
	c->done++;
	return 0;
}

static long ddp_chunk_undo_cb(__u32 i, void *arg)
{
	struct ddp_chunk_run *c = arg;

	c->in->chunk_owner[(c->first + i) & (DDP_CHUNKS_MAX - 1)] = 0;
	return 0;
}

/* Chunks [first, first + n) in range and owner the caller: 0 or -errno */
static __always_inline int ddp_chunks_check(struct ddp_info *in,
					    const struct ddp_ctl_chunks *a)
{
	__u32 nchunks = (cfg_buf_size + DDP_CHUNK_SIZE - 1) / DDP_CHUNK_SIZE;

	if (!in || !a->n || a->first >= nchunks || a->n > nchunks - a->first ||
	    a->flags & ~DDP_CHUNK_FRAMES)
		return -EINVAL;
	return ddp_caller_is(in, a->owner) ? 0 : -EPERM;
}

/* Claim chunks [first, first + n), all of them or none. */
SEC("syscall")
int ddp_chunk_get(struct ddp_ctl_chunks *a)
{
	struct ddp_chunk_run c = { .in = ddp_info_get(),
				   .first = a->first,
				   .want = (a->owner + 1) | a->flags };
	int err = ddp_chunks_check(c.in, a);

	if (err)
		return err;
	bpf_loop(a->n, ddp_chunk_get_cb, &c, 0);
	if (c.err)
		bpf_loop(c.done, ddp_chunk_undo_cb, &c, 0);
	return c.err;
}

static long ddp_chunk_put_cb(__u32 i, void *arg)
{
	struct ddp_chunk_run *c = arg;
	__u32 *v = &c->in->chunk_owner[(c->first + i) & (DDP_CHUNKS_MAX - 1)];
	__u32 cur = READ_ONCE(*v);

	if (!cur || DDP_CHUNK_OWNER(cur) != c->want) {
		c->err = -EPERM;
		return 0;
	}
	c->done += __sync_val_compare_and_swap(v, cur, 0) == cur;
	return 0;
}

/* Free the caller's chunks among [first, first + n); -EPERM if some are
 * not its own (those are left as they are). */
SEC("syscall")
int ddp_chunk_put(struct ddp_ctl_chunks *a)
{
	struct ddp_chunk_run c = { .in = ddp_info_get(),
				   .first = a->first,
				   .want = a->owner };
	int err = ddp_chunks_check(c.in, a);

	if (err)
		return err;
	bpf_loop(a->n, ddp_chunk_put_cb, &c, 0);
	return c.err;
}

#endif /* DDP_CTL_OWNER_H */
