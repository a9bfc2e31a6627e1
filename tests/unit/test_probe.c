/* SPDX-License-Identifier: Apache-2.0 */
/* The network probe without a kernel: YAML to JSON, the policy file (its grammar, its errors,
 * first match wins, selectors), the networks' own semantics and the policy berth prints for
 * them, which cells a world gets, and the packets the engine sends and reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "common/util.h"
#include "probe/probe.h"
#include "probe/probe_internal.h"

/* ---- a world: networks front, back (internal), quiet (ICC off), bridge (predefined);
 * web on front, db on back, app on front and back, q1 q2 on quiet, b1 on bridge, the host ---- */

enum { N_FRONT, N_BACK, N_QUIET, N_BRIDGE };
enum { HOST, WEB, DB, APP, Q1, Q2, B1, NODES };

static void ep_set(struct probe_node *n, uint32_t net, const char *ip4, const char *ip6)
{
	struct probe_ep *e;

	n->eps = xrealloc(n->eps, (n->n_eps + 1) * sizeof(*n->eps));
	e = &n->eps[n->n_eps++];
	memset(e, 0, sizeof(*e));
	e->net = net;
	if (ip4)
		assert_int_equal(ip_parse(ip4, &e->ip4, NULL), 0);
	if (ip6)
		assert_int_equal(ip_parse(ip6, &e->ip6, NULL), 0);
}

static void node_set(struct probe_world *w, int i, const char *name, const char *label)
{
	struct probe_node *n = &w->nodes[i];

	strscpy(n->name, name, sizeof(n->name));
	snprintf(n->id, sizeof(n->id), "%02d%062d", i, 0);
	if (i != HOST)
		n->netns = xasprintf("/run/netns/%s", name);
	if (label) {
		n->labels = xcalloc(1, sizeof(char *));
		n->labels[n->n_labels++] = xstrdup(label);
	}
}

static void world_make(struct probe_world *w)
{
	static const char *const names[] = { "front", "back", "quiet", "bridge" };

	memset(w, 0, sizeof(*w));
	w->nets = xcalloc(4, sizeof(*w->nets));
	w->n_nets = 4;
	for (int i = 0; i < 4; i++) {
		strscpy(w->nets[i].name, names[i], NAME_LEN);
		strscpy(w->nets[i].driver, "bridge", sizeof(w->nets[i].driver));
		w->nets[i].icc = i != N_QUIET;
		w->nets[i].names = i != N_BRIDGE;
	}
	w->nets[N_BACK].internal = true;
	w->nodes = xcalloc(NODES, sizeof(*w->nodes));
	w->n_nodes = NODES;
	node_set(w, HOST, "host", NULL);
	node_set(w, WEB, "web", "tier=web");
	node_set(w, DB, "db", "tier=db");
	node_set(w, APP, "app", "tier=app");
	node_set(w, Q1, "q1", NULL);
	node_set(w, Q2, "q2", NULL);
	node_set(w, B1, "b1", NULL);
	ep_set(&w->nodes[WEB], N_FRONT, "10.1.0.2", "fd00:1::2");
	ep_set(&w->nodes[DB], N_BACK, "10.2.0.2", NULL);
	ep_set(&w->nodes[APP], N_FRONT, "10.1.0.3", "fd00:1::3");
	ep_set(&w->nodes[APP], N_BACK, "10.2.0.3", NULL);
	ep_set(&w->nodes[Q1], N_QUIET, "10.3.0.2", NULL);
	ep_set(&w->nodes[Q2], N_QUIET, "10.3.0.3", NULL);
	ep_set(&w->nodes[B1], N_BRIDGE, "172.17.0.2", NULL);
	w->nodes[WEB].pubs = xcalloc(1, sizeof(struct probe_pub));
	w->nodes[WEB].n_pubs = 1;
	w->nodes[WEB].pubs[0] = (struct probe_pub){ .proto = PROBE_TCP, .host_port = 8080,
						    .ctr_port = 80 };
	ip_parse("127.0.0.1", &w->nodes[WEB].pubs[0].host, NULL);
	w->nodes[WEB].pubs[0].target = w->nodes[WEB].eps[0].ip4;
}

