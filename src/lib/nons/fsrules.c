/* nons/fsrules.c - the Landlock rules of the sandbox without namespaces,
 * computed on the host from the mount plan (see fsrules.h). */
#include "nons/fsrules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pathindex.h"
#include "paths.h"
#include "policy.h"

typedef struct builder {
	srt_fsrules *out;
	srt_pathindex ix; /* path -> index in out->v (keys: the rules' paths) */
	size_t scanned;   /* directory entries looked at */
	size_t max_rules, max_scan;
	srt_error *err;
} builder;

static int nomem(builder *b)
{
	return srt_fail(b->err, SRT_E_NOMEM, "out of memory while computing the Landlock rules");
}

/* Add `access` to the rule for `path` (taking `owned`, a copy of it, when
 * the rule is new; freed otherwise). */
static int add_owned(builder *b, char *owned, uint64_t access)
{
	srt_fsrules *r = b->out;
	size_t len = strlen(owned), i;
	if (srt_pathindex_get(&b->ix, owned, len, &i)) {
		r->v[i].access |= access;
		free(owned);
		return 0;
	}
	if (r->n >= b->max_rules) {
		srt_fail(b->err, SRT_E_POLICY,
			 "the sandbox without namespaces would need more than %zu Landlock rules "
			 "(reached at %s): denyRead paths in large directories are expressed by a "
			 "rule on each of their siblings; deny a directory higher up instead",
			 b->max_rules, owned);
		free(owned);
		return -1;
	}
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		srt_landlock_rule *v = realloc(r->v, ncap * sizeof *v);
		if (!v) {
			free(owned);
			return nomem(b);
		}
		r->v = v;
		r->cap = ncap;
	}
	r->v[r->n] = (srt_landlock_rule){.path = owned, .access = access};
	if (srt_pathindex_put(&b->ix, owned, len, r->n) < 0) {
		free(owned);
		return nomem(b);
	}
	r->n++;
	return 0;
}

static int add(builder *b, const char *path, uint64_t access)
{
	char *copy = strdup(path);
	return copy ? add_owned(b, copy, access) : nomem(b);
}

/* A name in a directory that a hidden path goes through or is. */
typedef struct child {
	const char *name; /* not terminated: len bytes */
	size_t len;
	bool hidden; /* the entry itself is hidden (else: on the way to one) */
} child;

static int cmp_child(const void *a, const void *b)
{
	const child *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int expand(builder *b, int parent, const char *name, const char *path,
		  const char *const *hidden, size_t n_hidden);

/* The entries of directory fd (at `path`) get read rules, but those in
 * `kids` (sorted): hidden ones none, the ways to hidden paths expanded in
 * turn.  Takes fd. */
static int expand_entries(builder *b, int fd, const char *path, const child *kids, size_t n_kids,
			  const char *const *hidden, size_t n_hidden)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return srt_fail_errno(b->err, SRT_E_SYSTEM, errno, "listing %s", path);
	}
	const char **sub = malloc(n_hidden * sizeof *sub);
	if (!sub) {
		closedir(d);
		return nomem(b);
	}
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
			continue;
		if (++b->scanned > b->max_scan) {
			rc = srt_fail(b->err, SRT_E_POLICY,
				      "the sandbox without namespaces would list more than %zu directory "
				      "entries to compute its Landlock rules (reached in %s): deny a "
				      "directory higher up instead",
				      b->max_scan, path);
			break;
		}
		child key = {.name = nm, .len = strlen(nm)};
		const child *k = n_kids ? bsearch(&key, kids, n_kids, sizeof *kids, cmp_child) : NULL;
		if (k && k->hidden)
			continue;
		unsigned char type = de->d_type;
		if (type == DT_UNKNOWN || (k && type != DT_DIR)) {
			struct stat st;
			if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue; /* gone: nothing to grant */
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
		}
		if (type == DT_LNK)
			continue; /* a symlink: what it leads to has its own rules */
		char *cpath = srt_path_join(path, nm);
		if (!cpath) {
			rc = nomem(b);
			break;
		}
		if (k && type == DT_DIR) {
			size_t cl = strlen(cpath), n_sub = 0;
			for (size_t i = 0; i < n_hidden; i++)
				if (strncmp(hidden[i], cpath, cl) == 0 && hidden[i][cl] == '/')
					sub[n_sub++] = hidden[i];
			rc = expand(b, dirfd(d), nm, cpath, sub, n_sub);
			free(cpath);
		} else {
			rc = add_owned(b, cpath, SRT_LL_READ);
		}
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = srt_fail_errno(b->err, SRT_E_SYSTEM, errno, "listing %s", path);
	free(sub);
	closedir(d);
	return rc;
}

