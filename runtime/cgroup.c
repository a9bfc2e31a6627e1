/* SPDX-License-Identifier: Apache-2.0 */
/* Resource limits, usage and OOM kills of a container's cgroup: <cgroup root>/berth/<id> on
 * cgroup v2, or <root>/<controller>/berth/<id> for memory, pids, cpu and cpuacct on a v1
 * hierarchy (a hybrid machine counts as v1: its unified tree holds none of these controllers).
 * Best effort unless a limit is requested: then a controller that is missing is an error.
 *
 * Moving a process by writing its pid to cgroup.procs takes the kernel's global threadgroup lock
 * for writing, which waits for an RCU grace period: 5-12 ms of each start on a 2-CPU machine. A
 * thread that moves itself through a v1 "tasks" file ("0") skips that lock, so on v1 the shim
 * makes the cgroups and sets their limits, and the init joins them itself (rt_cgroup_enter), as
 * an exec does (rt_cgroup_join). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

#define CG_ROOT "/sys/fs/cgroup"
#define CG_VALUE_MAX 64

static bool cg_is_v2(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

static int cg_write(const char *dir, const char *file, const char *val, struct berr *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return berr_errno(err, -errno, "opening %s", path);
	if (write(fd, val, strlen(val)) < 0)
		return berr_errno(err, -errno, "writing %s to %s", val, path);
	return 0;
}

static int cg_mkdir(const char *path, struct berr *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return berr_errno(err, -errno, "creating cgroup %s", path);
	return 0;
}

static int cg_move(const char *dir, pid_t pid, struct berr *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return cg_write(dir, "cgroup.procs", buf, err);
}

/* v1: the calling thread into dir (the whole process when it has one thread). */
static int cg1_move_self(const char *dir, struct berr *err)
{
	return cg_write(dir, "tasks", "0", err);
}

/* ---- what to write: (file, value) pairs per controller ---- */

struct cg_setting {
	const char *file;
	char value[CG_VALUE_MAX];
	bool optional;      /* absent without swap accounting: skipped, as Docker does */
};

struct cg_settings {
	struct cg_setting v[4];
	size_t n;
	bool required;      /* a limit was asked for: failures are errors */
};

static void cg_set(struct cg_settings *s, const char *file, const char *fmt, int64_t a, int64_t b)
{
	struct cg_setting *e = &s->v[s->n++];

	e->file = file;
	e->optional = strstr(file, "swap") || strstr(file, "memsw");
	snprintf(e->value, sizeof(e->value), fmt, a, b);
	s->required = true;
}

static bool rt_limits_any(const struct rt_spec *spec)
{
	return spec->memory_max > 0 || spec->pids_max > 0 || spec->cpu_quota_us > 0 ||
	       spec->cpu_shares > 0;
}

/* cgroup v1: memory before memory+swap (the kernel wants memsw >= memory at every step). */
static void cg1_settings(const char *ctrl, const struct rt_spec *spec, struct cg_settings *s)
{
	memset(s, 0, sizeof(*s));
	if (!strcmp(ctrl, "memory") && spec->memory_max > 0) {
		cg_set(s, "memory.limit_in_bytes", "%" PRId64, spec->memory_max, 0);
		if (spec->memory_swap_max != 0)
			cg_set(s, "memory.memsw.limit_in_bytes", "%" PRId64, spec->memory_swap_max, 0);
	} else if (!strcmp(ctrl, "pids") && spec->pids_max > 0) {
		cg_set(s, "pids.max", "%" PRId64, spec->pids_max, 0);
	} else if (!strcmp(ctrl, "cpu")) {
		if (spec->cpu_quota_us > 0) {
			cg_set(s, "cpu.cfs_period_us", "%" PRId64, spec->cpu_period_us, 0);
			cg_set(s, "cpu.cfs_quota_us", "%" PRId64, spec->cpu_quota_us, 0);
		}
		if (spec->cpu_shares > 0)
			cg_set(s, "cpu.shares", "%" PRId64, spec->cpu_shares, 0);
	}
}

/* cgroup v2: memory.swap.max holds the swap alone; cpu.weight is Docker's conversion of shares
 * (2..262144 -> 1..10000). */
static void cg2_settings(const struct rt_spec *spec, struct cg_settings *s)
{
	memset(s, 0, sizeof(*s));
	if (spec->memory_max > 0) {
		cg_set(s, "memory.max", "%" PRId64, spec->memory_max, 0);
		if (spec->memory_swap_max > 0)
			cg_set(s, "memory.swap.max", "%" PRId64,
			       spec->memory_swap_max - spec->memory_max, 0);
	}
	if (spec->pids_max > 0)
		cg_set(s, "pids.max", "%" PRId64, spec->pids_max, 0);
	if (spec->cpu_quota_us > 0)
		cg_set(s, "cpu.max", "%" PRId64 " %" PRId64, spec->cpu_quota_us, spec->cpu_period_us);
	if (spec->cpu_shares > 0)
		cg_set(s, "cpu.weight", "%" PRId64, rt_cpu_shares_to_weight(spec->cpu_shares), 0);
}

