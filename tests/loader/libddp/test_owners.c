// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_owners.c - processes sharing one engine: what one may not do to
 * another's flows, tags and buffers, what none may write but through the
 * control programs, and what becomes of those of a process that closes or
 * dies. Each test attaches the engine to a veth of
 * a network namespace of its own, with a BPF filesystem of its own, and
 * forks the other process ("kid"), which joins through the pins and
 * reports what it made through a pipe.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <criterion/criterion.h>
#include "bpffs.h"
#include "harness.h"
#include "libddp_priv.h"

static char va[IF_NAMESIZE], vb[IF_NAMESIZE];
static struct ddp_dev *me; /* the test process: attached */

static void owners_init(void)
{
	struct ddp_attach_opts o = { .mode = DDP_MODE_NATIVE,
				     .lim = { .max_flows = 8,
					      .tags_per_flow = 8,
					      .buf_size = 16 << 20 } };

	cr_assert_eq(unshare(CLONE_NEWNET), 0);
	cr_assert_eq(bpffs_private(), 0);
	snprintf(va, sizeof(va), "do%da", getpid());
	snprintf(vb, sizeof(vb), "do%db", getpid());
	eng_sh("ip link add %s type veth peer name %s && ip link set %s up && ip link set %s up",
	       va, vb, va, vb);
	cr_assert_eq(ddp_dev_attach(va, &o, &me), 0, "%s", ddp_errmsg(NULL));
}

static void owners_fini(void)
{
	ddp_dev_close(me);
	ddp_dev_detach(va);
}

TestSuite(owners, .init = owners_init, .fini = owners_fini);

/* What a kid made: a flow with one tag in a buffer of its own. */
struct made {
	__u32 flow_id, tag, buf, len;
	int pid; /* as the kernel numbers it */
};

struct kid {
	pid_t pid;
	int from, to; /* pipes: what it reports, when it may go on */
	struct made m;
};

static struct pkt_flow kid_flow(__u16 lport)
{
	struct pkt_flow fl;

	pkt_flow_init(&fl, 0, 4420, lport);
	return fl;
}

/* In the kid: join, take 2 MiB, offload a flow, register a tag. */
static int kid_make(struct ddp_dev **d, struct made *m, __u16 lport)
{
	struct ddp_sk_config cfg = { .queue_size = 32,
				     .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS };
	struct pkt_flow fl = kid_flow(lport);
	struct ddp_flow_key key;
	struct ddp_seg seg;

	pkt_flow_key(&fl, &key);
	m->len = 2 << 20;
	if (ddp_dev_join(va, d) || ddp_buf_alloc(*d, m->len, 0, &m->buf) ||
	    ddp_sk_add(*d, &key, &cfg, &m->flow_id))
		return -1;
	seg = (struct ddp_seg){ m->buf, 65536 };
	return ddp_setup(*d, m->flow_id, 1, &seg, 1, &m->tag);
}

/* Fork a kid that makes its things, reports them, waits for a byte on
 * its pipe, then closes (close) or just exits (leaving all to reaping). */
static void kid_start(struct kid *k, __u16 lport, bool close)
{
	int a[2], b[2];
	struct ddp_dev *d = NULL;
	char c;

	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	k->pid = fork();
	cr_assert_geq(k->pid, 0);
	if (!k->pid) {
		k->m.pid = getpid();
		if (kid_make(&d, &k->m, lport))
			k->m.flow_id = 0; /* failed */
		(void)!write(a[1], &k->m, sizeof(k->m));
		(void)!read(b[0], &c, 1);
		if (close)
			ddp_dev_close(d);
		_exit(0);
	}
	k->from = a[0];
	k->to = b[1];
	cr_assert_eq(read(k->from, &k->m, sizeof(k->m)), (ssize_t)sizeof(k->m));
	cr_assert_neq(k->m.flow_id, 0, "the kid could not make its flow");
}

static void kid_end(struct kid *k)
{
	int st;

	(void)!write(k->to, "x", 1);
	cr_assert_eq(waitpid(k->pid, &st, 0), k->pid);
	close(k->from);
	close(k->to);
}

