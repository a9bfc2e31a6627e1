/* SPDX-License-Identifier: Apache-2.0 */
/* macvlan links (created directly in their target namespace, on a parent of the socket's
 * namespace), 802.1q sub-interfaces, and a link's state (index, flags, MTU, kind). */
#include "internal.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "common/util.h"

static const struct {
	const char *name;
	uint32_t mode;
} macvlan_modes[] = {
	{ "bridge", MACVLAN_MODE_BRIDGE },
	{ "private", MACVLAN_MODE_PRIVATE },
	{ "vepa", MACVLAN_MODE_VEPA },
	{ "passthru", MACVLAN_MODE_PASSTHRU },
};

static int macvlan_mode_value(const char *name, uint32_t *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(macvlan_modes); i++)
		if (strcmp(macvlan_modes[i].name, name) == 0) {
			*ret = macvlan_modes[i].mode;
			return 0;
		}
	return -EINVAL;
}

/* ---- link state ---- */

static int link_state_cb(struct nl_msg *msg, void *arg)
{
	struct nlx_link_state *st = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	struct ifinfomsg *ifi;

	if (hdr->nlmsg_type != RTM_NEWLINK || !nlmsg_valid_hdr(hdr, sizeof(*ifi)) ||
	    nlmsg_parse(hdr, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NL_SKIP;
	ifi = nlmsg_data(hdr);
	st->ifindex = ifi->ifi_index;
	st->flags = ifi->ifi_flags;
	if (tb[IFLA_MTU])
		st->mtu = (int)nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_GROUP])
		st->group = nla_get_u32(tb[IFLA_GROUP]);
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(st->mac, nla_data(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_LINKINFO] &&
	    nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0 &&
	    info[IFLA_INFO_KIND])
		nla_strlcpy(st->kind, info[IFLA_INFO_KIND], sizeof(st->kind));
	return NL_OK;
}

/* A link request addressed by name (or carrying the new link's name). */
static struct nl_msg *link_req_new(int type, int flags, unsigned ifi_flags, const char *name)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_flags = ifi_flags,
		.ifi_change = ifi_flags,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, name) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int nlx_link_state_get(struct nlx *nl, const char *name, struct nlx_link_state *ret,
		       struct berr *err)
{
	struct nl_msg *msg = link_req_new(RTM_GETLINK, 0, 0, name);
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!msg || nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "looking up link %s: out of memory", name);
	}
	r = nlx_talk(nl, msg, link_state_cb, ret);
	if (r == -ENODEV) {
		memset(ret, 0, sizeof(*ret));
		return 0;
	}
	if (r < 0)
		return nlx_fail(nl, r, err, "looking up link %s", name);
	return ret->ifindex > 0 ? ret->ifindex : 0;
}

/* ---- macvlan ---- */

struct macvlan_req {
	int parent;
	const char *name;
	uint32_t mode;
	int netns_fd;
	const uint8_t *mac;
	int mtu;
};

/* IFLA_LINKINFO { IFLA_INFO_KIND kind, IFLA_INFO_DATA { one attribute } }. */
static int linkinfo_put(struct nl_msg *msg, const char *kind, int attr, const void *data,
			int len)
{
	struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO), *d;

	if (!info || nla_put_string(msg, IFLA_INFO_KIND, kind) < 0)
		return -ENOMEM;
	d = nla_nest_start(msg, IFLA_INFO_DATA);
	if (!d || nla_put(msg, attr, len, data) < 0)
		return -ENOMEM;
	nla_nest_end(msg, d);
	nla_nest_end(msg, info);
	return 0;
}

