/* gitfresh.c - a private git directory for a root without one, and its
 * import at exit (see gitfresh.h).  Everything here acts through
 * descriptors, never follows a symlink, and is bounded: the tree was
 * written by the command. */
#include "gitfresh.h"

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
#include <sys/xattr.h>
#include <unistd.h>

#include "gitsanitize.h"

#define NO_LINKS (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
#define CONFIG_MAX (1 << 20)
#define INDEX_MAX (64 << 20)
#define HEAD_MAX 4096
#define PASSES_MAX 8
#define STALE_MAX 4096

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int rename2(int ofd, const char *on, int nfd, const char *nn, unsigned flags)
{
	return (int)syscall(SYS_renameat2, ofd, on, nfd, nn, flags);
}

static bool dot_or_dotdot(const char *n)
{
	return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]));
}

/* Directory fd holds nothing but "." and ".." (its offset is rewound). */
static bool dir_empty(int fd)
{
	char buf[1024] __attribute__((aligned(8)));
	lseek(fd, 0, SEEK_SET);
	long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
	bool empty = n >= 0;
	for (long off = 0; empty && off < n;) {
		unsigned short reclen;
		memcpy(&reclen, buf + off + 16, sizeof reclen);
		empty = reclen > 0 && dot_or_dotdot(buf + off + 19);
		off += reclen ? reclen : 1;
	}
	lseek(fd, 0, SEEK_SET);
	return empty;
}

/* A directory entry, opened to be read: no symlink; a directory the
 * command made unreadable (mode 000) is given back to its owner first. */
static int open_dir_at(int pfd, const char *name)
{
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(pfd, name, 0700, 0) == 0)
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

/* ---- removal ----------------------------------------------------------- */

static int remove_tree(int pfd, const char *name, int depth, size_t *budget);

/* Empty directory fd (a few passes: removing while reading may skip). */
static int empty_dir(int fd, int depth, size_t *budget)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	int rc = 0;
	for (int pass = 0; pass < PASSES_MAX; pass++) {
		bool any = false;
		rewinddir(d);
		struct dirent *e;
		while (rc == 0 && (e = readdir(d)) != NULL) {
			if (dot_or_dotdot(e->d_name))
				continue;
			if (*budget == 0) {
				rc = -1;
				break;
			}
			(*budget)--;
			any = true;
			rc = remove_tree(dirfd(d), e->d_name, depth + 1, budget);
		}
		if (rc < 0 || !any)
			break;
	}
	closedir(d);
	return rc;
}

