/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nvme.h - the NVMe and NVMe over Fabrics definitions the host and the
 * target share: submission and completion queue entries, opcodes, status
 * codes, properties, and the fields of the data structures they exchange.
 * All multi-byte fields are little-endian (this code runs on x86-64).
 */
#ifndef L5P_NVME_H
#define L5P_NVME_H

#include <linux/types.h>

#define NVME_DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define NVME_NQN_MAX 256
#define NVME_IDENTIFY_LEN 4096
#define NVME_CONNECT_DATA_LEN 1024
#define NVME_ADMIN_QID 0

/* Submission queue entry (64 bytes) */
struct nvme_sqe {
	__u8 opcode;
	__u8 flags; /* bits 6-7: PSDT, 01b = SGL */
	__u16 cid;
	__u32 nsid;
	__u32 cdw2, cdw3;
	__u64 mptr;
	/* dptr: one SGL descriptor */
	__u64 sgl_addr;
	__u32 sgl_len;
	__u8 sgl_rsvd[3];
	__u8 sgl_type;
	__u32 cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
} __attribute__((packed));

/* Completion queue entry (16 bytes) */
struct nvme_cqe {
	__u32 result;
	__u32 rsvd;
	__u16 sqhd;
	__u16 sqid;
	__u16 cid;
	__u16 status; /* bit 0 phase; bits 1-8 SC; bits 9-11 SCT; bit 15 DNR */
} __attribute__((packed));

#define NVME_SGL_PSDT 0x40
#define NVME_SGL_INCAPSULE 0x01 /* data block, offset subtype */
#define NVME_SGL_TRANSPORT 0x5a /* transport data block */

enum nvme_admin_opcode {
	NVME_ADM_GET_LOG_PAGE = 0x02,
	NVME_ADM_IDENTIFY = 0x06,
	NVME_ADM_SET_FEATURES = 0x09,
	NVME_ADM_GET_FEATURES = 0x0a,
	NVME_ADM_KEEP_ALIVE = 0x18,
	NVME_FABRICS = 0x7f,
};

enum nvme_io_opcode {
	NVME_CMD_FLUSH = 0x00,
	NVME_CMD_WRITE = 0x01,
	NVME_CMD_READ = 0x02,
};

enum nvme_fabrics_type { /* byte 4 of a fabrics SQE */
			 NVME_FCT_PROPERTY_SET = 0x00,
			 NVME_FCT_CONNECT = 0x01,
			 NVME_FCT_PROPERTY_GET = 0x04,
};

/* Fabrics command fields, as SQE byte offsets */
#define NVME_FC_TYPE 4
#define NVME_CONNECT_RECFMT 40
#define NVME_CONNECT_QID 42
#define NVME_CONNECT_SQSIZE 44 /* 0's based */
#define NVME_CONNECT_CATTR 46 /* bit 2: disable SQ flow control */
#define NVME_CONNECT_KATO 48
#define NVME_PROP_ATTRIB 40 /* 0: 4 bytes, 1: 8 bytes */
#define NVME_PROP_OFFSET 44
#define NVME_PROP_VALUE 48
#define NVME_CATTR_NO_SQFC 0x04

/* Connect data (1024 bytes of in-capsule data) */
#define NVME_CONNECT_HOSTID 0
#define NVME_CONNECT_CNTLID 16
#define NVME_CONNECT_SUBNQN 256
#define NVME_CONNECT_HOSTNQN 512

/* Properties */
#define NVME_REG_CAP 0x00
#define NVME_REG_VS 0x08
#define NVME_REG_CC 0x14
#define NVME_REG_CSTS 0x1c
#define NVME_CC_EN 0x1
#define NVME_CC_SHN_MASK (3u << 14)
#define NVME_CSTS_RDY 0x1
#define NVME_CSTS_SHST_DONE (2u << 2)

enum nvme_identify_cns {
	NVME_ID_CNS_NS = 0x00,
	NVME_ID_CNS_CTRL = 0x01,
	NVME_ID_CNS_NS_ACTIVE_LIST = 0x02,
};

