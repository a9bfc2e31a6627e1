/* SPDX-License-Identifier: Apache-2.0 */
/* Links: lookup by name, bridges, veth pairs (peer created directly in its namespace), delete,
 * up/down, MTU, listing by prefix. */
#include "internal.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>

#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>
#include <linux/if_link.h>

#include "common/util.h"

#define KIND_LEN 32

struct link_info {
	int ifindex;
	unsigned flags;
	uint32_t group;
	char kind[KIND_LEN];
};

static void link_info_parse_kind(struct nlattr *linkinfo, char kind[KIND_LEN])
{
	struct nlattr *tb[IFLA_INFO_MAX + 1];

	if (nla_parse_nested(tb, IFLA_INFO_MAX, linkinfo, NULL) < 0 || !tb[IFLA_INFO_KIND])
		return;
	nla_strlcpy(kind, tb[IFLA_INFO_KIND], KIND_LEN);
}

static int link_info_cb(struct nl_msg *msg, void *arg)
{
	struct link_info *info = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;

	if (hdr->nlmsg_type != RTM_NEWLINK || !nlmsg_valid_hdr(hdr, sizeof(*ifi)))
		return NL_SKIP;
	ifi = nlmsg_data(hdr);
	info->ifindex = ifi->ifi_index;
	info->flags = ifi->ifi_flags;
	if (nlmsg_parse(hdr, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NL_OK;
	if (tb[IFLA_LINKINFO])
		link_info_parse_kind(tb[IFLA_LINKINFO], info->kind);
	if (tb[IFLA_GROUP])
		info->group = nla_get_u32(tb[IFLA_GROUP]);
	return NL_OK;
}

/* An RTM_{NEW,GET}LINK message addressing a link by name (netlink/internal.h). */
struct nl_msg *link_msg_new(int type, int flags, const struct ifinfomsg *ifi, const char *name)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, (void *)ifi, sizeof(*ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, name) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* ifindex > 0 and *ret, 0 when absent, -errno. */
static int link_info_get(struct nlx *nl, const char *name, struct link_info *ret,
			 struct berr *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg;
	int r;

	msg = link_msg_new(RTM_GETLINK, 0, &ifi, name);
	if (!msg || nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "looking up link %s: out of memory", name);
	}
	memset(ret, 0, sizeof(*ret));
	r = nlx_talk(nl, msg, link_info_cb, ret);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return nlx_fail(nl, r, err, "looking up link %s", name);
	return ret->ifindex > 0 ? ret->ifindex : 0;
}

int nlx_link_query(struct nlx *nl, const char *name, char ret_kind[32], unsigned *ret_flags,
		   struct berr *err)
{
	struct link_info info;
	int r = link_info_get(nl, name, &info, err);

	if (r <= 0)
		return r;
	if (ret_kind)
		strscpy(ret_kind, info.kind, KIND_LEN);
	if (ret_flags)
		*ret_flags = info.flags;
	return r;
}

int nlx_link_index(struct nlx *nl, const char *name, struct berr *err)
{
	return nlx_link_query(nl, name, NULL, NULL, err);
}

static int link_change(struct nlx *nl, const char *name, unsigned flags, unsigned change, int mtu,
		       struct berr *err)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_flags = flags,
		.ifi_change = change,
	};
	struct nl_msg *msg = link_msg_new(RTM_NEWLINK, 0, &ifi, name);

	if (!msg || (mtu > 0 && nla_put_u32(msg, IFLA_MTU, mtu) < 0)) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "changing link %s: out of memory", name);
	}
	return nlx_talk(nl, msg, NULL, NULL);
}

int nlx_link_set_up(struct nlx *nl, const char *name, bool up, struct berr *err)
{
	int r = link_change(nl, name, up ? IFF_UP : 0, IFF_UP, 0, err);

	if (r < 0)
		return nlx_fail(nl, r, err, "setting link %s %s", name, up ? "up" : "down");
	return 0;
}

