/* test_escape.c - srt_escape: what comes from inside the sandbox is shown
 * and recorded as plain ASCII that still identifies it (issue 8, rule 9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "srt.h"

static void expect(const char *in, unsigned flags, const char *want)
{
	char *got = srt_escape_dup(in, flags);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(srt_escape(NULL, 0, in, flags), strlen(want));
	free(got);
}

static void test_printable_ascii_is_kept(void **state)
{
	(void)state;
	expect("example.com:443 (not allowed)", 0, "example.com:443 (not allowed)");
	expect("a \"q\" ~", 0, "a \"q\" ~");
	expect("", 0, "");
	expect(NULL, 0, "");
}

static void test_controls_and_escape_sequences(void **state)
{
	(void)state;
	/* OSC 52 set-clipboard, as a SOCKS5 name could carry it */
	expect("\x1b]52;c;aGk=\x07", 0, "\\x1b]52;c;aGk=\\x07");
	expect("a\rb\bc\x7f", 0, "a\\x0db\\x08c\\x7f");
	expect("l1\nl2\tx", 0, "l1\\x0al2\\x09x");
	expect("l1\nl2\tx\r", SRT_ESCAPE_LINES, "l1\nl2\tx\\x0d");
}

static void test_non_ascii_and_invalid_utf8(void **state)
{
	(void)state;
	expect("\xff\xfe", 0, "\\xff\\xfe");
	expect("\xc2\x9b" "31m", 0, "\\xc2\\x9b31m");      /* C1 CSI as UTF-8 */
	expect("\x9b", 0, "\\x9b");                          /* C1 CSI raw */
	expect("ab\xe2\x80\xae" "cd", 0, "ab\\xe2\\x80\\xaecd"); /* U+202E */
	expect("caf\xc3\xa9", 0, "caf\\xc3\\xa9");
}

static void test_backslash_is_unambiguous(void **state)
{
	(void)state;
	/* the literal text "\xff" and the byte 0xff must not look alike */
	expect("\\xff", 0, "\\x5cxff");
	expect("\xff", 0, "\\xff");
}

static void test_json_string_contents(void **state)
{
	(void)state;
	expect("a\"b", SRT_ESCAPE_JSON, "a\\\"b");
	expect("\x1b\xff", SRT_ESCAPE_JSON, "\\\\x1b\\\\xff");
	expect("\\", SRT_ESCAPE_JSON, "\\\\x5c");
	expect("l\n", SRT_ESCAPE_JSON | SRT_ESCAPE_LINES, "l\\\\x0a");
	/* every byte of the result is printable ASCII */
	char in[256], out[2048];
	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	size_t n = srt_escape(out, sizeof out, in, SRT_ESCAPE_JSON);
	assert_true(n < sizeof out);
	for (size_t i = 0; i < n; i++)
		assert_true(out[i] >= 0x20 && out[i] <= 0x7e);
}

static void test_truncation_never_cuts_an_escape(void **state)
{
	(void)state;
	char out[6];
	memset(out, 'z', sizeof out);
	/* "ab" fits, "\x1b" (4) would end at 6 >= cap: not begun */
	assert_int_equal(srt_escape(out, sizeof out, "ab\x1b" "c", 0), 7);
	assert_string_equal(out, "ab");
	assert_int_equal(srt_escape(out, 1, "abc", 0), 3);
	assert_string_equal(out, "");
	assert_int_equal(srt_escape(out, sizeof out, "abcde", 0), 5);
	assert_string_equal(out, "abcde");
	/* nothing after a piece that did not fit, even if it would */
	assert_int_equal(srt_escape(out, 5, "ab\x01" "c", 0), 7);
	assert_string_equal(out, "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printable_ascii_is_kept),
		cmocka_unit_test(test_controls_and_escape_sequences),
		cmocka_unit_test(test_non_ascii_and_invalid_utf8),
		cmocka_unit_test(test_backslash_is_unambiguous),
		cmocka_unit_test(test_json_string_contents),
		cmocka_unit_test(test_truncation_never_cuts_an_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
