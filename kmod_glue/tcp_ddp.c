// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcp_ddp.c - the specification's tcp_ddp_ops for in-kernel L5Ps
 * (tcp_ddp.h), on the engine bound to the device (ddp_engine.c).
 *
 * An offloaded socket is a flow of the engine owned by the kernel, with
 * placement records (DDP_SK_RECORDS, read as user-space hosts read them:
 * ddp_records.h) and resync requests through a kfunc (DDP_SK_KERNEL). A
 * command's buffer, the kernel pages of its sg_table, is a pin of the
 * module's (ddp_pins.c) that the tag's segments point into.
 *
 * Teardown is asynchronous, as the specification allows: the tag is torn
 * down and its pin made unfindable at once; a work item then waits for a
 * grace period, after which no XDP run still writes the pages, releases
 * tags the engine left DEAD, drops the pages and calls
 * ddp_teardown_done(), for every teardown that came meanwhile at once.
 */
#include <linux/hashtable.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/tcp.h>
#include "ddp_engine.h"
#include "ddp_pins.h"
#include "ddp_records.h"
#include "tcp_ddp.h"
#include "tcp_ddp_priv.h"

/* An offloaded socket */
struct tcp_ddp_sk {
	struct hlist_node node; /* tcp_ddp_socks, by sk */
	struct rcu_head rcu;
	struct sock *sk;
	struct ddp_engine *e; /* referenced */
	const struct tcp_ddp_ulp_ops *ops;
	u32 flow_id;
	u32 rec_tail; /* tcp_ddp_placed()'s cursor in the records */
	bool gone; /* the flow is deleted: nothing is placed any more */
	struct mutex lock; /* setup and teardown against gone */
	struct xarray ios; /* command id -> its buffer's struct ddp_pin */
	atomic64_t resync; /* the pending request: id << 32 | seq, or 0 */
};

/* Written under ddp_glue_lock; read under RCU */
static DEFINE_HASHTABLE(tcp_ddp_socks, 8);

/* A teardown completing */
struct tcp_ddp_retire {
	struct llist_node node;
	struct ddp_engine *e; /* referenced */
	struct ddp_pin *pin;
	u32 flow_id;
	bool release; /* the engine left the tag DEAD: release it */
	u64 epoch;
	const struct tcp_ddp_ulp_ops *ops;
	void *ddp_ctx;
};

static LLIST_HEAD(tcp_ddp_retiring);
static void tcp_ddp_retire_work(struct work_struct *w);
static DECLARE_WORK(tcp_ddp_retire_w, tcp_ddp_retire_work);

static struct tcp_ddp_sk *tcp_ddp_sk_find(const struct sock *sk)
{
	struct tcp_ddp_sk *s;

	hash_for_each_possible_rcu(tcp_ddp_socks, s, node, (unsigned long)sk)
		if (s->sk == sk)
			return s;
	return NULL;
}

/* The L5P calls setup, teardown and placed of a socket between its sk_add
 * and its sk_del, which frees it: found, it stays. */
static struct tcp_ddp_sk *tcp_ddp_sk_of(const struct sock *sk)
{
	struct tcp_ddp_sk *s;

	rcu_read_lock();
	s = sk ? tcp_ddp_sk_find(sk) : NULL;
	rcu_read_unlock();
	return s;
}

/* The connection as the engine sees it on receive; IPv4 mapped */
static int tcp_ddp_key(const struct sock *sk, struct ddp_flow_key *k)
{
	const struct inet_sock *inet = inet_sk(sk);

	memset(k, 0, sizeof(*k));
	if (sk->sk_family == AF_INET) {
		ipv6_addr_set_v4mapped(inet->inet_daddr,
				       (struct in6_addr *)k->raddr);
		ipv6_addr_set_v4mapped(inet->inet_rcv_saddr,
				       (struct in6_addr *)k->laddr);
#if IS_ENABLED(CONFIG_IPV6)
	} else if (sk->sk_family == AF_INET6) {
		memcpy(k->raddr, &sk->sk_v6_daddr, sizeof(k->raddr));
		memcpy(k->laddr, &sk->sk_v6_rcv_saddr, sizeof(k->laddr));
#endif
	} else {
		return -EINVAL;
	}
	k->rport = inet->inet_dport;
	k->lport = inet->inet_sport;
	return 0;
}

