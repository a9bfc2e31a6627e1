/* SPDX-License-Identifier: Apache-2.0 */
/* Loading `docker save` archives and OCI image layouts. The archive (a file the caller wrote;
 * gzip is inflated to a second file first) is indexed once; manifests and configs are read by
 * name, layers streamed from their place in the file through: digest of the stored bytes (OCI
 * blobs) -> gzip when compressed -> digest and size of the tar (Docker diff_ids, the size
 * limit) -> runtime/tar.c -> runtime/layer.c into a temporary directory, renamed into place
 * once every layer is in. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "common/sha256.h"
#include "common/util.h"
#include "runtime/images.h"
#include "runtime/internal.h"
#include "runtime/layer.h"
#include "runtime/tar.h"

#define INDEX_MAX 100000          /* members of an archive */
#define MEMBER_JSON_MAX (8u << 20)  /* a manifest, index or config */
#define IMAGES_MAX 64
#define LAYERS_MAX 256
#define TAGS_MAX 64
#define GZ_BUF (64u << 10)
#define PROGRESS_STEP (64u << 10)

static void json_freep(cJSON **p)
{
	cJSON_Delete(*p);
}

/* ---- byte sources (tar_read_fn) ---- */

struct region_src {
	int fd;
	uint64_t off, left;
};

static ssize_t region_read(void *ud, void *buf, size_t len)
{
	struct region_src *s = ud;
	ssize_t n;

	if (len > s->left)
		len = (size_t)s->left;
	if (len == 0)
		return 0;
	do
		n = pread(s->fd, buf, len, (off_t)s->off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	s->off += (uint64_t)n;
	s->left -= (uint64_t)n;
	return n;
}

/* Counts and hashes what passes; refuses more than limit (0: none); reports progress. */
struct meter_src {
	tar_read_fn in;
	void *in_ud;
	struct sha256 h;
	uint64_t n, limit, reported, total;
	const struct rt_load_opts *opts;
	const char *id;
};

static ssize_t meter_read(void *ud, void *buf, size_t len)
{
	struct meter_src *m = ud;
	ssize_t n = m->in(m->in_ud, buf, len);
	struct rt_load_progress p;

	if (n <= 0)
		return n;
	sha256_update(&m->h, buf, (size_t)n);
	m->n += (uint64_t)n;
	if (m->limit && m->n > m->limit)
		return -EFBIG;
	if (m->opts && m->opts->progress && m->n - m->reported >= PROGRESS_STEP) {
		m->reported = m->n;
		p = (struct rt_load_progress){ m->id, "Loading layer", m->n, m->total };
		if (m->opts->progress(m->opts->ud, &p) < 0)
			return -ECANCELED;
	}
	return n;
}

struct gz_src {
	tar_read_fn in;
	void *in_ud;
	z_stream z;
	uint8_t buf[GZ_BUF];
	bool in_eof, done;
};

static ssize_t gz_read(void *ud, void *out, size_t len)
{
	struct gz_src *g = ud;

	g->z.next_out = out;
	g->z.avail_out = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
	while (g->z.avail_out == (uInt)len && !g->done) {
		int zr;

		if (g->z.avail_in == 0 && !g->in_eof) {
			ssize_t n = g->in(g->in_ud, g->buf, sizeof(g->buf));

			if (n < 0)
				return n;
			g->in_eof = n == 0;
			g->z.next_in = g->buf;
			g->z.avail_in = (uInt)n;
		}
		zr = inflate(&g->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* another gzip member may follow (concatenated files) */
			if (g->z.avail_in == 0 && !g->in_eof) {
				ssize_t n = g->in(g->in_ud, g->buf, sizeof(g->buf));

				if (n < 0)
					return n;
				g->in_eof = n == 0;
				g->z.next_in = g->buf;
				g->z.avail_in = (uInt)n;
			}
			if (g->z.avail_in == 0)
				g->done = true;
			else if (inflateReset(&g->z) != Z_OK)
				return -EIO;
		} else if (zr == Z_BUF_ERROR && g->in_eof && g->z.avail_in == 0) {
			return -EPIPE;   /* truncated */
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return -EBADMSG;
		}
	}
	return (ssize_t)(len - g->z.avail_out);
}

static int gz_init(struct gz_src *g, tar_read_fn in, void *in_ud)
{
	memset(g, 0, sizeof(*g));
	g->in = in;
	g->in_ud = in_ud;
	return inflateInit2(&g->z, 15 + 16) == Z_OK ? 0 : -ENOMEM;
}

static bool region_gzipped(int fd, uint64_t off)
{
	uint8_t m[2];

	return pread(fd, m, 2, (off_t)off) == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

/* ---- the archive: a plain tar file, indexed ---- */

struct member {
	char *name;            /* cleaned ("a/b") */
	char *link;            /* symlink target, else NULL */
	uint64_t off, size;
};

struct archive {
	int fd;
	struct member *v;
	size_t n;
};

static void archive_free(struct archive *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].link);
	}
	free(a->v);
	if (a->fd >= 0)
		close(a->fd);
}

