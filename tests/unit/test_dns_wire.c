/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dns/: the wire format (names, compression, queries, replies, truncation,
 * EDNS), matching replies to queries, reverse names, resolv.conf parsing and the record table's
 * scoping and rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns.h"

#define NET_A "aaaa"
#define NET_B "bbbb"

static int query_make(uint8_t *buf, const char *name, uint16_t type, uint16_t edns)
{
	int n = dns_query_build(buf, 512, 0x1234, name, type, edns);

	assert_true(n > 0);
	return n;
}

static void test_name_roundtrip(void **state)
{
	uint8_t wire[300];
	char out[DNS_NAME_MAX + 1];
	size_t off = 0;
	bool odd = true;
	int n = dns_name_write("Web.Example.", wire, sizeof(wire));

	assert_int_equal(n, 13);
	assert_int_equal(dns_name_read(wire, (size_t)n, &off, out, &odd), 0);
	assert_string_equal(out, "web.example");
	assert_false(odd);
	assert_int_equal(off, 13);
	assert_int_equal(dns_name_write("a..b", wire, sizeof(wire)), -EINVAL);
	char label[70];
	memset(label, 'x', 64);
	label[64] = '\0';
	assert_int_equal(dns_name_write(label, wire, sizeof(wire)), -EINVAL);
}

static void test_name_compression(void **state)
{
	/* "example" at 0, then "www" + pointer to 0 */
	uint8_t msg[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 3, 'w', 'w', 'w', 0xc0, 0 };
	char out[DNS_NAME_MAX + 1];
	size_t off = 9;

	assert_int_equal(dns_name_read(msg, sizeof(msg), &off, out, NULL), 0);
	assert_string_equal(out, "www.example");
	assert_int_equal(off, 15);
}

static void test_name_malformed(void **state)
{
	char out[DNS_NAME_MAX + 1];
	uint8_t self_loop[] = { 0xc0, 0x00 };
	uint8_t forward[] = { 0xc0, 0x02, 0 };
	uint8_t overrun[] = { 5, 'a', 'b' };
	uint8_t ext[] = { 0x40, 0 };
	uint8_t trunc_ptr[] = { 0xc0 };
	uint8_t long_name[330];
	size_t off;

	off = 0;
	assert_int_equal(dns_name_read(self_loop, sizeof(self_loop), &off, out, NULL), -EBADMSG);
	off = 0;
	assert_int_equal(dns_name_read(forward, sizeof(forward), &off, out, NULL), -EBADMSG);
	off = 0;
	assert_int_equal(dns_name_read(overrun, sizeof(overrun), &off, out, NULL), -EBADMSG);
	off = 0;
	assert_int_equal(dns_name_read(ext, sizeof(ext), &off, out, NULL), -EBADMSG);
	off = 0;
	assert_int_equal(dns_name_read(trunc_ptr, sizeof(trunc_ptr), &off, out, NULL), -EBADMSG);
	/* 5 labels of 63 bytes: over 255 on the wire */
	for (int i = 0; i < 5; i++) {
		long_name[i * 64] = 63;
		memset(long_name + i * 64 + 1, 'a', 63);
	}
	long_name[320] = 0;
	off = 0;
	assert_int_equal(dns_name_read(long_name, sizeof(long_name), &off, out, NULL), -EBADMSG);
}

static void test_name_odd(void **state)
{
	uint8_t msg[] = { 3, 'a', '.', 'b', 0 };
	char out[DNS_NAME_MAX + 1];
	size_t off = 0;
	bool odd = false;

	assert_int_equal(dns_name_read(msg, sizeof(msg), &off, out, &odd), 0);
	assert_true(odd);
	assert_string_equal(out, "a?b");
}

static void test_query_parse(void **state)
{
	uint8_t buf[512];
	struct dns_query q;
	int n = query_make(buf, "WEB", DNS_T_AAAA, 0);

	assert_int_equal(dns_query_parse(buf, (size_t)n, &q), 0);
	assert_int_equal(q.id, 0x1234);
	assert_string_equal(q.name, "web");
	assert_int_equal(q.qtype, DNS_T_AAAA);
	assert_int_equal(q.qclass, DNS_C_IN);
	assert_false(q.edns);
	assert_int_equal(q.edns_size, 512);
	n = query_make(buf, "web", DNS_T_A, 1232);
	assert_int_equal(dns_query_parse(buf, (size_t)n, &q), 0);
	assert_true(q.edns);
	assert_int_equal(q.edns_size, 1232);
}

