/* standins.h - host-side traces of a run and their removal.
 *
 * A run that creates stand-ins owns, in a per-user run directory
 * (/tmp/srt-UID, mode 0700), a journal run-XXXXXX.journal, locked with
 * flock() for the run's lifetime, listing the stand-ins it created or
 * adopted (type, device, inode, path).  At exit the run removes them and the
 * journal.  A run that died (even by SIGKILL) leaves its journal unlocked:
 * the next run finds it, removes what it lists if still untouched (same
 * inode, still as created), and deletes it.  (TMPDIR lives inside the
 * sandbox, in its private /dev/shm: nothing on the host.) */
#ifndef SRT_STANDINS_H
#define SRT_STANDINS_H

#include <stdbool.h>

#include "plan.h"
#include "srt.h"

typedef struct srt_run {
	char *dir;      /* the per-user run directory */
	char *journal;  /* this run's journal path, once it has one */
	int journal_fd; /* locked */
	int dir_fd;     /* the run directory */
} srt_run;

/* Remove what dead runs left (cheap when there is no run directory). */
int srt_run_open(srt_run *run, srt_error *err);

/* Create the plan's stand-ins on the host, recording each in the journal.
 * A stand-in that cannot be created because an ancestor is not a directory
 * (a symlink, a file - e.g. a worktree's ".git" file) or because the user
 * could not create it either (EACCES, EROFS) is skipped: its ops are marked
 * skip in `plan` and a note is added to `notes`. */
int srt_run_create_standins(srt_run *run, srt_plan *plan, srt_strv *notes,
			    srt_error *err);

/* Remove stand-ins and journal; release the lock.  Idempotent. */
void srt_run_close(srt_run *run);

#endif
