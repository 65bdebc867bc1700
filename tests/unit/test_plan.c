/* Golden tests for the mount plan: settings in, ordered ops out. */
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

static void assert_op(const srt_plan *p, const char *path, srt_op_kind k, bool w)
{
	const srt_mount_op *o = find(p, path);
	if (!o)
		fail_msg("no op for %s", path);
	assert_int_equal(o->kind, k);
	if (k == SRT_OP_BIND)
		assert_int_equal(o->writable, w);
}

static void test_write_root_and_deny_read(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/home/u/proj", true)};
	srt_resolved_path dr[] = {RP("/home/u", true)};
	srt_resolved_path ar[] = {RP("/home/u/pub", true)};
	srt_resolved_list W = {w, 1}, DR = {dr, 1}, AR = {ar, 1};
	srt_plan_input in = {.allow_write = &W, .deny_read = &DR, .allow_read = &AR};
	srt_plan p;
	srt_error err = {0};
	assert_int_equal(srt_plan_build(&in, &p, &err), 0);
	assert_int_equal(p.n_ops, 3);
	/* parents first */
	assert_string_equal(p.ops[0].path, "/home/u");
	assert_op(&p, "/home/u", SRT_OP_HIDE_DIR, false);
	assert_op(&p, "/home/u/proj", SRT_OP_BIND, true);
	assert_op(&p, "/home/u/pub", SRT_OP_BIND, false);
	assert_int_equal(find(&p, "/home/u/proj")->parent, 0);
	assert_int_equal(p.write_roots.n, 1);
	srt_plan_clear(&p);
}

static void test_deny_write_wins_at_and_above(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/a/b", true), RP("/c", true)};
	srt_resolved_path dw[] = {RP("/a", true), RP("/c", true)};
	srt_resolved_list W = {w, 2}, DW = {dw, 2};
	srt_plan_input in = {.allow_write = &W, .deny_write = &DW};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	assert_int_equal(p.write_roots.n, 0);
	for (size_t i = 0; i < p.n_ops; i++)
		assert_false(p.ops[i].kind == SRT_OP_BIND && p.ops[i].writable);
	srt_plan_clear(&p);
}

static void test_deny_read_file_and_nested_deny(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/w", true)};
	srt_resolved_path dr[] = {RP("/w/secret.pem", false), RP("/w/priv", true)};
	srt_resolved_path ar[] = {RP("/w/priv/ok", true)};
	srt_resolved_path dr2[] = {RP("/w/priv/ok/inner", true)};
	srt_resolved_path all_dr[] = {dr[0], dr[1], dr2[0]};
	srt_resolved_list W = {w, 1}, DR = {all_dr, 3}, AR = {ar, 1};
	srt_plan_input in = {.allow_write = &W, .deny_read = &DR, .allow_read = &AR};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	assert_op(&p, "/w", SRT_OP_BIND, true);
	assert_op(&p, "/w/secret.pem", SRT_OP_HIDE_FILE, false);
	assert_op(&p, "/w/priv", SRT_OP_HIDE_DIR, false);
	/* re-opened inside a hidden dir under a write root: writable again */
	assert_op(&p, "/w/priv/ok", SRT_OP_BIND, true);
	/* a deny more specific than the allow stays denied */
	assert_op(&p, "/w/priv/ok/inner", SRT_OP_HIDE_DIR, false);
	srt_plan_clear(&p);
}

static void test_protected_paths_pins_and_standins(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/w", true)};
	srt_resolved_list W = {w, 1};
	srt_protected prot[] = {
		{.path = "/w/.bashrc", .is_dir = false, .exists = true},
		{.path = "/w/.git/hooks", .is_dir = true, .exists = false},
		{.path = "/w/.git/config", .is_dir = false, .exists = false},
		{.path = "/w/sub/.vscode", .is_dir = true, .exists = true},
	};
	srt_protected_list P = {prot, 4};
	srt_plan_input in = {.allow_write = &W, .protected_paths = &P};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	assert_op(&p, "/w", SRT_OP_BIND, true);
	assert_op(&p, "/w/.bashrc", SRT_OP_BIND, false);
	assert_op(&p, "/w/.git", SRT_OP_BIND, true); /* pin */
	assert_op(&p, "/w/.git/hooks", SRT_OP_BIND, false);
	assert_op(&p, "/w/.git/config", SRT_OP_BIND, false);
	assert_op(&p, "/w/sub", SRT_OP_BIND, true); /* pin */
	assert_op(&p, "/w/sub/.vscode", SRT_OP_BIND, false);
	/* every protected path and pin must exist at spawn, parents first */
	assert_int_equal(p.n_standins, 6);
	assert_string_equal(p.standins[0].path, "/w/.bashrc");
	assert_false(p.standins[0].is_dir);
	assert_string_equal(p.standins[1].path, "/w/.git");
	assert_true(p.standins[1].is_dir);
	assert_string_equal(p.standins[2].path, "/w/.git/hooks");
	assert_true(p.standins[2].is_dir);
	assert_string_equal(p.standins[3].path, "/w/.git/config");
	assert_false(p.standins[3].is_dir);
	assert_string_equal(p.standins[4].path, "/w/sub");
	assert_string_equal(p.standins[5].path, "/w/sub/.vscode");
	srt_plan_clear(&p);
}

