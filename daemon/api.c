/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP API: a unix socket served by libmicrohttpd (one thread per connection, since manager
 * calls such as stop or wait may block), a route table, JSON in and out, -errno -> status. */
#include "daemon/api.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <fcntl.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "common/util.h"
#include "daemon/api_decode.h"
#include "daemon/api_internal.h"
#include "daemon/api_docker.h"
#include "daemon/http_util.h"
#include "daemon/manager.h"
#include "daemon/plugin_api.h"
#include "plugins/docker/dkp.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

#define API_CONN_MAX 256u
#define API_CONN_MEMORY ((size_t)128 * 1024)
#define API_LOG_BLOCK (16 * 1024)
/* A followed log or a wait is woken by the container's exit watch (and a log by inotify); these
 * ticks are only a safety net, except API_LOG_POLL_MS for a log that inotify cannot watch. */
#define API_LOG_POLL_MS 200
#define API_WATCHED_POLL_MS 5000
#define API_WAIT_POLL_MS API_WATCHED_POLL_MS

/* ---------------------------------------------------------------- responses */

static enum MHD_Result api_queue(struct MHD_Connection *conn, struct api_conn *req, int status,
				 struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Api-Version", API_VERSION);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "berth");
	ret = MHD_queue_response(conn, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	req->status = status;
	return ret;
}

struct MHD_Response *api_response_text(const char *text, size_t len, const char *ctype)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (resp && ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	return resp;
}

static enum MHD_Result api_queue_empty(struct MHD_Connection *conn, struct api_conn *req,
				       int status)
{
	return api_queue(conn, req, status, api_response_text("", 0, NULL));
}

/* A reply this big (a listing of thousands of containers, an inspect of a network with thousands
 * of endpoints) leaves megabytes of freed heap that malloc keeps: once the request is done, the
 * heap is trimmed (api_completed). Without it berthd's RSS after listing 4,000 containers stayed
 * 8 MiB above what it needs. */
#define API_TRIM_REPLY (256 * 1024)
static atomic_bool api_trim_wanted;

/* The reply as JSON text; a string that is not UTF-8 (from a kernel or DNS answer) is escaped. */
static struct MHD_Response *api_response_json(cJSON *json)
{
	_cleanup_free_ char *s = NULL;
	struct MHD_Response *resp;
	char *text;

	http_json_utf8_fix(json);
	s = cJSON_PrintUnformatted(json);
	if (!s)
		return NULL;
	text = xasprintf("%s\n", s);
	if (strlen(text) >= API_TRIM_REPLY)
		atomic_store(&api_trim_wanted, true);
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return resp;
}

/* {"message": msg}, msg escaped where it is not UTF-8; every 5xx is logged at warn. */
static struct MHD_Response *api_response_message(struct api_conn *req, int status,
						 const char *msg)
{
	_cleanup_free_ char *text = http_utf8_escape(msg);
	_cleanup_json_ cJSON *j = cJSON_CreateObject();

	if (status >= 500)
		blog_warn("%s %s: %d %s", req->method, req->path, status, text);
	if (!j || !cJSON_AddStringToObject(j, "message", text))
		return NULL;
	return api_response_json(j);
}

enum MHD_Result api_queue_message(struct MHD_Connection *conn, struct api_conn *req,
					 int status, const char *msg)
{
	return api_queue(conn, req, status, api_response_message(req, status, msg));
}

static enum MHD_Result api_queue_error(struct api_call *c, int code)
{
	int status = http_status_from_errno(code);

	if (status == 304)
		return api_queue_empty(c->conn, c->req, status);
	if (c->err.code == 0)
		c->err.code = code;
	return api_queue_message(c->conn, c->req, status, berr_str(&c->err));
}

static enum MHD_Result api_finish(struct api_call *c, int r)
{
	enum MHD_Result ret;

	if (c->client_gone) { /* nobody to answer */
		cJSON_Delete(c->reply);
		c->req->status = 499;
		return MHD_NO;
	}
	if (r < 0) {
		cJSON_Delete(c->reply);
		if (c->resp)
			MHD_destroy_response(c->resp);
		return api_queue_error(c, r);
	}
	if (c->resp)
		return api_queue(c->conn, c->req, c->status, c->resp);
	if (c->reply) {
		ret = api_queue(c->conn, c->req, c->status, api_response_json(c->reply));
		cJSON_Delete(c->reply);
		return ret;
	}
	return api_queue_empty(c->conn, c->req, c->status);
}

/* ---------------------------------------------------------------- request input */

/* The connection's socket (to notice a client that hung up), -1 if MHD does not say. */
int api_client_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

/* Sleeps up to ms: 1 when fd or fd2 (either may be -1) is readable, 0 on timeout, -EPIPE when
 * the client hung up, -ECANCELED when the API is stopping. */
int api_poll2(struct api *a, int client, int fd, int fd2, int ms)
{
	struct pollfd p[3] = {
		{ .fd = client, .events = POLLRDHUP },
		{ .fd = fd, .events = POLLIN },
		{ .fd = fd2, .events = POLLIN },
	};

	if (atomic_load(&a->stopping))
		return -ECANCELED;
	if (poll(p, 3, ms) < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
		return -EPIPE;
	return ((p[1].revents | p[2].revents) & POLLIN) ? 1 : 0;
}

int api_poll(struct api *a, int client, int fd, int ms)
{
	return api_poll2(a, client, fd, -1, ms);
}

/* ---------------------------------------------------------------- system */

static int api_ping(struct api_call *c)
{
	c->resp = api_response_text("OK", 2, "text/plain; charset=utf-8");
	if (!c->resp)
		return -ENOMEM;
	MHD_add_response_header(c->resp, "Cache-Control", "no-cache, no-store, must-revalidate");
	MHD_add_response_header(c->resp, "Pragma", "no-cache");
	MHD_add_response_header(c->resp, "OSType", "linux");
	MHD_add_response_header(c->resp, "Docker-Experimental", "false");
	return 0;
}

static const char *api_arch(const char *machine)
{
	if (!strcmp(machine, "x86_64"))
		return "amd64";
	if (!strcmp(machine, "aarch64"))
		return "arm64";
	if (!strncmp(machine, "armv7", 5))
		return "arm";
	return machine;
}

static cJSON *api_version_platform(void)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "Name", "berth");
	return p;
}

