/* SPDX-License-Identifier: Apache-2.0 */
/* The driver table. A driver is a const struct of operations; NULL = not supported, and the core
 * answers with a clear error. Drivers return -errno + message, log at debug at most, never exit,
 * and are idempotent: creating what exists (and is ours) succeeds, deleting what is gone succeeds. */
#pragma once

#include <stdbool.h>

#include "common/error.h"
#include "store/store.h"

struct nlx;

/* What the core hands a driver. */
struct drv_ctx {
	struct nlx *host_nl;       /* netlink socket in the host namespace (berthd's) */
	int host_netns_fd;
	/* Overlay networks: this host's tunnel endpoint (--advertise-addr; family 0 when berthd
	 * has no cluster store) and the VXLAN UDP port (--data-path-port). */
	struct ipaddr vtep;
	uint16_t vxlan_port;
};

/* The container side of an attachment. */
struct sandbox {
	const char *container_id;
	const char *netns_path;
	int netns_fd;              /* open fd of the container's network namespace */
	struct nlx *nl;            /* a netlink socket in it; NULL: drivers open their own */
};

struct driver_ops {
	const char *name;
	bool no_ipam;              /* networks have no subnets (host, none) */
	bool shares_host_netns;    /* endpoints mean "use the host's namespace" (host) */
	bool host_end;             /* endpoints have a host-side interface (bridge: the veth) */
	/* An endpoint's MAC follows its IPv4 address (mac_from_ip4) unless one was asked for;
	 * v6-only endpoints keep the one derived from their ID. */
	bool mac_from_ip;
	/* Networks live in the cluster store, seen by every host (overlay): the manager creates
	 * and removes them there, and makes network_create/delete happen on a host only while it
	 * has endpoints on the network. */
	bool global_scope;
	/* The subnets' gateways are held by no interface: an endpoint never routes through them
	 * (no default route), they are only kept out of the pool. */
	bool no_gateway;
	/* Check options before any side effect; may fill defaults (ifname, mtu) into n. */
	int (*validate)(struct drv_ctx *ctx, struct bnetwork *n, struct berr *err);
	/* Mark the host objects n would use that exist already, so are not the driver's and are
	 * never deleted (n->ifname_foreign, the subnets' gateway_foreign). Called before the store
	 * records a new network, and at start-up, where the manager keeps only the marks that still
	 * hold (what vanished meanwhile, the driver re-creates and so owns). NULL: nothing is. */
	int (*host_probe)(struct drv_ctx *ctx, struct bnetwork *n, struct berr *err);
	int (*network_create)(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err);
	/* Delete what network_create made (never what the marks above call foreign). */
	int (*network_delete)(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err);
	/* Create the endpoint's interface directly inside the sandbox with its MAC and addresses,
	 * up. Default routes are the manager's (they depend on the container's other endpoints). */
	int (*join)(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		    const struct sandbox *sb, struct berr *err);
	/* Like join, for a sandbox another runtime owns (dockerd, through the remote driver): the
	 * container end is created in the host namespace named `peer`, with the endpoint's MAC,
	 * down and unconfigured; that runtime moves it into its sandbox and configures it. NULL:
	 * the driver cannot serve other runtimes. leave removes it like any other. */
	int (*join_detached)(struct drv_ctx *ctx, const struct bnetwork *n,
			     const struct bendpoint *ep, const char *peer, struct berr *err);
	/* Remove the endpoint's interface (sb may be NULL when the sandbox is gone). */
	int (*leave)(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		     const struct sandbox *sb, struct berr *err);
	/* leave for a sandbox that is going away with all its interfaces (a stopped container):
	 * what is left on the host must stop mattering at once (off the bridge, down) and may be
	 * deleted later (nlx_link_doom: the manager's reaper deletes retired links in batches).
	 * NULL: leave is used. */
	int (*retire)(struct drv_ctx *ctx, const struct bnetwork *n, const struct bendpoint *ep,
		      struct berr *err);
	/* 1 when the endpoint's interface exists, 0 when it is missing (start-up reconciliation
	 * then joins again), -errno. sb may be NULL. */
	int (*endpoint_check)(struct drv_ctx *ctx, const struct bnetwork *n,
			      const struct bendpoint *ep, const struct sandbox *sb, struct berr *err);
	/* Host interfaces the driver names itself: their common prefix (start-up removes those
	 * no network owns) and whether network n owns `name` (NULL: only n->ifname). */
	const char *host_ifname_prefix;
	const char *host_ifname_prefix2;   /* a second generated shape (overlay: VXLAN devices) */
	bool (*owns_host_ifname)(const struct bnetwork *n, const char *name);
	/* A network outgrowing one bridge (the kernel takes at most 1,023 ports on one) spills over
	 * extra bridges, each joined to the network's own by a trunk (common/names.h); the manager
	 * decides which bridge an endpoint's host end is a port of (bendpoint.master, which join
	 * uses). spill_add makes extra bridge idx (>= 1) and its trunk, idempotently; spill_del
	 * deletes both (what is gone: success). NULL: the network has one bridge. */
	int (*spill_add)(struct drv_ctx *ctx, const struct bnetwork *n, int idx, struct berr *err);
	int (*spill_del)(struct drv_ctx *ctx, const struct bnetwork *n, int idx, struct berr *err);
	/* Re-create what a network needs after a restart (e.g. a bridge someone deleted). */
	int (*restore)(struct drv_ctx *ctx, const struct bnetwork *n, struct berr *err);
};

const struct driver_ops *driver_lookup(const char *name);
/* The registered drivers, for iteration: NULL past the end. */
const struct driver_ops *driver_at(size_t i);

/* Drivers of the predefined networks "host" and "none": users cannot create more of them. */
bool driver_is_predefined_only(const struct driver_ops *d);
/* "bridge, macvlan": the drivers users may create networks with. */
const char *driver_user_names(void);

extern const struct driver_ops bridge_driver;
extern const struct driver_ops host_driver;
extern const struct driver_ops none_driver;
extern const struct driver_ops overlay_driver;
