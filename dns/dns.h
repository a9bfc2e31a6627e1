/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded DNS: the wire format (every read length-checked, compression pointers bounded), a
 * record table scoped by network, resolv.conf parsing, and a server thread that answers on
 * per-container listeners (127.0.0.11:53, UDP and TCP, opened inside each container's netns) and
 * forwards other names upstream from the host namespace. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cidr.h"
#include "common/error.h"

#define DNS_NAME_MAX 255          /* presentation form without the final dot */
#define DNS_HDR_LEN 12
#define DNS_UDP_LEGACY 512
#define DNS_MSG_MAX 65535
#define DNS_MAX_UPSTREAMS 3
#define DNS_MAX_SEARCH 6
#define DNS_LISTEN_ADDR "127.0.0.11"

enum {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
	DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_OPT = 41, DNS_T_ANY = 255,
};
enum { DNS_C_IN = 1, DNS_C_ANY = 255 };
enum {
	DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2, DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5,
};
/* Header flag bits (host order of the 16-bit flags word). */
#define DNS_F_QR 0x8000
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080

/* ---- wire format (dns/wire.c) ---- */

struct dns_query {
	uint16_t id;
	uint16_t flags;
	char name[DNS_NAME_MAX + 1];   /* lower case, no final dot, "" for the root */
	bool odd_name;                 /* a label holds '.', '\\' or a non-printable byte */
	uint16_t qtype, qclass;
	size_t question_end;           /* offset just past the question section */
	bool edns;
	uint16_t edns_size;            /* requestor's UDP payload size (512 without EDNS) */
};

/* One answer record: an address (A/AAAA) or a target name (PTR/CNAME). */
struct dns_rr {
	uint16_t type;
	uint32_t ttl;
	struct ipaddr ip;
	char target[DNS_NAME_MAX + 1];
};

static inline uint16_t dns_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void dns_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* The name at *off (advanced past it in place), with at most 16 compression pointers, each
 * pointing strictly backwards. -EBADMSG when malformed. ret_odd may be NULL. */
int dns_name_read(const uint8_t *msg, size_t len, size_t *off, char ret[DNS_NAME_MAX + 1],
		  bool *ret_odd);
/* "a.b.c" -> wire labels; returns the length or -EINVAL/-ENAMETOOLONG. */
int dns_name_write(const char *name, uint8_t *out, size_t cap);
/* A query: 0; -EBADMSG malformed (answer FORMERR); -EOPNOTSUPP opcode not QUERY (NOTIMP);
 * -EINVAL not even a query header (drop). */
int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *ret);
/* A reply to query msg (whose parse is q) with rcode and answers, at most limit bytes; answers
 * that do not fit set TC. Returns the length or -ENOSPC. */
int dns_reply_build(uint8_t *out, size_t limit, const uint8_t *msg, const struct dns_query *q,
		    int rcode, const struct dns_rr *rrs, size_t n);
/* A header-only error reply (FORMERR, NOTIMP...) to whatever msg holds (>= 12 bytes). */
int dns_error_build(uint8_t *out, size_t cap, const uint8_t *msg, size_t len, int rcode);
/* A recursive query for name/type with id; EDNS when edns_size > 0. Returns length. */
int dns_query_build(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t type,
		    uint16_t edns_size);

struct dns_result {
	int rcode;
	bool tc;
	size_t n;
	struct dns_rr rrs[32];   /* A, AAAA, PTR and CNAME answers; others are skipped */
};
/* Parse a reply's answer section. -EBADMSG when malformed. */
int dns_reply_parse(const uint8_t *msg, size_t len, struct dns_result *ret);

/* Whether reply a answers query q (a parsable query): it is a response, carries q's ID and
 * repeats q's question byte for byte. */
bool dns_reply_matches(const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen);

/* Reverse names: "4.3.2.1.in-addr.arpa" / nibbles ".ip6.arpa". */
void dns_ptr_name(const struct ipaddr *a, char ret[DNS_NAME_MAX + 1]);
bool dns_ptr_parse(const char *name, struct ipaddr *ret);
const char *dns_type_str(uint16_t type);
int dns_type_parse(const char *s);    /* "A", "AAAA", "PTR"...; -EINVAL */
const char *dns_rcode_str(int rcode);

