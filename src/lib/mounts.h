/* mounts.h - carry out a mount plan inside the sandbox's own mount
 * namespace (runs in the sandbox's init, as root of the outer user
 * namespace).  No allocation: every buffer is on the stack or prepared by
 * the host process before clone. */
#ifndef SRT_MOUNTS_H
#define SRT_MOUNTS_H

#include <stdbool.h>

#include "plan.h"
#include "srt.h"

/* TMPDIR inside the sandbox: in its private /dev/shm tmpfs. */
#define SRT_SANDBOX_TMPDIR "/dev/shm/tmp"

/* clone_fds: scratch array of plan->n_ops ints, prepared by the caller.
 * weaker_nested: where a new /proc cannot be mounted (a container runtime
 * covers parts of its own), use a clone of the container's and set
 * *nested; otherwise fail, naming the setting. */
int srt_mounts_apply(const srt_plan *plan, int *clone_fds, bool weaker_nested, bool *nested,
		     srt_error *err);

/* Nested mode: make /proc read-only.  In the container's /proc, the files
 * of outside processes that their owner may write without a ptrace check
 * (oom_score_adj, coredump_filter, clear_refs...) name processes outside
 * the sandbox.  Init calls it after writing the command's maps. */
int srt_mounts_seal_proc(srt_error *err);

#endif
