/* SPDX-License-Identifier: Apache-2.0 */
/* GET /events?since=&until=&filters=: Docker's event stream, one JSON message per line. With
 * since, the events still in the ring from that time on come first; without until the stream
 * goes on until the client leaves. Filters: type, event, container, network; values of one key
 * are alternatives, keys must all match. */
#include <string.h>
#include <time.h>

#include "daemon/api_internal.h"
#include "daemon/manager.h"

#define API_EVENTS_WAIT_MS 100
#define API_EVENTS_FILTER_MAX 16

static const char *const api_event_keys[] = { "type", "event", "container", "network" };
static const char *const api_event_types[] = { "container", "network", "image" };

struct api_events {
	struct api *api;
	int client;
	uint64_t cursor;
	int64_t since_ns, until_ns;
	cJSON *filters;         /* {key: [values]}, checked; NULL: everything */
	struct api_line line;
};

static void api_events_free(void *cls)
{
	struct api_events *e = cls;

	cJSON_Delete(e->filters);
	api_line_free(&e->line);
	free(e);
}

static bool api_event_key_known(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(api_event_keys); i++)
		if (!strcmp(key, api_event_keys[i]))
			return true;
	return false;
}

static bool api_event_type_known(const char *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(api_event_types); i++)
		if (!strcmp(t, api_event_types[i]))
			return true;
	return false;
}

/* One key's values: ["a", "b"] or {"a": true, "b": true} -> a fresh array of strings. */
static int api_filter_values(const cJSON *v, cJSON **ret, struct berr *err)
{
	const cJSON *it;

	*ret = cJSON_CreateArray();
	cJSON_ArrayForEach(it, v) {
		const char *s = cJSON_IsArray(v) && cJSON_IsString(it) ? it->valuestring
				: cJSON_IsObject(v) && cJSON_IsBool(it) ? it->string : NULL;

		if (!s || cJSON_GetArraySize(*ret) >= API_EVENTS_FILTER_MAX)
			return berr_set(err, -EINVAL, "query parameter filters must be JSON like "
					"{\"type\":[\"network\"]} (at most %d values a key)",
					API_EVENTS_FILTER_MAX);
		cJSON_AddItemToArray(*ret, cJSON_CreateString(s));
	}
	return 0;
}

static int api_filters_parse(const char *text, cJSON **ret, struct berr *err)
{
	_cleanup_json_ cJSON *in = text && *text ? cJSON_Parse(text) : NULL;
	_cleanup_json_ cJSON *out = cJSON_CreateObject();
	const cJSON *k, *t;

	*ret = NULL;
	if (!text || !*text)
		return 0;
	if (!cJSON_IsObject(in))
		return berr_set(err, -EINVAL, "query parameter filters must be a JSON object");
	cJSON_ArrayForEach(k, in) {
		cJSON *vals = NULL;
		int r;

		if (!api_event_key_known(k->string))
			return berr_set(err, -EINVAL, "invalid filter '%s' (supported: type, event, "
					"container, network)", k->string);
		r = api_filter_values(k, &vals, err);
		cJSON_AddItemToObject(out, k->string, vals);
		if (r < 0)
			return r;
	}
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(out, "type"))
		if (!api_event_type_known(t->valuestring))
			return berr_set(err, -EINVAL, "invalid event type \"%s\" (container, network "
					"or image)", t->valuestring);
	*ret = steal_ptr(out);
	return 0;
}

/* Does value match one of the key's values (prefix: an ID prefix counts)? No key: yes. */
static bool api_filter_any(const cJSON *filters, const char *key, const char *a, const char *b,
			   bool prefix)
{
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(filters, key), *v;

	if (!vals)
		return true;
	cJSON_ArrayForEach(v, vals) {
		const char *s = v->valuestring;

		if ((a && *a && (!strcmp(a, s) || (prefix && *s && !strncmp(a, s, strlen(s))))) ||
		    (b && *b && !strcmp(b, s)))
			return true;
	}
	return false;
}

static bool api_event_matches(const cJSON *f, const struct mgr_event *ev)
{
	bool net = !strcmp(ev->type, "network");

	return api_filter_any(f, "type", ev->type, NULL, false) &&
	       api_filter_any(f, "event", ev->action, NULL, false) &&
	       api_filter_any(f, "container", ev->ctr_id, ev->ctr_name, true) &&
	       api_filter_any(f, "network", net ? ev->actor : NULL, net ? ev->name : NULL, true);
}

static int64_t api_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The next line to send: 1, 0 when the stream is over, < 0 when the client left. */
static int api_events_next(struct api_events *e)
{
	struct mgr_event ev;
	int r;

	for (;;) {
		r = mgr_events_next(e->api->m, &e->cursor, API_EVENTS_WAIT_MS, &ev);
		if (r < 0)
			return 0;   /* berthd is stopping */
		if (r == 0) {
			if (e->until_ns && api_now_ns() > e->until_ns)
				return 0;
			r = api_poll(e->api, e->client, -1, 0);
			if (r < 0)
				return r;
			continue;
		}
		if (e->until_ns && ev.time_ns > e->until_ns) {
			free(ev.json);
			return 0;
		}
		if (ev.time_ns >= e->since_ns && api_event_matches(e->filters, &ev))
			break;
		free(ev.json);
	}
	api_line_set(&e->line, ev.json);
	free(ev.json);
	return 1;
}

static ssize_t api_events_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_events *e = cls;
	int r;

	if (api_line_empty(&e->line)) {
		r = api_events_next(e);
		if (r <= 0)
			return r < 0 ? MHD_CONTENT_READER_END_WITH_ERROR
				     : MHD_CONTENT_READER_END_OF_STREAM;
	}
	return api_line_copy(&e->line, buf, max);
}

int api_events(struct api_call *c)
{
	struct api_events *e;
	cJSON *filters = NULL;
	int r;

	r = api_filters_parse(c->d.events_filters, &filters, &c->err);
	if (r < 0)
		return r;
	e = xcalloc(1, sizeof(*e));
	e->api = c->api;
	e->client = api_client_fd(c->conn);
	e->filters = filters;
	e->since_ns = c->d.since_ns;
	e->until_ns = c->d.until_ns;
	/* with since, start from the oldest event kept (older times are skipped); else only new */
	e->cursor = c->d.since_ns ? 1 : mgr_events_head(c->api->m);
	c->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, api_events_read, e,
						    api_events_free);
	if (!c->resp) {
		api_events_free(e);
		return -ENOMEM;
	}
	MHD_add_response_header(c->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return 0;
}
