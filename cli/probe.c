/* SPDX-License-Identifier: Apache-2.0 */
/* berth network probe: who reaches whom (ICMP, TCP, UDP, names; IPv4 and IPv6), checked against
 * a policy file (--expect, exit 1 on any difference), or why one flow was dropped (--explain).
 * The policy file is sent as it is: berthd reads it (YAML through libyaml, or JSON), so the CLI
 * links nothing more than before. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/probe_matrix.h"
#include "cli/table.h"
#include "common/util.h"

#define POLICY_MAX (1024 * 1024 - 4096)   /* the API takes bodies up to 1 MiB */
#define PROGRESS_AFTER_NS 1000000000ull

struct probe_cli {
	struct strlist network, container, proto, port;
	const char *timeout, *expect, *format, *explain;
	bool v4, v6, print_policy, no_host;
};

/* ---- the request ---- */

static void csv_add(cJSON *a, const struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		_cleanup_free_ char *copy = xstrdup(l->v[i]);

		for (char *save = NULL, *t = strtok_r(copy, ",", &save); t;
		     t = strtok_r(NULL, ",", &save))
			cJSON_AddItemToArray(a, cJSON_CreateString(t));
	}
}

/* "80,443", "8000-8010": port numbers (ranges at most 64 ports). */
static int ports_add(cJSON *a, const struct strlist *l, struct berr *err)
{
	for (size_t i = 0; i < l->n; i++) {
		_cleanup_free_ char *copy = xstrdup(l->v[i]);

		for (char *save = NULL, *t = strtok_r(copy, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			char *end;
			long lo = strtol(t, &end, 10), hi = lo;

			if (*end == '-')
				hi = strtol(end + 1, &end, 10);
			if (*end || lo < 1 || hi > 65535 || hi < lo || hi - lo >= 64)
				return berr_set(err, -EINVAL, "invalid port \"%s\": expected numbers "
						"from 1 to 65535 or a range such as 8000-8010", t);
			for (long p = lo; p <= hi; p++)
				cJSON_AddItemToArray(a, cJSON_CreateNumber((double)p));
		}
	}
	return 0;
}

static int policy_add(cJSON *body, const char *path, struct berr *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file(path, POLICY_MAX, &text, &len, err);

	if (r < 0)
		return berr_prefix(err, "reading the policy");
	if (strlen(text) != len)
		return berr_set(err, -EINVAL, "policy %s holds a NUL byte", path);
	cJSON_AddStringToObject(body, "Policy", text);
	return 0;
}

/* "db", "db@back", "db/tcp/5432", "db@back/udp/53", "db/icmp". */
static int explain_add(cJSON *body, const char *src, const char *spec, const struct probe_cli *o,
		       struct berr *err)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	char *proto = strchr(copy, '/'), *port = NULL, *net, *end;
	cJSON *x = cJSON_AddObjectToObject(body, "Explain");
	long p;

	if (proto) {
		*proto++ = '\0';
		port = strchr(proto, '/');
		if (port)
			*port++ = '\0';
	}
	net = strchr(copy, '@');
	if (net)
		*net++ = '\0';
	cJSON_AddStringToObject(x, "Source", src);
	cJSON_AddStringToObject(x, "Target", copy);
	if (net)
		cJSON_AddStringToObject(x, "Network", net);
	cJSON_AddStringToObject(x, "Protocol", proto && *proto ? proto : "icmp");
	if (port) {
		p = strtol(port, &end, 10);
		if (*end || p < 1 || p > 65535)
			return berr_set(err, -EINVAL, "invalid port in \"%s\": expected "
					"TARGET[@NETWORK]/PROTO/PORT such as db/tcp/5432", spec);
		cJSON_AddNumberToObject(x, "Port", (double)p);
	}
	if (o->v4 != o->v6)
		cJSON_AddNumberToObject(x, "Family", o->v4 ? 4 : 6);
	return 0;
}

static int body_build(const struct probe_cli *o, const struct args *args, cJSON *body,
		      struct berr *err)
{
	cJSON *a;
	char *end;
	double t;

	csv_add(cJSON_AddArrayToObject(body, "Networks"), &o->network);
	csv_add(cJSON_AddArrayToObject(body, "Containers"), &o->container);
	csv_add(cJSON_AddArrayToObject(body, "Protocols"), &o->proto);
	if (ports_add(cJSON_AddArrayToObject(body, "Ports"), &o->port, err) < 0)
		return -EINVAL;
	a = cJSON_AddArrayToObject(body, "Families");
	if (o->v4 != o->v6)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(o->v4 ? 4 : 6));
	cJSON_AddBoolToObject(body, "Host", !o->no_host);
	cJSON_AddBoolToObject(body, "PrintPolicy", o->print_policy);
	if (o->timeout) {
		t = strtod(o->timeout, &end);
		if (*end || end == o->timeout || t < 0.1 || t > 300)
			return berr_set(err, -EINVAL, "invalid --timeout %s: expected seconds from "
					"0.1 to 300", o->timeout);
		cJSON_AddNumberToObject(body, "Timeout", t);
	}
	if (o->expect && policy_add(body, o->expect, err) < 0)
		return -EINVAL;
	if (o->explain)
		return explain_add(body, o->explain, args->v[0], o, err);
	return 0;
}

/* ---- progress: the streamed reply (?progress=1) read line by line ---- */

struct stream {
	char *buf;
	size_t len, cap;
	char *result;              /* the last line that is not progress */
	uint64_t start;
	bool shown;
};

