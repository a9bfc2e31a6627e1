/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded DNS seen from the manager: keeps the DNS server's records and client views in
 * step with endpoints and containers, renders each container's resolv.conf, and serves lookups
 * and counters for the API. Hooks run with the manager lock held and take the server's lock
 * inside it (order: manager -> dns). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/mgr_internal.h"
#include "dns/dns.h"

#define RESOLV_DEFAULT "/etc/resolv.conf"
#define NAMES_MAX 64

struct dns_state {
	struct dns_server *srv;
};

static const char *host_resolv_path(void)
{
	const char *p = getenv("BERTH_RESOLV_CONF");

	return p && *p ? p : RESOLV_DEFAULT;
}

/* A container uses the embedded DNS while it has an endpoint on a real network (one with
 * interfaces). host and none keep the host's resolver semantics: no listener, no records —
 * a container on none must not reach anything, not even upstream DNS through berthd. */
static bool ctr_dns_wanted(struct manager *m, const struct ctr_entry *c, const struct ep_entry *skip)
{
	const struct ep_group *g = mgr_ep_group(m, c->c.id);

	if (mgr_ctr_host_netns(m, c))
		return false;
	for (size_t i = 0; g && i < g->eps.n; i++) {
		const struct ep_entry *ep = g->eps.v[i];
		const struct net_entry *n;

		if (ep == skip)
			continue;
		n = mgr_net_by_id(m, ep->e.network_id);
		if (n && n->drv && n->drv->join)
			return true;
	}
	return false;
}

/* As in Docker, the predefined "bridge" network resolves no container names, and neither
 * does berth_gwbridge (the overlay containers' way out, as docker_gwbridge). */
static bool net_has_names(const struct net_entry *n)
{
	return strcmp(n->n.name, "bridge") != 0 && strcmp(n->n.name, "berth_gwbridge") != 0;
}

/* The records of one endpoint: its container's name, its aliases and the short ID. */
static void records_set(struct manager *m, const char *ep_id, const char *net_id,
			const char *ctr_name, const char *ctr_id, const char *hostname,
			const cJSON *aliases, const struct ipaddr *ip4, const struct ipaddr *ip6)
{
	const struct net_entry *n = mgr_net_by_id(m, net_id);
	_cleanup_free_ char *qualified = NULL;
	const char *names[NAMES_MAX];
	struct ipaddr addrs[2] = { *ip4, *ip6 };
	char short_id[SHORT_ID_LEN + 1];
	const cJSON *it;
	size_t k = 0;

	names[k++] = ctr_name;
	cJSON_ArrayForEach(it, aliases)
		if (cJSON_IsString(it) && k < NAMES_MAX - 3)
			names[k++] = it->valuestring;
	strscpy(short_id, ctr_id, sizeof(short_id));
	names[k++] = short_id;
	if (n) {
		qualified = xasprintf("%s.%s", ctr_name, n->n.name);
		names[k++] = qualified;
	}
	if (hostname && hostname[0] && strcmp(hostname, ctr_name) != 0)
		names[k++] = hostname;
	dns_server_ep_set(m->dns->srv, ep_id, net_id, names, k, addrs, 2);
}

/* The names of a container on a network: its name (first: the PTR target), aliases, short ID,
 * <name>.<network> and its host name, as Docker resolves them. */
static void ep_push(struct manager *m, struct ctr_entry *c, struct ep_entry *ep)
{
	struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);

	if (!m->dns || !n || !net_has_names(n))
		return;
	records_set(m, ep->e.id, n->n.id, c->c.name, c->c.id, c->c.hostname, ep->e.aliases,
		    &ep->e.ip4, &ep->e.ip6);
}

void mgr_dns_remote_set(struct manager *m, const char *ep_id, const char *net_id,
			const char *ctr_name, const char *ctr_id, const cJSON *aliases,
			const struct ipaddr *ip4, const struct ipaddr *ip6)
{
	if (m->dns)
		records_set(m, ep_id, net_id, ctr_name, ctr_id, NULL, aliases, ip4, ip6);
}

