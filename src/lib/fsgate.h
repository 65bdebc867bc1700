/* fsgate.h - the creation gate: the command's file creations, write opens
 * and renames, performed by the sandbox's init after a check of the name
 * they produce (issue #12 part 2, #8 rule 3).
 *
 * Mounts and Landlock cannot refuse a name: a `.bashrc` or `.git/hooks/x`
 * the command creates in a directory made during the run, or deeper than
 * the start-up search, was writable, and the search made stand-ins in the
 * user's tree for the names that did not exist.  With the gate, every call
 * that creates a name or opens a file for writing (open/openat/creat with
 * a write flag, openat2, mkdir, mknod, symlink, link, rename, truncate)
 * stops in a seccomp user notification (a filter of its own, filter.h
 * srt_seccomp_fsgate_program).  Init reads the arguments once, resolves
 * them as the kernel would for the caller (its cwd, its descriptors, the
 * same root and mounts), judges the final name (srt_fsgate_judge), and
 * performs the call itself under a Landlock domain that contains the
 * command's (init's is the command's plus /proc, which the gate refuses by
 * itself), with every capability dropped and the caller's ids: so what it
 * may do is what the command may do, less the protected names.  It never
 * answers "continue": nothing the command changes after the check
 * matters.  Refusals go to the host as violation records.
 *
 * Runs in init after a raw clone(): no allocation (stack buffers and one
 * mmap'd scratch area). */
#ifndef SRT_FSGATE_H
#define SRT_FSGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a call makes at the name. */
typedef enum srt_fsg_obj {
	SRT_FSG_FILE,    /* a regular file (open, creat, mknod S_IFREG, link) */
	SRT_FSG_DIR,     /* mkdir, or a directory renamed there */
	SRT_FSG_SYMLINK, /* symlink, or a symlink renamed there */
	SRT_FSG_OTHER,   /* FIFO, socket, device node */
} srt_fsg_obj;

/* How the name is reached. */
typedef enum srt_fsg_intent {
	SRT_FSG_CREATE,    /* open(O_CREAT), mkdir, mknod, symlink, link target */
	SRT_FSG_WRITE,     /* an existing file opened for writing, truncate */
	SRT_FSG_RENAME_TO, /* the destination of a rename */
	SRT_FSG_LINK_FROM, /* the source of a hard link (a second, writable name) */
} srt_fsg_intent;

/* What the caller knows of the directory (srt_fsgate_judge is pure). */
#define SRT_FSG_DIR_GITDIR 1u /* named ".git", or holds a regular file HEAD */
#define SRT_FSG_DIR_HOOKS 2u  /* named "hooks", in a git directory */
/* filesystem.allowGitConfig: git directories' configs are the command's */
#define SRT_FSG_GITCONFIG_OK 4u

typedef enum srt_fsg_verdict {
	SRT_FSG_ALLOW,
	SRT_FSG_REFUSE,
	/* a git directory's config: only a rename of a file whose text sets
	 * nothing from gitconfig.h's table, and then as a fresh copy */
	SRT_FSG_GITCONFIG,
	/* HEAD in a directory: it becomes a git directory; allowed when its
	 * config is clean and its hooks/ holds only samples */
	SRT_FSG_GITHEAD,
} srt_fsg_verdict;

/* PURE.  May `name` be made or written in the directory `dir` (absolute,
 * as the sandbox sees it; dir_flags as above)?  On refusal *rule names the
 * protection ("mandatory deny .bashrc", ...; static text). */
srt_fsg_verdict srt_fsgate_judge(const char *dir, const char *name, srt_fsg_obj obj,
				 srt_fsg_intent intent, unsigned dir_flags, const char **rule);

/* PURE.  True when git config text sets nothing that makes git run a
 * program or read more configuration (gitconfig.h's table); else *key
 * gets the first such key ("section.name", cut to cap). */
bool srt_fsgate_gitconfig_clean(const char *text, size_t len, char *key, size_t cap);

/* One violation record, init -> host (srt_msg.text of SRT_MSG_VIOLATION):
 * op, path, resolved, rule, comm as NUL-separated strings, pid in value. */
#define SRT_FSG_RECORD_MAX 1024

/* The gate's state in init. */
typedef struct srt_fsgate {
	int notify_fd;   /* the listener of the command's gate filter */
	int record_fd;   /* init -> host violation records (non-blocking) */
	int root_fd;     /* "/" of the sandbox, O_PATH */
	char *scratch;   /* mmap'd: file contents being checked */
	size_t scratch_len;
	uint64_t recorded, dropped;
	bool git_config_ok;  /* filesystem.allowGitConfig */
} srt_fsgate;

/* Set up (umask 0: the caller's umask is applied from /proc).  0 or -1
 * with errno. */
int srt_fsgate_open(srt_fsgate *g, int notify_fd, int record_fd);

/* Receive and answer one notification.  0; -1 when the listener is gone
 * (no process uses the filter any more) or broken. */
int srt_fsgate_serve(srt_fsgate *g);

#endif
