/* domain.c - parse and match allowedDomains / deniedDomains patterns
 * (SPEC §5).
 *
 * Pattern forms (each may carry ":PORT", 1..65535):
 *   "example.com"     EXACT     only that name
 *   "*.example.com"   WILDCARD  any subdomain at any depth, not the apex
 *   "*"               ANY       every host ("*:22": every host on port 22)
 *   "192.0.2.1"       IPV4      that literal only
 *   "[2001:db8::1]"   IPV6      that literal only (brackets are required)
 *
 * Names are normalised to lower case with one trailing dot removed.  Names
 * that inet_aton() would read as an IPv4 address but inet_pton() does not
 * ("127.1", "0x7f.1", "2130706433") are rejected as ambiguous, both as
 * patterns and as hosts to match.
 *
 * srt_domain_pattern_parse() sets errno to ENOMEM when it fails for lack of
 * memory and to EINVAL when the pattern is malformed.
 *
 * Matching never allocates.  An IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * is compared as the IPv4 address it designates, on both sides, so that a
 * denied IPv4 literal cannot be reached through its mapped IPv6 form.
 */
#include "domain.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 253
#define LABEL_MAX_LEN 63

static int fail(char *why, size_t why_len, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t why_len, int errnum, const char *fmt, ...)
{
	if (why && why_len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	errno = errnum;
	return -1;
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Check a name (no trailing dot, not empty) against the label rules. */
static int check_name(const char *s, size_t n, char *why, size_t why_len)
{
	if (n > NAME_MAX_LEN)
		return fail(why, why_len, EINVAL,
			    "host name longer than %d characters", NAME_MAX_LEN);
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			char c = s[i];
			if (c == '*')
				return fail(why, why_len, EINVAL,
					    "'*' is only allowed as the whole first "
					    "label, as in \"*.example.com\"");
			if ((unsigned char)c >= 0x80)
				return fail(why, why_len, EINVAL,
					    "non-ASCII character in host name "
					    "(write internationalised names in "
					    "their \"xn--\" form)");
			if (!is_label_char(c)) {
				if (c >= 0x20 && c < 0x7f)
					return fail(why, why_len, EINVAL,
						    "invalid character '%c' in "
						    "host name", c);
				return fail(why, why_len, EINVAL,
					    "invalid character 0x%02x in host "
					    "name", (unsigned)(unsigned char)c);
			}
			continue;
		}
		size_t len = i - start;
		if (len == 0)
			return fail(why, why_len, EINVAL, "empty label");
		if (len > LABEL_MAX_LEN)
			return fail(why, why_len, EINVAL,
				    "label longer than %d characters",
				    LABEL_MAX_LEN);
		if (s[start] == '-' || s[i - 1] == '-')
			return fail(why, why_len, EINVAL,
				    "label starts or ends with '-'");
		start = i + 1;
	}
	return 0;
}

/* s[0..n) after the ':'. */
static int parse_port(const char *s, size_t n, int *out, char *why,
		      size_t why_len)
{
	if (n == 0)
		return fail(why, why_len, EINVAL, "missing port number after ':'");
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return fail(why, why_len, EINVAL,
				    "port must be a number from 1 to 65535");
		if (v <= 65535)
			v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return fail(why, why_len, EINVAL,
			    "port must be a number from 1 to 65535");
	*out = (int)v;
	return 0;
}

static bool ambiguous_ipv4(const char *s)
{
	struct in_addr a;
	return inet_aton(s, &a) != 0;
}

