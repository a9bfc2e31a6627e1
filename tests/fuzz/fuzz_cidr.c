/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for common/cidr.c: address and prefix parsing (plain, subnet), formatting
 * (what is printed parses back to the same value) and the 128-bit arithmetic (network, first,
 * last, contains, overlaps, n-th subnet) checked against each other.
 *
 * Input: "A" or "A|B"; A and B are tried as addresses and as prefixes. */
#include <stdlib.h>
#include <string.h>

#include "common/cidr.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_ip(const char *s)
{
	char buf[IP_STRLEN];
	struct ipaddr a, b;

	if (ip_parse(s, &a, NULL) < 0)
		return;
	if (ip_parse(ip_fmt(&a, buf), &b, NULL) < 0 || !ip_equal(&a, &b) || ip_cmp(&a, &b) != 0)
		abort();
	ip_from_u128(a.family, ip_to_u128(&a), &b);
	if (!ip_equal(&a, &b))
		abort();
}

/* The n-th subnet of a longer prefix lies inside n; n taken from the input's bytes. */
static void fuzz_subnets(const struct cidr *n, const char *s)
{
	unsigned __int128 idx = 0;
	struct cidr sub;
	int bits = ip_bits(n->addr.family);

	for (const char *p = s; *p; p++)
		idx = idx * 31 + (unsigned char)*p;
	for (int len = n->prefix; len <= bits; len += 7) {
		if (cidr_subnet_nth(n, len, idx, &sub) == 0 && !cidr_contains_cidr(n, &sub))
			abort();
		if (cidr_subnet_nth(n, len, 0, &sub) < 0 || !cidr_contains_cidr(n, &sub))
			abort();
	}
}

static bool fuzz_cidr_one(const char *s, struct cidr *ret)
{
	char buf[CIDR_STRLEN];
	struct cidr c, back, n;
	struct ipaddr first, last;

	if (cidr_parse(s, &c, NULL) < 0) {
		if (cidr_parse_subnet(s, &back, NULL) == 0)   /* a subnet is a CIDR first */
			abort();
		return false;
	}
	if (cidr_parse(cidr_fmt(&c, buf), &back, NULL) < 0 || !ip_equal(&c.addr, &back.addr) ||
	    c.prefix != back.prefix)
		abort();
	cidr_network(&c, &n);
	cidr_first(&c, &first);
	cidr_last(&c, &last);
	if (!cidr_contains(&n, &c.addr) || !cidr_contains(&c, &first) || !cidr_contains(&c, &last) ||
	    ip_cmp(&first, &last) > 0 || !ip_equal(&first, &n.addr) || !cidr_overlaps(&c, &n))
		abort();
	if (cidr_parse_subnet(s, &back, NULL) == 0 &&
	    (!ip_equal(&back.addr, &n.addr) || back.prefix == 0 || ip_is_v4_mapped(&back.addr)))
		abort();
	fuzz_subnets(&n, s);
	*ret = c;
	return true;
}

/* Two prefixes of one family overlap exactly when one contains the other. */
static void fuzz_pair(const struct cidr *a, const struct cidr *b)
{
	bool contains = cidr_contains_cidr(a, b) || cidr_contains_cidr(b, a);

	if (cidr_overlaps(a, b) != cidr_overlaps(b, a))
		abort();
	if (a->addr.family == b->addr.family && cidr_overlaps(a, b) != contains)
		abort();
	if (a->addr.family != b->addr.family && (cidr_overlaps(a, b) || contains))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = xmalloc(size + 1);
	struct cidr a, b;
	char *bar;
	bool ok_a, ok_b;

	memcpy(s, data, size);
	s[size] = '\0';
	bar = strchr(s, '|');
	if (bar)
		*bar++ = '\0';
	fuzz_ip(s);
	ok_a = fuzz_cidr_one(s, &a);
	if (!bar)
		return 0;
	fuzz_ip(bar);
	ok_b = fuzz_cidr_one(bar, &b);
	if (ok_a && ok_b)
		fuzz_pair(&a, &b);
	return 0;
}