/* The stream's next byte, if nothing received is unread: a PDU begins
 * there when the L5P has read whole PDUs only. */
static int tcp_ddp_next_seq(struct sock *sk, u32 *seq)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	int err = 0;

	lock_sock(sk);
	if (sk->sk_state != TCP_ESTABLISHED)
		err = -ENOTCONN;
	else if (tp->copied_seq != tp->rcv_nxt)
		err = -EBUSY;
	*seq = tp->rcv_nxt;
	release_sock(sk);
	return err;
}

static bool tcp_ddp_config_ok(const struct tcp_ddp_config *config)
{
	const struct nvme_tcp_ddp_config *nc =
		container_of(config, struct nvme_tcp_ddp_config, cfg);
	const struct tcp_ddp_ulp_ops *ops = config->ulp_ops;

	return config->type == TCP_DDP_NVME && ops && ops->resync_request &&
	       ops->ddp_teardown_done && nc->queue_size > 0 &&
	       nc->queue_id >= 0 && nc->io_cpu >= 0;
}

int tcp_ddp_sk_add(struct net_device *netdev, struct sock *sk,
		   struct tcp_ddp_config *config)
{
	struct nvme_tcp_ddp_config *nc =
		container_of(config, struct nvme_tcp_ddp_config, cfg);
	struct ddp_ctl_sk_add a = {
		.cfg = { .pfv = nc->pfv,
			 .cpda = nc->cpda,
			 .dgst = nc->dgst,
			 .queue_size = nc->queue_size,
			 .queue_id = nc->queue_id,
			 .io_cpu = nc->io_cpu,
			 .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS |
				  DDP_SK_KERNEL },
	};
	struct ddp_ctl_sk_del del = {};
	struct tcp_ddp_sk *s;
	struct ddp_engine *e;
	int err;

	if (!netdev || !sk || !config || !tcp_ddp_config_ok(config) ||
	    sk->sk_protocol != IPPROTO_TCP ||
	    !net_eq(sock_net(sk), dev_net(netdev)) || tcp_ddp_key(sk, &a.key))
		return -EINVAL;
	if (tcp_ddp_sk_of(sk))
		return -EEXIST;
	e = ddp_engine_get(netdev);
	if (!e)
		return -ENODEV;
	err = tcp_ddp_next_seq(sk, &a.cfg.start_seq);
	s = err ? NULL : kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s) {
		ddp_engine_put(e);
		return err ?: -ENOMEM;
	}
	s->sk = sk;
	s->e = e;
	s->ops = config->ulp_ops;
	mutex_init(&s->lock);
	xa_init(&s->ios);
	mutex_lock(&ddp_glue_lock);
	if (!e->bound) {
		err = -ENODEV;
	} else if (tcp_ddp_sk_find(sk)) {
		err = -EEXIST;
	} else {
		a.owner = e->owner;
		err = ddp_engine_run(e, DDP_BIND_sk_add, &a);
	}
	if (!err) {
		s->flow_id = a.flow_id;
		err = xa_insert(&e->socks, DDP_FLOW_SLOT(a.flow_id), s,
				GFP_KERNEL);
		if (err) {
			del.flow_id = a.flow_id;
			ddp_engine_run(e, DDP_BIND_sk_del, &del);
		}
	}
	if (!err)
		hash_add_rcu(tcp_ddp_socks, &s->node, (unsigned long)sk);
	mutex_unlock(&ddp_glue_lock);
	if (err) {
		ddp_engine_put(e);
		kfree(s);
	}
	return err;
}
EXPORT_SYMBOL_GPL(tcp_ddp_sk_add);

/* Delete s's flow, its tags with it, and wait until nothing writes its
 * buffers; under ddp_glue_lock. Buffers not yet torn down stay in ios,
 * unfindable: their teardown completes at once. */
