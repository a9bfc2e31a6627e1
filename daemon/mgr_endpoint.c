/* SPDX-License-Identifier: Apache-2.0 */
/* Endpoints: creation, activation (addresses + kernel), deactivation, sandbox routes and the
 * container's /etc/hosts and /etc/resolv.conf. Every activation records its intent (PENDING)
 * in the store before touching the kernel, so a crash at any step is repaired at start-up. */
#include <fcntl.h>

#include "common/names.h"
#include "daemon/mgr_internal.h"

static int static_ip_parse(const cJSON *ipam, const char *key, int family, struct ipaddr *ret,
			   struct berr *err)
{
	const char *s;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = json_string_member(ipam, key, &s, err);
	if (r < 0 || !s || !*s)
		return r;
	r = ip_parse(s, ret, err);
	if (r < 0)
		return berr_prefix(err, "invalid %s", key);
	if (ret->family != family)
		return berr_set(err, -EINVAL, "%s %s is not an %s address", key, s,
				family == AF_INET ? "IPv4" : "IPv6");
	return 0;
}

static struct ipam_pool *pool_for(struct net_entry *n, int family, const struct ipaddr *a)
{
	for (int i = 0; i < n->n.n_subnets; i++) {
		if (n->pools[i].subnet.addr.family != family)
			continue;
		if (!a || !a->family || cidr_contains(&n->pools[i].subnet, a))
			return &n->pools[i];
	}
	return NULL;
}

/* key names the field (IPv4Address, IPv6Address) in the messages. */
static int static_ip_check(struct net_entry *n, const char *key, const struct ipaddr *a,
			   struct berr *err)
{
	struct ipam_pool *p;
	char buf[IP_STRLEN];

	if (!a->family)
		return 0;
	if (a->family == AF_INET6 && !n->n.ipv6)
		return berr_set(err, -EINVAL, "%s: network %s does not have IPv6 enabled", key,
				n->n.name);
	p = pool_for(n, a->family, a);
	if (!p)
		return berr_set(err, -EINVAL, "%s %s is outside the subnets of network %s", key,
				ip_fmt(a, buf), n->n.name);
	if (!ipam_pool_usable(p, a))
		return berr_set(err, -EINVAL, "%s %s cannot be assigned in network %s", key,
				ip_fmt(a, buf), n->n.name);
	if (ipam_pool_taken(p, a))
		return berr_set(err, -EADDRINUSE, "%s %s is already in use in network %s", key,
				ip_fmt(a, buf), n->n.name);
	return 0;
}

static int ep_config_parse(struct net_entry *n, const cJSON *cfg, struct bendpoint *e,
			   struct berr *err)
{
	const cJSON *ipam, *alias;
	int r;

	r = json_string_array(cfg, "Aliases", &e->aliases, err);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(alias, e->aliases) {
		r = name_validate("alias", alias->valuestring, err);
		if (r < 0)
			return r;
	}
	ipam = cJSON_GetObjectItemCaseSensitive(cfg, "IPAMConfig");
	if (!ipam || cJSON_IsNull(ipam))
		return 0;
	if (!cJSON_IsObject(ipam))
		return berr_set(err, -EINVAL, "field IPAMConfig must be an object");
	r = static_ip_parse(ipam, "IPv4Address", AF_INET, &e->req_ip4, err);
	if (r >= 0)
		r = static_ip_parse(ipam, "IPv6Address", AF_INET6, &e->req_ip6, err);
	if (r >= 0)
		r = static_ip_check(n, "IPv4Address", &e->req_ip4, err);
	if (r >= 0)
		r = static_ip_check(n, "IPv6Address", &e->req_ip6, err);
	return r;
}

