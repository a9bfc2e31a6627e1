/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's side of a terminal or stdin session (run -i/-t, start -ai, attach, exec -i/-t): the
 * local terminal in raw mode (restored on any exit), its window size sent at the start and on
 * every SIGWINCH, stdin to the stream through the detach-key filter (Ctrl-P Ctrl-Q or
 * --detach-keys), the stream to stdout (a terminal's bytes as they are; without a terminal,
 * Docker's frames to stdout and stderr). stdin's end half-closes the stream (the process sees
 * the end of its input). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "common/termkeys.h"
#include "common/util.h"

#define TTY_BUF (32u << 10)

static struct termios tty_saved;
static bool tty_raw_on;
static int tty_winch_pipe[2] = { -1, -1 };

static void tty_restore(void)
{
	if (tty_raw_on) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &tty_saved);
		tty_raw_on = false;
	}
}

static void tty_restore_signal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Raw mode on the local terminal, as docker does for -it (restored at exit and on signals). */
static void tty_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &tty_saved) < 0)
		return;
	t = tty_saved;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) < 0)
		return;
	tty_raw_on = true;
	atexit(tty_restore);
	signal(SIGTERM, tty_restore_signal);
	signal(SIGHUP, tty_restore_signal);
}

static void tty_winch(int sig)
{
	int saved = errno;

	if (write(tty_winch_pipe[1], "w", 1) < 0) {
		/* a resize is already pending */
	}
	errno = saved;
}

bool tty_size(int *rows, int *cols)
{
	struct winsize ws;
	int fd = isatty(STDOUT_FILENO) ? STDOUT_FILENO : STDIN_FILENO;

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

/* POST <resize_path>?h=&w= with the local terminal's size. */
static void tty_resize(const char *resize_path)
{
	_cleanup_free_ char *path = NULL;
	struct berr err = BERR_INIT;
	int rows, cols;

	if (!resize_path || !tty_size(&rows, &cols))
		return;
	path = xasprintf("%s?h=%d&w=%d", resize_path, rows, cols);
	client_request("POST", path, NULL, NULL, NULL, &err);
}

static int fd_write(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

/* Docker's frames: [stream, 0, 0, 0, size big-endian][payload]; stream 2 is stderr. */
struct demux {
	uint8_t head[8];
	size_t have;         /* header bytes so far */
	uint32_t left;       /* payload bytes of the current frame */
	int fd;
};

static void demux_feed(struct demux *d, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (d->left == 0) {
			d->head[d->have++] = *p++;
			n--;
			if (d->have == 8) {
				d->have = 0;
				d->fd = d->head[0] == 2 ? STDERR_FILENO : STDOUT_FILENO;
				d->left = (uint32_t)d->head[4] << 24 | (uint32_t)d->head[5] << 16 |
					  (uint32_t)d->head[6] << 8 | d->head[7];
			}
			continue;
		}
		size_t k = n < d->left ? n : d->left;

		fd_write(d->fd, p, k);
		d->left -= (uint32_t)k;
		p += k;
		n -= k;
	}
}

struct session {
	int sock;
	bool tty, in;
	const char *resize_path;
	struct termkeys keys;
	struct demux demux;
	bool in_open;
};

static void session_output(struct session *s, const char *p, size_t n)
{
	if (s->tty)
		fd_write(STDOUT_FILENO, p, n);
	else
		demux_feed(&s->demux, (const uint8_t *)p, n);
}

/* stdin to the stream: 1 when the detach keys were typed. */
static int session_input(struct session *s)
{
	uint8_t buf[TTY_BUF], out[TTY_BUF + TERMKEYS_MAX];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	size_t len;
	bool detach;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {   /* end of input: the process's stdin ends */
		s->in_open = false;
		shutdown(s->sock, SHUT_WR);
		return 0;
	}
	detach = termkeys_filter(&s->keys, buf, (size_t)n, out, &len);
	if (len && fd_write(s->sock, out, len) < 0)
		return -EPIPE;
	return detach ? 1 : 0;
}

int tty_session(int sock, const char *extra, size_t n_extra, bool tty, bool in,
		const char *resize_path, const char *detach_keys)
{
	struct session s = { .sock = sock, .tty = tty, .in = in, .resize_path = resize_path,
			     .in_open = in };
	struct berr err = BERR_INIT;
	char buf[TTY_BUF];
	int r = TTY_ENDED;

	if (termkeys_parse(detach_keys, &s.keys, &err) < 0)
		return cli_fail_err(&err), TTY_FAILED;
	if (tty && pipe2(tty_winch_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
		signal(SIGWINCH, tty_winch);
		tty_resize(resize_path);
	}
	if (tty && in)
		tty_raw();
	if (n_extra)
		session_output(&s, extra, n_extra);
	for (;;) {
		struct pollfd p[3] = { { .fd = sock, .events = POLLIN },
				       { .fd = s.in_open ? STDIN_FILENO : -1, .events = POLLIN },
				       { .fd = tty_winch_pipe[0], .events = POLLIN } };
		ssize_t got;

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[2].revents) {
			while (read(tty_winch_pipe[0], buf, sizeof(buf)) > 0)
				;
			tty_resize(resize_path);
		}
		if (p[1].revents) {
			int in_r = session_input(&s);

			if (in_r != 0) {
				r = in_r > 0 ? TTY_DETACHED : TTY_ENDED;
				break;
			}
		}
		if (p[0].revents) {
			got = read(sock, buf, sizeof(buf));
			if (got <= 0 && !(got < 0 && errno == EINTR))
				break;
			if (got > 0)
				session_output(&s, buf, (size_t)got);
		}
	}
	tty_restore();
	return r;
}
