/* SPDX-License-Identifier: Apache-2.0 */
/* Keys and records of the cluster state (store/cluster.h): building and checking them. */
#include "store/cluster.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_json.h"

static void cjson_freep(cJSON **j)
{
	cJSON_Delete(*j);
}

#define _cleanup_json_ _cleanup_(cjson_freep)

static const char *const kind_dirs[] = {
	[CL_KEY_HOST] = "hosts",
	[CL_KEY_NETWORK] = "networks",
	[CL_KEY_NAME] = "names",
	[CL_KEY_VNI] = "vni",
	[CL_KEY_NETLOCK] = "netlock",
	[CL_KEY_IPAM] = "ipam",
	[CL_KEY_ENDPOINT] = "endpoints",
	[CL_KEY_NETUSE] = "netuse",
};

int cl_host_name_validate(const char *name, struct berr *err)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
	size_t len = strlen(name);

	if (len == 0 || len >= CL_HOST_MAX || strchr("_.-", name[0]) ||
	    name[strspn(name, ok)] != '\0')
		return berr_set(err, -EINVAL, "invalid host name \"%.*s\": 1-63 letters, digits, "
				"'_', '.' or '-', starting with a letter or digit",
				(int)(len < 80 ? len : 80), name);
	return 0;
}

int cl_vni_parse(const char *s, uint32_t *ret, struct berr *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || s[0] == '+' || v == 0 || v > CL_VNI_MAX)
		return berr_set(err, -EINVAL, "invalid VNI \"%.32s\": 1..%d", s, CL_VNI_MAX);
	*ret = (uint32_t)v;
	return 0;
}

/* ---- keys ---- */

/* rest = "<id>" exactly, or "<id>/<tail>" when tail is wanted. */
static int key_id(const char *rest, char id[ID_LEN + 1], const char **ret_tail, struct berr *err)
{
	const char *slash = strchr(rest, '/');
	size_t len = slash ? (size_t)(slash - rest) : strlen(rest);

	if ((slash != NULL) != (ret_tail != NULL) || len != ID_LEN)
		return berr_set(err, -EINVAL, "not an ID");
	memcpy(id, rest, ID_LEN);
	id[ID_LEN] = '\0';
	if (!id_is_valid(id))
		return berr_set(err, -EINVAL, "not an ID");
	if (ret_tail)
		*ret_tail = slash + 1;
	return 0;
}

static int key_rest_parse(enum cl_kind kind, const char *rest, struct cl_key *k, struct berr *err)
{
	const char *tail;

	switch (kind) {
	case CL_KEY_HOST:
		if (cl_host_name_validate(rest, err) < 0)
			return -EINVAL;
		strscpy(k->host, rest, sizeof(k->host));
		return 0;
	case CL_KEY_NETWORK:
	case CL_KEY_NETUSE:
		return key_id(rest, k->net_id, NULL, err);
	case CL_KEY_NAME:
		if (name_validate("network", rest, err) < 0)
			return -EINVAL;
		strscpy(k->name, rest, sizeof(k->name));
		return 0;
	case CL_KEY_VNI:
		return cl_vni_parse(rest, &k->vni, err);
	case CL_KEY_IPAM:
		if (key_id(rest, k->net_id, &tail, err) < 0)
			return -EINVAL;
		return ip_parse(tail, &k->addr, err);
	case CL_KEY_ENDPOINT:
		if (key_id(rest, k->net_id, &tail, err) < 0)
			return -EINVAL;
		return key_id(tail, k->ep_id, NULL, err);
	default:
		return berr_set(err, -EINVAL, "unexpected key kind");
	}
}