/* eth<N> with the lowest N unused by the container's other endpoints. */
static void ifname_pick(struct manager *m, const char *ctr_id, char ret[IFNAME_LEN])
{
	const struct ep_group *g = mgr_ep_group(m, ctr_id);

	for (int i = 0;; i++) {
		bool used = false;

		snprintf(ret, IFNAME_LEN, "eth%d", i);
		for (size_t k = 0; g && k < g->eps.n && !used; k++)
			used = strcmp(g->eps.v[k]->e.ifname, ret) == 0;
		if (!used)
			return;
	}
}

static int64_t seq_next(struct manager *m, const char *ctr_id)
{
	const struct ep_group *g = mgr_ep_group(m, ctr_id);
	int64_t seq = 0;

	for (size_t k = 0; g && k < g->eps.n; k++)
		if (g->eps.v[k]->e.seq > seq)
			seq = g->eps.v[k]->e.seq;
	return seq + 1;
}

int mgr_ep_store_put(struct manager *m, struct ep_entry *ep, struct berr *err)
{
	const struct bendpoint *e = &ep->e;
	int r = store_begin(m->store, err);

	if (r < 0)
		return r;
	r = store_endpoint_put(m->store, e, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0)
		store_rollback(m->store);
	else
		ep->persisted = true;
	return r;
}

static const struct driver_ops *ctr_attached_to(struct manager *m, const struct ctr_entry *c,
						 const struct driver_ops *drv)
{
	const struct ep_group *g = mgr_ep_group(m, c->c.id);

	for (size_t i = 0; g && i < g->eps.n; i++) {
		struct net_entry *n = mgr_net_by_id(m, g->eps.v[i]->e.network_id);

		if (n && n->drv == drv)
			return drv;
	}
	return NULL;
}

bool mgr_ctr_host_netns(struct manager *m, const struct ctr_entry *c)
{
	return ctr_attached_to(m, c, &host_driver) != NULL;
}

static bool ctr_has_eps(struct manager *m, const struct ctr_entry *c)
{
	return mgr_ep_group(m, c->c.id) != NULL;
}

/* Docker's rules for host and none: host only at creation and alone; none alone, and a
 * container on none must be disconnected from it before joining another network. */
static int attach_rules(struct manager *m, const struct ctr_entry *c, const struct net_entry *n,
			bool at_create, struct berr *err)
{
	if (mgr_net_docker_owned(n))
		return berr_set(err, -EPERM, "network %s belongs to dockerd (its addresses are "
				"dockerd's to give): connect Docker containers to it", n->n.name);
	if (ctr_attached_to(m, c, &host_driver))
		return berr_set(err, -EINVAL, "container %s uses the host's network namespace: it "
				"cannot be connected to other networks", c->c.name);
	if (n->drv == &host_driver && (!at_create || ctr_has_eps(m, c)))
		return berr_set(err, -EINVAL, "container %s cannot be connected to the host network: "
				"that is only possible at creation (--network host)", c->c.name);
	if (ctr_attached_to(m, c, &none_driver))
		return berr_set(err, -EINVAL, "container %s is connected to network none: disconnect "
				"it from none first", c->c.name);
	if (n->drv == &none_driver && ctr_has_eps(m, c))
		return berr_set(err, -EINVAL, "container %s is connected to other networks and "
				"cannot also join network none", c->c.name);
	if (n->drv == &host_driver && c->c.state == CTR_RUNNING)
		return berr_set(err, -EINVAL, "container %s is running in its own network namespace",
				c->c.name);
	return 0;
}

