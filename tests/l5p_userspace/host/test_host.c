// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_host.c - build/ddp-host against a scripted controller over loopback.
 * The controller answers ICReq, takes the Fabrics Connect command and then
 * sends what the test gives it, in parts with pauses between them. The host
 * must take a header in however many segments it comes, and end with an
 * error that names a broken one at once: never wait for bytes that are not
 * coming (its I/O timeout, 60 s here, is past the test's own).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <criterion/criterion.h>
#include "nvme/nvme.h"
#include "nvme/nvme_tcp_pdu.h"

#define HOST_BIN DDP_BUILD "/ddp-host"

TestSuite(host, .timeout = 30);

/* What the controller sends after the Connect command: parts[i] of len[i]
 * bytes, pause_ms apart; then it holds the connection until the host
 * closes it. */
struct script {
	int lfd;
	const __u8 *parts[2];
	size_t len[2];
	int pause_ms;
};

static int read_all(int fd, void *buf, size_t len)
{
	while (len) {
		ssize_t r = read(fd, buf, len);

		if (r <= 0)
			return -1;
		buf = (char *)buf + r;
		len -= r;
	}
	return 0;
}

static void *controller(void *arg)
{
	struct script *s = arg;
	__u8 buf[4096];
	__u32 plen;
	size_t i, n;
	int fd = accept(s->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	/* ICReq, ICResp; the Connect capsule and its data */
	if (read_all(fd, buf, NVME_TCP_IC_HLEN))
		goto out;
	n = ntcp_enc_icresp(buf, 0, 0, 128 * 1024);
	if (write(fd, buf, n) != (ssize_t)n || read_all(fd, buf, NTCP_CH_LEN))
		goto out;
	memcpy(&plen, buf + 4, 4);
	if (plen < NTCP_CH_LEN || plen > sizeof(buf) ||
	    read_all(fd, buf, plen - NTCP_CH_LEN))
		goto out;
	for (i = 0; i < 2 && s->parts[i]; i++) {
		if (i)
			usleep(s->pause_ms * 1000);
		if (write(fd, s->parts[i], s->len[i]) != (ssize_t)s->len[i])
			goto out;
	}
	while (read(fd, buf, sizeof(buf)) > 0) /* until the host closes */
		;
out:
	close(fd);
	return NULL;
}

/* ddp-host id-ctrl against the script: its exit status, and its stderr
 * into err. */
static int run_host(struct script *s, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	char port[16], log[] = "/tmp/test_host.XXXXXX";
	int status, logfd;
	pthread_t t;
	ssize_t r;
	pid_t pid;

	cr_assert_eq(access(HOST_BIN, X_OK), 0, "make " HOST_BIN " first");
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(s->lfd, 0);
	cr_assert_eq(bind(s->lfd, (void *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(s->lfd, 1), 0);
	cr_assert_eq(getsockname(s->lfd, (void *)&a, &alen), 0);
	snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
	cr_assert_eq(pthread_create(&t, NULL, controller, s), 0);
	logfd = mkstemp(log);
	cr_assert_geq(logfd, 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		dup2(logfd, 1);
		dup2(logfd, 2);
		execl(HOST_BIN, HOST_BIN, "id-ctrl", "-t", "kernel", "-a",
		      "127.0.0.1", "-s", port, "-n", "nqn.2024-01.io.ddp:x",
		      "--io-timeout", "60", (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	pthread_join(t, NULL);
	close(s->lfd);
	r = pread(logfd, err, errlen - 1, 0);
	err[r > 0 ? r : 0] = 0;
	close(logfd);
	unlink(log);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* A CapsuleResp for a command the host never sent */
static size_t rsp_for_no_command(__u8 *buf)
{
	struct ntcp_params p = { .ic_done = true };
	struct nvme_cqe cqe = { .cid = 0xbeef };

	return ntcp_enc_rsp(buf, &p, &cqe);
}

/* A common header alone, whose length is wrong for its type: the host
 * judges it from those 8 bytes, not after waiting for the 24 that every
 * header it takes has. */
Test(host, short_broken_header_fails_at_once)
{
	__u8 ch[NTCP_CH_LEN] = { NVME_TCP_RSP, 0, 8, 0, 8, 0, 0, 0 };
	struct script s = { .parts = { ch }, .len = { sizeof(ch) } };
	char err[4096];
	int rc = run_host(&s, err, sizeof(err));

	cr_assert_neq(rc, 0, "the host took a broken header: %s", err);
	cr_assert(strstr(err, "header length wrong for the PDU type"),
		  "stderr: %s", err);
}

/* A header split after its common header, the rest 200 ms later: read
 * whole, then judged (a response to no command). */
Test(host, header_in_two_segments_is_read_whole)
{
	__u8 rsp[64];
	size_t n = rsp_for_no_command(rsp);
	struct script s = { .parts = { rsp, rsp + NTCP_CH_LEN },
			    .len = { NTCP_CH_LEN, n - NTCP_CH_LEN },
			    .pause_ms = 200 };
	char err[4096];
	int rc = run_host(&s, err, sizeof(err));

	cr_assert_neq(rc, 0);
	cr_assert(strstr(err, "response to no command"), "stderr: %s", err);
}

/* The same header in one segment: read in one go, judged alike. */
Test(host, header_in_one_segment)
{
	__u8 rsp[64];
	struct script s = { .parts = { rsp } };
	char err[4096];
	int rc;

	s.len[0] = rsp_for_no_command(rsp);
	rc = run_host(&s, err, sizeof(err));
	cr_assert_neq(rc, 0);
	cr_assert(strstr(err, "response to no command"), "stderr: %s", err);
}