int cl_key_parse(const char *prefix, const char *key, struct cl_key *ret, struct berr *err)
{
	size_t plen = strlen(prefix);
	const char *rest;

	memset(ret, 0, sizeof(*ret));
	if (strncmp(key, prefix, plen) != 0 || key[plen] != '/')
		return 0;
	rest = key + plen + 1;
	if (strcmp(rest, kind_dirs[CL_KEY_NETLOCK]) == 0) {
		ret->kind = CL_KEY_NETLOCK;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(kind_dirs); i++) {
		size_t dlen;

		if (!kind_dirs[i] || i == CL_KEY_NETLOCK)
			continue;
		dlen = strlen(kind_dirs[i]);
		if (strncmp(rest, kind_dirs[i], dlen) != 0 || rest[dlen] != '/')
			continue;
		if (key_rest_parse((enum cl_kind)i, rest + dlen + 1, ret, err) < 0) {
			memset(ret, 0, sizeof(*ret));
			return berr_prefix(err, "key %.200s", key);
		}
		ret->kind = (enum cl_kind)i;
		return 0;
	}
	return 0;
}

char *cl_key_fmt(const char *prefix, const struct cl_key *k)
{
	const char *dir = (unsigned)k->kind < ARRAY_SIZE(kind_dirs) && kind_dirs[k->kind]
				  ? kind_dirs[k->kind] : "unknown";
	char a[IP_STRLEN];

	switch (k->kind) {
	case CL_KEY_HOST:
		return xasprintf("%s/%s/%s", prefix, dir, k->host);
	case CL_KEY_NETWORK:
	case CL_KEY_NETUSE:
		return xasprintf("%s/%s/%s", prefix, dir, k->net_id);
	case CL_KEY_NAME:
		return xasprintf("%s/%s/%s", prefix, dir, k->name);
	case CL_KEY_VNI:
		return xasprintf("%s/%s/%u", prefix, dir, k->vni);
	case CL_KEY_IPAM:
		return xasprintf("%s/%s/%s/%s", prefix, dir, k->net_id, ip_fmt(&k->addr, a));
	case CL_KEY_ENDPOINT:
		return xasprintf("%s/%s/%s/%s", prefix, dir, k->net_id, k->ep_id);
	default:
		return xasprintf("%s/%s", prefix, dir);
	}
}

char *cl_key_dir(const char *prefix, enum cl_kind kind, const char *net_id)
{
	if (kind == CL_KEY_UNKNOWN || (unsigned)kind >= ARRAY_SIZE(kind_dirs))
		return xasprintf("%s/", prefix);
	if (net_id && (kind == CL_KEY_IPAM || kind == CL_KEY_ENDPOINT))
		return xasprintf("%s/%s/%s/", prefix, kind_dirs[kind], net_id);
	return xasprintf("%s/%s/", prefix, kind_dirs[kind]);
}

/* ---- record helpers ---- */

static int rec_parse(const char *text, cJSON **ret, struct berr *err)
{
	*ret = text ? cJSON_Parse(text) : NULL;
	if (!*ret || !cJSON_IsObject(*ret)) {
		cJSON_Delete(*ret);
		*ret = NULL;
		return berr_set(err, -EINVAL, "not a JSON object");
	}
	return 0;
}

/* A required string member (empty allowed when opt). */
static int rec_str(const cJSON *o, const char *key, bool opt, const char **ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*ret = NULL;
	if ((!v || cJSON_IsNull(v)) && opt)
		return 0;
	if (!cJSON_IsString(v))
		return berr_set(err, -EINVAL, "field %s missing or not a string", key);
	*ret = v->valuestring;
	return 0;
}

static int rec_copy(const cJSON *o, const char *key, char *dst, size_t size, struct berr *err)
{
	const char *s;
	int r = rec_str(o, key, false, &s, err);

	if (r < 0)
		return r;
	if (strlen(s) >= size)
		return berr_set(err, -EINVAL, "field %s too long", key);
	strscpy(dst, s, size);
	return 0;
}

static int rec_id(const cJSON *o, const char *key, char id[ID_LEN + 1], struct berr *err)
{
	int r = rec_copy(o, key, id, ID_LEN + 1, err);

	if (r >= 0 && !id_is_valid(id))
		return berr_set(err, -EINVAL, "field %s is not an ID", key);
	return r;
}

static int rec_ip(const cJSON *o, const char *key, int family, struct ipaddr *ret,
		  struct berr *err)
{
	const char *s;
	int r = rec_str(o, key, true, &s, err);

