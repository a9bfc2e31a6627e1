/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for common/portspec.c: the -p grammar and the PortBindings pieces (key,
 * HostPort, HostIp). What a parsed spec turns into (Docker's bindings) must parse back.
 *
 * Input: one string, tried as a whole spec and as each piece. */
#include <stdlib.h>
#include <string.h>

#include "common/portspec.h"
#include "common/util.h"

#define FUZZ_BINDINGS_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every binding portspec_to_bindings() wrote parses with the daemon's parsers. */
static void fuzz_bindings_check(const cJSON *bindings)
{
	const cJSON *key, *b;
	struct ipaddr ip;
	uint16_t port, lo, hi;
	uint8_t proto;

	cJSON_ArrayForEach(key, bindings) {
		if (portspec_key_parse(key->string, &port, &proto, NULL) < 0)
			abort();
		cJSON_ArrayForEach(b, key) {
			const cJSON *hip = cJSON_GetObjectItem(b, "HostIp");
			const cJSON *hp = cJSON_GetObjectItem(b, "HostPort");

			if (!cJSON_IsString(hip) || !cJSON_IsString(hp) ||
			    portspec_hostip_parse(hip->valuestring, &ip, NULL) < 0 ||
			    portspec_hostport_parse(hp->valuestring, &lo, &hi, NULL) < 0)
				abort();
		}
	}
}

static void fuzz_spec(const char *s)
{
	struct portspec p;
	cJSON *bindings, *exposed;

	if (portspec_parse(s, &p, NULL) < 0)
		return;
	if (!p.ctr_lo || p.ctr_lo > p.ctr_hi || p.host_lo > p.host_hi ||
	    !portspec_proto_name(p.proto) || ip_is_v4_mapped(&p.host_ip))
		abort();
	if (p.ctr_hi - p.ctr_lo >= FUZZ_BINDINGS_MAX)
		return;
	bindings = cJSON_CreateObject();
	exposed = cJSON_CreateObject();
	portspec_to_bindings(&p, bindings, exposed);
	if (cJSON_GetArraySize(exposed) != p.ctr_hi - p.ctr_lo + 1)
		abort();
	fuzz_bindings_check(bindings);
	cJSON_Delete(bindings);
	cJSON_Delete(exposed);
}

static void fuzz_pieces(const char *s)
{
	struct ipaddr ip;
	uint16_t port, lo, hi;
	uint8_t proto;

	if (portspec_key_parse(s, &port, &proto, NULL) == 0 && (!port || !portspec_proto_name(proto)))
		abort();
	if (portspec_hostport_parse(s, &lo, &hi, NULL) == 0 && (lo > hi || (!lo && hi)))
		abort();
	if (portspec_hostip_parse(s, &ip, NULL) == 0 && ip_is_v4_mapped(&ip))
		abort();
	if (portspec_proto_parse(s, &proto) == 0 && strcmp(portspec_proto_name(proto), s) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_spec(s);
	fuzz_pieces(s);
	return 0;
}
