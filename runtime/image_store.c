/* SPDX-License-Identifier: Apache-2.0 */
/* The image store: references, tags (symlinks to content directories), resolution, listing. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/sha256.h"
#include "common/util.h"
#include "runtime/images.h"

#define CONTENT_PREFIX "sha256-"

/* ---- references ---- */

static bool ref_chars_ok(const char *ref)
{
	size_t len = strlen(ref);

	if (len == 0 || len >= RT_IMAGE_REF_MAX || ref[0] == '/' || ref[0] == '.' ||
	    ref[0] == ':' || strstr(ref, "..") || strstr(ref, "//"))
		return false;
	for (const char *p = ref; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._/:@-", *p))
			return false;
	return true;
}

int rt_image_ref_normalize(const char *ref, char *buf, size_t size, struct berr *err)
{
	const char *r = ref, *slash, *colon;

	if (!ref_chars_ok(ref))
		return berr_set(err, -EINVAL, "invalid reference format: \"%s\"", ref);
	if (!strncmp(r, "docker.io/library/", 18))
		r += 18;
	else if (!strncmp(r, "docker.io/", 10))
		r += 10;
	slash = strrchr(r, '/');
	colon = strrchr(r, ':');
	if (strchr(r, '@') || (colon && (!slash || colon > slash)))
		return strscpy(buf, r, size) < 0 ? berr_set(err, -ENAMETOOLONG, "reference too long")
						 : 0;
	if ((size_t)snprintf(buf, size, "%s:latest", r) >= size)
		return berr_set(err, -ENAMETOOLONG, "reference \"%s\" is too long", ref);
	return 0;
}

/* A name as a directory entry: [A-Za-z0-9._-] kept, any other byte as %XX. */
static void name_escape(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 4 < size; s++) {
		if (isalnum((unsigned char)*s) || strchr("._-", *s))
			out[n++] = *s;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", (unsigned char)*s);
	}
	out[n] = '\0';
}

