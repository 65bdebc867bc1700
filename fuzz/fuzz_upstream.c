/* fuzz_upstream.c - libFuzzer harness for network.parentProxy (upstream.h):
 * the input is judged as a parent's reply to CONNECT (whole and as
 * prefixes), parsed as a parent proxy URL (then a CONNECT request is built
 * for it, with the input as the destination), and used as a noProxy list
 * and as a host matched against it; invariants are checked with
 * __builtin_trap(). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                        \
	do {                            \
		if (!(x))               \
			__builtin_trap(); \
	} while (0)

static void check_reply(const char *p, size_t n)
{
	srt_parent_reply r;
	int v = srt_upstream_reply(p, n, &r);
	CHECK(v >= SRT_PARENT_TOO_BIG && v <= SRT_PARENT_OK);
	if (v == SRT_PARENT_OK) {
		/* a 2xx HTTP/1.x head, ending at the first empty line, within
		 * the bound: what follows it is the tunnel's */
		CHECK(r.head_len >= 16 && r.head_len <= n && r.head_len <= SRT_PARENT_MAX_REPLY);
		CHECK(memcmp(p + r.head_len - 4, "\r\n\r\n", 4) == 0);
		CHECK(memmem(p, r.head_len, "\r\n\r\n", 4) == p + r.head_len - 4);
		CHECK(memcmp(p, "HTTP/1.", 7) == 0);
		CHECK(r.status >= 200 && r.status <= 299);
	}
	if (v == SRT_PARENT_TOO_BIG)
		CHECK(n >= SRT_PARENT_MAX_REPLY);
	if (v == SRT_PARENT_REFUSED)
		CHECK(r.line_len + 2 <= n && memcmp(p + r.line_len, "\r\n", 2) == 0 &&
		      (r.status < 200 || r.status > 299));
	/* the verdict never changes with more bytes, once given; before the
	 * status line ends, or the head does, more is needed */
	size_t decided = v == SRT_PARENT_OK ? r.head_len : v == SRT_PARENT_REFUSED ? r.line_len + 2 : n;
	for (size_t k = 0; k < n && k < 2048; k++) {
		srt_parent_reply q;
		int w = srt_upstream_reply(p, k, &q);
		if (k < decided)
			CHECK(w == SRT_PARENT_MORE);
		else
			CHECK(w == v);
	}
}

static bool plain_host(const char *h)
{
	for (; *h; h++)
		if (!(*h == '.' || *h == '-' || *h == '_' || *h == ':' || (*h >= '0' && *h <= '9') ||
		      (*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z')))
			return false;
	return true;
}

static void check_url(const char *s)
{
	srt_parent p;
	char why[200];
	int r = srt_parent_parse(s, &p, why, sizeof why);
	CHECK(r == 0 || r == SRT_PARENT_BAD || r == SRT_PARENT_NO_TLS);
	if (r != 0) {
		CHECK(why[0] != '\0');
		return;
	}
	CHECK(p.port >= 1 && p.port <= 65535 && p.host[0] && plain_host(p.host));
	CHECK(strncmp(p.shown, "http://", 7) == 0);
	if (p.auth) {
		CHECK(strncmp(p.auth, "Basic ", 6) == 0);
		for (const char *c = p.auth + 6; *c; c++)
			CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", *c));
	}
	/* the destination spelled by the input: only plain names reach a
	 * request line, and the request is exactly its lines */
	char out[1024];
	int n = srt_upstream_connect_head(&p, s, 443, out, sizeof out);
	if (n >= 0) {
		CHECK(plain_host(s));
		CHECK((size_t)n == strlen(out) && n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
		size_t lines = 0;
		for (int i = 0; i + 1 < n; i++)
			if (out[i] == '\r' || out[i] == '\n') {
				CHECK(out[i] == '\r' && out[i + 1] == '\n');
				lines++;
				i++;
			}
		CHECK(lines == (p.auth ? 4u : 3u));
	}
	srt_parent_clear(&p);
}

static void check_no_proxy(const char *list, const char *host)
{
	srt_upstream *u = NULL;
	srt_error e = {0};
	if (srt_upstream_new("http://p:1", NULL, list, NULL, &u, NULL, &e) < 0)
		return; /* out of memory only */
	CHECK(u);
	CHECK(srt_upstream_bypass(u, "localhost") && srt_upstream_bypass(u, "127.0.0.1"));
	bool direct = srt_upstream_bypass(u, host);
	const srt_parent *via = srt_upstream_route(u, host, true);
	CHECK(direct ? via == NULL : via == srt_upstream_parent(u, true));
	srt_upstream_free(u);
	/* a name listed alone always matches itself */
	if (host[0] && strlen(host) <= SRT_PARENT_HOST_MAX && !strpbrk(host, ",/:[]*%") && host[strlen(host) - 1] != '.' &&
	    !strchr(" \t\n\v\f\r", host[0]) && !strchr(" \t\n\v\f\r", host[strlen(host) - 1]) &&
	    srt_upstream_new("http://p:1", NULL, host, NULL, &u, NULL, &e) == 0) {
		CHECK(srt_upstream_bypass(u, host));
		srt_upstream_free(u);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_reply((const char *)data, size);
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_url(s);
	/* the list and the host: the halves at the first newline */
	char *nl = strchr(s, '\n');
	const char *host = "example.com";
	if (nl) {
		*nl = '\0';
		host = nl + 1;
	}
	check_no_proxy(s, host);
	free(s);
	return 0;
}