static int archive_index(struct archive *a, struct berr *err)
{
	struct stat st;
	struct region_src src = { .fd = a->fd };
	struct tar_reader t;
	const struct tar_entry *e;
	char name[TAR_NAME_MAX + 1];
	int r;

	if (fstat(a->fd, &st) < 0)
		return berr_errno(err, -errno, "reading the archive");
	src.left = (uint64_t)st.st_size;
	tar_reader_init(&t, region_read, &src);
	while ((r = tar_next(&t, &e, err)) > 0) {
		if (e->type != TAR_FILE && e->type != TAR_SYMLINK)
			continue;
		if (a->n == INDEX_MAX)
			return berr_set(err, -EFBIG, "the archive has more than %d members", INDEX_MAX);
		if (layer_path_clean(e->name, name, sizeof(name), err) < 0)
			return berr_prefix(err, "the archive");
		a->v = xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
		a->v[a->n++] = (struct member){ xstrdup(name),
						e->type == TAR_SYMLINK ? xstrdup(e->linkname) : NULL,
						t.offset, e->size };
	}
	return r < 0 ? berr_prefix(err, "not a tar archive") : 0;
}

static const struct member *member_lookup(const struct archive *a, const char *name)
{
	char clean[TAR_NAME_MAX + 1], next[2 * TAR_NAME_MAX + 2];

	if (layer_path_clean(name, clean, sizeof(clean), NULL) < 0)
		return NULL;
	for (int hops = 0; hops < 8; hops++) {
		const struct member *m = NULL;
		char *slash;

		for (size_t i = 0; i < a->n && !m; i++)
			if (!strcmp(a->v[i].name, clean))
				m = &a->v[i];
		if (!m || !m->link)
			return m;
		/* docker save links identical layers: "x/layer.tar -> ../y/layer.tar" */
		slash = strrchr(clean, '/');
		snprintf(next, sizeof(next), "%.*s%s%s", slash ? (int)(slash - clean) : 0, clean,
			 slash ? "/" : "", m->link);
		if (m->link[0] == '/' || layer_path_clean(next, clean, sizeof(clean), NULL) < 0)
			return NULL;
	}
	return NULL;
}

/* A JSON member, parsed; raw text too when ret_text is set. */
static int member_json(const struct archive *a, const char *name, cJSON **ret, char **ret_text,
		       struct berr *err)
{
	const struct member *m = member_lookup(a, name);
	struct region_src src;
	char *text;
	ssize_t n;

	if (!m)
		return berr_set(err, -ENOENT, "the archive has no %s", name);
	if (m->size > MEMBER_JSON_MAX)
		return berr_set(err, -EFBIG, "%s is larger than %u bytes", name, MEMBER_JSON_MAX);
	src = (struct region_src){ a->fd, m->off, m->size };
	text = xmalloc((size_t)m->size + 1);
	n = region_read(&src, text, (size_t)m->size);
	if (n != (ssize_t)m->size) {
		free(text);
		return berr_set(err, -EIO, "reading %s from the archive", name);
	}
	text[n] = '\0';
	*ret = cJSON_ParseWithLength(text, (size_t)n);
	if (!*ret) {
		free(text);
		return berr_set(err, -EINVAL, "%s is not valid JSON", name);
	}
	if (ret_text)
		*ret_text = text;
	else
		free(text);
	return 0;
}

