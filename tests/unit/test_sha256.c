/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 against the FIPS 180-4 / NIST vectors, fed whole and byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "common/sha256.h"

static void expect(const char *in, size_t len, const char *want)
{
	char hex[SHA256_HEX_LEN + 1];
	struct sha256 s;

	sha256_hex(in, len, hex);
	assert_string_equal(hex, want);
	sha256_init(&s);
	for (size_t i = 0; i < len; i++)
		sha256_update(&s, in + i, 1);
	sha256_final_hex(&s, hex);
	assert_string_equal(hex, want);
}

static void test_vectors(void **state)
{
	static char million[1000000];

	expect("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	expect("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	       112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	memset(million, 'a', sizeof(million));
	expect(million, sizeof(million),
	       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_vectors) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
