// SPDX-License-Identifier: GPL-2.0-only
/*
 * ddp_l5p_test: an in-kernel L5P that proves kmod_glue's API (tcp_ddp.h)
 * against ddp-target. It reads over a kernel TCP socket into kernel pages
 * registered with tcp_ddp_setup, skips what the engine placed, answers
 * its resync requests, tears each buffer down asynchronously, and checks
 * every byte against the target's pattern.
 *
 *   insmod ddp_l5p_test.ko addr=A.B.C.D [port=4420] [nqn=NQN]
 *          [mode=reads|bad|background] [seconds=5] [min_kb=32] [max_kb=1024]
 *
 * reads       reads of min_kb to max_kb for `seconds`, at insmod;
 * bad         the API's answers to bad input, then one good read;
 * background  reads from a thread until rmmod, which stops it with a
 *             buffer registered and deletes the flow, as a queue's error
 *             path would.
 * What it did is in /sys/module/ddp_l5p_test/parameters/result and the
 * kernel log; insmod fails if it could not connect.
 */
#include <linux/completion.h>
#include <linux/inet.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "l5p.h"
#include "pattern.h"

static char *addr = "";
static ushort port = 4420;
static char *nqn = "nqn.2024-01.io.ddp:target";
static char *mode = "reads";
static uint seconds = 5;
static uint min_kb = 32;
static uint max_kb = 1024;
static char result[320] = "not run";
module_param(addr, charp, 0444);
module_param(port, ushort, 0444);
module_param(nqn, charp, 0444);
module_param(mode, charp, 0444);
module_param(seconds, uint, 0444);
module_param(min_kb, uint, 0444);
module_param(max_kb, uint, 0444);
module_param_string(result, result, sizeof(result), 0444);

#define L5P_BUFS 8
#define L5P_BUF_MAX (1u << 20)

/* A buffer, reused once its teardown is done */
struct l5p_buf {
	void *mem; /* vmalloc: kernel pages, one sg entry each */
	struct tcp_ddp_io io;
	struct completion done; /* its teardown */
	bool busy; /* a teardown pending */
};

static struct l5p {
	struct l5p_queue admin, io;
	struct l5p_buf bufs[L5P_BUFS];
	u64 nblocks;
	u32 lba_shift;
	u64 reads, bytes, placed, copied, bad, setup_fail;
	bool offloaded; /* the I/O queue, at connect */
	struct task_struct *thread;
	int err;
} l5p;

static void l5p_teardown_done(void *ctx)
{
	complete(&((struct l5p_buf *)ctx)->done);
}

static const struct tcp_ddp_ulp_ops l5p_ulp_ops = {
	.resync_request = l5p_resync_request,
	.ddp_teardown_done = l5p_teardown_done,
};

static void l5p_buf_wait(struct l5p_buf *b)
{
	if (b->busy)
		wait_for_completion(&b->done);
	b->busy = false;
}

/* b's first len bytes as an sg_table of kernel pages, entries of step
 * bytes */
static int l5p_buf_sg(struct l5p_buf *b, u32 len, u32 step)
{
	int nents = DIV_ROUND_UP(len, step), i, err;
	struct scatterlist *sg;

	err = sg_alloc_table(&b->io.sg_table, nents, GFP_KERNEL);
	if (err)
		return err;
	for_each_sg(b->io.sg_table.sgl, sg, nents, i) {
		void *at = b->mem + i * step;

		sg_set_page(sg, vmalloc_to_page(at), min(step, len - i * step),
			    offset_in_page(at));
	}
	b->io.nents = nents;
	return 0;
}

/* Register b for command cid: 0, or the API's refusal */
static int l5p_buf_setup(struct l5p_buf *b, u16 cid, u32 len, u32 step)
{
	struct l5p_queue *q = &l5p.io;
	int err;

	b->io.command_id = cid;
	err = l5p_buf_sg(b, len, step);
	if (err)
		return err;
	err = tcp_ddp_setup(q->netdev, q->sock->sk, &b->io);
	/* the module holds the pages from setup to teardown_done */
	sg_free_table(&b->io.sg_table);
	return err;
}

