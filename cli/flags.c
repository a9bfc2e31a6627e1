/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/flags.h"

#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/util.h"

/* Every array the parser allocates, freed by flags_release(). */
static void **owned;
static size_t n_owned;

static void flags_own(void *p)
{
	owned = xrealloc(owned, (n_owned + 1) * sizeof(*owned));
	owned[n_owned++] = p;
}

void flags_release(void)
{
	for (size_t i = 0; i < n_owned; i++)
		free(owned[i]);
	free(owned);
	owned = NULL;
	n_owned = 0;
}

/* Index of a tracked pointer, n_owned when untracked. */
static size_t flags_slot(const void *p)
{
	for (size_t i = 0; p && i < n_owned; i++)
		if (owned[i] == p)
			return i;
	return n_owned;
}

void strlist_push(struct strlist *l, const char *s)
{
	size_t slot = flags_slot(l->v);

	/* Keep a NULL terminator so a list can serve as an argv. */
	l->v = xrealloc(l->v, (l->n + 2) * sizeof(*l->v));
	if (slot == n_owned)
		flags_own(l->v);
	else
		owned[slot] = l->v;
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

char *kv_split(const char *s, const char **ret_value)
{
	const char *eq = strchr(s, '=');

	if (!eq) {
		*ret_value = "";
		return xstrdup(s);
	}
	*ret_value = eq + 1;
	return strndup(s, (size_t)(eq - s));
}

void kv_list_to_json(cJSON *obj, const char *key, const struct strlist *l)
{
	cJSON *map;

	if (l->n == 0)
		return;
	map = cJSON_AddObjectToObject(obj, key);
	for (size_t i = 0; i < l->n; i++) {
		const char *v;
		_cleanup_free_ char *k = kv_split(l->v[i], &v);

		cJSON_DeleteItemFromObjectCaseSensitive(map, k);   /* the last one counts */
		cJSON_AddStringToObject(map, k, v);
	}
}

static const struct flag *flag_find_long(const struct flag *flags, const char *name, size_t len)
{
	for (const struct flag *f = flags; f && f->name; f++)
		if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
			return f;
	return NULL;
}

static const struct flag *flag_find_short(const struct flag *flags, char c)
{
	for (const struct flag *f = flags; f && f->name; f++)
		if (f->short_name == c)
			return f;
	return NULL;
}

static int flag_fail(const struct cmd_spec *spec, const char *fmt, const char *what)
{
	fprintf(stderr, "berth: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, " for \"%s\"\n", spec->name);
	return -EINVAL;
}

static int flag_bool_parse(const char *v, bool *ret)
{
	if (!strcmp(v, "true") || !strcmp(v, "1")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

/* Store a value; value == NULL only for booleans given without "=". */
static int flag_store(const struct cmd_spec *spec, const struct flag *f, const char *value)
{
	switch (f->kind) {
	case FLAG_BOOL:
		if (!value) {
			*(bool *)f->dest = true;
			return 0;
		}
		if (flag_bool_parse(value, f->dest) < 0)
			return flag_fail(spec, "invalid boolean value for --%s", f->name);
		return 0;
	case FLAG_STR:
		*(const char **)f->dest = value;
		return 0;
	case FLAG_LIST:
		strlist_push(f->dest, value);
		return 0;
	}
	return -EINVAL;
}

struct parser {
	const struct cmd_spec *spec;
	int argc;
	char **argv;
	int i;               /* index of the argument being parsed */
};

/* Value of a flag that needs one: attached (`--x=v`, `-xv`) or the next argument. */
static int parser_value(struct parser *p, const struct flag *f, const char *attached,
			const char **ret)
{
	char what[80];

	if (attached) {
		*ret = attached;
		return 0;
	}
	if (p->i + 1 >= p->argc) {
		if (f->short_name && p->argv[p->i][1] != '-')
			snprintf(what, sizeof(what), "-%c", f->short_name);
		else
			snprintf(what, sizeof(what), "--%s", f->name);
		return flag_fail(p->spec, "flag %s needs an argument", what);
	}
	*ret = p->argv[++p->i];
	return 0;
}

static int parser_long(struct parser *p, const char *arg)
{
	const char *name = arg + 2, *eq = strchr(name, '='), *value = NULL;
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct flag *f = flag_find_long(p->spec->flags, name, len);

	if (!f) {
		if (len == 4 && strncmp(name, "help", 4) == 0)
			return FLAGS_HELP;
		return flag_fail(p->spec, "unknown flag %s", arg);
	}
	if (f->kind == FLAG_BOOL)
		return flag_store(p->spec, f, eq ? eq + 1 : NULL);
	if (parser_value(p, f, eq ? eq + 1 : NULL, &value) < 0)
		return -EINVAL;
	return flag_store(p->spec, f, value);
}

static int parser_short(struct parser *p, const char *arg)
{
	for (size_t j = 1; arg[j]; j++) {
		const struct flag *f = flag_find_short(p->spec->flags, arg[j]);
		const char *value = NULL;
		char what[3] = { '-', arg[j], 0 };

		if (!f) {
			if (arg[j] == 'h')
				return FLAGS_HELP;
			return flag_fail(p->spec, "unknown flag %s", what);
		}
		if (f->kind == FLAG_BOOL) {
			flag_store(p->spec, f, NULL);
			continue;
		}
		if (parser_value(p, f, arg[j + 1] ? arg + j + 1 : NULL, &value) < 0)
			return -EINVAL;
		return flag_store(p->spec, f, value);
	}
	return 0;
}

int flags_parse(const struct cmd_spec *spec, int argc, char **argv, struct args *ret)
{
	struct parser p = { .spec = spec, .argc = argc, .argv = argv, .i = 1 };
	bool rest = false;
	int r;

	ret->v = xcalloc((size_t)argc + 1, sizeof(*ret->v));
	flags_own(ret->v);
	ret->n = 0;
	for (; p.i < argc; p.i++) {
		const char *a = argv[p.i];

		if (rest || a[0] != '-' || a[1] == '\0') {
			ret->v[ret->n++] = argv[p.i];
			rest = rest || spec->stop_at_positional;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			rest = true;
			continue;
		}
		r = a[1] == '-' ? parser_long(&p, a) : parser_short(&p, a);
		if (r == FLAGS_HELP)
			flags_usage(spec, stdout);
		if (r != 0)
			return r;
	}
	return 0;
}

int args_require(const struct cmd_spec *spec, const struct args *args, int min, int max)
{
	const char *what;
	int n = min;

	if (args->n >= min && (max < 0 || args->n <= max))
		return 0;
	if (min == max)
		what = "exactly";
	else if (args->n < min)
		what = "at least";
	else {
		what = "at most";
		n = max;
	}
	fprintf(stderr, "berth: \"%s\" requires %s %d argument%s (see 'berth %s --help')\n",
		spec->name, what, n, n == 1 ? "" : "s", spec->name);
	return -EINVAL;
}

static void flag_format(const struct flag *f, char *buf, size_t size)
{
	const char *meta = f->kind == FLAG_BOOL ? "" : f->metavar ? f->metavar : "string";

	if (f->short_name)
		snprintf(buf, size, "-%c, --%s%s%s", f->short_name, f->name, *meta ? " " : "", meta);
	else
		snprintf(buf, size, "    --%s%s%s", f->name, *meta ? " " : "", meta);
}

void flags_usage(const struct cmd_spec *spec, FILE *out)
{
	char buf[128];
	size_t width = 0;

	fprintf(out, "Usage:  berth %s %s\n\n%s\n", spec->name, spec->usage, spec->summary);
	for (const struct flag *f = spec->flags; f && f->name; f++) {
		flag_format(f, buf, sizeof(buf));
		if (f->help && strlen(buf) > width)
			width = strlen(buf);
	}
	if (width == 0)
		return;
	fprintf(out, "\nOptions:\n");
	for (const struct flag *f = spec->flags; f && f->name; f++) {
		if (!f->help)
			continue;
		flag_format(f, buf, sizeof(buf));
		fprintf(out, "  %-*s   %s\n", (int)width, buf, f->help);
	}
}
