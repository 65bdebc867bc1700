/* test_paths.c - srt_path_expand / srt_path_resolve against real trees
 * built under a mkdtemp directory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fstree.h"
#include "paths.h"


static int setup(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/srt-test-paths-XXXXXX";
	if (!mkdtemp(tmpl))
		return -1;
	if (!realpath(tmpl, base))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(base, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

/* Resolve one path, asserting success. */
static srt_resolved_path resolve_ok(const char *path)
{
	srt_resolved_path r = { 0 };
	srt_error err = { 0 };
	int rc = srt_path_resolve(path, &r, &err);
	if (rc != 0)
		fail_msg("resolve %s: %s", path, err.message);
	return r;
}

static void assert_resolves(const char *in, const char *want, bool exists,
			    bool is_dir)
{
	srt_resolved_path r = resolve_ok(in);
	assert_string_equal(r.path, want);
	assert_int_equal(r.exists, exists);
	if (exists)
		assert_int_equal(r.is_dir, is_dir);
	free(r.path);
}

/* Expand, asserting success. */
static void expand_ok(const char *entry, bool literal, srt_resolved_list *out,
		      srt_strv *warnings)
{
	srt_error err = { 0 };
	int rc = srt_path_expand(entry, literal, base, P("home"), out, warnings,
				 &err);
	if (rc != 0)
		fail_msg("expand %s: %s", entry, err.message);
}

/* ---- resolution ----------------------------------------------------------- */

static void test_resolve_normalises(void **state)
{
	(void)state;
	mkdirs(P("n/a/b"));
	assert_resolves("/", "/", true, true);
	assert_resolves("//", "/", true, true);
	assert_resolves("/..", "/", true, true);
	assert_resolves(P("n//a/./b/"), P("n/a/b"), true, true);
	assert_resolves(P("n/a/b/../../a"), P("n/a"), true, true);

	srt_resolved_path r = { 0 };
	srt_error err = { 0 };
	assert_int_equal(srt_path_resolve("relative/x", &r, &err), -1);
	assert_int_equal(err.code, SRT_E_INVALID);
	assert_null(r.path);
}

static void test_resolve_symlinked_prefix(void **state)
{
	(void)state;
	touch(P("real/dir/f"));
	link_to(P("real"), P("abs"));     /* absolute target */
	mkdirs(P("l"));
	link_to("../real/dir", P("l/rel")); /* relative target */
	link_to("abs", P("chain"));       /* link to a link */

	assert_resolves(P("abs/dir/f"), P("real/dir/f"), true, false);
	assert_resolves(P("l/rel/f"), P("real/dir/f"), true, false);
	assert_resolves(P("chain/dir"), P("real/dir"), true, true);
	/* The final component is resolved too. */
	assert_resolves(P("l/rel"), P("real/dir"), true, true);
}

static void test_resolve_dotdot_after_symlink(void **state)
{
	(void)state;
	touch(P("real/dir/f"));
	touch(P("real/g"));
	touch(P("g")); /* what a lexical ".." would wrongly find */
	link_to(P("real/dir"), P("d"));
	/* base/d/.. is the parent of real/dir, not base. */
	assert_resolves(P("d/../g"), P("real/g"), true, false);
	assert_resolves(P("d/.."), P("real"), true, true);
}

static void test_resolve_missing_tail(void **state)
{
	(void)state;
	mkdirs(P("real"));
	touch(P("real/file"));
	link_to(P("real"), P("lnk"));
	assert_resolves(P("lnk/missing/a/./b/../c/"), P("real/missing/a/c"), false,
			false);
	/* Below a regular file. */
	assert_resolves(P("real/file/x"), P("real/file/x"), false, false);
	/* ".." popping every missing component resumes real resolution,
	 * so the symlink after it is followed. */
	assert_resolves(P("real/missing/../../lnk/file"), P("real/file"), true,
			false);
}

static void test_resolve_dangling(void **state)
{
	(void)state;
	mkdirs(P("real"));
	link_to(P("nowhere/secret"), P("dangle"));
	link_to("../gone", P("real/dangle_rel"));
	/* A rule for a dangling link applies where it points. */
	assert_resolves(P("dangle"), P("nowhere/secret"), false, false);
	assert_resolves(P("real/dangle_rel"), P("gone"), false, false);
	assert_resolves(P("dangle/x"), P("nowhere/secret/x"), false, false);
}

