/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's shapes, filters and refusals for Docker clients (daemon/api_docker.h). The shapes are
 * those of dockerd 20.10 (API 1.41); tests/system/test_docker_compare.sh compares them field by
 * field with a real dockerd. */
#include "daemon/api_docker.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

/* ---------------------------------------------------------------- helpers */

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Moves o[key] to the end of out under the same key (null when o has none). */
static void move(cJSON *out, cJSON *o, const char *key)
{
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(o, key);

	cJSON_AddItemToObject(out, key, v ? v : cJSON_CreateNull());
}

/* Replaces the members of o with those of by (by is consumed). */
static void replace_members(cJSON *o, cJSON *by)
{
	cJSON *it;

	while ((it = o->child))
		cJSON_Delete(cJSON_DetachItemViaPointer(o, it));
	o->child = by->child;
	by->child = NULL;
	cJSON_Delete(by);
}

static cJSON *dup_or_null(const cJSON *v)
{
	return v && !cJSON_IsNull(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/* An empty array or object, or absent/null: null (Go's nil slices and maps). */
static cJSON *dup_or_null_if_empty(const cJSON *v)
{
	return v && cJSON_GetArraySize(v) > 0 ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* Go encodes a map with its keys sorted: Docker's maps (networks, ports, labels, options) come
 * out that way, whatever order berth keeps. */
static void keys_sort(cJSON *o)
{
	size_t n = (size_t)cJSON_GetArraySize(o), k = 0;
	cJSON **v, *it;

	if (!cJSON_IsObject(o) || n < 2)
		return;
	v = xcalloc(n, sizeof(*v));
	while ((it = o->child))
		v[k++] = cJSON_DetachItemViaPointer(o, it);
	qsort(v, k, sizeof(*v), key_cmp);
	for (size_t i = 0; i < k; i++)
		cJSON_AddItemToArray(o, v[i]);   /* links the member, its key kept */
	free(v);
}

static bool str_in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

/* Docker's filter.Match: the value, as a regular expression, matches somewhere in s. */
static bool regex_match(const char *re, const char *s)
{
	regex_t r;
	bool hit;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		return strstr(s, re) != NULL;
	hit = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return hit;
}

/* "key" (present) or "key=value" (equal) against a labels object. */
static bool label_match(const char *want, const cJSON *labels)
{
	const char *eq = strchr(want, '=');
	size_t klen = eq ? (size_t)(eq - want) : strlen(want);
	const cJSON *it;

	cJSON_ArrayForEach(it, labels)
		if (strlen(it->string) == klen && !strncmp(it->string, want, klen))
			return !eq || (cJSON_IsString(it) && !strcmp(it->valuestring, eq + 1));
	return false;
}

/* Every filter key is one of allowed: -EINVAL "invalid filter 'key'" as dockerd says. */
static int filter_keys_check(const cJSON *filters, const char *const *allowed, struct berr *err)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, filters)
		if (!str_in(it->string, allowed))
			return berr_set(err, -EINVAL, "invalid filter '%s'", it->string);
	return 0;
}

typedef bool (*filter_fn)(const cJSON *obj, const char *value);

struct filter_test {
	const char *key;
	filter_fn fn;
};

/* True when every value of filters[key] is rejected by fn (a filter that is absent passes). */
static bool filter_rejects(const cJSON *obj, const cJSON *filters, const char *key, filter_fn fn)
{
	const cJSON *vals = get(filters, key), *v;

	if (!vals || cJSON_GetArraySize(vals) == 0)
		return false;
	cJSON_ArrayForEach(v, vals)
		if (fn(obj, v->valuestring))
			return false;
	return true;
}

/* Removes from list the objects that a filter with a test rejects. */
static void list_filter(cJSON *list, const cJSON *filters, const struct filter_test *tests,
			size_t n)
{
	cJSON *o, *next;

	for (o = list ? list->child : NULL; o; o = next) {
		bool drop = false;

		next = o->next;
		for (size_t i = 0; i < n && !drop; i++)
			drop = filter_rejects(o, filters, tests[i].key, tests[i].fn);
		if (drop)
			cJSON_Delete(cJSON_DetachItemViaPointer(list, o));
	}
}

/* ---------------------------------------------------------------- networks */

static const char *net_docker_driver(const cJSON *net)
{
	const char *d = get_str(net, "Driver");

	return !strcmp(d, "none") ? "null" : d;   /* Docker's name of the "none" driver */
}

static bool net_predefined(const cJSON *net)
{
	return cJSON_IsTrue(get(get(net, "Berth"), "Predefined"));
}

/* IPAM.Config as dockerd shows it: the gateway only when it was asked, or the subnet chosen
 * (not on the predefined bridge, whose addresses are the daemon's configuration). */
static void net_ipam_shape(cJSON *ipam, const cJSON *origins, bool predefined)
{
	cJSON *cfg = (cJSON *)get(ipam, "Config"), *c, *next, *v6 = cJSON_CreateArray();
	int i = 0;

	cJSON_ArrayForEach(c, cfg) {
		const cJSON *o = cJSON_GetArrayItem(origins, i++);
		bool gw_auto = cJSON_IsTrue(get(o, "GatewayAuto"));
		bool sub_auto = cJSON_IsTrue(get(o, "SubnetAuto"));

		if (predefined || (gw_auto && !sub_auto))
			cJSON_DeleteItemFromObjectCaseSensitive(c, "Gateway");
	}
	/* dockerd keeps IPv4 and IPv6 configurations apart: IPv4 first, each in its order */
	for (c = cfg ? cfg->child : NULL; c; c = next) {
		next = c->next;
		if (strchr(get_str(c, "Subnet"), ':'))
			cJSON_AddItemToArray(v6, cJSON_DetachItemViaPointer(cfg, c));
	}
	while ((c = cJSON_DetachItemFromArray(v6, 0)))
		cJSON_AddItemToArray(cfg, c);
	cJSON_Delete(v6);
	if (predefined)
		cJSON_ReplaceItemInObjectCaseSensitive(ipam, "Options", cJSON_CreateNull());
}

void docker_network_shape(cJSON *net)
{
	cJSON *out = cJSON_CreateObject(), *from = cJSON_CreateObject();
	cJSON *berth = cJSON_DetachItemFromObjectCaseSensitive(net, "Berth");
	bool predefined = cJSON_IsTrue(get(berth, "Predefined"));

	net_ipam_shape((cJSON *)get(net, "IPAM"), get(berth, "Subnets"), predefined);
	move(out, net, "Name");
	move(out, net, "Id");
	move(out, net, "Created");
	move(out, net, "Scope");
	cJSON_AddStringToObject(out, "Driver", net_docker_driver(net));
	move(out, net, "EnableIPv6");
	move(out, net, "IPAM");
	move(out, net, "Internal");
	move(out, net, "Attachable");
	cJSON_AddFalseToObject(out, "Ingress");
	cJSON_AddStringToObject(from, "Network", "");
	cJSON_AddItemToObject(out, "ConfigFrom", from);
	cJSON_AddFalseToObject(out, "ConfigOnly");
	move(out, net, "Containers");
	move(out, net, "Options");
	move(out, net, "Labels");
	if (!strcmp(get_str(out, "Driver"), "host") || !strcmp(get_str(out, "Driver"), "null")) {
		cJSON *ep;

		cJSON_ArrayForEach(ep, get(out, "Containers"))   /* no interface of their own */
			cJSON_ReplaceItemInObjectCaseSensitive(ep, "MacAddress", cJSON_CreateString(""));
	}
	keys_sort((cJSON *)get(out, "Containers"));
	keys_sort((cJSON *)get(out, "Options"));
	keys_sort((cJSON *)get(out, "Labels"));
	cJSON_Delete(berth);
	replace_members(net, out);
}

static bool net_name_match(const cJSON *n, const char *v) { return regex_match(v, get_str(n, "Name")); }
static bool net_id_match(const cJSON *n, const char *v) { return regex_match(v, get_str(n, "Id")); }
static bool net_driver_match(const cJSON *n, const char *v) { return !strcmp(v, net_docker_driver(n)); }
static bool net_label_match(const cJSON *n, const char *v) { return label_match(v, get(n, "Labels")); }
static bool net_scope_match(const cJSON *n, const char *v) { return !strcmp(v, get_str(n, "Scope")); }

static bool net_type_match(const cJSON *n, const char *v)
{
	return !strcmp(v, net_predefined(n) ? "builtin" : "custom");
}

static bool net_dangling_match(const cJSON *n, const char *v)
{
	bool unused = !net_predefined(n) && cJSON_GetArraySize(get(n, "Containers")) == 0;

	return (!strcmp(v, "true") || !strcmp(v, "1")) == unused;
}

/* Values dockerd refuses: type other than custom/builtin, dangling other than a boolean. */
static int net_filter_values_check(const cJSON *filters, struct berr *err)
{
	static const char *const types[] = { "custom", "builtin", NULL };
	static const char *const bools[] = { "true", "false", "1", "0", NULL };
	const cJSON *v;

	cJSON_ArrayForEach(v, get(filters, "type"))
		if (!str_in(v->valuestring, types))
			return berr_set(err, -EINVAL, "invalid filter: 'type'='%s'", v->valuestring);
	cJSON_ArrayForEach(v, get(filters, "dangling"))
		if (!str_in(v->valuestring, bools))
			return berr_set(err, -EINVAL, "invalid filter 'dangling=%s'", v->valuestring);
	return 0;
}

int docker_networks_filter(cJSON *list, const cJSON *filters, struct berr *err)
{
	static const char *const keys[] = { "dangling", "driver", "id", "label", "name", "scope",
					    "type", NULL };
	static const struct filter_test tests[] = {
		{ "name", net_name_match }, { "id", net_id_match }, { "driver", net_driver_match },
		{ "label", net_label_match }, { "scope", net_scope_match },
		{ "type", net_type_match }, { "dangling", net_dangling_match },
	};
	int r = filter_keys_check(filters, keys, err);

	if (r >= 0)
		r = net_filter_values_check(filters, err);
	if (r >= 0)
		list_filter(list, filters, tests, ARRAY_SIZE(tests));
	return r;
}

/* ---------------------------------------------------------------- prune filters */

/* A Go duration ("90s", "1h30m", "2.5h") in seconds; -1 when s is not one. */
static double go_duration(const char *s)
{
	double total = 0;
	char *end;

	if (!*s)
		return -1;
	while (*s) {
		double v = strtod(s, &end);

		if (end == s)
			return -1;
		if (!strncmp(end, "ms", 2)) total += v / 1e3, end += 2;
		else if (!strncmp(end, "us", 2)) total += v / 1e6, end += 2;
		else if (!strncmp(end, "ns", 2)) total += v / 1e9, end += 2;
		else if (*end == 'h') total += v * 3600, end++;
		else if (*end == 'm') total += v * 60, end++;
		else if (*end == 's') total += v, end++;
		else return -1;
		s = end;
	}
	return total;
}

/* Docker's `until`: a duration back from now, Unix seconds, or an RFC 3339 date or time. */
static int until_parse(const char *s, double *ret)
{
	double d = go_duration(s);
	struct tm tm = { 0 };
	char *end;

	if (d >= 0) {
		*ret = (double)time(NULL) - d;
		return 0;
	}
	*ret = strtod(s, &end);
	if (end != s && !*end)
		return 0;
	if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) || strptime(s, "%Y-%m-%d", &tm)) {
		*ret = (double)timegm(&tm);
		return 0;
	}
	return -EINVAL;
}

