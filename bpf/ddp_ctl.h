/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_ctl.h - the control operations of the specification's tcp_ddp_ops
 * (sk_add, sk_del, setup, teardown, resync) and the ownership of flows and
 * region chunks, as BPF_PROG_TYPE_SYSCALL programs run by the library
 * through BPF_PROG_TEST_RUN, in the calling process.
 *
 * Doing them in BPF keeps every counter in ddp_stats (atomic adds here,
 * plain per-CPU adds in the engine, which softirq context never splits),
 * every check of what the engine will trust in one place, and every write
 * to what the hosts map read-only here. They return 0 or -errno; outputs
 * go back through the context. Each acts only for its caller: a flow or a
 * chunk belongs to an owner (struct ddp_owner), and the caller must be
 * that owner's process, or the owner found dead (reaping).
 */
#ifndef DDP_CTL_H
#define DDP_CTL_H

#define EPERM 1
#define ENOENT 2
#define ENOMEM 12
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define EOPNOTSUPP 95
#define ENOBUFS 105

static __always_inline struct ddp_info *ddp_info_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ddp_info, &zero);
}

static __always_inline struct ddp_owner *ddp_owner_get(struct ddp_info *in,
						       __u32 o)
{
	return o < DDP_OWNERS_MAX ? &in->owners[o & (DDP_OWNERS_MAX - 1)] :
				    NULL;
}

/* kmod_glue's kfunc: 1 while its in-kernel L5P API (kmod_glue/tcp_ddp.c)
 * runs this program, whichever task it runs in. Weak: called only under
 * cfg_pin_kfunc (see ddp_ddgst.h). */
extern __u32 bpf_ddp_glue_caller(void) __ksym __weak;

/* The caller as owners name it: its tgid, or 0 for the kernel module
 * acting for in-kernel L5Ps (no process has tgid 0). */
static __always_inline __u32 ddp_caller_tgid(void)
{
	if (cfg_pin_kfunc && bpf_ddp_glue_caller())
		return 0;
	return bpf_get_current_pid_tgid() >> 32;
}

/* Is owner o the live process (or kernel module) calling? */
static __always_inline int ddp_caller_is(struct ddp_info *in, __u32 o)
{
	struct ddp_owner *w = ddp_owner_get(in, o);

	return w && READ_ONCE(w->state) == DDP_OWNER_LIVE &&
	       w->tgid == ddp_caller_tgid();
}

/* Flow flow_id, alive and the caller's; or NULL and why in *err. */
static __always_inline struct ddp_flow *ddp_flow_mine(__u32 flow_id, int *err)
{
	struct ddp_flow *f = ddp_flow_get(DDP_FLOW_SLOT(flow_id));
	struct ddp_info *in = ddp_info_get();

	*err = -ENOENT;
	if (!f || !in || f->flow_id != flow_id ||
	    READ_ONCE(f->state) != DDP_FLOW_ALIVE)
		return NULL;
	*err = -EPERM;
	if (!ddp_caller_is(in, f->owner))
		return NULL;
	*err = 0;
	return f;
}

/* Sync epoch: see the teardown steps in ddp.h */
__u64 ddp_epoch;

static __always_inline __u64 ddp_epoch_now(void)
{
	/* a full barrier: the DEAD marks before it are seen by any sync
	 * that starts after this read */
	return __sync_fetch_and_add(&ddp_epoch, 0);
}

static __always_inline void ddp_count(__u64 *counter)
{
	__sync_fetch_and_add(counter, 1);
}

static __always_inline void ddp_port_add(__be16 port, int delta)
{
	__u32 key = bpf_ntohs(port);
	__u32 *n = bpf_map_lookup_elem(&ddp_ports, &key);

	if (n)
		__sync_fetch_and_add(n, delta);
}

