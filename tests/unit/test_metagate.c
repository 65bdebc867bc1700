/* test_metagate.c - the metadata gate of the no-namespace mode
 * (src/lib/nons/metagate.c): a child installs a filter that sends the
 * metadata system calls to its parent, which answers them with
 * srt_metagate_handle; the child checks answers and effects. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <cmocka.h>

#include "nons/metagate.h"
#include "util.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* The layout every test uses: T/root (the gate's root) and T/outs (not). */
static char T[64], R[96], O[96];
static bool xattrs; /* user.* attributes work on this file system */
static uid_t child_uid; /* non-zero: the gated child runs as this user (and group) */

/* A failed check in the child: tell and exit non-zero. */
#define CK(x)                                                                                \
	do {                                                                                 \
		if (!(x)) {                                                                  \
			fprintf(stderr, "child %s:%d: %s (errno %d %s)\n", __FILE__, __LINE__, #x, \
				errno, strerror(errno));                                     \
			_exit(1);                                                            \
		}                                                                            \
	} while (0)
/* The call fails with exactly `e` (0: succeeds). */
#define ERR(call, e)                                                                         \
	do {                                                                                 \
		errno = 0;                                                                   \
		long r_ = (long)(call);                                                      \
		int got_ = r_ < 0 ? errno : 0;                                               \
		if (got_ != (e)) {                                                           \
			fprintf(stderr, "child %s:%d: %s: got %d (%s), want %d (%s)\n", __FILE__, \
				__LINE__, #call, got_, strerror(got_), (e), strerror(e));    \
			_exit(1);                                                            \
		}                                                                            \
	} while (0)

static char *pr(const char *dir, const char *name)
{
	static char buf[8][PATH_MAX];
	static int i;
	char *b = buf[i++ % 8];
	snprintf(b, PATH_MAX, "%s/%s", dir, name);
	return b;
}

static mode_t mode_of(const char *p)
{
	struct stat st;
	CK(lstat(p, &st) == 0);
	return st.st_mode & 07777;
}

static void mkfile(const char *p, mode_t mode)
{
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

/* A fresh layout: root/{f,sub/,l->../outs/f,ldir->../outs,priv/}, outs/f. */
static int setup(void **state)
{
	snprintf(T, sizeof T, "/tmp/test_metagate.XXXXXX");
	assert_non_null(mkdtemp(T));
	snprintf(R, sizeof R, "%s/root", T);
	snprintf(O, sizeof O, "%s/outs", T);
	assert_int_equal(mkdir(R, 0755), 0);
	assert_int_equal(mkdir(O, 0755), 0);
	assert_int_equal(mkdir(pr(R, "sub"), 0755), 0);
	mkfile(pr(R, "f"), 0644);
	mkfile(pr(R, "sub/f"), 0644);
	mkfile(pr(O, "f"), 0644);
	assert_int_equal(symlink("../outs/f", pr(R, "l")), 0);
	assert_int_equal(symlink("../outs", pr(R, "ldir")), 0);
	assert_int_equal(symlink("f", pr(R, "lin")), 0);
	xattrs = setxattr(pr(T, "outs"), "user.probe", "1", 1, 0) == 0;
	if (xattrs)
		removexattr(pr(T, "outs"), "user.probe");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", T);
	return system(cmd) == 0 ? 0 : -1;
}

/* The child side: install the filter, send the listener, drop every
 * capability, run `fn`. */
static void child_start(int sock, void (*fn)(void *), void *arg)
{
	CK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	CK(ctx != NULL);
	for (size_t i = 0; i < srt_metagate_syscall_count(); i++)
		CK(seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, (int)srt_metagate_syscall_nr(i), 0) == 0);
	CK(seccomp_load(ctx) == 0);
	int nfd = seccomp_notify_fd(ctx);
	CK(nfd >= 0);
	CK(srt_send_fds(sock, &nfd, 1) == 0);
	close(nfd);
	close(sock);
	if (child_uid) {
		gid_t g[1] = {(gid_t)child_uid};
		CK(syscall(SYS_setgroups, 1, g) == 0);
		CK(syscall(SYS_setresgid, child_uid, child_uid, child_uid) == 0);
		CK(syscall(SYS_setresuid, child_uid, child_uid, child_uid) == 0);
	}
	/* the command has no capabilities */
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	CK(syscall(SYS_capset, &h, d) == 0);
	fn(arg);
	_exit(0);
}

/* Run `fn` in a gated child; the parent answers with a gate over `roots`.
 * Returns the child's exit status. */
static int run_gated_roots(const char *const *roots, size_t nroots, void (*fn)(void *), void *arg)
{
	srt_error err = {0};
	srt_metagate *mg = srt_metagate_new(roots, nroots, &err);
	assert_non_null(mg);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		child_start(sv[1], fn, arg);
	}
	close(sv[1]);
	int nfd = -1;
	for (int i = 0; i < 500 && nfd < 0; i++) {
		struct pollfd p = {.fd = sv[0], .events = POLLIN};
		poll(&p, 1, 10);
		int got = srt_recv_fds(sv[0], &nfd, 1);
		if (got != 1)
			nfd = -1;
	}
	close(sv[0]);
	assert_true(nfd >= 0);
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	assert_int_equal(seccomp_notify_alloc(&req, &resp), 0);
	int status = -1;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		struct pollfd p = {.fd = nfd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0 || !(p.revents & POLLIN))
			continue;
		memset(req, 0, sizeof *req);
		if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
			continue;
		if (srt_metagate_handle(mg, nfd, req, resp)) {
			assert_int_equal(resp->flags, 0); /* never CONTINUE */
			(void)ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp);
		}
	}
	seccomp_notify_free(req, resp);
	close(nfd);
	srt_metagate_free(mg);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_gated(void (*fn)(void *), void *arg)
{
	const char *roots[] = {R};
	return run_gated_roots(roots, 1, fn, arg);
}