static cJSON *api_version_components(const struct utsname *u)
{
	cJSON *a = cJSON_CreateArray(), *e = cJSON_CreateObject(), *d;

	cJSON_AddStringToObject(e, "Name", "Engine");
	cJSON_AddStringToObject(e, "Version", BERTH_VERSION);
	d = cJSON_AddObjectToObject(e, "Details");
	cJSON_AddStringToObject(d, "ApiVersion", API_VERSION);
	cJSON_AddStringToObject(d, "Arch", api_arch(u->machine));
	cJSON_AddStringToObject(d, "KernelVersion", u->release);
	cJSON_AddStringToObject(d, "MinAPIVersion", API_MIN_VERSION);
	cJSON_AddStringToObject(d, "Os", "linux");
	cJSON_AddItemToArray(a, e);
	return a;
}

static int api_version(struct api_call *c)
{
	struct utsname u;

	if (uname(&u) < 0)
		return berr_errno(&c->err, -errno, "cannot read the kernel version");
	c->reply = cJSON_CreateObject();
	if (!c->reply)
		return -ENOMEM;
	cJSON_AddItemToObject(c->reply, "Platform", api_version_platform());
	cJSON_AddItemToObject(c->reply, "Components", api_version_components(&u));
	cJSON_AddStringToObject(c->reply, "Version", BERTH_VERSION);
	cJSON_AddStringToObject(c->reply, "ApiVersion", API_VERSION);
	cJSON_AddStringToObject(c->reply, "MinAPIVersion", API_MIN_VERSION);
	cJSON_AddStringToObject(c->reply, "GitCommit", "");
	cJSON_AddStringToObject(c->reply, "GoVersion", "");
	cJSON_AddStringToObject(c->reply, "Os", "linux");
	cJSON_AddStringToObject(c->reply, "Arch", api_arch(u.machine));
	cJSON_AddStringToObject(c->reply, "KernelVersion", u.release);
	cJSON_AddStringToObject(c->reply, "BuildTime", "");
	return 0;
}

static int api_info(struct api_call *c)
{
	_cleanup_json_ cJSON *info = NULL, *images = NULL;
	int r = mgr_info(c->api->m, c->d.docker ? &info : &c->reply, &c->err);

	if (r < 0 || !c->d.docker)
		return r;
	if (mgr_image_list(c->api->m, &images, NULL) >= 0)
		cJSON_AddNumberToObject(info, "Images", cJSON_GetArraySize(images));
	c->reply = docker_info(info, BERTH_VERSION);
	return 0;
}

/* A Docker endpoint berth does not implement (api_decode.c's list). */
static int api_not_implemented(struct api_call *c)
{
	return berr_set(&c->err, -EOPNOTSUPP, "berth does not support %s", c->d.what);
}

/* ---------------------------------------------------------------- networks */

static int api_network_create(struct api_call *c)
{
	int r = docker_network_create_check(c->d.body, &c->err);

	c->status = 201;
	return r < 0 ? r : mgr_network_create(c->api->m, c->d.body, &c->reply, &c->err);
}

/* Docker clients get Docker's filters and shapes; berth's own keep its name filter. */
static int api_network_list(struct api_call *c)
{
	const char *name = c->d.filter_name;
	cJSON *n;
	int r;

	if (!c->d.docker && !c->d.filters)
		return mgr_network_list(c->api->m, *name ? name : NULL, &c->reply, &c->err);
	r = mgr_network_list(c->api->m, NULL, &c->reply, &c->err);
	if (r >= 0 && c->d.filters)
		r = docker_networks_filter(c->reply, c->d.filters, &c->err);
	if (r < 0 || !c->d.docker)
		return r;
	cJSON_ArrayForEach(n, c->reply)
		docker_network_shape(n);
	return 0;
}

static int api_network_inspect(struct api_call *c)
{
	int r;

	if (!strcmp(c->d.condition, "none"))   /* ?scope=swarm|global: berth has none */
		return berr_set(&c->err, -ENOENT, "network %s not found", c->d.params.v[0]);
	r = mgr_network_inspect(c->api->m, c->d.params.v[0], &c->reply, &c->err);
	if (r >= 0 && c->d.docker)
		docker_network_shape(c->reply);
	return r;
}

static int api_network_remove(struct api_call *c)
{
	c->status = 204;
	return mgr_network_remove(c->api->m, c->d.params.v[0], &c->err);
}

/* With filters: the unused networks that match them, removed one by one (those removal
 * refuses, such as networks in use meanwhile, are left, as dockerd's prune does). */
static int api_network_prune_filtered(struct api_call *c)
{
	_cleanup_json_ cJSON *list = NULL;
	cJSON *deleted = cJSON_CreateArray();
	const cJSON *n;
	int r = docker_prune_filters_check(c->d.filters, &c->err);

	if (r >= 0)
		r = mgr_network_list(c->api->m, NULL, &list, &c->err);
	cJSON_ArrayForEach(n, list) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(n, "Name");
		struct berr e2 = BERR_INIT;

		if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(n, "Containers")) > 0 ||
		    !docker_prune_match(n, c->d.filters) || !cJSON_IsString(name))
			continue;
		if (mgr_network_remove(c->api->m, name->valuestring, &e2) >= 0)
			cJSON_AddItemToArray(deleted, cJSON_CreateString(name->valuestring));
	}
	if (r < 0) {
		cJSON_Delete(deleted);
		return r;
	}
	c->reply = cJSON_CreateObject();
	cJSON_AddItemToObject(c->reply, "NetworksDeleted", deleted);
	return 0;
}

static int api_network_prune(struct api_call *c)
{
	if (cJSON_GetArraySize(c->d.filters) > 0)
		return api_network_prune_filtered(c);
	return mgr_network_prune(c->api->m, &c->reply, &c->err);
}

