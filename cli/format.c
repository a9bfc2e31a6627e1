/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/format.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "cli/table.h"
#include "common/util.h"

#define FORMAT_ARGS_MAX 4
#define FORMAT_NODES_MAX 256
#define FORMAT_DEPTH_MAX 8

enum node_kind { N_TEXT, N_VALUE, N_RANGE, N_END };
enum node_fn { FN_NONE, FN_JSON, FN_INDEX, FN_JOIN, FN_UPPER, FN_LOWER };

struct node {
	enum node_kind kind;
	enum node_fn fn;
	char *text;                    /* N_TEXT: the text; else the path (".", ".A.B") */
	char *args[FORMAT_ARGS_MAX];   /* string literals after the path */
	int nargs;
	size_t end;                    /* N_RANGE: index of its N_END */
};

struct tmpl {
	struct node v[FORMAT_NODES_MAX];
	size_t n;
};

static const struct {
	const char *name;
	enum node_fn fn;
	int min_args, max_args;
} format_fns[] = {
	{ "json", FN_JSON, 0, 0 },   { "index", FN_INDEX, 1, FORMAT_ARGS_MAX },
	{ "join", FN_JOIN, 1, 1 },   { "upper", FN_UPPER, 0, 0 },
	{ "lower", FN_LOWER, 0, 0 },
};

/* ---- output buffer ---- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* ---- parsing ---- */

static void tmpl_free(struct tmpl *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].text);
		for (int k = 0; k < t->v[i].nargs; k++)
			free(t->v[i].args[k]);
	}
	t->n = 0;
}

static struct node *tmpl_add(struct tmpl *t, enum node_kind kind, struct berr *err)
{
	if (t->n == FORMAT_NODES_MAX) {
		berr_set(err, -EINVAL, "template: more than %d parts", FORMAT_NODES_MAX);
		return NULL;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	t->v[t->n].kind = kind;
	return &t->v[t->n++];
}

/* Text between actions, with the two escapes people type in shells: \t and \n. */
static int text_add(struct tmpl *t, const char *s, size_t len, struct berr *err)
{
	struct node *n;
	struct sbuf b = { 0 };

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && (s[i + 1] == 't' || s[i + 1] == 'n')) {
			sbuf_add(&b, s[i + 1] == 't' ? "\t" : "\n", 1);
			i++;
		} else {
			sbuf_add(&b, s + i, 1);
		}
	}
	n = tmpl_add(t, N_TEXT, err);
	if (!n) {
		free(b.s);
		return -EINVAL;
	}
	n->text = b.s;
	return 0;
}

/* The next word of an action at *p: a quoted string (unquoted into *ret, *quoted set) or a run
 * of non-space characters. 1 with a word, 0 at the end, -EINVAL for an unterminated string. */
static int word_next(const char **p, char **ret, bool *quoted, struct berr *err)
{
	struct sbuf b = { 0 };
	const char *s = *p;

	while (isspace((unsigned char)*s))
		s++;
	*ret = NULL;
	*quoted = *s == '"';
	if (!*s)
		return 0;
	if (!*quoted) {
		const char *start = s;

		while (*s && !isspace((unsigned char)*s))
			s++;
		*ret = strndup(start, (size_t)(s - start));
		*p = s;
		return 1;
	}
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
		sbuf_add(&b, s, 1);
	}
	if (*s != '"') {
		free(b.s);
		return berr_set(err, -EINVAL, "template: unterminated quoted string");
	}
	*ret = b.s ? b.s : xstrdup("");
	*p = s + 1;
	return 1;
}

static bool path_valid(const char *p)
{
	if (p[0] != '.')
		return false;
	if (!p[1])
		return true;
	for (const char *s = p; *s; s++)
		if (*s == '.' && (s[1] == '.' || s[1] == '\0'))
			return false;
	return true;
}

