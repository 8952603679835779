// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * host_connect.c - the NVMe/TCP host's association: the transport (the
 * engine on the route's interface, AF_XDP or kernel sockets), the queues
 * opened, offloaded and connected, the controller enabled, and the admin
 * commands and buffers the host offers.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include "host_priv.h"
#include "libddp.h"
#include "xport/utcp.h"

/* ---- connecting ----------------------------------------------------------- */

/* Run one admin (or Connect) command to completion. */
static int hq_sync_cmd(struct host_queue *q, struct nvme_sqe *sqe, void *buf,
		       __u32 len, bool write, __u32 *result)
{
	struct host *h = q->h;
	struct host_io io = { .buf = buf, .len = len };
	struct host_cmd *c = hq_slot(q);
	int err;

	if (!c)
		return herr(h, -EBUSY, "admin queue full");
	c->io = &io;
	c->write = write;
	err = hq_send_cmd(q, c, sqe, write ? buf : NULL, len);
	while (!err && c->busy && c->io == &io)
		err = hq_poll(q, 5000) < 0 ? q->failed ?: -EIO : 0;
	if (err)
		return herr(h, err, "%s", h->err[0] ? h->err : strerror(-err));
	if (result)
		*result = c->result;
	if (io.status)
		return herr(h, -EIO, "command %#x failed: NVMe status %#x",
			    sqe->opcode, io.status);
	return 0;
}

static int host_uuid(__u8 *id)
{
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");
	unsigned int b[16];
	int i, n;

	if (!f)
		return -errno;
	n = fscanf(f, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x",
		   &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7],
		   &b[8], &b[9], &b[10], &b[11], &b[12], &b[13], &b[14],
		   &b[15]);
	fclose(f);
	for (i = 0; i < 16; i++)
		id[i] = i < n ? b[i] : 0;
	return 0;
}

static int hq_fabrics_connect(struct host_queue *q, __u16 cntlid, __u16 *got)
{
	struct host *h = q->h;
	__u8 data[NVME_CONNECT_DATA_LEN] = { 0 };
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS };
	__u8 *s = (__u8 *)&sqe;
	__u16 qid = q->qid, sqsize = q->size - 1;
	__u32 result = 0;
	int err;

	s[NVME_FC_TYPE] = NVME_FCT_CONNECT;
	memcpy(s + NVME_CONNECT_QID, &qid, 2);
	memcpy(s + NVME_CONNECT_SQSIZE, &sqsize, 2);
	s[NVME_CONNECT_CATTR] = h->o.no_sqfc ? NVME_CATTR_NO_SQFC : 0;
	host_uuid(data + NVME_CONNECT_HOSTID);
	memcpy(data + NVME_CONNECT_CNTLID, &cntlid, 2);
	snprintf((char *)data + NVME_CONNECT_SUBNQN, NVME_NQN_MAX, "%s",
		 h->o.subnqn);
	snprintf((char *)data + NVME_CONNECT_HOSTNQN, NVME_NQN_MAX, "%s",
		 h->o.hostnqn);
	err = hq_sync_cmd(q, &sqe, data, sizeof(data), true, &result);
	if (err)
		return herr(h, err, "Connect of queue %u: %s", q->qid, h->err);
	if (got)
		*got = result & 0xffff;
	return 0;
}

/* Offload the queue's stream: right after ICResp, nothing is in flight
 * and the stream is at a PDU boundary. A kernel socket is added to the
 * engine then; an AF_XDP connection, steered since its SYN, is updated. */
