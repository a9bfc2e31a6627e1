/* SPDX-License-Identifier: Apache-2.0 */
/* The cluster layer: berthd as a member of a cluster sharing overlay networks through etcd.
 *
 * This host registers itself (P/hosts/<name> = its VTEP) under a lease that a keeper thread
 * refreshes (mgr_cluster_host.c); its endpoints and their addresses live under the same lease,
 * so they vanish from the other hosts when this one dies. One watch on the whole prefix feeds
 * the mirror (mgr_cluster_mirror.c); its eventfd and a 1 s timer (registration retries,
 * networks to forget) are watched by the manager's event loop, so everything here runs with the
 * manager lock held. etcd calls made with it held are bounded by CL_REQUEST_MS. */
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon/mgr_cluster.h"
#include "drivers/overlay/overlay.h"

#define META_VTEPS "cluster/vteps"

int cl_fail(struct berr *err)
{
	switch (err->code) {
	case -EHOSTUNREACH:
	case -ETIMEDOUT:
	case -ECONNREFUSED:
	case -ECANCELED:
		return berr_prefix(err, "cluster store unreachable");
	default:
		return berr_prefix(err, "cluster store");
	}
}

bool cl_ep_live(const struct ep_entry *ep)
{
	return ep->e.state == EP_ACTIVE || ep->e.state == EP_PENDING;
}

int mgr_cluster_check(struct manager *m, struct berr *err)
{
	struct cluster *cl = m->cl;

	if (!cl)
		return berr_set(err, -EOPNOTSUPP, "overlay networks need a cluster store: start "
				"berthd with --cluster-store and --advertise-addr");
	if (!cl->up)
		return berr_set(err, -EHOSTUNREACH, "cluster store unreachable: %s",
				cl->down_why[0] ? cl->down_why : "not connected yet");
	if (!cl->synced)
		return berr_set(err, -EHOSTUNREACH, "cluster store unreachable: its state is not "
				"mirrored here yet");
	if (!cl_registered(cl))
		return berr_set(err, -EHOSTUNREACH, "cluster store: this host (%s) is not "
				"registered yet", cl->host);
	return 0;
}

/* ---- the VTEPs for the firewall, cached so a restart without etcd keeps the allow-list ---- */

size_t mgr_cluster_vteps(struct manager *m, struct ipaddr **ret, uint16_t *ret_port)
{
	struct cluster *cl = m->cl;

	*ret = NULL;
	*ret_port = 0;
	if (!cl)
		return 0;
	*ret_port = cl->port;
	*ret = xcalloc(cl->n_vteps + 1, sizeof(**ret));
	if (cl->n_vteps)
		memcpy(*ret, cl->vteps, cl->n_vteps * sizeof(**ret));
	return cl->n_vteps;
}

static void vteps_cache_save(struct manager *m)
{
	struct cluster *cl = m->cl;
	cJSON *a = cJSON_CreateArray();
	struct berr e2 = BERR_INIT;
	char buf[IP_STRLEN], *text;

	for (size_t i = 0; i < cl->n_vteps; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(ip_fmt(&cl->vteps[i], buf)));
	text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	if (store_meta_put(m->store, META_VTEPS, text, &e2) < 0)
		blog_warn("cluster: caching the member VTEPs: %s", berr_str(&e2));
	cJSON_free(text);
}

static void vteps_cache_load(struct manager *m)
{
	struct cluster *cl = m->cl;
	_cleanup_free_ char *text = NULL;
	cJSON *a, *it;

	if (store_meta_get(m->store, META_VTEPS, &text, NULL) < 0 || !(a = cJSON_Parse(text)))
		return;
	cl->vteps = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*cl->vteps));
	cJSON_ArrayForEach(it, a)
		if (cJSON_IsString(it) && ip_parse(it->valuestring, &cl->vteps[cl->n_vteps], NULL) >= 0)
			cl->n_vteps++;
	cJSON_Delete(a);
}

static int ip_sort_cmp(const void *a, const void *b)
{
	return ip_cmp(a, b);
}

/* From the valid host records (once the mirror holds a snapshot). */
void cl_vteps_sync(struct manager *m)
{
	struct cluster *cl = m->cl;
	struct ipaddr *v = xcalloc(cl->keys.n + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < cl->keys.n; i++) {
		const struct cl_entry *e = cl->keys.v[i];

		if (e->k.kind == CL_KEY_HOST && e->valid)
			v[n++] = e->u.host.vtep;
	}
	qsort(v, n, sizeof(*v), ip_sort_cmp);
	if (n == cl->n_vteps && (n == 0 || !memcmp(v, cl->vteps, n * sizeof(*v)))) {
		free(v);
		return;
	}
	free(cl->vteps);
	cl->vteps = v;
	cl->n_vteps = n;
	vteps_cache_save(m);
	mgr_fw_vteps_changed(m);
}

