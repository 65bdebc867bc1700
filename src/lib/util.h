/* util.h - small helpers shared by libsrt: errors, cleanup attributes,
 * growable string vectors.  Internal; not part of the public API. */
#ifndef SRT_UTIL_H
#define SRT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "srt.h"

/* Fill `err` (if not NULL) with code and a printf-style message.  Returns -1
 * so callers can write `return srt_fail(err, ...);`. */
int srt_fail(srt_error *err, srt_status code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errno_value)" and recording the errno. */
int srt_fail_errno(srt_error *err, srt_status code, int errno_value,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- scope-bound cleanup --------------------------------------------- */
static inline void srt_freep(void *p) { free(*(void **)p); }
static inline void srt_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define SRT_AUTOFREE __attribute__((cleanup(srt_freep)))
#define SRT_AUTOCLOSE __attribute__((cleanup(srt_closep)))

/* Hand ownership on: returns the value and clears the variable so the
 * cleanup attribute does nothing. */
static inline void *srt_steal_ptr(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
static inline int srt_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* ---- string vector --------------------------------------------------- */
typedef struct srt_strv {
	char **v;   /* NULL-terminated when n > 0 */
	size_t n;
	size_t cap;
} srt_strv;

/* Append a copy of s.  Returns 0, or -1 on allocation failure. */
int srt_strv_push(srt_strv *sv, const char *s);
/* Append s, taking ownership of it (freed on failure). */
int srt_strv_push_owned(srt_strv *sv, char *s);
bool srt_strv_contains(const srt_strv *sv, const char *s);
void srt_strv_clear(srt_strv *sv);

/* Read a small file (sysctl, /proc) into buf, NUL-terminated.  False when
 * it cannot be opened or is empty.  Async-signal-safe: open, read, close. */
bool srt_read_small(const char *path, char *buf, size_t cap);

/* openat2(2) for an O_PATH descriptor (plus `flags`, e.g. O_DIRECTORY),
 * close-on-exec, with `resolve` (RESOLVE_* restrictions). */
int srt_open_path(int dirfd, const char *path, int flags, uint64_t resolve);

/* Pass descriptors over a Unix socket (SCM_RIGHTS, one byte of data).
 * At most SRT_MAX_PASSED_FDS.  Returns 0 or -1 with errno. */
#define SRT_MAX_PASSED_FDS 128 /* >= 2 + SRT_MAX_HOST_PORTS listeners */
int srt_send_fds(int sock, const int *fds, size_t n);
/* Receive what srt_send_fds sent (close-on-exec, without waiting): the
 * number of descriptors (all of them, or -1 with errno: EAGAIN when
 * nothing is there yet, EPROTO when the message was not one of ours or
 * carried more than `max`; its descriptors are then closed). */
int srt_recv_fds(int sock, int *fds, size_t max);

/* A point where a test can pause srt (test builds only, meson
 * -Dtest_hooks=true; a no-op otherwise): with SRT_TEST_HOOK_DIR=DIR in the
 * environment, the process renames itself "srt-hook-paused" (its comm,
 * seen in /proc/PID/comm) and waits until DIR/NAME.resume exists (at most
 * 30 s).  Async-signal-safe: runs in the sandbox's init. */
#ifdef SRT_TEST_HOOKS
void srt_test_hook(const char *name);
#else
static inline void srt_test_hook(const char *name) { (void)name; }
#endif

/* malloc'd printf; NULL on failure. */
char *srt_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A CIDR prefix length: 1 to 3 decimal digits, at most `max`. */
bool srt_parse_prefix_len(const char *s, unsigned max, unsigned *out);

/* Join dir and name with exactly one '/'; NULL on failure. */
char *srt_path_join(const char *dir, const char *name);

/* True when `path` equals `root` or lies beneath it (both absolute and
 * normalised, no trailing slash except for "/"). */
bool srt_path_is_within(const char *path, const char *root);

/* Number of components of an absolute normalised path ("/" is 0). */
size_t srt_path_depth(const char *path);

/* A pidfd for thread `tid` (a seccomp notification names the calling
 * thread, not its process): PIDFD_THREAD (Linux 6.9), else its thread
 * group's leader (`tgid`, or read from /proc/TID/status when 0).  -1 with
 * errno. */
int srt_pidfd_open_thread(pid_t tid, pid_t tgid);

#endif
