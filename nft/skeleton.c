/* SPDX-License-Identifier: Apache-2.0 */
/* The static part of berth's tables: sets, chains and rules, written once per rebuild. What the
 * rules do, in nft syntax (R = the table's sets):
 *
 * table inet berth
 *   raw_pre   (filter prerouting -300): iifname != lo, daddr 127.0.0.0/8 or ::1 -> drop;
 *             iifname @xbridges notrack: a frame bridged on an extra bridge (br_netfilter hands
 *             it to these hooks) is tracked, filtered and NATed on the network's own bridge
 *             only, where the gateway is: tracked again on each bridge it crosses, a NATed flow
 *             would meet its own reply tuple and have its ports changed
 *   nat_pre   (nat prerouting -100), nat_out (nat output -100): jump publish
 *   publish:  ip daddr . l4proto . th dport  dnat to @pub4  (same for ip6 / @pub6)
 *             fib daddr type local: l4proto . th dport dnat to @pubany4 / @pubany6
 *   nat_post  (nat postrouting 100): oifname @bridges jump post_bridge
 *             iifname @masq4 oifname != @bridges masquerade (ipv4; same for ipv6 / @masq6)
 *   post_bridge: saddr 127.0.0.0/8 or ::1 -> masquerade; ct status dnat iifname @bridges ->
 *             masquerade (other networks through a published port, routed hairpin);
 *             ct status dnat ip saddr @ctr4 -> masquerade (same for ip6 / @ctr6): hairpin
 *             when br_netfilter bridges the DNAT'd packet back to its bridge ("bridged DNAT":
 *             postrouting then has no input interface), a container reaching its own port
 *   forward   (filter forward 0): oifname @bridges jump to_bridge; iifname @bridges jump from_bridge
 *   to_bridge: established,related accept; iifname . oifname @icc accept; oifname @internal
 *             drop; ct status dnat accept; iifname @bridges drop (isolation); @routed4/6 accept;
 *             drop (container addresses are not reachable directly)
 *   from_bridge: iifname @internal drop
 *   input     (filter input -10): udp dport @vxports ip saddr != @vteps4 drop (same for ip6 /
 *             @vteps6): VXLAN is taken only from the cluster's members
 * table bridge berth
 *   pre (filter prerouting -200): iifname @ports jump from_ctr
 *   from_ctr: ether saddr, ARP sender, IPv4/IPv6 source must be the port's own (@mac, @ip4,
 *             @ip6); only IPv4, IPv6 and ARP; no ICMP redirects, router advertisements, or
 *             neighbour advertisements for foreign targets
 *   fwd (filter forward -200): iifname @noicc (ports of networks with ICC off, and their
 *             trunks) oifname != @uplinks (trunk ends on extra bridges: the way to the gateway),
 *             IPv4/IPv6 -> drop;
 *             a frame sent back out of the trunk it came in on (iifname . oifname in @reflect:
 *             the trunk is in hairpin mode for br_netfilter's bridged DNAT, a container behind
 *             it reaching a published port of one behind the same trunk): a broadcast or
 *             multicast one -> drop, any other leaves with the bridge's own MAC as its source
 *             (the map's value), so that the extra bridge behind the trunk never learns one of
 *             its own containers' MACs on the trunk */
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter_bridge.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>

#include "common/util.h"
#include "nft/nft_internal.h"

#define R(i) (NFT_REG32_00 + (i))

struct rb {   /* a rule being built */
	struct nft_batch *b;
	struct nftnl_rule *r;
	bool bridge;
};

/* ---- tables and chains ---- */

static void table_msg(struct nft_batch *b, int type, bool bridge, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	const char *name = bridge ? b->names.bridge : b->names.inet;
	_cleanup_free_ char *label = xasprintf("table %s %s", bridge ? "bridge" : "inet", name);
	struct nlmsghdr *nlh;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = nft_batch_hdr(b, type, bridge ? NFPROTO_BRIDGE : NFPROTO_INET, flags);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nft_batch_push(b, label);
}

static void chain_add(struct nft_batch *b, bool bridge, const char *name, const char *type,
		      int hook, int prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	_cleanup_free_ char *label = xasprintf("chain %s", name);
	struct nlmsghdr *nlh;

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, bridge ? b->names.bridge : b->names.inet);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (type) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = nft_batch_hdr(b, NFT_MSG_NEWCHAIN, bridge ? NFPROTO_BRIDGE : NFPROTO_INET,
			    NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	nft_batch_push(b, label);
}

