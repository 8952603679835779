// SPDX-License-Identifier: GPL-2.0-only
/*
 * ddp_glue: the kernel half of the engine. Loaded, it offers the engine
 * kfuncs for what BPF cannot do well: the data digest's CRC32C with the
 * kernel's crc32c, and placement into buffers of any process's memory,
 * pinned through its device (ddp_pins.c). The engine finds them at load
 * (ddpctl attach, the test suites) and does without them otherwise. And
 * it offers in-kernel L5Ps the specification's device interface
 * (tcp_ddp.h) on an engine attached while it is loaded (ddp_engine.c).
 */
#include <linux/module.h>
#include "ddp_dev.h"
#include "ddp_engine.h"
#include "ddp_kfuncs.h"
#include "tcp_ddp_priv.h"

static int __init ddp_glue_init(void)
{
	int err = ddp_engine_register();

	if (err)
		return err;
	err = ddp_dev_register();
	if (err)
		goto engine;
	err = ddp_kfuncs_register();
	if (err)
		goto dev;
	return 0;
dev:
	ddp_dev_unregister();
engine:
	ddp_engine_unregister();
	return err;
}

static void __exit ddp_glue_exit(void)
{
	/* kfunc sets leave with the module's BTF; a program that calls one
	 * holds a reference on the module, so none is running now, and no
	 * engine is bound (the binding holds the programs); an L5P using
	 * the API holds the module too */
	ddp_dev_unregister();
	ddp_engine_unregister();
	tcp_ddp_flush();
}

module_init(ddp_glue_init);
module_exit(ddp_glue_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TCP DDP for NVMe/TCP in XDP: the kernel half");