static int api_firewall_reload(struct api_call *c)
{
	return mgr_firewall_reload(c->api->m, &c->err);
}

static int api_network_connect(struct api_call *c)
{
	int r = docker_connect_check(c->d.body, &c->err);

	return r < 0 ? r : mgr_network_connect(c->api->m, c->d.params.v[0], c->d.body, &c->err);
}

static int api_network_disconnect(struct api_call *c)
{
	int r = docker_connect_check(c->d.body, &c->err);

	return r < 0 ? r : mgr_network_disconnect(c->api->m, c->d.params.v[0], c->d.body, &c->err);
}

/* ---------------------------------------------------------------- containers */

/* A Docker client takes a 404 from a create for a missing image and pulls it: when the image is
 * there, what is missing (a network) is a bad parameter. */
static int api_docker_not_image(struct api_call *c, int r)
{
	const cJSON *image = cJSON_GetObjectItemCaseSensitive(c->d.body, "Image");
	_cleanup_json_ cJSON *info = NULL;

	if (r != -ENOENT || !c->d.docker)
		return r;
	if (mgr_image_inspect(c->api->m, cJSON_IsString(image) && *image->valuestring ?
			      image->valuestring : "busybox", &info, NULL) < 0)
		return r;
	c->err.code = -EINVAL;
	return -EINVAL;
}

static int api_container_create(struct api_call *c)
{
	int r = docker_create_check(c->d.body, c->d.docker ? c->d.name : NULL, &c->err);

	c->status = 201;
	if (r >= 0)
		r = mgr_container_create(c->api->m, c->d.name, c->d.body, &c->reply, &c->err);
	return api_docker_not_image(c, r);
}

static int api_container_start(struct api_call *c)
{
	c->status = 204;
	return mgr_container_start(c->api->m, c->d.params.v[0], &c->err);
}

static int api_container_stop(struct api_call *c)
{
	c->status = 204;
	return mgr_container_stop(c->api->m, c->d.params.v[0], (int)c->d.timeout, &c->err);
}

/* As dockerd, a SIGKILL from a Docker client returns once the container has stopped (the next
 * `docker inspect` sees it exited), 30 s at most. */
static int api_container_kill(struct api_call *c)
{
	_cleanup_json_ cJSON *info = NULL;
	struct mgr_ctr_state st = { .running = true };
	const cJSON *id;
	int ew, r = mgr_container_kill(c->api->m, c->d.params.v[0], c->d.signal, &c->err);

	c->status = 204;
	if (r < 0 || !c->d.docker || c->d.signal != SIGKILL ||
	    mgr_container_inspect(c->api->m, c->d.params.v[0], &info, NULL) < 0)
		return r;
	id = cJSON_GetObjectItemCaseSensitive(info, "Id");
	if (!cJSON_IsString(id))
		return 0;
	ew = mgr_exit_watch_add(c->api->m, id->valuestring);
	for (uint64_t end = time_mono_ns() + 30000000000ULL; st.running && time_mono_ns() < end;) {
		mgr_container_state(c->api->m, id->valuestring, &st);
		if (st.running && api_poll(c->api, -1, ew, API_WAIT_POLL_MS) < 0)
			break;
		mgr_exit_watch_drain(ew);
	}
	mgr_exit_watch_del(c->api->m, ew);
	return 0;
}

/* A wait whose answer comes when its condition holds. The headers go out at once, as dockerd's
 * do: a client may wait for them before it starts the container (`docker run` of the CLI 28);
 * the body follows when the container has reached the condition. */
struct api_waiter {
	struct api *api;
	char id[65];
	char condition[16];
	bool docker, done;
	int client;
	int exit;     /* exit watch of the container, -1 if unavailable (then plain polling) */
	struct mgr_ctr_state start;
};

static void api_waiter_free(void *cls)
{
	struct api_waiter *w = cls;

	mgr_exit_watch_del(w->api->m, w->exit);
	free(w);
}

static bool api_wait_done(const struct api_waiter *w, const struct mgr_ctr_state *now)
{
	if (!strcmp(w->condition, "next-exit"))
		return !now->exists || now->exits > w->start.exits;
	if (!strcmp(w->condition, "removed"))
		return !now->exists;
	return !now->running;
}

/* The body: {"StatusCode": n} ({"Error": null, ...} for Docker clients), or the error. */
static ssize_t api_wait_body(struct api_waiter *w, const struct mgr_ctr_state *st, int err,
			     char *buf, size_t max)
{
	_cleanup_json_ cJSON *o = cJSON_CreateObject();
	_cleanup_free_ char *text = NULL;
	int code = st->exit_code;
	size_t len;

	if (!err && st->exists && !strcmp(w->condition, "not-running"))
		mgr_container_wait(w->api->m, w->id, &code, NULL);
	if (err)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "Error"), "Message",
					"berthd is shutting down");
	else if (w->docker)
		cJSON_AddNullToObject(o, "Error");
	cJSON_AddNumberToObject(o, "StatusCode", err ? -1 : code);
	text = cJSON_PrintUnformatted(o);
	len = text ? strlen(text) : 0;
	if (len + 1 > max)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	memcpy(buf, text, len);
	buf[len] = '\n';
	w->done = true;
	return (ssize_t)len + 1;
}

