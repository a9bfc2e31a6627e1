/* SPDX-License-Identifier: Apache-2.0 */
/* One error convention for all of berth.
 *
 * Fallible functions return 0 (or a non-negative value) on success and -errno on failure. The
 * human-readable message travels in a struct berr passed as the LAST argument; each layer may
 * prepend context with berr_prefix(). Only the edges (daemon API, CLI, plugins) print it. */
#pragma once

#include <stdarg.h>

#define BERR_MSG_MAX 512

struct berr {
	int code;                  /* negative errno, 0 = no error */
	char msg[BERR_MSG_MAX];
};

#define BERR_INIT { 0, { 0 } }

/* Record an error and return it: `return berr_set(err, -EINVAL, "bad subnet %s", s);`
 * `code` is a negative errno (a positive one is negated). err may be NULL. */
int berr_set(struct berr *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int berr_setv(struct berr *err, int code, const char *fmt, va_list ap);

/* Like berr_set() but appends ": strerror(-code)". */
int berr_errno(struct berr *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend context to an existing message ("creating bridge br0: <old message>"); returns err->code. */
int berr_prefix(struct berr *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void berr_clear(struct berr *err);

/* Message or strerror of the code when no message was set. */
const char *berr_str(const struct berr *err);
