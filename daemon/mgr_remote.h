/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by daemon/mgr_remote.c (dockerd's networks and endpoints) and
 * daemon/mgr_remote_ipam.c (dockerd's address pools). Not a public header. */
#pragma once

#include "daemon/http_util.h"
#include "daemon/mgr_internal.h"
#include "plugins/docker/dkp.h"

/* Metadata keys (store_meta_*): one row per endpoint, pool and allocated pool address. */
#define REMOTE_META_EP "docker/ep/"
#define REMOTE_META_POOL "docker/pool/"
#define REMOTE_META_ADDR "docker/addr/"

/* What berth keeps of a dockerd endpoint besides its struct bendpoint. */
struct remote_ep {
	char peer[IFNAME_LEN];         /* the interface dockerd moves into its sandbox (SrcName) */
	char sandbox[DKP_SANDBOX_MAX]; /* SandboxKey of the Join */
	cJSON *bindings;               /* PortBindings asked at CreateEndpoint (NULL: none) */
	cJSON *ports;                  /* published ports now (BerthPorts records; NULL: none) */
};

/* An address pool of berth's IPAM driver. */
struct remote_pool {
	char id[DKP_POOL_ID_MAX];
	struct cidr pool, sub;         /* sub: family 0 when dockerd gave no SubPool */
	struct ipam_pool p;
};

struct remote_state {
	bool plugin;                   /* the plugin socket is served (Docker's iptables) */
	bool fw_dirty;                 /* berth's bridges changed since Docker's iptables learnt them */
	VEC(struct remote_pool) pools;
};

/* m->remote, created on first use. */
struct remote_state *remote_state(struct manager *m);

/* IPAM (mgr_remote_ipam.c), lock held. */
int remote_ipam_call(struct manager *m, const struct dkp_request *q, cJSON **ret,
		     struct berr *err);
int remote_ipam_load(struct manager *m, struct berr *err);
void remote_ipam_free(struct remote_state *rs);

/* One transaction around fn(m, ud, err): committed, or rolled back on failure. */
int remote_tx(struct manager *m, int (*fn)(struct manager *m, void *ud, struct berr *err),
	      void *ud, struct berr *err);
