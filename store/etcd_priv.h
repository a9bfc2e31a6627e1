/* SPDX-License-Identifier: Apache-2.0 */
/* Private to store/etcd.c and store/etcd_watch.c: the client object and its transport. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>

#include <curl/curl.h>

#include "common/util.h"
#include "store/etcd_json.h"

static inline void cjson_freep(cJSON **j)
{
	cJSON_Delete(*j);
}
#define _cleanup_cjson_ _cleanup_(cjson_freep)

struct etcd_client {
	struct etcd_url url;
	char endpoints[ETCD_MAX_ENDPOINTS * (ETCD_HOST_MAX + 2)];   /* "h1:2379, h2:2379" */
	char *cafile, *certfile, *keyfile;
	int connect_ms, request_ms;
	pthread_mutex_t lock;      /* one call at a time: the handles are not shared */
	CURL *easy;
	CURLM *multi;              /* runs the easy handle so that a transfer can be interrupted */
	size_t cur;                /* the endpoint that answered last */
	atomic_bool stop;          /* set by etcd_client_interrupt(): every transfer aborts */
};

/* A client with the same endpoints and TLS files and its own handles (for another thread);
 * request_timeout_ms 0: the same as c's. */
int etcd_client_clone(const struct etcd_client *c, int request_timeout_ms,
		      struct etcd_client **ret, struct berr *err);
/* From any thread: abort c's transfer in progress and every later one. */
void etcd_client_interrupt(struct etcd_client *c);

/* One streaming POST to endpoint `ep` (no total timeout; TCP keepalive finds a dead peer):
 * every JSON object of the body (error replies included) goes to cb as it arrives. Returns 0
 * when etcd ended the stream, cb's negative return when cb stopped it, or -errno with err for a
 * transfer failure (-ECANCELED when interrupted). Sets *ret_connected when the connection was
 * made. */
int etcd_client_stream(struct etcd_client *c, size_t ep, const char *path, const cJSON *body,
		       etcd_framer_cb cb, void *ctx, bool *ret_connected, struct berr *err);
