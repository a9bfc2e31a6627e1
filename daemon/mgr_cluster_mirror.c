/* SPDX-License-Identifier: Apache-2.0 */
/* The mirror of the cluster store: every key under the prefix, sorted, with what it decodes to,
 * fed by the watch (a snapshot, then events) and by this host's own writes. After each change
 * the affected overlay networks are re-evaluated as a whole (cl_net_refresh): which records
 * are accepted, the address pools, the embedded DNS's records of remote endpoints and the
 * VXLAN device's static entries. A record is accepted only if it decodes and its cross-checks
 * hold: an endpoint's or address's lease is its host's lease (no record speaks for another
 * host), its addresses are endpoint addresses of its network and their ipam keys name it.
 * Anything else is skipped and logged once per key revision; it changes nothing. */
#include "daemon/mgr_cluster.h"
#include "drivers/overlay/overlay.h"

/* ---- the sorted key array ---- */

size_t cl_lower(struct cluster *cl, const char *key)
{
	size_t lo = 0, hi = cl->keys.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(cl->keys.v[mid]->key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct cl_entry *cl_find(struct cluster *cl, const char *key)
{
	size_t i = cl_lower(cl, key);

	return i < cl->keys.n && strcmp(cl->keys.v[i]->key, key) == 0 ? cl->keys.v[i] : NULL;
}

static void entry_insert(struct cluster *cl, struct cl_entry *e)
{
	size_t i = cl_lower(cl, e->key);

	vec_push(cl->keys, e);   /* grows the array; the element is moved into place below */
	memmove(&cl->keys.v[i + 1], &cl->keys.v[i], (cl->keys.n - 1 - i) * sizeof(*cl->keys.v));
	cl->keys.v[i] = e;
}

static void entry_undecode(struct cl_entry *e)
{
	if (e->k.kind == CL_KEY_ENDPOINT && e->decoded)
		cl_ep_clear(&e->u.ep);
	memset(&e->u, 0, sizeof(e->u));
	e->decoded = e->valid = false;
}

static void entry_free(struct cl_entry *e)
{
	if (!e)
		return;
	entry_undecode(e);
	free(e->key);
	free(e->value);
	free(e);
}

void cl_net_range(struct manager *m, enum cl_kind kind, const char *net_id, size_t *first,
		  size_t *end)
{
	struct cluster *cl = m->cl;
	_cleanup_free_ char *dir = cl_key_dir(cl->prefix, kind, net_id);
	size_t len = strlen(dir), i = cl_lower(cl, dir);

	*first = i;
	while (i < cl->keys.n && strncmp(cl->keys.v[i]->key, dir, len) == 0)
		i++;
	*end = i;
}

static struct cl_entry *host_entry(struct cluster *cl, const char *host)
{
	struct cl_key k = { .kind = CL_KEY_HOST };
	_cleanup_free_ char *key = NULL;

	strscpy(k.host, host, sizeof(k.host));
	key = cl_key_fmt(cl->prefix, &k);
	return cl_find(cl, key);
}

static struct cl_entry *ipam_entry(struct cluster *cl, const char *net_id, const struct ipaddr *a)
{
	struct cl_key k = { .kind = CL_KEY_IPAM, .addr = *a };
	_cleanup_free_ char *key = NULL;

	strscpy(k.net_id, net_id, sizeof(k.net_id));
	key = cl_key_fmt(cl->prefix, &k);
	return cl_find(cl, key);
}

int64_t cl_net_rev(struct manager *m, const char *net_id)
{
	struct cl_key k = { .kind = CL_KEY_NETWORK };
	_cleanup_free_ char *key = NULL;
	struct cl_entry *e;

	strscpy(k.net_id, net_id, sizeof(k.net_id));
	key = cl_key_fmt(m->cl->prefix, &k);
	e = cl_find(m->cl, key);
	return e && e->valid ? e->mod_rev : 0;
}

struct net_entry *cl_global_net(struct manager *m, const char *net_id)
{
	struct net_entry *n = mgr_net_by_id(m, net_id);

	return n && n->drv && n->drv->global_scope ? n : NULL;
}

/* ---- warnings: once per key revision ---- */

static void entry_warn(struct cl_entry *e, const struct berr *why)
{
	if (e->warned_rev == e->mod_rev)
		return;
	e->warned_rev = e->mod_rev;
	blog_warn("cluster: skipping %.300s (revision %lld): %s", e->key, (long long)e->mod_rev,
		  berr_str(why));
}

/* What a record says on its own; cross-checks come with the network's refresh. */
static void entry_decode(struct cl_entry *e)
{
	struct berr why = BERR_INIT;
	int r = 0;

	entry_undecode(e);
	switch (e->k.kind) {
	case CL_KEY_HOST:
		r = cl_host_decode(e->k.host, e->value, &e->u.host, &why);
		if (r >= 0 && !e->lease)
			r = berr_set(&why, -EINVAL, "a host record without a lease");
		e->valid = r >= 0;
		break;
	case CL_KEY_IPAM:
		r = cl_ipam_decode(e->value, &e->u.ipam, &why);
		break;
	case CL_KEY_ENDPOINT:
		r = cl_ep_decode(&e->k, e->value, NULL, &e->u.ep, &why);
		break;
	default:
		break;
	}
	e->decoded = r >= 0;
	if (r < 0)
		entry_warn(e, &why);
}

static struct cl_entry *entry_new(struct cluster *cl, const char *key, const char *value,
				  int64_t mod_rev, int64_t lease)
{
	struct cl_entry *e = xcalloc(1, sizeof(*e));
	struct berr why = BERR_INIT;

	e->key = xstrdup(key);
	e->value = xstrdup(value ? value : "");
	e->mod_rev = mod_rev;
	e->lease = lease;
	if (cl_key_parse(cl->prefix, key, &e->k, &why) < 0)
		entry_warn(e, &why);   /* kept (kind unknown): later revisions replace it */
	return e;
}

/* ---- tombstones of this host's deletes ---- */

void cl_tomb_add(struct cluster *cl, const char *key, int64_t rev)
{
	struct cl_tomb *t = xcalloc(1, sizeof(*t));

	t->key = xstrdup(key);
	t->rev = rev;
	vec_push(cl->tombs, t);
}

static bool tomb_blocks(struct cluster *cl, const char *key, int64_t mod_rev)
{
	for (size_t i = 0; i < cl->tombs.n; i++)
		if (cl->tombs.v[i]->rev >= mod_rev && strcmp(cl->tombs.v[i]->key, key) == 0)
			return true;
	return false;
}

void cl_tombs_prune(struct cluster *cl, int64_t rev)
{
	for (size_t i = 0; i < cl->tombs.n;) {
		if (cl->tombs.v[i]->rev > rev) {
			i++;
			continue;
		}
		free(cl->tombs.v[i]->key);
		free(cl->tombs.v[i]);
		vec_remove(cl->tombs, i);
	}
}

/* ---- re-evaluating one network ---- */

/* The record's lease is the lease of the host it names. */
static bool host_vouches(struct cluster *cl, const char *host, int64_t lease, struct berr *why)
{
	struct cl_entry *h = host_entry(cl, host);

	if (!h || !h->valid)
		return berr_set(why, -ENOENT, "host %s is not a member", host), false;
	if (h->lease != lease)
		return berr_set(why, -EPERM, "its lease is not host %s's", host), false;
	return true;
}

static void ipam_validate(struct manager *m, struct net_entry *n, struct cl_entry *e)
{
	struct berr why = BERR_INIT;

	e->valid = e->decoded && cl_ipam_check_net(&e->k.addr, &n->n, &why) >= 0 &&
		   host_vouches(m->cl, e->u.ipam.host, e->lease, &why);
	if (e->decoded && !e->valid)
		entry_warn(e, &why);
}

static bool addr_owned(struct cluster *cl, const struct cl_entry *e, const struct ipaddr *a,
		       struct berr *why)
{
	struct cl_entry *ip;
	char buf[IP_STRLEN];

	if (!a->family)
		return true;
	ip = ipam_entry(cl, e->k.net_id, a);
	if (ip && ip->valid && !strcmp(ip->u.ipam.ep_id, e->u.ep.id) &&
	    !strcmp(ip->u.ipam.host, e->u.ep.host))
		return true;
	berr_set(why, -EPERM, "address %s is not allocated to it", ip_fmt(a, buf));
	return false;
}

static void ep_validate(struct manager *m, struct net_entry *n, struct cl_entry *e)
{
	struct cluster *cl = m->cl;
	struct berr why = BERR_INIT;

	e->valid = e->decoded && cl_ep_check_net(&e->u.ep, &n->n, &why) >= 0 &&
		   host_vouches(cl, e->u.ep.host, e->lease, &why) &&
		   addr_owned(cl, e, &e->u.ep.ip4, &why) && addr_owned(cl, e, &e->u.ep.ip6, &why);
	if (e->decoded && !e->valid)
		entry_warn(e, &why);
}

static void pool_take(struct net_entry *n, const struct ipaddr *a)
{
	for (int i = 0; a->family && i < n->n.n_subnets; i++)
		if (cidr_contains(&n->pools[i].subnet, a) && !ipam_pool_taken(&n->pools[i], a))
			ipam_pool_reserve(&n->pools[i], a, NULL);
}

/* Taken: gateways, auxiliary addresses, every accepted ipam key and this host's endpoints. */
static void pools_rebuild(struct manager *m, struct net_entry *n)
{
	struct berr why = BERR_INIT;
	size_t a, b;

	for (int i = 0; i < n->n.n_subnets; i++)
		ipam_pool_free(&n->pools[i]);
	memset(n->pools, 0, sizeof(n->pools));
	if (mgr_net_pools_init(n, &why) < 0)
		blog_warn("cluster: network %s: %s", n->n.name, berr_str(&why));
	cl_net_range(m, CL_KEY_IPAM, n->n.id, &a, &b);
	for (size_t i = a; i < b; i++)
		if (m->cl->keys.v[i]->valid)
			pool_take(n, &m->cl->keys.v[i]->k.addr);
	for (size_t i = 0; i < m->eps.n; i++) {
		struct ep_entry *ep = m->eps.v[i];

		if (!strcmp(ep->e.network_id, n->n.id) && ep->e.state != EP_INACTIVE) {
			pool_take(n, &ep->e.ip4);
			pool_take(n, &ep->e.ip6);
		}
	}
}

static bool ep_remote(struct cluster *cl, const struct cl_entry *e)
{
	return e->valid && strcmp(e->u.ep.host, cl->host) != 0;
}

static void dns_sync(struct manager *m, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++) {
		struct cl_entry *e = m->cl->keys.v[i];
		const struct cl_ep *ep = &e->u.ep;

		if (ep_remote(m->cl, e)) {
			mgr_dns_remote_set(m, ep->id, ep->net_id, ep->ctr_name, ep->ctr_id, ep->aliases,
					   &ep->ip4, &ep->ip6);
			e->dns_set = true;
		} else if (e->dns_set) {
			mgr_dns_remote_del(m, ep->id);
			e->dns_set = false;
		}
	}
}

/* The VXLAN device's entries: the accepted remote endpoints, at their host's VTEP. */
static void peers_sync(struct manager *m, struct net_entry *n, size_t a, size_t b)
{
	struct cluster *cl = m->cl;
	_cleanup_free_ struct ov_peer *peers = xcalloc(b - a + 1, sizeof(*peers));
	struct berr err = BERR_INIT;
	size_t k = 0;
	int r;

	if (!mgr_net_has_live_eps(m, n->n.id))
		return;
	for (size_t i = a; i < b; i++) {
		struct cl_entry *e = cl->keys.v[i], *h;

		if (!ep_remote(cl, e) || !(h = host_entry(cl, e->u.ep.host)) || !h->valid)
			continue;
		memcpy(peers[k].mac, e->u.ep.mac, 6);
		peers[k].vtep = h->u.host.vtep;
		peers[k].ip4 = e->u.ep.ip4;
		peers[k].ip6 = e->u.ep.ip6;
		k++;
	}
	r = ov_peers_sync(&m->drv, &n->n, peers, k, &err);
	if (r < 0)
		blog_warn("cluster: %s", berr_str(&err));
	else if (r > 0)
		blog_debug("cluster: network %s: %d peer entries changed (%zu peers)", n->n.name, r,
			   k);
}

void cl_net_refresh(struct manager *m, struct net_entry *n)
{
	struct cluster *cl = m->cl;
	size_t a, b;

	cl_net_range(m, CL_KEY_IPAM, n->n.id, &a, &b);
	for (size_t i = a; i < b; i++)
		ipam_validate(m, n, cl->keys.v[i]);
	pools_rebuild(m, n);
	cl_net_range(m, CL_KEY_ENDPOINT, n->n.id, &a, &b);
	for (size_t i = a; i < b; i++)
		ep_validate(m, n, cl->keys.v[i]);
	/* the kernel first: a name resolves only once it can be reached */
	peers_sync(m, n, a, b);
	dns_sync(m, a, b);
}

void cl_refresh_all(struct manager *m)
{
	for (size_t i = 0; i < m->nets.n; i++)
		if (m->nets.v[i]->drv && m->nets.v[i]->drv->global_scope)
			cl_net_refresh(m, m->nets.v[i]);
}

/* ---- networks: records become (or stop being) networks of this host ---- */

static bool name_clash(struct manager *m, const struct bnetwork *bn, struct cl_entry *e)
{
	struct berr why = BERR_INIT;

	for (size_t i = 0; i < m->nets.n; i++)
		if (!strcmp(m->nets.v[i]->n.name, bn->name) && strcmp(m->nets.v[i]->n.id, bn->id)) {
			berr_set(&why, -EEXIST, "its name %s is the name of network %.12s on this "
				 "host: not shown here", bn->name, m->nets.v[i]->n.id);
			entry_warn(e, &why);
			return true;
		}
	return false;
}

static struct net_entry *net_adopt(struct manager *m, struct bnetwork *bn, struct cl_entry *e)
{
	struct net_entry *n = xcalloc(1, sizeof(*n));
	struct berr why = BERR_INIT;

	n->n = *bn;
	n->drv = &overlay_driver;
	ov_bridge_name(n->n.id, n->n.ifname);
	if (ov_mtu(&m->drv, &n->n, &n->n.mtu, &why) < 0) {
		blog_warn("cluster: network %s: %s", n->n.name, berr_str(&why));
		n->n.mtu = 0;
	}
	if (mgr_net_store_put(m, n, &why) < 0)
		blog_error("cluster: network %s: keeping its local row: %s", n->n.name,
			   berr_str(&why));
	vec_push(m->nets, n);
	blog_info("cluster: network %s (%.12s, %s) is in the cluster", n->n.name, n->n.id,
		  drv_opt(&n->n, CL_OPT_VNI) ? drv_opt(&n->n, CL_OPT_VNI) : "?");
	return n;
}

static void net_mirror(struct manager *m, struct cl_entry *e)
{
	struct bnetwork bn;
	struct berr why = BERR_INIT;
	struct net_entry *n;
	uint32_t vni;

	e->decoded = cl_net_decode(e->k.net_id, e->value, &bn, &vni, &why) >= 0;
	e->valid = false;
	if (!e->decoded) {
		entry_warn(e, &why);
		return;
	}
	n = mgr_net_by_id(m, bn.id);
	if (n && (!n->drv || !n->drv->global_scope)) {
		cl_net_clear(&bn);
		berr_set(&why, -EEXIST, "a local network has its ID");
		entry_warn(e, &why);
		return;
	}
	if (!n && name_clash(m, &bn, e)) {
		cl_net_clear(&bn);
		return;
	}
	e->valid = true;
	if (n)
		cl_net_clear(&bn);   /* known: a network's definition does not change */
	else
		n = net_adopt(m, &bn, e);
	cl_net_refresh(m, n);
}

/* The network left the cluster: this host forgets it, unless containers here still use it
 * (then it goes within a second of the last one leaving: the timer in mgr_cluster.c). */
static void net_unmirror(struct manager *m, const char *net_id)
{
	struct net_entry *n = cl_global_net(m, net_id);
	struct berr why = BERR_INIT;
	size_t a, b;

	if (!n)
		return;
	cl_net_range(m, CL_KEY_ENDPOINT, net_id, &a, &b);
	for (size_t i = a; i < b; i++) {
		struct cl_entry *e = m->cl->keys.v[i];

		if (e->dns_set)
			mgr_dns_remote_del(m, e->u.ep.id);
		e->dns_set = e->valid = false;
	}
	if (mgr_net_ep_count(m, net_id) > 0) {
		blog_warn("cluster: network %s was removed from the cluster while containers here "
			  "are attached to it: it stays until they leave", n->n.name);
		return;
	}
	blog_info("cluster: network %s (%.12s) left the cluster", n->n.name, n->n.id);
	if (mgr_net_remove_local(m, n, &why) < 0)
		blog_warn("cluster: %s", berr_str(&why));
}

/* true when n was freed */
bool cl_net_forget_if_gone(struct manager *m, struct net_entry *n)
{
	size_t before = m->nets.n;

	if (m->cl->synced && !cl_net_rev(m, n->n.id) && mgr_net_ep_count(m, n->n.id) == 0)
		net_unmirror(m, n->n.id);
	return m->nets.n < before;
}

/* ---- applying changes ---- */

static void entry_effects(struct manager *m, struct cl_entry *e, bool gone)
{
	struct cluster *cl = m->cl;
	struct net_entry *n;

	if (!cl->synced)
		return;   /* the snapshot will bring everything */
	switch (e->k.kind) {
	case CL_KEY_HOST:
		cl_vteps_sync(m);
		cl_refresh_all(m);
		break;
	case CL_KEY_NETWORK:
		if (gone)
			net_unmirror(m, e->k.net_id);
		else
			net_mirror(m, e);
		break;
	case CL_KEY_IPAM:
	case CL_KEY_ENDPOINT:
		n = cl_global_net(m, e->k.net_id);
		if (n)
			cl_net_refresh(m, n);
		break;
	default:
		break;
	}
}

void cl_apply_put(struct manager *m, const char *key, const char *value, int64_t mod_rev,
		  int64_t lease)
{
	struct cluster *cl = m->cl;
	struct cl_entry *e = cl_find(cl, key);

	struct cl_host was = { 0 };
	bool was_valid = false;
	int64_t was_lease = 0;

	if ((e && e->mod_rev >= mod_rev) || tomb_blocks(cl, key, mod_rev))
		return;
	if (!e) {
		e = entry_new(cl, key, value, mod_rev, lease);
		entry_insert(cl, e);
	} else {
		was = e->u.host;
		was_valid = e->valid;
		was_lease = e->lease;
		free(e->value);
		e->value = xstrdup(value ? value : "");
		e->mod_rev = mod_rev;
		e->lease = lease;
	}
	entry_decode(e);
	/* a host writing its record again, unchanged (a restart within its lease): no effect */
	if (e->k.kind == CL_KEY_HOST && was_valid && e->valid && was_lease == e->lease &&
	    ip_equal(&was.vtep, &e->u.host.vtep) && was.port == e->u.host.port)
		return;
	entry_effects(m, e, false);
}

/* Network records this host wrote or deleted itself: the manager changes its networks itself,
 * the mirror only has to know the key (a later event of the same revision changes nothing). */
void cl_mirror_put_quiet(struct manager *m, const char *key, const char *value, int64_t rev)
{
	struct cluster *cl = m->cl;
	struct cl_entry *e = cl_find(cl, key);

	if (e && e->mod_rev >= rev)
		return;
	if (!e) {
		e = entry_new(cl, key, value, rev, 0);
		entry_insert(cl, e);
	} else {
		free(e->value);
		e->value = xstrdup(value);
		e->mod_rev = rev;
	}
	entry_decode(e);
	e->valid = true;
}

void cl_mirror_delete_quiet(struct manager *m, const char *key, int64_t rev)
{
	struct cluster *cl = m->cl;
	size_t i = cl_lower(cl, key);

	if (i >= cl->keys.n || strcmp(cl->keys.v[i]->key, key) != 0 || cl->keys.v[i]->mod_rev > rev)
		return;
	entry_free(cl->keys.v[i]);
	vec_remove(cl->keys, i);
}

void cl_apply_delete(struct manager *m, const char *key, int64_t rev)
{
	struct cluster *cl = m->cl;
	size_t i = cl_lower(cl, key);
	struct cl_entry *e;

	if (i >= cl->keys.n || strcmp(cl->keys.v[i]->key, key) != 0)
		return;
	e = cl->keys.v[i];
	if (e->mod_rev > rev)
		return;
	vec_remove(cl->keys, i);
	if (e->dns_set)
		mgr_dns_remote_del(m, e->u.ep.id);
	e->dns_set = false;
	e->valid = false;
	entry_effects(m, e, true);
	entry_free(e);
}

/* ---- snapshots ---- */

/* The snapshot's entries, plus what this host wrote after it (newer, applied directly), minus
 * what it deleted after it. */
static void reset_merge(struct cluster *cl, const struct etcd_kvs *snap, int64_t rev,
			__typeof__(cl->keys) *out)
{
	for (size_t i = 0; i < snap->n; i++) {
		const struct etcd_kv *kv = &snap->kv[i];
		struct cl_entry *old = cl_find(cl, kv->key);

		if (tomb_blocks(cl, kv->key, kv->mod_revision) || (old && old->mod_rev > rev))
			continue;
		vec_push(*out, entry_new(cl, kv->key, kv->value, kv->mod_revision, kv->lease));
		if (old && old->mod_rev == kv->mod_revision)
			out->v[out->n - 1]->warned_rev = old->warned_rev;
	}
	for (size_t i = 0; i < cl->keys.n; i++)
		if (cl->keys.v[i]->mod_rev > rev) {
			struct cl_entry *e = cl->keys.v[i];

			vec_push(*out, entry_new(cl, e->key, e->value, e->mod_rev, e->lease));
		}
}

static int entry_sort_cmp(const void *a, const void *b)
{
	return strcmp((*(struct cl_entry *const *)a)->key, (*(struct cl_entry *const *)b)->key);
}

static struct cl_entry *vec_find(__typeof__(((struct cluster *)0)->keys) *v, const char *key)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v->v[mid]->key, key);

		if (c == 0)
			return v->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* DNS records of remote endpoints carry over to the same key; the others go. */
