// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * veth_place.c - the engine on a real datapath: attached natively to a
 * veth in one namespace, fed an NVMe/TCP response stream sent as raw
 * frames from the peer namespace, with a data frame and a header frame
 * lost (and resent later), resync requests answered as a host would.
 * Checks that every byte reported placed is in its buffer and nothing
 * else was written, prints a summary and the counters, detaches.
 *
 * usage: veth_place HOST_NS HOST_DEV PEER_NS PEER_DEV
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>
#include <bpf/libbpf.h>
#include "libddp.h"
#include "pdu.h"
#include "pkt.h"

#define READS 8
#define READ_LEN (128 * 1024)
#define PDU_LEN (16 * 1024)
#define MSS 1448
#define ISN 0x7ffff000u

static struct ddp_dev *dev;
static __u32 flow_id;
static int frames;
static struct stream st;

static void die(const char *what, const char *why)
{
	fprintf(stderr, "veth_place: %s: %s\n", what, why);
	exit(1);
}

static void enter_ns(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		die(path, strerror(errno));
	close(fd);
}

/* As a host: is there a PDU header starting at seq? */
static void answer_request(void *arg, __u32 flow, __u32 seq, __u32 req_id)
{
	size_t off = seq - ISN;
	long p = stream_pdu_at(&st, off);

	(void)arg;
	ddp_resync(dev, flow, seq, req_id, p >= 0 && st.pdus[p].off == off);
}

static const struct ddp_ulp_ops host_ops = { .resync_request = answer_request };

/* Send stream bytes [off, off + len) from the peer and wait until the
 * engine has seen them, answering its resync requests as they come. */
static void send_frame(int sock, const struct sockaddr_ll *to,
		       const struct pkt_flow *fl, size_t off, size_t len)
{
	static __u8 frame[PKT_MAX];
	size_t n = pkt_build(fl, ISN + off, st.buf + off, len, frame);
	const struct ddp_flow *f = ddp_flow_mem(dev, flow_id);
	__u32 before = f->exp_seq;
	struct ddp_stats s0, s1;
	int i;

	ddp_stats_read(dev, &s0);
	frames++;
	if (sendto(sock, frame, n, 0, (const void *)to, sizeof(*to)) !=
	    (ssize_t)n)
		die("sendto", strerror(errno));
	for (i = 0; i < 2000; i++) {
		ddp_stats_read(dev, &s1);
		if (s1.rx_packets != s0.rx_packets || f->exp_seq != before)
			break;
		usleep(500);
	}
	if (i == 2000)
		die("frame", "the engine did not see it within a second");
	ddp_dev_process(dev, &host_ops);
}

static void build(struct ddp_seg *bufs)
{
	static __u8 data[READ_LEN];
	struct pdu_opts o = { .hdgst = 1, .ddgst = 1 };
	__u32 off;
	int r, k;

	/* reads complete out of order: odd CIDs first, interleaved */
	for (k = 0; k < 2; k++)
		for (r = k; r < READS; r += 2) {
			for (off = 0; off < READ_LEN; off++)
				data[off] = (__u8)(off * 7 + r * 13);
			for (off = 0; off < READ_LEN; off += PDU_LEN)
				pdu_c2h_data(&st, &o, r, off, data + off,
					     PDU_LEN,
					     off + PDU_LEN == READ_LEN ?
						     NVME_TCP_F_DATA_LAST :
						     0);
			pdu_rsp(&st, &o, r);
			bufs[r] =
				(struct ddp_seg){ r * READ_LEN * 2, READ_LEN };
		}
}

static int verify(const struct ddp_seg *bufs, __u64 *placed)
{
	const __u8 *buf = ddp_buf_mem(dev);
	const struct ddp_flow *f = ddp_flow_mem(dev, flow_id);
	struct ddp_rec r, *rec = &r;
	size_t i;
	__u32 n;
	int bad = 0;

	*placed = 0;
	for (n = 0; n != f->rec_head; n++) {
		size_t off;
		long p;
		const struct pdu_pos *pp;

		if (!ddp_rec_read(dev, flow_id, n, rec) ||
		    !ddp_rec_valid(dev, flow_id, rec))
			continue;
		off = rec->seq - ISN;
		p = stream_pdu_at(&st, off);
		if (p < 0 || st.pdus[p].type != NVME_TCP_C2H_DATA) {
			fprintf(stderr, "record outside C2HData data\n");
			return 1;
		}
		pp = &st.pdus[p];
		for (i = 0; i < rec->len; i++) {
			size_t io =
				pp->datao + (off + i - pp->off - pp->data_off);

			if (buf[bufs[pp->cid].addr + io] != st.buf[off + i])
				bad++;
		}
		*placed += rec->len;
	}
	/* between the buffers nothing was written */
	for (i = 0; i < READS; i++)
		for (n = 0; n < READ_LEN; n++)
			if (buf[bufs[i].addr + READ_LEN + n])
				bad++;
	return bad;
}

