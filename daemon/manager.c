/* SPDX-License-Identifier: Apache-2.0 */
/* Manager core: opening the state, the in-memory model, lookups. */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "daemon/mgr_internal.h"
#include "runtime/runtime.h"

struct net_entry *mgr_net_by_id(struct manager *m, const char *id)
{
	for (size_t i = 0; i < m->nets.n; i++)
		if (strcmp(m->nets.v[i]->n.id, id) == 0)
			return m->nets.v[i];
	return NULL;
}

struct ctr_entry *mgr_ctr_by_id(struct manager *m, const char *id)
{
	for (size_t i = 0; i < m->ctrs.n; i++)
		if (strcmp(m->ctrs.v[i]->c.id, id) == 0)
			return m->ctrs.v[i];
	return NULL;
}

/* bnetwork and bcontainer both start with id[] then name[]: one resolver serves both. */
struct named {
	char id[ID_LEN + 1];
	char name[NAME_LEN];
};
_Static_assert(offsetof(struct bnetwork, name) == offsetof(struct named, name), "layout");
_Static_assert(offsetof(struct bcontainer, name) == offsetof(struct named, name), "layout");

/* Docker's resolution order: full ID, exact name, unique ID prefix. */
static void *find_ref(void **v, size_t n, const char *ref, const char *kind, struct berr *err)
{
	size_t len = strlen(ref), hits = 0;
	void *hit = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct named *o = v[i];

		if (strcmp(o->id, ref) == 0 || strcmp(o->name, ref) == 0)
			return v[i];
	}
	for (size_t i = 0; i < n && len > 0; i++)
		if (strncmp(((const struct named *)v[i])->id, ref, len) == 0) {
			hit = v[i];
			hits++;
		}
	if (hits == 1)
		return hit;
	if (hits > 1)
		berr_set(err, -ENOENT, "%s ID prefix \"%s\" is ambiguous", kind, ref);
	else
		berr_set(err, -ENOENT, "no such %s: %s", kind, ref);
	return NULL;
}

struct net_entry *mgr_net_find(struct manager *m, const char *ref, struct berr *err)
{
	return find_ref((void **)m->nets.v, m->nets.n, ref, "network", err);
}

struct ctr_entry *mgr_ctr_find(struct manager *m, const char *ref, struct berr *err)
{
	return find_ref((void **)m->ctrs.v, m->ctrs.n, ref, "container", err);
}

const struct ep_group *mgr_ep_group(struct manager *m, const char *ctr_id)
{
	return strmap_get(&m->ep_groups, ctr_id);
}

void mgr_ep_add(struct manager *m, struct ep_entry *ep)
{
	struct ep_group *g = strmap_get(&m->ep_groups, ep->e.container_id);

	if (!g) {
		g = xcalloc(1, sizeof(*g));
		strscpy(g->ctr_id, ep->e.container_id, sizeof(g->ctr_id));
		strmap_put(&m->ep_groups, g->ctr_id, g);
	}
	vec_push(g->eps, ep);
	vec_push(m->eps, ep);
}

/* ep out of its group (the group goes with its last endpoint). */
void mgr_ep_ungroup(struct manager *m, const struct ep_entry *ep)
{
	struct ep_group *g = strmap_get(&m->ep_groups, ep->e.container_id);

	for (size_t i = 0; g && i < g->eps.n; i++)
		if (g->eps.v[i] == ep) {
			vec_remove(g->eps, i);
			break;
		}
	if (g && g->eps.n == 0) {
		strmap_del(&m->ep_groups, g->ctr_id);
		free(g->eps.v);
		free(g);
	}
}

struct ep_entry *mgr_ep_find(struct manager *m, const char *net_id, const char *ctr_id)
{
	const struct ep_group *g = mgr_ep_group(m, ctr_id);

	for (size_t i = 0; g && i < g->eps.n; i++)
		if (strcmp(g->eps.v[i]->e.network_id, net_id) == 0)
			return g->eps.v[i];
	return NULL;
}