/* A cell of the world by hand. */
static struct probe_cell cell(int src, int dst, int ep, int proto, int family, uint16_t port)
{
	struct probe_cell c = { .src = (uint32_t)src, .dst = (uint32_t)dst, .ep = ep, .pub = -1,
				.proto = (uint8_t)proto, .family = (uint8_t)family, .port = port,
				.tport = port, .rule = -1 };

	return c;
}

/* ---- YAML ---- */

static cJSON *yaml(const char *text)
{
	struct berr err = BERR_INIT;
	cJSON *j = NULL;

	if (probe_yaml_to_json(text, strlen(text), &j, &err) < 0)
		return NULL;
	return j;
}

static void test_yaml_json(void **state)
{
	cJSON *j = yaml("a: 1\nb: [x, \"2\", true, ~]\nc:\n  d: -7\n  e: '8'\nf: 1.5\n");
	const cJSON *b;

	assert_non_null(j);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "a")));
	b = cJSON_GetObjectItem(j, "b");
	assert_int_equal(cJSON_GetArraySize(b), 4);
	assert_string_equal(cJSON_GetArrayItem(b, 0)->valuestring, "x");
	assert_true(cJSON_IsString(cJSON_GetArrayItem(b, 1)));   /* quoted: stays a string */
	assert_true(cJSON_IsTrue(cJSON_GetArrayItem(b, 2)));
	assert_true(cJSON_IsNull(cJSON_GetArrayItem(b, 3)));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "c"), "d")->valueint, -7);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "c"), "e")));
	assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "f")));   /* not an integer */
	cJSON_Delete(j);
	/* JSON is read too */
	j = yaml("{\"rules\": [{\"from\": \"web\", \"action\": \"allow\"}]}");
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rules")), 1);
	cJSON_Delete(j);
}

static void test_yaml_refused(void **state)
{
	struct berr err = BERR_INIT;
	cJSON *j = NULL;
	const char *bad[] = {
		"a: &x [1, 2]\nb: *x\n",      /* aliases */
		"a: 1\na: 2\n",               /* a key twice */
		"a: [1, 2\n",                 /* unterminated */
		"",                           /* empty */
		"? [a, b]\n: c\n",            /* a key that is not a scalar */
	};
	char deep[300];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		berr_clear(&err);
		assert_int_equal(probe_yaml_to_json(bad[i], strlen(bad[i]), &j, &err), -EINVAL);
		assert_true(err.msg[0]);
	}
	assert_int_equal(probe_yaml_to_json(bad[0], strlen(bad[0]), &j, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "aliases"));
	assert_int_equal(probe_yaml_to_json(bad[2], strlen(bad[2]), &j, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "line "));
	memset(deep, '[', 100);
	deep[100] = '\0';
	assert_int_equal(probe_yaml_to_json(deep, strlen(deep), &j, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "deeply"));
}

/* ---- the policy ---- */

static struct probe_policy *policy(const char *text)
{
	struct probe_policy *p = NULL;
	struct berr err = BERR_INIT;

	if (probe_policy_parse(text, strlen(text), &p, &err) < 0) {
		print_message("policy error: %s\n", err.msg);
		return NULL;
	}
	return p;
}

