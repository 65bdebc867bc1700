/* plan.c - compute the mount plan from resolved rules (pure: no I/O). */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

enum {
	R_DENY_READ = 1 << 0,
	R_ALLOW_READ = 1 << 1,
	R_ALLOW_WRITE = 1 << 2,
	R_DENY_WRITE = 1 << 3,
	R_PROTECTED = 1 << 4, /* mandatory deny */
	R_PIN = 1 << 5,       /* ancestor of a protected path in a write root */
	R_PRIVATE = 1 << 6,   /* srt's own state: always hidden */
};

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
} cand_set;

static cand *cand_find(cand_set *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].path, path) == 0)
			return &s->v[i];
	return NULL;
}

static cand *cand_add(cand_set *s, const char *path, unsigned rule,
		      bool exists, bool is_dir)
{
	cand *c = cand_find(s, path);
	if (c) {
		c->rules |= rule;
		if (exists && !c->exists) {
			c->exists = true;
			c->is_dir = is_dir;
		}
		return c;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		cand *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	char *p = strdup(path);
	if (!p)
		return NULL;
	s->v[s->n] = (cand){.path = p, .rules = rule, .exists = exists,
			    .is_dir = is_dir};
	return &s->v[s->n++];
}

static void cand_set_clear(cand_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
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

/* Is there an entry with any of `rules` at or above `path`? */
static bool any_above(const cand_set *s, const char *path, unsigned rules)
{
	for (size_t i = 0; i < s->n; i++)
		if ((s->v[i].rules & rules) &&
		    srt_path_is_within(path, s->v[i].path))
			return true;
	return false;
}

static bool readable(const cand_set *s, const char *path)
{
	if (any_above(s, path, R_PRIVATE))
		return false; /* whatever the settings say */
	long best_depth = -1;
	bool best = true;
	for (size_t i = 0; i < s->n; i++) {
		const cand *c = &s->v[i];
		if (!(c->rules & (R_DENY_READ | R_ALLOW_READ | R_ALLOW_WRITE)))
			continue;
		if (!srt_path_is_within(path, c->path))
			continue;
		long d = (long)srt_path_depth(c->path);
		if (d > best_depth) {
			best_depth = d;
			best = (c->rules & (R_ALLOW_READ | R_ALLOW_WRITE)) != 0;
		}
	}
	return best;
}

static bool writable(const cand_set *s, const char *path)
{
	return readable(s, path) && any_above(s, path, R_ALLOW_WRITE) &&
	       !any_above(s, path, R_DENY_WRITE | R_PROTECTED);
}

int srt_plan_write_roots(const srt_plan_input *in, srt_strv *out)
{
	for (size_t i = 0; in->allow_write && i < in->allow_write->n; i++) {
		const srt_resolved_path *w = &in->allow_write->v[i];
		bool denied = false;
		for (size_t j = 0; in->deny_write && j < in->deny_write->n; j++)
			if (srt_path_is_within(w->path, in->deny_write->v[j].path))
				denied = true;
		for (size_t j = 0; in->private_paths && j < in->private_paths->n; j++)
			if (srt_path_is_within(w->path, in->private_paths->v[j]))
				denied = true;
		if (!w->exists || denied || srt_strv_contains(out, w->path))
			continue;
		if (srt_strv_push(out, w->path) < 0)
			return -1;
	}
	return 0;
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
	return "rule";
}

static int push_standin(srt_plan *p, const char *path, bool is_dir)
{
	for (size_t i = 0; i < p->n_standins; i++)
		if (strcmp(p->standins[i].path, path) == 0)
			return 0;
	srt_standin *v = realloc(p->standins, (p->n_standins + 1) * sizeof *v);
	if (!v)
		return -1;
	p->standins = v;
	char *copy = strdup(path);
	if (!copy)
		return -1;
	v[p->n_standins++] = (srt_standin){.path = copy, .is_dir = is_dir};
	return 0;
}

/* The deepest write root strictly above `path`, or NULL. */
static const char *root_above(const srt_plan *plan, const char *path)
{
	const char *root = NULL;
	for (size_t r = 0; r < plan->write_roots.n; r++)
		if (srt_path_is_within(path, plan->write_roots.v[r]) &&
		    strcmp(path, plan->write_roots.v[r]) != 0 &&
		    (!root || strlen(plan->write_roots.v[r]) > strlen(root)))
			root = plan->write_roots.v[r];
	return root;
}

/* Every directory between `root` and `path` becomes a pin (a writable
 * self-bind, so it cannot be renamed or removed) that must exist at spawn
 * ("ensure", even when it exists now: another run's stand-in may be gone
 * by the time this one mounts). */
static int pin_ancestors(cand_set *s, srt_plan *plan, const char *root, const char *path,
			 bool exists)
{
	SRT_AUTOFREE char *buf = strdup(path);
	if (!buf)
		return -1;
	size_t rl = strlen(root);
	for (char *q = buf + rl + 1; (q = strchr(q, '/')) != NULL; q++) {
		*q = '\0';
		cand *c = cand_add(s, buf, R_PIN, exists, true);
		if (!c)
			return -1;
		c->standin = true;
		if (push_standin(plan, buf, true) < 0)
			return -1;
		*q = '/';
	}
	return 0;
}

/* Keep `path` in place inside its write root: its ancestors are pins, and
 * the path itself must exist at spawn too. */
static int protect_one(cand_set *s, srt_plan *plan, const char *path, bool is_dir,
		       bool exists, unsigned rule)
{
	const char *root = root_above(plan, path);
	if (!root)
		return 0;
	if (pin_ancestors(s, plan, root, path, exists) < 0)
		return -1;
	cand *c = cand_add(s, path, rule, exists, is_dir);
	if (!c)
		return -1;
	c->standin = true;
	if (!c->exists)
		c->is_dir = is_dir;
	return push_standin(plan, path, c->exists ? c->is_dir : is_dir);
}

/* srt's own state: a hidden directory everywhere, its ancestors inside a
 * write root pinned (renaming /tmp/x when /tmp/x/srt-0 is hidden must fail
 * as well).  It is not a stand-in: srt_run_open creates it. */
static int add_private(cand_set *s, srt_plan *plan, const srt_plan_input *in)
{
	for (size_t i = 0; in->private_paths && i < in->private_paths->n; i++) {
		const char *path = in->private_paths->v[i];
		const char *root = root_above(plan, path);
		if (root && pin_ancestors(s, plan, root, path, true) < 0)
			return -1;
		if (!cand_add(s, path, R_PRIVATE, true, true))
			return -1;
	}
	return 0;
}

/* Writable, judged without the entries at `path` itself. */
static bool parent_writable(const cand_set *s, const char *path)
{
	SRT_AUTOFREE char *parent = strdup(path);
	if (!parent)
		return false;
	char *slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return readable(s, parent) && any_above(s, parent, R_ALLOW_WRITE) &&
	       !any_above(s, parent, R_DENY_WRITE | R_PROTECTED);
}

/* Mandatory-deny paths inside writable roots. */
static int add_protected(cand_set *s, srt_plan *plan, const srt_plan_input *in)
{
	const srt_protected_list *pl = in->protected_paths;
	for (size_t i = 0; pl && i < pl->n; i++) {
		const srt_protected *pr = &pl->v[i];
		if (!writable(s, pr->path))
			continue; /* already read-only or hidden */
		if (protect_one(s, plan, pr->path, pr->is_dir, pr->exists, R_PROTECTED) < 0)
			return -1;
	}
	return 0;
}

/* denyWrite entries inside a writable region are kept in place like the
 * mandatory ones; one that does not exist gets an empty read-only stand-in
 * file (and its missing parents stand-in directories), so it cannot be
 * created. */
static int add_deny_write(cand_set *s, srt_plan *plan, const srt_plan_input *in)
{
	for (size_t i = 0; in->deny_write && i < in->deny_write->n; i++) {
		const srt_resolved_path *d = &in->deny_write->v[i];
		if (!parent_writable(s, d->path))
			continue;
		if (protect_one(s, plan, d->path, d->exists ? d->is_dir : false, d->exists,
				R_DENY_WRITE) < 0)
			return -1;
	}
	return 0;
}

static int push_op(srt_plan *p, srt_op_kind kind, const char *path,
		   bool wr, bool is_dir, const char *why)
{
	srt_mount_op *v = realloc(p->ops, (p->n_ops + 1) * sizeof *v);
	if (!v)
		return -1;
	p->ops = v;
	char *copy = strdup(path);
	if (!copy)
		return -1;
	v[p->n_ops++] = (srt_mount_op){.kind = kind, .path = copy,
				       .writable = wr, .is_dir = is_dir,
				       .parent = -1, .why = why};
	return 0;
}

static void link_parents(srt_plan *p)
{
	for (size_t i = 0; i < p->n_ops; i++) {
		p->ops[i].parent = -1;
		for (size_t j = i; j-- > 0;)
			if (srt_path_is_within(p->ops[i].path, p->ops[j].path) &&
			    strcmp(p->ops[i].path, p->ops[j].path) != 0) {
				p->ops[i].parent = (int)j;
				break;
			}
	}
}

int srt_plan_build(const srt_plan_input *in, srt_plan *out, srt_error *err)
{
	cand_set s = {0};
	*out = (srt_plan){0};
	if (add_list(&s, in->deny_read, R_DENY_READ) < 0 ||
	    add_list(&s, in->allow_read, R_ALLOW_READ) < 0 ||
	    add_list(&s, in->allow_write, R_ALLOW_WRITE) < 0 ||
	    add_list(&s, in->deny_write, R_DENY_WRITE) < 0 ||
	    srt_plan_write_roots(in, &out->write_roots) < 0 ||
	    add_private(&s, out, in) < 0 ||
	    add_protected(&s, out, in) < 0 || add_deny_write(&s, out, in) < 0)
		goto nomem;

	if (s.n > 1)
		qsort(s.v, s.n, sizeof *s.v, cmp_cand);

	for (size_t i = 0; i < s.n; i++) {
		const cand *c = &s.v[i];
		bool present = c->exists || c->standin;
		if (!present)
			continue; /* nothing to bind, hide or protect */
		if (!(c->rules & R_PRIVATE) && any_above(&s, c->path, R_PRIVATE))
			continue; /* inside srt's state: hidden with it, whatever the rule */
		bool r = readable(&s, c->path);
		bool w = r && writable(&s, c->path);
		/* the state of the nearest enclosing op (or the base: the host's
		 * tree, readable and read-only) */
		bool pr = true, pw = false;
		for (size_t j = out->n_ops; j-- > 0;) {
			const srt_mount_op *o = &out->ops[j];
			if (srt_path_is_within(c->path, o->path)) {
				pr = o->kind == SRT_OP_BIND;
				pw = o->kind == SRT_OP_BIND && o->writable;
				break;
			}
		}
		bool forced = (c->rules & (R_PROTECTED | R_PIN)) && pw;
		if (r == pr && w == pw && !forced)
			continue;
		int rc;
		if (!r)
			rc = push_op(out, c->is_dir ? SRT_OP_HIDE_DIR : SRT_OP_HIDE_FILE,
				     c->path, false, c->is_dir, why_of(c->rules));
		else
			rc = push_op(out, SRT_OP_BIND, c->path, w, c->is_dir,
				     why_of(c->rules));
		if (rc < 0)
			goto nomem;
		out->ops[out->n_ops - 1].link_ok = (c->rules & R_PROTECTED) != 0;
	}
	link_parents(out);
	cand_set_clear(&s);
	return 0;
nomem:
	cand_set_clear(&s);
	srt_plan_clear(out);
	return srt_fail(err, SRT_E_NOMEM, "out of memory while planning mounts");
}

int srt_plan_copy(const srt_plan *src, srt_plan *dst, srt_error *err)
{
	*dst = (srt_plan){0};
	for (size_t i = 0; i < src->n_ops; i++) {
		const srt_mount_op *o = &src->ops[i];
		if (push_op(dst, o->kind, o->path, o->writable, o->is_dir, o->why) < 0)
			goto nomem;
		dst->ops[dst->n_ops - 1].link_ok = o->link_ok;
	}
	for (size_t i = 0; i < src->n_standins; i++)
		if (push_standin(dst, src->standins[i].path, src->standins[i].is_dir) < 0)
			goto nomem;
	for (size_t i = 0; i < src->write_roots.n; i++)
		if (srt_strv_push(&dst->write_roots, src->write_roots.v[i]) < 0)
			goto nomem;
	link_parents(dst);
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
	for (size_t i = 0; i < plan->n_ops; i++)
		free(plan->ops[i].path);
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