int64_t rt_cpu_shares_to_weight(int64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static int cg_apply(const char *dir, const struct cg_settings *s, struct berr *err)
{
	int r = 0;

	for (size_t i = 0; i < s->n && r >= 0; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, s->v[i].file);

		if (s->v[i].optional && access(path, F_OK) < 0)
			continue;
		r = cg_write(dir, s->v[i].file, s->v[i].value, err);
	}
	return r;
}

/* ---- setup ---- */

static int cg2_setup(const struct rt_spec *spec, pid_t pid, struct berr *err)
{
	static const char *const ctrls[] = { "+memory", "+pids", "+cpu" };
	_cleanup_free_ char *dir = xasprintf(CG_ROOT "/berth/%s", spec->id);
	struct cg_settings s;
	int r;

	r = cg_mkdir(CG_ROOT "/berth", err);
	if (r < 0)
		return r;
	/* one controller at a time: a missing one must not block the others */
	for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
		cg_write(CG_ROOT, "cgroup.subtree_control", ctrls[i], NULL);
		cg_write(CG_ROOT "/berth", "cgroup.subtree_control", ctrls[i], NULL);
	}
	cg2_settings(spec, &s);
	r = cg_mkdir(dir, err);
	if (r >= 0)
		r = cg_apply(dir, &s, err);
	if (r >= 0)
		r = cg_move(dir, pid, err);
	return r;
}

static const char *const cg1_ctrls[] = { "memory", "pids", "cpu", "cpuacct" };

/* One v1 controller: with self, the calling thread joins the cgroup, else it is made and its
 * limits set. Errors count only for a controller a limit was asked of. */
static int cg1_controller(const char *ctrl, const struct rt_spec *spec, bool self,
			  struct berr *err)
{
	_cleanup_free_ char *base = xasprintf(CG_ROOT "/%s/berth", ctrl);
	_cleanup_free_ char *dir = xasprintf("%s/%s", base, spec->id);
	struct berr ignored = BERR_INIT;
	struct cg_settings s;
	int r;

	cg1_settings(ctrl, spec, &s);
	if (!s.required)
		err = &ignored;
	if (self) {
		r = cg1_move_self(dir, err);
	} else {
		r = cg_mkdir(base, err);
		if (r >= 0)
			r = cg_mkdir(dir, err);
		if (r >= 0)
			r = cg_apply(dir, &s, err);
	}
	return s.required ? r : 0;
}

static int cg1_setup(const struct rt_spec *spec, bool self, struct berr *err)
{
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cg1_ctrls) && r >= 0; i++)
		r = cg1_controller(cg1_ctrls[i], spec, self, err);
	return r;
}

int rt_cgroup_setup(const struct rt_spec *spec, pid_t pid, struct berr *err)
{
	bool limited = rt_limits_any(spec);
	struct berr ignored = BERR_INIT;
	int r;

	if (cg_is_v2(CG_ROOT))
		r = cg2_setup(spec, pid, limited ? err : &ignored);
	else
		r = cg1_setup(spec, false, err);
	if (r < 0 && limited)
		return berr_prefix(err, "applying the resource limits of container %s", spec->id);
	return 0;
}

int rt_cgroup_enter(const struct rt_spec *spec, struct berr *err)
{
	int r;

	if (cg_is_v2(CG_ROOT))
		return 0;   /* rt_cgroup_setup moved us */
	r = cg1_setup(spec, true, err);
	if (r < 0)
		return berr_prefix(err, "applying the resource limits of container %s", spec->id);
	return 0;
}

/* The kernel releases an emptied cgroup shortly after its last task is reaped. Best effort, by
 * design: a cgroup left behind holds no process and no limit, and the next start of the same ID
 * takes it over (cg_mkdir accepts an existing one, cg_apply rewrites every limit). */
static void cg_rmdir(const char *path)
{
	for (int i = 0; i < 100; i++) {
		if (rmdir(path) == 0 || errno != EBUSY)
			return;
		usleep(2000);
	}
}

void rt_cgroup_remove(const char *id)
{
	static const char *const bases[] = { CG_ROOT "/berth", CG_ROOT "/memory/berth",
					     CG_ROOT "/pids/berth", CG_ROOT "/cpu/berth",
					     CG_ROOT "/cpuacct/berth" };

	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", bases[i], id);

		cg_rmdir(dir);
	}
}

/* ---- reading ---- */

/* The first number of a cgroup file (or of its line starting with key), -1 when unreadable;
 * "max" reads as 0 (no limit). */
