/* SPDX-License-Identifier: Apache-2.0 */
/* Persistent state: networks, containers, endpoints and address allocations. One interface; the
 * embedded implementation is SQLite (WAL) at <root>/berth.db. The manager opens one transaction
 * per API operation (store_begin ... store_commit, or store_rollback on any failure). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "common/cidr.h"
#include "common/error.h"
#include "common/names.h"

#define NET_MAX_SUBNETS 8

struct bsubnet {
	struct cidr subnet;        /* host bits zero */
	struct cidr range;         /* --ip-range; prefix 0 and family 0 when unset */
	struct ipaddr gateway;     /* family 0 when none */
	bool gateway_foreign;      /* the address was on a foreign interface already: never removed */
	bool subnet_auto;          /* berth chose the subnet (none was asked) */
	bool gateway_auto;         /* berth chose the gateway (none was asked) */
	cJSON *aux;                /* AuxiliaryAddresses object {name: "ip"} or NULL; owned */
};

struct bnetwork {
	char id[ID_LEN + 1];
	char name[NAME_LEN];
	char driver[32];
	char created[40];
	bool internal;
	bool ipv6;
	bool attachable;
	int n_subnets;
	struct bsubnet subnets[NET_MAX_SUBNETS];
	cJSON *options;            /* object of strings, owned, never NULL after load */
	cJSON *labels;             /* object of strings, owned, never NULL after load */
	char ifname[IFNAME_LEN];   /* the bridge (or parent) interface */
	/* A bridge berth did not create (named with com.docker.network.bridge.name, it existed
	 * before the network): used, never deleted. Decided and stored before the kernel is touched. */
	bool ifname_foreign;
	int mtu;                   /* 0 = default */
};

enum ep_state {
	EP_INACTIVE = 0,   /* container attached but not running: no kernel objects, no addresses */
	EP_PENDING = 1,    /* addresses allocated, kernel objects being created (crash = roll back) */
	EP_ACTIVE = 2,     /* fully set up */
};

struct bendpoint {
	char id[ID_LEN + 1];
	char network_id[ID_LEN + 1];
	char container_id[ID_LEN + 1];
	int64_t seq;               /* connection order (monotonic per container) */
	enum ep_state state;
	char ifname[IFNAME_LEN];   /* in the container: eth0, eth1, ... */
	char host_ifname[IFNAME_LEN];
	char mac[18];
	struct ipaddr ip4, ip6;    /* allocated (family 0 = none) */
	struct ipaddr req_ip4, req_ip6;   /* static request --ip/--ip6 (family 0 = none) */
	cJSON *aliases;            /* array of strings, owned, never NULL after load */
	/* Memory only, never stored: the bridge the manager put host_ifname on when the network
	 * spills over several ("" = the network's own, ifname of bnetwork). */
	char master[IFNAME_LEN];
};

enum ctr_state { CTR_CREATED = 0, CTR_RUNNING = 1, CTR_EXITED = 2 };

struct bcontainer {
	char id[ID_LEN + 1];
	char name[NAME_LEN];
	char image[NAME_LEN];
	char hostname[64];
	char created[40];
	char network_mode[NAME_LEN];   /* "" = networks of its endpoints, or "host" / "none" */
	cJSON *cmd;                    /* array of strings, owned */
	cJSON *env;                    /* array of "K=V", owned */
	cJSON *extra;                  /* object for later features (ports, dns ...), owned */
	bool auto_remove;
	enum ctr_state state;
	pid_t pid;                     /* container init as seen from berthd */
	pid_t shim_pid;
	uint64_t pid_start;            /* /proc/<pid>/stat starttime, guards against PID reuse */
	int exit_code;
	char started_at[40];
	char finished_at[40];
};

struct store;

/* BERTH_STORE_FAIL=<statement>[,<statement>...] (e.g. "alloc-delete,commit") makes every use of
 * those statements fail with -EIO, to test how callers survive a failing store. */
int store_open(const char *path, struct store **ret, struct berr *err);
void store_close(struct store *s);
/* How many operations failed in the database itself since the store was opened (I/O, locking,
 * corruption, injected failures; not constraint answers such as a name in use). A caller
 * compares two readings to learn whether a sequence of operations all reached the disk. */
unsigned store_failures(const struct store *s);

int store_begin(struct store *s, struct berr *err);
int store_commit(struct store *s, struct berr *err);
void store_rollback(struct store *s);

/* Key/value for small facts (host identity, counters). *ret malloc'd; -ENOENT when absent. */
int store_meta_get(struct store *s, const char *key, char **ret, struct berr *err);
int store_meta_put(struct store *s, const char *key, const char *value, struct berr *err);
int store_meta_delete(struct store *s, const char *key, struct berr *err);   /* missing: ok */
/* Every (key, value) whose key starts with prefix, in key order; cb returning <0 stops. */
int store_meta_list(struct store *s, const char *prefix,
		    int (*cb)(const char *key, const char *value, void *ud), void *ud,
		    struct berr *err);

/* Insert or replace by id. Names are UNIQUE: a duplicate gives -EEXIST. */
int store_network_put(struct store *s, const struct bnetwork *n, struct berr *err);
int store_network_delete(struct store *s, const char *id, struct berr *err);
/* Callback gets a loaded object it must take or free (bnetwork_free); returning <0 stops. */
int store_network_list(struct store *s, int (*cb)(struct bnetwork *n, void *ud), void *ud,
		       struct berr *err);

int store_container_put(struct store *s, const struct bcontainer *c, struct berr *err);
int store_container_delete(struct store *s, const char *id, struct berr *err);
int store_container_list(struct store *s, int (*cb)(struct bcontainer *c, void *ud), void *ud,
			 struct berr *err);

int store_endpoint_put(struct store *s, const struct bendpoint *e, struct berr *err);
int store_endpoint_delete(struct store *s, const char *id, struct berr *err);
int store_endpoint_list(struct store *s, int (*cb)(struct bendpoint *e, void *ud), void *ud,
			struct berr *err);

/* Address allocations: (network, address) is unique; owner is an endpoint ID or a tag such as
 * "gateway" or "aux:NAME". A duplicate gives -EADDRINUSE. */
int store_alloc_put(struct store *s, const char *network_id, const struct ipaddr *a,
		    const char *owner, struct berr *err);
int store_alloc_delete(struct store *s, const char *network_id, const struct ipaddr *a,
		       struct berr *err);
int store_alloc_delete_network(struct store *s, const char *network_id, struct berr *err);
int store_alloc_list(struct store *s,
		     int (*cb)(const char *network_id, const struct ipaddr *a, const char *owner,
			       void *ud),
		     void *ud, struct berr *err);

/* Object helpers (deep copy / free; free accepts NULL). */
void bnetwork_free(struct bnetwork *n);
void bcontainer_free(struct bcontainer *c);
void bendpoint_free(struct bendpoint *e);
