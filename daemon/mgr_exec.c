/* SPDX-License-Identifier: Apache-2.0 */
/* Exec sessions (POST /containers/{id}/exec, /exec/{id}/start, /exec/{id}/json, resize), as
 * Docker's: created, then started under an exec shim (runtime/exec_shim.c) that serves the
 * session's terminal or pipes on <run>/attach/x<id>.sock and writes its exit code. Sessions are
 * kept in memory (EXECS_MAX, the oldest finished ones make room) until their container is
 * removed; the exec shim is spawned without the manager lock. */
#include <signal.h>

#include "common/termkeys.h"
#include "daemon/mgr_internal.h"
#include "runtime/runtime.h"

#define EXECS_MAX 1024

struct exec_entry {
	char id[ID_LEN + 1];
	char ctr_id[ID_LEN + 1];
	cJSON *cmd, *env;
	char *user, *workdir;
	char *detach_keys;      /* NULL: Docker's default */
	bool tty, in, out, err;
	bool started, exited;
	int exit_code;
	pid_t pid, shim;
	char *sock, *exit_path;
};

static void exec_free(struct exec_entry *x)
{
	cJSON_Delete(x->cmd);
	cJSON_Delete(x->env);
	free(x->user);
	free(x->workdir);
	free(x->detach_keys);
	free(x->sock);
	free(x->exit_path);
	free(x);
}

void mgr_execs_close(struct manager *m)
{
	for (size_t i = 0; i < m->execs.n; i++)
		exec_free(m->execs.v[i]);
	free(m->execs.v);
}

/* The container is being removed: its sessions go with it (Docker forgets them too), with
 * whatever files their shims left. Lock held. */
void mgr_execs_forget(struct manager *m, const char *ctr_id)
{
	for (size_t i = m->execs.n; i-- > 0;) {
		struct exec_entry *x = m->execs.v[i];

		if (strcmp(x->ctr_id, ctr_id))
			continue;
		unlink(x->exit_path);   /* ENOENT: read already, or never written */
		unlink(x->sock);
		exec_free(x);
		vec_remove(m->execs, i);
	}
}

static struct exec_entry *exec_find(struct manager *m, const char *ref, struct berr *err)
{
	size_t len = strlen(ref);

	for (size_t i = 0; i < m->execs.n; i++)
		if (len >= 12 && !strncmp(m->execs.v[i]->id, ref, len))
			return m->execs.v[i];
	berr_set(err, -ENOENT, "No such exec instance: %s", ref);
	return NULL;
}

/* Room for one more: the oldest finished session goes when the table is full. */
static int exec_room(struct manager *m, struct berr *err)
{
	if (m->execs.n < EXECS_MAX)
		return 0;
	for (size_t i = 0; i < m->execs.n; i++)
		if (m->execs.v[i]->exited || !m->execs.v[i]->started) {
			exec_free(m->execs.v[i]);
			vec_remove(m->execs, i);
			return 0;
		}
	return berr_set(err, -EAGAIN, "too many exec sessions (%d)", EXECS_MAX);
}

