/* standins.c - run directory, journal, stand-ins, crash recovery. */
#include "standins.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#define JOURNAL_MAX (1 << 20)

static char *run_dir_path(void)
{
	return srt_asprintf("/tmp/srt-%u", (unsigned)getuid());
}

/* The run directory must be ours, a real directory, not reachable by others. */
static int ensure_run_dir(const char *dir, srt_error *err)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot create %s", dir);
	SRT_AUTOCLOSE int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot open %s", dir);
	if (st.st_uid != getuid() || (st.st_mode & 077))
		return srt_fail(err, SRT_E_SETUP,
				"%s is not private to this user (owner %u, mode %o); remove it",
				dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* ---- journal replay ------------------------------------------------ */

static const char *content_for(const char *path);

/* Still exactly what we created (so nothing the user wrote is removed)? */
static bool standin_untouched(const char *path, const struct stat *st)
{
	const char *want = content_for(path);
	size_t wl = strlen(want);
	if ((size_t)st->st_size != wl)
		return false;
	if (wl == 0)
		return true;
	char buf[16] = {0};
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n == (ssize_t)wl && memcmp(buf, want, wl) == 0;
}

static void undo_record(char type, dev_t dev, ino_t ino, const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0 || st.st_dev != dev || st.st_ino != ino)
		return; /* gone or replaced: not ours any more */
	if (type == 'd' && S_ISDIR(st.st_mode))
		rmdir(path); /* fails, and stays, when something was put in it */
	else if (type == 'f' && S_ISREG(st.st_mode) && standin_untouched(path, &st))
		unlink(path);
}

/* ---- runs alive now ------------------------------------------------ */

/* Stand-ins are shared: a run that finds another live run's stand-in
 * adopts it, and the last run using a stand-in removes it.  (Removing a
 * file that is a mount point in another run's namespace would detach that
 * run's read-only mount.)  All of this happens under one per-user lock. */
typedef struct devino {
	unsigned long long dev, ino;
} devino;

typedef struct devino_set {
	devino *v;
	size_t n, cap;
} devino_set;

static bool devino_has(const devino_set *s, unsigned long long dev, unsigned long long ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == dev && s->v[i].ino == ino)
			return true;
	return false;
}

static void devino_add(devino_set *s, unsigned long long dev, unsigned long long ino)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		devino *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (devino){dev, ino};
}

/* Call fn for each record "T DEV INO PATH" of a journal, newest first. */
static void for_each_record(int fd, void (*fn)(char, unsigned long long, unsigned long long,
					      const char *, void *), void *data)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > JOURNAL_MAX)
		return;
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return;
	ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n <= 0) {
		free(buf);
		return;
	}
	buf[n] = '\0';
	size_t count = 0;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			count++;
	char **recs = calloc(count + 1, sizeof *recs);
	if (recs) {
		size_t k = 0;
		for (char *p = buf; p < buf + n && k < count; p += strlen(p) + 1)
			recs[k++] = p;
		while (k-- > 0) {
			char type;
			unsigned long long dev, ino;
			int off = 0;
			if (sscanf(recs[k], "%c %llu %llu %n", &type, &dev, &ino, &off) == 3 &&
			    off > 0 && recs[k][off] == '/')
				fn(type, dev, ino, recs[k] + off, data);
		}
		free(recs);
	}
	free(buf);
}

static void collect(char type, unsigned long long dev, unsigned long long ino,
		    const char *path, void *data)
{
	(void)type;
	(void)path;
	devino_add(data, dev, ino);
}

/* Stand-ins listed by runs that are alive (their journal is locked), other
 * than the journal `self_fd`. */
