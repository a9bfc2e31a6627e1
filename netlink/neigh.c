/* SPDX-License-Identifier: Apache-2.0 */
/* Static forwarding entries of VXLAN devices (MAC -> remote VTEP, and the flood list) and
 * static neighbour entries (IP -> MAC): add, delete, list. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "common/util.h"

static const uint8_t mac_zero[6];

static int ip_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool ip_family_ok(const struct ipaddr *ip)
{
	return ip && (ip->family == AF_INET || ip->family == AF_INET6);
}

/* An RTM_*NEIGH message on ifindex with an optional MAC and address. */
static struct nl_msg *neigh_msg(int type, int flags, const struct ndmsg *ndm,
				const uint8_t *mac, const struct ipaddr *ip)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
	int r;

	if (!msg)
		return NULL;
	r = nlmsg_append(msg, (void *)ndm, sizeof(*ndm), NLMSG_ALIGNTO);
	if (r >= 0 && mac)
		r = nla_put(msg, NDA_LLADDR, 6, mac);
	if (r >= 0 && ip)
		r = nla_put(msg, NDA_DST, ip_len(ip->family), ip->b);
	if (r < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* "02:42:ac:11:00:02 -> 192.0.2.2 on ifindex 7" (the flood list reads "flood"). */
static const char *fdb_what(int ifindex, const uint8_t *mac, const struct ipaddr *vtep,
			    char *buf, size_t size)
{
	char m[18], ip[IP_STRLEN];

	if (memcmp(mac, mac_zero, 6) == 0)
		strscpy(m, "flood", sizeof(m));
	else
		mac_fmt(mac, m);
	snprintf(buf, size, "%s -> %s on ifindex %d", m,
		 ip_family_ok(vtep) ? ip_fmt(vtep, ip) : "any VTEP", ifindex);
	return buf;
}

/* ---- forwarding entries ---- */

int nlx_fdb_add(struct nlx *nl, int ifindex, const uint8_t mac[6], const struct ipaddr *vtep,
		struct berr *err)
{
	struct ndmsg ndm = {
		.ndm_family = AF_BRIDGE,
		.ndm_ifindex = ifindex,
		.ndm_state = NUD_PERMANENT,
		.ndm_flags = NTF_SELF,
	};
	char what[96];
	struct nl_msg *msg;
	int flags, r;

	mac = mac ? mac : mac_zero;
	fdb_what(ifindex, mac, vtep, what, sizeof(what));
	if (!ip_family_ok(vtep))
		return berr_set(err, -EAFNOSUPPORT, "adding forwarding entry %s: the VTEP is not "
				"an IPv4 or IPv6 address", what);
	/* A group MAC (the all-zero flood entry, multicast) lists several VTEPs: append one
	 * (present already: a no-op). A unicast MAC has one VTEP: replace it. */
	flags = NLM_F_CREATE;
	flags |= (mac[0] & 1) || memcmp(mac, mac_zero, 6) == 0 ? NLM_F_APPEND : NLM_F_REPLACE;
	msg = neigh_msg(RTM_NEWNEIGH, flags, &ndm, mac, vtep);
	if (!msg)
		return berr_set(err, -ENOMEM, "adding forwarding entry %s: out of memory", what);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r == -EAFNOSUPPORT)
		return berr_set(err, r, "adding forwarding entry %s: the VTEP is not of the "
				"address family of the device's underlay (its local address)", what);
	if (r < 0)
		return nlx_fail(nl, r, err, "adding forwarding entry %s", what);
	return 0;
}

int nlx_fdb_del(struct nlx *nl, int ifindex, const uint8_t mac[6], const struct ipaddr *vtep,
		struct berr *err)
{
	struct ndmsg ndm = {
		.ndm_family = AF_BRIDGE,
		.ndm_ifindex = ifindex,
		.ndm_flags = NTF_SELF,
	};
	char what[96];
	struct nl_msg *msg;
	int r;

	mac = mac ? mac : mac_zero;
	fdb_what(ifindex, mac, vtep, what, sizeof(what));
	if (vtep && !ip_family_ok(vtep))
		return berr_set(err, -EAFNOSUPPORT, "deleting forwarding entry %s: the VTEP is "
				"not an IPv4 or IPv6 address", what);
	msg = neigh_msg(RTM_DELNEIGH, 0, &ndm, mac, vtep);
	if (!msg)
		return berr_set(err, -ENOMEM, "deleting forwarding entry %s: out of memory", what);
	r = nlx_talk(nl, msg, NULL, NULL);
	/* ENOENT: no entry for the MAC; ENODEV: the device is gone, and its entries with it. */
	if (r < 0 && r != -ENOENT && r != -ENODEV)
		return nlx_fail(nl, r, err, "deleting forwarding entry %s", what);
	return 0;
}

