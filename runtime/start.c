/* SPDX-License-Identifier: Apache-2.0 */
/* rt_start() and the shim.
 *
 * rt_start() executes the shim as "berth-shim __berth-shim <fd> <id>" (the berth-shim program
 * beside the calling one, else the caller itself through /proc/self/exe) and sends it the spec
 * as JSON over a socketpair. The shim creates the container init in new pid,
 * mount, uts and ipc namespaces (inside the spec's network namespace), answers "ok <pid> <start>"
 * once the user's command has been exec'd, or "err <code> <message>", then waits for the
 * container and writes its exit code to <run_dir>/exit. rt_start() waits for that answer a
 * bounded time: a shim that stays silent is killed with its process group (the init). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

#define SPEC_JSON_MAX (1024 * 1024)

/* ---- the spec on the wire ---- */

struct shim_spec {
	struct rt_spec spec;
	cJSON *json;  /* owns every string of spec */
	char **argv;
	char **env;
};

void rt_json_add_str(cJSON *o, const char *key, const char *val)
{
	if (val)
		cJSON_AddStringToObject(o, key, val);
}

void rt_json_add_strv(cJSON *o, const char *key, char *const *v)
{
	cJSON *a;

	if (!v)
		return;
	a = cJSON_AddArrayToObject(o, key);
	for (; *v; v++)
		cJSON_AddItemToArray(a, cJSON_CreateString(*v));
}

static char *spec_to_json(const struct rt_spec *s)
{
	cJSON *o = cJSON_CreateObject();
	char *out;

	rt_json_add_str(o, "id", s->id);
	rt_json_add_str(o, "hostname", s->hostname);
	rt_json_add_strv(o, "argv", s->argv);
	rt_json_add_strv(o, "env", s->env);
	rt_json_add_str(o, "image_rootfs", s->image_rootfs);
	rt_json_add_str(o, "state_dir", s->state_dir);
	rt_json_add_str(o, "run_dir", s->run_dir);
	rt_json_add_str(o, "netns_path", s->netns_path);
	rt_json_add_str(o, "log_path", s->log_path);
	rt_json_add_str(o, "hosts_path", s->hosts_path);
	rt_json_add_str(o, "resolv_path", s->resolv_path);
	rt_json_add_str(o, "workdir", s->workdir);
	rt_json_add_str(o, "user", s->user);
	rt_json_add_str(o, "seccomp_path", s->seccomp_path);
	rt_json_add_str(o, "attach_path", s->attach_path);
	cJSON_AddBoolToObject(o, "tty", s->tty);
	cJSON_AddBoolToObject(o, "open_stdin", s->open_stdin);
	cJSON_AddBoolToObject(o, "stdin_once", s->stdin_once);
	cJSON_AddBoolToObject(o, "hold_output", s->hold_output);
	cJSON_AddNumberToObject(o, "rows", s->rows);
	cJSON_AddNumberToObject(o, "cols", s->cols);
	cJSON_AddNumberToObject(o, "memory_max", (double)s->memory_max);
	cJSON_AddNumberToObject(o, "memory_swap_max", (double)s->memory_swap_max);
	cJSON_AddNumberToObject(o, "pids_max", (double)s->pids_max);
	cJSON_AddNumberToObject(o, "cpu_quota_us", (double)s->cpu_quota_us);
	cJSON_AddNumberToObject(o, "cpu_period_us", (double)s->cpu_period_us);
	cJSON_AddNumberToObject(o, "cpu_shares", (double)s->cpu_shares);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

const char *rt_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t rt_json_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

char **rt_json_strv(const cJSON *o, const char *key)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *it;
	size_t n = 0;
	char **v;

	if (!cJSON_IsArray(a))
		return NULL;
	v = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(char *));
	cJSON_ArrayForEach(it, a) {
		if (cJSON_IsString(it))
			v[n++] = it->valuestring;
	}
	return v;
}

static int spec_validate(const struct rt_spec *s, struct berr *err)
{
	if (!s->id || !s->id[0])
		return berr_set(err, -EINVAL, "container spec has no id");
	if (!s->argv || !s->argv[0] || !s->argv[0][0])
		return berr_set(err, -EINVAL, "container %s: no command given", s->id);
	if (!s->image_rootfs || !s->state_dir || !s->run_dir || !s->log_path)
		return berr_set(err, -EINVAL,
				"container %s: image rootfs, state dir, run dir and log path are required",
				s->id);
	if (strpbrk(s->image_rootfs, ",:") || strpbrk(s->state_dir, ",:"))
		return berr_set(err, -EINVAL, "container %s: overlay paths may not contain ',' or ':'",
				s->id);
	return 0;
}

