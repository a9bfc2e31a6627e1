/* SPDX-License-Identifier: Apache-2.0 */
/* etcd v3 client over the JSON gateway: transfers, failover between endpoints, and the KV,
 * transaction and lease calls. See store/etcd.h. */
#include "store/etcd.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "store/etcd_priv.h"

#define ETCD_REPLY_MAX (64u << 20)   /* a collected reply larger than this is refused */
#define ETCD_TRY_MIN_MS 20           /* less time left than this: no further endpoint is tried */

/* ---- one HTTP exchange with one endpoint ---- */

struct xfer {
	const char *url;
	const char *body;
	long timeout_ms;            /* 0: none (streams) */
	long connect_ms;
	char *buf;                  /* collected reply (framer NULL) */
	size_t len;
	bool too_big;
	struct etcd_framer *framer; /* streams: each object goes to cb */
	etcd_framer_cb cb;
	void *ctx;
	int cb_rc;
	bool sent;                  /* connected (TLS included): the request may have reached etcd */
	bool tls_no_cert;           /* https without a client certificate */
	bool aborted;
	CURLcode rc;
	long status;
	long os_errno;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t xfer_on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t len = size * nmemb;

	if (x->framer) {
		x->cb_rc = etcd_framer_feed(x->framer, data, len, x->cb, x->ctx);
		return x->cb_rc < 0 ? 0 : len;
	}
	if (x->len + len > ETCD_REPLY_MAX) {
		x->too_big = true;
		return 0;
	}
	x->buf = xrealloc(x->buf, x->len + len + 1);
	memcpy(x->buf + x->len, data, len);
	x->len += len;
	x->buf[x->len] = '\0';
	return len;
}

static int xfer_on_prereq(void *userdata, char *primary_ip, char *local_ip, int primary_port,
			  int local_port)
{
	struct xfer *x = userdata;

	x->sent = true;
	return CURL_PREREQFUNC_OK;
}

/* A peer that vanished is noticed after 5 s idle + 3 probes 2 s apart. */
static int xfer_on_sockopt(void *userdata, curl_socket_t fd, curlsocktype purpose)
{
	int cnt = 3;

	if (purpose == CURLSOCKTYPE_IPCXN)
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	return CURL_SOCKOPT_OK;
}

static void xfer_setup(struct etcd_client *c, struct xfer *x, struct curl_slist *headers)
{
	CURL *h = c->easy;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, x->connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, x->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, xfer_on_sockopt);
	curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, xfer_on_prereq);
	curl_easy_setopt(h, CURLOPT_PREREQDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, xfer_on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	x->tls_no_cert = c->url.https && !c->certfile;
	if (c->cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cafile);
	if (c->certfile)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->certfile);
	if (c->keyfile)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->keyfile);
}

/* Runs the transfer on the client's multi handle, so that etcd_client_interrupt() can stop it
 * from another thread at once. */
static void xfer_run(struct etcd_client *c, struct xfer *x)
{
	CURLMsg *msg;
	int running = 1, left;

	x->rc = CURLE_OK;
	curl_multi_add_handle(c->multi, c->easy);
	for (;;) {
		if (atomic_load(&c->stop)) {
			x->aborted = true;
			x->rc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
			x->rc = CURLE_OUT_OF_MEMORY;
			break;
		}
		if (!running)
			break;
		if (curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
			x->rc = CURLE_OUT_OF_MEMORY;
			break;
		}
	}
	while ((msg = curl_multi_info_read(c->multi, &left)))
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy && !x->aborted)
			x->rc = msg->data.result;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &x->status);
	curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &x->os_errno);
	curl_multi_remove_handle(c->multi, c->easy);
}

