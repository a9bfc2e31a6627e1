/* SPDX-License-Identifier: Apache-2.0 */
/* Endpoints of overlay networks in the cluster store: address allocation by compare-and-swap
 * (an address key is created only if absent), the endpoint's record written once its interface
 * is up (other hosts program their tables and DNS from it, so nothing points at an interface
 * that does not exist yet), withdrawal, keeping this host's keys in line with its endpoints,
 * and the per-host data plane (bridge + VXLAN device while the host has endpoints on it). */
#include "daemon/mgr_cluster.h"
#include "drivers/overlay/overlay.h"

#define ALLOC_ATTEMPTS 16

static char *ep_key(struct cluster *cl, const char *net_id, const char *ep_id)
{
	struct cl_key k = { .kind = CL_KEY_ENDPOINT };

	strscpy(k.net_id, net_id, sizeof(k.net_id));
	strscpy(k.ep_id, ep_id, sizeof(k.ep_id));
	return cl_key_fmt(cl->prefix, &k);
}

static char *ipam_key(struct cluster *cl, const char *net_id, const struct ipaddr *a)
{
	struct cl_key k = { .kind = CL_KEY_IPAM, .addr = *a };

	strscpy(k.net_id, net_id, sizeof(k.net_id));
	return cl_key_fmt(cl->prefix, &k);
}

static char *net_key(struct cluster *cl, enum cl_kind kind, const char *net_id)
{
	struct cl_key k = { .kind = kind };

	strscpy(k.net_id, net_id, sizeof(k.net_id));
	return cl_key_fmt(cl->prefix, &k);
}

/* The endpoint's record as other hosts see it. */
static char *ep_record(struct cluster *cl, struct ctr_entry *c, const struct ep_entry *ep)
{
	struct cl_ep e = { .aliases = ep->e.aliases, .ip4 = ep->e.ip4, .ip6 = ep->e.ip6 };

	strscpy(e.id, ep->e.id, sizeof(e.id));
	strscpy(e.net_id, ep->e.network_id, sizeof(e.net_id));
	strscpy(e.host, cl->host, sizeof(e.host));
	strscpy(e.ctr_id, ep->e.container_id, sizeof(e.ctr_id));
	strscpy(e.ctr_name, c ? c->c.name : "unknown", sizeof(e.ctr_name));
	mac_parse(ep->e.mac, e.mac, NULL);
	return cl_ep_encode(&e);
}

static char *ipam_record(struct cluster *cl, const char *ep_id)
{
	struct cl_ipam a;

	strscpy(a.ep_id, ep_id, sizeof(a.ep_id));
	strscpy(a.host, cl->host, sizeof(a.host));
	return cl_ipam_encode(&a);
}

static struct ipam_pool *pool_of(struct net_entry *n, int family, const struct ipaddr *a)
{
	for (int i = 0; i < n->n.n_subnets; i++)
		if (n->pools[i].subnet.addr.family == family &&
		    (!a || !a->family || cidr_contains(&n->pools[i].subnet, a)))
			return &n->pools[i];
	return NULL;
}

/* ---- allocation ---- */

/* A candidate of family for the endpoint: its static request or the pool's next free address
 * (reserved in the pool either way). family 0 in *ret: the network has none of that family. */
static int candidate(struct net_entry *n, int family, const struct ipaddr *req,
		     struct ipaddr *ret, struct berr *err)
{
	struct ipam_pool *p = pool_of(n, family, req);
	char buf[IP_STRLEN];

	memset(ret, 0, sizeof(*ret));
	if (!p || (family == AF_INET6 && !n->n.ipv6))
		return 0;
	if (!req->family)
		return ipam_pool_alloc(p, ret, err);
	if (ipam_pool_taken(p, req))
		return berr_set(err, -EADDRINUSE, "address %s is already in use in network %s",
				ip_fmt(req, buf), n->n.name);
	if (ipam_pool_reserve(p, req, err) < 0)
		return berr_prefix(err, "network %s", n->n.name);
	*ret = *req;
	return 0;
}