static void set_add(struct nft_batch *b, enum nft_set_id id)
{
	const struct nft_set_def *d = nft_set_def(id);
	struct nftnl_set *s = nftnl_set_alloc();
	_cleanup_free_ char *label = xasprintf("set %s", d->name);
	struct nlmsghdr *nlh;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, d->bridge ? b->names.bridge : b->names.inet);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, d->bridge ? NFPROTO_BRIDGE : NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, ++b->set_id);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	if (d->key_type == 41) {   /* plain ifname: tell `nft list` the key is a string */
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);

		nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, 1 /* host endian */);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u),
				   nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	if (d->data_len) {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, d->data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, d->data_len);
	}
	nlh = nft_batch_hdr(b, NFT_MSG_NEWSET, d->bridge ? NFPROTO_BRIDGE : NFPROTO_INET,
			    NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nft_batch_push(b, label);
}

/* ---- rules ---- */

static struct rb rule_new(struct nft_batch *b, bool bridge, const char *chain)
{
	struct rb rb = { .b = b, .r = nftnl_rule_alloc(), .bridge = bridge };

	nftnl_rule_set_str(rb.r, NFTNL_RULE_TABLE, bridge ? b->names.bridge : b->names.inet);
	nftnl_rule_set_str(rb.r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(rb.r, NFTNL_RULE_FAMILY, bridge ? NFPROTO_BRIDGE : NFPROTO_INET);
	return rb;
}

/* The description is also the rule's comment: `nft list` shows it, and an explanation of a
 * trace maps it back to what the rule is for (nft_rule_kind). */
static void rule_comment(struct nftnl_rule *r, const char *what)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_LABEL_MAX);

	nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, what);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

static void rule_push(struct rb *rb, const char *what)
{
	const char *chain = nftnl_rule_get_str(rb->r, NFTNL_RULE_CHAIN);
	_cleanup_free_ char *label = xasprintf("rule \"%s\" of chain %s", what, chain);
	struct nlmsghdr *nlh;

	rule_comment(rb->r, what);
	nlh = nft_batch_hdr(rb->b, NFT_MSG_NEWRULE, rb->bridge ? NFPROTO_BRIDGE : NFPROTO_INET,
			    NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, rb->r);
	nftnl_rule_free(rb->r);
	nft_batch_push(rb->b, label);
}

static struct nftnl_expr *x_new(struct rb *rb, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	nftnl_rule_add_expr(rb->r, e);
	return e;
}

