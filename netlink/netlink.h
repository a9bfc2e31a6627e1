/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel network configuration. This module is the ONLY one that includes libnl; nothing of libnl
 * (types, NLE_* codes) leaks out. Every request asks for an ACK; failures return -errno with the
 * kernel's extended-ack text in err. Every operation is idempotent: creating what exists (with the
 * same kind) succeeds, deleting what is gone succeeds. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cidr.h"
#include "common/error.h"
#include "common/names.h"

/* A netlink route socket bound to one network namespace (the namespace current when it was
 * opened, or the one of netns_fd). */
struct nlx;

/* netns_fd < 0: the calling thread's current namespace. */
int nlx_open(int netns_fd, struct nlx **ret, struct berr *err);
void nlx_close(struct nlx *nl);
/* For _cleanup_(nlx_closep). */
void nlx_closep(struct nlx **nl);

/* ---- links ---- */
/* ifindex > 0, 0 when absent, -errno on failure. */
int nlx_link_index(struct nlx *nl, const char *name, struct berr *err);
/* Bridge: created down with the MTU (0 = default) and an optional MAC, then set up.
 * An existing link of that name that is not a bridge: -EEXIST with a message. */
int nlx_bridge_create(struct nlx *nl, const char *name, int mtu, struct berr *err);
/* veth pair: `name` in nl's namespace, `peer_name` created directly in peer_netns_fd (no move),
 * with MAC peer_mac (NULL = kernel's), mtu (0 = default). The host end is attached to `master`
 * (NULL = none) and set up; the peer is left down. If `name` already exists as a veth, succeeds. */
#define NLX_VETH_PORT_ONLY 1u   /* host end: IPv6 disabled before it goes up */
int nlx_veth_create(struct nlx *nl, const char *name, const char *master, int peer_netns_fd,
		    const char *peer_name, const uint8_t peer_mac[6], int mtu, unsigned flags,
		    struct berr *err);
int nlx_link_delete(struct nlx *nl, const char *name, struct berr *err);
/* Deferred deletion. Deleting a link makes the kernel wait for an RCU grace period (~15 ms here)
 * before it answers; a link that only has to stop mattering is retired instead: nlx_link_doom
 * takes `name` off its master, sets it down and puts it in group NLX_GROUP_DOOMED (missing:
 * success); nlx_link_reap deletes every link of that group in one request, one grace period for
 * all of them (none: success). Creating a bridge or veth whose name a retired link holds deletes
 * that link first. */
#define NLX_GROUP_DOOMED 0x62657274u   /* "bert" */
int nlx_link_doom(struct nlx *nl, const char *name, struct berr *err);
int nlx_link_reap(struct nlx *nl, struct berr *err);
int nlx_link_set_up(struct nlx *nl, const char *name, bool up, struct berr *err);
int nlx_link_set_mtu(struct nlx *nl, const char *name, int mtu, struct berr *err);
/* One netlink message (no /proc/sys: its lookups slow down as namespaces multiply): IPv4
 * arp_notify=1 and, with no_ipv6, no IPv6 address generation (no link-local, DAD or MLD). */
int nlx_link_set_ipconf(struct nlx *nl, const char *name, bool no_ipv6, struct berr *err);
/* Networks over several bridges (netlink/trunk.c). A bridge that only switches: no address,
 * IPv6 off, the host answering no ARP on it; otherwise as nlx_bridge_create. */
int nlx_bridge_create_l2(struct nlx *nl, const char *name, int mtu, struct berr *err);
/* Make link `name` of nl's namespace a port of bridge `master`, IPv6 off, up. */
int nlx_port_attach(struct nlx *nl, const char *name, const char *master, struct berr *err);
/* Bridge port `name` answers nothing itself but makes its bridge answer ARP requests for the
 * addresses behind it (IFLA_BRPORT_NEIGH_SUPPRESS): a request from another port for an address
 * whose neighbour entry is on the bridge device and whose MAC the bridge forwards to this port
 * is answered by the bridge, and one the bridge knows the answer to is not sent out of it. */
