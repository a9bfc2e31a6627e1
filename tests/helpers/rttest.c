/* SPDX-License-Identifier: Apache-2.0 */
/* rttest: drive the runtime module from shell tests.
 *   rttest image-busybox IMAGES_DIR
 *   rttest image-import IMAGES_DIR NAME TARBALL | image-rm IMAGES_DIR NAME | image-path IMAGES_DIR NAME
 *   rttest start ID IMAGES_DIR STATE_DIR RUN_DIR NETNS_PATH|- LOG -- ARGV...   prints "PID START"
 *   rttest exec PID -- ARGV...        exits with the command's exit code
 *   rttest alive PID START            prints 1 or 0
 *   rttest exit RUN_DIR               prints the recorded exit code
 *   rttest kill PID START SIG
 *   rttest cleanup RUN_DIR
 * Optional environment for start: RTTEST_IMAGE (default busybox), RTTEST_HOSTNAME (default ID),
 * RTTEST_HOSTS, RTTEST_RESOLV, RTTEST_MEMORY_MAX, RTTEST_PIDS_MAX, RTTEST_START_TIMEOUT_MS. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "runtime/runtime.h"

static int fail(const struct berr *err)
{
	fprintf(stderr, "rttest: %s\n", berr_str(err));
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: rttest image-busybox|image-import|image-rm|image-path|start|exec|"
			"alive|exit|kill|cleanup ...\n");
	return 2;
}

/* argv after "--" */
static char **after_dashes(int argc, char **argv, int from)
{
	for (int i = from; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 && i + 1 < argc)
			return &argv[i + 1];
	}
	return NULL;
}

static int64_t env_int(const char *name)
{
	const char *v = getenv(name);

	return v ? strtoll(v, NULL, 10) : 0;
}

static int cmd_start(int argc, char **argv)
{
	struct berr err = BERR_INIT;
	struct rt_spec spec = { 0 };
	struct rt_proc proc = { 0 };
	const char *image = getenv("RTTEST_IMAGE");
	char rootfs[PATH_MAX];
	char *env[] = { (char *)"RTTEST=1", NULL };

	if (argc < 10)
		return usage();
	if (rt_image_rootfs(argv[3], image ? image : "busybox", rootfs, sizeof(rootfs), &err) < 0)
		return fail(&err);
	spec.id = argv[2];
	spec.hostname = getenv("RTTEST_HOSTNAME") ? getenv("RTTEST_HOSTNAME") : argv[2];
	spec.argv = after_dashes(argc, argv, 8);
	spec.env = env;
	spec.image_rootfs = rootfs;
	spec.state_dir = argv[4];
	spec.run_dir = argv[5];
	spec.netns_path = strcmp(argv[6], "-") == 0 ? NULL : argv[6];
	spec.log_path = argv[7];
	spec.hosts_path = getenv("RTTEST_HOSTS");
	spec.resolv_path = getenv("RTTEST_RESOLV");
	spec.memory_max = env_int("RTTEST_MEMORY_MAX");
	spec.pids_max = env_int("RTTEST_PIDS_MAX");
	spec.start_timeout_ms = (int)env_int("RTTEST_START_TIMEOUT_MS");
	if (!spec.argv)
		return usage();
	if (rt_start(&spec, &proc, &err) < 0)
		return fail(&err);
	printf("%d %" PRIu64 "\n", (int)proc.pid, proc.pid_start);
	return 0;
}

static int cmd_exec(int argc, char **argv)
{
	struct berr err = BERR_INIT;
	char **cmd = after_dashes(argc, argv, 3);
	int r;

	if (argc < 5 || !cmd)
		return usage();
	r = rt_exec((pid_t)atoi(argv[2]), cmd, NULL, &err);
	if (r < 0) {
		fail(&err);
		return 126;
	}
	return r;
}

static int cmd_images(int argc, char **argv)
{
	struct berr err = BERR_INIT;
	char path[PATH_MAX];
	int r = -EINVAL;

	if (strcmp(argv[1], "image-busybox") == 0 && argc == 3)
		r = rt_image_ensure_busybox(argv[2], &err);
	else if (strcmp(argv[1], "image-import") == 0 && argc == 5)
		r = rt_image_import(argv[2], argv[3], argv[4], &err);
	else if (strcmp(argv[1], "image-rm") == 0 && argc == 4)
		r = rt_image_remove(argv[2], argv[3], &err);
	else if (strcmp(argv[1], "image-path") == 0 && argc == 4) {
		r = rt_image_rootfs(argv[2], argv[3], path, sizeof(path), &err);
		if (r >= 0)
			puts(path);
	} else
		return usage();
	return r < 0 ? fail(&err) : 0;
}

static int cmd_proc(int argc, char **argv)
{
	struct berr err = BERR_INIT;
	int r, code;

	if (strcmp(argv[1], "alive") == 0 && argc == 4) {
		r = rt_proc_alive(atoi(argv[2]), strtoull(argv[3], NULL, 10));
		if (r < 0)
			return fail(&(struct berr){ r, "checking the process failed" });
		printf("%d\n", r);
		return 0;
	}
	if (strcmp(argv[1], "exit") == 0 && argc == 3) {
		if (rt_exit_code(argv[2], &code, &err) < 0)
			return fail(&err);
		printf("%d\n", code);
		return 0;
	}
	if (strcmp(argv[1], "kill") == 0 && argc == 5)
		r = rt_kill(atoi(argv[2]), strtoull(argv[3], NULL, 10), atoi(argv[4]), &err);
	else if (strcmp(argv[1], "cleanup") == 0 && argc == 3)
		r = rt_cleanup(argv[2], &err);
	else
		return usage();
	return r < 0 ? fail(&err) : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], RT_SHIM_ARG) == 0)
		rt_shim_main(argc, argv);
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "start") == 0)
		return cmd_start(argc, argv);
	if (strcmp(argv[1], "exec") == 0)
		return cmd_exec(argc, argv);
	if (strncmp(argv[1], "image-", 6) == 0)
		return cmd_images(argc, argv);
	return cmd_proc(argc, argv);
}
