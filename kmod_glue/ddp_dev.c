// SPDX-License-Identifier: GPL-2.0-only
/*
 * ddp_dev.c - the module's device, /dev/ddp_glue (root only): pins of a
 * process's buffers (ddp_pins.c), and engines bound to the in-kernel L5P
 * API and unbound (ddp_engine.c).
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>
#include "ddp_dev.h"
#include "ddp_engine.h"
#include "ddp_pins.h"

static long ddp_dev_bind(const void __user *arg)
{
	struct ddp_bind_req req;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	return ddp_engine_bind(&req);
}

static long ddp_dev_unbind(const void __user *arg)
{
	u32 ifindex;

	if (copy_from_user(&ifindex, arg, sizeof(ifindex)))
		return -EFAULT;
	return ddp_engine_unbind(current->nsproxy->net_ns, ifindex);
}

static long ddp_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
	case DDP_IOC_PIN:
		return ddp_pin_new(file, (void __user *)arg);
	case DDP_IOC_UNPIN:
		return ddp_pin_drop(file, (void __user *)arg);
	case DDP_IOC_BIND:
		return ddp_dev_bind((void __user *)arg);
	case DDP_IOC_UNBIND:
		return ddp_dev_unbind((void __user *)arg);
	}
	return -ENOTTY;
}

static int ddp_dev_release(struct inode *inode, struct file *file)
{
	ddp_pins_release(file);
	return 0;
}

static const struct file_operations ddp_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = ddp_dev_ioctl,
	.release = ddp_dev_release,
};

static struct miscdevice ddp_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = DDP_KMOD_NAME,
	.fops = &ddp_dev_fops,
	.mode = 0600,
};

int ddp_dev_register(void)
{
	return misc_register(&ddp_dev);
}

void ddp_dev_unregister(void)
{
	/* no open is left: each holds the module */
	misc_deregister(&ddp_dev);
}
