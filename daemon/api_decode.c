/* SPDX-License-Identifier: Apache-2.0 */
/* Request decoding: route table, path parameters, query parameters, JSON body. Every string a
 * handler receives is well-formed UTF-8, so nothing the client sent can make a reply invalid
 * JSON by being echoed. */
#include "daemon/api_decode.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

#define API_STOP_TIMEOUT_DEFAULT 10L
#define API_FIELD_PATH_MAX 200

enum api_body_kind { API_BODY_NONE, API_BODY_OPTIONAL, API_BODY_REQUIRED };

typedef int (*api_query_fn)(const struct api_input *in, struct api_request *r, struct berr *err);

struct api_route {
	const char *method;
	const char *pattern;
	enum api_op op;
	enum api_body_kind body;
	api_query_fn query; /* decodes the op's query parameters; NULL: none */
};

/* ---------------------------------------------------------------- query parameters */

static const char *api_arg_raw(const struct api_input *in, const char *key)
{
	for (size_t i = 0; i < in->n_args; i++)
		if (in->args[i].key && !strcmp(in->args[i].key, key))
			return in->args[i].value ? in->args[i].value : "";
	return NULL;
}

/* The decoded value of ?key= (*ret NULL when absent). */
static int api_query_string(const struct api_input *in, const char *key, char **ret,
			    struct berr *err)
{
	const char *raw = api_arg_raw(in, key);
	size_t len, at;
	char *out;

	*ret = NULL;
	if (!raw)
		return 0;
	len = strlen(raw);
	out = xmalloc(len + 1);
	if (http_url_decode(raw, len, out, len + 1) < 0) {
		free(out);
		return berr_set(err, -EINVAL, "query parameter %s is not valid URL encoding", key);
	}
	at = http_utf8_invalid_at(out, strlen(out));
	if (at < strlen(out)) {
		berr_set(err, -EILSEQ, "query parameter %s is not valid UTF-8 (byte 0x%02x at offset %zu)",
			 key, (unsigned char)out[at], at);
		free(out);
		return -EILSEQ;
	}
	*ret = out;
	return 0;
}

static int api_query_bool(const struct api_input *in, const char *key, bool *ret, struct berr *err)
{
	_cleanup_free_ char *v = NULL;
	int r;

	r = api_query_string(in, key, &v, err);
	if (r < 0)
		return r;
	if (http_bool_parse(v, false, ret) < 0)
		return berr_set(err, -EINVAL,
				"query parameter %s must be 1, true, 0 or false, not \"%s\"", key, v);
	return 0;
}

static int api_query_network_list(const struct api_input *in, struct api_request *r,
				  struct berr *err)
{
	_cleanup_free_ char *filters = NULL;
	int n;

	n = api_query_string(in, "filters", &filters, err);
	if (n < 0)
		return n;
	n = http_filters_name(filters, r->filter_name, sizeof(r->filter_name));
	if (n < 0)
		return berr_set(err, n,
				"query parameter filters must be JSON like {\"name\":[\"net\"]}");
	if (n == 0)
		r->filter_name[0] = '\0';
	return 0;
}

static int api_query_container_create(const struct api_input *in, struct api_request *r,
				      struct berr *err)
{
	return api_query_string(in, "name", &r->name, err);
}

static int api_query_container_stop(const struct api_input *in, struct api_request *r,
				    struct berr *err)
{
	_cleanup_free_ char *t = NULL;
	int n;

	n = api_query_string(in, "t", &t, err);
	if (n < 0)
		return n;
	if (http_uint_parse(t, API_STOP_TIMEOUT_DEFAULT, API_STOP_TIMEOUT_MAX, &r->timeout) < 0)
		return berr_set(err, -EINVAL,
				"query parameter t must be a number of seconds between 0 and %ld, not \"%s\"",
				API_STOP_TIMEOUT_MAX, t);
	return 0;
}

static int api_query_container_kill(const struct api_input *in, struct api_request *r,
				    struct berr *err)
{
	_cleanup_free_ char *s = NULL;
	int n;

