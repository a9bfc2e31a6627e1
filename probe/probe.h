/* SPDX-License-Identifier: Apache-2.0 */
/* Network isolation testing (`berth network probe`): which container reaches which, by ICMP, TCP,
 * UDP and name (the embedded DNS), IPv4 and IPv6 apart, compared with what a policy expects.
 *
 * The manager copies what a probe needs into a probe_world under its lock (networks, containers
 * with their namespaces, addresses and published ports) and lets go of it; everything here works
 * on that copy. probe_ports_discover() reads each target's listening sockets (inside its
 * namespace), probe_cells_build() lists the cells (source, target address, protocol, port,
 * family), probe_run() probes them all at once from inside the sources' namespaces (sockets are
 * made there by netns_run and driven from the calling thread), and the policy (probe/policy.c)
 * says what each cell should be. Nothing is installed in, or changed of, the containers. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/cidr.h"
#include "common/error.h"
#include "common/names.h"

enum probe_proto { PROBE_ICMP, PROBE_TCP, PROBE_UDP, PROBE_DNS, PROBE_PROTOS };
#define PROBE_PROTOS_ALL ((1u << PROBE_PROTOS) - 1)
#define PROBE_V4 1u
#define PROBE_V6 2u
/* The port probed on a target that listens on no port of the protocol: TCP gets its kernel's
 * answer (a reset: reached), UDP a listener berth binds there for the probe's duration. */
#define PROBE_PORT_DEFAULT 33434
#define PROBE_PORTS_MAX 64
#define PROBE_TIMEOUT_MS 10000
#define PROBE_WAIT_MS 500           /* for an answer, per try; two tries before "blocked" */
#define PROBE_HOST_NAME "host"

const char *probe_proto_name(int proto);
/* "icmp", "tcp", "udp", "dns": the protocol, or -EINVAL. */
int probe_proto_parse(const char *s);

/* ---- the world a probe sees ---- */

struct probe_net {
	char name[NAME_LEN];
	char driver[32];
	char bridge[IFNAME_LEN];   /* the bridge interface ("" for other drivers) */
	bool internal;
	bool icc;                  /* inter-container communication on */
	bool names;                /* container names resolve in the embedded DNS */
};

struct probe_ep {              /* one attachment of a container: a target */
	uint32_t net;              /* index in world.nets */
	struct ipaddr ip4, ip6;    /* family 0: none */
	char host_ifname[IFNAME_LEN];
};

struct probe_pub {             /* a published port */
	uint8_t proto;             /* PROBE_TCP or PROBE_UDP */
	struct ipaddr host;        /* where the host reaches it (its family is the cell's) */
	uint16_t host_port, ctr_port;
	struct ipaddr target;      /* the container address it goes to */
};

struct probe_listen {          /* a socket a target listens on */
	uint8_t proto;             /* PROBE_TCP or PROBE_UDP */
	struct ipaddr addr;        /* all-zero address: any */
	uint16_t port;
};

struct probe_node {            /* a container, or the host (netns NULL) */
	char name[NAME_LEN];
	char id[ID_LEN + 1];
	char *netns;               /* path of its network namespace; NULL: berthd's own (the host) */
	char **labels;             /* "key=value" */
	size_t n_labels;
	struct probe_ep *eps;
	size_t n_eps;
	struct probe_pub *pubs;
	size_t n_pubs;
	struct probe_listen *listen;   /* filled by probe_ports_discover() */
	size_t n_listen;
};

struct probe_world {
	struct probe_net *nets;
	size_t n_nets;
	struct probe_node *nodes;
	size_t n_nodes;
};

void probe_world_free(struct probe_world *w);
/* Index of the node named name (or whose ID starts with it), or -1. */
int probe_world_node(const struct probe_world *w, const char *name);
int probe_world_net(const struct probe_world *w, const char *name);
/* The address of endpoint ep of the given family (4 or 6), or NULL. */
const struct ipaddr *probe_ep_addr(const struct probe_ep *ep, int family);
/* The node has an endpoint on network net. */
bool probe_node_on(const struct probe_node *n, uint32_t net);

/* ---- cells ---- */

enum probe_verdict { PROBE_NOT_RUN, PROBE_REACH, PROBE_BLOCKED, PROBE_ERROR };

enum probe_why {
	PW_NONE,
	PW_ECHO_REPLY,      /* reach: ICMP echo reply */
	PW_CONNECTED,       /* reach: TCP connection established */
	PW_REFUSED,         /* reach: the target's kernel refused (port closed) */
	PW_ECHOED,          /* reach: berth's probe listener echoed the datagram */
	PW_ANSWERED,        /* reach: the target's own UDP listener answered */
	PW_ARRIVED,         /* reach: the datagram arrived at the target's listening port */
	PW_RESOLVED,        /* reach: the name resolved to the address */
	PW_TIMEOUT,         /* blocked: no answer (dropped on the way) */
	PW_NO_ROUTE,        /* blocked: the source has no route (code: errno) */
	PW_UNREACHABLE,     /* blocked: ICMP error (code: type << 8 | code) from `from` */
	PW_NOT_RESOLVED,    /* blocked: the name did not resolve (code: DNS rcode) */
	PW_OTHER_ADDRESS,   /* blocked: the name resolved, not to this address */
	PW_FAILED,          /* blocked: the connection failed (code: errno) */
	PW_SOCKET,          /* error: a socket could not be made (code: errno) */
	PW_SEND,            /* error: sending failed (code: errno) */
	PW_LISTEN,          /* error: no probe listener could be bound (code: errno) */
	PW_TIME_LIMIT,      /* error: the time limit ended before an answer could be told */
	PW_NO_DNS,          /* error: no embedded DNS listener in the source */
	PW_CANCELLED,       /* error: the probe was cancelled */
};

