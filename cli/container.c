/* SPDX-License-Identifier: Apache-2.0 */
/* berth start|stop|kill|rm|wait|ps|logs|inspect|exec|port (run/create live in run.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/format.h"
#include "cli/table.h"
#include "common/names.h"
#include "common/util.h"
#include "runtime/runtime.h"

/* ---- start / stop / kill / rm: one request per name ---- */

struct action {
	const char *method;
	const char *suffix;          /* "/start", "/stop?t=3", "?force=1" */
};

static int action_one(const char *name, void *ud, struct berr *err)
{
	const struct action *a = ud;
	_cleanup_free_ char *path = cmd_path("/containers/", name, a->suffix);

	return client_request(a->method, path, NULL, NULL, NULL, err);
}

/* start -a: attach first (its terminal or output, -i its stdin), then start, as Docker. */
static int start_attached(const char *name, bool in, const char *keys)
{
	_cleanup_free_ char *path = cmd_path("/containers/", name, "/json");
	_cleanup_json_ cJSON *c = NULL;
	struct attach_opts o = { .start = true, .detach_keys = keys };
	struct berr err = BERR_INIT;
	const cJSON *cfg;

	if (client_json("GET", path, NULL, &c, &err) < 0)
		return cli_fail_err(&err);
	cfg = cJSON_GetObjectItemCaseSensitive(c, "Config");
	o.tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "Tty"));
	o.in = in && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "OpenStdin"));
	return attach_run(json_str(c, "Id"), &o);
}

int cmd_start(int argc, char **argv)
{
	bool attach = false, interactive = false;
	const char *keys = NULL;
	const struct flag flags[] = {
		{ "attach", 'a', FLAG_BOOL, &attach, NULL, "Attach the output (a terminal: the terminal) and wait for the exit" },
		{ "interactive", 'i', FLAG_BOOL, &interactive, NULL, "Attach stdin too" },
		{ "detach-keys", 0, FLAG_STR, &keys, "KEYS", "Keys that detach (default ctrl-p,ctrl-q)" },
		{ 0 },
	};
	const struct cmd_spec spec = { "start", "[OPTIONS] CONTAINER [CONTAINER...]",
				       "Start one or more containers", flags, false };
	const struct action a = { "POST", "/start" };
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (!attach && !interactive)
		return cmd_each(&args, action_one, (void *)&a);
	if (args.n > 1)
		return cli_fail("you cannot start and attach multiple containers at once");
	return start_attached(args.v[0], interactive, keys);
}

