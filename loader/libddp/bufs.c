// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bufs.c - destination buffers in the buffer region, and what the tags of
 * this process point at.
 *
 * The region is shared by every process using the instance, so it is
 * shared out in DDP_CHUNK_SIZE chunks: a process claims chunks through
 * the engine's ddp_chunk_get (ddp_info, which holds who owns what, is
 * read-only to everyone else), and those of a process that is gone are
 * free again only once it has been reaped (owner.c). Inside its chunks a
 * process allocates in 256-byte granules, first fit; a buffer larger than
 * half a chunk takes a run of whole chunks of its own, and AF_XDP frames
 * take whole chunks marked as theirs, where no tag may point.
 */
#include <errno.h>
#include <stdio.h>
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

/* [a, a + alen) and [b, b + blen) intersect */
static bool overlap(__u32 a, __u32 alen, __u32 b, __u32 blen)
{
	return a < b + blen && b < a + alen;
}

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

static int chunks_run(struct ddp_dev *d, enum ddp_prog_idx p, __u32 c, __u32 n,
		      __u32 flags)
{
	struct ddp_ctl_chunks a = {
		.owner = d->owner, .first = c, .n = n, .flags = flags
	};

	return ddp_ctl_run(d, p, &a, sizeof(a));
}

static void chunk_put(struct ddp_dev *d, __u32 c, __u32 n)
{
	chunks_run(d, P_ddp_chunk_put, c, n, 0);
}

/* Claim chunks [c, c + n): all of them, or none. */
static bool chunk_get(struct ddp_dev *d, __u32 c, __u32 n, __u32 flags)
{
	return chunks_run(d, P_ddp_chunk_get, c, n, flags) == 0;
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
		    !chunk_get(d, c, 1, 0))
			continue;
		a->bits[c] = calloc(GRANULES / 64, sizeof(__u64));
		if (!a->bits[c]) {
			chunk_put(d, c, 1);
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

static int alloc_whole(struct ddp_dev *d, __u32 size, __u32 align, __u32 flags,
		       __u32 *off)
{
	struct ddp_alloc *a = d->alloc;
	__u32 n = (size + DDP_CHUNK_SIZE - 1) / DDP_CHUNK_SIZE;
	__u32 step = align > DDP_CHUNK_SIZE ? align / DDP_CHUNK_SIZE : 1;
	__u32 c, k;

	for (c = 0; c + n <= a->nchunks; c += step) {
		if (chunk_len(d, c + n - 1) < (size - (n - 1) * DDP_CHUNK_SIZE))
			continue;
		for (k = 0; k < n && !a->bits[c + k]; k++)
			;
		if (k < n || !chunk_get(d, c, n, flags))
			continue;
		*off = c * DDP_CHUNK_SIZE;
		if (block_add(a, *off, size, true)) {
			chunk_put(d, c, n);
			return -ENOMEM;
		}
		return 0;
	}
	return -ENOSPC;
}

static int buf_alloc(struct ddp_dev *d, __u32 size, __u32 align, __u32 flags,
		     __u32 *off)
{
	struct ddp_alloc *a = d->alloc;
	int err;

	pthread_mutex_lock(&a->lock);
	if (flags || size > DDP_CHUNK_SIZE / 2 || align > DDP_CHUNK_SIZE / 2)
		err = alloc_whole(d, size, align, flags, off);
	else
		err = alloc_small(d, size, align, off);
	pthread_mutex_unlock(&a->lock);
	return err;
}

static int buf_alloc_any(struct ddp_dev *d, __u32 size, __u32 align,
			 __u32 flags, __u32 *off)
{
	int err;

	if (!align)
		align = 64;
	if (!size || align & (align - 1) || size > d->lim.buf_size)
		return ddp_err(
			d, -EINVAL,
			"buffer of %u bytes aligned to %u: size 1 to %u, alignment a power of 2",
			size, align, d->lim.buf_size);
	err = ddp_owner_ensure(d);
	if (err)
		return err;
	err = buf_alloc(d, size, align, flags, off);
	/* chunks of processes that are gone may be had once reaped */
	if (err == -ENOSPC && ddp_dev_reap(d, NULL, 0) > 0)
		err = buf_alloc(d, size, align, flags, off);
	if (err == -ENOSPC)
		return ddp_err(
			d, err,
			"no room for %u bytes in the %u-byte buffer region",
			size, d->lim.buf_size);
	return err ? ddp_err(d, err, "out of memory") : 0;
}

int ddp_region_chunks_held(struct ddp_dev *d, __u32 *held, __u32 *total)
{
	__u32 c, n = (d->lim.buf_size + DDP_CHUNK_SIZE - 1) / DDP_CHUNK_SIZE;

	*held = 0;
	for (c = 0; c < n && c < DDP_CHUNKS_MAX; c++)
		*held += __atomic_load_n(&d->info->chunk_owner[c],
					 __ATOMIC_RELAXED) != 0;
	*total = n;
	return 0;
}

int ddp_buf_alloc(struct ddp_dev *d, __u32 size, __u32 align, __u32 *off)
{
	return buf_alloc_any(d, size, align, 0, off);
}

int ddp_buf_alloc_frames(struct ddp_dev *d, __u32 size, __u32 *off)
{
	return buf_alloc_any(d, size, DDP_CHUNK_SIZE, DDP_CHUNK_FRAMES, off);
}

__u8 *ddp_buf_mem(const struct ddp_dev *d)
{
	return d->bufs;
}

__u32 ddp_buf_size(const struct ddp_dev *d)
{
	return d->lim.buf_size;
}

/* Forget block i; chunks no longer used go back to the region unless the
 * process is leaving (its chunks are freed with its owner slot then). */
static void block_del(struct ddp_dev *d, size_t i, bool put)
{
	struct ddp_alloc *a = d->alloc;
	struct ddp_block b = a->blocks[i];
	__u32 c = b.off / DDP_CHUNK_SIZE;

	a->blocks[i] = a->blocks[--a->nblocks];
	if (b.whole) {
		if (put)
			chunk_put(d, c,
				  (b.len + DDP_CHUNK_SIZE - 1) /
					  DDP_CHUNK_SIZE);
		return;
	}
	bits_set(a->bits[c], b.off % DDP_CHUNK_SIZE / GRANULE, b.len / GRANULE,
		 false);
	if (fit(a->bits[c], chunk_len(d, c) / GRANULE,
		chunk_len(d, c) / GRANULE, 1) == 0) {
		free(a->bits[c]);
		a->bits[c] = NULL;
		if (put)
			chunk_put(d, c, 1);
	}
}

/* A live tag of ours points into [off, off + len): its buffer is not ours
 * to give away yet. */
static const struct ddp_live *live_in(struct ddp_dev *d, __u32 off, __u32 len)
{
	size_t i;

	for (i = 0; i < d->nlive; i++)
		if (overlap(off, len, d->live[i].start,
			    d->live[i].end - d->live[i].start))
			return &d->live[i];
	return NULL;
}

int ddp_buf_free(struct ddp_dev *d, __u32 off)
{
	struct ddp_alloc *a = d->alloc;
	const struct ddp_live *l;
	size_t i;
	int err = 0;

	pthread_mutex_lock(&d->live_lock);
	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->nblocks && a->blocks[i].off != off; i++)
		;
	if (i == a->nblocks) {
		err = ddp_err(
			d, -ENOENT,
			"free of %u: no buffer of this process starts there",
			off);
	} else if ((l = live_in(d, off, a->blocks[i].len))) {
		err = ddp_err(
			d, -EBUSY,
			"free of %u: tag %u of flow %u still points into it; free it after its teardown_done",
			off, l->tag, l->flow_id);
	} else {
		block_del(d, i, true);
	}
	pthread_mutex_unlock(&a->lock);
	pthread_mutex_unlock(&d->live_lock);
	return err;
}

