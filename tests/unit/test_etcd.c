/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the etcd client's pure logic (store/etcd_json.c): endpoint lists, base64,
 * request bodies, replies as etcd 3.4's JSON gateway writes them (int64 as strings, zero values
 * omitted; samples from ../shared/peers/recorded/etcd-gateway.txt), the watch stream, errors. */
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
#include "store/etcd_json.h"

/* ---- endpoint lists ---- */

static void test_url_cluster(void **state)
{
	struct berr err = BERR_INIT;
	struct etcd_url u;

	assert_int_equal(etcd_url_parse("etcd://10.0.0.5:2379,10.0.0.6:2379,10.0.0.7:2379", false,
					&u, &err), 0);
	assert_int_equal(u.n, 3);
	assert_false(u.https);
	assert_string_equal(u.host[0], "10.0.0.5:2379");
	assert_string_equal(u.host[1], "10.0.0.6:2379");
	assert_string_equal(u.host[2], "10.0.0.7:2379");
	assert_string_equal(u.prefix, "");
}

static void test_url_forms(void **state)
{
	struct berr err = BERR_INIT;
	struct etcd_url u;

	assert_int_equal(etcd_url_parse("etcd://h1,etcd-2.example.org:1234/berth/c1/", false, &u,
					&err), 0);
	assert_int_equal(u.n, 2);
	assert_string_equal(u.host[0], "h1:2379");
	assert_string_equal(u.host[1], "etcd-2.example.org:1234");
	assert_string_equal(u.prefix, "berth/c1");

	assert_int_equal(etcd_url_parse("10.0.0.5", false, &u, &err), 0);
	assert_string_equal(u.host[0], "10.0.0.5:2379");
	assert_false(u.https);

	assert_int_equal(etcd_url_parse("https://[fd00::1]:2380,[fe80::1%eth0]", false, &u, &err), 0);
	assert_true(u.https);
	assert_string_equal(u.host[0], "[fd00::1]:2380");
	assert_string_equal(u.host[1], "[fe80::1%eth0]:2379");

	/* TLS files turn etcd:// (and no scheme) into https. */
	assert_int_equal(etcd_url_parse("etcd://a", true, &u, &err), 0);
	assert_true(u.https);
	assert_int_equal(etcd_url_parse("a:1", true, &u, &err), 0);
	assert_true(u.https);
	assert_int_equal(etcd_url_parse("http://a", false, &u, &err), 0);
	assert_false(u.https);
}

static void expect_url_error(const char *url, bool tls, const char *msg)
{
	struct berr err = BERR_INIT;
	struct etcd_url u;

	assert_true(etcd_url_parse(url, tls, &u, &err) < 0);
	if (!strstr(err.msg, msg))
		fail_msg("%s: \"%s\" does not mention \"%s\"", url, err.msg, msg);
}

static void test_url_errors(void **state)
{
	char many[512] = "etcd://";

	expect_url_error("", false, "no cluster store URL");
	expect_url_error("etcd://", false, "no endpoint");
	expect_url_error("etcd:///prefix", false, "no endpoint");
	expect_url_error("etcd://a,,b", false, "empty endpoint");
	expect_url_error("etcd://a,", false, "empty endpoint");
	expect_url_error("etcd://fd00::1", false, "needs brackets");
	expect_url_error("etcd://[fd00::1", false, "missing ']'");
	expect_url_error("etcd://[fd00::1]x", false, "expected ':'");
	expect_url_error("etcd://[10.0.0.1]", false, "invalid host");
	expect_url_error("etcd://a:0", false, "invalid port");
	expect_url_error("etcd://a:65536", false, "invalid port");
	expect_url_error("etcd://a:", false, "invalid port");
	expect_url_error("etcd://a:2x", false, "invalid port");
	expect_url_error("etcd://a b", false, "invalid host");
	expect_url_error("etcd://user@a", false, "invalid host");
	expect_url_error("ftp://a", false, "unsupported scheme ftp");
	expect_url_error("etcd://a,a:2379", false, "listed twice");
	expect_url_error("http://a", true, "TLS files given for an http:// URL");
	expect_url_error("etcd://a/p?x", false, "invalid character");
	for (int i = 0; i <= ETCD_MAX_ENDPOINTS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sh%d", i ? "," : "", i);
	expect_url_error(many, false, "more than 16 endpoints");
}

/* ---- base64 and ranges ---- */

static void test_b64_vectors(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					   "Zm9vYmFy" };

	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		_cleanup_free_ char *e = etcd_b64_encode(plain[i], strlen(plain[i]));
		_cleanup_free_ char *d = NULL;
		size_t len;

		assert_string_equal(e, enc[i]);
		assert_int_equal(etcd_b64_decode(enc[i], &d, &len), 0);
		assert_int_equal(len, strlen(plain[i]));
		assert_string_equal(d, plain[i]);
	}
}

