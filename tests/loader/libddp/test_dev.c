// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_dev.c - the library on a veth pair made by each test inside a
 * network namespace of its own (gone with the test process): attach, join,
 * detach, what is refused and why, a resync round trip and teardown
 * against frames in flight. Pins are removed in fini, failure included.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include "bpffs.h"
#include "fixtures.h"
#include "libddp_priv.h"

static char va[IF_NAMESIZE], vb[IF_NAMESIZE], br[IF_NAMESIZE];
static char msg[512];

static void dev_init(void)
{
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(bpffs_private(), 0, "a BPF filesystem of our own");
	snprintf(va, sizeof(va), "dd%da", getpid());
	snprintf(vb, sizeof(vb), "dd%db", getpid());
	snprintf(br, sizeof(br), "dd%dbr", getpid());
	eng_sh("ip link add %s type veth peer name %s", va, vb);
	eng_sh("ip link set %s up && ip link set %s up", va, vb);
}

static void dev_fini(void)
{
	/* whatever the test left (the pins go with the process anyway) */
	ddp_dev_detach(va);
	ddp_dev_detach(br);
}

TestSuite(dev, .init = dev_init, .fini = dev_fini);

static __u32 attached_id(const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	cr_assert_eq(bpf_xdp_query(if_nametoindex(ifname), 0, &q), 0);
	return q.prog_id;
}

static const char *err0(void)
{
	snprintf(msg, sizeof(msg), "%s", ddp_errmsg(NULL));
	return msg;
}

Test(dev, attach_pins_and_join_sees_the_same_engine)
{
	struct ddp_attach_opts o = { .mode = DDP_MODE_NATIVE,
				     .lim = { .max_flows = 8 } };
	struct ddp_dev *a, *j;
	struct pkt_flow fl;
	struct ddp_flow_key key;
	struct ddp_sk_config cfg = { .queue_size = 8, .flags = DDP_SK_OFFLOAD };
	struct ddp_caps c;
	char path[128], pin[128];
	struct stat st;
	__u32 id;

	cr_assert_eq(ddp_dev_attach(va, &o, &a), 0, "%s", err0());
	ddp_dev_caps(a, &c);
	cr_assert_eq(c.ifindex, if_nametoindex(va));
	cr_assert_eq(c.xdp_flags, XDP_FLAGS_DRV_MODE);
	cr_assert_null(ddp_dev_notice(a));
	snprintf(pin, sizeof(pin), DDP_PIN_ROOT "/%s/ddp_flows", va);
	cr_assert_eq(stat(pin, &st), 0, "%s not pinned", pin);
	cr_assert_neq(attached_id(va), 0);

	cr_assert_eq(ddp_dev_join(va, &j), 0, "%s", err0());
	ddp_dev_caps(j, &c);
	cr_assert_eq(c.max_flows, 8, "limits come with the pins");
	pkt_flow_init(&fl, 0, 4420, 40000);
	pkt_flow_key(&fl, &key);
	cr_assert_eq(ddp_sk_add(j, &key, &cfg, &id), 0, "%s", ddp_errmsg(j));
	cr_assert_eq(ddp_flow_mem(a, id)->state, DDP_FLOW_ALIVE);
	cr_assert_eq(ddp_sk_add(a, &key, &cfg, &id), -EEXIST);

	cr_assert_eq(ddp_dev_attach(va, &o, &a), -EEXIST);
	snprintf(
		path, sizeof(path),
		"the engine is already attached to '%s'; join it, or detach it first",
		va);
	cr_assert_str_eq(err0(), path);
	ddp_dev_close(j);
	cr_assert_eq(ddp_dev_detach(va), 0, "%s", err0());
	cr_assert_eq(attached_id(va), 0);
	cr_assert_neq(stat(pin, &st), 0, "pins left");
	cr_assert_eq(ddp_dev_join(va, &j), -ENOENT);
	ddp_dev_close(a);
}

