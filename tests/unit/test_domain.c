/* test_domain.c - domain pattern parsing and matching (SPEC §5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "domain.h"

/* Parse that must succeed; returns the pattern (caller frees). */
static srt_domain_pattern ok_at(const char *text, int line)
{
	srt_domain_pattern p;
	char why[256] = "";
	if (srt_domain_pattern_parse(text, &p, why, sizeof why) != 0)
		fail_msg("line %d: \"%s\" rejected: %s", line, text, why);
	return p;
}
#define OK(text) ok_at((text), __LINE__)

/* Parse that must fail with a reason containing `sub`. */
static void err_at(const char *text, const char *sub, int line)
{
	srt_domain_pattern p;
	char why[256] = "";
	if (srt_domain_pattern_parse(text, &p, why, sizeof why) == 0) {
		srt_domain_pattern_free(&p);
		fail_msg("line %d: \"%s\" accepted, expected error \"%s\"", line,
			 text, sub);
	}
	if (!strstr(why, sub))
		fail_msg("line %d: \"%s\": reason \"%s\" lacks \"%s\"", line,
			 text, why, sub);
	/* a failed parse leaves nothing to free */
	assert_null(p.text);
	assert_null(p.host);
}
#define ERR(text, sub) err_at((text), (sub), __LINE__)

#define M(p, host, port) srt_domain_pattern_match(&(p), (host), (port))

static void test_exact(void **state)
{
	(void)state;
	srt_domain_pattern p = OK("Example.COM.");
	assert_int_equal(p.kind, SRT_DOMAIN_EXACT);
	assert_string_equal(p.text, "Example.COM.");
	assert_string_equal(p.host, "example.com");
	assert_int_equal(p.port, 0);

	assert_true(M(p, "example.com", 443));
	assert_true(M(p, "EXAMPLE.COM", 80));
	assert_true(M(p, "example.com.", 1));
	assert_true(M(p, "eXaMpLe.CoM.", 65535));
	assert_false(M(p, "www.example.com", 443));
	assert_false(M(p, "example.co", 443));
	assert_false(M(p, "xexample.com", 443));
	assert_false(M(p, "example.com.evil", 443));
	assert_false(M(p, "example.com..", 443));
	assert_false(M(p, ".example.com", 443));
	assert_false(M(p, "example.comm", 443));
	srt_domain_pattern_free(&p);
}

static void test_wildcard(void **state)
{
	(void)state;
	srt_domain_pattern p = OK("*.Example.com");
	assert_int_equal(p.kind, SRT_DOMAIN_WILDCARD);
	assert_string_equal(p.host, "example.com");
	assert_string_equal(p.text, "*.Example.com");

	assert_true(M(p, "a.example.com", 443));
	assert_true(M(p, "a.b.c.d.example.com", 443));
	assert_true(M(p, "WWW.EXAMPLE.COM.", 80));
	assert_true(M(p, "x-y_z.example.com", 80));
	assert_false(M(p, "example.com", 443)); /* not the apex */
	assert_false(M(p, "example.com.", 443));
	assert_false(M(p, "badexample.com", 443));
	assert_false(M(p, ".example.com", 443));
	assert_false(M(p, "a..example.com", 443));
	assert_false(M(p, "a.example.com.evil.net", 443));
	assert_false(M(p, "*.example.com", 443));
	srt_domain_pattern_free(&p);

	p = OK("*.example.com.");
	assert_string_equal(p.host, "example.com");
	assert_true(M(p, "a.example.com", 1));
	srt_domain_pattern_free(&p);
}

static void test_any(void **state)
{
	(void)state;
	srt_domain_pattern p = OK("*");
	assert_int_equal(p.kind, SRT_DOMAIN_ANY);
	assert_null(p.host);
	assert_int_equal(p.port, 0);
	assert_true(M(p, "example.com", 443));
	assert_true(M(p, "a", 1));
	assert_true(M(p, "192.0.2.1", 22));
	assert_true(M(p, "::1", 22));
	assert_true(M(p, "[2001:db8::1]", 22));
	/* malformed hosts never match, not even "*" */
	assert_false(M(p, "", 80));
	assert_false(M(p, "bad host", 80));
	srt_domain_pattern_free(&p);

	p = OK("*:22");
	assert_int_equal(p.kind, SRT_DOMAIN_ANY);
	assert_int_equal(p.port, 22);
	assert_true(M(p, "github.com", 22));
	assert_true(M(p, "10.0.0.1", 22));
	assert_false(M(p, "github.com", 443));
	assert_false(M(p, "github.com", 2222));
	srt_domain_pattern_free(&p);
}