static ssize_t api_wait_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_waiter *w = cls;
	struct mgr_ctr_state st;
	int r;

	if (w->done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	for (;;) {
		mgr_container_state(w->api->m, w->id, &st);
		if (api_wait_done(w, &st))
			return api_wait_body(w, &st, 0, buf, max);
		r = api_poll(w->api, w->client, w->exit, API_WAIT_POLL_MS);
		mgr_exit_watch_drain(w->exit);
		if (r == -ECANCELED)
			return api_wait_body(w, &st, r, buf, max);
		if (r < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;   /* the client went away */
	}
}

/* ?condition=not-running (the default), next-exit (the next time it exits, even if it has not
 * started yet: `docker run` waits before it starts) or removed. */
static int api_container_wait(struct api_call *c)
{
	_cleanup_json_ cJSON *info = NULL;
	struct api_waiter *w;
	const cJSON *id;
	int r;

	r = mgr_container_inspect(c->api->m, c->d.params.v[0], &info, &c->err);
	if (r < 0)
		return r;
	id = cJSON_GetObjectItemCaseSensitive(info, "Id");
	if (!cJSON_IsString(id))
		return berr_set(&c->err, -EIO, "container %s has no Id", c->d.params.v[0]);
	w = xcalloc(1, sizeof(*w));
	w->api = c->api;
	w->docker = c->d.docker;
	w->client = api_client_fd(c->conn);
	strscpy(w->id, id->valuestring, sizeof(w->id));
	strscpy(w->condition, c->d.condition, sizeof(w->condition));
	w->exit = mgr_exit_watch_add(c->api->m, w->id);
	mgr_container_state(c->api->m, w->id, &w->start);
	c->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, api_wait_read, w,
						    api_waiter_free);
	if (!c->resp) {
		api_waiter_free(w);
		return -ENOMEM;
	}
	MHD_add_response_header(c->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return 0;
}

static int api_container_remove(struct api_call *c)
{
	c->status = 204;
	if (c->d.link)
		return berr_set(&c->err, -EOPNOTSUPP, "berth does not support links");
	return mgr_container_remove(c->api->m, c->d.params.v[0], c->d.force, &c->err);
}

/* ?size=1: the writable layer (SizeRw) and it with the image (SizeRootFs), into Berth. */
static void api_container_sizes(cJSON *s)
{
	cJSON *berth = cJSON_GetObjectItemCaseSensitive(s, "Berth");
	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(berth, "Paths");
	const cJSON *upper = cJSON_GetObjectItemCaseSensitive(paths, "Upper");
	const cJSON *image = cJSON_GetObjectItemCaseSensitive(paths, "Image");
	double rw = cJSON_IsString(upper) ? (double)mgr_tree_size(upper->valuestring) : 0;
	double img = cJSON_IsString(image) ? (double)mgr_tree_size(image->valuestring) : 0;

	cJSON_AddNumberToObject(berth, "SizeRw", rw);
	cJSON_AddNumberToObject(berth, "SizeRootFs", rw + img);
}

/* Newest first, as dockerd lists them (berth keeps creation order). */
static void api_list_reverse(cJSON *a)
{
	cJSON *rev = cJSON_CreateArray(), *it;

	while ((it = cJSON_DetachItemFromArray(a, 0)))
		cJSON_InsertItemInArray(rev, 0, it);
	while ((it = cJSON_DetachItemFromArray(rev, 0)))
		cJSON_AddItemToArray(a, it);
	cJSON_Delete(rev);
}

static int api_container_list(struct api_call *c)
{
	cJSON *s;
	int r = mgr_container_list(c->api->m, c->d.all || c->d.limit >= 0, &c->reply, &c->err);

	if (r >= 0 && c->d.filters)
		r = docker_containers_filter(c->reply, c->d.filters, &c->err);
	if (r < 0 || !c->d.docker)
		return r;
	api_list_reverse(c->reply);
	while (c->d.limit >= 0 && cJSON_GetArraySize(c->reply) > c->d.limit)
		cJSON_DeleteItemFromArray(c->reply, cJSON_GetArraySize(c->reply) - 1);
	cJSON_ArrayForEach(s, c->reply) {
		if (c->d.size)
			api_container_sizes(s);
		docker_summary_shape(s, c->d.size);
	}
	return 0;
}

static int api_container_inspect(struct api_call *c)
{
	int r = mgr_container_inspect(c->api->m, c->d.params.v[0], &c->reply, &c->err);

	if (r >= 0 && c->d.docker)
		docker_container_shape(c->reply);
	return r;
}

static int api_image_inspect(struct api_call *c)
{
	return mgr_image_inspect(c->api->m, c->d.params.v[0], &c->reply, &c->err);
}

/* ---------------------------------------------------------------- logs */

/* One log being sent. berth keeps one file per container for stdout and stderr together: a
 * Docker client gets it as stream 1 of Docker's multiplexed format (8-byte frame headers),
 * unless the container has a terminal. */
struct api_logs {
	struct api *api;
	int fd;
	int ino;      /* inotify on the log file, -1 if unavailable (then plain 200 ms polling) */
	int exit;     /* exit watch of the container, -1 if none (not following, or unavailable) */
	int client;   /* the connection's socket, to notice a client that went away */
	char id[65];
	bool follow;  /* wait for more while the container runs */
	bool frame;   /* Docker's multiplexed stream */
	uint64_t off; /* next byte of the file to send */
	uint64_t end; /* not following: where to stop (the size when asked) */
};

static void api_logs_free(void *cls)
{
	struct api_logs *l = cls;

	if (l->fd >= 0)
		close(l->fd);
	if (l->ino >= 0)
		close(l->ino);
	mgr_exit_watch_del(l->api->m, l->exit);
	free(l);
}

/* Waits up to API_LOG_POLL_MS for the file to grow or the container to exit; < 0 when the
 * request must end. */
static int api_logs_wait(struct api_logs *l)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int r;

	r = api_poll2(l->api, l->client, l->ino, l->exit,
		      l->ino >= 0 && l->exit >= 0 ? API_WATCHED_POLL_MS : API_LOG_POLL_MS);
	if (r > 0) {
		while (l->ino >= 0 && read(l->ino, buf, sizeof(buf)) > 0)
			;
		mgr_exit_watch_drain(l->exit);
	}
	return r < 0 ? r : 0;
}

