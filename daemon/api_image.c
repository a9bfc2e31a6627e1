/* SPDX-License-Identifier: Apache-2.0 */
/* Images over the API, as Docker's: POST /images/load (a `docker save` archive or an OCI layout
 * in the body), POST /images/create?fromSrc=-&repo= (import a rootfs tarball), GET /images/json,
 * DELETE /images/{name}. Uploads are spooled to a file in the image store as they arrive (never
 * held in memory); the load itself runs in a thread of its own that writes Docker's JSON
 * progress messages into a pipe the reply streams from. The client leaving closes the pipe and
 * stops the load; berthd stopping stops it too. */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "daemon/api_internal.h"
#include "daemon/manager.h"
#include "runtime/images.h"

#define API_PROGRESS_BAR 50

/* ---- uploads ---- */

static uint64_t api_declared_length(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl ? strtoull(cl, NULL, 10) : 0;
}

bool api_upload_begin(struct api *a, struct MHD_Connection *conn, struct api_conn *req)
{
	struct berr err = BERR_INIT;

	if (!api_route_is_upload(req->method, req->path))
		return false;
	if (api_declared_length(conn) > mgr_image_bytes_max()) {
		req->too_large = true;
		return true;
	}
	req->upload_fd = mgr_image_upload_file(a->m, &req->upload_path, &err);
	if (req->upload_fd < 0) {
		blog_warn("image upload: %s", berr_str(&err));
		req->upload_error = req->upload_fd;
	}
	return true;
}

void api_upload_append(struct api_conn *req, const char *data, size_t n)
{
	if (req->too_large || req->upload_error)
		return;
	req->upload_len += n;
	if (req->upload_len > mgr_image_bytes_max()) {
		req->too_large = true;
		return;
	}
	while (n > 0) {
		ssize_t w = write(req->upload_fd, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			req->upload_error = -errno;
			return;
		}
		data += w;
		n -= (size_t)w;
	}
}

void api_upload_end(struct api_conn *req)
{
	if (req->upload_fd >= 0)
		close(req->upload_fd);
	req->upload_fd = -1;
	if (req->upload_path)
		unlink(req->upload_path);
	free(req->upload_path);
	req->upload_path = NULL;
}

enum MHD_Result api_upload_refuse(struct MHD_Connection *conn, struct api_conn *req)
{
	char msg[160];

	if (req->too_large) {
		snprintf(msg, sizeof(msg), "the image archive is larger than %" PRIu64 " bytes",
			 mgr_image_bytes_max());
		return api_queue_message(conn, req, 413, msg);
	}
	snprintf(msg, sizeof(msg), "cannot store the upload: %s", strerror(-req->upload_error));
	return api_queue_message(conn, req, 500, msg);
}

/* ---- the load thread ---- */

struct api_load {
	struct api *api;
	char *archive;          /* the upload, removed when done */
	char *repo;             /* import: the reference ("" none); NULL: a load */
	bool quiet;
	int out;                /* write end of the pipe */
};

static void api_jobs_add(struct api *a, int delta)
{
	pthread_mutex_lock(&a->jobs_lock);
	a->jobs = (unsigned)((int)a->jobs + delta);
	if (a->jobs == 0)
		pthread_cond_broadcast(&a->jobs_done);
	pthread_mutex_unlock(&a->jobs_lock);
}

void api_image_loads_wait(struct api *a)
{
	pthread_mutex_lock(&a->jobs_lock);
	while (a->jobs > 0)
		pthread_cond_wait(&a->jobs_done, &a->jobs_lock);
	pthread_mutex_unlock(&a->jobs_lock);
}

