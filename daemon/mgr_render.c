/* SPDX-License-Identifier: Apache-2.0 */
/* JSON views of networks and containers, shaped like the Docker Engine API. */
#include <stdarg.h>
#include <time.h>

#include "daemon/mgr_internal.h"

static void add_ip(cJSON *o, const char *key, const struct ipaddr *a)
{
	char buf[IP_STRLEN];

	cJSON_AddStringToObject(o, key, a->family ? ip_fmt(a, buf) : "");
}

static int prefix_of(const struct bnetwork *n, const struct ipaddr *a)
{
	for (int i = 0; i < n->n_subnets; i++)
		if (cidr_contains(&n->subnets[i].subnet, a))
			return n->subnets[i].subnet.prefix;
	return 0;
}

static void add_cidr(cJSON *o, const char *key, const struct bnetwork *n, const struct ipaddr *a)
{
	struct cidr c = { .addr = *a, .prefix = prefix_of(n, a) };
	char buf[CIDR_STRLEN];

	cJSON_AddStringToObject(o, key, a->family ? cidr_fmt(&c, buf) : "");
}

static cJSON *render_ipam(const struct bnetwork *n)
{
	cJSON *ipam = cJSON_CreateObject(), *cfgs = cJSON_CreateArray();
	char buf[CIDR_STRLEN];

	cJSON_AddStringToObject(ipam, "Driver", "default");
	cJSON_AddItemToObject(ipam, "Options", cJSON_CreateObject());
	for (int i = 0; i < n->n_subnets; i++) {
		const struct bsubnet *s = &n->subnets[i];
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "Subnet", cidr_fmt(&s->subnet, buf));
		if (s->gateway.family)
			add_ip(c, "Gateway", &s->gateway);
		if (s->range.addr.family)
			cJSON_AddStringToObject(c, "IPRange", cidr_fmt(&s->range, buf));
		if (cJSON_GetArraySize(s->aux) > 0)
			cJSON_AddItemToObject(c, "AuxiliaryAddresses", cJSON_Duplicate(s->aux, 1));
		cJSON_AddItemToArray(cfgs, c);
	}
	cJSON_AddItemToObject(ipam, "Config", cfgs);
	return ipam;
}

/* Per entry of IPAM.Config: its addresses in use and free (mgr_pools.c), and whether berth chose
 * the subnet and the gateway (Docker shows a gateway only when it was asked or the subnet chosen
 * for it). */
static cJSON *render_subnets(const struct net_entry *n)
{
	cJSON *a = mgr_render_pool_usage(n);

	for (int i = 0; i < n->n.n_subnets; i++) {
		cJSON *o = cJSON_GetArrayItem(a, i);

		if (!o)
			break;
		cJSON_AddBoolToObject(o, "SubnetAuto", n->n.subnets[i].subnet_auto);
		cJSON_AddBoolToObject(o, "GatewayAuto", n->n.subnets[i].gateway_auto);
	}
	return a;
}

static cJSON *render_net_containers(struct manager *m, struct net_entry *n)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < m->eps.n; i++) {
		struct bendpoint *e = &m->eps.v[i]->e;
		struct ctr_entry *c;
		cJSON *x;

		if (strcmp(e->network_id, n->n.id) != 0 || e->state != EP_ACTIVE)
			continue;
		c = mgr_ctr_by_id(m, e->container_id);
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "Name", c ? c->c.name : "");
		cJSON_AddStringToObject(x, "EndpointID", e->id);
		cJSON_AddStringToObject(x, "MacAddress", e->mac);
		add_cidr(x, "IPv4Address", &n->n, &e->ip4);
		add_cidr(x, "IPv6Address", &n->n, &e->ip6);
		cJSON_AddItemToObject(o, e->container_id, x);
	}
	return o;
}

