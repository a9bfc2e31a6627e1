/* SPDX-License-Identifier: Apache-2.0 */
/* External sandboxes: network namespaces that berth did not create (a CNI runtime's, e.g.
 * podman's), attached to berth networks by berth-cni (plugins/cni) through the same endpoint
 * operations as `berth network connect`: IPAM, the driver's join, firewall elements, DNS
 * records and listeners, default routes.
 *
 * A sandbox is a container record with no process, marked extra.External = {Kind: "cni",
 * ContainerID, Netns, NetnsIno}, its ID derived from CNI_CONTAINERID (one sandbox per runtime
 * container: every attachment of a container shares its namespace, its DNS listener and its
 * default routes). An attachment, keyed by (CNI_CONTAINERID, CNI_IFNAME), is an endpoint of the
 * sandbox whose interface is named CNI_IFNAME. The runtime's namespace is bind-mounted at
 * <run>/netns/<id>, where the manager finds every sandbox's namespace, so nothing else needs to
 * know a sandbox is external; the namespace counts as gone when the runtime's path no longer
 * names it (removed, or another namespace there), and the sandbox is then released: at start-up,
 * by a sweep every few seconds, by GC, and before an ADD that reuses its container ID or name. */
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include "common/names.h"
#include "daemon/mgr_internal.h"
#include "drivers/common.h"

#define EXT_KEY "External"
#define EXT_CID_MAX 256                /* CNI_CONTAINERID */
#define EXT_PATH_MAX 4096
#define EXT_SWEEP_MS_DEFAULT 5000

struct ext_state {
	int timer_fd;
};

/* ---- the record ---- */

bool mgr_ctr_external(const struct ctr_entry *c)
{
	return c && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(c->c.extra, EXT_KEY));
}

static const char *ext_str(const struct ctr_entry *c, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(c->c.extra, EXT_KEY);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(x, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static uint64_t ext_ino(const struct ctr_entry *c)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(c->c.extra, EXT_KEY);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(x, "NetnsIno");

	return cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
}

/* The sandbox ID of a runtime's container ID: 64 hex of four FNV-1a hashes, each mixed (the
 * splitmix64 finalizer) so that similar IDs give unlike sandbox IDs (and names, cni-<12 hex>). */
static void ext_id(const char *cid, char ret[ID_LEN + 1])
{
	for (int i = 0; i < 4; i++) {
		uint64_t h = hash64(cid, strlen(cid), 0x6265727468636e69ULL + (uint64_t)i);

		h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
		h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
		snprintf(ret + 16 * i, 17, "%016llx", (unsigned long long)(h ^ (h >> 31)));
	}
}

static struct ctr_entry *ext_find(struct manager *m, const char *cid)
{
	char id[ID_LEN + 1];
	struct ctr_entry *c;

	ext_id(cid, id);
	c = mgr_ctr_by_id(m, id);
	return mgr_ctr_external(c) && strcmp(ext_str(c, "ContainerID"), cid) == 0 ? c : NULL;
}

static struct ep_entry *ext_ep(struct manager *m, const struct ctr_entry *c, const char *ifname)
{
	const struct ep_group *g = mgr_ep_group(m, c->c.id);

	for (size_t i = 0; g && i < g->eps.n; i++)
		if (strcmp(g->eps.v[i]->e.ifname, ifname) == 0)
			return g->eps.v[i];
	return NULL;
}

/* The runtime's path no longer names the namespace the sandbox was made for (or berth's bind
 * mount of it is gone). */
static bool ext_gone(struct manager *m, const struct ctr_entry *c)
{
	_cleanup_free_ char *own = mgr_ctr_netns_path(m, &c->c);
	uint64_t ino = 0;

	if (netns_path_check(ext_str(c, "Netns"), &ino, NULL) < 0 || ino != ext_ino(c))
		return true;
	return netns_path_check(own, &ino, NULL) < 0 || ino != ext_ino(c);
}

static int ext_store_put(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	int r = store_begin(m->store, err);

	if (r >= 0)
		r = store_container_put(m->store, &c->c, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0)
		store_rollback(m->store);
	return r;
}

int mgr_ext_refuse(const struct ctr_entry *c, const char *what, struct berr *err)
{
	return berr_set(err, -EINVAL, "container %s is an external sandbox (attached through CNI "
			"by its runtime): it cannot be %s through berth; its runtime does that "
			"(CNI ADD/DEL)", c->c.name, what);
}

/* ---- release ---- */

/* Every attachment, the published ports, the bind mount and the record. Kernel objects that
 * cannot be removed keep the sandbox (and its pending endpoints) for the next try. */
static int ext_release(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	_cleanup_free_ char *ns = mgr_ctr_netns_path(m, &c->c);
	size_t n = mgr_ctr_eps(m, c->c.id, &eps);
	int r = 0;

	mgr_fw_ports_remove(m, c);
	for (size_t i = n; i-- > 0;)
		if (mgr_ep_deactivate(m, c, eps[i], true, err) < 0)
			r = err->code;
	if (r < 0)
		return berr_prefix(err, "releasing external sandbox %s", c->c.name);
	mgr_dns_container_stopped(m, c);
	r = netns_delete(ns, err);
	if (r >= 0)
		r = mgr_ctr_delete(m, c, err);
	return r;
}

static void ext_release_log(struct manager *m, struct ctr_entry *c, const char *why)
{
	_cleanup_free_ char *name = xstrdup(c->c.name);
	struct berr e2 = BERR_INIT;

	if (ext_release(m, c, &e2) < 0)
		blog_warn("external sandbox %s (%s): %s; retried later", name, why, berr_str(&e2));
	else
		blog_info("released external sandbox %s: %s", name, why);
}

/* Releases every external sandbox whose namespace is gone; returns how many. */
static size_t ext_sweep(struct manager *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->ctrs.n;) {
		struct ctr_entry *c = m->ctrs.v[i];

		if (!mgr_ctr_external(c) || !ext_gone(m, c)) {
			i++;
			continue;
		}
		ext_release_log(m, c, "its network namespace is gone");
		if (i < m->ctrs.n && m->ctrs.v[i] == c)
			i++;   /* kept: retried at the next sweep */
		else
			n++;
	}
	return n;
}