static void policy_fails(const char *text, const char *want)
{
	struct probe_policy *p = NULL;
	struct berr err = BERR_INIT;

	assert_int_equal(probe_policy_parse(text, strlen(text), &p, &err), -EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("\"%s\" not in \"%s\"", want, err.msg);
	assert_null(p);
}

static void test_policy_errors(void **state)
{
	policy_fails("rules: [{from: web, action: maybe}]", "rules[0].action");
	policy_fails("rules: [{from: web}]", "rules[0].action: expected allow or deny");
	policy_fails("rules: [{prot: tcp, action: allow}]", "rules[0]: unknown key \"prot\"");
	policy_fails("rules: [{proto: sctp, action: allow}]", "rules[0].proto");
	policy_fails("rules: [{port: 70000, action: allow}]", "rules[0].port");
	policy_fails("rules: [{port: \"90-80\", action: allow}]", "rules[0].port");
	policy_fails("rules: [{port: [], action: allow}]", "empty list");
	policy_fails("rules: [{family: 5, action: allow}]", "rules[0].family");
	policy_fails("rules: [{to: host, action: allow}]", "only a source");
	policy_fails("rules: [{from: {net: a}, action: allow}]", "rules[0].from: unknown key");
	policy_fails("rules: [{from: {network: \"\"}, action: allow}]", "expected a name");
	policy_fails("default: maybe", "default");
	policy_fails("rule: []", "unknown key \"rule\"");
	policy_fails("rules: {}", "a list of rules");
	policy_fails("- a\n- b\n", "top level");
}

static int expect(const struct probe_policy *p, const struct probe_world *w,
		  struct probe_cell c, int *ret_rule)
{
	int rule;

	return probe_policy_expect(p, w, &c, ret_rule ? ret_rule : &rule, NULL);
}

static void test_policy_first_match(void **state)
{
	struct probe_world w;
	struct probe_policy *p;
	int rule;

	world_make(&w);
	p = policy("default: deny\n"
		   "rules:\n"
		   "  - {from: web, to: {network: back}, proto: tcp, port: 5432, action: allow}\n"
		   "  - {from: {label: tier=app}, to: db, action: deny}\n"
		   "  - {from: \"*\", to: {network: back}, action: allow}\n"
		   "  - {from: host, action: allow}\n"
		   "  - {from: {label: tier}, proto: [icmp, dns], family: 6, action: allow}\n");
	assert_non_null(p);
	assert_int_equal(probe_policy_rules(p), 5);
	/* rule 1: web -> db@back tcp/5432 */
	assert_int_equal(expect(p, &w, cell(WEB, DB, 0, PROBE_TCP, 4, 5432), &rule), PROBE_REACH);
	assert_int_equal(rule, 0);
	/* another port falls to rule 3 */
	assert_int_equal(expect(p, &w, cell(WEB, DB, 0, PROBE_TCP, 4, 80), &rule), PROBE_REACH);
	assert_int_equal(rule, 2);
	/* rule 2 comes first for app -> db */
	assert_int_equal(expect(p, &w, cell(APP, DB, 0, PROBE_ICMP, 4, 0), &rule), PROBE_BLOCKED);
	assert_int_equal(rule, 1);
	/* the host: rule 4 */
	assert_int_equal(expect(p, &w, cell(HOST, WEB, -1, PROBE_TCP, 4, 8080), &rule), PROBE_REACH);
	assert_int_equal(rule, 3);
	/* a label key alone, protocols and family */
	assert_int_equal(expect(p, &w, cell(WEB, APP, 0, PROBE_DNS, 6, 0), &rule), PROBE_REACH);
	assert_int_equal(rule, 4);
	assert_int_equal(expect(p, &w, cell(WEB, APP, 0, PROBE_DNS, 4, 0), &rule), PROBE_BLOCKED);
	assert_int_equal(rule, -1);   /* the default: deny */
	assert_int_equal(expect(p, &w, cell(Q1, Q2, 0, PROBE_ICMP, 6, 0), &rule), PROBE_BLOCKED);
	/* a port rule never matches ICMP */
	assert_int_equal(expect(p, &w, cell(WEB, DB, 0, PROBE_ICMP, 4, 0), &rule), PROBE_REACH);
	assert_int_equal(rule, 2);
	probe_policy_free(p);
	probe_world_free(&w);
}

static void test_policy_selectors(void **state)
{
	struct probe_world w;
	struct probe_policy *p;
	int rule;

	world_make(&w);
	/* from network: the source is on it; to network: the target address is on it */
	p = policy("rules:\n  - {from: {network: back}, to: {network: front}, action: deny}\n"
		   "  - {from: {container: app, network: front}, to: \"container:db\", "
		   "port: 1-100, action: allow}\n"
		   "default: allow\n");
	assert_non_null(p);
	assert_int_equal(expect(p, &w, cell(APP, WEB, 0, PROBE_ICMP, 4, 0), &rule), PROBE_BLOCKED);
	assert_int_equal(rule, 0);   /* app is on back */
	assert_int_equal(expect(p, &w, cell(WEB, APP, 0, PROBE_ICMP, 4, 0), &rule), PROBE_REACH);
	assert_int_equal(rule, -1);  /* web is not on back: the default, allow */
	assert_int_equal(expect(p, &w, cell(DB, APP, 1, PROBE_ICMP, 4, 0), &rule), PROBE_REACH);
	assert_int_equal(rule, -1);  /* app@back is not on front */
	assert_int_equal(expect(p, &w, cell(APP, DB, 0, PROBE_UDP, 4, 53), &rule), PROBE_REACH);
	assert_int_equal(rule, 1);
	/* the host is matched by "host" and "*" only */
	assert_int_equal(expect(p, &w, cell(HOST, WEB, -1, PROBE_TCP, 4, 8080), &rule),
			 PROBE_REACH);
	assert_int_equal(rule, -1);
	probe_policy_free(p);
	/* a container by its full ID; an unknown network matches nothing */
	p = policy("rules: [{from: {container: \"0300000000000000000000000000000000000000000000000"
		   "000000000000000\"}, action: deny}, {to: {network: nope}, action: deny}]\n"
		   "default: allow\n");
	assert_non_null(p);
	assert_int_equal(expect(p, &w, cell(APP, WEB, 0, PROBE_ICMP, 4, 0), &rule), PROBE_BLOCKED);
	assert_int_equal(expect(p, &w, cell(WEB, APP, 0, PROBE_ICMP, 4, 0), &rule), PROBE_REACH);
	probe_policy_free(p);
	probe_world_free(&w);
}

static void test_default_semantics(void **state)
{
	struct probe_world w;
	const char *why;

	world_make(&w);
	assert_int_equal(probe_default_expect(&w, &(struct probe_cell){ .src = WEB, .dst = APP,
		.ep = 0, .proto = PROBE_TCP }, &why), PROBE_REACH);
	assert_non_null(strstr(why, "same network"));
	assert_int_equal(probe_default_expect(&w, &(struct probe_cell){ .src = WEB, .dst = DB,
		.ep = 0, .proto = PROBE_TCP }, &why), PROBE_BLOCKED);
	assert_non_null(strstr(why, "internal"));
	assert_int_equal(probe_default_expect(&w, &(struct probe_cell){ .src = B1, .dst = WEB,
		.ep = 0, .proto = PROBE_ICMP }, &why), PROBE_BLOCKED);
	assert_non_null(strstr(why, "different networks"));
	assert_int_equal(probe_default_expect(&w, &(struct probe_cell){ .src = APP, .dst = DB,
		.ep = 0, .proto = PROBE_UDP }, &why), PROBE_REACH);   /* both on back */
	assert_int_equal(probe_default_expect(&w, &(struct probe_cell){ .src = Q1, .dst = Q2,
		.ep = 0, .proto = PROBE_ICMP }, &why), PROBE_BLOCKED);
	assert_non_null(strstr(why, "inter-container"));
	assert_int_equal(probe_default_expect(&w, &(struct probe_cell){ .src = Q1, .dst = Q2,
		.ep = 0, .proto = PROBE_DNS }, &why), PROBE_REACH);   /* names still resolve */
	assert_int_equal(probe_default_expect(&w, &(struct probe_cell){ .src = WEB, .dst = DB,
		.ep = 0, .proto = PROBE_DNS }, &why), PROBE_BLOCKED);
	assert_int_equal(probe_default_expect(&w, &(struct probe_cell){ .src = HOST, .dst = WEB,
		.ep = -1, .proto = PROBE_TCP }, &why), PROBE_REACH);
	/* two containers on the predefined bridge: reach, no names */
	ep_set(&w.nodes[Q1], N_BRIDGE, "172.17.0.3", NULL);
	assert_int_equal(probe_default_expect(&w, &(struct probe_cell){ .src = Q1, .dst = B1,
		.ep = 0, .proto = PROBE_TCP }, &why), PROBE_REACH);
	assert_int_equal(probe_default_expect(&w, &(struct probe_cell){ .src = Q1, .dst = B1,
		.ep = 0, .proto = PROBE_DNS }, &why), PROBE_BLOCKED);
	probe_world_free(&w);
}

/* The policy berth prints expects, cell for cell, what the networks' semantics expect. */
static void test_implied_policy(void **state)
{
	struct probe_world w;
	struct probe_opts o = { 0 };
	struct probe_cell *cells = NULL;
	struct berr err = BERR_INIT;
	struct probe_policy *p;
	size_t n = 0;
	char *text;

	world_make(&w);
	ep_set(&w.nodes[Q1], N_FRONT, "10.1.0.9", NULL);   /* q1 on quiet and front */
	text = probe_policy_implied(&w);
	p = policy(text);
	assert_non_null(p);
	assert_int_equal(probe_cells_build(&w, &o, &cells, &n, &err), 0);
	assert_true(n > 100);
	for (size_t i = 0; i < n; i++) {
		const char *why;
		int rule, want = probe_default_expect(&w, &cells[i], &why);

		if (probe_policy_expect(p, &w, &cells[i], &rule, NULL) != want)
			fail_msg("cell %zu (%u -> %u ep %d proto %u): the implied policy differs",
				 i, cells[i].src, cells[i].dst, cells[i].ep, cells[i].proto);
	}
	free(cells);
	free(text);
	probe_policy_free(p);
	probe_world_free(&w);
}

/* ---- cells ---- */

static size_t count(const struct probe_cell *c, size_t n, int src, int dst, int proto,
		    int family)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += (src < 0 || (int)c[i].src == src) && (dst < 0 || (int)c[i].dst == dst) &&
		     (proto < 0 || c[i].proto == proto) && (family < 0 || c[i].family == family);
	return k;
}