static int action_fn(struct node *n, const char *name, struct berr *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_fns); i++)
		if (!strcmp(name, format_fns[i].name)) {
			n->fn = format_fns[i].fn;
			return 0;
		}
	return berr_set(err, -EINVAL, "template: function \"%s\" not defined", name);
}

static int action_arity(const struct node *n, const char *name, struct berr *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_fns); i++)
		if (format_fns[i].fn == n->fn &&
		    (n->nargs < format_fns[i].min_args || n->nargs > format_fns[i].max_args))
			return berr_set(err, -EINVAL, "template: wrong number of arguments for %s",
					name);
	return 0;
}

/* Words of one action into node n: [fn] PATH ["arg"...]. */
static int action_words(struct node *n, const char *a, struct berr *err)
{
	_cleanup_free_ char *first = NULL, *fn_name = NULL;
	const char *p = a;
	bool quoted;
	char *w;
	int r;

	r = word_next(&p, &first, &quoted, err);
	if (r <= 0 || quoted)
		return r < 0 ? r : berr_set(err, -EINVAL, "template: empty or malformed action "
					    "\"{{%s}}\"", a);
	if (first[0] != '.') {
		r = action_fn(n, first, err);
		if (r < 0)
			return r;
		fn_name = steal_ptr(first);
		r = word_next(&p, &first, &quoted, err);
		if (r <= 0 || quoted)
			return r < 0 ? r : berr_set(err, -EINVAL, "template: %s needs a field such "
						    "as .Name", fn_name);
	}
	if (!path_valid(first))
		return berr_set(err, -EINVAL, "template: bad field \"%s\" (a field reads .Name)", first);
	n->text = steal_ptr(first);
	while ((r = word_next(&p, &w, &quoted, err)) > 0) {
		if (!quoted || n->nargs == FORMAT_ARGS_MAX) {
			berr_set(err, -EINVAL, "template: unexpected \"%s\" in \"{{%s}}\" (arguments "
				 "are quoted strings)", w, a);
			free(w);
			return -EINVAL;
		}
		n->args[n->nargs++] = w;
	}
	if (r < 0)
		return r;
	return fn_name ? action_arity(n, fn_name, err) : 0;
}

static int action_add(struct tmpl *t, const char *a, size_t *stack, size_t *depth,
		      struct berr *err)
{
	const char *p = a + strspn(a, " \t");
	struct node *n;

	if (!strcmp(p, "end") || !strncmp(p, "end ", 4)) {
		if (*depth == 0)
			return berr_set(err, -EINVAL, "template: unexpected {{end}}");
		if (!tmpl_add(t, N_END, err))
			return -EINVAL;
		t->v[stack[--*depth]].end = t->n - 1;
		return 0;
	}
	if (!strncmp(p, "range ", 6)) {
		if (*depth == FORMAT_DEPTH_MAX)
			return berr_set(err, -EINVAL, "template: ranges nest too deep");
		n = tmpl_add(t, N_RANGE, err);
		if (!n)
			return -EINVAL;
		stack[(*depth)++] = t->n - 1;
		return action_words(n, p + 6, err);
	}
	n = tmpl_add(t, N_VALUE, err);
	return n ? action_words(n, p, err) : -EINVAL;
}

static int tmpl_parse(const char *s, struct tmpl *t, struct berr *err)
{
	size_t stack[FORMAT_DEPTH_MAX], depth = 0;
	const char *p = s;
	int r = 0;

	t->n = 0;
	while (r >= 0) {
		const char *open = strstr(p, "{{"), *close;
		_cleanup_free_ char *a = NULL;

		r = text_add(t, p, open ? (size_t)(open - p) : strlen(p), err);
		if (!open || r < 0)
			break;
		close = strstr(open + 2, "}}");
		if (!close) {
			r = berr_set(err, -EINVAL, "template: unclosed action (a \"}}\" is missing)");
			break;
		}
		a = strndup(open + 2, (size_t)(close - open - 2));
		r = action_add(t, a, stack, &depth, err);
		p = close + 2;
	}
	if (r >= 0 && depth)
		r = berr_set(err, -EINVAL, "template: unexpected EOF (a {{range}} has no {{end}})");
	if (r < 0)
		tmpl_free(t);
	return r;
}

