/* mandatory.c - the mandatory deny list (SPEC §4) and the search for it
 * below a writable root.
 *
 * The search runs at every sandbox start over possibly large trees, so it
 * reads each directory once (openat + fdopendir), decides from d_type
 * (fstatat only when the file system reports DT_UNKNOWN), keeps the current
 * path in one fixed buffer and allocates only for paths it returns.  It
 * never follows a symlink.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mandatory.h"

#include "pathindex.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MANDATORY_COUNT 19

const srt_mandatory_name srt_mandatory_names[MANDATORY_COUNT] = {
	{ ".bashrc", false },
	{ ".bash_profile", false },
	{ ".zshrc", false },
	{ ".zprofile", false },
	{ ".profile", false },
	{ ".gitconfig", false },
	{ ".gitmodules", false },
	{ ".ripgreprc", false },
	{ ".mcp.json", false },
	{ ".vscode", true },
	{ ".idea", true },
	{ ".claude/commands", true },
	{ ".claude/agents", true },
	/* Claude Code's project settings define hooks: shell commands it runs
	 * on the host (a stand-in holds "{}", see standins.c) */
	{ ".claude/settings.json", false },
	{ ".claude/settings.local.json", false },
	{ ".git/hooks", true },
	{ ".git/config", false },
	/* beyond the spec's list: git reads these too, and a planted one
	 * redirects it to attacker-controlled config (found by our tests).
	 * config.worktree is read when .git/config enables
	 * extensions.worktreeConfig, which `git config extensions.worktreeConfig
	 * true` does without creating the file: a missing one gets a stand-in
	 * too, or the command creates it with a core.fsmonitor (red team). */
	{ ".git/config.worktree", false },
	/* (its stand-in holds ".", see standins.c: an empty one breaks git) */
	{ ".git/commondir", false },
};
const size_t srt_mandatory_name_count = MANDATORY_COUNT;

/* The "seen at the root" set is a bit mask over the table. */
_Static_assert(MANDATORY_COUNT <= 32, "table too large for the seen mask");

#define SCAN_MAX_DEPTH 10

typedef struct scan {
	char path[PATH_MAX]; /* directory being read; "" stands for "/" */
	size_t len;
	int depth;
	srt_protected *v;    /* results of this call */
	size_t n, cap;
	uint32_t seen_at_root; /* table entries whose first component exists */
	const srt_pathindex *skip; /* directories never entered, or NULL */
	srt_error *err;
} scan;

static void protected_vec_free(srt_protected *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

void srt_protected_list_clear(srt_protected_list *l)
{
	if (!l)
		return;
	protected_vec_free(l->v, l->n);
	l->v = NULL;
	l->n = 0;
}

size_t srt_mandatory_allow_git_config(srt_protected_list *l, srt_strv *dropped)
{
	static const char suffix[] = "/.git/config";
	const size_t sl = sizeof suffix - 1;
	size_t kept = 0, n = l->n;
	for (size_t i = 0; i < n; i++) {
		size_t pl = strlen(l->v[i].path);
		if (pl >= sl && strcmp(l->v[i].path + pl - sl, suffix) == 0) {
			/* out of memory: the path is only not watched */
			if (!dropped || srt_strv_push_owned(dropped, l->v[i].path) < 0)
				free(l->v[i].path);
		} else
			l->v[kept++] = l->v[i];
	}
	l->n = kept;
	return n - kept;
}

/* Return s->path + "/" + rel, protected. */
static int emit(scan *s, const char *rel, bool exists, bool is_dir)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		srt_protected *nv = realloc(s->v, cap * sizeof *nv);
		if (!nv)
			return srt_fail(s->err, SRT_E_NOMEM, "out of memory");
		s->v = nv;
		s->cap = cap;
	}
	char *p = srt_asprintf("%.*s/%s", (int)s->len, s->path, rel);
	if (!p)
		return srt_fail(s->err, SRT_E_NOMEM, "out of memory");
	s->v[s->n++] = (srt_protected){ .path = p, .is_dir = is_dir,
					.exists = exists };
	return 0;
}

/* Length of the first component of a table entry. */
static size_t top_len(const char *rel)
{
	return strcspn(rel, "/");
}

enum match_kind {
	MATCH_NONE,
	MATCH_PROTECTED, /* the name itself is in the table */
	MATCH_CONTAINER, /* ".git", ".claude": only children are in the table */
};

static enum match_kind classify(const char *name, size_t nlen)
{
	for (size_t i = 0; i < MANDATORY_COUNT; i++) {
		const char *rel = srt_mandatory_names[i].rel;
		size_t tl = top_len(rel);
		if (tl == nlen && memcmp(rel, name, nlen) == 0)
			return rel[tl] ? MATCH_CONTAINER : MATCH_PROTECTED;
	}
	return MATCH_NONE;
}