/* Read rights on directory `path` (`name` in directory fd `parent`, or
 * AT_FDCWD and the path) and everything beneath but the `hidden` paths
 * (all strictly beneath it). */
static int expand(builder *b, int parent, const char *name, const char *path,
		  const char *const *hidden, size_t n_hidden)
{
	if (n_hidden == 0)
		return add(b, path, SRT_LL_READ);
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   (parent == AT_FDCWD ? 0 : RESOLVE_BENEATH),
	};
	int fd = (int)syscall(SYS_openat2, parent, parent == AT_FDCWD ? path : name, &how,
			      sizeof how);
	if (fd < 0) {
		/* gone, not a directory (any more), a symlink now, or not
		 * searchable: no rule, so nothing beneath is readable */
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EACCES)
			return 0;
		return srt_fail_errno(b->err, SRT_E_SYSTEM, errno, "opening %s", path);
	}
	child *kids = malloc(n_hidden * sizeof *kids);
	if (!kids) {
		close(fd);
		return nomem(b);
	}
	size_t plen = strlen(path), n_kids = 0;
	for (size_t i = 0; i < n_hidden; i++) {
		const char *rel = hidden[i] + plen + (plen > 1);
		size_t len = strcspn(rel, "/");
		kids[n_kids++] = (child){.name = rel, .len = len, .hidden = rel[len] == '\0'};
	}
	qsort(kids, n_kids, sizeof *kids, cmp_child);
	size_t m = 0; /* merge equal names: hidden wins */
	for (size_t i = 0; i < n_kids; i++) {
		if (m && cmp_child(&kids[m - 1], &kids[i]) == 0)
			kids[m - 1].hidden |= kids[i].hidden;
		else
			kids[m++] = kids[i];
	}
	int rc = expand_entries(b, fd, path, kids, m, hidden, n_hidden);
	free(kids);
	return rc;
}

static bool is_bind(const srt_plan *p, int i)
{
	return i < 0 || p->ops[i].kind == SRT_OP_BIND; /* -1: the base, readable */
}

/* A read root: a readable op whose enclosing view is not (readable again
 * inside a hidden path). */
static bool read_root(const srt_plan *p, int i)
{
	return p->ops[i].kind == SRT_OP_BIND && !is_bind(p, p->ops[i].parent);
}

