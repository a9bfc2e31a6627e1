/* SPDX-License-Identifier: Apache-2.0 */
/* Network namespaces: work done inside one by a thread made for it, and namespaces kept alive by
 * a bind mount on a file, the way `ip netns add` does it.
 *
 * This file and the container runtime's children are the only places that change a namespace:
 * the thread that does it is created for the job, joins the namespace, runs the job and exits.
 * It never has to come back, so no failed return can leave a thread that serves requests (the
 * API's, the main loop, the DNS server) inside a container. tests/system/test_static.sh checks
 * that no other code calls setns. */
#include "netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "common/util.h"

#define SELF_NETNS "/proc/thread-self/ns/net"
#define UMOUNT_MAX 8

struct netns_job {
	int netns_fd;                          /* -1: a new namespace */
	int (*fn)(void *arg, struct berr *err);
	void *arg;
	struct berr *err;                      /* the caller's: it waits in pthread_join */
	int r;
};

static void *netns_job_thread(void *p)
{
	struct netns_job *job = p;

	if (job->netns_fd >= 0 && setns(job->netns_fd, CLONE_NEWNET) < 0)
		job->r = berr_errno(job->err, -errno, "entering a network namespace");
	else if (job->netns_fd < 0 && unshare(CLONE_NEWNET) < 0)
		job->r = berr_errno(job->err, -errno, "creating a network namespace");
	else
		job->r = job->fn(job->arg, job->err);
	return NULL;   /* the thread ends in that namespace: nothing to undo */
}

static int netns_job_run(struct netns_job *job)
{
	pthread_t thread;
	int r = pthread_create(&thread, NULL, netns_job_thread, job);

	if (r != 0)
		return berr_errno(job->err, -r, "starting a thread for a network namespace");
	pthread_join(thread, NULL);
	return job->r;
}

int netns_run(int netns_fd, int (*fn)(void *arg, struct berr *err), void *arg, struct berr *err)
{
	struct netns_job job = { .netns_fd = netns_fd, .fn = fn, .arg = arg, .err = err };

	if (netns_fd < 0)
		return berr_set(err, -EBADF, "entering a network namespace: no namespace given");
	return netns_job_run(&job);
}

static bool netns_is_mounted(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == (typeof(st.f_type))NSFS_MAGIC;
}

/* Make the directory of path a shared mount point (binding it on itself first when it is not a
 * mount point), so namespaces mounted there propagate to mount namespaces created later. */
static int netns_dir_prepare(const char *path, struct berr *err)
{
	char buf[PATH_MAX];
	const char *dir;
	bool bound = false;

	if (strscpy(buf, path, sizeof(buf)) < 0)
		return berr_set(err, -ENAMETOOLONG, "namespace path %s is too long", path);
	dir = dirname(buf);
	while (mount("", dir, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || bound)
			return berr_errno(err, -errno, "making %s a shared mount point", dir);
		if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
			return berr_errno(err, -errno, "bind-mounting %s on itself", dir);
		bound = true;
	}
	return 0;
}

static int netns_file_create(const char *path, struct berr *err)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);

	if (fd < 0)
		return berr_errno(err, -errno, "creating %s", path);
	close(fd);
	return 0;
}

static int netns_bind(const char *src, const char *path, struct berr *err)
{
	if (mount(src, path, "none", MS_BIND, NULL) < 0)
		return berr_errno(err, -errno, "bind-mounting %s on %s", src, path);
	return 0;
}

static int netns_lo_up(struct berr *err)
{
	_cleanup_(nlx_closep) struct nlx *nl = NULL;
	int r;

	r = nlx_open(-1, &nl, err);
	if (r < 0)
		return r;
	return nlx_link_set_up(nl, "lo", true, err);
}

/* Runs in the new namespace: pin it at path, loopback up. */
static int netns_new_here(void *arg, struct berr *err)
{
	int r = netns_bind(SELF_NETNS, arg, err);

	return r < 0 ? r : netns_lo_up(err);
}

static int netns_new(const char *path, struct berr *err)
{
	struct netns_job job = { .netns_fd = -1, .fn = netns_new_here, .arg = (void *)path,
				 .err = err };

	return netns_job_run(&job);
}

int netns_create(const char *path, struct berr *err)
{
	struct berr ignored = BERR_INIT;
	int r;

	if (netns_is_mounted(path))
		return 0;
	r = netns_dir_prepare(path, err);
	if (r < 0)
		return berr_prefix(err, "creating network namespace %s", path);
	r = netns_file_create(path, err);
	if (r < 0)
		return berr_prefix(err, "creating network namespace %s", path);
	r = netns_new(path, err);
	if (r < 0) {
		netns_delete(path, &ignored);
		return berr_prefix(err, "creating network namespace %s", path);
	}
	return 0;
}

int netns_delete(const char *path, struct berr *err)
{
	int i;

	for (i = 0; i < UMOUNT_MAX && netns_is_mounted(path); i++)
		if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			return berr_errno(err, -errno, "unmounting network namespace %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return berr_errno(err, -errno, "removing network namespace %s", path);
	return 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int netns_bind_pid(pid_t pid, const char *path, struct berr *err)
{
	char src[64];
	int r;

	snprintf(src, sizeof(src), "/proc/%d/ns/net", (int)pid);
	if (netns_is_mounted(path)) {
		if (same_file(src, path))
			return 0;
		return berr_set(err, -EEXIST, "adopting the network namespace of process %d: %s "
				"already holds another namespace", (int)pid, path);
	}
	r = netns_dir_prepare(path, err);
	if (r >= 0)
		r = netns_file_create(path, err);
	if (r >= 0) {
		r = netns_bind(src, path, err);
		if (r < 0)
			unlink(path);
	}
	if (r < 0)
		return berr_prefix(err, "adopting the network namespace of process %d", (int)pid);
	return 0;
}