	n = api_query_string(in, "signal", &s, err);
	if (n < 0)
		return n;
	if (http_signal_parse(s && *s ? s : "KILL", &r->signal) < 0)
		return berr_set(err, -EINVAL, "invalid signal \"%s\": expected a name such as "
				"KILL or SIGTERM, or a number", s);
	return 0;
}

static int api_query_container_remove(const struct api_input *in, struct api_request *r,
				      struct berr *err)
{
	return api_query_bool(in, "force", &r->force, err);
}

static int api_query_container_list(const struct api_input *in, struct api_request *r,
				    struct berr *err)
{
	return api_query_bool(in, "all", &r->all, err);
}

static int api_query_container_logs(const struct api_input *in, struct api_request *r,
				    struct berr *err)
{
	return api_query_bool(in, "follow", &r->follow, err);
}

static int api_query_dns_lookup(const struct api_input *in, struct api_request *r,
				struct berr *err)
{
	int n;

	n = api_query_string(in, "name", &r->name, err);
	if (n >= 0)
		n = api_query_string(in, "network", &r->network, err);
	if (n >= 0)
		n = api_query_string(in, "type", &r->type, err);
	return n;
}

/* ---------------------------------------------------------------- routes */

/* Literal paths come before the patterns that would also match them. */
static const struct api_route api_routes[] = {
	{ "GET", "/_ping", API_OP_PING, API_BODY_NONE, NULL },
	{ "HEAD", "/_ping", API_OP_PING, API_BODY_NONE, NULL },
	{ "GET", "/version", API_OP_VERSION, API_BODY_NONE, NULL },
	{ "GET", "/info", API_OP_INFO, API_BODY_NONE, NULL },
	{ "POST", "/networks/create", API_OP_NETWORK_CREATE, API_BODY_REQUIRED, NULL },
	{ "POST", "/networks/prune", API_OP_NETWORK_PRUNE, API_BODY_NONE, NULL },
	{ "POST", "/firewall/reload", API_OP_FIREWALL_RELOAD, API_BODY_NONE, NULL },
	{ "GET", "/networks", API_OP_NETWORK_LIST, API_BODY_NONE, api_query_network_list },
	{ "GET", "/networks/{id}", API_OP_NETWORK_INSPECT, API_BODY_NONE, NULL },
	{ "DELETE", "/networks/{id}", API_OP_NETWORK_REMOVE, API_BODY_NONE, NULL },
	{ "POST", "/networks/{id}/connect", API_OP_NETWORK_CONNECT, API_BODY_REQUIRED, NULL },
	{ "POST", "/networks/{id}/disconnect", API_OP_NETWORK_DISCONNECT, API_BODY_REQUIRED, NULL },
	{ "POST", "/containers/create", API_OP_CONTAINER_CREATE, API_BODY_OPTIONAL,
	  api_query_container_create },
	{ "GET", "/containers/json", API_OP_CONTAINER_LIST, API_BODY_NONE, api_query_container_list },
	{ "POST", "/containers/{id}/start", API_OP_CONTAINER_START, API_BODY_NONE, NULL },
	{ "POST", "/containers/{id}/stop", API_OP_CONTAINER_STOP, API_BODY_NONE,
	  api_query_container_stop },
	{ "POST", "/containers/{id}/kill", API_OP_CONTAINER_KILL, API_BODY_NONE,
	  api_query_container_kill },
	{ "POST", "/containers/{id}/wait", API_OP_CONTAINER_WAIT, API_BODY_NONE, NULL },
	{ "DELETE", "/containers/{id}", API_OP_CONTAINER_REMOVE, API_BODY_NONE,
	  api_query_container_remove },
	{ "GET", "/containers/{id}/json", API_OP_CONTAINER_INSPECT, API_BODY_NONE, NULL },
	{ "GET", "/containers/{id}/logs", API_OP_CONTAINER_LOGS, API_BODY_NONE,
	  api_query_container_logs },
	{ "GET", "/dns/lookup", API_OP_DNS_LOOKUP, API_BODY_NONE, api_query_dns_lookup },
	{ "GET", "/dns/stats", API_OP_DNS_STATS, API_BODY_NONE, NULL },
};

