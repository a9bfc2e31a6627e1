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

/* UPLOAD: the body is spooled to a file by the server, never decoded here. */
enum api_body_kind { API_BODY_NONE, API_BODY_OPTIONAL, API_BODY_REQUIRED, API_BODY_UPLOAD };

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

/* ?filters=: r->filters, and r->filter_name (the first name) for berth's own clients. */
static int api_query_filters(const struct api_input *in, struct api_request *r,
			     struct berr *err)
{
	_cleanup_free_ char *filters = NULL;
	int n;

	n = api_query_string(in, "filters", &filters, err);
	if (n < 0)
		return n;
	n = http_filters_name(filters, r->filter_name, sizeof(r->filter_name));
	if (n >= 0)
		n = http_filters_parse(filters, &r->filters);
	if (n < 0)
		return berr_set(err, n,
				"query parameter filters must be JSON like {\"name\":[\"net\"]}");
	return 0;
}

static int api_query_long(const struct api_input *in, const char *key, long def, long max,
			  long *ret, struct berr *err)
{
	_cleanup_free_ char *v = NULL;
	int n = api_query_string(in, key, &v, err);

	if (n < 0)
		return n;
	if (http_uint_parse(v, def, max, ret) < 0)
		return berr_set(err, -EINVAL, "query parameter %s must be a number between 0 and %ld, "
				"not \"%s\"", key, max, v);
	return 0;
}

/* A time bound of the logs: absent, "" or "0" is none. */
static int api_query_time_given(const struct api_input *in, const char *key, bool *ret,
				struct berr *err)
{
	_cleanup_free_ char *v = NULL;
	int n = api_query_string(in, key, &v, err);

	*ret = v && *v && strcmp(v, "0") != 0;
	return n;
}

static int api_query_network_list(const struct api_input *in, struct api_request *r,
				  struct berr *err)
{
	return api_query_filters(in, r, err);
}

static int api_query_network_inspect(const struct api_input *in, struct api_request *r,
				     struct berr *err)
{
	_cleanup_free_ char *scope = NULL;
	bool verbose;
	int n = api_query_bool(in, "verbose", &verbose, err);

	if (n >= 0)
		n = api_query_string(in, "scope", &scope, err);
	if (n >= 0 && scope && *scope && strcmp(scope, "local") && strcmp(scope, "swarm") &&
	    strcmp(scope, "global"))
		n = berr_set(err, -EINVAL, "invalid scope \"%s\": local, swarm or global", scope);
	/* berth's networks are all local: another scope finds none */
	if (n >= 0 && scope && *scope && strcmp(scope, "local"))
		strscpy(r->condition, "none", sizeof(r->condition));
	return n;
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
	int n = api_query_bool(in, "force", &r->force, err);

	if (n >= 0)
		n = api_query_bool(in, "v", &r->volumes, err);
	return n < 0 ? n : api_query_bool(in, "link", &r->link, err);
}

static int api_query_container_list(const struct api_input *in, struct api_request *r,
				    struct berr *err)
{
	int n = api_query_bool(in, "all", &r->all, err);

	if (n >= 0)
		n = api_query_bool(in, "size", &r->size, err);
	if (n >= 0)
		n = api_query_long(in, "limit", -1, 1L << 30, &r->limit, err);
	return n < 0 ? n : api_query_filters(in, r, err);
}

/* stdout, stderr (berth's own clients: both when neither is given), tail ("all" or N). */
static int api_query_logs_streams(const struct api_input *in, struct api_request *r,
				  struct berr *err)
{
	_cleanup_free_ char *tail = NULL;
	int n = api_query_bool(in, "stdout", &r->out, err);

	if (n >= 0)
		n = api_query_bool(in, "stderr", &r->err_stream, err);
	if (n >= 0 && !r->docker && !api_arg_raw(in, "stdout") && !api_arg_raw(in, "stderr"))
		r->out = r->err_stream = true;
	if (n >= 0)
		n = api_query_string(in, "tail", &tail, err);
	if (n < 0)
		return n;
	r->tail = -1;
	if (tail && *tail && strcmp(tail, "all") && http_uint_parse(tail, -1, 1L << 30, &r->tail) < 0)
		return berr_set(err, -EINVAL, "query parameter tail must be \"all\" or a number of "
				"lines, not \"%s\"", tail);
	return 0;
}