static void live_standins(int dfd, int self_fd, devino_set *out)
{
	struct stat self;
	if (self_fd < 0 || fstat(self_fd, &self) < 0)
		self.st_ino = 0;
	DIR *d = fdopendir(dup(dfd));
	if (!d)
		return;
	rewinddir(d); /* the dup shares its offset with dfd */
	struct dirent *e;
	int budget = 4096;
	while ((e = readdir(d)) != NULL && budget-- > 0) {
		size_t l = strlen(e->d_name);
		if (strncmp(e->d_name, "run-", 4) != 0 || l < 12 ||
		    strcmp(e->d_name + l - 8, ".journal") != 0)
			continue;
		int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_ino != self.st_ino &&
		    flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
			for_each_record(fd, collect, out);
		close(fd); /* also drops a shared lock we may have taken */
	}
	closedir(d);
}

/* The per-user lock around stand-in bookkeeping. */
static int lock_dir(int dfd)
{
	int fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Mount points of other sandboxes, including other users' (whose journals
 * we do not see): a stand-in that is a mount point in any live sandbox stays.
 * Sandboxes are found by the init's process name, which is ours (init is a
 * clone of srt, it never executes anything).  Mountinfo escapes " \t\n\\"
 * as octal; so do we before comparing. */
static void escape_mountinfo(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (; *in && o + 5 < cap; in++) {
		if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\%03o", (unsigned char)*in);
		else
			out[o++] = *in;
	}
	out[o] = '\0';
}


static void sandbox_mountpoints(srt_strv *out)
{
	char self[64];
	if (!srt_read_small("/proc/self/comm", self, sizeof self))
		return;
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *e;
	int budget = 65536;
	pid_t me = getpid();
	while ((e = readdir(d)) != NULL && budget-- > 0) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == me)
			continue;
		char p[64], comm[64];
		snprintf(p, sizeof p, "/proc/%ld/comm", pid);
		if (!srt_read_small(p, comm, sizeof comm) || strcmp(comm, self) != 0)
			continue;
		snprintf(p, sizeof p, "/proc/%ld/mountinfo", pid);
		FILE *f = fopen(p, "re");
		if (!f)
			continue;
		char line[8192];
		for (int lines = 0; lines < 100000 && fgets(line, sizeof line, f); lines++) {
			/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
			char *save = NULL, *tok = strtok_r(line, " ", &save);
			for (int k = 0; tok && k < 4; k++)
				tok = strtok_r(NULL, " ", &save);
			if (tok && !srt_strv_contains(out, tok))
				srt_strv_push(out, tok);
		}
		fclose(f);
	}
	closedir(d);
}

typedef struct undo_ctx {
	const devino_set *keep;
	const srt_strv *mounted;
} undo_ctx;

static void undo_cb(char type, unsigned long long dev, unsigned long long ino,
		    const char *path, void *data)
{
	const undo_ctx *u = data;
	if (u->keep && devino_has(u->keep, dev, ino))
		return; /* another live run still relies on it */
	char esc[8192];
	escape_mountinfo(path, esc, sizeof esc);
	if (srt_strv_contains(u->mounted, esc))
		return; /* a mount point in some sandbox (maybe another user's) */
	undo_record(type, (dev_t)dev, (ino_t)ino, path);
}

/* Undo a journal's stand-ins, except those live runs still use. */
static void undo_journal(int dfd, int fd)
{
	devino_set live = {0};
	srt_strv mounted = {0};
	live_standins(dfd, fd, &live);
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		sandbox_mountpoints(&mounted);
	undo_ctx u = {.keep = &live, .mounted = &mounted};
	for_each_record(fd, undo_cb, &u);
	free(live.v);
	srt_strv_clear(&mounted);
}

static void clean_stale_locked(int dfd);

/* Remove what dead runs left behind in the run directory of this user. */
static void clean_stale(const char *dir)
{
	SRT_AUTOCLOSE int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	SRT_AUTOCLOSE int lk = lock_dir(dfd);
	if (lk < 0)
		return;
	clean_stale_locked(dfd);
}