static void test_query_refused_forms(void **state)
{
	uint8_t buf[512];
	struct dns_query q;
	int n = query_make(buf, "web", DNS_T_A, 0);

	assert_int_equal(dns_query_parse(buf, 11, &q), -EINVAL);         /* short header */
	assert_int_equal(dns_query_parse(buf, (size_t)n - 1, &q), -EBADMSG);
	buf[2] |= 0x80;                                                   /* a reply */
	assert_int_equal(dns_query_parse(buf, (size_t)n, &q), -EINVAL);
	buf[2] = 0x28;                                                    /* opcode 5 */
	assert_int_equal(dns_query_parse(buf, (size_t)n, &q), -EOPNOTSUPP);
	buf[2] = 0x01;
	buf[5] = 2;                                                       /* qdcount 2 */
	assert_int_equal(dns_query_parse(buf, (size_t)n, &q), -EBADMSG);
	buf[5] = 1;
	buf[11] = 200;                                                    /* arcount lies */
	assert_int_equal(dns_query_parse(buf, (size_t)n, &q), -EBADMSG);
}

static void test_reply_build_parse(void **state)
{
	uint8_t q[512], a[4096];
	struct dns_query pq;
	struct dns_rr rrs[2] = { { .type = DNS_T_A, .ttl = 600 }, { .type = DNS_T_A, .ttl = 600 } };
	struct dns_result res;
	int n = query_make(q, "Web", DNS_T_A, 0), r;

	ip_parse("10.0.0.2", &rrs[0].ip, NULL);
	ip_parse("10.0.0.3", &rrs[1].ip, NULL);
	assert_int_equal(dns_query_parse(q, (size_t)n, &pq), 0);
	r = dns_reply_build(a, 512, q, &pq, DNS_R_NOERROR, rrs, 2);
	assert_true(r > 0);
	assert_int_equal(dns_get16(a), 0x1234);
	assert_memory_equal(a + 12, q + 12, pq.question_end - 12);   /* question as asked */
	assert_int_equal(dns_reply_parse(a, (size_t)r, &res), 0);
	assert_int_equal(res.rcode, DNS_R_NOERROR);
	assert_false(res.tc);
	assert_int_equal(res.n, 2);
	assert_true(ip_equal(&res.rrs[1].ip, &rrs[1].ip));
	assert_int_equal(res.rrs[0].ttl, 600);
}

/* An upstream's reply counts only with the query's ID, QR set and the question byte for byte. */
static void test_reply_matches(void **state)
{
	uint8_t q[512], a[512], b[512];
	struct dns_query pq;
	int n = query_make(q, "Web.Example", DNS_T_A, 1232), r;

	assert_int_equal(dns_query_parse(q, (size_t)n, &pq), 0);
	r = dns_reply_build(a, sizeof(a), q, &pq, DNS_R_NOERROR, NULL, 0);
	assert_true(r > 0);
	assert_true(dns_reply_matches(q, (size_t)n, a, (size_t)r));
	memcpy(b, a, (size_t)r);
	dns_put16(b, 0x1235);                               /* another ID */
	assert_false(dns_reply_matches(q, (size_t)n, b, (size_t)r));
	memcpy(b, a, (size_t)r);
	dns_put16(b + 2, dns_get16(b + 2) & ~DNS_F_QR);     /* not a response */
	assert_false(dns_reply_matches(q, (size_t)n, b, (size_t)r));
	memcpy(b, a, (size_t)r);
	b[DNS_HDR_LEN + 1] = 'w';                           /* the name's case differs */
	assert_false(dns_reply_matches(q, (size_t)n, b, (size_t)r));
	memcpy(b, a, (size_t)r);
	b[pq.question_end - 1] = 3;                         /* another class */
	assert_false(dns_reply_matches(q, (size_t)n, b, (size_t)r));
	memcpy(b, a, (size_t)r);
	dns_put16(b + 4, 0);                                /* no question */
	assert_false(dns_reply_matches(q, (size_t)n, b, (size_t)r));
	assert_false(dns_reply_matches(q, (size_t)n, a, pq.question_end - 1));   /* cut short */
	assert_false(dns_reply_matches(q, 5, a, (size_t)r));                     /* no query */
	assert_false(dns_reply_matches(a, (size_t)r, a, (size_t)r));             /* a reply as query */
}

static void test_reply_ptr(void **state)
{
	uint8_t q[512], a[4096];
	struct dns_query pq;
	struct dns_rr rr = { .type = DNS_T_PTR, .ttl = 600 };
	struct dns_result res;
	int n = query_make(q, "2.0.0.10.in-addr.arpa", DNS_T_PTR, 0), r;

	strcpy(rr.target, "web");
	assert_int_equal(dns_query_parse(q, (size_t)n, &pq), 0);
	r = dns_reply_build(a, 512, q, &pq, DNS_R_NOERROR, &rr, 1);
	assert_int_equal(dns_reply_parse(a, (size_t)r, &res), 0);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.rrs[0].target, "web");
}