static void name_unescape(const char *s, char *out, size_t size)
{
	size_t n = 0;
	unsigned v;

	for (; *s && n + 1 < size; s++) {
		if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			out[n++] = (char)v;
			s += 2;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

static bool content_dir_ok(const char *images_dir, const char *dir)
{
	_cleanup_free_ char *rootfs = xasprintf("%s/%s/rootfs", images_dir, dir);
	struct stat st;

	return dir[0] && dir[0] != '.' && !strchr(dir, '/') && stat(rootfs, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* The content directory an entry of images_dir stands for: a tag's target or itself. */
static int entry_target(const char *images_dir, const char *name, char ret[RT_IMAGE_DIR_MAX])
{
	_cleanup_free_ char *path = xasprintf("%s/%s", images_dir, name);
	struct stat st;
	ssize_t n;

	if (lstat(path, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(path, ret, RT_IMAGE_DIR_MAX - 1);
		if (n < 0)
			return -errno;
		ret[n] = '\0';
	} else if (strscpy(ret, name, RT_IMAGE_DIR_MAX) < 0) {
		return -ENAMETOOLONG;
	}
	return content_dir_ok(images_dir, ret) ? 0 : -ENOENT;
}

static bool hex_prefix(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n >= 4 && n <= 64 && !s[n];
}

/* An ID ("sha256:<hex>") or a unique prefix of one. */
static int resolve_id(const char *images_dir, const char *hex, char ret[RT_IMAGE_DIR_MAX],
		      struct berr *err)
{
	DIR *d = opendir(images_dir);
	struct dirent *e;
	int hits = 0;

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, CONTENT_PREFIX, strlen(CONTENT_PREFIX)) ||
		    strncmp(e->d_name + strlen(CONTENT_PREFIX), hex, strlen(hex)) ||
		    !content_dir_ok(images_dir, e->d_name))
			continue;
		if (hits++ == 0)
			strscpy(ret, e->d_name, RT_IMAGE_DIR_MAX);
	}
	if (d)
		closedir(d);
	if (hits == 1)
		return 0;
	if (hits > 1)
		return berr_set(err, -ENOENT, "image ID prefix \"%s\" is ambiguous", hex);
	return -ENOENT;
}

int rt_image_resolve(const char *images_dir, const char *ref, char ret_dir[RT_IMAGE_DIR_MAX],
		     struct berr *err)
{
	char norm[RT_IMAGE_REF_MAX + 8], esc[RT_IMAGE_DIR_MAX];
	int r;

	if (!ref_chars_ok(ref))
		return berr_set(err, -EINVAL, "invalid reference format: \"%s\"", ref);
	if (!strncmp(ref, "sha256:", 7) && hex_prefix(ref + 7))
		r = resolve_id(images_dir, ref + 7, ret_dir, err);
	else
		r = -ENOENT;
	if (r == -ENOENT) {
		name_escape(ref, esc, sizeof(esc));
		r = entry_target(images_dir, esc, ret_dir);
	}
	if (r == -ENOENT && rt_image_ref_normalize(ref, norm, sizeof(norm), NULL) == 0) {
		name_escape(norm, esc, sizeof(esc));
		r = entry_target(images_dir, esc, ret_dir);
	}
	if (r == -ENOENT && hex_prefix(ref))
		r = resolve_id(images_dir, ref, ret_dir, err);
	if (r == -ENOENT && (!err || !err->code))
		return berr_set(err, -ENOENT, "No such image: %s", ref);
	if (r < 0 && (!err || !err->code))
		return berr_errno(err, r, "looking up image %s", ref);
	return r;
}

int rt_image_dir_rootfs(const char *images_dir, const char *dir, char *buf, size_t size,
			struct berr *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/rootfs", images_dir, dir);

	if (!content_dir_ok(images_dir, dir))
		return berr_set(err, -ENOENT, "image %s is gone", dir);
	if (strscpy(buf, path, size) < 0)
		return berr_set(err, -ENAMETOOLONG, "image path %s is too long", path);
	return 0;
}

int rt_image_config(const char *images_dir, const char *dir, cJSON **ret, struct berr *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/config.json", images_dir, dir);
	_cleanup_free_ char *text = NULL;
	int r;

	*ret = NULL;
	r = read_file(path, 8u << 20, &text, NULL, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return berr_errno(err, r, "reading %s", path);
	*ret = cJSON_Parse(text);
	if (!cJSON_IsObject(*ret)) {
		cJSON_Delete(*ret);
		*ret = NULL;
		return berr_set(err, -EINVAL, "%s is not a JSON object", path);
	}
	return 0;
}

void rt_image_dir_id(const char *dir, char ret[RT_IMAGE_ID_LEN + 1])
{
	char hex[SHA256_HEX_LEN + 1];
	_cleanup_free_ char *salted = NULL;

	if (!strncmp(dir, CONTENT_PREFIX, strlen(CONTENT_PREFIX))) {
		snprintf(ret, RT_IMAGE_ID_LEN + 1, "sha256:%.64s", dir + strlen(CONTENT_PREFIX));
		return;
	}
	salted = xasprintf("berth-image:%s", dir);
	sha256_hex(salted, strlen(salted), hex);
	snprintf(ret, RT_IMAGE_ID_LEN + 1, "sha256:%s", hex);
}

/* ---- tags ---- */

int rt_image_tag(const char *images_dir, const char *ref, const char *dir,
		 char ret_old[RT_IMAGE_DIR_MAX], struct berr *err)
{
	char norm[RT_IMAGE_REF_MAX + 8], esc[RT_IMAGE_DIR_MAX];
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	int r;

	ret_old[0] = '\0';
	r = rt_image_ref_normalize(ref, norm, sizeof(norm), err);
	if (r < 0)
		return r;
	name_escape(norm, esc, sizeof(esc));
	path = xasprintf("%s/%s", images_dir, esc);
	if (entry_target(images_dir, esc, ret_old) < 0)
		ret_old[0] = '\0';
	tmp = xasprintf("%s/.tmp-tag-%s", images_dir, esc);
	unlink(tmp);
	if (symlink(dir, tmp) < 0)
		return berr_errno(err, -errno, "tagging %s", norm);
	if (rename(tmp, path) < 0) {
		r = berr_errno(err, -errno, "tagging %s (%s exists?)", norm, path);
		unlink(tmp);
		return r;
	}
	if (!strcmp(ret_old, dir))
		ret_old[0] = '\0';
	return 0;
}

int rt_image_untag(const char *images_dir, const char *ref, char ret_dir[RT_IMAGE_DIR_MAX],
		   struct berr *err)
{
	char norm[RT_IMAGE_REF_MAX + 8], esc[RT_IMAGE_DIR_MAX];
	_cleanup_free_ char *path = NULL;
	struct stat st;

	name_escape(ref, esc, sizeof(esc));
	if (entry_target(images_dir, esc, ret_dir) < 0) {
		if (rt_image_ref_normalize(ref, norm, sizeof(norm), err) < 0)
			return err->code;
		name_escape(norm, esc, sizeof(esc));
		if (entry_target(images_dir, esc, ret_dir) < 0)
			return berr_set(err, -ENOENT, "No such image: %s", ref);
	}
	path = xasprintf("%s/%s", images_dir, esc);
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && unlink(path) < 0)
		return berr_errno(err, -errno, "untagging %s", ref);
	return 0;   /* a plain-named image: its directory goes with its name (the caller's) */
}

bool rt_image_tagged(const char *images_dir, const char *dir)
{
	DIR *d = opendir(images_dir);
	struct dirent *e;
	char target[RT_IMAGE_DIR_MAX];
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		if (e->d_type == DT_LNK && e->d_name[0] != '.' &&
		    entry_target(images_dir, e->d_name, target) == 0 && !strcmp(target, dir))
			found = true;
	}
	if (d)
		closedir(d);
	return found;
}

/* ---- listing ---- */

static int64_t config_created(const cJSON *cfg, const char *path)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(cfg, "Created");
	struct tm tm = { 0 };
	struct stat st;

	if (cJSON_IsString(c) && strptime(c->valuestring, "%Y-%m-%dT%H:%M:%S", &tm))
		return (int64_t)timegm(&tm);
	return stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
}

