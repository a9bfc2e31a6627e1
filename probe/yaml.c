/* SPDX-License-Identifier: Apache-2.0 */
/* YAML to JSON through libyaml's event parser: a policy file is read into the same cJSON tree
 * a JSON request body gives, and one validator serves both. Only the first document is read;
 * aliases are refused (no billion laughs), nesting is bounded, every scalar is length-checked. */
#include <stdlib.h>

#include <yaml.h>

#include "common/util.h"
#include "probe/probe.h"

#define YAML_DEPTH_MAX 64
#define YAML_NODES_MAX 100000

struct ystate {
	yaml_parser_t p;
	cJSON *stack[YAML_DEPTH_MAX];
	char *keys[YAML_DEPTH_MAX];   /* the pending key of each mapping */
	int depth;
	size_t nodes;
	cJSON *root;
	struct berr *err;
};

static int yerr(struct ystate *s, const yaml_mark_t *m, const char *what)
{
	return berr_set(s->err, -EINVAL, "line %zu, column %zu: %s", m->line + 1, m->column + 1,
			what);
}

/* A plain scalar that reads as an integer or a boolean becomes one; anything quoted, or
 * anything else, stays a string. */
static cJSON *scalar_value(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	char *end;
	long long n;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cJSON_CreateString(v);
	if (!strcmp(v, "true") || !strcmp(v, "false"))
		return cJSON_CreateBool(v[0] == 't');
	if (!strcmp(v, "null") || !strcmp(v, "~"))
		return cJSON_CreateNull();
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v && !*end && !errno && n > -(1LL << 53) && n < (1LL << 53))
		return cJSON_CreateNumber((double)n);
	return cJSON_CreateString(v);
}

/* Puts v where the tree is being built: the root, an array, or under a mapping's key. */
static int node_place(struct ystate *s, cJSON *v, const yaml_mark_t *m)
{
	cJSON *top;

	if (++s->nodes > YAML_NODES_MAX) {
		cJSON_Delete(v);
		return yerr(s, m, "too many values");
	}
	if (s->depth == 0) {
		s->root = v;
		return 0;
	}
	top = s->stack[s->depth - 1];
	if (cJSON_IsArray(top)) {
		cJSON_AddItemToArray(top, v);
		return 0;
	}
	if (cJSON_GetObjectItemCaseSensitive(top, s->keys[s->depth - 1])) {
		cJSON_Delete(v);
		return yerr(s, m, "a key appears twice in a mapping");
	}
	cJSON_AddItemToObject(top, s->keys[s->depth - 1], v);
	free(s->keys[s->depth - 1]);
	s->keys[s->depth - 1] = NULL;
	return 0;
}

/* In a mapping with no pending key, a scalar is the next key. */
static bool wants_key(const struct ystate *s)
{
	return s->depth > 0 && cJSON_IsObject(s->stack[s->depth - 1]) && !s->keys[s->depth - 1];
}

static int on_scalar(struct ystate *s, const yaml_event_t *ev)
{
	if (wants_key(s)) {
		s->keys[s->depth - 1] = xstrdup((const char *)ev->data.scalar.value);
		return 0;
	}
	return node_place(s, scalar_value(ev), &ev->start_mark);
}

static int on_open(struct ystate *s, const yaml_event_t *ev, bool mapping)
{
	cJSON *v;
	int r;

	if (wants_key(s))
		return yerr(s, &ev->start_mark, "keys must be plain values");
	if (s->depth == YAML_DEPTH_MAX)
		return yerr(s, &ev->start_mark, "nested too deeply");
	v = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
	r = node_place(s, v, &ev->start_mark);
	if (r < 0)
		return r;
	s->keys[s->depth] = NULL;
	s->stack[s->depth++] = v;
	return 0;
}

static int on_close(struct ystate *s, const yaml_event_t *ev)
{
	if (s->depth == 0)
		return yerr(s, &ev->start_mark, "unbalanced structure");
	s->depth--;
	if (s->keys[s->depth])
		return yerr(s, &ev->start_mark, "a key has no value");
	return 0;
}

/* 1: the document ended, 0: go on, -errno. */
static int on_event(struct ystate *s, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return on_scalar(s, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_open(s, ev, false);
	case YAML_MAPPING_START_EVENT:
		return on_open(s, ev, true);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_close(s, ev);
	case YAML_ALIAS_EVENT:
		return yerr(s, &ev->start_mark, "aliases (*name) are not supported");
	case YAML_DOCUMENT_END_EVENT:
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

static void ystate_free(struct ystate *s)
{
	for (int i = 0; i < YAML_DEPTH_MAX; i++)
		free(s->keys[i]);
	yaml_parser_delete(&s->p);
}

int probe_yaml_to_json(const char *text, size_t len, cJSON **ret, struct berr *err)
{
	struct ystate s = { .err = err };
	int r = 0;

	if (!yaml_parser_initialize(&s.p))
		return berr_set(err, -ENOMEM, "cannot start the YAML parser");
	yaml_parser_set_input_string(&s.p, (const unsigned char *)text, len);
	while (r == 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&s.p, &ev)) {
			r = berr_set(err, -EINVAL, "line %zu, column %zu: %s",
				     s.p.problem_mark.line + 1, s.p.problem_mark.column + 1,
				     s.p.problem ? s.p.problem : "invalid YAML");
			break;
		}
		r = on_event(&s, &ev);
		yaml_event_delete(&ev);
	}
	if (r >= 0 && !s.root)
		r = berr_set(err, -EINVAL, "the file is empty");
	if (r < 0)
		cJSON_Delete(s.root);
	else
		*ret = s.root;
	ystate_free(&s);
	return r < 0 ? r : 0;
}