static int shim_spec_parse(const char *text, struct shim_spec *ret, struct berr *err)
{
	struct rt_spec *s = &ret->spec;

	ret->json = cJSON_Parse(text);
	if (!cJSON_IsObject(ret->json))
		return berr_set(err, -EINVAL, "the shim received an unreadable container spec");
	ret->argv = rt_json_strv(ret->json, "argv");
	ret->env = rt_json_strv(ret->json, "env");
	s->id = rt_json_str(ret->json, "id");
	s->hostname = rt_json_str(ret->json, "hostname");
	s->argv = ret->argv;
	s->env = ret->env;
	s->image_rootfs = rt_json_str(ret->json, "image_rootfs");
	s->state_dir = rt_json_str(ret->json, "state_dir");
	s->run_dir = rt_json_str(ret->json, "run_dir");
	s->netns_path = rt_json_str(ret->json, "netns_path");
	s->log_path = rt_json_str(ret->json, "log_path");
	s->hosts_path = rt_json_str(ret->json, "hosts_path");
	s->resolv_path = rt_json_str(ret->json, "resolv_path");
	s->workdir = rt_json_str(ret->json, "workdir");
	s->user = rt_json_str(ret->json, "user");
	s->seccomp_path = rt_json_str(ret->json, "seccomp_path");
	s->attach_path = rt_json_str(ret->json, "attach_path");
	s->tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ret->json, "tty"));
	s->open_stdin = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ret->json, "open_stdin"));
	s->stdin_once = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ret->json, "stdin_once"));
	s->hold_output = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ret->json, "hold_output"));
	s->rows = (int)rt_json_int(ret->json, "rows");
	s->cols = (int)rt_json_int(ret->json, "cols");
	s->memory_max = rt_json_int(ret->json, "memory_max");
	s->memory_swap_max = rt_json_int(ret->json, "memory_swap_max");
	s->pids_max = rt_json_int(ret->json, "pids_max");
	s->cpu_quota_us = rt_json_int(ret->json, "cpu_quota_us");
	s->cpu_period_us = rt_json_int(ret->json, "cpu_period_us");
	s->cpu_shares = rt_json_int(ret->json, "cpu_shares");
	return spec_validate(s, err);
}

/* ---- the shim ---- */

struct shim_state {
	pid_t pid;       /* the container's init */
	int master;      /* its terminal */
	int listen;      /* the attach socket (terminal or stdin) */
	int stdin_w;     /* its stdin pipe (no terminal) */
};

static int shim_enter_netns(const char *path, struct berr *err)
{
	_cleanup_close_ int fd = -1;

	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_errno(err, -errno, "opening network namespace %s", path);
	if (setns(fd, CLONE_NEWNET) < 0)
		return berr_errno(err, -errno, "joining network namespace %s", path);
	return 0;
}

/* Empty when init exec'd the user's command (the CLOEXEC pipe closed), else its error. */
static int shim_wait_exec(int err_fd, struct berr *err)
{
	char buf[RT_REPORT_MAX];
	ssize_t n = rt_read_all(err_fd, buf, sizeof(buf));

	if (n < 0)
		return berr_errno(err, (int)n, "reading the container's start status");
	if (n == 0)
		return 0;
	return rt_report_parse(buf, err);
}

static void fds_close(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		closep(&fds[i]);
}

/* The pipes and sockets between the shim and the init: errors (CLOEXEC: empty once the
 * command runs), the go signal, the terminal's master (sent by the init), stdin. */
static int shim_io_open(const struct rt_spec *spec, struct rt_init_io *io, struct berr *err)
{
	if (pipe2(io->err, O_CLOEXEC) < 0 || pipe2(io->go, O_CLOEXEC) < 0)
		return berr_errno(err, -errno, "creating a pipe");
	if (spec->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, io->ptm) < 0)
		return berr_errno(err, -errno, "creating a socket pair for the terminal");
	if (!spec->tty && spec->open_stdin && pipe2(io->in, O_CLOEXEC) < 0)
		return berr_errno(err, -errno, "creating the stdin pipe");
	return 0;
}

static int shim_fork_init(const struct rt_spec *spec, const struct rt_seccomp *seccomp, int sock,
			  struct rt_init_io *io, pid_t *ret_pid, struct berr *err)
{
	pid_t pid;
	int r;

