/* SPDX-License-Identifier: Apache-2.0 */
/* The nft batch builder without a kernel: build a batch, parse every message back with
 * libnftnl, compare with what was meant. The commit's acknowledgements without a kernel: the
 * connection runs over a socketpair whose other end plays the kernel with crafted answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/util.h"
#include "nft/nft.h"
#include "nft/nft_internal.h"

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
	assert_int_equal(s.chains, 13);   /* + input (VXLAN from members only) */
	assert_true(s.rules > 30);
	assert_true(s.seq_ok);
	assert_int_equal(nft_batch_count(b), s.tables_new + s.tables_del + s.sets + s.chains + s.rules);
	nft_batch_free(b);
}

/* ---- rule comments, what they are for, the trace rule ---- */

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
		snprintf(data, NFT_LABEL_MAX, "%s", (const char *)nftnl_udata_get(attr));
	return 0;
}

/* Calls fn for every rule of the batch, with its comment. */
static void rules_each(struct nft_batch *b, void (*fn)(struct nftnl_rule *r, const char *comment,
						       void *ud), void *ud)
{
	size_t len;
	const struct nlmsghdr *nlh = nft_batch_data(b, &len);
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		struct nftnl_rule *r;
		char comment[NFT_LABEL_MAX] = "";
		const void *ud_data;
		uint32_t ud_len = 0;

		if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE))
			continue;
		r = nftnl_rule_alloc();
		assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
		ud_data = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &ud_len);
		if (ud_data)
			nftnl_udata_parse(ud_data, ud_len, comment_cb, comment);
		fn(r, comment, ud);
		nftnl_rule_free(r);
	}
}

static void kind_seen(struct nftnl_rule *r, const char *comment, void *ud)
{
	bool *seen = ud;

	assert_true(comment[0]);   /* every rule says what it is */
	seen[nft_rule_kind(comment)] = true;
}

/* Every kind an explanation names is the kind of one of the skeleton's rules: the comments and
 * the words stay in step. */
static void test_rule_comments(void **state)
{
	struct nft_names names = { "t1", "t2" };
	struct nft_batch *b = nft_batch_new(&names);
	bool seen[NFT_RULE_TRACE + 1] = { false };

	nft_batch_rebuild(b);
	rules_each(b, kind_seen, seen);
	for (int k = NFT_RULE_LOOPBACK; k < NFT_RULE_TRACE; k++)
		if (!seen[k])
			fail_msg("no rule of kind %d", k);
	assert_int_equal(nft_rule_kind("iifname @bridges drop"), NFT_RULE_ISOLATION);
	assert_int_equal(nft_rule_kind("something else"), NFT_RULE_OTHER);
	assert_int_equal(nft_rule_kind(NULL), NFT_RULE_OTHER);
	nft_batch_free(b);
}

struct trace_seen {
	size_t rules;
	bool nftrace, daddr, dport, sport;
};

static int trace_expr(struct nftnl_expr *e, void *ud)
{
	struct trace_seen *t = ud;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint32_t len = 0;
	const uint8_t *d;

	if (!strcmp(name, "meta") && nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG))
		t->nftrace |= nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == NFT_META_NFTRACE;
	if (strcmp(name, "cmp"))
		return 0;
	d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
	t->daddr |= len == 4 && !memcmp(d, "\x0a\x02\x00\x07", 4);
	t->dport |= len == 2 && d[0] == 0x15 && d[1] == 0x38;   /* 5432 */
	t->sport |= len == 2 && d[0] == 0xc3 && d[1] == 0x50;   /* 50000 */
	return 0;
}

static void trace_rule_seen(struct nftnl_rule *r, const char *comment, void *ud)
{
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), NFT_TRACE_CHAIN);
	assert_int_equal(nft_rule_kind(comment), NFT_RULE_TRACE);
	((struct trace_seen *)ud)->rules++;
	nftnl_expr_foreach(r, trace_expr, ud);
}

