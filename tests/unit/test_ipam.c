/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for ipam/ipam.c: pools of one subnet, default pools and the ULA prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ipam/ipam.h"

static struct ipaddr ip(const char *s)
{
	struct ipaddr a;

	assert_int_equal(ip_parse(s, &a, NULL), 0);
	return a;
}

static struct cidr net(const char *s)
{
	struct cidr c;

	assert_int_equal(cidr_parse(s, &c, NULL), 0);
	return c;
}

static void pool_init(struct ipam_pool *p, const char *subnet, const char *range)
{
	struct cidr s = net(subnet), r;
	struct berr err = BERR_INIT;

	if (range)
		r = net(range);
	assert_int_equal(ipam_pool_init(p, &s, range ? &r : NULL, &err), 0);
}

static void expect_alloc(struct ipam_pool *p, const char *want)
{
	struct berr err = BERR_INIT;
	char buf[IP_STRLEN];
	struct ipaddr a;

	assert_int_equal(ipam_pool_alloc(p, &a, &err), 0);
	assert_string_equal(ip_fmt(&a, buf), want);
	assert_true(ipam_pool_taken(p, &a));
}

static void expect_reserve(struct ipam_pool *p, const char *addr, int code, const char *msg)
{
	struct berr err = BERR_INIT;
	struct ipaddr a = ip(addr);

	assert_int_equal(ipam_pool_reserve(p, &a, &err), code);
	if (msg)
		assert_string_equal(err.msg, msg);
}

static void release(struct ipam_pool *p, const char *addr)
{
	struct ipaddr a = ip(addr);

	ipam_pool_release(p, &a);
	assert_false(ipam_pool_taken(p, &a));
}

static void test_pool_init_errors(void **state)
{
	static const char *small[] = { "10.0.0.0/31", "10.0.0.1/32", "fd00::/127", "fd00::1/128" };
	struct cidr s = net("10.0.0.0/24"), r;
	struct berr err = BERR_INIT;
	struct ipam_pool p;

	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		struct cidr c = net(small[i]);

		assert_int_equal(ipam_pool_init(&p, &c, NULL, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "too small"));
	}
	r = net("10.0.1.0/25");
	assert_int_equal(ipam_pool_init(&p, &s, &r, &err), -EINVAL);
	r = net("10.0.0.0/23");
	assert_int_equal(ipam_pool_init(&p, &s, &r, &err), -EINVAL);
	r = net("fd00::/64");
	assert_int_equal(ipam_pool_init(&p, &s, &r, &err), -EINVAL);
	s = net("10.0.0.1/24");
	assert_int_equal(ipam_pool_init(&p, &s, NULL, &err), -EINVAL);
	s = net("10.0.0.0/30");
	assert_int_equal(ipam_pool_init(&p, &s, NULL, &err), 0);
	ipam_pool_free(&p);
	ipam_pool_free(NULL);
}

static void test_exhaust_29(void **state)
{
	struct berr err = BERR_INIT;
	struct ipam_pool p;
	struct ipaddr a;

	pool_init(&p, "10.0.0.0/29", NULL);
	for (int i = 1; i <= 6; i++) {
		char want[32];

		snprintf(want, sizeof(want), "10.0.0.%d", i);
		expect_alloc(&p, want);
	}
	assert_int_equal(ipam_pool_alloc(&p, &a, &err), -ENOSPC);
	assert_string_equal(err.msg, "no free address in 10.0.0.0/29");
	assert_int_equal(p.n_taken, 6);
	/* Reuse after release. */
	release(&p, "10.0.0.3");
	expect_alloc(&p, "10.0.0.3");
	ipam_pool_free(&p);

	/* With the gateway reserved, five addresses remain. */
	pool_init(&p, "10.0.0.0/29", NULL);
	ipam_default_gateway(&p.subnet, &a);
	assert_int_equal(ipam_pool_reserve(&p, &a, &err), 0);
	for (int i = 2; i <= 6; i++)
		assert_int_equal(ipam_pool_alloc(&p, &a, &err), 0);
	assert_int_equal(ipam_pool_alloc(&p, &a, &err), -ENOSPC);
	ipam_pool_free(&p);
}

