/* SPDX-License-Identifier: Apache-2.0 */
/* berth attach, start -a, run -i/-t (foreground), exec -i/-t: Docker's flows over berthd's API.
 * Attach first (POST /containers/{id}/attach, upgraded), then start, so nothing the process
 * prints first is lost (the shim holds it for the first client); relay; then the exit code
 * from POST /wait (or GET /exec/{id}/json). Detaching (Ctrl-P Ctrl-Q) leaves the container
 * running and exits 0. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "common/util.h"

static int container_wait_code(const char *id)
{
	_cleanup_free_ char *path = cmd_path("/containers/", id, "/wait");
	_cleanup_json_ cJSON *reply = NULL;
	struct berr err = BERR_INIT;
	const cJSON *code;

	if (client_json("POST", path, NULL, &reply, &err) < 0)
		return cli_fail_err(&err);
	code = cJSON_GetObjectItemCaseSensitive(reply, "StatusCode");
	if (!cJSON_IsNumber(code) || code->valueint < 0 || code->valueint > 255)
		return 1;
	return code->valueint;
}

static void container_rm_quietly(const char *id)
{
	_cleanup_free_ char *path = cmd_path("/containers/", id, "?force=1");
	struct berr err = BERR_INIT;

	client_request("DELETE", path, NULL, NULL, NULL, &err);
}

int attach_run(const char *id, const struct attach_opts *o)
{
	_cleanup_free_ char *keys = o->detach_keys ? client_escape(o->detach_keys) : NULL;
	_cleanup_free_ char *base = cmd_path("/containers/", id, ""), *path = NULL;
	_cleanup_free_ char *resize = cmd_path("/containers/", id, "/resize");
	_cleanup_free_ char *start = cmd_path("/containers/", id, "/start"), *extra = NULL;
	struct berr err = BERR_INIT;
	size_t n_extra = 0;
	int sock = -1, r;

	path = xasprintf("%s/attach?stream=1&stdin=%d&stdout=1&stderr=1%s%s", base, o->in,
			 keys ? "&detachKeys=" : "", keys ? keys : "");
	if (client_hijack(path, NULL, &sock, &extra, &n_extra, &err) < 0)
		return cli_fail_err(&err);
	if (o->start && client_request("POST", start, NULL, NULL, NULL, &err) < 0 &&
	    err.code != -EALREADY) {
		close(sock);
		r = cli_fail_err(&err);
		if (o->rm)
			container_rm_quietly(id);
		return r;
	}
	r = tty_session(sock, extra, n_extra, o->tty, o->in, o->tty ? resize : NULL, o->detach_keys);
	close(sock);
	if (r == TTY_DETACHED)
		return 0;
	if (r == TTY_FAILED)
		return 1;
	r = container_wait_code(id);
	if (o->rm)
		container_rm_quietly(id);
	return r;
}

/* ---- berth attach ---- */

int cmd_attach(int argc, char **argv)
{
	bool no_stdin = false, sig_proxy = false;
	const char *keys = NULL;
	const struct flag flags[] = {
		{ "no-stdin", 0, FLAG_BOOL, &no_stdin, NULL, "Do not attach stdin" },
		{ "detach-keys", 0, FLAG_STR, &keys, "KEYS", "Keys that detach (default ctrl-p,ctrl-q)" },
		{ "sig-proxy", 0, FLAG_BOOL, &sig_proxy, NULL, NULL },
		{ 0 },
	};
	const struct cmd_spec spec = { "attach", "[OPTIONS] CONTAINER",
				       "Attach the terminal (or stdin and the output) to a running container",
				       flags, false };
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ cJSON *c = NULL;
	struct attach_opts o = { .detach_keys = keys };
	struct berr err = BERR_INIT;
	const cJSON *cfg, *state;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, 1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	path = cmd_path("/containers/", args.v[0], "/json");
	if (client_json("GET", path, NULL, &c, &err) < 0)
		return cli_fail_err(&err);
	state = cJSON_GetObjectItemCaseSensitive(c, "State");
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "Running")))
		return cli_fail("You cannot attach to a stopped container, start it first");
	cfg = cJSON_GetObjectItemCaseSensitive(c, "Config");
	o.tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "Tty"));
	o.in = !no_stdin && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "OpenStdin"));
	o.detach_keys = keys;
	return attach_run(json_str(c, "Id"), &o);
}

