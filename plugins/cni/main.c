/* SPDX-License-Identifier: Apache-2.0 */
/* berth-cni: the CNI plugin binary. It decodes what the runtime passed (config.c), asks berthd
 * over its socket (the CLI's HTTP client, cli/client.c) and prints the spec's result or error
 * object on stdout. berthd does the work: one daemon, the same manager operations as
 * `berth network connect`. A request that gets no answer within BERTH_CNI_TIMEOUT seconds
 * (default 60) ends with error 11 (try again later). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/client.h"
#include "common/util.h"
#include "plugins/cni/cni.h"

#define CNI_TIMEOUT_DEFAULT 60

static char timeout_reply[512];

static void timeout_handler(int sig)
{
	ssize_t n = write(STDOUT_FILENO, timeout_reply, strlen(timeout_reply));

	(void)n;
	(void)sig;
	_exit(1);
}

static void timeout_arm(const char *version)
{
	const char *s = getenv("BERTH_CNI_TIMEOUT");
	long t = s && *s ? strtol(s, NULL, 10) : CNI_TIMEOUT_DEFAULT;
	struct cni_error e = { .code = CNI_ERR_AGAIN };
	char *text;
	cJSON *j;

	if (t <= 0 || t > 3600)
		t = CNI_TIMEOUT_DEFAULT;
	snprintf(e.msg, sizeof(e.msg), "berthd did not answer");
	snprintf(e.details, sizeof(e.details), "no reply from berthd within %ld s", t);
	j = cni_error_json(&e, version);
	text = cJSON_PrintUnformatted(j);
	snprintf(timeout_reply, sizeof(timeout_reply), "%s\n", text ? text : "");
	free(text);
	cJSON_Delete(j);
	signal(SIGALRM, timeout_handler);
	alarm((unsigned)t);
}

static int print_json(const cJSON *j)
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(j);

	if (!text || printf("%s\n", text) < 0 || fflush(stdout) == EOF)
		return 1;
	return 0;
}

static int fail(const struct cni_error *err, const char *version)
{
	cJSON *j = cni_error_json(err, version);

	print_json(j);
	cJSON_Delete(j);
	return 1;
}

/* ---- talking to berthd ---- */

static bool berthd_reachable(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strscpy(sa.sun_path, path, sizeof(sa.sun_path));
	return fd >= 0 && connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0;
}

/* A failed request as the spec's error: berthd down (11, or 50 for STATUS), or its refusal. */
static void request_error(const struct cni_call *c, const struct berr *be, struct cni_error *err)
{
	int code = be->code == -EINVAL ? CNI_ERR_CONFIG
		 : be->code == -ENOENT ? (c->cmd == CNI_CMD_CHECK ? CNI_ERR_UNKNOWN : CNI_ERR_CONFIG)
		 : be->code == -EEXIST ? CNI_ERR_CONFLICT : CNI_ERR_INTERNAL;

	if (!berthd_reachable(c->socket)) {
		cni_fail(err, c->cmd == CNI_CMD_STATUS ? CNI_ERR_UNAVAILABLE : CNI_ERR_AGAIN,
			 "berthd is not reachable", "%s", berr_str(be));
		return;
	}
	cni_fail(err, code, code == CNI_ERR_CONFIG ? "berthd refused the request"
		 : code == CNI_ERR_UNKNOWN ? "attachment unknown"
		 : code == CNI_ERR_CONFLICT ? "conflict" : "berthd failed", "%s", berr_str(be));
}

static int berthd(const struct cni_call *c, const char *method, const char *path,
		  const cJSON *body, cJSON **ret, struct cni_error *err)
{
	struct berr be = BERR_INIT;

	if (client_set_host(c->socket, &be) < 0 || client_json(method, path, body, ret, &be) < 0) {
		request_error(c, &be, err);
		return -1;
	}
	return 0;
}

static cJSON *attachment_body(const struct cni_call *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "ContainerID", c->cid);
	cJSON_AddStringToObject(o, "IfName", c->ifname);
	cJSON_AddStringToObject(o, "Network", c->network);
	if (c->netns[0])
		cJSON_AddStringToObject(o, "Netns", c->netns);
	return o;
}

/* ---- commands ---- */

static int cmd_add(const struct cni_call *c, struct cni_error *err)
{
	_cleanup_json_ cJSON *body = attachment_body(c), *reply = NULL, *result = NULL;

	if (c->pod_name[0])
		cJSON_AddStringToObject(body, "Name", c->pod_name);
	if (c->mac[0])
		cJSON_AddStringToObject(body, "MAC", c->mac);
	cJSON_AddItemToObject(body, "Aliases", cJSON_Duplicate(c->aliases, 1));
	cJSON_AddItemToObject(body, "IPs", cJSON_Duplicate(c->ips, 1));
	cJSON_AddItemToObject(body, "PortMappings", cJSON_Duplicate(c->ports, 1));
	if (berthd(c, "POST", "/cni/add", body, &reply, err) < 0)
		return -1;
	result = cni_result_build(reply, c->prev, c->version, err);
	if (!result)
		return -1;
	return print_json(result) ? cni_fail(err, CNI_ERR_IO, "cannot write the result", "%s",
					     strerror(errno)) : 0;
}

