/* SPDX-License-Identifier: Apache-2.0 */
/* The firewall seen from the manager: computes the elements of berth's nftables sets and maps
 * from the manager's state (networks, active endpoints, published ports of running containers)
 * and applies every change as one batch (nft/). Start-up, `berth firewall reload` and the
 * self-healing monitor rebuild both tables in one transaction. Published ports are resolved
 * (ephemeral ports, targets) at start, recorded in the container's extra["BerthPorts"] and
 * committed to the store before the kernel is touched. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/timerfd.h>

#include "common/names.h"
#include "common/portspec.h"
#include "daemon/mgr_internal.h"
#include "nft/nft.h"

#define OPT_ICC "com.docker.network.bridge.enable_icc"
#define OPT_MASQ "com.docker.network.bridge.enable_ip_masquerade"
#define OPT_GW4 "com.docker.network.bridge.gateway_mode_ipv4"
#define OPT_GW6 "com.docker.network.bridge.gateway_mode_ipv6"
#define ELEMS_MAX 16

struct fw_port {
	char ctr_id[ID_LEN + 1];
	int family;
	struct ipaddr host;        /* family 0 = every address */
	uint8_t proto;
	uint16_t host_port, ctr_port;
	struct ipaddr to;
};

struct fw_state {
	struct nft_names names;
	struct nft_conn *conn;
	int mon_fd;
	int heal_fd;               /* timerfd of a delayed self-heal, -1: heal at once */
	VEC(struct fw_port) ports;
	struct ipaddr *vteps;      /* the members' VTEPs in the vteps sets */
	size_t n_vteps;
};

/* ---- options ---- */