static void test_cells(void **state)
{
	struct probe_world w;
	struct probe_opts o = { 0 };
	struct probe_cell *c = NULL;
	struct berr err = BERR_INIT;
	size_t n = 0;

	world_make(&w);
	/* db listens on 5432 (any address) and 53/udp on its address only */
	w.nodes[DB].listen = xcalloc(3, sizeof(struct probe_listen));
	w.nodes[DB].n_listen = 3;
	w.nodes[DB].listen[0] = (struct probe_listen){ .proto = PROBE_TCP, .port = 5432,
						       .addr = { .family = AF_INET6 } };
	w.nodes[DB].listen[1] = (struct probe_listen){ .proto = PROBE_UDP, .port = 53 };
	ip_parse("10.2.0.2", &w.nodes[DB].listen[1].addr, NULL);
	w.nodes[DB].listen[2] = (struct probe_listen){ .proto = PROBE_TCP, .port = 22 };
	ip_parse("10.9.9.9", &w.nodes[DB].listen[2].addr, NULL);   /* another address */
	assert_int_equal(probe_cells_build(&w, &o, &c, &n, &err), 0);
	/* no cell from a container to itself, none to the host */
	for (size_t i = 0; i < n; i++) {
		assert_int_not_equal(c[i].src, c[i].dst);
		assert_int_not_equal(c[i].dst, HOST);
	}
	/* web -> app: two addresses v4 (front, back) + one v6, 4 protocols each */
	assert_int_equal(count(c, n, WEB, APP, -1, 4), 8);
	assert_int_equal(count(c, n, WEB, APP, -1, 6), 4);
	/* web -> db: its own ports (5432 through the IPv6 wildcard socket), UDP 53 */
	for (size_t i = 0; i < n; i++) {
		if (c[i].src != WEB || c[i].dst != DB)
			continue;
		if (c[i].proto == PROBE_TCP)
			assert_int_equal(c[i].port, 5432);
		if (c[i].proto == PROBE_UDP) {
			assert_int_equal(c[i].port, 53);
			assert_true(c[i].real_listener);
		}
	}
	/* a target listening on nothing: the default port, a probe listener */
	for (size_t i = 0; i < n; i++)
		if (c[i].dst == Q2 && c[i].proto == PROBE_UDP) {
			assert_int_equal(c[i].port, PROBE_PORT_DEFAULT);
			assert_false(c[i].real_listener);
		}
	/* the host: only the published port */
	assert_int_equal(count(c, n, HOST, -1, -1, -1), 1);
	assert_int_equal(c[0].src, HOST);
	assert_int_equal(c[0].port, 8080);
	assert_int_equal(c[0].tport, 80);
	assert_int_equal(c[0].ep, -1);
	free(c);
	/* options: tcp 80,443 over IPv6 only */
	o = (struct probe_opts){ .protos = 1u << PROBE_TCP, .families = PROBE_V6,
				 .ports = { 80, 443 }, .n_ports = 2 };
	assert_int_equal(probe_cells_build(&w, &o, &c, &n, &err), 0);
	/* every other container to web and app over fd00:1:: (even those without IPv6: they
	 * find no route), two ports each */
	assert_int_equal(n, 2 * 5 * 2);
	assert_int_equal(count(c, n, -1, -1, PROBE_TCP, 6), n);
	assert_int_equal(count(c, n, WEB, APP, -1, -1), 2);
	assert_int_equal(count(c, n, DB, -1, -1, -1), 4);
	free(c);
	probe_world_free(&w);
}