void mgr_dns_remote_del(struct manager *m, const char *ep_id)
{
	if (m->dns)
		dns_server_ep_del(m->dns->srv, ep_id);
}

static size_t extra_upstreams(const struct ctr_entry *c, struct ipaddr up[DNS_MAX_UPSTREAMS])
{
	const cJSON *dns = cJSON_GetObjectItemCaseSensitive(c->c.extra, "Dns"), *it;
	size_t n = 0;

	cJSON_ArrayForEach(it, dns)
		if (cJSON_IsString(it) && n < DNS_MAX_UPSTREAMS &&
		    ip_parse(it->valuestring, &up[n], NULL) >= 0)
			n++;
	return n;
}

/* Gateways of every network: an upstream there would bring queries back to us. */
static void forbid_refresh(struct manager *m)
{
	struct ipaddr *gw = xcalloc(m->nets.n * NET_MAX_SUBNETS + 1, sizeof(*gw));
	size_t n = 0;

	for (size_t i = 0; i < m->nets.n; i++)
		for (int k = 0; k < m->nets.v[i]->n.n_subnets; k++)
			if (m->nets.v[i]->n.subnets[k].gateway.family)
				gw[n++] = m->nets.v[i]->n.subnets[k].gateway;
	dns_server_forbid(m->dns->srv, gw, n);
	free(gw);
}

/* Search domains as in the container's resolv.conf: --dns-search, else the host's. */
static size_t client_search(const struct ctr_entry *c, const struct dns_resolv *host,
			    char ret[DNS_MAX_SEARCH][DNS_NAME_MAX + 1])
{
	const cJSON *search = cJSON_GetObjectItemCaseSensitive(c->c.extra, "DnsSearch"), *it;
	size_t n = 0;

	if (!cJSON_IsArray(search) || cJSON_GetArraySize(search) == 0) {
		for (; n < host->n_search; n++)
			strscpy(ret[n], host->search[n], sizeof(ret[n]));
	} else {
		cJSON_ArrayForEach(it, search)
			if (cJSON_IsString(it) && strcmp(it->valuestring, ".") != 0 &&
			    n < DNS_MAX_SEARCH)
				strscpy(ret[n++], it->valuestring, sizeof(ret[0]));
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(ret[i]);

		for (char *p = ret[i]; *p; p++)
			*p = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
		if (len && ret[i][len - 1] == '.')
			ret[i][len - 1] = '\0';
	}
	return n;
}

/* What the container sees: the networks of its active endpoints (but skip), forwarding unless
 * all of them are internal, its own upstreams, its search domains. */
static void client_refresh(struct manager *m, struct ctr_entry *c, const struct ep_entry *skip)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	size_t n_eps = mgr_ctr_eps(m, c->c.id, &eps);
	_cleanup_free_ const char **nets = xcalloc(n_eps + 1, sizeof(*nets));
	char search[DNS_MAX_SEARCH][DNS_NAME_MAX + 1];
	const char *search_v[DNS_MAX_SEARCH];
	struct ipaddr up[DNS_MAX_UPSTREAMS];
	struct dns_client_view v = { .nets = nets, .up = up, .search = search_v };
	struct dns_resolv host;

	if (!m->dns)
		return;
	for (size_t i = 0; i < n_eps; i++) {
		struct net_entry *n = mgr_net_by_id(m, eps[i]->e.network_id);

		if (!n || eps[i] == skip || eps[i]->e.state != EP_ACTIVE)
			continue;
		nets[v.n_nets++] = n->n.id;
		v.forward |= !n->n.internal;
	}
	v.n_up = extra_upstreams(c, up);
	dns_resolv_load(host_resolv_path(), &host);
	v.n_search = client_search(c, &host, search);
	for (size_t i = 0; i < v.n_search; i++)
		search_v[i] = search[i];
	dns_server_client_set(m->dns->srv, c->c.id, &v);
}

