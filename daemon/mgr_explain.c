/* SPDX-License-Identifier: Apache-2.0 */
/* `berth network probe --explain SRC DST/PROTO/PORT`: one probe with nftables tracing on for
 * its flow only. Once the probe's socket exists (its source port is known), a chain in berth's
 * own tables marks that flow with `meta nftrace`; the kernel reports every rule and chain
 * policy the packet meets (NFNLGRP_NFTRACE, nft/trace.c); the rule that dropped it, or the
 * path it took, is told in berth's words. The trace chain is removed right after the probe,
 * also when it fails; after a crash, the start-up rebuild of berth's tables removes it (it
 * lives in them), and so does any reload or self-heal. */
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "daemon/mgr_internal.h"
#include "daemon/mgr_probe.h"
#include "nft/nft.h"

#define EVENTS_MAX 512
#define LATE_EVENTS_MS 50

struct explain_req {
	const char *src, *dst, *net;
	int proto;
	uint16_t port;
	int family;                /* 0: IPv4 if the target has it */
};

struct explain_run {
	struct manager *m;
	bool traced;
};

/* ---- the request ---- */

static int explain_parse(const cJSON *x, struct explain_req *e, struct berr *err)
{
	const char *proto = NULL;
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(x, "Port");
	const cJSON *fam = cJSON_GetObjectItemCaseSensitive(x, "Family");
	int r;

	memset(e, 0, sizeof(*e));
	r = json_string_member(x, "Source", &e->src, err);
	if (r >= 0)
		r = json_string_member(x, "Target", &e->dst, err);
	if (r >= 0)
		r = json_string_member(x, "Network", &e->net, err);
	if (r >= 0)
		r = json_string_member(x, "Protocol", &proto, err);
	if (r < 0)
		return r;
	if (!e->src || !e->dst)
		return berr_set(err, -EINVAL, "Explain needs a Source and a Target container");
	e->proto = probe_proto_parse(proto ? proto : "icmp");
	if (e->proto < 0 || e->proto == PROBE_DNS)
		return berr_set(err, -EINVAL, "Explain.Protocol: expected icmp, tcp or udp");
	if (e->proto != PROBE_ICMP && (!cJSON_IsNumber(port) || port->valueint < 1 ||
				       port->valueint > 65535))
		return berr_set(err, -EINVAL, "Explain.Port: %s needs a port from 1 to 65535",
				probe_proto_name(e->proto));
	e->port = e->proto == PROBE_ICMP ? 0 : (uint16_t)port->valueint;
	if (fam && !cJSON_IsNull(fam) && (!cJSON_IsNumber(fam) ||
					  (fam->valueint != 4 && fam->valueint != 6)))
		return berr_set(err, -EINVAL, "Explain.Family: expected 4 or 6");
	e->family = fam && cJSON_IsNumber(fam) ? fam->valueint : 0;
	return 0;
}

/* ---- the cell ---- */

static bool ep_wanted(const struct probe_world *w, const struct explain_req *e,
		      const struct probe_cell *c)
{
	const struct probe_node *d = &w->nodes[c->dst];

	return !e->net || !strcmp(w->nets[d->eps[c->ep].net].name, e->net);
}

/* The cell to explain: on the network asked for, else one the source shares, IPv4 first. */
static int cell_pick(const struct probe_world *w, const struct explain_req *e,
		     const struct probe_cell *cells, size_t n, int src, int dst)
{
	int best = -1, score = -1;

	for (size_t i = 0; i < n; i++) {
		const struct probe_cell *c = &cells[i];
		int s;

		if ((int)c->src != src || (int)c->dst != dst || c->ep < 0 || !ep_wanted(w, e, c))
			continue;
		s = (probe_node_on(&w->nodes[src], w->nodes[dst].eps[c->ep].net) ? 2 : 0) +
		    (c->family == 4 ? 1 : 0);
		if (s > score) {
			best = (int)i;
			score = s;
		}
	}
	return best;
}

static int explain_cell(const struct probe_world *w, const struct explain_req *e,
			struct probe_cell **ret, struct berr *err)
{
	struct probe_opts o = { .protos = 1u << e->proto, .ports = { e->port },
				.n_ports = e->port ? 1 : 0 };
	int src = probe_world_node(w, e->src), dst = probe_world_node(w, e->dst), k;
	struct probe_cell *cells = NULL;
	size_t n = 0;

