/* plan.c - compute the mount plan from resolved rules (pure: no I/O).
 *
 * Every question the planner asks is "which entries are at or above this
 * path?".  Entries, write roots, stand-ins and ops are indexed by path
 * (pathindex.c), and the question walks up the path's own prefixes: a
 * lookup per level instead of a scan over every entry, so planning n
 * protected paths costs O(n log n) (the sort), not O(n^2). */
#include "plan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pathindex.h"

enum {
	R_DENY_READ = 1 << 0,
	R_ALLOW_READ = 1 << 1,
	R_ALLOW_WRITE = 1 << 2,
	R_DENY_WRITE = 1 << 3,
	R_PROTECTED = 1 << 4, /* mandatory deny */
	R_PIN = 1 << 5,       /* ancestor of a protected path in a write root */
	R_KERNEL = 1 << 6,    /* mount point of a host kernel interface */
	R_PRIVATE = 1 << 7,   /* srt's own state: always hidden */
	R_FRESH_GIT = 1 << 8, /* a root's missing .git: a private git directory (gitfresh.c) */
};

/* What makes a path read-only beneath a write root. */
#define R_NOT_WRITABLE (R_DENY_WRITE | R_PROTECTED | R_KERNEL)

typedef struct cand {
	char *path;
	unsigned rules;
	bool exists;
	bool is_dir;
	bool standin; /* will be created on the host before mounting */
} cand;

typedef struct cand_set {
	cand *v;
	size_t n, cap;
	srt_pathindex ix; /* path -> index in v */
} cand_set;

/* Room for one more element in array `v` (n of *cap elements of `size`
 * bytes used): `v` itself, or the array moved to twice the size; NULL when
 * out of memory (then `v` is unchanged). */
static void *reserve(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	size_t ncap = *cap ? *cap * 2 : 32;
	if (ncap < *cap || ncap > SIZE_MAX / size)
		return NULL;
	void *nv = realloc(v, ncap * size);
	if (nv)
		*cap = ncap;
	return nv;
}

/* The entry for path[0..len), if any. */
static cand *cand_find(const cand_set *s, const char *path, size_t len)
{
	size_t i;
	return srt_pathindex_get(&s->ix, path, len, &i) ? &s->v[i] : NULL;
}

static cand *cand_add(cand_set *s, const char *path, unsigned rule,
		      bool exists, bool is_dir)
{
	cand *c = cand_find(s, path, strlen(path));
	if (c) {
		c->rules |= rule;
		if (exists && !c->exists) {
			c->exists = true;
			c->is_dir = is_dir;
		}
		return c;
	}
	cand *v = reserve(s->v, &s->cap, s->n, sizeof *s->v);
	if (!v)
		return NULL;
	s->v = v;
	char *p = strdup(path);
	if (!p)
		return NULL;
	if (srt_pathindex_put(&s->ix, p, strlen(p), s->n) < 0) {
		free(p);
		return NULL;
	}
	s->v[s->n] = (cand){.path = p, .rules = rule, .exists = exists,
			    .is_dir = is_dir};
	return &s->v[s->n++];
}

/* After the entries were reordered. */
static int cand_reindex(cand_set *s)
{
	srt_pathindex_clear(&s->ix);
	for (size_t i = 0; i < s->n; i++)
		if (srt_pathindex_put(&s->ix, s->v[i].path, strlen(s->v[i].path), i) < 0)
			return -1;
	return 0;
}

static void cand_set_clear(cand_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	srt_pathindex_clear(&s->ix);
	*s = (cand_set){0};
}

static int add_list(cand_set *s, const srt_resolved_list *l, unsigned rule)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (!cand_add(s, l->v[i].path, rule, l->v[i].exists,
			      l->v[i].is_dir))
			return -1;
	return 0;
}

/* The rules of the deepest entry at or above path[0..len) that has any of
 * `mask`; 0 when there is none. */
static unsigned nearest_rules(const cand_set *s, const char *path, size_t len, unsigned mask)
{
	for (; len; len = srt_path_up(path, len)) {
		const cand *c = cand_find(s, path, len);
		if (c && (c->rules & mask))
			return c->rules;
	}
	return 0;
}

