/* SPDX-License-Identifier: Apache-2.0 */
#include "runtime/tar.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Header field offsets and sizes (POSIX ustar). */
#define H_NAME 0
#define H_MODE 100
#define H_UID 108
#define H_GID 116
#define H_SIZE 124
#define H_MTIME 136
#define H_CHKSUM 148
#define H_TYPE 156
#define H_LINK 157
#define H_MAGIC 257
#define H_VERSION 263
#define H_DEVMAJOR 329
#define H_DEVMINOR 337
#define H_PREFIX 345

/* Overrides gathered from pax headers and GNU long names for the next entry. */
struct tar_ext {
	char name[TAR_NAME_MAX + 1], linkname[TAR_NAME_MAX + 1];
	bool has_name, has_link, has_size, has_uid, has_gid, has_mtime;
	uint64_t size, uid, gid;
	int64_t mtime;
};

void tar_reader_init(struct tar_reader *t, tar_read_fn read, void *ud)
{
	memset(t, 0, sizeof(*t));
	t->read = read;
	t->ud = ud;
}

/* Exactly len bytes: 1, 0 at a clean end (nothing read), -EPIPE for a truncated stream. */
static int tar_read_full(struct tar_reader *t, void *buf, size_t len, struct berr *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = t->read(t->ud, (char *)buf + got, len - got);

		if (n < 0)
			return berr_errno(err, (int)n, "reading the archive at byte %llu",
					  (unsigned long long)(t->offset + got));
		if (n == 0) {
			if (got == 0)
				return 0;
			return berr_set(err, -EPIPE, "the archive ends in the middle of a block "
					"(byte %llu)", (unsigned long long)(t->offset + got));
		}
		got += (size_t)n;
	}
	t->offset += len;
	return 1;
}

static int tar_skip(struct tar_reader *t, uint64_t n, struct berr *err)
{
	char buf[4096];

	while (n > 0) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		int r = tar_read_full(t, buf, k, err);

		if (r == 0)
			return berr_set(err, -EPIPE, "the archive ends inside an entry's data");
		if (r < 0)
			return r;
		n -= k;
	}
	return 0;
}

/* ---- fields ---- */

/* Octal with leading spaces, ended by space or NUL; or GNU base-256 (high bit of byte 0). */
static int field_num(const uint8_t *f, size_t len, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return -EINVAL;   /* negative */
		v = f[0] & 0x3f;
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return -ERANGE;
			v = v << 8 | f[i];
		}
		*ret = v;
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 61)
			return -ERANGE;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -EINVAL;
	*ret = v;
	return 0;
}

static void field_str(const uint8_t *f, size_t len, char *out)
{
	size_t n = strnlen((const char *)f, len);

	memcpy(out, f, n);
	out[n] = '\0';
}

static bool block_zero(const uint8_t *b)
{
	for (size_t i = 0; i < TAR_BLOCK; i++)
		if (b[i])
			return false;
	return true;
}

/* The stored checksum against the sum of the header with the field as spaces (unsigned, or
 * signed as some old tars computed it). */
static bool checksum_ok(const uint8_t *b)
{
	uint64_t want, sum_u = 0;
	int64_t sum_s = 0;

	if (field_num(b + H_CHKSUM, 8, &want) < 0)
		return false;
	for (size_t i = 0; i < TAR_BLOCK; i++) {
		uint8_t c = (i >= H_CHKSUM && i < H_CHKSUM + 8) ? ' ' : b[i];

		sum_u += c;
		sum_s += (int8_t)c;
	}
	return want == sum_u || (int64_t)want == sum_s;
}

/* ---- extended headers ---- */

static int tar_ext_data(struct tar_reader *t, uint64_t size, char **ret, struct berr *err)
{
	uint64_t padded = (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
	char *buf;
	int r;

	if (size > TAR_EXT_MAX)
		return berr_set(err, -EFBIG, "an extended header of %llu bytes at byte %llu (at most "
				"%u)", (unsigned long long)size, (unsigned long long)t->offset,
				TAR_EXT_MAX);
	buf = xmalloc((size_t)padded + 1);
	r = padded ? tar_read_full(t, buf, (size_t)padded, err) : 1;
	if (r == 0)
		r = berr_set(err, -EPIPE, "the archive ends inside an extended header");
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[size] = '\0';
	*ret = buf;
	return 0;
}

static int pax_uint(const char *v, uint64_t *ret)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(v, &end, 10);
	return errno || (*end && *end != '.') ? -EINVAL : 0;
}

static int pax_record(struct tar_ext *x, const char *key, const char *v, size_t vlen,
		      struct berr *err)
{
	uint64_t n;

