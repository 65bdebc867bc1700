/* HEAD validation and the config allowlist of a repository created in a
 * fresh directory (gitsanitize.c), as tables of cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "gitconfig.h"
#include "gitsanitize.h"

static void test_head(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		bool ok;
	} cases[] = {
		{"ref: refs/heads/main\n", true},
		{"ref: refs/heads/main", true},
		{"ref: refs/heads/feature/x-1\n", true},
		{"0123456789abcdef0123456789abcdef01234567\n", true},
		{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true},
		{"0123456789ABCDEF0123456789abcdef01234567\n", false}, /* upper case */
		{"0123456789abcdef0123456789abcdef0123456\n", false},  /* 39 digits */
		{"", false},
		{"\n", false},
		{"ref: refs/heads/\n", false},
		{"ref: refs/heads/main\n\n", false},
		{"ref: refs/tags/v1\n", false},        /* only branches */
		{"ref: ../../etc/passwd\n", false},
		{"ref: refs/heads/../../x\n", false},
		{"ref: refs/heads/a..b\n", false},
		{"ref: refs/heads/.hidden\n", false},
		{"ref: refs/heads/a/.b\n", false},
		{"ref: refs/heads/x.lock\n", false},
		{"ref: refs/heads/a//b\n", false},
		{"ref: refs/heads/a/\n", false},
		{"ref: refs/heads/a.\n", false},
		{"ref: refs/heads/@\n", false},
		{"ref: refs/heads/a@{1}\n", false},
		{"ref: refs/heads/a b\n", false},
		{"ref: refs/heads/a\tb\n", false},
		{"ref: refs/heads/a~1\n", false},
		{"ref: refs/heads/a:b\n", false},
		{"ref: refs/heads/a\\b\n", false},
		{"gitdir: /elsewhere\n", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		if (srt_git_head_valid(cases[i].text, strlen(cases[i].text)) != cases[i].ok)
			fail_msg("case %zu (%s): want %s", i, cases[i].text, cases[i].ok ? "valid" : "invalid");
	/* the length counts, not a NUL */
	assert_false(srt_git_head_valid("ref: refs/heads/main\0x", 22));
}

typedef struct collected {
	char lines[32][128];
	size_t n;
} collected;

static void collect(const char *section, const char *subsection, const char *name,
		    const char *value, void *data)
{
	collected *c = data;
	if (c->n < 32)
		snprintf(c->lines[c->n++], sizeof c->lines[0], "%s.%s%s%s=%s", section,
			 subsection ? subsection : "", subsection ? "." : "", name,
			 value ? value : "(bool)");
}

/* What git would read from the sanitized text, one "sec.sub.name=value"
 * per entry. */
static collected reread(const srt_gitcfg_clean *c)
{
	collected out = {0};
	srt_gitcfg_parse(c->text, c->len, collect, &out);
	return out;
}

static bool has(const collected *c, const char *line)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->lines[i], line) == 0)
			return true;
	return false;
}

static const char attack[] =
	"[core]\n"
	"\trepositoryformatversion = 0\n"
	"\tfilemode = true\n"
	"\tbare = false\n"
	"\tlogallrefupdates = true\n"
	"\tfsmonitor = touch /tmp/pwned\n"
	"\thooksPath = /tmp/hooks\n"
	"\tsshCommand = evil\n"
	"\tpager = evil\n"
	"\teditor = evil\n"
	"\tworktree = /elsewhere\n"
	"[include]\n\tpath = /tmp/evil.cfg\n"
	"[includeIf \"gitdir:/\"]\n\tpath = /tmp/evil.cfg\n"
	"[filter \"x\"]\n\tclean = evil\n\tsmudge = evil\n"
	"[remote \"origin\"]\n"
	"\turl = https://example.com/r.git\n"
	"\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
	"\tuploadpack = evil\n"
	"\treceivepack = evil\n"
	"[remote \"bad\"]\n\turl = ext::sh -c evil\n"
	"[remote \"bad2\"]\n\turl = fd::3\n"
	"[remote \"bad3\"]\n\turl = --upload-pack=evil\n"
	/* a repository on this machine: git push runs its hooks here */
	"[remote \"bad4\"]\n\turl = /ws/planted.git\n"
	"[remote \"bad5\"]\n\turl = file:///ws/planted.git\n"
	"[remote \"bad6\"]\n\tpushurl = ./x:y\n"
	"[remote \"scp\"]\n\turl = git@example.com:r.git\n"
	"[branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n"
	"[user]\n\tname = \"A \\\"quoted\\\" name\"\n\temail = a@b.c\n"
	"[alias]\n\tst = !evil\n"
	"[credential]\n\thelper = evil\n"
	"[extensions]\n\tworktreeConfig = true\n\tobjectFormat = sha1\n";