static void test_cursor_no_immediate_reuse(void **state)
{
	struct ipam_pool p;

	pool_init(&p, "10.0.0.0/24", NULL);
	expect_alloc(&p, "10.0.0.1");
	expect_alloc(&p, "10.0.0.2");
	release(&p, "10.0.0.2");
	expect_alloc(&p, "10.0.0.3");
	release(&p, "10.0.0.1");
	expect_alloc(&p, "10.0.0.4");
	/* Releasing a free address is not an error. */
	release(&p, "10.0.0.100");
	release(&p, "fd00::1");
	ipam_pool_free(&p);
}

static void test_wrap_around(void **state)
{
	struct ipam_pool p;

	pool_init(&p, "10.0.0.0/29", NULL);
	for (int i = 1; i <= 6; i++) {
		struct ipaddr a;

		assert_int_equal(ipam_pool_alloc(&p, &a, NULL), 0);
	}
	release(&p, "10.0.0.2");
	release(&p, "10.0.0.5");
	expect_alloc(&p, "10.0.0.2"); /* after .6 the search wraps to the start */
	expect_alloc(&p, "10.0.0.5");
	ipam_pool_free(&p);
}

static void test_reserve_refused(void **state)
{
	struct ipam_pool p;
	struct ipaddr a;

	pool_init(&p, "10.0.0.0/24", NULL);
	expect_reserve(&p, "10.0.0.5", 0, NULL);
	expect_reserve(&p, "10.0.0.5", -EADDRINUSE, "address 10.0.0.5 is already in use");
	expect_reserve(&p, "10.1.0.5", -EINVAL, "address 10.1.0.5 is outside subnet 10.0.0.0/24");
	expect_reserve(&p, "10.0.0.255", -EINVAL,
		       "10.0.0.255 is the broadcast address of 10.0.0.0/24");
	expect_reserve(&p, "10.0.0.0", -EINVAL, "10.0.0.0 is the network address of 10.0.0.0/24");
	expect_reserve(&p, "fd00::5", -EINVAL, NULL);
	expect_reserve(&p, "10.0.0.254", 0, NULL);
	a = ip("10.0.0.254");
	assert_true(ipam_pool_usable(&p, &a));
	a = ip("10.0.0.255");
	assert_false(ipam_pool_usable(&p, &a));
	a = ip("10.0.0.0");
	assert_false(ipam_pool_usable(&p, &a));
	a = ip("10.0.1.1");
	assert_false(ipam_pool_usable(&p, &a));
	/* Dynamic allocation skips the reserved address. */
	expect_reserve(&p, "10.0.0.1", 0, NULL);
	expect_alloc(&p, "10.0.0.2");
	ipam_pool_free(&p);

	/* IPv6: the subnet-router anycast is refused, the last address is usable. */
	pool_init(&p, "fd00::/64", NULL);
	expect_reserve(&p, "fd00::", -EINVAL, NULL);
	expect_reserve(&p, "fd00::ffff:ffff:ffff:ffff", 0, NULL);
	ipam_pool_free(&p);
}

