// SPDX-License-Identifier: GPL-2.0-only
/*
 * ddp_engine.c - the engines bound to the module, for its in-kernel L5P
 * API (tcp_ddp.c).
 *
 * ddpctl attach, with the module loaded, hands over the attached engine's
 * control programs and maps (DDP_IOC_BIND); the module checks they are
 * this build's and holds them. It then acts on the engine exactly as a
 * user-space host does, by running the same BPF_PROG_TYPE_SYSCALL programs
 * on the same maps, as one more owner of flows: the kernel's (tgid 0 in
 * ddp_info.owners), recognised by the programs through the kfunc
 * bpf_ddp_glue_caller(), which no process can make say yes. ddpctl detach,
 * the device's removal or the module's unload unbinds it: the flows of
 * in-kernel L5Ps are deleted first (tcp_ddp.c).
 */
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include "ddp_engine.h"
#include "tcp_ddp_priv.h"

/* bpf_map_get() is the BPF core's own from Linux 6.15 on, and in
 * Debian's 6.12 (the import is unused, and harmless, before) */
MODULE_IMPORT_NS(BPF_INTERNAL);

DEFINE_MUTEX(ddp_glue_lock);
static LIST_HEAD(ddp_engines);
/* The task running a control program for the module, on this CPU */
static DEFINE_PER_CPU(struct task_struct *, ddp_glue_task);

/* What each program's context is: a program reading past it is not one
 * of this build's. */
static const size_t ddp_prog_ctx[DDP_BIND_PROG_NR] = {
	[DDP_BIND_sk_add] = sizeof(struct ddp_ctl_sk_add),
	[DDP_BIND_sk_del] = sizeof(struct ddp_ctl_sk_del),
	[DDP_BIND_setup] = sizeof(struct ddp_ctl_setup),
	[DDP_BIND_teardown] = sizeof(struct ddp_ctl_teardown),
	[DDP_BIND_sync_begin] = sizeof(struct ddp_ctl_sync_begin),
	[DDP_BIND_release] = sizeof(struct ddp_ctl_release),
	[DDP_BIND_resync] = sizeof(struct ddp_ctl_resync),
	[DDP_BIND_owner_add] = sizeof(struct ddp_ctl_owner),
	[DDP_BIND_owner_del] = sizeof(struct ddp_ctl_owner),
};

#define DDP_NAME_OF(name) "ddp_" #name,
static const char *const ddp_prog_name[DDP_BIND_PROG_NR] = { DDP_BIND_PROGS(
	DDP_NAME_OF) };
#undef DDP_NAME_OF

bool ddp_engine_caller(void)
{
	return this_cpu_read(ddp_glue_task) == current;
}

int ddp_engine_run(struct ddp_engine *e, enum ddp_bind_prog p, void *ctx)
{
	u32 ret;

	/* as the kernel runs a syscall program for BPF_PROG_TEST_RUN, but
	 * with bottom halves off: nothing else runs on this CPU meanwhile
	 * that could see or change whose run it is */
	local_bh_disable();
	rcu_read_lock();
	this_cpu_write(ddp_glue_task, current);
	ret = bpf_prog_run(e->prog[p], ctx);
	this_cpu_write(ddp_glue_task, NULL);
	rcu_read_unlock();
	local_bh_enable();
	return (int)ret;
}

u64 ddp_engine_sync(struct ddp_engine *e)
{
	struct ddp_ctl_sync_begin b = {};

	ddp_engine_run(e, DDP_BIND_sync_begin, &b);
	/* every XDP run of the engine is in an RCU read-side section */
	synchronize_rcu();
	return b.epoch;
}

static void *ddp_engine_elem(struct ddp_engine *e, enum ddp_bind_map m, u32 i)
{
	struct bpf_map *map = e->map[m];

	return i < map->max_entries ? map->ops->map_lookup_elem(map, &i) : NULL;
}

const struct ddp_flow *ddp_engine_flow(struct ddp_engine *e, u32 slot)
{
	return ddp_engine_elem(e, DDP_BIND_flows, slot);
}

const struct ddp_rec *ddp_engine_recs(struct ddp_engine *e,
				      const struct ddp_flow *f, u32 *ring)
{
	u32 first = READ_ONCE(f->rec_first);

	*ring = READ_ONCE(f->rec_ring);
	/* an array's values lie one after the other: the last one too */
	if (!*ring || !ddp_engine_elem(e, DDP_BIND_recs, first + *ring - 1))
		return NULL;
	return ddp_engine_elem(e, DDP_BIND_recs, first);
}

static void ddp_engine_free(struct kref *ref)
{
	struct ddp_engine *e = container_of(ref, struct ddp_engine, ref);
	int i;

	for (i = 0; i < DDP_BIND_PROG_NR; i++)
		if (e->prog[i])
			bpf_prog_put(e->prog[i]);
	for (i = 0; i < DDP_BIND_MAP_NR; i++)
		if (e->map[i])
			bpf_map_put(e->map[i]);
	xa_destroy(&e->socks);
	kfree_rcu(e, rcu);
}

void ddp_engine_put(struct ddp_engine *e)
{
	kref_put(&e->ref, ddp_engine_free);
}

static bool ddp_engine_is(const struct ddp_engine *e, const struct net *net,
			  int ifindex)
{
	return e->ifindex == ifindex && e->net_cookie == net->net_cookie;
}

struct ddp_engine *ddp_engine_find_rcu(const struct net_device *netdev)
{
	struct ddp_engine *e;

	list_for_each_entry_rcu(e, &ddp_engines, node)
		if (READ_ONCE(e->bound) &&
		    ddp_engine_is(e, dev_net(netdev), netdev->ifindex))
			return e;
	return NULL;
}

