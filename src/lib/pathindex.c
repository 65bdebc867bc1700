/* pathindex.c - open-addressing index of path strings (see pathindex.h). */
#include "pathindex.h"

#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

/* The slot holding key, or the empty slot where it would go. */
static srt_pathindex_slot *probe(const srt_pathindex_slot *slots, size_t cap, const char *key,
				 size_t len, uint64_t h)
{
	size_t mask = cap - 1;
	/* the table is never more than half full: an empty slot exists */
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		const srt_pathindex_slot *s = &slots[i];
		if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
			return (srt_pathindex_slot *)s;
	}
}

static int grow(srt_pathindex *ix)
{
	size_t cap = ix->cap ? ix->cap * 2 : 64;
	if (cap < ix->cap)
		return -1;
	srt_pathindex_slot *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; i < ix->cap; i++) {
		const srt_pathindex_slot *s = &ix->slots[i];
		if (s->key)
			*probe(slots, cap, s->key, s->len, s->hash) = *s;
	}
	free(ix->slots);
	ix->slots = slots;
	ix->cap = cap;
	return 0;
}

int srt_pathindex_put(srt_pathindex *ix, const char *key, size_t len, size_t value)
{
	if ((ix->n + 1) * 2 > ix->cap && grow(ix) < 0)
		return -1;
	uint64_t h = fnv1a(key, len);
	srt_pathindex_slot *s = probe(ix->slots, ix->cap, key, len, h);
	if (!s->key)
		ix->n++;
	*s = (srt_pathindex_slot){.key = key, .len = len, .hash = h, .value = value};
	return 0;
}

bool srt_pathindex_get(const srt_pathindex *ix, const char *key, size_t len, size_t *value)
{
	if (ix->n == 0)
		return false;
	const srt_pathindex_slot *s = probe(ix->slots, ix->cap, key, len, fnv1a(key, len));
	if (!s->key)
		return false;
	if (value)
		*value = s->value;
	return true;
}

void srt_pathindex_clear(srt_pathindex *ix)
{
	free(ix->slots);
	*ix = (srt_pathindex){0};
}

size_t srt_path_up(const char *path, size_t len)
{
	if (len <= 1)
		return 0;
	size_t i = len - 1;
	while (i > 0 && path[i] != '/')
		i--;
	if (i == 0) /* only an absolute path has "/" above it */
		return path[0] == '/' ? 1 : 0;
	return i;
}
