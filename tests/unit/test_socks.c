/* test_socks.c - SOCKS5 greeting, username/password, request parsing and
 * replies (SPEC §5, RFC 1928, RFC 1929). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "socks.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Every strict prefix of a complete message needs more bytes. */
#define ALL_PREFIXES_NEED_MORE(call_with_k, total)                       \
	do {                                                             \
		for (size_t k = 0; k < (total); k++)                     \
			assert_int_equal((call_with_k), 0);              \
	} while (0)

static int greet(const uint8_t *b, size_t len, size_t *consumed, int *method)
{
	*consumed = 999;
	*method = -1;
	return srt_socks_parse_greeting(b, len, consumed, method);
}

static void test_greeting(void **state)
{
	(void)state;
	size_t c;
	int m;

	static const uint8_t noauth[] = {5, 1, 0};
	assert_int_equal(greet(noauth, LEN(noauth), &c, &m), 1);
	assert_int_equal(m, SRT_SOCKS_NO_AUTH);
	assert_int_equal(c, 3);

	static const uint8_t both[] = {5, 2, 0, 2};
	assert_int_equal(greet(both, LEN(both), &c, &m), 1);
	assert_int_equal(m, SRT_SOCKS_USERPASS);
	assert_int_equal(c, 4);

	static const uint8_t up_first[] = {5, 3, 2, 1, 0};
	assert_int_equal(greet(up_first, LEN(up_first), &c, &m), 1);
	assert_int_equal(m, SRT_SOCKS_USERPASS);
	assert_int_equal(c, 5);

	static const uint8_t up_only[] = {5, 1, 2};
	assert_int_equal(greet(up_only, LEN(up_only), &c, &m), 1);
	assert_int_equal(m, SRT_SOCKS_USERPASS);

	static const uint8_t gssapi[] = {5, 2, 1, 0x80};
	assert_int_equal(greet(gssapi, LEN(gssapi), &c, &m), 1);
	assert_int_equal(m, SRT_SOCKS_NO_ACCEPTABLE);
	assert_int_equal(c, 4);

	/* following bytes (a pipelined request) are not consumed */
	static const uint8_t more[] = {5, 1, 0, 5, 1, 0, 1};
	assert_int_equal(greet(more, LEN(more), &c, &m), 1);
	assert_int_equal(c, 3);

	/* 255 methods, the last one NO_AUTH */
	uint8_t many[2 + 255];
	many[0] = 5;
	many[1] = 255;
	memset(many + 2, 0x42, 255);
	many[2 + 254] = 0;
	assert_int_equal(greet(many, LEN(many), &c, &m), 1);
	assert_int_equal(m, SRT_SOCKS_NO_AUTH);
	assert_int_equal(c, 257);

	/* short buffers */
	ALL_PREFIXES_NEED_MORE(greet(both, k, &c, &m), LEN(both));
	ALL_PREFIXES_NEED_MORE(greet(many, k, &c, &m), LEN(many));
	assert_int_equal(greet(NULL, 0, &c, &m), 0);

	/* bad version / no methods */
	static const uint8_t v4[] = {4, 1, 0};
	assert_int_equal(greet(v4, LEN(v4), &c, &m), -1);
	assert_int_equal(greet(v4, 1, &c, &m), -1); /* known at once */
	static const uint8_t http[] = {'G', 'E', 'T', ' '};
	assert_int_equal(greet(http, LEN(http), &c, &m), -1);
	static const uint8_t none[] = {5, 0};
	assert_int_equal(greet(none, LEN(none), &c, &m), -1);
	assert_int_equal(srt_socks_parse_greeting(NULL, 3, &c, &m), -1);
}

static void test_userpass(void **state)
{
	(void)state;
	size_t c = 999;

	static const uint8_t up[] = {1, 4, 'u', 's', 'e', 'r', 4, 'p', 'a', 's', 's'};
	assert_int_equal(srt_socks_parse_userpass(up, LEN(up), &c), 1);
	assert_int_equal(c, 11);
	ALL_PREFIXES_NEED_MORE(srt_socks_parse_userpass(up, k, &c), LEN(up));

	/* empty username and password (curl may send an empty user) */
	static const uint8_t empty[] = {1, 0, 0, 5, 1};
	c = 999;
	assert_int_equal(srt_socks_parse_userpass(empty, LEN(empty), &c), 1);
	assert_int_equal(c, 3);

	/* maximal lengths */
	uint8_t big[3 + 255 + 255];
	memset(big, 'x', sizeof big);
	big[0] = 1;
	big[1] = 255;
	big[2 + 255] = 255;
	assert_int_equal(srt_socks_parse_userpass(big, sizeof big, &c), 1);
	assert_int_equal(c, sizeof big);
	assert_int_equal(srt_socks_parse_userpass(big, sizeof big - 1, &c), 0);

	static const uint8_t v5[] = {5, 1, 'u', 1, 'p'};
	assert_int_equal(srt_socks_parse_userpass(v5, LEN(v5), &c), -1);
	assert_int_equal(srt_socks_parse_userpass(v5, 1, &c), -1);
	static const uint8_t v0[] = {0, 1, 'u', 1, 'p'};
	assert_int_equal(srt_socks_parse_userpass(v0, LEN(v0), &c), -1);
	assert_int_equal(srt_socks_parse_userpass(NULL, 0, &c), 0);
}