static void test_ports(void **state)
{
	(void)state;
	srt_domain_pattern p = OK("api.example.com:443");
	assert_int_equal(p.kind, SRT_DOMAIN_EXACT);
	assert_string_equal(p.host, "api.example.com");
	assert_int_equal(p.port, 443);
	assert_true(M(p, "api.example.com", 443));
	assert_false(M(p, "api.example.com", 80));
	assert_false(M(p, "api.example.com", 0));
	srt_domain_pattern_free(&p);

	p = OK("*.example.com:8443");
	assert_int_equal(p.kind, SRT_DOMAIN_WILDCARD);
	assert_int_equal(p.port, 8443);
	assert_true(M(p, "a.example.com", 8443));
	assert_false(M(p, "a.example.com", 443));
	srt_domain_pattern_free(&p);

	p = OK("example.com.:1");
	assert_string_equal(p.host, "example.com");
	assert_int_equal(p.port, 1);
	srt_domain_pattern_free(&p);

	p = OK("example.com:65535");
	assert_int_equal(p.port, 65535);
	srt_domain_pattern_free(&p);

	/* a port-less pattern matches any port, out-of-range ports never */
	p = OK("example.com");
	assert_true(M(p, "example.com", 0));
	assert_true(M(p, "example.com", 65535));
	assert_false(M(p, "example.com", 65536));
	assert_false(M(p, "example.com", -1));
	srt_domain_pattern_free(&p);
}

static void test_ipv4(void **state)
{
	(void)state;
	srt_domain_pattern p = OK("192.0.2.1");
	const unsigned char want[4] = {192, 0, 2, 1};
	assert_int_equal(p.kind, SRT_DOMAIN_IPV4);
	assert_memory_equal(p.addr, want, 4);
	assert_string_equal(p.host, "192.0.2.1");
	assert_true(M(p, "192.0.2.1", 80));
	assert_true(M(p, "192.0.2.1.", 80));
	assert_true(M(p, "::ffff:192.0.2.1", 80)); /* mapped form */
	assert_true(M(p, "[::ffff:c000:201]", 80));
	assert_false(M(p, "192.0.2.10", 80));
	assert_false(M(p, "192.0.2.2", 80));
	assert_false(M(p, "::192.0.2.1", 80)); /* compatible, not mapped */
	assert_false(M(p, "3221225985", 80)); /* inet_aton form */
	assert_false(M(p, "0xc0.0.2.1", 80));
	assert_false(M(p, "192.0.2.1.nip.io", 80));
	srt_domain_pattern_free(&p);

	p = OK("10.1.2.3:8080");
	assert_int_equal(p.kind, SRT_DOMAIN_IPV4);
	assert_int_equal(p.port, 8080);
	assert_true(M(p, "10.1.2.3", 8080));
	assert_false(M(p, "10.1.2.3", 80));
	srt_domain_pattern_free(&p);
}