static void reset_dns(struct manager *m, __typeof__(m->cl->keys) *next)
{
	struct cluster *cl = m->cl;

	for (size_t i = 0; i < cl->keys.n; i++) {
		struct cl_entry *old = cl->keys.v[i], *e;

		if (!old->dns_set)
			continue;
		e = vec_find(next, old->key);
		if (e)
			e->dns_set = true;
		else
			mgr_dns_remote_del(m, old->u.ep.id);
	}
}

static void reset_networks(struct manager *m)
{
	struct cluster *cl = m->cl;
	char (*gone)[ID_LEN + 1] = xcalloc(m->nets.n + 1, sizeof(*gone));
	size_t n_gone = 0;

	for (size_t i = 0; i < cl->keys.n; i++)
		if (cl->keys.v[i]->k.kind == CL_KEY_NETWORK)
			net_mirror(m, cl->keys.v[i]);
	for (size_t i = 0; i < m->nets.n; i++) {
		struct net_entry *n = m->nets.v[i];

		if (n->drv && n->drv->global_scope && !cl_net_rev(m, n->n.id))
			strscpy(gone[n_gone++], n->n.id, ID_LEN + 1);
	}
	for (size_t i = 0; i < n_gone; i++)
		net_unmirror(m, gone[i]);
	free(gone);
}