static void test_resolve_loops(void **state)
{
	(void)state;
	link_to(P("loop2"), P("loop1"));
	link_to(P("loop1"), P("loop2"));
	link_to("self", P("self"));

	const char *bad[] = { P("loop1"), P("loop2/x"), P("self") };
	for (size_t i = 0; i < 3; i++) {
		srt_resolved_path r = { 0 };
		srt_error err = { 0 };
		assert_int_equal(srt_path_resolve(bad[i], &r, &err), -1);
		assert_int_equal(err.code, SRT_E_POLICY);
		assert_int_equal(err.sys_errno, ELOOP);
		assert_non_null(strstr(err.message, "too many levels of symbolic links"));
		assert_null(r.path);
	}

	/* 40 hops are fine, 41 are not. */
	mkdirs(P("hops"));
	touch(P("hops/end"));
	link_to("end", P("hops/h0"));
	for (int i = 1; i <= 40; i++) {
		char t[32];
		snprintf(t, sizeof t, "h%d", i - 1);
		link_to(t, P("hops/h%d", i));
	}
	assert_resolves(P("hops/h39"), P("hops/end"), true, false);
	srt_resolved_path r = { 0 };
	srt_error err = { 0 };
	assert_int_equal(srt_path_resolve(P("hops/h40"), &r, &err), -1);
	assert_int_equal(err.sys_errno, ELOOP);
}

/* ---- entries -------------------------------------------------------------- */

static void test_expand_tilde(void **state)
{
	(void)state;
	touch(P("home/x/y"));
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	expand_ok("~", false, &out, &w);
	expand_ok("~/", false, &out, &w); /* duplicate: not appended again */
	expand_ok("~/x/y", false, &out, &w);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0].path, P("home"));
	assert_true(out.v[0].exists);
	assert_true(out.v[0].is_dir);
	assert_string_equal(out.v[1].path, P("home/x/y"));
	assert_true(out.v[1].exists);
	assert_false(out.v[1].is_dir);
	assert_int_equal(w.n, 0);

	srt_error err = { 0 };
	assert_int_equal(srt_path_expand("~root/x", false, base, P("home"), &out, &w,
					 &err), -1);
	assert_int_equal(err.code, SRT_E_POLICY);
	assert_non_null(strstr(err.message, "~root/x"));
	err = (srt_error){ 0 };
	assert_int_equal(srt_path_expand("~/x", false, base, NULL, &out, &w, &err),
			 -1);
	assert_int_equal(err.code, SRT_E_POLICY);
	err = (srt_error){ 0 };
	assert_int_equal(srt_path_expand("", false, base, P("home"), &out, &w, &err),
			 -1);
	assert_non_null(strstr(err.message, "empty"));
	assert_int_equal(out.n, 2);
	srt_resolved_list_clear(&out);
	assert_null(out.v);
	assert_int_equal(out.n, 0);
	srt_strv_clear(&w);
}

static void test_expand_relative(void **state)
{
	(void)state;
	touch(P("sub/f"));
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	expand_ok("sub/f", false, &out, &w);
	expand_ok("./sub/../sub/f", false, &out, &w); /* same path */
	expand_ok(".", false, &out, &w);
	expand_ok("sub/new", false, &out, &w);
	assert_int_equal(out.n, 3);
	assert_string_equal(out.v[0].path, P("sub/f"));
	assert_string_equal(out.v[1].path, base);
	assert_true(out.v[1].is_dir);
	assert_string_equal(out.v[2].path, P("sub/new"));
	assert_false(out.v[2].exists);

	srt_error err = { 0 };
	assert_int_equal(srt_path_expand("rel", false, NULL, NULL, &out, &w, &err),
			 -1);
	assert_int_equal(out.n, 3);
	srt_resolved_list_clear(&out);
	srt_strv_clear(&w);
}

static void test_expand_base_not_a_pattern(void **state)
{
	(void)state;
	/* Glob characters in the working directory are not a pattern. */
	touch(P("we*rd/f"));
	touch(P("weXrd/f"));
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	srt_error err = { 0 };
	assert_int_equal(srt_path_expand("f", false, P("we*rd"), NULL, &out, &w,
					 &err), 0);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.v[0].path, P("we*rd/f"));
	assert_int_equal(w.n, 0);
	srt_resolved_list_clear(&out);
	srt_strv_clear(&w);
}