static int ep_seq_cmp(const void *a, const void *b)
{
	const struct ep_entry *x = *(struct ep_entry *const *)a, *y = *(struct ep_entry *const *)b;

	return x->e.seq < y->e.seq ? -1 : x->e.seq > y->e.seq;
}

size_t mgr_ctr_eps(struct manager *m, const char *ctr_id, struct ep_entry ***ret)
{
	const struct ep_group *g = mgr_ep_group(m, ctr_id);
	size_t n = g ? g->eps.n : 0;
	struct ep_entry **v = xcalloc(n + 1, sizeof(*v));

	if (n)
		memcpy(v, g->eps.v, n * sizeof(*v));
	qsort(v, n, sizeof(*v), ep_seq_cmp);
	*ret = v;
	return n;
}

size_t mgr_net_ep_count(struct manager *m, const char *net_id)
{
	size_t n = 0;

	for (size_t i = 0; i < m->eps.n; i++)
		n += strcmp(m->eps.v[i]->e.network_id, net_id) == 0;
	return n;
}

bool mgr_net_has_live_eps(struct manager *m, const char *net_id)
{
	for (size_t i = 0; i < m->eps.n; i++)
		if (strcmp(m->eps.v[i]->e.network_id, net_id) == 0 &&
		    m->eps.v[i]->e.state != EP_INACTIVE)
			return true;
	return false;
}

/* ---- loading ---- */

static int load_net(struct bnetwork *bn, void *ud)
{
	struct manager *m = ud;
	struct net_entry *n = xcalloc(1, sizeof(*n));
	struct berr err = BERR_INIT;

	n->n = *bn;
	free(bn);
	n->drv = driver_lookup(n->n.driver);
	for (int i = 0; i < n->n.n_subnets; i++) {
		const struct bsubnet *s = &n->n.subnets[i];

		/* The subnet was validated when the network was created: a pool that cannot be
		 * built now (a corrupted row) leaves it empty, every allocation on it then fails
		 * with a clear error, and the network can still be inspected and removed. */
		if (ipam_pool_init(&n->pools[i], &s->subnet, s->range.addr.family ? &s->range : NULL,
				   &err) < 0)
			blog_warn("network %s: %s", n->n.name, berr_str(&err));
	}
	vec_push(m->nets, n);
	return 0;
}

static int load_ctr(struct bcontainer *bc, void *ud)
{
	struct manager *m = ud;
	struct ctr_entry *c = xcalloc(1, sizeof(*c));

	c->c = *bc;
	free(bc);
	c->pidfd = -1;
	vec_push(m->ctrs, c);
	return 0;
}

static int load_ep(struct bendpoint *be, void *ud)
{
	struct manager *m = ud;
	struct ep_entry *e = xcalloc(1, sizeof(*e));

	e->e = *be;
	e->persisted = true;
	e->br = -1;
	free(be);
	mgr_ep_add(m, e);
	return 0;
}

static int load_alloc(const char *net_id, const struct ipaddr *a, const char *owner, void *ud)
{
	struct manager *m = ud;
	struct net_entry *n = mgr_net_by_id(m, net_id);

	if (!n)
		return 0;
	for (int i = 0; i < n->n.n_subnets; i++) {
		struct berr err = BERR_INIT;
		char buf[IP_STRLEN];

		if (!cidr_contains(&n->pools[i].subnet, a) || ipam_pool_taken(&n->pools[i], a))
			continue;
		/* A recorded address the pool refuses (outside its range after a corrupted row)
		 * is not handed out again by this pool anyway; start-up reconciliation frees
		 * allocations no live endpoint owns. */
		if (ipam_pool_reserve(&n->pools[i], a, &err) < 0)
			blog_warn("network %s: recorded allocation of %s (%s): %s", n->n.name,
				  ip_fmt(a, buf), owner, berr_str(&err));
	}
	return 0;
}

