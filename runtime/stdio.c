/* SPDX-License-Identifier: Apache-2.0 */
/* The stdio server of a shim: it owns the process's terminal (a pty master) or its stdin pipe
 * (and, for exec, its stdout and stderr pipes), copies the output to the log and to attached
 * clients, the clients' input to the process, and applies window sizes. Clients connect to a
 * unix socket and say first what they want, in one line:
 *   "attach <stdin> <stdout> <stderr>\n"  (0 or 1 each); then raw bytes both ways: a terminal's
 *                                          output as it is, pipes' output in Docker's frames
 *                                          (stream, 0, 0, 0, length big-endian, payload)
 *   "resize <rows> <cols>\n"             the terminal's window size; the socket is closed
 * No client is ever waited for while the process runs: one whose unread output passes
 * CLIENT_OUT_MAX is dropped; output held for the first client (a foreground run) is bounded, and
 * once the process has exited that client is given HOLD_WAIT_MS to come for it. Single-threaded,
 * poll. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

#define CLIENTS_MAX 16
#define CLIENT_OUT_MAX (1u << 20)
#define HOLD_MAX (1u << 20)
#define INPUT_MAX (64u << 10)
#define IO_CHUNK (32u << 10)
#define DRAIN_MS 500
#define FLUSH_MS 2000
#define HOLD_WAIT_MS 5000

struct buf {
	char *p;
	size_t len, cap;
};

static bool buf_add(struct buf *b, const void *data, size_t n, size_t max)
{
	if (b->len + n > max)
		return false;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 > max ? max : (b->len + n) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return true;
}

static void buf_drop(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

struct client {
	int fd;
	bool ready;                 /* said what it wants */
	bool in, out, err;          /* attached streams */
	bool in_done;
	bool dropped;               /* too slow: closed after this round */
	char line[64];
	size_t line_len;
	struct buf pending;         /* output not yet taken */
};

struct server {
	struct rt_stdio *cfg;
	struct client c[CLIENTS_MAX];
	size_t n;
	struct buf input;           /* for the process's stdin */
	struct buf hold;            /* output before the first client */
	bool holding, stdin_closed;
	bool out_eof, err_eof;
};

/* ---- fds ---- */