static void hq_offload(struct host_queue *q)
{
	struct host *h = q->h;
	struct ddp_sk_config cfg = {
		.dgst = (q->p.hdgst ? NVME_TCP_DGST_HDR : 0) |
			(q->p.ddgst ? NVME_TCP_DGST_DATA : 0),
		.cpda = q->p.hpda,
		.queue_size = q->size,
		.queue_id = q->qid,
		.io_cpu = q->qid % (sysconf(_SC_NPROCESSORS_ONLN) ?: 1),
		.flags = DDP_SK_OFFLOAD |
			 (q->x.u ? utcp_port_sk_flags(h->xsk) : DDP_SK_RECORDS),
		/* no PDU carries more than a command: MDTS, if it says */
		.max_data = h->max_xfer,
	};
	struct ddp_flow_key key;
	int err;

	if (!h->dev || h->o.no_ddp || xport_rcv_seq(&q->x, &cfg.start_seq))
		return;
	if (q->x.u) { /* steered since its SYN: now offloaded too */
		q->flow_id = utcp_flow_id(q->x.u);
		err = ddp_sk_update(h->dev, q->flow_id, &cfg);
	} else {
		err = xport_flow_key(&q->x, &key) ?:
			      ddp_sk_add(h->dev, &key, &cfg, &q->flow_id);
	}
	if (err) {
		if (h->o.verbose)
			fprintf(stderr, "ddp-host: queue %u in software: %s\n",
				q->qid, ddp_errmsg(h->dev));
		return;
	}
	q->x.ddp = (struct xport_ddp){ .dev = h->dev,
				       .flow_id = q->flow_id,
				       .seq0 = cfg.start_seq,
				       .rx0 = q->x.rx };
	q->x.offloaded = true;
	/* a PDU begins there: resync answers look ahead from it */
	q->next_pdu = cfg.start_seq;
	q->ahead = cfg.start_seq;
}

static int hq_open(struct host *h, struct host_queue *q, __u16 qid, __u32 size)
{
	__u8 buf[NTCP_HDR_MAX];
	struct ntcp_pdu pdu;
	struct ntcp_err e;
	struct iovec v = { buf, 0 };
	__u8 dgst = (h->o.hdgst ? NVME_TCP_DGST_HDR : 0) |
		    (h->o.ddgst ? NVME_TCP_DGST_DATA : 0);
	__u32 hl;
	int err;

	memset(q, 0, sizeof(*q));
	q->x.fd = -1; /* not connected: nothing to close */
	q->h = h;
	q->qid = qid;
	for (q->slot_bits = 0; (1u << q->slot_bits) < size; q->slot_bits++)
		;
	q->size = 1u << q->slot_bits;
	q->cmds = calloc(q->size, sizeof(*q->cmds));
	q->uses = calloc(q->size, sizeof(*q->uses));
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!q->cmds || !q->uses || q->efd < 0)
		return herr(h, -ENOMEM, "out of memory");
	if (h->xsk) {
		char why[160] = "";

		err = xport_connect_xsk(&q->x, h->xsk, h->o.traddr,
					h->o.trsvcid, why, sizeof(why));
		if (err)
			return herr(
				h, err,
				"couldn't connect to %s port %s over AF_XDP: %s",
				h->o.traddr, h->o.trsvcid, why);
	} else {
		err = xport_connect(&q->x, h->o.traddr, h->o.trsvcid);
		if (err)
			return herr(h, err,
				    "couldn't connect to %s port %s: %s",
				    h->o.traddr, h->o.trsvcid, strerror(-err));
	}
	/* inside a PDU too, no wait lasts longer than a command may */
	err = xport_set_timeout(&q->x, h->io_timeout_ns / 1000000);
	if (err)
		return herr(h, err, "socket timeouts: %s", strerror(-err));
	v.iov_len = ntcp_enc_icreq(buf, 0, dgst, 0);
	err = xport_send(&q->x, &v, 1);
	if (!err)
		err = xport_recv(&q->x, buf, NVME_TCP_IC_HLEN);
	if (err)
		return herr(h, err, "ICReq/ICResp with %s: %s", h->o.traddr,
			    strerror(-err));
	if (ntcp_ch_check(&q->p, NTCP_HOST, buf, &hl, &e) ||
	    ntcp_hdr_parse(&q->p, NTCP_HOST, buf, hl, &pdu, &e))
		return herr(h, -EPROTO, "bad ICResp: %s", e.why);
	/* digests are on where both asked for them */
	q->p = (struct ntcp_params){ .ic_done = true,
				     .hdgst = pdu.ic.dgst & NVME_TCP_DGST_HDR,
				     .ddgst = pdu.ic.dgst & NVME_TCP_DGST_DATA,
				     .cpda = pdu.ic.pda,
				     .maxh2cdata = pdu.ic.maxdata };
	if (qid)
		hq_offload(q);
	return 0;
}

