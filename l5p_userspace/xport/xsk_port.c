// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xsk_port.c - an AF_XDP socket per RX queue over the engine's buffer
 * region.
 *
 * The UMEM is the whole region, so that frame addresses are region
 * offsets, but the port only ever uses the frames of one block it
 * allocates there: TX frames first, then each queue's RX frames, 4096
 * bytes each. Other buffers of the region are never handed to the
 * kernel. Queue 0's socket owns the UMEM and sends; the others share it
 * (XDP_SHARED_UMEM), each with its own fill ring. They bind zero-copy
 * where the driver offers it, else in copy mode, and never load a
 * program: the engine is the XDP program and redirects each frame to the
 * ddp_xsks entry of the queue it arrived on.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include "libddp.h"
#include "xsk_port.h"

int xp_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int link_info(struct xsk_port *p, char *err, size_t errlen)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xp_fail(err, errlen, -errno, "socket for ioctls: %s",
			       strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		ret = xp_fail(err, errlen, -errno,
			      "reading the MTU of '%s': %s", p->ifname,
			      strerror(errno));
		goto out;
	}
	p->mtu = ifr.ifr_mtu;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		ret = xp_fail(err, errlen, -errno,
			      "reading the MAC address of '%s': %s", p->ifname,
			      strerror(errno));
		goto out;
	}
	memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
	/* a socket on every queue: a frame hashed to a queue without one
	 * would go to the kernel, which resets the connection */
	ifr.ifr_data = (void *)&ch;
	p->nq = 1;
	if (!ioctl(fd, SIOCETHTOOL, &ifr) && ch.rx_count + ch.combined_count)
		p->nq = ch.rx_count + ch.combined_count;
	if (p->nq > DDP_XSK_QUEUES)
		ret = xp_fail(
			err, errlen, -EOPNOTSUPP,
			"'%s' has %u RX queues and the engine redirects to at most %u (ethtool -L %s %s %u)",
			p->ifname, p->nq, DDP_XSK_QUEUES, p->ifname,
			ch.combined_count ? "combined" : "rx", DDP_XSK_QUEUES);
out:
	close(fd);
	return ret;
}

/*
 * Create and bind queue i's socket: queue 0's with the UMEM's own rings
 * and the TX ring, the others sharing its UMEM. A queue is busy for a
 * while after the last socket on it closed (the kernel frees its pool in
 * a deferred work), so EBUSY with no socket of the engine's on the queue
 * is waited out, up to 2 s.
 */
static int create_socket(struct xsk_port *p, __u32 i)
{
	static const __u16 bind_flags[] = {
		[XSK_MODE_AUTO] = 0,
		[XSK_MODE_COPY] = XDP_COPY,
		[XSK_MODE_ZEROCOPY] = XDP_ZEROCOPY,
	};
	struct xsk_socket_config scfg = {
		.rx_size = p->nrx,
		.tx_size = XSK_PORT_TX_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		/* the others share queue 0's UMEM, and its mode */
		.bind_flags = bind_flags[p->mode],
	};
	struct xsk_rxq *q = &p->q[i];
	int ret, tries = 0, fd;

	for (;;) {
		if (!i)
			ret = xsk_socket__create(&q->xsk, p->ifname, 0, p->umem,
						 &q->rx, &p->tx, &scfg);
		else
			ret = xsk_socket__create_shared(&q->xsk, p->ifname, i,
							p->umem, &q->rx, NULL,
							&q->fill, &q->comp,
							&scfg);
		if (ret != -EBUSY || ++tries > 200 ||
		    !bpf_map_lookup_elem(p->xsks_fd, &i, &fd))
			return ret;
		usleep(10000);
	}
}

