/* test_upstream.c - network.parentProxy (upstream.h): URLs, the fallback to
 * srt's environment, noProxy matching, the CONNECT request and its reply,
 * against the reference 0.0.83's rules (dist/sandbox/parent-proxy.js). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "upstream.h"

static void test_urls(void **state)
{
	(void)state;
	static const struct {
		const char *url;
		int rc;
		const char *host;
		int port;
		const char *auth;
		const char *shown;
	} cases[] = {
		{"http://proxy.corp:3128", 0, "proxy.corp", 3128, NULL, "http://proxy.corp:3128"},
		{"http://Proxy.Corp:3128/", 0, "proxy.corp", 3128, NULL, "http://proxy.corp:3128"},
		{"HTTP://p", 0, "p", 80, NULL, "http://p:80"},
		{"p:8080", 0, "p", 8080, NULL, "http://p:8080"},          /* curl's schemeless form */
		{"127.0.0.1:3128", 0, "127.0.0.1", 3128, NULL, "http://127.0.0.1:3128"},
		{"http://[::1]:3128", 0, "::1", 3128, NULL, "http://[::1]:3128"},
		{"http://[::1]", 0, "::1", 80, NULL, "http://[::1]:80"},
		{"http://p:/x?y#z", 0, "p", 80, NULL, "http://p:80"},
		/* base64("user:pass"), ("a@b:c d") after percent-decoding, ("u:") */
		{"http://user:pass@p:1", 0, "p", 1, "Basic dXNlcjpwYXNz", "http://***@p:1"},
		{"http://a%40b:c%20d@p:1", 0, "p", 1, "Basic YUBiOmMgZA==", "http://***@p:1"},
		{"http://u@p:1", 0, "p", 1, "Basic dTo=", "http://***@p:1"},
		{"http://a@b@p:1", 0, "p", 1, "Basic YUBiOg==", "http://***@p:1"}, /* the last @ */
		{"http://%zz:x@p:1", 0, "p", 1, "Basic JXp6Ong=", "http://***@p:1"}, /* raw on a bad escape */
		{"https://p:3128", SRT_PARENT_NO_TLS, NULL, 0, NULL, NULL},
		{"socks5://p:1080", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"ftp://p", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://:3128", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://p:0", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://p:65536", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://p:12a", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://p q:1", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://p\r\nX: y:1", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://p%0d:1", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://[::1:1", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://[::1]x", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://[p]:1", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"http://[fe80::1%25eth0]:1", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
		{"", SRT_PARENT_BAD, NULL, 0, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		srt_parent p;
		char why[200] = "";
		int rc = srt_parent_parse(cases[i].url, &p, why, sizeof why);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, expected %d (%s)", cases[i].url, rc, cases[i].rc, why);
		if (rc != 0) {
			assert_true(why[0] != '\0');
			continue;
		}
		assert_string_equal(p.host, cases[i].host);
		assert_int_equal(p.port, cases[i].port);
		if (cases[i].auth)
			assert_string_equal(p.auth, cases[i].auth);
		else
			assert_null(p.auth);
		assert_string_equal(p.shown, cases[i].shown);
		srt_parent_clear(&p);
	}
}

static srt_upstream *up(const char *http, const char *https, const char *np, char *const *env)
{
	srt_upstream *u = NULL;
	srt_error e = {0};
	if (srt_upstream_new(http, https, np, env, &u, NULL, &e) < 0)
		fail_msg("srt_upstream_new: %s", e.message);
	return u;
}

#define ROUTE(u, host, tunnel) srt_upstream_route((u), (host), (tunnel))

/* Settings win key by key; the environment stands in for what is unset;
 * https falls back to http, plain HTTP never to https. */