	r = shim_io_open(spec, io, err);
	if (r < 0)
		return r;
	pid = fork();
	if (pid < 0)
		return berr_errno(err, -errno, "forking the container init");
	if (pid == 0) {
		close(sock);
		closep(&io->err[0]);
		closep(&io->go[1]);
		closep(&io->ptm[0]);
		closep(&io->in[1]);
		rt_init_main(spec, seccomp, io);
	}
	closep(&io->err[1]);
	closep(&io->go[0]);
	closep(&io->ptm[1]);
	closep(&io->in[0]);
	*ret_pid = pid;
	return 0;
}

/* After the exec: the terminal's master from the init, the attach socket for the clients. */
static int shim_stdio_open(const struct rt_spec *spec, struct rt_init_io *io, int *ret_master,
			   int *ret_listen, struct berr *err)
{
	const char *path = spec->attach_path;

	if (spec->tty) {
		*ret_master = rt_fd_recv(io->ptm[0]);
		if (*ret_master < 0)
			return berr_errno(err, *ret_master, "receiving the container's terminal");
	}
	*ret_listen = rt_socket_listen(path, err);
	return *ret_listen < 0 ? *ret_listen : 0;
}

static int shim_create_init(const struct rt_spec *spec, int sock, struct shim_state *st,
			    struct berr *err)
{
	struct rt_init_io io = { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
	struct rt_seccomp seccomp = { NULL, 0 };
	pid_t pid = -1;
	int r, status;

