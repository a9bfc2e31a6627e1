/* SPDX-License-Identifier: Apache-2.0 */
/* The reachability matrix of `berth network probe` for people: one section per protocol and
 * family, sources as rows, targets as columns, a symbol per cell (all its ports together), the
 * published ports from the host, the cells that differ from what was expected, a summary. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

struct matrix_style {
	bool color;                /* ANSI colours (a terminal) */
	bool utf8;                 /* ✓ ✗ rather than Y x */
	int width;                 /* columns available; past it targets are numbered */
};

/* Prints the reply of POST /networks/probe; returns the number of cells that differ from what
 * was expected. */
size_t matrix_print(const cJSON *reply, const struct matrix_style *st, FILE *out);
/* Prints the Explain object of an explain reply. */
void matrix_explain_print(const cJSON *x, const struct matrix_style *st, FILE *out);
