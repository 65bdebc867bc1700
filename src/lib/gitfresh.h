/* gitfresh.h - git in a directory that has no repository.
 *
 * A writable root (or search root: the working directory, home) without
 * ".git" would otherwise get stand-ins of .git/hooks, .git/config and
 * .git/commondir, and `git init` there fails half-way.  Instead the sandbox
 * gets a private git directory: an empty directory in srt's run directory
 * (hidden in every sandbox, out of host git's way), bound writable at
 * <root>/.git over an empty stand-in directory, which host git does not
 * take for a repository.  At exit, once every process of the sandbox is
 * gone, a valid repository is sanitized (no hooks, an allowlisted config,
 * no commondir, config.worktree, modules/, worktrees/, rebase-merge/, sequencer/,
 * remotes/, branches/, symlinks or special
 * files) and put in place of the stand-in; anything else is discarded. */
#ifndef SRT_GITFRESH_H
#define SRT_GITFRESH_H

#include <stdbool.h>

#include "plan.h"
#include "srt.h"
#include "standins.h"
#include "util.h"

/* Limits of what is imported (a repository beyond them is kept aside). */
#define SRT_GITFRESH_MAX_DEPTH 32
#define SRT_GITFRESH_MAX_ENTRIES 1000000

/* After srt_run_create_standins: make the private directory of every
 * fresh_git op that is not skipped, named after the run's journal (so that
 * a later run removes it when this one dies), and set op->source. */
int srt_gitfresh_prepare(srt_run *run, srt_plan *plan, srt_error *err);

/* Once no process of the sandbox is left: import each private directory
 * that holds a valid repository, discard the rest; what was dropped or
 * kept aside is said in `notes`.  keep_config: config as written
 * (srt_gitfresh_keep_config).  Idempotent (op->source is cleared). */
void srt_gitfresh_finish(srt_run *run, srt_plan *plan, bool keep_config, srt_strv *notes);

/* A dead run's private directories (its journal is `journal_name` in the
 * run directory `dfd`): removed.  Under the per-user lock. */
void srt_gitfresh_remove_stale(int dfd, const char *journal_name);

/* Private directories whose journal is gone (a run's journal exists before
 * its private directories and goes after them: only a crash between
 * removing them and it, or an older build, leaves such): removed.  Under
 * the per-user lock. */
void srt_gitfresh_remove_orphans(int dfd);

#endif