int srt_domain_pattern_parse(const char *text, srt_domain_pattern *out,
			     char *why, size_t why_len)
{
	if (why && why_len > 0)
		why[0] = '\0';
	if (!out)
		return fail(why, why_len, EINVAL, "no output given");
	memset(out, 0, sizeof *out);
	if (!text || text[0] == '\0')
		return fail(why, why_len, EINVAL, "empty pattern");

	size_t len = strlen(text);
	const char *host = text;
	size_t hlen;
	const char *portp = NULL;
	bool bracket = text[0] == '[';

	if (bracket) {
		const char *close = strchr(text, ']');
		if (!close)
			return fail(why, why_len, EINVAL,
				    "missing ']' after bracketed IPv6 address");
		host = text + 1;
		hlen = (size_t)(close - host);
		if (close[1] == ':')
			portp = close + 2;
		else if (close[1] != '\0')
			return fail(why, why_len, EINVAL,
				    "unexpected characters after ']' "
				    "(only \":PORT\" may follow)");
	} else {
		const char *colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':'))
			return fail(why, why_len, EINVAL,
				    "more than one ':'; IPv6 addresses must be "
				    "written in brackets, as in \"[2001:db8::1]\" "
				    "or \"[2001:db8::1]:443\"");
		if (colon) {
			hlen = (size_t)(colon - text);
			portp = colon + 1;
		} else {
			hlen = len;
		}
	}

	int port = 0;
	if (portp && parse_port(portp, len - (size_t)(portp - text), &port,
				why, why_len) < 0)
		return -1;

	srt_domain_kind kind;
	char *norm = NULL;
	unsigned char addr[16] = {0};

	if (bracket) {
		char buf[INET6_ADDRSTRLEN + 1];
		if (hlen == 0)
			return fail(why, why_len, EINVAL,
				    "empty IPv6 address in brackets");
		if (hlen >= sizeof buf)
			return fail(why, why_len, EINVAL,
				    "invalid IPv6 address in brackets");
		memcpy(buf, host, hlen);
		buf[hlen] = '\0';
		if (inet_pton(AF_INET6, buf, addr) != 1) {
			struct in_addr a4;
			if (inet_pton(AF_INET, buf, &a4) == 1)
				return fail(why, why_len, EINVAL,
					    "IPv4 addresses are written without "
					    "brackets");
			return fail(why, why_len, EINVAL,
				    "invalid IPv6 address in brackets");
		}
		char canon[INET6_ADDRSTRLEN];
		if (!inet_ntop(AF_INET6, addr, canon, sizeof canon))
			return fail(why, why_len, EINVAL,
				    "invalid IPv6 address in brackets");
		norm = strdup(canon);
		if (!norm)
			return fail(why, why_len, ENOMEM, "out of memory");
		kind = SRT_DOMAIN_IPV6;
	} else if (hlen == 0) {
		return fail(why, why_len, EINVAL, "empty host name before ':'");
	} else if (hlen == 1 && host[0] == '*') {
		kind = SRT_DOMAIN_ANY;
	} else {
		bool wild = hlen >= 2 && host[0] == '*' && host[1] == '.';
		const char *name = wild ? host + 2 : host;
		size_t nlen = wild ? hlen - 2 : hlen;
		if (wild && nlen == 0)
			return fail(why, why_len, EINVAL,
				    "'*.' must be followed by a domain name, as "
				    "in \"*.example.com\"");
		if (name[nlen - 1] == '.')
			nlen--; /* one trailing dot */
		if (nlen == 0)
			return fail(why, why_len, EINVAL, "empty label");
		if (nlen > NAME_MAX_LEN)
			return fail(why, why_len, EINVAL,
				    "host name longer than %d characters",
				    NAME_MAX_LEN);
		norm = malloc(nlen + 1);
		if (!norm)
			return fail(why, why_len, ENOMEM, "out of memory");
		for (size_t i = 0; i < nlen; i++)
			norm[i] = ascii_lower(name[i]);
		norm[nlen] = '\0';
		/* A NUL inside the host part cannot happen (text is a C
		 * string), so norm has exactly nlen characters. */

		if (inet_pton(AF_INET, norm, addr) == 1) {
			if (wild) {
				free(norm);
				return fail(why, why_len, EINVAL,
					    "'*.' cannot be applied to an IP "
					    "address");
			}
			kind = SRT_DOMAIN_IPV4;
		} else {
			if (check_name(norm, nlen, why, why_len) < 0) {
				free(norm);
				return -1;
			}
			if (ambiguous_ipv4(norm)) {
				free(norm);
				return fail(why, why_len, EINVAL,
					    "ambiguous: not a host name, but "
					    "some programs read it as an IPv4 "
					    "address; write the address as "
					    "four decimal numbers, as in "
					    "\"192.0.2.1\"");
			}
			kind = wild ? SRT_DOMAIN_WILDCARD : SRT_DOMAIN_EXACT;
		}
	}

	char *copy = strdup(text);
	if (!copy) {
		free(norm);
		return fail(why, why_len, ENOMEM, "out of memory");
	}
	out->text = copy;
	out->kind = kind;
	out->host = norm;
	memcpy(out->addr, addr, sizeof out->addr);
	out->port = port;
	return 0;
}

