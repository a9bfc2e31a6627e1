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

/* berthd's main() calls rt_shim_main() when argv[1] equals this: the shim is berthd re-executed
 * through /proc/self/exe, so a multi-threaded daemon never runs non-async-signal-safe code between
 * fork and exec. */
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
	int64_t memory_max;         /* bytes, 0 = unlimited (cgroup v2 when available) */
	int64_t pids_max;           /* 0 = unlimited */
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
/* Remove what a stopped container left under run_dir (the rootfs mount point, exit file...).
 * Missing: success. The writable layer in state_dir is kept (start again reuses it). */
int rt_cleanup(const char *run_dir, struct berr *err);

/* Run argv inside every namespace and the root of the running container pid, with the same
 * capability set, no_new_privs and seccomp profile; stdio inherited. Waits and returns the
 * command's exit code (>= 0), or -errno. Used by `berth exec` (the CLI runs as root). */
int rt_exec(pid_t pid, char *const argv[], char *const env[], struct berr *err);

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
