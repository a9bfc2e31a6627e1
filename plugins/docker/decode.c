/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding of the remote driver calls dockerd makes (libnetwork drivers/remote/api and
 * ipams/remote/api). Field names and shapes are those of dockerd 20.10 (the recorded calls are in
 * the peers' docker-plugin-calls.txt); anything of another type, out of range or not UTF-8 is
 * refused with a message naming the field. */
#include "plugins/docker/dkp.h"

#include <stdio.h>
#include <string.h>

#include "common/json_num.h"
#include "common/portspec.h"
#include "common/util.h"
#include "daemon/http_util.h"

#define DKP_JSON_DEPTH_MAX 32
#define DKP_FIELD_PATH_MAX 200

typedef int (*dkp_decode_fn)(const cJSON *b, struct dkp_request *r, struct berr *err);

struct dkp_route {
	const char *path;
	enum dkp_op op;
	dkp_decode_fn decode;   /* NULL: the call takes nothing we use */
};

/* ---------------------------------------------------------------- fields */

static int dkp_string(const cJSON *o, const char *key, bool required, const char **ret,
		      struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*ret = "";
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return berr_set(err, -EINVAL, "field %s is missing", key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return berr_set(err, -EINVAL, "field %s must be a string", key);
	*ret = v->valuestring;
	return 0;
}

static int dkp_bool(const cJSON *o, const char *key, bool *ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*ret = false;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return berr_set(err, -EINVAL, "field %s must be a boolean", key);
	*ret = cJSON_IsTrue(v);
	return 0;
}

/* An object, or NULL when absent or null. */
static int dkp_object(const cJSON *o, const char *key, const cJSON **ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*ret = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v))
		return berr_set(err, -EINVAL, "field %s must be an object", key);
	*ret = v;
	return 0;
}

/* An integer in [lo, hi] (JSON numbers are doubles: fractions are refused). */
static int dkp_int(const cJSON *o, const char *key, double lo, double hi, int *ret,
		   struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*ret = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!json_int_in(v, lo, hi))
		return berr_set(err, -EINVAL, "field %s must be an integer between %.0f and %.0f", key,
				lo, hi);
	*ret = (int)v->valuedouble;
	return 0;
}

/* Docker object IDs: 64 lowercase hex. */
static int dkp_id(const cJSON *o, const char *key, char ret[ID_LEN + 1], struct berr *err)
{
	const char *s;
	int r = dkp_string(o, key, true, &s, err);

	if (r < 0)
		return r;
	if (!id_is_valid(s))
		return berr_set(err, -EINVAL, "field %s must be 64 lowercase hexadecimal digits", key);
	memcpy(ret, s, ID_LEN + 1);
	return 0;
}

/* An object of strings, copied (an empty object when absent). */
static int dkp_string_map(const cJSON *o, const char *key, cJSON **ret, struct berr *err)
{
	const cJSON *v, *it;
	int r = dkp_object(o, key, &v, err);

	*ret = NULL;
	if (r < 0)
		return r;
	cJSON_ArrayForEach(it, v)
		if (!cJSON_IsString(it))
			return berr_set(err, -EINVAL, "%s[\"%s\"] must be a string", key, it->string);
	*ret = v ? cJSON_Duplicate(v, 1) : cJSON_CreateObject();
	return *ret ? 0 : -ENOMEM;
}

static int dkp_family_check(const char *key, const struct ipaddr *a, int family,
			    struct berr *err)
{
	if (a->family != family)
		return berr_set(err, -EINVAL, "%s must be an %s address", key,
				family == AF_INET ? "IPv4" : "IPv6");
	return 0;
}

/* "10.66.0.2/24" (an interface address: host bits set); "" leaves ret unset. */
static int dkp_ifaddr(const cJSON *o, const char *key, int family, struct cidr *ret,
		      struct berr *err)
{
	const char *s;
	int r = dkp_string(o, key, false, &s, err);

