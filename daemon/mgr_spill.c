/* SPDX-License-Identifier: Apache-2.0 */
/* Networks over several bridges. The kernel caps a bridge at 1,023 ports (BR_MAX_PORTS), the
 * wall Docker hits too (moby#44973). A network whose driver can spill (bridge) takes endpoints
 * on its own bridge (index 0) until it is full, then on extra bridges 1, 2, ... each joined to
 * the own bridge by a trunk veth: one L2 domain (a star: any two containers are at most two
 * bridges apart), one subnet, one gateway on the own bridge, the same DNS names and firewall
 * rules. An extra bridge is made when an endpoint finds every bridge full and retired when its
 * last endpoint leaves.
 *
 * The own bridge keeps SPILL_TRUNKS_MAX (64) of its ports for trunks. Which bridge an endpoint is
 * on is memory only: start-up reads it from the kernel (the master of its host end) before
 * anything else touches the network, then adds missing trunks and retires empty or unknown extra
 * bridges, so a crash at any point of adding or removing one is repaired by rule, with nothing
 * recorded.
 *
 * BERTH_BRIDGE_PORTS (at least 3) lowers the ports per bridge, for tests. */
#include "common/names.h"
#include "daemon/mgr_internal.h"

#define BRIDGE_PORTS_MAX 1023          /* BR_MAX_PORTS - 1: port numbers are 1..1023 */
#define SPILL_TRUNKS_MAX 64

static size_t ports_max(void)
{
	const char *s = getenv("BERTH_BRIDGE_PORTS");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v >= 3 && v <= BRIDGE_PORTS_MAX ? (size_t)v : BRIDGE_PORTS_MAX;
}

/* Ports of the own bridge kept for trunks: at most 64 extra bridges (65,000 endpoints), fewer
 * on the small bridges of tests (half of them). */
static size_t trunks_max(size_t cap)
{
	size_t t = cap / 2;

	return t < SPILL_TRUNKS_MAX ? t : SPILL_TRUNKS_MAX;
}

static bool spills(const struct net_entry *n)
{
	return n->drv && n->drv->spill_add && n->drv->spill_del && !n->n.ifname_foreign;
}

/* The MAC of n's own bridge, which frames bridged back by br_netfilter after DNAT carry. */
static void bridge_mac_read(struct manager *m, struct net_entry *n)
{
	struct nlx_link_state st;
	struct berr err = BERR_INIT;
	int r;

	if (n->br_mac_known)
		return;
	r = nlx_link_state_get(m->host_nl, n->n.ifname, &st, &err);
	if (r == 0)
		berr_set(&err, -ENODEV, "bridge %s does not exist", n->n.ifname);
	if (r <= 0) {
		blog_warn("%s: a container behind a trunk cannot reach a port published by one "
			  "behind the same trunk through a host address", berr_str(&err));
		return;
	}
	memcpy(n->br_mac, st.mac, sizeof(n->br_mac));
	n->br_mac_known = true;
}

/* n has an extra bridge. */
static bool spilled(const struct net_entry *n)
{
	for (size_t k = 1; k < n->n_spill; k++)
		if (n->spill[k].up)
			return true;
	return false;
}

static void spill_grow(struct net_entry *n, size_t len)
{
	if (len <= n->n_spill)
		return;
	n->spill = xrealloc(n->spill, len * sizeof(*n->spill));
	memset(n->spill + n->n_spill, 0, (len - n->n_spill) * sizeof(*n->spill));
	n->n_spill = len;
	n->spill[0].up = true;   /* the network's own bridge */
}

static bool has_room(const struct net_entry *n, size_t idx, size_t cap)
{
	if (!n->spill[idx].up)
		return false;
	return n->spill[idx].ports < (idx == 0 ? cap - trunks_max(cap) : cap - 1);
}

static void master_name(const struct net_entry *n, size_t idx, char ret[IFNAME_LEN])
{
	if (idx == 0)
		ret[0] = '\0';   /* the network's own: n->n.ifname */
	else
		ifname_spill_bridge(n->n.id, (int)idx, ret);
}

static void ep_place(struct net_entry *n, struct ep_entry *ep, size_t idx)
{
	ep->br = (int)idx;
	master_name(n, idx, ep->e.master);
	n->spill[idx].ports++;
}

/* A new extra bridge: the lowest free index; its trunk's firewall elements go in before the
 * first endpoint does. */
