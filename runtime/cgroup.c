/* SPDX-License-Identifier: Apache-2.0 */
/* Optional memory and pids limits: <cgroup root>/berth/<id> on cgroup v2, or
 * <root>/{memory,pids}/berth/<id> on a v1 hierarchy. Best effort unless a limit is requested. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

#define CG_ROOT "/sys/fs/cgroup"

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

static int cg_limit(const char *dir, const char *file, int64_t val, struct berr *err)
{
	char buf[32];

	if (val <= 0)
		return 0;
	snprintf(buf, sizeof(buf), "%" PRId64, val);
	return cg_write(dir, file, buf, err);
}

static int cg_move(const char *dir, pid_t pid, struct berr *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return cg_write(dir, "cgroup.procs", buf, err);
}

static int cg2_setup(const struct rt_spec *spec, pid_t pid, struct berr *err)
{
	_cleanup_free_ char *dir = xasprintf(CG_ROOT "/berth/%s", spec->id);
	int r;

	r = cg_mkdir(CG_ROOT "/berth", err);
	if (r < 0)
		return r;
	/* one controller at a time: a missing one must not block the other */
	cg_write(CG_ROOT, "cgroup.subtree_control", "+memory", NULL);
	cg_write(CG_ROOT, "cgroup.subtree_control", "+pids", NULL);
	cg_write(CG_ROOT "/berth", "cgroup.subtree_control", "+memory", NULL);
	cg_write(CG_ROOT "/berth", "cgroup.subtree_control", "+pids", NULL);
	r = cg_mkdir(dir, err);
	if (r >= 0)
		r = cg_limit(dir, "memory.max", spec->memory_max, err);
	if (r >= 0)
		r = cg_limit(dir, "pids.max", spec->pids_max, err);
	if (r >= 0)
		r = cg_move(dir, pid, err);
	return r;
}

static int cg1_controller(const char *ctrl, const char *file, int64_t limit, const char *id,
			  pid_t pid, struct berr *err)
{
	_cleanup_free_ char *base = xasprintf(CG_ROOT "/%s/berth", ctrl);
	_cleanup_free_ char *dir = xasprintf("%s/%s", base, id);
	int r;

	r = cg_mkdir(base, err);
	if (r >= 0)
		r = cg_mkdir(dir, err);
	if (r >= 0)
		r = cg_limit(dir, file, limit, err);
	if (r >= 0)
		r = cg_move(dir, pid, err);
	return r;
}

static int cg1_setup(const struct rt_spec *spec, pid_t pid, struct berr *err)
{
	struct berr ignored = BERR_INIT;
	int r;

	r = cg1_controller("memory", "memory.limit_in_bytes", spec->memory_max, spec->id, pid,
			   spec->memory_max > 0 ? err : &ignored);
	if (r < 0 && spec->memory_max > 0)
		return r;
	r = cg1_controller("pids", "pids.max", spec->pids_max, spec->id, pid,
			   spec->pids_max > 0 ? err : &ignored);
	if (r < 0 && spec->pids_max > 0)
		return r;
	return 0;
}

int rt_cgroup_setup(const struct rt_spec *spec, pid_t pid, struct berr *err)
{
	bool limited = spec->memory_max > 0 || spec->pids_max > 0;
	struct berr ignored = BERR_INIT;
	int r;

	if (cg_is_v2(CG_ROOT))
		r = cg2_setup(spec, pid, limited ? err : &ignored);
	else
		r = cg1_setup(spec, pid, limited ? err : &ignored);
	if (r < 0 && limited)
		return berr_prefix(err, "applying the resource limits of container %s", spec->id);
	return 0;
}

/* The kernel releases an emptied cgroup shortly after its last task is reaped. */
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
					     CG_ROOT "/pids/berth" };

	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", bases[i], id);

		cg_rmdir(dir);
	}
}

/* One line of /proc/<pid>/cgroup: "<hierarchy>:<controllers>:<path>". */
static void cg_join_line(char *line)
{
	char *ctrls = strchr(line, ':'), *path, *save = NULL;

	if (!ctrls || !(path = strchr(++ctrls, ':')))
		return;
	*path++ = '\0';
	path[strcspn(path, "\n")] = '\0';
	if (strncmp(path, "/berth/", 7) != 0)
		return;
	if (!*ctrls) {
		_cleanup_free_ char *dir = xasprintf("%s%s", cg_is_v2(CG_ROOT) ? CG_ROOT :
						     CG_ROOT "/unified", path);

		cg_move(dir, getpid(), NULL);
		return;
	}
	for (char *c = strtok_r(ctrls, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		_cleanup_free_ char *dir = xasprintf(CG_ROOT "/%s%s", c, path);

		cg_move(dir, getpid(), NULL);
	}
}

void rt_cgroup_join(pid_t target)
{
	char path[64];
	_cleanup_fclose_ FILE *f = NULL;
	char line[1024];

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)target);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		cg_join_line(line);
}
