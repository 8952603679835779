/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* ddp_maps.h - the engine's maps and load-time configuration. */
#ifndef DDP_MAPS_H
#define DDP_MAPS_H

/* Fields shared with the host through mmap: each access exactly once, in
 * program order. */
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

/* Set through the skeleton before load; the loader sizes the maps to match. */
const volatile __u32 cfg_max_flows = DDP_DEF_MAX_FLOWS;
const volatile __u32 cfg_tags_per_flow = DDP_DEF_TAGS_PER_FLOW;
/* records of a flow's ring at most, a power of 2 */
const volatile __u32 cfg_rec_ring = DDP_REC_RING_MAX;
/* records in the pool, a multiple of DDP_REC_BLOCK */
const volatile __u32 cfg_rec_pool = DDP_DEF_MAX_FLOWS * DDP_REC_RING_MAX;
/* tags in the pool, a multiple of DDP_TAG_BLOCK */
const volatile __u32 cfg_tag_pool = DDP_DEF_MAX_FLOWS * DDP_DEF_TAGS_PER_FLOW;
/* segments in the pool, a multiple of DDP_SEGS_PER_WORD */
const volatile __u32 cfg_seg_pool =
	DDP_DEF_MAX_FLOWS * DDP_DEF_TAGS_PER_FLOW * DDP_DEF_SEGS_PER_TAG;
const volatile __u32 cfg_buf_size = DDP_DEF_BUF_SIZE;
const volatile __u32 cfg_io_threshold = DDP_DEF_IO_THRESHOLD;
/* The most bytes one bpf_csum_diff() takes (the loader probes it: 512 on
 * kernels before 6.13) */
const volatile __u32 cfg_csum_max = 512;
/* Data digests of C2HData checked: ddpctl attach --no-ddgst-offload
 * clears it */
const volatile __u32 cfg_ddgst_offload = 1;
/* The kernel module's CRC32C kfunc is there (the loader looks for it):
 * digests are computed with it, not with the engine's tables */
const volatile __u32 cfg_crc_kfunc;
/* ... and its pins: tags may place into buffers of any process's memory */
const volatile __u32 cfg_pin_kfunc;
/* Partial checksums accepted (see ddp_info.csum_partial): set by the
 * loader once it knows the device and the mode it attached in. */
__u32 ddp_csum_partial;

/* 5-tuple of an offloaded connection -> flow id */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DDP_DEF_MAX_FLOWS);
	__type(key, struct ddp_flow_key);
	__type(value, __u32);
} ddp_socks SEC(".maps");

/* flow id -> connection state (the host mmaps it: records, resync replies) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, DDP_DEF_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct ddp_flow);
} ddp_flows SEC(".maps");

/* (flow id, CID) -> tag slot */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DDP_DEF_MAX_FLOWS *DDP_DEF_TAGS_PER_FLOW);
	__type(key, struct ddp_cid_key);
	__type(value, __u32);
} ddp_cids SEC(".maps");

/* The tag pool: tag slot -> destination segments. A flow takes a run of
 * it at sk_add, its tag_count rounded up to whole blocks. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, DDP_DEF_MAX_FLOWS *DDP_DEF_TAGS_PER_FLOW);
	__type(key, __u32);
	__type(value, struct ddp_tag);
} ddp_tags SEC(".maps");

/* The segment pool: every tag's segments, a run of blocks each */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries,
	       DDP_DEF_MAX_FLOWS *DDP_DEF_TAGS_PER_FLOW *DDP_DEF_SEGS_PER_TAG);
	__type(key, __u32);
	__type(value, struct ddp_seg_ent);
} ddp_segs SEC(".maps");

/* word -> its DDP_POOL_WORD blocks of the pool, a bit each: set while a
 * tag holds it (the host maps it to count the pool's use) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries,
	       DDP_DEF_MAX_FLOWS *DDP_DEF_TAGS_PER_FLOW *DDP_DEF_SEGS_PER_TAG /
		       DDP_SEGS_PER_WORD);
	__type(key, __u32);
	__type(value, __u64);
} ddp_seg_map SEC(".maps");

/* where the next setup looks for blocks first */
__u32 ddp_seg_next;

