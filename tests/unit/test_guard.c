/* The resolved-address guard: regressions found by fuzz/fuzz_guard.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
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

static const char *guard_any(const srt_guard *g, const char *a)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, a, &s4.sin_addr) == 1)
		return srt_guard_check(g, (struct sockaddr *)&s4);
	return guard_v6(g, a);
}

/* One row: an address, the deniedResolvedAddresses it is judged under
 * (a JSON array), and the class of the refusal (a substring of the reason)
 * or NULL when it may be dialed. */
typedef struct guard_case {
	const char *addr;
	const char *denied;
	const char *reason;
} guard_case;

#define META "cloud metadata"
#define LOOP "loopback"
#define LIST "deniedResolvedAddresses"

static const guard_case cases[] = {
	/* plain forms */
	{"8.8.8.8", "[]", NULL},
	{"169.254.169.254", "[]", META},
	{"192.0.0.192", "[]", META},
	{"127.0.0.2", "[]", LOOP},
	{"10.0.0.1", "[\"10.0.0.0/8\"]", LIST},
	{"2001:db8::1", "[]", NULL},
	{"2001:db8::1", "[\"2001:db8::/32\"]", LIST},
	{"fd00:ec2::254", "[]", META},
	{"fd00:ec2::1", "[]", META}, /* the whole fd00:ec2::/32 */
	{"fd20:ce::254", "[]", META},
	{"fd00:c1::a9fe:a9fe", "[]", META},
	{"fd00:42::42", "[]", META},
	/* IPv4-mapped: the IPv4 entry and the IPv6 entry both match */
	{"::ffff:10.0.0.1", "[\"10.0.0.0/8\"]", LIST},
	{"::ffff:10.0.0.1", "[\"::ffff:10.0.0.0/104\"]", LIST},
	{"::ffff:169.254.169.254", "[]", META},
	/* IPv4-compatible */
	{"::a00:1", "[\"10.0.0.0/8\"]", LIST},
	{"::a00:1", "[\"::/96\"]", LIST},
	{"::7f00:1", "[]", LOOP},
	/* IPv4-translated ::ffff:0:0:0/96 (SIIT) */
	{"::ffff:0:a9fe:a9fe", "[]", META},
	{"::ffff:0:7f00:1", "[]", LOOP},
	{"::ffff:0:a00:1", "[\"10.0.0.0/8\"]", LIST},
	{"::ffff:0:a00:1", "[\"::ffff:0:0:0/96\"]", LIST},
	{"::ffff:0:808:808", "[]", NULL},
	/* NAT64 well-known prefix, as IPv4 and as the IPv6 address it is */
	{"64:ff9b::a00:1", "[\"10.0.0.0/8\"]", LIST},
	{"64:ff9b::a00:1", "[\"64:ff9b::/96\"]", LIST},
	{"64:ff9b::a9fe:a9fe", "[]", META},
	{"64:ff9b::808:808", "[]", NULL},
	/* NAT64 local-use prefix 64:ff9b:1::/48, each RFC 6052 layout */
	{"64:ff9b:1::a9fe:a9fe", "[]", META},          /* /96 */
	{"64:ff9b:1:0:a9:fea9:fe00:0", "[]", META},    /* /64 */
	{"64:ff9b:1:a9:fe:a9fe::", "[]", META},        /* /56 */
	{"64:ff9b:1:a9fe:a9:fe00::", "[]", META},      /* /48, u-octet 0 */
	{"64:ff9b:1:a9fe:a9:fe00:1:2", "[]", META},    /* suffix ignored */
	{"64:ff9b:1::7f00:1", "[]", LOOP},
	{"64:ff9b:1:7f00:0:100::", "[]", LOOP},        /* /48: 127.0.0.1 */
	{"64:ff9b:1::a00:1", "[\"10.0.0.0/8\"]", LIST},
	{"64:ff9b:1::808:808", "[\"64:ff9b:1::/48\"]", LIST},
	/* a plain 64:ff9b:1::/96 translation stays reachable */
	{"64:ff9b:1::808:808", "[]", NULL},
	{"64:ff9b:1:1::808:808", "[]", NULL},
	/* and so do 8.8.8.8's in the other layouts */
	{"64:ff9b:1:808:8:800::", "[]", NULL},   /* /48 */
	{"64:ff9b:1:8:8:808::", "[]", NULL},     /* /56 */
	{"64:ff9b:1:0:8:808:800:0", "[]", NULL}, /* /64 */
	/* 6to4 2002::/16: the relay address in bits 16-47 */
	{"2002:a9fe:a9fe::1", "[]", META},
	{"2002:7f00:1::", "[]", LOOP},
	{"2002:a00:1::1", "[\"10.0.0.0/8\"]", LIST},
	{"2002:a00:1::1", "[\"2002::/16\"]", LIST},
	{"2002:808:808::1", "[]", NULL},
	/* a network-specific prefix is not decoded; its translations are
	 * listed (README): here 2001:db8:64::/96 */
	{"2001:db8:64::a9fe:a9fe", "[\"2001:db8:64::a9fe:a9fe/128\"]", LIST},
	{"2001:db8:64::a00:1", "[\"2001:db8:64::a00:0/104\"]", LIST},
	{"2001:db8:64::808:808", "[\"2001:db8:64::a00:0/104\"]", NULL},
};

static void test_table(void **state)
{
	(void)state;
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const guard_case *t = &cases[i];
		char json[256];
		snprintf(json, sizeof json, "{\"network\":{\"deniedResolvedAddresses\":%s}}", t->denied);
		srt_config *c = load(json);
		srt_guard *g = srt_guard_new(c, NULL);
		assert_non_null(g);
		const char *why = guard_any(g, t->addr);
		bool ok = t->reason ? why && strstr(why, t->reason) : !why;
		if (!ok) {
			print_error("%s under %s: got \"%s\", want %s\n", t->addr, t->denied,
				    why ? why : "(allowed)", t->reason ? t->reason : "(allowed)");
			bad++;
		}
		srt_guard_free(g);
		srt_config_free(c);
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v6_cidr_covers_embedding_form),
		cmocka_unit_test(test_v4_cidr_covers_every_form),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
