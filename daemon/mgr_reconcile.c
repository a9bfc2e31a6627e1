/* SPDX-License-Identifier: Apache-2.0 */
/* Start-up reconciliation: make store, kernel and processes agree after a restart or a crash.
 *   - networks: their kernel objects are (re)created, idempotently;
 *   - running containers still alive are adopted; dead ones are torn down and marked exited;
 *   - endpoints caught PENDING (a connect or disconnect interrupted) are rolled back;
 *   - interfaces and namespaces berth created that nothing owns any more are removed;
 *   - IPAM allocations match the live endpoints exactly.
 *
 * Failures. A kernel object that cannot be repaired or removed is logged with what was left,
 * and the state that describes it stays as it is (PENDING endpoint, orphan) so that the next
 * start retries. A repair the store cannot record makes reconciliation stop and fail: berthd
 * refuses to start rather than serve from memory that no longer matches its store (every repair
 * records its intent first, so the next start redoes it). */
#include <dirent.h>
#include <fcntl.h>

#include "daemon/mgr_internal.h"
#include "runtime/runtime.h"

static int net_store_put(struct manager *m, const struct bnetwork *n, struct berr *err)
{
	int r = store_begin(m->store, err);

	if (r >= 0)
		r = store_network_put(m->store, n, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0)
		store_rollback(m->store);
	return r;
}

/* Host objects marked foreign that are gone (the user deleted their bridge while berthd was
 * away): restore() re-creates them, so from now on berth owns them. Recorded before. */
static int net_reclaim(struct manager *m, struct net_entry *n, struct berr *err)
{
	struct bnetwork now = n->n;   /* shallow: host_probe() only sets the marks */
	bool changed = false;
	int r;

	if (!n->drv->host_probe || !n->n.ifname_foreign)
		return 0;
	r = n->drv->host_probe(&m->drv, &now, err);
	if (r < 0)
		return r;
	now.ifname_foreign &= n->n.ifname_foreign;
	changed |= now.ifname_foreign != n->n.ifname_foreign;
	for (int i = 0; i < now.n_subnets; i++) {
		now.subnets[i].gateway_foreign &= n->n.subnets[i].gateway_foreign;
		changed |= now.subnets[i].gateway_foreign != n->n.subnets[i].gateway_foreign;
	}
	if (!changed)
		return 0;
	blog_info("network %s: what it used of %s is gone: berth re-creates it and owns it",
		  n->n.name, n->n.ifname);
	r = net_store_put(m, &now, err);
	if (r >= 0)
		n->n = now;
	return r;
}

static void networks_restore(struct manager *m)
{
	for (size_t i = 0; i < m->nets.n; i++) {
		struct net_entry *n = m->nets.v[i];
		struct berr e2 = BERR_INIT;
		int r = mgr_net_removing(m, n->n.id, &e2);

		if (r < 0) {
			blog_error("network %s: %s", n->n.name, berr_str(&e2));
			continue;
		}
		if (r > 0) {
			blog_info("finishing the interrupted removal of network %s", n->n.name);
			if (mgr_net_remove_local(m, n, &e2) < 0)
				blog_warn("%s; retried at the next start", berr_str(&e2));
			else
				i--;
			continue;
		}
		if (!n->drv) {
			blog_warn("network %s: unknown driver %s", n->n.name, n->n.driver);
			continue;
		}
		if (net_reclaim(m, n, &e2) < 0)
			blog_warn("network %s: %s", n->n.name, berr_str(&e2));
		/* an overlay network has kernel objects only while this host has endpoints on it */
		if (n->drv->global_scope && !mgr_net_has_live_eps(m, n->n.id))
			continue;
		if (n->drv->restore && n->drv->restore(&m->drv, &n->n, &e2) < 0)
			blog_warn("restoring network %s: %s; retried at the next start", n->n.name,
				  berr_str(&e2));
	}
}

