/* SPDX-License-Identifier: Apache-2.0 */
/* HostConfig.ExtraHosts (--add-host): "name:ip" (or "name=ip"; an IPv6 address may be in
 * brackets), written to the container's /etc/hosts after its own lines. "host-gateway" is the
 * gateway of the predefined bridge network, as Docker's host-gateway is docker0's address. */
#include "daemon/mgr_internal.h"

#define EXTRA_HOSTS_MAX 256

/* Splits "name:ip", "name=ip", "name:[v6]" into name and a parsed address (host-gateway:
 * family 0). */
static int extra_host_split(const char *entry, char *name, size_t size, struct ipaddr *ret,
			    struct berr *err)
{
	size_t n = strcspn(entry, ":=");
	char ip[64];
	const char *v;

	if (!entry[n] || n == 0 || n >= size)
		return berr_set(err, -EINVAL, "invalid extra host \"%s\": expected NAME:IP", entry);
	memcpy(name, entry, n);
	name[n] = '\0';
	v = entry + n + 1;
	if (name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")])
		return berr_set(err, -EINVAL, "invalid extra host \"%s\": bad host name \"%s\"", entry,
				name);
	memset(ret, 0, sizeof(*ret));
	if (!strcmp(v, "host-gateway"))
		return 0;
	if (strscpy(ip, v[0] == '[' ? v + 1 : v, sizeof(ip)) < 0)
		return berr_set(err, -EINVAL, "invalid extra host \"%s\": bad address", entry);
	if (v[0] == '[' && (!*ip || ip[strlen(ip) - 1] != ']'))
		return berr_set(err, -EINVAL, "invalid extra host \"%s\": unclosed [", entry);
	if (v[0] == '[')
		ip[strlen(ip) - 1] = '\0';
	if (ip_parse(ip, ret, NULL) < 0)
		return berr_set(err, -EINVAL, "invalid IP address \"%s\" in extra host \"%s\"", ip,
				entry);
	return 0;
}

int mgr_ctr_extra_hosts_parse(const cJSON *host, cJSON *extra, struct berr *err)
{
	cJSON *list = NULL;
	const cJSON *it;
	char name[256];
	struct ipaddr a;
	int r;

	r = json_string_array(host, "ExtraHosts", &list, err);
	if (r >= 0 && cJSON_GetArraySize(list) > EXTRA_HOSTS_MAX)
		r = berr_set(err, -EINVAL, "at most %d extra hosts", EXTRA_HOSTS_MAX);
	cJSON_ArrayForEach(it, list)
		if (r >= 0)
			r = extra_host_split(it->valuestring, name, sizeof(name), &a, err);
	if (r < 0 || cJSON_GetArraySize(list) == 0) {
		cJSON_Delete(list);
		return r;
	}
	cJSON_AddItemToObject(extra, "ExtraHosts", list);
	return 0;
}

/* The first IPv4 gateway of the predefined bridge network. */
static const struct ipaddr *host_gateway(struct manager *m)
{
	struct net_entry *n = mgr_net_find(m, "bridge", NULL);

	for (int i = 0; n && i < n->n.n_subnets; i++)
		if (n->n.subnets[i].gateway.family == AF_INET)
			return &n->n.subnets[i].gateway;
	return NULL;
}

char *mgr_hosts_extra_render(struct manager *m, const struct ctr_entry *c)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(c->c.extra, "ExtraHosts"), *it;
	char *out = xstrdup(""), *next, name[256], buf[IP_STRLEN];

	cJSON_ArrayForEach(it, list) {
		const struct ipaddr *ip;
		struct ipaddr a;

		if (!cJSON_IsString(it) ||
		    extra_host_split(it->valuestring, name, sizeof(name), &a, NULL) < 0)
			continue;
		ip = a.family ? &a : host_gateway(m);
		if (!ip)
			continue;
		next = xasprintf("%s%s\t%s\n", out, ip_fmt(ip, buf), name);
		free(out);
		out = next;
	}
	return out;
}

void mgr_render_extra_hosts(cJSON *host_config, const struct bcontainer *c)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(c->extra, "ExtraHosts");

	cJSON_AddItemToObject(host_config, "ExtraHosts",
			      list ? cJSON_Duplicate(list, 1) : cJSON_CreateNull());
}
