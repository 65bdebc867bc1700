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
	/* 169.254.169.254, 100.100.100.200, 168.63.129.16, 192.0.0.192 */
	if (v == 0xa9fea9feu || v == 0x646464c8u || v == 0xa83f8110u || v == 0xc00000c0u)
		return "cloud metadata endpoint";
	if (a[0] == 169 && a[1] == 254)
		return "link-local address";
	if (a[0] >= 224 && a[0] <= 239)
		return "multicast address";
	if (v == 0xffffffffu)
		return "broadcast address";
	return NULL;
}

/* Most IPv4 addresses one IPv6 address can be read as carrying. */
#define MAX_EMBEDDED 4

/* The IPv4 addresses an IPv6 address may lead to through a translator or
 * tunnel, each judged as if it had been the answer:
 *  - IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, IPv4-translated
 *    ::ffff:0:0:0/96 (SIIT), NAT64 well-known prefix 64:ff9b::/96: the last
 *    32 bits;
 *  - 6to4 2002::/16: bits 16-47, the relay the packet is tunnelled to;
 *  - the local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215): an operator may
 *    carve a /48, /56, /64 or /96 translation prefix out of it, and RFC 6052
 *    puts the IPv4 address at a different place for each (skipping the
 *    u-octet, bits 64-71).  The address alone does not say which one the
 *    network uses, so every layout is read and any denied reading refuses
 *    it: a wrong guess can only refuse, never admit.  Except that a
 *    reading in 0.0.0.0/8 is dropped: it is what the zero bits around the
 *    IPv4 address of any one layout read as in another (64:ff9b:1::/96
 *    read as a /48 prefix, and the other way round), and keeping it would
 *    refuse every translation of either, while a translator has no
 *    0.0.0.0/8 destination to send such an address to. */
static size_t embedded_v4(const unsigned char *a, unsigned char out[MAX_EMBEDDED][4])
{
	static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
	static const unsigned char translated[12] = {[8] = 0xff, [9] = 0xff};
	static const unsigned char compat[12] = {0};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	static const unsigned char local_nat64[6] = {0, 0x64, 0xff, 0x9b, 0, 1};
	/* RFC 6052 §2.2: the bytes holding the IPv4 address, per prefix length */
	static const unsigned char layouts[][4] = {
		{6, 7, 9, 10},   /* /48 */
		{7, 9, 10, 11},  /* /56 */
		{9, 10, 11, 12}, /* /64 */
		{12, 13, 14, 15} /* /96 */
	};
	size_t n = 0;
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, translated, 12) == 0 ||
	    memcmp(a, compat, 12) == 0 || memcmp(a, nat64, 12) == 0) {
		memcpy(out[n++], a + 12, 4);
	} else if (a[0] == 0x20 && a[1] == 0x02) {
		memcpy(out[n++], a + 2, 4);
	} else if (memcmp(a, local_nat64, sizeof local_nat64) == 0) {
		for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
			for (int i = 0; i < 4; i++)
				out[n][i] = a[layouts[l][i]];
			if (out[n][0] != 0)
				n++;
		}
	}
	return n;
}

static const char *check_v6(const unsigned char *a)
{
	static const unsigned char any[16] = {0};
	static const unsigned char lo[16] = {[15] = 1};
	static const unsigned char ec2[4] = {0xfd, 0x00, 0x0e, 0xc2}; /* fd00:ec2::/32 */
	/* the other IPv6 metadata endpoints the reference denies:
	 * fd20:ce::254, fd00:c1::a9fe:a9fe, fd00:42::42 */
	static const unsigned char meta[][16] = {
		{0xfd, 0x20, 0x00, 0xce, [14] = 0x02, [15] = 0x54},
		{0xfd, 0x00, 0x00, 0xc1, [12] = 0xa9, 0xfe, 0xa9, 0xfe},
		{0xfd, 0x00, 0x00, 0x42, [15] = 0x42},
	};
	if (memcmp(a, any, 16) == 0)
		return "unspecified address (::)";
	if (memcmp(a, lo, 16) == 0)
		return "loopback address";
	if (memcmp(a, ec2, sizeof ec2) == 0)
		return "cloud metadata endpoint";
	for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
		if (memcmp(a, meta[i], 16) == 0)
			return "cloud metadata endpoint";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local address";
	if (a[0] == 0xff)
		return "multicast address";
	return NULL;
}

const char *srt_guard_check(const srt_guard *g, const struct sockaddr *sa)
{
	/* forms[0]: the address as given (IPv4 in mapped form); then the
	 * mapped form of each IPv4 address it embeds, so that an IPv6 entry
	 * and a host address match whichever form they were written in. */
	addr16 forms[1 + MAX_EMBEDDED];
	unsigned char v4[MAX_EMBEDDED][4];
	size_t n_v4;
	if (sa->sa_family == AF_INET) {
		memcpy(v4[0], &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		n_v4 = 1;
		v4_to16(v4[0], &forms[0]);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(forms[0].b, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		const char *why = check_v6(forms[0].b);
		if (why)
			return why;
		n_v4 = embedded_v4(forms[0].b, v4);
	} else {
		return "not an IP address";
	}
	size_t n_forms = 1;
	for (size_t k = 0; k < n_v4; k++) {
		const char *why = check_v4(v4[k]);
		if (why)
			return why;
		v4_to16(v4[k], &forms[n_forms++]);
	}
	for (size_t f = 0; f < n_forms; f++)
		for (size_t i = 0; i < g->n_local; i++)
			if (memcmp(g->local[i].b, forms[f].b, 16) == 0)
				return "an address of this host";
	for (size_t i = 0; i < g->n_cidrs; i++) {
		const srt_cidr *c = &g->cidrs[i];
		if (c->family == AF_INET) {
			for (size_t k = 0; k < n_v4; k++)
				if (prefix_eq(v4[k], c->addr, c->prefix))
					return "in deniedResolvedAddresses";
		} else {
			for (size_t f = 0; f < n_forms; f++)
				if (prefix_eq(forms[f].b, c->addr, c->prefix))
					return "in deniedResolvedAddresses";
		}
	}
	return NULL;
}
