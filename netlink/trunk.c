/* SPDX-License-Identifier: Apache-2.0 */
/* Bridges that only switch and the ports joining them (a network spilling over several bridges,
 * daemon/mgr_spill.c), and a dump of every link with its master (where each port is). */
#include "internal.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>

#include "common/util.h"

/* The link is a bridge port only: no IPv6 of its own (no link-local address, DAD or MLD). The
 * sysctl is of the calling thread's namespace, which must be nl's (berthd's host namespace). */
static int ipv6_off(const char *name, struct berr *err)
{
	_cleanup_free_ char *key = xasprintf("net/ipv6/conf/%s/disable_ipv6", name);
	int r = sysctl_write(key, "1", err);

	return r == -ENOENT ? 0 : r;   /* a kernel without IPv6 */
}

/* IPv4 arp_ignore=8 on `name`: the host answers no ARP request arriving there, for none of its
 * addresses (IFF_NOARP would do that too, but it also stops the bridge answering for its ports,
 * nlx_port_neigh_suppress). */
static int arp_ignore_all(struct nlx *nl, const char *name, struct berr *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = link_msg_new(RTM_NEWLINK, 0, &ifi, name);
	struct nlattr *spec, *af, *conf;
	int r;

	spec = msg ? nla_nest_start(msg, IFLA_AF_SPEC) : NULL;
	af = spec ? nla_nest_start(msg, AF_INET) : NULL;
	conf = af ? nla_nest_start(msg, IFLA_INET_CONF) : NULL;
	if (!conf || nla_put_u32(msg, IPV4_DEVCONF_ARP_IGNORE, 8) < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "setting arp_ignore on %s: out of memory", name);
	}
	nla_nest_end(msg, conf);
	nla_nest_end(msg, af);
	nla_nest_end(msg, spec);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0)
		return nlx_fail(nl, r, err, "setting arp_ignore on %s", name);
	return 0;
}

/* No address, no IPv6 (off before its first port brings its carrier up), and the host answers
 * no ARP on it: it would answer for any of its addresses on any interface, and a container would
 * then send its gateway's traffic to this bridge's MAC instead of the network's own bridge. */
int nlx_bridge_create_l2(struct nlx *nl, const char *name, int mtu, struct berr *err)
{
	int r = nlx_bridge_create(nl, name, mtu, err);

	if (r >= 0)
		r = ipv6_off(name, err);
	if (r >= 0)
		r = arp_ignore_all(nl, name, err);
	return r;
}

int nlx_port_attach(struct nlx *nl, const char *name, const char *master, struct berr *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nl_msg *msg;
	int idx = nlx_link_index(nl, master, err), r;

	if (idx == 0)
		return berr_set(err, -ENODEV, "attaching %s: bridge %s does not exist", name,
				master);
	r = idx < 0 ? idx : ipv6_off(name, err);
	if (r < 0)
		return r;
	msg = link_msg_new(RTM_NEWLINK, 0, &ifi, name);
	if (!msg || nla_put_u32(msg, IFLA_MASTER, (uint32_t)idx) < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "attaching %s to %s: out of memory", name, master);
	}
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0)
		return nlx_fail(nl, r, err, "attaching %s to %s", name, master);
	return 0;
}

int nlx_port_neigh_suppress(struct nlx *nl, const char *name, struct berr *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = link_msg_new(RTM_NEWLINK, 0, &ifi, name);
	struct nlattr *info, *data;
	int r = -ENOMEM;

	info = msg ? nla_nest_start(msg, IFLA_LINKINFO) : NULL;
	if (info && nla_put_string(msg, IFLA_INFO_SLAVE_KIND, "bridge") >= 0) {
		data = nla_nest_start(msg, IFLA_INFO_SLAVE_DATA);
		if (data && nla_put_u8(msg, IFLA_BRPORT_NEIGH_SUPPRESS, 1) >= 0) {
			nla_nest_end(msg, data);
			nla_nest_end(msg, info);
			r = 0;
		}
	}
	if (r < 0) {
		nlmsg_free(msg);
		return berr_set(err, r, "turning neighbour suppression on for %s: out of memory",
				name);
	}
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0)
		return nlx_fail(nl, r, err, "turning neighbour suppression on for %s", name);
	return 0;
}

struct link_dump {
	struct nlx_link_entry *v;
	size_t n, cap;
};

static int link_dump_cb(struct nl_msg *msg, void *arg)
{
	struct link_dump *d = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	struct nlx_link_entry *e;

	if (hdr->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(hdr, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME])
		return NL_SKIP;
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 64;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	e = &d->v[d->n++];
	memset(e, 0, sizeof(*e));
	nla_strlcpy(e->name, tb[IFLA_IFNAME], sizeof(e->name));
	e->ifindex = ((struct ifinfomsg *)nlmsg_data(hdr))->ifi_index;
	if (tb[IFLA_MASTER])
		e->master = (int)nla_get_u32(tb[IFLA_MASTER]);
	return NL_OK;
}

int nlx_link_dump(struct nlx *nl, struct nlx_link_entry **ret, size_t *ret_n, struct berr *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct link_dump d = { 0 };
	int r, tries = 0;

	do {   /* a dump interrupted by a change (NLM_F_DUMP_INTR) is read again */
		struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP);

		d.n = 0;
		if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
		    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
			nlmsg_free(msg);
			free(d.v);
			return berr_set(err, -ENOMEM, "listing links: out of memory");
		}
		r = nlx_talk(nl, msg, link_dump_cb, &d);
	} while (r == -EINTR && ++tries < 5);
	if (r < 0) {
		free(d.v);
		return nlx_fail(nl, r, err, "listing links");
	}
	*ret = d.v;
	*ret_n = d.n;
	return 0;
}
