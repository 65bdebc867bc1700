/* fuzz_http.c - libFuzzer harness for the HTTP parsers: the input is fed
 * to the request and response head parsers (whole and as prefixes), the
 * body framing decisions, the chunked scanner (whole, one byte at a time,
 * and split in two at every byte for small inputs), and the authority and
 * absolute-form parsers; invariants that must hold for every input are
 * checked with __builtin_trap(). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                        \
	do {                            \
		if (!(x))               \
			__builtin_trap(); \
	} while (0)

static bool within(const char *base, size_t len, const char *p, size_t n)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void check_headers(const char *s, size_t head_len,
			  const srt_http_header *h, size_t n)
{
	CHECK(n <= SRT_HTTP_MAX_HEADERS);
	for (size_t i = 0; i < n; i++) {
		CHECK(h[i].name_len > 0);
		CHECK(within(s, head_len, h[i].name, h[i].name_len));
		CHECK(within(s, head_len, h[i].value, h[i].value_len));
		for (size_t k = 0; k < h[i].name_len; k++)
			CHECK(tchar((unsigned char)h[i].name[k]));
		for (size_t k = 0; k < h[i].value_len; k++) {
			unsigned char c = (unsigned char)h[i].value[k];
			CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
		}
		if (h[i].value_len) {
			unsigned char a = (unsigned char)h[i].value[0];
			unsigned char z =
				(unsigned char)h[i].value[h[i].value_len - 1];
			CHECK(a != ' ' && a != '\t' && z != ' ' && z != '\t');
		}
		CHECK(srt_http_find(h, n, "x") == NULL || n > 0);
		(void)srt_http_is_hop_by_hop(h, n, &h[i]);
		(void)srt_http_has_token(h[i].value, h[i].value_len, "close");
		(void)srt_http_has_token(h[i].value, h[i].value_len, "chunked");
	}
}

/* Chunked scan of s[0..len): whole, byte by byte, and (small inputs) in
 * two pieces at every split; all must agree. */
static void check_chunked(const char *s, size_t len)
{
	srt_chunked c;
	bool done = false;
	memset(&c, 0, sizeof c);
	long whole = srt_chunked_scan(&c, s, len, &done);
	CHECK(whole >= -1 && whole <= (long)len);
	CHECK(whole != -1 || !done);
	CHECK(done || whole == -1 || whole == (long)len);
	/* a size line in progress never holds more than 16 hex digits */
	CHECK(whole == -1 || c.digits <= 16);
	if (done) {
		bool d2 = false;
		CHECK(srt_chunked_scan(&c, s, len, &d2) == 0 && d2);
	}

	if (len <= 4096) {
		srt_chunked b;
		memset(&b, 0, sizeof b);
		long total = 0;
		bool bd = false;
		for (size_t i = 0; i < len; i++) {
			long r = srt_chunked_scan(&b, s + i, 1, &bd);
			if (r < 0) {
				total = -1;
				break;
			}
			CHECK(r == 1 && b.digits <= 16);
			total++;
			if (bd)
				break;
		}
		CHECK(total == whole && bd == done);
	}

	if (len <= 256) {
		for (size_t k = 0; k <= len; k++) {
			srt_chunked p;
			bool pd = false;
			memset(&p, 0, sizeof p);
			long r1 = srt_chunked_scan(&p, s, k, &pd);
			long total;
			if (r1 < 0 || pd) {
				total = r1;
			} else {
				CHECK(r1 == (long)k);
				long r2 = srt_chunked_scan(&p, s + k, len - k, &pd);
				total = r2 < 0 ? -1 : r1 + r2;
			}
			CHECK(total == whole && pd == done);
		}
	}
}

static void check_host(const char *host, int port, const char *s, size_t len)
{
	size_t hl = strlen(host);
	CHECK(hl >= 1 && hl <= SRT_HTTP_MAX_HOST);
	CHECK(port >= 1 && port <= 65535);
	for (size_t k = 0; k < hl; k++) {
		unsigned char c = (unsigned char)host[k];
		CHECK(!(c >= 'A' && c <= 'Z'));
		CHECK(c > 0x20 && c < 0x7f && c != '/' && c != '@' &&
		      c != '[' && c != ']');
	}
	(void)s;
	(void)len;
}

static void check_targets(const char *s, size_t len)
{
	char host[SRT_HTTP_MAX_HOST + 1];
	int port = 0;
	if (srt_http_parse_authority(s, len, host, &port) == 0) {
		check_host(host, port, s, len);
	} else {
		CHECK(host[0] == '\0');
	}

	const char *path = NULL;
	size_t path_len = 0;
	if (srt_http_parse_absolute(s, len, host, &port, &path, &path_len) ==
	    0) {
		check_host(host, port, s, len);
		if (path) {
			CHECK(within(s, len, path, path_len));
			CHECK(path_len > 0 && (path[0] == '/' || path[0] == '?'));
			CHECK(!memchr(path, '#', path_len));
			for (size_t k = 0; k < path_len; k++)
				CHECK((unsigned char)path[k] > 0x20 &&
				      path[k] != 0x7f);
		} else {
			CHECK(path_len == 0);
		}
	} else {
		CHECK(host[0] == '\0');
	}
}