static void x_meta(struct rb *rb, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = x_new(rb, "meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
}

static void x_cmp(struct rb *rb, uint32_t sreg, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = x_new(rb, "cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

/* Load (reg_attr NFTNL_EXPR_PAYLOAD_DREG) or store (NFTNL_EXPR_PAYLOAD_SREG) len bytes at off. */
static void x_payload_reg(struct rb *rb, uint32_t base, uint32_t off, uint32_t len,
			  uint16_t reg_attr, uint32_t reg)
{
	struct nftnl_expr *e = x_new(rb, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, reg_attr, reg);
}

static void x_payload(struct rb *rb, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	x_payload_reg(rb, base, off, len, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

static void x_payload_set(struct rb *rb, uint32_t base, uint32_t off, uint32_t len, uint32_t sreg)
{
	x_payload_reg(rb, base, off, len, NFTNL_EXPR_PAYLOAD_SREG, sreg);
}

static void x_bitwise(struct rb *rb, uint32_t reg, const void *mask, uint32_t len)
{
	struct nftnl_expr *e = x_new(rb, "bitwise");
	uint8_t zero[16] = { 0 };

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
}

/* Lookup in a set of this table; dreg < 0: plain membership; inv: not a member. */
static void x_lookup(struct rb *rb, enum nft_set_id set, uint32_t sreg, int dreg, bool inv)
{
	struct nftnl_expr *e = x_new(rb, "lookup");

	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, nft_set_name(set));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
}

static void x_verdict(struct rb *rb, int verdict, const char *chain)
{
	struct nftnl_expr *e = x_new(rb, "immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

static void x_nfproto(struct rb *rb, uint8_t proto)
{
	x_meta(rb, NFT_META_NFPROTO, R(0));
	x_cmp(rb, R(0), NFT_CMP_EQ, &proto, 1);
}

static void x_ethertype(struct rb *rb, uint16_t type)
{
	uint16_t be = htons(type);

	x_payload(rb, NFT_PAYLOAD_LL_HEADER, 12, 2, R(0));
	x_cmp(rb, R(0), NFT_CMP_EQ, &be, 2);
}

static void x_l4proto(struct rb *rb, uint8_t proto)
{
	x_meta(rb, NFT_META_L4PROTO, R(0));
	x_cmp(rb, R(0), NFT_CMP_EQ, &proto, 1);
}

static void x_ifname_in(struct rb *rb, uint32_t key, enum nft_set_id set, bool inv)
{
	x_meta(rb, key, R(0));
	x_lookup(rb, set, R(0), -1, inv);
}

static void x_not_lo(struct rb *rb)
{
	char lo[IFNAMSIZ] = "lo";

	x_meta(rb, NFT_META_IIFNAME, R(0));
	x_cmp(rb, R(0), NFT_CMP_NEQ, lo, sizeof(lo));
}

/* (value & mask) != 0 on a 32-bit conntrack key. */
static void x_ct_bits(struct rb *rb, uint32_t key, uint32_t bits)
{
	struct nftnl_expr *e = x_new(rb, "ct");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, R(0));
	x_bitwise(rb, R(0), &bits, 4);
	x_cmp(rb, R(0), NFT_CMP_NEQ, &zero, 4);
}

static void x_fib_local(struct rb *rb)
{
	struct nftnl_expr *e = x_new(rb, "fib");
	uint32_t local = RTN_LOCAL;

	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, R(0));
	x_cmp(rb, R(0), NFT_CMP_EQ, &local, 4);
}

static void x_dnat(struct rb *rb, int family, uint32_t addr_reg, uint32_t port_reg)
{
	struct nftnl_expr *e = x_new(rb, "nat");

	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, (uint32_t)family);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, addr_reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, port_reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
}

static void x_masq(struct rb *rb) { x_new(rb, "masq"); }

/* ---- inet table rules ---- */

static void rules_raw(struct nft_batch *b)
{
	uint8_t mask[4] = { 255, 0, 0, 0 }, net[4] = { 127, 0, 0, 0 };
	struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;
	struct rb rb = rule_new(b, false, "raw_pre");

	x_nfproto(&rb, NFPROTO_IPV4);
	x_not_lo(&rb);
	x_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, R(0));
	x_bitwise(&rb, R(0), mask, 4);
	x_cmp(&rb, R(0), NFT_CMP_EQ, net, 4);
	x_verdict(&rb, NF_DROP, NULL);
	rule_push(&rb, "iifname != lo ip daddr 127.0.0.0/8 drop");
	rb = rule_new(b, false, "raw_pre");
	x_nfproto(&rb, NFPROTO_IPV6);
	x_not_lo(&rb);
	x_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, R(0));
	x_cmp(&rb, R(0), NFT_CMP_EQ, &lo6, 16);
	x_verdict(&rb, NF_DROP, NULL);
	rule_push(&rb, "iifname != lo ip6 daddr ::1 drop");
	rb = rule_new(b, false, "raw_pre");
	x_ifname_in(&rb, NFT_META_IIFNAME, NFT_SET_XBRIDGES, false);
	x_new(&rb, "notrack");
	rule_push(&rb, "iifname @xbridges notrack");
}

static void rule_publish(struct nft_batch *b, int family, bool any)
{
	bool v4 = family == NFPROTO_IPV4;
	uint32_t words = any ? 0 : (v4 ? 1 : 4);   /* 32-bit registers taken by the address */
	struct rb rb = rule_new(b, false, "publish");

	x_nfproto(&rb, (uint8_t)family);
	if (any) {
		x_fib_local(&rb);
	} else {
		x_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, v4 ? 16 : 24, v4 ? 4 : 16, R(0));
	}
	x_meta(&rb, NFT_META_L4PROTO, R(words));
	x_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, R(words + 1));
	x_lookup(&rb, any ? (v4 ? NFT_MAP_PUBW4 : NFT_MAP_PUBW6) : (v4 ? NFT_MAP_PUB4 : NFT_MAP_PUB6),
		 R(0), R(0), false);
	x_dnat(&rb, family, R(0), R(v4 ? 1 : 4));
	rule_push(&rb, any ? "dnat to published port of any address" :
			     "dnat to published port of one address");
}