static void test_protected_outside_writable_is_ignored(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/w", true)};
	srt_resolved_path dw[] = {RP("/w/ro", true)};
	srt_resolved_list W = {w, 1}, DW = {dw, 1};
	srt_protected prot[] = {{.path = "/w/ro/.bashrc", .exists = false}};
	srt_protected_list P = {prot, 1};
	srt_plan_input in = {.allow_write = &W, .deny_write = &DW, .protected_paths = &P};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	assert_null(find(&p, "/w/ro/.bashrc"));
	/* only the denyWrite directory itself must exist at spawn */
	assert_int_equal(p.n_standins, 1);
	assert_string_equal(p.standins[0].path, "/w/ro");
	assert_op(&p, "/w/ro", SRT_OP_BIND, false);
	srt_plan_clear(&p);
}

static void test_missing_deny_write_gets_standin(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/w", true)};
	srt_resolved_path dw[] = {{.path = "/w/.env", .exists = false}};
	srt_resolved_path dw_out[] = {{.path = "/etc/nothing", .exists = false}};
	srt_resolved_path all[] = {dw[0], dw_out[0]};
	srt_resolved_list W = {w, 1}, DW = {all, 2};
	srt_plan_input in = {.allow_write = &W, .deny_write = &DW};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	assert_int_equal(p.n_standins, 1);
	assert_string_equal(p.standins[0].path, "/w/.env");
	assert_op(&p, "/w/.env", SRT_OP_BIND, false);
	assert_null(find(&p, "/etc/nothing"));
	srt_plan_clear(&p);
}

static void test_redundant_ops_elided_and_add(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/w", true), RP("/w/sub", true)};
	srt_resolved_path ar[] = {RP("/usr", true)}; /* readable already */
	srt_resolved_path dr[] = {{.path = "/nope", .exists = false}};
	srt_resolved_list W = {w, 2}, AR = {ar, 1}, DR = {dr, 1};
	srt_plan_input in = {.allow_write = &W, .allow_read = &AR, .deny_read = &DR};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	assert_int_equal(p.n_ops, 1);
	assert_op(&p, "/w", SRT_OP_BIND, true);
	srt_plan_skip_under(&p, "/w/a");
	assert_false(p.ops[0].skip);
	srt_plan_skip_under(&p, "/w");
	assert_true(p.ops[0].skip);
	srt_plan_clear(&p);
}

static void test_deny_write_nested_is_pinned(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/w", true)};
	srt_resolved_path dw[] = {{.path = "/w/conf/.env", .exists = false}};
	srt_resolved_list W = {w, 1}, DW = {dw, 1};
	srt_plan_input in = {.allow_write = &W, .deny_write = &DW};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	/* the parent is pinned (cannot be renamed away) and created if missing */
	assert_op(&p, "/w/conf", SRT_OP_BIND, true);
	assert_op(&p, "/w/conf/.env", SRT_OP_BIND, false);
	assert_int_equal(p.n_standins, 2);
	assert_string_equal(p.standins[0].path, "/w/conf");
	assert_true(p.standins[0].is_dir);
	assert_string_equal(p.standins[1].path, "/w/conf/.env");
	assert_false(p.standins[1].is_dir);
	srt_plan_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_root_and_deny_read),
		cmocka_unit_test(test_deny_write_wins_at_and_above),
		cmocka_unit_test(test_deny_read_file_and_nested_deny),
		cmocka_unit_test(test_protected_paths_pins_and_standins),
		cmocka_unit_test(test_protected_outside_writable_is_ignored),
		cmocka_unit_test(test_missing_deny_write_gets_standin),
		cmocka_unit_test(test_redundant_ops_elided_and_add),
		cmocka_unit_test(test_deny_write_nested_is_pinned),
	};
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
