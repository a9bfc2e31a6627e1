/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's remote driver protocol served by berthd (`berthd --docker-plugin[=PATH]`): the
 * requests arrive through daemon/api.c's HTTP server on the plugin socket, are decoded by
 * plugins/docker/ and carried out by the manager (daemon/mgr_remote*.c). No HTTP server here. */
#pragma once

#include <stddef.h>

struct manager;

#define PLUGIN_SOCKET_DEFAULT "/run/docker/plugins/berth.sock"

/* One call: *ret_status (200 on success) and *ret_body, the JSON reply (malloc'd, always valid
 * JSON: the reply object, or {"Err": "message"} with a 4xx/5xx status). */
void plugin_serve(struct manager *m, const char *method, const char *path, const char *body,
		  size_t len, int *ret_status, char **ret_body);
