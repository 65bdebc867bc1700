/* metagate.c - the metadata gate of the no-namespace mode (see metagate.h
 * for what it guarantees and why). */
#include "nons/metagate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "util.h"

/* System call numbers the headers may not know yet. */
#if defined(__x86_64__) && !defined(__ILP32__)
#define MG_ARCH AUDIT_ARCH_X86_64
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_setxattrat
#define SYS_setxattrat 463
#endif
#ifndef SYS_removexattrat
#define SYS_removexattrat 466
#endif
#elif defined(__aarch64__)
#define MG_ARCH AUDIT_ARCH_AARCH64
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_setxattrat
#define SYS_setxattrat 463
#endif
#ifndef SYS_removexattrat
#define SYS_removexattrat 466
#endif
#endif

#ifndef XATTR_NAME_MAX
#define XATTR_NAME_MAX 255
#endif
#ifndef XATTR_SIZE_MAX
#define XATTR_SIZE_MAX 65536
#endif
#ifndef ANON_INODE_FS_MAGIC
#define ANON_INODE_FS_MAGIC 0x09041934
#endif

/* ---- the system calls ------------------------------------------------- */

enum mg_kind { K_CHMOD, K_CHOWN, K_SETXATTR, K_REMOVEXATTR, K_UTIMES };

/* How each call's arguments are laid out. */
enum mg_form {
	F_CHMOD,         /* chmod(path, mode) */
	F_FCHMOD,        /* fchmod(fd, mode) */
	F_FCHMODAT,      /* fchmodat(dfd, path, mode) */
	F_FCHMODAT2,     /* fchmodat2(dfd, path, mode, flags) */
	F_CHOWN,         /* chown(path, uid, gid), lchown: nofollow */
	F_FCHOWN,        /* fchown(fd, uid, gid) */
	F_FCHOWNAT,      /* fchownat(dfd, path, uid, gid, flags) */
	F_SETXATTR,      /* setxattr(path, name, value, size, flags), lsetxattr */
	F_FSETXATTR,     /* fsetxattr(fd, name, value, size, flags) */
	F_SETXATTRAT,    /* setxattrat(dfd, path, at_flags, name, args, usize) */
	F_REMOVEXATTR,   /* removexattr(path, name), lremovexattr */
	F_FREMOVEXATTR,  /* fremovexattr(fd, name) */
	F_REMOVEXATTRAT, /* removexattrat(dfd, path, at_flags, name) */
	F_UTIME,         /* utime(path, struct utimbuf *) */
	F_UTIMES,        /* utimes(path, struct timeval[2]) */
	F_FUTIMESAT,     /* futimesat(dfd, path, struct timeval[2]) */
	F_UTIMENSAT,     /* utimensat(dfd, path, struct timespec[2], flags) */
};

struct mg_sys {
	const char *name;
	long nr;
	enum mg_form form;
	bool nofollow; /* the l* variants */
};

#define MG_SYS(n, f, nf) {#n, SYS_##n, f, nf}
static const struct mg_sys mg_table[] = {
#ifdef SYS_chmod
	MG_SYS(chmod, F_CHMOD, false),
#endif
	MG_SYS(fchmod, F_FCHMOD, false),
	MG_SYS(fchmodat, F_FCHMODAT, false),
#ifdef SYS_fchmodat2
	MG_SYS(fchmodat2, F_FCHMODAT2, false),
#endif
#ifdef SYS_chown
	MG_SYS(chown, F_CHOWN, false),
#endif
#ifdef SYS_lchown
	MG_SYS(lchown, F_CHOWN, true),
#endif
	MG_SYS(fchown, F_FCHOWN, false),
	MG_SYS(fchownat, F_FCHOWNAT, false),
	MG_SYS(setxattr, F_SETXATTR, false),
	MG_SYS(lsetxattr, F_SETXATTR, true),
	MG_SYS(fsetxattr, F_FSETXATTR, false),
#ifdef SYS_setxattrat
	MG_SYS(setxattrat, F_SETXATTRAT, false),
#endif
	MG_SYS(removexattr, F_REMOVEXATTR, false),
	MG_SYS(lremovexattr, F_REMOVEXATTR, true),
	MG_SYS(fremovexattr, F_FREMOVEXATTR, false),
#ifdef SYS_removexattrat
	MG_SYS(removexattrat, F_REMOVEXATTRAT, false),
#endif
#ifdef SYS_utime
	MG_SYS(utime, F_UTIME, false),
#endif
#ifdef SYS_utimes
	MG_SYS(utimes, F_UTIMES, false),
#endif
#ifdef SYS_futimesat
	MG_SYS(futimesat, F_FUTIMESAT, false),
#endif
	MG_SYS(utimensat, F_UTIMENSAT, false),
};
#define MG_NSYS (sizeof mg_table / sizeof mg_table[0])

