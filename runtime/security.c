/* SPDX-License-Identifier: Apache-2.0 */
/* What a container may do: Docker's default capability set (no NET_ADMIN, no SYS_ADMIN) in the
 * bounding, permitted, effective and inheritable sets, no_new_privs, and a default-allow seccomp
 * profile that refuses the syscalls a container has no business making. The profile is compiled
 * to BPF once (rt_seccomp_export, by berthd at its start) and loaded as it is by each container
 * init and exec; building it with libseccomp instead costs milliseconds per process. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <grp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

static const int security_caps[] = {
	CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FSETID,	    CAP_FOWNER,	    CAP_MKNOD,
	CAP_NET_RAW, CAP_SETGID,	CAP_SETUID,	    CAP_SETFCAP,    CAP_SETPCAP,
	CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
};

/* Refused with EPERM. */
static const char *const security_denied[] = {
	"kexec_load",	  "kexec_file_load", "init_module",	  "finit_module",
	"delete_module",  "mount",	     "umount2",		  "pivot_root",
	"reboot",	  "swapon",	     "swapoff",		  "keyctl",
	"add_key",	  "request_key",     "bpf",		  "ptrace",
	"acct",		  "settimeofday",    "clock_settime",	  "clock_adjtime",
	"adjtimex",	  "open_by_handle_at", "perf_event_open", "userfaultfd",
	"unshare",	  "setns",	     "fsopen",		  "fsconfig",
	"fsmount",	  "fspick",	     "open_tree",	  "move_mount",
	"mount_setattr",  "lookup_dcookie",  "quotactl",	  "uselib",
	"iopl",		  "ioperm",	     "syslog",		  "vhangup",
};

static uint64_t security_cap_mask(void)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < ARRAY_SIZE(security_caps); i++)
		mask |= 1ULL << security_caps[i];
	return mask;
}

static int security_cap_last(void)
{
	char buf[16] = { 0 };
	_cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || rt_read_all(fd, buf, sizeof(buf)) <= 0)
		return 63;
	return atoi(buf);
}

static int security_bounding_drop(uint64_t keep, struct berr *err)
{
	int last = security_cap_last();

	for (int cap = 0; cap <= last && cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return berr_errno(err, -errno, "dropping capability %d from the bounding set", cap);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return berr_errno(err, -errno, "clearing the ambient capabilities");
	return 0;
}

/* keep in the effective, permitted and inheritable sets (0: none, a user other than root). */
static int security_caps_set(uint64_t keep, struct berr *err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(keep >> (32 * i));
		data[i].permitted = data[i].effective;
		data[i].inheritable = data[i].effective;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return berr_errno(err, -errno, "setting the container's capabilities");
	return 0;
}

static int security_user_set(const struct rt_user *u, struct berr *err)
{
	if (setgroups(u->n_groups, u->groups) < 0)
		return berr_errno(err, -errno, "setting the supplementary groups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return berr_errno(err, -errno, "setting group %u", (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return berr_errno(err, -errno, "setting user %u", (unsigned)u->uid);
	return 0;
}

int rt_workdir_enter(const char *dir, struct berr *err)
{
	int r;

	if (!dir || !*dir)
		return 0;
	r = mkdir_p(dir, 0755, err);
	if (r < 0)
		return berr_prefix(err, "creating working directory %s", dir);
	if (chdir(dir) < 0)
		return berr_errno(err, -errno, "entering working directory %s", dir);
	return 0;
}

static int security_rule_errno(scmp_filter_ctx ctx, const char *name, int code)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(code), nr, 0);
}

static int security_rules_add(scmp_filter_ctx ctx)
{
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(security_denied) && r >= 0; i++)
		r = security_rule_errno(ctx, security_denied[i], EPERM);
	/* clone3 passes its flags in memory seccomp cannot read: make libc fall back to clone */
	if (r >= 0)
		r = security_rule_errno(ctx, "clone3", ENOSYS);
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	return r;
}

static int security_filter_build(scmp_filter_ctx *ret, struct berr *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return berr_set(err, -ENOMEM, "creating the seccomp filter");
	r = security_rules_add(ctx);
	if (r < 0) {
		seccomp_release(ctx);
		return berr_errno(err, r, "building the seccomp filter");
	}
	*ret = ctx;
	return 0;
}

/* prog as rt_seccomp_read got it, else built here. */
static int security_seccomp_load(const struct rt_seccomp *prog, struct berr *err)
{
	scmp_filter_ctx ctx = NULL;
	int r;

	if (prog && prog->n) {
		struct sock_fprog fp = { .len = (unsigned short)prog->n, .filter = prog->insns };

		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) < 0)
			return berr_errno(err, -errno, "loading the seccomp filter");
		return 0;
	}
	r = security_filter_build(&ctx, err);
	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return berr_errno(err, r, "loading the seccomp filter");
	return 0;
}

int rt_seccomp_export(const char *path, struct berr *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	_cleanup_close_ int fd = -1;
	scmp_filter_ctx ctx = NULL;
	int r = security_filter_build(&ctx, err);

	if (r < 0)
		return r;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		r = berr_errno(err, -errno, "creating %s", tmp);
	else if ((r = seccomp_export_bpf(ctx, fd)) < 0)
		berr_errno(err, r, "compiling the seccomp filter into %s", tmp);
	else if (fsync(fd) < 0 || rename(tmp, path) < 0)
		r = berr_errno(err, -errno, "writing %s", path);
	seccomp_release(ctx);
	if (r < 0)
		unlink(tmp);
	return r;
}

int rt_seccomp_read(const char *path, struct rt_seccomp *ret, struct berr *err)
{
	const size_t max = BPF_MAXINSNS * sizeof(struct sock_filter);
	char *buf = NULL;
	size_t len = 0;
	int r;

	ret->insns = NULL;
	ret->n = 0;
	if (!path)
		return 0;
	r = read_file(path, max, &buf, &len, err);
	if (r == -ENOENT)
		return 0;   /* not exported: built by rt_security_apply */
	if (r < 0)
		return berr_prefix(err, "reading the seccomp filter");
	if (len == 0 || len % sizeof(struct sock_filter) != 0) {
		free(buf);
		return berr_set(err, -EINVAL, "%s is not a seccomp filter (%zu bytes)", path, len);
	}
	ret->insns = (struct sock_filter *)buf;
	ret->n = len / sizeof(struct sock_filter);
	return 0;
}

int rt_security_apply(const struct rt_user *user, const struct rt_seccomp *prog,
		      struct berr *err)
{
	static const struct rt_user root;
	int r;

	if (!user)
		user = &root;
	r = security_bounding_drop(security_cap_mask(), err);
	if (r >= 0)
		r = security_user_set(user, err);
	/* a user other than root lost its capabilities with setresuid; clear the inheritable too */
	if (r >= 0)
		r = security_caps_set(user->uid == 0 ? security_cap_mask() : 0, err);
	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return berr_errno(err, -errno, "setting no_new_privs");
	return security_seccomp_load(prog, err);
}