int nlx_port_neigh_suppress(struct nlx *nl, const char *name, struct berr *err);
/* Every link of nl's namespace: name, ifindex, master's ifindex (0: none); *ret malloc'd. */
struct nlx_link_entry {
	char name[IFNAME_LEN];
	int ifindex, master;
};
int nlx_link_dump(struct nlx *nl, struct nlx_link_entry **ret, size_t *ret_n, struct berr *err);
/* Names of all links whose name starts with prefix (e.g. "bv" for berth veths, "br-").
 * *ret is a malloc'd array of n entries. */
int nlx_link_list_prefix(struct nlx *nl, const char *prefix, char (**ret)[IFNAME_LEN],
			 size_t *ret_n, struct berr *err);

/* ---- addresses ---- */
/* addr->prefix is the prefix length; host bits are the address. nodad: IFA_F_NODAD for IPv6.
 * Adding an existing address succeeds. */
int nlx_addr_add(struct nlx *nl, const char *ifname, const struct cidr *addr, bool nodad,
		 struct berr *err);
int nlx_addr_del(struct nlx *nl, const char *ifname, const struct cidr *addr, struct berr *err);
/* 1 when ifname holds addr (same address and prefix length), 0 when not or when ifname does not
 * exist, -errno. */
int nlx_addr_has(struct nlx *nl, const char *ifname, const struct cidr *addr, struct berr *err);

/* ---- routes (main table) ---- */
/* Replace the default route of `family` with one via gw out of ifname. */
int nlx_route_default_set(struct nlx *nl, int family, const struct ipaddr *gw, const char *ifname,
			  struct berr *err);
/* Remove the default route of `family` (absent: success). */
int nlx_route_default_del(struct nlx *nl, int family, struct berr *err);
/* Destination prefixes of every route of `family` in the main table except the default route:
 * used to skip default pools that the host already routes. */
int nlx_route_list(struct nlx *nl, int family, struct cidr **ret, size_t *ret_n, struct berr *err);

/* One route of the main table. */
struct nlx_route {
	struct cidr dst;           /* prefix 0: the default route */
	struct ipaddr gw;          /* family 0: none (on link) */
	int oif;                   /* outgoing ifindex, 0: none (multipath, blackhole) */
	bool unicast;              /* RTN_UNICAST (not blackhole, unreachable...) */
};
/* Every route of `family` in the main table, the default route included (not cached clones):
 * *ret malloc'd, n entries. */
int nlx_route_dump(struct nlx *nl, int family, struct nlx_route **ret, size_t *ret_n,
		   struct berr *err);

/* ---- sysctl (of the calling thread's network namespace) ---- */
/* key like "net/ipv4/ip_forward" or "net.ipv4.ip_forward". */
int sysctl_write(const char *key, const char *value, struct berr *err);
int sysctl_read(const char *key, char *buf, size_t size, struct berr *err);

/* ---- namespaces ---- */
/* Runs fn(arg, err) inside the network namespace of netns_fd and returns what it returned
 * (-errno with a message if the namespace cannot be entered). The calling thread never changes
 * namespace: fn runs on berth's namespace worker, a thread that does nothing else (it enters,
 * runs fn, goes back; if it cannot go back it ends and the next call gets a new worker), one call
 * at a time; a call made from inside fn runs on a thread made for it. fn must be short and must
 * not wait for another thread that may call netns_run. Sockets fn creates stay in that namespace
 * (this is how a netlink or DNS socket is placed in a container); /proc/thread-self and
 * /proc/sys/net seen by fn are the namespace's. */
int netns_run(int netns_fd, int (*fn)(void *arg, struct berr *err), void *arg, struct berr *err);
/* Runs fn in a new network namespace that nothing keeps: it vanishes with everything fn made
 * there (a probe of what the kernel supports, without touching any real namespace). */
int netns_run_scratch(int (*fn)(void *arg, struct berr *err), void *arg, struct berr *err);
/* Create a new network namespace bind-mounted at path (the file is created; the parent
 * directory must exist). Loopback is set up inside. Existing mount at path: success. */
int netns_create(const char *path, struct berr *err);
/* Unmount and remove; missing: success. */
int netns_delete(const char *path, struct berr *err);
/* 0 when path is a network namespace (a nsfs file: /proc/PID/ns/net or a bind mount of one),
 * with *ret_ino (may be NULL) its inode, which names the namespace; -EINVAL when it is another
 * kind of file, -errno when it cannot be opened. */
