/* test_mandatory.c - srt_mandatory_scan against real trees built under a
 * mkdtemp directory. */
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
#include "mandatory.h"

static char outside[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	char t1[] = "/tmp/srt-test-mand-XXXXXX";
	char t2[] = "/tmp/srt-test-mand-out-XXXXXX";
	if (!mkdtemp(t1) || !mkdtemp(t2))
		return -1;
	if (!realpath(t1, base) || !realpath(t2, outside))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int a = nftw(base, rm_one, 32, FTW_DEPTH | FTW_PHYS);
	int b = nftw(outside, rm_one, 32, FTW_DEPTH | FTW_PHYS);
	return a || b;
}

static void scan_ok(int depth, srt_protected_list *out)
{
	srt_error err = { 0 };
	if (srt_mandatory_scan(base, depth, out, &err) != 0)
		fail_msg("scan %s: %s", base, err.message);
}

static const srt_protected *find(const srt_protected_list *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].path, path) == 0)
			return &l->v[i];
	return NULL;
}

static void expect(const srt_protected_list *l, const char *path, bool exists,
		   bool is_dir)
{
	const srt_protected *p = find(l, path);
	if (!p)
		fail_msg("%s not in the scan result", path);
	if (p->exists != exists || p->is_dir != is_dir)
		fail_msg("%s: exists=%d is_dir=%d, want exists=%d is_dir=%d", path,
			 p->exists, p->is_dir, exists, is_dir);
}

static void expect_absent(const srt_protected_list *l, const char *path)
{
	if (find(l, path))
		fail_msg("%s unexpectedly in the scan result", path);
}

/* Sorted (so parents before children) and no duplicates. */
static void expect_ordered(const srt_protected_list *l)
{
	for (size_t i = 1; i < l->n; i++)
		if (strcmp(l->v[i - 1].path, l->v[i].path) >= 0)
			fail_msg("out of order: %s before %s", l->v[i - 1].path,
				 l->v[i].path);
}

/* Entries of the table that are not only-if-present. */
static size_t table_n(void)
{
	size_t n = 0;
	for (size_t i = 0; i < srt_mandatory_name_count; i++)
		n += !srt_mandatory_names[i].only_existing;
	return n;
}

/* Entries reported at an empty root: all but the only-if-present ones,
 * those below ".git" replaced by ".git" itself (a fresh git directory). */
static size_t root_n(void)
{
	size_t n = 1;
	for (size_t i = 0; i < srt_mandatory_name_count; i++)
		n += !srt_mandatory_names[i].only_existing &&
		     strncmp(srt_mandatory_names[i].rel, ".git/", 5) != 0;
	return n;
}

static void test_table(void **state)
{
	(void)state;
	assert_int_equal(srt_mandatory_name_count, 19);
	assert_int_equal(table_n(), 19); /* config.worktree stands in too */
	assert_int_equal(root_n(), 16);
	size_t dirs = 0;
	for (size_t i = 0; i < srt_mandatory_name_count; i++)
		dirs += srt_mandatory_names[i].is_dir;
	assert_int_equal(dirs, 5);
}

static void test_empty_root_standins(void **state)
{
	(void)state;
	srt_protected_list out = { 0 };
	scan_ok(3, &out);
	assert_int_equal(out.n, root_n());
	for (size_t i = 0; i < srt_mandatory_name_count; i++)
		if (!srt_mandatory_names[i].only_existing &&
		    strncmp(srt_mandatory_names[i].rel, ".git/", 5) != 0)
			expect(&out, P("%s", srt_mandatory_names[i].rel), false,
			       srt_mandatory_names[i].is_dir);
	/* no .git: no stand-ins inside it (git init would fail on them), the
	 * whole as a fresh git directory */
	expect_absent(&out, P(".git/config.worktree"));
	expect_absent(&out, P(".git/commondir"));
	expect_absent(&out, P(".git/hooks"));
	expect_absent(&out, P(".git/config"));
	expect(&out, P(".git"), false, true);
	assert_true(find(&out, P(".git"))->fresh_git);
	for (size_t i = 0; i < out.n; i++)
		if (strcmp(out.v[i].path, P(".git")) != 0)
			assert_false(out.v[i].fresh_git);
	expect(&out, P(".claude/commands"), false, true);
	expect(&out, P(".bashrc"), false, false);
	expect(&out, P(".vscode"), false, true);
	expect_ordered(&out);
	srt_protected_list_clear(&out);
	assert_null(out.v);
	assert_int_equal(out.n, 0);
}

