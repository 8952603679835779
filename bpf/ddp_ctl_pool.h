/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ddp_ctl_pool.h - the three pools the control programs hand out from:
 * blocks of segment entries (a tag's segments), runs of tag slots (a
 * flow's tags) and rings of records (a flow's records). Each is a bitmap
 * of blocks in 64-bit words: a claim takes the lowest run that fits in
 * one word with a compare-and-swap, searching from where the last claim
 * or put left off; a put clears the bits. Included by ddp_ctl.h only,
 * after its common part.
 */
#ifndef DDP_CTL_POOL_H
#define DDP_CTL_POOL_H

enum ddp_pool {
	DDP_POOL_SEGS,
	DDP_POOL_TAGS,
	DDP_POOL_RECS,
};

/* Word w of a pool's bitmap */
static __always_inline __u64 *ddp_pool_word(__u32 pool, __u32 w)
{
	return pool == DDP_POOL_TAGS ? bpf_map_lookup_elem(&ddp_tag_map, &w) :
	       pool == DDP_POOL_RECS ? bpf_map_lookup_elem(&ddp_rec_map, &w) :
				       bpf_map_lookup_elem(&ddp_seg_map, &w);
}

/* Where a pool's next claim looks first */
static __always_inline __u32 *ddp_pool_next(__u32 pool)
{
	return pool == DDP_POOL_TAGS ? &ddp_tag_next :
	       pool == DDP_POOL_RECS ? &ddp_rec_next :
				       &ddp_seg_next;
}

/* Give blocks back (mask in word w); the word becomes the first place
 * the next claim looks if it is below it. */
static __always_inline void ddp_pool_put(__u32 pool, __u32 w, __u64 mask)
{
	__u64 *word = ddp_pool_word(pool, w);
	__u32 *next = ddp_pool_next(pool);

	if (!word || !mask)
		return;
	__sync_fetch_and_and(word, ~mask);
	if (w < READ_ONCE(*next))
		WRITE_ONCE(*next, w);
}

struct ddp_pool_claim {
	__u32 pool; /* enum ddp_pool */
	__u32 first_word; /* where the search starts */
	__u32 nwords;
	__u32 nblocks; /* in the pool: past them, the last word is all taken */
	__u32 k; /* blocks wanted, 1 .. DDP_POOL_WORD */
	__u32 word; /* out */
	__u64 mask; /* out: 0 if none was found */
};

/* Bit j of the result: blocks j .. j + k - 1 of a word with bitmap v are
 * all free. A run of len free blocks at j and one at j + step (step at
 * most len) make one of len + step. */
static __always_inline __u64 ddp_pool_fit(__u64 v, __u32 k)
{
	__u64 f = ~v;
	__u32 len = 1, step;
	int i;

#pragma unroll
	for (i = 0; i < 6; i++) { /* log2(DDP_POOL_WORD) */
		step = len >= k ? 0 : k - len < len ? k - len : len;
		f &= f >> step;
		len += step;
	}
	return f;
}

/* Index of the one bit set in b: halving the window where it lies */
static __always_inline __u32 ddp_bit_index(__u64 b)
{
	__u32 j = 0, half;
	int i;

#pragma unroll
	for (i = 5; i >= 0; i--) {
		half = 1u << i;
		if (!(b & ((1ULL << half) - 1))) {
			j += half;
			b >>= half;
		}
	}
	return j;
}

/* Claim the lowest run of k free blocks in word i of the search, if it
 * has one */
static long ddp_pool_claim_cb(__u32 i, void *arg)
{
	struct ddp_pool_claim *c = arg;
	__u32 w = (c->first_word + i) % c->nwords;
	__u64 *word = ddp_pool_word(c->pool, w);
	__u64 v, taken, f, ones;

	if (!word)
		return 1;
	v = READ_ONCE(*word);
	taken = v;
	if (c->nblocks < (w + 1) * DDP_POOL_WORD)
		taken |= ~0ULL << (c->nblocks - w * DDP_POOL_WORD);
	f = ddp_pool_fit(taken, c->k);
	if (!f)
		return 0;
	ones = c->k >= DDP_POOL_WORD ? ~0ULL : (1ULL << c->k) - 1;
	/* the lowest fit; b * ones is ones shifted to it */
	f &= -f;
	if (__sync_val_compare_and_swap(word, v, v | f * ones) != v)
		return 0; /* taken meanwhile: on to the next word */
	c->word = w;
	c->mask = f * ones;
	return 1;
}

/* A run of k blocks of a pool of nblocks; the index of its first block,
 * its word and mask set; or -ENOBUFS when no word in reach has them
 * free. */
