/* SPDX-License-Identifier: Apache-2.0 */
/* apitest: berthd's HTTP API over a FAKE in-memory manager, for tests/system/test_api.sh.
 *
 *   apitest SOCKET [RUNDIR]   serve until SIGTERM/SIGINT; log files live in RUNDIR (default:
 *                             the socket's directory) as <container name>.log
 *
 * The API sources are compiled into this program (the Makefile links helpers against
 * libberth.a only, and the real manager must not be linked next to this fake one). Canned
 * behaviour: network "boom" fails with EIO (500), a Driver other than "bridge" is EOPNOTSUPP
 * (501), image "nope" is ENOENT; start appends "started" to the log; stop exits 143, kill
 * 128+signal; wait blocks until the container is not running. */
#include "daemon/api.c"
#include "daemon/api_attach.c"
#include "daemon/api_decode.c"
#include "daemon/api_events.c"
#include "daemon/api_image.c"
#include "daemon/api_stats.c"
#include "daemon/api_stream.c"
#include "daemon/api_docker.c"
#include "daemon/http_util.c"

#include <libgen.h>
#include <pthread.h>
#include <signal.h>

#define FAKE_MAX 64

struct fake_net {
	bool used;
	char id[65];
	char name[128];
	bool conn[FAKE_MAX]; /* connected containers, by index */
};

struct fake_ctr {
	bool used;
	char id[65];
	char name[128];
	bool running;
	bool started_once;
	int exit_code;
	int last_signal;
	int stop_timeout;
};

struct manager {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int watches[64];   /* exit watches (eventfds), woken on every change; -1: free slot */
	char run[PATH_MAX];
	unsigned int seq;
	struct fake_net nets[FAKE_MAX];
	struct fake_ctr ctrs[FAKE_MAX];
};

static void fake_id(struct manager *m, char id[65])
{
	unsigned int seed = ++m->seq * 2654435761u;
	int i;

	for (i = 0; i < 8; i++)
		snprintf(id + i * 8, 9, "%08x", seed ^ (0x9e3779b9u * (unsigned int)i));
}

/* Name first, then full ID, then a unique ID prefix (as in Docker). */
#define FAKE_FIND(arr, ref)                                                            \
	({                                                                             \
		int _found = -1, _n = 0;                                               \
		size_t _i;                                                             \
		for (_i = 0; _i < FAKE_MAX && _found < 0; _i++)                        \
			if ((arr)[_i].used && !strcmp((arr)[_i].name, ref))            \
				_found = (int)_i;                                      \
		for (_i = 0; _i < FAKE_MAX && _found < 0; _i++)                        \
			if ((arr)[_i].used && *(ref) &&                                \
			    !strncmp((arr)[_i].id, ref, strlen(ref)) && _n++ == 0)      \
				_found = (int)_i;                                      \
		_found;                                                                \
	})

static int fake_net_find(struct manager *m, const char *ref, struct berr *err)
{
	int i = FAKE_FIND(m->nets, ref);

	return i >= 0 ? i : berr_set(err, -ENOENT, "network %s not found", ref);
}

static int fake_ctr_find(struct manager *m, const char *ref, struct berr *err)
{
	int i = FAKE_FIND(m->ctrs, ref);

	return i >= 0 ? i : berr_set(err, -ENOENT, "no such container: %s", ref);
}

/* Index of the first unused slot of arr, or -ENOSPC. */
#define FAKE_FREE(arr)                                          \
	({                                                      \
		int _slot = -ENOSPC;                            \
		size_t _i;                                      \
		for (_i = FAKE_MAX; _i-- > 0;)                  \
			if (!(arr)[_i].used)                    \
				_slot = (int)_i;                \
		_slot;                                          \
	})

int mgr_open(const struct mgr_config *cfg, struct manager **ret, struct berr *err)
{
	struct manager *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->changed, NULL);
	for (int i = 0; i < 64; i++)
		m->watches[i] = -1;
	strscpy(m->run, cfg->run ? cfg->run : "/tmp", sizeof(m->run));
	*ret = m;
	return 0;
}