int mgr_ep_new(struct manager *m, struct ctr_entry *c, struct net_entry *n, const cJSON *cfg,
	       bool at_create, struct ep_entry **ret, struct berr *err)
{
	struct ep_entry *ep;
	uint8_t mac[6];
	int r;

	r = attach_rules(m, c, n, at_create, err);
	if (r < 0)
		return r;
	if (mgr_ep_find(m, n->n.id, c->c.id))
		return berr_set(err, -EISCONN, "container %s is already connected to network %s",
				c->c.name, n->n.name);
	if (cfg && !cJSON_IsNull(cfg) && !cJSON_IsObject(cfg))
		return berr_set(err, -EINVAL, "EndpointConfig must be an object");
	ep = xcalloc(1, sizeof(*ep));
	ep->br = -1;
	r = ep_config_parse(n, cfg, &ep->e, err);
	if (r < 0) {
		cJSON_Delete(ep->e.aliases);
		free(ep);
		return r;
	}
	id_generate(ep->e.id);
	strscpy(ep->e.network_id, n->n.id, sizeof(ep->e.network_id));
	strscpy(ep->e.container_id, c->c.id, sizeof(ep->e.container_id));
	ep->e.seq = seq_next(m, c->c.id);
	ep->e.state = EP_INACTIVE;
	ifname_pick(m, c->c.id, ep->e.ifname);
	if (n->drv && n->drv->host_end)
		ifname_veth_host(n->n.id, c->c.id, ep->e.host_ifname);
	mac_from_seed(ep->e.id, mac);
	mac_fmt(mac, ep->e.mac);
	mgr_ep_add(m, ep);
	*ret = ep;
	return 0;
}

void mgr_ep_drop(struct manager *m, struct ep_entry *ep)
{
	mgr_ep_ungroup(m, ep);
	for (size_t i = 0; i < m->eps.n; i++)
		if (m->eps.v[i] == ep) {
			vec_remove(m->eps, i);
			break;
		}
	cJSON_Delete(ep->e.aliases);
	free(ep);
}

/* ---- addresses ---- */

static int addr_take(struct net_entry *n, int family, const struct ipaddr *req, struct ipaddr *ret,
		     struct berr *err)
{
	struct ipam_pool *p = pool_for(n, family, req);

	memset(ret, 0, sizeof(*ret));
	if (!p || (family == AF_INET6 && !n->n.ipv6))
		return 0;
	if (req->family) {
		int r = ipam_pool_reserve(p, req, err);

		if (r < 0)
			return berr_prefix(err, "network %s", n->n.name);
		*ret = *req;
		return 0;
	}
	return ipam_pool_alloc(p, ret, err);
}

void mgr_ep_release_addrs(struct manager *m, struct ep_entry *ep)
{
	struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);
	struct ipaddr *ips[2] = { &ep->e.ip4, &ep->e.ip6 };

	for (int i = 0; i < 2; i++) {
		struct ipam_pool *p;

		if (!ips[i]->family)
			continue;
		p = n ? pool_for(n, ips[i]->family, ips[i]) : NULL;
		if (p)
			ipam_pool_release(p, ips[i]);
		memset(ips[i], 0, sizeof(*ips[i]));
	}
}

static int addrs_alloc(struct manager *m, struct net_entry *n, struct ep_entry *ep,
		       struct berr *err)
{
	int r = addr_take(n, AF_INET, &ep->e.req_ip4, &ep->e.ip4, err);

	if (r >= 0)
		r = addr_take(n, AF_INET6, &ep->e.req_ip6, &ep->e.ip6, err);
	if (r < 0) {
		mgr_ep_release_addrs(m, ep);
		return r;
	}
	/* before the store and the firewall see the endpoint: both key on its MAC */
	if (n->drv->mac_from_ip && !ep->mac_given && ep->e.ip4.family) {
		uint8_t mac[6];

		mac_from_ip4(ep->e.ip4.b, mac);
		mac_fmt(mac, ep->e.mac);
	}
	return 0;
}

/* The allocation cursor of each pool is kept in the store ("ipam-cursor/<network>/<subnet>"), so
 * that after a restart allocation goes on where it was instead of handing out the addresses
 * freed last first (peers may still hold them in their neighbour caches). */
char *mgr_ipam_cursor_key(const struct net_entry *n, int i)
{
	char buf[CIDR_STRLEN];

	return xasprintf("ipam-cursor/%s/%s", n->n.id, cidr_fmt(&n->n.subnets[i].subnet, buf));
}

