/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_ctl_setup.h - the specification's ddp_setup and ddp_teardown for
 * a command (a CID of the caller's flow): the checks of the caller's
 * segments (in the region or a pin, in chunks the flow's owner holds,
 * their sum), the setup of a tag from the flow's run and its teardown,
 * one at a time or many in one call. Included by ddp_ctl.h only, after
 * ddp_ctl_flow.h.
 */
#ifndef DDP_CTL_SETUP_H
#define DDP_CTL_SETUP_H

struct ddp_chunk_walk {
	const struct ddp_info *in;
	__u32 first;
	__u32 want;
	int bad;
};

static long ddp_chunk_cb(__u32 i, void *arg)
{
	struct ddp_chunk_walk *c = arg;
	__u32 k = c->first + i;

	if (k >= DDP_CHUNKS_MAX ||
	    READ_ONCE(c->in->chunk_owner[k & (DDP_CHUNKS_MAX - 1)]) !=
		    c->want) {
		c->bad = 1;
		return 1;
	}
	return 0;
}

/* Does every chunk of [addr, addr + len) hold `want` (an owner's, not
 * frames)? A global function: verified once, not in the segment loop. */
__attribute__((noinline)) int ddp_range_owned(const struct ddp_info *in,
					      __u32 addr, __u32 len, __u32 want)
{
	struct ddp_chunk_walk c = { .in = in, .want = want };

	if (!in || !len)
		return 0;
	c.first = addr / DDP_CHUNK_SIZE;
	bpf_loop((addr + len - 1) / DDP_CHUNK_SIZE - c.first + 1, ddp_chunk_cb,
		 &c, 0);
	return !c.bad;
}

/* kmod_glue's kfunc: the length of the pin if the caller made it, else 0.
 * Weak: called only under cfg_pin_kfunc (see ddp_ddgst.h). */
extern __u64 bpf_ddp_pin_len(__u64 pin_id) __ksym __weak;

/* What the segment walk checks against. Nothing in it changes from one
 * segment to the next but `bad`, set as the walk stops: the verifier
 * walks a bpf_loop callback as a loop (6.7 on), and a running sum here
 * would be a new state each round. The sum is kept in the entries
 * (each one's end), which it does not track. */
struct ddp_seg_sum {
	struct ddp_tag *t;
	const struct ddp_info *in;
	__u64 room; /* the region's size, or the pin's */
	__u32 want; /* chunk_owner[] value of every chunk a segment uses */
	int bad; /* -EINVAL outside the region or pin, -EPERM not the owner's */
};

static long ddp_seg_cb(__u32 i, void *arg)
{
	struct ddp_seg_sum *c = arg;
	struct ddp_tag *t = c->t;
	struct ddp_seg_ent *e = ddp_seg_get(t, i), *prev;
	__u64 end = 0;
	__u32 addr, len;

	if (!e) {
		c->bad = -EINVAL;
		return 1;
	}
	addr = e->addr;
	len = e->len;
	if (!len || addr >= c->room || len > c->room - addr) {
		c->bad = -EINVAL;
		return 1;
	}
	/* in chunks the flow's owner holds, none of them AF_XDP frames; a
	 * pin is the caller's own (checked once) */
	if (!t->pin && !ddp_range_owned(c->in, addr, len, c->want)) {
		c->bad = -EPERM;
		return 1;
	}
	if (i) {
		prev = ddp_seg_get(t, i - 1);
		if (!prev) {
			c->bad = -EINVAL;
			return 1;
		}
		end = prev->end;
	}
	end += len;
	if (end > 0xffffffffULL) {
		c->bad = -EINVAL;
		return 1;
	}
	e->end = end;
	return 0;
}

/* The caller's segments into the tag's entries of the pool. Unrolled:
 * the context cannot be read at a variable offset. Without a branch on
 * nsegs, which would have the verifier walk the rest of ddp_setup once
 * for each value: all DDP_MAX_SEGS are copied, from the last, segment i
 * into entry min(i, n - 1) of the n the tag holds, so that entry j ends
 * with segment j. */
static __always_inline void ddp_segs_copy(struct ddp_tag *t,
					  const struct ddp_ctl_setup *a)
{
	__s64 n = (__s64)__builtin_popcountll(t->seg_mask) * DDP_SEG_BLOCK;
	struct ddp_seg_ent *e;
	__s64 d, m;
	int i;

#pragma unroll
	for (i = DDP_MAX_SEGS - 1; i >= 0; i--) {
		d = n - 1 - i;
		m = d >> 63; /* all ones if i > n - 1 */
		barrier_var(m);
		/* a missing one fails ddp_seg_cb */
		e = ddp_seg_get(t, i + (d & m));
		if (e)
			*(__u64 *)e = *(__u64 *)&a->segs[i];
	}
}

/* Set up a tag for cid of the caller's flow: nsegs segments from a's (the
 * ddp_setup call), or with a NULL, the one segment [addr, addr + len).
 * Inlined into each caller, which passes a constant a. The tag (from the
 * flow's first) and its length into *tag and *tag_len. */
static __always_inline int ddp_setup_tag(__u32 flow_id, __u16 cid, __u32 nsegs,
					 __u64 pin,
					 const struct ddp_ctl_setup *a,
					 __u32 addr, __u32 len, __u32 *tag,
					 __u32 *tag_len)
{
	struct ddp_stats *st = ddp_stats_get();
	struct ddp_cid_key key = { .flow_id = flow_id, .cid = cid };
	struct ddp_tag_claim c = { .tag = DDP_NO_TAG };
	struct ddp_seg_sum sum = {};
	struct ddp_seg_ent *last;
	struct ddp_flow *f;
	struct ddp_tag *t;
	__u32 slot;
	int err;

	if (!st)
		return -EINVAL;
	f = ddp_flow_mine(key.flow_id, &err);
	if (!f)
		goto fail;
	err = -EINVAL;
	if (!nsegs || nsegs > DDP_MAX_SEGS)
		goto fail;
	/* a CID registered twice would leave the first tag unreachable */
	err = -EEXIST;
	if (bpf_map_lookup_elem(&ddp_cids, &key))
		goto fail;
	c.base = f->tag_first;
	bpf_loop(f->tag_count, ddp_claim_tag_cb, &c, 0);
	err = -ENOSPC;
	if (c.tag == DDP_NO_TAG)
		goto fail;
	slot = c.base + c.tag;
	t = ddp_tag_get(slot);
	if (!t)
		goto fail;
	t->seg_mask = 0;
	err = ddp_segs_get(t, nsegs);
	if (err)
		goto free;
	err = -EINVAL;
	if (a) {
		ddp_segs_copy(t, a);
	} else {
		last = ddp_seg_get(t, 0);
		if (!last)
			goto free;
		last->addr = addr;
		last->len = len;
	}
	sum.t = t;
	sum.in = ddp_info_get();
	sum.want = f->owner + 1;
	sum.room = cfg_buf_size;
	if (!sum.in)
		goto free;
	/* a buffer pinned by kmod_glue's module, by the caller */
	t->pin = pin;
	if (pin) {
		err = -EOPNOTSUPP;
		if (!cfg_pin_kfunc)
			goto free;
		sum.room = bpf_ddp_pin_len(pin);
		err = -EPERM;
		if (!sum.room)
			goto free;
	}
	bpf_loop(nsegs, ddp_seg_cb, &sum, 0);
	err = sum.bad ?: -EINVAL;
	last = ddp_seg_get(t, nsegs - 1);
	if (sum.bad || !last)
		goto free;
	t->nsegs = nsegs;
	t->len = last->end;
	t->flow_id = key.flow_id;
	t->cid = key.cid;
	__sync_lock_test_and_set(&t->stamp, c.stamp);
	/* no CID of ours was ever findable: free again at once */
	err = bpf_map_update_elem(&ddp_cids, &key, &slot, BPF_NOEXIST);
	if (err)
		goto free;
	/* an sk_del that ran meanwhile may have missed this tag (and the
	 * slot may serve another flow since) */
	err = -ENOENT;
	if (READ_ONCE(f->state) != DDP_FLOW_ALIVE ||
	    READ_ONCE(f->flow_id) != key.flow_id) {
		ddp_tag_kill(t, st, false);
		goto fail;
	}
	ddp_count(&st->ddp_setup);
	*tag = c.tag;
	*tag_len = t->len;
	return 0;
free:
	/* free as it was: no placement ever found it (its CID was never
	 * findable), so its generation need not move on */
	ddp_pool_put(DDP_POOL_SEGS, t->seg_word, t->seg_mask);
	__sync_lock_test_and_set(&t->stamp, c.was);
fail:
	ddp_count(&st->ddp_setup_fail);
	return err;
}

SEC("syscall")
int ddp_setup(struct ddp_ctl_setup *a)
{
	__u32 tag = 0, len = 0;
	int err = ddp_setup_tag(a->flow_id, a->cid, a->nsegs, a->pin, a, 0, 0,
				&tag, &len);

	if (err)
		return err;
	a->tag = tag;
	a->len = len;
	return 0;
}

/* One segment's setup, the tag or -errno: a global function, which the
 * verifier walks once, not once per entry of ddp_setup_many. */
__noinline int ddp_setup_one(__u32 flow_id, __u32 cid, __u32 addr, __u32 len)
{
	__u32 tag = 0, tag_len = 0;
	int err = ddp_setup_tag(flow_id, cid, 1, 0, NULL, addr, len, &tag,
				&tag_len);

	return err ?: (int)(tag & 0x7fffffff);
}

/* Unrolled: the context cannot be read at a variable offset. */
SEC("syscall")
int ddp_setup_many(struct ddp_ctl_setup_many *a)
{
	__u32 n = a->n;
	int i;

	if (!n || n > DDP_SETUP_MANY)
		return -EINVAL;
#pragma unroll
	for (i = 0; i < DDP_SETUP_MANY; i++)
		if (i < n)
			a->e[i].tag = ddp_setup_one(a->flow_id, a->e[i].cid,
						    a->e[i].addr, a->e[i].len);
	return 0;
}

/* Tear down cid of the caller's flow f: its tag (from the flow's first)
 * and whether it is free already into *tag and *freed, or -ENOENT. */
static __always_inline int ddp_teardown_one(struct ddp_flow *f, __u32 flow_id,
					    __u16 cid, struct ddp_stats *st,
					    __u32 *tag, __u16 *freed)
{
	struct ddp_cid_key key = { .flow_id = flow_id, .cid = cid };
	struct ddp_tag *t;
	__u32 *slot, s;
	int r;

	slot = bpf_map_lookup_elem(&ddp_cids, &key);
	if (!slot)
		return -ENOENT;
	s = *slot;
	t = ddp_tag_get(s);
	if (!t || t->flow_id != flow_id || t->cid != cid)
		return -ENOENT;
	r = ddp_tag_kill(t, st, true);
	if (!r)
		return -ENOENT;
	*tag = s - f->tag_first;
	*freed = r == 2;
	return 0;
}

SEC("syscall")
int ddp_teardown(struct ddp_ctl_teardown *a)
{
	struct ddp_stats *st = ddp_stats_get();
	struct ddp_flow *f;
	__u32 tag = 0;
	__u16 freed = 0;
	int r;

	f = ddp_flow_mine(a->flow_id, &r);
	if (!f)
		return r;
	if (!st)
		return -ENOENT;
	r = ddp_teardown_one(f, a->flow_id, a->cid, st, &tag, &freed);
	if (r)
		return r;
	a->tag = tag;
	a->freed = freed;
	return 0;
}

/* Unrolled: the context cannot be read at a variable offset. Each entry
 * ends in its own result, so no state runs from one to the next. */
SEC("syscall")
int ddp_teardown_many(struct ddp_ctl_teardown_many *a)
{
	struct ddp_stats *st = ddp_stats_get();
	__u32 n = a->n, tag;
	struct ddp_flow *f;
	__u16 freed;
	int i, r;

	f = ddp_flow_mine(a->flow_id, &r);
	if (!f)
		return r;
	if (!st || !n || n > DDP_TD_MANY)
		return -EINVAL;
#pragma unroll
	for (i = 0; i < DDP_TD_MANY; i++) {
		if (i < n) {
			tag = 0;
			freed = 0;
			r = ddp_teardown_one(f, a->flow_id, a->e[i].cid, st,
					     &tag, &freed);
			a->e[i].tag = r ?: (__s32)tag;
			a->e[i].freed = freed;
		}
	}
	return 0;
}

#endif /* DDP_CTL_SETUP_H */
