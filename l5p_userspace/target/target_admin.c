// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * target_admin.c - the target's controllers (the dynamic model of
 * target.h), Fabrics commands (Connect, Property Get and Set) and admin
 * commands (Identify, the discovery log, features, keep alive, AERs).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "target_priv.h"

/* Controllers */

static struct tctrl *ctrl_new(struct tconn *c, bool disc, const char *hostnqn,
			      __u32 kato)
{
	struct target *t = c->t;
	struct tctrl *ctrl = NULL;
	int i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < TGT_MAX_CTRLS && t->ctrls[i]; i++)
		;
	if (i < TGT_MAX_CTRLS)
		ctrl = calloc(1, sizeof(*ctrl));
	if (ctrl) {
		ctrl->qids = calloc(t->o.max_queues + 1, sizeof(bool));
		if (!ctrl->qids) {
			free(ctrl);
			ctrl = NULL;
		}
	}
	if (ctrl) {
		ctrl->cntlid = i + 1;
		ctrl->discovery = disc;
		ctrl->refs = 1;
		ctrl->kato = kato;
		ctrl->nr_queues = t->o.max_queues;
		snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", hostnqn);
		t->ctrls[i] = ctrl;
		c->ctrl = ctrl;
	}
	pthread_mutex_unlock(&t->lock);
	return ctrl;
}

/* The controller an I/O queue names, if it may join it. */
static struct tctrl *ctrl_join(struct tconn *c, __u16 cntlid, __u16 qid,
			       const char *hostnqn, const char **why,
			       __u16 *ipo)
{
	struct target *t = c->t;
	struct tctrl *ctrl;

	pthread_mutex_lock(&t->lock);
	ctrl = cntlid && cntlid <= TGT_MAX_CTRLS ? t->ctrls[cntlid - 1] : NULL;
	*ipo = NVME_CONNECT_CNTLID;
	if (!ctrl || ctrl->discovery) {
		*why = "no such controller";
	} else if (strcmp(ctrl->hostnqn, hostnqn)) {
		*why = "controller of another host";
		*ipo = NVME_CONNECT_HOSTNQN;
	} else if (ctrl->qids[qid]) {
		*why = "queue already connected";
	} else {
		*why = NULL;
	}
	if (*why) {
		ctrl = NULL;
	} else {
		ctrl->qids[qid] = true;
		ctrl->refs++;
		c->ctrl = ctrl;
	}
	pthread_mutex_unlock(&t->lock);
	return ctrl;
}

/* A connection leaves its controller; the admin queue takes the I/O queues
 * with it. */
void ctrl_leave(struct tconn *c)
{
	struct target *t = c->t;
	struct tctrl *ctrl = c->ctrl;
	struct tconn *o;

	if (!ctrl)
		return;
	pthread_mutex_lock(&t->lock);
	if (!c->qid) {
		t->ctrls[ctrl->cntlid - 1] = NULL;
		for (o = t->conns; o; o = o->next)
			if (o != c && o->ctrl == ctrl)
				shutdown(o->x.fd, SHUT_RDWR);
	} else {
		ctrl->qids[c->qid] = false;
	}
	c->ctrl = NULL;
	if (!--ctrl->refs) {
		free(ctrl->qids);
		free(ctrl);
	}
	pthread_mutex_unlock(&t->lock);
}

bool ctrl_ready(const struct tctrl *ctrl)
{
	return __atomic_load_n(&ctrl->csts, __ATOMIC_ACQUIRE) & NVME_CSTS_RDY;
}

/* Fabrics: Connect, Property Get and Set */

static int connect_fail(struct tconn *c, __u16 cid, bool in_data, __u16 off,
			const char *why)
{
	vlog(c, "Connect refused: %s", why);
	return send_rsp(c, cid, NVME_SC_CONNECT_INVALID_PARAM | NVME_SC_DNR,
			(in_data ? 1u << 16 : 0) | off);
}

