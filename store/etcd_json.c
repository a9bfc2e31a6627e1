/* SPDX-License-Identifier: Apache-2.0 */
/* The pure logic of the etcd client: endpoint URLs, base64, request and reply JSON, the watch
 * stream. See store/etcd_json.h. */
#include "store/etcd_json.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "common/util.h"

/* ---- endpoint URLs ---- */

static int url_scheme(const char *url, bool tls, struct etcd_url *u, const char **rest,
		      struct berr *err)
{
	static const struct { const char *name; int https; } schemes[] = {
		{ "etcd://", -1 }, { "http://", 0 }, { "https://", 1 },
	};
	const char *sep = strstr(url, "://");

	*rest = url;
	u->https = tls;
	if (!sep)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(schemes); i++) {
		size_t len = strlen(schemes[i].name);

		if (strncmp(url, schemes[i].name, len) != 0)
			continue;
		*rest = url + len;
		if (schemes[i].https == 0 && tls)
			return berr_set(err, -EINVAL, "cluster store %s: TLS files given for an "
					"http:// URL (use etcd:// or https://)", url);
		if (schemes[i].https == 1)
			u->https = true;
		return 0;
	}
	return berr_set(err, -EINVAL, "cluster store %s: unsupported scheme %.*s (expected etcd://, "
			"http:// or https://)", url, (int)(sep - url), url);
}

static int url_port(const char *s, size_t len, unsigned *ret)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*ret = v;
	return 0;
}

static bool url_v6_valid(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct in6_addr a;
	const char *pct = memchr(s, '%', len);
	size_t alen = pct ? (size_t)(pct - s) : len;

	if (alen == 0 || alen >= sizeof(buf))
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (pct) {
		for (const char *p = pct + 1; p < s + len; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
				return false;
		if (pct + 1 == s + len)
			return false;
	}
	return inet_pton(AF_INET6, buf, &a) == 1;
}

static bool url_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_')
			return false;
	return true;
}

/* One "host[:port]" or "[v6][:port]" of length len into "host:port". */
static int url_endpoint(const char *s, size_t len, char out[ETCD_HOST_MAX], struct berr *err)
{
	const char *host = s, *port = NULL;
	size_t hlen = len;
	unsigned p = ETCD_DEFAULT_PORT;
	bool v6 = false;

	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close)
			return berr_set(err, -EINVAL, "endpoint %.*s: missing ']'", (int)len, s);
		host = s + 1;
		hlen = (size_t)(close - host);
		v6 = true;
		if (close + 1 < s + len) {
			if (close[1] != ':')
				return berr_set(err, -EINVAL, "endpoint %.*s: expected ':' after ']'",
						(int)len, s);
			port = close + 2;
		}
	} else {
		const char *colon = memchr(s, ':', len);

		if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)))
			return berr_set(err, -EINVAL, "endpoint %.*s: an IPv6 address needs brackets "
					"([addr]:port)", (int)len, s);
		if (colon) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
		}
	}
	if (v6 ? !url_v6_valid(host, hlen) : !url_name_valid(host, hlen))
		return berr_set(err, -EINVAL, "endpoint %.*s: invalid host", (int)len, s);
	if (port && url_port(port, len - (size_t)(port - s), &p) < 0)
		return berr_set(err, -EINVAL, "endpoint %.*s: invalid port", (int)len, s);
	snprintf(out, ETCD_HOST_MAX, v6 ? "[%.*s]:%u" : "%.*s:%u", (int)hlen, host, p);
	return 0;
}

static int url_prefix(const char *path, struct etcd_url *u, struct berr *err)
{
	size_t len;

	while (*path == '/')
		path++;
	len = strlen(path);
	while (len > 0 && path[len - 1] == '/')
		len--;
	if (len >= sizeof(u->prefix))
		return berr_set(err, -ENAMETOOLONG, "cluster store key prefix is too long");
	for (size_t i = 0; i < len; i++)
		if (path[i] == '?' || path[i] == '#' || (unsigned char)path[i] < 0x20)
			return berr_set(err, -EINVAL, "cluster store key prefix /%.*s: invalid "
					"character", (int)len, path);
	memcpy(u->prefix, path, len);
	u->prefix[len] = '\0';
	return 0;
}

