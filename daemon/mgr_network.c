/* SPDX-License-Identifier: Apache-2.0 */
/* Network operations: create, list, inspect, remove, prune, connect, disconnect. */
#include <stdarg.h>

#include "common/names.h"
#include "daemon/mgr_internal.h"

/* ---- request parsing helpers ---- */

int json_string_member(const cJSON *obj, const char *key, const char **ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*ret = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return berr_set(err, -EINVAL, "field %s must be a string", key);
	*ret = v->valuestring;
	return 0;
}

int json_bool_member(const cJSON *obj, const char *key, bool *ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*ret = false;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return berr_set(err, -EINVAL, "field %s must be a boolean", key);
	*ret = cJSON_IsTrue(v);
	return 0;
}

/* A copy of an object whose values are all strings (an empty object when absent). */
int json_string_map(const cJSON *obj, const char *key, cJSON **ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key), *it;

	*ret = NULL;
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsObject(v))
			return berr_set(err, -EINVAL, "field %s must be an object of strings", key);
		cJSON_ArrayForEach(it, v)
			if (!cJSON_IsString(it))
				return berr_set(err, -EINVAL, "%s[\"%s\"] must be a string", key,
						it->string);
	}
	*ret = v && !cJSON_IsNull(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateObject();
	return 0;
}

int json_string_array(const cJSON *obj, const char *key, cJSON **ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key), *it;

	*ret = NULL;
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsArray(v))
			return berr_set(err, -EINVAL, "field %s must be an array of strings", key);
		cJSON_ArrayForEach(it, v)
			if (!cJSON_IsString(it))
				return berr_set(err, -EINVAL, "field %s must hold only strings", key);
	}
	*ret = v && !cJSON_IsNull(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateArray();
	return 0;
}

/* ---- network create ---- */

static int subnet_parse(const cJSON *cfg, struct bsubnet *s, struct berr *err)
{
	const char *subnet, *gw, *range;
	int r;

	if (!cJSON_IsObject(cfg))
		return berr_set(err, -EINVAL, "IPAM.Config entries must be objects");
	r = json_string_member(cfg, "Subnet", &subnet, err);
	if (r >= 0)
		r = json_string_member(cfg, "Gateway", &gw, err);
	if (r >= 0)
		r = json_string_member(cfg, "IPRange", &range, err);
	if (r < 0)
		return r;
	if (!subnet || !*subnet)
		return berr_set(err, -EINVAL, "IPAM.Config entry without a Subnet");
	r = cidr_parse_subnet(subnet, &s->subnet, err);
	if (r < 0)
		return r;
	if (range && *range) {
		r = cidr_parse_subnet(range, &s->range, err);
		if (r < 0)
			return berr_prefix(err, "invalid ip-range");
		if (!cidr_contains_cidr(&s->subnet, &s->range))
			return berr_set(err, -EINVAL, "ip-range %s is not inside subnet %s", range,
					subnet);
	}
	if (gw && *gw) {
		r = ip_parse(gw, &s->gateway, err);
		if (r < 0)
			return berr_prefix(err, "invalid gateway");
		if (!cidr_contains(&s->subnet, &s->gateway))
			return berr_set(err, -EINVAL, "gateway %s is not inside subnet %s", gw, subnet);
	}
	return json_string_map(cfg, "AuxiliaryAddresses", &s->aux, err);
}

