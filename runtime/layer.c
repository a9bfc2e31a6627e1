/* SPDX-License-Identifier: Apache-2.0 */
#include "runtime/layer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

#define WHITEOUT ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define LAYER_COPY_BUF (128u << 10)

/* ---- the paths this layer made (an opaque directory keeps them) ---- */

struct pathset {
	char **slot;
	size_t cap, n;
};

static uint64_t path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static void pathset_free(struct pathset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
}

static bool pathset_has(const struct pathset *s, const char *p)
{
	if (!s->cap)
		return false;
	for (size_t i = path_hash(p) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slot[i])
			return false;
		if (!strcmp(s->slot[i], p))
			return true;
	}
}

static void pathset_put(struct pathset *s, char *p);

static void pathset_grow(struct pathset *s)
{
	struct pathset bigger = { .cap = s->cap ? s->cap * 2 : 1024 };

	bigger.slot = xcalloc(bigger.cap, sizeof(char *));
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i])
			pathset_put(&bigger, s->slot[i]);
	free(s->slot);
	*s = bigger;
}

/* Takes p. */
static void pathset_put(struct pathset *s, char *p)
{
	size_t i;

	if ((s->n + 1) * 10 > s->cap * 7)
		pathset_grow(s);
	for (i = path_hash(p) & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->slot[i], p)) {
			free(p);
			return;
		}
	s->slot[i] = p;
	s->n++;
}

/* ---- names ---- */

int layer_path_clean(const char *name, char *out, size_t size, struct berr *err)
{
	const char *p = name;
	size_t len = 0;

	if (name[0] == '/')
		return berr_set(err, -EINVAL, "entry \"%s\" has an absolute name", name);
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !strncmp(p, "..", 2))
			return berr_set(err, -EINVAL, "entry \"%s\" climbs out with \"..\"", name);
		if (n && !(n == 1 && p[0] == '.')) {
			if (len + n + 2 > size)
				return berr_set(err, -ENAMETOOLONG, "entry \"%.64s...\" is too long", name);
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[len] = '\0';
	return 0;
}

/* ---- resolving beneath the root ---- */

static int open_beneath(int root, const char *path, struct berr *err, const char *entry)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd;

	if (!*path)
		path = ".";
	do
		fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	if (fd >= 0)
		return fd;
	if (errno == EXDEV || errno == ELOOP)
		return berr_set(err, -EXDEV, "entry \"%s\": \"%s\" leads out of the image through a "
				"symlink", entry, path);
	if (errno == ENOTDIR)
		return berr_set(err, -ENOTDIR, "entry \"%s\": \"%s\" is not a directory", entry, path);
	return berr_errno(err, -errno, "entry \"%s\": opening \"%s\"", entry, path);
}

/* mkdir -p of dir beneath the root (0755), a component at a time, each resolved from the
 * root; returns an fd of dir. */
static int dirs_make(int root, char *dir, struct berr *err)
{
	for (char *p = dir;;) {
		char *next = strchr(p, '/'), *cut;
		int fd, up;

		if (next)
			*next = '\0';
		fd = open_beneath(root, dir, NULL, dir);
		if (fd == -ENOENT) {
			cut = strrchr(dir, '/');
			if (cut)
				*cut = '\0';
			up = open_beneath(root, cut ? dir : "", err, dir);
			if (cut)
				*cut = '/';
			fd = up;
			if (up >= 0 && mkdirat(up, cut ? cut + 1 : dir, 0755) < 0 && errno != EEXIST)
				fd = berr_errno(err, -errno, "creating directory %s", dir);
			else if (up >= 0)
				fd = open_beneath(root, dir, err, dir);
			if (up >= 0)
				close(up);
		} else if (fd < 0) {
			fd = open_beneath(root, dir, err, dir);   /* for its message */
		}
		if (next)
			*next = '/';
		if (fd < 0 || !next)
			return fd;
		close(fd);
		p = next + 1;
	}
}

/* The directory holding rel's last component, made (0755) where missing when create is set;
 * -ENOENT without create when a part is missing. *ret_base points into rel. */
static int parent_open(int root, char *rel, bool create, const char **ret_base,
		       struct berr *err)
{
	char *slash = strrchr(rel, '/');
	int fd;

	*ret_base = slash ? slash + 1 : rel;
	if (!slash)
		return open_beneath(root, "", err, rel);
	*slash = '\0';
	fd = open_beneath(root, rel, NULL, rel);
	if (fd == -ENOENT && create)
		fd = dirs_make(root, rel, err);
	else if (fd < 0)
		fd = open_beneath(root, rel, err, rel);   /* for its message */
	*slash = '/';
	return fd;
}

