/* SPDX-License-Identifier: Apache-2.0 */
/* The API's internals shared by daemon/api.c (server, routing, core handlers) and the files
 * holding further handlers (api_stats.c ...). Not a public header. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "common/util.h"
#include "daemon/api_decode.h"

struct api {
	struct manager *m;
	struct MHD_Daemon *daemon;
	char *socket_path;
	bool plugin;            /* the Docker plugin socket (daemon/plugin_api.c), not the API */
	atomic_bool stopping;
	pthread_mutex_t jobs_lock;   /* threads working for requests (image loads) */
	pthread_cond_t jobs_done;
	unsigned jobs;
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
	/* An upload (image archive): the body goes to this file, not to memory. */
	int upload_fd;             /* -1 when not an upload */
	char *upload_path;         /* owned until a handler takes it */
	uint64_t upload_len;
	int upload_error;          /* -errno of a failed write */
	void *relay;               /* an attach answered 101 but not upgraded yet (api_attach.c) */
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

#include "daemon/http_util.h"     /* _cleanup_json_ */

/* {"message": msg} with status (5xx logged). */
enum MHD_Result api_queue_message(struct MHD_Connection *conn, struct api_conn *req, int status,
				  const char *msg);
/* A response holding a copy of text (ctype may be NULL). */
struct MHD_Response *api_response_text(const char *text, size_t len, const char *ctype);
/* The connection's socket (to notice a client that hung up), -1 if MHD does not say. */
int api_client_fd(struct MHD_Connection *conn);
/* Sleeps up to ms: 1 when fd (may be -1) is readable, 0 on timeout, -EPIPE when the client hung
 * up, -ECANCELED when the API is stopping. */
int api_poll(struct api *a, int client, int fd, int ms);
int api_poll2(struct api *a, int client, int fd, int fd2, int ms);

/* A line of a streamed reply (daemon/api_stream.c). */
struct api_line {
	char *s;
	size_t off, len;
};
void api_line_set(struct api_line *l, const char *text);   /* text + "\n", from the start */
bool api_line_empty(const struct api_line *l);             /* all handed out */
ssize_t api_line_copy(struct api_line *l, char *buf, size_t max);
void api_line_free(struct api_line *l);

/* Uploads (daemon/api_image.c): begin decides on the headers (false: not an upload route). */
bool api_upload_begin(struct api *a, struct MHD_Connection *conn, struct api_conn *req);
void api_upload_append(struct api_conn *req, const char *data, size_t n);
void api_upload_end(struct api_conn *req);
enum MHD_Result api_upload_refuse(struct MHD_Connection *conn, struct api_conn *req);
/* Waits (at api_stop) for image loads still running in their own threads. */
void api_image_loads_wait(struct api *a);

/* Handlers in other files. */
int api_container_stats(struct api_call *c);
int api_events(struct api_call *c);
int api_image_load(struct api_call *c);
int api_image_create(struct api_call *c);
int api_image_list(struct api_call *c);
int api_image_remove(struct api_call *c);
int api_container_attach(struct api_call *c);
int api_container_resize(struct api_call *c);
int api_exec_create(struct api_call *c);
int api_exec_start(struct api_call *c);
int api_exec_resize(struct api_call *c);
int api_exec_inspect(struct api_call *c);
/* An attach whose upgrade never happened (the client left first). */
void api_relay_abandon(void *relay);