/* The tag pool's bitmap, as the segment pool's: a bit for each block of
 * DDP_TAG_BLOCK tags, set while a flow holds it */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries,
	       (DDP_DEF_MAX_FLOWS * DDP_DEF_TAGS_PER_FLOW + DDP_TAGS_PER_WORD -
		1) / DDP_TAGS_PER_WORD);
	__type(key, __u32);
	__type(value, __u64);
} ddp_tag_map SEC(".maps");

/* where the next sk_add looks for blocks first */
__u32 ddp_tag_next;

/* The record pool: each kernel-socket flow's ring of placement records,
 * a run of it (record n of a flow in entry rec_first + n % rec_ring) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, DDP_DEF_MAX_FLOWS *DDP_REC_RING_MAX);
	__type(key, __u32);
	__type(value, struct ddp_rec);
} ddp_recs SEC(".maps");

/* The record pool's bitmap: a bit for each block of DDP_REC_BLOCK
 * records, set while a flow holds it */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries,
	       DDP_DEF_MAX_FLOWS *DDP_REC_RING_MAX / DDP_RECS_PER_WORD);
	__type(key, __u32);
	__type(value, __u64);
} ddp_rec_map SEC(".maps");

/* where the next claim of records looks first */
__u32 ddp_rec_next;

/* remote TCP port -> offloaded flows using it (a cheap first filter) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} ddp_ports SEC(".maps");

/* 0 -> the buffer region: one value, mmapped by the host, AF_XDP UMEM.
 * No BTF value type: its size is set at load (cfg_buf_size + guard). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, DDP_DEF_BUF_SIZE + DDP_BUF_GUARD);
} ddp_bufs SEC(".maps");

/* resync requests to the host (struct ddp_event) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} ddp_events SEC(".maps");

/* 0 -> a TCP segment copied for its checksum, per CPU */
#define DDP_SCRATCH_LEN (DDP_MAX_SUMMED + 4)
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, DDP_SCRATCH_LEN);
} ddp_scratch SEC(".maps");

/* 0 -> the metadata of the frame in hand, per CPU: off the stack, where
 * the verifier would follow every range count as a state of its own */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ddp_meta);
} ddp_rx_meta SEC(".maps");

/* 0 -> counters, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ddp_stats);
} ddp_stats SEC(".maps");

/* RX queue -> AF_XDP socket */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, DDP_XSK_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} ddp_xsks SEC(".maps");

/* 0 -> ddp_sync_inner. Updating it from user space returns only after
 * every engine program that was running has finished (synchronize_rcu):
 * that is how a teardown knows the engine no longer writes a buffer. */
struct ddp_sync_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ddp_sync_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ddp_sync_inner);
} ddp_sync SEC(".maps") = {
	.values = { [0] = &ddp_sync_inner },
};

/* 0 -> what the instance was loaded with; who owns which region chunk.
 * Only user space uses it: pinned with the engine, read by who joins. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ddp_info);
} ddp_info SEC(".maps");

/* n, which the program knows to be 1 .. mask + 1 (mask a constant), in a
 * form the verifier of 6.1 believes as a size: it learns nothing from
 * n != 0, nor from comparing two registers, and the compiler drops a
 * mask it knows redundant ("R3 min value is outside of the allowed
 * memory range"). */
static __always_inline __u32 ddp_size(__u32 n, __u32 mask)
{
	barrier_var(n);
	return ((n - 1) & mask) + 1;
}

static __always_inline struct ddp_stats *ddp_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ddp_stats, &zero);
}

static __always_inline __u8 *ddp_buf_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ddp_bufs, &zero);
}

/* This CPU's frame metadata, cleared. */
static __always_inline struct ddp_meta *ddp_rx_meta_get(void)
{
	__u32 zero = 0;
	struct ddp_meta *m = bpf_map_lookup_elem(&ddp_rx_meta, &zero);

	if (m)
		__builtin_memset(m, 0, sizeof(*m));
	return m;
}

static __always_inline struct ddp_flow *ddp_flow_get(__u32 id)
{
	return bpf_map_lookup_elem(&ddp_flows, &id);
}

static __always_inline struct ddp_tag *ddp_tag_get(__u32 slot)
{
	return bpf_map_lookup_elem(&ddp_tags, &slot);
}

/* Segment i of tag t */
static __always_inline struct ddp_seg_ent *ddp_seg_get(const struct ddp_tag *t,
						       __u32 i)
{
	__u32 k = t->seg_first + i;

	return bpf_map_lookup_elem(&ddp_segs, &k);
}

#endif /* DDP_MAPS_H */
