/* SPDX-License-Identifier: Apache-2.0 */
/* The Docker Engine API as Docker clients see it (requests on version-prefixed paths, which the
 * stock docker CLI and the Docker SDKs always use): Docker's exact JSON shapes built from berth's
 * renderings (which carry berth's extensions in "Berth" objects), Docker's filters, and the
 * checks that refuse with 501 what berth does not implement rather than accept it and do
 * nothing. JSON in, JSON out: no HTTP server, no manager (daemon/api.c calls these). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/error.h"

/* GET /info in Docker's shape, from berth's (mgr_info) and the host's facts. */
cJSON *docker_info(const cJSON *berth, const char *version);

/* Networks: one rendering of berth's (mgr_render_network) reshaped in place. */
void docker_network_shape(cJSON *net);
/* Keeps the networks (berth's renderings, before docker_network_shape) matching Docker's
 * network filters (dangling, driver, id, label, name, scope, type). -EINVAL for an unknown
 * filter or value, named as dockerd names it. */
int docker_networks_filter(cJSON *list, const cJSON *filters, struct berr *err);
/* POST /networks/prune filters (until, label, label!): -EINVAL when bad; match for one. */
int docker_prune_filters_check(const cJSON *filters, struct berr *err);
bool docker_prune_match(const cJSON *net, const cJSON *filters);

/* Containers: inspect and list entries reshaped in place; size: add SizeRw and SizeRootFs (their
 * values measured beforehand into the entry's Berth object). */
void docker_container_shape(cJSON *ctr);
void docker_summary_shape(cJSON *s, bool size);
/* Keeps the list entries (before docker_summary_shape) matching Docker's container filters;
 * -EINVAL for an unknown filter or value, -EOPNOTSUPP for a filter berth cannot answer. */
int docker_containers_filter(cJSON *list, const cJSON *filters, struct berr *err);

/* POST /containers/create of a Docker client: -EOPNOTSUPP naming the first setting berth does not
 * implement, -EINVAL for a name Docker refuses; otherwise the body is made berth's (the
 * EndpointsConfig key "default" is the predefined "bridge"). */
int docker_create_check(cJSON *body, const char *name, struct berr *err);
/* POST /networks/create: -EOPNOTSUPP for ingress, config-only, other scopes, IPAM options. */
int docker_network_create_check(const cJSON *body, struct berr *err);
/* POST /networks/{id}/connect and disconnect bodies: -EOPNOTSUPP for what berth lacks. */
int docker_connect_check(const cJSON *body, struct berr *err);

/* Docker's multiplexed log stream: the 8-byte header of a frame of len bytes of stream
 * (1 stdout, 2 stderr). */
void docker_frame_header(uint8_t stream, uint32_t len, uint8_t out[8]);
