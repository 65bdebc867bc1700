/* metagate.h - chmod, chown, extended attributes and timestamps in the
 * no-namespace mode (nons-design.md, "Metadata gate").
 *
 * Landlock does not govern file metadata.  In the full mode the read-only
 * mounts answer EROFS; here the filter sends the metadata system calls to
 * srt as seccomp user notifications and srt performs them itself when the
 * object lies beneath a writable root (or the private TMPDIR), answering
 * EROFS otherwise.  The command only ever learns the result: the gate never
 * lets a call continue (SECCOMP_USER_NOTIF_FLAG_CONTINUE would re-read the
 * command's memory after the check).
 *
 * For each notification:
 *  1. the arguments are decoded and checked in the kernel's order (flags,
 *     names, sizes) and the command's memory is read once, with
 *     process_vm_readv: the path (at most PATH_MAX, a NUL required:
 *     ENAMETOOLONG otherwise), the attribute name (ERANGE past 255 bytes),
 *     the value (at most 64 KiB: E2BIG) and the times.  srt uses its copy;
 *     what another thread writes there afterwards changes nothing;
 *  2. the starting point is taken as the kernel would for the calling
 *     thread: /proc/TID/root for an absolute path, /proc/TID/cwd for
 *     AT_FDCWD, a copy of the thread's descriptor otherwise (pidfd_getfd),
 *     and for the descriptor-based calls (fchmod, fchown, fsetxattr,
 *     fremovexattr, futimesat/utimensat with a NULL path, the *xattrat
 *     calls with AT_EMPTY_PATH) the copy itself (O_PATH: EBADF as the
 *     kernel).  "/proc/self/fd/N" (also thread-self, the caller's TGID or
 *     TID), followed, stands for the command's own descriptor N: glibc
 *     before 2.39 implements fchmodat(AT_SYMLINK_NOFOLLOW) that way;
 *  3. SECCOMP_IOCTL_NOTIF_ID_VALID is checked after all of that (and after
 *     reading the thread's credentials from /proc/TID/status): the thread
 *     was still waiting, so none of its ids had been reused;
 *  4. everything else runs on a short-lived thread of srt that has taken the
 *     calling thread's credentials: its uid/gid sets, fsuid/fsgid and
 *     supplementary groups (raw system calls: they change that thread only,
 *     not glibc's process-wide set*id), and no capabilities at all (capset
 *     acts on the calling thread only).  So the path walk (search
 *     permission), the ownership checks (chmod needs the owner; chown to
 *     another user needs CAP_CHOWN: EPERM; explicit times need the owner,
 *     "now" write access) and the xattr namespace rules (user.* only on
 *     regular files and directories, trusted.* needs CAP_SYS_ADMIN) are the
 *     kernel's own, for the command, even when srt is root in a container.
 *     The command has no capabilities (sandbox.c drops them), so this is
 *     exactly its view;
 *  5. on that thread the path is resolved with openat2 to an O_PATH
 *     descriptor (O_NOFOLLOW for AT_SYMLINK_NOFOLLOW and the l* calls;
 *     RESOLVE_IN_ROOT from /proc/TID/root for absolute paths, which is what
 *     the kernel does for a process whose root that is; RESOLVE_NO_MAGICLINKS
 *     always: /proc magic links would name srt's descriptors, not the
 *     command's);
 *  6. containment: the object must be a root itself or lie beneath one.
 *     The path the kernel reports for the descriptor (/proc/self/fd/N: its
 *     real dentry chain, srt's view) must be a root's path or start with a
 *     root's path and "/", and the rest, opened from the root's own pinned
 *     descriptor (opened at creation) with RESOLVE_BENEATH |
 *     RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS and O_NOFOLLOW, must be
 *     the very same object (device, inode, mount id).  So a symlink, a
 *     rename of the root, or a name that merely looks right (" (deleted)")
 *     cannot pass an outside file off as inside.  Why that stays true until
 *     the operation: the operation acts on that descriptor (not a path), and
 *     the command cannot move an object across the boundary afterwards:
 *     Landlock's REFER rule refuses renames and links that would give a
 *     file more rights (outside -> inside, and inside -> outside needs write
 *     access outside).  A file with another hard link outside a root (made
 *     by the host: pnpm's store...) changes for both names, as it does in
 *     the full mode through the writable bind mount.  Descriptor-based
 *     calls on anonymous objects (pipes, sockets, anon inodes: reachable by
 *     no path) are allowed; an unlinked file (O_TMPFILE, deleted) is
 *     outside (EROFS);
 *  7. the operation, on the checked descriptor: fchmodat2(fd, "",
 *     AT_EMPTY_PATH) (a symlink: EOPNOTSUPP, as Linux; before Linux 6.6
 *     chmod("/proc/self/fd/N")), fchownat(fd, "", AT_EMPTY_PATH),
 *     setxattr/removexattr("/proc/self/fd/N") (which reaches the object
 *     itself, a symlink included: lsetxattr's semantics), utimensat(fd, "",
 *     AT_EMPTY_PATH); descriptor-based calls run the same call on srt's
 *     copy of the descriptor.  The answer is its result.
 * Outside every root: EROFS.  Errors srt meets on its own side (no memory,
 * the process unreadable): EPERM, never a success.
 *
 * Known differences with the kernel: the calls a command makes through a
 * relative path whose intermediate directories it may not search (reached
 * through a cwd entered earlier) fail the containment walk: EROFS.  The
 * resolution of relative paths uses srt's root for absolute symlinks and
 * "..": the same as the command's in this mode (the command cannot chroot).
 * srt_metagate_handle runs the operation synchronously (a slow file system
 * makes it wait).  When srt has capabilities, the kernel marks it
 * non-dumpable while the worker thread has lower credentials; the previous
 * state is restored after each call. */
