// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ddp.bpf.c - the DDP engine: an XDP program that plays an NVMe/TCP
 * direct-data-placement NIC, and the control programs its library runs.
 * The program is split by role into the ddp_*.h headers included below.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ddp.h"
#include "ddp_maps.h"
#include "ddp_parse.h"
#include "ddp_pdu.h"
#include "ddp_place.h"
#include "ddp_ddgst.h"
#include "ddp_resync.h"
#include "ddp_compact.h"
#include "ddp_rx.h"
#include "ddp_ctl.h"

SEC("xdp")
int ddp_rx(struct xdp_md *ctx)
{
	return ddp_rx_frame(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
