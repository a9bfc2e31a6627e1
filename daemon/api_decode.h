/* SPDX-License-Identifier: Apache-2.0 */
/* The API's request decoding, without the HTTP server and without the manager: the route of a
 * method + raw path, its path parameters, its typed query parameters and its JSON body, each
 * checked (well-formed UTF-8, bounded nesting, the right types). daemon/api.c calls it for every
 * request and hands the result to the manager; tests/fuzz/fuzz_api_request.c fuzzes it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/error.h"
#include "daemon/http_util.h"

#define API_BODY_MAX (1024 * 1024)
#define API_JSON_DEPTH_MAX 64
#define API_STOP_TIMEOUT_MAX 86400L
#define API_VERSION "1.41"
#define API_MIN_VERSION "1.24"

enum api_op {
	API_OP_PING,
	API_OP_VERSION,
	API_OP_INFO,
	API_OP_NETWORK_CREATE,
	API_OP_NETWORK_PRUNE,
	API_OP_FIREWALL_RELOAD,
	API_OP_NETWORK_LIST,
	API_OP_NETWORK_INSPECT,
	API_OP_NETWORK_REMOVE,
	API_OP_NETWORK_CONNECT,
	API_OP_NETWORK_DISCONNECT,
	API_OP_CONTAINER_CREATE,
	API_OP_CONTAINER_LIST,
	API_OP_CONTAINER_START,
	API_OP_CONTAINER_STOP,
	API_OP_CONTAINER_KILL,
	API_OP_CONTAINER_WAIT,
	API_OP_CONTAINER_REMOVE,
	API_OP_CONTAINER_INSPECT,
	API_OP_CONTAINER_LOGS,
	API_OP_CONTAINER_STATS,
	API_OP_EVENTS,
	API_OP_IMAGE_LOAD,
	API_OP_IMAGE_CREATE,
	API_OP_IMAGE_LIST,
	API_OP_IMAGE_REMOVE,
	API_OP_CONTAINER_ATTACH,
	API_OP_CONTAINER_RESIZE,
	API_OP_EXEC_CREATE,
	API_OP_EXEC_START,
	API_OP_EXEC_RESIZE,
	API_OP_EXEC_INSPECT,
	API_OP_DNS_LOOKUP,
	API_OP_DNS_STATS,
	API_OP_NETWORK_PROBE,
	API_OP_IMAGE_INSPECT,
	API_OP_UNSUPPORTED,          /* a Docker endpoint berth does not implement: 501 */
	API_OP_CNI_ADD,
	API_OP_CNI_DEL,
	API_OP_CNI_CHECK,
	API_OP_CNI_GC,
	API_OP_CNI_STATUS,
	API_OP_COUNT
};

/* One query argument as the client sent it (still percent-encoded); value may be NULL. */
struct api_arg {
	const char *key;
	const char *value;
};

/* A request as the HTTP server received it. */
struct api_input {
	const char *method;
	const char *path;          /* without the query string, still percent-encoded */
	const struct api_arg *args;
	size_t n_args;
	const char *body;          /* len bytes and a NUL (NULL when len is 0) */
	size_t len;
};

/* A decoded request: what the handler of op needs, every value checked. */
struct api_request {
	enum api_op op;
	struct http_params params;   /* the "{id}" of the path, decoded */
	cJSON *body;                 /* a JSON object for the ops that take one, else NULL */
	char *name;                  /* ?name= (container create, DNS lookup), may be NULL */
	char *network;               /* ?network= (DNS lookup, CNI status) */
	char *type;                  /* ?type= (DNS lookup) */
	char filter_name[HTTP_PARAM_MAX]; /* ?filters= name filter of a network list, "" if none */
	bool all, force, follow;     /* ?all= (list), ?force= (remove), ?follow= (logs) */
	bool stream, one_shot;       /* ?stream= (stats; true when absent), ?one-shot= (stats) */
	char *events_filters;        /* ?filters= (events), the JSON text, not yet checked */
	int64_t since_ns, until_ns;  /* ?since= ?until= (events): unix seconds[.fraction]; 0: none */
	bool quiet;                  /* ?quiet= (image load) */
	char *repo, *tag;            /* ?repo= ?tag= (image create from a rootfs: import) */
	bool in, out, err, logs;     /* ?stdin= ?stdout= ?stderr= ?logs= (attach) */
	char *detach_keys;           /* ?detachKeys= (attach) */
	long height, width;          /* ?h= ?w= (resize) */
	bool progress;               /* ?progress= (probe): stream progress lines first */
	long timeout;                /* ?t= (stop), seconds; 10 when absent */
	int signal;                  /* ?signal= (kill); SIGKILL when absent */
	/* A version-prefixed path ("/v1.41/..."): a Docker client, which gets Docker's exact
	 * shapes (daemon/api_docker.c); berth's own clients use unversioned paths. */
	bool docker;
	cJSON *filters;              /* ?filters= as {"key": ["value", ...]}, NULL when absent */
	bool size;                   /* ?size= (container list) */
	long limit;                  /* ?limit= (container list), -1: none */
	bool err_stream;             /* ?stderr= (logs; ?stdout= is out, as for attach) */
	bool timestamps;             /* ?timestamps= (logs) */
	long tail;                   /* ?tail= (logs), -1: all */
	bool since, until;           /* ?since= ?until= (logs) given and not 0 */
	bool link, volumes;          /* ?link= ?v= (remove) */
	char condition[16];          /* ?condition= (wait): not-running, next-exit, removed */
	const char *what;            /* API_OP_UNSUPPORTED: what berth does not do */
	/* Set when decoding fails: */
	int status;                  /* 400, 404, 405 or 413 */
	char allow[128];             /* for 405: the methods the path accepts */
};

/* Whether method + path is a route whose body is an upload (an image archive) that the server
 * spools to a file instead of decoding. */
bool api_route_is_upload(const char *method, const char *path);

/* Decodes in into ret (api_request_done() frees it, also after a failure). Returns 0, or -errno
 * with ret->status and a message in err naming the offending part. */
int api_request_decode(const struct api_input *in, struct api_request *ret, struct berr *err);
void api_request_done(struct api_request *r);
