/* SPDX-License-Identifier: Apache-2.0 */
/* IP addresses and prefixes, IPv4 and IPv6 alike, with 128-bit arithmetic. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/error.h"

/* INET6_ADDRSTRLEN + "/128" */
#define IP_STRLEN 46
#define CIDR_STRLEN 50

struct ipaddr {
	int family;        /* AF_INET or AF_INET6; 0 = unset */
	uint8_t b[16];     /* network byte order; IPv4 uses b[0..3], the rest is zero */
};

/* An address with a prefix length. Whether host bits may be set depends on the use:
 * a subnet has them zero (cidr_parse_subnet), an interface address does not. */
struct cidr {
	struct ipaddr addr;
	int prefix;
};

static inline int ip_bits(int family) { return family == AF_INET ? 32 : 128; }

/* "10.0.0.1" or "fd00::1" (no brackets, no zone). */
int ip_parse(const char *s, struct ipaddr *ret, struct berr *err);
const char *ip_fmt(const struct ipaddr *a, char buf[IP_STRLEN]);
bool ip_equal(const struct ipaddr *a, const struct ipaddr *b);
/* Total order: IPv4 before IPv6, then numeric. Returns <0, 0, >0. */
int ip_cmp(const struct ipaddr *a, const struct ipaddr *b);

/* ::ffff:a.b.c.d (an IPv4 address written as IPv6; never a subnet, a gateway or a host address). */
bool ip_is_v4_mapped(const struct ipaddr *a);

/* As a 128-bit integer (IPv4 in the low 32 bits) and back. */
unsigned __int128 ip_to_u128(const struct ipaddr *a);
void ip_from_u128(int family, unsigned __int128 v, struct ipaddr *ret);

/* "A.B.C.D/N" or "X::Y/N": the address may have host bits set (interface address). */
int cidr_parse(const char *s, struct cidr *ret, struct berr *err);
/* A subnet that a network (or an IP range of one) can use: like cidr_parse() but host bits must
 * be zero ("10.0.0.1/24" is refused with "did you mean 10.0.0.0/24?"), and refused are /0 (the
 * whole address space), IPv4-mapped IPv6 (::ffff:a.b.c.d; the message names the IPv4 subnet)
 * and any overlap with ranges the kernel or every host already uses: 0.0.0.0/8, loopback,
 * multicast, 255.255.255.255, ::, ::1, fe80::/10. Messages call the value "subnet". */
int cidr_parse_subnet(const char *s, struct cidr *ret, struct berr *err);
const char *cidr_fmt(const struct cidr *c, char buf[CIDR_STRLEN]);

/* Host bits cleared. */
void cidr_network(const struct cidr *c, struct cidr *ret);
/* First and last address of the prefix. */
void cidr_first(const struct cidr *c, struct ipaddr *ret);
void cidr_last(const struct cidr *c, struct ipaddr *ret);
bool cidr_contains(const struct cidr *c, const struct ipaddr *a);
/* b lies entirely inside a (same family). */
bool cidr_contains_cidr(const struct cidr *a, const struct cidr *b);
bool cidr_overlaps(const struct cidr *a, const struct cidr *b);
/* Number of addresses minus one, saturating (a /0 of IPv6 gives UINT128 max). */
unsigned __int128 cidr_span(const struct cidr *c);

/* The n-th subnet of size new_prefix inside c (n counts from 0). -ERANGE when out of range. */
int cidr_subnet_nth(const struct cidr *c, int new_prefix, unsigned __int128 n, struct cidr *ret);