static int spill_open(struct manager *m, struct net_entry *n, size_t *ret, struct berr *err)
{
	size_t cap = ports_max(), idx = 1;
	int r;

	while (idx < n->n_spill && n->spill[idx].up)
		idx++;
	if (idx > trunks_max(cap) || idx > IFNAME_SPILL_MAX)
		return berr_set(err, -ENOSPC, "network %s is full: %zu bridges of %zu ports",
				n->n.name, idx, cap);
	spill_grow(n, idx + 1);
	bridge_mac_read(m, n);
	mgr_spill_nd_forget(n);
	r = n->drv->spill_add(&m->drv, &n->n, (int)idx, err);
	crash_point("spill-add:after-trunk");
	if (r >= 0)
		r = mgr_fw_spill_added(m, n, (int)idx, err);
	if (r < 0) {
		struct berr e2 = BERR_INIT;

		if (n->drv->spill_del(&m->drv, &n->n, (int)idx, &e2) < 0)
			blog_warn("%s; removed at the next start", berr_str(&e2));
		return r;
	}
	n->spill[idx].up = true;
	if (!n->nd_sync) {   /* the first extra bridge: the own bridge's entries too */
		mgr_spill_nd_fill(m, n, 0);
		n->nd_sync = true;
	}
	mgr_spill_nd_fill(m, n, idx);
	blog_info("network %s: bridge %zu added (every bridge had %zu ports)", n->n.name, idx, cap);
	*ret = idx;
	return 0;
}

int mgr_spill_assign(struct manager *m, struct net_entry *n, struct ep_entry *ep,
		     struct berr *err)
{
	size_t cap = ports_max(), idx = 0;
	int r;

	ep->br = -1;
	ep->e.master[0] = '\0';
	if (!spills(n))
		return 0;
	spill_grow(n, 1);
	while (idx < n->n_spill && !has_room(n, idx, cap))
		idx++;
	if (idx == n->n_spill) {
		r = spill_open(m, n, &idx, err);
		if (r < 0)
			return r;
	}
	ep_place(n, ep, idx);
	return 0;
}

static void spill_close(struct manager *m, struct net_entry *n, size_t idx)
{
	struct berr err = BERR_INIT;

	mgr_fw_spill_removed(m, n, (int)idx);
	if (n->drv->spill_del(&m->drv, &n->n, (int)idx, &err) < 0)
		blog_warn("%s; removed at the next start", berr_str(&err));
	crash_point("spill-del:after-retire");
	n->spill[idx].up = false;
	mgr_spill_nd_forget(n);
	blog_info("network %s: bridge %zu removed (it had no endpoint left)", n->n.name, idx);
}

void mgr_spill_release(struct manager *m, struct net_entry *n, struct ep_entry *ep)
{
	size_t idx;

	if (!n || ep->remote || ep->br < 0 || (size_t)ep->br >= n->n_spill) {
		ep->br = -1;
		return;
	}
	mgr_spill_nd_ep(m, n, ep, false);
	idx = (size_t)ep->br;
	ep->br = -1;
	ep->e.master[0] = '\0';
	if (n->spill[idx].ports > 0)
		n->spill[idx].ports--;
	if (idx > 0 && n->spill[idx].ports == 0 && n->spill[idx].up) {
		spill_close(m, n, idx);
		if (n->nd_sync && !spilled(n))
			mgr_spill_nd_off(m, n);
	}
}

bool mgr_spill_owns(struct manager *m, const char *name)
{
	for (size_t i = 0; i < m->nets.n; i++) {
		struct net_entry *n = m->nets.v[i];

		for (size_t k = 1; k < n->n_spill; k++) {
			char br[IFNAME_LEN], trunk[IFNAME_LEN], up[IFNAME_LEN];

			if (!n->spill[k].up)
				continue;
			ifname_spill_bridge(n->n.id, (int)k, br);
			ifname_spill_trunk(n->n.id, (int)k, trunk);
			ifname_spill_uplink(n->n.id, (int)k, up);
			if (!strcmp(name, br) || !strcmp(name, trunk) || !strcmp(name, up))
				return true;
		}
	}
	return false;
}

void mgr_spill_names(const struct net_entry *n, cJSON *arr)
{
	cJSON_AddItemToArray(arr, cJSON_CreateString(n->n.ifname));
	for (size_t k = 1; k < n->n_spill; k++) {
		char br[IFNAME_LEN];

		if (!n->spill[k].up)
			continue;
		ifname_spill_bridge(n->n.id, (int)k, br);
		cJSON_AddItemToArray(arr, cJSON_CreateString(br));
	}
}