	memset(ret, 0, sizeof(*ret));
	if (r < 0 || !s || !*s)
		return r;
	r = ip_parse(s, ret, err);
	if (r >= 0 && ret->family != family)
		r = berr_set(err, -EINVAL, "field %s is not an IPv%c address", key,
			     family == AF_INET ? '4' : '6');
	return r < 0 ? berr_prefix(err, "field %s", key) : 0;
}

static char *rec_print(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	if (!s)
		abort();   /* out of memory, as x*alloc */
	return s;
}

static void rec_add_ip(cJSON *o, const char *key, const struct ipaddr *a)
{
	char buf[IP_STRLEN];

	if (a->family)
		cJSON_AddStringToObject(o, key, ip_fmt(a, buf));
}

/* ---- hosts ---- */

char *cl_host_encode(const struct cl_host *h)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "Name", h->name);
	rec_add_ip(o, "Vtep", &h->vtep);
	cJSON_AddNumberToObject(o, "Port", h->port);
	return rec_print(o);
}

int cl_host_decode(const char *key_host, const char *text, struct cl_host *ret, struct berr *err)
{
	_cleanup_json_ cJSON *o = NULL;
	const cJSON *port;
	const char *vtep;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = rec_parse(text, &o, err);
	if (r >= 0)
		r = rec_copy(o, "Name", ret->name, sizeof(ret->name), err);
	if (r >= 0 && strcmp(ret->name, key_host) != 0)
		r = berr_set(err, -EINVAL, "record names host \"%.64s\", its key \"%s\"", ret->name,
			     key_host);
	if (r >= 0)
		r = rec_str(o, "Vtep", false, &vtep, err);
	if (r >= 0)
		r = ip_parse(vtep, &ret->vtep, err);
	if (r < 0)
		return r;
	port = cJSON_GetObjectItemCaseSensitive(o, "Port");
	if (!cJSON_IsNumber(port) || port->valuedouble < 1 || port->valuedouble > 65535 ||
	    port->valuedouble != (double)port->valueint)
		return berr_set(err, -EINVAL, "field Port is not a port number");
	ret->port = (uint16_t)port->valueint;
	return 0;
}

/* ---- networks ---- */

char *cl_net_encode(const struct bnetwork *n, uint32_t vni)
{
	cJSON *o = cJSON_CreateObject(), *opts = cJSON_Duplicate(n->options, true);
	char *subs = store_subnets_encode(n->subnets, n->n_subnets);
	cJSON *subj = subs ? cJSON_Parse(subs) : NULL;

	cJSON_free(subs);
	if (!subj)
		abort();
	cJSON_AddStringToObject(o, "Id", n->id);
	cJSON_AddStringToObject(o, "Name", n->name);
	cJSON_AddStringToObject(o, "Driver", n->driver);
	cJSON_AddStringToObject(o, "Created", n->created);
	cJSON_AddNumberToObject(o, "Vni", vni);
	cJSON_AddBoolToObject(o, "IPv6", n->ipv6);
	cJSON_AddBoolToObject(o, "Internal", n->internal);
	cJSON_AddBoolToObject(o, "Attachable", n->attachable);
	cJSON_AddItemToObject(o, "Subnets", subj);
	if (!opts)
		opts = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(opts, CL_OPT_VNI);
	cJSON_AddItemToObject(o, "Options", opts);
	cJSON_AddItemToObject(o, "Labels", n->labels ? cJSON_Duplicate(n->labels, true)
						      : cJSON_CreateObject());
	return rec_print(o);
}

static int string_map(const cJSON *o, const char *key, cJSON **ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key), *it;

	*ret = NULL;
	if (v && !cJSON_IsObject(v))
		return berr_set(err, -EINVAL, "field %s is not an object", key);
	cJSON_ArrayForEach(it, v)
		if (!cJSON_IsString(it))
			return berr_set(err, -EINVAL, "field %s holds a value that is not a string",
					key);
	*ret = v ? cJSON_Duplicate(v, true) : cJSON_CreateObject();
	return 0;
}

