/* hostexec.c - what the host would later run or obey from a writable root
 * (see hostexec.h).  Reads only files that are protected themselves, so
 * nothing the command writes during the run can change what was found. */
#include "hostexec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitconfig.h"
#include "mandatory.h"
#include "paths.h"
#include "util.h"

#define CONFIG_MAX_BYTES (1 << 20)
#define INCLUDE_MAX_DEPTH 10 /* git's own limit */
#define CONFIGS_MAX 100000   /* configs read per run (one per repository) */
#define FOUND_MAX 256        /* table entries taken from one config */

typedef struct ctx {
	srt_policy *pol;
	const srt_strv *roots;
	srt_error *err;
	size_t configs_read;
} ctx;

static bool in_roots(const ctx *c, const char *path)
{
	for (size_t i = 0; i < c->roots->n; i++)
		if (srt_path_is_within(path, c->roots->v[i]))
			return true;
	return false;
}

static int push_protected(ctx *c, const char *path, bool exists, bool is_dir)
{
	srt_protected_list *l = &c->pol->protected_paths;
	char *p = strdup(path);
	srt_protected *v = p ? realloc(l->v, (l->n + 1) * sizeof *v) : NULL;
	if (!v) {
		free(p);
		return srt_fail(c->err, SRT_E_NOMEM, "out of memory");
	}
	l->v = v;
	v[l->n++] = (srt_protected){.path = p, .is_dir = is_dir, .exists = exists};
	return 0;
}

/* Protect `abs` (absolute, maybe missing, maybe through symlinks) when it
 * lies in a writable root: where it really is, and a symlink on the way
 * as the link itself.  A missing path gets a stand-in of type `want_dir`
 * when its parent exists; deeper missing paths are covered by a stand-in
 * directory at their first missing component.  *real gets the resolved
 * path (malloc'd) when not NULL. */
static int protect_path(ctx *c, const char *abs, bool want_dir, char **real)
{
	srt_resolved_path r = {0};
	if (real)
		*real = NULL;
	if (srt_path_resolve(abs, &r, c->err) < 0)
		return -1;
	int rc = 0;
	struct stat st;
	if (in_roots(c, abs) && lstat(abs, &st) == 0 && S_ISLNK(st.st_mode))
		rc = push_protected(c, abs, true, false);
	if (rc == 0 && in_roots(c, r.path)) {
		if (r.exists) {
			rc = push_protected(c, r.path, true, r.is_dir);
		} else {
			/* a stand-in where it would be; when its parent is
			 * missing too, the parent as a stand-in directory (the
			 * plan's pins create and hold the directories above) */
			SRT_AUTOFREE char *parent = strdup(r.path);
			char *slash = parent ? strrchr(parent, '/') : NULL;
			if (!slash)
				rc = srt_fail(c->err, SRT_E_NOMEM, "out of memory");
			else {
				*slash = '\0';
				bool parent_exists = !parent[0] || lstat(parent, &st) == 0;
				if (parent_exists)
					rc = push_protected(c, r.path, false, want_dir);
				else if (in_roots(c, parent))
					rc = push_protected(c, parent, false, true);
			}
		}
	}
	if (real && rc == 0)
		*real = r.path;
	else
		free(r.path);
	return rc;
}

/* ---- dotfiles whatever the search depth ---------------------------- */

/* The mandatory names directly in `dir` (home, the project's top), when
 * it lies in a writable root deeper than the search reached. */
static int protect_dotfiles_in(ctx *c, const char *dir)
{
	if (!dir || !in_roots(c, dir))
		return 0;
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	return srt_mandatory_scan(dir, 0, &c->pol->protected_paths, c->err);
}

/* The top of the repository the command starts in: the nearest directory
 * at or above cwd with a .git entry, NULL when none. */
