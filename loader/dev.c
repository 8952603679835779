// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dev.c - engine instances: load, attach, join through the pins, detach,
 * close. An instance is held as file descriptors of its maps and programs,
 * whether it was loaded here or found pinned.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "libddp_priv.h"
#include "ddp.skel.h"

#define DDP_NAME(name) #name,
const char *const ddp_map_names[DDP_MAP_NR] = { DDP_MAPS(DDP_NAME) };
const char *const ddp_prog_names[DDP_PROG_NR] = { DDP_PROGS(DDP_NAME) };
#undef DDP_NAME

/* why the last instance-less call of this thread failed */
static __thread char ddp_err0_msg[256];

int ddp_err(struct ddp_dev *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d ? d->err : ddp_err0_msg, sizeof(ddp_err0_msg), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -err;
}

int ddp_err0(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ddp_err0_msg, sizeof(ddp_err0_msg), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -err;
}

const char *ddp_errmsg(const struct ddp_dev *d)
{
	return d ? d->err : ddp_err0_msg;
}

const char *ddp_dev_notice(const struct ddp_dev *d)
{
	return d->notice[0] ? d->notice : NULL;
}

static void ddp_limits_fill(struct ddp_limits *lim)
{
	if (!lim->max_flows)
		lim->max_flows = DDP_DEF_MAX_FLOWS;
	if (!lim->tags_per_flow)
		lim->tags_per_flow = DDP_DEF_TAGS_PER_FLOW;
	if (!lim->buf_size)
		lim->buf_size = DDP_DEF_BUF_SIZE;
	if (!lim->io_threshold)
		lim->io_threshold = DDP_DEF_IO_THRESHOLD;
}

static int ddp_limits_check(const struct ddp_limits *lim)
{
	if (lim->max_flows > 4096)
		return ddp_err0(-EINVAL, "max flows %u: at most 4096",
				lim->max_flows);
	if (lim->tags_per_flow > 65536)
		return ddp_err0(-EINVAL, "tags per flow %u: at most 65536",
				lim->tags_per_flow);
	if ((__u64)lim->max_flows * lim->tags_per_flow > (1u << 20))
		return ddp_err0(-EINVAL,
				"max flows * tags per flow: at most %u tags",
				1u << 20);
	if (lim->buf_size % 4096 ||
	    lim->buf_size > (__u64)DDP_CHUNK_SIZE * DDP_CHUNKS_MAX)
		return ddp_err0(
			-EINVAL,
			"buffer region of %u bytes: a multiple of 4096, at most 512 MiB",
			lim->buf_size);
	return 0;
}

static struct ddp_dev *ddp_dev_new(void)
{
	struct ddp_dev *d = calloc(1, sizeof(*d));
	int i;

	if (!d)
		return NULL;
	for (i = 0; i < DDP_MAP_NR; i++)
		d->map_fd[i] = -1;
	for (i = 0; i < DDP_PROG_NR; i++)
		d->prog_fd[i] = -1;
	d->efd = d->epfd = d->token_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->owner_lock, NULL);
	pthread_mutex_init(&d->live_lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	return d;
}

/* Maps a BPF_F_MMAPABLE map; read-only (and never to be made writable:
 * the kernel clears VM_MAYWRITE) unless it is the buffer region. */
static void *ddp_map_mmap(struct ddp_dev *d, enum ddp_map_idx m)
{
	int prot = m == M_ddp_bufs ? PROT_READ | PROT_WRITE : PROT_READ;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	size_t sz;
	void *p;

	if (bpf_obj_get_info_by_fd(d->map_fd[m], &info, &len))
		return NULL;
	sz = (size_t)info.value_size * info.max_entries;
	sz = (sz + page - 1) / page * page;
	p = mmap(NULL, sz, prot, MAP_SHARED, d->map_fd[m], 0);
	return p == MAP_FAILED ? NULL : p;
}