static int url_add(struct etcd_url *u, const char *s, size_t len, struct berr *err)
{
	char host[ETCD_HOST_MAX];
	int r;

	if (len == 0)
		return berr_set(err, -EINVAL, "empty endpoint in the list");
	if (u->n == ETCD_MAX_ENDPOINTS)
		return berr_set(err, -E2BIG, "more than %d endpoints", ETCD_MAX_ENDPOINTS);
	r = url_endpoint(s, len, host, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->host[i], host) == 0)
			return berr_set(err, -EINVAL, "endpoint %s listed twice", host);
	memcpy(u->host[u->n++], host, sizeof(host));
	return 0;
}

int etcd_url_parse(const char *url, bool tls, struct etcd_url *ret, struct berr *err)
{
	struct etcd_url u = { 0 };
	const char *p, *end;
	int r;

	if (!url || !url[0])
		return berr_set(err, -EINVAL, "no cluster store URL");
	r = url_scheme(url, tls, &u, &p, err);
	if (r < 0)
		return r;
	end = p + strcspn(p, "/");
	if (end == p)
		return berr_set(err, -EINVAL, "cluster store %s: no endpoint", url);
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;

		r = url_add(&u, p, (size_t)(stop - p), err);
		if (r < 0)
			return berr_prefix(err, "cluster store %s", url);
		p = comma ? comma + 1 : end;
		if (comma && p == end)
			return berr_set(err, -EINVAL, "cluster store %s: empty endpoint in the list",
					url);
	}
	r = url_prefix(end, &u, err);
	if (r < 0)
		return r;
	*ret = u;
	return 0;
}

/* ---- base64 ---- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = b64_alphabet[(v >> 18) & 63];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

int etcd_b64_decode(const char *text, char **ret, size_t *ret_len)
{
	size_t len = strlen(text), n = 0;
	_cleanup_free_ char *out = NULL;

	if (len % 4 != 0)
		return -EINVAL;
	out = xmalloc(len / 4 * 3 + 1);
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;

		for (int k = 0; k < 4; k++) {
			bool last = i + 4 == len;

			if (text[i + k] == '=' && last && k >= 2 && (k == 3 || text[i + 3] == '=')) {
				v[k] = 0;
				pad++;
				continue;
			}
			v[k] = b64_value(text[i + k]);
			if (v[k] < 0 || pad)
				return -EINVAL;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		out[n++] = (char)(w >> 16);
		if (pad < 2)
			out[n++] = (char)(w >> 8);
		if (pad < 1)
			out[n++] = (char)w;
	}
	out[n] = '\0';
	*ret = steal_ptr(out);
	if (ret_len)
		*ret_len = n;
	return 0;
}

size_t etcd_prefix_end(const char *prefix, size_t len, char *ret)
{
	for (size_t i = len; i > 0; i--) {
		if ((unsigned char)prefix[i - 1] != 0xff) {
			memcpy(ret, prefix, i - 1);
			ret[i - 1] = (char)((unsigned char)prefix[i - 1] + 1);
			return i;
		}
	}
	ret[0] = '\0';
	return 1;
}

/* ---- requests ---- */

static void json_add_b64(cJSON *o, const char *name, const void *data, size_t len)
{
	_cleanup_free_ char *s = etcd_b64_encode(data, len);

	cJSON_AddStringToObject(o, name, s);
}

static void json_add_int64(cJSON *o, const char *name, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	cJSON_AddStringToObject(o, name, buf);
}

/* key, and range_end when the request covers a prefix. */
static cJSON *req_key(const char *key, bool prefix)
{
	cJSON *o = cJSON_CreateObject();
	size_t len = strlen(key);

	json_add_b64(o, "key", key, len);
	if (prefix) {
		_cleanup_free_ char *end = xmalloc(len + 1);
		size_t elen = etcd_prefix_end(key, len, end);

		if (len == 0) {   /* every key: key "\0", range_end "\0" */
			cJSON_DeleteItemFromObject(o, "key");
			json_add_b64(o, "key", "", 1);
		}
		json_add_b64(o, "range_end", end, elen);
	}
	return o;
}

cJSON *etcd_req_range(const char *key, bool prefix, int64_t revision)
{
	cJSON *o = req_key(key, prefix);

	if (revision > 0)
		json_add_int64(o, "revision", revision);
	return o;
}

cJSON *etcd_req_put(const char *key, const char *value, int64_t lease)
{
	cJSON *o = req_key(key, false);

	json_add_b64(o, "value", value, strlen(value));
	if (lease)
		json_add_int64(o, "lease", lease);
	return o;
}

