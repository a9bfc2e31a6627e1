/* SPDX-License-Identifier: Apache-2.0 */
/* VXLAN devices for overlay networks: static forwarding (learning off), ARP and ND answered
 * locally (proxy), IPv4 or IPv6 underlay; the underlay interface of a VTEP address and the MTU
 * that fits inside it. */
#include "internal.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "common/util.h"

#define VXLAN_VNI_MAX 0xffffffu
#define VXLAN_OVERHEAD4 50      /* outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8 */
#define VXLAN_OVERHEAD6 70      /* outer Ethernet 14 + IPv6 40 + UDP 8 + VXLAN 8 */
#define VXLAN_MTU_MIN 68

int nlx_vxlan_mtu(int underlay_mtu, int family)
{
	return underlay_mtu - (family == AF_INET6 ? VXLAN_OVERHEAD6 : VXLAN_OVERHEAD4);
}

/* ---- what an existing device is ---- */

/* The settings nlx_vxlan_create() controls, as the kernel reports them. */
struct vxlan_seen {
	int ifindex;
	char kind[32];
	uint32_t vni;
	uint16_t port;
	struct ipaddr local;
	int underlay;
	bool learning, proxy, l2miss, l3miss;
};

static bool attr_u8(struct nlattr *a)
{
	return a && nla_get_u8(a) != 0;
}

static void vxlan_seen_data(struct vxlan_seen *s, struct nlattr *data)
{
	struct nlattr *tb[IFLA_VXLAN_MAX + 1];

	if (nla_parse_nested(tb, IFLA_VXLAN_MAX, data, NULL) < 0)
		return;
	if (tb[IFLA_VXLAN_ID])
		s->vni = nla_get_u32(tb[IFLA_VXLAN_ID]);
	if (tb[IFLA_VXLAN_PORT])
		s->port = ntohs(nla_get_u16(tb[IFLA_VXLAN_PORT]));
	if (tb[IFLA_VXLAN_LINK])
		s->underlay = (int)nla_get_u32(tb[IFLA_VXLAN_LINK]);
	if (tb[IFLA_VXLAN_LOCAL] && nla_len(tb[IFLA_VXLAN_LOCAL]) == 4) {
		s->local.family = AF_INET;
		memcpy(s->local.b, nla_data(tb[IFLA_VXLAN_LOCAL]), 4);
	} else if (tb[IFLA_VXLAN_LOCAL6] && nla_len(tb[IFLA_VXLAN_LOCAL6]) == 16) {
		s->local.family = AF_INET6;
		memcpy(s->local.b, nla_data(tb[IFLA_VXLAN_LOCAL6]), 16);
	}
	s->learning = attr_u8(tb[IFLA_VXLAN_LEARNING]);
	s->proxy = attr_u8(tb[IFLA_VXLAN_PROXY]);
	s->l2miss = attr_u8(tb[IFLA_VXLAN_L2MISS]);
	s->l3miss = attr_u8(tb[IFLA_VXLAN_L3MISS]);
}