static size_t ddp_map_len(const struct ddp_dev *d, enum ddp_map_idx m)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);

	if (bpf_obj_get_info_by_fd(d->map_fd[m], &info, &len))
		return 0;
	return ((size_t)info.value_size * info.max_entries + page - 1) / page *
	       page;
}

static int ddp_ring_wake(void *arg, void *data, size_t len)
{
	/* records only wake us: the flows hold the requests */
	(void)arg;
	(void)data;
	(void)len;
	return 0;
}

int ddp_dev_setup_common(struct ddp_dev *d)
{
	struct epoll_event ev = { .events = EPOLLIN };

	d->info = ddp_map_mmap(d, M_ddp_info);
	d->bufs = ddp_map_mmap(d, M_ddp_bufs);
	d->flows = ddp_map_mmap(d, M_ddp_flows);
	d->tags = ddp_map_mmap(d, M_ddp_tags);
	d->recs = ddp_map_mmap(d, M_ddp_recs);
	if (!d->info || !d->bufs || !d->flows || !d->tags || !d->recs)
		return ddp_err(d, -errno, "mmap of the engine's maps: %s",
			       strerror(errno));
	d->ring = ring_buffer__new(d->map_fd[M_ddp_events], ddp_ring_wake, d,
				   NULL);
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!d->ring || d->efd < 0 || d->epfd < 0 ||
	    epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->efd, &ev) ||
	    epoll_ctl(d->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(d->ring),
		      &ev))
		return ddp_err(d, -errno, "event descriptors: %s",
			       strerror(errno));
	d->mine = calloc(d->lim.max_flows, sizeof(*d->mine));
	d->req_seen = calloc(d->lim.max_flows, sizeof(*d->req_seen));
	if (!d->mine || !d->req_seen)
		return ddp_err(d, -ENOMEM, "out of memory");
	return ddp_alloc_init(d);
}

void ddp_dev_close(struct ddp_dev *d)
{
	int i;

	if (!d)
		return;
	/* this process's flows, tags and chunks go first: nothing of it is
	 * placed into memory another process is given next */
	ddp_owner_leave(d);
	ddp_teardown_stop(d);
	ddp_alloc_fini(d);
	ring_buffer__free(d->ring);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->efd >= 0)
		close(d->efd);
	if (d->info)
		munmap(d->info, ddp_map_len(d, M_ddp_info));
	if (d->bufs)
		munmap(d->bufs, ddp_map_len(d, M_ddp_bufs));
	if (d->flows)
		munmap(d->flows, ddp_map_len(d, M_ddp_flows));
	if (d->tags)
		munmap(d->tags, ddp_map_len(d, M_ddp_tags));
	if (d->recs)
		munmap(d->recs, ddp_map_len(d, M_ddp_recs));
	for (i = 0; i < DDP_MAP_NR; i++)
		if (d->map_fd[i] >= 0)
			close(d->map_fd[i]);
	for (i = 0; i < DDP_PROG_NR; i++)
		if (d->prog_fd[i] >= 0)
			close(d->prog_fd[i]);
	free(d->mine);
	free(d->req_seen);
	free(d->live);
	ddp_bpf__destroy(d->skel);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->owner_lock);
	pthread_mutex_destroy(&d->live_lock);
	pthread_cond_destroy(&d->wake);
	free(d);
}

/* Load the object sized to lim and keep descriptors of what it holds; the
 * skeleton stays for what is set after the attach (ddp_csum_partial). */