static void test_ip_range(void **state)
{
	struct berr err = BERR_INIT;
	struct ipam_pool p;
	struct ipaddr a;

	pool_init(&p, "10.0.0.0/24", "10.0.0.128/30");
	expect_alloc(&p, "10.0.0.128");
	expect_alloc(&p, "10.0.0.129");
	expect_alloc(&p, "10.0.0.130");
	expect_alloc(&p, "10.0.0.131");
	assert_int_equal(ipam_pool_alloc(&p, &a, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "no free address in 10.0.0.0/24"));
	/* Static addresses may lie outside the range. */
	expect_reserve(&p, "10.0.0.7", 0, NULL);
	ipam_pool_free(&p);

	pool_init(&p, "10.0.0.0/24", "10.0.0.252/30");
	expect_alloc(&p, "10.0.0.252");
	expect_alloc(&p, "10.0.0.253");
	expect_alloc(&p, "10.0.0.254");
	assert_int_equal(ipam_pool_alloc(&p, &a, &err), -ENOSPC);
	ipam_pool_free(&p);

	pool_init(&p, "10.0.0.0/24", "10.0.0.0/30");
	expect_alloc(&p, "10.0.0.1");
	expect_alloc(&p, "10.0.0.2");
	expect_alloc(&p, "10.0.0.3");
	assert_int_equal(ipam_pool_alloc(&p, &a, &err), -ENOSPC);
	ipam_pool_free(&p);
}