static double rfc3339_seconds(const char *s)
{
	struct tm tm = { 0 };

	return strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) ? (double)timegm(&tm) : 0;
}

int docker_prune_filters_check(const cJSON *filters, struct berr *err)
{
	static const char *const keys[] = { "until", "label", "label!", NULL };
	const cJSON *v;
	double t;
	int r = filter_keys_check(filters, keys, err);

	if (r < 0)
		return r;
	cJSON_ArrayForEach(v, get(filters, "until"))
		if (until_parse(v->valuestring, &t) < 0)
			return berr_set(err, -EINVAL, "invalid filter 'until=%s': a duration (10m), "
					"Unix seconds or an RFC 3339 time", v->valuestring);
	return 0;
}

bool docker_prune_match(const cJSON *net, const cJSON *filters)
{
	double created = rfc3339_seconds(get_str(net, "Created")), t;
	const cJSON *v;

	cJSON_ArrayForEach(v, get(filters, "until"))
		if (until_parse(v->valuestring, &t) == 0 && created >= t)
			return false;
	cJSON_ArrayForEach(v, get(filters, "label"))
		if (!label_match(v->valuestring, get(net, "Labels")))
			return false;
	cJSON_ArrayForEach(v, get(filters, "label!"))
		if (label_match(v->valuestring, get(net, "Labels")))
			return false;
	return true;
}

/* ---------------------------------------------------------------- endpoints */

static bool user_network(const char *name)
{
	return strcmp(name, "bridge") && strcmp(name, "host") && strcmp(name, "none");
}

/* IPAMConfig: null unless static addresses were asked, then only those (omitempty). */
static cJSON *ep_ipam_config(const cJSON *berth_ipam)
{
	const char *keys[] = { "IPv4Address", "IPv6Address" };
	cJSON *o = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (*get_str(berth_ipam, keys[i])) {
			if (!o)
				o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, keys[i], get_str(berth_ipam, keys[i]));
		}
	return o ? o : cJSON_CreateNull();
}

/* One NetworkSettings.Networks entry. Inspect shows the aliases, and on user-defined networks
 * the short ID (which berth's DNS answers too); the list shows none. */
static void ep_shape(cJSON *ep, const char *net, const char *short_id, bool inspect)
{
	cJSON *out = cJSON_CreateObject(), *aliases = NULL;
	const cJSON *a = get(ep, "Aliases");

	cJSON_AddItemToObject(out, "IPAMConfig", ep_ipam_config(get(ep, "IPAMConfig")));
	cJSON_AddNullToObject(out, "Links");
	if (inspect && (cJSON_GetArraySize(a) > 0 || user_network(net))) {
		aliases = cJSON_Duplicate(a, 1);
		if (user_network(net))
			cJSON_AddItemToArray(aliases, cJSON_CreateString(short_id));
	}
	cJSON_AddItemToObject(out, "Aliases", aliases ? aliases : cJSON_CreateNull());
	move(out, ep, "NetworkID");
	move(out, ep, "EndpointID");
	move(out, ep, "Gateway");
	move(out, ep, "IPAddress");
	move(out, ep, "IPPrefixLen");
	move(out, ep, "IPv6Gateway");
	move(out, ep, "GlobalIPv6Address");
	move(out, ep, "GlobalIPv6PrefixLen");
	if (user_network(net) || !strcmp(net, "bridge"))
		move(out, ep, "MacAddress");
	else   /* host and none have no interface of their own */
		cJSON_AddStringToObject(out, "MacAddress", "");
	cJSON_AddNullToObject(out, "DriverOpts");
	replace_members(ep, out);
}

