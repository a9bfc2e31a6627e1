/* SPDX-License-Identifier: Apache-2.0 */
/* Parser of Docker's -p grammar and of the PortBindings pieces. */
#include <netinet/in.h>

#include "common/portspec.h"
#include "common/util.h"

const char *portspec_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	default: return NULL;
	}
}

int portspec_proto_parse(const char *s, uint8_t *ret)
{
	if (!strcmp(s, "tcp"))
		*ret = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*ret = IPPROTO_UDP;
	else if (!strcmp(s, "sctp"))
		*ret = IPPROTO_SCTP;
	else
		return -EINVAL;
	return 0;
}

/* One port 1..65535 (min 0 allowed for host ports given as "0"). */
static int port_parse(const char *s, const char *end, long min, uint16_t *ret)
{
	long v = 0;

	if (s == end || end - s > 5)
		return -EINVAL;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > 65535)
		return -ERANGE;
	*ret = (uint16_t)v;
	return 0;
}

/* "N" or "N-M" with N <= M. */
static int range_parse(const char *s, long min, uint16_t *ret_lo, uint16_t *ret_hi)
{
	const char *dash = strchr(s, '-');
	const char *end = s + strlen(s);
	int r;

	r = port_parse(s, dash ? dash : end, min, ret_lo);
	if (r < 0)
		return r;
	if (!dash) {
		*ret_hi = *ret_lo;
		return 0;
	}
	r = port_parse(dash + 1, end, min, ret_hi);
	if (r < 0)
		return r;
	return *ret_hi < *ret_lo ? -EINVAL : 0;
}

int portspec_hostport_parse(const char *s, uint16_t *ret_lo, uint16_t *ret_hi, struct berr *err)
{
	if (!s || !*s) {
		*ret_lo = *ret_hi = 0;
		return 0;
	}
	if (range_parse(s, 0, ret_lo, ret_hi) < 0 || (*ret_lo == 0 && *ret_hi != 0))
		return berr_set(err, -EINVAL, "invalid HostPort \"%s\": expected a port or a range "
				"of ports between 1 and 65535", s);
	return 0;
}

/* ::ffff:a.b.c.d is refused: nftables would match it as IPv6, which IPv4 traffic never is. */
static int hostip_v4_mapped_refuse(const char *what, const char *s, const struct ipaddr *a,
				   struct berr *err)
{
	struct ipaddr v4;
	char buf[IP_STRLEN];

	ip_from_u128(AF_INET, ip_to_u128(a) & 0xffffffff, &v4);
	return berr_set(err, -EINVAL, "invalid %s \"%s\": an IPv4-mapped IPv6 address; write "
			"%s", what, s, ip_fmt(&v4, buf));
}