/* A config from user space: checked, and the default threshold filled in */
static __always_inline int ddp_cfg_check(struct ddp_sk_config *cfg)
{
	if (cfg->pfv != 0 || cfg->cpda > 31 ||
	    cfg->dgst & ~(NVME_TCP_DGST_HDR | NVME_TCP_DGST_DATA) ||
	    cfg->flags & ~DDP_SK_FLAGS_ALL || !cfg->queue_size ||
	    cfg->max_data > DDP_MAX_MAX_DATA)
		return -EINVAL;
	/* the module's flows only: their resync requests go to it, not to
	 * the ring */
	if (cfg->flags & DDP_SK_KERNEL && ddp_caller_tgid())
		return -EINVAL;
	/* only an AF_XDP socket is bound some way */
	if (cfg->flags & DDP_SK_ZEROCOPY && !(cfg->flags & DDP_SK_XSK))
		return -EINVAL;
	if (!cfg->io_threshold)
		cfg->io_threshold = cfg_io_threshold;
	if (!cfg->max_data)
		cfg->max_data = DDP_DEF_MAX_DATA;
	return 0;
}

/* ---- the pools: segments and tags --------------------------------------- */

enum ddp_pool {
	DDP_POOL_SEGS,
	DDP_POOL_TAGS,
	DDP_POOL_RECS,
};

/* Word w of a pool's bitmap */
static __always_inline __u64 *ddp_pool_word(__u32 pool, __u32 w)
{
	return pool == DDP_POOL_TAGS ? bpf_map_lookup_elem(&ddp_tag_map, &w) :
	       pool == DDP_POOL_RECS ? bpf_map_lookup_elem(&ddp_rec_map, &w) :
				       bpf_map_lookup_elem(&ddp_seg_map, &w);
}

/* Where a pool's next claim looks first */
static __always_inline __u32 *ddp_pool_next(__u32 pool)
{
	return pool == DDP_POOL_TAGS ? &ddp_tag_next :
	       pool == DDP_POOL_RECS ? &ddp_rec_next :
				       &ddp_seg_next;
}

/* Give blocks back (mask in word w); the word becomes the first place
 * the next claim looks if it is below it. */
static __always_inline void ddp_pool_put(__u32 pool, __u32 w, __u64 mask)
{
	__u64 *word = ddp_pool_word(pool, w);
	__u32 *next = ddp_pool_next(pool);

	if (!word || !mask)
		return;
	__sync_fetch_and_and(word, ~mask);
	if (w < READ_ONCE(*next))
		WRITE_ONCE(*next, w);
}

struct ddp_pool_claim {
	__u32 pool; /* enum ddp_pool */
	__u32 first_word; /* where the search starts */
	__u32 nwords;
	__u32 nblocks; /* in the pool: past them, the last word is all taken */
	__u32 k; /* blocks wanted, 1 .. DDP_POOL_WORD */
	__u32 word; /* out */
	__u64 mask; /* out: 0 if none was found */
};

/* Bit j of the result: blocks j .. j + k - 1 of a word with bitmap v are
 * all free. A run of len free blocks at j and one at j + step (step at
 * most len) make one of len + step. */
static __always_inline __u64 ddp_pool_fit(__u64 v, __u32 k)
{
	__u64 f = ~v;
	__u32 len = 1, step;
	int i;

#pragma unroll
	for (i = 0; i < 6; i++) { /* log2(DDP_POOL_WORD) */
		step = len >= k ? 0 : k - len < len ? k - len : len;
		f &= f >> step;
		len += step;
	}
	return f;
}

/* Index of the one bit set in b: halving the window where it lies */
static __always_inline __u32 ddp_bit_index(__u64 b)
{
	__u32 j = 0, half;
	int i;

#pragma unroll
	for (i = 5; i >= 0; i--) {
		half = 1u << i;
		if (!(b & ((1ULL << half) - 1))) {
			j += half;
			b >>= half;
		}
	}
	return j;
}

/* Claim the lowest run of k free blocks in word i of the search, if it
 * has one */
