/* SPDX-License-Identifier: Apache-2.0 */
/* The nft batch builder without a kernel: build a batch, parse every message back with
 * libnftnl, compare with what was meant. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/util.h"
#include "nft/nft.h"

struct seen {
	size_t tables_new, tables_del, sets, chains, rules, elems;
	struct nftnl_set *last_elems;   /* the last NEWSETELEM/DELSETELEM, parsed */
	int last_elem_type;
	uint32_t seq_prev;
	bool seq_ok;
};

static void seen_msg(struct seen *s, const struct nlmsghdr *nlh)
{
	int type = nlh->nlmsg_type & 0xff;

	if (nlh->nlmsg_seq <= s->seq_prev)
		s->seq_ok = false;
	s->seq_prev = nlh->nlmsg_seq;
	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
		return;
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);   /* every message is acknowledged */
	switch (type) {
	case NFT_MSG_NEWTABLE: s->tables_new++; break;
	case NFT_MSG_DELTABLE: s->tables_del++; break;
	case NFT_MSG_NEWSET: s->sets++; break;
	case NFT_MSG_NEWCHAIN: s->chains++; break;
	case NFT_MSG_NEWRULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();

		assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
		assert_non_null(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
		nftnl_rule_free(r);
		s->rules++;
		break;
	}
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		if (s->last_elems)
			nftnl_set_free(s->last_elems);
		s->last_elems = nftnl_set_alloc();
		assert_int_equal(nftnl_set_elems_nlmsg_parse(nlh, s->last_elems), 0);
		s->last_elem_type = type;
		s->elems++;
		break;
	}
}

static struct seen walk(struct nft_batch *b)
{
	struct seen s = { .seq_ok = true };
	size_t len;
	const struct nlmsghdr *nlh = nft_batch_data(b, &len);
	int left = (int)len, n = 0;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left), n++) {
		if (n == 0)
			assert_int_equal(nlh->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
		seen_msg(&s, nlh);
	}
	assert_int_equal(left, 0);
	return s;
}

static void test_rebuild(void **state)
{
	struct nft_names names = { "t1", "t2" };
	struct nft_batch *b = nft_batch_new(&names);
	struct seen s;

	nft_batch_rebuild(b);
	s = walk(b);
	/* add+delete of both tables (idempotent delete), then both created: one transaction */
	assert_int_equal(s.tables_new, 4);
	assert_int_equal(s.tables_del, 2);
	assert_int_equal(s.sets, NFT_SET_COUNT);
	assert_int_equal(s.chains, 12);
	assert_true(s.rules > 30);
	assert_true(s.seq_ok);
	assert_int_equal(nft_batch_count(b), s.tables_new + s.tables_del + s.sets + s.chains + s.rules);
	nft_batch_free(b);
}

static const void *elem_key(struct nftnl_set *s, uint32_t *len)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it);
	const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, len);

	nftnl_set_elems_iter_destroy(it);
	return k;
}

static void test_port_elem(void **state)
{
	struct nft_names names = { "t1", "t2" };
	struct nft_batch *b = nft_batch_new(&names);
	struct ipaddr host, to;
	struct nft_elem e;
	struct seen s;
	uint32_t len, dlen;
	const uint8_t *k, *d;
	struct nftnl_set_elems_iter *it;

	ip_parse("192.0.2.1", &host, NULL);
	ip_parse("10.0.0.2", &to, NULL);
	nft_elem_port(&e, AF_INET, &host, IPPROTO_UDP, 5353, &to, 53);
	assert_non_null(strstr(e.label, "192.0.2.1:5353/udp -> 10.0.0.2:53"));
	nft_batch_elem(b, true, &e);
	s = walk(b);
	assert_int_equal(s.elems, 1);
	assert_int_equal(s.last_elem_type, NFT_MSG_NEWSETELEM);
	assert_string_equal(nftnl_set_get_str(s.last_elems, NFTNL_SET_NAME), "pub4");
	assert_string_equal(nftnl_set_get_str(s.last_elems, NFTNL_SET_TABLE), "t1");
	k = elem_key(s.last_elems, &len);
	assert_int_equal(len, 12);
	assert_memory_equal(k, host.b, 4);
	assert_int_equal(k[4], IPPROTO_UDP);
	assert_int_equal(k[8] << 8 | k[9], 5353);
	it = nftnl_set_elems_iter_create(s.last_elems);
	d = nftnl_set_elem_get(nftnl_set_elems_iter_next(it), NFTNL_SET_ELEM_DATA, &dlen);
	assert_int_equal(dlen, 8);
	assert_memory_equal(d, to.b, 4);
	assert_int_equal(d[4] << 8 | d[5], 53);
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s.last_elems);
	nft_batch_free(b);
}

static void test_bridge_elems(void **state)
{
	struct nft_names names = { "t1", "t2" };
	struct nft_batch *b = nft_batch_new(&names);
	uint8_t mac[6] = { 2, 0x42, 0, 0, 0, 9 };
	struct ipaddr ip;
	struct nft_elem e;
	struct seen s;
	uint32_t len;
	const uint8_t *k;

	nft_elem_ifname_mac(&e, "bv123", mac);
	nft_batch_elem(b, false, &e);
	s = walk(b);
	assert_int_equal(s.last_elem_type, NFT_MSG_DELSETELEM);
	assert_string_equal(nftnl_set_get_str(s.last_elems, NFTNL_SET_TABLE), "t2");
	assert_string_equal(nftnl_set_get_str(s.last_elems, NFTNL_SET_NAME), "mac");
	k = elem_key(s.last_elems, &len);
	assert_int_equal(len, 24);
	assert_string_equal((const char *)k, "bv123");
	assert_memory_equal(k + 16, mac, 6);
	nftnl_set_free(s.last_elems);
	nft_batch_free(b);
	b = nft_batch_new(&names);
	ip_parse("fd00::5", &ip, NULL);
	nft_elem_ifname_ip(&e, "bv9", &ip);
	assert_int_equal(e.set, NFT_SET_BR_IP6);
	nft_batch_elem(b, true, &e);
	s = walk(b);
	k = elem_key(s.last_elems, &len);
	assert_int_equal(len, 32);
	assert_memory_equal(k + 16, ip.b, 16);
	nftnl_set_free(s.last_elems);
	nft_batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rebuild),
		cmocka_unit_test(test_port_elem),
		cmocka_unit_test(test_bridge_elems),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
