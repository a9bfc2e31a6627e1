/* SPDX-License-Identifier: Apache-2.0 */
/* `berth network probe` in the manager (POST /networks/probe): the request, the copy of the
 * manager's state a probe needs (taken under the manager lock, which is released before a
 * single packet is sent), the run (probe/), the comparison with the expected policy and the
 * JSON reply. One probe at a time (probe_lock): two would bind the same probe listeners. */
#include <ifaddrs.h>
#include <netinet/in.h>

#include "common/portspec.h"
#include "daemon/mgr_internal.h"
#include "daemon/mgr_probe.h"

#define OPT_ICC "com.docker.network.bridge.enable_icc"
#define TIMEOUT_MAX_S 300.0

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the request ---- */

static int names_member(const cJSON *req, const char *key, cJSON **ret, struct berr *err)
{
	return json_string_array(req, key, ret, err);
}

static int protos_parse(const cJSON *req, unsigned *ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "Protocols"), *it;
	int p;

	*ret = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return berr_set(err, -EINVAL, "field Protocols must be an array of strings");
	cJSON_ArrayForEach(it, v) {
		p = cJSON_IsString(it) ? probe_proto_parse(it->valuestring) : -EINVAL;
		if (p < 0)
			return berr_set(err, -EINVAL, "field Protocols: expected icmp, tcp, udp or dns");
		*ret |= 1u << p;
	}
	return 0;
}

static int families_parse(const cJSON *req, unsigned *ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "Families"), *it;

	*ret = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return berr_set(err, -EINVAL, "field Families must be an array of 4 and 6");
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsNumber(it) || (it->valuedouble != 4 && it->valuedouble != 6))
			return berr_set(err, -EINVAL, "field Families: expected 4 or 6");
		*ret |= it->valuedouble == 4 ? PROBE_V4 : PROBE_V6;
	}
	return 0;
}

static int port_value(const cJSON *it, uint16_t *ret)
{
	if (!cJSON_IsNumber(it) || it->valuedouble != (double)it->valueint || it->valueint < 1 ||
	    it->valueint > 65535)
		return -EINVAL;
	*ret = (uint16_t)it->valueint;
	return 0;
}

static int ports_parse(const cJSON *req, struct probe_opts *o, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "Ports"), *it;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return berr_set(err, -EINVAL, "field Ports must be an array of port numbers");
	cJSON_ArrayForEach(it, v) {
		if (o->n_ports == PROBE_PORTS_MAX)
			return berr_set(err, -EINVAL, "field Ports: at most %d ports", PROBE_PORTS_MAX);
		if (port_value(it, &o->ports[o->n_ports++]) < 0)
			return berr_set(err, -EINVAL, "field Ports: expected numbers from 1 to 65535");
	}
	return 0;
}

static int timeout_parse(const cJSON *req, int *ret, struct berr *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "Timeout");

	*ret = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0.1 || v->valuedouble > TIMEOUT_MAX_S)
		return berr_set(err, -EINVAL, "field Timeout: expected seconds from 0.1 to %.0f",
				TIMEOUT_MAX_S);
	*ret = (int)(v->valuedouble * 1000);
	return 0;
}

static int policy_parse(const cJSON *v, struct probe_policy **ret, struct berr *err)
{
	*ret = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsString(v))
		return probe_policy_parse(v->valuestring, strlen(v->valuestring), ret, err);
	return probe_policy_from_json(v, ret, err);
}

void mgr_probe_req_free(struct mgr_probe_req *q)
{
	cJSON_Delete(q->networks);
	cJSON_Delete(q->containers);
	probe_policy_free(q->policy);
	memset(q, 0, sizeof(*q));
}

