// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * prog.c - the engine's control programs (bpf/ddp_ctl.h), run with
 * BPF_PROG_TEST_RUN in the calling process, and the low-level calls made
 * of them one call each, with no queueing and no thread: deleting a flow,
 * tearing a tag down, a sync, a release. What the rest of the library
 * builds on (ctl.c, owner.c, bufs.c); it calls none of them.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "libddp_priv.h"

int ddp_ctl_run(struct ddp_dev *d, enum ddp_prog_idx p, void *ctx, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = len);

	if (bpf_prog_test_run_opts(d->prog_fd[p], &opts))
		return ddp_err(d, -errno, "run of %s: %s", ddp_prog_names[p],
			       strerror(errno));
	return (int)opts.retval;
}

/* The flow is not this process's: a message for the step that found it. */
int ddp_not_mine(struct ddp_dev *d, int err, const char *step, __u32 flow_id)
{
	if (err == -EPERM)
		return ddp_err(d, err, "%s: flow %u belongs to another process",
			       step, flow_id);
	return ddp_err(d, err, "%s: flow %u is not offloaded", step, flow_id);
}

int ddp_ctl_sk_del(struct ddp_dev *d, __u32 flow_id)
{
	struct ddp_ctl_sk_del a = { .flow_id = flow_id };
	int err, tries = 0;

	/* an sk_update of the flow under way: it takes microseconds */
	while ((err = ddp_ctl_run(d, P_ddp_sk_del, &a, sizeof(a))) == -EBUSY &&
	       ++tries < 1000)
		usleep(100);
	if (err == -EBUSY)
		return ddp_err(d, err, "sk_del: flow %u is being updated",
			       flow_id);
	if (err == -ENOENT || err == -EPERM)
		return ddp_not_mine(d, err, "sk_del", flow_id);
	return err;
}

int ddp_ctl_teardown(struct ddp_dev *d, __u32 flow_id, __u16 cid, __u32 *tag)
{
	struct ddp_ctl_teardown a = { .flow_id = flow_id, .cid = cid };
	int err = ddp_ctl_run(d, P_ddp_teardown, &a, sizeof(a));

	if (err == -EPERM)
		return ddp_not_mine(d, err, "teardown", flow_id);
	if (err == -ENOENT)
		return ddp_err(d, err,
			       "teardown: cid %u is not registered in flow %u",
			       cid, flow_id);
	if (err)
		return err;
	if (tag)
		*tag = a.tag;
	return a.freed;
}

int ddp_sync(struct ddp_dev *d, __u64 *epoch)
{
	struct ddp_ctl_sync_begin a = { 0 };
	int inner = d->map_fd[M_ddp_sync_inner];
	__u32 zero = 0;
	int err;

	err = ddp_ctl_run(d, P_ddp_sync_begin, &a, sizeof(a));
	if (err)
		return err;
	/* returns after synchronize_rcu(): every engine run that could have
	 * seen a tag alive has finished */
	if (bpf_map_update_elem(d->map_fd[M_ddp_sync], &zero, &inner, BPF_ANY))
		return ddp_err(d, -errno, "sync through ddp_sync: %s",
			       strerror(errno));
	*epoch = a.epoch;
	return 0;
}

int ddp_release(struct ddp_dev *d, __u32 flow_id, __u64 epoch, __u32 *freed)
{
	struct ddp_ctl_release a = { .flow_id = flow_id, .epoch = epoch };
	int err = ddp_ctl_run(d, P_ddp_release, &a, sizeof(a));

	if (err)
		return ddp_err(d, err, "release of flow %u: %s", flow_id,
			       strerror(-err));
	if (freed)
		*freed = a.freed;
	return 0;
}
