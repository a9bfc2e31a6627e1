/* SPDX-License-Identifier: Apache-2.0 */
/* Private helpers shared by the runtime's source files. Not part of the module's interface. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "runtime/runtime.h"

#define RT_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RT_REPORT_MAX (BERR_MSG_MAX + 64)

/* Between the shim and the init: err (CLOEXEC pipe), go (pipe), ptm (socketpair: the terminal's
 * master goes to the shim), in (the stdin pipe); [0] is the reading end, -1 when unused. */
struct rt_init_io {
	int err[2], go[2], ptm[2], in[2];
};

struct rt_seccomp;
/* init.c: the container's pid 1 until it execs the user's command. Reports a failure as
 * "<code> <message>" on io->err[1]; waits for one byte on io->go[0] before touching anything.
 * seccomp: the profile read by the shim (see rt_security_apply). */
void rt_init_main(const struct rt_spec *spec, const struct rt_seccomp *seccomp,
		  struct rt_init_io *io) __attribute__((noreturn));
/* A new pty of the current root's /dev/ptmx: the master into *ret_master, the slave returned
 * (made the controlling terminal of a new session when ctty), rows/cols applied when set. */
int rt_pty_open(int rows, int cols, bool ctty, int *ret_master, struct berr *err);

/* user.c: who a command runs as. */
#define RT_GROUPS_MAX 64
struct rt_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[RT_GROUPS_MAX];   /* supplementary */
	size_t n_groups;
};
/* "name", "uid", "name:group", "uid:gid" against the current root's /etc/passwd and /etc/group
 * ("" is root). */
int rt_user_resolve(const char *spec, struct rt_user *ret, struct berr *err);

/* security.c: the default seccomp profile as rt_seccomp_export wrote it (n == 0: none). */
struct sock_filter;
struct rt_seccomp {
	struct sock_filter *insns;
	size_t n;
};
/* Read it (before the root changes); path NULL or missing: empty, not an error. */
int rt_seccomp_read(const char *path, struct rt_seccomp *ret, struct berr *err);
/* Become user (NULL: root) with Docker's default capabilities (none for another user, as
 * Docker), no_new_privs, the default seccomp profile (prog, else built now). Call last before
 * exec: nothing privileged works afterwards. */
int rt_security_apply(const struct rt_user *user, const struct rt_seccomp *prog,
		      struct berr *err);
/* The working directory of a command: made (0755) if missing, as Docker does. */
int rt_workdir_enter(const char *dir, struct berr *err);

/* cgroup.c: the cgroups of a container, <cgroup root>/berth/<id>, with the spec's limits; on
 * v2 pid is moved into them, on v1 the init joins them itself first thing: rt_cgroup_enter.
 * Errors are ignored unless a limit was requested. */
int rt_cgroup_setup(const struct rt_spec *spec, pid_t pid, struct berr *err);
int rt_cgroup_enter(const struct rt_spec *spec, struct berr *err);
void rt_cgroup_remove(const char *id);
/* Move the calling process into the berth cgroups the process target belongs to (an exec must
 * not escape its container's limits: a failure is an error). */
int rt_cgroup_join(pid_t target, struct berr *err);

/* stdio.c: a shim's stdio server (see there). fds it does not use are -1; in a terminal's case
 * stdin_fd is tty_fd. */
struct rt_stdio {
	int tty_fd;        /* the pty master */
	int stdin_fd;      /* the write end of the process's stdin */
	int out_fd, err_fd;/* the read ends of its stdout and stderr (exec without a terminal) */
	int log_fd;        /* where the output is copied too */
	int listen_fd;     /* the attach socket */
	int child_pidfd;
	bool hold;         /* keep the output for the first client to attach */
	bool stdin_once;   /* the first attached input's end closes the process's stdin */
};
/* Serves until the process exits and its output is drained, calls exited(code) (the exit file),
 * lets the clients take what is left, closes them; returns the exit code. */
int rt_stdio_serve(struct rt_stdio *s, pid_t child, void (*exited)(void *ud, int code),
		   void *ud);
int rt_fd_send(int sock, int fd);
int rt_fd_recv(int sock);
/* A listening unix socket (0600) at path, replacing a stale one. */
int rt_socket_listen(const char *path, struct berr *err);

/* start.c, shared with the exec shim: berth-shim (or the caller re-executed) run as
 * "<mode> <fd> <id>" with a socket for the spec and the answer; the spec read to its end; a
 * bounded send. */
int rt_shim_spawn(const char *mode, const char *id, int *ret_sock, pid_t *ret_pid,
		  struct berr *err);
int rt_shim_read_spec(int sock, char **ret);
/* A shim's first steps: the socket of argv[2] (other fds closed), its own session, umask 022,
 * cwd /; exits on a bad argument. */
int rt_shim_enter(int argc, char **argv);
int rt_send_all(int fd, const char *data, size_t len, uint64_t deadline);
/* JSON of the specs: absent values are left out; strv arrays are NULL-terminated, their strings
 * owned by the cJSON (the array itself malloc'd). */
void rt_json_add_str(cJSON *o, const char *key, const char *val);
void rt_json_add_strv(cJSON *o, const char *key, char *const *v);
const char *rt_json_str(const cJSON *o, const char *key);
int64_t rt_json_int(const cJSON *o, const char *key);
char **rt_json_strv(const cJSON *o, const char *key);

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

/* exec.c: a command run inside a container (berth exec). */
struct rt_exec_cmd {
	char *const *argv;
	char *const *env;
	const char *user;       /* NULL: root */
	const char *workdir;    /* NULL: / */
	const struct rt_seccomp *seccomp;   /* NULL: built */
};
/* Joins the cgroups, namespaces and root of the container process pid (a fork is still needed
 * to be in its pid namespace). */
int rt_exec_enter(pid_t pid, struct berr *err);
/* In the forked child: environment, working directory, user, security, exec; a failure is
 * reported on err_fd. Never returns. */
void rt_exec_command(const struct rt_exec_cmd *x, int err_fd) __attribute__((noreturn));

/* The environment for the user's command (PATH and HOSTNAME defaulted); then exec it
 * (returns only on failure, with Docker's wording for a command not found). */
char **rt_env_build(char *const *env, const char *hostname);
int rt_exec_argv(char *const argv[], char **env, struct berr *err);

/* image.c: rm -rf that never crosses into another mount. Missing: success. */
int rt_remove_tree(const char *path, struct berr *err);
