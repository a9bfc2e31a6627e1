/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's HTTP client (cli/client.c) against a scripted server on a unix socket in a
 * temporary directory: the request it writes, replies that arrive in pieces, streaming, error
 * replies, a reply too large, a server that closes early or answers without reading the body,
 * no server at all. No privileges. The CLI's sources are not in libberth.a: compiled in here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <signal.h>
#include <sys/wait.h>

#include "cli/client.c"
#include "cli/http_reply.c"

#define PIECE_END NULL

static char test_dir[64];
static char test_sock[128];

/* What the server does with one connection. */
struct script {
	bool read_body;             /* read the request body (Content-Length) before answering */
	const char *pieces[8];      /* written one by one, a short pause between them */
	size_t big;                 /* then this many 'x' bytes */
};

static size_t request_length(const char *req, size_t len)
{
	const char *end = memmem(req, len, "\r\n\r\n", 4);
	const char *cl = strcasestr(req, "\r\nContent-Length: ");

	if (!end)
		return 0;
	return (size_t)(end + 4 - req) + (cl && cl < end ? strtoul(cl + 18, NULL, 10) : 0);
}

/* Reads the request (its head, and its body if asked), reports it on out, then answers. */
static void server_serve(int fd, const struct script *s, int out)
{
	static char req[1 << 16];
	size_t len = 0, want = 0;
	ssize_t n;
	char big[4096];

	while (len < sizeof(req) - 1) {
		n = read(fd, req + len, sizeof(req) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		want = request_length(req, len);
		if (want && (!s->read_body || len >= want))
			break;
	}
	if (write(out, req, len) < 0)
		_exit(2);
	close(out);
	for (int i = 0; s->pieces[i]; i++) {
		if (write(fd, s->pieces[i], strlen(s->pieces[i])) < 0)
			_exit(3);
		usleep(2000); /* lets the client read each piece on its own (not needed for success) */
	}
	memset(big, 'x', sizeof(big));
	for (size_t done = 0; done < s->big; done += sizeof(big))
		if (write(fd, big, sizeof(big)) < 0)
			break;
	close(fd);
}

/* Forks a server for one connection; the request it read comes back in ret_req. */
static pid_t server_start(const struct script *s, int *ret_out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, fd, p[2];
	pid_t pid;

	unlink(test_sock);
	strcpy(sa.sun_path, test_sock);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		close(p[0]);
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			_exit(1);
		server_serve(fd, s, p[1]);
		_exit(0);
	}
	close(lfd);
	close(p[1]);
	*ret_out = p[0];
	return pid;
}