static int ddp_load(struct ddp_dev *d, const struct ddp_limits *lim)
{
	struct ddp_bpf *s = ddp_bpf__open();
	__u32 tags = lim->max_flows * lim->tags_per_flow;
	int err, i;

	if (!s)
		return ddp_err0(-errno, "open of the engine's BPF object: %s",
				strerror(errno));
	d->csum_max = ddp_probe_csum_max();
	s->rodata->cfg_max_flows = lim->max_flows;
	s->rodata->cfg_tags_per_flow = lim->tags_per_flow;
	s->rodata->cfg_buf_size = lim->buf_size;
	s->rodata->cfg_io_threshold = lim->io_threshold;
	s->rodata->cfg_csum_max = d->csum_max;
	bpf_map__set_max_entries(s->maps.ddp_socks, lim->max_flows);
	bpf_map__set_max_entries(s->maps.ddp_flows, lim->max_flows);
	bpf_map__set_max_entries(s->maps.ddp_cids, tags);
	bpf_map__set_max_entries(s->maps.ddp_tags, tags);
	bpf_map__set_max_entries(s->maps.ddp_recs,
				 lim->max_flows * DDP_REC_RING);
	bpf_map__set_value_size(s->maps.ddp_bufs,
				lim->buf_size + DDP_BUF_GUARD);
	err = ddp_bpf__load(s);
	if (err) {
		ddp_bpf__destroy(s);
		return ddp_err0(
			err,
			"load of the engine: %s (root and a kernel with BTF are needed)",
			strerror(-err));
	}
	for (i = 0; i < DDP_MAP_NR; i++)
		d->map_fd[i] = dup(bpf_map__fd(bpf_object__find_map_by_name(
			s->obj, ddp_map_names[i])));
	for (i = 0; i < DDP_PROG_NR; i++)
		d->prog_fd[i] =
			dup(bpf_program__fd(bpf_object__find_program_by_name(
				s->obj, ddp_prog_names[i])));
	d->skel = s;
	d->lim = *lim;
	return 0;
}

static __u64 ddp_netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

/* What the loader tells those who join: written once, before the pins
 * make the engine findable, by a map update (the mapping is read-only). */
static int ddp_info_write(struct ddp_dev *d, __u32 ifindex, __u64 netns_ino,
			  __u32 xdp_flags)
{
	struct ddp_info info = {
		.abi_version = DDP_ABI_VERSION,
		.max_flows = d->lim.max_flows,
		.tags_per_flow = d->lim.tags_per_flow,
		.buf_size = d->lim.buf_size,
		.io_threshold = d->lim.io_threshold,
		.ifindex = ifindex,
		.netns_ino = netns_ino,
		.xdp_flags = xdp_flags,
		.csum_partial = d->skel ? d->skel->bss->ddp_csum_partial : 0,
		.csum_max = d->csum_max,
	};
	__u32 zero = 0;

	if (bpf_map_update_elem(d->map_fd[M_ddp_info], &zero, &info, BPF_ANY))
		return ddp_err(d, -errno, "write of ddp_info: %s",
			       strerror(errno));
	return 0;
}

static int ddp_load_instance(const struct ddp_limits *in, struct ddp_dev **out)
{
	struct ddp_limits lim = in ? *in : (struct ddp_limits){ 0 };
	struct ddp_dev *d;
	int err;

	*out = NULL;
	ddp_limits_fill(&lim);
	err = ddp_limits_check(&lim);
	if (err)
		return err;
	d = ddp_dev_new();
	if (!d)
		return ddp_err0(-ENOMEM, "out of memory");
	err = ddp_load(d, &lim);
	if (!err)
		err = ddp_dev_setup_common(d);
	if (err) {
		if (d->err[0])
			ddp_err0(err, "%s", d->err);
		ddp_dev_close(d);
		return err;
	}
	err = ddp_info_write(d, 0, 0, 0);
	if (err) {
		ddp_err0(err, "%s", d->err);
		ddp_dev_close(d);
		return err;
	}
	*out = d;
	return 0;
}

int ddp_dev_load(const struct ddp_limits *lim, struct ddp_dev **out)
{
	return ddp_load_instance(lim, out);
}

static int ddp_check_root(void)
{
	if (geteuid())
		return ddp_err0(
			-EPERM,
			"must be run as root (BPF and XDP need CAP_BPF, CAP_NET_ADMIN)");
	return 0;
}

static int ddp_ifindex(const char *ifname, __u32 *ifindex)
{
	if (strlen(ifname) >= IF_NAMESIZE)
		return ddp_err0(-EINVAL, "'%s' is not an interface name",
				ifname);
	*ifindex = if_nametoindex(ifname);
	if (!*ifindex)
		return ddp_err0(-ENODEV,
				"no device '%s' in this network namespace",
				ifname);
	return 0;
}

