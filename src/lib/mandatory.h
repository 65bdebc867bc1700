/* mandatory.h - the mandatory deny list (SPEC §4): names that are never
 * writable inside a writable root, and the search for them. */
#ifndef SRT_MANDATORY_H
#define SRT_MANDATORY_H

#include <stdbool.h>
#include <stddef.h>

#include "srt.h"
#include "util.h"

typedef struct srt_protected {
	char *path;    /* absolute path of the protected file or directory */
	bool is_dir;   /* what it is, or must be created as (stand-in) */
	bool exists;   /* false: a stand-in must be created on the host */
	/* "<search root>/.git" where there is none: no stand-ins of its
	 * children; the sandbox gets a private git directory there instead
	 * (plan.c R_FRESH_GIT, gitfresh.h) */
	bool fresh_git;
} srt_protected;

typedef struct srt_protected_list {
	srt_protected *v;
	size_t n;
} srt_protected_list;

/* The table: relative paths below a directory that are protected. */
typedef struct srt_mandatory_name {
	const char *rel;  /* ".bashrc", ".git/hooks", ".claude/commands" ... */
	bool is_dir;
	bool only_existing; /* protected when present, never created as a stand-in */
} srt_mandatory_name;

extern const srt_mandatory_name srt_mandatory_names[];
extern const size_t srt_mandatory_name_count;

/* Search writable root `root` (absolute, resolved, an existing directory).
 *  - At the root itself every name of the table is protected; the ones that
 *    do not exist are returned with exists = false (stand-ins), except
 *    those below a missing ".git": ".git" itself is returned instead, with
 *    exists = false and fresh_git.
 *  - In every directory at most `depth` levels below the root (the root is
 *    level 0; symlinks are never followed; the protected directories
 *    themselves are not descended into), existing entries whose name matches
 *    the table are returned; for an existing ".git" or ".claude" directory
 *    found there, its missing protected children are returned as stand-ins.
 * Results are appended to `out`, parents before children, no duplicates.
 * Unreadable directories are skipped (they cannot be written either).
 * Returns 0, or -1 with err set. */
int srt_mandatory_scan(const char *root, int depth, srt_protected_list *out,
		       srt_error *err);

/* The same, never entering the directories listed in `skip` (absolute,
 * normalised paths; NULL for none): the sandbox's own /proc and /dev and
 * the host's kernel interfaces hold nothing the command can write, and
 * walking them is slow or fails (/proc/1/map_files). */
int srt_mandatory_scan_skipping(const char *root, int depth, const srt_strv *skip,
				srt_protected_list *out, srt_error *err);

void srt_protected_list_clear(srt_protected_list *l);

/* filesystem.allowGitConfig: drop every repository's ".git/config" from
 * `l` (existing ones and stand-ins alike), keeping the rest of the git
 * directory's protection (hooks, commondir, config.worktree, submodules'
 * git directories).  The paths dropped are moved to `dropped` (NULL: freed).
 * Returns how many were dropped. */
size_t srt_mandatory_allow_git_config(srt_protected_list *l, srt_strv *dropped);

#endif