static size_t ext_ep_count(struct manager *m, const struct ctr_entry *c)
{
	const struct ep_group *g = mgr_ep_group(m, c->c.id);

	return g ? g->eps.n : 0;
}

/* ---- ADD: the request ---- */

struct ext_req {
	const char *cid, *ifname, *netns, *network, *name, *mac;
	uint64_t ino;
	cJSON *aliases;             /* owned */
	struct ipaddr ip4, ip6;     /* requested (family 0: none) */
	int prefix4, prefix6;       /* -1: not given */
	cJSON *ports;               /* PortBindings in Docker's shape, owned; NULL: none */
};

static void ext_req_free(struct ext_req *q)
{
	cJSON_Delete(q->aliases);
	cJSON_Delete(q->ports);
}

static int cid_validate(const char *cid, struct berr *err)
{
	size_t len = cid ? strlen(cid) : 0;
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

	if (len == 0)
		return berr_set(err, -EINVAL, "field ContainerID is required");
	if (len > EXT_CID_MAX)
		return berr_set(err, -ENAMETOOLONG, "ContainerID is longer than %d characters",
				EXT_CID_MAX);
	if (!strchr(ok, cid[0]) || cid[0] == '_' || cid[0] == '.' || cid[0] == '-' ||
	    cid[strspn(cid, ok)] != '\0')
		return berr_set(err, -EINVAL, "invalid ContainerID \"%.64s\": a letter or digit, then "
				"letters, digits, '_', '.' or '-'", cid);
	return 0;
}

static int netns_validate(struct manager *m, const char *path, uint64_t *ret_ino,
			  struct berr *err)
{
	struct stat host;
	int r;

