/* SPDX-License-Identifier: Apache-2.0 */
/* ARP on a network over several bridges (mgr_spill.c). A broadcast crosses every trunk: one ARP
 * request of a container is copied to every port of the network, each copy queued on the CPU's
 * input backlog (net.core.netdev_max_backlog, 1,000 by default, a setting of the initial
 * namespace only), which overflows at ~2 bridges' worth of ports: requests are lost and peers
 * unreachable (bench/start/arpflood.sh shows it without berth).
 *
 * So the bridges answer ARP requests themselves instead of flooding them over the trunks: both
 * ends of each trunk suppress neighbour requests (nlx_port_neigh_suppress), and while a network
 * has extra bridges berth keeps on each of its bridges, for each active endpoint, a permanent
 * neighbour entry (its IPv4 address -> its MAC, on the bridge device) and an externally learnt
 * forwarding entry (its MAC -> the port toward it: its own port, or the trunk to its bridge), and
 * on each extra bridge the gateway's (-> the own bridge's MAC, through the uplink). A request
 * for an address behind a trunk is answered by the bridge it enters; one for an address on the
 * same bridge goes to that bridge's ports only, never over a trunk. The own bridge's entries are
 * the host's neighbour entries for the containers: the host does not ask either.
 *
 * Start-up re-adds every entry of a network with extra bridges and deletes permanent neighbour
 * entries that no endpoint owns (left by a crash), on a network without them all of them. IPv4
 * only: extra bridges have no IPv6, neighbour solicitations are multicast and still flooded. */
#include "common/names.h"
#include "daemon/mgr_internal.h"

static void bridge_name(const struct net_entry *n, size_t k, char ret[IFNAME_LEN])
{
	if (k == 0)
		strscpy(ret, n->n.ifname, IFNAME_LEN);
	else
		ifname_spill_bridge(n->n.id, (int)k, ret);
}

/* The index of link `name`, asked once and kept in *slot (links of a network's bridges are
 * re-made only by berth, which forgets the indexes then: mgr_spill_nd_forget). */
static int index_cached(struct manager *m, int *slot, const char *name)
{
	if (*slot <= 0)
		*slot = nlx_link_index(m->host_nl, name, NULL);
	return *slot;
}

static int bridge_index(struct manager *m, struct net_entry *n, size_t k)
{
	char br[IFNAME_LEN];

	bridge_name(n, k, br);
	return index_cached(m, &n->spill[k].ifindex, br);
}

/* The port of bridge k that leads to bridge `to`'s containers: on the own bridge the trunk of
 * bridge `to`, on an extra bridge its uplink. */
static int port_toward(struct manager *m, struct net_entry *n, size_t k, size_t to)
{
	char name[IFNAME_LEN];

	if (k == 0) {
		ifname_spill_trunk(n->n.id, (int)to, name);
		return index_cached(m, &n->spill[to].trunk_ifindex, name);
	}
	ifname_spill_uplink(n->n.id, (int)k, name);
	return index_cached(m, &n->spill[k].uplink_ifindex, name);
}

void mgr_spill_nd_forget(struct net_entry *n)
{
	for (size_t k = 0; k < n->n_spill; k++)
		n->spill[k].ifindex = n->spill[k].trunk_ifindex = n->spill[k].uplink_ifindex = 0;
}

static bool ep_synced(const struct net_entry *n, const struct ep_entry *ep)
{
	return ep->br >= 0 && !ep->remote && ep->e.ip4.family == AF_INET &&
	       strcmp(ep->e.network_id, n->n.id) == 0;
}

/* One entry pair on a bridge (ifindex br): ip -> mac on the bridge device, mac -> port (none
 * when the port is gone: its entries went with it). */
static int entry_put(struct manager *m, int br, int port, const struct ipaddr *ip,
		     const uint8_t mac[6], bool add, struct berr *err)
{
	int r = add ? nlx_neigh_add(m->host_nl, br, ip, mac, err)
		    : nlx_neigh_del(m->host_nl, br, ip, err);

	if (r >= 0 && port > 0)
		r = add ? nlx_bridge_fdb_add(m->host_nl, port, mac, err)
			: nlx_bridge_fdb_del(m->host_nl, port, mac, err);
	return r;
}