static void test_ipv6(void **state)
{
	(void)state;
	srt_domain_pattern p = OK("[2001:DB8:0:0::1]");
	unsigned char want[16] = {0x20, 0x01, 0x0d, 0xb8};
	want[15] = 1;
	assert_int_equal(p.kind, SRT_DOMAIN_IPV6);
	assert_memory_equal(p.addr, want, 16);
	assert_string_equal(p.host, "2001:db8::1");
	assert_int_equal(p.port, 0);
	assert_true(M(p, "2001:db8::1", 443));
	assert_true(M(p, "[2001:db8::1]", 443));
	assert_true(M(p, "2001:0DB8:0000:0000:0000:0000:0000:0001", 443));
	assert_false(M(p, "2001:db8::2", 443));
	assert_false(M(p, "[2001:db8::1", 443));
	assert_false(M(p, "2001:db8::1]", 443));
	assert_false(M(p, "[2001:db8::1]:443", 443));
	assert_false(M(p, "2001:db8::1%eth0", 443));
	srt_domain_pattern_free(&p);

	p = OK("[::1]:8080");
	assert_int_equal(p.kind, SRT_DOMAIN_IPV6);
	assert_int_equal(p.port, 8080);
	assert_true(M(p, "0:0::1", 8080));
	assert_true(M(p, "[::1]", 8080));
	assert_false(M(p, "::1", 8081));
	assert_false(M(p, "127.0.0.1", 8080));
	srt_domain_pattern_free(&p);

	/* a mapped IPv6 pattern is the IPv4 address */
	p = OK("[::ffff:192.0.2.7]");
	assert_true(M(p, "192.0.2.7", 1));
	assert_true(M(p, "::ffff:192.0.2.7", 1));
	assert_false(M(p, "192.0.2.8", 1));
	srt_domain_pattern_free(&p);
}

static void test_names_never_match_ips(void **state)
{
	(void)state;
	srt_domain_pattern p = OK("localhost");
	assert_false(M(p, "127.0.0.1", 80));
	assert_false(M(p, "::1", 80));
	srt_domain_pattern_free(&p);

	p = OK("*.in-addr.arpa");
	assert_false(M(p, "1.2.3.4", 80));
	assert_true(M(p, "4.3.2.1.in-addr.arpa", 80));
	srt_domain_pattern_free(&p);

	/* and IP patterns never match names */
	p = OK("127.0.0.1");
	assert_false(M(p, "localhost", 80));
	assert_false(M(p, "127.0.0.1.example.com", 80));
	srt_domain_pattern_free(&p);
}

static void test_hostile_hosts(void **state)
{
	(void)state;
	srt_domain_pattern p = OK("*.example.com");
	assert_false(srt_domain_pattern_match(&p, NULL, 80));
	assert_false(srt_domain_pattern_match(NULL, "a.example.com", 80));
	assert_false(M(p, "", 80));
	assert_false(M(p, ".", 80));
	assert_false(M(p, "a b.example.com", 80));
	assert_false(M(p, "a\n.example.com", 80));
	assert_false(M(p, "a/.example.com", 80));
	assert_false(M(p, "a%2e.example.com", 80));
	assert_false(M(p, "a.example.com:80", 80));
	assert_false(M(p, "\xc3\xa4.example.com", 80));
	assert_false(M(p, "a.example.com..", 80));

	/* label and name length limits */
	char host[400];
	memset(host, 'a', 64);
	strcpy(host + 64, ".example.com");
	assert_false(M(p, host, 80));
	memset(host, 'a', 63);
	strcpy(host + 63, ".example.com");
	assert_true(M(p, host, 80));
	memset(host, 0, sizeof host);
	for (int i = 0; i < 60; i++)
		strcat(host, "abcd.");
	strcat(host, "example.com");
	assert_false(M(p, host, 80));
	srt_domain_pattern_free(&p);

	/* names that some resolvers read as IPv4 never match */
	p = OK("*");
	assert_false(M(p, "127.1", 80));
	assert_false(M(p, "0x7f.1", 80));
	assert_false(M(p, "2130706433", 80));
	assert_false(M(p, "017700000001", 80));
	assert_true(M(p, "127.0.0.1", 80));
	srt_domain_pattern_free(&p);
}

