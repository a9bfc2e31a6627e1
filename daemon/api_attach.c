/* SPDX-License-Identifier: Apache-2.0 */
/* Attach and exec over the API, as Docker does it: POST /containers/{id}/attach and POST
 * /exec/{id}/start answer "101 UPGRADED" (Upgrade: tcp) and the connection becomes a raw stream
 * relayed, in the connection's own thread (libmicrohttpd's thread-per-connection mode lets an
 * upgrade handler block), to the shim's socket (runtime/stdio.c): a terminal's bytes as they
 * are, an exec's pipes in Docker's frames. A container without a terminal writes its output to
 * its log: that is followed from the end and sent as stdout frames, and only stdin goes to the
 * shim. The client's input passes a detach-key filter (ctrl-p,ctrl-q unless ?detachKeys=); the
 * keys end the attach, not the container. Attaching before the start waits for it. */
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/api_internal.h"
#include "common/termkeys.h"
#include "daemon/manager.h"

#define RELAY_BUF (32u << 10)
#define RELAY_POLL_MS 100

struct relay {
	struct api *api;
	char id[65];                 /* the container */
	char sock[4096];             /* the shim's (or the exec session's) socket */
	char log[4096];              /* non-terminal container: its log */
	bool exec, tty, open_stdin;  /* what it attaches to */
	bool in, out, err, logs;     /* what the client asked for */
	struct termkeys keys;        /* the detach sequence */
	bool pending;                /* an attach counted by the manager, not yet released */
	int client, shim, log_fd;
	int exit;                    /* the container's exit watch (a log relay), or -1 */
	char started_at[40];         /* the container's last start when the attach came */
	off_t log_from;              /* where the output starts: the log's end at the attach */
	char *extra;                 /* bytes the client sent before the upgrade */
	size_t n_extra;
};

static void relay_free(struct relay *r)
{
	if (r->pending)
		mgr_container_attach_end(r->api->m, r->id);
	if (r->shim >= 0)
		close(r->shim);
	if (r->log_fd >= 0)
		close(r->log_fd);
	mgr_exit_watch_del(r->api->m, r->exit);
	free(r->extra);
	free(r);
}

/* ---- I/O ---- */

static int write_all(struct api *a, int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		struct pollfd pf = { .fd = fd, .events = POLLOUT };

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (atomic_load(&a->stopping))
			return -ECANCELED;
		poll(&pf, 1, RELAY_POLL_MS);
	}
	return 0;
}

/* Client input toward the process, less the detach keys: 1 when they were typed. */
static int relay_input(struct relay *r, const char *data, size_t n)
{
	uint8_t out[RELAY_BUF + TERMKEYS_MAX];
	bool detach;
	size_t len;

	if (!r->in || r->shim < 0)
		return 0;   /* no stdin attached: input is dropped */
	while (n > 0) {
		size_t k = n < RELAY_BUF ? n : RELAY_BUF;

		detach = termkeys_filter(&r->keys, (const uint8_t *)data, k, out, &len);
		if (len && write_all(r->api, r->shim, (const char *)out, len) < 0)
			return -EPIPE;
		if (detach)
			return 1;
		data += k;
		n -= k;
	}
	return 0;
}

