/* SPDX-License-Identifier: Apache-2.0 */
/* Pure helpers of the HTTP API: URL decoding, version-prefix stripping, route matching, query
 * value parsing and the errno -> HTTP status mapping. No I/O, no global state: unit-tested in
 * tests/unit/test_api_parse.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/error.h"

/* cJSON values freed at the end of the scope: _cleanup_json_ cJSON *j = ...; */
static inline void http_json_freep(cJSON **p)
{
	cJSON_Delete(*p);
}
#define _cleanup_json_ __attribute__((cleanup(http_json_freep)))

#define HTTP_MAX_PARAMS 4
#define HTTP_PARAM_MAX 256

/* Values of the "{name}" segments of a matched route, URL-decoded, in pattern order. */
struct http_params {
	size_t n;
	char v[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
};

/* Percent-decode in[0..len) into out (NUL-terminated). Returns the decoded length, -EINVAL for a
 * malformed escape or an encoded NUL, -ENAMETOOLONG when out is too small. '+' is left alone. */
int http_url_decode(const char *in, size_t len, char *out, size_t out_size);

/* "/v1.41/networks" -> "/networks"; "/v1.41" -> ""; anything else is returned unchanged.
 * The prefix is "/v<digits>.<digits>" followed by '/' or the end of the path. */
const char *http_path_strip_version(const char *path);

/* Match a raw (still percent-encoded) path against a pattern such as "/networks/{id}/connect".
 * A last segment "{name*}" takes the rest of the path, '/' included ("/images/{name*}").
 * Returns 1 on a match (ret filled), 0 when the path has another shape, -EINVAL when the shape
 * matches but a "{...}" segment is empty, badly encoded or decodes to something containing '/',
 * -ENAMETOOLONG when it is longer than HTTP_PARAM_MAX - 1. */
int http_path_match(const char *pattern, const char *path, struct http_params *ret);

/* "KILL", "SIGKILL", "kill", "9", "SIGRTMIN+3" -> signal number. -EINVAL if unknown or out of range. */
int http_signal_parse(const char *s, int *ret_sig);

/* "1"/"true"/"yes"/"0"/"false"/"no" (case-insensitive); NULL or "" -> def. -EINVAL otherwise. */
int http_bool_parse(const char *s, bool def, bool *ret);

/* Non-negative decimal integer not above max; NULL or "" -> def. -EINVAL / -ERANGE otherwise. */
int http_uint_parse(const char *s, long def, long max, long *ret);

/* Docker filters JSON: {"name":["x",...]} or {"name":{"x":true}} -> first name copied to buf.
 * Returns 1 when a name was found, 0 when there is no name filter, -EINVAL for bad JSON or shape,
 * -ENAMETOOLONG when it does not fit. */
int http_filters_name(const char *filters, char *buf, size_t size);

/* Docker filters JSON, {"key": ["v", ...]} or {"key": {"v": true, ...}}, normalised to the
 * first form in *ret (caller frees): 1, 0 when there are none, -EINVAL for bad JSON or shape.
 * (Values are checked for UTF-8 by the caller's decoding of the whole query string.) */
int http_filters_parse(const char *filters, cJSON **ret);

/* Offset of the first byte of s[0..len) that is not part of well-formed UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF are not), len when every byte is. */
size_t http_utf8_invalid_at(const char *s, size_t len);

/* A malloc'd copy of s in which every byte that is not part of well-formed UTF-8 is written as
 * the four characters "\xNN": the result is always valid UTF-8. */
char *http_utf8_escape(const char *s);

/* Rewrites (http_utf8_escape) every key and string value under j that is not well-formed UTF-8,
 * so that printing j gives valid JSON text. */
void http_json_utf8_fix(cJSON *j);

/* A pre-parse scan of a JSON text: -ELOOP when arrays and objects nest deeper than max_depth,
 * -EILSEQ when it holds a NUL byte or a \u0000 escape (C strings would be cut short there);
 * *ret_at is the offending byte. 0 otherwise (the text may still be malformed JSON). */
int http_json_scan(const char *text, size_t len, int max_depth, size_t *ret_at);

/* A JSON text of len bytes (a NUL follows them) as a value of any type: nesting and NUL bytes
 * checked first (http_json_scan), trailing bytes after the value refused. The messages call it
 * "JSON body" and give the byte offset. */
int http_json_parse(const char *text, size_t len, int max_depth, cJSON **ret, struct berr *err);

/* Every key and string value under j is well-formed UTF-8: -EILSEQ naming the field (its path,
 * "Labels.a" or "Config[2]", is built in path[0..size), which starts as the prefix, usually ""). */
int http_json_utf8_check(const cJSON *j, char *path, size_t size, struct berr *err);

/* Negative errno of a manager call -> HTTP status (304 for -EALREADY, 500 for the unknown). */
int http_status_from_errno(int code);
