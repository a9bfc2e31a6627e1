/* SPDX-License-Identifier: Apache-2.0 */
/* Pure helpers of the HTTP API (daemon/http_util.c) and its request decoding
 * (daemon/api_decode.c). The daemon's sources are not in libberth.a, so the files under test are
 * compiled in here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "daemon/http_util.c"
#include "daemon/api_decode.c"

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
	/* a last {name*} takes the rest, slashes included */
	assert_int_equal(http_path_match("/images/{name*}", "/images/library/nginx:1", &p), 1);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0], "library/nginx:1");
	assert_int_equal(http_path_match("/images/{name*}", "/images/a%2Fb", &p), 1);
	assert_string_equal(p.v[0], "a/b");
	assert_int_equal(http_path_match("/images/{name*}", "/images/", &p), -EINVAL);
	assert_int_equal(http_path_match("/images/{name*}", "/images", &p), 0);
	assert_int_equal(http_path_match("/images/{name*}", "/networks/x", &p), 0);
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
	/* bad input found deeper down: a missing host interface, a HostIp not of this host */
	assert_int_equal(http_status_from_errno(-ENODEV), 400);
	assert_int_equal(http_status_from_errno(-EADDRNOTAVAIL), 400);
	assert_int_equal(http_status_from_errno(-EILSEQ), 400);
	assert_int_equal(http_status_from_errno(-ELOOP), 400);
}


static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		size_t bad; /* offset of the first invalid byte; SIZE_MAX: valid */
	} rows[] = {
		{ "", SIZE_MAX },
		{ "plain ascii", SIZE_MAX },
		{ "caf\xc3\xa9", SIZE_MAX },              /* é */
		{ "\xe2\x82\xac", SIZE_MAX },             /* € */
		{ "\xf0\x9f\x90\xb3", SIZE_MAX },         /* U+1F433 */
		{ "\xf4\x8f\xbf\xbf", SIZE_MAX },         /* U+10FFFF */
		{ "\xed\x9f\xbf", SIZE_MAX },             /* U+D7FF */
		{ "x\xff", 1 },
		{ "\x80", 0 },                            /* lone continuation byte */
		{ "ab\xc3", 2 },                          /* truncated */
		{ "\xc3(", 0 },
		{ "\xc0\xaf", 0 },                        /* overlong '/' */
		{ "\xc1\xbf", 0 },
		{ "\xe0\x80\xaf", 0 },                    /* overlong */
		{ "\xed\xa0\x80", 0 },                    /* surrogate U+D800 */
		{ "\xf0\x80\x80\xaf", 0 },                /* overlong */
		{ "\xf4\x90\x80\x80", 0 },                /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 0 },
		{ "ok\xe2\x82", 2 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = strlen(rows[i].s);

		assert_int_equal(http_utf8_invalid_at(rows[i].s, len),
				 rows[i].bad == SIZE_MAX ? len : rows[i].bad);
	}
}

static void test_utf8_escape(void **state)
{
	char *e;

	e = http_utf8_escape("no such network: x\xff\xc3\xa9\xc3");
	assert_string_equal(e, "no such network: x\\xff\xc3\xa9\\xc3");
	free(e);
	e = http_utf8_escape("");
	assert_string_equal(e, "");
	free(e);
}

static void test_json_utf8_fix(void **state)
{
	cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "A");
	char *text;

	cJSON_AddStringToObject(j, "Name", "n\xff");
	cJSON_AddStringToObject(j, "k\xfe", "fine");
	cJSON_AddItemToArray(a, cJSON_CreateString("\xc3"));
	cJSON_AddItemToArray(a, cJSON_CreateString("\xc3\xa9"));
	http_json_utf8_fix(j);
	text = cJSON_PrintUnformatted(j);
	assert_string_equal(text, "{\"A\":[\"\\\\xc3\",\"\xc3\xa9\"],\"Name\":\"n\\\\xff\",\"k\\\\xfe\":\"fine\"}");
	free(text);
	cJSON_Delete(j);
	/* a string on its own (found by fuzz_api_request) */
	j = cJSON_CreateString("x\x88");
	http_json_utf8_fix(j);
	assert_string_equal(j->valuestring, "x\\x88");
	cJSON_Delete(j);
	http_json_utf8_fix(NULL);
}