void cl_reset(struct manager *m, const struct etcd_kvs *snap, int64_t rev)
{
	struct cluster *cl = m->cl;
	__typeof__(cl->keys) next = { 0 };

	reset_merge(cl, snap, rev, &next);
	for (size_t i = 0; i < next.n; i++)
		entry_decode(next.v[i]);
	if (next.n)
		qsort(next.v, next.n, sizeof(*next.v), entry_sort_cmp);
	reset_dns(m, &next);
	for (size_t i = 0; i < cl->keys.n; i++)
		entry_free(cl->keys.v[i]);
	free(cl->keys.v);
	cl->keys = next;
	cl->synced = true;
	cl_tombs_prune(cl, rev);
	blog_info("cluster: mirrored %zu keys at revision %lld", cl->keys.n, (long long)rev);
	reset_networks(m);
	cl_vteps_sync(m);
	cl_refresh_all(m);
	if (cl->keeper)
		cl_own_keys_sync(m);
}

void cl_mirror_free(struct cluster *cl)
{
	for (size_t i = 0; i < cl->keys.n; i++)
		entry_free(cl->keys.v[i]);
	free(cl->keys.v);
	cl_tombs_prune(cl, INT64_MAX);
	free(cl->tombs.v);
	memset(&cl->keys, 0, sizeof(cl->keys));
	memset(&cl->tombs, 0, sizeof(cl->tombs));
}