static void test_reply_truncation_and_edns(void **state)
{
	uint8_t q[512], a[8192];
	struct dns_query pq;
	struct dns_rr rrs[40];
	struct dns_result res;
	int n = query_make(q, "many", DNS_T_AAAA, 0), r;

	for (int i = 0; i < 40; i++) {
		memset(&rrs[i], 0, sizeof(rrs[i]));
		rrs[i].type = DNS_T_AAAA;
		ip_parse("fd00::1", &rrs[i].ip, NULL);
		rrs[i].ip.b[15] = (uint8_t)i;
	}
	assert_int_equal(dns_query_parse(q, (size_t)n, &pq), 0);
	r = dns_reply_build(a, pq.edns_size, q, &pq, DNS_R_NOERROR, rrs, 40);
	assert_true(r > 0 && r <= 512);
	assert_int_equal(dns_reply_parse(a, (size_t)r, &res), 0);
	assert_true(res.tc);
	assert_int_equal(res.n, 0);
	n = query_make(q, "many", DNS_T_AAAA, 4096);
	assert_int_equal(dns_query_parse(q, (size_t)n, &pq), 0);
	r = dns_reply_build(a, pq.edns_size, q, &pq, DNS_R_NOERROR, rrs, 40);
	assert_true(r > 512);
	assert_int_equal(dns_get16(a + 10), 1);                         /* OPT echoed */
	assert_int_equal(dns_reply_parse(a, (size_t)r, &res), 0);
	assert_false(res.tc);
	assert_int_equal(res.n, 32);                                     /* result capacity */
}

static void test_error_build(void **state)
{
	uint8_t q[512], a[64];
	int n = query_make(q, "x", DNS_T_A, 0);

	assert_int_equal(dns_error_build(a, sizeof(a), q, (size_t)n, DNS_R_FORMERR), 12);
	assert_int_equal(dns_get16(a), 0x1234);
	assert_int_equal(dns_get16(a + 2) & 0xf, DNS_R_FORMERR);
	assert_true(dns_get16(a + 2) & DNS_F_QR);
	assert_int_equal(dns_error_build(a, 8, q, (size_t)n, DNS_R_FORMERR), -ENOSPC);
}

