/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ctl_client.h - a raw NVMe/TCP host for the target's tests, and the target
 * run as a child process (build/ddp-target). Every PDU goes through the
 * codec, so what the target sends is checked by ntcp_hdr_parse() and its
 * data digests are verified. Helpers fail the test (cr_assert) rather than
 * return errors, unless they say otherwise.
 */
#ifndef TESTS_L5P_CTL_CLIENT_H
#define TESTS_L5P_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "nvme/nvme.h"
#include "nvme/nvme_tcp_pdu.h"

#define TC_NQN "nqn.2024-01.io.ddp:target"
#define TC_HOSTNQN "nqn.2024-01.io.ddp:test-host"
#define TC_TIMEOUT_MS 5000 /* no answer in this time fails the test */

/* The target as a child process. */
struct tgt_proc {
	pid_t pid;
	int port;
	char log[64]; /* its stderr */
};

/* Start build/ddp-target -a 127.0.0.1 -s 0 and the NULL-terminated
 * arguments; wait for "listening on ADDR PORT". */
void tgt_start(struct tgt_proc *t, ...) __attribute__((sentinel));
/* SIGTERM, and check it exited with 0. */
void tgt_stop(struct tgt_proc *t);
/* Its stderr so far (malloc'd). */
char *tgt_log(const struct tgt_proc *t);

/* One connection. */
struct tc {
	int fd;
	struct ntcp_params p;
	__u16 qid;
	bool no_sqfc;
	__u16 next_cid; /* for the helpers' own commands */
};

/* TCP to 127.0.0.1:port (or addr), nothing sent. */
void tc_open(struct tc *c, int port);
void tc_open_addr(struct tc *c, const char *addr, int port);
void tc_close(struct tc *c);
/* ICReq, and the ICResp checked and applied. */
void tc_ic(struct tc *c, bool hdgst, bool ddgst, __u8 hpda, __u32 maxr2t);
/* tc_open and tc_ic without digests */
void tc_start(struct tc *c, int port);

void tc_send(struct tc *c, const void *buf, size_t len);
void tc_send_cmd(struct tc *c, const struct nvme_sqe *sqe, const void *data,
		 __u32 len);
/* Capsules without data, in one send(): they arrive together. */
void tc_send_cmds(struct tc *c, const struct nvme_sqe *sqes, int n);
void tc_send_h2c(struct tc *c, __u16 cid, __u16 ttag, __u32 off,
		 const void *data, __u32 len, bool last);
/* The next PDU, its data into data (at most max bytes; C2HData's at
 * data + datao if at_datao). Returns 0, or -1 if the target closed. */
int tc_recv(struct tc *c, struct ntcp_pdu *pdu, void *data, size_t max,
	    bool at_datao);
/* The next PDU must be a CapsuleResp: its CQE. */
struct nvme_cqe tc_recv_rsp(struct tc *c);
/* Expect a C2HTermReq with fes (and fei unless ~0u), then the end of the
 * stream. The bad header it carries goes to bad (NTCP_TERM_MAX_PLEN bytes,
 * or NULL); returns its length. */
__u32 tc_expect_term(struct tc *c, __u16 fes, __u32 fei, void *bad);

/* A command to completion: R2Ts answered from out, C2HData gathered into
 * in. A DATA_SUCCESS C2HData completes it as a CQE of status 0 would. */
struct nvme_cqe tc_exec(struct tc *c, const struct nvme_sqe *sqe,
			const void *out, __u32 outlen, void *in, __u32 inlen);

/* SQEs */
struct nvme_sqe sqe_admin(__u8 opcode, __u16 cid, __u32 nsid, __u32 len);
struct nvme_sqe sqe_rw(__u8 opcode, __u16 cid, __u64 slba, __u32 nlb,
		       bool incapsule);

/* Fabrics Connect (as TC_HOSTNQN): the CQE; dw0 holds the cntlid. */
struct nvme_cqe tc_connect(struct tc *c, const char *subnqn, __u16 qid,
			   __u16 cntlid, __u16 sqsize, __u8 cattr);
struct nvme_cqe tc_connect_as(struct tc *c, const char *hostnqn,
			      const char *subnqn, __u16 qid, __u16 cntlid,
			      __u16 sqsize, __u8 cattr);
__u64 tc_prop_get(struct tc *c, __u32 off, bool size8);
void tc_prop_set(struct tc *c, __u32 off, __u32 value);
/* Admin queue: IC, Connect to subnqn, CC.EN, wait for CSTS.RDY. Returns
 * the cntlid. */
__u16 tc_admin(struct tc *c, int port, const char *subnqn, bool hdgst,
	       bool ddgst);
/* I/O queue qid of the controller. */
void tc_ioq(struct tc *c, int port, __u16 cntlid, __u16 qid, __u16 sqsize,
	    __u8 cattr, bool hdgst, bool ddgst);

static inline __u16 cqe_sc(const struct nvme_cqe *c)
{
	return nvme_cqe_status(c);
}

#endif /* TESTS_L5P_CTL_CLIENT_H */