static void networks_shape(cJSON *nets, const char *id, bool inspect, bool created)
{
	char short_id[13];
	cJSON *ep;

	snprintf(short_id, sizeof(short_id), "%.12s", id);
	keys_sort(nets);
	cJSON_ArrayForEach(ep, nets) {
		if (!get(ep, "NetworkID")) {   /* host/none before the container ran: {} */
			cJSON_AddStringToObject(ep, "NetworkID", "");
			cJSON_AddStringToObject(ep, "EndpointID", "");
		}
		ep_shape(ep, ep->string, short_id, inspect);
		if (created)   /* never connected yet */
			cJSON_ReplaceItemInObjectCaseSensitive(ep, "NetworkID", cJSON_CreateString(""));
	}
}

/* ---------------------------------------------------------------- ports */

/* The running container's published ports (extra.BerthPorts) and its exposed ports without a
 * binding, as the list shows them: [{IP, PrivatePort, PublicPort, Type}] / [{PrivatePort, Type}]. */
static cJSON *summary_ports(const cJSON *extra, bool running)
{
	const cJSON *bp = running ? get(extra, "BerthPorts") : NULL, *p, *key;
	const cJSON *exposed = running ? get(extra, "ExposedPorts") : NULL;
	cJSON *a = cJSON_CreateArray();

	cJSON_ArrayForEach(p, bp) {
		cJSON *o = cJSON_CreateObject();
		const char *hip = get_str(p, "HostIp");

		cJSON_AddStringToObject(o, "IP", *hip ? hip : (get(p, "Family") &&
				get(p, "Family")->valueint == 4 ? "0.0.0.0" : "::"));
		cJSON_AddItemToObject(o, "PrivatePort", cJSON_Duplicate(get(p, "ContainerPort"), 0));
		cJSON_AddItemToObject(o, "PublicPort", cJSON_Duplicate(get(p, "HostPort"), 0));
		cJSON_AddStringToObject(o, "Type", get_str(p, "Proto"));
		cJSON_AddItemToArray(a, o);
	}
	/* a stopped container has no ports: dockerd clears them when it stops */
	cJSON_ArrayForEach(key, exposed) {
		const cJSON *b = get(get(extra, "PortBindings"), key->string);
		unsigned port = 0;
		char proto[8] = "tcp";
		cJSON *o;

		if (cJSON_GetArraySize(b) > 0)
			continue;   /* published: listed above */
		if (sscanf(key->string, "%u/%7s", &port, proto) < 1)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "PrivatePort", port);
		cJSON_AddStringToObject(o, "Type", proto);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* ---------------------------------------------------------------- containers: list */

/* SizeRw and SizeRootFs, measured by api.c into the Berth object (the list asked ?size=1). */
static void summary_sizes(cJSON *out, const cJSON *berth)
{
	const cJSON *rw = get(berth, "SizeRw"), *root = get(berth, "SizeRootFs");

	cJSON_AddNumberToObject(out, "SizeRw", cJSON_IsNumber(rw) ? rw->valuedouble : 0);
	cJSON_AddNumberToObject(out, "SizeRootFs", cJSON_IsNumber(root) ? root->valuedouble : 0);
}

void docker_summary_shape(cJSON *s, bool size)
{
	cJSON *out = cJSON_CreateObject(), *ns = cJSON_CreateObject(), *hc;
	cJSON *berth = cJSON_DetachItemFromObjectCaseSensitive(s, "Berth");
	cJSON *nets = cJSON_DetachItemFromObjectCaseSensitive(
		(cJSON *)get(s, "NetworkSettings"), "Networks");
	const cJSON *extra = get(berth, "Extra");
	const char *id = get_str(s, "Id");
	bool running = !strcmp(get_str(s, "State"), "running");

	networks_shape(nets, id, false, !strcmp(get_str(s, "State"), "created"));
	move(out, s, "Id");
	move(out, s, "Names");
	move(out, s, "Image");
	cJSON_AddStringToObject(out, "ImageID", get_str(berth, "ImageID"));
	move(out, s, "Command");
	move(out, s, "Created");
	cJSON_AddItemToObject(out, "Ports", summary_ports(extra, running));
	if (size)
		summary_sizes(out, berth);
	cJSON_AddItemToObject(out, "Labels", get(extra, "Labels") ? cJSON_Duplicate(get(extra, "Labels"), 1)
								: cJSON_CreateObject());
	keys_sort((cJSON *)get(out, "Labels"));
	move(out, s, "State");
	move(out, s, "Status");
	hc = cJSON_DetachItemFromObjectCaseSensitive(s, "HostConfig");
	cJSON_AddItemToObject(out, "HostConfig", hc ? hc : cJSON_CreateObject());
	cJSON_AddItemToObject(ns, "Networks", nets ? nets : cJSON_CreateObject());
	cJSON_AddItemToObject(out, "NetworkSettings", ns);
	cJSON_AddArrayToObject(out, "Mounts");
	cJSON_Delete(berth);
	replace_members(s, out);
}

/* ---------------------------------------------------------------- containers: inspect */

static cJSON *inspect_state(const cJSON *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "Status", get_str(st, "Status"));
	cJSON_AddItemToObject(o, "Running", dup_or_null(get(st, "Running")));
	cJSON_AddFalseToObject(o, "Paused");
	cJSON_AddFalseToObject(o, "Restarting");
	cJSON_AddFalseToObject(o, "OOMKilled");
	cJSON_AddFalseToObject(o, "Dead");
	cJSON_AddItemToObject(o, "Pid", dup_or_null(get(st, "Pid")));
	cJSON_AddItemToObject(o, "ExitCode", dup_or_null(get(st, "ExitCode")));
	cJSON_AddStringToObject(o, "Error", "");
	cJSON_AddStringToObject(o, "StartedAt", get_str(st, "StartedAt"));
	cJSON_AddStringToObject(o, "FinishedAt", get_str(st, "FinishedAt"));
	return o;
}

static cJSON *str_array(const char *const *v)
{
	cJSON *a = cJSON_CreateArray();

	for (; *v; v++)
		cJSON_AddItemToArray(a, cJSON_CreateString(*v));
	return a;
}

/* Settings berth does not implement are unset (docker_create_check refused anything else). */
static void hostconfig_unset(cJSON *h, const char *const *nulls, const char *const *zeros,
			     const char *const *strings)
{
	for (; *nulls; nulls++)
		cJSON_AddNullToObject(h, *nulls);
	for (; *zeros; zeros++)
		cJSON_AddNumberToObject(h, *zeros, 0);
	for (; *strings; strings++)
		cJSON_AddStringToObject(h, *strings, "");
}

