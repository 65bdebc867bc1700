/* landlock.h - Landlock as a second, independent write barrier (SPEC §6):
 * writes are allowed only beneath the writable paths of the plan. */
#ifndef SRT_LANDLOCK_H
#define SRT_LANDLOCK_H

#include <stdbool.h>

#include "srt.h"

/* The ABI version of the running kernel, 0 when Landlock is unavailable
 * (not built, disabled at boot, or blocked). */
int srt_landlock_abi(void);

/* Create a ruleset handling every write right the ABI knows, and allow
 * them beneath each path of `paths` (a path that does not exist is
 * skipped).  Regular files and devices get the file subset of the rights.
 * Returns the ruleset fd, or -1 with err set.  No allocation. */
int srt_landlock_ruleset(int abi, const char *const *paths, size_t n_paths,
			 srt_error *err);

/* Allow writes to the file or device open descriptor `fd` refers to (a
 * terminal or a file the command was given as stdio or to pass), if `fd`
 * is open for writing: the descriptor's own access and nothing more. */
int srt_landlock_allow_fd(int ruleset, int abi, int fd, srt_error *err);

/* Enforce on the calling thread (needs no_new_privs). */
int srt_landlock_enforce(int ruleset, srt_error *err);

#endif