static const char *extra_string(const struct bcontainer *c, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->extra, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int exec_parse(const struct ctr_entry *c, const cJSON *req, struct exec_entry *x,
		      struct berr *err)
{
	const char *user = NULL, *wd = NULL, *keys = NULL;
	struct termkeys tk;
	cJSON *env = NULL;
	const cJSON *it;
	int r;

	r = json_string_array(req, "Cmd", &x->cmd, err);
	if (r >= 0)
		r = json_string_array(req, "Env", &env, err);
	if (r >= 0)
		r = json_string_member(req, "User", &user, err);
	if (r >= 0)
		r = json_string_member(req, "WorkingDir", &wd, err);
	if (r >= 0)
		r = json_string_member(req, "DetachKeys", &keys, err);
	if (r >= 0 && keys && *keys)
		r = termkeys_parse(keys, &tk, err);
	if (r >= 0)
		r = json_bool_member(req, "Tty", &x->tty, err);
	if (r >= 0)
		r = json_bool_member(req, "AttachStdin", &x->in, err);
	if (r >= 0)
		r = json_bool_member(req, "AttachStdout", &x->out, err);
	if (r >= 0)
		r = json_bool_member(req, "AttachStderr", &x->err, err);
	if (r >= 0 && cJSON_GetArraySize(x->cmd) == 0)
		r = berr_set(err, -EINVAL, "No exec command specified");
	if (r < 0) {
		cJSON_Delete(env);
		return r;
	}
	/* the container's environment, then the exec's */
	x->env = cJSON_Duplicate(c->c.env, 1);
	cJSON_ArrayForEach(it, env)
		cJSON_AddItemToArray(x->env, cJSON_Duplicate(it, 1));
	cJSON_Delete(env);
	x->detach_keys = keys && *keys ? xstrdup(keys) : NULL;
	x->user = xstrdup(user && *user ? user : extra_string(&c->c, "User"));
	x->workdir = xstrdup(wd && *wd ? wd : extra_string(&c->c, "WorkingDir"));
	return 0;
}

int mgr_exec_create(struct manager *m, const char *ref, const cJSON *req, cJSON **ret,
		    struct berr *err)
{
	struct exec_entry *x = xcalloc(1, sizeof(*x));
	struct ctr_entry *c;
	int r;

	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_find(m, ref, err);
	r = c ? 0 : err->code;
	if (r >= 0 && c->c.state != CTR_RUNNING)
		r = berr_set(err, -ESRCH, "Container %s is not running", c->c.id);
	if (r >= 0)
		r = exec_parse(c, req, x, err);
	if (r >= 0)
		r = exec_room(m, err);
	if (r >= 0) {
		id_generate(x->id);
		strscpy(x->ctr_id, c->c.id, sizeof(x->ctr_id));
		x->sock = mgr_attach_path(m, x->id, "x");
		x->exit_path = xasprintf("%s/attach/x%.24s.exit", m->run, x->id);
		vec_push(m->execs, x);
		mgr_event_container(m, c, "exec_create", NULL);
		*ret = cJSON_CreateObject();
		cJSON_AddStringToObject(*ret, "Id", x->id);
	}
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		exec_free(x);
	return r;
}

static char **strv_of(const cJSON *a)
{
	char **v = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*v));
	const cJSON *it;
	size_t n = 0;

	cJSON_ArrayForEach(it, a)
		v[n++] = it->valuestring;
	return v;
}

/* Copies what the start needs (lock held); -errno when it cannot start. */
static int exec_claim(struct manager *m, const char *ref, struct exec_entry **ret,
		      struct rt_exec_spec *spec, struct berr *err)
{
	struct exec_entry *x = exec_find(m, ref, err);
	struct ctr_entry *c = x ? mgr_ctr_by_id(m, x->ctr_id) : NULL;

	if (!x)
		return err->code;
	if (x->started)
		return berr_set(err, -EBUSY, "exec %.12s has already started", x->id);
	if (!c || c->c.state != CTR_RUNNING)
		return berr_set(err, -ESRCH, "Container %s is not running", x->ctr_id);
	x->started = true;   /* nobody else starts it */
	spec->id = x->id;
	spec->pid = c->c.pid;
	spec->pid_start = c->c.pid_start;
	spec->argv = strv_of(x->cmd);
	spec->env = strv_of(x->env);
	spec->user = x->user[0] ? x->user : NULL;
	spec->workdir = x->workdir[0] ? x->workdir : NULL;
	spec->tty = x->tty;
	spec->open_stdin = x->in;
	spec->sock_path = x->sock;
	spec->exit_path = x->exit_path;
	spec->seccomp_path = m->seccomp_path;
	mgr_event_container(m, c, "exec_start", NULL);
	*ret = x;
	return 0;
}

/* Whether the session ended: its exit file (read once, then remembered). */
static void exec_poll(struct manager *m, struct exec_entry *x)
{
	_cleanup_free_ char *text = NULL;
	struct ctr_entry *c;
	cJSON *attrs;
	char buf[16];

	if (!x->started || x->exited || read_file(x->exit_path, 64, &text, NULL, NULL) < 0)
		return;
	x->exited = true;
	x->exit_code = atoi(text);
	unlink(x->exit_path);
	c = mgr_ctr_by_id(m, x->ctr_id);
	if (!c)
		return;
	attrs = cJSON_CreateObject();
	snprintf(buf, sizeof(buf), "%d", x->exit_code);
	cJSON_AddStringToObject(attrs, "exitCode", buf);
	cJSON_AddStringToObject(attrs, "execID", x->id);
	mgr_event_container(m, c, "exec_die", attrs);
}

