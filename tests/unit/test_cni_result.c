/* SPDX-License-Identifier: Apache-2.0 */
/* berth-cni's results (plugins/cni/result.c): conversion between spec versions (0.4.0 "version"
 * tags, 1.1.0-only attributes), the ADD result built from berthd's reply with and without a
 * prevResult, what CHECK expects, VERSION's answer, error objects; and a few decodings of the
 * configuration (plugins/cni/config.c). No privileges; the plugin's sources are compiled in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "plugins/cni/config.c"
#include "plugins/cni/result.c"

static cJSON *parse(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	assert_non_null(j);
	return j;
}

/* jq-like: the string at a path of keys and indexes ("ips", "0", "address"). */
static const cJSON *at(const cJSON *j, const char *a, const char *b, const char *c)
{
	const char *path[3] = { a, b, c };

	for (int i = 0; i < 3 && path[i] && j; i++)
		j = (path[i][0] >= '0' && path[i][0] <= '9') ? cJSON_GetArrayItem(j, atoi(path[i]))
							  : cJSON_GetObjectItemCaseSensitive(j, path[i]);
	return j;
}

static const char *str_at(const cJSON *j, const char *a, const char *b, const char *c)
{
	const char *s = cJSON_GetStringValue(at(j, a, b, c));

	return s ? s : "(none)";
}

#define RESULT_040 "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\"," \
	"\"sandbox\":\"/run/netns/x\"}],\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.2/24\"," \
	"\"gateway\":\"10.0.0.1\",\"interface\":0},{\"version\":\"6\",\"address\":\"fd00::2/64\"," \
	"\"interface\":0}],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.0.0.1\"}]," \
	"\"dns\":{\"nameservers\":[\"127.0.0.11\"]}}"

static void convert_040_to_100_drops_version(void **state)
{
	cJSON *in = parse(RESULT_040), *out;
	struct cni_error err = { 0 };

	out = cni_result_convert(in, "1.0.0", &err);
	assert_non_null(out);
	assert_string_equal(str_at(out, "cniVersion", NULL, NULL), "1.0.0");
	assert_null(at(out, "ips", "0", "version"));
	assert_null(at(out, "ips", "1", "version"));
	assert_string_equal(str_at(out, "ips", "1", "address"), "fd00::2/64");
	assert_string_equal(str_at(out, "routes", "0", "gw"), "10.0.0.1");
	assert_string_equal(str_at(out, "dns", "nameservers", "0"), "127.0.0.11");
	cJSON_Delete(out);
	cJSON_Delete(in);
}

static void convert_100_to_040_adds_version(void **state)
{
	cJSON *in = parse("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/x\"}],"
			  "\"ips\":[{\"address\":\"fd00::5/64\",\"interface\":0},{\"address\":\"10.1.0.5/16\"}]}");
	struct cni_error err = { 0 };
	cJSON *out = cni_result_convert(in, "0.4.0", &err);

	assert_non_null(out);
	assert_string_equal(str_at(out, "cniVersion", NULL, NULL), "0.4.0");
	assert_string_equal(str_at(out, "ips", "0", "version"), "6");
	assert_string_equal(str_at(out, "ips", "1", "version"), "4");
	cJSON_Delete(out);
	cJSON_Delete(in);
}

static void convert_110_attributes(void **state)
{
	cJSON *in = parse("{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"mtu\":1400,"
			  "\"socketPath\":\"/s\",\"pciID\":\"0000:00:01.0\",\"sandbox\":\"/x\"}],"
			  "\"routes\":[{\"dst\":\"10.9.0.0/16\",\"mtu\":1300,\"advmss\":1200,\"priority\":5,"
			  "\"table\":100,\"scope\":0}]}");
	struct cni_error err = { 0 };
	cJSON *keep = cni_result_convert(in, "1.1.0", &err), *down;

	assert_non_null(keep);
	assert_non_null(at(keep, "interfaces", "0", "mtu"));
	assert_non_null(at(keep, "routes", "0", "table"));
	down = cni_result_convert(in, "1.0.0", &err);
	assert_non_null(down);
	for (const char *const *k = v110_if_keys; k < v110_if_keys + ARRAY_SIZE(v110_if_keys); k++)
		assert_null(at(down, "interfaces", "0", *k));
	for (const char *const *k = v110_route_keys; k < v110_route_keys + ARRAY_SIZE(v110_route_keys); k++)
		assert_null(at(down, "routes", "0", *k));
	assert_string_equal(str_at(down, "routes", "0", "dst"), "10.9.0.0/16");
	cJSON_Delete(keep);
	cJSON_Delete(down);
	cJSON_Delete(in);
}