/* Queue i's socket, bound into ddp_xsks, its fill ring full */
static int open_queue(struct xsk_port *p, __u32 i, char *err, size_t errlen)
{
	struct xsk_rxq *q = &p->q[i];
	__u32 n, idx;
	int ret;

	ret = create_socket(p, i);
	if (ret == -EBUSY)
		return xp_fail(
			err, errlen, ret,
			"queue %u of '%s' is busy: another AF_XDP socket is bound to it",
			i, p->ifname);
	if (ret && p->mode == XSK_MODE_ZEROCOPY)
		return xp_fail(
			err, errlen, ret,
			"binding '%s' queue %u zero-copy: %s (the driver offers no zero-copy there; copy mode would)",
			p->ifname, i, strerror(-ret));
	if (ret)
		return xp_fail(
			err, errlen, ret,
			"creating the AF_XDP socket on '%s' queue %u: %s",
			p->ifname, i, strerror(-ret));
	q->fd = xsk_socket__fd(q->xsk);
	if (!i) {
		struct xdp_options o = { 0 };
		socklen_t len = sizeof(o);

		p->zc = !getsockopt(q->fd, SOL_XDP, XDP_OPTIONS, &o, &len) &&
			(o.flags & XDP_OPTIONS_ZEROCOPY);
	}
	/* a socket that closes leaves the map by itself: one still there
	 * is someone's */
	q->mapped = !bpf_map_update_elem(p->xsks_fd, &i, &q->fd, BPF_NOEXIST);
	if (!q->mapped) {
		ret = -errno;
		if (ret == -EEXIST)
			return xp_fail(
				err, errlen, ret,
				"queue %u of '%s' already has an AF_XDP socket in ddp_xsks",
				i, p->ifname);
		return xp_fail(
			err, errlen, ret,
			"binding the AF_XDP socket into ddp_xsks at queue %u: %s",
			i, strerror(-ret));
	}
	if (xsk_ring_prod__reserve(&q->fill, p->nrx, &idx) != p->nrx)
		return xp_fail(err, errlen, -EIO, "filling the fill ring");
	for (n = 0; n < p->nrx; n++)
		*xsk_ring_prod__fill_addr(&q->fill, idx + n) =
			p->block + (p->ntx + (__u64)i * p->nrx + n) * XSK_FRAME;
	xsk_ring_prod__submit(&q->fill, p->nrx);
	return 0;
}

/* With several queues, one descriptor to poll for all of them */
static int wait_set(struct xsk_port *p, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	__u32 i;

	if (p->nq == 1) {
		p->fd = p->q[0].fd;
		return 0;
	}
	p->fd = epoll_create1(EPOLL_CLOEXEC);
	if (p->fd < 0)
		return xp_fail(err, errlen, -errno, "epoll_create1: %s",
			       strerror(errno));
	for (i = 0; i < p->nq; i++)
		if (epoll_ctl(p->fd, EPOLL_CTL_ADD, p->q[i].fd, &ev))
			return xp_fail(err, errlen, -errno,
				       "epoll_ctl for queue %u: %s", i,
				       strerror(errno));
	return 0;
}

/* Each queue's RX frames: a power of 2 */
static __u32 queue_frames(__u32 nq)
{
	__u32 n = XSK_PORT_RX_FRAMES;

	while (n > XSK_QUEUE_RX_MIN && n * nq > XSK_PORT_RX_TOTAL)
		n /= 2;
	return n;
}

static void close_sockets(struct xsk_port *p)
{
	__u32 i;

	if (p->nq > 1 && p->fd >= 0)
		close(p->fd);
	/* queue 0's socket owns the UMEM: it goes last */
	for (i = p->nq; i-- > 0;) {
		/* from here the engine passes the queue's frames to the kernel */
		if (p->q[i].mapped)
			bpf_map_delete_elem(p->xsks_fd, &i);
		if (p->q[i].xsk)
			xsk_socket__delete(p->q[i].xsk);
	}
}

int xsk_port_open(struct ddp_dev *dev, const char *ifname, enum xsk_mode mode,
		  struct xsk_port **out, char *err, size_t errlen)
{
	struct xsk_umem_config ucfg = { .comp_size = XSK_PORT_TX_FRAMES,
					.frame_size = XSK_FRAME };
	struct ddp_caps caps;
	struct xsk_port *p;
	__u32 i;
	int ret;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return xp_fail(err, errlen, -ENOMEM, "out of memory");
	p->dev = dev;
	p->mode = mode;
	p->fd = -1;
	p->ntx = XSK_PORT_TX_FRAMES;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	pthread_mutex_init(&p->lock, NULL);

