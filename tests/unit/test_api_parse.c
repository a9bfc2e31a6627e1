/* SPDX-License-Identifier: Apache-2.0 */
/* Pure helpers of the HTTP API (daemon/http_util.c). The daemon's sources are not in
 * libberth.a, so the file under test is compiled in here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "daemon/http_util.c"

static void test_strip_version(void **state)
{
	assert_string_equal(http_path_strip_version("/v1.41/networks"), "/networks");
	assert_string_equal(http_path_strip_version("/v1.24/containers/x/json"), "/containers/x/json");
	assert_string_equal(http_path_strip_version("/v10.0/_ping"), "/_ping");
	assert_string_equal(http_path_strip_version("/v1.41"), "");
	assert_string_equal(http_path_strip_version("/v1.41/"), "/");
	/* not a prefix: left alone */
	assert_string_equal(http_path_strip_version("/networks"), "/networks");
	assert_string_equal(http_path_strip_version("/v1/networks"), "/v1/networks");
	assert_string_equal(http_path_strip_version("/v1./networks"), "/v1./networks");
	assert_string_equal(http_path_strip_version("/v.41/networks"), "/v.41/networks");
	assert_string_equal(http_path_strip_version("/v1.41x/networks"), "/v1.41x/networks");
	assert_string_equal(http_path_strip_version("/vx1.41/a"), "/vx1.41/a");
	assert_string_equal(http_path_strip_version("/volumes"), "/volumes");
	assert_string_equal(http_path_strip_version(""), "");
	assert_string_equal(http_path_strip_version("/"), "/");
}

static void test_match_literal(void **state)
{
	struct http_params p;

	assert_int_equal(http_path_match("/_ping", "/_ping", &p), 1);
	assert_int_equal(p.n, 0);
	assert_int_equal(http_path_match("/_ping", "/_ping/", &p), 0);
	assert_int_equal(http_path_match("/_ping", "/_pin", &p), 0);
	assert_int_equal(http_path_match("/_ping", "/_pingx", &p), 0);
	assert_int_equal(http_path_match("/_ping", "", &p), 0);
	assert_int_equal(http_path_match("/networks/create", "/networks/create", &p), 1);
	assert_int_equal(http_path_match("/networks/create", "/networks", &p), 0);
	assert_int_equal(http_path_match("/networks", "/networks/create", &p), 0);
}

static void test_match_params(void **state)
{
	struct http_params p;

	assert_int_equal(http_path_match("/networks/{id}", "/networks/abc", &p), 1);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0], "abc");
	assert_int_equal(http_path_match("/networks/{id}/connect", "/networks/my-net/connect", &p), 1);
	assert_string_equal(p.v[0], "my-net");
	assert_int_equal(http_path_match("/networks/{id}/connect", "/networks/x/disconnect", &p), 0);
	assert_int_equal(http_path_match("/networks/{id}", "/networks/x/connect", &p), 0);
	assert_int_equal(http_path_match("/networks/{id}/connect", "/networks/x", &p), 0);
	assert_int_equal(http_path_match("/a/{x}/b/{y}", "/a/1/b/2", &p), 1);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.v[0], "1");
	assert_string_equal(p.v[1], "2");
	/* URL-decoded */
	assert_int_equal(http_path_match("/networks/{id}", "/networks/my%20net", &p), 1);
	assert_string_equal(p.v[0], "my net");
	assert_int_equal(http_path_match("/networks/{id}", "/networks/%41%62", &p), 1);
	assert_string_equal(p.v[0], "Ab");
}

static void test_match_refused(void **state)
{
	struct http_params p;
	char path[600];

	/* empty, encoded '/', bad escapes, encoded NUL: shape matches but the value is refused */
	assert_int_equal(http_path_match("/networks/{id}", "/networks/", &p), -EINVAL);
	assert_int_equal(http_path_match("/networks/{id}/connect", "/networks//connect", &p), -EINVAL);
	assert_int_equal(http_path_match("/networks/{id}", "/networks/a%2Fb", &p), -EINVAL);
	assert_int_equal(http_path_match("/networks/{id}", "/networks/a%2fb", &p), -EINVAL);
	assert_int_equal(http_path_match("/networks/{id}", "/networks/a%2", &p), -EINVAL);
	assert_int_equal(http_path_match("/networks/{id}", "/networks/a%zz", &p), -EINVAL);
	assert_int_equal(http_path_match("/networks/{id}", "/networks/a%00b", &p), -EINVAL);
	/* a literal mismatch wins over a bad parameter */
	assert_int_equal(http_path_match("/networks/{id}/connect", "/networks//other", &p), 0);
	/* too long */
	memset(path, 'a', sizeof(path));
	memcpy(path, "/networks/", 10);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(http_path_match("/networks/{id}", path, &p), -ENAMETOOLONG);
}

