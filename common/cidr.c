/* SPDX-License-Identifier: Apache-2.0 */
/* IP addresses and prefixes: strict parsing, formatting and 128-bit arithmetic. */
#include "common/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define U128_MAX (~(unsigned __int128)0)

/* All ones in the low `n` bits (n in 0..128). */
static unsigned __int128 low_mask(int n)
{
	if (n <= 0)
		return 0;
	if (n >= 128)
		return U128_MAX;
	return ((unsigned __int128)1 << n) - 1;
}

int ip_parse(const char *s, struct ipaddr *ret, struct berr *err)
{
	struct ipaddr a = { 0 };

	if (!s || !*s)
		return berr_set(err, -EINVAL, "invalid IP address \"\": empty");
	if (strlen(s) >= IP_STRLEN)
		return berr_set(err, -EINVAL, "invalid IP address \"%.60s\": too long", s);
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	/* inet_pton() refuses leading and trailing junk, leading zeros (IPv4) and zones. */
	if (inet_pton(a.family, s, a.b) != 1)
		return berr_set(err, -EINVAL, "invalid IP address \"%s\"", s);
	*ret = a;
	return 0;
}

const char *ip_fmt(const struct ipaddr *a, char buf[IP_STRLEN])
{
	if (!a || (a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, a->b, buf, IP_STRLEN))
		snprintf(buf, IP_STRLEN, "(invalid)");
	return buf;
}

bool ip_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	return ip_cmp(a, b) == 0;
}

int ip_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	unsigned __int128 x, y;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : b->family == AF_INET ? 1 : a->family - b->family;
	x = ip_to_u128(a);
	y = ip_to_u128(b);
	return x < y ? -1 : x > y ? 1 : 0;
}

unsigned __int128 ip_to_u128(const struct ipaddr *a)
{
	unsigned __int128 v = 0;
	int n = a->family == AF_INET ? 4 : 16;

	for (int i = 0; i < n; i++)
		v = (v << 8) | a->b[i];
	return v;
}

