/* SPDX-License-Identifier: Apache-2.0 */
/* sysctls under /proc/sys, as seen from the calling thread's network namespace. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

#define SYSCTL_PATH_MAX 256

/* "/proc/sys/" + key. A key containing '/' is taken as is (interface names may contain dots);
 * otherwise dots separate the components. */
static int sysctl_path(const char *key, char path[SYSCTL_PATH_MAX], struct berr *err)
{
	bool slashes = strchr(key, '/') != NULL;
	size_t i, off = strlen("/proc/sys/");

	if (!key[0] || key[0] == '/' || key[0] == '.' || strstr(key, "..") ||
	    strlen(key) >= SYSCTL_PATH_MAX - off)
		return berr_set(err, -EINVAL, "invalid sysctl name \"%s\"", key);
	memcpy(path, "/proc/sys/", off);
	for (i = 0; key[i]; i++)
		path[off + i] = (!slashes && key[i] == '.') ? '/' : key[i];
	path[off + i] = '\0';
	return 0;
}

/* Write value to fd, the sysctl file `key` was opened as (-1: that failed, errno says why). */
static int sysctl_put(int fd, const char *key, const char *value, struct berr *err)
{
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return berr_errno(err, -errno, "setting sysctl %s to %s", key, value);
	n = write(fd, value, len);
	if (n < 0)
		return berr_errno(err, -errno, "setting sysctl %s to %s", key, value);
	if ((size_t)n != len)
		return berr_set(err, -EIO, "setting sysctl %s to %s: short write", key, value);
	return 0;
}

int sysctl_write(const char *key, const char *value, struct berr *err)
{
	char path[SYSCTL_PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	r = sysctl_path(key, path, err);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	return sysctl_put(fd, key, value, err);
}

int sysctl_write_at(int dirfd, const char *rel, const char *value, struct berr *err)
{
	_cleanup_close_ int fd = openat(dirfd, rel, O_WRONLY | O_CLOEXEC);

	return sysctl_put(fd, rel, value, err);
}

int sysctl_read(const char *key, char *buf, size_t size, struct berr *err)
{
	char path[SYSCTL_PATH_MAX], extra;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int r;

	if (size < 2)
		return berr_set(err, -EINVAL, "reading sysctl %s: buffer too small", key);
	r = sysctl_path(key, path, err);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_errno(err, -errno, "reading sysctl %s", key);
	n = read(fd, buf, size - 1);
	if (n < 0)
		return berr_errno(err, -errno, "reading sysctl %s", key);
	if ((size_t)n == size - 1 && read(fd, &extra, 1) == 1)
		return berr_set(err, -EOVERFLOW, "reading sysctl %s: value longer than %zu bytes",
				key, size - 1);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}
