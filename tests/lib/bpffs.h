/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bpffs.h - a BPF filesystem of the test's own.
 */
#ifndef TESTS_BPFFS_H
#define TESTS_BPFFS_H

/* Move this process into a mount namespace of its own with a fresh BPF
 * filesystem on /sys/fs/bpf: what it pins there (the engine's pins under
 * /sys/fs/bpf/ddp) goes with the process, however it ends, and no other
 * run sees it. 0 or -errno. */
int bpffs_private(void);

#endif /* TESTS_BPFFS_H */