int main(int argc, char **argv)
{
	struct ddp_limits lim = { .max_flows = 4,
				  .tags_per_flow = READS,
				  .buf_size = 4 * READ_LEN * READS };
	struct ddp_sk_config cfg = { .dgst = NVME_TCP_DGST_HDR |
					     NVME_TCP_DGST_DATA,
				     .queue_size = 32,
				     .start_seq = ISN,
				     .flags = DDP_SK_OFFLOAD | DDP_SK_RECORDS };
	struct ddp_seg bufs[READS];
	struct sockaddr_ll to = { .sll_family = AF_PACKET };
	struct ddp_flow_key key;
	struct ddp_stats s;
	struct pkt_flow fl;
	int ifindex, sock, r, bad;
	__u32 r32;
	size_t off, lost_data, lost_hdr;
	__u64 placed, data_bytes = (__u64)READS * READ_LEN;
	unsigned int i;

	if (argc != 5) {
		fprintf(stderr, "usage: %s HOST_NS HOST_DEV PEER_NS PEER_DEV\n",
			argv[0]);
		return 2;
	}
	enter_ns(argv[1]);
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex)
		die(argv[2], "no such device");
	if (ddp_dev_load(&lim, &dev))
		die("engine load", ddp_errmsg(NULL));
	/* the whole region is this process's: its tags may go anywhere */
	if (ddp_buf_alloc(dev, lim.buf_size, 0, &r32) || r32)
		die("region", ddp_errmsg(dev));
	if (bpf_xdp_attach(ifindex, ddp_xdp_prog_fd(dev), XDP_FLAGS_DRV_MODE,
			   NULL))
		die("native XDP attach", strerror(errno));

	pkt_flow_init(&fl, 0, 4420, 40000);
	inet_pton(AF_INET, "10.251.0.2", &fl.raddr[12]);
	inet_pton(AF_INET, "10.251.0.1", &fl.laddr[12]);
	fl.tcp_opt_len = 12;
	pkt_flow_key(&fl, &key);
	if (ddp_sk_add(dev, &key, &cfg, &flow_id))
		die("sk_add", ddp_errmsg(dev));
	build(bufs);
	for (r = 0; r < READS; r++)
		if (ddp_setup(dev, flow_id, r, &bufs[r], 1, NULL))
			die("setup", ddp_errmsg(dev));

	enter_ns(argv[3]);
	sock = socket(AF_PACKET, SOCK_RAW, 0);
	to.sll_ifindex = if_nametoindex(argv[4]);
	if (sock < 0 || !to.sll_ifindex)
		die(argv[4], "no raw socket on it");
	enter_ns(argv[1]);

	/* lose a data-only frame inside the first PDU, and the frame
	 * holding the header of the fourth PDU; both are resent last */
	lost_data = 4 * MSS;
	lost_hdr = st.pdus[3].off / MSS * MSS;
	for (off = 0; off < st.len; off += MSS) {
		size_t n = st.len - off < MSS ? st.len - off : MSS;

		if (off != lost_data && off != lost_hdr)
			send_frame(sock, &to, &fl, off, n);
	}
	send_frame(sock, &to, &fl, lost_data, MSS);
	send_frame(sock, &to, &fl, lost_hdr, MSS);

	bad = verify(bufs, &placed);
	ddp_stats_read(dev, &s);
	printf("engine on %s (native XDP), stream from %s: %d reads of %d KiB, %d frames\n",
	       argv[2], argv[4], READS, READ_LEN / 1024, frames);
	printf("data bytes %llu, placed and verified %llu (%.1f%%), bytes wrong %d\n",
	       (unsigned long long)data_bytes, (unsigned long long)placed,
	       100.0 * placed / data_bytes, bad);
	printf("resync requests %llu, confirmed %llu, gaps absorbed %llu\n\n",
	       (unsigned long long)s.resync,
	       (unsigned long long)s.resync_confirm,
	       (unsigned long long)s.gap_absorbed);
	for (i = 0; i < DDP_STATS_NR; i++)
		printf("  %-16s %llu\n", ddp_stat_name(i),
		       (unsigned long long)((__u64 *)&s)[i]);
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	close(sock);
	ddp_dev_close(dev);
	stream_free(&st);
	if (bad || placed < data_bytes / 2 || s.resync_confirm < 1 ||
	    s.gap_absorbed < 1) {
		fprintf(stderr, "veth_place: FAIL\n");
		return 1;
	}
	return 0;
}
