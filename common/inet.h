/* SPDX-License-Identifier: Apache-2.0 */
/* Socket addresses from and to struct ipaddr, and the socket tables of /proc/net. */
#pragma once

#include <stdint.h>
#include <sys/socket.h>

#include "common/cidr.h"

/* a (AF_INET or AF_INET6) and port as a sockaddr_in / sockaddr_in6. */
void inet_sockaddr(const struct ipaddr *a, uint16_t port, struct sockaddr_storage *ss,
		   socklen_t *ret_len);
/* The address and port of a sockaddr_in / sockaddr_in6 (a v4-mapped IPv6 address stays IPv6);
 * -EAFNOSUPPORT for other families. ret_port may be NULL. */
int inet_from_sockaddr(const struct sockaddr *sa, struct ipaddr *ret, uint16_t *ret_port);

/* One line of /proc/net/{tcp,tcp6,udp,udp6} ("sl local rem st ... inode"). */
struct socktab_ent {
	struct ipaddr addr;        /* local address, of the table's family */
	uint16_t port;
	unsigned state;            /* 0x0A TCP listening, 0x07 UDP unconnected (bound) */
	unsigned long inode;
};
#define SOCKTAB_TCP_LISTEN 0x0A
#define SOCKTAB_UDP_BOUND 0x07
/* 0, or -EINVAL (the header line, or anything unreadable). */
int socktab_line_parse(const char *line, int family, struct socktab_ent *ret);
