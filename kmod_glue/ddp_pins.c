// SPDX-License-Identifier: GPL-2.0-only
/*
 * ddp_pins.c - buffers of any process's memory for tags to place into.
 *
 * A process opens /dev/ddp_glue and pins a buffer (DDP_IOC_PIN): its pages
 * are pinned (FOLL_LONGTERM, writable) and the pin gets an id it passes
 * to ddp_setup. The engine's XDP program copies into the pages through a
 * kfunc that finds the pin by id under RCU. A pin goes when its process
 * unpins it or closes the device (exit included): removed from the table
 * first, then, once every XDP program that may have found it is done
 * (synchronize_rcu), its pages are unpinned. So no placement writes a
 * page after it is unpinned, whatever its tags' state: a tag whose pin is
 * gone places nothing. Ids are never reused (a 44-bit generation above
 * the table's 20-bit slot; pinning stops before it wraps), so a stale tag
 * cannot reach another buffer. Only anonymous memory is pinned: writing
 * a file's page cache behind its filesystem (which 6.1 lets a long-term
 * pin do) is not this module's to do.
 *
 * In-kernel L5Ps register kernel pages (tcp_ddp_setup's sg_table): a pin
 * of no process, its pages referenced rather than pinned, made and
 * retired by tcp_ddp.c the same way.
 */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include "ddp.h"
#include "ddp_pins.h"

#define DDP_PIN_SLOT_BITS 20
#define DDP_PIN_SLOT(id) ((u32)((id) & ((1u << DDP_PIN_SLOT_BITS) - 1)))

static DEFINE_XARRAY_ALLOC1(ddp_pins);
static atomic64_t ddp_pin_gen = ATOMIC64_INIT(0);

struct ddp_pin *ddp_pin_find(u64 id)
{
	struct ddp_pin *p = xa_load(&ddp_pins, DDP_PIN_SLOT(id));

	return p && p->id == id ? p : NULL;
}

void ddp_pin_write(struct ddp_pin *p, u64 off, const void *src, u32 len)
{
	u64 at = p->first + off;

	while (len) {
		unsigned long i = at >> PAGE_SHIFT;
		u32 in = at & ~PAGE_MASK;
		u32 n = min_t(u32, len, PAGE_SIZE - in);
		void *dst = kmap_local_page(p->pages[i]);

		memcpy(dst + in, src, n);
		kunmap_local(dst);
		src += n;
		at += n;
		len -= n;
	}
}

static void ddp_pin_free(struct ddp_pin *p, bool dirty)
{
	unsigned long i;

	if (p->tgid) {
		unpin_user_pages_dirty_lock(p->pages, p->npages, dirty);
		put_pid(p->tgid);
	} else {
		for (i = 0; i < p->npages; i++)
			put_page(p->pages[i]);
	}
	kvfree(p->pages);
	kfree(p);
}

/* Give p an id and make it findable; or free it and say why not. */
static int ddp_pin_publish(struct ddp_pin *p, u32 *slot)
{
	u64 gen = atomic64_inc_return(&ddp_pin_gen);
	int err;

	if (gen >= 1ull << (64 - DDP_PIN_SLOT_BITS)) {
		ddp_pin_free(p, true);
		return -ENOSPC;
	}
	err = xa_alloc(&ddp_pins, slot, NULL,
		       XA_LIMIT(1, (1u << DDP_PIN_SLOT_BITS) - 1), GFP_KERNEL);
	if (err) {
		ddp_pin_free(p, true);
		return err;
	}
	p->id = gen << DDP_PIN_SLOT_BITS | *slot;
	return 0;
}

struct ddp_pin *ddp_pin_kernel(struct scatterlist *sgl, int nents,
			       struct ddp_seg *segs)
{
	struct scatterlist *sg;
	struct ddp_pin *p;
	unsigned long n = 0;
	u32 slot;
	int i, err;

