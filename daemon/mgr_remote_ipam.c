/* SPDX-License-Identifier: Apache-2.0 */
/* berth's IPAM driver for dockerd (`docker network create --ipam-driver berth`): pools and their
 * addresses, from berth's allocator (ipam/). A pool without a subnet asked gets one from berth's
 * default pools (IPv4) or the host's ULA /48 (IPv6), clear of the host's routes, berth's networks
 * and the other pools. Stored as metadata (REMOTE_META_POOL + pool ID, and one row per address:
 * REMOTE_META_ADDR + pool ID + "|" + address), since dockerd never asks for them again after a
 * restart (RequiresRequestReplay is false). Lock held throughout. */
#include "daemon/mgr_remote.h"

static struct remote_pool *pool_find(struct remote_state *rs, const char *id)
{
	for (size_t i = 0; i < rs->pools.n; i++)
		if (!strcmp(rs->pools.v[i]->id, id))
			return rs->pools.v[i];
	return NULL;
}

size_t mgr_remote_pools(struct manager *m, struct cidr *out)
{
	size_t n = m->remote ? m->remote->pools.n : 0;

	for (size_t i = 0; out && i < n; i++)
		out[i] = m->remote->pools.v[i]->pool;
	return n;
}

static void pool_free(struct remote_pool *p)
{
	ipam_pool_free(&p->p);
	free(p);
}

void remote_ipam_free(struct remote_state *rs)
{
	for (size_t i = 0; i < rs->pools.n; i++)
		pool_free(rs->pools.v[i]);
	free(rs->pools.v);
	rs->pools.v = NULL;
	rs->pools.n = rs->pools.cap = 0;
}

static char *pool_key(const char *id)
{
	return xasprintf(REMOTE_META_POOL "%s", id);
}

static char *addr_key(const char *id, const struct ipaddr *a)
{
	char buf[IP_STRLEN];

	return xasprintf(REMOTE_META_ADDR "%s|%s", id, ip_fmt(a, buf));
}

/* ---------------------------------------------------------------- pools */

