// SPDX-License-Identifier: GPL-2.0-only
/*
 * ddp_kfuncs.c - the kfuncs the engine calls, from XDP and from its
 * control programs. Their names and arguments are the engine's ABI with
 * the module (bpf/ddp_ddgst.h, ddp_place.h, ddp_ctl.h, ddp_resync.h
 * declare them there): change both together.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/crc32c.h>
#include <linux/skbuff.h>
#include <net/xdp.h>
#include "ddp_engine.h"
#include "ddp_kfuncs.h"
#include "ddp_pins.h"
#include "tcp_ddp_priv.h"

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

/*
 * Place len bytes of the frame, from off, into pin pin_id at pin_off: 0,
 * -ENOENT if there is no such pin (unpinned: the tag places nothing more),
 * -ERANGE if the bytes lie outside the pin or the frame. The frame's
 * fragments (multi-buffer XDP) are read as its linear part is.
 */
__bpf_kfunc int bpf_ddp_copy_pinned(struct xdp_md *ctx, u32 off, u32 len,
				    u64 pin_id, u64 pin_off)
{
	struct xdp_buff *xdp = (struct xdp_buff *)ctx;
	u32 lin = xdp->data_end - xdp->data, n, i;
	struct skb_shared_info *sinfo;
	struct ddp_pin *p;
	int err = 0;

	/* XDP runs in an RCU read-side section already: the pin found
	 * stays pinned until it ends (ddp_pins.c); said here all the same */
	rcu_read_lock();
	p = ddp_pin_find(pin_id);
	if (!p) {
		err = -ENOENT;
		goto out;
	}
	if (!len || pin_off > p->len || len > p->len - pin_off ||
	    off > xdp_get_buff_len(xdp) || len > xdp_get_buff_len(xdp) - off) {
		err = -ERANGE;
		goto out;
	}
	if (off < lin) {
		n = min(len, lin - off);
		ddp_pin_write(p, pin_off, xdp->data + off, n);
		pin_off += n;
		len -= n;
		off = 0;
	} else {
		off -= lin;
	}
	if (!len)
		goto out;
	sinfo = xdp_get_shared_info_from_buff(xdp);
	for (i = 0; i < sinfo->nr_frags && len; i++) {
		skb_frag_t *f = &sinfo->frags[i];
		u32 size = skb_frag_size(f);

		if (off >= size) {
			off -= size;
			continue;
		}
		n = min(len, size - off);
		ddp_pin_write(p, pin_off, skb_frag_address(f) + off, n);
		pin_off += n;
		len -= n;
		off = 0;
	}
out:
	rcu_read_unlock();
	return err;
}

/* Ask the in-kernel L5P of flow flow_id, of the engine on ctx's device,
 * whether a PDU header begins at seq (its resync_request): 0 if it took
 * the request, else the engine asks again at a later header. */
__bpf_kfunc int bpf_ddp_resync_request(struct xdp_md *ctx, u32 flow_id,
				       u32 seq, u32 req_id)
{
	struct xdp_buff *xdp = (struct xdp_buff *)ctx;

	return tcp_ddp_resync_request(xdp->rxq->dev, flow_id, seq, req_id);
}

/* The length of pin pin_id if the caller made it, else 0: what the
 * engine's ddp_setup checks a tag's segments against. Kernel pages are
 * the module's, for in-kernel L5Ps. */
__bpf_kfunc u64 bpf_ddp_pin_len(u64 pin_id)
{
	struct ddp_pin *p;
	u64 len = 0;

	rcu_read_lock();
	p = ddp_pin_find(pin_id);
	if (p && (p->tgid ? p->tgid == task_tgid(current) :
			    ddp_engine_caller()))
		len = p->len;
	rcu_read_unlock();
	return len;
}

/* 1 while the module runs the control program calling it, for an
 * in-kernel L5P (ddp_engine_run()): it acts as the kernel's owner. */
__bpf_kfunc u32 bpf_ddp_glue_caller(void)
{
	return ddp_engine_caller();
}

__diag_pop();

BTF_KFUNCS_START(ddp_xdp_kfunc_ids)
BTF_ID_FLAGS(func, bpf_ddp_crc32c)
BTF_ID_FLAGS(func, bpf_ddp_copy_pinned)
BTF_ID_FLAGS(func, bpf_ddp_resync_request)
BTF_KFUNCS_END(ddp_xdp_kfunc_ids)

/* for the engine's control programs */
BTF_KFUNCS_START(ddp_ctl_kfunc_ids)
BTF_ID_FLAGS(func, bpf_ddp_pin_len)
BTF_ID_FLAGS(func, bpf_ddp_glue_caller)
BTF_KFUNCS_END(ddp_ctl_kfunc_ids)

static const struct btf_kfunc_id_set ddp_xdp_kfuncs = {
	.owner = THIS_MODULE,
	.set = &ddp_xdp_kfunc_ids,
};

static const struct btf_kfunc_id_set ddp_ctl_kfuncs = {
	.owner = THIS_MODULE,
	.set = &ddp_ctl_kfunc_ids,
};

int ddp_kfuncs_register(void)
{
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &ddp_xdp_kfuncs) ?:
		       register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL,
						 &ddp_ctl_kfuncs);
}
