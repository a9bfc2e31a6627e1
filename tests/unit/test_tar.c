/* SPDX-License-Identifier: Apache-2.0 */
/* The tar reader (runtime/tar.c) on archives made here byte by byte, and the entry-name rules of
 * runtime/layer.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "runtime/layer.h"
#include "runtime/tar.h"

struct mem {
	const uint8_t *p;
	size_t left;
};

static ssize_t mem_read(void *ud, void *buf, size_t len)
{
	struct mem *m = ud;
	size_t n = len < m->left ? len : m->left;

	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

/* A ustar header; type, name, size in octal (or base-256 when big). */
static void header(uint8_t *b, const char *name, char type, uint64_t size, bool base256)
{
	unsigned sum = 0;

	memset(b, 0, TAR_BLOCK);
	snprintf((char *)b, 100, "%s", name);
	memcpy(b + 100, "0000644", 7);
	memcpy(b + 108, "0001750", 7);
	memcpy(b + 116, "0001750", 7);
	if (base256) {
		b[124] = 0x80;
		for (int i = 0; i < 8; i++)
			b[135 - i] = (uint8_t)(size >> (8 * i));
	} else {
		snprintf((char *)b + 124, 12, "%011llo", (unsigned long long)size);
	}
	memcpy(b + 136, "14545710400", 11);
	b[156] = (uint8_t)type;
	memcpy(b + 257, "ustar\0" "00", 8);
	memset(b + 148, ' ', 8);
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
}

static void test_entries(void **state)
{
	uint8_t a[TAR_BLOCK * 8] = { 0 };
	const char pax[] = "29 path=a-very-long/pax/name\n";
	struct mem m = { a, sizeof(a) };
	struct berr err = BERR_INIT;
	const struct tar_entry *e;
	struct tar_reader t;
	char buf[16];

	header(a, "plain.txt", '0', 5, false);
	memcpy(a + TAR_BLOCK, "hello", 5);
	header(a + 2 * TAR_BLOCK, "PaxHeaders/x", 'x', strlen(pax), false);
	memcpy(a + 3 * TAR_BLOCK, pax, strlen(pax));
	header(a + 4 * TAR_BLOCK, "short", '0', 2, true);
	memcpy(a + 5 * TAR_BLOCK, "hi", 2);
	tar_reader_init(&t, mem_read, &m);
	assert_int_equal(tar_next(&t, &e, &err), 1);
	assert_string_equal(e->name, "plain.txt");
	assert_int_equal(e->size, 5);
	assert_int_equal(e->mode, 0644);
	assert_int_equal(e->uid, 1000);
	assert_int_equal(tar_data_read(&t, buf, sizeof(buf), &err), 5);
	assert_int_equal(tar_next(&t, &e, &err), 1);
	assert_string_equal(e->name, "a-very-long/pax/name");   /* pax path wins */
	assert_int_equal(e->size, 2);                           /* base-256 size */
	assert_int_equal(tar_next(&t, &e, &err), 0);            /* unread data skipped, end */
}

static void test_refused(void **state)
{
	uint8_t a[TAR_BLOCK * 4] = { 0 };
	struct mem m = { a, sizeof(a) };
	struct berr err = BERR_INIT;
	const struct tar_entry *e;
	struct tar_reader t;

	header(a, "x", '0', 0, false);
	a[0] ^= 1;   /* checksum no longer matches */
	tar_reader_init(&t, mem_read, &m);
	assert_int_equal(tar_next(&t, &e, &err), -EINVAL);
	assert_non_null(strstr(berr_str(&err), "checksum"));

	header(a, "sparse", 'S', 0, false);
	m = (struct mem){ a, sizeof(a) };
	berr_clear(&err);
	tar_reader_init(&t, mem_read, &m);
	assert_int_equal(tar_next(&t, &e, &err), -EOPNOTSUPP);

	header(a, "cut", '0', 4096, false);   /* data missing */
	m = (struct mem){ a, 2 * TAR_BLOCK };
	berr_clear(&err);
	tar_reader_init(&t, mem_read, &m);
	assert_int_equal(tar_next(&t, &e, &err), 1);
	assert_int_equal(tar_next(&t, &e, &err), -EPIPE);
}

static void test_path_clean(void **state)
{
	static const char *const good[][2] = {
		{ "a/b", "a/b" }, { "./a//b/", "a/b" }, { "./", "" }, { ".", "" },
		{ "a/./b", "a/b" }, { "a..b/c", "a..b/c" }, { "...", "..." },
	};
	static const char *const bad[] = { "../x", "a/../../x", "a/..", "/etc/passwd", "..",
					   "./../x" };
	char out[64];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(layer_path_clean(good[i][0], out, sizeof(out), NULL), 0);
		assert_string_equal(out, good[i][1]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(layer_path_clean(bad[i], out, sizeof(out), NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_path_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