static int sreq(const uint8_t *b, size_t len, size_t *c, srt_socks_request *r,
		int *reply)
{
	*c = 999;
	*reply = -1;
	memset(r, 0x5a, sizeof *r);
	return srt_socks_parse_request(b, len, c, r, reply);
}

static void test_request_ipv4(void **state)
{
	(void)state;
	size_t c;
	int rep;
	srt_socks_request r;
	static const uint8_t m[] = {5, 1, 0, 1, 127, 0, 0, 1, 0, 80, 0xee};
	assert_int_equal(sreq(m, LEN(m), &c, &r, &rep), 1);
	assert_int_equal(c, 10);
	assert_int_equal(rep, SRT_SOCKS_OK);
	assert_int_equal(r.cmd, SRT_SOCKS_CMD_CONNECT);
	assert_int_equal(r.atyp, 1);
	assert_string_equal(r.host, "127.0.0.1");
	assert_int_equal(r.port, 80);
	ALL_PREFIXES_NEED_MORE(sreq(m, k, &c, &r, &rep), 10);

	static const uint8_t m2[] = {5, 1, 0, 1, 192, 0, 2, 255, 0xff, 0xff};
	assert_int_equal(sreq(m2, LEN(m2), &c, &r, &rep), 1);
	assert_string_equal(r.host, "192.0.2.255");
	assert_int_equal(r.port, 65535);
}

static void test_request_domain(void **state)
{
	(void)state;
	size_t c;
	int rep;
	srt_socks_request r;
	static const uint8_t m[] = {5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p',
				    'l', 'e', '.', 'c', 'o', 'm', 1, 187};
	assert_int_equal(sreq(m, LEN(m), &c, &r, &rep), 1);
	assert_int_equal(c, 18);
	assert_int_equal(r.atyp, 3);
	assert_string_equal(r.host, "example.com");
	assert_int_equal(r.port, 443);
	ALL_PREFIXES_NEED_MORE(sreq(m, k, &c, &r, &rep), LEN(m));

	/* the domain is returned as sent (case kept) */
	static const uint8_t upper[] = {5, 1, 0, 3, 3, 'A', '.', 'b', 0, 22};
	assert_int_equal(sreq(upper, LEN(upper), &c, &r, &rep), 1);
	assert_string_equal(r.host, "A.b");
	assert_int_equal(r.port, 22);

	/* 255 bytes */
	uint8_t big[5 + 255 + 2];
	memset(big, 'a', sizeof big);
	big[0] = 5;
	big[1] = 1;
	big[2] = 0;
	big[3] = 3;
	big[4] = 255;
	big[5 + 255] = 0x1f;
	big[5 + 256] = 0x90;
	assert_int_equal(sreq(big, sizeof big, &c, &r, &rep), 1);
	assert_int_equal(c, sizeof big);
	assert_int_equal(strlen(r.host), 255);
	assert_int_equal(r.port, 8080);

	/* NUL in the domain: refused as soon as it is seen */
	static const uint8_t nul[] = {5, 1, 0, 3, 5, 'a', 0, 'b', 'c', 'd', 0, 80};
	assert_int_equal(sreq(nul, LEN(nul), &c, &r, &rep), -1);
	assert_int_equal(rep, SRT_SOCKS_GENERAL_FAILURE);
	assert_int_equal(sreq(nul, 7, &c, &r, &rep), -1);
	assert_int_equal(rep, SRT_SOCKS_GENERAL_FAILURE);
	assert_int_equal(sreq(nul, 6, &c, &r, &rep), 0);

	/* empty domain */
	static const uint8_t empty[] = {5, 1, 0, 3, 0, 0, 80};
	assert_int_equal(sreq(empty, LEN(empty), &c, &r, &rep), -1);
	assert_int_equal(rep, SRT_SOCKS_GENERAL_FAILURE);
}

