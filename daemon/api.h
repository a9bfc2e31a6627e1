/* SPDX-License-Identifier: Apache-2.0 */
/* berthd's HTTP API (docs/API.md) served by libmicrohttpd on a unix socket. Every request runs
 * in its own thread and calls the (thread-safe) manager. */
#pragma once

#include "common/error.h"

struct manager;
struct api;

/* Creates the socket at socket_path (mode 0600, born under umask 0177), replacing a stale one
 * only when nothing listens on it (-EADDRINUSE "another berthd is listening on ..." otherwise),
 * and starts serving. */
int api_start(struct manager *m, const char *socket_path, struct api **ret, struct berr *err);

/* The same server for Docker's remote driver protocol (daemon/plugin_api.c) on socket_path
 * (its directory created when missing; dockerd finds plugins in /run/docker/plugins). */
int api_plugin_start(struct manager *m, const char *socket_path, struct api **ret,
		     struct berr *err);

/* Stops serving, waits for the connection threads and removes the socket. Accepts NULL. */
/* Requests that wait (logs, wait, events, probes) end at their next wake-up. */
void api_cancel(struct api *a);
void api_stop(struct api *a);