static void kid_kill(struct kid *k)
{
	int st;

	kill(k->pid, SIGKILL);
	cr_assert_eq(waitpid(k->pid, &st, 0), k->pid);
	close(k->from);
	close(k->to);
}

static struct ddp_stats stats(void)
{
	struct ddp_stats st;

	cr_assert_eq(ddp_stats_read(me, &st), 0);
	return st;
}

static void assert_kid_intact(const struct kid *k)
{
	cr_assert_eq(ddp_flow_mem(me, k->m.flow_id)->state, DDP_FLOW_ALIVE);
	cr_assert_eq(ddp_flow_mem(me, k->m.flow_id)->flow_id, k->m.flow_id);
	cr_assert_eq(
		DDP_TAG_STATE(ddp_tag_mem(me, k->m.flow_id, k->m.tag)->stamp),
		DDP_TAG_ACTIVE);
}

/* Every control operation on another process's flow is refused, said,
 * and changes nothing. */
Test(owners, a_foreign_flow_cannot_be_touched)
{
	struct kid k;
	struct ddp_seg seg = { 0, 4096 };
	struct ddp_sk_config cfg = { .queue_size = 32,
				     .flags = DDP_SK_OFFLOAD };
	struct ddp_stats before, after;
	__u16 cids[2] = { 1, 1 };
	int res[2];
	char want[128];

	kid_start(&k, 40000, true);
	before = stats();
	seg.addr = k.m.buf + 65536;
	cr_assert_eq(ddp_setup(me, k.m.flow_id, 2, &seg, 1, NULL), -EPERM);
	snprintf(want, sizeof(want),
		 "setup: flow %u belongs to another process", k.m.flow_id);
	cr_assert_str_eq(ddp_errmsg(me), want);
	cr_assert_eq(ddp_teardown(me, k.m.flow_id, 1, NULL), -EPERM);
	ddp_teardown_many(me, k.m.flow_id, cids, NULL, res, 2);
	cr_assert_eq(res[0], -EPERM);
	cr_assert_eq(res[1], -EPERM);
	cr_assert_eq(ddp_sk_update(me, k.m.flow_id, &cfg), -EPERM);
	cr_assert_eq(ddp_resync(me, k.m.flow_id, 1, 1, true), -EPERM);
	cr_assert_eq(ddp_sk_del(me, k.m.flow_id), -EPERM);
	snprintf(want, sizeof(want),
		 "sk_del: flow %u belongs to another process", k.m.flow_id);
	cr_assert_str_eq(ddp_errmsg(me), want);
	assert_kid_intact(&k);
	after = stats();
	cr_assert_eq(after.ddp_setup, before.ddp_setup);
	cr_assert_eq(after.ddp_teardown, before.ddp_teardown);
	cr_assert_eq(after.queue_teardown, before.queue_teardown);
	cr_assert_eq(ddp_flow_mem(me, k.m.flow_id)->resync_reply, 0);
	kid_end(&k);
}

/* Tags point only into chunks their process holds, never at AF_XDP
 * frames (where target data could forge a frame's metadata). */
