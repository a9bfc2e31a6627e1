/* SPDX-License-Identifier: Apache-2.0 */
/* The minimal container runtime: images (directories holding a rootfs), starting a container
 * under a small supervisor process (the "shim") that records its exit code, signalling it, and
 * entering it to exec a command. Networking is NOT done here: the caller creates the network
 * namespace first (netlink/netns_create), configures it, and passes its path in the spec. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* berth-shim's (runtime/shim/) and berthd's main() call rt_shim_main() when argv[1] equals this:
 * the shim is a program executed (berth-shim beside the caller, else the caller re-executed
 * through /proc/self/exe), so a multi-threaded daemon never runs non-async-signal-safe code
 * between fork and exec. */
#define RT_SHIM_ARG "__berth-shim"

struct rt_spec {
	const char *id;
	const char *hostname;
	char *const *argv;          /* NULL-terminated; argv[0] looked up in the container's PATH */
	char *const *env;           /* NULL-terminated "K=V"; PATH and HOSTNAME defaulted if absent */
	const char *image_rootfs;   /* lower directory, never written */
	const char *state_dir;      /* persistent: <root>/containers/<id> (upper/, work/ created) */
	const char *run_dir;        /* runtime: <run>/containers/<id> (rootfs/, exit, shim.pid ...) */
	const char *netns_path;     /* join this network namespace; NULL = share berthd's */
	const char *log_path;       /* stdout+stderr appended here */
	const char *hosts_path;     /* bind-mounted at /etc/hosts (NULL = image's) */
	const char *resolv_path;    /* bind-mounted at /etc/resolv.conf (NULL = image's) */
	const char *workdir;        /* the command's directory (made if missing); NULL = / */
	const char *user;           /* "name", "uid", "name:group", "uid:gid"; NULL = root */
	const char *seccomp_path;   /* the default profile from rt_seccomp_export; NULL or missing:
				     * compiled by the container's init itself (milliseconds more) */
	/* Terminals and stdin: served by the shim on attach_path (runtime/stdio.c's protocol; a
	 * unix socket path: at most 107 bytes). */
	const char *attach_path;
	bool tty;                   /* a pty made inside the container, its controlling terminal */
	bool open_stdin;            /* stdin a pipe from the shim (without tty) */
	bool stdin_once;            /* the first attached input's end closes it */
	bool hold_output;           /* keep the output for the first client (a foreground run) */
	int rows, cols;             /* the terminal's first size (0: none) */
	/* Resource limits (cgroup v2, else v1's memory, pids and cpu controllers); 0 = none. */
	int64_t memory_max;         /* bytes */
	int64_t memory_swap_max;    /* memory + swap, bytes; -1 = unlimited swap */
	int64_t pids_max;
	int64_t cpu_quota_us;       /* per cpu_period_us */
	int64_t cpu_period_us;
	int64_t cpu_shares;         /* relative weight, 2..262144 (v2: converted to cpu.weight) */
	int start_timeout_ms;       /* bound on the shim's answer; 0 = RT_START_TIMEOUT_MS */
};

/* How long rt_start() waits for the shim to report the start (normally a few ms). */
#define RT_START_TIMEOUT_MS 10000

struct rt_proc {
	pid_t pid;                  /* the container's init, in berthd's pid namespace */
	pid_t shim_pid;
	uint64_t pid_start;         /* starttime from /proc/<pid>/stat: guards against PID reuse */
};

/* Start the container. Returns once the user's command has been exec'd inside it (or failed:
 * then -errno with e.g. "exec: \"foo\": executable file not found in $PATH" and nothing is left
 * behind; a shim silent for start_timeout_ms is killed with its container: -ETIMEDOUT). The
 * shim is a child of the caller; it waits for the container and writes its exit status to
 * <run_dir>/exit before exiting itself. */
int rt_start(const struct rt_spec *spec, struct rt_proc *ret, struct berr *err);

/* Shim entry point (see RT_SHIM_ARG). Never returns. */
int rt_shim_main(int argc, char **argv) __attribute__((noreturn));