static void api_allow_append(char *allow, size_t size, const char *method)
{
	size_t len = strlen(allow);

	if (strstr(allow, method))
		return;
	snprintf(allow + len, size - len, "%s%s", len ? ", " : "", method);
}

static int api_fail(struct api_request *r, int status, int code)
{
	r->status = status;
	return code;
}

/* Every path parameter must be well-formed UTF-8. */
static int api_params_check(struct api_request *r, struct berr *err)
{
	for (size_t i = 0; i < r->params.n; i++) {
		size_t len = strlen(r->params.v[i]), at = http_utf8_invalid_at(r->params.v[i], len);

		if (at < len)
			return berr_set(err, -EILSEQ,
					"invalid path parameter {id}: not valid UTF-8 (byte 0x%02x at offset %zu)",
					(unsigned char)r->params.v[i][at], at);
	}
	return 0;
}

/* Finds the route of method + path: 0 with *ret set, or 404, 405 (ret->allow) or 400 for a bad
 * path parameter. */
static int api_route_find(const char *method, const char *path, struct api_request *r,
			  const struct api_route **ret, struct berr *err)
{
	bool known = false;
	int m, bad = 0;

	for (size_t i = 0; i < ARRAY_SIZE(api_routes); i++) {
		m = http_path_match(api_routes[i].pattern, path, &r->params);
		if (m == 0)
			continue;
		if (m < 0) {
			bad = m;
			continue;
		}
		if (!strcmp(method, api_routes[i].method)) {
			*ret = &api_routes[i];
			return 0;
		}
		known = true;
		api_allow_append(r->allow, sizeof(r->allow), api_routes[i].method);
	}
	r->params.n = 0;
	if (known)
		return api_fail(r, 405, berr_set(err, -EOPNOTSUPP, "method %s is not allowed on %s "
						 "(allowed: %s)", method, path, r->allow));
	if (bad)
		return api_fail(r, 400, berr_set(err, bad, bad == -ENAMETOOLONG
						 ? "path parameter is too long" : "invalid path parameter"));
	return api_fail(r, 404, berr_set(err, -ENOENT, "page not found"));
}

/* ---------------------------------------------------------------- JSON body */

/* The body as a JSON object (an empty body is {} unless required). */
static int api_body_decode(const struct api_input *in, bool required, struct api_request *r,
			   struct berr *err)
{
	char path[API_FIELD_PATH_MAX] = "";
	int n;

	if (in->len > API_BODY_MAX)
		return api_fail(r, 413, berr_set(err, -E2BIG, "request body exceeds 1 MiB"));
	if (in->len == 0 && required)
		return api_fail(r, 400, berr_set(err, -EINVAL, "request body is empty: a JSON object is expected"));
	if (in->len == 0) {
		r->body = cJSON_CreateObject();
		return r->body ? 0 : -ENOMEM;
	}
	n = http_json_parse(in->body, in->len, API_JSON_DEPTH_MAX, &r->body, err);
	if (n < 0)
		return api_fail(r, 400, n);
	if (!cJSON_IsObject(r->body))
		return api_fail(r, 400, berr_set(err, -EINVAL, "request body must be a JSON object"));
	n = http_json_utf8_check(r->body, path, sizeof(path), err);
	return n < 0 ? api_fail(r, 400, n) : 0;
}

/* ---------------------------------------------------------------- entry points */

int api_request_decode(const struct api_input *in, struct api_request *ret, struct berr *err)
{
	const struct api_route *route = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->timeout = API_STOP_TIMEOUT_DEFAULT;
	ret->signal = SIGKILL;
	r = api_route_find(in->method, http_path_strip_version(in->path), ret, &route, err);
	if (r < 0)
		return r;
	ret->op = route->op;
	r = api_params_check(ret, err);
	if (r >= 0 && route->query)
		r = route->query(in, ret, err);
	if (r < 0)
		return api_fail(ret, 400, r);
	if (route->body != API_BODY_NONE)
		return api_body_decode(in, route->body == API_BODY_REQUIRED, ret, err);
	return 0;
}

void api_request_done(struct api_request *r)
{
	cJSON_Delete(r->body);
	free(r->name);
	free(r->network);
	free(r->type);
	r->body = NULL;
	r->name = r->network = r->type = NULL;
}
