/* SPDX-License-Identifier: Apache-2.0 */
/* berth exec -i / -t through berthd: the command runs under an exec shim (berth-shim, or berthd
 * re-executed, as "__berth-exec"), like a container under its shim: the shim forks a helper that
 * enters the container (runtime/exec.c) and makes a terminal in it (its devpts) or uses the
 * shim's pipes, forks the command, and waits for it; the shim serves the terminal or pipes on
 * the session's socket (runtime/stdio.c) and writes the exit code, so a berthd restart does not
 * end the session. The helper, not the command, is the shim's child: its exit code is the
 * command's. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

/* The shim's fds: the command's stdio (pipes, or the terminal's master from the helper) and the
 * exec report (CLOEXEC: empty once the command runs). [0] is the shim's end. */
struct exec_io {
	int in[2], out[2], err[2], ptm[2], report[2];
};

static char *exec_spec_json(const struct rt_exec_spec *s)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	rt_json_add_str(o, "id", s->id);
	cJSON_AddNumberToObject(o, "pid", s->pid);
	cJSON_AddNumberToObject(o, "pid_start", (double)s->pid_start);
	rt_json_add_strv(o, "argv", s->argv);
	rt_json_add_strv(o, "env", s->env);
	rt_json_add_str(o, "user", s->user);
	rt_json_add_str(o, "workdir", s->workdir);
	cJSON_AddBoolToObject(o, "tty", s->tty);
	cJSON_AddBoolToObject(o, "open_stdin", s->open_stdin);
	cJSON_AddBoolToObject(o, "hold", s->hold);
	cJSON_AddNumberToObject(o, "rows", s->rows);
	cJSON_AddNumberToObject(o, "cols", s->cols);
	rt_json_add_str(o, "sock_path", s->sock_path);
	rt_json_add_str(o, "exit_path", s->exit_path);
	rt_json_add_str(o, "seccomp_path", s->seccomp_path);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static int exec_spec_parse(cJSON *o, struct rt_exec_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->id = rt_json_str(o, "id");
	s->pid = (pid_t)rt_json_int(o, "pid");
	s->pid_start = (uint64_t)rt_json_int(o, "pid_start");
	s->argv = rt_json_strv(o, "argv");
	s->env = rt_json_strv(o, "env");
	s->user = rt_json_str(o, "user");
	s->workdir = rt_json_str(o, "workdir");
	s->tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "tty"));
	s->open_stdin = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "open_stdin"));
	s->hold = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "hold"));
	s->rows = (int)rt_json_int(o, "rows");
	s->cols = (int)rt_json_int(o, "cols");
	s->sock_path = rt_json_str(o, "sock_path");
	s->exit_path = rt_json_str(o, "exit_path");
	s->seccomp_path = rt_json_str(o, "seccomp_path");
	return s->id && s->pid > 0 && s->argv && s->argv[0] && s->sock_path && s->exit_path
		       ? 0 : -EINVAL;
}

/* The seccomp profile, read by the shim before its helper enters the container. */
static struct rt_seccomp exec_seccomp;

/* ---- the helper and the command (inside the container) ---- */

static void __attribute__((noreturn)) exec_cmd_child(const struct rt_exec_spec *s,
						      struct exec_io *io, int slave)
{
	const struct rt_exec_cmd x = { s->argv, s->env, s->user, s->workdir, &exec_seccomp };
	struct berr err = BERR_INIT;

	if (slave >= 0) {
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 ||
		    dup2(slave, 1) < 0 || dup2(slave, 2) < 0) {
			berr_errno(&err, -errno, "connecting the terminal");
			rt_report_error(io->report[1], &err);
			_exit(126);
		}
	} else if ((io->in[1] >= 0 ? dup2(io->in[1], 0) : 0) < 0 || dup2(io->out[1], 1) < 0 ||
		   dup2(io->err[1], 2) < 0) {
		berr_errno(&err, -errno, "connecting stdio");
		rt_report_error(io->report[1], &err);
		_exit(126);
	}
	rt_exec_command(&x, io->report[1]);
}

/* Enters, makes the terminal (its master to the shim), forks the command, waits for it. */
static void __attribute__((noreturn)) exec_helper_main(const struct rt_exec_spec *s,
							struct exec_io *io)
{
	struct berr err = BERR_INIT;
	int master = -1, slave = -1, status;
	pid_t child;

	/* the shim's ends: a stdin write end held here would never let the command see EOF */
	closep(&io->in[0]);
	closep(&io->out[0]);
	closep(&io->err[0]);
	closep(&io->ptm[0]);
	closep(&io->report[0]);
	if (rt_exec_enter(s->pid, &err) < 0)
		goto fail;
	if (s->tty) {
		slave = rt_pty_open(s->rows, s->cols, false, &master, &err);
		if (slave < 0 || rt_fd_send(io->ptm[1], master) < 0)
			goto fail;
		close(master);
	}
	child = fork();
	if (child < 0) {
		berr_errno(&err, -errno, "forking the command");
		goto fail;
	}
	if (child == 0)
		exec_cmd_child(s, io, slave);
	closep(&slave);
	closep(&io->report[1]);
	closep(&io->in[1]);
	closep(&io->out[1]);
	closep(&io->err[1]);
	if (rt_waitpid(child, &status) < 0)
		_exit(127);
	_exit(rt_wait_code(status));
fail:
	rt_report_error(io->report[1], &err);
	_exit(126);
}

/* ---- the exec shim ---- */

static void exec_io_close_helper_ends(struct exec_io *io)
{
	closep(&io->in[1]);
	closep(&io->out[1]);
	closep(&io->err[1]);
	closep(&io->ptm[1]);
	closep(&io->report[1]);
}