	if (!strcmp(key, "path") || !strcmp(key, "linkpath")) {
		bool path = key[0] == 'p';

		if (vlen > TAR_NAME_MAX || memchr(v, '\0', vlen))
			return berr_set(err, -ENAMETOOLONG, "a pax %s longer than %d bytes or with "
					"a NUL", key, TAR_NAME_MAX);
		memcpy(path ? x->name : x->linkname, v, vlen);
		(path ? x->name : x->linkname)[vlen] = '\0';
		*(path ? &x->has_name : &x->has_link) = true;
		return 0;
	}
	if (!strncmp(key, "GNU.sparse.", 11))
		return berr_set(err, -EOPNOTSUPP, "sparse files are not supported");
	if (strcmp(key, "size") && strcmp(key, "uid") && strcmp(key, "gid") && strcmp(key, "mtime"))
		return 0;   /* others (atime, uname, SCHILY.xattr...) are not used */
	if (pax_uint(v, &n) < 0)
		return berr_set(err, -EINVAL, "a bad pax %s \"%.32s\"", key, v);
	if (!strcmp(key, "size"))
		x->size = n, x->has_size = true;
	else if (!strcmp(key, "uid"))
		x->uid = n, x->has_uid = true;
	else if (!strcmp(key, "gid"))
		x->gid = n, x->has_gid = true;
	else
		x->mtime = (int64_t)n, x->has_mtime = true;
	return 0;
}

/* Records "<len> <key>=<value>\n", len counting the whole record. */
static int pax_parse(struct tar_ext *x, const char *data, size_t size, struct berr *err)
{
	size_t off = 0;

	while (off < size) {
		const char *rec = data + off, *sp, *eq;
		char key[128];
		uint64_t len = 0;
		size_t i = 0;
		int r;

		for (; off + i < size && rec[i] >= '0' && rec[i] <= '9' && i < 10; i++)
			len = len * 10 + (uint64_t)(rec[i] - '0');
		sp = rec + i;
		if (i == 0 || off + i >= size || *sp != ' ' || len <= i + 1 || len > size - off ||
		    rec[len - 1] != '\n')
			return berr_set(err, -EINVAL, "a malformed pax record");
		eq = memchr(sp + 1, '=', (size_t)(rec + len - 1 - (sp + 1)));
		if (!eq || eq == sp + 1 || (size_t)(eq - sp - 1) >= sizeof(key))
			return berr_set(err, -EINVAL, "a malformed pax record");
		memcpy(key, sp + 1, (size_t)(eq - sp - 1));
		key[eq - sp - 1] = '\0';
		r = pax_record(x, key, eq + 1, (size_t)(rec + len - 1 - (eq + 1)), err);
		if (r < 0)
			return r;
		off += (size_t)len;
	}
	return 0;
}

static int gnu_long(struct tar_reader *t, struct tar_ext *x, bool link, uint64_t size,
		    struct berr *err)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	int r;

	r = tar_ext_data(t, size, &data, err);
	if (r < 0)
		return r;
	n = strnlen(data, (size_t)size);
	if (n > TAR_NAME_MAX)
		return berr_set(err, -ENAMETOOLONG, "a GNU long name of more than %d bytes",
				TAR_NAME_MAX);
	memcpy(link ? x->linkname : x->name, data, n);
	(link ? x->linkname : x->name)[n] = '\0';
	*(link ? &x->has_link : &x->has_name) = true;
	return 0;
}

/* ---- headers ---- */

static int header_type(char c, enum tar_type *ret)
{
	if (c == '\0' || c == '0' || c == '7') {
		*ret = TAR_FILE;
		return 0;
	}
	if (c >= '1' && c <= '6') {
		*ret = (enum tar_type)c;
		return 0;
	}
	return -EOPNOTSUPP;
}

static void header_name(const uint8_t *b, char *out)
{
	char name[101], prefix[156];

	field_str(b + H_NAME, 100, name);
	field_str(b + H_PREFIX, 155, prefix);
	/* POSIX ustar only: GNU tar keeps times where the prefix would be */
	if (!memcmp(b + H_MAGIC, "ustar\0", 6) && prefix[0])
		snprintf(out, TAR_NAME_MAX + 1, "%s/%s", prefix, name);
	else
		memcpy(out, name, strlen(name) + 1);
}

static int header_fields(const uint8_t *b, struct tar_entry *e)
{
	uint64_t v[7];
	const size_t off[7] = { H_MODE, H_UID, H_GID, H_SIZE, H_MTIME, H_DEVMAJOR, H_DEVMINOR };
	const size_t len[7] = { 8, 8, 8, 12, 12, 8, 8 };

	for (size_t i = 0; i < 7; i++) {
		if (field_num(b + off[i], len[i], &v[i]) == 0)
			continue;
		if (i < 5)
			return -EINVAL;
		v[i] = 0;   /* devmajor/devminor may be garbage in old headers */
	}
	if (v[1] > UINT32_MAX || v[2] > UINT32_MAX || v[5] > UINT32_MAX || v[6] > UINT32_MAX)
		return -ERANGE;
	e->mode = (uint32_t)(v[0] & 07777);
	e->uid = (uint32_t)v[1];
	e->gid = (uint32_t)v[2];
	e->size = v[3];
	e->mtime = (int64_t)v[4];
	e->devmajor = (uint32_t)v[5];
	e->devminor = (uint32_t)v[6];
	return 0;
}

