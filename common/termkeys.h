/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's detach keys ("ctrl-p,ctrl-q", "ctrl-a,d", "ctrl-@"...) and their matching in an input
 * stream: shared by the CLI (where they are typed) and berthd (for API clients). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define TERMKEYS_MAX 16

struct termkeys {
	uint8_t keys[TERMKEYS_MAX];
	size_t n;
	size_t matched;             /* keys held back so far */
};

/* "a" (one character) or "ctrl-X" (X in a-z, @, [, \, ], ^, _), comma-separated; NULL or "":
 * ctrl-p,ctrl-q. -EINVAL with Docker's message otherwise. */
int termkeys_parse(const char *s, struct termkeys *ret, struct berr *err);

/* Filters in[0..n) into out (room for n + TERMKEYS_MAX): bytes of a complete sequence are taken
 * out, bytes of a started one held back until it completes or breaks. *ret_len: bytes to pass
 * on; returns true once the whole sequence was typed (bytes after it are dropped). */
bool termkeys_filter(struct termkeys *k, const uint8_t *in, size_t n, uint8_t *out,
		     size_t *ret_len);
