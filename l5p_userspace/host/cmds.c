// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cmds.c - ddp-host's commands but perf: discover, id-ctrl, id-ns,
 * list-ns (admin commands, printed as nvme-cli prints them), and read,
 * write, verify (one I/O each).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "main.h"
#include "nvme/pattern.h"

/* ---- admin commands ------------------------------------------------------- */

static void str_field(const char *name, const __u8 *p, int len)
{
	printf("%-10s: %-*.*s\n", name, len, len, (const char *)p);
}

static __u32 le32(const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return v;
}

static __u16 le16(const __u8 *p)
{
	__u16 v;

	memcpy(&v, p, 2);
	return v;
}

int cmd_id_ctrl(struct args *a)
{
	__u8 id[NVME_IDENTIFY_LEN];
	struct host *h;

	if (connect_or_fail(a, &h, 0))
		return EXIT_FAILURE;
	if (host_identify(h, NVME_ID_CNS_CTRL, 0, id)) {
		fprintf(stderr, "ddp-host: identify: %s\n", host_error(h));
		host_disconnect(h);
		return EXIT_FAILURE;
	}
	printf("NVME Identify Controller:\n");
	printf("%-10s: %#x\n", "vid", le16(id + NVME_IDC_VID));
	str_field("sn", id + NVME_IDC_SN, 20);
	str_field("mn", id + NVME_IDC_MN, 40);
	str_field("fr", id + NVME_IDC_FR, 8);
	printf("%-10s: %u\n", "mdts", id[NVME_IDC_MDTS]);
	printf("%-10s: %#x\n", "cntlid", le16(id + NVME_IDC_CNTLID));
	printf("%-10s: %#x\n", "ver", le32(id + NVME_IDC_VER));
	printf("%-10s: %u\n", "maxcmd", le16(id + NVME_IDC_MAXCMD));
	printf("%-10s: %u\n", "nn", le32(id + NVME_IDC_NN));
	printf("%-10s: %#x\n", "sgls", le32(id + NVME_IDC_SGLS));
	printf("%-10s: %.256s\n", "subnqn", (const char *)id + NVME_IDC_SUBNQN);
	printf("%-10s: %u\n", "ioccsz", le32(id + NVME_IDC_IOCCSZ));
	printf("%-10s: %u\n", "iorcsz", le32(id + NVME_IDC_IORCSZ));
	host_disconnect(h);
	return 0;
}

int cmd_id_ns(struct args *a)
{
	__u8 id[NVME_IDENTIFY_LEN];
	struct host *h;
	__u64 v;
	int i;

	if (connect_or_fail(a, &h, 0))
		return EXIT_FAILURE;
	if (host_identify(h, NVME_ID_CNS_NS, a->nsid, id)) {
		fprintf(stderr, "ddp-host: identify namespace %u: %s\n",
			a->nsid, host_error(h));
		host_disconnect(h);
		return EXIT_FAILURE;
	}
	printf("NVME Identify Namespace %u:\n", a->nsid);
	memcpy(&v, id + NVME_IDNS_NSZE, 8);
	printf("%-10s: %llu\n", "nsze", (unsigned long long)v);
	memcpy(&v, id + NVME_IDNS_NCAP, 8);
	printf("%-10s: %llu\n", "ncap", (unsigned long long)v);
	memcpy(&v, id + NVME_IDNS_NUSE, 8);
	printf("%-10s: %llu\n", "nuse", (unsigned long long)v);
	printf("%-10s: %u\n", "nlbaf", id[NVME_IDNS_NLBAF]);
	printf("%-10s: %u\n", "flbas", id[NVME_IDNS_FLBAS]);
	for (i = 0; i <= id[NVME_IDNS_NLBAF] && i < 16; i++)
		printf("lbaf %2d : ms:%u lbads:%u rp:%u%s\n", i,
		       le16(id + NVME_IDNS_LBAF0 + 4 * i),
		       id[NVME_IDNS_LBAF0 + 4 * i + 2],
		       id[NVME_IDNS_LBAF0 + 4 * i + 3],
		       i == (id[NVME_IDNS_FLBAS] & 0xf) ? " (in use)" : "");
	host_disconnect(h);
	return 0;
}

int cmd_list_ns(struct args *a)
{
	__u8 list[NVME_IDENTIFY_LEN];
	struct host *h;
	int i;

	if (connect_or_fail(a, &h, 0))
		return EXIT_FAILURE;
	if (host_identify(h, NVME_ID_CNS_NS_ACTIVE_LIST, 0, list)) {
		fprintf(stderr, "ddp-host: list namespaces: %s\n",
			host_error(h));
		host_disconnect(h);
		return EXIT_FAILURE;
	}
	for (i = 0; i < 1024 && le32(list + 4 * i); i++)
		printf("[%4d]:%#x\n", i, le32(list + 4 * i));
	host_disconnect(h);
	return 0;
}

static const char *trtype_str(__u8 t)
{
	return t == NVME_TRTYPE_TCP ? "tcp" : "unknown";
}

