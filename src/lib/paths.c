/* paths.c - turning filesystem settings entries into real host paths
 * (SPEC §4): "~", relative paths, symlink resolution, globs.
 *
 * Resolution works like the kernel's path walk: component by component,
 * following every symlink (the final one too, and dangling ones: a rule for
 * a dangling link applies where it points), so ".." after a symlink goes to
 * the parent of the link's target.  Where a component does not exist the
 * walk stops and the rest is appended lexically.
 *
 * Globs are expanded once, against what exists when the sandbox starts:
 * a file created later that would have matched is not covered by the rule.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Same limit as the kernel's (MAXSYMLINKS). */
#define SRT_MAX_SYMLINKS 40

/* ---- resolution --------------------------------------------------------- */

/* Remove the last component of res[0..*len) (lexical; res is symlink-free). */
static void pop_component(char *res, size_t *len)
{
	size_t l = *len;
	while (l > 0 && res[l - 1] != '/')
		l--;
	if (l > 0)
		l--; /* the '/' itself */
	*len = l;
	res[l] = '\0';
}

int srt_path_resolve(const char *abs_path, srt_resolved_path *out,
		     srt_error *err)
{
	if (!abs_path || !out)
		return srt_fail(err, SRT_E_INVALID, "srt_path_resolve: NULL argument");
	out->path = NULL;
	out->exists = false;
	out->is_dir = false;
	if (abs_path[0] != '/')
		return srt_fail(err, SRT_E_INVALID, "path \"%s\" is not absolute",
				abs_path);
	if (strlen(abs_path) >= PATH_MAX)
		return srt_fail_errno(err, SRT_E_POLICY, ENAMETOOLONG,
				      "cannot resolve \"%.64s...\"", abs_path);

	/* res: the resolved part, "" standing for "/"; never contains a
	 * symlink, ".", ".." or "//". */
	char res[PATH_MAX];
	size_t rlen = 0;
	res[0] = '\0';
	SRT_AUTOFREE char *rest = strdup(abs_path);
	if (!rest)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	const char *p = rest;
	unsigned hops = 0;
	/* Components at the end of res that do not exist (appended lexically).
	 * A ".." can pop them all again, after which resolution resumes. */
	size_t missing = 0;

	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *c = p;
		size_t clen = strcspn(p, "/");
		p += clen;
		if (clen == 1 && c[0] == '.')
			continue;
		if (clen == 2 && c[0] == '.' && c[1] == '.') {
			pop_component(res, &rlen);
			if (missing > 0)
				missing--;
			continue;
		}
		if (rlen + 1 + clen >= sizeof res)
			return srt_fail_errno(err, SRT_E_POLICY, ENAMETOOLONG,
					      "cannot resolve \"%s\"", abs_path);
		size_t parent_len = rlen;
		res[rlen++] = '/';
		memcpy(res + rlen, c, clen);
		rlen += clen;
		res[rlen] = '\0';
		if (missing > 0) {
			missing++;
			continue;
		}

		struct stat st;
		if (lstat(res, &st) < 0) {
			int e = errno;
			/* ENOTDIR: a component below a non-directory; EACCES:
			 * cannot look further (nor can the sandboxed user).
			 * Both end the resolvable prefix like ENOENT does. */
			if (e == ENOENT || e == ENOTDIR || e == EACCES) {
				missing = 1;
				continue;
			}
			return srt_fail_errno(err, SRT_E_POLICY, e,
					      "cannot resolve \"%s\" (at \"%s\")",
					      abs_path, res);
		}
		if (!S_ISLNK(st.st_mode))
			continue;

		if (++hops > SRT_MAX_SYMLINKS) {
			srt_fail(err, SRT_E_POLICY,
				 "cannot resolve \"%s\": too many levels of symbolic links",
				 abs_path);
			if (err)
				err->sys_errno = ELOOP;
			return -1;
		}
		char target[PATH_MAX];
		ssize_t n = readlink(res, target, sizeof target);
		if (n < 0)
			return srt_fail_errno(err, SRT_E_POLICY, errno,
					      "cannot read symbolic link \"%s\"", res);
		if ((size_t)n >= sizeof target)
			return srt_fail_errno(err, SRT_E_POLICY, ENAMETOOLONG,
					      "cannot read symbolic link \"%s\"", res);
		if (n == 0)
			return srt_fail(err, SRT_E_POLICY,
					"symbolic link \"%s\" is empty", res);
		target[n] = '\0';

		/* The link's target, then whatever was left after the link. */
		char *next = srt_asprintf("%s/%s", target, p);
		if (!next)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		free(rest);
		rest = next;
		p = rest;
		if (target[0] == '/')
			rlen = 0;
		else
			rlen = parent_len;
		res[rlen] = '\0';
	}

	if (rlen == 0) {
		res[0] = '/';
		res[1] = '\0';
	}
	bool exists = false, is_dir = false;
	if (missing == 0) {
		/* After ".." the last lstat may not describe res: look again. */
		struct stat st;
		if (lstat(res, &st) == 0) {
			exists = true;
			is_dir = S_ISDIR(st.st_mode);
		} else if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) {
			return srt_fail_errno(err, SRT_E_POLICY, errno,
					      "cannot resolve \"%s\"", abs_path);
		}
	}
	out->path = strdup(res);
	if (!out->path)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	out->exists = exists;
	out->is_dir = is_dir;
	return 0;
}