size_t srt_metagate_syscall_count(void)
{
	return MG_NSYS;
}

const char *srt_metagate_syscall_name(size_t i)
{
	return i < MG_NSYS ? mg_table[i].name : NULL;
}

long srt_metagate_syscall_nr(size_t i)
{
	return i < MG_NSYS ? mg_table[i].nr : -1;
}

static const struct mg_sys *find_sys(long nr)
{
	for (size_t i = 0; i < MG_NSYS; i++)
		if (mg_table[i].nr == nr)
			return &mg_table[i];
	return NULL;
}

bool srt_metagate_handles(long nr)
{
	return find_sys(nr) != NULL;
}

/* ---- the roots -------------------------------------------------------- */

struct mg_id {
	dev_t dev;
	ino_t ino;
	uint64_t mnt; /* 0: unknown (statx without STATX_MNT_ID) */
};

struct mg_root {
	int fd; /* O_PATH, opened at creation */
	struct mg_id id;
};

struct srt_metagate {
	struct mg_root *roots;
	size_t n;
	/* system calls this kernel lacks (the filter may still send them: it
	 * knows numbers, not kernels): ENOSYS, as the kernel would answer */
	bool no_fchmodat2, no_xattrat;
};

static bool kernel_lacks(long nr)
{
	/* invalid arguments everywhere: EBADF/EFAULT/EINVAL if it exists */
	return syscall(nr, -1, NULL, -1, NULL, NULL, 0) < 0 && errno == ENOSYS;
}

static int identify(int fd, struct mg_id *id)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_MNT_ID, &stx) < 0)
		return -1;
	id->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	id->ino = stx.stx_ino;
	id->mnt = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
	return 0;
}

static bool same_id(const struct mg_id *a, const struct mg_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->mnt == b->mnt;
}

/* The path of `fd` as the kernel reports it (/proc/self/fd/N).  Returns its
 * length, or -1 (truncated, unreadable). */
static ssize_t fd_path(int fd, char *buf, size_t cap)
{
	char link[40];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t r = readlink(link, buf, cap);
	if (r <= 0 || (size_t)r >= cap)
		return -1;
	buf[r] = '\0';
	return r;
}

srt_metagate *srt_metagate_new(const char *const *roots, size_t n, srt_error *err)
{
	srt_metagate *mg = calloc(1, sizeof *mg);
	if (!mg || (n && !(mg->roots = calloc(n, sizeof *mg->roots)))) {
		free(mg);
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!roots[i] || roots[i][0] != '/') {
			srt_fail(err, SRT_E_INVALID, "metadata gate: root %zu is not an absolute path", i);
			srt_metagate_free(mg);
			return NULL;
		}
		int fd = srt_open_path(AT_FDCWD, roots[i], O_NOFOLLOW,
				       RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (fd < 0 && errno == ENOENT)
			continue; /* nothing there: nothing allowed there */
		struct mg_root *r = &mg->roots[mg->n];
		if (fd < 0 || identify(fd, &r->id) < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			srt_fail_errno(err, SRT_E_SETUP, e, "metadata gate: cannot pin %s", roots[i]);
			srt_metagate_free(mg);
			return NULL;
		}
		r->fd = fd;
		mg->n++;
	}
#ifdef SYS_fchmodat2
	mg->no_fchmodat2 = kernel_lacks(SYS_fchmodat2);
#endif
#ifdef SYS_setxattrat
	mg->no_xattrat = kernel_lacks(SYS_setxattrat);
#endif
	return mg;
}

