/* SPDX-License-Identifier: Apache-2.0 */
/* Private to store/etcd*.c (and tests/unit/test_etcd.c): the pure logic of the etcd client —
 * endpoint URLs, base64, request bodies, replies as the v3 JSON gateway writes them (int64 as
 * strings, zero values omitted), the watch stream, error codes. No I/O here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "store/etcd.h"

#define ETCD_HOST_MAX 280      /* "[v6 address%zone]:65535" and DNS names up to 253 */
#define ETCD_PREFIX_MAX 256

struct etcd_url {
	size_t n;
	bool https;
	char host[ETCD_MAX_ENDPOINTS][ETCD_HOST_MAX];   /* "10.0.0.5:2379", "[fd00::1]:2379" */
	char prefix[ETCD_PREFIX_MAX];                   /* path without its slashes */
};

/* tls: TLS files were given (etcd:// and no scheme become https; http:// is then refused). */
int etcd_url_parse(const char *url, bool tls, struct etcd_url *ret, struct berr *err);

/* Standard base64 with padding. decode: strict (-EINVAL on anything else); *ret is
 * NUL-terminated, to free(). */
char *etcd_b64_encode(const void *data, size_t len);
int etcd_b64_decode(const char *text, char **ret, size_t *ret_len);

/* range_end covering every key that starts with prefix[0..len): the prefix with its last byte
 * below 0xff incremented and what follows cut off; a single NUL byte ("every key") when no such
 * byte exists. Writes at most max(len, 1) bytes to ret; returns the length. */
size_t etcd_prefix_end(const char *prefix, size_t len, char *ret);

/* Request bodies. */
cJSON *etcd_req_range(const char *key, bool prefix, int64_t revision);
cJSON *etcd_req_put(const char *key, const char *value, int64_t lease);
cJSON *etcd_req_delete(const char *key, bool prefix);
int etcd_req_txn(const struct etcd_cmp *cmp, size_t n_cmp, const struct etcd_op *then,
		 size_t n_then, const struct etcd_op *otherwise, size_t n_otherwise, cJSON **ret,
		 struct berr *err);
cJSON *etcd_req_lease(const char *field, int64_t v);
cJSON *etcd_req_watch(const char *prefix, int64_t start_revision);

/* An int64 field: a JSON string of digits (the gateway's way) or an exact integral number;
 * absent or null: 0 (proto3 omits zero values). -EINVAL for anything else. */
int etcd_json_int64(const cJSON *obj, const char *name, int64_t *ret);
/* The store revision in a reply's header (0 when absent). */
int64_t etcd_reply_revision(const cJSON *reply);
/* The object inside {"result": {...}} (streaming endpoints), else the reply itself. */
const cJSON *etcd_reply_result(const cJSON *reply);

/* An error reply: {"error":"..","message":"..","code":N} (unary) or
 * {"error":{"grpc_code":N,"message":".."}} (streams). Returns true and fills both when it is
 * one. */
bool etcd_reply_error(const cJSON *reply, int *ret_code, const char **ret_msg);
/* gRPC status code -> negative errno. */
int etcd_grpc_errno(int grpc_code);
/* Whether a refused request was surely not applied, so it may be sent to another endpoint. */
bool etcd_error_unapplied(int grpc_code, const char *msg);

int etcd_parse_kv(const cJSON *obj, struct etcd_kv *ret);
int etcd_parse_range(const cJSON *reply, struct etcd_kvs *ret, struct berr *err);
int etcd_parse_txn(const cJSON *reply, struct etcd_txn_reply *ret, struct berr *err);

/* The watch stream: a sequence of JSON objects, maybe split or joined across reads. */
struct etcd_framer {
	char *buf;
	size_t len, cap, max;
	int depth;
	bool in_str, esc;
};

/* Called with each complete object (NUL-terminated); a negative return stops the feed. */
typedef int (*etcd_framer_cb)(void *ctx, const char *msg, size_t len);
void etcd_framer_init(struct etcd_framer *f, size_t max);
void etcd_framer_clear(struct etcd_framer *f);
/* -EPROTO: bytes outside an object; -E2BIG: an object larger than max. */
int etcd_framer_feed(struct etcd_framer *f, const char *data, size_t len, etcd_framer_cb cb,
		     void *ctx);

struct etcd_watch_msg {
	bool created;
	bool canceled;
	int64_t revision;          /* header revision (0 when absent) */
	int64_t compact_revision;  /* canceled because the start revision was compacted */
	int error_code;            /* gRPC code of an error message, 0 for results */
	char reason[BERR_MSG_MAX]; /* cancel reason or error message */
	size_t n;                  /* events, in order (PUT/DELETE items) */
	struct etcd_watch_item *events;
	size_t skipped;            /* events that did not decode */
};

int etcd_parse_watch(const char *text, struct etcd_watch_msg *ret, struct berr *err);
void etcd_watch_msg_clear(struct etcd_watch_msg *m);