/* ---- globs ---------------------------------------------------------------- */

static void make_glob_tree(void)
{
	touch(P("g/a.pem"));
	touch(P("g/b.pem"));
	touch(P("g/.hidden.pem"));
	touch(P("g/c.txt"));
	touch(P("g/x1"));
	touch(P("g/x2"));
	touch(P("g/xa"));
	touch(P("g/sub/d.pem"));
	touch(P("g/sub/deep/e.pem"));
	touch(P("g/.dot/f.pem"));
	touch(P("other/z.pem"));
	touch(P("target.key"));
	link_to(P("other"), P("g/lnkdir"));
	link_to(P("target.key"), P("g/link.pem"));
}

static void assert_paths(const srt_resolved_list *l, const char *const *want,
			 size_t n)
{
	for (size_t i = 0; i < l->n && i < n; i++)
		assert_string_equal(l->v[i].path, want[i]);
	assert_int_equal(l->n, n);
}

static void test_glob_star_and_dotfiles(void **state)
{
	(void)state;
	make_glob_tree();
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	expand_ok("g/*.pem", false, &out, &w);
	/* Sorted; the dot file matches; the symlinked match is resolved. */
	const char *want[] = { P("g/.hidden.pem"), P("g/a.pem"), P("g/b.pem"),
			       P("target.key") };
	assert_paths(&out, want, 4);
	for (size_t i = 0; i < out.n; i++) {
		assert_true(out.v[i].exists);
		assert_false(out.v[i].is_dir);
	}
	assert_int_equal(w.n, 0);
	srt_resolved_list_clear(&out);
	srt_strv_clear(&w);
}

static void test_glob_question_and_bracket(void **state)
{
	(void)state;
	make_glob_tree();
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	expand_ok("g/x?", false, &out, &w);
	const char *want1[] = { P("g/x1"), P("g/x2"), P("g/xa") };
	assert_paths(&out, want1, 3);
	srt_resolved_list_clear(&out);

	expand_ok(P("g/x[0-9]"), false, &out, &w);
	const char *want2[] = { P("g/x1"), P("g/x2") };
	assert_paths(&out, want2, 2);
	srt_resolved_list_clear(&out);

	/* A pattern in the middle: matches directories, follows a symlinked
	 * directory for a single component. */
	expand_ok("g/*/?.pem", false, &out, &w);
	const char *want3[] = { P("g/.dot/f.pem"), P("g/sub/d.pem"),
				P("other/z.pem") };
	assert_paths(&out, want3, 3);
	srt_resolved_list_clear(&out);
	assert_int_equal(w.n, 0);
	srt_strv_clear(&w);
}

static void test_glob_globstar(void **state)
{
	(void)state;
	make_glob_tree();
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	/* Zero or more components; dot directories included; the symlinked
	 * directory g/lnkdir is not walked (other/z.pem absent), the symlink
	 * g/link.pem is a match and resolved. */
	expand_ok("g/**/*.pem", false, &out, &w);
	const char *want[] = { P("g/.dot/f.pem"), P("g/.hidden.pem"), P("g/a.pem"),
			       P("g/b.pem"), P("g/sub/d.pem"), P("g/sub/deep/e.pem"),
			       P("target.key") };
	assert_paths(&out, want, 7);
	srt_resolved_list_clear(&out);

	/* "**" at the end: the directory itself and everything below. */
	expand_ok("g/sub/**", false, &out, &w);
	const char *want2[] = { P("g/sub"), P("g/sub/d.pem"), P("g/sub/deep"),
				P("g/sub/deep/e.pem") };
	assert_paths(&out, want2, 4);
	assert_true(out.v[0].is_dir);
	assert_false(out.v[1].is_dir);
	srt_resolved_list_clear(&out);

	/* Repeated "**" gives each path once. */
	expand_ok("g/**/**/deep/**/*.pem", false, &out, &w);
	const char *want3[] = { P("g/sub/deep/e.pem") };
	assert_paths(&out, want3, 1);
	srt_resolved_list_clear(&out);
	assert_int_equal(w.n, 0);
	srt_strv_clear(&w);
}

