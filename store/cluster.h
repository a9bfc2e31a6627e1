/* SPDX-License-Identifier: Apache-2.0 */
/* The layout of berth's cluster state in etcd: keys and records, pure logic (no I/O).
 *
 * Everything lives under one prefix P (default "/berth", or the path of --cluster-store):
 *   P/hosts/<host>                 {"Name","Vtep","Port"}            under the host's lease
 *   P/networks/<net-id>            the network (JSON, see cl_net_encode), no lease
 *   P/names/<name>                 <net-id>: a name is unique in the cluster
 *   P/vni/<vni>                    <net-id>: a VNI is unique in the cluster
 *   P/netlock                      <net-id> of the last network created or removed; creations
 *                                  and removals compare its mod_revision, so they serialise
 *   P/netuse/<net-id>              <ep-id> of the network's last endpoint created: a removal
 *                                  that found no endpoint commits only if it is unchanged
 *   P/ipam/<net-id>/<address>      {"Endpoint","Host"}               under the owner's lease
 *   P/endpoints/<net-id>/<ep-id>   {"Id","Network","Host","ContainerId","Container","Aliases",
 *                                   "Mac","IPv4","IPv6"}             under the owner's lease
 * Decoders check everything they can see on their own (the key's IDs against the record's,
 * names, addresses inside the network's subnets, a unicast MAC) and refuse the rest with a
 * message; cross-record checks (a record's lease is its host's, an address's ipam key names the
 * endpoint) are the caller's. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/cidr.h"
#include "common/error.h"
#include "common/names.h"
#include "store/store.h"

#define CL_PREFIX_DEFAULT "/berth"
#define CL_HOST_MAX 64          /* host names: 1..63 characters, NUL included here */
#define CL_VNI_MIN 4096         /* first VNI handed out (Docker's overlay starts at 4096 too) */
#define CL_VNI_MAX 16777215
#define CL_OPT_VNI "com.docker.network.driver.overlay.vxlanid_list"

enum cl_kind {
	CL_KEY_UNKNOWN,
	CL_KEY_HOST,
	CL_KEY_NETWORK,
	CL_KEY_NAME,
	CL_KEY_VNI,
	CL_KEY_NETLOCK,
	CL_KEY_IPAM,
	CL_KEY_ENDPOINT,
	CL_KEY_NETUSE,     /* P/netuse/<net-id>: touched by every endpoint creation (see below) */
};

struct cl_key {
	enum cl_kind kind;
	char host[CL_HOST_MAX];        /* HOST */
	char net_id[ID_LEN + 1];       /* NETWORK, IPAM, ENDPOINT */
	char ep_id[ID_LEN + 1];        /* ENDPOINT */
	char name[NAME_LEN];           /* NAME */
	struct ipaddr addr;            /* IPAM */
	uint32_t vni;                  /* VNI */
};

/* [A-Za-z0-9][A-Za-z0-9_.-]*, 1..63 characters. */
int cl_host_name_validate(const char *name, struct berr *err);

/* The kind and the parts of a key under prefix; CL_KEY_UNKNOWN (returned 0) for keys of other
 * shapes under the prefix, -EINVAL with a message for a key of a known kind whose parts are not
 * valid (an ID that is not 64 hex digits, an address that does not parse...). */
int cl_key_parse(const char *prefix, const char *key, struct cl_key *ret, struct berr *err);
/* The key of k (malloc'd). */
char *cl_key_fmt(const char *prefix, const struct cl_key *k);
/* Directory keys for ranges and watches: "P/", "P/endpoints/<net-id>/", "P/ipam/<net-id>/". */
char *cl_key_dir(const char *prefix, enum cl_kind kind, const char *net_id);

struct cl_host {
	char name[CL_HOST_MAX];
	struct ipaddr vtep;
	uint16_t port;
};

char *cl_host_encode(const struct cl_host *h);
/* key_host: the name in the key, which the record must repeat. */
int cl_host_decode(const char *key_host, const char *text, struct cl_host *ret, struct berr *err);

/* A network record: the overlay network's definition (no kernel names; options with the VNI
 * under CL_OPT_VNI once decoded). encode leaves out ifname, foreign marks and the options' VNI. */
char *cl_net_encode(const struct bnetwork *n, uint32_t vni);
/* Fills *ret (bnetwork_free-able contents: release with cl_net_clear) after checking: the ID is
 * the key's, a valid name, driver "overlay", a VNI in range, subnets that are real subnets
 * (IPv6 only with IPv6 on), gateways and ranges inside them, no two overlapping. */
int cl_net_decode(const char *key_id, const char *text, struct bnetwork *ret, uint32_t *ret_vni,
		  struct berr *err);
void cl_net_clear(struct bnetwork *n);
/* First pair of overlapping subnets of a and b: 1 with their indexes, 0 when none. */
int cl_net_overlap(const struct bnetwork *a, const struct bnetwork *b, int *ret_a, int *ret_b);

struct cl_ep {
	char id[ID_LEN + 1];
	char net_id[ID_LEN + 1];
	char host[CL_HOST_MAX];
	char ctr_id[ID_LEN + 1];
	char ctr_name[NAME_LEN];
	cJSON *aliases;                /* array of strings, owned */
	uint8_t mac[6];
	struct ipaddr ip4, ip6;        /* family 0: none */
};

char *cl_ep_encode(const struct cl_ep *e);
/* k: the parsed key (ids the record must repeat). net (optional): its addresses must be usable
 * addresses of net's subnets of their family, not a gateway. */
int cl_ep_decode(const struct cl_key *k, const char *text, const struct bnetwork *net,
		 struct cl_ep *ret, struct berr *err);
void cl_ep_clear(struct cl_ep *e);
/* The checks of cl_ep_decode() that need the network (addresses). */
int cl_ep_check_net(const struct cl_ep *e, const struct bnetwork *net, struct berr *err);
/* An address an ipam key may hold in net: an endpoint address of one of its subnets. */
int cl_ipam_check_net(const struct ipaddr *a, const struct bnetwork *net, struct berr *err);

struct cl_ipam {
	char ep_id[ID_LEN + 1];
	char host[CL_HOST_MAX];
};

char *cl_ipam_encode(const struct cl_ipam *a);
int cl_ipam_decode(const char *text, struct cl_ipam *ret, struct berr *err);

/* Decimal VNI "4097" -> 4097 (1..CL_VNI_MAX); -EINVAL otherwise. */
int cl_vni_parse(const char *s, uint32_t *ret, struct berr *err);