static void inspect_hostconfig_limits(cJSON *h)
{
	static const char *const zeros[] = { "CpuShares", "Memory", "NanoCpus", NULL };
	static const char *const zeros2[] = { "BlkioWeight", NULL };
	static const char *const nulls[] = { "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
					     "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", NULL };
	static const char *const zeros3[] = { "CpuPeriod", "CpuQuota", "CpuRealtimePeriod",
					      "CpuRealtimeRuntime", NULL };
	static const char *const none[] = { NULL };
	static const char *const cpus[] = { "CpusetCpus", "CpusetMems", NULL };
	static const char *const nulls2[] = { "DeviceCgroupRules", "DeviceRequests", NULL };
	static const char *const zeros4[] = { "KernelMemory", "KernelMemoryTCP",
					      "MemoryReservation", "MemorySwap", NULL };
	static const char *const nulls3[] = { "MemorySwappiness", NULL };
	static const char *const nulls4[] = { "PidsLimit", "Ulimits", NULL };
	static const char *const zeros5[] = { "CpuCount", "CpuPercent", "IOMaximumIOps",
					      "IOMaximumBandwidth", NULL };
	static const char *const masked[] = { "/proc/kcore", "/proc/keys", "/proc/timer_list",
					      "/proc/sched_debug", "/proc/latency_stats",
					      "/proc/acpi", "/proc/scsi", NULL };
	static const char *const ro[] = { "/proc/sys", "/proc/sysrq-trigger", "/proc/irq",
					  "/proc/bus", "/sys", NULL };

	hostconfig_unset(h, none, zeros, none);
	cJSON_AddStringToObject(h, "CgroupParent", "");
	hostconfig_unset(h, none, zeros2, none);
	cJSON_AddArrayToObject(h, "BlkioWeightDevice");
	hostconfig_unset(h, nulls, zeros3, cpus);
	cJSON_AddArrayToObject(h, "Devices");
	hostconfig_unset(h, nulls2, zeros4, none);
	hostconfig_unset(h, nulls3, none, none);
	cJSON_AddFalseToObject(h, "OomKillDisable");
	hostconfig_unset(h, nulls4, zeros5, none);
	/* berth's container init: runtime/init.c */
	cJSON_AddItemToObject(h, "MaskedPaths", str_array(masked));
	cJSON_AddItemToObject(h, "ReadonlyPaths", str_array(ro));
}

/* The limits a container was given (berth's HostConfig has them, 0 when unset) replace
 * Docker's unset values. */
static void inspect_hostconfig_set_limits(cJSON *h, const cJSON *berth_hc)
{
	static const char *const keys[] = { "Memory", "MemorySwap", "PidsLimit", "NanoCpus",
					     "CpuShares", "CpuQuota", "CpuPeriod" };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(berth_hc, keys[i]);

		if (cJSON_IsNumber(v) && v->valuedouble != 0)
			cJSON_ReplaceItemInObjectCaseSensitive(h, keys[i],
							       cJSON_CreateNumber(v->valuedouble));
	}
}

static cJSON *inspect_hostconfig(cJSON *berth_hc, const cJSON *extra)
{
	static const char *const nulls1[] = { "Binds", NULL };
	static const char *const strs1[] = { "ContainerIDFile", NULL };
	static const char *const none[] = { NULL };
	cJSON *h = cJSON_CreateObject(), *log = cJSON_CreateObject(), *rp = cJSON_CreateObject();
	cJSON *console = cJSON_CreateArray();

	hostconfig_unset(h, nulls1, none, strs1);
	cJSON_AddStringToObject(log, "Type", "berth");   /* one file per container: berth logs */
	cJSON_AddObjectToObject(log, "Config");
	cJSON_AddItemToObject(h, "LogConfig", log);
	move(h, berth_hc, "NetworkMode");
	cJSON_AddItemToObject(h, "PortBindings", get(extra, "PortBindings")
			      ? cJSON_Duplicate(get(extra, "PortBindings"), 1) : cJSON_CreateObject());
	cJSON_AddStringToObject(rp, "Name", "no");
	cJSON_AddNumberToObject(rp, "MaximumRetryCount", 0);
	cJSON_AddItemToObject(h, "RestartPolicy", rp);
	move(h, berth_hc, "AutoRemove");
	cJSON_AddStringToObject(h, "VolumeDriver", "");
	cJSON_AddNullToObject(h, "VolumesFrom");
	cJSON_AddNullToObject(h, "CapAdd");
	cJSON_AddNullToObject(h, "CapDrop");
	cJSON_AddStringToObject(h, "CgroupnsMode", "host");
	cJSON_AddItemToObject(h, "Dns", get(extra, "Dns") ? cJSON_Duplicate(get(extra, "Dns"), 1)
							  : cJSON_CreateArray());
	cJSON_AddItemToObject(h, "DnsOptions", get(extra, "DnsOptions")
			      ? cJSON_Duplicate(get(extra, "DnsOptions"), 1) : cJSON_CreateArray());
	cJSON_AddItemToObject(h, "DnsSearch", get(extra, "DnsSearch")
			      ? cJSON_Duplicate(get(extra, "DnsSearch"), 1) : cJSON_CreateArray());
	cJSON_AddItemToObject(h, "ExtraHosts", dup_or_null_if_empty(get(extra, "ExtraHosts")));
	cJSON_AddNullToObject(h, "GroupAdd");
	cJSON_AddStringToObject(h, "IpcMode", "private");
	cJSON_AddStringToObject(h, "Cgroup", "");
	cJSON_AddNullToObject(h, "Links");
	cJSON_AddNumberToObject(h, "OomScoreAdj", 0);
	cJSON_AddStringToObject(h, "PidMode", "");
	cJSON_AddFalseToObject(h, "Privileged");
	cJSON_AddFalseToObject(h, "PublishAllPorts");
	cJSON_AddFalseToObject(h, "ReadonlyRootfs");
	cJSON_AddNullToObject(h, "SecurityOpt");
	cJSON_AddStringToObject(h, "UTSMode", "");
	cJSON_AddStringToObject(h, "UsernsMode", "");
	cJSON_AddNumberToObject(h, "ShmSize", 64 * 1024 * 1024);   /* runtime/init.c's /dev/shm */
	cJSON_AddStringToObject(h, "Runtime", "berth");
	cJSON_AddItemToArray(console, cJSON_CreateNumber(0));
	cJSON_AddItemToArray(console, cJSON_CreateNumber(0));
	cJSON_AddItemToObject(h, "ConsoleSize", console);
	cJSON_AddStringToObject(h, "Isolation", "");
	inspect_hostconfig_limits(h);
	inspect_hostconfig_set_limits(h, berth_hc);
	return h;
}