cJSON *etcd_req_delete(const char *key, bool prefix)
{
	return req_key(key, prefix);
}

cJSON *etcd_req_lease(const char *field, int64_t v)
{
	cJSON *o = cJSON_CreateObject();

	json_add_int64(o, field, v);
	return o;
}

cJSON *etcd_req_watch(const char *prefix, int64_t start_revision)
{
	cJSON *o = cJSON_CreateObject(), *create = req_key(prefix, true);

	if (start_revision > 0)
		json_add_int64(create, "start_revision", start_revision);
	cJSON_AddItemToObject(o, "create_request", create);
	return o;
}

static const char *const cmp_targets[] = {
	[ETCD_CMP_VERSION] = "VERSION", [ETCD_CMP_CREATE] = "CREATE", [ETCD_CMP_MOD] = "MOD",
	[ETCD_CMP_VALUE] = "VALUE", [ETCD_CMP_LEASE] = "LEASE",
};
static const char *const cmp_fields[] = {
	[ETCD_CMP_VERSION] = "version", [ETCD_CMP_CREATE] = "create_revision",
	[ETCD_CMP_MOD] = "mod_revision", [ETCD_CMP_VALUE] = "value", [ETCD_CMP_LEASE] = "lease",
};
static const char *const cmp_results[] = {
	[ETCD_CMP_EQUAL] = "EQUAL", [ETCD_CMP_NOT_EQUAL] = "NOT_EQUAL", [ETCD_CMP_LESS] = "LESS",
	[ETCD_CMP_GREATER] = "GREATER",
};

static int txn_cmp(const struct etcd_cmp *c, cJSON *arr, struct berr *err)
{
	cJSON *o;

	if (!c->key || (unsigned)c->target >= ARRAY_SIZE(cmp_targets) ||
	    (unsigned)c->result >= ARRAY_SIZE(cmp_results))
		return berr_set(err, -EINVAL, "transaction: invalid compare");
	if (c->target == ETCD_CMP_VALUE && !c->value)
		return berr_set(err, -EINVAL, "transaction: compare on the value of %s without "
				"a value", c->key);
	o = req_key(c->key, false);
	cJSON_AddStringToObject(o, "target", cmp_targets[c->target]);
	cJSON_AddStringToObject(o, "result", cmp_results[c->result]);
	if (c->target == ETCD_CMP_VALUE)
		json_add_b64(o, "value", c->value, strlen(c->value));
	else
		json_add_int64(o, cmp_fields[c->target], c->number);
	cJSON_AddItemToArray(arr, o);
	return 0;
}

static int txn_op(const struct etcd_op *op, cJSON *arr, struct berr *err)
{
	cJSON *o = cJSON_CreateObject();
	const char *name;
	cJSON *req;

	if (!op->key || (op->kind == ETCD_OP_PUT && (!op->value || op->prefix))) {
		cJSON_Delete(o);
		return berr_set(err, -EINVAL, "transaction: invalid operation");
	}
	switch (op->kind) {
	case ETCD_OP_GET:
		name = "request_range";
		req = etcd_req_range(op->key, op->prefix, 0);
		break;
	case ETCD_OP_PUT:
		name = "request_put";
		req = etcd_req_put(op->key, op->value, op->lease);
		break;
	case ETCD_OP_DELETE:
		name = "request_delete_range";
		req = etcd_req_delete(op->key, op->prefix);
		break;
	default:
		cJSON_Delete(o);
		return berr_set(err, -EINVAL, "transaction: invalid operation");
	}
	cJSON_AddItemToObject(o, name, req);
	cJSON_AddItemToArray(arr, o);
	return 0;
}

static int txn_ops(cJSON *txn, const char *name, const struct etcd_op *ops, size_t n,
		   struct berr *err)
{
	cJSON *arr;
	int r;

