// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dev.c - engine instances: load, set up the mappings and event
 * descriptors, describe, close. An instance is held as file descriptors of
 * its maps and programs, whether it was loaded here or found pinned
 * (attach.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "libddp_priv.h"
#include "ddp.skel.h"

const char *ddp_dev_notice(const struct ddp_dev *d)
{
	return d->notice[0] ? d->notice : NULL;
}

static void ddp_limits_fill(struct ddp_limits *lim)
{
	if (!lim->max_flows)
		lim->max_flows = DDP_DEF_MAX_FLOWS;
	if (!lim->tags_per_flow)
		lim->tags_per_flow = DDP_DEF_TAGS_PER_FLOW;
	if (!lim->buf_size)
		lim->buf_size = DDP_DEF_BUF_SIZE;
	if (!lim->io_threshold)
		lim->io_threshold = DDP_DEF_IO_THRESHOLD;
	if (!lim->rec_ring) {
		lim->rec_ring = DDP_REC_RING_MIN;
		while (lim->rec_ring < DDP_REC_RING_MAX &&
		       lim->rec_ring < 8 * lim->tags_per_flow)
			lim->rec_ring *= 2;
	}
	if (!lim->tag_pool) {
		/* room for every flow at its most: a flow's run of k blocks
		 * lies within one word, so a word holds 64 / k of them */
		__u32 k = (lim->tags_per_flow + DDP_TAG_BLOCK - 1) /
			  DDP_TAG_BLOCK,
		      per_word = k && k <= DDP_POOL_WORD ? DDP_POOL_WORD / k :
							   1;
		__u64 tags =
			((__u64)(lim->max_flows / per_word) * DDP_POOL_WORD +
			 (__u64)(lim->max_flows % per_word) * k) *
			DDP_TAG_BLOCK;

		lim->tag_pool = tags < DDP_TAG_POOL_MAX ? tags :
							  DDP_TAG_POOL_MAX;
	}
	if (!lim->rec_pool) {
		/* every flow at its largest ring, if the tags allow it: a
		 * ring is 8 records a tag, at least 64 */
		__u64 most = (__u64)lim->max_flows * lim->rec_ring,
		      tags = (__u64)lim->max_flows * DDP_REC_RING_MIN +
			     16ull * lim->tag_pool;
		__u64 recs = most < tags ? most : tags;

		recs = (recs + DDP_REC_BLOCK - 1) / DDP_REC_BLOCK *
		       DDP_REC_BLOCK;
		lim->rec_pool = recs < DDP_REC_POOL_MAX ? recs :
							  DDP_REC_POOL_MAX;
	}
	if (!lim->seg_pool) {
		__u64 segs = (__u64)lim->tag_pool * DDP_DEF_SEGS_PER_TAG;

		/* whole words of the pool's bitmap: at least one */
		lim->seg_pool = (segs + DDP_SEGS_PER_WORD - 1) /
				DDP_SEGS_PER_WORD * DDP_SEGS_PER_WORD;
	}
}

static int ddp_limits_check(const struct ddp_limits *lim)
{
	if (lim->max_flows > DDP_MAX_FLOWS)
		return ddp_err0(-EINVAL, "max flows %u: at most %u",
				lim->max_flows, DDP_MAX_FLOWS);
	if (lim->rec_ring < DDP_REC_RING_MIN ||
	    lim->rec_ring > DDP_REC_RING_MAX ||
	    lim->rec_ring & (lim->rec_ring - 1))
		return ddp_err0(
			-EINVAL,
			"%u records per flow: a power of 2 from %u to %u",
			lim->rec_ring, DDP_REC_RING_MIN, DDP_REC_RING_MAX);
	if (lim->tags_per_flow > DDP_MAX_TAGS_PER_FLOW)
		return ddp_err0(-EINVAL, "tags per flow %u: at most %u",
				lim->tags_per_flow, DDP_MAX_TAGS_PER_FLOW);
	if (lim->tag_pool % DDP_TAG_BLOCK || lim->tag_pool > DDP_TAG_POOL_MAX)
		return ddp_err0(-EINVAL,
				"tag pool of %u: a multiple of %u, at most %u",
				lim->tag_pool, DDP_TAG_BLOCK, DDP_TAG_POOL_MAX);
	if (lim->rec_pool % DDP_REC_BLOCK || lim->rec_pool > DDP_REC_POOL_MAX)
		return ddp_err0(
			-EINVAL,
			"record pool of %u: a multiple of %u, at most %u",
			lim->rec_pool, DDP_REC_BLOCK, DDP_REC_POOL_MAX);
	if (!lim->seg_pool || lim->seg_pool % DDP_SEGS_PER_WORD ||
	    lim->seg_pool > DDP_SEG_POOL_MAX)
		return ddp_err0(
			-EINVAL,
			"segment pool of %u: a multiple of %u, at most %u",
			lim->seg_pool, DDP_SEGS_PER_WORD, DDP_SEG_POOL_MAX);
	if (lim->buf_size % 4096 ||
	    lim->buf_size > (__u64)DDP_CHUNK_SIZE * DDP_CHUNKS_MAX)
		return ddp_err0(
			-EINVAL,
			"buffer region of %u bytes: a multiple of 4096, at most 512 MiB",
			lim->buf_size);
	return 0;
}

struct ddp_dev *ddp_dev_new(void)
{
	struct ddp_dev *d = calloc(1, sizeof(*d));
	int i;

	if (!d)
		return NULL;
	for (i = 0; i < DDP_MAP_NR; i++)
		d->map_fd[i] = -1;
	for (i = 0; i < DDP_PROG_NR; i++)
		d->prog_fd[i] = -1;
	d->efd = d->epfd = d->token_fd = d->pin_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->owner_lock, NULL);
	pthread_mutex_init(&d->live_lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	return d;
}

/* Maps a BPF_F_MMAPABLE map; read-only (and never to be made writable:
 * the kernel clears VM_MAYWRITE) unless it is the buffer region. */
static void *ddp_map_mmap(struct ddp_dev *d, enum ddp_map_idx m)
{
	int prot = m == M_ddp_bufs ? PROT_READ | PROT_WRITE : PROT_READ;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	size_t sz;
	void *p;

	if (bpf_obj_get_info_by_fd(d->map_fd[m], &info, &len))
		return NULL;
	sz = (size_t)info.value_size * info.max_entries;
	sz = (sz + page - 1) / page * page;
	p = mmap(NULL, sz, prot, MAP_SHARED, d->map_fd[m], 0);
	return p == MAP_FAILED ? NULL : p;
}

static size_t ddp_map_len(const struct ddp_dev *d, enum ddp_map_idx m)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);

	if (bpf_obj_get_info_by_fd(d->map_fd[m], &info, &len))
		return 0;
	return ((size_t)info.value_size * info.max_entries + page - 1) / page *
	       page;
}