static ssize_t api_logs_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_logs *l = cls;
	size_t hdr = l->frame ? 8 : 0, want;
	bool running;
	ssize_t n;

	if (max <= hdr)
		return 0;
	for (;;) {
		/* Ask before reading: output written just before the exit is still read. */
		running = l->follow && mgr_container_running(l->api->m, l->id);
		want = max - hdr;
		if (!l->follow && l->end - l->off < want)
			want = (size_t)(l->end - l->off);
		n = want ? pread(l->fd, buf + hdr, want, (off_t)l->off) : 0;
		if (n > 0) {
			l->off += (uint64_t)n;
			if (l->frame)
				docker_frame_header(1, (uint32_t)n, (uint8_t *)buf);
			return n + (ssize_t)hdr;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (!running)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (api_logs_wait(l) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

/* Where the last `lines` lines of the first `size` bytes of fd start (a last line without its
 * newline counts). */
static uint64_t api_logs_tail(int fd, uint64_t size, long lines)
{
	char buf[4096];
	uint64_t pos = size;
	long seen = 0;

	if (lines < 0)
		return 0;
	if (lines == 0)
		return size;
	while (pos > 0) {
		size_t n = pos < sizeof(buf) ? (size_t)pos : sizeof(buf);

		if (pread(fd, buf, n, (off_t)(pos - n)) != (ssize_t)n)
			return 0;
		/* the newline ending the file closes the last line: it starts no new one */
		for (size_t i = n; i-- > 0;)
			if (buf[i] == '\n' && pos - n + i + 1 != size && ++seen == lines)
				return pos - n + i + 1;
		pos -= n;
	}
	return 0;
}

static int api_logs_callback(struct api_call *c, int fd, const char *path, const char *id,
			     bool frame)
{
	struct api_logs *l = xcalloc(1, sizeof(*l));
	struct stat st;

	l->api = c->api;
	l->fd = fd;
	l->ino = -1;
	l->exit = -1;
	l->follow = c->d.follow;
	l->frame = frame;
	memcpy(l->id, id, sizeof(l->id));
	l->end = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	l->off = api_logs_tail(fd, l->end, c->d.tail);
	if (l->follow) {
		l->exit = mgr_exit_watch_add(c->api->m, id);
		l->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (l->ino >= 0 && inotify_add_watch(l->ino, path, IN_MODIFY) < 0) {
			blog_debug("cannot watch %s, polling instead: %m", path);
			close(l->ino);
			l->ino = -1;
		}
	}
	l->client = api_client_fd(c->conn);
	c->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, API_LOG_BLOCK, api_logs_read,
						    l, api_logs_free);
	if (!c->resp) {
		api_logs_free(l);
		return -ENOMEM;
	}
	return 0;
}

static int api_logs_whole(struct api_call *c, int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		close(fd);
		return berr_errno(&c->err, -errno, "cannot stat log file %s", path);
	}
	c->resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (!c->resp) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/* What a Docker client may ask of berth's single log file; whether it gets frames. */
static int api_logs_docker_check(struct api_call *c, bool *ret_frame)
{
	_cleanup_json_ cJSON *info = NULL;
	const cJSON *cfg, *tty;
	int r;

	if (!c->d.out && !c->d.err_stream)
		return berr_set(&c->err, -EINVAL, "Bad parameters: you must choose at least one "
				"stream");
	if (c->d.out != c->d.err_stream)
		return berr_set(&c->err, -EOPNOTSUPP, "berth keeps stdout and stderr in one log: "
				"ask for both");
	if (c->d.timestamps || c->d.since || c->d.until)
		return berr_set(&c->err, -EOPNOTSUPP, "berth does not record when log lines were "
				"written: timestamps, since and until are not supported");
	r = mgr_container_inspect(c->api->m, c->d.params.v[0], &info, &c->err);
	if (r < 0)
		return r;
	cfg = cJSON_GetObjectItemCaseSensitive(info, "Config");
	tty = cJSON_GetObjectItemCaseSensitive(cfg, "Tty");
	*ret_frame = !cJSON_IsTrue(tty);
	return 0;
}

static int api_container_logs(struct api_call *c)
{
	_cleanup_free_ char *path = NULL;
	bool frame = false;
	char id[65] = "";
	int r, fd;

	r = c->d.docker ? api_logs_docker_check(c, &frame) : 0;
	if (r >= 0)
		r = mgr_container_log_path(c->api->m, c->d.params.v[0], &path, id, &c->err);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno != ENOENT)
		return berr_errno(&c->err, -errno, "cannot open log file %s", path);
	if (fd < 0) /* never started: no output yet */
		c->resp = api_response_text("", 0, NULL);
	else if (c->d.follow || c->d.docker || c->d.tail >= 0)
		r = api_logs_callback(c, fd, path, id, frame);
	else
		r = api_logs_whole(c, fd, path);
	if (r < 0 || !c->resp)
		return r < 0 ? r : -ENOMEM;
	MHD_add_response_header(c->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				frame ? "application/vnd.docker.raw-stream"
				      : "text/plain; charset=utf-8");
	return 0;
}

/* ---------------------------------------------------------------- embedded DNS */

static int api_dns_lookup(struct api_call *c)
{
	return mgr_dns_lookup(c->api->m, c->d.name, c->d.network, c->d.type, &c->reply, &c->err);
}

static int api_dns_stats(struct api_call *c)
{
	return mgr_dns_stats(c->api->m, &c->reply, &c->err);
}

/* ---------------------------------------------------------------- network probe */

/* ?progress=1: the reply is a stream of JSON lines, {"Progress": {"Done", "Total"}} about every
 * 250 ms while the probe runs (on a thread of its own), then the result (or {"message",
 * "Status"} for a failure found once the stream had begun). A client that hangs up, or berthd
 * stopping, cancels the probe. */
#define API_PROBE_TICK_MS 250

struct api_probe {
	struct api *api;
	cJSON *req;
	pthread_t thread;
	bool started;
	int efd;                   /* eventfd: progress or the end */
	int client;
	pthread_mutex_t lock;      /* done, total, finished, result */
	size_t done, total, told;
	bool finished, result_sent;
	char *result;
	atomic_bool cancel;
	char *line;                /* being sent */
	size_t line_len, line_off;
};

static void api_probe_progress(void *ud, size_t done, size_t total)
{
	struct api_probe *p = ud;
	uint64_t one = 1;

	pthread_mutex_lock(&p->lock);
	p->done = done;
	p->total = total;
	pthread_mutex_unlock(&p->lock);
	if (write(p->efd, &one, sizeof(one)) < 0)
		blog_debug("api: probe progress: %m");
}

static char *api_probe_result(int r, cJSON *reply, const struct berr *err)
{
	_cleanup_json_ cJSON *o = r < 0 ? cJSON_CreateObject() : reply;
	_cleanup_free_ char *s = NULL;

	if (r < 0) {
		cJSON_AddStringToObject(o, "message", berr_str(err));
		cJSON_AddNumberToObject(o, "Status", http_status_from_errno(r));
	}
	http_json_utf8_fix(o);
	s = cJSON_PrintUnformatted(o);
	return xasprintf("%s\n", s ? s : "{}");
}

static void *api_probe_thread(void *arg)
{
	struct api_probe *p = arg;
	struct mgr_probe_ctl ctl = { .progress = api_probe_progress, .ud = p, .cancel = &p->cancel };
	struct berr err = BERR_INIT;
	cJSON *reply = NULL;
	int r = mgr_network_probe(p->api->m, p->req, &ctl, &reply, &err);
	char *text = api_probe_result(r, reply, &err);
	uint64_t one = 1;

	pthread_mutex_lock(&p->lock);
	p->result = text;
	p->finished = true;
	pthread_mutex_unlock(&p->lock);
	if (write(p->efd, &one, sizeof(one)) < 0)
		blog_debug("api: probe end: %m");
	return NULL;
}

static void api_probe_free(void *cls)
{
	struct api_probe *p = cls;

	atomic_store(&p->cancel, true);
	if (p->started)
		pthread_join(p->thread, NULL);
	cJSON_Delete(p->req);
	close(p->efd);
	pthread_mutex_destroy(&p->lock);
	free(p->result);
	free(p->line);
	free(p);
}

/* The next line to send, waiting for one; NULL when the client or berthd went away. */
static char *api_probe_next(struct api_probe *p)
{
	uint64_t n;

	for (;;) {
		int r = api_poll(p->api, p->client, p->efd, API_PROBE_TICK_MS);
		char *line = NULL;

		if (r < 0)
			return NULL;
		if (r > 0 && read(p->efd, &n, sizeof(n)) < 0)
			blog_debug("api: probe: %m");
		pthread_mutex_lock(&p->lock);
		if (p->finished) {
			line = steal_ptr(p->result);
			p->result_sent = true;
		} else if (p->done != p->told || (p->total && !p->told)) {
			line = xasprintf("{\"Progress\":{\"Done\":%zu,\"Total\":%zu}}\n", p->done,
					 p->total);
			p->told = p->done ? p->done : 1;
		}
		pthread_mutex_unlock(&p->lock);
		if (line)
			return line;
	}
}

static ssize_t api_probe_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_probe *p = cls;
	size_t k;

	if (p->line_off == p->line_len) {
		free(p->line);
		p->line = NULL;
		p->line_len = p->line_off = 0;
		if (p->result_sent)
			return MHD_CONTENT_READER_END_OF_STREAM;
		p->line = api_probe_next(p);
		if (!p->line) {
			atomic_store(&p->cancel, true);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		p->line_len = strlen(p->line);
	}
	k = p->line_len - p->line_off < max ? p->line_len - p->line_off : max;
	memcpy(buf, p->line + p->line_off, k);
	p->line_off += k;
	return (ssize_t)k;
}

static int api_probe_stream(struct api_call *c)
{
	struct api_probe *p = xcalloc(1, sizeof(*p));
	int r;

	p->api = c->api;
	p->req = c->d.body ? cJSON_Duplicate(c->d.body, 1) : NULL;
	p->client = api_client_fd(c->conn);
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&p->lock, NULL);
	atomic_init(&p->cancel, false);
	r = p->efd < 0 ? -errno : -pthread_create(&p->thread, NULL, api_probe_thread, p);
	p->started = r == 0;
	if (r == 0)
		c->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, api_probe_read,
							    p, api_probe_free);
	if (!c->resp) {
		api_probe_free(p);
		return r < 0 ? berr_errno(&c->err, r, "starting the probe") : -ENOMEM;
	}
	MHD_add_response_header(c->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	return 0;
}