static int cursors_put(struct manager *m, const struct ep_entry *ep, struct berr *err)
{
	struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);
	const struct ipaddr *ips[2] = { &ep->e.ip4, &ep->e.ip6 };
	int r = 0;

	for (int k = 0; n && r >= 0 && k < n->n.n_subnets; k++) {
		_cleanup_free_ char *key = NULL;
		char buf[IP_STRLEN];

		if (!cidr_contains(&n->pools[k].subnet, ips[0]) &&
		    !cidr_contains(&n->pools[k].subnet, ips[1]))
			continue;
		key = mgr_ipam_cursor_key(n, k);
		r = store_meta_put(m->store, key, ip_fmt(&n->pools[k].cursor, buf), err);
	}
	return r;
}

/* One transaction: the endpoint row in `state` plus its allocations (put or delete). Without
 * allocations the row is written without addresses too: they are being released. */
static int ep_persist(struct manager *m, struct ep_entry *ep, bool with_allocs, bool drop_row,
		      struct berr *err)
{
	const struct ipaddr *ips[2] = { &ep->e.ip4, &ep->e.ip6 };
	struct bendpoint row = ep->e;
	int r = store_begin(m->store, err);

	if (!with_allocs) {
		memset(&row.ip4, 0, sizeof(row.ip4));
		memset(&row.ip6, 0, sizeof(row.ip6));
	}

	for (int i = 0; r >= 0 && i < 2; i++) {
		if (!ips[i]->family)
			continue;
		r = store_alloc_delete(m->store, ep->e.network_id, ips[i], err);
		if (r >= 0 && with_allocs)
			r = store_alloc_put(m->store, ep->e.network_id, ips[i], ep->e.id, err);
	}
	if (r >= 0 && with_allocs)
		r = cursors_put(m, ep, err);
	if (r >= 0)
		r = drop_row ? store_endpoint_delete(m->store, ep->e.id, err)
			     : store_endpoint_put(m->store, &row, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0)
		store_rollback(m->store);
	return r;
}

/* ---- sandbox ---- */

static int sandbox_open(struct manager *m, struct ctr_entry *c, struct sandbox *sb, char **path,
			struct berr *err)
{
	*path = mgr_ctr_netns_path(m, &c->c);
	sb->container_id = c->c.id;
	sb->netns_path = *path;
	sb->netns_fd = open(*path, O_RDONLY | O_CLOEXEC);
	if (sb->netns_fd < 0)
		return berr_errno(err, -errno, "opening network namespace %s", *path);
	return 0;
}

static void sandbox_close(struct sandbox *sb)
{
	nlx_closep(&sb->nl);
	if (sb->netns_fd >= 0)
		close(sb->netns_fd);
	sb->netns_fd = -1;
}

/* Undo a failed activation whose intent (PENDING, with its addresses) is in the store: kernel,
 * store, pools. An interface that cannot be removed is left to the start-up sweep. When the
 * store cannot record the undo, the endpoint stays PENDING with its addresses, in memory as in
 * the store, and the next deactivation (disconnect, start, container exit, the next start of
 * berthd) finishes it. */
static void activation_undo(struct manager *m, struct ctr_entry *c, struct net_entry *n,
			    struct ep_entry *ep, const struct sandbox *sb, bool existed)
{
	struct berr e2 = BERR_INIT;

