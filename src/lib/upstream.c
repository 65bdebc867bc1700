/* upstream.c - network.parentProxy (see upstream.h): the parent proxy URLs,
 * the fallback to srt's own environment, the noProxy matcher, the CONNECT
 * request and the judgement of its reply. */
#include "upstream.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct range16 {
	unsigned char addr[16]; /* IPv4 as ::ffff:a.b.c.d, so it matches both spellings */
	unsigned prefix;        /* 0..128 */
} range16;

struct srt_upstream {
	srt_parent http, https;
	bool has_http, has_https;
	char *no_proxy; /* as given */
	bool all;       /* "*" */
	range16 *ranges;
	size_t n_ranges;
	srt_strv suffixes; /* lower case; a leading "." kept */
};

/* ---- URLs -------------------------------------------------------------- */

static void set_why(char *why, size_t len, const char *msg)
{
	if (why && len)
		snprintf(why, len, "%s", msg);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..n) into out (a malformed escape stays as written,
 * as in the reference); the decoded length. */
static size_t pct_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int a, b;
		if (s[i] == '%' && i + 2 < n && (a = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (b = hexval((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(a * 16 + b);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

static char *base64(const unsigned char *in, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* "Basic base64(user:password)" from the URL's userinfo (raw, undecoded).
 * A decoded NUL ends neither part: lengths are counted, not strings. */
static char *basic_auth(const char *ui, size_t n)
{
	const char *colon = memchr(ui, ':', n);
	size_t ul = colon ? (size_t)(colon - ui) : n;
	char *plain = malloc(n + 2);
	if (!plain)
		return NULL;
	size_t o = pct_decode(ui, ul, plain);
	plain[o++] = ':';
	if (colon)
		o += pct_decode(colon + 1, n - ul - 1, plain + o);
	char *b = base64((const unsigned char *)plain, o);
	free(plain);
	if (!b)
		return NULL;
	char *r = srt_asprintf("Basic %s", b);
	free(b);
	return r;
}

static bool name_char(int c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* A plain DNS name (the reference's isValidHost charset) or IP literal. */
static bool valid_host(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > SRT_PARENT_HOST_MAX)
		return false;
	unsigned char a[16];
	if (strchr(h, ':'))
		return inet_pton(AF_INET6, h, a) == 1;
	for (size_t i = 0; i < n; i++)
		if (!name_char((unsigned char)h[i]))
			return false;
	return true;
}

void srt_parent_clear(srt_parent *p)
{
	free(p->auth);
	free(p->shown);
	memset(p, 0, sizeof *p);
}

int srt_parent_parse(const char *url, srt_parent *out, char *why, size_t why_len)
{
	memset(out, 0, sizeof *out);
	if (strlen(url) > 2048) {
		set_why(why, why_len, "the parent proxy URL is longer than 2048 bytes");
		return SRT_PARENT_BAD;
	}
	for (const unsigned char *u = (const unsigned char *)url; *u; u++)
		if (*u <= 0x20 || *u >= 0x7f) {
			set_why(why, why_len, "contains a space, a control or a non-ASCII character");
			return SRT_PARENT_BAD;
		}
	const char *s = url;
	const char *sep = strstr(url, "://");
	size_t sl = sep ? (size_t)(sep - url) : 0;
	bool has_scheme = sep && sl > 0 && isalpha((unsigned char)url[0]);
	for (size_t i = 0; has_scheme && i < sl; i++)
		has_scheme = isalnum((unsigned char)url[i]) || strchr("+.-", url[i]);
	if (has_scheme) {
		if (sl == 5 && strncasecmp(url, "https", 5) == 0) {
			set_why(why, why_len, "a parent proxy reached over TLS (https://) is not supported "
					      "yet by srt in C; give the proxy's http:// address");
			return SRT_PARENT_NO_TLS;
		}
		if (!(sl == 4 && strncasecmp(url, "http", 4) == 0)) {
			set_why(why, why_len, "the parent proxy URL must start with http://");
			return SRT_PARENT_BAD;
		}
		s = sep + 3;
	}
	/* the authority ends at the path, query or fragment (ignored) */
	size_t al = strcspn(s, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < al; i++)
		if (s[i] == '@')
			at = s + i; /* the last one, as WHATWG URL takes it */
	const char *hp = at ? at + 1 : s;
	size_t hl = al - (size_t)(hp - s);
	const char *port = NULL;
	size_t host_len;
	const char *host = hp;
	if (hl > 0 && hp[0] == '[') {
		const char *close = memchr(hp, ']', hl);
		if (!close) {
			set_why(why, why_len, "an IPv6 address needs its closing \"]\"");
			return SRT_PARENT_BAD;
		}
		host = hp + 1;
		host_len = (size_t)(close - host);
		size_t rest = hl - (size_t)(close + 1 - hp);
		if (rest > 0 && close[1] != ':') {
			set_why(why, why_len, "unexpected characters after the IPv6 address");
			return SRT_PARENT_BAD;
		}
		if (rest > 0)
			port = close + 2;
	} else {
		const char *colon = memchr(hp, ':', hl);
		host_len = colon ? (size_t)(colon - hp) : hl;
		if (colon)
			port = colon + 1;
	}
	if (host_len == 0 || host_len > SRT_PARENT_HOST_MAX) {
		set_why(why, why_len, host_len ? "the host name is too long" : "no host");
		return SRT_PARENT_BAD;
	}
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	for (char *c = out->host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!valid_host(out->host) || (hp[0] == '[' && !strchr(out->host, ':'))) {
		set_why(why, why_len, "the host is not a plain host name or IP address");
		return SRT_PARENT_BAD;
	}
	out->port = 80;
	if (port) {
		size_t pl = al - (size_t)(port - s);
		unsigned long v = 0;
		for (size_t i = 0; i < pl; i++) {
			if (!isdigit((unsigned char)port[i]) || v > 65535) {
				set_why(why, why_len, "the port must be a number from 1 to 65535");
				return SRT_PARENT_BAD;
			}
			v = v * 10 + (unsigned long)(port[i] - '0');
		}
		if (pl > 0 && (v < 1 || v > 65535)) {
			set_why(why, why_len, "the port must be a number from 1 to 65535");
			return SRT_PARENT_BAD;
		}
		if (pl > 0)
			out->port = (int)v;
	}
	bool v6 = strchr(out->host, ':') != NULL;
	out->shown = srt_asprintf("http://%s%s%s%s:%d", at ? "***@" : "", v6 ? "[" : "", out->host,
				  v6 ? "]" : "", out->port);
	if (at && at > s)
		out->auth = basic_auth(s, (size_t)(at - s));
	if (!out->shown || (at && at > s && !out->auth)) {
		srt_parent_clear(out);
		set_why(why, why_len, "out of memory");
		return SRT_PARENT_BAD;
	}
	return 0;
}

/* ---- noProxy ------------------------------------------------------------ */

/* An IP literal (unbracketed) as 16 bytes, IPv4 mapped; its full prefix. */
static bool addr16(const char *s, unsigned char out[16], unsigned *full)
{
	unsigned char v4[4];
	if (inet_pton(AF_INET, s, v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, v4, 4);
		*full = 128;
		return true;
	}
	char tmp[INET6_ADDRSTRLEN + 1];
	size_t n = strcspn(s, "%"); /* a zone id is dropped, as in the reference */
	if (n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*full = 128;
	return inet_pton(AF_INET6, tmp, out) == 1;
}

static bool is_v4_mapped(const unsigned char a[16])
{
	static const unsigned char pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a, pre, 12) == 0;
}

/* "10.0.0.0/8", "fd00::/8", "::ffff:10.0.0.0/104" or a bare literal. */
static bool parse_range(const char *e, range16 *r)
{
	char a[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(e, '/');
	size_t al = slash ? (size_t)(slash - e) : strlen(e);
	if (al == 0 || al >= sizeof a)
		return false;
	memcpy(a, e, al);
	a[al] = '\0';
	unsigned full;
	if (!addr16(a, r->addr, &full))
		return false;
	bool v4 = strchr(a, ':') == NULL;
	r->prefix = full;
	if (slash) {
		unsigned v;
		if (!srt_parse_prefix_len(slash + 1, v4 ? 32u : 128u, &v))
			return false;
		r->prefix = v4 ? v + 96 : v;
		/* a mapped IPv6 range shorter than the mapping covers more than
		 * IPv4: the reference refuses it */
		if (!v4 && is_v4_mapped(r->addr) && v < 96)
			return false;
	}
	return true;
}

static bool in_range(const range16 *r, const unsigned char a[16])
{
	unsigned full = r->prefix / 8, rest = r->prefix % 8;
	if (memcmp(r->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff00u >> rest);
	return (r->addr[full] & mask) == (a[full] & mask);
}

static int add_entry(srt_upstream *u, const char *entry)
{
	if (strcmp(entry, "*") == 0) {
		u->all = true;
		return 0;
	}
	range16 r;
	if (strchr(entry, '/')) { /* a malformed CIDR is ignored, not a suffix */
		if (!parse_range(entry, &r))
			return 0;
		goto add_range;
	}
	char v[512];
	snprintf(v, sizeof v, "%s", entry);
	for (char *c = v; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	char *s = v;
	if (s[0] == '[') { /* "[v6]" or "[v6]:port" */
		char *close = strchr(s, ']');
		bool tail_ok = close && (close[1] == '\0' || close[1] == ':');
		for (char *p = close && close[1] ? close + 2 : NULL; tail_ok && p && *p; p++)
			tail_ok = isdigit((unsigned char)*p);
		if (tail_ok) {
			*close = '\0';
			s++;
		}
	}
	if (s[0] == '*' && s[1] == '.')
		s++; /* "*.example.com" is ".example.com" */
	unsigned full;
	unsigned char tmp[16];
	if (addr16(s, tmp, &full)) {
		if (parse_range(s, &r))
			goto add_range;
	} else {
		char *colon = strrchr(s, ':');
		if (colon && colon[1]) {
			bool digits = true;
			for (char *p = colon + 1; *p; p++)
				digits = digits && isdigit((unsigned char)*p);
			if (digits)
				*colon = '\0';
		}
	}
	return srt_strv_push(&u->suffixes, s);
add_range:;
	range16 *nr = realloc(u->ranges, (u->n_ranges + 1) * sizeof *nr);
	if (!nr)
		return -1;
	u->ranges = nr;
	u->ranges[u->n_ranges++] = r;
	return 0;
}

static int parse_no_proxy(srt_upstream *u, const char *raw)
{
	const char *p = raw;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *a = p, *z = p + n;
		while (a < z && isspace((unsigned char)*a))
			a++;
		while (z > a && isspace((unsigned char)z[-1]))
			z--;
		if (z > a) {
			char *e = strndup(a, (size_t)(z - a));
			if (!e || add_entry(u, e) < 0) {
				free(e);
				return -1;
			}
			free(e);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static bool ends_with(const char *s, size_t n, const char *suf, size_t m)
{
	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

bool srt_upstream_bypass(const srt_upstream *u, const char *host)
{
	char h[SRT_PARENT_HOST_MAX + 3];
	snprintf(h, sizeof h, "%s", host);
	for (char *c = h; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	size_t n = strlen(h);
	if (n > 0 && h[n - 1] == '.')
		h[--n] = '\0';
	char *s = h;
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h[--n] = '\0';
		s++;
		n--;
	}
	unsigned char a[16];
	unsigned full;
	bool ip = addr16(s, a, &full);
	/* loopback always goes directly (and then meets the guard) */
	static const unsigned char lo6[16] = {[15] = 1};
	if (strcmp(s, "localhost") == 0 || (ip && ((is_v4_mapped(a) && a[12] == 127) ||
						   memcmp(a, lo6, 16) == 0)))
		return true;
	if (u->all)
		return true;
	for (size_t i = 0; ip && i < u->n_ranges; i++)
		if (in_range(&u->ranges[i], a))
			return true;
	for (size_t i = 0; i < u->suffixes.n; i++) {
		const char *v = u->suffixes.v[i];
		size_t m = strlen(v);
		if (v[0] == '.') {
			if ((n == m - 1 && memcmp(s, v + 1, n) == 0) || ends_with(s, n, v, m))
				return true;
		} else if ((n == m && memcmp(s, v, n) == 0) ||
			   (n > m && ends_with(s, n, v, m) && s[n - m - 1] == '.')) {
			return true;
		}
	}
	return false;
}

const srt_parent *srt_upstream_route(const srt_upstream *u, const char *host, bool tunnel)
{
	const srt_parent *p = u ? srt_upstream_parent(u, tunnel) : NULL;
	return p && !srt_upstream_bypass(u, host) ? p : NULL;
}

const srt_parent *srt_upstream_parent(const srt_upstream *u, bool tunnel)
{
	if (tunnel && u->has_https)
		return &u->https;
	return u->has_http ? &u->http : NULL;
}

const char *srt_upstream_no_proxy(const srt_upstream *u)
{
	return u->no_proxy;
}

/* ---- resolution ------------------------------------------------------- */

/* The first of the names that is in env (empty counts: the reference's
 * `??` takes an empty variable as set). */
static const char *env_get(char *const *env, const char *a, const char *b, const char **from)
{
	const char *names[2] = {a, b};
	for (size_t k = 0; k < 2; k++) {
		size_t l = strlen(names[k]);
		for (size_t i = 0; env && env[i]; i++)
			if (strncmp(env[i], names[k], l) == 0 && env[i][l] == '=') {
				*from = names[k];
				return env[i] + l + 1;
			}
	}
	return NULL;
}

/* 1: parsed into p; 0: nothing usable (a warning for the environment). */
static int take(const char *value, const char *from, bool in_settings, srt_parent *p,
		srt_strv *warnings, srt_error *err)
{
	if (!value || !value[0])
		return 0;
	char why[200];
	int r = srt_parent_parse(value, p, why, sizeof why);
	if (r == 0)
		return 1;
	if (in_settings)
		return srt_fail(err, SRT_E_CONFIG, "network.parentProxy.%s: %s", from, why);
	if (r == SRT_PARENT_NO_TLS)
		return srt_fail(err, SRT_E_CONFIG, "%s in srt's environment: %s", from, why);
	if (warnings && srt_strv_push_owned(warnings, srt_asprintf("%s in srt's environment is not a "
								   "usable parent proxy URL (%s); ignored",
								   from, why)) < 0)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	return 0;
}

int srt_upstream_new(const char *http, const char *https, const char *no_proxy,
		     char *const *env, srt_upstream **out, srt_strv *warnings, srt_error *err)
{
	*out = NULL;
	const char *http_from = "http", *https_from = "https", *np_from = "noProxy";
	const char *hv = http ? http : env_get(env, "HTTP_PROXY", "http_proxy", &http_from);
	const char *sv = https ? https : env_get(env, "HTTPS_PROXY", "https_proxy", &https_from);
	const char *nv = no_proxy ? no_proxy : env_get(env, "NO_PROXY", "no_proxy", &np_from);
	if ((!hv || !hv[0]) && (!sv || !sv[0]))
		return 0;
	srt_upstream *u = calloc(1, sizeof *u);
	if (!u)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	int a = take(hv, http_from, http != NULL, &u->http, warnings, err);
	int b = a < 0 ? -1 : take(sv, https_from, https != NULL, &u->https, warnings, err);
	u->has_http = a == 1;
	u->has_https = b == 1;
	u->no_proxy = strdup(nv ? nv : "");
	if (a < 0 || b < 0 || !u->no_proxy || parse_no_proxy(u, u->no_proxy) < 0) {
		if (a >= 0 && b >= 0)
			srt_fail(err, SRT_E_NOMEM, "out of memory");
		srt_upstream_free(u);
		return -1;
	}
	if (!u->has_http && !u->has_https) { /* both ignored: as if unset */
		srt_upstream_free(u);
		return 0;
	}
	*out = u;
	return 0;
}

void srt_upstream_free(srt_upstream *u)
{
	if (!u)
		return;
	srt_parent_clear(&u->http);
	srt_parent_clear(&u->https);
	free(u->no_proxy);
	free(u->ranges);
	srt_strv_clear(&u->suffixes);
	free(u);
}

/* ---- CONNECT -------------------------------------------------------- */

int srt_upstream_connect_head(const srt_parent *p, const char *host, int port, char *out,
			      size_t cap)
{
	if (!valid_host(host) || port < 1 || port > 65535)
		return -1;
	bool v6 = strchr(host, ':') != NULL;
	/* the credentials are as long as the URL allows (a token as the
	 * password is common): no buffer of their own (SRT_PARENT_MAX_HEAD) */
	int n = snprintf(out, cap, "CONNECT %s%s%s:%d HTTP/1.1\r\nHost: %s%s%s:%d\r\n%s%s%s\r\n",
			 v6 ? "[" : "", host, v6 ? "]" : "", port, v6 ? "[" : "", host, v6 ? "]" : "",
			 port, p->auth ? "Proxy-Authorization: " : "", p->auth ? p->auth : "",
			 p->auth ? "\r\n" : "");
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int srt_upstream_reply(const char *p, size_t n, srt_parent_reply *r)
{
	*r = (srt_parent_reply){0};
	size_t lim = n < SRT_PARENT_MAX_REPLY ? n : SRT_PARENT_MAX_REPLY;
	const char *eol = memmem(p, lim, "\r\n", 2);
	if (!eol)
		return n >= SRT_PARENT_MAX_REPLY ? SRT_PARENT_TOO_BIG : SRT_PARENT_MORE;
	/* The status line decides at once: "HTTP/1.0 " or "HTTP/1.1 ", three
	 * digits, then the end of the line or a space (the reference's test). */
	r->line_len = (size_t)(eol - p);
	const char *l = p;
	size_t ll = r->line_len;
	bool http = ll >= 12 && memcmp(l, "HTTP/1.", 7) == 0 && (l[7] == '0' || l[7] == '1') &&
		    l[8] == ' ' && isdigit((unsigned char)l[9]) && isdigit((unsigned char)l[10]) &&
		    isdigit((unsigned char)l[11]) && (ll == 12 || isspace((unsigned char)l[12]));
	if (http)
		r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	if (r->status < 200 || r->status > 299)
		return SRT_PARENT_REFUSED;
	/* the head ends at the first empty line (the status line's own CRLF
	 * may be the start of it) */
	const char *end = memmem(eol, lim - r->line_len, "\r\n\r\n", 4);
	if (!end)
		return n >= SRT_PARENT_MAX_REPLY ? SRT_PARENT_TOO_BIG : SRT_PARENT_MORE;
	r->head_len = (size_t)(end - p) + 4;
	return SRT_PARENT_OK;
}
