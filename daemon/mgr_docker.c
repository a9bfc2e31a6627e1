/* SPDX-License-Identifier: Apache-2.0 */
/* What Docker clients need of the manager besides berth's own operations: the images (for
 * GET /images/json and the image IDs of containers) and a container's exit state (for the wait
 * conditions next-exit and removed). daemon/api_docker.c shapes the rest. */
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>

#include "daemon/http_util.h"
#include "daemon/mgr_internal.h"

#define IMAGE_BUSYBOX "busybox"

static char *images_dir(struct manager *m)
{
	return xasprintf("%s/images", m->root);
}

/* An image's identity: its name and its rootfs directory's inode and change time (a new import
 * under the same name is a new image), hashed to 64 hex digits. */
static void image_id(const char *name, const struct stat *st, char ret[MGR_IMAGE_ID_LEN])
{
	uint64_t seed = st ? ((uint64_t)st->st_ino << 32) ^ (uint64_t)st->st_ctim.tv_sec ^
				     (uint64_t)st->st_ctim.tv_nsec : 0;
	int k = snprintf(ret, MGR_IMAGE_ID_LEN, "sha256:");

	for (int i = 0; i < 4; i++) {
		seed = hash64(name, strlen(name), seed + (uint64_t)i);
		k += snprintf(ret + k, MGR_IMAGE_ID_LEN - (size_t)k, "%016llx",
			      (unsigned long long)seed);
	}
}