/* IFLA_AF_SPEC: IPv4 arp_notify=1 and, when no_ipv6, IPv6 address generation off. */
static int ipconf_put(struct nl_msg *msg, bool no_ipv6)
{
	struct nlattr *spec, *af, *conf;

	spec = nla_nest_start(msg, IFLA_AF_SPEC);
	af = spec ? nla_nest_start(msg, AF_INET) : NULL;
	conf = af ? nla_nest_start(msg, IFLA_INET_CONF) : NULL;
	if (!conf || nla_put_u32(msg, IPV4_DEVCONF_ARP_NOTIFY, 1) < 0)
		return -ENOMEM;
	nla_nest_end(msg, conf);
	nla_nest_end(msg, af);
	if (no_ipv6) {
		af = nla_nest_start(msg, AF_INET6);
		if (!af || nla_put_u8(msg, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE) < 0)
			return -ENOMEM;
		nla_nest_end(msg, af);
	}
	nla_nest_end(msg, spec);
	return 0;
}

int nlx_link_set_ipconf(struct nlx *nl, const char *name, bool no_ipv6, struct berr *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = link_msg_new(RTM_NEWLINK, 0, &ifi, name);
	int r;

	if (!msg || ipconf_put(msg, no_ipv6) < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "configuring link %s: out of memory", name);
	}
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0)
		return nlx_fail(nl, r, err, "configuring arp_notify%s on %s",
				no_ipv6 ? " and IPv6 address generation" : "", name);
	return 0;
}

int nlx_link_set_mtu(struct nlx *nl, const char *name, int mtu, struct berr *err)
{
	int r;

	if (mtu <= 0)
		return berr_set(err, -EINVAL, "setting the MTU of %s: invalid MTU %d", name, mtu);
	r = link_change(nl, name, 0, 0, mtu, err);
	if (r < 0)
		return nlx_fail(nl, r, err, "setting the MTU of %s to %d", name, mtu);
	return 0;
}

/* Send msg (freed); a link that is not there (-ENODEV) is success. what: "deleting link %s"... */
static int talk_gone_ok(struct nlx *nl, struct nl_msg *msg, const char *what, const char *name,
			struct berr *err)
{
	int r = nlx_talk(nl, msg, NULL, NULL);

	if (r < 0 && r != -ENODEV)
		return nlx_fail(nl, r, err, what, name);
	return 0;
}

int nlx_link_delete(struct nlx *nl, const char *name, struct berr *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = link_msg_new(RTM_DELLINK, 0, &ifi, name);

	if (!msg)
		return berr_set(err, -ENOMEM, "deleting link %s: out of memory", name);
	return talk_gone_ok(nl, msg, "deleting link %s", name, err);
}

/* Create failed with EEXIST: fine when `name` is already a link of `kind` (a bridge is also set
 * up). When no link has that name, another name of the request collided (the peer's): report
 * the kernel's original error. */
static int link_reuse(struct nlx *nl, const char *name, const char *kind, const char *what,
		      struct berr *err)
{
	char have[KIND_LEN] = "", kmsg[NLX_KMSG_MAX];
	unsigned flags = 0;
	int r;

	memcpy(kmsg, nl->kmsg, sizeof(kmsg));
	r = nlx_link_query(nl, name, have, &flags, err);
	if (r < 0)
		return berr_prefix(err, "%s", what);
	if (r == 0) {
		memcpy(nl->kmsg, kmsg, sizeof(kmsg));
		return nlx_fail(nl, -EEXIST, err, "%s", what);
	}
	if (strcmp(have, kind) != 0)
		return berr_set(err, -EEXIST, "%s: a link of that name already exists and it is "
				"%s%s, not a %s", what, have[0] ? "a " : "",
				have[0] ? have : "a device without a kind", kind);
	if (!strcmp(kind, "bridge") && !(flags & IFF_UP))
		return nlx_link_set_up(nl, name, true, err);
	return 0;
}

/* IFLA_LINKINFO of a new bridge: multicast snooping off. With it on, every port going up or down
 * makes the kernel walk all the bridge's ports and re-arm each one's multicast timers
 * (br_port_state_selection -> br_multicast_enable_port), work that grows with the network on
 * every attach and detach. Multicast is then forwarded like broadcast. */