/* ---- plans: what each image is made of ---- */

struct plan_layer {
	const struct member *m;
	char diff_id[SHA256_HEX_LEN + 1];   /* expected digest of the tar, "" if unknown */
	char blob[SHA256_HEX_LEN + 1];      /* expected digest of the stored bytes, "" if none */
};

struct plan {
	char id[SHA256_HEX_LEN + 1];
	cJSON *config;
	cJSON *tags;
	struct plan_layer layers[LAYERS_MAX];
	size_t n_layers;
};

struct plans {
	struct plan *v;
	size_t n;
};

static void plans_free(struct plans *p)
{
	for (size_t i = 0; i < p->n; i++) {
		cJSON_Delete(p->v[i].config);
		cJSON_Delete(p->v[i].tags);
	}
	free(p->v);
}

static struct plan *plan_new(struct plans *p, struct berr *err)
{
	if (p->n == IMAGES_MAX) {
		berr_set(err, -EFBIG, "the archive holds more than %d images", IMAGES_MAX);
		return NULL;
	}
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	memset(&p->v[p->n], 0, sizeof(p->v[0]));
	p->v[p->n].tags = cJSON_CreateArray();
	return &p->v[p->n++];
}

/* "sha256:<64 hex>" -> hex; else -EINVAL. */
static int digest_hex(const char *d, char out[SHA256_HEX_LEN + 1])
{
	if (!d || strncmp(d, "sha256:", 7) || strlen(d + 7) != SHA256_HEX_LEN ||
	    strspn(d + 7, "0123456789abcdef") != SHA256_HEX_LEN)
		return -EINVAL;
	memcpy(out, d + 7, SHA256_HEX_LEN + 1);
	return 0;
}

static int plan_tag(struct plan *p, const char *ref, struct berr *err)
{
	char norm[RT_IMAGE_REF_MAX + 8];

	if (cJSON_GetArraySize(p->tags) >= TAGS_MAX)
		return berr_set(err, -EFBIG, "an image with more than %d tags", TAGS_MAX);
	if (rt_image_ref_normalize(ref, norm, sizeof(norm), err) < 0)
		return err->code;
	cJSON_AddItemToArray(p->tags, cJSON_CreateString(norm));
	return 0;
}

/* The config: the image ID is its digest; diff_ids name each layer's content. */
static int plan_config(const struct archive *a, struct plan *p, const char *name,
		       const char *expect, struct berr *err)
{
	_cleanup_free_ char *text = NULL;
	const cJSON *rootfs, *diff;
	int r;

	r = member_json(a, name, &p->config, &text, err);
	if (r < 0)
		return r;
	sha256_hex(text, strlen(text), p->id);
	if (expect && strcmp(expect, p->id))
		return berr_set(err, -EINVAL, "config %s does not match its digest", name);
	if (!cJSON_IsObject(p->config))
		return berr_set(err, -EINVAL, "config %s is not a JSON object", name);
	rootfs = cJSON_GetObjectItemCaseSensitive(p->config, "rootfs");
	diff = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
	if (diff && cJSON_GetArraySize(diff) != (int)p->n_layers)
		return berr_set(err, -EINVAL, "config %s names %d layers, the manifest %zu", name,
				cJSON_GetArraySize(diff), p->n_layers);
	for (size_t i = 0; diff && i < p->n_layers; i++) {
		const cJSON *d = cJSON_GetArrayItem(diff, (int)i);

		if (!cJSON_IsString(d) || digest_hex(d->valuestring, p->layers[i].diff_id) < 0)
			return berr_set(err, -EINVAL, "config %s: a bad diff_id", name);
	}
	return 0;
}