static struct remote_pool *pool_new(const char *id, const struct cidr *pool,
				    const struct cidr *sub, struct berr *err)
{
	struct remote_pool *p = xcalloc(1, sizeof(*p));

	strscpy(p->id, id, sizeof(p->id));
	p->pool = *pool;
	if (sub)
		p->sub = *sub;
	if (ipam_pool_init(&p->p, pool, sub, err) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

/* A subnet for a pool dockerd did not name: as for a new berth network. */
static int pool_pick(struct manager *m, bool v6, struct cidr *ret, struct berr *err)
{
	_cleanup_free_ struct cidr *avoid = NULL;
	int family = v6 ? AF_INET6 : AF_INET;
	bool pools_v6 = false;
	size_t n = 0;
	int r = mgr_subnets_used(m, family, &avoid, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < m->n_pools; i++)
		pools_v6 |= m->pools[i].base.addr.family == AF_INET6;
	if (v6 && !pools_v6)
		return ipam_pick_ula64(m->host_id, m->host_id_len, avoid, n, ret, err);
	return ipam_pick_subnet(m->pools, m->n_pools, family, avoid, n, ret, err);
}

/* The pool overlaps neither a network nor another pool. */
static int pool_clear(struct manager *m, const struct cidr *c, struct berr *err)
{
	struct remote_state *rs = remote_state(m);
	char a[CIDR_STRLEN], b[CIDR_STRLEN];

	for (size_t i = 0; i < rs->pools.n; i++)
		if (cidr_overlaps(c, &rs->pools.v[i]->pool))
			return berr_set(err, -EEXIST, "pool %s overlaps with pool %s", cidr_fmt(c, a),
					rs->pools.v[i]->id);
	for (size_t i = 0; i < m->nets.n; i++)
		for (int j = 0; j < m->nets.v[i]->n.n_subnets; j++)
			if (cidr_overlaps(c, &m->nets.v[i]->n.subnets[j].subnet))
				return berr_set(err, -EEXIST, "pool %s overlaps with network \"%s\" (%s)",
						cidr_fmt(c, a), m->nets.v[i]->n.name,
						cidr_fmt(&m->nets.v[i]->n.subnets[j].subnet, b));
	return 0;
}

static int pool_row_put(struct manager *m, void *ud, struct berr *err)
{
	struct remote_pool *p = ud;
	_cleanup_free_ char *key = pool_key(p->id);
	_cleanup_json_ cJSON *o = cJSON_CreateObject();
	_cleanup_free_ char *v = NULL;
	char buf[CIDR_STRLEN];

	cJSON_AddStringToObject(o, "Pool", cidr_fmt(&p->pool, buf));
	cJSON_AddStringToObject(o, "SubPool", p->sub.addr.family ? cidr_fmt(&p->sub, buf) : "");
	v = cJSON_PrintUnformatted(o);
	return store_meta_put(m->store, key, v, err);
}

static int pool_request(struct manager *m, const struct dkp_request *q, cJSON **ret,
			struct berr *err)
{
	struct remote_state *rs = remote_state(m);
	struct cidr pool = q->pool;
	char a[CIDR_STRLEN], b[CIDR_STRLEN], id[DKP_POOL_ID_MAX];
	struct remote_pool *p;
	int r = 0;

	if (!pool.addr.family)
		r = pool_pick(m, q->pool_v6, &pool, err);
	if (r >= 0)
		r = pool_clear(m, &pool, err);
	if (r < 0)
		return berr_prefix(err, "requesting a pool");
	if (q->subpool.addr.family)
		snprintf(id, sizeof(id), "berth/%s/%s", cidr_fmt(&pool, a), cidr_fmt(&q->subpool, b));
	else
		snprintf(id, sizeof(id), "berth/%s", cidr_fmt(&pool, a));
	p = pool_new(id, &pool, q->subpool.addr.family ? &q->subpool : NULL, err);
	if (!p)
		return err->code;
	r = remote_tx(m, pool_row_put, p, err);
	if (r < 0) {
		pool_free(p);
		return r;
	}
	vec_push(rs->pools, p);
	*ret = cJSON_CreateObject();
	cJSON_AddStringToObject(*ret, "PoolID", p->id);
	cJSON_AddStringToObject(*ret, "Pool", cidr_fmt(&p->pool, a));
	cJSON_AddObjectToObject(*ret, "Data");
	return 0;
}

struct pool_rows {
	struct manager *m;
	const char *id;
	VEC(char) keys;
};

static int addr_key_collect(const char *key, const char *value, void *ud)
{
	struct pool_rows *pr = ud;

	vec_push(pr->keys, xstrdup(key));
	return 0;
}

/* The pool's row and its addresses' rows (those of this pool: "<prefix><id>|..."). */
static int pool_rows_delete(struct manager *m, void *ud, struct berr *err)
{
	struct pool_rows *pr = ud;
	_cleanup_free_ char *pkey = pool_key(pr->id);
	_cleanup_free_ char *prefix = xasprintf(REMOTE_META_ADDR "%s|", pr->id);
	int r = store_meta_list(m->store, prefix, addr_key_collect, pr, err);

	for (size_t i = 0; r >= 0 && i < pr->keys.n; i++)
		r = store_meta_delete(m->store, pr->keys.v[i], err);
	if (r >= 0)
		r = store_meta_delete(m->store, pkey, err);
	return r;
}

static int pool_release(struct manager *m, const struct dkp_request *q, struct berr *err)
{
	struct remote_state *rs = remote_state(m);
	struct remote_pool *p = pool_find(rs, q->pool_id);
	struct pool_rows pr = { .m = m, .id = q->pool_id };
	int r;

	if (!p)
		return 0;   /* releasing what is gone succeeds */
	r = remote_tx(m, pool_rows_delete, &pr, err);
	for (size_t i = 0; i < pr.keys.n; i++)
		free(pr.keys.v[i]);
	free(pr.keys.v);
	if (r < 0)
		return r;
	for (size_t i = 0; i < rs->pools.n; i++)
		if (rs->pools.v[i] == p) {
			vec_remove(rs->pools, i);
			break;
		}
	pool_free(p);
	return 0;
}

/* ---------------------------------------------------------------- addresses */

struct addr_row {
	const char *id;
	const struct ipaddr *a;
};

static int addr_row_put(struct manager *m, void *ud, struct berr *err)
{
	const struct addr_row *ar = ud;
	_cleanup_free_ char *key = addr_key(ar->id, ar->a);

	return store_meta_put(m->store, key, "1", err);
}

static int addr_row_delete(struct manager *m, void *ud, struct berr *err)
{
	const struct addr_row *ar = ud;
	_cleanup_free_ char *key = addr_key(ar->id, ar->a);

	return store_meta_delete(m->store, key, err);
}

static struct remote_pool *pool_get(struct manager *m, const char *id, struct berr *err)
{
	struct remote_pool *p = pool_find(remote_state(m), id);

	if (!p)
		berr_set(err, -ENOENT, "no such pool %s", id);
	return p;
}

/* The address to give: the one asked, the gateway (the pool's first usable address, as
 * Docker's own IPAM does), or the next free one. */
static int addr_take(struct remote_pool *p, const struct dkp_request *q, struct ipaddr *ret,
		     struct berr *err)
{
	struct ipaddr gw;

	if (q->address.family) {
		*ret = q->address;
		return ipam_pool_reserve(&p->p, ret, err);
	}
	ipam_default_gateway(&p->pool, &gw);
	if (q->gateway && ipam_pool_usable(&p->p, &gw) && !ipam_pool_taken(&p->p, &gw)) {
		*ret = gw;
		return ipam_pool_reserve(&p->p, ret, err);
	}
	return ipam_pool_alloc(&p->p, ret, err);
}

static int addr_request(struct manager *m, const struct dkp_request *q, cJSON **ret,
			struct berr *err)
{
	struct remote_pool *p = pool_get(m, q->pool_id, err);
	struct cidr c = { .prefix = p ? p->pool.prefix : 0 };
	struct addr_row ar = { .a = &c.addr };
	char buf[CIDR_STRLEN];
	int r;

	if (!p)
		return err->code;
	r = addr_take(p, q, &c.addr, err);
	if (r < 0)
		return berr_prefix(err, "pool %s", p->id);
	ar.id = p->id;
	r = remote_tx(m, addr_row_put, &ar, err);
	if (r < 0) {
		ipam_pool_release(&p->p, &c.addr);
		return r;
	}
	*ret = cJSON_CreateObject();
	cJSON_AddStringToObject(*ret, "Address", cidr_fmt(&c, buf));
	cJSON_AddObjectToObject(*ret, "Data");
	return 0;
}

static int addr_release(struct manager *m, const struct dkp_request *q, struct berr *err)
{
	struct remote_pool *p = pool_find(remote_state(m), q->pool_id);
	struct addr_row ar = { .id = q->pool_id, .a = &q->address };
	int r;

	if (!p || !ipam_pool_taken(&p->p, &q->address))
		return 0;   /* releasing what is free succeeds */
	r = remote_tx(m, addr_row_delete, &ar, err);
	if (r >= 0)
		ipam_pool_release(&p->p, &q->address);
	return r;
}

int remote_ipam_call(struct manager *m, const struct dkp_request *q, cJSON **ret,
		     struct berr *err)
{
	switch (q->op) {
	case DKP_POOL_REQUEST:
		return pool_request(m, q, ret, err);
	case DKP_POOL_RELEASE:
		return pool_release(m, q, err);
	case DKP_ADDR_REQUEST:
		return addr_request(m, q, ret, err);
	case DKP_ADDR_RELEASE:
		return addr_release(m, q, err);
	default:
		return berr_set(err, -EOPNOTSUPP, "%s is not supported", dkp_op_name(q->op));
	}
}

/* ---------------------------------------------------------------- loading */

static int pool_load(const char *key, const char *value, void *ud)
{
	struct manager *m = ud;
	_cleanup_json_ cJSON *o = cJSON_Parse(value);
	const cJSON *pool = cJSON_GetObjectItemCaseSensitive(o, "Pool");
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(o, "SubPool");
	const char *id = key + strlen(REMOTE_META_POOL);
	struct cidr c, s = { 0 };
	struct berr e2 = BERR_INIT;
	struct remote_pool *p;

	if (!cJSON_IsString(pool) || !cJSON_IsString(sub) ||
	    cidr_parse_subnet(pool->valuestring, &c, &e2) < 0 ||
	    (sub->valuestring[0] && cidr_parse_subnet(sub->valuestring, &s, &e2) < 0) ||
	    !(p = pool_new(id, &c, s.addr.family ? &s : NULL, &e2))) {
		blog_warn("docker pool %s: its record is corrupt (%s); ignored", id, berr_str(&e2));
		return 0;
	}
	vec_push(remote_state(m)->pools, p);
	return 0;
}

static int addr_load(const char *key, const char *value, void *ud)
{
	struct manager *m = ud;
	const char *rest = key + strlen(REMOTE_META_ADDR), *bar = strrchr(rest, '|');
	_cleanup_free_ char *id = bar ? strndup(rest, (size_t)(bar - rest)) : NULL;
	struct remote_pool *p = id ? pool_find(remote_state(m), id) : NULL;
	struct ipaddr a;

	if (!p || ip_parse(bar + 1, &a, NULL) < 0 || ipam_pool_reserve(&p->p, &a, NULL) < 0)
		blog_warn("docker pool address %s: no such pool or a bad address; ignored", rest);
	return 0;
}

int remote_ipam_load(struct manager *m, struct berr *err)
{
	int r = store_meta_list(m->store, REMOTE_META_POOL, pool_load, m, err);

	if (r >= 0)
		r = store_meta_list(m->store, REMOTE_META_ADDR, addr_load, m, err);
	return r;
}