static char *project_top(const char *cwd)
{
	char *d = strdup(cwd);
	for (int hops = 0; d && hops < 256; hops++) {
		char *git = srt_path_join(d, ".git");
		struct stat st;
		bool found = git && lstat(git, &st) == 0;
		free(git);
		if (found)
			return d;
		char *slash = strrchr(d, '/');
		if (!slash || d[1] == '\0')
			break;
		if (slash == d)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(d);
	return NULL;
}

/* ---- what protected git configs point to --------------------------- */

typedef struct found {
	srt_git_key_kind kind;
	char *value;
} found;

typedef struct found_list {
	found *v;
	size_t n, cap;
	bool nomem;
} found_list;

static void collect(const char *section, const char *subsection, const char *name,
		    const char *value, void *data)
{
	found_list *l = data;
	srt_git_key_kind k = srt_git_key_classify(section, subsection, name, value);
	/* bounded: a config planted by an earlier, unprotected run must not
	 * make start-up protect (and stat) without limit */
	if (k == SRT_GIT_KEY_OTHER || !value || !value[0] || l->nomem || l->n >= FOUND_MAX)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		found *v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			l->nomem = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].kind = k;
	l->v[l->n].value = strdup(value);
	if (!l->v[l->n].value) {
		l->nomem = true;
		return;
	}
	l->n++;
}

static void found_list_clear(found_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].value);
	free(l->v);
}

char *srt_hostexec_read_config(const char *path, size_t *len)
{
	SRT_AUTOCLOSE int pfd = srt_open_path(AT_FDCWD, path, 0,
					      RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (pfd < 0)
		return NULL;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", pfd);
	SRT_AUTOCLOSE int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_BYTES)
		return NULL;
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	ssize_t n = read(fd, buf, (size_t)st.st_size);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

/* An absolute form of `value`: "~/x" under home, relative to `base`. */
static char *absolute(const ctx *c, const char *value, const char *base)
{
	if (value[0] == '/')
		return strdup(value);
	if (value[0] == '~' && (value[1] == '/' || value[1] == '\0'))
		return srt_asprintf("%s%s", c->pol->home, value + 1);
	if (value[0] == '~' || !base)
		return NULL; /* ~user: not ours to guess */
	return srt_path_join(base, value);
}

static int protect_config(ctx *c, const char *path, const char *worktree, int depth);

/* One entry of the table found in a config at `cfg_dir`. */
static int protect_found(ctx *c, const found *f, const char *cfg_dir, const char *worktree,
			 int depth)
{
	char prog[4096];
	SRT_AUTOFREE char *abs = NULL;
	switch (f->kind) {
	case SRT_GIT_KEY_INCLUDE:
		abs = absolute(c, f->value, cfg_dir);
		break;
	case SRT_GIT_KEY_HOOKS:
		abs = absolute(c, f->value, worktree);
		break;
	case SRT_GIT_KEY_PROGRAM:
		if (srt_git_program_path(f->value, prog, sizeof prog))
			abs = absolute(c, prog, worktree);
		break;
	case SRT_GIT_KEY_OTHER:
	default:
		return 0;
	}
	if (!abs)
		return 0;
	SRT_AUTOFREE char *real = NULL;
	if (protect_path(c, abs, f->kind == SRT_GIT_KEY_HOOKS, &real) < 0)
		return -1;
	if (f->kind == SRT_GIT_KEY_INCLUDE && real)
		return protect_config(c, real, worktree, depth + 1);
	if (f->kind == SRT_GIT_KEY_HOOKS && real) {
		/* husky >= 9 sets core.hooksPath=.husky/_, whose hooks run the
		 * scripts one level up (.husky/pre-commit): protect that too */
		const char *base = strrchr(real, '/');
		if (base && strcmp(base, "/_") == 0 && base != real) {
			SRT_AUTOFREE char *up = strndup(real, (size_t)(base - real));
			if (!up)
				return srt_fail(c->err, SRT_E_NOMEM, "out of memory");
			return protect_path(c, up, true, NULL);
		}
	}
	return 0;
}

/* Read the git config `path` and protect what it makes git run or read.
 * `worktree` is where relative hook and program paths are taken from. */
static int protect_config(ctx *c, const char *path, const char *worktree, int depth)
{
	if (depth > INCLUDE_MAX_DEPTH || c->configs_read >= CONFIGS_MAX)
		return 0;
	size_t len = 0;
	SRT_AUTOFREE char *text = srt_hostexec_read_config(path, &len);
	if (!text)
		return 0;
	c->configs_read++;
	found_list l = {0};
	srt_gitcfg_parse(text, len, collect, &l);
	int rc = l.nomem ? srt_fail(c->err, SRT_E_NOMEM, "out of memory") : 0;
	SRT_AUTOFREE char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (!slash)
		rc = srt_fail(c->err, SRT_E_NOMEM, "out of memory");
	else
		*slash = '\0';
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = protect_found(c, &l.v[i], dir[0] ? dir : "/", worktree, depth);
	found_list_clear(&l);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t sl = strlen(s), xl = strlen(suffix);
	return sl >= xl && strcmp(s + sl - xl, suffix) == 0;
}

/* Is protected path p a git config, and if so, which work tree do its
 * relative hook and program paths refer to?  Returns the work tree
 * (malloc'd, maybe the project's) or NULL when p is no git config. */
static char *config_worktree(const ctx *c, const char *p, const char *project)
{
	if (ends_with(p, "/.git/config") || ends_with(p, "/.git/config.worktree")) {
		const char *g = strstr(p, "/.git/");
		for (const char *n; g && (n = strstr(g + 1, "/.git/")) != NULL;)
			g = n; /* the last one */
		return g == p ? strdup("/") : strndup(p, (size_t)(g - p));
	}
	bool gitdir_config = false;
	if (ends_with(p, "/config") || ends_with(p, "/config.worktree")) {
		/* a git directory (submodule, worktree, bare): it has HEAD */
		SRT_AUTOFREE char *head = srt_asprintf("%.*s/HEAD",
						       (int)(strrchr(p, '/') - p), p);
		struct stat st;
		gitdir_config = head && lstat(head, &st) == 0;
	}
	const char *base = strrchr(p, '/');
	if (gitdir_config || (base && strcmp(base, "/.gitconfig") == 0))
		return strdup(project ? project : c->pol->cwd);
	return NULL;
}

static int protect_git_configs(ctx *c, const char *project, size_t first)
{
	/* the list grows as we go: index, not pointer */
	for (size_t i = first; i < c->pol->protected_paths.n; i++) {
		const srt_protected *pr = &c->pol->protected_paths.v[i];
		if (!pr->exists || pr->is_dir)
			continue;
		SRT_AUTOFREE char *wt = config_worktree(c, pr->path, project);
		if (!wt)
			continue;
		SRT_AUTOFREE char *path = strdup(pr->path);
		if (!path)
			return srt_fail(c->err, SRT_E_NOMEM, "out of memory");
		if (protect_config(c, path, wt, 0) < 0)
			return -1;
	}
	return 0;
}

/* $XDG_CONFIG_HOME/git/config (default ~/.config/git/config): git's other
 * global config, read by every git run of this user. */
static int protect_xdg_git_config(ctx *c, char **real)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	SRT_AUTOFREE char *p = xdg && xdg[0] == '/' ? srt_path_join(xdg, "git/config")
						   : srt_asprintf("%s/.config/git/config", c->pol->home);
	if (!p)
		return srt_fail(c->err, SRT_E_NOMEM, "out of memory");
	return protect_path(c, p, false, real);
}