static int vxlan_seen_cb(struct nl_msg *msg, void *arg)
{
	struct vxlan_seen *s = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	struct ifinfomsg *ifi;

	if (hdr->nlmsg_type != RTM_NEWLINK || !nlmsg_valid_hdr(hdr, sizeof(*ifi)) ||
	    nlmsg_parse(hdr, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NL_SKIP;
	ifi = nlmsg_data(hdr);
	s->ifindex = ifi->ifi_index;
	if (!tb[IFLA_LINKINFO] ||
	    nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) < 0)
		return NL_OK;
	if (info[IFLA_INFO_KIND])
		nla_strlcpy(s->kind, info[IFLA_INFO_KIND], sizeof(s->kind));
	if (info[IFLA_INFO_DATA] && strcmp(s->kind, "vxlan") == 0)
		vxlan_seen_data(s, info[IFLA_INFO_DATA]);
	return NL_OK;
}

/* A link request: by name (name != NULL) or by index. */
static struct nl_msg *vxlan_link_msg(int type, int flags, unsigned up, int ifindex,
				     const char *name)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = up,
		.ifi_change = up,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (name && nla_put_string(msg, IFLA_IFNAME, name) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* ifindex > 0 with *ret filled, 0 when no link has that name, -errno (nl->kmsg kept). */
static int vxlan_seen_get(struct nlx *nl, const char *name, struct vxlan_seen *ret)
{
	struct nl_msg *msg = vxlan_link_msg(RTM_GETLINK, 0, 0, 0, name);
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!msg || nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = nlx_talk(nl, msg, vxlan_seen_cb, ret);
	if (r == -ENODEV)
		return 0;
	return r < 0 ? r : ret->ifindex;
}

/* "" when s is what cfg asks for, else the first difference, for a message. */
static void vxlan_diff(const struct vxlan_seen *s, const struct nlx_vxlan *cfg, uint16_t port,
		       char *buf, size_t size)
{
	char a[IP_STRLEN], b[IP_STRLEN];

	buf[0] = '\0';
	if (strcmp(s->kind, "vxlan") != 0)
		snprintf(buf, size, "it is %s%s, not a VXLAN device", s->kind[0] ? "a " : "",
			 s->kind[0] ? s->kind : "a device without a kind");
	else if (s->vni != cfg->vni)
		snprintf(buf, size, "its VNI is %u, not %u", s->vni, cfg->vni);
	else if (s->port != port)
		snprintf(buf, size, "its UDP port is %u, not %u", s->port, port);
	else if (!ip_equal(&s->local, &cfg->local))
		snprintf(buf, size, "its local address is %s, not %s",
			 s->local.family ? ip_fmt(&s->local, a) : "none",
			 cfg->local.family ? ip_fmt(&cfg->local, b) : "none");
	else if (s->underlay != cfg->underlay)
		snprintf(buf, size, "its underlay is ifindex %d, not %d", s->underlay,
			 cfg->underlay);
	else if (s->learning || !s->proxy)
		snprintf(buf, size, "it has learning %s and proxy %s (wanted off and on)",
			 s->learning ? "on" : "off", s->proxy ? "on" : "off");
	else if (s->l2miss != !!(cfg->flags & NLX_VXLAN_L2MISS) ||
		 s->l3miss != !!(cfg->flags & NLX_VXLAN_L3MISS))
		snprintf(buf, size, "its l2miss/l3miss are %s/%s", s->l2miss ? "on" : "off",
			 s->l3miss ? "on" : "off");
}

/* ---- create ---- */

static int vxlan_local_put(struct nl_msg *msg, const struct ipaddr *local)
{
	if (local->family == AF_INET)
		return nla_put(msg, IFLA_VXLAN_LOCAL, 4, local->b);
	if (local->family == AF_INET6)
		return nla_put(msg, IFLA_VXLAN_LOCAL6, 16, local->b);
	return 0;
}

/* IFLA_LINKINFO { kind vxlan, IFLA_INFO_DATA { VNI, port, local, underlay, flags } }. */
static int vxlan_info_put(struct nl_msg *msg, const struct nlx_vxlan *cfg, uint16_t port)
{
	struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO), *data;

	if (!info || nla_put_string(msg, IFLA_INFO_KIND, "vxlan") < 0)
		return -ENOMEM;
	data = nla_nest_start(msg, IFLA_INFO_DATA);
	if (!data || nla_put_u32(msg, IFLA_VXLAN_ID, cfg->vni) < 0 ||
	    nla_put_u16(msg, IFLA_VXLAN_PORT, htons(port)) < 0 ||
	    nla_put_u8(msg, IFLA_VXLAN_LEARNING, 0) < 0 ||
	    nla_put_u8(msg, IFLA_VXLAN_PROXY, 1) < 0 ||
	    nla_put_u8(msg, IFLA_VXLAN_L2MISS, !!(cfg->flags & NLX_VXLAN_L2MISS)) < 0 ||
	    nla_put_u8(msg, IFLA_VXLAN_L3MISS, !!(cfg->flags & NLX_VXLAN_L3MISS)) < 0 ||
	    vxlan_local_put(msg, &cfg->local) < 0 ||
	    (cfg->underlay > 0 && nla_put_u32(msg, IFLA_VXLAN_LINK, cfg->underlay) < 0))
		return -ENOMEM;
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return 0;
}

/* Created down, attached to its master: IFLA_MASTER is applied at creation, unlike IFLA_AF_SPEC
 * (and a link created up would get a link-local address before anything could stop it). */
static struct nl_msg *vxlan_create_msg(const struct nlx_vxlan *cfg, uint16_t port, int master)
{
	struct nl_msg *msg = vxlan_link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0,
					    cfg->name);
	int r;

	if (!msg)
		return NULL;
	r = vxlan_info_put(msg, cfg, port);
	if (r >= 0 && cfg->mtu > 0)
		r = nla_put_u32(msg, IFLA_MTU, (uint32_t)cfg->mtu);
	if (r >= 0 && master > 0)
		r = nla_put_u32(msg, IFLA_MASTER, (uint32_t)master);
	if (r < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* One message: attached to master (if any), the MTU (if set), up. */
static int vxlan_converge(struct nlx *nl, const struct nlx_vxlan *cfg, int ifindex, int master,
			  struct berr *err)
{
	struct nl_msg *msg = vxlan_link_msg(RTM_NEWLINK, 0, IFF_UP, ifindex, NULL);
	int r = msg ? 0 : -ENOMEM;

	if (r >= 0 && master > 0)
		r = nla_put_u32(msg, IFLA_MASTER, (uint32_t)master);
	if (r >= 0 && cfg->mtu > 0)
		r = nla_put_u32(msg, IFLA_MTU, (uint32_t)cfg->mtu);
	if (r < 0) {
		nlmsg_free(msg);
		return berr_set(err, -ENOMEM, "setting up VXLAN device %s: out of memory",
				cfg->name);
	}
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0)
		return nlx_fail(nl, r, err, "setting up VXLAN device %s", cfg->name);
	return 0;
}

/* Creation failed with EEXIST: fine when cfg->name is that very VXLAN device. When no link has
 * the name, another device holds the VNI and port: the kernel's own error is reported. */
static int vxlan_reuse(struct nlx *nl, const struct nlx_vxlan *cfg, uint16_t port, int master,
		       struct berr *err)
{
	char kmsg[NLX_KMSG_MAX], diff[160];
	struct vxlan_seen seen;
	int r;

	memcpy(kmsg, nl->kmsg, sizeof(kmsg));
	r = vxlan_seen_get(nl, cfg->name, &seen);
	if (r < 0)
		return nlx_fail(nl, r, err, "creating VXLAN device %s: looking it up", cfg->name);
	if (r == 0) {
		memcpy(nl->kmsg, kmsg, sizeof(kmsg));
		return nlx_fail(nl, -EEXIST, err, "creating VXLAN device %s (VNI %u, port %u)",
				cfg->name, cfg->vni, port);
	}
	vxlan_diff(&seen, cfg, port, diff, sizeof(diff));
	if (diff[0])
		return berr_set(err, -EEXIST, "creating VXLAN device %s: a link of that name "
				"already exists and %s", cfg->name, diff);
	return vxlan_converge(nl, cfg, seen.ifindex, master, err);
}

static int vxlan_check(const struct nlx_vxlan *cfg, struct berr *err)
{
	int r = ifname_validate(cfg->name, err);

	if (r < 0)
		return berr_prefix(err, "creating VXLAN device");
	if (cfg->vni > VXLAN_VNI_MAX)
		return berr_set(err, -EINVAL, "creating VXLAN device %s: VNI %u is out of range "
				"(0..%u)", cfg->name, cfg->vni, VXLAN_VNI_MAX);
	if (cfg->local.family && cfg->local.family != AF_INET && cfg->local.family != AF_INET6)
		return berr_set(err, -EAFNOSUPPORT, "creating VXLAN device %s: the local address "
				"is not IPv4 or IPv6", cfg->name);
	if (cfg->mtu < 0 || (cfg->mtu > 0 && cfg->mtu < VXLAN_MTU_MIN))
		return berr_set(err, -EINVAL, "creating VXLAN device %s: invalid MTU %d",
				cfg->name, cfg->mtu);
	if (cfg->underlay < 0)
		return berr_set(err, -EINVAL, "creating VXLAN device %s: invalid underlay "
				"ifindex %d", cfg->name, cfg->underlay);
	return 0;
}

/* The master's ifindex (> 0), -errno when it is missing or not a bridge. */
static int vxlan_master(struct nlx *nl, const struct nlx_vxlan *cfg, struct berr *err)
{
	char kind[32] = "";
	int r = nlx_link_query(nl, cfg->master, kind, NULL, err);

	if (r < 0)
		return berr_prefix(err, "creating VXLAN device %s", cfg->name);
	if (r == 0)
		return berr_set(err, -ENODEV, "creating VXLAN device %s: bridge %s does not "
				"exist", cfg->name, cfg->master);
	if (strcmp(kind, "bridge") != 0)
		return berr_set(err, -EINVAL, "creating VXLAN device %s: %s is not a bridge",
				cfg->name, cfg->master);
	return r;
}

/* After creation: IPv6 address generation off (the device stays IPv6-enabled: the ND table
 * that proxy answers from needs it), then up. Any failure deletes the new device. */
static int vxlan_finish(struct nlx *nl, const struct nlx_vxlan *cfg, struct berr *err)
{
	struct berr ignored = BERR_INIT;
	int r;

	r = nlx_link_set_ipconf(nl, cfg->name, true, err);
	if (r >= 0)
		r = nlx_link_set_up(nl, cfg->name, true, err);
	if (r < 0) {
		berr_prefix(err, "creating VXLAN device %s", cfg->name);
		(void)nlx_link_delete(nl, cfg->name, &ignored);
	}
	return r;
}

int nlx_vxlan_create(struct nlx *nl, const struct nlx_vxlan *cfg, struct berr *err)
{
	uint16_t port = cfg->port ? cfg->port : NLX_VXLAN_PORT;
	struct nl_msg *msg;
	int master = 0, r;

	r = vxlan_check(cfg, err);
	if (r < 0)
		return r;
	if (cfg->master) {
		master = vxlan_master(nl, cfg, err);
		if (master < 0)
			return master;
	}
	msg = vxlan_create_msg(cfg, port, master);
	if (!msg)
		return berr_set(err, -ENOMEM, "creating VXLAN device %s: out of memory", cfg->name);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r == -EEXIST)
		return vxlan_reuse(nl, cfg, port, master, err);
	if (r < 0)
		return nlx_fail(nl, r, err, "creating VXLAN device %s (VNI %u, port %u)",
				cfg->name, cfg->vni, port);
	return vxlan_finish(nl, cfg, err);
}