/* One byte carrying one fd (SCM_RIGHTS). */
struct fd_msg {
	char data;
	struct iovec iov;
	struct msghdr msg;
	union {                       /* last: struct cmsghdr ends in a flexible array */
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
};

static void fd_msg_init(struct fd_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->data = 'f';
	m->iov = (struct iovec){ .iov_base = &m->data, .iov_len = 1 };
	m->msg = (struct msghdr){ .msg_iov = &m->iov, .msg_iovlen = 1, .msg_control = m->u.buf,
				  .msg_controllen = sizeof(m->u.buf) };
}

int rt_fd_send(int sock, int fd)
{
	struct fd_msg m;
	struct cmsghdr *cm;

	fd_msg_init(&m);
	cm = CMSG_FIRSTHDR(&m.msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m.msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

int rt_fd_recv(int sock)
{
	struct fd_msg m;
	struct cmsghdr *cm;
	int fd;

	fd_msg_init(&m);
	if (recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC) != 1)
		return -EIO;
	cm = CMSG_FIRSTHDR(&m.msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EIO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int rt_socket_listen(const char *path, struct berr *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strscpy(sa.sun_path, path, sizeof(sa.sun_path)) < 0)
		return berr_set(err, -ENAMETOOLONG, "socket path %s is too long", path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return berr_errno(err, -errno, "creating a socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		int r = berr_errno(err, -errno, "listening on %s", path);

		close(fd);
		return r;
	}
	return fd;
}

/* ---- clients ---- */

static void client_close(struct server *s, size_t i)
{
	close(s->c[i].fd);
	free(s->c[i].pending.p);
	s->c[i] = s->c[--s->n];
}

/* Output for one client: raw from a terminal, framed from pipes (stream 1 or 2). */
static void client_output(struct server *s, size_t i, int stream, const char *data, size_t n)
{
	struct client *c = &s->c[i];
	uint8_t head[8] = { (uint8_t)stream, 0, 0, 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
			    (uint8_t)(n >> 8), (uint8_t)n };
	bool ok;

	if (!c->ready || (stream == 2 ? !c->err : !c->out))
		return;
	if (s->cfg->tty_fd >= 0)
		ok = buf_add(&c->pending, data, n, CLIENT_OUT_MAX);
	else
		ok = buf_add(&c->pending, head, sizeof(head), CLIENT_OUT_MAX) &&
		     buf_add(&c->pending, data, n, CLIENT_OUT_MAX);
	if (!ok)
		c->dropped = true;
}

/* Output kept for the first client, as it will get it: raw, or framed (pipes). */
static void hold_add(struct server *s, int stream, const char *data, size_t n)
{
	uint8_t head[8] = { (uint8_t)stream, 0, 0, 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
			    (uint8_t)(n >> 8), (uint8_t)n };

	bool framed = s->cfg->tty_fd < 0;

	if (s->hold.len + n + (framed ? sizeof(head) : 0) > HOLD_MAX) {
		s->holding = false;   /* too much: what is kept is still the beginning */
		return;
	}
	if (framed)
		buf_add(&s->hold, head, sizeof(head), HOLD_MAX);
	buf_add(&s->hold, data, n, HOLD_MAX);
}

static void output(struct server *s, int stream, const char *data, size_t n)
{
	if (s->cfg->log_fd >= 0 && write(s->cfg->log_fd, data, n) < 0) {
		/* the log is best effort: a full disk must not stop the terminal */
	}
	if (s->holding)
		hold_add(s, stream, data, n);
	for (size_t i = 0; i < s->n; i++)
		client_output(s, i, stream, data, n);
}

static void client_resize(struct server *s, const char *args)
{
	struct winsize ws = { 0 };
	unsigned rows, cols;

	if (s->cfg->tty_fd < 0 || sscanf(args, "%u %u", &rows, &cols) != 2 || rows > 0xffff ||
	    cols > 0xffff)
		return;
	ws.ws_row = (unsigned short)rows;
	ws.ws_col = (unsigned short)cols;
	ioctl(s->cfg->tty_fd, TIOCSWINSZ, &ws);
}

/* The first line says what the client wants. Returns false to close it. */
static bool client_hello(struct server *s, size_t i)
{
	struct client *c = &s->c[i];
	int in, out, err;

	if (!strncmp(c->line, "resize ", 7)) {
		client_resize(s, c->line + 7);
		return false;
	}
	if (sscanf(c->line, "attach %d %d %d", &in, &out, &err) != 3)
		return false;
	c->ready = true;
	c->in = in && !s->stdin_closed;
	c->out = out;
	c->err = err;
	c->in_done = !c->in;
	/* the first client gets what came before it */
	if (s->hold.len && !buf_add(&c->pending, s->hold.p, s->hold.len, CLIENT_OUT_MAX))
		c->dropped = true;
	s->holding = false;
	free(s->hold.p);
	s->hold = (struct buf){ 0 };
	return true;
}

static void stdin_close(struct server *s)
{
	if (s->cfg->stdin_fd >= 0 && s->cfg->stdin_fd != s->cfg->tty_fd)
		close(s->cfg->stdin_fd);
	s->cfg->stdin_fd = -1;
	s->stdin_closed = true;
}

/* Reads a client: its hello line, then input for the process. false: close it. */
static bool client_read(struct server *s, size_t i)
{
	struct client *c = &s->c[i];
	char data[IO_CHUNK];
	ssize_t n;

	if (!c->ready) {
		/* a byte at a time: what follows the line is already the process's input */
		while (c->line_len < sizeof(c->line) - 1) {
			n = read(c->fd, c->line + c->line_len, 1);
			if (n <= 0)
				return n < 0 && errno == EAGAIN;
			c->line[++c->line_len] = '\0';
			if (c->line[c->line_len - 1] == '\n')
				return client_hello(s, i);
		}
		return false;
	}
	n = read(c->fd, data, c->in && !c->in_done ? sizeof(data) : 1);
	if (n < 0)
		return errno == EAGAIN;
	if (n == 0) {   /* the client's input ended (or it left) */
		if (c->in && !c->in_done && s->cfg->stdin_once && s->cfg->tty_fd < 0)
			stdin_close(s);
		c->in_done = true;
		return c->out || c->err;
	}
	if (c->in && !c->in_done && !s->stdin_closed)
		buf_add(&s->input, data, (size_t)n, INPUT_MAX);
	return true;
}

static bool client_write(struct client *c)
{
	ssize_t n = send(c->fd, c->pending.p, c->pending.len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN;
	buf_drop(&c->pending, (size_t)n);
	return true;
}

static void client_accept(struct server *s)
{
	int fd = accept4(s->cfg->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (s->n == CLIENTS_MAX) {
		close(fd);
		return;
	}
	s->c[s->n++] = (struct client){ .fd = fd };
}

/* ---- the process's side ---- */

/* One read of an output; false at its end (EOF, or EIO once a terminal's last holder closed). */
static bool output_read(struct server *s, int fd, int stream)
{
	char data[IO_CHUNK];
	ssize_t n = read(fd, data, sizeof(data));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	output(s, stream, data, (size_t)n);
	return true;
}

static void input_write(struct server *s)
{
	ssize_t n = write(s->cfg->stdin_fd, s->input.p, s->input.len);

	if (n > 0)
		buf_drop(&s->input, (size_t)n);
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		stdin_close(s);   /* the process closed its stdin */
}

/* ---- the loop ---- */

enum { P_LISTEN, P_CHILD, P_OUT, P_ERR, P_IN, P_CLIENTS };

static int poll_build(struct server *s, struct pollfd *p, bool exited)
{
	int out = s->cfg->tty_fd >= 0 ? s->cfg->tty_fd : s->cfg->out_fd;

	p[P_LISTEN] = (struct pollfd){ .fd = s->cfg->listen_fd, .events = POLLIN };
	p[P_CHILD] = (struct pollfd){ .fd = exited ? -1 : s->cfg->child_pidfd, .events = POLLIN };
	p[P_OUT] = (struct pollfd){ .fd = s->out_eof ? -1 : out, .events = POLLIN };
	p[P_ERR] = (struct pollfd){ .fd = s->err_eof ? -1 : s->cfg->err_fd, .events = POLLIN };
	p[P_IN] = (struct pollfd){ .fd = s->input.len && !s->stdin_closed ? s->cfg->stdin_fd : -1,
				   .events = POLLOUT };
	for (size_t i = 0; i < s->n; i++) {
		bool want_in = !s->c[i].ready || (!s->c[i].in_done && s->input.len < INPUT_MAX);

		/* a client whose input ended (a half-close) still takes output; POLLHUP, always
		 * reported, says it is gone */
		p[P_CLIENTS + i] = (struct pollfd){
			.fd = s->c[i].fd,
			.events = (short)((want_in ? POLLIN : 0) | (s->c[i].pending.len ? POLLOUT : 0)),
		};
	}
	return P_CLIENTS + (int)s->n;
}

/* The clients polled (n of them; one accepted since is served next round). */
static void clients_serve(struct server *s, struct pollfd *p, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		short ev = p[P_CLIENTS + i].revents;
		bool keep = true;

		if (s->c[i].in_done && s->c[i].ready && (ev & POLLHUP))
			keep = false;   /* gone */
		else if (ev & (POLLIN | POLLHUP))
			keep = client_read(s, i);
		if (keep && (ev & POLLOUT))
			keep = client_write(&s->c[i]);
		if (keep && (ev & (POLLERR | POLLNVAL)))
			keep = false;
		if (!keep)
			client_close(s, i);
	}
	for (size_t i = s->n; i-- > 0;)
		if (s->c[i].dropped)
			client_close(s, i);
}

static void round_serve(struct server *s, struct pollfd *p)
{
	int out = s->cfg->tty_fd >= 0 ? s->cfg->tty_fd : s->cfg->out_fd;
	size_t polled = s->n;

	if (p[P_OUT].revents)
		s->out_eof = !output_read(s, out, 1);
	if (p[P_ERR].revents)
		s->err_eof = !output_read(s, s->cfg->err_fd, 2);
	if (p[P_IN].revents)
		input_write(s);
	clients_serve(s, p, polled);
	if (p[P_LISTEN].revents & POLLIN)
		client_accept(s);
}

/* After the exit: what is left of the output, for at most DRAIN_MS (a process the command left
 * behind may hold the pipes). */
static void drain(struct server *s, struct pollfd *p)
{
	uint64_t end = time_mono_ns() + (uint64_t)DRAIN_MS * 1000000;

	while ((!s->out_eof || !s->err_eof) && time_mono_ns() < end) {
		int n = poll_build(s, p, true);

		if (poll(p, (nfds_t)n, 50) < 0 && errno != EINTR)
			break;
		round_serve(s, p);
	}
}

/* Output held for a client that has not come yet (a command that ended at once): it is waited
 * for, at most HOLD_WAIT_MS. */
static void hold_wait(struct server *s, struct pollfd *p)
{
	uint64_t end = time_mono_ns() + (uint64_t)HOLD_WAIT_MS * 1000000;

	while (s->holding && s->hold.len && time_mono_ns() < end) {
		int n = poll_build(s, p, true);

		if (poll(p, (nfds_t)n, 50) < 0 && errno != EINTR)
			break;
		round_serve(s, p);
	}
}

/* The clients take what is left (at most FLUSH_MS), then see the end. */
static void flush_clients(struct server *s)
{
	uint64_t end = time_mono_ns() + (uint64_t)FLUSH_MS * 1000000;
	struct pollfd p[CLIENTS_MAX];

	for (;;) {
		nfds_t n = 0;

		for (size_t i = 0; i < s->n; i++)
			if (s->c[i].pending.len && !s->c[i].dropped)
				p[n++] = (struct pollfd){ .fd = s->c[i].fd, .events = POLLOUT };
		if (n == 0 || time_mono_ns() >= end || poll(p, n, 50) < 0)
			break;
		for (size_t i = 0; i < s->n; i++)
			if (s->c[i].pending.len && !client_write(&s->c[i]))
				s->c[i].pending.len = 0;
	}
	while (s->n)
		client_close(s, s->n - 1);
}

int rt_stdio_serve(struct rt_stdio *cfg, pid_t child, void (*exited)(void *ud, int code),
		   void *ud)
{
	struct server s = { .cfg = cfg, .holding = cfg->hold };
	struct pollfd p[P_CLIENTS + CLIENTS_MAX];
	int status = 0, code;

	/* a process that closed its stdin makes our next write EPIPE, not the end of the shim (only
	 * the shim's own disposition: its children were forked before) */
	signal(SIGPIPE, SIG_IGN);
	s.out_eof = cfg->tty_fd < 0 && cfg->out_fd < 0;
	s.err_eof = cfg->err_fd < 0;
	s.stdin_closed = cfg->stdin_fd < 0;
	for (;;) {
		int n = poll_build(&s, p, false);

		if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
			break;
		if (p[P_CHILD].revents)
			break;
		round_serve(&s, p);
	}
	drain(&s, p);
	hold_wait(&s, p);
	if (rt_waitpid(child, &status) < 0)
		status = 255 << 8;
	code = rt_wait_code(status);
	if (exited)
		exited(ud, code);
	flush_clients(&s);
	free(s.input.p);
	free(s.hold.p);
	return code;
}