static int ddp_ring_wake(void *arg, void *data, size_t len)
{
	/* records only wake us: the flows hold the requests */
	(void)arg;
	(void)data;
	(void)len;
	return 0;
}

int ddp_dev_setup_common(struct ddp_dev *d)
{
	struct epoll_event ev = { .events = EPOLLIN };

	d->info = ddp_map_mmap(d, M_ddp_info);
	d->bufs = ddp_map_mmap(d, M_ddp_bufs);
	d->flows = ddp_map_mmap(d, M_ddp_flows);
	d->tags = ddp_map_mmap(d, M_ddp_tags);
	d->recs = ddp_map_mmap(d, M_ddp_recs);
	if (!d->info || !d->bufs || !d->flows || !d->tags || !d->recs)
		return ddp_err(d, -errno, "mmap of the engine's maps: %s",
			       strerror(errno));
	d->ring = ring_buffer__new(d->map_fd[M_ddp_events], ddp_ring_wake, d,
				   NULL);
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!d->ring || d->efd < 0 || d->epfd < 0 ||
	    epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->efd, &ev) ||
	    epoll_ctl(d->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(d->ring),
		      &ev))
		return ddp_err(d, -errno, "event descriptors: %s",
			       strerror(errno));
	d->mine = calloc(d->lim.max_flows, sizeof(*d->mine));
	d->req_seen = calloc(d->lim.max_flows, sizeof(*d->req_seen));
	if (!d->mine || !d->req_seen)
		return ddp_err(d, -ENOMEM, "out of memory");
	return ddp_alloc_init(d);
}