/* ---- evaluation ---- */

static const cJSON *path_get(const cJSON *dot, const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path + 1);
	char *save = NULL;
	const cJSON *v = dot;

	for (char *k = strtok_r(copy, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
		v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, k) : NULL;
	return v;
}

static void value_put(struct sbuf *b, const cJSON *v, bool json)
{
	char num[64];

	if (!v) {
		sbuf_str(b, "<no value>");
	} else if (json || cJSON_IsObject(v) || cJSON_IsArray(v)) {
		_cleanup_free_ char *s = cJSON_PrintUnformatted(v);

		sbuf_str(b, s ? s : "null");
	} else if (cJSON_IsString(v)) {
		sbuf_str(b, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		if (v->valuedouble == (double)(long long)v->valuedouble)
			snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble);
		else
			snprintf(num, sizeof(num), "%g", v->valuedouble);
		sbuf_str(b, num);
	} else if (cJSON_IsBool(v)) {
		sbuf_str(b, cJSON_IsTrue(v) ? "true" : "false");
	} else {
		sbuf_str(b, "<no value>");
	}
}

static void case_put(struct sbuf *b, const cJSON *v, bool upper)
{
	struct sbuf tmp = { 0 };

	value_put(&tmp, v, false);
	for (size_t i = 0; i < tmp.len; i++)
		tmp.s[i] = (char)(upper ? toupper((unsigned char)tmp.s[i])
					: tolower((unsigned char)tmp.s[i]));
	if (tmp.s)
		sbuf_str(b, tmp.s);
	free(tmp.s);
}

static void join_put(struct sbuf *b, const cJSON *v, const char *sep)
{
	const cJSON *it;
	bool first = true;

	cJSON_ArrayForEach(it, v) {
		if (!first)
			sbuf_str(b, sep);
		value_put(b, it, false);
		first = false;
	}
}

static void node_value(struct sbuf *b, const struct node *n, const cJSON *dot)
{
	const cJSON *v = path_get(dot, n->text);

	switch (n->fn) {
	case FN_JSON:
		value_put(b, v, true);
		break;
	case FN_INDEX:
		for (int i = 0; i < n->nargs && v; i++)
			v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, n->args[i]) : NULL;
		value_put(b, v, false);
		break;
	case FN_JOIN:
		join_put(b, v, n->args[0]);
		break;
	case FN_UPPER:
	case FN_LOWER:
		case_put(b, v, n->fn == FN_UPPER);
		break;
	default:
		value_put(b, v, false);
	}
}

static void tmpl_eval(const struct tmpl *t, size_t from, size_t to, const cJSON *dot,
		      struct sbuf *b)
{
	for (size_t i = from; i < to; i++) {
		const struct node *n = &t->v[i];
		const cJSON *it;

		if (n->kind == N_TEXT) {
			sbuf_str(b, n->text);
		} else if (n->kind == N_VALUE) {
			node_value(b, n, dot);
		} else if (n->kind == N_RANGE) {
			cJSON_ArrayForEach(it, path_get(dot, n->text))
				tmpl_eval(t, i + 1, n->end, it, b);
			i = n->end;
		}
	}
}

/* ---- entry points ---- */

int format_check(const char *tmpl, struct berr *err)
{
	struct tmpl t;
	int r = tmpl_parse(tmpl, &t, err);

	if (r >= 0)
		tmpl_free(&t);
	return r;
}

char *format_render(const char *tmpl, const cJSON *obj)
{
	struct berr err = BERR_INIT;
	struct sbuf b = { 0 };
	struct tmpl t;

	if (tmpl_parse(tmpl, &t, &err) < 0)
		return xstrdup("");
	tmpl_eval(&t, 0, t.n, obj, &b);
	tmpl_free(&t);
	return b.s ? b.s : xstrdup("");
}

