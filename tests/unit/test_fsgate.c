/* test_fsgate.c - the creation gate's rules (fsgate_rules.c): which names
 * it refuses, where, and the git config check.  Pure functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fsgate.h"

static srt_fsg_verdict j(const char *dir, const char *name, srt_fsg_obj obj, srt_fsg_intent in,
			 unsigned fl)
{
	const char *rule = "unset";
	srt_fsg_verdict v = srt_fsgate_judge(dir, name, obj, in, fl, &rule);
	if (v == SRT_FSG_REFUSE)
		assert_non_null(rule);
	return v;
}

#define REFUSED(...) assert_int_equal(j(__VA_ARGS__), SRT_FSG_REFUSE)
#define ALLOWED(...) assert_int_equal(j(__VA_ARGS__), SRT_FSG_ALLOW)

static void test_names_at_any_depth(void **state)
{
	(void)state;
	static const char *const names[] = {".bashrc", ".bash_profile", ".zshrc", ".zprofile",
					    ".profile", ".gitconfig", ".gitmodules", ".ripgreprc",
					    ".mcp.json", ".vscode", ".idea"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		REFUSED("/w", names[i], SRT_FSG_FILE, SRT_FSG_CREATE, 0);
		REFUSED("/w/a/b/c/d/e/f/g/h/i/j/k", names[i], SRT_FSG_FILE, SRT_FSG_CREATE, 0);
		REFUSED("/w/a", names[i], SRT_FSG_DIR, SRT_FSG_CREATE, 0);
		REFUSED("/w/a", names[i], SRT_FSG_SYMLINK, SRT_FSG_CREATE, 0);
		REFUSED("/w/a", names[i], SRT_FSG_FILE, SRT_FSG_RENAME_TO, 0);
		REFUSED("/w/a", names[i], SRT_FSG_FILE, SRT_FSG_WRITE, 0);
		/* a hard link's source: its second name would be writable */
		REFUSED("/w/a", names[i], SRT_FSG_FILE, SRT_FSG_LINK_FROM, 0);
	}
	ALLOWED("/w", ".bashrc.bak", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
	ALLOWED("/w", "bashrc", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
	ALLOWED("/w/.bashrc.d", "x", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
}

static void test_inside_protected_directories(void **state)
{
	(void)state;
	REFUSED("/w/x/.vscode", "settings.json", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
	REFUSED("/w/x/.vscode/sub", "tasks.json", SRT_FSG_FILE, SRT_FSG_WRITE, 0);
	REFUSED("/w/.idea", "workspace.xml", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
	REFUSED("/w/p/.claude", "commands", SRT_FSG_DIR, SRT_FSG_CREATE, 0);
	REFUSED("/w/p/.claude/commands", "evil.md", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
	REFUSED("/w/p/.claude/agents/x", "a.md", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
	REFUSED("/w/p/.claude", "settings.json", SRT_FSG_FILE, SRT_FSG_RENAME_TO, 0);
	REFUSED("/w/p/.claude", "settings.local.json", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
	ALLOWED("/w/p/.claude", "notes.md", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
	ALLOWED("/w/p/commands", "x", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
	ALLOWED("/w/.vscodex", "x", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
}

static void test_git_directories(void **state)
{
	(void)state;
	const unsigned G = SRT_FSG_DIR_GITDIR, H = SRT_FSG_DIR_HOOKS;
	/* git init: an empty hooks/ and its samples, objects, refs */
	ALLOWED("/w/n", ".git", SRT_FSG_DIR, SRT_FSG_CREATE, 0);
	ALLOWED("/w/n/.git", "hooks", SRT_FSG_DIR, SRT_FSG_CREATE, G);
	ALLOWED("/w/n/.git/hooks", "pre-commit.sample", SRT_FSG_FILE, SRT_FSG_CREATE, H);
	ALLOWED("/w/n/.git", "objects", SRT_FSG_DIR, SRT_FSG_CREATE, G);
	ALLOWED("/w/n/.git", "config.lock", SRT_FSG_FILE, SRT_FSG_CREATE, G);
	ALLOWED("/w/n/.git/worktrees/wt", "commondir", SRT_FSG_FILE, SRT_FSG_CREATE, G);
	REFUSED("/w/n/.git", "commondir", SRT_FSG_FILE, SRT_FSG_CREATE, G);
	/* hooks that run */
	REFUSED("/w/n/.git/hooks", "pre-commit", SRT_FSG_FILE, SRT_FSG_CREATE, H);
	REFUSED("/w/n/.git/hooks", "pre-commit", SRT_FSG_FILE, SRT_FSG_RENAME_TO, H);
	REFUSED("/w/n/.git/hooks", "pre-commit", SRT_FSG_SYMLINK, SRT_FSG_CREATE, H);
	REFUSED("/w/n/.git/hooks", "x.sample", SRT_FSG_SYMLINK, SRT_FSG_CREATE, H);
	REFUSED("/w/n/.git/hooks", "sub", SRT_FSG_DIR, SRT_FSG_CREATE, H);
	REFUSED("/w/n/.git", "hooks", SRT_FSG_SYMLINK, SRT_FSG_CREATE, G);
	REFUSED("/w/n/.git", "hooks", SRT_FSG_DIR, SRT_FSG_RENAME_TO, G);
	/* config: a checked rename only */
	REFUSED("/w/n/.git", "config", SRT_FSG_FILE, SRT_FSG_CREATE, G);
	REFUSED("/w/n/.git", "config", SRT_FSG_FILE, SRT_FSG_WRITE, G);
	REFUSED("/w/n/.git", "config", SRT_FSG_FILE, SRT_FSG_LINK_FROM, G);
	REFUSED("/w/n/.git", "config", SRT_FSG_SYMLINK, SRT_FSG_CREATE, G);
	REFUSED("/w/n/.git", "config", SRT_FSG_SYMLINK, SRT_FSG_RENAME_TO, G);
	REFUSED("/w/n/.git", "config.worktree", SRT_FSG_FILE, SRT_FSG_CREATE, G);
	assert_int_equal(j("/w/n/.git", "config", SRT_FSG_FILE, SRT_FSG_RENAME_TO, G), SRT_FSG_GITCONFIG);
	assert_int_equal(j("/w/bare", "config", SRT_FSG_FILE, SRT_FSG_RENAME_TO, G), SRT_FSG_GITCONFIG);
	/* outside a git directory, config is any file */
	ALLOWED("/w/etc", "config", SRT_FSG_FILE, SRT_FSG_CREATE, 0);
	/* HEAD makes any directory a git directory */
	assert_int_equal(j("/w/bare", "HEAD", SRT_FSG_FILE, SRT_FSG_CREATE, 0), SRT_FSG_GITHEAD);
	assert_int_equal(j("/w/n/.git", "HEAD", SRT_FSG_FILE, SRT_FSG_RENAME_TO, G), SRT_FSG_GITHEAD);
	REFUSED("/w/bare", "HEAD", SRT_FSG_SYMLINK, SRT_FSG_CREATE, 0);
	REFUSED("/w/bare", "HEAD", SRT_FSG_DIR, SRT_FSG_CREATE, 0);
	ALLOWED("/w/n/.git", "HEAD", SRT_FSG_FILE, SRT_FSG_WRITE, G);
	/* a directory renamed to .git, or into one, was never judged */
	REFUSED("/w/n", ".git", SRT_FSG_DIR, SRT_FSG_RENAME_TO, 0);
	REFUSED("/w/n/.git/modules", "sub", SRT_FSG_DIR, SRT_FSG_RENAME_TO, 0);
	ALLOWED("/w/n/.git", "ORIG_HEAD", SRT_FSG_FILE, SRT_FSG_RENAME_TO, G);
	ALLOWED("/w/n", ".git", SRT_FSG_FILE, SRT_FSG_CREATE, 0); /* gitdir: pointer */
}

static void test_gitconfig_clean(void **state)
{
	(void)state;
	char key[64];
	const char *ok = "[core]\n\trepositoryformatversion = 0\n[user]\n\tname = me\n"
			 "[remote \"origin\"]\n\turl = https://example.com/x.git\n";
	assert_true(srt_fsgate_gitconfig_clean(ok, strlen(ok), key, sizeof key));
	const char *bad[] = {
		"[core]\n\tfsmonitor = ./x.sh\n",
		"[core]\n\thooksPath = .h\n",
		"[include]\n\tpath = ../evil\n",
		"[core]\n\tsshCommand = sh -c evil\n",
		"[filter \"lfs\"]\n\tclean = evil %f\n",
		"[core]\n\tpager = evil\n",
		"\xef\xbb\xbf[core]\n\tfsmonitor = evil\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_false(srt_fsgate_gitconfig_clean(bad[i], strlen(bad[i]), key, sizeof key));
		assert_true(key[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_at_any_depth),
		cmocka_unit_test(test_inside_protected_directories),
		cmocka_unit_test(test_git_directories),
		cmocka_unit_test(test_gitconfig_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