static void test_request_ipv6(void **state)
{
	(void)state;
	size_t c;
	int rep;
	srt_socks_request r;
	uint8_t m[22] = {5, 1, 0, 4};
	m[4 + 15] = 1; /* ::1 */
	m[20] = 0x1f;
	m[21] = 0x90;
	assert_int_equal(sreq(m, LEN(m), &c, &r, &rep), 1);
	assert_int_equal(c, 22);
	assert_int_equal(r.atyp, 4);
	assert_string_equal(r.host, "::1");
	assert_int_equal(r.port, 8080);
	ALL_PREFIXES_NEED_MORE(sreq(m, k, &c, &r, &rep), LEN(m));

	static const uint8_t m2[] = {5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
	assert_int_equal(sreq(m2, LEN(m2), &c, &r, &rep), 1);
	assert_string_equal(r.host, "2001:db8::1");
	assert_int_equal(r.port, 1);

	static const uint8_t mapped[] = {5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
					 0, 0, 0xff, 0xff, 127, 0, 0, 1, 0, 80};
	assert_int_equal(sreq(mapped, LEN(mapped), &c, &r, &rep), 1);
	assert_string_equal(r.host, "::ffff:127.0.0.1");
}

static void test_request_cmd_rsv_port(void **state)
{
	(void)state;
	size_t c;
	int rep;
	srt_socks_request r;
	/* BIND, UDP ASSOCIATE and unknown commands are returned */
	static const int cmds[] = {SRT_SOCKS_CMD_BIND, SRT_SOCKS_CMD_UDP, 0, 9,
				   255};
	for (size_t i = 0; i < LEN(cmds); i++) {
		uint8_t m[] = {5, (uint8_t)cmds[i], 0, 1, 10, 0, 0, 1, 0, 53};
		assert_int_equal(sreq(m, LEN(m), &c, &r, &rep), 1);
		assert_int_equal(r.cmd, cmds[i]);
		assert_string_equal(r.host, "10.0.0.1");
		assert_int_equal(r.port, 53);
	}
	/* RSV is ignored */
	static const uint8_t rsv[] = {5, 1, 0x7f, 1, 1, 2, 3, 4, 0, 80};
	assert_int_equal(sreq(rsv, LEN(rsv), &c, &r, &rep), 1);
	assert_string_equal(r.host, "1.2.3.4");
	/* port 0 is returned as 0 */
	static const uint8_t p0[] = {5, 1, 0, 1, 1, 2, 3, 4, 0, 0};
	assert_int_equal(sreq(p0, LEN(p0), &c, &r, &rep), 1);
	assert_int_equal(r.port, 0);
}

static void test_request_errors(void **state)
{
	(void)state;
	size_t c;
	int rep;
	srt_socks_request r;
	static const uint8_t v4[] = {4, 1, 0, 1, 1, 2, 3, 4, 0, 80};
	assert_int_equal(sreq(v4, LEN(v4), &c, &r, &rep), -1);
	assert_int_equal(rep, SRT_SOCKS_GENERAL_FAILURE);
	assert_int_equal(sreq(v4, 1, &c, &r, &rep), -1);

	static const uint8_t atyps[] = {0, 2, 5, 0xff};
	for (size_t i = 0; i < LEN(atyps); i++) {
		uint8_t m[] = {5, 1, 0, atyps[i], 1, 2, 3, 4, 0, 80};
		assert_int_equal(sreq(m, LEN(m), &c, &r, &rep), -1);
		assert_int_equal(rep, SRT_SOCKS_ATYP_UNSUPPORTED);
		/* known as soon as ATYP arrives */
		assert_int_equal(sreq(m, 4, &c, &r, &rep), -1);
		assert_int_equal(rep, SRT_SOCKS_ATYP_UNSUPPORTED);
	}
	assert_int_equal(sreq(NULL, 0, &c, &r, &rep), 0);
	assert_int_equal(srt_socks_parse_request(NULL, 4, &c, &r, &rep), -1);
	static const uint8_t ok[] = {5, 1, 0, 1, 1, 2, 3, 4, 0, 80};
	assert_int_equal(srt_socks_parse_request(ok, LEN(ok), &c, NULL, &rep),
			 -1);
	/* NULL reply / consumed pointers are tolerated */
	assert_int_equal(srt_socks_parse_request(ok, LEN(ok), NULL, &r, NULL),
			 1);
}

static void test_reply(void **state)
{
	(void)state;
	uint8_t out[10];
	memset(out, 0xaa, sizeof out);
	assert_int_equal(srt_socks_reply(out, SRT_SOCKS_OK), 10);
	static const uint8_t ok[10] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	assert_memory_equal(out, ok, 10);

	assert_int_equal(srt_socks_reply(out, SRT_SOCKS_NOT_ALLOWED), 10);
	static const uint8_t denied[10] = {5, 2, 0, 1, 0, 0, 0, 0, 0, 0};
	assert_memory_equal(out, denied, 10);

	assert_int_equal(srt_socks_reply(out, SRT_SOCKS_CMD_UNSUPPORTED), 10);
	static const uint8_t cmd[10] = {5, 7, 0, 1, 0, 0, 0, 0, 0, 0};
	assert_memory_equal(out, cmd, 10);

	assert_int_equal(srt_socks_reply(out, SRT_SOCKS_ATYP_UNSUPPORTED), 10);
	assert_int_equal(out[1], 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_userpass),
		cmocka_unit_test(test_request_ipv4),
		cmocka_unit_test(test_request_domain),
		cmocka_unit_test(test_request_ipv6),
		cmocka_unit_test(test_request_cmd_rsv_port),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests_name("socks", tests, NULL, NULL);
}