static bool is_uint(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int cmd_stop(int argc, char **argv)
{
	const char *timeout = NULL;
	const struct flag flags[] = {
		{ "time", 't', FLAG_STR, &timeout, "SECONDS", "Seconds to wait before killing (default 10)" },
		{ "timeout", 0, FLAG_STR, &timeout, NULL, NULL },
		{ 0 },
	};
	const struct cmd_spec spec = { "stop", "[OPTIONS] CONTAINER [CONTAINER...]",
				       "Stop one or more running containers (SIGTERM, then SIGKILL)",
				       flags, false };
	_cleanup_free_ char *suffix = NULL;
	struct action a = { "POST", "/stop" };
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (timeout && !is_uint(timeout))
		return cli_fail("invalid --time %s: expected a number of seconds", timeout);
	if (timeout)
		a.suffix = suffix = xasprintf("/stop?t=%s", timeout);
	return cmd_each(&args, action_one, &a);
}

int cmd_kill(int argc, char **argv)
{
	const char *signal = NULL;
	const struct flag flags[] = {
		{ "signal", 's', FLAG_STR, &signal, "SIGNAL", "Signal to send, name or number (default KILL)" },
		{ 0 },
	};
	const struct cmd_spec spec = { "kill", "[OPTIONS] CONTAINER [CONTAINER...]",
				       "Kill one or more running containers", flags, false };
	_cleanup_free_ char *suffix = NULL;
	struct action a = { "POST", "/kill" };
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (signal)
		a.suffix = suffix = cmd_path("/kill?signal=", signal, "");
	return cmd_each(&args, action_one, &a);
}

int cmd_rm(int argc, char **argv)
{
	bool force = false;
	const struct flag flags[] = {
		{ "force", 'f', FLAG_BOOL, &force, NULL, "Kill and remove a running container" },
		{ 0 },
	};
	const struct cmd_spec spec = { "rm", "[OPTIONS] CONTAINER [CONTAINER...]",
				       "Remove one or more containers", flags, false };
	struct action a = { "DELETE", "" };
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (force)
		a.suffix = "?force=1";
	return cmd_each(&args, action_one, &a);
}

/* ---- wait / logs ---- */

int cmd_wait(int argc, char **argv)
{
	const struct cmd_spec spec = { "wait", "CONTAINER [CONTAINER...]",
				       "Block until containers stop, then print their exit codes",
				       NULL, false };
	struct args args;
	int r, failed = 0;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	for (int i = 0; i < args.n; i++) {
		_cleanup_free_ char *path = cmd_path("/containers/", args.v[i], "/wait");
		_cleanup_json_ cJSON *reply = NULL;
		struct berr err = BERR_INIT;
		const cJSON *code;

		if (client_json("POST", path, NULL, &reply, &err) < 0) {
			failed = cli_fail_err(&err);
			continue;
		}
		code = cJSON_GetObjectItemCaseSensitive(reply, "StatusCode");
		printf("%d\n", cJSON_IsNumber(code) ? code->valueint : -1);
		fflush(stdout);
	}
	return failed;
}

int cmd_logs(int argc, char **argv)
{
	bool follow = false;
	const struct flag flags[] = {
		{ "follow", 'f', FLAG_BOOL, &follow, NULL, "Follow the log until the container exits" },
		{ 0 },
	};
	const struct cmd_spec spec = { "logs", "[OPTIONS] CONTAINER",
				       "Print the output (stdout and stderr) of a container", flags,
				       false };
	_cleanup_free_ char *path = NULL;
	struct berr err = BERR_INIT;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, 1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	path = cmd_path("/containers/", args.v[0],
			follow ? "/logs?stdout=1&stderr=1&follow=1" : "/logs?stdout=1&stderr=1&follow=0");
	if (client_request("GET", path, NULL, stdout, NULL, &err) < 0)
		return cli_fail_err(&err);
	return 0;
}

/* ---- ps ---- */

struct ps_opts {
	bool all, quiet, no_trunc;
	const char *format;
};

/* Unix seconds from a number or an RFC 3339 string; 0 when unknown. */
static time_t json_time(const cJSON *v)
{
	struct tm tm = { 0 };

	if (cJSON_IsNumber(v))
		return (time_t)v->valuedouble;
	if (!cJSON_IsString(v) || !strptime(v->valuestring, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

static char *ps_names(const cJSON *c)
{
	const cJSON *n;
	char *out = xstrdup(""), *next;

	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(c, "Names")) {
		const char *s;

		if (!cJSON_IsString(n))
			continue;
		s = n->valuestring[0] == '/' ? n->valuestring + 1 : n->valuestring;
		next = xasprintf("%s%s%s", out, out[0] ? "," : "", s);
		free(out);
		out = next;
	}
	return out;
}

static char *ps_command(const cJSON *c, bool no_trunc)
{
	_cleanup_free_ char *cmd = xstrdup(json_str(c, "Command"));
	_cleanup_free_ char *cut = no_trunc ? NULL : str_ellipsis(cmd, 20);

	return xasprintf("\"%s\"", cut ? cut : cmd);
}

static void ps_created(const cJSON *c, char *buf, size_t size)
{
	time_t created = json_time(cJSON_GetObjectItemCaseSensitive(c, "Created"));
	char d[64];

	if (!created) {
		snprintf(buf, size, "%s", "");
		return;
	}
	human_duration(time(NULL) - created, d, sizeof(d));
	snprintf(buf, size, "%s ago", d);
}

/* The daemon's Status string when it sends one; else derived from State. */
static void ps_status(const cJSON *c, char *buf, size_t size)
{
	const char *status = json_str(c, "Status"), *state = json_str(c, "State");

	if (status[0])
		snprintf(buf, size, "%s", status);
	else if (!strcmp(state, "running"))
		snprintf(buf, size, "Up");
	else if (!strcmp(state, "exited"))
		snprintf(buf, size, "Exited");
	else if (!strcmp(state, "created"))
		snprintf(buf, size, "Created");
	else
		snprintf(buf, size, "%s", state);
}

/* "2024-01-02 03:04:05 +0000 UTC", as docker ps {{.CreatedAt}} */
static void ps_created_at(const cJSON *c, char *buf, size_t size)
{
	time_t created = json_time(cJSON_GetObjectItemCaseSensitive(c, "Created"));
	struct tm tm;

	gmtime_r(&created, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
}

static char *ps_networks(const cJSON *c)
{
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(c, "NetworkSettings"), *n;
	char *out = xstrdup(""), *next;

	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(ns, "Networks")) {
		next = xasprintf("%s%s%s", out, out[0] ? "," : "", n->string);
		free(out);
		out = next;
	}
	return out;
}

/* The fields docker ps --format knows, for one container. */
static cJSON *ps_row(const cJSON *c, const struct ps_opts *o)
{
	_cleanup_free_ char *id = xstrdup(json_str(c, "Id"));
	_cleanup_free_ char *cmd = ps_command(c, o->no_trunc);
	_cleanup_free_ char *names = ps_names(c), *nets = ps_networks(c);
	char created[80], status[128], at[64];
	cJSON *r = cJSON_CreateObject();

	if (!o->no_trunc && strlen(id) > SHORT_ID_LEN)
		id[SHORT_ID_LEN] = '\0';
	ps_created(c, created, sizeof(created));
	ps_status(c, status, sizeof(status));
	ps_created_at(c, at, sizeof(at));
	cJSON_AddStringToObject(r, "ID", id);
	cJSON_AddStringToObject(r, "Image", json_str(c, "Image"));
	cJSON_AddStringToObject(r, "Command", cmd);
	cJSON_AddStringToObject(r, "CreatedAt", at);
	cJSON_AddStringToObject(r, "RunningFor", created);
	cJSON_AddStringToObject(r, "State", json_str(c, "State"));
	cJSON_AddStringToObject(r, "Status", status);
	cJSON_AddStringToObject(r, "Names", names);
	cJSON_AddStringToObject(r, "Networks", nets);
	return r;
}

static int ps_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	time_t tx = json_time(cJSON_GetObjectItemCaseSensitive(x, "Created"));
	time_t ty = json_time(cJSON_GetObjectItemCaseSensitive(y, "Created"));

	if (tx != ty)
		return tx < ty ? 1 : -1;
	return strcmp(json_str(x, "Id"), json_str(y, "Id"));
}

static const struct format_header ps_headers[] = {
	{ "ID", "CONTAINER ID" }, { "RunningFor", "CREATED" }, { "CreatedAt", "CREATED AT" },
	{ NULL, NULL },
};

static void ps_print(const cJSON *list, const struct ps_opts *o)
{
	static const char *const table_default = "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t"
						 "{{.RunningFor}}\\t{{.Status}}\\t{{.Names}}";
	int n = cJSON_GetArraySize(list), k = 0;
	_cleanup_free_ const cJSON **v = xcalloc((size_t)n + 1, sizeof(*v));
	_cleanup_json_ cJSON *rows = cJSON_CreateArray();
	const cJSON *c;

	cJSON_ArrayForEach(c, list)
		v[k++] = c;
	qsort(v, (size_t)k, sizeof(*v), ps_cmp);
	for (int i = 0; i < k; i++)
		cJSON_AddItemToArray(rows, ps_row(v[i], o));
	if (o->quiet) {
		cJSON_ArrayForEach(c, rows)
			printf("%s\n", json_str(c, "ID"));
		return;
	}
	format_list(format_is_custom(o->format) ? o->format : table_default, rows, ps_headers,
		    stdout);
}

int cmd_ps(int argc, char **argv)
{
	struct ps_opts o = { 0 };
	const struct flag flags[] = {
		{ "all", 'a', FLAG_BOOL, &o.all, NULL, "Show all containers (default: running only)" },
		{ "quiet", 'q', FLAG_BOOL, &o.quiet, NULL, "Only display container IDs" },
		{ "format", 0, FLAG_STR, &o.format, "FORMAT", "table (default), json, or a template: '{{.Names}}\\t{{.Status}}'" },
		{ "no-trunc", 0, FLAG_BOOL, &o.no_trunc, NULL, "Do not truncate the output" },
		{ 0 },
	};
	const struct cmd_spec spec = { "ps", "[OPTIONS]", "List containers", flags, false };
	_cleanup_free_ char *json = NULL;
	_cleanup_json_ cJSON *list = NULL;
	struct berr err = BERR_INIT;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 0, 0) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (format_validate(o.format, &err) < 0)
		return cli_fail_err(&err);
	if (client_json("GET", o.all ? "/containers/json?all=1" : "/containers/json", NULL, &list,
			&err) < 0)
		return cli_fail_err(&err);
	if (o.format && !strcmp(o.format, "json") && !o.quiet) {
		json = cJSON_PrintUnformatted(list);
		printf("%s\n", json ? json : "[]");
		return 0;
	}
	ps_print(list, &o);
	return 0;
}

/* ---- inspect ---- */

/* GET the container, then the network, named `name`, as --type allows. */
static int inspect_one(const char *name, void *ud, cJSON **ret, struct berr *err)
{
	const char *type = ud;
	_cleanup_free_ char *cpath = cmd_path("/containers/", name, "/json");
	_cleanup_free_ char *npath = cmd_path("/networks/", name, "");
	int r = -ENOENT;

	if (!type || !strcmp(type, "container")) {
		r = client_json("GET", cpath, NULL, ret, err);
		if (r != -ENOENT)
			return r;
	}
	if (!type || !strcmp(type, "network")) {
		r = client_json("GET", npath, NULL, ret, err);
		if (r != -ENOENT)
			return r;
	}
	return berr_set(err, -ENOENT, "no such object: %s", name);
}

int cmd_inspect(int argc, char **argv)
{
	const char *type = NULL, *format = NULL;
	const struct flag flags[] = {
		{ "type", 0, FLAG_STR, &type, "TYPE", "Only look for a container or a network" },
		{ "format", 'f', FLAG_STR, &format, "FORMAT", "A template per object, such as '{{.State.Status}}'" },
		{ 0 },
	};
	struct berr err = BERR_INIT;
	const struct cmd_spec spec = { "inspect", "[OPTIONS] NAME|ID [NAME|ID...]",
				       "Low-level information on containers and networks (JSON)",
				       flags, false };
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (type && strcmp(type, "container") && strcmp(type, "network"))
		return cli_fail("invalid --type %s: use container or network", type);
	if (format_validate(format, &err) < 0)
		return cli_fail_err(&err);
	return cmd_inspect_each(&args, inspect_one, (void *)type, format);
}

/* ---- exec ---- */

/* NULL-terminated pointers into the strings of a JSON array (owned by the array). */
static char **json_to_argv(const cJSON *arr)
{
	char **v = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*v));
	const cJSON *item;
	size_t n = 0;

	cJSON_ArrayForEach(item, arr)
		if (cJSON_IsString(item))
			v[n++] = item->valuestring;
	return v;
}