/* Exit watches as the manager's: an eventfd, written whenever a container stops or goes. */
int mgr_exit_watch_add(struct manager *m, const char *id)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), i;

	(void)id;
	pthread_mutex_lock(&m->lock);
	for (i = 0; fd >= 0 && i < 64 && m->watches[i] >= 0; i++)
		;
	if (fd >= 0 && i < 64)
		m->watches[i] = fd;
	pthread_mutex_unlock(&m->lock);
	if (fd >= 0 && i == 64) {
		close(fd);
		return -EMFILE;
	}
	return fd < 0 ? -errno : fd;
}

void mgr_exit_watch_drain(int fd)
{
	eventfd_t v;

	if (fd >= 0)
		(void)eventfd_read(fd, &v);
}

void mgr_exit_watch_del(struct manager *m, int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&m->lock);
	for (int i = 0; i < 64; i++)
		if (m->watches[i] == fd)
			m->watches[i] = -1;
	pthread_mutex_unlock(&m->lock);
	close(fd);
}

/* Lock held. */
static void fake_changed(struct manager *m)
{
	for (int i = 0; i < 64; i++)
		if (m->watches[i] >= 0)
			(void)eventfd_write(m->watches[i], 1);
	pthread_cond_broadcast(&m->changed);
}

void mgr_close(struct manager *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->changed);
	free(m);
}

/* The Docker plugin socket is not served by apitest. */
void plugin_serve(struct manager *m, const char *method, const char *path, const char *body,
		  size_t len, int *ret_status, char **ret_body)
{
	*ret_status = 501;
	*ret_body = xstrdup("{\"Err\":\"apitest serves no plugin\"}");
}

void mgr_remote_plugin_enable(struct manager *m)
{
}

int mgr_info(struct manager *m, cJSON **ret, struct berr *err)
{
	int i, n = 0, running = 0, nets = 0;
	cJSON *j = cJSON_CreateObject();

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < FAKE_MAX; i++) {
		n += m->ctrs[i].used;
		running += m->ctrs[i].used && m->ctrs[i].running;
		nets += m->nets[i].used;
	}
	pthread_mutex_unlock(&m->lock);
	cJSON_AddStringToObject(j, "Name", "fake");
	cJSON_AddNumberToObject(j, "Containers", n);
	cJSON_AddNumberToObject(j, "ContainersRunning", running);
	cJSON_AddNumberToObject(j, "Networks", nets);
	cJSON_AddStringToObject(j, "Root", "/nonexistent");
	cJSON_AddStringToObject(j, "Run", m->run);
	*ret = j;
	return 0;
}

/* ------------------------------------------------------------------ networks */

static int fake_net_create_locked(struct manager *m, const cJSON *req, cJSON **ret,
				  struct berr *err)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, "Name");
	const cJSON *driver = cJSON_GetObjectItemCaseSensitive(req, "Driver");
	struct fake_net *n;
	int i;

	if (!cJSON_IsString(name) || !*name->valuestring)
		return berr_set(err, -EINVAL, "network name is missing");
	if (strlen(name->valuestring) >= sizeof(n->name))
		return berr_set(err, -ENAMETOOLONG, "network name is too long");
	if (!strcmp(name->valuestring, "boom"))
		return berr_set(err, -EIO, "fake store failure while creating boom");
	if (driver && (!cJSON_IsString(driver) || strcmp(driver->valuestring, "bridge")))
		return berr_set(err, -EOPNOTSUPP, "driver is not supported by the fake manager");
	if (FAKE_FIND(m->nets, name->valuestring) >= 0)
		return berr_set(err, -EEXIST, "network with name %s already exists",
				name->valuestring);
	i = FAKE_FREE(m->nets);
	if (i < 0)
		return berr_set(err, i, "too many networks");
	n = &m->nets[i];
	memset(n, 0, sizeof(*n));
	n->used = true;
	strscpy(n->name, name->valuestring, sizeof(n->name));
	fake_id(m, n->id);
	*ret = cJSON_CreateObject();
	cJSON_AddStringToObject(*ret, "Id", n->id);
	cJSON_AddStringToObject(*ret, "Warning", "");
	return 0;
}