	memset(ret, 0, sizeof(*ret));
	if (r < 0 || !*s)
		return r;
	r = cidr_parse(s, ret, err);
	if (r < 0)
		return berr_prefix(err, "invalid %s", key);
	return dkp_family_check(key, &ret->addr, family, err);
}

/* ---------------------------------------------------------------- port maps */

/* One types.PortBinding {Proto, IP, Port, HostIP, HostPort, HostPortEnd} added to bindings as
 * {"<Port>/<proto>": [{"HostIp": HostIP, "HostPort": "<HostPort>[-<HostPortEnd>]"}]}. */
static int dkp_port_binding(const cJSON *b, cJSON *bindings, struct berr *err)
{
	int proto, port, hp, hpe, r;
	const char *hip, *pname;
	char key[32], hps[32] = "";
	struct ipaddr a;

	if (!cJSON_IsObject(b))
		return berr_set(err, -EINVAL, "port map entries must be objects");
	r = dkp_int(b, "Proto", 0, 255, &proto, err);
	if (r >= 0)
		r = dkp_int(b, "Port", 1, 65535, &port, err);
	if (r >= 0)
		r = dkp_int(b, "HostPort", 0, 65535, &hp, err);
	if (r >= 0)
		r = dkp_int(b, "HostPortEnd", 0, 65535, &hpe, err);
	if (r >= 0)
		r = dkp_string(b, "HostIP", false, &hip, err);
	if (r < 0)
		return berr_prefix(err, "port map");
	pname = portspec_proto_name((uint8_t)proto);
	if (!pname)
		return berr_set(err, -EINVAL, "port map: protocol %d is not tcp (6), udp (17) or "
				"sctp (132)", proto);
	if (port == 0)
		return berr_set(err, -EINVAL, "port map: field Port is missing");
	if (*hip && ip_parse(hip, &a, err) < 0)
		return berr_prefix(err, "port map: invalid HostIP");
	if (hpe && hpe < hp)
		return berr_set(err, -EINVAL, "port map: HostPortEnd %d is below HostPort %d", hpe, hp);
	if (hp && hpe > hp)
		snprintf(hps, sizeof(hps), "%d-%d", hp, hpe);
	else if (hp)
		snprintf(hps, sizeof(hps), "%d", hp);
	snprintf(key, sizeof(key), "%d/%s", port, pname);
	portspec_binding_add(bindings, NULL, key, hip, hps);
	return 0;
}

/* Options["com.docker.network.portmap"] -> r->bindings (NULL when absent or empty). */
static int dkp_portmap(const cJSON *opts, struct dkp_request *r, struct berr *err)
{
	const cJSON *pm = cJSON_GetObjectItemCaseSensitive(opts, "com.docker.network.portmap"), *b;
	cJSON *bindings;
	int n = 0;

	if (!pm || cJSON_IsNull(pm))
		return 0;
	if (!cJSON_IsArray(pm))
		return berr_set(err, -EINVAL, "option com.docker.network.portmap must be an array");
	if (cJSON_GetArraySize(pm) == 0)
		return 0;
	bindings = cJSON_CreateObject();
	cJSON_ArrayForEach(b, pm) {
		int rc = ++n > DKP_PORTS_MAX
				 ? berr_set(err, -E2BIG, "port map: more than %d entries", DKP_PORTS_MAX)
				 : dkp_port_binding(b, bindings, err);

		if (rc < 0) {
			cJSON_Delete(bindings);
			return rc;
		}
	}
	r->bindings = bindings;
	return 0;
}

static int dkp_options_portmap(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	const cJSON *opts;
	int n = dkp_object(b, "Options", &opts, err);

	return n < 0 ? n : dkp_portmap(opts, r, err);
}

/* ---------------------------------------------------------------- NetworkDriver */

static int dkp_net_id(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	return dkp_id(b, "NetworkID", r->network_id, err);
}