void format_print(const char *tmpl, const cJSON *obj)
{
	_cleanup_free_ char *s = format_render(tmpl, obj);

	printf("%s\n", s);
}

int format_validate(const char *fmt, struct berr *err)
{
	if (!format_is_custom(fmt) || !strcmp(fmt, "json"))
		return 0;
	if (!strstr(fmt, "{{"))
		return berr_set(err, -EINVAL, "unsupported format %s: use table, json or a template "
				"such as '{{.Name}}'", fmt);
	return format_check(fmt, err);
}

bool format_is_custom(const char *tmpl)
{
	return tmpl && *tmpl && strcmp(tmpl, "table") != 0;
}

static bool table_prefixed(const char *tmpl)
{
	return !strncmp(tmpl, "table ", 6) || !strncmp(tmpl, "table\t", 6);
}

/* The header of one column: its first field, named by headers or in capitals. */
static char *column_header(const char *col, const struct format_header *headers)
{
	const char *p = strstr(col, "{{"), *f;
	struct sbuf b = { 0 };
	size_t len;

	if (!p)
		return xstrdup("");
	for (f = p + 2; *f && *f != '.' && strncmp(f, "}}", 2); f++)
		;
	if (*f != '.')
		return xstrdup("");
	f++;
	len = strcspn(f, ". }\"");
	for (const struct format_header *h = headers; h && h->field; h++)
		if (strlen(h->field) == len && !strncmp(h->field, f, len))
			return xstrdup(h->header);
	for (size_t i = 0; i < len; i++) {
		char c = (char)toupper((unsigned char)f[i]);

		if (i && isupper((unsigned char)f[i]) && islower((unsigned char)f[i - 1]))
			sbuf_add(&b, " ", 1);
		sbuf_add(&b, &c, 1);
	}
	return b.s ? b.s : xstrdup("");
}

/* Columns of a "table ..." template: the text between \t escapes (or real tabs). */
static size_t table_columns(const char *tmpl, char ***ret)
{
	_cleanup_free_ char *s = xstrdup(tmpl + 6);
	char **cols = NULL, *p = s;
	size_t n = 0;

	for (;;) {
		char *tab = strstr(p, "\\t"), *real = strchr(p, '\t');
		char *cut = tab && (!real || tab < real) ? tab : real;

		cols = xrealloc(cols, (n + 1) * sizeof(*cols));
		cols[n++] = strndup(p, cut ? (size_t)(cut - p) : strlen(p));
		if (!cut)
			break;
		p = cut + (cut == tab ? 2 : 1);
	}
	*ret = cols;
	return n;
}

static void format_table(const char *tmpl, const cJSON *list,
			 const struct format_header *headers, FILE *out)
{
	char **cols = NULL;
	size_t n = table_columns(tmpl, &cols);
	_cleanup_free_ char **cells = xcalloc(n, sizeof(*cells));
	struct table *t;
	const cJSON *it;

	for (size_t i = 0; i < n; i++)
		cells[i] = column_header(cols[i], headers);
	t = table_new(n, (const char *const *)cells);
	for (size_t i = 0; i < n; i++)
		free(cells[i]);
	cJSON_ArrayForEach(it, list) {
		for (size_t i = 0; i < n; i++)
			cells[i] = format_render(cols[i], it);
		table_add(t, (const char *const *)cells);
		for (size_t i = 0; i < n; i++)
			free(cells[i]);
	}
	table_print(t, out);
	table_free(t);
	for (size_t i = 0; i < n; i++)
		free(cols[i]);
	free(cols);
}

void format_list(const char *tmpl, const cJSON *list, const struct format_header *headers,
		 FILE *out)
{
	const cJSON *it;

	if (table_prefixed(tmpl)) {
		format_table(tmpl, list, headers, out);
		return;
	}
	cJSON_ArrayForEach(it, list) {
		_cleanup_free_ char *s = format_render(tmpl, it);

		fprintf(out, "%s\n", s);
	}
}
