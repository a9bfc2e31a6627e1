/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/http_reply.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

enum reply_state {
	ST_STATUS,       /* a line: "HTTP/1.x NNN reason" */
	ST_HEADER,       /* a line: a header, or the empty line that ends them */
	ST_BODY,         /* length bytes of a Content-Length body */
	ST_CHUNK_SIZE,   /* a line: hex size [;extensions] */
	ST_CHUNK_DATA,   /* length bytes of a chunk */
	ST_CHUNK_END,    /* a line: the empty line after a chunk's data */
	ST_TRAILER,      /* a line: a trailer field, or the empty line that ends the reply */
	ST_UNTIL_EOF,    /* a body framed by the end of the connection */
	ST_DONE,
	ST_FAILED,
};

void http_reply_init(struct http_reply *r, size_t body_max, http_body_fn on_body, void *ud)
{
	memset(r, 0, offsetof(struct http_reply, line));
	r->line[0] = '\0';
	r->body_max = body_max;
	r->line_max = HTTP_REPLY_LINE_MAX;
	r->head_max = HTTP_REPLY_HEAD_MAX;
	r->on_body = on_body;
	r->ud = ud;
	r->state = ST_STATUS;
}

void http_reply_release(struct http_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->len = r->cap = 0;
}

bool http_reply_done(const struct http_reply *r)
{
	return r->state == ST_DONE;
}