/* A bridge's forwarding entry MAC -> its port port_ifindex, externally learnt: never aged out,
 * moved by learning like any entry, and not "static". The kernel copies each static entry's MAC
 * into every port's unicast address list (fdb_add_hw_addr, a walk over all ports on each add and
 * delete, and over all static entries on each port added): at 1,000 ports and 4,000 entries per
 * bridge that walk was a quarter of an attach's time in berthd. */
int nlx_bridge_fdb_add(struct nlx *nl, int port_ifindex, const uint8_t mac[6], struct berr *err)
{
	struct ndmsg ndm = {
		.ndm_family = AF_BRIDGE,
		.ndm_ifindex = port_ifindex,
		.ndm_state = NUD_NOARP,
		.ndm_flags = NTF_MASTER | NTF_EXT_LEARNED,
	};
	struct nl_msg *msg = neigh_msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, &ndm, mac, NULL);
	char m[18];
	int r;

	mac_fmt(mac, m);
	if (!msg)
		return berr_set(err, -ENOMEM, "adding bridge forwarding entry %s: out of memory",
				m);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0)
		return nlx_fail(nl, r, err, "adding bridge forwarding entry %s -> ifindex %d", m,
				port_ifindex);
	return 0;
}

int nlx_bridge_fdb_del(struct nlx *nl, int port_ifindex, const uint8_t mac[6], struct berr *err)
{
	struct ndmsg ndm = {
		.ndm_family = AF_BRIDGE,
		.ndm_ifindex = port_ifindex,
		.ndm_flags = NTF_MASTER,
	};
	struct nl_msg *msg = neigh_msg(RTM_DELNEIGH, 0, &ndm, mac, NULL);
	char m[18];
	int r;

	mac_fmt(mac, m);
	if (!msg)
		return berr_set(err, -ENOMEM, "deleting bridge forwarding entry %s: out of memory",
				m);
	r = nlx_talk(nl, msg, NULL, NULL);
	/* ENOENT: none (or it moved to another port); ENODEV: the port is gone, and its entries */
	if (r < 0 && r != -ENOENT && r != -ENODEV)
		return nlx_fail(nl, r, err, "deleting bridge forwarding entry %s -> ifindex %d", m,
				port_ifindex);
	return 0;
}

/* ---- dumps ---- */

struct neigh_dump {
	int ifindex;
	bool fdb;                    /* forwarding entries, else neighbours */
	void *items;                 /* struct nlx_fdb_entry or struct nlx_neigh_entry */
	size_t n, cap, size;
};

static void *neigh_dump_slot(struct neigh_dump *d)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->items = xrealloc(d->items, d->cap * d->size);
	}
	memset((char *)d->items + d->n * d->size, 0, d->size);
	return (char *)d->items + d->n++ * d->size;
}

static void attr_ip(struct nlattr *a, struct ipaddr *ret)
{
	if (a && (nla_len(a) == 4 || nla_len(a) == 16)) {
		ret->family = nla_len(a) == 4 ? AF_INET : AF_INET6;
		memcpy(ret->b, nla_data(a), nla_len(a));
	}
}

static void attr_mac(struct nlattr *a, uint8_t ret[6])
{
	if (a && nla_len(a) == 6)
		memcpy(ret, nla_data(a), 6);
}

/* A forwarding entry of the device itself (NTF_SELF): the bridge's entries for the same port,
 * which come in the same dump without that flag, are left out. */
static void fdb_entry_take(struct neigh_dump *d, const struct ndmsg *ndm, struct nlattr **tb)
{
	struct nlx_fdb_entry *e;

	if (ndm->ndm_family != AF_BRIDGE || !(ndm->ndm_flags & NTF_SELF) || !tb[NDA_LLADDR])
		return;
	e = neigh_dump_slot(d);
	attr_mac(tb[NDA_LLADDR], e->mac);
	attr_ip(tb[NDA_DST], &e->vtep);
	e->permanent = ndm->ndm_state & NUD_PERMANENT;
}

static void neigh_entry_take(struct neigh_dump *d, const struct ndmsg *ndm, struct nlattr **tb)
{
	struct nlx_neigh_entry *e;

	if ((ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) ||
	    (ndm->ndm_flags & NTF_PROXY) || !tb[NDA_DST])
		return;
	e = neigh_dump_slot(d);
	attr_ip(tb[NDA_DST], &e->ip);
	attr_mac(tb[NDA_LLADDR], e->mac);
	e->permanent = ndm->ndm_state & NUD_PERMANENT;
}

static int neigh_dump_cb(struct nl_msg *msg, void *arg)
{
	struct neigh_dump *d = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *tb[NDA_MAX + 1];
	struct ndmsg *ndm;

	if (hdr->nlmsg_type != RTM_NEWNEIGH || !nlmsg_valid_hdr(hdr, sizeof(*ndm)) ||
	    nlmsg_parse(hdr, sizeof(*ndm), tb, NDA_MAX, NULL) < 0)
		return NL_SKIP;
	ndm = nlmsg_data(hdr);
	if (ndm->ndm_ifindex != d->ifindex)
		return NL_OK;
	if (d->fdb)
		fdb_entry_take(d, ndm, tb);
	else
		neigh_entry_take(d, ndm, tb);
	return NL_OK;
}

