/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the cluster state's layout (store/cluster.c: keys and records, what is refused)
 * and the overlay driver's plan of VXLAN entries (drivers/overlay/peers.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "drivers/overlay/overlay.h"
#include "store/cluster.h"

#define P "/berth"
#define NET "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define EP "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define CTR "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* ---- keys ---- */

static void test_key_parse(void **state)
{
	struct cl_key k;
	struct berr err = BERR_INIT;
	char a[IP_STRLEN];

	assert_int_equal(cl_key_parse(P, P "/hosts/host-a", &k, &err), 0);
	assert_int_equal(k.kind, CL_KEY_HOST);
	assert_string_equal(k.host, "host-a");
	assert_int_equal(cl_key_parse(P, P "/networks/" NET, &k, &err), 0);
	assert_int_equal(k.kind, CL_KEY_NETWORK);
	assert_string_equal(k.net_id, NET);
	assert_int_equal(cl_key_parse(P, P "/ipam/" NET "/fd00:50::7", &k, &err), 0);
	assert_int_equal(k.kind, CL_KEY_IPAM);
	assert_string_equal(ip_fmt(&k.addr, a), "fd00:50::7");
	assert_int_equal(cl_key_parse(P, P "/endpoints/" NET "/" EP, &k, &err), 0);
	assert_int_equal(k.kind, CL_KEY_ENDPOINT);
	assert_string_equal(k.ep_id, EP);
	assert_int_equal(cl_key_parse(P, P "/vni/4097", &k, &err), 0);
	assert_int_equal(k.vni, 4097);
	assert_int_equal(cl_key_parse(P, P "/netlock", &k, &err), 0);
	assert_int_equal(k.kind, CL_KEY_NETLOCK);
	assert_int_equal(cl_key_parse(P, P "/netuse/" NET, &k, &err), 0);
	assert_int_equal(k.kind, CL_KEY_NETUSE);
	/* other shapes: unknown, not an error; other prefixes: not ours */
	assert_int_equal(cl_key_parse(P, P "/something/else", &k, &err), 0);
	assert_int_equal(k.kind, CL_KEY_UNKNOWN);
	assert_int_equal(cl_key_parse(P, "/berthx/hosts/a", &k, &err), 0);
	assert_int_equal(k.kind, CL_KEY_UNKNOWN);
}

static void test_key_parse_refused(void **state)
{
	static const char *const bad[] = {
		P "/hosts/",                          /* empty host name */
		P "/hosts/-a",                        /* starts with '-' */
		P "/hosts/a b",
		P "/networks/0123",                   /* not an ID */
		P "/networks/" NET "/x",
		P "/ipam/" NET "/10.0.0.300",
		P "/ipam/" NET,
		P "/endpoints/" NET "/" EP "0",
		P "/endpoints/" NET,
		P "/vni/0",
		P "/vni/16777216",
		P "/vni/-1",
		P "/vni/12a",
	};
	struct cl_key k;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct berr err = BERR_INIT;

		assert_int_equal(cl_key_parse(P, bad[i], &k, &err), -EINVAL);
		assert_int_equal(k.kind, CL_KEY_UNKNOWN);
		assert_non_null(strstr(err.msg, "key"));
	}
}

static void test_key_roundtrip(void **state)
{
	static const char *const keys[] = {
		P "/hosts/h1.example", P "/networks/" NET, P "/names/ov", P "/vni/4096",
		P "/netlock", P "/ipam/" NET "/10.50.0.2", P "/endpoints/" NET "/" EP,
		P "/netuse/" NET,
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		struct cl_key k;
		char *s;

		assert_int_equal(cl_key_parse(P, keys[i], &k, NULL), 0);
		s = cl_key_fmt(P, &k);
		assert_string_equal(s, keys[i]);
		free(s);
	}
	char *d = cl_key_dir(P, CL_KEY_ENDPOINT, NET);

	assert_string_equal(d, P "/endpoints/" NET "/");
	free(d);
}

/* ---- hosts ---- */