static void timer_cb(struct manager *m, int fd, void *ud)
{
	uint64_t ticks;

	if (read(fd, &ticks, sizeof(ticks)) < 0) {
		/* EAGAIN: nothing expired */
	}
	if (!cl_registered(m->cl))
		cl_register_kick(m);
	for (size_t i = 0; i < m->nets.n; i++)
		if (m->nets.v[i]->drv && m->nets.v[i]->drv->global_scope &&
		    cl_net_forget_if_gone(m, m->nets.v[i]))
			i--;
}

/* ---- the watch ---- */

static void watch_up(struct manager *m, const char *endpoint)
{
	struct cluster *cl = m->cl;

	cl->up = true;
	cl->down_why[0] = '\0';
	blog_info("cluster: watching the store through %s", endpoint);
	/* What happened while the stream was down arrives next; the kernel may have drifted too. */
	cl_refresh_all(m);
	if (cl_registered(cl) && cl->synced)
		cl_own_keys_sync(m);
}

static void watch_down(struct manager *m, const char *why)
{
	struct cluster *cl = m->cl;

	if (cl->up)
		blog_warn("cluster: store unreachable (%s): overlay operations fail until it is "
			  "back; traffic between existing containers keeps flowing", why);
	cl->up = false;
	snprintf(cl->down_why, sizeof(cl->down_why), "%s", why);
}

static void watch_cb(struct manager *m, int fd, void *ud)
{
	struct cluster *cl = m->cl;
	struct etcd_watch_item it;

	while (cl->watch && etcd_watch_next(cl->watch, &it) == 1) {
		switch (it.kind) {
		case ETCD_WATCH_RESET:
			cl_reset(m, &it.snapshot, it.revision);
			break;
		case ETCD_WATCH_PUT:
			cl_apply_put(m, it.kv.key, it.kv.value, it.kv.mod_revision, it.kv.lease);
			break;
		case ETCD_WATCH_DELETE:
			cl_apply_delete(m, it.kv.key, it.revision);
			break;
		case ETCD_WATCH_UP:
			watch_up(m, it.msg);
			break;
		case ETCD_WATCH_DOWN:
			watch_down(m, it.msg);
			break;
		}
		cl_tombs_prune(cl, it.revision);
		etcd_watch_item_clear(&it);
	}
}

/* ---- opening and closing ---- */

static int host_name_pick(const struct mgr_cluster_config *cfg, char ret[CL_HOST_MAX],
			  struct berr *err)
{
	char buf[256] = "";

	if (cfg->host_name)
		strscpy(buf, cfg->host_name, sizeof(buf));
	else if (gethostname(buf, sizeof(buf) - 1) < 0)
		return berr_errno(err, -errno, "reading the hostname (set --cluster-host-name)");
	if (cl_host_name_validate(buf, err) < 0)
		return berr_prefix(err, "--cluster-host-name");
	strscpy(ret, buf, CL_HOST_MAX);
	return 0;
}

static int config_check(const struct mgr_cluster_config *cfg, struct cluster *cl,
			struct berr *err)
{
	int r;

	if (!cfg->advertise)
		return berr_set(err, -EINVAL, "--cluster-store needs --advertise-addr (the address "
				"other hosts reach this one at, for VXLAN)");
	r = ip_parse(cfg->advertise, &cl->vtep, err);
	if (r < 0)
		return berr_prefix(err, "--advertise-addr");
	r = host_name_pick(cfg, cl->host, err);
	if (r < 0)
		return r;
	cl->ttl = cfg->ttl_s > 0 ? cfg->ttl_s : 15;
	cl->port = (uint16_t)(cfg->data_port > 0 ? cfg->data_port : NLX_VXLAN_PORT);
	strscpy(cl->url, cfg->store_url, sizeof(cl->url));
	return 0;
}

static int client_open(const struct mgr_cluster_config *cfg, struct cluster *cl,
		       struct berr *err)
{
	struct etcd_config ec = { .url = cfg->store_url, .cafile = cfg->cafile,
				  .certfile = cfg->certfile, .keyfile = cfg->keyfile,
				  .connect_timeout_ms = CL_CONNECT_MS,
				  .request_timeout_ms = CL_REQUEST_MS };
	const char *p;
	int r = etcd_client_new(&ec, &cl->etcd, err);

	if (r < 0)
		return berr_prefix(err, "--cluster-store");
	p = etcd_client_prefix(cl->etcd);
	if (*p)
		snprintf(cl->prefix, sizeof(cl->prefix), "/%s", p);
	else
		strscpy(cl->prefix, CL_PREFIX_DEFAULT, sizeof(cl->prefix));
	return 0;
}

