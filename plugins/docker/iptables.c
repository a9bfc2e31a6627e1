/* SPDX-License-Identifier: Apache-2.0 */
#include "plugins/docker/iptables.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "common/util.h"

extern char **environ;

#define IPT_ERR_MAX 512

char *dkp_iptables_rules(char (*bridges)[IFNAME_LEN], size_t n)
{
	static const char *const docker_bridges[] = { "docker0", "br-+" };
	size_t cap = 64 + n * 7 * (96 + 2 * IFNAME_LEN), len = 0;
	char *s = xmalloc(cap);
	const char *c = DKP_IPT_CHAIN;

	len += (size_t)snprintf(s + len, cap - len, "*filter\n:%s - [0:0]\n", c);
	for (size_t i = 0; i < n; i++) {
		const char *b = bridges[i];

		len += (size_t)snprintf(s + len, cap - len, "-A %s -i %s -o %s -j ACCEPT\n", c, b, b);
		for (size_t k = 0; k < ARRAY_SIZE(docker_bridges); k++)
			len += (size_t)snprintf(s + len, cap - len,
						"-A %s -i %s -o %s -m conntrack --ctstate "
						"RELATED,ESTABLISHED,DNAT -j RETURN\n"
						"-A %s -i %s -o %s -j DROP\n",
						c, b, docker_bridges[k], c, b, docker_bridges[k]);
		len += (size_t)snprintf(s + len, cap - len, "-A %s -i %s -j ACCEPT\n"
					"-A %s -o %s -j ACCEPT\n", c, b, c, b);
	}
	snprintf(s + len, cap - len, "COMMIT\n");
	return s;
}

/* Runs argv (found on PATH) with input on its stdin; 0 when it exits 0, -ENOENT when the
 * program is not installed, else -EIO with what it printed on stderr. */
static int ipt_run(char *const argv[], const char *input, struct berr *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status = 0, r;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char msg[IPT_ERR_MAX] = "";
	size_t got = 0;
	sigset_t none;
	ssize_t k;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		r = berr_errno(err, -errno, "pipe");
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	r = -posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r < 0) {
		if (r != -ENOENT)
			berr_errno(err, r, "running %s", argv[0]);
		goto out;
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (input && write(in[1], input, strlen(input)) < 0)
		blog_debug("%s: writing its input: %m", argv[0]);
	close(in[1]);
	in[1] = -1;
	while ((k = read(out[0], msg + got, sizeof(msg) - 1 - got)) > 0 && got < sizeof(msg) - 1)
		got += (size_t)k;
	msg[got] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
	if (r < 0)
		berr_set(err, r, "%s %s failed: %s", argv[0], argv[1], msg[0] ? msg : "no message");
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return r;
}

/* `tool -w -C chain -j target`, and when that rule is missing: create the chain (it may exist)
 * and insert it first. */
static int ipt_jump(const char *tool, const char *chain, const char *target, struct berr *err)
{
	char *check[] = { (char *)tool, "-w", "-C", (char *)chain, "-j", (char *)target, NULL };
	char *create[] = { (char *)tool, "-w", "-N", (char *)chain, NULL };
	char *insert[] = { (char *)tool, "-w", "-I", (char *)chain, "-j", (char *)target, NULL };
	struct berr ignored = BERR_INIT;

	if (ipt_run(check, NULL, &ignored) == 0)
		return 0;
	if (strcmp(chain, "FORWARD") != 0)
		ipt_run(create, NULL, &ignored);
	return ipt_run(insert, NULL, err);
}

static int ipt_family(const char *tool, const char *restore, const char *rules,
		      struct berr *err)
{
	char *argv[] = { (char *)restore, "-w", "--noflush", NULL };
	int r = ipt_run(argv, rules, err);

	if (r < 0)
		return r;
	r = ipt_jump(tool, "DOCKER-USER", DKP_IPT_CHAIN, err);
	if (r >= 0)
		r = ipt_jump(tool, "FORWARD", "DOCKER-USER", err);
	return r;
}

static int ipt_remove_family(const char *tool, struct berr *err)
{
	char *unjump[] = { (char *)tool, "-w", "-D", "DOCKER-USER", "-j", DKP_IPT_CHAIN, NULL };
	char *flush[] = { (char *)tool, "-w", "-F", DKP_IPT_CHAIN, NULL };
	char *del[] = { (char *)tool, "-w", "-X", DKP_IPT_CHAIN, NULL };
	char *check[] = { (char *)tool, "-w", "-S", DKP_IPT_CHAIN, NULL };
	struct berr ignored = BERR_INIT;
	int r;

	while (ipt_run(unjump, NULL, &ignored) == 0)
		;
	r = ipt_run(check, NULL, &ignored);
	if (r == -ENOENT || r == -EIO)   /* no iptables, or no such chain */
		return 0;
	r = ipt_run(flush, NULL, err);
	return r < 0 ? r : ipt_run(del, NULL, err);
}

int dkp_iptables_remove(struct berr *err)
{
	int r = ipt_remove_family("iptables", err);

	return r < 0 ? r : ipt_remove_family("ip6tables", err);
}

int dkp_iptables_sync(char (*bridges)[IFNAME_LEN], size_t n, struct berr *err)
{
	_cleanup_free_ char *rules = dkp_iptables_rules(bridges, n);
	int r = ipt_family("iptables", "iptables-restore", rules, err);

	if (r == -ENOENT)
		r = 0;   /* no iptables: dockerd has no rules that could drop berth's traffic */
	if (r >= 0)
		r = ipt_family("ip6tables", "ip6tables-restore", rules, err);
	return r == -ENOENT ? 0 : r;
}
