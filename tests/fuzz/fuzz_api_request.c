/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the HTTP request path of berthd's API: daemon/api_decode.c (route, path
 * parameters, typed query parameters, JSON body) and the reply side of daemon/http_util.c (the
 * error message escaped, reply strings made UTF-8), the code api.c runs for every request
 * between libmicrohttpd and the manager.
 *
 * Input: "METHOD TARGET\nBODY", TARGET = PATH[?QUERY], QUERY = k=v&k&...; split here the way
 * libmicrohttpd splits a request (berthd asks it not to unescape anything). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api_decode.h"
#include "daemon/http_util.h"

#define FUZZ_ARGS_MAX 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_request {
	char *line;   /* the request line, split in place */
	char *body;   /* size bytes + NUL */
	struct api_arg args[FUZZ_ARGS_MAX];
	struct api_input in;
};

static void fuzz_query_split(char *q, struct fuzz_request *f)
{
	char *save = NULL, *eq;

	for (char *kv = strtok_r(q, "&", &save); kv && f->in.n_args < FUZZ_ARGS_MAX;
	     kv = strtok_r(NULL, "&", &save)) {
		eq = strchr(kv, '=');
		if (eq)
			*eq++ = '\0';
		f->args[f->in.n_args++] = (struct api_arg){ .key = kv, .value = eq };
	}
}

static void fuzz_request_split(const uint8_t *data, size_t size, struct fuzz_request *f)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t line_len = nl ? (size_t)(nl - data) : size;
	size_t body_len = nl ? size - line_len - 1 : 0;
	char *sp, *q;

	f->line = xmalloc(line_len + 1);
	memcpy(f->line, data, line_len);
	f->line[line_len] = '\0';   /* MHD hands over C strings: a NUL ends them */
	f->body = xmalloc(body_len + 1);
	if (body_len)
		memcpy(f->body, nl + 1, body_len);
	f->body[body_len] = '\0';
	sp = strchr(f->line, ' ');
	if (sp)
		*sp++ = '\0';
	f->in.method = f->line;
	f->in.path = sp ? sp : "";
	q = sp ? strchr(sp, '?') : NULL;
	if (q) {
		*q++ = '\0';
		fuzz_query_split(q, f);
	}
	f->in.args = f->args;
	f->in.body = body_len ? f->body : NULL;
	f->in.len = body_len;
}

static bool fuzz_utf8(const char *s)
{
	return http_utf8_invalid_at(s, strlen(s)) == strlen(s);
}

/* What api.c sends for a failure: {"message": escaped}; it must be UTF-8 and read back equal. */
static void fuzz_error_reply(const struct api_request *r, const struct berr *err)
{
	_cleanup_free_ char *msg = http_utf8_escape(berr_str(err));
	cJSON *j = cJSON_CreateObject(), *back;
	char *text;

	if (r->status != 400 && r->status != 404 && r->status != 405 && r->status != 413 &&
	    r->status != 501)
		abort();
	if (!err->msg[0] || !fuzz_utf8(msg))
		abort();
	cJSON_AddStringToObject(j, "message", msg);
	text = cJSON_PrintUnformatted(j);
	back = cJSON_Parse(text);
	if (!back || strcmp(cJSON_GetObjectItem(back, "message")->valuestring, msg) != 0)
		abort();
	cJSON_Delete(back);
	free(text);
	cJSON_Delete(j);
}

/* Every string a handler gets is UTF-8; the reply guard then changes nothing. */
static void fuzz_decoded(const struct api_request *r)
{
	char *before, *after;

	if (r->op >= API_OP_COUNT)
		abort();
	for (size_t i = 0; i < r->params.n; i++)
		if (!fuzz_utf8(r->params.v[i]))
			abort();
	if ((r->name && !fuzz_utf8(r->name)) || (r->network && !fuzz_utf8(r->network)) ||
	    (r->type && !fuzz_utf8(r->type)) || !fuzz_utf8(r->filter_name))
		abort();
	if (!r->body)
		return;
	before = cJSON_PrintUnformatted(r->body);
	http_json_utf8_fix(r->body);
	after = cJSON_PrintUnformatted(r->body);
	if (!before || !after || strcmp(before, after) != 0 || !fuzz_utf8(after))
		abort();
	free(before);
	free(after);
}

/* The reply guard on any JSON, decoded or not: what it prints is UTF-8. */
static void fuzz_reply_guard(const char *body, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(body, len);
	char *text;

	if (!j)
		return;
	http_json_utf8_fix(j);
	text = cJSON_PrintUnformatted(j);
	if (text && !fuzz_utf8(text))
		abort();
	free(text);
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_request f = { .line = NULL };
	struct berr err = BERR_INIT;
	struct api_request r;

	fuzz_request_split(data, size, &f);
	if (api_request_decode(&f.in, &r, &err) < 0)
		fuzz_error_reply(&r, &err);
	else
		fuzz_decoded(&r);
	api_request_done(&r);
	if (f.in.len && http_json_scan(f.body, f.in.len, API_JSON_DEPTH_MAX, &(size_t){ 0 }) == 0)
		fuzz_reply_guard(f.body, f.in.len);
	free(f.line);
	free(f.body);
	return 0;
}