	if (!path || !*path)
		return berr_set(err, -EINVAL, "field Netns is required");
	if (path[0] != '/' || strlen(path) >= EXT_PATH_MAX || strstr(path, "/../") ||
	    (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
		return berr_set(err, -EINVAL, "invalid Netns \"%.200s\": an absolute path without "
				"\"..\" and shorter than %d bytes is expected", path, EXT_PATH_MAX);
	r = netns_path_check(path, ret_ino, err);
	if (r < 0)
		return berr_prefix(err, "invalid Netns");
	if (fstat(m->host_netns_fd, &host) == 0 && (uint64_t)host.st_ino == *ret_ino)
		return berr_set(err, -EINVAL, "invalid Netns %s: it is berthd's own network namespace",
				path);
	return 0;
}

static int ext_ip_parse(const char *s, struct ext_req *q, struct berr *err)
{
	struct cidr c;
	int r = strchr(s, '/') ? cidr_parse(s, &c, err) : ip_parse(s, &c.addr, err);

	if (r < 0)
		return berr_prefix(err, "invalid IPs entry");
	if (!strchr(s, '/'))
		c.prefix = -1;
	if ((c.addr.family == AF_INET ? q->ip4 : q->ip6).family)
		return berr_set(err, -EINVAL, "IPs: at most one IPv4 and one IPv6 address (%s is a "
				"second one)", s);
	if (c.addr.family == AF_INET) {
		q->ip4 = c.addr;
		q->prefix4 = c.prefix;
	} else {
		q->ip6 = c.addr;
		q->prefix6 = c.prefix;
	}
	return 0;
}

/* runtimeConfig.portMappings [{hostPort, containerPort, protocol, hostIP}] as PortBindings. */
static int ext_port_add(cJSON *pb, const cJSON *pm, struct berr *err)
{
	const cJSON *hp = cJSON_GetObjectItemCaseSensitive(pm, "hostPort");
	const cJSON *cp = cJSON_GetObjectItemCaseSensitive(pm, "containerPort");
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(pm, "protocol");
	const cJSON *hip = cJSON_GetObjectItemCaseSensitive(pm, "hostIP");
	const char *proto = cJSON_IsString(pr) && *pr->valuestring ? pr->valuestring : "tcp";
	char key[64], port[16];
	cJSON *list, *b;

	if (!cJSON_IsObject(pm) || !cJSON_IsNumber(cp) || (hp && !cJSON_IsNumber(hp)) ||
	    (pr && !cJSON_IsString(pr)) || (hip && !cJSON_IsString(hip)))
		return berr_set(err, -EINVAL, "PortMappings entries must be {hostPort, containerPort, "
				"protocol, hostIP} with numbers and strings");
	if (cp->valuedouble < 1 || cp->valuedouble > 65535 ||
	    (hp && (hp->valuedouble < 0 || hp->valuedouble > 65535)) || strlen(proto) > 8)
		return berr_set(err, -EINVAL, "PortMappings: ports must be 1-65535 (hostPort 0: any)");
	snprintf(key, sizeof(key), "%d/%s", cp->valueint, proto);
	for (char *p = key; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	snprintf(port, sizeof(port), "%d", hp ? hp->valueint : 0);
	list = cJSON_GetObjectItemCaseSensitive(pb, key);
	if (!list)
		list = cJSON_AddArrayToObject(pb, key);
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "HostIp", hip ? hip->valuestring : "");
	cJSON_AddStringToObject(b, "HostPort", strcmp(port, "0") == 0 ? "" : port);
	cJSON_AddItemToArray(list, b);
	return 0;
}

static int ext_ports_parse(const cJSON *req, struct ext_req *q, struct berr *err)
{
	const cJSON *pms = cJSON_GetObjectItemCaseSensitive(req, "PortMappings"), *it;
	int r = 0;

	if (!pms || cJSON_IsNull(pms))
		return 0;
	if (!cJSON_IsArray(pms))
		return berr_set(err, -EINVAL, "field PortMappings must be an array");
	if (cJSON_GetArraySize(pms) == 0)
		return 0;
	q->ports = cJSON_CreateObject();
	cJSON_ArrayForEach(it, pms)
		if (r >= 0)
			r = ext_port_add(q->ports, it, err);
	return r;
}

static int ext_req_parse(struct manager *m, const cJSON *req, bool add, struct ext_req *q,
			 struct berr *err)
{
	cJSON *ips = NULL;
	const cJSON *it;
	int r;

	memset(q, 0, sizeof(*q));
	q->prefix4 = q->prefix6 = -1;
	r = json_string_member(req, "ContainerID", &q->cid, err);
	if (r >= 0)
		r = json_string_member(req, "IfName", &q->ifname, err);
	if (r >= 0)
		r = json_string_member(req, "Netns", &q->netns, err);
	if (r >= 0)
		r = json_string_member(req, "Network", &q->network, err);
	if (r >= 0)
		r = json_string_member(req, "Name", &q->name, err);
	if (r >= 0)
		r = json_string_member(req, "MAC", &q->mac, err);
	if (r >= 0)
		r = cid_validate(q->cid, err);
	if (r >= 0 && (!q->ifname || !*q->ifname))
		r = berr_set(err, -EINVAL, "field IfName is required");
	if (r >= 0)
		r = ifname_validate(q->ifname, err);
	if (r >= 0 && (!q->network || !*q->network))
		r = berr_set(err, -EINVAL, "field Network is required");
	if (r < 0 || !add)
		return r;
	r = netns_validate(m, q->netns, &q->ino, err);
	if (r >= 0 && q->name && *q->name)
		r = name_validate("container", q->name, err);
	if (r >= 0 && q->mac && *q->mac) {
		uint8_t mac[6];

		r = mac_parse(q->mac, mac, err);
		if (r >= 0 && (mac[0] & 1))
			r = berr_set(err, -EINVAL, "MAC %s is a multicast address", q->mac);
	}
	if (r >= 0)
		r = json_string_array(req, "Aliases", &q->aliases, err);
	if (r >= 0)
		r = json_string_array(req, "IPs", &ips, err);
	cJSON_ArrayForEach(it, ips)
		if (r >= 0)
			r = ext_ip_parse(it->valuestring, q, err);
	cJSON_Delete(ips);
	if (r >= 0)
		r = ext_ports_parse(req, q, err);
	return r;
}

/* ---- ADD: the sandbox ---- */

static int name_free(struct manager *m, const char *name, const char *cid, struct berr *err)
{
	for (size_t i = 0; i < m->ctrs.n; i++) {
		struct ctr_entry *o = m->ctrs.v[i];

		if (strcmp(o->c.name, name) != 0)
			continue;
		if (mgr_ctr_external(o) && ext_gone(m, o)) {
			ext_release_log(m, o, "its network namespace is gone and its name is reused");
			return name_free(m, name, cid, err);
		}
		if (mgr_ctr_external(o) && strcmp(ext_str(o, "ContainerID"), cid) == 0)
			return 0;
		return berr_set(err, -EEXIST, "container name \"%s\" is already in use by %s%.12s",
				name, mgr_ctr_external(o) ? "external sandbox " : "container ", o->c.id);
	}
	return 0;
}

static struct ctr_entry *ext_entry_new(const struct ext_req *q)
{
	struct ctr_entry *c = xcalloc(1, sizeof(*c));
	cJSON *x;

	ext_id(q->cid, c->c.id);
	if (q->name && *q->name)
		strscpy(c->c.name, q->name, sizeof(c->c.name));
	else
		snprintf(c->c.name, sizeof(c->c.name), "cni-%.12s", c->c.id);
	strscpy(c->c.hostname, c->c.name, sizeof(c->c.hostname));
	strscpy(c->c.image, "(cni)", sizeof(c->c.image));
	time_now_rfc3339(c->c.created);
	memcpy(c->c.started_at, c->c.created, sizeof(c->c.started_at));
	c->c.state = CTR_RUNNING;
	c->c.cmd = cJSON_CreateArray();
	c->c.env = cJSON_CreateArray();
	c->c.extra = cJSON_CreateObject();
	c->pidfd = -1;
	x = cJSON_AddObjectToObject(c->c.extra, EXT_KEY);
	cJSON_AddStringToObject(x, "Kind", "cni");
	cJSON_AddStringToObject(x, "ContainerID", q->cid);
	cJSON_AddStringToObject(x, "Netns", q->netns);
	cJSON_AddNumberToObject(x, "NetnsIno", (double)q->ino);
	return c;
}

static void ext_entry_free(struct ctr_entry *c)
{
	cJSON_Delete(c->c.cmd);
	cJSON_Delete(c->c.env);
	cJSON_Delete(c->c.extra);
	free(c);
}

/* Loopback up (the DNS listener binds 127.0.0.11) and berth's sandbox defaults. */
static int ext_netns_prepare(const char *path, struct berr *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct nlx *nl = NULL;
	int r;

	if (fd < 0)
		return berr_errno(err, -errno, "opening network namespace %s", path);
	r = nlx_open(fd, &nl, err);
	if (r >= 0)
		r = nlx_link_set_up(nl, "lo", true, err);
	nlx_close(nl);
	return r < 0 ? r : drv_sandbox_defaults(fd, err);
}

/* A new sandbox: recorded (intent), then the runtime's namespace pinned at <run>/netns/<id>. */
static int ext_sandbox_new(struct manager *m, const struct ext_req *q, struct ctr_entry **ret,
			   struct berr *err)
{
	struct ctr_entry *c;
	_cleanup_free_ char *ns = NULL;
	int r;

	r = name_free(m, q->name && *q->name ? q->name : "", q->cid, err);
	if (r < 0)
		return r;
	c = ext_entry_new(q);
	r = ext_store_put(m, c, err);
	if (r < 0) {
		ext_entry_free(c);
		return r;
	}
	vec_push(m->ctrs, c);
	ns = mgr_ctr_netns_path(m, &c->c);
	r = netns_bind_path(q->netns, ns, err);
	if (r >= 0)
		r = ext_netns_prepare(ns, err);
	if (r < 0) {
		struct berr e2 = BERR_INIT;

		berr_prefix(err, "attaching network namespace %s", q->netns);
		if (ext_release(m, c, &e2) < 0)
			blog_warn("%s", berr_str(&e2));
		return r;
	}
	*ret = c;
	return 0;
}

/* The sandbox of the request: its own, or a new one (a stale one of the same container ID,
 * whose namespace is gone or another, is released first). */
static int ext_sandbox_get(struct manager *m, const struct ext_req *q, struct ctr_entry **ret,
			   bool *ret_new, struct berr *err)
{
	struct ctr_entry *c = ext_find(m, q->cid);
	int r;

	*ret_new = false;
	if (c && (ext_ino(c) != q->ino || ext_gone(m, c))) {
		r = ext_release(m, c, err);
		if (r < 0)
			return r;
		c = NULL;
	}
	if (c) {
		*ret = c;
		return 0;
	}
	for (size_t i = 0; i < m->ctrs.n; i++)
		if (mgr_ctr_external(m->ctrs.v[i]) && ext_ino(m->ctrs.v[i]) == q->ino)
			return berr_set(err, -EEXIST, "network namespace %s is already attached as "
					"container ID %.64s", q->netns,
					ext_str(m->ctrs.v[i], "ContainerID"));
	*ret_new = true;
	return ext_sandbox_new(m, q, ret, err);
}

/* ---- ADD: the attachment ---- */

static cJSON *ext_ep_config(const struct ext_req *q)
{
	cJSON *cfg = cJSON_CreateObject(), *ipam = cJSON_AddObjectToObject(cfg, "IPAMConfig");
	char buf[IP_STRLEN];

	cJSON_AddItemToObject(cfg, "Aliases", cJSON_Duplicate(q->aliases, 1));
	if (q->ip4.family)
		cJSON_AddStringToObject(ipam, "IPv4Address", ip_fmt(&q->ip4, buf));
	if (q->ip6.family)
		cJSON_AddStringToObject(ipam, "IPv6Address", ip_fmt(&q->ip6, buf));
	return cfg;
}

static int prefix_check(struct net_entry *n, const struct ipaddr *a, int prefix, struct berr *err)
{
	char buf[IP_STRLEN];

	if (!a->family || prefix < 0)
		return 0;
	for (int i = 0; i < n->n.n_subnets; i++)
		if (cidr_contains(&n->n.subnets[i].subnet, a) &&
		    n->n.subnets[i].subnet.prefix != prefix)
			return berr_set(err, -EINVAL, "IPs: %s/%d: the subnet of network %s is a /%d",
					ip_fmt(a, buf), prefix, n->n.name, n->n.subnets[i].subnet.prefix);
	return 0;
}

/* The interface name must be free in the sandbox: in berth's records and in the kernel. */
static int ifname_free(struct manager *m, struct ctr_entry *c, const char *ifname,
		       struct berr *err)
{
	_cleanup_free_ char *ns = mgr_ctr_netns_path(m, &c->c);
	_cleanup_close_ int fd = -1;
	struct nlx *nl = NULL;
	int r;

	if (ext_ep(m, c, ifname))
		return berr_set(err, -EEXIST, "interface %s of container ID %.64s is attached "
				"already (ADD without DEL)", ifname, ext_str(c, "ContainerID"));
	fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_errno(err, -errno, "opening network namespace %s", ns);
	r = nlx_open(fd, &nl, err);
	if (r >= 0)
		r = nlx_link_index(nl, ifname, err);
	nlx_close(nl);
	if (r > 0)
		return berr_set(err, -EEXIST, "interface %s exists already in network namespace %s",
				ifname, ext_str(c, "Netns"));
	return r;
}

static int ext_attach(struct manager *m, struct ctr_entry *c, struct net_entry *n,
		      const struct ext_req *q, struct ep_entry **ret, struct berr *err)
{
	cJSON *cfg = ext_ep_config(q);
	struct ep_entry *ep = NULL;
	int r;

	r = prefix_check(n, &q->ip4, q->prefix4, err);
	if (r >= 0)
		r = prefix_check(n, &q->ip6, q->prefix6, err);
	if (r >= 0)
		r = ifname_free(m, c, q->ifname, err);
	if (r >= 0)
		r = mgr_ep_new(m, c, n, cfg, false, &ep, err);
	cJSON_Delete(cfg);
	if (r < 0)
		return r;
	strscpy(ep->e.ifname, q->ifname, sizeof(ep->e.ifname));
	if (q->mac && *q->mac) {
		uint8_t mac[6];

		mac_parse(q->mac, mac, NULL);
		mac_fmt(mac, ep->e.mac);
		ep->mac_given = true;
	}
	r = mgr_ep_activate(m, c, ep, err);
	if (r < 0) {
		if (!ep->persisted)
			mgr_ep_drop(m, ep);
		return r;
	}
	*ret = ep;
	return 0;
}

/* Published ports: through the first attachment that carries them; a later attachment of the
 * same container (podman passes the same mappings to each network) must carry the same. */
static int ext_ports(struct manager *m, struct ctr_entry *c, const struct ext_req *q,
		     struct berr *err)
{
	const cJSON *have = cJSON_GetObjectItemCaseSensitive(c->c.extra, "PortBindings");
	int r;

	if (!q->ports)
		return 0;
	if (have)
		return cJSON_Compare(have, q->ports, true) ? 0
			: berr_set(err, -EINVAL, "portMappings differ from those of the container's "
				   "first attachment, which publishes them");
	cJSON_AddItemToObject(c->c.extra, "PortBindings", cJSON_Duplicate(q->ports, 1));
	r = mgr_fw_ports_validate(m, c, err);
	if (r >= 0)
		r = mgr_fw_ports_add(m, c, err);
	if (r < 0)
		cJSON_DeleteItemFromObjectCaseSensitive(c->c.extra, "PortBindings");
	return r;
}

/* ---- ADD: the reply ---- */

static cJSON *reply_dns(struct manager *m, struct ctr_entry *c)
{
	_cleanup_free_ char *text = mgr_dns_resolv_conf(m, c);
	cJSON *dns = cJSON_CreateObject();
	cJSON *ns = cJSON_AddArrayToObject(dns, "Nameservers");
	cJSON *search = cJSON_AddArrayToObject(dns, "Search");
	cJSON *opts = cJSON_AddArrayToObject(dns, "Options");
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *wsave = NULL, *w = strtok_r(line, " \t", &wsave);
		cJSON *to = !w ? NULL : !strcmp(w, "nameserver") ? ns : !strcmp(w, "search") ? search
			  : !strcmp(w, "options") ? opts : NULL;

		while (to && (w = strtok_r(NULL, " \t", &wsave)))
			cJSON_AddItemToArray(to, cJSON_CreateString(w));
	}
	return dns;
}

static const struct ipaddr *gateway_of(const struct net_entry *n, const struct ipaddr *a)
{
	for (int i = 0; i < n->n.n_subnets; i++)
		if (cidr_contains(&n->n.subnets[i].subnet, a) && n->n.subnets[i].gateway.family)
			return &n->n.subnets[i].gateway;
	return NULL;
}

static int prefix_of(const struct net_entry *n, const struct ipaddr *a)
{
	for (int i = 0; i < n->n.n_subnets; i++)
		if (cidr_contains(&n->n.subnets[i].subnet, a))
			return n->n.subnets[i].subnet.prefix;
	return ip_bits(a->family);
}

/* The default route of `family` in the sandbox, if it leaves through ifname. */
static bool route_default_via(struct nlx *nl, int family, const char *ifname,
			      struct ipaddr *ret_gw)
{
	struct nlx_route *rts = NULL;
	size_t n = 0;
	int idx = nlx_link_index(nl, ifname, NULL);
	bool found = false;