static void test_resolution(void **state)
{
	(void)state;
	char *none[] = {NULL};
	assert_null(up(NULL, NULL, NULL, none));
	char *empty[] = {"HTTP_PROXY=", "http_proxy=http://shadowed:1", NULL};
	assert_null(up(NULL, NULL, NULL, empty)); /* an empty variable counts as set */

	srt_upstream *u = up("http://h:1", NULL, NULL, none);
	assert_string_equal(ROUTE(u, "example.com", false)->host, "h");
	assert_string_equal(ROUTE(u, "example.com", true)->host, "h");
	srt_upstream_free(u);

	u = up(NULL, "http://s:2", NULL, none);
	assert_null(ROUTE(u, "example.com", false)); /* curl: plain HTTP goes directly */
	assert_string_equal(ROUTE(u, "example.com", true)->host, "s");
	srt_upstream_free(u);

	char *env[] = {"PATH=/bin", "http_proxy=http://lower:1", "HTTPS_PROXY=http://envs:2",
		       "NO_PROXY=skip.me", NULL};
	u = up(NULL, NULL, NULL, env);
	assert_string_equal(ROUTE(u, "example.com", false)->host, "lower");
	assert_string_equal(ROUTE(u, "example.com", true)->host, "envs");
	assert_null(ROUTE(u, "skip.me", true));
	assert_string_equal(srt_upstream_no_proxy(u), "skip.me");
	srt_upstream_free(u);

	/* a key that is set hides its variable; the others still fall back */
	u = up("http://cfg:1", NULL, "", env);
	assert_string_equal(ROUTE(u, "example.com", false)->host, "cfg");
	assert_string_equal(ROUTE(u, "example.com", true)->host, "envs");
	assert_non_null(ROUTE(u, "skip.me", true));
	srt_upstream_free(u);

	char *upper[] = {"HTTP_PROXY=http://upper:1", "http_proxy=http://lower:1", NULL};
	u = up(NULL, NULL, NULL, upper);
	assert_string_equal(ROUTE(u, "example.com", true)->host, "upper");
	srt_upstream_free(u);
}

/* An unusable variable is ignored with a warning; https:// anywhere and a
 * bad URL in the settings are errors. */
static void test_resolution_errors(void **state)
{
	(void)state;
	srt_upstream *u = (srt_upstream *)1;
	srt_error e = {0};
	srt_strv warn = {0};
	char *bad[] = {"HTTP_PROXY=socks5://x:1", NULL};
	assert_int_equal(srt_upstream_new(NULL, NULL, NULL, bad, &u, &warn, &e), 0);
	assert_null(u);
	assert_int_equal(warn.n, 1);
	assert_non_null(strstr(warn.v[0], "HTTP_PROXY in srt's environment is not a usable"));
	assert_null(strstr(warn.v[0], "socks5://x")); /* values may hold credentials */
	srt_strv_clear(&warn);

	char *half[] = {"HTTP_PROXY=socks5://x:1", "HTTPS_PROXY=http://ok:1", NULL};
	assert_int_equal(srt_upstream_new(NULL, NULL, NULL, half, &u, &warn, &e), 0);
	assert_null(ROUTE(u, "example.com", false));
	assert_string_equal(ROUTE(u, "example.com", true)->host, "ok");
	srt_upstream_free(u);
	srt_strv_clear(&warn);

	char *tls[] = {"HTTPS_PROXY=https://u:secret@x:1", NULL};
	assert_int_equal(srt_upstream_new(NULL, NULL, NULL, tls, &u, &warn, &e), -1);
	assert_int_equal(e.code, SRT_E_CONFIG);
	assert_non_null(strstr(e.message, "HTTPS_PROXY in srt's environment: a parent proxy reached over TLS"));
	assert_null(strstr(e.message, "secret"));
	memset(&e, 0, sizeof e);
	assert_int_equal(srt_upstream_new("ftp://x", NULL, NULL, NULL, &u, &warn, &e), -1);
	assert_non_null(strstr(e.message, "network.parentProxy.http: "));
	assert_int_equal(warn.n, 0);
}

