/* SPDX-License-Identifier: Apache-2.0 */
/* Resource limits on run/create, and berth stats: CPU, memory, pids and the bytes of each
 * network interface of running containers (GET /containers/{id}/stats?stream=0). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/format.h"
#include "cli/table.h"
#include "cli/units.h"
#include "common/names.h"
#include "common/util.h"

/* ---- run --memory ... ---- */

static int limit_bytes(cJSON *host, const char *key, const char *flag, const char *v,
		       bool minus_one, struct berr *err)
{
	int64_t n;

	if (!v)
		return 0;
	if (minus_one && !strcmp(v, "-1"))
		n = -1;
	else if (units_bytes_parse(v, &n) < 0)
		return berr_set(err, -EINVAL, "invalid --%s %s: a size such as 64m or 1g%s", flag,
				v, minus_one ? ", or -1" : "");
	cJSON_AddNumberToObject(host, key, (double)n);
	return 0;
}

static int limit_int(cJSON *host, const char *key, const char *flag, const char *v,
		     struct berr *err)
{
	char *end;
	long long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end)
		return berr_set(err, -EINVAL, "invalid --%s %s: a whole number is expected", flag, v);
	cJSON_AddNumberToObject(host, key, (double)n);
	return 0;
}

int run_limits_build(cJSON *host, const struct run_limits *l, struct berr *err)
{
	int64_t nano;
	int r;

	r = limit_bytes(host, "Memory", "memory", l->memory, false, err);
	if (r >= 0)
		r = limit_bytes(host, "MemorySwap", "memory-swap", l->memory_swap, true, err);
	if (r >= 0)
		r = limit_int(host, "PidsLimit", "pids-limit", l->pids, err);
	if (r >= 0)
		r = limit_int(host, "CpuShares", "cpu-shares", l->cpu_shares, err);
	if (r < 0 || !l->cpus)
		return r;
	if (units_cpus_parse(l->cpus, &nano) < 0)
		return berr_set(err, -EINVAL, "invalid --cpus %s: a number such as 0.5 or 2", l->cpus);
	cJSON_AddNumberToObject(host, "NanoCpus", (double)nano);
	return 0;
}

/* ---- berth stats ---- */

struct stats_opts {
	bool no_stream, all, no_trunc;
	const char *format;
};

static double num_at(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (c)
		v = cJSON_GetObjectItemCaseSensitive(v, c);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Docker's formula: the container's share of the host's CPU time, times the CPUs. */
static double stats_cpu_percent(const cJSON *s)
{
	double cpu = num_at(s, "cpu_stats", "cpu_usage", "total_usage") -
		     num_at(s, "precpu_stats", "cpu_usage", "total_usage");
	double sys = num_at(s, "cpu_stats", "system_cpu_usage", NULL) -
		     num_at(s, "precpu_stats", "system_cpu_usage", NULL);
	double ncpu = num_at(s, "cpu_stats", "online_cpus", NULL);

	if (cpu <= 0 || sys <= 0)
		return 0;
	return cpu / sys * (ncpu > 0 ? ncpu : 1) * 100.0;
}

static double stats_mem_used(const cJSON *s)
{
	double used = num_at(s, "memory_stats", "usage", NULL) -
		      num_at(s, "memory_stats", "stats", "inactive_file");

	return used > 0 ? used : 0;
}

/* "eth0: 1.2kB / 648B, eth1: 0B / 0B" */
static char *stats_net(const cJSON *s)
{
	const cJSON *it;
	char *out = xstrdup(""), *next;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(s, "networks")) {
		char rx[32], tx[32];

		units_human(num_at(it, "rx_bytes", NULL, NULL), rx, sizeof(rx));
		units_human(num_at(it, "tx_bytes", NULL, NULL), tx, sizeof(tx));
		next = xasprintf("%s%s%s: %s / %s", out, *out ? ", " : "", it->string, rx, tx);
		free(out);
		out = next;
	}
	return out;
}

/* The fields of one row, as docker's stats --format names them. */
static cJSON *stats_row(const cJSON *s, const struct stats_opts *o)
{
	cJSON *r = cJSON_CreateObject();
	_cleanup_free_ char *id = xstrdup(json_str(s, "id")), *net = stats_net(s);
	double used = stats_mem_used(s), limit = num_at(s, "memory_stats", "limit", NULL);
	const char *name = json_str(s, "name");
	char buf[128], u[32], l[32];

	if (!o->no_trunc && strlen(id) > SHORT_ID_LEN)
		id[SHORT_ID_LEN] = '\0';
	cJSON_AddStringToObject(r, "ID", id);
	cJSON_AddStringToObject(r, "Name", name[0] == '/' ? name + 1 : name);
	snprintf(buf, sizeof(buf), "%.2f%%", stats_cpu_percent(s));
	cJSON_AddStringToObject(r, "CPUPerc", buf);
	units_binary(used, u, sizeof(u));
	units_binary(limit, l, sizeof(l));
	snprintf(buf, sizeof(buf), "%s / %s", u, l);
	cJSON_AddStringToObject(r, "MemUsage", buf);
	snprintf(buf, sizeof(buf), "%.2f%%", limit > 0 ? used / limit * 100.0 : 0);
	cJSON_AddStringToObject(r, "MemPerc", buf);
	cJSON_AddStringToObject(r, "NetIO", net);
	snprintf(buf, sizeof(buf), "%.0f", num_at(s, "pids_stats", "current", NULL));
	cJSON_AddStringToObject(r, "PIDs", buf);
	cJSON_AddItemToObject(r, "Networks",
			      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s, "networks"), 1));
	return r;
}