int mgr_network_create(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = fake_net_create_locked(m, req, ret, err);
	pthread_mutex_unlock(&m->lock);
	return r;
}

static cJSON *fake_net_json(struct manager *m, const struct fake_net *n)
{
	cJSON *j = cJSON_CreateObject(), *ctrs;
	int i;

	cJSON_AddStringToObject(j, "Name", n->name);
	cJSON_AddStringToObject(j, "Id", n->id);
	cJSON_AddStringToObject(j, "Driver", "bridge");
	ctrs = cJSON_AddObjectToObject(j, "Containers");
	for (i = 0; i < FAKE_MAX; i++) {
		if (!n->conn[i])
			continue;
		cJSON *c = cJSON_AddObjectToObject(ctrs, m->ctrs[i].id);
		cJSON_AddStringToObject(c, "Name", m->ctrs[i].name);
	}
	return j;
}

int mgr_network_list(struct manager *m, const char *name_filter, cJSON **ret, struct berr *err)
{
	cJSON *arr = cJSON_CreateArray();
	int i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < FAKE_MAX; i++)
		if (m->nets[i].used && (!name_filter || strstr(m->nets[i].name, name_filter)))
			cJSON_AddItemToArray(arr, fake_net_json(m, &m->nets[i]));
	pthread_mutex_unlock(&m->lock);
	*ret = arr;
	return 0;
}

int mgr_network_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err)
{
	int i;

	pthread_mutex_lock(&m->lock);
	i = fake_net_find(m, ref, err);
	if (i >= 0)
		*ret = fake_net_json(m, &m->nets[i]);
	pthread_mutex_unlock(&m->lock);
	return i < 0 ? i : 0;
}

static bool fake_net_busy(const struct fake_net *n)
{
	int i;

	for (i = 0; i < FAKE_MAX; i++)
		if (n->conn[i])
			return true;
	return false;
}

int mgr_network_remove(struct manager *m, const char *ref, struct berr *err)
{
	int i;

	pthread_mutex_lock(&m->lock);
	i = fake_net_find(m, ref, err);
	if (i >= 0 && fake_net_busy(&m->nets[i]))
		i = berr_set(err, -EBUSY, "network %s has active endpoints", m->nets[i].name);
	if (i >= 0)
		m->nets[i].used = false;
	pthread_mutex_unlock(&m->lock);
	return i < 0 ? i : 0;
}

/* POST /firewall/reload (issue 3): nothing to rebuild in the fake. */
int mgr_firewall_reload(struct manager *m, struct berr *err)
{
	return 0;
}

int mgr_network_prune(struct manager *m, cJSON **ret, struct berr *err)
{
	cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "NetworksDeleted");
	int i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < FAKE_MAX; i++) {
		if (!m->nets[i].used || fake_net_busy(&m->nets[i]))
			continue;
		m->nets[i].used = false;
		cJSON_AddItemToArray(arr, cJSON_CreateString(m->nets[i].name));
	}
	pthread_mutex_unlock(&m->lock);
	*ret = j;
	return 0;
}

/* Resolves network ref and req.Container under the lock. */
static int fake_link_find(struct manager *m, const char *ref, const cJSON *req, int *ret_net,
			  int *ret_ctr, struct berr *err)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(req, "Container");

	if (!cJSON_IsString(c) || !*c->valuestring)
		return berr_set(err, -EINVAL, "Container is missing from the request");
	*ret_net = fake_net_find(m, ref, err);
	if (*ret_net < 0)
		return *ret_net;
	*ret_ctr = fake_ctr_find(m, c->valuestring, err);
	return *ret_ctr < 0 ? *ret_ctr : 0;
}