struct exec_target {
	pid_t pid;
	cJSON *env;             /* Config.Env */
	char *user, *workdir;   /* Config.User, Config.WorkingDir ("" when none) */
};

static int exec_target(const char *name, struct exec_target *ret, struct berr *err)
{
	_cleanup_free_ char *path = cmd_path("/containers/", name, "/json");
	_cleanup_json_ cJSON *c = NULL;
	const cJSON *state, *pid, *env, *cfg;
	int r;

	r = client_json("GET", path, NULL, &c, err);
	if (r < 0)
		return r;
	state = cJSON_GetObjectItemCaseSensitive(c, "State");
	pid = cJSON_GetObjectItemCaseSensitive(state, "Pid");
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "Running")) ||
	    !cJSON_IsNumber(pid) || pid->valueint <= 0)
		return berr_set(err, -ESRCH, "container %s is not running", name);
	cfg = cJSON_GetObjectItemCaseSensitive(c, "Config");
	env = cJSON_GetObjectItemCaseSensitive(cfg, "Env");
	ret->pid = (pid_t)pid->valueint;
	ret->env = cJSON_IsArray(env) ? cJSON_Duplicate(env, true) : NULL;
	ret->user = xstrdup(json_str(cfg, "User"));
	ret->workdir = xstrdup(json_str(cfg, "WorkingDir"));
	return 0;
}