static void candidate_release(struct net_entry *n, const struct ipaddr *a)
{
	struct ipam_pool *p = a->family ? pool_of(n, a->family, a) : NULL;

	if (p)
		ipam_pool_release(p, a);
}

struct alloc {
	struct manager *m;
	struct net_entry *n;
	struct ep_entry *ep;
	struct ipaddr ip[2];
	char *ipk[2], *ipv, *netk, *usek;
};

static void alloc_keys_free(struct alloc *p)
{
	for (int i = 0; i < 2; i++) {
		free(p->ipk[i]);
		p->ipk[i] = NULL;
	}
	free(p->ipv);
	free(p->netk);
	free(p->usek);
	p->ipv = p->netk = p->usek = NULL;
}

/* The transaction: the network still exists; each address key is absent -> address keys
 * written under this host's lease, netuse touched (a removal in progress then fails). Else the
 * network and address keys are read, to tell why. */
static int alloc_txn(struct alloc *p, struct etcd_txn_reply *t, struct berr *err)
{
	struct cluster *cl = p->m->cl;
	struct etcd_cmp cmp[3];
	struct etcd_op put[3], get[3];
	size_t nc = 0, np = 0, ng = 0;

	cmp[nc++] = (struct etcd_cmp){ .key = p->netk, .target = ETCD_CMP_VERSION,
				       .result = ETCD_CMP_GREATER, .number = 0 };
	get[ng++] = (struct etcd_op){ .kind = ETCD_OP_GET, .key = p->netk };
	for (int i = 0; i < 2; i++) {
		if (!p->ip[i].family)
			continue;
		cmp[nc++] = (struct etcd_cmp){ .key = p->ipk[i], .target = ETCD_CMP_VERSION,
					       .number = 0 };
		put[np++] = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = p->ipk[i],
					      .value = p->ipv, .lease = cl->lease };
		get[ng++] = (struct etcd_op){ .kind = ETCD_OP_GET, .key = p->ipk[i] };
	}
	put[np++] = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = p->usek, .value = p->ep->e.id };
	return etcd_txn(cl->etcd, cmp, nc, put, np, get, ng, t, err);
}

/* Why the transaction did not commit: the network is gone (-ENOENT), a static address is taken
 * (-EADDRINUSE), or dynamic candidates were taken meanwhile (0: they stay reserved, retry). */
static int alloc_why(struct alloc *p, const struct etcd_txn_reply *t, struct berr *err)
{
	char buf[IP_STRLEN];
	size_t k = 1;

	if (t->n < 1 || t->replies[0].kvs.n == 0)
		return berr_set(err, -ENOENT, "network %s was removed from the cluster",
				p->n->n.name);
	for (int i = 0; i < 2; i++) {
		const struct ipaddr *req = i ? &p->ep->e.req_ip6 : &p->ep->e.req_ip4;

		if (!p->ip[i].family)
			continue;
		if (k < t->n && t->replies[k].kvs.n && req->family)
			return berr_set(err, -EADDRINUSE, "address %s is already in use in network %s",
					ip_fmt(&p->ip[i], buf), p->n->n.name);
		if (k < t->n && !t->replies[k].kvs.n)
			candidate_release(p->n, &p->ip[i]);   /* free: tried again next time */
		k++;
	}
	return 0;
}

/* As Docker's overlay does: the MAC follows the address (02:42 + the IPv4 address, else the
 * IPv6 address's last 4 bytes). An address handed to a new endpoint keeps its MAC, so the
 * neighbour caches of containers elsewhere that still hold it stay right: with ARP and ND
 * answered by each host's VXLAN device, no announcement would cross to correct them. */
static void mac_from_addr(struct ep_entry *ep)
{
	const struct ipaddr *a = ep->e.ip4.family ? &ep->e.ip4 : &ep->e.ip6;
	uint8_t mac[6] = { 0x02, 0x42 };

	memcpy(mac + 2, a->family == AF_INET ? a->b : a->b + 12, 4);
	mac_fmt(mac, ep->e.mac);
}