static int api_network_probe(struct api_call *c)
{
	struct mgr_probe_ctl ctl = { .cancel = &c->api->stopping };
	int r = mgr_network_probe_check(c->d.body, &c->err);

	if (r < 0)
		return r;
	if (c->d.progress)
		return api_probe_stream(c);
	return mgr_network_probe(c->api->m, c->d.body, &ctl, &c->reply, &c->err);
}

/* ---------------------------------------------------------------- CNI (berth-cni) */

static int api_cni_add(struct api_call *c)
{
	return mgr_cni_add(c->api->m, c->d.body, &c->reply, &c->err);
}

static int api_cni_del(struct api_call *c)
{
	c->status = 204;
	return mgr_cni_del(c->api->m, c->d.body, &c->err);
}

static int api_cni_check(struct api_call *c)
{
	return mgr_cni_check(c->api->m, c->d.body, &c->reply, &c->err);
}

static int api_cni_gc(struct api_call *c)
{
	return mgr_cni_gc(c->api->m, c->d.body, &c->reply, &c->err);
}

static int api_cni_status(struct api_call *c)
{
	return mgr_cni_status(c->api->m, c->d.network, &c->reply, &c->err);
}

/* ---------------------------------------------------------------- dispatch */

static const api_handler_fn api_handlers[API_OP_COUNT] = {
	[API_OP_PING] = api_ping,
	[API_OP_VERSION] = api_version,
	[API_OP_INFO] = api_info,
	[API_OP_NETWORK_CREATE] = api_network_create,
	[API_OP_NETWORK_PRUNE] = api_network_prune,
	[API_OP_FIREWALL_RELOAD] = api_firewall_reload,
	[API_OP_NETWORK_LIST] = api_network_list,
	[API_OP_NETWORK_INSPECT] = api_network_inspect,
	[API_OP_NETWORK_REMOVE] = api_network_remove,
	[API_OP_NETWORK_CONNECT] = api_network_connect,
	[API_OP_NETWORK_DISCONNECT] = api_network_disconnect,
	[API_OP_CONTAINER_CREATE] = api_container_create,
	[API_OP_CONTAINER_LIST] = api_container_list,
	[API_OP_CONTAINER_START] = api_container_start,
	[API_OP_CONTAINER_STOP] = api_container_stop,
	[API_OP_CONTAINER_KILL] = api_container_kill,
	[API_OP_CONTAINER_WAIT] = api_container_wait,
	[API_OP_CONTAINER_REMOVE] = api_container_remove,
	[API_OP_CONTAINER_INSPECT] = api_container_inspect,
	[API_OP_CONTAINER_LOGS] = api_container_logs,
	[API_OP_CONTAINER_STATS] = api_container_stats,
	[API_OP_EVENTS] = api_events,
	[API_OP_IMAGE_LOAD] = api_image_load,
	[API_OP_IMAGE_CREATE] = api_image_create,
	[API_OP_IMAGE_LIST] = api_image_list,
	[API_OP_IMAGE_REMOVE] = api_image_remove,
	[API_OP_CONTAINER_ATTACH] = api_container_attach,
	[API_OP_CONTAINER_RESIZE] = api_container_resize,
	[API_OP_EXEC_CREATE] = api_exec_create,
	[API_OP_EXEC_START] = api_exec_start,
	[API_OP_EXEC_RESIZE] = api_exec_resize,
	[API_OP_EXEC_INSPECT] = api_exec_inspect,
	[API_OP_DNS_LOOKUP] = api_dns_lookup,
	[API_OP_DNS_STATS] = api_dns_stats,
	[API_OP_IMAGE_INSPECT] = api_image_inspect,
	[API_OP_UNSUPPORTED] = api_not_implemented,
	[API_OP_NETWORK_PROBE] = api_network_probe,
	[API_OP_CNI_ADD] = api_cni_add,
	[API_OP_CNI_DEL] = api_cni_del,
	[API_OP_CNI_CHECK] = api_cni_check,
	[API_OP_CNI_GC] = api_cni_gc,
	[API_OP_CNI_STATUS] = api_cni_status,
};