	c->routes_known = false;   /* a route may have gone with the interface */
	if (n->drv->leave && n->drv->leave(&m->drv, &n->n, &ep->e, sb, &e2) < 0)
		blog_warn("rolling back endpoint %.12s: %s; interface %s is left until the next start "
			  "removes it", ep->e.id, berr_str(&e2),
			  ep->e.host_ifname[0] ? ep->e.host_ifname : ep->e.ifname);
	mgr_spill_release(m, n, ep);
	if (n->drv->global_scope)
		mgr_cluster_ep_withdraw(m, n, ep);
	ep->e.state = EP_INACTIVE;
	/* the store first, while the addresses are known: their allocation rows go too */
	if (ep_persist(m, ep, false, !existed, &e2) < 0) {
		ep->e.state = EP_PENDING;
		blog_error("rolling back endpoint %.12s in the store: %s; it stays pending with its "
			   "addresses until it is disconnected or berthd restarts", ep->e.id,
			   berr_str(&e2));
		return;
	}
	mgr_ep_release_addrs(m, ep);
	ep->persisted = existed;
	if (n->drv->global_scope)
		mgr_cluster_dataplane_gc(m, n);
}

static int sandbox_routes(struct manager *m, struct ctr_entry *c, struct nlx *nl,
			  struct berr *err);

int mgr_ep_activate(struct manager *m, struct ctr_entry *c, struct ep_entry *ep, struct berr *err)
{
	struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);
	_cleanup_free_ char *path = NULL;
	struct sandbox sb = { .netns_fd = -1 };
	bool existed = ep->persisted;
	struct steps st;
	int r;

	steps_start(&st);
	if (!n)
		return berr_set(err, -ENOENT, "network %.12s of container %s no longer exists",
				ep->e.network_id, c->c.name);
	if (!n->drv)
		return berr_set(err, -EOPNOTSUPP, "unknown driver %s", n->n.driver);
	/* an earlier rollback the store could not record: finish it first */
	if (ep->e.state == EP_PENDING) {
		r = mgr_ep_deactivate(m, c, ep, false, err);
		if (r < 0)
			return r;
	}
	if (!n->drv->join) {
		/* host and none: nothing in the kernel, the attachment is the whole story */
		ep->e.state = EP_ACTIVE;
		r = ep_persist(m, ep, false, false, err);
		if (r < 0) {
			ep->e.state = EP_INACTIVE;
			return r;
		}
		ep->persisted = true;
		mgr_event_network(m, n, "connect", c);
		return r;
	}
	r = sandbox_open(m, c, &sb, &path, err);
	if (r >= 0)   /* one socket in the sandbox for the driver and the routes */
		r = nlx_open(sb.netns_fd, &sb.nl, err);
	if (r < 0) {
		sandbox_close(&sb);
		return r;
	}
	/* overlay: the addresses are allocated, and the endpoint published, in the cluster store */
	r = n->drv->global_scope ? mgr_cluster_ep_alloc(m, n, ep, err) : addrs_alloc(m, n, ep, err);
	steps_mark(&st, "ipam");
	if (r < 0)
		goto out;
	ep->e.state = EP_PENDING;
	r = ep_persist(m, ep, true, false, err);
	if (r < 0) {
		ep->e.state = EP_INACTIVE;
		if (n->drv->global_scope)
			mgr_cluster_ep_withdraw(m, n, ep);
		mgr_ep_release_addrs(m, ep);
		goto out;
	}
	ep->persisted = true;
	steps_mark(&st, "store");
	crash_point("connect:after-store");
	/* Firewall first: the interface's first frames must already be allowed. A crash from
	 * here on is repaired by the start-up rebuild of the tables from the store. */
	r = mgr_spill_assign(m, n, ep, err);
	if (r >= 0)
		r = mgr_fw_endpoint_added(m, c, ep, err);
	steps_mark(&st, "fw");
	if (r >= 0 && n->drv->global_scope)
		r = mgr_cluster_dataplane_up(m, n, err);
	delay_point("connect-join");
	if (r >= 0)
		r = n->drv->join(&m->drv, &n->n, &ep->e, &sb, err);
	steps_mark(&st, "join");
	if (r >= 0)
		mgr_spill_nd_ep(m, n, ep, true);
	steps_mark(&st, "nd");
	crash_point("connect:after-join");
	if (r >= 0) {
		ep->e.state = EP_ACTIVE;
		r = ep_persist(m, ep, true, false, err);
	}
	steps_mark(&st, "commit");
	crash_point("connect:after-commit");
	if (r >= 0 && n->drv->global_scope)
		r = mgr_cluster_ep_announce(m, c, n, ep, err);
	if (r >= 0)
		r = mgr_dns_endpoint_added(m, c, ep, err);
	steps_mark(&st, "dns");
	if (r >= 0) {
		r = sandbox_routes(m, c, sb.nl, err);
		steps_mark(&st, "routes");
		if (r < 0)
			mgr_dns_endpoint_removed(m, c, ep);
	}
	if (r < 0) {
		berr_prefix(err, "connecting container %s to network %s", c->c.name, n->n.name);
		mgr_fw_endpoint_removed(m, c, ep);
		activation_undo(m, c, n, ep, &sb, existed);
	} else {
		mgr_event_network(m, n, "connect", c);
	}