void srt_metagate_free(srt_metagate *mg)
{
	if (!mg)
		return;
	for (size_t i = 0; i < mg->n; i++)
		close(mg->roots[i].fd);
	free(mg->roots);
	free(mg);
}

/* Is the object behind `fd` one of the roots or beneath one?  See
 * metagate.h, step 6.  A root is its pinned inode (as Landlock's rules
 * are): its path is read again at every check, so a renamed root is still
 * the root, and a new directory at its old path is not.  Runs with the
 * command's credentials. */
static bool contained(const srt_metagate *mg, int fd)
{
	struct mg_id id;
	char p[PATH_MAX], rp[PATH_MAX];
	if (identify(fd, &id) < 0 || fd_path(fd, p, sizeof p) < 0 || p[0] != '/')
		return false;
	size_t plen = strlen(p);
	for (size_t i = 0; i < mg->n; i++) {
		const struct mg_root *r = &mg->roots[i];
		ssize_t got = fd_path(r->fd, rp, sizeof rp);
		if (got <= 0 || rp[0] != '/')
			continue;
		size_t rlen = (size_t)got;
		const char *rest;
		if (plen == rlen && memcmp(p, rp, plen) == 0) {
			if (same_id(&id, &r->id))
				return true;
			continue;
		}
		if (rlen == 1) /* "/" */
			rest = p + 1;
		else if (plen > rlen && memcmp(p, rp, rlen) == 0 && p[rlen] == '/')
			rest = p + rlen + 1;
		else
			continue;
		SRT_AUTOCLOSE int v = srt_open_path(r->fd, rest, O_NOFOLLOW,
						    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
							    RESOLVE_NO_MAGICLINKS);
		struct mg_id vid;
		if (v >= 0 && identify(v, &vid) == 0 && same_id(&id, &vid))
			return true;
	}
	return false;
}

/* Objects no path reaches: their metadata concerns nobody else. */
static bool anonymous(int fd)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return false;
	return sf.f_type == PIPEFS_MAGIC || sf.f_type == SOCKFS_MAGIC ||
	       sf.f_type == ANON_INODE_FS_MAGIC;
}

/* ---- one call --------------------------------------------------------- */

struct mg_creds {
	uid_t uid[4]; /* real, effective, saved, fs */
	gid_t gid[4];
	gid_t *groups;
	size_t ngroups;
	pid_t tgid;
};

struct mg_call {
	enum mg_kind kind;
	bool fd_based;  /* act on the command's descriptor `fd` itself */
	bool nofollow;
	bool empty_ok;  /* AT_EMPTY_PATH */
	int fd;         /* dirfd, or the descriptor of a descriptor-based call */
	uint64_t path_ptr;
	char *path;     /* PATH_MAX, read from the command */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	char name[XATTR_NAME_MAX + 1];
	void *value;
	size_t size;
	int xflags;
	struct timespec ts[2];
	bool times; /* ts holds times (else "now") */
};

/* Read exactly `len` bytes at `addr` in the thread `tid`; 0 or EFAULT. */
static int read_mem(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	if (!len)
		return 0;
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t got = process_vm_readv(tid, &local, 1, &remote, 1, 0);
	if (got == (ssize_t)len)
		return 0;
	return got < 0 && errno != EFAULT ? EPERM : EFAULT;
}

/* Read a NUL-terminated string of fewer than `cap` bytes at `addr`, page by
 * page (a string that ends just before an unmapped page is still read).
 * Returns its length, -EFAULT, -EPERM or -ENAMETOOLONG (no NUL within cap). */
static ssize_t read_str(pid_t tid, uint64_t addr, char *buf, size_t cap)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t done = 0;
	if (!addr)
		return -EFAULT;
	while (done < cap) {
		size_t chunk = page - (size_t)((addr + done) % page);
		if (chunk > cap - done)
			chunk = cap - done;
		int e = read_mem(tid, addr + done, buf + done, chunk);
		if (e)
			return -e;
		void *nul = memchr(buf + done, '\0', chunk);
		if (nul)
			return (char *)nul - buf;
		done += chunk;
	}
	return -ENAMETOOLONG;
}