static void convert_refuses_bad_results(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"interfaces\":{}}",
		"{\"interfaces\":[\"eth0\"]}",
		"{\"interfaces\":[{\"mac\":\"x\"}]}",
		"{\"ips\":[{\"address\":\"10.0.0.1\"}]}",                      /* no prefix */
		"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":0}]}",  /* no such interface */
		"{\"interfaces\":[{\"name\":\"a\"}],\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":-1}]}",
		"{\"interfaces\":[{\"name\":\"a\"}],\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":0.5}]}",
		"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"gateway\":\"nope\"}]}",
		"{\"routes\":[{\"gw\":\"10.0.0.1\"}]}",
		"{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":7}]}",
		"{\"dns\":[]}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cJSON *in = parse(bad[i]);
		struct cni_error err = { 0 };

		assert_null(cni_result_convert(in, "1.0.0", &err));
		assert_int_equal(err.code, CNI_ERR_DECODE);
		assert_true(strlen(err.details) > 0);
		cJSON_Delete(in);
	}
}

#define REPLY "{\"Interfaces\":[{\"Name\":\"eth1\",\"Mac\":\"02:00:00:00:00:09\",\"Sandbox\":\"/run/netns/p\"}," \
	"{\"Name\":\"bv0123456789abc\",\"Mac\":\"06:00:00:00:00:01\"}]," \
	"\"IPs\":[{\"Address\":\"10.7.0.3/24\",\"Gateway\":\"10.7.0.1\"},{\"Address\":\"fd00:7::3/64\"}]," \
	"\"Routes\":[{\"Dst\":\"0.0.0.0/0\",\"Gw\":\"10.7.0.1\"}]," \
	"\"DNS\":{\"Nameservers\":[\"127.0.0.11\"],\"Search\":[],\"Options\":[\"ndots:0\"]}}"

static void build_first_plugin(void **state)
{
	static const char *const versions[] = { "0.4.0", "1.0.0", "1.1.0" };
	cJSON *reply = parse(REPLY);

	for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
		struct cni_error err = { 0 };
		cJSON *out = cni_result_build(reply, NULL, versions[i], &err);
		bool tagged = i == 0;

		assert_non_null(out);
		assert_string_equal(str_at(out, "cniVersion", NULL, NULL), versions[i]);
		assert_string_equal(str_at(out, "interfaces", "0", "sandbox"), "/run/netns/p");
		assert_null(at(out, "interfaces", "1", "sandbox"));
		assert_int_equal(at(out, "ips", "1", "interface")->valueint, 0);
		assert_null(at(out, "ips", "1", "gateway"));
		assert_string_equal(str_at(out, "ips", "0", "gateway"), "10.7.0.1");
		assert_string_equal(str_at(out, "ips", "1", "version"), tagged ? "6" : "(none)");
		assert_string_equal(str_at(out, "routes", "0", "dst"), "0.0.0.0/0");
		assert_string_equal(str_at(out, "dns", "nameservers", "0"), "127.0.0.11");
		assert_null(at(out, "dns", "search", NULL));    /* empty lists are left out */
		assert_string_equal(str_at(out, "dns", "options", "0"), "ndots:0");
		cJSON_Delete(out);
	}
	cJSON_Delete(reply);
}