static void ep_repair(struct manager *m, struct ctr_entry *c, struct ep_entry *ep)
{
	struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);
	_cleanup_free_ char *path = mgr_ctr_netns_path(m, &c->c);
	struct sandbox sb = { .container_id = c->c.id, .netns_path = path };
	struct berr e2 = BERR_INIT;
	int r;

	if (ep->e.state == EP_PENDING) {
		blog_info("rolling back interrupted endpoint %.12s of %s", ep->e.id, c->c.name);
		if (mgr_ep_deactivate(m, c, ep, true, &e2) < 0)
			blog_warn("rolling back endpoint %.12s of %s: %s; it stays pending (retried at "
				  "the next start)", ep->e.id, c->c.name, berr_str(&e2));
		return;
	}
	if (ep->e.state != EP_ACTIVE || !n || !n->drv || !n->drv->join || !n->drv->endpoint_check)
		return;
	sb.netns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (sb.netns_fd < 0)
		berr_errno(&e2, -errno, "opening %s", path);
	r = n->drv->endpoint_check(&m->drv, &n->n, &ep->e, sb.netns_fd >= 0 ? &sb : NULL, &e2);
	if (r == 0) {
		blog_info("re-creating missing interface %s of %s", ep->e.ifname, c->c.name);
		r = sb.netns_fd < 0 ? e2.code : 0;
		if (r >= 0 && ep->br < 0)
			r = mgr_spill_assign(m, n, ep, &e2);
		if (r >= 0)
			r = n->drv->join(&m->drv, &n->n, &ep->e, &sb, &e2);
	}
	if (r < 0)
		blog_warn("repairing endpoint %.12s of %s: %s; retried at the next start", ep->e.id,
			  c->c.name, berr_str(&e2));
	if (sb.netns_fd >= 0)
		close(sb.netns_fd);
}

static void ctr_adopt(struct manager *m, struct ctr_entry *c)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	size_t n = mgr_ctr_eps(m, c->c.id, &eps);
	struct berr e2 = BERR_INIT;

	for (size_t i = 0; i < n; i++)
		ep_repair(m, c, eps[i]);
	if (!mgr_ctr_host_netns(m, c) && mgr_sandbox_routes(m, c, &e2) < 0)
		blog_warn("container %s: routes: %s", c->c.name, berr_str(&e2));
	if (mgr_ctr_external(c)) {
		blog_info("adopted external sandbox %s", c->c.name);
		return;
	}
	if (mgr_ctr_watch(m, c) < 0)
		blog_warn("container %s: cannot watch its exit", c->c.name);
	blog_info("adopted running container %s (pid %d)", c->c.name, (int)c->c.pid);
}

/* A crash between the process start and the store commit leaves a running container the store
 * calls stopped. Its shim wrote <run>/containers/<id>/shim.pid: find it and its init (the
 * shim's only child), and finish the start by recording them. */
static bool orphan_find(struct manager *m, struct ctr_entry *c, struct rt_proc *ret)
{
	_cleanup_free_ char *run = mgr_ctr_run_dir(m, &c->c);
	_cleanup_free_ char *pidfile = xasprintf("%s/shim.pid", run);
	_cleanup_free_ char *buf = NULL, *cmd = NULL, *kids = NULL, *kpath = NULL;
	_cleanup_free_ char *cpath = NULL;
	size_t len = 0;
	int shim;

	if (read_file(pidfile, 64, &buf, NULL, NULL) < 0 || sscanf(buf, "%d", &shim) != 1 ||
	    shim <= 1)
		return false;
	cpath = xasprintf("/proc/%d/cmdline", shim);
	if (read_file(cpath, 4096, &cmd, &len, NULL) < 0 || !memmem(cmd, len, c->c.id, ID_LEN))
		return false;
	kpath = xasprintf("/proc/%d/task/%d/children", shim, shim);
	if (read_file(kpath, 4096, &kids, NULL, NULL) < 0 || sscanf(kids, "%d", &ret->pid) != 1)
		return false;
	ret->shim_pid = shim;
	return rt_proc_start_time(ret->pid, &ret->pid_start) >= 0;
}

static bool orphan_adopt(struct manager *m, struct ctr_entry *c)
{
	struct rt_proc p = { 0 };
	struct berr err = BERR_INIT;

	if (!orphan_find(m, c, &p))
		return false;
	blog_info("finishing the interrupted start of container %s (pid %d)", c->c.name,
		  (int)p.pid);
	/* A store failure here is counted by the store: reconciliation then refuses to start,
	 * and the next start adopts the process again. */
	if (mgr_ctr_record_running(m, c, &p, &err) < 0)
		blog_error("%s", berr_str(&err));
	return true;
}