static void clean_stale_locked(int dfd)
{
	DIR *d = fdopendir(dup(dfd));
	if (!d)
		return;
	rewinddir(d); /* the dup shares its offset with dfd */
	struct dirent *e;
	int budget = 4096; /* bounded */
	while ((e = readdir(d)) != NULL && budget-- > 0) {
		size_t l = strlen(e->d_name);
		if (strncmp(e->d_name, "run-", 4) != 0 || l < 12 ||
		    strcmp(e->d_name + l - 8, ".journal") != 0)
			continue;
		int fd = openat(dfd, e->d_name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			/* its owner is gone */
			undo_journal(dfd, fd);
			unlinkat(dfd, e->d_name, 0);
		}
		close(fd);
	}
	closedir(d);
}

int srt_run_open(srt_run *run, srt_error *err)
{
	*run = (srt_run){.journal_fd = -1, .dir_fd = -1};
	run->dir = run_dir_path();
	if (!run->dir)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	/* what crashed runs left behind; nothing to do when the directory
	 * does not exist (or is not ours: ensure_run_dir refuses it later) */
	srt_error ignored = {0};
	if (access(run->dir, F_OK) == 0 && ensure_run_dir(run->dir, &ignored) == 0)
		clean_stale(run->dir);
	return 0;
}

/* The journal is needed only when a run creates stand-ins.  It is created
 * under a name stale-run cleaners ignore, locked, then renamed into place:
 * nobody can see it unlocked. */
