/* SPDX-License-Identifier: Apache-2.0 */
/* Container operations: create, start, stop, kill, wait, remove, exits. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "common/names.h"
#include "daemon/mgr_internal.h"
#include "drivers/common.h"
#include "runtime/runtime.h"

char *mgr_ctr_netns_path(struct manager *m, const struct bcontainer *c)
{
	return xasprintf("%s/netns/%s", m->run, c->id);
}

char *mgr_ctr_run_dir(struct manager *m, const struct bcontainer *c)
{
	return xasprintf("%s/containers/%s", m->run, c->id);
}

char *mgr_ctr_state_dir(struct manager *m, const struct bcontainer *c)
{
	return xasprintf("%s/containers/%s", m->root, c->id);
}


/* ---- create ---- */

static int hostname_validate(const char *h, struct berr *err)
{
	size_t len = strlen(h);

	if (len == 0 || len > 63 || h[0] == '-' || h[strspn(h, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")] != '\0')
		return berr_set(err, -EINVAL, "invalid hostname \"%s\": 1-63 letters, digits, '-', '.' "
				"or '_'", h);
	return 0;
}

static void name_generate(char ret[NAME_LEN])
{
	static const char *const adj[] = { "brave", "calm", "eager", "fond", "keen", "lucid",
					   "merry", "nimble", "quiet", "swift", "tidy", "witty" };
	static const char *const noun[] = { "anchor", "buoy", "dock", "harbor", "hull", "jetty",
					    "keel", "mast", "pier", "quay", "sail", "wharf" };
	char id[ID_LEN + 1];

	id_generate(id);
	snprintf(ret, NAME_LEN, "%s_%s_%.4s", adj[id[0] % ARRAY_SIZE(adj)],
		 noun[id[1] % ARRAY_SIZE(noun)], id + 2);
}

static int env_validate(const cJSON *env, struct berr *err)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, env)
		if (!strchr(it->valuestring, '=') || it->valuestring[0] == '=')
			return berr_set(err, -EINVAL, "invalid environment entry \"%s\": expected KEY=VALUE",
					it->valuestring);
	return 0;
}

/* Settings later subsystems read (ports, DNS), kept verbatim in `extra` for them to validate. */
static void extra_copy(struct bcontainer *c, const cJSON *host, const cJSON *req)
{
	static const char *const host_keys[] = { "PortBindings", "Dns", "DnsSearch", "DnsOptions",
						 "PublishAllPorts" };
	static const char *const attach[] = { "AttachStdout", "AttachStderr" };
	const cJSON *v;

	c->extra = cJSON_CreateObject();
	for (size_t i = 0; host && i < ARRAY_SIZE(host_keys); i++) {
		v = cJSON_GetObjectItemCaseSensitive(host, host_keys[i]);
		if (v && !cJSON_IsNull(v))
			cJSON_AddItemToObject(c->extra, host_keys[i], cJSON_Duplicate(v, 1));
	}
	v = cJSON_GetObjectItemCaseSensitive(req, "ExposedPorts");
	if (v && !cJSON_IsNull(v))
		cJSON_AddItemToObject(c->extra, "ExposedPorts", cJSON_Duplicate(v, 1));
	v = cJSON_GetObjectItemCaseSensitive(req, "Labels");   /* network probe policies select by them */
	if (cJSON_IsObject(v))
		cJSON_AddItemToObject(c->extra, "Labels", cJSON_Duplicate(v, 1));
	for (size_t i = 0; i < ARRAY_SIZE(attach); i++)   /* shown by inspect, as asked */
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, attach[i])))
			cJSON_AddTrueToObject(c->extra, attach[i]);
}

/* HostConfig.Dns must hold IP addresses; DnsSearch and DnsOptions strings. */
static int dns_settings_check(const cJSON *host, struct berr *err)
{
	cJSON *dns = NULL, *search = NULL, *opts = NULL;
	const cJSON *it;
	int r;

	r = json_string_array(host, "Dns", &dns, err);
	if (r >= 0)
		r = json_string_array(host, "DnsSearch", &search, err);
	if (r >= 0)
		r = json_string_array(host, "DnsOptions", &opts, err);
	cJSON_ArrayForEach(it, dns) {
		struct ipaddr a;

		if (r >= 0 && ip_parse(it->valuestring, &a, err) < 0)
			r = berr_prefix(err, "invalid --dns");
	}
	cJSON_Delete(dns);
	cJSON_Delete(search);
	cJSON_Delete(opts);
	return r;
}