static time_t mtime_of(const char *p)
{
	struct stat st;
	CK(lstat(p, &st) == 0);
	return st.st_mtime;
}

/* ---- inside the root -------------------------------------------------- */

static void c_inside(void *arg)
{
	char f[PATH_MAX];
	snprintf(f, sizeof f, "%s/f", R);
	ERR(chmod(f, 0600), 0);
	CK(mode_of(f) == 0600);
	ERR(syscall(SYS_fchmodat, AT_FDCWD, f, 0640), 0);
	CK(mode_of(f) == 0640);
	ERR(syscall(SYS_fchmodat2, AT_FDCWD, f, 0604, 0), 0);
	CK(mode_of(f) == 0604);
	int fd = open(f, O_RDONLY | O_CLOEXEC);
	CK(fd >= 0);
	ERR(fchmod(fd, 0611), 0);
	CK(mode_of(f) == 0611);
	ERR(chown(f, getuid(), getgid()), 0);
	ERR(fchown(fd, (uid_t)-1, (gid_t)-1), 0);
	ERR(lchown(f, getuid(), (gid_t)-1), 0);
	ERR(fchownat(fd, "", (uid_t)-1, getgid(), AT_EMPTY_PATH), 0);
	/* no CAP_CHOWN: another owner is refused, as the kernel would */
	ERR(chown(f, 4242, (gid_t)-1), EPERM);
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};
	ERR(utimensat(AT_FDCWD, f, ts, 0), 0);
	CK(mtime_of(f) == 2000);
	ERR(futimens(fd, (struct timespec[2]){{1, 0}, {3000, 0}}), 0);
	CK(mtime_of(f) == 3000);
	struct utimbuf ub = {.actime = 5, .modtime = 4000};
	ERR(utime(f, &ub), 0);
	CK(mtime_of(f) == 4000);
	struct timeval tv[2] = {{6, 0}, {5000, 10}};
	ERR(utimes(f, tv), 0);
	CK(mtime_of(f) == 5000);
	ERR(syscall(SYS_futimesat, AT_FDCWD, f, (struct timeval[2]){{7, 0}, {6000, 0}}), 0);
	CK(mtime_of(f) == 6000);
	ERR(syscall(SYS_futimesat, fd, NULL, (struct timeval[2]){{7, 0}, {6500, 0}}), 0);
	CK(mtime_of(f) == 6500);
	ERR(utimensat(AT_FDCWD, f, NULL, 0), 0); /* now */
	CK(mtime_of(f) > 6500);
	/* both UTIME_OMIT: nothing to do, even for a missing file */
	ERR(utimensat(AT_FDCWD, pr(R, "missing"), ((struct timespec[2]){{0, UTIME_OMIT}, {0, UTIME_OMIT}}), 0), 0);
	if (xattrs) {
		char v[8] = "";
		ERR(setxattr(f, "user.x", "val", 3, 0), 0);
		CK(getxattr(f, "user.x", v, sizeof v) == 3 && memcmp(v, "val", 3) == 0);
		ERR(setxattr(f, "user.x", "val", 3, XATTR_CREATE), EEXIST);
		ERR(lsetxattr(f, "user.y", "", 0, 0), 0);
		ERR(fsetxattr(fd, "user.z", "zz", 2, 0), 0);
		CK(getxattr(f, "user.z", v, sizeof v) == 2);
		ERR(removexattr(f, "user.x"), 0);
		ERR(lremovexattr(f, "user.y"), 0);
		ERR(fremovexattr(fd, "user.z"), 0);
		ERR(removexattr(f, "user.z"), ENODATA);
		CK(getxattr(f, "user.x", v, sizeof v) < 0 && errno == ENODATA);
		/* user.* on a symlink: the kernel's EPERM */
		ERR(lsetxattr(pr(R, "l"), "user.x", "v", 1, 0), EPERM);
	}
	/* the root itself, a subdirectory */
	ERR(chmod(R, 0750), 0);
	CK(mode_of(R) == 0750);
	ERR(chmod(R, 0755), 0);
	ERR(chmod(pr(R, "sub/f"), 0600), 0);
	CK(mode_of(pr(R, "sub/f")) == 0600);
	/* symlinks themselves (inside): lchown, utimensat NOFOLLOW; chmod of a
	 * symlink is unsupported by Linux */
	ERR(lchown(pr(R, "l"), getuid(), getgid()), 0);
	ERR(fchownat(AT_FDCWD, pr(R, "l"), (uid_t)-1, (gid_t)-1, AT_SYMLINK_NOFOLLOW), 0);
	ERR(utimensat(AT_FDCWD, pr(R, "l"), ts, AT_SYMLINK_NOFOLLOW), 0);
	CK(mtime_of(pr(R, "l")) == 2000);
	ERR(syscall(SYS_fchmodat2, AT_FDCWD, pr(R, "l"), 0600, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
	ERR(syscall(SYS_fchmodat2, AT_FDCWD, pr(R, "lin"), 0600, 0), 0); /* followed: f */
	CK(mode_of(f) == 0600);
	/* glibc's fchmodat(AT_SYMLINK_NOFOLLOW) before 2.39: O_PATH + /proc/self/fd */
	int pf = open(f, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	CK(pf >= 0);
	char pp[64];
	snprintf(pp, sizeof pp, "/proc/self/fd/%d", pf);
	ERR(chmod(pp, 0620), 0);
	CK(mode_of(f) == 0620);
	snprintf(pp, sizeof pp, "/proc/%d/fd/%d", (int)getpid(), pf);
	ERR(chmod(pp, 0622), 0);
	CK(mode_of(f) == 0622);
	ERR(fchmod(pf, 0600), EBADF); /* O_PATH, as the kernel */
	ERR(fchown(pf, (uid_t)-1, (gid_t)-1), EBADF);
	close(pf);
	/* AT_EMPTY_PATH on an O_PATH dirfd (path-based: allowed) */
	pf = open(f, O_PATH | O_CLOEXEC);
	ERR(fchownat(pf, "", (uid_t)-1, (gid_t)-1, AT_EMPTY_PATH), 0);
	ERR(syscall(SYS_fchmodat2, pf, "", 0644, AT_EMPTY_PATH), 0);
	CK(mode_of(f) == 0644);
	ERR(utimensat(pf, "", ts, AT_EMPTY_PATH), 0);
	close(pf);
	/* an anonymous object */
	int pipefd[2];
	CK(pipe(pipefd) == 0);
	ERR(fchmod(pipefd[0], 0600), 0);
	close(fd);
}

static void test_inside(void **state)
{
	assert_int_equal(run_gated(c_inside, NULL), 0);
}

/* ---- outside ---------------------------------------------------------- */

static void c_outside(void *arg)
{
	char g[PATH_MAX];
	snprintf(g, sizeof g, "%s/f", O);
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};
	time_t m = mtime_of(g);
	ERR(chmod(g, 0600), EROFS);
	ERR(syscall(SYS_fchmodat, AT_FDCWD, g, 0600), EROFS);
	ERR(syscall(SYS_fchmodat2, AT_FDCWD, g, 0600, AT_SYMLINK_NOFOLLOW), EROFS);
	ERR(chown(g, getuid(), getgid()), EROFS);
	ERR(lchown(g, getuid(), getgid()), EROFS);
	ERR(utimensat(AT_FDCWD, g, ts, 0), EROFS);
	ERR(utimensat(AT_FDCWD, g, NULL, 0), EROFS);
	ERR(utime(g, NULL), EROFS);
	ERR(utimes(g, NULL), EROFS);
	ERR(setxattr(g, "user.x", "v", 1, 0), EROFS);
	ERR(removexattr(g, "user.x"), EROFS);
	ERR(chmod(O, 0700), EROFS);
	ERR(chmod(T, 0700), EROFS);
	ERR(chmod("/", 0700), EROFS);
	/* through symlinks inside the root */
	ERR(chmod(pr(R, "l"), 0600), EROFS);
	ERR(chown(pr(R, "l"), getuid(), getgid()), EROFS);
	ERR(setxattr(pr(R, "l"), "user.x", "v", 1, 0), EROFS);
	ERR(utimensat(AT_FDCWD, pr(R, "l"), ts, 0), EROFS);
	ERR(chmod(pr(R, "ldir/f"), 0600), EROFS);
	ERR(chmod(pr(R, "ldir"), 0700), EROFS);
	ERR(chmod(pr(R, "../outs/f"), 0600), EROFS);
	/* descriptors of outside files */
	int fd = open(g, O_RDONLY | O_CLOEXEC);
	CK(fd >= 0);
	ERR(fchmod(fd, 0600), EROFS);
	ERR(fchown(fd, (uid_t)-1, (gid_t)-1), EROFS);
	ERR(fsetxattr(fd, "user.x", "v", 1, 0), EROFS);
	ERR(fremovexattr(fd, "user.x"), EROFS);
	ERR(futimens(fd, ts), EROFS);
	ERR(fchownat(fd, "", (uid_t)-1, (gid_t)-1, AT_EMPTY_PATH), EROFS);
	ERR(syscall(SYS_fchmodat2, fd, "", 0600, AT_EMPTY_PATH), EROFS);
	char pp[64];
	snprintf(pp, sizeof pp, "/proc/self/fd/%d", fd);
	ERR(chmod(pp, 0600), EROFS);
	ERR(lchown(pp, getuid(), getgid()), EROFS); /* the link itself, in /proc */
	close(fd);
	CK(mode_of(g) == 0644);
	CK(mtime_of(g) == m);
	CK(mode_of(O) == 0755);
	if (xattrs) {
		char v[4];
		CK(getxattr(g, "user.x", v, sizeof v) < 0 && errno == ENODATA);
	}
}

static void test_outside(void **state)
{
	assert_int_equal(run_gated(c_outside, NULL), 0);
}

/* ---- relative paths: dirfd, cwd, and the calling thread's cwd --------- */

static void *other_thread(void *arg)
{
	/* a thread of its own cwd (unshare(CLONE_FS)): the gate must use the
	 * calling thread's, not the group leader's */
	const char *out = arg;
	if (unshare(CLONE_FS) < 0 || chdir(out) < 0)
		return (void *)1;
	errno = 0;
	if (chmod("f", 0600) == 0 || errno != EROFS)
		return (void *)2;
	if (chmod("../root/f", 0641) < 0)
		return (void *)3;
	/* a descriptor through this thread's pidfd */
	int fd = open("../root/sub/f", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0611) < 0)
		return (void *)4;
	close(fd);
	return NULL;
}

