/* SPDX-License-Identifier: Apache-2.0 */
/* This host as a member of the cluster: its lease and its host record, and the keeper that
 * refreshes the lease.
 *
 * Registering talks to etcd (refresh the recorded lease or grant a new one, write the host
 * record), which may take up to the request timeout when the store is silent. So it runs in a
 * thread of its own, with a client of its own and without the manager lock; the event loop
 * applies its result (lock held) when its eventfd says it is done. One attempt at a time; the
 * 1 s timer starts the next while this host is not registered, so a berthd whose store is away
 * keeps serving everything else at full speed. */
#include <pthread.h>
#include <sys/eventfd.h>

#include "daemon/mgr_cluster.h"

#define META_LEASE "cluster/lease"

struct cl_registrar {
	struct etcd_client *etcd;   /* its own: a silent store stalls this thread only */
	int efd;
	pthread_t thread;
	bool busy;                  /* an attempt runs, or its result waits to be applied */
	/* one attempt: set before the thread starts, read after it signalled */
	const struct cluster *cl;   /* read-only there: its configuration */
	int64_t lease;
	bool fresh, expired;
	int ttl_granted;
	char *key, *value;
	int64_t rev;
	int r;
	struct berr err;
};

bool cl_registered(const struct cluster *cl)
{
	return cl->keeper != NULL;
}

/* ---- the attempt (registrar thread: no manager state) ---- */

/* The lease this host's keys live under: the recorded one while etcd keeps it, else a new one. */
static int lease_acquire(struct cl_registrar *g)
{
	int r;

	g->fresh = g->expired = false;
	g->ttl_granted = g->cl->ttl;
	if (g->lease) {
		r = etcd_lease_keepalive(g->etcd, g->lease, NULL, &g->err);
		if (r >= 0)
			return 0;
		if (r != -ENOENT)
			return cl_fail(&g->err);
		g->expired = true;
		berr_clear(&g->err);
	}
	r = etcd_lease_grant(g->etcd, g->cl->ttl, &g->lease, &g->ttl_granted, &g->err);
	if (r < 0)
		return cl_fail(&g->err);
	g->fresh = true;
	return 0;
}

/* The host record, written if absent or already under this host's lease: a record under
 * another lease is another live berthd using the same name (-EADDRINUSE; retried until that
 * lease is gone, e.g. this host's own from before a reinstall). Two transactions at most:
 * etcd has no "or". */
static int host_put(struct cl_registrar *g)
{
	const struct etcd_cmp cmp[2] = {
		{ .key = g->key, .target = ETCD_CMP_VERSION, .number = 0 },
		{ .key = g->key, .target = ETCD_CMP_LEASE, .number = g->lease },
	};
	const struct etcd_op put = { .kind = ETCD_OP_PUT, .key = g->key, .value = g->value,
				     .lease = g->lease };
	const struct etcd_op get = { .kind = ETCD_OP_GET, .key = g->key };
	struct etcd_txn_reply t;
	int r = etcd_txn(g->etcd, &cmp[0], 1, &put, 1, &get, 1, &t, &g->err);

	if (r >= 0 && !t.succeeded && t.n == 1 && t.replies[0].kvs.n == 1 &&
	    t.replies[0].kvs.kv[0].lease == g->lease) {
		etcd_txn_reply_clear(&t);
		r = etcd_txn(g->etcd, &cmp[1], 1, &put, 1, &get, 1, &t, &g->err);
	}
	if (r < 0)
		return cl_fail(&g->err);
	g->rev = t.revision;
	if (!t.succeeded)
		r = berr_set(&g->err, -EADDRINUSE, "host name %s is in use by another live member "
			     "(%.100s): give each host its own --cluster-host-name", g->cl->host,
			     t.n == 1 && t.replies[0].kvs.n == 1 ? t.replies[0].kvs.kv[0].value : "?");
	etcd_txn_reply_clear(&t);
	return r;
}

static void *registrar_main(void *arg)
{
	struct cl_registrar *g = arg;
	uint64_t one = 1;

	g->r = lease_acquire(g);
	if (g->r >= 0)
		g->r = host_put(g);
	if (write(g->efd, &one, sizeof(one)) < 0) {
		/* a counter cannot overflow from one write per attempt */
	}
	return NULL;
}

/* ---- the manager's side (lock held) ---- */

static void lease_save(struct manager *m, int64_t lease)
{
	struct berr e2 = BERR_INIT;
	char buf[32];
	int r;

	snprintf(buf, sizeof(buf), "%lld", (long long)lease);
	r = lease ? store_meta_put(m->store, META_LEASE, buf, &e2)
		  : store_meta_delete(m->store, META_LEASE, &e2);
	if (r < 0)
		blog_warn("cluster: recording the lease: %s", berr_str(&e2));
}

static int64_t lease_load(struct manager *m)
{
	_cleanup_free_ char *v = NULL;

	if (store_meta_get(m->store, META_LEASE, &v, NULL) < 0)
		return 0;
	return strtoll(v, NULL, 10);
}