int cmd_discover(struct args *a)
{
	__u8 head[NVME_DLP_ENTRY], *log;
	struct host *h;
	__u64 n, gen, i;
	int rc = EXIT_FAILURE;

	if (connect_or_fail(a, &h, 0))
		return EXIT_FAILURE;
	if (host_get_log(h, NVME_LOG_DISCOVERY, head, sizeof(head)))
		goto out;
	memcpy(&n, head + NVME_DLP_NUMREC, 8);
	memcpy(&gen, head + NVME_DLP_GENCTR, 8);
	if (n > 64)
		n = 64;
	log = malloc((n + 1) * NVME_DLP_ENTRY);
	if (!log || host_get_log(h, NVME_LOG_DISCOVERY, log,
				 (n + 1) * NVME_DLP_ENTRY)) {
		free(log);
		goto out;
	}
	printf("\nDiscovery Log Number of Records %llu, Generation counter %llu\n",
	       (unsigned long long)n, (unsigned long long)gen);
	for (i = 0; i < n; i++) {
		const __u8 *e = log + (i + 1) * NVME_DLP_ENTRY;

		printf("=====Discovery Log Entry %llu======\n",
		       (unsigned long long)i);
		printf("trtype:  %s\n", trtype_str(e[NVME_DLE_TRTYPE]));
		printf("adrfam:  %s\n",
		       e[NVME_DLE_ADRFAM] == NVME_ADRFAM_IP6 ? "ipv6" : "ipv4");
		printf("subtype: %s\n",
		       e[NVME_DLE_SUBTYPE] == NVME_SUBTYPE_NVME ?
			       "nvme subsystem" :
			       "discovery subsystem");
		printf("portid:  %u\n", le16(e + NVME_DLE_PORTID));
		printf("trsvcid: %.32s\n", (const char *)e + NVME_DLE_TRSVCID);
		printf("subnqn:  %.256s\n", (const char *)e + NVME_DLE_SUBNQN);
		printf("traddr:  %.256s\n", (const char *)e + NVME_DLE_TRADDR);
	}
	free(log);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "ddp-host: discovery log: %s\n", host_error(h));
	host_disconnect(h);
	return rc;
}

/* ---- read, write, verify ---------------------------------------------------- */

static void io_done(struct host_io *io)
{
	*(int *)io->arg = 1;
}

/* One command on the first I/O queue, to completion. */
static int one_io(struct host *h, struct host_io *io)
{
	struct host_queue *q = host_queue(h, 0);
	int done = 0, err;

	io->done = io_done;
	io->arg = &done;
	err = hq_submit(q, io);
	while (!err && !done) {
		err = hq_poll(q, 1000);
		err = err < 0 ? err : 0;
	}
	if (err) {
		fprintf(stderr, "ddp-host: I/O: %s\n", host_error(h));
		return EXIT_FAILURE;
	}
	if (io->status) {
		fprintf(stderr, "ddp-host: I/O failed: NVMe status %#x\n",
			io->status);
		return EXIT_FAILURE;
	}
	return 0;
}

int cmd_rw(struct args *a, bool write, bool verify)
{
	struct host_io io = { .opcode = write ? NVME_CMD_WRITE : NVME_CMD_READ,
			      .nsid = a->nsid,
			      .slba = a->slba,
			      .nlb = a->nlb };
	__u64 blocks;
	__u32 lba;
	struct host *h;
	FILE *f = NULL;
	int rc = EXIT_FAILURE;
	int64_t bad;

	if (connect_or_fail(a, &h, 1))
		return EXIT_FAILURE;
	if (host_ns_info(h, a->nsid, &blocks, &lba)) {
		fprintf(stderr, "ddp-host: %s\n", host_error(h));
		goto out;
	}
	io.len = a->nlb * lba;
	io.buf = host_buf_alloc(h, io.len);
	if (a->data) {
		f = fopen(a->data, write ? "rb" : "wb");
		if (!f) {
			fprintf(stderr, "ddp-host: %s: %s\n", a->data,
				strerror(errno));
			goto out_buf;
		}
	}
	if (write && fread(io.buf, 1, io.len, f ?: stdin) != io.len) {
		fprintf(stderr, "ddp-host: fewer than %u bytes to write\n",
			io.len);
		goto out_file;
	}
	if (one_io(h, &io))
		goto out_file;
	if (verify) {
		bad = ddp_pattern_check(io.buf, a->slba * lba, io.len);
		if (bad >= 0) {
			fprintf(stderr,
				"ddp-host: verify: byte %lld differs from the pattern\n",
				(long long)bad);
			goto out_file;
		}
		printf("verified %u bytes at LBA %llu%s\n", io.len,
		       (unsigned long long)a->slba,
		       io.placed_all ? " (placed by the engine)" : "");
	} else if (!write && fwrite(io.buf, 1, io.len, f ?: stdout) != io.len) {
		fprintf(stderr, "ddp-host: write out: %s\n", strerror(errno));
		goto out_file;
	}
	rc = 0;
out_file:
	if (f)
		fclose(f);
out_buf:
	host_buf_free(h, io.buf);
out:
	host_disconnect(h);
	return rc;
}
