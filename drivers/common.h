/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the drivers: options, and configuring an endpoint inside its sandbox. */
#pragma once

#include <stdbool.h>

#include "drivers/driver.h"

/* The string value of option `key`, or NULL. */
const char *drv_opt(const struct bnetwork *n, const char *key);
/* "68".."65535" -> *ret; the error names the option. */
int drv_opt_mtu(const char *key, const char *s, int *ret, struct berr *err);
/* NULL, "", "false", "0" -> false; "true", "1" -> true; anything else is an error. */
int drv_opt_bool(const char *key, const char *s, bool *ret, struct berr *err);

/* Prefix length of the subnet of n holding a (host length when none does). */
int drv_prefix_of(const struct bnetwork *n, const struct ipaddr *a);

/* A new sandbox: interfaces created in it later inherit IPv6 accept_ra=0 (containers never
 * take router advertisements). Once per container start, not per attach. */
int drv_sandbox_defaults(int netns_fd, struct berr *err);

/* Inside the sandbox, for the endpoint's interface (already there): arp_notify=1, no IPv6
 * on an IPv4-only network, its addresses (IPv6 without DAD), link up. Default routes are the
 * manager's. */
int drv_sandbox_configure(const struct bnetwork *n, const struct bendpoint *ep,
			  const struct sandbox *sb, struct berr *err);

/* Endpoints as a veth whose host end is a port of the network's bridge (n->ifname) and whose
 * other end is created directly in the sandbox, with the network's MTU (bridge, overlay). */
int drv_veth_join(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		  const struct sandbox *sb, struct berr *err);
int drv_veth_leave(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		   const struct sandbox *sb, struct berr *err);
/* The host end retired (nlx_link_doom), for the manager's reaper. */
int drv_veth_retire(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		    struct berr *err);
/* 1 when the host end exists, 0 when not. */
int drv_veth_check(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		   const struct sandbox *sb, struct berr *err);