void srt_resolved_list_clear(srt_resolved_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- result lists --------------------------------------------------------- */

/* A growable list private to one expansion (has a capacity, unlike `out`). */
typedef struct match_vec {
	srt_resolved_path *v;
	size_t n, cap;
} match_vec;

static void match_vec_clear(match_vec *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

static int cmp_resolved(const void *a, const void *b)
{
	const srt_resolved_path *x = a, *y = b;
	return strcmp(x->path, y->path);
}

static int cmp_strp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	return strcmp(*x, *y);
}

/* Sort and drop duplicates in place. */
static void match_vec_unique(match_vec *m)
{
	if (m->n < 2)
		return;
	qsort(m->v, m->n, sizeof *m->v, cmp_resolved);
	size_t w = 1;
	for (size_t r = 1; r < m->n; r++) {
		if (strcmp(m->v[r].path, m->v[w - 1].path) == 0) {
			free(m->v[r].path);
			continue;
		}
		m->v[w++] = m->v[r];
	}
	m->n = w;
}

/* Move the (sorted, unique) entries of m that `out` does not hold yet to the
 * end of `out`.  On failure `out` is unchanged and m still owns everything. */
static int merge_into(srt_resolved_list *out, match_vec *m, srt_error *err)
{
	SRT_AUTOFREE const char **idx = NULL;
	if (out->n > 0) {
		idx = malloc(out->n * sizeof *idx);
		if (!idx)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		for (size_t i = 0; i < out->n; i++)
			idx[i] = out->v[i].path;
		qsort(idx, out->n, sizeof *idx, cmp_strp);
	}
	size_t keep = 0;
	for (size_t i = 0; i < m->n; i++) {
		const char *key = m->v[i].path;
		bool dup = idx && bsearch(&key, idx, out->n, sizeof *idx, cmp_strp);
		if (dup) {
			free(m->v[i].path);
			m->v[i].path = NULL;
		} else {
			keep++;
		}
	}
	if (keep > 0) {
		srt_resolved_path *nv = realloc(out->v, (out->n + keep) * sizeof *nv);
		if (!nv) {
			/* m keeps ownership of the kept ones (NULLs are fine). */
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		}
		out->v = nv;
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].path)
			out->v[out->n++] = m->v[i];
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
	return 0;
}

/* ---- globs ---------------------------------------------------------------- */

static bool is_glob_component(const char *c)
{
	return strpbrk(c, "*?[") != NULL;
}

typedef struct glob_ctx {
	const char *entry;   /* as written, for messages */
	char **comps;        /* pattern components after the fixed prefix */
	size_t ncomps;
	match_vec matches;
	size_t compact_at;   /* sort + dedup when matches.n reaches this */
	bool depth_hit;
	srt_strv *warnings;
	srt_error *err;
} glob_ctx;

static int walk(glob_ctx *g, int dfd, const char *dpath, size_t ci,
		unsigned depth);