static int api_query_container_logs(const struct api_input *in, struct api_request *r,
				    struct berr *err)
{
	int n = api_query_bool(in, "follow", &r->follow, err);

	if (n >= 0)
		n = api_query_logs_streams(in, r, err);
	if (n >= 0)
		n = api_query_bool(in, "timestamps", &r->timestamps, err);
	if (n >= 0)
		n = api_query_time_given(in, "since", &r->since, err);
	return n < 0 ? n : api_query_time_given(in, "until", &r->until, err);
}

static int api_query_container_wait(const struct api_input *in, struct api_request *r,
				    struct berr *err)
{
	_cleanup_free_ char *c = NULL;
	int n = api_query_string(in, "condition", &c, err);

	if (n < 0)
		return n;
	if (c && *c && strcmp(c, "not-running") && strcmp(c, "next-exit") && strcmp(c, "removed"))
		return berr_set(err, -EINVAL, "invalid condition \"%s\": not-running, next-exit or "
				"removed", c);
	strscpy(r->condition, c && *c ? c : "not-running", sizeof(r->condition));
	return 0;
}

static int api_query_network_prune(const struct api_input *in, struct api_request *r,
				   struct berr *err)
{
	return api_query_filters(in, r, err);
}

static int api_query_container_stats(const struct api_input *in, struct api_request *r,
				     struct berr *err)
{
	_cleanup_free_ char *v = NULL;
	int n;

	n = api_query_string(in, "stream", &v, err);
	if (n >= 0 && http_bool_parse(v, true, &r->stream) < 0)
		n = berr_set(err, -EINVAL, "query parameter stream must be 1, true, 0 or false, "
			     "not \"%s\"", v);
	if (n >= 0)
		n = api_query_bool(in, "one-shot", &r->one_shot, err);
	return n;
}

/* Unix time "S" or "S.F" (F: up to 9 digits) -> ns. */
static int api_time_parse(const char *s, int64_t *ret)
{
	int64_t sec = 0, frac = 0, scale = 100000000;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (sec > 10000000000LL)
			return -ERANGE;
		sec = sec * 10 + (*p - '0');
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && scale > 0; p++, scale /= 10)
			frac += (*p - '0') * scale;
	if (*p)
		return -EINVAL;
	*ret = sec * 1000000000 + frac;
	return 0;
}

static int api_query_time(const struct api_input *in, const char *key, int64_t *ret,
			  struct berr *err)
{
	_cleanup_free_ char *v = NULL;
	int n;

	*ret = 0;
	n = api_query_string(in, key, &v, err);
	if (n < 0 || !v || !*v)
		return n;
	if (api_time_parse(v, ret) < 0)
		return berr_set(err, -EINVAL, "query parameter %s must be a unix time in seconds "
				"(such as 1700000000.5), not \"%s\"", key, v);
	return 0;
}

static int api_query_events(const struct api_input *in, struct api_request *r, struct berr *err)
{
	int n;

	n = api_query_time(in, "since", &r->since_ns, err);
	if (n >= 0)
		n = api_query_time(in, "until", &r->until_ns, err);
	if (n >= 0)
		n = api_query_string(in, "filters", &r->events_filters, err);
	return n;
}

static int api_query_image_load(const struct api_input *in, struct api_request *r,
				struct berr *err)
{
	return api_query_bool(in, "quiet", &r->quiet, err);
}

/* docker import: fromSrc=- (the body), repo, tag. Pulling (fromImage) needs a registry. */
static int api_query_image_create(const struct api_input *in, struct api_request *r,
				  struct berr *err)
{
	_cleanup_free_ char *src = NULL, *from_image = NULL;
	int n;

	n = api_query_string(in, "fromSrc", &src, err);
	if (n >= 0)
		n = api_query_string(in, "fromImage", &from_image, err);
	if (n >= 0)
		n = api_query_string(in, "repo", &r->repo, err);
	if (n >= 0)
		n = api_query_string(in, "tag", &r->tag, err);
	if (n < 0)
		return n;
	if (from_image)
		return berr_set(err, -EOPNOTSUPP, "berth does not support pulling images from a "
				"registry: load them with berth image load (docker save archives, "
				"OCI layouts)");
	if (!src || strcmp(src, "-"))
		return berr_set(err, -EINVAL, "query parameter fromSrc must be \"-\" (the body)");
	return 0;
}