static void test_b64_binary(void **state)
{
	unsigned char bytes[256];
	_cleanup_free_ char *e = NULL, *d = NULL;
	size_t len;

	for (int i = 0; i < 256; i++)
		bytes[i] = (unsigned char)(255 - i);
	e = etcd_b64_encode(bytes, sizeof(bytes));
	assert_int_equal(etcd_b64_decode(e, &d, &len), 0);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(d, bytes, sizeof(bytes));
	assert_int_equal(d[len], '\0');
}

static void test_b64_invalid(void **state)
{
	static const char *const bad[] = { "Zg=", "Zg", "Z===", "====", "Zm9v!A==", "=AAA", "AA=A",
					   "Zg==Zg==", "Zm 9", "Zm9\n" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *d = NULL;

		if (etcd_b64_decode(bad[i], &d, NULL) != -EINVAL)
			fail_msg("\"%s\" decoded", bad[i]);
		assert_null(d);
	}
}

static void test_prefix_end(void **state)
{
	char out[8];

	assert_int_equal(etcd_prefix_end("rc/nets/", 8, out), 8);
	assert_memory_equal(out, "rc/nets0", 8);
	assert_int_equal(etcd_prefix_end("a\xff\xff", 3, out), 1);
	assert_memory_equal(out, "b", 1);
	assert_int_equal(etcd_prefix_end("\xff\xff", 2, out), 1);
	assert_int_equal(out[0], '\0');
	assert_int_equal(etcd_prefix_end("", 0, out), 1);
	assert_int_equal(out[0], '\0');
}

/* ---- requests ---- */

static char *print(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	cJSON_Delete(j);
	return s;
}

static void test_req_kv(void **state)
{
	_cleanup_free_ char *get = print(etcd_req_range("rc/nets/net1", false, 0));
	_cleanup_free_ char *range = print(etcd_req_range("rc/nets/", true, 42));
	_cleanup_free_ char *all = print(etcd_req_range("", true, 0));
	_cleanup_free_ char *put = print(etcd_req_put("rc/hosts/h1", "192.168.250.1",
						      3841467264886195218LL));
	_cleanup_free_ char *put0 = print(etcd_req_put("k", "", 0));
	_cleanup_free_ char *del = print(etcd_req_delete("rc/", true));

	assert_string_equal(get, "{\"key\":\"cmMvbmV0cy9uZXQx\"}");
	assert_string_equal(range, "{\"key\":\"cmMvbmV0cy8=\",\"range_end\":\"cmMvbmV0czA=\","
			    "\"revision\":\"42\"}");
	assert_string_equal(all, "{\"key\":\"AA==\",\"range_end\":\"AA==\"}");
	/* Lease IDs exceed 2^53: strings, never JSON numbers. */
	assert_string_equal(put, "{\"key\":\"cmMvaG9zdHMvaDE=\",\"value\":\"MTkyLjE2OC4yNTAuMQ==\","
			    "\"lease\":\"3841467264886195218\"}");
	assert_string_equal(put0, "{\"key\":\"aw==\",\"value\":\"\"}");
	assert_string_equal(del, "{\"key\":\"cmMv\",\"range_end\":\"cmMw\"}");
}