int mgr_probe_req_parse(const cJSON *req, struct mgr_probe_req *q, struct berr *err)
{
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(req, "Host");
	int r;

	memset(q, 0, sizeof(*q));
	q->host = true;
	q->o.start_ns = time_mono_ns();
	if (req && !cJSON_IsObject(req))
		return berr_set(err, -EINVAL, "the request body must be a JSON object");
	r = names_member(req, "Networks", &q->networks, err);
	if (r >= 0)
		r = names_member(req, "Containers", &q->containers, err);
	if (r >= 0)
		r = protos_parse(req, &q->o.protos, err);
	if (r >= 0)
		r = families_parse(req, &q->o.families, err);
	if (r >= 0)
		r = ports_parse(req, &q->o, err);
	if (r >= 0)
		r = timeout_parse(req, &q->o.timeout_ms, err);
	if (r >= 0)
		r = json_bool_member(req, "PrintPolicy", &q->print_policy, err);
	if (r >= 0 && host && !cJSON_IsNull(host))
		r = json_bool_member(req, "Host", &q->host, err);
	if (r >= 0)
		r = policy_parse(cJSON_GetObjectItemCaseSensitive(req, "Policy"), &q->policy, err);
	q->explain = cJSON_GetObjectItemCaseSensitive(req, "Explain");
	if (r >= 0 && q->explain && !cJSON_IsObject(q->explain))
		r = berr_set(err, -EINVAL, "field Explain must be an object");
	return r;
}

/* ---- the world, copied under the manager lock ---- */

static bool opt_off(const struct net_entry *n, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(n->n.options, key);

	return cJSON_IsString(v) && (!strcmp(v->valuestring, "false") || !strcmp(v->valuestring, "0"));
}

static void world_nets(struct manager *m, struct probe_world *w)
{
	w->nets = xcalloc(m->nets.n + 1, sizeof(*w->nets));
	w->n_nets = m->nets.n;
	for (size_t i = 0; i < m->nets.n; i++) {
		const struct net_entry *n = m->nets.v[i];
		struct probe_net *pn = &w->nets[i];
		bool bridge = !strcmp(n->n.driver, "bridge");

		strscpy(pn->name, n->n.name, sizeof(pn->name));
		strscpy(pn->driver, n->n.driver, sizeof(pn->driver));
		if (bridge)
			strscpy(pn->bridge, n->n.ifname, sizeof(pn->bridge));
		pn->internal = n->n.internal;
		pn->icc = !bridge || !opt_off(n, OPT_ICC);
		pn->names = strcmp(n->n.name, "bridge") != 0;   /* as the embedded DNS decides */
	}
}

static int net_index(struct manager *m, const char *id)
{
	for (size_t i = 0; i < m->nets.n; i++)
		if (!strcmp(m->nets.v[i]->n.id, id))
			return (int)i;
	return -1;
}

static bool in_names(const cJSON *names, const char *a, const char *b)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, names)
		if (!strcmp(it->valuestring, a) || (b && !strcmp(it->valuestring, b)))
			return true;
	return false;
}

static void node_eps(struct manager *m, struct ctr_entry *c, const struct mgr_probe_req *q,
		     struct probe_node *pn)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	size_t n = mgr_ctr_eps(m, c->c.id, &eps);

	pn->eps = xcalloc(n + 1, sizeof(*pn->eps));
	for (size_t i = 0; i < n; i++) {
		const struct bendpoint *e = &eps[i]->e;
		int k = net_index(m, e->network_id);

		if (e->state != EP_ACTIVE || k < 0 || (!e->ip4.family && !e->ip6.family) ||
		    (cJSON_GetArraySize(q->networks) &&
		     !in_names(q->networks, m->nets.v[k]->n.name, m->nets.v[k]->n.id)))
			continue;
		pn->eps[pn->n_eps++] = (struct probe_ep){ .net = (uint32_t)k, .ip4 = e->ip4,
							  .ip6 = e->ip6 };
		strscpy(pn->eps[pn->n_eps - 1].host_ifname, e->host_ifname, IFNAME_LEN);
	}
}

static void node_labels(const struct ctr_entry *c, struct probe_node *pn)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(c->c.extra, "Labels"), *it;

	pn->labels = xcalloc((size_t)cJSON_GetArraySize(labels) + 1, sizeof(char *));
	cJSON_ArrayForEach(it, labels)
		if (cJSON_IsString(it))
			pn->labels[pn->n_labels++] = xasprintf("%s=%s", it->string, it->valuestring);
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Published ports, as recorded at start (extra.BerthPorts): where the host reaches each. */
static void node_pubs(const struct ctr_entry *c, const struct ipaddr *host6,
		      struct probe_node *pn)
{
	const cJSON *bp = cJSON_GetObjectItemCaseSensitive(c->c.extra, "BerthPorts"), *o;

