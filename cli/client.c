/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "common/util.h"

#define CLIENT_BODY_MAX (64u << 20)   /* a collected reply larger than this is refused */

static char socket_path[108] = "/run/berth/berth.sock";

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
	if (strscpy(socket_path, path, sizeof(socket_path)) < 0)
		return berr_set(err, -ENAMETOOLONG, "socket path %s is too long", path);
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

struct recv_state {
	CURL *curl;
	FILE *sink;
	char *buf;
	size_t len;
	bool too_big;
};

static bool recv_streams(struct recv_state *r)
{
	long status = 0;

	if (!r->sink)
		return false;
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	return status >= 200 && status < 300;
}

static size_t recv_on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct recv_state *r = userdata;
	size_t len = size * nmemb;

	if (recv_streams(r)) {
		if (fwrite(data, 1, len, r->sink) != len)
			return 0;
		fflush(r->sink);
		return len;
	}
	if (r->len + len > CLIENT_BODY_MAX) {
		r->too_big = true;
		return 0;
	}
	r->buf = xrealloc(r->buf, r->len + len + 1);
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	r->buf[r->len] = '\0';
	return len;
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

static int curl_error(CURL *curl, CURLcode rc, const char *errbuf, struct berr *err)
{
	long os_errno = 0;

	curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
	if (rc == CURLE_COULDNT_CONNECT) {
		if (os_errno == 0)
			os_errno = access(socket_path, F_OK) < 0 ? errno : ECONNREFUSED;
		return berr_set(err, -(int)os_errno,
				"cannot connect to berthd at %s: %s (is berthd running?)",
				socket_path, strerror((int)os_errno));
	}
	return berr_set(err, os_errno ? -(int)os_errno : -EIO, "request to berthd at %s failed: %s",
			socket_path, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

static void client_global_init(void)
{
	static bool done;

	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		done = true;
	}
}

static void curl_set_method(CURL *curl, const char *method, const char *data)
{
	if (strcmp(method, "GET") == 0)
		return;
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data ? data : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(data ? strlen(data) : 0));
		return;
	}
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (data) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(data));
	}
}

static CURLcode client_perform(CURL *curl, const char *method, const char *path, const char *data,
			       struct recv_state *r, char *errbuf)
{
	_cleanup_free_ char *url = xasprintf("http://localhost%s", path);
	struct curl_slist *headers = NULL;
	CURLcode rc;

	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "berth-cli");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, recv_on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_set_method(curl, method, data);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(headers);
	return rc;
}

int client_request(const char *method, const char *path, const cJSON *body, FILE *sink,
		   struct client_reply *ret, struct berr *err)
{
	_cleanup_free_ char *data = body ? cJSON_PrintUnformatted(body) : NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct recv_state r = { .sink = sink };
	long status = 0;
	CURLcode rc;
	int code = 0;

	client_global_init();
	r.curl = curl_easy_init();
	if (!r.curl)
		return berr_set(err, -ENOMEM, "cannot initialise libcurl");
	blog_debug("%s %s %s", method, path, data ? data : "");
	rc = client_perform(r.curl, method, path, data, &r, errbuf);
	curl_easy_getinfo(r.curl, CURLINFO_RESPONSE_CODE, &status);
	if (r.too_big)
		code = berr_set(err, -E2BIG, "reply from berthd is larger than %u bytes",
				CLIENT_BODY_MAX);
	else if (rc != CURLE_OK)
		code = curl_error(r.curl, rc, errbuf, err);
	else if (status >= 400)
		code = reply_error(status, r.buf, err);
	blog_debug("-> HTTP %ld %s", status, r.buf ? r.buf : "");
	curl_easy_cleanup(r.curl);
	if (code == 0 && ret) {
		ret->status = status;
		ret->body = steal_ptr(r.buf);
		ret->len = r.len;
	}
	free(r.buf);
	return code;
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