Test(dev, attach_refuses_another_program)
{
	struct ddp_dev *a;
	char want[256];
	__u32 other;

	eng_sh("ip link set dev %s xdp obj " DDP_BUILD
	       "/xdp_pass.bpf.o sec xdp",
	       va);
	other = attached_id(va);
	cr_assert_eq(ddp_dev_attach(va, NULL, &a), -EBUSY);
	snprintf(
		want, sizeof(want),
		"'%s' already has XDP program 'not_ddp' (id %u), not the engine's: not replacing it; remove it first (ip link set dev %s xdp off)",
		va, other, va);
	cr_assert_str_eq(err0(), want);
	cr_assert_eq(attached_id(va), other, "the other program was replaced");
	cr_assert_eq(ddp_dev_detach(va), -ENOENT);
	cr_assert_eq(attached_id(va), other, "detach touched it");
}

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l;
	(void)f;
	(void)ap;
	return 0;
}

Test(dev, native_unsupported_then_auto_falls_back_to_skb)
{
	struct ddp_attach_opts o = { .mode = DDP_MODE_NATIVE };
	struct ddp_dev *a;
	struct ddp_caps c;
	char want[256];

	libbpf_set_print(quiet); /* the refusal is expected */
	eng_sh("ip link add %s type bridge && ip link set %s up", br, br);
	cr_assert_eq(ddp_dev_attach(br, &o, &a), -EOPNOTSUPP);
	snprintf(
		want, sizeof(want),
		"couldn't attach to '%s': native XDP unsupported (kernel: Underlying driver does not support XDP in native mode); try --mode skb",
		br);
	cr_assert_str_eq(err0(), want);
	cr_assert_eq(attached_id(br), 0);
	o.mode = DDP_MODE_AUTO;
	cr_assert_eq(ddp_dev_attach(br, &o, &a), 0, "%s", err0());
	snprintf(
		want, sizeof(want),
		"native XDP unsupported on '%s' (kernel: Underlying driver does not support XDP in native mode): attached in skb (generic) mode",
		br);
	cr_assert_str_eq(ddp_dev_notice(a), want);
	ddp_dev_caps(a, &c);
	cr_assert_eq(c.xdp_flags, XDP_FLAGS_SKB_MODE);
	ddp_dev_close(a);
	cr_assert_eq(ddp_dev_detach(br), 0, "%s", err0());
	cr_assert_eq(attached_id(br), 0);
}

/* A native attach the driver refuses for another reason than having no
 * XDP (here veth: its peer's MTU is too large for one page) is said as it
 * is, errno and the kernel's words, and auto mode does not hide it by
 * falling back to skb mode. */
Test(dev, other_native_errors_are_said_and_not_fallen_back)
{
	struct ddp_attach_opts o = { .mode = DDP_MODE_AUTO };
	struct ddp_dev *a;
	char want[256];

	libbpf_set_print(quiet); /* the refusal is expected */
	eng_sh("ip link set %s mtu 9000", vb);
	cr_assert_eq(ddp_dev_attach(va, &o, &a), -ERANGE);
	snprintf(
		want, sizeof(want),
		"couldn't attach to '%s' in native mode: Numerical result out of range (kernel: veth: Peer MTU is too large to set XDP)",
		va);
	cr_assert_str_eq(err0(), want);
	cr_assert_eq(attached_id(va), 0, "fell back to skb mode");
	cr_assert_eq(ddp_dev_join(va, &a), -ENOENT, "pinned anyway");
}

/* On a kernel that lacks a feature, attach says which and leaves the
 * device and the BPF filesystem as they were. */
Test(dev, attach_on_a_kernel_lacking_a_feature_leaves_nothing)
{
	char path[128];
	struct ddp_dev *a;

	ddp_probe_pretend_missing = "bpf_loop()";
	cr_assert_eq(ddp_dev_attach(va, NULL, &a), -EOPNOTSUPP);
	ddp_probe_pretend_missing = "";
	cr_assert(strstr(err0(), "lacks bpf_loop(), which the engine needs: Linux 5.17 or later"),
		  "%s", err0());
	cr_assert_eq(attached_id(va), 0);
	snprintf(path, sizeof(path), DDP_PIN_ROOT "/%s", va);
	cr_assert_neq(access(path, F_OK), 0, "pinned");
}