static int listeners_open(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	_cleanup_free_ char *path = mgr_ctr_netns_path(m, &c->c);
	_cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	int udp, tcp, r;

	if (nsfd < 0)
		return berr_errno(err, -errno, "opening network namespace %s", path);
	r = dns_listener_open(nsfd, &udp, &tcp, err);
	if (r >= 0)
		r = dns_server_client_add(m->dns->srv, c->c.id, udp, tcp, err);
	if (r < 0)
		return berr_prefix(err, "embedded DNS for container %s", c->c.name);
	c->dns_listening = true;
	client_refresh(m, c, NULL);
	return 0;
}

/* Adopt the containers that kept running across a restart. */
static void adopt_running(struct manager *m)
{
	for (size_t i = 0; i < m->ctrs.n; i++) {
		struct ctr_entry *c = m->ctrs.v[i];
		_cleanup_free_ struct ep_entry **eps = NULL;
		size_t n = mgr_ctr_eps(m, c->c.id, &eps);
		struct berr err = BERR_INIT;

		if (c->c.state != CTR_RUNNING || !ctr_dns_wanted(m, c, NULL))
			continue;
		for (size_t k = 0; k < n; k++)
			if (eps[k]->e.state == EP_ACTIVE)
				ep_push(m, c, eps[k]);
		if (listeners_open(m, c, &err) < 0)
			blog_warn("%s", berr_str(&err));
	}
}

int mgr_dns_init(struct manager *m, struct berr *err)
{
	struct dns_state *d = xcalloc(1, sizeof(*d));
	int r;

	r = dns_server_new(host_resolv_path(), &d->srv, err);
	if (r < 0) {
		free(d);
		return berr_prefix(err, "starting the embedded DNS server");
	}
	m->dns = d;
	forbid_refresh(m);
	adopt_running(m);
	return 0;
}

void mgr_dns_close(struct manager *m)
{
	if (!m->dns)
		return;
	dns_server_free(m->dns->srv);
	free(m->dns);
	m->dns = NULL;
}

int mgr_dns_container_started(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	if (!m->dns || c->dns_listening || !ctr_dns_wanted(m, c, NULL))
		return 0;
	forbid_refresh(m);
	return listeners_open(m, c, err);
}

void mgr_dns_container_stopped(struct manager *m, struct ctr_entry *c)
{
	if (m->dns)
		dns_server_client_del(m->dns->srv, c->c.id);
	c->dns_listening = false;
}

/* Also opens the listeners of a running container joining its first real network (e.g. after
 * leaving none). During a start the namespace exists already: endpoints come before the process. */
int mgr_dns_endpoint_added(struct manager *m, struct ctr_entry *c, struct ep_entry *ep,
			   struct berr *err)
{
	if (!m->dns || !ctr_dns_wanted(m, c, NULL))
		return 0;
	ep_push(m, c, ep);
	forbid_refresh(m);
	if (!c->dns_listening)
		return listeners_open(m, c, err);
	client_refresh(m, c, NULL);
	return 0;
}

void mgr_dns_endpoint_removed(struct manager *m, struct ctr_entry *c, struct ep_entry *ep)
{
	if (!m->dns)
		return;
	dns_server_ep_del(m->dns->srv, ep->e.id);
	if (c->dns_listening && !ctr_dns_wanted(m, c, ep)) {
		mgr_dns_container_stopped(m, c);
		return;
	}
	client_refresh(m, c, ep);
}

/* ---- resolv.conf ---- */

static void str_append(char **out, const char *fmt, const char *arg)
{
	char *piece = xasprintf(fmt, arg), *next = xasprintf("%s%s", *out, piece);

	free(piece);
	free(*out);
	*out = next;
}

/* The host's resolvers, minus loopback ones a container cannot reach (host/none modes). */
static char *resolv_host_render(void)
{
	_cleanup_free_ char *host = NULL;
	char *out = xstrdup(""), *save = NULL;

	if (read_file(host_resolv_path(), 65536, &host, NULL, NULL) < 0)
		return out;
	for (char *line = strtok_r(host, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "nameserver", 10) == 0) {
			const char *ip = line + 10 + strspn(line + 10, " \t");

			if (strncmp(ip, "127.", 4) == 0 || strncmp(ip, "::1", 3) == 0)
				continue;
		} else if (strncmp(line, "search", 6) != 0 && strncmp(line, "options", 7) != 0) {
			continue;
		}
		str_append(&out, "%s\n", line);
	}
	return out;
}