static int ctr_parse(struct manager *m, const char *name, const cJSON *req, struct bcontainer *c,
		     struct berr *err)
{
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(req, "HostConfig");
	const char *image = NULL, *hostname = NULL, *mode = NULL;
	cJSON *labels = NULL;
	int r;

	if (!cJSON_IsObject(req))
		return berr_set(err, -EINVAL, "request body must be a JSON object");
	if (name && *name) {
		r = name_validate("container", name, err);
		if (r < 0)
			return r;
		strscpy(c->name, name, sizeof(c->name));
	} else {
		name_generate(c->name);
	}
	r = json_string_map(req, "Labels", &labels, err);
	cJSON_Delete(labels);
	if (r >= 0)
		r = json_string_member(req, "Image", &image, err);
	if (r >= 0)
		r = json_string_member(req, "Hostname", &hostname, err);
	if (r >= 0)
		r = json_string_array(req, "Cmd", &c->cmd, err);
	if (r >= 0)
		r = json_string_array(req, "Env", &c->env, err);
	if (r >= 0 && host && !cJSON_IsNull(host) && !cJSON_IsObject(host))
		r = berr_set(err, -EINVAL, "field HostConfig must be an object");
	if (r >= 0)
		r = json_string_member(host, "NetworkMode", &mode, err);
	if (r >= 0)
		r = json_bool_member(host, "AutoRemove", &c->auto_remove, err);
	if (r >= 0)
		r = env_validate(c->env, err);
	if (r >= 0 && hostname && *hostname)
		r = hostname_validate(hostname, err);
	if (r < 0)
		return r;
	strscpy(c->image, image && *image ? image : "busybox", sizeof(c->image));
	strscpy(c->hostname, hostname && *hostname ? hostname : c->name, sizeof(c->hostname));
	strscpy(c->network_mode, mode ? mode : "", sizeof(c->network_mode));
	r = dns_settings_check(host, err);
	if (r < 0)
		return r;
	extra_copy(c, host, req);
	r = mgr_ctr_resources_parse(host, c->extra, err);
	if (r >= 0)
		r = mgr_ctr_extra_hosts_parse(host, c->extra, err);
	if (r >= 0)
		r = mgr_ctr_tty_parse(req, host, c->extra, err);
	if (r < 0)
		return r;
	return mgr_ctr_image_apply(m, c, req, err);
}

static int name_unique(struct manager *m, const char *name, struct berr *err)
{
	for (size_t i = 0; i < m->ctrs.n; i++)
		if (strcmp(m->ctrs.v[i]->c.name, name) == 0)
			return berr_set(err, -EEXIST, "container name \"%s\" is already in use by "
					"container %.12s", name, m->ctrs.v[i]->c.id);
	return 0;
}

static int attach_ref(struct manager *m, struct ctr_entry *c, const char *ref, const cJSON *cfg,
		      struct berr *err)
{
	struct net_entry *n = mgr_net_find(m, ref, err);
	struct ep_entry *ep;

	if (!n)
		return err->code;
	if (mgr_ep_find(m, n->n.id, c->c.id))
		return 0;   /* NetworkMode and EndpointsConfig may name the same network */
	return mgr_ep_new(m, c, n, cfg, true, &ep, err);
}

static const char *net_default(const char *ref)
{
	return strcmp(ref, "default") == 0 ? "bridge" : ref;
}

/* The networks to attach, in order: NetworkMode (a network name, "host", "none", or
 * empty/"default" for the predefined "bridge"), then every key of
 * NetworkingConfig.EndpointsConfig. host and none exclude every other network. */
static int ctr_networks(struct manager *m, struct ctr_entry *c, const cJSON *req,
			struct berr *err)
{
	const cJSON *nc = cJSON_GetObjectItemCaseSensitive(req, "NetworkingConfig");
	const cJSON *epc = nc ? cJSON_GetObjectItemCaseSensitive(nc, "EndpointsConfig") : NULL;
	char *mode = c->c.network_mode;
	const char *first;
	const cJSON *it;
	int r = 0;

	if (epc && !cJSON_IsNull(epc) && !cJSON_IsObject(epc))
		return berr_set(err, -EINVAL, "NetworkingConfig.EndpointsConfig must be an object");
	first = cJSON_GetArraySize(epc) > 0 ? epc->child->string : "bridge";
	/* "default" stays the container's network mode, as in Docker; "" becomes the network */
	if (!*mode)
		strscpy(mode, first, NAME_LEN);
	if (strcmp(mode, "default") == 0)
		r = attach_ref(m, c, first, cJSON_GetObjectItemCaseSensitive(epc, first), err);
	else
		r = attach_ref(m, c, mode, cJSON_GetObjectItemCaseSensitive(epc, mode), err);
	cJSON_ArrayForEach(it, epc) {
		if (r < 0)
			break;
		r = attach_ref(m, c, net_default(it->string), it, err);
	}
	return r;
}