static void rules_nat(struct nft_batch *b)
{
	struct rb rb;

	for (int i = 0; i < 2; i++) {
		rb = rule_new(b, false, i ? "nat_out" : "nat_pre");
		x_verdict(&rb, NFT_JUMP, "publish");
		rule_push(&rb, "jump publish");
	}
	rule_publish(b, NFPROTO_IPV4, false);
	rule_publish(b, NFPROTO_IPV6, false);
	rule_publish(b, NFPROTO_IPV4, true);
	rule_publish(b, NFPROTO_IPV6, true);
	rb = rule_new(b, false, "nat_post");
	x_ifname_in(&rb, NFT_META_OIFNAME, NFT_SET_BRIDGES, false);
	x_verdict(&rb, NFT_JUMP, "post_bridge");
	rule_push(&rb, "oifname @bridges jump post_bridge");
	for (int v6 = 0; v6 < 2; v6++) {
		rb = rule_new(b, false, "nat_post");
		x_nfproto(&rb, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		x_ifname_in(&rb, NFT_META_IIFNAME, v6 ? NFT_SET_MASQ6 : NFT_SET_MASQ4, false);
		x_ifname_in(&rb, NFT_META_OIFNAME, NFT_SET_BRIDGES, true);
		x_masq(&rb);
		rule_push(&rb, "egress masquerade");
	}
}

static void rules_post_bridge(struct nft_batch *b)
{
	uint8_t mask[4] = { 255, 0, 0, 0 }, net[4] = { 127, 0, 0, 0 };
	struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;
	struct rb rb = rule_new(b, false, "post_bridge");

	x_nfproto(&rb, NFPROTO_IPV4);
	x_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, R(0));
	x_bitwise(&rb, R(0), mask, 4);
	x_cmp(&rb, R(0), NFT_CMP_EQ, net, 4);
	x_masq(&rb);
	rule_push(&rb, "ip saddr 127.0.0.0/8 masquerade");
	rb = rule_new(b, false, "post_bridge");
	x_nfproto(&rb, NFPROTO_IPV6);
	x_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, R(0));
	x_cmp(&rb, R(0), NFT_CMP_EQ, &lo6, 16);
	x_masq(&rb);
	rule_push(&rb, "ip6 saddr ::1 masquerade");
	rb = rule_new(b, false, "post_bridge");
	x_ct_bits(&rb, NFT_CT_STATUS, IPS_DST_NAT);
	x_ifname_in(&rb, NFT_META_IIFNAME, NFT_SET_BRIDGES, false);
	x_masq(&rb);
	rule_push(&rb, "ct status dnat iifname @bridges masquerade");
	for (int v6 = 0; v6 < 2; v6++) {
		rb = rule_new(b, false, "post_bridge");
		x_nfproto(&rb, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		x_ct_bits(&rb, NFT_CT_STATUS, IPS_DST_NAT);
		x_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4, R(0));
		x_lookup(&rb, v6 ? NFT_SET_CTR6 : NFT_SET_CTR4, R(0), -1, false);
		x_masq(&rb);
		rule_push(&rb, "ct status dnat saddr @ctr masquerade (hairpin)");
	}
}

static void rule_verdict(struct nft_batch *b, const char *chain, uint32_t key,
			 enum nft_set_id set, int verdict, const char *jump, const char *what)
{
	struct rb rb = rule_new(b, nft_set_is_bridge(set), chain);

	x_ifname_in(&rb, key, set, false);
	x_verdict(&rb, verdict, jump);
	rule_push(&rb, what);
}