int netns_path_check(const char *path, uint64_t *ret_ino, struct berr *err);
/* Bind-mount the network namespace at src (checked as above) on path, the file created; path
 * holding src's namespace already: success; another one: -EEXIST. */
int netns_bind_path(const char *src, const char *path, struct berr *err);
/* Bind-mount the net namespace of pid at path (to adopt a namespace). */
int netns_bind_pid(pid_t pid, const char *path, struct berr *err);

/* ---- macvlan and 802.1q links (netlink/macvlan.c) ---- */
struct nlx_link_state {
	int ifindex;
	unsigned flags;            /* ifi_flags (IFF_UP, IFF_LOWER_UP...) */
	int mtu;
	uint8_t mac[6];            /* all zero when the link has no Ethernet address */
	char kind[32];             /* IFLA_INFO_KIND, "" for none */
	uint32_t group;            /* IFLA_GROUP (NLX_GROUP_DOOMED: retired) */
};
/* ifindex > 0 with *ret filled, 0 when absent (*ret zeroed), -errno. */
int nlx_link_state_get(struct nlx *nl, const char *name, struct nlx_link_state *ret,
		       struct berr *err);
/* A macvlan on parent_ifindex (a link of nl's namespace) in mode "bridge", "private", "vepa" or
 * "passthru", created down and directly in netns_fd (< 0: nl's namespace), with MAC mac (NULL =
 * random) and mtu (0 = the parent's). An existing macvlan of that name in nl's namespace:
 * success; in another namespace: -EEXIST. */
int nlx_macvlan_create(struct nlx *nl, int parent_ifindex, const char *name, const char *mode,
		       int netns_fd, const uint8_t mac[6], int mtu, struct berr *err);
/* 802.1q sub-interface `name` of `parent` with VLAN ID vid, set up. An existing VLAN link of
 * that name: success. A kernel without 802.1q: -EOPNOTSUPP with a message saying so. */
int nlx_vlan_create(struct nlx *nl, const char *parent, const char *name, int vid,
		    struct berr *err);

/* ---- VXLAN devices (netlink/vxlan.c) ---- */
/* One VXLAN tunnel endpoint of an overlay network: static forwarding only (learning off), ARP
 * requests and IPv6 neighbour solicitations answered by the device itself from the neighbour
 * entries of nlx_neigh_add() (proxy on), so neither crosses the underlay. */
#define NLX_VXLAN_PORT 4789          /* IANA; the kernel's own default is 8472 */
#define NLX_VXLAN_L2MISS 1u          /* RTM_GETNEIGH notification for an unknown MAC */
#define NLX_VXLAN_L3MISS 2u          /* ... for an IP without a neighbour entry */
struct nlx_vxlan {
	const char *name;
	uint32_t vni;              /* 0..16777215 */
	struct ipaddr local;       /* VTEP address, IPv4 or IPv6; family 0: none (IPv4 tunnel,
				    * source address chosen by routing) */
	uint16_t port;             /* UDP destination port; 0: NLX_VXLAN_PORT */
	int underlay;              /* ifindex of the underlay interface, 0: none (routing picks
				    * the way out). NB: deleting that interface deletes the
				    * VXLAN device too (the kernel's rule) */
	int mtu;                   /* 0: underlay's MTU - 50 (IPv4) / - 70 (IPv6) when underlay
				    * is set, else the kernel's 1500: without an underlay, pass
				    * nlx_vxlan_mtu() of nlx_vxlan_underlay()'s MTU */
	const char *master;        /* bridge to attach it to, NULL: none */
	unsigned flags;            /* NLX_VXLAN_L2MISS | NLX_VXLAN_L3MISS */
};
/* Create the device (IPv6 address generation off: no link-local, DAD or MLD of its own),
 * attach it to cfg->master and set it up; a failure leaves nothing behind. An existing VXLAN
 * device of that name with the same VNI, port, local address, underlay and flags: success, and
 * it is attached to cfg->master, given cfg->mtu (when set) and set up. An existing link of that
 * name that differs (or is not a VXLAN device): -EEXIST naming the difference. Another VXLAN
 * device with the same VNI and port: -EEXIST with the kernel's message. */
