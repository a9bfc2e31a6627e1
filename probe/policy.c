/* SPDX-License-Identifier: Apache-2.0 */
/* What a probe's cells should see. A policy is a list of allow/deny rules tried in order, the
 * first that matches a cell deciding; a cell no rule matches gets the default, by default the
 * networks' own semantics (probe_default_expect). The file is YAML (libyaml) or JSON, read into
 * one cJSON tree and validated here, every unknown key or bad value refused with its place. */
#include <stdarg.h>

#include "common/util.h"
#include "probe/probe.h"

#define RULES_MAX 10000
#define RULE_PORTS_MAX 32

enum pol_default { DEF_NETWORKS, DEF_ALLOW, DEF_DENY };

struct sel {
	bool host;                 /* the host (published ports) */
	char *network, *container, *label;   /* NULL: any; label "key" or "key=value" */
};

struct port_range {
	uint16_t lo, hi;
};

struct rule {
	struct sel from, to;
	unsigned protos;           /* 0: all */
	unsigned families;         /* 0: both */
	struct port_range ports[RULE_PORTS_MAX];
	size_t n_ports;            /* 0: any port (and protocols without ports) */
	bool allow;
};

struct probe_policy {
	enum pol_default def;
	struct rule *rules;
	size_t n;
};

/* ---- parsing ---- */

/* Errors name where: "rules[2].to.network: ..." */
static int perr(struct berr *err, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(struct berr *err, const char *where, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return berr_set(err, -EINVAL, "policy: %s: %s", where, msg);
}

static int keys_check(const cJSON *o, const char *const *known, size_t n, const char *where,
		      struct berr *err)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, o) {
		size_t i = 0;

		while (i < n && strcmp(known[i], it->string) != 0)
			i++;
		if (i == n)
			return perr(err, where, "unknown key \"%s\"", it->string);
	}
	return 0;
}

static int name_dup(const cJSON *v, char **ret, const char *where, struct berr *err)
{
	if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= NAME_LEN)
		return perr(err, where, "expected a name");
	*ret = xstrdup(v->valuestring);
	return 0;
}

/* "host", "*", "any", "network:N", "container:C", "label:K[=V]", or a container name. */
static int sel_string(const char *s, struct sel *ret, const char *where, struct berr *err)
{
	static const char *const prefixes[] = { "network:", "container:", "label:" };
	char **slots[] = { &ret->network, &ret->container, &ret->label };

	if (!strcmp(s, "host")) {
		ret->host = true;
		return 0;
	}
	if (!strcmp(s, "*") || !strcmp(s, "any"))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(s, prefixes[i], strlen(prefixes[i]))) {
			cJSON tmp = { .type = cJSON_String,
				      .valuestring = (char *)s + strlen(prefixes[i]) };

			return name_dup(&tmp, slots[i], where, err);
		}
	return name_dup(&(cJSON){ .type = cJSON_String, .valuestring = (char *)s }, &ret->container,
			where, err);
}

static int sel_parse(const cJSON *v, struct sel *ret, const char *where, struct berr *err)
{
	static const char *const keys[] = { "network", "container", "label" };
	char sub[160];
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!v)
		return 0;
	if (cJSON_IsString(v))
		return sel_string(v->valuestring, ret, where, err);
	if (!cJSON_IsObject(v))
		return perr(err, where, "expected \"host\", \"*\", a container name or a mapping "
			    "of network, container and label");
	r = keys_check(v, keys, ARRAY_SIZE(keys), where, err);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(keys); i++) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, keys[i]);
		char **slot = i == 0 ? &ret->network : i == 1 ? &ret->container : &ret->label;

		snprintf(sub, sizeof(sub), "%s.%s", where, keys[i]);
		if (f)
			r = name_dup(f, slot, sub, err);
	}
	return r;
}

