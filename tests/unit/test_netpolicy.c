/* The network policy (deny first, then allow, else deny) and the
 * resolved-address guard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "guard.h"
#include "netpolicy.h"

static srt_config *load(const char *json)
{
	srt_error err = {0};
	srt_config *c = srt_config_parse(json, strlen(json), "t.json", &err);
	if (!c)
		fail_msg("%s", err.message);
	return c;
}

static bool allowed(const srt_netpolicy *np, const char *host, int port)
{
	srt_net_verdict v;
	srt_netpolicy_check(np, host, port, &v);
	return v.allowed;
}

static void test_order_and_forms(void **state)
{
	(void)state;
	srt_config *c = load("{\"network\":{\"allowedDomains\":[\"github.com\",\"*.github.com\","
			     "\"api.example.com:443\",\"[::1]:8080\",\"192.0.2.7\"],"
			     "\"deniedDomains\":[\"evil.github.com\",\"*:22\"],"
			     "\"deniedDomainReasons\":{\"*:22\":\"no ssh\"}}}");
	srt_error err = {0};
	srt_netpolicy *np = srt_netpolicy_new(c, &err);
	assert_non_null(np);
	assert_true(allowed(np, "github.com", 443));
	assert_true(allowed(np, "GitHub.COM.", 443));      /* case, trailing dot */
	assert_true(allowed(np, "a.b.github.com", 80));    /* any depth */
	assert_false(allowed(np, "notgithub.com", 443));
	assert_false(allowed(np, "evil.github.com", 443)); /* denied first */
	assert_false(allowed(np, "github.com", 22));       /* *:22 */
	assert_true(allowed(np, "api.example.com", 443));
	assert_false(allowed(np, "api.example.com", 80));  /* port restricted */
	assert_true(allowed(np, "::1", 8080));
	assert_true(allowed(np, "[::1]", 8080));
	assert_false(allowed(np, "::1", 8081));
	assert_true(allowed(np, "192.0.2.7", 1234));
	assert_false(allowed(np, "192.0.2.8", 1234));
	srt_net_verdict v;
	srt_netpolicy_check(np, "x.org", 22, &v);
	assert_false(v.allowed);
	assert_string_equal(v.rule, "*:22");
	assert_string_equal(v.reason, "no ssh");
	srt_netpolicy_check(np, "192.0.2.7", 80, &v);
	assert_true(v.by_ip_literal);
	assert_true(srt_netpolicy_literal_allowed(np, "192.0.2.7", 9));
	assert_false(srt_netpolicy_literal_allowed(np, "github.com", 443));
	srt_netpolicy_free(np);
	srt_config_free(c);
}

/* The policy outlives the settings it was built from (the CLI frees them
 * before spawning): reasons must be copies. */
static void test_outlives_settings(void **state)
{
	(void)state;
	srt_config *c = load("{\"network\":{\"deniedDomains\":[\"*.bad.example\"],"
			     "\"deniedDomainReasons\":{\"*.bad.example\":\"use the mirror\"}}}");
	srt_netpolicy *np = srt_netpolicy_new(c, NULL);
	assert_non_null(np);
	srt_config_free(c);
	/* reuse the freed memory */
	for (int i = 0; i < 64; i++)
		srt_config_free(load("{\"network\":{\"deniedDomains\":[\"x.y\"],\"deniedDomainReasons\":{\"x.y\":\"zzzzzzzzzzzzzz\"}}}"));
	srt_net_verdict v;
	srt_netpolicy_check(np, "a.bad.example", 80, &v);
	assert_false(v.allowed);
	assert_string_equal(v.rule, "*.bad.example");
	assert_string_equal(v.reason, "use the mirror");
	srt_netpolicy_free(np);
}

static void test_many_domains(void **state)
{
	(void)state;
	/* 20,000 entries: the index must find each, and nothing else */
	size_t n = 20000, cap = n * 24 + 64;
	char *json = malloc(cap);
	size_t len = (size_t)snprintf(json, cap, "{\"network\":{\"allowedDomains\":[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(json + len, cap - len, "%s\"%sd%zu.com\"", i ? "," : "",
					i % 2 ? "*." : "", i);
	len += (size_t)snprintf(json + len, cap - len, "]}}");
	srt_config *c = load(json);
	free(json);
	srt_netpolicy *np = srt_netpolicy_new(c, NULL);
	assert_non_null(np);
	assert_true(allowed(np, "d0.com", 1));
	assert_false(allowed(np, "x.d0.com", 1));
	assert_true(allowed(np, "x.d1.com", 1));
	assert_false(allowed(np, "d1.com", 1));
	assert_true(allowed(np, "a.b.d19999.com", 1));
	assert_false(allowed(np, "d20000.com", 1));
	srt_netpolicy_free(np);
	srt_config_free(c);
}

static const char *guard_v4(const srt_guard *g, const char *a)
{
	struct sockaddr_in s = {.sin_family = AF_INET};
	inet_pton(AF_INET, a, &s.sin_addr);
	return srt_guard_check(g, (struct sockaddr *)&s);
}

static const char *guard_v6(const srt_guard *g, const char *a)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, a, &s.sin6_addr);
	return srt_guard_check(g, (struct sockaddr *)&s);
}

static void test_guard(void **state)
{
	(void)state;
	srt_config *c = load("{\"network\":{\"deniedResolvedAddresses\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}}");
	srt_guard *g = srt_guard_new(c, NULL);
	assert_non_null(g);
	assert_non_null(guard_v4(g, "127.0.0.1"));
	assert_non_null(guard_v4(g, "127.5.6.7"));
	assert_non_null(guard_v4(g, "0.0.0.0"));
	assert_non_null(guard_v4(g, "169.254.169.254"));
	assert_non_null(guard_v4(g, "169.254.1.1"));
	assert_non_null(guard_v4(g, "100.100.100.200"));
	assert_non_null(guard_v4(g, "168.63.129.16"));
	assert_non_null(guard_v4(g, "224.0.0.1"));
	assert_non_null(guard_v4(g, "255.255.255.255"));
	assert_non_null(guard_v4(g, "10.1.2.3"));
	assert_null(guard_v4(g, "192.0.2.1"));
	assert_null(guard_v4(g, "11.0.0.1"));
	assert_non_null(guard_v6(g, "::1"));
	assert_non_null(guard_v6(g, "::"));
	assert_non_null(guard_v6(g, "fe80::1"));
	assert_non_null(guard_v6(g, "ff02::1"));
	assert_non_null(guard_v6(g, "fd00:ec2::254"));
	assert_non_null(guard_v6(g, "::ffff:127.0.0.1"));   /* mapped */
	assert_non_null(guard_v6(g, "::127.0.0.1"));        /* compatible */
	assert_non_null(guard_v6(g, "64:ff9b::a9fe:a9fe")); /* NAT64 of metadata */
	assert_non_null(guard_v6(g, "::ffff:10.9.9.9"));    /* mapped into a CIDR */
	assert_non_null(guard_v6(g, "2001:db8::5"));
	assert_null(guard_v6(g, "2001:db9::5"));
	srt_guard_free(g);
	srt_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_forms),
		cmocka_unit_test(test_outlives_settings),
		cmocka_unit_test(test_many_domains),
		cmocka_unit_test(test_guard),
	};
	return cmocka_run_group_tests_name("netpolicy", tests, NULL, NULL);
}
