/* SPDX-License-Identifier: Apache-2.0 */
/* Pure helpers of the HTTP API: URL decoding, version-prefix stripping, route matching, query
 * value parsing and the errno -> HTTP status mapping. No I/O, no global state: unit-tested in
 * tests/unit/test_api_parse.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

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

/* Negative errno of a manager call -> HTTP status (304 for -EALREADY, 500 for the unknown). */
int http_status_from_errno(int code);
