/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/cidr.c: parsing, formatting, containment and subnet arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/cidr.h"

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

/* Parse and format back: the canonical form must match `want`. */
static void check_ip_roundtrip(const char *in, const char *want)
{
	char buf[IP_STRLEN];
	struct ipaddr a = ip(in);

	assert_string_equal(ip_fmt(&a, buf), want);
}

static void test_ip_parse_valid(void **state)
{
	check_ip_roundtrip("10.0.0.1", "10.0.0.1");
	check_ip_roundtrip("0.0.0.0", "0.0.0.0");
	check_ip_roundtrip("255.255.255.255", "255.255.255.255");
	check_ip_roundtrip("::", "::");
	check_ip_roundtrip("::1", "::1");
	check_ip_roundtrip("fd00:0:0:0:0:0:0:1", "fd00::1");
	check_ip_roundtrip("FD00::A", "fd00::a");
	check_ip_roundtrip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	check_ip_roundtrip("::ffff:1.2.3.4", "::ffff:1.2.3.4");
	assert_int_equal(ip("::ffff:1.2.3.4").family, AF_INET6);
	assert_int_equal(ip("10.0.0.1").family, AF_INET);
}

static void test_ip_parse_invalid(void **state)
{
	static const char *bad[] = {
		"", "10.0.0", "10.0.0.256", "10.0.0.1 ", " 10.0.0.1", "10.0.0.1x", "010.0.0.1",
		"10.0.0.1/24", "1.2.3.4.5", ":::", "fd00::1::2", "fd00::g", "fe80::1%eth0", "[::1]",
		"-1.0.0.0", "fd00:0:0:0:0:0:0:0:1",
	};
	struct berr err = BERR_INIT;
	struct ipaddr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		berr_clear(&err);
		assert_int_equal(ip_parse(bad[i], &a, &err), -EINVAL);
		assert_true(err.msg[0] != '\0');
	}
}

static void test_ip_cmp_and_u128(void **state)
{
	struct ipaddr a = ip("10.0.0.1"), b = ip("10.0.0.2"), c = ip("::1"), d;

	assert_true(ip_cmp(&a, &b) < 0);
	assert_true(ip_cmp(&b, &a) > 0);
	assert_true(ip_cmp(&b, &c) < 0); /* IPv4 before IPv6 */
	assert_true(ip_cmp(&c, &a) > 0);
	assert_int_equal(ip_cmp(&a, &a), 0);
	assert_true(ip_equal(&a, &a));
	assert_false(ip_equal(&a, &b));
	assert_true(ip_to_u128(&a) == 0x0a000001);
	ip_from_u128(AF_INET, 0x0a000002, &d);
	assert_true(ip_equal(&d, &b));
	ip_from_u128(AF_INET6, 1, &d);
	assert_true(ip_equal(&d, &c));
	d = ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_true(ip_to_u128(&d) == ~(unsigned __int128)0);
}

static void test_cidr_parse_valid(void **state)
{
	char buf[CIDR_STRLEN];
	struct cidr c;

	c = net("10.0.0.1/24");
	assert_int_equal(c.prefix, 24);
	assert_string_equal(cidr_fmt(&c, buf), "10.0.0.1/24");
	c = net("0.0.0.0/0");
	assert_int_equal(c.prefix, 0);
	c = net("10.0.0.1/32");
	assert_int_equal(c.prefix, 32);
	c = net("::/0");
	assert_string_equal(cidr_fmt(&c, buf), "::/0");
	c = net("fd00:0:0:0::/64");
	assert_string_equal(cidr_fmt(&c, buf), "fd00::/64");
	c = net("::1/128");
	assert_int_equal(c.prefix, 128);
	c = net("::ffff:1.2.3.4/120");
	assert_int_equal(c.addr.family, AF_INET6);
}

static void test_cidr_parse_invalid(void **state)
{
	static const char *bad[] = {
		"", "10.0.0.0", "10.0.0.0/", "/24", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+24",
		"10.0.0.0/024", "10.0.0.0/24 ", "10.0.0.0/24x", "10.0.0.0/2 4", "10.0.0/24",
		"fd00::/129", "fd00::/1000", "fd00::/64/64", "10.0.0.0//24", " 10.0.0.0/24",
	};
	struct berr err = BERR_INIT;
	struct cidr c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		berr_clear(&err);
		assert_int_equal(cidr_parse(bad[i], &c, &err), -EINVAL);
		assert_true(err.msg[0] != '\0');
	}
}

