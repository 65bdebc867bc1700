/* guard.c - classify a resolved address before the proxy dials it. */
#include "guard.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct addr16 {
	unsigned char b[16]; /* IPv4 stored as ::ffff:a.b.c.d */
} addr16;

struct srt_guard {
	addr16 *local;     /* the host's own addresses */
	size_t n_local;
	srt_cidr *cidrs;
	size_t n_cidrs;
};

static void v4_to16(const void *v4, addr16 *out)
{
	memset(out->b, 0, 10);
	out->b[10] = out->b[11] = 0xff;
	memcpy(out->b + 12, v4, 4);
}

srt_guard *srt_guard_new(const srt_config *cfg, srt_error *err)
{
	srt_guard *g = calloc(1, sizeof *g);
	if (!g) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) == 0) {
		size_t n = 0;
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
			n++;
		g->local = calloc(n + 1, sizeof *g->local);
		for (struct ifaddrs *i = ifs; g->local && i; i = i->ifa_next) {
			if (!i->ifa_addr)
				continue;
			if (i->ifa_addr->sa_family == AF_INET)
				v4_to16(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, &g->local[g->n_local++]);
			else if (i->ifa_addr->sa_family == AF_INET6)
				memcpy(g->local[g->n_local++].b,
				       &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
		}
		freeifaddrs(ifs);
	}
	if (cfg && cfg->n_denied_resolved) {
		g->cidrs = calloc(cfg->n_denied_resolved, sizeof *g->cidrs);
		if (!g->cidrs) {
			srt_guard_free(g);
			srt_fail(err, SRT_E_NOMEM, "out of memory");
			return NULL;
		}
		memcpy(g->cidrs, cfg->denied_resolved, cfg->n_denied_resolved * sizeof *g->cidrs);
		g->n_cidrs = cfg->n_denied_resolved;
	}
	return g;
}

void srt_guard_free(srt_guard *g)
{
	if (!g)
		return;
	free(g->local);
	free(g->cidrs);
	free(g);
}

static bool prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (!rest)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

static const char *check_v4(const unsigned char *a)
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	if (a[0] == 0)
		return "unspecified address (0.0.0.0/8)";
	if (a[0] == 127)
		return "loopback address";
	if (v == 0xa9fea9feu || v == 0x646464c8u || v == 0xa83f8110u)
		return "cloud metadata endpoint";
	if (a[0] == 169 && a[1] == 254)
		return "link-local address";
	if (a[0] >= 224 && a[0] <= 239)
		return "multicast address";
	if (v == 0xffffffffu)
		return "broadcast address";
	return NULL;
}

/* Reduce an IPv6 address to an embedded IPv4 one where it has one:
 * IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64 64:ff9b::/96. */
static const unsigned char *embedded_v4(const unsigned char *a)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char compat[12] = {0};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return a + 12;
	if (memcmp(a, compat, 12) == 0 && (a[12] | a[13] | a[14] | a[15]) &&
	    !(a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] == 1))
		return a + 12;
	return NULL;
}

static const char *check_v6(const unsigned char *a)
{
	static const unsigned char any[16] = {0};
	static const unsigned char lo[16] = {[15] = 1};
	static const unsigned char ec2[16] = {0xfd, 0x00, 0x0e, 0xc2, [15] = 0x54, [14] = 0x02};
	if (memcmp(a, any, 16) == 0)
		return "unspecified address (::)";
	if (memcmp(a, lo, 16) == 0)
		return "loopback address";
	if (memcmp(a, ec2, 16) == 0)
		return "cloud metadata endpoint";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local address";
	if (a[0] == 0xff)
		return "multicast address";
	return NULL;
}

const char *srt_guard_check(const srt_guard *g, const struct sockaddr *sa)
{
	addr16 a;     /* IPv4 (given or embedded) in mapped form */
	addr16 asked; /* as given: an IPv6 CIDR may cover this form too */
	const unsigned char *v4 = NULL;
	if (sa->sa_family == AF_INET) {
		v4_to16(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, &a);
		asked = a;
		v4 = a.b + 12;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(asked.b, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		const char *why = check_v6(asked.b);
		if (why)
			return why;
		a = asked;
		v4 = embedded_v4(asked.b);
		if (v4) /* compare the IPv4 it designates, in mapped form */
			v4_to16(v4, &a);
	} else {
		return "not an IP address";
	}
	if (v4) {
		const char *why = check_v4(v4);
		if (why)
			return why;
	}
	for (size_t i = 0; i < g->n_local; i++)
		if (memcmp(g->local[i].b, a.b, 16) == 0)
			return "an address of this host";
	for (size_t i = 0; i < g->n_cidrs; i++) {
		const srt_cidr *c = &g->cidrs[i];
		bool hit = c->family == AF_INET ? (v4 && prefix_eq(v4, c->addr, c->prefix))
						: prefix_eq(asked.b, c->addr, c->prefix) ||
							  prefix_eq(a.b, c->addr, c->prefix);
		if (hit)
			return "in deniedResolvedAddresses";
	}
	return NULL;
}
