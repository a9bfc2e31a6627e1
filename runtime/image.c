/* SPDX-License-Identifier: Apache-2.0 */
/* Images: <images_dir>/<name>/rootfs. Every image is built or extracted in a temporary directory
 * next to its final place and renamed into place, so a crash never leaves a half image behind
 * under a real name. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

#define BUSYBOX_HOST "/bin/busybox"
#define IMAGE_NAME_MAX 128

extern char **environ;

static const char *const busybox_dirs[] = { "/bin", "/sbin", "/usr", "/usr/bin", "/usr/sbin",
					    "/etc", "/proc", "/sys", "/dev", "/var", "/var/tmp",
					    "/mnt", "/home", "/run" };

static const struct {
	const char *path;
	const char *text;
} busybox_files[] = {
	{ "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
			 "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n" },
	{ "/etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n" },
	{ "/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n" },
	{ "/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" },
	{ "/etc/resolv.conf", "" },
	{ "/etc/hostname", "" },
};

/* Loaded by the static busybox's glibc through dlopen to resolve names. */
static const char *const busybox_libs[] = { "libc.so.6", "libnss_files.so.2", "libnss_dns.so.2",
					    "libresolv.so.2" };

/* ---- rm -rf ---- */

static __thread int remove_errno;
static __thread char remove_failed[PATH_MAX];

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	int r = type == FTW_DP ? rmdir(path) : unlink(path);

	if (r < 0 && errno != ENOENT) {
		remove_errno = errno;
		strscpy(remove_failed, path, sizeof(remove_failed));
		return 1;
	}
	return 0;
}

int rt_remove_tree(const char *path, struct berr *err)
{
	struct stat st;

	if (lstat(path, &st) < 0 && errno == ENOENT)
		return 0;
	remove_errno = 0;
	if (nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) {
		if (remove_errno)
			return berr_errno(err, -remove_errno, "removing %s", remove_failed);
		return berr_errno(err, -errno, "removing %s", path);
	}
	return 0;
}

/* ---- helpers ---- */

static int image_name_check(const char *name, struct berr *err)
{
	if (!name || !name[0] || name[0] == '.' || strchr(name, '/') ||
	    strlen(name) >= IMAGE_NAME_MAX)
		return berr_set(err, -EINVAL, "invalid image name \"%s\"", name ? name : "");
	return 0;
}

static int image_tmpdir(const char *images_dir, const char *what, char **ret, struct berr *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s/.tmp-%s-XXXXXX", images_dir, what);
	_cleanup_free_ char *rootfs = NULL;
	int r;

	r = mkdir_p(images_dir, 0755, err);
	if (r < 0)
		return r;
	if (!mkdtemp(tmp))
		return berr_errno(err, -errno, "creating a temporary directory in %s", images_dir);
	rootfs = xasprintf("%s/rootfs", tmp);
	if (chmod(tmp, 0755) < 0 || mkdir(rootfs, 0755) < 0) {
		r = berr_errno(err, -errno, "preparing %s", tmp);
		rt_remove_tree(tmp, NULL);
		return r;
	}
	*ret = steal_ptr(tmp);
	return 0;
}

/* The child has closed its output (exited, normally): collect its status, which nobody else may
 * reap meanwhile (berthd defers its reaping of "any child" while a build runs). */
static int spawn_reap(pid_t pid, int *status)
{
	delay_point("image-spawn-wait");
	return rt_waitpid(pid, status);
}

/* Run argv, collect what it writes on out_fd (1 or 2) into *ret_out; the rest goes nowhere. */
static int image_spawn(char *const argv[], int out_fd, char **ret_out, int *ret_code,
		       struct berr *err)
{
	posix_spawn_file_actions_t fa;
	char *buf = xmalloc(65536);
	int p[2], r, status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		free(buf);
		return berr_errno(err, -errno, "creating a pipe");
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 3 - out_fd, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], out_fd);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r == 0 && rt_read_all(p[0], buf, 65536) >= 0 && spawn_reap(pid, &status) == 0) {
		*ret_code = rt_wait_code(status);
		*ret_out = buf;
		close(p[0]);
		return 0;
	}
	close(p[0]);
	free(buf);
	return berr_errno(err, r ? -r : -EIO, "running %s", argv[0]);
}