static cJSON *inspect_config(cJSON *cfg, const cJSON *extra)
{
	static const char *const attach[] = { "AttachStdin", "AttachStdout", "AttachStderr", NULL };
	static const char *const falses2[] = { "Tty", "OpenStdin", "StdinOnce", NULL };
	cJSON *o = cJSON_CreateObject(), *env = cJSON_DetachItemFromObjectCaseSensitive(cfg, "Env");

	move(o, cfg, "Hostname");
	cJSON_AddStringToObject(o, "Domainname", "");
	cJSON_AddStringToObject(o, "User", "");
	for (const char *const *f = attach; *f; f++)   /* as asked at create */
		cJSON_AddBoolToObject(o, *f, cJSON_IsTrue(get(extra, *f)));
	if (get(extra, "ExposedPorts"))
		cJSON_AddItemToObject(o, "ExposedPorts", cJSON_Duplicate(get(extra, "ExposedPorts"), 1));
	for (const char *const *f = falses2; *f; f++)
		cJSON_AddFalseToObject(o, *f);
	cJSON_AddItemToObject(o, "Env", dup_or_null_if_empty(env));
	cJSON_Delete(env);
	move(o, cfg, "Cmd");
	move(o, cfg, "Image");
	cJSON_AddNullToObject(o, "Volumes");
	cJSON_AddStringToObject(o, "WorkingDir", "");
	cJSON_AddNullToObject(o, "Entrypoint");
	cJSON_AddNullToObject(o, "OnBuild");
	cJSON_AddItemToObject(o, "Labels", get(extra, "Labels") ? cJSON_Duplicate(get(extra, "Labels"), 1)
							      : cJSON_CreateObject());
	return o;
}

static cJSON *inspect_graph(const cJSON *paths)
{
	cJSON *g = cJSON_CreateObject(), *d = cJSON_AddObjectToObject(g, "Data");

	cJSON_AddStringToObject(d, "LowerDir", get_str(paths, "Image"));
	cJSON_AddStringToObject(d, "MergedDir", get_str(paths, "Merged"));
	cJSON_AddStringToObject(d, "UpperDir", get_str(paths, "Upper"));
	cJSON_AddStringToObject(d, "WorkDir", get_str(paths, "Work"));
	cJSON_AddStringToObject(g, "Name", "overlay");
	return g;
}

/* NetworkSettings: the top-level endpoint fields are those of the predefined bridge's endpoint
 * (empty when the container is not on it), as in Docker. */
/* NetworkSettings of a container: `started` (it ran at least once): dockerd keeps its sandbox's
 * ID and key after it stops; `created` (never ran): no network ID either. */
static cJSON *inspect_netsettings(cJSON *ns, const char *id, const cJSON *paths, bool started,
				  bool created)
{
	static const char *const flat[] = { "EndpointID", "Gateway", "GlobalIPv6Address",
					    "GlobalIPv6PrefixLen", "IPAddress", "IPPrefixLen",
					    "IPv6Gateway", "MacAddress", NULL };
	cJSON *o = cJSON_CreateObject(), *nets = cJSON_DetachItemFromObjectCaseSensitive(ns, "Networks");
	const cJSON *br;

	networks_shape(nets, id, true, created);
	br = get(nets, "bridge");
	cJSON_AddStringToObject(o, "Bridge", "");
	cJSON_AddStringToObject(o, "SandboxID", started ? id : "");
	cJSON_AddFalseToObject(o, "HairpinMode");
	cJSON_AddStringToObject(o, "LinkLocalIPv6Address", "");
	cJSON_AddNumberToObject(o, "LinkLocalIPv6PrefixLen", 0);
	move(o, ns, "Ports");
	cJSON_AddStringToObject(o, "SandboxKey", started ? get_str(paths, "Netns") : "");
	cJSON_AddNullToObject(o, "SecondaryIPAddresses");
	cJSON_AddNullToObject(o, "SecondaryIPv6Addresses");
	for (const char *const *f = flat; *f; f++) {
		const cJSON *v = get(br, *f);

		cJSON_AddItemToObject(o, *f, v ? cJSON_Duplicate(v, 0)
					  : (strstr(*f, "PrefixLen") ? cJSON_CreateNumber(0)
								      : cJSON_CreateString("")));
	}
	cJSON_AddItemToObject(o, "Networks", nets ? nets : cJSON_CreateObject());
	return o;
}

void docker_container_shape(cJSON *c)
{
	cJSON *out = cJSON_CreateObject(), *berth = cJSON_DetachItemFromObjectCaseSensitive(c, "Berth");
	cJSON *hc = cJSON_DetachItemFromObjectCaseSensitive(c, "HostConfig");
	cJSON *cfg = cJSON_DetachItemFromObjectCaseSensitive(c, "Config");
	cJSON *ns = cJSON_DetachItemFromObjectCaseSensitive(c, "NetworkSettings");
	const cJSON *extra = get(berth, "Extra"), *paths = get(berth, "Paths");
	const char *id = get_str(c, "Id");
	bool created = !strcmp(get_str(get(c, "State"), "Status"), "created");

	move(out, c, "Id");
	move(out, c, "Created");
	move(out, c, "Path");
	move(out, c, "Args");
	cJSON_AddItemToObject(out, "State", inspect_state(get(c, "State")));
	cJSON_AddStringToObject(out, "Image", get_str(berth, "ImageID"));
	/* a container that never ran has none of these files yet */
	cJSON_AddStringToObject(out, "ResolvConfPath", created ? "" : get_str(paths, "Resolv"));
	cJSON_AddStringToObject(out, "HostnamePath", "");
	cJSON_AddStringToObject(out, "HostsPath", created ? "" : get_str(paths, "Hosts"));
	cJSON_AddStringToObject(out, "LogPath", created ? "" : get_str(paths, "Log"));
	move(out, c, "Name");
	cJSON_AddNumberToObject(out, "RestartCount", 0);
	cJSON_AddStringToObject(out, "Driver", "overlay");
	cJSON_AddStringToObject(out, "Platform", "linux");
	cJSON_AddStringToObject(out, "MountLabel", "");
	cJSON_AddStringToObject(out, "ProcessLabel", "");
	cJSON_AddStringToObject(out, "AppArmorProfile", "");
	cJSON_AddNullToObject(out, "ExecIDs");
	cJSON_AddItemToObject(out, "HostConfig", inspect_hostconfig(hc, extra));
	cJSON_AddItemToObject(out, "GraphDriver", inspect_graph(paths));
	cJSON_AddArrayToObject(out, "Mounts");
	cJSON_AddItemToObject(out, "Config", inspect_config(cfg, extra));
	cJSON_AddItemToObject(out, "NetworkSettings", inspect_netsettings(ns, id, paths, !created,
									   created));
	keys_sort((cJSON *)get(get(out, "NetworkSettings"), "Ports"));
	keys_sort((cJSON *)get(get(out, "HostConfig"), "PortBindings"));
	keys_sort((cJSON *)get(get(out, "Config"), "ExposedPorts"));
	keys_sort((cJSON *)get(get(out, "Config"), "Labels"));
	cJSON_Delete(berth);
	cJSON_Delete(hc);
	cJSON_Delete(cfg);
	cJSON_Delete(ns);
	replace_members(c, out);
}

/* ---------------------------------------------------------------- containers: filters */

static const char *ctr_name(const cJSON *s)
{
	const cJSON *n = cJSON_GetArrayItem(get(s, "Names"), 0);

	return cJSON_IsString(n) ? n->valuestring : "";
}

static bool ctr_id_match(const cJSON *s, const char *v) { return regex_match(v, get_str(s, "Id")); }
static bool ctr_name_match(const cJSON *s, const char *v) { return regex_match(v, ctr_name(s)); }
static bool ctr_status_match(const cJSON *s, const char *v) { return !strcmp(v, get_str(s, "State")); }