int mgr_cluster_open(struct manager *m, const struct mgr_cluster_config *cfg, struct berr *err)
{
	struct cluster *cl;
	int r;

	if (!cfg->store_url) {
		if (cfg->advertise || cfg->cafile || cfg->certfile || cfg->keyfile)
			return berr_set(err, -EINVAL, "--advertise-addr and --cluster-store-* need "
					"--cluster-store");
		return 0;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->timer_fd = -1;
	m->cl = cl;
	r = config_check(cfg, cl, err);
	if (r >= 0)
		r = client_open(cfg, cl, err);
	if (r < 0) {
		mgr_cluster_close(m);
		return r;
	}
	r = nlx_vxlan_underlay(m->host_nl, &cl->vtep, NULL, err);
	if (r == 0)
		r = berr_set(err, -EADDRNOTAVAIL, "--advertise-addr %s is not an address of this "
			     "host (it must be the address other hosts reach this one at)",
			     cfg->advertise);
	if (r < 0) {
		mgr_cluster_close(m);
		return r;
	}
	r = cl_registrar_open(m, cfg, err);
	if (r < 0) {
		mgr_cluster_close(m);
		return r;
	}
	vteps_cache_load(m);
	m->drv.vtep = cl->vtep;
	m->drv.vxlan_port = cl->port;
	return 0;
}

static int timer_open(struct manager *m, struct berr *err)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 0, 1 } };
	struct cluster *cl = m->cl;

	cl->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (cl->timer_fd < 0)
		return berr_errno(err, -errno, "timerfd_create");
	if (timerfd_settime(cl->timer_fd, 0, &its, NULL) < 0)
		return berr_errno(err, -errno, "timerfd_settime");
	return mgr_watch_add(m, cl->timer_fd, timer_cb, NULL);
}

int mgr_cluster_start(struct manager *m, struct berr *err)
{
	struct cluster *cl = m->cl;
	_cleanup_free_ char *dir = NULL;
	char buf[IP_STRLEN];
	int r;

	if (!cl)
		return 0;
	dir = cl_key_dir(cl->prefix, CL_KEY_UNKNOWN, NULL);
	r = etcd_watch_start(cl->etcd, dir, 0, &cl->watch, err);
	if (r >= 0)
		r = mgr_watch_add(m, etcd_watch_fd(cl->watch), watch_cb, NULL);
	if (r >= 0)
		r = timer_open(m, err);
	if (r < 0)
		return berr_prefix(err, "cluster");
	/* Devices of networks this host has no endpoint on any more (a crash, a restart). */
	for (size_t i = 0; i < m->nets.n; i++)
		if (m->nets.v[i]->drv && m->nets.v[i]->drv->global_scope)
			mgr_cluster_dataplane_gc(m, m->nets.v[i]);
	blog_info("cluster: host %s, VTEP %s, store %s (prefix %s, lease TTL %d s)", cl->host,
		  ip_fmt(&cl->vtep, buf), etcd_client_endpoints(cl->etcd), cl->prefix, cl->ttl);
	return 0;
}

void mgr_cluster_close(struct manager *m)
{
	struct cluster *cl = m->cl;

	if (!cl)
		return;
	if (cl->watch) {
		mgr_watch_del(m, etcd_watch_fd(cl->watch));
		etcd_watch_stop(steal_ptr(cl->watch));
	}
	cl_registrar_close(m);
	if (cl->timer_fd >= 0) {
		mgr_watch_del(m, cl->timer_fd);
		close(cl->timer_fd);
	}
	/* The lease is not revoked: containers keep running, and a berthd back within the TTL
	 * keeps its keys. */
	cl_mirror_free(cl);
	etcd_client_free(cl->etcd);
	free(cl->vteps);
	free(cl);
	m->cl = NULL;
}

void mgr_cluster_info(struct manager *m, cJSON *o)
{
	struct cluster *cl = m->cl;
	cJSON *c;
	char buf[IP_STRLEN];

	if (!cl)
		return;
	c = cJSON_AddObjectToObject(o, "Cluster");
	cJSON_AddStringToObject(c, "Store", etcd_client_endpoints(cl->etcd));
	cJSON_AddStringToObject(c, "Prefix", cl->prefix);
	cJSON_AddStringToObject(c, "Host", cl->host);
	cJSON_AddStringToObject(c, "AdvertiseAddr", ip_fmt(&cl->vtep, buf));
	cJSON_AddNumberToObject(c, "DataPathPort", cl->port);
	cJSON_AddNumberToObject(c, "TTL", cl->ttl);
	cJSON_AddBoolToObject(c, "Registered", cl_registered(cl));
	cJSON_AddBoolToObject(c, "Reachable", cl->up);
	cJSON_AddBoolToObject(c, "Synced", cl->synced);
	cJSON_AddNumberToObject(c, "Members", (double)cl->n_vteps);
	if (!cl->up && cl->down_why[0])
		cJSON_AddStringToObject(c, "Error", cl->down_why);
}