static void build_appends_to_prev(void **state)
{
	cJSON *reply = parse(REPLY);
	cJSON *prev = parse("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"br\"},{\"name\":\"eth0\","
			    "\"sandbox\":\"/run/netns/p\"}],\"ips\":[{\"address\":\"192.0.2.2/24\","
			    "\"interface\":1}],\"dns\":{\"nameservers\":[\"192.0.2.1\"]}}");
	struct cni_error err = { 0 };
	cJSON *out = cni_result_build(reply, prev, "0.4.0", &err);

	assert_non_null(out);
	assert_int_equal(cJSON_GetArraySize(at(out, "interfaces", NULL, NULL)), 4);
	assert_string_equal(str_at(out, "interfaces", "2", "name"), "eth1");
	assert_int_equal(at(out, "ips", "0", "interface")->valueint, 1);
	assert_int_equal(at(out, "ips", "1", "interface")->valueint, 2);
	assert_string_equal(str_at(out, "ips", "0", "version"), "4");
	/* an earlier plugin's nameservers stay */
	assert_string_equal(str_at(out, "dns", "nameservers", "0"), "192.0.2.1");
	assert_int_equal(cJSON_GetArraySize(at(out, "dns", "nameservers", NULL)), 1);
	cJSON_Delete(out);
	cJSON_Delete(prev);
	cJSON_Delete(reply);
}

static void build_refuses_bad_reply_or_prev(void **state)
{
	cJSON *reply = parse(REPLY), *noif = parse("{\"Interfaces\":[],\"IPs\":[],\"Routes\":[]}");
	cJSON *prev = parse("{\"ips\":[{\"address\":\"x\"}]}");
	struct cni_error err = { 0 };

	assert_null(cni_result_build(noif, NULL, "1.0.0", &err));
	assert_int_equal(err.code, CNI_ERR_INTERNAL);
	assert_null(cni_result_build(reply, prev, "1.0.0", &err));
	assert_int_equal(err.code, CNI_ERR_DECODE);
	cJSON_Delete(prev);
	cJSON_Delete(noif);
	cJSON_Delete(reply);
}

static void check_expect_picks_the_interface(void **state)
{
	cJSON *prev = parse("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/n/a\","
			    "\"mac\":\"02:00:00:00:00:01\"},{\"name\":\"eth1\",\"sandbox\":\"/n/a\","
			    "\"mac\":\"02:00:00:00:00:02\"}],\"ips\":[{\"address\":\"10.0.0.2/24\",\"interface\":0},"
			    "{\"address\":\"10.1.0.2/24\",\"interface\":1}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}");
	struct cni_error err = { 0 };
	cJSON *x = cni_check_expect(prev, "eth1", "/n/a", &err);

	assert_non_null(x);
	assert_string_equal(str_at(x, "Mac", NULL, NULL), "02:00:00:00:00:02");
	assert_int_equal(cJSON_GetArraySize(at(x, "IPs", NULL, NULL)), 1);
	assert_string_equal(str_at(x, "IPs", "0", NULL), "10.1.0.2/24");
	assert_string_equal(str_at(x, "Routes", "0", "Dst"), "0.0.0.0/0");
	assert_null(at(x, "Routes", "0", "Gw"));
	cJSON_Delete(x);
	assert_null(cni_check_expect(prev, "eth2", "/n/a", &err));
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	assert_null(cni_check_expect(prev, "eth0", "/n/other", &err));
	assert_null(cni_check_expect(NULL, "eth0", "/n/a", &err));
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	cJSON_Delete(prev);
}

static void version_and_error_objects(void **state)
{
	struct cni_error err = { .code = 50, .msg = "berthd is not reachable", .details = "d" };
	cJSON *v = cni_version_info("0.4.0"), *e = cni_error_json(&err, "1.1.0");
	cJSON *v2 = cni_version_info("");

	assert_string_equal(str_at(v, "cniVersion", NULL, NULL), "0.4.0");
	assert_int_equal(cJSON_GetArraySize(at(v, "supportedVersions", NULL, NULL)), 3);
	assert_string_equal(str_at(v, "supportedVersions", "2", NULL), "1.1.0");
	assert_string_equal(str_at(v2, "cniVersion", NULL, NULL), "1.1.0");
	assert_int_equal(at(e, "code", NULL, NULL)->valueint, 50);
	assert_string_equal(str_at(e, "msg", NULL, NULL), "berthd is not reachable");
	assert_string_equal(str_at(e, "details", NULL, NULL), "d");
	cJSON_Delete(v);
	cJSON_Delete(v2);
	cJSON_Delete(e);
}