static bool ctr_label_match(const cJSON *s, const char *v)
{
	return label_match(v, get(get(get(s, "Berth"), "Extra"), "Labels"));
}

static bool ctr_network_match(const cJSON *s, const char *v)
{
	const cJSON *ep;

	cJSON_ArrayForEach(ep, get(get(s, "NetworkSettings"), "Networks"))
		if (!strcmp(ep->string, v) || !strcmp(get_str(ep, "NetworkID"), v))
			return true;
	return false;
}

static bool ctr_ancestor_match(const cJSON *s, const char *v)
{
	const char *img = get_str(s, "Image"), *colon = strrchr(v, ':');

	if (!strcmp(img, v) || !strcmp(get_str(get(s, "Berth"), "ImageID"), v))
		return true;
	return colon && !strcmp(colon, ":latest") && strlen(img) == (size_t)(colon - v) &&
	       !strncmp(img, v, (size_t)(colon - v));
}

static bool ctr_exited_match(const cJSON *s, const char *v)
{
	char code[16];

	snprintf(code, sizeof(code), "%d", get(get(s, "Berth"), "ExitCode") ?
		 get(get(s, "Berth"), "ExitCode")->valueint : 0);
	return !strcmp(get_str(s, "State"), "exited") && !strcmp(code, v);
}

static int ctr_filter_values_check(const cJSON *filters, struct berr *err)
{
	static const char *const states[] = { "created", "restarting", "running", "removing",
					      "paused", "exited", "dead", NULL };
	const cJSON *v;

	cJSON_ArrayForEach(v, get(filters, "status"))
		if (!str_in(v->valuestring, states))
			return berr_set(err, -EINVAL, "Invalid filter 'status=%s'", v->valuestring);
	cJSON_ArrayForEach(v, get(filters, "exited")) {
		char *end;

		strtol(v->valuestring, &end, 10);
		if (!*v->valuestring || *end)
			return berr_set(err, -EINVAL, "invalid filter 'exited=%s'", v->valuestring);
	}
	return 0;
}

/* Filters berth cannot answer (no health checks, volumes or swarm tasks; before/since need an
 * order berth does not keep): 501 rather than a wrong list. */
static int ctr_filter_unsupported(const cJSON *filters, struct berr *err)
{
	static const char *const keys[] = { "health", "isolation", "volume", "publish", "expose",
					    "is-task", "before", "since", NULL };
	const cJSON *it;

	cJSON_ArrayForEach(it, filters)
		if (str_in(it->string, keys))
			return berr_set(err, -EOPNOTSUPP, "berth does not support the container "
					"filter '%s'", it->string);
	return 0;
}

int docker_containers_filter(cJSON *list, const cJSON *filters, struct berr *err)
{
	static const char *const keys[] = { "id", "name", "status", "label", "network", "ancestor",
					    "exited", "health", "isolation", "volume", "publish",
					    "expose", "is-task", "before", "since", NULL };
	static const struct filter_test tests[] = {
		{ "id", ctr_id_match }, { "name", ctr_name_match }, { "status", ctr_status_match },
		{ "label", ctr_label_match }, { "network", ctr_network_match },
		{ "ancestor", ctr_ancestor_match }, { "exited", ctr_exited_match },
	};
	int r = filter_keys_check(filters, keys, err);

	if (r >= 0)
		r = ctr_filter_values_check(filters, err);
	if (r >= 0)
		r = ctr_filter_unsupported(filters, err);
	if (r >= 0)
		list_filter(list, filters, tests, ARRAY_SIZE(tests));
	return r;
}

/* ---------------------------------------------------------------- create / connect checks */

/* Unset as Go's zero values: absent, null, false, 0, "", [], {} (recursively). */
static bool json_unset(const cJSON *v)
{
	const cJSON *it;

	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return true;
	if (cJSON_IsNumber(v))
		return v->valuedouble == 0;
	if (cJSON_IsString(v))
		return !v->valuestring[0];
	if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		cJSON_ArrayForEach(it, v)
			if (!json_unset(it))
				return false;
		return true;
	}
	return false;
}

