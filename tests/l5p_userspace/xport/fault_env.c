// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fault_env.c - the fault programs on a veth, in this thread's namespace.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "fault_env.h"

static int fail(char *err, size_t len, const char *what, int e)
{
	snprintf(err, len, "%s: %s", what, strerror(e));
	return -1;
}

static int sh(char *err, size_t len, const char *cmd)
{
	int ret = system(cmd);

	if (ret) {
		snprintf(err, len, "%s: exit %d", cmd, ret);
		return -1;
	}
	return 0;
}

static int tc_attach(struct fault_env *fe, int ifindex,
		     enum bpf_tc_attach_point where, const char *prog,
		     char *err, size_t len)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = where);
	/* one filter: an earlier tool's, left on the device, is replaced */
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1,
		    .flags = BPF_TC_F_REPLACE);
	struct bpf_program *pg;
	int ret;

	pg = bpf_object__find_program_by_name(fe->obj, prog);
	if (!pg)
		return fail(err, len, prog, ENOENT);
	opts.prog_fd = bpf_program__fd(pg);
	ret = bpf_tc_attach(&hook, &opts);
	return ret ? fail(err, len, prog, -ret) : 0;
}

int fault_env_open(struct fault_env *fe, const char *obj_path, const char *home,
		   const char *near, const char *far, unsigned int rate_mbit,
		   char *err, size_t len)
{
	struct fault_cfg cfg = { 0 };
	int hi, fi, ret;
	char cmd[512];
	__u32 k = 0;

	fe->obj = NULL;
	hi = if_nametoindex(home);
	if (!hi)
		return fail(err, len, home, ENODEV);
	snprintf(
		cmd, sizeof(cmd),
		"ip link set %s gso_max_segs 1 && "
		"ip link add %s type veth peer name %s && "
		"ip link set %s up && ip link set %s up && "
		"tc qdisc replace dev %s root tbf rate %umbit burst 1600 limit 400000 && "
		"tc qdisc replace dev %s clsact && tc qdisc add dev %s clsact",
		home, near, far, near, far, near, rate_mbit, home, far);
	if (sh(err, len, cmd))
		return -1;
	fe->obj = bpf_object__open_file(obj_path, NULL);
	ret = libbpf_get_error(fe->obj);
	if (ret) {
		fe->obj = NULL;
		return fail(err, len, obj_path, -ret);
	}
	ret = bpf_object__load(fe->obj);
	if (ret)
		return fail(err, len, obj_path, -ret);
	fe->cfg_fd = bpf_object__find_map_fd_by_name(fe->obj, "fault_cfg");
	fe->st_fd = bpf_object__find_map_fd_by_name(fe->obj, "fault_stats");
	if (fe->cfg_fd < 0 || fe->st_fd < 0)
		return fail(err, len, "the fault maps", ENOENT);
	fi = if_nametoindex(far);
	if (tc_attach(fe, hi, BPF_TC_EGRESS, "fault_egress", err, len) ||
	    tc_attach(fe, hi, BPF_TC_INGRESS, "fault_ingress", err, len) ||
	    tc_attach(fe, fi, BPF_TC_INGRESS, "fault_detour", err, len))
		return -1;
	cfg.home_ifindex = hi;
	cfg.detour_ifindex = if_nametoindex(near);
	if (bpf_map_update_elem(fe->cfg_fd, &k, &cfg, 0))
		return fail(err, len, "fault_cfg", errno);
	return 0;
}

int fault_env_set(struct fault_env *fe, const struct fault_cfg *cfg)
{
	struct fault_cfg c = *cfg, old;
	__u32 k = 0;

	if (bpf_map_lookup_elem(fe->cfg_fd, &k, &old))
		return -1;
	c.home_ifindex = old.home_ifindex;
	c.detour_ifindex = old.detour_ifindex;
	return bpf_map_update_elem(fe->cfg_fd, &k, &c, 0);
}

int fault_env_stats(struct fault_env *fe, struct fault_stats *st)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(fe->st_fd, &k, st);
}

void fault_env_close(struct fault_env *fe)
{
	bpf_object__close(fe->obj);
	fe->obj = NULL;
}
