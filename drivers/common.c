/* SPDX-License-Identifier: Apache-2.0 */
#include "common/cidr.h"
#include "common/names.h"
#include "common/util.h"
#include "drivers/common.h"
#include "netlink/netlink.h"

const char *drv_opt(const struct bnetwork *n, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(n->options, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int drv_opt_mtu(const char *key, const char *s, int *ret, struct berr *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 68 || v > 65535)
		return berr_set(err, -EINVAL, "invalid %s \"%s\": must be an integer from 68 to 65535",
				key, s);
	*ret = (int)v;
	return 0;
}

int drv_opt_bool(const char *key, const char *s, bool *ret, struct berr *err)
{
	if (!s || !*s || !strcmp(s, "false") || !strcmp(s, "0")) {
		*ret = false;
		return 0;
	}
	if (!strcmp(s, "true") || !strcmp(s, "1")) {
		*ret = true;
		return 0;
	}
	return berr_set(err, -EINVAL, "invalid %s \"%s\": must be true or false", key, s);
}

int drv_prefix_of(const struct bnetwork *n, const struct ipaddr *a)
{
	for (int i = 0; i < n->n_subnets; i++)
		if (cidr_contains(&n->subnets[i].subnet, a))
			return n->subnets[i].subnet.prefix;
	return ip_bits(a->family);
}

/* Whether ep's MAC is the one its IPv4 address gives (mac_from_ip4). */
static bool mac_follows_ip4(const struct bendpoint *ep)
{
	uint8_t mac[6], want[6];

	if (!ep->ip4.family || mac_parse(ep->mac, mac, NULL) < 0)
		return false;
	mac_from_ip4(ep->ip4.b, want);
	return memcmp(mac, want, sizeof(mac)) == 0;
}

/* Through a netlink socket opened inside the sandbox. With arp_notify on, a link going up
 * announces each of its IPv4 addresses with a gratuitous ARP, so that neighbours that cached the
 * address with an earlier owner's MAC learn the new one: the addresses go on first. When the MAC
 * follows the IPv4 address, those caches are right already and the link goes up first, with no
 * address to announce: on a bridge the announcement is flooded to every port (each copy through
 * br_netfilter and into every container), a cost that grows with the network. */
static int configure_in(const struct bnetwork *n, const struct bendpoint *ep,
			const struct sandbox *sb, struct berr *err)
{
	const struct ipaddr *ips[2] = { &ep->ip4, &ep->ip6 };
	_cleanup_(nlx_closep) struct nlx *own = NULL;
	struct nlx *nl = sb->nl;
	bool announce = !mac_follows_ip4(ep);
	int r = 0;

	/* accept_ra=0 comes from the namespace's default (drv_sandbox_defaults). */
	if (!nl) {
		r = nlx_open(sb->netns_fd, &own, err);
		nl = own;
	}
	if (r >= 0)
		r = nlx_link_set_ipconf(nl, ep->ifname, ep->ip6.family == 0 && !n->ipv6, err);
	if (r >= 0 && !announce)
		r = nlx_link_set_up(nl, ep->ifname, true, err);
	for (int i = 0; r >= 0 && i < 2; i++) {
		struct cidr a;

		if (!ips[i]->family)
			continue;
		a.addr = *ips[i];
		a.prefix = drv_prefix_of(n, ips[i]);
		r = nlx_addr_add(nl, ep->ifname, &a, true, err);
	}
	if (r >= 0 && announce)
		r = nlx_link_set_up(nl, ep->ifname, true, err);
	return r;
}

int drv_sandbox_configure(const struct bnetwork *n, const struct bendpoint *ep,
			  const struct sandbox *sb, struct berr *err)
{
	int r = configure_in(n, ep, sb, err);

	if (r < 0)
		return berr_prefix(err, "configuring %s in container %.12s", ep->ifname,
				   ep->container_id);
	return 0;
}

/* Runs inside the sandbox: /proc/sys/net is the sandbox's. */
static int defaults_here(void *arg, struct berr *err)
{
	static const char *const keys[] = { "net/ipv6/conf/default/accept_ra",
					    "net/ipv6/conf/all/accept_ra" };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(keys); i++) {
		r = sysctl_write(keys[i], "0", err);
		if (r == -ENOENT)   /* no IPv6 in this kernel */
			r = 0;
	}
	return r;
}

int drv_sandbox_defaults(int netns_fd, struct berr *err)
{
	return netns_run(netns_fd, defaults_here, NULL, err);
}

int drv_veth_join(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		  const struct sandbox *sb, struct berr *err)
{
	uint8_t mac[6];
	int r;

	r = mac_parse(ep->mac, mac, err);
	if (r >= 0)
		r = nlx_veth_create(ctx->host_nl, ep->host_ifname,
				    ep->master[0] ? ep->master : n->ifname, sb->netns_fd,
				    ep->ifname, mac, n->mtu, NLX_VETH_PORT_ONLY, err);
	if (r >= 0)
		r = drv_sandbox_configure(n, ep, sb, err);
	return r;
}

int drv_veth_leave(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		   const struct sandbox *sb, struct berr *err)
{
	/* Deleting the host end removes the pair, wherever the peer is. */
	return nlx_link_delete(ctx->host_nl, ep->host_ifname, err);
}

int drv_veth_retire(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		    struct berr *err)
{
	/* the peer goes with the container's namespace, or with the host end when it is reaped */
	return nlx_link_doom(ctx->host_nl, ep->host_ifname, err);
}

int drv_veth_check(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		   const struct sandbox *sb, struct berr *err)
{
	int r = nlx_link_index(ctx->host_nl, ep->host_ifname, err);

	return r < 0 ? r : r > 0;
}
