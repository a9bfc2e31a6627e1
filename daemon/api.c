/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP API: a unix socket served by libmicrohttpd (one thread per connection, since manager
 * calls such as stop or wait may block), a route table, JSON in and out, -errno -> status. */
#include "daemon/api.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdarg.h>
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
#include "daemon/http_util.h"
#include "daemon/manager.h"
#include "daemon/plugin_api.h"
#include "plugins/docker/dkp.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

#define API_VERSION "1.41"
#define API_MIN_VERSION "1.24"
#define API_CONN_MAX 256u
#define API_CONN_MEMORY ((size_t)128 * 1024)
#define API_LOG_BLOCK (16 * 1024)
#define API_LOG_POLL_MS 200
#define API_WAIT_POLL_MS 100

struct api {
	struct manager *m;
	struct MHD_Daemon *daemon;
	char *socket_path;
	bool plugin;            /* the Docker plugin socket (daemon/plugin_api.c), not the API */
	atomic_bool stopping;
};

/* Per-request state, MHD's *con_cls: lives from the headers to the completion callback. */
struct api_conn {
	uint64_t start_ns;
	char *method;
	char *path;
	char *body; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	bool too_large;
	int status;
};

/* One dispatched call: handlers fill status + reply (JSON) or resp (anything else), or return
 * -errno with err filled. */
struct api_call {
	struct api *api;
	struct MHD_Connection *conn;
	struct api_conn *req;
	struct api_request d; /* the decoded request */
	int status;
	cJSON *reply;
	struct MHD_Response *resp;
	struct berr err;
	bool client_gone; /* the client hung up: close without answering */
};

typedef int (*api_handler_fn)(struct api_call *c);

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

static struct MHD_Response *api_response_text(const char *text, size_t len, const char *ctype)
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