void ddp_dev_close(struct ddp_dev *d)
{
	int i;

	if (!d)
		return;
	/* this process's flows, tags and chunks go first: nothing of it is
	 * placed into memory another process is given next */
	ddp_owner_leave(d);
	ddp_teardown_stop(d);
	ddp_alloc_fini(d);
	/* the module unpins this process's buffers, its tags gone */
	if (d->pin_fd >= 0)
		close(d->pin_fd);
	ring_buffer__free(d->ring);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->efd >= 0)
		close(d->efd);
	if (d->info)
		munmap(d->info, ddp_map_len(d, M_ddp_info));
	if (d->bufs)
		munmap(d->bufs, ddp_map_len(d, M_ddp_bufs));
	if (d->flows)
		munmap(d->flows, ddp_map_len(d, M_ddp_flows));
	if (d->tags)
		munmap(d->tags, ddp_map_len(d, M_ddp_tags));
	if (d->recs)
		munmap(d->recs, ddp_map_len(d, M_ddp_recs));
	for (i = 0; i < DDP_MAP_NR; i++)
		if (d->map_fd[i] >= 0)
			close(d->map_fd[i]);
	for (i = 0; i < DDP_PROG_NR; i++)
		if (d->prog_fd[i] >= 0)
			close(d->prog_fd[i]);
	free(d->mine);
	free(d->req_seen);
	free(d->live);
	ddp_bpf__destroy(d->skel);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->owner_lock);
	pthread_mutex_destroy(&d->live_lock);
	pthread_cond_destroy(&d->wake);
	free(d);
}

/* kmod_glue's kfuncs the engine calls (kmod_glue/ddp_kfuncs.c) */
static const char *const ddp_kfunc_names[] = {
	"bpf_ddp_crc32c",      "bpf_ddp_copy_pinned",	 "bpf_ddp_pin_len",
	"bpf_ddp_glue_caller", "bpf_ddp_resync_request", NULL
};

/* Load the object sized to lim and keep descriptors of what it holds; the
 * skeleton stays for what is set after the attach (ddp_csum_partial). */
