/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * target_priv.h - what the target's files share: the target, its
 * controllers, connections and commands, and the calls between the
 * transport (target.c), the commands (target_admin.c, target_io.c) and
 * the namespace (target_ns.c).
 */
#ifndef L5P_TARGET_PRIV_H
#define L5P_TARGET_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "nvme/nvme_tcp_pdu.h"
#include "target.h"
#include "xport/xport.h"

#define TGT_MAX_CTRLS 64
#define TGT_MAX_CONNS 4096 /* a thread each; the engine offloads at most 4096 */
#define TGT_R2T_MAX 8 /* R2Ts outstanding per command, at most */
#define TGT_AERL 3 /* Asynchronous Event Requests held, 0's based */
#define TGT_VS 0x00010400 /* NVMe 1.4 */
#define TGT_MDTS 13 /* 4 KiB << 13: the 32 MiB a 16-bit NLB reaches */
#define TGT_KAS 10 /* keep alive granularity, 100 ms units */
#define TGT_CAP_TO 15 /* CAP.TO, 500 ms units */
#define TGT_DRAIN_MAX 64 /* PDUs read between two sent */
#define TGT_LINGER_MS 2000 /* after a TermReq, for the host to read it */
#define TGT_PORTID 1
#define TGT_ADMIN_OPC_AER 0x0c
#define TGT_SC_AER_LIMIT 0x105
#define TGT_SC_CTRL_BUSY 0x181
#define TGT_SC_SGL_TYPE 0x011
#define TGT_CSTS_SHST_MASK (3u << 2)
#define TGT_DLP_LEN (2 * NVME_DLP_ENTRY) /* header and one entry */

struct tctrl {
	__u16 cntlid;
	bool discovery;
	int refs; /* connections on it */
	__u32 cc, csts; /* set by the admin queue, read by all: atomics */
	__u32 kato;
	__u32 nr_queues; /* granted by Set Features */
	bool *qids; /* I/O queue connected, by qid */
	char hostnqn[NVME_NQN_MAX + 1];
};

enum tcmd_kind {
	TC_NONE,
	TC_READ,
	TC_WRITE,
	TC_FLUSH,
};

/* An I/O command between its capsule and its completion. */
struct tcmd {
	bool busy;
	__u8 kind;
	__u16 cid;
	__u16 status; /* NVMe status (SCT << 8 | SC), 0 so far */
	__u64 seq; /* arrival order on the connection, from 1 */
	__u64 off; /* namespace byte offset */
	__u32 len; /* data bytes (0 once failed before any transfer) */
	__u32 done; /* read: bytes sent; write: bytes received */
	__u32 r2t_off; /* write: bytes asked for so far */
	__u8 nr2t;
	struct {
		__u32 off, len, got;
	} r2t[TGT_R2T_MAX];
};

struct tconn {
	struct target *t;
	struct tconn *next;
	struct xport x;
	char peer[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage local;
	struct ntcp_params p;
	__u32 maxr2t; /* R2Ts outstanding per command, 1-based */
	struct tctrl *ctrl;
	__u16 qid;
	__u32 qsize; /* sqsize + 1 */
	__u32 sqhd;
	bool no_sqfc;
	__u32 aers;
	struct tcmd *cmds; /* qsize slots; I/O queues only */
	__u32 pending;
	__u64 seq, batch_end;
	struct timespec last_cmd;
	__u8 hdr[NTCP_HDR_MAX]; /* the header being handled */
	__u32 hdr_len;
	__u8 *rbuf, *sbuf;
	bool term, logged;
	struct ntcp_err err;
	char why[192];
};

struct target {
	struct target_opts o;
	int lfd, stopfd;
	char addr[INET6_ADDRSTRLEN];
	int port;
	__u64 size; /* namespace bytes */
	__u8 *mem; /* RAM namespace */
	int fd; /* file namespace, or -1 */
	char sn[21];
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct tconn *conns;
	__u32 nconns;
	bool stopping;
	struct tctrl *ctrls[TGT_MAX_CTRLS]; /* by cntlid - 1 */
};

static inline __u16 get16(const void *b, int off)
{
	__u16 v;

	memcpy(&v, (const __u8 *)b + off, 2);
	return v;
}

static inline __u32 get32(const void *b, int off)
{
	__u32 v;

	memcpy(&v, (const __u8 *)b + off, 4);
	return v;
}

static inline void put16(void *b, int off, __u16 v)
{
	memcpy((__u8 *)b + off, &v, 2);
}

static inline void put32(void *b, int off, __u32 v)
{
	memcpy((__u8 *)b + off, &v, 4);
}

static inline void put64(void *b, int off, __u64 v)
{
	memcpy((__u8 *)b + off, &v, 8);
}

/* An ASCII field of Identify data: space padded, not terminated. */
static inline void put_str(void *b, int off, size_t width, const char *s)
{
	size_t n = strlen(s);

	memset((__u8 *)b + off, ' ', width);
	memcpy((__u8 *)b + off, s, n < width ? n : width);
}

static inline __u32 min32(__u32 a, __u32 b)
{
	return a < b ? a : b;
}

static inline long ms_since(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - ts->tv_sec) * 1000 +
	       (now.tv_nsec - ts->tv_nsec) / 1000000;
}