static int open_run_dir(srt_run *run, srt_error *err)
{
	if (run->dir_fd >= 0)
		return 0;
	if (ensure_run_dir(run->dir, err) < 0)
		return -1;
	run->dir_fd = open(run->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (run->dir_fd < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot open %s", run->dir);
	return 0;
}

static int open_journal(srt_run *run, srt_error *err)
{
	if (run->journal_fd >= 0)
		return 0;
	if (open_run_dir(run, err) < 0)
		return -1;
	SRT_AUTOFREE char *tmpname = srt_asprintf("%s/run-XXXXXX.new", run->dir);
	if (!tmpname)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	int fd = mkostemps(tmpname, 4, O_CLOEXEC);
	if (fd < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot create a journal in %s", run->dir);
	run->journal = srt_asprintf("%.*s.journal", (int)(strlen(tmpname) - 4), tmpname);
	if (!run->journal || flock(fd, LOCK_EX) < 0 || rename(tmpname, run->journal) < 0) {
		int e = errno;
		close(fd);
		unlink(tmpname);
		free(run->journal);
		run->journal = NULL;
		return srt_fail_errno(err, SRT_E_SETUP, e, "cannot create journal in %s", run->dir);
	}
	run->journal_fd = fd;
	return 0;
}

static int journal_add(srt_run *run, char type, const struct stat *st, const char *path)
{
	srt_error ignored;
	if (open_journal(run, &ignored) < 0) /* first record: create it now */
		return -1;
	char rec[4200];
	int n = snprintf(rec, sizeof rec, "%c %llu %llu %s", type, (unsigned long long)st->st_dev,
			 (unsigned long long)st->st_ino, path ? path : "");
	if (!path || n < 0 || (size_t)n >= sizeof rec) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* one write per record, NUL included */
	return write(run->journal_fd, rec, (size_t)n + 1) == n + 1 ? 0 : -1;
}

/* Open the parent directory of `path` without following symlinks. */
static int open_parent(const char *path, const char **name)
{
	char buf[4096];
	const char *slash = strrchr(path, '/');
	if (!slash || strlen(path) >= sizeof buf) {
		errno = EINVAL;
		return -1;
	}
	*name = slash + 1;
	size_t pl = slash == path ? 1 : (size_t)(slash - path);
	memcpy(buf, path, pl);
	buf[pl] = '\0';
	return srt_open_path(AT_FDCWD, buf, O_DIRECTORY, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* Stand-in files are empty, except where an empty file would break the
 * tool that reads it: git fails on an empty .git/commondir, while "."
 * names the repository itself (what a missing file means). */
static const struct {
	const char *suffix;
	const char *content;
} standin_content[] = {
	{"/.git/commondir", ".\n"},
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

/* 1: created, 0: already there, -1: cannot (errno). */
static int create_one(const char *path, bool is_dir, struct stat *st)
{
	const char *name;
	SRT_AUTOCLOSE int pfd = open_parent(path, &name);
	if (pfd < 0)
		return -1;
	int created = 0;
	if (is_dir) {
		if (mkdirat(pfd, name, 0755) == 0)
			created = 1;
		else if (errno != EEXIST)
			return -1;
	} else {
		int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0) {
			created = 1;
			const char *content = content_for(path);
			size_t cl = strlen(content);
			ssize_t w = cl ? write(fd, content, cl) : 0;
			close(fd);
			if (w != (ssize_t)cl) {
				unlinkat(pfd, name, 0);
				return -1;
			}
		} else if (errno != EEXIST) {
			return -1;
		}
	}
	/* whatever exists (a file, a directory, a symlink) is what gets the
	 * mount; only what we create has the type we chose */
	if (fstatat(pfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return created;
}

int srt_run_create_standins(srt_run *run, srt_plan *plan, srt_strv *notes,
			    srt_error *err)
{
	SRT_AUTOFREE bool *skipped = calloc(plan->n_standins + 1, sizeof *skipped);
	if (!skipped)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	if (plan->n_standins == 0)
		return 0;
	if (open_run_dir(run, err) < 0)
		return -1;
	SRT_AUTOCLOSE int lk = lock_dir(run->dir_fd);
	if (lk < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot lock %s/lock", run->dir);
	devino_set live = {0};
	live_standins(run->dir_fd, run->journal_fd, &live);
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
		struct stat st;
		/* most exist already: one lstat, no create attempt */
		int rc = lstat(s->path, &st) == 0 ? 0 : create_one(s->path, s->is_dir, &st);
		/* record what we created, and adopt another live run's stand-in
		 * (the last run using a stand-in removes it) */
		bool mine = rc == 1 || (rc == 0 && devino_has(&live, (unsigned long long)st.st_dev,
							      (unsigned long long)st.st_ino));
		if (mine && journal_add(run, S_ISDIR(st.st_mode) ? 'd' : 'f', &st, s->path) < 0) {
			int e = errno;
			/* cannot record it: remove it again and fail closed */
			if (rc == 1) {
				if (s->is_dir)
					rmdir(s->path);
				else
					unlink(s->path);
			}
			rc_all = srt_fail_errno(err, SRT_E_SETUP, e, "cannot write a journal in %s", run->dir);
			break;
		}
		if (rc >= 0)
			continue;
		int e = errno;
		/* the plan's paths are resolved: a symlink on the way is one
		 * swapped in since, and skipping would leave the real path
		 * unprotected (fail closed, like mounts.c) */
		if (e == ELOOP) {
			rc_all = srt_fail(err, SRT_E_SETUP,
					  "%s: a symbolic link appeared on its path since the policy was "
					  "resolved; refusing to go on", s->path);
			break;
		}
		if (e != ENOTDIR && e != EACCES && e != EROFS &&
		    e != EPERM && e != EEXIST && e != ENOENT && e != EXDEV) {
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
	if (run->journal_fd >= 0) {
		int lk = run->dir_fd >= 0 ? lock_dir(run->dir_fd) : -1;
		if (run->dir_fd >= 0)
			undo_journal(run->dir_fd, run->journal_fd);
		if (run->journal)
			unlink(run->journal);
		close(run->journal_fd);
		run->journal_fd = -1;
		if (lk >= 0)
			close(lk);
	}
	if (run->dir_fd >= 0) {
		close(run->dir_fd);
		run->dir_fd = -1;
	}
	free(run->dir);
	free(run->journal);
	run->dir = run->journal = NULL;
}