/* The deepest of denyRead / allowRead / allowWrite at or above decides. */
static bool readable_len(const cand_set *s, const char *path, size_t len)
{
	if (nearest_rules(s, path, len, R_PRIVATE))
		return false; /* whatever the settings say */
	unsigned r = nearest_rules(s, path, len, R_DENY_READ | R_ALLOW_READ | R_ALLOW_WRITE);
	return !r || (r & (R_ALLOW_READ | R_ALLOW_WRITE));
}

static bool writable_len(const cand_set *s, const char *path, size_t len)
{
	return readable_len(s, path, len) && nearest_rules(s, path, len, R_ALLOW_WRITE) &&
	       !nearest_rules(s, path, len, R_NOT_WRITABLE);
}

static bool readable(const cand_set *s, const char *path)
{
	return readable_len(s, path, strlen(path));
}

static bool writable(const cand_set *s, const char *path)
{
	return writable_len(s, path, strlen(path));
}

/* Is path[0..len) at or below an entry of the index? */
static bool indexed_at_or_above(const srt_pathindex *ix, const char *path, size_t len)
{
	for (; len; len = srt_path_up(path, len))
		if (srt_pathindex_get(ix, path, len, NULL))
			return true;
	return false;
}

static int index_list(srt_pathindex *ix, const srt_resolved_list *l)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (srt_pathindex_put(ix, l->v[i].path, strlen(l->v[i].path), i) < 0)
			return -1;
	return 0;
}

static int index_strv(srt_pathindex *ix, const srt_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		if (srt_pathindex_put(ix, sv->v[i], strlen(sv->v[i]), i) < 0)
			return -1;
	return 0;
}

int srt_plan_write_roots(const srt_plan_input *in, srt_strv *out)
{
	srt_pathindex deny = {0}, seen = {0};
	int rc = -1;
	if (index_list(&deny, in->deny_write) < 0 || index_list(&deny, in->kernel_mounts) < 0 ||
	    (in->private_paths && index_strv(&deny, in->private_paths) < 0) ||
	    index_strv(&seen, out) < 0)
		goto done;
	for (size_t i = 0; in->allow_write && i < in->allow_write->n; i++) {
		const srt_resolved_path *w = &in->allow_write->v[i];
		size_t len = strlen(w->path);
		if (!w->exists || indexed_at_or_above(&deny, w->path, len) ||
		    srt_pathindex_get(&seen, w->path, len, NULL))
			continue;
		if (srt_strv_push(out, w->path) < 0 ||
		    srt_pathindex_put(&seen, out->v[out->n - 1], len, out->n - 1) < 0)
			goto done;
	}
	rc = 0;
done:
	srt_pathindex_clear(&deny);
	srt_pathindex_clear(&seen);
	return rc;
}

static int cmp_cand(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	size_t dx = srt_path_depth(x->path), dy = srt_path_depth(y->path);
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x->path, y->path);
}

static const char *why_of(unsigned rules)
{
	if (rules & R_PRIVATE)
		return "srt's own state";
	if (rules & R_PROTECTED)
		return "mandatory deny";
	if (rules & R_KERNEL)
		return "host kernel interface";
	if (rules & R_DENY_WRITE)
		return "denyWrite";
	if (rules & R_ALLOW_WRITE)
		return "allowWrite";
	if (rules & R_ALLOW_READ)
		return "allowRead";
	if (rules & R_DENY_READ)
		return "denyRead";
	if (rules & R_PIN)
		return "pin (keeps a protected path in place)";
	if (rules & R_FRESH_GIT)
		return "new repository (a private git directory, imported at exit)";
	return "rule";
}

/* Planning state beyond the entries: indexes of what the plan holds. */
typedef struct planner {
	cand_set s;
	srt_plan *plan;
	srt_pathindex roots;    /* plan->write_roots */
	srt_pathindex standins; /* plan->standins, so each is listed once */
} planner;