static const char *net_opt(const struct net_entry *n, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(n->n.options, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool opt_false(const struct net_entry *n, const char *key)
{
	const char *v = net_opt(n, key);

	return v && (!strcmp(v, "false") || !strcmp(v, "0"));
}

static bool opt_routed(const struct net_entry *n, const char *key)
{
	const char *v = net_opt(n, key);

	return v && !strcmp(v, "routed");
}

static int opts_validate(const struct net_entry *n, struct berr *err)
{
	static const char *const bools[] = { OPT_ICC, OPT_MASQ };
	static const char *const modes[] = { OPT_GW4, OPT_GW6 };
	const char *v;

	for (size_t i = 0; i < ARRAY_SIZE(bools); i++) {
		v = net_opt(n, bools[i]);
		if (v && strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "1") && strcmp(v, "0"))
			return berr_set(err, -EINVAL, "invalid value \"%s\" for option %s: expected "
					"true or false", v, bools[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		v = net_opt(n, modes[i]);
		if (v && strcmp(v, "nat") && strcmp(v, "routed"))
			return berr_set(err, -EINVAL, "invalid value \"%s\" for option %s: expected "
					"nat or routed", v, modes[i]);
	}
	return 0;
}

static bool net_is_bridge(const struct net_entry *n)
{
	return n && !strcmp(n->n.driver, "bridge") && n->n.ifname[0];
}

static bool net_has_family(const struct net_entry *n, int family)
{
	for (int i = 0; i < n->n.n_subnets; i++)
		if (n->n.subnets[i].subnet.addr.family == family)
			return true;
	return false;
}

/* ---- elements of a network, an endpoint, a port ---- */

static size_t net_elems(const struct net_entry *n, struct nft_elem *e)
{
	const char *br = n->n.ifname;
	bool masq = !n->n.internal && !opt_false(n, OPT_MASQ);
	size_t k = 0;

	nft_elem_ifname(&e[k++], NFT_SET_BRIDGES, br);
	if (n->n.internal)
		nft_elem_ifname(&e[k++], NFT_SET_INTERNAL, br);
	if (!opt_false(n, OPT_ICC))
		nft_elem_ifname_pair(&e[k++], NFT_SET_SAMEBR, br, br);
	if (masq && net_has_family(n, AF_INET) && !opt_routed(n, OPT_GW4))
		nft_elem_ifname(&e[k++], NFT_SET_MASQ4, br);
	if (masq && net_has_family(n, AF_INET6) && !opt_routed(n, OPT_GW6))
		nft_elem_ifname(&e[k++], NFT_SET_MASQ6, br);
	if (!n->n.internal && opt_routed(n, OPT_GW4))
		nft_elem_ifname(&e[k++], NFT_SET_ROUTED4, br);
	if (!n->n.internal && opt_routed(n, OPT_GW6))
		nft_elem_ifname(&e[k++], NFT_SET_ROUTED6, br);
	return k;
}

/* fe80::/64 + EUI-64 of the MAC: the link-local address the kernel gives the container's end. */
static void mac_link_local(const uint8_t mac[6], struct ipaddr *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->family = AF_INET6;
	ret->b[0] = 0xfe;
	ret->b[1] = 0x80;
	ret->b[8] = mac[0] ^ 0x02;
	ret->b[9] = mac[1];
	ret->b[10] = mac[2];
	ret->b[11] = 0xff;
	ret->b[12] = 0xfe;
	ret->b[13] = mac[3];
	ret->b[14] = mac[4];
	ret->b[15] = mac[5];
}

/* Networks whose endpoints are ports of a bridge berth made: bridge and overlay. */
static bool net_has_ports(const struct net_entry *n)
{
	return net_is_bridge(n) || (n && n->drv && n->drv->global_scope && n->n.ifname[0]);
}

static size_t ep_elems(struct manager *m, const struct ep_entry *ep, struct nft_elem *e)
{
	struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);
	const char *ifn = ep->e.host_ifname;
	struct ipaddr ll;
	uint8_t mac[6];
	size_t k = 0;

	/* PENDING too: the elements go in before the interface exists (they are keyed by its
	 * name), so the very first frames it sends (the arp_notify announcement) pass. */
	if (!net_has_ports(n) || ep->e.state == EP_INACTIVE || !ifn[0] ||
	    mac_parse(ep->e.mac, mac, NULL) < 0)
		return 0;
	nft_elem_ifname(&e[k++], NFT_SET_BR_PORTS, ifn);
	nft_elem_ifname_mac(&e[k++], ifn, mac);
	if (ep->e.ip4.family) {
		nft_elem_ifname_ip(&e[k++], ifn, &ep->e.ip4);
		nft_elem_ctr_ip(&e[k++], &ep->e.ip4);
	}
	if (ep->e.ip6.family) {
		nft_elem_ifname_ip(&e[k++], ifn, &ep->e.ip6);
		nft_elem_ctr_ip(&e[k++], &ep->e.ip6);
	}
	mac_link_local(mac, &ll);
	nft_elem_ifname_ip(&e[k++], ifn, &ll);
	if (opt_false(n, OPT_ICC))
		nft_elem_ifname(&e[k++], NFT_SET_BR_NOICC, ifn);
	return k;
}

/* Extra bridge idx of n (mgr_spill.c): a frame its trunk's end on n's bridge sends back where it
 * came from (br_netfilter bridging it back after DNAT: hairpin to a published port from behind
 * the trunk) leaves with the source MAC of n's bridge, and never a broadcast (@reflect); frames
 * bridged on the extra bridge are not tracked there (@xbridges, see nft/skeleton.c); its end on
 * the extra bridge is the way to the gateway, which ICC off must leave open (@uplinks); with
 * ICC off nothing crosses from the trunk to another port of n's bridge (@noicc). Anti-spoofing
 * stays on the containers' own ports: a trunk carries frames already checked where they
 * entered. */
static size_t spill_elems(const struct net_entry *n, int idx, struct nft_elem *e)
{
	char br[IFNAME_LEN], trunk[IFNAME_LEN], up[IFNAME_LEN];
	size_t k = 0;

	ifname_spill_bridge(n->n.id, idx, br);
	ifname_spill_trunk(n->n.id, idx, trunk);
	ifname_spill_uplink(n->n.id, idx, up);
	nft_elem_ifname(&e[k++], NFT_SET_XBRIDGES, br);
	nft_elem_ifname(&e[k++], NFT_SET_BR_UPLINKS, up);
	if (n->br_mac_known)
		nft_elem_reflect(&e[k++], trunk, trunk, n->br_mac);
	if (opt_false(n, OPT_ICC))
		nft_elem_ifname(&e[k++], NFT_SET_BR_NOICC, trunk);
	return k;
}

static void port_elem(const struct fw_port *p, struct nft_elem *e)
{
	nft_elem_port(e, p->family, &p->host, p->proto, p->host_port, &p->to, p->ctr_port);
}

/* ---- applying ---- */

static int fw_apply(struct manager *m, struct nft_batch *b, struct berr *err)
{
	if (!m->fw || !m->fw->conn)
		return 0;
	return nft_batch_commit(m->fw->conn, b, err);
}

static int fw_elems_apply(struct manager *m, bool add, const struct nft_elem *e, size_t n,
			  struct berr *err)
{
	_cleanup_(nft_batch_freep) struct nft_batch *b = NULL;

	if (!m->fw || n == 0)
		return 0;
	b = nft_batch_new(&m->fw->names);
	for (size_t i = 0; i < n; i++)
		nft_batch_elem(b, add, &e[i]);
	return fw_apply(m, b, err);
}

static void route_localnet(const struct net_entry *n)
{
	_cleanup_free_ char *key = xasprintf("net/ipv4/conf/%s/route_localnet", n->n.ifname);
	struct berr e2 = BERR_INIT;

	if (net_has_family(n, AF_INET) && sysctl_write(key, "1", &e2) < 0)
		blog_warn("%s", berr_str(&e2));
}

/* The data-path port and every member VTEP (a cluster of one: only this host's). */
static void vteps_batch(struct manager *m, struct nft_batch *b)
{
	struct fw_state *fw = m->fw;
	struct nft_elem e;
	uint16_t port;

	free(fw->vteps);
	fw->n_vteps = mgr_cluster_vteps(m, &fw->vteps, &port);
	if (!port)
		return;
	nft_elem_vxport(&e, port);
	nft_batch_elem(b, true, &e);
	for (size_t i = 0; i < fw->n_vteps; i++) {
		nft_elem_vtep(&e, &fw->vteps[i]);
		nft_batch_elem(b, true, &e);
	}
}

static int fw_rebuild(struct manager *m, struct berr *err)
{
	_cleanup_(nft_batch_freep) struct nft_batch *b = nft_batch_new(&m->fw->names);
	struct nft_elem e[ELEMS_MAX];
	size_t k;

	if (!m->fw->conn)
		return 0;
	nft_batch_rebuild(b);
	for (size_t i = 0; i < m->nets.n; i++) {
		if (!net_is_bridge(m->nets.v[i]))
			continue;
		route_localnet(m->nets.v[i]);
		k = net_elems(m->nets.v[i], e);
		for (size_t j = 0; j < k; j++)
			nft_batch_elem(b, true, &e[j]);
	}
	for (size_t i = 0; i < m->nets.n; i++)
		for (size_t idx = 1; idx < m->nets.v[i]->n_spill; idx++) {
			if (!m->nets.v[i]->spill[idx].up)
				continue;
			k = spill_elems(m->nets.v[i], (int)idx, e);
			for (size_t j = 0; j < k; j++)
				nft_batch_elem(b, true, &e[j]);
		}
	for (size_t i = 0; i < m->eps.n; i++) {
		k = ep_elems(m, m->eps.v[i], e);
		for (size_t j = 0; j < k; j++)
			nft_batch_elem(b, true, &e[j]);
	}
	for (size_t i = 0; i < m->fw->ports.n; i++) {
		port_elem(m->fw->ports.v[i], e);
		nft_batch_elem(b, true, e);
	}
	vteps_batch(m, b);
	if (fw_apply(m, b, err) < 0)
		return berr_prefix(err, "rebuilding the firewall");
	blog_debug("firewall rebuilt: %zu networks, %zu endpoints, %zu ports", m->nets.n, m->eps.n,
		   m->fw->ports.n);
	return 0;
}

/* ---- published ports: resolution ---- */

static const char *proto_str(uint8_t p) { return portspec_proto_name(p); }

static void host_fmt(const struct fw_port *p, char buf[IP_STRLEN + 2])
{
	char a[IP_STRLEN];

	if (!p->host.family)
		strcpy(buf, p->family == AF_INET ? "0.0.0.0" : "::");
	else if (p->family == AF_INET6)
		snprintf(buf, IP_STRLEN + 2, "[%s]", ip_fmt(&p->host, a));
	else
		ip_fmt(&p->host, buf);
}

/* The address published ports of the container go to: its first active endpoint on a
 * non-internal bridge network that has an address of the family. */
static const struct ipaddr *ctr_target(struct manager *m, struct ctr_entry *c, int family,
				       bool *ret_internal_only)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	size_t n = mgr_ctr_eps(m, c->c.id, &eps);

	*ret_internal_only = n > 0;
	for (size_t i = 0; i < n; i++) {
		struct net_entry *net = mgr_net_by_id(m, eps[i]->e.network_id);
		const struct ipaddr *ip = family == AF_INET ? &eps[i]->e.ip4 : &eps[i]->e.ip6;

		if (!net || net->n.internal)
			continue;
		*ret_internal_only = false;
		if (net_is_bridge(net) && eps[i]->e.state == EP_ACTIVE && ip->family)
			return ip;
	}
	return NULL;
}

static bool port_clash(const struct fw_port *a, const struct fw_port *b)
{
	return a->family == b->family && a->proto == b->proto && a->host_port == b->host_port &&
	       (!a->host.family || !b->host.family || ip_equal(&a->host, &b->host));
}

/* Whose ports are resolved: a container (c), or a Docker endpoint (ep, remote driver) whose
 * ports go to its own addresses. id and name say whose they are in messages and records. */
struct resolve {
	struct manager *m;
	struct ctr_entry *c;
	struct ep_entry *ep;
	const char *id, *name;
	VEC(struct fw_port) out;
};

/* The address a Docker endpoint's ports go to: its own, unless its network is internal. */
static const struct ipaddr *ep_target(struct manager *m, const struct ep_entry *ep, int family,
				      bool *ret_internal_only)
{
	const struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);
	const struct ipaddr *ip = family == AF_INET ? &ep->e.ip4 : &ep->e.ip6;

	*ret_internal_only = !n || n->n.internal;
	return ip->family && !*ret_internal_only ? ip : NULL;
}

