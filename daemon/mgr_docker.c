/* SPDX-License-Identifier: Apache-2.0 */
/* What Docker clients need of the manager besides berth's own operations: image inspect in
 * Docker's shape and the image IDs of containers (the image store is runtime/images.h, listed by
 * daemon/mgr_image.c), and a container's exit state (for the wait conditions next-exit and
 * removed). daemon/api_docker.c shapes the rest. */
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/http_util.h"
#include "daemon/mgr_internal.h"
#include "runtime/images.h"

static char *images_dir(struct manager *m)
{
	return xasprintf("%s/images", m->root);
}

/* The ID of the image a container names: its content's, or (not in the store: a container
 * created before the image went) one derived from the name. */
void mgr_image_id(struct manager *m, const char *name, char ret[MGR_IMAGE_ID_LEN])
{
	_cleanup_free_ char *images = images_dir(m);
	char dir[RT_IMAGE_DIR_MAX];

	if (rt_image_resolve(images, name, dir, NULL) < 0)
		strscpy(dir, name, sizeof(dir));
	rt_image_dir_id(dir, ret);
}

static __thread uint64_t image_bytes;   /* nftw has no user pointer */

static int image_size_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_F || flag == FTW_SL)
		image_bytes += (uint64_t)st->st_size;
	return 0;
}

uint64_t mgr_tree_size(const char *path)
{
	image_bytes = 0;
	nftw(path, image_size_one, 32, FTW_PHYS | FTW_MOUNT);
	return image_bytes;
}

static void rfc3339_of(double unix_s, char buf[40])
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	strscpy(buf, "0001-01-01T00:00:00Z", 40);
	if (t > 0 && gmtime_r(&t, &tm))
		strftime(buf, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Docker's image inspect of one entry of the store's list, its rootfs and its config. */
static cJSON *image_inspect_json(cJSON *entry, const char *rootfs, cJSON *cfg)
{
	cJSON *o = cJSON_CreateObject(), *g, *fs, *conf;
	char when[40];

	rfc3339_of(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(entry, "Created")), when);
	cJSON_AddItemToObject(o, "Id", cJSON_DetachItemFromObjectCaseSensitive(entry, "Id"));
	cJSON_AddItemToObject(o, "RepoTags",
			      cJSON_DetachItemFromObjectCaseSensitive(entry, "RepoTags"));
	cJSON_AddArrayToObject(o, "RepoDigests");
	cJSON_AddStringToObject(o, "Parent", "");
	cJSON_AddStringToObject(o, "Comment", "");
	cJSON_AddStringToObject(o, "Created", when);
	cJSON_AddStringToObject(o, "Container", "");
	cJSON_AddStringToObject(o, "DockerVersion", "");
	cJSON_AddStringToObject(o, "Author", "");
	conf = cJSON_DetachItemFromObjectCaseSensitive(cfg, "Config");
	cJSON_AddItemToObject(o, "Config", conf ? conf : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "Architecture", "amd64");
	cJSON_AddStringToObject(o, "Os", "linux");
	cJSON_AddItemToObject(o, "Size", cJSON_DetachItemFromObjectCaseSensitive(entry, "Size"));
	cJSON_AddNumberToObject(o, "VirtualSize",
				cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "Size")));
	g = cJSON_AddObjectToObject(o, "GraphDriver");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(g, "Data"), "LowerDir", rootfs);
	cJSON_AddStringToObject(g, "Name", "overlay");
	fs = cJSON_AddObjectToObject(o, "RootFS");
	cJSON_AddStringToObject(fs, "Type", "layers");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "Metadata"), "LastTagTime", when);
	return o;
}

/* By tag, name, "sha256:<id>" or an ID prefix (rt_image_resolve). */
int mgr_image_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err)
{
	_cleanup_free_ char *images = images_dir(m);
	_cleanup_json_ cJSON *list = NULL, *cfg = NULL;
	char dir[RT_IMAGE_DIR_MAX], rootfs[4096];
	cJSON *it;
	int r;

	r = rt_image_resolve(images, ref, dir, err);
	if (r >= 0)
		r = rt_image_dir_rootfs(images, dir, rootfs, sizeof(rootfs), err);
	if (r >= 0)
		r = rt_image_config(images, dir, &cfg, err);
	if (r < 0)
		return r;
	list = rt_image_list(images);
	cJSON_ArrayForEach(it, list)
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "Dir")), dir)) {
			*ret = image_inspect_json(it, rootfs, cfg);
			return 0;
		}
	return berr_set(err, -ENOENT, "No such image: %s", ref);
}

int mgr_container_state(struct manager *m, const char *id, struct mgr_ctr_state *ret)
{
	struct ctr_entry *c;

	memset(ret, 0, sizeof(*ret));
	pthread_mutex_lock(&m->lock);
	c = mgr_ctr_by_id(m, id);
	if (c) {
		ret->exists = true;
		ret->running = c->c.state == CTR_RUNNING;
		ret->exits = c->exits;
		ret->exit_code = c->c.exit_code;
	} else if (!strcmp(m->last_exit_id, id)) {
		ret->exit_code = m->last_exit_code;
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}