static void test_json_scan(void **state)
{
	char deep[200], nul[] = "{\"a\":1}\0x";
	size_t at = 0;

	assert_int_equal(http_json_scan("{\"a\":[[1]]}", 11, 3, &at), 0);
	assert_int_equal(http_json_scan("{\"a\":[[[1]]]}", 13, 3, &at), -ELOOP);
	assert_int_equal(at, 7);
	/* brackets and escaped quotes inside strings do not count */
	assert_int_equal(http_json_scan("{\"[[[[\\\"{{{{\":1}", 16, 1, &at), 0);
	assert_int_equal(http_json_scan(nul, sizeof(nul) - 1, 8, &at), -EILSEQ);
	assert_int_equal(at, 7);
	assert_int_equal(http_json_scan("{\"a\":\"x\\u0000y\"}", 16, 8, &at), -EILSEQ);
	assert_int_equal(at, 7);
	/* an escaped backslash before u0000 is not the escape */
	assert_int_equal(http_json_scan("{\"a\":\"\\\\u0000\"}", 15, 8, &at), 0);
	/* unterminated or truncated input is left to the parser */
	assert_int_equal(http_json_scan("{\"a\":\"\\", 7, 8, &at), 0);
	memset(deep, '[', sizeof(deep));
	assert_int_equal(http_json_scan(deep, sizeof(deep), API_JSON_DEPTH_MAX, &at), -ELOOP);
	assert_int_equal(at, API_JSON_DEPTH_MAX);
}

/* decode "METHOD /path" with the query args and body given; returns the status (200 if fine). */
static int decode(const char *method, const char *path, const struct api_arg *args,
		  size_t n_args, const char *body, struct api_request *r, struct berr *err)
{
	struct api_input in = { .method = method, .path = path, .args = args, .n_args = n_args,
				.body = body, .len = body ? strlen(body) : 0 };

	berr_clear(err);
	if (api_request_decode(&in, r, err) < 0) {
		assert_true(r->status >= 400 && r->status < 500);
		return r->status;
	}
	return 200;
}

static void test_decode_routes(void **state)
{
	struct berr err = BERR_INIT;
	struct api_request r;

	assert_int_equal(decode("GET", "/v1.41/networks/n1", NULL, 0, NULL, &r, &err), 200);
	assert_int_equal(r.op, API_OP_NETWORK_INSPECT);
	assert_string_equal(r.params.v[0], "n1");
	api_request_done(&r);
	assert_int_equal(decode("PUT", "/networks/n1", NULL, 0, NULL, &r, &err), 405);
	assert_string_equal(r.allow, "GET, DELETE");
	assert_string_equal(err.msg, "method PUT is not allowed on /networks/n1 (allowed: GET, DELETE)");
	api_request_done(&r);
	assert_int_equal(decode("GET", "/nope", NULL, 0, NULL, &r, &err), 404);
	assert_string_equal(err.msg, "page not found");
	api_request_done(&r);
	assert_int_equal(decode("GET", "/networks/a%2Fb", NULL, 0, NULL, &r, &err), 400);
	assert_string_equal(err.msg, "invalid path parameter");
	api_request_done(&r);
	assert_int_equal(decode("GET", "/networks/x%FF", NULL, 0, NULL, &r, &err), 400);
	assert_string_equal(err.msg, "invalid path parameter {id}: not valid UTF-8 (byte 0xff at offset 1)");
	api_request_done(&r);
}