	if (idx <= 0 || nlx_route_dump(nl, family, &rts, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		if (rts[i].dst.prefix == 0 && rts[i].oif == idx && rts[i].gw.family) {
			*ret_gw = rts[i].gw;
			found = true;
		}
	free(rts);
	return found;
}

static void reply_routes(struct manager *m, struct ctr_entry *c, struct ep_entry *ep,
			 cJSON *routes)
{
	_cleanup_free_ char *ns = mgr_ctr_netns_path(m, &c->c);
	_cleanup_close_ int fd = open(ns, O_RDONLY | O_CLOEXEC);
	struct nlx *nl = NULL;
	char buf[IP_STRLEN];

	if (fd < 0 || nlx_open(fd, &nl, NULL) < 0)
		return;
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;
		struct ipaddr gw;
		cJSON *rt;

		if (!route_default_via(nl, family, ep->e.ifname, &gw))
			continue;
		rt = cJSON_CreateObject();
		cJSON_AddStringToObject(rt, "Dst", family == AF_INET ? "0.0.0.0/0" : "::/0");
		cJSON_AddStringToObject(rt, "Gw", ip_fmt(&gw, buf));
		cJSON_AddItemToArray(routes, rt);
	}
	nlx_close(nl);
}

static cJSON *reply_interfaces(struct manager *m, struct ctr_entry *c, struct ep_entry *ep)
{
	cJSON *ifs = cJSON_CreateArray(), *i = cJSON_CreateObject();
	struct nlx_link_state st;

	cJSON_AddStringToObject(i, "Name", ep->e.ifname);
	cJSON_AddStringToObject(i, "Mac", ep->e.mac);
	cJSON_AddStringToObject(i, "Sandbox", ext_str(c, "Netns"));
	cJSON_AddItemToArray(ifs, i);
	if (ep->e.host_ifname[0] && nlx_link_state_get(m->host_nl, ep->e.host_ifname, &st, NULL) > 0) {
		char mac[18];

		i = cJSON_CreateObject();
		mac_fmt(st.mac, mac);
		cJSON_AddStringToObject(i, "Name", ep->e.host_ifname);
		cJSON_AddStringToObject(i, "Mac", mac);
		cJSON_AddItemToArray(ifs, i);
	}
	return ifs;
}

/* {Container, Endpoint, Interfaces[{Name, Mac, Sandbox}] (the sandbox's first), IPs[{Address,
 * Gateway}], Routes[{Dst, Gw}], DNS{Nameservers, Search, Options}}: berth-cni turns it into the
 * CNI result of the version in use. Only a container's first attachment names berth's resolver:
 * the listener serves all of them, and a runtime that removes a network's nameservers from the
 * container's resolv.conf when it disconnects it (podman 4) keeps it for the others. */
static cJSON *ext_reply(struct manager *m, struct ctr_entry *c, struct ep_entry *ep, bool dns)
{
	struct net_entry *n = mgr_net_by_id(m, ep->e.network_id);
	const struct ipaddr *ips[2] = { &ep->e.ip4, &ep->e.ip6 };
	cJSON *o = cJSON_CreateObject(), *a;
	char buf[IP_STRLEN];

	cJSON_AddStringToObject(o, "Container", c->c.id);
	cJSON_AddStringToObject(o, "Endpoint", ep->e.id);
	cJSON_AddItemToObject(o, "Interfaces", reply_interfaces(m, c, ep));
	a = cJSON_AddArrayToObject(o, "IPs");
	for (int i = 0; i < 2 && n; i++) {
		const struct ipaddr *gw;
		cJSON *ip;
		char *addr;

		if (!ips[i]->family)
			continue;
		ip = cJSON_CreateObject();
		addr = xasprintf("%s/%d", ip_fmt(ips[i], buf), prefix_of(n, ips[i]));
		cJSON_AddStringToObject(ip, "Address", addr);
		free(addr);
		gw = gateway_of(n, ips[i]);
		if (gw)
			cJSON_AddStringToObject(ip, "Gateway", ip_fmt(gw, buf));
		cJSON_AddItemToArray(a, ip);
	}
	reply_routes(m, c, ep, cJSON_AddArrayToObject(o, "Routes"));
	cJSON_AddItemToObject(o, "DNS", dns ? reply_dns(m, c) : cJSON_CreateObject());
	return o;
}

/* ---- ADD ---- */

static int add_locked(struct manager *m, const struct ext_req *q, cJSON **ret, struct berr *err)
{
	struct net_entry *n = mgr_net_find(m, q->network, err);
	struct ctr_entry *c = NULL;
	struct ep_entry *ep = NULL;
	struct berr e2 = BERR_INIT;
	bool fresh = false;
	int r;

	if (!n)
		return err->code;
	if (!n->drv || !n->drv->join)
		return berr_set(err, -EINVAL, "network %s (driver %s) cannot take CNI attachments: "
				"use a bridge or macvlan network", n->n.name, n->n.driver);
	r = ext_sandbox_get(m, q, &c, &fresh, err);
	if (r >= 0)
		r = ext_attach(m, c, n, q, &ep, err);
	if (r >= 0) {
		r = ext_ports(m, c, q, err);
		if (r < 0 && mgr_ep_deactivate(m, c, ep, true, &e2) < 0)
			blog_warn("undoing CNI ADD: %s", berr_str(&e2));
	}
	if (r >= 0)
		r = ext_store_put(m, c, err);
	if (r < 0) {
		if (c && fresh && ext_release(m, c, &e2) < 0)
			blog_warn("undoing CNI ADD: %s", berr_str(&e2));
		return r;
	}
	*ret = ext_reply(m, c, ep, ext_ep_count(m, c) == 1);
	return 0;
}

int mgr_cni_add(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err)
{
	struct ext_req q;
	struct steps st;
	int r;

	steps_start(&st);
	r = ext_req_parse(m, req, true, &q, err);
	if (r >= 0) {
		pthread_mutex_lock(&m->lock);
		r = add_locked(m, &q, ret, err);
		pthread_mutex_unlock(&m->lock);
	}
	if (r < 0)
		berr_prefix(err, "CNI ADD %.12s/%s", q.cid ? q.cid : "", q.ifname ? q.ifname : "");
	steps_mark(&st, "add");
	blog_debug("cni add %.12s/%s: %s", q.cid ? q.cid : "", q.ifname ? q.ifname : "", st.buf);
	ext_req_free(&q);
	return r;
}

/* ---- DEL ---- */

/* The record of the ports that went with an endpoint (mgr_fw_endpoint_removed dropped them). */
static void ports_forget(struct ctr_entry *c, const char *a4, const char *a6)
{
	const cJSON *bp = cJSON_GetObjectItemCaseSensitive(c->c.extra, "BerthPorts"), *it;

	cJSON_ArrayForEach(it, bp) {
		const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "Target"));