/* The calling thread's credentials and thread group, from
 * /proc/TID/status (trusted once the notification is known valid after). */
static int read_creds(pid_t tid, struct mg_creds *cr)
{
	char path[40];
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	SRT_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t cap = 8192, len = 0;
	SRT_AUTOFREE char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			return -1;
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		len += (size_t)r;
		if (len + 1 == cap) {
			if (cap >= (2u << 20))
				return -1;
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				return -1;
			buf = nb;
		}
	}
	buf[len] = '\0';
	int seen = 0;
	for (char *line = buf; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		unsigned long a[4];
		int tg;
		if (sscanf(line, "Tgid:\t%d", &tg) == 1) {
			cr->tgid = tg;
			seen |= 1;
		} else if (sscanf(line, "Uid:\t%lu\t%lu\t%lu\t%lu", &a[0], &a[1], &a[2], &a[3]) == 4) {
			for (int i = 0; i < 4; i++)
				cr->uid[i] = (uid_t)a[i];
			seen |= 2;
		} else if (sscanf(line, "Gid:\t%lu\t%lu\t%lu\t%lu", &a[0], &a[1], &a[2], &a[3]) == 4) {
			for (int i = 0; i < 4; i++)
				cr->gid[i] = (gid_t)a[i];
			seen |= 4;
		} else if (strncmp(line, "Groups:", 7) == 0) {
			size_t n = 0;
			for (const char *s = line + 7; *s; s++)
				n += (*s >= '0' && *s <= '9') && (s[-1] < '0' || s[-1] > '9');
			free(cr->groups);
			cr->groups = n ? calloc(n, sizeof *cr->groups) : NULL;
			if (n && !cr->groups)
				return -1;
			cr->ngroups = 0;
			for (char *s = line + 7, *end; cr->ngroups < n; s = end) {
				unsigned long g = strtoul(s, &end, 10);
				if (end == s)
					break;
				cr->groups[cr->ngroups++] = (gid_t)g;
			}
			seen |= 8;
		}
		line = next;
	}
	return seen == 15 ? 0 : -1;
}

/* "/proc/self/fd/N" and its equivalents for the calling thread: N, or -1. */
static int proc_fd_path(const char *p, pid_t tid, pid_t tgid)
{
	char pre[3][48];
	snprintf(pre[0], sizeof pre[0], "/proc/%d/fd/", (int)tgid);
	snprintf(pre[1], sizeof pre[1], "/proc/%d/fd/", (int)tid);
	snprintf(pre[2], sizeof pre[2], "/proc/%d/task/%d/fd/", (int)tgid, (int)tid);
	const char *const fixed[] = {"/proc/self/fd/", "/proc/thread-self/fd/", pre[0], pre[1], pre[2]};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		size_t l = strlen(fixed[i]);
		if (strncmp(p, fixed[i], l) != 0)
			continue;
		const char *s = p + l;
		if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
			return -1;
		return atoi(s);
	}
	return -1;
}