static int read_rules(builder *b, const srt_plan *p)
{
	const size_t n = p->n_ops;
	int *root = malloc((n ? n : 1) * sizeof *root);
	const char **hidden = malloc((n ? n : 1) * sizeof *hidden);
	int rc = 0;
	if (!root || !hidden) {
		rc = nomem(b);
		goto done;
	}
	bool root_hidden = false; /* denyRead "/" */
	/* each hidden op seen from a readable view: the read root it lies in
	 * (-1: "/"), -2 for none */
	for (size_t i = 0; i < n; i++) {
		const srt_mount_op *o = &p->ops[i];
		root[i] = -2;
		if (o->kind == SRT_OP_BIND || !is_bind(p, o->parent))
			continue;
		if (strcmp(o->path, "/") == 0) {
			root_hidden = true;
			continue;
		}
		int r = o->parent;
		while (r >= 0 && !read_root(p, r))
			r = p->ops[r].parent;
		root[i] = r;
	}
	/* "/": listing everywhere; reads unless hidden */
	size_t nh = 0;
	for (size_t i = 0; i < n; i++)
		if (root[i] == -1)
			hidden[nh++] = p->ops[i].path;
	rc = add(b, "/", SRT_LL_READ_DIR);
	if (rc == 0 && !root_hidden)
		rc = expand(b, AT_FDCWD, NULL, "/", hidden, nh);
	for (size_t r = 0; r < n && rc == 0; r++) {
		if (!read_root(p, (int)r))
			continue;
		nh = 0;
		for (size_t i = 0; i < n; i++)
			if (root[i] == (int)r)
				hidden[nh++] = p->ops[i].path;
		rc = expand(b, AT_FDCWD, NULL, p->ops[r].path, hidden, nh);
	}
done:
	free(root);
	free(hidden);
	return rc;
}

static const char *const devices[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts",
};

int srt_fsrules_from_plan_bounded(const srt_plan *plan, const char *tmpdir, int abi,
				  size_t max_rules, size_t max_scan, srt_fsrules *out,
				  srt_error *err)
{
	*out = (srt_fsrules){0};
	builder b = {.out = out, .err = err, .max_rules = max_rules, .max_scan = max_scan};
	const uint64_t all = srt_landlock_fs_all(abi), wr = srt_landlock_fs_write(abi);
	const uint64_t dev = (SRT_LL_READ_FILE | SRT_LL_WRITE_FILE | SRT_LL_TRUNCATE |
			      SRT_LL_IOCTL_DEV) & all;
	int rc = read_rules(&b, plan);
	for (size_t i = 0; rc == 0 && i < plan->write_roots.n; i++)
		rc = add(&b, plan->write_roots.v[i], wr);
	if (rc == 0 && tmpdir)
		rc = add(&b, tmpdir, wr | SRT_LL_READ);
	for (size_t i = 0; rc == 0 && i < sizeof devices / sizeof *devices; i++)
		rc = add(&b, devices[i], dev);
	srt_pathindex_clear(&b.ix);
	if (rc == 0)
		for (size_t i = 0; i < out->n; i++)
			out->v[i].access &= all;
	if (rc < 0)
		srt_fsrules_free(out);
	return rc;
}

int srt_fsrules_from_plan(const srt_plan *plan, const char *tmpdir, int abi,
			  srt_fsrules *out, srt_error *err)
{
	return srt_fsrules_from_plan_bounded(plan, tmpdir, abi, SRT_FSRULES_MAX_RULES,
					     SRT_FSRULES_MAX_SCAN, out, err);
}

int srt_fsrules_build(const srt_policy *pol, const char *tmpdir, int abi, srt_fsrules *out,
		      srt_error *err)
{
	return srt_fsrules_from_plan(&pol->plan, tmpdir, abi, out, err);
}

uint64_t srt_fsrules_get(const srt_fsrules *rules, const char *path)
{
	for (size_t i = 0; i < rules->n; i++)
		if (strcmp(rules->v[i].path, path) == 0)
			return rules->v[i].access;
	return 0;
}

void srt_fsrules_free(srt_fsrules *rules)
{
	for (size_t i = 0; i < rules->n; i++)
		free(rules->v[i].path);
	free(rules->v);
	*rules = (srt_fsrules){0};
}

/* ---- what cannot be held --------------------------------------------- */

/* The deepest writable root at or above `path`, or NULL. */
static const char *root_of(const srt_plan *p, const char *path)
{
	const char *best = NULL;
	for (size_t i = 0; i < p->write_roots.n; i++)
		if (srt_path_is_within(path, p->write_roots.v[i]) &&
		    (!best || strlen(p->write_roots.v[i]) > strlen(best)))
			best = p->write_roots.v[i];
	return best;
}