static void test_root_entries(void **state)
{
	(void)state;
	touch(P(".bashrc"));
	touch(P(".mcp.json"));
	mkdirs(P(".vscode"));
	touch(P(".vscode/.bashrc")); /* inside a protected dir: not reported */
	mkdirs(P(".git/hooks"));
	touch(P(".git/sub/.zshrc")); /* .git is not searched beyond its children */
	mkdirs(P(".claude/commands"));
	srt_protected_list out = { 0 };
	scan_ok(3, &out);
	expect(&out, P(".bashrc"), true, false);
	expect(&out, P(".mcp.json"), true, false);
	expect(&out, P(".vscode"), true, true);
	expect(&out, P(".git/hooks"), true, true);
	expect(&out, P(".git/config"), false, false);
	expect(&out, P(".claude/commands"), true, true);
	expect(&out, P(".claude/agents"), false, true);
	expect(&out, P(".zshrc"), false, false);
	expect(&out, P(".idea"), false, true);
	expect_absent(&out, P(".vscode/.bashrc"));
	expect_absent(&out, P(".git/sub/.zshrc"));
	expect_absent(&out, P(".git"));
	expect_absent(&out, P(".claude"));
	assert_int_equal(out.n, table_n()); /* .git exists: its children, not a fresh one */
	expect_ordered(&out);
	srt_protected_list_clear(&out);
}

static void make_depth_tree(void)
{
	touch(P("a/.bashrc"));            /* level 1 */
	mkdirs(P("a/b/.idea"));           /* level 2 */
	touch(P("a/b/c/.profile"));       /* level 3 */
	touch(P("a/b/c/d/.bashrc"));      /* level 4 */
	touch(P("a/b/c/d/e/f/g/h/i/.zshrc")); /* level 9 */
	touch(P(".config/x/.gitconfig"));  /* a dot dir is searched too */
	touch(P("a/notes.txt"));
}

static void test_depth_3(void **state)
{
	(void)state;
	make_depth_tree();
	srt_protected_list out = { 0 };
	scan_ok(3, &out);
	expect(&out, P("a/.bashrc"), true, false);
	expect(&out, P("a/b/.idea"), true, true);
	expect(&out, P("a/b/c/.profile"), true, false);
	expect(&out, P(".config/x/.gitconfig"), true, false);
	expect_absent(&out, P("a/b/c/d/.bashrc"));
	expect_absent(&out, P("a/b/c/d/e/f/g/h/i/.zshrc"));
	/* Below the root, only what exists is reported. */
	expect_absent(&out, P("a/.zshrc"));
	assert_int_equal(out.n, root_n() + 4);
	expect_ordered(&out);
	srt_protected_list_clear(&out);
}

static void test_depth_1_and_10(void **state)
{
	(void)state;
	make_depth_tree();
	srt_protected_list out = { 0 };
	scan_ok(1, &out);
	expect(&out, P("a/.bashrc"), true, false);
	expect_absent(&out, P("a/b/.idea"));
	expect_absent(&out, P(".config/x/.gitconfig"));
	assert_int_equal(out.n, root_n() + 1);
	srt_protected_list_clear(&out);

	scan_ok(10, &out);
	expect(&out, P("a/b/c/d/.bashrc"), true, false);
	expect(&out, P("a/b/c/d/e/f/g/h/i/.zshrc"), true, false);
	assert_int_equal(out.n, root_n() + 6);
	srt_protected_list_clear(&out);

	scan_ok(0, &out);
	expect_absent(&out, P("a/.bashrc"));
	assert_int_equal(out.n, root_n());
	srt_protected_list_clear(&out);
}

/* Linked worktrees: the files of .git/worktrees/<name> that redirect git
 * are protected when present; config.worktree also when missing. */
static void test_worktree_admin_files(void **state)
{
	(void)state;
	mkdirs(P("proj/.git/hooks"));
	touch(P("proj/.git/config"));
	touch(P("proj/.git/worktrees/wt1/commondir"));
	touch(P("proj/.git/worktrees/wt1/gitdir"));
	touch(P("proj/.git/worktrees/wt1/HEAD"));
	touch(P("proj/.git/worktrees/wt2/config.worktree"));
	srt_protected_list out = { 0 };
	scan_ok(3, &out);
	expect(&out, P("proj/.git/worktrees/wt1/commondir"), true, false);
	expect(&out, P("proj/.git/worktrees/wt1/gitdir"), true, false);
	expect(&out, P("proj/.git/worktrees/wt2/config.worktree"), true, false);
	/* a missing config.worktree gets a stand-in: git reads one created
	 * later once extensions.worktreeConfig is on */
	expect(&out, P("proj/.git/worktrees/wt1/config.worktree"), false, false);
	expect_absent(&out, P("proj/.git/worktrees/wt1/HEAD"));
	expect_absent(&out, P("proj/.git/worktrees/wt2/commondir"));
	expect_absent(&out, P("proj/.git/worktrees/wt2/gitdir"));
	expect_ordered(&out);
	srt_protected_list_clear(&out);
}