static void test_cell_words(void **state)
{
	struct probe_world w;
	struct probe_cell c = cell(WEB, APP, 1, PROBE_TCP, 4, 80);
	char buf[256];

	world_make(&w);
	c.addr = w.nodes[APP].eps[1].ip4;
	probe_cell_name(&w, &c, buf, sizeof(buf));
	assert_string_equal(buf, "web -> app@back tcp/80 IPv4");
	c.verdict = PROBE_BLOCKED;
	c.why = PW_UNREACHABLE;
	c.code = 3 << 8 | 13;
	ip_parse("10.2.0.1", &c.from, NULL);
	probe_cell_reason(&c, buf, sizeof(buf));
	assert_string_equal(buf, "administratively prohibited (ICMP from 10.2.0.1)");
	c.verdict = PROBE_REACH;
	c.why = PW_REFUSED;
	probe_cell_reason(&c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "refused"));
	c.verdict = PROBE_ERROR;
	c.why = PW_TIME_LIMIT;
	probe_cell_reason(&c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "time limit"));
	assert_string_equal(probe_verdict_name(PROBE_BLOCKED), "blocked");
	assert_int_equal(probe_proto_parse("dns"), PROBE_DNS);
	assert_int_equal(probe_proto_parse("sctp"), -EINVAL);
	assert_int_equal(probe_world_node(&w, "app"), APP);
	assert_int_equal(probe_world_node(&w, "04"), Q1);   /* a unique ID prefix */
	assert_int_equal(probe_world_node(&w, "0"), -1);    /* ambiguous */
	probe_world_free(&w);
}

