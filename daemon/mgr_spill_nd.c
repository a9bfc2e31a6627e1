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
 * neighbour entry (its IPv4 address -> its MAC, on the bridge device) and a static forwarding
 * entry (its MAC -> the port toward it: its own port, or the trunk leading to its bridge), and
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

/* The port of bridge k that leads to bridge `to`'s containers. */
static void port_toward(const struct net_entry *n, size_t k, size_t to, char ret[IFNAME_LEN])
{
	if (k == 0)
		ifname_spill_trunk(n->n.id, (int)to, ret);
	else
		ifname_spill_uplink(n->n.id, (int)k, ret);
}

static bool ep_synced(const struct net_entry *n, const struct ep_entry *ep)
{
	return ep->br >= 0 && !ep->remote && ep->e.ip4.family == AF_INET &&
	       strcmp(ep->e.network_id, n->n.id) == 0;
}

/* One entry pair on bridge k (ifindex br_ifindex): ip -> mac on the bridge device, mac -> port. */
static void entry_put(struct manager *m, int br_ifindex, const char *port, const struct ipaddr *ip,
		      const uint8_t mac[6], bool add)
{
	struct berr err = BERR_INIT;
	int port_ifindex = nlx_link_index(m->host_nl, port, &err), r = port_ifindex;

	if (r >= 0 && add)
		r = nlx_neigh_add(m->host_nl, br_ifindex, ip, mac, &err);
	else if (r >= 0)
		r = nlx_neigh_del(m->host_nl, br_ifindex, ip, &err);
	if (r >= 0 && port_ifindex > 0)
		r = add ? nlx_bridge_fdb_add(m->host_nl, port_ifindex, mac, &err)
			: nlx_bridge_fdb_del(m->host_nl, port_ifindex, mac, &err);
	if (r < 0)
		blog_warn("%s; ARP requests for it may cross the network's trunks until the next "
			  "start", berr_str(&err));
}

static void ep_put(struct manager *m, const struct net_entry *n, const struct ep_entry *ep,
		   size_t k, int br_ifindex, bool add)
{
	char port[IFNAME_LEN];
	uint8_t mac[6];

	if (mac_parse(ep->e.mac, mac, NULL) < 0)
		return;
	if ((size_t)ep->br == k)
		strscpy(port, ep->e.host_ifname, IFNAME_LEN);
	else
		port_toward(n, k, (size_t)ep->br, port);
	entry_put(m, br_ifindex, port, &ep->e.ip4, mac, add);
}

static int bridge_index(struct manager *m, const struct net_entry *n, size_t k)
{
	char br[IFNAME_LEN];

	bridge_name(n, k, br);
	return nlx_link_index(m->host_nl, br, NULL);
}

/* Every entry of bridge k: the network's active endpoints, and on an extra bridge the gateways. */
void mgr_spill_nd_fill(struct manager *m, struct net_entry *n, size_t k)
{
	int br = bridge_index(m, n, k);
	char up[IFNAME_LEN];

	if (br <= 0)
		return;
	for (size_t i = 0; i < m->eps.n; i++)
		if (m->eps.v[i]->e.state == EP_ACTIVE && ep_synced(n, m->eps.v[i]))
			ep_put(m, n, m->eps.v[i], k, br, true);
	if (k == 0 || !n->br_mac_known)
		return;
	ifname_spill_uplink(n->n.id, (int)k, up);
	for (int s = 0; s < n->n.n_subnets; s++)
		if (n->n.subnets[s].gateway.family == AF_INET)
			entry_put(m, br, up, &n->n.subnets[s].gateway, n->br_mac, true);
}

/* Endpoint ep's entries on every bridge of n (added after its join, deleted after its leave). */
void mgr_spill_nd_ep(struct manager *m, struct net_entry *n, const struct ep_entry *ep, bool add)
{
	if (!n->nd_sync || !ep_synced(n, ep))
		return;
	for (size_t k = 0; k < n->n_spill; k++) {
		int br = n->spill[k].up ? bridge_index(m, n, k) : 0;

		if (br > 0)
			ep_put(m, n, ep, k, br, add);
	}
}

/* The network is back on its own bridge: its entries there go (the rest went with the bridges). */
void mgr_spill_nd_off(struct manager *m, struct net_entry *n)
{
	int br = bridge_index(m, n, 0);

	for (size_t i = 0; br > 0 && i < m->eps.n; i++)
		if (ep_synced(n, m->eps.v[i]))
			ep_put(m, n, m->eps.v[i], 0, br, false);
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
