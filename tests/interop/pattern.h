/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pattern.h - the contents of the interop target's namespace: every 8-byte
 * word at device offset w (a multiple of 8) holds w ^ DDP_PATTERN_XOR,
 * little-endian. Any byte of a read can then be checked knowing only its
 * device offset, and a byte placed at the wrong offset (even a multiple of
 * 8 away) does not match.
 */
#ifndef TESTS_INTEROP_PATTERN_H
#define TESTS_INTEROP_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define DDP_PATTERN_XOR 0x5a5a5a5a5a5a5a5aULL

/* The byte at absolute device offset off. */
static inline uint8_t ddp_pattern_byte(uint64_t off)
{
	uint64_t word = (off & ~7ULL) ^ DDP_PATTERN_XOR;

	return (uint8_t)(word >> ((off & 7) * 8));
}

/* Fills buf with the len bytes that start at device offset off. */
static inline void ddp_pattern_fill(void *buf, uint64_t off, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = ddp_pattern_byte(off + i);
}

/*
 * Checks len bytes read from device offset off: returns the index of the
 * first wrong byte, or len if all are right.
 */
static inline size_t ddp_pattern_check(const void *buf, uint64_t off,
				       size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != ddp_pattern_byte(off + i))
			return i;
	return len;
}

#endif /* TESTS_INTEROP_PATTERN_H */