struct api_args {
	struct api_arg v[32];
	size_t n;
};

static enum MHD_Result api_arg_collect(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	struct api_args *a = cls;

	if (a->n == ARRAY_SIZE(a->v))
		return MHD_NO;
	a->v[a->n++] = (struct api_arg){ .key = key, .value = value };
	return MHD_YES;
}

/* A decoding failure: its status and message (and Allow for a 405). */
static enum MHD_Result api_queue_decode_error(struct api_call *c)
{
	struct MHD_Response *resp = api_response_message(c->req, c->d.status, berr_str(&c->err));

	if (resp && c->d.status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, c->d.allow);
	return api_queue(c->conn, c->req, c->d.status, resp);
}

/* A call of Docker's remote driver protocol on the plugin socket. */
static enum MHD_Result api_plugin_dispatch(struct api *a, struct MHD_Connection *conn,
					   struct api_conn *req, const char *url,
					   const char *method)
{
	struct MHD_Response *resp;
	char *body = NULL;
	int status = 500;

	plugin_serve(a->m, method, url, req->body ? req->body : "", req->len, &status, &body);
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, DKP_CONTENT_TYPE);
	return api_queue(conn, req, status, resp);
}

static enum MHD_Result api_dispatch(struct api *a, struct MHD_Connection *conn,
				    struct api_conn *req, const char *url, const char *method)
{
	struct api_call c = { .api = a, .conn = conn, .req = req, .status = 200 };
	struct api_args args = { .n = 0 };
	struct api_input in = { .method = method, .path = url, .body = req->body, .len = req->len };
	enum MHD_Result ret;

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, api_arg_collect, &args);
	in.args = args.v;
	in.n_args = args.n;
	if (api_request_decode(&in, &c.d, &c.err) < 0)
		ret = api_queue_decode_error(&c);
	else
		ret = api_finish(&c, api_handlers[c.d.op](&c));
	api_request_done(&c.d);
	return ret;
}

/* ---------------------------------------------------------------- MHD callbacks */

static enum MHD_Result api_queue_too_large(struct MHD_Connection *conn, struct api_conn *req)
{
	return api_queue_message(conn, req, 413, "request body exceeds 1 MiB");
}

static void api_body_append(struct api_conn *req, const char *data, size_t n)
{
	if (req->too_large)
		return;
	if (n > API_BODY_MAX - req->len) {
		req->too_large = true;
		free(req->body);
		req->body = NULL;
		req->len = req->cap = 0;
		return;
	}
	if (req->len + n + 1 > req->cap) {
		req->cap = req->cap ? req->cap : 4096;
		while (req->cap < req->len + n + 1)
			req->cap *= 2;
		req->body = xrealloc(req->body, req->cap);
	}
	memcpy(req->body + req->len, data, n);
	req->len += n;
	req->body[req->len] = '\0';
}

static bool api_declared_too_large(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	long v;

	return cl && http_uint_parse(cl, 0, API_BODY_MAX, &v) == -ERANGE;
}

