// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* ctl_client.c - the raw NVMe/TCP host of the target's tests. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <criterion/criterion.h>
#include "ctl_client.h"

#define TGT_BIN DDP_BUILD "/ddp-target"

void tgt_start(struct tgt_proc *t, ...)
{
	const char *argv[64] = { TGT_BIN, "-a", "127.0.0.1", "-s", "0" };
	int n = 5, out[2], logfd, len = 0;
	char line[256], addr[64];
	struct pollfd p;
	va_list ap;

	va_start(ap, t);
	while (n < 63 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(access(TGT_BIN, X_OK), 0,
		     "%s is missing: make " TGT_BIN " first", TGT_BIN);
	snprintf(t->log, sizeof(t->log), "/tmp/test_l5p.XXXXXX");
	logfd = mkstemp(t->log);
	cr_assert_geq(logfd, 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	t->pid = fork();
	cr_assert_geq(t->pid, 0);
	if (!t->pid) {
		/* the target goes when the test does, even if it failed */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(out[1], 1);
		dup2(logfd, 2);
		execv(TGT_BIN, (char **)argv);
		_exit(127);
	}
	close(out[1]);
	close(logfd);
	p = (struct pollfd){ .fd = out[0], .events = POLLIN };
	while (!memchr(line, '\n', len) && len < (int)sizeof(line) - 1) {
		ssize_t r;

		cr_assert_eq(poll(&p, 1, TC_TIMEOUT_MS), 1,
			     "ddp-target said nothing");
		r = read(out[0], line + len, sizeof(line) - 1 - len);
		cr_assert_gt(r, 0, "ddp-target exited: see %s", t->log);
		len += r;
	}
	line[len] = 0;
	close(out[0]);
	cr_assert_eq(sscanf(line, "listening on %63s %d", addr, &t->port), 2,
		     "first line: '%s'", line);
	cr_assert_gt(t->port, 0);
}

void tgt_stop(struct tgt_proc *t)
{
	int status, i;

	if (t->pid <= 0)
		return;
	kill(t->pid, SIGTERM);
	for (i = 0; i < TC_TIMEOUT_MS / 10; i++) {
		if (waitpid(t->pid, &status, WNOHANG) == t->pid)
			break;
		usleep(10000);
	}
	if (i == TC_TIMEOUT_MS / 10) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
		cr_assert_fail("ddp-target did not stop on SIGTERM");
	}
	t->pid = 0;
	unlink(t->log);
	cr_assert(WIFEXITED(status) && !WEXITSTATUS(status),
		  "ddp-target ended with status 0x%x", status);
}

char *tgt_log(const struct tgt_proc *t)
{
	char *buf = calloc(1, 1 << 16);
	int fd = open(t->log, O_RDONLY);
	ssize_t r;

	cr_assert(buf && fd >= 0);
	r = read(fd, buf, (1 << 16) - 1);
	close(fd);
	cr_assert_geq(r, 0);
	return buf;
}

void tc_open_addr(struct tc *c, const char *addr, int port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	struct timeval tmo = { .tv_sec = TC_TIMEOUT_MS / 1000 };
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->next_cid = 0x100;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
	} else {
		cr_assert_eq(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
	}
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(c->fd, 0);
	cr_assert_eq(connect(c->fd, (void *)&ss, sizeof(ss)), 0,
		     "connect to port %d: %s", port, strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
}

void tc_open(struct tc *c, int port)
{
	tc_open_addr(c, "127.0.0.1", port);
}

void tc_close(struct tc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void tc_send(struct tc *c, const void *buf, size_t len)
{
	while (len) {
		ssize_t r = send(c->fd, buf, len, MSG_NOSIGNAL);

		cr_assert_gt(r, 0, "send: %s", strerror(errno));
		buf = (const __u8 *)buf + r;
		len -= r;
	}
}

/* 0, or -1 at the end of the stream */
static int recv_all(struct tc *c, void *buf, size_t len)
{
	while (len) {
		ssize_t r = recv(c->fd, buf, len, 0);

		if (!r || (r < 0 && errno == ECONNRESET))
			return -1;
		cr_assert_gt(r, 0, "recv: %s", strerror(errno));
		buf = (__u8 *)buf + r;
		len -= r;
	}
	return 0;
}

int tc_recv(struct tc *c, struct ntcp_pdu *pdu, void *data, size_t max,
	    bool at_datao)
{
	__u8 h[NTCP_HDR_MAX], pad[256], *dst = data;
	struct ntcp_err e;
	__u32 hl, dg;

	if (recv_all(c, h, NTCP_CH_LEN))
		return -1;
	cr_assert_eq(ntcp_ch_check(&c->p, NTCP_HOST, h, &hl, &e), 0,
		     "target's header (type 0x%02x): %s", h[0], e.why);
	cr_assert_eq(recv_all(c, h + NTCP_CH_LEN, hl - NTCP_CH_LEN), 0);
	cr_assert_eq(ntcp_hdr_parse(&c->p, NTCP_HOST, h, hl, pdu, &e), 0,
		     "target's %s: %s", ntcp_type_name(h[0]), e.why);
	cr_assert_eq(recv_all(c, pad, pdu->pad_len), 0);
	if (at_datao && pdu->type == NVME_TCP_C2H_DATA)
		dst += pdu->data.off;
	cr_assert_leq((size_t)(dst - (__u8 *)data) + pdu->data_len, max,
		      "%s of %u bytes at %zu, more than %zu expected",
		      ntcp_type_name(pdu->type), pdu->data_len,
		      (size_t)(dst - (__u8 *)data), max);
	cr_assert_eq(recv_all(c, dst, pdu->data_len), 0);
	if (pdu->ddgst) {
		cr_assert_eq(recv_all(c, &dg, sizeof(dg)), 0);
		cr_assert_eq(dg, ntcp_crc32c(dst, pdu->data_len),
			     "data digest of the target's %s",
			     ntcp_type_name(pdu->type));
	}
	return 0;
}

struct nvme_cqe tc_recv_rsp(struct tc *c)
{
	struct ntcp_pdu pdu;

	cr_assert_eq(tc_recv(c, &pdu, NULL, 0, false), 0, "connection closed");
	cr_assert_eq(pdu.type, NVME_TCP_RSP, "%s, not a CapsuleResp",
		     ntcp_type_name(pdu.type));
	return pdu.rsp;
}

__u32 tc_expect_term(struct tc *c, __u16 fes, __u32 fei, void *bad)
{
	__u8 buf[NTCP_TERM_MAX_PLEN];
	struct ntcp_pdu pdu;
	char x;

	cr_assert_eq(tc_recv(c, &pdu, buf, sizeof(buf), false), 0,
		     "closed without a C2HTermReq");
	cr_assert_eq(pdu.type, NVME_TCP_C2H_TERM, "%s, not a C2HTermReq",
		     ntcp_type_name(pdu.type));
	cr_assert_eq(pdu.term.fes, fes, "FES 0x%x, expected 0x%x", pdu.term.fes,
		     fes);
	if (fei != ~0u)
		cr_assert_eq(pdu.term.fei, fei, "FEI %u, expected %u",
			     pdu.term.fei, fei);
	cr_assert_leq(pdu.data_len, NVME_TCP_TERM_MAX_DATA);
	cr_assert_eq(recv_all(c, &x, 1), -1, "not closed after the TermReq");
	if (bad)
		memcpy(bad, buf, pdu.data_len);
	return pdu.data_len;
}

void tc_ic(struct tc *c, bool hdgst, bool ddgst, __u8 hpda, __u32 maxr2t)
{
	__u8 buf[NTCP_HDR_MAX];
	__u8 dgst = (hdgst ? NVME_TCP_DGST_HDR : 0) |
		    (ddgst ? NVME_TCP_DGST_DATA : 0);
	struct ntcp_pdu pdu;

	tc_send(c, buf, ntcp_enc_icreq(buf, hpda, dgst, maxr2t));
	cr_assert_eq(tc_recv(c, &pdu, NULL, 0, false), 0);
	cr_assert_eq(pdu.type, NVME_TCP_ICRESP);
	cr_assert_eq(pdu.ic.pfv, 0);
	cr_assert_eq(pdu.ic.pda, 0, "cpda %u", pdu.ic.pda);
	cr_assert_eq(pdu.ic.dgst, dgst, "digests 0x%x asked, 0x%x given", dgst,
		     pdu.ic.dgst);
	c->p = (struct ntcp_params){ .ic_done = true,
				     .hdgst = hdgst,
				     .ddgst = ddgst,
				     .hpda = hpda,
				     .cpda = pdu.ic.pda,
				     .maxh2cdata = pdu.ic.maxdata };
}

void tc_start(struct tc *c, int port)
{
	tc_open(c, port);
	tc_ic(c, false, false, 0, 0);
}

void tc_send_cmd(struct tc *c, const struct nvme_sqe *sqe, const void *data,
		 __u32 len)
{
	__u8 buf[NTCP_HDR_MAX + 128];
	__u32 dg;

	tc_send(c, buf, ntcp_enc_cmd(buf, &c->p, sqe, len));
	if (!len)
		return;
	tc_send(c, data, len);
	if (c->p.ddgst) {
		dg = ntcp_crc32c(data, len);
		tc_send(c, &dg, sizeof(dg));
	}
}

void tc_send_cmds(struct tc *c, const struct nvme_sqe *sqes, int n)
{
	__u8 buf[32 * (NTCP_HDR_MAX + 128)];
	size_t len = 0;
	int i;

	cr_assert_leq(n, 32);
	for (i = 0; i < n; i++)
		len += ntcp_enc_cmd(buf + len, &c->p, &sqes[i], 0);
	tc_send(c, buf, len);
}

void tc_send_h2c(struct tc *c, __u16 cid, __u16 ttag, __u32 off,
		 const void *data, __u32 len, bool last)
{
	__u8 buf[NTCP_HDR_MAX + 128];
	__u32 dg;

	tc_send(c, buf,
		ntcp_enc_data(buf, &c->p, NVME_TCP_H2C_DATA, cid, ttag, off,
			      len, last ? NVME_TCP_F_DATA_LAST : 0));
	tc_send(c, data, len);
	if (c->p.ddgst) {
		dg = ntcp_crc32c(data, len);
		tc_send(c, &dg, sizeof(dg));
	}
}

struct nvme_cqe tc_exec(struct tc *c, const struct nvme_sqe *sqe,
			const void *out, __u32 outlen, void *in, __u32 inlen)
{
	bool incapsule = sqe->sgl_type == NVME_SGL_INCAPSULE;
	struct nvme_cqe cqe = { 0 };
	struct ntcp_pdu pdu;
	__u32 off, n;

	tc_send_cmd(c, sqe, out, incapsule ? outlen : 0);
	for (;;) {
		cr_assert_eq(tc_recv(c, &pdu, in, inlen, true), 0,
			     "connection closed during command %u", sqe->cid);
		switch (pdu.type) {
		case NVME_TCP_C2H_DATA:
			cr_assert_eq(pdu.data.cccid, sqe->cid);
			if (!(pdu.flags & NVME_TCP_F_DATA_SUCCESS))
				break;
			cqe.cid = sqe->cid;
			cqe.sqid = c->qid;
			return cqe;
		case NVME_TCP_R2T:
			cr_assert_eq(pdu.data.cccid, sqe->cid);
			cr_assert_leq((__u64)pdu.data.off + pdu.data.len,
				      outlen, "R2T beyond the data");
			for (off = 0; off < pdu.data.len; off += n) {
				n = pdu.data.len - off;
				if (n > c->p.maxh2cdata)
					n = c->p.maxh2cdata;
				tc_send_h2c(c, sqe->cid, pdu.data.ttag,
					    pdu.data.off + off,
					    (const __u8 *)out + pdu.data.off +
						    off,
					    n, off + n == pdu.data.len);
			}
			break;
		case NVME_TCP_RSP:
			cr_assert_eq(pdu.rsp.cid, sqe->cid);
			return pdu.rsp;
		default:
			cr_assert_fail("unexpected %s",
				       ntcp_type_name(pdu.type));
		}
	}
}

struct nvme_sqe sqe_admin(__u8 opcode, __u16 cid, __u32 nsid, __u32 len)
{
	return (struct nvme_sqe){ .opcode = opcode,
				  .flags = NVME_SGL_PSDT,
				  .cid = cid,
				  .nsid = nsid,
				  .sgl_len = len,
				  .sgl_type = NVME_SGL_TRANSPORT };
}

struct nvme_sqe sqe_rw(__u8 opcode, __u16 cid, __u64 slba, __u32 nlb,
		       bool incapsule)
{
	struct nvme_sqe s = sqe_admin(opcode, cid, 1, nlb * 512);

	s.sgl_type = incapsule ? NVME_SGL_INCAPSULE : NVME_SGL_TRANSPORT;
	s.cdw10 = (__u32)slba;
	s.cdw11 = slba >> 32;
	s.cdw12 = nlb - 1;
	return s;
}

struct nvme_cqe tc_connect(struct tc *c, const char *subnqn, __u16 qid,
			   __u16 cntlid, __u16 sqsize, __u8 cattr)
{
	return tc_connect_as(c, TC_HOSTNQN, subnqn, qid, cntlid, sqsize, cattr);
}

struct nvme_cqe tc_connect_as(struct tc *c, const char *hostnqn,
			      const char *subnqn, __u16 qid, __u16 cntlid,
			      __u16 sqsize, __u8 cattr)
{
	struct nvme_sqe s = sqe_admin(NVME_FABRICS, c->next_cid++, 0,
				      NVME_CONNECT_DATA_LEN);
	__u8 data[NVME_CONNECT_DATA_LEN] = { 0 }, *raw = (__u8 *)&s;

	s.sgl_type = NVME_SGL_INCAPSULE;
	raw[NVME_FC_TYPE] = NVME_FCT_CONNECT;
	memcpy(raw + NVME_CONNECT_QID, &qid, 2);
	memcpy(raw + NVME_CONNECT_SQSIZE, &sqsize, 2);
	raw[NVME_CONNECT_CATTR] = cattr;
	memcpy(data + NVME_CONNECT_CNTLID, &cntlid, 2);
	strcpy((char *)data + NVME_CONNECT_SUBNQN, subnqn);
	strcpy((char *)data + NVME_CONNECT_HOSTNQN, hostnqn);
	c->qid = qid;
	c->no_sqfc = cattr & NVME_CATTR_NO_SQFC;
	return tc_exec(c, &s, data, sizeof(data), NULL, 0);
}

__u64 tc_prop_get(struct tc *c, __u32 off, bool size8)
{
	struct nvme_sqe s = sqe_admin(NVME_FABRICS, c->next_cid++, 0, 0);
	__u8 *raw = (__u8 *)&s;
	struct nvme_cqe cqe;

	raw[NVME_FC_TYPE] = NVME_FCT_PROPERTY_GET;
	raw[NVME_PROP_ATTRIB] = size8;
	memcpy(raw + NVME_PROP_OFFSET, &off, 4);
	cqe = tc_exec(c, &s, NULL, 0, NULL, 0);
	cr_assert_eq(cqe_sc(&cqe), 0, "Property Get 0x%x: status 0x%x", off,
		     cqe_sc(&cqe));
	return cqe.result | (__u64)cqe.rsvd << 32;
}

void tc_prop_set(struct tc *c, __u32 off, __u32 value)
{
	struct nvme_sqe s = sqe_admin(NVME_FABRICS, c->next_cid++, 0, 0);
	__u8 *raw = (__u8 *)&s;
	struct nvme_cqe cqe;

	raw[NVME_FC_TYPE] = NVME_FCT_PROPERTY_SET;
	memcpy(raw + NVME_PROP_OFFSET, &off, 4);
	memcpy(raw + NVME_PROP_VALUE, &value, 4);
	cqe = tc_exec(c, &s, NULL, 0, NULL, 0);
	cr_assert_eq(cqe_sc(&cqe), 0, "Property Set 0x%x: status 0x%x", off,
		     cqe_sc(&cqe));
}

__u16 tc_admin(struct tc *c, int port, const char *subnqn, bool hdgst,
	       bool ddgst)
{
	struct nvme_cqe cqe;

	tc_open(c, port);
	tc_ic(c, hdgst, ddgst, 0, 0);
	cqe = tc_connect(c, subnqn, 0, 0xffff, 31, 0);
	cr_assert_eq(cqe_sc(&cqe), 0, "admin Connect: status 0x%x",
		     cqe_sc(&cqe));
	tc_prop_set(c, NVME_REG_CC, NVME_CC_EN | 6 << 16 | 4 << 20);
	cr_assert(tc_prop_get(c, NVME_REG_CSTS, false) & NVME_CSTS_RDY);
	return cqe.result & 0xffff;
}

void tc_ioq(struct tc *c, int port, __u16 cntlid, __u16 qid, __u16 sqsize,
	    __u8 cattr, bool hdgst, bool ddgst)
{
	struct nvme_cqe cqe;

	tc_open(c, port);
	tc_ic(c, hdgst, ddgst, 0, 0);
	cqe = tc_connect(c, TC_NQN, qid, cntlid, sqsize, cattr);
	cr_assert_eq(cqe_sc(&cqe), 0, "I/O queue %u Connect: status 0x%x", qid,
		     cqe_sc(&cqe));
	cr_assert_eq(cqe.result & 0xffff, cntlid);
}
