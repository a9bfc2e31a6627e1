/* SPDX-License-Identifier: Apache-2.0 */
/* berth network create|ls|inspect|rm|prune|connect|disconnect */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/format.h"
#include "cli/table.h"
#include "common/names.h"
#include "common/util.h"

/* ---- the little CIDR arithmetic the CLI needs to pair gateways and ranges with subnets ---- */

struct prefix {
	int family;
	unsigned char addr[16];
	int len;
};

/* "10.0.0.0/24", "fd00::/64", or a plain address (full-length prefix). */
static int prefix_parse(const char *s, struct prefix *ret)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *slash = strchr(copy, '/'), *end;
	long len;

	if (slash)
		*slash = '\0';
	ret->family = strchr(copy, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(ret->family, copy, ret->addr) != 1)
		return -EINVAL;
	ret->len = ret->family == AF_INET ? 32 : 128;
	if (!slash)
		return 0;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || len < 0 || len > ret->len)
		return -EINVAL;
	ret->len = (int)len;
	return 0;
}

static bool prefix_contains(const struct prefix *net, const struct prefix *p)
{
	int full = net->len / 8, rest = net->len % 8;

	if (net->family != p->family || p->len < net->len)
		return false;
	if (memcmp(net->addr, p->addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((net->addr[full] ^ p->addr[full]) & (0xff << (8 - rest))) == 0;
}

/* ---- network create ---- */

struct create_opts {
	const char *driver, *ipam_driver;
	struct strlist subnet, gateway, ip_range, aux, opt, label;
	bool ipv6, internal, attachable;
};

/* Index of the subnet containing `value` (an address or a range), or a one-line error. */
static int subnet_find(const struct strlist *subnets, const char *what, const char *value,
		       struct berr *err)
{
	struct prefix p, net;

	if (prefix_parse(value, &p) < 0)
		return berr_set(err, -EINVAL, "invalid %s %s", what, value);
	for (size_t i = 0; i < subnets->n; i++)
		if (prefix_parse(subnets->v[i], &net) == 0 && prefix_contains(&net, &p))
			return (int)i;
	return berr_set(err, -EINVAL, "no matching subnet for %s %s", what, value);
}

static int ipam_subnets_check(const struct strlist *subnets, struct berr *err)
{
	struct prefix a, b;

	for (size_t i = 0; i < subnets->n; i++) {
		if (prefix_parse(subnets->v[i], &a) < 0 || !strchr(subnets->v[i], '/'))
			return berr_set(err, -EINVAL, "invalid subnet %s: expected a CIDR such as 10.1.0.0/24",
					subnets->v[i]);
		for (size_t j = 0; j < i; j++)
			if (prefix_parse(subnets->v[j], &b) == 0 &&
			    (prefix_contains(&a, &b) || prefix_contains(&b, &a)))
				return berr_set(err, -EINVAL, "subnets %s and %s overlap",
						subnets->v[j], subnets->v[i]);
	}
	return 0;
}

/* Put one --gateway or --ip-range value into the config of the subnet that contains it. */
static int ipam_assign(cJSON *configs, const struct strlist *subnets, const char *key,
		       const char *what, const char *value, struct berr *err)
{
	int i = subnet_find(subnets, what, value, err);
	cJSON *config;
	const cJSON *old;

	if (i < 0)
		return i;
	config = cJSON_GetArrayItem(configs, i);
	old = cJSON_GetObjectItemCaseSensitive(config, key);
	if (old)
		return berr_set(err, -EINVAL, "cannot configure multiple %ss (%s, %s) on the same subnet (%s)",
				what, old->valuestring, value, subnets->v[i]);
	cJSON_AddStringToObject(config, key, value);
	return 0;
}

static int ipam_assign_aux(cJSON *configs, const struct strlist *subnets, const char *spec,
			   struct berr *err)
{
	const char *ip;
	_cleanup_free_ char *name = kv_split(spec, &ip);
	cJSON *config, *aux;
	int i;

	if (!name[0] || !ip[0])
		return berr_set(err, -EINVAL, "invalid aux-address %s: expected name=IP", spec);
	i = subnet_find(subnets, "aux-address", ip, err);
	if (i < 0)
		return i;
	config = cJSON_GetArrayItem(configs, i);
	aux = cJSON_GetObjectItemCaseSensitive(config, "AuxiliaryAddresses");
	if (!aux)
		aux = cJSON_AddObjectToObject(config, "AuxiliaryAddresses");
	cJSON_AddStringToObject(aux, name, ip);
	return 0;
}

static int ipam_configs_fill(cJSON *configs, const struct create_opts *o, struct berr *err)
{
	int r = 0;

	for (size_t i = 0; i < o->subnet.n; i++)
		cJSON_AddItemToArray(configs, cJSON_CreateObject());
	for (size_t i = 0; i < o->subnet.n; i++)
		cJSON_AddStringToObject(cJSON_GetArrayItem(configs, (int)i), "Subnet", o->subnet.v[i]);
	for (size_t i = 0; r == 0 && i < o->ip_range.n; i++)
		r = ipam_assign(configs, &o->subnet, "IPRange", "range", o->ip_range.v[i], err);
	for (size_t i = 0; r == 0 && i < o->gateway.n; i++)
		r = ipam_assign(configs, &o->subnet, "Gateway", "gateway", o->gateway.v[i], err);
	for (size_t i = 0; r == 0 && i < o->aux.n; i++)
		r = ipam_assign_aux(configs, &o->subnet, o->aux.v[i], err);
	return r;
}

static int ipam_build(const struct create_opts *o, cJSON *body, struct berr *err)
{
	cJSON *ipam = cJSON_AddObjectToObject(body, "IPAM");
	cJSON *configs;
	int r;

	cJSON_AddStringToObject(ipam, "Driver", o->ipam_driver ? o->ipam_driver : "default");
	if (o->subnet.n == 0) {
		if (o->gateway.n || o->ip_range.n || o->aux.n)
			return berr_set(err, -EINVAL,
					"every ip-range, gateway or aux-address needs a --subnet");
		return 0;
	}
	r = ipam_subnets_check(&o->subnet, err);
	if (r < 0)
		return r;
	configs = cJSON_AddArrayToObject(ipam, "Config");
	return ipam_configs_fill(configs, o, err);
}

static cJSON *network_create_body(const char *name, const struct create_opts *o,
				  struct berr *err)
{
	cJSON *body = cJSON_CreateObject();

	cJSON_AddStringToObject(body, "Name", name);
	cJSON_AddStringToObject(body, "Driver", o->driver ? o->driver : "bridge");
	cJSON_AddBoolToObject(body, "Internal", o->internal);
	cJSON_AddBoolToObject(body, "EnableIPv6", o->ipv6);
	cJSON_AddBoolToObject(body, "Attachable", o->attachable);
	if (ipam_build(o, body, err) < 0) {
		cJSON_Delete(body);
		return NULL;
	}
	kv_list_to_json(body, "Options", &o->opt);
	kv_list_to_json(body, "Labels", &o->label);
	return body;
}

static int network_create(int argc, char **argv)
{
	struct create_opts o = { 0 };
	const struct flag flags[] = {
		{ "driver", 'd', FLAG_STR, &o.driver, "DRIVER", "Driver to manage the network (default \"bridge\")" },
		{ "subnet", 0, FLAG_LIST, &o.subnet, "CIDR", "Subnet in CIDR format (repeatable)" },
		{ "gateway", 0, FLAG_LIST, &o.gateway, "IP", "Gateway of the subnet that contains it" },
		{ "ip-range", 0, FLAG_LIST, &o.ip_range, "CIDR", "Allocate container addresses from this sub-range" },
		{ "aux-address", 0, FLAG_LIST, &o.aux, "NAME=IP", "Address the IPAM must not hand out" },
		{ "ipam-driver", 0, FLAG_STR, &o.ipam_driver, "DRIVER", "IP address management driver (default \"default\")" },
		{ "ipv6", 0, FLAG_BOOL, &o.ipv6, NULL, "Enable IPv6 networking" },
		{ "internal", 0, FLAG_BOOL, &o.internal, NULL, "Restrict external access to the network" },
		{ "attachable", 0, FLAG_BOOL, &o.attachable, NULL, "Enable manual container attachment" },
		{ "opt", 'o', FLAG_LIST, &o.opt, "KEY=VALUE", "Driver specific option" },
		{ "label", 0, FLAG_LIST, &o.label, "KEY=VALUE", "Metadata on the network" },
		{ 0 },
	};
	const struct cmd_spec spec = { "network create", "[OPTIONS] NETWORK", "Create a network",
				       flags, false };
	struct berr err = BERR_INIT;
	struct args args;
	cJSON *body, *reply = NULL;
	const cJSON *id, *warning;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, 1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	body = network_create_body(args.v[0], &o, &err);
	if (!body)
		return cli_fail_err(&err);
	r = client_json("POST", "/networks/create", body, &reply, &err);
	cJSON_Delete(body);
	if (r < 0)
		return cli_fail_err(&err);
	id = cJSON_GetObjectItemCaseSensitive(reply, "Id");
	warning = cJSON_GetObjectItemCaseSensitive(reply, "Warning");
	if (cJSON_IsString(warning) && warning->valuestring[0])
		fprintf(stderr, "WARNING: %s\n", warning->valuestring);
	printf("%s\n", cJSON_IsString(id) ? id->valuestring : "");
	cJSON_Delete(reply);
	return 0;
}

/* ---- network ls ---- */

/* A count as people read it: exact up to 2^53, then "1.84e+19" (an IPv6 /64). */
static void count_text(const cJSON *v, char *buf, size_t size)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : 0;

	if (d < 9007199254740992.0)
		snprintf(buf, size, "%.0f", d);
	else
		snprintf(buf, size, "%.3g", d);
}

/* Pool usage per subnet (Berth.Subnets): .Subnets "10.0.0.0/24,fd00::/64", .InUse "3,1",
 * .Free "250,1.84e+19", .Usage "10.0.0.0/24: 3 in use, 250 free, fd00::/64: ...". */
static void network_row_usage(cJSON *row, const cJSON *n)
{
	const cJSON *berth = cJSON_GetObjectItemCaseSensitive(n, "Berth"), *s;
	char *subnets = xstrdup(""), *in_use = xstrdup(""), *freec = xstrdup(""), *usage = xstrdup("");

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(berth, "Subnets")) {
		char u[64], f[64];
		const char *sep = subnets[0] ? "," : "";
		char *a, *b, *c, *d;

		count_text(cJSON_GetObjectItemCaseSensitive(s, "InUse"), u, sizeof(u));
		count_text(cJSON_GetObjectItemCaseSensitive(s, "Free"), f, sizeof(f));
		a = xasprintf("%s%s%s", subnets, sep, json_str(s, "Subnet"));
		b = xasprintf("%s%s%s", in_use, sep, u);
		c = xasprintf("%s%s%s", freec, sep, f);
		d = xasprintf("%s%s%s: %s in use, %s free", usage, usage[0] ? ", " : "",
			      json_str(s, "Subnet"), u, f);
		free(subnets), free(in_use), free(freec), free(usage);
		subnets = a, in_use = b, freec = c, usage = d;
	}
	cJSON_AddStringToObject(row, "Subnets", subnets);
	cJSON_AddStringToObject(row, "InUse", in_use);
	cJSON_AddStringToObject(row, "Free", freec);
	cJSON_AddStringToObject(row, "Usage", usage);
	free(subnets), free(in_use), free(freec), free(usage);
}


