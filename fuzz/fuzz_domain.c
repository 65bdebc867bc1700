/* fuzz_domain.c - libFuzzer harness for domain patterns: parse the input as
 * a pattern; if it parses, match it against a few hosts and against the
 * input itself, and check invariants that must hold for every pattern. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const hosts[] = {
	"example.com",	  "a.example.com", "EXAMPLE.COM.",  "127.0.0.1",
	"::1",		  "[::1]",	   "::ffff:127.0.0.1", "localhost",
	"127.1",	  "0x7f.1",	   "",		    ".",
	"a..b",		  "*",		   "*.example.com", "[2001:db8::1]",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	srt_domain_pattern p;
	char why[256];
	if (srt_domain_pattern_parse(text, &p, why, sizeof why) != 0) {
		if (why[0] == '\0' || p.text || p.host)
			__builtin_trap();
		/* an input that is not a pattern is still a host to test */
		srt_domain_pattern any;
		if (srt_domain_pattern_parse("*", &any, why, sizeof why) != 0)
			__builtin_trap();
		(void)srt_domain_pattern_match(&any, text, 80);
		srt_domain_pattern_free(&any);
		free(text);
		return 0;
	}
	if (strcmp(p.text, text) != 0 || p.port < 0 || p.port > 65535)
		__builtin_trap();

	int port = p.port ? p.port : 443;
	for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
		(void)srt_domain_pattern_match(&p, hosts[i], port);
		(void)srt_domain_pattern_match(&p, hosts[i], 0);
	}
	(void)srt_domain_pattern_match(&p, text, port);
	(void)srt_domain_pattern_match(&p, text, -1);

	/* invariants */
	if (p.port && srt_domain_pattern_match(&p, "example.com",
					       p.port == 1 ? 2 : p.port - 1))
		__builtin_trap();
	switch (p.kind) {
	case SRT_DOMAIN_ANY:
		if (p.host || !srt_domain_pattern_match(&p, "example.com", port))
			__builtin_trap();
		break;
	case SRT_DOMAIN_EXACT:
		if (!p.host || !srt_domain_pattern_match(&p, p.host, port) ||
		    srt_domain_pattern_match(&p, "127.0.0.1", port))
			__builtin_trap();
		break;
	case SRT_DOMAIN_WILDCARD: {
		char sub[300];
		if (!p.host || srt_domain_pattern_match(&p, p.host, port))
			__builtin_trap(); /* never the apex */
		if (strlen(p.host) + 2 <= 253) {
			snprintf(sub, sizeof sub, "x.%s", p.host);
			if (!srt_domain_pattern_match(&p, sub, port))
				__builtin_trap();
		}
		break;
	}
	case SRT_DOMAIN_IPV4:
	case SRT_DOMAIN_IPV6:
		if (!p.host || !srt_domain_pattern_match(&p, p.host, port) ||
		    srt_domain_pattern_match(&p, "example.com", port))
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
	srt_domain_pattern_free(&p);
	free(text);
	return 0;
}
