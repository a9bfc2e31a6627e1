/* SPDX-License-Identifier: Apache-2.0 */
/* Overlay networks in the cluster store: creation and removal (serialised cluster-wide by the
 * netlock key), berth_gwbridge (outbound access of overlay containers) and the JSON views. */
#include "daemon/mgr_cluster.h"
#include "drivers/overlay/overlay.h"

#define NET_ATTEMPTS 8
#define GW_NET_NAME "berth_gwbridge"

static char *key_of(struct cluster *cl, enum cl_kind kind, const char *net_id, const char *name,
		    uint32_t vni)
{
	struct cl_key k = { .kind = kind, .vni = vni };

	if (net_id)
		strscpy(k.net_id, net_id, sizeof(k.net_id));
	if (name)
		strscpy(k.name, name, sizeof(k.name));
	return cl_key_fmt(cl->prefix, &k);
}

/* ---- creation ---- */

/* The netlock's revision and every network record, read in one revision. */
static int nets_read(struct cluster *cl, struct etcd_txn_reply *rep, int64_t *ret_lock,
		     struct berr *err)
{
	_cleanup_free_ char *lock = key_of(cl, CL_KEY_NETLOCK, NULL, NULL, 0);
	_cleanup_free_ char *dir = cl_key_dir(cl->prefix, CL_KEY_NETWORK, NULL);
	const struct etcd_op ops[2] = { { .kind = ETCD_OP_GET, .key = lock },
					{ .kind = ETCD_OP_GET, .key = dir, .prefix = true } };
	int r = etcd_txn(cl->etcd, NULL, 0, ops, 2, NULL, 0, rep, err);

	if (r < 0)
		return cl_fail(err);
	if (rep->n != 2) {
		etcd_txn_reply_clear(rep);
		return berr_set(err, -EPROTO, "cluster store: unexpected reply to a read");
	}
	*ret_lock = rep->replies[0].kvs.n ? rep->replies[0].kvs.kv[0].mod_revision : 0;
	return 0;
}

static int conflicts_check(const struct bnetwork *n, const struct bnetwork *o, struct berr *err)
{
	char a[CIDR_STRLEN], b[CIDR_STRLEN];
	int i, j;

	if (!strcmp(o->name, n->name))
		return berr_set(err, -EEXIST, "network with name %s already exists in the cluster",
				n->name);
	if (cl_net_overlap(n, o, &i, &j))
		return berr_set(err, -EEXIST, "subnet %s overlaps with network \"%s\" (%s) of the "
				"cluster", cidr_fmt(&n->subnets[i].subnet, a), o->name,
				cidr_fmt(&o->subnets[j].subnet, b));
	return 0;
}

/* Name and subnets against every network of the cluster; the VNI (wanted, or the lowest free). */
static int create_check(struct cluster *cl, const struct bnetwork *n, const struct etcd_kvs *kvs,
			uint32_t want, uint32_t *ret_vni, struct berr *err)
{
	_cleanup_free_ uint32_t *used = xcalloc(kvs->n + 1, sizeof(*used));
	size_t n_used = 0;
	uint32_t vni;

	for (size_t i = 0; i < kvs->n; i++) {
		struct cl_key k;
		struct bnetwork o;
		int r;

		if (cl_key_parse(cl->prefix, kvs->kv[i].key, &k, NULL) < 0 ||
		    k.kind != CL_KEY_NETWORK ||
		    cl_net_decode(k.net_id, kvs->kv[i].value, &o, &used[n_used], NULL) < 0)
			continue;   /* the mirror warns about it */
		n_used++;
		r = conflicts_check(n, &o, err);
		cl_net_clear(&o);
		if (r < 0)
			return r;
	}
	for (vni = want ? want : CL_VNI_MIN; vni <= CL_VNI_MAX; vni++) {
		bool taken = false;

		for (size_t i = 0; i < n_used && !taken; i++)
			taken = used[i] == vni;
		if (!taken)
			break;
		if (want)
			return berr_set(err, -EEXIST, "VNI %u is already used in the cluster", want);
	}
	if (vni > CL_VNI_MAX)
		return berr_set(err, -ENOSPC, "no free VNI left in the cluster");
	*ret_vni = vni;
	return 0;
}

struct net_keys {
	char *net, *name, *vni, *lock, *value;
};

static void net_keys_free(struct net_keys *k)
{
	free(k->net);
	free(k->name);
	free(k->vni);
	free(k->lock);
	free(k->value);
}

/* One attempt: 1 created, 0 someone changed the networks meanwhile (retry), -errno. */
static int create_try(struct manager *m, struct net_entry *e, uint32_t want, uint32_t *ret_vni,
		      struct berr *err)
{
	struct cluster *cl = m->cl;
	struct etcd_txn_reply rep, t;
	struct net_keys k = { 0 };
	int64_t lock_rev = 0;
	int r = nets_read(cl, &rep, &lock_rev, err);