/* rm -rf of dir_fd/name without following any symlink. */
static int remove_at(int dir_fd, const char *name, struct berr *err)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int fd, r = 0;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : berr_errno(err, -errno, "removing %s", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
			return berr_errno(err, -errno, "removing %s", name);
		return 0;
	}
	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return berr_errno(err, -errno, "removing %s", name);
	}
	while (r >= 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r = remove_at(dirfd(d), e->d_name, err);
	closedir(d);
	if (r >= 0 && unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = berr_errno(err, -errno, "removing %s", name);
	return r;
}

/* ---- whiteouts ---- */

static int whiteout_opaque(int root, char *dir, const struct pathset *made, struct berr *err)
{
	int pfd = open_beneath(root, dir, NULL, dir), fd, r = 0;
	size_t len = strlen(dir);
	struct dirent *e;
	DIR *d;

	if (pfd == -ENOENT)
		return 0;
	if (pfd < 0)
		return open_beneath(root, dir, err, dir);
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(pfd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return berr_errno(err, -errno, "opening %s", dir);
	}
	while (r >= 0 && (e = readdir(d))) {
		_cleanup_free_ char *path = xasprintf("%s%s%s", dir, len ? "/" : "", e->d_name);

		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && !pathset_has(made, path))
			r = remove_at(dirfd(d), e->d_name, err);
	}
	closedir(d);
	return r;
}

/* .wh.NAME removes NAME; .wh..wh..opq empties its directory of lower layers' files. */
static int whiteout(int root, char *path, const char *base, const struct pathset *made,
		    struct berr *err)
{
	_cleanup_free_ char *victim = NULL;
	size_t dirlen = (size_t)(base - path);
	const char *vbase;
	int pfd, r;

	if (!strcmp(base, WHITEOUT_OPAQUE)) {
		path[dirlen ? dirlen - 1 : 0] = '\0';
		return whiteout_opaque(root, path, made, err);
	}
	if (!strncmp(base, WHITEOUT WHITEOUT, 2 * strlen(WHITEOUT)) || !base[strlen(WHITEOUT)])
		return 0;   /* aufs bookkeeping (.wh..wh.plnk...) */
	victim = xasprintf("%.*s%s", (int)dirlen, path, base + strlen(WHITEOUT));
	pfd = parent_open(root, victim, false, &vbase, NULL);
	if (pfd == -ENOENT)
		return 0;
	if (pfd < 0)
		return parent_open(root, victim, false, &vbase, err);
	r = remove_at(pfd, vbase, err);
	close(pfd);
	return r;
}

/* ---- entries ---- */

/* Make room for an entry: whatever is at pfd/base goes, but a directory over a directory. */
static int entry_clear(int pfd, const char *base, enum tar_type type, struct berr *err)
{
	struct stat st;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : berr_errno(err, -errno, "checking %s", base);
	if (type == TAR_DIR && S_ISDIR(st.st_mode))
		return 0;
	return remove_at(pfd, base, err);
}

static int entry_file(struct tar_reader *t, const struct tar_entry *e, int pfd, const char *base,
		      struct layer_limits *lim, struct berr *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct timespec ts[2] = { { e->mtime, 0 }, { e->mtime, 0 } };
	ssize_t n;

	if (e->size > lim->bytes_max - lim->bytes)
		return berr_set(err, -EFBIG, "the image is larger than %llu bytes (entry \"%s\")",
				(unsigned long long)lim->bytes_max, e->name);
	fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return berr_errno(err, -errno, "creating %s", e->name);
	buf = xmalloc(LAYER_COPY_BUF);
	while ((n = tar_data_read(t, buf, LAYER_COPY_BUF, err)) > 0) {
		if (write(fd, buf, (size_t)n) != n)
			return berr_errno(err, -errno ? -errno : -EIO, "writing %s", e->name);
		lim->bytes += (uint64_t)n;
	}
	if (n < 0)
		return (int)n;
	if (fchown(fd, e->uid, e->gid) < 0 || fchmod(fd, e->mode) < 0)
		return berr_errno(err, -errno, "setting the owner and mode of %s", e->name);
	futimens(fd, ts);
	return 0;
}