/* Waits for the server; returns the request it read (free it). */
static char *server_finish(pid_t pid, int out)
{
	static char buf[1 << 16];
	size_t len = 0;
	ssize_t n;
	int status;

	while ((n = read(out, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(out);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return xstrdup(buf);
}

static int setup(void **state)
{
	struct berr err = BERR_INIT;

	strcpy(test_dir, "/tmp/berth-client-XXXXXX");
	assert_non_null(mkdtemp(test_dir));
	snprintf(test_sock, sizeof(test_sock), "%s/berth.sock", test_dir);
	assert_int_equal(client_set_host(test_sock, &err), 0);
	return 0;
}

static int teardown(void **state)
{
	unlink(test_sock);
	rmdir(test_dir);
	return 0;
}

static void test_get_json_in_pieces(void **state)
{
	const struct script s = { .pieces = {
		"HTTP/1.1 200 OK\r\nContent-Ty", "pe: application/json\r\nContent-Length: 30\r",
		"\n\r\n[{\"Name\": \"n1\"},", "{\"Name\":\"n2\"}]", PIECE_END } };
	_cleanup_json_ cJSON *reply = NULL;
	_cleanup_free_ char *req = NULL;
	struct berr err = BERR_INIT;
	int out;
	pid_t pid = server_start(&s, &out);

	assert_int_equal(client_json("GET", "/networks", NULL, &reply, &err), 0);
	req = server_finish(pid, out);
	assert_true(cJSON_IsArray(reply));
	assert_int_equal(cJSON_GetArraySize(reply), 2);
	assert_string_equal(json_str(cJSON_GetArrayItem(reply, 1), "Name"), "n2");
	assert_non_null(strstr(req, "GET /networks HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "\r\nHost: localhost\r\n"));
	assert_non_null(strstr(req, "\r\nContent-Type: application/json\r\n"));
	assert_null(strstr(req, "Content-Length"));   /* GET without a body */
	assert_non_null(strstr(req, "\r\n\r\n"));
}

static void test_post_body(void **state)
{
	const struct script s = { .read_body = true, .pieces = {
		"HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n{\"Id\":\"a\"}", PIECE_END } };
	_cleanup_json_ cJSON *body = cJSON_CreateObject();
	_cleanup_json_ cJSON *reply = NULL;
	_cleanup_free_ char *req = NULL;
	struct berr err = BERR_INIT;
	int out;
	pid_t pid;

	cJSON_AddStringToObject(body, "Name", "n 1");
	pid = server_start(&s, &out);
	assert_int_equal(client_json("POST", "/networks/create", body, &reply, &err), 0);
	req = server_finish(pid, out);
	assert_string_equal(json_str(reply, "Id"), "a");
	assert_non_null(strstr(req, "POST /networks/create HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "\r\nContent-Length: 14\r\n"));
	assert_non_null(strstr(req, "\r\n\r\n{\"Name\":\"n 1\"}"));
}

static void test_post_empty(void **state)
{
	const struct script s = { .pieces = { "HTTP/1.1 204 No Content\r\n\r\n", PIECE_END } };
	_cleanup_free_ char *req = NULL;
	struct client_reply reply = { 0 };
	struct berr err = BERR_INIT;
	int out;
	pid_t pid = server_start(&s, &out);

	assert_int_equal(client_request("POST", "/containers/x/start", NULL, NULL, &reply, &err), 0);
	req = server_finish(pid, out);
	assert_int_equal(reply.status, 204);
	assert_null(reply.body);
	assert_non_null(strstr(req, "\r\nContent-Length: 0\r\n"));
}

static void test_stream_chunked(void **state)
{
	const struct script s = { .pieces = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "6\r\nhello\n\r\n",
		"7\r\nworld!\n\r\n", "0\r\n\r\n", PIECE_END } };
	_cleanup_free_ char *req = NULL, *text = NULL;
	struct client_reply reply = { 0 };
	struct berr err = BERR_INIT;
	FILE *sink = tmpfile();
	size_t len = 0;
	int out;
	pid_t pid = server_start(&s, &out);

	assert_int_equal(client_request("GET", "/containers/c/logs?follow=1", NULL, sink, &reply,
					&err), 0);
	req = server_finish(pid, out);
	assert_int_equal(reply.status, 200);
	assert_null(reply.body);   /* streamed, not collected */
	text = xmalloc(64);
	rewind(sink);
	len = fread(text, 1, 63, sink);
	text[len] = '\0';
	assert_string_equal(text, "hello\nworld!\n");
	fclose(sink);
}

static void test_error_reply(void **state)
{
	const struct script s = { .pieces = {
		"HTTP/1.1 404 Not Found\r\nContent-Length: 38\r\n\r\n",
		"{\"message\":\"network n1 not found\"}\r\n\r\n", PIECE_END } };
	_cleanup_free_ char *req = NULL;
	struct berr err = BERR_INIT;
	FILE *sink = tmpfile();
	int out;
	pid_t pid = server_start(&s, &out);

	/* an error body is collected even when a 2xx one would be streamed */
	assert_int_equal(client_request("GET", "/networks/n1", NULL, sink, NULL, &err), -ENOENT);
	req = server_finish(pid, out);
	assert_string_equal(err.msg, "network n1 not found");
	assert_int_equal(ftell(sink), 0);
	fclose(sink);
}

static void test_too_large(void **state)
{
	const struct script s = { .pieces = {
		"HTTP/1.1 200 OK\r\nContent-Length: 67108865\r\n\r\n", PIECE_END }, .big = 1 << 16 };
	const struct script s2 = { .pieces = {
		"HTTP/1.1 200 OK\r\n\r\n", PIECE_END }, .big = (64u << 20) + 4096 };
	_cleanup_free_ char *req = NULL, *req2 = NULL;
	struct berr err = BERR_INIT;
	int out;
	pid_t pid = server_start(&s, &out);

	assert_int_equal(client_json("GET", "/networks", NULL, NULL, &err), -E2BIG);
	req = server_finish(pid, out);
	assert_string_equal(err.msg, "reply from berthd is larger than 67108864 bytes");
	/* a body without a length is bounded as it arrives */
	berr_clear(&err);
	pid = server_start(&s2, &out);
	assert_int_equal(client_json("GET", "/networks", NULL, NULL, &err), -E2BIG);
	req2 = server_finish(pid, out);
	assert_string_equal(err.msg, "reply from berthd is larger than 67108864 bytes");
}

static void test_closed_early(void **state)
{
	const struct script s = { .pieces = {
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\":", PIECE_END } };
	const struct script none = { .pieces = { PIECE_END } };
	_cleanup_free_ char *req = NULL, *req2 = NULL, *want = NULL;
	struct berr err = BERR_INIT;
	int out;
	pid_t pid = server_start(&s, &out);

	assert_int_equal(client_json("GET", "/networks", NULL, NULL, &err), -EPIPE);
	req = server_finish(pid, out);
	want = xasprintf("request to berthd at %s failed: connection closed with 89 bytes of the "
			 "reply's body still to come", test_sock);
	assert_string_equal(err.msg, want);
	berr_clear(&err);
	pid = server_start(&none, &out);
	assert_int_equal(client_json("GET", "/networks", NULL, NULL, &err), -EPIPE);
	req2 = server_finish(pid, out);
	assert_non_null(strstr(err.msg, "failed: connection closed without a reply"));
}

static void test_malformed_reply(void **state)
{
	const struct script s = { .pieces = { "SSH-2.0-OpenSSH\r\n", PIECE_END } };
	_cleanup_free_ char *req = NULL;
	struct berr err = BERR_INIT;
	int out;
	pid_t pid = server_start(&s, &out);

	assert_int_equal(client_json("GET", "/networks", NULL, NULL, &err), -EBADMSG);
	req = server_finish(pid, out);
	assert_non_null(strstr(err.msg, "failed: malformed status line \"SSH-2.0-OpenSSH\""));
}

static void test_answer_before_body(void **state)
{
	/* berthd refuses a body over 1 MiB from its Content-Length and closes without reading
	 * it: sending fails, the reply is still there to read. */
	const struct script s = { .pieces = {
		"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 44\r\n\r\n"
		"{\"message\":\"request body exceeds 1 MiB\"}\r\n\r\n", PIECE_END } };
	_cleanup_json_ cJSON *body = cJSON_CreateObject();
	_cleanup_free_ char *req = NULL, *big = xmalloc(4u << 20);
	struct berr err = BERR_INIT;
	int out;
	pid_t pid;

	memset(big, 'a', (4u << 20) - 1);
	big[(4u << 20) - 1] = '\0';
	cJSON_AddStringToObject(body, "Name", big);
	pid = server_start(&s, &out);
	assert_int_equal(client_json("POST", "/networks/create", body, NULL, &err), -E2BIG);
	req = server_finish(pid, out);
	assert_string_equal(err.msg, "request body exceeds 1 MiB");
}

static void test_no_server(void **state)
{
	_cleanup_free_ char *want = NULL;
	struct berr err = BERR_INIT;

	unlink(test_sock);
	assert_int_equal(client_json("GET", "/_ping", NULL, NULL, &err), -ENOENT);
	want = xasprintf("cannot connect to berthd at %s: No such file or directory "
			 "(is berthd running?)", test_sock);
	assert_string_equal(err.msg, want);
}

static void test_bad_path(void **state)
{
	struct berr err = BERR_INIT;

	assert_int_equal(client_json("GET", "/networks?x=a b", NULL, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "invalid request path"));
	assert_int_equal(client_json("GET", "/a\r\nX: y", NULL, NULL, &err), -EINVAL);
}

static void test_set_host(void **state)
{
	char longp[200];
	struct berr err = BERR_INIT;

	assert_int_equal(client_set_host("unix:///run/x.sock", &err), 0);
	assert_string_equal(client_socket_path(), "/run/x.sock");
	assert_int_equal(client_set_host("/run/y.sock", &err), 0);
	assert_string_equal(client_socket_path(), "/run/y.sock");
	assert_int_equal(client_set_host("tcp://127.0.0.1:2375", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "only unix:// sockets are supported"));
	assert_int_equal(client_set_host("unix://relative", &err), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(client_set_host(longp, &err), -ENAMETOOLONG);
	assert_string_equal(client_socket_path(), "/run/y.sock");
	assert_int_equal(client_set_host(test_sock, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_json_in_pieces),
		cmocka_unit_test(test_post_body),
		cmocka_unit_test(test_post_empty),
		cmocka_unit_test(test_stream_chunked),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_closed_early),
		cmocka_unit_test(test_malformed_reply),
		cmocka_unit_test(test_answer_before_body),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_bad_path),
		cmocka_unit_test(test_set_host),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