static __always_inline int ddp_pool_get(__u32 pool, __u32 nblocks, __u32 k,
					__u32 *first, __u32 *word, __u64 *mask)
{
	__u32 *next = ddp_pool_next(pool);
	struct ddp_pool_claim c = {
		.pool = pool,
		.first_word = READ_ONCE(*next),
		.nwords = (nblocks + DDP_POOL_WORD - 1) / DDP_POOL_WORD,
		.nblocks = nblocks,
		.k = k,
	};

	*mask = 0;
	if (!c.nwords || !k || k > DDP_POOL_WORD)
		return -ENOBUFS;
	c.first_word %= c.nwords;
	bpf_loop(c.nwords < DDP_POOL_SCAN ? c.nwords : DDP_POOL_SCAN,
		 ddp_pool_claim_cb, &c, 0);
	if (!c.mask)
		return -ENOBUFS;
	*mask = c.mask;
	*word = c.word;
	*first = c.word * DDP_POOL_WORD + ddp_bit_index(c.mask & -c.mask);
	/* where this one found room, the next one looks first */
	WRITE_ONCE(*next, c.word);
	return 0;
}

/* Blocks for nsegs segments for tag t: seg_first, seg_word and seg_mask
 * set; 0, or -ENOBUFS */
static __always_inline int ddp_segs_get(struct ddp_tag *t, __u32 nsegs)
{
	__u32 first = 0, word = 0;
	__u64 mask;
	int err;

	err = ddp_pool_get(DDP_POOL_SEGS, cfg_seg_pool / DDP_SEG_BLOCK,
			   (nsegs + DDP_SEG_BLOCK - 1) / DDP_SEG_BLOCK, &first,
			   &word, &mask);
	t->seg_mask = mask;
	t->seg_word = word;
	t->seg_first = first * DDP_SEG_BLOCK;
	return err;
}

/* The blocks of a run of n entries from entry `first` on, blocks of
 * `block` entries: in one word */
static __always_inline __u64 ddp_run_mask(__u32 first, __u32 n, __u32 block)
{
	__u32 k = (n + block - 1) / block;
	__u64 ones = k >= DDP_POOL_WORD ? ~0ULL : (1ULL << k) - 1;

	return ones << (first / block % DDP_POOL_WORD);
}

/* A run of the tag pool for n tags of flow f (none for 0): tag_first and
 * tag_count set; 0, or -ENOBUFS */
static __always_inline int ddp_flow_tags_get(struct ddp_flow *f, __u32 n)
{
	__u32 first = 0, word = 0;
	__u64 mask;
	int err;

	if (!n) {
		WRITE_ONCE(f->tag_count, 0);
		return 0;
	}
	err = ddp_pool_get(DDP_POOL_TAGS, cfg_tag_pool / DDP_TAG_BLOCK,
			   (n + DDP_TAG_BLOCK - 1) / DDP_TAG_BLOCK, &first,
			   &word, &mask);
	if (err)
		return err;
	f->tag_first = first * DDP_TAG_BLOCK;
	WRITE_ONCE(f->tag_count, n);
	return 0;
}

static __always_inline void ddp_tags_put(__u32 first, __u32 n)
{
	if (n)
		ddp_pool_put(DDP_POOL_TAGS, first / DDP_TAGS_PER_WORD,
			     ddp_run_mask(first, n, DDP_TAG_BLOCK));
}

/* The ring a kernel-socket flow of n tags holds: 8 records a tag, a
 * power of 2 within the bounds */
static __always_inline __u32 ddp_ring_for(__u32 n)
{
	__u32 ring = DDP_REC_RING_MIN;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) /* log2(DDP_REC_RING_MAX / _MIN) */
		if (ring < 8 * n && ring < cfg_rec_ring)
			ring *= 2;
	return ring < cfg_rec_ring ? ring : cfg_rec_ring;
}

/* A ring of records for flow f if its config writes records and it has
 * none yet: 0, or -ENOMEM if the pool has no room. A ring is never moved
 * or given back while the flow lives: the engine may write it until a
 * sync. */
static __always_inline int ddp_flow_recs_get(struct ddp_flow *f,
					     const struct ddp_sk_config *cfg,
					     __u32 ntags)
{
	__u32 ring = ddp_ring_for(ntags), first = 0, word = 0;
	__u64 mask;

	if (!(cfg->flags & DDP_SK_RECORDS) || f->rec_ring)
		return 0;
	if (ddp_pool_get(DDP_POOL_RECS, cfg_rec_pool / DDP_REC_BLOCK,
			 ring / DDP_REC_BLOCK, &first, &word, &mask))
		return -ENOMEM;
	f->rec_first = first * DDP_REC_BLOCK;
	WRITE_ONCE(f->rec_ring, ring);
	return 0;
}

static __always_inline void ddp_recs_put(__u32 first, __u32 ring)
{
	if (ring)
		ddp_pool_put(DDP_POOL_RECS, first / DDP_RECS_PER_WORD,
			     ddp_run_mask(first, ring, DDP_REC_BLOCK));
}

#endif /* DDP_CTL_POOL_H */