static struct nl_msg *macvlan_msg(const struct macvlan_req *req)
{
	struct nl_msg *msg = link_req_new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, req->name);
	int r;

	if (!msg)
		return NULL;
	r = nla_put_u32(msg, IFLA_LINK, (uint32_t)req->parent);
	if (r >= 0 && req->mtu > 0)
		r = nla_put_u32(msg, IFLA_MTU, (uint32_t)req->mtu);
	if (r >= 0 && req->mac)
		r = nla_put(msg, IFLA_ADDRESS, 6, req->mac);
	if (r >= 0 && req->netns_fd >= 0)
		r = nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)req->netns_fd);
	if (r >= 0)
		r = linkinfo_put(msg, "macvlan", IFLA_MACVLAN_MODE, &req->mode, sizeof(req->mode));
	if (r < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* EEXIST in nl's own namespace: fine when the link is a macvlan already. */
static int macvlan_reuse(struct nlx *nl, const char *name, struct berr *err)
{
	char kind[32] = "";
	int r = nlx_link_query(nl, name, kind, NULL, err);

	if (r < 0)
		return berr_prefix(err, "creating macvlan %s", name);
	if (r > 0 && strcmp(kind, "macvlan") == 0)
		return 0;
	return berr_set(err, -EEXIST, "creating macvlan %s: a link of that name already exists "
			"and it is not a macvlan", name);
}

int nlx_macvlan_create(struct nlx *nl, int parent_ifindex, const char *name, const char *mode,
		       int netns_fd, const uint8_t mac[6], int mtu, struct berr *err)
{
	struct macvlan_req req = {
		.parent = parent_ifindex, .name = name, .netns_fd = netns_fd, .mac = mac,
		.mtu = mtu,
	};
	struct nl_msg *msg;
	int r;

	if (macvlan_mode_value(mode, &req.mode) < 0)
		return berr_set(err, -EINVAL, "creating macvlan %s: unknown mode \"%s\"", name, mode);
	msg = macvlan_msg(&req);
	if (!msg)
		return berr_set(err, -ENOMEM, "creating macvlan %s: out of memory", name);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r == -EEXIST && netns_fd < 0)
		return macvlan_reuse(nl, name, err);
	if (r < 0)
		return nlx_fail(nl, r, err, "creating macvlan %s", name);
	return 0;
}

/* ---- 802.1q ---- */

static struct nl_msg *vlan_msg(int parent, const char *name, int vid)
{
	struct nl_msg *msg = link_req_new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, IFF_UP, name);
	uint16_t id = (uint16_t)vid;

	if (!msg)
		return NULL;
	if (nla_put_u32(msg, IFLA_LINK, (uint32_t)parent) < 0 ||
	    linkinfo_put(msg, "vlan", IFLA_VLAN_ID, &id, sizeof(id)) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int vlan_reuse(struct nlx *nl, const char *name, struct berr *err)
{
	char kind[32] = "";
	int r = nlx_link_query(nl, name, kind, NULL, err);

	if (r < 0)
		return berr_prefix(err, "creating VLAN interface %s", name);
	if (r > 0 && strcmp(kind, "vlan") == 0)
		return nlx_link_set_up(nl, name, true, err);
	return berr_set(err, -EEXIST, "creating VLAN interface %s: a link of that name already "
			"exists and it is not a VLAN interface", name);
}

int nlx_vlan_create(struct nlx *nl, const char *parent, const char *name, int vid,
		    struct berr *err)
{
	struct nl_msg *msg;
	int idx, r;

	idx = nlx_link_index(nl, parent, err);
	if (idx < 0)
		return berr_prefix(err, "creating VLAN interface %s", name);
	if (idx == 0)
		return berr_set(err, -ENODEV, "cannot create VLAN interface %s: parent %s does not "
				"exist", name, parent);
	msg = vlan_msg(idx, name, vid);
	if (!msg)
		return berr_set(err, -ENOMEM, "creating VLAN interface %s: out of memory", name);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r == -EEXIST)
		return vlan_reuse(nl, name, err);
	/* Unknown link kind: the kernel answers EOPNOTSUPP ("Unknown device type"). */
	if (r == -EOPNOTSUPP)
		return berr_set(err, r, "802.1q VLAN sub-interfaces are not supported by this "
				"kernel (module 8021q missing): cannot create %s", name);
	if (r < 0)
		return nlx_fail(nl, r, err, "creating VLAN interface %s", name);
	return 0;
}