__attribute__((format(printf, 3, 4))) static int reply_fail(struct http_reply *r,
							    struct berr *err,
							    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	berr_setv(err, -EBADMSG, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* ---------------------------------------------------------------- the body */

static int body_collect(struct http_reply *r, const char *data, size_t n, struct berr *err)
{
	size_t cap;

	if (n > r->body_max - r->len)
		return berr_set(err, -E2BIG, "reply body is larger than %zu bytes", r->body_max);
	if (r->len + n + 1 > r->cap) {
		cap = r->cap ? r->cap : 4096;
		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > r->body_max + 1)
			cap = r->body_max + 1;
		r->body = xrealloc(r->body, cap);
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

static int body_deliver(struct http_reply *r, const char *data, size_t n, struct berr *err)
{
	if (n == 0)
		return 0;
	if (r->streaming)
		return r->on_body(r->ud, data, n, err);
	return body_collect(r, data, n, err);
}

/* A body of known size: refuse it before reading it when it cannot be collected. */
static int body_expect(struct http_reply *r, uint64_t size, struct berr *err)
{
	if (!r->streaming && size > r->body_max - r->len)
		return berr_set(err, -E2BIG, "reply body is larger than %zu bytes", r->body_max);
	return 0;
}

/* Consumes up to len body bytes; *used says how many. */
static int body_take(struct http_reply *r, const char *data, size_t len, size_t *used,
		     struct berr *err)
{
	size_t n = len;
	int ret;

	if (r->state != ST_UNTIL_EOF && r->length < n)
		n = (size_t)r->length;
	ret = body_deliver(r, data, n, err);
	if (ret < 0)
		return ret;
	*used = n;
	if (r->state == ST_UNTIL_EOF)
		return 0;
	r->length -= n;
	if (r->length == 0)
		r->state = r->state == ST_BODY ? ST_DONE : ST_CHUNK_END;
	return 0;
}

/* ---------------------------------------------------------------- status line and headers */

static int status_parse(struct http_reply *r, const char *line, struct berr *err)
{
	const char *p = line + 9;

	if (strncmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' || line[8] != ' ')
		return reply_fail(r, err, "malformed status line \"%.64s\"", line);
	for (int i = 0; i < 3; i++)
		if (p[i] < '0' || p[i] > '9')
			return reply_fail(r, err, "malformed status line \"%.64s\"", line);
	if (p[3] != ' ' && p[3] != '\0')
		return reply_fail(r, err, "malformed status line \"%.64s\"", line);
	r->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (r->status < 100 || r->status > 599)
		return reply_fail(r, err, "invalid status code %d", r->status);
	r->state = ST_HEADER;
	return 0;
}

static int length_parse(struct http_reply *r, const char *value, struct berr *err)
{
	uint64_t v = 0;

	if (!value[0])
		return reply_fail(r, err, "empty Content-Length");
	for (const char *p = value; *p; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (*p < '0' || *p > '9')
			return reply_fail(r, err, "invalid Content-Length \"%.32s\"", value);
		if (v > (UINT64_MAX - d) / 10)
			return reply_fail(r, err, "Content-Length %.32s is too large", value);
		v = v * 10 + d;
	}
	if (r->have_length && v != r->length)
		return reply_fail(r, err, "conflicting Content-Length headers");
	r->have_length = true;
	r->length = v;
	return 0;
}

static int coding_parse(struct http_reply *r, const char *value, struct berr *err)
{
	if (strcasecmp(value, "chunked") != 0)
		return reply_fail(r, err, "unsupported Transfer-Encoding \"%.32s\"", value);
	r->chunked = true;
	return 0;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

static int header_parse(struct http_reply *r, char *line, size_t len, struct berr *err)
{
	char *colon = memchr(line, ':', len), *value, *end = line + len;

	if (is_ows(line[0]))
		return reply_fail(r, err, "folded header line");
	if (!colon || colon == line)
		return reply_fail(r, err, "malformed header line \"%.64s\"", line);
	for (const char *p = line; p < colon; p++)
		if (is_ows(*p))
			return reply_fail(r, err, "malformed header name \"%.64s\"", line);
	value = colon + 1;
	while (is_ows(*value))
		value++;
	while (end > value && is_ows(end[-1]))
		*--end = '\0';
	if (name_is(line, (size_t)(colon - line), "Content-Length"))
		return length_parse(r, value, err);
	if (name_is(line, (size_t)(colon - line), "Transfer-Encoding"))
		return coding_parse(r, value, err);
	return 0;
}

/* The empty line after the headers: decide how the body is framed. */
static int headers_end(struct http_reply *r, struct berr *err)
{
	if (r->status == 101)
		return reply_fail(r, err, "unexpected 101 Switching Protocols");
	if (r->status < 200) {   /* interim reply: the real one follows */
		r->status = 0;
		r->chunked = r->have_length = false;
		r->length = 0;
		r->head_bytes = 0;
		r->state = ST_STATUS;
		return 0;
	}
	r->streaming = r->on_body && r->status < 300;
	if (r->status == 204 || r->status == 304) {
		r->state = ST_DONE;
		return 0;
	}
	if (r->chunked) {
		r->state = ST_CHUNK_SIZE;
		return 0;
	}
	if (!r->have_length) {
		r->state = ST_UNTIL_EOF;
		return 0;
	}
	r->state = r->length ? ST_BODY : ST_DONE;
	return body_expect(r, r->length, err);
}

/* ---------------------------------------------------------------- chunks */

static int chunk_size_parse(struct http_reply *r, const char *line, struct berr *err)
{
	const char *p = line;
	uint64_t size = 0;

	if (!isxdigit((unsigned char)*p))
		return reply_fail(r, err, "malformed chunk size \"%.32s\"", line);
	for (; isxdigit((unsigned char)*p); p++) {
		if (size > UINT64_MAX >> 4)
			return reply_fail(r, err, "chunk size %.32s is too large", line);
		size = size << 4 | (uint64_t)(*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
	}
	while (is_ows(*p))
		p++;
	if (*p != '\0' && *p != ';')
		return reply_fail(r, err, "malformed chunk size \"%.32s\"", line);
	if (size == 0) {
		r->head_bytes = 0;
		r->state = ST_TRAILER;
		return 0;
	}
	r->length = size;
	r->state = ST_CHUNK_DATA;
	return body_expect(r, size, err);
}

/* ---------------------------------------------------------------- lines */

static int line_parse(struct http_reply *r, char *line, size_t len, struct berr *err)
{
	if (memchr(line, '\0', len))
		return reply_fail(r, err, "NUL byte in the reply's framing");
	switch (r->state) {
	case ST_STATUS:
		return status_parse(r, line, err);
	case ST_HEADER:
		return len ? header_parse(r, line, len, err) : headers_end(r, err);
	case ST_CHUNK_SIZE:
		return chunk_size_parse(r, line, err);
	case ST_CHUNK_END:
		if (len)
			return reply_fail(r, err, "chunk data longer than its size");
		r->state = ST_CHUNK_SIZE;
		return 0;
	case ST_TRAILER:
		if (!len)
			r->state = ST_DONE;
		return 0;
	default:
		return reply_fail(r, err, "internal parser error");
	}
}

static bool state_in_head(int state)
{
	return state == ST_STATUS || state == ST_HEADER || state == ST_TRAILER;
}

/* Accumulates a line up to '\n' (a "\r\n" or a bare "\n" ends it); *used says how many bytes
 * were consumed. Parses the line once it is complete. */
static int line_take(struct http_reply *r, const char *data, size_t len, size_t *used,
		     struct berr *err)
{
	const char *nl = memchr(data, '\n', len);
	size_t n = nl ? (size_t)(nl - data) + 1 : len;
	size_t add = nl ? n - 1 : n, line_len;
	size_t line_max = r->line_max < HTTP_REPLY_LINE_MAX ? r->line_max : HTTP_REPLY_LINE_MAX;

	if (add > line_max - r->line_len)
		return reply_fail(r, err, "a line of the reply is longer than %zu bytes", line_max);
	if (state_in_head(r->state)) {
		if (n > r->head_max - r->head_bytes)
			return reply_fail(r, err, "reply headers are larger than %zu bytes",
					  r->head_max);
		r->head_bytes += n;
	}
	memcpy(r->line + r->line_len, data, add);
	r->line_len += add;
	*used = n;
	if (!nl)
		return 0;
	line_len = r->line_len;
	r->line_len = 0;
	if (line_len && r->line[line_len - 1] == '\r')
		line_len--;
	r->line[line_len] = '\0';
	return line_parse(r, r->line, line_len, err);
}

int http_reply_feed(struct http_reply *r, const char *data, size_t len, struct berr *err)
{
	size_t used;
	int ret;

	if (r->state == ST_FAILED)
		return berr_set(err, r->error, "the reply was already found invalid");
	if (len)
		r->got_bytes = true;
	while (len && r->state != ST_DONE) {
		used = 0;
		if (r->state == ST_BODY || r->state == ST_CHUNK_DATA || r->state == ST_UNTIL_EOF)
			ret = body_take(r, data, len, &used, err);
		else
			ret = line_take(r, data, len, &used, err);
		if (ret < 0) {
			r->state = ST_FAILED;
			r->error = ret;
			return ret;
		}
		data += used;
		len -= used;
	}
	return 0;
}

int http_reply_eof(struct http_reply *r, struct berr *err)
{
	switch (r->state) {
	case ST_DONE:
		return 0;
	case ST_UNTIL_EOF:
		r->state = ST_DONE;
		return 0;
	case ST_FAILED:
		return berr_set(err, r->error, "the reply was already found invalid");
	case ST_BODY:
	case ST_CHUNK_DATA:
		return berr_set(err, -EPIPE,
				"connection closed with %llu bytes of the reply's body still to come",
				(unsigned long long)r->length);
	default:
		if (!r->got_bytes)
			return berr_set(err, -EPIPE, "connection closed without a reply");
		return berr_set(err, -EPIPE, "connection closed before the end of the reply");
	}
}