static void test_req_lease_watch(void **state)
{
	_cleanup_free_ char *grant = print(etcd_req_lease("TTL", 15));
	_cleanup_free_ char *ka = print(etcd_req_lease("ID", 7668682556921007885LL));
	_cleanup_free_ char *w = print(etcd_req_watch("rc/nets/", 5));
	_cleanup_free_ char *w0 = print(etcd_req_watch("rc/nets/", 0));

	assert_string_equal(grant, "{\"TTL\":\"15\"}");
	assert_string_equal(ka, "{\"ID\":\"7668682556921007885\"}");
	assert_string_equal(w, "{\"create_request\":{\"key\":\"cmMvbmV0cy8=\",\"range_end\":"
			    "\"cmMvbmV0czA=\",\"start_revision\":\"5\"}}");
	assert_string_equal(w0, "{\"create_request\":{\"key\":\"cmMvbmV0cy8=\",\"range_end\":"
			    "\"cmMvbmV0czA=\"}}");
}

static void test_req_txn(void **state)
{
	const struct etcd_cmp cmp[] = {
		{ .key = "rc/ipam/10.10.0.5", .target = ETCD_CMP_CREATE, .result = ETCD_CMP_EQUAL },
		{ .key = "rc/nets/net1", .target = ETCD_CMP_MOD, .result = ETCD_CMP_LESS, .number = 7 },
		{ .key = "rc/nets/net1", .target = ETCD_CMP_VALUE, .result = ETCD_CMP_NOT_EQUAL,
		  .value = "cas-1" },
	};
	const struct etcd_op then[] = {
		{ .kind = ETCD_OP_PUT, .key = "rc/ipam/10.10.0.5", .value = "ep1", .lease = 12 },
		{ .kind = ETCD_OP_DELETE, .key = "rc/", .prefix = true },
	};
	const struct etcd_op otherwise[] = { { .kind = ETCD_OP_GET, .key = "rc/ipam/10.10.0.5" } };
	struct berr err = BERR_INIT;
	cJSON *j;
	_cleanup_free_ char *s = NULL, *s2 = NULL;

	assert_int_equal(etcd_req_txn(cmp, 3, then, 2, otherwise, 1, &j, &err), 0);
	s = print(j);
	assert_string_equal(s,
		"{\"compare\":["
		"{\"key\":\"cmMvaXBhbS8xMC4xMC4wLjU=\",\"target\":\"CREATE\",\"result\":\"EQUAL\","
		"\"create_revision\":\"0\"},"
		"{\"key\":\"cmMvbmV0cy9uZXQx\",\"target\":\"MOD\",\"result\":\"LESS\","
		"\"mod_revision\":\"7\"},"
		"{\"key\":\"cmMvbmV0cy9uZXQx\",\"target\":\"VALUE\",\"result\":\"NOT_EQUAL\","
		"\"value\":\"Y2FzLTE=\"}],"
		"\"success\":["
		"{\"request_put\":{\"key\":\"cmMvaXBhbS8xMC4xMC4wLjU=\",\"value\":\"ZXAx\","
		"\"lease\":\"12\"}},"
		"{\"request_delete_range\":{\"key\":\"cmMv\",\"range_end\":\"cmMw\"}}],"
		"\"failure\":[{\"request_range\":{\"key\":\"cmMvaXBhbS8xMC4xMC4wLjU=\"}}]}");
	/* No failure branch: the field is omitted. */
	assert_int_equal(etcd_req_txn(cmp, 1, then, 1, NULL, 0, &j, &err), 0);
	s2 = print(j);
	assert_null(strstr(s2, "failure"));
}