static void rules_forward(struct nft_batch *b)
{
	struct rb rb;

	rule_verdict(b, "forward", NFT_META_OIFNAME, NFT_SET_BRIDGES, NFT_JUMP, "to_bridge",
		     "oifname @bridges jump to_bridge");
	rule_verdict(b, "forward", NFT_META_IIFNAME, NFT_SET_BRIDGES, NFT_JUMP, "from_bridge",
		     "iifname @bridges jump from_bridge");
	rb = rule_new(b, false, "to_bridge");
	x_ct_bits(&rb, NFT_CT_STATE, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
				     NF_CT_STATE_BIT(IP_CT_RELATED));
	x_verdict(&rb, NF_ACCEPT, NULL);
	rule_push(&rb, "ct state established,related accept");
	rb = rule_new(b, false, "to_bridge");
	x_meta(&rb, NFT_META_IIFNAME, R(0));
	x_meta(&rb, NFT_META_OIFNAME, R(4));
	x_lookup(&rb, NFT_SET_SAMEBR, R(0), -1, false);
	x_verdict(&rb, NF_ACCEPT, NULL);
	rule_push(&rb, "iifname . oifname @icc accept");
	rule_verdict(b, "to_bridge", NFT_META_OIFNAME, NFT_SET_INTERNAL, NF_DROP, NULL,
		     "oifname @internal drop");
	rb = rule_new(b, false, "to_bridge");
	x_ct_bits(&rb, NFT_CT_STATUS, IPS_DST_NAT);
	x_verdict(&rb, NF_ACCEPT, NULL);
	rule_push(&rb, "ct status dnat accept");
	rule_verdict(b, "to_bridge", NFT_META_IIFNAME, NFT_SET_BRIDGES, NF_DROP, NULL,
		     "iifname @bridges drop");
	for (int v6 = 0; v6 < 2; v6++) {
		rb = rule_new(b, false, "to_bridge");
		x_nfproto(&rb, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		x_ifname_in(&rb, NFT_META_OIFNAME, v6 ? NFT_SET_ROUTED6 : NFT_SET_ROUTED4, false);
		x_verdict(&rb, NF_ACCEPT, NULL);
		rule_push(&rb, "routed mode accept");
	}
	rb = rule_new(b, false, "to_bridge");
	x_verdict(&rb, NF_DROP, NULL);
	rule_push(&rb, "drop");
	rule_verdict(b, "from_bridge", NFT_META_IIFNAME, NFT_SET_INTERNAL, NF_DROP, NULL,
		     "iifname @internal drop");
}

/* VXLAN from anything but a member VTEP is dropped before the kernel's VXLAN socket sees it. */
static void rules_input(struct nft_batch *b)
{
	for (int v6 = 0; v6 < 2; v6++) {
		struct rb rb = rule_new(b, false, "input");

		x_nfproto(&rb, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		x_l4proto(&rb, IPPROTO_UDP);
		x_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, R(0));
		x_lookup(&rb, NFT_SET_VXPORT, R(0), -1, false);
		x_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4, R(0));
		x_lookup(&rb, v6 ? NFT_SET_VTEP6 : NFT_SET_VTEP4, R(0), -1, true);
		x_verdict(&rb, NF_DROP, NULL);
		rule_push(&rb, v6 ? "udp dport @vxports ip6 saddr != @vteps6 drop"
				  : "udp dport @vxports ip saddr != @vteps4 drop");
	}
}

/* ---- bridge table rules ---- */

/* iifname . <payload> not in set -> drop */
static void rule_own(struct nft_batch *b, uint16_t ethertype, uint32_t base, uint32_t off,
		     uint32_t len, enum nft_set_id set, const char *what)
{
	struct rb rb = rule_new(b, true, "from_ctr");

	if (ethertype)
		x_ethertype(&rb, ethertype);
	x_meta(&rb, NFT_META_IIFNAME, R(0));
	x_payload(&rb, base, off, len, R(4));
	x_lookup(&rb, set, R(0), -1, true);
	x_verdict(&rb, NF_DROP, NULL);
	rule_push(&rb, what);
}

static void rule_icmp_drop(struct nft_batch *b, uint16_t ethertype, uint8_t proto, uint8_t type,
			   const char *what)
{
	struct rb rb = rule_new(b, true, "from_ctr");

	x_ethertype(&rb, ethertype);
	x_l4proto(&rb, proto);
	x_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, R(0));
	x_cmp(&rb, R(0), NFT_CMP_EQ, &type, 1);
	x_verdict(&rb, NF_DROP, NULL);
	rule_push(&rb, what);
}

static void rules_bridge_l2(struct nft_batch *b)
{
	uint16_t types[3] = { htons(0x0800), htons(0x0806), htons(0x86dd) };
	uint8_t arp_eth_ip4[6] = { 0, 1, 8, 0, 6, 4 };
	struct rb rb;

	rule_verdict(b, "pre", NFT_META_IIFNAME, NFT_SET_BR_PORTS, NFT_JUMP, "from_ctr",
		     "iifname @ports jump from_ctr");
	rule_own(b, 0, NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_SET_BR_MAC,
		 "iifname . ether saddr != @mac drop");
	rb = rule_new(b, true, "from_ctr");
	x_payload(&rb, NFT_PAYLOAD_LL_HEADER, 12, 2, R(0));
	for (int i = 0; i < 3; i++)
		x_cmp(&rb, R(0), NFT_CMP_NEQ, &types[i], 2);
	x_verdict(&rb, NF_DROP, NULL);
	rule_push(&rb, "ether type != { ip, arp, ip6 } drop");
	rb = rule_new(b, true, "from_ctr");
	x_ethertype(&rb, 0x0806);
	x_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, 0, 6, R(0));
	x_cmp(&rb, R(0), NFT_CMP_NEQ, arp_eth_ip4, 6);
	x_verdict(&rb, NF_DROP, NULL);
	rule_push(&rb, "arp not ethernet/ipv4 drop");
	rule_own(b, 0x0806, NFT_PAYLOAD_NETWORK_HEADER, 8, 6, NFT_SET_BR_MAC,
		 "iifname . arp saddr ether != @mac drop");
	rule_own(b, 0x0806, NFT_PAYLOAD_NETWORK_HEADER, 14, 4, NFT_SET_BR_IP4,
		 "iifname . arp saddr ip != @ip4 drop");
}