out:
	sandbox_close(&sb);
	blog_debug("activate %s on %s: %s", c->c.name, n->n.name, st.buf);
	return r;
}

/* Drivers whose interface lives only in the sandbox (macvlan) need it to remove the interface
 * of a running container; a stopped container's namespace is already gone. A sandbox going away
 * (`dying`) has its host interfaces retired when the driver can (deleted later by the reaper,
 * drivers/driver.h), not deleted while the caller waits. */
static int ep_leave(struct manager *m, struct ctr_entry *c, struct net_entry *n,
		    struct ep_entry *ep, bool dying, struct berr *err)
{
	_cleanup_free_ char *path = NULL;
	struct sandbox sb = { .netns_fd = -1 };
	bool have;
	int r;

	if (dying && n->drv->retire) {
		r = n->drv->retire(&m->drv, &n->n, &ep->e, err);
		if (r >= 0)
			mgr_reaper_kick(m);
		return r;
	}
	have = c->c.state == CTR_RUNNING && sandbox_open(m, c, &sb, &path, NULL) >= 0;
	r = n->drv->leave(&m->drv, &n->n, &ep->e, have ? &sb : NULL, err);
	if (have)
		close(sb.netns_fd);
	return r;
}

static bool ctr_has_active(struct manager *m, struct ctr_entry *c)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	size_t n = mgr_ctr_eps(m, c->c.id, &eps);

	for (size_t i = 0; i < n; i++)
		if (eps[i]->e.state == EP_ACTIVE)
			return true;
	return false;
}

/* Memory changes only once the store has: a failure at any step leaves the endpoint as the
 * store describes it (unchanged, or PENDING with its addresses), and the next attempt or the
 * next start finishes the job. */
static int ep_deactivate(struct manager *m, struct ctr_entry *c, struct ep_entry *ep, bool final,
			 bool dying, struct berr *err)
{
	struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);
	const enum ep_state was = ep->e.state;
	struct steps st;
	int r = 0;

	steps_start(&st);
	if (was != EP_INACTIVE) {
		ep->e.state = EP_PENDING;     /* intent: a crash from here on finishes the removal */
		r = ep_persist(m, ep, true, false, err);
		if (r < 0) {
			ep->e.state = was;
			return r;
		}
		steps_mark(&st, "store");
		crash_point("disconnect:after-intent");
	}
	if (was == EP_ACTIVE) {
		/* (a pending endpoint has none: activation_undo removed them) */
		mgr_dns_endpoint_removed(m, c, ep);
		mgr_fw_endpoint_removed(m, c, ep);
		steps_mark(&st, "dns+fw");
	}
	if (was != EP_INACTIVE) {
		if (n && n->drv && n->drv->leave)
			r = ep_leave(m, c, n, ep, dying, err);
		if (r < 0)
			return berr_prefix(err, "disconnecting container %s", c->c.name);
		steps_mark(&st, dying ? "retire" : "leave");
		mgr_spill_release(m, n, ep);
		steps_mark(&st, "nd");
		crash_point("disconnect:after-leave");
		if (n && n->drv && n->drv->global_scope)
			mgr_cluster_ep_withdraw(m, n, ep);
	}
	ep->e.state = EP_INACTIVE;
	r = ep_persist(m, ep, false, final, err);
	steps_mark(&st, "commit");
	blog_debug("deactivate %.12s: %s", ep->e.id, st.buf);
	if (r < 0) {
		ep->e.state = was == EP_INACTIVE ? EP_INACTIVE : EP_PENDING;
		return r;
	}
	mgr_ep_release_addrs(m, ep);
	if (!ctr_has_active(m, c))
		c->routes_known = false;   /* its namespace may go, and a new one has no route */
	if (was == EP_ACTIVE && n)
		mgr_event_network(m, n, "disconnect", c);
	if (was != EP_INACTIVE && n && n->drv && n->drv->global_scope)
		mgr_cluster_dataplane_gc(m, n);
	/* the row written above already has no addresses (ep_persist without allocations) */
	if (final)
		mgr_ep_drop(m, ep);
	return 0;
}