/* ---- start-up ---- */

/* Bridge index of network n whose ifindex is `master`, -1 when it is none of n's. */
static int master_index(const struct net_entry *n, const struct nlx_link_entry *links,
			size_t n_links, int master)
{
	for (size_t i = 0; i < n_links; i++) {
		char want[IFNAME_LEN];
		unsigned idx;

		if (links[i].ifindex != master)
			continue;
		if (strcmp(links[i].name, n->n.ifname) == 0)
			return 0;
		if (sscanf(links[i].name, "bx%*10[0-9a-f]%3x", &idx) != 1 || idx == 0)
			return -1;
		ifname_spill_bridge(n->n.id, (int)idx, want);
		return strcmp(want, links[i].name) == 0 ? (int)idx : -1;
	}
	return -1;
}

static const struct nlx_link_entry *link_find(const struct nlx_link_entry *links, size_t n_links,
					      const char *name)
{
	for (size_t i = 0; i < n_links; i++)
		if (strcmp(links[i].name, name) == 0)
			return &links[i];
	return NULL;
}

/* Where each active endpoint's host end is, as the kernel says; an endpoint on no bridge of its
 * network (its veth missing or moved) is placed again when reconciliation re-creates it. */
static void spill_scan_ep(struct manager *m, struct ep_entry *ep,
			  const struct nlx_link_entry *links, size_t n_links)
{
	struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);
	const struct nlx_link_entry *l;
	int idx;

	ep->br = -1;
	ep->e.master[0] = '\0';
	if (!n || !spills(n) || ep->remote || ep->e.state != EP_ACTIVE || !ep->e.host_ifname[0])
		return;
	l = link_find(links, n_links, ep->e.host_ifname);
	idx = l ? master_index(n, links, n_links, l->master) : -1;
	if (idx < 0)
		return;
	spill_grow(n, (size_t)idx + 1);
	n->spill[idx].up = true;
	ep_place(n, ep, (size_t)idx);
	if (idx > 0)
		bridge_mac_read(m, n);
}

void mgr_spill_scan(struct manager *m)
{
	struct nlx_link_entry *links = NULL;
	struct berr err = BERR_INIT;
	size_t n_links = 0;

	if (nlx_link_dump(m->host_nl, &links, &n_links, &err) < 0) {
		blog_warn("reading where endpoints are: %s", berr_str(&err));
		return;
	}
	for (size_t i = 0; i < m->eps.n; i++)
		spill_scan_ep(m, m->eps.v[i], links, n_links);
	free(links);
}

static bool spill_complete(struct manager *m, const struct net_entry *n, size_t idx)
{
	char names[3][IFNAME_LEN];

	ifname_spill_bridge(n->n.id, (int)idx, names[0]);
	ifname_spill_trunk(n->n.id, (int)idx, names[1]);
	ifname_spill_uplink(n->n.id, (int)idx, names[2]);
	for (int i = 0; i < 3; i++)
		if (nlx_link_index(m->host_nl, names[i], NULL) <= 0)
			return false;
	return true;
}

/* Every extra bridge with endpoints has its trunk (re-made if a crash or someone removed it);
 * one without is retired (an endpoint's removal or the bridge's addition was interrupted).
 * Then the ARP entries (mgr_spill_nd.c). */
static void spill_tidy_net(struct manager *m, struct net_entry *n)
{
	for (size_t k = 1; k < n->n_spill; k++) {
		struct berr err = BERR_INIT;

		if (!n->spill[k].up)
			continue;
		if (n->spill[k].ports == 0)
			spill_close(m, n, k);
		else if (!spill_complete(m, n, k) &&
			 n->drv->spill_add(&m->drv, &n->n, (int)k, &err) < 0)
			blog_warn("%s; retried at the next start", berr_str(&err));
	}
	mgr_spill_nd_forget(n);
	n->nd_sync = spilled(n);
	for (size_t k = 0; k < (n->nd_sync ? n->n_spill : 1); k++) {
		if (!n->spill[k].up)
			continue;
		if (n->nd_sync)
			mgr_spill_nd_fill(m, n, k);
		mgr_spill_nd_sweep(m, n, k);
	}
}

void mgr_spill_tidy(struct manager *m)
{
	for (size_t i = 0; i < m->nets.n; i++)
		if (spills(m->nets.v[i])) {
			spill_grow(m->nets.v[i], 1);
			spill_tidy_net(m, m->nets.v[i]);
		}
}