static void test_cidr_parse_subnet(void **state)
{
	struct berr err = BERR_INIT;
	struct cidr c;

	assert_int_equal(cidr_parse_subnet("10.0.0.0/24", &c, &err), 0);
	assert_int_equal(cidr_parse_subnet("fd00::/64", &c, &err), 0);
	assert_int_equal(cidr_parse_subnet("10.0.0.1/32", &c, &err), 0);
	assert_int_equal(cidr_parse_subnet("10.0.0.1/24", &c, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "invalid subnet 10.0.0.1/24: host bits set (did you mean 10.0.0.0/24?)");
	berr_clear(&err);
	assert_int_equal(cidr_parse_subnet("fd00::1/64", &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "did you mean fd00::/64?"));
	assert_int_equal(cidr_parse_subnet("10.0.0.0/33", &c, &err), -EINVAL);
	assert_string_equal(err.msg, "invalid subnet \"10.0.0.0/33\": prefix length must be 0..32");
}

/* Subnets no network can use, each refused with a message that says why. */
static void test_cidr_parse_subnet_reserved(void **state)
{
	static const struct {
		const char *s, *want;
	} rows[] = {
		{ "0.0.0.0/0", "whole address space" },
		{ "::/0", "whole address space" },
		{ "::ffff:10.72.0.0/120", "IPv4 subnet is 10.72.0.0/24" },
		{ "::ffff:0:0/96", "IPv4 subnet is 0.0.0.0/0" },
		{ "::ffff:10.72.0.1/128", "IPv4 subnet is 10.72.0.1/32" },
		{ "::/64", "::/128, the unspecified address" },
		{ "::1/128", "::1/128, the loopback" },
		{ "::/95", "unspecified" },
		{ "0.0.0.0/8", "\"this network\"" },
		{ "0.1.0.0/16", "\"this network\"" },
		{ "127.0.0.0/8", "loopback" },
		{ "127.5.0.0/24", "loopback" },
		{ "96.0.0.0/3", "loopback" },
		{ "224.0.0.0/24", "multicast" },
		{ "128.0.0.0/1", "multicast" },
		{ "255.255.255.0/24", "broadcast" },
		{ "fe80::/64", "link-local" },
		{ "ff02::/64", "multicast" },
	};
	static const char *const good[] = {
		"10.0.0.0/8", "172.17.0.0/16", "192.168.0.0/30", "169.254.0.0/16", "100.64.0.0/10",
		"240.0.0.0/8", "1.0.0.0/8", "fd00::/8", "2001:db8::/32", "::2/127", "fec0::/10",
		"10.0.0.0/32", "fd00::/128",
	};
	struct berr err = BERR_INIT;
	struct cidr c;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		berr_clear(&err);
		assert_int_equal(cidr_parse_subnet(rows[i].s, &c, &err), -EINVAL);
		if (!strstr(err.msg, rows[i].want) || !strstr(err.msg, "invalid subnet"))
			fail_msg("%s: \"%s\" does not say \"%s\"", rows[i].s, err.msg, rows[i].want);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (cidr_parse_subnet(good[i], &c, &err) < 0)
			fail_msg("%s refused: %s", good[i], err.msg);
	/* cidr_parse() itself takes any prefix (routes, stored data). */
	assert_int_equal(cidr_parse("0.0.0.0/0", &c, &err), 0);
	assert_int_equal(cidr_parse("::ffff:10.0.0.0/120", &c, &err), 0);
}

static void test_ip_v4_mapped(void **state)
{
	struct ipaddr a;

	assert_int_equal(ip_parse("::ffff:10.1.2.3", &a, NULL), 0);
	assert_true(ip_is_v4_mapped(&a));
	assert_int_equal(ip_parse("::ffff:0:0", &a, NULL), 0);
	assert_true(ip_is_v4_mapped(&a));
	assert_int_equal(ip_parse("::fffe:10.1.2.3", &a, NULL), 0);
	assert_false(ip_is_v4_mapped(&a));
	assert_int_equal(ip_parse("10.1.2.3", &a, NULL), 0);
	assert_false(ip_is_v4_mapped(&a));
	assert_int_equal(ip_parse("fd00::ffff:a01:203", &a, NULL), 0);
	assert_false(ip_is_v4_mapped(&a));
}

static void test_cidr_first_last_span(void **state)
{
	char buf[IP_STRLEN];
	struct cidr c = net("10.1.2.3/16"), n;
	struct ipaddr a;

	cidr_network(&c, &n);
	assert_string_equal(ip_fmt(&n.addr, buf), "10.1.0.0");
	assert_int_equal(n.prefix, 16);
	cidr_first(&c, &a);
	assert_string_equal(ip_fmt(&a, buf), "10.1.0.0");
	cidr_last(&c, &a);
	assert_string_equal(ip_fmt(&a, buf), "10.1.255.255");
	assert_true(cidr_span(&c) == 65535);
	c = net("10.0.0.1/32");
	assert_true(cidr_span(&c) == 0);
	c = net("0.0.0.0/0");
	assert_true(cidr_span(&c) == 0xffffffffu);
	c = net("::/0");
	assert_true(cidr_span(&c) == ~(unsigned __int128)0);
	cidr_last(&c, &a);
	assert_string_equal(ip_fmt(&a, buf), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	c = net("fd00::/56");
	cidr_last(&c, &a);
	assert_string_equal(ip_fmt(&a, buf), "fd00::ff:ffff:ffff:ffff:ffff");
}

static void test_cidr_contains_overlaps(void **state)
{
	struct cidr a = net("10.0.0.0/16"), b = net("10.0.5.0/24"), c = net("10.1.0.0/24");
	struct cidr v6 = net("fd00::/64"), v6b = net("fd00::/48"), all4 = net("0.0.0.0/0");
	struct ipaddr x = ip("10.0.255.255"), y = ip("10.1.0.0"), z = ip("fd00::1");

	assert_true(cidr_contains(&a, &x));
	assert_false(cidr_contains(&a, &y));
	assert_false(cidr_contains(&a, &z));
	assert_true(cidr_contains(&v6, &z));
	assert_true(cidr_contains_cidr(&a, &b));
	assert_false(cidr_contains_cidr(&b, &a));
	assert_false(cidr_contains_cidr(&a, &c));
	assert_true(cidr_contains_cidr(&v6b, &v6));
	assert_false(cidr_contains_cidr(&a, &v6));
	assert_true(cidr_overlaps(&a, &b));
	assert_true(cidr_overlaps(&b, &a));
	assert_false(cidr_overlaps(&a, &c));
	assert_false(cidr_overlaps(&a, &v6));
	assert_true(cidr_overlaps(&v6, &v6b));
	assert_true(cidr_overlaps(&all4, &c));
	assert_false(cidr_overlaps(&all4, &v6));
}

static void test_cidr_subnet_nth(void **state)
{
	char buf[CIDR_STRLEN];
	struct cidr c = net("10.0.0.0/16"), r;

	assert_int_equal(cidr_subnet_nth(&c, 24, 0, &r), 0);
	assert_string_equal(cidr_fmt(&r, buf), "10.0.0.0/24");
	assert_int_equal(cidr_subnet_nth(&c, 24, 5, &r), 0);
	assert_string_equal(cidr_fmt(&r, buf), "10.0.5.0/24");
	assert_int_equal(cidr_subnet_nth(&c, 24, 255, &r), 0);
	assert_string_equal(cidr_fmt(&r, buf), "10.0.255.0/24");
	assert_int_equal(cidr_subnet_nth(&c, 24, 256, &r), -ERANGE);
	assert_int_equal(cidr_subnet_nth(&c, 15, 0, &r), -ERANGE);
	assert_int_equal(cidr_subnet_nth(&c, 33, 0, &r), -ERANGE);
	assert_int_equal(cidr_subnet_nth(&c, 16, 0, &r), 0);
	assert_string_equal(cidr_fmt(&r, buf), "10.0.0.0/16");
	assert_int_equal(cidr_subnet_nth(&c, 16, 1, &r), -ERANGE);
	c = net("fd00::/48");
	assert_int_equal(cidr_subnet_nth(&c, 64, 0xffff, &r), 0);
	assert_string_equal(cidr_fmt(&r, buf), "fd00:0:0:ffff::/64");
	assert_int_equal(cidr_subnet_nth(&c, 64, 0x10000, &r), -ERANGE);
	c = net("::/0");
	assert_int_equal(cidr_subnet_nth(&c, 128, ~(unsigned __int128)0, &r), 0);
	assert_string_equal(cidr_fmt(&r, buf), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_int_equal(cidr_subnet_nth(&c, 0, 0, &r), 0);
	assert_int_equal(cidr_subnet_nth(&c, 0, 1, &r), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_parse_valid),
		cmocka_unit_test(test_ip_parse_invalid),
		cmocka_unit_test(test_ip_cmp_and_u128),
		cmocka_unit_test(test_cidr_parse_valid),
		cmocka_unit_test(test_cidr_parse_invalid),
		cmocka_unit_test(test_cidr_parse_subnet),
		cmocka_unit_test(test_cidr_parse_subnet_reserved),
		cmocka_unit_test(test_ip_v4_mapped),
		cmocka_unit_test(test_cidr_first_last_span),
		cmocka_unit_test(test_cidr_contains_overlaps),
		cmocka_unit_test(test_cidr_subnet_nth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
