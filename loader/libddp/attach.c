// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * attach.c - an instance on a device: attach (load, attach in native or
 * skb mode, pin), join through the pins, detach and unpin.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "libddp_priv.h"
#include "ddp.skel.h"

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

/* An ethtool query of ifname: 0, or -1 if it has none. */
static int ddp_ethtool(const char *ifname, void *cmd)
{
	struct ifreq ifr = { .ifr_data = cmd };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	return err ? -1 : 0;
}

static bool ddp_driver_is(const char *ifname, const char *driver)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };

	return !ddp_ethtool(ifname, &di) && !strcmp(di.driver, driver);
}

/* veth or tun: devices whose frames come from a sender on this host */
static bool ddp_is_virtual(const char *ifname)
{
	return ddp_driver_is(ifname, "veth") || ddp_driver_is(ifname, "tun");
}

/* virtio-net gives XDP TX queues of its own (a queue pair per possible
 * CPU) only from the queue pairs the stack does not use: when combined +
 * possible CPUs <= max combined (virtnet_xdp_set). Without them, Linux
 * 5.13 and later share the stack's TX queues, locked; older kernels refuse
 * the attach (ENOMEM). The engine only redirects to AF_XDP sockets, which
 * need none. True, the rule with this NIC's figures in buf, when it is not
 * met. */
static bool ddp_virtio_queues(const char *ifname, char *buf, size_t len)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	/* the possible CPUs, as the counters' per-CPU values are read: the
	 * kernel's nr_cpu_ids where they are numbered without a hole */
	int ncpu = libbpf_num_possible_cpus();
	unsigned int cpus = ncpu > 0 ? ncpu : 0, n;

	if (!ddp_driver_is(ifname, "virtio_net") || ddp_ethtool(ifname, &ch))
		return false;
	if (!cpus || ch.combined_count + cpus <= ch.max_combined)
		return false;
	n = snprintf(buf, len,
		     "'%s' (virtio-net): XDP has TX queues of its own when combined + possible CPUs <= max, here %u + %u > %u: ",
		     ifname, ch.combined_count, cpus, ch.max_combined);
	if (n < len && ch.max_combined > cpus)
		snprintf(buf + n, len - n,
			 "ethtool -L %s combined %u, or more queues in the VM",
			 ifname, ch.max_combined - cpus);
	else if (n < len)
		snprintf(buf + n, len - n,
			 "more queues in the VM (%u for combined 1)",
			 cpus + 1);
	return true;
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
		char vq[DDP_MSG_LEN / 2];
		bool short_q, vq_refused;

		/* counted before XDP takes what it takes */
		short_q = ddp_virtio_queues(ifname, vq, sizeof(vq));
		err = ddp_xdp_try(d, XDP_FLAGS_DRV_MODE);
		if (!err) {
			if (short_q)
				snprintf(d->notice, sizeof(d->notice),
					 "%s; until then XDP_TX shares the stack's, locked (the engine does not use it)",
					 vq);
			return 0;
		}
		if (err == -EOPNOTSUPP && mode == DDP_MODE_NATIVE)
			return ddp_err(
				d, err,
				"couldn't attach to '%s': native XDP unsupported%s; try --mode skb",
				ifname, ddp_extack);
		/* the queues are the reason only where virtio-net refuses
		 * for them (before 5.13): ENOMEM */
		vq_refused = short_q && err == -ENOMEM;
		if (err != -EOPNOTSUPP)
			return ddp_err(
				d, err,
				"couldn't attach to '%s' in native mode: %s%s%s%s",
				ifname, strerror(-err), ddp_extack,
				vq_refused ? "; " : "", vq_refused ? vq : "");
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
	/* in-kernel L5Ps may use it once the module holds it */
	if (!err && d->pin_kfunc) {
		err = ddp_glue_bind(d);
		if (err)
			ddp_unpin(ifname);
	}
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
				      .io_threshold = info.io_threshold,
				      .tag_pool = info.tag_pool,
				      .seg_pool = info.seg_pool,
				      .rec_ring = info.rec_ring,
				      .rec_pool = info.rec_pool,
				      .no_ddgst_offload = !info.ddgst_offload,
				      .no_kfuncs = !info.crc_kfunc };
	d->csum_max = info.csum_max;
	d->crc_kfunc = info.crc_kfunc;
	d->pin_kfunc = info.pin_kfunc;
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
	/* the flows of in-kernel L5Ps go first, while the engine places */
	err = ifindex ? ddp_glue_unbind(ifindex) : 0;
	if (err)
		return ddp_err0(err,
				"kmod_glue could not let go of the engine on '%s': %s",
				ifname, strerror(-err));
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