/* Why a transfer failed, in a few words ("connection refused"). */
static void xfer_reason(const struct xfer *x, char *buf, size_t size)
{
	switch (x->rc) {
	case CURLE_COULDNT_CONNECT:
		snprintf(buf, size, "%s", strerror(x->os_errno ? (int)x->os_errno : ECONNREFUSED));
		buf[0] = (char)tolower((unsigned char)buf[0]);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		if (x->sent)
			snprintf(buf, size, "no answer within %ld ms", x->timeout_ms);
		else
			snprintf(buf, size, "no connection within %ld ms", x->connect_ms);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(buf, size, "cannot resolve the host name");
		break;
	case CURLE_GOT_NOTHING:
		snprintf(buf, size, "connection closed without an answer");
		break;
	default:
		snprintf(buf, size, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->rc));
	}
	/* A server that demands a client certificate drops the connection right after the TLS
	 * handshake; what the client reads then varies (alert, reset, EOF). */
	if (x->tls_no_cert && x->sent && x->status == 0 &&
	    (x->rc == CURLE_SEND_ERROR || x->rc == CURLE_RECV_ERROR || x->rc == CURLE_GOT_NOTHING)) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, "; does the server require a client certificate?");
	}
}

static char *endpoint_url(const struct etcd_client *c, size_t ep, const char *path)
{
	return xasprintf("%s://%s%s", c->url.https ? "https" : "http", c->url.host[ep], path);
}

static struct curl_slist *request_headers(void)
{
	struct curl_slist *h = NULL;

	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	/* etcd refuses at once, before proposing anything, when the member has no leader (a
	 * partitioned or quorum-less member): the request can safely go to another endpoint, and a
	 * watch on such a member is cancelled instead of going silent. */
	h = curl_slist_append(h, "Grpc-Metadata-hasleader: true");
	return h;
}

/* ---- one call, failing over between endpoints ---- */

enum { TRY_NEXT = 1 };

struct attempt {
	bool idempotent;
	bool timed_out;            /* a request was sent and not answered in time */
	bool answered;             /* the endpoint replied (success or an etcd error) */
	char reason[CURL_ERROR_SIZE];
};

/* An answer with a non-2xx status or an error body. */
static int reply_failure(const char *host, const struct xfer *x, cJSON *reply,
			 struct attempt *a, struct berr *err)
{
	const char *msg;
	int code;

	if (!etcd_reply_error(reply, &code, &msg))
		return berr_set(err, -EPROTO, "etcd %s replied HTTP %ld: %.200s", host, x->status,
				x->buf ? x->buf : "");
	if (etcd_error_unapplied(code, msg) || (a->idempotent && code == 14)) {
		snprintf(a->reason, sizeof(a->reason), "%s", msg);
		return TRY_NEXT;
	}
	return berr_set(err, etcd_grpc_errno(code), "etcd %s: %s", host, msg);
}

static int call_one(struct etcd_client *c, size_t ep, const char *path, const char *body,
		    long left_ms, struct attempt *a, cJSON **ret, struct berr *err)
{
	_cleanup_free_ char *url = endpoint_url(c, ep, path);
	struct curl_slist *headers = request_headers();
	struct xfer x = { .url = url, .body = body, .timeout_ms = left_ms,
			  .connect_ms = c->connect_ms < left_ms ? c->connect_ms : left_ms };
	const char *host = c->url.host[ep];
	int r;

	xfer_setup(c, &x, headers);
	xfer_run(c, &x);
	curl_slist_free_all(headers);
	blog_debug("etcd %s%s -> %d HTTP %ld", host, path, x.rc, x.status);
	if (x.aborted)
		r = berr_set(err, -ECANCELED, "etcd request interrupted");
	else if (x.too_big)
		r = berr_set(err, -E2BIG, "etcd %s: reply larger than %u bytes", host, ETCD_REPLY_MAX);
	else if (x.rc != CURLE_OK) {
		xfer_reason(&x, a->reason, sizeof(a->reason));
		if (x.sent && x.rc == CURLE_OPERATION_TIMEDOUT)
			a->timed_out = true;
		if (!x.sent || a->idempotent)
			r = TRY_NEXT;
		else
			r = berr_set(err, x.rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO,
				     "etcd %s: %s (the request may have been applied)", host,
				     a->reason);
	} else {
		cJSON *reply = cJSON_Parse(x.buf ? x.buf : "");
		int code;
		const char *msg;

		a->answered = true;
		if (x.status / 100 == 2 && cJSON_IsObject(reply) &&
		    !etcd_reply_error(reply, &code, &msg)) {
			*ret = reply;
			r = 0;
		} else {
			r = reply_failure(host, &x, reply, a, err);
			cJSON_Delete(reply);
		}
	}
	free(x.buf);
	return r;
}

