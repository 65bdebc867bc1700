/* fsgate.c - the creation gate, served by the sandbox's init (fsgate.h).
 *
 * One notification at a time: read the caller's arguments once (its
 * memory, process_vm_readv), take its starting point (a copy of its
 * descriptor, or its cwd through /proc), resolve the directory of the
 * final name with the kernel (RESOLVE_NO_MAGICLINKS: /proc/self would be
 * init's), judge the name, perform the call on that directory descriptor,
 * answer (an opened file is placed in the caller with
 * SECCOMP_ADDFD_FLAG_SEND).  A final symlink is followed by hand, so that
 * the name judged is the name created.  The caller's descriptors, as
 * dirfd or named as paths (/proc/self/fd/N, /dev/fd/N, /dev/stdout), are
 * reached through /proc/TID/fd/N (the caller's, never init's).  Nothing is judged on
 * /proc, where init (not the command) would be the one writing: refused.
 * No allocation: init runs after a raw clone(). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fsgate.h"

#include "init.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef __O_TMPFILE
#define __O_TMPFILE 020000000
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define HOPS_MAX 40                 /* symlinks followed by hand, as the kernel */
#define SCRATCH_LEN (1u << 20)      /* a git config checked: at most 1 MiB */

/* ---- the caller -------------------------------------------------------- */

typedef struct call {
	const struct seccomp_notif *n;
	pid_t tid, tgid;
	mode_t umask;
	char comm[20];
	const char *op;          /* for the record */
	char path[PATH_MAX];     /* the (first) path as the command named it */
	char path2[PATH_MAX];    /* the second path, or a symlink's target */
} call;

typedef struct loc {
	int dir;                 /* O_PATH descriptor of the directory */
	char dirpath[PATH_MAX];  /* its path in the sandbox */
	char name[NAME_MAX + 1];
	unsigned flags;          /* SRT_FSG_DIR_* */
} loc;

static void loc_close(loc *l)
{
	if (l->dir >= 0)
		close(l->dir);
	l->dir = -1;
}

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

