/* SPDX-License-Identifier: Apache-2.0 */
/* Images seen from the manager: a container's image resolved at create (its content directory
 * kept in extra.ImageID, so a later load that moves the tag never changes a container's lower
 * layer) and its config honoured (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts); load,
 * import, list and remove. Extraction runs without the manager lock; tags change under it (a
 * rename), and content no tag and no container uses goes to the trash. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "daemon/mgr_internal.h"
#include "runtime/images.h"
#include "runtime/runtime.h"

#define IMAGE_BYTES_MAX_DEFAULT (16ULL << 30)
#define IMAGE_ENTRIES_MAX_DEFAULT 1000000ULL

static char *images_dir(struct manager *m)
{
	return xasprintf("%s/images", m->root);
}

/* $BERTH_IMAGE_MAX_BYTES / $BERTH_IMAGE_MAX_ENTRIES (tests lower them). */
static uint64_t env_limit(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	unsigned long long n = v ? strtoull(v, NULL, 10) : 0;

	return n ? n : def;
}

uint64_t mgr_image_bytes_max(void)
{
	return env_limit("BERTH_IMAGE_MAX_BYTES", IMAGE_BYTES_MAX_DEFAULT);
}

static const char *extra_str(const struct bcontainer *c, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->extra, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- a container's image ---- */

/* Env: the image's (less the keys the request sets again), then the request's. */
static cJSON *env_merge(const cJSON *env, const cJSON *image_env)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *it, *mine;

	cJSON_ArrayForEach(it, image_env) {
		const char *eq = cJSON_IsString(it) ? strchr(it->valuestring, '=') : NULL;
		bool overridden = false;

		if (!eq)
			continue;
		cJSON_ArrayForEach(mine, env)
			if (!strncmp(mine->valuestring, it->valuestring,
				     (size_t)(eq - it->valuestring) + 1))
				overridden = true;
		if (!overridden)
			cJSON_AddItemToArray(out, cJSON_CreateString(it->valuestring));
	}
	cJSON_ArrayForEach(mine, env)
		cJSON_AddItemToArray(out, cJSON_Duplicate(mine, 1));
	return out;
}

static void extra_set_str(cJSON *extra, const char *key, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(extra, key);
	if (v && *v)
		cJSON_AddStringToObject(extra, key, v);
}

/* Docker's rules: an Entrypoint in the request drops the image's Cmd; a Cmd in the request
 * replaces the image's. Without any, berth runs "sh" (busybox has no config). */
static int command_merge(struct bcontainer *c, const cJSON *req, const cJSON *img,
			 struct berr *err)
{
	const cJSON *ep_req = cJSON_GetObjectItemCaseSensitive(req, "Entrypoint");
	const cJSON *ep_img = cJSON_GetObjectItemCaseSensitive(img, "Entrypoint");
	const cJSON *cmd_img = cJSON_GetObjectItemCaseSensitive(img, "Cmd");
	cJSON *ep = NULL;
	int r;