int nlx_vxlan_create(struct nlx *nl, const struct nlx_vxlan *cfg, struct berr *err);
/* MTU of a VXLAN device over an underlay of MTU underlay_mtu: minus 50 bytes of outer headers
 * (Ethernet 14, VXLAN 8, UDP 8, IPv4 20) over IPv4, minus 70 over IPv6 (IPv6 header 40). */
int nlx_vxlan_mtu(int underlay_mtu, int family);
/* The interface of nl's namespace that holds `local` (e.g. --advertise-addr): its ifindex
 * (> 0) with *ret_mtu its MTU (optional), 0 when no interface holds it, -errno. */
int nlx_vxlan_underlay(struct nlx *nl, const struct ipaddr *local, int *ret_mtu,
		       struct berr *err);

/* ---- forwarding (FDB) and neighbour entries (netlink/neigh.c) ---- */
/* Static entries for remote endpoints, on the device `ifindex` (resolve it once with
 * nlx_link_index). All of them are NUD_PERMANENT. Adding what exists succeeds (an entry that
 * differs is replaced); deleting what is missing (or whose device is gone) succeeds. */
struct nlx_fdb_entry {
	uint8_t mac[6];            /* all zero: a flood entry */
	struct ipaddr vtep;        /* remote VTEP; family 0: none */
	bool permanent;
};
struct nlx_neigh_entry {
	struct ipaddr ip;
	uint8_t mac[6];            /* all zero when the entry has none (incomplete, failed) */
	bool permanent;
};
/* VXLAN forwarding entry MAC -> remote VTEP (the VXLAN device's own table, "self"). The VTEP
 * must be of the device's underlay family. A unicast MAC has one VTEP (adding another moves
 * it). mac NULL or all zero: the flood list, where broadcast, multicast and unknown unicast
 * frames are copied to every VTEP listed; each call appends one VTEP. */
int nlx_fdb_add(struct nlx *nl, int ifindex, const uint8_t mac[6], const struct ipaddr *vtep,
		struct berr *err);
/* vtep NULL: the entry of that MAC whatever its VTEP (for the flood list: all of it); else
 * only MAC -> vtep (an entry pointing elsewhere stays). */
int nlx_fdb_del(struct nlx *nl, int ifindex, const uint8_t mac[6], const struct ipaddr *vtep,
		struct berr *err);
/* The device's own forwarding entries, one per (MAC, VTEP): *ret is a malloc'd array. */
int nlx_fdb_list(struct nlx *nl, int ifindex, struct nlx_fdb_entry **ret, size_t *ret_n,
		 struct berr *err);
/* A bridge's own forwarding entry MAC -> its port port_ifindex, externally learnt (not aged
 * out; learning may still move it); deleting one that is gone or points to another port
 * succeeds. */
int nlx_bridge_fdb_add(struct nlx *nl, int port_ifindex, const uint8_t mac[6], struct berr *err);
int nlx_bridge_fdb_del(struct nlx *nl, int port_ifindex, const uint8_t mac[6], struct berr *err);
/* Neighbour entry ip -> mac on the device (IPv4: ARP table, IPv6: ND table). */
int nlx_neigh_add(struct nlx *nl, int ifindex, const struct ipaddr *ip, const uint8_t mac[6],
		  struct berr *err);
int nlx_neigh_del(struct nlx *nl, int ifindex, const struct ipaddr *ip, struct berr *err);
/* Neighbour entries of the device, of `family` (AF_INET, AF_INET6, 0: both), every state
 * (entries the kernel made itself are not permanent: a reconciliation compares permanent ones):
 * *ret is a malloc'd array. */
int nlx_neigh_list(struct nlx *nl, int ifindex, int family, struct nlx_neigh_entry **ret,
		   size_t *ret_n, struct berr *err);

/* ---- encryption support (netlink/crypto.c) ---- */
/* Whether the kernel can create a WireGuard device and an IPsec ESP security association, each
 * tried in a scratch namespace (nothing real is touched); *_why holds the kernel's answer when
 * it cannot. Fails only when the probe itself cannot run. */
struct nlx_crypto {
	bool wireguard, esp;
	char wireguard_why[200], esp_why[200];
};
int nlx_crypto_probe(struct nlx_crypto *ret, struct berr *err);