Test(owners, tags_point_only_into_the_callers_own_buffers)
{
	struct ddp_sk_config cfg = { .queue_size = 32,
				     .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS };
	struct pkt_flow fl = kid_flow(40001);
	struct ddp_flow_key key;
	struct ddp_seg seg;
	__u32 id, mine, frames, used;
	struct kid k;

	kid_start(&k, 40000, true);
	pkt_flow_key(&fl, &key);
	cr_assert_eq(ddp_sk_add(me, &key, &cfg, &id), 0, "%s", ddp_errmsg(me));
	cr_assert_eq(ddp_buf_alloc(me, 4096, 0, &mine), 0);
	cr_assert_eq(ddp_buf_alloc_frames(me, 6 << 20, &frames), 0);
	used = stats().ddp_setup_fail;
	/* the kid's buffer */
	seg = (struct ddp_seg){ k.m.buf + 65536, 4096 };
	cr_assert_eq(ddp_setup(me, id, 1, &seg, 1, NULL), -EPERM);
	cr_assert_str_eq(
		ddp_errmsg(me),
		"setup cid 1: a segment lies outside this process's buffers, or on AF_XDP frames");
	/* nobody's chunk */
	seg = (struct ddp_seg){ (16 << 20) - 8192, 4096 };
	cr_assert_eq(ddp_setup(me, id, 1, &seg, 1, NULL), -EPERM);
	/* our own AF_XDP frames */
	seg = (struct ddp_seg){ frames + 256, 4096 };
	cr_assert_eq(ddp_setup(me, id, 1, &seg, 1, NULL), -EPERM);
	/* one good segment does not carry a bad one */
	{
		struct ddp_seg two[2] = { { mine, 4096 },
					  { k.m.buf + 65536, 4096 } };

		cr_assert_eq(ddp_setup(me, id, 1, two, 2, NULL), -EPERM);
	}
	cr_assert_eq(stats().ddp_setup_fail, used + 4);
	seg = (struct ddp_seg){ mine, 4096 };
	cr_assert_eq(ddp_setup(me, id, 1, &seg, 1, NULL), 0, "%s",
		     ddp_errmsg(me));
	assert_kid_intact(&k);
	kid_end(&k);
}

/* A process that closes takes its flows, tags and chunks with it. */
Test(owners, a_closing_process_takes_its_flows_and_chunks)
{
	struct kid k;
	struct ddp_stats st;
	__u32 c, held, total;

	kid_start(&k, 40000, true);
	assert_kid_intact(&k);
	kid_end(&k); /* ddp_dev_close, no sk_del */
	cr_assert_eq(ddp_flow_mem(me, k.m.flow_id)->state, DDP_FLOW_FREE);
	cr_assert_eq(
		DDP_TAG_STATE(ddp_tag_mem(me, k.m.flow_id, k.m.tag)->stamp),
		DDP_TAG_FREE);
	for (c = 0; c < DDP_CHUNKS_MAX; c++)
		cr_assert_eq(me->info->chunk_owner[c], 0, "chunk %u kept", c);
	cr_assert_eq(ddp_region_chunks_held(me, &held, &total), 0);
	cr_assert_eq(held, 0);
	cr_assert_eq(total, 16);
	st = stats();
	cr_assert_eq(st.queue_init, st.queue_teardown);
	cr_assert_eq(st.ddp_setup, st.ddp_teardown);
}

/* A process killed mid-I/O: its chunks are not given to anyone before its
 * flows are deleted and its tags torn down and released. */
Test(owners, a_dead_process_is_reaped_before_its_chunks_are_reused)
{
	struct ddp_reaped r[4];
	struct kid k;
	__u32 off;

	kid_start(&k, 40000, false);
	/* the rest of the region is taken: only the kid's chunks remain */
	cr_assert_eq(ddp_buf_alloc(me, (16 << 20) - k.m.len, 0, &off), 0, "%s",
		     ddp_errmsg(me));
	cr_assert_eq(ddp_buf_alloc(me, 1 << 20, 0, &off), -ENOSPC,
		     "the kid's chunks, while it lives");
	kid_kill(&k);
	assert_kid_intact(&k); /* nobody has cleaned up yet */
	cr_assert_eq(ddp_buf_alloc(me, 1 << 20, 0, &off), 0, "%s",
		     ddp_errmsg(me));
	cr_assert_geq(off, k.m.buf);
	cr_assert_lt(off, k.m.buf + k.m.len, "a chunk of the dead kid's");
	cr_assert_eq(ddp_flow_mem(me, k.m.flow_id)->state, DDP_FLOW_FREE);
	cr_assert_eq(
		DDP_TAG_STATE(ddp_tag_mem(me, k.m.flow_id, k.m.tag)->stamp),
		DDP_TAG_FREE);
	cr_assert_eq(ddp_dev_reap(me, r, 4), 0, "reaped once is enough");
}

/* Liveness is not a pid: the kid lives in a pid namespace of its own
 * (it is pid 1 there); the engine names it by its pid in the initial
 * namespace, and finds it dead by its token when it is. */
