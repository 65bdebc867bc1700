/* fds.c - the descriptors the command gets, with their own access only
 * (see fds.h for the rules and why). */
#include "fds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

srt_fd_treatment srt_fd_treatment_for(mode_t mode, int flags, bool tty)
{
	if ((flags & O_PATH) || S_ISDIR(mode))
		return SRT_FD_REOPEN_OR_NULL;
	bool file = S_ISREG(mode) || S_ISCHR(mode) || S_ISBLK(mode);
	if (!file || tty || (flags & O_ACCMODE) != O_RDONLY)
		return SRT_FD_AS_GIVEN;
	return SRT_FD_REOPEN;
}

bool srt_fd_grants_write(mode_t mode, int flags)
{
	return !(flags & O_PATH) && (flags & O_ACCMODE) != O_RDONLY &&
	       (S_ISREG(mode) || S_ISCHR(mode) || S_ISBLK(mode));
}

void srt_fd_name(int fd, char *buf, size_t cap)
{
	static const char *const std[] = {"standard input", "standard output", "standard error"};
	if (fd >= 0 && fd < 3)
		snprintf(buf, cap, "%s", std[fd]);
	else
		snprintf(buf, cap, "descriptor %d", fd);
}

/* Open the path the host gives for `fd` through the sandbox's own mounts,
 * with `flags`, and put it at `fd` if it is the same file.  Returns 0 when
 * replaced, -1 when the sandbox does not reach that file by that path. */
static int reopen_in_view(int fd, const struct stat *st, int flags)
{
	char proc[32], path[PATH_MAX];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, path, sizeof path - 1);
	if (n <= 0 || path[0] != '/')
		return -1; /* pipe:[..], anon_inode:..., or too long */
	path[n] = '\0';
	/* The host resolved this path; here it must name the same file without
	 * a symlink or a /proc magic link (which would lead back to the host's
	 * mount).  A " (deleted)" suffix names nothing, or another file. */
	if (!(flags & O_PATH))
		flags |= O_NOCTTY; /* openat2 refuses it next to O_PATH */
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int nfd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
	if (nfd < 0)
		return -1;
	struct stat ns;
	bool same = fstat(nfd, &ns) == 0 && ns.st_dev == st->st_dev && ns.st_ino == st->st_ino;
	if (same && S_ISREG(st->st_mode) && !(flags & O_PATH)) {
		/* read on from where the caller's descriptor stands */
		off_t off = lseek(fd, 0, SEEK_CUR);
		same = off >= 0 && lseek(nfd, off, SEEK_SET) == off;
	}
	int rc = same && dup2(nfd, fd) == fd ? 0 : -1;
	close(nfd);
	return rc;
}

static int replace_with_null(int fd, srt_error *err)
{
	char name[32];
	int nfd = open("/dev/null", O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (nfd < 0 || dup2(nfd, fd) != fd) {
		int e = errno;
		if (nfd >= 0)
			close(nfd);
		srt_fd_name(fd, name, sizeof name);
		return srt_fail_errno(err, SRT_E_SETUP, e, "cannot replace %s by /dev/null", name);
	}
	close(nfd);
	return 0;
}

/* A read-only file or device the sandbox cannot reach by its path keeps the
 * caller's descriptor only if that cannot be reopened for writing. */
static int keep_if_not_widened(int fd, const struct stat *st, bool landlock, srt_error *err)
{
	if (st->st_nlink == 0)
		return 0; /* no name (deleted, memfd): a write reaches nobody's path */
	char proc[32], name[32];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (S_ISREG(st->st_mode)) {
		/* The probe: opening a regular file for writing, without O_TRUNC
		 * or O_CREAT, changes nothing; O_NONBLOCK: never wait for a lease. */
		int w = open(proc, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (w < 0)
			return 0;
		close(w);
	} else if (landlock) {
		/* A device is not probed (opening one may act); Landlock has no
		 * write rule for it. */
		return 0;
	}
	srt_fd_name(fd, name, sizeof name);
	return srt_fail(err, SRT_E_SETUP,
			"%s is open read-only, but the sandbox does not reach its file by its "
			"path (denyRead hides it, or it is elsewhere) and the command could reopen "
			"it for writing through %s; pass its content through a pipe instead "
			"(cat FILE | srt ...)",
			name, proc);
}

static int confine_one(int fd, bool landlock, srt_error *err)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fstat(fd, &st) < 0)
		return 0; /* not open: nothing to confine */
	/* O_PATH: isatty fails on it, as it should */
	switch (srt_fd_treatment_for(st.st_mode, fl, isatty(fd) == 1)) {
	case SRT_FD_AS_GIVEN:
		return 0;
	case SRT_FD_REOPEN:
		if (reopen_in_view(fd, &st, O_RDONLY | (fl & O_NONBLOCK)) == 0)
			return 0;
		return keep_if_not_widened(fd, &st, landlock, err);
	case SRT_FD_REOPEN_OR_NULL: {
		int flags = (fl & O_PATH) ? O_PATH | O_NOFOLLOW : O_RDONLY;
		if (S_ISDIR(st.st_mode))
			flags |= O_DIRECTORY;
		if (reopen_in_view(fd, &st, flags) == 0)
			return 0;
		return replace_with_null(fd, err);
	}
	default:
		return srt_fail(err, SRT_E_SETUP, "descriptor %d: unknown treatment", fd);
	}
}

int srt_fds_confine(const int *fds, size_t n, bool landlock, srt_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (confine_one(fds[i], landlock, err) < 0)
			return -1;
	return 0;
}

static int mark_cloexec(unsigned lo, unsigned hi, srt_error *err)
{
	if (lo > hi)
		return 0;
	if (syscall(SYS_close_range, lo, hi, CLOSE_RANGE_CLOEXEC) < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno,
				      "close_range(CLOSE_RANGE_CLOEXEC) failed (needs Linux 5.11)");
	return 0;
}

int srt_fds_close_others(const int *keep, size_t n, srt_error *err)
{
	if (n > SRT_MAX_PASS_FDS)
		return srt_fail(err, SRT_E_INVALID, "more than %d descriptors to pass", SRT_MAX_PASS_FDS);
	/* Marked close-on-exec rather than closed: the pipe that reports an
	 * exec failure to init must live until exec. */
	int sorted[SRT_MAX_PASS_FDS];
	size_t m = 0;
	for (size_t i = 0; i < n; i++) { /* insertion sort: n is small */
		size_t j = m++;
		for (; j > 0 && sorted[j - 1] > keep[i]; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = keep[i];
	}
	unsigned lo = 3;
	for (size_t i = 0; i < m; i++) {
		if (sorted[i] < 3 || (unsigned)sorted[i] < lo)
			continue; /* stdio, or a duplicate */
		if (mark_cloexec(lo, (unsigned)sorted[i] - 1, err) < 0)
			return -1;
		if (fcntl(sorted[i], F_SETFD, 0) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "descriptor %d to pass", sorted[i]);
		lo = (unsigned)sorted[i] + 1;
	}
	return mark_cloexec(lo, ~0U, err);
}
