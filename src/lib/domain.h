/* domain.h - domain patterns of allowedDomains / deniedDomains (SPEC §5).
 * One parser serves validation (config.c) and matching (the proxies). */
#ifndef SRT_DOMAIN_H
#define SRT_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

typedef enum srt_domain_kind {
	SRT_DOMAIN_EXACT,     /* "example.com"      : only that name */
	SRT_DOMAIN_WILDCARD,  /* "*.example.com"    : any subdomain, not the apex */
	SRT_DOMAIN_ANY,       /* "*"                : every host */
	SRT_DOMAIN_IPV4,      /* "192.0.2.1"        : that literal only */
	SRT_DOMAIN_IPV6,      /* "[2001:db8::1]"    : that literal only */
} srt_domain_kind;

typedef struct srt_domain_pattern {
	char *text;             /* the entry exactly as written (reason lookup) */
	srt_domain_kind kind;
	char *host;             /* normalised: lower case, no trailing dot; for
				 * WILDCARD the suffix without "*."; for IPv6 the
				 * address without brackets; NULL for ANY */
	unsigned char addr[16]; /* IPv4 (4 bytes) / IPv6 (16 bytes) literal */
	int port;               /* 0 = any port, else 1..65535 */
} srt_domain_pattern;

/* Parse one pattern.  On error returns -1 and writes a short reason (e.g.
 * "'*' is only allowed as the first label") into why[why_len]. */
int srt_domain_pattern_parse(const char *text, srt_domain_pattern *out,
			     char *why, size_t why_len);

void srt_domain_pattern_free(srt_domain_pattern *p);

/* Does `p` match host (as a client sent it: any case, maybe a trailing dot,
 * maybe an IP literal, IPv6 with or without brackets) on `port`? */
bool srt_domain_pattern_match(const srt_domain_pattern *p, const char *host,
			      int port);

#endif