		if (to && (!strcmp(to, a4) || !strcmp(to, a6))) {
			cJSON_DeleteItemFromObjectCaseSensitive(c->c.extra, "BerthPorts");
			cJSON_DeleteItemFromObjectCaseSensitive(c->c.extra, "PortBindings");
			return;
		}
	}
}

/* One attachment goes; the sandbox with its last one. */
static int ext_detach(struct manager *m, struct ctr_entry *c, struct ep_entry *ep,
		      struct berr *err)
{
	char a4[IP_STRLEN] = "", a6[IP_STRLEN] = "";
	struct berr e2 = BERR_INIT;
	int r;

	if (ep->e.ip4.family)
		ip_fmt(&ep->e.ip4, a4);
	if (ep->e.ip6.family)
		ip_fmt(&ep->e.ip6, a6);
	r = mgr_ep_deactivate(m, c, ep, true, err);
	if (r < 0)
		return r;
	if (ext_ep_count(m, c) == 0)
		return ext_release(m, c, err);
	ports_forget(c, a4, a6);
	if (mgr_sandbox_routes(m, c, &e2) < 0)
		blog_warn("external sandbox %s: routes: %s", c->c.name, berr_str(&e2));
	return ext_store_put(m, c, err);
}

/* The attachment (cid, ifname) if it is on network ref (by name or ID). */
static struct ep_entry *ext_attachment(struct manager *m, struct ctr_entry *c, const char *ifname,
				       const char *ref)
{
	struct ep_entry *ep = c ? ext_ep(m, c, ifname) : NULL;
	struct net_entry *n = ep ? mgr_net_by_id(m, ep->e.network_id) : NULL;

	if (ep && n && strcmp(n->n.name, ref) != 0 && strcmp(n->n.id, ref) != 0)
		return NULL;   /* another network's attachment of that name */
	return ep;
}

