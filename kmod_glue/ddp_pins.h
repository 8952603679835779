/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef DDP_PINS_H
#define DDP_PINS_H

#include <linux/types.h>

/* A buffer of a process's memory, pinned for tags to place into. */
struct ddp_pin {
	u64 id; /* the generation above, the slot in ddp_pins below */
	struct pid *tgid; /* the process that pinned it */
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

int ddp_pins_register(void);
void ddp_pins_unregister(void);

#endif
