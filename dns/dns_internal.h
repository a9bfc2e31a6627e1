/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the dns/ files only. */
#pragma once

#include <sys/socket.h>

#include "dns/dns.h"

#define DNS_TRY_MS 800           /* per upstream over UDP: three of them stay under 2.5 s */
#define DNS_TCP_TRY_MS 2000      /* per upstream over TCP */

void dns_sockaddr(const struct ipaddr *a, uint16_t port, struct sockaddr_storage *ss,
		  socklen_t *ret_len);
/* A random query ID (getrandom). */
int dns_id_random(uint16_t *ret);
/* A non-blocking socket of type (SOCK_DGRAM, SOCK_STREAM) connect()ed to up:53 (for TCP, the
 * connection may still be in progress), in the calling thread's namespace; the kernel binds it
 * to a random ephemeral port. Returns the fd or -errno. */
int dns_upstream_connect(const struct ipaddr *up, int type);
/* Send q to each upstream in turn (UDP, then TCP when truncated; TCP only when tcp) until one
 * answers with something other than SERVFAIL/REFUSED (the last one's answer is relayed as is).
 * Returns the reply length in out, or -errno when none answered. */
int dns_forward_sync(const struct ipaddr *ups, size_t n_up, const uint8_t *q, size_t qlen,
		     bool tcp, uint8_t *out, size_t cap);
