/* SPDX-License-Identifier: Apache-2.0 */
/* berth-cni: a CNI plugin (spec 0.4.0, 1.0.0, 1.1.0) that hands every operation to berthd over
 * its unix socket (docs/CNI.md). config.c decodes and checks what the runtime passes (stdin and
 * the CNI_* environment: untrusted, fuzzed by tests/fuzz/fuzz_cni_config.c); result.c turns
 * berthd's replies into the spec's result of each version; main.c talks to berthd. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/names.h"

#define CNI_STDIN_MAX (1u << 20)
#define CNI_CID_MAX 256
#define CNI_NETNS_MAX 4096
#define CNI_ARGS_MAX 4096
#define CNI_TYPE_MAX 255
#define CNI_SOCKET_MAX 108          /* sun_path */
#define CNI_SOCKET_DEFAULT "/run/berth/berth.sock"
#define CNI_VERSION_LATEST "1.1.0"

/* The spec's well-known error codes, and berth-cni's own (100+). */
enum cni_code {
	CNI_ERR_VERSION = 1,        /* incompatible CNI version */
	CNI_ERR_FIELD = 2,          /* unsupported field in the network configuration */
	CNI_ERR_UNKNOWN = 3,        /* container unknown or does not exist */
	CNI_ERR_ENV = 4,            /* invalid necessary environment variables */
	CNI_ERR_IO = 5,             /* I/O failure */
	CNI_ERR_DECODE = 6,         /* failed to decode content */
	CNI_ERR_CONFIG = 7,         /* invalid network configuration */
	CNI_ERR_AGAIN = 11,         /* try again later */
	CNI_ERR_UNAVAILABLE = 50,   /* STATUS: cannot service ADD */
	CNI_ERR_LIMITED = 51,       /* STATUS: not available, limited connectivity */
	CNI_ERR_CONFLICT = 100,     /* berthd refused: a conflict (address in use, name taken...) */
	CNI_ERR_CHECK = 110,        /* CHECK: the attachment differs from prevResult */
	CNI_ERR_INTERNAL = 999,     /* berthd failed (kernel, store) */
};

struct cni_error {
	int code;
	char msg[256];
	char details[1024];
};

enum cni_cmd { CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK, CNI_CMD_VERSION, CNI_CMD_STATUS,
	       CNI_CMD_GC };

/* The CNI_* environment as the runtime set it (NULL: unset). */
struct cni_env {
	const char *command, *containerid, *netns, *ifname, *args, *path;
};

/* One invocation, every value checked. */
struct cni_call {
	enum cni_cmd cmd;
	char version[8];             /* "0.4.0", "1.0.0" or "1.1.0" ("" for VERSION without one) */
	char name[NAME_LEN];         /* the network configuration's name */
	char network[NAME_LEN];      /* the berth network: "network", else name */
	char socket[CNI_SOCKET_MAX]; /* berthd's socket: "socket", else CNI_SOCKET_DEFAULT */
	char cid[CNI_CID_MAX + 1];
	char ifname[IFNAME_LEN];
	char netns[CNI_NETNS_MAX];
	char pod_name[NAME_LEN];     /* K8S_POD_NAME: the DNS name ("" when absent) */
	char mac[18];                /* requested MAC ("" when none) */
	cJSON *conf;                 /* the whole configuration (owned) */
	const cJSON *prev;           /* its prevResult (NULL when none) */
	const cJSON *valid;          /* GC: cni.dev/valid-attachments (NULL when none) */
	cJSON *ips;                  /* requested addresses, strings (owned, never NULL) */
	cJSON *aliases;              /* DNS aliases on this network (owned, never NULL) */
	cJSON *ports;                /* portMappings (owned, never NULL) */
};

/* config.c */
bool cni_version_supported(const char *v);
/* Decodes the environment and the len bytes of stdin into ret (cni_call_free() it, also after
 * a failure). Returns 0, or -1 with err filled (the spec's code, a message, details). */
int cni_call_decode(const struct cni_env *env, const char *in, size_t len, struct cni_call *ret,
		    struct cni_error *err);
void cni_call_free(struct cni_call *c);
/* Fills err and returns -1. */
int cni_fail(struct cni_error *err, int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* result.c */
/* A result (prevResult or berthd's attachment, see below) in the shape of `version`: 0.4.0
 * carries "version" in each ips entry, 1.0.0 and later do not. Returns a new object, or NULL
 * with err filled when r is not a valid result. */
cJSON *cni_result_convert(const cJSON *r, const char *version, struct cni_error *err);
/* The ADD result: berthd's reply {Interfaces, IPs, Routes, DNS} appended to prev (NULL: none),
 * in the shape of `version`. NULL with err filled when either is malformed. */
cJSON *cni_result_build(const cJSON *reply, const cJSON *prev, const char *version,
			struct cni_error *err);
/* What CHECK expects of interface ifname in netns, from prevResult: {Mac, IPs[], Routes[]} for
 * berthd. NULL with err filled when prevResult does not list that interface. */
cJSON *cni_check_expect(const cJSON *prev, const char *ifname, const char *netns,
			struct cni_error *err);
/* {"cniVersion": version, "supportedVersions": [...]} */
cJSON *cni_version_info(const char *version);
/* The error object of the spec. */
cJSON *cni_error_json(const struct cni_error *err, const char *version);