static int del_locked(struct manager *m, const struct ext_req *q, struct berr *err)
{
	struct ctr_entry *c = ext_find(m, q->cid);
	struct ep_entry *ep = ext_attachment(m, c, q->ifname, q->network);

	if (ep)
		return ext_detach(m, c, ep, err);
	if (c && ext_ep_count(m, c) == 0)
		return ext_release(m, c, err);
	return 0;   /* DEL of what is gone succeeds */
}

int mgr_cni_del(struct manager *m, const cJSON *req, struct berr *err)
{
	struct ext_req q;
	int r = ext_req_parse(m, req, false, &q, err);

	if (r >= 0) {
		pthread_mutex_lock(&m->lock);
		r = del_locked(m, &q, err);
		pthread_mutex_unlock(&m->lock);
	}
	if (r < 0)
		berr_prefix(err, "CNI DEL %.12s/%s", q.cid ? q.cid : "", q.ifname ? q.ifname : "");
	ext_req_free(&q);
	return r;
}

/* ---- CHECK ---- */

static void problem(cJSON *problems, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(cJSON *problems, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(problems, cJSON_CreateString(buf));
}

static void check_link(struct nlx *nl, const struct ep_entry *ep, const char *want_mac,
		       cJSON *problems)
{
	struct nlx_link_state st;
	char mac[18];

	if (nlx_link_state_get(nl, ep->e.ifname, &st, NULL) <= 0) {
		problem(problems, "interface %s is missing", ep->e.ifname);
		return;
	}
	if (!(st.flags & IFF_UP))
		problem(problems, "interface %s is down", ep->e.ifname);
	mac_fmt(st.mac, mac);
	if (strcasecmp(mac, want_mac && *want_mac ? want_mac : ep->e.mac) != 0)
		problem(problems, "interface %s has MAC %s, not %s", ep->e.ifname, mac,
			want_mac && *want_mac ? want_mac : ep->e.mac);
}

static void check_addrs(struct nlx *nl, const struct ep_entry *ep, const cJSON *want,
			cJSON *problems)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, want) {
		struct cidr a;

		if (!cJSON_IsString(it) || cidr_parse(it->valuestring, &a, NULL) < 0)
			problem(problems, "expected address %s is not an address/prefix",
				cJSON_IsString(it) ? it->valuestring : "(not a string)");
		else if (nlx_addr_has(nl, ep->e.ifname, &a, NULL) != 1)
			problem(problems, "address %s is missing on %s", it->valuestring, ep->e.ifname);
	}
}

static bool route_present(const struct nlx_route *rts, size_t n, const struct cidr *dst,
			  const struct ipaddr *gw)
{
	for (size_t i = 0; i < n; i++)
		if (rts[i].dst.prefix == dst->prefix && ip_equal(&rts[i].dst.addr, &dst->addr) &&
		    (!gw->family || ip_equal(&rts[i].gw, gw)))
			return true;
	return false;
}