static void test_req_txn_invalid(void **state)
{
	const struct etcd_cmp no_value = { .key = "k", .target = ETCD_CMP_VALUE };
	const struct etcd_cmp bad_target = { .key = "k", .target = (enum etcd_cmp_target)9 };
	const struct etcd_op put_prefix = { .kind = ETCD_OP_PUT, .key = "k", .value = "v",
					    .prefix = true };
	const struct etcd_op put_no_value = { .kind = ETCD_OP_PUT, .key = "k" };
	struct etcd_op many[ETCD_TXN_MAX_OPS + 1];
	struct berr err = BERR_INIT;
	cJSON *j = NULL;

	assert_int_equal(etcd_req_txn(&no_value, 1, NULL, 0, NULL, 0, &j, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "without a value"));
	assert_int_equal(etcd_req_txn(&bad_target, 1, NULL, 0, NULL, 0, &j, &err), -EINVAL);
	assert_int_equal(etcd_req_txn(NULL, 0, &put_prefix, 1, NULL, 0, &j, &err), -EINVAL);
	assert_int_equal(etcd_req_txn(NULL, 0, NULL, 0, &put_no_value, 1, &j, &err), -EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct etcd_op){ .kind = ETCD_OP_GET, .key = "k" };
	assert_int_equal(etcd_req_txn(NULL, 0, many, ARRAY_SIZE(many), NULL, 0, &j, &err), -E2BIG);
	assert_null(j);
}

/* ---- replies ---- */

