/* SPDX-License-Identifier: Apache-2.0 */
/* berth run / berth create: flags → POST /containers/create body, then start, logs, wait. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "common/util.h"

struct run_opts {
	bool detach, rm, publish_all, interactive, tty;
	const char *name, *ip, *ip6, *hostname, *user, *workdir, *entrypoint, *detach_keys;
	struct strlist network, alias, env, publish, dns, dns_search, dns_option, add_host, label;
	struct run_limits limits;
};

/* ---- environment ---- */

static void env_set(cJSON *env, const char *entry)
{
	size_t klen = strcspn(entry, "=") + 1;   /* compare "K=" */
	cJSON *item;
	int i = 0;

	cJSON_ArrayForEach(item, env) {
		if (cJSON_IsString(item) && strncmp(item->valuestring, entry, klen) == 0) {
			cJSON_ReplaceItemInArray(env, i, cJSON_CreateString(entry));
			return;
		}
		i++;
	}
	cJSON_AddItemToArray(env, cJSON_CreateString(entry));
}

cJSON *env_build(const cJSON *base, const struct strlist *vars, struct berr *err)
{
	cJSON *env = base ? cJSON_Duplicate(base, true) : cJSON_CreateArray();

	for (size_t i = 0; i < vars->n; i++) {
		const char *v = vars->v[i], *value;
		_cleanup_free_ char *resolved = NULL;

		if (v[0] == '=' || v[0] == '\0') {
			cJSON_Delete(env);
			berr_set(err, -EINVAL, "invalid environment variable: %s", v);
			return NULL;
		}
		if (!strchr(v, '=')) {
			value = getenv(v);
			if (!value)
				continue;
			v = resolved = xasprintf("%s=%s", v, value);
		}
		env_set(env, v);
	}
	return env;
}

/* ---- -p [ip:][hostPort:]containerPort[/proto] ---- */

struct port_range {
	long lo, hi;
};

static int range_parse(const char *s, long min, struct port_range *ret)
{
	char *end;

	errno = 0;
	ret->lo = strtol(s, &end, 10);
	ret->hi = ret->lo;
	if (*end == '-' && end != s)
		ret->hi = strtol(end + 1, &end, 10);
	if (errno || end == s || *end || ret->lo < min || ret->hi > 65535 || ret->hi < ret->lo)
		return -EINVAL;
	return 0;
}

struct port_spec {
	char *copy;                      /* owns the strings below */
	const char *ip, *host, *container, *proto;
};

/* Split the text; IPv6 host addresses must be bracketed: [::1]:8080:80. */
static int port_spec_split(const char *spec, struct port_spec *p)
{
	char *slash, *rest, *colon;

	p->copy = xstrdup(spec);
	p->ip = p->host = "";
	p->proto = "tcp";
	slash = strrchr(p->copy, '/');
	if (slash) {
		*slash = '\0';
		p->proto = slash + 1;
	}
	rest = p->copy;
	if (rest[0] == '[') {
		colon = strstr(rest, "]:");
		if (!colon)
			return -EINVAL;
		*colon = '\0';
		p->ip = rest + 1;
		rest = colon + 2;
	} else if (strchr(rest, ':') && strchr(rest, ':') != strrchr(rest, ':')) {
		colon = strchr(rest, ':');
		*colon = '\0';
		p->ip = rest;
		rest = colon + 1;
	}
	colon = strchr(rest, ':');
	if (colon) {
		*colon = '\0';
		p->host = rest;
		rest = colon + 1;
	}
	p->container = rest;
	return strchr(rest, ':') ? -EINVAL : 0;
}

static void port_binding_add(cJSON *bindings, cJSON *exposed, const char *key, const char *ip,
			     const char *host_port)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(bindings, key);
	cJSON *b = cJSON_CreateObject();

	if (!list)
		list = cJSON_AddArrayToObject(bindings, key);
	cJSON_AddStringToObject(b, "HostIp", ip);
	cJSON_AddStringToObject(b, "HostPort", host_port);
	cJSON_AddItemToArray(list, b);
	if (!cJSON_GetObjectItemCaseSensitive(exposed, key))
		cJSON_AddObjectToObject(exposed, key);
}

static bool proto_valid(const char *p)
{
	return !strcmp(p, "tcp") || !strcmp(p, "udp") || !strcmp(p, "sctp");
}