static void rules_bridge_reflect(struct nft_batch *b);

static void rules_bridge_ip(struct nft_batch *b)
{
	struct in6_addr any6 = IN6ADDR_ANY_INIT;
	struct rb rb;

	rule_icmp_drop(b, 0x0800, IPPROTO_ICMP, 5, "icmp redirect drop");
	rule_own(b, 0x0800, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_SET_BR_IP4,
		 "iifname . ip saddr != @ip4 drop");
	rule_icmp_drop(b, 0x86dd, IPPROTO_ICMPV6, 134, "icmpv6 router advertisement drop");
	rule_icmp_drop(b, 0x86dd, IPPROTO_ICMPV6, 137, "icmpv6 redirect drop");
	rb = rule_new(b, true, "from_ctr");
	x_ethertype(&rb, 0x86dd);
	x_l4proto(&rb, IPPROTO_ICMPV6);
	x_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, R(0));
	x_cmp(&rb, R(0), NFT_CMP_EQ, &(uint8_t){ 136 }, 1);
	x_meta(&rb, NFT_META_IIFNAME, R(0));
	x_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 8, 16, R(4));
	x_lookup(&rb, NFT_SET_BR_IP6, R(0), -1, true);
	x_verdict(&rb, NF_DROP, NULL);
	rule_push(&rb, "neighbour advertisement for a foreign target drop");
	rb = rule_new(b, true, "from_ctr");
	x_ethertype(&rb, 0x86dd);
	x_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, R(0));
	x_cmp(&rb, R(0), NFT_CMP_EQ, &any6, 16);
	x_verdict(&rb, NF_ACCEPT, NULL);
	rule_push(&rb, "ip6 saddr :: accept");
	rule_own(b, 0x86dd, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_SET_BR_IP6,
		 "iifname . ip6 saddr != @ip6 drop");
	for (int v6 = 0; v6 < 2; v6++) {
		rb = rule_new(b, true, "fwd");
		x_meta(&rb, NFT_META_IIFNAME, R(0));
		x_lookup(&rb, NFT_SET_BR_NOICC, R(0), -1, false);
		x_meta(&rb, NFT_META_OIFNAME, R(0));
		x_lookup(&rb, NFT_SET_BR_UPLINKS, R(0), -1, true);
		x_ethertype(&rb, v6 ? 0x86dd : 0x0800);
		x_verdict(&rb, NF_DROP, NULL);
		rule_push(&rb, "iifname @noicc oifname != @uplinks drop");
	}
	rules_bridge_reflect(b);
}

/* A frame sent back out of the trunk it came in on (see the table above). */
static void rules_bridge_reflect(struct nft_batch *b)
{
	struct rb rb = rule_new(b, true, "fwd");

	x_meta(&rb, NFT_META_IIFNAME, R(0));
	x_meta(&rb, NFT_META_OIFNAME, R(4));
	x_lookup(&rb, NFT_MAP_BR_REFLECT, R(0), -1, false);
	x_payload(&rb, NFT_PAYLOAD_LL_HEADER, 0, 1, R(0));
	x_bitwise(&rb, R(0), &(uint8_t){ 0x01 }, 1);
	x_cmp(&rb, R(0), NFT_CMP_NEQ, &(uint8_t){ 0 }, 1);
	x_verdict(&rb, NF_DROP, NULL);
	rule_push(&rb, "iifname . oifname @reflect ether daddr & 01:00:00:00:00:00 != 0 drop");
	rb = rule_new(b, true, "fwd");
	x_meta(&rb, NFT_META_IIFNAME, R(0));
	x_meta(&rb, NFT_META_OIFNAME, R(4));
	x_lookup(&rb, NFT_MAP_BR_REFLECT, R(0), R(0), false);
	x_payload_set(&rb, NFT_PAYLOAD_LL_HEADER, 6, 6, R(0));
	rule_push(&rb, "ether saddr set iifname . oifname map @reflect");
}

/* ---- whole tables ---- */

static void tables_delete(struct nft_batch *b)
{
	/* create-if-missing then delete: deleting a missing table would fail the batch */
	table_msg(b, NFT_MSG_NEWTABLE, false, NLM_F_CREATE);
	table_msg(b, NFT_MSG_DELTABLE, false, 0);
	table_msg(b, NFT_MSG_NEWTABLE, true, NLM_F_CREATE);
	table_msg(b, NFT_MSG_DELTABLE, true, 0);
}