static int ext_apply(struct tar_entry *e, const struct tar_ext *x, struct berr *err)
{
	if (x->has_name)
		memcpy(e->name, x->name, sizeof(e->name));
	if (x->has_link)
		memcpy(e->linkname, x->linkname, sizeof(e->linkname));
	if (x->has_size)
		e->size = x->size;
	if ((x->has_uid && x->uid > UINT32_MAX) || (x->has_gid && x->gid > UINT32_MAX))
		return berr_set(err, -ERANGE, "a pax uid or gid out of range");
	if (x->has_uid)
		e->uid = (uint32_t)x->uid;
	if (x->has_gid)
		e->gid = (uint32_t)x->gid;
	if (x->has_mtime)
		e->mtime = x->mtime;
	return 0;
}

/* One header block: 1 an entry, 2 an extended header consumed (loop), 0 end, -errno. */
static int tar_header(struct tar_reader *t, struct tar_ext *x, struct berr *err)
{
	uint8_t b[TAR_BLOCK];
	uint64_t at = t->offset, size;
	int r = tar_read_full(t, b, sizeof(b), err);

	if (r <= 0)
		return r;   /* a stream without end blocks ends cleanly here too */
	if (block_zero(b))
		return 0;
	if (!checksum_ok(b))
		return berr_set(err, -EINVAL, "not a tar archive, or a damaged one: bad header "
				"checksum at byte %llu", (unsigned long long)at);
	if (field_num(b + H_SIZE, 12, &size) < 0)
		return berr_set(err, -EINVAL, "a bad size at byte %llu", (unsigned long long)at);
	switch (b[H_TYPE]) {
	case 'x': {
		_cleanup_free_ char *data = NULL;

		r = tar_ext_data(t, size, &data, err);
		return r < 0 ? r : pax_parse(x, data, (size_t)size, err) < 0 ? err->code : 2;
	}
	case 'g':
		return tar_skip(t, (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK, err) < 0 ? err->code : 2;
	case 'L':
	case 'K':
		return gnu_long(t, x, b[H_TYPE] == 'K', size, err) < 0 ? err->code : 2;
	}
	memset(&t->e, 0, sizeof(t->e));
	if (header_type((char)b[H_TYPE], &t->e.type) < 0)
		return berr_set(err, -EOPNOTSUPP, "unsupported entry type '%c' at byte %llu",
				b[H_TYPE] >= 32 && b[H_TYPE] < 127 ? b[H_TYPE] : '?',
				(unsigned long long)at);
	if (header_fields(b, &t->e) < 0)
		return berr_set(err, -EINVAL, "a bad number in the header at byte %llu",
				(unsigned long long)at);
	header_name(b, t->e.name);
	field_str(b + H_LINK, 100, t->e.linkname);
	return ext_apply(&t->e, x, err) < 0 ? err->code : 1;
}

int tar_next(struct tar_reader *t, const struct tar_entry **ret, struct berr *err)
{
	struct tar_ext *x;
	int r;

	if (t->done)
		return 0;
	r = tar_skip(t, t->left + t->pad, err);
	if (r < 0)
		return r;
	t->left = t->pad = 0;
	x = xcalloc(1, sizeof(*x));
	while ((r = tar_header(t, x, err)) == 2)
		;
	free(x);
	if (r <= 0) {
		t->done = true;
		return r;
	}
	if (t->e.type != TAR_FILE)
		t->e.size = 0;   /* links, directories, devices: no data (a size is ignored) */
	t->left = t->e.size;
	t->pad = (TAR_BLOCK - t->e.size % TAR_BLOCK) % TAR_BLOCK;
	if (!t->e.name[0])
		return berr_set(err, -EINVAL, "an entry without a name at byte %llu",
				(unsigned long long)t->offset);
	*ret = &t->e;
	return 1;
}

ssize_t tar_data_read(struct tar_reader *t, void *buf, size_t len, struct berr *err)
{
	size_t n = t->left < len ? (size_t)t->left : len;
	int r;

	if (n == 0)
		return 0;
	r = tar_read_full(t, buf, n, err);
	if (r == 0)
		return berr_set(err, -EPIPE, "the archive ends inside the data of %s", t->e.name);
	if (r < 0)
		return r;
	t->left -= n;
	return (ssize_t)n;
}