static void ctr_drop_eps(struct manager *m, struct ctr_entry *c)
{
	const struct ep_group *g;

	/* the group goes with its last endpoint */
	while ((g = mgr_ep_group(m, c->c.id)) != NULL)
		mgr_ep_drop(m, g->eps.v[g->eps.n - 1]);
}

static void ctr_entry_free(struct ctr_entry *c)
{
	if (!c)
		return;
	if (c->pidfd >= 0)
		close(c->pidfd);
	cJSON_Delete(c->c.cmd);
	cJSON_Delete(c->c.env);
	cJSON_Delete(c->c.extra);
	free(c);
}

static int ctr_persist(struct manager *m, struct ctr_entry *c, bool with_eps, struct berr *err)
{
	const struct ep_group *g = with_eps ? mgr_ep_group(m, c->c.id) : NULL;
	int r = store_begin(m->store, err);

	if (r >= 0)
		r = store_container_put(m->store, &c->c, err);
	for (size_t i = 0; r >= 0 && g && i < g->eps.n; i++)
		r = store_endpoint_put(m->store, &g->eps.v[i]->e, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0) {
		store_rollback(m->store);
		return r;
	}
	for (size_t i = 0; g && i < g->eps.n; i++)
		g->eps.v[i]->persisted = true;
	return 0;
}

static int create_locked(struct manager *m, const char *name, const cJSON *req,
			 struct ctr_entry *c, struct berr *err)
{
	int r;

	id_generate(c->c.id);
	time_now_rfc3339(c->c.created);
	c->c.state = CTR_CREATED;
	c->pidfd = -1;
	r = ctr_parse(m, name, req, &c->c, err);
	if (r >= 0)
		r = name_unique(m, c->c.name, err);
	if (r >= 0)
		r = ctr_networks(m, c, req, err);
	if (r >= 0)
		r = mgr_cluster_gw_sync(m, c, true, err);
	if (r >= 0)
		r = mgr_fw_ports_validate(m, c, err);
	if (r >= 0)
		r = ctr_persist(m, c, true, err);
	if (r < 0)
		ctr_drop_eps(m, c);
	return r;
}

static cJSON *create_warnings(struct manager *m, struct ctr_entry *c)
{
	cJSON *w = cJSON_CreateArray();

	if (mgr_ctr_host_netns(m, c) &&
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c->c.extra, "PortBindings")) > 0)
		cJSON_AddItemToArray(w, cJSON_CreateString(
			"Published ports are discarded when using host network mode"));
	return w;
}

int mgr_container_create(struct manager *m, const char *name, const cJSON *req, cJSON **ret,
			 struct berr *err)
{
	struct ctr_entry *c = xcalloc(1, sizeof(*c));
	int r;

	pthread_mutex_lock(&m->lock);
	r = create_locked(m, name, req, c, err);
	if (r < 0) {
		pthread_mutex_unlock(&m->lock);
		ctr_entry_free(c);
		return r;
	}
	vec_push(m->ctrs, c);
	mgr_event_container(m, c, "create", NULL);
	*ret = cJSON_CreateObject();
	cJSON_AddStringToObject(*ret, "Id", c->c.id);
	cJSON_AddItemToObject(*ret, "Warnings", create_warnings(m, c));
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* ---- start ---- */

static char **strv_from_json(const cJSON *a)
{
	int n = cJSON_GetArraySize(a), i = 0;
	char **v = xcalloc((size_t)n + 1, sizeof(*v));
	const cJSON *it;

	cJSON_ArrayForEach(it, a)
		v[i++] = it->valuestring;
	return v;
}

int mgr_ctr_net_teardown(struct manager *m, struct ctr_entry *c)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	_cleanup_free_ char *ns = mgr_ctr_netns_path(m, &c->c);
	size_t n = mgr_ctr_eps(m, c->c.id, &eps);
	struct berr e2 = BERR_INIT;
	int r = 0;

	for (size_t i = n; i-- > 0;)
		if (eps[i]->e.state != EP_INACTIVE && mgr_ep_retire(m, c, eps[i], &e2) < 0) {
			blog_warn("container %s: %s", c->c.name, berr_str(&e2));
			r = e2.code;
		}
	if (netns_delete(ns, &e2) < 0)
		blog_warn("container %s: %s", c->c.name, berr_str(&e2));
	return r;
}