static int port_spec_add(cJSON *bindings, cJSON *exposed, const char *spec, struct berr *err)
{
	struct port_spec p = { 0 };
	struct port_range c, h = { 0, 0 };
	_cleanup_free_ char *owned = NULL;
	int r;

	r = port_spec_split(spec, &p);
	owned = p.copy;
	if (r < 0 || range_parse(p.container, 1, &c) < 0 ||
	    (p.host[0] && range_parse(p.host, 0, &h) < 0))
		return berr_set(err, -EINVAL, "invalid port specification: \"%s\"", spec);
	if (!proto_valid(p.proto))
		return berr_set(err, -EINVAL, "invalid protocol \"%s\" in port specification \"%s\"",
				p.proto, spec);
	if (c.hi > c.lo && p.host[0] && h.hi - h.lo != c.hi - c.lo)
		return berr_set(err, -EINVAL,
				"invalid ranges specified for container and host ports: \"%s\"", spec);
	for (long port = c.lo; port <= c.hi; port++) {
		_cleanup_free_ char *key = xasprintf("%ld/%s", port, p.proto);
		_cleanup_free_ char *hp = NULL;

		if (c.hi > c.lo && p.host[0])
			hp = xasprintf("%ld", h.lo + (port - c.lo));
		port_binding_add(bindings, exposed, key, p.ip, hp ? hp : p.host);
	}
	return 0;
}

/* ---- the create body ---- */

static void strlist_to_json(cJSON *obj, const char *key, const struct strlist *l, size_t from)
{
	cJSON *arr;

	if (l->n <= from)
		return;
	arr = cJSON_AddArrayToObject(obj, key);
	for (size_t i = from; i < l->n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(l->v[i]));
}

static void endpoint_first(cJSON *ep, const struct run_opts *o)
{
	cJSON *ipam;

	if (o->ip || o->ip6) {
		ipam = cJSON_AddObjectToObject(ep, "IPAMConfig");
		if (o->ip)
			cJSON_AddStringToObject(ipam, "IPv4Address", o->ip);
		if (o->ip6)
			cJSON_AddStringToObject(ipam, "IPv6Address", o->ip6);
	}
	strlist_to_json(ep, "Aliases", &o->alias, 0);
}

static int networking_build(cJSON *body, cJSON *host, const struct run_opts *o, struct berr *err)
{
	cJSON *eps;

	if (o->network.n == 0) {
		if (o->ip || o->ip6 || o->alias.n)
			return berr_set(err, -EINVAL, "--ip, --ip6 and --alias need a --network");
		return 0;
	}
	cJSON_AddStringToObject(host, "NetworkMode", o->network.v[0]);
	eps = cJSON_AddObjectToObject(cJSON_AddObjectToObject(body, "NetworkingConfig"),
				      "EndpointsConfig");
	for (size_t i = 0; i < o->network.n; i++) {
		cJSON *ep;

		if (cJSON_GetObjectItemCaseSensitive(eps, o->network.v[i]))
			return berr_set(err, -EINVAL, "network %s is given twice",
					o->network.v[i]);
		ep = cJSON_AddObjectToObject(eps, o->network.v[i]);
		if (i == 0)
			endpoint_first(ep, o);
	}
	return 0;
}