static int ddp_load(struct ddp_dev *d, const struct ddp_limits *lim)
{
	struct ddp_bpf *s = ddp_bpf__open();
	__u32 tags = lim->tag_pool;
	int err, i;

	if (!s)
		return ddp_err0(-errno, "open of the engine's BPF object: %s",
				strerror(errno));
	d->csum_max = ddp_probe_csum_max();
	/* the module offers all of them, or it is not one of this engine */
	d->pin_kfunc = !lim->no_kfuncs && ddp_probe_kfuncs(ddp_kfunc_names);
	d->crc_kfunc = d->pin_kfunc && !lim->no_ddgst_offload;
	s->rodata->cfg_max_flows = lim->max_flows;
	s->rodata->cfg_tags_per_flow = lim->tags_per_flow;
	s->rodata->cfg_tag_pool = lim->tag_pool;
	s->rodata->cfg_seg_pool = lim->seg_pool;
	s->rodata->cfg_rec_ring = lim->rec_ring;
	s->rodata->cfg_rec_pool = lim->rec_pool;
	s->rodata->cfg_buf_size = lim->buf_size;
	s->rodata->cfg_io_threshold = lim->io_threshold;
	s->rodata->cfg_csum_max = d->csum_max;
	s->rodata->cfg_ddgst_offload = !lim->no_ddgst_offload;
	s->rodata->cfg_crc_kfunc = d->crc_kfunc;
	s->rodata->cfg_pin_kfunc = d->pin_kfunc;
	bpf_map__set_max_entries(s->maps.ddp_socks, lim->max_flows);
	bpf_map__set_max_entries(s->maps.ddp_flows, lim->max_flows);
	bpf_map__set_max_entries(s->maps.ddp_cids, tags);
	bpf_map__set_max_entries(s->maps.ddp_tags, tags);
	bpf_map__set_max_entries(s->maps.ddp_segs, lim->seg_pool);
	bpf_map__set_max_entries(s->maps.ddp_seg_map,
				 lim->seg_pool / DDP_SEGS_PER_WORD);
	bpf_map__set_max_entries(s->maps.ddp_tag_map,
				 (tags + DDP_TAGS_PER_WORD - 1) /
					 DDP_TAGS_PER_WORD);
	bpf_map__set_max_entries(s->maps.ddp_recs, lim->rec_pool);
	bpf_map__set_max_entries(s->maps.ddp_rec_map,
				 (lim->rec_pool + DDP_RECS_PER_WORD - 1) /
					 DDP_RECS_PER_WORD);
	bpf_map__set_value_size(s->maps.ddp_bufs,
				lim->buf_size + DDP_BUF_GUARD);
	err = ddp_bpf__load(s);
	if (err) {
		ddp_bpf__destroy(s);
		/* libbpf takes the module's kfunc whenever the module is
		 * there: one built for another kernel or engine fails it */
		if (!access("/sys/kernel/btf/" DDP_KMOD_NAME, F_OK))
			return ddp_err0(
				err,
				"load of the engine: %s (kmod_glue's module " DDP_KMOD_NAME
				" is loaded: if it was built for another kernel or another version of the engine, rmmod it; ddpctl -v shows libbpf's reason)",
				strerror(-err));
		return ddp_err0(
			err,
			"load of the engine: %s (root and a kernel with BTF are needed)",
			strerror(-err));
	}
	for (i = 0; i < DDP_MAP_NR; i++)
		d->map_fd[i] = dup(bpf_map__fd(bpf_object__find_map_by_name(
			s->obj, ddp_map_names[i])));
	for (i = 0; i < DDP_PROG_NR; i++)
		d->prog_fd[i] =
			dup(bpf_program__fd(bpf_object__find_program_by_name(
				s->obj, ddp_prog_names[i])));
	d->skel = s;
	d->lim = *lim;
	return 0;
}

__u64 ddp_netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

/* What the loader tells those who join: written once, before the pins
 * make the engine findable, by a map update (the mapping is read-only). */
int ddp_info_write(struct ddp_dev *d, __u32 ifindex, __u64 netns_ino,
		   __u32 xdp_flags)
{
	struct ddp_info info = {
		.abi_version = DDP_ABI_VERSION,
		.max_flows = d->lim.max_flows,
		.tags_per_flow = d->lim.tags_per_flow,
		.buf_size = d->lim.buf_size,
		.io_threshold = d->lim.io_threshold,
		.ifindex = ifindex,
		.netns_ino = netns_ino,
		.xdp_flags = xdp_flags,
		.csum_partial = d->skel ? d->skel->bss->ddp_csum_partial : 0,
		.csum_max = d->csum_max,
		.ddgst_offload = !d->lim.no_ddgst_offload,
		.crc_kfunc = d->crc_kfunc,
		.pin_kfunc = d->pin_kfunc,
		.seg_pool = d->lim.seg_pool,
		.rec_ring = d->lim.rec_ring,
		.tag_pool = d->lim.tag_pool,
		.rec_pool = d->lim.rec_pool,
	};
	__u32 zero = 0;

	if (bpf_map_update_elem(d->map_fd[M_ddp_info], &zero, &info, BPF_ANY))
		return ddp_err(d, -errno, "write of ddp_info: %s",
			       strerror(errno));
	return 0;
}

