/* SPDX-License-Identifier: Apache-2.0 */
/* Address management: one subnet's allocator over a sorted array of taken addresses, the choice
 * of a subnet from default pools, and the host's IPv6 ULA prefix. */
#include "ipam/ipam.h"

#include <errno.h>
#include <string.h>

#include "common/names.h"
#include "common/util.h"

typedef unsigned __int128 u128;

static u128 u128_shr(u128 v, int s)
{
	return s >= 128 ? 0 : v >> s;
}

static u128 u128_shl(u128 v, int s)
{
	return s >= 128 ? 0 : v << s;
}

/* ---- the sorted array of taken addresses ---- */

/* Index of the first taken address >= v (all taken addresses share the subnet's family). */
static size_t taken_lower_bound(const struct ipam_pool *p, u128 v)
{
	size_t lo = 0, hi = p->n_taken;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ip_to_u128(&p->taken[mid]) < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool taken_find(const struct ipam_pool *p, const struct ipaddr *a, size_t *ret_idx)
{
	size_t i = taken_lower_bound(p, ip_to_u128(a));

	*ret_idx = i;
	return i < p->n_taken && ip_equal(&p->taken[i], a);
}

static void taken_insert(struct ipam_pool *p, size_t idx, const struct ipaddr *a)
{
	if (p->n_taken == p->cap_taken) {
		p->cap_taken = p->cap_taken ? p->cap_taken * 2 : 16;
		p->taken = xrealloc(p->taken, p->cap_taken * sizeof(*p->taken));
	}
	memmove(&p->taken[idx + 1], &p->taken[idx], (p->n_taken - idx) * sizeof(*p->taken));
	p->taken[idx] = *a;
	p->n_taken++;
}

/* ---- one subnet's pool ---- */

static bool subnet_too_small(const struct cidr *s)
{
	return ip_bits(s->addr.family) - s->prefix < 2;
}

int ipam_pool_init(struct ipam_pool *p, const struct cidr *subnet, const struct cidr *range,
		   struct berr *err)
{
	char sbuf[CIDR_STRLEN], rbuf[CIDR_STRLEN];
	struct cidr net;

	memset(p, 0, sizeof(*p));
	cidr_network(subnet, &net);
	if (!ip_equal(&net.addr, &subnet->addr))
		return berr_set(err, -EINVAL, "invalid subnet %s: host bits set (did you mean %s?)",
				cidr_fmt(subnet, sbuf), cidr_fmt(&net, rbuf));
	if (subnet_too_small(subnet))
		return berr_set(err, -EINVAL, "subnet %s is too small to hold any address",
				cidr_fmt(subnet, sbuf));
	if (range && !cidr_contains_cidr(subnet, range))
		return berr_set(err, -EINVAL, "IP range %s is not inside subnet %s",
				cidr_fmt(range, rbuf), cidr_fmt(subnet, sbuf));
	p->subnet = *subnet;
	if (range)
		cidr_network(range, &p->range);
	else
		p->range = *subnet;
	/* The cursor starts on the last address so that the first search starts at the first. */
	cidr_last(&p->range, &p->cursor);
	return 0;
}

void ipam_pool_free(struct ipam_pool *p)
{
	if (!p)
		return;
	free(p->taken);
	p->taken = NULL;
	p->n_taken = p->cap_taken = 0;
}

static bool is_broadcast(const struct cidr *subnet, u128 v)
{
	return subnet->addr.family == AF_INET &&
	       v == (ip_to_u128(&subnet->addr) | cidr_span(subnet));
}

bool ipam_pool_usable(const struct ipam_pool *p, const struct ipaddr *a)
{
	u128 v = ip_to_u128(a);

	return cidr_contains(&p->subnet, a) && v != ip_to_u128(&p->subnet.addr) &&
	       !is_broadcast(&p->subnet, v);
}

/* Usable addresses of c, a part of the pool's subnet: all but the subnet's network address and
 * (IPv4) broadcast address where they fall inside c. */
static u128 usable_in(const struct ipam_pool *p, const struct cidr *c)
{
	u128 span = cidr_span(c), n = span == ~(u128)0 ? span : span + 1;
	u128 net = ip_to_u128(&p->subnet.addr), bcast = net | cidr_span(&p->subnet);

	if (cidr_contains(c, &p->subnet.addr))
		n--;
	if (p->subnet.addr.family == AF_INET) {
		struct ipaddr b;

		ip_from_u128(AF_INET, bcast, &b);
		if (cidr_contains(c, &b))
			n--;
	}
	return n;
}

void ipam_pool_usage(const struct ipam_pool *p, struct ipam_usage *ret)
{
	u128 in_range = 0;

	for (size_t i = 0; i < p->n_taken; i++)
		if (cidr_contains(&p->range, &p->taken[i]))
			in_range++;
	ret->size = usable_in(p, &p->subnet);
	ret->in_use = p->n_taken;
	ret->range_size = usable_in(p, &p->range);
	ret->free = ret->range_size > in_range ? ret->range_size - in_range : 0;
}

bool ipam_pool_taken(const struct ipam_pool *p, const struct ipaddr *a)
{
	size_t idx;

	if (a->family != p->subnet.addr.family)
		return false;
	return taken_find(p, a, &idx);
}

static int reserve_check(const struct ipam_pool *p, const struct ipaddr *a, struct berr *err)
{
	char abuf[IP_STRLEN], sbuf[CIDR_STRLEN];

	if (!cidr_contains(&p->subnet, a))
		return berr_set(err, -EINVAL, "address %s is outside subnet %s", ip_fmt(a, abuf),
				cidr_fmt(&p->subnet, sbuf));
	if (ip_equal(a, &p->subnet.addr))
		return berr_set(err, -EINVAL, "%s is the network address of %s", ip_fmt(a, abuf),
				cidr_fmt(&p->subnet, sbuf));
	if (is_broadcast(&p->subnet, ip_to_u128(a)))
		return berr_set(err, -EINVAL, "%s is the broadcast address of %s", ip_fmt(a, abuf),
				cidr_fmt(&p->subnet, sbuf));
	return 0;
}

int ipam_pool_reserve(struct ipam_pool *p, const struct ipaddr *a, struct berr *err)
{
	char abuf[IP_STRLEN];
	size_t idx;
	int r;

	r = reserve_check(p, a, err);
	if (r < 0)
		return r;
	if (taken_find(p, a, &idx))
		return berr_set(err, -EADDRINUSE, "address %s is already in use", ip_fmt(a, abuf));
	taken_insert(p, idx, a);
	return 0;
}

/* The first free usable address in [lo, hi]. Runs of taken addresses are walked with the sorted
 * array in step, so the loop makes at most n_taken + 2 steps whatever the size of the range. */
static bool find_free(const struct ipam_pool *p, u128 lo, u128 hi, u128 *ret)
{
	u128 net = ip_to_u128(&p->subnet.addr);
	size_t idx = taken_lower_bound(p, lo);
	u128 a = lo;

	if (lo > hi)
		return false;
	for (;;) {
		bool skip = a == net;

		if (!skip && idx < p->n_taken && ip_to_u128(&p->taken[idx]) == a) {
			skip = true;
			idx++;
		}
		if (!skip) {
			if (is_broadcast(&p->subnet, a))
				return false; /* the broadcast address ends the subnet */
			*ret = a;
			return true;
		}
		if (a == hi)
			return false;
		a++;
	}
}

int ipam_pool_alloc(struct ipam_pool *p, struct ipaddr *ret, struct berr *err)
{
	u128 first = ip_to_u128(&p->range.addr);
	u128 last = first | cidr_span(&p->range);
	u128 cur = ip_to_u128(&p->cursor);
	char sbuf[CIDR_STRLEN], rbuf[CIDR_STRLEN];
	u128 start, found;

	if (p->cursor.family == p->range.addr.family && cidr_contains(&p->range, &p->cursor) &&
	    cur != last)
		start = cur + 1;
	else
		start = first;
	if (!find_free(p, start, last, &found) &&
	    (start == first || !find_free(p, first, start - 1, &found))) {
		if (p->range.prefix == p->subnet.prefix)
			return berr_set(err, -ENOSPC, "no free address in %s", cidr_fmt(&p->subnet, sbuf));
		return berr_set(err, -ENOSPC, "no free address in %s (range %s)",
				cidr_fmt(&p->subnet, sbuf), cidr_fmt(&p->range, rbuf));
	}
	ip_from_u128(p->subnet.addr.family, found, ret);
	taken_insert(p, taken_lower_bound(p, found), ret);
	p->cursor = *ret;
	return 0;
}

void ipam_pool_release(struct ipam_pool *p, const struct ipaddr *a)
{
	size_t idx;

	if (a->family != p->subnet.addr.family || !taken_find(p, a, &idx))
		return;
	memmove(&p->taken[idx], &p->taken[idx + 1], (p->n_taken - idx - 1) * sizeof(*p->taken));
	p->n_taken--;
}

void ipam_default_gateway(const struct cidr *subnet, struct ipaddr *ret)
{
	u128 net = ip_to_u128(&subnet->addr) & ~cidr_span(subnet);

	ip_from_u128(subnet->addr.family, net + 1, ret);
}

/* ---- default address pools ---- */

size_t ipam_builtin_pools(struct ipam_default_pool *ret, size_t max)
{
	size_t n = 0;

	for (int second = 17; second <= 31 && n < max; second++, n++) {
		ip_from_u128(AF_INET, ((u128)172 << 24) | ((u128)second << 16), &ret[n].base.addr);
		ret[n].base.prefix = 16;
		ret[n].size = 16;
	}
	if (n < max) {
		ip_from_u128(AF_INET, ((u128)192 << 24) | ((u128)168 << 16), &ret[n].base.addr);
		ret[n].base.prefix = 16;
		ret[n].size = 20;
		n++;
	}
	return n;
}

static int pool_size_parse(const char *s, int max, int *ret)
{
	int v = 0;

	if (!*s || strlen(s) > 3 || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int pool_field_set(char *field, struct ipam_default_pool *pool, bool *has_base,
			  bool *has_size, struct berr *err)
{
	char *eq = strchr(field, '=');

	if (!eq)
		return berr_set(err, -EINVAL, "expected key=value, got \"%s\"", field);
	*eq = '\0';
	if (!strcmp(field, "base")) {
		*has_base = true;
		return cidr_parse_subnet(eq + 1, &pool->base, err);
	}
	if (!strcmp(field, "size")) {
		*has_size = true;
		if (pool_size_parse(eq + 1, 128, &pool->size) < 0)
			return berr_set(err, -EINVAL, "size \"%s\" is not a prefix length", eq + 1);
		return 0;
	}
	return berr_set(err, -EINVAL, "unknown key \"%s\" (expected base and size)", field);
}

static int pool_fields_parse(char *buf, struct ipam_default_pool *pool, struct berr *err)
{
	bool has_base = false, has_size = false;
	char *save = NULL;
	int r;

	for (char *f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		r = pool_field_set(f, pool, &has_base, &has_size, err);
		if (r < 0)
			return r;
	}
	if (!has_base || !has_size)
		return berr_set(err, -EINVAL, "both base=CIDR and size=N are required");
	if (pool->size < pool->base.prefix || pool->size > ip_bits(pool->base.addr.family))
		return berr_set(err, -EINVAL, "size %d must be between the base prefix length %d and %d",
				pool->size, pool->base.prefix, ip_bits(pool->base.addr.family));
	return 0;
}

int ipam_default_pool_parse(const char *s, struct ipam_default_pool *ret, struct berr *err)
{
	_cleanup_free_ char *buf = NULL;
	struct ipam_default_pool pool = { 0 };
	int r;

	if (!s)
		s = "";
	buf = xstrdup(s);
	r = pool_fields_parse(buf, &pool, err);
	if (r < 0)
		return berr_prefix(err, "invalid default address pool \"%s\"", s);
	*ret = pool;
	return 0;
}

/* The first avoid entry overlapping c, or NULL. */
static const struct cidr *avoid_find(const struct cidr *c, const struct cidr *avoid, size_t n_avoid)
{
	for (size_t i = 0; i < n_avoid; i++)
		if (cidr_overlaps(c, &avoid[i]))
			return &avoid[i];
	return NULL;
}

/* Walk the subnets of one pool in order. When a candidate overlaps an avoid entry, jump to the
 * first candidate past that entry's end: every avoid entry is passed at most once, so the loop
 * runs at most n_avoid + 1 times however many candidates the pool holds. */
static bool pool_pick(const struct ipam_default_pool *pool, const struct cidr *avoid,
		      size_t n_avoid, struct cidr *ret)
{
	int family = pool->base.addr.family;
	int shift = ip_bits(family) - pool->size;
	u128 base = ip_to_u128(&pool->base.addr) & ~cidr_span(&pool->base);
	u128 last_k = u128_shr(cidr_span(&pool->base), shift);
	u128 k = 0;

	for (;;) {
		struct cidr cand = { .prefix = pool->size };
		const struct cidr *hit;
		u128 hit_last;

		ip_from_u128(family, base + u128_shl(k, shift), &cand.addr);
		hit = avoid_find(&cand, avoid, n_avoid);
		if (!hit) {
			*ret = cand;
			return true;
		}
		hit_last = ip_to_u128(&hit->addr) | cidr_span(hit);
		if (hit_last - base >= cidr_span(&pool->base))
			return false;
		k = u128_shr(hit_last - base, shift);
		if (k >= last_k)
			return false;
		k++;
	}
}

int ipam_pick_subnet(const struct ipam_default_pool *pools, size_t n_pools, int family,
		     const struct cidr *avoid, size_t n_avoid, struct cidr *ret, struct berr *err)
{
	bool any = false;

	for (size_t i = 0; i < n_pools; i++) {
		if (pools[i].base.addr.family != family)
			continue;
		any = true;
		if (pool_pick(&pools[i], avoid, n_avoid, ret))
			return 0;
	}
	if (!any)
		return berr_set(err, -ENOSPC, "no %s default address pool is configured",
				family == AF_INET ? "IPv4" : "IPv6");
	return berr_set(err, -ENOSPC,
			"all %s default address pools are exhausted: every candidate subnet overlaps an existing network or route",
			family == AF_INET ? "IPv4" : "IPv6");
}

/* ---- the host's ULA prefix ---- */

void ipam_ula_prefix(const void *host_id, size_t len, struct cidr *ret48)
{
	uint64_t h = hash64(host_id, len, 0);

	memset(ret48, 0, sizeof(*ret48));
	ret48->addr.family = AF_INET6;
	ret48->addr.b[0] = 0xfd;
	for (int i = 1; i <= 5; i++) {
		ret48->addr.b[i] = (uint8_t)(h & 0xff);
		h >>= 8;
	}
	ret48->prefix = 48;
}

int ipam_pick_ula64(const void *host_id, size_t len, const struct cidr *avoid, size_t n_avoid,
		    struct cidr *ret, struct berr *err)
{
	struct ipam_default_pool pool = { .size = 64 };
	char buf[CIDR_STRLEN];

	ipam_ula_prefix(host_id, len, &pool.base);
	if (pool_pick(&pool, avoid, n_avoid, ret))
		return 0;
	return berr_set(err, -ENOSPC, "no free /64 left in the ULA prefix %s",
			cidr_fmt(&pool.base, buf));
}