static int subnet_check(const struct bnetwork *n, const struct bsubnet *s, struct berr *err)
{
	char buf[CIDR_STRLEN];
	struct cidr c;
	const cJSON *aux;
	int r = cidr_parse_subnet(cidr_fmt(&s->subnet, buf), &c, err);

	if (r < 0)
		return r;
	if (s->subnet.addr.family == AF_INET6 && !n->ipv6)
		return berr_set(err, -EINVAL, "IPv6 subnet %s on a network without IPv6", buf);
	if (s->range.addr.family && !cidr_contains_cidr(&s->subnet, &s->range))
		return berr_set(err, -EINVAL, "ip-range outside subnet %s", buf);
	if (s->gateway.family && !cidr_contains(&s->subnet, &s->gateway))
		return berr_set(err, -EINVAL, "gateway outside subnet %s", buf);
	cJSON_ArrayForEach(aux, s->aux) {
		struct ipaddr a;

		if (!cJSON_IsString(aux) || ip_parse(aux->valuestring, &a, NULL) < 0 ||
		    !cidr_contains(&s->subnet, &a))
			return berr_set(err, -EINVAL, "auxiliary address outside subnet %s", buf);
	}
	return 0;
}

static int net_subnets_decode(const cJSON *o, struct bnetwork *n, struct berr *err)
{
	const cJSON *subs = cJSON_GetObjectItemCaseSensitive(o, "Subnets");
	_cleanup_free_ char *text = NULL;
	int r;

	if (!cJSON_IsArray(subs) || cJSON_GetArraySize(subs) == 0)
		return berr_set(err, -EINVAL, "field Subnets missing or empty");
	text = cJSON_PrintUnformatted(subs);
	r = store_subnets_decode(text, n->subnets, &n->n_subnets, err);
	if (r < 0)
		return berr_set(err, -EINVAL, "field Subnets: %s", berr_str(err));
	for (int i = 0; i < n->n_subnets; i++) {
		n->subnets[i].gateway_foreign = false;
		r = subnet_check(n, &n->subnets[i], err);
		if (r < 0)
			return r;
		for (int j = 0; j < i; j++)
			if (cidr_overlaps(&n->subnets[i].subnet, &n->subnets[j].subnet))
				return berr_set(err, -EINVAL, "two of its subnets overlap");
	}
	return 0;
}

static int net_scalars_decode(const cJSON *o, struct bnetwork *n, uint32_t *ret_vni,
			      struct berr *err)
{
	const cJSON *vni = cJSON_GetObjectItemCaseSensitive(o, "Vni");
	const cJSON *b;
	int r;

	r = rec_copy(o, "Name", n->name, sizeof(n->name), err);
	if (r >= 0)
		r = name_validate("network", n->name, err);
	if (r >= 0)
		r = rec_copy(o, "Driver", n->driver, sizeof(n->driver), err);
	if (r >= 0 && strcmp(n->driver, "overlay") != 0)
		r = berr_set(err, -EINVAL, "driver \"%.32s\" is not overlay", n->driver);
	if (r >= 0)
		r = rec_copy(o, "Created", n->created, sizeof(n->created), err);
	if (r < 0)
		return r;
	if (!cJSON_IsNumber(vni) || vni->valuedouble < 1 || vni->valuedouble > CL_VNI_MAX ||
	    vni->valuedouble != (double)vni->valueint)
		return berr_set(err, -EINVAL, "field Vni is not a VNI (1..%d)", CL_VNI_MAX);
	*ret_vni = (uint32_t)vni->valueint;
	b = cJSON_GetObjectItemCaseSensitive(o, "IPv6");
	n->ipv6 = cJSON_IsTrue(b);
	n->internal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "Internal"));
	n->attachable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "Attachable"));
	return 0;
}

int cl_net_decode(const char *key_id, const char *text, struct bnetwork *ret, uint32_t *ret_vni,
		  struct berr *err)
{
	_cleanup_json_ cJSON *o = NULL;
	char vni[16];
	int r;

