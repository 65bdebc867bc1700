/* standins.c - run directory, journal, stand-ins, crash recovery. */
#include "standins.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "gitfresh.h"
#include "mandatory.h"
#include "util.h"

#define JOURNAL_MAX (1 << 20)
#define DIR_ENTRIES_MAX 4096
#define LOCK_WAIT_MS 10000    /* the per-user lock */
#define STANDIN_WAIT_MS 3000  /* a stand-in some clean-up is removing right now */
#define POLL_MS 20
#define MARK_NAME SRT_STANDIN_MARK_NAME
#define MARK_VALUE SRT_STANDIN_MARK_VALUE

char *srt_run_dir_path(void)
{
	return srt_asprintf("/tmp/srt-%u", (unsigned)getuid());
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- what a stand-in holds ------------------------------------------
 *
 * A stand-in exists only so that a mount can sit on it; host programs
 * keep running during the run, and must behave as if it were absent.
 * Most names are equivalent to absent when empty (.bashrc, .zshrc,
 * .zprofile, .profile: an empty script; .gitconfig, .git/config: git
 * parses an empty config as no settings; .gitmodules: no submodules;
 * .ripgreprc: no extra arguments; directories .vscode .idea .claude/...
 * .git/hooks: nothing in them).  The others: */
static const struct {
	const char *suffix;
	const char *content;
} standin_content[] = {
	/* bash -l reads the FIRST of ~/.bash_profile, ~/.bash_login,
	 * ~/.profile that it can open: an empty ~/.bash_profile would make
	 * every host login shell skip ~/.profile.  Do what bash does when
	 * ~/.bash_profile is absent (~ is $HOME, as in bash's own lookup). */
	{"/.bash_profile",
	 "# srt stand-in (removed when the sandbox ends): what bash does without this file\n"
	 "if [ -r ~/.bash_login ]; then . ~/.bash_login; elif [ -r ~/.profile ]; then . ~/.profile; fi\n"},
	/* git fails on an empty .git/commondir; "." names the repository
	 * itself, which is what a missing file means. */
	{"/.git/commondir", ".\n"},
	/* JSON files: an empty file is a parse error, where a missing one
	 * means "nothing configured". */
	{"/.mcp.json", "{\"mcpServers\": {}}\n"},
	{"/.claude/settings.json", "{}\n"},
	{"/.claude/settings.local.json", "{}\n"},
	/* srt's own loader (config.c) refuses an empty file; "{}" gives the
	 * defaults, exactly like a missing ~/.srt-settings.json. */
	{"/.srt-settings.json", "{}\n"},
};

static const char *content_for(const char *path)
{
	size_t pl = strlen(path);
	for (size_t i = 0; i < sizeof standin_content / sizeof *standin_content; i++) {
		size_t sl = strlen(standin_content[i].suffix);
		if (pl >= sl && strcmp(path + pl - sl, standin_content[i].suffix) == 0)
			return standin_content[i].content;
	}
	return "";
}

/* Could srt have made a stand-in of this name?  The last component of a
 * mandatory-deny entry, or a directory that holds one (".git", ".claude").
 * Used where the file system keeps no user attributes (no mark to check). */
static bool standin_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t bl = strlen(base);
	for (size_t i = 0; i < srt_mandatory_name_count; i++) {
		const char *rel = srt_mandatory_names[i].rel;
		const char *last = strrchr(rel, '/');
		size_t top = strcspn(rel, "/");
		if (strcmp(last ? last + 1 : rel, base) == 0 ||
		    (top == bl && memcmp(rel, base, bl) == 0))
			return true;
	}
	return false;
}

/* ---- identities ------------------------------------------------------ */

/* What a journal records of an entry, and what replay compares: the same
 * inode (device and number), born at the same time where the file system
 * says (statx btime), and for files not changed since (ctime, which also
 * moves on chmod, link, rename or write). */
typedef struct ident {
	char type; /* 'f' regular file, 'd' directory, '?' anything else */
	unsigned long long dev, ino, size, nlink;
	long long bs, cs;
	unsigned bn, cn;
} ident;

