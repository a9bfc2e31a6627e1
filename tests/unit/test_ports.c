/* SPDX-License-Identifier: Apache-2.0 */
/* The -p grammar and the PortBindings pieces (common/portspec.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "common/portspec.h"
#include "common/util.h"

static struct portspec parse_ok(const char *s)
{
	struct portspec p;
	struct berr err = BERR_INIT;

	if (portspec_parse(s, &p, &err) < 0)
		fail_msg("%s: %s", s, err.msg);
	return p;
}

static void parse_bad(const char *s, const char *want)
{
	struct portspec p;
	struct berr err = BERR_INIT;

	assert_true(portspec_parse(s, &p, &err) < 0);
	if (!strstr(err.msg, want))
		fail_msg("%s: \"%s\" lacks \"%s\"", s, err.msg, want);
}

static void test_simple(void **state)
{
	struct portspec p = parse_ok("80");

	assert_int_equal(p.ctr_lo, 80);
	assert_int_equal(p.ctr_hi, 80);
	assert_int_equal(p.host_lo, 0);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.host_ip.family, 0);
	p = parse_ok("8080:80/udp");
	assert_int_equal(p.host_lo, 8080);
	assert_int_equal(p.host_hi, 8080);
	assert_int_equal(p.proto, IPPROTO_UDP);
	p = parse_ok("5000:5000/sctp");
	assert_int_equal(p.proto, IPPROTO_SCTP);
}

static void test_addresses(void **state)
{
	struct portspec p = parse_ok("127.0.0.1:5353:53/udp");
	char a[IP_STRLEN];

	assert_string_equal(ip_fmt(&p.host_ip, a), "127.0.0.1");
	assert_int_equal(p.host_lo, 5353);
	p = parse_ok("[::1]:8443:443");
	assert_string_equal(ip_fmt(&p.host_ip, a), "::1");
	assert_int_equal(p.ctr_lo, 443);
	p = parse_ok("[2001:db8::1]::80");
	assert_string_equal(ip_fmt(&p.host_ip, a), "2001:db8::1");
	assert_int_equal(p.host_lo, 0);
	p = parse_ok("10.0.0.1::80");
	assert_int_equal(p.host_lo, 0);
	assert_int_equal(p.ctr_lo, 80);
}

static void test_ranges(void **state)
{
	struct portspec p = parse_ok("9000-9009:9000-9009");
	cJSON *b = cJSON_CreateObject(), *e = cJSON_CreateObject();

	assert_int_equal(p.host_hi - p.host_lo, 9);
	portspec_to_bindings(&p, b, e);
	assert_int_equal(cJSON_GetArraySize(b), 10);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "9005/tcp"), 0)
				    ->child->next->valuestring, "9005");
	cJSON_Delete(b);
	cJSON_Delete(e);
	p = parse_ok("8000-8010:80");
	b = cJSON_CreateObject();
	portspec_to_bindings(&p, b, NULL);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "80/tcp"),
								   0), "HostPort")->valuestring,
			    "8000-8010");
	cJSON_Delete(b);
}

static void test_errors(void **state)
{
	parse_bad("80/icmp", "invalid protocol");
	parse_bad("::1:8080:80", "brackets");
	parse_bad("[::1:8080:80", "brackets");
	parse_bad("1.2.3:80:80", "invalid host address");
	parse_bad("[::ffff:10.0.0.1]:80:80", "write 10.0.0.1");
	parse_bad("70000", "invalid container port");
	parse_bad("0", "invalid container port");
	parse_bad("80-70", "invalid container port");
	parse_bad("8080-8081:80-82", "differ in size");
	parse_bad("x:80", "invalid host port");
	parse_bad("", "invalid container port");
}

static void test_pieces(void **state)
{
	struct berr err = BERR_INIT;
	uint16_t port, lo, hi;
	uint8_t proto;
	struct ipaddr ip;

	assert_int_equal(portspec_key_parse("53/udp", &port, &proto, &err), 0);
	assert_int_equal(port, 53);
	assert_int_equal(proto, IPPROTO_UDP);
	assert_int_equal(portspec_key_parse("80", &port, &proto, &err), 0);
	assert_int_equal(proto, IPPROTO_TCP);
	assert_true(portspec_key_parse("80/xyz", &port, &proto, &err) < 0);
	assert_true(portspec_key_parse("99999/tcp", &port, &proto, &err) < 0);
	assert_int_equal(portspec_hostport_parse("", &lo, &hi, &err), 0);
	assert_int_equal(lo, 0);
	assert_int_equal(portspec_hostport_parse("8000-8010", &lo, &hi, &err), 0);
	assert_int_equal(hi, 8010);
	assert_true(portspec_hostport_parse("8010-8000", &lo, &hi, &err) < 0);
	assert_int_equal(portspec_hostip_parse("[::1]", &ip, &err), 0);
	assert_int_equal(ip.family, AF_INET6);
	assert_int_equal(portspec_hostip_parse("", &ip, &err), 0);
	assert_int_equal(ip.family, 0);
	assert_true(portspec_hostip_parse("nope", &ip, &err) < 0);
	assert_true(portspec_hostip_parse("::ffff:127.0.0.1", &ip, &err) < 0);
	assert_non_null(strstr(err.msg, "HostIp \"::ffff:127.0.0.1\": an IPv4-mapped IPv6 address; write 127.0.0.1"));
	assert_string_equal(portspec_proto_name(IPPROTO_SCTP), "sctp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),  cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_ranges),  cmocka_unit_test(test_errors),
		cmocka_unit_test(test_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
