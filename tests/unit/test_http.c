/* test_http.c - HTTP/1.x head parsing, body framing, chunked scanning and
 * target parsing for the proxy (SPEC §5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */

static bool span_is(const char *p, size_t n, const char *want)
{
	return p && n == strlen(want) && memcmp(p, want, n) == 0;
}
#define assert_span(p, n, want)                                          \
	do {                                                             \
		if (!span_is((p), (n), (want)))                          \
			fail_msg("got \"%.*s\", want \"%s\"", (int)(n),  \
				 (p) ? (p) : "(null)", (want));          \
	} while (0)

static srt_http_request req_buf;
static srt_http_response resp_buf;

static int preq(const char *s, size_t len, int *st)
{
	memset(&req_buf, 0, sizeof req_buf);
	return srt_http_parse_request(s, len, &req_buf, st);
}

/* Parse a whole request (strlen) and expect an error with `status`, and
 * every prefix to give 0 or the same error. */
static void req_error_at(const char *s, size_t len, int status, int line)
{
	int st = -7;
	int r = preq(s, len, &st);
	if (r != -1 || st != status)
		fail_msg("line %d: got r=%d status=%d, want -1/%d", line, r, st,
			 status);
	for (size_t k = 0; k < len; k++) {
		st = -7;
		r = preq(s, k, &st);
		if (!(r == 0 || (r == -1 && st == status)))
			fail_msg("line %d: prefix %zu: r=%d status=%d", line, k,
				 r, st);
	}
}
#define REQ_ERR(s, status) req_error_at((s), sizeof(s) - 1, (status), __LINE__)

static void req_ok_bytewise(const char *s, size_t len)
{
	int st;
	for (size_t k = 0; k < len; k++) {
		st = -7;
		if (preq(s, k, &st) != 0)
			fail_msg("prefix %zu of \"%s\" did not need more", k, s);
		assert_int_equal(st, 0);
	}
	assert_int_equal(preq(s, len, &st), 1);
	assert_int_equal(st, 0);
}

static const srt_http_header *hdr(const char *name)
{
	return srt_http_find(req_buf.headers, req_buf.n_headers, name);
}

/* ------------------------------------------------------------------ */
/* requests                                                           */

static void test_get_absolute(void **state)
{
	(void)state;
	static const char m[] = "GET http://Example.com/a/b?c=d HTTP/1.1\r\n"
				"Host: example.com\r\n"
				"User-Agent:curl/8.5.0 \r\n"
				"Accept: \t */* \t\r\n"
				"Empty:\r\n"
				"\r\n";
	int st = -1;
	assert_int_equal(preq(m, sizeof m - 1, &st), 1);
	assert_int_equal(st, 0);
	assert_span(req_buf.method, req_buf.method_len, "GET");
	assert_span(req_buf.target, req_buf.target_len,
		    "http://Example.com/a/b?c=d");
	assert_int_equal(req_buf.version_minor, 1);
	assert_int_equal(req_buf.n_headers, 4);
	assert_int_equal(req_buf.head_len, sizeof m - 1);
	assert_span(req_buf.headers[0].name, req_buf.headers[0].name_len,
		    "Host");
	assert_span(req_buf.headers[0].value, req_buf.headers[0].value_len,
		    "example.com");
	assert_span(req_buf.headers[1].value, req_buf.headers[1].value_len,
		    "curl/8.5.0");
	assert_span(req_buf.headers[2].value, req_buf.headers[2].value_len,
		    "*/*");
	assert_int_equal(req_buf.headers[3].value_len, 0);

	char host[SRT_HTTP_MAX_HOST + 1];
	int port = 0;
	const char *path = NULL;
	size_t path_len = 0;
	assert_int_equal(srt_http_parse_absolute(req_buf.target,
						 req_buf.target_len, host,
						 &port, &path, &path_len),
			 0);
	assert_string_equal(host, "example.com");
	assert_int_equal(port, 80);
	assert_span(path, path_len, "/a/b?c=d");
	req_ok_bytewise(m, sizeof m - 1);
}

static void test_connect(void **state)
{
	(void)state;
	static const char m[] = "CONNECT example.com:443 HTTP/1.1\r\n"
				"Host: example.com:443\r\n"
				"Proxy-Connection: Keep-Alive\r\n\r\n";
	int st;
	assert_int_equal(preq(m, sizeof m - 1, &st), 1);
	assert_span(req_buf.method, req_buf.method_len, "CONNECT");
	assert_span(req_buf.target, req_buf.target_len, "example.com:443");
	assert_int_equal(req_buf.n_headers, 2);
	assert_int_equal(req_buf.head_len, sizeof m - 1);

	char host[SRT_HTTP_MAX_HOST + 1];
	int port = 0;
	assert_int_equal(srt_http_parse_authority(req_buf.target,
						  req_buf.target_len, host,
						  &port),
			 0);
	assert_string_equal(host, "example.com");
	assert_int_equal(port, 443);
	req_ok_bytewise(m, sizeof m - 1);
}

static void test_http10_bare_lf(void **state)
{
	(void)state;
	static const char m[] = "GET http://h/ HTTP/1.0\nA: 1\n\n";
	int st;
	assert_int_equal(preq(m, sizeof m - 1, &st), 1);
	assert_int_equal(req_buf.version_minor, 0);
	assert_int_equal(req_buf.n_headers, 1);
	assert_int_equal(req_buf.head_len, sizeof m - 1);
	req_ok_bytewise(m, sizeof m - 1);

	/* mixed endings, no headers at all */
	static const char m2[] = "OPTIONS * HTTP/1.1\r\n\n";
	assert_int_equal(preq(m2, sizeof m2 - 1, &st), 1);
	assert_int_equal(req_buf.n_headers, 0);
	assert_int_equal(req_buf.head_len, sizeof m2 - 1);
	assert_span(req_buf.target, req_buf.target_len, "*");
}

static void test_leading_empty_lines(void **state)
{
	(void)state;
	static const char m[] = "\r\n\nGET / HTTP/1.1\r\n\r\n";
	int st;
	assert_int_equal(preq(m, sizeof m - 1, &st), 1);
	assert_span(req_buf.method, req_buf.method_len, "GET");
	assert_int_equal(req_buf.head_len, sizeof m - 1);
	req_ok_bytewise(m, sizeof m - 1);
	REQ_ERR("\r\rGET / HTTP/1.1\r\n\r\n", 400);
}