	if (src < 0 || dst < 0 || !w->nodes[src].netns || !w->nodes[dst].netns)
		return berr_set(err, -ENOENT, "no such running container: %s",
				src < 0 || !w->nodes[src].netns ? e->src : e->dst);
	if (src == dst)
		return berr_set(err, -EINVAL, "a container probes other containers, not itself");
	o.families = e->family == 4 ? PROBE_V4 : e->family == 6 ? PROBE_V6 : 0;
	k = probe_cells_build(w, &o, &cells, &n, err);
	if (k < 0)
		return k;
	k = cell_pick(w, e, cells, n, src, dst);
	if (k < 0) {
		free(cells);
		return berr_set(err, -EADDRNOTAVAIL, "container %s has no %saddress%s%s", e->dst,
				e->family == 6 ? "IPv6 " : e->family == 4 ? "IPv4 " : "",
				e->net ? " on network " : "", e->net ? e->net : "");
	}
	*ret = xmalloc(sizeof(**ret));
	**ret = cells[k];
	free(cells);
	return 0;
}

/* ---- the trace rule ---- */

static int trace_on(void *ud, const struct probe_flow *f, struct berr *err)
{
	struct explain_run *x = ud;
	struct nft_flow nf = { .daddr = f->daddr, .proto = f->ipproto, .sport = f->sport,
			       .dport = f->dport, .icmp_id = f->icmp_id };
	int r;

	pthread_mutex_lock(&x->m->lock);
	x->traced = true;
	r = mgr_fw_trace(x->m, &nf, err);
	pthread_mutex_unlock(&x->m->lock);
	crash_point("explain:after-trace-rule");
	return r < 0 ? berr_prefix(err, "adding the trace rule") : 0;
}

static void trace_off(struct explain_run *x)
{
	struct berr e2 = BERR_INIT;

	if (!x->traced)
		return;
	pthread_mutex_lock(&x->m->lock);
	if (mgr_fw_trace(x->m, NULL, &e2) < 0)
		blog_warn("probe: removing the trace rule: %s (the next rebuild of the tables "
			  "removes it)", berr_str(&e2));
	pthread_mutex_unlock(&x->m->lock);
}

/* Every event of the probe's packets, those that arrive late included. */
static void events_read(int fd, struct nft_trace_event **ev, size_t *n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct berr e2 = BERR_INIT;

	do {
		if (nft_trace_read(fd, ev, n, EVENTS_MAX, &e2) < 0)
			blog_debug("probe: %s", berr_str(&e2));
	} while (poll(&p, 1, LATE_EVENTS_MS) > 0);
}

/* ---- in words ---- */

static const char *family_name(int f)
{
	switch (f) {
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_NETDEV: return "netdev";
	case NFPROTO_ARP: return "arp";
	default: return "?";
	}
}

static const char *verdict_name(const struct nft_trace_event *ev)
{
	if (!ev->has_verdict)
		return "";
	switch (ev->verdict) {
	case NF_ACCEPT: return "accept";
	case NF_DROP: return "drop";
	case NFT_CONTINUE: return "continue";
	case NFT_BREAK: return "break";
	case NFT_JUMP: return "jump";
	case NFT_GOTO: return "goto";
	case NFT_RETURN: return "return";
	default: return "other";
	}
}

struct words {
	const struct probe_world *w;
	const struct nft_names *names;
	const struct nft_rule_info *rules;
	size_t n_rules;
};

static bool ours(const struct words *x, const struct nft_trace_event *ev)
{
	return (ev->family == NFPROTO_INET && !strcmp(ev->table, x->names->inet)) ||
	       (ev->family == NFPROTO_BRIDGE && !strcmp(ev->table, x->names->bridge));
}

static const char *comment_of(const struct words *x, const struct nft_trace_event *ev)
{
	for (size_t i = 0; ev->handle && ours(x, ev) && i < x->n_rules; i++)
		if (x->rules[i].handle == ev->handle && x->rules[i].family == ev->family &&
		    !strcmp(x->rules[i].chain, ev->chain))
			return x->rules[i].comment;
	return NULL;
}

/* The network an interface of the host belongs to: a bridge, or a container's veth. */
static const char *iface_net(const struct words *x, uint32_t ifindex, char buf[IF_NAMESIZE])
{
	const struct probe_world *w = x->w;

	if (!ifindex || !if_indextoname(ifindex, buf))
		return "?";
	for (size_t i = 0; i < w->n_nets; i++)
		if (w->nets[i].bridge[0] && !strcmp(w->nets[i].bridge, buf))
			return w->nets[i].name;
	for (size_t i = 0; i < w->n_nodes; i++)
		for (size_t j = 0; j < w->nodes[i].n_eps; j++)
			if (!strcmp(w->nodes[i].eps[j].host_ifname, buf))
				return w->nets[w->nodes[i].eps[j].net].name;
	return buf;
}

