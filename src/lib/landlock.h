/* landlock.h - Landlock as a second, independent write barrier (SPEC §6):
 * writes are allowed only beneath the writable paths of the plan. */
#ifndef SRT_LANDLOCK_H
#define SRT_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "srt.h"

/* The filesystem access rights, by their kernel values (Debian 12's
 * headers predate TRUNCATE and IOCTL_DEV). */
#define SRT_LL_EXECUTE (1ULL << 0)
#define SRT_LL_WRITE_FILE (1ULL << 1)
#define SRT_LL_READ_FILE (1ULL << 2)
#define SRT_LL_READ_DIR (1ULL << 3)
#define SRT_LL_REMOVE_DIR (1ULL << 4)
#define SRT_LL_REMOVE_FILE (1ULL << 5)
#define SRT_LL_MAKE_CHAR (1ULL << 6)
#define SRT_LL_MAKE_DIR (1ULL << 7)
#define SRT_LL_MAKE_REG (1ULL << 8)
#define SRT_LL_MAKE_SOCK (1ULL << 9)
#define SRT_LL_MAKE_FIFO (1ULL << 10)
#define SRT_LL_MAKE_BLOCK (1ULL << 11)
#define SRT_LL_MAKE_SYM (1ULL << 12)
#define SRT_LL_REFER (1ULL << 13)    /* ABI 2 */
#define SRT_LL_TRUNCATE (1ULL << 14) /* ABI 3 */
#define SRT_LL_IOCTL_DEV (1ULL << 15) /* ABI 5 */
/* Reading a file's contents or running it (directories: beneath them). */
#define SRT_LL_READ (SRT_LL_READ_FILE | SRT_LL_EXECUTE)
/* The rights that apply to a file itself (not only to directories). */
#define SRT_LL_FILE_RIGHTS (SRT_LL_EXECUTE | SRT_LL_WRITE_FILE | SRT_LL_READ_FILE | \
			    SRT_LL_TRUNCATE | SRT_LL_IOCTL_DEV)

/* Every filesystem right ABI `abi` knows (reads, writes, IOCTL_DEV). */
uint64_t srt_landlock_fs_all(int abi);
/* Every one of those but READ_FILE, READ_DIR and EXECUTE: what a writable
 * root gets (REFER, TRUNCATE and IOCTL_DEV included where the ABI has them). */
uint64_t srt_landlock_fs_write(int abi);

/* One rule of the no-namespace mode: `access` beneath `path` (absolute;
 * for a file or device, only its SRT_LL_FILE_RIGHTS part applies). */
typedef struct srt_landlock_rule {
	char *path;
	uint64_t access;
} srt_landlock_rule;

typedef struct srt_landlock_rules {
	srt_landlock_rule *v;
	size_t n, cap;
} srt_landlock_rules;

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

/* The ruleset of the no-namespace mode (nons/fsrules.h computes `rules`):
 *  - handled_access_fs: every filesystem right of the ABI, reads included,
 *    and each rule's rights beneath its path.  A path is opened O_PATH
 *    without following any symlink (RESOLVE_NO_SYMLINKS |
 *    RESOLVE_NO_MAGICLINKS, O_NOFOLLOW); a rule whose path is gone
 *    (ENOENT, ENOTDIR), became a symlink (ELOOP, or the link itself),
 *    cannot be searched (EACCES) or lies on an internal file system is
 *    skipped: every rule only grants, so skipping one grants less.
 *    Non-directories get only the SRT_LL_FILE_RIGHTS part of their rule.
 *  - handled_access_net: BIND_TCP and CONNECT_TCP; CONNECT_TCP allowed to
 *    the ports `connect_ports` (on any address: the seccomp gate decides
 *    which); no BIND_TCP rule at all, so bind(2) of a TCP socket fails.
 *  - scoped: SIGNAL and ABSTRACT_UNIX_SOCKET.
 * ABI 6 is required (scoping): below it, -1 with SRT_E_KERNEL.
 * Returns the ruleset fd, or -1 with err set.  No allocation: runs in the
 * forked child. */
int srt_landlock_ruleset_nons(int abi, const srt_landlock_rules *rules,
			      const uint16_t *connect_ports, size_t n_ports, srt_error *err);

/* Enforce on the calling thread (needs no_new_privs). */
int srt_landlock_enforce(int ruleset, srt_error *err);

#endif
