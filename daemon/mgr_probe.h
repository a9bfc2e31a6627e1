/* SPDX-License-Identifier: Apache-2.0 */
/* `berth network probe` inside the manager: daemon/mgr_probe.c (the matrix) and
 * daemon/mgr_explain.c (--explain). Not a public header. */
#pragma once

#include "daemon/manager.h"
#include "probe/probe.h"

struct mgr_probe_req {
	struct probe_opts o;
	cJSON *networks, *containers;   /* arrays of names (owned) */
	bool host;                      /* the host probes published ports (default true) */
	bool print_policy;
	struct probe_policy *policy;    /* NULL: the networks' own semantics */
	const cJSON *explain;           /* borrowed from the request */
};

int mgr_probe_req_parse(const cJSON *req, struct mgr_probe_req *q, struct berr *err);
void mgr_probe_req_free(struct mgr_probe_req *q);
/* What the probe needs, copied under the manager lock (released on return). */
int mgr_probe_world(struct manager *m, const struct mgr_probe_req *q, struct probe_world *w,
		    struct berr *err);
/* One cell probed with nftables tracing on for its flow: the rule that decided, in words. */
int mgr_probe_explain(struct manager *m, const struct mgr_probe_req *q, cJSON **ret,
		      struct berr *err);
