/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded reader of tar streams: ustar, pax (path, linkpath, size, uid, gid, mtime) and GNU
 * long names and link names, numbers in octal or GNU base-256. Reads through a callback, never
 * seeks, holds one header at a time; every field and every extended header is bounded. The
 * archive is untrusted: this reader only parses (tests/fuzz/fuzz_tar.c); what an entry may do
 * to a file system is decided by its caller (runtime/layer.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define TAR_BLOCK 512
#define TAR_NAME_MAX 4096          /* a name or link name, bytes */
#define TAR_EXT_MAX (1u << 20)     /* a pax extended header or GNU long name entry */

enum tar_type {
	TAR_FILE = '0',
	TAR_HARDLINK = '1',
	TAR_SYMLINK = '2',
	TAR_CHAR = '3',
	TAR_BLOCKDEV = '4',
	TAR_DIR = '5',
	TAR_FIFO = '6',
};

struct tar_entry {
	char name[TAR_NAME_MAX + 1];       /* as the archive says (not normalized) */
	char linkname[TAR_NAME_MAX + 1];   /* target of a symlink or a hard link, else "" */
	enum tar_type type;
	uint64_t size;                     /* data bytes (0 for anything but TAR_FILE) */
	uint32_t mode;                     /* permission bits and setuid/setgid/sticky */
	uint32_t uid, gid;
	int64_t mtime;
	uint32_t devmajor, devminor;
};

/* Reads up to len bytes; returns the count, 0 at the end, or -errno. */
typedef ssize_t (*tar_read_fn)(void *ud, void *buf, size_t len);

struct tar_reader {
	tar_read_fn read;
	void *ud;
	uint64_t offset;                   /* bytes consumed from the stream */
	uint64_t left;                     /* data bytes of the current entry not yet read */
	uint64_t pad;                      /* padding after them */
	bool done;
	struct tar_entry e;
};

void tar_reader_init(struct tar_reader *t, tar_read_fn read, void *ud);

/* The next entry (the unread data of the previous one is skipped): 1 with *ret pointing into t,
 * 0 at the end of the archive, -errno with a message naming the offset. */
int tar_next(struct tar_reader *t, const struct tar_entry **ret, struct berr *err);

/* Data of the current entry: bytes read, 0 once all are read, -errno. */
ssize_t tar_data_read(struct tar_reader *t, void *buf, size_t len, struct berr *err);