void mgr_image_id(struct manager *m, const char *name, char ret[MGR_IMAGE_ID_LEN])
{
	_cleanup_free_ char *dir = images_dir(m);
	_cleanup_free_ char *rootfs = xasprintf("%s/%s/rootfs", dir, name);
	struct stat st;

	image_id(name, stat(rootfs, &st) == 0 ? &st : NULL, ret);
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

/* One entry of GET /images/json in Docker's shape (API 1.41). */
static cJSON *image_json(const char *name, const char *rootfs)
{
	cJSON *o = cJSON_CreateObject(), *tags = cJSON_CreateArray();
	char id[MGR_IMAGE_ID_LEN];
	struct stat st;
	bool built = stat(rootfs, &st) == 0;
	double size = built ? (double)mgr_tree_size(rootfs) : 0;
	_cleanup_free_ char *tag = strchr(name, ':') ? xstrdup(name) : xasprintf("%s:latest", name);

	image_id(name, built ? &st : NULL, id);
	cJSON_AddNumberToObject(o, "Containers", -1);
	cJSON_AddNumberToObject(o, "Created", built ? (double)st.st_mtim.tv_sec : 0);
	cJSON_AddStringToObject(o, "Id", id);
	cJSON_AddNullToObject(o, "Labels");
	cJSON_AddStringToObject(o, "ParentId", "");
	cJSON_AddNullToObject(o, "RepoDigests");
	cJSON_AddItemToArray(tags, cJSON_CreateString(tag));
	cJSON_AddItemToObject(o, "RepoTags", tags);
	cJSON_AddNumberToObject(o, "SharedSize", -1);
	cJSON_AddNumberToObject(o, "Size", size);
	cJSON_AddNumberToObject(o, "VirtualSize", size);
	return o;
}

/* The images under <root>/images, and busybox (built on first use) even before it is. No
 * manager state is read: the lock is not needed. */
int mgr_image_list(struct manager *m, cJSON **ret, struct berr *err)
{
	_cleanup_free_ char *dir = images_dir(m);
	DIR *d = opendir(dir);
	bool busybox = false;
	struct dirent *e;
	cJSON *a;

	if (!d && errno != ENOENT)
		return berr_errno(err, -errno, "listing images in %s", dir);
	a = cJSON_CreateArray();
	while (d && (e = readdir(d))) {
		_cleanup_free_ char *rootfs = xasprintf("%s/%s/rootfs", dir, e->d_name);
		struct stat st;

		if (e->d_name[0] == '.' || stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		busybox |= !strcmp(e->d_name, IMAGE_BUSYBOX);
		cJSON_AddItemToArray(a, image_json(e->d_name, rootfs));
	}
	if (d)
		closedir(d);
	if (!busybox) {
		_cleanup_free_ char *rootfs = xasprintf("%s/" IMAGE_BUSYBOX "/rootfs", dir);

		cJSON_AddItemToArray(a, image_json(IMAGE_BUSYBOX, rootfs));
	}
	*ret = a;
	return 0;
}

/* The image ref names: its name, name:latest, its ID or a prefix of its ID's digits. */
static bool image_is(const char *name, const char *id, const char *ref)
{
	size_t n = strlen(name), len = strlen(ref);
	const char *hex = strncmp(ref, "sha256:", 7) ? ref : ref + 7;

	if (!strcmp(ref, name) || (!strncmp(ref, name, n) && !strcmp(ref + n, ":latest")))
		return true;
	return len >= 4 && strspn(hex, "0123456789abcdef") == strlen(hex) &&
	       !strncmp(id + 7, hex, strlen(hex));
}

static cJSON *image_inspect_json(const char *name, const char *rootfs)
{
	cJSON *sum = image_json(name, rootfs), *o = cJSON_CreateObject(), *g, *fs;
	const cJSON *created = cJSON_GetObjectItemCaseSensitive(sum, "Created");
	char when[40] = "0001-01-01T00:00:00Z";
	time_t t = (time_t)created->valuedouble;
	struct tm tm;

	if (t && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddItemToObject(o, "Id", cJSON_DetachItemFromObjectCaseSensitive(sum, "Id"));
	cJSON_AddItemToObject(o, "RepoTags", cJSON_DetachItemFromObjectCaseSensitive(sum, "RepoTags"));
	cJSON_AddArrayToObject(o, "RepoDigests");
	cJSON_AddStringToObject(o, "Parent", "");
	cJSON_AddStringToObject(o, "Comment", "");
	cJSON_AddStringToObject(o, "Created", when);
	cJSON_AddStringToObject(o, "Container", "");
	cJSON_AddStringToObject(o, "DockerVersion", "");
	cJSON_AddStringToObject(o, "Author", "");
	cJSON_AddNullToObject(o, "Config");
	cJSON_AddStringToObject(o, "Architecture", "amd64");
	cJSON_AddStringToObject(o, "Os", "linux");
	cJSON_AddItemToObject(o, "Size", cJSON_DetachItemFromObjectCaseSensitive(sum, "Size"));
	cJSON_AddItemToObject(o, "VirtualSize", cJSON_DetachItemFromObjectCaseSensitive(sum, "VirtualSize"));
	g = cJSON_AddObjectToObject(o, "GraphDriver");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(g, "Data"), "LowerDir", rootfs);
	cJSON_AddStringToObject(g, "Name", "overlay");
	fs = cJSON_AddObjectToObject(o, "RootFS");
	cJSON_AddStringToObject(fs, "Type", "layers");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "Metadata"), "LastTagTime", when);
	cJSON_Delete(sum);
	return o;
}

int mgr_image_inspect(struct manager *m, const char *ref, cJSON **ret, struct berr *err)
{
	_cleanup_json_ cJSON *list = NULL;
	_cleanup_free_ char *dir = images_dir(m);
	const cJSON *it;
	int r = mgr_image_list(m, &list, err);

	if (r < 0)
		return r;
	cJSON_ArrayForEach(it, list) {
		const cJSON *tag = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(it, "RepoTags"), 0);
		const char *id = cJSON_GetObjectItemCaseSensitive(it, "Id")->valuestring;
		_cleanup_free_ char *name = xstrdup(tag->valuestring);
		_cleanup_free_ char *rootfs = NULL;

		if (strlen(name) > 7 && !strcmp(name + strlen(name) - 7, ":latest"))
			name[strlen(name) - 7] = '\0';
		if (!image_is(name, id, ref))
			continue;
		rootfs = xasprintf("%s/%s/rootfs", dir, name);
		*ret = image_inspect_json(name, rootfs);
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