static void test_allowlist(void **state)
{
	(void)state;
	srt_gitcfg_clean c;
	assert_int_equal(srt_gitcfg_sanitize(attack, strlen(attack), false, &c), 0);
	collected r = reread(&c);
	static const char *const kept[] = {
		"core.repositoryformatversion=0", "core.filemode=true", "core.bare=false",
		"core.logallrefupdates=true",
		"remote.origin.url=https://example.com/r.git", "remote.scp.url=git@example.com:r.git",
		"remote.origin.fetch=+refs/heads/*:refs/remotes/origin/*",
		"branch.main.remote=origin", "branch.main.merge=refs/heads/main",
		"user.name=A \"quoted\" name", "user.email=a@b.c", "extensions.objectformat=sha1",
		/* each remote whose url was dropped points nowhere instead */
		"remote.bad.url=/dev/null/srt-dropped-url", "remote.bad2.url=/dev/null/srt-dropped-url",
		"remote.bad3.url=/dev/null/srt-dropped-url", "remote.bad4.url=/dev/null/srt-dropped-url",
		"remote.bad5.url=/dev/null/srt-dropped-url", "remote.bad6.url=/dev/null/srt-dropped-url",
	};
	for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
		if (!has(&r, kept[i]))
			fail_msg("%s was not kept:\n%s", kept[i], c.text);
	assert_int_equal(r.n, sizeof kept / sizeof *kept);
	/* nothing the table calls executable survives */
	for (size_t i = 0; i < r.n; i++)
		assert_null(strstr(r.lines[i], "evil"));
	assert_int_equal(c.n_dropped, 21);
	assert_string_equal(c.dropped[0], "core.fsmonitor");
	assert_string_equal(c.dropped[1], "core.hookspath");
	srt_gitcfg_clean_free(&c);
}

static void test_keep_all(void **state)
{
	(void)state;
	srt_gitcfg_clean c;
	assert_int_equal(srt_gitcfg_sanitize(attack, strlen(attack), true, &c), 0);
	collected r = reread(&c);
	assert_true(has(&r, "core.fsmonitor=touch /tmp/pwned"));
	assert_true(has(&r, "remote.bad.url=ext::sh -c evil"));
	/* named: the settings of git's executable table that were kept */
	assert_string_equal(c.dropped[0], "core.fsmonitor");
	/* 14: remote.bad.url = ext::... counts too (it runs its command) */
	assert_int_equal(c.n_dropped, 14);
	srt_gitcfg_clean_free(&c);
}

/* branch.<b>.remote is kept only where git push would go to another
 * host: a remote whose url is kept, ".", or a URL itself.  A name whose
 * remote has no url kept ("origin" below, its path url dropped) or none at
 * all ("store.git") is a path for git: ./origin, a bare repository the
 * command planted, whose pre-receive hook `git push` runs (red team). */
static void test_branch_remotes(void **state)
{
	(void)state;
	static const char text[] =
		"[remote \"origin\"]\n\turl = /ws/planted.git\n"
		"\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
		"[remote \"up\"]\n\turl = https://example.com/r.git\n"
		"[remote \"push-only\"]\n\tpushurl = https://example.com/r.git\n"
		"[branch \"a\"]\n\tremote = origin\n\tmerge = refs/heads/a\n"
		"[branch \"b\"]\n\tremote = store.git\n"
		"[branch \"c\"]\n\tremote = up\n"
		"[branch \"d\"]\n\tremote = .\n"
		"[branch \"e\"]\n\tremote = ssh://example.com/r.git\n"
		"[branch \"f\"]\n\tremote = /ws/planted.git\n"
		"[branch \"g\"]\n\tremote = push-only\n"
		"[branch \"h\"]\n\tremote = UP\n" /* remote names are case-sensitive */
		"[remote \"late\"]\n\turl = git://example.com/r.git\n"
		"[branch \"i\"]\n\tremote = late\n"; /* defined before or after */
	srt_gitcfg_clean c;
	assert_int_equal(srt_gitcfg_sanitize(text, strlen(text), false, &c), 0);
	collected r = reread(&c);
	assert_true(has(&r, "branch.c.remote=up"));
	assert_true(has(&r, "branch.d.remote=."));
	assert_true(has(&r, "branch.e.remote=ssh://example.com/r.git"));
	assert_true(has(&r, "branch.i.remote=late"));
	assert_true(has(&r, "branch.a.merge=refs/heads/a"));
	/* a remote whose url was dropped points nowhere, never to ./origin */
	assert_true(has(&r, "remote.origin.url=/dev/null/srt-dropped-url"));
	assert_false(has(&r, "remote.up.url=/dev/null/srt-dropped-url"));
	assert_true(has(&r, "remote.origin.fetch=+refs/heads/*:refs/remotes/origin/*"));
	static const char *const dropped[] = {"branch.a.remote=origin", "branch.b.remote=store.git",
					      "branch.f.remote=/ws/planted.git",
					      "branch.g.remote=push-only", "branch.h.remote=UP"};
	for (size_t i = 0; i < sizeof dropped / sizeof *dropped; i++)
		if (has(&r, dropped[i]))
			fail_msg("%s was kept:\n%s", dropped[i], c.text);
	srt_gitcfg_clean_free(&c);
	/* with allowGitConfig, everything as written */
	assert_int_equal(srt_gitcfg_sanitize(text, strlen(text), true, &c), 0);
	r = reread(&c);
	assert_true(has(&r, "branch.a.remote=origin"));
	srt_gitcfg_clean_free(&c);
}

