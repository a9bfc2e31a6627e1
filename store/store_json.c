/* SPDX-License-Identifier: Apache-2.0 */
/* JSON (de)serialisation of subnets and free functions of the stored objects. */
#include "store/store_json.h"

#include <errno.h>

#include "common/util.h"

static void cjson_deletep(cJSON **j)
{
	cJSON_Delete(*j);
}

#define _cleanup_cjson_ _cleanup_(cjson_deletep)

/* NULL when memory runs out (the caller must not store a partial subnet). */
static cJSON *subnet_encode(const struct bsubnet *sub)
{
	char buf[CIDR_STRLEN], ip[IP_STRLEN];
	cJSON *o = cJSON_CreateObject(), *aux = NULL;
	bool ok = o && cJSON_AddStringToObject(o, "Subnet", cidr_fmt(&sub->subnet, buf));

	if (ok && sub->range.addr.family)
		ok = cJSON_AddStringToObject(o, "IPRange", cidr_fmt(&sub->range, buf)) != NULL;
	if (ok && sub->gateway.family)
		ok = cJSON_AddStringToObject(o, "Gateway", ip_fmt(&sub->gateway, ip)) != NULL;
	if (ok && sub->gateway_foreign)
		ok = cJSON_AddTrueToObject(o, "GatewayForeign") != NULL;
	if (ok && sub->subnet_auto)
		ok = cJSON_AddTrueToObject(o, "SubnetAuto") != NULL;
	if (ok && sub->gateway_auto)
		ok = cJSON_AddTrueToObject(o, "GatewayAuto") != NULL;
	if (ok && sub->aux) {
		aux = cJSON_Duplicate(sub->aux, true);
		ok = aux && cJSON_AddItemToObject(o, "AuxiliaryAddresses", aux);
		if (!ok)
			cJSON_Delete(aux);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *store_subnets_encode(const struct bsubnet *subs, int n)
{
	_cleanup_cjson_ cJSON *arr = cJSON_CreateArray();

	if (!arr)
		return NULL;
	for (int i = 0; i < n; i++) {
		cJSON *o = subnet_encode(&subs[i]);

		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return cJSON_PrintUnformatted(arr);
}

/* Optional string member: absent or null is fine (*ret_str NULL), another type is not. */
static int member_str(const cJSON *o, const char *key, const char **ret_str)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

	*ret_str = NULL;
	if (!m || cJSON_IsNull(m))
		return 0;
	if (!cJSON_IsString(m))
		return -EINVAL;
	*ret_str = m->valuestring;
	return 0;
}

static int subnet_decode(const cJSON *o, struct bsubnet *sub, struct berr *err)
{
	const char *subnet, *range, *gw;
	const cJSON *aux;

	memset(sub, 0, sizeof(*sub));
	if (!cJSON_IsObject(o) || member_str(o, "Subnet", &subnet) < 0 || !subnet ||
	    member_str(o, "IPRange", &range) < 0 || member_str(o, "Gateway", &gw) < 0)
		return berr_set(err, -EIO, "a subnet entry is malformed");
	if (cidr_parse(subnet, &sub->subnet, err) < 0)
		return -EIO;
	if (range && range[0] && cidr_parse(range, &sub->range, err) < 0)
		return -EIO;
	if (gw && gw[0] && ip_parse(gw, &sub->gateway, err) < 0)
		return -EIO;
	sub->gateway_foreign = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "GatewayForeign"));
	sub->subnet_auto = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "SubnetAuto"));
	sub->gateway_auto = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "GatewayAuto"));
	aux = cJSON_GetObjectItemCaseSensitive(o, "AuxiliaryAddresses");
	if (aux && !cJSON_IsNull(aux)) {
		if (!cJSON_IsObject(aux))
			return berr_set(err, -EIO, "AuxiliaryAddresses of subnet %s is not an object",
					subnet);
		sub->aux = cJSON_Duplicate(aux, true);
		if (!sub->aux)
			return berr_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int store_subnets_decode(const char *text, struct bsubnet subs[NET_MAX_SUBNETS], int *ret_n,
			 struct berr *err)
{
	_cleanup_cjson_ cJSON *arr = NULL;
	const cJSON *o;
	int n = 0, r;

	*ret_n = 0;
	r = store_json_decode(text, cJSON_Array, true, &arr, err);
	if (r < 0)
		return r;
	if (cJSON_GetArraySize(arr) > NET_MAX_SUBNETS)
		return berr_set(err, -EIO, "more than %d subnets", NET_MAX_SUBNETS);
	cJSON_ArrayForEach(o, arr) {
		r = subnet_decode(o, &subs[n], err);
		if (r < 0) {
			store_subnets_clear(subs, n);
			return r;
		}
		n++;
	}
	*ret_n = n;
	return 0;
}

void store_subnets_clear(struct bsubnet *subs, int n)
{
	for (int i = 0; i < n; i++) {
		cJSON_Delete(subs[i].aux);
		subs[i].aux = NULL;
	}
}

static const char *json_type_name(int type)
{
	return type == cJSON_Array ? "array" : "object";
}

int store_json_decode(const char *text, int type, bool empty_if_null, cJSON **ret,
		      struct berr *err)
{
	cJSON *j;

	*ret = NULL;
	if (!text) {
		if (empty_if_null)
			*ret = type == cJSON_Array ? cJSON_CreateArray() : cJSON_CreateObject();
		return empty_if_null && !*ret ? berr_set(err, -ENOMEM, "out of memory") : 0;
	}
	j = cJSON_Parse(text);
	if (!j)
		return berr_set(err, -EIO, "invalid JSON text");
	if ((j->type & 0xff) != type) {
		cJSON_Delete(j);
		return berr_set(err, -EIO, "JSON value is not an %s", json_type_name(type));
	}
	*ret = j;
	return 0;
}

void bnetwork_free(struct bnetwork *n)
{
	if (!n)
		return;
	store_subnets_clear(n->subnets, n->n_subnets > NET_MAX_SUBNETS ? NET_MAX_SUBNETS
									 : n->n_subnets);
	cJSON_Delete(n->options);
	cJSON_Delete(n->labels);
	free(n);
}

void bcontainer_free(struct bcontainer *c)
{
	if (!c)
		return;
	cJSON_Delete(c->cmd);
	cJSON_Delete(c->env);
	cJSON_Delete(c->extra);
	free(c);
}

void bendpoint_free(struct bendpoint *e)
{
	if (!e)
		return;
	cJSON_Delete(e->aliases);
	free(e);
}