/* One attempt: 1 allocated, 0 retry, -errno (candidates released). */
static int alloc_try(struct alloc *p, struct berr *err)
{
	struct cluster *cl = p->m->cl;
	struct etcd_txn_reply t;
	int r = candidate(p->n, AF_INET, &p->ep->e.req_ip4, &p->ip[0], err);

	if (r >= 0)
		r = candidate(p->n, AF_INET6, &p->ep->e.req_ip6, &p->ip[1], err);
	if (r < 0) {
		candidate_release(p->n, &p->ip[0]);
		return r;
	}
	p->ep->e.ip4 = p->ip[0];
	p->ep->e.ip6 = p->ip[1];
	mac_from_addr(p->ep);
	for (int i = 0; i < 2; i++)
		if (p->ip[i].family)
			p->ipk[i] = ipam_key(cl, p->n->n.id, &p->ip[i]);
	r = alloc_txn(p, &t, err);
	if (r < 0) {
		cl_fail(err);
	} else if (t.succeeded) {
		for (int i = 0; i < 2; i++)
			if (p->ip[i].family)
				cl_apply_put(p->m, p->ipk[i], p->ipv, t.revision, cl->lease);
		r = 1;
	} else {
		r = alloc_why(p, &t, err);
	}
	if (r >= 0)
		etcd_txn_reply_clear(&t);
	if (r < 0 && r != -EADDRINUSE)
		for (int i = 0; i < 2; i++)
			candidate_release(p->n, &p->ip[i]);
	if (r <= 0) {
		memset(&p->ep->e.ip4, 0, sizeof(p->ep->e.ip4));
		memset(&p->ep->e.ip6, 0, sizeof(p->ep->e.ip6));
	}
	for (int i = 0; i < 2; i++) {
		free(p->ipk[i]);
		p->ipk[i] = NULL;
	}
	return r;
}

int mgr_cluster_ep_alloc(struct manager *m, struct net_entry *n, struct ep_entry *ep,
			 struct berr *err)
{
	struct alloc p = { .m = m, .n = n, .ep = ep };
	uint64_t t0 = time_mono_ns();
	int r = mgr_cluster_check(m, err);

	if (r >= 0 && !cl_net_rev(m, n->n.id))
		r = berr_set(err, -ENOENT, "network %s is not in the cluster store (removed?)",
			     n->n.name);
	if (r < 0)
		return berr_prefix(err, "network %s", n->n.name);
	p.ipv = ipam_record(m->cl, ep->e.id);
	p.netk = net_key(m->cl, CL_KEY_NETWORK, n->n.id);
	p.usek = net_key(m->cl, CL_KEY_NETUSE, n->n.id);
	for (int i = 0; r == 0 && i < ALLOC_ATTEMPTS; i++)
		r = alloc_try(&p, err);
	alloc_keys_free(&p);
	if (r == 0)
		r = berr_set(err, -EAGAIN, "no address could be allocated in network %s after %d "
			     "attempts (too many hosts allocating at once?)", n->n.name,
			     ALLOC_ATTEMPTS);
	blog_debug("cluster: alloc %.12s on %s: %d (%llu us)", ep->e.id, n->n.name, r,
		   (unsigned long long)(time_mono_ns() - t0) / 1000);
	return r < 0 ? r : 0;
}

int mgr_cluster_ep_announce(struct manager *m, struct ctr_entry *c, struct net_entry *n,
			    struct ep_entry *ep, struct berr *err)
{
	struct cluster *cl = m->cl;
	_cleanup_free_ char *key = ep_key(cl, n->n.id, ep->e.id);
	_cleanup_free_ char *value = ep_record(cl, c, ep);
	int64_t rev = 0;
	int r = etcd_put(cl->etcd, key, value, cl->lease, &rev, err);

	if (r < 0) {
		cl_fail(err);
		return berr_prefix(err, "network %s: announcing the endpoint", n->n.name);
	}
	cl_apply_put(m, key, value, rev, cl->lease);
	return 0;
}

