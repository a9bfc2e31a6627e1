/* SPDX-License-Identifier: Apache-2.0 */
/* Docker-style flag parsing driven by a table per command: --long, --long=value, -s value, -svalue,
 * grouped short booleans (-dq), "--" ends the flags. Every flag table also drives --help. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum flag_kind { FLAG_BOOL, FLAG_STR, FLAG_LIST };

/* A repeated flag's values, in order; the strings point into argv. */
struct strlist {
	const char **v;
	size_t n;
};

struct flag {
	const char *name;          /* long name without dashes */
	char short_name;           /* 0 = none */
	enum flag_kind kind;
	void *dest;                /* bool *, const char **, struct strlist * */
	const char *metavar;       /* shown in --help for STR/LIST ("CIDR") */
	const char *help;          /* NULL = hidden alias */
};

struct cmd_spec {
	const char *name;          /* "network create" */
	const char *usage;         /* "[OPTIONS] NAME" */
	const char *summary;
	const struct flag *flags;  /* terminated by an entry with name == NULL */
	bool stop_at_positional;   /* the first positional ends the flags (run, exec) */
};

/* Positional arguments left after the flags (pointers into argv). */
struct args {
	char **v;
	int n;
};

#define FLAGS_HELP 1

/* Parse argv[1..argc-1] (argv[0] is the command word). Returns 0 with the positionals in *ret,
 * FLAGS_HELP after printing the usage to stdout, or -EINVAL after printing one error line. */
int flags_parse(const struct cmd_spec *spec, int argc, char **argv, struct args *ret);

/* Check the number of positionals; prints `berth: "network rm" requires at least 1 argument`
 * and returns -EINVAL when wrong. max < 0 means no upper bound. */
int args_require(const struct cmd_spec *spec, const struct args *args, int min, int max);

void flags_usage(const struct cmd_spec *spec, FILE *out);

/* Append to a list (used by the parser; also handy for callers building argv-like lists). */
void strlist_push(struct strlist *l, const char *s);
/* Free every list the parser grew (called once by main before exit). */
void flags_release(void);

/* Split "K=V" into a malloc'd key and a pointer to the value ("" when no '='). */
char *kv_split(const char *s, const char **ret_value);
/* obj.key = {"K": "V", ...} from a list of "K=V" (nothing when the list is empty). */
struct cJSON;
void kv_list_to_json(struct cJSON *obj, const char *key, const struct strlist *l);