static void containers_reconcile(struct manager *m)
{
	for (size_t i = 0; i < m->ctrs.n; i++) {
		struct ctr_entry *c = m->ctrs.v[i];
		_cleanup_free_ char *run = mgr_ctr_run_dir(m, &c->c);
		int code = 255;

		if (mgr_ctr_external(c)) {   /* released when its namespace is gone */
			if (mgr_ext_reconcile(m, c) > 0)
				i--;
			else
				ctr_adopt(m, c);
			continue;
		}
		if (c->c.state != CTR_RUNNING && orphan_adopt(m, c)) {
			ctr_adopt(m, c);
			continue;
		}
		if (c->c.state != CTR_RUNNING) {
			mgr_ctr_net_teardown(m, c);   /* logs what it could not undo */
			continue;
		}
		if (rt_proc_alive(c->c.pid, c->c.pid_start) == 1) {
			ctr_adopt(m, c);
			continue;
		}
		/* no readable exit file: code stays 255, as for any exit status that was lost */
		rt_exit_code(run, &code, NULL);
		blog_info("container %s died while berthd was away (exit %d)", c->c.name, code);
		mgr_ctr_exited(m, c, code);
		if (i < m->ctrs.n && m->ctrs.v[i] != c)
			i--;   /* auto-removed */
	}
}

static bool ifname_owned(struct manager *m, const char *name)
{
	for (size_t i = 0; i < m->eps.n; i++)
		if (m->eps.v[i]->e.state == EP_ACTIVE && strcmp(m->eps.v[i]->e.host_ifname, name) == 0)
			return true;
	if (mgr_spill_owns(m, name))
		return true;
	for (size_t i = 0; i < m->nets.n; i++) {
		const struct net_entry *n = m->nets.v[i];

		if (strcmp(n->n.ifname, name) == 0 ||
		    (n->drv && n->drv->owns_host_ifname && n->drv->owns_host_ifname(&n->n, name)))
			return true;
	}
	return false;
}

/* The names berth generates for host interfaces are a prefix and at least 10 hex digits of an ID
 * or a hash (bridges, veth host ends, macvlan shims): an interface that merely shares a prefix
 * (a user's "berth-lan" or "bvlan") is never touched. */
static bool ifname_generated(const char *name, const char *prefix)
{
	size_t p = strlen(prefix), n = strlen(name);

	return n >= p + 10 && strncmp(name, prefix, p) == 0 &&
	       strspn(name + p, "0123456789abcdef") == n - p;
}

static void orphan_links_remove(struct manager *m, const char *prefix)
{
	char (*names)[IFNAME_LEN] = NULL;
	struct berr e2 = BERR_INIT;
	size_t n = 0;

	if (nlx_link_list_prefix(m->host_nl, prefix, &names, &n, &e2) < 0) {
		blog_warn("looking for orphan %s* interfaces: %s; looked for again at the next start",
			  prefix, berr_str(&e2));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!ifname_generated(names[i], prefix) || ifname_owned(m, names[i]))
			continue;
		blog_info("removing orphan interface %s", names[i]);
		if (nlx_link_delete(m->host_nl, names[i], &e2) < 0)
			blog_warn("orphan interface %s is left in place: %s; retried at the next start",
				  names[i], berr_str(&e2));
	}
	free(names);
}

static void orphan_netns_remove(struct manager *m)
{
	_cleanup_free_ char *dir = xasprintf("%s/netns", m->run);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {   /* created at start: absent only if something removed it meanwhile */
		blog_warn("looking for orphan network namespaces in %s: %m", dir);
		return;
	}
	while ((de = readdir(d))) {
		struct ctr_entry *c = mgr_ctr_by_id(m, de->d_name);
		_cleanup_free_ char *path = NULL;
		struct berr e2 = BERR_INIT;

		if (de->d_name[0] == '.' || (c && c->c.state == CTR_RUNNING))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		blog_info("removing orphan network namespace %s", path);
		if (netns_delete(path, &e2) < 0)
			blog_warn("orphan network namespace %s is left in place: %s; retried at the next "
				  "start", path, berr_str(&e2));
	}
	closedir(d);
}

struct stale {
	struct manager *m;
	VEC(struct { char net[ID_LEN + 1]; struct ipaddr a; }) v;
};