	memset(ret, 0, sizeof(*ret));
	r = rec_parse(text, &o, err);
	if (r >= 0)
		r = rec_id(o, "Id", ret->id, err);
	if (r >= 0 && strcmp(ret->id, key_id) != 0)
		r = berr_set(err, -EINVAL, "record's Id is not its key's");
	if (r >= 0)
		r = net_scalars_decode(o, ret, ret_vni, err);
	if (r >= 0)
		r = string_map(o, "Options", &ret->options, err);
	if (r >= 0)
		r = string_map(o, "Labels", &ret->labels, err);
	if (r >= 0)
		r = net_subnets_decode(o, ret, err);
	if (r < 0) {
		cl_net_clear(ret);
		return r;
	}
	snprintf(vni, sizeof(vni), "%u", *ret_vni);
	cJSON_DeleteItemFromObjectCaseSensitive(ret->options, CL_OPT_VNI);
	cJSON_AddStringToObject(ret->options, CL_OPT_VNI, vni);
	return 0;
}

void cl_net_clear(struct bnetwork *n)
{
	store_subnets_clear(n->subnets, n->n_subnets);
	cJSON_Delete(n->options);
	cJSON_Delete(n->labels);
	n->options = n->labels = NULL;
	n->n_subnets = 0;
}

int cl_net_overlap(const struct bnetwork *a, const struct bnetwork *b, int *ret_a, int *ret_b)
{
	for (int i = 0; i < a->n_subnets; i++)
		for (int j = 0; j < b->n_subnets; j++)
			if (cidr_overlaps(&a->subnets[i].subnet, &b->subnets[j].subnet)) {
				*ret_a = i;
				*ret_b = j;
				return 1;
			}
	return 0;
}

/* ---- endpoints ---- */

char *cl_ep_encode(const struct cl_ep *e)
{
	cJSON *o = cJSON_CreateObject();
	char mac[18];

	mac_fmt(e->mac, mac);
	cJSON_AddStringToObject(o, "Id", e->id);
	cJSON_AddStringToObject(o, "Network", e->net_id);
	cJSON_AddStringToObject(o, "Host", e->host);
	cJSON_AddStringToObject(o, "ContainerId", e->ctr_id);
	cJSON_AddStringToObject(o, "Container", e->ctr_name);
	cJSON_AddItemToObject(o, "Aliases", e->aliases ? cJSON_Duplicate(e->aliases, true)
						       : cJSON_CreateArray());
	cJSON_AddStringToObject(o, "Mac", mac);
	rec_add_ip(o, "IPv4", &e->ip4);
	rec_add_ip(o, "IPv6", &e->ip6);
	return rec_print(o);
}

static int ep_aliases_decode(const cJSON *o, struct cl_ep *e, struct berr *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "Aliases"), *it;

	if (a && !cJSON_IsArray(a))
		return berr_set(err, -EINVAL, "field Aliases is not an array");
	if (cJSON_GetArraySize(a) > 64)
		return berr_set(err, -EINVAL, "more than 64 aliases");
	cJSON_ArrayForEach(it, a)
		if (!cJSON_IsString(it) || name_validate("alias", it->valuestring, err) < 0)
			return berr_set(err, -EINVAL, "field Aliases holds an invalid alias");
	e->aliases = a ? cJSON_Duplicate(a, true) : cJSON_CreateArray();
	return 0;
}

static bool ip_is_gateway(const struct bnetwork *net, const struct ipaddr *a)
{
	for (int i = 0; i < net->n_subnets; i++)
		if (ip_equal(&net->subnets[i].gateway, a))
			return true;
	return false;
}

/* Inside a subnet of net, neither its network nor (IPv4) broadcast address, not a gateway. */
static int ep_addr_check(const struct bnetwork *net, const struct ipaddr *a, struct berr *err)
{
	char buf[IP_STRLEN];

	if (!a->family || !net)
		return 0;
	for (int i = 0; i < net->n_subnets; i++) {
		const struct cidr *s = &net->subnets[i].subnet;
		struct ipaddr first, last;

		if (!cidr_contains(s, a))
			continue;
		cidr_first(s, &first);
		cidr_last(s, &last);
		if (ip_equal(a, &first) || (a->family == AF_INET && ip_equal(a, &last)) ||
		    ip_is_gateway(net, a))
			break;
		return 0;
	}
	return berr_set(err, -EINVAL, "address %s is not an endpoint address of network %s",
			ip_fmt(a, buf), net->name);
}