static void test_int64(void **state)
{
	cJSON *o = cJSON_Parse("{\"s\":\"42\",\"n\":42,\"neg\":\"-1\",\"big\":\"9223372036854775807\","
			       "\"over\":\"9223372036854775808\",\"frac\":1.5,\"junk\":\"12a\","
			       "\"empty\":\"\",\"bool\":true,\"null\":null,"
			       "\"lease\":\"7668682556921007885\"}");
	int64_t v;

	assert_int_equal(etcd_json_int64(o, "s", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(etcd_json_int64(o, "n", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(etcd_json_int64(o, "neg", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(etcd_json_int64(o, "big", &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(etcd_json_int64(o, "lease", &v), 0);
	assert_true(v == 7668682556921007885LL);
	/* proto3 omits zero values. */
	assert_int_equal(etcd_json_int64(o, "absent", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(etcd_json_int64(o, "null", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(etcd_json_int64(o, "over", &v), -EINVAL);
	assert_int_equal(etcd_json_int64(o, "frac", &v), -EINVAL);
	assert_int_equal(etcd_json_int64(o, "junk", &v), -EINVAL);
	assert_int_equal(etcd_json_int64(o, "empty", &v), -EINVAL);
	assert_int_equal(etcd_json_int64(o, "bool", &v), -EINVAL);
	cJSON_Delete(o);
}

static const char range_reply[] =
	"{\"header\":{\"cluster_id\":\"4203954476258066818\",\"member_id\":\"6353553253194282319\","
	"\"revision\":\"3\",\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"cmMvbmV0cy9uZXQx\","
	"\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":"
	"\"eyJzdWJuZXQiOiIxMC4xMC4wLjAvMjQiLCJkcml2ZXIiOiJicmlkZ2UifQ==\"},{\"key\":"
	"\"cmMvbmV0cy9uZXQy\",\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\","
	"\"value\":\"djI=\",\"lease\":\"3841467264886195218\"}],\"count\":\"2\"}";

static void test_parse_range(void **state)
{
	cJSON *j = cJSON_Parse(range_reply);
	struct berr err = BERR_INIT;
	struct etcd_kvs kvs;

	assert_int_equal(etcd_parse_range(j, &kvs, &err), 0);
	assert_int_equal(kvs.revision, 3);
	assert_int_equal(kvs.n, 2);
	assert_int_equal(kvs.skipped, 0);
	assert_false(kvs.more);
	assert_string_equal(kvs.kv[0].key, "rc/nets/net1");
	assert_string_equal(kvs.kv[0].value, "{\"subnet\":\"10.10.0.0/24\",\"driver\":\"bridge\"}");
	assert_int_equal(kvs.kv[0].create_revision, 2);
	assert_int_equal(kvs.kv[0].mod_revision, 2);
	assert_int_equal(kvs.kv[0].version, 1);
	assert_int_equal(kvs.kv[0].lease, 0);
	assert_string_equal(kvs.kv[1].value, "v2");
	assert_int_equal(kvs.kv[1].value_len, 2);
	assert_true(kvs.kv[1].lease == 3841467264886195218LL);
	etcd_kvs_clear(&kvs);
	cJSON_Delete(j);
}

static void test_parse_range_quirks(void **state)
{
	/* A missing key: no kvs at all. keys_only: no value. limit: more. */
	cJSON *missing = cJSON_Parse("{\"header\":{\"revision\":\"3\"}}");
	cJSON *keys = cJSON_Parse("{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"YQ==\","
				  "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\"}],"
				  "\"more\":true,\"count\":\"2\"}");
	/* Entries that do not decode are skipped and counted, the rest kept. */
	cJSON *bad = cJSON_Parse("{\"kvs\":[{\"key\":\"!!\"},{\"key\":\"YQ==\",\"value\":\"?\"},"
				 "{\"key\":\"YQ==\",\"version\":\"x\"},{\"key\":\"\"},{\"key\":\"YQBi\"},"
				 "{\"key\":\"Yg==\",\"value\":\"Yw==\"},7]}");
	cJSON *notarray = cJSON_Parse("{\"kvs\":{}}");
	struct berr err = BERR_INIT;
	struct etcd_kvs kvs;

	assert_int_equal(etcd_parse_range(missing, &kvs, &err), 0);
	assert_int_equal(kvs.n, 0);
	assert_int_equal(kvs.revision, 3);
	etcd_kvs_clear(&kvs);
	assert_int_equal(etcd_parse_range(keys, &kvs, &err), 0);
	assert_int_equal(kvs.n, 1);
	assert_true(kvs.more);
	assert_string_equal(kvs.kv[0].value, "");
	assert_int_equal(kvs.kv[0].value_len, 0);
	etcd_kvs_clear(&kvs);
	assert_int_equal(etcd_parse_range(bad, &kvs, &err), 0);
	assert_int_equal(kvs.n, 1);
	assert_int_equal(kvs.skipped, 6);
	assert_string_equal(kvs.kv[0].key, "b");
	assert_string_equal(kvs.kv[0].value, "c");
	etcd_kvs_clear(&kvs);
	assert_int_equal(etcd_parse_range(notarray, &kvs, &err), -EPROTO);
	cJSON_Delete(missing);
	cJSON_Delete(keys);
	cJSON_Delete(bad);
	cJSON_Delete(notarray);
}

static void test_parse_txn(void **state)
{
	/* Recorded: CAS succeeded; then the same CAS failed (no "succeeded" field at all). */
	cJSON *ok = cJSON_Parse("{\"header\":{\"revision\":\"9\",\"raft_term\":\"2\"},"
				"\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":"
				"{\"revision\":\"9\"}}}]}");
	cJSON *failed = cJSON_Parse("{\"header\":{\"revision\":\"9\"},\"responses\":[{"
				    "\"response_range\":{\"header\":{\"revision\":\"9\"},\"kvs\":[{"
				    "\"key\":\"cmMvbmV0cy9uZXQx\",\"create_revision\":\"2\","
				    "\"mod_revision\":\"9\",\"version\":\"3\",\"value\":\"Y2FzLTE=\"}],"
				    "\"count\":\"1\"}}]}");
	cJSON *del = cJSON_Parse("{\"header\":{\"revision\":\"11\"},\"succeeded\":true,\"responses\":"
				 "[{\"response_delete_range\":{\"header\":{\"revision\":\"11\"},"
				 "\"deleted\":\"2\"}},{\"response_delete_range\":{\"header\":{}}}]}");
	cJSON *none = cJSON_Parse("{\"header\":{\"revision\":\"10\"}}");
	cJSON *unknown = cJSON_Parse("{\"responses\":[{\"response_txn\":{}}]}");
	struct berr err = BERR_INIT;
	struct etcd_txn_reply t;

	assert_int_equal(etcd_parse_txn(ok, &t, &err), 0);
	assert_true(t.succeeded);
	assert_int_equal(t.revision, 9);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.replies[0].kind, ETCD_OP_PUT);
	etcd_txn_reply_clear(&t);

	assert_int_equal(etcd_parse_txn(failed, &t, &err), 0);
	assert_false(t.succeeded);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.replies[0].kind, ETCD_OP_GET);
	assert_int_equal(t.replies[0].kvs.n, 1);
	assert_string_equal(t.replies[0].kvs.kv[0].value, "cas-1");
	assert_int_equal(t.replies[0].kvs.kv[0].mod_revision, 9);
	etcd_txn_reply_clear(&t);

	assert_int_equal(etcd_parse_txn(del, &t, &err), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.replies[0].deleted, 2);
	assert_int_equal(t.replies[1].deleted, 0);
	etcd_txn_reply_clear(&t);

	/* A failed create-if-absent without a failure branch: nothing but the header. */
	assert_int_equal(etcd_parse_txn(none, &t, &err), 0);
	assert_false(t.succeeded);
	assert_int_equal(t.n, 0);
	etcd_txn_reply_clear(&t);

	assert_int_equal(etcd_parse_txn(unknown, &t, &err), -EPROTO);
	cJSON_Delete(ok);
	cJSON_Delete(failed);
	cJSON_Delete(del);
	cJSON_Delete(none);
	cJSON_Delete(unknown);
}

static void test_reply_errors(void **state)
{
	cJSON *unary = cJSON_Parse("{\"error\":\"etcdserver: requested lease not found\",\"message\":"
				   "\"etcdserver: requested lease not found\",\"code\":5}");
	cJSON *stream = cJSON_Parse("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
				    "\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\"}}");
	cJSON *bare = cJSON_Parse("{\"error\":\"boom\"}");
	cJSON *fine = cJSON_Parse(range_reply);
	cJSON *keepalive = cJSON_Parse("{\"result\":{\"header\":{\"revision\":\"4\"},\"ID\":\"77\","
				       "\"TTL\":\"3\"}}");
	const char *msg;
	int code;
	int64_t ttl;

	assert_true(etcd_reply_error(unary, &code, &msg));
	assert_int_equal(code, 5);
	assert_string_equal(msg, "etcdserver: requested lease not found");
	assert_true(etcd_reply_error(stream, &code, &msg));
	assert_int_equal(code, 14);
	assert_string_equal(msg, "etcdserver: no leader");
	assert_true(etcd_reply_error(bare, &code, &msg));
	assert_int_equal(code, 2);
	assert_string_equal(msg, "boom");
	assert_false(etcd_reply_error(fine, &code, &msg));
	assert_false(etcd_reply_error(keepalive, &code, &msg));
	assert_int_equal(etcd_json_int64(etcd_reply_result(keepalive), "TTL", &ttl), 0);
	assert_int_equal(ttl, 3);
	assert_int_equal(etcd_reply_revision(etcd_reply_result(keepalive)), 4);
	assert_ptr_equal(etcd_reply_result(fine), fine);
	cJSON_Delete(unary);
	cJSON_Delete(stream);
	cJSON_Delete(bare);
	cJSON_Delete(fine);
	cJSON_Delete(keepalive);
}

static void test_error_mapping(void **state)
{
	assert_int_equal(etcd_grpc_errno(5), -ENOENT);
	assert_int_equal(etcd_grpc_errno(3), -EINVAL);
	assert_int_equal(etcd_grpc_errno(11), -ERANGE);   /* revision compacted */
	assert_int_equal(etcd_grpc_errno(8), -ENOSPC);    /* database space exceeded */
	assert_int_equal(etcd_grpc_errno(14), -EAGAIN);
	assert_int_equal(etcd_grpc_errno(16), -EACCES);
	assert_int_equal(etcd_grpc_errno(0), -EIO);
	assert_int_equal(etcd_grpc_errno(17), -EIO);
	assert_int_equal(etcd_grpc_errno(-3), -EIO);
	/* Refused before proposing: safe to send elsewhere. A timeout may have been applied. */
	assert_true(etcd_error_unapplied(14, "etcdserver: no leader"));
	assert_true(etcd_error_unapplied(14, "etcdserver: not capable"));
	assert_false(etcd_error_unapplied(14, "etcdserver: request timed out"));
	assert_false(etcd_error_unapplied(4, "etcdserver: no leader"));
}

/* ---- the watch stream ---- */

static const char watch_stream[] =
	"{\"result\":{\"header\":{\"revision\":\"5\"},\"created\":true}}\n"
	"{\"result\":{\"header\":{\"revision\":\"6\"},\"events\":[{\"kv\":{\"key\":\"cmMvbmV0cy9uZXQz\","
	"\"create_revision\":\"6\",\"mod_revision\":\"6\",\"version\":\"1\",\"value\":\"djM=\"}}]}}\n"
	"{\"result\":{\"header\":{\"revision\":\"8\"},\"events\":[{\"type\":\"DELETE\",\"kv\":{\"key\":"
	"\"cmMvbmV0cy9uZXQz\",\"mod_revision\":\"8\"},\"prev_kv\":{\"key\":\"cmMvbmV0cy9uZXQz\","
	"\"value\":\"djM=\"}}]}}\n"
	"{\"result\":{\"header\":{\"revision\":\"9\"},\"events\":[{\"kv\":{\"key\":\"YQ==\",\"mod_revision\":"
	"\"9\",\"value\":\"e30ie1wiXCJ9\"}}]}}";

struct frames {
	char msg[8][512];
	int n;
};

static int on_frame(void *ctx, const char *msg, size_t len)
{
	struct frames *f = ctx;

	assert_int_equal(strlen(msg), len);
	assert_true(f->n < 8);
	snprintf(f->msg[f->n++], sizeof(f->msg[0]), "%s", msg);
	return 0;
}

static void test_framer_splits(void **state)
{
	size_t len = strlen(watch_stream);

	/* Every split point into two reads, and one byte at a time, give the same 4 messages. */
	for (size_t cut = 0; cut <= len; cut++) {
		struct etcd_framer f;
		struct frames got = { .n = 0 };

		etcd_framer_init(&f, 4096);
		assert_int_equal(etcd_framer_feed(&f, watch_stream, cut, on_frame, &got), 0);
		assert_int_equal(etcd_framer_feed(&f, watch_stream + cut, len - cut, on_frame, &got), 0);
		assert_int_equal(got.n, 4);
		assert_int_equal(f.len, 0);
		assert_non_null(strstr(got.msg[3], "e30ie1wiXCJ9"));
		etcd_framer_clear(&f);
	}
	struct etcd_framer f;
	struct frames got = { .n = 0 };

	etcd_framer_init(&f, 4096);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(etcd_framer_feed(&f, watch_stream + i, 1, on_frame, &got), 0);
	assert_int_equal(got.n, 4);
	etcd_framer_clear(&f);
}

static void test_framer_strings_and_errors(void **state)
{
	static const char tricky[] = "{\"a\":\"}{\\\"\\\\\",\"b\":[{}]} {\"c\":\"]\"}";
	struct etcd_framer f;
	struct frames got = { .n = 0 };

	etcd_framer_init(&f, 4096);
	assert_int_equal(etcd_framer_feed(&f, tricky, strlen(tricky), on_frame, &got), 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.msg[0], "{\"a\":\"}{\\\"\\\\\",\"b\":[{}]}");
	assert_string_equal(got.msg[1], "{\"c\":\"]\"}");
	etcd_framer_clear(&f);

	got.n = 0;
	assert_int_equal(etcd_framer_feed(&f, "{} x", 4, on_frame, &got), -EPROTO);
	etcd_framer_clear(&f);
	etcd_framer_init(&f, 16);
	assert_int_equal(etcd_framer_feed(&f, "{\"0123456789abcdef\":1}", 22, on_frame, &got), -E2BIG);
	etcd_framer_clear(&f);
}

static void test_parse_watch_events(void **state)
{
	struct berr err = BERR_INIT;
	struct etcd_watch_msg m;
	struct etcd_framer f;
	struct frames got = { .n = 0 };

	etcd_framer_init(&f, 4096);
	assert_int_equal(etcd_framer_feed(&f, watch_stream, strlen(watch_stream), on_frame, &got), 0);
	etcd_framer_clear(&f);

	assert_int_equal(etcd_parse_watch(got.msg[0], &m, &err), 0);
	assert_true(m.created);
	assert_false(m.canceled);
	assert_int_equal(m.revision, 5);
	assert_int_equal(m.n, 0);
	etcd_watch_msg_clear(&m);

	assert_int_equal(etcd_parse_watch(got.msg[1], &m, &err), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.events[0].kind, ETCD_WATCH_PUT);   /* PUT has no "type" (zero value) */
	assert_int_equal(m.events[0].revision, 6);
	assert_string_equal(m.events[0].kv.key, "rc/nets/net3");
	assert_string_equal(m.events[0].kv.value, "v3");
	etcd_watch_msg_clear(&m);

	assert_int_equal(etcd_parse_watch(got.msg[2], &m, &err), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.events[0].kind, ETCD_WATCH_DELETE);
	assert_int_equal(m.events[0].revision, 8);
	assert_string_equal(m.events[0].kv.key, "rc/nets/net3");
	assert_string_equal(m.events[0].kv.value, "");
	etcd_watch_msg_clear(&m);

	assert_int_equal(etcd_parse_watch(got.msg[3], &m, &err), 0);
	assert_string_equal(m.events[0].kv.value, "{}\"{\\\"\\\"}");
	etcd_watch_msg_clear(&m);
}

static void test_parse_watch_control(void **state)
{
	static const char compacted[] =
		"{\"result\":{\"header\":{\"cluster_id\":\"1\",\"raft_term\":\"2\"},\"canceled\":true,"
		"\"compact_revision\":\"4\"}}";
	static const char error[] =
		"{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: no leader\","
		"\"http_status\":\"Service Unavailable\"}}";
	/* An event whose key does not decode, one of an unknown type, one without a revision:
	 * skipped; the good one kept. */
	static const char mixed[] =
		"{\"result\":{\"events\":[{\"kv\":{\"key\":\"%%\",\"mod_revision\":\"3\"}},"
		"{\"type\":\"EXPIRE\",\"kv\":{\"key\":\"YQ==\",\"mod_revision\":\"3\"}},"
		"{\"kv\":{\"key\":\"YQ==\"}},"
		"{\"type\":\"PUT\",\"kv\":{\"key\":\"YQ==\",\"mod_revision\":\"3\",\"value\":\"Yg==\"}}]}}";
	struct berr err = BERR_INIT;
	struct etcd_watch_msg m;

	assert_int_equal(etcd_parse_watch(compacted, &m, &err), 0);
	assert_true(m.canceled);
	assert_int_equal(m.compact_revision, 4);
	assert_int_equal(m.revision, 0);
	etcd_watch_msg_clear(&m);

	assert_int_equal(etcd_parse_watch(error, &m, &err), 0);
	assert_int_equal(m.error_code, 14);
	assert_string_equal(m.reason, "etcdserver: no leader");
	etcd_watch_msg_clear(&m);

	assert_int_equal(etcd_parse_watch(mixed, &m, &err), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.skipped, 3);
	assert_string_equal(m.events[0].kv.value, "b");
	etcd_watch_msg_clear(&m);

	assert_int_equal(etcd_parse_watch("{\"header\":{}}", &m, &err), -EPROTO);
	assert_int_equal(etcd_parse_watch("[1]", &m, &err), -EPROTO);
	assert_int_equal(etcd_parse_watch("{\"result\":{\"events\":{}}}", &m, &err), -EPROTO);
	assert_int_equal(etcd_parse_watch("{\"result\":{\"compact_revision\":\"x\"}}", &m, &err),
			 -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_cluster),
		cmocka_unit_test(test_url_forms),
		cmocka_unit_test(test_url_errors),
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_binary),
		cmocka_unit_test(test_b64_invalid),
		cmocka_unit_test(test_prefix_end),
		cmocka_unit_test(test_req_kv),
		cmocka_unit_test(test_req_lease_watch),
		cmocka_unit_test(test_req_txn),
		cmocka_unit_test(test_req_txn_invalid),
		cmocka_unit_test(test_int64),
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_parse_range_quirks),
		cmocka_unit_test(test_parse_txn),
		cmocka_unit_test(test_reply_errors),
		cmocka_unit_test(test_error_mapping),
		cmocka_unit_test(test_framer_splits),
		cmocka_unit_test(test_framer_strings_and_errors),
		cmocka_unit_test(test_parse_watch_events),
		cmocka_unit_test(test_parse_watch_control),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