static void stream_line(struct stream *s, const char *line)
{
	_cleanup_json_ cJSON *j = cJSON_Parse(line);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "Progress");

	if (!p) {
		free(s->result);
		s->result = xstrdup(line);
		return;
	}
	if (time_mono_ns() - s->start < PROGRESS_AFTER_NS)
		return;
	fprintf(stderr, "\rprobing: %.0f of %.0f cells",
		cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "Done")),
		cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "Total")));
	fflush(stderr);
	s->shown = true;
}

static ssize_t stream_write(void *cookie, const char *data, size_t n)
{
	struct stream *s = cookie;
	char *nl;

	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->buf = xrealloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	while ((nl = strchr(s->buf, '\n'))) {
		*nl = '\0';
		stream_line(s, s->buf);
		s->len -= (size_t)(nl + 1 - s->buf);
		memmove(s->buf, nl + 1, s->len + 1);
	}
	return (ssize_t)n;
}

static int probe_streamed(const cJSON *body, cJSON **ret, struct berr *err)
{
	struct stream s = { .start = time_mono_ns() };
	cookie_io_functions_t io = { .write = stream_write };
	FILE *sink = fopencookie(&s, "w", io);
	const cJSON *msg;
	int r;

	if (!sink)
		return berr_errno(err, -errno, "cannot read the reply");
	r = client_request("POST", "/networks/probe?progress=1", body, sink, NULL, err);
	fclose(sink);
	if (s.shown)
		fprintf(stderr, "\r\033[K");
	if (r >= 0 && !(*ret = s.result ? cJSON_Parse(s.result) : NULL))
		r = berr_set(err, -EBADMSG, "berthd sent no result");
	msg = r >= 0 ? cJSON_GetObjectItemCaseSensitive(*ret, "message") : NULL;
	if (msg) {
		r = berr_set(err, -EIO, "%s", cJSON_GetStringValue(msg));
		cJSON_Delete(*ret);
		*ret = NULL;
	}
	free(s.buf);
	free(s.result);
	return r;
}

/* ---- output ---- */

static bool utf8_locale(void)
{
	const char *vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
	}
	return false;
}

static void style_init(struct matrix_style *st)
{
	struct winsize ws;
	bool tty = isatty(STDOUT_FILENO);

	st->color = tty && !getenv("NO_COLOR");
	st->utf8 = utf8_locale();
	st->width = tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col :
										      160;
}

static int probe_output(const struct probe_cli *o, const cJSON *reply)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(reply, "Explain");
	struct matrix_style st;
	size_t differ;

	style_init(&st);
	if (o->print_policy) {
		fputs(json_str(reply, "Policy"), stdout);
		return 0;
	}
	if (o->format && !strcmp(o->format, "json")) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(reply, "Summary"), "Violations");

		json_print_pretty(reply, stdout);
		differ = cJSON_IsNumber(v) && v->valuedouble > 0;   /* an explanation has none */
	} else if (x) {
		matrix_explain_print(x, &st, stdout);
		return 0;
	} else {
		differ = matrix_print(reply, &st, stdout);
	}
	return o->expect && differ ? 1 : 0;
}

int cmd_network_probe(int argc, char **argv)
{
	struct probe_cli o = { 0 };
	const struct flag flags[] = {
		{ "network", 0, FLAG_LIST, &o.network, "NETWORK", "Only containers on these networks, "
		  "and their addresses there" },
		{ "container", 0, FLAG_LIST, &o.container, "NAME", "Only these containers" },
		{ "proto", 'p', FLAG_LIST, &o.proto, "PROTO", "icmp, tcp, udp, dns (default: all)" },
		{ "port", 0, FLAG_LIST, &o.port, "PORTS", "TCP/UDP ports such as 80,443 or 8000-8010 "
		  "(default: those each target listens on)" },
		{ "ipv4", '4', FLAG_BOOL, &o.v4, NULL, "IPv4 only" },
		{ "ipv6", '6', FLAG_BOOL, &o.v6, NULL, "IPv6 only" },
		{ "timeout", 0, FLAG_STR, &o.timeout, "SECONDS", "Bound on the whole probe (default 10)" },
		{ "expect", 0, FLAG_STR, &o.expect, "FILE", "Policy (YAML or JSON): exit 1 and list "
		  "every cell that differs" },
		{ "print-policy", 0, FLAG_BOOL, &o.print_policy, NULL, "Print the policy berth's "
		  "configuration implies" },
		{ "explain", 0, FLAG_STR, &o.explain, "SRC", "Probe SRC -> TARGET[@NET]/PROTO[/PORT] "
		  "with nftables tracing: the rule that decided" },
		{ "no-host", 0, FLAG_BOOL, &o.no_host, NULL, "Do not probe published ports from the host" },
		{ "format", 0, FLAG_STR, &o.format, "FORMAT", "table (default) or json" },
		{ 0 },
	};
	const struct cmd_spec spec = { "network probe", "[OPTIONS] | --explain SRC TARGET/PROTO/PORT",
				       "Test who reaches whom, against a policy", flags, false };
	_cleanup_json_ cJSON *body = cJSON_CreateObject(), *reply = NULL;
	struct berr err = BERR_INIT;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, o.explain ? 1 : 0, o.explain ? 1 : 0) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (o.format && strcmp(o.format, "json") && strcmp(o.format, "table"))
		return cli_fail("invalid --format %s: use table or json", o.format);
	if (body_build(&o, &args, body, &err) < 0)
		return cli_fail_err(&err);
	if (isatty(STDERR_FILENO) && !o.explain && !o.print_policy)
		r = probe_streamed(body, &reply, &err);
	else
		r = client_json("POST", "/networks/probe", body, &reply, &err);
	if (r < 0)
		return cli_fail_err(&err);
	return probe_output(&o, reply);
}