/* Allocation goes on after the last address handed out before the restart. */
static void cursors_load(struct manager *m)
{
	for (size_t i = 0; i < m->nets.n; i++) {
		struct net_entry *n = m->nets.v[i];

		for (int k = 0; k < n->n.n_subnets; k++) {
			_cleanup_free_ char *key = mgr_ipam_cursor_key(n, k), *v = NULL;
			struct ipaddr a;

			if (store_meta_get(m->store, key, &v, NULL) >= 0 &&
			    ip_parse(v, &a, NULL) >= 0 && cidr_contains(&n->pools[k].range, &a))
				n->pools[k].cursor = a;
		}
	}
}

static int state_load(struct manager *m, struct berr *err)
{
	int r;

	r = store_network_list(m->store, load_net, m, err);
	if (r >= 0)
		r = store_container_list(m->store, load_ctr, m, err);
	if (r >= 0)
		r = store_endpoint_list(m->store, load_ep, m, err);
	if (r >= 0)
		r = store_alloc_list(m->store, load_alloc, m, err);
	if (r >= 0)
		cursors_load(m);
	if (r >= 0)
		r = mgr_remote_load(m, err);
	return r < 0 ? berr_prefix(err, "loading state") : 0;
}

/* ---- opening ---- */

static int root_lock(struct manager *m, struct berr *err)
{
	_cleanup_free_ char *path = xasprintf("%s/berthd.lock", m->root);
	char pid[32] = "";
	ssize_t n;

	m->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (m->lock_fd < 0)
		return berr_errno(err, -errno, "opening %s", path);
	if (flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		n = pread(m->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		return berr_set(err, -EBUSY,
				"another berthd (pid %s) is already using root %s: stop it or "
				"choose another --root", pid[0] ? pid : "?", m->root);
	}
	/* The pid in the lock file only names the holder in the error above: not fatal. */
	if (ftruncate(m->lock_fd, 0) < 0) {
		blog_debug("truncating the lock file: %m");
	} else {
		n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (pwrite(m->lock_fd, pid, (size_t)n, 0) < 0)
			blog_debug("writing pid to lock file: %m");
	}
	return 0;
}

static int dirs_create(struct manager *m, struct berr *err)
{
	const char *subs[] = { "containers", "images", "trash" };
	const char *run_subs[] = { "netns", "containers" };
	int r;

	r = mkdir_p(m->root, 0700, err);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(subs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", m->root, subs[i]);

		r = mkdir_p(p, 0700, err);
	}
	if (r >= 0)
		r = mkdir_p(m->run, 0700, err);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(run_subs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", m->run, run_subs[i]);

		r = mkdir_p(p, 0700, err);
	}
	return r;
}

/* The containers' seccomp profile compiled once, for all their inits and execs. Without it each
 * of them compiles it (milliseconds per start). */
static void seccomp_export(struct manager *m)
{
	_cleanup_free_ char *path = xasprintf("%s/seccomp.bpf", m->run);
	struct berr err = BERR_INIT;

	if (rt_seccomp_export(path, &err) < 0) {
		blog_warn("%s: each container compiles its seccomp profile itself", berr_str(&err));
		return;
	}
	m->seccomp_path = steal_ptr(path);
}

static void host_id_load(struct manager *m)
{
	_cleanup_free_ char *id = NULL;
	size_t len = 0;

	if (read_file("/etc/machine-id", 4096, &id, &len, NULL) < 0 || len < 8) {
		free(id);
		id = NULL;
		if (store_meta_get(m->store, "host_id", &id, NULL) < 0) {
			char fresh[ID_LEN + 1];

			struct berr err = BERR_INIT;

			id_generate(fresh);
			/* Not fatal: without it the next start picks another ID, and with it another
			 * ULA prefix for networks created from then on (existing ones keep theirs). */
			if (store_meta_put(m->store, "host_id", fresh, &err) < 0)
				blog_warn("recording this host's ID: %s (the IPv6 prefix of new "
					  "networks changes at the next start)", berr_str(&err));
			id = xstrdup(fresh);
		}
		len = strlen(id);
	}
	m->host_id_len = len < sizeof(m->host_id) ? len : sizeof(m->host_id);
	memcpy(m->host_id, id, m->host_id_len);
}

/* ---- removing trees without the lock ---- */

static void *trash_worker(void *arg)
{
	_cleanup_free_ char *path = arg;
	struct berr err = BERR_INIT;

	delay_point("ctr-rm");
	if (rm_rf(path, &err) < 0)
		blog_warn("%s", berr_str(&err));
	return NULL;
}

/* Delete path (owned) in a detached thread; it never touches the manager, so the daemon may
 * exit under it (the next start finishes the job). */
static void trash_remove_async(char *path)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, trash_worker, path) != 0) {
		blog_warn("no thread to remove %s: removing it now", path);
		trash_worker(path);
	}
	pthread_attr_destroy(&attr);
}