/* Exactly `len` bytes at `addr` of thread `tid`: 0 or -EFAULT. */
static int read_mem(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	return len == 0 || process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* A NUL-terminated string of fewer than `cap` bytes, page by page. */
static int read_str(pid_t tid, uint64_t addr, char *buf, size_t cap)
{
	const size_t page = 4096;
	size_t done = 0;
	if (!addr)
		return -EFAULT;
	while (done < cap) {
		size_t chunk = page - (size_t)((addr + done) % page);
		if (chunk > cap - done)
			chunk = cap - done;
		if (read_mem(tid, addr + done, buf + done, chunk) < 0)
			return -EFAULT;
		if (memchr(buf + done, '\0', chunk))
			return 0;
		done += chunk;
	}
	return -ENAMETOOLONG;
}

/* Tgid, umask and name of the calling thread (/proc/TID/status). */
static int read_status(call *c)
{
	char p[48], buf[2048];
	snprintf(p, sizeof p, "/proc/%d/status", (int)c->tid);
	if (!srt_read_small(p, buf, sizeof buf))
		return -ESRCH;
	const char *t = strstr(buf, "\nTgid:");
	const char *u = strstr(buf, "\nUmask:");
	c->tgid = t ? (pid_t)strtol(t + 6, NULL, 10) : 0;
	c->umask = u ? (mode_t)strtol(u + 7, NULL, 8) : 022;
	if (strncmp(buf, "Name:\t", 6) == 0) {
		size_t l = strcspn(buf + 6, "\n");
		if (l >= sizeof c->comm)
			l = sizeof c->comm - 1;
		memcpy(c->comm, buf + 6, l);
		c->comm[l] = '\0';
	}
	return c->tgid > 0 ? 0 : -ESRCH;
}

static bool still_waiting(const srt_fsgate *g, const call *c)
{
	uint64_t id = c->n->id;
	return ioctl(g->notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* ---- records ------------------------------------------------------------ */

static size_t pack(char *out, size_t at, size_t cap, const char *s)
{
	size_t l = s ? strlen(s) : 0;
	if (at >= cap)
		return cap;
	if (l > cap - at - 1)
		l = cap - at - 1;
	memcpy(out + at, s ? s : "", l);
	out[at + l] = '\0';
	return at + l + 1;
}

/* One record to the host; when its channel is full (a slow reader, a
 * flood) it is counted instead: never lost silently, never a wait. */
static void record(srt_fsgate *g, const call *c, const char *path, const char *resolved,
		   const char *rule, int err)
{
	srt_msg m = {.type = SRT_MSG_VIOLATION, .code = err, .value = (int32_t)c->tid};
	size_t at = pack(m.text, 0, sizeof m.text, c->op);
	at = pack(m.text, at, sizeof m.text, path);
	at = pack(m.text, at, sizeof m.text, resolved);
	at = pack(m.text, at, sizeof m.text, rule);
	(void)pack(m.text, at, sizeof m.text, c->comm);
	if (g->record_fd >= 0 && write(g->record_fd, &m, sizeof m) == sizeof m)
		g->recorded++;
	else
		g->dropped++;
}

/* ---- resolution --------------------------------------------------------- */

static ssize_t fd_path(int fd, char *buf, size_t cap)
{
	char p[40];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, buf, cap - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static int open_how(int dir, const char *name, uint64_t flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0,
		.resolve = resolve | RESOLVE_NO_MAGICLINKS,
	};
	long r = syscall(SYS_openat2, dir, name, &how, sizeof how);
	return r < 0 ? neg_errno() : (int)r;
}

static bool on_proc(int fd)
{
	struct statfs sf;
	return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

static bool is_regular_at(int dir, const char *name)
{
	struct stat st;
	return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static bool last_is(const char *path, const char *want)
{
	const char *s = strrchr(path, '/');
	return s && strcmp(s + 1, want) == 0;
}

/* SRT_FSG_DIR_* of the directory `dir` (path `dirpath`). */
static unsigned dir_flags(int dir, const char *dirpath)
{
	if (last_is(dirpath, ".git") || is_regular_at(dir, "HEAD"))
		return SRT_FSG_DIR_GITDIR;
	if (!last_is(dirpath, "hooks"))
		return 0;
	SRT_AUTOCLOSE int up = openat(dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char upath[PATH_MAX];
	if (up < 0 || fd_path(up, upath, sizeof upath) < 0)
		return SRT_FSG_DIR_HOOKS; /* cannot tell: as strict as can be */
	return (last_is(upath, ".git") || is_regular_at(up, "HEAD")) ? SRT_FSG_DIR_HOOKS : 0;
}

/* The caller's descriptor N named as a path: "/proc/self/fd/N[/rest]"
 * and its equivalents.  N, with *rest after it; -1 if not such a path. */
static int fd_form(const call *c, const char *p, const char **rest)
{
	static const char *const std[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
	for (int i = 0; i < 3; i++)
		if (strcmp(p, std[i]) == 0) {
			*rest = "";
			return i;
		}
	char pre[4][64];
	snprintf(pre[0], sizeof pre[0], "/proc/%d/fd/", (int)c->tgid);
	snprintf(pre[1], sizeof pre[1], "/proc/%d/fd/", (int)c->tid);
	snprintf(pre[2], sizeof pre[2], "/proc/%d/task/%d/fd/", (int)c->tgid, (int)c->tid);
	snprintf(pre[3], sizeof pre[3], "/proc/thread-self/fd/");
	const char *const fixed[] = {"/proc/self/fd/", "/dev/fd/", pre[0], pre[1], pre[2], pre[3]};
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
		size_t l = strlen(fixed[i]);
		if (strncmp(p, fixed[i], l) != 0)
			continue;
		const char *s = p + l;
		size_t d = strspn(s, "0123456789");
		if (d == 0 || d > 9 || (s[d] && s[d] != '/'))
			return -1;
		*rest = s + d + (s[d] == '/');
		return atoi(s);
	}
	return -1;
}

/* Where the caller's path starts: a descriptor init owns (or -1 with
 * *err), and the path to resolve from it. */
static int start_of(const srt_fsgate *g, const call *c, int dfd, const char *path,
		    const char **rest, int *err)
{
	int n = fd_form(c, path, rest);
	int fd;
	char p[64];
	if (n >= 0 || (path[0] != '/' && dfd != AT_FDCWD)) {
		/* the caller's own descriptor, through its magic link: what
		 * the kernel gives the caller for /proc/self/fd/N */
		snprintf(p, sizeof p, "/proc/%d/fd/%d", (int)c->tid, n >= 0 ? n : dfd);
		if (n < 0)
			*rest = path;
		fd = open(p, O_PATH | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			errno = EBADF;
	} else if (path[0] == '/') {
		*rest = path;
		fd = fcntl(g->root_fd, F_DUPFD_CLOEXEC, 0);
	} else {
		snprintf(p, sizeof p, "/proc/%d/cwd", (int)c->tid);
		*rest = path;
		fd = open(p, O_PATH | O_CLOEXEC);
	}
	if (fd < 0)
		*err = errno == EBADF ? -EBADF : -EACCES;
	return fd;
}

/* Split `path` (from `base`) into its directory, opened, and final name.
 * A path of "", "/", "." or ending in ".." has no name: -EEXIST (the
 * callers create). */
static int locate(int base, const char *path, uint64_t resolve, loc *l)
{
	l->dir = -1;
	if (!path[0])
		return -ENOENT;
	char dir[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof dir)
		return -ENAMETOOLONG;
	memcpy(dir, path, n + 1);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	char *s = strrchr(dir, '/');
	const char *name = s ? s + 1 : dir;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EEXIST;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	snprintf(l->name, sizeof l->name, "%s", name);
	const char *dpart = ".";
	if (s == dir)
		dpart = "/";
	else if (s) {
		*s = '\0';
		dpart = dir;
	}
	l->dir = open_how(base, dpart, O_PATH | O_DIRECTORY, 0, resolve);
	if (l->dir < 0) {
		int e = l->dir;
		l->dir = -1;
		return e;
	}
	if (on_proc(l->dir)) {
		loc_close(l);
		return -EACCES;
	}
	if (fd_path(l->dir, l->dirpath, sizeof l->dirpath) < 0) {
		loc_close(l);
		return -ENAMETOOLONG;
	}
	l->flags = dir_flags(l->dir, l->dirpath);
	return 0;
}

/* ---- git directories ---------------------------------------------------- */

/* The whole of a regular file `name` in `dir` into the scratch area. */
static ssize_t slurp(const srt_fsgate *g, int dir, const char *name, mode_t *mode)
{
	SRT_AUTOCLOSE int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return neg_errno();
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -EACCES;
	if (mode)
		*mode = st.st_mode & 07777;
	size_t len = 0;
	while (len < g->scratch_len) {
		ssize_t r = read(fd, g->scratch + len, g->scratch_len - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return neg_errno();
		if (r == 0)
			return (ssize_t)len;
		len += (size_t)r;
	}
	return -EFBIG;
}

/* Put `len` scratch bytes at `name` in `dir` as a new inode (renamed over
 * it): nobody holds a descriptor of what git will read. */
static int install_copy(srt_fsgate *g, int dir, const char *name, size_t len, mode_t mode)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, ".srt-gate-%d-%llu", (int)getpid(),
		 (unsigned long long)(g->recorded + g->dropped + (uint64_t)len));
	int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0666);
	if (fd < 0)
		return neg_errno();
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, g->scratch + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	int rc = done == len ? 0 : -EIO;
	close(fd);
	if (rc == 0 && renameat(dir, tmp, dir, name) < 0)
		rc = neg_errno();
	if (rc < 0)
		(void)unlinkat(dir, tmp, 0);
	return rc;
}

/* A config text in scratch: clean?  *why names the key otherwise. */
static bool config_clean(const srt_fsgate *g, size_t len, char *why, size_t cap)
{
	char key[200];
	if (srt_fsgate_gitconfig_clean(g->scratch, len, key, sizeof key))
		return true;
	int k = (int)strnlen(key, 120);
	snprintf(why, cap, "git config %.*s runs a program or reads more config", k, key);
	return false;
}

/* Only samples in hooks/ (or none): the raw getdents64, no allocation. */
static bool hooks_only_samples(int dir)
{
	SRT_AUTOCLOSE int h = openat(dir, "hooks", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (h < 0)
		return errno == ENOENT;
	char buf[4096];
	for (int rounds = 0; rounds < 4096; rounds++) {
		long n = syscall(SYS_getdents64, h, buf, sizeof buf);
		if (n == 0)
			return true;
		if (n < 0)
			return false;
		for (long at = 0; at < n;) {
			struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; }
				*d = (void *)(buf + at);
			at += d->reclen;
			size_t l = strlen(d->name);
			if (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0)
				continue;
			if (l <= 7 || strcmp(d->name + l - 7, ".sample") != 0)
				return false;
		}
	}
	return false;
}

/* HEAD is arriving in `dir`: it becomes a git directory for git.  Its
 * configs must be clean, and are made fresh inodes; hooks/ samples only. */
static bool gitdir_may_form(srt_fsgate *g, int dir, char *why, size_t cap)
{
	static const char *const cfgs[] = {"config", "config.worktree"};
	for (size_t i = 0; !g->git_config_ok && i < 2; i++) {
		mode_t mode = 0644;
		ssize_t len = slurp(g, dir, cfgs[i], &mode);
		if (len == -ENOENT)
			continue;
		if (len < 0) {
			snprintf(why, cap, "%s in a git directory is not a readable regular file", cfgs[i]);
			return false;
		}
		if (!config_clean(g, (size_t)len, why, cap) || install_copy(g, dir, cfgs[i], (size_t)len, mode) < 0)
			return false;
	}
	if (!hooks_only_samples(dir)) {
		snprintf(why, cap, "mandatory deny .git/hooks (hooks/ holds more than samples)");
		return false;
	}
	return true;
}

/* ---- the calls ---------------------------------------------------------- */

typedef struct outcome {
	int fd;      /* an opened file to place in the caller, or -1 */
	int err;     /* -errno, or 0 */
	char rule[256];
	char resolved[PATH_MAX + NAME_MAX + 2];
	bool delegated; /* a child of init answers (a FIFO's blocking open) */
} outcome;

/* Opening a FIFO waits for its other end, which may be a process that
 * first needs the gate itself: a child of init waits and answers instead,
 * so the gate never blocks.  The child dies with init (the sandbox). */
static bool open_in_child(const srt_fsgate *g, const struct seccomp_notif *n, int dir,
			  const char *name, uint64_t flags)
{
	long pid = syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0)
		return false;
	if (pid > 0)
		return true;
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	int fd = open_how(dir, name, flags | O_NOFOLLOW, 0, 0);
	if (fd >= 0) {
		struct seccomp_notif_addfd a = {.id = n->id, .flags = SECCOMP_ADDFD_FLAG_SEND,
						.srcfd = (uint32_t)fd,
						.newfd_flags = (flags & O_CLOEXEC) ? O_CLOEXEC : 0};
		if (ioctl(g->notify_fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a) >= 0 || errno == ENOENT)
			_exit(0);
		fd = neg_errno();
	}
	struct seccomp_notif_resp resp = {.id = n->id, .error = fd};
	(void)ioctl(g->notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	_exit(0);
}

static void refused(outcome *o, const loc *l, const char *rule)
{
	o->err = -EACCES;
	snprintf(o->rule, sizeof o->rule, "%s", rule);
	snprintf(o->resolved, sizeof o->resolved, "%s/%s", strcmp(l->dirpath, "/") ? l->dirpath : "",
		 l->name);
}

/* Judge `l` for `obj`/`intent`; allow, or fill `o` with the refusal.  A
 * git directory's HEAD is checked here; a config rename by the caller. */
static srt_fsg_verdict judge(srt_fsgate *g, const loc *l, srt_fsg_obj obj, srt_fsg_intent intent,
			     outcome *o)
{
	const char *rule;
	unsigned fl = l->flags | (g->git_config_ok ? SRT_FSG_GITCONFIG_OK : 0);
	srt_fsg_verdict v = srt_fsgate_judge(l->dirpath, l->name, obj, intent, fl, &rule);
	if (v == SRT_FSG_REFUSE)
		refused(o, l, rule);
	if (v == SRT_FSG_GITHEAD) {
		char why[200];
		if (!gitdir_may_form(g, l->dir, why, sizeof why)) {
			refused(o, l, why);
			return SRT_FSG_REFUSE;
		}
		return SRT_FSG_ALLOW;
	}
	return v;
}

/* The object of a descriptor given as a path, reopened: its own place is
 * judged (a protected file opened read-only stays read-only). */
static void reopen_fd_object(srt_fsgate *g, int obj, uint64_t flags, outcome *o)
{
	char p[40], path[PATH_MAX];
	snprintf(p, sizeof p, "/proc/self/fd/%d", obj);
	/* O_TRUNC after the judgement: it acts at open */
	int fd = open(p, (int)((flags & ~(uint64_t)(O_CREAT | O_EXCL | O_NOFOLLOW | O_TRUNC)) | O_CLOEXEC));
	if (fd < 0) {
		o->err = neg_errno();
		return;
	}
	if (on_proc(fd)) {
		close(fd);
		o->err = -EACCES;
		return;
	}
	if ((flags & O_ACCMODE) != O_RDONLY && fd_path(fd, path, sizeof path) > 0 && path[0] == '/') {
		loc l = {.dir = -1};
		char *s = strrchr(path, '/');
		snprintf(l.name, sizeof l.name, "%s", s + 1);
		*s = '\0';
		snprintf(l.dirpath, sizeof l.dirpath, "%s", path[0] ? path : "/");
		l.dir = open_how(g->root_fd, l.dirpath, O_PATH | O_DIRECTORY, 0, 0);
		if (l.dir >= 0)
			l.flags = dir_flags(l.dir, l.dirpath);
		if (judge(g, &l, SRT_FSG_FILE, SRT_FSG_WRITE, o) != SRT_FSG_ALLOW) {
			loc_close(&l);
			close(fd);
			return;
		}
		loc_close(&l);
	}
	struct stat st;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY && fstat(fd, &st) == 0 &&
	    S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) {
		o->err = neg_errno();
		close(fd);
		return;
	}
	o->fd = fd;
}

/* open, openat, creat, openat2: follow a final symlink by hand, judge the
 * name, open.  `resolve`: the caller's RESOLVE_* (openat2). */
static void do_open(srt_fsgate *g, call *c, int dfd, uint64_t flags, mode_t mode, uint64_t resolve,
		    outcome *o)
{
	const char *rest;
	if (flags & O_PATH) { /* the kernel's ADDFD takes no O_PATH descriptor */
		o->err = -EINVAL;
		return;
	}
	SRT_AUTOCLOSE int base = start_of(g, c, dfd, c->path, &rest, &o->err);
	if (base < 0)
		return;
	if (rest != c->path && !*rest && c->path[0] == '/' && strcmp(c->path, "/") != 0) {
		reopen_fd_object(g, base, flags, o); /* /proc/self/fd/N itself */
		return;
	}
	char cur[PATH_MAX];
	snprintf(cur, sizeof cur, "%s", rest);
	int from = base;
	loc l = {.dir = -1};
	for (int hop = 0; hop <= HOPS_MAX; hop++) {
		int e = locate(from, cur, resolve, &l);
		if (e == -EEXIST) { /* no final name: the kernel's own answer */
			int fd = open_how(from, cur, flags, mode & ~c->umask, resolve);
			if (fd >= 0 && on_proc(fd)) {
				close(fd);
				fd = -EACCES;
			}
			o->fd = fd >= 0 ? fd : -1;
			o->err = fd >= 0 ? 0 : fd;
			goto out;
		}
		if (e < 0) {
			o->err = e;
			goto out;
		}
		struct stat st;
		bool exists = fstatat(l.dir, l.name, &st, AT_SYMLINK_NOFOLLOW) == 0;
		bool excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
		if (exists && S_ISLNK(st.st_mode) && !(flags & O_NOFOLLOW) && !excl) {
			if (resolve) { /* RESOLVE_*: not followed by hand */
				o->err = -ELOOP;
				goto out;
			}
			ssize_t n = readlinkat(l.dir, l.name, cur, sizeof cur - 1);
			if (n < 0) {
				o->err = neg_errno();
				goto out;
			}
			cur[n] = '\0';
			if (from != base)
				close(from);
			from = l.dir; /* the link's own directory */
			l.dir = -1;
			continue;
		}
		srt_fsg_intent intent = exists || !(flags & O_CREAT) ? SRT_FSG_WRITE : SRT_FSG_CREATE;
		if (!(flags & (O_CREAT | O_TRUNC)) && (flags & O_ACCMODE) == O_RDONLY && !(flags & __O_TMPFILE))
			intent = SRT_FSG_LINK_FROM; /* a read (openat2): only names matter */
		srt_fsg_verdict v = intent == SRT_FSG_LINK_FROM ? SRT_FSG_ALLOW
				    : judge(g, &l, SRT_FSG_FILE, intent, o);
		if (v == SRT_FSG_GITCONFIG)
			refused(o, &l, "mandatory deny .git/config (a git directory's config changes "
				       "only by a checked rename)");
		if (v != SRT_FSG_ALLOW)
			goto out;
		if (exists && S_ISFIFO(st.st_mode) && !(flags & O_NONBLOCK) && !resolve &&
		    (o->delegated = open_in_child(g, c->n, l.dir, l.name, flags)))
			goto out;
		int fd = open_how(l.dir, l.name, flags | O_NOFOLLOW, mode & ~c->umask, resolve);
		if (fd == -ELOOP && !(flags & O_NOFOLLOW))
			continue; /* it became a symlink meanwhile: judge again */
		if (fd >= 0 && on_proc(fd)) {
			close(fd);
			fd = -EACCES;
		}
		o->fd = fd >= 0 ? fd : -1;
		o->err = fd >= 0 ? 0 : fd;
		goto out;
	}
	o->err = -ELOOP;
out:
	loc_close(&l);
	if (from != base)
		close(from);
}

/* mkdir, mknod, symlink: one new name in one directory. */
static void do_make(srt_fsgate *g, call *c, int dfd, const char *path, srt_fsg_obj obj, mode_t mode,
		    dev_t dev, outcome *o)
{
	const char *rest;
	SRT_AUTOCLOSE int base = start_of(g, c, dfd, path, &rest, &o->err);
	if (base < 0)
		return;
	loc l = {.dir = -1};
	int e = locate(base, rest, 0, &l);
	if (e < 0) {
		o->err = e;
		return;
	}
	if (judge(g, &l, obj, SRT_FSG_CREATE, o) == SRT_FSG_ALLOW) {
		int r;
		if (obj == SRT_FSG_DIR)
			r = mkdirat(l.dir, l.name, mode & ~c->umask & 07777);
		else if (obj == SRT_FSG_SYMLINK)
			r = symlinkat(c->path2, l.dir, l.name);
		else
			r = mknodat(l.dir, l.name, (mode & S_IFMT) | (mode & ~c->umask & 07777), dev);
		o->err = r < 0 ? neg_errno() : 0;
	} else if (o->err == 0) {
		refused(o, &l, "mandatory deny .git/config (a git directory's config changes "
			       "only by a checked rename)");
	}
	loc_close(&l);
}

static srt_fsg_obj obj_of(mode_t m)
{
	return S_ISDIR(m) ? SRT_FSG_DIR : S_ISLNK(m) ? SRT_FSG_SYMLINK
	       : (S_ISREG(m) ? SRT_FSG_FILE : SRT_FSG_OTHER);
}

/* link, linkat: the source must not be protected (a second name of it
 * would be writable), the new name is judged as a creation. */
static void do_link(srt_fsgate *g, call *c, int odfd, int ndfd, int lflags, outcome *o)
{
	const char *orest, *nrest;
	SRT_AUTOCLOSE int obase = start_of(g, c, odfd, c->path, &orest, &o->err);
	if (obase < 0)
		return;
	SRT_AUTOCLOSE int obj = -1;
	if (((lflags & AT_EMPTY_PATH) && !c->path[0]) || (orest != c->path && !*orest)) {
		/* the descriptor itself (AT_EMPTY_PATH, or /proc/self/fd/N) */
		obj = fcntl(obase, F_DUPFD_CLOEXEC, 0);
	} else {
		loc ol = {.dir = -1};
		int e = locate(obase, orest, 0, &ol);
		if (e < 0) {
			o->err = e;
			return;
		}
		obj = open_how(ol.dir, ol.name, O_PATH | ((lflags & AT_SYMLINK_FOLLOW) ? 0 : O_NOFOLLOW), 0, 0);
		loc_close(&ol);
	}
	char opath[PATH_MAX];
	struct stat st;
	if (obj < 0 || fstat(obj, &st) < 0 || fd_path(obj, opath, sizeof opath) <= 0) {
		o->err = obj < 0 ? obj : -ENOENT;
		return;
	}
	if (opath[0] == '/') { /* a named file: judge its current name */
		loc src = {.dir = -1};
		char *s = strrchr(opath, '/');
		snprintf(src.name, sizeof src.name, "%s", s + 1);
		*s = '\0';
		snprintf(src.dirpath, sizeof src.dirpath, "%s", opath[0] ? opath : "/");
		src.dir = open_how(g->root_fd, src.dirpath, O_PATH | O_DIRECTORY, 0, 0);
		src.flags = src.dir >= 0 ? dir_flags(src.dir, src.dirpath) : 0;
		srt_fsg_verdict v = judge(g, &src, obj_of(st.st_mode), SRT_FSG_LINK_FROM, o);
		loc_close(&src);
		if (v != SRT_FSG_ALLOW) {
			if (!o->err)
				o->err = -EACCES;
			return;
		}
	}
	SRT_AUTOCLOSE int nbase = start_of(g, c, ndfd, c->path2, &nrest, &o->err);
	if (nbase < 0)
		return;
	loc nl = {.dir = -1};
	int e = locate(nbase, nrest, 0, &nl);
	if (e < 0) {
		o->err = e;
		return;
	}
	srt_fsg_verdict v = judge(g, &nl, obj_of(st.st_mode), SRT_FSG_CREATE, o);
	if (v == SRT_FSG_GITCONFIG)
		refused(o, &nl, "mandatory deny .git/config (a git directory's config changes only "
				"by a checked rename)");
	if (v == SRT_FSG_ALLOW) {
		char p[40];
		snprintf(p, sizeof p, "/proc/self/fd/%d", obj);
		o->err = linkat(AT_FDCWD, p, nl.dir, nl.name, AT_SYMLINK_FOLLOW) < 0 ? neg_errno() : 0;
	}
	loc_close(&nl);
}

/* A git directory's config arrives by rename: only clean text, and as a
 * fresh copy (the source's inode may have other names or descriptors). */
static void rename_gitconfig(srt_fsgate *g, loc *ol, loc *nl, unsigned rflags, outcome *o)
{
	mode_t mode = 0644;
	char why[200];
	if (rflags & RENAME_EXCHANGE) {
		refused(o, nl, "mandatory deny .git/config (exchanged, not renamed)");
		return;
	}
	if ((rflags & RENAME_NOREPLACE) && faccessat(nl->dir, nl->name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		o->err = -EEXIST;
		return;
	}
	ssize_t len = slurp(g, ol->dir, ol->name, &mode);
	if (len < 0) {
		o->err = (int)len;
		return;
	}
	if (!config_clean(g, (size_t)len, why, sizeof why)) {
		refused(o, nl, why);
		return;
	}
	int e = install_copy(g, nl->dir, nl->name, (size_t)len, mode);
	if (e == 0 && unlinkat(ol->dir, ol->name, 0) < 0)
		e = neg_errno();
	o->err = e;
}

static void do_rename(srt_fsgate *g, call *c, int odfd, int ndfd, unsigned rflags, outcome *o)
{
	const char *orest, *nrest;
	SRT_AUTOCLOSE int obase = start_of(g, c, odfd, c->path, &orest, &o->err);
	if (obase < 0)
		return;
	SRT_AUTOCLOSE int nbase = start_of(g, c, ndfd, c->path2, &nrest, &o->err);
	if (nbase < 0)
		return;
	loc ol = {.dir = -1}, nl = {.dir = -1};
	struct stat ost, nst;
	int e = locate(obase, orest, 0, &ol);
	if (e == 0)
		e = locate(nbase, nrest, 0, &nl);
	if (e == -EEXIST)
		e = -EBUSY;
	if (e == 0 && fstatat(ol.dir, ol.name, &ost, AT_SYMLINK_NOFOLLOW) < 0)
		e = neg_errno();
	if (e < 0) {
		o->err = e;
		goto out;
	}
	srt_fsg_verdict v = judge(g, &nl, obj_of(ost.st_mode), SRT_FSG_RENAME_TO, o);
	if (v == SRT_FSG_ALLOW && (rflags & RENAME_EXCHANGE)) {
		if (fstatat(nl.dir, nl.name, &nst, AT_SYMLINK_NOFOLLOW) < 0) {
			o->err = neg_errno();
			goto out;
		}
		v = judge(g, &ol, obj_of(nst.st_mode), SRT_FSG_RENAME_TO, o);
		if (v == SRT_FSG_GITCONFIG) {
			refused(o, &ol, "mandatory deny .git/config (exchanged, not renamed)");
			v = SRT_FSG_REFUSE;
		}
	}
	if (v == SRT_FSG_GITCONFIG)
		rename_gitconfig(g, &ol, &nl, rflags, o);
	else if (v == SRT_FSG_ALLOW)
		o->err = syscall(SYS_renameat2, ol.dir, ol.name, nl.dir, nl.name, rflags) < 0 ? neg_errno() : 0;
out:
	loc_close(&ol);
	loc_close(&nl);
}

/* ---- dispatch ----------------------------------------------------------- */

enum gate_op { OP_OPEN, OP_MKDIR, OP_MKNOD, OP_SYMLINK, OP_LINK, OP_RENAME, OP_TRUNCATE, OP_NONE };

typedef struct decoded {
	enum gate_op op;
	int dfd, dfd2;
	uint64_t p1, p2;      /* addresses of the path arguments */
	uint64_t flags;
	mode_t mode;
	dev_t dev;
	uint64_t resolve;
	int64_t length;
	const char *name;     /* for the record */
} decoded;

static int arg_fd(uint64_t a)
{
	return (int)(int32_t)(uint32_t)a;
}

/* The call's arguments by number (x86_64 and aarch64: the generic names;
 * the old path-only calls exist on x86_64). */
static int decode(const struct seccomp_notif *n, pid_t tid, decoded *d)
{
	const __u64 *a = n->data.args;
	*d = (decoded){.op = OP_NONE, .dfd = AT_FDCWD, .dfd2 = AT_FDCWD};
	switch (n->data.nr) {
#ifdef SYS_open
	case SYS_open:
		*d = (decoded){OP_OPEN, AT_FDCWD, AT_FDCWD, a[0], 0, a[1], (mode_t)a[2], 0, 0, 0, "open"};
		break;
#endif
#ifdef SYS_creat
	case SYS_creat:
		*d = (decoded){OP_OPEN, AT_FDCWD, AT_FDCWD, a[0], 0, O_CREAT | O_WRONLY | O_TRUNC,
			       (mode_t)a[1], 0, 0, 0, "creat"};
		break;
#endif
	case SYS_openat:
		*d = (decoded){OP_OPEN, arg_fd(a[0]), AT_FDCWD, a[1], 0, a[2], (mode_t)a[3], 0, 0, 0, "openat"};
		break;
#ifdef SYS_mkdir
	case SYS_mkdir:
		*d = (decoded){OP_MKDIR, AT_FDCWD, AT_FDCWD, a[0], 0, 0, (mode_t)a[1], 0, 0, 0, "mkdir"};
		break;
#endif
	case SYS_mkdirat:
		*d = (decoded){OP_MKDIR, arg_fd(a[0]), AT_FDCWD, a[1], 0, 0, (mode_t)a[2], 0, 0, 0, "mkdir"};
		break;
#ifdef SYS_mknod
	case SYS_mknod:
		*d = (decoded){OP_MKNOD, AT_FDCWD, AT_FDCWD, a[0], 0, 0, (mode_t)a[1], (dev_t)a[2], 0, 0, "mknod"};
		break;
#endif
	case SYS_mknodat:
		*d = (decoded){OP_MKNOD, arg_fd(a[0]), AT_FDCWD, a[1], 0, 0, (mode_t)a[2], (dev_t)a[3], 0, 0,
			       "mknod"};
		break;
#ifdef SYS_symlink
	case SYS_symlink: /* target, linkpath */
		*d = (decoded){OP_SYMLINK, AT_FDCWD, AT_FDCWD, a[1], a[0], 0, 0, 0, 0, 0, "symlink"};
		break;
#endif
	case SYS_symlinkat:
		*d = (decoded){OP_SYMLINK, arg_fd(a[1]), AT_FDCWD, a[2], a[0], 0, 0, 0, 0, 0, "symlink"};
		break;
#ifdef SYS_link
	case SYS_link:
		*d = (decoded){OP_LINK, AT_FDCWD, AT_FDCWD, a[0], a[1], 0, 0, 0, 0, 0, "link"};
		break;
#endif
	case SYS_linkat:
		*d = (decoded){OP_LINK, arg_fd(a[0]), arg_fd(a[2]), a[1], a[3], a[4], 0, 0, 0, 0, "link"};
		break;
#ifdef SYS_rename
	case SYS_rename:
		*d = (decoded){OP_RENAME, AT_FDCWD, AT_FDCWD, a[0], a[1], 0, 0, 0, 0, 0, "rename"};
		break;
#endif
#ifdef SYS_renameat
	case SYS_renameat:
		*d = (decoded){OP_RENAME, arg_fd(a[0]), arg_fd(a[2]), a[1], a[3], 0, 0, 0, 0, 0, "rename"};
		break;
#endif
	case SYS_renameat2:
		*d = (decoded){OP_RENAME, arg_fd(a[0]), arg_fd(a[2]), a[1], a[3], a[4], 0, 0, 0, 0, "rename"};
		break;
	case SYS_truncate:
		*d = (decoded){OP_TRUNCATE, AT_FDCWD, AT_FDCWD, a[0], 0, O_WRONLY | O_NONBLOCK, 0, 0, 0,
			       (int64_t)a[1], "truncate"};
		break;
	default:
		return -ENOSYS;
	}
	return 0;
}

static void perform(srt_fsgate *g, call *c, const decoded *d, outcome *o)
{
	switch (d->op) {
	case OP_OPEN:
		do_open(g, c, d->dfd, d->flags, d->mode, d->resolve, o);
		break;
	case OP_TRUNCATE:
		if (d->length < 0) {
			o->err = -EINVAL;
			break;
		}
		do_open(g, c, d->dfd, d->flags, 0, 0, o);
		if (o->fd >= 0) {
			o->err = ftruncate(o->fd, d->length) < 0 ? neg_errno() : 0;
			close(o->fd);
			o->fd = -1;
		}
		break;
	case OP_MKDIR:
		do_make(g, c, d->dfd, c->path, SRT_FSG_DIR, d->mode, 0, o);
		break;
	case OP_MKNOD: {
		mode_t t = d->mode & S_IFMT;
		do_make(g, c, d->dfd, c->path, t == 0 || t == S_IFREG ? SRT_FSG_FILE : SRT_FSG_OTHER,
			t ? d->mode : (d->mode | S_IFREG), d->dev, o);
		break;
	}
	case OP_SYMLINK:
		do_make(g, c, d->dfd, c->path, SRT_FSG_SYMLINK, 0, 0, o);
		break;
	case OP_LINK:
		if (d->flags & ~(uint64_t)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
			o->err = -EINVAL;
		else
			do_link(g, c, d->dfd, d->dfd2, (int)d->flags, o);
		break;
	case OP_RENAME:
		do_rename(g, c, d->dfd, d->dfd2, (unsigned)d->flags, o);
		break;
	case OP_NONE:
	default:
		o->err = -ENOSYS;
		break;
	}
}

static void answer(const srt_fsgate *g, const call *c, const decoded *d, outcome *o)
{
	if (o->delegated)
		return;
	if (o->fd >= 0) {
		struct seccomp_notif_addfd a = {
			.id = c->n->id,
			.flags = SECCOMP_ADDFD_FLAG_SEND,
			.srcfd = (uint32_t)o->fd,
			.newfd_flags = (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0,
		};
		long r = ioctl(g->notify_fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
		close(o->fd);
		o->fd = -1;
		if (r >= 0 || errno == ENOENT || errno == EINPROGRESS)
			return; /* answered, or the caller is gone */
		o->err = neg_errno();
	}
	struct seccomp_notif_resp resp = {.id = c->n->id, .error = o->err, .val = 0};
	(void)ioctl(g->notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

int srt_fsgate_open(srt_fsgate *g, int notify_fd, int record_fd)
{
	*g = (srt_fsgate){.notify_fd = notify_fd, .record_fd = record_fd, .root_fd = -1};
	if (record_fd >= 0)
		(void)fcntl(record_fd, F_SETFL, O_NONBLOCK);
	g->root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	g->scratch = mmap(NULL, SCRATCH_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->root_fd < 0 || g->scratch == MAP_FAILED) {
		g->scratch = NULL;
		return -1;
	}
	g->scratch_len = SCRATCH_LEN;
	umask(0);
	return 0;
}

int srt_fsgate_serve(srt_fsgate *g)
{
	/* the kernel's notification may be larger than our header's */
	union {
		struct seccomp_notif n;
		char pad[512];
	} u;
	memset(&u, 0, sizeof u);
	if (ioctl(g->notify_fd, SECCOMP_IOCTL_NOTIF_RECV, &u.n) < 0)
		return errno == EINTR || errno == ENOENT ? 0 : -1;
	call c = {.n = &u.n, .tid = (pid_t)u.n.pid};
	decoded d = {.op = OP_NONE};
	outcome o = {.fd = -1};
	int e = read_status(&c);
	if (e == 0)
		e = decode(&u.n, c.tid, &d);
	c.op = e == 0 ? d.name : "?";
	if (e == 0)
		e = read_str(c.tid, d.p1, c.path, sizeof c.path);
	if (e == 0 && (d.op == OP_SYMLINK || d.op == OP_LINK || d.op == OP_RENAME))
		e = read_str(c.tid, d.p2, c.path2, sizeof c.path2);
	if (e == 0 && !c.path[0] && !(d.op == OP_LINK && (d.flags & AT_EMPTY_PATH)))
		e = -ENOENT;
	/* what was read is the caller's only if it is still waiting */
	if (!still_waiting(g, &c))
		return 0;
	if (e < 0) {
		o.err = e;
	} else {
		perform(g, &c, &d, &o);
		if (o.rule[0])
			record(g, &c, c.path, o.resolved, o.rule, -o.err);
		else if (o.err == -EROFS || o.err == -EACCES)
			record(g, &c, c.path, NULL, o.err == -EROFS ? "allowWrite (a read-only place)"
				       : "allowWrite (not writable here)", -o.err);
	}
	answer(g, &c, &d, &o);
	return 0;
}