static int entry_dir(const struct tar_entry *e, int pfd, const char *base, struct berr *err)
{
	_cleanup_close_ int fd = -1;

	if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
		return berr_errno(err, -errno, "creating directory %s", e->name);
	fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, e->uid, e->gid) < 0 || fchmod(fd, e->mode) < 0)
		return berr_errno(err, -errno, "setting up directory %s", e->name);
	return 0;
}

static int entry_symlink(const struct tar_entry *e, int pfd, const char *base, struct berr *err)
{
	struct timespec ts[2] = { { e->mtime, 0 }, { e->mtime, 0 } };

	if (!e->linkname[0])
		return berr_set(err, -EINVAL, "symlink %s has no target", e->name);
	/* any target: it is resolved inside the container's root, never here */
	if (symlinkat(e->linkname, pfd, base) < 0)
		return berr_errno(err, -errno, "creating symlink %s", e->name);
	if (fchownat(pfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_errno(err, -errno, "setting the owner of %s", e->name);
	utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int entry_hardlink(int root, const struct tar_entry *e, int pfd, const char *base,
			  struct berr *err)
{
	char target[TAR_NAME_MAX + 1];
	const char *tbase;
	struct stat st;
	int tfd, r;

	r = layer_path_clean(e->linkname, target, sizeof(target), err);
	if (r < 0)
		return berr_prefix(err, "hard link %s", e->name);
	if (!target[0])
		return berr_set(err, -EINVAL, "hard link %s points at the root", e->name);
	tfd = parent_open(root, target, false, &tbase, err);
	if (tfd == -ENOENT)
		return berr_set(err, -ENOENT, "hard link %s: target %s does not exist", e->name,
				e->linkname);
	if (tfd < 0)
		return tfd;
	if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
		r = berr_set(err, -EINVAL, "hard link %s: target %s is missing or a directory",
			     e->name, e->linkname);
	else if (linkat(tfd, tbase, pfd, base, 0) < 0)
		r = berr_errno(err, -errno, "creating hard link %s", e->name);
	close(tfd);
	return r;
}

static int entry_special(const struct tar_entry *e, const char *path, int pfd, const char *base,
			 struct berr *err)
{
	if (e->type == TAR_FIFO) {
		if (mkfifoat(pfd, base, e->mode) < 0 ||
		    fchownat(pfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return berr_errno(err, -errno, "creating fifo %s", e->name);
		return 0;
	}
	if (strncmp(path, "dev/", 4) != 0)
		return berr_set(err, -EPERM, "entry \"%s\" is a device node outside /dev", e->name);
	return 0;   /* under dev/: accepted, not made (the container mounts its own /dev) */
}

static int entry_apply(int root, struct tar_reader *t, const struct tar_entry *e, char *path,
		       struct pathset *made, struct layer_limits *lim, struct berr *err)
{
	const char *base;
	int pfd, r;

	pfd = parent_open(root, path, true, &base, err);
	if (pfd < 0)
		return pfd;
	if (!strncmp(base, WHITEOUT, strlen(WHITEOUT))) {
		close(pfd);
		return whiteout(root, path, base, made, err);
	}
	r = entry_clear(pfd, base, e->type, err);
	if (r >= 0) {
		switch (e->type) {
		case TAR_FILE: r = entry_file(t, e, pfd, base, lim, err); break;
		case TAR_DIR: r = entry_dir(e, pfd, base, err); break;
		case TAR_SYMLINK: r = entry_symlink(e, pfd, base, err); break;
		case TAR_HARDLINK: r = entry_hardlink(root, e, pfd, base, err); break;
		default: r = entry_special(e, path, pfd, base, err);
		}
	}
	close(pfd);
	if (r >= 0)
		pathset_put(made, xstrdup(path));
	return r;
}

int layer_apply(int root_fd, struct tar_reader *t, struct layer_limits *lim, struct berr *err)
{
	struct pathset made = { 0 };
	const struct tar_entry *e;
	char path[TAR_NAME_MAX + 1];
	int r;

	while ((r = tar_next(t, &e, err)) > 0) {
		if (++lim->entries > lim->entries_max) {
			r = berr_set(err, -EFBIG, "the image has more than %llu entries",
				     (unsigned long long)lim->entries_max);
			break;
		}
		r = layer_path_clean(e->name, path, sizeof(path), err);
		if (r < 0)
			break;
		if (!path[0])
			continue;   /* the root itself */
		r = entry_apply(root_fd, t, e, path, &made, lim, err);
		if (r < 0)
			break;
	}
	pathset_free(&made);
	return r;
}
