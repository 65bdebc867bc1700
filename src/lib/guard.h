/* guard.h - the resolved-address guard of SPEC §5: addresses an allowed
 * hostname must never lead to (loopback, unspecified, link-local, multicast,
 * broadcast, cloud metadata endpoints, the host's own interface addresses,
 * deniedResolvedAddresses), and the IPv4 addresses an IPv6 answer carries
 * (mapped, compatible, translated, NAT64 incl. 64:ff9b:1::/48, 6to4). */
#ifndef SRT_GUARD_H
#define SRT_GUARD_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"
#include "srt.h"

typedef struct srt_guard srt_guard;

/* Snapshot the host's interface addresses (getifaddrs) and the CIDRs. */
srt_guard *srt_guard_new(const srt_config *cfg, srt_error *err);
void srt_guard_free(srt_guard *g);

/* NULL when `sa` may be dialed, else a short reason ("loopback address",
 * "cloud metadata endpoint", "address of this host", "deniedResolvedAddresses
 * 10.0.0.0/8"...). */
const char *srt_guard_check(const srt_guard *g, const struct sockaddr *sa);

#endif
