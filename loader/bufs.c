// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bufs.c - destination buffers in the buffer region.
 *
 * The region is shared by every process using the instance, so it is
 * shared out in DDP_CHUNK_SIZE chunks: a process claims a chunk with a
 * compare-and-swap of ddp_info.chunk_owner[] (its pid) through mmap, and
 * a chunk whose owner died may be claimed again. Inside its chunks a
 * process allocates in 256-byte granules, first fit; a buffer larger than
 * half a chunk takes a run of whole chunks of its own.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libddp_priv.h"

#define GRANULE 256
#define GRANULES (DDP_CHUNK_SIZE / GRANULE)

struct ddp_block {
	__u32 off, len; /* len in bytes as allocated (granules or chunks) */
	bool whole; /* a run of whole chunks */
};

struct ddp_alloc {
	pthread_mutex_t lock;
	__u32 nchunks;
	__u64 *bits[DDP_CHUNKS_MAX]; /* granules used, in chunks we split */
	struct ddp_block *blocks; /* live allocations */
	size_t nblocks, cap;
};

int ddp_alloc_init(struct ddp_dev *d)
{
	struct ddp_alloc *a = calloc(1, sizeof(*a));

	if (!a)
		return ddp_err(d, -ENOMEM, "out of memory");
	pthread_mutex_init(&a->lock, NULL);
	a->nchunks = (d->lim.buf_size + DDP_CHUNK_SIZE - 1) / DDP_CHUNK_SIZE;
	d->alloc = a;
	return 0;
}

static void chunk_put(struct ddp_dev *d, __u32 c)
{
	__atomic_store_n(&d->info->chunk_owner[c], 0, __ATOMIC_RELEASE);
}

