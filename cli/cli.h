/* SPDX-License-Identifier: Apache-2.0 */
/* berth CLI: one entry point per command. Each takes argv with argv[0] = the command word and
 * returns the process exit code (0 success, 1 failure; run/wait/exec may return the
 * container's code). */
#pragma once

#include <cjson/cJSON.h>

#include "cli/flags.h"

#include "common/error.h"

#define BERTH_VERSION "0.1.0"
#define BERTH_API_VERSION "1.41"

int cmd_dns(int argc, char **argv);
int cmd_network(int argc, char **argv);      /* dispatches to the network subcommands */
int cmd_network_probe(int argc, char **argv);   /* cli/probe.c */
int cmd_image(int argc, char **argv);        /* dispatches to the image subcommands */

int cmd_run(int argc, char **argv);
int cmd_create(int argc, char **argv);

int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_port(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_events(int argc, char **argv);

/* Terminal sessions (cli/tty.c): relay a hijacked stream until it ends or the detach keys are
 * typed (raw mode for a terminal with stdin; SIGWINCH -> POST resize_path?h=&w=). */
enum { TTY_ENDED, TTY_DETACHED, TTY_FAILED };
int tty_session(int sock, const char *extra, size_t n_extra, bool tty, bool in,
		const char *resize_path, const char *detach_keys);
bool tty_size(int *rows, int *cols);

/* cli/attach.c: attach to a container (hijack), optionally start it, relay, and return its exit
 * code (or 0 when detached); exec -i/-t through berthd. */
struct attach_opts {
	bool in, tty, start, rm;
	const char *detach_keys;
};
int attach_run(const char *id, const struct attach_opts *o);
int exec_api(const char *ctr, char **argv, const cJSON *env, const char *user,
	     const char *workdir, bool in, bool tty, bool detach, const char *detach_keys);

/* run/create --memory, --memory-swap, --pids-limit, --cpus, --cpu-shares (cli/stats.c): the
 * values as typed, into HostConfig's Memory, MemorySwap, PidsLimit, NanoCpus, CpuShares. */
struct run_limits {
	const char *memory, *memory_swap, *pids, *cpus, *cpu_shares;
};
int run_limits_build(cJSON *host, const struct run_limits *l, struct berr *err);

/* Shared by the command files. */
struct cmd_group_entry {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};
/* Run the subcommand argv[1] of a group ("network", "image"); prints the group usage for
 * --help / no subcommand. */
int cmd_group_dispatch(const char *group, const struct cmd_group_entry *cmds, int argc,
		       char **argv);

/* Exit code of a flags_parse() result that is not 0: FLAGS_HELP → 0, error → 1. */
int cmd_parse_exit(int r);

/* For each positional name: fn(name); print the name on success, one error line on failure;
 * carry on. Returns 0 when all succeeded, 1 otherwise. */
int cmd_each(const struct args *args, int (*fn)(const char *name, void *ud, struct berr *err),
	     void *ud);

/* Inspect: fetch(name) for each positional, print the JSON array of what was found (or, with a
 * format template, a line per object), then one error line per failure. Returns 0 when all
 * were found, 1 otherwise. */
int cmd_inspect_each(const struct args *args,
		     int (*fetch)(const char *name, void *ud, cJSON **ret, struct berr *err), void *ud,
		     const char *format);

/* "/containers/<escaped name><suffix>": a path with one escaped name; free() it. */
char *cmd_path(const char *prefix, const char *name, const char *suffix);

/* Environment for a container: base (a JSON array of "K=V", may be NULL) overridden by each
 * -e value, where "K" alone takes K's value from berth's own environment (skipped if unset).
 * Returns a new JSON array, or NULL with err set for an invalid entry. */
struct cJSON;
struct cJSON *env_build(const struct cJSON *base, const struct strlist *vars, struct berr *err);
