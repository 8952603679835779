// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pins.c - buffers of this process's memory that tags may place into,
 * pinned by kmod_glue's module through its device (DDP_KMOD_DEV). The
 * device is opened at the first pin and closed with the instance: the
 * module then unpins whatever is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "libddp_priv.h"

int ddp_pin_buf(struct ddp_dev *d, void *buf, size_t len, __u64 *pin)
{
	struct ddp_pin_req r = { .addr = (uintptr_t)buf, .len = len };
	int fd, err = 0;

	if (!d->pin_kfunc)
		return ddp_err(
			d, -EOPNOTSUPP,
			"pin: the engine was loaded without kmod_glue's module (" DDP_KMOD_NAME
			"): tags place into the buffer region only");
	if (!len || len > DDP_PIN_MAX)
		return ddp_err(d, -EINVAL, "pin: %zu bytes; 1 to %llu allowed",
			       len, DDP_PIN_MAX);
	pthread_mutex_lock(&d->lock);
	if (d->pin_fd < 0)
		d->pin_fd = open(DDP_KMOD_DEV, O_RDWR | O_CLOEXEC);
	fd = d->pin_fd;
	if (fd < 0)
		err = -errno;
	pthread_mutex_unlock(&d->lock);
	if (err)
		return ddp_err(d, err, "pin: open %s: %s", DDP_KMOD_DEV,
			       strerror(-err));
	if (ioctl(fd, DDP_IOC_PIN, &r))
		return ddp_err(
			d, -errno, "pin of %zu bytes at %p: %s", len, buf,
			errno == EINVAL ?
				"not all of it private anonymous memory (malloc, MAP_PRIVATE | MAP_ANONYMOUS): a file's or a shared mapping is not pinned" :
				strerror(errno));
	*pin = r.id;
	return 0;
}

int ddp_unpin_buf(struct ddp_dev *d, __u64 pin)
{
	struct ddp_pin_req r = { .id = pin };

	if (d->pin_fd < 0 || ioctl(d->pin_fd, DDP_IOC_UNPIN, &r))
		return ddp_err(d, d->pin_fd < 0 ? -ENOENT : -errno,
			       "unpin %#llx: %s", (unsigned long long)pin,
			       d->pin_fd < 0 || errno == ENOENT ?
				       "not a pin of this instance" :
				       strerror(errno));
	return 0;
}
