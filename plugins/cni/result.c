/* SPDX-License-Identifier: Apache-2.0 */
/* CNI results: berthd's attachment as the spec's ADD result of each version, a prevResult
 * checked and converted between versions (0.4.0 tags each IP with "version"; 1.0.0 dropped it;
 * 1.1.0 added interface and route attributes that older versions do not have), what CHECK
 * expects, VERSION's answer and the error object. */
#include "plugins/cni/cni.h"

#include <stdio.h>
#include <string.h>

#include "common/cidr.h"
#include "common/json_num.h"
#include "common/util.h"

#define RESULT_ITEMS_MAX 1024

static const char *const v110_if_keys[] = { "mtu", "socketPath", "pciID" };
static const char *const v110_route_keys[] = { "mtu", "advmss", "priority", "table", "scope" };

static cJSON *bad(struct cni_error *err, const char *fmt, const char *what)
{
	cni_fail(err, CNI_ERR_DECODE, "invalid prevResult", fmt, what);
	return NULL;
}

static bool str_member(const cJSON *o, const char *key, bool required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return v ? cJSON_IsString(v) : !required;
}

static bool is_cidr(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	struct cidr c;

	return s && cidr_parse(s, &c, NULL) >= 0;
}

static bool is_ip(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	struct ipaddr a;

	return !v || (cJSON_IsString(v) && ip_parse(v->valuestring, &a, NULL) >= 0);
}

static const cJSON *list_of(const cJSON *r, const char *key, bool *ok)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, key);

	*ok = !v || cJSON_IsNull(v) || (cJSON_IsArray(v) && cJSON_GetArraySize(v) <= RESULT_ITEMS_MAX);
	return cJSON_IsArray(v) ? v : NULL;
}

static bool interfaces_valid(const cJSON *ifs)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, ifs)
		if (!cJSON_IsObject(it) || !str_member(it, "name", true) ||
		    !str_member(it, "mac", false) || !str_member(it, "sandbox", false))
			return false;
	return true;
}

static bool ips_valid(const cJSON *ips, int n_ifs)
{
	const cJSON *it, *idx;

	cJSON_ArrayForEach(it, ips) {
		if (!cJSON_IsObject(it) || !is_cidr(it, "address") || !is_ip(it, "gateway"))
			return false;
		idx = cJSON_GetObjectItemCaseSensitive(it, "interface");
		if (idx && !json_int_in(idx, 0, n_ifs - 1))
			return false;
	}
	return true;
}

static bool routes_valid(const cJSON *routes)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, routes)
		if (!cJSON_IsObject(it) || !is_cidr(it, "dst") || !is_ip(it, "gw"))
			return false;
	return true;
}

static bool result_valid(const cJSON *r, struct cni_error *err)
{
	bool ok1, ok2, ok3;
	const cJSON *ifs = list_of(r, "interfaces", &ok1), *ips = list_of(r, "ips", &ok2);
	const cJSON *routes = list_of(r, "routes", &ok3), *dns;

	if (!cJSON_IsObject(r))
		return bad(err, "%s", "a result must be a JSON object"), false;
	if (!ok1 || !interfaces_valid(ifs))
		return bad(err, "%s", "interfaces must be a list of {name, mac, sandbox} objects"), false;
	if (!ok2 || !ips_valid(ips, cJSON_GetArraySize(ifs)))
		return bad(err, "%s", "ips must be a list of {address (CIDR), gateway, interface "
			   "(an index into interfaces)}"), false;
	if (!ok3 || !routes_valid(routes))
		return bad(err, "%s", "routes must be a list of {dst (CIDR), gw}"), false;
	dns = cJSON_GetObjectItemCaseSensitive(r, "dns");
	if (dns && !cJSON_IsObject(dns))
		return bad(err, "%s", "dns must be an object"), false;
	return true;
}

static void keys_drop(cJSON *list, const char *const *keys, size_t n)
{
	cJSON *it;

	cJSON_ArrayForEach(it, list)
		for (size_t i = 0; i < n; i++)
			cJSON_DeleteItemFromObjectCaseSensitive(it, keys[i]);
}

