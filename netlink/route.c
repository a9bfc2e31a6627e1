/* SPDX-License-Identifier: Apache-2.0 */
/* Routes of the main table: the default route, and the list of routed prefixes. */
#include "internal.h"

#include <errno.h>
#include <linux/rtnetlink.h>

#include "common/util.h"

/* Bounded: a namespace may hold several default routes (IPv6 multipath, RA-learnt ones). */
#define DEFAULT_DEL_MAX 64

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "unknown-family";
}

static struct nl_msg *route_msg(int type, int flags, const struct rtmsg *rtm)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (msg && nlmsg_append(msg, (void *)rtm, sizeof(*rtm), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int nlx_route_default_set(struct nlx *nl, int family, const struct ipaddr *gw, const char *ifname,
			  struct berr *err)
{
	struct rtmsg rtm = {
		.rtm_family = family,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = RTPROT_BOOT,
		.rtm_scope = RT_SCOPE_UNIVERSE,
		.rtm_type = RTN_UNICAST,
	};
	char buf[IP_STRLEN], what[64 + IP_STRLEN + IFNAME_LEN];
	struct nl_msg *msg;
	int ifindex, r;

	snprintf(what, sizeof(what), "setting the %s default route via %s dev %s",
		 family_name(family), gw ? ip_fmt(gw, buf) : "?", ifname);
	if ((family != AF_INET && family != AF_INET6) || !gw || gw->family != family)
		return berr_set(err, -EINVAL, "%s: the gateway is not an %s address", what,
				family_name(family));
	ifindex = nlx_link_index(nl, ifname, err);
	if (ifindex < 0)
		return berr_prefix(err, "%s", what);
	if (ifindex == 0)
		return berr_set(err, -ENODEV, "%s: no such interface", what);
	msg = route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rtm);
	if (!msg || nla_put(msg, RTA_GATEWAY, family == AF_INET ? 4 : 16, gw->b) < 0 ||
	    nla_put_u32(msg, RTA_OIF, ifindex) < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "%s: out of memory", what);
	}
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0)
		return nlx_fail(nl, r, err, "%s", what);
	return 0;
}

int nlx_route_default_del(struct nlx *nl, int family, struct berr *err)
{
	struct rtmsg rtm = {
		.rtm_family = family,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_scope = RT_SCOPE_NOWHERE,   /* any scope, protocol and type */
	};
	struct nl_msg *msg;
	int i, r;

	if (family != AF_INET && family != AF_INET6)
		return berr_set(err, -EAFNOSUPPORT, "removing the default route: address family "
				"%d is not IPv4 or IPv6", family);
	for (i = 0; i < DEFAULT_DEL_MAX; i++) {
		msg = route_msg(RTM_DELROUTE, 0, &rtm);
		if (!msg)
			return berr_set(err, -ENOMEM, "removing the %s default route: out of memory",
					family_name(family));
		r = nlx_talk(nl, msg, NULL, NULL);
		if (r == -ESRCH || r == -ENOENT)
			return 0;
		if (r < 0)
			return nlx_fail(nl, r, err, "removing the %s default route",
					family_name(family));
	}
	return berr_set(err, -ELOOP, "removing the %s default route: still present after %d "
			"deletions", family_name(family), DEFAULT_DEL_MAX);
}

struct route_list {
	int family;
	struct cidr *routes;
	size_t n, cap;
};

static bool route_wanted(struct nlmsghdr *hdr, const struct rtmsg *rtm, struct nlattr **tb,
			 int family)
{
	uint32_t table = rtm->rtm_table;

	if (hdr->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != family)
		return false;
	if (tb[RTA_TABLE] && nla_len(tb[RTA_TABLE]) >= 4)
		table = nla_get_u32(tb[RTA_TABLE]);
	if (table != RT_TABLE_MAIN || rtm->rtm_dst_len == 0 || (rtm->rtm_flags & RTM_F_CLONED))
		return false;
	return tb[RTA_DST] && nla_len(tb[RTA_DST]) == (family == AF_INET ? 4 : 16) &&
	       rtm->rtm_dst_len <= ip_bits(family);
}

static int route_list_cb(struct nl_msg *msg, void *arg)
{
	struct route_list *l = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[RTA_MAX + 1];
	struct rtmsg *rtm;
	struct cidr *c;

	if (!nlmsg_valid_hdr(hdr, sizeof(*rtm)) ||
	    nlmsg_parse(hdr, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return NL_SKIP;
	rtm = nlmsg_data(hdr);
	if (!route_wanted(hdr, rtm, tb, l->family))
		return NL_OK;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->routes = xrealloc(l->routes, l->cap * sizeof(*l->routes));
	}
	c = &l->routes[l->n++];
	memset(c, 0, sizeof(*c));
	c->addr.family = l->family;
	memcpy(c->addr.b, nla_data(tb[RTA_DST]), nla_len(tb[RTA_DST]));
	c->prefix = rtm->rtm_dst_len;
	return NL_OK;
}

static int route_dump(struct nlx *nl, struct route_list *l)
{
	struct rtmsg rtm = { .rtm_family = l->family };
	struct nl_msg *msg = route_msg(RTM_GETROUTE, NLM_F_DUMP, &rtm);

	if (!msg)
		return -ENOMEM;
	return nlx_talk(nl, msg, route_list_cb, l);
}

int nlx_route_list(struct nlx *nl, int family, struct cidr **ret, size_t *ret_n, struct berr *err)
{
	struct route_list l = { .family = family };
	int r, tries = 0;

	if (family != AF_INET && family != AF_INET6)
		return berr_set(err, -EAFNOSUPPORT, "listing routes: address family %d is not IPv4 "
				"or IPv6", family);
	do {
		l.n = 0;
		r = route_dump(nl, &l);
	} while (r == -EINTR && ++tries < 5);
	if (r < 0) {
		free(l.routes);
		return nlx_fail(nl, r, err, "listing %s routes", family_name(family));
	}
	*ret = l.routes;
	*ret_n = l.n;
	return 0;
}
