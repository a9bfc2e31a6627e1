/* SPDX-License-Identifier: Apache-2.0 */
/* Interface addresses, IPv4 and IPv6. */
#include "internal.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "common/util.h"

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* IPv4 directed broadcast of addr (prefixes shorter than /31 only). */
static void addr_broadcast(const struct cidr *addr, uint8_t ret[4])
{
	uint32_t host = addr->prefix ? (0xffffffffu >> addr->prefix) : 0xffffffffu;
	uint32_t a = (uint32_t)addr->addr.b[0] << 24 | (uint32_t)addr->addr.b[1] << 16 |
		     (uint32_t)addr->addr.b[2] << 8 | addr->addr.b[3];

	a |= host;
	ret[0] = a >> 24;
	ret[1] = a >> 16;
	ret[2] = a >> 8;
	ret[3] = a;
}

static struct nl_msg *addr_msg(int type, int flags, int ifindex, const struct cidr *addr,
			       bool nodad)
{
	struct ifaddrmsg ifa = {
		.ifa_family = addr->addr.family,
		.ifa_prefixlen = addr->prefix,
		.ifa_flags = nodad && addr->addr.family == AF_INET6 ? IFA_F_NODAD : 0,
		.ifa_scope = RT_SCOPE_UNIVERSE,
		.ifa_index = ifindex,
	};
	int len = addr_len(addr->addr.family);
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
	uint8_t brd[4];

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, IFA_LOCAL, len, addr->addr.b) < 0 ||
	    nla_put(msg, IFA_ADDRESS, len, addr->addr.b) < 0)
		goto fail;
	if (type == RTM_NEWADDR && addr->addr.family == AF_INET && addr->prefix < 31) {
		addr_broadcast(addr, brd);
		if (nla_put(msg, IFA_BROADCAST, sizeof(brd), brd) < 0)
			goto fail;
	}
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

static int addr_check(const struct cidr *addr, const char *what, struct berr *err)
{
	if (addr->addr.family != AF_INET && addr->addr.family != AF_INET6)
		return berr_set(err, -EAFNOSUPPORT, "%s: address family %d is not IPv4 or IPv6",
				what, addr->addr.family);
	if (addr->prefix < 0 || addr->prefix > ip_bits(addr->addr.family))
		return berr_set(err, -EINVAL, "%s: invalid prefix length %d", what, addr->prefix);
	return 0;
}

int nlx_addr_add(struct nlx *nl, const char *ifname, const struct cidr *addr, bool nodad,
		 struct berr *err)
{
	char buf[CIDR_STRLEN], what[64 + CIDR_STRLEN + IFNAME_LEN];
	struct nl_msg *msg;
	int ifindex, r;

	snprintf(what, sizeof(what), "adding address %s to %s", cidr_fmt(addr, buf), ifname);
	r = addr_check(addr, what, err);
	if (r < 0)
		return r;
	ifindex = nlx_link_index(nl, ifname, err);
	if (ifindex < 0)
		return berr_prefix(err, "%s", what);
	if (ifindex == 0)
		return berr_set(err, -ENODEV, "%s: no such interface", what);
	msg = addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, addr, nodad);
	if (!msg)
		return berr_set(err, -ENOMEM, "%s: out of memory", what);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0 && r != -EEXIST)
		return nlx_fail(nl, r, err, "%s", what);
	return 0;
}

int nlx_addr_del(struct nlx *nl, const char *ifname, const struct cidr *addr, struct berr *err)
{
	char buf[CIDR_STRLEN], what[64 + CIDR_STRLEN + IFNAME_LEN];
	struct nl_msg *msg;
	int ifindex, r;

	snprintf(what, sizeof(what), "removing address %s from %s", cidr_fmt(addr, buf), ifname);
	r = addr_check(addr, what, err);
	if (r < 0)
		return r;
	ifindex = nlx_link_index(nl, ifname, err);
	if (ifindex <= 0)    /* gone with its interface, or a lookup error */
		return ifindex < 0 ? berr_prefix(err, "%s", what) : 0;
	msg = addr_msg(RTM_DELADDR, 0, ifindex, addr, false);
	if (!msg)
		return berr_set(err, -ENOMEM, "%s: out of memory", what);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0 && r != -EADDRNOTAVAIL && r != -ENODEV && r != -ESRCH)
		return nlx_fail(nl, r, err, "%s", what);
	return 0;
}

struct addr_find {
	int ifindex;
	const struct cidr *want;
	bool found;
};

static int addr_find_cb(struct nl_msg *msg, void *arg)
{
	struct addr_find *f = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	int len = addr_len(f->want->addr.family);

	if (hdr->nlmsg_type != RTM_NEWADDR || !nlmsg_valid_hdr(hdr, sizeof(*ifa)) ||
	    nlmsg_parse(hdr, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return NL_SKIP;
	ifa = nlmsg_data(hdr);
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if ((int)ifa->ifa_index == f->ifindex && ifa->ifa_family == f->want->addr.family &&
	    ifa->ifa_prefixlen == f->want->prefix && a && nla_len(a) == len &&
	    memcmp(nla_data(a), f->want->addr.b, len) == 0)
		f->found = true;
	return NL_OK;
}

int nlx_addr_has(struct nlx *nl, const char *ifname, const struct cidr *addr, struct berr *err)
{
	struct ifaddrmsg ifa = { .ifa_family = addr->addr.family };
	char buf[CIDR_STRLEN], what[64 + CIDR_STRLEN + IFNAME_LEN];
	struct addr_find f = { .want = addr };
	struct nl_msg *msg;
	int r, tries = 0;

	snprintf(what, sizeof(what), "looking for address %s on %s", cidr_fmt(addr, buf), ifname);
	r = addr_check(addr, what, err);
	if (r < 0)
		return r;
	f.ifindex = nlx_link_index(nl, ifname, err);
	if (f.ifindex <= 0)
		return f.ifindex < 0 ? berr_prefix(err, "%s", what) : 0;
	do {   /* a dump interrupted by a change (-EINTR) is repeated */
		f.found = false;
		msg = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
		if (!msg || nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0) {
			nlmsg_free(msg);
			return berr_set(err, -ENOMEM, "%s: out of memory", what);
		}
		r = nlx_talk(nl, msg, addr_find_cb, &f);
	} while (r == -EINTR && ++tries < 5);
	if (r < 0)
		return nlx_fail(nl, r, err, "%s", what);
	return f.found;
}