static bool alloc_live(struct manager *m, const char *net_id, const struct ipaddr *a,
		       const char *owner)
{
	for (size_t i = 0; i < m->eps.n; i++) {
		struct bendpoint *e = &m->eps.v[i]->e;

		/* a dockerd endpoint has its addresses from its creation on, joined or not */
		if (strcmp(e->id, owner) == 0)
			return (e->state != EP_INACTIVE || m->eps.v[i]->remote) &&
			       strcmp(e->network_id, net_id) == 0 &&
			       (ip_equal(&e->ip4, a) || ip_equal(&e->ip6, a));
	}
	return strcmp(owner, "gateway") == 0 || strncmp(owner, "aux:", 4) == 0;
}

static int stale_collect(const char *net_id, const struct ipaddr *a, const char *owner, void *ud)
{
	struct stale *s = ud;

	if (!alloc_live(s->m, net_id, a, owner)) {
		__typeof__(*s->v.v) item = xcalloc(1, sizeof(*item));

		strscpy(item->net, net_id, sizeof(item->net));
		item->a = *a;
		vec_push(s->v, item);
	}
	return 0;
}

/* One transaction for all of them: the pools release them only once it is committed. */
static int stale_delete(struct manager *m, const struct stale *s, struct berr *err)
{
	int r = store_begin(m->store, err);

	for (size_t i = 0; r >= 0 && i < s->v.n; i++)
		r = store_alloc_delete(m->store, s->v.v[i]->net, &s->v.v[i]->a, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0)
		store_rollback(m->store);
	return r;
}

static void stale_release(struct manager *m, const struct stale *s)
{
	for (size_t i = 0; i < s->v.n; i++) {
		struct net_entry *n = mgr_net_by_id(m, s->v.v[i]->net);
		char buf[IP_STRLEN];

		blog_info("freed leaked address %s", ip_fmt(&s->v.v[i]->a, buf));
		for (int k = 0; n && k < n->n.n_subnets; k++)
			if (cidr_contains(&n->pools[k].subnet, &s->v.v[i]->a))
				ipam_pool_release(&n->pools[k], &s->v.v[i]->a);
	}
}

static void allocations_reconcile(struct manager *m)
{
	struct stale s = { .m = m };
	struct berr e2 = BERR_INIT;
	int r = store_alloc_list(m->store, stale_collect, &s, &e2);

	if (r >= 0 && s.v.n > 0)
		r = stale_delete(m, &s, &e2);
	if (r < 0)
		blog_error("freeing leaked addresses: %s; they stay allocated (retried at the next "
			   "start)", berr_str(&e2));
	else
		stale_release(m, &s);
	for (size_t i = 0; i < s.v.n; i++)
		free(s.v.v[i]);
	free(s.v.v);
}

static void orphan_links_sweep(struct manager *m)
{
	static const char *const spill[] = { "bx", "by", "bz" };   /* common/names.h */

	orphan_links_remove(m, "bv");   /* host ends of endpoint veths (common/names.h) */
	for (size_t i = 0; i < ARRAY_SIZE(spill); i++)
		orphan_links_remove(m, spill[i]);
	for (size_t i = 0; driver_at(i); i++) {
		if (driver_at(i)->host_ifname_prefix)
			orphan_links_remove(m, driver_at(i)->host_ifname_prefix);
		if (driver_at(i)->host_ifname_prefix2)
			orphan_links_remove(m, driver_at(i)->host_ifname_prefix2);
	}
}

int mgr_reconcile(struct manager *m, struct berr *err)
{
	static const struct {
		const char *what;
		void (*run)(struct manager *m);
	} phases[] = {
		{ "restoring networks", networks_restore },
		{ "reading where endpoints are", mgr_spill_scan },
		{ "reconciling containers", containers_reconcile },
		{ "completing or removing extra bridges", mgr_spill_tidy },
		{ "rolling back dockerd's interrupted endpoints", mgr_remote_reconcile },
		{ "removing orphan interfaces", orphan_links_sweep },
		{ "removing orphan network namespaces", orphan_netns_remove },
		{ "freeing leaked addresses", allocations_reconcile },
	};
	const unsigned failures = store_failures(m->store);

	for (size_t i = 0; i < ARRAY_SIZE(phases); i++) {
		phases[i].run(m);
		/* Memory may now hold repairs the store does not: later phases must not build on
		 * them, and berthd must not serve them. */
		if (store_failures(m->store) != failures)
			return berr_set(err, -EIO, "reconciliation: %s: the store could not record "
					"repairs (logged above): refusing to start on state that "
					"cannot be trusted; fix the store and start again, the "
					"repairs are retried", phases[i].what);
	}
	return 0;
}