static int dkp_ep_ids(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	int n = dkp_id(b, "NetworkID", r->network_id, err);

	return n < 0 ? n : dkp_id(b, "EndpointID", r->endpoint_id, err);
}

/* AuxAddresses {"name": "10.0.0.5/24"} -> {"name": "10.0.0.5"}, each inside the pool. */
static int dkp_aux(const cJSON *d, struct dkp_ipdata *ip, struct berr *err)
{
	const cJSON *aux, *it;
	int r = dkp_object(d, "AuxAddresses", &aux, err);
	char buf[IP_STRLEN];

	ip->aux = cJSON_CreateObject();
	cJSON_ArrayForEach(it, aux) {
		struct cidr c;

		if (r >= 0 && !cJSON_IsString(it))
			r = berr_set(err, -EINVAL, "AuxAddresses[\"%s\"] must be a string", it->string);
		if (r >= 0 && cidr_parse(it->valuestring, &c, err) < 0)
			r = berr_prefix(err, "AuxAddresses[\"%s\"]", it->string);
		if (r >= 0 && !cidr_contains(&ip->pool, &c.addr))
			r = berr_set(err, -EINVAL, "AuxAddresses[\"%s\"] %s is outside pool", it->string,
				     it->valuestring);
		if (r < 0)
			return r;
		cJSON_AddStringToObject(ip->aux, it->string, ip_fmt(&c.addr, buf));
	}
	return r;
}

static int dkp_ipdata_one(const cJSON *d, int family, struct dkp_ipdata *ip, struct berr *err)
{
	const char *pool, *gw;
	struct cidr g;
	int r;

	if (!cJSON_IsObject(d))
		return berr_set(err, -EINVAL, "entries must be objects");
	r = dkp_string(d, "Pool", true, &pool, err);
	if (r >= 0)
		r = dkp_string(d, "Gateway", false, &gw, err);
	if (r >= 0 && cidr_parse_subnet(pool, &ip->pool, err) < 0)
		r = berr_prefix(err, "Pool");
	if (r >= 0)
		r = dkp_family_check("Pool", &ip->pool.addr, family, err);
	if (r >= 0 && *gw) {
		r = cidr_parse(gw, &g, err);
		if (r < 0)
			return berr_prefix(err, "Gateway");
		ip->gateway = g.addr;
		if (!cidr_contains(&ip->pool, &g.addr))
			return berr_set(err, -EINVAL, "Gateway %s is outside Pool %s", gw, pool);
	}
	return r < 0 ? r : dkp_aux(d, ip, err);
}

static int dkp_ipdata(const cJSON *b, const char *key, int family, struct dkp_ipdata *v, int *n,
		      struct berr *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(b, key), *d;
	int r;

	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return berr_set(err, -EINVAL, "field %s must be an array", key);
	cJSON_ArrayForEach(d, a) {
		if (*n == DKP_DATA_MAX)
			return berr_set(err, -EINVAL, "%s: at most %d pools per network", key,
					DKP_DATA_MAX);
		r = dkp_ipdata_one(d, family, &v[(*n)++], err);
		if (r < 0)
			return berr_prefix(err, "%s[%d]", key, *n - 1);
	}
	return 0;
}

static int dkp_net_create(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	const cJSON *opts;
	int n = dkp_net_id(b, r, err);

	if (n >= 0)
		n = dkp_object(b, "Options", &opts, err);
	if (n >= 0)
		n = dkp_bool(opts, "com.docker.network.enable_ipv6", &r->ipv6, err);
	if (n >= 0)
		n = dkp_bool(opts, "com.docker.network.internal", &r->internal, err);
	if (n >= 0) {
		cJSON_Delete(r->generic);
		n = dkp_string_map(opts, "com.docker.network.generic", &r->generic, err);
	}
	if (n >= 0)
		n = dkp_ipdata(b, "IPv4Data", AF_INET, r->v4, &r->n_v4, err);
	if (n >= 0)
		n = dkp_ipdata(b, "IPv6Data", AF_INET6, r->v6, &r->n_v6, err);
	if (n >= 0 && r->n_v6 && !r->ipv6)
		n = berr_set(err, -EINVAL, "IPv6Data given but com.docker.network.enable_ipv6 is false");
	return n;
}