/* 0.4.0: "version" in every ips entry; later versions: none. */
static void ips_shape(cJSON *ips, const char *version)
{
	bool tagged = strcmp(version, "0.4.0") == 0;
	cJSON *it;

	cJSON_ArrayForEach(it, ips) {
		const char *addr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "address"));

		cJSON_DeleteItemFromObjectCaseSensitive(it, "version");
		if (tagged && addr)
			cJSON_AddStringToObject(it, "version", strchr(addr, ':') ? "6" : "4");
	}
}

static void shape(cJSON *r, const char *version)
{
	cJSON_DeleteItemFromObjectCaseSensitive(r, "cniVersion");
	cJSON_AddStringToObject(r, "cniVersion", version);
	ips_shape(cJSON_GetObjectItemCaseSensitive(r, "ips"), version);
	if (strcmp(version, "1.1.0") != 0) {
		keys_drop(cJSON_GetObjectItemCaseSensitive(r, "interfaces"), v110_if_keys,
			  ARRAY_SIZE(v110_if_keys));
		keys_drop(cJSON_GetObjectItemCaseSensitive(r, "routes"), v110_route_keys,
			  ARRAY_SIZE(v110_route_keys));
	}
}

cJSON *cni_result_convert(const cJSON *r, const char *version, struct cni_error *err)
{
	cJSON *out;

	if (!result_valid(r, err))
		return NULL;
	out = cJSON_Duplicate(r, 1);
	shape(out, version);
	return out;
}

/* ---- ADD ---- */

static cJSON *list_get(cJSON *r, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(r, key);

	if (cJSON_IsArray(v))
		return v;
	cJSON_DeleteItemFromObjectCaseSensitive(r, key);
	return cJSON_AddArrayToObject(r, key);
}

static const char *reply_str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	return s ? s : "";
}

static void add_string_if(cJSON *o, const char *key, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, key, v);
}

static void result_interfaces_add(cJSON *out, const cJSON *reply)
{
	cJSON *ifs = list_get(out, "interfaces");
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(reply, "Interfaces")) {
		cJSON *i = cJSON_CreateObject();

		cJSON_AddStringToObject(i, "name", reply_str(it, "Name"));
		add_string_if(i, "mac", reply_str(it, "Mac"));
		add_string_if(i, "sandbox", reply_str(it, "Sandbox"));
		cJSON_AddItemToArray(ifs, i);
	}
}

static void result_ips_add(cJSON *out, const cJSON *reply, int iface)
{
	cJSON *ips = list_get(out, "ips");
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(reply, "IPs")) {
		cJSON *ip = cJSON_CreateObject();

		cJSON_AddStringToObject(ip, "address", reply_str(it, "Address"));
		add_string_if(ip, "gateway", reply_str(it, "Gateway"));
		cJSON_AddNumberToObject(ip, "interface", iface);
		cJSON_AddItemToArray(ips, ip);
	}
}

static void result_routes_add(cJSON *out, const cJSON *reply)
{
	cJSON *routes = list_get(out, "routes");
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(reply, "Routes")) {
		cJSON *rt = cJSON_CreateObject();

		cJSON_AddStringToObject(rt, "dst", reply_str(it, "Dst"));
		add_string_if(rt, "gw", reply_str(it, "Gw"));
		cJSON_AddItemToArray(routes, rt);
	}
}

static void dns_list(cJSON *dns, const char *key, const cJSON *from)
{
	if (cJSON_GetArraySize(from) > 0)
		cJSON_AddItemToObject(dns, key, cJSON_Duplicate(from, 1));
}

/* berth's resolver, unless an earlier plugin named nameservers already. */
static void dns_set(cJSON *out, const cJSON *reply)
{
	const cJSON *have = cJSON_GetObjectItemCaseSensitive(out, "dns");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(reply, "DNS");
	cJSON *dns;

	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(have, "nameservers")) > 0 ||
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "Nameservers")) == 0)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(out, "dns");
	dns = cJSON_AddObjectToObject(out, "dns");
	dns_list(dns, "nameservers", cJSON_GetObjectItemCaseSensitive(d, "Nameservers"));
	dns_list(dns, "search", cJSON_GetObjectItemCaseSensitive(d, "Search"));
	dns_list(dns, "options", cJSON_GetObjectItemCaseSensitive(d, "Options"));
}

