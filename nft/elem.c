/* SPDX-License-Identifier: Apache-2.0 */
/* The sets and maps of berth's tables and the construction of their elements. Keys follow the
 * register layout of the rules that look them up: each field of a concatenation starts on a
 * 4-byte boundary, unused bytes are zero. */
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/portspec.h"
#include "common/util.h"
#include "nft/nft_internal.h"

/* nftables datatype identifiers (what `nft list` uses to print keys). */
enum { T_IPV4 = 7, T_IPV6 = 8, T_ETHER = 9, T_PROTO = 12, T_SERVICE = 13, T_IFNAME = 41 };
#define CAT2(a, b) (((a) << 6) | (b))
#define CAT3(a, b, c) ((((a) << 6 | (b)) << 6) | (c))

static const struct nft_set_def set_defs[NFT_SET_COUNT] = {
	[NFT_SET_BRIDGES] = { "bridges", false, T_IFNAME, IFNAMSIZ, 0, 0 },
	[NFT_SET_INTERNAL] = { "internal", false, T_IFNAME, IFNAMSIZ, 0, 0 },
	[NFT_SET_SAMEBR] = { "icc", false, CAT2(T_IFNAME, T_IFNAME), 2 * IFNAMSIZ, 0, 0 },
	[NFT_SET_MASQ4] = { "masq4", false, T_IFNAME, IFNAMSIZ, 0, 0 },
	[NFT_SET_MASQ6] = { "masq6", false, T_IFNAME, IFNAMSIZ, 0, 0 },
	[NFT_SET_ROUTED4] = { "routed4", false, T_IFNAME, IFNAMSIZ, 0, 0 },
	[NFT_SET_ROUTED6] = { "routed6", false, T_IFNAME, IFNAMSIZ, 0, 0 },
	[NFT_MAP_PUB4] = { "pub4", false, CAT3(T_IPV4, T_PROTO, T_SERVICE), 12,
			   CAT2(T_IPV4, T_SERVICE), 8 },
	[NFT_MAP_PUB6] = { "pub6", false, CAT3(T_IPV6, T_PROTO, T_SERVICE), 24,
			   CAT2(T_IPV6, T_SERVICE), 20 },
	[NFT_MAP_PUBW4] = { "pubany4", false, CAT2(T_PROTO, T_SERVICE), 8,
			    CAT2(T_IPV4, T_SERVICE), 8 },
	[NFT_MAP_PUBW6] = { "pubany6", false, CAT2(T_PROTO, T_SERVICE), 8,
			    CAT2(T_IPV6, T_SERVICE), 20 },
	[NFT_SET_CTR4] = { "ctr4", false, T_IPV4, 4, 0, 0 },
	[NFT_SET_CTR6] = { "ctr6", false, T_IPV6, 16, 0, 0 },
	[NFT_SET_VTEP4] = { "vteps4", false, T_IPV4, 4, 0, 0 },
	[NFT_SET_VTEP6] = { "vteps6", false, T_IPV6, 16, 0, 0 },
	[NFT_SET_VXPORT] = { "vxports", false, T_SERVICE, 2, 0, 0 },
	[NFT_SET_XBRIDGES] = { "xbridges", false, T_IFNAME, IFNAMSIZ, 0, 0 },
	[NFT_SET_BR_PORTS] = { "ports", true, T_IFNAME, IFNAMSIZ, 0, 0 },
	[NFT_SET_BR_MAC] = { "mac", true, CAT2(T_IFNAME, T_ETHER), IFNAMSIZ + 8, 0, 0 },
	[NFT_SET_BR_IP4] = { "ip4", true, CAT2(T_IFNAME, T_IPV4), IFNAMSIZ + 4, 0, 0 },
	[NFT_SET_BR_IP6] = { "ip6", true, CAT2(T_IFNAME, T_IPV6), IFNAMSIZ + 16, 0, 0 },
	[NFT_SET_BR_NOICC] = { "noicc", true, T_IFNAME, IFNAMSIZ, 0, 0 },
	[NFT_SET_BR_UPLINKS] = { "uplinks", true, T_IFNAME, IFNAMSIZ, 0, 0 },
	[NFT_MAP_BR_REFLECT] = { "reflect", true, CAT2(T_IFNAME, T_IFNAME), 2 * IFNAMSIZ, T_ETHER,
				 6 },
};

const struct nft_set_def *nft_set_def(enum nft_set_id id) { return &set_defs[id]; }
const char *nft_set_name(enum nft_set_id id) { return set_defs[id].name; }
bool nft_set_is_bridge(enum nft_set_id id) { return set_defs[id].bridge; }

static void elem_init(struct nft_elem *e, enum nft_set_id set)
{
	memset(e, 0, sizeof(*e));
	e->set = set;
	e->key_len = set_defs[set].key_len;
	e->data_len = set_defs[set].data_len;
}

