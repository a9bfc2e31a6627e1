/* SPDX-License-Identifier: Apache-2.0 */
/* The nftables tables berth owns, written through libnftnl + libmnl (the ONLY code that includes
 * them). Two tables: `inet berth` (publishing, NAT, isolation, exposure) and `bridge berth`
 * (anti-spoofing, inter-container communication). The rules are static; everything that changes
 * at run time is an element of a set or map, so an operation is one batch of element adds and
 * deletes whatever the number of ports or endpoints. A full rebuild (start-up, reload, self-heal)
 * deletes and recreates both tables in ONE transaction.
 *
 * Every message of a batch asks for an acknowledgement; a failed batch changes nothing and the
 * error names the element (its label) and carries the kernel's message. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cidr.h"
#include "common/error.h"

#define NFT_NAME_MAX 64
#define NFT_LABEL_MAX 160

/* Table names: "berth" unless $BERTH_NFT_TABLE / $BERTH_NFT_BRIDGE_TABLE say otherwise. */
struct nft_names {
	char inet[NFT_NAME_MAX];
	char bridge[NFT_NAME_MAX];
};
void nft_names_default(struct nft_names *ret);

enum nft_set_id {
	/* inet table */
	NFT_SET_BRIDGES,    /* ifname: every berth bridge */
	NFT_SET_INTERNAL,   /* ifname: bridges of --internal networks */
	NFT_SET_SAMEBR,     /* ifname . ifname: (br, br) of networks with ICC on */
	NFT_SET_MASQ4,      /* ifname: bridges whose IPv4 egress is masqueraded */
	NFT_SET_MASQ6,
	NFT_SET_ROUTED4,    /* ifname: bridges reachable from outside without NAT (routed mode) */
	NFT_SET_ROUTED6,
	NFT_MAP_PUB4,       /* ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service */
	NFT_MAP_PUB6,
	NFT_MAP_PUBW4,      /* inet_proto . inet_service : ipv4_addr . inet_service (any address) */
	NFT_MAP_PUBW6,
	NFT_SET_CTR4,       /* ipv4_addr: container addresses on berth bridges (hairpin masquerade) */
	NFT_SET_CTR6,       /* ipv6_addr */
	NFT_SET_VTEP4,      /* ipv4_addr: VTEPs of the cluster's members (VXLAN accepted from) */
	NFT_SET_VTEP6,      /* ipv6_addr */
	NFT_SET_VXPORT,     /* inet_service: the VXLAN data-path port (empty without a cluster) */
	NFT_SET_XBRIDGES,   /* ifname: extra bridges of spilled networks (no conntrack there) */
	/* bridge table */
	NFT_SET_BR_PORTS,   /* ifname: host ends of container veths */
	NFT_SET_BR_MAC,     /* ifname . ether_addr */
	NFT_SET_BR_IP4,     /* ifname . ipv4_addr */
	NFT_SET_BR_IP6,     /* ifname . ipv6_addr */
	NFT_SET_BR_NOICC,   /* ifname: host ends of veths (and trunks) on networks with ICC off */
	NFT_SET_BR_UPLINKS, /* ifname: trunk ends on extra bridges (the way to the gateway) */
	NFT_MAP_BR_REFLECT, /* ifname . ifname : ether_addr: (trunk, trunk) -> its bridge's MAC */
	NFT_SET_COUNT
};

const char *nft_set_name(enum nft_set_id id);
bool nft_set_is_bridge(enum nft_set_id id);

struct nft_elem {
	enum nft_set_id set;
	uint32_t key_len, data_len;
	uint8_t key[64];
	uint8_t data[32];
	bool excl;                      /* adding an existing key is an error (port maps) */
	char label[NFT_LABEL_MAX];      /* names the element in errors */
};