/* Record one match; takes ownership of path. */
static int add_match(glob_ctx *g, char *path, bool exists, bool is_dir)
{
	if (!path)
		return srt_fail(g->err, SRT_E_NOMEM, "out of memory");
	match_vec *m = &g->matches;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		srt_resolved_path *nv = realloc(m->v, cap * sizeof *nv);
		if (!nv) {
			free(path);
			return srt_fail(g->err, SRT_E_NOMEM, "out of memory");
		}
		m->v = nv;
		m->cap = cap;
	}
	m->v[m->n++] = (srt_resolved_path){ .path = path, .exists = exists,
					    .is_dir = is_dir };
	if (m->n >= g->compact_at) {
		/* Several "**" or symlinks may reach one path more than once:
		 * only distinct results count against the limit. */
		match_vec_unique(m);
		if (m->n > SRT_GLOB_MAX_MATCHES)
			return srt_fail(g->err, SRT_E_POLICY,
					"filesystem pattern \"%s\" matches more than %d paths (make it more specific)",
					g->entry, SRT_GLOB_MAX_MATCHES);
		size_t next = m->n * 2;
		g->compact_at = next > SRT_GLOB_MAX_MATCHES + 1 ? next
							       : SRT_GLOB_MAX_MATCHES + 1;
	}
	return 0;
}

static unsigned char dtype_of_mode(mode_t m)
{
	return (unsigned char)IFTODT(m);
}

/* Type of dfd/name without following it; false if it vanished. */
static bool entry_type(int dfd, const char *name, unsigned char *dtype)
{
	if (*dtype != DT_UNKNOWN)
		return true;
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	*dtype = dtype_of_mode(st.st_mode);
	return true;
}

static bool skippable_open_errno(int e)
{
	return e == EACCES || e == ENOENT || e == ENOTDIR || e == ELOOP ||
	       e == EPERM;
}

/* Open directory `name` below dfd (or absolute `path` when dfd < 0) and
 * walk it from component ci.  Unreadable or vanished directories are
 * skipped. */
static int descend(glob_ctx *g, int dfd, const char *name, const char *path,
		   size_t ci, unsigned depth)
{
	if (depth > SRT_GLOB_MAX_DEPTH) {
		g->depth_hit = true;
		return 0;
	}
	SRT_AUTOCLOSE int fd = dfd >= 0
		? openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
		: open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (skippable_open_errno(errno))
			return 0;
		return srt_fail_errno(g->err, SRT_E_POLICY, errno,
				      "expanding \"%s\": cannot open \"%s\"",
				      g->entry, path);
	}
	return walk(g, fd, path, ci, depth);
}

/* A symlink matched: resolve it; a loop is reported and skipped. */
static int resolve_link(glob_ctx *g, const char *path, srt_resolved_path *r)
{
	srt_error e = { 0 };
	if (srt_path_resolve(path, r, &e) == 0)
		return 1;
	if (e.sys_errno == ELOOP) {
		char *w = srt_asprintf("filesystem pattern \"%s\": skipped \"%s\": too many levels of symbolic links",
				       g->entry, path);
		if (g->warnings && srt_strv_push_owned(g->warnings, w) < 0)
			return srt_fail(g->err, SRT_E_NOMEM, "out of memory");
		if (!g->warnings)
			free(w);
		return 0;
	}
	if (g->err)
		*g->err = e;
	return -1;
}

/* dpath/name matched component ci. */
static int on_match(glob_ctx *g, int dfd, const char *dpath, const char *name,
		    unsigned char dtype, size_t ci, unsigned depth)
{
	bool last = ci + 1 == g->ncomps;
	if (!entry_type(dfd, name, &dtype))
		return 0;
	if (dtype != DT_LNK && dtype != DT_DIR && !last)
		return 0; /* a file cannot have components below it */
	SRT_AUTOFREE char *full = srt_path_join(dpath, name);
	if (!full)
		return srt_fail(g->err, SRT_E_NOMEM, "out of memory");

	if (dtype == DT_LNK) {
		srt_resolved_path r = { 0 };
		int k = resolve_link(g, full, &r);
		if (k <= 0)
			return k;
		if (last)
			return add_match(g, r.path, r.exists, r.is_dir);
		int rc = 0;
		if (r.exists && r.is_dir)
			rc = descend(g, -1, NULL, r.path, ci + 1, depth + 1);
		free(r.path);
		return rc;
	}
	if (last)
		return add_match(g, srt_steal_ptr(&full), true, dtype == DT_DIR);
	return descend(g, dfd, name, full, ci + 1, depth + 1);
}

/* "**" at ci: zero components here, or one more real (not symlinked)
 * directory level and "**" again. */