Test(dev, errors_name_the_device_and_the_fix)
{
	struct ddp_dev *a;
	char want[256];

	cr_assert_eq(ddp_dev_attach("nosuchdev0", NULL, &a), -ENODEV);
	cr_assert_str_eq(err0(),
			 "no device 'nosuchdev0' in this network namespace");
	cr_assert_eq(ddp_dev_join(va, &a), -ENOENT);
	snprintf(
		want, sizeof(want),
		"no engine on '%s' (nothing pinned in /sys/fs/bpf/ddp/%s); attach one first (ddpctl attach %s)",
		va, va, va);
	cr_assert_str_eq(err0(), want);
}

Test(dev, pins_of_an_incompatible_build_are_named_as_such)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo);
	char path[128], want[256];
	struct ddp_dev *a;
	int fd;

	mkdir(DDP_PIN_ROOT, 0700);
	snprintf(path, sizeof(path), DDP_PIN_ROOT "/%s", va);
	cr_assert_eq(mkdir(path, 0700), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ddp_info", 4, 8, 1, &mo);
	cr_assert_geq(fd, 0);
	snprintf(path, sizeof(path), DDP_PIN_ROOT "/%s/ddp_info", va);
	cr_assert_eq(bpf_obj_pin(fd, path), 0);
	close(fd);
	cr_assert_eq(ddp_dev_join(va, &a), -EPROTO);
	snprintf(
		want, sizeof(want),
		"the engine pinned in /sys/fs/bpf/ddp/%s is from an incompatible build (ABI 0, this build %u); run 'ddpctl detach %s' and attach again",
		va, DDP_ABI_VERSION, va);
	cr_assert_str_eq(err0(), want);
	cr_assert_eq(ddp_dev_attach(va, NULL, &a), -EEXIST);
	cr_assert_eq(ddp_dev_detach(va), 0, "%s", err0());
	snprintf(path, sizeof(path), DDP_PIN_ROOT "/%s", va);
	cr_assert_neq(access(path, F_OK), 0, "stale pins left");
}

/* ---- traffic through the attached engine ----------------------------------- */

struct link {
	struct ddp_dev *d;
	__u32 flow_id;
	int sock;
	struct sockaddr_ll to;
	struct pkt_flow fl;
	struct stream s;
	__u32 isn;
	bool repeat; /* the stream is sent again and again */
};

static void link_open(struct link *l, __u32 sk_flags)
{
	struct ddp_attach_opts o = { .mode = DDP_MODE_NATIVE,
				     .lim = { .max_flows = 4,
					      .buf_size = 16 << 20,
					      .io_threshold = 4096 } };
	struct ddp_sk_config cfg = { .queue_size = 32, .flags = sk_flags };
	struct ddp_flow_key key;
	__u32 off;

	memset(l, 0, sizeof(*l));
	l->isn = 0xfff00000;
	cfg.start_seq = l->isn;
	cr_assert_eq(ddp_dev_attach(va, &o, &l->d), 0, "%s", err0());
	/* the first chunk is ours: the tags below point into it */
	cr_assert_eq(ddp_buf_alloc(l->d, DDP_CHUNK_SIZE, 0, &off), 0);
	cr_assert_eq(off, 0);
	pkt_flow_init(&l->fl, 0, 4420, 40000);
	l->fl.tcp_opt_len = 12;
	pkt_flow_key(&l->fl, &key);
	cr_assert_eq(ddp_sk_add(l->d, &key, &cfg, &l->flow_id), 0);
	l->sock = socket(AF_PACKET, SOCK_RAW, 0);
	cr_assert_geq(l->sock, 0);
	l->to = (struct sockaddr_ll){ .sll_family = AF_PACKET,
				      .sll_ifindex = if_nametoindex(vb) };
}