	if (r < 0)
		return r;
	r = create_check(cl, &e->n, &rep.replies[1].kvs, want, ret_vni, err);
	etcd_txn_reply_clear(&rep);
	if (r < 0)
		return r;
	k.net = key_of(cl, CL_KEY_NETWORK, e->n.id, NULL, 0);
	k.name = key_of(cl, CL_KEY_NAME, NULL, e->n.name, 0);
	k.vni = key_of(cl, CL_KEY_VNI, NULL, NULL, *ret_vni);
	k.lock = key_of(cl, CL_KEY_NETLOCK, NULL, NULL, 0);
	k.value = cl_net_encode(&e->n, *ret_vni);
	{
		const struct etcd_cmp cmp[3] = {
			{ .key = k.lock, .target = ETCD_CMP_MOD, .number = lock_rev },
			{ .key = k.name, .target = ETCD_CMP_VERSION, .number = 0 },
			{ .key = k.vni, .target = ETCD_CMP_VERSION, .number = 0 },
		};
		const struct etcd_op put[4] = {
			{ .kind = ETCD_OP_PUT, .key = k.net, .value = k.value },
			{ .kind = ETCD_OP_PUT, .key = k.name, .value = e->n.id },
			{ .kind = ETCD_OP_PUT, .key = k.vni, .value = e->n.id },
			{ .kind = ETCD_OP_PUT, .key = k.lock, .value = e->n.id },
		};

		r = etcd_txn(cl->etcd, cmp, 3, put, 4, NULL, 0, &t, err);
	}
	if (r >= 0 && t.succeeded) {
		cl_mirror_put_quiet(m, k.net, k.value, t.revision);
		cl_apply_put(m, k.name, e->n.id, t.revision, 0);
		cl_apply_put(m, k.vni, e->n.id, t.revision, 0);
		cl_apply_put(m, k.lock, e->n.id, t.revision, 0);
		r = 1;
	} else if (r >= 0) {
		r = 0;
	}
	if (r >= 0)
		etcd_txn_reply_clear(&t);
	net_keys_free(&k);
	return r < 0 ? cl_fail(err) : r;
}

int mgr_cluster_network_create(struct manager *m, struct net_entry *e, struct berr *err)
{
	const char *opt = drv_opt(&e->n, CL_OPT_VNI);
	uint32_t want = 0, vni = 0;
	char buf[16];
	int r = mgr_cluster_check(m, err);

	if (r >= 0 && opt)
		r = cl_vni_parse(opt, &want, err);
	for (int i = 0; r == 0 && i < NET_ATTEMPTS; i++)
		r = create_try(m, e, want, &vni, err);
	if (r == 0)
		r = berr_set(err, -EAGAIN, "cluster store: networks kept changing: try again");
	if (r < 0)
		return berr_prefix(err, "creating network %s", e->n.name);
	snprintf(buf, sizeof(buf), "%u", vni);
	cJSON_DeleteItemFromObjectCaseSensitive(e->n.options, CL_OPT_VNI);
	cJSON_AddStringToObject(e->n.options, CL_OPT_VNI, buf);
	if (!e->n.mtu && ov_mtu(&m->drv, &e->n, &e->n.mtu, err) < 0) {
		blog_warn("network %s: %s", e->n.name, berr_str(err));
		berr_clear(err);
	}
	blog_info("cluster: network %s created (%.12s, VNI %u)", e->n.name, e->n.id, vni);
	return 0;
}

/* ---- removal ---- */

static int ep_hosts_msg(const struct etcd_kvs *eps, struct berr *err, const char *name)
{
	char hosts[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < eps->n; i++) {
		cJSON *o = cJSON_Parse(eps->kv[i].value);
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "Host");

		if (cJSON_IsString(h) && !strstr(hosts, h->valuestring) && len < sizeof(hosts) - 80)
			len += (size_t)snprintf(hosts + len, sizeof(hosts) - len, "%s%s",
						len ? ", " : "", h->valuestring);
		cJSON_Delete(o);
	}
	return berr_set(err, -EBUSY, "network %s has %zu endpoint%s in the cluster (on %s): "
			"disconnect them first", name, eps->n, eps->n == 1 ? "" : "s", hosts);
}