static int ident_of(int dfd, const char *name, ident *id)
{
	struct statx x;
	int flags = AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT | (*name ? 0 : AT_EMPTY_PATH);
	if (statx(dfd, name, flags, STATX_TYPE | STATX_INO | STATX_NLINK | STATX_SIZE |
				    STATX_CTIME | STATX_BTIME, &x) < 0)
		return -1;
	*id = (ident){
		.type = S_ISDIR(x.stx_mode) ? 'd' : S_ISREG(x.stx_mode) ? 'f' : '?',
		.dev = makedev(x.stx_dev_major, x.stx_dev_minor),
		.ino = x.stx_ino, .size = x.stx_size, .nlink = x.stx_nlink,
		.cs = x.stx_ctime.tv_sec, .cn = x.stx_ctime.tv_nsec,
	};
	if (x.stx_mask & STATX_BTIME) {
		id->bs = x.stx_btime.tv_sec;
		id->bn = x.stx_btime.tv_nsec;
	}
	return 0;
}

static bool same_inode(const ident *a, const ident *b)
{
	return a->type == b->type && a->dev == b->dev && a->ino == b->ino;
}

/* Is `cur` still the entry the record `rec` describes?  Directories are
 * not compared by ctime: creating and removing entries in them moves it
 * (srt's own children of a stand-in directory do), and rmdir removes only
 * empty ones anyway. */
static bool still_recorded(const ident *rec, const ident *cur)
{
	if (!same_inode(rec, cur))
		return false;
	if ((rec->bs || rec->bn) && (rec->bs != cur->bs || rec->bn != cur->bn))
		return false;
	return rec->type == 'd' || (rec->cs == cur->cs && rec->cn == cur->cn);
}

/* ---- paths, opened without following symlinks ------------------------ */

/* Absolute, no empty, "." or ".." component, no trailing slash. */
static bool canonical(const char *p)
{
	size_t l = strlen(p);
	if (l < 2 || l >= PATH_MAX || p[0] != '/' || p[l - 1] == '/')
		return false;
	for (const char *c = p; (c = strchr(c, '/')) != NULL; c++) {
		const char *n = c + 1;
		if (n[0] == '/' || (n[0] == '.' && (n[1] == '/' || !n[1])) ||
		    (n[0] == '.' && n[1] == '.' && (n[2] == '/' || !n[2])))
			return false;
	}
	return true;
}