static void link_close(struct link *l)
{
	close(l->sock);
	stream_free(&l->s);
	ddp_dev_close(l->d);
}

static __u64 rx_packets(struct link *l)
{
	struct ddp_stats st;

	cr_assert_eq(ddp_stats_read(l->d, &st), 0);
	return st.rx_packets;
}

/* Send stream bytes [off, off + len) from the peer. */
static void link_send(struct link *l, size_t off, size_t len)
{
	static __thread __u8 frame[PKT_MAX];
	size_t n = pkt_build(&l->fl, l->isn + off, l->s.buf + off, len, frame);

	cr_assert_eq(sendto(l->sock, frame, n, 0, (void *)&l->to,
			    sizeof(l->to)),
		     (ssize_t)n, "sendto: %s", strerror(errno));
}

/* ... and wait until the engine has seen it. */
static void link_send_wait(struct link *l, size_t off, size_t len)
{
	__u64 before = rx_packets(l);
	int i;

	link_send(l, off, len);
	for (i = 0; i < 1000 && rx_packets(l) == before; i++)
		poll(NULL, 0, 1);
	cr_assert_neq(rx_packets(l), before, "the engine never saw a frame");
}

struct host {
	struct link *l;
	int requests, done;
	void *done_ctx;
};

/* A truthful host: a PDU starts at seq or not. */
static void host_request(void *arg, __u32 flow, __u32 seq, __u32 req_id)
{
	struct host *h = arg;
	size_t off = (__u32)(seq - h->l->isn);
	long p;

	if (h->l->repeat)
		off %= h->l->s.len;
	p = stream_pdu_at(&h->l->s, off);

	h->requests++;
	ddp_resync(h->l->d, flow, seq, req_id,
		   p >= 0 && h->l->s.pdus[p].off == off);
}

static void host_done(void *arg, void *ctx)
{
	struct host *h = arg;

	h->done++;
	h->done_ctx = ctx;
}

Test(dev, resync_round_trip_through_the_engine)
{
	struct link l;
	struct host h = { .l = &l };
	struct ddp_ulp_ops ops = { host_request, host_done, &h };
	struct pollfd p;
	struct ddp_stats st;
	struct ddp_seg seg;
	size_t off, lost;
	__u8 data[8192];
	int i;

	link_open(&l, DDP_SK_OFFLOAD | DDP_SK_RECORDS);
	p = (struct pollfd){ .fd = ddp_dev_fd(l.d), .events = POLLIN };
	gen_data(data, sizeof(data), 7);
	for (i = 0; i < 12; i++) {
		seg = (struct ddp_seg){ i * 16384, 8192 };
		cr_assert_eq(ddp_setup(l.d, l.flow_id, i, &seg, 1, NULL), 0);
		pdu_c2h_data(&l.s, &(struct pdu_opts){ 0 }, i, 0, data, 8192,
			     NVME_TCP_F_DATA_LAST);
		pdu_rsp(&l.s, &(struct pdu_opts){ 0 }, i);
	}
	lost = l.s.pdus[6].off / 1448 * 1448; /* the 4th C2HData's header */
	for (off = 0; off < l.s.len; off += 1448) {
		if (off == lost)
			continue;
		link_send_wait(&l, off,
			       l.s.len - off < 1448 ? l.s.len - off : 1448);
		if (poll(&p, 1, 0) > 0 || !(off % 8))
			ddp_dev_process(l.d, &ops);
	}
	cr_assert_eq(h.requests, 1, "%d resync requests delivered", h.requests);
	cr_assert_eq(ddp_stats_read(l.d, &st), 0);
	cr_assert_eq(st.resync, 1);
	cr_assert_eq(st.resync_confirm, 1);
	/* the last read was placed after the confirmation */
	cr_assert_eq(memcmp(ddp_buf_mem(l.d) + 11 * 16384, data, 8192), 0);
	cr_assert_eq(ddp_flow_mem(l.d, l.flow_id)->sync, DDP_SYNC_OK);
	link_close(&l);
}

