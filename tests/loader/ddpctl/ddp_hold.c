// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ddp_hold.c - for the ddpctl tests: joins the engine on DEV, takes a 1 MiB
 * buffer of the region, offloads one connection (192.0.2.1:4420 >
 * 192.0.2.2:40000, kernel-socket path, or with "xsk-zc" an AF_XDP socket's
 * bound zero-copy) with two tags into it, says "ready PID", and undoes it
 * all when stdin closes.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "libddp.h"
#include "pkt.h"

int main(int argc, char **argv)
{
	struct ddp_sk_config cfg = { .queue_size = 32,
				     .start_seq = 1000,
				     .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS };
	struct ddp_seg segs[3] = { { 0, 65536 },
				   { 65536, 65536 },
				   { 131072, 4096 } };
	struct ddp_flow_key key;
	struct pkt_flow fl;
	struct ddp_dev *d;
	__u32 id, buf;
	char c;

	if (argc == 3 && !strcmp(argv[2], "xsk-zc"))
		cfg.flags = DDP_SK_OFFLOAD | DDP_SK_XSK | DDP_SK_ZEROCOPY;
	else if (argc != 2) {
		fprintf(stderr, "usage: ddp_hold DEV [xsk-zc]\n");
		return 2;
	}
	if (ddp_dev_join(argv[1], &d)) {
		fprintf(stderr, "ddp_hold: %s\n", ddp_errmsg(NULL));
		return 1;
	}
	pkt_flow_init(&fl, 0, 4420, 40000);
	pkt_flow_key(&fl, &key);
	if (ddp_buf_alloc(d, 1 << 20, 0, &buf)) {
		fprintf(stderr, "ddp_hold: %s\n", ddp_errmsg(d));
		return 1;
	}
	for (c = 0; c < 3; c++)
		segs[(int)c].addr += buf;
	if (ddp_sk_add(d, &key, &cfg, &id) ||
	    ddp_setup(d, id, 7, &segs[0], 1, NULL) ||
	    ddp_setup(d, id, 0xfffe, &segs[1], 2, NULL)) {
		fprintf(stderr, "ddp_hold: %s\n", ddp_errmsg(d));
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	ddp_sk_del(d, id);
	ddp_dev_close(d);
	return 0;
}