int mgr_network_connect(struct manager *m, const char *ref, const cJSON *req, struct berr *err)
{
	int r, n, c;

	pthread_mutex_lock(&m->lock);
	r = fake_link_find(m, ref, req, &n, &c, err);
	if (r == 0 && m->nets[n].conn[c])
		r = berr_set(err, -EISCONN, "container %s is already connected to network %s",
			     m->ctrs[c].name, m->nets[n].name);
	if (r == 0)
		m->nets[n].conn[c] = true;
	pthread_mutex_unlock(&m->lock);
	return r;
}

int mgr_network_disconnect(struct manager *m, const char *ref, const cJSON *req, struct berr *err)
{
	int r, n, c;

	pthread_mutex_lock(&m->lock);
	r = fake_link_find(m, ref, req, &n, &c, err);
	if (r == 0 && !m->nets[n].conn[c])
		r = berr_set(err, -ENOTCONN, "container %s is not connected to network %s",
			     m->ctrs[c].name, m->nets[n].name);
	if (r == 0)
		m->nets[n].conn[c] = false;
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* ------------------------------------------------------------------ containers */

static int fake_ctr_create_locked(struct manager *m, const char *name, const cJSON *req,
				  cJSON **ret, struct berr *err)
{
	const cJSON *image = cJSON_GetObjectItemCaseSensitive(req, "Image");
	struct fake_ctr *c;
	char gen[32];
	int i;

	if (image && cJSON_IsString(image) && !strcmp(image->valuestring, "nope"))
		return berr_set(err, -ENOENT, "image nope not found");
	if (!name || !*name) {
		snprintf(gen, sizeof(gen), "ctr%u", m->seq + 1);
		name = gen;
	}
	if (strlen(name) >= sizeof(c->name) || strchr(name, '/'))
		return berr_set(err, -EINVAL, "invalid container name %s", name);
	if (FAKE_FIND(m->ctrs, name) >= 0)
		return berr_set(err, -EEXIST, "container name %s is already in use", name);
	i = FAKE_FREE(m->ctrs);
	if (i < 0)
		return berr_set(err, i, "too many containers");
	c = &m->ctrs[i];
	memset(c, 0, sizeof(*c));
	c->used = true;
	strscpy(c->name, name, sizeof(c->name));
	fake_id(m, c->id);
	*ret = cJSON_CreateObject();
	cJSON_AddStringToObject(*ret, "Id", c->id);
	cJSON_AddArrayToObject(*ret, "Warnings");
	return 0;
}

int mgr_container_create(struct manager *m, const char *name, const cJSON *req, cJSON **ret,
			 struct berr *err)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = fake_ctr_create_locked(m, name, req, ret, err);
	pthread_mutex_unlock(&m->lock);
	return r;
}

static void fake_log_append(struct manager *m, const struct fake_ctr *c, const char *line)
{
	_cleanup_free_ char *path = xasprintf("%s/%s.log", m->run, c->name);
	FILE *f = fopen(path, "ae");

	if (!f)
		return;
	fputs(line, f);
	fclose(f);
}

int mgr_container_start(struct manager *m, const char *ref, struct berr *err)
{
	int i;

	pthread_mutex_lock(&m->lock);
	i = fake_ctr_find(m, ref, err);
	if (i >= 0 && m->ctrs[i].running)
		i = berr_set(err, -EALREADY, "container %s is already running", ref);
	if (i >= 0) {
		m->ctrs[i].running = true;
		m->ctrs[i].started_once = true;
		fake_log_append(m, &m->ctrs[i], "started\n");
	}
	pthread_mutex_unlock(&m->lock);
	return i < 0 ? i : 0;
}