static void test_decode_query(void **state)
{
	const struct api_arg stop[] = { { "t", "5" } }, kill[] = { { "signal", "SIGTERM" } },
			     bad_t[] = { { "t", "99999999" } }, bad_sig[] = { { "signal", "%FF" } },
			     name[] = { { "x", "y" }, { "name", "a%20b" } },
			     bad_name[] = { { "name", "%C3" } }, bad_esc[] = { { "name", "%zz" } },
			     filters[] = { { "filters", "%7B%22name%22%3A%5B%22n1%22%5D%7D" } },
			     force[] = { { "force", NULL } }, bad_all[] = { { "all", "maybe" } };
	struct berr err = BERR_INIT;
	struct api_request r;

	assert_int_equal(decode("POST", "/containers/c/stop", stop, 1, NULL, &r, &err), 200);
	assert_int_equal(r.timeout, 5);
	api_request_done(&r);
	assert_int_equal(decode("POST", "/containers/c/stop", NULL, 0, NULL, &r, &err), 200);
	assert_int_equal(r.timeout, 10);
	api_request_done(&r);
	assert_int_equal(decode("POST", "/containers/c/stop", bad_t, 1, NULL, &r, &err), 400);
	assert_non_null(strstr(err.msg, "query parameter t"));
	api_request_done(&r);
	assert_int_equal(decode("POST", "/containers/c/kill", kill, 1, NULL, &r, &err), 200);
	assert_int_equal(r.signal, SIGTERM);
	api_request_done(&r);
	assert_int_equal(decode("POST", "/containers/c/kill", NULL, 0, NULL, &r, &err), 200);
	assert_int_equal(r.signal, SIGKILL);
	api_request_done(&r);
	assert_int_equal(decode("POST", "/containers/c/kill", bad_sig, 1, NULL, &r, &err), 400);
	assert_string_equal(err.msg, "query parameter signal is not valid UTF-8 (byte 0xff at offset 0)");
	api_request_done(&r);
	assert_int_equal(decode("POST", "/containers/create", name, 2, NULL, &r, &err), 200);
	assert_string_equal(r.name, "a b");
	assert_true(cJSON_IsObject(r.body));
	api_request_done(&r);
	assert_int_equal(decode("POST", "/containers/create", bad_name, 1, NULL, &r, &err), 400);
	assert_string_equal(err.msg, "query parameter name is not valid UTF-8 (byte 0xc3 at offset 0)");
	api_request_done(&r);
	assert_int_equal(decode("POST", "/containers/create", bad_esc, 1, NULL, &r, &err), 400);
	assert_string_equal(err.msg, "query parameter name is not valid URL encoding");
	api_request_done(&r);
	assert_int_equal(decode("GET", "/networks", filters, 1, NULL, &r, &err), 200);
	assert_string_equal(r.filter_name, "n1");
	api_request_done(&r);
	assert_int_equal(decode("DELETE", "/containers/c", force, 1, NULL, &r, &err), 200);
	assert_false(r.force);
	api_request_done(&r);
	assert_int_equal(decode("GET", "/containers/json", bad_all, 1, NULL, &r, &err), 400);
	assert_non_null(strstr(err.msg, "query parameter all"));
	api_request_done(&r);
}

/* POST /networks/probe: before the /networks/{id} patterns, an optional body, ?progress=; a
 * network named "probe" is still inspected with GET. */
static void test_decode_probe(void **state)
{
	const struct api_arg progress[] = { { "progress", "1" } }, bad[] = { { "progress", "x" } };
	struct berr err = BERR_INIT;
	struct api_request r;

	assert_int_equal(decode("POST", "/v1.41/networks/probe", progress, 1, "{\"Protocols\": "
				"[\"tcp\"]}", &r, &err), 200);
	assert_int_equal(r.op, API_OP_NETWORK_PROBE);
	assert_true(r.progress);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(r.body, "Protocols")));
	api_request_done(&r);
	assert_int_equal(decode("POST", "/networks/probe", NULL, 0, NULL, &r, &err), 200);
	assert_false(r.progress);
	api_request_done(&r);
	assert_int_equal(decode("POST", "/networks/probe", bad, 1, NULL, &r, &err), 400);
	assert_non_null(strstr(err.msg, "query parameter progress"));
	api_request_done(&r);
	assert_int_equal(decode("GET", "/networks/probe", NULL, 0, NULL, &r, &err), 200);
	assert_int_equal(r.op, API_OP_NETWORK_INSPECT);
	api_request_done(&r);
}