void mgr_tree_discard(struct manager *m, const char *path)
{
	const char *base = strrchr(path, '/');
	char *trash = xasprintf("%s/trash/%s", m->root, base ? base + 1 : path);

	if (rename(path, trash) < 0) {
		int e = errno;

		free(trash);
		if (e == ENOENT)
			return;
		blog_debug("moving %s to the trash: %s", path, strerror(e));
		trash = xstrdup(path);     /* remove it where it is */
	}
	trash_remove_async(trash);
}

static bool ctr_id_like(const char *name)
{
	return strlen(name) == ID_LEN && name[strspn(name, "0123456789abcdef")] == '\0';
}

/* What a crash left: the trash, and the files of containers removed from the store before
 * their files were moved there. */
static void trees_sweep(struct manager *m)
{
	_cleanup_free_ char *trash = xasprintf("%s/trash", m->root);
	_cleanup_free_ char *ctrs = xasprintf("%s/containers", m->root);
	struct dirent *de;
	DIR *d;

	if ((d = opendir(trash))) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				trash_remove_async(xasprintf("%s/%s", trash, de->d_name));
		closedir(d);
	}
	if (!(d = opendir(ctrs)))
		return;
	while ((de = readdir(d)))
		if (ctr_id_like(de->d_name) && !mgr_ctr_by_id(m, de->d_name)) {
			_cleanup_free_ char *p = xasprintf("%s/%s", ctrs, de->d_name);

			blog_info("removing the files of removed container %.12s", de->d_name);
			mgr_tree_discard(m, p);
		}
	closedir(d);
}

static int kernel_open(struct manager *m, struct berr *err)
{
	int r;

	m->host_netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (m->host_netns_fd < 0)
		return berr_errno(err, -errno, "opening the host network namespace");
	r = nlx_open(-1, &m->host_nl, err);
	if (r < 0)
		return r;
	m->drv.host_nl = m->host_nl;
	m->drv.host_netns_fd = m->host_netns_fd;
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->epfd < 0)
		return berr_errno(err, -errno, "epoll_create1");
	return 0;
}

/* Timed waits measure time on CLOCK_MONOTONIC: a change of the wall clock moves no deadline. */
static void cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

