/* The mount plan for thousands of repositories: properties of the result,
 * and that planning scales (it was quadratic: 4,000 nested repositories
 * took seconds of CPU, 20,000 protected paths minutes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan.h"

/* What srt_mandatory_scan returns for a workspace /w with `repos`
 * repositories /w/gNNN/rNNNNN, 100 per group: .git/config and .git/hooks
 * exist, .git/commondir does not, and every tenth has a .vscode; sorted
 * like the scan's results (parents first). */
typedef struct workspace {
	srt_protected *v;
	size_t n;
} workspace;

static void workspace_make(workspace *ws, size_t repos)
{
	ws->v = calloc(repos * 4, sizeof *ws->v);
	assert_non_null(ws->v);
	ws->n = 0;
	for (size_t i = 0; i < repos; i++) {
		char r[64];
		snprintf(r, sizeof r, "/w/g%03zu/r%05zu", i / 100, i);
		struct {
			const char *rel;
			bool is_dir, exists;
		} items[] = {
			{"/.git/commondir", false, false},
			{"/.git/config", false, true},
			{"/.git/hooks", true, true},
			{"/.vscode", true, true},
		};
		for (size_t k = 0; k < 4; k++) {
			if (k == 3 && i % 10)
				continue;
			char *p = malloc(strlen(r) + strlen(items[k].rel) + 1);
			assert_non_null(p);
			strcpy(p, r);
			strcat(p, items[k].rel);
			ws->v[ws->n++] = (srt_protected){.path = p, .is_dir = items[k].is_dir,
							 .exists = items[k].exists};
		}
	}
}

static void workspace_clear(workspace *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		free(ws->v[i].path);
	free(ws->v);
}

static bool op_before(const srt_mount_op *a, const srt_mount_op *b)
{
	size_t da = srt_path_depth(a->path), db = srt_path_depth(b->path);
	return da != db ? da < db : strcmp(a->path, b->path) < 0;
}

static const srt_mount_op *find(const srt_plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_ops; i++)
		if (strcmp(p->ops[i].path, path) == 0)
			return &p->ops[i];
	return NULL;
}

/* 1,000 repositories, a hidden group and a re-opened repository in it:
 * checked against the definitions, by brute force. */
static void test_many_repositories_plan_properties(void **state)
{
	(void)state;
	workspace ws;
	workspace_make(&ws, 1000);
	srt_resolved_path w[] = {{.path = "/w", .exists = true, .is_dir = true}};
	srt_resolved_path dr[] = {{.path = "/w/g004", .exists = true, .is_dir = true}};
	srt_resolved_path ar[] = {{.path = "/w/g004/r00450", .exists = true, .is_dir = true}};
	srt_resolved_list W = {w, 1}, DR = {dr, 1}, AR = {ar, 1};
	srt_protected_list P = {ws.v, ws.n};
	srt_plan_input in = {.allow_write = &W, .deny_read = &DR, .allow_read = &AR,
			     .protected_paths = &P};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);

	/* sorted, parents first, each path once */
	for (size_t i = 1; i < p.n_ops; i++)
		assert_true(op_before(&p.ops[i - 1], &p.ops[i]));
	/* parent: the nearest op above, by the definition */
	for (size_t i = 0; i < p.n_ops; i++) {
		int want = -1;
		for (size_t j = i; j-- > 0;)
			if (srt_path_is_within(p.ops[i].path, p.ops[j].path)) {
				want = (int)j;
				break;
			}
		assert_int_equal(p.ops[i].parent, want);
	}
	/* every protected path read-only where it is visible; its pins
	 * writable; inside the hidden group only the re-opened repository */
	for (size_t i = 0; i < ws.n; i++) {
		const char *path = ws.v[i].path;
		const srt_mount_op *o = find(&p, path);
		bool hidden = srt_path_is_within(path, "/w/g004") &&
			      !srt_path_is_within(path, "/w/g004/r00450");
		if (hidden) {
			assert_null(o);
			continue;
		}
		assert_non_null(o);
		assert_int_equal(o->kind, SRT_OP_BIND);
		assert_false(o->writable);
		assert_true(o->parent >= 0);
		const srt_mount_op *pin = &p.ops[o->parent];
		assert_int_equal(pin->kind, SRT_OP_BIND);
		assert_true(pin->writable);
	}
	const srt_mount_op *g4 = find(&p, "/w/g004");
	assert_non_null(g4);
	assert_int_equal(g4->kind, SRT_OP_HIDE_DIR);
	/* stand-ins: once each, a directory before what is inside it */
	for (size_t i = 0; i < p.n_standins; i++)
		for (size_t j = 0; j < p.n_standins; j++) {
			if (i == j)
				continue;
			assert_string_not_equal(p.standins[i].path, p.standins[j].path);
			if (srt_path_is_within(p.standins[j].path, p.standins[i].path))
				assert_true(i < j);
		}
	/* a copy links the same parents */
	srt_plan c;
	assert_int_equal(srt_plan_copy(&p, &c, NULL), 0);
	assert_int_equal(c.n_ops, p.n_ops);
	for (size_t i = 0; i < c.n_ops; i++)
		assert_int_equal(c.ops[i].parent, p.ops[i].parent);
	srt_plan_clear(&c);
	srt_plan_clear(&p);
	workspace_clear(&ws);
}

static double cpu_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 20,000 protected paths (7,000 repositories) and 100 allowWrite and
 * denyWrite entries: well under the bound even on a slow or instrumented
 * build (about 0.05 s here; the quadratic planner needed minutes). */
static void test_planning_scales(void **state)
{
	(void)state;
	workspace ws;
	workspace_make(&ws, 7000);
	assert_true(ws.n > 20000);
	srt_resolved_path w[101], dw[100];
	char names[201][32];
	w[0] = (srt_resolved_path){.path = "/w", .exists = true, .is_dir = true};
	for (size_t i = 0; i < 100; i++) {
		snprintf(names[i], sizeof names[i], "/w/g%03zu/r%05zu", i % 60, i * 60 + 7);
		w[i + 1] = (srt_resolved_path){.path = names[i], .exists = true, .is_dir = true};
		snprintf(names[100 + i], sizeof names[100 + i], "/w/g%03zu/r%05zu/.env", i % 60,
			 i * 60 + 11);
		dw[i] = (srt_resolved_path){.path = names[100 + i], .exists = false};
	}
	srt_resolved_list W = {w, 101}, DW = {dw, 100};
	srt_protected_list P = {ws.v, ws.n};
	srt_plan_input in = {.allow_write = &W, .deny_write = &DW, .protected_paths = &P};
	srt_plan p;
	double t0 = cpu_seconds();
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	double spent = cpu_seconds() - t0;
	print_message("planned %zu protected paths into %zu mounts, %zu stand-ins in %.3f s of CPU\n",
		      ws.n, p.n_ops, p.n_standins, spent);
	assert_true(p.n_ops > ws.n);
	assert_true(spent < 2.0);
	srt_plan_clear(&p);
	workspace_clear(&ws);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_repositories_plan_properties),
		cmocka_unit_test(test_planning_scales),
	};
	return cmocka_run_group_tests_name("plan_scale", tests, NULL, NULL);
}
