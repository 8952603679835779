// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_target.c - libFuzzer target: what a host sends, ICReq included, fed
 * to one target connection (conn_main and all it calls: the PDU decoder,
 * Connect, admin and I/O commands, H2CData). The first input byte picks
 * the completion mode; the rest is the stream.
 */
#include <fcntl.h>
#include "../../l5p_userspace/target/target.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct target *fuzz_target(void)
{
	static struct target *t;
	struct target_opts o;
	char err[256];

	if (t)
		return t;
	target_opts_default(&o);
	o.addr = "127.0.0.1";
	o.port = "0";
	o.size = 1 << 20;
	o.pdu_size = 4096;
	o.maxh2cdata = 8192;
	if (target_open(&o, &t, err, sizeof(err))) {
		fprintf(stderr, "fuzz_target: %s\n", err);
		abort();
	}
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target *t = fuzz_target();
	struct tconn *c;
	int sv[2], big = 1 << 20;

	if (!size || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 0;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (write(sv[0], data + 1, size - 1) != (ssize_t)size - 1) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	/* the host has said everything; its end stays open for the answers */
	shutdown(sv[0], SHUT_WR);
	t->o.completion = data[0] % 3;
	t->o.reverse_n = 1 + data[0] / 3 % 4;
	c = calloc(1, sizeof(*c));
	c->rbuf = malloc(TGT_INCAPSULE > 8192 ? TGT_INCAPSULE : 8192);
	c->sbuf = malloc(NVME_IDENTIFY_LEN);
	c->t = t;
	xport_from_fd(&c->x, sv[1]);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	snprintf(c->peer, sizeof(c->peer), "fuzz");
	pthread_mutex_lock(&t->lock);
	c->next = t->conns;
	t->conns = c;
	t->nconns++;
	pthread_mutex_unlock(&t->lock);
	conn_main(c); /* frees c */
	close(sv[0]);
	return 0;
}