static int remove_tree(int pfd, const char *name, int depth, size_t *budget)
{
	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(pfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
	if (depth > SRT_GITFRESH_MAX_DEPTH)
		return -1;
	SRT_AUTOCLOSE int fd = open_dir_at(pfd, name);
	if (fd < 0 || empty_dir(fd, depth, budget) < 0)
		return -1;
	return unlinkat(pfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

static int remove_all(int pfd, const char *name)
{
	size_t budget = SRT_GITFRESH_MAX_ENTRIES;
	return remove_tree(pfd, name, 0, &budget);
}

/* ---- validation -------------------------------------------------------- */

static bool is_dir_at(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* A regular file (never a FIFO's open hanging, never a symlink), read
 * whole when at most `max` bytes: malloc'd, NUL-terminated. */
static char *read_regular(int dfd, const char *name, size_t max, size_t *len)
{
	SRT_AUTOCLOSE int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
						   O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max)
		return NULL;
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		ssize_t r = pread(fd, buf + n, (size_t)st.st_size - n, (off_t)n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* HEAD names a branch or an object, objects/ and refs/ are directories:
 * what git itself asks of a git directory, HEAD checked more strictly. */
static bool valid_repository(int dfd)
{
	size_t n = 0;
	SRT_AUTOFREE char *head = read_regular(dfd, "HEAD", HEAD_MAX, &n);
	return head && srt_git_head_valid(head, n) && is_dir_at(dfd, "objects") &&
	       is_dir_at(dfd, "refs");
}

/* ---- sanitizing, in the private directory ------------------------------ */

/* Write `text` as `name` in dfd (a new file, then renamed over). */
static int write_file(int dfd, const char *name, const char *text, size_t len)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s.srt-new", name);
	unlinkat(dfd, tmp, 0);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w <= 0) {
			close(fd);
			unlinkat(dfd, tmp, 0);
			return -1;
		}
		off += (size_t)w;
	}
	close(fd);
	if (remove_all(dfd, name) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
		unlinkat(dfd, tmp, 0);
		return -1;
	}
	return 0;
}

/* Symlinks and special files anywhere are removed, set-id bits and write
 * permission for group and others dropped (a world-writable refs/ or HEAD
 * would let any local user rewrite the repository on the host; red team);
 * -1 when the tree is beyond the bounds. */
#define IMPORT_DROP 07022
#define IMPORT_KEEP 0755

static int prune(int dfd, int depth, size_t *budget)
{
	if (depth > SRT_GITFRESH_MAX_DEPTH)
		return -1;
	int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	rewinddir(d);
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (dot_or_dotdot(e->d_name))
			continue;
		if (*budget == 0) {
			rc = -1;
			break;
		}
		(*budget)--;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			SRT_AUTOCLOSE int cfd = open_dir_at(dirfd(d), e->d_name);
			rc = cfd < 0 ? -1 : prune(cfd, depth + 1, budget);
			if (rc == 0 && (st.st_mode & IMPORT_DROP))
				rc = fchmod(cfd, st.st_mode & IMPORT_KEEP);
		} else if (!S_ISREG(st.st_mode)) {
			rc = unlinkat(dirfd(d), e->d_name, 0);
		} else if (st.st_mode & IMPORT_DROP) {
			rc = fchmodat(dirfd(d), e->d_name, st.st_mode & IMPORT_KEEP, 0);
		}
	}
	closedir(d);
	return rc;
}

/* Hooks the command wrote itself (git init's *.sample files aside). */
static size_t own_hooks(int dfd, char *first, size_t cap)
{
	SRT_AUTOCLOSE int hfd = openat(dfd, "hooks", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int dup_fd = hfd >= 0 ? fcntl(hfd, F_DUPFD_CLOEXEC, 0) : -1;
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return 0;
	}
	size_t n = 0;
	struct dirent *e;
	for (int budget = 4096; budget-- > 0 && (e = readdir(d)) != NULL;) {
		size_t l = strlen(e->d_name);
		if (dot_or_dotdot(e->d_name) || (l > 7 && strcmp(e->d_name + l - 7, ".sample") == 0))
			continue;
		if (n++ == 0) {
			snprintf(first, cap, "%.60s", e->d_name);
			for (char *c = first; *c; c++)
				if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
					*c = '?';
		}
	}
	closedir(d);
	return n;
}

/* No entry `name` in dfd, or an empty directory (never a symlink followed). */
static bool dir_absent_or_empty(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT;
	if (!S_ISDIR(st.st_mode))
		return false;
	SRT_AUTOCLOSE int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd >= 0 && dir_empty(fd);
}

static void note(srt_strv *notes, char *msg)
{
	if (msg)
		srt_strv_push_owned(notes, msg);
}

/* Make the private directory dfd what may reach the host. */
static int sanitize(int dfd, const char *shown, bool keep_config, srt_strv *notes)
{
	char hook[64] = "";
	size_t n_hooks = own_hooks(dfd, hook, sizeof hook);
	static const char *const dropped[] = {"hooks", "commondir", "config.worktree", "modules",
					      "worktrees", "rebase-merge", "sequencer", "remotes",
					      "branches"};
	/* an interactive rebase the command left stopped: its todo list's
	 * "exec" lines run on the host at `git rebase --continue`, which git
	 * status asks for (red team) */
	struct stat rst;
	bool rebase = fstatat(dfd, "rebase-merge", &rst, AT_SYMLINK_NOFOLLOW) == 0;
	/* a cherry-pick or revert left stopped: sequencer/opts names the merge
	 * strategy, and `git cherry-pick --continue` (git status asks for it)
	 * runs "git-merge-<strategy>", a path into the workspace when it holds
	 * a '/' (red team) */
	bool sequencer = fstatat(dfd, "sequencer", &rst, AT_SYMLINK_NOFOLLOW) == 0;
	/* remotes defined in the legacy files remotes/NAME ("URL: ...") and
	 * branches/NAME ("URL#branch"), which the config's remote.*.url check
	 * never sees: a path to a bare repository planted in the workspace
	 * runs its hooks at `git push` (red team).  git init's template makes
	 * an empty branches/: only entries are worth a note. */
	bool legacy = !dir_absent_or_empty(dfd, "remotes") || !dir_absent_or_empty(dfd, "branches");
	for (size_t i = 0; i < sizeof dropped / sizeof *dropped; i++)
		if (remove_all(dfd, dropped[i]) < 0)
			return -1;
	if (mkdirat(dfd, "hooks", 0755) < 0)
		return -1;
	size_t len = 0;
	SRT_AUTOFREE char *cfg = read_regular(dfd, "config", CONFIG_MAX, &len);
	srt_gitcfg_clean clean;
	if (srt_gitcfg_sanitize(cfg ? cfg : "", cfg ? len : 0, keep_config, &clean) < 0)
		return -1;
	int rc = write_file(dfd, "config", clean.text, clean.len);
	size_t budget = SRT_GITFRESH_MAX_ENTRIES;
	if (rc == 0)
		rc = prune(dfd, 0, &budget);
	if (rc == 0 && rebase)
		note(notes, srt_asprintf("%s: the interactive rebase the command left in progress was "
					 "dropped (its todo list can run commands on the host)", shown));
	if (rc == 0 && sequencer)
		note(notes, srt_asprintf("%s: the cherry-pick or revert the command left in progress was "
					 "dropped (its options can run a program on the host)", shown));
	if (rc == 0 && legacy)
		note(notes, srt_asprintf("%s: the remotes defined in the legacy remotes/ and branches/ "
					 "files were dropped (define remotes in the config)", shown));
	if (rc == 0 && n_hooks)
		note(notes, srt_asprintf("%s: the new repository's hooks were dropped (%s%s)", shown, hook,
					 n_hooks > 1 ? " and more" : ""));
	if (rc == 0 && clean.n_dropped) {
		char list[512] = "";
		size_t shown_n = clean.n_dropped < 8 ? clean.n_dropped : 8;
		for (size_t i = 0; i < shown_n; i++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
				 clean.dropped[i]);
		note(notes, srt_asprintf(keep_config
					 ? "%s: %zu setting%s of the new repository's config that make git "
					   "run programs kept as written (allowGitConfig): %s%s"
					 : "%s: %zu setting%s of the new repository's config dropped "
					   "(they can run programs on the host): %s%s",
					 shown, clean.n_dropped, clean.n_dropped == 1 ? "" : "s", list,
					 clean.n_dropped > shown_n ? ", ..." : ""));
	}
	srt_gitcfg_clean_free(&clean);
	return rc;
}

/* ---- copying (another file system) ------------------------------------- */

static int copy_file(int sfd, const char *name, int dfd, mode_t mode)
{
	SRT_AUTOCLOSE int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
						 O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
		return 0; /* vanished or not a file: not copied */
	SRT_AUTOCLOSE int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				       mode & IMPORT_KEEP);
	if (out < 0)
		return -1;
	for (off_t left = st.st_size; left > 0;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
			char buf[65536];
			n = read(in, buf, sizeof buf);
			if (n > 0 && write(out, buf, (size_t)n) != n)
				return -1;
		}
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		left -= n;
	}
	return fchmod(out, mode & IMPORT_KEEP);
}