int mgr_open(const struct mgr_config *cfg, struct manager **ret, struct berr *err)
{
	struct manager *m = xcalloc(1, sizeof(*m));
	_cleanup_free_ char *db = NULL;
	int r;

	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->image_lock, NULL);
	cond_init_monotonic(&m->exited);
	mgr_events_init(m);
	m->root = xstrdup(cfg->root);
	m->run = xstrdup(cfg->run);
	m->cni_dir = cfg->cni_config_dir ? xstrdup(cfg->cni_config_dir) : NULL;
	m->api_socket = cfg->socket ? xstrdup(cfg->socket) : NULL;
	m->lock_fd = m->host_netns_fd = m->epfd = -1;
	m->n_pools = cfg->n_pools;
	memcpy(m->pools, cfg->pools, cfg->n_pools * sizeof(cfg->pools[0]));
	/* Without an IPv4 pool among the configured ones, Docker's IPv4 defaults still apply. */
	bool have_v4 = false;

	for (size_t i = 0; i < m->n_pools; i++)
		have_v4 |= m->pools[i].base.addr.family == AF_INET;
	if (!have_v4)
		m->n_pools += ipam_builtin_pools(m->pools + m->n_pools, MGR_MAX_POOLS - m->n_pools);
	r = dirs_create(m, err);
	if (r >= 0)
		r = root_lock(m, err);
	if (r >= 0)
		seccomp_export(m);
	if (r >= 0) {
		db = xasprintf("%s/berth.db", m->root);
		r = store_open(db, &m->store, err);
	}
	if (r >= 0)
		r = kernel_open(m, err);
	if (r >= 0) {
		host_id_load(m);
		r = state_load(m, err);
	}
	if (r >= 0)
		r = mgr_cluster_open(m, &cfg->cluster, err);
	if (r >= 0) {
		trees_sweep(m);    /* before reconciliation adds to the trash */
		mgr_images_sweep(m);
	}
	if (r >= 0)
		r = mgr_reconcile(m, err);
	if (r >= 0)
		r = mgr_reaper_start(m, err);
	if (r >= 0)
		r = mgr_fw_init(m, err);
	if (r >= 0)
		r = mgr_default_networks(m, err);
	if (r >= 0)
		r = mgr_dns_init(m, err);
	if (r >= 0)
		r = mgr_ext_init(m, err);
	if (r >= 0)
		r = mgr_cluster_start(m, err);
	if (r < 0) {
		mgr_close(m);
		return r;
	}
	*ret = m;
	return 0;
}

void mgr_shutdown(struct manager *m)
{
	pthread_mutex_lock(&m->lock);
	m->shutting_down = true;
	mgr_exited_broadcast(m, NULL);
	pthread_mutex_unlock(&m->lock);
	mgr_events_shutdown(m);
}

void mgr_close(struct manager *m)
{
	if (!m)
		return;
	mgr_reaper_stop(m);
	mgr_remote_close(m);
	mgr_cluster_close(m);
	mgr_ext_close(m);
	mgr_dns_close(m);
	mgr_fw_close(m);
	for (size_t i = 0; i < m->nets.n; i++)
		mgr_net_entry_free(m->nets.v[i]);
	for (size_t i = 0; i < m->eps.n; i++)
		mgr_ep_drop(m, m->eps.v[i]), i--;
	for (size_t i = 0; i < m->ctrs.n; i++) {
		struct ctr_entry *c = m->ctrs.v[i];

		if (c->pidfd >= 0)
			close(c->pidfd);
		cJSON_Delete(c->c.cmd);
		cJSON_Delete(c->c.env);
		cJSON_Delete(c->c.extra);
		free(c);
	}
	for (size_t i = 0; i < m->watches.n; i++)
		free(m->watches.v[i]);
	free(m->watches.v);
	mgr_exit_watch_free_all(m);
	free(m->nets.v);
	free(m->eps.v);
	strmap_free(&m->ep_groups);
	free(m->ctrs.v);
	store_close(m->store);
	nlx_close(m->host_nl);
	if (m->host_netns_fd >= 0)
		close(m->host_netns_fd);
	if (m->epfd >= 0)
		close(m->epfd);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	mgr_events_close(m);
	mgr_execs_close(m);
	free(m->root);
	free(m->run);
	free(m->seccomp_path);
	free(m->cni_dir);
	free(m->api_socket);
	free(m);
}

int mgr_info(struct manager *m, cJSON **ret, struct berr *err)
{
	cJSON *o = cJSON_CreateObject();
	size_t running = 0;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->ctrs.n; i++)
		running += m->ctrs.v[i]->c.state == CTR_RUNNING;
	cJSON_AddStringToObject(o, "Name", "berth");
	cJSON_AddNumberToObject(o, "Containers", (double)m->ctrs.n);
	cJSON_AddNumberToObject(o, "ContainersRunning", (double)running);
	cJSON_AddNumberToObject(o, "Networks", (double)m->nets.n);
	cJSON_AddNumberToObject(o, "Endpoints", (double)m->eps.n);
	cJSON_AddStringToObject(o, "Root", m->root);
	cJSON_AddStringToObject(o, "Run", m->run);
	mgr_cluster_info(m, o);
	pthread_mutex_unlock(&m->lock);
	*ret = o;
	return 0;
}