	if (n == 0)
		return 0;
	arr = cJSON_AddArrayToObject(txn, name);
	for (size_t i = 0; i < n; i++) {
		r = txn_op(&ops[i], arr, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int etcd_req_txn(const struct etcd_cmp *cmp, size_t n_cmp, const struct etcd_op *then,
		 size_t n_then, const struct etcd_op *otherwise, size_t n_otherwise, cJSON **ret,
		 struct berr *err)
{
	cJSON *txn, *arr;
	int r = 0;

	if (n_cmp > ETCD_TXN_MAX_OPS || n_then > ETCD_TXN_MAX_OPS || n_otherwise > ETCD_TXN_MAX_OPS)
		return berr_set(err, -E2BIG, "transaction: more than %d compares or operations",
				ETCD_TXN_MAX_OPS);
	txn = cJSON_CreateObject();
	if (n_cmp > 0) {
		arr = cJSON_AddArrayToObject(txn, "compare");
		for (size_t i = 0; i < n_cmp && r == 0; i++)
			r = txn_cmp(&cmp[i], arr, err);
	}
	if (r == 0)
		r = txn_ops(txn, "success", then, n_then, err);
	if (r == 0)
		r = txn_ops(txn, "failure", otherwise, n_otherwise, err);
	if (r < 0) {
		cJSON_Delete(txn);
		return r;
	}
	*ret = txn;
	return 0;
}

/* ---- replies ---- */

static int int64_from_string(const char *s, int64_t *ret)
{
	int64_t v = 0;
	bool neg = s[0] == '-';

	if (neg)
		s++;
	if (!s[0] || strlen(s) > 19)
		return -EINVAL;
	for (; *s; s++) {
		int d = *s - '0';

		if (d < 0 || d > 9)
			return -EINVAL;
		if (v > (INT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*ret = neg ? -v : v;
	return 0;
}

int etcd_json_int64(const cJSON *obj, const char *name, int64_t *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	*ret = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsString(v))
		return int64_from_string(v->valuestring, ret);
	if (cJSON_IsNumber(v) && v->valuedouble == trunc(v->valuedouble) &&
	    fabs(v->valuedouble) <= 9007199254740992.0) {
		*ret = (int64_t)v->valuedouble;
		return 0;
	}
	return -EINVAL;
}

const cJSON *etcd_reply_result(const cJSON *reply)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(reply, "result");

	return cJSON_IsObject(r) ? r : reply;
}

int64_t etcd_reply_revision(const cJSON *reply)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(reply, "header");
	int64_t rev;

	return etcd_json_int64(h, "revision", &rev) < 0 ? 0 : rev;
}

bool etcd_reply_error(const cJSON *reply, int *ret_code, const char **ret_msg)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
	const cJSON *src = cJSON_IsObject(e) ? e : reply;
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(src, "message");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(src, cJSON_IsObject(e) ? "grpc_code" : "code");

	if (!e || (!cJSON_IsObject(e) && !cJSON_IsString(e)))
		return false;
	*ret_code = cJSON_IsNumber(code) ? code->valueint : 2;   /* 2: Unknown */
	if (cJSON_IsString(msg) && msg->valuestring[0])
		*ret_msg = msg->valuestring;
	else
		*ret_msg = cJSON_IsString(e) ? e->valuestring : "unknown error";
	return true;
}

int etcd_grpc_errno(int grpc_code)
{
	static const int map[] = {
		[1] = ECANCELED, [2] = EIO,    [3] = EINVAL,  [4] = ETIMEDOUT,
		[5] = ENOENT,    [6] = EEXIST, [7] = EACCES,  [8] = ENOSPC,
		[9] = EBUSY,     [10] = EAGAIN, [11] = ERANGE, [12] = EOPNOTSUPP,
		[13] = EIO,      [14] = EAGAIN, [15] = EIO,    [16] = EACCES,
	};

	if (grpc_code <= 0 || (size_t)grpc_code >= ARRAY_SIZE(map))
		return -EIO;
	return -map[grpc_code];
}

bool etcd_error_unapplied(int grpc_code, const char *msg)
{
	/* Refused before anything was proposed (the member has no leader or cannot serve). */
	return grpc_code == 14 && (strcmp(msg, "etcdserver: no leader") == 0 ||
				   strcmp(msg, "etcdserver: not capable") == 0);
}

static int kv_bytes(const cJSON *obj, const char *name, char **ret, size_t *ret_len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!v || cJSON_IsNull(v)) {
		*ret = xstrdup("");
		*ret_len = 0;
		return 0;
	}
	if (!cJSON_IsString(v))
		return -EINVAL;
	return etcd_b64_decode(v->valuestring, ret, ret_len);
}

int etcd_parse_kv(const cJSON *obj, struct etcd_kv *ret)
{
	struct etcd_kv kv = { 0 };
	size_t klen;
	int r;

	if (!cJSON_IsObject(obj))
		return -EINVAL;
	r = kv_bytes(obj, "key", &kv.key, &klen);
	if (r == 0 && (klen == 0 || strlen(kv.key) != klen))
		r = -EINVAL;   /* keys are C strings: no empty key, no NUL inside */
	if (r == 0)
		r = kv_bytes(obj, "value", &kv.value, &kv.value_len);
	if (r == 0)
		r = etcd_json_int64(obj, "create_revision", &kv.create_revision);
	if (r == 0)
		r = etcd_json_int64(obj, "mod_revision", &kv.mod_revision);
	if (r == 0)
		r = etcd_json_int64(obj, "version", &kv.version);
	if (r == 0)
		r = etcd_json_int64(obj, "lease", &kv.lease);
	if (r < 0) {
		etcd_kv_clear(&kv);
		return r;
	}
	*ret = kv;
	return 0;
}

void etcd_kv_clear(struct etcd_kv *kv)
{
	if (!kv)
		return;
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void etcd_kvs_clear(struct etcd_kvs *kvs)
{
	if (!kvs)
		return;
	for (size_t i = 0; i < kvs->n; i++)
		etcd_kv_clear(&kvs->kv[i]);
	free(kvs->kv);
	memset(kvs, 0, sizeof(*kvs));
}

/* The kvs of a range reply; entries that do not decode are counted in skipped. */
static int parse_kvs(const cJSON *reply, struct etcd_kvs *ret, struct berr *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(reply, "kvs"), *it;
	struct etcd_kvs kvs = { 0 };

	if (arr && !cJSON_IsArray(arr) && !cJSON_IsNull(arr))
		return berr_set(err, -EPROTO, "etcd reply: kvs is not an array");
	kvs.kv = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*kvs.kv));
	cJSON_ArrayForEach(it, arr) {
		if (etcd_parse_kv(it, &kvs.kv[kvs.n]) == 0)
			kvs.n++;
		else
			kvs.skipped++;
	}
	kvs.more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "more"));
	*ret = kvs;
	return 0;
}

