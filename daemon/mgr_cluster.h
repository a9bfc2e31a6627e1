/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the cluster layer (daemon/mgr_cluster*.c): the etcd client, this host's
 * registration, and the mirror of every key under the prefix. Not a public header. */
#pragma once

#include "daemon/mgr_internal.h"
#include "store/cluster.h"
#include "store/etcd.h"

/* Interactive calls (API requests, with the manager lock held) give up after this long. */
#define CL_REQUEST_MS 2000
#define CL_CONNECT_MS 700

/* One key of the mirror, with what it decodes to. */
struct cl_entry {
	char *key;
	char *value;
	struct cl_key k;
	int64_t mod_rev, lease;
	bool decoded;          /* the record decodes and passes the checks it can make alone */
	bool valid;            /* decoded and accepted (cross-record checks included) */
	int64_t warned_rev;    /* mod_rev of the last warning about it (once per revision) */
	bool dns_set;          /* a remote endpoint with records in the embedded DNS */
	union {
		struct cl_host host;
		struct cl_ep ep;          /* ep.aliases owned */
		struct cl_ipam ipam;
	} u;
};

/* A key this host deleted at revision rev: older PUTs of it still in the watch's queue are
 * not applied. Dropped once the watch has passed rev. */
struct cl_tomb {
	char *key;
	int64_t rev;
};

struct cluster {
	char prefix[256];
	char host[CL_HOST_MAX];
	struct ipaddr vtep;
	uint16_t port;
	int ttl;
	char url[512];
	struct etcd_client *etcd;
	struct etcd_watch *watch;
	struct etcd_keeper *keeper;     /* while registered */
	struct cl_registrar *reg;       /* registration attempts (mgr_cluster_host.c) */
	int timer_fd;
	int64_t lease;             /* this host's; 0 while not registered */
	bool up;                   /* the watch streams */
	bool synced;               /* a snapshot was applied since the start */
	char down_why[BERR_MSG_MAX];
	VEC(struct cl_entry) keys; /* sorted by key */
	VEC(struct cl_tomb) tombs;
	struct ipaddr *vteps;      /* the members' VTEPs as the firewall last got them */
	size_t n_vteps;
};

/* ---- the mirror (mgr_cluster_mirror.c) ---- */
/* A delete of this host at revision rev. */
void cl_tomb_add(struct cluster *cl, const char *key, int64_t rev);
struct cl_entry *cl_find(struct cluster *cl, const char *key);
/* Index of the first key >= key. */
size_t cl_lower(struct cluster *cl, const char *key);
/* A write of this host, applied at once (the watch brings it again later: no effect). */
void cl_apply_put(struct manager *m, const char *key, const char *value, int64_t mod_rev,
		  int64_t lease);
void cl_apply_delete(struct manager *m, const char *key, int64_t rev);
/* Network keys this host wrote or deleted: the mirror learns them, the manager itself changes
 * its networks (no effects run). */
void cl_mirror_put_quiet(struct manager *m, const char *key, const char *value, int64_t rev);
void cl_mirror_delete_quiet(struct manager *m, const char *key, int64_t rev);
/* Re-evaluate a global network's records, pools, DNS and kernel entries after a change. */
void cl_net_refresh(struct manager *m, struct net_entry *n);
/* The mod_revision of a network's key, 0 when the mirror does not hold it. */
int64_t cl_net_rev(struct manager *m, const char *net_id);
/* Endpoint and ipam entries of a network: keys in [first, end). */
void cl_net_range(struct manager *m, enum cl_kind kind, const char *net_id, size_t *first,
		  size_t *end);
/* A local endpoint of a global network that holds (or is acquiring) kernel state. */
bool cl_ep_live(const struct ep_entry *ep);
struct net_entry *cl_global_net(struct manager *m, const char *net_id);

void cl_refresh_all(struct manager *m);
/* A network no longer in the store, once no container here uses it: forgotten. */
bool cl_net_forget_if_gone(struct manager *m, struct net_entry *n);
/* A snapshot of every key (the watch's RESET at revision rev): the mirror becomes it. */
void cl_reset(struct manager *m, const struct etcd_kvs *snap, int64_t rev);
void cl_tombs_prune(struct cluster *cl, int64_t rev);
void cl_mirror_free(struct cluster *cl);

/* ---- membership (mgr_cluster_host.c) ---- */
bool cl_registered(const struct cluster *cl);
/* Start a registration attempt in the background unless one runs or this host is registered. */
void cl_register_kick(struct manager *m);
int cl_registrar_open(struct manager *m, const struct mgr_cluster_config *cfg, struct berr *err);
void cl_registrar_close(struct manager *m);   /* also stops the keeper */

/* ---- this host's keys (mgr_cluster.c, mgr_cluster_ep.c) ---- */
/* The firewall's allow-list from the host records. */
void cl_vteps_sync(struct manager *m);
/* Keys under this host's lease match its live endpoints: stale ones deleted, missing ones
 * written again (after a snapshot, a re-registration). */
void cl_own_keys_sync(struct manager *m);

/* ---- errors ---- */
/* "cluster store unreachable: <why>" for a failed etcd call (-EHOSTUNREACH, -ETIMEDOUT...). */
int cl_fail(struct berr *err);