static void test_no_proxy(void **state)
{
	(void)state;
	char *none[] = {NULL};
	static const struct {
		const char *no_proxy, *host;
		bool direct;
	} cases[] = {
		/* loopback and localhost always go directly, whatever the list */
		{"", "localhost", true},
		{"", "LOCALHOST.", true},
		{"", "127.0.0.1", true},
		{"", "127.9.9.9", true},
		{"", "::1", true},
		{"", "[::1]", true},
		{"", "::ffff:127.0.0.1", true},
		{"", "app.localhost", false}, /* the reference's rule: localhost only */
		{"", "example.com", false},
		{"", "10.0.0.1", false},
		{"*", "example.com", true},
		{"a.com, *", "example.com", true},
		/* suffixes, golang/x/net/http/httpproxy style */
		{"example.com", "example.com", true},
		{"example.com", "www.EXAMPLE.com.", true},
		{"example.com", "badexample.com", false},
		{".example.com", "example.com", true},
		{".example.com", "a.b.example.com", true},
		{".example.com", "badexample.com", false},
		{"*.example.com", "example.com", true},
		{"*.example.com", "x.example.com", true},
		{"Example.COM", "example.com", true},
		{" a.com ,, b.com ", "b.com", true},
		{"example.com:8080", "example.com", true}, /* the port is ignored */
		{"[2001:db8::1]:443", "2001:db8::1", true},
		{"[2001:db8::1]", "2001:db8::2", false},
		/* CIDR ranges and literals */
		{"10.0.0.0/8", "10.1.2.3", true},
		{"10.0.0.0/8", "11.0.0.1", false},
		{"10.0.0.0/8", "::ffff:10.1.2.3", true},
		{"::ffff:10.0.0.0/104", "10.9.9.9", true},
		{"::ffff:10.0.0.0/95", "10.9.9.9", false}, /* refused: wider than IPv4 */
		{"192.168.1.7", "192.168.1.7", true},
		{"192.168.1.7", "192.168.1.8", false},
		{"fd00::/8", "fd12::1", true},
		{"fd00::/8", "fe80::1", false},
		{"10.0.0.0/33", "10.0.0.1", false}, /* malformed: ignored */
		{"10.0.0.0/8x", "10.0.0.1", false},
		{"example.com/8", "example.com", false}, /* a "/" never makes a suffix */
		{"10.0.0.0/8", "10.example.com", false},
		{"0.0.0.0/0", "203.0.113.9", true},
		{"0.0.0.0/0", "example.com", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		srt_upstream *u = up("http://p:1", NULL, cases[i].no_proxy, none);
		bool direct = srt_upstream_bypass(u, cases[i].host);
		if (direct != cases[i].direct)
			fail_msg("noProxy \"%s\", host %s: %s, expected %s", cases[i].no_proxy,
				 cases[i].host, direct ? "direct" : "via parent",
				 cases[i].direct ? "direct" : "via parent");
		assert_true(ROUTE(u, cases[i].host, true) == (direct ? NULL : srt_upstream_parent(u, true)));
		srt_upstream_free(u);
	}
	assert_null(ROUTE(NULL, "example.com", true));
}

static void test_connect_head(void **state)
{
	(void)state;
	srt_parent p;
	assert_int_equal(srt_parent_parse("http://user:pass@p:1", &p, NULL, 0), 0);
	char out[600];
	int n = srt_upstream_connect_head(&p, "example.com", 443, out, sizeof out);
	assert_string_equal(out, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
				 "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n");
	assert_int_equal(n, (int)strlen(out));
	srt_parent_clear(&p);
	assert_int_equal(srt_parent_parse("http://p:1", &p, NULL, 0), 0);
	n = srt_upstream_connect_head(&p, "2001:db8::1", 22, out, sizeof out);
	assert_string_equal(out, "CONNECT [2001:db8::1]:22 HTTP/1.1\r\nHost: [2001:db8::1]:22\r\n\r\n");
	/* nothing but a plain name or literal reaches the request line */
	assert_int_equal(srt_upstream_connect_head(&p, "a.com\r\nX-Evil: 1", 443, out, sizeof out), -1);
	assert_int_equal(srt_upstream_connect_head(&p, "a.com 1", 443, out, sizeof out), -1);
	assert_int_equal(srt_upstream_connect_head(&p, "", 443, out, sizeof out), -1);
	assert_int_equal(srt_upstream_connect_head(&p, "a.com", 0, out, sizeof out), -1);
	assert_int_equal(srt_upstream_connect_head(&p, "fe80::1%eth0", 1, out, sizeof out), -1);
	assert_int_equal(srt_upstream_connect_head(&p, "example.com", 443, out, 20), -1);
	srt_parent_clear(&p);
	/* the longest URL's credentials and the longest name fit the head
	 * srt sends (red team: a 600-byte buffer refused every tunnel once
	 * a password passed ~440 bytes) */
	char url[2049], host[SRT_PARENT_HOST_MAX + 1], big[SRT_PARENT_MAX_HEAD];
	int k = snprintf(url, sizeof url, "http://u:");
	memset(url + k, 'x', sizeof url - 1 - (size_t)k - 4);
	memcpy(url + sizeof url - 5, "@p:1", 5);
	assert_int_equal(strlen(url), 2048);
	assert_int_equal(srt_parent_parse(url, &p, NULL, 0), 0);
	memset(host, 'a', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	n = srt_upstream_connect_head(&p, host, 65535, big, sizeof big);
	assert_true(n > 2048 * 4 / 3);
	assert_non_null(strstr(big, "\r\nProxy-Authorization: Basic dTp4eH"));
	srt_parent_clear(&p);
}

static void test_reply(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc, status;
		size_t head_len;
	} cases[] = {
		{"HTTP/1.1 200 Connection established\r\n\r\n", SRT_PARENT_OK, 200, 39},
		{"HTTP/1.0 200\r\n\r\nSSH-2.0", SRT_PARENT_OK, 200, 16},
		{"HTTP/1.1 204 x\r\nVia: p\r\n\r\n", SRT_PARENT_OK, 204, 26},
		{"HTTP/1.1 200 OK\r\nVia: p\r\n", SRT_PARENT_MORE, 200, 0},
		{"HTTP/1.1 200 OK", SRT_PARENT_MORE, 0, 0},
		{"", SRT_PARENT_MORE, 0, 0},
		{"HTTP/1.1 407 Proxy Authentication Required\r\n", SRT_PARENT_REFUSED, 407, 0},
		{"HTTP/1.1 403 Forbidden\r\n\r\n", SRT_PARENT_REFUSED, 403, 0},
		{"HTTP/1.1 199 x\r\n\r\n", SRT_PARENT_REFUSED, 199, 0},
		{"HTTP/1.1 300 x\r\n\r\n", SRT_PARENT_REFUSED, 300, 0},
		{"HTTP/1.1 2000 x\r\n\r\n", SRT_PARENT_REFUSED, 0, 0},
		{"HTTP/1.1 20 x\r\n\r\n", SRT_PARENT_REFUSED, 0, 0},
		{"HTTP/2 200\r\n\r\n", SRT_PARENT_REFUSED, 0, 0},
		{"HTTP/1.2 200 x\r\n\r\n", SRT_PARENT_REFUSED, 0, 0},
		{"http/1.1 200 x\r\n\r\n", SRT_PARENT_REFUSED, 0, 0},
		{" HTTP/1.1 200 x\r\n\r\n", SRT_PARENT_REFUSED, 0, 0},
		{"SSH-2.0-OpenSSH\r\n", SRT_PARENT_REFUSED, 0, 0},
		{"HTTP/1.1 200x\r\n\r\n", SRT_PARENT_REFUSED, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		srt_parent_reply r;
		int rc = srt_upstream_reply(cases[i].in, strlen(cases[i].in), &r);
		if (rc != cases[i].rc || r.status != cases[i].status || r.head_len != cases[i].head_len)
			fail_msg("case %zu: rc %d status %d head %zu", i, rc, r.status, r.head_len);
	}
	/* a head that does not end within the bound is refused, not read on */
	static char big[SRT_PARENT_MAX_REPLY + 10];
	memset(big, 'a', sizeof big);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	srt_parent_reply r;
	assert_int_equal(srt_upstream_reply(big, SRT_PARENT_MAX_REPLY - 1, &r), SRT_PARENT_MORE);
	assert_int_equal(srt_upstream_reply(big, SRT_PARENT_MAX_REPLY, &r), SRT_PARENT_TOO_BIG);
	assert_int_equal(srt_upstream_reply(big, sizeof big, &r), SRT_PARENT_TOO_BIG);
	memcpy(big + SRT_PARENT_MAX_REPLY - 4, "\r\n\r\n", 4);
	assert_int_equal(srt_upstream_reply(big, sizeof big, &r), SRT_PARENT_OK);
	assert_int_equal(r.head_len, SRT_PARENT_MAX_REPLY);
	memcpy(big + SRT_PARENT_MAX_REPLY - 4, "aa\r\n\r\n", 6);
	assert_int_equal(srt_upstream_reply(big, sizeof big, &r), SRT_PARENT_TOO_BIG);
	/* a status line longer than the bound */
	memset(big, 'H', sizeof big);
	assert_int_equal(srt_upstream_reply(big, sizeof big, &r), SRT_PARENT_TOO_BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_resolution),
		cmocka_unit_test(test_resolution_errors),
		cmocka_unit_test(test_no_proxy),
		cmocka_unit_test(test_connect_head),
		cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