/* Who holds published ports in messages: a container's name, or "docker endpoint <id>". */
static void owner_describe(struct manager *m, const char *id, char *buf, size_t size)
{
	const struct ctr_entry *o = mgr_ctr_by_id(m, id);

	if (o)
		snprintf(buf, size, "container %s", o->c.name);
	else
		snprintf(buf, size, "docker endpoint %.12s", id);
}

/* Free for berth (other containers and this one's earlier ports) and for the host's sockets. */
static int port_free(struct resolve *rs, const struct fw_port *p, struct berr *err)
{
	char holder[160], h[IP_STRLEN + 2];
	struct fw_state *fw = rs->m->fw;
	int r;

	host_fmt(p, h);
	for (size_t i = 0; i < fw->ports.n; i++)
		if (port_clash(fw->ports.v[i], p)) {
			owner_describe(rs->m, fw->ports.v[i]->ctr_id, holder, sizeof(holder));
			return berr_set(err, -EADDRINUSE, "host port %s:%u/%s is already published by "
					"%s", h, p->host_port, proto_str(p->proto), holder);
		}
	for (size_t i = 0; i < rs->out.n; i++)
		if (port_clash(rs->out.v[i], p))
			return berr_set(err, -EADDRINUSE, "host port %s:%u/%s is published twice",
					h, p->host_port, proto_str(p->proto));
	/* A CNI runtime holds the host ports it publishes itself (podman's conmon listens on
	 * them to reserve them), as the reference portmap plugin expects: not a conflict. */
	r = mgr_ctr_external(rs->c) ? 0 : nft_hostport_holder(p->family, &p->host, p->proto,
							      p->host_port, holder, sizeof(holder));
	if (r > 0)
		return berr_set(err, -EADDRINUSE, "host port %s:%u/%s is already in use by %s", h,
				p->host_port, proto_str(p->proto), holder);
	return 0;
}

static int local_range(uint16_t *ret_lo, uint16_t *ret_hi)
{
	_cleanup_free_ char *s = NULL;
	unsigned lo, hi;

	if (read_file("/proc/sys/net/ipv4/ip_local_port_range", 64, &s, NULL, NULL) < 0 ||
	    sscanf(s, "%u %u", &lo, &hi) != 2 || lo == 0 || hi > 65535 || lo > hi) {
		lo = 32768;
		hi = 60999;
	}
	*ret_lo = (uint16_t)lo;
	*ret_hi = (uint16_t)hi;
	return 0;
}

/* Picks the host port of `ps` (one per family) within [lo, hi], trying from a random offset. */
static int port_pick(struct resolve *rs, struct fw_port *ps, size_t n, uint16_t lo, uint16_t hi,
		     struct berr *err)
{
	uint32_t span = (uint32_t)(hi - lo) + 1, start = (uint32_t)random() % span;
	struct berr last = BERR_INIT;

	for (uint32_t i = 0; i < span; i++) {
		uint16_t port = (uint16_t)(lo + (start + i) % span);
		size_t j;

		for (j = 0; j < n; j++) {
			ps[j].host_port = port;
			if (port_free(rs, &ps[j], &last) < 0)
				break;
		}
		if (j == n)
			return 0;
		if (lo == hi)
			break;
	}
	if (lo == hi)
		return berr_set(err, last.code, "%s", last.msg);
	return berr_set(err, -EADDRINUSE, "no free host port between %u and %u (%s)", lo, hi,
			berr_str(&last));
}

