/* SPDX-License-Identifier: Apache-2.0 */
/* dockerd's networks and endpoints: Docker's remote network driver (plugins/docker/dkp.h, served
 * by daemon/plugin_api.c) mapped onto berth's manager.
 *
 * A network dockerd creates is a berth bridge network with dockerd's network ID, named
 * "docker-<12 hex>" and marked with the option berth.owner=dockerd: berth's bridge, nftables
 * isolation, anti-spoofing, masquerade and publishing apply to it as to any other; only dockerd
 * removes it, and berth's own containers do not join it (dockerd allocates its addresses).
 *
 * An endpoint dockerd creates is an entry of m->eps (so the firewall, `berth network inspect`,
 * the orphan sweep and the allocation reconciliation see it) whose container_id is its own ID,
 * with ep->remote for the rest; it is stored as one metadata row (REMOTE_META_EP + ID, JSON)
 * plus its address allocations, in one transaction. States: created (INACTIVE: addresses, no
 * kernel object), joined (ACTIVE: a veth whose host end is a port of the bridge and whose other
 * end dockerd moved into its sandbox), and PENDING while a join or a deletion runs (intent
 * recorded first; start-up rolls a PENDING endpoint back to INACTIVE). dockerd never replays
 * CreateNetwork or CreateEndpoint, so everything survives restarts of berthd and of dockerd. */
#include "daemon/mgr_remote.h"

#include "drivers/common.h"
#include "plugins/docker/iptables.h"

#define OWNER_OPT "berth.owner"
#define OWNER_DOCKER "dockerd"

struct remote_state *remote_state(struct manager *m)
{
	if (!m->remote)
		m->remote = xcalloc(1, sizeof(*m->remote));
	return m->remote;
}

int remote_tx(struct manager *m, int (*fn)(struct manager *m, void *ud, struct berr *err),
	      void *ud, struct berr *err)
{
	int r = store_begin(m->store, err);

	if (r >= 0)
		r = fn(m, ud, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0)
		store_rollback(m->store);
	return r;
}

bool mgr_net_docker_owned(const struct net_entry *n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(n->n.options, OWNER_OPT);

	return cJSON_IsString(v) && !strcmp(v->valuestring, OWNER_DOCKER);
}

const cJSON *mgr_remote_ep_ports(const struct ep_entry *ep)
{
	return ep->remote ? ep->remote->ports : NULL;
}

static struct ep_entry *rep_find(struct manager *m, const char *id)
{
	for (size_t i = 0; i < m->eps.n; i++)
		if (m->eps.v[i]->remote && !strcmp(m->eps.v[i]->e.id, id))
			return m->eps.v[i];
	return NULL;
}

static void rep_free(struct ep_entry *ep)
{
	if (!ep->remote)
		return;
	cJSON_Delete(ep->remote->bindings);
	cJSON_Delete(ep->remote->ports);
	free(ep->remote);
	ep->remote = NULL;
}

/* ---------------------------------------------------------------- the stored form */

static void json_ip(cJSON *o, const char *key, const struct ipaddr *a)
{
	char buf[IP_STRLEN];

	cJSON_AddStringToObject(o, key, a->family ? ip_fmt(a, buf) : "");
}

static char *rep_json(const struct ep_entry *ep)
{
	_cleanup_json_ cJSON *o = cJSON_CreateObject();
	const struct remote_ep *x = ep->remote;

	cJSON_AddStringToObject(o, "Network", ep->e.network_id);
	cJSON_AddNumberToObject(o, "State", ep->e.state);
	cJSON_AddStringToObject(o, "MacAddress", ep->e.mac);
	json_ip(o, "IPv4Address", &ep->e.ip4);
	json_ip(o, "IPv6Address", &ep->e.ip6);
	cJSON_AddStringToObject(o, "HostInterface", ep->e.host_ifname);
	cJSON_AddStringToObject(o, "Peer", x->peer);
	cJSON_AddStringToObject(o, "SandboxKey", x->sandbox);
	if (x->bindings)
		cJSON_AddItemToObject(o, "PortBindings", cJSON_Duplicate(x->bindings, 1));
	if (x->ports)
		cJSON_AddItemToObject(o, "Ports", cJSON_Duplicate(x->ports, 1));
	return cJSON_PrintUnformatted(o);
}

