/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes and CPU counts as the CLI reads and prints them (cli/units.c), and the cgroup v2
 * conversion of CPU shares (runtime). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/units.c"
#include "common/util.h"
#include "runtime/runtime.h"

static void test_bytes_parse(void **state)
{
	static const struct {
		const char *in;
		int64_t out;
	} good[] = {
		{ "0", 0 }, { "1024", 1024 }, { "1024b", 1024 }, { "64m", 64LL << 20 },
		{ "64M", 64LL << 20 }, { "64mb", 64LL << 20 }, { "64MB", 64LL << 20 },
		{ "1g", 1LL << 30 }, { "512k", 512LL << 10 }, { "2t", 2LL << 40 },
	};
	static const char *const bad[] = { "", "m", "-1", "1.5g", "12q", "64mbb", "64bb", "1 m",
					   "99999999999999999999", "5000000p" };
	int64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(units_bytes_parse(good[i].in, &v), 0);
		assert_int_equal(v, good[i].out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_true(units_bytes_parse(bad[i], &v) < 0);
}

static void test_cpus_parse(void **state)
{
	int64_t v;

	assert_int_equal(units_cpus_parse("0.5", &v), 0);
	assert_int_equal(v, 500000000);
	assert_int_equal(units_cpus_parse("2", &v), 0);
	assert_int_equal(v, 2000000000);
	assert_int_equal(units_cpus_parse(".25", &v), 0);
	assert_int_equal(v, 250000000);
	assert_int_equal(units_cpus_parse("1.000000001", &v), 0);
	assert_int_equal(v, 1000000001);
	assert_true(units_cpus_parse("1.0000000001", &v) < 0);
	assert_true(units_cpus_parse("half", &v) < 0);
	assert_true(units_cpus_parse(".", &v) < 0);
	assert_true(units_cpus_parse("-1", &v) < 0);
	assert_true(units_cpus_parse("", &v) < 0);
}

static void test_human(void **state)
{
	char buf[32];

	units_human(0, buf, sizeof(buf));
	assert_string_equal(buf, "0B");
	units_human(648, buf, sizeof(buf));
	assert_string_equal(buf, "648B");
	units_human(1234, buf, sizeof(buf));
	assert_string_equal(buf, "1.23kB");
	units_human(12345678, buf, sizeof(buf));
	assert_string_equal(buf, "12.3MB");
	units_binary(64 << 20, buf, sizeof(buf));
	assert_string_equal(buf, "64MiB");
	units_binary(1536 * 1024, buf, sizeof(buf));
	assert_string_equal(buf, "1.5MiB");
	units_binary(442368, buf, sizeof(buf));
	assert_string_equal(buf, "432KiB");
}

static void test_shares_weight(void **state)
{
	assert_int_equal(rt_cpu_shares_to_weight(2), 1);
	assert_int_equal(rt_cpu_shares_to_weight(1024), 39);
	assert_int_equal(rt_cpu_shares_to_weight(262144), 10000);
	assert_int_equal(rt_cpu_shares_to_weight(1), 1);
	assert_int_equal(rt_cpu_shares_to_weight(1 << 30), 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_parse),
		cmocka_unit_test(test_cpus_parse),
		cmocka_unit_test(test_human),
		cmocka_unit_test(test_shares_weight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