	pn->pubs = xcalloc((size_t)cJSON_GetArraySize(bp) + 1, sizeof(*pn->pubs));
	cJSON_ArrayForEach(o, bp) {
		const cJSON *fam = cJSON_GetObjectItemCaseSensitive(o, "Family");
		const cJSON *hip = cJSON_GetObjectItemCaseSensitive(o, "HostIp");
		struct probe_pub p = { 0 };
		uint8_t proto;

		if (!cJSON_IsNumber(fam) || !cJSON_IsString(hip) ||
		    portspec_proto_parse(str_of(o, "Proto"), &proto) < 0 ||
		    (proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
		    ip_parse(str_of(o, "Target"), &p.target, NULL) < 0)
			continue;
		p.proto = proto == IPPROTO_TCP ? PROBE_TCP : PROBE_UDP;
		p.host_port = (uint16_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "HostPort"));
		p.ctr_port = (uint16_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "ContainerPort"));
		if (hip->valuestring[0] && ip_parse(hip->valuestring, &p.host, NULL) < 0)
			continue;
		if (!hip->valuestring[0] && fam->valueint == 4)
			ip_parse("127.0.0.1", &p.host, NULL);
		else if (!hip->valuestring[0])
			p.host = *host6;
		if (p.host.family && p.host_port && p.ctr_port)
			pn->pubs[pn->n_pubs++] = p;
	}
}

static bool ctr_selected(struct manager *m, struct ctr_entry *c, const struct mgr_probe_req *q)
{
	return c->c.state == CTR_RUNNING && !mgr_ctr_host_netns(m, c) &&
	       (!cJSON_GetArraySize(q->containers) ||
		in_names(q->containers, c->c.name, c->c.id));
}

static void world_nodes(struct manager *m, const struct mgr_probe_req *q,
			const struct ipaddr *host6, struct probe_world *w)
{
	w->nodes = xcalloc(m->ctrs.n + 2, sizeof(*w->nodes));
	if (q->host)
		strscpy(w->nodes[w->n_nodes++].name, PROBE_HOST_NAME, NAME_LEN);
	for (size_t i = 0; i < m->ctrs.n; i++) {
		struct ctr_entry *c = m->ctrs.v[i];
		struct probe_node *pn = &w->nodes[w->n_nodes];

		if (!ctr_selected(m, c, q))
			continue;
		strscpy(pn->name, c->c.name, sizeof(pn->name));
		strscpy(pn->id, c->c.id, sizeof(pn->id));
		node_eps(m, c, q, pn);
		if (cJSON_GetArraySize(q->networks) && !pn->n_eps) {
			free(pn->eps);
			memset(pn, 0, sizeof(*pn));
			continue;
		}
		pn->netns = mgr_ctr_netns_path(m, &c->c);
		node_labels(c, pn);
		node_pubs(c, host6, pn);
		w->n_nodes++;
	}
}

/* Every name asked for exists. */
static int refs_check(struct manager *m, const struct mgr_probe_req *q, struct berr *err)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, q->networks)
		if (!mgr_net_find(m, it->valuestring, err))
			return -ENOENT;
	cJSON_ArrayForEach(it, q->containers)
		if (!mgr_ctr_find(m, it->valuestring, err))
			return -ENOENT;
	return 0;
}

/* A global IPv6 address of the host: where ports published on every IPv6 address are tried
 * (::1 is not one: the kernel drops replies to ::1 that arrive on a bridge). */
static void host_ipv6(struct ipaddr *ret)
{
	struct ifaddrs *ifa = NULL;

	memset(ret, 0, sizeof(*ret));
	if (getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *i = ifa; i && !ret->family; i = i->ifa_next) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)i->ifa_addr;

		if (!s6 || s6->sin6_family != AF_INET6 || IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		    IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) || !strncmp(i->ifa_name, "berth", 5))
			continue;
		ret->family = AF_INET6;
		memcpy(ret->b, &s6->sin6_addr, 16);
	}
	freeifaddrs(ifa);
}

int mgr_probe_world(struct manager *m, const struct mgr_probe_req *q, struct probe_world *w,
		    struct berr *err)
{
	struct ipaddr host6;
	int r;