static void exec_nonblock(const struct rt_stdio *st)
{
	const int fds[] = { st->tty_fd, st->stdin_fd, st->out_fd, st->err_fd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			fcntl(fds[i], F_SETFL, O_NONBLOCK);
}

static int exec_io_open(const struct rt_exec_spec *s, struct exec_io *io, struct berr *err)
{
	*io = (struct exec_io){ { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
	if (pipe2(io->report, O_CLOEXEC) < 0)
		return berr_errno(err, -errno, "creating a pipe");
	if (s->tty)
		return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, io->ptm) < 0
			       ? berr_errno(err, -errno, "creating a socket pair") : 0;
	if ((s->open_stdin && pipe2(io->in, O_CLOEXEC) < 0) || pipe2(io->out, O_CLOEXEC) < 0 ||
	    pipe2(io->err, O_CLOEXEC) < 0)
		return berr_errno(err, -errno, "creating a pipe");
	/* the stdin pipe's ends swap: the shim writes [1], the command reads [0] */
	if (s->open_stdin) {
		int t = io->in[0];

		io->in[0] = io->in[1];
		io->in[1] = t;
	}
	return 0;
}

static void exec_record(const char *path, int code)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d\n", code);

	write_file_atomic(path, buf, (size_t)len, 0644, NULL);
}

static void exec_exited(void *ud, int code)
{
	const struct rt_exec_spec *s = ud;

	exec_record(s->exit_path, code);
	unlink(s->sock_path);
}

/* After the fork: the exec report (its failure: exit code 127 when not found, else 126, as
 * Docker's), then the terminal's master. */
static int exec_started(const struct rt_exec_spec *s, struct exec_io *io, int *ret_master,
			struct berr *err)
{
	char report[RT_REPORT_MAX];
	ssize_t n = rt_read_all(io->report[0], report, sizeof(report));

	if (n > 0) {
		int r = rt_report_parse(report, err);

		exec_record(s->exit_path, r == -ENOENT ? 127 : 126);
		return r;
	}
	if (s->tty) {
		*ret_master = rt_fd_recv(io->ptm[0]);
		if (*ret_master < 0)
			return berr_set(err, -EIO, "the exec did not hand over its terminal");
	}
	return 0;
}

static void __attribute__((noreturn)) exec_shim_run(const struct rt_exec_spec *s, int sock)
{
	/* hold: the command runs before its client connects (the shell's first prompt...) */
	struct rt_stdio st = { .tty_fd = -1, .stdin_fd = -1, .out_fd = -1, .err_fd = -1,
			       .log_fd = -1, .stdin_once = true, .hold = s->hold };
	struct berr err = BERR_INIT;
	struct exec_io io;
	pid_t helper;
	int r;

	r = rt_seccomp_read(s->seccomp_path, &exec_seccomp, &err);
	if (r >= 0)
		r = exec_io_open(s, &io, &err);
	if (r >= 0)
		st.listen_fd = r = rt_socket_listen(s->sock_path, &err);
	if (r >= 0 && (helper = fork()) < 0)
		r = berr_errno(&err, -errno, "forking");
	if (r >= 0 && helper == 0) {
		close(sock);
		exec_helper_main(s, &io);
	}
	if (r >= 0)
		exec_io_close_helper_ends(&io);
	if (r >= 0)
		r = exec_started(s, &io, &st.tty_fd, &err);
	if (r < 0) {
		dprintf(sock, "err ");
		rt_report_error(sock, &err);
		unlink(s->sock_path);
		_exit(1);
	}
	dprintf(sock, "ok %d\n", (int)helper);
	close(sock);
	st.stdin_fd = s->tty ? st.tty_fd : io.in[0];
	st.out_fd = io.out[0];
	st.err_fd = io.err[0];
	exec_nonblock(&st);
	st.child_pidfd = (int)syscall(SYS_pidfd_open, helper, 0);
	rt_stdio_serve(&st, helper, exec_exited, (void *)s);
	_exit(0);
}

int rt_exec_shim_main(int argc, char **argv)
{
	_cleanup_free_ char *text = NULL;
	struct rt_exec_spec s;
	int sock = rt_shim_enter(argc, argv);
	cJSON *o;

	if (rt_shim_read_spec(sock, &text) < 0)
		_exit(2);
	o = cJSON_Parse(text);
	if (!o || exec_spec_parse(o, &s) < 0) {
		dprintf(sock, "err %d a bad exec spec", -EINVAL);
		_exit(2);
	}
	exec_shim_run(&s, sock);
}

/* ---- berthd's side ---- */

int rt_exec_start(const struct rt_exec_spec *spec, pid_t *ret_pid, pid_t *ret_shim,
		  struct berr *err)
{
	_cleanup_free_ char *json = exec_spec_json(spec);
	_cleanup_close_ int sock = -1;
	char status[RT_REPORT_MAX + 8];
	uint64_t deadline;
	pid_t shim;
	int pid, r;

	r = rt_shim_spawn(RT_EXEC_SHIM_ARG, spec->id, &sock, &shim, err);
	if (r < 0)
		return r;
	deadline = time_mono_ns() + (uint64_t)RT_START_TIMEOUT_MS * 1000000;
	r = rt_send_all(sock, json, strlen(json), deadline);
	shutdown(sock, SHUT_WR);
	if (r >= 0)
		r = (int)rt_read_until(sock, status, sizeof(status), deadline);
	if (r < 0) {
		kill(shim, SIGKILL);
		return berr_errno(err, r, "the exec shim did not answer");
	}
	if (!strncmp(status, "err ", 4))
		return rt_report_parse(status + 4, err);
	if (sscanf(status, "ok %d", &pid) != 1)
		return berr_set(err, -EIO, "the exec shim exited without an answer");
	*ret_pid = pid;
	*ret_shim = shim;
	return 0;
}