	p->ifindex = if_nametoindex(ifname);
	if (!p->ifindex) {
		ret = xp_fail(err, errlen, -ENODEV,
			      "no interface '%s' in this network namespace",
			      ifname);
		goto err_free;
	}
	ddp_dev_caps(dev, &caps);
	if (caps.ifindex != (__u32)p->ifindex) {
		ret = xp_fail(
			err, errlen, -EINVAL,
			"the engine is not attached to '%s' (its ifindex is %u): frames there are not redirected",
			ifname, caps.ifindex);
		goto err_free;
	}
	p->xsks_fd = ddp_map_fd(dev, "ddp_xsks");
	if (p->xsks_fd < 0) {
		ret = xp_fail(err, errlen, -ENOENT,
			      "the engine has no ddp_xsks map: %s",
			      ddp_errmsg(dev));
		goto err_free;
	}
	ret = link_info(p, err, errlen);
	if (ret)
		goto err_free;
	/* 256 bytes of headroom in either mode: the frame holds the rest */
	if (p->mtu + 14 > XSK_FRAME - XSK_RX_HEADROOM) {
		ret = xp_fail(err, errlen, -EMSGSIZE,
			      "MTU %u of '%s' too large for %u-byte frames",
			      p->mtu, ifname, XSK_FRAME);
		goto err_free;
	}
	p->nrx = queue_frames(p->nq);
	ucfg.fill_size = p->nrx;

	p->q = calloc(p->nq, sizeof(*p->q));
	p->tx_free = calloc(p->ntx, sizeof(*p->tx_free));
	p->tx_state = calloc(p->ntx, 1);
	if (!p->q || !p->tx_free || !p->tx_state) {
		ret = xp_fail(err, errlen, -ENOMEM, "out of memory");
		goto err_free;
	}
	/* chunks of frames: no tag may point into them */
	ret = ddp_buf_alloc_frames(dev, (p->ntx + p->nq * p->nrx) * XSK_FRAME,
				   &p->block);
	if (ret) {
		ret = xp_fail(err, errlen, ret,
			      "allocating %u frames in the buffer region: %s",
			      p->ntx + p->nq * p->nrx, ddp_errmsg(dev));
		goto err_free;
	}
	p->mem = ddp_buf_mem(dev);
	/* no stale metadata: a frame's region may have been anything */
	for (i = 0; i < p->nq * p->nrx; i++)
		memset(p->mem + p->block + (p->ntx + i) * XSK_FRAME, 0,
		       XSK_RX_HEADROOM);

	ret = xsk_umem__create(&p->umem, p->mem, ddp_buf_size(dev),
			       &p->q[0].fill, &p->comp, &ucfg);
	if (ret) {
		ret = xp_fail(
			err, errlen, ret,
			"registering the buffer region (%u bytes) as UMEM: %s",
			ddp_buf_size(dev), strerror(-ret));
		goto err_buf;
	}
	for (i = 0; i < p->nq; i++) {
		ret = open_queue(p, i, err, errlen);
		if (ret)
			goto err_sockets;
	}
	ret = wait_set(p, err, errlen);
	if (ret)
		goto err_sockets;
	for (i = 0; i < p->ntx; i++)
		p->tx_free[p->tx_nfree++] = p->ntx - 1 - i;
	*out = p;
	return 0;

err_sockets:
	close_sockets(p);
	xsk_umem__delete(p->umem);
err_buf:
	ddp_buf_free(dev, p->block);
err_free:
	free(p->q);
	free(p->tx_free);
	free(p->tx_state);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return ret;
}