/* target.c: one line per call, so that threads do not interleave
 * within a line */
void tlog(struct tconn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define vlog(c, ...)                            \
	do {                                    \
		if ((c)->t->o.verbose)          \
			tlog((c), __VA_ARGS__); \
	} while (0)

/* IPv4-mapped IPv6 addresses (a dual-stack listener) print as IPv4. */
int fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t len,
	     int *port);
/* A CapsuleResp */
int send_rsp(struct tconn *c, __u16 cid, __u16 status, __u64 result);
/* One C2HData, and the response after it if cqe. */
int send_c2h(struct tconn *c, __u16 cid, __u32 datao, const void *data,
	     __u32 len, __u8 flags, const struct nvme_cqe *cqe);
/* The last C2HData of a command, with its response or SUCCESS */
int send_last(struct tconn *c, __u16 cid, __u32 datao, const void *data,
	      __u32 len, __u16 status, __u64 result);
/* Admin data: [off, off + len) of page, zeros past its end. */
int send_page(struct tconn *c, const struct nvme_sqe *sqe, const void *page,
	      __u64 page_len, __u64 off, __u64 len);
/* A protocol error: the connection ends with a C2HTermReq carrying the
 * header being handled. Returns -EPROTO. */
int fatal(struct tconn *c, __u16 fes, __u32 fei, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A PDU's padding, its data into buf, and its data digest, checked. */
int recv_data(struct tconn *c, const struct ntcp_pdu *pdu, void *buf);

/* target_ns.c */
int ns_open(struct target *t, char *errbuf, size_t errlen);
int ns_read(struct target *t, __u64 off, void *buf, size_t len);
int ns_write(struct target *t, __u64 off, const void *buf, size_t len);
int ns_flush(struct target *t);

/* target_admin.c */
/* A connection leaves its controller; the admin queue takes the I/O queues
 * with it. */
void ctrl_leave(struct tconn *c);
bool ctrl_ready(const struct tctrl *ctrl);
int fab_connect(struct tconn *c, const struct nvme_sqe *sqe, const __u8 *data,
		__u32 dlen);
int admin_exec(struct tconn *c, const struct nvme_sqe *sqe);

/* target_io.c */
int io_submit(struct tconn *c, const struct nvme_sqe *sqe, const __u8 *data,
	      __u32 dlen);
int recv_h2c(struct tconn *c, const struct ntcp_pdu *pdu);
/* The command to send a PDU for now, or NULL to wait for the host. */
struct tcmd *pick(struct tconn *c);
/* How long to wait for the host: until a reverse batch is due. */
int wait_ms(struct tconn *c);
/* One PDU for m: a C2HData (with the response after the last), or the
 * response. */
int cmd_step(struct tconn *c, struct tcmd *m);

#endif /* L5P_TARGET_PRIV_H */