static int64_t cg_read(const char *dir, const char *file, const char *key)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_free_ char *text = NULL;
	const char *p;
	size_t klen = key ? strlen(key) : 0;

	if (read_file(path, 65536, &text, NULL, NULL) < 0)
		return -1;
	p = text;
	if (key) {
		for (; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
			if (!strncmp(p, key, klen) && p[klen] == ' ')
				break;
		if (!p)
			return -1;
		p += klen + 1;
	}
	if (!strncmp(p, "max", 3))
		return 0;
	return strtoll(p, NULL, 10);
}

/* Where each statistic lives: v1 controller, file and key; v2 file, key and unit (µs -> ns). */
static const struct {
	size_t off;
	const char *ctrl1, *file1, *key1;
	const char *file2, *key2;
	int64_t scale2;
} cg_stat_srcs[] = {
	{ offsetof(struct rt_cg_stats, cpu_ns), "cpuacct", "cpuacct.usage", NULL,
	  "cpu.stat", "usage_usec", 1000 },
	{ offsetof(struct rt_cg_stats, mem_usage), "memory", "memory.usage_in_bytes", NULL,
	  "memory.current", NULL, 1 },
	{ offsetof(struct rt_cg_stats, mem_limit), "memory", "memory.limit_in_bytes", NULL,
	  "memory.max", NULL, 1 },
	{ offsetof(struct rt_cg_stats, mem_inactive_file), "memory", "memory.stat",
	  "total_inactive_file", "memory.stat", "inactive_file", 1 },
	{ offsetof(struct rt_cg_stats, pids), "pids", "pids.current", NULL,
	  "pids.current", NULL, 1 },
	{ offsetof(struct rt_cg_stats, pids_limit), "pids", "pids.max", NULL, "pids.max", NULL, 1 },
	{ offsetof(struct rt_cg_stats, oom_kills), "memory", "memory.oom_control", "oom_kill",
	  "memory.events", "oom_kill", 1 },
};

void rt_cgroup_stats(const char *id, struct rt_cg_stats *ret)
{
	bool v2 = cg_is_v2(CG_ROOT);

	for (size_t i = 0; i < ARRAY_SIZE(cg_stat_srcs); i++) {
		_cleanup_free_ char *dir = v2 ? xasprintf(CG_ROOT "/berth/%s", id)
					      : xasprintf(CG_ROOT "/%s/berth/%s",
							  cg_stat_srcs[i].ctrl1, id);
		int64_t v = v2 ? cg_read(dir, cg_stat_srcs[i].file2, cg_stat_srcs[i].key2)
			       : cg_read(dir, cg_stat_srcs[i].file1, cg_stat_srcs[i].key1);

		if (v2 && v > 0)
			v *= cg_stat_srcs[i].scale2;
		*(int64_t *)((char *)ret + cg_stat_srcs[i].off) = v;
	}
	/* v1 reports "no limit" as a page-aligned huge number */
	if (ret->mem_limit >= (INT64_MAX / 2))
		ret->mem_limit = 0;
}

/* ---- exec: join the container's cgroups ---- */

/* One line of /proc/<pid>/cgroup: "<hierarchy>:<controllers>:<path>"; only berth's cgroups
 * are joined (a process outside its container's limits would escape them: an error). The
 * caller is single-threaded (it is about to join a mount namespace): on v1 it moves itself. */
static int cg_join_line(char *line, struct berr *err)
{
	char *ctrls = strchr(line, ':'), *path, *save = NULL;
	int r = 0;

	if (!ctrls || !(path = strchr(++ctrls, ':')))
		return 0;
	*path++ = '\0';
	path[strcspn(path, "\n")] = '\0';
	if (strncmp(path, "/berth/", 7) != 0)
		return 0;
	if (!*ctrls) {
		_cleanup_free_ char *dir = xasprintf("%s%s", cg_is_v2(CG_ROOT) ? CG_ROOT :
						     CG_ROOT "/unified", path);

		return cg_move(dir, getpid(), err);
	}
	for (char *c = strtok_r(ctrls, ",", &save); c && r >= 0; c = strtok_r(NULL, ",", &save)) {
		_cleanup_free_ char *dir = xasprintf(CG_ROOT "/%s%s", c, path);

		r = cg1_move_self(dir, err);
	}
	return r;
}

int rt_cgroup_join(pid_t target, struct berr *err)
{
	char path[64];
	_cleanup_fclose_ FILE *f = NULL;
	char line[1024];
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)target);
	f = fopen(path, "re");
	if (!f)
		return berr_errno(err, -errno, "reading the cgroups of process %d", (int)target);
	while (r >= 0 && fgets(line, sizeof(line), f))
		r = cg_join_line(line, err);
	return r < 0 ? berr_prefix(err, "joining the cgroups of process %d", (int)target) : 0;
}
