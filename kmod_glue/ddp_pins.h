/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef DDP_PINS_H
#define DDP_PINS_H

#include <linux/fs.h>
#include <linux/scatterlist.h>
#include <linux/types.h>
#include "ddp.h"

/* A buffer for tags to place into: of a process's memory, pinned through
 * the device, or kernel pages an in-kernel L5P registered. */
struct ddp_pin {
	u64 id; /* the generation above, the slot in ddp_pins below */
	struct pid *tgid; /* the process that pinned it; NULL: kernel pages */
	struct file *file; /* its open of the device, which owns the pin */
	struct page **pages;
	unsigned long npages;
	u64 len;
	u32 first; /* the buffer's offset in its first page */
};

/* The live pin of id, or NULL; under rcu_read_lock (XDP runs under it),
 * and valid until the caller's read-side section ends. */
struct ddp_pin *ddp_pin_find(u64 id);
/* Copy len bytes from src to the pin at off (within it: the caller checks). */
void ddp_pin_write(struct ddp_pin *p, u64 off, const void *src, u32 len);

/* The device's requests (ddp_dev.c) */
int ddp_pin_new(struct file *file, struct ddp_pin_req __user *ureq);
int ddp_pin_drop(struct file *file, struct ddp_pin_req __user *ureq);
void ddp_pins_release(struct file *file);

/* A pin of the kernel pages of nents entries of sgl, findable; segs[i] is
 * where entry i lies in it. Retired in two steps: unpublished (found no
 * more), then put once no XDP program can hold it (a grace period). */
struct ddp_pin *ddp_pin_kernel(struct scatterlist *sgl, int nents,
			       struct ddp_seg *segs);
void ddp_pin_unpublish(struct ddp_pin *p);
void ddp_pin_put(struct ddp_pin *p);

#endif