cJSON *mgr_render_network(struct manager *m, struct net_entry *n)
{
	cJSON *o = cJSON_CreateObject(), *b = cJSON_CreateObject();
	cJSON *containers = render_net_containers(m, n);

	cJSON_AddStringToObject(o, "Name", n->n.name);
	cJSON_AddStringToObject(o, "Id", n->n.id);
	cJSON_AddStringToObject(o, "Created", n->n.created);
	cJSON_AddStringToObject(o, "Scope", n->drv && n->drv->global_scope ? "global" : "local");
	cJSON_AddStringToObject(o, "Driver", n->n.driver);
	cJSON_AddBoolToObject(o, "EnableIPv6", n->n.ipv6);
	cJSON_AddItemToObject(o, "IPAM", render_ipam(&n->n));
	cJSON_AddBoolToObject(o, "Internal", n->n.internal);
	cJSON_AddBoolToObject(o, "Attachable", n->n.attachable);
	cJSON_AddItemToObject(o, "Containers", containers);
	cJSON_AddItemToObject(o, "Options", cJSON_Duplicate(n->n.options, 1));
	cJSON_AddItemToObject(o, "Labels", cJSON_Duplicate(n->n.labels, 1));
	cJSON_AddStringToObject(b, "Bridge", n->n.ifname);
	if (n->n_spill > 1)   /* spilled over several bridges (mgr_spill.c): all of them */
		mgr_spill_names(n, cJSON_AddArrayToObject(b, "Bridges"));
	if (n->n.mtu)
		cJSON_AddNumberToObject(b, "MTU", n->n.mtu);
	cJSON_AddBoolToObject(b, "Predefined", mgr_net_predefined(n));
	cJSON_AddItemToObject(b, "Subnets", render_subnets(n));
	cJSON_AddItemToObject(o, "Berth", b);
	if (n->drv && n->drv->global_scope)
		mgr_cluster_render(m, n, o, containers);
	return o;
}

static const char *state_name(enum ctr_state s)
{
	return s == CTR_RUNNING ? "running" : s == CTR_EXITED ? "exited" : "created";
}

static const struct ipaddr *gateway_for(const struct bnetwork *n, const struct ipaddr *a)
{
	for (int i = 0; i < n->n_subnets; i++)
		if (a->family && cidr_contains(&n->subnets[i].subnet, a))
			return &n->subnets[i].gateway;
	return NULL;
}

static cJSON *render_endpoint(struct net_entry *n, const struct bendpoint *e)
{
	cJSON *o = cJSON_CreateObject(), *ipam = cJSON_CreateObject(), *b = cJSON_CreateObject();
	const struct ipaddr *gw4 = n ? gateway_for(&n->n, &e->ip4) : NULL;
	const struct ipaddr *gw6 = n ? gateway_for(&n->n, &e->ip6) : NULL;
	static const struct ipaddr none;

	add_ip(ipam, "IPv4Address", &e->req_ip4);
	add_ip(ipam, "IPv6Address", &e->req_ip6);
	cJSON_AddItemToObject(o, "IPAMConfig", ipam);
	cJSON_AddItemToObject(o, "Aliases", cJSON_Duplicate(e->aliases, 1));
	cJSON_AddStringToObject(o, "NetworkID", e->network_id);
	cJSON_AddStringToObject(o, "EndpointID", e->state == EP_ACTIVE ? e->id : "");
	add_ip(o, "Gateway", gw4 ? gw4 : &none);
	add_ip(o, "IPAddress", &e->ip4);
	cJSON_AddNumberToObject(o, "IPPrefixLen", n && e->ip4.family ? prefix_of(&n->n, &e->ip4) : 0);
	add_ip(o, "IPv6Gateway", gw6 ? gw6 : &none);
	add_ip(o, "GlobalIPv6Address", &e->ip6);
	cJSON_AddNumberToObject(o, "GlobalIPv6PrefixLen",
				n && e->ip6.family ? prefix_of(&n->n, &e->ip6) : 0);
	cJSON_AddStringToObject(o, "MacAddress", e->state == EP_ACTIVE ? e->mac : "");
	cJSON_AddStringToObject(b, "Interface", e->ifname);
	cJSON_AddStringToObject(b, "HostInterface", e->host_ifname);
	if (e->state == EP_ACTIVE && e->host_ifname[0] && n)   /* the bridge it is a port of */
		cJSON_AddStringToObject(b, "Bridge", e->master[0] ? e->master : n->n.ifname);
	cJSON_AddStringToObject(b, "State", e->state == EP_ACTIVE ? "active" :
					    e->state == EP_PENDING ? "pending" : "inactive");
	cJSON_AddItemToObject(o, "Berth", b);
	return o;
}

static cJSON *render_networks(struct manager *m, struct ctr_entry *c)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	size_t n = mgr_ctr_eps(m, c->c.id, &eps);
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < n; i++) {
		struct net_entry *net = mgr_net_by_id(m, eps[i]->e.network_id);

		cJSON_AddItemToObject(o, net ? net->n.name : eps[i]->e.network_id,
				      render_endpoint(net, &eps[i]->e));
	}
	if (n == 0 && c->c.network_mode[0])
		cJSON_AddItemToObject(o, c->c.network_mode, cJSON_CreateObject());
	return o;
}