/* ---- packets ---- */

static void test_echo(void **state)
{
	struct probe_payload p = { .magic = PROBE_MAGIC_ICMP, .token = 0xabcdef01, .cell = 77 };
	uint8_t pkt[128] = { 0x45, 0, 0, 48, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 9, 10, 0, 0, 2 };
	uint8_t echo[64];
	struct icmp_answer a;
	size_t len = probe_echo_build(4, 0x1234, 77, &p, echo, sizeof(echo));
	uint32_t sum = 0;

	assert_int_equal(len, 8 + sizeof(p));
	for (size_t i = 0; i < len; i += 2)   /* the checksum sums to all ones */
		sum += (uint32_t)(echo[i] << 8 | echo[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff);
	/* the reply: an IPv4 header, then the echo as type 0 */
	memcpy(pkt + 20, echo, len);
	pkt[20] = 0;
	assert_int_equal(probe_icmp_parse(4, pkt, 20 + len, NULL, &a), 0);
	assert_true(a.reply);
	assert_int_equal(a.id, 0x1234);
	assert_int_equal(a.p.cell, 77);
	assert_int_equal(a.from.b[3], 9);
	/* an error quoting our echo: type 3 code 13, the quoted header, the echo */
	memset(pkt + 20, 0, 8);
	pkt[20] = 3;
	pkt[21] = 13;
	memcpy(pkt + 28, "\x45\0\0\x30\0\0\0\0\x40\x01\0\0\x0a\0\0\x02\x0a\0\0\x09", 20);
	memcpy(pkt + 48, echo, len);
	assert_int_equal(probe_icmp_parse(4, pkt, 48 + len, NULL, &a), 0);
	assert_false(a.reply);
	assert_int_equal(a.type, 3);
	assert_int_equal(a.code, 13);
	assert_int_equal(a.seq, 77);
	assert_true(a.has_payload);
	/* truncated or not about an echo */
	assert_int_equal(probe_icmp_parse(4, pkt, 30, NULL, &a), -EINVAL);
	pkt[48] = 13;
	assert_int_equal(probe_icmp_parse(4, pkt, 48 + len, NULL, &a), -EINVAL);
	/* IPv6: no IP header, ICMPv6 types */
	len = probe_echo_build(6, 1, 2, &p, echo, sizeof(echo));
	echo[0] = 129;
	assert_int_equal(probe_icmp_parse(6, echo, len, NULL, &a), 0);
	assert_true(a.reply);
	assert_int_equal(a.p.token, 0xabcdef01);
}

static void test_observed(void **state)
{
	uint8_t pkt[80] = { 0x45, 0, 0, 40, 0, 0, 0, 0, 64, IPPROTO_UDP, 0, 0, 10, 0, 0, 9,
			    10, 0, 0, 2, 0x80, 0, 0x82, 0x9a, 0, 20, 0, 0 };
	struct probe_payload p = { .magic = PROBE_MAGIC_UDP, .token = 5, .cell = 9 }, got;
	struct ipaddr dst;
	uint16_t port;

	memcpy(pkt + 28, &p, sizeof(p));
	assert_int_equal(probe_observed_parse(pkt, 40, &dst, &port, &got), 0);
	assert_int_equal(port, 33434);
	assert_int_equal(got.cell, 9);
	assert_int_equal(dst.b[3], 2);
	assert_int_equal(probe_observed_parse(pkt, 39, &dst, &port, &got), -EINVAL);
	pkt[28] ^= 1;   /* not a probe datagram */
	assert_int_equal(probe_observed_parse(pkt, 40, &dst, &port, &got), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_json),
		cmocka_unit_test(test_yaml_refused),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_policy_first_match),
		cmocka_unit_test(test_policy_selectors),
		cmocka_unit_test(test_default_semantics),
		cmocka_unit_test(test_implied_policy),
		cmocka_unit_test(test_cells),
		cmocka_unit_test(test_cell_words),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_observed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