/* What a rule of berth's does, in words; %s are the networks of the packet's interfaces. */
enum { NETS_NONE, NETS_IN, NETS_OUT, NETS_BOTH };
static const struct {
	enum nft_rule_kind kind;
	const char *fmt;
	int nets;
} rule_texts[] = {
	{ NFT_RULE_ISOLATION, "dropped: isolation between networks %s and %s", NETS_BOTH },
	{ NFT_RULE_NOICC, "dropped: inter-container communication is off on network %s", NETS_IN },
	{ NFT_RULE_INTERNAL_IN, "dropped: network %s is internal: nothing from outside it gets in",
	  NETS_OUT },
	{ NFT_RULE_INTERNAL_OUT, "dropped: network %s is internal: nothing leaves it", NETS_IN },
	{ NFT_RULE_UNEXPOSED, "dropped: container addresses are reachable from outside their "
	  "network only through published ports", NETS_NONE },
	{ NFT_RULE_SPOOF, "dropped: anti-spoofing (the source address or MAC is not the "
	  "container's own)", NETS_NONE },
	{ NFT_RULE_GUARD, "dropped: containers may not send redirects, router advertisements or "
	  "foreign neighbour advertisements", NETS_NONE },
	{ NFT_RULE_LOOPBACK, "dropped: a loopback destination arriving from outside", NETS_NONE },
	{ NFT_RULE_ICC, "accepted: same network %s", NETS_IN },
	{ NFT_RULE_PUBLISHED, "accepted: to a published port", NETS_NONE },
	{ NFT_RULE_ESTABLISHED, "accepted: part of a connection accepted before", NETS_NONE },
	{ NFT_RULE_ROUTED, "accepted: network %s is in routed mode", NETS_OUT },
};

static void rule_words(const struct words *x, const struct nft_trace_event *ev,
		       enum nft_rule_kind kind, char *out, size_t size)
{
	char a[IF_NAMESIZE], b[IF_NAMESIZE];
	const char *comment = comment_of(x, ev);

	for (size_t i = 0; i < ARRAY_SIZE(rule_texts); i++) {
		int nets = rule_texts[i].nets;

		if (rule_texts[i].kind != kind)
			continue;
		snprintf(out, size, rule_texts[i].fmt,
			 iface_net(x, nets == NETS_OUT ? ev->oif : ev->iif, a),
			 iface_net(x, ev->oif, b));
		return;
	}
	snprintf(out, size, "%s by berth's rule \"%s\"", ev->verdict == NF_DROP ? "dropped" :
		 "accepted", comment ? comment : "?");
}

static void event_words(const struct words *x, const struct nft_trace_event *ev, char *out,
			size_t size)
{
	const char *c = comment_of(x, ev);

	if (ev->type == NFT_TRACETYPE_POLICY)
		snprintf(out, size, "%s by the policy of chain %s in table %s %s",
			 ev->verdict == NF_DROP ? "dropped" : "accepted", ev->chain,
			 family_name(ev->family), ev->table);
	else if (!ours(x, ev))
		snprintf(out, size, "%s by rule %llu of chain %s in table %s %s (not berth's)",
			 ev->verdict == NF_DROP ? "dropped" : "accepted",
			 (unsigned long long)ev->handle, ev->chain, family_name(ev->family),
			 ev->table);
	else
		rule_words(x, ev, nft_rule_kind(c), out, size);
}

/* The packet's decision: the first drop, else the last accept by one of berth's rules that
 * says why (same network, published port, ...). */
static const struct nft_trace_event *decisive(const struct words *x,
					      const struct nft_trace_event *ev, size_t n,
					      bool *ret_drop)
{
	const struct nft_trace_event *accept = NULL;

	for (size_t i = 0; i < n; i++) {
		if (ev[i].has_verdict && ev[i].verdict == NF_DROP) {
			*ret_drop = true;
			return &ev[i];
		}
		if (ev[i].has_verdict && ev[i].verdict == NF_ACCEPT &&
		    ev[i].type == NFT_TRACETYPE_RULE && ours(x, &ev[i]))
			accept = &ev[i];
	}
	*ret_drop = false;
	return accept;
}