static void test_url_decode(void **state)
{
	char out[8];

	assert_int_equal(http_url_decode("a%20b", 5, out, sizeof(out)), 3);
	assert_string_equal(out, "a b");
	assert_int_equal(http_url_decode("a+b", 3, out, sizeof(out)), 3);
	assert_string_equal(out, "a+b");
	assert_int_equal(http_url_decode("%7B%7d", 6, out, sizeof(out)), 2);
	assert_string_equal(out, "{}");
	assert_int_equal(http_url_decode("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(http_url_decode("abcdefg", 7, out, sizeof(out)), 7);
	assert_int_equal(http_url_decode("abcdefgh", 8, out, sizeof(out)), -ENAMETOOLONG);
	assert_int_equal(http_url_decode("%", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(http_url_decode("%4", 2, out, sizeof(out)), -EINVAL);
	assert_int_equal(http_url_decode("%g0", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(http_url_decode("%00", 3, out, sizeof(out)), -EINVAL);
	/* only len bytes are read */
	assert_int_equal(http_url_decode("ab%41", 2, out, sizeof(out)), 2);
	assert_string_equal(out, "ab");
}

static void test_signal_parse(void **state)
{
	int sig = 0;

	assert_int_equal(http_signal_parse("KILL", &sig), 0);
	assert_int_equal(sig, SIGKILL);
	assert_int_equal(http_signal_parse("SIGKILL", &sig), 0);
	assert_int_equal(sig, SIGKILL);
	assert_int_equal(http_signal_parse("sigterm", &sig), 0);
	assert_int_equal(sig, SIGTERM);
	assert_int_equal(http_signal_parse("TERM", &sig), 0);
	assert_int_equal(sig, SIGTERM);
	assert_int_equal(http_signal_parse("HUP", &sig), 0);
	assert_int_equal(sig, SIGHUP);
	assert_int_equal(http_signal_parse("USR1", &sig), 0);
	assert_int_equal(sig, SIGUSR1);
	assert_int_equal(http_signal_parse("WINCH", &sig), 0);
	assert_int_equal(sig, SIGWINCH);
	assert_int_equal(http_signal_parse("9", &sig), 0);
	assert_int_equal(sig, 9);
	assert_int_equal(http_signal_parse("15", &sig), 0);
	assert_int_equal(sig, 15);
	assert_int_equal(http_signal_parse("SIGRTMIN", &sig), 0);
	assert_int_equal(sig, SIGRTMIN);
	assert_int_equal(http_signal_parse("RTMIN+3", &sig), 0);
	assert_int_equal(sig, SIGRTMIN + 3);
	assert_int_equal(http_signal_parse("SIGRTMAX-1", &sig), 0);
	assert_int_equal(sig, SIGRTMAX - 1);

	sig = -1;
	assert_int_equal(http_signal_parse("0", &sig), -EINVAL);
	assert_int_equal(http_signal_parse("65", &sig), -EINVAL);
	assert_int_equal(http_signal_parse("-9", &sig), -EINVAL);
	assert_int_equal(http_signal_parse("99999999999999", &sig), -EINVAL);
	assert_int_equal(http_signal_parse("", &sig), -EINVAL);
	assert_int_equal(http_signal_parse("SIG", &sig), -EINVAL);
	assert_int_equal(http_signal_parse("BOGUS", &sig), -EINVAL);
	assert_int_equal(http_signal_parse("KILLX", &sig), -EINVAL);
	assert_int_equal(http_signal_parse("9x", &sig), -EINVAL);
	assert_int_equal(http_signal_parse("RTMIN+99", &sig), -EINVAL);
	assert_int_equal(http_signal_parse("RTMIN+", &sig), -EINVAL);
	assert_int_equal(http_signal_parse(NULL, &sig), -EINVAL);
	assert_int_equal(sig, -1);
}

static void test_bool_uint_parse(void **state)
{
	bool b = false;
	long v = -1;

	assert_int_equal(http_bool_parse("1", false, &b), 0);
	assert_true(b);
	assert_int_equal(http_bool_parse("false", true, &b), 0);
	assert_false(b);
	assert_int_equal(http_bool_parse("TRUE", false, &b), 0);
	assert_true(b);
	assert_int_equal(http_bool_parse(NULL, true, &b), 0);
	assert_true(b);
	assert_int_equal(http_bool_parse("", false, &b), 0);
	assert_false(b);
	assert_int_equal(http_bool_parse("maybe", false, &b), -EINVAL);

	assert_int_equal(http_uint_parse("10", 0, 100, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(http_uint_parse(NULL, 7, 100, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(http_uint_parse("101", 0, 100, &v), -ERANGE);
	assert_int_equal(http_uint_parse("99999999999999999999999", 0, 100, &v), -ERANGE);
	assert_int_equal(http_uint_parse("-1", 0, 100, &v), -EINVAL);
	assert_int_equal(http_uint_parse("1s", 0, 100, &v), -EINVAL);
}

static void test_filters_name(void **state)
{
	char buf[16];

	assert_int_equal(http_filters_name(NULL, buf, sizeof(buf)), 0);
	assert_int_equal(http_filters_name("", buf, sizeof(buf)), 0);
	assert_int_equal(http_filters_name("{}", buf, sizeof(buf)), 0);
	assert_int_equal(http_filters_name("{\"driver\":[\"bridge\"]}", buf, sizeof(buf)), 0);
	assert_int_equal(http_filters_name("{\"name\":[\"x\",\"y\"]}", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "x");
	assert_int_equal(http_filters_name("{\"name\":{\"net\":true}}", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "net");
	assert_int_equal(http_filters_name("{\"name\":{\"a\":false,\"b\":true}}", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "b");
	assert_int_equal(http_filters_name("{\"name\":[]}", buf, sizeof(buf)), 0);
	assert_int_equal(http_filters_name("{\"name\":[1]}", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(http_filters_name("{\"name\":\"x\"}", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(http_filters_name("{\"name\":{\"x\":1}}", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(http_filters_name("[\"x\"]", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(http_filters_name("{\"name\":[\"x\"", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(http_filters_name("{\"name\":[\"0123456789abcdef\"]}", buf, sizeof(buf)),
			 -ENAMETOOLONG);
}

static void test_status_from_errno(void **state)
{
	assert_int_equal(http_status_from_errno(-ENOENT), 404);
	assert_int_equal(http_status_from_errno(-EEXIST), 409);
	assert_int_equal(http_status_from_errno(-EADDRINUSE), 409);
	assert_int_equal(http_status_from_errno(-EADDRNOTAVAIL), 400);
	assert_int_equal(http_status_from_errno(-EBUSY), 409);
	assert_int_equal(http_status_from_errno(-EISCONN), 409);
	assert_int_equal(http_status_from_errno(-ENOTCONN), 409);
	assert_int_equal(http_status_from_errno(-ESRCH), 409);
	assert_int_equal(http_status_from_errno(-ENOTEMPTY), 409);
	assert_int_equal(http_status_from_errno(-EINVAL), 400);
	assert_int_equal(http_status_from_errno(-ERANGE), 400);
	assert_int_equal(http_status_from_errno(-ENAMETOOLONG), 400);
	assert_int_equal(http_status_from_errno(-EBADMSG), 400);
	assert_int_equal(http_status_from_errno(-EDOM), 400);
	assert_int_equal(http_status_from_errno(-E2BIG), 413);
	assert_int_equal(http_status_from_errno(-EFBIG), 413);
	assert_int_equal(http_status_from_errno(-EOPNOTSUPP), 501);
	assert_int_equal(http_status_from_errno(-ENOSYS), 501);
	assert_int_equal(http_status_from_errno(-EALREADY), 304);
	assert_int_equal(http_status_from_errno(-EIO), 500);
	assert_int_equal(http_status_from_errno(-ENOMEM), 500);
	assert_int_equal(http_status_from_errno(-EPERM), 403);
	assert_int_equal(http_status_from_errno(-EACCES), 403);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strip_version),
		cmocka_unit_test(test_match_literal),
		cmocka_unit_test(test_match_params),
		cmocka_unit_test(test_match_refused),
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_signal_parse),
		cmocka_unit_test(test_bool_uint_parse),
		cmocka_unit_test(test_filters_name),
		cmocka_unit_test(test_status_from_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