static void test_trace_batch(void **state)
{
	struct nft_names names = { "t1", "t2" };
	struct nft_batch *b = nft_batch_new(&names);
	struct nft_flow f = { .proto = IPPROTO_TCP, .sport = 50000, .dport = 5432 };
	struct trace_seen t = { 0 };
	struct seen s;

	ip_parse("10.2.0.7", &f.daddr, NULL);
	nft_batch_trace_add(b, &f);
	s = walk(b);
	assert_int_equal(s.chains, 2);   /* inet and bridge */
	assert_int_equal(s.rules, 2);
	rules_each(b, trace_rule_seen, &t);
	assert_int_equal(t.rules, 2);
	assert_true(t.nftrace && t.daddr && t.dport && t.sport);
	nft_batch_free(b);
	/* removal: each chain created if missing (so its deletion cannot fail), flushed, deleted */
	b = nft_batch_new(&names);
	nft_batch_trace_del(b);
	assert_int_equal(nft_batch_count(b), 6);
	nft_batch_free(b);
}

static void test_trace_parse(void **state)
{
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct nlattr *nest;
	struct nft_trace_event ev;
	uint8_t nh[20] = { 0x45 };

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = NFPROTO_INET;
	mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, "berth");
	mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, "to_bridge");
	mnl_attr_put_u64(nlh, NFTA_TRACE_RULE_HANDLE, htobe64(45));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(0xabcd));
	mnl_attr_put_u32(nlh, NFTA_TRACE_IIF, htonl(7));
	mnl_attr_put_u32(nlh, NFTA_TRACE_OIF, htonl(9));
	mnl_attr_put(nlh, NFTA_TRACE_NETWORK_HEADER, sizeof(nh), nh);
	nest = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NF_DROP));
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(nft_trace_parse(nlh, nlh->nlmsg_len, &ev), 0);
	assert_int_equal(ev.family, NFPROTO_INET);
	assert_string_equal(ev.table, "berth");
	assert_string_equal(ev.chain, "to_bridge");
	assert_int_equal(ev.handle, 45);
	assert_int_equal(ev.type, NFT_TRACETYPE_RULE);
	assert_int_equal(ev.id, 0xabcd);
	assert_int_equal(ev.iif, 7);
	assert_int_equal(ev.oif, 9);
	assert_true(ev.has_verdict);
	assert_int_equal(ev.verdict, NF_DROP);
	assert_int_equal(ev.nh_len, sizeof(nh));
	/* not a trace message, or cut short */
	assert_int_equal(nft_trace_parse(nlh, 10, &ev), -EINVAL);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
	assert_int_equal(nft_trace_parse(nlh, nlh->nlmsg_len, &ev), -EINVAL);
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

/* The VXLAN allow-list: member VTEPs by family, the data-path port in network byte order. */
static void test_vtep_elems(void **state)
{
	struct nft_names names = { "t1", "t2" };
	struct nft_batch *b = nft_batch_new(&names);
	struct ipaddr v4, v6;
	struct nft_elem e;
	struct seen s;
	uint32_t len;
	const uint8_t *k;

	ip_parse("192.0.2.11", &v4, NULL);
	ip_parse("2001:db8::11", &v6, NULL);
	nft_elem_vtep(&e, &v4);
	assert_int_equal(e.set, NFT_SET_VTEP4);
	assert_string_equal(e.label, "element 192.0.2.11 of set vteps4");
	nft_elem_vtep(&e, &v6);
	assert_int_equal(e.set, NFT_SET_VTEP6);
	assert_int_equal(e.key_len, 16);
	assert_memory_equal(e.key, v6.b, 16);
	nft_elem_vxport(&e, 4789);
	nft_batch_elem(b, true, &e);
	s = walk(b);
	assert_string_equal(nftnl_set_get_str(s.last_elems, NFTNL_SET_NAME), "vxports");
	k = elem_key(s.last_elems, &len);
	assert_int_equal(len, 2);
	assert_int_equal(k[0] << 8 | k[1], 4789);
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

/* ---- acknowledgements ---- */

/* An answer as the kernel writes it: NLMSG_ERROR (error 0 = ack), capped, with an extended-ack
 * message when `text` is given. Appended at buf + *len. */
static void put_ack(char *buf, size_t *len, uint32_t seq, int error, const char *text)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *len);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | (text ? NLM_F_ACK_TLVS : 0);
	nlh->nlmsg_seq = seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = sizeof(e->msg);
	e->msg.nlmsg_seq = seq;
	if (text)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
	*len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* One datagram holding one answer, written by the "kernel" end. */