static int rep_row_put(struct manager *m, void *ud, struct berr *err)
{
	struct ep_entry *ep = ud;
	_cleanup_free_ char *key = xasprintf(REMOTE_META_EP "%s", ep->e.id);
	_cleanup_free_ char *v = rep_json(ep);

	return store_meta_put(m->store, key, v, err);
}

static int rep_persist(struct manager *m, struct ep_entry *ep, struct berr *err)
{
	return remote_tx(m, rep_row_put, ep, err);
}

/* The row and the allocations of the endpoint's addresses (owner: the endpoint). */
static int rep_rows_create(struct manager *m, void *ud, struct berr *err)
{
	struct ep_entry *ep = ud;
	const struct ipaddr *ips[2] = { &ep->e.ip4, &ep->e.ip6 };
	int r = rep_row_put(m, ep, err);

	for (int i = 0; r >= 0 && i < 2; i++)
		if (ips[i]->family)
			r = store_alloc_put(m->store, ep->e.network_id, ips[i], ep->e.id, err);
	return r;
}

static int rep_rows_delete(struct manager *m, void *ud, struct berr *err)
{
	struct ep_entry *ep = ud;
	_cleanup_free_ char *key = xasprintf(REMOTE_META_EP "%s", ep->e.id);
	const struct ipaddr *ips[2] = { &ep->e.ip4, &ep->e.ip6 };
	int r = store_meta_delete(m->store, key, err);

	for (int i = 0; r >= 0 && i < 2; i++)
		if (ips[i]->family)
			r = store_alloc_delete(m->store, ep->e.network_id, ips[i], err);
	return r;
}

static int json_str(const cJSON *o, const char *key, const char **ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*ret = cJSON_IsString(v) ? v->valuestring : "";
	return cJSON_IsString(v) ? 0 : -EINVAL;
}

static int json_ip_get(const cJSON *o, const char *key, struct ipaddr *ret)
{
	const char *s;

	memset(ret, 0, sizeof(*ret));
	if (json_str(o, key, &s) < 0)
		return -EINVAL;
	return *s ? ip_parse(s, ret, NULL) : 0;
}

static const cJSON *json_opt(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return v && !cJSON_IsNull(v) ? v : NULL;
}

/* One stored endpoint back into m->eps. */
static int rep_load(const char *key, const char *value, void *ud)
{
	struct manager *m = ud;
	_cleanup_json_ cJSON *o = cJSON_Parse(value);
	const char *id = key + strlen(REMOTE_META_EP), *net, *mac, *host, *peer, *sb;
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(o, "State");
	struct ep_entry *ep;

	if (!id_is_valid(id) || !cJSON_IsNumber(state) || json_str(o, "Network", &net) < 0 ||
	    json_str(o, "MacAddress", &mac) < 0 || json_str(o, "HostInterface", &host) < 0 ||
	    json_str(o, "Peer", &peer) < 0 || json_str(o, "SandboxKey", &sb) < 0 ||
	    !id_is_valid(net)) {
		blog_warn("docker endpoint %.12s: its record is corrupt; ignored", id);
		return 0;
	}
	ep = xcalloc(1, sizeof(*ep));
	ep->remote = xcalloc(1, sizeof(*ep->remote));
	strscpy(ep->e.id, id, sizeof(ep->e.id));
	strscpy(ep->e.container_id, id, sizeof(ep->e.container_id));
	strscpy(ep->e.network_id, net, sizeof(ep->e.network_id));
	ep->e.state = (enum ep_state)state->valueint;
	strscpy(ep->e.mac, mac, sizeof(ep->e.mac));
	strscpy(ep->e.host_ifname, host, sizeof(ep->e.host_ifname));
	strscpy(ep->remote->peer, peer, sizeof(ep->remote->peer));
	strscpy(ep->remote->sandbox, sb, sizeof(ep->remote->sandbox));
	json_ip_get(o, "IPv4Address", &ep->e.ip4);
	json_ip_get(o, "IPv6Address", &ep->e.ip6);
	ep->e.aliases = cJSON_CreateArray();
	if (json_opt(o, "PortBindings"))
		ep->remote->bindings = cJSON_Duplicate(json_opt(o, "PortBindings"), 1);
	if (json_opt(o, "Ports"))
		ep->remote->ports = cJSON_Duplicate(json_opt(o, "Ports"), 1);
	mgr_ep_add(m, ep);
	return 0;
}

