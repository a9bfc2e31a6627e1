/* SPDX-License-Identifier: Apache-2.0 */
/* Output helpers: docker-like column tables, pretty JSON, human durations. */
#pragma once

#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>

struct table;

/* Columns are separated by three spaces; widths come from the content; the last column is not
 * padded. Cells are copied. */
struct table *table_new(size_t ncols, const char *const *headers);
void table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

/* Pretty JSON with 4-space indentation and "key": value, like docker inspect. */
void json_print_pretty(const cJSON *json, FILE *out);


/* Sorts the members of a JSON array or object in place; cmp gets two const cJSON *const *. */
void json_sort(cJSON *a, int (*cmp)(const void *, const void *));

/* Copy of s cut to max characters with a trailing "…" when it was longer (UTF-8 aware). */
char *str_ellipsis(const char *s, size_t max);