int ddp_load_instance(const struct ddp_limits *in, struct ddp_dev **out)
{
	struct ddp_limits lim = in ? *in : (struct ddp_limits){ 0 };
	struct ddp_dev *d;
	int err;

	*out = NULL;
	ddp_limits_fill(&lim);
	err = ddp_limits_check(&lim);
	if (!err)
		err = ddp_probe_features();
	if (err)
		return err;
	d = ddp_dev_new();
	if (!d)
		return ddp_err0(-ENOMEM, "out of memory");
	err = ddp_load(d, &lim);
	if (!err)
		err = ddp_dev_setup_common(d);
	if (err) {
		if (d->err[0])
			ddp_err0(err, "%s", d->err);
		ddp_dev_close(d);
		return err;
	}
	err = ddp_info_write(d, 0, 0, 0);
	if (err) {
		ddp_err0(err, "%s", d->err);
		ddp_dev_close(d);
		return err;
	}
	*out = d;
	return 0;
}

int ddp_dev_load(const struct ddp_limits *lim, struct ddp_dev **out)
{
	return ddp_load_instance(lim, out);
}

void ddp_dev_caps(const struct ddp_dev *d, struct ddp_caps *c)
{
	*c = (struct ddp_caps){
		.max_segs = DDP_MAX_SEGS,
		.io_threshold = d->lim.io_threshold,
		.max_flows = d->lim.max_flows,
		.max_tags = d->lim.tag_pool,
		.tags_per_flow = d->lim.tags_per_flow,
		.buf_size = d->lim.buf_size,
		.seg_pool = d->lim.seg_pool,
		.rec_ring = d->lim.rec_ring,
		.rec_pool = d->lim.rec_pool,
		.digests = NVME_TCP_DGST_HDR | NVME_TCP_DGST_DATA,
		.crc_offload = !d->lim.no_ddgst_offload,
		.crc_kfunc = d->crc_kfunc,
		.pinned_buffers = d->pin_kfunc,
		.full_cid_range = true,
		.csum_max = d->csum_max,
		.csum_partial = d->info->csum_partial,
		.ifindex = d->ifindex,
		.xdp_flags = d->xdp_flags,
	};
}

/* The blocks set in a pool's bitmap, times the block's size */
static int ddp_pool_used(struct ddp_dev *d, enum ddp_map_idx m, __u32 nwords,
			 __u32 block, __u32 *used)
{
	size_t len = ddp_map_len(d, m);
	const __u64 *w = ddp_map_mmap(d, m);
	__u32 i;

	if (!w)
		return ddp_err(d, -errno, "mmap of %s: %s", ddp_map_names[m],
			       strerror(errno));
	*used = 0;
	for (i = 0; i < nwords; i++)
		*used += __builtin_popcountll(w[i]) * block;
	munmap((void *)w, len);
	return 0;
}

int ddp_seg_pool_used(struct ddp_dev *d, __u32 *used)
{
	return ddp_pool_used(d, M_ddp_seg_map,
			     d->lim.seg_pool / DDP_SEGS_PER_WORD, DDP_SEG_BLOCK,
			     used);
}

int ddp_rec_pool_used(struct ddp_dev *d, __u32 *used)
{
	return ddp_pool_used(d, M_ddp_rec_map,
			     (d->lim.rec_pool + DDP_RECS_PER_WORD - 1) /
				     DDP_RECS_PER_WORD,
			     DDP_REC_BLOCK, used);
}

int ddp_tag_pool_used(struct ddp_dev *d, __u32 *used)
{
	return ddp_pool_used(d, M_ddp_tag_map,
			     (d->lim.tag_pool + DDP_TAGS_PER_WORD - 1) /
				     DDP_TAGS_PER_WORD,
			     DDP_TAG_BLOCK, used);
}

int ddp_xdp_prog_fd(const struct ddp_dev *d)
{
	return d->prog_fd[P_ddp_rx];
}

int ddp_map_fd(const struct ddp_dev *d, const char *name)
{
	int i;

	for (i = 0; i < DDP_MAP_NR; i++)
		if (!strcmp(ddp_map_names[i], name))
			return d->map_fd[i];
	return -ENOENT;
}