void nft_batch_delete_tables(struct nft_batch *b) { tables_delete(b); }

void nft_batch_rebuild(struct nft_batch *b)
{
	tables_delete(b);
	table_msg(b, NFT_MSG_NEWTABLE, false, NLM_F_CREATE);
	table_msg(b, NFT_MSG_NEWTABLE, true, NLM_F_CREATE);
	for (int i = 0; i < NFT_SET_COUNT; i++)
		set_add(b, (enum nft_set_id)i);
	chain_add(b, false, "raw_pre", "filter", NF_INET_PRE_ROUTING, -300);
	chain_add(b, false, "nat_pre", "nat", NF_INET_PRE_ROUTING, -100);
	chain_add(b, false, "nat_out", "nat", NF_INET_LOCAL_OUT, -100);
	chain_add(b, false, "nat_post", "nat", NF_INET_POST_ROUTING, 100);
	chain_add(b, false, "forward", "filter", NF_INET_FORWARD, 0);
	chain_add(b, false, "input", "filter", NF_INET_LOCAL_IN, -10);
	chain_add(b, false, "publish", NULL, 0, 0);
	chain_add(b, false, "post_bridge", NULL, 0, 0);
	chain_add(b, false, "to_bridge", NULL, 0, 0);
	chain_add(b, false, "from_bridge", NULL, 0, 0);
	chain_add(b, true, "pre", "filter", NF_BR_PRE_ROUTING, -200);
	chain_add(b, true, "fwd", "filter", NF_BR_FORWARD, -200);
	chain_add(b, true, "from_ctr", NULL, 0, 0);
	rules_raw(b);
	rules_nat(b);
	rules_post_bridge(b);
	rules_forward(b);
	rules_input(b);
	rules_bridge_l2(b);
	rules_bridge_ip(b);
}

/* ---- what a rule is for (explanations of traces) ---- */

static const struct {
	const char *comment;
	enum nft_rule_kind kind;
} rule_kinds[] = {
	{ "iifname != lo ip daddr 127.0.0.0/8 drop", NFT_RULE_LOOPBACK },
	{ "iifname != lo ip6 daddr ::1 drop", NFT_RULE_LOOPBACK },
	{ "dnat to published port of one address", NFT_RULE_DNAT },
	{ "dnat to published port of any address", NFT_RULE_DNAT },
	{ "ct state established,related accept", NFT_RULE_ESTABLISHED },
	{ "iifname . oifname @icc accept", NFT_RULE_ICC },
	{ "oifname @internal drop", NFT_RULE_INTERNAL_IN },
	{ "ct status dnat accept", NFT_RULE_PUBLISHED },
	{ "iifname @bridges drop", NFT_RULE_ISOLATION },
	{ "routed mode accept", NFT_RULE_ROUTED },
	{ "drop", NFT_RULE_UNEXPOSED },
	{ "iifname @internal drop", NFT_RULE_INTERNAL_OUT },
	{ "iifname . ether saddr != @mac drop", NFT_RULE_SPOOF },
	{ "ether type != { ip, arp, ip6 } drop", NFT_RULE_SPOOF },
	{ "arp not ethernet/ipv4 drop", NFT_RULE_SPOOF },
	{ "iifname . arp saddr ether != @mac drop", NFT_RULE_SPOOF },
	{ "iifname . arp saddr ip != @ip4 drop", NFT_RULE_SPOOF },
	{ "iifname . ip saddr != @ip4 drop", NFT_RULE_SPOOF },
	{ "iifname . ip6 saddr != @ip6 drop", NFT_RULE_SPOOF },
	{ "icmp redirect drop", NFT_RULE_GUARD },
	{ "icmpv6 router advertisement drop", NFT_RULE_GUARD },
	{ "icmpv6 redirect drop", NFT_RULE_GUARD },
	{ "neighbour advertisement for a foreign target drop", NFT_RULE_GUARD },
	{ "iifname @noicc oifname != @uplinks drop", NFT_RULE_NOICC },
	{ NFT_TRACE_COMMENT, NFT_RULE_TRACE },
};

enum nft_rule_kind nft_rule_kind(const char *comment)
{
	for (size_t i = 0; comment && i < ARRAY_SIZE(rule_kinds); i++)
		if (strcmp(rule_kinds[i].comment, comment) == 0)
			return rule_kinds[i].kind;
	return NFT_RULE_OTHER;
}

/* ---- tracing one flow: a chain hooked before every other of each table ---- */

static void x_nftrace_set(struct rb *rb)
{
	struct nftnl_expr *e = x_new(rb, "immediate");
	uint8_t one = 1;

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, R(0));
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &one, sizeof(one));
	e = x_new(rb, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_NFTRACE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, R(0));
}