/* Decode the arguments and check them in the kernel's order.  0 or an errno. */
static int decode(const struct mg_sys *s, const struct seccomp_notif *n, struct mg_call *c)
{
	const __u64 *a = n->data.args;
	c->fd = AT_FDCWD;
	c->nofollow = s->nofollow;
	switch (s->form) {
	case F_CHMOD:
		c->kind = K_CHMOD, c->path_ptr = a[0], c->mode = (mode_t)(uint16_t)a[1];
		return 0;
	case F_FCHMOD:
		c->kind = K_CHMOD, c->fd_based = true, c->fd = (int)a[0], c->mode = (mode_t)(uint16_t)a[1];
		return 0;
	case F_FCHMODAT:
	case F_FCHMODAT2: {
		int flags = s->form == F_FCHMODAT2 ? (int)a[3] : 0;
		if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
			return EINVAL;
		c->kind = K_CHMOD, c->fd = (int)a[0], c->path_ptr = a[1], c->mode = (mode_t)(uint16_t)a[2];
		c->nofollow = flags & AT_SYMLINK_NOFOLLOW, c->empty_ok = flags & AT_EMPTY_PATH;
		return 0;
	}
	case F_CHOWN:
		c->kind = K_CHOWN, c->path_ptr = a[0], c->uid = (uid_t)a[1], c->gid = (gid_t)a[2];
		return 0;
	case F_FCHOWN:
		c->kind = K_CHOWN, c->fd_based = true, c->fd = (int)a[0];
		c->uid = (uid_t)a[1], c->gid = (gid_t)a[2];
		return 0;
	case F_FCHOWNAT: {
		int flags = (int)a[4];
		if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
			return EINVAL;
		c->kind = K_CHOWN, c->fd = (int)a[0], c->path_ptr = a[1];
		c->uid = (uid_t)a[2], c->gid = (gid_t)a[3];
		c->nofollow = flags & AT_SYMLINK_NOFOLLOW, c->empty_ok = flags & AT_EMPTY_PATH;
		return 0;
	}
	case F_SETXATTR:
		c->kind = K_SETXATTR, c->path_ptr = a[0];
		c->size = (size_t)a[3], c->xflags = (int)a[4];
		return 0;
	case F_FSETXATTR:
		c->kind = K_SETXATTR, c->fd_based = true, c->fd = (int)a[0];
		c->size = (size_t)a[3], c->xflags = (int)a[4];
		return 0;
	case F_SETXATTRAT:
	case F_REMOVEXATTRAT: {
		int flags = (int)a[2];
		if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
			return EINVAL;
		c->kind = s->form == F_SETXATTRAT ? K_SETXATTR : K_REMOVEXATTR;
		c->fd = (int)a[0], c->path_ptr = a[1];
		c->nofollow = flags & AT_SYMLINK_NOFOLLOW, c->empty_ok = flags & AT_EMPTY_PATH;
		return 0;
	}
	case F_REMOVEXATTR:
		c->kind = K_REMOVEXATTR, c->path_ptr = a[0];
		return 0;
	case F_FREMOVEXATTR:
		c->kind = K_REMOVEXATTR, c->fd_based = true, c->fd = (int)a[0];
		return 0;
	case F_UTIME:
	case F_UTIMES:
		c->kind = K_UTIMES, c->path_ptr = a[0];
		return 0;
	case F_FUTIMESAT:
		c->kind = K_UTIMES, c->fd = (int)a[0], c->path_ptr = a[1];
		c->fd_based = !a[1] && c->fd != AT_FDCWD;
		return 0;
	case F_UTIMENSAT: {
		int flags = (int)a[3];
		c->kind = K_UTIMES, c->fd = (int)a[0], c->path_ptr = a[1];
		c->fd_based = !a[1] && c->fd != AT_FDCWD;
		if (c->fd_based ? flags != 0 : (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0)
			return EINVAL;
		c->nofollow = flags & AT_SYMLINK_NOFOLLOW, c->empty_ok = flags & AT_EMPTY_PATH;
		return 0;
	}
	default:
		return ENOSYS;
	}
}

struct xattr_args_v0 {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

/* Read what the call needs from the command's memory, except the path:
 * name, value, times.  0 or an errno.  Returns -1 for "nothing to do,
 * answer 0" (utimensat with both times UTIME_OMIT). */
static int read_args(const struct mg_sys *s, pid_t tid, const struct seccomp_notif *n,
		     struct mg_call *c)
{
	const __u64 *a = n->data.args;
	int e;
	switch (s->form) {
	case F_SETXATTR:
	case F_FSETXATTR:
	case F_REMOVEXATTR:
	case F_FREMOVEXATTR:
	case F_SETXATTRAT:
	case F_REMOVEXATTRAT: {
		uint64_t name = a[1], value = a[2];
		if (s->form == F_SETXATTRAT) {
			struct xattr_args_v0 xa;
			size_t usize = (size_t)a[5];
			if (usize < sizeof xa)
				return EINVAL;
			if (usize > (size_t)sysconf(_SC_PAGESIZE))
				return E2BIG;
			if ((e = read_mem(tid, a[4], &xa, sizeof xa)))
				return e;
			for (size_t off = sizeof xa; off < usize; off++) {
				unsigned char b;
				if ((e = read_mem(tid, a[4] + off, &b, 1)))
					return e;
				if (b)
					return E2BIG;
			}
			name = a[3], value = xa.value;
			c->size = xa.size, c->xflags = (int)xa.flags;
		} else if (s->form == F_REMOVEXATTRAT) {
			name = a[3];
		}
		if (c->kind == K_SETXATTR && (c->xflags & ~(XATTR_CREATE | XATTR_REPLACE)))
			return EINVAL;
		ssize_t l = read_str(tid, name, c->name, sizeof c->name);
		if (l == -ENAMETOOLONG || l == 0)
			return ERANGE;
		if (l < 0)
			return (int)-l;
		if (c->kind == K_SETXATTR && c->size) {
			if (c->size > XATTR_SIZE_MAX)
				return E2BIG;
			if (!(c->value = malloc(c->size)))
				return ENOMEM;
			if ((e = read_mem(tid, value, c->value, c->size)))
				return e;
		}
		return 0;
	}
	case F_UTIME:
		if (a[1]) {
			struct utimbuf ub;
			if ((e = read_mem(tid, a[1], &ub, sizeof ub)))
				return e;
			c->ts[0] = (struct timespec){.tv_sec = ub.actime};
			c->ts[1] = (struct timespec){.tv_sec = ub.modtime};
			c->times = true;
		}
		return 0;
	case F_UTIMES:
	case F_FUTIMESAT: {
		uint64_t p = s->form == F_UTIMES ? a[1] : a[2];
		if (p) {
			struct timeval tv[2];
			if ((e = read_mem(tid, p, tv, sizeof tv)))
				return e;
			for (int i = 0; i < 2; i++) {
				if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
					return EINVAL;
				c->ts[i] = (struct timespec){.tv_sec = tv[i].tv_sec,
							     .tv_nsec = tv[i].tv_usec * 1000};
			}
			c->times = true;
		}
		return 0;
	}
	case F_UTIMENSAT:
		if (a[2]) {
			if ((e = read_mem(tid, a[2], c->ts, sizeof c->ts)))
				return e;
			c->times = true;
			if (c->ts[0].tv_nsec == UTIME_OMIT && c->ts[1].tv_nsec == UTIME_OMIT)
				return -1; /* the kernel does not even look at the path */
		}
		return 0;
	default:
		return 0;
	}
}

/* ---- the worker thread ------------------------------------------------ */

struct mg_work {
	const srt_metagate *mg;
	struct mg_call *c;
	const struct mg_creds *cr;
	int base;     /* where the path starts (root, cwd, dirfd copy), or -1 */
	int obj;      /* the object already (descriptor-based), or -1 */
	bool obj_raw; /* obj is the command's descriptor (not O_PATH) */
	int result;   /* errno, 0 */
};

static bool same_groups(const gid_t *want, size_t n)
{
	int have = getgroups(0, NULL);
	if (have < 0 || (size_t)have != n)
		return false;
	SRT_AUTOFREE gid_t *cur = calloc(n ? n : 1, sizeof *cur);
	if (!cur || getgroups(have, cur) != have)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t j = 0; j < n && !found; j++)
			found = cur[j] == want[i];
		if (!found)
			return false;
	}
	return true;
}