static bool json_strings_have_prefix(const cJSON *arr, const char *prefix)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && strncmp(it->valuestring, prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static void resolv_search_render(char **out, const struct ctr_entry *c,
				 const struct dns_resolv *host)
{
	const cJSON *search = cJSON_GetObjectItemCaseSensitive(c->c.extra, "DnsSearch"), *it;
	char *line = xstrdup("");

	if (cJSON_IsArray(search) && cJSON_GetArraySize(search) > 0) {
		cJSON_ArrayForEach(it, search)     /* "." alone: no search domain (Docker) */
			if (cJSON_IsString(it) && strcmp(it->valuestring, ".") != 0)
				str_append(&line, " %s", it->valuestring);
	} else {
		for (size_t i = 0; i < host->n_search; i++)
			str_append(&line, " %s", host->search[i]);
	}
	if (*line)
		str_append(out, "search%s\n", line);
	free(line);
}

static void resolv_options_render(char **out, const struct ctr_entry *c,
				  const struct dns_resolv *host)
{
	const cJSON *opts = cJSON_GetObjectItemCaseSensitive(c->c.extra, "DnsOptions"), *it;
	_cleanup_free_ char *words = xstrdup(host->options);
	char *line = xstrdup(""), *save = NULL;

	if (!json_strings_have_prefix(opts, "ndots:"))
		str_append(&line, " %s", "ndots:0");
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (strncmp(w, "ndots:", 6) != 0)
			str_append(&line, " %s", w);
	cJSON_ArrayForEach(it, opts)
		if (cJSON_IsString(it))
			str_append(&line, " %s", it->valuestring);
	str_append(out, "options%s\n", line);
	free(line);
}

char *mgr_dns_resolv_conf(struct manager *m, struct ctr_entry *c)
{
	struct dns_resolv host;
	char *out;

	if (!ctr_dns_wanted(m, c, NULL))
		return resolv_host_render();
	dns_resolv_load(host_resolv_path(), &host);
	out = xstrdup("# Generated by berth: the embedded DNS server answers container names and "
		      "forwards other names upstream.\nnameserver " DNS_LISTEN_ADDR "\n");
	resolv_search_render(&out, c, &host);
	resolv_options_render(&out, c, &host);
	return out;
}

/* ---- API: lookups and counters ---- */

struct lookup_view {
	char **nets;
	size_t n;
	bool forward;
};

static void view_free(struct lookup_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->nets[i]);
	free(v->nets);
}

/* Copies what a container on network ref (NULL: on every network) would see. */
static int view_get(struct manager *m, const char *ref, struct lookup_view *v, struct berr *err)
{
	struct net_entry *n = NULL;

	memset(v, 0, sizeof(*v));
	if (!m->dns)
		return berr_set(err, -ENOTCONN, "the embedded DNS server is not running");
	if (ref && *ref) {
		n = mgr_net_find(m, ref, err);
		if (!n)
			return err->code;
		v->nets = xcalloc(1, sizeof(char *));
		v->nets[v->n++] = xstrdup(n->n.id);
		v->forward = !n->n.internal;
		return 0;
	}
	v->nets = xcalloc(m->nets.n + 1, sizeof(char *));
	for (size_t i = 0; i < m->nets.n; i++)
		v->nets[v->n++] = xstrdup(m->nets.v[i]->n.id);
	v->forward = true;
	return 0;
}