static void hq_close(struct host_queue *q)
{
	/* an AF_XDP connection takes its steering away itself */
	if (q->x.offloaded && !q->x.u)
		ddp_sk_del(q->h->dev, q->flow_id);
	xport_close(&q->x);
	if (q->efd > 0)
		close(q->efd);
	free(q->cmds);
	free(q->uses);
}

static int prop(struct host *h, bool set, __u32 off, __u64 *val)
{
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS };
	__u8 *s = (__u8 *)&sqe;
	__u32 result = 0;
	int err;

	s[NVME_FC_TYPE] = set ? NVME_FCT_PROPERTY_SET : NVME_FCT_PROPERTY_GET;
	s[NVME_PROP_ATTRIB] = off == NVME_REG_CAP; /* 8 bytes */
	memcpy(s + NVME_PROP_OFFSET, &off, 4);
	if (set)
		memcpy(s + NVME_PROP_VALUE, val, 8);
	err = hq_sync_cmd(&h->admin, &sqe, NULL, 0, false, &result);
	if (!err && !set)
		*val = result;
	return err;
}

/* The interface the kernel routes traddr through, by the local address
 * a UDP socket connected there gets. */
static void host_route_ifname(struct host *h)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST },
			*ai;
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);
	struct ifaddrs *ifs, *i;
	int fd;

	if (h->o.ddp_dev) {
		snprintf(h->ifname, sizeof(h->ifname), "%s", h->o.ddp_dev);
		return;
	}
	if (getaddrinfo(h->o.traddr, h->o.trsvcid, &hints, &ai))
		return;
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, ai->ai_addr, ai->ai_addrlen) &&
	    !getsockname(fd, (void *)&me, &len) && !getifaddrs(&ifs)) {
		for (i = ifs; i; i = i->ifa_next) {
			const void *a, *b;
			size_t n;

			if (!i->ifa_addr ||
			    i->ifa_addr->sa_family != me.ss_family)
				continue;
			if (me.ss_family == AF_INET) {
				a = &((struct sockaddr_in *)i->ifa_addr)
					     ->sin_addr;
				b = &((struct sockaddr_in *)&me)->sin_addr;
				n = 4;
			} else {
				a = &((struct sockaddr_in6 *)i->ifa_addr)
					     ->sin6_addr;
				b = &((struct sockaddr_in6 *)&me)->sin6_addr;
				n = 16;
			}
			if (!memcmp(a, b, n))
				snprintf(h->ifname, sizeof(h->ifname), "%s",
					 i->ifa_name);
		}
		freeifaddrs(ifs);
	}
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
}

/* AF_XDP is impossible: an error if asked for by name, else said once
 * and kernel sockets instead */
static int host_no_xsk(struct host *h, int err, const char *why)
{
	if (h->o.transport == HOST_XPORT_XSK)
		return herr(h, err, "AF_XDP on %s: %s", h->ifname, why);
	fprintf(stderr, "ddp-host: no AF_XDP on %s: %s; using kernel sockets\n",
		h->ifname, why);
	return 0;
}

/* The engine on that interface, and AF_XDP on it unless kernel sockets
 * were asked for. */