static void test_ipv6_64bit_boundary(void **state)
{
	char buf[IP_STRLEN];
	struct ipam_pool p;

	pool_init(&p, "fd00::/56", NULL);
	p.cursor = ip("fd00::ffff:ffff:ffff:fffe");
	expect_alloc(&p, "fd00::ffff:ffff:ffff:ffff");
	expect_alloc(&p, "fd00:0:0:1::");
	expect_alloc(&p, "fd00:0:0:1::1");
	ipam_pool_free(&p);

	/* A run of taken addresses across the boundary is jumped over. */
	pool_init(&p, "fd00::/56", NULL);
	for (int i = 0; i < 16; i++) {
		snprintf(buf, sizeof(buf), "fd00::ffff:ffff:ffff:fff%x", i);
		expect_reserve(&p, buf, 0, NULL);
		snprintf(buf, sizeof(buf), "fd00:0:0:1::%x", i);
		expect_reserve(&p, buf, 0, NULL);
	}
	p.cursor = ip("fd00::ffff:ffff:ffff:ffef");
	expect_alloc(&p, "fd00:0:0:1::10");
	ipam_pool_free(&p);

	/* A range straddling the boundary, and wrapping from its end to its start. */
	pool_init(&p, "fd00::/56", "fd00::/63");
	p.cursor = ip("fd00::ffff:ffff:ffff:ffff");
	expect_alloc(&p, "fd00:0:0:1::");
	p.cursor = ip("fd00:0:0:1:ffff:ffff:ffff:fffe");
	expect_alloc(&p, "fd00::1:ffff:ffff:ffff:ffff");
	expect_alloc(&p, "fd00::1"); /* wrapped; fd00:: is the subnet-router anycast */
	ipam_pool_free(&p);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_ipv6_large(void **state)
{
	struct berr err = BERR_INIT;
	double start = now_s();
	char buf[IP_STRLEN];
	struct ipam_pool p;
	struct ipaddr a;

	pool_init(&p, "fd00::/64", NULL);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(ipam_pool_alloc(&p, &a, &err), 0);
	assert_string_equal(ip_fmt(&a, buf), "fd00::2710");
	/* Back at the start, the next search must jump the whole run in one pass. */
	p.cursor = ip("fd00::ffff:ffff:ffff:ffff");
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(ipam_pool_alloc(&p, &a, &err), 0);
		ipam_pool_release(&p, &a);
		p.cursor = ip("fd00::ffff:ffff:ffff:ffff");
	}
	assert_string_equal(ip_fmt(&a, buf), "fd00::2711");
	assert_true(now_s() - start < 2.0);
	ipam_pool_free(&p);

	/* The whole IPv6 space: the cursor at the very top wraps without overflow. */
	pool_init(&p, "::/0", NULL);
	p.cursor = ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	expect_alloc(&p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	expect_alloc(&p, "::1");
	ipam_pool_free(&p);
}

static void expect_usage(const struct ipam_pool *p, uint64_t size, uint64_t in_use,
			 uint64_t range_size, uint64_t free_)
{
	struct ipam_usage u;

	ipam_pool_usage(p, &u);
	assert_true(u.size == size);
	assert_true(u.in_use == in_use);
	assert_true(u.range_size == range_size);
	assert_true(u.free == free_);
}

static void test_usage(void **state)
{
	struct ipam_pool p;
	struct ipam_usage u;
	struct ipaddr a;

	pool_init(&p, "10.0.0.0/24", NULL);
	expect_usage(&p, 254, 0, 254, 254);
	expect_reserve(&p, "10.0.0.1", 0, NULL);
	expect_alloc(&p, "10.0.0.2");
	expect_usage(&p, 254, 2, 254, 252);
	ipam_pool_free(&p);

	/* a range: the gateway outside it is in use but takes nothing from it; the range holds the
	 * broadcast address, which is never handed out */
	pool_init(&p, "10.0.0.0/24", "10.0.0.128/25");
	expect_reserve(&p, "10.0.0.1", 0, NULL);
	expect_reserve(&p, "10.0.0.200", 0, NULL);
	expect_usage(&p, 254, 2, 127, 126);
	ipam_pool_free(&p);

	/* a /30: two usable addresses, both taken: nothing free */
	pool_init(&p, "10.0.0.0/30", NULL);
	expect_reserve(&p, "10.0.0.1", 0, NULL);
	expect_alloc(&p, "10.0.0.2");
	expect_usage(&p, 2, 2, 2, 0);
	assert_int_equal(ipam_pool_alloc(&p, &a, NULL), -ENOSPC);
	ipam_pool_free(&p);

	/* IPv6: no broadcast; a /64 holds 2^64 - 1 usable addresses */
	pool_init(&p, "fd00::/64", NULL);
	expect_reserve(&p, "fd00::1", 0, NULL);
	ipam_pool_usage(&p, &u);
	assert_true(u.size == ((unsigned __int128)1 << 64) - 1);
	assert_true(u.free == ((unsigned __int128)1 << 64) - 2);
	ipam_pool_free(&p);
}

static void test_default_gateway(void **state)
{
	struct cidr c = net("10.0.0.0/24");
	char buf[IP_STRLEN];
	struct ipaddr a;

	ipam_default_gateway(&c, &a);
	assert_string_equal(ip_fmt(&a, buf), "10.0.0.1");
	c = net("fd00:1::/64");
	ipam_default_gateway(&c, &a);
	assert_string_equal(ip_fmt(&a, buf), "fd00:1::1");
}

static void test_builtin_pools(void **state)
{
	struct ipam_default_pool pools[32];
	char buf[CIDR_STRLEN];
	size_t n = ipam_builtin_pools(pools, 32);

	assert_int_equal(n, 16);
	assert_string_equal(cidr_fmt(&pools[0].base, buf), "172.17.0.0/16");
	assert_int_equal(pools[0].size, 16);
	assert_string_equal(cidr_fmt(&pools[14].base, buf), "172.31.0.0/16");
	assert_string_equal(cidr_fmt(&pools[15].base, buf), "192.168.0.0/16");
	assert_int_equal(pools[15].size, 20);
	assert_int_equal(ipam_builtin_pools(pools, 3), 3);
}

static void expect_pick(const struct ipam_default_pool *pools, size_t n, int family,
			const char **avoid_s, size_t n_avoid, const char *want)
{
	struct berr err = BERR_INIT;
	struct cidr avoid[64], got;
	char buf[CIDR_STRLEN];

	for (size_t i = 0; i < n_avoid; i++)
		avoid[i] = net(avoid_s[i]);
	if (!want) {
		assert_int_equal(ipam_pick_subnet(pools, n, family, avoid, n_avoid, &got, &err),
				 -ENOSPC);
		assert_true(err.msg[0] != '\0');
		return;
	}
	assert_int_equal(ipam_pick_subnet(pools, n, family, avoid, n_avoid, &got, &err), 0);
	assert_string_equal(cidr_fmt(&got, buf), want);
}

static void test_pick_subnet_builtin(void **state)
{
	static const char *a1[] = { "172.17.0.0/16" };
	static const char *a2[] = { "fd00::/8", "172.17.5.0/24", "0.0.0.0/32" };
	static const char *a3[] = { "172.16.0.0/12" };
	static const char *a4[] = { "172.16.0.0/12", "192.168.0.0/20", "192.168.20.1/32" };
	static const char *a5[] = { "172.16.0.0/12", "192.168.0.0/16" };
	struct ipam_default_pool pools[16];
	const char *a15[15];
	char names[15][32];
	size_t n = ipam_builtin_pools(pools, 16);

	expect_pick(pools, n, AF_INET, NULL, 0, "172.17.0.0/16");
	expect_pick(pools, n, AF_INET, a1, 1, "172.18.0.0/16");
	expect_pick(pools, n, AF_INET, a2, 3, "172.18.0.0/16");
	expect_pick(pools, n, AF_INET, a3, 1, "192.168.0.0/20");
	expect_pick(pools, n, AF_INET, a4, 3, "192.168.32.0/20");
	expect_pick(pools, n, AF_INET, a5, 2, NULL);
	expect_pick(pools, n, AF_INET6, NULL, 0, NULL);
	for (int i = 0; i < 15; i++) {
		snprintf(names[i], sizeof(names[i]), "172.%d.0.0/16", 17 + i);
		a15[i] = names[i];
	}
	expect_pick(pools, n, AF_INET, a15, 15, "192.168.0.0/20");
}

static void test_pick_subnet_large_pool(void **state)
{
	static const char *a1[] = { "10.0.0.0/9" };
	static const char *a2[] = { "10.0.0.0/8" };
	static const char *a3[] = { "10.0.0.4/30", "10.0.0.0/30", "10.0.0.9/32" };
	static const char *a4[] = { "10.0.0.0/9", "10.128.0.0/10", "10.192.0.0/10" };
	static const char *a6[] = { "fd00::/48", "fd00:0:1::/64", "fd00:0:1:1::/64" };
	struct ipam_default_pool pool, pool6;
	double start = now_s();

	assert_int_equal(ipam_default_pool_parse("base=10.0.0.0/8,size=30", &pool, NULL), 0);
	expect_pick(&pool, 1, AF_INET, NULL, 0, "10.0.0.0/30");
	expect_pick(&pool, 1, AF_INET, a1, 1, "10.128.0.0/30");
	expect_pick(&pool, 1, AF_INET, a2, 1, NULL);
	expect_pick(&pool, 1, AF_INET, a3, 3, "10.0.0.12/30");
	expect_pick(&pool, 1, AF_INET, a4, 3, NULL);
	assert_int_equal(ipam_default_pool_parse("base=fd00::/8,size=64", &pool6, NULL), 0);
	expect_pick(&pool6, 1, AF_INET6, a6, 3, "fd00:0:1:2::/64");
	assert_true(now_s() - start < 1.0);
}

static void test_default_pool_parse(void **state)
{
	static const char *bad[] = {
		"", "base=10.10.0.0/16", "size=24", "base=10.10.0.0/16,size=8",
		"base=10.10.0.0/16,size=33", "base=10.10.0.1/16,size=24", "base=10.10.0.0/16,size=2x",
		"base=10.10.0.0/16,size=-24", "base=10.10.0.0/16,size=24,color=red",
		"base=10.10.0.0/16;size=24", "base=fd00::/48,size=129", "base=nope/16,size=24",
	};
	struct ipam_default_pool pool;
	struct berr err = BERR_INIT;
	char buf[CIDR_STRLEN];

	assert_int_equal(ipam_default_pool_parse("base=10.10.0.0/16,size=24", &pool, &err), 0);
	assert_string_equal(cidr_fmt(&pool.base, buf), "10.10.0.0/16");
	assert_int_equal(pool.size, 24);
	assert_int_equal(ipam_default_pool_parse("size=16,base=10.10.0.0/16", &pool, &err), 0);
	assert_int_equal(pool.size, 16);
	assert_int_equal(ipam_default_pool_parse("base=fd00::/48,size=64", &pool, &err), 0);
	assert_int_equal(pool.base.addr.family, AF_INET6);
	assert_int_equal(ipam_default_pool_parse("base=10.0.0.0/8,size=32", &pool, &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		berr_clear(&err);
		assert_int_equal(ipam_default_pool_parse(bad[i], &pool, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "invalid default address pool"));
	}
	ipam_default_pool_parse("base=10.10.0.1/16,size=24", &pool, &err);
	assert_non_null(strstr(err.msg, "did you mean 10.10.0.0/16?"));
}

static void test_ula(void **state)
{
	static const char id1[] = "0123456789abcdef0123456789abcdef";
	static const char id2[] = "fedcba9876543210fedcba9876543210";
	struct cidr p1, p1b, p2, got, avoid[3];
	struct berr err = BERR_INIT;
	char buf[CIDR_STRLEN], want[CIDR_STRLEN];

	ipam_ula_prefix(id1, strlen(id1), &p1);
	ipam_ula_prefix(id1, strlen(id1), &p1b);
	ipam_ula_prefix(id2, strlen(id2), &p2);
	assert_int_equal(p1.addr.family, AF_INET6);
	assert_int_equal(p1.prefix, 48);
	assert_int_equal(p1.addr.b[0], 0xfd);
	assert_true(ip_equal(&p1.addr, &p1b.addr));
	assert_false(ip_equal(&p1.addr, &p2.addr));
	for (int i = 6; i < 16; i++)
		assert_int_equal(p1.addr.b[i], 0);

	assert_int_equal(ipam_pick_ula64(id1, strlen(id1), NULL, 0, &got, &err), 0);
	assert_int_equal(got.prefix, 64);
	assert_true(cidr_contains_cidr(&p1, &got));
	assert_true(ip_equal(&got.addr, &p1.addr));

	avoid[0] = net("10.0.0.0/8");
	avoid[1] = got;
	assert_int_equal(cidr_subnet_nth(&p1, 64, 2, &avoid[2]), 0);
	avoid[2].prefix = 63; /* covers subnet ids 2 and 3 */
	assert_int_equal(ipam_pick_ula64(id1, strlen(id1), avoid, 3, &got, &err), 0);
	assert_int_equal(cidr_subnet_nth(&p1, 64, 1, &p1b), 0);
	assert_string_equal(cidr_fmt(&got, buf), cidr_fmt(&p1b, want));
	avoid[1].prefix = 62; /* ids 0..3 */
	assert_int_equal(ipam_pick_ula64(id1, strlen(id1), avoid, 3, &got, &err), 0);
	assert_int_equal(cidr_subnet_nth(&p1, 64, 4, &p1b), 0);
	assert_string_equal(cidr_fmt(&got, buf), cidr_fmt(&p1b, want));

	avoid[1] = p1;
	assert_int_equal(ipam_pick_ula64(id1, strlen(id1), avoid, 2, &got, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, cidr_fmt(&p1, buf)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_init_errors),
		cmocka_unit_test(test_exhaust_29),
		cmocka_unit_test(test_cursor_no_immediate_reuse),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_reserve_refused),
		cmocka_unit_test(test_ip_range),
		cmocka_unit_test(test_ipv6_64bit_boundary),
		cmocka_unit_test(test_ipv6_large),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_default_gateway),
		cmocka_unit_test(test_builtin_pools),
		cmocka_unit_test(test_pick_subnet_builtin),
		cmocka_unit_test(test_pick_subnet_large_pool),
		cmocka_unit_test(test_default_pool_parse),
		cmocka_unit_test(test_ula),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
