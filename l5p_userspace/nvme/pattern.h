/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pattern.h - the content a target's namespace holds in pattern mode, so
 * that a host can verify any read without knowing what was written: each
 * 8-byte word holds its own byte offset in the namespace, xored with
 * 0x5a5a5a5a5a5a5a5a, little-endian. The kernel-target interop image
 * writes the same bytes.
 */
#ifndef L5P_PATTERN_H
#define L5P_PATTERN_H

#ifdef __KERNEL__ /* the in-kernel test L5P's too (kmod_glue/test_l5p) */
#include <linux/types.h>
#else
#include <stdint.h>
#include <stddef.h>
#endif

#define DDP_PATTERN_XOR 0x5a5a5a5a5a5a5a5aULL

static inline uint8_t ddp_pattern_byte(uint64_t off)
{
	return (uint8_t)(((off & ~7ULL) ^ DDP_PATTERN_XOR) >> (8 * (off & 7)));
}

/* Fill buf with the pattern of [off, off + len). */
static inline void ddp_pattern_fill(uint8_t *buf, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = ddp_pattern_byte(off + i);
}

/* The first offset in [off, off + len) whose byte is wrong, or -1. */
static inline int64_t ddp_pattern_check(const uint8_t *buf, uint64_t off,
					size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != ddp_pattern_byte(off + i))
			return (int64_t)(off + i);
	return -1;
}

#endif /* L5P_PATTERN_H */