int mgr_remote_load(struct manager *m, struct berr *err)
{
	int r = store_meta_list(m->store, REMOTE_META_EP, rep_load, m, err);

	if (r >= 0)
		r = remote_ipam_load(m, err);
	return r < 0 ? berr_prefix(err, "loading dockerd's endpoints and pools") : 0;
}

/* ---------------------------------------------------------------- Docker's iptables */

/* dockerd's FORWARD chain (policy DROP once dockerd enabled forwarding) would drop what crosses
 * berth's bridges: berth's own chain, jumped to from DOCKER-USER, hands their traffic to berth's
 * nftables rules instead (plugins/docker/iptables.c). Every bridge network of berth's, rewritten
 * whole after each change, one writer at a time (docker_fw_lock, taken before the manager lock)
 * and from the state of the moment, so the last writer always writes the latest state. */
static pthread_mutex_t docker_fw_lock = PTHREAD_MUTEX_INITIALIZER;

void mgr_remote_networks_changed(struct manager *m)
{
	if (m->remote)
		m->remote->fw_dirty = true;
}

/* Lock held: the bridges (*ret malloc'd), and the dirty mark taken. False: nothing to do. */
static bool docker_fw_snapshot(struct manager *m, char (**ret)[IFNAME_LEN], size_t *ret_n)
{
	char (*br)[IFNAME_LEN];
	size_t n = 0;

	if (!m->remote || !m->remote->plugin || !m->remote->fw_dirty)
		return false;
	m->remote->fw_dirty = false;
	br = xcalloc(m->nets.n + 1, sizeof(*br));
	for (size_t i = 0; i < m->nets.n; i++)
		if (!strcmp(m->nets.v[i]->n.driver, "bridge") && m->nets.v[i]->n.ifname[0])
			strscpy(br[n++], m->nets.v[i]->n.ifname, IFNAME_LEN);
	*ret = br;
	*ret_n = n;
	return true;
}

void mgr_remote_fw_flush(struct manager *m)
{
	char (*br)[IFNAME_LEN] = NULL;
	struct berr e2 = BERR_INIT;
	size_t n = 0;
	bool todo;
	int r;

	pthread_mutex_lock(&docker_fw_lock);
	pthread_mutex_lock(&m->lock);
	todo = docker_fw_snapshot(m, &br, &n);
	pthread_mutex_unlock(&m->lock);
	if (todo) {
		mgr_children_hold(m);   /* iptables is our child: mgr_reap() must not reap it */
		r = dkp_iptables_sync(br, n, &e2);
		mgr_children_release(m);
		if (r < 0) {
			blog_warn("docker's iptables: %s; retried at the next network change", berr_str(&e2));
			pthread_mutex_lock(&m->lock);
			m->remote->fw_dirty = true;
			pthread_mutex_unlock(&m->lock);
		}
	}
	pthread_mutex_unlock(&docker_fw_lock);
	free(br);
}

void mgr_remote_plugin_enable(struct manager *m)
{
	pthread_mutex_lock(&m->lock);
	remote_state(m)->plugin = true;
	m->remote->fw_dirty = true;
	pthread_mutex_unlock(&m->lock);
	mgr_remote_fw_flush(m);
}

/* ---------------------------------------------------------------- networks */

static void ipdata_to_config(const struct dkp_ipdata *d, cJSON *cfgs)
{
	cJSON *c = cJSON_CreateObject();
	char buf[CIDR_STRLEN];

	cJSON_AddStringToObject(c, "Subnet", cidr_fmt(&d->pool, buf));
	if (d->gateway.family)
		cJSON_AddStringToObject(c, "Gateway", ip_fmt(&d->gateway, buf));
	if (cJSON_GetArraySize(d->aux))
		cJSON_AddItemToObject(c, "AuxiliaryAddresses", cJSON_Duplicate(d->aux, 1));
	cJSON_AddItemToArray(cfgs, c);
}

