/* test_control.c - srt --control-fd's line reader (src/cli/control.c):
 * lines split as the reference's readline splits them, bounded, and each
 * judged as a complete settings object; what a line cannot change is
 * named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

/* ---- say() of main.c, recorded --------------------------------------- */

static char said[8][2048];
static size_t n_said;

void say(const char *prefix, const char *what)
{
	if (n_said < 8)
		snprintf(said[n_said++], sizeof said[0], "%s%s", prefix, what);
}

static void forget(void) { n_said = 0; }

/* ---- the splitter ----------------------------------------------------- */

typedef struct got {
	char lines[16][64];
	bool too_long[16];
	size_t n;
} got;

static void on_line(void *data, const char *line, size_t len, bool too_long)
{
	got *g = data;
	assert_true(g->n < 16);
	g->too_long[g->n] = too_long;
	if (!too_long) {
		assert_true(len < 64);
		memcpy(g->lines[g->n], line, len);
		g->lines[g->n][len] = '\0';
	}
	g->n++;
}

/* the input in chunks split at every offset: the same lines each time */
static void split_all_ways(const char *in, size_t max, const char *const *want, size_t nwant)
{
	size_t len = strlen(in);
	for (size_t cut = 0; cut <= len; cut++) {
		control_splitter s = {.max = max};
		got g = {0};
		assert_int_equal(control_split(&s, in, cut, on_line, &g), 0);
		assert_int_equal(control_split(&s, in + cut, len - cut, on_line, &g), 0);
		control_split_end(&s, on_line, &g);
		assert_int_equal(g.n, nwant);
		for (size_t i = 0; i < nwant; i++) {
			if (!want[i])
				assert_true(g.too_long[i]);
			else
				assert_string_equal(g.lines[i], want[i]);
		}
		control_splitter_free(&s);
	}
}

static void test_line_ends(void **state)
{
	(void)state;
	const char *a[] = {"one", "two", "three", "", "four"};
	split_all_ways("one\ntwo\r\nthree\r\rfour", 100, a, 5);
	const char *b[] = {"x", "", "y"};
	split_all_ways("x\n\ny\n", 100, b, 3);
	const char *c[] = {"last without end"};
	split_all_ways("last without end", 100, c, 1);
	split_all_ways("", 100, NULL, 0);
	const char *d[] = {""};
	split_all_ways("\r\n", 100, d, 1);
}

static void test_overlong_line_is_reported_once_and_skipped(void **state)
{
	(void)state;
	/* max 8: "12345678" fits, "123456789" does not */
	const char *a[] = {"12345678", NULL, "ok", NULL};
	split_all_ways("12345678\n123456789abcdefghij\nok\n0123456789", 8, a, 4);
	/* a long run of bytes in many small pieces: still one report */
	control_splitter s = {.max = 8};
	got g = {0};
	for (int i = 0; i < 1000; i++)
		assert_int_equal(control_split(&s, "abc", 3, on_line, &g), 0);
	assert_int_equal(g.n, 0);
	assert_true(s.len <= 8 && s.cap <= 8);
	assert_int_equal(control_split(&s, "\nz\n", 3, on_line, &g), 0);
	assert_int_equal(g.n, 2);
	assert_true(g.too_long[0]);
	assert_string_equal(g.lines[1], "z");
	control_splitter_free(&s);
}

/* ---- one line ---------------------------------------------------------- */

static int applied;
static bool apply_fails;

static int apply_stub(void *data, const srt_config *cfg, srt_error *err)
{
	(void)data;
	assert_non_null(cfg);
	if (apply_fails) {
		snprintf(err->message, sizeof err->message, "the sandbox has no proxy running");
		return -1;
	}
	applied++;
	return 0;
}

static char *fixed_of(const char *json)
{
	srt_error e = {0};
	srt_config *cfg = srt_config_parse(json, strlen(json), "t", &e);
	assert_non_null(cfg);
	char *f = srt_config_fixed(cfg);
	assert_non_null(f);
	srt_config_free(cfg);
	return f;
}

#define START "{\"network\": {\"allowedDomains\": []}, \"filesystem\": {\"allowWrite\": [\".\"]}}"

static control_result line(control *c, const char *s)
{
	return control_line(c, s, strlen(s), false);
}

