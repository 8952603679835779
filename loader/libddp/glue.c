// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * glue.c - an attached engine and kmod_glue's API for in-kernel L5Ps
 * (kmod_glue/tcp_ddp.h): bound when it is attached with the module
 * loaded, so that the module runs the same control programs on the same
 * maps; unbound when it is detached, the module deleting the flows its
 * L5Ps added.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "libddp_priv.h"

int ddp_glue_bind(struct ddp_dev *d)
{
#define DDP_PROG_OF(name) P_ddp_##name,
	static const enum ddp_prog_idx progs[DDP_BIND_PROG_NR] = {
		DDP_BIND_PROGS(DDP_PROG_OF)
	};
#undef DDP_PROG_OF
	struct ddp_bind_req r = { .ifindex = d->ifindex,
				  .abi_version = DDP_ABI_VERSION };
	int fd, token, err = 0, i;
	__u32 id;

	for (i = 0; i < DDP_BIND_PROG_NR; i++)
		r.prog_fd[i] = d->prog_fd[progs[i]];
	r.map_fd[DDP_BIND_flows] = d->map_fd[M_ddp_flows];
	r.map_fd[DDP_BIND_recs] = d->map_fd[M_ddp_recs];
	r.map_fd[DDP_BIND_info] = d->map_fd[M_ddp_info];
	fd = open(DDP_KMOD_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return ddp_err(d, -errno, "open %s: %s", DDP_KMOD_DEV,
			       strerror(errno));
	/* the module's own: it holds it while bound */
	token = ddp_token_new(&id);
	r.map_fd[DDP_BIND_token] = token;
	if (token < 0)
		err = token;
	else if (ioctl(fd, DDP_IOC_BIND, &r))
		err = -errno;
	if (token >= 0)
		close(token);
	close(fd);
	if (err)
		return ddp_err(
			d, err,
			"binding the engine to kmod_glue's in-kernel API (" DDP_KMOD_NAME
			"): %s",
			strerror(-err));
	return 0;
}

int ddp_glue_unbind(__u32 ifindex)
{
	int fd = open(DDP_KMOD_DEV, O_RDWR | O_CLOEXEC), err = 0;

	/* no module: nothing bound */
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (ioctl(fd, DDP_IOC_UNBIND, &ifindex) && errno != ENOENT)
		err = -errno;
	close(fd);
	return err;
}
