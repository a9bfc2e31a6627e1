/* SPDX-License-Identifier: Apache-2.0 */
/* berth events: GET /events, one line per event as it happens ("2024-01-02T03:04:05.1Z network
 * connect <id> (container=..., name=my-net, type=bridge)"), or the JSON messages themselves. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/format.h"
#include "cli/table.h"
#include "common/util.h"

#define EVENTS_LINE_MAX (64u << 10)

struct events_out {
	const char *format;
	char *line;
	size_t len;
};

/* ---- times: unix seconds, RFC 3339, or a duration back from now ---- */

/* "1h30m", "10m", "45s", "1.5h", "500ms" -> ns. */
static int duration_parse(const char *s, int64_t *ret)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ms", 1e6 }, { "us", 1e3 }, { "ns", 1 }, { "h", 3600e9 }, { "m", 60e9 },
		      { "s", 1e9 } };
	double total = 0;
	const char *p = s;

	while (*p) {
		char *end;
		double v = strtod(p, &end);
		size_t i;

		if (end == p || *p == '-' || *p == '+')
			return -EINVAL;
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (!strncmp(end, units[i].unit, strlen(units[i].unit)))
				break;
		if (i == ARRAY_SIZE(units))
			return -EINVAL;
		total += v * units[i].ns;
		p = end + strlen(units[i].unit);
	}
	if (p == s)
		return -EINVAL;
	*ret = (int64_t)total;
	return 0;
}

/* "2024-01-02", "2024-01-02T03:04:05", with ".frac" and "Z" or "+01:00" -> unix ns. */
static int rfc3339_parse(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t frac = 0, scale = 100000000, off = 0;
	int oh, om;

	if (!p && (p = strptime(s, "%Y-%m-%d", &tm)) && *p)
		return -EINVAL;
	if (!p)
		return -EINVAL;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2) {
		off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else if (*p == 'Z') {
		p++;
	}
	if (*p)
		return -EINVAL;
	*ret = ((int64_t)timegm(&tm) - off) * 1000000000 + frac;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Any of Docker's forms -> "S.NNNNNNNNN" for the API. */
static int events_time(const char *flag, const char *s, char *buf, size_t size)
{
	int64_t ns;
	double secs;
	char *end;

	secs = strtod(s, &end);
	if (end != s && !*end && secs >= 0)
		ns = (int64_t)(secs * 1e9);
	else if (rfc3339_parse(s, &ns) == 0)
		;
	else if (duration_parse(s, &ns) == 0)
		ns = now_ns() - ns;
	else
		return cli_fail("invalid --%s %s: a unix time, an RFC 3339 time or a duration such "
				"as 10m", flag, s);
	if (ns < 0)
		ns = 0;
	snprintf(buf, size, "%lld.%09lld", (long long)(ns / 1000000000),
		 (long long)(ns % 1000000000));
	return 0;
}

/* ---- output ---- */

/* timeNano from the message's text: as a JSON number it would pass through a double. */
static int64_t event_time_ns(const char *line)
{
	const char *p = strstr(line, "\"timeNano\":");

	return p ? strtoll(p + 11, NULL, 10) : 0;
}

/* Docker's line: local time with nanoseconds, type, action, actor, (sorted attributes). */
static void event_print_line(const cJSON *ev, int64_t ns)
{
	const cJSON *actor = cJSON_GetObjectItemCaseSensitive(ev, "Actor");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(actor, "Attributes"), *a;
	time_t secs = (time_t)(ns / 1000000000);
	char when[64], zone[32] = "Z";
	struct tm tm;
	bool first = true;

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (tm.tm_gmtoff)   /* +0100 -> +01:00 */
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+',
			 labs(tm.tm_gmtoff) / 3600, labs(tm.tm_gmtoff) % 3600 / 60);
	printf("%s.%09lld%s %s %s %s", when, (long long)(ns % 1000000000), zone,
	       json_str(ev, "Type"), json_str(ev, "Action"), json_str(actor, "ID"));
	cJSON_ArrayForEach(a, attrs) {
		if (!cJSON_IsString(a))
			continue;
		printf("%s%s=%s", first ? " (" : ", ", a->string, a->valuestring);
		first = false;
	}
	printf("%s\n", first ? "" : ")");
}

static int attr_cmp(const void *x, const void *y)
{
	return strcmp((*(cJSON *const *)x)->string, (*(cJSON *const *)y)->string);
}

/* Attributes in key order, as Docker prints them. */
static void event_attrs_sort(cJSON *ev)
{
	json_sort(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "Actor"),
						   "Attributes"), attr_cmp);
}