static int host_setup_transport(struct host *h)
{
	bool want_xsk = h->o.transport != HOST_XPORT_KERNEL;
	struct ddp_caps caps;
	char why[200];
	int err;

	host_route_ifname(h);
	if (!h->ifname[0]) {
		if (h->o.transport == HOST_XPORT_XSK)
			return herr(
				h, -ENODEV,
				"AF_XDP needs the target reached through an interface with the engine attached (ddpctl attach DEV)");
		return 0;
	}
	if (!want_xsk && h->o.no_ddp)
		return 0;
	if (ddp_dev_join(h->ifname, &h->dev)) {
		snprintf(why, sizeof(why), "%s", ddp_errmsg(NULL));
		h->dev = NULL;
		if (want_xsk)
			return host_no_xsk(h, -ENOENT, why);
		if (h->o.verbose)
			fprintf(stderr, "ddp-host: no offload: %s\n", why);
		return 0;
	}
	ddp_dev_caps(h->dev, &caps);
	h->threshold = caps.io_threshold;
	h->pin_bufs = caps.pinned_buffers;
	if (h->o.verbose)
		fprintf(stderr, "ddp-host: reads placed into %s\n",
			h->pin_bufs ?
				"our own buffers, pinned by kmod_glue's module" :
				"the engine's buffer region");
	if (pthread_create(&h->ev, NULL, host_events, h) == 0)
		h->ev_on = true;
	if (!want_xsk)
		return 0;
	err = utcp_port_open(h->dev, h->ifname, h->o.xsk_mode, &h->xsk, why,
			     sizeof(why));
	if (err) {
		h->xsk = NULL;
		return host_no_xsk(h, err, why);
	}
	if (h->o.verbose)
		fprintf(stderr,
			"ddp-host: AF_XDP on '%s': a socket on each of its RX queues (%u), %s\n",
			h->ifname, utcp_port_queues(h->xsk),
			utcp_port_zerocopy(h->xsk) ?
				"zero-copy" :
			h->o.xsk_mode ?
				"copy mode" :
				"copy mode (the driver offers no zero-copy)");
	return 0;
}

const char *host_transport(const struct host *h)
{
	return h->xsk ? "xsk" : "kernel";
}

int host_connect(const struct host_opts *o, struct host **out, char *errbuf,
		 size_t errlen)
{
	struct host *h = calloc(1, sizeof(*h));
	__u8 *id = NULL;
	__u64 cap = 0, cc, csts = 0;
	__u32 result, i, want;
	struct nvme_sqe sqe;
	int err, tries;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->pins_lock, NULL);
	h->o = *o;
	h->io_timeout_ns = (o->io_timeout ? o->io_timeout : 30) * 1000000000ull;
	h->admin.x.fd = -1; /* until hq_open */
	/* nothing placed and nothing summed: every byte is thrown away */
	if (o->discard && (!o->no_ddp || o->ddgst))
		err = herr(
			h, -EINVAL,
			"discard: only without DDP and without data digests");
	else
		err = host_setup_transport(h);
	if (!err)
		err = hq_open(h, &h->admin, NVME_ADMIN_QID, ADMIN_QSIZE);
	if (err)
		goto fail;
	err = hq_fabrics_connect(&h->admin, 0xffff, &h->cntlid);
	if (!err)
		err = prop(h, false, NVME_REG_CAP, &cap);
	cc = NVME_CC_EN | (6u << 16) | (4u << 20);
	if (!err)
		err = prop(h, true, NVME_REG_CC, &cc);
	for (tries = 0; !err && !(csts & NVME_CSTS_RDY) && tries < 500;
	     tries++) {
		err = prop(h, false, NVME_REG_CSTS, &csts);
		if (!err && !(csts & NVME_CSTS_RDY))
			usleep(10000);
	}
	if (!err && !(csts & NVME_CSTS_RDY))
		err = herr(h, -ETIMEDOUT, "the controller never became ready");
	if (err)
		goto fail;
	id = calloc(1, NVME_IDENTIFY_LEN);
	err = id ? host_identify(h, NVME_ID_CNS_CTRL, 0, id) : -ENOMEM;
	if (err)
		goto fail;
	/* MDTS in units of the minimum page size (CAP.MPSMIN, 4 KiB << n) */
	if (id[NVME_IDC_MDTS])
		h->max_xfer = (4096u << ((cap >> 48) & 0xf))
			      << id[NVME_IDC_MDTS];
	memcpy(&h->ioccsz, id + NVME_IDC_IOCCSZ, 4);
	free(id);
	if (!strcmp(o->subnqn, NVME_DISC_NQN) || !o->nr_io_queues) {
		*out = h;
		return 0;
	}

	want = o->nr_io_queues;
	sqe = (struct nvme_sqe){ .opcode = NVME_ADM_SET_FEATURES,
				 .cdw10 = NVME_FEAT_NUM_QUEUES,
				 .cdw11 = (want - 1) | (want - 1) << 16 };
	err = hq_sync_cmd(&h->admin, &sqe, NULL, 0, false, &result);
	if (err)
		goto fail;
	if ((result & 0xffff) + 1 < want)
		want = (result & 0xffff) + 1;
	h->ioq = calloc(want, sizeof(*h->ioq));
	if (!h->ioq) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < want; i++) {
		err = hq_open(h, &h->ioq[i], i + 1, o->queue_size);
		h->nioq = i + 1;
		if (!err)
			err = hq_fabrics_connect(&h->ioq[i], h->cntlid, NULL);
		if (err)
			goto fail;
		h->ioq[i].incapsule =
			h->ioccsz * 16 > sizeof(struct nvme_sqe) ?
				h->ioccsz * 16 - sizeof(struct nvme_sqe) :
				0;
	}
	*out = h;
	return 0;
