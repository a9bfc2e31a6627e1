/* SPDX-License-Identifier: Apache-2.0 */
/* The image store under <images_dir> and loading images into it.
 *
 * Content: <images_dir>/sha256-<hex>/{rootfs/, config.json}: <hex> is the SHA-256 of the image's
 * config as the archive held it (Docker's image ID). Tags: <images_dir>/<escaped reference>, a
 * symlink to the content directory ("nginx:latest" is stored as nginx%3Alatest). Directories
 * holding a rootfs under a plain name (busybox, built by berth) are images of their own, with
 * no config. Loading never touches tags: the caller (berthd's manager, under its lock) tags what
 * rt_image_load() returns; content directories appear by rename, complete or not at all. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/error.h"

#define RT_IMAGE_REF_MAX 256
#define RT_IMAGE_ID_LEN 71            /* "sha256:" + 64 hex */
#define RT_IMAGE_DIR_MAX 128

/* ---- references ---- */

/* Checks a reference ([registry/]name[:tag], at most 255 characters of [A-Za-z0-9._/:@-]) and
 * writes its familiar, tagged form: "nginx" -> "nginx:latest", "docker.io/library/nginx:1"
 * -> "nginx:1". */
int rt_image_ref_normalize(const char *ref, char *buf, size_t size, struct berr *err);

/* The content directory (under images_dir) that ref names: a tag as given or normalized, a plain
 * directory (busybox), "sha256:<hex>" or an ID prefix of 4+ hex digits. -ENOENT with Docker's
 * message ("No such image: x") when none does. */
int rt_image_resolve(const char *images_dir, const char *ref, char ret_dir[RT_IMAGE_DIR_MAX],
		     struct berr *err);

/* The rootfs of a content directory, into buf. */
int rt_image_dir_rootfs(const char *images_dir, const char *dir, char *buf, size_t size,
			struct berr *err);

/* The image's config.json ({"Id", "Created", "Config": {Env, Cmd, Entrypoint, WorkingDir, User,
 * ExposedPorts, Labels}, "Size"}), or NULL with no error for a plain directory. */
int rt_image_config(const char *images_dir, const char *dir, cJSON **ret, struct berr *err);

/* Points tag (normalized) at dir, atomically (a symlink renamed over the old one). The directory
 * it pointed at before, if another, into ret_old ("" if none). */
int rt_image_tag(const char *images_dir, const char *ref, const char *dir,
		 char ret_old[RT_IMAGE_DIR_MAX], struct berr *err);
/* Removes a tag (or a plain-named image's name); the content stays. ret_dir: what it named. */
int rt_image_untag(const char *images_dir, const char *ref, char ret_dir[RT_IMAGE_DIR_MAX],
		   struct berr *err);
/* Whether any tag points at dir. */
bool rt_image_tagged(const char *images_dir, const char *dir);

/* Every image: [{"Id", "RepoTags": [...], "Created" (unix), "Size", "Dir"}], one per content
 * directory (untagged ones with RepoTags []). */
cJSON *rt_image_list(const char *images_dir);

/* "sha256:<hex>" of a content directory; for a plain one, the SHA-256 of its name. */
void rt_image_dir_id(const char *dir, char ret[RT_IMAGE_ID_LEN + 1]);

/* ---- loading ---- */

struct rt_load_progress {
	const char *id;               /* the layer's short digest (12 hex) */
	const char *status;           /* "Loading layer" */
	uint64_t current, total;      /* bytes of the layer read so far, of its size in the archive */
};

struct rt_load_opts {
	uint64_t bytes_max;           /* file data of one image, and a decompressed archive */
	uint64_t entries_max;
	/* Called as layers are read (at most every 64 KiB); < 0 stops the load. */
	int (*progress)(void *ud, const struct rt_load_progress *p);
	void *ud;
};

struct rt_loaded {
	char id[RT_IMAGE_ID_LEN + 1];
	char dir[RT_IMAGE_DIR_MAX];
	cJSON *tags;                  /* array of normalized references, owned */
	bool existed;                 /* the content was there already (nothing extracted) */
};

struct rt_load_result {
	struct rt_loaded *v;
	size_t n;
};
void rt_load_result_free(struct rt_load_result *r);

/* Loads every image of an archive (a `docker save` tar or an OCI image layout tar, optionally
 * gzip) into content directories. Layers are applied in order by runtime/layer.c; a Docker
 * layer must match its config's rootfs.diff_ids, an OCI blob its digest. Nothing is kept on
 * failure. Tags are left to the caller. */
int rt_image_load(const char *images_dir, const char *archive, const struct rt_load_opts *opts,
		  struct rt_load_result *ret, struct berr *err);

/* A rootfs tarball (plain or gzip) as a new image with an empty config (docker import). */
int rt_image_import_rootfs(const char *images_dir, const char *archive,
			   const struct rt_load_opts *opts, struct rt_loaded *ret, struct berr *err);
