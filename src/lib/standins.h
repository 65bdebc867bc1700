/* standins.h - host-side traces of a run and their removal.
 *
 * srt keeps its state in one per-user run directory, /tmp/srt-UID (0700,
 * ours, no symlink), created by every run before its sandbox starts and
 * hidden inside every sandbox (plan.c, "private paths"): the command can
 * neither read nor write, create, lock or rename anything there.
 *
 * A run that creates stand-ins owns a journal run-XXXXXX.journal there,
 * locked with flock() for the run's lifetime, listing the stand-ins it
 * created or adopted (type, device, inode, birth and change times, path).
 * Each stand-in a run mounts (and that a clean-up could remove) is held
 * with a shared flock() by the host srt process for the whole run; removal
 * takes an exclusive one without waiting, so a stand-in any live sandbox of
 * any user still uses is never removed, without looking at /proc.  At exit
 * the run removes what it can and deletes its journal; what is still in use
 * stays listed, and a later run retries.  A run that died (even by SIGKILL)
 * leaves its journal unlocked: the next run replays it.  Replay trusts no
 * record blindly (see undo_record).  (TMPDIR lives inside the sandbox, in
 * its private /dev/shm: nothing on the host.) */
#ifndef SRT_STANDINS_H
#define SRT_STANDINS_H

#include <stdbool.h>

#include "plan.h"
#include "srt.h"

/* Every stand-in carries this extended attribute: replay removes nothing
 * without it (where the file system has user attributes at all). */
#define SRT_STANDIN_MARK_NAME "user.srt"
#define SRT_STANDIN_MARK_VALUE "stand-in"

typedef struct srt_run {
	char *dir;      /* the per-user run directory */
	char *journal;  /* this run's journal (name in dir), once it has one */
	int journal_fd; /* locked */
	int dir_fd;     /* the run directory; -1 when it is not usable */
	char dir_problem[200]; /* why not (for runs that need it) */
	int *held;      /* stand-ins this run mounts, each with LOCK_SH */
	size_t n_held, cap_held;
} srt_run;

/* The run directory of this user (malloc'd). */
char *srt_run_dir_path(void);

/* Create the run directory (or repair its mode), then remove what dead runs
 * left, under the per-user lock (waited for at most 10 s; then an error
 * naming the process that holds it).  When the directory is not ours (a
 * symlink, another user's), nothing of ours is there: its op in `plan` is
 * marked skip, and only a run that needs stand-ins fails (later). */
int srt_run_open(srt_run *run, srt_plan *plan, srt_error *err);

/* Create the plan's stand-ins on the host, recording each in the journal,
 * and hold every stand-in the sandbox will mount.
 * A stand-in that cannot be created because an ancestor is not a directory
 * (a symlink, a file - e.g. a worktree's ".git" file) or because the user
 * could not create it either (EACCES, EROFS) is skipped: its ops are marked
 * skip in `plan` and a note is added to `notes`. */
int srt_run_create_standins(srt_run *run, srt_plan *plan, srt_strv *notes,
			    srt_error *err);

/* This run's journal, created (locked) when it has none yet: 0, or -1
 * with errno.  Things a run keeps in the run directory are named after
 * it, so that a later run finds them when this one died. */
int srt_run_journal(srt_run *run);

/* Release the stand-ins, remove those nobody uses any more and the journal
 * (kept while it still lists some); release the lock.  Idempotent. */
void srt_run_close(srt_run *run);

#endif