static cJSON *event_json(const struct words *x, const struct nft_trace_event *ev)
{
	static const char *const types[] = { "", "policy", "return", "rule" };
	cJSON *o = cJSON_CreateObject();
	char in[IF_NAMESIZE] = "", out[IF_NAMESIZE] = "", t[NFT_NAME_MAX + 8];
	const char *c = comment_of(x, ev);

	snprintf(t, sizeof(t), "%s %s", family_name(ev->family), ev->table);
	cJSON_AddStringToObject(o, "Table", t);
	cJSON_AddStringToObject(o, "Chain", ev->chain);
	cJSON_AddStringToObject(o, "Type", ev->type < ARRAY_SIZE(types) ? types[ev->type] : "?");
	cJSON_AddNumberToObject(o, "Handle", (double)ev->handle);
	cJSON_AddStringToObject(o, "Rule", c ? c : "");
	cJSON_AddStringToObject(o, "Verdict", verdict_name(ev));
	if (ev->target[0])
		cJSON_AddStringToObject(o, "Target", ev->target);
	if (ev->iif && if_indextoname(ev->iif, in))
		cJSON_AddStringToObject(o, "In", in);
	if (ev->oif && if_indextoname(ev->oif, out))
		cJSON_AddStringToObject(o, "Out", out);
	return o;
}

/* Which packet an event is about, from the headers it carries: the IPv4 identification, or
 * the transport header without what routing and NAT rewrite (TTL, checksums). The trace id
 * cannot tell: it changes when a packet goes from the bridge up to the routing path. */
static uint64_t packet_key(const struct nft_trace_event *ev)
{
	uint64_t h = 1469598103934665603ull;
	uint8_t proto = ev->nh_len > 9 && ev->nh[0] >> 4 == 4 ? ev->nh[9] :
			ev->nh_len > 6 ? ev->nh[6] : 0;
	size_t n = proto == IPPROTO_TCP ? 14 : proto == IPPROTO_UDP ? 4 : 2;

	if (ev->nh_len >= 6 && ev->nh[0] >> 4 == 4)
		return (uint64_t)ev->nh[4] << 8 | ev->nh[5] | (uint64_t)proto << 16 | 1ull << 32;
	for (size_t i = 0; i < n && i < ev->th_len; i++)
		h = (h ^ ev->th[i]) * 1099511628211ull;
	for (size_t i = 4; proto != IPPROTO_TCP && proto != IPPROTO_UDP && i < 8 &&
			   i < ev->th_len; i++)   /* ICMPv6: identifier and sequence */
		h = (h ^ ev->th[i]) * 1099511628211ull;
	return h;
}

/* A neighbour solicitation (traced with an IPv6 flow: its target's MAC is found first). */
static bool packet_ns(const struct nft_trace_event *ev)
{
	return ev->nh_len > 6 && ev->nh[0] >> 4 == 6 && ev->nh[6] == IPPROTO_ICMPV6 &&
	       ev->th_len > 0 && ev->th[0] == 135;
}

/* The packet to explain: the first probe packet, else (it never left the source) the first
 * neighbour solicitation for its destination. */
static uint64_t packet_pick(const struct nft_trace_event *ev, size_t n, bool *ret_ns)
{
	uint64_t ns = 0;
	bool have_ns = false;

	for (size_t i = 0; i < n; i++) {
		if (!ev[i].nh_len)
			continue;
		if (!packet_ns(&ev[i])) {
			*ret_ns = false;
			return packet_key(&ev[i]);
		}
		if (!have_ns)
			ns = packet_key(&ev[i]);
		have_ns = true;
	}
	*ret_ns = have_ns;
	return ns;
}

/* The events of one packet only (a retransmission, or the next packet of a connection, is
 * another), without those of the trace chain and the one each chain starts with (it carries
 * the packet and its interfaces, no rule): its interfaces go to the events that follow. */
static size_t packet_events(struct nft_trace_event *ev, size_t n, uint64_t want)
{
	uint64_t cur = 0;
	uint32_t iif = 0, oif = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		bool start = ev[i].type == NFT_TRACETYPE_RULE && !ev[i].handle;

		if (ev[i].nh_len)
			cur = packet_key(&ev[i]);
		if (cur != want)
			continue;
		if (ev[i].iif || ev[i].oif) {
			iif = ev[i].iif;
			oif = ev[i].oif;
		}
		if (start || !strcmp(ev[i].chain, NFT_TRACE_CHAIN))
			continue;
		ev[k] = ev[i];
		ev[k].iif = ev[k].iif ? ev[k].iif : iif;
		ev[k].oif = ev[k].oif ? ev[k].oif : oif;
		k++;
	}
	return k;
}

static void decision_json(const struct words *x, const struct probe_cell *c,
			  struct nft_trace_event *ev, size_t n, cJSON *o)
{
	const struct nft_trace_event *d;
	char text[400], words[300];
	bool drop, ns = false;
	cJSON *path = cJSON_AddArrayToObject(o, "Path");

