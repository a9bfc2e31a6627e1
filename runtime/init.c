/* SPDX-License-Identifier: Apache-2.0 */
/* The container init before it becomes the user's command: private mounts, the overlay rootfs,
 * /proc /dev /sys, hosts and resolv.conf, hostname, pivot_root, stdio, then security and exec.
 * Runs as pid 1 of the new pid namespace, in its own mount, uts and ipc namespaces. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

static const char *const init_devices[] = { "null", "zero", "full", "random", "urandom", "tty" };

static const struct {
	const char *link;
	const char *target;
} init_dev_links[] = {
	{ "ptmx", "pts/ptmx" },
	{ "fd", "/proc/self/fd" },
	{ "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" },
	{ "stderr", "/proc/self/fd/2" },
};

/* Like Docker: kernel knobs read-only, kernel memory and timers hidden. */
static const char *const init_proc_readonly[] = { "sys", "sysrq-trigger", "irq", "bus" };
static const char *const init_proc_masked[] = { "kcore", "keys", "timer_list", "sched_debug",
						"latency_stats", "acpi", "scsi" };

static int init_mount(const char *src, const char *target, const char *type, unsigned long flags,
		      const char *data, struct berr *err)
{
	if (mount(src, target, type, flags, data) < 0)
		return berr_errno(err, -errno, "mounting %s on %s",
				  type ? type : src ? src : "(remount)", target);
	return 0;
}

static int init_mkdir(const char *root, const char *sub, int mode, struct berr *err)
{
	_cleanup_free_ char *path = xasprintf("%s%s", root, sub);

	if (mkdir(path, (mode_t)mode) < 0 && errno != EEXIST)
		return berr_errno(err, -errno, "creating %s", path);
	return 0;
}

/* O_RDONLY: a mount point only has to exist; opened for writing, a file of the image would be
 * copied up into the container's layer for nothing. */
static int init_touch(const char *path, struct berr *err)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return berr_errno(err, -errno, "creating %s", path);
	close(fd);
	return 0;
}

static int init_bind_ro(const char *path, struct berr *err)
{
	const unsigned long ro = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	int r;

	r = init_mount(path, path, NULL, MS_BIND | MS_REC, NULL, err);
	if (r >= 0)
		r = init_mount(NULL, path, NULL, ro, NULL, err);
	return r;
}

static int init_overlay(const struct rt_spec *spec, const char *root, struct berr *err)
{
	_cleanup_free_ char *opts =
		xasprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", spec->image_rootfs,
			  spec->state_dir, spec->state_dir);

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return berr_errno(err, -errno, "making the mounts private");
	return init_mount("overlay", root, "overlay", 0, opts, err);
}

static int init_proc_protect(const char *root, struct berr *err)
{
	_cleanup_free_ char *null = xasprintf("%s/dev/null", root);
	struct stat st;
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(init_proc_readonly) && r >= 0; i++) {
		_cleanup_free_ char *p = xasprintf("%s/proc/%s", root, init_proc_readonly[i]);

		if (stat(p, &st) == 0)
			r = init_bind_ro(p, err);
	}
	for (size_t i = 0; i < ARRAY_SIZE(init_proc_masked) && r >= 0; i++) {
		_cleanup_free_ char *p = xasprintf("%s/proc/%s", root, init_proc_masked[i]);

		if (stat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = init_mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0", err);
		else
			r = init_mount(null, p, NULL, MS_BIND, NULL, err);
	}
	return r;
}

static int init_proc(const char *root, struct berr *err)
{
	_cleanup_free_ char *path = xasprintf("%s/proc", root);
	int r;

	r = init_mkdir(root, "/proc", 0555, err);
	if (r >= 0)
		r = init_mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
	return r;
}