struct ddp_engine *ddp_engine_get(const struct net_device *netdev)
{
	struct ddp_engine *e;

	rcu_read_lock();
	e = ddp_engine_find_rcu(netdev);
	if (e && !kref_get_unless_zero(&e->ref))
		e = NULL;
	rcu_read_unlock();
	return e;
}

/* The programs and maps of req, each the engine's of that name. */
static int ddp_engine_take(struct ddp_engine *e, const struct ddp_bind_req *r)
{
	static const struct {
		const char *name;
		u32 value_size;
	} maps[DDP_BIND_MAP_NR] = {
		[DDP_BIND_flows] = { "ddp_flows", sizeof(struct ddp_flow) },
		[DDP_BIND_recs] = { "ddp_recs", sizeof(struct ddp_rec) },
		[DDP_BIND_info] = { "ddp_info", sizeof(struct ddp_info) },
		[DDP_BIND_token] = { "ddp_owner", 4 },
	};
	struct bpf_prog *p;
	struct bpf_map *m;
	int i;

	for (i = 0; i < DDP_BIND_PROG_NR; i++) {
		p = bpf_prog_get_type_dev(r->prog_fd[i], BPF_PROG_TYPE_SYSCALL,
					  false);
		if (IS_ERR(p))
			return PTR_ERR(p);
		e->prog[i] = p;
		if (strcmp(p->aux->name, ddp_prog_name[i]) ||
		    p->aux->max_ctx_offset > ddp_prog_ctx[i])
			return -EINVAL;
	}
	for (i = 0; i < DDP_BIND_MAP_NR; i++) {
		m = bpf_map_get(r->map_fd[i]);
		if (IS_ERR(m))
			return PTR_ERR(m);
		e->map[i] = m;
		if (m->map_type != BPF_MAP_TYPE_ARRAY ||
		    strcmp(m->name, maps[i].name) ||
		    m->value_size != maps[i].value_size)
			return -EINVAL;
	}
	return 0;
}

int ddp_engine_bind(const struct ddp_bind_req *r)
{
	struct net *net = current->nsproxy->net_ns;
	struct ddp_ctl_owner o = {};
	const struct ddp_info *in;
	struct ddp_engine *e, *old;
	int err;

	if (r->abi_version != DDP_ABI_VERSION || r->pad)
		return -EPROTO;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	kref_init(&e->ref);
	xa_init(&e->socks);
	e->ifindex = r->ifindex;
	e->net_cookie = net->net_cookie;
	err = ddp_engine_take(e, r);
	in = err ? NULL : ddp_engine_elem(e, DDP_BIND_info, 0);
	if (!err && (!in || in->abi_version != DDP_ABI_VERSION ||
		     in->ifindex != r->ifindex || !in->pin_kfunc ||
		     e->map[DDP_BIND_flows]->max_entries != in->max_flows ||
		     e->map[DDP_BIND_recs]->max_entries != in->rec_pool))
		err = -EINVAL;
	if (err)
		goto out;
	e->max_flows = in->max_flows;
	mutex_lock(&ddp_glue_lock);
	list_for_each_entry(old, &ddp_engines, node)
		if (old->bound && ddp_engine_is(old, net, r->ifindex))
			err = -EEXIST;
	o.token = e->map[DDP_BIND_token]->id;
	if (!err)
		err = ddp_engine_run(e, DDP_BIND_owner_add, &o);
	if (!err) {
		e->owner = o.owner;
		e->bound = true;
		list_add_tail_rcu(&e->node, &ddp_engines);
		kref_get(&e->ref); /* the list's */
	}
	mutex_unlock(&ddp_glue_lock);
out:
	ddp_engine_put(e);
	return err;
}

/* Under ddp_glue_lock */
static void ddp_engine_unbind_one(struct ddp_engine *e)
{
	struct ddp_ctl_owner o = { .owner = e->owner };

	WRITE_ONCE(e->bound, false);
	list_del_rcu(&e->node);
	/* the flows of in-kernel L5Ps, deleted and released */
	tcp_ddp_engine_gone(e);
	ddp_engine_run(e, DDP_BIND_owner_del, &o);
	ddp_engine_put(e);
}

int ddp_engine_unbind(struct net *net, int ifindex)
{
	struct ddp_engine *e, *t;
	int err = -ENOENT;

	mutex_lock(&ddp_glue_lock);
	list_for_each_entry_safe(e, t, &ddp_engines, node)
		if (ddp_engine_is(e, net, ifindex)) {
			ddp_engine_unbind_one(e);
			err = 0;
		}
	mutex_unlock(&ddp_glue_lock);
	return err;
}

void ddp_engines_unbind_all(void)
{
	struct ddp_engine *e, *t;

	mutex_lock(&ddp_glue_lock);
	list_for_each_entry_safe(e, t, &ddp_engines, node)
		ddp_engine_unbind_one(e);
	mutex_unlock(&ddp_glue_lock);
}

/* A device that goes takes its engine's binding with it */
static int ddp_engine_netdev_event(struct notifier_block *nb,
				   unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_UNREGISTER)
		ddp_engine_unbind(dev_net(dev), dev->ifindex);
	return NOTIFY_DONE;
}

static struct notifier_block ddp_engine_nb = {
	.notifier_call = ddp_engine_netdev_event,
};

int ddp_engine_register(void)
{
	return register_netdevice_notifier(&ddp_engine_nb);
}

void ddp_engine_unregister(void)
{
	unregister_netdevice_notifier(&ddp_engine_nb);
	ddp_engines_unbind_all();
}
