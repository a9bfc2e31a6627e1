/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vethfloor: the kernel's own cost of what an attach/detach is made of, with no manager.
 * Repeats COUNT times: create a veth pair NAME <-> PEER with the peer created directly in
 * the namespace NETNS_PATH (one RTM_NEWLINK), then delete NAME (one RTM_DELLINK). Each
 * request asks for an ACK and is timed from send to ACK. Prints "create_us delete_us" per
 * line. With MASTER, the host end is created as a port of that bridge (IFLA_MASTER in the same
 * request), which is what a bridge network's endpoint is. Run it inside the namespace that plays
 * the host (nsenter --net=...).
 *
 *   vethfloor COUNT NETNS_PATH [MASTER]
 */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned int seq;

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Send one request and wait for its ACK; returns 0 or -errno from the kernel. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int r;

	nlh->nlmsg_seq = ++seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, NULL, NULL);
		if (r <= MNL_CB_STOP)
			return r < 0 ? -errno : 0;
	}
}

static struct nlmsghdr *link_msg(char *buf, int type, int flags, const char *name)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

static int veth_create(struct mnl_socket *nl, const char *name, const char *peer, int nsfd,
		       unsigned int master)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
	struct nlattr *linkinfo, *data, *peerinfo;
	struct ifinfomsg *pifi;

	if (master)
		mnl_attr_put_u32(nlh, IFLA_MASTER, master);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_get_payload_tail(nlh);
	memset(pifi, 0, sizeof(*pifi));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, nsfd);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_talk(nl, nlh);
}

static int link_delete(struct mnl_socket *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_talk(nl, link_msg(buf, RTM_DELLINK, 0, name));
}

static int run(struct mnl_socket *nl, int count, int nsfd, unsigned int master)
{
	const char *name = "bbkf0", *peer = "eth0";
	long long t0, t1, t2;
	int i, r;

	for (i = 0; i < count; i++) {
		t0 = now_us();
		r = veth_create(nl, name, peer, nsfd, master);
		t1 = now_us();
		if (r < 0) {
			fprintf(stderr, "vethfloor: creating veth %s: %s\n", name, strerror(-r));
			return 1;
		}
		r = link_delete(nl, name);
		t2 = now_us();
		if (r < 0) {
			fprintf(stderr, "vethfloor: deleting veth %s: %s\n", name, strerror(-r));
			return 1;
		}
		printf("%lld %lld\n", t1 - t0, t2 - t1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct mnl_socket *nl;
	unsigned int master = 0;
	int nsfd, r;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: vethfloor COUNT NETNS_PATH [MASTER]\n");
		return 2;
	}
	if (argc == 4) {
		master = if_nametoindex(argv[3]);
		if (!master) {
			fprintf(stderr, "vethfloor: no bridge %s: %s\n", argv[3], strerror(errno));
			return 1;
		}
	}
	nsfd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		fprintf(stderr, "vethfloor: cannot open namespace %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "vethfloor: cannot open a netlink socket: %s\n", strerror(errno));
		return 1;
	}
	r = run(nl, atoi(argv[1]), nsfd, master);
	mnl_socket_close(nl);
	close(nsfd);
	return r;
}