static void tcp_ddp_flow_del(struct tcp_ddp_sk *s)
{
	struct ddp_ctl_sk_del del = { .flow_id = s->flow_id };
	struct ddp_ctl_release rel = { .flow_id = s->flow_id };
	struct ddp_pin *pin;
	unsigned long cid;

	mutex_lock(&s->lock);
	if (!s->gone) {
		s->gone = true;
		xa_erase(&s->e->socks, DDP_FLOW_SLOT(s->flow_id));
		ddp_engine_run(s->e, DDP_BIND_sk_del, &del);
		xa_for_each(&s->ios, cid, pin)
			ddp_pin_unpublish(pin);
		rel.epoch = ddp_engine_sync(s->e);
		ddp_engine_run(s->e, DDP_BIND_release, &rel);
	}
	mutex_unlock(&s->lock);
}

void tcp_ddp_sk_del(struct net_device *netdev, struct sock *sk)
{
	struct tcp_ddp_sk *s;
	struct ddp_pin *pin;
	unsigned long cid;

	mutex_lock(&ddp_glue_lock);
	s = sk ? tcp_ddp_sk_find(sk) : NULL;
	if (s) {
		hash_del_rcu(&s->node);
		tcp_ddp_flow_del(s);
	}
	mutex_unlock(&ddp_glue_lock);
	if (!s)
		return;
	/* buffers never torn down: unfindable for a grace period now */
	xa_for_each(&s->ios, cid, pin)
		ddp_pin_put(pin);
	xa_destroy(&s->ios);
	ddp_engine_put(s->e);
	kfree_rcu(s, rcu);
}
EXPORT_SYMBOL_GPL(tcp_ddp_sk_del);

void tcp_ddp_engine_gone(struct ddp_engine *e)
{
	struct tcp_ddp_sk *s;
	unsigned long slot;

	xa_for_each(&e->socks, slot, s)
		tcp_ddp_flow_del(s);
}

int tcp_ddp_setup(struct net_device *netdev, struct sock *sk,
		  struct tcp_ddp_io *io)
{
	struct tcp_ddp_sk *s = tcp_ddp_sk_of(sk);
	struct ddp_ctl_setup *a;
	struct ddp_pin *pin;
	int err;

	if (!s)
		return -ENOENT;
	if (!io || io->command_id > 0xffff || io->nents < 1 ||
	    io->nents > DDP_MAX_SEGS || !io->sg_table.sgl)
		return -EINVAL;
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	pin = ddp_pin_kernel(io->sg_table.sgl, io->nents, a->segs);
	if (IS_ERR(pin)) {
		kfree(a);
		return PTR_ERR(pin);
	}
	a->flow_id = s->flow_id;
	a->cid = io->command_id;
	a->nsegs = io->nents;
	a->pin = pin->id;
	mutex_lock(&s->lock);
	err = s->gone ? -ENODEV :
			xa_insert(&s->ios, io->command_id, pin, GFP_KERNEL);
	if (err == -EBUSY)
		err = -EEXIST;
	if (!err) {
		err = ddp_engine_run(s->e, DDP_BIND_setup, a);
		if (err)
			xa_erase(&s->ios, io->command_id);
	}
	mutex_unlock(&s->lock);
	kfree(a);
	if (err) {
		/* no tag took it (a tag is findable only once set up): the
		 * engine never looked for it */
		ddp_pin_unpublish(pin);
		ddp_pin_put(pin);
	}
	return err;
}
EXPORT_SYMBOL_GPL(tcp_ddp_setup);

int tcp_ddp_teardown(struct net_device *netdev, struct sock *sk,
		     struct tcp_ddp_io *io, void *ddp_ctx)
{
	struct tcp_ddp_sk *s = tcp_ddp_sk_of(sk);
	struct ddp_ctl_teardown t = {};
	struct tcp_ddp_retire *r;

	if (!s)
		return -ENOENT;
	if (!io || io->command_id > 0xffff)
		return -EINVAL;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	mutex_lock(&s->lock);
	r->pin = xa_erase(&s->ios, io->command_id);
	if (r->pin && !s->gone) {
		t.flow_id = s->flow_id;
		t.cid = io->command_id;
		r->release = !ddp_engine_run(s->e, DDP_BIND_teardown, &t) &&
			     !t.freed;
		ddp_pin_unpublish(r->pin);
	}
	mutex_unlock(&s->lock);
	if (!r->pin) {
		kfree(r);
		return -ENOENT;
	}
	kref_get(&s->e->ref);
	r->e = s->e;
	r->flow_id = s->flow_id;
	r->ops = s->ops;
	r->ddp_ctx = ddp_ctx;
	llist_add(&r->node, &tcp_ddp_retiring);
	queue_work(system_unbound_wq, &tcp_ddp_retire_w);
	return 0;
}
EXPORT_SYMBOL_GPL(tcp_ddp_teardown);

