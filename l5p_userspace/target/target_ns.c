// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * target_ns.c - the target's namespace: RAM (pages taken as written) or
 * a file, its blocks read, written and flushed, and the pattern.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "nvme/pattern.h"
#include "target_priv.h"

/* The namespace */

int ns_read(struct target *t, __u64 off, void *buf, size_t len)
{
	if (t->mem) {
		memcpy(buf, t->mem + off, len);
		return 0;
	}
	while (len) {
		ssize_t r = pread(t->fd, buf, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r) { /* the file shrank: what is gone reads as zeros */
			memset(buf, 0, len);
			return 0;
		}
		buf = (__u8 *)buf + r;
		off += r;
		len -= r;
	}
	return 0;
}

int ns_write(struct target *t, __u64 off, const void *buf, size_t len)
{
	if (t->mem) {
		memcpy(t->mem + off, buf, len);
		return 0;
	}
	while (len) {
		ssize_t r = pwrite(t->fd, buf, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -ENOSPC;
		buf = (const __u8 *)buf + r;
		off += r;
		len -= r;
	}
	return 0;
}

int ns_flush(struct target *t)
{
	return t->fd >= 0 && fdatasync(t->fd) ? -errno : 0;
}

static int ns_fill_pattern(struct target *t)
{
	static __u8 buf[1 << 20];
	__u64 off;
	size_t n;
	int err;

	for (off = 0; off < t->size; off += n) {
		n = t->size - off < sizeof(buf) ? t->size - off : sizeof(buf);
		if (t->mem) {
			ddp_pattern_fill(t->mem + off, off, n);
			continue;
		}
		ddp_pattern_fill(buf, off, n);
		err = ns_write(t, off, buf, n);
		if (err)
			return err;
	}
	return 0;
}

int ns_open(struct target *t, char *errbuf, size_t errlen)
{
	const char *what;
	off_t end;
	int err;

	if (!t->o.file) {
		t->size = t->o.size;
		/* pages are only taken as written */
		t->mem = mmap(NULL, t->size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			      0);
		if (t->mem == MAP_FAILED) {
			t->mem = NULL;
			snprintf(
				errbuf, errlen,
				"couldn't allocate %llu bytes of namespace: %s",
				(unsigned long long)t->size, strerror(errno));
			return -1;
		}
		what = "memory";
	} else {
		t->fd = open(t->o.file, O_RDWR | O_CLOEXEC);
		end = t->fd < 0 ? -1 : lseek(t->fd, 0, SEEK_END);
		if (end < 0) {
			snprintf(errbuf, errlen, "couldn't open %s: %s",
				 t->o.file, strerror(errno));
			return -1;
		}
		t->size = (__u64)end & ~((1ull << TGT_LBA_SHIFT) - 1);
		if (!t->size) {
			snprintf(errbuf, errlen,
				 "%s is smaller than one 512-byte block",
				 t->o.file);
			return -1;
		}
		what = t->o.file;
	}
	if (t->o.pattern) {
		err = ns_fill_pattern(t);
		if (err) {
			snprintf(errbuf, errlen,
				 "couldn't write the pattern to %s: %s", what,
				 strerror(-err));
			return -1;
		}
	}
	return 0;
}
