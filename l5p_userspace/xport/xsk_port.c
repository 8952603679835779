// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xsk_port.c - one AF_XDP socket over the engine's buffer region.
 *
 * The UMEM is the whole region, so that frame addresses are region
 * offsets, but the port only ever uses the frames of one block it
 * allocates there: TX frames first, then RX frames, 4096 bytes each.
 * Other buffers of the region are never handed to the kernel. The socket
 * runs in copy mode (veth has no zero-copy) and never loads a program:
 * the engine is the XDP program and redirects to the ddp_xsks entry of
 * the queue.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
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
	/* the socket serves one queue: frames hashed to another would find
	 * no socket there and go to the kernel, which resets the connection */
	ifr.ifr_data = (void *)&ch;
	if (!ioctl(fd, SIOCETHTOOL, &ifr) &&
	    ch.rx_count + ch.combined_count > 1)
		ret = xp_fail(
			err, errlen, -EOPNOTSUPP,
			"'%s' has %u RX queues and the AF_XDP socket serves one: make it one (ethtool -L %s combined 1)",
			p->ifname, ch.rx_count + ch.combined_count, p->ifname);
out:
	close(fd);
	return ret;
}

/*
 * Bind the socket. A queue is busy for a while after the last socket on
 * it closed (the kernel frees its pool in a deferred work), so EBUSY with
 * no socket of the engine's on the queue is waited out, up to 2 s.
 */
static int xsk_socket__create_retry(struct xsk_port *p, const char *ifname,
				    __u32 queue,
				    const struct xsk_socket_config *scfg)
{
	int ret, tries = 0, fd;

	for (;;) {
		ret = xsk_socket__create(&p->xsk, ifname, queue, p->umem,
					 &p->rx, &p->tx, scfg);
		if (ret != -EBUSY || ++tries > 200 ||
		    !bpf_map_lookup_elem(p->xsks_fd, &queue, &fd))
			return ret;
		usleep(10000);
	}
}

int xsk_port_open(struct ddp_dev *dev, const char *ifname, __u32 queue,
		  struct xsk_port **out, char *err, size_t errlen)
{
	struct xsk_umem_config ucfg = { .fill_size = XSK_PORT_RX_FRAMES,
					.comp_size = XSK_PORT_TX_FRAMES,
					.frame_size = XSK_FRAME };
	struct xsk_socket_config scfg = {
		.rx_size = XSK_PORT_RX_FRAMES,
		.tx_size = XSK_PORT_TX_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	struct ddp_caps caps;
	struct xsk_port *p;
	__u32 i, idx;
	int ret;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return xp_fail(err, errlen, -ENOMEM, "out of memory");
	p->dev = dev;
	p->fd = -1;
	p->queue = queue;
	p->ntx = XSK_PORT_TX_FRAMES;
	p->nrx = XSK_PORT_RX_FRAMES;
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
	/* copy mode: 256 bytes of headroom, the frame must hold the rest */
	if (p->mtu + 14 > XSK_FRAME - XSK_RX_HEADROOM) {
		ret = xp_fail(err, errlen, -EMSGSIZE,
			      "MTU %u of '%s' too large for %u-byte frames",
			      p->mtu, ifname, XSK_FRAME);
		goto err_free;
	}

	p->tx_free = calloc(p->ntx, sizeof(*p->tx_free));
	p->tx_state = calloc(p->ntx, 1);
	if (!p->tx_free || !p->tx_state) {
		ret = xp_fail(err, errlen, -ENOMEM, "out of memory");
		goto err_free;
	}
	/* chunks of frames: no tag may point into them */
	ret = ddp_buf_alloc_frames(dev, (p->ntx + p->nrx) * XSK_FRAME,
				   &p->block);
	if (ret) {
		ret = xp_fail(err, errlen, ret,
			      "allocating %u frames in the buffer region: %s",
			      p->ntx + p->nrx, ddp_errmsg(dev));
		goto err_free;
	}
	p->mem = ddp_buf_mem(dev);
	/* no stale metadata: a frame's region may have been anything */
	for (i = 0; i < p->nrx; i++)
		memset(p->mem + p->block + (p->ntx + i) * XSK_FRAME, 0,
		       XSK_RX_HEADROOM);

