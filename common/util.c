/* SPDX-License-Identifier: Apache-2.0 */
#include "common/util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

static enum blog_level log_level = BLOG_INFO;

void blog_set_level(enum blog_level level) { log_level = level; }

int blog_parse_level(const char *s, enum blog_level *ret)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum blog_level)i;
			return 0;
		}
	return -EINVAL;
}

void blog(enum blog_level level, const char *fmt, ...)
{
	static const char *const tags[] = { "error", "warn", "info", "debug" };
	char ts[40];
	va_list ap;

	if (level > log_level)
		return;
	time_now_rfc3339(ts);
	fprintf(stderr, "%s %-5s ", ts, tags[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		abort();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		abort();
	va_end(ap);
	return p;
}

int strscpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size == 0)
		return -ENAMETOOLONG;
	if (len >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, len + 1);
	return (int)len;
}

int write_file_atomic(const char *path, const char *data, size_t len, int mode, struct berr *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	_cleanup_close_ int fd = -1;
	size_t off = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return berr_errno(err, -errno, "creating %s", tmp);
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			unlink(tmp);
			return berr_errno(err, r, "writing %s", tmp);
		}
		off += (size_t)n;
	}
	if (rename(tmp, path) < 0) {
		int r = -errno;

		unlink(tmp);
		return berr_errno(err, r, "renaming %s", tmp);
	}
	return 0;
}

int read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct berr *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 4096;

	if (fd < 0)
		return berr_errno(err, -errno, "opening %s", path);
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= max)
				return berr_set(err, -EFBIG, "%s is larger than %zu bytes", path, max);
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_errno(err, -errno, "reading %s", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		return berr_set(err, -EFBIG, "%s is larger than %zu bytes", path, max);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = steal_ptr(buf);
	return 0;
}

int mkdir_p(const char *path, int mode, struct berr *err)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
			return berr_errno(err, -errno, "creating directory %s", p);
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
		return berr_errno(err, -errno, "creating directory %s", p);
	return 0;
}

void time_now_rfc3339(char buf[40])
{
	struct timespec ts;
	struct tm tm;

	char tmp[96];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
	strscpy(buf, tmp, 40);
}

uint64_t time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void crash_point(const char *point)
{
	const char *want = getenv("BERTH_CRASH_AT");

	if (want && strcmp(want, point) == 0) {
		blog_warn("crash injected at %s", point);
		kill(getpid(), SIGKILL);
	}
}

/* The delay in ms `spec` gives `point` ("a:10,b:20"), or -1. */
static long delay_of(const char *spec, const char *point)
{
	size_t len = strlen(point);

	for (const char *p = spec; p; p = strchr(p, ',')) {
		p += *p == ',';
		if (strncmp(p, point, len) == 0 && p[len] == ':')
			return strtol(p + len + 1, NULL, 10);
	}
	return -1;
}

void delay_point(const char *point)
{
	long ms = delay_of(getenv("BERTH_DELAY_AT"), point);
	struct timespec ts;

	if (ms < 0)
		return;
	blog_warn("delay injected at %s: %ld ms", point, ms);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

#include <ftw.h>

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int rm_rf(const char *path, struct berr *err)
{
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return berr_errno(err, -errno, "removing %s", path);
	return 0;
}