	if (cJSON_IsString(ep_req)) {   /* Docker takes a string too */
		ep = cJSON_CreateArray();
		if (*ep_req->valuestring)
			cJSON_AddItemToArray(ep, cJSON_CreateString(ep_req->valuestring));
	} else {
		r = json_string_array(req, "Entrypoint", &ep, err);
		if (r < 0)
			return r;
	}
	if (ep_req && !cJSON_IsNull(ep_req)) {
		cmd_img = NULL;
	} else if (cJSON_IsArray(ep_img)) {
		cJSON_Delete(ep);
		ep = cJSON_Duplicate(ep_img, 1);
	}
	if (cJSON_GetArraySize(c->cmd) == 0 && cJSON_IsArray(cmd_img)) {
		cJSON_Delete(c->cmd);
		c->cmd = cJSON_Duplicate(cmd_img, 1);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(c->extra, "Entrypoint");
	if (cJSON_GetArraySize(ep) > 0)
		cJSON_AddItemToObject(c->extra, "Entrypoint", ep);
	else
		cJSON_Delete(ep);
	if (cJSON_GetArraySize(c->cmd) == 0 && cJSON_GetArraySize(ep) == 0)
		cJSON_AddItemToArray(c->cmd, cJSON_CreateString("sh"));
	return 0;
}

/* -P: every exposed port not bound yet gets a binding to an ephemeral host port. */
static void ports_publish_all(cJSON *extra)
{
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(extra, "ExposedPorts"), *p;
	cJSON *bindings;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(extra, "PublishAllPorts")) ||
	    !cJSON_IsObject(ports))
		return;
	bindings = cJSON_GetObjectItemCaseSensitive(extra, "PortBindings");
	if (!cJSON_IsObject(bindings)) {
		cJSON_DeleteItemFromObjectCaseSensitive(extra, "PortBindings");
		bindings = cJSON_AddObjectToObject(extra, "PortBindings");
	}
	cJSON_ArrayForEach(p, ports) {
		cJSON *b;

		if (cJSON_GetObjectItemCaseSensitive(bindings, p->string))
			continue;
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "HostIp", "");
		cJSON_AddStringToObject(b, "HostPort", "");
		cJSON_AddItemToArray(cJSON_AddArrayToObject(bindings, p->string), b);
	}
}

/* ExposedPorts: the image's and the request's (-P publishes them all). */
static void ports_merge(cJSON *extra, const cJSON *img)
{
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(img, "ExposedPorts"), *p;
	cJSON *mine = cJSON_GetObjectItemCaseSensitive(extra, "ExposedPorts");

	if (!cJSON_IsObject(ports) || !ports->child)
		return;
	if (!cJSON_IsObject(mine)) {
		cJSON_DeleteItemFromObjectCaseSensitive(extra, "ExposedPorts");
		mine = cJSON_AddObjectToObject(extra, "ExposedPorts");
	}
	cJSON_ArrayForEach(p, ports)
		if (!cJSON_GetObjectItemCaseSensitive(mine, p->string))
			cJSON_AddObjectToObject(mine, p->string);
}

static int config_merge(struct bcontainer *c, const cJSON *req, const cJSON *cfg,
			struct berr *err)
{
	const cJSON *img = cJSON_GetObjectItemCaseSensitive(cfg, "Config");
	const char *wd = NULL, *user = NULL;
	const cJSON *v;
	cJSON *env;
	int r;

	r = json_string_member(req, "WorkingDir", &wd, err);
	if (r >= 0)
		r = json_string_member(req, "User", &user, err);
	if (r >= 0)
		r = command_merge(c, req, img, err);
	if (r < 0)
		return r;
	if (wd && *wd && wd[0] != '/')
		return berr_set(err, -EINVAL, "the working directory '%s' is invalid, it needs to be "
				"an absolute path", wd);
	env = env_merge(c->env, cJSON_GetObjectItemCaseSensitive(img, "Env"));
	cJSON_Delete(c->env);
	c->env = env;
	v = cJSON_GetObjectItemCaseSensitive(img, "WorkingDir");
	extra_set_str(c->extra, "WorkingDir", wd && *wd ? wd : cJSON_IsString(v) ? v->valuestring : NULL);
	v = cJSON_GetObjectItemCaseSensitive(img, "User");
	extra_set_str(c->extra, "User", user && *user ? user : cJSON_IsString(v) ? v->valuestring : NULL);
	ports_merge(c->extra, img);
	ports_publish_all(c->extra);
	return 0;
}

/* busybox, busybox:latest, docker.io/library/busybox[:latest]: the built-in image, unless an
 * image of that tagged name was loaded (Docker's clients always send a tag). */