static void check_route(struct nlx *nl, const cJSON *rt, cJSON *problems)
{
	const char *dst = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rt, "Dst"));
	const char *gw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rt, "Gw"));
	struct nlx_route *rts = NULL;
	struct ipaddr g = { 0 };
	struct cidr d;
	size_t n = 0;

	if (!dst || cidr_parse(dst, &d, NULL) < 0 || (gw && *gw && ip_parse(gw, &g, NULL) < 0)) {
		problem(problems, "expected route %s via %s is not valid", dst ? dst : "?",
			gw ? gw : "-");
		return;
	}
	cidr_network(&d, &d);
	if (nlx_route_dump(nl, d.addr.family, &rts, &n, NULL) < 0 || !route_present(rts, n, &d, &g))
		problem(problems, "route %s%s%s is missing", dst, g.family ? " via " : "",
			g.family ? gw : "");
	free(rts);
}

static void check_netns(struct manager *m, struct ctr_entry *c, const struct ep_entry *ep,
			const cJSON *req, cJSON *problems)
{
	_cleanup_free_ char *ns = mgr_ctr_netns_path(m, &c->c);
	_cleanup_close_ int fd = open(ns, O_RDONLY | O_CLOEXEC);
	const cJSON *rts = cJSON_GetObjectItemCaseSensitive(req, "Routes"), *it;
	const char *mac = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "Mac"));
	struct nlx *nl = NULL;

	if (fd < 0 || nlx_open(fd, &nl, NULL) < 0) {
		problem(problems, "network namespace %s cannot be opened", ext_str(c, "Netns"));
		return;
	}
	check_link(nl, ep, mac, problems);
	check_addrs(nl, ep, cJSON_GetObjectItemCaseSensitive(req, "IPs"), problems);
	cJSON_ArrayForEach(it, rts)
		check_route(nl, it, problems);
	nlx_close(nl);
}

static int check_locked(struct manager *m, const struct ext_req *q, const cJSON *req,
			cJSON **ret, struct berr *err)
{
	struct ctr_entry *c = ext_find(m, q->cid);
	struct ep_entry *ep = ext_attachment(m, c, q->ifname, q->network);
	cJSON *problems;
	uint64_t ino;

	if (!ep)
		return berr_set(err, -ENOENT, "no CNI attachment %.64s/%s on network %s", q->cid,
				q->ifname, q->network);
	*ret = cJSON_CreateObject();
	problems = cJSON_AddArrayToObject(*ret, "Problems");
	if (ep->e.state != EP_ACTIVE)
		problem(problems, "attachment %s is %s", ep->e.ifname,
			ep->e.state == EP_PENDING ? "half set up (pending)" : "inactive");
	if (ext_gone(m, c))
		problem(problems, "network namespace %s is gone", ext_str(c, "Netns"));
	else if (q->netns && *q->netns &&
		 (netns_path_check(q->netns, &ino, NULL) < 0 || ino != ext_ino(c)))
		problem(problems, "%s is not the network namespace attached (%s)", q->netns,
			ext_str(c, "Netns"));
	else
		check_netns(m, c, ep, req, problems);
	return 0;
}

int mgr_cni_check(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err)
{
	struct ext_req q;
	int r = ext_req_parse(m, req, false, &q, err);

	if (r >= 0) {
		pthread_mutex_lock(&m->lock);
		r = check_locked(m, &q, req, ret, err);
		pthread_mutex_unlock(&m->lock);
	}
	ext_req_free(&q);
	return r;
}

/* ---- GC ---- */

static bool gc_valid(const cJSON *valid, const char *cid, const char *ifname)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, valid) {
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "containerID"));
		const char *i = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "ifname"));

		if (v && i && !strcmp(v, cid) && !strcmp(i, ifname))
			return true;
	}
	return false;
}

/* The next attachment of network n that is not valid, or NULL. */
static struct ep_entry *gc_next(struct manager *m, const struct net_entry *n, const cJSON *valid,
				struct ctr_entry **ret_c, const struct ep_entry *skip_after)
{
	bool past = !skip_after;

	for (size_t i = 0; i < m->eps.n; i++) {
		struct ep_entry *ep = m->eps.v[i];
		struct ctr_entry *c;

		if (!past) {
			past = ep == skip_after;
			continue;
		}
		if (strcmp(ep->e.network_id, n->n.id) != 0)
			continue;
		c = mgr_ctr_by_id(m, ep->e.container_id);
		if (mgr_ctr_external(c) && !gc_valid(valid, ext_str(c, "ContainerID"), ep->e.ifname)) {
			*ret_c = c;
			return ep;
		}
	}
	return NULL;
}

static int gc_locked(struct manager *m, const char *ref, const cJSON *valid, cJSON *removed,
		     struct berr *err)
{
	struct net_entry *n = mgr_net_find(m, ref, err);
	struct ep_entry *ep, *failed = NULL;
	struct ctr_entry *c;
	int r = 0;

	if (!n)
		return err->code;
	while ((ep = gc_next(m, n, valid, &c, failed))) {
		cJSON *o = cJSON_CreateObject();
		struct berr e2 = BERR_INIT;

		cJSON_AddStringToObject(o, "containerID", ext_str(c, "ContainerID"));
		cJSON_AddStringToObject(o, "ifname", ep->e.ifname);
		if (ext_detach(m, c, ep, &e2) < 0) {
			/* go on with the others; report the first failure */
			blog_warn("CNI GC: %s", berr_str(&e2));
			if (r == 0)
				r = berr_set(err, e2.code, "%s", e2.msg);
			failed = ep;
			cJSON_Delete(o);
			continue;
		}
		cJSON_AddItemToArray(removed, o);
	}
	return r;
}

int mgr_cni_gc(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err)
{
	const cJSON *valid = cJSON_GetObjectItemCaseSensitive(req, "Valid"), *it;
	const char *net = NULL;
	int r = json_string_member(req, "Network", &net, err);

	if (r >= 0 && (!net || !*net))
		r = berr_set(err, -EINVAL, "field Network is required");
	if (r >= 0 && valid && !cJSON_IsNull(valid) && !cJSON_IsArray(valid))
		r = berr_set(err, -EINVAL, "field Valid must be an array of {containerID, ifname}");
	cJSON_ArrayForEach(it, valid)
		if (r >= 0 && (!cJSON_IsObject(it) ||
			       !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "containerID")) ||
			       !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "ifname"))))
			r = berr_set(err, -EINVAL, "field Valid must hold {containerID, ifname} objects "
				     "of strings");
	if (r < 0)
		return r;
	*ret = cJSON_CreateObject();
	pthread_mutex_lock(&m->lock);
	r = gc_locked(m, net, valid, cJSON_AddArrayToObject(*ret, "Removed"), err);
	pthread_mutex_unlock(&m->lock);
	if (r < 0) {
		cJSON_Delete(*ret);
		*ret = NULL;
	}
	return r;
}