int fab_connect(struct tconn *c, const struct nvme_sqe *sqe, const __u8 *data,
		__u32 dlen)
{
	struct target *t = c->t;
	__u16 qid = get16(sqe, NVME_CONNECT_QID);
	__u16 sqsize = get16(sqe, NVME_CONNECT_SQSIZE);
	__u8 cattr = ((const __u8 *)sqe)[NVME_CONNECT_CATTR];
	char subnqn[NVME_NQN_MAX + 1], hostnqn[NVME_NQN_MAX + 1];
	const char *why;
	__u16 ipo;
	bool disc;

	if (dlen < NVME_CONNECT_DATA_LEN)
		return send_rsp(c, sqe->cid,
				NVME_SC_SGL_INVALID_DATA | NVME_SC_DNR, 0);
	snprintf(subnqn, sizeof(subnqn), "%.*s", NVME_NQN_MAX,
		 (const char *)data + NVME_CONNECT_SUBNQN);
	snprintf(hostnqn, sizeof(hostnqn), "%.*s", NVME_NQN_MAX,
		 (const char *)data + NVME_CONNECT_HOSTNQN);
	disc = !strcmp(subnqn, NVME_DISC_NQN);
	if (get16(sqe, NVME_CONNECT_RECFMT))
		return connect_fail(c, sqe->cid, false, NVME_CONNECT_RECFMT,
				    "record format not 0");
	if (!disc && strcmp(subnqn, t->o.nqn))
		return connect_fail(c, sqe->cid, true, NVME_CONNECT_SUBNQN,
				    "unknown subsystem");
	if (!sqsize || sqsize >= t->o.queue_size)
		return connect_fail(c, sqe->cid, false, NVME_CONNECT_SQSIZE,
				    "queue size out of range");
	c->qid = qid; /* before a controller is taken: ctrl_leave() reads it */
	if (!qid) {
		if (get16(data, NVME_CONNECT_CNTLID) != 0xffff)
			return connect_fail(
				c, sqe->cid, true, NVME_CONNECT_CNTLID,
				"admin queue not for cntlid 0xFFFF");
		if (!ctrl_new(c, disc, hostnqn, get32(sqe, NVME_CONNECT_KATO)))
			return send_rsp(c, sqe->cid, TGT_SC_CTRL_BUSY, 0);
	} else {
		if (disc || qid > t->o.max_queues)
			return connect_fail(c, sqe->cid, false,
					    NVME_CONNECT_QID,
					    "queue ID out of range");
		if (!ctrl_join(c, get16(data, NVME_CONNECT_CNTLID), qid,
			       hostnqn, &why, &ipo))
			return connect_fail(c, sqe->cid, true, ipo, why);
		c->cmds = calloc(sqsize + 1, sizeof(*c->cmds));
		if (!c->cmds)
			return -ENOMEM;
	}
	c->qsize = sqsize + 1;
	c->sqhd = 1 % c->qsize; /* the Connect itself was taken */
	c->no_sqfc = cattr & NVME_CATTR_NO_SQFC;
	vlog(c, "%s controller %u, queue %u of %u entries%s, host %s",
	     disc ? "discovery" : "NVM", c->ctrl->cntlid, qid, c->qsize,
	     c->no_sqfc ? " without SQ flow control" : "", hostnqn);
	return send_rsp(c, sqe->cid, 0, c->ctrl->cntlid);
}

static void cc_write(struct tctrl *ctrl, __u32 cc)
{
	__u32 old = ctrl->cc, csts = ctrl->csts;

	if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN))
		csts |= NVME_CSTS_RDY;
	if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN))
		csts &= ~(NVME_CSTS_RDY | TGT_CSTS_SHST_MASK); /* a reset */
	csts &= ~TGT_CSTS_SHST_MASK;
	if (cc & NVME_CC_SHN_MASK)
		csts |= NVME_CSTS_SHST_DONE; /* nothing to write back */
	ctrl->cc = cc;
	__atomic_store_n(&ctrl->csts, csts, __ATOMIC_RELEASE);
}