int portspec_hostip_parse(const char *s, struct ipaddr *ret, struct berr *err)
{
	char buf[IP_STRLEN + 2];
	size_t n;

	memset(ret, 0, sizeof(*ret));
	if (!s || !*s)
		return 0;
	n = strlen(s);
	if (s[0] == '[' && n > 2 && s[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (ip_parse(s, ret, NULL) < 0)
		return berr_set(err, -EINVAL, "invalid HostIp \"%s\" of a port binding", s);
	if (ip_is_v4_mapped(ret))
		return hostip_v4_mapped_refuse("HostIp", s, ret, err);
	return 0;
}

int portspec_key_parse(const char *key, uint16_t *ret_port, uint8_t *ret_proto, struct berr *err)
{
	const char *slash = strchr(key, '/');
	const char *end = slash ? slash : key + strlen(key);

	*ret_proto = IPPROTO_TCP;
	if (port_parse(key, end, 1, ret_port) < 0)
		return berr_set(err, -EINVAL, "invalid container port \"%s\": expected PORT[/PROTO] "
				"with a port between 1 and 65535", key);
	if (slash && portspec_proto_parse(slash + 1, ret_proto) < 0)
		return berr_set(err, -EINVAL, "invalid protocol \"%s\" in \"%s\": expected tcp, udp "
				"or sctp", slash + 1, key);
	return 0;
}

/* Splits off [HOSTIP:] (bracketed for IPv6); *rest points after it. */
static int hostip_split(char *s, char **ret_ip, char **ret_rest)
{
	char *colon;

	*ret_ip = NULL;
	*ret_rest = s;
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			return -EINVAL;
		*colon = '\0';
		*ret_ip = s + 1;
		*ret_rest = colon + 2;
		return 0;
	}
	/* Three fields (ip:host:ctr) have two colons; an unbracketed IPv6 has more. */
	colon = strchr(s, ':');
	if (!colon || !strchr(colon + 1, ':'))
		return 0;
	if (strchr(strchr(colon + 1, ':') + 1, ':'))
		return -EINVAL;
	*colon = '\0';
	*ret_ip = s;
	*ret_rest = colon + 1;
	return 0;
}

static int spec_fields(const char *spec, char *copy, struct portspec *p, struct berr *err)
{
	char *ip, *rest, *colon, *slash = strrchr(copy, '/');
	int r;

	p->proto = IPPROTO_TCP;
	if (slash) {
		*slash = '\0';
		if (portspec_proto_parse(slash + 1, &p->proto) < 0)
			return berr_set(err, -EINVAL, "invalid protocol \"%s\" in port specification "
					"\"%s\": expected tcp, udp or sctp", slash + 1, spec);
	}
	if (hostip_split(copy, &ip, &rest) < 0)
		return berr_set(err, -EINVAL, "invalid port specification \"%s\": IPv6 host "
				"addresses must be in brackets ([::1]:8080:80)", spec);
	if (ip && *ip && ip_parse(ip, &p->host_ip, NULL) < 0)
		return berr_set(err, -EINVAL, "invalid host address \"%s\" in port specification "
				"\"%s\"", ip, spec);
	if (ip_is_v4_mapped(&p->host_ip))
		return hostip_v4_mapped_refuse("host address", ip, &p->host_ip, err);
	colon = strchr(rest, ':');
	if (colon) {
		*colon = '\0';
		r = *rest ? range_parse(rest, 1, &p->host_lo, &p->host_hi) : 0;
		if (r < 0)
			return berr_set(err, -EINVAL, "invalid host port \"%s\" in port specification "
					"\"%s\"", rest, spec);
		rest = colon + 1;
	}
	if (range_parse(rest, 1, &p->ctr_lo, &p->ctr_hi) < 0)
		return berr_set(err, -EINVAL, "invalid container port \"%s\" in port specification "
				"\"%s\"", rest, spec);
	return 0;
}

int portspec_parse(const char *spec, struct portspec *ret, struct berr *err)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	struct portspec p = { 0 };
	int r;

	r = spec_fields(spec, copy, &p, err);
	if (r < 0)
		return r;
	if (p.ctr_hi > p.ctr_lo && p.host_lo && p.host_hi - p.host_lo != p.ctr_hi - p.ctr_lo)
		return berr_set(err, -EINVAL, "invalid port specification \"%s\": the host range "
				"and the container range differ in size", spec);
	*ret = p;
	return 0;
}

void portspec_binding_add(cJSON *bindings, cJSON *exposed, const char *key, const char *ip,
			  const char *host_port)
{
	cJSON *list, *b;

	if (exposed && !cJSON_GetObjectItemCaseSensitive(exposed, key))
		cJSON_AddObjectToObject(exposed, key);
	if (!bindings)
		return;
	list = cJSON_GetObjectItemCaseSensitive(bindings, key);
	if (!list)
		list = cJSON_AddArrayToObject(bindings, key);
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "HostIp", ip);
	cJSON_AddStringToObject(b, "HostPort", host_port);
	cJSON_AddItemToArray(list, b);
}

void portspec_to_bindings(const struct portspec *p, cJSON *bindings, cJSON *exposed)
{
	char ip[IP_STRLEN] = "";

	if (p->host_ip.family)
		ip_fmt(&p->host_ip, ip);
	for (unsigned port = p->ctr_lo; port <= p->ctr_hi; port++) {
		_cleanup_free_ char *key = xasprintf("%u/%s", port, portspec_proto_name(p->proto));
		_cleanup_free_ char *hp = NULL;

		if (!p->host_lo)
			hp = xstrdup("");
		else if (p->ctr_hi > p->ctr_lo)
			hp = xasprintf("%u", p->host_lo + (port - p->ctr_lo));
		else if (p->host_hi > p->host_lo)
			hp = xasprintf("%u-%u", p->host_lo, p->host_hi);
		else
			hp = xasprintf("%u", p->host_lo);
		portspec_binding_add(bindings, exposed, key, ip, hp);
	}
}
