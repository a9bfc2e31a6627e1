/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the macvlan driver: its options, parsed once into a struct, and the host shim's
 * name and reserved addresses. */
#pragma once

#include <stdbool.h>

#include "common/names.h"
#include "drivers/common.h"

#define MV_OPT_PARENT "parent"
#define MV_OPT_MODE "macvlan_mode"
#define MV_OPT_MTU "com.docker.network.driver.mtu"
#define MV_OPT_SHIM "berth.macvlan.host_shim"
/* Set by berth (never by users): the parent IFACE.VID was created by berth, which removes it
 * with the network. */
#define MV_OPT_VLAN_CREATED "berth.macvlan.vlan_created"
/* The auxiliary address (in every subnet) that the host shim holds. */
#define MV_SHIM_AUX "berth-host-shim"

extern const struct driver_ops macvlan_driver;

struct mv_conf {
	const char *parent;        /* as given: IFACE or IFACE.VID */
	const char *mode;          /* bridge, private, vepa, passthru */
	bool shim;
	bool vlan_created;
	char base[IFNAME_LEN];     /* IFACE of IFACE.VID */
	int vid;                   /* 0: parent is not of the IFACE.VID form */
	int mtu;                   /* 0: the parent's */
};

/* Parse the network's options (no kernel access). */
int mv_conf_load(const struct bnetwork *n, struct mv_conf *ret, struct berr *err);
/* driver_ops.validate: options, parent checks, n->ifname (the parent), n->mtu, shim addresses. */
int mv_validate(struct drv_ctx *ctx, struct bnetwork *n, struct berr *err);
/* "bmv" + 10 hex of the network ID. */
void mv_shim_name(const struct bnetwork *n, char ret[IFNAME_LEN]);
/* The shim's reserved address in subnet s; false when it has none. */
bool mv_shim_addr(const struct bsubnet *s, struct ipaddr *ret);