static long ddp_pool_claim_cb(__u32 i, void *arg)
{
	struct ddp_pool_claim *c = arg;
	__u32 w = (c->first_word + i) % c->nwords;
	__u64 *word = ddp_pool_word(c->pool, w);
	__u64 v, taken, f, ones;

	if (!word)
		return 1;
	v = READ_ONCE(*word);
	taken = v;
	if (c->nblocks < (w + 1) * DDP_POOL_WORD)
		taken |= ~0ULL << (c->nblocks - w * DDP_POOL_WORD);
	f = ddp_pool_fit(taken, c->k);
	if (!f)
		return 0;
	ones = c->k >= DDP_POOL_WORD ? ~0ULL : (1ULL << c->k) - 1;
	/* the lowest fit; b * ones is ones shifted to it */
	f &= -f;
	if (__sync_val_compare_and_swap(word, v, v | f * ones) != v)
		return 0; /* taken meanwhile: on to the next word */
	c->word = w;
	c->mask = f * ones;
	return 1;
}

/* A run of k blocks of a pool of nblocks; the index of its first block,
 * its word and mask set; or -ENOBUFS when no word in reach has them
 * free. */
static __always_inline int ddp_pool_get(__u32 pool, __u32 nblocks, __u32 k,
					__u32 *first, __u32 *word, __u64 *mask)
{
	__u32 *next = ddp_pool_next(pool);
	struct ddp_pool_claim c = {
		.pool = pool,
		.first_word = READ_ONCE(*next),
		.nwords = (nblocks + DDP_POOL_WORD - 1) / DDP_POOL_WORD,
		.nblocks = nblocks,
		.k = k,
	};

	*mask = 0;
	if (!c.nwords || !k || k > DDP_POOL_WORD)
		return -ENOBUFS;
	c.first_word %= c.nwords;
	bpf_loop(c.nwords < DDP_POOL_SCAN ? c.nwords : DDP_POOL_SCAN,
		 ddp_pool_claim_cb, &c, 0);
	if (!c.mask)
		return -ENOBUFS;
	*mask = c.mask;
	*word = c.word;
	*first = c.word * DDP_POOL_WORD + ddp_bit_index(c.mask & -c.mask);
	/* where this one found room, the next one looks first */
	WRITE_ONCE(*next, c.word);
	return 0;
}

/* Blocks for nsegs segments for tag t: seg_first, seg_word and seg_mask
 * set; 0, or -ENOBUFS */
static __always_inline int ddp_segs_get(struct ddp_tag *t, __u32 nsegs)
{
	__u32 first = 0, word = 0;
	__u64 mask;
	int err;

	err = ddp_pool_get(DDP_POOL_SEGS, cfg_seg_pool / DDP_SEG_BLOCK,
			   (nsegs + DDP_SEG_BLOCK - 1) / DDP_SEG_BLOCK, &first,
			   &word, &mask);
	t->seg_mask = mask;
	t->seg_word = word;
	t->seg_first = first * DDP_SEG_BLOCK;
	return err;
}

/* The blocks of a run of n entries from entry `first` on, blocks of
 * `block` entries: in one word */
static __always_inline __u64 ddp_run_mask(__u32 first, __u32 n, __u32 block)
{
	__u32 k = (n + block - 1) / block;
	__u64 ones = k >= DDP_POOL_WORD ? ~0ULL : (1ULL << k) - 1;

	return ones << (first / block % DDP_POOL_WORD);
}

/* A run of the tag pool for n tags of flow f (none for 0): tag_first and
 * tag_count set; 0, or -ENOBUFS */
static __always_inline int ddp_flow_tags_get(struct ddp_flow *f, __u32 n)
{
	__u32 first = 0, word = 0;
	__u64 mask;
	int err;

	if (!n) {
		WRITE_ONCE(f->tag_count, 0);
		return 0;
	}
	err = ddp_pool_get(DDP_POOL_TAGS, cfg_tag_pool / DDP_TAG_BLOCK,
			   (n + DDP_TAG_BLOCK - 1) / DDP_TAG_BLOCK, &first,
			   &word, &mask);
	if (err)
		return err;
	f->tag_first = first * DDP_TAG_BLOCK;
	WRITE_ONCE(f->tag_count, n);
	return 0;
}

