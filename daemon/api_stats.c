/* SPDX-License-Identifier: Apache-2.0 */
/* GET /containers/{id}/stats: one JSON object (stream=0), or one per second while the
 * container runs and the client reads (stream=1, Docker's default). */
#include <string.h>

#include "daemon/api_internal.h"
#include "daemon/http_util.h"
#include "daemon/manager.h"

#define API_STATS_PERIOD_MS 1000

struct api_stats {
	struct api *api;
	char ref[HTTP_PARAM_MAX];
	int client;
	bool first;
	struct api_line line;
};

static void api_stats_free(void *cls)
{
	struct api_stats *s = cls;

	api_line_free(&s->line);
	free(s);
}

/* The next line: the first at once, then one a period apart; < 0 ends the stream. */
static int api_stats_next(struct api_stats *s)
{
	struct berr err = BERR_INIT;
	cJSON *j = NULL;
	char *text;
	int r;

	if (!s->first) {
		r = api_poll(s->api, s->client, -1, API_STATS_PERIOD_MS);
		if (r < 0)
			return r;
	}
	s->first = false;
	if (mgr_container_stats(s->api->m, s->ref, false, &j, &err) < 0)
		return -ENOENT;   /* removed meanwhile */
	http_json_utf8_fix(j);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!text)
		return -ENOMEM;
	api_line_set(&s->line, text);
	free(text);
	return 0;
}

static ssize_t api_stats_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_stats *s = cls;

	if (api_line_empty(&s->line) && api_stats_next(s) < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return api_line_copy(&s->line, buf, max);
}

int api_container_stats(struct api_call *c)
{
	struct api_stats *s;

	if (!c->d.stream)
		return mgr_container_stats(c->api->m, c->d.params.v[0], c->d.one_shot, &c->reply,
					   &c->err);
	/* fail now, with a status, for a container that does not exist */
	if (mgr_container_stats(c->api->m, c->d.params.v[0], true, &c->reply, &c->err) < 0)
		return c->err.code;
	cJSON_Delete(c->reply);
	c->reply = NULL;
	s = xcalloc(1, sizeof(*s));
	s->api = c->api;
	s->client = api_client_fd(c->conn);
	s->first = true;
	strscpy(s->ref, c->d.params.v[0], sizeof(s->ref));
	c->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, api_stats_read, s,
						    api_stats_free);
	if (!c->resp) {
		api_stats_free(s);
		return -ENOMEM;
	}
	MHD_add_response_header(c->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return 0;
}