/* 1 removed (or gone already), 0 retry, -errno. */
static int remove_try(struct manager *m, struct net_entry *n, struct berr *err)
{
	struct cluster *cl = m->cl;
	_cleanup_free_ char *use = key_of(cl, CL_KEY_NETUSE, n->n.id, NULL, 0);
	_cleanup_free_ char *net = key_of(cl, CL_KEY_NETWORK, n->n.id, NULL, 0);
	_cleanup_free_ char *eps = cl_key_dir(cl->prefix, CL_KEY_ENDPOINT, n->n.id);
	_cleanup_free_ char *ipam = cl_key_dir(cl->prefix, CL_KEY_IPAM, n->n.id);
	_cleanup_free_ char *name = key_of(cl, CL_KEY_NAME, NULL, n->n.name, 0);
	_cleanup_free_ char *lock = key_of(cl, CL_KEY_NETLOCK, NULL, NULL, 0);
	_cleanup_free_ char *vni = NULL;
	const struct etcd_op get[3] = { { .kind = ETCD_OP_GET, .key = use },
					{ .kind = ETCD_OP_GET, .key = net },
					{ .kind = ETCD_OP_GET, .key = eps, .prefix = true } };
	struct etcd_txn_reply rep, t;
	int64_t use_rev, net_rev;
	uint32_t v = 0;
	int r = etcd_txn(cl->etcd, NULL, 0, get, 3, NULL, 0, &rep, err);

	if (r < 0)
		return cl_fail(err);
	use_rev = rep.replies[0].kvs.n ? rep.replies[0].kvs.kv[0].mod_revision : 0;
	net_rev = rep.replies[1].kvs.n ? rep.replies[1].kvs.kv[0].mod_revision : 0;
	if (net_rev && rep.replies[2].kvs.n)
		r = ep_hosts_msg(&rep.replies[2].kvs, err, n->n.name);
	etcd_txn_reply_clear(&rep);
	if (r < 0 || !net_rev)
		return r < 0 ? r : 1;
	ov_vni(&n->n, &v, NULL);
	vni = key_of(cl, CL_KEY_VNI, NULL, NULL, v);
	{
		const struct etcd_cmp cmp[2] = {
			{ .key = use, .target = ETCD_CMP_MOD, .number = use_rev },
			{ .key = net, .target = ETCD_CMP_MOD, .number = net_rev },
		};
		const struct etcd_op del[6] = {
			{ .kind = ETCD_OP_DELETE, .key = net },
			{ .kind = ETCD_OP_DELETE, .key = name },
			{ .kind = ETCD_OP_DELETE, .key = vni },
			{ .kind = ETCD_OP_DELETE, .key = use },
			{ .kind = ETCD_OP_DELETE, .key = ipam, .prefix = true },
			{ .kind = ETCD_OP_PUT, .key = lock, .value = n->n.id },
		};

		r = etcd_txn(cl->etcd, cmp, 2, del, 6, NULL, 0, &t, err);
	}
	if (r < 0)
		return cl_fail(err);
	r = t.succeeded;
	if (r) {
		cl_tomb_add(cl, net, t.revision);
		cl_mirror_delete_quiet(m, net, t.revision);
		cl_apply_delete(m, name, t.revision);
		cl_apply_delete(m, vni, t.revision);
		cl_apply_put(m, lock, n->n.id, t.revision, 0);
	}
	etcd_txn_reply_clear(&t);
	return r;
}

int mgr_cluster_network_remove(struct manager *m, struct net_entry *n, struct berr *err)
{
	int r = mgr_cluster_check(m, err);

	for (int i = 0; r == 0 && i < NET_ATTEMPTS; i++)
		r = remove_try(m, n, err);
	if (r == 0)
		r = berr_set(err, -EAGAIN, "cluster store: the network kept changing: try again");
	if (r < 0)
		return berr_prefix(err, "removing network %s", n->n.name);
	blog_info("cluster: network %s removed", n->n.name);
	return 0;
}

/* ---- berth_gwbridge: outbound access and published ports of overlay containers ---- */

static bool ctr_needs_gw(struct manager *m, const struct ctr_entry *c)
{
	const struct ep_group *g = mgr_ep_group(m, c->c.id);

	for (size_t i = 0; g && i < g->eps.n; i++) {
		struct net_entry *n = mgr_net_by_id(m, g->eps.v[i]->e.network_id);

		if (n && n->drv && n->drv->global_scope && !n->n.internal)
			return true;
	}
	return false;
}

static struct net_entry *gw_net(struct manager *m, bool create, struct berr *err)
{
	static const char req_text[] =
		"{\"Name\":\"" GW_NET_NAME "\",\"Driver\":\"bridge\",\"Options\":{"
		"\"com.docker.network.bridge.name\":\"" GW_NET_NAME "\","
		"\"com.docker.network.bridge.enable_icc\":\"false\","
		"\"com.docker.network.bridge.enable_ip_masquerade\":\"true\"}}";
	struct net_entry *e = NULL;
	cJSON *req;
	int r;