static __always_inline void ddp_tags_put(__u32 first, __u32 n)
{
	if (n)
		ddp_pool_put(DDP_POOL_TAGS, first / DDP_TAGS_PER_WORD,
			     ddp_run_mask(first, n, DDP_TAG_BLOCK));
}

/* The ring a kernel-socket flow of n tags holds: 8 records a tag, a
 * power of 2 within the bounds */
static __always_inline __u32 ddp_ring_for(__u32 n)
{
	__u32 ring = DDP_REC_RING_MIN;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) /* log2(DDP_REC_RING_MAX / _MIN) */
		if (ring < 8 * n && ring < cfg_rec_ring)
			ring *= 2;
	return ring < cfg_rec_ring ? ring : cfg_rec_ring;
}

/* A ring of records for flow f if its config writes records and it has
 * none yet: 0, or -ENOMEM if the pool has no room. A ring is never moved
 * or given back while the flow lives: the engine may write it until a
 * sync. */
static __always_inline int ddp_flow_recs_get(struct ddp_flow *f,
					     const struct ddp_sk_config *cfg,
					     __u32 ntags)
{
	__u32 ring = ddp_ring_for(ntags), first = 0, word = 0;
	__u64 mask;

	if (!(cfg->flags & DDP_SK_RECORDS) || f->rec_ring)
		return 0;
	if (ddp_pool_get(DDP_POOL_RECS, cfg_rec_pool / DDP_REC_BLOCK,
			 ring / DDP_REC_BLOCK, &first, &word, &mask))
		return -ENOMEM;
	f->rec_first = first * DDP_REC_BLOCK;
	WRITE_ONCE(f->rec_ring, ring);
	return 0;
}

static __always_inline void ddp_recs_put(__u32 first, __u32 ring)
{
	if (ring)
		ddp_pool_put(DDP_POOL_RECS, first / DDP_RECS_PER_WORD,
			     ddp_run_mask(first, ring, DDP_REC_BLOCK));
}

/* The tags a flow of this config holds */
static __always_inline __u32 ddp_cfg_tags(const struct ddp_sk_config *cfg)
{
	/* a flow only steered (an AF_XDP host's, until its ICResp) places
	 * nothing: it must not fail for want of tags */
	if (!(cfg->flags & DDP_SK_OFFLOAD))
		return 0;
	return cfg->queue_size < cfg_tags_per_flow ? cfg->queue_size :
						     cfg_tags_per_flow;
}

struct ddp_claim {
	__u32 id;
};

static long ddp_claim_cb(__u32 i, void *arg)
{
	struct ddp_claim *c = arg;
	struct ddp_flow *f = ddp_flow_get(i);

	if (!f)
		return 1;
	if (__sync_val_compare_and_swap(&f->state, DDP_FLOW_FREE,
					DDP_FLOW_ALIVE) != DDP_FLOW_FREE)
		return 0;
	c->id = i;
	return 1;
}

/* A fresh tracker, records and mailbox, in sync at seq: everything from
 * exp_seq to the end */
static __always_inline void ddp_flow_reset(struct ddp_flow *f, __u32 seq)
{
	__builtin_memset((void *)f + offsetof(struct ddp_flow, exp_seq), 0,
			 sizeof(*f) - offsetof(struct ddp_flow, exp_seq));
	f->exp_seq = seq;
	f->pdu_seq = seq;
	f->ign_end = seq;
	f->sync = DDP_SYNC_OK;
	/* a reply written before now answers nothing */
	f->reply_seen = READ_ONCE(f->resync_reply);
}

/* Everything but the state the claim set; a new incarnation of the slot. */
static __always_inline void ddp_flow_init(struct ddp_flow *f, __u32 slot,
					  __u32 owner,
					  const struct ddp_flow_key *key,
					  const struct ddp_sk_config *cfg)
{
	f->flow_id = DDP_FLOW_ID(slot, (f->flow_id >> DDP_FLOW_SLOT_BITS) + 1);
	f->key = *key;
	f->cfg = *cfg;
	f->dead_epoch = 0;
	f->owner = owner;
	f->tag_count = 0; /* until its run is claimed */
	f->rec_first = 0;
	f->rec_ring = 0; /* until its ring is */
	f->ctl_busy = 0;
	f->resync_reply = 0;
	ddp_flow_reset(f, cfg->start_seq);
}