static int fab_property(struct tconn *c, const struct nvme_sqe *sqe, bool set)
{
	const struct target_opts *o = &c->t->o;
	struct tctrl *ctrl = c->ctrl;
	__u8 size8 = ((const __u8 *)sqe)[NVME_PROP_ATTRIB] & 7;
	__u32 off = get32(sqe, NVME_PROP_OFFSET);
	__u64 v;

	if (c->qid || size8 > 1)
		return send_rsp(c, sqe->cid,
				NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
	if (set) {
		if (off != NVME_REG_CC || size8)
			return send_rsp(c, sqe->cid,
					NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
		cc_write(ctrl, get32(sqe, NVME_PROP_VALUE));
		return send_rsp(c, sqe->cid, 0, 0);
	}
	switch (off) {
	case NVME_REG_CAP:
		/* MQES, contiguous queues, timeout, NVM command set */
		v = (o->queue_size - 1) | 1u << 16 | TGT_CAP_TO << 24 |
		    1ull << 37;
		break;
	case NVME_REG_VS:
		v = TGT_VS;
		break;
	case NVME_REG_CC:
		v = ctrl->cc;
		break;
	case NVME_REG_CSTS:
		v = ctrl->csts;
		break;
	default:
		return send_rsp(c, sqe->cid,
				NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
	}
	return send_rsp(c, sqe->cid, 0, size8 ? v : (__u32)v);
}

/* Admin commands */

static void id_ctrl(struct tconn *c, __u8 *id)
{
	struct target *t = c->t;
	struct tctrl *ctrl = c->ctrl;

	put_str(id, NVME_IDC_SN, 20, t->sn);
	put_str(id, NVME_IDC_MN, 40, "xdp-ddp NVMe/TCP target");
	put_str(id, NVME_IDC_FR, 8, "1.0");
	id[NVME_IDC_MDTS] = TGT_MDTS;
	put16(id, NVME_IDC_CNTLID, ctrl->cntlid);
	put32(id, NVME_IDC_VER, TGT_VS);
	id[111] = ctrl->discovery ? 2 : 1; /* CNTRLTYPE */
	id[259] = TGT_AERL;
	id[261] = 1 << 2; /* LPA: extended Get Log Page (NUMDU, offset) */
	put16(id, NVME_IDC_KAS, TGT_KAS);
	id[NVME_IDC_SQES] = 0x66;
	id[NVME_IDC_CQES] = 0x44;
	put16(id, NVME_IDC_MAXCMD, t->o.queue_size);
	put32(id, NVME_IDC_NN, ctrl->discovery ? 0 : 1);
	id[525] = t->fd >= 0; /* VWC: a file's writes need Flush */
	/* SGLs without alignment, and in-capsule data at an offset */
	put32(id, NVME_IDC_SGLS, 1u << 0 | 1u << 20);
	snprintf((char *)id + NVME_IDC_SUBNQN, NVME_NQN_MAX, "%s",
		 ctrl->discovery ? NVME_DISC_NQN : t->o.nqn);
	put32(id, NVME_IDC_IOCCSZ,
	      (TGT_INCAPSULE + sizeof(struct nvme_sqe)) / 16);
	put32(id, NVME_IDC_IORCSZ, sizeof(struct nvme_cqe) / 16);
	put16(id, NVME_IDC_ICDOFF, 0);
	id[NVME_IDC_MSDBD] = 1;
}

static void id_ns(struct target *t, __u8 *id)
{
	__u64 nlb = t->size >> TGT_LBA_SHIFT;
	__u32 crc = ntcp_crc32c(t->o.nqn, strlen(t->o.nqn));

	put64(id, NVME_IDNS_NSZE, nlb);
	put64(id, NVME_IDNS_NCAP, nlb);
	put64(id, NVME_IDNS_NUSE, nlb);
	id[NVME_IDNS_NLBAF] = 0;
	id[NVME_IDNS_FLBAS] = 0;
	id[NVME_IDNS_LBAF0 + 2] = TGT_LBA_SHIFT;
	/* NGUID: stable for the subsystem, so hosts can tell paths apart */
	put32(id, 104, crc);
	put32(id, 108, ~crc);
	put32(id, 112, 0xdd9a0001);
	put32(id, 116, 1);
}

static int adm_identify(struct tconn *c, const struct nvme_sqe *sqe)
{
	__u8 id[NVME_IDENTIFY_LEN] = { 0 };
	bool disc = c->ctrl->discovery;

	switch (sqe->cdw10 & 0xff) {
	case NVME_ID_CNS_CTRL:
		id_ctrl(c, id);
		break;
	case NVME_ID_CNS_NS:
		if (disc || sqe->nsid != 1)
			return send_rsp(c, sqe->cid,
					NVME_SC_INVALID_NS | NVME_SC_DNR, 0);
		id_ns(c->t, id);
		break;
	case NVME_ID_CNS_NS_ACTIVE_LIST:
		if (sqe->nsid >= 0xfffffffe)
			return send_rsp(c, sqe->cid,
					NVME_SC_INVALID_NS | NVME_SC_DNR, 0);
		if (!disc && sqe->nsid < 1)
			put32(id, 0, 1);
		break;
	default:
		return send_rsp(c, sqe->cid,
				NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
	}
	return send_page(c, sqe, id, sizeof(id), 0, sizeof(id));
}

/* The discovery log: the NVM subsystem, at the address this host used. */
static int adm_get_log(struct tconn *c, const struct nvme_sqe *sqe)
{
	struct target *t = c->t;
	__u8 page[TGT_DLP_LEN] = { 0 }, *e = page + NVME_DLP_ENTRY;
	__u64 numd =
		((__u64)(sqe->cdw11 & 0xffff) << 16 | sqe->cdw10 >> 16) + 1;
	__u64 off = sqe->cdw12 | (__u64)sqe->cdw13 << 32;
	char addr[INET6_ADDRSTRLEN];
	int port, fam;

	if ((sqe->cdw10 & 0xff) != NVME_LOG_DISCOVERY || !c->ctrl->discovery ||
	    off & 3)
		return send_rsp(c, sqe->cid,
				NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
	put64(page, NVME_DLP_GENCTR, 1);
	put64(page, NVME_DLP_NUMREC, 1);
	fam = fmt_addr(&c->local, addr, sizeof(addr), &port);
	e[NVME_DLE_TRTYPE] = NVME_TRTYPE_TCP;
	e[NVME_DLE_ADRFAM] = fam == AF_INET ? NVME_ADRFAM_IP4 : NVME_ADRFAM_IP6;
	e[NVME_DLE_SUBTYPE] = NVME_SUBTYPE_NVME;
	e[NVME_DLE_TREQ] = 1 << 2; /* SQ flow control may be disabled */
	put16(e, NVME_DLE_PORTID, TGT_PORTID);
	put16(e, NVME_DLE_CNTLID, 0xffff);
	put16(e, NVME_DLE_ASQSZ, t->o.queue_size);
	snprintf((char *)e + NVME_DLE_TRSVCID, 32, "%d", t->port);
	snprintf((char *)e + NVME_DLE_SUBNQN, NVME_NQN_MAX, "%s", t->o.nqn);
	snprintf((char *)e + NVME_DLE_TRADDR, 256, "%s", addr);
	return send_page(c, sqe, page, sizeof(page), off, numd * 4);
}

static int adm_features(struct tconn *c, const struct nvme_sqe *sqe, bool set)
{
	struct tctrl *ctrl = c->ctrl;
	__u32 max = c->t->o.max_queues, nsq, ncq, n;

	switch (sqe->cdw10 & 0xff) {
	case NVME_FEAT_NUM_QUEUES:
		if (ctrl->discovery)
			break;
		if (!set) {
			n = ctrl->nr_queues - 1;
			return send_rsp(c, sqe->cid, 0, n << 16 | n);
		}
		nsq = (sqe->cdw11 & 0xffff) + 1;
		ncq = (sqe->cdw11 >> 16) + 1;
		if (nsq > 0xffff || ncq > 0xffff)
			break;
		nsq = min32(nsq, max);
		ncq = min32(ncq, max);
		ctrl->nr_queues = min32(nsq, ncq);
		return send_rsp(c, sqe->cid, 0, (ncq - 1) << 16 | (nsq - 1));
	case NVME_FEAT_KATO:
		/* accepted, not enforced: a dead host's TCP connection ends
		 * its controller */
		if (set)
			ctrl->kato = sqe->cdw11;
		return send_rsp(c, sqe->cid, 0, set ? 0 : ctrl->kato);
	}
	return send_rsp(c, sqe->cid, NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
}

static bool sqe_sgl_ok(const struct nvme_sqe *sqe)
{
	return (sqe->flags & 0xc0) == NVME_SGL_PSDT &&
	       (sqe->sgl_type == NVME_SGL_TRANSPORT || !sqe->sgl_len);
}

int admin_exec(struct tconn *c, const struct nvme_sqe *sqe)
{
	__u8 fct = ((const __u8 *)sqe)[NVME_FC_TYPE];

	if (sqe->opcode == NVME_FABRICS) {
		if (fct == NVME_FCT_PROPERTY_GET ||
		    fct == NVME_FCT_PROPERTY_SET)
			return fab_property(c, sqe,
					    fct == NVME_FCT_PROPERTY_SET);
		return send_rsp(c, sqe->cid,
				(fct == NVME_FCT_CONNECT ?
					 NVME_SC_CMD_SEQ_ERROR :
					 NVME_SC_INVALID_FIELD) |
					NVME_SC_DNR,
				0);
	}
	if (!ctrl_ready(c->ctrl))
		return send_rsp(c, sqe->cid,
				NVME_SC_CMD_SEQ_ERROR | NVME_SC_DNR, 0);
	switch (sqe->opcode) {
	case NVME_ADM_IDENTIFY:
	case NVME_ADM_GET_LOG_PAGE:
		if (!sqe_sgl_ok(sqe))
			return send_rsp(c, sqe->cid,
					TGT_SC_SGL_TYPE | NVME_SC_DNR, 0);
		return sqe->opcode == NVME_ADM_IDENTIFY ? adm_identify(c, sqe) :
							  adm_get_log(c, sqe);
	case NVME_ADM_SET_FEATURES:
	case NVME_ADM_GET_FEATURES:
		return adm_features(c, sqe,
				    sqe->opcode == NVME_ADM_SET_FEATURES);
	case NVME_ADM_KEEP_ALIVE:
		return send_rsp(c, sqe->cid, 0, 0);
	case TGT_ADMIN_OPC_AER:
		/* held: there are no events to report */
		if (++c->aers <= TGT_AERL + 1)
			return 0;
		return send_rsp(c, sqe->cid, TGT_SC_AER_LIMIT | NVME_SC_DNR, 0);
	}
	return send_rsp(c, sqe->cid, NVME_SC_INVALID_OPCODE | NVME_SC_DNR, 0);
}