/* Open the parent directory of `path` without following symlinks. */
static int open_parent(const char *path, const char **name)
{
	char buf[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash || !slash[1] || strlen(path) >= sizeof buf) {
		errno = EINVAL;
		return -1;
	}
	*name = slash + 1;
	size_t pl = slash == path ? 1 : (size_t)(slash - path);
	memcpy(buf, path, pl);
	buf[pl] = '\0';
	return srt_open_path(AT_FDCWD, buf, O_DIRECTORY, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* The caller's soft limit may be low (1024) and a workspace may have
 * thousands of stand-ins: on EMFILE, raise it to the hard limit once. */
static bool raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return false;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

/* An entry opened to be locked or checked: read-only, never a symlink,
 * and never blocking (a FIFO planted in its place). */
static int open_entry(int pfd, const char *name, char type)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
		    (type == 'd' ? O_DIRECTORY : 0);
	int fd = openat(pfd, name, flags);
	if (fd < 0 && errno == EMFILE && raise_nofile())
		fd = openat(pfd, name, flags);
	return fd;
}

/* fd's content is exactly `want`. */
static bool content_is(int fd, const char *want)
{
	size_t wl = strlen(want);
	char buf[512];
	if (wl >= sizeof buf)
		return false;
	ssize_t n = pread(fd, buf, wl + 1, 0);
	return n == (ssize_t)wl && memcmp(buf, want, wl) == 0;
}

/* 1: carries srt's mark; 0: does not; the file system keeps no user
 * attributes: whether the name is one srt could have made. */
static bool marked_as_standin(int fd, const char *path)
{
	char v[sizeof MARK_VALUE];
	ssize_t n = fgetxattr(fd, MARK_NAME, v, sizeof v);
	if (n == (ssize_t)strlen(MARK_VALUE) && memcmp(v, MARK_VALUE, (size_t)n) == 0)
		return true;
	return n < 0 && errno == ENOTSUP && standin_name(path);
}

/* An empty directory (only "." and ".."). */
static bool dir_is_empty(int fd)
{
	char buf[1024];
	long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
	if (n < 0)
		return false;
	for (long off = 0; off < n;) {
		const char *name = buf + off + 19; /* struct linux_dirent64's d_name */
		unsigned short reclen;
		memcpy(&reclen, buf + off + 16, sizeof reclen);
		if (reclen == 0)
			return false;
		if (strcmp(name, ".") != 0 && strcmp(name, ".."))
			return false;
		off += reclen;
	}
	return true;
}

/* ---- who holds a lock ------------------------------------------------ */

/* "pid N (comm)" of a process that holds a lock on dev:ino, from
 * /proc/locks (which lists locks whoever holds them, unlike the per-process
 * files that hidepid hides). */
static void lock_holder(const ident *id, char *out, size_t cap)
{
	snprintf(out, cap, "a process srt cannot identify");
	FILE *f = fopen("/proc/locks", "re");
	if (!f)
		return;
	char line[256];
	int found = 0;
	for (int n = 0; n < 100000 && !found && fgets(line, sizeof line, f); n++) {
		int pid;
		unsigned maj, min;
		unsigned long long ino;
		if (strstr(line, "->")) /* a waiter, not a holder */
			continue;
		if (sscanf(line, "%*d: %*s %*s %*s %d %x:%x:%llu", &pid, &maj, &min, &ino) != 4 ||
		    ino != id->ino || makedev(maj, min) != id->dev)
			continue;
		char p[64], comm[64] = "";
		snprintf(p, sizeof p, "/proc/%d/comm", pid);
		if (!srt_read_small(p, comm, sizeof comm))
			snprintf(comm, sizeof comm, "?");
		comm[strcspn(comm, "\n")] = '\0';
		for (char *c = comm; *c; c++) /* another program's name: no escapes */
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
		snprintf(out, cap, "pid %d (%s)", pid, comm);
		found = 1;
	}
	fclose(f);
}

/* flock(op) without waiting, retried for at most `ms`. 0, or -1 with errno
 * (EWOULDBLOCK: still held at the end). */
static int lock_bounded(int fd, int op, long ms)
{
	for (long waited = 0;; waited += POLL_MS) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || waited >= ms)
			return -1;
		sleep_ms(POLL_MS);
	}
}

/* The per-user lock around stand-in bookkeeping.  Never a hang: a holder
 * that keeps it for LOCK_WAIT_MS is named in the error. */
static int lock_dir(int dfd, const char *dir, srt_error *err)
{
	int fd = openat(dfd, "lock", O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
					   O_NOCTTY, 0600);
	ident id;
	if (fd < 0 || ident_of(fd, "", &id) < 0 || id.type != 'f') {
		int e = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		return srt_fail_errno(err, SRT_E_SETUP, e, "cannot open %s/lock", dir);
	}
	if (lock_bounded(fd, LOCK_EX, LOCK_WAIT_MS) == 0)
		return fd;
	int e = errno;
	close(fd);
	if (e != EWOULDBLOCK)
		return srt_fail_errno(err, SRT_E_SETUP, e, "cannot lock %s/lock", dir);
	char who[128];
	lock_holder(&id, who, sizeof who);
	return srt_fail(err, SRT_E_SETUP,
			"%s/lock is held by %s and was not released within %d s (is that srt run stuck?)",
			dir, who, LOCK_WAIT_MS / 1000);
}

/* ---- journals -------------------------------------------------------- */

typedef struct record {
	ident id;
	const char *path;
} record;

/* Call fn for each record "T DEV INO BTIME BNS CTIME CNS PATH" of a journal,
 * newest first; return the sum of what fn returned.  A record that does not
 * parse is ignored (nothing is done for it). */