SEC("syscall")
int ddp_sk_add(struct ddp_ctl_sk_add *a)
{
	struct ddp_stats *st = ddp_stats_get();
	struct ddp_info *in = ddp_info_get();
	struct ddp_claim c = { .id = DDP_NO_TAG };
	struct ddp_flow_key key;
	struct ddp_sk_config cfg;
	__u32 owner = a->owner;
	struct ddp_flow *f;
	int err;

	if (!st || !in)
		return -EINVAL;
	__builtin_memcpy(&key, &a->key, sizeof(key));
	__builtin_memcpy(&cfg, &a->cfg, sizeof(cfg));
	err = -EPERM;
	if (!ddp_caller_is(in, owner))
		goto fail;
	err = ddp_cfg_check(&cfg);
	if (err)
		goto fail;
	bpf_loop(cfg_max_flows, ddp_claim_cb, &c, 0);
	f = ddp_flow_get(c.id);
	err = -ENOSPC;
	if (!f)
		goto fail;
	ddp_flow_init(f, c.id, owner, &key, &cfg);
	err = ddp_flow_tags_get(f, ddp_cfg_tags(&cfg));
	if (err) {
		f->state = DDP_FLOW_FREE;
		goto fail;
	}
	err = ddp_flow_recs_get(f, &cfg, f->tag_count) ?:
		      bpf_map_update_elem(&ddp_socks, &key, &f->flow_id,
					  BPF_NOEXIST);
	if (err) {
		/* never findable: nothing wrote them */
		ddp_tags_put(f->tag_first, f->tag_count);
		ddp_recs_put(f->rec_first, f->rec_ring);
		f->state = DDP_FLOW_FREE;
		goto fail;
	}
	ddp_port_add(key.rport, 1);
	ddp_count(&st->queue_init);
	a->flow_id = f->flow_id;
	return 0;
fail:
	ddp_count(&st->sk_add_fail);
	return err;
}

/* Offload a connection that was only steered (an AF_XDP host's, from its
 * SYN on) once its ICResp is read: nothing of it is in flight then. The
 * tracker starts afresh at start_seq; the flags are written last. The
 * flow takes its tags (and records) the first time it is offloaded and
 * keeps them: a run is never moved while the flow lives, so nothing that
 * read where it was (a setup, a placement) ever finds another flow's. */
SEC("syscall")
int ddp_sk_update(struct ddp_ctl_sk_update *a)
{
	struct ddp_stats *st = ddp_stats_get();
	struct ddp_sk_config cfg;
	struct ddp_flow *f;
	__u32 flags, had_ring;
	int err;

	__builtin_memcpy(&cfg, &a->cfg, sizeof(cfg));
	f = ddp_flow_mine(a->flow_id, &err);
	if (!st || !f)
		return st ? err : -ENOENT;
	if (ddp_cfg_check(&cfg)) {
		ddp_count(&st->sk_add_fail);
		return -EINVAL;
	}
	/* an sk_del meanwhile would free the flow, and what it holds,
	 * under our feet */
	if (__sync_val_compare_and_swap(&f->ctl_busy, 0, 1))
		return -EBUSY;
	err = -ENOENT;
	if (READ_ONCE(f->state) != DDP_FLOW_ALIVE || f->flow_id != a->flow_id)
		goto out;
	/* the ring first: nothing writes it before the flags say so, so it
	 * can go back if the tags find no room */
	had_ring = f->rec_ring;
	err = ddp_flow_recs_get(f, &cfg, ddp_cfg_tags(&cfg));
	if (!err && !f->tag_count) {
		err = ddp_flow_tags_get(f, ddp_cfg_tags(&cfg));
		if (err && !had_ring && f->rec_ring) {
			ddp_recs_put(f->rec_first, f->rec_ring);
			f->rec_ring = 0;
		}
	}
	if (err) {
		ddp_count(&st->sk_add_fail);
		goto out;
	}
	flags = cfg.flags;
	cfg.flags = f->cfg.flags;
	ddp_flow_reset(f, cfg.start_seq);
	f->cfg = cfg;
	__sync_lock_test_and_set(&f->cfg.flags, flags);
out:
	__sync_lock_test_and_set(&f->ctl_busy, 0);
	return err;
}

