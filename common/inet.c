/* SPDX-License-Identifier: Apache-2.0 */
#include "common/inet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

void inet_sockaddr(const struct ipaddr *a, uint16_t port, struct sockaddr_storage *ss,
		   socklen_t *ret_len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->b, 4);
		*ret_len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->b, 16);
		*ret_len = sizeof(*s6);
	}
}

int inet_from_sockaddr(const struct sockaddr *sa, struct ipaddr *ret, uint16_t *ret_port)
{
	uint16_t port;

	memset(ret, 0, sizeof(*ret));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		ret->family = AF_INET;
		memcpy(ret->b, &s4->sin_addr, 4);
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		ret->family = AF_INET6;
		memcpy(ret->b, &s6->sin6_addr, 16);
		port = ntohs(s6->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	if (ret_port)
		*ret_port = port;
	return 0;
}

/* "0100007F:1F90" (IPv4: one 32-bit word in host order) or 32 hex digits (four words). */
static int addr_port_parse(const char *s, int family, struct socktab_ent *ret)
{
	size_t words = family == AF_INET ? 1 : 4;
	unsigned port;

	memset(&ret->addr, 0, sizeof(ret->addr));
	ret->addr.family = family;
	for (size_t w = 0; w < words; w++) {
		char hex[9];
		uint32_t v;

		memcpy(hex, s + 8 * w, 8);
		hex[8] = '\0';
		if (strlen(hex) != 8 || sscanf(hex, "%x", &v) != 1)
			return -EINVAL;
		memcpy(ret->addr.b + 4 * w, &v, 4);
	}
	if (s[8 * words] != ':' || sscanf(s + 8 * words + 1, "%x", &port) != 1 || port > 65535)
		return -EINVAL;
	ret->port = (uint16_t)port;
	return 0;
}

int socktab_line_parse(const char *line, int family, struct socktab_ent *ret)
{
	char local[64];

	if (sscanf(line, " %*s %63s %*s %x %*s %*s %*s %*s %*s %lu", local, &ret->state,
		   &ret->inode) != 3 ||
	    strlen(local) != (family == AF_INET ? 13u : 37u))
		return -EINVAL;
	return addr_port_parse(local, family, ret);
}