static int plan_layer_add(const struct archive *a, struct plan *p, const char *name,
			  const char *blob, struct berr *err)
{
	const struct member *m = member_lookup(a, name);

	if (p->n_layers == LAYERS_MAX)
		return berr_set(err, -EFBIG, "an image with more than %d layers", LAYERS_MAX);
	if (!m)
		return berr_set(err, -ENOENT, "the archive has no layer %s", name);
	p->layers[p->n_layers].m = m;
	strscpy(p->layers[p->n_layers].blob, blob ? blob : "", SHA256_HEX_LEN + 1);
	p->n_layers++;
	return 0;
}

/* manifest.json of `docker save`: [{"Config", "RepoTags", "Layers"}]. */
static int plans_docker(const struct archive *a, struct plans *out, struct berr *err)
{
	_cleanup_(json_freep) cJSON *man = NULL;
	const cJSON *it, *x;
	int r;

	r = member_json(a, "manifest.json", &man, NULL, err);
	if (r >= 0 && !cJSON_IsArray(man))
		r = berr_set(err, -EINVAL, "manifest.json is not an array");
	cJSON_ArrayForEach(it, man) {
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(it, "Config");
		struct plan *p = r >= 0 ? plan_new(out, err) : NULL;

		if (!p)
			return r < 0 ? r : err->code;
		if (!cJSON_IsString(cfg))
			return berr_set(err, -EINVAL, "manifest.json: an image without a Config");
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(it, "Layers"))
			if (r >= 0)
				r = cJSON_IsString(x) ? plan_layer_add(a, p, x->valuestring, NULL, err)
						      : berr_set(err, -EINVAL, "manifest.json: a bad layer");
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(it, "RepoTags"))
			if (r >= 0 && cJSON_IsString(x))
				r = plan_tag(p, x->valuestring, err);
		if (r >= 0)
			r = plan_config(a, p, cfg->valuestring, NULL, err);
		if (r < 0)
			return r;
	}
	return r;
}

/* ---- OCI image layouts ---- */

static int oci_blob(const struct archive *a, const cJSON *desc, char hex[SHA256_HEX_LEN + 1],
		    char **ret_path, struct berr *err)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(desc, "digest");

	if (!cJSON_IsString(d) || digest_hex(d->valuestring, hex) < 0)
		return berr_set(err, -EINVAL, "a descriptor without a sha256 digest");
	*ret_path = xasprintf("blobs/sha256/%s", hex);
	return member_lookup(a, *ret_path) ? 0
		: berr_set(err, -ENOENT, "the layout has no blob %s", *ret_path);
}

static bool media_is(const cJSON *desc, const char *what)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(desc, "mediaType");

	return cJSON_IsString(m) && strstr(m->valuestring, what);
}

static const char *host_arch(void)
{
	static struct utsname u;

	if (uname(&u) < 0)
		return "amd64";
	return !strcmp(u.machine, "x86_64") ? "amd64" : !strcmp(u.machine, "aarch64") ? "arm64"
									 : u.machine;
}

/* A JSON blob whose digest is checked. */
static int oci_json(const struct archive *a, const cJSON *desc, cJSON **ret, struct berr *err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	char hex[SHA256_HEX_LEN + 1], got[SHA256_HEX_LEN + 1];
	int r;

	r = oci_blob(a, desc, hex, &path, err);
	if (r >= 0)
		r = member_json(a, path, ret, &text, err);
	if (r < 0)
		return r;
	sha256_hex(text, strlen(text), got);
	if (strcmp(got, hex))
		return berr_set(err, -EINVAL, "blob %s does not match its digest", path);
	return 0;
}

/* An image index inside the layout: the manifest for this host's architecture, else the first. */
static const cJSON *oci_pick(const cJSON *index)
{
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(index, "manifests"), *m;

	cJSON_ArrayForEach(m, ms) {
		const cJSON *pl = cJSON_GetObjectItemCaseSensitive(m, "platform");
		const cJSON *arch = cJSON_GetObjectItemCaseSensitive(pl, "architecture");

		if (cJSON_IsString(arch) && !strcmp(arch->valuestring, host_arch()))
			return m;
	}
	return cJSON_GetArrayItem(ms, 0);
}