struct ls_opts {
	bool quiet, no_trunc;
	const char *format;
	struct strlist filter;
};

/* Does network n pass every -f key=value? Filters of the same key are OR'ed, as in Docker. */
static bool network_filter_key(const cJSON *n, const struct strlist *filters, const char *key)
{
	bool seen = false;

	for (size_t i = 0; i < filters->n; i++) {
		const char *v;
		_cleanup_free_ char *k = kv_split(filters->v[i], &v);

		if (strcmp(k, key) != 0)
			continue;
		seen = true;
		if (!strcmp(key, "name") && strstr(json_str(n, "Name"), v))
			return true;
		if (!strcmp(key, "id") && !strncmp(json_str(n, "Id"), v, strlen(v)))
			return true;
		if (!strcmp(key, "driver") && !strcmp(json_str(n, "Driver"), v))
			return true;
	}
	return !seen;
}

static bool network_matches(const cJSON *n, const struct strlist *filters)
{
	return network_filter_key(n, filters, "name") && network_filter_key(n, filters, "id") &&
	       network_filter_key(n, filters, "driver");
}

static int filters_check(const struct strlist *filters)
{
	for (size_t i = 0; i < filters->n; i++) {
		const char *v;
		_cleanup_free_ char *k = kv_split(filters->v[i], &v);

		if (strcmp(k, "name") && strcmp(k, "id") && strcmp(k, "driver"))
			return cli_fail("invalid filter '%s' (supported: name, id, driver)", k);
	}
	return 0;
}