struct probe_cell {
	uint32_t src, dst;         /* nodes */
	int32_t ep;                /* dst's endpoint; -1: a published port of dst (pub) */
	int32_t pub;
	uint8_t proto;             /* enum probe_proto */
	uint8_t family;            /* 4 or 6 */
	uint16_t port;             /* TCP/UDP port probed (a published port: the host's) */
	struct ipaddr addr;        /* the address probed */
	uint16_t tport;            /* the port at the target (a published port: the container's) */
	struct ipaddr taddr;       /* the address at the target */
	bool real_listener;        /* UDP: the target listens there itself */
	/* the result */
	uint8_t verdict;           /* enum probe_verdict */
	uint8_t why;               /* enum probe_why */
	int32_t code;
	struct ipaddr from;
	uint32_t rtt_us;
	/* against a policy */
	uint8_t expect;            /* PROBE_REACH or PROBE_BLOCKED; PROBE_NOT_RUN: no policy */
	int32_t rule;              /* index of the policy rule that decided, -1: the default */
};

struct probe_opts {
	unsigned protos;           /* 1 << enum probe_proto; 0: all */
	unsigned families;         /* PROBE_V4 | PROBE_V6; 0: both */
	uint16_t ports[PROBE_PORTS_MAX];   /* TCP/UDP ports; none: each target's own */
	size_t n_ports;
	int timeout_ms;            /* the whole probe; 0: PROBE_TIMEOUT_MS */
	uint64_t start_ns;         /* when the probe began (the time limit counts from it); 0: now */
	int wait_ms;               /* per try; 0: PROBE_WAIT_MS */
};

/* The cells of a world: every ordered pair of containers (source != target), each address of
 * the target of each family, each protocol, each port (the options' or the ports the target
 * listens on, PROBE_PORT_DEFAULT when none); the host (a node with netns NULL) only probes
 * published ports. *ret malloc'd. */
int probe_cells_build(const struct probe_world *w, const struct probe_opts *o,
		      struct probe_cell **ret, size_t *ret_n, struct berr *err);
/* "reach", "blocked", "error", "not run". */
const char *probe_verdict_name(int v);
/* Why, in words ("echo reply", "no answer within 500 ms", ...). */
void probe_cell_reason(const struct probe_cell *c, char *buf, size_t size);
/* "a -> b@net tcp/80 IPv4" */
void probe_cell_name(const struct probe_world *w, const struct probe_cell *c, char *buf,
		     size_t size);

/* ---- probing ---- */

/* Reads the listening TCP and UDP sockets of every container (inside its namespace). */
int probe_ports_discover(struct probe_world *w, struct berr *err);

/* The packets of one cell, for a trace rule (explain). */
struct probe_flow {
	struct ipaddr daddr;
	uint8_t ipproto;           /* IPPROTO_* */
	uint16_t sport, dport, icmp_id;
};

struct probe_ctl {
	/* every ~100 ms while it runs: cells done so far */
	void (*progress)(void *ud, size_t done, size_t total);
	/* explain: called once the cell's socket exists, before its first packet; a failure
	 * (< 0) ends the run */
	int (*flow_ready)(void *ud, const struct probe_flow *f, struct berr *err);
	void *ud;
	const atomic_bool *cancel;  /* may be NULL */
	bool single_try;            /* explain: one packet */
};

/* Probes every cell; fills their verdicts. The run is bounded by o->timeout_ms and by the
 * descriptor limit (TCP connections are made in windows). Returns -errno only when nothing
 * could be probed; a cell that could not be is an error cell. */
int probe_run(const struct probe_world *w, struct probe_cell *cells, size_t n,
	      const struct probe_opts *o, const struct probe_ctl *ctl, struct berr *err);

/* ---- policy (probe/policy.c) ---- */

struct probe_policy;
/* A policy file's text, YAML (through libyaml) or JSON. */
int probe_policy_parse(const char *text, size_t len, struct probe_policy **ret,
		       struct berr *err);
int probe_policy_from_json(const cJSON *j, struct probe_policy **ret, struct berr *err);
void probe_policy_free(struct probe_policy *p);
size_t probe_policy_rules(const struct probe_policy *p);
/* What the cell should see: PROBE_REACH or PROBE_BLOCKED; *ret_rule: the first matching rule
 * or -1 for the default (p NULL: the networks' own semantics); *ret_why (may be NULL): why, in
 * words. */
int probe_policy_expect(const struct probe_policy *p, const struct probe_world *w,
			const struct probe_cell *c, int *ret_rule, const char **ret_why);
/* The networks' own semantics, with the reason in words. */
int probe_default_expect(const struct probe_world *w, const struct probe_cell *c,
			 const char **ret_why);
/* The policy berth's configuration implies, as a YAML file (malloc'd). */
char *probe_policy_implied(const struct probe_world *w);

/* YAML (libyaml) to JSON: mappings, sequences, scalars (plain ones that read as integers or
 * booleans become numbers and booleans). No aliases; at most 64 levels. */
int probe_yaml_to_json(const char *text, size_t len, cJSON **ret, struct berr *err);