/* One message on its own line; a client that left makes the write fail (EPIPE). */
static int api_load_say(struct api_load *l, cJSON *msg)
{
	char *text = cJSON_PrintUnformatted(msg), *line;
	size_t len, off = 0;
	int r = 0;

	cJSON_Delete(msg);
	line = xasprintf("%s\n", text ? text : "{}");
	free(text);
	len = strlen(line);
	while (off < len && r == 0) {
		ssize_t w = write(l->out, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			r = -errno;
		else
			off += (size_t)w;
	}
	free(line);
	return r;
}

static void api_progress_bar(const struct rt_load_progress *p, char *buf, size_t size)
{
	char cur[32], tot[32];
	int fill = p->total ? (int)(p->current * API_PROGRESS_BAR / p->total) : 0;

	snprintf(cur, sizeof(cur), "%.3gMB", (double)p->current / 1e6);
	snprintf(tot, sizeof(tot), "%.3gMB", (double)p->total / 1e6);
	snprintf(buf, size, "[%.*s%s%*s] %s/%s", fill > 0 ? fill - 1 : 0,
		 "=================================================", fill > 0 ? ">" : "",
		 API_PROGRESS_BAR - (fill > 0 ? fill : 0), "", cur, tot);
}

/* Docker's message: {"status", "progressDetail": {"current", "total"}, "progress", "id"}. */
static int api_load_progress(void *ud, const struct rt_load_progress *p)
{
	struct api_load *l = ud;
	cJSON *msg, *detail;
	char bar[128];

	if (atomic_load(&l->api->stopping))
		return -ECANCELED;
	if (l->quiet)
		return 0;
	msg = cJSON_CreateObject();
	detail = cJSON_AddObjectToObject(msg, "progressDetail");
	cJSON_AddStringToObject(msg, "status", p->status);
	cJSON_AddNumberToObject(detail, "current", (double)p->current);
	cJSON_AddNumberToObject(detail, "total", (double)p->total);
	api_progress_bar(p, bar, sizeof(bar));
	cJSON_AddStringToObject(msg, "progress", bar);
	cJSON_AddStringToObject(msg, "id", p->id);
	return api_load_say(l, msg);
}

static void api_load_done(struct api_load *l, int r, const struct berr *err, cJSON *names)
{
	cJSON *msg = cJSON_CreateObject(), *it;

	if (r < 0) {
		cJSON *detail = cJSON_AddObjectToObject(msg, "errorDetail");

		cJSON_AddStringToObject(detail, "message", berr_str(err));
		cJSON_AddStringToObject(msg, "error", berr_str(err));
		api_load_say(l, msg);
		return;
	}
	cJSON_Delete(msg);
	cJSON_ArrayForEach(it, names) {
		bool id = !strncmp(it->valuestring, "sha256:", 7);
		_cleanup_free_ char *text = l->repo ? NULL
			: xasprintf("Loaded image%s: %s\n", id ? " ID" : "", it->valuestring);

		msg = cJSON_CreateObject();
		if (l->repo)
			cJSON_AddStringToObject(msg, "status", it->valuestring);
		else
			cJSON_AddStringToObject(msg, "stream", text);
		api_load_say(l, msg);
	}
}

static void *api_load_main(void *arg)
{
	struct api_load *l = arg;
	struct berr err = BERR_INIT;
	cJSON *names = NULL;
	int r;

	if (l->repo)
		r = mgr_image_import(l->api->m, l->archive, l->repo, api_load_progress, l, &names, &err);
	else
		r = mgr_image_load(l->api->m, l->archive, api_load_progress, l, &names, &err);
	if (r < 0)
		blog_info("image %s refused: %s", l->repo ? "import" : "load", berr_str(&err));
	api_load_done(l, r, &err, names);
	cJSON_Delete(names);
	unlink(l->archive);
	close(l->out);
	api_jobs_add(l->api, -1);
	free(l->archive);
	free(l->repo);
	free(l);
	return NULL;
}

/* ---- the reply: what the thread writes ---- */

static ssize_t api_load_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	int fd = (int)(intptr_t)cls;
	ssize_t n;

	do
		n = read(fd, buf, max);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void api_load_read_free(void *cls)
{
	close((int)(intptr_t)cls);
}

/* Takes repo. */
static int api_load_start(struct api_call *c, char *repo)
{
	struct api_load *l;
	pthread_t t;
	int p[2];

	if (!c->req->upload_path || pipe2(p, O_CLOEXEC) < 0) {
		free(repo);
		return berr_errno(&c->err, c->req->upload_path ? -errno : -EIO,
				  "starting the image load");
	}
	l = xcalloc(1, sizeof(*l));
	l->api = c->api;
	l->archive = steal_ptr(c->req->upload_path);
	l->repo = repo;
	l->quiet = c->d.quiet;
	l->out = p[1];
	c->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, api_load_read,
						    (void *)(intptr_t)p[0], api_load_read_free);
	if (!c->resp)
		close(p[0]);
	api_jobs_add(c->api, 1);
	if (!c->resp || pthread_create(&t, NULL, api_load_main, l) != 0) {
		c->req->upload_path = l->archive;   /* removed with the request */
		close(p[1]);
		free(l->repo);
		free(l);
		api_jobs_add(c->api, -1);
		return berr_set(&c->err, -ENOMEM, "starting the image load");
	}
	pthread_detach(t);
	MHD_add_response_header(c->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return 0;
}

int api_image_load(struct api_call *c)
{
	return api_load_start(c, NULL);
}

int api_image_create(struct api_call *c)
{
	const char *repo = c->d.repo ? c->d.repo : "";
	char *ref = c->d.tag && *c->d.tag && *repo ? xasprintf("%s:%s", repo, c->d.tag)
						   : xstrdup(repo);

	return api_load_start(c, ref);
}

int api_image_list(struct api_call *c)
{
	return mgr_image_list(c->api->m, &c->reply, &c->err);
}

int api_image_remove(struct api_call *c)
{
	return mgr_image_remove(c->api->m, c->d.params.v[0], c->d.force, &c->reply, &c->err);
}
