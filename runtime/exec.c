/* SPDX-License-Identifier: Apache-2.0 */
/* rt_exec(): run a command inside a running container. The caller forks a helper that joins the
 * container's namespaces, root and cgroups, then forks the command itself (a fork is needed to
 * really enter the pid namespace) and relays its exit code. The caller's own process is never
 * changed. Failures before exec come back as "<code> <message>" on a CLOEXEC pipe. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

extern char **environ;

static const struct {
	const char *name;
	int type;
} exec_namespaces[] = {
	{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET },
	{ "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
};

static bool env_has(char **env, size_t n, const char *key)
{
	size_t len = strlen(key);

	for (size_t i = 0; i < n; i++) {
		if (strncmp(env[i], key, len) == 0 && env[i][len] == '=')
			return true;
	}
	return false;
}

char **rt_env_build(char *const *env, const char *hostname)
{
	size_t n = 0, cap = 3;
	char **out;

	for (size_t i = 0; env && env[i]; i++)
		cap++;
	out = xcalloc(cap, sizeof(char *));
	for (size_t i = 0; env && env[i]; i++)
		out[n++] = env[i];
	if (!env_has(out, n, "PATH"))
		out[n++] = (char *)RT_DEFAULT_PATH;
	if (!env_has(out, n, "HOSTNAME") && hostname)
		out[n++] = xasprintf("HOSTNAME=%s", hostname);
	return out;
}

int rt_exec_argv(char *const argv[], char **env, struct berr *err)
{
	const char *cmd = argv[0];
	int r;

	environ = env; /* execvp searches the PATH of the environment it runs in */
	execvp(cmd, argv);
	r = -errno;
	if (r == -ENOENT && !strchr(cmd, '/'))
		return berr_set(err, r, "exec: \"%s\": executable file not found in $PATH", cmd);
	return berr_set(err, r, "exec: \"%s\": %s", cmd, strerror(-r));
}

static int exec_open_namespaces(pid_t pid, int fds[], int *ret_root, struct berr *err)
{
	char path[64];

	for (size_t i = 0; i < ARRAY_SIZE(exec_namespaces); i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, exec_namespaces[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0 && errno == ENOENT)
			return berr_set(err, -ESRCH, "container process %d is not running", (int)pid);
		if (fds[i] < 0)
			return berr_errno(err, -errno, "opening %s", path);
	}
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	*ret_root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*ret_root < 0)
		return berr_errno(err, -errno, "opening %s", path);
	return 0;
}

/* Open everything first: once in the container's mount namespace, /proc is the container's. */
int rt_exec_enter(pid_t pid, struct berr *err)
{
	int fds[ARRAY_SIZE(exec_namespaces)];
	_cleanup_close_ int root = -1;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = -1;
	r = rt_cgroup_join(pid, err);
	if (r >= 0)
		r = exec_open_namespaces(pid, fds, &root, err);
	for (size_t i = 0; i < ARRAY_SIZE(fds) && r >= 0; i++) {
		if (setns(fds[i], exec_namespaces[i].type) < 0)
			r = berr_errno(err, -errno, "joining the %s namespace of process %d",
				       exec_namespaces[i].name, (int)pid);
	}
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		closep(&fds[i]);
	if (r < 0)
		return r;
	if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return berr_errno(err, -errno, "entering the root of process %d", (int)pid);
	return 0;
}

void rt_exec_command(const struct rt_exec_cmd *x, int err_fd)
{
	struct berr err = BERR_INIT;
	struct rt_user user;
	char host[256] = "";
	char **full;

	rt_signals_reset();
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	gethostname(host, sizeof(host) - 1);
	full = rt_env_build(x->env, host[0] ? host : NULL);
	if (rt_workdir_enter(x->workdir, &err) >= 0 &&
	    rt_user_resolve(x->user ? x->user : "", &user, &err) >= 0 &&
	    rt_security_apply(&user, x->seccomp, &err) >= 0)
		rt_exec_argv(x->argv, full, &err);
	rt_report_error(err_fd, &err);
	_exit(127);
}

static void __attribute__((noreturn)) exec_helper(pid_t target, const struct rt_exec_cmd *x,
						   int err_fd)
{
	struct berr err = BERR_INIT;
	int status;
	pid_t child;

	if (rt_exec_enter(target, &err) < 0) {
		rt_report_error(err_fd, &err);
		_exit(127);
	}
	child = fork();
	if (child < 0) {
		berr_errno(&err, -errno, "forking inside container process %d", (int)target);
		rt_report_error(err_fd, &err);
		_exit(127);
	}
	if (child == 0)
		rt_exec_command(x, err_fd);
	close(err_fd);
	if (rt_waitpid(child, &status) < 0)
		_exit(127);
	_exit(rt_wait_code(status));
}

int rt_exec(pid_t pid, char *const argv[], char *const env[], const char *user,
	    const char *workdir, struct berr *err)
{
	const struct rt_exec_cmd x = { argv, env, user, workdir, NULL };
	char report[RT_REPORT_MAX];
	int errp[2], status, r;
	ssize_t n;
	pid_t helper;

	if (!argv || !argv[0] || !argv[0][0])
		return berr_set(err, -EINVAL, "exec: no command given");
	if (pipe2(errp, O_CLOEXEC) < 0)
		return berr_errno(err, -errno, "creating a pipe");
	helper = fork();
	if (helper < 0) {
		r = -errno;
		close(errp[0]);
		close(errp[1]);
		return berr_errno(err, r, "forking");
	}
	if (helper == 0) {
		close(errp[0]);
		exec_helper(pid, &x, errp[1]);
	}
	close(errp[1]);
	n = rt_read_all(errp[0], report, sizeof(report));
	close(errp[0]);
	r = rt_waitpid(helper, &status);
	if (n > 0)
		return rt_report_parse(report, err);
	if (r < 0)
		return berr_errno(err, r, "waiting for the exec helper");
	return rt_wait_code(status);
}