	for_each_sg(sgl, sg, nents, i) {
		u64 off = sg->offset & ~PAGE_MASK;

		if (!sg->length)
			return ERR_PTR(-EINVAL);
		n += DIV_ROUND_UP(off + sg->length, PAGE_SIZE);
	}
	/* segments are 32-bit offsets into the pin */
	if ((u64)n * PAGE_SIZE > U32_MAX)
		return ERR_PTR(-EINVAL);
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);
	p->pages = kvmalloc_array(n, sizeof(*p->pages), GFP_KERNEL);
	if (!p->pages) {
		kfree(p);
		return ERR_PTR(-ENOMEM);
	}
	/* each entry in pages of its own, from where its first byte lies */
	for_each_sg(sgl, sg, nents, i) {
		struct page *pg =
			nth_page(sg_page(sg), sg->offset >> PAGE_SHIFT);
		u32 off = sg->offset & ~PAGE_MASK;
		unsigned long k;
		unsigned long span = DIV_ROUND_UP(off + sg->length, PAGE_SIZE);

		segs[i].addr = p->npages * PAGE_SIZE + off;
		segs[i].len = sg->length;
		for (k = 0; k < span; k++) {
			p->pages[p->npages] = nth_page(pg, k);
			get_page(p->pages[p->npages++]);
		}
	}
	p->len = (u64)n * PAGE_SIZE;
	err = ddp_pin_publish(p, &slot);
	if (err)
		return ERR_PTR(err);
	WARN_ON(xa_is_err(xa_store(&ddp_pins, slot, p, GFP_KERNEL)));
	return p;
}

void ddp_pin_unpublish(struct ddp_pin *p)
{
	xa_cmpxchg(&ddp_pins, DDP_PIN_SLOT(p->id), p, NULL, GFP_KERNEL);
}

void ddp_pin_put(struct ddp_pin *p)
{
	ddp_pin_free(p, true);
}

int ddp_pin_new(struct file *file, struct ddp_pin_req __user *ureq)
{
	struct ddp_pin_req req;
	struct ddp_pin *p;
	unsigned long i;
	long got;
	u32 slot;
	int err;

	if (copy_from_user(&req, ureq, sizeof(req)))
		return -EFAULT;
	if (!req.len || req.len > DDP_PIN_MAX || req.addr + req.len < req.addr)
		return -EINVAL;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->first = req.addr & ~PAGE_MASK;
	p->len = req.len;
	p->npages = DIV_ROUND_UP(p->first + req.len, PAGE_SIZE);
	p->pages = kvmalloc_array(p->npages, sizeof(*p->pages), GFP_KERNEL);
	if (!p->pages) {
		kfree(p);
		return -ENOMEM;
	}
	got = pin_user_pages_fast(req.addr & PAGE_MASK, p->npages,
				  FOLL_WRITE | FOLL_LONGTERM, p->pages);
	if (got != p->npages) {
		if (got > 0)
			unpin_user_pages(p->pages, got);
		kvfree(p->pages);
		kfree(p);
		return got < 0 ? got : -EFAULT;
	}
	p->tgid = get_pid(task_tgid(current));
	p->file = file;
	for (i = 0; i < p->npages; i++)
		if (!PageAnon(p->pages[i])) {
			/* never written: not marked dirty */
			ddp_pin_free(p, false);
			return -EINVAL;
		}
	err = ddp_pin_publish(p, &slot);
	if (err)
		return err;
	req.id = p->id;
	if (copy_to_user(ureq, &req, sizeof(req))) {
		xa_erase(&ddp_pins, slot);
		ddp_pin_free(p, true);
		return -EFAULT;
	}
	/* findable only now, complete; a reserved slot takes it */
	WARN_ON(xa_is_err(xa_store(&ddp_pins, slot, p, GFP_KERNEL)));
	return 0;
}

/* Take the pins of file (all of them if id is 0) out of the table, then
 * unpin them once no XDP program can hold one. */
static int ddp_pins_drop(struct file *file, u64 id)
{
	struct ddp_pin *p, *gone[16];
	unsigned long slot;
	int n = 0, i, found = 0;

	do {
		n = 0;
		xa_lock(&ddp_pins);
		xa_for_each(&ddp_pins, slot, p)
		{
			if (p->file != file || (id && p->id != id))
				continue;
			__xa_erase(&ddp_pins, slot);
			gone[n++] = p;
			if (n == ARRAY_SIZE(gone))
				break;
		}
		xa_unlock(&ddp_pins);
		if (!n)
			break;
		synchronize_rcu();
		for (i = 0; i < n; i++)
			ddp_pin_free(gone[i], true);
		found += n;
	} while (n == ARRAY_SIZE(gone));
	return found;
}

int ddp_pin_drop(struct file *file, struct ddp_pin_req __user *ureq)
{
	struct ddp_pin_req req;

	if (copy_from_user(&req, ureq, sizeof(req)))
		return -EFAULT;
	if (!req.id)
		return -EINVAL;
	/* only the pins of this open */
	return ddp_pins_drop(file, req.id) ? 0 : -ENOENT;
}

void ddp_pins_release(struct file *file)
{
	ddp_pins_drop(file, 0);
}