void srt_domain_pattern_free(srt_domain_pattern *p)
{
	if (!p)
		return;
	free(p->text);
	free(p->host);
	p->text = NULL;
	p->host = NULL;
}

/* ---- matching ------------------------------------------------------- */

typedef enum host_class {
	HOST_NAME,
	HOST_IP4,
	HOST_IP6,
} host_class;

typedef struct host_info {
	host_class cls;
	const char *name; /* HOST_NAME: points into the caller's string */
	size_t len;       /* HOST_NAME: without the trailing dot */
	unsigned char addr[16];
} host_info;

/* ::ffff:a.b.c.d designates the IPv4 address a.b.c.d. */
static bool is_v4_mapped(const unsigned char a[16])
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0,
						 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a, prefix, sizeof prefix) == 0;
}

static void canon_ip6(host_info *h)
{
	if (is_v4_mapped(h->addr)) {
		memmove(h->addr, h->addr + 12, 4);
		memset(h->addr + 4, 0, 12);
		h->cls = HOST_IP4;
	}
}

static bool classify_host(const char *host, host_info *h)
{
	/* Longest acceptable form is a 253-character name plus a dot. */
	char buf[NAME_MAX_LEN + 2];
	size_t len = strnlen(host, sizeof buf);
	if (len == 0 || len >= sizeof buf)
		return false;

	memset(h, 0, sizeof *h);
	if (host[0] == '[') {
		if (len < 3 || host[len - 1] != ']')
			return false;
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, h->addr) != 1)
			return false;
		h->cls = HOST_IP6;
		canon_ip6(h);
		return true;
	}
	if (memchr(host, ':', len)) {
		memcpy(buf, host, len + 1);
		if (inet_pton(AF_INET6, buf, h->addr) != 1)
			return false;
		h->cls = HOST_IP6;
		canon_ip6(h);
		return true;
	}

	if (host[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	memcpy(buf, host, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, h->addr) == 1) {
		h->cls = HOST_IP4;
		return true;
	}
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && buf[i] != '.') {
			if (!is_label_char(buf[i]))
				return false;
			continue;
		}
		if (i == start || i - start > LABEL_MAX_LEN)
			return false;
		start = i + 1;
	}
	if (ambiguous_ipv4(buf))
		return false;
	h->cls = HOST_NAME;
	h->name = host;
	h->len = len;
	return true;
}

/* Case-insensitive compare of s[0..n) with the lower-case string p[0..n). */
static bool name_eq(const char *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s[i]) != p[i])
			return false;
	return true;
}

static bool ip_match(const srt_domain_pattern *p, const host_info *h)
{
	host_class pc = p->kind == SRT_DOMAIN_IPV4 ? HOST_IP4 : HOST_IP6;
	const unsigned char *pa = p->addr;
	if (pc == HOST_IP6 && is_v4_mapped(pa)) {
		pc = HOST_IP4;
		pa += 12;
	}
	if (pc != h->cls)
		return false;
	return memcmp(pa, h->addr, pc == HOST_IP4 ? 4 : 16) == 0;
}

bool srt_domain_pattern_match(const srt_domain_pattern *p, const char *host,
			      int port)
{
	if (!p || !host || port < 0 || port > 65535)
		return false;
	if (p->port != 0 && p->port != port)
		return false;

	host_info h;
	if (!classify_host(host, &h))
		return false;

	switch (p->kind) {
	case SRT_DOMAIN_ANY:
		return true;
	case SRT_DOMAIN_EXACT: {
		if (h.cls != HOST_NAME || !p->host)
			return false;
		size_t pl = strlen(p->host);
		return h.len == pl && name_eq(h.name, p->host, pl);
	}
	case SRT_DOMAIN_WILDCARD: {
		if (h.cls != HOST_NAME || !p->host)
			return false;
		size_t pl = strlen(p->host);
		/* at least one label, then '.', then the suffix */
		if (h.len < pl + 2 || h.name[h.len - pl - 1] != '.')
			return false;
		return name_eq(h.name + h.len - pl, p->host, pl);
	}
	case SRT_DOMAIN_IPV4:
	case SRT_DOMAIN_IPV6:
		if (h.cls == HOST_NAME)
			return false;
		return ip_match(p, &h);
	default:
		return false;
	}
}