static cJSON *render_state(const struct bcontainer *c)
{
	cJSON *s = cJSON_CreateObject();

	cJSON_AddStringToObject(s, "Status", state_name(c->state));
	cJSON_AddBoolToObject(s, "Running", c->state == CTR_RUNNING);
	cJSON_AddNumberToObject(s, "Pid", c->state == CTR_RUNNING ? c->pid : 0);
	cJSON_AddBoolToObject(s, "OOMKilled", mgr_ctr_oom_killed(c));
	cJSON_AddNumberToObject(s, "ExitCode", c->exit_code);
	cJSON_AddStringToObject(s, "StartedAt", c->started_at[0] ? c->started_at :
						 "0001-01-01T00:00:00Z");
	cJSON_AddStringToObject(s, "FinishedAt", c->finished_at[0] ? c->finished_at :
						  "0001-01-01T00:00:00Z");
	return s;
}

static void add_fmt(cJSON *o, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_fmt(cJSON *o, const char *key, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	cJSON_AddStringToObject(o, key, s ? s : "");
	free(s);
}

/* Where the container's files are (its log, /etc files, writable layer, image). */
static cJSON *render_paths(struct manager *m, struct ctr_entry *c)
{
	_cleanup_free_ char *state = mgr_ctr_state_dir(m, &c->c);
	_cleanup_free_ char *run = mgr_ctr_run_dir(m, &c->c);
	cJSON *p = cJSON_CreateObject();

	add_fmt(p, "Log", "%s/container.log", state);
	add_fmt(p, "Hosts", "%s/hosts", run);
	add_fmt(p, "Resolv", "%s/resolv.conf", run);
	add_fmt(p, "Upper", "%s/upper", state);
	add_fmt(p, "Work", "%s/work", state);
	add_fmt(p, "Merged", "%s/rootfs", run);
	add_fmt(p, "Image", "%s/images/%s/rootfs", m->root, c->c.image);
	if (mgr_ctr_host_netns(m, c))
		add_fmt(p, "Netns", "/proc/%d/ns/net", (int)getpid());   /* berthd's: the host's */
	else
		add_fmt(p, "Netns", "%s/netns/%s", m->run, c->c.id);
	return p;
}

/* berth's own details, for its CLI and for the Docker shapes built from them (api_docker.c):
 * the settings kept verbatim (extra), the image ID, the files. */
static cJSON *render_berth(struct manager *m, struct ctr_entry *c)
{
	cJSON *b = cJSON_CreateObject();
	char id[MGR_IMAGE_ID_LEN];

	mgr_image_id(m, c->c.image, id);
	cJSON_AddItemToObject(b, "Extra", cJSON_Duplicate(c->c.extra, 1));
	cJSON_AddStringToObject(b, "ImageID", id);
	cJSON_AddItemToObject(b, "Paths", render_paths(m, c));
	cJSON_AddStringToObject(b, "StartedAt", c->c.started_at);
	cJSON_AddStringToObject(b, "FinishedAt", c->c.finished_at);
	cJSON_AddNumberToObject(b, "ExitCode", c->c.exit_code);
	return b;
}

cJSON *mgr_render_container(struct manager *m, struct ctr_entry *c)
{
	cJSON *o = cJSON_CreateObject(), *cfg = cJSON_CreateObject(), *hc = cJSON_CreateObject();
	cJSON *ns = cJSON_CreateObject(), *args = mgr_ctr_argv(&c->c);
	_cleanup_free_ char *sandbox = mgr_ctr_netns_path(m, &c->c);
	_cleanup_free_ char *name = xasprintf("/%s", c->c.name);
	cJSON *first = cJSON_DetachItemFromArray(args, 0);
	const cJSON *labels;

	cJSON_AddStringToObject(o, "Id", c->c.id);
	cJSON_AddStringToObject(o, "Name", name);
	cJSON_AddStringToObject(o, "Created", c->c.created);
	cJSON_AddStringToObject(o, "Image", c->c.image);
	cJSON_AddStringToObject(o, "Path", first && cJSON_IsString(first) ? first->valuestring : "");
	cJSON_Delete(first);
	cJSON_AddItemToObject(o, "Args", args);
	cJSON_AddItemToObject(o, "State", render_state(&c->c));
	cJSON_AddStringToObject(cfg, "Hostname", c->c.hostname);
	cJSON_AddStringToObject(cfg, "Image", c->c.image);
	cJSON_AddItemToObject(cfg, "Cmd", cJSON_Duplicate(c->c.cmd, 1));
	cJSON_AddItemToObject(cfg, "Env", cJSON_Duplicate(c->c.env, 1));
	mgr_render_image_config(cfg, &c->c);
	mgr_render_tty_config(cfg, &c->c);
	labels = cJSON_GetObjectItemCaseSensitive(c->c.extra, "Labels");
	cJSON_AddItemToObject(cfg, "Labels", labels ? cJSON_Duplicate(labels, 1) : cJSON_CreateObject());
	cJSON_AddItemToObject(o, "Config", cfg);
	cJSON_AddStringToObject(hc, "NetworkMode", c->c.network_mode);
	cJSON_AddBoolToObject(hc, "AutoRemove", c->c.auto_remove);
	mgr_render_resources(hc, &c->c);
	mgr_render_extra_hosts(hc, &c->c);
	cJSON_AddItemToObject(o, "HostConfig", hc);
	cJSON_AddStringToObject(ns, "SandboxKey", c->c.state == CTR_RUNNING &&
					    strcmp(c->c.network_mode, "host") != 0 ? sandbox : "");
	cJSON_AddItemToObject(ns, "Ports", mgr_fw_render_ports(m, c));
	cJSON_AddItemToObject(ns, "Networks", render_networks(m, c));
	cJSON_AddItemToObject(o, "NetworkSettings", ns);
	cJSON_AddItemToObject(o, "Berth", render_berth(m, c));
	if (mgr_ctr_external(c))
		cJSON_AddItemToObject(o, "External", mgr_ext_render(c));
	return o;
}

static int64_t rfc3339_unix(const char *s)
{
	struct tm tm = { 0 };

	if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

/* Whole seconds from an RFC 3339 time (with its fraction) to now. */
static int64_t seconds_since(const char *s)
{
	const char *dot = strchr(s, '.');
	int64_t frac = 0, scale = 100000000;
	struct timespec now;

	for (const char *p = dot ? dot + 1 : ""; *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
		frac += (*p - '0') * scale;
	clock_gettime(CLOCK_REALTIME, &now);
	return ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec -
		(rfc3339_unix(s) * 1000000000 + frac)) / 1000000000;
}

/* As Docker: "Up Less than a second", "Up 5 seconds", "Exited (0) About a minute ago". */
static char *status_text(const struct bcontainer *c, bool external)
{
	char d[64];

	if (c->state == CTR_RUNNING) {
		human_duration(seconds_since(c->started_at), d, sizeof(d));
		return xasprintf("Up %s%s", d, external ? " (external: CNI)" : "");
	}
	if (c->state == CTR_EXITED) {
		human_duration(seconds_since(c->finished_at), d, sizeof(d));
		return xasprintf("Exited (%d) %s ago", c->exit_code, d);
	}
	return xstrdup("Created");
}

cJSON *mgr_render_container_summary(struct manager *m, struct ctr_entry *c)
{
	cJSON *o = cJSON_CreateObject(), *names = cJSON_CreateArray(), *ns = cJSON_CreateObject();
	_cleanup_free_ char *name = xasprintf("/%s", c->c.name);
	_cleanup_free_ char *status = status_text(&c->c, mgr_ctr_external(c));
	_cleanup_free_ char *cmd = xstrdup("");
	_cleanup_(json_deletep) cJSON *argv = mgr_ctr_argv(&c->c);
	const cJSON *it;

	cJSON_ArrayForEach(it, argv) {
		char *next = xasprintf("%s%s%s", cmd, *cmd ? " " : "", it->valuestring);

		free(cmd);
		cmd = next;
	}
	cJSON_AddStringToObject(o, "Id", c->c.id);
	cJSON_AddItemToArray(names, cJSON_CreateString(name));
	cJSON_AddItemToObject(o, "Names", names);
	cJSON_AddStringToObject(o, "Image", c->c.image);
	cJSON_AddStringToObject(o, "Command", cmd);
	cJSON_AddNumberToObject(o, "Created", (double)rfc3339_unix(c->c.created));
	cJSON_AddStringToObject(o, "State", state_name(c->c.state));
	cJSON_AddStringToObject(o, "Status", status);
	cJSON_AddItemToObject(ns, "Networks", render_networks(m, c));
	cJSON_AddItemToObject(o, "NetworkSettings", ns);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "HostConfig"), "NetworkMode",
				c->c.network_mode);
	cJSON_AddItemToObject(o, "Berth", render_berth(m, c));
	if (mgr_ctr_external(c))
		cJSON_AddItemToObject(o, "External", mgr_ext_render(c));
	return o;
}