static void c_relative(void *arg)
{
	int rd = open(R, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int od = open(O, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CK(rd >= 0 && od >= 0);
	ERR(syscall(SYS_fchmodat, rd, "f", 0600), 0);
	CK(mode_of(pr(R, "f")) == 0600);
	ERR(syscall(SYS_fchmodat, od, "f", 0600), EROFS);
	ERR(syscall(SYS_fchmodat, rd, "../outs/f", 0600), EROFS);
	ERR(syscall(SYS_fchmodat, od, "../root/f", 0601), 0);
	CK(mode_of(pr(R, "f")) == 0601);
	ERR(fchownat(rd, "sub", (uid_t)-1, (gid_t)-1, 0), 0);
	ERR(fchownat(od, "f", (uid_t)-1, (gid_t)-1, 0), EROFS);
	ERR(utimensat(rd, "f", ((struct timespec[2]){{1, 0}, {1234, 0}}), 0), 0);
	CK(mtime_of(pr(R, "f")) == 1234);
	ERR(syscall(SYS_futimesat, rd, "f", NULL), 0);
	ERR(syscall(SYS_futimesat, od, "f", NULL), EROFS);
	/* an absolute path ignores the dirfd */
	ERR(syscall(SYS_fchmodat, od, pr(R, "f"), 0602), 0);
	ERR(syscall(SYS_fchmodat, 9999, pr(R, "f"), 0602), 0);
	ERR(syscall(SYS_fchmodat, 9999, "f", 0602), EBADF);
	/* cwd */
	CK(chdir(R) == 0);
	ERR(chmod("f", 0603), 0);
	CK(mode_of(pr(R, "f")) == 0603);
	ERR(chmod("sub/../f", 0604), 0);
	ERR(chmod("../outs/f", 0600), EROFS);
	ERR(chmod("l", 0600), EROFS);
	ERR(chmod(".", 0755), 0);
	ERR(chmod("..", 0700), EROFS);
	CK(chdir(O) == 0);
	ERR(chmod("f", 0600), EROFS);
	ERR(chmod("../root/f", 0605), 0);
	CK(mode_of(pr(R, "f")) == 0605);
	ERR(fchownat(AT_FDCWD, "", (uid_t)-1, (gid_t)-1, AT_EMPTY_PATH), EROFS); /* cwd: outs */
	CK(chdir(pr(R, "sub")) == 0);
	ERR(fchownat(AT_FDCWD, "", (uid_t)-1, (gid_t)-1, AT_EMPTY_PATH), 0);
	/* another thread, another cwd */
	CK(chdir("/") == 0);
	pthread_t t;
	void *res = (void *)-1;
	CK(pthread_create(&t, NULL, other_thread, (void *)O) == 0);
	pthread_join(t, &res);
	CK(res == NULL);
	CK(mode_of(pr(R, "f")) == 0641);
	CK(mode_of(pr(R, "sub/f")) == 0611);
	CK(mode_of(pr(O, "f")) == 0644);
}

static void test_relative(void **state)
{
	assert_int_equal(run_gated(c_relative, NULL), 0);
}

/* ---- the kernel's errors ---------------------------------------------- */

static void c_errors(void *arg)
{
	char f[PATH_MAX];
	snprintf(f, sizeof f, "%s/f", R);
	ERR(chmod(pr(R, "missing"), 0600), ENOENT);
	ERR(chmod(pr(R, "f/x"), 0600), ENOTDIR);
	ERR(chmod(pr(R, "f/"), 0600), ENOTDIR);
	ERR(chmod("", 0600), ENOENT);
	ERR(syscall(SYS_chmod, (char *)8, 0600), EFAULT);
	ERR(syscall(SYS_chmod, NULL, 0600), EFAULT);
	ERR(syscall(SYS_fchmodat2, AT_FDCWD, f, 0600, 0x8000), EINVAL);
	ERR(fchownat(AT_FDCWD, f, (uid_t)-1, (gid_t)-1, 0x8000), EINVAL);
	ERR(syscall(SYS_utimensat, AT_FDCWD, f, NULL, 0x8000), EINVAL);
	ERR(fchmod(9999, 0600), EBADF);
	ERR(fchown(9999, 0, 0), EBADF);
	ERR(fsetxattr(9999, "user.x", "", 0, 0), EBADF);
	ERR(syscall(SYS_utimensat, 9999, NULL, NULL, 0), EBADF);
	ERR(syscall(SYS_utimensat, AT_FDCWD, NULL, NULL, 0), EFAULT);
	ERR(syscall(SYS_utimes, NULL, NULL), EFAULT);
	int fd = open(f, O_RDONLY | O_CLOEXEC);
	ERR(syscall(SYS_utimensat, fd, NULL, NULL, AT_SYMLINK_NOFOLLOW), EINVAL);
	ERR(utimensat(AT_FDCWD, f, ((struct timespec[2]){{0, 2000000000L}, {0, 0}}), 0), EINVAL);
	ERR(utimes(f, ((struct timeval[2]){{0, 1000000}, {0, 0}})), EINVAL);
	ERR(syscall(SYS_utimensat, AT_FDCWD, f, (void *)8, 0), EFAULT);
	close(fd);
	/* a path of PATH_MAX bytes without a NUL, ending at an unmapped page */
	long page = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)(2 * page + PATH_MAX), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CK(m != MAP_FAILED);
	memset(m, 'a', (size_t)(2 * page + PATH_MAX));
	ERR(chmod(m, 0600), ENAMETOOLONG);
	/* a short path right before an unmapped page is still read */
	CK(munmap(m + page, (size_t)page) == 0);
	char *p = m + page - strlen(f) - 1;
	memcpy(p, f, strlen(f) + 1);
	ERR(chmod(p, 0600), 0);
	p[strlen(f)] = 'x'; /* no NUL before the hole */
	ERR(chmod(p, 0600), EFAULT);
	if (xattrs) {
		char name[300];
		memset(name, 'n', sizeof name);
		memcpy(name, "user.", 5);
		name[299] = '\0';
		ERR(setxattr(f, name, "v", 1, 0), ERANGE);
		ERR(setxattr(f, "", "v", 1, 0), ERANGE);
		ERR(setxattr(f, "user.x", "v", 1, 0x100), EINVAL);
		ERR(setxattr(f, "user.x", m, 70000, 0), E2BIG);
		ERR(syscall(SYS_setxattr, f, "user.x", (void *)8, 1, 0), EFAULT);
		ERR(removexattr(f, "user.nothere"), ENODATA);
		ERR(setxattr(f, "bogus.x", "v", 1, 0), EOPNOTSUPP);
	}
}

static void test_errors(void **state)
{
	assert_int_equal(run_gated(c_errors, NULL), 0);
}

/* ---- the command's identity ------------------------------------------- */

static void c_identity(void *arg)
{
	char mine[PATH_MAX];
	snprintf(mine, sizeof mine, "%s/mine", R);
	CK(getuid() == 65534 && geteuid() == 65534);
	ERR(chmod(mine, 0600), 0);
	CK(mode_of(mine) == 0600);
	ERR(chown(mine, 65534, 65534), 0);
	ERR(chown(mine, 0, (gid_t)-1), EPERM);   /* no CAP_CHOWN */
	ERR(chown(mine, (uid_t)-1, 0), EPERM);   /* not one of its groups */
	ERR(chmod(pr(R, "f"), 0600), EPERM);     /* root's */
	CK(mode_of(pr(R, "f")) == 0644);
	ERR(utimensat(AT_FDCWD, pr(R, "f"), NULL, 0), EACCES); /* "now": needs write access */
	ERR(utimensat(AT_FDCWD, pr(R, "f"), ((struct timespec[2]){{1, 0}, {1, 0}}), 0), EPERM);
	ERR(chmod(pr(R, "priv/mine"), 0600), EACCES); /* cannot search priv */
	if (xattrs)
		ERR(setxattr(pr(R, "f"), "user.x", "v", 1, 0), EACCES);
	ERR(setxattr(mine, "trusted.x", "v", 1, 0), EPERM); /* no CAP_SYS_ADMIN */
}

static void test_identity(void **state)
{
	if (geteuid() != 0) {
		skip();
		return;
	}
	mkfile(pr(R, "mine"), 0644);
	assert_int_equal(chown(pr(R, "mine"), 65534, 65534), 0);
	assert_int_equal(mkdir(pr(R, "priv"), 0700), 0);
	mkfile(pr(R, "priv/mine"), 0644);
	assert_int_equal(chown(pr(R, "priv/mine"), 65534, 65534), 0);
	assert_int_equal(chmod(T, 0755), 0);
	/* srt (root, with capabilities) answers a command running as nobody */
	child_uid = 65534;
	int r = run_gated(c_identity, NULL);
	child_uid = 0;
	assert_int_equal(r, 0);
	/* the worker's lower credentials made srt non-dumpable for a while */
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
}

/* srt itself unprivileged, as the command's user */
static void test_identity_unprivileged(void **state)
{
	if (geteuid() != 0) {
		skip();
		return;
	}
	mkfile(pr(R, "mine"), 0644);
	assert_int_equal(chown(pr(R, "mine"), 65534, 65534), 0);
	assert_int_equal(mkdir(pr(R, "priv"), 0700), 0);
	mkfile(pr(R, "priv/mine"), 0644);
	assert_int_equal(chown(pr(R, "priv/mine"), 65534, 65534), 0);
	assert_int_equal(chmod(T, 0755), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		gid_t g[1] = {65534};
		if (setgroups(1, g) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		/* as after an exec by that user (setresuid made us non-dumpable) */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		_exit(run_gated(c_identity, NULL) == 0 ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- a path rewritten while the gate reads it ------------------------- */

struct flip {
	char *buf;
	volatile int stop;
	const char *a, *b;
};

static void *flipper(void *arg)
{
	struct flip *fl = arg;
	size_t n = strlen(fl->a) + 1;
	while (!fl->stop) {
		for (size_t i = 0; i < n; i++)
			((volatile char *)fl->buf)[i] = fl->a[i];
		for (size_t i = 0; i < n; i++)
			((volatile char *)fl->buf)[i] = fl->b[i];
	}
	return NULL;
}

static void c_race(void *arg)
{
	static char buf[PATH_MAX];
	struct flip fl = {.buf = buf, .a = pr(R, "f"), .b = pr(O, "f")};
	CK(strlen(fl.a) == strlen(fl.b));
	strcpy(buf, fl.a);
	pthread_t t;
	CK(pthread_create(&t, NULL, flipper, &fl) == 0);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int ok = 0, refused = 0;
	for (int i = 0;; i++) {
		errno = 0;
		int r = chmod(buf, (i & 1) ? 0600 : 0640);
		if (r == 0)
			ok++;
		else if (errno == EROFS)
			refused++;
		else
			CK(errno == ENOENT || errno == ENOTDIR);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 1 && i > 100)
			break;
	}
	fl.stop = 1;
	pthread_join(t, NULL);
	CK(mode_of(pr(O, "f")) == 0644);
	fprintf(stderr, "race: %d allowed, %d refused\n", ok, refused);
}

static void test_race(void **state)
{
	/* outs and root have names of the same length */
	assert_int_equal(run_gated(c_race, NULL), 0);
	struct stat st;
	assert_int_equal(stat(pr(O, "f"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

/* ---- the roots -------------------------------------------------------- */

static void c_roots(void *arg)
{
	/* the root, renamed, is still the root (as for Landlock: the inode); a
	 * new directory at its old path is not */
	CK(rename(R, pr(T, "moved")) == 0);
	CK(mkdir(R, 0755) == 0);
	int fd = open(pr(R, "f"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	CK(fd >= 0);
	close(fd);
	ERR(chmod(pr(T, "moved/f"), 0600), 0);
	ERR(chmod(pr(R, "f"), 0600), EROFS);
	/* a file as a root */
	ERR(chmod(pr(O, "f"), 0600), 0);
	CK(mode_of(pr(O, "f")) == 0600);
	ERR(chmod(O, 0700), EROFS);
}

static void test_roots(void **state)
{
	srt_error err = {0};
	const char *bad[] = {"relative/path"};
	assert_null(srt_metagate_new(bad, 1, &err));
	assert_int_equal(err.code, SRT_E_INVALID);
	/* a missing root is left out, a file is a root */
	const char *roots[] = {R, pr(T, "missing"), pr(O, "f")};
	assert_int_equal(run_gated_roots(roots, 3, c_roots, NULL), 0);
}

/* The cost of one call through the gate (printed, not asserted). */
static void c_bench(void *arg)
{
	char f[PATH_MAX];
	snprintf(f, sizeof f, "%s/f", R);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 2000; i++)
		CK(chmod(f, (i & 1) ? 0600 : 0644) == 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	fprintf(stderr, "gated chmod: %.1f us per call\n",
		((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 2000 / 1e3);
}

static void test_bench(void **state)
{
	assert_int_equal(run_gated(c_bench, NULL), 0);
}

static void test_table(void **state)
{
	size_t n = 0;
	while (srt_metagate_syscall_name(n)) {
		long nr = srt_metagate_syscall_nr(n);
		assert_true(nr >= 0);
		assert_true(srt_metagate_handles(nr));
		int known = seccomp_syscall_resolve_name(srt_metagate_syscall_name(n));
		if (known != __NR_SCMP_ERROR)
			assert_int_equal(known, nr);
		n++;
	}
	assert_int_equal(n, srt_metagate_syscall_count());
	assert_int_equal(srt_metagate_syscall_nr(n), -1);
	assert_true(n >= 18);
	assert_false(srt_metagate_handles(SYS_open));
	assert_false(srt_metagate_handles(SYS_connect));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_unprivileged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bench, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