static int cmd_del(const struct cni_call *c, struct cni_error *err)
{
	_cleanup_json_ cJSON *body = attachment_body(c);

	return berthd(c, "POST", "/cni/del", body, NULL, err);
}

static int problems_join(const cJSON *problems, struct cni_error *err)
{
	const cJSON *it;
	size_t len = 0;

	cni_fail(err, CNI_ERR_CHECK, "the attachment differs from prevResult", "%s", "");
	cJSON_ArrayForEach(it, problems) {
		int n = snprintf(err->details + len, sizeof(err->details) - len, "%s%s",
				 len ? "; " : "", cJSON_IsString(it) ? it->valuestring : "?");

		if (n < 0 || (size_t)n >= sizeof(err->details) - len)
			break;
		len += (size_t)n;
	}
	return -1;
}

static int cmd_check(const struct cni_call *c, struct cni_error *err)
{
	_cleanup_json_ cJSON *body = cni_check_expect(c->prev, c->ifname, c->netns, err);
	_cleanup_json_ cJSON *reply = NULL;
	_cleanup_json_ cJSON *ids = attachment_body(c);
	const cJSON *problems, *it;

	if (!body)
		return -1;
	cJSON_ArrayForEach(it, ids)
		cJSON_AddItemToObject(body, it->string, cJSON_Duplicate(it, 1));
	if (berthd(c, "POST", "/cni/check", body, &reply, err) < 0)
		return -1;
	problems = cJSON_GetObjectItemCaseSensitive(reply, "Problems");
	if (cJSON_GetArraySize(problems) > 0)
		return problems_join(problems, err);
	return 0;
}

static int cmd_gc(const struct cni_call *c, struct cni_error *err)
{
	_cleanup_json_ cJSON *body = cJSON_CreateObject(), *reply = NULL;

	cJSON_AddStringToObject(body, "Network", c->network);
	cJSON_AddItemToObject(body, "Valid", c->valid ? cJSON_Duplicate(c->valid, 1)
						      : cJSON_CreateArray());
	return berthd(c, "POST", "/cni/gc", body, &reply, err);
}

static int cmd_status(const struct cni_call *c, struct cni_error *err)
{
	_cleanup_free_ char *net = client_escape(c->network);
	_cleanup_free_ char *path = xasprintf("/cni/status?network=%s", net);
	_cleanup_json_ cJSON *reply = NULL;

	if (berthd(c, "GET", path, NULL, &reply, err) < 0) {
		if (err->code != CNI_ERR_UNAVAILABLE)
			err->code = CNI_ERR_UNAVAILABLE;   /* no such network: nothing to ADD to */
		return -1;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "Attachable")))
		return cni_fail(err, CNI_ERR_UNAVAILABLE, "network cannot take attachments",
				"network %s has no interfaces to attach (driver %s)", c->network,
				json_str(reply, "Driver"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "Exhausted")))
		return cni_fail(err, CNI_ERR_LIMITED, "address pools exhausted",
				"network %s has no free address left", c->network);
	return 0;
}

static int dispatch(const struct cni_call *c, struct cni_error *err)
{
	_cleanup_json_ cJSON *info = NULL;

	switch (c->cmd) {
	case CNI_CMD_VERSION:
		info = cni_version_info(c->version);
		return print_json(info) ? -1 : 0;
	case CNI_CMD_ADD: return cmd_add(c, err);
	case CNI_CMD_DEL: return cmd_del(c, err);
	case CNI_CMD_CHECK: return cmd_check(c, err);
	case CNI_CMD_GC: return cmd_gc(c, err);
	case CNI_CMD_STATUS: return cmd_status(c, err);
	}
	return cni_fail(err, CNI_ERR_ENV, "invalid CNI_COMMAND", "%s", "unknown command");
}

static int stdin_read(char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	ssize_t n;

	for (;;) {
		if (len == cap) {
			if (cap > CNI_STDIN_MAX)
				break;   /* config.c refuses it by its length */
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int main(void)
{
	struct cni_env env = {
		.command = getenv("CNI_COMMAND"), .containerid = getenv("CNI_CONTAINERID"),
		.netns = getenv("CNI_NETNS"), .ifname = getenv("CNI_IFNAME"),
		.args = getenv("CNI_ARGS"), .path = getenv("CNI_PATH"),
	};
	struct cni_error err = { 0 };
	struct cni_call c;
	_cleanup_free_ char *in = NULL;
	size_t len = 0;
	int r;

	signal(SIGPIPE, SIG_IGN);
	r = stdin_read(&in, &len);
	if (r < 0)
		return fail(&(struct cni_error){ .code = CNI_ERR_IO, .msg = "cannot read stdin" },
			    CNI_VERSION_LATEST);
	r = cni_call_decode(&env, in, len, &c, &err);
	if (r >= 0) {
		timeout_arm(c.version);
		r = dispatch(&c, &err);
	}
	if (r < 0)
		fail(&err, c.version[0] ? c.version : CNI_VERSION_LATEST);
	cni_call_free(&c);
	return r < 0 ? 1 : 0;
}