static int ports_build(cJSON *body, cJSON *host, const struct run_opts *o, struct berr *err)
{
	cJSON *bindings, *exposed;
	int r;

	if (o->publish.n == 0)
		return 0;
	exposed = cJSON_AddObjectToObject(body, "ExposedPorts");
	bindings = cJSON_AddObjectToObject(host, "PortBindings");
	for (size_t i = 0; i < o->publish.n; i++) {
		r = port_spec_add(bindings, exposed, o->publish.v[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* -i, -t: Docker's fields; a foreground run attaches its streams (the shim keeps the first
 * output for it), and a terminal starts at the size of the local one. */
static void terminal_build(cJSON *body, const struct run_opts *o)
{
	bool fg = !o->detach;
	int rows, cols;

	cJSON_AddBoolToObject(body, "Tty", o->tty);
	cJSON_AddBoolToObject(body, "OpenStdin", o->interactive);
	cJSON_AddBoolToObject(body, "StdinOnce", o->interactive && fg);
	cJSON_AddBoolToObject(body, "AttachStdin", o->interactive && fg);
	cJSON_AddBoolToObject(body, "AttachStdout", fg && (o->interactive || o->tty));
	cJSON_AddBoolToObject(body, "AttachStderr", fg && (o->interactive || o->tty));
	if (o->tty && tty_size(&rows, &cols)) {
		cJSON *cs = cJSON_AddArrayToObject(cJSON_GetObjectItemCaseSensitive(body, "HostConfig"),
						   "ConsoleSize");

		cJSON_AddItemToArray(cs, cJSON_CreateNumber(rows));
		cJSON_AddItemToArray(cs, cJSON_CreateNumber(cols));
	}
}

/* Positionals: IMAGE [CMD ARGS...]. */
static cJSON *run_body(const struct run_opts *o, const struct args *a, struct berr *err)
{
	_cleanup_json_ cJSON *body = cJSON_CreateObject();
	struct strlist pos = { .v = (const char **)a->v, .n = (size_t)a->n };
	cJSON *host, *env;

	if (a->n > 0)
		cJSON_AddStringToObject(body, "Image", a->v[0]);
	strlist_to_json(body, "Cmd", &pos, 1);
	env = env_build(NULL, &o->env, err);
	if (!env)
		return NULL;
	cJSON_AddItemToObject(body, "Env", env);
	if (o->hostname)
		cJSON_AddStringToObject(body, "Hostname", o->hostname);
	if (o->user)
		cJSON_AddStringToObject(body, "User", o->user);
	if (o->workdir)
		cJSON_AddStringToObject(body, "WorkingDir", o->workdir);
	if (o->entrypoint)   /* a string, as docker sends it ("" clears the image's) */
		cJSON_AddStringToObject(body, "Entrypoint", o->entrypoint);
	kv_list_to_json(body, "Labels", &o->label);
	host = cJSON_AddObjectToObject(body, "HostConfig");
	terminal_build(body, o);
	cJSON_AddBoolToObject(host, "AutoRemove", o->rm && o->detach);
	strlist_to_json(host, "Dns", &o->dns, 0);
	strlist_to_json(host, "DnsSearch", &o->dns_search, 0);
	strlist_to_json(host, "DnsOptions", &o->dns_option, 0);
	strlist_to_json(host, "ExtraHosts", &o->add_host, 0);
	if (o->publish_all)
		cJSON_AddTrueToObject(host, "PublishAllPorts");
	if (ports_build(body, host, o, err) < 0 || networking_build(body, host, o, err) < 0 ||
	    run_limits_build(host, &o->limits, err) < 0)
		return NULL;
	return steal_ptr(body);
}

/* POST /containers/create; returns the new ID (malloc'd) or NULL with err set. */
static char *container_create(const struct run_opts *o, const struct args *a, struct berr *err)
{
	_cleanup_json_ cJSON *body = run_body(o, a, err);
	_cleanup_json_ cJSON *reply = NULL;
	_cleanup_free_ char *path = NULL;
	const cJSON *w;

	if (!body)
		return NULL;
	path = o->name ? cmd_path("/containers/create?name=", o->name, "")
		       : xstrdup("/containers/create");
	if (client_json("POST", path, body, &reply, err) < 0)
		return NULL;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(reply, "Warnings"))
		if (cJSON_IsString(w) && w->valuestring[0])
			fprintf(stderr, "WARNING: %s\n", w->valuestring);
	if (!json_str(reply, "Id")[0]) {
		berr_set(err, -EBADMSG, "berthd did not return the new container's Id");
		return NULL;
	}
	return xstrdup(json_str(reply, "Id"));
}

static int container_post(const char *id, const char *action, struct berr *err)
{
	_cleanup_free_ char *path = cmd_path("/containers/", id, action);

	return client_request("POST", path, NULL, NULL, NULL, err);
}

static void container_remove_quietly(const char *id)
{
	_cleanup_free_ char *path = cmd_path("/containers/", id, "?force=1");
	struct berr err = BERR_INIT;

	if (client_request("DELETE", path, NULL, NULL, NULL, &err) < 0 && err.code != -ENOENT)
		cli_fail_err(&err);
}

/* Foreground: stream the log until the container exits, then collect its exit code. */
static int run_attached(const char *id, bool rm)
{
	_cleanup_free_ char *logs = cmd_path("/containers/", id,
					     "/logs?stdout=1&stderr=1&follow=1");
	_cleanup_free_ char *wait = cmd_path("/containers/", id, "/wait");
	_cleanup_json_ cJSON *reply = NULL;
	struct berr err = BERR_INIT;
	const cJSON *code;
	int status = 1;

	if (client_request("GET", logs, NULL, stdout, NULL, &err) < 0) {
		cli_fail_err(&err);
		berr_clear(&err);
	}
	fflush(stdout);
	if (client_json("POST", wait, NULL, &reply, &err) < 0)
		cli_fail_err(&err);
	code = cJSON_GetObjectItemCaseSensitive(reply, "StatusCode");
	if (cJSON_IsNumber(code))
		status = code->valueint < 0 || code->valueint > 255 ? 1 : code->valueint;
	if (rm)
		container_remove_quietly(id);
	return status;
}

/* Foreground -i / -t: attach, then start (attach_run), relay, exit code. */
static int run_terminal(const char *id, const struct run_opts *o)
{
	const struct attach_opts a = { .in = o->interactive, .tty = o->tty, .start = true,
				       .rm = o->rm, .detach_keys = o->detach_keys };

	return attach_run(id, &a);
}

static int run_or_create(int argc, char **argv, bool start)
{
	struct run_opts o = { 0 };
	const struct flag flags[] = {
		{ "detach", 'd', FLAG_BOOL, &o.detach, NULL, "Run in the background, print the container ID" },
		{ "name", 0, FLAG_STR, &o.name, "NAME", "Name of the container" },
		{ "network", 0, FLAG_LIST, &o.network, "NETWORK", "Connect to a network (repeatable; the first is eth0)" },
		{ "net", 0, FLAG_LIST, &o.network, NULL, NULL },
		{ "ip", 0, FLAG_STR, &o.ip, "IPv4", "IPv4 address on the first network" },
		{ "ip6", 0, FLAG_STR, &o.ip6, "IPv6", "IPv6 address on the first network" },
		{ "alias", 0, FLAG_LIST, &o.alias, "NAME", "Alias on the first network (repeatable)" },
		{ "network-alias", 0, FLAG_LIST, &o.alias, NULL, NULL },
		{ "rm", 0, FLAG_BOOL, &o.rm, NULL, "Remove the container when it exits" },
		{ "hostname", 'h', FLAG_STR, &o.hostname, "NAME", "Container host name" },
		{ "label", 'l', FLAG_LIST, &o.label, "KEY=VALUE", "Metadata on the container (repeatable; probe policies select by it)" },
		{ "env", 'e', FLAG_LIST, &o.env, "K=V", "Set an environment variable (K alone: from berth's environment)" },
		{ "interactive", 'i', FLAG_BOOL, &o.interactive, NULL, "Keep stdin open (attached in the foreground)" },
		{ "tty", 't', FLAG_BOOL, &o.tty, NULL, "A terminal for the container (raw mode here, Ctrl-P Ctrl-Q detaches)" },
		{ "detach-keys", 0, FLAG_STR, &o.detach_keys, "KEYS", "Keys that detach (default ctrl-p,ctrl-q)" },
		{ "publish-all", 'P', FLAG_BOOL, &o.publish_all, NULL, "Publish every exposed port (the image's too) on an ephemeral host port" },
		{ "publish", 'p', FLAG_LIST, &o.publish, "SPEC", "Publish a port: [ip:][hostPort:]containerPort[/proto]" },
		{ "dns", 0, FLAG_LIST, &o.dns, "IP", "Upstream DNS server for the embedded DNS (repeatable)" },
		{ "dns-search", 0, FLAG_LIST, &o.dns_search, "DOMAIN", "DNS search domain (repeatable; \".\" for none)" },
		{ "dns-option", 0, FLAG_LIST, &o.dns_option, "OPT", "resolv.conf option (repeatable)" },
		{ "dns-opt", 0, FLAG_LIST, &o.dns_option, NULL, NULL },
		{ "user", 'u', FLAG_STR, &o.user, "USER[:GROUP]", "User to run as (name or uid; default: the image's)" },
		{ "workdir", 'w', FLAG_STR, &o.workdir, "DIR", "Working directory (default: the image's, else /)" },
		{ "entrypoint", 0, FLAG_STR, &o.entrypoint, "CMD", "Replace the image's entrypoint (\"\": none)" },
		{ "add-host", 0, FLAG_LIST, &o.add_host, "HOST:IP", "An /etc/hosts entry (repeatable; IP may be host-gateway)" },
		{ "memory", 'm', FLAG_STR, &o.limits.memory, "BYTES", "Memory limit (64m, 1g...)" },
		{ "memory-swap", 0, FLAG_STR, &o.limits.memory_swap, "BYTES", "Memory + swap limit (-1: unlimited swap)" },
		{ "pids-limit", 0, FLAG_STR, &o.limits.pids, "N", "Maximum number of processes (-1: unlimited)" },
		{ "cpus", 0, FLAG_STR, &o.limits.cpus, "N", "Number of CPUs (0.5: half of one)" },
		{ "cpu-shares", 'c', FLAG_STR, &o.limits.cpu_shares, "N", "CPU shares (relative weight, 1024 by default)" },
		{ 0 },
	};
	const struct cmd_spec spec = { start ? "run" : "create", "[OPTIONS] [IMAGE] [COMMAND] [ARG...]",
				       start ? "Create and start a container" : "Create a container",
				       flags, true };
	struct berr err = BERR_INIT;
	_cleanup_free_ char *id = NULL;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0)
		return cmd_parse_exit(r);
	id = container_create(&o, &args, &err);
	if (!id)
		return cli_fail_err(&err);
	if (start && !o.detach && (o.interactive || o.tty))
		return run_terminal(id, &o);
	if (start && container_post(id, "/start", &err) < 0) {
		r = cli_fail_err(&err);
		if (o.rm)
			container_remove_quietly(id);
		return r;
	}
	if (!start || o.detach) {
		printf("%s\n", id);
		return 0;
	}
	return run_attached(id, o.rm);
}

int cmd_run(int argc, char **argv)
{
	return run_or_create(argc, argv, true);
}

int cmd_create(int argc, char **argv)
{
	return run_or_create(argc, argv, false);
}