void xsk_port_close(struct xsk_port *p)
{
	if (!p)
		return;
	close_sockets(p);
	xsk_umem__delete(p->umem);
	ddp_buf_free(p->dev, p->block);
	free(p->q);
	free(p->tx_free);
	free(p->tx_state);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int xp_tx_get(struct xsk_port *p, bool ctl)
{
	if (p->tx_nfree <= (ctl ? 0 : XSK_TX_RESERVE))
		return -1;
	return p->tx_free[--p->tx_nfree];
}

void xp_tx_put(struct xsk_port *p, __u32 i)
{
	if (p->tx_state[i] & XSK_TXF_KERNEL) {
		p->tx_state[i] |= XSK_TXF_ORPHAN;
		return;
	}
	p->tx_state[i] = 0;
	p->tx_free[p->tx_nfree++] = i;
}

void xp_tx_send(struct xsk_port *p, __u32 i, __u32 len, bool orphan)
{
	struct xdp_desc *d;
	__u32 idx;

	/* the ring holds every TX frame: a frame is in it at most once */
	if (xsk_ring_prod__reserve(&p->tx, 1, &idx) != 1) {
		if (orphan)
			xp_tx_put(p, i);
		return;
	}
	d = xsk_ring_prod__tx_desc(&p->tx, idx);
	d->addr = xp_tx_addr(p, i);
	d->len = len;
	d->options = 0;
	xsk_ring_prod__submit(&p->tx, 1);
	p->tx_state[i] = XSK_TXF_KERNEL | (orphan ? XSK_TXF_ORPHAN : 0);
	p->tx_queued++;
}

void xp_rx_put(struct xsk_port *p, __u64 addr)
{
	__u64 chunk = addr & ~(__u64)(XSK_FRAME - 1);
	struct xsk_rxq *q = xp_rx_queue(p, addr);
	__u32 idx;

	/* the engine writes metadata on every frame it redirects; cleared
	 * all the same, so that nothing else ever shows this frame's */
	memset(p->mem + chunk + XSK_RX_HEADROOM - sizeof(struct ddp_meta), 0,
	       sizeof(struct ddp_meta));
	/* the fill ring holds every RX frame of its queue: this never fails */
	if (xsk_ring_prod__reserve(&q->fill, 1, &idx) != 1)
		return;
	*xsk_ring_prod__fill_addr(&q->fill, idx) = chunk;
	q->fill_queued++;
}

bool xp_rx_hold(struct xsk_port *p, __u64 addr)
{
	struct xsk_rxq *q = xp_rx_queue(p, addr);
	__u32 spare = p->nrx / 4 < 64 ? p->nrx / 4 : 64;

	if (q->held + spare >= p->nrx)
		return false;
	q->held++;
	return true;
}

void xp_rx_unhold(struct xsk_port *p, __u64 addr)
{
	xp_rx_queue(p, addr)->held--;
	xp_rx_put(p, addr);
}

static void complete(struct xsk_port *p)
{
	__u32 n, idx, i, f;

	n = xsk_ring_cons__peek(&p->comp, p->ntx, &idx);
	for (i = 0; i < n; i++) {
		f = (*xsk_ring_cons__comp_addr(&p->comp, idx + i) - p->block) /
		    XSK_FRAME;
		if (f >= p->ntx)
			continue;
		if (p->tx_state[f] & XSK_TXF_ORPHAN) {
			p->tx_state[f] = 0;
			p->tx_free[p->tx_nfree++] = f;
		} else {
			p->tx_state[f] = 0;
		}
	}
	if (n)
		xsk_ring_cons__release(&p->comp, n);
}

static __u32 tx_outstanding(const struct xsk_port *p)
{
	return *p->tx.producer -
	       __atomic_load_n(p->tx.consumer, __ATOMIC_ACQUIRE);
}

void xp_flush(struct xsk_port *p)
{
	struct xsk_rxq *q;
	int tries;

	for (q = p->q; q < p->q + p->nq; q++)
		if (q->fill_queued) {
			xsk_ring_prod__submit(&q->fill, q->fill_queued);
			q->fill_queued = 0;
		}
	/* copy mode sends in the syscall, 32 descriptors at a time */
	for (tries = 0; p->tx_queued && tries < 64; tries++) {
		if (sendto(p->q[0].fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			break;
		complete(p);
		if (!tx_outstanding(p))
			p->tx_queued = 0;
	}
	complete(p);
}

__u32 xp_rx_peek(struct xsk_port *p, __u32 q, __u32 max, __u32 *idx)
{
	return xsk_ring_cons__peek(&p->q[q].rx, max, idx);
}

void xp_rx_release(struct xsk_port *p, __u32 q, __u32 n)
{
	xsk_ring_cons__release(&p->q[q].rx, n);
}

void xp_wait(struct xsk_port *p, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	pthread_mutex_unlock(&p->lock);
	poll(&pfd, 1, timeout_ms);
	pthread_mutex_lock(&p->lock);
}