static long ms_left(uint64_t deadline_ns)
{
	uint64_t now = time_mono_ns();

	return now >= deadline_ns ? 0 : (long)((deadline_ns - now) / 1000000);
}

static void tried_add(char *tried, size_t size, const char *host, const char *reason)
{
	size_t len = strlen(tried);

	snprintf(tried + len, size - len, "%s%s (%s)", len ? ", " : "", host, reason);
}

static int client_call_locked(struct etcd_client *c, const char *path, const char *body,
			      bool idempotent, cJSON **ret, struct berr *err)
{
	uint64_t deadline = time_mono_ns() + (uint64_t)c->request_ms * 1000000;
	struct attempt a = { .idempotent = idempotent };
	char tried[BERR_MSG_MAX - 64] = "";
	size_t k;
	int r;

	for (k = 0; k < c->url.n; k++) {
		size_t ep = (c->cur + k) % c->url.n;
		long left = ms_left(deadline);

		if (left < ETCD_TRY_MIN_MS)
			break;
		a.answered = false;
		r = call_one(c, ep, path, body, left, &a, ret, err);
		if (a.answered && r != TRY_NEXT)
			c->cur = ep;   /* the next call starts where etcd answered */
		if (r != TRY_NEXT)
			return r;
		tried_add(tried, sizeof(tried), c->url.host[ep], a.reason);
	}
	if (k < c->url.n) {
		size_t len = strlen(tried);

		snprintf(tried + len, sizeof(tried) - len, "; gave up after %d ms", c->request_ms);
	}
	if (a.timed_out)
		return berr_set(err, -ETIMEDOUT, "etcd did not answer: tried %s", tried);
	return berr_set(err, -EHOSTUNREACH, "etcd unreachable: tried %s", tried);
}

/* POST body to path; the JSON reply (the object inside "result" for streaming endpoints is
 * left to the caller). Reads (idempotent) are retried on another endpoint after any transport
 * failure; writes only when they surely were not applied. */
static int client_call(struct etcd_client *c, const char *path, const cJSON *body,
		       bool idempotent, cJSON **ret, struct berr *err)
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(body);
	int r;

	pthread_mutex_lock(&c->lock);
	r = client_call_locked(c, path, text, idempotent, ret, err);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int etcd_client_stream(struct etcd_client *c, size_t ep, const char *path, const cJSON *body,
		       etcd_framer_cb cb, void *ctx, bool *ret_connected, struct berr *err)
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(body);
	_cleanup_free_ char *url = endpoint_url(c, ep, path);
	struct curl_slist *headers = request_headers();
	struct etcd_framer framer;
	struct xfer x = { .url = url, .body = text, .connect_ms = c->connect_ms,
			  .framer = &framer, .cb = cb, .ctx = ctx };
	char reason[CURL_ERROR_SIZE];
	int r = 0;

	etcd_framer_init(&framer, ETCD_REPLY_MAX);
	pthread_mutex_lock(&c->lock);
	xfer_setup(c, &x, headers);
	xfer_run(c, &x);
	pthread_mutex_unlock(&c->lock);
	curl_slist_free_all(headers);
	etcd_framer_clear(&framer);
	*ret_connected = x.sent;
	if (x.aborted)
		return berr_set(err, -ECANCELED, "etcd stream interrupted");
	if (x.cb_rc < 0)
		return x.cb_rc == -EPROTO || x.cb_rc == -E2BIG ?
			berr_set(err, x.cb_rc, "etcd %s: malformed stream", c->url.host[ep]) : x.cb_rc;
	if (x.rc != CURLE_OK) {
		xfer_reason(&x, reason, sizeof(reason));
		r = berr_set(err, -EIO, "%s", reason);
	}
	return r;
}

/* ---- the client object ---- */

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int tls_file(const char *what, const char *path, char **ret, struct berr *err)
{
	*ret = NULL;
	if (!path || !path[0])
		return 0;
	if (access(path, R_OK) < 0)
		return berr_errno(err, -errno, "cluster store %s %s", what, path);
	*ret = xstrdup(path);
	return 0;
}

