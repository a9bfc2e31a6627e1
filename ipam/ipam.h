/* SPDX-License-Identifier: Apache-2.0 */
/* Address management: the pool of one subnet (allocate, reserve, release), the choice of a subnet
 * for a new network from default pools, and the IPv6 ULA prefix of this host. Pure logic: no I/O,
 * no store; the manager persists what these functions decide in the same transaction. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/cidr.h"
#include "common/error.h"

/* One subnet's allocator. Taken addresses are kept in a sorted array, so alloc, reserve, release
 * and lookup are O(log n) plus the scan over consecutive taken addresses. */
struct ipam_pool {
	struct cidr subnet;      /* host bits zero */
	struct cidr range;       /* where dynamic allocations come from (= subnet when no --ip-range) */
	struct ipaddr cursor;    /* last dynamically allocated address: next search starts after it */
	struct ipaddr *taken;    /* sorted */
	size_t n_taken, cap_taken;
};

/* range may be NULL. Errors: range not inside subnet, subnet too small to hold any address
 * (IPv4 /31 and /32, IPv6 /127 and /128). */
int ipam_pool_init(struct ipam_pool *p, const struct cidr *subnet, const struct cidr *range,
		   struct berr *err);
void ipam_pool_free(struct ipam_pool *p);

/* Usable = inside the subnet and neither the network address (IPv4 and IPv6: the subnet-router
 * anycast) nor, for IPv4, the broadcast address. */
bool ipam_pool_usable(const struct ipam_pool *p, const struct ipaddr *a);
bool ipam_pool_taken(const struct ipam_pool *p, const struct ipaddr *a);

/* Mark a specific address as taken (gateway, static --ip, restored allocation).
 * -EADDRINUSE when taken, -EINVAL when outside the subnet or not usable; err says which. */
int ipam_pool_reserve(struct ipam_pool *p, const struct ipaddr *a, struct berr *err);

/* The next free usable address inside range after the cursor, wrapping once around the range;
 * advances the cursor. -ENOSPC with a message naming the subnet when the range is full. */
int ipam_pool_alloc(struct ipam_pool *p, struct ipaddr *ret, struct berr *err);

/* Addresses of a pool: usable ones in the subnet, taken ones (gateway, auxiliary, static and
 * allocated addresses), usable ones of the range the allocator hands out (= the subnet without
 * --ip-range) and how many of those are still free. Saturates at 2^128 - 1. */
struct ipam_usage {
	unsigned __int128 size, in_use, range_size, free;
};
void ipam_pool_usage(const struct ipam_pool *p, struct ipam_usage *ret);

/* Release; releasing a free address is not an error. */
void ipam_pool_release(struct ipam_pool *p, const struct ipaddr *a);

/* The default gateway of a subnet: its first usable address. */
void ipam_default_gateway(const struct cidr *subnet, struct ipaddr *ret);

/* Default address pools ("base=CIDR,size=N"). */
struct ipam_default_pool {
	struct cidr base;
	int size;            /* prefix length of the subnets carved from base */
};

/* Docker's defaults: 172.17.0.0/16 ... 172.31.0.0/16 (size 16), then 192.168.0.0/16 in /20s. */
size_t ipam_builtin_pools(struct ipam_default_pool *ret, size_t max);
/* Parse "base=10.10.0.0/16,size=24". */
int ipam_default_pool_parse(const char *s, struct ipam_default_pool *ret, struct berr *err);

/* The first subnet carved from the pools (in order) that overlaps none of `avoid`.
 * Only pools of `family` are considered. -ENOSPC when every candidate overlaps. */
int ipam_pick_subnet(const struct ipam_default_pool *pools, size_t n_pools, int family,
		     const struct cidr *avoid, size_t n_avoid, struct cidr *ret, struct berr *err);

/* The host's ULA /48 (RFC 4193: fd00::/8 + 40 bits from the host identity) and the first /64
 * inside it that overlaps none of `avoid`. host_id: any stable bytes (e.g. /etc/machine-id). */
void ipam_ula_prefix(const void *host_id, size_t len, struct cidr *ret48);
int ipam_pick_ula64(const void *host_id, size_t len, const struct cidr *avoid, size_t n_avoid,
		    struct cidr *ret, struct berr *err);