void ip_from_u128(int family, unsigned __int128 v, struct ipaddr *ret)
{
	int n = family == AF_INET ? 4 : 16;

	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	for (int i = n - 1; i >= 0; i--) {
		ret->b[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* Strict decimal prefix: digits only, no sign, no leading zero, at most `max`. */
static int prefix_parse(const char *s, int max)
{
	int v = 0;

	if (!*s || strlen(s) > 3 || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? v : -1;
}

/* cidr_parse() whose messages call the value `what` ("CIDR", "subnet"). */
static int cidr_parse_as(const char *s, const char *what, struct cidr *ret, struct berr *err)
{
	char addr[IP_STRLEN];
	const char *slash;
	struct cidr c;
	size_t len;

	if (!s)
		s = "";
	slash = strchr(s, '/');
	if (!slash)
		return berr_set(err, -EINVAL, "invalid %s \"%.80s\": expected ADDRESS/PREFIX", what, s);
	len = (size_t)(slash - s);
	if (len == 0 || len >= sizeof(addr))
		return berr_set(err, -EINVAL, "invalid %s \"%.80s\": bad address", what, s);
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (ip_parse(addr, &c.addr, NULL) < 0)
		return berr_set(err, -EINVAL, "invalid %s \"%.80s\": bad address \"%s\"", what, s,
				addr);
	c.prefix = prefix_parse(slash + 1, ip_bits(c.addr.family));
	if (c.prefix < 0)
		return berr_set(err, -EINVAL, "invalid %s \"%.80s\": prefix length must be 0..%d",
				what, s, ip_bits(c.addr.family));
	*ret = c;
	return 0;
}

int cidr_parse(const char *s, struct cidr *ret, struct berr *err)
{
	return cidr_parse_as(s, "CIDR", ret, err);
}

bool ip_is_v4_mapped(const struct ipaddr *a)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return a->family == AF_INET6 && !memcmp(a->b, prefix, sizeof(prefix));
}

/* Ranges no network can use: the kernel refuses their addresses on an interface, or they
 * already mean something on every host. */
static const struct {
	const char *cidr;
	const char *what;
} cidr_reserved[] = {
	{ "0.0.0.0/8", "\"this network\"" },
	{ "127.0.0.0/8", "loopback" },
	{ "224.0.0.0/4", "multicast" },
	{ "255.255.255.255/32", "broadcast" },
	{ "::/128", "unspecified address" },
	{ "::1/128", "loopback" },
	{ "::ffff:0:0/96", "IPv4-mapped" },
	{ "fe80::/10", "link-local" },
	{ "ff00::/8", "multicast" },
};

/* A subnet a network can use; s is the text, for the messages. */
static int cidr_subnet_check(const char *s, const struct cidr *c, struct berr *err)
{
	char v4[IP_STRLEN];
	struct cidr r;

	if (c->prefix == 0)
		return berr_set(err, -EINVAL, "invalid subnet %s: a subnet cannot span the whole "
				"address space", s);
	if (ip_is_v4_mapped(&c->addr) && c->prefix >= 96) {
		ip_from_u128(AF_INET, ip_to_u128(&c->addr) & 0xffffffff, &r.addr);
		return berr_set(err, -EINVAL, "invalid subnet %s: IPv4-mapped IPv6 addresses "
				"cannot be a subnet (the IPv4 subnet is %s/%d)", s, ip_fmt(&r.addr, v4),
				c->prefix - 96);
	}
	for (size_t i = 0; i < sizeof(cidr_reserved) / sizeof(cidr_reserved[0]); i++) {
		cidr_parse(cidr_reserved[i].cidr, &r, NULL);
		if (cidr_overlaps(c, &r))
			return berr_set(err, -EINVAL, "invalid subnet %s: it overlaps %s, the %s "
					"range", s, cidr_reserved[i].cidr, cidr_reserved[i].what);
	}
	return 0;
}

int cidr_parse_subnet(const char *s, struct cidr *ret, struct berr *err)
{
	char want[CIDR_STRLEN];
	struct cidr c, net;
	int r;

	r = cidr_parse_as(s, "subnet", &c, err);
	if (r < 0)
		return r;
	cidr_network(&c, &net);
	if (!ip_equal(&c.addr, &net.addr))
		return berr_set(err, -EINVAL, "invalid subnet %s: host bits set (did you mean %s?)", s,
				cidr_fmt(&net, want));
	r = cidr_subnet_check(s, &c, err);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

const char *cidr_fmt(const struct cidr *c, char buf[CIDR_STRLEN])
{
	char ip[IP_STRLEN];

	snprintf(buf, CIDR_STRLEN, "%s/%d", ip_fmt(&c->addr, ip), c->prefix);
	return buf;
}

unsigned __int128 cidr_span(const struct cidr *c)
{
	return low_mask(ip_bits(c->addr.family) - c->prefix);
}

void cidr_network(const struct cidr *c, struct cidr *ret)
{
	unsigned __int128 v = ip_to_u128(&c->addr) & ~cidr_span(c);
	int prefix = c->prefix;

	ip_from_u128(c->addr.family, v, &ret->addr);
	ret->prefix = prefix;
}

void cidr_first(const struct cidr *c, struct ipaddr *ret)
{
	ip_from_u128(c->addr.family, ip_to_u128(&c->addr) & ~cidr_span(c), ret);
}

void cidr_last(const struct cidr *c, struct ipaddr *ret)
{
	ip_from_u128(c->addr.family, ip_to_u128(&c->addr) | cidr_span(c), ret);
}

bool cidr_contains(const struct cidr *c, const struct ipaddr *a)
{
	unsigned __int128 mask;

	if (c->addr.family != a->family)
		return false;
	mask = ~cidr_span(c);
	return (ip_to_u128(&c->addr) & mask) == (ip_to_u128(a) & mask);
}

bool cidr_contains_cidr(const struct cidr *a, const struct cidr *b)
{
	return a->addr.family == b->addr.family && b->prefix >= a->prefix &&
	       cidr_contains(a, &b->addr);
}

bool cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
	if (a->addr.family != b->addr.family)
		return false;
	/* Two prefixes overlap exactly when the shorter one contains the longer one. */
	return a->prefix <= b->prefix ? cidr_contains(a, &b->addr) : cidr_contains(b, &a->addr);
}

int cidr_subnet_nth(const struct cidr *c, int new_prefix, unsigned __int128 n, struct cidr *ret)
{
	int bits = ip_bits(c->addr.family);
	int shift = bits - new_prefix;
	unsigned __int128 base;

	if (new_prefix < c->prefix || new_prefix > bits)
		return -ERANGE;
	if (n > low_mask(new_prefix - c->prefix))
		return -ERANGE;
	base = ip_to_u128(&c->addr) & ~cidr_span(c);
	if (shift < 128)
		base += n << shift;
	ip_from_u128(c->addr.family, base, &ret->addr);
	ret->prefix = new_prefix;
	return 0;
}