/* Templates name the fields as Docker's Go struct does: .Status .ID .From .Scope .Time .TimeNano
 * next to .Type .Action .Actor. */
static void event_aliases(cJSON *ev)
{
	static const char *const pairs[][2] = { { "status", "Status" }, { "id", "ID" },
						{ "from", "From" }, { "scope", "Scope" },
						{ "time", "Time" }, { "timeNano", "TimeNano" } };

	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, pairs[i][0]);

		if (v)
			cJSON_AddItemToObject(ev, pairs[i][1], cJSON_Duplicate(v, 1));
	}
}

static void event_output(struct events_out *o, const char *line)
{
	_cleanup_json_ cJSON *ev = cJSON_Parse(line);

	if (!ev)
		return;
	event_aliases(ev);
	if (o->format && !strcmp(o->format, "json"))
		printf("%s\n", line);
	else if (o->format)
		format_print(o->format, ev);
	else {
		event_attrs_sort(ev);
		event_print_line(ev, event_time_ns(line));
	}
	fflush(stdout);
}

/* The reply body arrives in pieces: print each complete line. */
static ssize_t events_sink_write(void *cookie, const char *data, size_t len)
{
	struct events_out *o = cookie;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			o->line = xrealloc(o->line, o->len + 1);
			o->line[o->len] = '\0';
			event_output(o, o->line);
			o->len = 0;
			continue;
		}
		if (o->len >= EVENTS_LINE_MAX)
			continue;   /* an absurd line is cut; its JSON will not parse */
		o->line = xrealloc(o->line, o->len + 1);
		o->line[o->len++] = data[i];
	}
	return (ssize_t)len;
}

static char *events_path(const char *since, const char *until, const struct strlist *filters)
{
	_cleanup_json_ cJSON *f = cJSON_CreateObject();
	_cleanup_free_ char *json = NULL, *esc = NULL;
	char *path = xstrdup("/events?"), *next;

	for (size_t i = 0; i < filters->n; i++) {
		const char *v;
		_cleanup_free_ char *k = kv_split(filters->v[i], &v);
		cJSON *vals = cJSON_GetObjectItemCaseSensitive(f, k);

		if (!vals)
			vals = cJSON_AddArrayToObject(f, k);
		cJSON_AddItemToArray(vals, cJSON_CreateString(v));
	}
	json = cJSON_PrintUnformatted(f);
	esc = client_escape(json);
	next = xasprintf("%ssince=%s&until=%s&filters=%s", path, since, until, esc);
	free(path);
	return next;
}

int cmd_events(int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *format = NULL;
	struct strlist filters = { 0 };
	const struct flag flags[] = {
		{ "since", 0, FLAG_STR, &since, "TIME", "Events from this time (unix, RFC 3339, or a duration back: 10m)" },
		{ "until", 0, FLAG_STR, &until, "TIME", "Stop at this time (same forms)" },
		{ "filter", 'f', FLAG_LIST, &filters, "KEY=VALUE", "type=, event=, container=, network= (repeatable)" },
		{ "format", 0, FLAG_STR, &format, "FORMAT", "json (the API's messages), or a template such as '{{.Type}} {{.Action}}'" },
		{ 0 },
	};
	const struct cmd_spec spec = { "events", "[OPTIONS]",
				       "Stream events of networks, containers and images", flags,
				       false };
	cookie_io_functions_t io = { .write = events_sink_write };
	struct events_out out = { 0 };
	char s[40] = "", u[40] = "";
	_cleanup_free_ char *path = NULL;
	struct berr err = BERR_INIT;
	struct args args;
	FILE *sink;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 0, 0) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	for (size_t i = 0; i < filters.n; i++)
		if (!strchr(filters.v[i], '='))
			return cli_fail("invalid filter '%s': expected KEY=VALUE", filters.v[i]);
	if ((since && events_time("since", since, s, sizeof(s))) ||
	    (until && events_time("until", until, u, sizeof(u))))
		return 1;
	if (format_validate(format, &err) < 0)
		return cli_fail_err(&err);
	out.format = format;
	path = events_path(s, u, &filters);
	sink = fopencookie(&out, "w", io);
	if (!sink)
		return cli_fail("cannot set up the output: %s", strerror(errno));
	setvbuf(sink, NULL, _IONBF, 0);
	r = client_request("GET", path, NULL, sink, NULL, &err);
	fclose(sink);
	free(out.line);
	return r < 0 ? cli_fail_err(&err) : 0;
}
