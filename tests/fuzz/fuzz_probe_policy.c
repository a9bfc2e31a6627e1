/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the policy file of `berth network probe --expect` (probe/yaml.c through
 * libyaml, probe/policy.c): any bytes, read as YAML or JSON. A policy that parses is matched
 * against every cell of a small world: each cell expects reach or blocked, from a rule that
 * exists or the default.
 *
 * Input: the file. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"
#include "probe/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ep_add(struct probe_node *n, uint32_t net, const char *ip4, const char *ip6)
{
	struct probe_ep *e = &n->eps[n->n_eps++];

	memset(e, 0, sizeof(*e));
	e->net = net;
	ip_parse(ip4, &e->ip4, NULL);
	if (ip6)
		ip_parse(ip6, &e->ip6, NULL);
}

/* front, back (internal), quiet (ICC off); web, db, app (front + back), the host */
static void world_make(struct probe_world *w, struct probe_node *nodes, struct probe_net *nets,
		       struct probe_ep eps[4][2], char **labels)
{
	static const char *const names[] = { "host", "web", "db", "app" };

	memset(nets, 0, 3 * sizeof(*nets));
	strcpy(nets[0].name, "front");
	strcpy(nets[1].name, "back");
	strcpy(nets[2].name, "quiet");
	nets[0].icc = nets[1].icc = true;
	nets[0].names = nets[1].names = nets[2].names = true;
	nets[1].internal = true;
	memset(nodes, 0, 4 * sizeof(*nodes));
	for (int i = 0; i < 4; i++) {
		strcpy(nodes[i].name, names[i]);
		nodes[i].netns = i ? (char *)"/nonexistent" : NULL;
		nodes[i].eps = eps[i];
		nodes[i].labels = labels;
		nodes[i].n_labels = i == 1;
	}
	ep_add(&nodes[1], 0, "10.1.0.2", "fd00::2");
	ep_add(&nodes[2], 1, "10.2.0.2", NULL);
	ep_add(&nodes[3], 0, "10.1.0.3", NULL);
	ep_add(&nodes[3], 2, "10.3.0.3", NULL);
	*w = (struct probe_world){ .nets = nets, .n_nets = 3, .nodes = nodes, .n_nodes = 4 };
}

static void fuzz_match(const struct probe_policy *p)
{
	struct probe_ep eps[4][2];
	struct probe_node nodes[4];
	struct probe_net nets[3];
	struct probe_world w;
	struct probe_opts o = { 0 };
	struct probe_cell *cells = NULL;
	char *labels[] = { (char *)"tier=web" };
	size_t n = 0;

	world_make(&w, nodes, nets, eps, labels);
	if (probe_cells_build(&w, &o, &cells, &n, NULL) < 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;
		int rule, v = probe_policy_expect(p, &w, &cells[i], &rule, &why);

		if ((v != PROBE_REACH && v != PROBE_BLOCKED) || rule < -1 ||
		    rule >= (int)probe_policy_rules(p) || !why)
			abort();
	}
	free(cells);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_policy *p = NULL;

	if (probe_policy_parse((const char *)data, size, &p, NULL) < 0) {
		if (p)
			abort();
		return 0;
	}
	fuzz_match(p);
	probe_policy_free(p);
	return 0;
}
