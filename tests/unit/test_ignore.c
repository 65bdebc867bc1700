/* test_ignore.c - ignoreViolations as the reference 0.0.83 matches it
 * (sandbox-violation-store.js shouldIgnoreViolation, shell-quote.js quote):
 * "*" is every command, any other key a substring of the command text,
 * each pattern a substring of the violation's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ignore.h"

#define MAX_RULES 8

typedef struct rules {
	srt_ignore_rule r[MAX_RULES];
	size_t n;
} rules;

/* rule(&rs, "git push", "/usr/bin/nc", NULL) */
static void rule(rules *rs, const char *command, ...)
{
	assert_true(rs->n < MAX_RULES);
	srt_ignore_rule *r = &rs->r[rs->n++];
	r->command = strdup(command);
	assert_non_null(r->command);
	va_list ap;
	va_start(ap, command);
	for (const char *p; (p = va_arg(ap, const char *));)
		assert_int_equal(srt_strv_push(&r->paths, p), 0);
	va_end(ap);
}

static void clear(rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->r[i].command);
		srt_strv_clear(&rs->r[i].paths);
	}
	rs->n = 0;
}

static bool ignores(const rules *rs, const char *command, const char *line)
{
	return srt_ignore_matches(rs->r, rs->n, command, line);
}

#define NET(hp) "deny network-outbound " hp " (not in allowedDomains)"

static void test_no_rules_ignore_nothing(void **state)
{
	(void)state;
	rules rs = {0};
	assert_false(ignores(&rs, "curl x", NET("a.com:443")));
}

/* The README's example: {"*": ["/usr/bin", "/System"], "git push":
 * ["/usr/bin/nc"], "npm": ["/private/tmp"]} */
static void test_readme_example(void **state)
{
	(void)state;
	rules rs = {0};
	rule(&rs, "*", "/usr/bin", "/System", NULL);
	rule(&rs, "git push", "/usr/bin/nc", NULL);
	rule(&rs, "npm", "/private/tmp", NULL);
	/* "*": any command, the pattern anywhere in the line */
	assert_true(ignores(&rs, "ls", "deny file-write /usr/bin/x"));
	assert_true(ignores(&rs, "ls", "/home/u/usr/bin/x")); /* substring, not prefix */
	assert_true(ignores(&rs, NULL, "/System/Library"));   /* even unattributed */
	assert_false(ignores(&rs, "ls", "/usr/lib/x"));
	/* any command: "/usr/bin" of "*" covers "/usr/bin/nc" too */
	assert_true(ignores(&rs, "git pull", "/usr/bin/nc"));
	/* a key: a substring of the command text */
	assert_true(ignores(&rs, "pnpm install", "/private/tmp/x"));
	assert_true(ignores(&rs, "npm", "/private/tmp"));
	assert_false(ignores(&rs, "yarn", "/private/tmp/x"));
	assert_false(ignores(&rs, NULL, "/private/tmp/x")); /* no command: "*" alone */
	clear(&rs);
	rule(&rs, "git push", "/usr/bin/nc", NULL);
	rule(&rs, "npm", "/private/tmp", NULL);
	assert_true(ignores(&rs, "git push origin main", "/usr/bin/nc"));
	assert_true(ignores(&rs, "cd x && git push", "deny /usr/bin/nc.openbsd"));
	assert_false(ignores(&rs, "git pull", "/usr/bin/nc"));
	assert_false(ignores(&rs, "git  push", "/usr/bin/nc"));
	assert_false(ignores(&rs, "git push", "/usr/bin/n")); /* the pattern must be whole */
	/* a rule's patterns are its own */
	assert_false(ignores(&rs, "npm install", "/usr/bin/nc"));
	assert_true(ignores(&rs, "npm install && git push", "/usr/bin/nc"));
	clear(&rs);
}

static void test_network_lines(void **state)
{
	(void)state;
	rules rs = {0};
	rule(&rs, "*", "quiet.example", NULL);
	rule(&rs, "curl", ":8443", NULL);
	assert_true(ignores(&rs, "wget x", NET("a.quiet.example:80")));
	assert_true(ignores(&rs, "wget x", NET("quiet.example.evil:80"))); /* substring */
	assert_false(ignores(&rs, "wget x", NET("loud.example:80")));
	assert_true(ignores(&rs, "curl -sS https://x", NET("x:8443")));
	assert_false(ignores(&rs, "wget https://x", NET("x:8443")));
	/* the reason is part of the line */
	clear(&rs);
	rule(&rs, "*", "(not in allowedDomains)", NULL);
	assert_true(ignores(&rs, "x", NET("a.b:1")));
	assert_false(ignores(&rs, "x", "deny network-outbound a.b:1 (denied by deniedDomains)"));
	clear(&rs);
}