int cmd_exec(int argc, char **argv)
{
	struct strlist envs = { 0 };
	bool interactive = false, tty = false, detach = false;
	const char *user = NULL, *workdir = NULL, *keys = NULL;
	const struct flag flags[] = {
		{ "env", 'e', FLAG_LIST, &envs, "K=V", "Set an environment variable" },
		{ "user", 'u', FLAG_STR, &user, "USER[:GROUP]", "User to run as (default: the container's)" },
		{ "workdir", 'w', FLAG_STR, &workdir, "DIR", "Working directory (default: the container's)" },
		{ "interactive", 'i', FLAG_BOOL, &interactive, NULL, "Keep stdin open (through berthd)" },
		{ "tty", 't', FLAG_BOOL, &tty, NULL, "A terminal for the command (through berthd; Ctrl-P Ctrl-Q detaches)" },
		{ "detach", 'd', FLAG_BOOL, &detach, NULL, "Run the command in the background (through berthd)" },
		{ "detach-keys", 0, FLAG_STR, &keys, "KEYS", "Keys that detach (default ctrl-p,ctrl-q)" },
		{ 0 },
	};
	const struct cmd_spec spec = { "exec", "[OPTIONS] CONTAINER COMMAND [ARG...]",
				       "Run a command in a running container", flags, true };
	_cleanup_json_ cJSON *env = NULL;
	_cleanup_free_ char **envp = NULL;
	struct exec_target tg = { 0 };
	struct berr err = BERR_INIT;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 2, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (interactive || tty || detach) {
		env = env_build(NULL, &envs, &err);
		if (!env)
			return cli_fail_err(&err);
		return exec_api(args.v[0], args.v + 1, env, user, workdir, interactive, tty, detach,
				keys);
	}
	if (exec_target(args.v[0], &tg, &err) < 0)
		return cli_fail_err(&err);
	env = env_build(tg.env, &envs, &err);
	cJSON_Delete(tg.env);
	if (!env)
		return cli_fail_err(&err);
	envp = json_to_argv(env);
	fflush(stdout);
	r = rt_exec(tg.pid, args.v + 1, envp, user ? user : tg.user[0] ? tg.user : NULL,
		    workdir ? workdir : tg.workdir[0] ? tg.workdir : NULL, &err);
	free(tg.user);
	free(tg.workdir);
	if (r < 0)
		return cli_fail_err(&err);
	return r;
}