static cJSON *rr_render(const struct dns_rr *rr)
{
	cJSON *o = cJSON_CreateObject();
	char buf[IP_STRLEN];

	cJSON_AddStringToObject(o, "Type", dns_type_str(rr->type));
	cJSON_AddStringToObject(o, "Data", rr->type == DNS_T_A || rr->type == DNS_T_AAAA
					   ? ip_fmt(&rr->ip, buf) : rr->target);
	cJSON_AddNumberToObject(o, "TTL", rr->ttl);
	return o;
}

static cJSON *lookup_render(const char *name, const char *qname, int type, const char *net,
			    const struct dns_result *res, bool local)
{
	cJSON *o = cJSON_CreateObject(), *answers;

	cJSON_AddStringToObject(o, "Name", name);
	cJSON_AddStringToObject(o, "Query", qname);
	cJSON_AddStringToObject(o, "Type", dns_type_str((uint16_t)type));
	cJSON_AddStringToObject(o, "Network", net ? net : "");
	cJSON_AddStringToObject(o, "Source", local ? "local" : "upstream");
	cJSON_AddStringToObject(o, "Rcode", dns_rcode_str(res->rcode));
	answers = cJSON_AddArrayToObject(o, "Answers");
	for (size_t i = 0; i < res->n; i++)
		cJSON_AddItemToArray(answers, rr_render(&res->rrs[i]));
	return o;
}

int mgr_dns_lookup(struct manager *m, const char *name, const char *network, const char *type,
		   cJSON **ret, struct berr *err)
{
	int qtype = type && *type ? dns_type_parse(type) : DNS_T_A;
	char qname[DNS_NAME_MAX + 1];
	struct dns_result res;
	struct lookup_view v;
	struct ipaddr ip;
	bool local = false;
	int r;

	if (qtype < 0)
		return berr_set(err, -EINVAL, "unknown record type \"%s\": use A, AAAA or PTR", type);
	if (!name || !*name || strlen(name) > DNS_NAME_MAX)
		return berr_set(err, -EINVAL, "a name (at most %d characters) is required",
				DNS_NAME_MAX);
	if (qtype == DNS_T_PTR && ip_parse(name, &ip, NULL) >= 0)
		dns_ptr_name(&ip, qname);
	else
		strscpy(qname, name, sizeof(qname));
	for (char *p = qname; *p; p++)
		*p = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
	if (*qname && qname[strlen(qname) - 1] == '.')
		qname[strlen(qname) - 1] = '\0';
	pthread_mutex_lock(&m->lock);
	r = view_get(m, network, &v, err);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		return r;
	/* Without the manager lock: forwarding may take a while. The server outlives requests. */
	r = dns_server_resolve(m->dns->srv, qname, (uint16_t)qtype, (const char *const *)v.nets,
			       v.n, v.forward, &res, &local, err);
	view_free(&v);
	if (r < 0)
		return r;
	*ret = lookup_render(name, qname, qtype, network, &res, local);
	return 0;
}

int mgr_dns_stats(struct manager *m, cJSON **ret, struct berr *err)
{
	struct dns_stats st;
	cJSON *o;

	pthread_mutex_lock(&m->lock);
	if (!m->dns) {
		pthread_mutex_unlock(&m->lock);
		return berr_set(err, -ENOTCONN, "the embedded DNS server is not running");
	}
	dns_server_stats(m->dns->srv, &st);
	pthread_mutex_unlock(&m->lock);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "Answered", (double)st.answered);
	cJSON_AddNumberToObject(o, "Forwarded", (double)st.forwarded);
	cJSON_AddNumberToObject(o, "Failed", (double)st.failed);
	cJSON_AddNumberToObject(o, "Refused", (double)st.refused);
	cJSON_AddNumberToObject(o, "Dropped", (double)st.dropped);
	cJSON_AddNumberToObject(o, "Formerr", (double)st.formerr);
	cJSON_AddNumberToObject(o, "Listeners", (double)st.listeners);
	cJSON_AddNumberToObject(o, "TCPConnections", (double)st.tcp_conns);
	cJSON_AddNumberToObject(o, "Records", (double)st.records);
	cJSON_AddNumberToObject(o, "Pending", (double)st.pending);
	*ret = o;
	return 0;
}
