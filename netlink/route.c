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

struct route_full_list {
	int family;
	struct nlx_route *v;
	size_t n, cap;
};

static bool route_main(const struct rtmsg *rtm, struct nlattr **tb, int family)
{
	uint32_t table = rtm->rtm_table;

	if (tb[RTA_TABLE] && nla_len(tb[RTA_TABLE]) >= 4)
		table = nla_get_u32(tb[RTA_TABLE]);
	return rtm->rtm_family == family && table == RT_TABLE_MAIN &&
	       !(rtm->rtm_flags & RTM_F_CLONED) && rtm->rtm_dst_len <= ip_bits(family) &&
	       (rtm->rtm_dst_len == 0 || (tb[RTA_DST] && nla_len(tb[RTA_DST]) == (family == AF_INET ? 4 : 16)));
}

static void route_addr_get(struct nlattr *a, int family, struct ipaddr *ret)
{
	int len = family == AF_INET ? 4 : 16;

	memset(ret, 0, sizeof(*ret));
	if (a && nla_len(a) == len) {
		ret->family = family;
		memcpy(ret->b, nla_data(a), (size_t)len);
	}
}

static int route_full_cb(struct nl_msg *msg, void *arg)
{
	struct route_full_list *l = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[RTA_MAX + 1];
	struct nlx_route *rt;
	struct rtmsg *rtm;

	if (hdr->nlmsg_type != RTM_NEWROUTE || !nlmsg_valid_hdr(hdr, sizeof(*rtm)) ||
	    nlmsg_parse(hdr, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return NL_SKIP;
	rtm = nlmsg_data(hdr);
	if (!route_main(rtm, tb, l->family))
		return NL_OK;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	rt = &l->v[l->n++];
	memset(rt, 0, sizeof(*rt));
	route_addr_get(tb[RTA_DST], l->family, &rt->dst.addr);
	rt->dst.addr.family = l->family;
	rt->dst.prefix = rtm->rtm_dst_len;
	rt->unicast = rtm->rtm_type == RTN_UNICAST;
	route_addr_get(tb[RTA_GATEWAY], l->family, &rt->gw);
	if (tb[RTA_OIF] && nla_len(tb[RTA_OIF]) >= 4)
		rt->oif = (int)nla_get_u32(tb[RTA_OIF]);
	return NL_OK;
}

int nlx_route_dump(struct nlx *nl, int family, struct nlx_route **ret, size_t *ret_n,
		   struct berr *err)
{
	struct route_full_list l = { .family = family };
	struct rtmsg rtm = { .rtm_family = family };
	struct nl_msg *msg;
	int r, tries = 0;

	if (family != AF_INET && family != AF_INET6)
		return berr_set(err, -EAFNOSUPPORT, "listing routes: address family %d is not IPv4 "
				"or IPv6", family);
	do {
		l.n = 0;
		msg = route_msg(RTM_GETROUTE, NLM_F_DUMP, &rtm);
		r = msg ? nlx_talk(nl, msg, route_full_cb, &l) : -ENOMEM;
	} while (r == -EINTR && ++tries < 5);
	if (r < 0) {
		free(l.v);
		return nlx_fail(nl, r, err, "listing %s routes", family_name(family));
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

int nlx_route_list(struct nlx *nl, int family, struct cidr **ret, size_t *ret_n, struct berr *err)
{
	struct nlx_route *rts = NULL;
	size_t n = 0, k = 0;
	struct cidr *v;
	int r = nlx_route_dump(nl, family, &rts, &n, err);

	if (r < 0)
		return r;
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		if (rts[i].dst.prefix > 0)
			v[k++] = rts[i].dst;
	free(rts);
	*ret = v;
	*ret_n = k;
	return 0;
}
