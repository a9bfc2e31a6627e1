/* SPDX-License-Identifier: Apache-2.0 */
/* Process identity (pid + starttime), signalling, exit codes, run_dir cleanup, and the small
 * process helpers the rest of the runtime shares. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

/* starttime is field 22 of /proc/<pid>/stat; the state (field 3) follows the last ')'. */
static int proc_stat_read(pid_t pid, char *ret_state, uint64_t *ret_start)
{
	char path[64], buf[2048], *p, *end;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = rt_read_all(fd, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EIO;
	p += 2;
	*ret_state = *p;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	errno = 0;
	*ret_start = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EIO;
	return 0;
}

int rt_proc_start_time(pid_t pid, uint64_t *ret)
{
	char state;

	if (pid <= 0)
		return -EINVAL;
	return proc_stat_read(pid, &state, ret);
}

int rt_proc_alive(pid_t pid, uint64_t pid_start)
{
	uint64_t start;
	char state;
	int r;

	if (pid <= 0)
		return -EINVAL;
	r = proc_stat_read(pid, &state, &start);
	if (r == -ENOENT || r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	if (state == 'Z' || state == 'X')
		return 0;
	return start == pid_start ? 1 : 0;
}

int rt_kill(pid_t pid, uint64_t pid_start, int sig, struct berr *err)
{
	int r = rt_proc_alive(pid, pid_start);

	if (r < 0)
		return berr_errno(err, r, "checking process %d", (int)pid);
	if (r == 0)
		return 0;
	if (kill(pid, sig) < 0 && errno != ESRCH)
		return berr_errno(err, -errno, "sending signal %d to process %d", sig, (int)pid);
	return 0;
}

int rt_exit_code(const char *run_dir, int *ret_code, struct berr *err)
{
	_cleanup_free_ char *path = xasprintf("%s/exit", run_dir);
	_cleanup_free_ char *text = NULL;
	char *end;
	long code;
	int r;

	r = read_file(path, 64, &text, NULL, NULL);
	if (r == -ENOENT)
		return berr_set(err, r, "no exit code recorded yet in %s", path);
	if (r < 0)
		return berr_errno(err, r, "reading %s", path);
	errno = 0;
	code = strtol(text, &end, 10);
	if (errno || end == text || code < 0 || code > 255)
		return berr_set(err, -EINVAL, "%s does not hold an exit code", path);
	*ret_code = (int)code;
	return 0;
}

static int cleanup_unlink(const char *run_dir, const char *name, struct berr *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", run_dir, name);

	if (unlink(path) < 0 && errno != ENOENT)
		return berr_errno(err, -errno, "removing %s", path);
	return 0;
}

int rt_cleanup(const char *run_dir, struct berr *err)
{
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", run_dir);
	int r;

	/* Normally only mounted inside the container's mount namespace, gone with it. */
	if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return berr_errno(err, -errno, "unmounting %s", rootfs);
	if (rmdir(rootfs) < 0 && errno != ENOENT)
		return berr_errno(err, -errno, "removing %s", rootfs);
	r = cleanup_unlink(run_dir, "exit", err);
	if (r >= 0)
		r = cleanup_unlink(run_dir, "shim.pid", err);
	if (r < 0)
		return r;
	/* Other modules may keep files here (hosts, resolv.conf): only remove it when empty. */
	if (rmdir(run_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		return berr_errno(err, -errno, "removing %s", run_dir);
	return 0;
}

void rt_signals_reset(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int rt_fd_wait(int fd, short events, uint64_t deadline)
{
	for (;;) {
		int64_t left = (int64_t)(deadline - time_mono_ns());
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((left + 999999) / 1000000));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

ssize_t rt_read_until(int fd, char *buf, size_t size, uint64_t deadline)
{
	size_t len = 0;

	buf[0] = '\0';
	while (len + 1 < size) {
		ssize_t n;
		int r = deadline ? rt_fd_wait(fd, POLLIN, deadline) : 0;

		if (r < 0)
			return r;
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return (ssize_t)len;
}

ssize_t rt_read_all(int fd, char *buf, size_t size)
{
	return rt_read_until(fd, buf, size, 0);
}

void rt_report_error(int fd, const struct berr *err)
{
	char buf[RT_REPORT_MAX];
	int len;

	len = snprintf(buf, sizeof(buf), "%d %s", err->code ? err->code : -EIO, berr_str(err));
	if (len > (int)sizeof(buf) - 1)
		len = (int)sizeof(buf) - 1;
	if (write(fd, buf, (size_t)len) < 0) {
		/* nobody is listening any more: nothing else to do */
	}
}

int rt_report_parse(const char *text, struct berr *err)
{
	char *end;
	long code = strtol(text, &end, 10);

	if (end == text || code >= 0 || code < -4095)
		code = -EIO;
	while (*end == ' ')
		end++;
	if (!*end)
		return berr_set(err, (int)code, "%s", strerror((int)-code));
	return berr_set(err, (int)code, "%s", end);
}

int rt_wait_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int rt_waitpid(pid_t pid, int *ret_status)
{
	for (;;) {
		if (waitpid(pid, ret_status, 0) == pid)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}