/* CreateNetwork as a request of berth's API (POST /networks/create). */
static cJSON *net_request(const struct dkp_request *q)
{
	cJSON *req = cJSON_CreateObject(), *ipam, *cfgs, *opts = cJSON_Duplicate(q->generic, 1);
	char name[NAME_LEN];

	snprintf(name, sizeof(name), "docker-%.12s", q->network_id);
	cJSON_AddStringToObject(req, "Name", name);
	cJSON_AddStringToObject(req, "Driver", "bridge");
	cJSON_AddBoolToObject(req, "EnableIPv6", q->ipv6);
	cJSON_AddBoolToObject(req, "Internal", q->internal);
	cJSON_DeleteItemFromObjectCaseSensitive(opts, OWNER_OPT);
	cJSON_AddStringToObject(opts, OWNER_OPT, OWNER_DOCKER);
	cJSON_AddItemToObject(req, "Options", opts);
	ipam = cJSON_AddObjectToObject(req, "IPAM");
	cfgs = cJSON_AddArrayToObject(ipam, "Config");
	for (int i = 0; i < q->n_v4; i++)
		ipdata_to_config(&q->v4[i], cfgs);
	for (int i = 0; i < q->n_v6; i++)
		ipdata_to_config(&q->v6[i], cfgs);
	return req;
}

static struct net_entry *docker_net(struct manager *m, const char *id, struct berr *err)
{
	struct net_entry *n = mgr_net_by_id(m, id);

	if (!n) {
		berr_set(err, -ENOENT, "network %.12s is unknown to berth (was it created while "
			 "berthd was not serving the plugin?)", id);
		return NULL;
	}
	if (!mgr_net_docker_owned(n)) {
		berr_set(err, -EPERM, "network %s was not created by dockerd", n->n.name);
		return NULL;
	}
	return n;
}

static int net_create(struct manager *m, const struct dkp_request *q, struct berr *err)
{
	_cleanup_json_ cJSON *req = net_request(q);
	struct net_entry *n = mgr_net_by_id(m, q->network_id);
	int r;

	if (n && mgr_net_docker_owned(n))
		return 0;   /* dockerd asks again after a failure it did not see the end of */
	r = mgr_net_create_locked(m, req, q->network_id, NULL, err);
	if (r >= 0)
		blog_info("network docker-%.12s created by dockerd", q->network_id);
	return r;
}

static int rep_destroy(struct manager *m, struct ep_entry *ep, struct berr *err);

static int net_delete(struct manager *m, const struct dkp_request *q, struct berr *err)
{
	struct net_entry *n = mgr_net_by_id(m, q->network_id);
	int r = 0;

	if (!n)
		return 0;   /* deleting what is gone succeeds */
	if (!mgr_net_docker_owned(n))
		return berr_set(err, -EPERM, "network %s was not created by dockerd", n->n.name);
	/* dockerd deletes a network once it has no endpoints: what is left are endpoints whose
	 * deletion berth never saw the end of (berthd was down) */
	for (size_t i = m->eps.n; r >= 0 && i-- > 0;)
		if (m->eps.v[i]->remote && !strcmp(m->eps.v[i]->e.network_id, n->n.id))
			r = rep_destroy(m, m->eps.v[i], err);
	if (r >= 0)
		r = mgr_net_remove_locked(m, n, err);
	return r;
}

/* ---------------------------------------------------------------- endpoints */

static struct ipam_pool *net_pool(struct net_entry *n, const struct ipaddr *a)
{
	for (int i = 0; i < n->n.n_subnets; i++)
		if (cidr_contains(&n->pools[i].subnet, a))
			return &n->pools[i];
	return NULL;
}

/* The address dockerd assigned: inside the network and free. */
static int addr_check(struct net_entry *n, const struct ipaddr *a, struct berr *err)
{
	struct ipam_pool *p;
	char buf[IP_STRLEN];

	if (!a->family)
		return 0;
	p = net_pool(n, a);
	if (!p)
		return berr_set(err, -EINVAL, "address %s is outside the subnets of network %s",
				ip_fmt(a, buf), n->n.name);
	if (ipam_pool_taken(p, a))
		return berr_set(err, -EADDRINUSE, "address %s is already in use in network %s",
				ip_fmt(a, buf), n->n.name);
	return ipam_pool_usable(p, a) ? 0 : berr_set(err, -EINVAL, "address %s cannot be "
						     "assigned in network %s", ip_fmt(a, buf),
						     n->n.name);
}

