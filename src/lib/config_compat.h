/* config_compat.h - keys of the reference srt's settings schema (0.0.83)
 * that srt in C does not implement, and what it does with each: accepted
 * with a warning where they mean nothing on Linux, refused where they are
 * not built yet (accepting a security key and ignoring it would leave
 * what it protects unprotected without a word).  And the closest known
 * key, for the error on a key in neither schema. */
#ifndef SRT_CONFIG_COMPAT_H
#define SRT_CONFIG_COMPAT_H

#include <jansson.h>
#include <stddef.h>

typedef enum srt_compat_kind {
	SRT_COMPAT_UNKNOWN = 0, /* in neither schema */
	SRT_COMPAT_IGNORED,     /* macOS, Windows, or the reference's helpers */
	SRT_COMPAT_NOT_BUILT,   /* meaningful on Linux, not implemented yet */
} srt_compat_kind;

/* `section` is NULL (top level), "network" or "filesystem"; `key` the key
 * found there.  *why: a phrase for the warning or the error. */
srt_compat_kind srt_compat_lookup(const char *section, const char *key, const char **why);

/* A value that asks nothing (false, null, 0, "", [] or {}): a key not built
 * yet is accepted with it, as the no-op it is. */
int srt_compat_is_noop(const json_t *v);

/* The known key closest to `key` (edit distance, case-insensitive) among
 * `known` and the section's compatibility keys, or NULL when none is
 * close enough to be a likely typo. */
const char *srt_compat_closest(const char *section, const char *key, const char *const *known);

#endif
