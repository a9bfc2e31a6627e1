/* SPDX-License-Identifier: Apache-2.0 */
/* The macvlan driver: containers appear on the parent's LAN with their own MAC. Each endpoint is
 * one macvlan link created directly inside the container's namespace on the parent of the host
 * namespace. Options (see docs/CLI.md): parent (required; IFACE.VID creates an 802.1q
 * sub-interface), macvlan_mode, the MTU, and berth.macvlan.host_shim (a macvlan for the host on
 * the same parent, so host <-> container traffic works). */
#include <limits.h>
#include <net/if.h>

#include "common/cidr.h"
#include "common/names.h"
#include "common/util.h"
#include "drivers/driver.h"
#include "drivers/macvlan/macvlan.h"
#include "netlink/netlink.h"

static int mv_fail_parent(const struct mv_conf *c, int idx, const struct bnetwork *n,
			  struct berr *err)
{
	if (idx < 0)
		return berr_prefix(err, "network %s", n->name);
	return berr_set(err, -ENODEV, "parent interface %s of network %s does not exist",
			c->parent, n->name);
}

/* ---- network ---- */

static int mv_vlan_ensure(struct drv_ctx *ctx, const struct mv_conf *c, struct berr *err)
{
	if (!c->vlan_created)
		return 0;
	return nlx_vlan_create(ctx->host_nl, c->base, c->parent, c->vid, err);
}