/* Take the command's credentials on this thread only (raw system calls:
 * glibc's wrappers would change every thread of srt) and drop every
 * capability.  0 or -1. */
static int become(const struct mg_creds *cr)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	if (!same_groups(cr->groups, cr->ngroups) &&
	    syscall(SYS_setgroups, cr->ngroups, cr->groups) < 0)
		return -1;
	if (getresgid(&gr, &ge, &gs) < 0)
		return -1;
	if ((gr != cr->gid[0] || ge != cr->gid[1] || gs != cr->gid[2]) &&
	    syscall(SYS_setresgid, cr->gid[0], cr->gid[1], cr->gid[2]) < 0)
		return -1;
	if (getresuid(&r, &e, &s) < 0)
		return -1;
	if ((r != cr->uid[0] || e != cr->uid[1] || s != cr->uid[2]) &&
	    syscall(SYS_setresuid, cr->uid[0], cr->uid[1], cr->uid[2]) < 0)
		return -1;
	syscall(SYS_setfsgid, cr->gid[3]);
	syscall(SYS_setfsuid, cr->uid[3]);
	if ((gid_t)syscall(SYS_setfsgid, (gid_t)-1) != cr->gid[3] ||
	    (uid_t)syscall(SYS_setfsuid, (uid_t)-1) != cr->uid[3])
		return -1;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {{0}};
	if (syscall(SYS_capset, &h, d) < 0 || syscall(SYS_capget, &h, d) < 0)
		return -1;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (d[i].effective || d[i].permitted)
			return -1;
	return 0;
}

