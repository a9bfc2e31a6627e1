/* SPDX-License-Identifier: Apache-2.0 */
/* Terminals and stdin of containers, as Docker's create takes them (Tty, OpenStdin, StdinOnce,
 * AttachStdin/Stdout/Stderr, HostConfig.ConsoleSize), handed to the runtime (the shim serves
 * them on <run>/containers/<id>/attach.sock), and what the API needs to attach or resize. An
 * attach that arrives before the start (docker run -it attaches, then starts) is counted, so
 * the shim keeps the output for it. */
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon/mgr_internal.h"
#include "runtime/runtime.h"

static const char *const tty_keys[] = { "Tty", "OpenStdin", "StdinOnce", "AttachStdin",
					"AttachStdout", "AttachStderr" };

static bool extra_true(const struct bcontainer *c, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->extra, key));
}

/* [rows, cols], each 0..65535; absent or null: none. */
static int console_size(const cJSON *host, cJSON *extra, struct berr *err)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(host, "ConsoleSize"), *v;

	if (!cs || cJSON_IsNull(cs))
		return 0;
	if (!cJSON_IsArray(cs) || cJSON_GetArraySize(cs) != 2)
		return berr_set(err, -EINVAL, "field HostConfig.ConsoleSize must be [height, width]");
	cJSON_ArrayForEach(v, cs)
		if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 65535)
			return berr_set(err, -EINVAL, "field HostConfig.ConsoleSize must be [height, "
					"width] of 0..65535");
	cJSON_AddItemToObject(extra, "ConsoleSize", cJSON_Duplicate(cs, 1));
	return 0;
}

int mgr_ctr_tty_parse(const cJSON *req, const cJSON *host, cJSON *extra, struct berr *err)
{
	bool v;
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(tty_keys) && r >= 0; i++) {
		r = json_bool_member(req, tty_keys[i], &v, err);
		if (r >= 0 && v)
			cJSON_AddTrueToObject(extra, tty_keys[i]);
	}
	return r < 0 ? r : console_size(host, extra, err);
}

void mgr_ctr_tty_spec(struct manager *m, const struct ctr_entry *c, struct rt_spec *spec)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(c->c.extra, "ConsoleSize");
	_cleanup_free_ char *dir = xasprintf("%s/attach", m->run);

	spec->tty = extra_true(&c->c, "Tty");
	spec->open_stdin = extra_true(&c->c, "OpenStdin");
	spec->stdin_once = extra_true(&c->c, "StdinOnce");
	/* a foreground run, or a client that attached before the start: keep what comes first */
	spec->hold_output = spec->tty && (c->attach_pending > 0 || extra_true(&c->c, "AttachStdout"));
	if (cJSON_GetArraySize(cs) == 2) {
		spec->rows = (int)cJSON_GetArrayItem(cs, 0)->valuedouble;
		spec->cols = (int)cJSON_GetArrayItem(cs, 1)->valuedouble;
	}
	if ((spec->tty || spec->open_stdin) && mkdir_p(dir, 0700, NULL) >= 0)
		spec->attach_path = mgr_attach_path(m, c->c.id, "");   /* freed by the caller */
}

void mgr_render_tty_config(cJSON *config, const struct bcontainer *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(tty_keys); i++)
		cJSON_AddBoolToObject(config, tty_keys[i], extra_true(c, tty_keys[i]));
}

/* ---- attach ---- */

/* <run>/attach/<24 hex>.sock: short (a unix socket path holds at most 107 bytes), and the
 * directory the exec sessions' sockets share. */
char *mgr_attach_path(struct manager *m, const char *id, const char *prefix)
{
	return xasprintf("%s/attach/%s%.24s.sock", m->run, prefix, id);
}

static void attach_fill(struct manager *m, const struct ctr_entry *c, struct mgr_attach *a)
{
	_cleanup_free_ char *state = mgr_ctr_state_dir(m, &c->c);
	_cleanup_free_ char *sock = mgr_attach_path(m, c->c.id, "");

	strscpy(a->id, c->c.id, sizeof(a->id));
	strscpy(a->name, c->c.name, sizeof(a->name));
	strscpy(a->sock, sock, sizeof(a->sock));
	snprintf(a->log, sizeof(a->log), "%s/container.log", state);
	a->tty = extra_true(&c->c, "Tty");
	a->open_stdin = extra_true(&c->c, "OpenStdin");
	strscpy(a->started_at, c->c.started_at, sizeof(a->started_at));
	a->running = c->c.state == CTR_RUNNING;
}

int mgr_container_attach_begin(struct manager *m, const char *ref, struct mgr_attach *ret,
			       struct berr *err)
{
	struct ctr_entry *c;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	if (c) {
		attach_fill(m, c, ret);
		c->attach_pending++;
		mgr_event_container(m, c, "attach", NULL);
	}
	pthread_mutex_unlock(&m->lock);
	return c ? 0 : err->code;
}

void mgr_container_attach_end(struct manager *m, const char *id)
{
	struct ctr_entry *c;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_by_id(m, id);
	if (c && c->attach_pending > 0)
		c->attach_pending--;
	pthread_mutex_unlock(&m->lock);
}

int mgr_container_attach_state(struct manager *m, const char *id, struct mgr_attach *ret)
{
	struct ctr_entry *c;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_by_id(m, id);
	if (c)
		attach_fill(m, c, ret);
	pthread_mutex_unlock(&m->lock);
	return c ? 0 : -ENOENT;
}

/* "resize <rows> <cols>" to a shim's socket. */
int mgr_tty_resize(const char *sock, int rows, int cols, struct berr *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char line[48];
	int len = snprintf(line, sizeof(line), "resize %d %d\n", rows, cols);

	if (fd < 0 || strscpy(sa.sun_path, sock, sizeof(sa.sun_path)) < 0)
		return berr_set(err, -EINVAL, "no terminal to resize");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return berr_errno(err, -errno, "reaching the terminal");
	if (send(fd, line, (size_t)len, MSG_NOSIGNAL) != len)
		return berr_errno(err, -errno, "resizing the terminal");
	return 0;
}

int mgr_container_resize(struct manager *m, const char *ref, int rows, int cols,
			 struct berr *err)
{
	struct mgr_attach a;
	struct ctr_entry *c;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	if (c)
		attach_fill(m, c, &a);
	pthread_mutex_unlock(&m->lock);
	if (!c)
		return err->code;
	if (!a.running)
		return berr_set(err, -ESRCH, "container %s is not running", a.name);
	if (!a.tty)
		return 0;   /* nothing to resize, as Docker */
	return mgr_tty_resize(a.sock, rows, cols, err);
}
