/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/probe_matrix.h"

#include <string.h>

#include "cli/client.h"
#include "common/util.h"

#define GREEN "\033[32m"
#define RED "\033[31m"
#define YELLOW "\033[33m"
#define DIM "\033[2m"
#define BOLD "\033[1m"
#define INVERSE "\033[7m"
#define RESET "\033[0m"

static const char *const protos[] = { "icmp", "tcp", "udp", "dns" };
#define DNS_TITLE "DNS (names through the embedded DNS)"
static const char *const proto_titles[] = { "ICMP", "TCP", "UDP", DNS_TITLE };

enum mark { M_NONE, M_REACH, M_BLOCKED, M_MIXED, M_ERROR, M_SELF };

struct agg {                   /* one cell of the grid: the target's ports together */
	unsigned reach, blocked, error, differ;
};

struct grid {
	const char **rows;         /* source names */
	size_t n_rows;
	const char **col_node, **col_net;   /* target and its network */
	char **labels;
	size_t n_cols;
	struct agg *cells;         /* n_rows * n_cols, for the section being drawn */
};

/* ---- rows and columns ---- */

static size_t name_index(const char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return i;
	return n;
}

static size_t col_index(const struct grid *g, const char *node, const char *net)
{
	for (size_t i = 0; i < g->n_cols; i++)
		if (!strcmp(g->col_node[i], node) && !strcmp(g->col_net[i], net))
			return i;
	return g->n_cols;
}

static bool published(const cJSON *c)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "Published"));
}

static void grid_axes(struct grid *g, const cJSON *cells)
{
	const cJSON *c;
	size_t n = (size_t)cJSON_GetArraySize(cells) + 1;

	g->rows = xcalloc(n, sizeof(*g->rows));
	g->col_node = xcalloc(n, sizeof(*g->col_node));
	g->col_net = xcalloc(n, sizeof(*g->col_net));
	cJSON_ArrayForEach(c, cells) {
		const char *s = json_str(c, "Source"), *t = json_str(c, "Target");
		const char *net = json_str(c, "Network");

		if (published(c))
			continue;
		if (name_index(g->rows, g->n_rows, s) == g->n_rows)
			g->rows[g->n_rows++] = s;
		if (col_index(g, t, net) == g->n_cols) {
			g->col_node[g->n_cols] = t;
			g->col_net[g->n_cols++] = net;
		}
	}
}

/* "web", or "web@front" for a target on more than one network. */
static void grid_labels(struct grid *g)
{
	g->labels = xcalloc(g->n_cols + 1, sizeof(*g->labels));
	for (size_t i = 0; i < g->n_cols; i++) {
		size_t same = 0;

		for (size_t j = 0; j < g->n_cols; j++)
			same += !strcmp(g->col_node[i], g->col_node[j]);
		g->labels[i] = same > 1 ? xasprintf("%s@%s", g->col_node[i], g->col_net[i]) :
					  xstrdup(g->col_node[i]);
	}
}

static void grid_free(struct grid *g)
{
	for (size_t i = 0; i < g->n_cols; i++)
		free(g->labels[i]);
	free(g->labels);
	free(g->rows);
	free(g->col_node);
	free(g->col_net);
	free(g->cells);
}

/* ---- one section ---- */

static bool in_section(const cJSON *c, const char *proto, int family)
{
	return !published(c) && !strcmp(json_str(c, "Protocol"), proto) &&
	       (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "Family")) == family;
}

static bool differs(const cJSON *c)
{
	return cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "Match"));
}

static size_t section_fill(struct grid *g, const cJSON *cells, const char *proto, int family)
{
	const cJSON *c;
	size_t n = 0;

	memset(g->cells, 0, g->n_rows * g->n_cols * sizeof(*g->cells));
	cJSON_ArrayForEach(c, cells) {
		size_t r, k;
		struct agg *a;
		const char *v = json_str(c, "Verdict");

		if (!in_section(c, proto, family))
			continue;
		r = name_index(g->rows, g->n_rows, json_str(c, "Source"));
		k = col_index(g, json_str(c, "Target"), json_str(c, "Network"));
		a = &g->cells[r * g->n_cols + k];
		a->reach += !strcmp(v, "reach");
		a->blocked += !strcmp(v, "blocked");
		a->error += strcmp(v, "reach") && strcmp(v, "blocked");
		a->differ += differs(c);
		n++;
	}
	return n;
}

static enum mark agg_mark(const struct agg *a, bool self)
{
	if (self)
		return M_SELF;
	if (a->error)
		return M_ERROR;
	if (a->reach && a->blocked)
		return M_MIXED;
	return a->reach ? M_REACH : a->blocked ? M_BLOCKED : M_NONE;
}

