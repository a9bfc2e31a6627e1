/* SPDX-License-Identifier: Apache-2.0 */
/* The user a container's command runs as (an image's User, run --user): "name", "uid",
 * "name:group", "uid:gid", looked up in the /etc/passwd and /etc/group of the root the caller
 * is in (the container's, after pivot_root or chroot). A number needs no entry, as in Docker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "runtime/internal.h"

#define ID_FILE_MAX (4u << 20)

static bool all_digits(const char *s)
{
	return *s && s[strspn(s, "0123456789")] == '\0' && strlen(s) < 10;
}

/* Field i (0-based) of a ':'-separated line, copied. */
static bool line_field(const char *line, int i, char *out, size_t size)
{
	const char *p = line;
	size_t n;

	for (; i > 0; i--) {
		p = strchr(p, ':');
		if (!p)
			return false;
		p++;
	}
	n = strcspn(p, ":\n");
	if (n >= size)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* The line of file whose field 0 is name (or, numeric, whose field 2 is it). */
static bool id_lookup(const char *file, const char *key, bool by_number, char *line, size_t size)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL, f[64];

	if (read_file(file, ID_FILE_MAX, &text, NULL, NULL) < 0)
		return false;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (line_field(l, by_number ? 2 : 0, f, sizeof(f)) && !strcmp(f, key)) {
			strscpy(line, l, size);
			return true;
		}
	return false;
}

/* Groups whose member list (field 3) names user. */
static void user_groups(const char *user, struct rt_user *u)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL, members[4096], gid[16];

	if (!user || read_file("/etc/group", ID_FILE_MAX, &text, NULL, NULL) < 0)
		return;
	for (char *l = strtok_r(text, "\n", &save); l && u->n_groups < RT_GROUPS_MAX;
	     l = strtok_r(NULL, "\n", &save)) {
		char *m, *msave = NULL;

		if (!line_field(l, 3, members, sizeof(members)) || !line_field(l, 2, gid, sizeof(gid)))
			continue;
		for (m = strtok_r(members, ",", &msave); m; m = strtok_r(NULL, ",", &msave))
			if (!strcmp(m, user) && all_digits(gid))
				u->groups[u->n_groups++] = (gid_t)strtoul(gid, NULL, 10);
	}
}

static int user_part(const char *name, struct rt_user *u, bool *ret_named, struct berr *err)
{
	char line[4096], f[16];
	bool num = all_digits(name);

	*ret_named = false;
	if (!id_lookup("/etc/passwd", name, num, line, sizeof(line))) {
		if (!num)
			return berr_set(err, -ENOENT, "unable to find user %s: no matching entries in "
					"passwd file", name);
		u->uid = (uid_t)strtoul(name, NULL, 10);
		return 0;
	}
	*ret_named = true;
	if (!line_field(line, 2, f, sizeof(f)) || !all_digits(f))
		return berr_set(err, -EINVAL, "bad passwd entry for %s", name);
	u->uid = (uid_t)strtoul(f, NULL, 10);
	if (line_field(line, 3, f, sizeof(f)) && all_digits(f))
		u->gid = (gid_t)strtoul(f, NULL, 10);
	return 0;
}

static int group_part(const char *name, struct rt_user *u, struct berr *err)
{
	char line[4096], f[16];

	if (all_digits(name)) {
		u->gid = (gid_t)strtoul(name, NULL, 10);
		return 0;
	}
	if (!id_lookup("/etc/group", name, false, line, sizeof(line)) ||
	    !line_field(line, 2, f, sizeof(f)) || !all_digits(f))
		return berr_set(err, -ENOENT, "unable to find group %s: no matching entries in group "
				"file", name);
	u->gid = (gid_t)strtoul(f, NULL, 10);
	return 0;
}

int rt_user_resolve(const char *spec, struct rt_user *ret, struct berr *err)
{
	char user[256], line[4096], name[256] = "";
	const char *colon = strchr(spec, ':');
	bool named;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!*spec)
		return 0;
	if ((size_t)(colon ? colon - spec : (long)strlen(spec)) >= sizeof(user))
		return berr_set(err, -EINVAL, "user \"%.64s\" is too long", spec);
	snprintf(user, sizeof(user), "%.*s", (int)(colon ? colon - spec : (long)strlen(spec)), spec);
	r = user_part(user, ret, &named, err);
	if (r >= 0 && colon)
		r = group_part(colon + 1, ret, err);
	if (r < 0)
		return r;
	/* supplementary groups of a user with a name (a bare uid has none) */
	if (named && id_lookup("/etc/passwd", user, all_digits(user), line, sizeof(line)))
		line_field(line, 0, name, sizeof(name));
	user_groups(name[0] ? name : NULL, ret);
	return 0;
}