/* ---- exec -i / -t ---- */

static cJSON *exec_body(char **argv, const cJSON *env, const char *user, const char *workdir,
			bool in, bool tty, const char *detach_keys)
{
	cJSON *b = cJSON_CreateObject(), *cmd = cJSON_AddArrayToObject(b, "Cmd");

	for (char **a = argv; *a; a++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
	if (env)
		cJSON_AddItemToObject(b, "Env", cJSON_Duplicate(env, 1));
	if (user)
		cJSON_AddStringToObject(b, "User", user);
	if (workdir)
		cJSON_AddStringToObject(b, "WorkingDir", workdir);
	cJSON_AddBoolToObject(b, "AttachStdin", in);
	cJSON_AddBoolToObject(b, "AttachStdout", true);
	cJSON_AddBoolToObject(b, "AttachStderr", true);
	cJSON_AddBoolToObject(b, "Tty", tty);
	if (detach_keys)   /* berthd filters them too: the same ones */
		cJSON_AddStringToObject(b, "DetachKeys", detach_keys);
	return b;
}

static int exec_code(const char *eid)
{
	_cleanup_free_ char *path = cmd_path("/exec/", eid, "/json");
	struct berr err = BERR_INIT;

	/* the exec shim writes the code before it ends the stream: it is there already; a few
	 * tries cover a session the stream of which ended otherwise */
	for (int i = 0; i < 50; i++) {
		_cleanup_json_ cJSON *x = NULL;
		const cJSON *code;

		if (client_json("GET", path, NULL, &x, &err) < 0)
			return cli_fail_err(&err);
		code = cJSON_GetObjectItemCaseSensitive(x, "ExitCode");
		if (cJSON_IsNumber(code))
			return code->valueint;
		usleep(20000);
	}
	return cli_fail("the exec did not report an exit code");
}

int exec_api(const char *ctr, char **argv, const cJSON *env, const char *user,
	     const char *workdir, bool in, bool tty, bool detach, const char *detach_keys)
{
	_cleanup_free_ char *create = cmd_path("/containers/", ctr, "/exec");
	_cleanup_free_ char *start = NULL, *resize = NULL, *extra = NULL;
	_cleanup_json_ cJSON *body = exec_body(argv, env, user, workdir, in, tty,
							detach_keys), *reply = NULL;
	_cleanup_json_ cJSON *sbody = cJSON_CreateObject();
	struct berr err = BERR_INIT;
	const char *eid;
	size_t n_extra = 0;
	int sock = -1, rows, cols, r;

	if (client_json("POST", create, body, &reply, &err) < 0)
		return cli_fail_err(&err);
	eid = json_str(reply, "Id");
	start = cmd_path("/exec/", eid, "/start");
	resize = cmd_path("/exec/", eid, "/resize");
	cJSON_AddBoolToObject(sbody, "Detach", detach);
	cJSON_AddBoolToObject(sbody, "Tty", tty);
	if (tty && tty_size(&rows, &cols)) {
		cJSON *cs = cJSON_AddArrayToObject(sbody, "ConsoleSize");

		cJSON_AddItemToArray(cs, cJSON_CreateNumber(rows));
		cJSON_AddItemToArray(cs, cJSON_CreateNumber(cols));
	}
	if (detach)
		return client_request("POST", start, sbody, NULL, NULL, &err) < 0 ? cli_fail_err(&err) : 0;
	if (client_hijack(start, sbody, &sock, &extra, &n_extra, &err) < 0) {
		cli_fail_err(&err);
		return exec_code(eid);   /* 126, 127: the command could not run */
	}
	r = tty_session(sock, extra, n_extra, tty, in, tty ? resize : NULL, detach_keys);
	close(sock);
	if (r == TTY_DETACHED)
		return 0;
	return r == TTY_FAILED ? 1 : exec_code(eid);
}