static int walk_globstar(glob_ctx *g, int dfd, const char *dpath, size_t ci,
			 unsigned depth, DIR *d)
{
	bool last = ci + 1 == g->ncomps;
	if (last) {
		char *self = strdup(dpath);
		if (add_match(g, self, true, true) < 0)
			return -1;
	} else if (walk(g, dfd, dpath, ci + 1, depth) < 0) {
		return -1;
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				return srt_fail_errno(g->err, SRT_E_POLICY, errno,
						      "expanding \"%s\": cannot read \"%s\"",
						      g->entry, dpath);
			return 0;
		}
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		unsigned char dtype = de->d_type;
		if (!entry_type(dfd, name, &dtype))
			continue;
		if (dtype == DT_DIR) {
			SRT_AUTOFREE char *sub = srt_path_join(dpath, name);
			if (!sub)
				return srt_fail(g->err, SRT_E_NOMEM, "out of memory");
			if (descend(g, dfd, name, sub, ci, depth + 1) < 0)
				return -1;
		} else if (last) {
			/* "**" at the end also matches what is not a directory;
			 * a symlink is resolved but never descended into. */
			if (on_match(g, dfd, dpath, name, dtype, ci, depth) < 0)
				return -1;
		}
	}
}

/* Match components ci.. below the directory dfd (real path dpath; dfd is
 * owned by the caller). */
static int walk(glob_ctx *g, int dfd, const char *dpath, size_t ci,
		unsigned depth)
{
	if (ci == g->ncomps) {
		/* Only reached after ".." or a trailing "**" matched zero. */
		char *self = strdup(dpath);
		return add_match(g, self, true, true);
	}
	const char *comp = g->comps[ci];

	if (strcmp(comp, "..") == 0) {
		/* dpath is symlink-free, so its lexical parent is the real one. */
		SRT_AUTOFREE char *parent = strdup(dpath);
		if (!parent)
			return srt_fail(g->err, SRT_E_NOMEM, "out of memory");
		char *slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		return descend(g, -1, NULL, parent, ci + 1, depth);
	}

	if (!is_glob_component(comp)) {
		struct stat st;
		if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return 0; /* nothing here */
		return on_match(g, dfd, dpath, comp, dtype_of_mode(st.st_mode), ci,
				depth);
	}

	int rfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0) {
		if (skippable_open_errno(errno))
			return 0;
		return srt_fail_errno(g->err, SRT_E_POLICY, errno,
				      "expanding \"%s\": cannot open \"%s\"",
				      g->entry, dpath);
	}
	DIR *d = fdopendir(rfd);
	if (!d) {
		int e = errno;
		close(rfd);
		return srt_fail_errno(g->err, SRT_E_POLICY, e,
				      "expanding \"%s\": cannot read \"%s\"",
				      g->entry, dpath);
	}
	int rc = 0;
	if (strcmp(comp, "**") == 0) {
		rc = walk_globstar(g, dfd, dpath, ci, depth, d);
	} else {
		for (;;) {
			errno = 0;
			struct dirent *de = readdir(d);
			if (!de) {
				if (errno)
					rc = srt_fail_errno(g->err, SRT_E_POLICY, errno,
							    "expanding \"%s\": cannot read \"%s\"",
							    g->entry, dpath);
				break;
			}
			const char *name = de->d_name;
			if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
				continue;
			/* No FNM_PERIOD: "*" matches dot files too, so that a
			 * deny rule for everything in ~/secrets also covers
			 * "~/secrets/.env".  No escapes either (FNM_NOESCAPE):
			 * a backslash is an ordinary character, as it is in
			 * the glob-free components; use {"literal": true}
			 * for names containing * ? or [. */
			if (fnmatch(comp, name, FNM_NOESCAPE) != 0)
				continue;
			rc = on_match(g, dfd, dpath, name, de->d_type, ci, depth);
			if (rc < 0)
				break;
		}
	}
	closedir(d);
	return rc;
}

/* Split `rel` (modified in place) into components, dropping "" and "." and
 * collapsing runs of "**" (equivalent, and far cheaper). */
static size_t split_components(char *rel, char **comps, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *c = strtok_r(rel, "/", &save); c && n < max;
	     c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "**") == 0 && n > 0 && strcmp(comps[n - 1], "**") == 0)
			continue;
		comps[n++] = c;
	}
	return n;
}

