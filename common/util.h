/* SPDX-License-Identifier: Apache-2.0 */
/* Cleanup attributes, ownership hand-off, logging and small helpers shared by every module. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand ownership out of a cleanup-managed variable. */
#define steal_ptr(p)                      \
	({                                \
		__typeof__(p) _tmp = (p); \
		(p) = NULL;               \
		_tmp;                     \
	})
#define steal_fd(fd)             \
	({                       \
		int _tmp = (fd); \
		(fd) = -1;       \
		_tmp;            \
	})

/* Logging: the edges set the level; library modules log at debug only. */
enum blog_level { BLOG_ERROR = 0, BLOG_WARN, BLOG_INFO, BLOG_DEBUG };
void blog_set_level(enum blog_level level);
int blog_parse_level(const char *s, enum blog_level *ret);
void blog(enum blog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define blog_debug(...) blog(BLOG_DEBUG, __VA_ARGS__)
#define blog_info(...) blog(BLOG_INFO, __VA_ARGS__)
#define blog_warn(...) blog(BLOG_WARN, __VA_ARGS__)
#define blog_error(...) blog(BLOG_ERROR, __VA_ARGS__)

/* Memory: abort on allocation failure (a daemon that cannot allocate 64 bytes cannot recover). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Bounded copy; returns -ENAMETOOLONG when src does not fit (dst then holds a truncated copy). */
int strscpy(char *dst, const char *src, size_t size);

/* Files. */
int write_file_atomic(const char *path, const char *data, size_t len, int mode, struct berr *err);
int read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct berr *err);
int mkdir_p(const char *path, int mode, struct berr *err);

/* Time: RFC 3339 UTC with nanoseconds ("2026-11-28T03:04:05.123456789Z") of now. */
void time_now_rfc3339(char buf[40]);
uint64_t time_mono_ns(void);

/* Crash injection for tests: if $BERTH_CRASH_AT equals `point`, the process kills itself with
 * SIGKILL right here. Used to prove that reconciliation repairs every intermediate state. */
void crash_point(const char *point);
/* Delay injection for tests: $BERTH_DELAY_AT is a list "point:ms[,point:ms...]"; when it names
 * `point`, the calling thread logs "delay injected at <point>" and sleeps that long right here.
 * Used to show that slow work (an image build, a removal) does not stall other requests. */
void delay_point(const char *point);

/* rm -rf; missing: success. Does not cross mount points. */
int rm_rf(const char *path, struct berr *err);