static int append_standin(srt_plan *p, const char *path, bool is_dir)
{
	srt_standin *v = reserve(p->standins, &p->standins_cap, p->n_standins, sizeof *v);
	if (!v)
		return -1;
	p->standins = v;
	char *copy = strdup(path);
	if (!copy)
		return -1;
	p->standins[p->n_standins++] = (srt_standin){.path = copy, .is_dir = is_dir};
	return 0;
}

static int push_standin(planner *pl, const char *path, bool is_dir)
{
	size_t len = strlen(path);
	if (srt_pathindex_get(&pl->standins, path, len, NULL))
		return 0;
	if (append_standin(pl->plan, path, is_dir) < 0)
		return -1;
	const srt_plan *p = pl->plan;
	return srt_pathindex_put(&pl->standins, p->standins[p->n_standins - 1].path, len,
				 p->n_standins - 1);
}

/* Length of the deepest write root strictly above `path`, 0 for none. */
static size_t root_above(const planner *pl, const char *path)
{
	for (size_t len = srt_path_up(path, strlen(path)); len; len = srt_path_up(path, len))
		if (srt_pathindex_get(&pl->roots, path, len, NULL))
			return len;
	return 0;
}

/* Keep `path` in place inside its write root: every directory between the
 * root and the path becomes a pin (a writable self-bind, so it cannot be
 * renamed or removed), and the path and its pins must exist at spawn
 * ("ensure", even when they exist now: another run's stand-in may be gone
 * by the time this one mounts). */
static int pin_ancestors(planner *pl, size_t rl, const char *path, bool exists)
{
	SRT_AUTOFREE char *buf = strdup(path);
	if (!buf)
		return -1;
	/* the pins start below the root ("/" as the root: below "/") */
	for (char *q = buf + (rl == 1 ? 1 : rl + 1); (q = strchr(q, '/')) != NULL; q++) {
		*q = '\0';
		cand *c = cand_add(&pl->s, buf, R_PIN, exists, true);
		if (!c)
			return -1;
		c->standin = true;
		if (push_standin(pl, buf, true) < 0)
			return -1;
		*q = '/';
	}
	return 0;
}

static int protect_one(planner *pl, const char *path, bool is_dir, bool exists, unsigned rule)
{
	size_t rl = root_above(pl, path);
	if (!rl)
		return 0;
	if (pin_ancestors(pl, rl, path, exists) < 0)
		return -1;
	cand *c = cand_add(&pl->s, path, rule, exists, is_dir);
	if (!c)
		return -1;
	c->standin = true;
	if (!c->exists)
		c->is_dir = is_dir;
	return push_standin(pl, path, c->exists ? c->is_dir : is_dir);
}

/* srt's own state: a hidden directory everywhere, its ancestors inside a
 * write root pinned (renaming /tmp/x when /tmp/x/srt-0 is hidden must fail
 * as well).  It is not a stand-in: srt_run_open creates it. */
static int add_private(planner *pl, const srt_plan_input *in)
{
	for (size_t i = 0; in->private_paths && i < in->private_paths->n; i++) {
		const char *path = in->private_paths->v[i];
		size_t rl = root_above(pl, path);
		if (rl && pin_ancestors(pl, rl, path, true) < 0)
			return -1;
		if (!cand_add(&pl->s, path, R_PRIVATE, true, true))
			return -1;
	}
	return 0;
}

/* Writable, judged without the entries at `path` itself. */
static bool parent_writable(const cand_set *s, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = !slash ? strlen(path) : slash == path ? 1 : (size_t)(slash - path);
	return writable_len(s, path, len);
}

/* Mandatory-deny paths inside writable roots.  In list order: a path
 * beneath one protected before it is read-only already. */
static int add_protected(planner *pl, const srt_plan_input *in)
{
	const srt_protected_list *l = in->protected_paths;
	for (size_t i = 0; l && i < l->n; i++) {
		const srt_protected *pr = &l->v[i];
		if (!writable(&pl->s, pr->path))
			continue; /* already read-only or hidden */
		if (protect_one(pl, pr->path, pr->is_dir, pr->exists,
				pr->fresh_git ? R_FRESH_GIT : R_PROTECTED) < 0)
			return -1;
	}
	return 0;
}

