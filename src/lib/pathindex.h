/* pathindex.h - an index of path strings (open addressing, FNV-1a) for the
 * planner: "is there an entry at or above this path?" in O(depth) lookups
 * instead of a scan over every entry (planning thousands of protected
 * paths was quadratic: 4,000 repositories took seconds of CPU).  Internal. */
#ifndef SRT_PATHINDEX_H
#define SRT_PATHINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srt_pathindex_slot {
	const char *key; /* borrowed: the owner keeps it alive; NULL = empty */
	size_t len;
	uint64_t hash;
	size_t value;
} srt_pathindex_slot;

typedef struct srt_pathindex {
	srt_pathindex_slot *slots;
	size_t cap; /* 0 or a power of two */
	size_t n;
} srt_pathindex;

/* Map key[0..len) to value, replacing an earlier value.  The key is not
 * copied.  Returns 0, or -1 when out of memory (the index is unchanged). */
int srt_pathindex_put(srt_pathindex *ix, const char *key, size_t len, size_t value);

/* The value of key[0..len), if present. */
bool srt_pathindex_get(const srt_pathindex *ix, const char *key, size_t len, size_t *value);

void srt_pathindex_clear(srt_pathindex *ix);

/* Walking up an absolute normalised path without copying it: its prefixes
 * that name it and its ancestors, deepest first ("/a/b": 4 "/a/b", 2 "/a",
 * 1 "/").  Start with len = strlen(path); the next length is
 * srt_path_up(path, len), 0 after "/".  These are exactly the `root`s for
 * which srt_path_is_within(path, root) holds. */
size_t srt_path_up(const char *path, size_t len);

#endif