static int dkp_ep_create(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	const cJSON *iface;
	const char *mac;
	uint8_t m[6];
	int n = dkp_ep_ids(b, r, err);

	if (n >= 0)
		n = dkp_object(b, "Interface", &iface, err);
	if (n >= 0)
		n = dkp_ifaddr(iface, "Address", AF_INET, &r->addr4, err);
	if (n >= 0)
		n = dkp_ifaddr(iface, "AddressIPv6", AF_INET6, &r->addr6, err);
	if (n >= 0)
		n = dkp_string(iface, "MacAddress", false, &mac, err);
	if (n >= 0 && *mac) {
		if (mac_parse(mac, m, err) < 0)
			return berr_prefix(err, "invalid MacAddress");
		if (m[0] & 1)
			return berr_set(err, -EINVAL, "MacAddress %s is a multicast address", mac);
		mac_fmt(m, r->mac);
	}
	return n < 0 ? n : dkp_options_portmap(b, r, err);
}

static int dkp_join(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	const char *key;
	int n = dkp_ep_ids(b, r, err);

	if (n >= 0)
		n = dkp_string(b, "SandboxKey", false, &key, err);
	if (n >= 0 && strscpy(r->sandbox_key, key, sizeof(r->sandbox_key)) < 0)
		n = berr_set(err, -ENAMETOOLONG, "field SandboxKey is longer than %d bytes",
			     DKP_SANDBOX_MAX - 1);
	return n < 0 ? n : dkp_options_portmap(b, r, err);
}

static int dkp_ext_program(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	int n = dkp_ep_ids(b, r, err);

	return n < 0 ? n : dkp_options_portmap(b, r, err);
}

/* ---------------------------------------------------------------- IpamDriver */

static int dkp_pool_id(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	const char *id;
	int n = dkp_string(b, "PoolID", true, &id, err);

	if (n < 0)
		return n;
	if (!*id || strscpy(r->pool_id, id, sizeof(r->pool_id)) < 0)
		return berr_set(err, -EINVAL, "field PoolID must hold 1 to %d bytes",
				DKP_POOL_ID_MAX - 1);
	return 0;
}

static int dkp_pool_request(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	const char *space, *pool, *sub;
	int family, n;

	n = dkp_string(b, "AddressSpace", false, &space, err);
	if (n >= 0)
		n = dkp_string(b, "Pool", false, &pool, err);
	if (n >= 0)
		n = dkp_string(b, "SubPool", false, &sub, err);
	if (n >= 0)
		n = dkp_bool(b, "V6", &r->pool_v6, err);
	if (n < 0)
		return n;
	family = r->pool_v6 ? AF_INET6 : AF_INET;
	if (strscpy(r->space, space, sizeof(r->space)) < 0)
		return berr_set(err, -EINVAL, "field AddressSpace is too long");
	if (*pool && (cidr_parse_subnet(pool, &r->pool, err) < 0 ||
		      dkp_family_check("Pool", &r->pool.addr, family, err) < 0))
		return berr_prefix(err, "Pool");
	if (*sub && !*pool)
		return berr_set(err, -EINVAL, "SubPool %s given without a Pool", sub);
	if (*sub && cidr_parse_subnet(sub, &r->subpool, err) < 0)
		return berr_prefix(err, "SubPool");
	if (*sub && !cidr_contains_cidr(&r->pool, &r->subpool))
		return berr_set(err, -EINVAL, "SubPool %s is not inside Pool %s", sub, pool);
	return 0;
}