static int bridge_linkinfo_put(struct nl_msg *msg)
{
	struct nlattr *info, *data;

	info = nla_nest_start(msg, IFLA_LINKINFO);
	if (!info || nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0)
		return -ENOMEM;
	data = nla_nest_start(msg, IFLA_INFO_DATA);
	if (!data || nla_put_u8(msg, IFLA_BR_MCAST_SNOOPING, 0) < 0)
		return -ENOMEM;
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return 0;
}

/* Created up, with the MTU (0: the kernel's) and a random locally administered unicast MAC: a
 * bridge with an address of its own keeps it when ports come and go, so containers' neighbour
 * caches never see the gateway's MAC change. */
static struct nl_msg *bridge_msg(const char *name, int mtu)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nl_msg *msg = link_msg_new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, name);
	uint8_t mac[6];

	if (!msg)
		return NULL;
	if (getrandom(mac, sizeof(mac), 0) == sizeof(mac)) {
		mac[0] = (mac[0] & 0xfe) | 0x02;
		if (nla_put(msg, IFLA_ADDRESS, sizeof(mac), mac) < 0)
			goto nomem;
	}
	if ((mtu > 0 && nla_put_u32(msg, IFLA_MTU, (uint32_t)mtu) < 0) ||
	    bridge_linkinfo_put(msg) < 0)
		goto nomem;
	return msg;
nomem:
	nlmsg_free(msg);
	return NULL;
}

/* A create failed with -EEXIST: when `name` is a retired link (nlx_link_doom) the reaper has not
 * deleted yet, it is deleted now and 1 returned (create again); 0 when it is not, -errno. */
static int link_doomed_clear(struct nlx *nl, const char *name, struct berr *err)
{
	char kmsg[NLX_KMSG_MAX];
	struct link_info info;
	int r;

	memcpy(kmsg, nl->kmsg, sizeof(kmsg));
	r = link_info_get(nl, name, &info, err);
	if (r <= 0 || info.group != NLX_GROUP_DOOMED) {
		memcpy(nl->kmsg, kmsg, sizeof(kmsg));   /* the create's own error stays */
		return r < 0 ? r : 0;
	}
	r = nlx_link_delete(nl, name, err);
	return r < 0 ? r : 1;
}

int nlx_bridge_create(struct nlx *nl, const char *name, int mtu, struct berr *err)
{
	char what[64 + IFNAME_LEN];
	struct nl_msg *msg = bridge_msg(name, mtu);
	int r;

	if (!msg)
		return berr_set(err, -ENOMEM, "creating bridge %s: out of memory", name);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r == -EEXIST && link_doomed_clear(nl, name, NULL) > 0) {
		msg = bridge_msg(name, mtu);
		r = msg ? nlx_talk(nl, msg, NULL, NULL) : -ENOMEM;
	}
	if (r == -EEXIST) {
		snprintf(what, sizeof(what), "creating bridge %s", name);
		return link_reuse(nl, name, "bridge", what, err);
	}
	if (r < 0)
		return nlx_fail(nl, r, err, "creating bridge %s", name);
	return 0;
}

struct veth_req {
	const char *name;
	int master;                  /* ifindex, 0 = none */
	int peer_netns_fd;           /* < 0: same namespace */
	const char *peer_name;
	const uint8_t *peer_mac;     /* NULL: kernel's */
	int mtu;
	bool up;
};

static void veth_peer_fill(struct rtnl_link *peer, const struct veth_req *req)
{
	struct nl_addr *mac;

	rtnl_link_set_name(peer, req->peer_name);
	if (req->mtu > 0)
		rtnl_link_set_mtu(peer, req->mtu);
	if (req->peer_netns_fd >= 0)
		rtnl_link_set_ns_fd(peer, req->peer_netns_fd);
	if (req->peer_mac) {
		mac = nl_addr_build(AF_LLC, req->peer_mac, 6);
		if (mac)
			rtnl_link_set_addr(peer, mac);
		nl_addr_put(mac);
	}
}