static int l5p_buf_teardown(struct l5p_buf *b)
{
	struct l5p_queue *q = &l5p.io;
	int err;

	reinit_completion(&b->done);
	err = tcp_ddp_teardown(q->netdev, q->sock->sk, &b->io, b);
	b->busy = !err;
	return err;
}

/* One read of len bytes from block slba into b, checked */
static int l5p_read(struct l5p_buf *b, u64 slba, u32 len, bool *stop)
{
	struct l5p_queue *q = &l5p.io;
	struct nvme_sqe sqe = { .opcode = NVME_CMD_READ,
				.flags = NVME_SGL_PSDT,
				.cid = q->next_cid++,
				.nsid = 1,
				.sgl_len = len,
				.sgl_type = NVME_SGL_TRANSPORT,
				.cdw10 = (u32)slba,
				.cdw11 = slba >> 32,
				.cdw12 = (len >> l5p.lba_shift) - 1 };
	struct l5p_data d = { .buf = b->mem, .len = len };
	s64 wrong;
	int err;

	l5p_buf_wait(b);
	memset(b->mem, 0, len); /* nothing of an earlier read passes */
	if (q->offloaded) {
		d.ddp = !l5p_buf_setup(b, sqe.cid, len, PAGE_SIZE);
		l5p.setup_fail += !d.ddp;
	}
	/* stopped with the buffer registered: the caller deletes the flow */
	if (stop && kthread_should_stop()) {
		*stop = true;
		return 0;
	}
	err = l5p_command(q, &sqe, &d, NULL);
	/* rmmod's stop interrupts a receive (-EINTR): the same */
	if (stop && kthread_should_stop()) {
		*stop = true;
		return 0;
	}
	if (d.ddp)
		l5p_buf_teardown(b);
	if (err)
		return err < 0 ? err : -EIO;
	wrong = ddp_pattern_check(b->mem, slba << l5p.lba_shift, len);
	if (wrong >= 0) {
		if (!l5p.bad)
			pr_err("ddp_l5p_test: read of %u bytes at block %llu: byte %lld wrong\n",
			       len, slba, wrong);
		l5p.bad++;
	}
	l5p.reads++;
	l5p.bytes += len;
	l5p.placed += d.placed;
	l5p.copied += d.copied;
	return 0;
}

static int l5p_read_random(bool *stop)
{
	u32 lba = 1u << l5p.lba_shift;
	u32 lo = max(min_kb << 10, lba), hi = min(max_kb << 10, L5P_BUF_MAX);
	u32 len = lo + get_random_u32() % (hi - lo + 1);
	u64 blocks, slba;

	len -= len % lba;
	blocks = len >> l5p.lba_shift;
	slba = get_random_u64() % (l5p.nblocks - blocks + 1);
	return l5p_read(&l5p.bufs[l5p.reads % L5P_BUFS], slba, len, stop);
}

/* Identify Namespace 1: its size and block size */
static int l5p_ns(void)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADM_IDENTIFY,
				.flags = NVME_SGL_PSDT,
				.cid = l5p.admin.next_cid++,
				.nsid = 1,
				.sgl_len = NVME_IDENTIFY_LEN,
				.sgl_type = NVME_SGL_TRANSPORT,
				.cdw10 = NVME_ID_CNS_NS };
	struct l5p_data d = { .len = NVME_IDENTIFY_LEN };
	u8 *id = kzalloc(d.len, GFP_KERNEL);
	int err;

	if (!id)
		return -ENOMEM;
	d.buf = id;
	err = l5p_command(&l5p.admin, &sqe, &d, NULL);
	if (!err) {
		memcpy(&l5p.nblocks, id + NVME_IDNS_NSZE, 8);
		l5p.lba_shift = id[NVME_IDNS_LBAF0 + 2];
	}
	kfree(id);
	if (!err && (l5p.lba_shift < 9 || l5p.lba_shift > 12 ||
		     l5p.nblocks < (L5P_BUF_MAX >> l5p.lba_shift)))
		err = -EINVAL;
	return err > 0 ? -EIO : err;
}

