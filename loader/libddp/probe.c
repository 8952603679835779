// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * probe.c - what the running kernel allows the engine, asked once at load:
 * the features it cannot do without (named with the first kernel that has
 * each, so that an old kernel is refused with a reason before anything is
 * loaded or attached), and how many bytes bpf_csum_diff() sums at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "libddp_priv.h"
#include "ddp_probe.skel.h"

/* Tests: a feature this kernel is to lack ("" for none) */
const char *ddp_probe_pretend_missing = "";

/* An mmapable array (BPF_F_MMAPABLE) can be created and mapped. */
static int mmapable_ok(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ddp_probe", 4, 8, 1, &o);
	void *p;

	if (fd < 0)
		return 0;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 0;
	munmap(p, 4096);
	return 1;
}

static int helper_ok(enum bpf_prog_type t, enum bpf_func_id f)
{
	return libbpf_probe_bpf_helper(t, f, NULL) == 1;
}

/* What the engine needs, and the first Linux that has it. */
static const struct {
	const char *what;
	const char *since; /* the first Linux with it */
	enum bpf_prog_type prog; /* for a helper; 0: a map type or other */
	enum bpf_func_id helper;
	enum bpf_map_type map;
} ddp_needs[] = {
	{ "BPF_PROG_TYPE_SYSCALL programs (the control programs)", "5.14",
	  BPF_PROG_TYPE_SYSCALL, 0, 0 },
	{ "bpf_get_current_pid_tgid() in syscall programs", "5.14",
	  BPF_PROG_TYPE_SYSCALL, BPF_FUNC_get_current_pid_tgid, 0 },
	{ "bpf_loop()", "5.17", BPF_PROG_TYPE_XDP, BPF_FUNC_loop, 0 },
	{ "bpf_xdp_load_bytes()", "5.18", BPF_PROG_TYPE_XDP,
	  BPF_FUNC_xdp_load_bytes, 0 },
	{ "bpf_xdp_store_bytes()", "5.18", BPF_PROG_TYPE_XDP,
	  BPF_FUNC_xdp_store_bytes, 0 },
	{ "bpf_csum_diff() in XDP", "4.6", BPF_PROG_TYPE_XDP,
	  BPF_FUNC_csum_diff, 0 },
	{ "BPF ring buffers", "5.8", 0, 0, BPF_MAP_TYPE_RINGBUF },
	{ "AF_XDP socket maps (XSKMAP)", "4.18", 0, 0, BPF_MAP_TYPE_XSKMAP },
	{ "maps of maps (ARRAY_OF_MAPS)", "4.12", 0, 0,
	  BPF_MAP_TYPE_ARRAY_OF_MAPS },
	{ "mmapable arrays (BPF_F_MMAPABLE)", "5.5", 0, 0, 0 },
};

/* a Linux version "X.Y" as one number, to compare */
static unsigned int ddp_version(const char *v)
{
	unsigned int major = 0, minor = 0;

	sscanf(v, "%u.%u", &major, &minor);
	return major << 16 | minor;
}

/* The first Linux with all of ddp_needs: the latest of their firsts
 * (5.18: bpf_xdp_load_bytes() and bpf_xdp_store_bytes()). */
static const char *ddp_needs_since(void)
{
	const char *v = ddp_needs[0].since;
	unsigned int i;

	for (i = 1; i < sizeof(ddp_needs) / sizeof(ddp_needs[0]); i++)
		if (ddp_version(ddp_needs[i].since) > ddp_version(v))
			v = ddp_needs[i].since;
	return v;
}

int ddp_probe_features(void)
{
	struct utsname u;
	const char *all;
	unsigned int i;
	bool same;
	int ok;

	for (i = 0; i < sizeof(ddp_needs) / sizeof(ddp_needs[0]); i++) {
		if (!strcmp(ddp_probe_pretend_missing, ddp_needs[i].what))
			ok = 0;
		else if (ddp_needs[i].prog && ddp_needs[i].helper)
			ok = helper_ok(ddp_needs[i].prog, ddp_needs[i].helper);
		else if (ddp_needs[i].prog)
			ok = libbpf_probe_bpf_prog_type(ddp_needs[i].prog,
							NULL) == 1;
		else if (ddp_needs[i].map)
			ok = libbpf_probe_bpf_map_type(ddp_needs[i].map,
						       NULL) == 1;
		else
			ok = mmapable_ok();
		if (ok)
			continue;
		if (uname(&u))
			strcpy(u.release, "?");
		/* the feature's first kernel, and the engine's if later */
		all = ddp_needs_since();
		same = !strcmp(all, ddp_needs[i].since);
		return ddp_err0(
			-EOPNOTSUPP,
			"this kernel (%s) lacks %s, which the engine needs: Linux %s or later%s%s%s",
			u.release, ddp_needs[i].what, ddp_needs[i].since,
			same ? "" : " (and ", same ? "" : all,
			same ? "" : " or later for all it uses)");
	}
	return 0;
}

/* kmod_glue's module is loaded and offers the engine every kfunc of names
 * (NULL-ended): its BTF, which the verifier resolves kfuncs by, names
 * them. */
bool ddp_probe_kfuncs(const char *const *names)
{
	const char *path = "/sys/kernel/btf/" DDP_KMOD_NAME;
	struct btf *base, *mod;
	bool ok;

	/* not loaded: no need to parse the kernel's BTF */
	if (access(path, R_OK))
		return false;
	base = btf__load_vmlinux_btf();
	if (!base)
		return false;
	mod = btf__parse_split(path, base);
	ok = !!mod;
	for (; ok && *names; names++)
		ok = btf__find_by_name_kind(mod, *names, BTF_KIND_FUNC) > 0;
	btf__free(mod);
	btf__free(base);
	return ok;
}

/* Tests: the limit of another kernel (0: probe this one) */
__u32 ddp_probe_csum_pretend;

__u32 ddp_probe_csum_max(void)
{
	struct ddp_probe_bpf *s;
	__u8 pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = sizeof(pkt));
	__u32 max = 0;

	if (ddp_probe_csum_pretend)
		return ddp_probe_csum_pretend;
	s = ddp_probe_bpf__open_and_load();
	if (!s)
		return 0;
	if (!bpf_prog_test_run_opts(bpf_program__fd(s->progs.ddp_csum_probe),
				    &o))
		max = o.retval;
	ddp_probe_bpf__destroy(s);
	return max;
}
