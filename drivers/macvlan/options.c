/* SPDX-License-Identifier: Apache-2.0 */
/* macvlan options: parsing, the checks of the parent interface before any side effect, and the
 * reservation of the host shim's address in every subnet. */
#include <limits.h>
#include <net/if.h>

#include "common/cidr.h"
#include "common/util.h"
#include "drivers/macvlan/macvlan.h"
#include "ipam/ipam.h"
#include "netlink/netlink.h"

#define SHIM_TRIES 64

static int mode_parse(const char *s, const char **ret, struct berr *err)
{
	static const char *const modes[] = { "bridge", "private", "vepa", "passthru" };

	if (!s || !*s)
		s = "bridge";
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(modes[i], s)) {
			*ret = modes[i];
			return 0;
		}
	return berr_set(err, -EINVAL, "invalid %s \"%s\": must be bridge, private, vepa or passthru",
			MV_OPT_MODE, s);
}

/* "IFACE.VID" with VID 1..4094: the base name and the VLAN ID; otherwise vid stays 0. */
static void vlan_split(const char *parent, char base[IFNAME_LEN], int *ret_vid)
{
	const char *dot = strrchr(parent, '.');
	char *end;
	long v;

	*ret_vid = 0;
	if (!dot || dot == parent || !dot[1] || (size_t)(dot - parent) >= IFNAME_LEN)
		return;
	errno = 0;
	v = strtol(dot + 1, &end, 10);
	if (errno || *end || dot[1] == '-' || dot[1] == '+' || v < 1 || v > 4094)
		return;
	memcpy(base, parent, dot - parent);
	base[dot - parent] = '\0';
	*ret_vid = (int)v;
}

int mv_conf_load(const struct bnetwork *n, struct mv_conf *ret, struct berr *err)
{
	const char *mtu = drv_opt(n, MV_OPT_MTU);
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->parent = drv_opt(n, MV_OPT_PARENT);
	if (!ret->parent || !*ret->parent)
		return berr_set(err, -EINVAL, "the macvlan driver needs a parent interface "
				"(-o %s=IFACE)", MV_OPT_PARENT);
	r = ifname_validate(ret->parent, err);
	if (r < 0)
		return berr_prefix(err, "invalid %s", MV_OPT_PARENT);
	vlan_split(ret->parent, ret->base, &ret->vid);
	r = mode_parse(drv_opt(n, MV_OPT_MODE), &ret->mode, err);
	if (r >= 0)
		r = drv_opt_bool(MV_OPT_SHIM, drv_opt(n, MV_OPT_SHIM), &ret->shim, err);
	if (r >= 0)
		r = drv_opt_bool(MV_OPT_VLAN_CREATED, drv_opt(n, MV_OPT_VLAN_CREATED),
			       &ret->vlan_created, err);
	if (r >= 0 && mtu)
		r = drv_opt_mtu(MV_OPT_MTU, mtu, &ret->mtu, err);
	return r;
}

/* ---- the parent ---- */

static int parent_usable(const char *name, const struct nlx_link_state *st, int mtu,
			 struct berr *err)
{
	if (st->flags & IFF_LOOPBACK)
		return berr_set(err, -EINVAL, "the loopback interface %s cannot be a macvlan parent",
				name);
	if (!(st->flags & IFF_UP))
		return berr_set(err, -ENETDOWN, "parent interface %s is down (bring it up first: "
				"ip link set %s up)", name, name);
	if (mtu > st->mtu)
		return berr_set(err, -EINVAL, "%s %d is larger than the MTU of parent interface %s "
				"(%d)", MV_OPT_MTU, mtu, name, st->mtu);
	return 0;
}

/* The parent exists and is up; or it is IFACE.VID to create on an existing IFACE that is up. */
static int parent_check(struct drv_ctx *ctx, struct mv_conf *c, struct berr *err)
{
	struct nlx_link_state st;
	int r;

	r = nlx_link_state_get(ctx->host_nl, c->parent, &st, err);
	if (r > 0)
		return parent_usable(c->parent, &st, c->mtu, err);
	if (r < 0)
		return r;
	if (!c->vid)
		return berr_set(err, -ENODEV, "parent interface %s does not exist", c->parent);
	r = nlx_link_state_get(ctx->host_nl, c->base, &st, err);
	if (r < 0)
		return r;
	if (r == 0)
		return berr_set(err, -ENODEV, "parent interface %s does not exist, nor %s to create "
				"it on as an 802.1q VLAN sub-interface", c->parent, c->base);
	c->vlan_created = true;
	return parent_usable(c->base, &st, c->mtu, err);
}