/* The admin queue, the controller enabled, one I/O queue offloaded */
static int l5p_connect(void)
{
	u64 cc = NVME_CC_EN | (6u << 16) | (4u << 20), csts = 0;
	__be32 a;
	u16 cntlid = 0;
	int err, tries;

	if (!in4_pton(addr, -1, (u8 *)&a, -1, NULL)) {
		pr_err("ddp_l5p_test: addr='%s' is not an IPv4 address\n",
		       addr);
		return -EINVAL;
	}
	err = l5p_queue_open(&l5p.admin, a, port, 0) ?:
		      l5p_fabrics_connect(&l5p.admin, nqn, 0xffff, &cntlid) ?:
		      l5p_prop(&l5p.admin, true, NVME_REG_CC, &cc);
	for (tries = 0; !err && !(csts & NVME_CSTS_RDY) && tries < 100; tries++)
		err = l5p_prop(&l5p.admin, false, NVME_REG_CSTS, &csts);
	if (!err && !(csts & NVME_CSTS_RDY))
		err = -ETIMEDOUT;
	err = err ?: l5p_ns() ?: l5p_queue_open(&l5p.io, a, port, 1);
	if (err)
		return err > 0 ? -EIO : err;
	/* offloaded right after ICResp, nothing in flight: at a PDU */
	err = l5p_queue_offload(&l5p.io, &l5p_ulp_ops);
	l5p.offloaded = !err;
	if (err)
		pr_warn("ddp_l5p_test: I/O queue in software: tcp_ddp_sk_add: %d\n",
			err);
	err = l5p_fabrics_connect(&l5p.io, nqn, cntlid, NULL);
	return err > 0 ? -EIO : err;
}

/* Each bad call returns its error; nothing registered stays */
static int l5p_bad_input(void)
{
	struct l5p_queue *q = &l5p.io;
	struct nvme_tcp_ddp_config c = {
		.cfg = { .type = TCP_DDP_NVME, .ulp_ops = &l5p_ulp_ops },
		.queue_size = 32,
	};
	struct l5p_buf *b0 = &l5p.bufs[0], *b1 = &l5p.bufs[1];
	struct socket *fresh;
	bool placed;
	int err, fails = 0;

#define L5P_EXPECT(call, want)                                               \
	do {                                                                 \
		err = (call);                                                \
		if (err != (want)) {                                         \
			pr_err("ddp_l5p_test: %s: %d, not %d\n", #call, err, \
			       want);                                        \
			fails++;                                             \
		}                                                            \
	} while (0)

	if (!q->offloaded)
		return -ENODEV;
	/* a socket the engine does not know */
	L5P_EXPECT(l5p_buf_setup(b0, 1, PAGE_SIZE, PAGE_SIZE), 0);
	l5p_buf_teardown(b0);
	L5P_EXPECT(tcp_ddp_setup(q->netdev, l5p.admin.sock->sk, &b0->io),
		   -ENOENT);
	L5P_EXPECT(tcp_ddp_teardown(q->netdev, l5p.admin.sock->sk, &b0->io,
				    b0),
		   -ENOENT);
	L5P_EXPECT(tcp_ddp_placed(q->netdev, l5p.admin.sock->sk, 0, 100, 1,
				  &placed) == 100 &&
			   !placed,
		   1);
	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &fresh);
	if (!err) {
		L5P_EXPECT(tcp_ddp_sk_add(q->netdev, fresh->sk, &c.cfg),
			   -ENOTCONN);
		sock_release(fresh);
	}
	/* offloaded twice, or with a bad config */
	L5P_EXPECT(tcp_ddp_sk_add(q->netdev, q->sock->sk, &c.cfg), -EEXIST);
	c.cfg.type = 0;
	L5P_EXPECT(tcp_ddp_sk_add(q->netdev, q->sock->sk, &c.cfg), -EINVAL);
	/* a CID with a buffer already; more entries than a tag takes */
	l5p_buf_wait(b0);
	L5P_EXPECT(l5p_buf_setup(b0, 7, PAGE_SIZE, PAGE_SIZE), 0);
	L5P_EXPECT(l5p_buf_setup(b1, 7, PAGE_SIZE, PAGE_SIZE), -EEXIST);
	L5P_EXPECT(l5p_buf_setup(b1, 8, 512 * (DDP_MAX_SEGS + 1), 512),
		   -EINVAL);
	L5P_EXPECT(l5p_buf_teardown(b0), 0);
	/* teardown of a CID with no buffer, or torn down already */
	b1->io.command_id = 9;
	L5P_EXPECT(tcp_ddp_teardown(q->netdev, q->sock->sk, &b1->io, b1),
		   -ENOENT);
	b1->io.command_id = 7;
	L5P_EXPECT(tcp_ddp_teardown(q->netdev, q->sock->sk, &b1->io, b1),
		   -ENOENT);