/* The daemon filters by name server-side; the other keys are applied here. */
static char *network_ls_path(const struct strlist *filters)
{
	_cleanup_json_ cJSON *f = cJSON_CreateObject();
	cJSON *names = NULL;
	_cleanup_free_ char *json = NULL, *esc = NULL;

	for (size_t i = 0; i < filters->n; i++) {
		const char *v;
		_cleanup_free_ char *k = kv_split(filters->v[i], &v);

		if (strcmp(k, "name") != 0)
			continue;
		if (!names)
			names = cJSON_AddArrayToObject(f, "name");
		cJSON_AddItemToArray(names, cJSON_CreateString(v));
	}
	if (!names)
		return xstrdup("/networks");
	json = cJSON_PrintUnformatted(f);
	esc = client_escape(json);
	return xasprintf("/networks?filters=%s", esc);
}

static int network_cmp_name(const void *a, const void *b)
{
	return strcmp(json_str(*(cJSON *const *)a, "Name"), json_str(*(cJSON *const *)b, "Name"));
}

/* Filter and sort by name into a fresh array (items are references into `all`). */
static cJSON *network_select(const cJSON *all, const struct strlist *filters)
{
	int n = cJSON_GetArraySize(all), k = 0;
	_cleanup_free_ const cJSON **v = xcalloc((size_t)n + 1, sizeof(*v));
	cJSON *out = cJSON_CreateArray();
	const cJSON *item;

	cJSON_ArrayForEach(item, all)
		if (network_matches(item, filters))
			v[k++] = item;
	qsort(v, (size_t)k, sizeof(*v), network_cmp_name);
	for (int i = 0; i < k; i++)
		cJSON_AddItemReferenceToArray(out, (cJSON *)v[i]);
	return out;
}