int mgr_exec_start(struct manager *m, const char *ref, int rows, int cols, bool detach,
		   struct mgr_exec_io *ret, struct berr *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/attach", m->run);
	struct rt_exec_spec spec = { 0 };
	struct exec_entry *x = NULL;
	pid_t pid = 0, shim = 0;
	int r;

	mkdir_p(dir, 0700, NULL);
	pthread_mutex_lock(&m->lock);
	r = exec_claim(m, ref, &x, &spec, err);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		return r;
	spec.rows = rows;
	spec.cols = cols;
	spec.hold = !detach;
	r = rt_exec_start(&spec, &pid, &shim, err);   /* no lock: it enters the container */
	free((char **)spec.argv);
	free((char **)spec.env);
	pthread_mutex_lock(&m->lock);
	x = exec_find(m, ref, NULL);   /* entries are freed only when finished */
	if (x && r < 0) {
		exec_poll(m, x);   /* the shim wrote 126 or 127 */
		if (!x->exited)
			x->exited = true, x->exit_code = 126;
	}
	if (x) {
		x->pid = pid;
		x->shim = shim;
		strscpy(ret->id, x->id, sizeof(ret->id));
		strscpy(ret->sock, x->sock, sizeof(ret->sock));
		ret->tty = x->tty;
		ret->in = x->in;
		strscpy(ret->detach_keys, x->detach_keys ? x->detach_keys : "",
			sizeof(ret->detach_keys));
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

static cJSON *exec_render(const struct exec_entry *x)
{
	cJSON *o = cJSON_CreateObject(), *pc = cJSON_CreateObject(), *args = cJSON_Duplicate(x->cmd, 1);
	cJSON *first = cJSON_DetachItemFromArray(args, 0);

	cJSON_AddStringToObject(o, "ID", x->id);
	cJSON_AddBoolToObject(o, "Running", x->started && !x->exited);
	if (x->exited)
		cJSON_AddNumberToObject(o, "ExitCode", x->exit_code);
	else
		cJSON_AddNullToObject(o, "ExitCode");
	cJSON_AddStringToObject(pc, "entrypoint", cJSON_IsString(first) ? first->valuestring : "");
	cJSON_Delete(first);
	cJSON_AddItemToObject(pc, "arguments", args);
	cJSON_AddBoolToObject(pc, "tty", x->tty);
	cJSON_AddStringToObject(pc, "user", x->user);
	cJSON_AddBoolToObject(pc, "privileged", false);
	cJSON_AddItemToObject(o, "ProcessConfig", pc);
	cJSON_AddBoolToObject(o, "OpenStdin", x->in);
	cJSON_AddBoolToObject(o, "OpenStdout", x->out);
	cJSON_AddBoolToObject(o, "OpenStderr", x->err);
	cJSON_AddStringToObject(o, "ContainerID", x->ctr_id);
	cJSON_AddNumberToObject(o, "Pid", x->exited ? 0 : x->pid);
	cJSON_AddBoolToObject(o, "CanRemove", false);
	return o;
}

int mgr_exec_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err)
{
	struct exec_entry *x;

	pthread_mutex_lock(&m->lock);
	x = exec_find(m, ref, err);
	if (x) {
		exec_poll(m, x);
		/* an exec shim that died without writing: its command is gone too */
		if (x->started && !x->exited && x->shim > 0 && kill(x->shim, 0) < 0 &&
		    errno == ESRCH) {
			x->exited = true;
			x->exit_code = 255;
		}
		*ret = exec_render(x);
	}
	pthread_mutex_unlock(&m->lock);
	return x ? 0 : err->code;
}

int mgr_exec_resize(struct manager *m, const char *ref, int rows, int cols, struct berr *err)
{
	char sock[4096];
	struct exec_entry *x;
	bool tty = false, running = false;

	pthread_mutex_lock(&m->lock);
	x = exec_find(m, ref, err);
	if (x) {
		exec_poll(m, x);
		strscpy(sock, x->sock, sizeof(sock));
		tty = x->tty;
		running = x->started && !x->exited;
	}
	pthread_mutex_unlock(&m->lock);
	if (!x)
		return err->code;
	if (!running)
		return berr_set(err, -ESRCH, "exec %.12s is not running", ref);
	return tty ? mgr_tty_resize(sock, rows, cols, err) : 0;
}
