/* SPDX-License-Identifier: Apache-2.0 */
/* The overlay driver: a network spanning the hosts of a cluster. On each host that has endpoints
 * on it: a bridge without addresses ("bov" + 10 hex of the network ID) and a VXLAN device
 * ("vx" + 10 hex) on it, VNI from the cluster store, learning off and ARP/ND answered by the
 * device itself from static neighbour entries; endpoints are veths into the bridge. The static
 * forwarding and neighbour entries of the remote endpoints are set by the cluster layer of the
 * manager through ov_peers_sync(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/common.h"
#include "netlink/netlink.h"

#define OV_OPT_ENCRYPTED "encrypted"
#define OV_OPT_MTU "com.docker.network.driver.mtu"

void ov_bridge_name(const char *net_id, char ret[IFNAME_LEN]);
void ov_vxlan_name(const char *net_id, char ret[IFNAME_LEN]);

/* The network's VNI (option CL_OPT_VNI); -EINVAL when missing or out of range. */
int ov_vni(const struct bnetwork *n, uint32_t *ret, struct berr *err);
/* The MTU of the network's interfaces on this host: the MTU option, else the MTU of the
 * interface holding the VTEP address minus the VXLAN overhead (50 bytes over IPv4, 70 over
 * IPv6). */
int ov_mtu(struct drv_ctx *ctx, const struct bnetwork *n, int *ret, struct berr *err);

/* Encryption (-o encrypted) needs IPsec ESP or WireGuard; refused here in every case (the
 * cleartext alternative is never taken), saying what the kernel lacks. See docs/ARCHITECTURE.md
 * for where it plugs in. */
int ov_encryption_check(const struct bnetwork *n, struct berr *err);

/* A remote endpoint, as the VXLAN device must know it. */
struct ov_peer {
	uint8_t mac[6];
	struct ipaddr vtep;
	struct ipaddr ip4, ip6;    /* family 0: none */
};

/* What to change so the device's static entries are exactly the peers': forwarding entries
 * MAC -> VTEP, the flood list (one entry per distinct VTEP), neighbour entries IP -> MAC. Pure:
 * computed from the kernel's listings (only permanent entries are berth's). */
struct ov_plan {
	struct nlx_fdb_entry *fdb_add, *fdb_del;
	size_t n_fdb_add, n_fdb_del;
	struct nlx_neigh_entry *neigh_add, *neigh_del;
	size_t n_neigh_add, n_neigh_del;
};
void ov_plan_make(const struct ov_peer *peers, size_t n_peers, const struct nlx_fdb_entry *fdb,
		  size_t n_fdb, const struct nlx_neigh_entry *neigh, size_t n_neigh,
		  struct ov_plan *ret);
void ov_plan_free(struct ov_plan *p);

/* Apply the plan for network n on this host: returns the number of entries changed, 0 when the
 * network has no VXLAN device here (no local endpoints), -errno. */
int ov_peers_sync(struct drv_ctx *ctx, const struct bnetwork *n, const struct ov_peer *peers,
		  size_t n_peers, struct berr *err);