static bool image_is_builtin(const char *dir, const char *ref)
{
	char norm[RT_IMAGE_REF_MAX + 8], content[RT_IMAGE_DIR_MAX];

	if (rt_image_ref_normalize(ref, norm, sizeof(norm), NULL) < 0 ||
	    strcmp(norm, "busybox:latest") != 0)
		return false;
	return !strcmp(ref, "busybox") || rt_image_resolve(dir, ref, content, NULL) < 0;
}

int mgr_ctr_image_apply(struct manager *m, struct bcontainer *c, const cJSON *req,
			struct berr *err)
{
	_cleanup_free_ char *dir = images_dir(m);
	char content[RT_IMAGE_DIR_MAX];
	cJSON *cfg = NULL;
	int r;

	if (image_is_builtin(dir, c->image)) {
		strscpy(c->image, "busybox", sizeof(c->image));
		if (rt_image_resolve(dir, "busybox", content, NULL) < 0)
			strscpy(content, "busybox", sizeof(content));   /* built on first start */
	} else if (rt_image_resolve(dir, c->image, content, err) < 0)
		return err->code;
	r = rt_image_config(dir, content, &cfg, err);
	if (r >= 0)
		r = config_merge(c, req, cfg, err);
	cJSON_Delete(cfg);
	if (r < 0)
		return r;
	extra_set_str(c->extra, "ImageID", content);
	return 0;
}

/* The content directory a container runs on (containers from before extra.ImageID: its name). */
static const char *ctr_image_dir(const struct bcontainer *c)
{
	const char *id = extra_str(c, "ImageID");

	return id ? id : c->image;
}

int mgr_ctr_image_rootfs(struct manager *m, const struct bcontainer *c, char *buf, size_t size,
			 struct berr *err)
{
	_cleanup_free_ char *dir = images_dir(m);

	return rt_image_dir_rootfs(dir, ctr_image_dir(c), buf, size, err);
}

cJSON *mgr_ctr_argv(const struct bcontainer *c)
{
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(c->extra, "Entrypoint"), *it;
	cJSON *argv = cJSON_IsArray(ep) ? cJSON_Duplicate(ep, 1) : cJSON_CreateArray();

	cJSON_ArrayForEach(it, c->cmd)
		cJSON_AddItemToArray(argv, cJSON_Duplicate(it, 1));
	return argv;
}

void mgr_ctr_image_spec(const struct bcontainer *c, const char **ret_workdir,
			const char **ret_user)
{
	*ret_workdir = extra_str(c, "WorkingDir");
	*ret_user = extra_str(c, "User");
}

void mgr_render_image_config(cJSON *config, const struct bcontainer *c)
{
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(c->extra, "Entrypoint");
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(c->extra, "ExposedPorts");
	const char *wd = extra_str(c, "WorkingDir"), *user = extra_str(c, "User");
	char id[RT_IMAGE_ID_LEN + 1];

	cJSON_AddItemToObject(config, "Entrypoint", ep ? cJSON_Duplicate(ep, 1) : cJSON_CreateNull());
	cJSON_AddStringToObject(config, "WorkingDir", wd ? wd : "");
	cJSON_AddStringToObject(config, "User", user ? user : "");
	if (ports && !cJSON_GetObjectItemCaseSensitive(config, "ExposedPorts"))
		cJSON_AddItemToObject(config, "ExposedPorts", cJSON_Duplicate(ports, 1));
	rt_image_dir_id(ctr_image_dir(c), id);
	cJSON_AddStringToObject(config, "ImageID", id);
}

/* ---- images in use ---- */

static struct ctr_entry *image_user(struct manager *m, const char *dir)
{
	for (size_t i = 0; i < m->ctrs.n; i++)
		if (!strcmp(ctr_image_dir(&m->ctrs.v[i]->c), dir))
			return m->ctrs.v[i];
	return NULL;
}

