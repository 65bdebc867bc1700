/* gitenv.h - the git configuration srt gives the command through its
 * environment (git-config(1), ENVIRONMENT), built on the host from the
 * policy and the caller's environment (sandbox.c adds it). */
#ifndef SRT_GITENV_H
#define SRT_GITENV_H

#include "srt.h"
#include "util.h"

/* "GIT_CONFIG_PARAMETERS=..." (malloc'd, NULL when out of memory):
 * 'http.proxyAuthMethod=basic' as the reference sets it, then the caller's
 * own value (`caller`, NULL for none) so that the caller's settings, read
 * later by git, win. */
char *srt_gitenv_parameters(const char *caller);

/* More safe.directory entries than this become one "*" (the reference's
 * bound: the environment stays small). */
#define SRT_GITENV_SAFE_DIRS_MAX 8

/* git.safeDirectories as GIT_CONFIG_KEY_<n>/GIT_CONFIG_VALUE_<n> pairs
 * ("safe.directory" = the directory, and = the directory with "/ *" (no space) for repositories
 * beneath it, git >= 2.46) numbered on from the caller's GIT_CONFIG_COUNT
 * (`caller_count`, NULL for none; not a count: 0), then GIT_CONFIG_COUNT,
 * appended to `out` as "NAME=value".  Nothing is added for no directories,
 * or when the caller's count is "0" (the reference's opt-out).  Returns 0,
 * or -1 with err set. */
int srt_gitenv_safe_dirs(const srt_strv *dirs, const char *caller_count, srt_strv *out,
			 srt_error *err);

#endif