static bool host_ip_local(const struct ipaddr *ip)
{
	struct ifaddrs *ifa = NULL;
	bool found = false;

	if (ip->family == AF_INET && ip->b[0] == 127)
		return true;
	if (getifaddrs(&ifa) < 0)
		return true;   /* cannot tell: let the kernel decide */
	for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;

		if (sa && sa->sa_family == AF_INET && ip->family == AF_INET)
			found = !memcmp(&((const struct sockaddr_in *)sa)->sin_addr, ip->b, 4);
		else if (sa && sa->sa_family == AF_INET6 && ip->family == AF_INET6)
			found = !memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, ip->b, 16);
	}
	freeifaddrs(ifa);
	return found;
}

static int host_ip_check(const struct ipaddr *ip, struct berr *err)
{
	char a[IP_STRLEN];
	static const uint8_t lo6[16] = { [15] = 1 };

	if (ip->family == AF_INET6 && !memcmp(ip->b, lo6, 16))
		return berr_set(err, -EADDRNOTAVAIL, "ports cannot be published on ::1: the kernel "
				"drops replies to ::1 that arrive on a bridge (IPv6 has no "
				"route_localnet); publish on 127.0.0.1 or a host IPv6 address");
	if (ip->family && !host_ip_local(ip))
		return berr_set(err, -EADDRNOTAVAIL, "host address %s is not an address of this "
				"host", ip_fmt(ip, a));
	return 0;
}

/* One binding {HostIp, HostPort} of container port `ctr_port/proto`. */
static int binding_resolve(struct resolve *rs, const cJSON *b, uint16_t ctr_port, uint8_t proto,
			   struct berr *err)
{
	const cJSON *hip = cJSON_GetObjectItemCaseSensitive(b, "HostIp");
	const cJSON *hp = cJSON_GetObjectItemCaseSensitive(b, "HostPort");
	struct fw_port ps[2] = { 0 };
	static const uint8_t zero[16];
	struct ipaddr host;
	int only = 0;          /* 0.0.0.0 or :: publish one family; "" both */
	uint16_t lo, hi;
	size_t n = 0;
	bool internal_only = false;
	int r;

	r = portspec_hostip_parse(cJSON_IsString(hip) ? hip->valuestring : "", &host, err);
	if (r >= 0)
		r = portspec_hostport_parse(cJSON_IsString(hp) ? hp->valuestring : "", &lo, &hi, err);
	if (r >= 0)
		r = host_ip_check(&host, err);
	if (r < 0)
		return r;
	if (host.family && !memcmp(host.b, zero, sizeof(zero))) {
		only = host.family;
		host.family = 0;
	}
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;
		const struct ipaddr *to = rs->ep ? ep_target(rs->m, rs->ep, family, &internal_only)
						 : ctr_target(rs->m, rs->c, family, &internal_only);

		if (internal_only)
			return berr_set(err, -EINVAL, "%s is only on internal networks: ports cannot "
					"be published", rs->name);
		if ((host.family && host.family != family) || (only && only != family) || !to)
			continue;
		ps[n] = (struct fw_port){ .family = family, .host = host, .proto = proto,
					  .ctr_port = ctr_port, .to = *to };
		strscpy(ps[n].ctr_id, rs->id, sizeof(ps[n].ctr_id));
		n++;
	}
	if (n == 0)
		return berr_set(err, -EADDRNOTAVAIL, "%s has no address to publish %u/%s on",
				rs->name, ctr_port, proto_str(proto));
	if (!lo)
		local_range(&lo, &hi);
	r = port_pick(rs, ps, n, lo, hi, err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct fw_port *p = xmalloc(sizeof(*p));

		*p = ps[i];
		vec_push(rs->out, p);
	}
	return r;
}

static const cJSON *bindings_of(const struct ctr_entry *c)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(c->c.extra, "PortBindings");

	return cJSON_IsObject(b) ? b : NULL;
}