static int sandbox_defaults(const char *ns, struct berr *err)
{
	_cleanup_close_ int fd = open(ns, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return berr_errno(err, -errno, "opening network namespace %s", ns);
	return drv_sandbox_defaults(fd, err);
}

static int net_setup(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	_cleanup_free_ struct ep_entry **eps = NULL;
	_cleanup_free_ char *ns = NULL;
	size_t n;
	int r;

	if (!mgr_ctr_host_netns(m, c)) {
		ns = mgr_ctr_netns_path(m, &c->c);
		r = netns_create(ns, err);
		if (r >= 0)
			r = sandbox_defaults(ns, err);
		if (r < 0) {
			struct berr e2 = BERR_INIT;

			/* Left behind, the mount is removed by the next start-up's sweep. */
			if (netns_delete(ns, &e2) < 0)
				blog_warn("container %s: %s", c->c.name, berr_str(&e2));
			return r;
		}
	}
	n = mgr_ctr_eps(m, c->c.id, &eps);
	for (size_t i = 0; i < n; i++) {
		r = mgr_ep_activate(m, c, eps[i], err);
		if (r < 0) {
			mgr_ctr_net_teardown(m, c);
			return r;
		}
	}
	return 0;
}

/* Children a thread waits for without the manager lock: mgr_reap() leaves zombies alone
 * meanwhile (it would steal their exit status) and the last one out reaps them. */
void mgr_children_hold(struct manager *m)
{
	pthread_mutex_lock(&m->lock);
	m->unlocked_children++;
	pthread_mutex_unlock(&m->lock);
}

static void zombies_reap(struct manager *m)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	m->reap_deferred = false;
}

void mgr_children_release(struct manager *m)
{
	pthread_mutex_lock(&m->lock);
	if (--m->unlocked_children == 0 && m->reap_deferred)
		zombies_reap(m);
	pthread_mutex_unlock(&m->lock);
}

/* The busybox image is built on first use, without the manager lock (it takes a while) and
 * once: a concurrent start waits on image_lock, then finds it built. */
static int image_ensure(struct manager *m, const char *image, struct berr *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/images", m->root);
	int r;

	if (strcmp(image, "busybox") != 0)
		return 0;
	pthread_mutex_lock(&m->image_lock);
	mgr_children_hold(m);
	r = rt_image_ensure_busybox(dir, err);
	mgr_children_release(m);
	pthread_mutex_unlock(&m->image_lock);
	return r;
}

static int proc_start(struct manager *m, struct ctr_entry *c, struct rt_proc *proc,
		      struct berr *err)
{
	_cleanup_free_ char *state = mgr_ctr_state_dir(m, &c->c);
	_cleanup_free_ char *run = mgr_ctr_run_dir(m, &c->c);
	_cleanup_free_ char *ns = mgr_ctr_netns_path(m, &c->c);
	_cleanup_free_ char *log = xasprintf("%s/container.log", state);
	_cleanup_free_ char *hosts = xasprintf("%s/hosts", run);
	_cleanup_free_ char *resolv = xasprintf("%s/resolv.conf", run);
	_cleanup_(json_deletep) cJSON *argv_json = mgr_ctr_argv(&c->c);
	_cleanup_free_ char **argv = strv_from_json(argv_json);
	_cleanup_free_ char **env = strv_from_json(c->c.env);
	char rootfs[4096];
	struct rt_spec spec = { 0 };
	bool host = mgr_ctr_host_netns(m, c);
	int r;

	r = mgr_ctr_image_rootfs(m, &c->c, rootfs, sizeof(rootfs), err);
	if (r >= 0)
		r = mkdir_p(state, 0700, err);
	if (r >= 0 && !host)
		r = mgr_ctr_files_write(m, c, err);
	if (r < 0)
		return r;
	spec.id = c->c.id;
	spec.hostname = c->c.hostname;
	spec.argv = argv;
	spec.env = env;
	spec.image_rootfs = rootfs;
	spec.state_dir = state;
	spec.run_dir = run;
	spec.netns_path = host ? NULL : ns;
	spec.log_path = log;
	spec.hosts_path = host ? "/etc/hosts" : hosts;
	spec.resolv_path = host ? "/etc/resolv.conf" : resolv;
	spec.seccomp_path = m->seccomp_path;
	mgr_ctr_resources_spec(&c->c, &spec);
	mgr_ctr_image_spec(&c->c, &spec.workdir, &spec.user);
	mgr_ctr_tty_spec(m, c, &spec);
	r = mkdir_p(run, 0700, err);
	if (r >= 0)
		r = rt_start(&spec, proc, err);
	free((char *)spec.attach_path);
	return r;
}