void nft_elem_ifname(struct nft_elem *e, enum nft_set_id set, const char *ifname);
void nft_elem_ifname_pair(struct nft_elem *e, enum nft_set_id set, const char *a, const char *b);
void nft_elem_ifname_mac(struct nft_elem *e, const char *ifname, const uint8_t mac[6]);
/* NFT_MAP_BR_REFLECT: (a, b) -> mac. */
void nft_elem_reflect(struct nft_elem *e, const char *a, const char *b, const uint8_t mac[6]);
/* NFT_SET_BR_IP4 or _IP6 by the address family. */
void nft_elem_ifname_ip(struct nft_elem *e, const char *ifname, const struct ipaddr *ip);
/* NFT_SET_CTR4 or _CTR6 by the address family. */
void nft_elem_ctr_ip(struct nft_elem *e, const struct ipaddr *ip);
/* NFT_SET_VTEP4 or _VTEP6 by the address family. */
void nft_elem_vtep(struct nft_elem *e, const struct ipaddr *ip);
void nft_elem_vxport(struct nft_elem *e, uint16_t port);
/* A published port: host (family 0 = every address of `family`) proto port -> to:to_port. */
void nft_elem_port(struct nft_elem *e, int family, const struct ipaddr *host, uint8_t proto,
		   uint16_t port, const struct ipaddr *to, uint16_t to_port);

/* ---- batches ---- */
struct nft_batch;
struct nft_batch *nft_batch_new(const struct nft_names *names);
void nft_batch_free(struct nft_batch *b);
void nft_batch_freep(struct nft_batch **b);
/* Delete (if present) and recreate both tables with every set, chain and rule, empty sets. */
void nft_batch_rebuild(struct nft_batch *b);
/* Delete both tables (absent tables are fine). */
void nft_batch_delete_tables(struct nft_batch *b);
void nft_batch_elem(struct nft_batch *b, bool add, const struct nft_elem *e);
/* Number of messages between the batch begin and end. */
size_t nft_batch_count(const struct nft_batch *b);
/* The wire bytes (batch begin ... batch end), for tests. */
const void *nft_batch_data(struct nft_batch *b, size_t *ret_len);

/* ---- the socket ---- */
struct nft_conn;
int nft_conn_open(struct nft_conn **ret, struct berr *err);
void nft_conn_close(struct nft_conn *c);
uint32_t nft_conn_portid(const struct nft_conn *c);
/* Sends the batch, reads one acknowledgement per message. */
int nft_batch_commit(struct nft_conn *c, struct nft_batch *b, struct berr *err);
/* Both tables exist. */
int nft_tables_exist(struct nft_conn *c, const struct nft_names *names, bool *ret,
		     struct berr *err);

/* ---- monitor of nftables events (NFNLGRP_NFTABLES) ---- */
int nft_monitor_open(int *ret_fd, struct berr *err);
/* Drains the socket. Returns 1 when a change not made by own_portid touched our tables (or the
 * socket overflowed: call nft_tables_exist), 2 on overflow, 0 otherwise, -errno on error. */
int nft_monitor_read(int fd, const struct nft_names *names, uint32_t own_portid);

/* ---- conntrack ---- */
/* Deletes the conntrack entries whose original destination is (daddr or any, proto, port). */
int nft_ct_flush_port(int family, uint8_t proto, const struct ipaddr *daddr, uint16_t port,
		      struct berr *err);

/* ---- host ports ---- */
/* Whether a socket of the calling thread's netns holds proto/port on ip (family 0 = any address
 * of `family`): 1 with a description ("process nc (pid 42)"), 0 when free, -errno. */
int nft_hostport_holder(int family, const struct ipaddr *ip, uint8_t proto, uint16_t port,
			char *ret_desc, size_t size);

/* ---- what the rules of berth's tables are for ----
 * Every rule carries its description as its comment (`nft list` shows it); an explanation of a
 * trace maps the comment of the rule that decided back to one of these. */