	for (size_t i = 0; i < m->nets.n; i++)
		if (!strcmp(m->nets.v[i]->n.name, GW_NET_NAME))
			return m->nets.v[i];
	if (!create)
		return NULL;
	req = cJSON_Parse(req_text);
	r = mgr_net_create_locked(m, req, NULL, &e, err);
	cJSON_Delete(req);
	if (r < 0) {
		berr_prefix(err, "creating network %s", GW_NET_NAME);
		return NULL;
	}
	return e;
}

static int gw_attach(struct manager *m, struct ctr_entry *c, bool at_create, struct berr *err)
{
	struct net_entry *gw = gw_net(m, true, err);
	struct ep_entry *ep;
	int r;

	if (!gw)
		return err->code;
	r = mgr_ep_new(m, c, gw, NULL, false, &ep, err);
	if (r < 0 || at_create)
		return r;
	r = c->c.state == CTR_RUNNING ? mgr_ep_activate(m, c, ep, err) : mgr_ep_store_put(m, ep, err);
	if (r < 0 && !ep->persisted)
		mgr_ep_drop(m, ep);
	return r;
}

int mgr_cluster_gw_sync(struct manager *m, struct ctr_entry *c, bool at_create,
			struct berr *err)
{
	bool needs = ctr_needs_gw(m, c);
	struct net_entry *gw = gw_net(m, false, NULL);
	struct ep_entry *ep = gw ? mgr_ep_find(m, gw->n.id, c->c.id) : NULL;

	if (needs && !ep)
		return gw_attach(m, c, at_create, err);
	if (!needs && ep)
		return mgr_ep_deactivate(m, c, ep, true, err);
	return 0;
}

/* ---- JSON views ---- */

static void add_cidr(cJSON *o, const char *key, const struct bnetwork *n, const struct ipaddr *a)
{
	struct cidr c = { .addr = *a };
	char buf[CIDR_STRLEN];

	c.prefix = drv_prefix_of(n, a);
	cJSON_AddStringToObject(o, key, a->family ? cidr_fmt(&c, buf) : "");
}

static void peer_add(cJSON *peers, struct cluster *cl, const char *host)
{
	struct cl_key k = { .kind = CL_KEY_HOST };
	_cleanup_free_ char *key = NULL;
	const struct cl_entry *h;
	const cJSON *it;
	char buf[IP_STRLEN];
	cJSON *p;

	cJSON_ArrayForEach(it, peers)
		if (!strcmp(cJSON_GetObjectItemCaseSensitive(it, "Name")->valuestring, host))
			return;
	strscpy(k.host, host, sizeof(k.host));
	key = cl_key_fmt(cl->prefix, &k);
	h = cl_find(cl, key);
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "Name", host);
	cJSON_AddStringToObject(p, "IP", h && h->valid ? ip_fmt(&h->u.host.vtep, buf) : "");
	cJSON_AddItemToArray(peers, p);
}

static void remote_render(struct cluster *cl, struct net_entry *n, const struct cl_entry *e,
			  cJSON *containers)
{
	const struct cl_ep *ep = &e->u.ep;
	cJSON *x = cJSON_CreateObject();
	char mac[18];

	mac_fmt(ep->mac, mac);
	cJSON_AddStringToObject(x, "Name", ep->ctr_name);
	cJSON_AddStringToObject(x, "EndpointID", ep->id);
	cJSON_AddStringToObject(x, "MacAddress", mac);
	add_cidr(x, "IPv4Address", &n->n, &ep->ip4);
	add_cidr(x, "IPv6Address", &n->n, &ep->ip6);
	cJSON_AddStringToObject(x, "Host", ep->host);
	cJSON_AddItemToObject(containers, ep->ctr_id, x);
}

void mgr_cluster_render(struct manager *m, struct net_entry *n, cJSON *o, cJSON *containers)
{
	struct cluster *cl = m->cl;
	cJSON *peers = cJSON_AddArrayToObject(o, "Peers"), *it;
	cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "Berth");
	uint32_t vni = 0;
	size_t a, z;

	if (ov_vni(&n->n, &vni, NULL) >= 0 && b)
		cJSON_AddNumberToObject(b, "VNI", vni);
	if (!cl)
		return;
	cJSON_ArrayForEach(it, containers) {
		cJSON_AddStringToObject(it, "Host", cl->host);
		peer_add(peers, cl, cl->host);
	}
	cl_net_range(m, CL_KEY_ENDPOINT, n->n.id, &a, &z);
	for (size_t i = a; i < z; i++) {
		const struct cl_entry *e = cl->keys.v[i];

		if (!e->valid || !strcmp(e->u.ep.host, cl->host))
			continue;
		remote_render(cl, n, e, containers);
		peer_add(peers, cl, e->u.ep.host);
	}
}
