/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for dns/: the query parser, the answer builder (from the table, as the
 * server answers), the reply parser and matcher, reverse names and resolv.conf parsing. Built
 * with -fsanitize=fuzzer it is a fuzzer (`make fuzz`); linked with replay.c (BERTH_FUZZ_REPLAY)
 * it replays files and directories of inputs (`make fuzz-replay`, the seed corpus). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_table *fuzz_table(void)
{
	static struct dns_table *t;
	const char *names[] = { "web", "www", "shared" };
	struct ipaddr a[2];

	if (t)
		return t;
	t = dns_table_new();
	ip_parse("10.0.0.2", &a[0], NULL);
	ip_parse("fd00::2", &a[1], NULL);
	dns_table_ep_set(t, "ep1", "net", names, 3, a, 2);
	ip_parse("10.0.0.3", &a[0], NULL);
	dns_table_ep_set(t, "ep2", "net", names + 2, 1, a, 1);
	return t;
}

static void fuzz_answer(const uint8_t *data, size_t size, const struct dns_query *q)
{
	static uint8_t out[DNS_MSG_MAX];
	const char *nets[] = { "net" };
	struct dns_rr rrs[32];
	struct dns_result res;
	struct ipaddr ip;
	int n, r;

	n = dns_table_lookup(fuzz_table(), q->name, q->qtype, nets, 1, rrs, 32);
	for (size_t limit = 12; limit <= DNS_MSG_MAX; limit = limit * 4 + 1) {
		r = dns_reply_build(out, limit, data, q, n >= 0 ? DNS_R_NOERROR : DNS_R_NXDOMAIN, rrs,
				    n > 0 ? (size_t)n : 0);
		if (r < 0)
			continue;
		if ((size_t)r > limit)
			abort();
		if (dns_reply_parse(out, (size_t)r, &res) < 0)   /* what we build must parse */
			abort();
		if (!dns_reply_matches(data, size, out, (size_t)r))   /* and answer the query */
			abort();
	}
	if (dns_ptr_parse(q->name, &ip)) {
		char back[DNS_NAME_MAX + 1];

		dns_ptr_name(&ip, back);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNS_MSG_MAX];
	struct dns_result res;
	struct dns_query q;
	struct dns_resolv rc;
	char *text;

	if (dns_query_parse(data, size, &q) == 0)
		fuzz_answer(data, size, &q);
	else if (size >= DNS_HDR_LEN)
		dns_error_build(out, sizeof(out), data, size, DNS_R_FORMERR);
	dns_reply_parse(data, size, &res);
	dns_reply_matches(data, size / 2, data + size / 2, size - size / 2);
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	dns_resolv_parse(text, &rc);
	free(text);
	return 0;
}
