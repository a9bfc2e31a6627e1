/* SPDX-License-Identifier: Apache-2.0 */
/* Network namespaces: work done inside one (netns_run) by a thread that serves nothing else, and
 * namespaces kept alive by a bind mount on a file, the way `ip netns add` does it.
 *
 * This file and the container runtime's children are the only places that change a namespace,
 * and only on threads that serve nothing else: the namespace worker (it enters, runs the job,
 * goes back; if it cannot go back it ends) or, for a call made from inside a job, a thread made
 * for it. No failed return can leave a thread that serves requests (the API's, the main loop,
 * the DNS server) inside a container. tests/system/test_static.sh checks that no other code
 * calls setns. */
#include "netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/nsfs.h>
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
	struct berr *err;                      /* the caller's: it waits until done */
	int r;
	bool done;
};

static __thread bool in_job;               /* this thread runs a job */

/* Enters the job's namespace (a new one for netns_fd < 0) and runs it. */
static void netns_job_do(struct netns_job *job)
{
	in_job = true;
	if (job->netns_fd >= 0 && setns(job->netns_fd, CLONE_NEWNET) < 0)
		job->r = berr_errno(job->err, -errno, "entering a network namespace");
	else if (job->netns_fd < 0 && unshare(CLONE_NEWNET) < 0)
		job->r = berr_errno(job->err, -errno, "creating a network namespace");
	else
		job->r = job->fn(job->arg, job->err);
}

static void *netns_job_thread(void *p)
{
	netns_job_do(p);
	return NULL;   /* the thread ends in that namespace: nothing to undo */
}

/* A thread for this job alone (a call made from inside a job: the worker is busy with it). */
static int netns_job_run(struct netns_job *job)
{
	pthread_t thread;
	int r = pthread_create(&thread, NULL, netns_job_thread, job);

	if (r != 0)
		return berr_errno(job->err, -r, "starting a thread for a network namespace");
	pthread_join(thread, NULL);
	return job->r;
}

/* The worker: a thread that runs jobs one at a time and does nothing else (a hand-over costs
 * less than making a thread per call, and has no long tail). After each job it goes back to the namespace it was
 * started in, so it keeps no container's namespace alive; if it cannot, it ends there and the
 * next call starts a new worker. It blocks every signal: they are the event loop's. */
static struct {
	pthread_mutex_t call;                  /* held by the caller being served */
	pthread_mutex_t lock;                  /* job, done, alive */
	pthread_cond_t cv;
	struct netns_job *job;
	bool alive;
} worker = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	     NULL, false };

static struct netns_job *netns_worker_next(void)
{
	struct netns_job *job;

	pthread_mutex_lock(&worker.lock);
	while (!worker.job)
		pthread_cond_wait(&worker.cv, &worker.lock);
	job = worker.job;
	pthread_mutex_unlock(&worker.lock);
	return job;
}

static void *netns_worker_main(void *p)
{
	int home = (int)(intptr_t)p;
	bool back = true;

	while (back) {
		struct netns_job *job = netns_worker_next();

		netns_job_do(job);
		back = setns(home, CLONE_NEWNET) == 0;
		pthread_mutex_lock(&worker.lock);
		worker.job = NULL;
		worker.alive = back;
		job->done = true;
		pthread_cond_broadcast(&worker.cv);
		pthread_mutex_unlock(&worker.lock);
	}
	close(home);
	return NULL;
}

/* Lock held. The worker's home is the caller's namespace: callers never change theirs. */
static int netns_worker_start(struct berr *err)
{
	int home = open(SELF_NETNS, O_RDONLY | O_CLOEXEC), r;
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t thread;

	if (home < 0)
		return berr_errno(err, -errno, "starting the namespace worker: opening %s",
				  SELF_NETNS);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&thread, &attr, netns_worker_main, (void *)(intptr_t)home);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		close(home);
		return berr_errno(err, -r, "starting the namespace worker");
	}
	worker.alive = true;
	return 0;
}

static int netns_worker_call(struct netns_job *job)
{
	int r = 0;

	if (in_job)
		return netns_job_run(job);
	pthread_mutex_lock(&worker.call);
	pthread_mutex_lock(&worker.lock);
	if (!worker.alive)
		r = netns_worker_start(job->err);
	if (r >= 0) {
		worker.job = job;
		pthread_cond_broadcast(&worker.cv);
		while (!job->done)
			pthread_cond_wait(&worker.cv, &worker.lock);
		r = job->r;
	}
	pthread_mutex_unlock(&worker.lock);
	pthread_mutex_unlock(&worker.call);
	return r;
}

int netns_run(int netns_fd, int (*fn)(void *arg, struct berr *err), void *arg, struct berr *err)
{
	struct netns_job job = { .netns_fd = netns_fd, .fn = fn, .arg = arg, .err = err };

	if (netns_fd < 0)
		return berr_set(err, -EBADF, "entering a network namespace: no namespace given");
	return netns_worker_call(&job);
}

int netns_run_scratch(int (*fn)(void *arg, struct berr *err), void *arg, struct berr *err)
{
	struct netns_job job = { .netns_fd = -1, .fn = fn, .arg = arg, .err = err };

	return netns_worker_call(&job);
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

	return netns_worker_call(&job);
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

int netns_path_check(const char *path, uint64_t *ret_ino, struct berr *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	int type;

	if (fd < 0)
		return berr_errno(err, -errno, "%s", path);
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0 || type != CLONE_NEWNET)
		return berr_set(err, -EINVAL, "%s is not a network namespace", path);
	if (fstat(fd, &st) < 0)
		return berr_errno(err, -errno, "%s", path);
	if (ret_ino)
		*ret_ino = (uint64_t)st.st_ino;
	return 0;
}

int netns_bind_path(const char *src, const char *path, struct berr *err)
{
	int r = netns_path_check(src, NULL, err);

	if (r < 0)
		return r;
	if (netns_is_mounted(path)) {
		if (same_file(src, path))
			return 0;
		return berr_set(err, -EEXIST, "%s already holds another namespace", path);
	}
	r = netns_dir_prepare(path, err);
	if (r >= 0)
		r = netns_file_create(path, err);
	if (r >= 0) {
		r = netns_bind(src, path, err);
		if (r < 0)
			unlink(path);
	}
	return r;
}

int netns_bind_pid(pid_t pid, const char *path, struct berr *err)
{
	char src[64];
	int r;

	snprintf(src, sizeof(src), "/proc/%d/ns/net", (int)pid);
	r = netns_bind_path(src, path, err);
	if (r == -EEXIST)
		return berr_set(err, r, "adopting the network namespace of process %d: %s "
				"already holds another namespace", (int)pid, path);
	if (r < 0)
		return berr_prefix(err, "adopting the network namespace of process %d", (int)pid);
	return 0;
}