static int subnets_parse(const cJSON *req, struct bnetwork *n, struct berr *err)
{
	const cJSON *ipam = cJSON_GetObjectItemCaseSensitive(req, "IPAM"), *cfgs, *cfg;
	const char *drv;
	int r;

	if (!ipam || cJSON_IsNull(ipam))
		return 0;
	if (!cJSON_IsObject(ipam))
		return berr_set(err, -EINVAL, "field IPAM must be an object");
	r = json_string_member(ipam, "Driver", &drv, err);
	if (r < 0)
		return r;
	if (drv && *drv && strcmp(drv, "default") != 0)
		return berr_set(err, -EOPNOTSUPP, "IPAM driver \"%s\" is not supported (only \"default\")",
				drv);
	cfgs = cJSON_GetObjectItemCaseSensitive(ipam, "Config");
	if (!cfgs || cJSON_IsNull(cfgs))
		return 0;
	if (!cJSON_IsArray(cfgs))
		return berr_set(err, -EINVAL, "field IPAM.Config must be an array");
	cJSON_ArrayForEach(cfg, cfgs) {
		if (n->n_subnets == NET_MAX_SUBNETS)
			return berr_set(err, -EINVAL, "at most %d subnets per network", NET_MAX_SUBNETS);
		r = subnet_parse(cfg, &n->subnets[n->n_subnets++], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int net_parse(const cJSON *req, struct bnetwork *n, struct berr *err)
{
	const char *name, *driver;
	int r;

	if (!cJSON_IsObject(req))
		return berr_set(err, -EINVAL, "request body must be a JSON object");
	r = json_string_member(req, "Name", &name, err);
	if (r >= 0)
		r = json_string_member(req, "Driver", &driver, err);
	if (r >= 0)
		r = json_bool_member(req, "Internal", &n->internal, err);
	if (r >= 0)
		r = json_bool_member(req, "EnableIPv6", &n->ipv6, err);
	if (r >= 0)
		r = json_bool_member(req, "Attachable", &n->attachable, err);
	if (r >= 0)
		r = json_string_map(req, "Options", &n->options, err);
	if (r >= 0)
		r = json_string_map(req, "Labels", &n->labels, err);
	if (r < 0)
		return r;
	if (!name || !*name)
		return berr_set(err, -EINVAL, "network name is required");
	r = name_validate("network", name, err);
	if (r < 0)
		return r;
	strscpy(n->name, name, sizeof(n->name));
	strscpy(n->driver, driver && *driver ? driver : "bridge", sizeof(n->driver));
	return subnets_parse(req, n, err);
}

/* Overlaps between the request's own subnets, with other networks, and family rules. */
static int subnets_check(struct manager *m, const struct bnetwork *n, struct berr *err)
{
	char a[CIDR_STRLEN], b[CIDR_STRLEN];

	for (int i = 0; i < n->n_subnets; i++) {
		const struct cidr *s = &n->subnets[i].subnet;

		if (s->addr.family == AF_INET6 && !n->ipv6)
			return berr_set(err, -EINVAL,
					"IPv6 subnet %s given but IPv6 is not enabled (add --ipv6)",
					cidr_fmt(s, a));
		for (int j = 0; j < i; j++)
			if (cidr_overlaps(s, &n->subnets[j].subnet))
				return berr_set(err, -EINVAL, "subnets %s and %s overlap",
						cidr_fmt(s, a), cidr_fmt(&n->subnets[j].subnet, b));
		for (size_t k = 0; k < m->nets.n; k++) {
			const struct bnetwork *o = &m->nets.v[k]->n;

			for (int j = 0; j < o->n_subnets; j++)
				if (cidr_overlaps(s, &o->subnets[j].subnet))
					return berr_set(err, -EEXIST,
							"subnet %s overlaps with network \"%s\" (%s)",
							cidr_fmt(s, a), o->name,
							cidr_fmt(&o->subnets[j].subnet, b));
		}
	}
	return 0;
}

static bool has_family(const struct bnetwork *n, int family)
{
	for (int i = 0; i < n->n_subnets; i++)
		if (n->subnets[i].subnet.addr.family == family)
			return true;
	return false;
}

/* Every subnet in use: other networks', berth IPAM's pools and the host's routes. Without the
 * host's routes a subnet could be chosen that the host already reaches another way: that is an
 * error. */
int mgr_subnets_used(struct manager *m, int family, struct cidr **ret, size_t *ret_n,
		     struct berr *err)
{
	struct cidr *routes = NULL, *v;
	size_t n_routes = 0, n = 0, n_pools = mgr_remote_pools(m, NULL);
	int r = nlx_route_list(m->host_nl, family, &routes, &n_routes, err);

	if (r < 0)
		return r;
	v = xcalloc(n_routes + m->nets.n * NET_MAX_SUBNETS + n_pools + 1, sizeof(*v));
	for (size_t i = 0; i < n_routes; i++)
		v[n++] = routes[i];
	for (size_t i = 0; i < m->nets.n; i++)
		for (int j = 0; j < m->nets.v[i]->n.n_subnets; j++)
			v[n++] = m->nets.v[i]->n.subnets[j].subnet;
	n += mgr_remote_pools(m, v + n);
	free(routes);
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool pools_have_family(struct manager *m, int family)
{
	for (size_t i = 0; i < m->n_pools; i++)
		if (m->pools[i].base.addr.family == family)
			return true;
	return false;
}

static int subnets_default(struct manager *m, struct bnetwork *n, struct berr *err)
{
	_cleanup_free_ struct cidr *avoid = NULL;
	size_t n_avoid;
	int r;

	if (!has_family(n, AF_INET)) {
		r = mgr_subnets_used(m, AF_INET, &avoid, &n_avoid, err);
		if (r >= 0)
			r = ipam_pick_subnet(m->pools, m->n_pools, AF_INET, avoid, n_avoid,
					     &n->subnets[n->n_subnets].subnet, err);
		if (r < 0)
			return berr_prefix(err, "choosing an IPv4 subnet from the default pools");
		n->subnets[n->n_subnets++].subnet_auto = true;
		free(steal_ptr(avoid));
	}
	if (n->ipv6 && !has_family(n, AF_INET6)) {
		if (n->n_subnets == NET_MAX_SUBNETS)
			return berr_set(err, -EINVAL, "at most %d subnets per network", NET_MAX_SUBNETS);
		r = mgr_subnets_used(m, AF_INET6, &avoid, &n_avoid, err);
		if (r < 0)
			return berr_prefix(err, "choosing an IPv6 subnet");
		/* IPv6 pools given with --default-address-pool win over the host's ULA /48. */
		if (pools_have_family(m, AF_INET6))
			r = ipam_pick_subnet(m->pools, m->n_pools, AF_INET6, avoid, n_avoid,
					     &n->subnets[n->n_subnets].subnet, err);
		else
			r = ipam_pick_ula64(m->host_id, m->host_id_len, avoid, n_avoid,
					    &n->subnets[n->n_subnets].subnet, err);
		if (r < 0)
			return berr_prefix(err, "choosing an IPv6 subnet");
		n->subnets[n->n_subnets++].subnet_auto = true;
	}
	return 0;
}

/* Pools with gateway and auxiliary addresses reserved. */
int mgr_net_pools_init(struct net_entry *e, struct berr *err)
{
	for (int i = 0; i < e->n.n_subnets; i++) {
		struct bsubnet *s = &e->n.subnets[i];
		const cJSON *aux;
		int r;

		r = ipam_pool_init(&e->pools[i], &s->subnet, s->range.addr.family ? &s->range : NULL,
				   err);
		if (r < 0)
			return r;
		r = ipam_pool_reserve(&e->pools[i], &s->gateway, err);
		if (r < 0)
			return berr_prefix(err, "invalid gateway");
		cJSON_ArrayForEach(aux, s->aux) {
			struct ipaddr a;

			r = ip_parse(aux->valuestring, &a, err);
			if (r >= 0 && !cidr_contains(&s->subnet, &a))
				r = berr_set(err, -EINVAL, "auxiliary address %s is not inside the subnet",
					     aux->valuestring);
			if (r >= 0)
				r = ipam_pool_reserve(&e->pools[i], &a, err);
			if (r < 0)
				return berr_prefix(err, "auxiliary address %s", aux->string);
		}
	}
	return 0;
}

static int net_allocs_put(struct manager *m, struct net_entry *e, struct berr *err)
{
	for (int i = 0; i < e->n.n_subnets; i++) {
		const struct bsubnet *s = &e->n.subnets[i];
		const cJSON *aux;
		int r;

		r = store_alloc_put(m->store, e->n.id, &s->gateway, "gateway", err);
		cJSON_ArrayForEach(aux, s->aux) {
			_cleanup_free_ char *owner = xasprintf("aux:%s", aux->string);
			struct ipaddr a;

			/* pools_init() parsed every auxiliary address already */
			if (r >= 0 && ip_parse(aux->valuestring, &a, NULL) >= 0)
				r = store_alloc_put(m->store, e->n.id, &a, owner, err);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

void mgr_net_entry_free(struct net_entry *e)
{
	for (int i = 0; i < e->n.n_subnets; i++) {
		ipam_pool_free(&e->pools[i]);
		cJSON_Delete(e->n.subnets[i].aux);
	}
	cJSON_Delete(e->n.options);
	cJSON_Delete(e->n.labels);
	free(e->spill);
	free(e);
}

static int ifname_unique(struct manager *m, const struct bnetwork *n, struct berr *err)
{
	for (size_t i = 0; n->ifname[0] && i < m->nets.n; i++)
		if (strcmp(m->nets.v[i]->n.ifname, n->ifname) == 0)
			return berr_set(err, -EEXIST, "interface %s is already used by network \"%s\"",
					n->ifname, m->nets.v[i]->n.name);
	return 0;
}

static int net_prepare(struct manager *m, const cJSON *req, const char *id, struct net_entry *e,
		       struct berr *err)
{
	struct bnetwork *n = &e->n;
	int r;

	r = net_parse(req, n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < m->nets.n; i++)
		if (strcmp(m->nets.v[i]->n.name, n->name) == 0)
			return berr_set(err, -EEXIST, "network with name %s already exists", n->name);
	e->drv = driver_lookup(n->driver);
	if (!e->drv)
		return berr_set(err, -EINVAL, "unknown network driver \"%s\" (available: %s)",
				n->driver, driver_user_names());
	if (driver_is_predefined_only(e->drv) && !m->creating_defaults)
		return berr_set(err, -EPERM, "only one instance of \"%s\" network is allowed",
				n->driver);
	r = subnets_check(m, n, err);
	if (r >= 0 && !e->drv->no_ipam)
		r = subnets_default(m, n, err);
	if (r < 0)
		return r;
	if (id)
		strscpy(n->id, id, sizeof(n->id));
	else
		id_generate(n->id);
	time_now_rfc3339(n->created);
	for (int i = 0; i < n->n_subnets; i++)
		if (!n->subnets[i].gateway.family) {
			ipam_default_gateway(&n->subnets[i].subnet, &n->subnets[i].gateway);
			n->subnets[i].gateway_auto = true;
		}
	/* The driver may add defaults (interface name, MTU, reserved aux addresses) first. */
	r = e->drv->validate ? e->drv->validate(&m->drv, n, err) : 0;
	if (r >= 0)
		r = mgr_net_pools_init(e, err);
	if (r >= 0)
		r = ifname_unique(m, n, err);
	/* What exists already is not berth's: decided before the store records the network. */
	if (r >= 0 && e->drv->host_probe)
		r = e->drv->host_probe(&m->drv, n, err);
	return r;
}

int mgr_net_store_put(struct manager *m, struct net_entry *e, struct berr *err)
{
	int r = store_begin(m->store, err);

	if (r < 0)
		return r;
	r = store_network_put(m->store, &e->n, err);
	if (r >= 0)
		r = net_allocs_put(m, e, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0)
		store_rollback(m->store);
	return r;
}

/* Removal intent: a meta row naming the network. Start-up finishes removals it finds. */
static char *removing_key(const char *id)
{
	return xasprintf("removing/%s", id);
}

static int net_store_delete(struct manager *m, const struct net_entry *n, struct berr *err)
{
	const char *id = n->n.id;
	_cleanup_free_ char *key = removing_key(id);
	int r = store_begin(m->store, err);

	if (r < 0)
		return r;
	for (int k = 0; r >= 0 && k < n->n.n_subnets; k++) {
		_cleanup_free_ char *cursor = mgr_ipam_cursor_key(n, k);

		r = store_meta_delete(m->store, cursor, err);
	}
	if (r >= 0)
		r = store_alloc_delete_network(m->store, id, err);
	if (r >= 0)
		r = store_network_delete(m->store, id, err);
	if (r >= 0)
		r = store_meta_delete(m->store, key, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0)
		store_rollback(m->store);
	return r;
}

static int net_removal_intent(struct manager *m, const char *id, struct berr *err)
{
	_cleanup_free_ char *key = removing_key(id);
	int r = store_begin(m->store, err);

	if (r >= 0)
		r = store_meta_put(m->store, key, "1", err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0)
		store_rollback(m->store);
	return r;
}

int mgr_net_removing(struct manager *m, const char *id, struct berr *err)
{
	_cleanup_free_ char *key = removing_key(id);
	_cleanup_free_ char *v = NULL;
	int r = store_meta_get(m->store, key, &v, err);

	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

/* Append "; <note>" to the message of a failed operation (what its undo left behind). */
static void err_note(struct berr *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void err_note(struct berr *err, const char *fmt, ...)
{
	size_t len = strlen(err->msg);
	va_list ap;

	if (len + 2 >= sizeof(err->msg))
		return;
	memcpy(err->msg + len, "; ", 3);
	va_start(ap, fmt);
	vsnprintf(err->msg + len + 2, sizeof(err->msg) - len - 2, fmt, ap);
	va_end(ap);
}

/* Kernel objects and firewall of a network the store has recorded. On failure both are undone
 * and the store forgets the network, in that order; when the undo fails too, the network is
 * kept (*ret_kept), in memory as in the store, for `network rm` or the next start. */
static int net_setup(struct manager *m, struct net_entry *e, bool *ret_kept, struct berr *err)
{
	struct berr e2 = BERR_INIT;
	int r;

	*ret_kept = false;
	if (!e->drv->network_create)
		return 0;
	r = e->drv->network_create(&m->drv, &e->n, err);
	if (r >= 0) {
		r = mgr_fw_network_added(m, e, err);
		if (r >= 0)
			return 0;
		berr_prefix(err, "firewall");
	}
	berr_prefix(err, "creating network %s", e->n.name);
	if ((e->drv->network_delete && e->drv->network_delete(&m->drv, &e->n, &e2) < 0) ||
	    net_store_delete(m, e, &e2) < 0) {
		*ret_kept = true;
		blog_error("network %s: undoing its creation: %s; the network is kept: remove it "
			   "with network rm", e->n.name, berr_str(&e2));
		err_note(err, "undoing it failed (%s): the network is kept, remove it", berr_str(&e2));
	}
	mgr_reaper_kick(m);   /* a bridge made and undone is retired */
	return r;
}

/* Overlay networks live in the cluster store first; the local row is a cache that lets local
 * endpoints refer to them (no kernel objects until an endpoint joins on this host). */
static int net_global_create(struct manager *m, struct net_entry *e, struct berr *err)
{
	int r = mgr_cluster_network_create(m, e, err);

	if (r >= 0)
		r = mgr_net_store_put(m, e, err);
	return r;
}

int mgr_net_create_locked(struct manager *m, const cJSON *req, const char *id,
			  struct net_entry **ret, struct berr *err)
{
	struct net_entry *e = xcalloc(1, sizeof(*e));
	bool kept = false;
	int r;

	if (id && mgr_net_by_id(m, id)) {
		free(e);
		return berr_set(err, -EEXIST, "network %.12s already exists", id);
	}
	r = net_prepare(m, req, id, e, err);
	if (r >= 0 && e->drv->global_scope) {
		r = net_global_create(m, e, err);
		goto done;
	}
	/* Intent first: a crash after the commit is finished by restore() at start-up. */
	if (r >= 0)
		r = mgr_net_store_put(m, e, err);
	crash_point("network-create:after-store");
	if (r >= 0)
		r = net_setup(m, e, &kept, err);
done:
	if (r < 0 && !kept) {
		mgr_net_entry_free(e);
		return r;
	}
	vec_push(m->nets, e);
	mgr_remote_networks_changed(m);
	if (r >= 0) {
		mgr_cni_conflist_write(m, e);
		mgr_event_network(m, e, "create", NULL);
	}
	if (ret)
		*ret = e;
	return r;
}

int mgr_network_create(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err)
{
	struct net_entry *e = NULL;
	int r;

	pthread_mutex_lock(&m->lock);
	r = mgr_net_create_locked(m, req, NULL, &e, err);
	if (r >= 0) {
		*ret = cJSON_CreateObject();
		cJSON_AddStringToObject(*ret, "Id", e->n.id);
		cJSON_AddStringToObject(*ret, "Warning", "");
	}
	pthread_mutex_unlock(&m->lock);
	mgr_remote_fw_flush(m);
	return r;
}

/* ---- list / inspect ---- */

int mgr_network_list(struct manager *m, const char *name_filter, cJSON **ret, struct berr *err)
{
	cJSON *a = cJSON_CreateArray();

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nets.n; i++)
		if (!name_filter || strstr(m->nets.v[i]->n.name, name_filter))
			cJSON_AddItemToArray(a, mgr_render_network(m, m->nets.v[i]));
	pthread_mutex_unlock(&m->lock);
	*ret = a;
	return 0;
}

int mgr_network_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err)
{
	struct net_entry *n;

	pthread_mutex_lock(&m->lock);
	n = mgr_net_find(m, ref, err);
	if (n)
		*ret = mgr_render_network(m, n);
	pthread_mutex_unlock(&m->lock);
	return n ? 0 : err->code;
}

/* ---- remove / prune ---- */

bool mgr_net_predefined(const struct net_entry *n)
{
	static const char *const names[] = { "bridge", "host", "none" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(n->n.name, names[i]) == 0)
			return true;
	return false;
}

/* The kernel refused to delete the network's objects: it stays, so its removal intent goes.
 * (If the store refuses that too, the next start finishes the removal.) */
static void net_removal_cancel(struct manager *m, struct net_entry *n)
{
	_cleanup_free_ char *key = removing_key(n->n.id);
	struct berr e2 = BERR_INIT;
	int r = store_begin(m->store, &e2);

	if (r >= 0)
		r = store_meta_delete(m->store, key, &e2);
	if (r >= 0)
		r = store_commit(m->store, &e2);
	if (r < 0) {
		store_rollback(m->store);
		blog_error("network %s: cancelling its removal: %s; the next start removes it",
			   n->n.name, berr_str(&e2));
	}
}

int mgr_net_remove_local(struct manager *m, struct net_entry *n, struct berr *err)
{
	int r;

	/* Intent first: a crash from here on is finished by start-up reconciliation. */
	r = net_removal_intent(m, n->n.id, err);
	if (r < 0)
		return r;
	crash_point("network-rm:after-store");
	if (n->drv && n->drv->network_delete) {
		r = n->drv->network_delete(&m->drv, &n->n, err);
		if (r < 0) {
			net_removal_cancel(m, n);
			return berr_prefix(err, "removing network %s", n->n.name);
		}
		mgr_reaper_kick(m);   /* a bridge is retired: deleted in the background */
	}
	mgr_fw_network_removed(m, n);
	/* A failure from here on leaves the intent: the next start finishes the removal. */
	r = net_store_delete(m, n, err);
	if (r < 0)
		return berr_prefix(err, "removing network %s (its removal is finished at the next "
				   "start)", n->n.name);
	for (size_t i = 0; i < m->nets.n; i++)
		if (m->nets.v[i] == n) {
			vec_remove(m->nets, i);
			break;
		}
	mgr_event_network(m, n, "destroy", NULL);
	mgr_cni_conflist_remove(m, n);
	mgr_net_entry_free(n);
	mgr_remote_networks_changed(m);
	return 0;
}

int mgr_net_remove_locked(struct manager *m, struct net_entry *n, struct berr *err)
{
	size_t eps = mgr_net_ep_count(m, n->n.id);
	int r;

	if (mgr_net_predefined(n))
		return berr_set(err, -EPERM, "%s is a pre-defined network and cannot be removed",
				n->n.name);
	if (eps > 0)
		return berr_set(err, -EBUSY,
				"network %s has %zu connected container%s: disconnect or remove them first",
				n->n.name, eps, eps == 1 ? "" : "s");
	/* A global network goes from the cluster store first: every host then forgets it. */
	if (n->drv && n->drv->global_scope) {
		r = mgr_cluster_network_remove(m, n, err);
		if (r < 0)
			return r;
	}
	return mgr_net_remove_local(m, n, err);
}

int mgr_network_remove(struct manager *m, const char *ref, struct berr *err)
{
	struct net_entry *n;
	int r;

	pthread_mutex_lock(&m->lock);
	n = mgr_net_find(m, ref, err);
	if (n && mgr_net_docker_owned(n))
		r = berr_set(err, -EPERM, "network %s belongs to dockerd: remove it with docker "
			     "network rm", n->n.name);
	else
		r = n ? mgr_net_remove_locked(m, n, err) : err->code;
	pthread_mutex_unlock(&m->lock);
	mgr_remote_fw_flush(m);
	return r;
}

int mgr_network_prune(struct manager *m, cJSON **ret, struct berr *err)
{
	cJSON *deleted = cJSON_CreateArray();

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nets.n;) {
		struct net_entry *n = m->nets.v[i];
		_cleanup_free_ char *name = xstrdup(n->n.name);
		struct berr e2 = BERR_INIT;

		if (mgr_net_predefined(n) || mgr_net_docker_owned(n) ||
		    mgr_net_ep_count(m, n->n.id) > 0) {
			i++;
			continue;
		}
		if (mgr_net_remove_locked(m, n, &e2) == 0) {
			cJSON_AddItemToArray(deleted, cJSON_CreateString(name));
			continue;
		}
		/* as in Docker, prune reports what it removed; the rest is logged */
		blog_warn("prune: %s", berr_str(&e2));
		i++;
	}
	pthread_mutex_unlock(&m->lock);
	mgr_remote_fw_flush(m);
	*ret = cJSON_CreateObject();
	cJSON_AddItemToObject(*ret, "NetworksDeleted", deleted);
	return 0;
}

/* ---- connect / disconnect ---- */

/* The network of the path and the container of the body {"Container": "..."}. */
static int connect_args(struct manager *m, const char *ref, const cJSON *req,
			struct net_entry **ret_n, struct ctr_entry **ret_c, struct berr *err)
{
	const char *cref;
	int r;

	if (!cJSON_IsObject(req))
		return berr_set(err, -EINVAL, "request body must be a JSON object");
	r = json_string_member(req, "Container", &cref, err);
	if (r >= 0 && (!cref || !*cref))
		r = berr_set(err, -EINVAL, "field Container is required");
	if (r < 0)
		return r;
	*ret_n = mgr_net_find(m, ref, err);
	if (!*ret_n)
		return err->code;
	*ret_c = mgr_ctr_find(m, cref, err);
	if (*ret_c && mgr_ctr_external(*ret_c))
		return mgr_ext_refuse(*ret_c, "connected or disconnected", err);
	return *ret_c ? 0 : err->code;
}

/* An overlay endpoint brings berth_gwbridge along (mgr_cluster_gw_sync); if that fails the
 * connection is undone. */
static int connect_gw(struct manager *m, struct ctr_entry *c, struct ep_entry *ep,
		      struct berr *err)
{
	struct berr e2 = BERR_INIT;
	int r = mgr_cluster_gw_sync(m, c, false, err);

	if (r >= 0)
		return 0;
	if (mgr_ep_deactivate(m, c, ep, true, &e2) < 0)
		blog_warn("container %s: undoing its connection: %s", c->c.name, berr_str(&e2));
	return r;
}

static int connect_locked(struct manager *m, const char *ref, const cJSON *req, struct berr *err)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(req, "EndpointConfig");
	struct ctr_entry *c;
	struct net_entry *n;
	struct ep_entry *ep;
	int r;

	r = connect_args(m, ref, req, &n, &c, err);
	if (r >= 0 && n->drv && n->drv->global_scope)
		r = mgr_cluster_check(m, err);
	if (r < 0)
		return r;
	r = mgr_ep_new(m, c, n, cfg, false, &ep, err);
	if (r < 0)
		return r;
	if (c->c.state != CTR_RUNNING) {
		r = mgr_ep_store_put(m, ep, err);
		if (r < 0)
			mgr_ep_drop(m, ep);
		return r < 0 ? r : connect_gw(m, c, ep, err);
	}
	r = mgr_ep_activate(m, c, ep, err);
	if (r < 0) {
		/* the rollback removed the store row, unless the store refused: then the endpoint
		 * stays pending, as recorded, for disconnect or the next start to finish */
		if (!ep->persisted)
			mgr_ep_drop(m, ep);
		return r;
	}
	r = connect_gw(m, c, ep, err);
	if (r < 0)
		return r;
	if (mgr_ctr_files_write(m, c, err) < 0)
		blog_warn("container %s: %s", c->c.name, berr_str(err));
	return 0;
}

int mgr_network_connect(struct manager *m, const char *ref, const cJSON *req, struct berr *err)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = connect_locked(m, ref, req, err);
	pthread_mutex_unlock(&m->lock);
	return r;
}

static int disconnect_locked(struct manager *m, const char *ref, const cJSON *req,
			     struct berr *err)
{
	struct ctr_entry *c;
	struct net_entry *n;
	struct ep_entry *ep;
	int r;

	r = connect_args(m, ref, req, &n, &c, err);
	if (r < 0)
		return r;
	ep = mgr_ep_find(m, n->n.id, c->c.id);
	if (!ep)
		return berr_set(err, -ENOTCONN, "container %s is not connected to network %s",
				c->c.name, n->n.name);
	if (n->drv && n->drv->shares_host_netns)
		return berr_set(err, -EINVAL, "container %s cannot be disconnected from the host "
				"network", c->c.name);
	if (n->drv && n->drv->global_scope && c->c.state == CTR_RUNNING) {
		r = mgr_cluster_check(m, err);
		if (r < 0)
			return r;
	}
	r = mgr_ep_deactivate(m, c, ep, true, err);
	if (r >= 0)
		r = mgr_cluster_gw_sync(m, c, false, err);
	if (r >= 0 && c->c.state == CTR_RUNNING) {
		struct berr e2 = BERR_INIT;

		if (mgr_sandbox_routes(m, c, &e2) < 0 || mgr_ctr_files_write(m, c, &e2) < 0)
			blog_warn("container %s after disconnect: %s", c->c.name, berr_str(&e2));
	}
	return r;
}

int mgr_network_disconnect(struct manager *m, const char *ref, const cJSON *req, struct berr *err)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = disconnect_locked(m, ref, req, err);
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* The predefined networks, as in Docker: "bridge" (the default for `run`, on its own bridge
 * berth0, without embedded DNS), "host" and "none". Created at start when missing. */
int mgr_default_networks(struct manager *m, struct berr *err)
{
	static const char *const reqs[] = {
		"{\"Name\":\"bridge\",\"Driver\":\"bridge\",\"Options\":{"
		"\"com.docker.network.bridge.name\":\"berth0\","
		"\"com.docker.network.bridge.default_bridge\":\"true\"}}",
		"{\"Name\":\"host\",\"Driver\":\"host\"}",
		"{\"Name\":\"none\",\"Driver\":\"none\"}",
	};
	static const char *const names[] = { "bridge", "host", "none" };
	int r = 0;

	m->creating_defaults = true;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(reqs); i++) {
		cJSON *req, *ret = NULL;
		bool have = false;

		for (size_t k = 0; k < m->nets.n; k++)
			have |= strcmp(m->nets.v[k]->n.name, names[i]) == 0;
		if (have)
			continue;
		req = cJSON_Parse(reqs[i]);
		r = mgr_network_create(m, req, &ret, err);
		cJSON_Delete(req);
		cJSON_Delete(ret);
		if (r < 0)
			berr_prefix(err, "creating the predefined network %s", names[i]);
	}
	m->creating_defaults = false;
	return r;
}