static void mark_print(const struct matrix_style *st, enum mark m, bool differ, int width,
		       FILE *out)
{
	static const char *const utf8[] = { " ", "✓", "✗", "~", "!", "-" };
	static const char *const ascii[] = { " ", "Y", "x", "~", "!", "-" };
	static const char *const colors[] = { "", GREEN, RED, YELLOW, YELLOW, DIM };
	const char *sym = st->utf8 ? utf8[m] : ascii[m];

	if (st->color)
		fprintf(out, "%s%s%s%s", differ ? INVERSE BOLD : "", colors[m], sym, RESET);
	else
		fputs(sym, out);
	fputc(differ && !st->color ? '*' : ' ', out);
	for (int i = 2; i < width; i++)
		fputc(' ', out);
}

static int label_width(const char **v, size_t n)
{
	int w = 6;

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(v[i]) > w)
			w = (int)strlen(v[i]);
	return w;
}

/* Targets named in the header when they fit, else numbered (with a key printed once). */
static bool numbered(const struct grid *g, const struct matrix_style *st)
{
	int w = label_width(g->rows, g->n_rows) + 2;

	for (size_t i = 0; i < g->n_cols; i++)
		w += (int)strlen(g->labels[i]) + 1;
	return st->width > 0 && w > st->width;
}

static int col_width(const struct grid *g, size_t k, bool num)
{
	char buf[16];
	int w = num ? snprintf(buf, sizeof(buf), "%zu", k + 1) : (int)strlen(g->labels[k]);

	return w < 2 ? 2 : w;
}

static void section_print(const struct grid *g, const char *title, bool num,
			  const struct matrix_style *st, FILE *out)
{
	int lw = label_width(g->rows, g->n_rows);

	fprintf(out, "\n%s%s%s\n%*s  ", st->color ? BOLD : "", title, st->color ? RESET : "",
		lw, "");
	for (size_t k = 0; k < g->n_cols; k++)
		num ? fprintf(out, "%-*zu ", col_width(g, k, num), k + 1) :
		      fprintf(out, "%-*s ", col_width(g, k, num), g->labels[k]);
	fputc('\n', out);
	for (size_t r = 0; r < g->n_rows; r++) {
		fprintf(out, "%-*s  ", lw, g->rows[r]);
		for (size_t k = 0; k < g->n_cols; k++) {
			const struct agg *a = &g->cells[r * g->n_cols + k];

			mark_print(st, agg_mark(a, !strcmp(g->rows[r], g->col_node[k])), a->differ,
				   col_width(g, k, num), out);
			fputc(' ', out);
		}
		fputc('\n', out);
	}
}

/* ---- lists ---- */

static void cell_line(const cJSON *c, FILE *out)
{
	const char *net = json_str(c, "Network"), *proto = json_str(c, "Protocol");
	int port = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "Port"));
	int family = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "Family"));

	fprintf(out, "  %s -> %s", json_str(c, "Source"), json_str(c, "Target"));
	if (published(c))
		fprintf(out, " (published on %s)", json_str(c, "Address"));
	else
		fprintf(out, "@%s (%s)", net, json_str(c, "Address"));
	fprintf(out, " %s", proto);
	if (port)
		fprintf(out, "/%d", port);
	fprintf(out, " IPv%d", family);
}

static void published_print(const cJSON *cells, const struct matrix_style *st, FILE *out)
{
	const cJSON *c;
	bool any = false;

	cJSON_ArrayForEach(c, cells) {
		const char *v = json_str(c, "Verdict");
		enum mark m = !strcmp(v, "reach") ? M_REACH : !strcmp(v, "blocked") ? M_BLOCKED :
										    M_ERROR;

		if (!published(c))
			continue;
		if (!any)
			fprintf(out, "\n%sPublished ports, from the host%s\n", st->color ? BOLD : "",
				st->color ? RESET : "");
		any = true;
		fputs("  ", out);
		mark_print(st, m, differs(c), 2, out);
		cell_line(c, out);
		fprintf(out, " -> port %d: %s\n",
			(int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "TargetPort")),
			json_str(c, "Reason"));
	}
}

/* Cells a symbol does not tell everything of: some ports reached and others not, errors. */
static void details_print(const cJSON *cells, FILE *out)
{
	const cJSON *c;
	bool any = false;

	cJSON_ArrayForEach(c, cells) {
		const char *v = json_str(c, "Verdict");

		if (!strcmp(v, "reach") || !strcmp(v, "blocked"))
			continue;
		if (!any)
			fprintf(out, "\nErrors:\n");
		any = true;
		cell_line(c, out);
		fprintf(out, ": %s\n", json_str(c, "Reason"));
	}
}

static size_t differences_print(const cJSON *reply, const struct matrix_style *st, FILE *out)
{
	const cJSON *cells = cJSON_GetObjectItemCaseSensitive(reply, "Cells"), *c;
	bool file = !strcmp(json_str(reply, "Policy"), "file");
	size_t n = 0;

	cJSON_ArrayForEach(c, cells) {
		if (!differs(c))
			continue;
		if (!n)
			fprintf(out, "\n%sDifferences from %s%s (expected, seen):\n",
				st->color ? BOLD RED : "", file ? "the policy" :
				"the networks' own semantics", st->color ? RESET : "");
		n++;
		cell_line(c, out);
		fprintf(out, ": expected %s (%s), seen %s (%s)\n", json_str(c, "Expected"),
			json_str(c, "ExpectedBy"), json_str(c, "Verdict"), json_str(c, "Reason"));
	}
	return n;
}