/* ---- the host shim's addresses ---- */

void mv_shim_name(const struct bnetwork *n, char ret[IFNAME_LEN])
{
	snprintf(ret, IFNAME_LEN, "bmv%.10s", n->id);
}

bool mv_shim_addr(const struct bsubnet *s, struct ipaddr *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->aux, MV_SHIM_AUX);

	return cJSON_IsString(v) && ip_parse(v->valuestring, ret, NULL) >= 0 &&
	       cidr_contains(&s->subnet, ret);
}

static bool aux_holds(const cJSON *aux, const struct ipaddr *a)
{
	const cJSON *it;
	struct ipaddr b;

	cJSON_ArrayForEach(it, aux)
		if (cJSON_IsString(it) && ip_parse(it->valuestring, &b, NULL) >= 0 &&
		    ip_equal(a, &b))
			return true;
	return false;
}

/* The highest usable address of s that is neither its gateway nor another aux address. */
static int shim_pick(const struct bsubnet *s, struct ipaddr *ret, struct berr *err)
{
	struct ipaddr gw = s->gateway, net;
	unsigned __int128 v;
	char buf[CIDR_STRLEN];

	if (!gw.family)
		ipam_default_gateway(&s->subnet, &gw);
	cidr_first(&s->subnet, &net);
	cidr_last(&s->subnet, ret);
	v = ip_to_u128(ret) - (s->subnet.addr.family == AF_INET);
	for (int i = 0; i < SHIM_TRIES && v > ip_to_u128(&net); i++, v--) {
		ip_from_u128(s->subnet.addr.family, v, ret);
		if (!ip_equal(ret, &gw) && !aux_holds(s->aux, ret))
			return 0;
	}
	return berr_set(err, -ENOSPC, "no free address for the host shim in subnet %s",
			cidr_fmt(&s->subnet, buf));
}

/* Each subnet gets aux MV_SHIM_AUX (kept when the user chose it); the core reserves it. */
static int shim_reserve(struct bnetwork *n, struct berr *err)
{
	for (int i = 0; i < n->n_subnets; i++) {
		struct bsubnet *s = &n->subnets[i];
		char buf[IP_STRLEN];
		struct ipaddr a;
		int r;

		if (!s->aux)
			s->aux = cJSON_CreateObject();
		if (cJSON_GetObjectItemCaseSensitive(s->aux, MV_SHIM_AUX))
			continue;
		r = shim_pick(s, &a, err);
		if (r < 0)
			return r;
		cJSON_AddStringToObject(s->aux, MV_SHIM_AUX, ip_fmt(&a, buf));
	}
	return 0;
}

int mv_validate(struct drv_ctx *ctx, struct bnetwork *n, struct berr *err)
{
	struct mv_conf c;
	int r;

	if (drv_opt(n, MV_OPT_VLAN_CREATED))
		return berr_set(err, -EINVAL, "option %s is reserved for berth", MV_OPT_VLAN_CREATED);
	r = mv_conf_load(n, &c, err);
	if (r < 0)
		return r;
	if (c.shim && strcmp(c.mode, "bridge") != 0)
		return berr_set(err, -EINVAL, "%s needs %s=bridge: the host reaches the containers "
				"through the macvlan bridge of the parent", MV_OPT_SHIM, MV_OPT_MODE);
	r = parent_check(ctx, &c, err);
	if (r < 0)
		return r;
	/* Inspect then shows the effective mode. */
	if (!drv_opt(n, MV_OPT_MODE))
		cJSON_AddStringToObject(n->options, MV_OPT_MODE, c.mode);
	if (c.vlan_created)
		cJSON_AddStringToObject(n->options, MV_OPT_VLAN_CREATED, "true");
	strscpy(n->ifname, c.parent, sizeof(n->ifname));
	n->mtu = c.mtu;
	return c.shim ? shim_reserve(n, err) : 0;
}