/* Walks PortBindings; cb NULL = syntax check only. */
static int bindings_walk(struct resolve *rs, const cJSON *pb, bool resolve, struct berr *err)
{
	const cJSON *key, *b;
	uint16_t port;
	uint8_t proto;
	int r;

	cJSON_ArrayForEach(key, pb) {
		r = portspec_key_parse(key->string, &port, &proto, err);
		if (r < 0)
			return r;
		if (!cJSON_IsArray(key) && !cJSON_IsNull(key))
			return berr_set(err, -EINVAL, "PortBindings[\"%s\"] must be an array",
					key->string);
		cJSON_ArrayForEach(b, key) {
			if (!cJSON_IsObject(b))
				return berr_set(err, -EINVAL, "PortBindings[\"%s\"] must hold objects",
						key->string);
			r = resolve ? binding_resolve(rs, b, port, proto, err) : 0;
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int binding_check(const cJSON *b, struct berr *err)
{
	const cJSON *hip = cJSON_GetObjectItemCaseSensitive(b, "HostIp");
	const cJSON *hp = cJSON_GetObjectItemCaseSensitive(b, "HostPort");
	struct ipaddr host;
	uint16_t lo, hi;
	int r;

	if ((hip && !cJSON_IsString(hip) && !cJSON_IsNull(hip)) ||
	    (hp && !cJSON_IsString(hp) && !cJSON_IsNull(hp)))
		return berr_set(err, -EINVAL, "HostIp and HostPort of a port binding must be strings");
	r = portspec_hostip_parse(cJSON_IsString(hip) ? hip->valuestring : "", &host, err);
	if (r >= 0)
		r = portspec_hostport_parse(cJSON_IsString(hp) ? hp->valuestring : "", &lo, &hi, err);
	if (r >= 0)
		r = host_ip_check(&host, err);
	return r;
}

int mgr_fw_ports_validate(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	const cJSON *pb = bindings_of(c), *key, *b;
	const struct ep_group *g = mgr_ep_group(m, c->c.id);
	bool outside = false, any = false, attached = false;
	int r;

	if (!pb || mgr_ctr_host_netns(m, c))
		return 0;
	r = bindings_walk(NULL, pb, false, err);
	cJSON_ArrayForEach(key, pb)
		cJSON_ArrayForEach(b, key) {
			any = true;
			if (r >= 0)
				r = binding_check(b, err);
		}
	if (r < 0 || !any)
		return r;
	for (size_t i = 0; g && i < g->eps.n; i++) {
		struct net_entry *n = mgr_net_by_id(m, g->eps.v[i]->e.network_id);

		attached = true;
		outside |= n && !n->n.internal;
	}
	if (attached && !outside)
		return berr_set(err, -EINVAL, "ports cannot be published: container %s is only on "
				"internal networks", c->c.name);
	return 0;
}

/* ---- published ports: the record in extra["BerthPorts"] ---- */

static cJSON *port_json(const struct fw_port *p)
{
	cJSON *o = cJSON_CreateObject();
	char a[IP_STRLEN] = "";

	cJSON_AddNumberToObject(o, "Family", p->family == AF_INET ? 4 : 6);
	cJSON_AddStringToObject(o, "HostIp", p->host.family ? ip_fmt(&p->host, a) : "");
	cJSON_AddNumberToObject(o, "HostPort", p->host_port);
	cJSON_AddStringToObject(o, "Proto", proto_str(p->proto));
	cJSON_AddNumberToObject(o, "ContainerPort", p->ctr_port);
	cJSON_AddStringToObject(o, "Target", ip_fmt(&p->to, a));
	return o;
}

static int port_from_json(const cJSON *o, const char *ctr_id, struct fw_port *p)
{
	const cJSON *fam = cJSON_GetObjectItemCaseSensitive(o, "Family");
	const cJSON *hip = cJSON_GetObjectItemCaseSensitive(o, "HostIp");
	const cJSON *hp = cJSON_GetObjectItemCaseSensitive(o, "HostPort");
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(o, "Proto");
	const cJSON *cp = cJSON_GetObjectItemCaseSensitive(o, "ContainerPort");
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(o, "Target");

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsNumber(fam) || !cJSON_IsString(hip) || !cJSON_IsNumber(hp) ||
	    !cJSON_IsString(pr) || !cJSON_IsNumber(cp) || !cJSON_IsString(to) ||
	    portspec_proto_parse(pr->valuestring, &p->proto) < 0 ||
	    ip_parse(to->valuestring, &p->to, NULL) < 0 ||
	    (hip->valuestring[0] && ip_parse(hip->valuestring, &p->host, NULL) < 0))
		return -EINVAL;
	p->family = fam->valueint == 4 ? AF_INET : AF_INET6;
	p->host_port = (uint16_t)hp->valueint;
	p->ctr_port = (uint16_t)cp->valueint;
	strscpy(p->ctr_id, ctr_id, sizeof(p->ctr_id));
	return 0;
}

/* Records the ports among v[0..n) that belong to container c as its extra["BerthPorts"]. */
static int ports_record(struct manager *m, struct ctr_entry *c, struct fw_port *const *v, size_t n,
			struct berr *err)
{
	cJSON *a = cJSON_CreateArray();
	int r;

	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->ctr_id, c->c.id) == 0)
			cJSON_AddItemToArray(a, port_json(v[i]));
	cJSON_DeleteItemFromObjectCaseSensitive(c->c.extra, "BerthPorts");
	cJSON_AddItemToObject(c->c.extra, "BerthPorts", a);
	r = store_begin(m->store, err);
	if (r >= 0)
		r = store_container_put(m->store, &c->c, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	else
		store_rollback(m->store);
	return r;
}

/* How ports_publish() records what it resolved, before the kernel is touched. */
typedef int (*ports_record_fn)(struct manager *m, void *ud, struct fw_port *const *v, size_t n,
			       struct berr *err);

static int ctr_ports_record(struct manager *m, void *ud, struct fw_port *const *v, size_t n,
			    struct berr *err)
{
	return ports_record(m, ud, v, n, err);
}

/* A Docker endpoint's: its owner (mgr_remote.c) stores the BerthPorts-shaped JSON. */
struct ep_record {
	int (*record)(struct manager *m, void *ud, cJSON *rec, struct berr *err);
	void *ud;
};

static int ep_ports_record(struct manager *m, void *ud, struct fw_port *const *v, size_t n,
			   struct berr *err)
{
	const struct ep_record *er = ud;
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, port_json(v[i]));
	return er->record(m, er->ud, a, err);
}

static void ct_flush(const struct fw_port *p)
{
	struct berr e2 = BERR_INIT;

	if (p->proto == IPPROTO_TCP)
		return;
	if (nft_ct_flush_port(p->family, p->proto, &p->host, p->host_port, &e2) < 0)
		blog_warn("flushing conntrack entries of port %u: %s", p->host_port, berr_str(&e2));
}

static void resolve_free(struct resolve *rs)
{
	for (size_t i = 0; i < rs->out.n; i++)
		free(rs->out.v[i]);
	free(rs->out.v);
}

/* Resolves PortBindings pb for rs, has `record` store the result, then applies one batch: the
 * record is committed before the kernel is touched. */