/* One item of `proto`: returns its bit. */
static int proto_bit(const cJSON *v, const char *where, struct berr *err)
{
	int p = cJSON_IsString(v) ? probe_proto_parse(v->valuestring) : -EINVAL;

	if (cJSON_IsString(v) && (!strcmp(v->valuestring, "any") || !strcmp(v->valuestring, "*")))
		return (int)PROBE_PROTOS_ALL;
	if (p < 0)
		return perr(err, where, "expected icmp, tcp, udp, dns or any");
	return 1 << p;
}

static int family_bit(const cJSON *v, const char *where, struct berr *err)
{
	if (cJSON_IsNumber(v) && (v->valueint == 4 || v->valueint == 6) &&
	    v->valuedouble == v->valueint)
		return v->valueint == 4 ? (int)PROBE_V4 : (int)PROBE_V6;
	if (cJSON_IsString(v) && (!strcmp(v->valuestring, "4") || !strcmp(v->valuestring, "ipv4")))
		return PROBE_V4;
	if (cJSON_IsString(v) && (!strcmp(v->valuestring, "6") || !strcmp(v->valuestring, "ipv6")))
		return PROBE_V6;
	return perr(err, where, "expected 4 or 6");
}

/* A value or a list of them, each turned into bits by fn and or-ed. */
static int bits_parse(const cJSON *v, int (*fn)(const cJSON *, const char *, struct berr *),
		      unsigned *ret, const char *where, struct berr *err)
{
	const cJSON *it;
	int b;

	*ret = 0;
	if (!v)
		return 0;
	if (!cJSON_IsArray(v)) {
		b = fn(v, where, err);
		*ret = b < 0 ? 0 : (unsigned)b;
		return b < 0 ? b : 0;
	}
	cJSON_ArrayForEach(it, v) {
		b = fn(it, where, err);
		if (b < 0)
			return b;
		*ret |= (unsigned)b;
	}
	return *ret ? 0 : perr(err, where, "an empty list matches nothing");
}

static int port_num(const char *s, char **end, long *ret)
{
	errno = 0;
	*ret = strtol(s, end, 10);
	return *end != s && !errno && *ret >= 1 && *ret <= 65535 ? 0 : -EINVAL;
}

/* 80, "80" or "8000-8100". */
static int port_range_parse(const cJSON *v, struct port_range *ret, const char *where,
			    struct berr *err)
{
	char *end = NULL;
	long lo, hi;

	if (cJSON_IsNumber(v) && v->valuedouble == v->valueint && v->valueint >= 1 &&
	    v->valueint <= 65535) {
		ret->lo = ret->hi = (uint16_t)v->valueint;
		return 0;
	}
	if (!cJSON_IsString(v) || port_num(v->valuestring, &end, &lo) < 0)
		return perr(err, where, "expected a port (1-65535) or a range such as 8000-8100");
	hi = lo;
	if (*end == '-' && port_num(end + 1, &end, &hi) < 0)
		return perr(err, where, "expected a port (1-65535) or a range such as 8000-8100");
	if (*end || hi < lo)
		return perr(err, where, "expected a port (1-65535) or a range such as 8000-8100");
	ret->lo = (uint16_t)lo;
	ret->hi = (uint16_t)hi;
	return 0;
}

static int ports_parse(const cJSON *v, struct rule *r, const char *where, struct berr *err)
{
	const cJSON *it;
	int rc;

	if (!v)
		return 0;
	if (!cJSON_IsArray(v)) {
		r->n_ports = 1;
		return port_range_parse(v, &r->ports[0], where, err);
	}
	cJSON_ArrayForEach(it, v) {
		if (r->n_ports == RULE_PORTS_MAX)
			return perr(err, where, "at most %d ports or ranges", RULE_PORTS_MAX);
		rc = port_range_parse(it, &r->ports[r->n_ports++], where, err);
		if (rc < 0)
			return rc;
	}
	return r->n_ports ? 0 : perr(err, where, "an empty list matches nothing");
}