struct blaster {
	struct link *l;
	volatile int stop;
	size_t sent;
};

/* The controller sends C2HData PDUs for cid 1 without end. */
static void *blast(void *arg)
{
	struct blaster *b = arg;
	size_t plen = b->l->s.pdus[0].plen, off = 0;

	while (!b->stop) {
		size_t at = off % plen, n = plen - at < 1448 ? plen - at : 1448;

		/* every PDU is the same bytes: send the one built, at the
		 * sequence number of the one being sent */
		static __thread __u8 frame[PKT_MAX];
		size_t fl = pkt_build(&b->l->fl, b->l->isn + off,
				      b->l->s.buf + at, n, frame);

		if (sendto(b->l->sock, frame, fl, 0, (void *)&b->l->to,
			   sizeof(b->l->to)) == (ssize_t)fl) {
			off += n;
			b->sent++;
		}
	}
	return NULL;
}

Test(dev, teardown_done_comes_after_the_last_write)
{
	struct link l;
	struct host h = { .l = &l };
	struct ddp_ulp_ops ops = { host_request, host_done, &h };
	struct blaster b = { .l = &l };
	struct ddp_seg seg = { 4096, 65536 };
	struct ddp_stats st;
	struct pollfd p;
	pthread_t t;
	__u8 data[65536], *buf;
	__u64 placed_at_done, rx_at_done;
	int i, r, ctx;

	link_open(&l, DDP_SK_OFFLOAD | DDP_SK_RECORDS);
	l.repeat = true;
	buf = ddp_buf_mem(l.d);
	p = (struct pollfd){ .fd = ddp_dev_fd(l.d), .events = POLLIN };
	gen_data(data, sizeof(data), 9);
	pdu_c2h_data(&l.s, &(struct pdu_opts){ 0 }, 1, 0, data, sizeof(data),
		     0);
	cr_assert_eq(ddp_setup(l.d, l.flow_id, 1, &seg, 1, NULL), 0);
	cr_assert_eq(pthread_create(&t, NULL, blast, &b), 0);
	for (i = 0; i < 2000; i++) {
		cr_assert_eq(ddp_stats_read(l.d, &st), 0);
		if (st.offload_bytes > 10 * 65536)
			break;
		/* frames the veth could not take mean resyncs: answer */
		ddp_dev_process(l.d, &ops);
		poll(NULL, 0, 1);
	}
	cr_assert_gt(st.offload_bytes, 10 * 65536, "not placing");
	/* done at once, or at teardown_done if a frame was being placed */
	r = ddp_teardown(l.d, l.flow_id, 1, &ctx);
	cr_assert(r == 0 || r == 1, "teardown: %d", r);
	for (i = 0; i < 200 && !r && !h.done; i++) {
		poll(&p, 1, 100);
		ddp_dev_process(l.d, &ops);
	}
	cr_assert_eq(h.done, !r);
	if (!r)
		cr_assert_eq(h.done_ctx, &ctx);
	/* from here on the buffer is the host's again */
	cr_assert_eq(ddp_stats_read(l.d, &st), 0);
	placed_at_done = st.offload_bytes;
	rx_at_done = st.rx_packets;
	memset(buf + 4096, 0x5a, 65536);
	poll(NULL, 0, 200);
	b.stop = 1;
	pthread_join(t, NULL);
	cr_assert_eq(ddp_stats_read(l.d, &st), 0);
	cr_assert_gt(st.rx_packets, rx_at_done + 100,
		     "frames stopped arriving: the test proved nothing");
	cr_assert_eq(st.offload_bytes, placed_at_done, "placed after done");
	for (i = 0; i < 65536; i++)
		cr_assert_eq(buf[4096 + i], 0x5a, "byte %d written after done",
			     i);
	link_close(&l);
}
