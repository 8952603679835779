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
 *
 * This file holds what they all use (errno values, the ddp_info and
 * owner lookups, who the caller is, the caller's flow, the sync epoch,
 * the counters); the programs follow by concern in the headers included
 * at its end, each using only this file and those included before it:
 * ddp_ctl_pool.h (the pools), ddp_ctl_tag.h (a tag slot's states),
 * ddp_ctl_flow.h (sk_add, sk_update, sk_del), ddp_ctl_setup.h (setup,
 * teardown), ddp_ctl_sync.h (sync_begin, release, resync) and
 * ddp_ctl_owner.h (owners and chunks). That order is also the order of
 * the programs in the object.
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

/* The control programs by concern, each using those above it */
#include "ddp_ctl_pool.h"
#include "ddp_ctl_tag.h"
#include "ddp_ctl_flow.h"
#include "ddp_ctl_setup.h"
#include "ddp_ctl_sync.h"
#include "ddp_ctl_owner.h"

#endif /* DDP_CTL_H */
