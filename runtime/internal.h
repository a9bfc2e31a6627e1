/* SPDX-License-Identifier: Apache-2.0 */
/* Private helpers shared by the runtime's source files. Not part of the module's interface. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "runtime/runtime.h"

#define RT_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RT_REPORT_MAX (BERR_MSG_MAX + 64)

/* init.c: the container's pid 1 until it execs the user's command. Reports a failure as
 * "<code> <message>" on err_fd; waits for one byte on go_fd before touching anything. */
void rt_init_main(const struct rt_spec *spec, int err_fd, int go_fd) __attribute__((noreturn));

/* security.c: Docker's default capabilities, no_new_privs, the default seccomp profile. Call
 * last before exec: nothing privileged works afterwards. */
int rt_security_apply(struct berr *err);

/* cgroup.c: put pid into <cgroup root>/berth/<id> with the spec's limits. Errors are ignored
 * unless a limit was requested. */
int rt_cgroup_setup(const struct rt_spec *spec, pid_t pid, struct berr *err);
void rt_cgroup_remove(const char *id);
/* Move the calling process into the berth cgroups the process target belongs to (best effort). */
void rt_cgroup_join(pid_t target);

/* proc.c: small process helpers. */
void rt_signals_reset(void);
/* Read fd until EOF into buf (NUL-terminated, truncated to size - 1). Returns bytes or -errno. */
ssize_t rt_read_all(int fd, char *buf, size_t size);
/* The same, giving up with -ETIMEDOUT when deadline (CLOCK_MONOTONIC ns; 0 = none) passes. */
ssize_t rt_read_until(int fd, char *buf, size_t size, uint64_t deadline);
/* Wait until fd is ready for events (poll) or deadline passes: 0 or -ETIMEDOUT / -errno. */
int rt_fd_wait(int fd, short events, uint64_t deadline);
/* "<code> <message>" on fd, and its reverse (returns the negative code, message into err). */
void rt_report_error(int fd, const struct berr *err);
int rt_report_parse(const char *text, struct berr *err);
/* 0..255 exit code from a waitpid() status, 128+N for signal N. */
int rt_wait_code(int status);
int rt_waitpid(pid_t pid, int *ret_status);

/* exec.c: the environment for the user's command (PATH and HOSTNAME defaulted); then exec it
 * (returns only on failure, with Docker's wording for a command not found). */
char **rt_env_build(char *const *env, const char *hostname);
int rt_exec_argv(char *const argv[], char **env, struct berr *err);

/* image.c: rm -rf that never crosses into another mount. Missing: success. */
int rt_remove_tree(const char *path, struct berr *err);