static int client_alloc(struct etcd_client *c, struct berr *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, curl_init_once);
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->stop, false);
	c->easy = curl_easy_init();
	c->multi = curl_multi_init();
	if (!c->easy || !c->multi)
		return berr_set(err, -ENOMEM, "cannot initialise libcurl");
	return 0;
}

static void client_list_endpoints(struct etcd_client *c)
{
	size_t len = 0;

	for (size_t i = 0; i < c->url.n; i++)
		len += (size_t)snprintf(c->endpoints + len, sizeof(c->endpoints) - len, "%s%s",
					i ? ", " : "", c->url.host[i]);
}

int etcd_client_new(const struct etcd_config *cfg, struct etcd_client **ret, struct berr *err)
{
	struct etcd_client *c = xcalloc(1, sizeof(*c));
	bool tls = (cfg->cafile && cfg->cafile[0]) || (cfg->certfile && cfg->certfile[0]) ||
		   (cfg->keyfile && cfg->keyfile[0]);
	int r;

	r = client_alloc(c, err);
	if (r == 0)
		r = etcd_url_parse(cfg->url, tls, &c->url, err);
	if (r == 0 && !cfg->certfile != !cfg->keyfile)
		r = berr_set(err, -EINVAL, "a cluster store client certificate needs both a "
			     "certificate file and a key file");
	if (r == 0)
		r = tls_file("CA file", cfg->cafile, &c->cafile, err);
	if (r == 0)
		r = tls_file("certificate file", cfg->certfile, &c->certfile, err);
	if (r == 0)
		r = tls_file("key file", cfg->keyfile, &c->keyfile, err);
	if (r == 0 && (cfg->connect_timeout_ms < 0 || cfg->request_timeout_ms < 0))
		r = berr_set(err, -EINVAL, "negative cluster store timeout");
	if (r < 0) {
		etcd_client_free(c);
		return r;
	}
	c->connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : ETCD_CONNECT_TIMEOUT_MS;
	c->request_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms : ETCD_REQUEST_TIMEOUT_MS;
	client_list_endpoints(c);
	*ret = c;
	return 0;
}

int etcd_client_clone(const struct etcd_client *c, int request_timeout_ms,
		      struct etcd_client **ret, struct berr *err)
{
	struct etcd_client *n = xcalloc(1, sizeof(*n));
	int r = client_alloc(n, err);

	if (r < 0) {
		etcd_client_free(n);
		return r;
	}
	n->url = c->url;
	memcpy(n->endpoints, c->endpoints, sizeof(n->endpoints));
	n->cafile = c->cafile ? xstrdup(c->cafile) : NULL;
	n->certfile = c->certfile ? xstrdup(c->certfile) : NULL;
	n->keyfile = c->keyfile ? xstrdup(c->keyfile) : NULL;
	n->connect_ms = c->connect_ms;
	n->request_ms = request_timeout_ms ? request_timeout_ms : c->request_ms;
	n->cur = c->cur;
	*ret = n;
	return 0;
}

void etcd_client_interrupt(struct etcd_client *c)
{
	atomic_store(&c->stop, true);
	if (c->multi)
		curl_multi_wakeup(c->multi);
}

void etcd_client_free(struct etcd_client *c)
{
	if (!c)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->easy)
		curl_easy_cleanup(c->easy);
	pthread_mutex_destroy(&c->lock);
	free(c->cafile);
	free(c->certfile);
	free(c->keyfile);
	free(c);
}

const char *etcd_client_prefix(const struct etcd_client *c)
{
	return c->url.prefix;
}

const char *etcd_client_endpoints(const struct etcd_client *c)
{
	return c->endpoints;
}

/* ---- KV ---- */

int etcd_range_prefix(struct etcd_client *c, const char *prefix, int64_t revision,
		      struct etcd_kvs *ret, struct berr *err)
{
	_cleanup_cjson_ cJSON *req = etcd_req_range(prefix, true, revision);
	_cleanup_cjson_ cJSON *reply = NULL;
	int r;