/* The output is what the parser reads back, whatever the input's syntax:
 * values with quotes, backslashes, newlines, comment characters. */
static void test_round_trip(void **state)
{
	(void)state;
	static const char text[] =
		"[user]\n\tname = \"x # not a comment ; nor this\"\n"
		"\temail = \"a\\\\b\\nc\\td\"\n"
		"[remote \"we\\\"ird\\\\\"]\n\turl = ssh://h/srv/repo\n"
		"[core]\n\tbare = true\n\tbare\n\tfilemode\n";
	srt_gitcfg_clean c;
	assert_int_equal(srt_gitcfg_sanitize(text, strlen(text), false, &c), 0);
	collected r = reread(&c);
	assert_true(has(&r, "user.name=x # not a comment ; nor this"));
	assert_true(has(&r, "user.email=a\\b\nc\td"));
	assert_true(has(&r, "remote.we\"ird\\.url=ssh://h/srv/repo"));
	assert_true(has(&r, "core.filemode=(bool)"));
	assert_int_equal(r.n, 4); /* core.bare=true (twice: the bare form is true) dropped */
	assert_int_equal(c.n_dropped, 2);
	srt_gitcfg_clean_free(&c);
	/* empty and garbage inputs give an empty config */
	assert_int_equal(srt_gitcfg_sanitize("", 0, false, &c), 0);
	assert_non_null(c.text);
	assert_int_equal(c.len, 0);
	srt_gitcfg_clean_free(&c);
	assert_int_equal(srt_gitcfg_sanitize("\x01[[[\n= =\n", 9, true, &c), 0);
	assert_int_equal(c.len, 0);
	srt_gitcfg_clean_free(&c);
}

/* One index entry (versions 2 and 3: padded to 8; 4: prefix-compressed,
 * unpadded) with `mode` and `path`, appended at buf + *off. */
static void put_entry(unsigned char *buf, size_t *off, unsigned version, unsigned mode,
		      const char *path, size_t oid_len)
{
	unsigned char *e = buf + *off;
	size_t fixed = 40 + oid_len + 2, pl = strlen(path);
	memset(e, 0, fixed);
	e[24] = (unsigned char)(mode >> 24);
	e[25] = (unsigned char)(mode >> 16);
	e[26] = (unsigned char)(mode >> 8);
	e[27] = (unsigned char)mode;
	e[40 + oid_len + 1] = (unsigned char)(pl < 0xfff ? pl : 0xfff);
	size_t p = fixed;
	if (version == 4)
		e[p++] = 0; /* strip nothing of the previous path */
	memcpy(e + p, path, pl + 1);
	if (version == 4)
		*off += p + pl + 1;
	else
		*off += (fixed + pl + 8) & ~(size_t)7;
}

static size_t make_index(unsigned char *buf, unsigned version, const unsigned *modes,
			 const char *const *paths, size_t n, size_t oid_len)
{
	memcpy(buf, "DIRC", 4);
	memset(buf + 4, 0, 8);
	buf[7] = (unsigned char)version;
	buf[11] = (unsigned char)n;
	size_t off = 12;
	for (size_t i = 0; i < n; i++)
		put_entry(buf, &off, version, modes[i], paths[i], oid_len);
	memset(buf + off, 0, 20); /* the trailing checksum */
	return off + 20;
}

static void test_index_gitlinks(void **state)
{
	(void)state;
	unsigned char buf[4096];
	const char *const paths[] = {"a.txt", "dir/longer-name.c", "sub"};
	const unsigned plain[] = {0100644, 0100755, 0120000};
	const unsigned linked[] = {0100644, 0100755, 0160000};
	for (unsigned v = 2; v <= 4; v++)
		for (size_t oid = 20; oid <= 32; oid += 12) {
			size_t n = make_index(buf, v, plain, paths, 3, oid);
			assert_int_equal(srt_git_index_has_gitlink(buf, n, oid), 0);
			n = make_index(buf, v, linked, paths, 3, oid);
			assert_int_equal(srt_git_index_has_gitlink(buf, n, oid), 1);
			/* cut anywhere inside the entries: never a "no" */
			size_t whole = make_index(buf, v, plain, paths, 3, oid) - 20;
			for (size_t cut = 0; cut < whole; cut++)
				assert_int_equal(srt_git_index_has_gitlink(buf, cut, oid), -1);
		}
	assert_int_equal(srt_git_index_has_gitlink((const unsigned char *)"DIRX\0\0\0\2\0\0\0\0", 12, 20), -1);
	assert_int_equal(srt_git_index_has_gitlink((const unsigned char *)"DIRC\0\0\0\5\0\0\0\0", 12, 20), -1);
	assert_int_equal(srt_git_index_has_gitlink((const unsigned char *)"DIRC\0\0\0\2\0\0\0\0", 12, 20), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_allowlist),
		cmocka_unit_test(test_keep_all),
		cmocka_unit_test(test_branch_remotes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_index_gitlinks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