static void put_ifname(uint8_t *dst, const char *ifname)
{
	strncpy((char *)dst, ifname, IFNAMSIZ - 1);
}

void nft_elem_ifname(struct nft_elem *e, enum nft_set_id set, const char *ifname)
{
	elem_init(e, set);
	put_ifname(e->key, ifname);
	snprintf(e->label, sizeof(e->label), "element %s of set %s", ifname, set_defs[set].name);
}

void nft_elem_ifname_pair(struct nft_elem *e, enum nft_set_id set, const char *a, const char *b)
{
	elem_init(e, set);
	put_ifname(e->key, a);
	put_ifname(e->key + IFNAMSIZ, b);
	snprintf(e->label, sizeof(e->label), "element %s . %s of set %s", a, b,
		 set_defs[set].name);
}

void nft_elem_ifname_mac(struct nft_elem *e, const char *ifname, const uint8_t mac[6])
{
	elem_init(e, NFT_SET_BR_MAC);
	put_ifname(e->key, ifname);
	memcpy(e->key + IFNAMSIZ, mac, 6);
	snprintf(e->label, sizeof(e->label),
		 "element %s . %02x:%02x:%02x:%02x:%02x:%02x of set mac", ifname, mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

void nft_elem_reflect(struct nft_elem *e, const char *a, const char *b, const uint8_t mac[6])
{
	elem_init(e, NFT_MAP_BR_REFLECT);
	put_ifname(e->key, a);
	put_ifname(e->key + IFNAMSIZ, b);
	memcpy(e->data, mac, 6);
	snprintf(e->label, sizeof(e->label),
		 "element %s . %s : %02x:%02x:%02x:%02x:%02x:%02x of map reflect", a, b, mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void nft_elem_ifname_ip(struct nft_elem *e, const char *ifname, const struct ipaddr *ip)
{
	char a[IP_STRLEN];
	bool v4 = ip->family == AF_INET;

	elem_init(e, v4 ? NFT_SET_BR_IP4 : NFT_SET_BR_IP6);
	put_ifname(e->key, ifname);
	memcpy(e->key + IFNAMSIZ, ip->b, v4 ? 4 : 16);
	snprintf(e->label, sizeof(e->label), "element %s . %s of set %s", ifname, ip_fmt(ip, a),
		 set_defs[e->set].name);
}

/* An element of a set of addresses, set4 or set6 by the address family. */
static void elem_addr(struct nft_elem *e, enum nft_set_id set4, enum nft_set_id set6,
		      const struct ipaddr *ip)
{
	char a[IP_STRLEN];

	elem_init(e, ip->family == AF_INET ? set4 : set6);
	memcpy(e->key, ip->b, e->key_len);
	snprintf(e->label, sizeof(e->label), "element %s of set %s", ip_fmt(ip, a),
		 set_defs[e->set].name);
}

void nft_elem_ctr_ip(struct nft_elem *e, const struct ipaddr *ip)
{
	elem_addr(e, NFT_SET_CTR4, NFT_SET_CTR6, ip);
}

void nft_elem_vtep(struct nft_elem *e, const struct ipaddr *ip)
{
	elem_addr(e, NFT_SET_VTEP4, NFT_SET_VTEP6, ip);
}

void nft_elem_vxport(struct nft_elem *e, uint16_t port)
{
	uint16_t p = htons(port);

	elem_init(e, NFT_SET_VXPORT);
	memcpy(e->key, &p, 2);
	snprintf(e->label, sizeof(e->label), "element %u of set vxports", port);
}

void nft_elem_port(struct nft_elem *e, int family, const struct ipaddr *host, uint8_t proto,
		   uint16_t port, const struct ipaddr *to, uint16_t to_port)
{
	bool v4 = family == AF_INET, any = !host || !host->family;
	size_t alen = v4 ? 4 : 16, off = 0;
	uint16_t p = htons(port), tp = htons(to_port);
	char h[IP_STRLEN] = "", t[IP_STRLEN];

	elem_init(e, any ? (v4 ? NFT_MAP_PUBW4 : NFT_MAP_PUBW6) : (v4 ? NFT_MAP_PUB4 : NFT_MAP_PUB6));
	e->excl = true;
	if (!any) {
		memcpy(e->key, host->b, alen);
		off = alen;
		ip_fmt(host, h);
	}
	e->key[off] = proto;
	memcpy(e->key + off + 4, &p, 2);
	memcpy(e->data, to->b, alen);
	memcpy(e->data + alen, &tp, 2);
	ip_fmt(to, t);
	snprintf(e->label, sizeof(e->label), "host port %s%s%s:%u/%s -> %s%s%s:%u (map %s)",
		 v4 ? "" : "[", any ? (v4 ? "0.0.0.0" : "::") : h, v4 ? "" : "]", port,
		 portspec_proto_name(proto), v4 ? "" : "[", t, v4 ? "" : "]", to_port,
		 set_defs[e->set].name);
}
