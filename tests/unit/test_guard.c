/* The resolved-address guard: regressions found by fuzz/fuzz_guard.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "config.h"
#include "guard.h"

static srt_config *load(const char *json)
{
	srt_error err = {0};
	srt_config *c = srt_config_parse(json, strlen(json), "t.json", &err);
	if (!c)
		fail_msg("%s", err.message);
	return c;
}

static const char *guard_v6(const srt_guard *g, const char *a)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6};
	assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return srt_guard_check(g, (struct sockaddr *)&s);
}

/* An IPv6 address with an embedded IPv4 one (NAT64, IPv4-compatible) was
 * compared with the IPv6 CIDRs only in its IPv4-mapped form, so a denied
 * range covering the form the DNS answer actually used did not refuse it. */
static void test_v6_cidr_covers_embedding_form(void **state)
{
	(void)state;
	srt_config *c = load("{\"network\":{\"deniedResolvedAddresses\":"
			     "[\"64:ff9b::/96\",\"::/96\"]}}");
	srt_guard *g = srt_guard_new(c, NULL);
	assert_non_null(g);
	assert_non_null(guard_v6(g, "64:ff9b::808:808")); /* NAT64 of 8.8.8.8 */
	assert_non_null(guard_v6(g, "::808:808"));        /* IPv4-compatible */
	/* the mapped form is not in either range */
	assert_null(guard_v6(g, "::ffff:8.8.8.8"));
	srt_guard_free(g);
	srt_config_free(c);
}

/* An IPv4 CIDR still refuses every IPv6 form of its addresses. */
static void test_v4_cidr_covers_every_form(void **state)
{
	(void)state;
	srt_config *c = load("{\"network\":{\"deniedResolvedAddresses\":[\"8.8.8.0/24\"]}}");
	srt_guard *g = srt_guard_new(c, NULL);
	assert_non_null(g);
	assert_non_null(guard_v6(g, "64:ff9b::808:808"));
	assert_non_null(guard_v6(g, "::808:808"));
	assert_non_null(guard_v6(g, "::ffff:8.8.8.8"));
	assert_null(guard_v6(g, "64:ff9b::909:909"));
	srt_guard_free(g);
	srt_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v6_cidr_covers_embedding_form),
		cmocka_unit_test(test_v4_cidr_covers_every_form),
	};
	return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
