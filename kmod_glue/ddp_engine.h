/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef DDP_ENGINE_H
#define DDP_ENGINE_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/xarray.h>
#include "ddp.h"

/* An engine bound to the module (DDP_IOC_BIND): its control programs and
 * maps, held until it is unbound. */
struct ddp_engine {
	struct list_head node; /* ddp_engines, RCU */
	struct kref ref;
	struct rcu_head rcu;
	int ifindex;
	u64 net_cookie; /* of ifindex's network namespace */
	u32 owner; /* the module's slot in ddp_info.owners */
	u32 max_flows;
	bool bound; /* false once unbound: in-kernel flows are gone */
	struct bpf_prog *prog[DDP_BIND_PROG_NR];
	struct bpf_map *map[DDP_BIND_MAP_NR];
	struct xarray socks; /* flow slot -> struct tcp_ddp_sk (tcp_ddp.c) */
};

/* Serializes binding, unbinding, and adding and deleting flows. */
extern struct mutex ddp_glue_lock;

int ddp_engine_bind(const struct ddp_bind_req *req);
int ddp_engine_unbind(struct net *net, int ifindex);
void ddp_engines_unbind_all(void);

/* The bound engine of netdev, with a reference (ddp_engine_put), or NULL */
struct ddp_engine *ddp_engine_get(const struct net_device *netdev);
/* ... under rcu_read_lock, no reference taken */
struct ddp_engine *ddp_engine_find_rcu(const struct net_device *netdev);
void ddp_engine_put(struct ddp_engine *e);

/* Run control program p on ctx as the module (bpf_ddp_glue_caller() is 1
 * in it): its return value, 0 or -errno. */
int ddp_engine_run(struct ddp_engine *e, enum ddp_bind_prog p, void *ctx);
/* Is the module running a control program in this task? (the kfunc) */
bool ddp_engine_caller(void);
/* Start a sync epoch and wait for every engine run: the epoch to release
 * flows and tags that died before it (see ddp.h) */
u64 ddp_engine_sync(struct ddp_engine *e);
/* Slot slot of ddp_flows, and a flow's ring of records (*ring of them;
 * NULL if it has none) */
const struct ddp_flow *ddp_engine_flow(struct ddp_engine *e, u32 slot);
const struct ddp_rec *ddp_engine_recs(struct ddp_engine *e,
				      const struct ddp_flow *f, u32 *ring);

int ddp_engine_register(void);
void ddp_engine_unregister(void);

#endif