int mgr_ep_deactivate(struct manager *m, struct ctr_entry *c, struct ep_entry *ep, bool final,
		      struct berr *err)
{
	return ep_deactivate(m, c, ep, final, false, err);
}

int mgr_ep_retire(struct manager *m, struct ctr_entry *c, struct ep_entry *ep, struct berr *err)
{
	return ep_deactivate(m, c, ep, false, true, err);
}

struct ep_entry *mgr_route_carrier(struct manager *m, struct ctr_entry *c, int family,
				   const struct ipaddr **ret_gw)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	size_t n = mgr_ctr_eps(m, c->c.id, &eps);

	for (size_t i = 0; i < n; i++) {
		struct net_entry *net = mgr_net_by_id(m, eps[i]->e.network_id);
		const struct ipaddr *ip = family == AF_INET ? &eps[i]->e.ip4 : &eps[i]->e.ip6;

		if (eps[i]->e.state != EP_ACTIVE || !net || net->n.internal || !ip->family ||
		    (net->drv && net->drv->no_gateway))
			continue;
		for (int k = 0; k < net->n.n_subnets; k++)
			if (cidr_contains(&net->n.subnets[k].subnet, ip) &&
			    net->n.subnets[k].gateway.family) {
				*ret_gw = &net->n.subnets[k].gateway;
				return eps[i];
			}
	}
	return NULL;
}

static const int route_families[2] = { AF_INET, AF_INET6 };

/* The default routes the container should have: per family, its carrier's. */
static void routes_wanted(struct manager *m, struct ctr_entry *c, struct ctr_route ret[2])
{
	for (int i = 0; i < 2; i++) {
		const struct ipaddr *gw = NULL;
		struct ep_entry *ep = mgr_route_carrier(m, c, route_families[i], &gw);

		memset(&ret[i], 0, sizeof(ret[i]));
		if (!ep)
			continue;
		ret[i].set = true;
		ret[i].gw = *gw;
		strscpy(ret[i].ifname, ep->e.ifname, sizeof(ret[i].ifname));
	}
}

/* Whether the kernel has route `want` of family i already (as berth last set it). */
static bool route_known(const struct ctr_entry *c, int i, const struct ctr_route *want)
{
	const struct ctr_route *have = &c->routes[i];

	if (!c->routes_known || have->set != want->set)
		return false;
	return !want->set || (!strcmp(have->ifname, want->ifname) && ip_equal(&have->gw, &want->gw));
}

/* Through nl, a netlink socket inside the container's namespace. */
static int routes_apply(struct ctr_entry *c, struct nlx *nl, const struct ctr_route want[2],
			struct berr *err)
{
	int r = 0;