Test(owners, an_owner_in_a_pid_namespace_is_told_by_its_token)
{
	struct ddp_reaped r[4];
	struct made m;
	int a[2], b[2], p[2], st;
	__u32 held, total;
	pid_t mid, kid = 0;
	char c;

	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	cr_assert_eq(pipe(p), 0);
	mid = fork();
	if (!mid) {
		struct ddp_dev *d;

		if (unshare(CLONE_NEWPID))
			_exit(1);
		kid = fork();
		if (!kid) {
			m.pid = getpid();
			if (kid_make(&d, &m, 40000))
				m.flow_id = 0;
			(void)!write(a[1], &m, sizeof(m));
			(void)!read(b[0], &c, 1);
			_exit(0);
		}
		(void)!write(p[1], &kid, sizeof(kid));
		waitpid(kid, &st, 0);
		_exit(0);
	}
	cr_assert_eq(read(p[0], &kid, sizeof(kid)), (ssize_t)sizeof(kid));
	cr_assert_eq(read(a[0], &m, sizeof(m)), (ssize_t)sizeof(m));
	cr_assert_neq(m.flow_id, 0);
	cr_assert_eq(m.pid, 1, "pid 1 in its own namespace");
	cr_assert_eq(me->info->owners[ddp_flow_mem(me, m.flow_id)->owner].tgid,
		     (__u32)kid, "named by its pid in the initial namespace");
	cr_assert_eq(ddp_dev_reap(me, r, 4), 0, "it lives");
	kill(kid, SIGKILL);
	cr_assert_eq(waitpid(mid, &st, 0), mid);
	/* dead, its chunks still its own until it is reaped */
	cr_assert_eq(ddp_region_chunks_held(me, &held, &total), 0);
	cr_assert_eq(held, 2);
	cr_assert_eq(total, 16);
	cr_assert_eq(ddp_dev_reap(me, r, 4), 1);
	cr_assert_eq(r[0].tgid, (__u32)kid);
	cr_assert_eq(r[0].flows, 1);
	cr_assert_eq(r[0].tags, 1);
	cr_assert_eq(r[0].chunks, 2);
	cr_assert_eq(ddp_flow_mem(me, m.flow_id)->state, DDP_FLOW_FREE);
	cr_assert_eq(ddp_region_chunks_held(me, &held, &total), 0);
	cr_assert_eq(held, 0, "the dead kid's chunks, reaped");
}

/* A flow id of a flow deleted names nothing, even once its slot serves
 * another connection of another process. */
Test(owners, a_stale_flow_id_acts_on_nothing)
{
	struct ddp_sk_config cfg = { .queue_size = 32,
				     .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS };
	struct pkt_flow fl = kid_flow(40001);
	struct ddp_flow_key key;
	struct kid k;
	__u32 old;
	int i;

	pkt_flow_key(&fl, &key);
	cr_assert_eq(ddp_sk_add(me, &key, &cfg, &old), 0);
	cr_assert_eq(ddp_sk_del(me, old), 0);
	for (i = 0; i < 200 && ddp_flow_mem(me, old)->state != DDP_FLOW_FREE;
	     i++)
		usleep(10000);
	kid_start(&k, 40000, true);
	cr_assert_eq(DDP_FLOW_SLOT(k.m.flow_id), DDP_FLOW_SLOT(old),
		     "the slot was not reused");
	cr_assert_eq(ddp_sk_del(me, old), -ENOENT);
	cr_assert_eq(ddp_teardown(me, old, 1, NULL), -ENOENT);
	assert_kid_intact(&k);
	kid_end(&k);
}

/* What a process finds of one of its mappings of the engine's maps */
struct mapped {
	char perms[5]; /* as /proc/self/maps says: "r--s" read-only, shared */
	int write_sig; /* what a write through it ended in: the signal, or 0 */
	int mprotect_err; /* errno of making it writable; 0: it was made so */
};

enum { MAP_INFO, MAP_FLOWS, MAP_TAGS, MAP_RECS, MAP_BUFS, NMAPS };
static const char *const map_name[NMAPS] = { "ddp_info", "ddp_flows",
					     "ddp_tags", "ddp_recs",
					     "the region" };