static void test_lines_are_judged(void **state)
{
	(void)state;
	char *started = fixed_of(START);
	control c = {.fd = 7, .apply = apply_stub, .started = started};
	applied = 0;
	forget();
	/* same filesystem, other network lists: applied without a word */
	assert_int_equal(line(&c, "{\"network\": {\"allowedDomains\": [\"a.com\"]}, "
				  "\"filesystem\": {\"allowWrite\": [\".\"]}}"),
			 CONTROL_APPLIED);
	assert_int_equal(applied, 1);
	assert_int_equal(n_said, 0);
	/* blank: nothing, not even a message */
	assert_int_equal(line(&c, "   \t"), CONTROL_BLANK);
	assert_int_equal(line(&c, ""), CONTROL_BLANK);
	assert_int_equal(n_said, 0);
	/* not JSON, not an object, a patch, an invalid value, an unknown key */
	const char *bad[] = {
		"garbage", "[1]", "{\"network\": {\"allowedDomains\": [\"a.com\"]}}",
		"{\"filesystem\": {}}",
		"{\"network\": {\"allowedDomains\": [\"*\"]}, \"filesystem\": {}}",
		"{\"network\": {\"alowedDomains\": []}, \"filesystem\": {}}",
		"{\"network\": {}, \"filesystem\": {}} {}",
		"{\"network\": {}, \"filesystem\": {\"allowWrite\": \"/\"}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		forget();
		assert_int_equal(line(&c, bad[i]), CONTROL_INVALID);
		assert_int_equal(n_said, 1);
		assert_non_null(strstr(said[0], "control fd 7, line "));
		assert_non_null(strstr(said[0], "ignored; the previous config stays in force"));
	}
	assert_int_equal(applied, 1);
	forget();
	assert_int_equal(line(&c, "{\"network\": 1"), CONTROL_INVALID);
	assert_string_equal(said[0], "control fd 7, line 12, column 13: '}' expected near end of "
				     "file (ignored; the previous config stays in force)");
	forget();
	assert_int_equal(line(&c, "{\"network\": {\"allowedDomains\": [\"a.com\"]}}"),
			 CONTROL_INVALID);
	assert_non_null(strstr(said[0], "\"filesystem\" is missing"));
	/* too long */
	forget();
	assert_int_equal(control_line(&c, NULL, 0, true), CONTROL_INVALID);
	assert_non_null(strstr(said[0], "longer than 1048576 bytes"));
	/* a NUL inside */
	forget();
	assert_int_equal(control_line(&c, "{\"network\": {}, \0\"filesystem\": {}}", 34, false),
			 CONTROL_INVALID);
	/* every line counts, blank ones too */
	assert_int_equal(c.lineno, 15);
	/* the sandbox refuses it */
	forget();
	apply_fails = true;
	assert_int_equal(line(&c, "{\"network\": {}, \"filesystem\": {\"allowWrite\": [\".\"]}}"),
			 CONTROL_FAILED);
	apply_fails = false;
	assert_non_null(strstr(said[0], "not applied: the sandbox has no proxy running"));
	free(started);
}

static void test_what_cannot_change_is_named(void **state)
{
	(void)state;
	char *started = fixed_of(START);
	control c = {.fd = 3, .apply = apply_stub, .started = started};
	applied = 0;
	forget();
	assert_int_equal(line(&c, "{\"network\": {\"allowedDomains\": [\"a.com\"], "
				  "\"allowLocalBinding\": true}, \"filesystem\": {\"allowWrite\": "
				  "[\".\", \"/\"], \"denyRead\": [\"/x\"]}, \"ignoreViolations\": "
				  "{\"*\": [\"a\"]}}"),
			 CONTROL_APPLIED);
	assert_int_equal(applied, 1); /* the network lists are applied */
	assert_int_equal(n_said, 1);
	assert_string_equal(said[0],
			    "warning: control fd 3, line 1: network lists applied; "
			    "network.allowLocalBinding, filesystem.denyRead, filesystem.allowWrite, "
			    "ignoreViolations cannot change while the command runs and stay as the "
			    "sandbox started");
	/* the same lists in another order are the same */
	free(started);
	started = fixed_of("{\"filesystem\": {\"allowWrite\": [\"/b\", \"/a\"]}}");
	c.started = started;
	forget();
	assert_int_equal(line(&c, "{\"network\": {}, \"filesystem\": {\"allowWrite\": "
				  "[\"/a\", \"/b\"]}}"),
			 CONTROL_APPLIED);
	assert_int_equal(n_said, 0);
	forget();
	assert_int_equal(line(&c, "{\"network\": {}, \"filesystem\": {\"allowWrite\": "
				  "[\"/a\", {\"path\": \"/b\", \"literal\": true}]}}"),
			 CONTROL_APPLIED);
	assert_string_equal(said[0], "warning: control fd 3, line 3: network lists applied; "
				     "filesystem.allowWrite cannot change while the command runs "
				     "and stays as the sandbox started");
	/* parentProxy is fixed too; only the key is named, never the URL */
	forget();
	assert_int_equal(line(&c, "{\"network\": {\"parentProxy\": {\"http\": "
				  "\"http://u:secret@p:1\", \"noProxy\": \"\"}}, \"filesystem\": "
				  "{\"allowWrite\": [\"/b\", \"/a\"]}}"),
			 CONTROL_APPLIED);
	assert_string_equal(said[0], "warning: control fd 3, line 4: network lists applied; "
				     "network.parentProxy.http, network.parentProxy.noProxy cannot "
				     "change while the command runs and stay as the sandbox started");
	free(started);
}

static void test_fixed_diff(void **state)
{
	(void)state;
	char *d = control_fixed_diff("a: 1\nb: 2\nc: 3\n", "a: 1\nb: 3\nc: 4\n");
	assert_string_equal(d, "b, c");
	free(d);
	d = control_fixed_diff("a: 1\n", "a: 1\n");
	assert_string_equal(d, "");
	free(d);
	/* texts of unequal length (never from srt_config_fixed) stay bounded */
	d = control_fixed_diff("a: 1\n", "a: 2\nb: 1\nc: 1\n");
	assert_string_equal(d, "a");
	free(d);
	d = control_fixed_diff("a: 1\nb: 1\nc: 1\n", "");
	assert_string_equal(d, "a, b, c");
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_overlong_line_is_reported_once_and_skipped),
		cmocka_unit_test(test_lines_are_judged),
		cmocka_unit_test(test_what_cannot_change_is_named),
		cmocka_unit_test(test_fixed_diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
