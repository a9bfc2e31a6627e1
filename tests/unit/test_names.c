/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/names.c: IDs, name rules, interface names and MAC addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/names.h"

#define NET_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define NET_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define CTR_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void test_id_generate(void **state)
{
	char a[ID_LEN + 1], b[ID_LEN + 1];

	id_generate(a);
	id_generate(b);
	assert_int_equal(strlen(a), ID_LEN);
	assert_true(id_is_valid(a));
	assert_true(id_is_valid(b));
	assert_string_not_equal(a, b);
}

static void test_id_is_valid(void **state)
{
	assert_true(id_is_valid(NET_A));
	assert_false(id_is_valid(""));
	assert_false(id_is_valid(NULL));
	assert_false(id_is_valid("0123456789abcdef"));
	assert_false(id_is_valid(NET_A "0"));
	assert_false(id_is_valid("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(id_is_valid("0123456789abcdeg0123456789abcdef0123456789abcdef0123456789abcdef"));
}

static void test_name_validate_accept(void **state)
{
	static const char *good[] = { "a", "my-net", "My_Net.2", "0abc", "a..b", "x-", "9" };
	char longest[NAME_LEN];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(name_validate("network", good[i], NULL), 0);
	memset(longest, 'a', NAME_LEN - 1);
	longest[NAME_LEN - 1] = '\0';
	assert_int_equal(name_validate("container", longest, NULL), 0);
}

static void test_name_validate_refuse(void **state)
{
	static const char *bad[] = { "", "a b", "-net", ".net", "_net", "net/1", "nét", "a:b",
				     "a\n", "a*" };
	char toolong[NAME_LEN + 1];
	struct berr err = BERR_INIT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		berr_clear(&err);
		assert_int_equal(name_validate("network", bad[i], &err), -EINVAL);
		assert_non_null(strstr(err.msg, "network name"));
	}
	assert_int_equal(name_validate("network", "a b", &err), -EINVAL);
	assert_string_equal(err.msg,
			    "invalid network name \"a b\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
	memset(toolong, 'a', NAME_LEN);
	toolong[NAME_LEN] = '\0';
	assert_int_equal(name_validate("container", toolong, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "container name"));
}

static void test_ifname_validate(void **state)
{
	struct berr err = BERR_INIT;

	assert_int_equal(ifname_validate("eth0", &err), 0);
	assert_int_equal(ifname_validate("123456789012345", &err), 0);
	assert_int_equal(ifname_validate("1234567890123456", &err), -EINVAL);
	assert_int_equal(ifname_validate("", &err), -EINVAL);
	assert_int_equal(ifname_validate(".", &err), -EINVAL);
	assert_int_equal(ifname_validate("..", &err), -EINVAL);
	assert_int_equal(ifname_validate("a/b", &err), -EINVAL);
	assert_int_equal(ifname_validate("a b", &err), -EINVAL);
	assert_int_equal(ifname_validate("a\tb", &err), -EINVAL);
}

/* Bytes a message cannot show (invalid UTF-8, control characters, quotes) come back as \xNN:
 * the message is printable ASCII whatever the name was. */
static void test_name_messages_escaped(void **state)
{
	struct berr err = BERR_INIT;
	char toolong[300];

	assert_int_equal(name_validate("network", "x\xff\xfe", &err), -EINVAL);
	assert_string_equal(err.msg, "invalid network name \"x\\xff\\xfe\": only "
			    "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
	assert_int_equal(name_validate("alias", "a\"b\\c\n", &err), -EINVAL);
	assert_string_equal(err.msg, "invalid alias name \"a\\x22b\\x5cc\\x0a\": only "
			    "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
	memset(toolong, 'a', sizeof(toolong));
	toolong[30] = '\xc3'; /* a two-byte sequence cut by the 32-byte excerpt stays escaped */
	toolong[31] = '\xa9';
	toolong[sizeof(toolong) - 1] = '\0';
	assert_int_equal(name_validate("container", toolong, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "aaaa\\xc3\\xa9...\": 299 characters, at most 127"));
	assert_int_equal(ifname_validate("br\xff x", &err), -EINVAL);
	assert_string_equal(err.msg, "invalid interface name \"br\\xff x\": '/', ':', whitespace "
			    "and control characters are not allowed");
	assert_int_equal(ifname_validate("abcdefghijklmno\xff", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "\"abcdefghijklmno\\xff\": 16 characters, at most 15"));
}

static void test_ifname_bridge(void **state)
{
	char name[IFNAME_LEN];

	ifname_bridge(NET_A, name);
	assert_string_equal(name, "br-0123456789ab");
	assert_true(strlen(name) <= 15);
	assert_int_equal(ifname_validate(name, NULL), 0);
}

static void test_ifname_veth_host(void **state)
{
	char a[IFNAME_LEN], b[IFNAME_LEN], c[IFNAME_LEN], d[IFNAME_LEN];

	ifname_veth_host(NET_A, CTR_A, a);
	ifname_veth_host(NET_A, CTR_A, b);
	ifname_veth_host(NET_B, CTR_A, c);
	ifname_veth_host(CTR_A, NET_A, d);
	assert_int_equal(strlen(a), 15);
	assert_memory_equal(a, "bv", 2);
	for (size_t i = 2; i < 15; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	assert_int_equal(ifname_validate(a, NULL), 0);
}

static void test_ifname_spill(void **state)
{
	char br[IFNAME_LEN], trunk[IFNAME_LEN], up[IFNAME_LEN];

	ifname_spill_bridge(NET_A, 1, br);
	ifname_spill_trunk(NET_A, 1, trunk);
	ifname_spill_uplink(NET_A, 0xabc, up);
	assert_string_equal(br, "bx0123456789001");
	assert_string_equal(trunk, "by0123456789001");
	assert_string_equal(up, "bz0123456789abc");
	assert_int_equal(ifname_validate(br, NULL), 0);
}

static void test_mac(void **state)
{
	uint8_t m1[6], m2[6], m3[6], parsed[6];
	char buf[18];
	struct berr err = BERR_INIT;

	mac_from_seed("endpoint-1", m1);
	mac_from_seed("endpoint-1", m2);
	mac_from_seed("endpoint-2", m3);
	assert_memory_equal(m1, m2, 6);
	assert_memory_not_equal(m1, m3, 6);
	assert_int_equal(m1[0], 0x02);
	assert_true(m1[0] & 0x02);    /* locally administered */
	assert_false(m1[0] & 0x01);   /* unicast */
	mac_fmt(m1, buf);
	assert_int_equal(strlen(buf), 17);
	assert_int_equal(mac_parse(buf, parsed, &err), 0);
	assert_memory_equal(parsed, m1, 6);
	assert_int_equal(mac_parse("02:AB:cd:00:11:ff", parsed, &err), 0);
	mac_fmt(parsed, buf);
	assert_string_equal(buf, "02:ab:cd:00:11:ff");
	assert_int_equal(mac_parse("02:ab:cd:00:11", parsed, &err), -EINVAL);
	assert_int_equal(mac_parse("02-ab-cd-00-11-ff", parsed, &err), -EINVAL);
	assert_int_equal(mac_parse("02:ab:cd:00:11:fg", parsed, &err), -EINVAL);
	assert_int_equal(mac_parse("02:ab:cd:00:11:ff ", parsed, &err), -EINVAL);
}

static void test_mac_from_ip4(void **state)
{
	const uint8_t ip[4] = { 10, 77, 1, 255 };
	uint8_t mac[6];
	char buf[18];

	mac_from_ip4(ip, mac);
	mac_fmt(mac, buf);
	assert_string_equal(buf, "02:42:0a:4d:01:ff");
}

static void test_hash64(void **state)
{
	/* FNV-1a 64 reference values (seed 0 = the standard offset basis). */
	assert_true(hash64("", 0, 0) == 0xcbf29ce484222325ULL);
	assert_true(hash64("a", 1, 0) == 0xaf63dc4c8601ec8cULL);
	assert_true(hash64("a", 1, 1) != hash64("a", 1, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_generate),
		cmocka_unit_test(test_id_is_valid),
		cmocka_unit_test(test_name_validate_accept),
		cmocka_unit_test(test_name_validate_refuse),
		cmocka_unit_test(test_ifname_validate),
		cmocka_unit_test(test_name_messages_escaped),
		cmocka_unit_test(test_ifname_bridge),
		cmocka_unit_test(test_ifname_veth_host),
		cmocka_unit_test(test_ifname_spill),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_mac_from_ip4),
		cmocka_unit_test(test_hash64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
