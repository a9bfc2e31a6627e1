/* SPDX-License-Identifier: Apache-2.0 */
/* Cluster store client: etcd v3 through its JSON gateway (libcurl + cJSON).
 *
 * A client holds an endpoint list ("etcd://10.0.0.5:2379,10.0.0.6:2379"), optional TLS files and
 * two timeouts. Every call is bounded: each endpoint gets at most `connect_timeout_ms` to accept
 * the connection, the whole call (failover included) at most `request_timeout_ms`. A call starts
 * at the endpoint that answered last and moves to the next one when an endpoint cannot be
 * reached or has no leader; a write whose fate is unknown (sent, then no answer) is never sent
 * again. Calls on one client are serialised by its mutex; the watch and the lease keeper run in
 * threads of their own with their own connections.
 *
 * Errors (negative errno, message in the berr):
 *   -EHOSTUNREACH  no endpoint could serve the call: "etcd unreachable: tried 10.0.0.5:2379
 *                  (connection refused), 10.0.0.6:2379 (etcdserver: no leader)"
 *   -ETIMEDOUT     a request was sent and not answered in time (a write may have been applied)
 *   -ENOENT        get: no such key; keepalive: the lease expired or never existed
 *   -EEXIST        etcd_create: the key exists;  -ESTALE  etcd_cas: the key changed
 *   -EINVAL, -EACCES, -ERANGE (revision compacted), -ENOSPC, -EPROTO (not an etcd reply) ...
 *
 * Keys are C strings; values are C strings on the way in and NUL-terminated byte strings (with
 * their length) on the way out. The library never logs above debug. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define ETCD_MAX_ENDPOINTS 16
#define ETCD_DEFAULT_PORT 2379
#define ETCD_CONNECT_TIMEOUT_MS 1000
#define ETCD_REQUEST_TIMEOUT_MS 5000

struct etcd_config {
	/* "etcd://h1:2379,h2:2379[/prefix]"; also http://, https:// or no scheme; port defaults to
	 * 2379; IPv6 as [addr]:port. Any TLS file turns etcd:// into https://. */
	const char *url;
	const char *cafile;        /* CA bundle to verify the servers (NULL: the system's) */
	const char *certfile;      /* client certificate and key (NULL: none) */
	const char *keyfile;
	int connect_timeout_ms;    /* 0: ETCD_CONNECT_TIMEOUT_MS */
	int request_timeout_ms;    /* 0: ETCD_REQUEST_TIMEOUT_MS */
};

struct etcd_client;

int etcd_client_new(const struct etcd_config *cfg, struct etcd_client **ret, struct berr *err);
void etcd_client_free(struct etcd_client *c);
/* The URL's path without its slashes ("etcd://h/berth/c1" -> "berth/c1"), "" when none. The
 * client does not use it: callers put it in front of their keys. */
const char *etcd_client_prefix(const struct etcd_client *c);
/* "h1:2379, h2:2379" (for messages). */
const char *etcd_client_endpoints(const struct etcd_client *c);

struct etcd_kv {
	char *key;
	char *value;               /* NUL-terminated; "" when the reply had none */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease;
};

struct etcd_kvs {
	struct etcd_kv *kv;
	size_t n;
	int64_t revision;          /* store revision the range was read at */
	bool more;                 /* a limit cut the range short */
	size_t skipped;            /* entries of the reply that did not decode (not in kv) */
};

void etcd_kv_clear(struct etcd_kv *kv);
void etcd_kvs_clear(struct etcd_kvs *kvs);

/* One key; -ENOENT when absent. ret_revision (optional): the store revision. */
int etcd_get(struct etcd_client *c, const char *key, struct etcd_kv *ret, int64_t *ret_revision,
	     struct berr *err);
/* Every key starting with prefix, sorted by key, at `revision` (0: the latest). */
int etcd_range_prefix(struct etcd_client *c, const char *prefix, int64_t revision,
		      struct etcd_kvs *ret, struct berr *err);
/* lease 0: none. ret_revision (optional): revision of the write. */
int etcd_put(struct etcd_client *c, const char *key, const char *value, int64_t lease,
	     int64_t *ret_revision, struct berr *err);
/* Deleting what is not there succeeds (*ret_deleted = 0). prefix: every key starting with key. */
int etcd_delete(struct etcd_client *c, const char *key, bool prefix, int64_t *ret_deleted,
		struct berr *err);

/* Transactions: if every compare holds, the `then` operations run, else the `otherwise` ones;
 * atomically, in one revision. */
enum etcd_cmp_target { ETCD_CMP_VERSION, ETCD_CMP_CREATE, ETCD_CMP_MOD, ETCD_CMP_VALUE, ETCD_CMP_LEASE };
enum etcd_cmp_result { ETCD_CMP_EQUAL, ETCD_CMP_NOT_EQUAL, ETCD_CMP_LESS, ETCD_CMP_GREATER };

struct etcd_cmp {
	const char *key;
	enum etcd_cmp_target target;
	enum etcd_cmp_result result;
	int64_t number;            /* VERSION, CREATE, MOD (revisions; 0 = absent), LEASE */
	const char *value;         /* VALUE */
};

enum etcd_op_kind { ETCD_OP_GET, ETCD_OP_PUT, ETCD_OP_DELETE };

