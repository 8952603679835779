// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * utcp_neigh.c - where a connection's frames go: the next hop the kernel
 * routes to, and its link-layer address from the kernel's neighbour table
 * (ARP or neighbour discovery, resolved by the kernel), over rtnetlink,
 * for IPv4 and IPv6 alike.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "utcp_priv.h"

#define NL_BUF 16384
/* resolved, as the kernel's NUD_VALID (not exported to user space) */
#define NEIGH_VALID                                                          \
	(NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | \
	 NUD_DELAY)

static int alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* Append an attribute to the request at the start of buf */
static void add_attr(char *buf, __u16 type, const void *data, __u16 len)
{
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	char *at = buf + NLMSG_ALIGN(n->nlmsg_len);
	struct rtattr a = { .rta_type = type, .rta_len = RTA_LENGTH(len) };

	memcpy(at, &a, sizeof(a));
	memcpy(at + RTA_LENGTH(0), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a.rta_len);
}

/* Send the request n; call each(msg, arg) on every answer until done or
 * until each returns nonzero. 0, or -errno. */
static int nl_talk(struct nlmsghdr *n,
		   int (*each)(const struct nlmsghdr *, void *), void *arg)
{
	static __thread char buf[NL_BUF] __attribute__((aligned(8)));
	int fd, ret = 0, len;
	struct nlmsghdr *h;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, n, n->nlmsg_len, 0) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0) {
			ret = -errno;
			goto out;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (__u32)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
			ret = each(h, arg);
			if (ret)
				goto out;
		}
		if (!(n->nlmsg_flags & NLM_F_DUMP))
			goto out;
	}
out:
	close(fd);
	return ret < 0 ? ret : 0;
}

struct route_ans {
	int family;
	void *hop;
};

static int route_each(const struct nlmsghdr *h, void *arg)
{
	struct route_ans *a = arg;
	const struct rtmsg *r = NLMSG_DATA(h);
	const struct rtattr *at = RTM_RTA(r);
	int len = RTM_PAYLOAD(h);

	if (h->nlmsg_type != RTM_NEWROUTE)
		return 0;
	for (; RTA_OK(at, len); at = RTA_NEXT(at, len))
		if (at->rta_type == RTA_GATEWAY &&
		    RTA_PAYLOAD(at) == (size_t)alen(a->family))
			memcpy(a->hop, RTA_DATA(at), alen(a->family));
	return 1;
}

int utcp_next_hop(int family, const void *dst, int ifindex, void *hop)
{
	char buf[NLMSG_LENGTH(sizeof(struct rtmsg)) + 64]
		__attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	struct rtmsg *r = NLMSG_DATA(n);
	struct route_ans a = { family, hop };

	n->nlmsg_len = NLMSG_LENGTH(sizeof(*r));
	n->nlmsg_type = RTM_GETROUTE;
	n->nlmsg_flags = NLM_F_REQUEST;
	r->rtm_family = family;
	r->rtm_dst_len = alen(family) * 8;
	memcpy(hop, dst, alen(family));
	add_attr(buf, RTA_DST, dst, alen(family));
	add_attr(buf, RTA_OIF, &ifindex, sizeof(ifindex));
	return nl_talk(n, route_each, &a);
}

struct neigh_ans {
	int family, ifindex;
	const void *hop;
	__u8 *mac;
	bool found;
};

static int neigh_each(const struct nlmsghdr *h, void *arg)
{
	struct neigh_ans *a = arg;
	const struct ndmsg *nd = NLMSG_DATA(h);
	const struct rtattr *at =
		(const struct rtattr *)((const char *)nd +
					NLMSG_ALIGN(sizeof(*nd)));
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
	const void *mac = NULL;
	bool dst = false;

	if (h->nlmsg_type != RTM_NEWNEIGH || nd->ndm_family != a->family ||
	    nd->ndm_ifindex != a->ifindex || !(nd->ndm_state & NEIGH_VALID))
		return 0;
	for (; RTA_OK(at, len); at = RTA_NEXT(at, len)) {
		if (at->rta_type == NDA_DST &&
		    RTA_PAYLOAD(at) == (size_t)alen(a->family))
			dst = !memcmp(RTA_DATA(at), a->hop, alen(a->family));
		else if (at->rta_type == NDA_LLADDR && RTA_PAYLOAD(at) == 6)
			mac = RTA_DATA(at);
	}
	if (!dst || !mac)
		return 0;
	memcpy(a->mac, mac, 6);
	a->found = true;
	return 1;
}

int utcp_neigh_mac(int family, const void *hop, int ifindex, __u8 mac[6])
{
	struct {
		struct nlmsghdr n;
		struct ndmsg nd;
	} req = { .n = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
			 .nlmsg_type = RTM_GETNEIGH,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		  .nd = { .ndm_family = family } };
	struct neigh_ans a = { family, ifindex, hop, mac, false };
	int ret;

	ret = nl_talk(&req.n, neigh_each, &a);
	if (ret)
		return ret;
	return a.found ? 0 : -ENOENT;
}
