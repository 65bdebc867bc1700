/* plan.h - the mount plan: what the sandbox's view of the file system is,
 * computed as data from the resolved rules by a pure function (plan.c) and
 * carried out by mounts.c.  Unit-tested without any mounting. */
#ifndef SRT_PLAN_H
#define SRT_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "mandatory.h"
#include "paths.h"
#include "srt.h"
#include "util.h"

typedef enum srt_op_kind {
	SRT_OP_BIND,      /* the host's subtree at path, read-only or writable */
	SRT_OP_HIDE_DIR,  /* an empty read-only tmpfs over a directory */
	SRT_OP_HIDE_FILE, /* an unreadable (mode 000) empty file over a file */
} srt_op_kind;

typedef struct srt_mount_op {
	srt_op_kind kind;
	char *path;      /* absolute, resolved */
	bool writable;   /* SRT_OP_BIND only */
	bool is_dir;     /* what the mount point must be */
	int parent;      /* index of the nearest enclosing op, -1 for none */
	const char *why; /* "allowWrite", "denyRead", "mandatory deny", ... */
	bool link_ok;    /* may be a symlink (protected as the link itself: a
			  * mandatory name found so); every other path is
			  * resolved, so a symlink there is one swapped in */
	bool skip;       /* set at spawn: its stand-in could not be created */
	/* a write root's missing .git (srt_protected.fresh_git): bound
	 * writable from `source`, a private directory srt_gitfresh_prepare
	 * makes in the run directory at spawn (NULL before), imported into
	 * the user's tree at exit (gitfresh.h) */
	bool fresh_git;
	char *source;
} srt_mount_op;

/* A path that must exist on the host while the sandbox runs so that a
 * mount can sit on it: every protected path and pin.  Those that do not
 * exist at spawn are created as empty stand-ins (standins.c). */
typedef struct srt_standin {
	char *path;
	bool is_dir;
} srt_standin;

typedef struct srt_plan {
	srt_mount_op *ops; /* sorted: parents before children */
	size_t n_ops, ops_cap;
	srt_standin *standins; /* parents before children */
	size_t n_standins, standins_cap;
	srt_strv write_roots; /* effective writable roots (Landlock, display) */
	/* "/" is a writable root: the host's tree itself is left writable (with
	 * its own mounts and flags, plus nosuid and nodev) instead of being
	 * made read-only, and there is no op for "/": a mount placed over the
	 * root would leave every process of the sandbox outside it ("chrooted"
	 * to the kernel, which then refuses the command's user namespace). */
	bool base_writable;
} srt_plan;

typedef struct srt_plan_input {
	const srt_resolved_list *deny_read;
	const srt_resolved_list *allow_read;
	const srt_resolved_list *allow_write;
	const srt_resolved_list *deny_write;
	const srt_protected_list *protected_paths; /* from srt_mandatory_scan */
	/* srt's own state on the host (the run directory): hidden in every
	 * sandbox whatever the other lists say (entries at or beneath one are
	 * ignored, and none is a writable root), and pinned like a protected
	 * path when it lies inside a writable root, so that no ancestor can
	 * be renamed.  Existing directories (srt_run_open creates them). */
	const srt_strv *private_paths;
	/* mount points of the host's kernel interfaces (srt_kernel_mounts):
	 * read-only wherever a writable root contains them, and no root lies
	 * at or beneath one */
	const srt_resolved_list *kernel_mounts;
} srt_plan_input;

/* Effective write roots: allowWrite entries that exist, are not under (or
 * at) a denyWrite entry or kernel mount, nor at or beneath a private path.
 * Used to know where to run the mandatory scan. */
int srt_plan_write_roots(const srt_plan_input *in, srt_strv *out);

/* Build the plan.  Semantics (SPEC §4):
 *  readable(p): the deepest of denyRead / allowRead / allowWrite entries at or
 *    above p decides; at the same path allowRead/allowWrite beat denyRead;
 *    no entry: readable.
 *  writable(p): readable(p), an allowWrite entry at or above p, no denyWrite
 *    entry, protected path or kernel mount at or above p.
 * The base (no op above) is the host's tree, readable, and read-only unless
 * "/" is a write root (base_writable).
 * Every protected path gets a read-only mount, and every directory between a
 * write root and a protected path a writable self-bind, so that renaming or
 * removing around it fails (EBUSY). */
int srt_plan_build(const srt_plan_input *in, srt_plan *out, srt_error *err);

/* Deep copy (ops and stand-ins; write_roots too). */
int srt_plan_copy(const srt_plan *src, srt_plan *dst, srt_error *err);

/* Mark every op at or beneath `path` as skipped. */
void srt_plan_skip_under(srt_plan *plan, const char *path);

void srt_plan_clear(srt_plan *plan);

const char *srt_op_kind_name(srt_op_kind k);

#endif