static int err_or_zero(long r)
{
	return r < 0 ? errno : 0;
}

/* Perform the call on the checked object `fd`. */
static int act(const struct mg_call *c, int fd, bool raw)
{
	char proc[40];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	switch (c->kind) {
	case K_CHMOD:
		if (raw)
			return err_or_zero(fchmod(fd, c->mode));
#ifdef SYS_fchmodat2
		{
			long r = syscall(SYS_fchmodat2, fd, "", c->mode, AT_EMPTY_PATH);
			if (r == 0 || errno != ENOSYS)
				return err_or_zero(r);
		}
#endif
		{
			struct stat st;
			if (fstat(fd, &st) < 0)
				return errno;
			if (S_ISLNK(st.st_mode))
				return EOPNOTSUPP; /* what fchmodat2 says for a symlink */
			return err_or_zero(chmod(proc, c->mode));
		}
	case K_CHOWN:
		if (raw)
			return err_or_zero(fchown(fd, c->uid, c->gid));
		return err_or_zero(fchownat(fd, "", c->uid, c->gid, AT_EMPTY_PATH));
	case K_SETXATTR:
		if (raw)
			return err_or_zero(fsetxattr(fd, c->name, c->value, c->size, c->xflags));
		return err_or_zero(setxattr(proc, c->name, c->value, c->size, c->xflags));
	case K_REMOVEXATTR:
		if (raw)
			return err_or_zero(fremovexattr(fd, c->name));
		return err_or_zero(removexattr(proc, c->name));
	case K_UTIMES: {
		const struct timespec *ts = c->times ? c->ts : NULL;
		if (raw)
			return err_or_zero(syscall(SYS_utimensat, fd, NULL, ts, 0));
		return err_or_zero(syscall(SYS_utimensat, fd, "", ts, AT_EMPTY_PATH));
	}
	default:
		return ENOSYS;
	}
}

static void *work(void *arg)
{
	struct mg_work *w = arg;
	struct mg_call *c = w->c;
	if (become(w->cr) < 0) {
		w->result = EPERM;
		return NULL;
	}
	SRT_AUTOCLOSE int obj = -1;
	int target = w->obj;
	if (target < 0 && c->path[0] == '\0') {
		target = w->base; /* AT_EMPTY_PATH: the starting point itself */
	} else if (target < 0) {
		uint64_t resolve = RESOLVE_NO_MAGICLINKS | (c->path[0] == '/' ? RESOLVE_IN_ROOT : 0);
		int tries = 0;
		do
			obj = srt_open_path(w->base, c->path, c->nofollow ? O_NOFOLLOW : 0, resolve);
		while (obj < 0 && errno == EAGAIN && ++tries < 16);
		if (obj < 0) {
			w->result = errno;
			return NULL;
		}
		target = obj;
	}
	if (!(w->obj_raw && anonymous(target)) && !contained(w->mg, target)) {
		w->result = EROFS;
		return NULL;
	}
	w->result = act(c, target, w->obj_raw);
	return NULL;
}

/* Run `w` on a thread of its own (its credentials die with it). */
static int run_worker(struct mg_work *w)
{
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	pthread_t t;
	pthread_attr_t attr;
	if (pthread_attr_init(&attr))
		return ENOMEM;
	/* a small stack: the work needs two paths and little else */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int e = pthread_create(&t, &attr, work, w);
	pthread_attr_destroy(&attr);
	if (e)
		return e == EAGAIN ? EAGAIN : ENOMEM;
	pthread_join(t, NULL);
	/* the kernel made srt non-dumpable when the thread lowered its
	 * credentials; that thread is gone */
	if (dumpable == 1 && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1)
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return w->result;
}