#undef L5P_EXPECT
	return fails ? -EINVAL : 0;
}

static void l5p_report(const char *what)
{
	snprintf(result, sizeof(result),
		 "%s reads=%llu bytes=%llu placed=%llu copied=%llu bad=%llu setup_fail=%llu resyncs=%llu confirmed=%llu offloaded=%d err=%d",
		 what, l5p.reads, l5p.bytes, l5p.placed, l5p.copied, l5p.bad,
		 l5p.setup_fail, l5p.io.resyncs, l5p.io.confirmed,
		 l5p.offloaded, l5p.err);
	pr_info("ddp_l5p_test: %s\n", result);
}

static void l5p_close(void)
{
	int i;

	/* flow deleted first: a buffer still registered is let go there */
	l5p_queue_close(&l5p.io);
	for (i = 0; i < L5P_BUFS; i++)
		l5p_buf_wait(&l5p.bufs[i]);
	l5p_queue_close(&l5p.admin);
}

static int l5p_thread(void *arg)
{
	bool stop = false;

	/* stops in a read, its buffer registered (l5p_read) */
	while (!l5p.err && !stop)
		l5p.err = l5p_read_random(&stop);
	/* rmmod's with a buffer registered, or an error's */
	l5p_close();
	l5p_report(stop ? "stopped" : "failed");
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 10);
	return 0;
}

static int __init l5p_init(void)
{
	unsigned long end = jiffies + seconds * HZ;
	int i, err;

	if (min_kb > max_kb || !max_kb || max_kb > L5P_BUF_MAX >> 10) {
		pr_err("ddp_l5p_test: min_kb=%u max_kb=%u: 0 < min_kb <= max_kb <= %u\n",
		       min_kb, max_kb, L5P_BUF_MAX >> 10);
		return -EINVAL;
	}
	for (i = 0; i < L5P_BUFS; i++) {
		l5p.bufs[i].mem = vmalloc(L5P_BUF_MAX);
		init_completion(&l5p.bufs[i].done);
		if (!l5p.bufs[i].mem)
			goto nomem;
	}
	err = l5p_connect();
	if (err) {
		pr_err("ddp_l5p_test: connecting to %s port %u: %d\n", addr,
		       port, err);
		l5p_close();
		goto free;
	}
	if (!strcmp(mode, "background")) {
		l5p.thread = kthread_run(l5p_thread, NULL, "ddp_l5p_test");
		if (!IS_ERR(l5p.thread)) {
			l5p_report("running");
			return 0;
		}
		err = PTR_ERR(l5p.thread);
		l5p.thread = NULL;
	} else if (!strcmp(mode, "bad")) {
		l5p.err = l5p_bad_input() ?: l5p_read_random(NULL);
	} else if (!strcmp(mode, "reads")) {
		while (!l5p.err && time_before(jiffies, end))
			l5p.err = l5p_read_random(NULL);
	} else {
		pr_err("ddp_l5p_test: mode=%s: reads, bad or background\n",
		       mode);
		err = -EINVAL;
	}
	l5p_close();
	if (err)
		goto free;
	l5p_report(l5p.err ? "failed" : "done");
	return 0;
nomem:
	err = -ENOMEM;
free:
	for (i = 0; i < L5P_BUFS; i++)
		vfree(l5p.bufs[i].mem);
	return err;
}

static void __exit l5p_exit(void)
{
	int i;

	if (l5p.thread)
		kthread_stop(l5p.thread);
	for (i = 0; i < L5P_BUFS; i++)
		vfree(l5p.bufs[i].mem);
}

module_init(l5p_init);
module_exit(l5p_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmod_glue's test L5P: NVMe/TCP reads through tcp_ddp.h");