	ret = xsk_umem__create(&p->umem, p->mem, ddp_buf_size(dev), &p->fill,
			       &p->comp, &ucfg);
	if (ret) {
		ret = xp_fail(
			err, errlen, ret,
			"registering the buffer region (%u bytes) as UMEM: %s",
			ddp_buf_size(dev), strerror(-ret));
		goto err_buf;
	}
	ret = xsk_socket__create_retry(p, ifname, queue, &scfg);
	if (ret == -EBUSY) {
		ret = xp_fail(
			err, errlen, ret,
			"queue %u of '%s' is busy: another AF_XDP socket is bound to it",
			queue, ifname);
		goto err_umem;
	} else if (ret) {
		ret = xp_fail(
			err, errlen, ret,
			"creating the AF_XDP socket on '%s' queue %u (copy mode): %s",
			ifname, queue, strerror(-ret));
		goto err_umem;
	}
	p->fd = xsk_socket__fd(p->xsk);
	/* a socket that closes leaves the map by itself: one still there
	 * is someone's */
	if (bpf_map_update_elem(p->xsks_fd, &queue, &p->fd, BPF_NOEXIST)) {
		ret = -errno;
		if (ret == -EEXIST)
			xp_fail(err, errlen, ret,
				"queue %u of '%s' already has an AF_XDP socket in ddp_xsks",
				queue, ifname);
		else
			xp_fail(err, errlen, ret,
				"binding the AF_XDP socket into ddp_xsks at queue %u: %s",
				queue, strerror(-ret));
		goto err_xsk;
	}

	for (i = 0; i < p->ntx; i++)
		p->tx_free[p->tx_nfree++] = p->ntx - 1 - i;
	if (xsk_ring_prod__reserve(&p->fill, p->nrx, &idx) != p->nrx) {
		ret = xp_fail(err, errlen, -EIO, "filling the fill ring");
		goto err_map;
	}
	for (i = 0; i < p->nrx; i++)
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) =
			p->block + (p->ntx + i) * XSK_FRAME;
	xsk_ring_prod__submit(&p->fill, p->nrx);
	*out = p;
	return 0;

err_map:
	bpf_map_delete_elem(p->xsks_fd, &queue);
err_xsk:
	xsk_socket__delete(p->xsk);
err_umem:
	xsk_umem__delete(p->umem);
err_buf:
	ddp_buf_free(dev, p->block);
err_free:
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
	/* from here the engine passes the queue's frames to the kernel */
	bpf_map_delete_elem(p->xsks_fd, &p->queue);
	xsk_socket__delete(p->xsk);
	xsk_umem__delete(p->umem);
	ddp_buf_free(p->dev, p->block);
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
	__u32 idx;

	/* copy mode writes metadata only when there is some: clear it,
	 * or the next frame here would show this one's */
	memset(p->mem + chunk + XSK_RX_HEADROOM - sizeof(struct ddp_meta), 0,
	       sizeof(struct ddp_meta));
	/* the fill ring holds every RX frame: this never fails */
	if (xsk_ring_prod__reserve(&p->fill, 1, &idx) != 1)
		return;
	*xsk_ring_prod__fill_addr(&p->fill, idx) = chunk;
	p->fill_queued++;
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
	int tries;

	if (p->fill_queued) {
		xsk_ring_prod__submit(&p->fill, p->fill_queued);
		p->fill_queued = 0;
	}
	/* copy mode sends in the syscall, 32 descriptors at a time */
	for (tries = 0; p->tx_queued && tries < 64; tries++) {
		if (sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			break;
		complete(p);
		if (!tx_outstanding(p))
			p->tx_queued = 0;
	}
	complete(p);
}

__u32 xp_rx_peek(struct xsk_port *p, __u32 max, __u32 *idx)
{
	return xsk_ring_cons__peek(&p->rx, max, idx);
}

void xp_rx_release(struct xsk_port *p, __u32 n)
{
	xsk_ring_cons__release(&p->rx, n);
}

void xp_wait(struct xsk_port *p, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	pthread_mutex_unlock(&p->lock);
	poll(&pfd, 1, timeout_ms);
	pthread_mutex_lock(&p->lock);
}
