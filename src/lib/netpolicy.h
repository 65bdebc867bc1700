/* netpolicy.h - the domain policy of SPEC §5, indexed so that a lookup costs
 * a few hash probes even with 100,000 entries:
 *   a deniedDomains match denies; else an allowedDomains match allows; else
 *   deny.  Matching rules are those of domain.c (one parser, one matcher). */
#ifndef SRT_NETPOLICY_H
#define SRT_NETPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "srt.h"

/* Where the proxies listen inside the sandbox (its own loopback). */
#define SRT_HTTP_PROXY_PORT 3128
#define SRT_SOCKS_PROXY_PORT 1080

typedef struct srt_netpolicy srt_netpolicy;

typedef struct srt_net_verdict {
	bool allowed;
	bool by_ip_literal;  /* allowed by an explicit IP-literal entry */
	const char *rule;    /* the entry as written, or NULL (no entry matched) */
	const char *reason;  /* human reason (deniedDomainReasons or built in) */
} srt_net_verdict;

/* Build from the config's lists (the patterns are copied). */
srt_netpolicy *srt_netpolicy_new(const srt_config *cfg, srt_error *err);
void srt_netpolicy_free(srt_netpolicy *np);

/* Decide for `host` (as the client sent it) on `port`.  Pointers in the
 * verdict live as long as the policy. */
void srt_netpolicy_check(const srt_netpolicy *np, const char *host, int port,
			 srt_net_verdict *out);

/* Is `host` an IP literal allowed by an explicit IP entry on `port`?  (A
 * hostname may resolve to an otherwise denied address when that literal is
 * itself allowed.)  `host` is a textual address. */
bool srt_netpolicy_literal_allowed(const srt_netpolicy *np, const char *addr,
				   int port);

size_t srt_netpolicy_size(const srt_netpolicy *np);

#endif