static void test_decode_body(void **state)
{
	static const struct {
		const char *body, *want; /* want NULL: decodes */
	} rows[] = {
		{ "{\"Name\":\"n\"}", NULL },
		{ " {\"Name\":\"n\"} \r\n", NULL },
		{ "{\"Name\":\"caf\xc3\xa9\"}", NULL },
		{ "", "request body is empty" },
		{ "{\"Name\":", "malformed JSON body: syntax error at byte 8" },
		{ "{\"Name\":\"z\"} x", "malformed JSON body: syntax error at byte 13" },
		{ "[1]", "request body must be a JSON object" },
		{ "\"x\"", "request body must be a JSON object" },
		{ "{\"Name\":\"x\\u0000y\"}", "JSON body holds a NUL character (byte 10)" },
		{ "{\"Name\":\"x\xff\"}", "field Name is not valid UTF-8 (byte 0xff at offset 1)" },
		{ "{\"IPAM\":{\"Config\":[{\"Subnet\":\"10.0.0.0/24\"},{\"Subnet\":\"\xc0\xaf\"}]}}",
		  "field IPAM.Config[1].Subnet is not valid UTF-8 (byte 0xc0 at offset 0)" },
		{ "{\"Labels\":{\"k\xfe\":\"v\"}}",
		  "the name of field Labels.k\\xfe is not valid UTF-8 (byte 0xfe at offset 1)" },
		{ "{\"Name\":\"\\ud800\"}", "malformed JSON body" }, /* lone surrogate escape */
	};
	struct berr err = BERR_INIT;
	struct api_request r;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int st = decode("POST", "/networks/create", NULL, 0, rows[i].body, &r, &err);

		if (!rows[i].want && st != 200)
			fail_msg("row %zu refused: %s", i, err.msg);
		if (rows[i].want && (st != 400 || !strstr(err.msg, rows[i].want)))
			fail_msg("row %zu: status %d, \"%s\" does not say \"%s\"", i, st, err.msg,
				 rows[i].want);
		api_request_done(&r);
	}
}

static void test_decode_body_limits(void **state)
{
	struct berr err = BERR_INIT;
	struct api_request r;
	char *body = xcalloc(1, API_BODY_MAX + 2);
	struct api_input in = { .method = "POST", .path = "/networks/create", .body = body };

	/* 10,000 levels: refused before the parser recurses */
	for (int i = 0; i < 10000; i++) {
		body[i] = '[';
		body[10000 + i] = ']';
	}
	in.len = 20000;
	assert_int_equal(api_request_decode(&in, &r, &err), -ELOOP);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(err.msg, "deeper than 64 levels"));
	api_request_done(&r);
	/* the body limit holds for callers that did not cut it already */
	memset(body, ' ', API_BODY_MAX + 1);
	in.len = API_BODY_MAX + 1;
	assert_int_equal(api_request_decode(&in, &r, &err), -E2BIG);
	assert_int_equal(r.status, 413);
	api_request_done(&r);
	/* routes without a body ignore it */
	in.path = "/networks/prune";
	assert_int_equal(api_request_decode(&in, &r, &err), 0);
	assert_null(r.body);
	api_request_done(&r);
	free(body);
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
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_utf8_escape),
		cmocka_unit_test(test_json_utf8_fix),
		cmocka_unit_test(test_json_scan),
		cmocka_unit_test(test_decode_routes),
		cmocka_unit_test(test_decode_query),
		cmocka_unit_test(test_decode_probe),
		cmocka_unit_test(test_decode_body),
		cmocka_unit_test(test_decode_body_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