/* A dead tag nobody writes becomes free. The stamp changed (a full
 * barrier) before writers is read here: a placement that counted itself
 * later sees the new stamp and writes nothing. The stamp is read with a
 * fetching atomic, a full barrier too, so that writers is not read before
 * it on a weakly ordered CPU. */
static __always_inline int ddp_tag_free(struct ddp_tag *t)
{
	__u32 s = __sync_fetch_and_or(&t->stamp, 0);

	/* BUSY while its blocks go back: whoever claims the slot next
	 * finds it FREE only after that */
	if (DDP_TAG_STATE(s) != DDP_TAG_DEAD || READ_ONCE(t->writers) ||
	    __sync_val_compare_and_swap(&t->stamp, s,
					DDP_TAG_STAMP(DDP_TAG_GEN(s),
						      DDP_TAG_BUSY)) != s)
		return 0;
	ddp_pool_put(DDP_POOL_SEGS, t->seg_word, t->seg_mask);
	__sync_lock_test_and_set(&t->stamp,
				 DDP_TAG_STAMP(DDP_TAG_GEN(s), DDP_TAG_FREE));
	return 1;
}

/* Tear one tag down: no new PDU finds it, no running one starts another
 * copy (its stamp changed); free at once unless a copy is under way.
 * Returns 0 if it was not active, 1 if dead, 2 if free. */
static __always_inline int ddp_tag_kill(struct ddp_tag *t, struct ddp_stats *st,
					bool count)
{
	struct ddp_cid_key key = { .flow_id = t->flow_id, .cid = t->cid };
	__u32 s = READ_ONCE(t->stamp), gen = DDP_TAG_GEN(s) + 1;

	if (DDP_TAG_STATE(s) != DDP_TAG_ACTIVE ||
	    __sync_val_compare_and_swap(&t->stamp, s,
					DDP_TAG_STAMP(gen, DDP_TAG_BUSY)) != s)
		return 0;
	bpf_map_delete_elem(&ddp_cids, &key);
	__sync_lock_test_and_set(&t->stamp, DDP_TAG_STAMP(gen, DDP_TAG_DEAD));
	if (count)
		ddp_count(&st->ddp_teardown);
	return 1 + ddp_tag_free(t);
}

struct ddp_flow_tags {
	struct ddp_stats *st;
	__u32 first; /* the flow's tag_first */
	__u32 n;
	__u64 epoch;
};

static long ddp_kill_cb(__u32 i, void *arg)
{
	struct ddp_flow_tags *c = arg;
	struct ddp_tag *t = ddp_tag_get(c->first + i);

	if (!t)
		return 1;
	c->n += !!ddp_tag_kill(t, c->st, true);
	return 0;
}

SEC("syscall")
int ddp_sk_del(struct ddp_ctl_sk_del *a)
{
	struct ddp_stats *st = ddp_stats_get();
	struct ddp_flow_tags c = { .st = st };
	struct ddp_flow *f = ddp_flow_get(DDP_FLOW_SLOT(a->flow_id));
	struct ddp_info *in = ddp_info_get();
	struct ddp_owner *w;
	__u32 state;

	if (!st || !f || !in || f->flow_id != a->flow_id ||
	    READ_ONCE(f->state) != DDP_FLOW_ALIVE)
		return -ENOENT;
	/* the caller's own, or a dead owner's */
	w = ddp_owner_get(in, f->owner);
	if (!ddp_caller_is(in, f->owner) &&
	    !(w && READ_ONCE(w->state) == DDP_OWNER_REAPING))
		return -EPERM;
	/* DYING until dead_epoch is written: a release cannot free it; not
	 * while an sk_update gives the flow tags or records */
	if (__sync_val_compare_and_swap(&f->ctl_busy, 0, 1))
		return -EBUSY;
	state = __sync_val_compare_and_swap(&f->state, DDP_FLOW_ALIVE,
					    DDP_FLOW_DYING);
	__sync_lock_test_and_set(&f->ctl_busy, 0);
	if (state != DDP_FLOW_ALIVE)
		return -ENOENT;
	bpf_map_delete_elem(&ddp_socks, &f->key);
	ddp_port_add(f->key.rport, -1);
	c.first = f->tag_first;
	bpf_loop(f->tag_count, ddp_kill_cb, &c, 0);
	f->dead_epoch = ddp_epoch_now();
	__sync_lock_test_and_set(&f->state, DDP_FLOW_DEAD);
	ddp_count(&st->queue_teardown);
	a->torn = c.n;
	return 0;
}

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