static void addrs_release(struct net_entry *n, struct ep_entry *ep)
{
	const struct ipaddr *ips[2] = { &ep->e.ip4, &ep->e.ip6 };

	for (int i = 0; i < 2; i++)
		if (ips[i]->family && n && net_pool(n, ips[i]))
			ipam_pool_release(net_pool(n, ips[i]), ips[i]);
}

static cJSON *ep_create_reply(const struct dkp_request *q, const struct ep_entry *ep)
{
	cJSON *o = cJSON_CreateObject();

	/* dockerd refuses a reply that changes what it assigned: only a MAC it left to us */
	if (!q->mac[0])
		cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "Interface"), "MacAddress",
					ep->e.mac);
	return o;
}

static struct ep_entry *rep_new(struct net_entry *n, const struct dkp_request *q)
{
	struct ep_entry *ep = xcalloc(1, sizeof(*ep));
	uint8_t mac[6];

	ep->remote = xcalloc(1, sizeof(*ep->remote));
	strscpy(ep->e.id, q->endpoint_id, sizeof(ep->e.id));
	strscpy(ep->e.container_id, q->endpoint_id, sizeof(ep->e.container_id));
	strscpy(ep->e.network_id, n->n.id, sizeof(ep->e.network_id));
	ep->e.state = EP_INACTIVE;
	ep->e.ip4 = q->addr4.addr;
	ep->e.ip6 = q->addr6.addr;
	ep->e.aliases = cJSON_CreateArray();
	if (q->mac[0]) {
		strscpy(ep->e.mac, q->mac, sizeof(ep->e.mac));
	} else {
		mac_from_seed(ep->e.id, mac);
		mac_fmt(mac, ep->e.mac);
	}
	/* host end "bv" + hash: the orphan sweep's shape; the other end "bd" + hash: never swept
	 * (it lives in dockerd's sandbox, or briefly in the host namespace around a join) */
	ifname_veth_host(n->n.id, ep->e.id, ep->e.host_ifname);
	ifname_veth_host(ep->e.id, n->n.id, ep->remote->peer);
	ep->remote->peer[1] = 'd';
	if (q->bindings)
		ep->remote->bindings = cJSON_Duplicate(q->bindings, 1);
	return ep;
}

static int ep_create(struct manager *m, const struct dkp_request *q, cJSON **ret,
		     struct berr *err)
{
	struct net_entry *n = docker_net(m, q->network_id, err);
	struct ep_entry *ep;
	int r;

	if (!n)
		return err->code;
	ep = rep_find(m, q->endpoint_id);
	if (ep) {
		if (strcmp(ep->e.network_id, n->n.id) != 0)
			return berr_set(err, -EEXIST, "endpoint %.12s exists on another network",
					q->endpoint_id);
		*ret = ep_create_reply(q, ep);
		return 0;
	}
	if (q->addr6.addr.family && !n->n.ipv6)
		return berr_set(err, -EINVAL, "network %s does not have IPv6 enabled", n->n.name);
	r = addr_check(n, &q->addr4.addr, err);
	if (r >= 0)
		r = addr_check(n, &q->addr6.addr, err);
	if (r < 0)
		return r;
	ep = rep_new(n, q);
	if (ep->e.ip4.family)
		ipam_pool_reserve(net_pool(n, &ep->e.ip4), &ep->e.ip4, NULL);
	if (ep->e.ip6.family)
		ipam_pool_reserve(net_pool(n, &ep->e.ip6), &ep->e.ip6, NULL);
	r = remote_tx(m, rep_rows_create, ep, err);
	if (r < 0) {
		addrs_release(n, ep);
		rep_free(ep);
		cJSON_Delete(ep->e.aliases);
		free(ep);
		return r;
	}
	ep->persisted = true;
	mgr_ep_add(m, ep);
	*ret = ep_create_reply(q, ep);
	return 0;
}

static struct ep_entry *rep_get(struct manager *m, const struct dkp_request *q, struct berr *err)
{
	struct ep_entry *ep = rep_find(m, q->endpoint_id);

	if (!ep || strcmp(ep->e.network_id, q->network_id) != 0) {
		berr_set(err, -ENOENT, "endpoint %.12s of network %.12s is unknown to berth",
			 q->endpoint_id, q->network_id);
		return NULL;
	}
	return ep;
}

static int ep_info(struct manager *m, const struct dkp_request *q, cJSON **ret,
		   struct berr *err)
{
	struct ep_entry *ep = rep_get(m, q, err);
	cJSON *v;