	r = client_call(c, "/v3/kv/range", req, true, &reply, err);
	if (r < 0)
		return berr_prefix(err, "reading %s*", prefix);
	return etcd_parse_range(reply, ret, err);
}

int etcd_get(struct etcd_client *c, const char *key, struct etcd_kv *ret, int64_t *ret_revision,
	     struct berr *err)
{
	_cleanup_cjson_ cJSON *req = etcd_req_range(key, false, 0);
	_cleanup_cjson_ cJSON *reply = NULL;
	struct etcd_kvs kvs;
	int r;

	r = client_call(c, "/v3/kv/range", req, true, &reply, err);
	if (r < 0)
		return berr_prefix(err, "reading %s", key);
	r = etcd_parse_range(reply, &kvs, err);
	if (r < 0)
		return r;
	if (kvs.n == 0) {
		r = kvs.skipped ? berr_set(err, -EPROTO, "etcd: key %s does not decode", key) :
				  berr_set(err, -ENOENT, "etcd: no key %s", key);
		etcd_kvs_clear(&kvs);
		return r;
	}
	if (ret_revision)
		*ret_revision = kvs.revision;
	*ret = kvs.kv[0];
	memset(&kvs.kv[0], 0, sizeof(kvs.kv[0]));
	etcd_kvs_clear(&kvs);
	return 0;
}

int etcd_put(struct etcd_client *c, const char *key, const char *value, int64_t lease,
	     int64_t *ret_revision, struct berr *err)
{
	_cleanup_cjson_ cJSON *req = etcd_req_put(key, value, lease);
	_cleanup_cjson_ cJSON *reply = NULL;
	int r;

	r = client_call(c, "/v3/kv/put", req, false, &reply, err);
	if (r < 0)
		return berr_prefix(err, "writing %s", key);
	if (ret_revision)
		*ret_revision = etcd_reply_revision(reply);
	return 0;
}

int etcd_delete(struct etcd_client *c, const char *key, bool prefix, int64_t *ret_deleted,
		struct berr *err)
{
	_cleanup_cjson_ cJSON *req = etcd_req_delete(key, prefix);
	_cleanup_cjson_ cJSON *reply = NULL;
	int64_t deleted;
	int r;

	if (!key[0])
		return berr_set(err, -EINVAL, "refusing to delete %s", prefix ? "every key" : "an empty key");
	r = client_call(c, "/v3/kv/deleterange", req, false, &reply, err);
	if (r < 0)
		return berr_prefix(err, "deleting %s%s", key, prefix ? "*" : "");
	if (etcd_json_int64(reply, "deleted", &deleted) < 0)
		return berr_set(err, -EPROTO, "etcd reply: invalid deleted count");
	if (ret_deleted)
		*ret_deleted = deleted;
	return 0;
}

/* ---- transactions ---- */

int etcd_txn(struct etcd_client *c, const struct etcd_cmp *cmp, size_t n_cmp,
	     const struct etcd_op *then, size_t n_then, const struct etcd_op *otherwise,
	     size_t n_otherwise, struct etcd_txn_reply *ret, struct berr *err)
{
	_cleanup_cjson_ cJSON *req = NULL;
	_cleanup_cjson_ cJSON *reply = NULL;
	int r;

	r = etcd_req_txn(cmp, n_cmp, then, n_then, otherwise, n_otherwise, &req, err);
	if (r < 0)
		return r;
	r = client_call(c, "/v3/kv/txn", req, false, &reply, err);
	if (r < 0)
		return berr_prefix(err, "transaction");
	return etcd_parse_txn(reply, ret, err);
}

int etcd_create(struct etcd_client *c, const char *key, const char *value, int64_t lease,
		struct etcd_kv *ret_existing, struct berr *err)
{
	const struct etcd_cmp cmp = { .key = key, .target = ETCD_CMP_CREATE,
				      .result = ETCD_CMP_EQUAL, .number = 0 };
	const struct etcd_op put = { .kind = ETCD_OP_PUT, .key = key, .value = value,
				     .lease = lease };
	const struct etcd_op get = { .kind = ETCD_OP_GET, .key = key };
	struct etcd_txn_reply t;
	int r;

