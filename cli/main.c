/* SPDX-License-Identifier: Apache-2.0 */
/* berth: global flags, command dispatch, usage. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/format.h"
#include "cli/table.h"
#include "common/util.h"

int cmd_firewall(int argc, char **argv);   /* cli/firewall.c */

static const struct cmd_group_entry commands[] = {
	{ "network", cmd_network, "Manage networks" },
	{ "dns", cmd_dns, "Embedded DNS: lookups and counters" },
	{ "firewall", cmd_firewall, "Firewall: rebuild berth's nftables tables" },
	{ "image", cmd_image, "Manage images (local, no daemon needed)" },
	{ "run", cmd_run, "Create and start a container" },
	{ "create", cmd_create, "Create a container" },
	{ "start", cmd_start, "Start one or more containers" },
	{ "stop", cmd_stop, "Stop one or more running containers" },
	{ "kill", cmd_kill, "Kill one or more running containers" },
	{ "rm", cmd_rm, "Remove one or more containers" },
	{ "wait", cmd_wait, "Wait for containers to stop, print their exit codes" },
	{ "ps", cmd_ps, "List containers" },
	{ "logs", cmd_logs, "Fetch the logs of a container" },
	{ "inspect", cmd_inspect, "Low-level information on containers or networks" },
	{ "exec", cmd_exec, "Run a command in a running container" },
	{ "attach", cmd_attach, "Attach to a running container's terminal or streams" },
	{ "port", cmd_port, "List port mappings of a container" },
	{ "events", cmd_events, "Stream events of networks, containers and images" },
	{ "stats", cmd_stats, "CPU, memory, pids and network bytes of containers" },
	{ "version", NULL, "Show the berth version information" },
	{ "help", NULL, "Show help for a command" },
	{ 0 },
};

int cmd_parse_exit(int r)
{
	return r == FLAGS_HELP ? 0 : 1;
}

char *cmd_path(const char *prefix, const char *name, const char *suffix)
{
	_cleanup_free_ char *esc = client_escape(name);

	return xasprintf("%s%s%s", prefix, esc, suffix);
}

int cmd_each(const struct args *args, int (*fn)(const char *name, void *ud, struct berr *err),
	     void *ud)
{
	int failed = 0;

	for (int i = 0; i < args->n; i++) {
		struct berr err = BERR_INIT;

		if (fn(args->v[i], ud, &err) < 0) {
			cli_fail_err(&err);
			failed = 1;
			continue;
		}
		printf("%s\n", args->v[i]);
		fflush(stdout);
	}
	return failed;
}

int cmd_inspect_each(const struct args *args,
		     int (*fetch)(const char *name, void *ud, cJSON **ret, struct berr *err), void *ud,
		     const char *format)
{
	_cleanup_json_ cJSON *out = cJSON_CreateArray();
	struct berr errs[16];
	int failed = 0;

	for (int i = 0; i < args->n; i++) {
		struct berr err = BERR_INIT;
		cJSON *obj = NULL;

		if (fetch(args->v[i], ud, &obj, &err) < 0) {
			if (failed < (int)ARRAY_SIZE(errs))
				errs[failed] = err;
			failed++;
			continue;
		}
		cJSON_AddItemToArray(out, obj);
	}
	if (format_is_custom(format) && strcmp(format, "json"))
		format_list(format, out, NULL, stdout);
	else
		json_print_pretty(out, stdout);
	for (int i = 0; i < failed && i < (int)ARRAY_SIZE(errs); i++)
		cli_fail_err(&errs[i]);
	return failed ? 1 : 0;
}

static void group_usage(const char *group, const struct cmd_group_entry *cmds, FILE *out)
{
	if (strcmp(group, "berth") == 0)
		fprintf(out, "Usage:  berth [OPTIONS] COMMAND\n\nA container network manager.\n\n"
			"Options:\n"
			"  -H, --host URL          Daemon socket, unix:///path (env BERTH_HOST;\n"
			"                          default " CLIENT_DEFAULT_HOST ")\n"
			"      --log-level LEVEL   error, warn, info or debug (default \"warn\")\n"
			"  -v, --version           Print the version and exit\n"
			"  -h, --help              Print this help\n");
	else
		fprintf(out, "Usage:  berth %s COMMAND\n", group);
	fprintf(out, "\nCommands:\n");
	for (const struct cmd_group_entry *c = cmds; c->name; c++)
		if (c->summary)
			fprintf(out, "  %-11s %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'berth %s%sCOMMAND --help' for more information on a command.\n",
		strcmp(group, "berth") ? group : "", strcmp(group, "berth") ? " " : "");
}