/* One RTM_NEWLINK: host end named, enslaved and up; peer named, addressed, in its namespace. */
static int veth_msg(const struct veth_req *req, struct nl_msg **ret)
{
	struct rtnl_link *link = rtnl_link_veth_alloc();
	struct rtnl_link *peer;
	int r;

	if (!link)
		return -NLE_NOMEM;
	rtnl_link_set_name(link, req->name);
	if (req->mtu > 0)
		rtnl_link_set_mtu(link, req->mtu);
	if (req->master > 0)
		rtnl_link_set_master(link, req->master);
	if (req->up)
		rtnl_link_set_flags(link, IFF_UP);
	peer = rtnl_link_veth_get_peer(link);
	veth_peer_fill(peer, req);
	rtnl_link_put(peer);
	r = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, ret);
	rtnl_link_put(link);
	return r;
}

/* Hairpin mode on a bridge port lets the bridge send a frame back out of the port it came in
 * on. A container reaching its own published port through a host address needs it: with
 * br_netfilter, the DNAT'd packet is bridged ("bridged DNAT") back to the port it came from. The
 * kernel applies neither IFLA_PROTINFO nor bridge-port slave data in the RTM_NEWLINK that
 * creates a link (only IFLA_MASTER), so the port's mode goes in the next message, the one that
 * sets the host end up: IFLA_LINKINFO { IFLA_INFO_SLAVE_DATA { IFLA_BRPORT_MODE } }, like
 * `ip link set NAME up type bridge_slave hairpin on`. */
static int port_up_msg(const char *name, bool hairpin, struct nl_msg **ret)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nl_msg *msg = link_msg_new(RTM_NEWLINK, 0, &ifi, name);
	struct nlattr *info, *data;

	if (!msg)
		return -ENOMEM;
	if (hairpin) {
		info = nla_nest_start(msg, IFLA_LINKINFO);
		if (!info || nla_put_string(msg, IFLA_INFO_SLAVE_KIND, "bridge") < 0)
			goto nomem;
		data = nla_nest_start(msg, IFLA_INFO_SLAVE_DATA);
		if (!data || nla_put_u8(msg, IFLA_BRPORT_MODE, 1) < 0)
			goto nomem;
		nla_nest_end(msg, data);
		nla_nest_end(msg, info);
	}
	*ret = msg;
	return 0;
nomem:
	nlmsg_free(msg);
	return -ENOMEM;
}

/* Set the host end up, in hairpin mode when it is a bridge port (one acknowledged message). */
static int veth_host_up(struct nlx *nl, const char *name, bool hairpin, struct berr *err)
{
	struct nl_msg *msg = NULL;
	int r = port_up_msg(name, hairpin, &msg);

	if (r < 0)
		return berr_set(err, r, "setting link %s up: out of memory", name);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0)
		return nlx_fail(nl, r, err, "setting link %s up%s", name,
				hairpin ? " in hairpin mode" : "");
	return 0;
}

/* A host end that is only a bridge port gets no IPv6 (no link-local address, hence no DAD,
 * MLD or per-port route churn on the host as endpoints come and go) before it goes up. The
 * sysctl is of nl's namespace (nlx_conf6_dir). */
static int veth_port_only(struct nlx *nl, const char *name, bool hairpin, struct berr *err)
{
	_cleanup_free_ char *key = xasprintf("%s/disable_ipv6", name);
	int r = nlx_conf6_dir(nl, err);

	if (r >= 0)
		r = sysctl_write_at(r, key, "1", err);

	if (r < 0 && r != -ENOENT)
		return r;
	return veth_host_up(nl, name, hairpin, err);
}

/* The master's ifindex (> 0) and whether it is a bridge; -errno when missing or unreadable. */
static int veth_master(struct nlx *nl, const char *master, const char *what, bool *ret_bridge,
		       struct berr *err)
{
	char kind[KIND_LEN] = "";
	int r = nlx_link_query(nl, master, kind, NULL, err);

	if (r < 0)
		return berr_prefix(err, "%s", what);
	if (r == 0)
		return berr_set(err, -ENODEV, "%s: bridge %s does not exist", what, master);
	*ret_bridge = !strcmp(kind, "bridge");
	return r;
}

