/* SPDX-License-Identifier: Apache-2.0 */
/* Watching nftables events: someone else (`nft flush ruleset`, `nft delete table`, a rule added
 * by hand) touched berth's tables, so the caller rebuilds them. Our own changes carry the portid
 * of our batch socket and are ignored. */
#include <fcntl.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/util.h"
#include "nft/nft_internal.h"

int nft_group_open(int group, int rcvbuf, const char *what, int *ret_fd, struct berr *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
					NETLINK_NETFILTER);

	if (fd < 0)
		return berr_errno(err, -errno, "opening the nftables %s socket", what);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return berr_errno(err, -errno, "subscribing to nftables %s events", what);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	*ret_fd = steal_fd(fd);
	return 0;
}

int nft_monitor_open(int *ret_fd, struct berr *err)
{
	return nft_group_open(NFNLGRP_NFTABLES, 8 << 20, "monitor", ret_fd, err);
}

/* The table an event is about: attribute 1 is the table name for tables, chains, rules, sets
 * and element lists alike (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, ...). */
static const char *event_table(const struct nlmsghdr *nlh)
{
	const struct nlattr *attr;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
		return NULL;
	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) == 1 && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}

static bool event_ours(const struct nlmsghdr *nlh, const struct nft_names *names,
		       uint32_t own_portid)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char *table;

	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES || nlh->nlmsg_pid == own_portid)
		return false;
	if ((nlh->nlmsg_type & 0xff) == NFT_MSG_NEWGEN)
		return false;
	table = event_table(nlh);
	if (!table)
		return false;
	if (g->nfgen_family == NFPROTO_INET)
		return strcmp(table, names->inet) == 0;
	if (g->nfgen_family == NFPROTO_BRIDGE)
		return strcmp(table, names->bridge) == 0;
	return false;
}

int nft_monitor_read(int fd, const struct nft_names *names, uint32_t own_portid)
{
	static char buf[1 << 16];
	int touched = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left = (int)n;

		if (n < 0 && errno == ENOBUFS) {
			touched = 2;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? touched : -errno;
		if (n == 0)
			return touched;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			if (!touched && event_ours(nlh, names, own_portid))
				touched = 1;
	}
}