static void ddp_pin_path(char *buf, size_t len, const char *ifname,
			 const char *name)
{
	if (name)
		snprintf(buf, len, "%s/%s/%s", DDP_PIN_ROOT, ifname, name);
	else
		snprintf(buf, len, "%s/%s", DDP_PIN_ROOT, ifname);
}

/* Pins live in the BPF filesystem at /sys/fs/bpf; 'ip netns exec'
 * mounts a fresh /sys over it, where nothing pinned can be shared. */
static int ddp_check_bpffs(void)
{
	struct statfs fs;

	if (statfs("/sys/fs/bpf", &fs) || fs.f_type != BPF_FS_MAGIC)
		return ddp_err0(
			-ENOTSUP,
			"no BPF filesystem at /sys/fs/bpf (ip netns exec hides it: use nsenter --net=/run/netns/NAME, or mount -t bpf bpf /sys/fs/bpf)");
	return 0;
}

static bool ddp_pinned(const char *ifname)
{
	char dir[256];
	struct stat st;

	ddp_pin_path(dir, sizeof(dir), ifname, NULL);
	return !stat(dir, &st);
}

/* Remove what is pinned for ifname, whatever it is. */
static void ddp_unpin(const char *ifname)
{
	char path[256];
	int i;

	for (i = 0; i < DDP_MAP_NR; i++) {
		ddp_pin_path(path, sizeof(path), ifname, ddp_map_names[i]);
		unlink(path);
	}
	for (i = 0; i < DDP_PROG_NR; i++) {
		ddp_pin_path(path, sizeof(path), ifname, ddp_prog_names[i]);
		unlink(path);
	}
	ddp_pin_path(path, sizeof(path), ifname, NULL);
	rmdir(path);
	rmdir(DDP_PIN_ROOT);
}

static int ddp_pin(struct ddp_dev *d, const char *ifname)
{
	int i, err, tries = 0;
	char path[256];

	ddp_pin_path(path, sizeof(path), ifname, NULL);
	do { /* another engine's detach may remove the root in between */
		mkdir(DDP_PIN_ROOT, 0700);
		err = mkdir(path, 0700) ? -errno : 0;
	} while (err == -ENOENT && ++tries < 3);
	if (err) {
		rmdir(DDP_PIN_ROOT); /* if it is empty */
		return ddp_err(d, err, "pin directory %s: %s", path,
			       strerror(-err));
	}
	for (i = 0; i < DDP_MAP_NR; i++) {
		ddp_pin_path(path, sizeof(path), ifname, ddp_map_names[i]);
		if (bpf_obj_pin(d->map_fd[i], path))
			goto fail;
	}
	for (i = 0; i < DDP_PROG_NR; i++) {
		ddp_pin_path(path, sizeof(path), ifname, ddp_prog_names[i]);
		if (bpf_obj_pin(d->prog_fd[i], path))
			goto fail;
	}
	return 0;
fail:
	ddp_err(d, -errno, "pin %s: %s", path, strerror(errno));
	ddp_unpin(ifname);
	return -errno;
}

static __u32 ddp_prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* The XDP program on ifindex, if any: its id and name. */
static __u32 ddp_xdp_attached(__u32 ifindex, char *name, size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = { 0 };
	__u32 ilen = sizeof(info);
	int fd;

	if (bpf_xdp_query(ifindex, 0, &q) || !q.prog_id)
		return 0;
	snprintf(name, len, "?");
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	if (fd >= 0)
		close(fd);
	return q.prog_id;
}

/* The id of the engine's XDP program pinned for ifname, or 0. */
static __u32 ddp_pinned_prog_id(const char *ifname)
{
	char path[256];
	__u32 id;
	int fd;

	ddp_pin_path(path, sizeof(path), ifname, "ddp_rx");
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	id = ddp_prog_id(fd);
	close(fd);
	return id;
}