int etcd_parse_range(const cJSON *reply, struct etcd_kvs *ret, struct berr *err)
{
	int r = parse_kvs(reply, ret, err);

	if (r == 0)
		ret->revision = etcd_reply_revision(reply);
	return r;
}

static int txn_reply(const cJSON *item, struct etcd_op_reply *ret, struct berr *err)
{
	const cJSON *v;

	memset(ret, 0, sizeof(*ret));
	if ((v = cJSON_GetObjectItemCaseSensitive(item, "response_range"))) {
		ret->kind = ETCD_OP_GET;
		return etcd_parse_range(v, &ret->kvs, err);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(item, "response_put"))) {
		ret->kind = ETCD_OP_PUT;
		return 0;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(item, "response_delete_range"))) {
		ret->kind = ETCD_OP_DELETE;
		if (etcd_json_int64(v, "deleted", &ret->deleted) < 0)
			return berr_set(err, -EPROTO, "etcd reply: invalid deleted count");
		return 0;
	}
	return berr_set(err, -EPROTO, "etcd reply: unknown transaction response");
}

int etcd_parse_txn(const cJSON *reply, struct etcd_txn_reply *ret, struct berr *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(reply, "responses"), *it;
	struct etcd_txn_reply t = { 0 };
	int r;

	if (arr && !cJSON_IsArray(arr))
		return berr_set(err, -EPROTO, "etcd reply: responses is not an array");
	t.succeeded = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "succeeded"));
	t.revision = etcd_reply_revision(reply);
	t.replies = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*t.replies));
	cJSON_ArrayForEach(it, arr) {
		r = txn_reply(it, &t.replies[t.n], err);
		if (r < 0) {
			etcd_txn_reply_clear(&t);
			return r;
		}
		t.n++;
	}
	*ret = t;
	return 0;
}

void etcd_txn_reply_clear(struct etcd_txn_reply *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		etcd_kvs_clear(&r->replies[i].kvs);
	free(r->replies);
	memset(r, 0, sizeof(*r));
}

/* ---- the watch stream ---- */

void etcd_framer_init(struct etcd_framer *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
}

void etcd_framer_clear(struct etcd_framer *f)
{
	free(f->buf);
	etcd_framer_init(f, f->max);
}