/* Forwarding entries: an ifinfomsg header naming the port makes the kernel dump only that
 * device's entries (the legacy filter, honoured without strict checking). Neighbours: the
 * NDA_IFINDEX attribute does the same. */
static struct nl_msg *neigh_dump_msg(const struct neigh_dump *d, int family)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = d->ifindex };
	struct ndmsg ndm = { .ndm_family = family };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNEIGH, NLM_F_DUMP);
	int r;

	if (!msg)
		return NULL;
	if (d->fdb)
		r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	else
		r = nlmsg_append(msg, &ndm, sizeof(ndm), NLMSG_ALIGNTO);
	if (r >= 0 && !d->fdb)
		r = nla_put_u32(msg, NDA_IFINDEX, (uint32_t)d->ifindex);
	if (r < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int neigh_dump(struct nlx *nl, struct neigh_dump *d, int family)
{
	struct nl_msg *msg;
	int r, tries = 0;

	do {   /* a dump interrupted by a change (-EINTR) is repeated */
		d->n = 0;
		msg = neigh_dump_msg(d, family);
		if (!msg)
			return -ENOMEM;
		r = nlx_talk(nl, msg, neigh_dump_cb, d);
	} while (r == -EINTR && ++tries < 5);
	return r;
}

int nlx_fdb_list(struct nlx *nl, int ifindex, struct nlx_fdb_entry **ret, size_t *ret_n,
		 struct berr *err)
{
	struct neigh_dump d = { .ifindex = ifindex, .fdb = true, .size = sizeof(**ret) };
	int r = neigh_dump(nl, &d, AF_BRIDGE);

	if (r < 0) {
		free(d.items);
		return nlx_fail(nl, r, err, "listing the forwarding entries of ifindex %d",
				ifindex);
	}
	*ret = d.items;
	*ret_n = d.n;
	return 0;
}

/* ---- neighbour entries ---- */

static const char *neigh_what(int ifindex, const struct ipaddr *ip, char *buf, size_t size)
{
	char a[IP_STRLEN];

	snprintf(buf, size, "%s on ifindex %d", ip_family_ok(ip) ? ip_fmt(ip, a) : "?", ifindex);
	return buf;
}

int nlx_neigh_add(struct nlx *nl, int ifindex, const struct ipaddr *ip, const uint8_t mac[6],
		  struct berr *err)
{
	struct ndmsg ndm = {
		.ndm_ifindex = ifindex,
		.ndm_state = NUD_PERMANENT,
	};
	char what[80], m[18];
	struct nl_msg *msg;
	int r;

	neigh_what(ifindex, ip, what, sizeof(what));
	if (!ip_family_ok(ip) || !mac)
		return berr_set(err, -EINVAL, "adding neighbour %s: needs an IPv4 or IPv6 address "
				"and a MAC", what);
	ndm.ndm_family = ip->family;
	msg = neigh_msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, &ndm, mac, ip);
	if (!msg)
		return berr_set(err, -ENOMEM, "adding neighbour %s: out of memory", what);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0) {
		mac_fmt(mac, m);
		return nlx_fail(nl, r, err, "adding neighbour %s -> %s", what, m);
	}
	return 0;
}

int nlx_neigh_del(struct nlx *nl, int ifindex, const struct ipaddr *ip, struct berr *err)
{
	struct ndmsg ndm = { .ndm_ifindex = ifindex };
	struct nl_msg *msg;
	char what[80];
	int r;

	neigh_what(ifindex, ip, what, sizeof(what));
	if (!ip_family_ok(ip))
		return berr_set(err, -EINVAL, "deleting neighbour %s: needs an IPv4 or IPv6 "
				"address", what);
	ndm.ndm_family = ip->family;
	msg = neigh_msg(RTM_DELNEIGH, 0, &ndm, NULL, ip);
	if (!msg)
		return berr_set(err, -ENOMEM, "deleting neighbour %s: out of memory", what);
	r = nlx_talk(nl, msg, NULL, NULL);
	if (r < 0 && r != -ENOENT && r != -ENODEV)
		return nlx_fail(nl, r, err, "deleting neighbour %s", what);
	return 0;
}

int nlx_neigh_list(struct nlx *nl, int ifindex, int family, struct nlx_neigh_entry **ret,
		   size_t *ret_n, struct berr *err)
{
	struct neigh_dump d = { .ifindex = ifindex, .size = sizeof(**ret) };
	int r;

	if (family != 0 && family != AF_INET && family != AF_INET6)
		return berr_set(err, -EAFNOSUPPORT, "listing neighbours: address family %d is not "
				"IPv4 or IPv6", family);
	r = neigh_dump(nl, &d, family);
	if (r < 0) {
		free(d.items);
		return nlx_fail(nl, r, err, "listing the neighbours of ifindex %d", ifindex);
	}
	*ret = d.items;
	*ret_n = d.n;
	return 0;
}