static int copy_fd(int in, int out)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf)), off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		while (off < n) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0)
				return -errno;
			off += w;
		}
	}
}

static int copy_file(const char *src, const char *dst, struct berr *err)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	struct stat st;
	int r;

	if (in < 0 || fstat(in, &st) < 0)
		return berr_errno(err, -errno, "opening %s", src);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
	if (out < 0)
		return berr_errno(err, -errno, "creating %s", dst);
	r = copy_fd(in, out);
	if (r < 0)
		return berr_errno(err, r, "copying %s to %s", src, dst);
	if (fchmod(out, st.st_mode & 07777) < 0)
		return berr_errno(err, -errno, "setting the mode of %s", dst);
	return 0;
}

static int mkdir_parent(const char *path, struct berr *err)
{
	_cleanup_free_ char *copy = xstrdup(path);

	return mkdir_p(dirname(copy), 0755, err);
}

/* Copy a host file to the same path inside rootfs; a symlink becomes a copy of its target at
 * the target's path plus an absolute symlink at the original path. */
static int copy_host_path(const char *rootfs, const char *path, struct berr *err)
{
	char real[PATH_MAX];
	_cleanup_free_ char *dst_real = NULL, *dst_link = NULL;
	int r;

	if (!realpath(path, real))
		return berr_errno(err, -errno, "resolving %s", path);
	dst_real = xasprintf("%s%s", rootfs, real);
	r = mkdir_parent(dst_real, err);
	if (r >= 0 && access(dst_real, F_OK) < 0)
		r = copy_file(real, dst_real, err);
	if (r < 0 || strcmp(real, path) == 0)
		return r;
	dst_link = xasprintf("%s%s", rootfs, path);
	r = mkdir_parent(dst_link, err);
	if (r >= 0 && symlink(real, dst_link) < 0 && errno != EEXIST)
		r = berr_errno(err, -errno, "creating %s", dst_link);
	return r;
}

/* ---- busybox ---- */

static int busybox_skeleton(const char *rootfs, struct berr *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s/tmp", rootfs);
	_cleanup_free_ char *home = xasprintf("%s/root", rootfs);
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(busybox_dirs) && r >= 0; i++) {
		_cleanup_free_ char *d = xasprintf("%s%s", rootfs, busybox_dirs[i]);

		r = mkdir_p(d, 0755, err);
	}
	if (r >= 0 && (mkdir(tmp, 0) < 0 || chmod(tmp, 01777) < 0))
		r = berr_errno(err, -errno, "creating %s", tmp);
	if (r >= 0 && mkdir(home, 0700) < 0)
		r = berr_errno(err, -errno, "creating %s", home);
	for (size_t i = 0; i < ARRAY_SIZE(busybox_files) && r >= 0; i++) {
		_cleanup_free_ char *f = xasprintf("%s%s", rootfs, busybox_files[i].path);

		r = write_file_atomic(f, busybox_files[i].text, strlen(busybox_files[i].text), 0644,
				      err);
	}
	return r;
}

static int busybox_link_applet(const char *rootfs, const char *applet, struct berr *err)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (!applet[0] || applet[0] == '/' || strstr(applet, ".."))
		return 0;
	path = xasprintf("%s/%s", rootfs, applet);
	r = mkdir_parent(path, err);
	if (r >= 0 && symlink("/bin/busybox", path) < 0 && errno != EEXIST)
		r = berr_errno(err, -errno, "creating %s", path);
	return r;
}