static void kernel_ack(int fd, uint32_t seq, int error, const char *text)
{
	char buf[512];
	size_t len = 0;

	put_ack(buf, &len, seq, error, text);
	assert_int_equal(send(fd, buf, len, 0), (ssize_t)len);
}

/* The "kernel" end reads the batch just committed: returns its first (begin) and last (end)
 * sequence numbers; every number in between follows the previous one. */
static void kernel_read_batch(int fd, size_t n, uint32_t *first, uint32_t *last)
{
	static char buf[1 << 16];
	ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)got;
	size_t k = 0;

	assert_true(got > 0);
	*first = nlh->nlmsg_seq;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left), k++) {
		assert_int_equal(nlh->nlmsg_seq, *first + k);
		*last = nlh->nlmsg_seq;
	}
	assert_int_equal(k, n + 2);
}

static struct nft_batch *batch_of(const char *l1, const char *l2)
{
	struct nft_names names = { "t1", "t2" };
	struct nft_batch *b = nft_batch_new(&names);
	struct nft_elem e;

	nft_elem_ifname(&e, NFT_SET_BR_PORTS, "bv1");
	strscpy(e.label, l1, sizeof(e.label));
	nft_batch_elem(b, true, &e);
	nft_elem_ifname(&e, NFT_SET_BR_PORTS, "bv2");
	strscpy(e.label, l2, sizeof(e.label));
	nft_batch_elem(b, true, &e);
	return b;
}

/* The parse/credit step alone: answers numbered outside the batch, errors included, are
 * dropped; the lowest-numbered refusal of the batch is the one kept. */
static void test_acks_range(void **state)
{
	struct nft_acks a;
	char buf[2048];
	size_t len = 0;

	nft_acks_for_batch(&a, 100, 3);          /* begin 100, messages 101-103, end 104 */
	put_ack(buf, &len, 97, 0, NULL);         /* an earlier batch's late ack */
	put_ack(buf, &len, 98, -EEXIST, "old");  /* and its late error */
	put_ack(buf, &len, 105, -EEXIST, NULL);  /* not sent yet: not ours either */
	put_ack(buf, &len, 101, 0, NULL);
	nft_acks_take(&a, buf, len);
	assert_int_equal(a.got, 1);
	assert_int_equal(a.stale, 3);
	assert_int_equal(a.error, 0);
	assert_false(nft_acks_done(&a));
	len = 0;
	put_ack(buf, &len, 103, -ENOENT, "later");
	put_ack(buf, &len, 102, -EEXIST, "first");
	nft_acks_take(&a, buf, len);
	assert_true(nft_acks_done(&a));
	assert_int_equal(a.error, -EEXIST);
	assert_int_equal(a.error_seq, 102);
	assert_string_equal(a.text, "first");
}

/* Sequence numbers wrap around 2^32 without losing the range. */
static void test_acks_wrap(void **state)
{
	struct nft_acks a;
	char buf[512];
	size_t len = 0;

	nft_acks_for_batch(&a, UINT32_MAX - 1, 2);   /* begin 2^32-2, messages 2^32-1 and 0 */
	put_ack(buf, &len, UINT32_MAX - 2, 0, NULL);
	put_ack(buf, &len, UINT32_MAX, 0, NULL);
	put_ack(buf, &len, 0, 0, NULL);
	nft_acks_take(&a, buf, len);
	assert_int_equal(a.stale, 1);
	assert_true(nft_acks_done(&a));
}

/* A batch times out with one acknowledgement missing; its late answers (an ack and an error)
 * arrive while the next batch waits: they are not credited to it, and the next batch's own
 * error names its own element. The sequence numbers keep increasing across batches. */