/* ---- configuration decoding ---- */

static int decode(const char *cmd, const char *args, const char *conf, struct cni_call *c,
		  struct cni_error *err)
{
	struct cni_env env = { .command = cmd, .containerid = "c1", .netns = "/run/netns/n",
			       .ifname = "eth0", .args = args };

	return cni_call_decode(&env, conf, conf ? strlen(conf) : 0, c, err);
}

static void decode_add(void **state)
{
	struct cni_call c;
	struct cni_error err;

	assert_int_equal(decode("ADD", "IgnoreUnknown=1;K8S_POD_NAME=p1;FOO=x;IP=10.0.0.9,fd00::9",
				"{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"type\":\"berth-cni\","
				"\"runtimeConfig\":{\"aliases\":{\"n1\":[\"a\",\"b\"],\"n2\":[\"z\"]},"
				"\"mac\":\"02:AA:00:00:00:01\"}}", &c, &err), 0);
	assert_string_equal(c.network, "n1");
	assert_string_equal(c.socket, CNI_SOCKET_DEFAULT);
	assert_string_equal(c.pod_name, "p1");
	assert_string_equal(c.mac, "02:aa:00:00:00:01");
	assert_int_equal(cJSON_GetArraySize(c.aliases), 2);
	assert_int_equal(cJSON_GetArraySize(c.ips), 2);
	cni_call_free(&c);
}

static void decode_refusals(void **state)
{
	static const struct { const char *cmd, *args, *conf; int code; } cases[] = {
		{ "ADD", "", "{\"cniVersion\":\"0.3.1\",\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_VERSION },
		{ "GC", "", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_VERSION },
		{ "ADD", "FOO=1", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_ENV },
		{ "ADD", "", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"ipam\":{}}", CNI_ERR_FIELD },
		{ "ADD", "", "{\"cniVersion\":\"1.0.0\",\"name\":\"n/..\",\"type\":\"t\"}", CNI_ERR_CONFIG },
		{ "ADD", "", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"a/b\"}", CNI_ERR_CONFIG },
		{ "ADD", "", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"runtimeConfig\":"
		  "{\"ips\":[\"10.0.0.1\",\"10.0.0.2\",\"fd00::1\"]}}", CNI_ERR_CONFIG },
		{ "ADD", "", "{\"cniVersion\":\"1.0.0\",", CNI_ERR_DECODE },
		{ "ADD", "", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\"} {}", CNI_ERR_DECODE },
		{ "NOPE", "", "{}", CNI_ERR_ENV },
		/* found by fuzz_cni_config: a key twice means two things to two decoders */
		{ "ADD", "", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"prevResult\":"
		  "{\"ips\":[],\"ips\":{}}}", CNI_ERR_DECODE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cni_call c;
		struct cni_error err;

		assert_int_equal(decode(cases[i].cmd, cases[i].args, cases[i].conf, &c, &err), -1);
		assert_int_equal(err.code, cases[i].code);
		cni_call_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(convert_040_to_100_drops_version),
		cmocka_unit_test(convert_100_to_040_adds_version),
		cmocka_unit_test(convert_110_attributes),
		cmocka_unit_test(convert_refuses_bad_results),
		cmocka_unit_test(build_first_plugin),
		cmocka_unit_test(build_appends_to_prev),
		cmocka_unit_test(build_refuses_bad_reply_or_prev),
		cmocka_unit_test(check_expect_picks_the_interface),
		cmocka_unit_test(version_and_error_objects),
		cmocka_unit_test(decode_add),
		cmocka_unit_test(decode_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
