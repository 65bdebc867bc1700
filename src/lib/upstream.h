/* upstream.h - network.parentProxy: srt's proxies reach the destinations
 * their policy allows through an upstream ("parent") HTTP proxy, as the
 * reference 0.0.83 does (dist/sandbox/parent-proxy.js).
 *
 * - A tunnel (a CONNECT or a SOCKS client of srt) goes through the https
 *   parent (the http one when https is unset) with CONNECT host:port; a
 *   plain absolute-form HTTP request goes to the http parent in absolute
 *   form (none set: directly, as curl does).
 * - Unset keys fall back to HTTP_PROXY/http_proxy, HTTPS_PROXY/https_proxy
 *   and NO_PROXY/no_proxy of srt's own environment, key by key.
 * - noProxy is a comma-separated list: "*", CIDR ranges and IP literals,
 *   and host name suffixes ("example.com" and ".example.com" both match
 *   example.com and its subdomains; a ":port" is ignored, as in the
 *   reference).  localhost and loopback addresses always go directly.
 *
 * Pure functions: parsing, matching, the CONNECT request and its reply;
 * the proxy (proxy.c) does the I/O. */
#ifndef SRT_UPSTREAM_H
#define SRT_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "srt.h"
#include "util.h"

/* The longest reply head a parent may send to a CONNECT (the reference's
 * bound); a longer one is refused, never read on. */
#define SRT_PARENT_MAX_REPLY (16 * 1024)
#define SRT_PARENT_HOST_MAX 253
/* A CONNECT head srt sends: two authorities and the credentials of a URL
 * of at most 2048 bytes (base64: 4/3 of them) fit */
#define SRT_PARENT_MAX_HEAD 4096

typedef struct srt_parent {
	char host[SRT_PARENT_HOST_MAX + 1]; /* name or IP literal, IPv6 unbracketed */
	int port;
	char *auth;  /* "Basic <base64 of user:password>", or NULL */
	char *shown; /* for messages: http://host:port, credentials as "***" */
} srt_parent;

enum {
	SRT_PARENT_BAD = -1,   /* not a usable proxy URL */
	SRT_PARENT_NO_TLS = -2, /* https://: TLS to the parent, not built */
};

/* Parse a parent proxy URL ("http://[user:pass@]host[:port][/]", or
 * "host:port" without a scheme, as the reference and curl take it).
 * Returns 0, or SRT_PARENT_BAD / SRT_PARENT_NO_TLS with `why` filled. */
int srt_parent_parse(const char *url, srt_parent *out, char *why, size_t why_len);
void srt_parent_clear(srt_parent *p);

typedef struct srt_upstream srt_upstream;

/* Resolve the settings (each NULL when unset) against `env` (srt's own
 * environment, "NAME=value" strings).  *out is NULL when no parent proxy is
 * configured.  An unusable URL in the environment is ignored with a line in
 * `warnings` (the reference ignores it too); in the settings, and an
 * https:// one anywhere, it is an error. */
int srt_upstream_new(const char *http, const char *https, const char *no_proxy,
		     char *const *env, srt_upstream **out, srt_strv *warnings, srt_error *err);
void srt_upstream_free(srt_upstream *u);

/* Does `host` (as the client named it) bypass the parent: loopback,
 * localhost or a noProxy match? */
bool srt_upstream_bypass(const srt_upstream *u, const char *host);

/* The parent to dial for host (tunnel: CONNECT/SOCKS, else plain HTTP),
 * or NULL to dial the destination directly.  u may be NULL. */
const srt_parent *srt_upstream_route(const srt_upstream *u, const char *host, bool tunnel);

/* The parents and the noProxy text, for describing the policy. */
const srt_parent *srt_upstream_parent(const srt_upstream *u, bool tunnel);
const char *srt_upstream_no_proxy(const srt_upstream *u);

/* Write the CONNECT request for host:port to `out`; its length, or -1 when
 * it does not fit or host is not a plain name or IP literal (nothing from
 * a client reaches the parent's request line unchecked). */
int srt_upstream_connect_head(const srt_parent *p, const char *host, int port, char *out,
			      size_t cap);

typedef struct srt_parent_reply {
	size_t head_len; /* SRT_PARENT_OK: the bytes after it belong to the tunnel */
	int status;      /* the status code, 0 when the line is not an HTTP status line */
	size_t line_len; /* length of the status line at the start of the input */
} srt_parent_reply;

enum {
	SRT_PARENT_OK = 1,       /* a 2xx head, complete */
	SRT_PARENT_MORE = 0,     /* incomplete: read more */
	SRT_PARENT_REFUSED = -1, /* not a 2xx (or not HTTP/1.x at all) */
	SRT_PARENT_TOO_BIG = -2, /* no end of head within SRT_PARENT_MAX_REPLY */
};

/* Judge the parent's reply to CONNECT from the bytes read so far. */
int srt_upstream_reply(const char *p, size_t n, srt_parent_reply *r);

#endif
