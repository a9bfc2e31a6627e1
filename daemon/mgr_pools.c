/* SPDX-License-Identifier: Apache-2.0 */
/* Pool usage of a network, per subnet: usable addresses, addresses in use (gateway, auxiliary,
 * containers'), and how many the allocator can still hand out (inside --ip-range when there is
 * one). Shown by network inspect under Berth.Subnets; the numbers are exact JSON integers (an
 * IPv6 /64 holds more addresses than a double counts exactly). */
#include "daemon/mgr_internal.h"

/* Decimal text of a 128-bit count. */
static void u128_text(unsigned __int128 v, char buf[48])
{
	char tmp[48];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

static void add_count(cJSON *o, const char *key, unsigned __int128 v)
{
	char buf[48];

	u128_text(v, buf);
	cJSON_AddRawToObject(o, key, buf);
}

cJSON *mgr_render_pool_usage(const struct net_entry *n)
{
	cJSON *list = cJSON_CreateArray();
	char buf[CIDR_STRLEN];

	for (int i = 0; i < n->n.n_subnets; i++) {
		const struct ipam_pool *p = &n->pools[i];
		cJSON *o = cJSON_CreateObject();
		struct ipam_usage u;

		ipam_pool_usage(p, &u);
		cJSON_AddStringToObject(o, "Subnet", cidr_fmt(&p->subnet, buf));
		if (n->n.subnets[i].range.addr.family)
			cJSON_AddStringToObject(o, "IPRange", cidr_fmt(&p->range, buf));
		add_count(o, "Size", u.size);
		add_count(o, "InUse", u.in_use);
		add_count(o, "Free", u.free);
		cJSON_AddItemToArray(list, o);
	}
	return list;
}
