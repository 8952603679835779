/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TCP_DDP_PRIV_H
#define TCP_DDP_PRIV_H

#include <linux/netdevice.h>

struct ddp_engine;

/* The engine e is being unbound: delete its in-kernel flows (under
 * ddp_glue_lock). */
void tcp_ddp_engine_gone(struct ddp_engine *e);
/* The engine on dev asks flow flow_id's L5P about a header at seq (its
 * first byte): 0 if the L5P took the request. Softirq context. */
int tcp_ddp_resync_request(struct net_device *dev, u32 flow_id, u32 seq,
			   u32 req_id);
/* Teardowns still completing, done (module unload) */
void tcp_ddp_flush(void);

#endif