/* Content nothing names or uses any more goes to the trash (lock held). */
static bool image_collect(struct manager *m, const char *images, const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", images, dir);

	if (!dir[0] || image_user(m, dir) || rt_image_tagged(images, dir))
		return false;
	mgr_tree_discard(m, path);
	return true;
}

int mgr_image_remove(struct manager *m, const char *ref, bool force, cJSON **ret,
		     struct berr *err)
{
	_cleanup_free_ char *dir = images_dir(m);
	char content[RT_IMAGE_DIR_MAX], id[RT_IMAGE_ID_LEN + 1];
	struct ctr_entry *user;
	int r;

	pthread_mutex_lock(&m->lock);
	r = rt_image_resolve(dir, ref, content, err);
	user = r >= 0 ? image_user(m, content) : NULL;
	rt_image_dir_id(content, id);
	if (r >= 0 && user && !force)
		r = berr_set(err, -EBUSY, "conflict: unable to remove repository reference \"%s\" "
			     "(must force) - container %.12s is using its referenced image %.12s",
			     ref, user->c.id, id + 7);
	if (r >= 0)
		r = rt_image_untag(dir, ref, content, err);
	if (r >= 0) {
		*ret = cJSON_CreateArray();
		cJSON_AddItemToArray(*ret, cJSON_CreateObject());
		cJSON_AddStringToObject(cJSON_GetArrayItem(*ret, 0), "Untagged", ref);
		mgr_event_image(m, ref, id, "untag");
		if (image_collect(m, dir, content)) {
			cJSON *d = cJSON_CreateObject();

			cJSON_AddStringToObject(d, "Deleted", id);
			cJSON_AddItemToArray(*ret, d);
			mgr_event_image(m, ref, id, "delete");
		}
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* The rest of an entry of GET /images/json as Docker (API 1.41) writes it. */
static void image_docker_fields(cJSON *it)
{
	cJSON_AddStringToObject(it, "ParentId", "");
	cJSON_AddArrayToObject(it, "RepoDigests");
	cJSON_AddNumberToObject(it, "Containers", -1);
	cJSON_AddNullToObject(it, "Labels");
	cJSON_AddNumberToObject(it, "SharedSize", -1);
	cJSON_AddNumberToObject(it, "VirtualSize",
				cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "Size")));
}

int mgr_image_list(struct manager *m, cJSON **ret, struct berr *err)
{
	_cleanup_free_ char *dir = images_dir(m);
	cJSON *it;

	bool busybox = false;
	char id[RT_IMAGE_ID_LEN + 1];

	*ret = rt_image_list(dir);
	cJSON_ArrayForEach(it, *ret) {
		const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "Dir"));

		busybox |= d && !strcmp(d, "busybox");
		cJSON_DeleteItemFromObjectCaseSensitive(it, "Dir");
		image_docker_fields(it);
	}
	if (!busybox) {   /* built on first use: listed before, as an image one can run */
		it = cJSON_CreateObject();
		rt_image_dir_id("busybox", id);
		cJSON_AddStringToObject(it, "Id", id);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(it, "RepoTags"),
				     cJSON_CreateString("busybox:latest"));
		cJSON_AddNumberToObject(it, "Created", 0);
		cJSON_AddNumberToObject(it, "Size", 0);
		image_docker_fields(it);
		cJSON_AddItemToArray(*ret, it);
	}
	return 0;
}

/* ---- load, import ---- */

/* Tags what was loaded (lock held); a tag moved off another image may free that one. */
static void loaded_tag(struct manager *m, const char *images, const struct rt_loaded *l,
		       const char *action, cJSON *messages)
{
	char old[RT_IMAGE_DIR_MAX];
	struct berr e2 = BERR_INIT;
	const cJSON *t;

	cJSON_ArrayForEach(t, l->tags) {
		if (rt_image_tag(images, t->valuestring, l->dir, old, &e2) < 0) {
			blog_warn("image %s: %s", l->id, berr_str(&e2));
			berr_clear(&e2);
			continue;
		}
		cJSON_AddItemToArray(messages, cJSON_CreateString(t->valuestring));
		mgr_event_image(m, t->valuestring, l->id, action);
		image_collect(m, images, old);
	}
	if (cJSON_GetArraySize(l->tags) == 0) {
		cJSON_AddItemToArray(messages, cJSON_CreateString(l->id));
		mgr_event_image(m, l->id, l->id, action);
	}
}