static int ports_publish(struct manager *m, struct resolve *rs, const cJSON *pb,
			 ports_record_fn record, void *ud, struct berr *err)
{
	uint64_t t0 = time_mono_ns(), tr = 0, ts = 0, t1 = 0, t2 = 0, tf;
	struct nft_elem *e;
	int r;

	r = bindings_walk(rs, pb, true, err);
	tr = time_mono_ns();
	if (r >= 0)
		r = record(m, ud, rs->out.v, rs->out.n, err);
	ts = time_mono_ns();
	crash_point("publish:after-store");
	if (r >= 0 && rs->out.n) {
		e = xcalloc(rs->out.n, sizeof(*e));
		for (size_t i = 0; i < rs->out.n; i++)
			port_elem(rs->out.v[i], &e[i]);
		t1 = time_mono_ns();
		r = fw_elems_apply(m, true, e, rs->out.n, err);
		t2 = time_mono_ns();
		free(e);
	}
	if (r < 0) {
		resolve_free(rs);
		return berr_prefix(err, "publishing ports");
	}
	for (size_t i = 0; i < rs->out.n; i++) {
		ct_flush(rs->out.v[i]);
		vec_push(m->fw->ports, rs->out.v[i]);
	}
	tf = time_mono_ns();
	/* bench/publish/run.sh reads this line: the whole publishing step and its parts */
	blog_debug("published %zu ports of %s in %llu us (nft batch %llu us, resolve "
		   "%llu us, store %llu us, conntrack %llu us, %zu ports published in all)",
		   rs->out.n, rs->name, (unsigned long long)(tf - t0) / 1000,
		   (unsigned long long)(t2 - t1) / 1000, (unsigned long long)(tr - t0) / 1000,
		   (unsigned long long)(ts - tr) / 1000, (unsigned long long)(tf - t2) / 1000,
		   m->fw->ports.n);
	free(rs->out.v);
	return 0;
}

int mgr_fw_ports_add(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	_cleanup_free_ char *name = xasprintf("container %s", c->c.name);
	struct resolve rs = { .m = m, .c = c, .id = c->c.id, .name = name };
	const cJSON *pb = bindings_of(c);

	if (!m->fw || !pb || mgr_ctr_host_netns(m, c))
		return 0;
	return ports_publish(m, &rs, pb, ctr_ports_record, c, err);
}

int mgr_fw_ep_ports_add(struct manager *m, struct ep_entry *ep, const cJSON *pb,
			int (*record)(struct manager *m, void *ud, cJSON *rec, struct berr *err),
			void *ud, struct berr *err)
{
	_cleanup_free_ char *name = xasprintf("docker endpoint %.12s", ep->e.id);
	struct resolve rs = { .m = m, .ep = ep, .id = ep->e.id, .name = name };
	struct ep_record er = { .record = record, .ud = ud };

	if (!m->fw || !pb)
		return 0;
	return ports_publish(m, &rs, pb, ep_ports_record, &er, err);
}

/* Removes the ports of owner id (all, or only those going to `to`); c: the owner when it is a
 * container (NULL for a Docker endpoint, whose owner records what is left itself). */
static void ports_drop(struct manager *m, const char *id, struct ctr_entry *c,
		       const struct ipaddr *to)
{
	struct fw_state *fw = m->fw;
	struct nft_elem *e = xcalloc(fw->ports.n + 1, sizeof(*e));
	struct fw_port **gone = xcalloc(fw->ports.n + 1, sizeof(*gone));
	struct berr e2 = BERR_INIT;
	size_t k = 0;

	for (size_t i = 0; i < fw->ports.n;) {
		struct fw_port *p = fw->ports.v[i];

		if (strcmp(p->ctr_id, id) || (to && !ip_equal(&p->to, to))) {
			i++;
			continue;
		}
		port_elem(p, &e[k]);
		gone[k++] = p;
		vec_remove(fw->ports, i);
	}
	if (k && fw_elems_apply(m, false, e, k, &e2) < 0) {
		blog_warn("unpublishing ports of %.12s: %s; rebuilding", id, berr_str(&e2));
		if (fw_rebuild(m, &e2) < 0)
			blog_error("%s", berr_str(&e2));
	}
	for (size_t i = 0; i < k; i++) {
		ct_flush(gone[i]);
		free(gone[i]);
	}
	/* the container keeps running without these ports: its record must say so, or a restart
	 * would publish them again towards an address it no longer holds */
	if (k && to && c && ports_record(m, c, fw->ports.v, fw->ports.n, &e2) < 0)
		blog_warn("recording the ports of %s: %s", c->c.name, berr_str(&e2));
	free(gone);
	free(e);
}

void mgr_fw_ports_remove(struct manager *m, struct ctr_entry *c)
{
	if (m->fw)
		ports_drop(m, c->c.id, c, NULL);
}

void mgr_fw_ep_ports_remove(struct manager *m, struct ep_entry *ep)
{
	if (m->fw)
		ports_drop(m, ep->e.id, NULL, NULL);
}

/* ---- networks and endpoints ---- */

static void elems_remove(struct manager *m, const struct nft_elem *e, size_t k, const char *what)
{
	struct berr e2 = BERR_INIT;

	if (fw_elems_apply(m, false, e, k, &e2) >= 0)
		return;
	blog_warn("firewall: removing %s: %s; rebuilding", what, berr_str(&e2));
	if (fw_rebuild(m, &e2) < 0)
		blog_error("%s", berr_str(&e2));
}

int mgr_fw_network_added(struct manager *m, struct net_entry *n, struct berr *err)
{
	struct nft_elem e[ELEMS_MAX];
	int r = opts_validate(n, err);

	if (r < 0 || !m->fw || !net_is_bridge(n))
		return r;
	route_localnet(n);
	return fw_elems_apply(m, true, e, net_elems(n, e), err);
}

void mgr_fw_network_removed(struct manager *m, struct net_entry *n)
{
	struct nft_elem e[ELEMS_MAX];

	if (m->fw && net_is_bridge(n))
		elems_remove(m, e, net_elems(n, e), n->n.name);
}

int mgr_fw_spill_added(struct manager *m, struct net_entry *n, int idx, struct berr *err)
{
	struct nft_elem e[ELEMS_MAX];

	if (!m->fw)
		return 0;
	return fw_elems_apply(m, true, e, spill_elems(n, idx, e), err);
}