/* denyWrite entries inside a writable region are kept in place like the
 * mandatory ones; one that does not exist gets an empty read-only stand-in
 * file (and its missing parents stand-in directories), so it cannot be
 * created. */
static int add_deny_write(planner *pl, const srt_plan_input *in)
{
	for (size_t i = 0; in->deny_write && i < in->deny_write->n; i++) {
		const srt_resolved_path *d = &in->deny_write->v[i];
		if (!parent_writable(&pl->s, d->path))
			continue;
		if (protect_one(pl, d->path, d->exists ? d->is_dir : false, d->exists,
				R_DENY_WRITE) < 0)
			return -1;
	}
	return 0;
}

static int push_op(srt_plan *p, srt_op_kind kind, const char *path,
		   bool wr, bool is_dir, const char *why)
{
	srt_mount_op *v = reserve(p->ops, &p->ops_cap, p->n_ops, sizeof *v);
	if (!v)
		return -1;
	p->ops = v;
	char *copy = strdup(path);
	if (!copy)
		return -1;
	p->ops[p->n_ops++] = (srt_mount_op){.kind = kind, .path = copy,
					    .writable = wr, .is_dir = is_dir,
					    .parent = -1, .why = why};
	return 0;
}

/* parent of op i: the latest op before it whose path encloses its own
 * (with ops sorted parents first: the nearest enclosing one). */
static int link_parents(srt_plan *p)
{
	srt_pathindex before = {0}; /* ops 0..i-1; the later of equal paths */
	int rc = 0;
	for (size_t i = 0; i < p->n_ops && rc == 0; i++) {
		const char *path = p->ops[i].path;
		size_t len = strlen(path), j;
		p->ops[i].parent = -1;
		for (size_t up = srt_path_up(path, len); up; up = srt_path_up(path, up))
			if (srt_pathindex_get(&before, path, up, &j) && (int)j > p->ops[i].parent)
				p->ops[i].parent = (int)j;
		rc = srt_pathindex_put(&before, path, len, i);
	}
	srt_pathindex_clear(&before);
	return rc;
}

/* The op enclosing `path` (at or above it) that was pushed last, or -1. */
static long enclosing_op(const srt_pathindex *ops, const char *path)
{
	long best = -1;
	size_t j;
	for (size_t len = strlen(path); len; len = srt_path_up(path, len))
		if (srt_pathindex_get(ops, path, len, &j) && (long)j > best)
			best = (long)j;
	return best;
}

/* One op per entry whose view differs from what encloses it. */
static int push_ops(const cand_set *s, srt_plan *out)
{
	const bool base_w = out->base_writable;
	srt_pathindex ops = {0};
	int rc = 0;
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		const cand *c = &s->v[i];
		bool present = c->exists || c->standin;
		if (!present)
			continue; /* nothing to bind, hide or protect */
		if (!(c->rules & R_PRIVATE) && nearest_rules(s, c->path, strlen(c->path), R_PRIVATE))
			continue; /* inside srt's state: hidden with it, whatever the rule */
		bool r = readable(s, c->path);
		bool w = r && writable(s, c->path);
		/* the state of the nearest enclosing op (or the base: the host's
		 * tree, readable, read-only unless "/" is a write root) */
		bool pr = true, pw = base_w;
		long e = enclosing_op(&ops, c->path);
		if (e >= 0) {
			const srt_mount_op *o = &out->ops[e];
			pr = o->kind == SRT_OP_BIND;
			pw = o->kind == SRT_OP_BIND && o->writable;
		}
		bool forced = ((c->rules & (R_PROTECTED | R_PIN)) && pw) || (c->rules & R_FRESH_GIT);
		if (r == pr && w == pw && !forced)
			continue;
		if (!r)
			rc = push_op(out, c->is_dir ? SRT_OP_HIDE_DIR : SRT_OP_HIDE_FILE,
				     c->path, false, c->is_dir, why_of(c->rules));
		else
			rc = push_op(out, SRT_OP_BIND, c->path, w, c->is_dir,
				     why_of(c->rules));
		if (rc == 0) {
			out->ops[out->n_ops - 1].link_ok = (c->rules & R_PROTECTED) != 0;
			out->ops[out->n_ops - 1].fresh_git = w && (c->rules & R_FRESH_GIT);
			rc = srt_pathindex_put(&ops, out->ops[out->n_ops - 1].path,
					       strlen(c->path), out->n_ops - 1);
		}
	}
	srt_pathindex_clear(&ops);
	return rc;
}