static int init_dev_nodes(const char *root, struct berr *err)
{
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(init_devices) && r >= 0; i++) {
		_cleanup_free_ char *host = xasprintf("/dev/%s", init_devices[i]);
		_cleanup_free_ char *path = xasprintf("%s/dev/%s", root, init_devices[i]);

		r = init_touch(path, err);
		if (r >= 0)
			r = init_mount(host, path, NULL, MS_BIND, NULL, err);
	}
	for (size_t i = 0; i < ARRAY_SIZE(init_dev_links) && r >= 0; i++) {
		_cleanup_free_ char *path = xasprintf("%s/dev/%s", root, init_dev_links[i].link);

		if (symlink(init_dev_links[i].target, path) < 0 && errno != EEXIST)
			r = berr_errno(err, -errno, "creating %s", path);
	}
	return r;
}

static int init_dev(const char *root, struct berr *err)
{
	_cleanup_free_ char *dev = xasprintf("%s/dev", root);
	_cleanup_free_ char *pts = xasprintf("%s/dev/pts", root);
	_cleanup_free_ char *shm = xasprintf("%s/dev/shm", root);
	int r;

	r = init_mkdir(root, "/dev", 0755, err);
	if (r >= 0)
		r = init_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k",
			       err);
	if (r >= 0)
		r = init_mkdir(root, "/dev/pts", 0755, err);
	if (r >= 0)
		r = init_mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC,
			       "newinstance,ptmxmode=0666,mode=0620", err);
	if (r >= 0)
		r = init_mkdir(root, "/dev/shm", 01777, err);
	if (r >= 0)
		r = init_mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			       "mode=1777,size=65536k", err);
	if (r >= 0)
		r = init_dev_nodes(root, err);
	return r;
}

static int init_sys(const char *root, struct berr *err)
{
	const unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	_cleanup_free_ char *path = xasprintf("%s/sys", root);
	int r;

	r = init_mkdir(root, "/sys", 0555, err);
	if (r < 0)
		return r;
	if (mount("sysfs", path, "sysfs", flags, NULL) == 0)
		return 0;
	/* sysfs of a network namespace we share with the host may not be mountable twice */
	r = init_mount("/sys", path, NULL, MS_BIND | MS_REC, NULL, err);
	if (r >= 0)
		r = init_mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | flags, NULL, err);
	return r;
}

static int init_bind_file(const char *src, const char *root, const char *sub, struct berr *err)
{
	_cleanup_free_ char *path = xasprintf("%s%s", root, sub);
	int r;

	if (!src)
		return 0;
	r = init_mkdir(root, "/etc", 0755, err);
	if (r >= 0)
		r = init_touch(path, err);
	if (r >= 0)
		r = init_mount(src, path, NULL, MS_BIND, NULL, err);
	return r;
}

static int init_rootfs(const struct rt_spec *spec, const char *root, struct berr *err)
{
	int r;

	r = init_overlay(spec, root, err);
	if (r >= 0)
		r = init_proc(root, err);
	if (r >= 0)
		r = init_dev(root, err);
	if (r >= 0)
		r = init_proc_protect(root, err);
	if (r >= 0)
		r = init_sys(root, err);
	if (r >= 0)
		r = init_bind_file(spec->hosts_path, root, "/etc/hosts", err);
	if (r >= 0)
		r = init_bind_file(spec->resolv_path, root, "/etc/resolv.conf", err);
	return r;
}

static int init_pivot(const char *root, struct berr *err)
{
	if (chdir(root) < 0)
		return berr_errno(err, -errno, "entering %s", root);
	/* the old root ends up stacked on the new one: detach it (mounts are private) */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return berr_errno(err, -errno, "pivot_root into %s", root);
	if (umount2(".", MNT_DETACH) < 0)
		return berr_errno(err, -errno, "detaching the old root");
	if (chdir("/") < 0)
		return berr_errno(err, -errno, "entering the new root");
	return 0;
}

/* A terminal: the slave is the command's stdio and controlling terminal, the master goes to the
 * shim. */
