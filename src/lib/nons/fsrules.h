/* nons/fsrules.h - the filesystem rules of the sandbox without namespaces:
 * Landlock alone, which only grants, expressing the policy's view of the
 * file system as a list of {path, rights} (host side, fsrules.c), enforced
 * by srt_landlock_ruleset_nons (landlock.h) after fork.
 *
 * What the rules are (built from the policy's mount plan, whose ops say
 * what is readable and writable where):
 *  - READ_DIR on "/" wholesale: every directory can be listed, so the
 *    *names* inside a denied directory can be listed; their contents
 *    cannot be read.
 *  - READ_FILE | EXECUTE ("read") on everything but the hidden paths
 *    (denyRead, srt's own state), by sibling expansion: from each read root
 *    ("/", and every path the plan makes readable again inside a hidden one:
 *    allowRead, allowWrite), for each directory on the way down to a hidden
 *    path, a read rule on every entry that is neither hidden nor on the way
 *    to a hidden path.  Symlinks get no rule: what a symlink leads to is
 *    governed by its own rules (one pointing into a denied directory
 *    resolves to an inode no read rule covers: refused).  Limits:
 *      - a file created later directly in a directory on the way to a
 *        hidden path (an "expanded" directory) is not readable: no rule
 *        covers it (its siblings' rules are on their own inodes);
 *      - likewise a file replaced there by a new one (an editor's save:
 *        write a temporary file, rename it over the old one) is not
 *        readable afterwards: the rule was on the old inode;
 *      - rules are attached to the inodes found at enforcement (paths are
 *        opened then): a renamed entry takes its own rule along, and
 *        Landlock's REFER check refuses a rename or link that would make
 *        something readable or writable that was not (EXDEV), so a denied
 *        file cannot be moved or linked out of its directory.
 *    Bounded: at most SRT_FSRULES_MAX_RULES rules and SRT_FSRULES_MAX_SCAN
 *    directory entries looked at; past that the build fails (a clear error,
 *    never a hang).
 *  - every write right of the ABI (srt_landlock_fs_write: REFER, TRUNCATE,
 *    IOCTL_DEV included) on each writable root of the plan; those and read
 *    on `tmpdir` (the run's private TMPDIR); READ_FILE, WRITE_FILE,
 *    TRUNCATE and IOCTL_DEV on /dev/null, /dev/zero, /dev/full, /dev/tty,
 *    /dev/ptmx and beneath /dev/pts.
 * What Landlock cannot hold (its rights are inherited by everything
 * beneath a rule's path, and nothing takes them back): denyWrite entries,
 * mandatory denies and host kernel interfaces inside a writable root stay
 * writable; a hidden path inside a writable root stays unreadable but can
 * be written, truncated, removed and created in.  srt_fsrules_conflicts
 * lists those. */
#ifndef SRT_NONS_FSRULES_H
#define SRT_NONS_FSRULES_H

#include <stddef.h>

#include "landlock.h"
#include "plan.h"
#include "srt.h"
#include "util.h"

#define SRT_FSRULES_MAX_RULES 100000
#define SRT_FSRULES_MAX_SCAN 1000000

/* One entry per path (the rights of several reasons for the same path
 * merged), in no particular order. */
typedef srt_landlock_rules srt_fsrules;

/* Build the rules of policy `pol` for Landlock ABI `abi` (rights the ABI
 * lacks are left out), with `tmpdir` (NULL: none) readable and writable.
 * Lists directories (without following symlinks) along the way to hidden
 * paths.  Returns 0, or -1 with err set (out is then empty). */
int srt_fsrules_build(const srt_policy *pol, const char *tmpdir, int abi, srt_fsrules *out,
		      srt_error *err);

/* The same from a plan (what srt_fsrules_build uses: pol->plan). */
int srt_fsrules_from_plan(const srt_plan *plan, const char *tmpdir, int abi,
			  srt_fsrules *out, srt_error *err);

/* The same with other bounds (tests). */
int srt_fsrules_from_plan_bounded(const srt_plan *plan, const char *tmpdir, int abi,
				  size_t max_rules, size_t max_scan, srt_fsrules *out,
				  srt_error *err);

/* The rights of the rule for exactly `path` (0: none). */
uint64_t srt_fsrules_get(const srt_fsrules *rules, const char *path);

void srt_fsrules_free(srt_fsrules *rules);

/* What the policy asks that Landlock cannot hold, as messages:
 *  `refuse`: the mode must not start (a denyWrite entry of the settings at
 *    or inside a writable root; the settings file in force inside one);
 *  `unheld`: protections that do not hold in this mode (for a warning at
 *    every run): each mandatory-deny path and host kernel interface inside
 *    a writable root (writable), each hidden path inside one (writable,
 *    and files created beside it unreadable).
 * Either may be NULL.  Returns 0, or -1 with err set (out of memory). */
int srt_fsrules_conflicts(const srt_policy *pol, srt_strv *refuse, srt_strv *unheld,
			  srt_error *err);

#endif