/* A dotted path ("HostConfig.RestartPolicy.Name") under o. */
static const cJSON *get_path(const cJSON *o, const char *path)
{
	char key[64];

	while (o && *path) {
		size_t n = strcspn(path, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		o = get(o, key);
		path += n + (path[n] == '.');
	}
	return o;
}

#define UNSUP(p, w) { .path = p, .what = w }
#define UNSUP_OK(p, w, ...) { .path = p, .what = w, .ok = { __VA_ARGS__ } }

/* Settings berth does not implement: each must be unset (or one of `ok`, the values that mean
 * berth's behaviour: "no" restart policy, the private IPC namespace, ...). */
static const struct unsupported {
	const char *path, *what;
	const char *ok[4];
} create_unsupported[] = {
	UNSUP("Volumes", "volumes"),
	UNSUP("Healthcheck", "health checks"),
	UNSUP("StopSignal", "stop signals"),
	UNSUP("StopTimeout", "per-container stop timeouts (give docker stop -t)"),
	UNSUP("Domainname", "domain names"),
	UNSUP("MacAddress", "MAC addresses"),
	UNSUP("Shell", "shells"),
	UNSUP("OnBuild", "build triggers"),
	UNSUP("HostConfig.Binds", "bind mounts"),
	UNSUP("HostConfig.Mounts", "mounts"),
	UNSUP("HostConfig.VolumesFrom", "volumes"),
	UNSUP("HostConfig.VolumeDriver", "volumes"),
	UNSUP_OK("HostConfig.LogConfig.Type", "log drivers", "json-file"),
	UNSUP("HostConfig.LogConfig.Config", "log options"),
	UNSUP_OK("HostConfig.RestartPolicy.Name", "restart policies", "no"),
	UNSUP("HostConfig.RestartPolicy.MaximumRetryCount", "restart policies"),
	UNSUP("HostConfig.CapAdd", "adding capabilities"),
	UNSUP("HostConfig.CapDrop", "dropping capabilities"),
	UNSUP_OK("HostConfig.CgroupnsMode", "cgroup namespaces", "host"),
	UNSUP("HostConfig.GroupAdd", "supplementary groups"),
	UNSUP_OK("HostConfig.IpcMode", "IPC modes", "private", "shareable"),
	UNSUP("HostConfig.Cgroup", "cgroups"),
	UNSUP("HostConfig.Links", "links"),
	UNSUP("HostConfig.OomScoreAdj", "OOM scores"),
	UNSUP("HostConfig.PidMode", "PID modes"),
	UNSUP("HostConfig.Privileged", "privileged containers"),
	UNSUP("HostConfig.ReadonlyRootfs", "read-only root file systems"),
	UNSUP("HostConfig.SecurityOpt", "security options"),
	UNSUP("HostConfig.StorageOpt", "storage options"),
	UNSUP("HostConfig.Tmpfs", "tmpfs mounts"),
	UNSUP("HostConfig.UTSMode", "UTS modes"),
	UNSUP("HostConfig.UsernsMode", "user namespaces"),
	UNSUP("HostConfig.ShmSize", "shm sizes"),
	UNSUP("HostConfig.Sysctls", "sysctls"),
	UNSUP_OK("HostConfig.Runtime", "other runtimes", "runc", "berth"),
	UNSUP_OK("HostConfig.Isolation", "isolation modes", "default"),
	UNSUP("HostConfig.Init", "an init process"),
	UNSUP("HostConfig.CgroupParent", "cgroup parents"),
	UNSUP("HostConfig.BlkioWeight", "block I/O limits"),
	UNSUP("HostConfig.BlkioWeightDevice", "block I/O limits"),
	UNSUP("HostConfig.BlkioDeviceReadBps", "block I/O limits"),
	UNSUP("HostConfig.BlkioDeviceWriteBps", "block I/O limits"),
	UNSUP("HostConfig.BlkioDeviceReadIOps", "block I/O limits"),
	UNSUP("HostConfig.BlkioDeviceWriteIOps", "block I/O limits"),
	UNSUP("HostConfig.CpuRealtimePeriod", "CPU limits"),
	UNSUP("HostConfig.CpuRealtimeRuntime", "CPU limits"),
	UNSUP("HostConfig.CpusetCpus", "CPU sets"),
	UNSUP("HostConfig.CpusetMems", "memory node sets"),
	UNSUP("HostConfig.Devices", "devices"),
	UNSUP("HostConfig.DeviceCgroupRules", "device rules"),
	UNSUP("HostConfig.DeviceRequests", "device requests"),
	UNSUP("HostConfig.KernelMemory", "kernel memory limits"),
	UNSUP("HostConfig.KernelMemoryTCP", "kernel memory limits"),
	UNSUP("HostConfig.MemoryReservation", "memory limits"),
	UNSUP_OK("HostConfig.MemorySwappiness", "swappiness", "-1"),
	UNSUP("HostConfig.OomKillDisable", "OOM killer settings"),
	UNSUP("HostConfig.Ulimits", "ulimits"),
	UNSUP("HostConfig.CpuCount", "CPU limits"),
	UNSUP("HostConfig.CpuPercent", "CPU limits"),
	UNSUP("HostConfig.IOMaximumIOps", "I/O limits"),
	UNSUP("HostConfig.IOMaximumBandwidth", "I/O limits"),
	UNSUP("HostConfig.MaskedPaths", "masked paths"),
	UNSUP("HostConfig.ReadonlyPaths", "read-only paths"),
	UNSUP("HostConfig.Annotations", "annotations"),
};

/* One of the values that mean berth's behaviour (numbers compared as text). */
static bool value_ok(const cJSON *v, const char *const ok[4])
{
	char num[32];

	for (int i = 0; i < 4 && ok[i]; i++) {
		if (cJSON_IsString(v) && !strcmp(v->valuestring, ok[i]))
			return true;
		snprintf(num, sizeof(num), "%.0f", v->valuedouble);
		if (cJSON_IsNumber(v) && !strcmp(num, ok[i]))
			return true;
	}
	return false;
}

static int unsupported_check(const cJSON *body, const struct unsupported *u, size_t n,
			     struct berr *err)
{
	for (size_t i = 0; i < n; i++) {
		const cJSON *v = get_path(body, u[i].path);

		if (!json_unset(v) && !value_ok(v, u[i].ok))
			return berr_set(err, -EOPNOTSUPP, "berth does not support %s (%s is set)",
					u[i].what, u[i].path);
	}
	return 0;
}

static const struct unsupported endpoint_unsupported[] = {
	UNSUP("Links", "links"),
	UNSUP("DriverOpts", "driver options of an endpoint"),
	UNSUP("IPAMConfig.LinkLocalIPs", "link-local addresses"),
	UNSUP("MacAddress", "MAC addresses"),
};

/* NetworkMode "container:<name|id>": the network namespace of another container. */
static int network_mode_check(const cJSON *body, struct berr *err)
{
	const cJSON *mode = get_path(body, "HostConfig.NetworkMode");

	if (cJSON_IsString(mode) && !strncmp(mode->valuestring, "container:", 10))
		return berr_set(err, -EOPNOTSUPP, "berth does not support sharing another "
				"container's network namespace (NetworkMode %s)", mode->valuestring);
	return 0;
}

int docker_create_check(cJSON *body, const char *name, struct berr *err)
{
	cJSON *epc = (cJSON *)get_path(body, "NetworkingConfig.EndpointsConfig"), *ep, *dflt;
	const cJSON *eps = cJSON_IsObject(epc) ? epc : NULL;
	int r;

	/* Docker's container names have two characters at least */
	if (name && strlen(name) == 1)
		return berr_set(err, -EINVAL, "Invalid container name (%s), only "
				"[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
	r = unsupported_check(body, create_unsupported, ARRAY_SIZE(create_unsupported), err);
	if (r >= 0)
		r = network_mode_check(body, err);
	cJSON_ArrayForEach(ep, eps)
		if (r >= 0)
			r = unsupported_check(ep, endpoint_unsupported,
					      ARRAY_SIZE(endpoint_unsupported), err);
	if (r < 0)
		return r;
	/* `docker run` without --network names the default network "default": the bridge */
	dflt = cJSON_IsObject(epc) ? cJSON_DetachItemFromObjectCaseSensitive(epc, "default") : NULL;
	if (dflt && !get(epc, "bridge"))
		cJSON_AddItemToObject(epc, "bridge", dflt);
	else
		cJSON_Delete(dflt);
	return 0;
}

static const struct unsupported network_unsupported[] = {
	UNSUP("Ingress", "ingress networks (swarm)"),
	UNSUP("ConfigOnly", "configuration-only networks"),
	UNSUP("ConfigFrom", "networks configured from others"),
	UNSUP_OK("Scope", "scopes other than local", "local"),
	UNSUP("IPAM.Options", "IPAM driver options"),
};

int docker_network_create_check(const cJSON *body, struct berr *err)
{
	return unsupported_check(body, network_unsupported, ARRAY_SIZE(network_unsupported), err);
}

int docker_connect_check(const cJSON *body, struct berr *err)
{
	const cJSON *force = get(body, "Force");

	if (force && !cJSON_IsBool(force) && !cJSON_IsNull(force))
		return berr_set(err, -EINVAL, "field Force must be a boolean");
	return unsupported_check(get(body, "EndpointConfig"), endpoint_unsupported,
				 ARRAY_SIZE(endpoint_unsupported), err);
}

/* ---------------------------------------------------------------- logs */

void docker_frame_header(uint8_t stream, uint32_t len, uint8_t out[8])
{
	out[0] = stream;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(len >> 24);
	out[5] = (uint8_t)(len >> 16);
	out[6] = (uint8_t)(len >> 8);
	out[7] = (uint8_t)len;
}

/* ---------------------------------------------------------------- info */

static bool sysctl_on(const char *path)
{
	_cleanup_free_ char *v = NULL;

	return read_file(path, 64, &v, NULL, NULL) >= 0 && v[0] == '1';
}

/* PRETTY_NAME of /etc/os-release (malloc'd), or "Linux". */
static char *os_pretty_name(void)
{
	_cleanup_free_ char *text = NULL;
	const char *p;
	size_t n;

	if (read_file("/etc/os-release", 65536, &text, NULL, NULL) < 0 ||
	    !(p = strstr(text, "PRETTY_NAME=")))
		return xstrdup("Linux");
	p += strlen("PRETTY_NAME=");
	if (*p == '"')
		p++;
	n = strcspn(p, "\"\n");
	return strndup(p, n);
}

static void info_counts(cJSON *o, const cJSON *berth)
{
	const cJSON *all = get(berth, "Containers"), *run = get(berth, "ContainersRunning");
	double n = cJSON_IsNumber(all) ? all->valuedouble : 0;
	double r = cJSON_IsNumber(run) ? run->valuedouble : 0;

	cJSON_AddNumberToObject(o, "Containers", n);
	cJSON_AddNumberToObject(o, "ContainersRunning", r);
	cJSON_AddNumberToObject(o, "ContainersPaused", 0);
	cJSON_AddNumberToObject(o, "ContainersStopped", n - r);
}

/* Features berth's runtime does not offer, as dockerd reports their absence. */
static void info_features(cJSON *o)
{
	static const char *const off[] = { "MemoryLimit", "SwapLimit", "KernelMemory",
					   "KernelMemoryTCP", "CpuCfsPeriod", "CpuCfsQuota",
					   "CPUShares", "CPUSet", "PidsLimit", NULL };

	for (const char *const *f = off; *f; f++)
		cJSON_AddFalseToObject(o, *f);
	cJSON_AddBoolToObject(o, "IPv4Forwarding", sysctl_on("/proc/sys/net/ipv4/ip_forward"));
	cJSON_AddBoolToObject(o, "BridgeNfIptables",
			      sysctl_on("/proc/sys/net/bridge/bridge-nf-call-iptables"));
	cJSON_AddBoolToObject(o, "BridgeNfIp6tables",
			      sysctl_on("/proc/sys/net/bridge/bridge-nf-call-ip6tables"));
	cJSON_AddFalseToObject(o, "Debug");
	cJSON_AddFalseToObject(o, "OomKillDisable");
}

static cJSON *info_plugins(void)
{
	static const char *const nets[] = { "bridge", "host", "macvlan", "null", NULL };
	cJSON *p = cJSON_CreateObject();

	cJSON_AddArrayToObject(p, "Volume");
	cJSON_AddItemToObject(p, "Network", str_array(nets));
	cJSON_AddNullToObject(p, "Authorization");
	cJSON_AddArrayToObject(p, "Log");
	return p;
}

static cJSON *info_commit(void)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "ID", "");
	cJSON_AddStringToObject(c, "Expected", "");
	return c;
}