	host_ipv6(&host6);
	memset(w, 0, sizeof(*w));
	pthread_mutex_lock(&m->lock);
	r = refs_check(m, q, err);
	if (r >= 0) {
		world_nets(m, w);
		world_nodes(m, q, &host6, w);
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* ---- the reply ---- */

static cJSON *cell_json(const struct probe_world *w, const struct probe_cell *c,
			const struct probe_policy *p)
{
	const struct probe_node *d = &w->nodes[c->dst];
	cJSON *o = cJSON_CreateObject();
	char a[IP_STRLEN], why[256];
	const char *by;
	int rule;

	cJSON_AddStringToObject(o, "Source", w->nodes[c->src].name);
	cJSON_AddStringToObject(o, "Target", d->name);
	cJSON_AddStringToObject(o, "Network", c->ep >= 0 ? w->nets[d->eps[c->ep].net].name : "");
	cJSON_AddBoolToObject(o, "Published", c->ep < 0);
	cJSON_AddStringToObject(o, "Address", ip_fmt(&c->addr, a));
	cJSON_AddNumberToObject(o, "Family", c->family);
	cJSON_AddStringToObject(o, "Protocol", probe_proto_name(c->proto));
	cJSON_AddNumberToObject(o, "Port", c->port);
	if (c->ep < 0)
		cJSON_AddNumberToObject(o, "TargetPort", c->tport);
	cJSON_AddStringToObject(o, "Verdict", probe_verdict_name(c->verdict));
	probe_cell_reason(c, why, sizeof(why));
	cJSON_AddStringToObject(o, "Reason", why);
	if (c->verdict == PROBE_REACH)
		cJSON_AddNumberToObject(o, "RttMicroseconds", c->rtt_us);
	cJSON_AddStringToObject(o, "Expected", probe_verdict_name(c->expect));
	probe_policy_expect(p, w, c, &rule, &by);
	if (rule >= 0)
		snprintf(why, sizeof(why), "rule %d", rule + 1);
	cJSON_AddStringToObject(o, "ExpectedBy", rule >= 0 ? why : by);
	cJSON_AddBoolToObject(o, "Match", c->verdict == c->expect);
	return o;
}

static cJSON *nodes_json(const struct probe_world *w)
{
	cJSON *a = cJSON_CreateArray();
	char ip[IP_STRLEN];

	for (size_t i = 0; i < w->n_nodes; i++) {
		const struct probe_node *n = &w->nodes[i];
		cJSON *o = cJSON_CreateObject(), *eps = cJSON_AddArrayToObject(o, "Endpoints");

		cJSON_AddStringToObject(o, "Name", n->name);
		cJSON_AddStringToObject(o, "Id", n->id);
		cJSON_AddBoolToObject(o, "Host", !n->netns);
		for (size_t j = 0; j < n->n_eps; j++) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "Network", w->nets[n->eps[j].net].name);
			cJSON_AddStringToObject(e, "IPv4Address", n->eps[j].ip4.family ?
						ip_fmt(&n->eps[j].ip4, ip) : "");
			cJSON_AddStringToObject(e, "IPv6Address", n->eps[j].ip6.family ?
						ip_fmt(&n->eps[j].ip6, ip) : "");
			cJSON_AddItemToArray(eps, e);
		}
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *summary_json(const struct probe_cell *cells, size_t n, uint64_t ns)
{
	size_t counts[4] = { 0 }, bad = 0;
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < n; i++) {
		counts[cells[i].verdict < 4 ? cells[i].verdict : 0]++;
		bad += cells[i].verdict != cells[i].expect;
	}
	cJSON_AddNumberToObject(o, "Cells", (double)n);
	cJSON_AddNumberToObject(o, "Reach", (double)counts[PROBE_REACH]);
	cJSON_AddNumberToObject(o, "Blocked", (double)counts[PROBE_BLOCKED]);
	cJSON_AddNumberToObject(o, "Errors", (double)(counts[PROBE_ERROR] + counts[PROBE_NOT_RUN]));
	cJSON_AddNumberToObject(o, "Violations", (double)bad);
	cJSON_AddNumberToObject(o, "DurationMs", (double)(ns / 1000000));
	return o;
}

static cJSON *result_json(const struct probe_world *w, const struct probe_cell *cells, size_t n,
			  const struct mgr_probe_req *q, uint64_t ns)
{
	cJSON *o = cJSON_CreateObject(), *a, *nets = cJSON_CreateArray();

	for (size_t i = 0; i < w->n_nets; i++)
		cJSON_AddItemToArray(nets, cJSON_CreateString(w->nets[i].name));
	cJSON_AddItemToObject(o, "Networks", nets);
	cJSON_AddItemToObject(o, "Nodes", nodes_json(w));
	cJSON_AddStringToObject(o, "Policy", q->policy ? "file" : "networks");
	cJSON_AddNumberToObject(o, "PolicyRules", (double)probe_policy_rules(q->policy));
	a = cJSON_AddArrayToObject(o, "Cells");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cell_json(w, &cells[i], q->policy));
	cJSON_AddItemToObject(o, "Summary", summary_json(cells, n, ns));
	return o;
}