/* The settings file in force and the default one, existing or not:
 * written from inside, either would widen later runs. */
static int protect_settings_files(ctx *c, const srt_config *cfg)
{
	srt_error ignored = {0};
	SRT_AUTOFREE char *def = srt_config_default_path(&ignored);
	const char *files[] = {cfg->settings_path, def};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		if (!files[i])
			continue;
		SRT_AUTOFREE char *abs = files[i][0] == '/' ? strdup(files[i])
							    : srt_path_join(c->pol->cwd, files[i]);
		if (!abs)
			return srt_fail(c->err, SRT_E_NOMEM, "out of memory");
		if (protect_path(c, abs, false, NULL) < 0)
			return -1;
	}
	return 0;
}

int srt_hostexec_protect_settings(srt_policy *pol, const srt_config *cfg,
				  const srt_strv *roots, srt_error *err)
{
	ctx c = {.pol = pol, .roots = roots, .err = err};
	return roots->n ? protect_settings_files(&c, cfg) : 0;
}

int srt_hostexec_protect(srt_policy *pol, const srt_config *cfg, const srt_strv *roots,
			 srt_error *err)
{
	ctx c = {.pol = pol, .roots = roots, .err = err};
	if (roots->n == 0)
		return 0;
	if (protect_settings_files(&c, cfg) < 0)
		return -1;
	SRT_AUTOFREE char *project = project_top(pol->cwd);
	if (protect_dotfiles_in(&c, pol->home) < 0 || protect_dotfiles_in(&c, project) < 0)
		return -1;
	SRT_AUTOFREE char *xdg = NULL;
	if (protect_xdg_git_config(&c, &xdg) < 0)
		return -1;
	if (xdg && in_roots(&c, xdg) && protect_config(&c, xdg, project ? project : pol->cwd, 0) < 0)
		return -1;
	return protect_git_configs(&c, project, 0);
}
