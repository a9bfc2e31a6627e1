/* SPDX-License-Identifier: Apache-2.0 */
/* Identifiers and names: object IDs, name validation, interface names and MAC addresses. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define ID_LEN 64            /* hex characters of a full object ID */
#define SHORT_ID_LEN 12
#define IFNAME_LEN 16        /* IFNAMSIZ, including the NUL */
#define NAME_LEN 128         /* network and container names, including the NUL */

/* A new random ID: 64 lowercase hex characters from getrandom(). */
void id_generate(char ret[ID_LEN + 1]);
bool id_is_valid(const char *s);   /* exactly 64 lowercase hex */

/* Docker's name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]* and shorter than NAME_LEN. The error says why. */
int name_validate(const char *kind, const char *name, struct berr *err);

/* Interface names: 1..15 bytes, no '/', no whitespace, not "." or "..". */
int ifname_validate(const char *name, struct berr *err);

/* Deterministic host-side names, at most 15 characters:
 *   bridge of a network:  "br-" + first 12 hex of the network ID
 *   host end of a veth:   "bv" + 13 hex of a hash of (network ID, container ID) */
void ifname_bridge(const char *network_id, char ret[IFNAME_LEN]);
void ifname_veth_host(const char *network_id, const char *container_id, char ret[IFNAME_LEN]);
/* A network that spills over several bridges (the kernel takes at most 1,023 ports on one):
 * extra bridge idx (1..4095) "bx" + 10 hex of the network ID + idx in 3 hex, and the trunk
 * between it and the network's own bridge, a veth pair: "by..." on the network's bridge,
 * "bz..." on the extra one (same digits). */
#define IFNAME_SPILL_MAX 0xfff
void ifname_spill_bridge(const char *network_id, int idx, char ret[IFNAME_LEN]);
void ifname_spill_trunk(const char *network_id, int idx, char ret[IFNAME_LEN]);
void ifname_spill_uplink(const char *network_id, int idx, char ret[IFNAME_LEN]);

/* A locally administered unicast MAC derived from a seed string (stable for a given endpoint):
 * first octet 0x02 (locally administered, unicast), the rest from a hash. */
void mac_from_seed(const char *seed, uint8_t ret[6]);
/* 02:42:a:b:c:d for the IPv4 address a.b.c.d (Docker's scheme): an address used again gets the
 * MAC it had before, so the neighbour caches of the other containers and of the host stay right
 * with no gratuitous ARP (which a bridge floods to every port). */
void mac_from_ip4(const uint8_t ip4[4], uint8_t ret[6]);
void mac_fmt(const uint8_t mac[6], char buf[18]);
int mac_parse(const char *s, uint8_t ret[6], struct berr *err);

/* 64-bit FNV-1a, the hash used for the names above. */
uint64_t hash64(const void *data, size_t len, uint64_t seed);