static void test_glob_symlinked_prefix(void **state)
{
	(void)state;
	make_glob_tree();
	link_to(P("g"), P("glink"));
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	expand_ok("glink/sub/../*.txt", false, &out, &w);
	const char *want[] = { P("g/c.txt") };
	assert_paths(&out, want, 1);
	srt_resolved_list_clear(&out);
	srt_strv_clear(&w);
}

static void test_glob_no_match_warns(void **state)
{
	(void)state;
	mkdirs(P("home/x"));
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	expand_ok("~/x/*.pem", false, &out, &w);
	expand_ok("missing/dir/*", false, &out, &w);
	assert_int_equal(out.n, 0);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.v[0], "filesystem pattern \"~/x/*.pem\" matched nothing "
				    "(it is expanded once, at start-up)");
	assert_non_null(strstr(w.v[1], "\"missing/dir/*\""));
	srt_resolved_list_clear(&out);
	srt_strv_clear(&w);
}

static void test_literal_not_expanded(void **state)
{
	(void)state;
	make_glob_tree();
	touch(P("g/star*name"));
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	expand_ok("g/star*name", true, &out, &w);
	expand_ok("g/*.pem", true, &out, &w);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0].path, P("g/star*name"));
	assert_true(out.v[0].exists);
	assert_string_equal(out.v[1].path, P("g/*.pem"));
	assert_false(out.v[1].exists);
	assert_int_equal(w.n, 0);
	srt_resolved_list_clear(&out);
	srt_strv_clear(&w);
}

static void test_glob_no_duplicates(void **state)
{
	(void)state;
	make_glob_tree();
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	expand_ok("g/a.pem", false, &out, &w);
	expand_ok("target.key", false, &out, &w);
	expand_ok("g/*.pem", false, &out, &w);
	expand_ok("g/*.pem", false, &out, &w);
	const char *want[] = { P("g/a.pem"), P("target.key"), P("g/.hidden.pem"),
			       P("g/b.pem") };
	assert_paths(&out, want, 4);
	srt_resolved_list_clear(&out);
	srt_strv_clear(&w);
}

static void test_glob_match_cap(void **state)
{
	(void)state;
	mkdirs(P("many"));
	for (int i = 0; i <= SRT_GLOB_MAX_MATCHES; i++)
		touch(P("many/f%05d", i));
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	srt_error err = { 0 };
	assert_int_equal(srt_path_expand("many/f*", false, base, NULL, &out, &w,
					 &err), -1);
	assert_int_equal(err.code, SRT_E_POLICY);
	assert_non_null(strstr(err.message, "\"many/f*\""));
	assert_int_equal(out.n, 0);

	/* Exactly at the cap is fine. */
	unlink(P("many/f%05d", SRT_GLOB_MAX_MATCHES));
	expand_ok("many/f*", false, &out, &w);
	assert_int_equal(out.n, SRT_GLOB_MAX_MATCHES);
	assert_string_equal(out.v[0].path, P("many/f00000"));
	srt_resolved_list_clear(&out);
	srt_strv_clear(&w);
}

static void test_glob_depth_cap(void **state)
{
	(void)state;
	char rel[PATH_MAX] = "deep";
	for (int i = 0; i < SRT_GLOB_MAX_DEPTH + 2; i++)
		strcat(rel, "/d");
	touch(P("%s/leaf", rel));
	touch(P("deep/d/leaf"));
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	expand_ok("deep/**/leaf", false, &out, &w);
	const char *want[] = { P("deep/d/leaf") };
	assert_paths(&out, want, 1);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.v[0], "levels deep"));
	srt_resolved_list_clear(&out);
	srt_strv_clear(&w);
}

static void test_glob_loop_skipped(void **state)
{
	(void)state;
	touch(P("lp/ok.pem"));
	link_to("bad.pem", P("lp/bad.pem"));
	srt_resolved_list out = { 0 };
	srt_strv w = { 0 };
	expand_ok("lp/*.pem", false, &out, &w);
	const char *want[] = { P("lp/ok.pem") };
	assert_paths(&out, want, 1);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.v[0], "too many levels of symbolic links"));
	srt_resolved_list_clear(&out);
	srt_strv_clear(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve_normalises, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_symlinked_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_dotdot_after_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_missing_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_dangling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_loops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_tilde, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_relative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_base_not_a_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_star_and_dotfiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_question_and_bracket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_globstar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_symlinked_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_no_match_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_literal_not_expanded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_no_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_match_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_depth_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_loop_skipped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
