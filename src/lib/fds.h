/* fds.h - the descriptors the command gets: stdio and the ones the caller
 * names (srt_spawn_options.pass_fds), with the access they were opened
 * with and nothing more (issue 8, rule 4).
 *
 * A descriptor the caller opened refers to the HOST's mount, not to the
 * sandbox's read-only view: reopening /proc/self/fd/N, or openat(N, ...)
 * beneath a directory, walks the host's mounts, where nothing is read-only
 * and nothing denyRead hides.  So:
 *  - a file or device open for writing keeps its descriptor, and Landlock
 *    allows writes to that one file (landlock.c);
 *  - a read-only file or device is reopened through the sandbox's own
 *    mounts (same path, same device and inode, same offset): the mounts and
 *    Landlock both refuse a reopen for writing.  One the sandbox cannot
 *    reach (hidden by denyRead) keeps its descriptor only if a reopen for
 *    writing is refused; else the run fails;
 *  - a directory or an O_PATH descriptor is reopened the same way, or
 *    becomes /dev/null when the sandbox hides it;
 *  - pipes, sockets, terminals and files without a name (deleted, memfd)
 *    are passed as they are;
 *  - every other descriptor above 2 is closed at exec. */
#ifndef SRT_FDS_H
#define SRT_FDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "srt.h"

typedef enum srt_fd_treatment {
	SRT_FD_AS_GIVEN,        /* pipe, socket, terminal, open for writing */
	SRT_FD_REOPEN,          /* read-only file or device: the sandbox's view */
	SRT_FD_REOPEN_OR_NULL,  /* directory, O_PATH: the sandbox's view or /dev/null */
} srt_fd_treatment;

/* PURE: what the command gets for a descriptor of this file type (st_mode),
 * these status flags (F_GETFL) and terminal-ness. */
srt_fd_treatment srt_fd_treatment_for(mode_t mode, int flags, bool tty);

/* PURE: whether such a descriptor grants writing its file (then Landlock
 * gets a write rule for that file alone). */
bool srt_fd_grants_write(mode_t mode, int flags);

/* "standard input", "standard output", "standard error", "descriptor N". */
void srt_fd_name(int fd, char *buf, size_t cap);

/* In the command, after Landlock is enforced: give each of fds[0..n) its
 * treatment.  `landlock`: Landlock is enforced (a read-only device the
 * sandbox cannot reach is kept only then).  No allocation. */
int srt_fds_confine(const int *fds, size_t n, bool landlock, srt_error *err);

/* In the command, just before exec: every descriptor above 2 that is not
 * in keep[0..n) is closed at exec; those in keep survive it. */
int srt_fds_close_others(const int *keep, size_t n, srt_error *err);

#endif
