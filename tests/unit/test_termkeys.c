/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's detach keys (common/termkeys.c): parsing and their filtering out of an input stream,
 * sequences split across reads and false starts included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "common/termkeys.h"
#include "common/util.h"

static void test_parse(void **state)
{
	static const char *const bad[] = { "ctrl-", "ctrl-1", "ctrl-ab", "ab", ",", "ctrl-p,,x",
					   "ctrl-~" };
	struct berr err = BERR_INIT;
	struct termkeys k;

	assert_int_equal(termkeys_parse(NULL, &k, &err), 0);
	assert_int_equal(k.n, 2);
	assert_int_equal(k.keys[0], 0x10);
	assert_int_equal(k.keys[1], 0x11);
	assert_int_equal(termkeys_parse("ctrl-x,x", &k, &err), 0);
	assert_int_equal(k.n, 2);
	assert_int_equal(k.keys[0], 0x18);
	assert_int_equal(k.keys[1], 'x');
	assert_int_equal(termkeys_parse("ctrl-@", &k, &err), 0);
	assert_int_equal(k.keys[0], 0);
	assert_int_equal(termkeys_parse("ctrl-[", &k, &err), 0);
	assert_int_equal(k.keys[0], 0x1b);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct berr e = BERR_INIT;

		assert_int_equal(termkeys_parse(bad[i], &k, &e), -EINVAL);
		assert_non_null(strstr(berr_str(&e), "Invalid detach keys"));
	}
}

/* Feeds s in pieces of `step` bytes; returns what passes, and whether it detached. */
static bool feed(struct termkeys *k, const char *s, size_t step, char *out, size_t *ret_len)
{
	uint8_t buf[64 + TERMKEYS_MAX];
	size_t n = strlen(s), len;

	*ret_len = 0;
	for (size_t i = 0; i < n; i += step) {
		size_t part = n - i < step ? n - i : step;
		bool detach = termkeys_filter(k, (const uint8_t *)s + i, part, buf, &len);

		memcpy(out + *ret_len, buf, len);
		*ret_len += len;
		if (detach)
			return true;
	}
	return false;
}

static void test_filter(void **state)
{
	struct berr err = BERR_INIT;
	char out[128];
	size_t len;

	for (size_t step = 1; step <= 8; step++) {
		struct termkeys k;

		termkeys_parse(NULL, &k, &err);
		/* plain input passes */
		assert_false(feed(&k, "echo hi\r", step, out, &len));
		assert_int_equal(len, 8);
		assert_memory_equal(out, "echo hi\r", 8);
		/* a false start: Ctrl-P then 'a' passes both */
		assert_false(feed(&k, "\x10" "a", step, out, &len));
		assert_int_equal(len, 2);
		assert_memory_equal(out, "\x10" "a", 2);
		/* Ctrl-P Ctrl-P Ctrl-Q: the first Ctrl-P passes, then the sequence detaches */
		assert_true(feed(&k, "ab\x10\x10\x11" "after", step, out, &len));
		assert_int_equal(len, 3);
		assert_memory_equal(out, "ab\x10", 3);
	}
}

static void test_filter_other_keys(void **state)
{
	struct berr err = BERR_INIT;
	struct termkeys k;
	char out[128];
	size_t len;

	termkeys_parse("ctrl-x,x", &k, &err);
	assert_false(feed(&k, "\x10\x11", 1, out, &len));   /* Docker's default is just input now */
	assert_int_equal(len, 2);
	assert_true(feed(&k, "y\x18x", 2, out, &len));
	assert_int_equal(len, 1);
	assert_int_equal(out[0], 'y');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_filter_other_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