/* ---- STATUS ---- */

/* Whether pool p has a free address: one is taken and given back, the search cursor kept. */
static bool pool_has_free(struct ipam_pool *p)
{
	struct ipaddr cursor = p->cursor, a;

	if (ipam_pool_alloc(p, &a, NULL) < 0)
		return false;
	ipam_pool_release(p, &a);
	p->cursor = cursor;
	return true;
}

int mgr_cni_status(struct manager *m, const char *ref, cJSON **ret, struct berr *err)
{
	bool free4 = false, free6 = false, has6 = false;
	struct net_entry *n;

	if (!ref || !*ref)
		return berr_set(err, -EINVAL, "query parameter network is required");
	pthread_mutex_lock(&m->lock);
	n = mgr_net_find(m, ref, err);
	if (n) {
		for (int i = 0; i < n->n.n_subnets; i++) {
			bool v6 = n->pools[i].subnet.addr.family == AF_INET6;

			has6 |= v6;
			if (v6 ? !free6 : !free4)
				*(v6 ? &free6 : &free4) = pool_has_free(&n->pools[i]);
		}
		*ret = cJSON_CreateObject();
		cJSON_AddStringToObject(*ret, "Network", n->n.name);
		cJSON_AddStringToObject(*ret, "Driver", n->n.driver);
		cJSON_AddBoolToObject(*ret, "Attachable", n->drv && n->drv->join);
		cJSON_AddBoolToObject(*ret, "Exhausted",
				      n->n.n_subnets > 0 && (!free4 || (has6 && n->n.ipv6 && !free6)));
	}
	pthread_mutex_unlock(&m->lock);
	return n ? 0 : err->code;
}

/* ---- default routes ---- */

static bool has_default(struct nlx *nl, int family)
{
	struct nlx_route *rts = NULL;
	size_t n = 0;
	bool found = false;

	if (nlx_route_dump(nl, family, &rts, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = rts[i].dst.prefix == 0;
	free(rts);
	return found;
}

/* In a namespace berth shares with its runtime (and maybe other plugins), berth adds a default
 * route where there is none and never replaces or removes one: a route through an interface of
 * berth's goes with the interface, and the next carrier takes over then. */
int mgr_ext_routes(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	_cleanup_free_ char *ns = mgr_ctr_netns_path(m, &c->c);
	_cleanup_close_ int fd = open(ns, O_RDONLY | O_CLOEXEC);
	struct nlx *nl = NULL;
	int r;

	if (fd < 0)
		return berr_errno(err, -errno, "opening network namespace %s", ns);
	r = nlx_open(fd, &nl, err);
	for (int f = 0; r >= 0 && f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;
		const struct ipaddr *gw = NULL;
		struct ep_entry *ep = mgr_route_carrier(m, c, family, &gw);

		if (ep && !has_default(nl, family))
			r = nlx_route_default_set(nl, family, gw, ep->e.ifname, err);
	}
	nlx_close(nl);
	return r;
}

/* ---- berth's own commands on a sandbox ---- */

int mgr_ext_remove(struct manager *m, struct ctr_entry *c, bool force, struct berr *err)
{
	if (!force)
		return berr_set(err, -EBUSY, "container %s is an external sandbox attached through "
				"CNI: its runtime releases it (CNI DEL); --force releases it now",
				c->c.name);
	return ext_release(m, c, err);
}

cJSON *mgr_ext_render(const struct ctr_entry *c)
{
	cJSON *o;

	if (!mgr_ctr_external(c))
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "Kind", ext_str(c, "Kind"));
	cJSON_AddStringToObject(o, "ContainerID", ext_str(c, "ContainerID"));
	cJSON_AddStringToObject(o, "Netns", ext_str(c, "Netns"));
	return o;
}

/* ---- start-up and the sweep ---- */

int mgr_ext_reconcile(struct manager *m, struct ctr_entry *c)
{
	char id[ID_LEN + 1];

	if (!ext_gone(m, c))
		return 0;
	strscpy(id, c->c.id, sizeof(id));
	ext_release_log(m, c, "its network namespace is gone");
	return mgr_ctr_by_id(m, id) ? 0 : 1;
}

static void sweep_cb(struct manager *m, int fd, void *ud)
{
	uint64_t ticks;

	while (read(fd, &ticks, sizeof(ticks)) == sizeof(ticks))
		;
	ext_sweep(m);
}

static long sweep_interval_ms(void)
{
	const char *s = getenv("BERTH_CNI_SWEEP_MS");
	char *end = NULL;
	long v = s && *s ? strtol(s, &end, 10) : EXT_SWEEP_MS_DEFAULT;

	return end && *end ? EXT_SWEEP_MS_DEFAULT : v < 100 ? 100 : v;
}

int mgr_ext_init(struct manager *m, struct berr *err)
{
	long ms = sweep_interval_ms();
	struct itimerspec its = {
		.it_interval = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 },
	};
	int fd, r;

	its.it_value = its.it_interval;
	m->ext = xcalloc(1, sizeof(*m->ext));
	m->ext->timer_fd = -1;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return berr_errno(err, -errno, "timerfd_create");
	r = timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : mgr_watch_add(m, fd, sweep_cb, NULL);
	if (r < 0) {
		close(fd);
		return berr_errno(err, r, "watching external sandboxes");
	}
	m->ext->timer_fd = fd;
	mgr_cni_conflists_sync(m);
	return 0;
}

void mgr_ext_close(struct manager *m)
{
	if (!m->ext)
		return;
	if (m->ext->timer_fd >= 0) {
		mgr_watch_del(m, m->ext->timer_fd);
		close(m->ext->timer_fd);
	}
	free(m->ext);
	m->ext = NULL;
}