static int push(srt_strv *sv, char *msg, srt_error *err)
{
	if (!sv) {
		free(msg);
		return 0;
	}
	if (!msg || srt_strv_push_owned(sv, msg) < 0)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	return 0;
}

static int refusals(const srt_policy *pol, srt_strv *refuse, srt_error *err)
{
	const srt_plan *p = &pol->plan;
	for (size_t i = 0; i < pol->deny_write.n; i++) {
		const char *d = pol->deny_write.v[i].path, *w = root_of(p, d);
		if (w && push(refuse,
			      srt_asprintf("denyWrite path %s lies inside the writable root %s, and "
					   "without namespaces nothing can keep it read-only there "
					   "(Landlock's write rights on %s hold for everything "
					   "beneath it)",
					   d, w, w),
			      err) < 0)
			return -1;
	}
	const char *src = pol->config_source;
	/* filesystem.disabled asks for no protection: the settings file's is
	 * srt's own extra, a tripwire where every startup file is writable
	 * anyway, and here it is listed as not held (unheld_list) */
	if (!src || strcmp(src, "<defaults>") == 0 || pol->fs_disabled)
		return 0;
	SRT_AUTOFREE char *abs = src[0] == '/' ? strdup(src) : srt_path_join(pol->cwd, src);
	if (!abs)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	srt_resolved_path r = {0};
	srt_error ignored;
	if (srt_path_resolve(abs, &r, &ignored) < 0)
		return 0; /* not a path: nothing there to protect */
	const char *w = root_of(p, r.path);
	int rc = 0;
	if (w)
		rc = push(refuse,
			  srt_asprintf("the settings file %s lies inside the writable root %s, and "
				       "without namespaces nothing can keep it read-only there: "
				       "the command could change the settings of later runs",
				       r.path, w),
			  err);
	free(r.path);
	return rc;
}

static int unheld_list(const srt_policy *pol, srt_strv *unheld, srt_error *err)
{
	const srt_plan *p = &pol->plan;
	for (size_t i = 0; i < p->n_ops; i++) {
		const srt_mount_op *o = &p->ops[i];
		const char *w = root_of(p, o->path);
		bool in_writable = o->parent >= 0 ? p->ops[o->parent].kind == SRT_OP_BIND &&
							    p->ops[o->parent].writable
						  : p->base_writable;
		if (!w || !in_writable || (o->kind == SRT_OP_BIND && o->writable))
			continue;
		char *msg;
		if (o->kind != SRT_OP_BIND)
			msg = strcmp(o->why, "denyRead") == 0
				      ? srt_asprintf("denyRead path %s lies inside the writable root "
						     "%s: it stays unreadable, but it can be written, "
						     "removed or replaced, and files created in the "
						     "directories between %s and it cannot be read",
						     o->path, w, w)
				      : srt_asprintf("%s %s lies inside the writable root %s: it "
						     "stays unreadable, but it can be written",
						     o->why, o->path, w);
		else if (strcmp(o->why, "denyWrite") == 0)
			continue; /* a refusal */
		else
			msg = srt_asprintf("%s %s is not protected: it lies inside the writable root "
					   "%s and can be written (or created)",
					   o->why, o->path, w);
		if (push(unheld, msg, err) < 0)
			return -1;
	}
	/* names the gate would have refused (it does not run here) */
	for (size_t i = 0; i < pol->gate_covered.n; i++) {
		const char *path = pol->gate_covered.v[i].path, *w = root_of(p, path);
		if (w && push(unheld,
			      srt_asprintf("mandatory deny %s is not protected: it lies inside the "
					   "writable root %s and can be created",
					   path, w),
			      err) < 0)
			return -1;
	}
	return 0;
}

int srt_fsrules_conflicts(const srt_policy *pol, srt_strv *refuse, srt_strv *unheld,
			  srt_error *err)
{
	if (refusals(pol, refuse, err) < 0 || unheld_list(pol, unheld, err) < 0)
		return -1;
	return 0;
}