static int oci_manifest(const struct archive *a, const cJSON *desc, struct plan *p, int depth,
			struct berr *err)
{
	_cleanup_(json_freep) cJSON *man = NULL;
	char hex[SHA256_HEX_LEN + 1];
	_cleanup_free_ char *cfg_path = NULL;
	const cJSON *l;
	int r;

	r = oci_json(a, desc, &man, err);
	if (r < 0)
		return r;
	if (cJSON_GetObjectItemCaseSensitive(man, "manifests")) {
		if (depth > 2 || !oci_pick(man))
			return berr_set(err, -EINVAL, "an image index without a usable manifest");
		return oci_manifest(a, oci_pick(man), p, depth + 1, err);
	}
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(man, "layers")) {
		_cleanup_free_ char *path = NULL;

		if (media_is(l, "zstd"))
			return berr_set(err, -EOPNOTSUPP, "zstd-compressed layers are not supported");
		r = oci_blob(a, l, hex, &path, err);
		if (r >= 0)
			r = plan_layer_add(a, p, path, hex, err);
		if (r < 0)
			return r;
	}
	r = oci_blob(a, cJSON_GetObjectItemCaseSensitive(man, "config"), hex, &cfg_path, err);
	return r < 0 ? r : plan_config(a, p, cfg_path, hex, err);
}

/* A name from the index descriptor's annotations: containerd's full name, or an OCI ref.name
 * that is a full reference (a bare tag names no repository). */
static int oci_tags(const cJSON *desc, struct plan *p, struct berr *err)
{
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(desc, "annotations");
	const cJSON *full = cJSON_GetObjectItemCaseSensitive(ann, "io.containerd.image.name");
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(ann, "org.opencontainers.image.ref.name");

	if (cJSON_IsString(full))
		return plan_tag(p, full->valuestring, err);
	if (cJSON_IsString(ref) && strpbrk(ref->valuestring, ":/"))
		return plan_tag(p, ref->valuestring, err);
	return 0;
}

static int plans_oci(const struct archive *a, struct plans *out, struct berr *err)
{
	_cleanup_(json_freep) cJSON *index = NULL;
	const cJSON *m;
	int r;

	r = member_json(a, "index.json", &index, NULL, err);
	if (r < 0)
		return r;
	if (!member_lookup(a, "oci-layout"))
		return berr_set(err, -EINVAL, "index.json without oci-layout: not an OCI image layout");
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(index, "manifests")) {
		struct plan *p = plan_new(out, err);

		if (!p)
			return err->code;
		r = oci_manifest(a, m, p, 0, err);
		if (r >= 0)
			r = oci_tags(m, p, err);
		if (r < 0)
			return r;
	}
	if (out->n == 0)
		return berr_set(err, -EINVAL, "index.json lists no image");
	return 0;
}

/* ---- applying a plan ---- */

