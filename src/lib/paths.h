/* paths.h - turning filesystem settings entries into real host paths
 * (SPEC §4): "~", relative paths, symlink resolution, globs. */
#ifndef SRT_PATHS_H
#define SRT_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#include "srt.h"
#include "util.h"

typedef struct srt_resolved_path {
	char *path;   /* absolute, normalised, symlinks resolved */
	bool exists;  /* false: the longest existing prefix was resolved and
		       * the remaining components appended */
	bool is_dir;  /* meaningful when exists */
} srt_resolved_path;

typedef struct srt_resolved_list {
	srt_resolved_path *v;
	size_t n;
} srt_resolved_list;

/* Expand one settings entry and append the results to `out`.
 *  - "~" and "~/x" use `home`; a relative entry is taken relative to `cwd`.
 *  - Unless `literal`, an entry containing * ? or [ is a glob: "*", "?" and
 *    "[...]" match within one component (dot files included), "**" matches
 *    zero or more whole components.  It is expanded against what exists now
 *    (bounded: at most SRT_GLOB_MAX_MATCHES results, SRT_GLOB_MAX_DEPTH
 *    levels below the fixed prefix); a glob that matches nothing appends no
 *    result and adds a warning to `warnings`.
 *  - Each result has its symlinks resolved (the final component too).
 * Returns 0, or -1 with `err` set (e.g. "~user" forms, empty entry, too many
 * matches). */
int srt_path_expand(const char *entry, bool literal, const char *cwd,
		    const char *home, srt_resolved_list *out,
		    srt_strv *warnings, srt_error *err);

/* Resolve one absolute path: symlinks resolved for the longest existing
 * prefix, "." and ".." handled, remaining components appended. */
int srt_path_resolve(const char *abs_path, srt_resolved_path *out,
		     srt_error *err);

void srt_resolved_list_clear(srt_resolved_list *l);

#define SRT_GLOB_MAX_MATCHES 10000
#define SRT_GLOB_MAX_DEPTH 32

#endif