/* ---- withdrawal ---- */

/* Deletes each key if it is still under this host's lease (another host may hold an address
 * that expired with an earlier lease of this one). */
static void keys_delete(struct manager *m, char **keys, size_t n)
{
	struct cluster *cl = m->cl;
	struct etcd_cmp cmp[3] = { 0 };
	struct etcd_op del[3] = { 0 };
	struct etcd_txn_reply t;
	struct berr err = BERR_INIT;

	for (size_t i = 0; i < n; i++) {
		cmp[i] = (struct etcd_cmp){ .key = keys[i], .target = ETCD_CMP_LEASE,
					    .number = cl->lease };
		del[i] = (struct etcd_op){ .kind = ETCD_OP_DELETE, .key = keys[i] };
	}
	if (etcd_txn(cl->etcd, cmp, n, del, n, NULL, 0, &t, &err) < 0) {
		blog_warn("cluster: deleting %s: %s (removed once the store is back)", keys[0],
			  berr_str(&err));
		return;
	}
	if (!t.succeeded && n > 1) {
		etcd_txn_reply_clear(&t);
		for (size_t i = 0; i < n; i++)
			keys_delete(m, &keys[i], 1);
		return;
	}
	for (size_t i = 0; t.succeeded && i < n; i++) {
		cl_tomb_add(cl, keys[i], t.revision);
		cl_apply_delete(m, keys[i], t.revision);
	}
	etcd_txn_reply_clear(&t);
}

void mgr_cluster_ep_withdraw(struct manager *m, struct net_entry *n, struct ep_entry *ep)
{
	struct cluster *cl = m->cl;
	char *keys[3];
	size_t k = 0;

	if (!cl || !cl->keeper || !cl->up) {
		if (cl)
			blog_info("cluster: endpoint %.12s stays in the store until it is reachable",
				  ep->e.id);
		return;
	}
	keys[k] = ep_key(cl, ep->e.network_id, ep->e.id);
	if (cl_find(cl, keys[k]))
		k++;
	else
		free(keys[k]);
	if (ep->e.ip4.family)
		keys[k++] = ipam_key(cl, ep->e.network_id, &ep->e.ip4);
	if (ep->e.ip6.family)
		keys[k++] = ipam_key(cl, ep->e.network_id, &ep->e.ip6);
	if (k)
		keys_delete(m, keys, k);
	for (size_t i = 0; i < k; i++)
		free(keys[i]);
}

/* ---- this host's keys against its endpoints ---- */

static struct ep_entry *live_ep(struct manager *m, const char *ep_id)
{
	for (size_t i = 0; i < m->eps.n; i++)
		if (!strcmp(m->eps.v[i]->e.id, ep_id) && cl_ep_live(m->eps.v[i]) &&
		    cl_global_net(m, m->eps.v[i]->e.network_id))
			return m->eps.v[i];
	return NULL;
}

/* Under this host's lease but naming no live endpoint of this host (a crash, a failed
 * withdrawal): deleted. */
static void stale_delete(struct manager *m)
{
	struct cluster *cl = m->cl;
	char **stale = xcalloc(cl->keys.n + 1, sizeof(*stale));
	size_t n = 0;

	for (size_t i = 0; i < cl->keys.n; i++) {
		const struct cl_entry *e = cl->keys.v[i];
		struct ep_entry *ep = NULL;

		if (e->lease != cl->lease || !cl->lease)
			continue;
		if (e->k.kind == CL_KEY_ENDPOINT)
			ep = live_ep(m, e->k.ep_id);
		else if (e->k.kind == CL_KEY_IPAM && e->decoded)
			ep = live_ep(m, e->u.ipam.ep_id);
		else
			continue;
		if (!ep || (e->k.kind == CL_KEY_ENDPOINT && ep->e.state != EP_ACTIVE) ||
		    (e->k.kind == CL_KEY_IPAM && !ip_equal(&ep->e.ip4, &e->k.addr) &&
		     !ip_equal(&ep->e.ip6, &e->k.addr)))
			stale[n++] = xstrdup(e->key);
	}
	for (size_t i = 0; i < n; i++) {
		blog_info("cluster: deleting %s: no such endpoint here any more", stale[i]);
		keys_delete(m, &stale[i], 1);
		free(stale[i]);
	}
	free(stale);
}