/* 1 = the process with this pid and starttime is alive, 0 = gone (or zombie), -errno. */
int rt_proc_alive(pid_t pid, uint64_t pid_start);
/* Read /proc/<pid>/stat starttime. */
int rt_proc_start_time(pid_t pid, uint64_t *ret);
/* Signal the container init if it is still the same process. Gone: success. */
int rt_kill(pid_t pid, uint64_t pid_start, int sig, struct berr *err);
/* Exit code recorded by the shim (128+N for signal N): 0 ok, -ENOENT not (yet) written. */
int rt_exit_code(const char *run_dir, int *ret_code, struct berr *err);
/* Whether the shim recorded an OOM kill in the container's cgroup before it exited. */
bool rt_exit_oom(const char *run_dir);

/* Usage of a container's cgroup (-1: unknown; a limit of 0: none). */
struct rt_cg_stats {
	int64_t cpu_ns;             /* CPU time used */
	int64_t mem_usage, mem_limit, mem_inactive_file;
	int64_t pids, pids_limit;
	int64_t oom_kills;
};
void rt_cgroup_stats(const char *id, struct rt_cg_stats *ret);
/* Docker's conversion of cpu shares (2..262144) to a cgroup v2 cpu.weight (1..10000). */
int64_t rt_cpu_shares_to_weight(int64_t shares);
/* Remove what a stopped container left under run_dir (the rootfs mount point, exit file...).
 * Missing: success. The writable layer in state_dir is kept (start again reuses it). */
int rt_cleanup(const char *run_dir, struct berr *err);

/* Compile the default seccomp profile to BPF for this machine into path (atomically), for the
 * specs' seccomp_path: done once instead of by every container and exec. */
int rt_seccomp_export(const char *path, struct berr *err);

/* Run argv inside every namespace and the root of the running container pid, with the same
 * capability set, no_new_privs and seccomp profile, as user (NULL: root) in workdir (NULL: /);
 * stdio inherited. Waits and returns the command's exit code (>= 0), or -errno. Used by
 * `berth exec` (the CLI runs as root). */
int rt_exec(pid_t pid, char *const argv[], char *const env[], const char *user,
	    const char *workdir, struct berr *err);

/* ---- berth exec -i/-t: a command under an exec shim ---- */
#define RT_EXEC_SHIM_ARG "__berth-exec"

struct rt_exec_spec {
	const char *id;             /* the exec session */
	pid_t pid;                  /* the container's init */
	uint64_t pid_start;
	char *const *argv, *const *env;
	const char *user, *workdir; /* NULL: root, / */
	bool tty;                   /* a terminal made in the container (else pipes) */
	bool open_stdin;
	bool hold;                  /* a client comes for the output (not detached) */
	int rows, cols;
	const char *sock_path;      /* the session's socket (runtime/stdio.c's protocol) */
	const char *exit_path;      /* the command's exit code is written here */
	const char *seccomp_path;   /* as rt_spec's */
};
/* Starts the command under an exec shim (a child of the caller that outlives it if need be).
 * Returns once the command runs (*ret_pid: the process waiting for it, in the caller's pid
 * namespace) or failed to (-errno with Docker's message; exit_path then holds 127 for a command
 * not found, else 126). */
int rt_exec_start(const struct rt_exec_spec *spec, pid_t *ret_pid, pid_t *ret_shim,
		  struct berr *err);
int rt_exec_shim_main(int argc, char **argv) __attribute__((noreturn));

/* ---- images: <images_dir>/<name>/rootfs ---- */
/* Build the default "busybox" image from the host's busybox-static if absent: every applet
 * linked, /etc/passwd, group, nsswitch.conf, and the host's libc, ld.so, libnss_files,
 * libnss_dns and libresolv so name resolution works. Idempotent and crash-safe (built in a temp
 * dir, renamed into place). */
int rt_image_ensure_busybox(const char *images_dir, struct berr *err);
/* Import a rootfs tarball (plain, gz) as image `name`. */
int rt_image_import(const char *images_dir, const char *name, const char *tar_path,
		    struct berr *err);
int rt_image_remove(const char *images_dir, const char *name, struct berr *err);
/* rootfs path of an image into buf; -ENOENT (with message) when the image does not exist. */
int rt_image_rootfs(const char *images_dir, const char *name, char *buf, size_t size,
		    struct berr *err);
