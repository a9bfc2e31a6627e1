/* SPDX-License-Identifier: Apache-2.0 */
/* berth image ls|load|import|rm, through berthd (GET /images/json, POST /images/load, POST
 * /images/create?fromSrc=-, DELETE /images/{name}). The CLI only streams the archive: parsing
 * and extraction happen in berthd. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/format.h"
#include "cli/table.h"
#include "cli/units.h"
#include "common/names.h"
#include "common/util.h"

/* ---- ls ---- */

/* One row per tag ("nginx:latest" -> REPOSITORY nginx, TAG latest); untagged: <none>. */
static void image_rows_add(cJSON *rows, const cJSON *img, bool no_trunc)
{
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(img, "RepoTags"), *t;
	const cJSON *created = cJSON_GetObjectItemCaseSensitive(img, "Created");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(img, "Size");
	const char *id = json_str(img, "Id");
	time_t when = cJSON_IsNumber(created) ? (time_t)created->valuedouble : 0;
	char since[80], d[64], sz[32], at[64], shown[80];
	struct tm tm;
	int n = cJSON_GetArraySize(tags);

	/* docker's IMAGE ID: 12 hex digits, the whole "sha256:..." with --no-trunc */
	snprintf(shown, sizeof(shown), no_trunc ? "%s" : "%.12s",
		 !no_trunc && !strncmp(id, "sha256:", 7) ? id + 7 : id);
	human_duration((int64_t)(time(NULL) - when), d, sizeof(d));
	snprintf(since, sizeof(since), "%s ago", d);
	gmtime_r(&when, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
	units_human(cJSON_IsNumber(size) ? size->valuedouble : 0, sz, sizeof(sz));
	for (int i = 0; i < (n ? n : 1); i++) {
		cJSON *r = cJSON_CreateObject();
		_cleanup_free_ char *repo = NULL;
		const char *tag = "<none>";
		char *colon;

		t = n ? cJSON_GetArrayItem(tags, i) : NULL;
		repo = xstrdup(t && cJSON_IsString(t) ? t->valuestring : "<none>");
		colon = strrchr(repo, ':');
		if (t && colon && !strchr(colon, '/')) {
			*colon = '\0';
			tag = colon + 1;
		}
		cJSON_AddStringToObject(r, "Repository", repo);
		cJSON_AddStringToObject(r, "Tag", tag);
		cJSON_AddStringToObject(r, "ID", shown);
		cJSON_AddStringToObject(r, "CreatedSince", since);
		cJSON_AddStringToObject(r, "CreatedAt", at);
		cJSON_AddStringToObject(r, "Size", sz);
		cJSON_AddItemToArray(rows, r);
	}
}

static int image_row_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int r = strcmp(json_str(x, "Repository"), json_str(y, "Repository"));

	return r ? r : strcmp(json_str(x, "Tag"), json_str(y, "Tag"));
}

static cJSON *image_rows(const cJSON *list, bool no_trunc)
{
	cJSON *rows = cJSON_CreateArray();
	const cJSON *img;

	cJSON_ArrayForEach(img, list)
		image_rows_add(rows, img, no_trunc);
	json_sort(rows, image_row_cmp);
	return rows;
}

static int image_ls(int argc, char **argv)
{
	bool quiet = false, no_trunc = false;
	const char *format = NULL;
	const struct flag flags[] = {
		{ "quiet", 'q', FLAG_BOOL, &quiet, NULL, "Only display image IDs" },
		{ "format", 0, FLAG_STR, &format, "FORMAT", "table (default), json, or a template: '{{.Repository}}:{{.Tag}}'" },
		{ "no-trunc", 0, FLAG_BOOL, &no_trunc, NULL, "Do not truncate IDs" },
		{ 0 },
	};
	const struct cmd_spec spec = { "image ls", "[OPTIONS]", "List images", flags, false };
	static const struct format_header headers[] = {
		{ "ID", "IMAGE ID" }, { "CreatedSince", "CREATED" }, { NULL, NULL },
	};
	_cleanup_json_ cJSON *list = NULL, *rows = NULL;
	struct berr err = BERR_INIT;
	struct args args;
	const cJSON *r;
	int rc;

	rc = flags_parse(&spec, argc, argv, &args);
	if (rc != 0 || args_require(&spec, &args, 0, 0) < 0)
		return cmd_parse_exit(rc ? rc : -EINVAL);
	if (format_validate(format, &err) < 0)
		return cli_fail_err(&err);
	if (client_json("GET", "/images/json", NULL, &list, &err) < 0)
		return cli_fail_err(&err);
	if (format && !strcmp(format, "json")) {
		_cleanup_free_ char *s = cJSON_PrintUnformatted(list);

		printf("%s\n", s);
		return 0;
	}
	rows = image_rows(list, no_trunc);
	if (quiet) {
		cJSON_ArrayForEach(r, rows)
			printf("%s\n", json_str(r, "ID"));
		return 0;
	}
	format_list(format_is_custom(format) ? format :
		    "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}",
		    rows, headers, stdout);
	return 0;
}

/* ---- load / import: the archive goes up, progress comes back ---- */

struct load_out {
	bool tty, quiet, failed;
	char *line;
	size_t len;
	char last_id[64];
};

/* One of Docker's messages: progress ({"status", "progressDetail", "id"}), a result
 * ({"stream": "Loaded image: x\n"} or {"status": "sha256:..."}) or an error. */