static int dkp_address(const cJSON *b, bool required, struct dkp_request *r, struct berr *err)
{
	const char *a;
	struct cidr c;
	int n = dkp_string(b, "Address", required, &a, err);

	if (n < 0 || !*a) {
		if (n >= 0 && required)
			n = berr_set(err, -EINVAL, "field Address is empty");
		return n;
	}
	/* dockerd sends a bare address; accept a prefix length too */
	if (strchr(a, '/')) {
		n = cidr_parse(a, &c, err);
		r->address = c.addr;
	} else {
		n = ip_parse(a, &r->address, err);
	}
	return n < 0 ? berr_prefix(err, "invalid Address") : 0;
}

static int dkp_addr_request(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	_cleanup_json_ cJSON *opts = NULL;
	const cJSON *type;
	int n = dkp_pool_id(b, r, err);

	if (n >= 0)
		n = dkp_address(b, false, r, err);
	if (n >= 0)
		n = dkp_string_map(b, "Options", &opts, err);
	if (n < 0)
		return n;
	type = cJSON_GetObjectItemCaseSensitive(opts, DKP_ADDR_TYPE);
	r->gateway = cJSON_IsString(type) && !strcmp(type->valuestring, DKP_ADDR_GATEWAY);
	return 0;
}

static int dkp_addr_release(const cJSON *b, struct dkp_request *r, struct berr *err)
{
	int n = dkp_pool_id(b, r, err);

	return n < 0 ? n : dkp_address(b, true, r, err);
}

/* ---------------------------------------------------------------- routes */

static const struct dkp_route dkp_routes[] = {
	{ "/Plugin.Activate", DKP_ACTIVATE, NULL },
	{ "/NetworkDriver.GetCapabilities", DKP_NET_CAPS, NULL },
	{ "/NetworkDriver.CreateNetwork", DKP_NET_CREATE, dkp_net_create },
	{ "/NetworkDriver.DeleteNetwork", DKP_NET_DELETE, dkp_net_id },
	{ "/NetworkDriver.AllocateNetwork", DKP_NET_ALLOCATE, dkp_net_id },
	{ "/NetworkDriver.FreeNetwork", DKP_NET_FREE, dkp_net_id },
	{ "/NetworkDriver.CreateEndpoint", DKP_EP_CREATE, dkp_ep_create },
	{ "/NetworkDriver.DeleteEndpoint", DKP_EP_DELETE, dkp_ep_ids },
	{ "/NetworkDriver.EndpointOperInfo", DKP_EP_INFO, dkp_ep_ids },
	{ "/NetworkDriver.Join", DKP_JOIN, dkp_join },
	{ "/NetworkDriver.Leave", DKP_LEAVE, dkp_ep_ids },
	{ "/NetworkDriver.ProgramExternalConnectivity", DKP_EXT_PROGRAM, dkp_ext_program },
	{ "/NetworkDriver.RevokeExternalConnectivity", DKP_EXT_REVOKE, dkp_ep_ids },
	{ "/NetworkDriver.DiscoverNew", DKP_DISCOVER_NEW, NULL },
	{ "/NetworkDriver.DiscoverDelete", DKP_DISCOVER_DELETE, NULL },
	{ "/IpamDriver.GetCapabilities", DKP_IPAM_CAPS, NULL },
	{ "/IpamDriver.GetDefaultAddressSpaces", DKP_IPAM_SPACES, NULL },
	{ "/IpamDriver.RequestPool", DKP_POOL_REQUEST, dkp_pool_request },
	{ "/IpamDriver.ReleasePool", DKP_POOL_RELEASE, dkp_pool_id },
	{ "/IpamDriver.RequestAddress", DKP_ADDR_REQUEST, dkp_addr_request },
	{ "/IpamDriver.ReleaseAddress", DKP_ADDR_RELEASE, dkp_addr_release },
};

const char *dkp_op_name(enum dkp_op op)
{
	for (size_t i = 0; i < ARRAY_SIZE(dkp_routes); i++)
		if (dkp_routes[i].op == op)
			return dkp_routes[i].path + 1;
	return "?";
}