static int shim_connect(const char *path, const struct relay *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char hello[48];
	int len = snprintf(hello, sizeof(hello), "attach %d %d %d\n", r->in, r->out, r->err);

	if (fd < 0)
		return -errno;
	strscpy(sa.sun_path, path, sizeof(sa.sun_path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, hello, (size_t)len, MSG_NOSIGNAL) != len) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* A container attached before it starts: wait for the start (or the client, or berthd). A
 * start since the attach counts even when the container already exited again. */
static int relay_wait_running(struct relay *r)
{
	struct mgr_attach a = { 0 };

	for (;;) {
		/* a half-close is the end of the client's input, not its leaving (its bytes wait in
		 * the socket): only a closed connection (POLLHUP) ends the wait */
		struct pollfd pf = { .fd = r->client, .events = 0 };

		if (mgr_container_attach_state(r->api->m, r->id, &a) < 0)
			return -ENOENT;
		if (a.running || strcmp(a.started_at, r->started_at) != 0)
			return 0;
		if (atomic_load(&r->api->stopping))
			return -ECANCELED;
		if (poll(&pf, 1, RELAY_POLL_MS) > 0 && (pf.revents & (POLLHUP | POLLERR)))
			return -EPIPE;
	}
}

/* Output to the client: from the shim (terminal, exec), or from the log (a container without
 * a terminal: stdout frames). */
static int relay_setup(struct relay *r)
{
	int rc = r->exec ? 0 : relay_wait_running(r);

	if (rc < 0)
		return rc;
	if (r->exec || r->tty || (r->in && r->open_stdin)) {
		r->shim = shim_connect(r->sock, r);
		/* without a terminal the output is in the log: a container that already exited
		 * (its shim gone) still has it */
		if (r->shim < 0 && (r->exec || r->tty))
			return r->shim;
		r->shim = r->shim < 0 ? -1 : r->shim;
	}
	if (r->pending) {
		mgr_container_attach_end(r->api->m, r->id);
		r->pending = false;
	}
	if (!r->exec && !r->tty && (r->out || r->err)) {
		r->log_fd = open(r->log, O_RDONLY | O_CLOEXEC);
		if (r->log_fd >= 0)
			lseek(r->log_fd, r->log_from, SEEK_SET);
	}
	return 0;
}

static int log_forward(struct relay *r)
{
	char buf[RELAY_BUF + 8];
	ssize_t n = r->log_fd >= 0 ? read(r->log_fd, buf + 8, RELAY_BUF) : 0;

	if (n <= 0)
		return 0;
	buf[0] = 1, buf[1] = buf[2] = buf[3] = 0;
	buf[4] = (char)(n >> 24), buf[5] = (char)(n >> 16), buf[6] = (char)(n >> 8), buf[7] = (char)n;
	return write_all(r->api, r->client, buf, (size_t)n + 8) < 0 ? -EPIPE : 1;
}

/* Without a terminal the end is the container's exit, its log read to the end. */
static bool relay_log_done(struct relay *r)
{
	struct mgr_attach a = { 0 };

	if (mgr_container_attach_state(r->api->m, r->id, &a) < 0 || !a.running)
		return log_forward(r) <= 0;
	return false;
}

/* One round: 0 go on, 1 done. */
static int relay_round(struct relay *r, bool *client_in_open)
{
	struct pollfd p[3] = { { .fd = *client_in_open ? r->client : -1, .events = POLLIN },
			       { .fd = r->shim, .events = POLLIN },
			       { .fd = r->log_fd >= 0 ? r->exit : -1, .events = POLLIN } };
	char buf[RELAY_BUF];
	ssize_t n;

	if (atomic_load(&r->api->stopping))
		return 1;
	if (poll(p, 3, r->log_fd >= 0 ? 50 : RELAY_POLL_MS) < 0 && errno != EINTR)
		return 1;
	if (p[2].revents)
		mgr_exit_watch_drain(r->exit);
	if (p[0].revents) {
		n = recv(r->client, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			*client_in_open = false;   /* its input ended: the process's stdin ends */
			if (r->shim >= 0)
				shutdown(r->shim, SHUT_WR);
			if (n < 0 || (r->shim < 0 && r->log_fd < 0))
				return 1;
		} else if (n > 0 && relay_input(r, buf, (size_t)n) != 0) {
			return 1;   /* detached, or the shim is gone */
		}
	}
	if (p[1].revents) {
		n = recv(r->shim, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return r->log_fd >= 0 ? (close(r->shim), r->shim = -1, 0) : 1;
		if (n > 0 && write_all(r->api, r->client, buf, (size_t)n) < 0)
			return 1;
	}
	if (r->log_fd >= 0 && (log_forward(r) < 0 || relay_log_done(r)))
		return 1;
	return 0;
}

static void relay_run(struct relay *r)
{
	bool client_in_open = true;
	int rc = relay_setup(r);

	if (rc < 0) {
		blog_debug("attach %.12s: %s", r->id, strerror(-rc));
		return;
	}
	if (r->n_extra && relay_input(r, r->extra, r->n_extra) != 0)
		return;
	while ((rc = relay_round(r, &client_in_open)) == 0)
		;
	blog_debug("attach %.12s: relay ends (%d)", r->id, rc);
}

static void relay_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
			   const char *extra_in, size_t extra_in_size, MHD_socket sock,
			   struct MHD_UpgradeResponseHandle *urh)
{
	struct relay *r = cls;
	struct api_conn *req = con_cls;

	if (req)
		req->relay = NULL;   /* ours now */
	r->client = sock;
	if (extra_in_size) {
		r->extra = xmalloc(extra_in_size);
		memcpy(r->extra, extra_in, extra_in_size);
		r->n_extra = extra_in_size;
	}
	relay_run(r);
	shutdown(sock, SHUT_WR);
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
	relay_free(r);
}

void api_relay_abandon(void *relay)
{
	if (relay)
		relay_free(relay);
}

/* The 101: the stream's type says whether frames come (Docker's media types). */
static int relay_respond(struct api_call *c, struct relay *r)
{
	c->resp = MHD_create_response_for_upgrade(relay_upgraded, r);
	if (!c->resp) {
		relay_free(r);
		return -ENOMEM;
	}
	MHD_add_response_header(c->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->tty ? "application/vnd.docker.raw-stream"
				       : "application/vnd.docker.multiplexed-stream");
	MHD_add_response_header(c->resp, MHD_HTTP_HEADER_UPGRADE, "tcp");
	c->status = 101;
	c->req->relay = r;
	return 0;
}

static struct relay *relay_new(struct api_call *c)
{
	struct relay *r = xcalloc(1, sizeof(*r));

	r->api = c->api;
	r->client = r->shim = r->log_fd = r->exit = -1;
	return r;
}

int api_container_attach(struct api_call *c)
{
	struct relay *r = relay_new(c);
	struct mgr_attach a = { 0 };
	struct stat st;
	int rc;

	rc = termkeys_parse(c->d.detach_keys, &r->keys, &c->err);
	if (rc >= 0)
		rc = mgr_container_attach_begin(c->api->m, c->d.params.v[0], &a, &c->err);
	if (rc < 0) {
		free(r);
		return rc;
	}
	r->pending = true;
	memcpy(r->id, a.id, sizeof(r->id));
	r->exit = mgr_exit_watch_add(c->api->m, r->id);
	memcpy(r->sock, a.sock, sizeof(r->sock));
	memcpy(r->log, a.log, sizeof(r->log));
	memcpy(r->started_at, a.started_at, sizeof(r->started_at));
	r->tty = a.tty;
	r->open_stdin = a.open_stdin;
	r->in = c->d.in && a.open_stdin;
	r->out = c->d.out;
	r->err = c->d.err;
	r->logs = c->d.logs;
	/* what the container prints from now on, even before the relay runs (a start right after
	 * the attach) */
	if (!r->logs && stat(r->log, &st) == 0)
		r->log_from = st.st_size;
	return relay_respond(c, r);
}

int api_container_resize(struct api_call *c)
{
	return mgr_container_resize(c->api->m, c->d.params.v[0], (int)c->d.height,
				    (int)c->d.width, &c->err);
}

/* ---- exec ---- */

int api_exec_create(struct api_call *c)
{
	c->status = 201;
	return mgr_exec_create(c->api->m, c->d.params.v[0], c->d.body, &c->reply, &c->err);
}

/* {"Detach", "Tty", "ConsoleSize": [h, w]}: the command starts now; unless detached, the
 * connection becomes its stream. */
int api_exec_start(struct api_call *c)
{
	const cJSON *detach = cJSON_GetObjectItemCaseSensitive(c->d.body, "Detach");
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(c->d.body, "ConsoleSize");
	int rows = 0, cols = 0, rc;
	struct mgr_exec_io io = { 0 };
	struct relay *r;

	if (cJSON_GetArraySize(cs) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(cs, 0)) &&
	    cJSON_IsNumber(cJSON_GetArrayItem(cs, 1))) {
		rows = (int)cJSON_GetArrayItem(cs, 0)->valuedouble & 0xffff;
		cols = (int)cJSON_GetArrayItem(cs, 1)->valuedouble & 0xffff;
	}
	rc = mgr_exec_start(c->api->m, c->d.params.v[0], rows, cols, cJSON_IsTrue(detach), &io,
			    &c->err);
	if (rc < 0)
		return rc;
	if (cJSON_IsTrue(detach))
		return 0;
	r = relay_new(c);
	r->exec = true;
	memcpy(r->sock, io.sock, sizeof(r->sock));
	r->tty = io.tty;
	r->in = io.in;
	r->out = r->err = true;
	termkeys_parse(io.detach_keys, &r->keys, NULL);   /* checked at create */
	return relay_respond(c, r);
}

int api_exec_resize(struct api_call *c)
{
	return mgr_exec_resize(c->api->m, c->d.params.v[0], (int)c->d.height, (int)c->d.width,
			       &c->err);
}

int api_exec_inspect(struct api_call *c)
{
	return mgr_exec_inspect(c->api->m, c->d.params.v[0], &c->reply, &c->err);
}