static void test_no_globs_and_case_counts(void **state)
{
	(void)state;
	rules rs = {0};
	/* "*" is special only as the whole key; globs are plain text */
	rule(&rs, "*.sh", "/tmp", NULL);
	rule(&rs, "c*", "/tmp", NULL);
	rule(&rs, "*", "*.example.com", "/usr/*", NULL);
	assert_false(ignores(&rs, "build.sh", "/tmp/x"));
	assert_false(ignores(&rs, "curl", "/tmp/x"));
	assert_true(ignores(&rs, "run *.sh now", "/tmp/x"));
	assert_false(ignores(&rs, "x", NET("a.example.com:443")));
	assert_false(ignores(&rs, "x", "/usr/bin"));
	assert_true(ignores(&rs, "x", "/usr/*"));
	clear(&rs);
	rule(&rs, "Git", "Example.COM", NULL);
	assert_false(ignores(&rs, "git push", NET("Example.COM:443")));
	assert_false(ignores(&rs, "Git push", NET("example.com:443")));
	assert_true(ignores(&rs, "Git push", NET("Example.COM:443")));
	clear(&rs);
}

static void test_empty_strings_match_everything(void **state)
{
	(void)state;
	rules rs = {0};
	rule(&rs, "", "/never", NULL);
	assert_true(ignores(&rs, "anything", "/never/x"));
	assert_false(ignores(&rs, "anything", "/other"));
	clear(&rs);
	rule(&rs, "npm", "", NULL);
	assert_true(ignores(&rs, "npm test", "whatever"));
	assert_false(ignores(&rs, "yarn test", "whatever"));
	rule(&rs, "yarn", NULL); /* no patterns: suppresses nothing */
	assert_false(ignores(&rs, "yarn test", "whatever"));
	clear(&rs);
}

static void line_is(const char *host, int port, const char *reason, const char *want)
{
	srt_violation v = {.kind = "network", .protocol = "connect", .host = host, .port = port,
			   .reason = reason};
	char *got = srt_violation_line(&v);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_violation_line(void **state)
{
	(void)state;
	line_is("example.com", 443, "not in allowedDomains",
		"deny network-outbound example.com:443 (not in allowedDomains)");
	line_is("::1", 80, "r", "deny network-outbound ::1:80 (r)");
	/* a socket path has no port */
	line_is("/run/x.sock", 0, "socket not listed in allowUnixSockets",
		"deny network-outbound /run/x.sock (socket not listed in allowUnixSockets)");
	line_is(NULL, 1, NULL, "deny network-outbound :1 ()");
}

static void quote_is(const char *want, ...)
{
	char *argv[16];
	size_t n = 0;
	va_list ap;
	va_start(ap, want);
	for (char *a; (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	char *got = srt_shell_quote(argv);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_shell_quote(void **state)
{
	(void)state;
	quote_is("git push origin main", "git", "push", "origin", "main", NULL);
	quote_is("curl -sS 'https://a.b/c?d'", "curl", "-sS", "https://a.b/c?d", NULL);
	quote_is("a ''", "a", "", NULL);
	quote_is("'a b'", "a b", NULL);
	quote_is("'it'\"'\"'s'", "it's", NULL);
	quote_is("'=ls' A=b x=", "=ls", "A=b", "x=", NULL);
	quote_is("/usr/bin/env FOO=1 _x.y:z@w+v,u-t", "/usr/bin/env", "FOO=1", "_x.y:z@w+v,u-t", NULL);
	quote_is("'$HOME' '~' 'a*' '!x' 'x;y'", "$HOME", "~", "a*", "!x", "x;y", NULL);
	quote_is("", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_rules_ignore_nothing),
		cmocka_unit_test(test_readme_example),
		cmocka_unit_test(test_network_lines),
		cmocka_unit_test(test_no_globs_and_case_counts),
		cmocka_unit_test(test_empty_strings_match_everything),
		cmocka_unit_test(test_violation_line),
		cmocka_unit_test(test_shell_quote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
