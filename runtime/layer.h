/* SPDX-License-Identifier: Apache-2.0 */
/* Applying an image layer (a tar stream) onto a root directory, safely: an entry's name must stay
 * inside the root ("../" and absolute names are refused), its parent directory is resolved with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) so a symlink can never lead
 * outside (refused, -EXDEV), the entry itself is created with O_NOFOLLOW / *at() calls relative
 * to that directory, device nodes are accepted only under dev/ (and not created: a container's
 * /dev is its own tmpfs), hard links must point at a file inside the root, and every byte and
 * entry counts against limits. Whiteouts (.wh.NAME) remove what lower layers made; an opaque
 * directory (.wh..wh..opq) loses every child that this layer did not make. */
#pragma once

#include <stdint.h>

#include "common/error.h"
#include "runtime/tar.h"

struct layer_limits {
	uint64_t bytes_max;     /* file data written, all layers of an image together */
	uint64_t entries_max;   /* entries, all layers together */
	uint64_t bytes;         /* used so far (updated) */
	uint64_t entries;
};

/* Applies the entries of t onto the directory root_fd (any open fd of it). On failure the root
 * may hold part of the layer: the caller throws the whole image directory away. */
int layer_apply(int root_fd, struct tar_reader *t, struct layer_limits *lim, struct berr *err);

/* Normalizes an entry name: "./a//b/" -> "a/b"; "" for the root itself. -EINVAL for ".." or an
 * absolute name (with a message). Exposed for tests. */
int layer_path_clean(const char *name, char *out, size_t size, struct berr *err);
