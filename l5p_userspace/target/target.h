/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * target.h - the NVMe/TCP target (controller side): one NVM subsystem with
 * namespace 1 in RAM or a file, and the discovery subsystem, served on one
 * TCP listener; every connection (one queue each) runs in its own thread.
 *
 * Controllers follow the dynamic model: a Fabrics Connect on an admin
 * queue (cntlid 0xFFFF) allocates one, I/O queues name it by cntlid, and
 * it goes away with its admin queue (its I/O queues are then closed).
 *
 * Completion order on an I/O queue (the admin queue always answers each
 * command before it reads the next):
 *
 *  TGT_COMPL_OOO (default) - every command received is kept pending.
 *	Before each PDU it sends, the target reads every PDU that has
 *	already arrived (up to 64, without waiting), then picks among the
 *	pending commands that can progress the one with the least data left
 *	to send (ties: the oldest) and sends one PDU for it: a C2HData of at
 *	most pdu_size bytes (the response follows the last one), or its
 *	CapsuleResp when it has no data to send. A short read thus completes
 *	while a long one is still being sent.
 *  TGT_COMPL_FIFO - commands complete in the order they arrived, each
 *	fully (all its C2HData, then its response) before the next.
 *  TGT_COMPL_REVERSE - commands are gathered until reverse_n are pending,
 *	or until 200 ms pass without a new one while at least one is; the
 *	commands then pending form a batch, completed last-received first,
 *	each fully. Commands arriving meanwhile wait for the next batch.
 *
 * In every mode PDUs are read between any two PDUs sent, so a host's data
 * and new commands keep flowing. A write's R2Ts are sent as soon as its
 * capsule arrives, and its data (in-capsule or H2CData) is written as it
 * arrives: only its response waits for its turn, and only once all its
 * data is in (a mode that has chosen it waits for that data). A Flush is
 * done (fdatasync of a file) when its turn comes. Commands that fail their
 * checks (opcode, namespace, SGL, LBA range) take their turn like the
 * others, with no data.
 *
 * Reads end with DATA_SUCCESS instead of a CapsuleResp when the host
 * disabled SQ flow control at Connect (CATTR bit 2) and the command
 * succeeded; the SQ head is then reported as 0.
 *
 * A host that sends a PDU the codec rejects, a bad digest, an H2CData for
 * an unknown transfer tag or outside its R2T, a second command with a CID
 * in use, or more commands than its queue holds, gets a C2HTermReq with
 * the FES and FEI and the offending header (data digest errors are
 * reported with FES 03h, there being no code of their own); that
 * connection is then closed and logged on stderr, the others go on.
 *
 * Keep Alive is answered and KATO accepted, but not enforced: a host that
 * goes away ends its controller by closing its admin queue's connection.
 * Asynchronous Event Requests (up to 4) are held, never completed.
 */
#ifndef L5P_TARGET_H
#define L5P_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define TGT_DEF_NQN "nqn.2024-01.io.ddp:target"
#define TGT_DEF_SIZE (64ull << 20)
#define TGT_DEF_PDU_SIZE (128u << 10)
#define TGT_DEF_MAXH2CDATA (128u << 10)
#define TGT_DEF_QUEUE_SIZE 128
#define TGT_DEF_MAX_QUEUES 16
#define TGT_MAX_XFER (16u << 20) /* largest pdu_size and maxh2cdata */
#define TGT_INCAPSULE (16u << 10) /* in-capsule data a capsule may carry */
#define TGT_LBA_SHIFT 9
#define TGT_REVERSE_IDLE_MS 200

enum tgt_completion {
	TGT_COMPL_OOO,
	TGT_COMPL_FIFO,
	TGT_COMPL_REVERSE,
};

struct target_opts {
	const char *addr; /* IPv4 or IPv6 literal */
	const char *port; /* "0": an ephemeral port */
	const char *nqn; /* the NVM subsystem */
	__u64 size; /* RAM namespace bytes, a multiple of 512 */
	const char *file; /* or a file (or block device) as namespace */
	bool pattern; /* initial content per pattern.h (overwrites) */
	__u32 pdu_size; /* largest C2HData payload */
	__u32 maxh2cdata; /* ICResp; also the largest R2T */
	enum tgt_completion completion;
	__u32 reverse_n; /* TGT_COMPL_REVERSE batch size */
	__u32 queue_size; /* entries per queue (CAP.MQES + 1) */
	__u32 max_queues; /* I/O queues per controller */
	bool verbose; /* log connections and controllers */
};

struct target;

/* Fill o with the defaults. */
void target_opts_default(struct target_opts *o);
/* Prepare the namespace and listen. errbuf gets the reason on failure. */
int target_open(const struct target_opts *o, struct target **out, char *errbuf,
		size_t errlen);
/* The address and port bound, for "listening on ADDR PORT". */
const char *target_addr(const struct target *t);
int target_port(const struct target *t);
/* Accept connections until target_stop(); then close them all. */
int target_run(struct target *t);
/* Make target_run() return; async-signal-safe. */
void target_stop(struct target *t);
void target_close(struct target *t);

#endif /* L5P_TARGET_H */