static void test_errors(void **state)
{
	(void)state;
	ERR("", "empty");
	ERR(NULL, "empty");

	/* unbracketed IPv6 */
	ERR("::1", "brackets");
	ERR("2001:db8::1", "brackets");
	ERR("2001:db8::1:443", "brackets");
	ERR("fe80::1%eth0", "brackets");

	/* empty labels */
	ERR("a..b", "empty label");
	ERR(".a.com", "empty label");
	ERR("a.com..", "empty label");
	ERR(".", "empty label");
	ERR("*..", "empty label");

	/* '*' misplaced */
	ERR("a.*.com", "'*'");
	ERR("*foo.com", "'*'");
	ERR("foo*", "'*'");
	ERR("*.", "'*.'");
	ERR("*.*.a.com", "'*'");
	ERR("**", "'*'");
	ERR("*.com*", "'*'");
	ERR("*.1.2.3.4", "IP address");

	/* ports */
	ERR("a.com:0", "1 to 65535");
	ERR("a.com:65536", "1 to 65535");
	ERR("a.com:99999999999999999999", "1 to 65535");
	ERR("a.com:8x", "1 to 65535");
	ERR("a.com:-1", "1 to 65535");
	ERR("a.com:+80", "1 to 65535");
	ERR("a.com: 80", "1 to 65535");
	ERR("a.com:", "missing port");
	ERR("[::1]:", "missing port");
	ERR("*:", "missing port");
	ERR(":80", "empty host");

	/* characters */
	ERR("a b.com", "invalid character ' '");
	ERR("a/b.com", "invalid character '/'");
	ERR("a@b.com", "invalid character '@'");
	ERR("a\tb.com", "0x09");
	ERR("ex\xc3\xa4mple.com", "non-ASCII");
	ERR("a]", "invalid character ']'");

	/* lengths and hyphens */
	char name[300];
	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	ERR(name, "longer than 63");
	memset(name, 0, sizeof name);
	for (int i = 0; i < 51; i++)
		strcat(name, "abcd.");
	strcat(name, "ab"); /* 257 characters */
	ERR(name, "longer than 253");
	ERR("-a.com", "'-'");
	ERR("a-.com", "'-'");
	ERR("a.-b-.com", "'-'");

	/* ambiguous IPv4 forms */
	ERR("127.1", "ambiguous");
	ERR("0x7f.1", "ambiguous");
	ERR("2130706433", "ambiguous");
	ERR("010.0.0.1", "ambiguous");
	ERR("80", "ambiguous");
	ERR("*.0.1", "ambiguous");

	/* brackets */
	ERR("[::1", "missing ']'");
	ERR("[]", "empty IPv6");
	ERR("[::1]x", "after ']'");
	ERR("[::1]]", "after ']'");
	ERR("[1.2.3.4]", "without brackets");
	ERR("[zz::1]", "invalid IPv6");
	ERR("[::1]:80:90", "1 to 65535");
	ERR("[example.com]", "invalid IPv6");
	ERR("[fe80::1%eth0]", "invalid IPv6");
	ERR("[[::1]]", "after ']'");
}

static void test_valid_edge_cases(void **state)
{
	(void)state;
	char name[300];
	memset(name, 'a', 63);
	strcpy(name + 63, ".com");
	srt_domain_pattern p = OK(name);
	assert_true(M(p, name, 1));
	srt_domain_pattern_free(&p);

	/* 253 characters exactly */
	memset(name, 0, sizeof name);
	for (int i = 0; i < 3; i++) {
		memset(name + i * 64, 'b', 63);
		name[i * 64 + 63] = '.';
	}
	memset(name + 192, 'c', 61);
	assert_int_equal(strlen(name), 253);
	p = OK(name);
	assert_true(M(p, name, 1));
	srt_domain_pattern_free(&p);

	p = OK("_srv._tcp.example.com");
	assert_true(M(p, "_SRV._tcp.example.com", 1));
	srt_domain_pattern_free(&p);

	p = OK("a-b.c0m");
	assert_int_equal(p.kind, SRT_DOMAIN_EXACT);
	srt_domain_pattern_free(&p);

	p = OK("localhost");
	assert_string_equal(p.host, "localhost");
	srt_domain_pattern_free(&p);

	p = OK("1.2.3.4.example.com");
	assert_int_equal(p.kind, SRT_DOMAIN_EXACT);
	assert_false(M(p, "1.2.3.4", 1));
	srt_domain_pattern_free(&p);

	/* free is idempotent and safe on a zeroed pattern */
	srt_domain_pattern z = {0};
	srt_domain_pattern_free(&z);
	srt_domain_pattern_free(&z);
	srt_domain_pattern_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_names_never_match_ips),
		cmocka_unit_test(test_hostile_hosts),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_valid_edge_cases),
	};
	return cmocka_run_group_tests_name("domain", tests, NULL, NULL);
}
