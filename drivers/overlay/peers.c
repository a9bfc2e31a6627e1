/* SPDX-License-Identifier: Apache-2.0 */
/* The remote endpoints of an overlay network as static entries of its VXLAN device: the
 * difference between what the peers need and what the kernel holds, and its application. */
#include "drivers/overlay/overlay.h"

#include "common/util.h"

static const uint8_t mac_zero[6];

struct vec_fdb {
	struct nlx_fdb_entry *v;
	size_t n, cap;
};

struct vec_neigh {
	struct nlx_neigh_entry *v;
	size_t n, cap;
};

static void fdb_push(struct vec_fdb *a, const uint8_t mac[6], const struct ipaddr *vtep)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	memset(&a->v[a->n], 0, sizeof(a->v[a->n]));
	memcpy(a->v[a->n].mac, mac, 6);
	a->v[a->n].vtep = *vtep;
	a->v[a->n++].permanent = true;
}

static void neigh_push(struct vec_neigh *a, const struct ipaddr *ip, const uint8_t mac[6])
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	memset(&a->v[a->n], 0, sizeof(a->v[a->n]));
	a->v[a->n].ip = *ip;
	memcpy(a->v[a->n].mac, mac, 6);
	a->v[a->n++].permanent = true;
}

static bool fdb_same(const struct nlx_fdb_entry *a, const struct nlx_fdb_entry *b)
{
	return !memcmp(a->mac, b->mac, 6) && ip_equal(&a->vtep, &b->vtep);
}

static bool fdb_in(const struct nlx_fdb_entry *e, const struct nlx_fdb_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fdb_same(e, &v[i]))
			return true;
	return false;
}

/* Present with the same MAC (a neighbour entry of the address with another MAC is replaced). */
static bool neigh_in(const struct nlx_neigh_entry *e, const struct nlx_neigh_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ip_equal(&e->ip, &v[i].ip) && !memcmp(e->mac, v[i].mac, 6))
			return true;
	return false;
}

/* Everything the peers need, each entry once. */
static void plan_wanted(const struct ov_peer *peers, size_t n, struct vec_fdb *fdb,
			struct vec_neigh *neigh)
{
	for (size_t i = 0; i < n; i++) {
		const struct ov_peer *p = &peers[i];
		struct nlx_fdb_entry flood = { .vtep = p->vtep };

		fdb_push(fdb, p->mac, &p->vtep);
		if (!fdb_in(&flood, fdb->v, fdb->n))
			fdb_push(fdb, mac_zero, &p->vtep);
		if (p->ip4.family)
			neigh_push(neigh, &p->ip4, p->mac);
		if (p->ip6.family)
			neigh_push(neigh, &p->ip6, p->mac);
	}
}

void ov_plan_make(const struct ov_peer *peers, size_t n_peers, const struct nlx_fdb_entry *fdb,
		  size_t n_fdb, const struct nlx_neigh_entry *neigh, size_t n_neigh,
		  struct ov_plan *ret)
{
	struct vec_fdb want_fdb = { 0 }, add_fdb = { 0 }, del_fdb = { 0 };
	struct vec_neigh want_n = { 0 }, add_n = { 0 }, del_n = { 0 };

	plan_wanted(peers, n_peers, &want_fdb, &want_n);
	for (size_t i = 0; i < want_fdb.n; i++)
		if (!fdb_in(&want_fdb.v[i], fdb, n_fdb))
			fdb_push(&add_fdb, want_fdb.v[i].mac, &want_fdb.v[i].vtep);
	for (size_t i = 0; i < n_fdb; i++)
		if (fdb[i].permanent && !fdb_in(&fdb[i], want_fdb.v, want_fdb.n))
			fdb_push(&del_fdb, fdb[i].mac, &fdb[i].vtep);
	for (size_t i = 0; i < want_n.n; i++)
		if (!neigh_in(&want_n.v[i], neigh, n_neigh))
			neigh_push(&add_n, &want_n.v[i].ip, want_n.v[i].mac);
	for (size_t i = 0; i < n_neigh; i++) {
		bool wanted_ip = false;

		for (size_t k = 0; k < want_n.n && !wanted_ip; k++)
			wanted_ip = ip_equal(&neigh[i].ip, &want_n.v[k].ip);
		/* an entry of a wanted address with another MAC is replaced by the add */
		if (neigh[i].permanent && !wanted_ip)
			neigh_push(&del_n, &neigh[i].ip, neigh[i].mac);
	}
	free(want_fdb.v);
	free(want_n.v);
	*ret = (struct ov_plan){ .fdb_add = add_fdb.v, .n_fdb_add = add_fdb.n,
				 .fdb_del = del_fdb.v, .n_fdb_del = del_fdb.n,
				 .neigh_add = add_n.v, .n_neigh_add = add_n.n,
				 .neigh_del = del_n.v, .n_neigh_del = del_n.n };
}

void ov_plan_free(struct ov_plan *p)
{
	free(p->fdb_add);
	free(p->fdb_del);
	free(p->neigh_add);
	free(p->neigh_del);
	memset(p, 0, sizeof(*p));
}

/* Deletions first: a MAC that moved to another VTEP is deleted at the old one, then added. */
static int plan_apply(struct nlx *nl, int ifindex, const struct ov_plan *p, struct berr *err)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < p->n_neigh_del; i++)
		r = nlx_neigh_del(nl, ifindex, &p->neigh_del[i].ip, err);
	for (size_t i = 0; r >= 0 && i < p->n_fdb_del; i++)
		r = nlx_fdb_del(nl, ifindex, p->fdb_del[i].mac, &p->fdb_del[i].vtep, err);
	for (size_t i = 0; r >= 0 && i < p->n_fdb_add; i++)
		r = nlx_fdb_add(nl, ifindex, p->fdb_add[i].mac, &p->fdb_add[i].vtep, err);
	for (size_t i = 0; r >= 0 && i < p->n_neigh_add; i++)
		r = nlx_neigh_add(nl, ifindex, &p->neigh_add[i].ip, p->neigh_add[i].mac, err);
	return r;
}

int ov_peers_sync(struct drv_ctx *ctx, const struct bnetwork *n, const struct ov_peer *peers,
		  size_t n_peers, struct berr *err)
{
	_cleanup_free_ struct nlx_fdb_entry *fdb = NULL;
	_cleanup_free_ struct nlx_neigh_entry *neigh = NULL;
	size_t n_fdb = 0, n_neigh = 0;
	char name[IFNAME_LEN];
	struct ov_plan plan;
	int ifindex, r;

	ov_vxlan_name(n->id, name);
	ifindex = nlx_link_index(ctx->host_nl, name, err);
	if (ifindex <= 0)
		return ifindex;
	r = nlx_fdb_list(ctx->host_nl, ifindex, &fdb, &n_fdb, err);
	if (r >= 0)
		r = nlx_neigh_list(ctx->host_nl, ifindex, 0, &neigh, &n_neigh, err);
	if (r < 0)
		return berr_prefix(err, "network %s", n->name);
	ov_plan_make(peers, n_peers, fdb, n_fdb, neigh, n_neigh, &plan);
	r = plan_apply(ctx->host_nl, ifindex, &plan, err);
	if (r >= 0)
		r = (int)(plan.n_fdb_add + plan.n_fdb_del + plan.n_neigh_add + plan.n_neigh_del);
	ov_plan_free(&plan);
	return r < 0 ? berr_prefix(err, "network %s: peer entries", n->name) : r;
}