static cJSON *info_swarm(void)
{
	cJSON *s = cJSON_CreateObject();

	cJSON_AddStringToObject(s, "NodeID", "");
	cJSON_AddStringToObject(s, "NodeAddr", "");
	cJSON_AddStringToObject(s, "LocalNodeState", "inactive");
	cJSON_AddFalseToObject(s, "ControlAvailable");
	cJSON_AddStringToObject(s, "Error", "");
	cJSON_AddNullToObject(s, "RemoteManagers");
	return s;
}

static cJSON *info_registry(void)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddArrayToObject(r, "AllowNondistributableArtifactsCIDRs");
	cJSON_AddArrayToObject(r, "AllowNondistributableArtifactsHostnames");
	cJSON_AddArrayToObject(r, "InsecureRegistryCIDRs");
	cJSON_AddObjectToObject(r, "IndexConfigs");
	cJSON_AddArrayToObject(r, "Mirrors");
	return r;
}

static void info_system(cJSON *o, const struct utsname *u)
{
	_cleanup_free_ char *os = os_pretty_name();
	char host[256] = "", now[40];
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	gethostname(host, sizeof(host) - 1);
	time_now_rfc3339(now);
	cJSON_AddStringToObject(o, "SystemTime", now);
	cJSON_AddStringToObject(o, "LoggingDriver", "berth");
	cJSON_AddStringToObject(o, "CgroupDriver", "cgroupfs");
	cJSON_AddStringToObject(o, "CgroupVersion", access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "2" : "1");
	cJSON_AddNumberToObject(o, "NEventsListener", 0);
	cJSON_AddStringToObject(o, "KernelVersion", u->release);
	cJSON_AddStringToObject(o, "OperatingSystem", os);
	cJSON_AddStringToObject(o, "OSVersion", "");
	cJSON_AddStringToObject(o, "OSType", "linux");
	cJSON_AddStringToObject(o, "Architecture", u->machine);
	cJSON_AddStringToObject(o, "IndexServerAddress", "");
	cJSON_AddItemToObject(o, "RegistryConfig", info_registry());
	cJSON_AddNumberToObject(o, "NCPU", (double)sysconf(_SC_NPROCESSORS_ONLN));
	cJSON_AddNumberToObject(o, "MemTotal", pages > 0 && psize > 0 ? (double)pages * (double)psize : 0);
	cJSON_AddNullToObject(o, "GenericResources");
	cJSON_AddStringToObject(o, "Name", host);
}

cJSON *docker_info(const cJSON *berth, const char *version)
{
	cJSON *o = cJSON_CreateObject(), *rt = cJSON_CreateObject(), *sec = cJSON_CreateArray();
	struct utsname u;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	cJSON_AddStringToObject(o, "ID", get_str(berth, "ID"));
	info_counts(o, berth);
	cJSON_AddItemToObject(o, "Images", dup_or_null(get(berth, "Images")));
	cJSON_AddStringToObject(o, "Driver", "overlay");
	cJSON_AddArrayToObject(o, "DriverStatus");
	cJSON_AddItemToObject(o, "Plugins", info_plugins());
	info_features(o);
	cJSON_AddNumberToObject(o, "NFd", 0);
	cJSON_AddNumberToObject(o, "NGoroutines", 0);
	info_system(o, &u);
	cJSON_AddStringToObject(o, "DockerRootDir", get_str(berth, "Root"));
	cJSON_AddStringToObject(o, "HttpProxy", "");
	cJSON_AddStringToObject(o, "HttpsProxy", "");
	cJSON_AddStringToObject(o, "NoProxy", "");
	cJSON_AddArrayToObject(o, "Labels");
	cJSON_AddFalseToObject(o, "ExperimentalBuild");
	cJSON_AddStringToObject(o, "ServerVersion", version);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(rt, "berth"), "path", "berthd");
	cJSON_AddItemToObject(o, "Runtimes", rt);
	cJSON_AddStringToObject(o, "DefaultRuntime", "berth");
	cJSON_AddItemToObject(o, "Swarm", info_swarm());
	/* containers keep running while berthd restarts, and it adopts them again */
	cJSON_AddTrueToObject(o, "LiveRestoreEnabled");
	cJSON_AddStringToObject(o, "Isolation", "");
	cJSON_AddStringToObject(o, "InitBinary", "");
	cJSON_AddItemToObject(o, "ContainerdCommit", info_commit());
	cJSON_AddItemToObject(o, "RuncCommit", info_commit());
	cJSON_AddItemToObject(o, "InitCommit", info_commit());
	cJSON_AddItemToArray(sec, cJSON_CreateString("name=seccomp,profile=default"));
	cJSON_AddItemToObject(o, "SecurityOptions", sec);
	cJSON_AddNullToObject(o, "Warnings");
	return o;
}
