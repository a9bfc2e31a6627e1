/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's HTTP reply parser (cli/http_reply.c): framing by Content-Length, chunks and the end
 * of the connection, replies cut anywhere, bounds, streaming, early close, malformed input.
 * The CLI's sources are not in libberth.a, so the file under test is compiled in here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "cli/http_reply.c"

#define BIG (1u << 20)

/* Feed text in pieces of `step` bytes (0: all at once); returns the first error. */
static int feed_steps(struct http_reply *r, const char *text, size_t len, size_t step,
		      struct berr *err)
{
	size_t off = 0, n;
	int ret;

	if (step == 0)
		step = len ? len : 1;
	while (off < len) {
		n = len - off < step ? len - off : step;
		ret = http_reply_feed(r, text + off, n, err);
		if (ret < 0)
			return ret;
		off += n;
	}
	return 0;
}

/* Parse a whole reply, cut in pieces of every size from 1 byte up, then the connection
 * closes; each cut must give the same status and body. */
static void expect_reply(const char *text, int status, const char *body)
{
	size_t len = strlen(text);

	for (size_t step = 0; step <= len; step++) {
		struct berr err = BERR_INIT;
		struct http_reply r;

		http_reply_init(&r, BIG, NULL, NULL);
		assert_int_equal(feed_steps(&r, text, len, step, &err), 0);
		assert_int_equal(http_reply_eof(&r, &err), 0);
		assert_true(http_reply_done(&r));
		assert_int_equal(r.status, status);
		if (body && body[0]) {
			assert_non_null(r.body);
			assert_int_equal(r.len, strlen(body));
			assert_memory_equal(r.body, body, r.len);
		} else {
			assert_int_equal(r.len, 0);
		}
		http_reply_release(&r);
	}
}

/* The reply fails with code and a message containing want, however it is cut. */
static void expect_error(const char *text, size_t body_max, int code, const char *want)
{
	size_t len = strlen(text);

	for (size_t step = 0; step <= len; step++) {
		struct berr err = BERR_INIT;
		struct http_reply r;
		int ret;

		http_reply_init(&r, body_max, NULL, NULL);
		ret = feed_steps(&r, text, len, step, &err);
		if (ret == 0)
			ret = http_reply_eof(&r, &err);
		assert_int_equal(ret, code);
		if (!strstr(err.msg, want))
			fail_msg("error \"%s\" does not mention \"%s\"", err.msg, want);
		assert_false(http_reply_done(&r));
		http_reply_release(&r);
	}
}

static void test_content_length(void **state)
{
	expect_reply("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		     "Content-Length: 12\r\n\r\n{\"a\": [1,2]}", 200, "{\"a\": [1,2]}");
	expect_reply("HTTP/1.1 201 Created\r\ncontent-length:  3  \r\n\r\nabc", 201, "abc");
	expect_reply("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, "");
	expect_reply("HTTP/1.0 200 OK\nContent-Length: 2\n\nhi", 200, "hi");   /* bare LF */
	/* the same length twice is fine */
	expect_reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi", 200,
		     "hi");
	/* a reason phrase is optional */
	expect_reply("HTTP/1.1 404\r\nContent-Length: 1\r\n\r\nx", 404, "x");
}

static void test_done_before_close(void **state)
{
	const char text[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokTRAILING GARBAGE";
	struct berr err = BERR_INIT;
	struct http_reply r;

	/* Complete as soon as the body is in: the caller need not wait for berthd to close. */
	http_reply_init(&r, BIG, NULL, NULL);
	assert_int_equal(http_reply_feed(&r, text, strlen(text), &err), 0);
	assert_true(http_reply_done(&r));
	assert_string_equal(r.body, "ok");
	assert_int_equal(http_reply_feed(&r, "more", 4, &err), 0);
	assert_string_equal(r.body, "ok");
	http_reply_release(&r);
}

static void test_chunked(void **state)
{
	expect_reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "5\r\nhello\r\n1;ext=1\r\n \r\n00006 \r\nworld!\r\n0\r\n\r\n",
		     200, "hello world!");
	/* trailers, upper-case hex, a long chunk */
	expect_reply("HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\n\r\n"
		     "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n",
		     200, "abcdefghijklmnopqrstuvwxyz");
	/* chunked wins over a Content-Length */
	expect_reply("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "2\r\nab\r\n0\r\n\r\n", 200, "ab");
	expect_reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200, "");
}

static void test_until_close(void **state)
{
	struct berr err = BERR_INIT;
	struct http_reply r;
	const char text[] = "HTTP/1.0 200 OK\r\n\r\nall of it";

	expect_reply(text, 200, "all of it");
	/* without a length the reply ends only when the connection does */
	http_reply_init(&r, BIG, NULL, NULL);
	assert_int_equal(http_reply_feed(&r, text, strlen(text), &err), 0);
	assert_false(http_reply_done(&r));
	assert_int_equal(http_reply_eof(&r, &err), 0);
	assert_true(http_reply_done(&r));
	http_reply_release(&r);
}

static void test_no_body_statuses(void **state)
{
	/* 204 and 304 have no body, whatever the headers say */
	expect_reply("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", 204, "");
	expect_reply("HTTP/1.1 304 Not Modified\r\n\r\n", 304, "");
	/* interim replies are skipped */
	expect_reply("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
		     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok");
}

static void test_body_bound(void **state)
{
	struct berr err = BERR_INIT;
	struct http_reply r;

	expect_reply("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", 200, "abcd");
	/* a declared length over the bound fails before a byte of the body is read */
	http_reply_init(&r, 4, NULL, NULL);
	assert_int_equal(http_reply_feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 38,
					 &err), -E2BIG);
	assert_null(r.body);
	http_reply_release(&r);
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", 4, -E2BIG,
		     "larger than 4 bytes");
	/* chunks and close-framed bodies are bounded as they come */
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n"
		     "0\r\n\r\n", 4, -E2BIG, "larger than 4 bytes");
	expect_error("HTTP/1.1 200 OK\r\n\r\nabcde", 4, -E2BIG, "larger than 4 bytes");
	/* error bodies too */
	expect_error("HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\nabcde", 4, -E2BIG,
		     "larger than 4 bytes");
}