struct etcd_op {
	enum etcd_op_kind kind;
	const char *key;
	bool prefix;               /* GET, DELETE: every key starting with key */
	const char *value;         /* PUT */
	int64_t lease;             /* PUT; 0 = none */
};

struct etcd_op_reply {
	enum etcd_op_kind kind;
	struct etcd_kvs kvs;       /* GET */
	int64_t deleted;           /* DELETE */
};

struct etcd_txn_reply {
	bool succeeded;            /* the compares held: `then` ran */
	int64_t revision;
	size_t n;
	struct etcd_op_reply *replies;   /* one per operation of the branch that ran */
};

#define ETCD_TXN_MAX_OPS 128   /* etcd's default --max-txn-ops */

int etcd_txn(struct etcd_client *c, const struct etcd_cmp *cmp, size_t n_cmp,
	     const struct etcd_op *then, size_t n_then, const struct etcd_op *otherwise,
	     size_t n_otherwise, struct etcd_txn_reply *ret, struct berr *err);
void etcd_txn_reply_clear(struct etcd_txn_reply *r);

/* Create-if-absent: -EEXIST when the key exists; then ret_existing (optional) holds it (so a
 * caller whose earlier attempt timed out can tell its own value). */
int etcd_create(struct etcd_client *c, const char *key, const char *value, int64_t lease,
		struct etcd_kv *ret_existing, struct berr *err);
/* Compare-and-swap: write only if the key's mod_revision is still `mod_revision` (0: the key
 * must not exist); -ESTALE otherwise. ret_revision (optional): revision of the write. */
int etcd_cas(struct etcd_client *c, const char *key, int64_t mod_revision, const char *value,
	     int64_t lease, int64_t *ret_revision, struct berr *err);

/* Leases. grant: ret_ttl (optional) is the TTL etcd granted (it raises TTLs below its minimum).
 * keepalive: -ENOENT when the lease expired or never existed. revoke: an unknown lease is fine. */
int etcd_lease_grant(struct etcd_client *c, int ttl_s, int64_t *ret_id, int *ret_ttl,
		     struct berr *err);
int etcd_lease_keepalive(struct etcd_client *c, int64_t id, int *ret_ttl, struct berr *err);
int etcd_lease_revoke(struct etcd_client *c, int64_t id, struct berr *err);

/* A lease keeper: a thread that refreshes the lease every ttl/3 s. Its eventfd becomes readable
 * when the state changes; etcd_keeper_state() clears it and tells the state (and why). LOST is
 * final (etcd said the lease is gone: grant a new one and write the keys again); UNREACHABLE
 * means refreshes fail (the lease may still live) and the keeper keeps trying. */
enum etcd_lease_state { ETCD_LEASE_ALIVE, ETCD_LEASE_UNREACHABLE, ETCD_LEASE_LOST };
struct etcd_keeper;

int etcd_keeper_start(struct etcd_client *c, int64_t id, int ttl_s, struct etcd_keeper **ret,
		      struct berr *err);
int etcd_keeper_fd(const struct etcd_keeper *k);
enum etcd_lease_state etcd_keeper_state(struct etcd_keeper *k, struct berr *ret_why);
void etcd_keeper_stop(struct etcd_keeper *k);
const char *etcd_lease_state_str(enum etcd_lease_state s);

/* A watch on a prefix: a thread streams /v3/watch and queues items; its eventfd is readable
 * while items may be queued; etcd_watch_next() takes one (1) or says the queue is empty (0).
 *   PUT, DELETE  one event, in revision order (DELETE: kv has key and mod_revision only)
 *   RESET        snapshot: every key under the prefix at `revision`; replace what you knew.
 *                Sent first when start_revision is 0, and when the revision to resume from has
 *                been compacted away (events were lost)
 *   UP, DOWN     the stream is established / broke (msg says why); the thread reconnects by
 *                itself, through the other endpoints, and resumes after the last event it
 *                delivered: nothing is lost or repeated.
 * The queue is bounded: the thread stops reading from etcd while it is full. */
enum etcd_watch_kind { ETCD_WATCH_PUT, ETCD_WATCH_DELETE, ETCD_WATCH_RESET, ETCD_WATCH_UP,
		       ETCD_WATCH_DOWN };

struct etcd_watch_item {
	enum etcd_watch_kind kind;
	int64_t revision;          /* PUT/DELETE: of the event; RESET: of the snapshot */
	struct etcd_kv kv;         /* PUT, DELETE */
	struct etcd_kvs snapshot;  /* RESET */
	char msg[BERR_MSG_MAX];    /* UP: the endpoint; DOWN: the reason */
};

struct etcd_watch;

/* start_revision > 0: events from that revision on; 0: a RESET with the current state first. */
int etcd_watch_start(struct etcd_client *c, const char *prefix, int64_t start_revision,
		     struct etcd_watch **ret, struct berr *err);
int etcd_watch_fd(const struct etcd_watch *w);
int etcd_watch_next(struct etcd_watch *w, struct etcd_watch_item *ret);
void etcd_watch_item_clear(struct etcd_watch_item *it);
void etcd_watch_stop(struct etcd_watch *w);
const char *etcd_watch_kind_str(enum etcd_watch_kind k);
