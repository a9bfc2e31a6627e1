/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/strmap.c: against a plain array model, through growth and deletions
 * that shift probe chains back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"

#define KEYS 3000

static char keys[KEYS][16];
static int vals[KEYS];

static void test_empty(void **state)
{
	struct strmap m = STRMAP_INIT;

	assert_null(strmap_get(&m, "a"));
	assert_null(strmap_del(&m, "a"));
	strmap_free(&m);
}

static void test_put_get_replace(void **state)
{
	struct strmap m = STRMAP_INIT;
	int a = 1, b = 2;
	char k1[] = "web", k2[] = "web";

	strmap_put(&m, k1, &a);
	assert_ptr_equal(strmap_get(&m, "web"), &a);
	strmap_put(&m, k2, &b);   /* an equal key: replaced, not added */
	assert_int_equal(m.n, 1);
	assert_ptr_equal(strmap_get(&m, "web"), &b);
	assert_null(strmap_get(&m, "we"));
	assert_null(strmap_get(&m, "webb"));
	assert_ptr_equal(strmap_del(&m, "web"), &b);
	assert_int_equal(m.n, 0);
	assert_null(strmap_get(&m, "web"));
	strmap_free(&m);
}

/* Every key of the model present with its value, every absent one absent. */
static void check_model(const struct strmap *m, const bool *in)
{
	size_t n = 0;

	for (int i = 0; i < KEYS; i++) {
		void *v = strmap_get(m, keys[i]);

		if (in[i]) {
			assert_ptr_equal(v, &vals[i]);
			n++;
		} else {
			assert_null(v);
		}
	}
	assert_int_equal(m->n, n);
}

static void test_random_against_model(void **state)
{
	struct strmap m = STRMAP_INIT;
	static bool in[KEYS];
	unsigned seed = 12345;

	for (int i = 0; i < KEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "ctr%05d", i);
	for (int round = 0; round < 40000; round++) {
		int i;

		seed = seed * 1103515245u + 12345u;
		i = (int)((seed >> 8) % KEYS);
		if ((seed >> 4) % 3) {
			strmap_put(&m, keys[i], &vals[i]);
			in[i] = true;
		} else {
			assert_ptr_equal(strmap_del(&m, keys[i]), in[i] ? &vals[i] : NULL);
			in[i] = false;
		}
		if (round % 4000 == 0)
			check_model(&m, in);
	}
	check_model(&m, in);
	/* delete everything: the table ends empty and probes still end */
	for (int i = 0; i < KEYS; i++) {
		strmap_del(&m, keys[i]);
		in[i] = false;
	}
	check_model(&m, in);
	strmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_put_get_replace),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