static int action_parse(const cJSON *v, bool *ret, const char *where, struct berr *err)
{
	if (cJSON_IsString(v) && !strcmp(v->valuestring, "allow"))
		*ret = true;
	else if (cJSON_IsString(v) && !strcmp(v->valuestring, "deny"))
		*ret = false;
	else
		return perr(err, where, "expected allow or deny");
	return 0;
}

static int rule_parse(const cJSON *o, size_t i, struct rule *r, struct berr *err)
{
	static const char *const keys[] = { "from", "to", "proto", "port", "family", "action",
					    "comment" };
	char w[64], sub[96];
	int rc;

	snprintf(w, sizeof(w), "rules[%zu]", i);
	if (!cJSON_IsObject(o))
		return perr(err, w, "expected a mapping");
	rc = keys_check(o, keys, ARRAY_SIZE(keys), w, err);
	snprintf(sub, sizeof(sub), "%s.from", w);
	if (rc >= 0)
		rc = sel_parse(cJSON_GetObjectItemCaseSensitive(o, "from"), &r->from, sub, err);
	snprintf(sub, sizeof(sub), "%s.to", w);
	if (rc >= 0)
		rc = sel_parse(cJSON_GetObjectItemCaseSensitive(o, "to"), &r->to, sub, err);
	if (rc >= 0 && r->to.host)
		rc = perr(err, sub, "the host is only a source (of probes of published ports)");
	snprintf(sub, sizeof(sub), "%s.proto", w);
	if (rc >= 0)
		rc = bits_parse(cJSON_GetObjectItemCaseSensitive(o, "proto"), proto_bit, &r->protos,
				sub, err);
	snprintf(sub, sizeof(sub), "%s.family", w);
	if (rc >= 0)
		rc = bits_parse(cJSON_GetObjectItemCaseSensitive(o, "family"), family_bit,
				&r->families, sub, err);
	snprintf(sub, sizeof(sub), "%s.port", w);
	if (rc >= 0)
		rc = ports_parse(cJSON_GetObjectItemCaseSensitive(o, "port"), r, sub, err);
	snprintf(sub, sizeof(sub), "%s.action", w);
	if (rc >= 0)
		rc = action_parse(cJSON_GetObjectItemCaseSensitive(o, "action"), &r->allow, sub,
				  err);
	return rc;
}

static void sel_free(struct sel *s)
{
	free(s->network);
	free(s->container);
	free(s->label);
}

void probe_policy_free(struct probe_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		sel_free(&p->rules[i].from);
		sel_free(&p->rules[i].to);
	}
	free(p->rules);
	free(p);
}

size_t probe_policy_rules(const struct probe_policy *p) { return p ? p->n : 0; }

static int default_parse(const cJSON *v, enum pol_default *ret, struct berr *err)
{
	static const char *const names[] = { "networks", "allow", "deny" };

	*ret = DEF_NETWORKS;
	if (!v)
		return 0;
	for (size_t i = 0; cJSON_IsString(v) && i < ARRAY_SIZE(names); i++)
		if (!strcmp(v->valuestring, names[i])) {
			*ret = (enum pol_default)i;
			return 0;
		}
	return perr(err, "default", "expected networks, allow or deny");
}