static int shim_addrs_add(struct nlx *nl, const struct bnetwork *n, const char *name,
			  struct berr *err)
{
	for (int i = 0; i < n->n_subnets; i++) {
		struct cidr a;
		int r;

		if (!mv_shim_addr(&n->subnets[i], &a.addr))
			continue;
		a.prefix = n->subnets[i].subnet.prefix;
		r = nlx_addr_add(nl, name, &a, true, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int shim_sysctls(const struct bnetwork *n, const char *name, struct berr *err)
{
	_cleanup_free_ char *arp = xasprintf("net/ipv4/conf/%s/arp_notify", name);
	_cleanup_free_ char *ra = xasprintf("net/ipv6/conf/%s/accept_ra", name);
	int r = sysctl_write(arp, "1", err);

	if (r < 0 || !n->ipv6)
		return r;
	return sysctl_write(ra, "0", err);
}

/* The host's own macvlan on the parent (bridge mode) holding the reserved address of each
 * subnet: the kernel then routes the subnets through it. */
static int mv_shim_ensure(struct drv_ctx *ctx, const struct bnetwork *n, const struct mv_conf *c,
			  struct berr *err)
{
	char name[IFNAME_LEN];
	int idx, r;

	if (!c->shim)
		return 0;
	mv_shim_name(n, name);
	idx = nlx_link_index(ctx->host_nl, c->parent, err);
	if (idx <= 0)
		return mv_fail_parent(c, idx, n, err);
	r = nlx_macvlan_create(ctx->host_nl, idx, name, "bridge", -1, NULL, n->mtu, err);
	if (r >= 0)
		r = shim_sysctls(n, name, err);
	if (r >= 0)
		r = shim_addrs_add(ctx->host_nl, n, name, err);
	if (r >= 0)
		r = nlx_link_set_up(ctx->host_nl, name, true, err);
	if (r < 0)
		return berr_prefix(err, "host shim of network %s", n->name);
	return 0;
}

static int mv_network_create(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err)
{
	struct mv_conf c;
	int r;

	r = mv_conf_load(n, &c, err);
	if (r >= 0)
		r = mv_vlan_ensure(ctx, &c, err);
	if (r >= 0)
		r = mv_shim_ensure(ctx, n, &c, err);
	return r;
}

static int mv_network_delete(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err)
{
	char name[IFNAME_LEN];
	struct mv_conf c;
	int r;

	r = mv_conf_load(n, &c, err);
	if (r < 0)
		return r;
	mv_shim_name(n, name);
	r = nlx_link_delete(ctx->host_nl, name, err);
	if (r >= 0 && c.vlan_created)
		r = nlx_link_delete(ctx->host_nl, c.parent, err);
	return r;
}

/* ---- endpoints ---- */

/* A leftover interface of that name in the sandbox (an interrupted earlier attempt) goes first,
 * so the link is always created fresh with this endpoint's MAC and addresses. */
static int sandbox_stale_remove(const struct sandbox *sb, const char *ifname, struct berr *err)
{
	_cleanup_(nlx_closep) struct nlx *nl = NULL;
	int r = nlx_open(sb->netns_fd, &nl, err);

	if (r < 0)
		return r;
	return nlx_link_delete(nl, ifname, err);
}

static int mv_link_create(struct drv_ctx *ctx, const struct bnetwork *n, const struct mv_conf *c,
			  const struct bendpoint *ep, const struct sandbox *sb, struct berr *err)
{
	uint8_t mac[6];
	int idx, r;

	r = mac_parse(ep->mac, mac, err);
	if (r < 0)
		return r;
	idx = nlx_link_index(ctx->host_nl, c->parent, err);
	if (idx <= 0)
		return mv_fail_parent(c, idx, n, err);
	r = sandbox_stale_remove(sb, ep->ifname, err);
	if (r < 0)
		return r;
	r = nlx_macvlan_create(ctx->host_nl, idx, ep->ifname, c->mode, sb->netns_fd, mac, n->mtu,
			       err);
	/* The kernel allows one passthru macvlan per parent and says EINVAL (or EBUSY). */
	if ((r == -EINVAL || r == -EBUSY) && strcmp(c->mode, "passthru") == 0)
		return berr_set(err, -EBUSY, "network %s uses macvlan_mode passthru, which gives "
				"parent %s to a single container, and another endpoint already has "
				"it", n->name, c->parent);
	return r;
}

static int mv_join(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		   const struct sandbox *sb, struct berr *err)
{
	struct mv_conf c;
	int r;

	r = mv_conf_load(n, &c, err);
	if (r >= 0)
		r = mv_link_create(ctx, n, &c, ep, sb, err);
	if (r >= 0)
		r = drv_sandbox_configure(n, ep, sb, err);
	return r;
}

/* Without a sandbox there is nothing to do: the namespace's deletion removes the interface. */
static int mv_leave(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		    const struct sandbox *sb, struct berr *err)
{
	_cleanup_(nlx_closep) struct nlx *nl = NULL;
	int r;

	if (!sb || sb->netns_fd < 0)
		return 0;
	r = nlx_open(sb->netns_fd, &nl, err);
	if (r >= 0)
		r = nlx_link_delete(nl, ep->ifname, err);
	if (r < 0)
		return berr_prefix(err, "removing %s from container %.12s", ep->ifname,
				   ep->container_id);
	return 0;
}

static int mv_endpoint_check(struct drv_ctx *ctx, const struct bnetwork *n,
			     const struct bendpoint *ep, const struct sandbox *sb, struct berr *err)
{
	_cleanup_(nlx_closep) struct nlx *nl = NULL;
	int r;

	if (!sb || sb->netns_fd < 0)
		return 0;
	r = nlx_open(sb->netns_fd, &nl, err);
	if (r >= 0)
		r = nlx_link_index(nl, ep->ifname, err);
	return r < 0 ? r : r > 0;
}

static bool mv_owns_host_ifname(const struct bnetwork *n, const char *name)
{
	char shim[IFNAME_LEN];

	mv_shim_name(n, shim);
	return strcmp(shim, name) == 0;
}

const struct driver_ops macvlan_driver = {
	.name = "macvlan",
	.host_ifname_prefix = "bmv",     /* host shims */
	.owns_host_ifname = mv_owns_host_ifname,
	.validate = mv_validate,
	.network_create = mv_network_create,
	.network_delete = mv_network_delete,
	.join = mv_join,
	.leave = mv_leave,
	.endpoint_check = mv_endpoint_check,
	.restore = mv_network_create,
};