/* Copy the entries of directory sfd into directory dfd; at the top, HEAD
 * last: until it exists git does not take the directory for a repository. */
static int copy_tree(int sfd, int dfd, int depth, size_t *budget)
{
	if (depth > SRT_GITFRESH_MAX_DEPTH)
		return -1;
	int dup_fd = fcntl(sfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	rewinddir(d);
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (dot_or_dotdot(e->d_name) || (depth == 0 && strcmp(e->d_name, "HEAD") == 0))
			continue;
		if (*budget == 0) {
			rc = -1;
			break;
		}
		(*budget)--;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			rc = copy_file(dirfd(d), e->d_name, dfd, st.st_mode);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dfd, e->d_name, 0700) < 0) {
				rc = -1;
				break;
			}
			SRT_AUTOCLOSE int cs = open_dir_at(dirfd(d), e->d_name);
			SRT_AUTOCLOSE int cd = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
								     O_CLOEXEC);
			rc = cs < 0 || cd < 0 ? -1 : copy_tree(cs, cd, depth + 1, budget);
			if (rc == 0)
				rc = fchmod(cd, (st.st_mode & IMPORT_KEEP) | 0700);
		}
	}
	closedir(d);
	if (rc == 0 && depth == 0) {
		struct stat st;
		if (fstatat(sfd, "HEAD", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			return -1;
		rc = copy_file(sfd, "HEAD", dfd, st.st_mode);
	}
	return rc;
}

/* ---- placing ------------------------------------------------------------ */

/* The stand-in at <root>/.git (open as fd) may be replaced: a directory,
 * empty, srt's mark, and no other live run holds it (LOCK_SH, standins.c). */
static bool standin_replaceable(int fd)
{
	struct stat st;
	char v[16];
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return false;
	const size_t ml = sizeof SRT_STANDIN_MARK_VALUE - 1;
	ssize_t m = fgetxattr(fd, SRT_STANDIN_MARK_NAME, v, sizeof v);
	bool marked = (m == (ssize_t)ml && memcmp(v, SRT_STANDIN_MARK_VALUE, ml) == 0) ||
		      (m < 0 && errno == ENOTSUP);
	return marked && dir_empty(fd);
}

/* Import private directory `name` (in run directory rfd, open as sfd) at
 * op->path.  1: imported, 0: kept aside (note), -1: failed (note). */
static int place(int rfd, const char *name, int sfd, const char *target, srt_strv *notes)
{
	const char *slash = strrchr(target, '/');
	char parent[4096];
	if (!slash || (size_t)(slash - target) >= sizeof parent)
		return -1;
	size_t pl = slash == target ? 1 : (size_t)(slash - target);
	memcpy(parent, target, pl);
	parent[pl] = '\0';
	SRT_AUTOCLOSE int pfd = srt_open_path(AT_FDCWD, parent, O_DIRECTORY, NO_LINKS);
	if (pfd < 0)
		return -1;
	SRT_AUTOCLOSE int dfd = openat(pfd, ".git", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT) {
		/* the stand-in was removed meanwhile: the name is free */
		if (rename2(rfd, name, pfd, ".git", RENAME_NOREPLACE) == 0) {
			fchmod(sfd, 0755);
			return 1;
		}
		if (errno != EXDEV || mkdirat(pfd, ".git", 0755) < 0)
			return 0;
		dfd = openat(pfd, ".git", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0 || flock(dfd, LOCK_EX | LOCK_NB) < 0)
			return 0;
	} else if (dfd < 0 || !standin_replaceable(dfd)) {
		return 0; /* someone else's .git (or one another sandbox uses) */
	} else if (rename2(rfd, name, pfd, ".git", RENAME_EXCHANGE) == 0) {
		/* the empty stand-in is now `name` in the run directory */
		unlinkat(rfd, name, AT_REMOVEDIR);
		fchmod(sfd, 0755);
		return 1;
	} else if (errno != EXDEV) {
		return -1;
	}
	size_t budget = SRT_GITFRESH_MAX_ENTRIES;
	if (copy_tree(sfd, dfd, 0, &budget) < 0) {
		/* not a repository without HEAD: empty it again */
		size_t b2 = SRT_GITFRESH_MAX_ENTRIES;
		empty_dir(dfd, 0, &b2);
		note(notes, srt_asprintf("%s: the new repository could not be copied there: %s",
					 target, strerror(errno)));
		return -1;
	}
	fremovexattr(dfd, SRT_STANDIN_MARK_NAME); /* the user's repository now, no stand-in */
	fchmod(dfd, 0755);
	return 1;
}

/* ---- the run's side ------------------------------------------------------ */

static char *private_name(const srt_run *run, size_t i)
{
	size_t bl = strlen(run->journal) - strlen(".journal");
	return srt_asprintf("%.*s.git%zu", (int)bl, run->journal, i);
}

int srt_gitfresh_prepare(srt_run *run, srt_plan *plan, srt_error *err)
{
	for (size_t i = 0; i < plan->n_ops; i++) {
		srt_mount_op *o = &plan->ops[i];
		if (!o->fresh_git || o->skip || o->source)
			continue;
		if (srt_run_journal(run) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot write a journal in %s",
					      run->dir);
		SRT_AUTOFREE char *name = private_name(run, i);
		if (!name)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		if (mkdirat(run->dir_fd, name, 0700) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot create %s/%s", run->dir,
					      name);
		o->source = srt_path_join(run->dir, name);
		if (!o->source)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	return 0;
}

/* The index names no gitlink: a repository the command made in a
 * subdirectory, registered in the new one's index, would make a plain
 * host `git status` at the top recurse into it and obey its config (the
 * subdirectory's own .git is the open "created during the run" case). */
static bool index_ok(int dfd)
{
	struct stat st;
	if (fstatat(dfd, "index", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return true; /* none, or not a file (dropped with the other special files) */
	size_t n = 0;
	SRT_AUTOFREE char *ix = read_regular(dfd, "index", INDEX_MAX, &n);
	if (!ix)
		return false;
	int r = srt_git_index_has_gitlink((const unsigned char *)ix, n, 20);
	if (r < 0)
		r = srt_git_index_has_gitlink((const unsigned char *)ix, n, 32);
	return r == 0;
}

/* Put private directory `name` where no clean-up removes it, and say so. */
static bool keep_aside(const srt_run *run, const char *name, const char *target, const char *why,
		       srt_strv *notes)
{
	SRT_AUTOFREE char *kept = srt_asprintf("kept-%s", name);
	if (!kept || renameat(run->dir_fd, name, run->dir_fd, kept) < 0)
		return false;
	note(notes, srt_asprintf("%s: %s; the repository the command created there was kept at %s/%s",
				 target, why, run->dir, kept));
	return true;
}

void srt_gitfresh_finish(srt_run *run, srt_plan *plan, bool keep_config, srt_strv *notes)
{
	for (size_t i = 0; i < plan->n_ops; i++) {
		srt_mount_op *o = &plan->ops[i];
		if (!o->source)
			continue;
		SRT_AUTOFREE char *src = srt_steal_ptr(&o->source);
		const char *name = strrchr(src, '/') + 1;
		if (run->dir_fd < 0)
			continue;
		SRT_AUTOCLOSE int sfd = open_dir_at(run->dir_fd, name);
		if (sfd < 0)
			continue;
		if (!valid_repository(sfd)) {
			if (!dir_empty(sfd))
				note(notes, srt_asprintf("%s: what the command wrote there was discarded "
							 "(not a valid git repository)", o->path));
		} else if (!index_ok(sfd)) {
			if (keep_aside(run, name, o->path,
				       "its index names an embedded repository (a gitlink), whose "
				       "config host git would obey; not imported", notes))
				continue;
		} else if (sanitize(sfd, o->path, keep_config, notes) < 0) {
			note(notes, srt_asprintf("%s: the new repository was not imported (it is larger "
						 "than srt copies, or could not be cleaned)", o->path));
		} else if (place(run->dir_fd, name, sfd, o->path, notes) <= 0 &&
			   keep_aside(run, name, o->path,
				      "a .git appeared there on the host during the run (or another "
				      "sandbox uses it)", notes)) {
			continue;
		}
		remove_all(run->dir_fd, name);
	}
}

/* "run-XXXXXX.gitN": the length of its journal's base, or 0. */
static size_t private_base(const char *name)
{
	const char *g = strstr(name, ".git");
	if (strncmp(name, "run-", 4) != 0 || !g || !g[4] || strspn(g + 4, "0123456789") != strlen(g + 4))
		return 0;
	return (size_t)(g - name);
}

void srt_gitfresh_remove_orphans(int dfd)
{
	int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return;
	}
	rewinddir(d);
	struct dirent *e;
	char names[16][64];
	size_t n = 0;
	for (int budget = STALE_MAX; n < 16 && budget-- > 0 && (e = readdir(d)) != NULL;) {
		size_t bl = private_base(e->d_name);
		char journal[80];
		if (!bl || strlen(e->d_name) >= sizeof names[0])
			continue;
		snprintf(journal, sizeof journal, "%.*s.journal", (int)bl, e->d_name);
		if (faccessat(dfd, journal, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			snprintf(names[n++], sizeof names[0], "%s", e->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		remove_all(dfd, names[i]);
}

void srt_gitfresh_remove_stale(int dfd, const char *journal_name)
{
	size_t jl = strlen(journal_name), sl = strlen(".journal");
	if (jl <= sl)
		return;
	size_t bl = jl - sl;
	int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return;
	}
	rewinddir(d);
	struct dirent *e;
	char names[16][64];
	size_t n = 0;
	for (int budget = STALE_MAX; n < 16 && budget-- > 0 && (e = readdir(d)) != NULL;)
		if (private_base(e->d_name) == bl && strncmp(e->d_name, journal_name, bl) == 0 &&
		    strlen(e->d_name) < sizeof names[0])
			snprintf(names[n++], sizeof names[0], "%s", e->d_name);
	closedir(d);
	for (size_t i = 0; i < n; i++)
		remove_all(dfd, names[i]);
}