int probe_policy_from_json(const cJSON *j, struct probe_policy **ret, struct berr *err)
{
	static const char *const keys[] = { "default", "rules", "comment" };
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(j, "rules"), *it;
	struct probe_policy *p;
	int r;

	if (!cJSON_IsObject(j))
		return perr(err, "top level", "expected a mapping with default and rules");
	r = keys_check(j, keys, ARRAY_SIZE(keys), "top level", err);
	if (r >= 0 && rules && !cJSON_IsArray(rules))
		r = perr(err, "rules", "expected a list of rules");
	if (r >= 0 && cJSON_GetArraySize(rules) > RULES_MAX)
		r = perr(err, "rules", "more than %d rules", RULES_MAX);
	if (r < 0)
		return r;
	p = xcalloc(1, sizeof(*p));
	p->rules = xcalloc((size_t)cJSON_GetArraySize(rules) + 1, sizeof(*p->rules));
	r = default_parse(cJSON_GetObjectItemCaseSensitive(j, "default"), &p->def, err);
	cJSON_ArrayForEach(it, rules) {
		if (r < 0)
			break;
		r = rule_parse(it, p->n, &p->rules[p->n], err);
		p->n++;
	}
	if (r < 0) {
		probe_policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int probe_policy_parse(const char *text, size_t len, struct probe_policy **ret, struct berr *err)
{
	cJSON *j = NULL;
	int r = probe_yaml_to_json(text, len, &j, err);

	if (r < 0)
		return berr_prefix(err, "policy");
	r = probe_policy_from_json(j, ret, err);
	cJSON_Delete(j);
	return r;
}

/* ---- matching ---- */

static bool label_has(const struct probe_node *n, const char *want)
{
	size_t klen = strcspn(want, "=");

	for (size_t i = 0; i < n->n_labels; i++) {
		const char *l = n->labels[i];

		if (want[klen] ? !strcmp(l, want) : !strncmp(l, want, klen) && l[klen] == '=')
			return true;
	}
	return false;
}

static bool node_named(const struct probe_node *n, const char *name)
{
	return !strcmp(n->name, name) || !strcmp(n->id, name);
}

/* net < 0: any of the node's networks. */
static bool sel_matches(const struct sel *s, const struct probe_world *w, uint32_t node, int net)
{
	const struct probe_node *n = &w->nodes[node];
	int want;

	if (!n->netns)   /* the host matches "host" and "*" only */
		return s->host || (!s->network && !s->container && !s->label);
	if (s->host)
		return false;
	if (s->container && !node_named(n, s->container))
		return false;
	if (s->label && !label_has(n, s->label))
		return false;
	if (!s->network)
		return true;
	want = probe_world_net(w, s->network);
	if (want < 0)
		return false;
	return net >= 0 ? net == want : probe_node_on(n, (uint32_t)want);
}

static bool ports_match(const struct rule *r, const struct probe_cell *c)
{
	if (!r->n_ports)
		return true;
	if (c->proto != PROBE_TCP && c->proto != PROBE_UDP)
		return false;
	for (size_t i = 0; i < r->n_ports; i++)
		if ((c->port >= r->ports[i].lo && c->port <= r->ports[i].hi) ||
		    (c->tport >= r->ports[i].lo && c->tport <= r->ports[i].hi))
			return true;
	return false;
}

/* The network a cell's target address is on (-1: a published port: any of dst's). */
static int cell_net(const struct probe_world *w, const struct probe_cell *c)
{
	return c->ep >= 0 ? (int)w->nodes[c->dst].eps[c->ep].net : -1;
}

static bool rule_matches(const struct rule *r, const struct probe_world *w,
			 const struct probe_cell *c)
{
	return (!r->protos || (r->protos & (1u << c->proto))) &&
	       (!r->families || (r->families & (c->family == 4 ? PROBE_V4 : PROBE_V6))) &&
	       ports_match(r, c) && sel_matches(&r->from, w, c->src, -1) &&
	       sel_matches(&r->to, w, c->dst, cell_net(w, c));
}

int probe_default_expect(const struct probe_world *w, const struct probe_cell *c,
			 const char **ret_why)
{
	const struct probe_net *n;
	bool same;

	if (c->ep < 0) {
		*ret_why = "published ports are reachable from the host";
		return PROBE_REACH;
	}
	n = &w->nets[w->nodes[c->dst].eps[c->ep].net];
	same = probe_node_on(&w->nodes[c->src], w->nodes[c->dst].eps[c->ep].net);
	if (c->proto == PROBE_DNS) {
		*ret_why = !same ? "names resolve only between containers on a same network" :
			   !n->names ? "this network resolves no container names" :
				       "containers on a network resolve each other's names";
		return same && n->names ? PROBE_REACH : PROBE_BLOCKED;
	}
	if (!same) {
		*ret_why = n->internal ? "an internal network admits nothing from outside it" :
					 "different networks are isolated";
		return PROBE_BLOCKED;
	}
	*ret_why = n->icc ? "containers on a same network reach each other" :
			    "inter-container communication is off on this network";
	return n->icc ? PROBE_REACH : PROBE_BLOCKED;
}

int probe_policy_expect(const struct probe_policy *p, const struct probe_world *w,
			const struct probe_cell *c, int *ret_rule, const char **ret_why)
{
	const char *why;

	*ret_rule = -1;
	ret_why = ret_why ? ret_why : &why;
	for (size_t i = 0; p && i < p->n; i++)
		if (rule_matches(&p->rules[i], w, c)) {
			*ret_rule = (int)i;
			*ret_why = p->rules[i].allow ? "allowed by a rule" : "denied by a rule";
			return p->rules[i].allow ? PROBE_REACH : PROBE_BLOCKED;
		}
	if (p && p->def != DEF_NETWORKS) {
		*ret_why = p->def == DEF_ALLOW ? "the policy's default: allow" :
						 "the policy's default: deny";
		return p->def == DEF_ALLOW ? PROBE_REACH : PROBE_BLOCKED;
	}
	return probe_default_expect(w, c, ret_why);
}

/* ---- the policy berth's configuration implies ---- */

struct out {
	char *buf;
	size_t len, cap;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < o->cap - o->len)
			break;
		o->cap = o->cap * 2 + (size_t)(n > 0 ? n : 0) + 256;
		o->buf = xrealloc(o->buf, o->cap);
	}
	o->len += (size_t)n;
}

