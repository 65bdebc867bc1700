/* fuzz_guard.c - libFuzzer harness for the resolved-address guard, which
 * judges addresses a DNS server (untrusted) hands to the proxies.
 *
 * Input: records of 18 bytes, each a deniedResolvedAddresses CIDR (family
 * bit, prefix length, 16 address bytes), and a last record that is the
 * address to judge.  What must hold for every input:
 *  - an address inside a denied CIDR is refused, in every form: an IPv4
 *    address, its IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64,
 *    6to4 and local-use NAT64 (64:ff9b:1::/48, each RFC 6052 layout) IPv6
 *    forms;
 *  - an IPv4 address is judged like its IPv4-mapped form, and whatever
 *    refuses it refuses its other IPv6 forms too;
 *  - loopback, unspecified, link-local and multicast addresses are refused
 *    in every form;
 *  - families other than IPv4 and IPv6 are refused. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                        \
	do {                            \
		if (!(x))               \
			__builtin_trap(); \
	} while (0)

#define RECORD 18
#define MAX_CIDRS 16

static const char *judge4(const srt_guard *g, const unsigned char *v4)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(443)};
	memcpy(&sin.sin_addr, v4, 4);
	const char *why = srt_guard_check(g, (const struct sockaddr *)&sin);
	CHECK(!why || why[0]);
	return why;
}

static const char *judge6(const srt_guard *g, const unsigned char *v6)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	memcpy(&sin6.sin6_addr, v6, 16);
	const char *why = srt_guard_check(g, (const struct sockaddr *)&sin6);
	CHECK(!why || why[0]);
	return why;
}

static bool in_prefix(const unsigned char *a, const unsigned char *net, unsigned bits)
{
	for (unsigned i = 0; i < bits; i++) {
		unsigned char m = (unsigned char)(0x80 >> (i % 8));
		if ((a[i / 8] & m) != (net[i / 8] & m))
			return false;
	}
	return true;
}

#define N_FORMS 9

/* The IPv6 forms of an IPv4 address: mapped, NAT64, compatible, then
 * IPv4-translated, 6to4, and the local-use NAT64 prefix 64:ff9b:1::/48 in
 * each RFC 6052 layout (/96, /64, /56, /48). */
static void v6_forms(const unsigned char *v4, unsigned char forms[N_FORMS][16])
{
	static const unsigned char at[4][4] = {
		{12, 13, 14, 15}, {9, 10, 11, 12}, {7, 9, 10, 11}, {6, 7, 9, 10}};
	memset(forms, 0, N_FORMS * 16);
	forms[0][10] = forms[0][11] = 0xff;
	forms[1][1] = 0x64;
	forms[1][2] = 0xff;
	forms[1][3] = 0x9b;
	forms[3][8] = forms[3][9] = 0xff;
	for (int f = 0; f < 4; f++)
		memcpy(forms[f] + 12, v4, 4);
	forms[4][0] = 0x20;
	forms[4][1] = 0x02;
	memcpy(forms[4] + 2, v4, 4);
	for (int l = 0; l < 4; l++) {
		unsigned char *f = forms[5 + l];
		f[1] = 0x64;
		f[2] = 0xff;
		f[3] = 0x9b;
		f[5] = 1;
		for (int i = 0; i < 4; i++)
			f[at[l][i]] = v4[i];
	}
}

static bool always_refused_v4(const unsigned char *a)
{
	return a[0] == 0 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
	       (a[0] >= 224 && a[0] <= 239);
}

static void check_v4(const srt_guard *g, const srt_cidr *c, size_t n, const unsigned char *v4)
{
	const char *why = judge4(g, v4);
	unsigned char forms[N_FORMS][16];
	v6_forms(v4, forms);
	/* the mapped form is the same address */
	CHECK(!why == !judge6(g, forms[0]));
	/* ::0.0.0.1 is ::1, refused anyway; the local-use prefix drops
	 * 0.0.0.0/8 readings (guard.c says why) */
	for (int f = 1; why && f < N_FORMS; f++)
		CHECK((f >= 5 && v4[0] == 0) || judge6(g, forms[f]));
	if (always_refused_v4(v4))
		CHECK(why);
	for (size_t i = 0; i < n; i++)
		if (c[i].family == AF_INET && in_prefix(v4, c[i].addr, c[i].prefix))
			CHECK(why);
}

static void check_v6(const srt_guard *g, const srt_cidr *c, size_t n, const unsigned char *v6)
{
	const char *why = judge6(g, v6);
	static const unsigned char lo[16] = {[15] = 1};
	if (memcmp(v6, lo, 16) == 0 || v6[0] == 0xff ||
	    (v6[0] == 0xfe && (v6[1] & 0xc0) == 0x80))
		CHECK(why);
	for (size_t i = 0; i < n; i++)
		if (c[i].family == AF_INET6 && in_prefix(v6, c[i].addr, c[i].prefix))
			CHECK(why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < RECORD)
		return 0;
	size_t n = size / RECORD - 1;
	if (n > MAX_CIDRS)
		n = MAX_CIDRS;
	srt_cidr cidrs[MAX_CIDRS];
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = data + i * RECORD;
		srt_cidr *c = &cidrs[i];
		c->family = r[0] & 1 ? AF_INET6 : AF_INET;
		c->prefix = r[1] % (c->family == AF_INET ? 33u : 129u);
		/* as config.c stores them: host bits cleared */
		memset(c->addr, 0, sizeof c->addr);
		for (unsigned b = 0; b < c->prefix; b++)
			c->addr[b / 8] |= r[2 + b / 8] & (0x80 >> (b % 8));
	}
	srt_config cfg = {0};
	cfg.denied_resolved = cidrs;
	cfg.n_denied_resolved = n;
	srt_error err = {0};
	srt_guard *g = srt_guard_new(&cfg, &err);
	CHECK(g);

	const uint8_t *a = data + n * RECORD;
	check_v6(g, cidrs, n, a + 2);
	check_v4(g, cidrs, n, a + 2);
	check_v4(g, cidrs, n, a + 14);

	struct sockaddr_storage other = {.ss_family = (sa_family_t)(a[0] | a[1] << 8)};
	if (other.ss_family != AF_INET && other.ss_family != AF_INET6)
		CHECK(srt_guard_check(g, (const struct sockaddr *)&other));

	srt_guard_free(g);
	return 0;
}