/* One layer from its place in the archive into root_fd, with its digests checked. */
static int layer_load(const struct archive *a, const struct plan_layer *l, int root_fd,
		      struct layer_limits *lim, const struct rt_load_opts *opts,
		      char ret_digest[SHA256_HEX_LEN + 1], struct berr *err)
{
	struct region_src region = { a->fd, l->m->off, l->m->size };
	struct meter_src stored = { .in = region_read, .in_ud = &region, .total = l->m->size,
				    .opts = opts };
	struct meter_src plain = { .limit = opts->bytes_max };
	_cleanup_free_ struct gz_src *gz = NULL;
	char id[SHA256_HEX_LEN + 1], got[SHA256_HEX_LEN + 1];
	struct tar_reader t;
	int r;

	sha256_init(&stored.h);
	sha256_init(&plain.h);
	snprintf(id, sizeof(id), "%.12s", l->blob[0] ? l->blob : l->diff_id[0] ? l->diff_id :
		 l->m->name);
	stored.id = id;
	plain.in = meter_read;
	plain.in_ud = &stored;
	if (region_gzipped(a->fd, l->m->off)) {
		gz = xmalloc(sizeof(*gz));
		if (gz_init(gz, meter_read, &stored) < 0)
			return berr_set(err, -ENOMEM, "starting zlib");
		plain.in = gz_read;
		plain.in_ud = gz;
	}
	tar_reader_init(&t, meter_read, &plain);
	r = layer_apply(root_fd, &t, lim, err);
	if (gz)
		inflateEnd(&gz->z);
	if (r == -EFBIG && plain.n > plain.limit)
		r = berr_set(err, r, "the layer is larger than %llu bytes",
			     (unsigned long long)opts->bytes_max);
	if (r < 0)
		return berr_prefix(err, "layer %s", id);
	/* the rest of the stream (end blocks, padding) counts in the digests */
	while ((r = (int)meter_read(&plain, got, sizeof(got))) > 0)
		;
	if (r < 0)
		return berr_errno(err, r, "layer %s", id);
	sha256_final_hex(&plain.h, got);
	if (l->diff_id[0] && strcmp(got, l->diff_id))
		return berr_set(err, -EINVAL, "layer %s does not match its diff_id (sha256:%s)", id, got);
	if (ret_digest)
		memcpy(ret_digest, got, SHA256_HEX_LEN + 1);
	sha256_final_hex(&stored.h, got);
	if (l->blob[0] && strcmp(got, l->blob))
		return berr_set(err, -EINVAL, "blob %s does not match its digest", id);
	if (opts->progress) {
		struct rt_load_progress p = { id, "Loading layer", l->m->size, l->m->size };

		return opts->progress(opts->ud, &p) < 0 ? berr_set(err, -ECANCELED, "cancelled") : 0;
	}
	return 0;
}

/* berth's view of an image config: what run honours. */
static cJSON *config_normalize(const struct plan *p, uint64_t size)
{
	static const char *const keys[] = { "Env", "Cmd", "Entrypoint", "WorkingDir", "User",
					    "ExposedPorts", "Labels" };
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(p->config, "config"), *v;
	cJSON *o = cJSON_CreateObject(), *cfg = cJSON_AddObjectToObject(o, "Config");
	_cleanup_free_ char *id = xasprintf("sha256:%s", p->id);
	static const char *const top[][2] = { { "created", "Created" },
					      { "architecture", "Architecture" },
					      { "os", "Os" } };

	cJSON_AddStringToObject(o, "Id", id);
	for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
		v = cJSON_GetObjectItemCaseSensitive(p->config, top[i][0]);
		if (cJSON_IsString(v))
			cJSON_AddStringToObject(o, top[i][1], v->valuestring);
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		v = cJSON_GetObjectItemCaseSensitive(src, keys[i]);
		if (v && !cJSON_IsNull(v))
			cJSON_AddItemToObject(cfg, keys[i], cJSON_Duplicate(v, 1));
	}
	cJSON_AddNumberToObject(o, "Size", (double)size);
	cJSON_AddNumberToObject(o, "Layers", (double)p->n_layers);
	return o;
}

static int config_write(const char *dir, const struct plan *p, uint64_t size, struct berr *err)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", dir);
	cJSON *o = config_normalize(p, size);
	char *text = cJSON_Print(o);
	int r;

	cJSON_Delete(o);
	r = write_file_atomic(path, text, strlen(text), 0644, err);
	free(text);
	return r;
}

static int plan_extract(const char *images_dir, const struct archive *a, const struct plan *p,
			const char *tmp, const struct rt_load_opts *opts, struct berr *err)
{
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", tmp);
	struct layer_limits lim = { .bytes_max = opts->bytes_max, .entries_max = opts->entries_max };
	_cleanup_close_ int fd = -1;
	int r = 0;

	if (mkdir(rootfs, 0755) < 0)
		return berr_errno(err, -errno, "creating %s", rootfs);
	fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_errno(err, -errno, "opening %s", rootfs);
	for (size_t i = 0; i < p->n_layers && r >= 0; i++)
		r = layer_load(a, &p->layers[i], fd, &lim, opts, NULL, err);
	if (r >= 0)
		r = config_write(tmp, p, lim.bytes, err);
	return r;
}