	for (int i = 0; r >= 0 && i < 2; i++) {
		if (route_known(c, i, &want[i]))
			continue;
		r = want[i].set ? nlx_route_default_set(nl, route_families[i], &want[i].gw,
							  want[i].ifname, err)
				: nlx_route_default_del(nl, route_families[i], err);
	}
	return r;
}

/* Only a change of carrier or gateway costs netlink work (and a socket in the namespace when
 * nl is NULL): what the kernel has is remembered from the last change. The kernel drops a route
 * by itself only with its interface, whose endpoint's removal changes the carrier; a container
 * left with no active endpoint (stopped: its namespace goes) forgets them (ep_deactivate). */
static int sandbox_routes(struct manager *m, struct ctr_entry *c, struct nlx *nl,
			  struct berr *err)
{
	_cleanup_(nlx_closep) struct nlx *own = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	struct ctr_route want[2];
	int r = 0;

	if (mgr_ctr_external(c))
		return mgr_ext_routes(m, c, err);
	routes_wanted(m, c, want);
	if (route_known(c, 0, &want[0]) && route_known(c, 1, &want[1]))
		return 0;
	if (!nl) {
		path = mgr_ctr_netns_path(m, &c->c);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return berr_errno(err, -errno, "opening network namespace %s", path);
		r = nlx_open(fd, &own, err);
		nl = own;
	}
	if (r >= 0)
		r = routes_apply(c, nl, want, err);
	c->routes_known = r >= 0;
	if (r >= 0)
		memcpy(c->routes, want, sizeof(c->routes));
	return r;
}

int mgr_sandbox_routes(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	return sandbox_routes(m, c, NULL, err);
}

/* ---- /etc/hosts and /etc/resolv.conf ---- */

static int file_rewrite(const char *path, const char *data, struct berr *err)
{
	/* In place (not rename): the file is bind-mounted into the container. Written over, then
	 * cut to its length: a file truncated to 0 and written makes ext4 flush it on close
	 * (auto_da_alloc), a disk write on every connect and disconnect. */
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	size_t len = strlen(data);

	if (fd < 0)
		return berr_errno(err, -errno, "opening %s", path);
	if (pwrite(fd, data, len, 0) != (ssize_t)len)
		return berr_errno(err, -EIO, "writing %s", path);
	if (ftruncate(fd, (off_t)len) < 0)
		return berr_errno(err, -errno, "writing %s", path);
	return 0;
}

static char *hosts_render(struct manager *m, struct ctr_entry *c)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	_cleanup_free_ char *extra = mgr_hosts_extra_render(m, c);
	size_t n = mgr_ctr_eps(m, c->c.id, &eps);
	char *out = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	char *extra_lines;

	for (size_t i = 0; i < n; i++) {
		const struct ipaddr *ips[2] = { &eps[i]->e.ip4, &eps[i]->e.ip6 };

		for (int k = 0; k < 2; k++) {
			char buf[IP_STRLEN];
			char *next;

			if (eps[i]->e.state != EP_ACTIVE || !ips[k]->family)
				continue;
			next = xasprintf("%s%s\t%s\n", out, ip_fmt(ips[k], buf), c->c.hostname);
			free(out);
			out = next;
		}
	}
	extra_lines = xasprintf("%s%s", out, extra);
	free(out);
	return extra_lines;
}

int mgr_ctr_files_write(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	_cleanup_free_ char *dir = mgr_ctr_run_dir(m, &c->c);
	_cleanup_free_ char *hosts_path = xasprintf("%s/hosts", dir);
	_cleanup_free_ char *resolv_path = xasprintf("%s/resolv.conf", dir);
	_cleanup_free_ char *hosts = hosts_render(m, c);
	_cleanup_free_ char *resolv = mgr_dns_resolv_conf(m, c);
	int r;

	r = mkdir_p(dir, 0700, err);
	if (r >= 0)
		r = file_rewrite(hosts_path, hosts, err);
	if (r >= 0)
		r = file_rewrite(resolv_path, resolv, err);
	return r;
}