static enum MHD_Result api_access(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct api_conn *req = *con_cls;

	if (!req) {
		req = xcalloc(1, sizeof(*req));
		req->start_ns = time_mono_ns();
		req->method = xstrdup(method);
		req->path = xstrdup(url);
		req->upload_fd = -1;
		*con_cls = req;
		if (api_upload_begin(cls, conn, req))
			return req->too_large || req->upload_error ? api_upload_refuse(conn, req) : MHD_YES;
		/* Refuse before reading a byte of the body (no 100 Continue is sent). */
		if (api_declared_too_large(conn))
			return api_queue_too_large(conn, req);
		return MHD_YES;
	}
	if (*upload_size) {
		if (req->upload_fd >= 0)
			api_upload_append(req, upload_data, *upload_size);
		else
			api_body_append(req, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->upload_fd >= 0 && (req->too_large || req->upload_error))
		return api_upload_refuse(conn, req);
	if (req->too_large)
		return api_queue_too_large(conn, req);
	if (((struct api *)cls)->plugin)
		return api_plugin_dispatch(cls, conn, req, url, method);
	return api_dispatch(cls, conn, req, url, method);
}

static void api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			  enum MHD_RequestTerminationCode toe)
{
	struct api_conn *req = *con_cls;

	if (!req)
		return;
	blog_debug("api: %s %s %d %" PRIu64 "us%s", req->method, req->path, req->status,
		   (time_mono_ns() - req->start_ns) / 1000,
		   toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	api_upload_end(req);
	api_relay_abandon(req->relay);
	free(req->method);
	free(req->path);
	free(req->body);
	free(req);
	*con_cls = NULL;
	if (atomic_exchange(&api_trim_wanted, false))
		malloc_trim(0);
}

/* MHD decodes %XX in the path before routing; we want the raw path so that an encoded '/' in an
 * {id} can be told from a separator, and decode segments and query values ourselves. */
static size_t api_unescape_none(void *cls, struct MHD_Connection *conn, char *s)
{
	return strlen(s);
}

__attribute__((format(printf, 2, 0))) static void api_mhd_log(void *cls, const char *fmt,
							       va_list ap)
{
	char buf[512];
	size_t len;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	blog_debug("microhttpd: %s", buf);
}

/* ---------------------------------------------------------------- socket */

/* 0 when something accepts connections on sa (or its backlog is full), -errno otherwise. */
static int api_socket_probe(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		return errno == EAGAIN ? 0 : -errno;
	return 0;
}

/* Fills sa and removes a stale socket at path; refuses a live one or a non-socket. */
static int api_socket_prepare(const char *path, struct sockaddr_un *sa, struct berr *err)
{
	struct stat st;
	int r;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strscpy(sa->sun_path, path, sizeof(sa->sun_path)) < 0)
		return berr_set(err, -ENAMETOOLONG, "socket path %s is longer than %zu bytes", path,
				sizeof(sa->sun_path) - 1);
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_errno(err, -errno, "cannot stat socket path %s", path);
	}
	if (!S_ISSOCK(st.st_mode))
		return berr_set(err, -EEXIST, "%s exists and is not a socket; refusing to replace it",
				path);
	r = api_socket_probe(sa);
	if (r == 0)
		return berr_set(err, -EADDRINUSE, "another berthd is listening on %s", path);
	if (r != -ECONNREFUSED)
		return berr_errno(err, r, "cannot check whether something listens on %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return berr_errno(err, -errno, "cannot remove stale socket %s", path);
	blog_debug("api: removed stale socket %s", path);
	return 0;
}

static int api_socket_open(const char *path, int *ret_fd, struct berr *err)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	mode_t old;
	int r;

	r = api_socket_prepare(path, &sa, err);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return berr_errno(err, -errno, "cannot create a unix socket for %s", path);
	/* Born 0600 (bind applies the umask to 0777): no window in which it is more open. */
	old = umask(0177);
	r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (r < 0)
		return berr_errno(err, r, "cannot bind unix socket %s", path);
	if (listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		unlink(path);
		return berr_errno(err, r, "cannot listen on unix socket %s", path);
	}
	*ret_fd = steal_fd(fd);
	return 0;
}

/* ---------------------------------------------------------------- start / stop */

static struct MHD_Daemon *api_daemon_start(struct api *a, int fd)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;

	return MHD_start_daemon(flags, 0, NULL, NULL, api_access, a,
				MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, a,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, API_CONN_MAX,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, API_CONN_MEMORY,
				/* no idle timeout: wait and logs?follow may block for long */
				MHD_OPTION_CONNECTION_TIMEOUT, 0u,
				MHD_OPTION_NOTIFY_COMPLETED, api_completed, a,
				MHD_OPTION_UNESCAPE_CALLBACK, api_unescape_none, a,
				MHD_OPTION_END);
}

static int api_serve(struct manager *m, const char *socket_path, bool plugin, struct api **ret,
		     struct berr *err)
{
	struct api *a;
	int fd = -1, r;

	r = api_socket_open(socket_path, &fd, err);
	if (r < 0)
		return r;
	a = xcalloc(1, sizeof(*a));
	a->m = m;
	a->plugin = plugin;
	a->socket_path = xstrdup(socket_path);
	atomic_init(&a->stopping, false);
	pthread_mutex_init(&a->jobs_lock, NULL);
	pthread_cond_init(&a->jobs_done, NULL);
	a->daemon = api_daemon_start(a, fd);
	if (!a->daemon) {
		close(fd);
		unlink(socket_path);
		free(a->socket_path);
		free(a);
		return berr_set(err, -EIO, "cannot start the HTTP server on %s", socket_path);
	}
	blog_debug("api: listening on %s%s", socket_path, plugin ? " (docker plugin)" : "");
	*ret = a;
	return 0;
}

int api_start(struct manager *m, const char *socket_path, struct api **ret, struct berr *err)
{
	return api_serve(m, socket_path, false, ret, err);
}

int api_plugin_start(struct manager *m, const char *socket_path, struct api **ret,
		     struct berr *err)
{
	_cleanup_free_ char *dir = xstrdup(socket_path);
	char *slash = strrchr(dir, '/');
	int r = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		r = mkdir_p(dir, 0755, err);
	}
	if (r >= 0)
		r = api_serve(m, socket_path, true, ret, err);
	if (r < 0)
		return berr_prefix(err, "docker plugin socket");
	mgr_remote_plugin_enable(m);
	return 0;
}

void api_cancel(struct api *a)
{
	if (a)
		atomic_store(&a->stopping, true);
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	atomic_store(&a->stopping, true);
	/* Unlink first so that new clients fail fast while the connection threads finish. */
	unlink(a->socket_path);
	api_image_loads_wait(a);
	MHD_stop_daemon(a->daemon);
	free(a->socket_path);
	free(a);
}