fail:
	snprintf(errbuf, errlen, "%s", h->err[0] ? h->err : strerror(-err));
	host_disconnect(h);
	return err;
}

void host_disconnect(struct host *h)
{
	__u64 cc = NVME_CC_EN | (1u << 14); /* normal shutdown */
	__u32 i;

	if (!h)
		return;
	for (i = 0; i < h->nioq; i++)
		hq_close(&h->ioq[i]);
	if ((h->admin.x.fd >= 0 || h->admin.x.u) && !h->admin.failed &&
	    h->cntlid)
		prop(h, true, NVME_REG_CC, &cc);
	hq_close(&h->admin);
	if (h->ev_on) {
		h->ev_stop = 1;
		pthread_join(h->ev, NULL);
	}
	if (h->xsk)
		utcp_port_close(h->xsk);
	ddp_dev_close(h->dev);
	free(h->pins);
	pthread_mutex_destroy(&h->pins_lock);
	free(h->ioq);
	free(h);
}

int host_identify(struct host *h, __u8 cns, __u32 nsid, void *buf)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADM_IDENTIFY,
				.nsid = nsid,
				.cdw10 = cns };

	return hq_sync_cmd(&h->admin, &sqe, buf, NVME_IDENTIFY_LEN, false,
			   NULL);
}

int host_get_log(struct host *h, __u8 lid, void *buf, __u32 len)
{
	__u32 numd = len / 4 - 1;
	struct nvme_sqe sqe = { .opcode = NVME_ADM_GET_LOG_PAGE,
				.cdw10 = lid | (numd & 0xffff) << 16,
				.cdw11 = numd >> 16 };

	return hq_sync_cmd(&h->admin, &sqe, buf, len, false, NULL);
}

int host_ns_info(struct host *h, __u32 nsid, __u64 *blocks, __u32 *lba_size)
{
	__u8 id[NVME_IDENTIFY_LEN];
	__u8 flbas;
	int err = host_identify(h, NVME_ID_CNS_NS, nsid, id);

	if (err)
		return err;
	memcpy(blocks, id + NVME_IDNS_NSZE, 8);
	flbas = id[NVME_IDNS_FLBAS] & 0xf;
	*lba_size = 1u << id[NVME_IDNS_LBAF0 + 4 * flbas + 2];
	if (!*blocks || *lba_size < 512)
		return herr(h, -ENXIO, "namespace %u is not usable", nsid);
	return 0;
}

__u32 host_nr_queues(const struct host *h)
{
	return h->nioq;
}

struct host_queue *host_queue(struct host *h, __u32 i)
{
	return i < h->nioq ? &h->ioq[i] : NULL;
}

__u32 host_max_xfer(const struct host *h)
{
	return h->max_xfer;
}