/* Ends a running container with exit code `code`. */
static int fake_ctr_end(struct manager *m, const char *ref, int code, int sig, int timeout,
			int not_running, struct berr *err)
{
	int i;

	pthread_mutex_lock(&m->lock);
	i = fake_ctr_find(m, ref, err);
	if (i >= 0 && !m->ctrs[i].running)
		i = berr_set(err, not_running, "container %s is not running", ref);
	if (i >= 0) {
		m->ctrs[i].running = false;
		m->ctrs[i].exit_code = code;
		m->ctrs[i].last_signal = sig;
		m->ctrs[i].stop_timeout = timeout;
		fake_changed(m);
	}
	pthread_mutex_unlock(&m->lock);
	return i < 0 ? i : 0;
}

int mgr_container_stop(struct manager *m, const char *ref, int timeout_s, struct berr *err)
{
	return fake_ctr_end(m, ref, 128 + SIGTERM, SIGTERM, timeout_s, -EALREADY, err);
}

int mgr_container_kill(struct manager *m, const char *ref, int sig, struct berr *err)
{
	return fake_ctr_end(m, ref, 128 + sig, sig, -1, -ESRCH, err);
}

int mgr_container_wait(struct manager *m, const char *ref, int *ret_code, struct berr *err)
{
	char id[65];
	int i;

	pthread_mutex_lock(&m->lock);
	i = fake_ctr_find(m, ref, err);
	if (i >= 0) {
		memcpy(id, m->ctrs[i].id, sizeof(id));
		while (m->ctrs[i].used && !strcmp(m->ctrs[i].id, id) && m->ctrs[i].running)
			pthread_cond_wait(&m->changed, &m->lock);
		*ret_code = m->ctrs[i].exit_code;
	}
	pthread_mutex_unlock(&m->lock);
	return i < 0 ? i : 0;
}

int mgr_container_remove(struct manager *m, const char *ref, bool force, struct berr *err)
{
	int i, n;

	pthread_mutex_lock(&m->lock);
	i = fake_ctr_find(m, ref, err);
	if (i >= 0 && m->ctrs[i].running && !force)
		i = berr_set(err, -EBUSY, "container %s is running: stop it or use force", ref);
	if (i >= 0) {
		m->ctrs[i].used = false;
		m->ctrs[i].running = false;
		for (n = 0; n < FAKE_MAX; n++)
			m->nets[n].conn[i] = false;
		fake_changed(m);
	}
	pthread_mutex_unlock(&m->lock);
	return i < 0 ? i : 0;
}

static cJSON *fake_ctr_json(const struct fake_ctr *c)
{
	cJSON *j = cJSON_CreateObject(), *st;
	char name[130];

	snprintf(name, sizeof(name), "/%s", c->name);
	cJSON_AddStringToObject(j, "Id", c->id);
	cJSON_AddStringToObject(j, "Name", name);
	st = cJSON_AddObjectToObject(j, "State");
	cJSON_AddStringToObject(st, "Status",
				c->running ? "running" : c->started_once ? "exited" : "created");
	cJSON_AddBoolToObject(st, "Running", c->running);
	cJSON_AddNumberToObject(st, "ExitCode", c->exit_code);
	cJSON_AddNumberToObject(j, "LastSignal", c->last_signal);
	cJSON_AddNumberToObject(j, "StopTimeout", c->stop_timeout);
	return j;
}

int mgr_container_list(struct manager *m, bool all, cJSON **ret, struct berr *err)
{
	cJSON *arr = cJSON_CreateArray();
	int i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < FAKE_MAX; i++)
		if (m->ctrs[i].used && (all || m->ctrs[i].running))
			cJSON_AddItemToArray(arr, fake_ctr_json(&m->ctrs[i]));
	pthread_mutex_unlock(&m->lock);
	*ret = arr;
	return 0;
}

int mgr_container_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err)
{
	int i;

	pthread_mutex_lock(&m->lock);
	i = fake_ctr_find(m, ref, err);
	if (i >= 0)
		*ret = fake_ctr_json(&m->ctrs[i]);
	pthread_mutex_unlock(&m->lock);
	return i < 0 ? i : 0;
}

