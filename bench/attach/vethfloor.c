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
 * With `full`, an attach is every kernel request berth's bridge join makes, in its order, with
 * no manager around them: the master's index asked by name, the pair created (host end a port of
 * MASTER, peer in the namespace with a MAC derived from its IPv4 address), IPv6 off on the host
 * end (its /proc/sys file, opened relative to a kept directory), the host end set up in hairpin
 * mode; then through a socket in the namespace: arp_notify on and IPv6 address generation off,
 * the peer up, its index asked and its IPv4 address added.
 * Timed from the first request to the last ACK. A detach deletes that host end, which by then is
 * a bridge port, up, with an addressed peer: what berth's detach deletes.
 *
 *   vethfloor COUNT NETNS_PATH [MASTER [full]]
 */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
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

/* Send one request and wait for its ACK, passing replies to cb; returns 0 or -errno. */
static int nl_talk_cb(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
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
		r = mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, cb, data);
		if (r <= MNL_CB_STOP)
			return r < 0 ? -errno : 0;
	}
}

static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	return nl_talk_cb(nl, nlh, NULL, NULL);
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

/* The pair NAME <-> PEER, PEER created in nsfd (with MAC when given), NAME a port of MASTER
 * when given: one RTM_NEWLINK. */
static int veth_create(struct mnl_socket *nl, const char *name, const char *peer, int nsfd,
		       unsigned int master, const unsigned char *mac)
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
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
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

/* The master's index by name, as berth asks it before each join (RTM_GETLINK). */
static int master_query(struct mnl_socket *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_talk(nl, link_msg(buf, RTM_GETLINK, 0, name));
}

/* IPv6 off on the host end, its /proc/sys file opened relative to a kept directory, as berth
 * does (a /proc/sys/net path looked up from the root walks every namespace's entries). */
static int conf6_fd = -1;

static int no_ipv6(const char *name)
{
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/disable_ipv6", name);
	fd = openat(conf6_fd, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		r = -errno;
	if (fd >= 0)
		close(fd);
	return r;
}

/* RTM_NEWLINK setting NAME up. */
static struct nlmsghdr *up_msg(char *buf, const char *name)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, name);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	return nlh;
}

/* Up, in hairpin mode (bridge-port slave data), as berth sets its host ends. */
static int port_up(struct mnl_socket *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = up_msg(buf, name);
	struct nlattr *info, *data;

	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nl, nlh);
}

/* arp_notify on, IPv6 address generation off (the network has no IPv6). */
static int peer_ipconf(struct mnl_socket *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, name);
	struct nlattr *spec, *af, *conf;

	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	af = mnl_attr_nest_start(nlh, AF_INET);
	conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
	mnl_attr_put_u32(nlh, IPV4_DEVCONF_ARP_NOTIFY, 1);
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, af);
	af = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, af);
	mnl_attr_nest_end(nlh, spec);
	return nl_talk(nl, nlh);
}

static int peer_up(struct mnl_socket *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_talk(nl, up_msg(buf, name));
}

static int index_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK)
		*(int *)data = ifi->ifi_index;
	return MNL_CB_OK;
}

/* The index asked by name (RTM_GETLINK), then the address (no DAD), as berth adds it. */
static int peer_addr(struct mnl_socket *nl, const char *name, const unsigned char ip[4], int plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int idx = 0, r;

	r = nl_talk_cb(nl, link_msg(buf, RTM_GETLINK, 0, name), index_cb, &idx);
	if (r < 0)
		return r;
	if (idx <= 0)
		return -ENODEV;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_index = idx;
	mnl_attr_put(nlh, IFA_LOCAL, 4, ip);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, ip);
	return nl_talk(nl, nlh);
}

/* Every request of berth's join; nl_in is a socket in the namespace. */
static int attach_full(struct mnl_socket *nl, struct mnl_socket *nl_in, const char *name,
		       const char *peer, int nsfd, const char *master_name, unsigned int master)
{
	static const unsigned char ip[4] = { 10, 99, 0, 2 };
	const unsigned char mac[6] = { 0x02, 0x42, ip[0], ip[1], ip[2], ip[3] };
	int r;

	r = master_query(nl, master_name);
	if (r >= 0)
		r = veth_create(nl, name, peer, nsfd, master, mac);
	if (r >= 0)
		r = no_ipv6(name);
	if (r >= 0)
		r = port_up(nl, name);
	if (r >= 0)
		r = peer_ipconf(nl_in, peer);
	if (r >= 0)
		r = peer_up(nl_in, peer);
	if (r >= 0)
		r = peer_addr(nl_in, peer, ip, 16);
	return r;
}

static int run(struct mnl_socket *nl, struct mnl_socket *nl_in, int count, int nsfd,
	       const char *master_name, unsigned int master)
{
	const char *name = "bbkf0", *peer = "eth0";
	long long t0, t1, t2;
	int i, r;

	for (i = 0; i < count; i++) {
		t0 = now_us();
		r = nl_in ? attach_full(nl, nl_in, name, peer, nsfd, master_name, master)
			  : veth_create(nl, name, peer, nsfd, master, NULL);
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

/* A netlink socket inside the namespace nsfd (a socket keeps the namespace it was made in). */
static struct mnl_socket *socket_in(int nsfd)
{
	struct mnl_socket *nl = NULL;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (self < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		if (self >= 0)
			close(self);
		return NULL;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		nl = NULL;
	}
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr, "vethfloor: cannot return to the host namespace: %s\n", strerror(errno));
		exit(1);
	}
	close(self);
	return nl;
}

int main(int argc, char **argv)
{
	struct mnl_socket *nl, *nl_in = NULL;
	unsigned int master = 0;
	int nsfd, r;

	if (argc < 3 || argc > 5 || (argc == 5 && strcmp(argv[4], "full"))) {
		fprintf(stderr, "usage: vethfloor COUNT NETNS_PATH [MASTER [full]]\n");
		return 2;
	}
	if (argc >= 4) {
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
	if (argc == 5) {
		conf6_fd = open("/proc/sys/net/ipv6/conf", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (conf6_fd < 0) {
			fprintf(stderr, "vethfloor: cannot open /proc/sys/net/ipv6/conf: %s\n",
				strerror(errno));
			return 1;
		}
		nl_in = socket_in(nsfd);
		if (!nl_in) {
			fprintf(stderr, "vethfloor: cannot open a netlink socket in %s: %s\n", argv[2],
				strerror(errno));
			return 1;
		}
	}
	r = run(nl, nl_in, atoi(argv[1]), nsfd, argc >= 4 ? argv[3] : NULL, master);
	if (nl_in)
		mnl_socket_close(nl_in);
	mnl_socket_close(nl);
	close(nsfd);
	return r;
}