static bool key_ours(struct cluster *cl, const char *key)
{
	const struct cl_entry *e = cl_find(cl, key);

	return e && e->lease == cl->lease;
}

/* An address key of the endpoint, created if absent. false: another endpoint holds it. */
static bool addr_claim(struct manager *m, const struct ep_entry *ep, const struct ipaddr *a,
		       const char *value)
{
	struct cluster *cl = m->cl;
	_cleanup_free_ char *key = ipam_key(cl, ep->e.network_id, a);
	struct etcd_kv old = { 0 };
	struct berr err = BERR_INIT;
	char buf[IP_STRLEN];
	int r;

	if (key_ours(cl, key))
		return true;
	r = etcd_create(cl->etcd, key, value, cl->lease, &old, &err);
	if (r == 0)
		return true;   /* the watch brings it to the mirror */
	if (r == -EEXIST && old.lease != cl->lease)
		blog_error("cluster: address %s of endpoint %.12s was allocated to another endpoint "
			   "while this host's keys were gone: disconnect and reconnect its container",
			   ip_fmt(a, buf), ep->e.id);
	else if (r < 0 && r != -EEXIST)
		blog_warn("cluster: %s", berr_str(&err));
	etcd_kv_clear(&old);
	return r == -EEXIST && old.lease == cl->lease;
}

static void republish(struct manager *m, struct ep_entry *ep)
{
	struct cluster *cl = m->cl;
	struct ctr_entry *c = mgr_ctr_by_id(m, ep->e.container_id);
	_cleanup_free_ char *key = ep_key(cl, ep->e.network_id, ep->e.id);
	_cleanup_free_ char *value = ep_record(cl, c, ep);
	_cleanup_free_ char *ipv = ipam_record(cl, ep->e.id);
	struct berr err = BERR_INIT;
	int64_t rev = 0;

	if ((ep->e.ip4.family && !addr_claim(m, ep, &ep->e.ip4, ipv)) ||
	    (ep->e.ip6.family && !addr_claim(m, ep, &ep->e.ip6, ipv)))
		return;
	if (ep->e.state != EP_ACTIVE || key_ours(cl, key))
		return;
	if (etcd_put(cl->etcd, key, value, cl->lease, &rev, &err) < 0) {
		blog_warn("cluster: publishing endpoint %.12s again: %s", ep->e.id, berr_str(&err));
		return;
	}
	blog_info("cluster: endpoint %.12s of %s published again", ep->e.id, c ? c->c.name : "?");
	cl_apply_put(m, key, value, rev, cl->lease);
}

void cl_own_keys_sync(struct manager *m)
{
	if (!m->cl->up || !m->cl->keeper)
		return;
	stale_delete(m);
	for (size_t i = 0; i < m->eps.n; i++)
		if (cl_ep_live(m->eps.v[i]) && cl_global_net(m, m->eps.v[i]->e.network_id))
			republish(m, m->eps.v[i]);
}

/* ---- the data plane of a network on this host ---- */

int mgr_cluster_dataplane_up(struct manager *m, struct net_entry *n, struct berr *err)
{
	int r = n->drv->network_create(&m->drv, &n->n, err);

	if (r >= 0 && m->cl)
		cl_net_refresh(m, n);
	return r;
}

void mgr_cluster_dataplane_gc(struct manager *m, struct net_entry *n)
{
	struct berr err = BERR_INIT;

	if (mgr_net_has_live_eps(m, n->n.id))
		return;
	if (n->drv->network_delete(&m->drv, &n->n, &err) < 0)
		blog_warn("cluster: %s", berr_str(&err));
}
