/* The mount plan and srt's own state (private paths): hidden whatever the
 * settings say, never a writable root, ancestors pinned inside a root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "plan.h"

#define RP(p, d) {.path = (char *)(p), .exists = true, .is_dir = (d)}

static const srt_mount_op *find(const srt_plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_ops; i++)
		if (strcmp(p->ops[i].path, path) == 0)
			return &p->ops[i];
	return NULL;
}

static bool has_standin(const srt_plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_standins; i++)
		if (strcmp(p->standins[i].path, path) == 0)
			return true;
	return false;
}

static srt_strv private_of(const char *path)
{
	srt_strv v = {0};
	assert_int_equal(srt_strv_push(&v, path), 0);
	return v;
}

/* allowWrite ["/tmp"]: the run directory is an empty read-only tmpfs. */
static void test_hidden_inside_write_root(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/tmp", true)};
	srt_resolved_list W = {w, 1};
	srt_strv priv = private_of("/tmp/srt-0");
	srt_plan_input in = {.allow_write = &W, .private_paths = &priv};
	srt_plan p;
	srt_error err = {0};
	assert_int_equal(srt_plan_build(&in, &p, &err), 0);
	const srt_mount_op *o = find(&p, "/tmp/srt-0");
	assert_non_null(o);
	assert_int_equal(o->kind, SRT_OP_HIDE_DIR);
	assert_non_null(find(&p, "/tmp"));
	assert_false(has_standin(&p, "/tmp/srt-0")); /* srt_run_open makes it */
	srt_plan_clear(&p);
	srt_strv_clear(&priv);
}

/* allowWrite ["/"]: every ancestor inside the root is pinned (a writable
 * self-bind: renaming it fails with EBUSY) and must exist at spawn. */
static void test_ancestors_pinned(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/", true)};
	srt_resolved_list W = {w, 1};
	srt_strv priv = private_of("/run/user/7/srt");
	srt_plan_input in = {.allow_write = &W, .private_paths = &priv};
	srt_plan p;
	srt_error err = {0};
	assert_int_equal(srt_plan_build(&in, &p, &err), 0);
	const char *pins[] = {"/run", "/run/user", "/run/user/7"};
	for (size_t i = 0; i < 3; i++) {
		const srt_mount_op *o = find(&p, pins[i]);
		assert_non_null(o);
		assert_int_equal(o->kind, SRT_OP_BIND);
		assert_true(o->writable);
		assert_true(has_standin(&p, pins[i]));
	}
	assert_int_equal(find(&p, "/run/user/7/srt")->kind, SRT_OP_HIDE_DIR);
	srt_plan_clear(&p);
	srt_strv_clear(&priv);
}

/* Settings cannot open it up: allowRead / allowWrite / denyWrite at or
 * beneath it make no op, and a write root inside it is no write root. */
static void test_settings_cannot_reopen_it(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/tmp/srt-0", true), RP("/tmp/srt-0/x", true),
				 RP("/work", true)};
	srt_resolved_path ar[] = {RP("/tmp/srt-0/lock", false)};
	srt_resolved_path dw[] = {RP("/tmp/srt-0/y", false)};
	srt_resolved_list W = {w, 3}, AR = {ar, 1}, DW = {dw, 1};
	srt_strv priv = private_of("/tmp/srt-0");
	srt_plan_input in = {.allow_write = &W, .allow_read = &AR, .deny_write = &DW,
			     .private_paths = &priv};
	srt_plan p;
	srt_error err = {0};
	assert_int_equal(srt_plan_build(&in, &p, &err), 0);
	assert_int_equal(p.write_roots.n, 1);
	assert_string_equal(p.write_roots.v[0], "/work");
	assert_int_equal(find(&p, "/tmp/srt-0")->kind, SRT_OP_HIDE_DIR);
	assert_null(find(&p, "/tmp/srt-0/x"));
	assert_null(find(&p, "/tmp/srt-0/lock"));
	assert_null(find(&p, "/tmp/srt-0/y"));
	for (size_t i = 0; i < p.n_standins; i++)
		assert_false(strncmp(p.standins[i].path, "/tmp/srt-0", 10) == 0);
	srt_plan_clear(&p);
	srt_strv_clear(&priv);
}

/* Already hidden by a denyRead above it: nothing more to mount. */
static void test_no_op_under_hidden_parent(void **state)
{
	(void)state;
	srt_resolved_path dr[] = {RP("/tmp", true)};
	srt_resolved_list DR = {dr, 1};
	srt_strv priv = private_of("/tmp/srt-0");
	srt_plan_input in = {.deny_read = &DR, .private_paths = &priv};
	srt_plan p;
	srt_error err = {0};
	assert_int_equal(srt_plan_build(&in, &p, &err), 0);
	assert_int_equal(p.n_ops, 1);
	assert_int_equal(find(&p, "/tmp")->kind, SRT_OP_HIDE_DIR);
	srt_plan_clear(&p);
	srt_strv_clear(&priv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hidden_inside_write_root),
		cmocka_unit_test(test_ancestors_pinned),
		cmocka_unit_test(test_settings_cannot_reopen_it),
		cmocka_unit_test(test_no_op_under_hidden_parent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
