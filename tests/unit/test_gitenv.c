/* git configuration through the environment (gitenv.c): the
 * GIT_CONFIG_PARAMETERS merge and git.safeDirectories as GIT_CONFIG_*
 * pairs numbered on from the caller's count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "gitenv.h"

static void test_parameters(void **state)
{
	(void)state;
	char *p = srt_gitenv_parameters(NULL);
	assert_string_equal(p, "GIT_CONFIG_PARAMETERS='http.proxyAuthMethod=basic'");
	free(p);
	p = srt_gitenv_parameters("");
	assert_string_equal(p, "GIT_CONFIG_PARAMETERS='http.proxyAuthMethod=basic'");
	free(p);
	/* the caller's after ours: git takes the later one */
	p = srt_gitenv_parameters("'http.proxyAuthMethod'='anyauth' 'a.b=c'");
	assert_string_equal(p, "GIT_CONFIG_PARAMETERS='http.proxyAuthMethod=basic' "
			       "'http.proxyAuthMethod'='anyauth' 'a.b=c'");
	free(p);
}

static void dirs_of(srt_strv *d, const char *const *v)
{
	for (; *v; v++)
		assert_int_equal(srt_strv_push(d, *v), 0);
}

static void expect(const char *const *dirs, const char *count, const char *const *want)
{
	srt_strv d = {0}, out = {0};
	srt_error e = {0};
	dirs_of(&d, dirs);
	assert_int_equal(srt_gitenv_safe_dirs(&d, count, &out, &e), 0);
	size_t n = 0;
	while (want[n])
		n++;
	assert_int_equal(out.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out.v[i], want[i]);
	srt_strv_clear(&d);
	srt_strv_clear(&out);
}

static void test_safe_dirs(void **state)
{
	(void)state;
	static const char *const none[] = {NULL};
	static const char *const one[] = {"/repo", NULL};
	static const char *const root[] = {"/", NULL};
	expect(none, NULL, none);
	expect(none, "3", none);
	expect(one, NULL,
	       (const char *const[]){"GIT_CONFIG_KEY_0=safe.directory", "GIT_CONFIG_VALUE_0=/repo",
				     "GIT_CONFIG_KEY_1=safe.directory", "GIT_CONFIG_VALUE_1=/repo/*",
				     "GIT_CONFIG_COUNT=2", NULL});
	/* numbered on from the caller's entries */
	expect(one, "2",
	       (const char *const[]){"GIT_CONFIG_KEY_2=safe.directory", "GIT_CONFIG_VALUE_2=/repo",
				     "GIT_CONFIG_KEY_3=safe.directory", "GIT_CONFIG_VALUE_3=/repo/*",
				     "GIT_CONFIG_COUNT=4", NULL});
	/* "0": the caller wants no environment config (the reference's opt-out) */
	expect(one, "0", none);
	/* not a count: from 0 */
	expect(one, "x", (const char *const[]){"GIT_CONFIG_KEY_0=safe.directory",
					      "GIT_CONFIG_VALUE_0=/repo",
					      "GIT_CONFIG_KEY_1=safe.directory",
					      "GIT_CONFIG_VALUE_1=/repo/*", "GIT_CONFIG_COUNT=2", NULL});
	expect(root, NULL,
	       (const char *const[]){"GIT_CONFIG_KEY_0=safe.directory", "GIT_CONFIG_VALUE_0=/",
				     "GIT_CONFIG_KEY_1=safe.directory", "GIT_CONFIG_VALUE_1=/*",
				     "GIT_CONFIG_COUNT=2", NULL});
	/* past the bound: one "*" */
	static const char *const many[] = {"/1", "/2", "/3", "/4", "/5", "/6", "/7", "/8", "/9", NULL};
	expect(many, NULL, (const char *const[]){"GIT_CONFIG_KEY_0=safe.directory",
						"GIT_CONFIG_VALUE_0=*", "GIT_CONFIG_COUNT=1", NULL});
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parameters),
		cmocka_unit_test(test_safe_dirs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