/* veth or tun: devices whose frames come from a sender on this host */
static bool ddp_is_virtual(const char *ifname)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&di };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool yes = false;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd >= 0 && !ioctl(fd, SIOCETHTOOL, &ifr))
		yes = !strcmp(di.driver, "veth") || !strcmp(di.driver, "tun");
	if (fd >= 0)
		close(fd);
	return yes;
}

/* libbpf tells the kernel's own reason for a refused attach (netlink's
 * extended ack) only through its print callback: keep it for the error. */
static __thread char ddp_extack[160];
static libbpf_print_fn_t ddp_print_prev;

static int ddp_print_extack(enum libbpf_print_level level, const char *fmt,
			    va_list ap)
{
	static const char tag[] = "libbpf: Kernel error message: ";
	char msg[128];
	va_list aq;
	size_t n;

	va_copy(aq, ap);
	vsnprintf(msg, sizeof(msg), fmt, aq);
	va_end(aq);
	if (!strncmp(msg, tag, sizeof(tag) - 1)) {
		n = strcspn(msg, "\n");
		msg[n] = 0;
		snprintf(ddp_extack, sizeof(ddp_extack), " (kernel: %.96s)",
			 msg + sizeof(tag) - 1);
	}
	return ddp_print_prev ? ddp_print_prev(level, fmt, ap) : 0;
}

/* One attach in one mode; the kernel's reason, if it gave one, in
 * ddp_extack. */
static int ddp_xdp_try(struct ddp_dev *d, __u32 mode_flag)
{
	int err;

	ddp_extack[0] = 0;
	ddp_print_prev = libbpf_set_print(ddp_print_extack);
	err = bpf_xdp_attach(d->ifindex, d->prog_fd[P_ddp_rx],
			     XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag, NULL);
	libbpf_set_print(ddp_print_prev);
	if (!err)
		d->xdp_flags = mode_flag;
	return err;
}

/* Native, else (auto) skb mode, but only when the driver has no native
 * XDP: any other error is the device's now, and said as it is. */
static int ddp_xdp_attach(struct ddp_dev *d, const char *ifname,
			  enum ddp_mode mode)
{
	int err;

	if (mode != DDP_MODE_SKB) {
		err = ddp_xdp_try(d, XDP_FLAGS_DRV_MODE);
		if (!err)
			return 0;
		if (err == -EOPNOTSUPP && mode == DDP_MODE_NATIVE)
			return ddp_err(
				d, err,
				"couldn't attach to '%s': native XDP unsupported%s; try --mode skb",
				ifname, ddp_extack);
		if (err != -EOPNOTSUPP)
			return ddp_err(
				d, err,
				"couldn't attach to '%s' in native mode: %s%s",
				ifname, strerror(-err), ddp_extack);
		snprintf(
			d->notice, sizeof(d->notice),
			"native XDP unsupported on '%s'%s: attached in skb (generic) mode",
			ifname, ddp_extack);
	}
	err = ddp_xdp_try(d, XDP_FLAGS_SKB_MODE);
	if (err)
		return ddp_err(d, err,
			       "couldn't attach to '%s' in skb mode: %s%s",
			       ifname, strerror(-err), ddp_extack);
	return 0;
}

int ddp_dev_attach(const char *ifname, const struct ddp_attach_opts *opts,
		   struct ddp_dev **out)
{
	struct ddp_attach_opts o = opts ? *opts : (struct ddp_attach_opts){ 0 };
	char name[BPF_OBJ_NAME_LEN];
	struct ddp_dev *d;
	__u32 ifindex, other;
	int err;