/* The body: nothing, null, or an object whose strings are all UTF-8. */
static int dkp_body(const char *body, size_t len, cJSON **ret, struct berr *err)
{
	char path[DKP_FIELD_PATH_MAX] = "";
	int n;

	*ret = NULL;
	if (len > DKP_BODY_MAX)
		return berr_set(err, -E2BIG, "request body exceeds 1 MiB");
	if (len == 0)
		return 0;
	n = http_json_parse(body, len, DKP_JSON_DEPTH_MAX, ret, err);
	if (n < 0)
		return n;
	if (!cJSON_IsObject(*ret) && !cJSON_IsNull(*ret))
		return berr_set(err, -EINVAL, "request body must be a JSON object");
	return http_json_utf8_check(*ret, path, sizeof(path), err);
}

int dkp_request_decode(const char *method, const char *path, const char *body, size_t len,
		       struct dkp_request *ret, struct berr *err)
{
	_cleanup_json_ cJSON *b = NULL;
	const struct dkp_route *route = NULL;
	int n;

	memset(ret, 0, sizeof(*ret));
	ret->generic = cJSON_CreateObject();
	for (size_t i = 0; i < ARRAY_SIZE(dkp_routes) && !route; i++)
		if (!strcmp(path, dkp_routes[i].path))
			route = &dkp_routes[i];
	if (!route) {
		_cleanup_free_ char *p = http_utf8_escape(path);

		return berr_set(err, -ENOENT, "unknown plugin call %s", p);
	}
	ret->op = route->op;
	if (strcmp(method, "POST") != 0)
		return berr_set(err, -EOPNOTSUPP, "%s must be called with POST", route->path + 1);
	/* dockerd names the call in front of the message it shows: no need to repeat it */
	n = dkp_body(body, len, &b, err);
	if (n >= 0 && route->decode && !cJSON_IsObject(b))
		return berr_set(err, -EINVAL, "the request has %s: a JSON object is expected (dockerd "
				"resends a call cut short without its body)", len ? "no object" :
				"an empty body");
	return n >= 0 && route->decode ? route->decode(b, ret, err) : n;
}

void dkp_request_done(struct dkp_request *r)
{
	for (int i = 0; i < DKP_DATA_MAX; i++) {
		cJSON_Delete(r->v4[i].aux);
		cJSON_Delete(r->v6[i].aux);
		r->v4[i].aux = r->v6[i].aux = NULL;
	}
	cJSON_Delete(r->generic);
	cJSON_Delete(r->bindings);
	r->generic = r->bindings = NULL;
}

char *dkp_error_text(const char *msg)
{
	_cleanup_free_ char *m = http_utf8_escape(msg);
	_cleanup_json_ cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "Err", m);
	return cJSON_PrintUnformatted(o);
}

cJSON *dkp_reply_static(enum dkp_op op)
{
	cJSON *o = cJSON_CreateObject(), *a;

	switch (op) {
	case DKP_ACTIVATE:
		a = cJSON_AddArrayToObject(o, "Implements");
		cJSON_AddItemToArray(a, cJSON_CreateString("NetworkDriver"));
		cJSON_AddItemToArray(a, cJSON_CreateString("IpamDriver"));
		break;
	case DKP_NET_CAPS:
		/* local: networks exist on this host only; dockerd keeps them in its local store */
		cJSON_AddStringToObject(o, "Scope", "local");
		cJSON_AddStringToObject(o, "ConnectivityScope", "local");
		break;
	case DKP_IPAM_CAPS:
		cJSON_AddBoolToObject(o, "RequiresMACAddress", false);
		cJSON_AddBoolToObject(o, "RequiresRequestReplay", false);
		break;
	case DKP_IPAM_SPACES:
		cJSON_AddStringToObject(o, "LocalDefaultAddressSpace", "berth-local");
		cJSON_AddStringToObject(o, "GlobalDefaultAddressSpace", "berth-global");
		break;
	default:
		break;
	}
	return o;
}