static void test_host_records(void **state)
{
	struct cl_host h = { .name = "host-a", .port = 4789 }, out;
	struct berr err = BERR_INIT;
	char *s;

	ip_parse("10.99.0.11", &h.vtep, NULL);
	s = cl_host_encode(&h);
	assert_int_equal(cl_host_decode("host-a", s, &out, &err), 0);
	assert_string_equal(out.name, "host-a");
	assert_true(ip_equal(&out.vtep, &h.vtep));
	assert_int_equal(out.port, 4789);
	/* the record must name the host of its key */
	assert_int_equal(cl_host_decode("host-b", s, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "host-b"));
	free(s);
	assert_int_equal(cl_host_decode("h", "not json", &out, &err), -EINVAL);
	assert_int_equal(cl_host_decode("h", "{\"Name\":\"h\",\"Vtep\":\"x\",\"Port\":4789}", &out,
					&err), -EINVAL);
	assert_int_equal(cl_host_decode("h", "{\"Name\":\"h\",\"Vtep\":\"10.0.0.1\",\"Port\":0}",
					&out, &err), -EINVAL);
	assert_int_equal(cl_host_decode("h", "{\"Name\":\"h\",\"Vtep\":\"10.0.0.1\",\"Port\":1.5}",
					&out, &err), -EINVAL);
}

/* ---- networks ---- */

static void net_fill(struct bnetwork *n, const char *name, const char *v4, const char *v6)
{
	memset(n, 0, sizeof(*n));
	strscpy(n->id, NET, sizeof(n->id));
	strscpy(n->name, name, sizeof(n->name));
	strscpy(n->driver, "overlay", sizeof(n->driver));
	strscpy(n->created, "2026-01-01T00:00:00Z", sizeof(n->created));
	n->options = cJSON_CreateObject();
	n->labels = cJSON_CreateObject();
	cidr_parse_subnet(v4, &n->subnets[0].subnet, NULL);
	n->subnets[0].gateway = n->subnets[0].subnet.addr;
	n->subnets[0].gateway.b[3] = 1;
	n->n_subnets = 1;
	if (v6) {
		n->ipv6 = true;
		cidr_parse_subnet(v6, &n->subnets[1].subnet, NULL);
		n->n_subnets = 2;
	}
}

static void test_net_roundtrip(void **state)
{
	struct bnetwork n, out;
	struct berr err = BERR_INIT;
	uint32_t vni = 0;
	char *s;

	net_fill(&n, "ov", "10.50.0.0/24", "fd00:50::/64");
	cJSON_AddStringToObject(n.options, "com.docker.network.driver.mtu", "1400");
	s = cl_net_encode(&n, 4097);
	assert_int_equal(cl_net_decode(NET, s, &out, &vni, &err), 0);
	assert_int_equal(vni, 4097);
	assert_string_equal(out.name, "ov");
	assert_true(out.ipv6);
	assert_int_equal(out.n_subnets, 2);
	/* the VNI comes back as Docker's option too */
	assert_string_equal(cJSON_GetObjectItem(out.options, CL_OPT_VNI)->valuestring, "4097");
	assert_string_equal(cJSON_GetObjectItem(out.options, "com.docker.network.driver.mtu")
				    ->valuestring, "1400");
	/* a record is for the ID of its key only */
	cl_net_clear(&out);
	assert_int_equal(cl_net_decode(EP, s, &out, &vni, &err), -EINVAL);
	free(s);
	cl_net_clear(&n);
}

static char *net_text_with(const char *find, const char *repl)
{
	struct bnetwork n;
	char *s, *p, *out;

	net_fill(&n, "ov", "10.50.0.0/24", "fd00:50::/64");
	s = cl_net_encode(&n, 4097);
	cl_net_clear(&n);
	p = strstr(s, find);
	assert_non_null(p);
	out = xasprintf("%.*s%s%s", (int)(p - s), s, repl, p + strlen(find));
	free(s);
	return out;
}