	if (!ep)
		return err->code;
	*ret = cJSON_CreateObject();
	v = cJSON_AddObjectToObject(*ret, "Value");
	cJSON_AddStringToObject(v, "berth.host_interface", ep->e.host_ifname);
	cJSON_AddStringToObject(v, "berth.state", ep->e.state == EP_ACTIVE ? "active" :
					    ep->e.state == EP_PENDING ? "pending" : "created");
	return 0;
}

/* Firewall elements out, interface gone, endpoint INACTIVE (recorded). */
static int rep_teardown(struct manager *m, struct net_entry *n, struct ep_entry *ep,
			struct berr *err)
{
	enum ep_state was = ep->e.state;
	int r;

	if (was == EP_INACTIVE)
		return 0;
	ep->e.state = EP_PENDING;   /* intent: a crash from here on is finished at start-up */
	r = rep_persist(m, ep, err);
	if (r < 0) {
		ep->e.state = was;
		return r;
	}
	if (was == EP_ACTIVE)
		mgr_fw_endpoint_removed(m, NULL, ep);
	r = n && n->drv && n->drv->leave ? n->drv->leave(&m->drv, &n->n, &ep->e, NULL, err) : 0;
	if (r < 0)
		return berr_prefix(err, "removing the interface of endpoint %.12s", ep->e.id);
	ep->e.state = EP_INACTIVE;
	r = rep_persist(m, ep, err);
	if (r < 0)
		ep->e.state = EP_PENDING;
	return r;
}

/* The network's other subnets of the endpoint's families are on the same bridge: reachable
 * directly (RouteType 1, "connected" in libnetwork), without a gateway, on internal networks
 * too. */
static cJSON *join_routes(const struct net_entry *n, const struct ep_entry *ep)
{
	cJSON *a = cJSON_CreateArray();
	char buf[CIDR_STRLEN];

	for (int i = 0; i < n->n.n_subnets; i++) {
		const struct cidr *s = &n->n.subnets[i].subnet;
		const struct ipaddr *ip = s->addr.family == AF_INET ? &ep->e.ip4 : &ep->e.ip6;
		cJSON *r;

		if (!ip->family || cidr_contains(s, ip))
			continue;
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "Destination", cidr_fmt(s, buf));
		cJSON_AddNumberToObject(r, "RouteType", 1);
		cJSON_AddItemToArray(a, r);
	}
	return a;
}

static cJSON *join_reply(const struct net_entry *n, const struct ep_entry *ep)
{
	cJSON *o = cJSON_CreateObject(), *ifn = cJSON_AddObjectToObject(o, "InterfaceName");
	char buf[IP_STRLEN];

	cJSON_AddStringToObject(ifn, "SrcName", ep->remote->peer);
	cJSON_AddStringToObject(ifn, "DstPrefix", "eth");
	/* as Docker's bridge driver: no gateway on an internal network */
	for (int i = 0; !n->n.internal && i < n->n.n_subnets; i++) {
		const struct bsubnet *s = &n->n.subnets[i];
		const struct ipaddr *ip = s->subnet.addr.family == AF_INET ? &ep->e.ip4 : &ep->e.ip6;
		const char *key = s->subnet.addr.family == AF_INET ? "Gateway" : "GatewayIPv6";

		if (s->gateway.family && ip->family && cidr_contains(&s->subnet, ip) &&
		    !cJSON_GetObjectItemCaseSensitive(o, key))
			cJSON_AddStringToObject(o, key, ip_fmt(&s->gateway, buf));
	}
	cJSON_AddItemToObject(o, "StaticRoutes", join_routes(n, ep));
	cJSON_AddBoolToObject(o, "DisableGatewayService", false);
	return o;
}