static int busybox_applets(const char *rootfs, struct berr *err)
{
	char *const argv[] = { (char *)BUSYBOX_HOST, (char *)"--list-full", NULL };
	_cleanup_free_ char *out = NULL;
	char *save = NULL;
	int code, r;

	r = image_spawn(argv, 1, &out, &code, err);
	if (r < 0)
		return r;
	if (code != 0)
		return berr_set(err, -EIO, "%s --list-full exited with code %d", BUSYBOX_HOST, code);
	for (char *l = strtok_r(out, "\n", &save); l && r >= 0; l = strtok_r(NULL, "\n", &save))
		r = busybox_link_applet(rootfs, l, err);
	return r;
}

/* Copy the files matching pattern; with only_in, only those whose real path is in that
 * directory (a 32-bit loader in /lib is of no use to a 64-bit libc). */
static int busybox_glob_copy(const char *rootfs, const char *pattern, const char *only_in,
			     struct berr *err)
{
	char real[PATH_MAX];
	size_t dlen = only_in ? strlen(only_in) : 0;
	glob_t g;
	int r = 0;

	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc && r >= 0; i++) {
		if (only_in && (!realpath(g.gl_pathv[i], real) || strncmp(real, only_in, dlen) != 0 ||
				real[dlen] != '/'))
			continue;
		r = copy_host_path(rootfs, g.gl_pathv[i], err);
	}
	globfree(&g);
	return r;
}

/* The multiarch directory is wherever the host's libc.so.6 lives. */
static int busybox_libc_dir(char *buf, size_t size, struct berr *err)
{
	static const char *const patterns[] = { "/lib/*-linux-gnu*/libc.so.6",
						"/usr/lib/*-linux-gnu*/libc.so.6", "/lib64/libc.so.6",
						"/lib/libc.so.6" };
	glob_t g;

	for (size_t i = 0; i < ARRAY_SIZE(patterns); i++) {
		if (glob(patterns[i], 0, NULL, &g) != 0)
			continue;
		strscpy(buf, g.gl_pathv[0], size);
		globfree(&g);
		*strrchr(buf, '/') = '\0';
		return 0;
	}
	return berr_set(err, -ENOENT, "cannot find the host's libc.so.6 to copy into the image");
}

static int busybox_libs_copy(const char *rootfs, struct berr *err)
{
	_cleanup_free_ char *ld_pattern = NULL;
	char dir[PATH_MAX], real[PATH_MAX];
	int r;

	r = busybox_libc_dir(dir, sizeof(dir), err);
	for (size_t i = 0; i < ARRAY_SIZE(busybox_libs) && r >= 0; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, busybox_libs[i]);

		if (i == 0 || access(p, F_OK) == 0)
			r = copy_host_path(rootfs, p, err);
	}
	if (r < 0)
		return r;
	if (!realpath(dir, real))
		return berr_errno(err, -errno, "resolving %s", dir);
	ld_pattern = xasprintf("%s/ld-linux*.so.*", dir);
	r = busybox_glob_copy(rootfs, ld_pattern, NULL, err);
	if (r >= 0)
		r = busybox_glob_copy(rootfs, "/lib64/ld-linux*.so.*", real, err);
	if (r >= 0)
		r = busybox_glob_copy(rootfs, "/lib/ld-linux*.so.*", real, err);
	return r;
}

static int busybox_build(const char *rootfs, struct berr *err)
{
	_cleanup_free_ char *bin = xasprintf("%s/bin/busybox", rootfs);
	int r;

	if (access(BUSYBOX_HOST, X_OK) < 0)
		return berr_errno(err, -errno, "%s (package busybox-static) is needed for the busybox image",
				  BUSYBOX_HOST);
	r = busybox_skeleton(rootfs, err);
	if (r >= 0)
		r = copy_file(BUSYBOX_HOST, bin, err);
	if (r >= 0)
		r = busybox_applets(rootfs, err);
	if (r >= 0)
		r = busybox_libs_copy(rootfs, err);
	return r;
}

/* Rename the temporary image into place; a concurrent winner counts as success when asked. */
static int image_commit(const char *tmp, const char *final, const char *name, bool exist_ok,
			struct berr *err)
{
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", final);