	n = n ? packet_events(ev, n, packet_pick(ev, n, &ns)) : 0;
	cJSON_AddStringToObject(o, "Packet", ns ? "neighbour solicitation" : "probe");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(path, event_json(x, &ev[i]));
	d = decisive(x, ev, n, &drop);
	if (d)
		event_words(x, d, words, sizeof(words));
	if (d && ns && drop)
		snprintf(text, sizeof(text), "%s (its neighbour solicitation: the source never "
			 "learns the target's MAC)", words);
	else if (d)
		snprintf(text, sizeof(text), "%s", words);
	else if (!n)
		snprintf(text, sizeof(text), "%s", c->verdict == PROBE_REACH ?
			 "accepted: the packet did not cross this host's firewall hooks" :
			 "no trace: the packet never reached this host's firewall hooks");
	else
		snprintf(text, sizeof(text), "%s", c->verdict == PROBE_REACH ? "accepted" :
			 "no rule dropped it; no answer came back");
	cJSON_AddStringToObject(o, "Decision", text);
	if (d)
		cJSON_AddItemToObject(o, "Rule", event_json(x, d));
}

/* ---- the run ---- */

static cJSON *explain_json(const struct words *x, const struct probe_cell *c,
			   struct nft_trace_event *ev, size_t n)
{
	const struct probe_world *w = x->w;
	cJSON *o = cJSON_CreateObject();
	char buf[256], a[IP_STRLEN];

	probe_cell_name(w, c, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "Cell", buf);
	cJSON_AddStringToObject(o, "Network", w->nets[w->nodes[c->dst].eps[c->ep].net].name);
	cJSON_AddStringToObject(o, "Address", ip_fmt(&c->addr, a));
	cJSON_AddStringToObject(o, "Verdict", probe_verdict_name(c->verdict));
	probe_cell_reason(c, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "Reason", buf);
	decision_json(x, c, ev, n, o);
	return o;
}

static int explain_world(struct manager *m, const struct explain_req *e, struct probe_world *w,
			 struct berr *err)
{
	struct mgr_probe_req q = { .host = false, .containers = cJSON_CreateArray() };
	int r;

	cJSON_AddItemToArray(q.containers, cJSON_CreateString(e->src));
	cJSON_AddItemToArray(q.containers, cJSON_CreateString(e->dst));
	r = mgr_probe_world(m, &q, w, err);
	cJSON_Delete(q.containers);
	if (r >= 0)
		r = probe_ports_discover(w, err);
	return r;
}

/* The probe, then the rules of berth's tables (the trace rule still among them), then the
 * trace rule goes. */
static int explain_probe(struct manager *m, struct words *x, struct probe_cell *c,
			 struct berr *err)
{
	struct explain_run run = { .m = m };
	struct probe_ctl ctl = { .flow_ready = trace_on, .ud = &run, .single_try = true };
	struct probe_opts o = { 0 };
	struct nft_rule_info *rules = NULL;
	struct berr e2 = BERR_INIT;
	int r = probe_run(x->w, c, 1, &o, &ctl, err);

	if (r >= 0 && nft_rules_list(x->names, &rules, &x->n_rules, &e2) < 0)
		blog_debug("probe: %s", berr_str(&e2));
	x->rules = rules;
	trace_off(&run);
	return r;
}

int mgr_probe_explain(struct manager *m, const struct mgr_probe_req *q, cJSON **ret,
		      struct berr *err)
{
	struct probe_world w = { 0 };
	struct probe_cell *c = NULL;
	struct nft_trace_event *ev = NULL;
	struct nft_names names;
	struct words x = { .w = &w, .names = &names };
	struct explain_req e;
	_cleanup_close_ int fd = -1;
	size_t n = 0;
	int r = explain_parse(q->explain, &e, err);

	mgr_fw_names(m, &names);
	if (r >= 0)
		r = explain_world(m, &e, &w, err);
	if (r >= 0)
		r = explain_cell(&w, &e, &c, err);
	if (r >= 0)
		r = nft_trace_open(&fd, err);
	if (r >= 0)
		r = explain_probe(m, &x, c, err);
	if (r >= 0) {
		events_read(fd, &ev, &n);
		*ret = cJSON_CreateObject();
		cJSON_AddItemToObject(*ret, "Explain", explain_json(&x, c, ev, n));
	}
	free((void *)x.rules);
	free(ev);
	free(c);
	probe_world_free(&w);
	return r;
}