static int join_locked(struct manager *m, struct net_entry *n, struct ep_entry *ep,
		       const struct dkp_request *q, struct berr *err)
{
	struct berr e2 = BERR_INIT;
	struct steps st;
	int r;

	if (!n->drv || !n->drv->join_detached)
		return berr_set(err, -EOPNOTSUPP, "driver %s cannot serve dockerd", n->n.driver);
	steps_start(&st);
	ep->e.state = EP_PENDING;   /* intent first */
	strscpy(ep->remote->sandbox, q->sandbox_key, sizeof(ep->remote->sandbox));
	r = rep_persist(m, ep, err);
	if (r < 0) {
		ep->e.state = EP_INACTIVE;
		return r;
	}
	steps_mark(&st, "store");
	crash_point("docker-join:after-store");
	/* the firewall first: the interface's first frames must already be allowed */
	r = mgr_fw_endpoint_added(m, NULL, ep, err);
	steps_mark(&st, "fw");
	if (r < 0) {
		ep->e.state = EP_INACTIVE;
		if (rep_persist(m, ep, &e2) < 0)
			ep->e.state = EP_PENDING;   /* as recorded: the next start rolls it back */
		return r;
	}
	r = n->drv->join_detached(&m->drv, &n->n, &ep->e, ep->remote->peer, err);
	steps_mark(&st, "veth");
	if (r >= 0) {
		ep->e.state = EP_ACTIVE;
		r = rep_persist(m, ep, err);
	}
	steps_mark(&st, "commit");
	blog_debug("docker join %.12s: %s", ep->e.id, st.buf);
	if (r < 0) {
		ep->e.state = EP_ACTIVE;   /* so that the teardown removes the elements too */
		if (rep_teardown(m, n, ep, &e2) < 0)
			blog_warn("docker endpoint %.12s: undoing the join: %s; finished at the next "
				  "start", ep->e.id, berr_str(&e2));
	}
	return r;
}

static int join(struct manager *m, const struct dkp_request *q, cJSON **ret, struct berr *err)
{
	struct net_entry *n = docker_net(m, q->network_id, err);
	struct ep_entry *ep = n ? rep_get(m, q, err) : NULL;
	int r = 0;

	if (!ep)
		return err->code;
	if (ep->e.state == EP_PENDING)   /* a deletion berth did not finish */
		r = rep_teardown(m, n, ep, err);
	if (r >= 0 && ep->e.state == EP_INACTIVE)
		r = join_locked(m, n, ep, q, err);
	if (r < 0)
		return berr_prefix(err, "joining endpoint %.12s", ep->e.id);
	*ret = join_reply(n, ep);
	return 0;
}

/* ---------------------------------------------------------------- publishing */

static int ports_record(struct manager *m, void *ud, cJSON *rec, struct berr *err)
{
	struct ep_entry *ep = ud;
	int r;

	cJSON_Delete(ep->remote->ports);
	ep->remote->ports = rec;
	r = rep_persist(m, ep, err);
	if (r < 0) {
		cJSON_Delete(ep->remote->ports);
		ep->remote->ports = NULL;
	}
	return r;
}

static int ext_program(struct manager *m, const struct dkp_request *q, struct berr *err)
{
	struct ep_entry *ep = rep_get(m, q, err);
	const cJSON *pb;

	if (!ep)
		return err->code;
	pb = q->bindings ? q->bindings : ep->remote->bindings;
	if (!pb || ep->remote->ports)
		return 0;   /* nothing to publish, or published already */
	if (ep->e.state != EP_ACTIVE)
		return berr_set(err, -ENOTCONN, "endpoint %.12s has not joined", ep->e.id);
	return mgr_fw_ep_ports_add(m, ep, pb, ports_record, ep, err);
}

static int ext_revoke(struct manager *m, struct ep_entry *ep, struct berr *err)
{
	if (!ep->remote->ports)
		return 0;
	mgr_fw_ep_ports_remove(m, ep);
	cJSON_Delete(ep->remote->ports);
	ep->remote->ports = NULL;
	return rep_persist(m, ep, err);
}

/* ---------------------------------------------------------------- deletion */

/* Everything of the endpoint: ports, firewall, interface, records, addresses. */
static int rep_destroy(struct manager *m, struct ep_entry *ep, struct berr *err)
{
	struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);
	int r = ext_revoke(m, ep, err);

	if (r >= 0)
		r = rep_teardown(m, n, ep, err);
	crash_point("docker-delete:after-leave");
	if (r >= 0)
		r = remote_tx(m, rep_rows_delete, ep, err);
	if (r < 0)
		return berr_prefix(err, "deleting endpoint %.12s", ep->e.id);
	addrs_release(n, ep);
	rep_free(ep);
	mgr_ep_drop(m, ep);
	return 0;
}