	r = etcd_txn(c, &cmp, 1, &put, 1, &get, 1, &t, err);
	if (r < 0)
		return berr_prefix(err, "creating %s", key);
	if (t.succeeded) {
		etcd_txn_reply_clear(&t);
		return 0;
	}
	if (ret_existing) {
		memset(ret_existing, 0, sizeof(*ret_existing));
		if (t.n == 1 && t.replies[0].kvs.n == 1) {
			*ret_existing = t.replies[0].kvs.kv[0];
			memset(&t.replies[0].kvs.kv[0], 0, sizeof(struct etcd_kv));
		}
	}
	etcd_txn_reply_clear(&t);
	return berr_set(err, -EEXIST, "etcd: key %s exists", key);
}

int etcd_cas(struct etcd_client *c, const char *key, int64_t mod_revision, const char *value,
	     int64_t lease, int64_t *ret_revision, struct berr *err)
{
	const struct etcd_cmp cmp = { .key = key, .target = ETCD_CMP_MOD,
				      .result = ETCD_CMP_EQUAL, .number = mod_revision };
	const struct etcd_op put = { .kind = ETCD_OP_PUT, .key = key, .value = value,
				     .lease = lease };
	struct etcd_txn_reply t;
	bool ok;
	int r;

	r = etcd_txn(c, &cmp, 1, &put, 1, NULL, 0, &t, err);
	if (r < 0)
		return berr_prefix(err, "updating %s", key);
	ok = t.succeeded;
	if (ok && ret_revision)
		*ret_revision = t.revision;
	etcd_txn_reply_clear(&t);
	if (!ok)
		return berr_set(err, -ESTALE, "etcd: key %s changed since revision %lld", key,
				(long long)mod_revision);
	return 0;
}

/* ---- leases ---- */

int etcd_lease_grant(struct etcd_client *c, int ttl_s, int64_t *ret_id, int *ret_ttl,
		     struct berr *err)
{
	_cleanup_cjson_ cJSON *req = etcd_req_lease("TTL", ttl_s);
	_cleanup_cjson_ cJSON *reply = NULL;
	int64_t id, ttl;
	int r;

	if (ttl_s <= 0)
		return berr_set(err, -EINVAL, "lease TTL must be positive");
	r = client_call(c, "/v3/lease/grant", req, false, &reply, err);
	if (r < 0)
		return berr_prefix(err, "granting a lease");
	if (etcd_json_int64(reply, "ID", &id) < 0 || id == 0 ||
	    etcd_json_int64(reply, "TTL", &ttl) < 0 || ttl <= 0)
		return berr_set(err, -EPROTO, "etcd reply: invalid lease");
	*ret_id = id;
	if (ret_ttl)
		*ret_ttl = (int)ttl;
	return 0;
}

int etcd_lease_keepalive(struct etcd_client *c, int64_t id, int *ret_ttl, struct berr *err)
{
	_cleanup_cjson_ cJSON *req = etcd_req_lease("ID", id);
	_cleanup_cjson_ cJSON *reply = NULL;
	int64_t ttl;
	int r;

	r = client_call(c, "/v3/lease/keepalive", req, true, &reply, err);
	if (r < 0)
		return berr_prefix(err, "refreshing lease %llx", (unsigned long long)id);
	if (etcd_json_int64(etcd_reply_result(reply), "TTL", &ttl) < 0)
		return berr_set(err, -EPROTO, "etcd reply: invalid lease TTL");
	if (ttl <= 0)   /* proto3: an expired lease comes back without a TTL */
		return berr_set(err, -ENOENT, "etcd lease %llx expired", (unsigned long long)id);
	if (ret_ttl)
		*ret_ttl = (int)ttl;
	return 0;
}

int etcd_lease_revoke(struct etcd_client *c, int64_t id, struct berr *err)
{
	_cleanup_cjson_ cJSON *req = etcd_req_lease("ID", id);
	_cleanup_cjson_ cJSON *reply = NULL;
	int r;

	r = client_call(c, "/v3/lease/revoke", req, true, &reply, err);
	if (r == -ENOENT) {
		berr_clear(err);
		return 0;
	}
	if (r < 0)
		return berr_prefix(err, "revoking lease %llx", (unsigned long long)id);
	return 0;
}