static void mark_seen(scan *s, const char *name, size_t nlen)
{
	for (size_t i = 0; i < MANDATORY_COUNT; i++) {
		const char *rel = srt_mandatory_names[i].rel;
		if (top_len(rel) == nlen && memcmp(rel, name, nlen) == 0)
			s->seen_at_root |= UINT32_C(1) << i;
	}
}

/* d_type, or fstatat's answer when the file system gives DT_UNKNOWN.
 * False when the entry vanished meanwhile. */
static bool entry_type(int dfd, const char *name, unsigned char *dtype)
{
	if (*dtype != DT_UNKNOWN)
		return true;
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	*dtype = (unsigned char)IFTODT(st.st_mode);
	return true;
}

static int check_submodules(scan *s, int gfd);
static int check_worktrees(scan *s, int gfd);

/* Child `child` of directory `dfd`, named by the table entry `g` and
 * reported as `rel`: protected as it is when it exists, else by a stand-in
 * (unless only_existing).  Returns 0, -1 with the error set, or 1 with
 * errno set when it cannot be told (the caller protects more). */
static int protect_child(scan *s, int dfd, const char *child, const char *rel,
			 const srt_mandatory_name *g)
{
	struct stat st;
	if (fstatat(dfd, child, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return emit(s, rel, true, S_ISDIR(st.st_mode));
	if (errno != ENOENT)
		return 1;
	return g->only_existing ? 0 : emit(s, rel, false, g->is_dir);
}

/* An existing, real ".git" or ".claude" directory: its protected children,
 * existing or not.  If it cannot be looked into, the whole directory is
 * protected instead (the sandboxed user could chmod it and then write). */
static int check_container(scan *s, int dfd, const char *name, size_t nlen)
{
	SRT_AUTOCLOSE int cfd = openat(dfd, name, O_PATH | O_DIRECTORY |
					O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0) {
		if (errno == ENOENT)
			return 0;
		/* Replaced by a symlink or file meanwhile: protect that. */
		bool dir = errno != ELOOP && errno != ENOTDIR;
		return emit(s, name, true, dir);
	}
	size_t first = s->n;
	for (size_t i = 0; i < MANDATORY_COUNT; i++) {
		const char *rel = srt_mandatory_names[i].rel;
		size_t tl = top_len(rel);
		if (tl != nlen || memcmp(rel, name, nlen) != 0 || !rel[tl])
			continue;
		int r = protect_child(s, cfd, rel + tl + 1, rel, &srt_mandatory_names[i]);
		if (r < 0)
			return -1;
		if (r > 0) {
			/* Cannot tell: drop the children, protect the whole. */
			int e = errno;
			for (size_t k = first; k < s->n; k++)
				free(s->v[k].path);
			s->n = first;
			if (e == EACCES)
				return emit(s, name, true, true);
			return srt_fail_errno(s->err, SRT_E_SYSTEM, e,
					      "cannot examine \"%.*s/%s\"",
					      (int)s->len, s->path, rel);
		}
	}
	if (nlen == 4 && memcmp(name, ".git", 4) == 0) {
		if (check_worktrees(s, cfd) < 0)
			return -1;
		return check_submodules(s, cfd);
	}
	return 0;
}

/* ---- submodules ------------------------------------------------------
 * A submodule's git directory lives at .git/modules/<name> (a name may
 * contain slashes; nested submodules add <gitdir>/modules/...).  Its hooks
 * and config run code on the host exactly like .git/hooks and .git/config,
 * so they are protected the same way.  A git directory is recognised by its
 * HEAD file; other directories on the way are walked, bounded. */

#define MODULES_MAX_DEPTH 8
#define MODULES_MAX_ENTRIES 4096

static const srt_mandatory_name gitdir_names[] = {
	{ "hooks", true },
	{ "config", false },
	{ "config.worktree", false }, /* missing too: see .git/config.worktree */
	{ "commondir", false, .only_existing = true },
};

static int walk_modules(scan *s, int dfd, char *rel, size_t rlen, int depth, size_t *budget);

/* Protect what git runs from the git directory `rel` (open as gfd), then
 * walk its own modules/. */
static int protect_gitdir(scan *s, int gfd, char *rel, size_t rlen, int depth, size_t *budget)
{
	for (size_t i = 0; i < sizeof gitdir_names / sizeof *gitdir_names; i++) {
		const srt_mandatory_name *g = &gitdir_names[i];
		char sub[PATH_MAX];
		if ((size_t)snprintf(sub, sizeof sub, "%.*s/%s", (int)rlen, rel, g->rel) >= sizeof sub)
			return srt_fail_errno(s->err, SRT_E_POLICY, ENAMETOOLONG, "submodule path too long");
		int r = protect_child(s, gfd, g->rel, sub, g);
		if (r < 0)
			return -1;
		if (r > 0) /* cannot tell: protect the whole git directory */
			return emit(s, rel, true, true);
	}
	SRT_AUTOCLOSE int mfd = openat(gfd, "modules", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mfd < 0)
		return 0;
	if (rlen + sizeof "/modules" >= PATH_MAX)
		return srt_fail_errno(s->err, SRT_E_POLICY, ENAMETOOLONG, "submodule path too long");
	memcpy(rel + rlen, "/modules", sizeof "/modules");
	int rc = walk_modules(s, mfd, rel, rlen + sizeof "/modules" - 1, depth + 1, budget);
	rel[rlen] = '\0';
	return rc;
}

/* Each directory below a modules/ directory: a git directory, or a level
 * of a submodule name with slashes. */
static int walk_modules(scan *s, int dfd, char *rel, size_t rlen, int depth, size_t *budget)
{
	if (depth > MODULES_MAX_DEPTH)
		return 0;
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		const char *name = e->d_name;
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		if (*budget == 0)
			break;
		(*budget)--;
		unsigned char dt = e->d_type;
		if (!entry_type(dirfd(d), name, &dt) || dt != DT_DIR)
			continue;
		size_t nlen = strlen(name);
		if (rlen + 1 + nlen >= PATH_MAX) {
			rc = srt_fail_errno(s->err, SRT_E_POLICY, ENAMETOOLONG, "submodule path too long");
			break;
		}
		SRT_AUTOCLOSE int cfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue;
		rel[rlen] = '/';
		memcpy(rel + rlen + 1, name, nlen + 1);
		struct stat st;
		if (fstatat(cfd, "HEAD", &st, AT_SYMLINK_NOFOLLOW) == 0)
			rc = protect_gitdir(s, cfd, rel, rlen + 1 + nlen, depth, budget);
		else
			rc = walk_modules(s, cfd, rel, rlen + 1 + nlen, depth + 1, budget);
		rel[rlen] = '\0';
	}
	closedir(d);
	return rc;
}

/* The git directory ".git" (open as gfd) of a repository: its submodules'. */
static int check_submodules(scan *s, int gfd)
{
	SRT_AUTOCLOSE int mfd = openat(gfd, "modules", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mfd < 0)
		return 0;
	char rel[PATH_MAX] = ".git/modules";
	size_t budget = MODULES_MAX_ENTRIES;
	return walk_modules(s, mfd, rel, strlen(rel), 1, &budget);
}

/* ---- linked worktrees ------------------------------------------------
 * `git worktree add` keeps an administrative directory per worktree in
 * .git/worktrees/<name>: its commondir names the repository whose config
 * and hooks git uses there, gitdir links back, config.worktree adds
 * config.  Rewritten, commondir points git on the host at a planted
 * repository; they are protected as they are (only when present: a missing
 * one breaks nothing, and new worktrees can still be added). */

#define WORKTREES_MAX_ENTRIES 4096

static const srt_mandatory_name worktree_names[] = {
	{ "commondir", false, .only_existing = true },
	{ "gitdir", false, .only_existing = true },
	/* missing too (see .git/config.worktree above) */
	{ "config.worktree", false },
};

static int check_worktrees(scan *s, int gfd)
{
	int fd = openat(gfd, "worktrees", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int rc = 0;
	size_t budget = WORKTREES_MAX_ENTRIES;
	struct dirent *e;
	while (rc == 0 && budget-- > 0 && (e = readdir(d))) {
		const char *name = e->d_name;
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		SRT_AUTOCLOSE int wfd = openat(dirfd(d), name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (wfd < 0)
			continue;
		for (size_t i = 0; rc == 0 && i < sizeof worktree_names / sizeof *worktree_names; i++) {
			char rel[PATH_MAX];
			if ((size_t)snprintf(rel, sizeof rel, ".git/worktrees/%s/%s", name,
					     worktree_names[i].rel) >= sizeof rel) {
				rc = srt_fail_errno(s->err, SRT_E_POLICY, ENAMETOOLONG, "worktree path too long");
				break;
			}
			int r = protect_child(s, wfd, worktree_names[i].rel, rel, &worktree_names[i]);
			if (r < 0)
				rc = -1;
			else if (r > 0) { /* cannot tell: the whole administrative directory */
				char whole[PATH_MAX];
				snprintf(whole, sizeof whole, ".git/worktrees/%s", name);
				rc = emit(s, whole, true, true);
				break;
			}
		}
	}
	closedir(d);
	return rc;
}

static int scan_dir(scan *s, int fd, int level);

/* Enter subdirectory `name` of dfd (never through a symlink), unless it
 * is one of the directories to skip. */
static int descend(scan *s, int dfd, const char *name, size_t nlen, int level)
{
	if (s->len + 1 + nlen >= sizeof s->path)
		return srt_fail_errno(s->err, SRT_E_POLICY, ENAMETOOLONG,
				      "cannot search \"%.*s/%s\" for protected files",
				      (int)s->len, s->path, name);
	size_t saved = s->len;
	s->path[s->len++] = '/';
	memcpy(s->path + s->len, name, nlen + 1);
	s->len += nlen;
	int rc = 0;
	if (!s->skip || !srt_pathindex_get(s->skip, s->path, s->len, NULL)) {
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		if (fd >= 0)
			rc = scan_dir(s, fd, level + 1);
		/* Unreadable: cannot be written either.  Vanished or swapped
		 * for a symlink: nothing to protect there. */
		else if (e != EACCES && e != EPERM && e != ENOENT && e != ENOTDIR && e != ELOOP)
			rc = srt_fail_errno(s->err, SRT_E_SYSTEM, e, "cannot open \"%s\"", s->path);
	}
	s->len = saved;
	s->path[saved] = '\0';
	return rc;
}

/* One directory entry of scan_dir. */
static int scan_entry(scan *s, int dfd, const char *name, unsigned char dtype, int level,
		      bool may_descend)
{
	enum match_kind kind = MATCH_NONE;
	size_t nlen = 0;

	if (name[0] == '.') {
		if (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))
			return 0;
		nlen = strlen(name);
		kind = classify(name, nlen);
	}
	if (kind == MATCH_NONE) {
		/* The common case: no allocation, no stat when d_type is
		 * known. */
		if (!may_descend)
			return 0;
		if (!entry_type(dfd, name, &dtype) || dtype != DT_DIR)
			return 0;
		if (!nlen)
			nlen = strlen(name);
		return descend(s, dfd, name, nlen, level);
	}
	if (!entry_type(dfd, name, &dtype))
		return 0;
	if (level == 0)
		mark_seen(s, name, nlen);
	if (kind == MATCH_PROTECTED)
		/* Not descended into; a symlink is protected as the link
		 * itself. */
		return emit(s, name, true, dtype == DT_DIR);
	if (dtype == DT_DIR)
		return check_container(s, dfd, name, nlen);
	/* A ".git" file (worktree, submodule) or a symlink: its children
	 * cannot exist without replacing it, and rewriting it could point git
	 * elsewhere, so it is protected itself. */
	return emit(s, name, true, false);
}

/* One entry of getdents64(2) (glibc has no wrapper on Debian 12). */
struct dirent64_raw {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Read directory fd (taken over) at `level` below the root.  getdents64
 * directly: no DIR allocation and none of fdopendir's fstat and fcntl
 * calls, which add up over thousands of directories. */
static int scan_dir(scan *s, int fd, int level)
{
	char buf[16384] __attribute__((aligned(8)));
	int dfd = fd;
	int rc = 0;
	bool may_descend = level < s->depth;
	for (;;) {
		long got = syscall(SYS_getdents64, dfd, buf, sizeof buf);
		if (got < 0) {
			/* Failing half-way would silently miss protected
			 * files: an error, not a skip. */
			rc = srt_fail_errno(s->err, SRT_E_SYSTEM, errno, "cannot read \"%s\"",
					    s->len ? s->path : "/");
			break;
		}
		if (got == 0)
			break;
		for (long off = 0; off < got && rc >= 0;) {
			struct dirent64_raw *de = (struct dirent64_raw *)(void *)(buf + off);
			off += de->d_reclen;
			rc = scan_entry(s, dfd, de->d_name, de->d_type, level, may_descend);
		}
		if (rc < 0)
			break;
	}
	close(fd);
	return rc;
}

static int cmp_protected(const void *a, const void *b)
{
	const srt_protected *x = a, *y = b;
	return strcmp(x->path, y->path);
}

static int cmp_strp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	return strcmp(*x, *y);
}

/* Sort this call's results (a path sorts before every path below it, so
 * parents come first), drop duplicates, and append the ones `out` does not
 * hold yet.  On failure `out` is unchanged. */
static int append_results(scan *s, srt_protected_list *out)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, cmp_protected);
	SRT_AUTOFREE const char **idx = NULL;
	if (out->n > 0) {
		idx = malloc(out->n * sizeof *idx);
		if (!idx)
			return srt_fail(s->err, SRT_E_NOMEM, "out of memory");
		for (size_t i = 0; i < out->n; i++)
			idx[i] = out->v[i].path;
		qsort(idx, out->n, sizeof *idx, cmp_strp);
	}
	size_t keep = 0;
	for (size_t i = 0; i < s->n; i++) {
		const char *key = s->v[i].path;
		bool dup = (keep > 0 && strcmp(key, s->v[keep - 1].path) == 0) ||
			   (idx && bsearch(&key, idx, out->n, sizeof *idx, cmp_strp));
		if (dup) {
			free(s->v[i].path);
			continue;
		}
		s->v[keep++] = s->v[i];
	}
	s->n = keep;
	if (keep == 0)
		return 0;
	srt_protected *nv = realloc(out->v, (out->n + keep) * sizeof *nv);
	if (!nv)
		return srt_fail(s->err, SRT_E_NOMEM, "out of memory");
	out->v = nv;
	memcpy(out->v + out->n, s->v, keep * sizeof *nv);
	out->n += keep;
	s->n = 0;
	return 0;
}