static void key_print(const struct grid *g, FILE *out)
{
	fprintf(out, "\nTargets:");
	for (size_t k = 0; k < g->n_cols; k++)
		fprintf(out, "%s%zu %s", k % 6 ? "   " : "\n  ", k + 1, g->labels[k]);
	fputc('\n', out);
}

static void summary_print(const cJSON *reply, size_t differ, const struct matrix_style *st,
			  FILE *out)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(reply, "Summary");
	double ms = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "DurationMs"));
	bool file = !strcmp(json_str(reply, "Policy"), "file");
	const cJSON *n;
	int ctrs = 0;

	fprintf(out, "\n%s reach  %s blocked  ~ some ports only  ! error  - itself;  %s: differs "
		"from the expected\n", st->utf8 ? "✓" : "Y", st->utf8 ? "✗" : "x",
		st->color ? "highlighted" : "*");
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(reply, "Nodes"))
		ctrs += !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(n, "Host"));
	fprintf(out, "%.0f cells, %d containers, %.1f s: %.0f reach, %.0f blocked, %.0f errors; "
		"%zu differ from %s\n",
		cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "Cells")), ctrs, ms / 1000,
		cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "Reach")),
		cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "Blocked")),
		cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "Errors")), differ,
		file ? "the policy" : "the networks' own semantics");
}

size_t matrix_print(const cJSON *reply, const struct matrix_style *st, FILE *out)
{
	const cJSON *cells = cJSON_GetObjectItemCaseSensitive(reply, "Cells");
	struct grid g = { 0 };
	char title[96];
	size_t differ;
	bool num;

	grid_axes(&g, cells);
	grid_labels(&g);
	g.cells = xcalloc(g.n_rows * g.n_cols + 1, sizeof(*g.cells));
	num = numbered(&g, st);
	if (num)
		key_print(&g, out);
	for (size_t p = 0; p < ARRAY_SIZE(protos); p++)
		for (int family = 4; family <= 6; family += 2) {
			if (!section_fill(&g, cells, protos[p], family))
				continue;
			snprintf(title, sizeof(title), "%s, IPv%d", proto_titles[p], family);
			section_print(&g, title, num, st, out);
		}
	published_print(cells, st, out);
	details_print(cells, out);
	differ = differences_print(reply, st, out);
	summary_print(reply, differ, st, out);
	grid_free(&g);
	return differ;
}

/* ---- explain ---- */

static void path_print(const cJSON *path, FILE *out)
{
	const cJSON *e;

	fprintf(out, "path:\n");
	cJSON_ArrayForEach(e, path) {
		const char *rule = json_str(e, "Rule"), *type = json_str(e, "Type");

		fprintf(out, "  %-14s %-12s ", json_str(e, "Table"), json_str(e, "Chain"));
		if (!strcmp(type, "rule"))
			fprintf(out, "rule \"%s\" (handle %.0f)", *rule ? rule : "?",
				cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "Handle")));
		else
			fprintf(out, "%s", type);
		fprintf(out, ": %s", json_str(e, "Verdict"));
		if (*json_str(e, "Target"))
			fprintf(out, " %s", json_str(e, "Target"));
		if (*json_str(e, "In") || *json_str(e, "Out"))
			fprintf(out, "   [in %s, out %s]", *json_str(e, "In") ? json_str(e, "In") : "-",
				*json_str(e, "Out") ? json_str(e, "Out") : "-");
		fputc('\n', out);
	}
}

void matrix_explain_print(const cJSON *x, const struct matrix_style *st, FILE *out)
{
	const cJSON *rule = cJSON_GetObjectItemCaseSensitive(x, "Rule");
	bool reach = !strcmp(json_str(x, "Verdict"), "reach");

	fprintf(out, "%s (%s, network %s): %s%s%s, %s\n", json_str(x, "Cell"),
		json_str(x, "Address"), json_str(x, "Network"),
		st->color ? (reach ? GREEN : RED) : "", json_str(x, "Verdict"),
		st->color ? RESET : "", json_str(x, "Reason"));
	fprintf(out, "%s%s%s\n", st->color ? BOLD : "", json_str(x, "Decision"),
		st->color ? RESET : "");
	if (rule)
		fprintf(out, "  by rule \"%s\" (handle %.0f) of chain %s, table %s\n",
			json_str(rule, "Rule"),
			cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rule, "Handle")),
			json_str(rule, "Chain"), json_str(rule, "Table"));
	path_print(cJSON_GetObjectItemCaseSensitive(x, "Path"), out);
}