static void load_message(struct load_out *o, const cJSON *m)
{
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(m, "progressDetail");
	const char *id = json_str(m, "id");

	if (json_str(m, "error")[0]) {
		if (o->tty && o->last_id[0])
			printf("\n");
		o->last_id[0] = '\0';
		cli_fail("%s", json_str(m, "error"));
		o->failed = true;
	} else if (detail && !o->quiet && o->tty) {
		printf("\r%s: %s %s\033[K", id, json_str(m, "status"), json_str(m, "progress"));
		strscpy(o->last_id, id, sizeof(o->last_id));
	} else if (detail && !o->quiet) {
		const cJSON *cur = cJSON_GetObjectItemCaseSensitive(detail, "current");
		const cJSON *tot = cJSON_GetObjectItemCaseSensitive(detail, "total");
		char sz[32];

		/* without a terminal: one line per layer, when it is in */
		if (cJSON_IsNumber(cur) && cJSON_IsNumber(tot) && cur->valuedouble >= tot->valuedouble) {
			units_human(tot->valuedouble, sz, sizeof(sz));
			printf("%s: Loading layer %s done\n", id, sz);
		}
	} else {
		if (o->tty && o->last_id[0])
			printf("\n");
		o->last_id[0] = '\0';
		fputs(json_str(m, "stream")[0] ? json_str(m, "stream") : json_str(m, "status"), stdout);
		if (!json_str(m, "stream")[0])
			putchar('\n');
	}
	fflush(stdout);
}

static ssize_t load_sink_write(void *cookie, const char *data, size_t len)
{
	struct load_out *o = cookie;

	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			if (o->len < (64u << 10)) {
				o->line = xrealloc(o->line, o->len + 2);
				o->line[o->len++] = data[i];
			}
			continue;
		}
		o->line = xrealloc(o->line, o->len + 1);
		o->line[o->len] = '\0';
		_cleanup_json_ cJSON *m = cJSON_Parse(o->line);
		if (m)
			load_message(o, m);
		o->len = 0;
	}
	return (ssize_t)len;
}

static int load_stream(const char *path, const char *file, bool quiet)
{
	cookie_io_functions_t io = { .write = load_sink_write };
	struct load_out out = { .tty = isatty(STDOUT_FILENO), .quiet = quiet };
	struct berr err = BERR_INIT;
	_cleanup_close_ int fd = -1;
	FILE *sink;
	int r;

	fd = file && strcmp(file, "-") ? open(file, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	if (fd < 0)
		return cli_fail("cannot read %s: %s", file ? file : "the standard input", strerror(errno));
	if (!file && isatty(fd))
		return cli_fail("requested load from stdin, but stdin is a terminal (use -i FILE)");
	sink = fopencookie(&out, "w", io);
	if (!sink)
		return cli_fail("cannot set up the output: %s", strerror(errno));
	setvbuf(sink, NULL, _IONBF, 0);
	r = client_upload("POST", path, fd, sink, &err);
	fclose(sink);
	free(out.line);
	if (r < 0)
		return cli_fail_err(&err);
	return out.failed ? 1 : 0;
}

static int image_load(int argc, char **argv)
{
	const char *input = NULL;
	bool quiet = false;
	const struct flag flags[] = {
		{ "input", 'i', FLAG_STR, &input, "FILE", "A docker save archive or an OCI image layout (tar, optionally gzip; default: stdin)" },
		{ "quiet", 'q', FLAG_BOOL, &quiet, NULL, "No progress, only the images loaded" },
		{ 0 },
	};
	const struct cmd_spec spec = { "image load", "[OPTIONS]",
				       "Load images from a docker save archive or an OCI image layout",
				       flags, false };
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 0, 0) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	return load_stream(quiet ? "/images/load?quiet=1" : "/images/load", input, quiet);
}

static int image_import(int argc, char **argv)
{
	const struct cmd_spec spec = { "image import", "NAME TARBALL|-",
				       "Import a rootfs tarball (plain or gzip) as image NAME", NULL,
				       false };
	_cleanup_free_ char *path = NULL;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 2, 2) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	path = cmd_path("/images/create?fromSrc=-&repo=", args.v[0], "");
	return load_stream(path, args.v[1], true);
}

/* ---- rm ---- */

static int image_rm_one(const char *name, bool force)
{
	_cleanup_free_ char *path = cmd_path("/images/", name, force ? "?force=1" : "");
	_cleanup_json_ cJSON *reply = NULL;
	struct berr err = BERR_INIT;
	const cJSON *it;

	if (client_json("DELETE", path, NULL, &reply, &err) < 0)
		return cli_fail_err(&err);
	cJSON_ArrayForEach(it, reply) {
		if (json_str(it, "Untagged")[0])
			printf("Untagged: %s\n", json_str(it, "Untagged"));
		if (json_str(it, "Deleted")[0])
			printf("Deleted: %s\n", json_str(it, "Deleted"));
	}
	fflush(stdout);
	return 0;
}

static int image_rm(int argc, char **argv)
{
	bool force = false;
	const struct flag flags[] = {
		{ "force", 'f', FLAG_BOOL, &force, NULL, "Untag even while a container uses the image (its files stay until it is removed)" },
		{ 0 },
	};
	const struct cmd_spec spec = { "image rm", "[OPTIONS] IMAGE [IMAGE...]",
				       "Remove one or more images", flags, false };
	struct args args;
	int r, failed = 0;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	for (int i = 0; i < args.n; i++)
		failed |= image_rm_one(args.v[i], force);
	return failed;
}

int cmd_image(int argc, char **argv)
{
	static const struct cmd_group_entry cmds[] = {
		{ "ls", image_ls, "List images" },
		{ "list", image_ls, NULL },
		{ "load", image_load, "Load images from a docker save archive or an OCI layout" },
		{ "import", image_import, "Import a rootfs tarball as an image" },
		{ "rm", image_rm, "Remove one or more images" },
		{ "remove", image_rm, NULL },
		{ 0 },
	};

	return cmd_group_dispatch("image", cmds, argc, argv);
}