struct stream {
	char buf[256];
	size_t len;
	int calls;
	int fail;
};

static int stream_take(void *ud, const char *data, size_t len, struct berr *err)
{
	struct stream *s = ud;

	s->calls++;
	if (s->fail)
		return berr_set(err, -ENOSPC, "sink full");
	assert_true(len <= sizeof(s->buf) - s->len);
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

static void test_streaming(void **state)
{
	const char ok[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "6\r\nline1\n\r\n6\r\nline2\n\r\n0\r\n\r\n";
	const char bad[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 13\r\n\r\n{\"message\":1}";
	struct berr err = BERR_INIT;
	struct stream s = { 0 };
	struct http_reply r;

	/* a 2xx body streams, in pieces as they arrive, and is not collected: no bound */
	http_reply_init(&r, 4, stream_take, &s);
	assert_int_equal(feed_steps(&r, ok, strlen(ok), 3, &err), 0);
	assert_true(http_reply_done(&r));
	assert_int_equal(s.len, 12);
	assert_memory_equal(s.buf, "line1\nline2\n", 12);
	assert_true(s.calls >= 4);
	assert_null(r.body);
	http_reply_release(&r);
	/* an error body is collected, not streamed */
	memset(&s, 0, sizeof(s));
	http_reply_init(&r, BIG, stream_take, &s);
	assert_int_equal(http_reply_feed(&r, bad, strlen(bad), &err), 0);
	assert_true(http_reply_done(&r));
	assert_int_equal(s.calls, 0);
	assert_string_equal(r.body, "{\"message\":1}");
	http_reply_release(&r);
	/* the sink's error stops the parser */
	memset(&s, 0, sizeof(s));
	s.fail = 1;
	http_reply_init(&r, BIG, stream_take, &s);
	assert_int_equal(http_reply_feed(&r, ok, strlen(ok), &err), -ENOSPC);
	assert_string_equal(err.msg, "sink full");
	assert_int_equal(s.calls, 1);
	assert_int_equal(http_reply_feed(&r, "x", 1, &err), -ENOSPC);
	assert_int_equal(s.calls, 1);
	http_reply_release(&r);
}

struct bad_case {
	const char *text;
	int code;
	const char *want;    /* in the error message */
};

static const struct bad_case early_close[] = {
	{ "", -EPIPE, "closed without a reply" },
	{ "HTTP/1.1 200 OK\r\nContent-Le", -EPIPE, "before the end of the reply" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", -EPIPE,
	  "7 bytes of the reply's body still to come" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", -EPIPE, "3 bytes" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", -EPIPE,
	  "before the end of the reply" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", -EPIPE,
	  "before the end of the reply" },
};

#define OK_200 "HTTP/1.1 200 OK\r\n"
#define CHUNKED_200 OK_200 "Transfer-Encoding: chunked\r\n\r\n"

static const struct bad_case malformed[] = {
	{ "HTTP/2 200 OK\r\n\r\n", -EBADMSG, "malformed status line" },
	{ "HTTP/1.1 20 OK\r\n\r\n", -EBADMSG, "malformed status line" },
	{ "HTTP/1.1 2000 OK\r\n\r\n", -EBADMSG, "malformed status line" },
	{ "HTTP/1.1 099 Low\r\n\r\n", -EBADMSG, "invalid status code 99" },
	{ "HTTP/1.1 600 High\r\n\r\n", -EBADMSG, "invalid status code 600" },
	{ "\r\nHTTP/1.1 200 OK\r\n\r\n", -EBADMSG, "malformed status line" },
	{ "HTTP/1.1 101 Switching Protocols\r\n\r\n", -EBADMSG, "101" },
	{ OK_200 "Content-Length: -1\r\n\r\n", -EBADMSG, "invalid Content-Length" },
	{ OK_200 "Content-Length: 1 2\r\n\r\n", -EBADMSG, "invalid Content-Length" },
	{ OK_200 "Content-Length:\r\n\r\n", -EBADMSG, "empty Content-Length" },
	{ OK_200 "Content-Length: 99999999999999999999\r\n\r\n", -EBADMSG, "too large" },
	{ OK_200 "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", -EBADMSG,
	  "conflicting Content-Length" },
	{ OK_200 "Transfer-Encoding: gzip, chunked\r\n\r\n", -EBADMSG,
	  "unsupported Transfer-Encoding" },
	{ OK_200 "No colon here\r\n\r\n", -EBADMSG, "malformed header line" },
	{ OK_200 ": value\r\n\r\n", -EBADMSG, "malformed header line" },
	{ OK_200 "Bad Name: x\r\n\r\n", -EBADMSG, "malformed header name" },
	{ OK_200 "A: b\r\n c\r\n\r\n", -EBADMSG, "folded header" },
	{ CHUNKED_200 "xyz\r\n", -EBADMSG, "malformed chunk size" },
	{ CHUNKED_200 "0x10\r\n", -EBADMSG, "malformed chunk size" },
	{ CHUNKED_200 "\r\n", -EBADMSG, "malformed chunk size" },
	{ CHUNKED_200 "5 x\r\n", -EBADMSG, "malformed chunk size" },
	{ CHUNKED_200 "10000000000000000\r\n", -EBADMSG, "chunk size" },
	{ CHUNKED_200 "2\r\nabc\r\n", -EBADMSG, "chunk data longer than its size" },
};

static void test_early_close(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(early_close); i++)
		expect_error(early_close[i].text, BIG, early_close[i].code, early_close[i].want);
}

static void test_malformed(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(malformed); i++)
		expect_error(malformed[i].text, BIG, malformed[i].code, malformed[i].want);
}

static void test_nul_byte(void **state)
{
	const char text[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";
	struct berr err = BERR_INIT;
	struct http_reply r;

	http_reply_init(&r, BIG, NULL, NULL);
	assert_int_equal(http_reply_feed(&r, text, sizeof(text) - 1, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "NUL byte"));
	/* once failed, it stays failed */
	assert_int_equal(http_reply_feed(&r, "\r\n", 2, &err), -EBADMSG);
	assert_int_equal(http_reply_eof(&r, &err), -EBADMSG);
	http_reply_release(&r);
}

static void test_line_and_head_bounds(void **state)
{
	struct berr err = BERR_INIT;
	struct http_reply r;
	char *text = xmalloc(HTTP_REPLY_HEAD_MAX + 64);
	size_t n;
	int ret = 0;

	/* one line just over the limit, never ending: refused without buffering it all */
	http_reply_init(&r, BIG, NULL, NULL);
	memset(text, 'a', HTTP_REPLY_LINE_MAX + 1);
	assert_int_equal(http_reply_feed(&r, "HTTP/1.1 200 OK\r\nX: ", 20, &err), 0);
	assert_int_equal(http_reply_feed(&r, text, HTTP_REPLY_LINE_MAX + 1, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "longer than 8192 bytes"));
	http_reply_release(&r);
	/* a line of exactly the limit is fine */
	http_reply_init(&r, BIG, NULL, NULL);
	memcpy(text, "X: ", 3);
	memset(text + 3, 'b', HTTP_REPLY_LINE_MAX - 3);
	memcpy(text + HTTP_REPLY_LINE_MAX, "\r\n", 2);
	assert_int_equal(http_reply_feed(&r, "HTTP/1.1 200 OK\r\n", 17, &err), 0);
	assert_int_equal(http_reply_feed(&r, text, HTTP_REPLY_LINE_MAX + 2, &err), -EBADMSG);
	http_reply_release(&r);
	http_reply_init(&r, BIG, NULL, NULL);
	assert_int_equal(http_reply_feed(&r, "HTTP/1.1 200 OK\r\n", 17, &err), 0);
	assert_int_equal(http_reply_feed(&r, text, HTTP_REPLY_LINE_MAX, &err), 0);
	assert_int_equal(http_reply_feed(&r, "\n", 1, &err), 0);
	http_reply_release(&r);
	/* many short headers: the section is bounded as a whole */
	http_reply_init(&r, BIG, NULL, NULL);
	assert_int_equal(http_reply_feed(&r, "HTTP/1.1 200 OK\r\n", 17, &err), 0);
	for (n = 17; ret == 0 && n <= HTTP_REPLY_HEAD_MAX + 16; n += 8)
		ret = http_reply_feed(&r, "A: 1234\n", 8, &err);
	assert_int_equal(ret, -EBADMSG);
	assert_non_null(strstr(err.msg, "headers are larger than"));
	assert_true(n > HTTP_REPLY_HEAD_MAX);
	http_reply_release(&r);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_done_before_close),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_until_close),
		cmocka_unit_test(test_no_body_statuses),
		cmocka_unit_test(test_body_bound),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_early_close),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_line_and_head_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