int mgr_ctr_watch(struct manager *m, struct ctr_entry *c)
{
	struct epoll_event ev = { .events = EPOLLIN };
	pid_t pid = c->c.shim_pid > 0 ? c->c.shim_pid : c->c.pid;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0 && c->c.shim_pid > 0)
		fd = (int)syscall(SYS_pidfd_open, c->c.pid, 0);
	if (fd < 0)
		return -errno;   /* pidfd_open() sets close-on-exec itself */
	ev.data.fd = fd;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -errno;
	}
	c->pidfd = fd;
	return 0;
}

int mgr_ctr_record_running(struct manager *m, struct ctr_entry *c, const struct rt_proc *proc,
			   struct berr *err)
{
	int r;

	c->c.state = CTR_RUNNING;
	c->c.pid = proc->pid;
	c->c.shim_pid = proc->shim_pid;
	c->c.pid_start = proc->pid_start;
	c->c.exit_code = 0;
	c->c.finished_at[0] = '\0';
	mgr_ctr_oom_set(&c->c, false);
	time_now_rfc3339(c->c.started_at);
	r = ctr_persist(m, c, false, err);
	if (r < 0)
		return berr_prefix(err, "container %s runs but is not recorded", c->c.name);
	return 0;
}

static int start_locked(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	struct rt_proc proc = { 0 };
	int r, w;

	if (c->c.state == CTR_RUNNING)
		return berr_set(err, -EALREADY, "container %s is already running", c->c.name);
	if (c->removing)
		return berr_set(err, -EBUSY, "container %s is being removed", c->c.name);
	r = net_setup(m, c, err);
	if (r < 0)
		return r;
	r = mgr_dns_container_started(m, c, err);
	if (r >= 0) {
		r = mgr_fw_ports_add(m, c, err);
		if (r < 0)
			mgr_dns_container_stopped(m, c);
	}
	if (r < 0) {
		mgr_ctr_net_teardown(m, c);
		return berr_prefix(err, "starting container %s", c->c.name);
	}
	r = proc_start(m, c, &proc, err);
	if (r < 0) {
		mgr_fw_ports_remove(m, c);
		mgr_dns_container_stopped(m, c);
		mgr_ctr_net_teardown(m, c);
		return berr_prefix(err, "starting container %s", c->c.name);
	}
	crash_point("start:after-exec");
	r = mgr_ctr_record_running(m, c, &proc, err);
	w = mgr_ctr_watch(m, c);
	if (w < 0)
		blog_warn("container %s: cannot watch its exit: %s", c->c.name, strerror(-w));
	if (r < 0) {
		/* The store does not say it runs: stop it again; its exit is seen on the pidfd and
		 * tears its networking down as for any exit (and a restart finds it gone). */
		struct berr e2 = BERR_INIT;

		if (rt_kill(c->c.pid, c->c.pid_start, SIGKILL, &e2) < 0)
			blog_warn("container %s: %s", c->c.name, berr_str(&e2));
		return berr_prefix(err, "starting container %s: stopped it again", c->c.name);
	}
	mgr_event_container(m, c, "start", NULL);
	return 0;
}