/* ---- the run ---- */

static void expectations(const struct probe_world *w, struct probe_cell *cells, size_t n,
			 const struct probe_policy *p)
{
	for (size_t i = 0; i < n; i++) {
		int rule;

		cells[i].expect = (uint8_t)probe_policy_expect(p, w, &cells[i], &rule, NULL);
		cells[i].rule = rule;
	}
}

/* The steps of a probe, for the log (bench/probe/run.sh reads it). */
struct probe_times {
	uint64_t t0, world, ports, run, reply;
};

static uint64_t ms_since(uint64_t *last)
{
	uint64_t now = time_mono_ns(), d = (now - *last) / 1000000;

	*last = now;
	return d;
}

static int probe_matrix(struct manager *m, const struct mgr_probe_req *q,
			const struct mgr_probe_ctl *ctl, cJSON **ret, struct berr *err)
{
	struct probe_world w = { 0 };
	struct probe_cell *cells = NULL;
	struct probe_ctl pc = { .progress = ctl ? ctl->progress : NULL, .ud = ctl ? ctl->ud : NULL,
				.cancel = ctl ? ctl->cancel : NULL };
	struct probe_times t = { .t0 = q->o.start_ns };
	uint64_t last = q->o.start_ns;
	size_t n = 0;
	int r = mgr_probe_world(m, q, &w, err);

	t.world = ms_since(&last);
	if (r >= 0 && q->print_policy) {
		_cleanup_free_ char *text = probe_policy_implied(&w);

		*ret = cJSON_CreateObject();
		cJSON_AddStringToObject(*ret, "Policy", text);
	}
	if (r >= 0 && !q->print_policy)
		r = probe_ports_discover(&w, err);
	t.ports = ms_since(&last);
	if (r >= 0 && !q->print_policy)
		r = probe_cells_build(&w, &q->o, &cells, &n, err);
	if (r >= 0 && !q->print_policy)
		r = probe_run(&w, cells, n, &q->o, &pc, err);
	t.run = ms_since(&last);
	if (r >= 0 && !q->print_policy) {
		expectations(&w, cells, n, q->policy);
		*ret = result_json(&w, cells, n, q, time_mono_ns() - t.t0);
		t.reply = ms_since(&last);
		blog_info("probe: %zu cells of %zu containers in %llu ms (state %llu ms, ports %llu "
			  "ms, probing %llu ms, reply %llu ms)", n, w.n_nodes - (q->host ? 1 : 0),
			  (unsigned long long)(time_mono_ns() - t.t0) / 1000000,
			  (unsigned long long)t.world, (unsigned long long)t.ports,
			  (unsigned long long)t.run, (unsigned long long)t.reply);
	}
	free(cells);
	probe_world_free(&w);
	return r;
}

int mgr_network_probe_check(const cJSON *req, struct berr *err)
{
	struct mgr_probe_req q;
	int r = mgr_probe_req_parse(req, &q, err);

	mgr_probe_req_free(&q);
	return r;
}

int mgr_network_probe(struct manager *m, const cJSON *req, const struct mgr_probe_ctl *ctl,
		      cJSON **ret, struct berr *err)
{
	struct mgr_probe_req q;
	int r = mgr_probe_req_parse(req, &q, err);

	if (r < 0) {
		mgr_probe_req_free(&q);
		return r;
	}
	pthread_mutex_lock(&probe_lock);
	r = q.explain ? mgr_probe_explain(m, &q, ret, err) : probe_matrix(m, &q, ctl, ret, err);
	pthread_mutex_unlock(&probe_lock);
	mgr_probe_req_free(&q);
	return r;
}
