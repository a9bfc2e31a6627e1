/* SPDX-License-Identifier: Apache-2.0 */
/* A hash table from strings to pointers: open addressing, linear probing, deletion by backward
 * shift (no tombstones), grown at 3/4 full. The map stores the key pointer, not a copy: the key
 * must stay valid and unchanged while its entry is in the map (typically a field of the value). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
	const char *key;   /* NULL: empty */
	void *val;
	uint32_t hash;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap;        /* 0 or a power of two */
	size_t n;
};

#define STRMAP_INIT { 0 }

void *strmap_get(const struct strmap *m, const char *key);
/* Adds key -> val, or replaces the value (and key pointer) of an equal key. */
void strmap_put(struct strmap *m, const char *key, void *val);
/* Removes key; returns its value, NULL when absent. */
void *strmap_del(struct strmap *m, const char *key);
/* Frees the table (not the keys or values). */
void strmap_free(struct strmap *m);