static int init_tty(const struct rt_spec *spec, struct rt_init_io *io, struct berr *err)
{
	int master = -1, slave, r = 0;

	/* out of the shim's process group: its death (nobody left to read the terminal) ends us */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	slave = rt_pty_open(spec->rows, spec->cols, true, &master, err);

	if (slave < 0)
		return slave;
	if (rt_fd_send(io->ptm[1], master) < 0)
		r = berr_errno(err, -errno, "handing the terminal to the shim");
	close(master);
	closep(&io->ptm[1]);
	if (r >= 0 && (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0))
		r = berr_errno(err, -errno, "connecting the terminal");
	close(slave);
	return r;
}

static int init_stdio(int log_fd, struct berr *err)
{
	_cleanup_close_ int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null_fd < 0)
		return berr_errno(err, -errno, "opening /dev/null in the container");
	if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
		return berr_errno(err, -errno, "redirecting the container's output");
	return 0;
}

/* In a sanitizer build (make asan) only: the report file named by ASAN_OPTIONS' log_path is
 * opened now, as <log_path>.init-<id>, because after pivot_root its path no longer resolves and
 * a report would be lost (the sanitizer could only say "Can't open file" in the container's
 * log). The weak reference is NULL in a normal build: nothing happens. */
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

static void init_sanitizer_report(const char *id)
{
	const char *opts = getenv("ASAN_OPTIONS"), *p = opts ? strstr(opts, "log_path=") : NULL;
	_cleanup_free_ char *path = NULL;
	int fd;

	if (!__sanitizer_set_report_fd || !p)
		return;
	p += strlen("log_path=");
	path = xasprintf("%.*s.init-%.12s", (int)strcspn(p, ":"), p, id);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		__sanitizer_set_report_fd((void *)(intptr_t)fd);
}

/* stdin: /dev/null, the shim's pipe, or the terminal; stdout and stderr: the log or the
 * terminal. */
static int init_stdio_all(const struct rt_spec *spec, struct rt_init_io *io, int log_fd,
			  struct berr *err)
{
	int r;

	if (spec->tty)
		return init_tty(spec, io, err);
	r = init_stdio(log_fd, err);
	if (r >= 0 && io->in[0] >= 0 && dup2(io->in[0], 0) < 0)
		r = berr_errno(err, -errno, "connecting stdin");
	closep(&io->in[0]);
	return r;
}

static int init_run(const struct rt_spec *spec, const struct rt_seccomp *seccomp,
		    struct rt_init_io *io, struct berr *err)
{
	int go_fd = io->go[0];
	_cleanup_free_ char *root = xasprintf("%s/rootfs", spec->run_dir);
	_cleanup_close_ int log_fd = -1;
	struct rt_user user;
	char **env;
	char go;
	int r;

	if (read(go_fd, &go, 1) != 1)
		_exit(1); /* the shim gave up on us */
	close(go_fd);
	r = rt_cgroup_enter(spec, err);
	if (r < 0)
		return r;
	init_sanitizer_report(spec->id);
	if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC) < 0)
		return berr_errno(err, -errno, "creating the container namespaces");
	log_fd = open(spec->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (log_fd < 0)
		return berr_errno(err, -errno, "opening log file %s", spec->log_path);
	r = init_rootfs(spec, root, err);
	if (r >= 0)
		r = init_pivot(root, err);
	if (r >= 0 && spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		r = berr_errno(err, -errno, "setting hostname %s", spec->hostname);
	if (r >= 0)
		r = init_stdio_all(spec, io, log_fd, err);
	if (r < 0)
		return r;
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	env = rt_env_build(spec->env, spec->hostname);
	r = rt_workdir_enter(spec->workdir, err);
	if (r >= 0)
		r = rt_user_resolve(spec->user ? spec->user : "", &user, err);
	if (r >= 0)
		r = rt_security_apply(&user, seccomp, err);
	if (r < 0)
		return r;
	return rt_exec_argv(spec->argv, env, err);
}

void rt_init_main(const struct rt_spec *spec, const struct rt_seccomp *seccomp,
		  struct rt_init_io *io)
{
	struct berr err = BERR_INIT;

	rt_signals_reset();
	init_run(spec, seccomp, io, &err);
	rt_report_error(io->err[1], &err);
	_exit(127);
}