int mgr_container_start(struct manager *m, const char *ref, struct berr *err)
{
	char id[ID_LEN + 1], name[NAME_LEN], image[NAME_LEN];
	struct ctr_entry *c;
	int r;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	if (c) {
		strscpy(id, c->c.id, sizeof(id));
		strscpy(name, c->c.name, sizeof(name));
		strscpy(image, c->c.image, sizeof(image));
	}
	pthread_mutex_unlock(&m->lock);
	if (!c)
		return err->code;
	r = image_ensure(m, image, err);
	if (r < 0)
		return berr_prefix(err, "starting container %s", name);
	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_by_id(m, id);
	if (c)
		r = start_locked(m, c, err);
	else
		r = berr_set(err, -ENOENT, "container %s was removed while starting", name);
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* ---- exits ---- */

static void ctr_exit_events(struct manager *m, struct ctr_entry *c, int code)
{
	cJSON *attrs = cJSON_CreateObject();
	char buf[16];

	if (mgr_ctr_oom_killed(&c->c))
		mgr_event_container(m, c, "oom", NULL);
	snprintf(buf, sizeof(buf), "%d", code);
	cJSON_AddStringToObject(attrs, "exitCode", buf);
	mgr_event_container(m, c, "die", attrs);
}

void mgr_ctr_exited(struct manager *m, struct ctr_entry *c, int code)
{
	_cleanup_free_ char *run = mgr_ctr_run_dir(m, &c->c);
	struct berr e2 = BERR_INIT;

	if (c->pidfd >= 0) {
		/* close() drops it from the epoll set too: a failed DEL changes nothing. */
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		close(c->pidfd);
		c->pidfd = -1;
	}
	mgr_fw_ports_remove(m, c);
	mgr_dns_container_stopped(m, c);
	mgr_ctr_net_teardown(m, c);
	mgr_ctr_oom_set(&c->c, rt_exit_oom(run));
	if (rt_cleanup(run, &e2) < 0)
		blog_warn("container %s: %s", c->c.name, berr_str(&e2));
	c->c.state = CTR_EXITED;
	c->c.exit_code = code;
	c->exits++;
	c->c.pid = c->c.shim_pid = 0;
	c->c.pid_start = 0;
	time_now_rfc3339(c->c.finished_at);
	if (ctr_persist(m, c, false, &e2) < 0)
		blog_error("container %s: recording its exit: %s", c->c.name, berr_str(&e2));
	blog_info("container %s exited with code %d", c->c.name, code);
	ctr_exit_events(m, c, code);
	mgr_exited_broadcast(m, c->c.id);
	if (c->c.auto_remove && mgr_ctr_delete(m, c, &e2) < 0)
		blog_warn("auto-removing container: %s", berr_str(&e2));
}

static int exit_code_of(struct manager *m, struct ctr_entry *c)
{
	_cleanup_free_ char *run = mgr_ctr_run_dir(m, &c->c);
	int code = 255;

	if (rt_exit_code(run, &code, NULL) < 0)
		code = 255;
	return code;
}

int mgr_event_fd(struct manager *m) { return m->epfd; }

int mgr_watch_add(struct manager *m, int fd, mgr_watch_cb cb, void *ud)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	struct mgr_watch *w;

	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->cb = cb;
	w->ud = ud;
	vec_push(m->watches, w);
	return 0;
}

void mgr_watch_del(struct manager *m, int fd)
{
	for (size_t i = 0; i < m->watches.n; i++)
		if (m->watches.v[i]->fd == fd) {
			/* The caller owns fd and closes it, which removes it from the set anyway;
			 * DEL only makes that immediate. */
			epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
			free(m->watches.v[i]);
			vec_remove(m->watches, i);
			return;
		}
}

static bool watch_dispatch(struct manager *m, int fd)
{
	for (size_t i = 0; i < m->watches.n; i++)
		if (m->watches.v[i]->fd == fd) {
			m->watches.v[i]->cb(m, fd, m->watches.v[i]->ud);
			return true;
		}
	return false;
}

