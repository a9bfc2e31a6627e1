/* SPDX-License-Identifier: Apache-2.0 */
#include "common/strmap.h"
#include "common/util.h"

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/* The slot of key, or the empty slot where it would go. */
static size_t slot_of(const struct strmap *m, const char *key, uint32_t h)
{
	size_t mask = m->cap - 1, i = h & mask;

	while (m->slots[i].key && (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & mask;
	return i;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	size_t i;

	if (!m->n)
		return NULL;
	i = slot_of(m, key, hash_str(key));
	return m->slots[i].key ? m->slots[i].val : NULL;
}

static void grow(struct strmap *m)
{
	struct strmap_slot *old = m->slots;
	size_t old_cap = m->cap;

	m->cap = old_cap ? old_cap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			m->slots[slot_of(m, old[i].key, old[i].hash)] = old[i];
	free(old);
}

void strmap_put(struct strmap *m, const char *key, void *val)
{
	uint32_t h = hash_str(key);
	size_t i;

	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	i = slot_of(m, key, h);
	if (!m->slots[i].key)
		m->n++;
	m->slots[i] = (struct strmap_slot){ .key = key, .val = val, .hash = h };
}

void *strmap_del(struct strmap *m, const char *key)
{
	size_t mask, i, j;
	void *val;

	if (!m->n)
		return NULL;
	mask = m->cap - 1;
	i = slot_of(m, key, hash_str(key));
	if (!m->slots[i].key)
		return NULL;
	val = m->slots[i].val;
	/* backward shift: move up each following entry whose home is not between the hole and it */
	for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i] = (struct strmap_slot){ 0 };
	m->n--;
	return val;
}

void strmap_free(struct strmap *m)
{
	free(m->slots);
	*m = (struct strmap)STRMAP_INIT;
}