int srt_plan_build(const srt_plan_input *in, srt_plan *out, srt_error *err)
{
	*out = (srt_plan){0};
	planner pl = {.plan = out};
	cand_set *s = &pl.s;
	if (add_list(s, in->deny_read, R_DENY_READ) < 0 ||
	    add_list(s, in->allow_read, R_ALLOW_READ) < 0 ||
	    add_list(s, in->allow_write, R_ALLOW_WRITE) < 0 ||
	    add_list(s, in->deny_write, R_DENY_WRITE) < 0 ||
	    add_list(s, in->kernel_mounts, R_KERNEL) < 0 ||
	    srt_plan_write_roots(in, &out->write_roots) < 0 ||
	    index_strv(&pl.roots, &out->write_roots) < 0 ||
	    add_private(&pl, in) < 0 ||
	    add_protected(&pl, in) < 0 || add_deny_write(&pl, in) < 0)
		goto nomem;

	out->base_writable = srt_pathindex_get(&pl.roots, "/", 1, NULL);
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, cmp_cand);
	if (cand_reindex(s) < 0 || push_ops(s, out) < 0 || link_parents(out) < 0)
		goto nomem;
	cand_set_clear(s);
	srt_pathindex_clear(&pl.roots);
	srt_pathindex_clear(&pl.standins);
	return 0;
nomem:
	cand_set_clear(s);
	srt_pathindex_clear(&pl.roots);
	srt_pathindex_clear(&pl.standins);
	srt_plan_clear(out);
	return srt_fail(err, SRT_E_NOMEM, "out of memory while planning mounts");
}

int srt_plan_copy(const srt_plan *src, srt_plan *dst, srt_error *err)
{
	*dst = (srt_plan){.base_writable = src->base_writable};
	for (size_t i = 0; i < src->n_ops; i++) {
		const srt_mount_op *o = &src->ops[i];
		if (push_op(dst, o->kind, o->path, o->writable, o->is_dir, o->why) < 0)
			goto nomem;
		dst->ops[dst->n_ops - 1].link_ok = o->link_ok;
		dst->ops[dst->n_ops - 1].fresh_git = o->fresh_git;
		if (o->source && !(dst->ops[dst->n_ops - 1].source = strdup(o->source)))
			goto nomem;
	}
	/* a built plan lists each stand-in once */
	for (size_t i = 0; i < src->n_standins; i++)
		if (append_standin(dst, src->standins[i].path, src->standins[i].is_dir) < 0)
			goto nomem;
	for (size_t i = 0; i < src->write_roots.n; i++)
		if (srt_strv_push(&dst->write_roots, src->write_roots.v[i]) < 0)
			goto nomem;
	if (link_parents(dst) < 0)
		goto nomem;
	return 0;
nomem:
	srt_plan_clear(dst);
	return srt_fail(err, SRT_E_NOMEM, "out of memory");
}

void srt_plan_skip_under(srt_plan *plan, const char *path)
{
	for (size_t i = 0; i < plan->n_ops; i++)
		if (srt_path_is_within(plan->ops[i].path, path))
			plan->ops[i].skip = true;
}

void srt_plan_clear(srt_plan *plan)
{
	for (size_t i = 0; i < plan->n_ops; i++) {
		free(plan->ops[i].path);
		free(plan->ops[i].source);
	}
	free(plan->ops);
	for (size_t i = 0; i < plan->n_standins; i++)
		free(plan->standins[i].path);
	free(plan->standins);
	srt_strv_clear(&plan->write_roots);
	*plan = (srt_plan){0};
}

const char *srt_op_kind_name(srt_op_kind k)
{
	switch (k) {
	case SRT_OP_BIND:
		return "bind";
	case SRT_OP_HIDE_DIR:
		return "hide-dir";
	case SRT_OP_HIDE_FILE:
		return "hide-file";
	default:
		return "?";
	}
}
