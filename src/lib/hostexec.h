/* hostexec.h - protect what programs on the host would later run or obey
 * from a writable root, beyond the mandatory-deny names found by the scan:
 * the settings file in force, the home directory's and the project's own
 * dotfiles whatever the search depth, git's XDG config, and what the
 * protected git configs point to (core.hooksPath, include.path, programs
 * named by path).  Adds to pol->protected_paths; the plan makes them
 * read-only (stand-ins for the missing ones). */
#ifndef SRT_HOSTEXEC_H
#define SRT_HOSTEXEC_H

#include "config.h"
#include "policy.h"

int srt_hostexec_protect(srt_policy *pol, const srt_config *cfg, const srt_strv *roots,
			 srt_error *err);

/* Read a git config of at most 1 MiB: a regular file reached without
 * symlinks (none followed on the way), never blocking on a FIFO.  NULL
 * when it is none of that (or out of memory); *len gets its length. */
char *srt_hostexec_read_config(const char *path, size_t *len);

/* Only the settings files (the one in force and the default one): what
 * filesystem.disabled keeps of the above (policy.c says why). */
int srt_hostexec_protect_settings(srt_policy *pol, const srt_config *cfg,
				  const srt_strv *roots, srt_error *err);

#endif