static void tcp_ddp_retire_work(struct work_struct *w)
{
	struct llist_node *list = llist_del_all(&tcp_ddp_retiring);
	struct tcp_ddp_retire *r, *t;

	if (!list)
		return;
	list = llist_reverse_order(list);
	/* an epoch for tags left DEAD, then one wait for every XDP run that
	 * may still write a pin of the batch */
	llist_for_each_entry(r, list, node) {
		struct ddp_ctl_sync_begin b = {};

		if (r->release &&
		    !ddp_engine_run(r->e, DDP_BIND_sync_begin, &b))
			r->epoch = b.epoch;
	}
	synchronize_rcu();
	llist_for_each_entry_safe(r, t, list, node) {
		struct ddp_ctl_release rel = { .flow_id = r->flow_id,
					       .epoch = r->epoch };

		if (r->release && rel.epoch)
			ddp_engine_run(r->e, DDP_BIND_release, &rel);
		ddp_pin_put(r->pin);
		r->ops->ddp_teardown_done(r->ddp_ctx);
		ddp_engine_put(r->e);
		kfree(r);
	}
}

void tcp_ddp_flush(void)
{
	flush_work(&tcp_ddp_retire_w);
}

int tcp_ddp_resync_request(struct net_device *dev, u32 flow_id, u32 seq,
			   u32 req_id)
{
	struct ddp_engine *e;
	struct tcp_ddp_sk *s;
	int err = -ENOENT;

	rcu_read_lock();
	e = ddp_engine_find_rcu(dev);
	s = e ? xa_load(&e->socks, DDP_FLOW_SLOT(flow_id)) : NULL;
	if (s && s->flow_id == flow_id) {
		/* the request before the question: an answer finds it */
		atomic64_set(&s->resync, (u64)req_id << 32 | seq);
		err = s->ops->resync_request(s->sk, seq + DDP_HDR_NEED - 1, 0) ?
			      0 :
			      -EBUSY;
	}
	rcu_read_unlock();
	return err;
}

void tcp_ddp_resync(struct net_device *netdev, struct sock *sk, u32 seq)
{
	struct ddp_ctl_resync a = {};
	struct tcp_ddp_sk *s;
	u64 req;

	rcu_read_lock();
	s = sk ? tcp_ddp_sk_find(sk) : NULL;
	req = s && !READ_ONCE(s->gone) ? atomic64_xchg(&s->resync, 0) : 0;
	if (req) {
		/* the header asked about ends DDP_HDR_NEED bytes on: every
		 * header the engine resyncs on is that long */
		a.flow_id = s->flow_id;
		a.reply = DDP_RESYNC_REPLY((u32)req, req >> 32,
					   seq == (u32)req + DDP_HDR_NEED - 1);
		ddp_engine_run(s->e, DDP_BIND_resync, &a);
	}
	rcu_read_unlock();
}
EXPORT_SYMBOL_GPL(tcp_ddp_resync);

u32 tcp_ddp_placed(struct net_device *netdev, struct sock *sk, u32 seq,
		   u32 len, u32 command_id, bool *placed)
{
	struct tcp_ddp_sk *s = tcp_ddp_sk_of(sk);
	const struct ddp_flow *f;
	const struct ddp_rec *recs;
	enum ddp_run run;
	u32 rec, ring;

	*placed = false;
	if (!s || READ_ONCE(s->gone) || command_id > 0xffff)
		return len;
	f = ddp_engine_flow(s->e, DDP_FLOW_SLOT(s->flow_id));
	/* a slot another flow took since: its records are not ours */
	if (!f || READ_ONCE(f->flow_id) != s->flow_id)
		return len;
	recs = ddp_engine_recs(s->e, f, &ring);
	if (!recs)
		return len;
	len = ddp_rec_run(f, recs, ring, &s->rec_tail, seq, len, command_id,
			  &run, &rec);
	*placed = run == DDP_RUN_PLACED;
	return len;
}
EXPORT_SYMBOL_GPL(tcp_ddp_placed);