int nlx_veth_create(struct nlx *nl, const char *name, const char *master, int peer_netns_fd,
		    const char *peer_name, const uint8_t peer_mac[6], int mtu, unsigned flags,
		    struct berr *err)
{
	struct veth_req req = {
		.name = name, .peer_netns_fd = peer_netns_fd, .peer_name = peer_name,
		.peer_mac = peer_mac, .mtu = mtu,
	};
	char what[64 + 2 * IFNAME_LEN];
	struct nl_msg *msg = NULL;
	bool hairpin = false;
	int r;

	snprintf(what, sizeof(what), "creating veth %s -> %s", name, peer_name);
	if (master) {
		req.master = veth_master(nl, master, what, &hairpin, err);
		if (req.master < 0)
			return req.master;
	}
	/* Without hairpin or port-only work to do, the host end goes up in the creating request. */
	req.up = !(flags & NLX_VETH_PORT_ONLY) && !hairpin;
	r = veth_msg(&req, &msg);
	if (r < 0)
		return berr_set(err, nlx_nle_errno(r), "%s: %s", what, nl_geterror(r));
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r == -EEXIST && link_doomed_clear(nl, name, NULL) > 0) {
		r = veth_msg(&req, &msg);
		r = r < 0 ? nlx_nle_errno(r) : nlx_talk(nl, msg, NULL, NULL);
	}
	if (r == -EEXIST)
		return link_reuse(nl, name, "veth", what, err);
	if (r < 0)
		return nlx_fail(nl, r, err, "%s", what);
	if (flags & NLX_VETH_PORT_ONLY)
		return veth_port_only(nl, name, hairpin, err);
	return hairpin ? veth_host_up(nl, name, true, err) : 0;
}

/* ---- deferred deletion ---- */

int nlx_link_doom(struct nlx *nl, const char *name, struct berr *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_flags = 0, .ifi_change = IFF_UP };
	struct nl_msg *msg = link_msg_new(RTM_NEWLINK, 0, &ifi, name);

	if (!msg || nla_put_u32(msg, IFLA_MASTER, 0) < 0 ||
	    nla_put_u32(msg, IFLA_GROUP, NLX_GROUP_DOOMED) < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "retiring link %s: out of memory", name);
	}
	return talk_gone_ok(nl, msg, "retiring link %s", name, err);
}

int nlx_link_reap(struct nlx *nl, struct berr *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELLINK, 0);

	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_GROUP, NLX_GROUP_DOOMED) < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "deleting retired links: out of memory");
	}
	return talk_gone_ok(nl, msg, "deleting %s links", "retired", err);   /* none: -ENODEV */
}

struct link_list {
	const char *prefix;
	char (*names)[IFNAME_LEN];
	size_t n, cap;
};

static int link_list_cb(struct nl_msg *msg, void *arg)
{
	struct link_list *l = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	const char *name;

	if (hdr->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(hdr, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME])
		return NL_SKIP;
	name = nla_data(tb[IFLA_IFNAME]);
	if (strnlen(name, nla_len(tb[IFLA_IFNAME])) >= IFNAME_LEN ||
	    strncmp(name, l->prefix, strlen(l->prefix)) != 0)
		return NL_OK;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->names = xrealloc(l->names, l->cap * sizeof(*l->names));
	}
	strscpy(l->names[l->n++], name, IFNAME_LEN);
	return NL_OK;
}

static int link_dump(struct nlx *nl, struct link_list *l)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP);

	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return nlx_talk(nl, msg, link_list_cb, l);
}

int nlx_link_list_prefix(struct nlx *nl, const char *prefix, char (**ret)[IFNAME_LEN],
			 size_t *ret_n, struct berr *err)
{
	struct link_list l = { .prefix = prefix ? prefix : "" };
	int r, tries = 0;

	do {
		l.n = 0;
		r = link_dump(nl, &l);
	} while (r == -EINTR && ++tries < 5);
	if (r < 0) {
		free(l.names);
		return nlx_fail(nl, r, err, "listing links");
	}
	*ret = l.names;
	*ret_n = l.n;
	return 0;
}