static void x_th_u16(struct rb *rb, uint32_t off, uint16_t v)
{
	uint16_t be = htons(v);

	x_payload(rb, NFT_PAYLOAD_TRANSPORT_HEADER, off, 2, R(0));
	x_cmp(rb, R(0), NFT_CMP_EQ, &be, 2);
}

static void rule_trace(struct nft_batch *b, bool bridge, const struct nft_flow *f)
{
	bool v4 = f->daddr.family == AF_INET;
	bool icmp = f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6;
	uint8_t echo = v4 ? 8 : 128;
	struct rb rb = rule_new(b, bridge, NFT_TRACE_CHAIN);

	if (bridge)
		x_ethertype(&rb, v4 ? 0x0800 : 0x86dd);
	else
		x_nfproto(&rb, v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	x_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, v4 ? 16 : 24, v4 ? 4 : 16, R(0));
	x_cmp(&rb, R(0), NFT_CMP_EQ, f->daddr.b, v4 ? 4 : 16);
	x_l4proto(&rb, f->proto);
	if (icmp) {
		x_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, R(0));
		x_cmp(&rb, R(0), NFT_CMP_EQ, &echo, 1);
		x_th_u16(&rb, 4, f->icmp_id);
	}
	if (!icmp && f->sport)
		x_th_u16(&rb, 0, f->sport);
	if (!icmp && f->dport)
		x_th_u16(&rb, 2, f->dport);
	x_nftrace_set(&rb);
	rule_push(&rb, NFT_TRACE_COMMENT);
}

/* IPv6 finds the target's MAC first: its neighbour solicitation is traced too, or a flow
 * whose solicitations are dropped (ICC off) would show no packet at all. */
static void rule_trace_ns(struct nft_batch *b, bool bridge, const struct nft_flow *f)
{
	struct rb rb = rule_new(b, bridge, NFT_TRACE_CHAIN);
	uint8_t ns = 135;

	if (bridge)
		x_ethertype(&rb, 0x86dd);
	else
		x_nfproto(&rb, NFPROTO_IPV6);
	x_l4proto(&rb, IPPROTO_ICMPV6);
	x_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, R(0));
	x_cmp(&rb, R(0), NFT_CMP_EQ, &ns, 1);
	x_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 8, 16, R(0));
	x_cmp(&rb, R(0), NFT_CMP_EQ, f->daddr.b, 16);
	x_nftrace_set(&rb);
	rule_push(&rb, NFT_TRACE_COMMENT);
}

static void trace_chains_add(struct nft_batch *b)
{
	chain_add(b, false, NFT_TRACE_CHAIN, "filter", NF_INET_PRE_ROUTING, -400);
	chain_add(b, true, NFT_TRACE_CHAIN, "filter", NF_BR_PRE_ROUTING, -300);
}

void nft_batch_trace_add(struct nft_batch *b, const struct nft_flow *f)
{
	trace_chains_add(b);
	for (int bridge = 0; bridge < 2; bridge++) {
		rule_trace(b, bridge, f);
		if (f->daddr.family == AF_INET6)
			rule_trace_ns(b, bridge, f);
	}
}

static void chain_del(struct nft_batch *b, bool bridge, const char *name)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	_cleanup_free_ char *label = xasprintf("deleting chain %s", name);
	struct nlmsghdr *nlh;

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, bridge ? b->names.bridge : b->names.inet);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nlh = nft_batch_hdr(b, NFT_MSG_DELCHAIN, bridge ? NFPROTO_BRIDGE : NFPROTO_INET, 0);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	nft_batch_push(b, label);
}

static void chain_flush(struct nft_batch *b, bool bridge, const char *name)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	_cleanup_free_ char *label = xasprintf("flushing chain %s", name);
	struct nlmsghdr *nlh;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, bridge ? b->names.bridge : b->names.inet);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name);
	nlh = nft_batch_hdr(b, NFT_MSG_DELRULE, bridge ? NFPROTO_BRIDGE : NFPROTO_INET, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nft_batch_push(b, label);
}

/* Created first (an existing chain is left as it is), so the deletion works whether the chains
 * are there or not (a rebuild may have removed them already). */
void nft_batch_trace_del(struct nft_batch *b)
{
	trace_chains_add(b);
	for (int bridge = 0; bridge < 2; bridge++) {
		chain_flush(b, bridge, NFT_TRACE_CHAIN);
		chain_del(b, bridge, NFT_TRACE_CHAIN);
	}
}
