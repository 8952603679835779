// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpffs.c - a BPF filesystem of the test's own.
 */
#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include "bpffs.h"

int bpffs_private(void)
{
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
		return -errno;
	return 0;
}