void cl_register_kick(struct manager *m)
{
	struct cluster *cl = m->cl;
	struct cl_registrar *g = cl->reg;
	struct cl_host h = { .vtep = cl->vtep, .port = cl->port };
	struct cl_key k = { .kind = CL_KEY_HOST };
	int r;

	if (g->busy || cl_registered(cl))
		return;
	strscpy(h.name, cl->host, sizeof(h.name));
	strscpy(k.host, cl->host, sizeof(k.host));
	free(g->key);
	free(g->value);
	g->key = cl_key_fmt(cl->prefix, &k);
	g->value = cl_host_encode(&h);
	g->lease = cl->lease;
	berr_clear(&g->err);
	r = pthread_create(&g->thread, NULL, registrar_main, g);
	if (r != 0) {
		blog_warn("cluster: no thread to register this host: %s", strerror(r));
		return;
	}
	g->busy = true;
}

static void keeper_cb(struct manager *m, int fd, void *ud);

static int keeper_start(struct manager *m, struct berr *err)
{
	struct cluster *cl = m->cl;
	int r = etcd_keeper_start(cl->etcd, cl->lease, cl->ttl, &cl->keeper, err);

	if (r >= 0)
		r = mgr_watch_add(m, etcd_keeper_fd(cl->keeper), keeper_cb, NULL);
	if (r < 0 && cl->keeper)
		etcd_keeper_stop(steal_ptr(cl->keeper));
	return r;
}

static void registered_log(struct cluster *cl, const struct cl_registrar *g)
{
	char buf[IP_STRLEN];

	if (g->ttl_granted != cl->ttl)
		blog_info("cluster: etcd granted a TTL of %d s (asked %d s)", g->ttl_granted,
			  cl->ttl);
	blog_info("cluster: registered as host %s (VTEP %s, UDP %u) under %s lease %llx", cl->host,
		  ip_fmt(&cl->vtep, buf), cl->port, g->fresh ? "new" : "its",
		  (unsigned long long)cl->lease);
}

/* The attempt ended: apply it, or say why not (once until it works). */
static void registrar_cb(struct manager *m, int fd, void *ud)
{
	struct cluster *cl = m->cl;
	struct cl_registrar *g = cl->reg;
	struct berr err = BERR_INIT;
	static bool said;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 || !g->busy)
		return;
	pthread_join(g->thread, NULL);
	g->busy = false;
	if (g->expired)
		blog_info("cluster: lease %llx expired while berthd was away: registering anew",
			  (unsigned long long)cl->lease);
	if (g->lease != cl->lease || g->fresh) {
		cl->lease = g->lease;
		lease_save(m, cl->lease);
	}
	if (g->r >= 0)
		cl_apply_put(m, g->key, g->value, g->rev, cl->lease);
	if (g->r < 0 || keeper_start(m, &err) < 0) {
		if (!said)
			blog_warn("cluster: registering host %s: %s (retrying every second)", cl->host,
				  berr_str(g->r < 0 ? &g->err : &err));
		said = true;
		return;
	}
	said = false;
	registered_log(cl, g);
	if (cl->synced)
		cl_own_keys_sync(m);
}

static void keeper_drop(struct manager *m)
{
	struct cluster *cl = m->cl;

	if (!cl->keeper)
		return;
	mgr_watch_del(m, etcd_keeper_fd(cl->keeper));
	etcd_keeper_stop(steal_ptr(cl->keeper));
}

static void keeper_cb(struct manager *m, int fd, void *ud)
{
	struct cluster *cl = m->cl;
	struct berr why = BERR_INIT;
	enum etcd_lease_state st;

	if (!cl->keeper)
		return;
	st = etcd_keeper_state(cl->keeper, &why);
	if (st == ETCD_LEASE_UNREACHABLE) {
		blog_warn("cluster: lease %llx cannot be refreshed: %s", (unsigned long long)cl->lease,
			  berr_str(&why));
		return;
	}
	if (st == ETCD_LEASE_ALIVE) {
		blog_info("cluster: lease %llx refreshed again", (unsigned long long)cl->lease);
		return;
	}
	blog_warn("cluster: lease %llx lost (%s): registering again", (unsigned long long)cl->lease,
		  berr_str(&why));
	keeper_drop(m);
	cl->lease = 0;
	lease_save(m, 0);
	cl_register_kick(m);
}

int cl_registrar_open(struct manager *m, const struct mgr_cluster_config *cfg, struct berr *err)
{
	struct etcd_config ec = { .url = cfg->store_url, .cafile = cfg->cafile,
				  .certfile = cfg->certfile, .keyfile = cfg->keyfile,
				  .connect_timeout_ms = CL_CONNECT_MS,
				  .request_timeout_ms = CL_REQUEST_MS };
	struct cl_registrar *g = xcalloc(1, sizeof(*g));
	int r;

	g->cl = m->cl;
	g->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->cl->reg = g;
	if (g->efd < 0)
		return berr_errno(err, -errno, "eventfd");
	r = etcd_client_new(&ec, &g->etcd, err);
	if (r < 0)
		return r;
	r = mgr_watch_add(m, g->efd, registrar_cb, NULL);
	if (r < 0)
		return berr_errno(err, r, "watching the registration's eventfd");
	m->cl->lease = lease_load(m);
	return 0;
}

void cl_registrar_close(struct manager *m)
{
	struct cl_registrar *g = m->cl->reg;

	keeper_drop(m);
	if (!g)
		return;
	if (g->busy)
		pthread_join(g->thread, NULL);   /* bounded by the request timeout */
	if (g->efd >= 0) {
		mgr_watch_del(m, g->efd);
		close(g->efd);
	}
	etcd_client_free(g->etcd);
	free(g->key);
	free(g->value);
	free(g);
	m->cl->reg = NULL;
}