static bool is_help(const char *s)
{
	return !strcmp(s, "--help") || !strcmp(s, "-h") || !strcmp(s, "help");
}

static const struct cmd_group_entry *group_find(const struct cmd_group_entry *cmds,
						const char *name)
{
	for (const struct cmd_group_entry *c = cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int cmd_group_dispatch(const char *group, const struct cmd_group_entry *cmds, int argc,
		       char **argv)
{
	const struct cmd_group_entry *c;

	if (argc < 2)
		return cli_fail("\"%s\" requires a subcommand (see 'berth %s --help')", group, group);
	if (is_help(argv[1])) {
		group_usage(group, cmds, stdout);
		return 0;
	}
	c = group_find(cmds, argv[1]);
	if (!c)
		return cli_fail("unknown command \"%s\" for \"berth %s\"", argv[1], group);
	return c->fn(argc - 1, argv + 1);
}

static int cmd_version(int argc, char **argv)
{
	const struct cmd_spec spec = { "version", "", "Show the berth version information", NULL,
				       false };
	_cleanup_json_ cJSON *v = NULL;
	struct berr err = BERR_INIT;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 0, 0) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	printf("Client:\n Version:     %s\n API version: %s\n", BERTH_VERSION, BERTH_API_VERSION);
	fflush(stdout);
	if (client_json("GET", "/version", NULL, &v, &err) < 0)
		return cli_fail_err(&err);
	printf("\nServer:\n Version:     %s\n API version: %s\n OS/Arch:     %s/%s\n",
	       json_str(v, "Version"), json_str(v, "ApiVersion"), json_str(v, "Os"),
	       json_str(v, "Arch"));
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd_group_entry *c;
	char *help[] = { NULL, (char *)"--help", NULL };

	if (argc < 2) {
		group_usage("berth", commands, stdout);
		return 0;
	}
	c = group_find(commands, argv[1]);
	if (!c || !c->fn)
		return cli_fail("unknown command \"%s\" for \"berth\"", argv[1]);
	help[0] = argv[1];
	return c->fn(2, help);
}

static int command_run(int argc, char **argv)
{
	const struct cmd_group_entry *c = group_find(commands, argv[0]);

	if (!c)
		return cli_fail("unknown command \"%s\" for \"berth\" (see 'berth --help')", argv[0]);
	if (!strcmp(c->name, "version"))
		return cmd_version(argc, argv);
	if (!strcmp(c->name, "help"))
		return cmd_help(argc, argv);
	return c->fn(argc, argv);
}

struct global_opts {
	const char *host, *log_level;
	bool version, help;
};

static int global_apply(const struct global_opts *o)
{
	const char *host = o->host ? o->host : getenv("BERTH_HOST");
	enum blog_level level = BLOG_WARN;
	struct berr err = BERR_INIT;

	if (o->log_level && blog_parse_level(o->log_level, &level) < 0)
		return cli_fail("invalid --log-level %s: use error, warn, info or debug",
				o->log_level);
	blog_set_level(level);
	if (host && host[0] && client_set_host(host, &err) < 0)
		return cli_fail_err(&err);
	return 0;
}

static int berth_main(int argc, char **argv)
{
	struct global_opts o = { 0 };
	const struct flag flags[] = {
		{ "host", 'H', FLAG_STR, &o.host, "URL", "Daemon socket" },
		{ "log-level", 0, FLAG_STR, &o.log_level, "LEVEL", "Log level" },
		{ "version", 'v', FLAG_BOOL, &o.version, NULL, "Print the version" },
		{ "help", 'h', FLAG_BOOL, &o.help, NULL, "Print help" },
		{ 0 },
	};
	const struct cmd_spec spec = { "berth", "[OPTIONS] COMMAND", "", flags, true };
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0)
		return cmd_parse_exit(r);
	if (o.version) {
		printf("berth version %s\n", BERTH_VERSION);
		return 0;
	}
	if (o.help || args.n == 0) {
		group_usage("berth", commands, o.help ? stdout : stderr);
		return o.help ? 0 : 1;
	}
	if (global_apply(&o))
		return 1;
	return command_run(args.n, args.v);
}

int main(int argc, char **argv)
{
	int r = berth_main(argc, argv);

	fflush(stdout);
	flags_release();
	return r;
}
