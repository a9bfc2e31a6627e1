/* SPDX-License-Identifier: Apache-2.0 */
/* The bridge driver: one Linux bridge per network holding the gateway addresses, one veth per
 * endpoint whose container end is created directly inside the container's namespace. */
#include <limits.h>
#include <net/if.h>

#include "common/cidr.h"
#include "common/names.h"
#include "common/util.h"
#include "drivers/common.h"
#include "netlink/netlink.h"

#define OPT_BRIDGE_NAME "com.docker.network.bridge.name"
#define OPT_MTU "com.docker.network.driver.mtu"

/* Generated bridge names: "berth" + 10 hex of the network ID (15 characters). */
static void bridge_default_name(const struct bnetwork *n, char ret[IFNAME_LEN])
{
	snprintf(ret, IFNAME_LEN, "berth%.10s", n->id);
}

static int bridge_validate(struct drv_ctx *ctx, struct bnetwork *n, struct berr *err)
{
	const char *name = drv_opt(n, OPT_BRIDGE_NAME);
	const char *mtu = drv_opt(n, OPT_MTU);
	int r;

	if (name) {
		r = ifname_validate(name, err);
		if (r < 0)
			return berr_prefix(err, "invalid %s", OPT_BRIDGE_NAME);
		strscpy(n->ifname, name, sizeof(n->ifname));
	} else {
		bridge_default_name(n, n->ifname);
	}
	if (mtu) {
		r = drv_opt_mtu(OPT_MTU, mtu, &n->mtu, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The gateway of s as an interface address (false: s has none). */
static bool gateway_cidr(const struct bsubnet *s, struct cidr *ret)
{
	ret->addr = s->gateway;
	ret->prefix = s->subnet.prefix;
	return s->gateway.family != 0;
}

static int gateways_add(struct nlx *nl, const struct bnetwork *n, struct berr *err)
{
	for (int i = 0; i < n->n_subnets; i++) {
		struct cidr a;
		int r;

		if (!gateway_cidr(&n->subnets[i], &a))
			continue;
		r = nlx_addr_add(nl, n->ifname, &a, true, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* On a bridge berth did not create: only the gateway addresses berth added. */
static int gateways_del(struct nlx *nl, const struct bnetwork *n, struct berr *err)
{
	for (int i = 0; i < n->n_subnets; i++) {
		struct cidr a;
		int r;

		if (!gateway_cidr(&n->subnets[i], &a) || n->subnets[i].gateway_foreign)
			continue;
		r = nlx_addr_del(nl, n->ifname, &a, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* As in Docker, a bridge that exists before its network (com.docker.network.bridge.name naming
 * the user's bridge) is used but never deleted; neither are the gateway addresses it holds. */
static int bridge_host_probe(struct drv_ctx *ctx, struct bnetwork *n, struct berr *err)
{
	struct nlx_link_state st;
	int r = nlx_link_state_get(ctx->host_nl, n->ifname, &st, err);

	/* berth's own bridge of a removed network, retired, not reaped yet: not the user's */
	if (r > 0 && st.group == NLX_GROUP_DOOMED) {
		r = nlx_link_delete(ctx->host_nl, n->ifname, err);
		if (r >= 0)
			r = 0;
	}
	if (r < 0)
		return r;
	if (r > 0 && strcmp(st.kind, "bridge") != 0)
		return berr_set(err, -EEXIST, "bridge %s: an interface of that name exists and is not a "
				"bridge (" OPT_BRIDGE_NAME ")", n->ifname);
	n->ifname_foreign = r > 0;
	for (int i = 0; i < n->n_subnets; i++) {
		struct bsubnet *s = &n->subnets[i];
		struct cidr a;

		r = 0;
		if (n->ifname_foreign && gateway_cidr(s, &a))
			r = nlx_addr_has(ctx->host_nl, n->ifname, &a, err);
		if (r < 0)
			return r;
		s->gateway_foreign = r > 0;
	}
	return 0;
}

static int forwarding_enable(const struct bnetwork *n, struct berr *err)
{
	int r = sysctl_write("net/ipv4/ip_forward", "1", err);

	if (r < 0)
		return r;
	if (!n->ipv6)
		return 0;
	return sysctl_write("net/ipv6/conf/all/forwarding", "1", err);
}

static int bridge_network_create(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err)
{
	int r;

	r = nlx_bridge_create(ctx->host_nl, n->ifname, n->mtu, err);
	if (r < 0)
		return r;
	if (n->ipv6) {
		/* The bridge holds a static gateway: it must neither autoconfigure nor do DAD. DAD
		 * of its link-local address (1-2 s after the first port comes up) would also stop
		 * the host from soliciting its containers' addresses meanwhile: neighbour
		 * solicitations for forwarded packets need a valid link-local source. */
		static const char *const off[] = { "accept_ra", "accept_dad" };

		for (size_t i = 0; i < ARRAY_SIZE(off); i++) {
			_cleanup_free_ char *key = xasprintf("net/ipv6/conf/%s/%s", n->ifname, off[i]);

			r = sysctl_write(key, "0", err);
			if (r < 0)
				return r;
		}
	}
	r = gateways_add(ctx->host_nl, n, err);
	if (r < 0)
		return r;
	return forwarding_enable(n, err);
}

/* The bridge is retired, not deleted: its deletion costs the kernel ~40 ms of RCU grace periods,
 * which the manager's reaper pays in the background (a crash before it is repaired at the next
 * start; a new bridge of the same name deletes the retired one first). Its gateway addresses go
 * at once, so that the subnet is free for a new network right away. */
static int bridge_network_delete(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err)
{
	int r = gateways_del(ctx->host_nl, n, err);

	if (r < 0 || n->ifname_foreign)
		return r;
	return nlx_link_doom(ctx->host_nl, n->ifname, err);
}

static int bridge_join_detached(struct drv_ctx *ctx, const struct bnetwork *n,
				const struct bendpoint *ep, const char *peer, struct berr *err)
{
	uint8_t mac[6];
	int r;

	r = mac_parse(ep->mac, mac, err);
	if (r >= 0)
		r = nlx_veth_create(ctx->host_nl, ep->host_ifname, n->ifname, ctx->host_netns_fd, peer,
				    mac, n->mtu, NLX_VETH_PORT_ONLY, err);
	return r;
}

/* Extra bridge idx: a bridge that only switches, and a veth pair between it and the network's
 * bridge (the trunk: a hairpin port there, like a container's, see netlink/link.c), both ends
 * suppressing neighbour requests. */
static int bridge_spill_add(struct drv_ctx *ctx, const struct bnetwork *n, int idx,
			    struct berr *err)
{
	char br[IFNAME_LEN], trunk[IFNAME_LEN], up[IFNAME_LEN];
	int r;

	ifname_spill_bridge(n->id, idx, br);
	ifname_spill_trunk(n->id, idx, trunk);
	ifname_spill_uplink(n->id, idx, up);
	r = nlx_bridge_create_l2(ctx->host_nl, br, n->mtu, err);
	crash_point("spill-add:after-bridge");
	if (r >= 0)
		r = nlx_veth_create(ctx->host_nl, trunk, n->ifname, -1, up, NULL, n->mtu,
				    NLX_VETH_PORT_ONLY, err);
	if (r >= 0)
		r = nlx_port_attach(ctx->host_nl, up, br, err);
	/* ARP requests for the addresses behind a trunk are answered by the bridge in front of
	 * it instead of crossing it (the manager keeps the neighbour and forwarding entries) */
	if (r >= 0)
		r = nlx_port_neigh_suppress(ctx->host_nl, trunk, err);
	if (r >= 0)
		r = nlx_port_neigh_suppress(ctx->host_nl, up, err);
	if (r < 0)
		return berr_prefix(err, "adding bridge %s to network %s", br, n->name);
	return 0;
}

static int bridge_spill_del(struct drv_ctx *ctx, const struct bnetwork *n, int idx,
			    struct berr *err)
{
	char br[IFNAME_LEN], trunk[IFNAME_LEN];
	int r;

	ifname_spill_bridge(n->id, idx, br);
	ifname_spill_trunk(n->id, idx, trunk);
	r = nlx_link_delete(ctx->host_nl, trunk, err);   /* its peer goes with it */
	crash_point("spill-del:after-trunk");
	if (r >= 0)
		r = nlx_link_delete(ctx->host_nl, br, err);
	return r;
}

static int bridge_restore(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err)
{
	return bridge_network_create(ctx, n, err);
}

const struct driver_ops bridge_driver = {
	.name = "bridge",
	.host_end = true,
	.mac_from_ip = true,
	.host_ifname_prefix = "berth",   /* generated bridge names (custom names are never swept) */
	.validate = bridge_validate,
	.host_probe = bridge_host_probe,
	.network_create = bridge_network_create,
	.network_delete = bridge_network_delete,
	.join = drv_veth_join,
	.join_detached = bridge_join_detached,
	.leave = drv_veth_leave,
	.retire = drv_veth_retire,
	.endpoint_check = drv_veth_check,
	.restore = bridge_restore,
	.spill_add = bridge_spill_add,
	.spill_del = bridge_spill_del,
};