	if (rename(tmp, final) == 0)
		return 0;
	if (errno != EEXIST && errno != ENOTEMPTY)
		return berr_errno(err, -errno, "renaming %s to %s", tmp, final);
	if (exist_ok && access(rootfs, F_OK) == 0)
		return 0;
	return berr_set(err, -EEXIST, "image \"%s\" already exists", name);
}

int rt_image_ensure_busybox(const char *images_dir, struct berr *err)
{
	_cleanup_free_ char *final = xasprintf("%s/busybox", images_dir);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", final);
	_cleanup_free_ char *tmp = NULL, *tmp_rootfs = NULL;
	int r;

	if (access(rootfs, F_OK) == 0)
		return 0;
	r = image_tmpdir(images_dir, "busybox", &tmp, err);
	if (r < 0)
		return berr_prefix(err, "building the busybox image");
	tmp_rootfs = xasprintf("%s/rootfs", tmp);
	delay_point("image-build");
	r = busybox_build(tmp_rootfs, err);
	if (r >= 0)
		r = image_commit(tmp, final, "busybox", true, err);
	if (r < 0) {
		rt_remove_tree(tmp, NULL);
		return berr_prefix(err, "building the busybox image");
	}
	rt_remove_tree(tmp, NULL); /* a concurrent builder won: ours is still there */
	return 0;
}

/* ---- import, remove, lookup ---- */

static int image_extract(const char *tar_path, const char *rootfs, struct berr *err)
{
	char *const argv[] = { (char *)"tar", (char *)"--numeric-owner", (char *)"-xf",
			       (char *)tar_path, (char *)"-C", (char *)rootfs, NULL };
	_cleanup_free_ char *out = NULL;
	int code, r;

	r = image_spawn(argv, 2, &out, &code, err);
	if (r < 0)
		return r;
	if (code != 0) {
		out[strcspn(out, "\n")] = '\0';
		return berr_set(err, -EINVAL, "extracting %s failed: %s", tar_path,
				out[0] ? out : "tar reported an error");
	}
	return 0;
}

int rt_image_import(const char *images_dir, const char *name, const char *tar_path,
		    struct berr *err)
{
	_cleanup_free_ char *final = NULL, *tmp = NULL, *tmp_rootfs = NULL;
	int r;

	r = image_name_check(name, err);
	if (r < 0)
		return r;
	final = xasprintf("%s/%s", images_dir, name);
	if (access(final, F_OK) == 0)
		return berr_set(err, -EEXIST, "image \"%s\" already exists", name);
	if (access(tar_path, R_OK) < 0)
		return berr_errno(err, -errno, "reading %s", tar_path);
	r = image_tmpdir(images_dir, "import", &tmp, err);
	if (r < 0)
		return r;
	tmp_rootfs = xasprintf("%s/rootfs", tmp);
	r = image_extract(tar_path, tmp_rootfs, err);
	if (r >= 0)
		r = image_commit(tmp, final, name, false, err);
	if (r < 0)
		rt_remove_tree(tmp, NULL);
	return r;
}

int rt_image_remove(const char *images_dir, const char *name, struct berr *err)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = image_name_check(name, err);
	if (r < 0)
		return r;
	path = xasprintf("%s/%s", images_dir, name);
	if (access(path, F_OK) < 0)
		return berr_set(err, -ENOENT, "image \"%s\" not found", name);
	return rt_remove_tree(path, err);
}

int rt_image_rootfs(const char *images_dir, const char *name, char *buf, size_t size,
		    struct berr *err)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;
	int r;

	r = image_name_check(name, err);
	if (r < 0)
		return r;
	path = xasprintf("%s/%s/rootfs", images_dir, name);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return berr_set(err, -ENOENT,
				"image \"%s\" not found (berth image import FILE %s to add it)", name,
				name);
	if (strscpy(buf, path, size) < 0)
		return berr_set(err, -ENAMETOOLONG, "image path %s is too long", path);
	return 0;
}