static void check_request(const char *s, size_t size)
{
	srt_http_request *req = malloc(sizeof *req);
	if (!req)
		return;
	int st = -7;
	int r = srt_http_parse_request(s, size, req, &st);
	CHECK(r >= -1 && r <= 1);
	if (r == -1)
		CHECK(st == 400 || st == 414 || st == 431 || st == 505);
	if (r == 0)
		CHECK(size < SRT_HTTP_MAX_HEAD && st == 0);

	if (r == 1) {
		size_t hl = req->head_len;
		CHECK(hl > 0 && hl <= size && hl <= SRT_HTTP_MAX_HEAD);
		CHECK(s[hl - 1] == '\n');
		CHECK(req->version_minor == 0 || req->version_minor == 1);
		CHECK(req->method_len > 0 &&
		      within(s, hl, req->method, req->method_len));
		CHECK(req->target_len > 0 && req->target_len <= 8192 &&
		      within(s, hl, req->target, req->target_len));
		for (size_t k = 0; k < req->target_len; k++)
			CHECK((unsigned char)req->target[k] > 0x20 &&
			      req->target[k] != 0x7f);
		check_headers(s, hl, req->headers, req->n_headers);
		check_targets(req->target, req->target_len);

		srt_body b;
		int br = srt_http_request_body(req, &b);
		CHECK(br == 0 || br == -1);
		if (br == 0) {
			CHECK(b.kind == SRT_BODY_NONE ||
			      b.kind == SRT_BODY_LENGTH ||
			      b.kind == SRT_BODY_CHUNKED);
			if (b.kind == SRT_BODY_CHUNKED)
				check_chunked(s + hl, size - hl);
		}

		/* exactly the head parses the same; one byte less needs more */
		size_t n = req->n_headers;
		const char *target = req->target;
		int st2 = -7;
		CHECK(srt_http_parse_request(s, hl, req, &st2) == 1);
		CHECK(req->head_len == hl && req->n_headers == n &&
		      req->target == target);
		CHECK(srt_http_parse_request(s, hl - 1, req, &st2) == 0);
		/* every prefix needs more (small heads) */
		if (hl <= 512)
			for (size_t k = 0; k < hl; k++)
				CHECK(srt_http_parse_request(s, k, req, &st2) ==
				      0);
	} else if (r == -1 && size <= 512) {
		/* a prefix needs more or already has the same error */
		for (size_t k = 0; k < size; k++) {
			int st2 = -7;
			int r2 = srt_http_parse_request(s, k, req, &st2);
			CHECK(r2 == 0 || (r2 == -1 && st2 == st));
		}
	}
	free(req);
}

static void check_response(const char *s, size_t size)
{
	srt_http_response *resp = malloc(sizeof *resp);
	if (!resp)
		return;
	int r = srt_http_parse_response(s, size, resp);
	CHECK(r >= -1 && r <= 1);
	if (r == 0)
		CHECK(size < SRT_HTTP_MAX_HEAD);
	if (r == 1) {
		size_t hl = resp->head_len;
		CHECK(hl > 0 && hl <= size && hl <= SRT_HTTP_MAX_HEAD);
		CHECK(resp->status >= 100 && resp->status <= 999);
		CHECK(resp->version_minor == 0 || resp->version_minor == 1);
		CHECK(within(s, hl, resp->reason, resp->reason_len));
		check_headers(s, hl, resp->headers, resp->n_headers);

		static const char *const methods[] = {"GET", "HEAD", "CONNECT",
						      NULL};
		for (size_t i = 0; i < 4; i++) {
			srt_body b;
			const char *m = methods[i];
			int br = srt_http_response_body(resp, m,
							m ? strlen(m) : 0, &b);
			CHECK(br == 0 || br == -1);
			if (br == 0 && m && strcmp(m, "HEAD") == 0)
				CHECK(b.kind == SRT_BODY_NONE);
			if (br == 0 && b.kind == SRT_BODY_CHUNKED && i == 0)
				check_chunked(s + hl, size - hl);
		}
		if (hl <= 512)
			for (size_t k = 0; k < hl; k++)
				CHECK(srt_http_parse_response(s, k, resp) == 0);
	} else if (r == -1 && size <= 512) {
		for (size_t k = 0; k < size; k++)
			CHECK(srt_http_parse_response(s, k, resp) != 1);
	}
	free(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy, so ASan catches any read past `size` */
	char *s = malloc(size ? size : 1);
	if (!s)
		return 0;
	memcpy(s, data, size);

	check_request(s, size);
	check_response(s, size);
	check_chunked(s, size);
	check_targets(s, size);
	if (size > 0) {
		/* the input as a token to look up in itself */
		size_t cut = 0;
		while (cut < size && cut < 32 && s[cut] != ',')
			cut++;
		char tok[33];
		memcpy(tok, s, cut);
		tok[cut] = '\0';
		(void)srt_http_has_token(s, size, tok);
	}
	free(s);
	return 0;
}