static bool reply_valid(const cJSON *reply)
{
	const cJSON *ifs = cJSON_GetObjectItemCaseSensitive(reply, "Interfaces");
	const cJSON *first = cJSON_GetArrayItem(ifs, 0);

	return cJSON_IsObject(reply) && cJSON_IsArray(ifs) && cJSON_IsObject(first) &&
	       *reply_str(first, "Name") && *reply_str(first, "Sandbox") &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(reply, "IPs")) &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(reply, "Routes"));
}

cJSON *cni_result_build(const cJSON *reply, const cJSON *prev, const char *version,
			struct cni_error *err)
{
	cJSON *out;
	int base;

	if (!reply_valid(reply)) {
		cni_fail(err, CNI_ERR_INTERNAL, "unexpected reply from berthd", "%s",
			 "the attachment has no sandbox interface");
		return NULL;
	}
	out = prev ? cni_result_convert(prev, version, err) : cJSON_CreateObject();
	if (!out)
		return NULL;
	base = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "interfaces"));
	result_interfaces_add(out, reply);
	result_ips_add(out, reply, base);   /* berthd lists the sandbox's interface first */
	result_routes_add(out, reply);
	dns_set(out, reply);
	shape(out, version);
	return out;
}

/* ---- CHECK ---- */

static int iface_index(const cJSON *prev, const char *ifname, const char *netns)
{
	const cJSON *it;
	int i = 0;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(prev, "interfaces")) {
		if (!strcmp(reply_str(it, "name"), ifname) && *reply_str(it, "sandbox") &&
		    (!netns || !*netns || !strcmp(reply_str(it, "sandbox"), netns)))
			return i;
		i++;
	}
	return -1;
}

cJSON *cni_check_expect(const cJSON *prev, const char *ifname, const char *netns,
			struct cni_error *err)
{
	cJSON *x, *ips, *routes;
	const cJSON *it;
	int idx;

	if (!prev) {
		cni_fail(err, CNI_ERR_CONFIG, "invalid network configuration", "%s",
			 "CHECK needs prevResult (the result of the ADD)");
		return NULL;
	}
	if (!result_valid(prev, err))
		return NULL;
	idx = iface_index(prev, ifname, netns);
	if (idx < 0) {
		cni_fail(err, CNI_ERR_CONFIG, "invalid prevResult", "prevResult lists no interface "
			 "%s in sandbox %s", ifname, netns);
		return NULL;
	}
	x = cJSON_CreateObject();
	add_string_if(x, "Mac", reply_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
				prev, "interfaces"), idx), "mac"));
	ips = cJSON_AddArrayToObject(x, "IPs");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(prev, "ips")) {
		const cJSON *i = cJSON_GetObjectItemCaseSensitive(it, "interface");

		if (cJSON_IsNumber(i) && i->valueint == idx)
			cJSON_AddItemToArray(ips, cJSON_CreateString(reply_str(it, "address")));
	}
	routes = cJSON_AddArrayToObject(x, "Routes");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(prev, "routes")) {
		cJSON *rt = cJSON_CreateObject();

		cJSON_AddStringToObject(rt, "Dst", reply_str(it, "dst"));
		add_string_if(rt, "Gw", reply_str(it, "gw"));
		cJSON_AddItemToArray(routes, rt);
	}
	return x;
}

/* ---- VERSION, errors ---- */

cJSON *cni_version_info(const char *version)
{
	static const char *const versions[] = { "0.4.0", "1.0.0", "1.1.0" };
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "cniVersion", version && *version ? version : CNI_VERSION_LATEST);
	cJSON_AddItemToObject(o, "supportedVersions", cJSON_CreateStringArray(versions, 3));
	return o;
}

cJSON *cni_error_json(const struct cni_error *err, const char *version)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "cniVersion", version && *version ? version : CNI_VERSION_LATEST);
	cJSON_AddNumberToObject(o, "code", err->code);
	cJSON_AddStringToObject(o, "msg", err->msg);
	if (err->details[0])
		cJSON_AddStringToObject(o, "details", err->details);
	return o;
}