static int ep_delete(struct manager *m, const struct dkp_request *q, struct berr *err)
{
	struct ep_entry *ep = rep_find(m, q->endpoint_id);

	return ep ? rep_destroy(m, ep, err) : 0;   /* deleting what is gone succeeds */
}

static int leave(struct manager *m, const struct dkp_request *q, struct berr *err)
{
	/* dockerd moves the interface back out of its sandbox after Leave and DeleteEndpoint
	 * removes it, as with Docker's bridge driver; an unknown endpoint is gone already */
	return 0;
}

/* ---------------------------------------------------------------- reconciliation */

/* Start-up: PENDING endpoints (a join or a deletion cut short) are rolled back to INACTIVE;
 * dockerd deletes or joins them again. A joined endpoint whose interface is gone (its sandbox
 * died while berthd was away) stays until dockerd deletes it. */
void mgr_remote_reconcile(struct manager *m)
{
	for (size_t i = 0; i < m->eps.n; i++) {
		struct ep_entry *ep = m->eps.v[i];
		struct net_entry *n;
		struct berr e2 = BERR_INIT;

		if (!ep->remote)
			continue;
		n = mgr_net_by_id(m, ep->e.network_id);
		if (ep->e.state == EP_PENDING) {
			blog_info("rolling back interrupted docker endpoint %.12s", ep->e.id);
			ep->e.state = EP_ACTIVE;
			if (rep_teardown(m, n, ep, &e2) < 0)
				blog_warn("docker endpoint %.12s: %s; retried at the next start",
					  ep->e.id, berr_str(&e2));
		} else if (ep->e.state == EP_ACTIVE && n && n->drv && n->drv->endpoint_check &&
			   n->drv->endpoint_check(&m->drv, &n->n, &ep->e, NULL, &e2) == 0) {
			blog_info("docker endpoint %.12s: its interface is gone (its sandbox ended?)",
				  ep->e.id);
		}
	}
}

void mgr_remote_close(struct manager *m)
{
	for (size_t i = 0; i < m->eps.n; i++)
		rep_free(m->eps.v[i]);
	if (m->remote)
		remote_ipam_free(m->remote);
	free(m->remote);
	m->remote = NULL;
}

/* ---------------------------------------------------------------- dispatch */

static int network_call(struct manager *m, const struct dkp_request *q, cJSON **ret,
			struct berr *err)
{
	switch (q->op) {
	case DKP_NET_CREATE:
		return net_create(m, q, err);
	case DKP_NET_DELETE:
		return net_delete(m, q, err);
	case DKP_EP_CREATE:
		return ep_create(m, q, ret, err);
	case DKP_EP_DELETE:
		return ep_delete(m, q, err);
	case DKP_EP_INFO:
		return ep_info(m, q, ret, err);
	case DKP_JOIN:
		return join(m, q, ret, err);
	case DKP_LEAVE:
		return leave(m, q, err);
	case DKP_EXT_PROGRAM:
		return ext_program(m, q, err);
	case DKP_EXT_REVOKE: {
		struct ep_entry *ep = rep_find(m, q->endpoint_id);

		return ep ? ext_revoke(m, ep, err) : 0;
	}
	default:
		return remote_ipam_call(m, q, ret, err);
	}
}

int mgr_remote_call(struct manager *m, const struct dkp_request *q, cJSON **ret,
		    struct berr *err)
{
	int r;

	*ret = NULL;
	switch (q->op) {
	case DKP_ACTIVATE:
	case DKP_NET_CAPS:
	case DKP_IPAM_CAPS:
	case DKP_IPAM_SPACES:
		*ret = dkp_reply_static(q->op);
		return 0;
	case DKP_DISCOVER_NEW:
	case DKP_DISCOVER_DELETE:
		return 0;   /* node discovery concerns global-scope drivers */
	case DKP_NET_ALLOCATE:
	case DKP_NET_FREE:
		return berr_set(err, -EOPNOTSUPP, "berth's networks are local-scope: swarm "
				"(global-scope) allocation is not supported");
	default:
		break;
	}
	pthread_mutex_lock(&m->lock);
	r = network_call(m, q, ret, err);
	pthread_mutex_unlock(&m->lock);
	if (q->op == DKP_NET_CREATE || q->op == DKP_NET_DELETE)
		mgr_remote_fw_flush(m);
	return r;
}