static bool still_waiting(int notify_fd, uint64_t id)
{
	return ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Everything up to the worker; 0 or an errno, -1: answer 0 at once,
 * -2: the notification is gone. */
static int prepare_and_run(const srt_metagate *mg, int notify_fd, const struct seccomp_notif *n,
			   const struct mg_sys *s, struct mg_call *c, struct mg_creds *cr)
{
	pid_t tid = (pid_t)n->pid;
	int e = decode(s, n, c);
	if (e)
		return e;
	if ((e = read_args(s, tid, n, c)))
		return e;
	bool xattrat = s->form == F_SETXATTRAT || s->form == F_REMOVEXATTRAT;
	if (!c->fd_based) {
		ssize_t l = (xattrat && !c->path_ptr && c->empty_ok) ? 0
			    : read_str(tid, c->path_ptr, c->path, PATH_MAX);
		if (l < 0)
			return (int)-l;
		if (l == 0 && !c->empty_ok)
			return ENOENT;
		if (l == 0 && xattrat)
			c->fd_based = true; /* the *xattrat calls: the descriptor itself */
	}
	if (read_creds(tid, cr) < 0)
		return still_waiting(notify_fd, n->id) ? EPERM : -2;
	SRT_AUTOCLOSE int pidfd = srt_pidfd_open_thread(tid, cr->tgid);
	SRT_AUTOCLOSE int base = -1;
	SRT_AUTOCLOSE int obj = -1;
	int proc_fd = !c->fd_based && !c->nofollow ? proc_fd_path(c->path, tid, cr->tgid) : -1;
	int answer = 0;
	if (pidfd < 0) {
		answer = EPERM;
	} else if (c->fd_based || proc_fd >= 0) {
		obj = (int)syscall(SYS_pidfd_getfd, pidfd, c->fd_based ? c->fd : proc_fd, 0);
		if (obj < 0)
			answer = errno == EBADF ? EBADF : EPERM;
		else if (c->fd_based && (fcntl(obj, F_GETFL) & O_PATH))
			answer = EBADF; /* the kernel's answer for an O_PATH descriptor */
	} else if (c->path[0] == '/' || (c->fd == AT_FDCWD)) {
		char p[48];
		snprintf(p, sizeof p, "/proc/%d/%s", (int)tid, c->path[0] == '/' ? "root" : "cwd");
		base = open(p, O_PATH | O_CLOEXEC);
		if (base < 0)
			answer = EPERM;
	} else {
		base = (int)syscall(SYS_pidfd_getfd, pidfd, c->fd, 0);
		if (base < 0)
			answer = errno == EBADF ? EBADF : EPERM;
	}
	/* all of the above was about the calling thread only if it is still
	 * waiting now */
	if (!still_waiting(notify_fd, n->id))
		return -2;
	if (answer)
		return answer;
	struct mg_work w = {.mg = mg, .c = c, .cr = cr, .base = base, .obj = obj,
			    .obj_raw = c->fd_based};
	return run_worker(&w);
}

bool srt_metagate_handle(const srt_metagate *mg, int notify_fd, const struct seccomp_notif *n,
			 struct seccomp_notif_resp *resp)
{
	*resp = (struct seccomp_notif_resp){.id = n->id};
	const struct mg_sys *s = find_sys(n->data.nr);
#ifdef MG_ARCH
	if (n->data.arch != MG_ARCH)
		s = NULL;
#endif
	if (s && ((s->form == F_FCHMODAT2 && mg->no_fchmodat2) ||
		  ((s->form == F_SETXATTRAT || s->form == F_REMOVEXATTRAT) && mg->no_xattrat)))
		s = NULL;
	if (!s) {
		resp->error = -ENOSYS;
		return still_waiting(notify_fd, n->id);
	}
	struct mg_creds cr = {0};
	struct mg_call c = {0};
	int e = ENOMEM;
	if ((c.path = malloc(PATH_MAX))) {
		c.path[0] = '\0';
		e = prepare_and_run(mg, notify_fd, n, s, &c, &cr);
	}
	free(c.path);
	free(c.value);
	free(cr.groups);
	if (e == -2)
		return false;
	resp->error = e > 0 ? -e : 0;
	return true;
}