	*out = NULL;
	err = ddp_check_root();
	if (!err)
		err = ddp_check_bpffs();
	if (!err)
		err = ddp_ifindex(ifname, &ifindex);
	if (err)
		return err;
	other = ddp_xdp_attached(ifindex, name, sizeof(name));
	if (other && other == ddp_pinned_prog_id(ifname))
		return ddp_err0(
			-EEXIST,
			"the engine is already attached to '%s'; join it, or detach it first",
			ifname);
	if (other)
		return ddp_err0(
			-EBUSY,
			"'%s' already has XDP program '%s' (id %u), not the engine's: not replacing it; remove it first (ip link set dev %s xdp off)",
			ifname, name, other, ifname);
	if (ddp_pinned(ifname))
		return ddp_err0(
			-EEXIST,
			"an engine is pinned for '%s' but not attached to it; remove it first (ddpctl detach %s)",
			ifname, ifname);
	err = ddp_load_instance(&o.lim, &d);
	if (err)
		return err;
	snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
	d->ifindex = ifindex;
	err = ddp_xdp_attach(d, ifname, o.mode);
	if (err)
		goto fail;
	/* the kernel hands on partial checksums through veth and tun, and
	 * in skb mode; a NIC's frames carry full ones */
	d->skel->bss->ddp_csum_partial = d->xdp_flags == XDP_FLAGS_SKB_MODE ||
					 ddp_is_virtual(ifname);
	err = ddp_info_write(d, ifindex, ddp_netns_ino(), d->xdp_flags);
	if (!err)
		err = ddp_pin(d, ifname);
	if (err) {
		bpf_xdp_detach(ifindex, d->xdp_flags, NULL);
		goto fail;
	}
	*out = d;
	return 0;
fail:
	ddp_err0(err, "%s", d->err);
	ddp_dev_close(d);
	return err;
}

static int ddp_incompatible(const char *ifname, __u32 abi)
{
	return ddp_err0(
		-EPROTO,
		"the engine pinned in %s/%s is from an incompatible build (ABI %u, this build %u); run 'ddpctl detach %s' and attach again",
		DDP_PIN_ROOT, ifname, abi, DDP_ABI_VERSION, ifname);
}

/* Open the pinned maps and programs; check they are this build's. */
static int ddp_open_pins(struct ddp_dev *d, const char *ifname)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	struct ddp_info info;
	char path[256];
	__u32 zero = 0;
	int i;

	ddp_pin_path(path, sizeof(path), ifname, "ddp_info");
	d->map_fd[M_ddp_info] = bpf_obj_get(path);
	if (d->map_fd[M_ddp_info] < 0 ||
	    bpf_obj_get_info_by_fd(d->map_fd[M_ddp_info], &mi, &len) ||
	    mi.value_size != sizeof(info))
		return ddp_incompatible(ifname, 0);
	if (bpf_map_lookup_elem(d->map_fd[M_ddp_info], &zero, &info))
		return ddp_err0(-errno, "read of %s: %s", path,
				strerror(errno));
	if (info.abi_version != DDP_ABI_VERSION)
		return ddp_incompatible(ifname, info.abi_version);
	for (i = 0; i < DDP_MAP_NR; i++) {
		ddp_pin_path(path, sizeof(path), ifname, ddp_map_names[i]);
		if (d->map_fd[i] < 0)
			d->map_fd[i] = bpf_obj_get(path);
		if (d->map_fd[i] < 0)
			return ddp_incompatible(ifname, info.abi_version);
	}
	for (i = 0; i < DDP_PROG_NR; i++) {
		ddp_pin_path(path, sizeof(path), ifname, ddp_prog_names[i]);
		d->prog_fd[i] = bpf_obj_get(path);
		if (d->prog_fd[i] < 0)
			return ddp_incompatible(ifname, info.abi_version);
	}
	d->lim = (struct ddp_limits){ .max_flows = info.max_flows,
				      .tags_per_flow = info.tags_per_flow,
				      .buf_size = info.buf_size,
				      .io_threshold = info.io_threshold };
	d->csum_max = info.csum_max;
	d->ifindex = info.ifindex;
	d->xdp_flags = info.xdp_flags;
	if (info.netns_ino != ddp_netns_ino())
		return ddp_err0(
			-EXDEV,
			"the engine pinned for '%s' belongs to another network namespace",
			ifname);
	return 0;
}