static int image_mkdtemp(const char *images_dir, char **ret, struct berr *err)
{
	char *tmp = xasprintf("%s/.tmp-load-XXXXXX", images_dir);
	int r = mkdir_p(images_dir, 0755, err);

	if (r < 0 || !mkdtemp(tmp)) {
		r = r < 0 ? r : berr_errno(err, -errno, "creating a directory in %s", images_dir);
		free(tmp);
		return r;
	}
	chmod(tmp, 0755);
	*ret = tmp;
	return 0;
}

/* Extracts into a temporary directory renamed to sha256-<id>: complete or absent. */
static int plan_apply(const char *images_dir, const struct archive *a, const struct plan *p,
		      const struct rt_load_opts *opts, struct rt_loaded *out, struct berr *err)
{
	_cleanup_free_ char *tmp = NULL, *final = NULL;
	int r;

	snprintf(out->dir, sizeof(out->dir), "sha256-%s", p->id);
	snprintf(out->id, sizeof(out->id), "sha256:%s", p->id);
	out->tags = cJSON_Duplicate(p->tags, 1);
	final = xasprintf("%s/%s", images_dir, out->dir);
	if (access(final, F_OK) == 0) {
		out->existed = true;
		return 0;
	}
	r = image_mkdtemp(images_dir, &tmp, err);
	if (r >= 0)
		r = plan_extract(images_dir, a, p, tmp, opts, err);
	if (r >= 0 && rename(tmp, final) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			out->existed = true;   /* loaded meanwhile by another request */
		else
			r = berr_errno(err, -errno, "renaming %s", tmp);
	}
	if (tmp && (r < 0 || out->existed))
		rt_remove_tree(tmp, NULL);
	return r;
}

/* ---- the archive file: inflated first when it is gzip ---- */

static int archive_inflate(const char *images_dir, int in, uint64_t limit, int *ret_fd,
			   struct berr *err)
{
	struct stat st;
	struct region_src src = { .fd = in };
	struct gz_src *gz = xmalloc(sizeof(*gz));
	_cleanup_free_ char *buf = xmalloc(GZ_BUF), *path = NULL;
	_cleanup_close_ int out = -1;
	uint64_t total = 0;
	ssize_t n;

	fstat(in, &st);
	src.left = (uint64_t)st.st_size;
	path = xasprintf("%s/.tmp-inflate-XXXXXX", images_dir);
	out = mkostemp(path, O_CLOEXEC);
	if (out < 0 || gz_init(gz, region_read, &src) < 0) {
		free(gz);
		return berr_errno(err, -errno, "inflating the archive");
	}
	unlink(path);
	while ((n = gz_read(gz, buf, GZ_BUF)) > 0) {
		total += (uint64_t)n;
		if (total > limit || write(out, buf, (size_t)n) != n)
			break;
	}
	inflateEnd(&gz->z);
	free(gz);
	if (total > limit)
		return berr_set(err, -EFBIG, "the archive inflates to more than %llu bytes",
				(unsigned long long)limit);
	if (n != 0)
		return berr_errno(err, n < 0 ? (int)n : -EIO, "inflating the archive (gzip)");
	*ret_fd = steal_fd(out);
	return 0;
}

static int archive_open(const char *images_dir, const char *path, uint64_t limit,
			struct archive *a, struct berr *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (fd < 0)
		return berr_errno(err, -errno, "opening %s", path);
	if (region_gzipped(fd, 0)) {
		r = archive_inflate(images_dir, fd, limit, &a->fd, err);
		close(fd);
		if (r < 0)
			return r;
	} else {
		a->fd = fd;
	}
	return archive_index(a, err);
}

