/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_ctl_flow.h - a flow's life as the library asks for it: the check of
 * a config from user space and the tags it holds; ddp_sk_add, which
 * claims a flow slot with its runs of tags and records and makes the
 * 5-tuple findable; ddp_sk_update, which offloads a flow that was only
 * steered; and ddp_sk_del, which makes it unfindable, kills its tags and
 * leaves it DEAD until a ddp_release (ddp_ctl_sync.h) frees it. Included
 * by ddp_ctl.h only, after ddp_ctl_tag.h.
 */
#ifndef DDP_CTL_FLOW_H
#define DDP_CTL_FLOW_H

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

#endif /* DDP_CTL_FLOW_H */
