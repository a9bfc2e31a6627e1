/* SPDX-License-Identifier: Apache-2.0 */
/* --format templates: the subset of Docker's Go templates that people type (docs/CLI.md,
 * "Format templates"). A template is text with actions:
 *   {{.Field}} {{.A.B}} {{.}}      a value (strings as they are, objects and arrays as JSON)
 *   {{json .X}}                    a value as JSON
 *   {{index .X "key" ...}}         a member by any key (network names with dashes...)
 *   {{join .X ", "}}               the elements of an array, separated
 *   {{upper .X}} {{lower .X}}      case
 *   {{range .X}}...{{end}}         the body for each element (then "." is the element)
 * "\t" and "\n" in the template are a tab and a newline. A template starting with "table "
 * prints aligned columns (split at tabs) under a header row; without it, one line per object. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "common/error.h"

/* A column header for a field (ps: {"ID", "CONTAINER ID"}); terminated by {NULL, NULL}. */
struct format_header {
	const char *field;
	const char *header;
};

/* Checks the syntax: -EINVAL with a message naming the problem. */
int format_check(const char *tmpl, struct berr *err);

/* The template applied to obj, malloc'd (no newline added; "table " is not special here). */
char *format_render(const char *tmpl, const cJSON *obj);

/* Prints each object of list: a line per object, or with "table " aligned columns under a
 * header row (named by headers, else the field in capitals: CreatedAt -> CREATED AT). */
void format_list(const char *tmpl, const cJSON *list, const struct format_header *headers,
		 FILE *out);

/* One object, one line (streams such as events). */
void format_print(const char *tmpl, const cJSON *obj);

/* A --format value: NULL, "", "table", "json" or a template holding at least one action (plain
 * text such as "yaml" is refused as a likely mistake). -EINVAL with a message otherwise. */
int format_validate(const char *fmt, struct berr *err);

/* true for "json" or any template; false for NULL, "" and "table" (the command's default). */
bool format_is_custom(const char *tmpl);