static void load_opts(struct rt_load_opts *o, int (*progress)(void *, const struct rt_load_progress *),
		      void *ud)
{
	o->bytes_max = mgr_image_bytes_max();
	o->entries_max = env_limit("BERTH_IMAGE_MAX_ENTRIES", IMAGE_ENTRIES_MAX_DEFAULT);
	o->progress = progress;
	o->ud = ud;
}

int mgr_image_load(struct manager *m, const char *archive,
		   int (*progress)(void *, const struct rt_load_progress *), void *ud,
		   cJSON **ret_names, struct berr *err)
{
	_cleanup_free_ char *dir = images_dir(m);
	struct rt_load_result res;
	struct rt_load_opts o;
	int r;

	load_opts(&o, progress, ud);
	r = rt_image_load(dir, archive, &o, &res, err);   /* no lock: this takes a while */
	if (r < 0)
		return r;
	*ret_names = cJSON_CreateArray();
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < res.n; i++)
		loaded_tag(m, dir, &res.v[i], "load", *ret_names);
	/* an untagged load that existed already and is unused: nothing to keep for it */
	pthread_mutex_unlock(&m->lock);
	rt_load_result_free(&res);
	return 0;
}

int mgr_image_import(struct manager *m, const char *archive, const char *ref,
		     int (*progress)(void *, const struct rt_load_progress *), void *ud,
		     cJSON **ret_names, struct berr *err)
{
	_cleanup_free_ char *dir = images_dir(m);
	char norm[RT_IMAGE_REF_MAX + 8];
	struct rt_loaded l;
	struct rt_load_opts o;
	int r;

	if (ref && *ref && rt_image_ref_normalize(ref, norm, sizeof(norm), err) < 0)
		return err->code;
	load_opts(&o, progress, ud);
	r = rt_image_import_rootfs(dir, archive, &o, &l, err);
	if (r < 0) {
		cJSON_Delete(l.tags);
		return r;
	}
	if (ref && *ref)
		cJSON_AddItemToArray(l.tags, cJSON_CreateString(norm));
	*ret_names = cJSON_CreateArray();
	pthread_mutex_lock(&m->lock);
	loaded_tag(m, dir, &l, "import", *ret_names);
	pthread_mutex_unlock(&m->lock);
	cJSON_Delete(l.tags);
	return 0;
}

int mgr_image_upload_file(struct manager *m, char **ret_path, struct berr *err)
{
	_cleanup_free_ char *dir = images_dir(m);
	char *path;
	int fd, r;

	r = mkdir_p(dir, 0755, err);
	if (r < 0)
		return r;
	path = xasprintf("%s/.tmp-upload-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		r = berr_errno(err, -errno, "creating %s", path);
		free(path);
		return r;
	}
	*ret_path = path;
	return fd;
}

/* What a crash left in the image store: unfinished loads, uploads, tags being made. */
void mgr_images_sweep(struct manager *m)
{
	_cleanup_free_ char *dir = images_dir(m);
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);

		if (!strncmp(e->d_name, ".tmp-load-", 10) || !strncmp(e->d_name, ".tmp-import-", 12))
			mgr_tree_discard(m, p);
		else if (!strncmp(e->d_name, ".tmp-upload-", 12) || !strncmp(e->d_name, ".tmp-tag-", 9) ||
			 !strncmp(e->d_name, ".tmp-inflate-", 13))
			unlink(p);
	}
	if (d)
		closedir(d);
}