static char *labels_text(const cJSON *labels)
{
	const cJSON *l;
	char *out = xstrdup(""), *next;

	cJSON_ArrayForEach(l, labels) {
		next = xasprintf("%s%s%s=%s", out, out[0] ? "," : "", l->string,
				 cJSON_IsString(l) ? l->valuestring : "");
		free(out);
		out = next;
	}
	return out;
}

/* The fields docker network ls --format knows, for one network. */
static cJSON *network_row(const cJSON *n, const struct ls_opts *o)
{
	_cleanup_free_ char *id = xstrdup(json_str(n, "Id"));
	_cleanup_free_ char *labels = labels_text(cJSON_GetObjectItemCaseSensitive(n, "Labels"));
	cJSON *r = cJSON_CreateObject();

	if (!o->no_trunc && strlen(id) > SHORT_ID_LEN)
		id[SHORT_ID_LEN] = '\0';
	cJSON_AddStringToObject(r, "ID", id);
	cJSON_AddStringToObject(r, "Name", json_str(n, "Name"));
	cJSON_AddStringToObject(r, "Driver", json_str(n, "Driver"));
	cJSON_AddStringToObject(r, "Scope", json_str(n, "Scope"));
	cJSON_AddStringToObject(r, "IPv6", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(n, "EnableIPv6")) ? "true" : "false");
	cJSON_AddStringToObject(r, "Internal", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(n, "Internal")) ? "true" : "false");
	cJSON_AddStringToObject(r, "Labels", labels);
	cJSON_AddStringToObject(r, "CreatedAt", json_str(n, "Created"));
	network_row_usage(r, n);
	return r;
}