/* ---- the underlay of a VTEP address ---- */

struct addr_owner {
	const struct ipaddr *want;
	int ifindex;
};

static int addr_owner_cb(struct nl_msg *msg, void *arg)
{
	struct addr_owner *o = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[IFA_MAX + 1], *a;
	struct ifaddrmsg *ifa;
	int len = o->want->family == AF_INET ? 4 : 16;

	if (hdr->nlmsg_type != RTM_NEWADDR || !nlmsg_valid_hdr(hdr, sizeof(*ifa)) ||
	    nlmsg_parse(hdr, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return NL_SKIP;
	ifa = nlmsg_data(hdr);
	/* IFA_LOCAL is the interface's own address (IFA_ADDRESS may be a point-to-point peer);
	 * IPv6 addresses often come with IFA_ADDRESS only. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (ifa->ifa_family == o->want->family && a && nla_len(a) == len &&
	    memcmp(nla_data(a), o->want->b, len) == 0 && !o->ifindex)
		o->ifindex = (int)ifa->ifa_index;
	return NL_OK;
}

static int link_mtu_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];

	if (hdr->nlmsg_type == RTM_NEWLINK &&
	    nlmsg_parse(hdr, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) == 0 && tb[IFLA_MTU])
		*(int *)arg = (int)nla_get_u32(tb[IFLA_MTU]);
	return NL_OK;
}

static int addr_owner_find(struct nlx *nl, struct addr_owner *o)
{
	struct ifaddrmsg ifa = { .ifa_family = o->want->family };
	struct nl_msg *msg;
	int r, tries = 0;

	do {   /* a dump interrupted by a change (-EINTR) is repeated */
		o->ifindex = 0;
		msg = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
		if (!msg || nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
		r = nlx_talk(nl, msg, addr_owner_cb, o);
	} while (r == -EINTR && ++tries < 5);
	return r;
}

int nlx_vxlan_underlay(struct nlx *nl, const struct ipaddr *local, int *ret_mtu,
		       struct berr *err)
{
	struct addr_owner o = { .want = local };
	char buf[IP_STRLEN];
	struct nl_msg *msg;
	int mtu = 0, r;

	if (local->family != AF_INET && local->family != AF_INET6)
		return berr_set(err, -EAFNOSUPPORT, "finding the underlay interface: the VTEP "
				"address is not IPv4 or IPv6");
	r = addr_owner_find(nl, &o);
	if (r < 0)
		return nlx_fail(nl, r, err, "finding the interface holding %s",
				ip_fmt(local, buf));
	if (o.ifindex == 0 || !ret_mtu)
		return o.ifindex;
	msg = vxlan_link_msg(RTM_GETLINK, 0, 0, o.ifindex, NULL);
	if (!msg)
		return berr_set(err, -ENOMEM, "reading the MTU of ifindex %d: out of memory",
				o.ifindex);
	r = nlx_talk(nl, msg, link_mtu_cb, &mtu);
	if (r < 0)
		return nlx_fail(nl, r, err, "reading the MTU of ifindex %d (holding %s)",
				o.ifindex, ip_fmt(local, buf));
	*ret_mtu = mtu;
	return o.ifindex;
}