/* A name as a YAML double-quoted scalar: names are letters, digits and [_.-], but quote
 * anyway. */
static void net_rules(struct out *o, const struct probe_net *n)
{
	const char *q = n->name;

	if (!n->names)
		out_printf(o, "  # network %s resolves no container names\n"
			   "  - {from: {network: \"%s\"}, to: {network: \"%s\"}, proto: dns, "
			   "action: deny}\n", q, q, q);
	if (n->icc) {
		out_printf(o, "  # network %s%s: its containers reach each other%s\n"
			   "  - {from: {network: \"%s\"}, to: {network: \"%s\"}, action: allow}\n",
			   q, n->internal ? " (internal)" : "",
			   n->names ? " and resolve each other's names" : "", q, q);
		return;
	}
	if (n->names)
		out_printf(o, "  # network %s: inter-container communication is off, names "
			   "resolve\n  - {from: {network: \"%s\"}, to: {network: \"%s\"}, "
			   "proto: dns, action: allow}\n", q, q, q);
	out_printf(o, "  - {from: {network: \"%s\"}, to: {network: \"%s\"}, action: deny}\n", q,
		   q);
}

char *probe_policy_implied(const struct probe_world *w)
{
	struct out o = { .cap = 1024 };

	o.buf = xmalloc(o.cap);
	o.buf[0] = '\0';
	out_printf(&o, "# The policy berth's configuration implies (berth network probe "
		   "--print-policy).\n# Rules are tried in order and the first that matches a "
		   "cell decides; a cell\n# that no rule matches expects the default. Selectors: "
		   "host, \"*\", a container\n# name, or {network: N, container: C, label: "
		   "\"key=value\"}.\n# Check it: berth network probe --expect FILE\n"
		   "default: deny\nrules:\n"
		   "  # published ports are reachable from the host\n"
		   "  - {from: host, to: \"*\", action: allow}\n");
	for (size_t i = 0; i < w->n_nets; i++)
		net_rules(&o, &w->nets[i]);
	out_printf(&o, "  # anything else, between different networks, is isolated (the "
		   "default)\n");
	return o.buf;
}
