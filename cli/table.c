/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/table.h"

#include <string.h>

#include "common/util.h"

struct table {
	size_t ncols;
	size_t nrows;            /* including the header row */
	char **cells;            /* nrows * ncols */
};

struct table *table_new(size_t ncols, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	table_add(t, headers);
	return t;
}

void table_add(struct table *t, const char *const *cells)
{
	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*t->cells));
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c] ? cells[c] : "");
	t->nrows++;
}

/* Display width: count UTF-8 code points, not bytes. */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void table_print(const struct table *t, FILE *out)
{
	_cleanup_free_ size_t *width = xcalloc(t->ncols, sizeof(*width));

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = text_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			fputs(cell, out);
			if (c + 1 < t->ncols)
				fprintf(out, "%*s", (int)(width[c] - text_width(cell) + 3), "");
		}
		fputc('\n', out);
	}
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

static void json_indent(int depth, FILE *out)
{
	fprintf(out, "%*s", depth * 4, "");
}

static void json_print_leaf(const cJSON *json, FILE *out)
{
	_cleanup_free_ char *s = cJSON_PrintUnformatted(json);

	fputs(s ? s : "null", out);
}

static void json_print_at(const cJSON *json, int depth, FILE *out)
{
	bool object = cJSON_IsObject(json);
	const cJSON *item;

	if (!object && !cJSON_IsArray(json)) {
		json_print_leaf(json, out);
		return;
	}
	if (!json->child) {
		fputs(object ? "{}" : "[]", out);
		return;
	}
	fputs(object ? "{\n" : "[\n", out);
	cJSON_ArrayForEach(item, json) {
		json_indent(depth + 1, out);
		if (object) {
			cJSON key = { .type = cJSON_String, .valuestring = item->string };

			json_print_leaf(&key, out);
			fputs(": ", out);
		}
		json_print_at(item, depth + 1, out);
		fputs(item->next ? ",\n" : "\n", out);
	}
	json_indent(depth, out);
	fputs(object ? "}" : "]", out);
}

void json_print_pretty(const cJSON *json, FILE *out)
{
	json_print_at(json, 0, out);
	fputc('\n', out);
}

void json_sort(cJSON *a, int (*cmp)(const void *, const void *))
{
	int n = cJSON_GetArraySize(a), k = 0;
	_cleanup_free_ cJSON **v = xcalloc((size_t)n + 1, sizeof(*v));

	while (cJSON_GetArraySize(a) > 0)
		v[k++] = cJSON_DetachItemFromArray(a, 0);
	qsort(v, (size_t)k, sizeof(*v), cmp);
	for (int i = 0; i < k; i++)
		cJSON_AddItemToArray(a, v[i]);
}

char *str_ellipsis(const char *s, size_t max)
{
	size_t chars = 0, i;

	if (text_width(s) <= max)
		return xstrdup(s);
	/* Keep max - 1 characters, then the ellipsis. */
	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && chars++ == max - 1)
			break;
	}
	return xasprintf("%.*s…", (int)i, s);
}