static void test_request_line_errors(void **state)
{
	(void)state;
	REQ_ERR("GET  / HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("G(T / HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("G\"T / HTTP/1.1\r\n\r\n", 400);
	REQ_ERR(" GET / HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("\tGET / HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("GET\t/ HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1 \r\n\r\n", 400);
	REQ_ERR("GET /\r\n\r\n", 400);         /* HTTP/0.9 */
	REQ_ERR("GET\r\n\r\n", 400);
	REQ_ERR("GET /a\x01z HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("GET /a\x7fz HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("GET /a\tz HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("GET /a\rz HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\rX\r\n\r\n", 400);   /* bare CR */
	REQ_ERR("GET / HTTP/1.10\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/11\r\n\r\n", 400);
	REQ_ERR("GET / http/1.1\r\n\r\n", 400);
	REQ_ERR("GET / HTTPS/1.1\r\n\r\n", 400);
	REQ_ERR("GET / FOO\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/x.1\r\n\r\n", 400);
	/* a well-formed version other than 1.0 / 1.1 */
	REQ_ERR("GET / HTTP/2.0\r\n\r\n", 505);
	REQ_ERR("GET / HTTP/1.2\r\n\r\n", 505);
	REQ_ERR("GET / HTTP/0.9\r\n\r\n", 505);
	REQ_ERR("GET / HTTP/3.0\nHost: x\n\n", 505);
	/* NUL in method / target */
	REQ_ERR("GE\0T / HTTP/1.1\r\n\r\n", 400);
	REQ_ERR("GET /\0 HTTP/1.1\r\n\r\n", 400);
}

static void test_header_errors(void **state)
{
	(void)state;
	REQ_ERR("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHo st: x\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\n: x\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nHostx\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nH(st: x\r\n\r\n", 400);
	/* obs-fold, and whitespace between the start line and the first field */
	REQ_ERR("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400);
	/* control characters in values */
	REQ_ERR("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nX: a\r\r\n\r\n", 400);
	REQ_ERR("GET / HTTP/1.1\r\nX\0: a\r\n\r\n", 400);
	/* bare CR at the end of the head */
	REQ_ERR("GET / HTTP/1.1\r\nX: a\r\n\rX", 400);
	/* two Host fields */
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);

	/* HT inside a value and obs-text are fine */
	static const char ok[] = "GET / HTTP/1.1\r\nX: a\tb \xc3\xa9\r\n\r\n";
	int st;
	assert_int_equal(preq(ok, sizeof ok - 1, &st), 1);
	assert_span(req_buf.headers[0].value, req_buf.headers[0].value_len,
		    "a\tb \xc3\xa9");
}

static void test_limits(void **state)
{
	(void)state;
	int st;
	char *b = malloc(SRT_HTTP_MAX_HEAD + 64);
	if (!b)
		abort(); /* (gcc does not know cmocka's asserts end the test) */

	/* target of exactly 8 KiB is fine, one byte more is 414 */
	size_t n = 0;
	n += (size_t)sprintf(b, "GET /");
	memset(b + n, 'a', 8191);
	n += 8191;
	n += (size_t)sprintf(b + n, " HTTP/1.1\r\n\r\n");
	assert_int_equal(preq(b, n, &st), 1);
	assert_int_equal(req_buf.target_len, 8192);
	n = 0;
	n += (size_t)sprintf(b, "GET /");
	memset(b + n, 'a', 8192);
	n += 8192;
	n += (size_t)sprintf(b + n, " HTTP/1.1\r\n\r\n");
	assert_int_equal(preq(b, n, &st), -1);
	assert_int_equal(st, 414);
	/* known as soon as the 8193rd byte of the target arrives */
	assert_int_equal(preq(b, 4 + 8193, &st), -1);
	assert_int_equal(st, 414);
	assert_int_equal(preq(b, 4 + 8192, &st), 0);

	/* 100 headers are fine, 101 are 431 */
	n = (size_t)sprintf(b, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(b + n, "X-%d: %d\r\n", i, i);
	size_t hundred = n;
	memcpy(b + n, "\r\n", sizeof "\r\n");
	n += sizeof "\r\n" - 1;
	assert_int_equal(preq(b, n, &st), 1);
	assert_int_equal(req_buf.n_headers, 100);
	n = hundred;
	static const char extra[] = "X-100: 100\r\n\r\n";
	memcpy(b + n, extra, sizeof extra);
	n += sizeof extra - 1;
	assert_int_equal(preq(b, n, &st), -1);
	assert_int_equal(st, 431);
	assert_int_equal(preq(b, hundred + 1, &st), -1);
	assert_int_equal(st, 431);

	/* a head of exactly SRT_HTTP_MAX_HEAD bytes is fine */
	n = (size_t)sprintf(b, "GET / HTTP/1.1\r\nX: ");
	size_t fill = SRT_HTTP_MAX_HEAD - n - 4;
	memset(b + n, 'v', fill);
	n += fill;
	memcpy(b + n, "\r\n\r\n", 4);
	n += 4;
	assert_int_equal(n, SRT_HTTP_MAX_HEAD);
	assert_int_equal(preq(b, n, &st), 1);
	assert_int_equal(req_buf.head_len, SRT_HTTP_MAX_HEAD);
	/* followed by more bytes: still fine */
	memcpy(b + n, "GET ", 4);
	assert_int_equal(preq(b, n + 4, &st), 1);
	assert_int_equal(req_buf.head_len, SRT_HTTP_MAX_HEAD);
	/* one byte longer: 431, once SRT_HTTP_MAX_HEAD bytes are buffered */
	n = (size_t)sprintf(b, "GET / HTTP/1.1\r\nX: ");
	memset(b + n, 'v', fill + 1);
	n += fill + 1;
	memcpy(b + n, "\r\n\r\n", 4);
	n += 4;
	assert_int_equal(preq(b, SRT_HTTP_MAX_HEAD - 1, &st), 0);
	assert_int_equal(preq(b, SRT_HTTP_MAX_HEAD, &st), -1);
	assert_int_equal(st, 431);
	assert_int_equal(preq(b, n, &st), -1);
	assert_int_equal(st, 431);

	/* endless empty lines before a request line */
	memset(b, '\n', SRT_HTTP_MAX_HEAD);
	assert_int_equal(preq(b, SRT_HTTP_MAX_HEAD, &st), -1);
	assert_int_equal(st, 431);
	free(b);
}

static void test_incremental_and_null(void **state)
{
	(void)state;
	int st;
	assert_int_equal(preq("", 0, &st), 0);
	assert_int_equal(preq(NULL, 0, &st), 0);
	assert_int_equal(srt_http_parse_request(NULL, 5, &req_buf, &st), -1);
	assert_int_equal(st, 400);
	/* a NULL status pointer is tolerated */
	assert_int_equal(srt_http_parse_request("X", 1, &req_buf, NULL), 0);
	assert_int_equal(srt_http_parse_request("(", 1, &req_buf, NULL), -1);

	static const char m[] = "POST http://h:8080/upload HTTP/1.1\r\n"
				"Host: h:8080\r\n"
				"Content-Length: 5\r\n"
				"Expect: 100-continue\r\n\r\nhello";
	size_t head = sizeof m - 1 - 5;
	req_ok_bytewise(m, head);
	assert_int_equal(preq(m, sizeof m - 1, &st), 1);
	assert_int_equal(req_buf.head_len, head);
	assert_int_equal(req_buf.n_headers, 3);
	srt_body b;
	assert_int_equal(srt_http_request_body(&req_buf, &b), 0);
	assert_int_equal(b.kind, SRT_BODY_LENGTH);
	assert_int_equal(b.length, 5);
}

static void test_pipelined(void **state)
{
	(void)state;
	static const char m[] = "GET http://a/1 HTTP/1.1\r\nHost: a\r\n\r\n"
				"GET http://a/2 HTTP/1.1\r\nHost: a\r\n\r\n"
				"GET http://a/3 HTTP/1.1\r\n";
	int st;
	assert_int_equal(preq(m, sizeof m - 1, &st), 1);
	size_t first = req_buf.head_len;
	assert_int_equal(first, 36);
	assert_span(req_buf.target, req_buf.target_len, "http://a/1");
	assert_int_equal(preq(m + first, sizeof m - 1 - first, &st), 1);
	assert_span(req_buf.target, req_buf.target_len, "http://a/2");
	assert_int_equal(req_buf.head_len, 36);
	assert_int_equal(preq(m + 2 * first, sizeof m - 1 - 2 * first, &st), 0);
}

/* ------------------------------------------------------------------ */
/* responses                                                          */

static int presp(const char *s, size_t len)
{
	memset(&resp_buf, 0, sizeof resp_buf);
	return srt_http_parse_response(s, len, &resp_buf);
}

static void resp_err_at(const char *s, size_t len, int line)
{
	if (presp(s, len) != -1)
		fail_msg("line %d: response accepted", line);
	for (size_t k = 0; k < len; k++)
		if (presp(s, k) == 1)
			fail_msg("line %d: prefix %zu accepted", line, k);
}
#define RESP_ERR(s) resp_err_at((s), sizeof(s) - 1, __LINE__)

static void test_response(void **state)
{
	(void)state;
	static const char m[] = "HTTP/1.1 200 OK\r\n"
				"Content-Type: text/plain\r\n"
				"Content-Length: 12\r\n\r\nhello world!";
	size_t head = sizeof m - 1 - 12;
	for (size_t k = 0; k < head; k++)
		assert_int_equal(presp(m, k), 0);
	assert_int_equal(presp(m, sizeof m - 1), 1);
	assert_int_equal(resp_buf.status, 200);
	assert_span(resp_buf.reason, resp_buf.reason_len, "OK");
	assert_int_equal(resp_buf.version_minor, 1);
	assert_int_equal(resp_buf.n_headers, 2);
	assert_int_equal(resp_buf.head_len, head);

	assert_int_equal(presp("HTTP/1.0 404 Not  Found\n\n", 25), 1);
	assert_int_equal(resp_buf.status, 404);
	assert_int_equal(resp_buf.version_minor, 0);
	assert_span(resp_buf.reason, resp_buf.reason_len, "Not  Found");
	assert_int_equal(resp_buf.head_len, 25);

	/* empty reason, with and without the SP */
	assert_int_equal(presp("HTTP/1.1 204 \r\n\r\n", 17), 1);
	assert_int_equal(resp_buf.status, 204);
	assert_int_equal(resp_buf.reason_len, 0);
	assert_int_equal(presp("HTTP/1.1 100\r\n\r\n", 16), 1);
	assert_int_equal(resp_buf.status, 100);
	assert_int_equal(resp_buf.reason_len, 0);
	assert_int_equal(presp("HTTP/1.1 999 x\r\n\r\n", 18), 1);
	assert_int_equal(resp_buf.status, 999);

	RESP_ERR("HTTP/2 200 OK\r\n\r\n");
	RESP_ERR("HTTP/2.0 200 OK\r\n\r\n");
	RESP_ERR("HTTP/1.2 200 OK\r\n\r\n");
	RESP_ERR("http/1.1 200 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 20 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 099 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 2000 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 200OK\r\n\r\n");
	RESP_ERR("HTTP/1.1  200 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 2x0 OK\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 O\x01K\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 OK\rX\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 OK\r\nX : a\r\n\r\n");
	RESP_ERR("HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n");
	RESP_ERR("\r\nHTTP/1.1 200 OK\r\n\r\n");

	/* too large */
	char *b = malloc(SRT_HTTP_MAX_HEAD);
	assert_non_null(b);
	memset(b, 'a', SRT_HTTP_MAX_HEAD);
	memcpy(b, "HTTP/1.1 200 OK\r\nX: ", 20);
	assert_int_equal(presp(b, SRT_HTTP_MAX_HEAD - 1), 0);
	assert_int_equal(presp(b, SRT_HTTP_MAX_HEAD), -1);
	free(b);
	assert_int_equal(srt_http_parse_response(NULL, 3, &resp_buf), -1);
	assert_int_equal(srt_http_parse_response("H", 1, NULL), -1);
}

/* ------------------------------------------------------------------ */
/* header lookup and lists                                            */

static void test_find_and_tokens(void **state)
{
	(void)state;
	static const char m[] = "GET / HTTP/1.1\r\nHost: a\r\n"
				"X-Dup: 1\r\nx-dup: 2\r\n"
				"Connection: keep-alive, Upgrade\r\n\r\n";
	int st;
	assert_int_equal(preq(m, sizeof m - 1, &st), 1);
	const srt_http_header *h = hdr("x-DUP");
	assert_non_null(h);
	assert_span(h->value, h->value_len, "1");
	assert_ptr_equal(h, &req_buf.headers[1]);
	assert_null(hdr("X-Du"));
	assert_null(hdr("X-Dupe"));
	assert_null(hdr(""));
	assert_null(srt_http_find(NULL, 3, "Host"));
	assert_null(srt_http_find(req_buf.headers, 0, "Host"));

	h = hdr("connection");
	assert_non_null(h);
	assert_true(srt_http_has_token(h->value, h->value_len, "upgrade"));
	assert_true(srt_http_has_token(h->value, h->value_len, "KEEP-ALIVE"));
	assert_false(srt_http_has_token(h->value, h->value_len, "keep"));
	assert_false(srt_http_has_token(h->value, h->value_len, "close"));

#define TOK(v, t) srt_http_has_token((v), strlen(v), (t))
	assert_true(TOK("close", "close"));
	assert_true(TOK(" close ", "close"));
	assert_true(TOK(",, ,\tclose\t,", "close"));
	assert_true(TOK("a,close", "close"));
	assert_false(TOK("closed", "close"));
	assert_false(TOK("close;x", "close"));
	assert_false(TOK("clo se", "close"));
	assert_false(TOK("", "close"));
	assert_false(TOK(",,,", "close"));
	assert_false(TOK("close", ""));
	assert_false(srt_http_has_token("close", 4, "close")); /* bounded */
	assert_false(srt_http_has_token(NULL, 0, "close"));
	assert_false(srt_http_has_token("close", 5, NULL));
#undef TOK
}

/* ------------------------------------------------------------------ */
/* body framing                                                       */

/* Request framing for a head made of `fields` (each ending in CRLF). */
static int req_body(const char *version, const char *fields, srt_body *b)
{
	static char m[4096];
	int st;
	int n = snprintf(m, sizeof m, "POST http://h/ %s\r\n%s\r\n", version,
			 fields);
	assert_true(n > 0 && (size_t)n < sizeof m);
	assert_int_equal(preq(m, (size_t)n, &st), 1);
	b->kind = (srt_body_kind)99;
	b->length = 99;
	return srt_http_request_body(&req_buf, b);
}

#define REQ_BODY_OK(fields, k, len)                                      \
	do {                                                             \
		srt_body b_;                                             \
		assert_int_equal(req_body("HTTP/1.1", (fields), &b_), 0); \
		assert_int_equal(b_.kind, (k));                          \
		assert_int_equal(b_.length, (len));                      \
	} while (0)
#define REQ_BODY_ERR(fields)                                             \
	do {                                                             \
		srt_body b_;                                             \
		assert_int_equal(req_body("HTTP/1.1", (fields), &b_), -1); \
	} while (0)

static void test_request_framing(void **state)
{
	(void)state;
	REQ_BODY_OK("", SRT_BODY_NONE, 0);
	REQ_BODY_OK("Host: h\r\n", SRT_BODY_NONE, 0);
	REQ_BODY_OK("Content-Length: 5\r\n", SRT_BODY_LENGTH, 5);
	REQ_BODY_OK("content-length: 0\r\n", SRT_BODY_LENGTH, 0);
	REQ_BODY_OK("Content-Length: 005\r\n", SRT_BODY_LENGTH, 5);
	REQ_BODY_OK("Content-Length: 5, 5\r\n", SRT_BODY_LENGTH, 5);
	REQ_BODY_OK("Content-Length: 5 ,\t5\r\n", SRT_BODY_LENGTH, 5);
	REQ_BODY_OK("Content-Length: 5\r\nContent-Length: 5\r\n",
		    SRT_BODY_LENGTH, 5);
	REQ_BODY_OK("Content-Length: 5,5\r\nContent-Length: 05\r\n",
		    SRT_BODY_LENGTH, 5);
	REQ_BODY_OK("Content-Length: 18446744073709551615\r\n",
		    SRT_BODY_LENGTH, UINT64_MAX);
	REQ_BODY_OK("Transfer-Encoding: chunked\r\n", SRT_BODY_CHUNKED, 0);
	REQ_BODY_OK("Transfer-Encoding: Chunked\r\n", SRT_BODY_CHUNKED, 0);
	REQ_BODY_OK("Transfer-Encoding: , chunked ,\r\n", SRT_BODY_CHUNKED, 0);

	/* smuggling: TE with CL, in either order */
	REQ_BODY_ERR("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n");
	REQ_BODY_ERR("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n");
	REQ_BODY_ERR("Transfer-Encoding: chunked\r\nContent-Length: x\r\n");
	/* TE other than exactly "chunked" */
	REQ_BODY_ERR("Transfer-Encoding: identity\r\n");
	REQ_BODY_ERR("Transfer-Encoding: gzip\r\n");
	REQ_BODY_ERR("Transfer-Encoding: gzip, chunked\r\n");
	REQ_BODY_ERR("Transfer-Encoding: chunked, gzip\r\n");
	REQ_BODY_ERR("Transfer-Encoding: chunked, chunked\r\n");
	REQ_BODY_ERR("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n");
	REQ_BODY_ERR("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n");
	REQ_BODY_ERR("Transfer-Encoding: xchunked\r\n");
	REQ_BODY_ERR("Transfer-Encoding: chunked;q=1\r\n");
	REQ_BODY_ERR("Transfer-Encoding: chunk ed\r\n");
	REQ_BODY_ERR("Transfer-Encoding:\r\n");
	REQ_BODY_ERR("Transfer-Encoding: \"chunked\"\r\n");
	/* invalid or conflicting Content-Length */
	REQ_BODY_ERR("Content-Length: 5, 6\r\n");
	REQ_BODY_ERR("Content-Length: 5\r\nContent-Length: 6\r\n");
	REQ_BODY_ERR("Content-Length: +5\r\n");
	REQ_BODY_ERR("Content-Length: -5\r\n");
	REQ_BODY_ERR("Content-Length: 5 5\r\n");
	REQ_BODY_ERR("Content-Length: 5\t5\r\n");
	REQ_BODY_ERR("Content-Length: 0x5\r\n");
	REQ_BODY_ERR("Content-Length: 5.0\r\n");
	REQ_BODY_ERR("Content-Length: 5,\r\n");
	REQ_BODY_ERR("Content-Length: ,5\r\n");
	REQ_BODY_ERR("Content-Length: ,0\r\n");
	REQ_BODY_ERR("Content-Length: 0,\r\n");
	REQ_BODY_ERR("Content-Length: 0, ,0\r\n");
	REQ_BODY_ERR("Content-Length: \r\n");
	REQ_BODY_ERR("Content-Length: 5\r\nContent-Length:\r\n");
	REQ_BODY_ERR("Content-Length: 18446744073709551616\r\n");
	REQ_BODY_ERR("Content-Length: 99999999999999999999\r\n");
	REQ_BODY_ERR("Content-Length: 5\r\nContent-Length: 5, 7\r\n");

	/* HTTP/1.0 with Transfer-Encoding is faulty framing (RFC 9112 §6.1) */
	srt_body b;
	assert_int_equal(req_body("HTTP/1.0", "Transfer-Encoding: chunked\r\n",
				  &b),
			 -1);
	assert_int_equal(req_body("HTTP/1.0", "Content-Length: 3\r\n", &b), 0);
	assert_int_equal(b.kind, SRT_BODY_LENGTH);
	assert_int_equal(b.length, 3);
	assert_int_equal(srt_http_request_body(NULL, &b), -1);
}

static int resp_body(const char *status_line, const char *fields,
		     const char *method, srt_body *b)
{
	static char m[4096];
	int n = snprintf(m, sizeof m, "%s\r\n%s\r\n", status_line, fields);
	assert_true(n > 0 && (size_t)n < sizeof m);
	assert_int_equal(presp(m, (size_t)n), 1);
	b->kind = (srt_body_kind)99;
	b->length = 99;
	return srt_http_response_body(&resp_buf, method,
				      method ? strlen(method) : 0, b);
}

#define RESP_BODY(sl, fields, method, k, len)                            \
	do {                                                             \
		srt_body b_;                                             \
		assert_int_equal(resp_body((sl), (fields), (method), &b_), 0); \
		assert_int_equal(b_.kind, (k));                          \
		assert_int_equal(b_.length, (len));                      \
	} while (0)
#define RESP_BODY_ERR(sl, fields, method)                                \
	do {                                                             \
		srt_body b_;                                             \
		assert_int_equal(resp_body((sl), (fields), (method), &b_), -1); \
	} while (0)

static void test_response_framing(void **state)
{
	(void)state;
	const char *ok = "HTTP/1.1 200 OK";
	RESP_BODY(ok, "Content-Length: 10\r\n", "GET", SRT_BODY_LENGTH, 10);
	RESP_BODY(ok, "Content-Length: 10, 10\r\n", "GET", SRT_BODY_LENGTH, 10);
	RESP_BODY(ok, "", "GET", SRT_BODY_UNTIL_CLOSE, 0);
	RESP_BODY(ok, "Transfer-Encoding: chunked\r\n", "GET", SRT_BODY_CHUNKED,
		  0);
	RESP_BODY(ok, "Transfer-Encoding: gzip, chunked\r\n", "GET",
		  SRT_BODY_CHUNKED, 0);
	RESP_BODY(ok, "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
		  "GET", SRT_BODY_CHUNKED, 0);
	RESP_BODY(ok, "Transfer-Encoding: gzip\r\n", "GET",
		  SRT_BODY_UNTIL_CLOSE, 0);
	RESP_BODY(ok, "Transfer-Encoding: chunked, gzip\r\n", "GET",
		  SRT_BODY_UNTIL_CLOSE, 0);
	RESP_BODY(ok, "Transfer-Encoding: identity\r\n", "GET",
		  SRT_BODY_UNTIL_CLOSE, 0);
	/* TE overrides CL in a response (RFC 9112 §6.3 item 3) */
	RESP_BODY(ok, "Content-Length: 10\r\nTransfer-Encoding: chunked\r\n",
		  "GET", SRT_BODY_CHUNKED, 0);
	RESP_BODY_ERR(ok, "Transfer-Encoding: chunked, chunked\r\n", "GET");
	RESP_BODY_ERR(ok, "Content-Length: 10, 11\r\n", "GET");
	RESP_BODY_ERR(ok, "Content-Length: 1\r\nContent-Length: 2\r\n", "GET");
	RESP_BODY_ERR(ok, "Content-Length: -1\r\n", "GET");
	RESP_BODY_ERR(ok, "Content-Length: 1 0\r\n", "GET");
	RESP_BODY_ERR(ok, "Content-Length: 18446744073709551616\r\n", "GET");
	/* HTTP/1.0 with TE: faulty framing, read until close */
	RESP_BODY("HTTP/1.0 200 OK", "Transfer-Encoding: chunked\r\n", "GET",
		  SRT_BODY_UNTIL_CLOSE, 0);
	RESP_BODY("HTTP/1.0 200 OK", "Content-Length: 3\r\n", "GET",
		  SRT_BODY_LENGTH, 3);

	/* no body: HEAD, 1xx, 204, 304, 2xx to CONNECT */
	RESP_BODY(ok, "Content-Length: 10\r\n", "HEAD", SRT_BODY_NONE, 0);
	RESP_BODY(ok, "Transfer-Encoding: chunked\r\n", "HEAD", SRT_BODY_NONE,
		  0);
	RESP_BODY("HTTP/1.1 100 Continue", "", "POST", SRT_BODY_NONE, 0);
	RESP_BODY("HTTP/1.1 101 Switching", "", "GET", SRT_BODY_NONE, 0);
	RESP_BODY("HTTP/1.1 199 x", "Content-Length: 4\r\n", "GET",
		  SRT_BODY_NONE, 0);
	RESP_BODY("HTTP/1.1 204 No Content", "Content-Length: 4\r\n", "GET",
		  SRT_BODY_NONE, 0);
	RESP_BODY("HTTP/1.1 304 Not Modified", "Content-Length: 4\r\n", "GET",
		  SRT_BODY_NONE, 0);
	RESP_BODY("HTTP/1.1 200 Connection established", "", "CONNECT",
		  SRT_BODY_NONE, 0);
	RESP_BODY("HTTP/1.1 299 x", "Content-Length: 4\r\n", "CONNECT",
		  SRT_BODY_NONE, 0);
	RESP_BODY("HTTP/1.1 407 Auth", "Content-Length: 4\r\n", "CONNECT",
		  SRT_BODY_LENGTH, 4);
	RESP_BODY("HTTP/1.1 205 Reset", "Content-Length: 0\r\n", "GET",
		  SRT_BODY_LENGTH, 0);
	/* methods are case-sensitive, and a missing method is "not HEAD" */
	RESP_BODY(ok, "Content-Length: 10\r\n", "head", SRT_BODY_LENGTH, 10);
	RESP_BODY(ok, "Content-Length: 10\r\n", "HEADX", SRT_BODY_LENGTH, 10);
	RESP_BODY(ok, "Content-Length: 10\r\n", NULL, SRT_BODY_LENGTH, 10);
	srt_body b;
	assert_int_equal(srt_http_response_body(NULL, "GET", 3, &b), -1);
}

/* ------------------------------------------------------------------ */
/* chunked bodies                                                     */

/* Whole buffer at once. */
static long scan_whole(const char *s, size_t len, bool *done)
{
	srt_chunked c;
	memset(&c, 0, sizeof c);
	return srt_chunked_scan(&c, s, len, done);
}

/* One byte per call: returns bytes consumed until done, -1 on error, or
 * the number consumed when input ran out. */
static long scan_bytes(const char *s, size_t len, bool *done)
{
	srt_chunked c;
	memset(&c, 0, sizeof c);
	size_t total = 0;
	*done = false;
	for (size_t i = 0; i < len; i++) {
		bool d = true;
		long r = srt_chunked_scan(&c, s + i, 1, &d);
		if (r < 0)
			return -1;
		if (d) {
			*done = true;
			assert_int_equal(r, 1);
			return (long)(total + 1);
		}
		assert_int_equal(r, 1);
		total++;
	}
	return (long)total;
}

/* Two pieces, split at every position. */
static void scan_splits(const char *s, size_t len, long want, bool want_done)
{
	for (size_t k = 0; k <= len; k++) {
		srt_chunked c;
		memset(&c, 0, sizeof c);
		bool d = false;
		long r1 = srt_chunked_scan(&c, s, k, &d);
		long total;
		if (r1 < 0) {
			total = -1;
		} else if (d) {
			total = r1;
		} else {
			assert_int_equal(r1, (long)k);
			long r2 = srt_chunked_scan(&c, s + k, len - k, &d);
			total = r2 < 0 ? -1 : r1 + r2;
		}
		if (total != want || (want >= 0 && d != want_done))
			fail_msg("split %zu: got %ld/%d, want %ld/%d", k, total,
				 d, want, want_done);
	}
}

static void chunk_ok_at(const char *s, size_t len, size_t body, int line)
{
	bool d = false;
	long r = scan_whole(s, len, &d);
	if (r != (long)body || !d)
		fail_msg("line %d: whole: %ld/%d, want %zu", line, r, d, body);
	r = scan_bytes(s, len, &d);
	if (r != (long)body || !d)
		fail_msg("line %d: bytes: %ld/%d, want %zu", line, r, d, body);
	scan_splits(s, len, (long)body, true);
}
#define CHUNK_OK(s, body) chunk_ok_at((s), sizeof(s) - 1, (body), __LINE__)

static void chunk_err_at(const char *s, size_t len, int line)
{
	bool d = true;
	long r = scan_whole(s, len, &d);
	if (r != -1 || d)
		fail_msg("line %d: whole: %ld/%d, want error", line, r, d);
	r = scan_bytes(s, len, &d);
	if (r != -1)
		fail_msg("line %d: bytes: %ld, want error", line, r);
	scan_splits(s, len, -1, false);
}
#define CHUNK_ERR(s) chunk_err_at((s), sizeof(s) - 1, __LINE__)

static void test_chunked(void **state)
{
	(void)state;
	CHUNK_OK("5\r\nhello\r\n0\r\n\r\n", 15);
	CHUNK_OK("0\r\n\r\n", 5);
	CHUNK_OK("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 26);
	CHUNK_OK("A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", 35);
	CHUNK_OK("00005\r\nhello\r\n000\r\n\r\n", 21);
	/* extensions */
	CHUNK_OK("5;name=val\r\nhello\r\n0;last\r\n\r\n", 29);
	CHUNK_OK("5 ;a=\"q v\"\r\nhello\r\n0\t; x\r\n\r\n", 28);
	CHUNK_OK("5;\r\nhello\r\n0\r\n\r\n", 16);
	/* trailers */
	CHUNK_OK("5\r\nhello\r\n0\r\nX-Sum: 1\r\nY:2\r\n\r\n", 30);
	CHUNK_OK("0\r\nExpires: never\t\r\n\r\n", 22);
	/* bare LF everywhere */
	CHUNK_OK("5\nhello\n0\nX: 1\n\n", 16);
	CHUNK_OK("5\r\nhello\n0\n\r\n", 13);
	CHUNK_OK("5;x\nhello\n0;y=z\n\n", 17);
	/* data bytes are opaque */
	CHUNK_OK("4\r\n\r\n\0\n\r\n0\r\n\r\n", 14);

	/* the following pipelined message is left alone */
	static const char pl[] = "5\r\nhello\r\n0\r\nT: 1\r\n\r\n"
				 "GET http://h/ HTTP/1.1\r\n\r\n";
	const size_t body = 21;
	bool d = false;
	assert_int_equal(scan_whole(pl, sizeof pl - 1, &d), (long)body);
	assert_true(d);
	assert_int_equal(scan_bytes(pl, sizeof pl - 1, &d), (long)body);
	assert_true(d);
	scan_splits(pl, sizeof pl - 1, (long)body, true);

	/* after done: nothing more is consumed */
	srt_chunked c;
	memset(&c, 0, sizeof c);
	assert_int_equal(srt_chunked_scan(&c, pl, sizeof pl - 1, &d),
			 (long)body);
	d = false;
	assert_int_equal(srt_chunked_scan(&c, pl + body, 5, &d), 0);
	assert_true(d);

	/* incomplete: everything consumed, not done */
	static const char part[] = "5\r\nhel";
	d = true;
	assert_int_equal(scan_whole(part, sizeof part - 1, &d), 6);
	assert_false(d);
	memset(&c, 0, sizeof c);
	assert_int_equal(srt_chunked_scan(&c, part, sizeof part - 1, &d), 6);
	assert_int_equal(c.remaining, 2);
	assert_int_equal(srt_chunked_scan(&c, "", 0, &d), 0);
	assert_false(d);
	assert_int_equal(srt_chunked_scan(&c, NULL, 0, &d), 0);
	assert_false(d);

	/* a large chunk is counted, not buffered */
	memset(&c, 0, sizeof c);
	static const char big[] = "FFFFFFFFFFFFFFFF\r\n0123456789";
	assert_int_equal(srt_chunked_scan(&c, big, sizeof big - 1, &d),
			 (long)(sizeof big - 1));
	assert_false(d);
	assert_true(c.remaining == UINT64_MAX - 10);
}

/* crlf_only (request bodies): every bare LF is an error, wherever it is */
static void test_chunked_crlf_only(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"5\nhello\r\n0\r\n\r\n",     "5;x\nhello\r\n0\r\n\r\n",
		"5\r\nhello\n0\r\n\r\n",     "5\r\nhello\r\n0\n\r\n",
		"0\r\nX: 1\n\r\n",             "0\r\n\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		srt_chunked c = {.crlf_only = true};
		bool d = false;
		assert_int_equal(srt_chunked_scan(&c, bad[i], strlen(bad[i]), &d), -1);
		assert_false(d);
		srt_chunked lax = {0}; /* the same bytes without it: a body */
		assert_int_equal(srt_chunked_scan(&lax, bad[i], strlen(bad[i]), &d), (long)strlen(bad[i]));
		assert_true(d);
	}
	static const char ok[] = "5;a=b\r\nhel\nl\r\n0\r\nT: 1\r\n\r\n";
	srt_chunked c = {.crlf_only = true};
	bool d = false;
	assert_int_equal(srt_chunked_scan(&c, ok, sizeof ok - 1, &d), (long)(sizeof ok - 1));
	assert_true(d); /* data bytes stay opaque */
}

static void test_chunked_errors(void **state)
{
	(void)state;
	CHUNK_ERR("\r\n");
	CHUNK_ERR("\n");
	CHUNK_ERR("g\r\n");
	CHUNK_ERR("-5\r\n");
	CHUNK_ERR("+5\r\n");
	CHUNK_ERR("0x5\r\n");
	CHUNK_ERR(" 5\r\n");
	CHUNK_ERR(";5\r\n");
	CHUNK_ERR("5 \r\nhello\r\n0\r\n\r\n");   /* BWS without ';' */
	CHUNK_ERR("5 x\r\n");
	CHUNK_ERR("5\rX");                       /* bare CR */
	CHUNK_ERR("5;a\rX");
	CHUNK_ERR("5;a\x01\r\n");                /* control in extension */
	CHUNK_ERR("5;a\0\r\n");
	CHUNK_ERR("5\r\nhelloX\r\n0\r\n\r\n");   /* data not followed by CRLF */
	CHUNK_ERR("5\r\nhello\rX");
	CHUNK_ERR("5\r\nhello0\r\n\r\n");
	CHUNK_ERR("5\r\nhello\r\n\r\n");         /* empty size line */
	/* overflow of the size */
	CHUNK_ERR("10000000000000000\r\n");
	CHUNK_ERR("FFFFFFFFFFFFFFFFF\r\n");
	CHUNK_ERR("0000000000000000000000000000000000100000000000000000\r\n");
	/* trailers */
	CHUNK_ERR("0\r\nX: 1\r\n y\r\n\r\n");    /* obs-fold */
	CHUNK_ERR("0\r\n X: 1\r\n\r\n");
	CHUNK_ERR("0\r\nX 1\r\n\r\n");
	CHUNK_ERR("0\r\nX : 1\r\n\r\n");
	CHUNK_ERR("0\r\n: 1\r\n\r\n");
	CHUNK_ERR("0\r\nX: a\0b\r\n\r\n");
	CHUNK_ERR("0\r\nX: a\rb\r\n\r\n");
	CHUNK_ERR("0\r\n\rX");

	/* bounded lines: 4 KiB size line, 4 KiB trailer line, 64 KiB trailers
	 * (line lengths without the line ending) */
	char *b = malloc(80 * 1024);
	assert_non_null(b);
	bool d;
	memset(b, 'e', 4096);
	memcpy(b, "5;", 2);
	memcpy(b + 4096, "\r\nhello\r\n0\r\n\r\n", 14);
	assert_int_equal(scan_whole(b, 4096 + 14, &d), 4096 + 14);
	assert_true(d);
	memset(b, 'e', 4097);
	memcpy(b, "5;", 2);
	memcpy(b + 4097, "\r\nhello\r\n0\r\n\r\n", 14);
	assert_int_equal(scan_whole(b, 4097 + 14, &d), -1);
	assert_false(d);
	memset(b, '0', 4097); /* leading zeros count too */
	memcpy(b + 4097, "\r\n\r\n", 4);
	assert_int_equal(scan_whole(b, 4097 + 4, &d), -1);
	memcpy(b + 4096, "\r\n\r\n", 4); /* and more than 16 digits too */
	assert_int_equal(scan_whole(b, 4096 + 4, &d), -1);
	assert_false(d);

	size_t n = (size_t)sprintf(b, "0\r\nX: ");
	memset(b + n, 'v', 4096 - n + 3);
	n = 4096 + 3;
	memcpy(b + n, "\r\n\r\n", 4);
	assert_int_equal(scan_whole(b, n + 4, &d), (long)(n + 4));
	assert_true(d);
	n = (size_t)sprintf(b, "0\r\nX: ");
	memset(b + n, 'v', 5000);
	n += 5000;
	memcpy(b + n, "\r\n\r\n", 4);
	assert_int_equal(scan_whole(b, n + 4, &d), -1);

	n = (size_t)sprintf(b, "0\r\n");
	for (int i = 0; i < 70; i++) {
		n += (size_t)sprintf(b + n, "X%d: ", i);
		memset(b + n, 'v', 1000);
		n += 1000;
		memcpy(b + n, "\r\n", 2);
		n += 2;
	}
	memcpy(b + n, "\r\n", 2);
	assert_int_equal(scan_whole(b, n + 2, &d), -1);
	/* the same with 60 lines is fine */
	n = (size_t)sprintf(b, "0\r\n");
	for (int i = 0; i < 60; i++) {
		n += (size_t)sprintf(b + n, "X%d: ", i);
		memset(b + n, 'v', 1000);
		n += 1000;
		memcpy(b + n, "\r\n", 2);
		n += 2;
	}
	memcpy(b + n, "\r\n", 2);
	assert_int_equal(scan_whole(b, n + 2, &d), (long)(n + 2));
	assert_true(d);
	free(b);

	/* an error is sticky */
	srt_chunked c;
	memset(&c, 0, sizeof c);
	assert_int_equal(srt_chunked_scan(&c, "z", 1, &d), -1);
	assert_int_equal(srt_chunked_scan(&c, "0\r\n\r\n", 5, &d), -1);
	assert_false(d);
	assert_int_equal(srt_chunked_scan(NULL, "0", 1, &d), -1);
}

/* ------------------------------------------------------------------ */
/* authority-form and absolute-form                                   */

static void auth_ok_at(const char *s, const char *want_host, int want_port,
		       int line)
{
	char host[SRT_HTTP_MAX_HOST + 1];
	int port = -1;
	if (srt_http_parse_authority(s, strlen(s), host, &port) != 0)
		fail_msg("line %d: \"%s\" refused", line, s);
	if (strcmp(host, want_host) != 0 || port != want_port)
		fail_msg("line %d: \"%s\" -> \"%s\":%d", line, s, host, port);
}
#define AUTH_OK(s, h, p) auth_ok_at((s), (h), (p), __LINE__)

static void auth_err_at(const char *s, size_t len, int line)
{
	char host[SRT_HTTP_MAX_HOST + 1] = "x";
	int port = -1;
	if (srt_http_parse_authority(s, len, host, &port) != -1)
		fail_msg("line %d: \"%s\" accepted", line, s);
	if (host[0] != '\0')
		fail_msg("line %d: host not cleared", line);
}
#define AUTH_ERR(s) auth_err_at((s), sizeof(s) - 1, __LINE__)

/* A chunk size has at most 16 hex digits, leading zeros included (issue
 * #11): whatever the value, a longer size line is refused at its 17th
 * digit, and one that does not fit a uint64_t never gets that far. */
static void test_chunked_size_digits(void **state)
{
	(void)state;
	CHUNK_OK("0000000000000005\r\nhello\r\n0\r\n\r\n", 30);
	CHUNK_OK("0000000000000000\r\n\r\n", 20); /* 16 zeros */
	CHUNK_ERR("00000000000000005\r\nhello\r\n0\r\n\r\n");
	CHUNK_ERR("00000000000000000\r\n\r\n");
	CHUNK_ERR("5\r\nhello\r\n00000000000000000\r\n\r\n"); /* the last chunk too */
	CHUNK_ERR("FFFFFFFFFFFFFFFF0\r\n");
	/* 16 digits of the largest size: taken, the data then awaited */
	srt_chunked c = {0};
	bool d = true;
	assert_int_equal(srt_chunked_scan(&c, "FFFFFFFFFFFFFFFF\r\nab", 20, &d), 20);
	assert_false(d);
	assert_int_equal(c.remaining, UINT64_MAX - 2);
	/* refused at the 17th digit, before the line ends */
	c = (srt_chunked){0};
	assert_int_equal(srt_chunked_scan(&c, "00000000000000001", 17, &d), -1);
	c = (srt_chunked){0};
	assert_int_equal(srt_chunked_scan(&c, "0000000000000000", 16, &d), 16);
	assert_int_equal(srt_chunked_scan(&c, "0", 1, &d), -1);
	/* an extension's length is not the size's */
	CHUNK_OK("5;0000000000000000000000\r\nhello\r\n0\r\n\r\n", 38);
}

/* Trailers belong to the body: every byte of them is taken (to be relayed
 * as it is), the body ends after them. */
static void test_chunked_trailers_relayed(void **state)
{
	(void)state;
	CHUNK_OK("5\r\nhello\r\n0\r\nX-Sum: abc\r\nX-Two: 2\r\n\r\n", 37);
	static const char t[] = "3\r\nabc\r\n0\r\nExpires: never\r\n\r\nGET / HTTP/1.1\r\n";
	bool d = false;
	long n = scan_whole(t, sizeof t - 1, &d);
	assert_true(d);
	assert_int_equal(n, (long)(strstr(t, "GET") - t)); /* the next message stays */
}

static void test_authority(void **state)
{
	(void)state;
	AUTH_OK("example.com:443", "example.com", 443);
	AUTH_OK("EXAMPLE.Com:80", "example.com", 80);
	AUTH_OK("a:1", "a", 1);
	AUTH_OK("a:65535", "a", 65535);
	AUTH_OK("a:00080", "a", 80);
	AUTH_OK("192.0.2.1:22", "192.0.2.1", 22);
	AUTH_OK("my_host-1.example.:8443", "my_host-1.example.", 8443);
	AUTH_OK("[::1]:8080", "::1", 8080);
	AUTH_OK("[2001:DB8::A]:443", "2001:db8::a", 443);
	AUTH_OK("[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1", 80);

	char h255[300];
	memset(h255, 'a', 255);
	strcpy(h255 + 255, ":1");
	char host[SRT_HTTP_MAX_HOST + 1];
	int port;
	assert_int_equal(srt_http_parse_authority(h255, strlen(h255), host,
						  &port),
			 0);
	assert_int_equal(strlen(host), 255);
	memset(h255, 'a', 256);
	strcpy(h255 + 256, ":1");
	assert_int_equal(srt_http_parse_authority(h255, strlen(h255), host,
						  &port),
			 -1);
	/* bounded by len */
	assert_int_equal(srt_http_parse_authority("h:443junk", 5, host, &port),
			 0);
	assert_string_equal(host, "h");
	assert_int_equal(port, 443);

	AUTH_ERR("");
	AUTH_ERR("example.com");
	AUTH_ERR("example.com:");
	AUTH_ERR(":443");
	AUTH_ERR("example.com:0");
	AUTH_ERR("example.com:65536");
	AUTH_ERR("example.com:123456");
	AUTH_ERR("example.com:000080");
	AUTH_ERR("example.com:+80");
	AUTH_ERR("example.com:-80");
	AUTH_ERR("example.com: 80");
	AUTH_ERR("example.com:80 ");
	AUTH_ERR("example.com:8a");
	AUTH_ERR("example.com:80:80");
	AUTH_ERR("user@example.com:443");
	AUTH_ERR("user:pw@example.com:443");
	AUTH_ERR("exa mple.com:443");
	AUTH_ERR(" example.com:443");
	AUTH_ERR("example.com/x:443");
	AUTH_ERR("example.com:443/");
	AUTH_ERR("a\x01" "b:443");
	AUTH_ERR("a\0b:443");
	AUTH_ERR("a\rb:443");
	AUTH_ERR("ex%61mple.com:443");
	AUTH_ERR("ex\xc3\xa4mple.com:443");
	AUTH_ERR("::1:80");
	AUTH_ERR("[::1]");
	AUTH_ERR("[::1]:");
	AUTH_ERR("[::1]80");
	AUTH_ERR("[::1]x:80");
	AUTH_ERR("[]:80");
	AUTH_ERR("[::1:80");
	AUTH_ERR("[example.com]:443");
	AUTH_ERR("[127.0.0.1]:80");
	AUTH_ERR("[::1%eth0]:80");
	AUTH_ERR("[::1%25eth0]:80");
	AUTH_ERR("[:::1]:80");
	AUTH_ERR("[1:2:3:4:5:6:7:8:9]:80");
}

static void abs_ok_at(const char *s, const char *want_host, int want_port,
		      const char *want_path, int line)
{
	char host[SRT_HTTP_MAX_HOST + 1];
	int port = -1;
	const char *path = (const char *)1;
	size_t path_len = 99;
	if (srt_http_parse_absolute(s, strlen(s), host, &port, &path,
				    &path_len) != 0)
		fail_msg("line %d: \"%s\" refused", line, s);
	if (strcmp(host, want_host) != 0 || port != want_port)
		fail_msg("line %d: \"%s\" -> \"%s\":%d", line, s, host, port);
	if (!want_path) {
		if (path != NULL || path_len != 0)
			fail_msg("line %d: path should be NULL", line);
	} else if (!span_is(path, path_len, want_path)) {
		fail_msg("line %d: path \"%.*s\", want \"%s\"", line,
			 (int)path_len, path ? path : "", want_path);
	}
}
#define ABS_OK(s, h, p, path) abs_ok_at((s), (h), (p), (path), __LINE__)

static void abs_err_at(const char *s, size_t len, int line)
{
	char host[SRT_HTTP_MAX_HOST + 1] = "x";
	int port = -1;
	const char *path;
	size_t path_len;
	if (srt_http_parse_absolute(s, len, host, &port, &path, &path_len) !=
	    -1)
		fail_msg("line %d: \"%s\" accepted", line, s);
	if (host[0] != '\0')
		fail_msg("line %d: host not cleared", line);
}
#define ABS_ERR(s) abs_err_at((s), sizeof(s) - 1, __LINE__)

static void test_absolute(void **state)
{
	(void)state;
	ABS_OK("http://example.com/a/b?c#frag", "example.com", 80, "/a/b?c");
	ABS_OK("http://example.com/", "example.com", 80, "/");
	ABS_OK("HTTP://Example.COM:8080", "example.com", 8080, NULL);
	ABS_OK("hTtP://h", "h", 80, NULL);
	ABS_OK("http://h?q=1", "h", 80, "?q=1");
	ABS_OK("http://h?q=1#x", "h", 80, "?q=1");
	ABS_OK("http://h#frag/x", "h", 80, NULL);
	ABS_OK("http://h:81#", "h", 81, NULL);
	ABS_OK("http://h/#", "h", 80, "/");
	ABS_OK("http://h:/p", "h", 80, "/p");
	ABS_OK("http://[::1]:81/x", "::1", 81, "/x");
	ABS_OK("http://[2001:DB8::1]/", "2001:db8::1", 80, "/");
	ABS_OK("http://192.0.2.1:8080/a?b=c&d=%20", "192.0.2.1", 8080,
	       "/a?b=c&d=%20");
	ABS_OK("http://h//x/../y", "h", 80, "//x/../y");

	ABS_ERR("");
	ABS_ERR("http://");
	ABS_ERR("http:///path");
	ABS_ERR("http://:80/");
	ABS_ERR("https://example.com/");
	ABS_ERR("ftp://example.com/");
	ABS_ERR("http:/example.com/");
	ABS_ERR("http:example.com");
	ABS_ERR("//example.com/");
	ABS_ERR("/path");
	ABS_ERR("example.com:80");
	ABS_ERR("http://user@h/");
	ABS_ERR("http://user:pw@h/");
	ABS_ERR("http://@h/");
	ABS_ERR("http://h:0/");
	ABS_ERR("http://h:65536/");
	ABS_ERR("http://h:8x/");
	ABS_ERR("http://h/ a");
	ABS_ERR("http://h/\r\nX: y");
	ABS_ERR("http://h/\0");
	ABS_ERR("http://h\\@evil/");
	ABS_ERR("http://[::1/");
	ABS_ERR("http://[h]/");
	ABS_ERR("http://h h/");
	ABS_ERR("http:// h/");
}

/* ------------------------------------------------------------------ */
/* hop-by-hop                                                         */

static void test_hop_by_hop(void **state)
{
	(void)state;
	static const char m[] = "GET http://h/ HTTP/1.1\r\n"
				"Host: h\r\n"
				"Connection: close, X-Custom\r\n"
				"Keep-Alive: 5\r\n"
				"proxy-connection: keep-alive\r\n"
				"Proxy-Authorization: Basic x\r\n"
				"Proxy-Authenticate: x\r\n"
				"TE: trailers\r\n"
				"Trailer: X-Sum\r\n"
				"TRANSFER-ENCODING: chunked\r\n"
				"Upgrade: websocket\r\n"
				"x-custom: 1\r\n"
				"X-Other: 2\r\n"
				"Content-Type: text/plain\r\n"
				"X-Later: 3\r\n"
				"Connection: x-later, content-length, host\r\n"
				"Content-Length: 3\r\n"
				"\r\n";
	int st;
	assert_int_equal(preq(m, sizeof m - 1, &st), 1);
	static const char *const hop[] = {
		"Connection", "Keep-Alive", "proxy-connection",
		"Proxy-Authorization", "Proxy-Authenticate", "TE", "Trailer",
		"TRANSFER-ENCODING", "Upgrade", "x-custom", "X-Later",
	};
	size_t n_hop = 0;
	for (size_t i = 0; i < req_buf.n_headers; i++) {
		const srt_http_header *h = &req_buf.headers[i];
		bool want = false;
		for (size_t k = 0; k < sizeof hop / sizeof hop[0]; k++)
			if (span_is(h->name, h->name_len, hop[k]))
				want = true;
		bool got = srt_http_is_hop_by_hop(req_buf.headers,
						  req_buf.n_headers, h);
		if (got != want)
			fail_msg("%.*s: got %d", (int)h->name_len, h->name, got);
		n_hop += got;
	}
	assert_int_equal(n_hop, 12); /* two Connection fields */

	/* fixed names are hop-by-hop without any Connection field */
	srt_http_header te = {"te", 2, "trailers", 8};
	srt_http_header other = {"X-Custom", 8, "1", 1};
	assert_true(srt_http_is_hop_by_hop(NULL, 0, &te));
	assert_false(srt_http_is_hop_by_hop(NULL, 0, &other));
	assert_false(srt_http_is_hop_by_hop(&other, 1, &other));
	assert_false(srt_http_is_hop_by_hop(NULL, 0, NULL));
	/* a prefix of a listed name is not listed */
	srt_http_header conn = {"Connection", 10, "X-Custom-Long", 13};
	srt_http_header both[] = {conn, other};
	assert_false(srt_http_is_hop_by_hop(both, 2, &both[1]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_absolute),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_http10_bare_lf),
		cmocka_unit_test(test_leading_empty_lines),
		cmocka_unit_test(test_request_line_errors),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_incremental_and_null),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_find_and_tokens),
		cmocka_unit_test(test_request_framing),
		cmocka_unit_test(test_response_framing),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_crlf_only),
		cmocka_unit_test(test_chunked_errors),
		cmocka_unit_test(test_chunked_size_digits),
		cmocka_unit_test(test_chunked_trailers_relayed),
		cmocka_unit_test(test_authority),
		cmocka_unit_test(test_absolute),
		cmocka_unit_test(test_hop_by_hop),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
