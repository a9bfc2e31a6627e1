/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's port publishing grammar, shared by the CLI (-p) and the daemon (HostConfig.PortBindings):
 *   [HOSTIP:][HOSTPORT[-END]:]CTRPORT[-END][/tcp|udp|sctp]
 * IPv6 host addresses are written in brackets: [::1]:8080:80. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/cidr.h"
#include "common/error.h"

struct portspec {
	struct ipaddr host_ip;      /* family 0 = every host address */
	uint16_t host_lo, host_hi;  /* 0 = an ephemeral port; lo < hi = any free port of the range
				     * (one container port) or one per container port (a range) */
	uint16_t ctr_lo, ctr_hi;
	uint8_t proto;              /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
};

int portspec_parse(const char *spec, struct portspec *ret, struct berr *err);

/* "tcp" / "udp" / "sctp" <-> IPPROTO_*; NULL / -EINVAL for anything else. */
const char *portspec_proto_name(uint8_t proto);
int portspec_proto_parse(const char *s, uint8_t *ret);

/* A PortBindings key: "80", "80/tcp", "53/udp". */
int portspec_key_parse(const char *key, uint16_t *ret_port, uint8_t *ret_proto, struct berr *err);
/* A HostPort value: "" (ephemeral: 0,0), "8080", "8000-8010". */
int portspec_hostport_parse(const char *s, uint16_t *ret_lo, uint16_t *ret_hi, struct berr *err);
/* A HostIp value: "" / "0.0.0.0" / "::" mean every address (family 0 with *ret_any_v4/v6). */
int portspec_hostip_parse(const char *s, struct ipaddr *ret, struct berr *err);

/* Adds the spec to Docker's shapes: bindings {"80/tcp": [{"HostIp", "HostPort"}]} and
 * exposed {"80/tcp": {}} (either may be NULL). */
void portspec_to_bindings(const struct portspec *p, cJSON *bindings, cJSON *exposed);
/* One binding {"HostIp": ip, "HostPort": host_port} appended under key ("80/tcp") of bindings
 * (may be NULL), and key added to exposed (may be NULL). */
void portspec_binding_add(cJSON *bindings, cJSON *exposed, const char *key, const char *ip,
			  const char *host_port);
