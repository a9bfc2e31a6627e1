/* SPDX-License-Identifier: Apache-2.0 */
/* The record table: lower-cased name -> (network, address or PTR target) entries in a chained
 * hash table. A lookup sees only the entries of the networks it is given. Each entry is also
 * chained by its endpoint's ID, so an endpoint's entries go without a walk of the table (whose
 * size grows with the containers). */
#include <errno.h>
#include <string.h>

#include "common/names.h"
#include "common/util.h"
#include "dns/dns.h"

#define TABLE_BUCKETS 4096u
#define RECORD_TTL 600

struct rec {
	struct rec *next, **pprev;   /* name chain; pprev: the pointer to this entry */
	struct rec *ep_next;         /* endpoint chain (by_ep) */
	char *key;                 /* lower case */
	char net_id[ID_LEN + 1];
	char ep_id[ID_LEN + 1];
	uint16_t type;             /* A, AAAA or PTR */
	struct ipaddr ip;
	char *target;              /* PTR */
};

struct dns_table {
	struct rec *buckets[TABLE_BUCKETS];   /* by name */
	struct rec *by_ep[TABLE_BUCKETS];     /* by endpoint ID */
	size_t count;
	unsigned rotation;
};

struct dns_table *dns_table_new(void)
{
	return xcalloc(1, sizeof(struct dns_table));
}

static void rec_free(struct rec *r)
{
	free(r->key);
	free(r->target);
	free(r);
}

void dns_table_free(struct dns_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < TABLE_BUCKETS; i++)
		for (struct rec *r = t->buckets[i], *next; r; r = next) {
			next = r->next;
			rec_free(r);
		}
	free(t);
}

/* FNV-1a over the lower-cased name. */
static unsigned name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		uint8_t c = (uint8_t)*s;

		h ^= (c >= 'A' && c <= 'Z') ? c + 32u : c;
		h *= 16777619u;
	}
	return h % TABLE_BUCKETS;
}

static char *name_lower(const char *s)
{
	size_t len = strlen(s);
	char *out;

	if (len && s[len - 1] == '.')
		len--;
	out = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	out[len] = '\0';
	return out;
}

static void rec_add(struct dns_table *t, const char *ep_id, const char *net_id, const char *name,
		    uint16_t type, const struct ipaddr *ip, const char *target)
{
	struct rec *r = xcalloc(1, sizeof(*r));
	unsigned h;

	r->key = name_lower(name);
	strscpy(r->net_id, net_id, sizeof(r->net_id));
	strscpy(r->ep_id, ep_id, sizeof(r->ep_id));
	r->type = type;
	r->ip = *ip;
	r->target = target ? xstrdup(target) : NULL;
	h = name_hash(r->key);
	r->next = t->buckets[h];
	if (r->next)
		r->next->pprev = &r->next;
	r->pprev = &t->buckets[h];
	t->buckets[h] = r;
	h = name_hash(ep_id);
	r->ep_next = t->by_ep[h];
	t->by_ep[h] = r;
	t->count++;
}

void dns_table_ep_del(struct dns_table *t, const char *ep_id)
{
	struct rec **pp = &t->by_ep[name_hash(ep_id)];

	while (*pp) {
		struct rec *r = *pp;

		if (strcmp(r->ep_id, ep_id) != 0) {
			pp = &r->ep_next;
			continue;
		}
		*pp = r->ep_next;
		*r->pprev = r->next;
		if (r->next)
			r->next->pprev = r->pprev;
		rec_free(r);
		t->count--;
	}
}

static bool name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= DNS_NAME_MAX;
}

void dns_table_ep_set(struct dns_table *t, const char *ep_id, const char *net_id,
		      const char *const *names, size_t n_names, const struct ipaddr *addrs,
		      size_t n_addrs)
{
	dns_table_ep_del(t, ep_id);
	for (size_t a = 0; a < n_addrs; a++) {
		uint16_t type = addrs[a].family == AF_INET ? DNS_T_A : DNS_T_AAAA;
		char ptr[DNS_NAME_MAX + 1];

		if (!addrs[a].family)
			continue;
		for (size_t i = 0; i < n_names; i++)
			if (name_ok(names[i]))
				rec_add(t, ep_id, net_id, names[i], type, &addrs[a], NULL);
		if (n_names && name_ok(names[0])) {
			dns_ptr_name(&addrs[a], ptr);
			rec_add(t, ep_id, net_id, ptr, DNS_T_PTR, &addrs[a], names[0]);
		}
	}
}

static bool net_visible(const char *net_id, const char *const *nets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nets[i], net_id) == 0)
			return true;
	return false;
}

static bool rr_dup(const struct dns_rr *rrs, size_t n, const struct rec *r)
{
	for (size_t i = 0; i < n; i++)
		if (rrs[i].type == r->type &&
		    (r->target ? strcmp(rrs[i].target, r->target) == 0 : ip_equal(&rrs[i].ip, &r->ip)))
			return true;
	return false;
}

static void rotate(struct dns_rr *rrs, size_t n, unsigned by)
{
	struct dns_rr tmp;

	if (n < 2)
		return;
	for (unsigned k = by % n; k > 0; k--) {
		tmp = rrs[0];
		memmove(rrs, rrs + 1, (n - 1) * sizeof(*rrs));
		rrs[n - 1] = tmp;
	}
}

int dns_table_lookup(struct dns_table *t, const char *name, uint16_t type,
		     const char *const *nets, size_t n_nets, struct dns_rr *rrs, size_t max)
{
	bool exists = false;
	size_t n = 0;

	for (struct rec *r = t->buckets[name_hash(name)]; r; r = r->next) {
		if (strcmp(r->key, name) != 0 || !net_visible(r->net_id, nets, n_nets))
			continue;
		exists = true;
		if ((r->type != type && type != DNS_T_ANY) || n >= max || rr_dup(rrs, n, r))
			continue;
		memset(&rrs[n], 0, sizeof(rrs[n]));
		rrs[n].type = r->type;
		rrs[n].ttl = RECORD_TTL;
		rrs[n].ip = r->ip;
		if (r->target)
			strscpy(rrs[n].target, r->target, sizeof(rrs[n].target));
		n++;
	}
	if (!exists)
		return -ENOENT;
	rotate(rrs, n, t->rotation++);
	return (int)n;
}

size_t dns_table_count(const struct dns_table *t)
{
	return t->count;
}
