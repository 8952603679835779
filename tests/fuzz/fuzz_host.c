// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_host.c - libFuzzer target: what a controller sends, fed to the
 * host's receive path (hq_recv_pdu and all it calls) on an I/O queue with
 * a read and a write in flight. The first input byte picks the digests;
 * the rest is the stream after ICResp.
 */
#include <fcntl.h>
#include "../../l5p_userspace/host/host.c"

#define FUZZ_LEN 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static __u8 rbuf[FUZZ_LEN], wbuf[FUZZ_LEN];
	struct host h = { .o = { .traddr = "fuzz" } };
	struct host_queue q = { .h = &h, .qid = 1, .slot_bits = 2, .size = 4 };
	struct host_cmd cmds[4] = { 0 };
	__u16 uses[4] = { 0 };
	struct host_io rd = { .opcode = NVME_CMD_READ,
			      .buf = rbuf,
			      .len = FUZZ_LEN };
	struct host_io wr = { .opcode = NVME_CMD_WRITE,
			      .buf = wbuf,
			      .len = FUZZ_LEN };
	int sv[2], big = 1 << 20, i;

	if (!size)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 0;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	/* what the host sends back (TermReq, H2CData) must not block it */
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (write(sv[0], data + 1, size - 1) != (ssize_t)size - 1) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[0], SHUT_WR);
	xport_from_fd(&q.x, sv[1]);
	q.p = (struct ntcp_params){ .ic_done = true,
				    .hdgst = data[0] & 1,
				    .ddgst = data[0] & 2,
				    .hpda = (data[0] >> 2) & 3,
				    .maxh2cdata = 8192 };
	q.cmds = cmds;
	q.uses = uses;
	q.efd = -1;
	/* a read in slot 0 (cid 0), a write in slot 1 (cid 1) */
	cmds[0] = (struct host_cmd){ .io = &rd, .busy = true, .cid = 0 };
	cmds[1] = (struct host_cmd){
		.io = &wr, .busy = true, .write = true, .cid = 1
	};
	q.inflight = 2;
	for (i = 0; i < 4096 && !hq_recv_pdu(&q); i++)
		;
	xport_close(&q.x);
	close(sv[0]);
	return 0;
}