	r = rt_seccomp_read(spec->seccomp_path, &seccomp, err);
	if (r >= 0)
		r = shim_enter_netns(spec->netns_path, err);
	if (r >= 0 && unshare(CLONE_NEWPID) < 0)
		r = berr_errno(err, -errno, "creating the pid namespace");
	if (r >= 0)
		r = shim_fork_init(spec, &seccomp, sock, &io, &pid, err);
	free(seccomp.insns);
	if (r >= 0)
		r = rt_cgroup_setup(spec, pid, err);
	if (r >= 0 && write(io.go[1], "g", 1) != 1)
		r = berr_errno(err, -errno, "starting the container init");
	closep(&io.go[1]);
	if (r >= 0)
		r = shim_wait_exec(io.err[0], err);
	if (r >= 0 && (spec->tty || spec->open_stdin) && spec->attach_path)
		r = shim_stdio_open(spec, &io, &st->master, &st->listen, err);
	st->stdin_w = steal_fd(io.in[1]);
	fds_close(&io.err[0], 1);
	fds_close(io.ptm, 2);
	fds_close(io.in, 2);
	if (r < 0 && pid > 0) {
		kill(pid, SIGKILL);
		rt_waitpid(pid, &status);
		rt_cgroup_remove(spec->id);
	}
	st->pid = pid;
	return r;
}

/* "<code>\n", then "oom\n" when the kernel OOM-killed a process of the container. */
static void shim_record_exit(const char *run_dir, int code, bool oom)
{
	_cleanup_free_ char *path = xasprintf("%s/exit", run_dir);
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%d\n%s", code, oom ? "oom\n" : "");

	write_file_atomic(path, buf, (size_t)len, 0644, NULL);
}

static void shim_write_pid(const char *run_dir)
{
	_cleanup_free_ char *path = xasprintf("%s/shim.pid", run_dir);
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	write_file_atomic(path, buf, (size_t)len, 0644, NULL);
}

/* The exit file, written before attached clients see the end of their stream. */
static void shim_exited(void *ud, int code)
{
	const struct rt_spec *spec = ud;
	struct rt_cg_stats cg;

	rt_cgroup_stats(spec->id, &cg);
	shim_record_exit(spec->run_dir, code, cg.oom_kills > 0);
	if (spec->attach_path)
		unlink(spec->attach_path);
}

/* Waits for the container; with a terminal or stdin, serves them meanwhile. */
static void shim_wait(const struct rt_spec *spec, struct shim_state *st)
{
	struct rt_stdio io = { .tty_fd = st->master, .out_fd = -1, .err_fd = -1, .log_fd = -1,
			       .listen_fd = st->listen, .hold = spec->hold_output,
			       .stdin_once = spec->stdin_once };
	int status;

	if (st->listen < 0) {
		if (rt_waitpid(st->pid, &status) < 0)
			_exit(1);
		shim_exited((void *)spec, rt_wait_code(status));
		return;
	}
	io.stdin_fd = spec->tty ? st->master : spec->open_stdin ? st->stdin_w : -1;
	if (spec->tty)   /* the terminal's output is the container's log */
		io.log_fd = open(spec->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	io.child_pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	fcntl(st->master, F_SETFL, O_NONBLOCK);
	if (st->stdin_w >= 0)
		fcntl(st->stdin_w, F_SETFL, O_NONBLOCK);
	rt_stdio_serve(&io, st->pid, shim_exited, (void *)spec);
}

static void __attribute__((noreturn)) shim_run(const struct rt_spec *spec, int sock)
{
	struct shim_state st = { .pid = -1, .master = -1, .listen = -1, .stdin_w = -1 };
	struct berr err = BERR_INIT;
	uint64_t start = 0;

	shim_write_pid(spec->run_dir);
	if (shim_create_init(spec, sock, &st, &err) < 0) {
		_cleanup_free_ char *pidfile = xasprintf("%s/shim.pid", spec->run_dir);

		unlink(pidfile);
		dprintf(sock, "err ");
		rt_report_error(sock, &err);
		_exit(1);
	}
	/* init is our child and unreaped: its /proc entry exists even if it already exited */
	rt_proc_start_time(st.pid, &start);
	delay_point("shim-handshake");
	dprintf(sock, "ok %d %" PRIu64 "\n", (int)st.pid, start);
	close(sock);
	shim_wait(spec, &st);
	rt_cgroup_remove(spec->id);
	_exit(0);
}

int rt_shim_read_spec(int sock, char **ret)
{
	size_t len = 0, cap = 4096;
	_cleanup_free_ char *buf = xmalloc(cap);

	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			if (cap >= SPEC_JSON_MAX)
				return -EFBIG;
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(sock, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = steal_ptr(buf);
	return 0;
}

int rt_shim_enter(int argc, char **argv)
{
	int sock;

	if (argc < 3)
		_exit(2);
	sock = atoi(argv[2]);
	if (sock < 3 || fcntl(sock, F_SETFD, FD_CLOEXEC) < 0)
		_exit(2);
	close_range(3, (unsigned)sock - 1, 0);
	close_range((unsigned)sock + 1, ~0U, 0);
	setsid();
	umask(022);
	if (chdir("/") < 0)
		_exit(2);
	return sock;
}

int rt_shim_main(int argc, char **argv)
{
	struct shim_spec s;
	struct berr err = BERR_INIT;
	_cleanup_free_ char *text = NULL;
	int sock = rt_shim_enter(argc, argv), r;

	memset(&s, 0, sizeof(s));
	r = rt_shim_read_spec(sock, &text);
	if (r < 0)
		berr_errno(&err, r, "reading the container spec");
	else
		r = shim_spec_parse(text, &s, &err);
	if (r < 0) {
		dprintf(sock, "err ");
		rt_report_error(sock, &err);
		_exit(1);
	}
	shim_run(&s.spec, sock);
}

/* ---- rt_start ---- */

static int fd_above_stdio(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static char shim_exe[PATH_MAX];

static void shim_path_find(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return;
	*slash = '\0';
	n = snprintf(shim_exe, sizeof(shim_exe), "%s/berth-shim", self);
	if (n < 0 || (size_t)n >= sizeof(shim_exe) || access(shim_exe, X_OK) < 0)
		shim_exe[0] = '\0';
}

/* berth-shim in the directory of the calling program (a small program: see runtime/shim/), else
 * the calling program itself, which then handles the shim arguments. Looked up once. */
static const char *shim_path(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, shim_path_find);
	return shim_exe[0] ? shim_exe : "/proc/self/exe";
}

/* Between fork and exec: async-signal-safe calls only (the caller may be multi-threaded). */
static void __attribute__((noreturn)) shim_child_exec(int sock, int devnull, const char *path,
						      char *const argv[])
{
	rt_signals_reset();
	if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(127);
	if (fcntl(sock, F_SETFD, 0) < 0)
		_exit(127);
	execv(path, argv);
	_exit(127);
}

int rt_shim_spawn(const char *mode, const char *id, int *ret_sock, pid_t *ret_pid,
		  struct berr *err)
{
	_cleanup_close_ int devnull = -1, mine = -1, theirs = -1;
	const char *path = shim_path();
	char fdarg[16];
	char *argv[5];
	int sv[2];
	pid_t pid;

	devnull = fd_above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (devnull < 0)
		return berr_errno(err, -errno, "opening /dev/null");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return berr_errno(err, -errno, "creating a socket pair for the shim");
	mine = sv[0];
	theirs = fd_above_stdio(sv[1]);
	if (theirs < 0)
		return berr_errno(err, -errno, "creating a socket pair for the shim");
	snprintf(fdarg, sizeof(fdarg), "%d", theirs);
	argv[0] = (char *)"berth-shim";
	argv[1] = (char *)mode;
	argv[2] = fdarg;
	argv[3] = (char *)id;
	argv[4] = NULL;
	pid = fork();
	if (pid < 0)
		return berr_errno(err, -errno, "forking the shim");
	if (pid == 0)
		shim_child_exec(theirs, devnull, path, argv);
	*ret_sock = steal_fd(mine);
	*ret_pid = pid;
	return 0;
}

static int start_prepare_dirs(const struct rt_spec *spec, struct berr *err)
{
	_cleanup_free_ char *upper = xasprintf("%s/upper", spec->state_dir);
	_cleanup_free_ char *work = xasprintf("%s/work", spec->state_dir);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", spec->run_dir);
	_cleanup_free_ char *exitf = xasprintf("%s/exit", spec->run_dir);
	int r;

	r = mkdir_p(upper, 0755, err);
	if (r >= 0)
		r = mkdir_p(work, 0700, err);
	if (r >= 0)
		r = mkdir_p(rootfs, 0755, err);
	if (r < 0)
		return r;
	if (unlink(exitf) < 0 && errno != ENOENT)
		return berr_errno(err, -errno, "removing %s", exitf);
	return 0;
}

int rt_send_all(int fd, const char *data, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n;
		int r = rt_fd_wait(fd, POLLOUT, deadline);

		if (r < 0)
			return r;
		n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int start_parse_status(const char *id, const char *status, struct rt_proc *ret,
			      struct berr *err)
{
	int pid;
	uint64_t start;

	if (strncmp(status, "err ", 4) == 0)
		return rt_report_parse(status + 4, err);
	if (sscanf(status, "ok %d %" SCNu64, &pid, &start) != 2 || pid <= 0)
		return berr_set(err, -EIO, "the shim of container %s exited without reporting a status",
				id);
	ret->pid = pid;
	ret->pid_start = start;
	return 0;
}

/* Wait (at most timeout_ms) for a shim that is exiting and reap it. One stuck in the kernel is
 * left to the caller's reaper. */
static void shim_reap(pid_t shim, int timeout_ms)
{
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, shim, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int status;

	if (fd >= 0)
		while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
			;
	waitpid(shim, &status, fd >= 0 ? WNOHANG : 0);
}

/* Leave nothing behind a failed start. The shim is a session leader (setsid) and the init it
 * forked is in its process group: SIGKILL to the group ends both, and the init's death ends
 * the container's pid namespace. A shim that reported an error is exiting anyway. */
static void start_undo(const struct rt_spec *spec, pid_t shim, bool timed_out)
{
	kill(-shim, SIGKILL);
	kill(shim, SIGKILL);
	shim_reap(shim, 1000);
	if (timed_out)
		rt_cgroup_remove(spec->id);  /* the shim had no chance to */
	rt_cleanup(spec->run_dir, NULL);
}

int rt_start(const struct rt_spec *spec, struct rt_proc *ret, struct berr *err)
{
	_cleanup_free_ char *json = NULL;
	_cleanup_close_ int sock = -1;
	char status[RT_REPORT_MAX + 8];
	int timeout_ms = spec->start_timeout_ms > 0 ? spec->start_timeout_ms : RT_START_TIMEOUT_MS;
	uint64_t deadline;
	pid_t shim = -1;
	int r;

	r = spec_validate(spec, err);
	if (r >= 0)
		r = start_prepare_dirs(spec, err);
	if (r < 0)
		return r;
	json = spec_to_json(spec);
	if (!json)
		return berr_set(err, -ENOMEM, "container %s: encoding the spec", spec->id);
	r = rt_shim_spawn(RT_SHIM_ARG, spec->id, &sock, &shim, err);
	if (r < 0)
		return r;
	deadline = time_mono_ns() + (uint64_t)timeout_ms * 1000000;
	/* A dead shim shows up as a missing status below, a silent one as a timeout. */
	r = rt_send_all(sock, json, strlen(json), deadline);
	shutdown(sock, SHUT_WR);
	if (r != -ETIMEDOUT)
		r = (int)rt_read_until(sock, status, sizeof(status), deadline);
	if (r == -ETIMEDOUT) {
		start_undo(spec, shim, true);
		return berr_set(err, r, "container %s: the shim did not report the start within %d ms "
				"(killed)", spec->id, timeout_ms);
	}
	r = start_parse_status(spec->id, r < 0 ? "" : status, ret, err);
	if (r < 0) {
		start_undo(spec, shim, false);
		return r;
	}
	ret->shim_pid = shim;
	return 0;
}