int mgr_container_log_path(struct manager *m, const char *ref, char **ret_path, char ret_id[65],
			   struct berr *err)
{
	int i;

	pthread_mutex_lock(&m->lock);
	i = fake_ctr_find(m, ref, err);
	if (i >= 0) {
		*ret_path = xasprintf("%s/%s.log", m->run, m->ctrs[i].name);
		memcpy(ret_id, m->ctrs[i].id, 65);
	}
	pthread_mutex_unlock(&m->lock);
	return i < 0 ? i : 0;
}

int mgr_container_state(struct manager *m, const char *id, struct mgr_ctr_state *ret)
{
	memset(ret, 0, sizeof(*ret));
	pthread_mutex_lock(&m->lock);
	for (int i = 0; i < FAKE_MAX; i++)
		if (m->ctrs[i].used && !strcmp(m->ctrs[i].id, id)) {
			ret->exists = true;
			ret->running = m->ctrs[i].running;
			ret->exit_code = m->ctrs[i].exit_code;
		}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* apitest has no images. */
int mgr_image_list(struct manager *m, cJSON **ret, struct berr *err)
{
	*ret = cJSON_CreateArray();
	return 0;
}

int mgr_image_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err)
{
	return berr_set(err, -ENOENT, "No such image: %s", ref);
}

uint64_t mgr_tree_size(const char *path)
{
	return 0;
}

bool mgr_container_running(struct manager *m, const char *id)
{
	bool running = false;
	int i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < FAKE_MAX; i++)
		if (m->ctrs[i].used && !strcmp(m->ctrs[i].id, id))
			running = m->ctrs[i].running;
	pthread_mutex_unlock(&m->lock);
	return running;
}

int mgr_reap(struct manager *m, bool sigchld)
{
	return 0;
}

int mgr_event_fd(struct manager *m)
{
	return -1;
}

/* The embedded DNS is not faked: its routes answer 501. */
int mgr_dns_lookup(struct manager *m, const char *name, const char *network, const char *type,
		   cJSON **ret, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no embedded DNS in apitest");
}

int mgr_dns_stats(struct manager *m, cJSON **ret, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no embedded DNS in apitest");
}

/* Statistics are not faked either. */
int mgr_container_stats(struct manager *m, const char *ref, bool one_shot, cJSON **ret,
			struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no statistics in apitest");
}

/* No events either: the stream ends at once. */
uint64_t mgr_events_head(struct manager *m)
{
	return 1;
}

int mgr_events_next(struct manager *m, uint64_t *cursor, int timeout_ms, struct mgr_event *ret)
{
	return -ECANCELED;
}

/* Images are not faked: their routes answer 501 (uploads are stored in the run directory). */
int mgr_image_load(struct manager *m, const char *archive,
		   int (*progress)(void *, const struct rt_load_progress *), void *ud,
		   cJSON **ret_names, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no images in apitest");
}

int mgr_image_import(struct manager *m, const char *archive, const char *ref,
		     int (*progress)(void *, const struct rt_load_progress *), void *ud,
		     cJSON **ret_names, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no images in apitest");
}

int mgr_image_remove(struct manager *m, const char *ref, bool force, cJSON **ret,
		     struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no images in apitest");
}

int mgr_image_upload_file(struct manager *m, char **ret_path, struct berr *err)
{
	char *path = xasprintf("%s/upload-XXXXXX", m->run);
	int fd = mkstemp(path);

	if (fd < 0) {
		free(path);
		return berr_errno(err, -errno, "creating an upload file");
	}
	*ret_path = path;
	return fd;
}

uint64_t mgr_image_bytes_max(void)
{
	return 1ULL << 30;
}

/* Terminals and exec sessions are not faked: their routes answer 501. */
int mgr_container_attach_begin(struct manager *m, const char *ref, struct mgr_attach *ret,
			       struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no attach in apitest");
}

void mgr_container_attach_end(struct manager *m, const char *id)
{
}

int mgr_container_attach_state(struct manager *m, const char *id, struct mgr_attach *ret)
{
	return -ENOENT;
}

