/* SPDX-License-Identifier: Apache-2.0 */
/* The bridge driver: one Linux bridge per network holding the gateway addresses, one veth per
 * endpoint whose container end is created directly inside the container's namespace. */
#include <limits.h>
#include <net/if.h>

#include "common/cidr.h"
#include "common/names.h"
#include "common/util.h"
#include "drivers/driver.h"
#include "netlink/netlink.h"

#define OPT_BRIDGE_NAME "com.docker.network.bridge.name"
#define OPT_MTU "com.docker.network.driver.mtu"

static const char *opt_get(const struct bnetwork *n, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(n->options, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int parse_mtu(const char *s, int *ret, struct berr *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 68 || v > 65535)
		return berr_set(err, -EINVAL, "invalid %s \"%s\": must be an integer from 68 to 65535",
				OPT_MTU, s);
	*ret = (int)v;
	return 0;
}

/* Generated bridge names: "berth" + 10 hex of the network ID (15 characters). */
static void bridge_default_name(const struct bnetwork *n, char ret[IFNAME_LEN])
{
	snprintf(ret, IFNAME_LEN, "berth%.10s", n->id);
}

static int bridge_validate(struct drv_ctx *ctx, struct bnetwork *n, struct berr *err)
{
	const char *name = opt_get(n, OPT_BRIDGE_NAME);
	const char *mtu = opt_get(n, OPT_MTU);
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
		r = parse_mtu(mtu, &n->mtu, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int gateways_add(struct nlx *nl, const struct bnetwork *n, struct berr *err)
{
	for (int i = 0; i < n->n_subnets; i++) {
		const struct bsubnet *s = &n->subnets[i];
		struct cidr a;
		int r;

		if (!s->gateway.family)
			continue;
		a.addr = s->gateway;
		a.prefix = s->subnet.prefix;
		r = nlx_addr_add(nl, n->ifname, &a, true, err);
		if (r < 0)
			return r;
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
		/* The bridge holds a static gateway: it must neither autoconfigure nor do DAD. */
		_cleanup_free_ char *key = xasprintf("net/ipv6/conf/%s/accept_ra", n->ifname);

		r = sysctl_write(key, "0", err);
		if (r < 0)
			return r;
	}
	r = gateways_add(ctx->host_nl, n, err);
	if (r < 0)
		return r;
	return forwarding_enable(n, err);
}

static int bridge_network_delete(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err)
{
	return nlx_link_delete(ctx->host_nl, n->ifname, err);
}

static int sandbox_sysctls(const char *ifname, bool v6, struct berr *err)
{
	_cleanup_free_ char *arp = xasprintf("net/ipv4/conf/%s/arp_notify", ifname);
	int r;

	r = sysctl_write(arp, "1", err);
	if (r < 0 || !v6)
		return r;
	{
		_cleanup_free_ char *ra = xasprintf("net/ipv6/conf/%s/accept_ra", ifname);

		return sysctl_write(ra, "0", err);
	}
}

static const struct ipaddr *gateway_of(const struct bnetwork *n, int family)
{
	for (int i = 0; i < n->n_subnets; i++)
		if (n->subnets[i].subnet.addr.family == family && n->subnets[i].gateway.family)
			return &n->subnets[i].gateway;
	return NULL;
}

static int prefix_of(const struct bnetwork *n, const struct ipaddr *a)
{
	for (int i = 0; i < n->n_subnets; i++)
		if (cidr_contains(&n->subnets[i].subnet, a))
			return n->subnets[i].subnet.prefix;
	return ip_bits(a->family);
}

/* Inside the sandbox: sysctls, addresses, link up, default routes. */
static int sandbox_configure(struct nlx *nl, const struct bnetwork *n, const struct bendpoint *ep,
			     bool default_route, struct berr *err)
{
	const struct ipaddr *ips[2] = { &ep->ip4, &ep->ip6 };
	int r;

	r = sandbox_sysctls(ep->ifname, ep->ip6.family != 0 || n->ipv6, err);
	if (r < 0)
		return r;
	for (int i = 0; i < 2; i++) {
		struct cidr a;

		if (!ips[i]->family)
			continue;
		a.addr = *ips[i];
		a.prefix = prefix_of(n, ips[i]);
		r = nlx_addr_add(nl, ep->ifname, &a, true, err);
		if (r < 0)
			return r;
	}
	r = nlx_link_set_up(nl, ep->ifname, true, err);
	if (r < 0 || !default_route || n->internal)
		return r;
	for (int i = 0; i < 2; i++) {
		const struct ipaddr *gw;

		if (!ips[i]->family)
			continue;
		gw = gateway_of(n, ips[i]->family);
		if (!gw)
			continue;
		r = nlx_route_default_set(nl, gw->family, gw, ep->ifname, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int bridge_join(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		       const struct sandbox *sb, bool default_route, struct berr *err)
{
	struct nlx *nl = NULL;
	uint8_t mac[6];
	int saved = -1, r;

	r = mac_parse(ep->mac, mac, err);
	if (r < 0)
		return r;
	r = nlx_veth_create(ctx->host_nl, ep->host_ifname, n->ifname, sb->netns_fd, ep->ifname, mac,
			    n->mtu, err);
	if (r < 0)
		return r;
	r = netns_enter(sb->netns_fd, &saved, err);
	if (r < 0)
		return r;
	r = nlx_open(-1, &nl, err);
	if (r >= 0)
		r = sandbox_configure(nl, n, ep, default_route, err);
	nlx_close(nl);
	if (netns_leave(saved, r < 0 ? NULL : err) < 0 && r >= 0)
		r = err->code;
	if (r < 0)
		return berr_prefix(err, "configuring %s in container %.12s", ep->ifname,
				   ep->container_id);
	return 0;
}

static int bridge_leave(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
			const struct sandbox *sb, struct berr *err)
{
	/* Deleting the host end removes the pair, wherever the peer is. */
	return nlx_link_delete(ctx->host_nl, ep->host_ifname, err);
}

static int bridge_endpoint_check(struct drv_ctx *ctx, const struct bnetwork *n,
				 const struct bendpoint *ep, const struct sandbox *sb, struct berr *err)
{
	int r = nlx_link_index(ctx->host_nl, ep->host_ifname, err);

	return r < 0 ? r : r > 0;
}

static int bridge_restore(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err)
{
	return bridge_network_create(ctx, n, err);
}

const struct driver_ops bridge_driver = {
	.name = "bridge",
	.host_end = true,
	.validate = bridge_validate,
	.network_create = bridge_network_create,
	.network_delete = bridge_network_delete,
	.join = bridge_join,
	.leave = bridge_leave,
	.endpoint_check = bridge_endpoint_check,
	.restore = bridge_restore,
};