static enum MHD_Result api_queue_message(struct MHD_Connection *conn, struct api_conn *req,
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
static int api_client_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

/* Sleeps up to ms: 1 when fd (may be -1) is readable, 0 on timeout, -EPIPE when the client hung
 * up, -ECANCELED when the API is stopping. */
static int api_poll(struct api *a, int client, int fd, int ms)
{
	struct pollfd p[2] = {
		{ .fd = client, .events = POLLRDHUP },
		{ .fd = fd, .events = POLLIN },
	};

	if (atomic_load(&a->stopping))
		return -ECANCELED;
	if (poll(p, 2, ms) < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
		return -EPIPE;
	return (p[1].revents & POLLIN) ? 1 : 0;
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

static int api_version(struct api_call *c)
{
	struct utsname u;

	if (uname(&u) < 0)
		return berr_errno(&c->err, -errno, "cannot read the kernel version");
	c->reply = cJSON_CreateObject();
	if (!c->reply)
		return -ENOMEM;
	cJSON_AddStringToObject(c->reply, "Version", BERTH_VERSION);
	cJSON_AddStringToObject(c->reply, "ApiVersion", API_VERSION);
	cJSON_AddStringToObject(c->reply, "MinAPIVersion", API_MIN_VERSION);
	cJSON_AddStringToObject(c->reply, "Os", "linux");
	cJSON_AddStringToObject(c->reply, "Arch", api_arch(u.machine));
	cJSON_AddStringToObject(c->reply, "KernelVersion", u.release);
	return 0;
}

static int api_info(struct api_call *c)
{
	return mgr_info(c->api->m, &c->reply, &c->err);
}

/* ---------------------------------------------------------------- networks */

static int api_network_create(struct api_call *c)
{
	c->status = 201;
	return mgr_network_create(c->api->m, c->d.body, &c->reply, &c->err);
}

static int api_network_list(struct api_call *c)
{
	const char *name = c->d.filter_name;

	return mgr_network_list(c->api->m, *name ? name : NULL, &c->reply, &c->err);
}

static int api_network_inspect(struct api_call *c)
{
	return mgr_network_inspect(c->api->m, c->d.params.v[0], &c->reply, &c->err);
}

static int api_network_remove(struct api_call *c)
{
	c->status = 204;
	return mgr_network_remove(c->api->m, c->d.params.v[0], &c->err);
}

static int api_network_prune(struct api_call *c)
{
	return mgr_network_prune(c->api->m, &c->reply, &c->err);
}

static int api_firewall_reload(struct api_call *c)
{
	return mgr_firewall_reload(c->api->m, &c->err);
}

static int api_network_connect(struct api_call *c)
{
	return mgr_network_connect(c->api->m, c->d.params.v[0], c->d.body, &c->err);
}

static int api_network_disconnect(struct api_call *c)
{
	return mgr_network_disconnect(c->api->m, c->d.params.v[0], c->d.body, &c->err);
}

/* ---------------------------------------------------------------- containers */

static int api_container_create(struct api_call *c)
{
	c->status = 201;
	return mgr_container_create(c->api->m, c->d.name, c->d.body, &c->reply, &c->err);
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

static int api_container_kill(struct api_call *c)
{
	c->status = 204;
	return mgr_container_kill(c->api->m, c->d.params.v[0], c->d.signal, &c->err);
}

/* Polls rather than blocking in mgr_container_wait() so that a client hang-up or api_stop()
 * ends the request; once the container is not running, the manager's wait returns at once. */
static int api_container_wait(struct api_call *c)
{
	_cleanup_json_ cJSON *info = NULL;
	int r, code = 0, client = api_client_fd(c->conn);
	const cJSON *id;

	r = mgr_container_inspect(c->api->m, c->d.params.v[0], &info, &c->err);
	if (r < 0)
		return r;
	id = cJSON_GetObjectItemCaseSensitive(info, "Id");
	if (!cJSON_IsString(id))
		return berr_set(&c->err, -EIO, "container %s has no Id", c->d.params.v[0]);
	while (mgr_container_running(c->api->m, id->valuestring)) {
		r = api_poll(c->api, client, -1, API_WAIT_POLL_MS);
		if (r == -ECANCELED)
			return berr_set(&c->err, r, "berthd is shutting down");
		if (r < 0) {
			c->client_gone = true;
			return r;
		}
	}
	r = mgr_container_wait(c->api->m, id->valuestring, &code, &c->err);
	if (r < 0)
		return r;
	c->reply = cJSON_CreateObject();
	if (!c->reply || !cJSON_AddNumberToObject(c->reply, "StatusCode", code))
		return -ENOMEM;
	return 0;
}

static int api_container_remove(struct api_call *c)
{
	c->status = 204;
	return mgr_container_remove(c->api->m, c->d.params.v[0], c->d.force, &c->err);
}

static int api_container_list(struct api_call *c)
{
	return mgr_container_list(c->api->m, c->d.all, &c->reply, &c->err);
}

static int api_container_inspect(struct api_call *c)
{
	return mgr_container_inspect(c->api->m, c->d.params.v[0], &c->reply, &c->err);
}

/* ---------------------------------------------------------------- logs */

struct api_logs {
	struct api *api;
	int fd;
	int ino;    /* inotify on the log file, -1 if unavailable (then plain 200 ms polling) */
	int client; /* the connection's socket, to notice a client that went away */
	char id[65];
};

static void api_logs_free(void *cls)
{
	struct api_logs *l = cls;

	if (l->fd >= 0)
		close(l->fd);
	if (l->ino >= 0)
		close(l->ino);
	free(l);
}

/* Waits up to API_LOG_POLL_MS for the file to grow; < 0 when the request must end. */
static int api_logs_wait(struct api_logs *l)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int r;

	r = api_poll(l->api, l->client, l->ino, API_LOG_POLL_MS);
	if (r > 0)
		while (read(l->ino, buf, sizeof(buf)) > 0)
			;
	return r < 0 ? r : 0;
}

static ssize_t api_logs_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_logs *l = cls;
	bool running;
	ssize_t n;

	for (;;) {
		/* Ask before reading: output written just before the exit is still read. */
		running = mgr_container_running(l->api->m, l->id);
		n = read(l->fd, buf, max);
		if (n > 0)
			return n;
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

static int api_logs_stream(struct api_call *c, int fd, const char *path, const char *id)
{
	struct api_logs *l = xcalloc(1, sizeof(*l));

	l->api = c->api;
	l->fd = fd;
	memcpy(l->id, id, sizeof(l->id));
	l->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (l->ino >= 0 && inotify_add_watch(l->ino, path, IN_MODIFY) < 0) {
		blog_debug("cannot watch %s, polling instead: %m", path);
		close(l->ino);
		l->ino = -1;
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

static int api_container_logs(struct api_call *c)
{
	_cleanup_free_ char *path = NULL;
	char id[65] = "";
	int r, fd;

	r = mgr_container_log_path(c->api->m, c->d.params.v[0], &path, id, &c->err);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno != ENOENT)
		return berr_errno(&c->err, -errno, "cannot open log file %s", path);
	if (fd < 0) /* never started: no output yet */
		c->resp = api_response_text("", 0, NULL);
	else if (c->d.follow)
		r = api_logs_stream(c, fd, path, id);
	else
		r = api_logs_whole(c, fd, path);
	if (r < 0 || !c->resp)
		return r < 0 ? r : -ENOMEM;
	MHD_add_response_header(c->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
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
	[API_OP_DNS_LOOKUP] = api_dns_lookup,
	[API_OP_DNS_STATS] = api_dns_stats,
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
		*con_cls = req;
		/* Refuse before reading a byte of the body (no 100 Continue is sent). */
		if (api_declared_too_large(conn))
			return api_queue_too_large(conn, req);
		return MHD_YES;
	}
	if (*upload_size) {
		api_body_append(req, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
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
	free(req->method);
	free(req->path);
	free(req->body);
	free(req);
	*con_cls = NULL;
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
			     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;

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

void api_stop(struct api *a)
{
	if (!a)
		return;
	atomic_store(&a->stopping, true);
	/* Unlink first so that new clients fail fast while the connection threads finish. */
	unlink(a->socket_path);
	MHD_stop_daemon(a->daemon);
	free(a->socket_path);
	free(a);
}