static cJSON *list_entry(const char *images_dir, const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", images_dir, dir);
	cJSON *o = cJSON_CreateObject(), *cfg = NULL;
	const cJSON *size;
	char id[RT_IMAGE_ID_LEN + 1];

	rt_image_config(images_dir, dir, &cfg, NULL);
	rt_image_dir_id(dir, id);
	size = cJSON_GetObjectItemCaseSensitive(cfg, "Size");
	cJSON_AddStringToObject(o, "Id", id);
	cJSON_AddArrayToObject(o, "RepoTags");
	cJSON_AddNumberToObject(o, "Created", (double)config_created(cfg, path));
	cJSON_AddNumberToObject(o, "Size", cJSON_IsNumber(size) ? size->valuedouble : 0);
	cJSON_AddStringToObject(o, "Dir", dir);
	cJSON_Delete(cfg);
	return o;
}

static cJSON *list_find(cJSON *list, const char *dir)
{
	cJSON *o;

	cJSON_ArrayForEach(o, list)
		if (!strcmp(cJSON_GetObjectItemCaseSensitive(o, "Dir")->valuestring, dir))
			return o;
	return NULL;
}

cJSON *rt_image_list(const char *images_dir)
{
	cJSON *list = cJSON_CreateArray(), *o;
	DIR *d = opendir(images_dir);
	char target[RT_IMAGE_DIR_MAX], tag[RT_IMAGE_REF_MAX + 8];
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || entry_target(images_dir, e->d_name, target) < 0)
			continue;
		o = list_find(list, target);
		if (!o) {
			o = list_entry(images_dir, target);
			cJSON_AddItemToArray(list, o);
		}
		if (strncmp(e->d_name, CONTENT_PREFIX, strlen(CONTENT_PREFIX)) == 0)
			continue;   /* the content itself, not a name */
		name_unescape(e->d_name, tag, sizeof(tag));
		if (!strchr(tag, ':'))
			strncat(tag, ":latest", sizeof(tag) - strlen(tag) - 1);
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(o, "RepoTags"),
				     cJSON_CreateString(tag));
	}
	if (d)
		closedir(d);
	return list;
}