int ddp_dev_join(const char *ifname, struct ddp_dev **out)
{
	struct ddp_dev *d;
	__u32 ifindex;
	int err;

	*out = NULL;
	err = ddp_check_root();
	if (!err)
		err = ddp_check_bpffs();
	if (!err)
		err = ddp_ifindex(ifname, &ifindex);
	if (err)
		return err;
	if (!ddp_pinned(ifname))
		return ddp_err0(
			-ENOENT,
			"no engine on '%s' (nothing pinned in %s/%s); attach one first (ddpctl attach %s)",
			ifname, DDP_PIN_ROOT, ifname, ifname);
	d = ddp_dev_new();
	if (!d)
		return ddp_err0(-ENOMEM, "out of memory");
	snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
	err = ddp_open_pins(d, ifname);
	if (!err && d->ifindex != ifindex)
		err = ddp_err0(
			-EXDEV,
			"the engine pinned for '%s' was attached to another device of that name",
			ifname);
	if (!err) {
		err = ddp_dev_setup_common(d);
		if (err)
			ddp_err0(err, "%s", d->err);
	}
	if (err) {
		ddp_dev_close(d);
		return err;
	}
	*out = d;
	return 0;
}

int ddp_dev_detach(const char *ifname)
{
	char name[BPF_OBJ_NAME_LEN];
	__u32 ifindex, ours, attached;
	char path[256];
	int err, fd;

	err = ddp_check_root();
	if (!err)
		err = ddp_check_bpffs();
	if (err)
		return err;
	if (!ddp_pinned(ifname)) {
		if (ddp_ifindex(ifname, &ifindex))
			return -ENODEV;
		return ddp_err0(-ENOENT,
				"no engine on '%s' (nothing pinned in %s/%s)",
				ifname, DDP_PIN_ROOT, ifname);
	}
	ifindex = if_nametoindex(ifname);
	ours = ddp_pinned_prog_id(ifname);
	attached = ifindex ? ddp_xdp_attached(ifindex, name, sizeof(name)) : 0;
	if (attached && attached == ours) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o);
		struct ddp_info info = { 0 };
		__u32 zero = 0;

		ddp_pin_path(path, sizeof(path), ifname, "ddp_info");
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bpf_map_lookup_elem(fd, &zero, &info);
			close(fd);
		}
		ddp_pin_path(path, sizeof(path), ifname, "ddp_rx");
		o.old_prog_fd = bpf_obj_get(path);
		err = bpf_xdp_detach(ifindex, info.xdp_flags, &o);
		close(o.old_prog_fd);
		if (err)
			return ddp_err0(err, "couldn't detach from '%s': %s",
					ifname, strerror(-err));
	}
	/* gone with its device, or replaced by someone: only unpin */
	ddp_unpin(ifname);
	return 0;
}

void ddp_dev_caps(const struct ddp_dev *d, struct ddp_caps *c)
{
	*c = (struct ddp_caps){
		.max_segs = DDP_MAX_SEGS,
		.io_threshold = d->lim.io_threshold,
		.max_flows = d->lim.max_flows,
		.max_tags = d->lim.max_flows * d->lim.tags_per_flow,
		.tags_per_flow = d->lim.tags_per_flow,
		.buf_size = d->lim.buf_size,
		.digests = NVME_TCP_DGST_HDR | NVME_TCP_DGST_DATA,
		.crc_offload = false,
		.full_cid_range = true,
		.csum_max = d->csum_max,
		.csum_partial = d->info->csum_partial,
		.ifindex = d->ifindex,
		.xdp_flags = d->xdp_flags,
	};
}

int ddp_xdp_prog_fd(const struct ddp_dev *d)
{
	return d->prog_fd[P_ddp_rx];
}

int ddp_map_fd(const struct ddp_dev *d, const char *name)
{
	int i;

	for (i = 0; i < DDP_MAP_NR; i++)
		if (!strcmp(ddp_map_names[i], name))
			return d->map_fd[i];
	return -ENOENT;
}