static int for_each_record(int fd, int (*fn)(const record *, void *), void *data)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > JOURNAL_MAX)
		return 0;
	SRT_AUTOFREE char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return 0;
	ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	size_t count = 0;
	for (ssize_t i = 0; i < n; i++)
		count += buf[i] == '\0';
	SRT_AUTOFREE char **recs = calloc(count + 1, sizeof *recs);
	if (!recs)
		return 0;
	size_t k = 0;
	for (char *p = buf; p < buf + n && k < count; p += strlen(p) + 1)
		recs[k++] = p;
	int sum = 0;
	while (k-- > 0) {
		record r = {0};
		int off = 0;
		if (sscanf(recs[k], "%c %llu %llu %lld %u %lld %u %n", &r.id.type, &r.id.dev,
			   &r.id.ino, &r.id.bs, &r.id.bn, &r.id.cs, &r.id.cn, &off) == 7 &&
		    off > 0 && recs[k][off] == '/') {
			r.path = recs[k] + off;
			sum += fn(&r, data);
		}
	}
	return sum;
}

typedef struct record_set {
	ident *v;
	size_t n, cap;
} record_set;

static const ident *record_find(const record_set *s, const ident *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (same_inode(&s->v[i], id))
			return &s->v[i];
	return NULL;
}

static int collect(const record *r, void *data)
{
	record_set *s = data;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		ident *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return 0;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = r->id;
	return 0;
}

static bool is_journal_name(const char *name)
{
	size_t l = strlen(name);
	return strncmp(name, "run-", 4) == 0 && l >= 12 && strcmp(name + l - 8, ".journal") == 0;
}

/* Call fn(dfd, name, fd) for every journal of the run directory (a regular
 * file of ours; bounded), fd opened read-only. */
static void for_each_journal(int dfd, void (*fn)(int, const char *, int, void *), void *data)
{
	int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return;
	}
	rewinddir(d); /* the dup shares its offset with dfd */
	struct dirent *e;
	for (int budget = DIR_ENTRIES_MAX; (e = readdir(d)) != NULL && budget-- > 0;) {
		if (!is_journal_name(e->d_name))
			continue;
		int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid())
			fn(dfd, e->d_name, fd, data);
		if (fd >= 0)
			close(fd); /* also drops a lock we may have taken */
	}
	closedir(d);
}

/* Stand-ins listed by runs that are alive (their journal is locked), other
 * than this run's: a run that finds one adopts it. */
typedef struct live_ctx {
	record_set *out;
	const char *self; /* this run's journal, or NULL */
} live_ctx;

static void collect_live(int dfd, const char *name, int fd, void *data)
{
	(void)dfd;
	const live_ctx *c = data;
	if ((c->self && strcmp(name, c->self) == 0) || flock(fd, LOCK_SH | LOCK_NB) == 0 ||
	    errno != EWOULDBLOCK)
		return;
	for_each_record(fd, collect, c->out);
}

static void live_standins(int dfd, const char *self, record_set *out)
{
	live_ctx c = {out, self};
	for_each_journal(dfd, collect_live, &c);
}

/* ---- removal --------------------------------------------------------- */

/* Remove one recorded stand-in if it is still exactly what srt made and no
 * live run uses it.  A journal is never trusted blindly: the record must
 * name a canonical path reached without symlinks, an entry with the same
 * device, inode and times that carries srt's mark (or, on a file system
 * without user attributes, has a stand-in's name), a file with exactly a
 * stand-in's content; it is removed through its parent's descriptor.
 * Returns 1 when the record must be kept (the stand-in is in use), else 0
 * (removed, or not ours: nothing more to do). */
static int undo_record(const record *r, void *data)
{
	/* Listed by another live run of this user: that run mounts it and
	 * removes it when it ends.  Its maker holds no lock on what it made
	 * (see place_standin), so the lock below cannot tell: without this, a
	 * short run that adopted a long run's stand-in removed it at exit, the
	 * kernel detached the long run's read-only mount of it, and that
	 * run's command could then create the protected file on the host. */
	const record_set *live = data;
	if (live && record_find(live, &r->id))
		return 0;
	if ((r->id.type != 'f' && r->id.type != 'd') || !canonical(r->path))
		return 0;
	const char *name;
	SRT_AUTOCLOSE int pfd = open_parent(r->path, &name);
	ident cur, held;
	if (pfd < 0 || ident_of(pfd, name, &cur) < 0 || !still_recorded(&r->id, &cur))
		return 0; /* gone, behind a symlink, or replaced: not ours any more */
	SRT_AUTOCLOSE int fd = open_entry(pfd, name, r->id.type);
	if (fd < 0 || ident_of(fd, "", &held) < 0 || !same_inode(&cur, &held))
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return 1; /* a live run (any user's) holds it: it mounts it */
	if (!marked_as_standin(fd, r->path) ||
	    (r->id.type == 'f' && !content_is(fd, content_for(r->path))))
		return 0; /* not something srt made, or the user wrote in it */
	if (ident_of(pfd, name, &cur) < 0 || !same_inode(&cur, &held))
		return 0; /* renamed away meanwhile */
	/* rmdir fails, and the directory stays, when something was put in it */
	unlinkat(pfd, name, r->id.type == 'd' ? AT_REMOVEDIR : 0);
	return 0;
}