/* Pin buf[0, len) for the engine; false if it cannot be. */
static bool host_pin_add(struct host *h, void *buf, __u32 len)
{
	struct host_pin pin = { .buf = buf, .len = len }, *n;
	bool ok = false;

	if (ddp_pin_buf(h->dev, buf, len, &pin.id)) {
		if (h->o.verbose)
			fprintf(stderr, "ddp-host: %s\n", ddp_errmsg(h->dev));
		return false;
	}
	pthread_mutex_lock(&h->pins_lock);
	if (h->npins == h->pins_cap) {
		n = realloc(h->pins, (h->pins_cap * 2 + 16) * sizeof(*n));
		if (n) {
			h->pins = n;
			h->pins_cap = h->pins_cap * 2 + 16;
		}
	}
	if (h->npins < h->pins_cap) {
		h->pins[h->npins++] = pin;
		ok = true;
	}
	pthread_mutex_unlock(&h->pins_lock);
	if (!ok)
		ddp_unpin_buf(h->dev, pin.id);
	return ok;
}

bool host_buf_pin(struct host *h, const void *buf, __u32 len,
		  struct host_pin *out)
{
	bool found = false;
	__u32 i;

	/* copied out under the lock: the table moves as buffers come and go */
	pthread_mutex_lock(&h->pins_lock);
	for (i = 0; i < h->npins; i++)
		if ((const __u8 *)buf >= (const __u8 *)h->pins[i].buf &&
		    (const __u8 *)buf + len <=
			    (const __u8 *)h->pins[i].buf + h->pins[i].len) {
			if (out)
				*out = h->pins[i];
			found = true;
			break;
		}
	pthread_mutex_unlock(&h->pins_lock);
	return found;
}

/* Our own memory, pinned, where the module is there; else the region. */
void *host_buf_alloc(struct host *h, __u32 len)
{
	__u32 size = (len + 4095) / 4096 * 4096, align = 4096, off;
	void *p;

	if (h->dev && h->pin_bufs) {
		p = aligned_alloc(4096, size);
		if (p && host_pin_add(h, p, size))
			return p;
		free(p);
	}
	/* aligned to its size (a power of 2, up to half a chunk): buffers
	 * of the sizes reads come in pack the region's chunks as a buddy
	 * allocator's blocks do, leaving whole chunks for the largest */
	while (align < size && align < (1u << 19))
		align *= 2;
	if (h->dev && !ddp_buf_alloc(h->dev, len, align, &off))
		return ddp_buf_mem(h->dev) + off;
	return aligned_alloc(4096, size);
}

bool host_buf_in_region(const struct host *h, const void *buf, __u32 len)
{
	const __u8 *region = h->dev ? ddp_buf_mem(h->dev) : NULL;

	return region && (const __u8 *)buf >= region &&
	       (const __u8 *)buf + len <= region + ddp_buf_size(h->dev);
}

bool host_buf_placeable(struct host *h, const void *buf, __u32 len)
{
	return host_buf_in_region(h, buf, len) ||
	       host_buf_pin(h, buf, len, NULL);
}

/* Unpinned once its reads are done: a tag torn down late places nothing
 * into it once it is unpinned (the module sees to it). A buffer that
 * stays pinned is not given back to malloc. */
void host_buf_free(struct host *h, void *buf)
{
	struct host_pin pin = { 0 };
	__u32 i;

	if (host_buf_in_region(h, buf, 1)) {
		ddp_buf_free(h->dev, (__u8 *)buf - ddp_buf_mem(h->dev));
		return;
	}
	pthread_mutex_lock(&h->pins_lock);
	for (i = 0; i < h->npins; i++)
		if (h->pins[i].buf == buf) {
			pin = h->pins[i];
			h->pins[i] = h->pins[--h->npins];
			break;
		}
	pthread_mutex_unlock(&h->pins_lock);
	/* outside the lock: the unpin waits for the XDP programs running */
	if (pin.id && ddp_unpin_buf(h->dev, pin.id)) {
		fprintf(stderr, "ddp-host: %s: buffer kept\n",
			ddp_errmsg(h->dev));
		return;
	}
	free(buf);
}

bool host_pins_buffers(const struct host *h)
{
	return h->pin_bufs;
}

__u32 host_bufs_pinned(struct host *h)
{
	__u32 n;

	pthread_mutex_lock(&h->pins_lock);
	n = h->npins;
	pthread_mutex_unlock(&h->pins_lock);
	return n;
}

bool host_ddp_stats(struct host *h, struct ddp_stats *st)
{
	return h->dev && !ddp_stats_read(h->dev, st);
}
