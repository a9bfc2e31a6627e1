/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the probe engine (probe/engine.c: the loop; probe/sockets.c: sockets made inside
 * namespaces; probe/packets.c: what is sent and how answers are read). Not a public header. */
#pragma once

#include "probe/probe.h"

/* Every probe packet carries this after its protocol header (host byte order: berthd reads
 * what berthd wrote). */
struct probe_payload {
	uint32_t magic;
	uint32_t token;            /* random per run */
	uint32_t cell;
};
#define PROBE_MAGIC_ICMP 0x42505249u   /* "BPRI" */
#define PROBE_MAGIC_UDP 0x42505255u    /* "BPRU" */

enum esock_kind { SK_ICMP, SK_UDP, SK_DNS, SK_LISTEN, SK_OBSERVE, SK_TCP };

struct esock {                 /* a socket in the engine's epoll */
	int fd;
	uint8_t kind;
	uint8_t family;            /* 4 or 6 */
	uint32_t node;
	uint32_t cell;             /* SK_TCP */
	struct ipaddr addr;        /* SK_LISTEN: bound to */
	uint16_t port;
};

/* What a node's namespace must hold for a run: made by one netns_run job. */
struct sock_req {
	bool icmp[2], udp[2], dns, observe;
	struct esock *listen;      /* addr, port, family set; fd filled (or -errno) */
	size_t n_listen;
	/* filled by the job (fd or -errno) */
	int icmp_fd[2], udp_fd[2], dns_fd, observe_fd;
};

/* Makes the sockets of req inside netns_fd (-1: the calling thread's namespace). A listener
 * whose port is taken gets -EADDRINUSE and the observer is made for it. */
int probe_socks_make(int netns_fd, struct sock_req *req, struct berr *err);
/* n TCP sockets of family (4 or 6) inside netns_fd; bind_any: bound to an ephemeral port
 * first (so the port is known before connect). fds[i] < 0: -errno. */
int probe_tcp_make(int netns_fd, int family, size_t n, bool bind_any, int *fds,
		   struct berr *err);

/* ---- packets ---- */
/* An ICMP (family 4) or ICMPv6 echo request carrying p; returns its length. */
size_t probe_echo_build(int family, uint16_t id, uint16_t seq, const struct probe_payload *p,
			uint8_t *out, size_t cap);
/* An answer read from an ICMP socket: the payload of the echo it is about (reply or error). */
struct icmp_answer {
	bool reply;                /* an echo reply (else an error about our echo) */
	int type, code;
	uint16_t id, seq;
	bool has_payload;
	struct probe_payload p;
	struct ipaddr from;        /* who sent it */
};
/* 0, or -EINVAL when it is not about an echo of ours. from: the sender (family 6: from
 * recvfrom; family 4: read from the IP header in buf). */
int probe_icmp_parse(int family, const uint8_t *buf, size_t len, const struct ipaddr *from,
		     struct icmp_answer *ret);
/* A UDP datagram seen by the observer (a packet socket: IP header first): its destination, port
 * and payload; -EINVAL when it is not a probe datagram. */
int probe_observed_parse(const uint8_t *buf, size_t len, struct ipaddr *ret_dst,
			 uint16_t *ret_dport, struct probe_payload *ret_p);