#ifndef SRT_NONS_METAGATE_H
#define SRT_NONS_METAGATE_H

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "srt.h"

typedef struct srt_metagate srt_metagate;

/* `roots`: absolute paths under which metadata changes are allowed (the
 * writable roots and the private TMPDIR), symlinks already resolved.  Each
 * is opened without following symlinks and pinned (O_PATH, device, inode,
 * mount id): the root is that inode, wherever it is later (as Landlock's
 * rules are); step 6 reads its current path at every check.  A
 * root that does not exist is left out (nothing is allowed there); any
 * other failure fails the creation.  Thread-safe once created (read-only). */
srt_metagate *srt_metagate_new(const char *const *roots, size_t n, srt_error *err);
void srt_metagate_free(srt_metagate *mg);

/* Is `nr` (native architecture) one of the metadata system calls? */
bool srt_metagate_handles(long nr);

/* The system calls it handles, i < srt_metagate_syscall_count(): name and
 * number on this architecture (libseccomp may not know the newest names,
 * fchmodat2, setxattrat, removexattrat, yet the kernel does: a filter must
 * use the numbers).  The no-namespace filter's list of calls to notify
 * (filter.c srt_seccomp_metadata_names) is checked against it in
 * test_filter. */
size_t srt_metagate_syscall_count(void);
const char *srt_metagate_syscall_name(size_t i);
long srt_metagate_syscall_nr(size_t i);

/* Handle the notification `n` received from `notify_fd` (any of the
 * syscalls above; anything else, another architecture included, and the
 * newest calls when this kernel lacks them: ENOSYS).
 * Fills `resp` (id, val 0, error 0 or -errno, flags 0: never
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE); the caller sends it
 * (SECCOMP_IOCTL_NOTIF_SEND).  Returns false when the notification is no
 * longer valid (the thread died or was interrupted): nothing was done and
 * there is nobody to answer. */
bool srt_metagate_handle(const srt_metagate *mg, int notify_fd, const struct seccomp_notif *n,
			 struct seccomp_notif_resp *resp);

#endif