/* ep's entry pair on bridge k. */
static int ep_put_once(struct manager *m, struct net_entry *n, const struct ep_entry *ep,
		       size_t k, bool add, struct berr *err)
{
	int br = bridge_index(m, n, k), port;
	uint8_t mac[6];

	if (br <= 0 || mac_parse(ep->e.mac, mac, NULL) < 0)
		return 0;
	if ((size_t)ep->br == k)
		port = nlx_link_index(m->host_nl, ep->e.host_ifname, err);
	else
		port = port_toward(m, n, k, (size_t)ep->br);
	return port < 0 ? port : entry_put(m, br, port, &ep->e.ip4, mac, add, err);
}

static void ep_put(struct manager *m, struct net_entry *n, const struct ep_entry *ep, size_t k,
		   bool add)
{
	struct berr err = BERR_INIT;
	int r = ep_put_once(m, n, ep, k, add, &err);

	if (r == -ENODEV) {   /* a kept index of a link re-made since: ask again */
		mgr_spill_nd_forget(n);
		berr_clear(&err);
		r = ep_put_once(m, n, ep, k, add, &err);
	}
	if (r < 0)
		blog_warn("%s; ARP requests for it may cross the network's trunks until the next "
			  "start", berr_str(&err));
}

/* Every entry of bridge k: the network's active endpoints, and on an extra bridge the gateways. */
void mgr_spill_nd_fill(struct manager *m, struct net_entry *n, size_t k)
{
	int br = bridge_index(m, n, k);

	if (br <= 0)
		return;
	for (size_t i = 0; i < m->eps.n; i++)
		if (m->eps.v[i]->e.state == EP_ACTIVE && ep_synced(n, m->eps.v[i]))
			ep_put(m, n, m->eps.v[i], k, true);
	if (k == 0 || !n->br_mac_known)
		return;
	for (int s = 0; s < n->n.n_subnets; s++) {
		struct berr err = BERR_INIT;
		const struct ipaddr *gw = &n->n.subnets[s].gateway;

		if (gw->family == AF_INET &&
		    entry_put(m, br, port_toward(m, n, k, 0), gw, n->br_mac, true, &err) < 0)
			blog_warn("%s; ARP requests for the gateway may cross the network's trunks "
				  "until the next start", berr_str(&err));
	}
}

/* Endpoint ep's entries on every bridge of n (added after its join, deleted after its leave). */
void mgr_spill_nd_ep(struct manager *m, struct net_entry *n, const struct ep_entry *ep, bool add)
{
	if (!n->nd_sync || !ep_synced(n, ep))
		return;
	for (size_t k = 0; k < n->n_spill; k++)
		if (n->spill[k].up)
			ep_put(m, n, ep, k, add);
}

/* The network is back on its own bridge: its entries there go (the rest went with the bridges). */
void mgr_spill_nd_off(struct manager *m, struct net_entry *n)
{
	for (size_t i = 0; i < m->eps.n; i++)
		if (ep_synced(n, m->eps.v[i]))
			ep_put(m, n, m->eps.v[i], 0, false);
	n->nd_sync = false;
}

static bool ip_owned(struct manager *m, const struct net_entry *n, const struct ipaddr *ip)
{
	for (int s = 0; s < n->n.n_subnets; s++)
		if (ip_equal(&n->n.subnets[s].gateway, ip))
			return true;
	for (size_t i = 0; i < m->eps.n; i++)
		if (m->eps.v[i]->e.state == EP_ACTIVE && ep_synced(n, m->eps.v[i]) &&
		    ip_equal(&m->eps.v[i]->e.ip4, ip))
			return true;
	return false;
}

/* Start-up: bridge k's permanent IPv4 neighbour entries that no endpoint owns go (all of them
 * when the network is on its own bridge only). */
void mgr_spill_nd_sweep(struct manager *m, struct net_entry *n, size_t k)
{
	struct nlx_neigh_entry *v = NULL;
	struct berr err = BERR_INIT;
	int br = bridge_index(m, n, k);
	size_t cnt = 0;

	if (br <= 0 || nlx_neigh_list(m->host_nl, br, AF_INET, &v, &cnt, &err) < 0) {
		if (br > 0)
			blog_warn("%s", berr_str(&err));
		return;
	}
	for (size_t i = 0; i < cnt; i++) {
		if (!v[i].permanent || (n->nd_sync && ip_owned(m, n, &v[i].ip)))
			continue;
		if (nlx_neigh_del(m->host_nl, br, &v[i].ip, &err) < 0)
			blog_warn("%s", berr_str(&err));
	}
	free(v);
}
