/* SPDX-License-Identifier: Apache-2.0 */
/* berth image ls|import|rm: works directly on <root>/images (root = $BERTH_ROOT or
 * /var/lib/berth); the daemon has no image endpoints. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/table.h"
#include "common/util.h"
#include "runtime/runtime.h"

static char *images_dir(void)
{
	const char *root = getenv("BERTH_ROOT");

	return xasprintf("%s/images", root && root[0] ? root : "/var/lib/berth");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the directories holding a rootfs/; *ret_n entries. */
static char **image_names(const char *dir, size_t *ret_n)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d))) {
		_cleanup_free_ char *rootfs = NULL;
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		rootfs = xasprintf("%s/%s/rootfs", dir, e->d_name);
		if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	if (d)
		closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	*ret_n = n;
	return names;
}

static void image_created(const char *dir, const char *name, char *buf, size_t size)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	char d[64];

	if (stat(path, &st) < 0) {
		snprintf(buf, size, "%s", "");
		return;
	}
	human_duration(time(NULL) - st.st_mtime, d, sizeof(d));
	snprintf(buf, size, "%s ago", d);
}

static int image_ls(int argc, char **argv)
{
	bool quiet = false;
	const struct flag flags[] = {
		{ "quiet", 'q', FLAG_BOOL, &quiet, NULL, "Only display image names" },
		{ 0 },
	};
	const struct cmd_spec spec = { "image ls", "[OPTIONS]", "List images", flags, false };
	static const char *const headers[] = { "IMAGE", "CREATED" };
	_cleanup_free_ char *dir = images_dir();
	struct table *t;
	struct args args;
	char **names;
	size_t n;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 0, 0) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	names = image_names(dir, &n);
	t = table_new(2, headers);
	for (size_t i = 0; i < n; i++) {
		char created[80];
		const char *row[2] = { names[i], created };

		image_created(dir, names[i], created, sizeof(created));
		if (quiet)
			printf("%s\n", names[i]);
		table_add(t, row);
		free(names[i]);
	}
	if (!quiet)
		table_print(t, stdout);
	table_free(t);
	free(names);
	return 0;
}

static int image_import(int argc, char **argv)
{
	const struct cmd_spec spec = { "image import", "NAME TARBALL",
				       "Import a rootfs tarball (plain or gzip) as image NAME", NULL,
				       false };
	_cleanup_free_ char *dir = images_dir();
	struct berr err = BERR_INIT;
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 2, 2) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	if (rt_image_import(dir, args.v[0], args.v[1], &err) < 0)
		return cli_fail_err(&err);
	printf("%s\n", args.v[0]);
	return 0;
}

static int image_rm_one(const char *name, void *ud, struct berr *err)
{
	return rt_image_remove(ud, name, err);
}

static int image_rm(int argc, char **argv)
{
	const struct cmd_spec spec = { "image rm", "NAME [NAME...]", "Remove one or more images",
				       NULL, false };
	_cleanup_free_ char *dir = images_dir();
	struct args args;
	int r;

	r = flags_parse(&spec, argc, argv, &args);
	if (r != 0 || args_require(&spec, &args, 1, -1) < 0)
		return cmd_parse_exit(r ? r : -EINVAL);
	return cmd_each(&args, image_rm_one, dir);
}

int cmd_image(int argc, char **argv)
{
	static const struct cmd_group_entry cmds[] = {
		{ "ls", image_ls, "List images" },
		{ "list", image_ls, NULL },
		{ "import", image_import, "Import a rootfs tarball as an image" },
		{ "rm", image_rm, "Remove one or more images" },
		{ "remove", image_rm, NULL },
		{ 0 },
	};

	return cmd_group_dispatch("image", cmds, argc, argv);
}