/* Claim chunk c: free, or owned by a process that no longer exists. */
static bool chunk_get(struct ddp_dev *d, __u32 c)
{
	__u32 *owner = &d->info->chunk_owner[c], cur = 0;
	__u32 me = getpid();

	if (__atomic_compare_exchange_n(owner, &cur, me, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return true;
	if (cur == me || kill(cur, 0) == 0 || errno != ESRCH)
		return false;
	return __atomic_compare_exchange_n(owner, &cur, me, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static __u32 chunk_len(const struct ddp_dev *d, __u32 c)
{
	__u32 end = (c + 1) * DDP_CHUNK_SIZE;

	return end > d->lim.buf_size ? d->lim.buf_size - c * DDP_CHUNK_SIZE :
				       DDP_CHUNK_SIZE;
}

static bool bit(const __u64 *b, __u32 i)
{
	return b[i / 64] >> (i % 64) & 1;
}

static void bits_set(__u64 *b, __u32 from, __u32 n, bool on)
{
	__u32 i;

	for (i = from; i < from + n; i++)
		if (on)
			b[i / 64] |= 1ULL << (i % 64);
		else
			b[i / 64] &= ~(1ULL << (i % 64));
}

/* First fit of n granules aligned to ag granules in a split chunk. */
static long fit(const __u64 *b, __u32 limit, __u32 n, __u32 ag)
{
	__u32 i, k;

	for (i = 0; i + n <= limit; i += ag) {
		for (k = 0; k < n && !bit(b, i + k); k++)
			;
		if (k == n)
			return i;
	}
	return -1;
}

static int block_add(struct ddp_alloc *a, __u32 off, __u32 len, bool whole)
{
	if (a->nblocks == a->cap) {
		size_t cap = a->cap * 2 + 16;
		struct ddp_block *b = realloc(a->blocks, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		a->blocks = b;
		a->cap = cap;
	}
	a->blocks[a->nblocks++] = (struct ddp_block){ off, len, whole };
	return 0;
}

static int alloc_small(struct ddp_dev *d, __u32 size, __u32 align, __u32 *off)
{
	struct ddp_alloc *a = d->alloc;
	__u32 n = (size + GRANULE - 1) / GRANULE;
	__u32 ag = align > GRANULE ? align / GRANULE : 1, c;
	long g;

	for (c = 0; c < a->nchunks; c++) {
		if (!a->bits[c])
			continue;
		g = fit(a->bits[c], chunk_len(d, c) / GRANULE, n, ag);
		if (g >= 0)
			goto found;
	}
	for (c = 0; c < a->nchunks; c++) {
		if (a->bits[c] || chunk_len(d, c) < n * GRANULE ||
		    !chunk_get(d, c))
			continue;
		a->bits[c] = calloc(GRANULES / 64, sizeof(__u64));
		if (!a->bits[c]) {
			chunk_put(d, c);
			return -ENOMEM;
		}
		g = 0;
		goto found;
	}
	return -ENOSPC;
found:
	*off = c * DDP_CHUNK_SIZE + g * GRANULE;
	if (block_add(a, *off, n * GRANULE, false))
		return -ENOMEM;
	bits_set(a->bits[c], g, n, true);
	return 0;
}

static int alloc_whole(struct ddp_dev *d, __u32 size, __u32 align, __u32 *off)
{
	struct ddp_alloc *a = d->alloc;
	__u32 n = (size + DDP_CHUNK_SIZE - 1) / DDP_CHUNK_SIZE;
	__u32 step = align > DDP_CHUNK_SIZE ? align / DDP_CHUNK_SIZE : 1;
	__u32 c, k;

	for (c = 0; c + n <= a->nchunks; c += step) {
		if (chunk_len(d, c + n - 1) < (size - (n - 1) * DDP_CHUNK_SIZE))
			continue;
		for (k = 0; k < n && !a->bits[c + k] && chunk_get(d, c + k);
		     k++)
			;
		if (k == n) {
			*off = c * DDP_CHUNK_SIZE;
			return block_add(a, *off, size, true);
		}
		while (k--)
			chunk_put(d, c + k);
	}
	return -ENOSPC;
}

int ddp_buf_alloc(struct ddp_dev *d, __u32 size, __u32 align, __u32 *off)
{
	struct ddp_alloc *a = d->alloc;
	int err;

	if (!align)
		align = 64;
	if (!size || align & (align - 1) || size > d->lim.buf_size)
		return ddp_err(
			d, -EINVAL,
			"buffer of %u bytes aligned to %u: size 1 to %u, alignment a power of 2",
			size, align, d->lim.buf_size);
	pthread_mutex_lock(&a->lock);
	if (size > DDP_CHUNK_SIZE / 2 || align > DDP_CHUNK_SIZE / 2)
		err = alloc_whole(d, size, align, off);
	else
		err = alloc_small(d, size, align, off);
	pthread_mutex_unlock(&a->lock);
	if (err == -ENOSPC)
		return ddp_err(
			d, err,
			"no room for %u bytes in the %u-byte buffer region",
			size, d->lim.buf_size);
	return err ? ddp_err(d, err, "out of memory") : 0;
}

void ddp_buf_free(struct ddp_dev *d, __u32 off)
{
	struct ddp_alloc *a = d->alloc;
	struct ddp_block b;
	__u32 c, k;
	size_t i;

	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->nblocks && a->blocks[i].off != off; i++)
		;
	if (i == a->nblocks) {
		pthread_mutex_unlock(&a->lock);
		return;
	}
	b = a->blocks[i];
	a->blocks[i] = a->blocks[--a->nblocks];
	c = off / DDP_CHUNK_SIZE;
	if (b.whole) {
		for (k = 0; k * DDP_CHUNK_SIZE < b.len; k++)
			chunk_put(d, c + k);
	} else {
		bits_set(a->bits[c], off % DDP_CHUNK_SIZE / GRANULE,
			 b.len / GRANULE, false);
		if (fit(a->bits[c], chunk_len(d, c) / GRANULE,
			chunk_len(d, c) / GRANULE, 1) == 0) {
			free(a->bits[c]);
			a->bits[c] = NULL;
			chunk_put(d, c);
		}
	}
	pthread_mutex_unlock(&a->lock);
}

void ddp_alloc_fini(struct ddp_dev *d)
{
	struct ddp_alloc *a = d->alloc;
	__u32 c;

	if (!a)
		return;
	/* what this process still holds goes back to the region */
	while (a->nblocks)
		ddp_buf_free(d, a->blocks[0].off);
	for (c = 0; c < a->nchunks; c++)
		free(a->bits[c]);
	free(a->blocks);
	pthread_mutex_destroy(&a->lock);
	free(a);
	d->alloc = NULL;
}
