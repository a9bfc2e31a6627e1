/* SPDX-License-Identifier: Apache-2.0 */
/* berth's HTTP client: JSON requests to berthd over its unix socket, one connection per
 * request, replies parsed by cli/http_reply.c (no HTTP library: berth starts fast). */
#pragma once

#include <stdio.h>

#include <cjson/cJSON.h>

#include "common/error.h"

#define CLIENT_DEFAULT_HOST "unix:///run/berth/berth.sock"

struct client_reply {
	long status;
	char *body;          /* NUL-terminated; NULL when the reply was streamed to a sink */
	size_t len;
};

/* Select the daemon: "unix:///path" or an absolute path. -EINVAL for anything else. */
int client_set_host(const char *host, struct berr *err);
const char *client_socket_path(void);

/* One request. body may be NULL (an empty body is sent for POST). When sink is set, a 2xx reply
 * body is written to it as it arrives (log streaming); error bodies are always collected.
 * Returns 0 for 1xx-3xx replies; otherwise -errno with the daemon's {"message"} in err (or a
 * connection error naming the socket). ret may be NULL. */
int client_request(const char *method, const char *path, const cJSON *body, FILE *sink,
		   struct client_reply *ret, struct berr *err);
void client_reply_free(struct client_reply *r);

/* client_request() plus JSON parsing of the reply (ret may be NULL; an empty body gives NULL). */
int client_json(const char *method, const char *path, const cJSON *body, cJSON **ret,
		struct berr *err);

/* JSON helpers: the string at key ("" when absent or not a string); cleanup attribute. */
const char *json_str(const cJSON *obj, const char *key);
static inline void json_freep(cJSON **p)
{
	cJSON_Delete(*p);
}
#define _cleanup_json_ __attribute__((cleanup(json_freep)))

/* Percent-encode a path or query component; free() the result. */
char *client_escape(const char *s);

/* Print `berth: <message>` (one line) to stderr and return 1, the CLI's failure exit code. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_fail_err(const struct berr *err);
