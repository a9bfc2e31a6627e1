/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's remote driver protocol (libnetwork's "remote" NetworkDriver and IpamDriver, plugin
 * protocol v1: JSON over HTTP POST on a unix socket that dockerd finds in /run/docker/plugins).
 * This module decodes and checks the requests dockerd sends, without the HTTP server and without
 * the manager: every value a handler receives has been checked (IDs are 64 lowercase hex,
 * addresses parse, port maps have valid numbers, strings are UTF-8). tests/fuzz/
 * fuzz_docker_plugin.c fuzzes it. daemon/plugin_api.c maps the calls onto the manager. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/cidr.h"
#include "common/error.h"
#include "common/names.h"

#define DKP_BODY_MAX (1024 * 1024)
#define DKP_DATA_MAX 8            /* entries of IPv4Data / IPv6Data (berth's subnets per network) */
#define DKP_POOL_ID_MAX 160
#define DKP_SANDBOX_MAX 256
#define DKP_PORTS_MAX 1024        /* entries of a port map */
#define DKP_CONTENT_TYPE "application/vnd.docker.plugins.v1+json"
/* RequestAddress option naming the gateway request (libnetwork's ipamapi.RequestAddressType). */
#define DKP_ADDR_TYPE "RequestAddressType"
#define DKP_ADDR_GATEWAY "com.docker.network.gateway"

enum dkp_op {
	DKP_ACTIVATE,
	DKP_NET_CAPS,
	DKP_NET_CREATE,
	DKP_NET_DELETE,
	DKP_NET_ALLOCATE,
	DKP_NET_FREE,
	DKP_EP_CREATE,
	DKP_EP_DELETE,
	DKP_EP_INFO,
	DKP_JOIN,
	DKP_LEAVE,
	DKP_EXT_PROGRAM,
	DKP_EXT_REVOKE,
	DKP_DISCOVER_NEW,
	DKP_DISCOVER_DELETE,
	DKP_IPAM_CAPS,
	DKP_IPAM_SPACES,
	DKP_POOL_REQUEST,
	DKP_POOL_RELEASE,
	DKP_ADDR_REQUEST,
	DKP_ADDR_RELEASE,
	DKP_OP_COUNT
};

/* One entry of IPv4Data / IPv6Data of CreateNetwork. */
struct dkp_ipdata {
	struct cidr pool;             /* host bits zero */
	struct ipaddr gateway;        /* family 0: none given */
	cJSON *aux;                   /* AuxAddresses as {"name": "ip"} (prefix lengths dropped) */
};

/* A decoded request: what the call needs, every value checked. */
struct dkp_request {
	enum dkp_op op;
	char network_id[ID_LEN + 1];
	char endpoint_id[ID_LEN + 1];
	/* CreateNetwork */
	struct dkp_ipdata v4[DKP_DATA_MAX], v6[DKP_DATA_MAX];   /* IPv4Data, IPv6Data */
	int n_v4, n_v6;
	bool ipv6, internal;
	cJSON *generic;               /* com.docker.network.generic: object of strings (never NULL) */
	/* CreateEndpoint: Interface (family 0 / "" when dockerd gave none) */
	struct cidr addr4, addr6;
	char mac[18];
	/* CreateEndpoint, Join, ProgramExternalConnectivity: com.docker.network.portmap in Docker's
	 * PortBindings shape {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}; NULL when absent */
	cJSON *bindings;
	/* Join */
	char sandbox_key[DKP_SANDBOX_MAX];
	/* IPAM */
	char pool_id[DKP_POOL_ID_MAX];
	char space[64];               /* AddressSpace */
	struct cidr pool, subpool;    /* RequestPool: family 0 when not given */
	bool pool_v6;                 /* RequestPool V6 */
	struct ipaddr address;        /* RequestAddress (family 0: any), ReleaseAddress */
	bool gateway;                 /* RequestAddress of the gateway */
};

/* Decodes a POST of path (e.g. "/NetworkDriver.Join") with body[0..len) (len bytes and a NUL; an
 * empty body or "null" is a call without arguments). 0, or -errno with a message naming the
 * offending field; -ENOENT for an unknown path, -EOPNOTSUPP for a method other than POST. */
int dkp_request_decode(const char *method, const char *path, const char *body, size_t len,
		       struct dkp_request *ret, struct berr *err);
void dkp_request_done(struct dkp_request *r);
const char *dkp_op_name(enum dkp_op op);

/* The body of an error reply, {"Err": msg} (msg made valid UTF-8); malloc'd. */
char *dkp_error_text(const char *msg);
/* Replies that do not depend on state: Activate, the capabilities, the address spaces. */
cJSON *dkp_reply_static(enum dkp_op op);
