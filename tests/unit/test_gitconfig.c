/* The git config reader and the table of settings that run programs
 * (gitconfig.c), as tables of cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "gitconfig.h"

typedef struct seen {
	char lines[16][256];
	size_t n;
} seen;

static void record(const char *section, const char *subsection, const char *name,
		   const char *value, void *data)
{
	seen *s = data;
	if (s->n < 16)
		snprintf(s->lines[s->n++], sizeof s->lines[0], "%s|%s|%s|%s", section,
			 subsection ? subsection : "-", name, value ? value : "(bool)");
}

static void test_parse_cases(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *want[4]; /* NULL-terminated */
	} cases[] = {
		{"[core]\n\tFsMonitor = ./x.sh\n", {"core|-|fsmonitor|./x.sh"}},
		{"[core] pager = less -R # comment\n", {"core|-|pager|less -R"}},
		{"[diff \"Bin\"]\ntextconv = \"a  b\" c\n", {"diff|Bin|textconv|a  b c"}},
		{"[alias.St]\nx=1\n", {"alias|st|x|1"}},
		{"[include]\npath\n", {"include|-|path|(bool)"}},
		{"[core]\neditor = vi \\\n -n\n", {"core|-|editor|vi -n"}},
		{"[core]\nx = \"a\\\"b\\\\c\\n\"\n", {"core|-|x|a\"b\\c\n"}},
		{"; c\n# c\n[core]\n\n  a=1\n[bad\nb=2\n[ok]c=3\n", {"core|-|a|1", "ok|-|c|3"}},
		{"k = outside a section\n[s \"unterminated]\nz=1\n", {NULL}},
		{"[s]\n1bad = x\nok-key = y\n", {"s|-|ok-key|y"}},
		{"[.x]\nk=1\n[s]\nk=2\n", {"s|-|k|2"}}, /* found by fuzz_gitconfig */
		/* what git reads too (red team): a leading byte order mark */
		{"\xef\xbb\xbf[core]\nfsmonitor = ./w\n", {"core|-|fsmonitor|./w"}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		seen s = {0};
		srt_gitcfg_parse(cases[i].text, strlen(cases[i].text), record, &s);
		size_t n = 0;
		while (n < 4 && cases[i].want[n])
			n++;
		if (s.n != n)
			fail_msg("case %zu: %zu entries, want %zu (first: %s)", i, s.n, n, s.lines[0]);
		for (size_t k = 0; k < n; k++)
			assert_string_equal(s.lines[k], cases[i].want[k]);
	}
}

/* lines[0]: the first entry, lines[1]: the last */
static void record_last(const char *section, const char *subsection, const char *name,
			const char *value, void *data)
{
	seen *s = data;
	snprintf(s->lines[s->n ? 1 : 0], sizeof s->lines[0], "%s|%s|%s|%s", section,
		 subsection ? subsection : "-", name, value ? value : "(bool)");
	s->n = 1;
}

/* git bounds neither a subsection's length nor the number of entries:
 * neither may hide the entries that follow (red team) */
static void test_no_bound_hides_an_entry(void **state)
{
	(void)state;
	static char text[400000];
	int n = snprintf(text, sizeof text, "[filter \"%0300d\"]\nclean = a\n[x]\n", 0);
	for (int i = 0; i < 120000; i++)
		text[n++] = 'a', text[n++] = '\n';
	n += snprintf(text + n, sizeof text - (size_t)n, "[core]\nfsmonitor = ./w\n");
	seen s = {0};
	size_t got = srt_gitcfg_parse(text, (size_t)n, record_last, &s);
	assert_int_equal(got, 120002);
	assert_true(strncmp(s.lines[0], "filter|000", 10) == 0);
	assert_string_equal(s.lines[1], "core|-|fsmonitor|./w");
}

static void test_unterminated_input_is_safe(void **state)
{
	(void)state;
	/* not NUL-terminated, cut at every length */
	const char text[] = "[a \"b\\\"c\"]\n\tk = \"v\\";
	for (size_t len = 0; len <= sizeof text - 1; len++) {
		seen s = {0};
		srt_gitcfg_parse(text, len, record, &s);
		assert_true(s.n <= 1);
	}
}

static void test_classify(void **state)
{
	(void)state;
	static const struct {
		const char *sec, *sub, *name, *value;
		srt_git_key_kind want;
	} cases[] = {
		{"core", NULL, "hookspath", "x", SRT_GIT_KEY_HOOKS},
		{"core", NULL, "fsmonitor", "x", SRT_GIT_KEY_PROGRAM},
		{"CORE", NULL, "SSHCommand", "x", SRT_GIT_KEY_PROGRAM},
		{"remote", "o", "url", "ext::sh -c x", SRT_GIT_KEY_PROGRAM},
		{"remote", "o", "pushurl", "ext::sh", SRT_GIT_KEY_PROGRAM},
		{"remote", "o", "url", "https://example.com/x", SRT_GIT_KEY_OTHER},
		{"protocol", "ext", "allow", "always", SRT_GIT_KEY_PROGRAM},
		{"protocol", NULL, "allow", "user", SRT_GIT_KEY_PROGRAM},
		{"protocol", "ext", "allow", "never", SRT_GIT_KEY_OTHER},
		{"core", "sub", "fsmonitor", "x", SRT_GIT_KEY_OTHER},
		{"include", NULL, "path", "x", SRT_GIT_KEY_INCLUDE},
		{"includeif", "gitdir:~/w/", "path", "x", SRT_GIT_KEY_INCLUDE},
		{"filter", "lfs", "process", "x", SRT_GIT_KEY_PROGRAM},
		{"diff", "bin", "textconv", "x", SRT_GIT_KEY_PROGRAM},
		{"diff", NULL, "external", "x", SRT_GIT_KEY_PROGRAM},
		{"alias", NULL, "st", "!sh x", SRT_GIT_KEY_PROGRAM},
		{"alias", NULL, "st", "status -s", SRT_GIT_KEY_OTHER},
		{"pager", NULL, "log", "less", SRT_GIT_KEY_PROGRAM},
		{"credential", "https://x", "helper", "x", SRT_GIT_KEY_PROGRAM},
		{"user", NULL, "name", "x", SRT_GIT_KEY_OTHER},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		if (srt_git_key_classify(cases[i].sec, cases[i].sub, cases[i].name, cases[i].value) !=
		    cases[i].want)
			fail_msg("case %zu (%s.%s)", i, cases[i].sec, cases[i].name);
}

static void test_program_path(void **state)
{
	(void)state;
	static const struct {
		const char *value, *want; /* want NULL: no path */
	} cases[] = {
		{"./x.sh --a", "./x.sh"}, {"!./t/st.sh -s", "./t/st.sh"}, {"ext::./r.sh %S", "./r.sh"},
		{"'scripts/my conv' -f", "scripts/my conv"}, {"/abs/p", "/abs/p"},
		{"~/bin/x", "~/bin/x"}, {"less -R", NULL}, {"", NULL}, {"  ", NULL},
		{"a/b;rm x", "a/b"}, {"git-lfs filter-process", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char out[64];
		bool got = srt_git_program_path(cases[i].value, out, sizeof out);
		if (got != (cases[i].want != NULL))
			fail_msg("case %zu: %s", i, cases[i].value);
		if (got)
			assert_string_equal(out, cases[i].want);
	}
	char tiny[3];
	assert_false(srt_git_program_path("./long", tiny, sizeof tiny));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_cases),
		cmocka_unit_test(test_no_bound_hides_an_entry),
		cmocka_unit_test(test_unterminated_input_is_safe),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_program_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
