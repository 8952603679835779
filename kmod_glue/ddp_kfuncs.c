// SPDX-License-Identifier: GPL-2.0-only
/*
 * ddp_kfuncs.c - the kfuncs the engine calls from XDP. Their names and
 * arguments are the engine's ABI with the module (bpf/ddp_ddgst.h
 * declares them there): change both together.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/crc32c.h>
#include "ddp_kfuncs.h"

/* Before 6.9 a kfunc set is a plain BTF_SET8; from then on it must say it
 * is one, and a kfunc is marked kept whole (6.2) */
#ifndef BTF_KFUNCS_START
#define BTF_KFUNCS_START BTF_SET8_START
#define BTF_KFUNCS_END BTF_SET8_END
#endif
#ifndef __bpf_kfunc
#define __bpf_kfunc __used noinline
#endif

__diag_push();
__diag_ignore_all("-Wmissing-prototypes",
		  "Global functions as their definitions will be in BTF");

/*
 * The CRC32C of buf[off, off + len), continuing crc: neither inverted on
 * the way in nor out, as the engine's own; of no byte past the buffer
 * (the verifier proves buf__sz bytes there, not the sum of two numbers).
 * The kernel's crc32c, which uses the CPU's instruction where there is one.
 */
__bpf_kfunc u32 bpf_ddp_crc32c(u32 crc, const void *buf, u32 buf__sz, u32 off,
			       u32 len)
{
	if (off >= buf__sz)
		return crc;
	return crc32c(crc, buf + off, min(len, buf__sz - off));
}

__diag_pop();

BTF_KFUNCS_START(ddp_xdp_kfunc_ids)
BTF_ID_FLAGS(func, bpf_ddp_crc32c)
BTF_KFUNCS_END(ddp_xdp_kfunc_ids)

static const struct btf_kfunc_id_set ddp_xdp_kfuncs = {
	.owner = THIS_MODULE,
	.set = &ddp_xdp_kfunc_ids,
};

int ddp_kfuncs_register(void)
{
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &ddp_xdp_kfuncs);
}