static void test_nested_repositories(void **state)
{
	(void)state;
	touch(P("proj/sub/repo/.git/config"));
	mkdirs(P("proj/sub/repo/.git/objects"));
	mkdirs(P("proj/other/.git/hooks"));
	touch(P("proj/other/.git/hooks/pre-commit"));
	mkdirs(P("proj/.claude"));
	mkdirs(P("proj/.claude/agents"));
	touch(P("wt/.git")); /* a worktree's .git file */
	srt_protected_list out = { 0 };
	scan_ok(3, &out);
	expect(&out, P("proj/sub/repo/.git/config"), true, false);
	expect(&out, P("proj/sub/repo/.git/hooks"), false, true);
	expect(&out, P("proj/other/.git/hooks"), true, true);
	expect(&out, P("proj/other/.git/config"), false, false);
	expect_absent(&out, P("proj/other/.git/hooks/pre-commit"));
	expect(&out, P("proj/.claude/agents"), true, true);
	expect(&out, P("proj/.claude/commands"), false, true);
	expect(&out, P("proj/.claude/settings.json"), false, false);
	expect(&out, P("proj/.claude/settings.local.json"), false, false);
	expect(&out, P("wt/.git"), true, false);
	expect_absent(&out, P("wt/.git/hooks"));
	assert_int_equal(out.n, root_n() + 13); /* + a config.worktree per nested .git */
	expect_ordered(&out);
	srt_protected_list_clear(&out);
}

/* filesystem.allowGitConfig: every repository's .git/config leaves the
 * list (existing or a stand-in); hooks, commondir and the submodules' git
 * directories stay, and so does a file merely named like it. */
static void test_allow_git_config(void **state)
{
	(void)state;
	touch(P("proj/sub/repo/.git/config"));
	mkdirs(P("proj/other/.git/hooks"));
	touch(P("proj/.git/modules/m/HEAD"));
	touch(P("proj/.git/modules/m/config"));
	mkdirs(P("proj/.git/modules/m/hooks"));
	srt_protected_list out = { 0 };
	scan_ok(3, &out);
	size_t before = out.n;
	expect(&out, P("proj/sub/repo/.git/config"), true, false);
	expect(&out, P("proj/other/.git/config"), false, false);
	expect(&out, P(".git"), false, true); /* no .git at the root: a fresh one, no config entry */
	srt_strv dropped = { 0 };
	assert_int_equal(srt_mandatory_allow_git_config(&out, &dropped), 3);
	assert_int_equal(dropped.n, 3);
	assert_true(srt_strv_contains(&dropped, P("proj/other/.git/config")));
	srt_strv_clear(&dropped);
	assert_int_equal(out.n, before - 3);
	expect_absent(&out, P("proj/sub/repo/.git/config"));
	expect_absent(&out, P("proj/other/.git/config"));
	expect_absent(&out, P("proj/.git/config"));
	expect_absent(&out, P(".git/config"));
	expect(&out, P("proj/other/.git/hooks"), true, true);
	expect(&out, P("proj/sub/repo/.git/hooks"), false, true);
	expect(&out, P(".git"), false, true);
	expect(&out, P("proj/.git/modules/m/config"), true, false);
	expect(&out, P("proj/.git/modules/m/hooks"), true, true);
	expect(&out, P(".gitconfig"), false, false);
	expect_ordered(&out);
	assert_int_equal(srt_mandatory_allow_git_config(&out, NULL), 0);
	srt_protected_list_clear(&out);
}

/* Submodule git directories (.git/modules/<name>, names with slashes,
 * nested modules): their hooks and config run code like the top ones. */