static void perms_of(const void *p, char perms[5])
{
	unsigned long lo, hi;
	char line[512], pr[5];
	FILE *f = fopen("/proc/self/maps", "r");

	strcpy(perms, "?");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 &&
		    (unsigned long)p >= lo && (unsigned long)p < hi) {
			memcpy(perms, pr, 5);
			break;
		}
	if (f)
		fclose(f);
}

/* Write the byte at p (the value it holds: were the write to land, it
 * would change nothing) in a child of ours: how that ended. */
static int write_sig(volatile __u8 *p)
{
	struct rlimit none = { 0, 0 };
	pid_t pid = fork();
	int st;

	if (!pid) {
		/* no core file of it, nor a crash report */
		setrlimit(RLIMIT_CORE, &none);
		prctl(PR_SET_DUMPABLE, 0);
		*p = *p;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* The mappings of d: every map it must not write, and the region. */
static void probe_maps(struct ddp_dev *d, __u32 buf, struct mapped out[NMAPS])
{
	long page = sysconf(_SC_PAGESIZE);
	__u8 *const p[NMAPS] = { (__u8 *)d->info, (__u8 *)d->flows,
				 (__u8 *)d->tags, (__u8 *)d->recs,
				 d->bufs + buf };
	int i;

	for (i = 0; i < NMAPS; i++) {
		perms_of(p[i], out[i].perms);
		out[i].write_sig = write_sig(p[i]);
		out[i].mprotect_err =
			mprotect((void *)((unsigned long)p[i] & ~(page - 1)),
				 page, PROT_READ | PROT_WRITE) ?
				errno :
				0;
	}
}

static void assert_mapped(const struct mapped m[NMAPS], const char *who)
{
	int i;

	for (i = 0; i < MAP_BUFS; i++) {
		cr_assert_str_eq(m[i].perms, "r--s", "%s: %s mapped %s", who,
				 map_name[i], m[i].perms);
		cr_assert_eq(m[i].write_sig, SIGSEGV,
			     "%s: a write through %s ended in %d", who,
			     map_name[i], m[i].write_sig);
		cr_assert_eq(m[i].mprotect_err, EACCES,
			     "%s: %s made writable: %s", who, map_name[i],
			     strerror(m[i].mprotect_err));
	}
	/* the one the processes write, as the engine does */
	cr_assert_str_eq(m[MAP_BUFS].perms, "rw-s", "%s", who);
	cr_assert_eq(m[MAP_BUFS].write_sig, 0, "%s", who);
	cr_assert_eq(m[MAP_BUFS].mprotect_err, 0, "%s", who);
}

/* Flows, tags, records and ddp_info are written by the control programs
 * and the engine only: a process that joined (here an owner, with a flow,
 * a tag and a buffer) maps them read-only, and the kernel refuses to make
 * those mappings writable; the region alone is mapped read-write. So
 * for the process that attached. */
Test(owners, what_a_joiner_must_not_write_is_mapped_read_only)
{
	struct mapped kid[NMAPS], mine[NMAPS];
	struct made m;
	int a[2], st;
	__u32 off;
	pid_t pid;

	cr_assert_eq(pipe(a), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		struct ddp_dev *d = NULL;

		memset(kid, 0, sizeof(kid));
		if (!kid_make(&d, &m, 40000))
			probe_maps(d, m.buf, kid);
		(void)!write(a[1], kid, sizeof(kid));
		ddp_dev_close(d);
		_exit(0);
	}
	cr_assert_eq(read(a[0], kid, sizeof(kid)), (ssize_t)sizeof(kid));
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && !WEXITSTATUS(st));
	cr_assert_neq(kid[MAP_INFO].perms[0], 0, "the kid could not join");
	assert_mapped(kid, "the process that joined");
	cr_assert_eq(ddp_buf_alloc(me, 4096, 0, &off), 0, "%s", ddp_errmsg(me));
	probe_maps(me, off, mine);
	assert_mapped(mine, "the process that attached");
}