void mgr_fw_spill_removed(struct manager *m, struct net_entry *n, int idx)
{
	struct nft_elem e[ELEMS_MAX];

	if (m->fw)
		elems_remove(m, e, spill_elems(n, idx, e), "a trunk");
}

int mgr_fw_endpoint_added(struct manager *m, struct ctr_entry *c, struct ep_entry *ep,
			  struct berr *err)
{
	struct nft_elem e[ELEMS_MAX];

	if (!m->fw)
		return 0;
	return fw_elems_apply(m, true, e, ep_elems(m, ep, e), err);
}

void mgr_fw_endpoint_removed(struct manager *m, struct ctr_entry *c, struct ep_entry *ep)
{
	struct nft_elem e[ELEMS_MAX];
	size_t k;

	if (!m->fw)
		return;
	if (ep->e.ip4.family)
		ports_drop(m, c ? c->c.id : ep->e.id, c, &ep->e.ip4);
	if (ep->e.ip6.family)
		ports_drop(m, c ? c->c.id : ep->e.id, c, &ep->e.ip6);
	k = ep_elems(m, ep, e);
	if (k)
		elems_remove(m, e, k, ep->e.host_ifname);
}

static bool ip_in(const struct ipaddr *a, const struct ipaddr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ip_equal(a, &v[i]))
			return true;
	return false;
}

/* One batch: the VTEPs that left the cluster out, those that joined in. */
void mgr_fw_vteps_changed(struct manager *m)
{
	_cleanup_(nft_batch_freep) struct nft_batch *b = NULL;
	struct fw_state *fw = m->fw;
	struct berr e2 = BERR_INIT;
	struct ipaddr *now = NULL;
	struct nft_elem e;
	uint16_t port;
	size_t n;

	if (!fw)
		return;
	n = mgr_cluster_vteps(m, &now, &port);
	b = nft_batch_new(&fw->names);
	for (size_t i = 0; i < fw->n_vteps; i++)
		if (!ip_in(&fw->vteps[i], now, n)) {
			nft_elem_vtep(&e, &fw->vteps[i]);
			nft_batch_elem(b, false, &e);
		}
	for (size_t i = 0; i < n; i++)
		if (!ip_in(&now[i], fw->vteps, fw->n_vteps)) {
			nft_elem_vtep(&e, &now[i]);
			nft_batch_elem(b, true, &e);
		}
	free(fw->vteps);
	fw->vteps = now;
	fw->n_vteps = n;
	if (nft_batch_count(b) > 0 && fw_apply(m, b, &e2) < 0) {
		blog_warn("firewall: member VTEPs: %s; rebuilding", berr_str(&e2));
		if (fw_rebuild(m, &e2) < 0)
			blog_error("%s", berr_str(&e2));
	}
}

/* ---- start-up, monitor, reload, stop ---- */

static bool port_target_live(struct manager *m, const char *owner, const struct ipaddr *to)
{
	for (size_t i = 0; i < m->eps.n; i++) {
		const struct bendpoint *e = &m->eps.v[i]->e;

		if (e->state == EP_ACTIVE && strcmp(e->container_id, owner) == 0 &&
		    (ip_equal(&e->ip4, to) || ip_equal(&e->ip6, to)))
			return true;
	}
	return false;
}

/* The ports of a record of owner (a running container, a Docker endpoint) whose target is still
 * one of its active endpoints; true when some were not (dropped: a crash while it was being
 * disconnected). */
static bool ports_load_record(struct manager *m, const char *owner, const cJSON *a)
{
	bool stale = false;
	const cJSON *o;

	cJSON_ArrayForEach(o, a) {
		struct fw_port *p = xmalloc(sizeof(*p));

		if (port_from_json(o, owner, p) < 0 || !port_target_live(m, owner, &p->to)) {
			stale = true;
			free(p);
			continue;
		}
		vec_push(m->fw->ports, p);
	}
	return stale;
}

/* The ports of running containers and of Docker endpoints, from their records. A container's
 * record that named an endpoint that is gone is written again without it. */
static void ports_load(struct manager *m)
{
	for (size_t i = 0; i < m->ctrs.n; i++) {
		struct ctr_entry *c = m->ctrs.v[i];
		struct berr e2 = BERR_INIT;

		if (c->c.state != CTR_RUNNING)
			continue;
		if (ports_load_record(m, c->c.id, cJSON_GetObjectItemCaseSensitive(c->c.extra,
										    "BerthPorts")) &&
		    ports_record(m, c, m->fw->ports.v, m->fw->ports.n, &e2) < 0)
			blog_warn("recording the ports of %s: %s", c->c.name, berr_str(&e2));
	}
	for (size_t i = 0; i < m->eps.n; i++)
		if (m->eps.v[i]->remote)
			ports_load_record(m, m->eps.v[i]->e.id, mgr_remote_ep_ports(m->eps.v[i]));
}

static void heal(struct manager *m)
{
	struct berr e2 = BERR_INIT;

	blog_warn("berth's nftables tables were changed by someone else: rebuilding them");
	if (fw_rebuild(m, &e2) < 0)
		blog_error("%s", berr_str(&e2));
}

/* BERTH_FW_HEAL_DELAY_MS=<ms> (tests): the rebuild after someone else's change waits that long
 * on a timer, so a test can see what the change did (test_probe.sh). */
static int heal_delay_ms(void)
{
	const char *v = getenv("BERTH_FW_HEAL_DELAY_MS");

	return v ? atoi(v) : 0;
}

static void heal_timer_cb(struct manager *m, int fd, void *ud)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n))
		heal(m);
}

static void heal_later(struct fw_state *fw)
{
	struct itimerspec its = { 0 }, cur;
	int ms = heal_delay_ms();

	if (timerfd_gettime(fw->heal_fd, &cur) == 0 &&
	    (cur.it_value.tv_sec || cur.it_value.tv_nsec))
		return;   /* armed already */
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	blog_warn("berth's nftables tables were changed by someone else: rebuilding them in "
		  "%d ms", ms);
	timerfd_settime(fw->heal_fd, 0, &its, NULL);
}

