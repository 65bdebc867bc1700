/* fuzz_netpolicy.c - libFuzzer harness for the indexed domain policy.
 *
 * Input: two bytes of port (big endian), then lines: the first is the host
 * a client asks for, each further line a deniedDomains entry when it starts
 * with '-' (the rest of the line) and an allowedDomains entry otherwise.
 * The hash-indexed srt_netpolicy_check must decide exactly as a linear scan
 * of the same lists with srt_domain_pattern_match (deny first, first match
 * in settings order wins, else deny), for the host as sent and in the other
 * spellings a client may use (case, trailing dot). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "netpolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                        \
	do {                            \
		if (!(x))               \
			__builtin_trap(); \
	} while (0)

#define MAX_PATTERNS 64

typedef struct lists {
	srt_domain_pattern allow[MAX_PATTERNS], deny[MAX_PATTERNS];
	srt_reason reasons[MAX_PATTERNS];
	char reason_text[MAX_PATTERNS][16];
	size_t n_allow, n_deny, n_reasons;
} lists;

static const srt_domain_pattern *first_match(const srt_domain_pattern *v, size_t n,
					     const char *host, int port)
{
	for (size_t i = 0; i < n; i++)
		if (srt_domain_pattern_match(&v[i], host, port))
			return &v[i];
	return NULL;
}

static const char *reason_for(const lists *l, const char *text)
{
	for (size_t i = 0; i < l->n_reasons; i++)
		if (strcmp(l->reasons[i].entry, text) == 0)
			return l->reasons[i].reason;
	return NULL;
}

static void check_one(const srt_netpolicy *np, const lists *l, const char *host, int port)
{
	srt_net_verdict v;
	srt_netpolicy_check(np, host, port, &v);
	const srt_domain_pattern *d = first_match(l->deny, l->n_deny, host, port);
	const srt_domain_pattern *a = d ? NULL : first_match(l->allow, l->n_allow, host, port);
	if (d) {
		CHECK(!v.allowed && v.rule && strcmp(v.rule, d->text) == 0);
		const char *r = reason_for(l, d->text);
		CHECK(v.reason && (!r || strcmp(v.reason, r) == 0));
	} else if (a) {
		bool literal = a->kind == SRT_DOMAIN_IPV4 || a->kind == SRT_DOMAIN_IPV6;
		CHECK(v.allowed && v.rule && strcmp(v.rule, a->text) == 0);
		CHECK(v.by_ip_literal == literal);
	} else {
		CHECK(!v.allowed && !v.rule && v.reason);
	}
	bool lit = srt_netpolicy_literal_allowed(np, host, port);
	CHECK(lit == (a && (a->kind == SRT_DOMAIN_IPV4 || a->kind == SRT_DOMAIN_IPV6)));
}

/* Split off the next line of data[*pos..size) into a NUL-terminated copy. */
static char *next_line(const uint8_t *data, size_t size, size_t *pos)
{
	if (*pos >= size)
		return NULL;
	const uint8_t *start = data + *pos;
	const uint8_t *nl = memchr(start, '\n', size - *pos);
	size_t len = nl ? (size_t)(nl - start) : size - *pos;
	*pos += len + 1;
	char *s = malloc(len + 1);
	if (s) {
		memcpy(s, start, len);
		s[len] = '\0';
	}
	return s;
}

static void add_pattern(lists *l, const char *line)
{
	bool deny = line[0] == '-';
	srt_domain_pattern p;
	char why[128];
	if (srt_domain_pattern_parse(deny ? line + 1 : line, &p, why, sizeof why) != 0)
		return;
	if (!deny) {
		l->allow[l->n_allow++] = p;
		return;
	}
	/* every other deny entry has a reason of its own */
	size_t k = l->n_deny;
	l->deny[l->n_deny++] = p;
	if (k % 2 == 0) {
		srt_reason *r = &l->reasons[l->n_reasons];
		memcpy(l->reason_text[l->n_reasons], "reason ", 7);
		l->reason_text[l->n_reasons][7] = (char)('a' + k % 26);
		l->reason_text[l->n_reasons][8] = '\0';
		r->entry = p.text;
		r->reason = l->reason_text[l->n_reasons];
		l->n_reasons++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int port = data[0] << 8 | data[1];
	size_t pos = 2;
	char *host = next_line(data, size, &pos);
	/* the proxies ask only about names of 1..255 bytes (their parsers'
	 * bound); the index refuses longer ones outright */
	size_t hl = host ? strlen(host) : 0;
	if (hl == 0 || hl > SRT_HTTP_MAX_HOST) {
		free(host);
		return 0;
	}
	lists *l = calloc(1, sizeof *l);
	if (!l) {
		free(host);
		return 0;
	}
	char *line;
	while (l->n_allow < MAX_PATTERNS && l->n_deny < MAX_PATTERNS &&
	       (line = next_line(data, size, &pos)) != NULL) {
		add_pattern(l, line);
		free(line);
	}

	srt_config cfg = {0};
	cfg.allowed_domains = (srt_domain_list){l->allow, l->n_allow};
	cfg.denied_domains = (srt_domain_list){l->deny, l->n_deny};
	cfg.denied_reasons = l->reasons;
	cfg.n_denied_reasons = l->n_reasons;
	srt_error err = {0};
	srt_netpolicy *np = srt_netpolicy_new(&cfg, &err);
	CHECK(np);
	CHECK(srt_netpolicy_size(np) == l->n_allow + l->n_deny);

	check_one(np, l, host, port);
	/* the same name as a client may also spell it */
	char alt[SRT_HTTP_MAX_HOST + 2];
	for (size_t i = 0; i <= hl; i++)
		alt[i] = (host[i] >= 'a' && host[i] <= 'z') ? (char)(host[i] - 32) : host[i];
	check_one(np, l, alt, port);
	if (hl < SRT_HTTP_MAX_HOST) {
		memcpy(alt, host, hl);
		alt[hl] = '.';
		alt[hl + 1] = '\0';
		check_one(np, l, alt, port);
	}

	srt_netpolicy_free(np);
	for (size_t i = 0; i < l->n_allow; i++)
		srt_domain_pattern_free(&l->allow[i]);
	for (size_t i = 0; i < l->n_deny; i++)
		srt_domain_pattern_free(&l->deny[i]);
	free(l);
	free(host);
	return 0;
}