/* Undo a journal's stand-ins, except those `live` (other live runs'
 * journals) lists; the number still in use. */
static int undo_journal(int fd, const record_set *live)
{
	return for_each_record(fd, undo_record, (void *)live);
}

static void clean_one_stale(int dfd, const char *name, int fd, void *data)
{
	const record_set *live = data;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return;
	/* its owner is gone: so is the sandbox its private git directories
	 * served, and what it left there was never checked (discarded) */
	srt_gitfresh_remove_stale(dfd, name);
	if (undo_journal(fd, live) == 0)
		unlinkat(dfd, name, 0); /* and so is all it listed */
}

/* ---- the run directory ----------------------------------------------- */

/* Ours, a real directory, not reachable by others.  A mode that only lets
 * others read or enter it is put back to 0700 (what srt made); one that let
 * others write means its content cannot be trusted: refused. */
static int open_run_dir(srt_run *run)
{
	if (mkdir(run->dir, 0700) < 0 && errno != EEXIST) {
		snprintf(run->dir_problem, sizeof run->dir_problem, "cannot create %s: %s", run->dir,
			 strerror(errno));
		return -1;
	}
	SRT_AUTOCLOSE int pfd = srt_open_path(AT_FDCWD, run->dir, O_DIRECTORY | O_NOFOLLOW, 0);
	struct stat st;
	if (pfd < 0 || fstat(pfd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 022)) {
		snprintf(run->dir_problem, sizeof run->dir_problem,
			 "%s is not private to this user (not a directory of uid %u with mode 0700); remove it",
			 run->dir, (unsigned)getuid());
		return -1;
	}
	if ((st.st_mode & 07777) != 0700) {
		char p[64];
		snprintf(p, sizeof p, "/proc/self/fd/%d", pfd);
		if (chmod(p, 0700) < 0) {
			snprintf(run->dir_problem, sizeof run->dir_problem, "cannot chmod %s: %s",
				 run->dir, strerror(errno));
			return -1;
		}
	}
	run->dir_fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (run->dir_fd < 0) {
		snprintf(run->dir_problem, sizeof run->dir_problem, "cannot open %s: %s", run->dir,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int srt_run_open(srt_run *run, srt_plan *plan, srt_error *err)
{
	*run = (srt_run){.journal_fd = -1, .dir_fd = -1};
	run->dir = srt_run_dir_path();
	if (!run->dir)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	if (open_run_dir(run) < 0) {
		/* A missing one inside a writable root could be made by the
		 * command, with journals a later run would replay: refuse. */
		struct stat st;
		for (size_t i = 0; plan && lstat(run->dir, &st) < 0 && i < plan->write_roots.n; i++)
			if (srt_path_is_within(run->dir, plan->write_roots.v[i]))
				return srt_fail(err, SRT_E_SETUP, "%s", run->dir_problem);
		/* else nothing of ours is there to hide */
		if (plan)
			srt_plan_skip_under(plan, run->dir);
		return 0;
	}
	SRT_AUTOCLOSE int lk = lock_dir(run->dir_fd, run->dir, err);
	if (lk < 0)
		return -1;
	record_set live = {0};
	live_standins(run->dir_fd, NULL, &live);
	for_each_journal(run->dir_fd, clean_one_stale, &live);
	free(live.v);
	srt_gitfresh_remove_orphans(run->dir_fd);
	return 0;
}

/* The journal is needed only when a run records stand-ins.  It is created
 * under a name stale-run cleaners ignore, locked, then renamed into place:
 * nobody can see it unlocked. */
int srt_run_journal(srt_run *run)
{
	if (run->journal_fd >= 0)
		return 0;
	char tmpname[] = "run-XXXXXX.new";
	SRT_AUTOFREE char *tmppath = srt_asprintf("/proc/self/fd/%d/%s", run->dir_fd, tmpname);
	if (!tmppath)
		return -1;
	int fd = mkostemps(tmppath, 4, O_CLOEXEC);
	if (fd < 0)
		return -1;
	const char *base = strrchr(tmppath, '/') + 1;
	run->journal = srt_asprintf("%.*s.journal", (int)(strlen(base) - 4), base);
	if (!run->journal || flock(fd, LOCK_EX) < 0 ||
	    renameat(run->dir_fd, base, run->dir_fd, run->journal) < 0) {
		int e = errno;
		close(fd);
		unlinkat(run->dir_fd, base, 0);
		free(run->journal);
		run->journal = NULL;
		errno = e;
		return -1;
	}
	run->journal_fd = fd;
	return 0;
}

static int journal_add(srt_run *run, const ident *id, const char *path)
{
	if (srt_run_journal(run) < 0) /* first record: create it now */
		return -1;
	char rec[PATH_MAX + 128];
	int n = snprintf(rec, sizeof rec, "%c %llu %llu %lld %u %lld %u %s", id->type, id->dev,
			 id->ino, id->bs, id->bn, id->cs, id->cn, path);
	if (n < 0 || (size_t)n >= sizeof rec) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* one write per record, NUL included */
	return write(run->journal_fd, rec, (size_t)n + 1) == n + 1 ? 0 : -1;
}

/* ---- creating and holding stand-ins ---------------------------------- */

static int hold(srt_run *run, int fd)
{
	if (run->n_held == run->cap_held) {
		size_t cap = run->cap_held ? run->cap_held * 2 : 64;
		int *v = realloc(run->held, cap * sizeof *v);
		if (!v)
			return -1;
		run->held = v;
		run->cap_held = cap;
	}
	run->held[run->n_held++] = fd;
	return 0;
}

static void release_held(srt_run *run)
{
	for (size_t i = 0; i < run->n_held; i++)
		close(run->held[i]);
	run->n_held = 0;
}

/* Create `name` under `pfd` as srt's stand-in (content, mark).  1: created,
 * *fd_out open on it (the descriptor that made it, or for a directory the
 * one that marked it: no second lookup); 0: something exists there
 * already, -1: cannot (errno). */
static int create_entry(int pfd, const char *name, const char *path, bool is_dir, int *fd_out)
{
	int fd;
	if (is_dir) {
		if (mkdirat(pfd, name, 0755) < 0)
			return errno == EEXIST ? 0 : -1;
		fd = open_entry(pfd, name, 'd');
	} else {
		fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return errno == EEXIST ? 0 : -1;
		const char *content = content_for(path);
		size_t cl = strlen(content);
		if (cl && write(fd, content, cl) != (ssize_t)cl) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0 && fsetxattr(fd, MARK_NAME, MARK_VALUE, strlen(MARK_VALUE), 0) < 0 &&
	    errno != ENOTSUP) {
		/* a file system with attributes that refused ours: replay could
		 * never remove it, so it is not made */
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		int e = errno;
		unlinkat(pfd, name, is_dir ? AT_REMOVEDIR : 0);
		errno = e;
		return -1;
	}
	*fd_out = fd;
	return 1;
}

/* Could a clean-up remove this entry?  Only an empty directory, or a file
 * of exactly a stand-in's size: anything else is nobody's to remove, so
 * holding it is not needed. */
static bool removable(int fd, const ident *id, const char *path)
{
	if (id->type == 'd')
		return dir_is_empty(fd);
	return id->type == 'f' && id->size == strlen(content_for(path));
}

/* srt_fail returns -1: PLACE_FAIL, so that `return srt_fail(...)` reads as it does elsewhere */
typedef enum place_result { PLACE_FAIL = -1, PLACE_OK = 0, PLACE_SKIP = 1 } place_result;

/* Make sure stand-in `s` exists, record it when we made it (or adopt
 * another live run's), and hold it with LOCK_SH until srt_run_close when a
 * clean-up could remove it.  After locking, the path must still name the
 * locked inode (a clean-up may have removed it just before): else again. */
static place_result place_standin(srt_run *run, const srt_standin *s, const record_set *live,
				  int *skip_errno, srt_error *err)
{
	const char *name;
	SRT_AUTOCLOSE int pfd = open_parent(s->path, &name);
	if (pfd < 0) {
		*skip_errno = errno;
		return PLACE_SKIP;
	}
	bool recorded = false;
	for (long waited = 0; waited <= STANDIN_WAIT_MS; waited += POLL_MS) {
		ident id, held, again;
		int created = 0, fd = -1;
		if (ident_of(pfd, name, &id) < 0) {
			if (errno != ENOENT ||
			    (created = create_entry(pfd, name, s->path, s->is_dir, &fd)) < 0) {
				*skip_errno = errno;
				return PLACE_SKIP;
			}
			/* What we made is described by the descriptor that made
			 * it (the inode whatever happens to the name). */
			if (created && ident_of(fd, "", &id) < 0) {
				int e = errno;
				close(fd);
				unlinkat(pfd, name, s->is_dir ? AT_REMOVEDIR : 0);
				return srt_fail_errno(err, SRT_E_SETUP, e, "cannot examine stand-in %s",
						      s->path);
			}
			if (!created && ident_of(pfd, name, &id) < 0) {
				*skip_errno = errno;
				return PLACE_SKIP;
			}
		}
		if (id.type == '?')
			return PLACE_OK; /* a symlink (dotfile managers): pinned itself */
		const ident *adopt = created ? NULL : record_find(live, &id);
		if (created)
			held = id;
		else {
			fd = open_entry(pfd, name, id.type);
			if (fd < 0) {
				if (adopt || errno == EMFILE)
					return srt_fail_errno(err, SRT_E_SETUP, errno,
							      "cannot open stand-in %s", s->path);
				return PLACE_OK; /* not ours and unreadable: nobody's stand-in */
			}
			if (ident_of(fd, "", &held) < 0 || !same_inode(&held, &id)) {
				close(fd);
				continue; /* replaced meanwhile */
			}
		}
		/* record before anything can fail: what we made is removed later */
		if (created && !recorded) {
			if (journal_add(run, &held, s->path) < 0) {
				int e = errno;
				close(fd);
				unlinkat(pfd, name, s->is_dir ? AT_REMOVEDIR : 0);
				return srt_fail_errno(err, SRT_E_SETUP, e, "cannot write a journal in %s",
						      run->dir);
			}
			recorded = true;
		}
		/* What this run made needs no lock of its own: only this run's
		 * journal names it, and nothing of this run uses it after the
		 * journal is replayed.  The lock tells *other* runs' clean-ups
		 * (any user's) that a run mounts what it did not make; holding
		 * one per stand-in made here would cost a descriptor each
		 * (a commondir stand-in per nested repository). */
		if (created) {
			close(fd);
			return PLACE_OK;
		}
		/* an existing entry is held only when a clean-up could remove
		 * it: a stand-in's shape and srt's mark (an empty directory of
		 * the user's is nobody's to remove, and holding thousands of
		 * them would exhaust descriptors) */
		if (!created && !adopt &&
		    !(removable(fd, &id, s->path) && marked_as_standin(fd, s->path))) {
			close(fd);
			return PLACE_OK;
		}
		if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			if (e != EWOULDBLOCK)
				return srt_fail_errno(err, SRT_E_SETUP, e, "cannot lock stand-in %s",
						      s->path);
			if (waited + POLL_MS > STANDIN_WAIT_MS) {
				char who[128];
				lock_holder(&id, who, sizeof who);
				return srt_fail(err, SRT_E_SETUP,
						"stand-in %s is locked by %s and was not released within %d s",
						s->path, who, STANDIN_WAIT_MS / 1000);
			}
			sleep_ms(POLL_MS); /* a clean-up is removing it: then make it again */
			continue;
		}
		if (ident_of(fd, "", &held) < 0 || held.nlink == 0 || ident_of(pfd, name, &again) < 0 ||
		    !same_inode(&held, &again)) {
			close(fd);
			continue; /* removed after we looked: make it again */
		}
		if (adopt && journal_add(run, adopt, s->path) < 0) {
			int e = errno;
			close(fd);
			return srt_fail_errno(err, SRT_E_SETUP, e, "cannot write a journal in %s",
					      run->dir);
		}
		if (hold(run, fd) < 0) {
			close(fd);
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		}
		return PLACE_OK;
	}
	return srt_fail(err, SRT_E_SETUP, "stand-in %s kept disappearing while srt started", s->path);
}

static bool skippable(int e)
{
	return e == ENOTDIR || e == EACCES || e == EROFS || e == EPERM ||
	       e == EEXIST || e == ENOENT || e == EXDEV;
}

int srt_run_create_standins(srt_run *run, srt_plan *plan, srt_strv *notes,
			    srt_error *err)
{
	if (plan->n_standins == 0)
		return 0;
	SRT_AUTOFREE bool *skipped = calloc(plan->n_standins, sizeof *skipped);
	if (!skipped)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	if (run->dir_fd < 0)
		return srt_fail(err, SRT_E_SETUP, "%s", run->dir_problem[0] ? run->dir_problem
						       : "no run directory");
	SRT_AUTOCLOSE int lk = lock_dir(run->dir_fd, run->dir, err);
	if (lk < 0)
		return -1;
	record_set live = {0};
	live_standins(run->dir_fd, run->journal, &live);
	int rc_all = 0;
	size_t n_skipped = 0;
	for (size_t i = 0; i < plan->n_standins && rc_all == 0; i++) {
		const srt_standin *s = &plan->standins[i];
		for (size_t j = 0; n_skipped && j < i; j++) /* beneath one that was skipped */
			if (skipped[j] && srt_path_is_within(s->path, plan->standins[j].path))
				skipped[i] = true;
		if (skipped[i]) {
			n_skipped++;
			continue;
		}
		int e = 0;
		place_result r = place_standin(run, s, &live, &e, err);
		if (r == PLACE_FAIL) {
			rc_all = -1;
			break;
		}
		if (r == PLACE_OK)
			continue;
		/* the plan's paths are resolved: a symlink on the way is one
		 * swapped in since, and skipping would leave the real path
		 * unprotected (fail closed, like mounts.c) */
		if (e == ELOOP) {
			rc_all = srt_fail(err, SRT_E_SETUP,
					  "%s: a symbolic link appeared on its path since the policy was "
					  "resolved; refusing to go on", s->path);
			break;
		}
		if (!skippable(e)) {
			rc_all = srt_fail_errno(err, SRT_E_SETUP, e, "cannot create stand-in %s", s->path);
			break;
		}
		skipped[i] = true;
		n_skipped++;
		srt_plan_skip_under(plan, s->path);
		srt_strv_push_owned(notes, srt_asprintf(
			"protected path %s cannot be pinned (%s): it sits behind a symlink or a file, or this user cannot create it either",
			s->path, strerror(e)));
	}
	free(live.v);
	return rc_all;
}

void srt_run_close(srt_run *run)
{
	if (run->journal_fd >= 0 && run->dir_fd >= 0) {
		srt_error ignored;
		int lk = lock_dir(run->dir_fd, run->dir, &ignored);
		release_held(run); /* our own shared locks would block our removal */
		/* without the lock (a stuck holder) the journal stays: unlocked
		 * once closed, a later run replays it */
		record_set live = {0};
		if (lk >= 0)
			live_standins(run->dir_fd, run->journal, &live);
		if (lk >= 0 && undo_journal(run->journal_fd, &live) == 0 && run->journal)
			unlinkat(run->dir_fd, run->journal, 0);
		free(live.v);
		if (lk >= 0)
			close(lk);
	}
	release_held(run);
	free(run->held);
	run->held = NULL;
	run->cap_held = 0;
	if (run->journal_fd >= 0) {
		close(run->journal_fd);
		run->journal_fd = -1;
	}
	if (run->dir_fd >= 0) {
		close(run->dir_fd);
		run->dir_fd = -1;
	}
	free(run->dir);
	free(run->journal);
	run->dir = run->journal = NULL;
}