void rt_load_result_free(struct rt_load_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		cJSON_Delete(r->v[i].tags);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

int rt_image_load(const char *images_dir, const char *archive, const struct rt_load_opts *opts,
		  struct rt_load_result *ret, struct berr *err)
{
	struct archive a;
	struct plans plans = { 0 };
	int r;

	memset(ret, 0, sizeof(*ret));
	r = archive_open(images_dir, archive, opts->bytes_max, &a, err);
	if (r >= 0 && member_lookup(&a, "manifest.json"))
		r = plans_docker(&a, &plans, err);
	else if (r >= 0 && member_lookup(&a, "index.json"))
		r = plans_oci(&a, &plans, err);
	else if (r >= 0)
		r = berr_set(err, -EINVAL, "neither a docker save archive (manifest.json) nor an OCI "
			     "image layout (index.json)");
	if (r >= 0)
		ret->v = xcalloc(plans.n, sizeof(*ret->v));
	for (size_t i = 0; r >= 0 && i < plans.n; i++) {
		r = plan_apply(images_dir, &a, &plans.v[i], opts, &ret->v[i], err);
		ret->n = i + 1;
	}
	plans_free(&plans);
	archive_free(&a);
	if (r < 0)
		rt_load_result_free(ret);
	return r;
}

/* ---- docker import: one layer, no config ---- */

/* The config of an imported rootfs: its time and the layer's digest (so its ID is its own). */
static void import_config(struct plan *p, const char *digest)
{
	char created[40], *text;
	_cleanup_free_ char *diff = xasprintf("sha256:%s", digest);
	cJSON *rootfs, *ids;

	time_now_rfc3339(created);
	p->config = cJSON_CreateObject();
	cJSON_AddStringToObject(p->config, "created", created);
	rootfs = cJSON_AddObjectToObject(p->config, "rootfs");
	cJSON_AddStringToObject(rootfs, "type", "layers");
	ids = cJSON_AddArrayToObject(rootfs, "diff_ids");
	cJSON_AddItemToArray(ids, cJSON_CreateString(diff));
	text = cJSON_PrintUnformatted(p->config);
	sha256_hex(text, strlen(text), p->id);
	free(text);
}

static int import_extract(const struct archive *a, struct plan *p, const char *tmp,
			  const struct rt_load_opts *opts, struct berr *err)
{
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", tmp);
	struct layer_limits lim = { .bytes_max = opts->bytes_max, .entries_max = opts->entries_max };
	char digest[SHA256_HEX_LEN + 1];
	_cleanup_close_ int fd = -1;
	int r;

	if (mkdir(rootfs, 0755) < 0 || (fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return berr_errno(err, -errno, "creating %s", rootfs);
	r = layer_load(a, &p->layers[0], fd, &lim, opts, digest, err);
	if (r < 0)
		return r;
	import_config(p, digest);
	return config_write(tmp, p, lim.bytes, err);
}

int rt_image_import_rootfs(const char *images_dir, const char *path,
			   const struct rt_load_opts *opts, struct rt_loaded *ret, struct berr *err)
{
	struct archive a = { .fd = -1 };
	struct member m = { .name = (char *)"rootfs" };
	struct plan p = { 0 };
	_cleanup_free_ char *tmp = NULL, *final = NULL;
	struct stat st;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->tags = cJSON_CreateArray();
	a.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (a.fd < 0 || fstat(a.fd, &st) < 0)
		return berr_errno(err, -errno, "opening %s", path);
	m.size = (uint64_t)st.st_size;
	p.layers[0].m = &m;
	p.n_layers = 1;
	r = image_mkdtemp(images_dir, &tmp, err);
	if (r >= 0)
		r = import_extract(&a, &p, tmp, opts, err);
	if (r >= 0) {
		snprintf(ret->dir, sizeof(ret->dir), "sha256-%s", p.id);
		snprintf(ret->id, sizeof(ret->id), "sha256:%s", p.id);
		final = xasprintf("%s/%s", images_dir, ret->dir);
		if (rename(tmp, final) < 0)
			r = berr_errno(err, -errno, "renaming %s", tmp);
	}
	if (r < 0 && tmp)
		rt_remove_tree(tmp, NULL);
	cJSON_Delete(p.config);
	close(a.fd);
	return r;
}