enum nft_rule_kind {
	NFT_RULE_OTHER,          /* a jump, NAT, or not one of berth's rules */
	NFT_RULE_LOOPBACK,       /* a loopback destination arriving from outside */
	NFT_RULE_DNAT,           /* a published port: destination rewritten to a container */
	NFT_RULE_ESTABLISHED,    /* accept: a connection already accepted */
	NFT_RULE_ICC,            /* accept: both ends on the same network (ICC on) */
	NFT_RULE_INTERNAL_IN,    /* drop: into an internal network from outside it */
	NFT_RULE_PUBLISHED,      /* accept: to a published port */
	NFT_RULE_ISOLATION,      /* drop: between two networks */
	NFT_RULE_ROUTED,         /* accept: into a network in routed mode */
	NFT_RULE_UNEXPOSED,      /* drop: container addresses are not reachable from outside */
	NFT_RULE_INTERNAL_OUT,   /* drop: out of an internal network */
	NFT_RULE_SPOOF,          /* drop: a source MAC or address not the container's own */
	NFT_RULE_GUARD,          /* drop: redirects, router advertisements, foreign NAs */
	NFT_RULE_NOICC,          /* drop: inter-container communication off on the network */
	NFT_RULE_TRACE,          /* the temporary rule that marks a traced flow */
};
enum nft_rule_kind nft_rule_kind(const char *comment);

/* ---- tracing one flow (nft/trace.c; the rule is built in nft/skeleton.c) ----
 * A chain NFT_TRACE_CHAIN hooked at prerouting before every other chain of each table (inet
 * -400, bridge -300) holds a rule that sets `meta nftrace` on the packets of one flow (and,
 * for IPv6, one for the neighbour solicitations for its destination); the
 * kernel then reports every rule and chain policy those packets meet (NFNLGRP_NFTRACE). The
 * chains live in berth's own tables, so any rebuild (start-up after a crash, reload,
 * self-healing) removes a leftover. */
#define NFT_TRACE_CHAIN "probe_trace"
#define NFT_TRACE_COMMENT "probe trace: meta nftrace set 1"
struct nft_flow {
	struct ipaddr daddr;       /* its family is the flow's */
	uint8_t proto;             /* IPPROTO_TCP, _UDP, _ICMP or _ICMPV6 (echo requests) */
	uint16_t sport, dport;     /* TCP, UDP; 0 = any */
	uint16_t icmp_id;          /* echo identifier */
};
void nft_batch_trace_add(struct nft_batch *b, const struct nft_flow *f);
/* Removes both chains; absent chains are fine. */
void nft_batch_trace_del(struct nft_batch *b);

struct nft_trace_event {
	uint32_t id;               /* the same for every event of one packet */
	uint32_t type;             /* NFT_TRACETYPE_RULE, _POLICY or _RETURN */
	int family;                /* of the table: NFPROTO_INET, NFPROTO_BRIDGE, ... */
	char table[NFT_NAME_MAX];
	char chain[NFT_NAME_MAX];
	uint64_t handle;           /* of the rule (0: a chain policy or return) */
	int verdict;               /* NF_ACCEPT, NF_DROP, NFT_CONTINUE, NFT_JUMP, NFT_GOTO, ... */
	bool has_verdict;
	char target[NFT_NAME_MAX]; /* chain jumped to */
	uint32_t iif, oif;         /* interface indexes, 0 when unknown */
	uint8_t nh[40];            /* the start of the network header (0 bytes: the event is about
				    * the packet of the event before it) */
	uint32_t nh_len;
	uint8_t th[16];            /* the start of the transport header */
	uint32_t th_len;
};
/* A socket subscribed to trace events (non-blocking). */
int nft_trace_open(int *ret_fd, struct berr *err);
/* One NFT_MSG_TRACE message: 0, or -EINVAL when it is not one. */
int nft_trace_parse(const void *msg, size_t len, struct nft_trace_event *ret);
/* Every event queued on fd, appended to *v (grown; *n counts them, at most max in all). */
int nft_trace_read(int fd, struct nft_trace_event **v, size_t *n, size_t max, struct berr *err);

/* The rules of berth's two tables with their comments. */
struct nft_rule_info {
	int family;                /* NFPROTO_INET or NFPROTO_BRIDGE */
	char chain[NFT_NAME_MAX];
	uint64_t handle;
	char comment[NFT_LABEL_MAX];
};
int nft_rules_list(const struct nft_names *names, struct nft_rule_info **ret, size_t *ret_n,
		   struct berr *err);