int srt_mandatory_scan(const char *root, int depth, srt_protected_list *out,
		       srt_error *err)
{
	return srt_mandatory_scan_skipping(root, depth, NULL, out, err);
}

int srt_mandatory_scan_skipping(const char *root, int depth, const srt_strv *skip,
				srt_protected_list *out, srt_error *err)
{
	if (!root || !out)
		return srt_fail(err, SRT_E_INVALID, "srt_mandatory_scan: NULL argument");
	if (root[0] != '/')
		return srt_fail(err, SRT_E_INVALID,
				"writable root \"%s\" is not an absolute path", root);
	if (depth < 0 || depth > SCAN_MAX_DEPTH)
		return srt_fail(err, SRT_E_INVALID,
				"mandatory deny search depth %d is out of range (0-%d)",
				depth, SCAN_MAX_DEPTH);

	/* Kept off the stack's hot path: one PATH_MAX buffer per call. */
	scan *s = calloc(1, sizeof *s);
	if (!s)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	s->depth = depth;
	s->err = err;
	srt_pathindex skip_ix = {0};
	size_t rl = strlen(root);
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	int rc = -1;
	if (rl >= sizeof s->path) {
		srt_fail_errno(err, SRT_E_POLICY, ENAMETOOLONG,
			       "cannot search writable root \"%.64s...\"", root);
		goto out;
	}
	memcpy(s->path, root, rl);
	s->path[rl] = '\0';
	s->len = rl;
	for (size_t i = 0; skip && i < skip->n; i++)
		if (srt_pathindex_put(&skip_ix, skip->v[i], strlen(skip->v[i]), i) < 0) {
			srt_fail(err, SRT_E_NOMEM, "out of memory");
			goto out;
		}
	s->skip = skip ? &skip_ix : NULL;

	int fd = open(rl ? s->path : "/",
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		srt_fail_errno(err, SRT_E_POLICY, errno,
			       "cannot search writable root \"%s\" for protected files",
			       root);
		goto out;
	}
	if (scan_dir(s, fd, 0) < 0)
		goto out;

	/* At the root every entry of the table is protected: what does not
	 * exist gets a stand-in (is_dir says what to create).  The children
	 * of an existing .git/.claude were handled by check_container. */
	for (size_t i = 0; i < MANDATORY_COUNT; i++) {
		const char *rel = srt_mandatory_names[i].rel;
		if ((s->seen_at_root & (UINT32_C(1) << i)) || srt_mandatory_names[i].only_existing)
			continue;
		/* No .git at all: stand-ins of its children would make `git
		 * init` fail (and leave a half-made .git).  One entry for the
		 * whole, which the sandbox gets as a private directory. */
		if (strncmp(rel, ".git/", 5) == 0) {
			bool first = true;
			for (size_t k = 0; k < s->n && first; k++)
				first = !s->v[k].fresh_git;
			if (first && emit(s, ".git", false, true) < 0)
				goto out;
			if (first)
				s->v[s->n - 1].fresh_git = true;
			continue;
		}
		if (emit(s, rel, false, srt_mandatory_names[i].is_dir) < 0)
			goto out;
	}
	rc = append_results(s, out);
out:
	srt_pathindex_clear(&skip_ix);
	protected_vec_free(s->v, s->n);
	free(s);
	return rc;
}