static void test_commit_stale_acks(void **state)
{
	int sv[2];
	struct nft_conn *c;
	struct nft_batch *b;
	struct berr err = BERR_INIT;
	uint32_t a_first, a_last, b_first, b_last, c_first, c_last;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	c = nft_conn_adopt(sv[0], 4242, 1000, 100);

	b = batch_of("A0", "A1");
	kernel_ack(sv[1], 1002, 0, NULL);            /* A0 acknowledged, A1's answer is late */
	assert_int_equal(nft_batch_commit(c, b, &err), -ETIMEDOUT);
	kernel_read_batch(sv[1], 2, &a_first, &a_last);
	assert_int_equal(a_first, 1001);
	assert_int_equal(a_last, 1004);
	nft_batch_free(b);

	/* batch B: only the late answers of A come in, as many as B wants: B must not succeed */
	b = batch_of("B0", "B1");
	kernel_ack(sv[1], 1003, -EEXIST, "stale");
	kernel_ack(sv[1], 1002, 0, NULL);
	berr_clear(&err);
	assert_int_equal(nft_batch_commit(c, b, &err), -ETIMEDOUT);
	kernel_read_batch(sv[1], 2, &b_first, &b_last);
	assert_true(b_first > a_last);
	nft_batch_free(b);

	/* batch C: a late error of A, then C's own answers; C's second element is refused */
	b = batch_of("C0", "C1");
	kernel_ack(sv[1], 1003, -EEXIST, "stale");
	kernel_ack(sv[1], b_last + 2, 0, NULL);
	kernel_ack(sv[1], b_last + 3, -ENOENT, "No such set");
	berr_clear(&err);
	assert_int_equal(nft_batch_commit(c, b, &err), -ENOENT);
	assert_non_null(strstr(berr_str(&err), "C1"));
	assert_non_null(strstr(berr_str(&err), "No such set"));
	assert_null(strstr(berr_str(&err), "stale"));
	kernel_read_batch(sv[1], 2, &c_first, &c_last);
	assert_int_equal(c_first, b_last + 1);
	nft_batch_free(b);

	nft_conn_close(c);
	close(sv[1]);
}

/* The kernel refuses a batch as a whole (an error against its begin, e.g. EPERM): the commit
 * ends at once with that error instead of waiting for acknowledgements that never come. */
static void test_commit_whole_refusal(void **state)
{
	int sv[2];
	struct nft_conn *c;
	struct nft_batch *b = batch_of("X0", "X1");
	struct berr err = BERR_INIT;
	uint64_t t0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	c = nft_conn_adopt(sv[0], 4242, 7, 5000);
	kernel_ack(sv[1], 8, -EPERM, NULL);
	t0 = time_mono_ns();
	assert_int_equal(nft_batch_commit(c, b, &err), -EPERM);
	assert_true(time_mono_ns() - t0 < 1000000000ull);
	assert_non_null(strstr(berr_str(&err), "refused the batch"));
	nft_batch_free(b);
	nft_conn_close(c);
	close(sv[1]);
}

/* A table lookup (the monitor's check after an overflow) skips a late acknowledgement of an
 * earlier batch and reads its own answers: an object then an ack = present, ENOENT = absent. */
static void test_tables_exist_stale(void **state)
{
	struct nft_names names = { "t1", "t2" };
	struct berr err = BERR_INIT;
	struct nft_conn *c;
	struct nlmsghdr *nlh;
	char buf[512];
	bool exist = true;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	c = nft_conn_adopt(sv[0], 4242, 50, 1000);
	kernel_ack(sv[1], 49, -EEXIST, "stale");
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE;
	nlh->nlmsg_seq = 51;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	assert_int_equal(send(sv[1], buf, nlh->nlmsg_len, 0), (ssize_t)nlh->nlmsg_len);
	kernel_ack(sv[1], 51, 0, NULL);
	kernel_ack(sv[1], 52, -ENOENT, NULL);
	assert_int_equal(nft_tables_exist(c, &names, &exist, &err), 0);
	assert_false(exist);
	nft_conn_close(c);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rebuild),
		cmocka_unit_test(test_rule_comments),
		cmocka_unit_test(test_trace_batch),
		cmocka_unit_test(test_trace_parse),
		cmocka_unit_test(test_port_elem),
		cmocka_unit_test(test_vtep_elems),
		cmocka_unit_test(test_bridge_elems),
		cmocka_unit_test(test_acks_range),
		cmocka_unit_test(test_acks_wrap),
		cmocka_unit_test(test_commit_stale_acks),
		cmocka_unit_test(test_commit_whole_refusal),
		cmocka_unit_test(test_tables_exist_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