int mgr_reap(struct manager *m, bool sigchld)
{
	struct epoll_event evs[32];
	int n;

	/* Under the lock: a request thread that forks and waits (container start) holds it, so
	 * reaping "any child" here never steals their children; those waited for without the lock
	 * (image build) defer it. Exits are seen on the pidfds, reaped or not. Only after a
	 * SIGCHLD: waitpid(-1) walks every child (a shim per running container), and the loop also
	 * wakes for the watches (every nft batch's acknowledgement). */
	pthread_mutex_lock(&m->lock);
	if (sigchld && m->unlocked_children == 0)
		zombies_reap(m);
	else if (sigchld)
		m->reap_deferred = true;
	n = epoll_wait(m->epfd, evs, ARRAY_SIZE(evs), 0);
	for (int i = 0; i < n; i++) {
		if (watch_dispatch(m, evs[i].data.fd))
			continue;
		for (size_t k = 0; k < m->ctrs.n; k++)
			if (m->ctrs.v[k]->pidfd == evs[i].data.fd) {
				struct ctr_entry *c = m->ctrs.v[k];

				mgr_ctr_exited(m, c, exit_code_of(m, c));
				break;
			}
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* ---- stop / kill / wait ---- */

/* Wait (lock held, released while waiting) until the container `id` no longer runs the process
 * that started at `pid_start` (0: any process; a start by another request while the lock was
 * released is a new process, not a failure to stop this one); timeout_ms < 0: no deadline.
 * 0 with *ret the entry (NULL: removed meanwhile), -ETIMEDOUT, or -ECANCELED when berthd is
 * shutting down. */
static int wait_not_running(struct manager *m, const char *id, uint64_t pid_start,
			    int64_t timeout_ms, struct ctr_entry **ret)
{
	bool timed_out = false;
	struct timespec dl;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	for (;;) {
		*ret = mgr_ctr_by_id(m, id);
		if (!*ret || (*ret)->c.state != CTR_RUNNING ||
		    (pid_start && (*ret)->c.pid_start != pid_start))
			return 0;
		if (m->shutting_down)
			return -ECANCELED;
		if (timed_out)
			return -ETIMEDOUT;
		if (timeout_ms < 0)
			pthread_cond_wait(&m->exited, &m->lock);
		else
			timed_out = pthread_cond_timedwait(&m->exited, &m->lock, &dl) == ETIMEDOUT;
	}
}

static int kill_locked(struct manager *m, struct ctr_entry *c, int sig, struct berr *err)
{
	cJSON *attrs;
	char buf[16];
	int r;

	if (mgr_ctr_external(c))
		return mgr_ext_refuse(c, "signalled or stopped", err);
	if (c->c.state != CTR_RUNNING)
		return berr_set(err, -ESRCH, "container %s is not running", c->c.name);
	r = rt_kill(c->c.pid, c->c.pid_start, sig, err);
	if (r < 0)
		return r;
	attrs = cJSON_CreateObject();
	snprintf(buf, sizeof(buf), "%d", sig);
	cJSON_AddStringToObject(attrs, "signal", buf);
	mgr_event_container(m, c, "kill", attrs);
	return 0;
}

/* SIGKILL, then wait (at most 30 s: it cannot be ignored) for the exit. */
static int kill_wait(struct manager *m, struct ctr_entry *c, const char *what, struct berr *err)
{
	char id[ID_LEN + 1], name[NAME_LEN];
	uint64_t start = c->c.pid_start;
	int r;

	strscpy(id, c->c.id, sizeof(id));
	strscpy(name, c->c.name, sizeof(name));
	r = kill_locked(m, c, SIGKILL, err);
	if (r >= 0)
		r = wait_not_running(m, id, start, 30000, &c);
	if (r == -ETIMEDOUT)
		return berr_set(err, r, "container %s did not die after SIGKILL", name);
	if (r == -ECANCELED)
		return berr_set(err, r, "berthd is shutting down: container %s was not %s", name, what);
	return r;
}

static int stop_locked(struct manager *m, struct ctr_entry *c, int timeout_s, struct berr *err)
{
	char id[ID_LEN + 1], name[NAME_LEN];
	uint64_t start = c->c.pid_start;
	int r;

	if (c->c.state != CTR_RUNNING)
		return berr_set(err, -EALREADY, "container %s is not running", c->c.name);
	strscpy(id, c->c.id, sizeof(id));
	strscpy(name, c->c.name, sizeof(name));
	if (timeout_s < 0)
		timeout_s = 10;
	blog_info("stopping container %s (SIGTERM, SIGKILL after %d s)", name, timeout_s);
	r = kill_locked(m, c, SIGTERM, err);
	if (r >= 0)
		r = wait_not_running(m, id, start, (int64_t)timeout_s * 1000, &c);
	if (r == -ETIMEDOUT)
		return kill_wait(m, c, "stopped", err);
	if (r == -ECANCELED)
		return berr_set(err, r, "berthd is shutting down: container %s was not stopped", name);
	return r;
}

int mgr_container_stop(struct manager *m, const char *ref, int timeout_s, struct berr *err)
{
	struct ctr_entry *c;
	int r;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	r = c ? stop_locked(m, c, timeout_s, err) : err->code;
	if (r >= 0 && (c = mgr_ctr_find(m, ref, NULL)))
		mgr_event_container(m, c, "stop", NULL);
	pthread_mutex_unlock(&m->lock);
	return r;
}

int mgr_container_kill(struct manager *m, const char *ref, int sig, struct berr *err)
{
	struct ctr_entry *c;
	int r;

	if (sig <= 0 || sig >= NSIG)
		return berr_set(err, -EINVAL, "invalid signal %d", sig);
	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	r = c ? kill_locked(m, c, sig, err) : err->code;
	pthread_mutex_unlock(&m->lock);
	return r;
}

int mgr_container_wait(struct manager *m, const char *ref, int *ret_code, struct berr *err)
{
	struct ctr_entry *c;
	char id[ID_LEN + 1];

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	if (!c) {
		pthread_mutex_unlock(&m->lock);
		return err->code;
	}
	strscpy(id, c->c.id, sizeof(id));
	*ret_code = c->c.exit_code;
	if (wait_not_running(m, id, 0, -1, &c) < 0) {
		pthread_mutex_unlock(&m->lock);
		return berr_set(err, -ECANCELED, "berthd is shutting down");
	}
	if (c)
		*ret_code = c->c.exit_code;
	else if (m->last_exit_id[0] && strcmp(m->last_exit_id, id) == 0)
		*ret_code = m->last_exit_code;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* ---- remove ---- */

int mgr_ctr_delete(struct manager *m, struct ctr_entry *c, struct berr *err)
{
	_cleanup_free_ char *state = mgr_ctr_state_dir(m, &c->c);
	_cleanup_free_ char *run = mgr_ctr_run_dir(m, &c->c);
	const struct ep_group *g = mgr_ep_group(m, c->c.id);
	struct berr e2 = BERR_INIT;
	int r = store_begin(m->store, err);

	/* Only a container that does not run is deleted: its endpoints are inactive and hold no
	 * addresses (an allocation left by a crash is freed by start-up reconciliation). */
	for (size_t i = 0; r >= 0 && g && i < g->eps.n; i++)
		r = store_endpoint_delete(m->store, g->eps.v[i]->e.id, err);
	if (r >= 0)
		r = store_container_delete(m->store, c->c.id, err);
	if (r >= 0)
		r = store_commit(m->store, err);
	if (r < 0) {
		store_rollback(m->store);
		return r;
	}
	crash_point("ctr-rm:after-store");
	mgr_event_container(m, c, "destroy", NULL);
	strscpy(m->last_exit_id, c->c.id, sizeof(m->last_exit_id));
	m->last_exit_code = c->c.exit_code;
	ctr_drop_eps(m, c);
	mgr_execs_forget(m, c->c.id);
	for (size_t i = 0; i < m->ctrs.n; i++)
		if (m->ctrs.v[i] == c) {
			vec_remove(m->ctrs, i);
			break;
		}
	mgr_tree_discard(m, state);   /* the writable layer may be large */
	if (rm_rf(run, &e2) < 0)
		blog_warn("removing container files: %s", berr_str(&e2));
	mgr_exited_broadcast(m, c->c.id);
	ctr_entry_free(c);
	return 0;
}

static int remove_locked(struct manager *m, struct ctr_entry *c, bool force, struct berr *err)
{
	char id[ID_LEN + 1];
	int r;

	if (c->removing)
		return berr_set(err, -EBUSY, "removal of container %s is already in progress",
				c->c.name);
	if (mgr_ctr_external(c))
		return mgr_ext_remove(m, c, force, err);
	if (c->c.state == CTR_RUNNING) {
		if (!force)
			return berr_set(err, -EBUSY, "container %s is running: stop it first or use "
					"--force", c->c.name);
		strscpy(id, c->c.id, sizeof(id));
		/* the lock is released while waiting: no start may slip in (start refuses) */
		c->removing = true;
		r = kill_wait(m, c, "removed", err);
		c = mgr_ctr_by_id(m, id);
		if (c)
			c->removing = false;
		if (r < 0)
			return r;
		if (!c)
			return 0;  /* auto-removed on exit */
	}
	return mgr_ctr_delete(m, c, err);
}

int mgr_container_remove(struct manager *m, const char *ref, bool force, struct berr *err)
{
	struct ctr_entry *c;
	int r;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	r = c ? remove_locked(m, c, force, err) : err->code;
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* ---- list / inspect / logs ---- */

int mgr_container_list(struct manager *m, bool all, cJSON **ret, struct berr *err)
{
	cJSON *a = cJSON_CreateArray();

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->ctrs.n; i++)
		if (all || m->ctrs.v[i]->c.state == CTR_RUNNING)
			cJSON_AddItemToArray(a, mgr_render_container_summary(m, m->ctrs.v[i]));
	pthread_mutex_unlock(&m->lock);
	*ret = a;
	return 0;
}

int mgr_container_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err)
{
	struct ctr_entry *c;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	if (c)
		*ret = mgr_render_container(m, c);
	pthread_mutex_unlock(&m->lock);
	return c ? 0 : err->code;
}

int mgr_container_log_path(struct manager *m, const char *ref, char **ret_path, char ret_id[65],
			   struct berr *err)
{
	struct ctr_entry *c;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	if (c) {
		_cleanup_free_ char *state = mgr_ctr_state_dir(m, &c->c);

		*ret_path = xasprintf("%s/container.log", state);
		strscpy(ret_id, c->c.id, ID_LEN + 1);
	}
	pthread_mutex_unlock(&m->lock);
	return c ? 0 : err->code;
}

bool mgr_container_running(struct manager *m, const char *id)
{
	struct ctr_entry *c;
	bool running;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_by_id(m, id);
	running = c && c->c.state == CTR_RUNNING;
	pthread_mutex_unlock(&m->lock);
	return running;
}