/* ---- what our tags point at -------------------------------------------- */

int ddp_live_check(struct ddp_dev *d, __u16 cid, const struct ddp_seg *segs,
		   __u32 nsegs)
{
	const struct ddp_live *l;
	__u32 i, k;

	for (i = 0; i < nsegs; i++) {
		for (k = 0; k < i; k++)
			if (overlap(segs[i].addr, segs[i].len, segs[k].addr,
				    segs[k].len))
				return ddp_err(
					d, -EINVAL,
					"setup cid %u: segments %u and %u overlap",
					cid, k, i);
		l = live_in(d, segs[i].addr, segs[i].len);
		if (l && l->tag == DDP_NO_TAG) /* of one ddp_setup_many */
			return ddp_err(
				d, -EBUSY,
				"setup cid %u: segment %u [%u, +%u) overlaps the buffer of another read set up with it",
				cid, i, segs[i].addr, segs[i].len);
		if (l)
			return ddp_err(
				d, -EBUSY,
				"setup cid %u: segment %u [%u, +%u) overlaps the buffer of live tag %u of flow %u",
				cid, i, segs[i].addr, segs[i].len, l->tag,
				l->flow_id);
	}
	if (d->nlive + nsegs > d->live_cap) {
		size_t cap = (d->nlive + nsegs) * 2 + 16;
		struct ddp_live *n = realloc(d->live, cap * sizeof(*n));

		if (!n)
			return ddp_err(d, -ENOMEM, "out of memory");
		d->live = n;
		d->live_cap = cap;
	}
	return 0;
}

void ddp_live_add(struct ddp_dev *d, __u32 flow_id, __u32 tag,
		  const struct ddp_seg *segs, __u32 nsegs)
{
	__u32 i;

	for (i = 0; i < nsegs; i++)
		d->live[d->nlive++] = (struct ddp_live){
			.flow_id = flow_id,
			.tag = tag,
			.start = segs[i].addr,
			.end = segs[i].addr + segs[i].len,
		};
}

void ddp_live_del(struct ddp_dev *d, __u32 flow_id, __u32 tag, bool all)
{
	size_t i = 0;

	pthread_mutex_lock(&d->live_lock);
	while (i < d->nlive) {
		const struct ddp_live *l = &d->live[i];

		if (l->flow_id == flow_id && (all || l->tag == tag))
			d->live[i] = d->live[--d->nlive];
		else
			i++;
	}
	pthread_mutex_unlock(&d->live_lock);
}

void ddp_alloc_fini(struct ddp_dev *d)
{
	struct ddp_alloc *a = d->alloc;
	__u32 c;

	if (!a)
		return;
	/* what this process still holds goes back to the region, unless it
	 * was an owner: its chunks went with its slot then (owner.c) */
	while (a->nblocks)
		block_del(d, 0, false);
	for (c = 0; c < a->nchunks; c++)
		free(a->bits[c]);
	free(a->blocks);
	pthread_mutex_destroy(&a->lock);
	free(a);
	d->alloc = NULL;
}
