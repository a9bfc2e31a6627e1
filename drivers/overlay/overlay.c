/* SPDX-License-Identifier: Apache-2.0 */
/* The overlay driver's table: per-host bridge + VXLAN device, veth endpoints. */
#include "drivers/overlay/overlay.h"

#include "common/util.h"
#include "store/cluster.h"

void ov_bridge_name(const char *net_id, char ret[IFNAME_LEN])
{
	snprintf(ret, IFNAME_LEN, "bov%.10s", net_id);
}

void ov_vxlan_name(const char *net_id, char ret[IFNAME_LEN])
{
	snprintf(ret, IFNAME_LEN, "vx%.10s", net_id);
}

int ov_vni(const struct bnetwork *n, uint32_t *ret, struct berr *err)
{
	const char *s = drv_opt(n, CL_OPT_VNI);

	if (!s)
		return berr_set(err, -EINVAL, "network %s has no VNI", n->name);
	return cl_vni_parse(s, ret, err);
}

int ov_mtu(struct drv_ctx *ctx, const struct bnetwork *n, int *ret, struct berr *err)
{
	const char *opt = drv_opt(n, OV_OPT_MTU);
	char buf[IP_STRLEN];
	int r, mtu = 0;

	if (opt)
		return drv_opt_mtu(OV_OPT_MTU, opt, ret, err);
	if (!ctx->vtep.family)
		return berr_set(err, -EINVAL, "overlay networks need --advertise-addr");
	r = nlx_vxlan_underlay(ctx->host_nl, &ctx->vtep, &mtu, err);
	if (r == 0)
		r = berr_set(err, -EADDRNOTAVAIL, "no interface holds the advertise address %s",
			     ip_fmt(&ctx->vtep, buf));
	if (r < 0)
		return r;
	*ret = nlx_vxlan_mtu(mtu, ctx->vtep.family);
	return 0;
}

int ov_encryption_check(const struct bnetwork *n, struct berr *err)
{
	const char *v = drv_opt(n, OV_OPT_ENCRYPTED);
	struct nlx_crypto c;
	int r;

	/* Docker's `-o encrypted` gives an empty value: present means on, unless "false"/"0". */
	if (!v || !strcmp(v, "false") || !strcmp(v, "0"))
		return 0;
	r = nlx_crypto_probe(&c, err);
	if (r < 0)
		return berr_prefix(err, "-o encrypted: cannot tell whether this kernel can encrypt");
	if (!c.esp && !c.wireguard)
		return berr_set(err, -EOPNOTSUPP,
				"-o encrypted needs IPsec ESP or WireGuard, and this kernel has neither "
				"(%s; %s): refusing to create a network whose traffic would cross the "
				"underlay in cleartext", c.esp_why, c.wireguard_why);
	return berr_set(err, -EOPNOTSUPP,
			"-o encrypted: this kernel has %s, but berth does not encrypt overlay "
			"traffic yet (docs/ARCHITECTURE.md): refusing rather than sending cleartext",
			c.esp ? "IPsec ESP" : "WireGuard");
}

static int overlay_validate(struct drv_ctx *ctx, struct bnetwork *n, struct berr *err)
{
	const char *mtu = drv_opt(n, OV_OPT_MTU), *vni = drv_opt(n, CL_OPT_VNI);
	uint32_t v;
	int r = ov_encryption_check(n, err);

	if (r < 0)
		return r;
	if (mtu && drv_opt_mtu(OV_OPT_MTU, mtu, &n->mtu, err) < 0)
		return -EINVAL;
	if (vni && cl_vni_parse(vni, &v, err) < 0)
		return berr_prefix(err, "option %s", CL_OPT_VNI);
	if (!n->n_subnets)
		return berr_set(err, -EINVAL, "an overlay network needs a subnet");
	ov_bridge_name(n->id, n->ifname);
	return 0;
}

static int bridge_up(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err)
{
	_cleanup_free_ char *key = xasprintf("net/ipv6/conf/%s/disable_ipv6", n->ifname);
	int r = nlx_bridge_create(ctx->host_nl, n->ifname, n->mtu, err);

	/* No address of its own, not even a link-local one: the host is not on the overlay. */
	if (r >= 0)
		r = sysctl_write(key, "1", err);
	return r;
}

static int overlay_network_create(struct drv_ctx *ctx, const struct bnetwork *n,
				  struct berr *err)
{
	struct nlx_vxlan vx = { .local = ctx->vtep, .port = ctx->vxlan_port, .mtu = n->mtu,
				.master = n->ifname };
	char name[IFNAME_LEN], buf[IP_STRLEN];
	int r;

	if (!ctx->vtep.family)
		return berr_set(err, -EINVAL, "overlay networks need --advertise-addr");
	ov_vxlan_name(n->id, name);
	vx.name = name;
	r = ov_vni(n, &vx.vni, err);
	if (r >= 0)
		r = nlx_vxlan_underlay(ctx->host_nl, &ctx->vtep, NULL, err);
	if (r == 0)
		r = berr_set(err, -EADDRNOTAVAIL, "no interface holds the advertise address %s",
			     ip_fmt(&ctx->vtep, buf));
	if (r < 0)
		return berr_prefix(err, "network %s", n->name);
	vx.underlay = r;
	r = bridge_up(ctx, n, err);
	if (r >= 0)
		r = nlx_vxlan_create(ctx->host_nl, &vx, err);
	return r < 0 ? berr_prefix(err, "network %s", n->name) : 0;
}

static int overlay_network_delete(struct drv_ctx *ctx, const struct bnetwork *n,
				  struct berr *err)
{
	char name[IFNAME_LEN];
	int r;

	ov_vxlan_name(n->id, name);
	r = nlx_link_delete(ctx->host_nl, name, err);
	if (r >= 0)
		r = nlx_link_delete(ctx->host_nl, n->ifname, err);
	return r;
}

static bool overlay_owns(const struct bnetwork *n, const char *name)
{
	char vx[IFNAME_LEN];

	ov_vxlan_name(n->id, vx);
	return strcmp(name, vx) == 0;
}

const struct driver_ops overlay_driver = {
	.name = "overlay",
	.host_end = true,
	.global_scope = true,
	.no_gateway = true,
	.host_ifname_prefix = "bov",
	.host_ifname_prefix2 = "vx",
	.owns_host_ifname = overlay_owns,
	.validate = overlay_validate,
	.network_create = overlay_network_create,
	.network_delete = overlay_network_delete,
	.join = drv_veth_join,
	.leave = drv_veth_leave,
	.endpoint_check = drv_veth_check,
	.restore = overlay_network_create,
};