static void network_ls_print(const cJSON *list, const struct ls_opts *o)
{
	static const struct format_header headers[] = {
		{ "ID", "NETWORK ID" }, { "IPv6", "IPV6" }, { "CreatedAt", "CREATED" }, { NULL, NULL },
	};
	_cleanup_json_ cJSON *rows = cJSON_CreateArray();
	const cJSON *n;

	cJSON_ArrayForEach(n, list)
		cJSON_AddItemToArray(rows, network_row(n, o));
	if (o->quiet) {
		cJSON_ArrayForEach(n, rows)
			printf("%s\n", json_str(n, "ID"));
		return;
	}
	format_list(format_is_custom(o->format) ? o->format
						: "table {{.ID}}\\t{{.Name}}\\t{{.Driver}}\\t{{.Scope}}",
		    rows, headers, stdout);
}

static int network_ls(int argc, char **argv)
{
	struct ls_opts o = { 0 };
	const struct flag flags[] = {
		{ "quiet", 'q', FLAG_BOOL, &o.quiet, NULL, "Only display network IDs" },
		{ "format", 0, FLAG_STR, &o.format, "FORMAT", "table (default), json, or a template: '{{.Name}}\\t{{.Subnets}}'" },
		{ "no-trunc", 0, FLAG_BOOL, &o.no_trunc, NULL, "Do not truncate the output" },
		{ "filter", 'f', FLAG_LIST, &o.filter, "KEY=VALUE", "Filter: name=X (substring), id=PREFIX, driver=D" },
		{ 0 },
	};
	const struct cmd_spec spec = { "network ls", "[OPTIONS]", "List networks", flags, false };
	struct berr err = BERR_INIT;
	_cleanup_free_ char *path = NULL, *json = NULL;
	cJSON *all = NULL, *list;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 0, 0) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (format_validate(o.format, &err) < 0)
		return cli_fail_err(&err);
	if (filters_check(&o.filter))
		return 1;
	path = network_ls_path(&o.filter);
	if (client_json("GET", path, NULL, &all, &err) < 0)
		return cli_fail_err(&err);
	list = network_select(all, &o.filter);
	if (o.format && !strcmp(o.format, "json") && !o.quiet) {
		json = cJSON_PrintUnformatted(list);
		printf("%s\n", json);
	} else {
		network_ls_print(list, &o);
	}
	cJSON_Delete(list);
	cJSON_Delete(all);
	return 0;
}

/* ---- network inspect / rm / prune ---- */

static int network_fetch(const char *name, void *ud, cJSON **ret, struct berr *err)
{
	_cleanup_free_ char *path = cmd_path("/networks/", name, "");

	return client_json("GET", path, NULL, ret, err);
}

static int network_inspect(int argc, char **argv)
{
	const char *format = NULL;
	const struct flag flags[] = {
		{ "format", 'f', FLAG_STR, &format, "FORMAT", "A template per network, such as '{{.Name}} {{.Driver}}'" },
		{ 0 },
	};
	const struct cmd_spec spec = { "network inspect", "[OPTIONS] NETWORK [NETWORK...]",
				       "Display detailed information on one or more networks", flags,
				       false };
	struct berr err = BERR_INIT;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (format_validate(format, &err) < 0)
		return cli_fail_err(&err);
	return cmd_inspect_each(&args, network_fetch, NULL, format);
}

static int network_rm_one(const char *name, void *ud, struct berr *err)
{
	_cleanup_free_ char *path = cmd_path("/networks/", name, "");

	return client_request("DELETE", path, NULL, NULL, NULL, err);
}

static int network_rm(int argc, char **argv)
{
	const struct cmd_spec spec = { "network rm", "NETWORK [NETWORK...]",
				       "Remove one or more networks", NULL, false };
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	return cmd_each(&args, network_rm_one, NULL);
}

