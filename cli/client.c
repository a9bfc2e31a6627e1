/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/http_reply.h"
#include "common/util.h"

#define CLIENT_BODY_MAX (64u << 20)   /* a collected reply larger than this is refused */
#define CLIENT_READ_SIZE (64u << 10)

static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)] = "/run/berth/berth.sock";

int client_set_host(const char *host, struct berr *err)
{
	const char *path = host;

	if (strncmp(host, "unix://", 7) == 0)
		path = host + 7;
	else if (strstr(host, "://"))
		return berr_set(err, -EINVAL,
				"unsupported host %s: only unix:// sockets are supported", host);
	if (path[0] != '/')
		return berr_set(err, -EINVAL,
				"invalid host %s: expected unix:///path/to/socket", host);
	if (strlen(path) >= sizeof(socket_path))   /* and keep the previous one */
		return berr_set(err, -ENAMETOOLONG, "socket path %s is too long", path);
	strscpy(socket_path, path, sizeof(socket_path));
	return 0;
}

const char *client_socket_path(void)
{
	return socket_path;
}

int cli_fail(const char *fmt, ...)
{
	char msg[BERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Exactly one line, whatever the message holds. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fflush(stdout);
	fprintf(stderr, "berth: %s\n", msg);
	return 1;
}

int cli_fail_err(const struct berr *err)
{
	return cli_fail("%s", berr_str(err));
}

const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

char *client_escape(const char *s)
{
	static const char keep[] = "-._~";
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(keep, *p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}

static int status_errno(long status)
{
	switch (status) {
	case 400: return -EINVAL;
	case 404: return -ENOENT;
	case 409: return -EEXIST;
	case 413: return -E2BIG;
	case 501: return -EOPNOTSUPP;
	default: return -EIO;
	}
}

/* Turn an error reply into err: {"message": "..."} or, failing that, the text or the status. */
static int reply_error(long status, const char *body, struct berr *err)
{
	cJSON *json = body ? cJSON_Parse(body) : NULL;
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(json, "message");
	int code = status_errno(status);

	if (cJSON_IsString(msg) && msg->valuestring[0])
		berr_set(err, code, "%s", msg->valuestring);
	else if (body && body[0] && !json)
		berr_set(err, code, "berthd replied HTTP %ld: %.200s", status, body);
	else
		berr_set(err, code, "berthd replied HTTP %ld", status);
	cJSON_Delete(json);
	return code;
}

/* "METHOD path HTTP/1.1", headers and body in one buffer; free() it. POST always carries a
 * Content-Length (0 without a body), other methods only with a body. */
static char *request_build(const char *method, const char *path, const char *data,
			   size_t *ret_len)
{
	size_t data_len = data ? strlen(data) : 0, head_len;
	_cleanup_free_ char *length = NULL;
	char *head, *req;

	if (data || strcmp(method, "POST") == 0)
		length = xasprintf("Content-Length: %zu\r\n", data_len);
	head = xasprintf("%s %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: berth-cli\r\n"
			 "Accept: */*\r\nContent-Type: application/json\r\n%s"
			 "Connection: close\r\n\r\n",
			 method, path, length ? length : "");
	head_len = strlen(head);
	req = xrealloc(head, head_len + data_len + 1);
	if (data_len)
		memcpy(req + head_len, data, data_len + 1);
	*ret_len = head_len + data_len;
	return req;
}

static bool path_valid(const char *path)
{
	if (path[0] != '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	return true;
}

static int client_connect(struct berr *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int e;

	if (fd < 0)
		return berr_errno(err, -errno, "cannot create a unix socket");
	/* client_set_host() keeps the path shorter than sun_path. */
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		return berr_set(err, -e, "cannot connect to berthd at %s: %s (is berthd running?)",
				socket_path, strerror(e));
	}
	return steal_fd(fd);
}

static int client_send(int fd, const char *buf, size_t len, struct berr *err)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_errno(err, -errno, "cannot send the request");
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send the request, then read until the reply is complete (not until berthd closes). */
static int client_exchange(int fd, const char *req, size_t req_len, struct http_reply *reply,
			   struct berr *err)
{
	struct berr send_err = BERR_INIT;
	char buf[CLIENT_READ_SIZE];
	bool got = false;
	ssize_t n;
	int sent, r;

	/* berthd may answer and close before reading a whole request it refuses (413): its
	 * reply is read even when sending failed. */
	sent = client_send(fd, req, req_len, &send_err);
	while (!http_reply_done(reply)) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 && sent < 0 && !got) {
			*err = send_err;
			return sent;
		}
		if (n < 0)
			return berr_errno(err, -errno, "cannot read the reply");
		if (n == 0)
			return http_reply_eof(reply, err);
		got = true;
		r = http_reply_feed(reply, buf, (size_t)n, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int sink_write(void *ud, const char *data, size_t len, struct berr *err)
{
	FILE *sink = ud;

	errno = 0;
	if (fwrite(data, 1, len, sink) != len || fflush(sink) == EOF)
		return berr_errno(err, errno ? -errno : -EIO, "cannot write the reply");
	return 0;
}

/* One exchange on a new connection; transport and framing errors name the socket. */
static int client_roundtrip(const char *method, const char *path, const char *data,
			    struct http_reply *reply, struct berr *err)
{
	_cleanup_free_ char *req = NULL;
	_cleanup_close_ int fd = -1;
	size_t req_len;
	int r;

	if (!path_valid(path))
		return berr_set(err, -EINVAL, "invalid request path %.200s", path);
	fd = client_connect(err);
	if (fd < 0)
		return fd;
	req = request_build(method, path, data, &req_len);
	r = client_exchange(fd, req, req_len, reply, err);
	if (r == -E2BIG)
		return berr_set(err, -E2BIG, "reply from berthd is larger than %u bytes",
				CLIENT_BODY_MAX);
	if (r < 0)
		return berr_prefix(err, "request to berthd at %s failed", socket_path);
	return 0;
}

int client_request(const char *method, const char *path, const cJSON *body, FILE *sink,
		   struct client_reply *ret, struct berr *err)
{
	_cleanup_free_ char *data = body ? cJSON_PrintUnformatted(body) : NULL;
	struct http_reply reply;
	int r;

	http_reply_init(&reply, CLIENT_BODY_MAX, sink ? sink_write : NULL, sink);
	blog_debug("%s %s %s", method, path, data ? data : "");
	r = client_roundtrip(method, path, data, &reply, err);
	blog_debug("-> HTTP %d %s", reply.status, reply.body ? reply.body : "");
	if (r == 0 && reply.status >= 400)
		r = reply_error(reply.status, reply.body, err);
	if (r == 0 && ret) {
		ret->status = reply.status;
		ret->body = steal_ptr(reply.body);
		ret->len = reply.len;
	}
	http_reply_release(&reply);
	return r;
}

void client_reply_free(struct client_reply *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

int client_json(const char *method, const char *path, const cJSON *body, cJSON **ret,
		struct berr *err)
{
	struct client_reply reply = { 0 };
	int r;

	r = client_request(method, path, body, NULL, &reply, err);
	if (r < 0)
		return r;
	if (ret) {
		*ret = NULL;
		if (reply.body && reply.len > 0) {
			*ret = cJSON_Parse(reply.body);
			if (!*ret)
				r = berr_set(err, -EBADMSG, "berthd sent invalid JSON for %s %s",
					     method, path);
		}
	}
	client_reply_free(&reply);
	return r;
}