static void monitor_cb(struct manager *m, int fd, void *ud)
{
	struct berr e2 = BERR_INIT;
	bool exist = true;
	int r = nft_monitor_read(fd, &m->fw->names, nft_conn_portid(m->fw->conn));

	if (r == 2 && nft_tables_exist(m->fw->conn, &m->fw->names, &exist, &e2) >= 0 && exist)
		return;
	if (r <= 0)
		return;
	if (m->fw->heal_fd >= 0)
		heal_later(m->fw);
	else
		heal(m);
}

static int heal_timer_open(struct manager *m, struct fw_state *fw)
{
	if (heal_delay_ms() <= 0)
		return 0;
	fw->heal_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fw->heal_fd < 0)
		return 0;   /* heal at once */
	return mgr_watch_add(m, fw->heal_fd, heal_timer_cb, NULL);
}

static void fw_free(struct fw_state *fw)
{
	for (size_t i = 0; i < fw->ports.n; i++)
		free(fw->ports.v[i]);
	free(fw->ports.v);
	free(fw->vteps);
	nft_conn_close(fw->conn);
	if (fw->mon_fd >= 0)
		close(fw->mon_fd);
	if (fw->heal_fd >= 0)
		close(fw->heal_fd);
	free(fw);
}

int mgr_fw_init(struct manager *m, struct berr *err)
{
	struct fw_state *fw = xcalloc(1, sizeof(*fw));
	int r;

	fw->mon_fd = fw->heal_fd = -1;
	nft_names_default(&fw->names);
	r = nft_conn_open(&fw->conn, err);
	if (r >= 0)
		r = nft_monitor_open(&fw->mon_fd, err);
	if (r < 0) {
		fw_free(fw);
		return berr_prefix(err, "firewall");
	}
	m->fw = fw;
	ports_load(m);
	r = fw_rebuild(m, err);
	if (r >= 0)
		r = mgr_watch_add(m, fw->mon_fd, monitor_cb, NULL);
	if (r >= 0)
		r = heal_timer_open(m, fw);
	if (r < 0) {
		mgr_fw_close(m);
		return r;
	}
	blog_info("firewall: tables inet %s and bridge %s rebuilt", fw->names.inet,
		  fw->names.bridge);
	return 0;
}

void mgr_fw_close(struct manager *m)
{
	if (!m->fw)
		return;
	if (m->fw->mon_fd >= 0)
		mgr_watch_del(m, m->fw->mon_fd);
	if (m->fw->heal_fd >= 0)
		mgr_watch_del(m, m->fw->heal_fd);
	fw_free(m->fw);
	m->fw = NULL;
}

int mgr_firewall_reload(struct manager *m, struct berr *err)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = m->fw ? fw_rebuild(m, err) : berr_set(err, -ENOTCONN, "the firewall is not running");
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* ---- tracing one flow (daemon/mgr_explain.c) ---- */

int mgr_fw_trace(struct manager *m, const struct nft_flow *f, struct berr *err)
{
	_cleanup_(nft_batch_freep) struct nft_batch *b = NULL;

	if (!m->fw)
		return berr_set(err, -ENOTCONN, "the firewall is not running");
	b = nft_batch_new(&m->fw->names);
	if (f)
		nft_batch_trace_add(b, f);
	else
		nft_batch_trace_del(b);
	return fw_apply(m, b, err);
}

void mgr_fw_names(struct manager *m, struct nft_names *ret)
{
	if (m->fw)
		*ret = m->fw->names;
	else
		nft_names_default(ret);
}

int mgr_firewall_cleanup(struct berr *err)
{
	_cleanup_(nft_batch_freep) struct nft_batch *b = NULL;
	struct nft_names names;
	struct nft_conn *c;
	int r;

	nft_names_default(&names);
	r = nft_conn_open(&c, err);
	if (r < 0)
		return r;
	b = nft_batch_new(&names);
	nft_batch_delete_tables(b);
	r = nft_batch_commit(c, b, err);
	nft_conn_close(c);
	return r;
}

/* ---- rendering: NetworkSettings.Ports in Docker's shape ---- */

cJSON *mgr_fw_render_ports(struct manager *m, struct ctr_entry *c)
{
	const cJSON *pb = bindings_of(c), *key;
	const cJSON *bp = cJSON_GetObjectItemCaseSensitive(c->c.extra, "BerthPorts"), *o;
	cJSON *ports = cJSON_CreateObject();

	if (c->c.state != CTR_RUNNING)
		return ports;
	cJSON_ArrayForEach(key, pb)
		cJSON_AddNullToObject(ports, key->string);
	cJSON_ArrayForEach(o, bp) {
		struct fw_port p;
		char k[32], hp[8], h[IP_STRLEN] = "";
		cJSON *list, *b;

		if (port_from_json(o, c->c.id, &p) < 0)
			continue;
		snprintf(k, sizeof(k), "%u/%s", p.ctr_port, proto_str(p.proto));
		list = cJSON_GetObjectItemCaseSensitive(ports, k);
		if (!cJSON_IsArray(list)) {
			cJSON_DeleteItemFromObjectCaseSensitive(ports, k);
			list = cJSON_AddArrayToObject(ports, k);
		}
		b = cJSON_CreateObject();
		if (p.host.family)
			ip_fmt(&p.host, h);
		else
			strcpy(h, p.family == AF_INET ? "0.0.0.0" : "::");
		snprintf(hp, sizeof(hp), "%u", p.host_port);
		cJSON_AddStringToObject(b, "HostIp", h);
		cJSON_AddStringToObject(b, "HostPort", hp);
		cJSON_AddItemToArray(list, b);
	}
	return ports;
}
