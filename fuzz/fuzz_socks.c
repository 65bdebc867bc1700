/* fuzz_socks.c - libFuzzer harness for the SOCKS5 parsers: the input (and
 * the input after its first byte) is parsed as a greeting, a
 * username/password message and a request; results must be consistent for
 * every prefix, and what is returned must be well formed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                        \
	do {                            \
		if (!(x))               \
			__builtin_trap(); \
	} while (0)

static void check_greeting(const uint8_t *b, size_t len)
{
	size_t c = 0;
	int m = -1;
	int r = srt_socks_parse_greeting(b, len, &c, &m);
	CHECK(r >= -1 && r <= 1);
	if (r == 1) {
		CHECK(c >= 3 && c <= len && c == 2 + (size_t)b[1]);
		CHECK(m == SRT_SOCKS_NO_AUTH || m == SRT_SOCKS_USERPASS ||
		      m == SRT_SOCKS_NO_ACCEPTABLE);
		CHECK((m == SRT_SOCKS_USERPASS) ==
		      (memchr(b + 2, SRT_SOCKS_USERPASS, c - 2) != NULL));
	}
	size_t end = r == 1 ? c : len;
	for (size_t k = 0; k < end; k++) {
		int r2 = srt_socks_parse_greeting(b, k, &c, &m);
		CHECK(r2 == 0 || (r == -1 && r2 == -1));
	}
}

static void check_userpass(const uint8_t *b, size_t len)
{
	size_t c = 0;
	int r = srt_socks_parse_userpass(b, len, &c);
	CHECK(r >= -1 && r <= 1);
	if (r == 1)
		CHECK(c >= 3 && c <= len && c == 3 + (size_t)b[1] + b[2 + b[1]]);
	size_t end = r == 1 ? c : len;
	for (size_t k = 0; k < end; k++) {
		int r2 = srt_socks_parse_userpass(b, k, &c);
		CHECK(r2 == 0 || (r == -1 && r2 == -1));
	}
}

static void check_request(const uint8_t *b, size_t len)
{
	srt_socks_request q;
	size_t c = 0;
	int rep = -1;
	memset(&q, 0x5a, sizeof q);
	int r = srt_socks_parse_request(b, len, &c, &q, &rep);
	CHECK(r >= -1 && r <= 1);
	if (r == 1) {
		CHECK(rep == SRT_SOCKS_OK);
		CHECK(c >= 8 && c <= len);
		CHECK(q.atyp == 1 || q.atyp == 3 || q.atyp == 4);
		CHECK(q.cmd == b[1]);
		CHECK(q.port >= 0 && q.port <= 65535);
		CHECK(q.port == (b[c - 2] << 8 | b[c - 1]));
		size_t hl = strnlen(q.host, sizeof q.host);
		CHECK(hl >= 1 && hl < sizeof q.host);
		if (q.atyp == 3)
			CHECK(hl == b[4] && memcmp(q.host, b + 5, hl) == 0);
	} else if (r == -1) {
		CHECK(rep == SRT_SOCKS_GENERAL_FAILURE ||
		      rep == SRT_SOCKS_ATYP_UNSUPPORTED);
	} else {
		CHECK(rep == SRT_SOCKS_OK);
	}
	size_t end = r == 1 ? c : len;
	for (size_t k = 0; k < end; k++) {
		int rep2 = -1;
		int r2 = srt_socks_parse_request(b, k, &c, &q, &rep2);
		CHECK(r2 == 0 || (r == -1 && r2 == -1 && rep2 == rep));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy, so ASan catches any read past `size` */
	uint8_t *b = malloc(size ? size : 1);
	if (!b)
		return 0;
	memcpy(b, data, size);
	for (size_t off = 0; off <= 1 && off <= size; off++) {
		check_greeting(b + off, size - off);
		check_userpass(b + off, size - off);
		check_request(b + off, size - off);
	}
	uint8_t out[10];
	CHECK(srt_socks_reply(out, size ? b[0] : 0) == 10 && out[0] == 5);
	free(b);
	return 0;
}