static int api_query_image_remove(const struct api_input *in, struct api_request *r,
				  struct berr *err)
{
	return api_query_bool(in, "force", &r->force, err);
}

static int api_query_attach(const struct api_input *in, struct api_request *r, struct berr *err)
{
	int n;

	n = api_query_bool(in, "stdin", &r->in, err);
	if (n >= 0)
		n = api_query_bool(in, "stdout", &r->out, err);
	if (n >= 0)
		n = api_query_bool(in, "stderr", &r->err, err);
	if (n >= 0)
		n = api_query_bool(in, "logs", &r->logs, err);
	if (n >= 0)
		n = api_query_string(in, "detachKeys", &r->detach_keys, err);
	return n;
}

static int api_query_resize(const struct api_input *in, struct api_request *r, struct berr *err)
{
	_cleanup_free_ char *h = NULL, *w = NULL;
	int n;

	n = api_query_string(in, "h", &h, err);
	if (n >= 0)
		n = api_query_string(in, "w", &w, err);
	if (n < 0)
		return n;
	if (http_uint_parse(h, 0, 65535, &r->height) < 0 || http_uint_parse(w, 0, 65535, &r->width) < 0)
		return berr_set(err, -EINVAL, "query parameters h and w must be numbers up to 65535");
	return 0;
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

static int api_query_network_probe(const struct api_input *in, struct api_request *r,
				   struct berr *err)
{
	return api_query_bool(in, "progress", &r->progress, err);
}

static int api_query_cni_status(const struct api_input *in, struct api_request *r,
				struct berr *err)
{
	return api_query_string(in, "network", &r->network, err);
}

/* ---------------------------------------------------------------- routes */

/* Literal paths come before the patterns that would also match them. */
static const struct api_route api_routes[] = {
	{ "GET", "/_ping", API_OP_PING, API_BODY_NONE, NULL },
	{ "HEAD", "/_ping", API_OP_PING, API_BODY_NONE, NULL },
	{ "GET", "/version", API_OP_VERSION, API_BODY_NONE, NULL },
	{ "GET", "/info", API_OP_INFO, API_BODY_NONE, NULL },
	{ "POST", "/networks/create", API_OP_NETWORK_CREATE, API_BODY_REQUIRED, NULL },
	{ "POST", "/networks/prune", API_OP_NETWORK_PRUNE, API_BODY_NONE, api_query_network_prune },
	{ "POST", "/networks/probe", API_OP_NETWORK_PROBE, API_BODY_OPTIONAL,
	  api_query_network_probe },
	{ "POST", "/firewall/reload", API_OP_FIREWALL_RELOAD, API_BODY_NONE, NULL },
	{ "GET", "/networks", API_OP_NETWORK_LIST, API_BODY_NONE, api_query_network_list },
	{ "GET", "/networks/{id}", API_OP_NETWORK_INSPECT, API_BODY_NONE, api_query_network_inspect },
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
	{ "POST", "/containers/{id}/wait", API_OP_CONTAINER_WAIT, API_BODY_NONE,
	  api_query_container_wait },
	{ "DELETE", "/containers/{id}", API_OP_CONTAINER_REMOVE, API_BODY_NONE,
	  api_query_container_remove },
	{ "GET", "/containers/{id}/json", API_OP_CONTAINER_INSPECT, API_BODY_NONE, NULL },
	{ "GET", "/containers/{id}/logs", API_OP_CONTAINER_LOGS, API_BODY_NONE,
	  api_query_container_logs },
	{ "GET", "/containers/{id}/stats", API_OP_CONTAINER_STATS, API_BODY_NONE,
	  api_query_container_stats },
	{ "GET", "/events", API_OP_EVENTS, API_BODY_NONE, api_query_events },
	{ "POST", "/images/load", API_OP_IMAGE_LOAD, API_BODY_UPLOAD, api_query_image_load },
	{ "POST", "/images/create", API_OP_IMAGE_CREATE, API_BODY_UPLOAD, api_query_image_create },
	{ "GET", "/images/json", API_OP_IMAGE_LIST, API_BODY_NONE, NULL },
	{ "DELETE", "/images/{name*}", API_OP_IMAGE_REMOVE, API_BODY_NONE, api_query_image_remove },
	{ "POST", "/containers/{id}/attach", API_OP_CONTAINER_ATTACH, API_BODY_NONE, api_query_attach },
	{ "POST", "/containers/{id}/resize", API_OP_CONTAINER_RESIZE, API_BODY_NONE, api_query_resize },
	{ "POST", "/containers/{id}/exec", API_OP_EXEC_CREATE, API_BODY_REQUIRED, NULL },
	{ "POST", "/exec/{id}/start", API_OP_EXEC_START, API_BODY_OPTIONAL, NULL },
	{ "POST", "/exec/{id}/resize", API_OP_EXEC_RESIZE, API_BODY_NONE, api_query_resize },
	{ "GET", "/exec/{id}/json", API_OP_EXEC_INSPECT, API_BODY_NONE, NULL },
	{ "GET", "/dns/lookup", API_OP_DNS_LOOKUP, API_BODY_NONE, api_query_dns_lookup },
	{ "GET", "/dns/stats", API_OP_DNS_STATS, API_BODY_NONE, NULL },
	{ "POST", "/cni/add", API_OP_CNI_ADD, API_BODY_REQUIRED, NULL },
	{ "POST", "/cni/del", API_OP_CNI_DEL, API_BODY_REQUIRED, NULL },
	{ "POST", "/cni/check", API_OP_CNI_CHECK, API_BODY_REQUIRED, NULL },
	{ "POST", "/cni/gc", API_OP_CNI_GC, API_BODY_REQUIRED, NULL },
	{ "GET", "/cni/status", API_OP_CNI_STATUS, API_BODY_NONE, api_query_cni_status },
	{ "GET", "/images/{id}/json", API_OP_IMAGE_INSPECT, API_BODY_NONE, NULL },
};

/* Docker endpoints berth does not implement: 501 with what is missing, never a 404 that a client
 * could take for "no such object" (images are berth's own: `berth image import`). */
static const struct {
	const char *method, *pattern, *what;
} api_unsupported[] = {
	{ "POST", "/images/{id}/push", "pushing images" },
	{ "POST", "/images/{id}/tag", "tagging images" },
	{ "GET", "/images/{id}/history", "image history" },
	{ "GET", "/images/search", "searching registries" },
	{ "POST", "/images/prune", "pruning images" },
	{ "POST", "/build", "building images" },
	{ "POST", "/commit", "committing containers to images" },
	{ "POST", "/containers/prune", "pruning containers" },
	{ "GET", "/containers/{id}/attach/ws", "attaching to containers (run them with -d)" },
	{ "GET", "/images/get", "saving images" },
	{ "GET", "/images/{id}/get", "saving images" },
	{ "POST", "/containers/{id}/restart", "restarting containers (stop, then start)" },
	{ "POST", "/containers/{id}/pause", "pausing containers" },
	{ "POST", "/containers/{id}/unpause", "pausing containers" },
	{ "POST", "/containers/{id}/rename", "renaming containers" },
	{ "POST", "/containers/{id}/update", "updating containers" },
	{ "GET", "/containers/{id}/top", "listing container processes" },
	{ "GET", "/containers/{id}/changes", "container filesystem changes" },
	{ "GET", "/containers/{id}/export", "exporting containers" },
	{ "PUT", "/containers/{id}/archive", "copying files into containers" },
	{ "GET", "/containers/{id}/archive", "copying files out of containers" },
	{ "HEAD", "/containers/{id}/archive", "copying files out of containers" },
	{ "GET", "/volumes", "volumes" },
	{ "POST", "/volumes/create", "volumes" },
	{ "GET", "/volumes/{id}", "volumes" },
	{ "DELETE", "/volumes/{id}", "volumes" },
	{ "POST", "/volumes/prune", "volumes" },
	{ "GET", "/system/df", "disk usage" },
	{ "GET", "/swarm", "swarm mode" },
	{ "POST", "/swarm/init", "swarm mode" },
	{ "POST", "/swarm/join", "swarm mode" },
	{ "GET", "/services", "swarm services" },
	{ "GET", "/nodes", "swarm nodes" },
	{ "GET", "/tasks", "swarm tasks" },
	{ "GET", "/secrets", "swarm secrets" },
	{ "GET", "/configs", "swarm configs" },
	{ "GET", "/plugins", "Docker plugins (berth serves its own: berthd --docker-plugin)" },
	{ "POST", "/auth", "registry logins" },
	{ "GET", "/distribution/{id}/json", "registries" },
	{ "POST", "/session", "build sessions" },
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
	for (size_t i = 0; !known && i < ARRAY_SIZE(api_unsupported); i++)
		if (http_path_match(api_unsupported[i].pattern, path, &r->params) > 0 &&
		    !strcmp(method, api_unsupported[i].method)) {
			r->params.n = 0;
			r->what = api_unsupported[i].what;
			*ret = NULL;
			return 0;
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

/* "1.41" -> 1041 (major * 1000 + minor), -1 when it is not a version. */
static long api_version_value(const char *s, size_t len)
{
	long major = 0, minor = 0;
	size_t i = 0;

	for (; i < len && s[i] >= '0' && s[i] <= '9' && major < 1000; i++)
		major = major * 10 + (s[i] - '0');
	if (i == 0 || i == len || s[i++] != '.')
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9' && minor < 1000; i++)
		minor = minor * 10 + (s[i] - '0');
	return i == len ? major * 1000 + minor : -1;
}

/* The "/v<major>.<minor>" prefix (a Docker client) within the versions berth speaks; Docker's
 * messages when it is not. */
static int api_version_check(const char *path, const char *rest, struct api_request *r,
			     struct berr *err)
{
	size_t len = (size_t)(rest - path) - 2;   /* without "/v" */
	long v = api_version_value(path + 2, len);

	r->docker = true;
	if (v > api_version_value(API_VERSION, strlen(API_VERSION)))
		return api_fail(r, 400, berr_set(err, -EINVAL, "client version %.*s is too new. "
						 "Maximum supported API version is " API_VERSION,
						 (int)len, path + 2));
	if (v < api_version_value(API_MIN_VERSION, strlen(API_MIN_VERSION)))
		return api_fail(r, 400, berr_set(err, -EINVAL, "client version %.*s is too old. "
						 "Minimum supported API version is " API_MIN_VERSION
						 ", please upgrade your client to a newer version",
						 (int)len, path + 2));
	return 0;
}

int api_request_decode(const struct api_input *in, struct api_request *ret, struct berr *err)
{
	const struct api_route *route = NULL;
	const char *path = http_path_strip_version(in->path);
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->timeout = API_STOP_TIMEOUT_DEFAULT;
	ret->signal = SIGKILL;
	ret->limit = ret->tail = -1;
	if (path != in->path) {
		r = api_version_check(in->path, path, ret, err);
		if (r < 0)
			return r;
	}
	r = api_route_find(in->method, path, ret, &route, err);
	if (r < 0)
		return r;
	if (!route) {
		ret->op = API_OP_UNSUPPORTED;
		return 0;
	}
	ret->op = route->op;
	r = api_params_check(ret, err);
	if (r >= 0 && route->query)
		r = route->query(in, ret, err);
	if (r == -EOPNOTSUPP)
		return api_fail(ret, 501, r);
	if (r < 0)
		return api_fail(ret, 400, r);
	if (route->body == API_BODY_OPTIONAL || route->body == API_BODY_REQUIRED)
		return api_body_decode(in, route->body == API_BODY_REQUIRED, ret, err);
	return 0;
}

bool api_route_is_upload(const char *method, const char *path)
{
	const char *p = http_path_strip_version(path);
	struct http_params params;

	for (size_t i = 0; i < ARRAY_SIZE(api_routes); i++)
		if (api_routes[i].body == API_BODY_UPLOAD && !strcmp(method, api_routes[i].method) &&
		    http_path_match(api_routes[i].pattern, p, &params) == 1)
			return true;
	return false;
}

void api_request_done(struct api_request *r)
{
	cJSON_Delete(r->body);
	cJSON_Delete(r->filters);
	r->filters = NULL;
	free(r->name);
	free(r->network);
	free(r->type);
	free(r->events_filters);
	free(r->repo);
	free(r->tag);
	free(r->detach_keys);
	r->body = NULL;
	r->name = r->network = r->type = r->events_filters = r->repo = r->tag = r->detach_keys = NULL;
}