int mgr_container_resize(struct manager *m, const char *ref, int rows, int cols,
			 struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no terminals in apitest");
}

int mgr_exec_create(struct manager *m, const char *ref, const cJSON *req, cJSON **ret,
		    struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no exec in apitest");
}

int mgr_exec_start(struct manager *m, const char *ref, int rows, int cols, bool detach,
		   struct mgr_exec_io *ret, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no exec in apitest");
}

int mgr_exec_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no exec in apitest");
}

int mgr_exec_resize(struct manager *m, const char *ref, int rows, int cols, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no exec in apitest");
}

/* The network probe: a canned matrix of two cells reached in 6 steps of 300 ms, with progress
 * (streamed with ?progress=1) and cancellation; a body {"Fail": true} fails with EIO. */
int mgr_network_probe_check(const cJSON *req, struct berr *err)
{
	if (req && !cJSON_IsObject(req))
		return berr_set(err, -EINVAL, "the request body must be a JSON object");
	return 0;
}

int mgr_network_probe(struct manager *m, const cJSON *req, const struct mgr_probe_ctl *ctl,
		      cJSON **ret, struct berr *err)
{
	cJSON *cells;

	for (size_t i = 0; i <= 6; i++) {
		if (ctl && ctl->cancel && atomic_load(ctl->cancel))
			return berr_set(err, -ECANCELED, "cancelled");
		if (ctl && ctl->progress)
			ctl->progress(ctl->ud, i * 2, 12);
		usleep(300000);
	}
	if (cJSON_IsTrue(cJSON_GetObjectItem(req, "Fail")))
		return berr_set(err, -EIO, "the fake probe failed");
	*ret = cJSON_CreateObject();
	cells = cJSON_AddArrayToObject(*ret, "Cells");
	for (int i = 0; i < 2; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "Source", i ? "b" : "a");
		cJSON_AddStringToObject(c, "Target", i ? "a" : "b");
		cJSON_AddStringToObject(c, "Network", "n");
		cJSON_AddNumberToObject(c, "Family", 4);
		cJSON_AddStringToObject(c, "Protocol", "icmp");
		cJSON_AddStringToObject(c, "Verdict", "reach");
		cJSON_AddBoolToObject(c, "Match", true);
		cJSON_AddItemToArray(cells, c);
	}
	cJSON_AddStringToObject(*ret, "Policy", "networks");
	return 0;
}

/* CNI attachments are not faked either (test_cni.sh drives the real ones). */
int mgr_cni_add(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no CNI in apitest");
}

int mgr_cni_del(struct manager *m, const cJSON *req, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no CNI in apitest");
}

int mgr_cni_check(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no CNI in apitest");
}

int mgr_cni_gc(struct manager *m, const cJSON *req, cJSON **ret, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no CNI in apitest");
}

int mgr_cni_status(struct manager *m, const char *network, cJSON **ret, struct berr *err)
{
	return berr_set(err, -EOPNOTSUPP, "no CNI in apitest");
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct mgr_config cfg = { 0 };
	struct berr err = BERR_INIT;
	struct manager *m = NULL;
	struct api *a = NULL;
	_cleanup_free_ char *sock_dir = NULL;
	sigset_t set;
	int sig;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s SOCKET [RUNDIR]\n", argv[0]);
		return 2;
	}
	if (getenv("APITEST_DEBUG"))
		blog_set_level(BLOG_DEBUG);
	sock_dir = xstrdup(argv[1]);
	cfg.run = argc == 3 ? argv[2] : dirname(sock_dir);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL); /* before any thread exists */
	signal(SIGPIPE, SIG_IGN);
	mgr_open(&cfg, &m, &err);
	if (api_start(m, argv[1], &a, &err) < 0) {
		fprintf(stderr, "apitest: %s\n", berr_str(&err));
		mgr_close(m);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	api_stop(a);
	mgr_close(m);
	return 0;
}