static void test_submodule_gitdirs(void **state)
{
	(void)state;
	mkdirs(P("proj/.git/hooks"));
	touch(P("proj/.git/config"));
	mkdirs(P("proj/.git/modules/sub/hooks"));
	touch(P("proj/.git/modules/sub/HEAD"));
	touch(P("proj/.git/modules/sub/config"));
	mkdirs(P("proj/.git/modules/sub/objects"));
	touch(P("proj/.git/modules/libs/foo/HEAD")); /* "libs/foo", no hooks yet */
	touch(P("proj/.git/modules/libs/foo/config"));
	touch(P("proj/.git/modules/sub/modules/deep/HEAD")); /* nested */
	mkdirs(P("proj/.git/modules/notagitdir"));
	srt_protected_list out = { 0 };
	scan_ok(3, &out);
	expect(&out, P("proj/.git/modules/sub/hooks"), true, true);
	expect(&out, P("proj/.git/modules/sub/config"), true, false);
	expect(&out, P("proj/.git/modules/libs/foo/hooks"), false, true);
	expect(&out, P("proj/.git/modules/libs/foo/config"), true, false);
	expect(&out, P("proj/.git/modules/sub/modules/deep/hooks"), false, true);
	expect(&out, P("proj/.git/modules/sub/modules/deep/config"), false, false);
	expect_absent(&out, P("proj/.git/modules/sub/objects"));
	expect_absent(&out, P("proj/.git/modules/sub/commondir"));
	expect_absent(&out, P("proj/.git/modules/notagitdir/hooks"));
	expect_ordered(&out);
	srt_protected_list_clear(&out);
}

static void test_git_file_at_root(void **state)
{
	(void)state;
	touch(P(".git"));
	srt_protected_list out = { 0 };
	scan_ok(3, &out);
	expect(&out, P(".git"), true, false);
	expect_absent(&out, P(".git/hooks"));
	expect_absent(&out, P(".git/config"));
	assert_false(find(&out, P(".git"))->fresh_git);
	assert_int_equal(out.n, table_n() - 3); /* no .git/{hooks,config,commondir,config.worktree}; .git */
	srt_protected_list_clear(&out);
}

static void test_symlinks_not_followed(void **state)
{
	(void)state;
	char o[PATH_MAX + 32];
	snprintf(o, sizeof o, "%s/.bashrc", outside);
	touch(o);
	snprintf(o, sizeof o, "%s/dir/.git/hooks", outside);
	mkdirs(o);
	snprintf(o, sizeof o, "%s/dir", outside);
	link_to(outside, P("linkdir"));         /* not descended */
	link_to(o, P("linkdir2"));
	link_to(o, P(".vscode"));               /* protected as the link */
	link_to(P("nowhere"), P(".bashrc"));    /* dangling, still protected */
	mkdirs(P("a"));
	link_to(o, P("a/.git"));                /* a symlinked .git */
	srt_protected_list out = { 0 };
	scan_ok(10, &out);
	expect(&out, P(".bashrc"), true, false);
	expect(&out, P(".vscode"), true, false);
	expect(&out, P("a/.git"), true, false);
	expect_absent(&out, P("a/.git/hooks"));
	expect_absent(&out, P("linkdir/.bashrc"));
	expect_absent(&out, P("linkdir2/.git/hooks"));
	for (size_t i = 0; i < out.n; i++)
		if (strncmp(out.v[i].path, outside, strlen(outside)) == 0)
			fail_msg("followed a symlink to %s", out.v[i].path);
	assert_int_equal(out.n, root_n() + 1);
	srt_protected_list_clear(&out);
}

static void test_no_duplicates_across_calls(void **state)
{
	(void)state;
	touch(P("a/.bashrc"));
	srt_protected_list out = { 0 };
	scan_ok(3, &out);
	size_t n = out.n;
	scan_ok(3, &out);
	assert_int_equal(out.n, n);
	/* A second root inside the first adds only its own stand-ins. */
	srt_error err = { 0 };
	assert_int_equal(srt_mandatory_scan(P("a"), 3, &out, &err), 0);
	expect(&out, P("a/.bashrc"), true, false);
	expect(&out, P("a/.git"), false, true);
	assert_int_equal(out.n, n + root_n() - 1);
	srt_protected_list_clear(&out);
}

static void test_errors(void **state)
{
	(void)state;
	srt_protected_list out = { 0 };
	srt_error err = { 0 };
	assert_int_equal(srt_mandatory_scan("relative", 3, &out, &err), -1);
	assert_int_equal(err.code, SRT_E_INVALID);
	err = (srt_error){ 0 };
	assert_int_equal(srt_mandatory_scan(base, 11, &out, &err), -1);
	assert_int_equal(err.code, SRT_E_INVALID);
	err = (srt_error){ 0 };
	assert_int_equal(srt_mandatory_scan(base, -1, &out, &err), -1);
	err = (srt_error){ 0 };
	assert_int_equal(srt_mandatory_scan(P("missing"), 3, &out, &err), -1);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_non_null(strstr(err.message, "missing"));
	assert_int_equal(out.n, 0);
	assert_null(out.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_empty_root_standins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth_3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth_1_and_10, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worktree_admin_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_repositories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git_file_at_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submodule_gitdirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_git_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_duplicates_across_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
