/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the requests dockerd sends to berth's remote network and IPAM driver
 * (plugins/docker/decode.c): path and JSON body, as daemon/plugin_api.c receives them, and the
 * error body that goes back. Invariants: a decoded request holds only checked values (64-hex
 * IDs, addresses of the right family inside their pools, port maps of valid numbers, UTF-8
 * strings); a failure has a message, and its {"Err": ...} reply is valid JSON that reads back.
 *
 * Input: "PATH\nBODY" (the method is POST; a first line starting with "GET " uses GET). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/http_util.h"
#include "plugins/docker/dkp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_utf8(const char *s)
{
	return http_utf8_invalid_at(s, strlen(s)) == strlen(s);
}

static void fuzz_error_reply(const struct berr *err)
{
	_cleanup_free_ char *text = dkp_error_text(berr_str(err));
	cJSON *back = text ? cJSON_Parse(text) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(back, "Err");

	if (!err->msg[0] || !text || !fuzz_utf8(text) || !cJSON_IsString(e) || !e->valuestring[0])
		abort();
	cJSON_Delete(back);
}

static void fuzz_string_map(const cJSON *m)
{
	const cJSON *it;

	if (!cJSON_IsObject(m))
		abort();
	cJSON_ArrayForEach(it, m)
		if (!cJSON_IsString(it) || !fuzz_utf8(it->string) || !fuzz_utf8(it->valuestring))
			abort();
}

static void fuzz_ipdata(const struct dkp_ipdata *d, int n, int family)
{
	for (int i = 0; i < n; i++) {
		if (d[i].pool.addr.family != family)
			abort();
		if (d[i].gateway.family && !cidr_contains(&d[i].pool, &d[i].gateway))
			abort();
		fuzz_string_map(d[i].aux);
	}
}

/* A port map became PortBindings {"<port>/<proto>": [{"HostIp", "HostPort"}]}. */
static void fuzz_bindings(const cJSON *b)
{
	const cJSON *key, *it;

	cJSON_ArrayForEach(key, b) {
		unsigned port = 0;
		char proto[8] = "";

		if (sscanf(key->string, "%u/%7s", &port, proto) != 2 || port == 0 || port > 65535 ||
		    (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp")))
			abort();
		cJSON_ArrayForEach(it, key)
			fuzz_string_map(it);
	}
}

static void fuzz_decoded(const struct dkp_request *r)
{
	if (r->op >= DKP_OP_COUNT || !r->generic)
		abort();
	if ((r->network_id[0] && !id_is_valid(r->network_id)) ||
	    (r->endpoint_id[0] && !id_is_valid(r->endpoint_id)))
		abort();
	fuzz_ipdata(r->v4, r->n_v4, AF_INET);
	fuzz_ipdata(r->v6, r->n_v6, AF_INET6);
	if ((r->addr4.addr.family && r->addr4.addr.family != AF_INET) ||
	    (r->addr6.addr.family && r->addr6.addr.family != AF_INET6))
		abort();
	if (r->subpool.addr.family && !cidr_contains_cidr(&r->pool, &r->subpool))
		abort();
	if (!fuzz_utf8(r->pool_id) || !fuzz_utf8(r->sandbox_key) || !fuzz_utf8(r->space))
		abort();
	fuzz_string_map(r->generic);
	fuzz_bindings(r->bindings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t line_len = nl ? (size_t)(nl - data) : size;
	size_t body_len = nl ? size - line_len - 1 : 0;
	char *line = xmalloc(line_len + 1), *body = xmalloc(body_len + 1);
	const char *method = "POST", *path = line;
	struct berr err = BERR_INIT;
	struct dkp_request r;

	memcpy(line, data, line_len);
	line[line_len] = '\0';
	if (body_len)
		memcpy(body, nl + 1, body_len);
	body[body_len] = '\0';
	if (!strncmp(line, "GET ", 4)) {
		method = "GET";
		path = line + 4;
	}
	if (dkp_request_decode(method, path, body, body_len, &r, &err) < 0)
		fuzz_error_reply(&err);
	else
		fuzz_decoded(&r);
	dkp_request_done(&r);
	free(line);
	free(body);
	return 0;
}