struct ddp_tag_claim {
	__u32 base; /* the flow's first slot */
	__u32 tag;
	__u32 stamp; /* the claimed tag's, once active */
	__u32 was; /* its stamp before: free */
};

/* Claim a free slot: BUSY with a new generation while it is filled, so a
 * stale placement into it (from the tag it was before) fails its stamp
 * check, and nothing finds it before its CID is inserted. */
static long ddp_claim_tag_cb(__u32 i, void *arg)
{
	struct ddp_tag_claim *c = arg;
	struct ddp_tag *t = ddp_tag_get(c->base + i);
	__u32 s;

	if (!t)
		return 1;
	s = READ_ONCE(t->stamp);
	if (DDP_TAG_STATE(s) != DDP_TAG_FREE ||
	    __sync_val_compare_and_swap(&t->stamp, s,
					DDP_TAG_STAMP(DDP_TAG_GEN(s) + 1,
						      DDP_TAG_BUSY)) != s)
		return 0;
	c->tag = i;
	c->stamp = DDP_TAG_STAMP(DDP_TAG_GEN(s) + 1, DDP_TAG_ACTIVE);
	c->was = s;
	return 1;
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

SEC("syscall")
int ddp_sync_begin(struct ddp_ctl_sync_begin *a)
{
	a->epoch = __sync_fetch_and_add(&ddp_epoch, 1) + 1;
	return 0;
}

static long ddp_free_cb(__u32 i, void *arg)
{
	struct ddp_flow_tags *c = arg;
	struct ddp_tag *t = ddp_tag_get(c->first + i);

	if (!t)
		return 1;
	c->n += ddp_tag_free(t);
	return 0;
}

SEC("syscall")
int ddp_release(struct ddp_ctl_release *a)
{
	struct ddp_flow_tags c = { .epoch = a->epoch };
	struct ddp_flow *f = ddp_flow_get(DDP_FLOW_SLOT(a->flow_id));
	__u32 count, rec_first, ring;

	if (!f || a->epoch > ddp_epoch)
		return -EINVAL;
	if (f->flow_id != a->flow_id)
		return -ENOENT;
	c.first = f->tag_first;
	count = f->tag_count;
	rec_first = f->rec_first;
	ring = f->rec_ring;
	bpf_loop(count, ddp_free_cb, &c, 0);
	/* its runs go back with it, as read before: once FREE, the slot
	 * may be someone else's */
	if (f->state == DDP_FLOW_DEAD && f->dead_epoch < c.epoch &&
	    __sync_val_compare_and_swap(&f->state, DDP_FLOW_DEAD,
					DDP_FLOW_FREE) == DDP_FLOW_DEAD) {
		ddp_tags_put(c.first, count);
		ddp_recs_put(rec_first, ring);
	}
	a->freed = c.n;
	return 0;
}

/* The host's answer to a resync request of its flow. */
SEC("syscall")
int ddp_resync(struct ddp_ctl_resync *a)
{
	struct ddp_flow *f;
	int err;

	f = ddp_flow_mine(a->flow_id, &err);
	if (!f)
		return err;
	WRITE_ONCE(f->resync_reply, a->reply);
	return 0;
}

/* ---- owners and chunks ---------------------------------------------------- */

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

#endif /* DDP_CTL_H */