static void test_net_refused(void **state)
{
	static const char *const edits[][2] = {
		{ "\"Driver\":\"overlay\"", "\"Driver\":\"bridge\"" },
		{ "\"Vni\":4097", "\"Vni\":0" },
		{ "\"Vni\":4097", "\"Vni\":16777216" },
		{ "\"Vni\":4097", "\"Vni\":\"4097\"" },
		{ "\"Name\":\"ov\"", "\"Name\":\"o v\"" },
		{ "10.50.0.0/24", "10.50.0.1/24" },            /* host bits */
		{ "10.50.0.0/24", "127.0.0.0/8" },             /* loopback */
		{ "fd00:50::/64", "10.50.0.128/25" },          /* two subnets overlap */
		{ "\"IPv6\":true", "\"IPv6\":false" },         /* an IPv6 subnet without IPv6 */
		{ "\"Gateway\":\"10.50.0.1\"", "\"Gateway\":\"10.51.0.1\"" },
		{ "\"Subnets\":[", "\"Subnets\":7,\"X\":[" },
		{ "\"Labels\":{}", "\"Labels\":{\"a\":1}" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(edits); i++) {
		char *text = net_text_with(edits[i][0], edits[i][1]);
		struct berr err = BERR_INIT;
		struct bnetwork out;
		uint32_t vni;

		if (cl_net_decode(NET, text, &out, &vni, &err) != -EINVAL)
			fail_msg("accepted: %s", text);
		assert_true(err.msg[0]);
		free(text);
	}
}

static void test_net_overlap(void **state)
{
	struct bnetwork a, b;
	int i = -1, j = -1;

	net_fill(&a, "a", "10.50.0.0/24", "fd00:50::/64");
	net_fill(&b, "b", "10.60.0.0/16", "fd00:50:0:0:8000::/65");
	assert_int_equal(cl_net_overlap(&a, &b, &i, &j), 1);
	assert_int_equal(i, 1);
	assert_int_equal(j, 1);
	cl_net_clear(&b);
	net_fill(&b, "b", "10.50.0.128/25", NULL);
	assert_int_equal(cl_net_overlap(&a, &b, &i, &j), 1);
	assert_int_equal(i, 0);
	cl_net_clear(&b);
	net_fill(&b, "b", "10.51.0.0/24", "fd00:51::/64");
	assert_int_equal(cl_net_overlap(&a, &b, &i, &j), 0);
	cl_net_clear(&a);
	cl_net_clear(&b);
}

/* ---- endpoints and addresses ---- */

static struct cl_key ep_key(void)
{
	struct cl_key k;

	assert_int_equal(cl_key_parse(P, P "/endpoints/" NET "/" EP, &k, NULL), 0);
	return k;
}

static char *ep_text(const char *ip4, const char *mac)
{
	struct cl_ep e = { .id = EP, .net_id = NET, .host = "host-b", .ctr_id = CTR,
			   .ctr_name = "web" };
	char *s;

	e.aliases = cJSON_CreateArray();
	cJSON_AddItemToArray(e.aliases, cJSON_CreateString("www"));
	mac_parse(mac, e.mac, NULL);
	ip_parse(ip4, &e.ip4, NULL);
	s = cl_ep_encode(&e);
	cJSON_Delete(e.aliases);
	return s;
}

static void test_ep_records(void **state)
{
	struct cl_key k = ep_key();
	struct bnetwork n;
	struct cl_ep out;
	struct berr err = BERR_INIT;
	char *s = ep_text("10.50.0.7", "02:42:0a:32:00:07");

	net_fill(&n, "ov", "10.50.0.0/24", NULL);
	assert_int_equal(cl_ep_decode(&k, s, &n, &out, &err), 0);
	assert_string_equal(out.host, "host-b");
	assert_string_equal(out.ctr_name, "web");
	assert_string_equal(cJSON_GetArrayItem(out.aliases, 0)->valuestring, "www");
	cl_ep_clear(&out);
	free(s);
	/* addresses that are not endpoint addresses of the network: refused */
	static const char *const bad_ip[] = { "10.51.0.7", "10.50.0.0", "10.50.0.255",
					      "10.50.0.1" /* the gateway */ };
	for (size_t i = 0; i < ARRAY_SIZE(bad_ip); i++) {
		s = ep_text(bad_ip[i], "02:42:0a:32:00:07");
		assert_int_equal(cl_ep_decode(&k, s, &n, &out, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "not an endpoint address"));
		/* without the network, the record alone is fine */
		assert_int_equal(cl_ep_decode(&k, s, NULL, &out, &err), 0);
		assert_int_equal(cl_ep_check_net(&out, &n, &err), -EINVAL);
		cl_ep_clear(&out);
		free(s);
	}
	s = ep_text("10.50.0.7", "03:42:0a:32:00:07");   /* multicast MAC */
	assert_int_equal(cl_ep_decode(&k, s, &n, &out, &err), -EINVAL);
	free(s);
	assert_int_equal(cl_ep_decode(&k, "{\"Id\":", &n, &out, &err), -EINVAL);
	cl_net_clear(&n);
}

static void test_ep_key_mismatch(void **state)
{
	struct cl_key k;
	struct cl_ep out;
	struct berr err = BERR_INIT;
	char *s = ep_text("10.50.0.7", "02:42:0a:32:00:07");

	assert_int_equal(cl_key_parse(P, P "/endpoints/" NET "/" CTR, &k, NULL), 0);
	assert_int_equal(cl_ep_decode(&k, s, NULL, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not its key's"));
	free(s);
}

static void test_ipam_records(void **state)
{
	struct cl_ipam a = { .ep_id = EP, .host = "host-c" }, out;
	struct berr err = BERR_INIT;
	char *s = cl_ipam_encode(&a);

	assert_int_equal(cl_ipam_decode(s, &out, &err), 0);
	assert_string_equal(out.ep_id, EP);
	assert_string_equal(out.host, "host-c");
	free(s);
	assert_int_equal(cl_ipam_decode("{\"Endpoint\":\"x\",\"Host\":\"h\"}", &out, &err), -EINVAL);
	assert_int_equal(cl_ipam_decode("{\"Endpoint\":\"" EP "\",\"Host\":\"_h\"}", &out, &err),
			 -EINVAL);
}

/* ---- the overlay driver's plan ---- */

static void peer(struct ov_peer *p, const char *mac, const char *vtep, const char *ip4)
{
	memset(p, 0, sizeof(*p));
	mac_parse(mac, p->mac, NULL);
	ip_parse(vtep, &p->vtep, NULL);
	ip_parse(ip4, &p->ip4, NULL);
}

static void test_plan(void **state)
{
	struct ov_peer peers[3];
	struct nlx_fdb_entry fdb[3] = { 0 };
	struct nlx_neigh_entry neigh[3] = { 0 };
	struct ov_plan p;

	peer(&peers[0], "02:42:0a:32:00:02", "10.99.0.11", "10.50.0.2");
	peer(&peers[1], "02:42:0a:32:00:03", "10.99.0.11", "10.50.0.3");
	peer(&peers[2], "02:42:0a:32:00:04", "10.99.0.12", "10.50.0.4");
	/* nothing in the kernel: 3 unicast entries, 2 flood entries (one per VTEP), 3 neighbours */
	ov_plan_make(peers, 3, NULL, 0, NULL, 0, &p);
	assert_int_equal(p.n_fdb_add, 5);
	assert_int_equal(p.n_fdb_del, 0);
	assert_int_equal(p.n_neigh_add, 3);
	ov_plan_free(&p);
	/* the kernel holds: peer 0 right, peer 2 at a stale VTEP, an entry of a gone endpoint, and
	 * an entry the kernel made itself (not permanent: left alone) */
	memcpy(fdb[0].mac, peers[0].mac, 6);
	fdb[0].vtep = peers[0].vtep;
	fdb[0].permanent = true;
	memcpy(fdb[1].mac, peers[2].mac, 6);
	ip_parse("10.99.0.13", &fdb[1].vtep, NULL);
	fdb[1].permanent = true;
	mac_parse("02:42:0a:32:00:09", fdb[2].mac, NULL);
	fdb[2].vtep = peers[0].vtep;
	neigh[0].ip = peers[0].ip4;
	memcpy(neigh[0].mac, peers[0].mac, 6);
	neigh[0].permanent = true;
	ip_parse("10.50.0.9", &neigh[1].ip, NULL);
	neigh[1].permanent = true;
	neigh[2].ip = peers[2].ip4;   /* another MAC (zero): replaced by an add */
	neigh[2].permanent = true;
	ov_plan_make(peers, 3, fdb, 3, neigh, 3, &p);
	assert_int_equal(p.n_fdb_del, 1);                 /* peer 2 at 10.99.0.13 */
	assert_memory_equal(p.fdb_del[0].mac, peers[2].mac, 6);
	assert_int_equal(p.n_fdb_add, 4);                 /* peers 1, 2 + two flood entries */
	assert_int_equal(p.n_neigh_del, 1);               /* 10.50.0.9 */
	assert_int_equal(p.n_neigh_add, 2);               /* 10.50.0.3, 10.50.0.4 (new MAC) */
	ov_plan_free(&p);
	/* no peers left: every permanent entry goes */
	ov_plan_make(NULL, 0, fdb, 3, neigh, 3, &p);
	assert_int_equal(p.n_fdb_add + p.n_neigh_add, 0);
	assert_int_equal(p.n_fdb_del, 2);
	assert_int_equal(p.n_neigh_del, 3);
	ov_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_key_parse_refused),
		cmocka_unit_test(test_key_roundtrip),
		cmocka_unit_test(test_host_records),
		cmocka_unit_test(test_net_roundtrip),
		cmocka_unit_test(test_net_refused),
		cmocka_unit_test(test_net_overlap),
		cmocka_unit_test(test_ep_records),
		cmocka_unit_test(test_ep_key_mismatch),
		cmocka_unit_test(test_ipam_records),
		cmocka_unit_test(test_plan),
	};

	blog_set_level(BLOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