static int ep_fields_decode(const cJSON *o, struct cl_ep *e, struct berr *err)
{
	const char *mac;
	int r;

	r = rec_id(o, "Id", e->id, err);
	if (r >= 0)
		r = rec_id(o, "Network", e->net_id, err);
	if (r >= 0)
		r = rec_copy(o, "Host", e->host, sizeof(e->host), err);
	if (r >= 0)
		r = cl_host_name_validate(e->host, err);
	if (r >= 0)
		r = rec_id(o, "ContainerId", e->ctr_id, err);
	if (r >= 0)
		r = rec_copy(o, "Container", e->ctr_name, sizeof(e->ctr_name), err);
	if (r >= 0)
		r = name_validate("container", e->ctr_name, err);
	if (r >= 0)
		r = rec_str(o, "Mac", false, &mac, err);
	if (r >= 0)
		r = mac_parse(mac, e->mac, err);
	if (r >= 0 && ((e->mac[0] & 1) || !memcmp(e->mac, "\0\0\0\0\0\0", 6)))
		r = berr_set(err, -EINVAL, "field Mac is not a unicast address");
	if (r >= 0)
		r = rec_ip(o, "IPv4", AF_INET, &e->ip4, err);
	if (r >= 0)
		r = rec_ip(o, "IPv6", AF_INET6, &e->ip6, err);
	return r;
}

int cl_ep_decode(const struct cl_key *k, const char *text, const struct bnetwork *net,
		 struct cl_ep *ret, struct berr *err)
{
	_cleanup_json_ cJSON *o = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = rec_parse(text, &o, err);
	if (r >= 0)
		r = ep_fields_decode(o, ret, err);
	if (r >= 0 && (strcmp(ret->id, k->ep_id) != 0 || strcmp(ret->net_id, k->net_id) != 0))
		r = berr_set(err, -EINVAL, "record's Id or Network is not its key's");
	if (r >= 0 && !ret->ip4.family && !ret->ip6.family)
		r = berr_set(err, -EINVAL, "no address");
	if (r >= 0)
		r = ep_aliases_decode(o, ret, err);
	if (r >= 0 && net)
		r = cl_ep_check_net(ret, net, err);
	if (r < 0)
		cl_ep_clear(ret);
	return r;
}

int cl_ep_check_net(const struct cl_ep *e, const struct bnetwork *net, struct berr *err)
{
	int r = ep_addr_check(net, &e->ip4, err);

	if (r >= 0)
		r = ep_addr_check(net, &e->ip6, err);
	if (r >= 0 && e->ip6.family && !net->ipv6)
		r = berr_set(err, -EINVAL, "an IPv6 address on network %s without IPv6", net->name);
	return r;
}

int cl_ipam_check_net(const struct ipaddr *a, const struct bnetwork *net, struct berr *err)
{
	return ep_addr_check(net, a, err);
}

void cl_ep_clear(struct cl_ep *e)
{
	cJSON_Delete(e->aliases);
	e->aliases = NULL;
}

/* ---- ipam ---- */

char *cl_ipam_encode(const struct cl_ipam *a)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "Endpoint", a->ep_id);
	cJSON_AddStringToObject(o, "Host", a->host);
	return rec_print(o);
}

int cl_ipam_decode(const char *text, struct cl_ipam *ret, struct berr *err)
{
	_cleanup_json_ cJSON *o = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = rec_parse(text, &o, err);
	if (r >= 0)
		r = rec_id(o, "Endpoint", ret->ep_id, err);
	if (r >= 0)
		r = rec_copy(o, "Host", ret->host, sizeof(ret->host), err);
	if (r >= 0)
		r = cl_host_name_validate(ret->host, err);
	return r;
}