static int stats_fetch(const char *name, cJSON **ret, struct berr *err)
{
	_cleanup_free_ char *path = cmd_path("/containers/", name, "/stats?stream=0");

	return client_json("GET", path, NULL, ret, err);
}

/* The containers to show (a JSON array of names): those named, else the running ones (-a:
 * all). */
static int stats_targets(const struct args *a, bool all, cJSON **ret, struct berr *err)
{
	_cleanup_json_ cJSON *list = NULL;
	const cJSON *c;
	int r;

	*ret = cJSON_CreateArray();
	for (int i = 0; i < a->n; i++)
		cJSON_AddItemToArray(*ret, cJSON_CreateString(a->v[i]));
	if (a->n)
		return 0;
	r = client_json("GET", all ? "/containers/json?all=1" : "/containers/json", NULL, &list,
			err);
	cJSON_ArrayForEach(c, list)
		cJSON_AddItemToArray(*ret, cJSON_CreateString(json_str(c, "Id")));
	return r;
}

static const struct format_header stats_headers[] = {
	{ "ID", "CONTAINER ID" }, { "CPUPerc", "CPU %" }, { "MemUsage", "MEM USAGE / LIMIT" },
	{ "MemPerc", "MEM %" }, { "NetIO", "NET I/O" }, { "PIDs", "PIDS" }, { NULL, NULL },
};

static void stats_print(const cJSON *rows, const struct stats_opts *o)
{
	static const char *const headers[] = { "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT",
					       "MEM %", "NET I/O", "PIDS" };
	static const char *const keys[] = { "ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO",
					    "PIDs" };
	struct table *t;
	const cJSON *r;

	if (o->format && !strcmp(o->format, "json")) {
		cJSON_ArrayForEach(r, rows) {
			_cleanup_free_ char *s = cJSON_PrintUnformatted(r);

			printf("%s\n", s);
		}
		return;
	}
	if (format_is_custom(o->format)) {
		format_list(o->format, rows, stats_headers, stdout);
		return;
	}
	t = table_new(ARRAY_SIZE(headers), headers);
	cJSON_ArrayForEach(r, rows) {
		const char *row[ARRAY_SIZE(keys)];

		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			row[i] = json_str(r, keys[i]);
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
}

/* One round: a row per container; a container that went away is skipped unless named. */
static int stats_round(const cJSON *names, bool named, const struct stats_opts *o)
{
	_cleanup_json_ cJSON *rows = cJSON_CreateArray();
	const cJSON *name;
	int failed = 0;

	cJSON_ArrayForEach(name, names) {
		_cleanup_json_ cJSON *s = NULL;
		struct berr err = BERR_INIT;

		if (stats_fetch(name->valuestring, &s, &err) < 0) {
			if (named)
				failed = cli_fail_err(&err);
			continue;
		}
		cJSON_AddItemToArray(rows, stats_row(s, o));
	}
	stats_print(rows, o);
	fflush(stdout);
	return failed;
}

int cmd_stats(int argc, char **argv)
{
	struct stats_opts o = { 0 };
	const struct flag flags[] = {
		{ "no-stream", 0, FLAG_BOOL, &o.no_stream, NULL, "Print one round and exit" },
		{ "all", 'a', FLAG_BOOL, &o.all, NULL, "All containers (default: running ones)" },
		{ "format", 0, FLAG_STR, &o.format, "FORMAT", "table (default), json (a line per container), or a template" },
		{ "no-trunc", 0, FLAG_BOOL, &o.no_trunc, NULL, "Do not truncate IDs" },
		{ 0 },
	};
	const struct cmd_spec spec = { "stats", "[OPTIONS] [CONTAINER...]",
				       "CPU, memory, pids and network bytes of containers", flags,
				       false };
	struct berr err = BERR_INIT;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0)
		return cmd_parse_exit(r);
	if (format_validate(o.format, &err) < 0)
		return cli_fail_err(&err);
	for (;;) {
		_cleanup_json_ cJSON *names = NULL;

		if (stats_targets(&args, o.all, &names, &err) < 0)
			return cli_fail_err(&err);
		if (!o.no_stream && isatty(STDOUT_FILENO))
			printf("\033[2J\033[H");
		r = stats_round(names, args.n > 0, &o);
		if (o.no_stream || r)
			return r;
		sleep(1);
	}
}
