/* SPDX-License-Identifier: Apache-2.0 */
/* The world a probe sees and the cells of its matrix: which (source, target address, protocol,
 * port, family) get probed, and how a cell's result reads. Pure: no kernel, no manager. */
#include <netinet/in.h>

#include "common/util.h"
#include "dns/dns.h"
#include "probe/probe.h"

#define CELLS_MAX 200000

static const char *const proto_names[PROBE_PROTOS] = { "icmp", "tcp", "udp", "dns" };

const char *probe_proto_name(int proto)
{
	return proto >= 0 && proto < PROBE_PROTOS ? proto_names[proto] : "?";
}

int probe_proto_parse(const char *s)
{
	for (int i = 0; i < PROBE_PROTOS; i++)
		if (s && strcmp(s, proto_names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *probe_verdict_name(int v)
{
	static const char *const names[] = { "not run", "reach", "blocked", "error" };

	return v >= 0 && v < (int)ARRAY_SIZE(names) ? names[v] : "?";
}

/* ---- the world ---- */

void probe_world_free(struct probe_world *w)
{
	for (size_t i = 0; i < w->n_nodes; i++) {
		struct probe_node *n = &w->nodes[i];

		free(n->netns);
		for (size_t j = 0; j < n->n_labels; j++)
			free(n->labels[j]);
		free(n->labels);
		free(n->eps);
		free(n->pubs);
		free(n->listen);
	}
	free(w->nodes);
	free(w->nets);
	memset(w, 0, sizeof(*w));
}

int probe_world_node(const struct probe_world *w, const char *name)
{
	size_t len = strlen(name);
	int hit = -1;

	for (size_t i = 0; i < w->n_nodes; i++)
		if (strcmp(w->nodes[i].name, name) == 0 || strcmp(w->nodes[i].id, name) == 0)
			return (int)i;
	for (size_t i = 0; i < w->n_nodes && len > 0; i++) {
		if (strncmp(w->nodes[i].id, name, len) != 0)
			continue;
		if (hit >= 0)
			return -1;   /* ambiguous */
		hit = (int)i;
	}
	return hit;
}

int probe_world_net(const struct probe_world *w, const char *name)
{
	for (size_t i = 0; i < w->n_nets; i++)
		if (strcmp(w->nets[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct ipaddr *probe_ep_addr(const struct probe_ep *ep, int family)
{
	const struct ipaddr *a = family == 4 ? &ep->ip4 : &ep->ip6;

	return a->family ? a : NULL;
}

bool probe_node_on(const struct probe_node *n, uint32_t net)
{
	for (size_t i = 0; i < n->n_eps; i++)
		if (n->eps[i].net == net)
			return true;
	return false;
}

/* ---- listening ports ---- */

static bool addr_any(const struct ipaddr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->b, zero, sizeof(zero)) == 0;
}

/* A socket bound to l takes packets to addr: the same address, or any address of the family
 * (an IPv6 wildcard socket takes IPv4 as well unless it is IPv6-only, which /proc does not
 * tell: it is assumed not to be). */
static bool listen_takes(const struct probe_listen *l, const struct ipaddr *addr)
{
	if (l->addr.family == addr->family)
		return addr_any(&l->addr) || ip_equal(&l->addr, addr);
	return l->addr.family == AF_INET6 && addr->family == AF_INET && addr_any(&l->addr);
}

static bool listens(const struct probe_node *n, uint8_t proto, const struct ipaddr *addr,
		    uint16_t port)
{
	for (size_t i = 0; i < n->n_listen; i++)
		if (n->listen[i].proto == proto && n->listen[i].port == port &&
		    listen_takes(&n->listen[i], addr))
			return true;
	return false;
}

static int port_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* The ports node n listens on for proto at addr, sorted, each once (at most max). */
static size_t listen_ports(const struct probe_node *n, uint8_t proto, const struct ipaddr *addr,
			   uint16_t *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n->n_listen && k < max; i++) {
		const struct probe_listen *l = &n->listen[i];
		bool dup = false;

		if (l->proto != proto || !listen_takes(l, addr))
			continue;
		for (size_t j = 0; j < k && !dup; j++)
			dup = out[j] == l->port;
		if (!dup)
			out[k++] = l->port;
	}
	qsort(out, k, sizeof(*out), port_cmp);
	return k;
}

/* ---- building the cells ---- */

struct build {
	const struct probe_world *w;
	const struct probe_opts *o;
	struct probe_cell *v;
	size_t n, cap;
	bool full;
};

static bool fam_on(const struct probe_opts *o, int family)
{
	return !o->families || (o->families & (family == 4 ? PROBE_V4 : PROBE_V6));
}

static bool proto_on(const struct probe_opts *o, int proto)
{
	return !o->protos || (o->protos & (1u << proto));
}

static bool port_listed(const struct probe_opts *o, uint16_t port)
{
	for (size_t i = 0; i < o->n_ports; i++)
		if (o->ports[i] == port)
			return true;
	return false;
}

static struct probe_cell *cell_push(struct build *b)
{
	struct probe_cell *c;

	if (b->n >= CELLS_MAX) {
		b->full = true;
		return NULL;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->v = xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	c = &b->v[b->n++];
	memset(c, 0, sizeof(*c));
	c->ep = -1;
	c->pub = -1;
	c->rule = -1;
	return c;
}

static void cells_ports(struct build *b, const struct probe_cell *tmpl, const struct probe_node *d)
{
	uint16_t own[PROBE_PORTS_MAX];
	const uint16_t *ports = b->o->ports;
	size_t n = b->o->n_ports;

	if (!n) {
		n = listen_ports(d, tmpl->proto, &tmpl->addr, own, ARRAY_SIZE(own));
		ports = own;
	}
	if (!n) {
		own[0] = PROBE_PORT_DEFAULT;
		ports = own;
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct probe_cell *c = cell_push(b);

		if (!c)
			return;
		*c = *tmpl;
		c->port = c->tport = ports[i];
		c->real_listener = listens(d, c->proto, &c->addr, c->port);
	}
}

static void cells_pair(struct build *b, uint32_t s, uint32_t d)
{
	const struct probe_node *dn = &b->w->nodes[d];

	for (size_t e = 0; e < dn->n_eps; e++)
		for (int family = 4; family <= 6; family += 2) {
			const struct ipaddr *a = probe_ep_addr(&dn->eps[e], family);
			struct probe_cell t = { .src = s, .dst = d, .ep = (int32_t)e, .pub = -1,
						.family = (uint8_t)family, .rule = -1 };

			if (!a || !fam_on(b->o, family))
				continue;
			t.addr = t.taddr = *a;
			for (int p = 0; p < PROBE_PROTOS; p++) {
				struct probe_cell *c;

				if (!proto_on(b->o, p))
					continue;
				t.proto = (uint8_t)p;
				if (p == PROBE_TCP || p == PROBE_UDP) {
					cells_ports(b, &t, dn);
					continue;
				}
				c = cell_push(b);
				if (c)
					*c = t;
			}
		}
}

/* The host probes the published ports of d. */
static void cells_published(struct build *b, uint32_t s, uint32_t d)
{
	const struct probe_node *dn = &b->w->nodes[d];

	for (size_t i = 0; i < dn->n_pubs; i++) {
		const struct probe_pub *p = &dn->pubs[i];
		int family = p->host.family == AF_INET ? 4 : 6;
		struct probe_cell *c;

		if (!fam_on(b->o, family) || !proto_on(b->o, p->proto) ||
		    (b->o->n_ports && !port_listed(b->o, p->host_port) &&
		     !port_listed(b->o, p->ctr_port)))
			continue;
		c = cell_push(b);
		if (!c)
			return;
		*c = (struct probe_cell){ .src = s, .dst = d, .ep = -1, .pub = (int32_t)i,
					  .proto = p->proto, .family = (uint8_t)family,
					  .port = p->host_port, .addr = p->host,
					  .tport = p->ctr_port, .taddr = p->target, .rule = -1 };
		c->real_listener = listens(dn, p->proto, &p->target, p->ctr_port);
	}
}

int probe_cells_build(const struct probe_world *w, const struct probe_opts *o,
		      struct probe_cell **ret, size_t *ret_n, struct berr *err)
{
	struct build b = { .w = w, .o = o };

	for (uint32_t s = 0; s < w->n_nodes; s++)
		for (uint32_t d = 0; d < w->n_nodes; d++) {
			if (s == d || !w->nodes[d].netns)
				continue;
			if (w->nodes[s].netns)
				cells_pair(&b, s, d);
			else
				cells_published(&b, s, d);
		}
	if (b.full) {
		free(b.v);
		return berr_set(err, -E2BIG, "more than %d cells to probe: choose networks, "
				"containers, protocols or ports", CELLS_MAX);
	}
	*ret = b.v;
	*ret_n = b.n;
	return 0;
}

/* ---- words ---- */

void probe_cell_name(const struct probe_world *w, const struct probe_cell *c, char *buf,
		     size_t size)
{
	const struct probe_node *d = &w->nodes[c->dst];
	char port[16] = "", where[NAME_LEN + 40] = "", a[IP_STRLEN];

	if (c->proto == PROBE_TCP || c->proto == PROBE_UDP)
		snprintf(port, sizeof(port), "/%u", c->port);
	if (c->ep >= 0 && d->n_eps > 1)
		snprintf(where, sizeof(where), "@%s", w->nets[d->eps[c->ep].net].name);
	else if (c->ep < 0)
		snprintf(where, sizeof(where), " (published on %s)", ip_fmt(&c->addr, a));
	snprintf(buf, size, "%s -> %s%s %s%s IPv%u", w->nodes[c->src].name, d->name, where,
		 probe_proto_name(c->proto), port, c->family);
}

static const char *icmp_unreach_name(int family, int type, int code)
{
	if (family == 4 && type == 3)
		switch (code) {
		case 0: return "network unreachable";
		case 1: return "host unreachable";
		case 3: return "port unreachable";
		case 9: case 10: case 13: return "administratively prohibited";
		default: return "destination unreachable";
		}
	if (family == 6 && type == 1)
		switch (code) {
		case 0: return "no route";
		case 1: case 5: case 6: return "administratively prohibited";
		case 3: return "address unreachable";
		case 4: return "port unreachable";
		default: return "destination unreachable";
		}
	return (family == 4 && type == 11) || (family == 6 && type == 3) ? "time exceeded" :
									   "ICMP error";
}

static void reason_blocked(const struct probe_cell *c, char *buf, size_t size)
{
	char a[IP_STRLEN];

	switch (c->why) {
	case PW_NO_ROUTE:
		snprintf(buf, size, "no route from the source (%s)", strerror(c->code));
		return;
	case PW_UNREACHABLE:
		snprintf(buf, size, "%s (ICMP from %s)",
			 icmp_unreach_name(c->family, c->code >> 8, c->code & 0xff),
			 c->from.family ? ip_fmt(&c->from, a) : "?");
		return;
	case PW_NOT_RESOLVED:
		snprintf(buf, size, "the name does not resolve (%s)", dns_rcode_str(c->code));
		return;
	case PW_OTHER_ADDRESS:
		snprintf(buf, size, "the name resolves, not to this address");
		return;
	case PW_FAILED:
		snprintf(buf, size, "the connection failed (%s)", strerror(c->code));
		return;
	default:
		snprintf(buf, size, "no answer (dropped on the way)");
	}
}

static void reason_error(const struct probe_cell *c, char *buf, size_t size)
{
	switch (c->why) {
	case PW_SOCKET:
		snprintf(buf, size, "no socket in the source: %s", strerror(c->code));
		return;
	case PW_SEND:
		snprintf(buf, size, "sending failed: %s", strerror(c->code));
		return;
	case PW_LISTEN:
		snprintf(buf, size, "no probe listener could be bound: %s", strerror(c->code));
		return;
	case PW_NO_DNS:
		snprintf(buf, size, "the source has no embedded DNS");
		return;
	case PW_CANCELLED:
		snprintf(buf, size, "cancelled");
		return;
	default:
		snprintf(buf, size, "the time limit ended before an answer");
	}
}

void probe_cell_reason(const struct probe_cell *c, char *buf, size_t size)
{
	static const char *const reach[] = {
		[PW_ECHO_REPLY] = "echo reply",
		[PW_CONNECTED] = "connected",
		[PW_REFUSED] = "refused by the target (nothing listens: its kernel answered)",
		[PW_ECHOED] = "echoed by berth's probe listener",
		[PW_ANSWERED] = "the target's listener answered",
		[PW_ARRIVED] = "arrived at the target's listener",
		[PW_RESOLVED] = "the name resolves to this address",
	};

	if (c->verdict == PROBE_REACH && c->why < ARRAY_SIZE(reach) && reach[c->why])
		snprintf(buf, size, "%s", reach[c->why]);
	else if (c->verdict == PROBE_BLOCKED)
		reason_blocked(c, buf, size);
	else if (c->verdict == PROBE_ERROR)
		reason_error(c, buf, size);
	else
		snprintf(buf, size, "%s", c->verdict == PROBE_NOT_RUN ? "not probed" : "");
}
