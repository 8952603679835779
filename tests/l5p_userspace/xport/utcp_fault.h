/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * utcp_fault.h - what the fault programs (utcp_fault.bpf.c) and the tests
 * share: rates and counters, one value each in fault_cfg and fault_stats.
 * Included after vmlinux.h in BPF, after <linux/types.h> in user space.
 */
#ifndef UTCP_FAULT_H
#define UTCP_FAULT_H

#define FAULT_MILLION 1000000

/* skb->mark values, so that a frame sent again is not judged again */
#define FAULT_MARK_PASS 0x7e57a55
#define FAULT_MARK_FILLER 0x7e57f11
#define FAULT_MARK_DELAY 0x7e57de1

/* Rates per million segments of the peer's TCP port. Egress: what the
 * kernel peer sends to utcp; ingress: what utcp sends to the peer. */
struct fault_cfg {
	__u32 drop, dup, delay, corrupt; /* egress */
	__u32 in_drop, in_dup; /* ingress */
	__u32 home_ifindex; /* the peer's veth */
	__u32 detour_ifindex; /* delayed frames leave through it, come back */
	__u16 port; /* the peer's TCP port */
	__u8 data_only; /* spare segments without payload */
	__u8 pad;
	/* egress: of the segments that begin with an NVMe/TCP C2HData
	 * header (of more than 4 KiB of data), a data byte changed and the
	 * TCP checksum fixed to match (a fault only the data digest
	 * catches) */
	__u32 mangle;
};

struct fault_stats {
	__u64 seen, dropped, duped, delayed, back, corrupted, mangled;
	__u64 in_seen, in_dropped, in_duped;
};

#endif /* UTCP_FAULT_H */
