/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_ctl_sync.h - keeping step with the engine, which reads flows and
 * tags without a count: ddp_sync_begin starts a sync epoch, and
 * ddp_release, once the library has waited for every engine run of the
 * epoch before, frees a DEAD flow, its runs and its dead tags (the steps
 * are listed in ddp.h); and ddp_resync, the host's answer to the
 * engine's resync request of its flow. Included by ddp_ctl.h only, after
 * ddp_ctl_setup.h.
 */
#ifndef DDP_CTL_SYNC_H
#define DDP_CTL_SYNC_H

SEC("syscall")
int ddp_sync_begin(struct ddp_ctl_sync_begin *a)
{
	a->epoch = __sync_fetch_and_add(&ddp_epoch, 1) + 1;
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

#endif /* DDP_CTL_SYNC_H */