static int expand_glob(const char *entry, const char *base, const char *rel,
		       srt_resolved_list *out, srt_strv *warnings, srt_error *err)
{
	SRT_AUTOFREE char *relcopy = strdup(rel);
	size_t max = strlen(rel) / 2 + 2;
	SRT_AUTOFREE char **comps = malloc(max * sizeof *comps);
	if (!relcopy || !comps)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	size_t n = split_components(relcopy, comps, max);

	/* The longest glob-free prefix is resolved like any path. */
	size_t first = 0;
	while (first < n && !is_glob_component(comps[first]))
		first++;
	SRT_AUTOFREE char *prefix = strdup(base);
	if (!prefix)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	for (size_t i = 0; i < first; i++) {
		char *next = srt_path_join(prefix, comps[i]);
		if (!next)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		free(prefix);
		prefix = next;
	}
	srt_resolved_path pre = { 0 };
	if (srt_path_resolve(prefix, &pre, err) < 0)
		return -1;
	SRT_AUTOFREE char *prepath = pre.path;

	glob_ctx g = {
		.entry = entry,
		.comps = comps + first,
		.ncomps = n - first,
		.compact_at = SRT_GLOB_MAX_MATCHES + 1,
		.warnings = warnings,
		.err = err,
	};
	int rc = 0;
	if (pre.exists && pre.is_dir)
		rc = descend(&g, -1, NULL, prepath, 0, 0);
	if (rc == 0) {
		match_vec_unique(&g.matches);
		if (g.matches.n > SRT_GLOB_MAX_MATCHES)
			rc = srt_fail(err, SRT_E_POLICY,
				      "filesystem pattern \"%s\" matches more than %d paths (make it more specific)",
				      entry, SRT_GLOB_MAX_MATCHES);
	}
	if (rc == 0 && g.depth_hit && warnings) {
		char *w = srt_asprintf("filesystem pattern \"%s\" was expanded only %d levels deep",
				       entry, SRT_GLOB_MAX_DEPTH);
		if (srt_strv_push_owned(warnings, w) < 0)
			rc = srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	if (rc == 0 && g.matches.n == 0 && warnings) {
		char *w = srt_asprintf("filesystem pattern \"%s\" matched nothing (it is expanded once, at start-up)",
				       entry);
		if (srt_strv_push_owned(warnings, w) < 0)
			rc = srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	if (rc == 0)
		rc = merge_into(out, &g.matches, err);
	match_vec_clear(&g.matches);
	return rc;
}

/* ---- entries -------------------------------------------------------------- */

int srt_path_expand(const char *entry, bool literal, const char *cwd,
		    const char *home, srt_resolved_list *out,
		    srt_strv *warnings, srt_error *err)
{
	if (!entry || !out)
		return srt_fail(err, SRT_E_INVALID, "srt_path_expand: NULL argument");
	if (!*entry)
		return srt_fail(err, SRT_E_POLICY, "empty filesystem path entry");
	if (strlen(entry) >= PATH_MAX)
		return srt_fail(err, SRT_E_POLICY,
				"filesystem path entry \"%.64s...\" is too long", entry);

	/* base: taken literally (a home or working directory may contain
	 * glob characters); rel: the part written in the settings. */
	const char *base, *rel;
	if (entry[0] == '~') {
		if (entry[1] != '\0' && entry[1] != '/')
			return srt_fail(err, SRT_E_POLICY,
					"filesystem path \"%s\": \"~user\" is not supported (use \"~/...\" or an absolute path)",
					entry);
		if (!home || home[0] != '/')
			return srt_fail(err, SRT_E_POLICY,
					"filesystem path \"%s\": the home directory is unknown",
					entry);
		base = home;
		rel = entry + 1;
	} else if (entry[0] != '/') {
		if (!cwd || cwd[0] != '/')
			return srt_fail(err, SRT_E_POLICY,
					"relative filesystem path \"%s\" cannot be resolved: the current directory is unknown",
					entry);
		base = cwd;
		rel = entry;
	} else {
		base = "/";
		rel = entry;
	}

	if (!literal && is_glob_component(rel))
		return expand_glob(entry, base, rel, out, warnings, err);

	SRT_AUTOFREE char *abs = srt_path_join(base, rel);
	if (!abs)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	srt_resolved_path r = { 0 };
	if (srt_path_resolve(abs, &r, err) < 0)
		return -1;
	match_vec m = { .v = malloc(sizeof *m.v), .n = 1, .cap = 1 };
	if (!m.v) {
		free(r.path);
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	m.v[0] = r;
	int rc = merge_into(out, &m, err);
	match_vec_clear(&m);
	return rc;
}