/* Identify controller fields */
#define NVME_IDC_VID 0
#define NVME_IDC_SN 4 /* 20 bytes */
#define NVME_IDC_MN 24 /* 40 bytes */
#define NVME_IDC_FR 64 /* 8 bytes */
#define NVME_IDC_MDTS 77
#define NVME_IDC_CNTLID 78
#define NVME_IDC_VER 80
#define NVME_IDC_KAS 320 /* u16, 100 ms units */
#define NVME_IDC_SQES 512
#define NVME_IDC_CQES 513
#define NVME_IDC_MAXCMD 514
#define NVME_IDC_NN 516
#define NVME_IDC_SGLS 536
#define NVME_IDC_SUBNQN 768
#define NVME_IDC_IOCCSZ 1792 /* u32, 16-byte units, SQE included */
#define NVME_IDC_IORCSZ 1796
#define NVME_IDC_ICDOFF 1800
#define NVME_IDC_MSDBD 1803

/* Identify namespace fields */
#define NVME_IDNS_NSZE 0
#define NVME_IDNS_NCAP 8
#define NVME_IDNS_NUSE 16
#define NVME_IDNS_NLBAF 25
#define NVME_IDNS_FLBAS 26
#define NVME_IDNS_LBAF0 128 /* u16 ms, u8 lbads, u8 rp */

enum nvme_feature {
	NVME_FEAT_NUM_QUEUES = 0x07,
	NVME_FEAT_KATO = 0x0f,
};

#define NVME_LOG_DISCOVERY 0x70

/* Discovery log page: a 1024-byte header, then 1024-byte entries */
#define NVME_DLP_GENCTR 0
#define NVME_DLP_NUMREC 8
#define NVME_DLP_RECFMT 16
#define NVME_DLP_ENTRY 1024
#define NVME_DLE_TRTYPE 0 /* 3: TCP */
#define NVME_DLE_ADRFAM 1 /* 1: IPv4, 2: IPv6 */
#define NVME_DLE_SUBTYPE 2 /* 1: discovery, 2: NVM subsystem */
#define NVME_DLE_TREQ 3
#define NVME_DLE_PORTID 4
#define NVME_DLE_CNTLID 6
#define NVME_DLE_ASQSZ 8
#define NVME_DLE_TRSVCID 32 /* 32 bytes */
#define NVME_DLE_SUBNQN 256
#define NVME_DLE_TRADDR 512 /* 256 bytes */
#define NVME_TRTYPE_TCP 3
#define NVME_ADRFAM_IP4 1
#define NVME_ADRFAM_IP6 2
#define NVME_SUBTYPE_DISCOVERY 1
#define NVME_SUBTYPE_NVME 2

/* Status: (SCT << 8) | SC, as carried in bits 1-11 of the CQE status */
enum nvme_status {
	NVME_SC_SUCCESS = 0x000,
	NVME_SC_INVALID_OPCODE = 0x001,
	NVME_SC_INVALID_FIELD = 0x002,
	NVME_SC_DATA_XFER_ERROR = 0x004,
	NVME_SC_INTERNAL = 0x006,
	NVME_SC_INVALID_NS = 0x00b,
	NVME_SC_SGL_INVALID_DATA = 0x00f,
	NVME_SC_CMD_SEQ_ERROR = 0x00c,
	NVME_SC_LBA_RANGE = 0x080,
	NVME_SC_CAP_EXCEEDED = 0x081,
	NVME_SC_CONNECT_INVALID_PARAM = 0x182,
	NVME_SC_CONNECT_INVALID_HOST = 0x184,
	NVME_SC_INVALID_QUEUE = 0x101,
	NVME_SC_DNR = 0x4000,
};

static inline __u16 nvme_cqe_status(const struct nvme_cqe *c)
{
	return (c->status >> 1) & 0x7ff;
}

#endif /* L5P_NVME_H */