static void framer_push(struct etcd_framer *f, char c)
{
	if (f->len + 2 > f->cap) {
		f->cap = f->cap ? f->cap * 2 : 4096;
		f->buf = xrealloc(f->buf, f->cap);
	}
	f->buf[f->len++] = c;
}

/* Track strings and nesting; true when c closes the top-level object. */
static bool framer_step(struct etcd_framer *f, char c)
{
	if (f->in_str) {
		if (f->esc)
			f->esc = false;
		else if (c == '\\')
			f->esc = true;
		else if (c == '"')
			f->in_str = false;
		return false;
	}
	if (c == '"')
		f->in_str = true;
	else if (c == '{' || c == '[')
		f->depth++;
	else if (c == '}' || c == ']')
		f->depth--;
	return f->depth == 0;
}

int etcd_framer_feed(struct etcd_framer *f, const char *data, size_t len, etcd_framer_cb cb,
		     void *ctx)
{
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		int r;

		if (f->depth == 0) {
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
				continue;
			if (c != '{')
				return -EPROTO;
		}
		if (f->len >= f->max)
			return -E2BIG;
		framer_push(f, c);
		if (!framer_step(f, c))
			continue;
		f->buf[f->len] = '\0';
		r = cb(ctx, f->buf, f->len);
		f->len = 0;
		if (r < 0)
			return r;
	}
	return 0;
}

static int watch_event(const cJSON *ev, struct etcd_watch_item *ret)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!type || cJSON_IsNull(type) || (cJSON_IsString(type) && !strcmp(type->valuestring, "PUT")))
		ret->kind = ETCD_WATCH_PUT;
	else if (cJSON_IsString(type) && !strcmp(type->valuestring, "DELETE"))
		ret->kind = ETCD_WATCH_DELETE;
	else
		return -EINVAL;
	r = etcd_parse_kv(cJSON_GetObjectItemCaseSensitive(ev, "kv"), &ret->kv);
	if (r < 0)
		return r;
	ret->revision = ret->kv.mod_revision;
	if (ret->revision <= 0) {
		etcd_kv_clear(&ret->kv);
		return -EINVAL;
	}
	return 0;
}

static int watch_result(const cJSON *res, struct etcd_watch_msg *m, struct berr *err)
{
	const cJSON *evs = cJSON_GetObjectItemCaseSensitive(res, "events"), *ev;
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(res, "cancel_reason");

	m->created = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "created"));
	m->canceled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "canceled"));
	m->revision = etcd_reply_revision(res);
	if (etcd_json_int64(res, "compact_revision", &m->compact_revision) < 0)
		return berr_set(err, -EPROTO, "etcd watch: invalid compact_revision");
	if (cJSON_IsString(reason))
		snprintf(m->reason, sizeof(m->reason), "%s", reason->valuestring);
	if (evs && !cJSON_IsArray(evs))
		return berr_set(err, -EPROTO, "etcd watch: events is not an array");
	m->events = xcalloc((size_t)cJSON_GetArraySize(evs) + 1, sizeof(*m->events));
	cJSON_ArrayForEach(ev, evs) {
		if (watch_event(ev, &m->events[m->n]) == 0)
			m->n++;
		else
			m->skipped++;
	}
	return 0;
}

int etcd_parse_watch(const char *text, struct etcd_watch_msg *ret, struct berr *err)
{
	cJSON *json = cJSON_Parse(text);
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(json, "result");
	const char *msg;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!cJSON_IsObject(json))
		r = berr_set(err, -EPROTO, "etcd watch: a message is not a JSON object");
	else if (etcd_reply_error(json, &ret->error_code, &msg))
		snprintf(ret->reason, sizeof(ret->reason), "%s", msg);
	else if (!cJSON_IsObject(res))
		r = berr_set(err, -EPROTO, "etcd watch: a message has no result");
	else
		r = watch_result(res, ret, err);
	cJSON_Delete(json);
	if (r < 0)
		etcd_watch_msg_clear(ret);
	return r;
}

void etcd_watch_item_clear(struct etcd_watch_item *it)
{
	if (!it)
		return;
	etcd_kv_clear(&it->kv);
	etcd_kvs_clear(&it->snapshot);
}

void etcd_watch_msg_clear(struct etcd_watch_msg *m)
{
	for (size_t i = 0; i < m->n; i++)
		etcd_watch_item_clear(&m->events[i]);
	free(m->events);
	memset(m, 0, sizeof(*m));
}