/* ---- resolv.conf (dns/resolv.c) ---- */

struct dns_resolv {
	struct ipaddr servers[DNS_MAX_UPSTREAMS];
	size_t n_servers;
	char search[DNS_MAX_SEARCH][DNS_NAME_MAX + 1];
	size_t n_search;
	char options[256];            /* the "options" words, space separated */
};
void dns_resolv_parse(const char *text, struct dns_resolv *ret);
/* A missing file gives an empty configuration. */
void dns_resolv_load(const char *path, struct dns_resolv *ret);

/* ---- record table (dns/records.c); not thread-safe, the server locks around it ---- */

struct dns_table;
struct dns_table *dns_table_new(void);
void dns_table_free(struct dns_table *t);
/* The records of one endpoint (replacing earlier ones): every name -> every address, and each
 * address -> PTR names[0]. */
void dns_table_ep_set(struct dns_table *t, const char *ep_id, const char *net_id,
		      const char *const *names, size_t n_names, const struct ipaddr *addrs,
		      size_t n_addrs);
void dns_table_ep_del(struct dns_table *t, const char *ep_id);
/* Answers of type for name seen from networks nets (rotated between calls), at most max.
 * Returns their number (0: the name exists with other types), or -ENOENT. */
int dns_table_lookup(struct dns_table *t, const char *name, uint16_t type,
		     const char *const *nets, size_t n_nets, struct dns_rr *rrs, size_t max);
size_t dns_table_count(const struct dns_table *t);

/* ---- server (dns/server.c, dns/tcp.c, dns/forward.c) ---- */

struct dns_stats {
	uint64_t answered;      /* answered from the records */
	uint64_t forwarded;     /* sent upstream */
	uint64_t failed;        /* every upstream timed out or failed: SERVFAIL */
	uint64_t refused;       /* not forwarded: internal network, loop, no upstream */
	uint64_t dropped;       /* malformed, over limits, refused connections */
	uint64_t formerr;       /* answered FORMERR / NOTIMP */
	uint64_t listeners;
	uint64_t tcp_conns;
	uint64_t records;
	uint64_t pending;
};

struct dns_server;
/* Starts the server thread (in the calling thread's namespace: the host's). resolv_path is
 * the host's resolv.conf, re-read when it changes. */
int dns_server_new(const char *resolv_path, struct dns_server **ret, struct berr *err);
void dns_server_free(struct dns_server *s);
/* UDP and TCP sockets bound to 127.0.0.11:53 inside the namespace of netns_fd. */
int dns_listener_open(int netns_fd, int *ret_udp, int *ret_tcp, struct berr *err);
/* A client (container): the server owns the fds from here on, also on failure. */
int dns_server_client_add(struct dns_server *s, const char *id, int udp_fd, int tcp_fd,
			  struct berr *err);
void dns_server_client_del(struct dns_server *s, const char *id);
bool dns_server_client_has(struct dns_server *s, const char *id);
/* What a client sees: names of networks nets; forwarding allowed; its own upstreams (--dns;
 * n_up 0 = the host's); its search domains (a local name queried with one of them appended
 * resolves as the name, as in Docker). */
struct dns_client_view {
	const char *const *nets;
	size_t n_nets;
	bool forward;
	const struct ipaddr *up;
	size_t n_up;
	const char *const *search;
	size_t n_search;
};
void dns_server_client_set(struct dns_server *s, const char *id, const struct dns_client_view *v);
void dns_server_ep_set(struct dns_server *s, const char *ep_id, const char *net_id,
		       const char *const *names, size_t n_names, const struct ipaddr *addrs,
		       size_t n_addrs);
void dns_server_ep_del(struct dns_server *s, const char *ep_id);
/* Addresses never used as upstreams (berth gateways): forwarding there would loop. */
void dns_server_forbid(struct dns_server *s, const struct ipaddr *addrs, size_t n);
/* A lookup as a client on nets would see it (blocking when forwarded). */
int dns_server_resolve(struct dns_server *s, const char *name, uint16_t type,
		       const char *const *nets, size_t n_nets, bool forward,
		       struct dns_result *ret, bool *ret_local, struct berr *err);
void dns_server_stats(struct dns_server *s, struct dns_stats *ret);
