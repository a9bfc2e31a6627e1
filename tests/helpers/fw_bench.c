/* SPDX-License-Identifier: Apache-2.0 */
/* Cost of publishing one more port through berth's nft module: rebuild the tables with N
 * published ports, then time (one batch add + commit) of one more port, REPS times; prints
 * p50 and p90 in microseconds. Run it in a private network namespace. Usage: fw_bench N REPS */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"
#include "nft/nft.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void port_elem(struct nft_elem *e, unsigned i)
{
	struct ipaddr to;

	ip_parse("10.99.0.2", &to, NULL);
	to.b[2] = (uint8_t)(i >> 8);
	to.b[3] = (uint8_t)(i & 0xff) | 1;
	nft_elem_port(e, AF_INET, NULL, IPPROTO_TCP, (uint16_t)(10000 + i), &to, 80);
}

static int commit_one(struct nft_conn *c, const struct nft_names *n, unsigned i, bool add,
		      struct berr *err)
{
	struct nft_batch *b = nft_batch_new(n);
	struct nft_elem e;
	int r;

	port_elem(&e, i);
	nft_batch_elem(b, add, &e);
	r = nft_batch_commit(c, b, err);
	nft_batch_free(b);
	return r;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 0, reps = argc > 2 ? (unsigned)atoi(argv[2]) : 100;
	struct berr err = BERR_INIT;
	struct nft_names names;
	struct nft_conn *c;
	struct nft_batch *b;
	struct nft_elem e;
	uint64_t *t = xcalloc(reps, sizeof(*t));

	nft_names_default(&names);
	if (nft_conn_open(&c, &err) < 0)
		return fprintf(stderr, "%s\n", berr_str(&err)), 1;
	b = nft_batch_new(&names);
	nft_batch_rebuild(b);
	for (unsigned i = 0; i < n; i++) {
		port_elem(&e, i);
		nft_batch_elem(b, true, &e);
	}
	if (nft_batch_commit(c, b, &err) < 0)
		return fprintf(stderr, "%s\n", berr_str(&err)), 1;
	nft_batch_free(b);
	for (unsigned r = 0; r < reps; r++) {
		uint64_t t0 = time_mono_ns();

		if (commit_one(c, &names, n + 1, true, &err) < 0)
			return fprintf(stderr, "%s\n", berr_str(&err)), 1;
		t[r] = (time_mono_ns() - t0) / 1000;
		commit_one(c, &names, n + 1, false, &err);
	}
	qsort(t, reps, sizeof(*t), cmp_u64);
	printf("ports=%u p50_us=%llu p90_us=%llu\n", n, (unsigned long long)t[reps / 2],
	       (unsigned long long)t[reps * 9 / 10]);
	nft_conn_close(c);
	free(t);
	return 0;
}