static int network_prune(int argc, char **argv)
{
	bool force = false;
	const struct flag flags[] = {
		{ "force", 'f', FLAG_BOOL, &force, NULL, "Do not prompt for confirmation (never prompts)" },
		{ 0 },
	};
	const struct cmd_spec spec = { "network prune", "[OPTIONS]",
				       "Remove all networks without containers", flags, false };
	_cleanup_json_ cJSON *reply = NULL;
	struct berr err = BERR_INIT;
	const cJSON *names, *n;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 0, 0) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (client_json("POST", "/networks/prune", NULL, &reply, &err) < 0)
		return cli_fail_err(&err);
	names = cJSON_GetObjectItemCaseSensitive(reply, "NetworksDeleted");
	printf("Deleted Networks:\n");
	cJSON_ArrayForEach(n, names)
		if (cJSON_IsString(n))
			printf("%s\n", n->valuestring);
	return 0;
}

/* ---- network connect / disconnect ---- */

struct connect_opts {
	const char *ip, *ip6;
	struct strlist alias;
};

static cJSON *connect_body(const char *container, const struct connect_opts *o)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *ep, *ipam, *aliases;

	cJSON_AddStringToObject(body, "Container", container);
	ep = cJSON_AddObjectToObject(body, "EndpointConfig");
	if (o->ip || o->ip6) {
		ipam = cJSON_AddObjectToObject(ep, "IPAMConfig");
		if (o->ip)
			cJSON_AddStringToObject(ipam, "IPv4Address", o->ip);
		if (o->ip6)
			cJSON_AddStringToObject(ipam, "IPv6Address", o->ip6);
	}
	if (o->alias.n) {
		aliases = cJSON_AddArrayToObject(ep, "Aliases");
		for (size_t i = 0; i < o->alias.n; i++)
			cJSON_AddItemToArray(aliases, cJSON_CreateString(o->alias.v[i]));
	}
	return body;
}

static int network_post(const char *net, const char *action, cJSON *body)
{
	_cleanup_free_ char *path = cmd_path("/networks/", net, action);
	struct berr err = BERR_INIT;
	int r;

	r = client_request("POST", path, body, NULL, NULL, &err);
	cJSON_Delete(body);
	return r < 0 ? cli_fail_err(&err) : 0;
}

static int network_connect(int argc, char **argv)
{
	struct connect_opts o = { 0 };
	const struct flag flags[] = {
		{ "ip", 0, FLAG_STR, &o.ip, "IPv4", "IPv4 address for the container on this network" },
		{ "ip6", 0, FLAG_STR, &o.ip6, "IPv6", "IPv6 address for the container on this network" },
		{ "alias", 0, FLAG_LIST, &o.alias, "NAME", "Network-scoped alias (repeatable)" },
		{ 0 },
	};
	const struct cmd_spec spec = { "network connect", "[OPTIONS] NETWORK CONTAINER",
				       "Connect a container to a network", flags, false };
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 2, 2) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	return network_post(args.v[0], "/connect", connect_body(args.v[1], &o));
}

static int network_disconnect(int argc, char **argv)
{
	bool force = false;
	const struct flag flags[] = {
		{ "force", 'f', FLAG_BOOL, &force, NULL, "Force the container to disconnect" },
		{ 0 },
	};
	const struct cmd_spec spec = { "network disconnect", "[OPTIONS] NETWORK CONTAINER",
				       "Disconnect a container from a network", flags, false };
	struct args args;
	cJSON *body;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 2, 2) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "Container", args.v[1]);
	cJSON_AddBoolToObject(body, "Force", force);
	return network_post(args.v[0], "/disconnect", body);
}

int cmd_network(int argc, char **argv)
{
	static const struct cmd_group_entry cmds[] = {
		{ "create", network_create, "Create a network" },
		{ "ls", network_ls, "List networks" },
		{ "list", network_ls, NULL },
		{ "inspect", network_inspect, "Display detailed information on one or more networks" },
		{ "rm", network_rm, "Remove one or more networks" },
		{ "remove", network_rm, NULL },
		{ "prune", network_prune, "Remove all unused networks" },
		{ "connect", network_connect, "Connect a container to a network" },
		{ "disconnect", network_disconnect, "Disconnect a container from a network" },
		{ "probe", cmd_network_probe, "Test who reaches whom (ICMP, TCP, UDP, DNS), against a "
		  "policy" },
		{ 0 },
	};

	return cmd_group_dispatch("network", cmds, argc, argv);
}