static void test_ptr_names(void **state)
{
	char name[DNS_NAME_MAX + 1];
	struct ipaddr a, b;

	ip_parse("10.1.2.3", &a, NULL);
	dns_ptr_name(&a, name);
	assert_string_equal(name, "3.2.1.10.in-addr.arpa");
	assert_true(dns_ptr_parse(name, &b));
	assert_true(ip_equal(&a, &b));
	ip_parse("fd00::1", &a, NULL);
	dns_ptr_name(&a, name);
	assert_string_equal(name,
			    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa");
	assert_true(dns_ptr_parse(name, &b));
	assert_true(ip_equal(&a, &b));
	assert_false(dns_ptr_parse("300.1.1.1.in-addr.arpa", &b));
	assert_false(dns_ptr_parse("1.1.1.in-addr.arpa", &b));
	assert_false(dns_ptr_parse("x.ip6.arpa", &b));
}

static void test_resolv_parse(void **state)
{
	struct dns_resolv r;

	dns_resolv_parse("# c\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\n"
			 "nameserver bogus\nnameserver 10.0.0.1\nnameserver 10.0.0.2\n"
			 "nameserver 10.0.0.3\nsearch a.test b.test\noptions edns0 ndots:2\n",
			 &r);
	assert_int_equal(r.n_servers, 3);    /* the libc limit */
	assert_int_equal(r.servers[1].family, AF_INET6);
	assert_int_equal(r.n_search, 2);
	assert_string_equal(r.search[1], "b.test");
	assert_string_equal(r.options, "edns0 ndots:2");
	dns_resolv_parse(NULL, &r);
	assert_int_equal(r.n_servers, 0);
}

static void test_table_scope_rotation(void **state)
{
	struct dns_table *t = dns_table_new();
	const char *n1[] = { "web", "www", "shared" }, *n2[] = { "web2", "shared" };
	const char *only_a[] = { NET_A }, *only_b[] = { NET_B }, *both[] = { NET_A, NET_B };
	struct ipaddr a1[2], a2[1];
	struct dns_rr rrs[8];
	char ptr[DNS_NAME_MAX + 1];

	ip_parse("10.0.0.2", &a1[0], NULL);
	ip_parse("fd00::2", &a1[1], NULL);
	ip_parse("10.0.0.3", &a2[0], NULL);
	dns_table_ep_set(t, "ep1", NET_A, n1, 3, a1, 2);
	dns_table_ep_set(t, "ep2", NET_A, n2, 2, a2, 1);
	assert_int_equal(dns_table_lookup(t, "web", DNS_T_A, only_a, 1, rrs, 8), 1);
	assert_int_equal(dns_table_lookup(t, "web", DNS_T_AAAA, only_a, 1, rrs, 8), 1);
	assert_int_equal(dns_table_lookup(t, "web2", DNS_T_AAAA, only_a, 1, rrs, 8), 0);
	assert_int_equal(dns_table_lookup(t, "web", DNS_T_A, only_b, 1, rrs, 8), -ENOENT);
	assert_int_equal(dns_table_lookup(t, "nope", DNS_T_A, both, 2, rrs, 8), -ENOENT);
	assert_int_equal(dns_table_lookup(t, "shared", DNS_T_A, only_a, 1, rrs, 8), 2);
	struct ipaddr first = rrs[0].ip;
	assert_int_equal(dns_table_lookup(t, "shared", DNS_T_A, only_a, 1, rrs, 8), 2);
	assert_false(ip_equal(&first, &rrs[0].ip));               /* rotated */
	dns_ptr_name(&a1[1], ptr);
	assert_int_equal(dns_table_lookup(t, ptr, DNS_T_PTR, only_a, 1, rrs, 8), 1);
	assert_string_equal(rrs[0].target, "web");
	dns_table_ep_del(t, "ep1");
	assert_int_equal(dns_table_lookup(t, "web", DNS_T_A, only_a, 1, rrs, 8), -ENOENT);
	assert_int_equal(dns_table_lookup(t, "shared", DNS_T_A, only_a, 1, rrs, 8), 1);
	assert_int_equal(dns_table_count(t), 3);   /* web2, shared and web2's PTR */
	dns_table_free(t);
}

/* Many endpoints sharing a name (one long chain): removing some, from anywhere in the chains,
 * leaves exactly the others' records. */
static void test_table_many_endpoints(void **state)
{
	struct dns_table *t = dns_table_new();
	const char *only_a[] = { NET_A };
	struct dns_rr rrs[8];
	enum { N = 300 };

	for (int i = 0; i < N; i++) {
		char id[16], own[16];
		const char *names[] = { "svc", own };
		struct ipaddr a;

		snprintf(id, sizeof(id), "ep%d", i);
		snprintf(own, sizeof(own), "c%d", i);
		a.family = AF_INET;
		memset(a.b, 0, sizeof(a.b));
		a.b[0] = 10, a.b[2] = (uint8_t)(i >> 8), a.b[3] = (uint8_t)i;
		dns_table_ep_set(t, id, NET_A, names, 2, &a, 1);
	}
	assert_int_equal(dns_table_count(t), 3 * N);   /* svc, c<i> and the PTR */
	for (int i = 0; i < N; i += 2) {
		char id[16];

		snprintf(id, sizeof(id), "ep%d", i);
		dns_table_ep_del(t, id);
		dns_table_ep_del(t, id);   /* twice: nothing left to remove */
	}
	assert_int_equal(dns_table_count(t), 3 * (N / 2));
	assert_int_equal(dns_table_lookup(t, "c0", DNS_T_A, only_a, 1, rrs, 8), -ENOENT);
	assert_int_equal(dns_table_lookup(t, "c298", DNS_T_A, only_a, 1, rrs, 8), -ENOENT);
	assert_int_equal(dns_table_lookup(t, "c1", DNS_T_A, only_a, 1, rrs, 8), 1);
	assert_int_equal(dns_table_lookup(t, "c299", DNS_T_A, only_a, 1, rrs, 8), 1);
	assert_int_equal(dns_table_lookup(t, "svc", DNS_T_A, only_a, 1, rrs, 8), 8);
	for (int i = 1; i < N; i += 2) {
		char id[16];

		snprintf(id, sizeof(id), "ep%d", i);
		dns_table_ep_del(t, id);
	}
	assert_int_equal(dns_table_count(t), 0);
	assert_int_equal(dns_table_lookup(t, "svc", DNS_T_A, only_a, 1, rrs, 8), -ENOENT);
	dns_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_roundtrip),
		cmocka_unit_test(test_name_compression),
		cmocka_unit_test(test_name_malformed),
		cmocka_unit_test(test_name_odd),
		cmocka_unit_test(test_query_parse),
		cmocka_unit_test(test_query_refused_forms),
		cmocka_unit_test(test_reply_build_parse),
		cmocka_unit_test(test_reply_matches),
		cmocka_unit_test(test_reply_ptr),
		cmocka_unit_test(test_reply_truncation_and_edns),
		cmocka_unit_test(test_error_build),
		cmocka_unit_test(test_ptr_names),
		cmocka_unit_test(test_resolv_parse),
		cmocka_unit_test(test_table_scope_rotation),
		cmocka_unit_test(test_table_many_endpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
