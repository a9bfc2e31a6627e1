/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 (FIPS 180-4): image IDs (the digest of an image's config) and the digests of layers
 * and blobs checked while an image is loaded. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 64

struct sha256 {
	uint32_t h[8];
	uint64_t len;            /* bytes hashed so far */
	uint8_t block[64];
	size_t used;             /* bytes waiting in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* The digest as 64 lower-case hex characters and a NUL. */
void sha256_final_hex(struct sha256 *s, char out[SHA256_HEX_LEN + 1]);
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