/* ---- port ---- */

static void port_print_binding(const char *key, const cJSON *b, bool short_form)
{
	const char *ip = json_str(b, "HostIp"), *port = json_str(b, "HostPort");
	bool v6 = strchr(ip, ':') != NULL;

	if (!ip[0])
		ip = "0.0.0.0";
	if (!short_form)
		printf("%s -> ", key);
	printf("%s%s%s:%s\n", v6 ? "[" : "", ip, v6 ? "]" : "", port);
}

static const cJSON *port_map(const cJSON *c)
{
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(c, "NetworkSettings");
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(ns, "Ports");
	const cJSON *hc = cJSON_GetObjectItemCaseSensitive(c, "HostConfig");

	if (cJSON_IsObject(ports) && ports->child)
		return ports;
	return cJSON_GetObjectItemCaseSensitive(hc, "PortBindings");
}

int cmd_port(int argc, char **argv)
{
	const struct cmd_spec spec = { "port", "CONTAINER [PRIVATE_PORT[/PROTO]]",
				       "List port mappings of a container", NULL, false };
	_cleanup_free_ char *path = NULL, *want = NULL;
	_cleanup_json_ cJSON *c = NULL;
	struct berr err = BERR_INIT;
	const cJSON *key, *b;
	struct args args;
	bool found = false;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, 2) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (args.n == 2)
		want = strchr(args.v[1], '/') ? xstrdup(args.v[1]) : xasprintf("%s/tcp", args.v[1]);
	path = cmd_path("/containers/", args.v[0], "/json");
	if (client_json("GET", path, NULL, &c, &err) < 0)
		return cli_fail_err(&err);
	cJSON_ArrayForEach(key, port_map(c)) {
		if (want && strcmp(want, key->string))
			continue;
		cJSON_ArrayForEach(b, key) {
			port_print_binding(key->string, b, want != NULL);
			found = true;
		}
	}
	if (want && !found)
		return cli_fail("no public port '%s' published for %s", want, args.v[0]);
	return 0;
}
