/* reply.c - the proxy's own answers to a client: a refusal by policy (with
 * its violation record), an upstream that cannot be reached, a malformed
 * request.  Each is queued in the client's output buffer and the
 * connection turns to ST_CLOSING (a SOCKS success reply aside). */
#include "proxy_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "socks.h"
#include "upstream.h"

static const char *proto_name(const conn *c)
{
	return c->proto == P_SOCKS ? "socks5" : c->is_connect ? "connect" : "http";
}

static void record_violation(conn *c, const char *rule, const char *reason)
{
	srt_proxy *px = c->px;
	if (!px->o.on_violation)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	srt_violation v = {
		.kind = "network", .protocol = proto_name(c), .host = c->host,
		.port = c->port, .rule = rule, .reason = reason,
		.time = (double)tv.tv_sec + tv.tv_usec / 1e6,
	};
	px->o.on_violation(&v, px->o.violation_data);
}

void px_http_reply(conn *c, int status, const char *phrase, const char *body,
		       bool blocked)
{
	px_http_reply_with(c, status, phrase, "", body, blocked);
}

void px_http_reply_with(conn *c, int status, const char *phrase, const char *extra,
			const char *body, bool blocked)
{
	char head[1024 + PX_REPLY_EXTRA_MAX];
	size_t blen = strlen(body);
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d %s\r\n%s%sContent-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, phrase, blocked ? "X-Proxy-Error: blocked-by-sandbox\r\n" : "",
			 strlen(extra) <= PX_REPLY_EXTRA_MAX ? extra : "", blen + 1);
	if (n > 0 && (size_t)n < sizeof head) {
		px_buf_append(&c->cout, head, (size_t)n, RELAY_CAP * 2);
		px_buf_append(&c->cout, body, blen, RELAY_CAP * 2);
		px_buf_append(&c->cout, "\n", 1, RELAY_CAP * 2);
	}
	c->state = ST_CLOSING;
}

void px_socks_reply(conn *c, uint8_t code)
{
	uint8_t r[10];
	size_t n = srt_socks_reply(r, code);
	px_buf_append(&c->cout, r, n, RELAY_CAP);
	if (code != SRT_SOCKS_OK)
		c->state = ST_CLOSING;
}

/* Refusal by policy: the specified answer for each protocol. */
void px_refuse(conn *c, const char *rule, const char *reason)
{
	record_violation(c, rule, reason);
	if (c->proto == P_SOCKS) {
		px_socks_reply(c, SRT_SOCKS_NOT_ALLOWED);
		return;
	}
	char body[700];
	snprintf(body, sizeof body, "srt: connection to %s:%d blocked by the sandbox: %s",
		 c->host, c->port, reason);
	/* for CONNECT the reason is also the status phrase */
	px_http_reply(c, 403, c->is_connect ? reason : "Forbidden", body, true);
}


void px_upstream_failed(conn *c, int err, bool timeout)
{
	if (c->proto == P_SOCKS) {
		/* the parent's failures are all "host unreachable", as in the reference */
		uint8_t code = timeout || c->via ? SRT_SOCKS_HOST_UNREACHABLE
			     : err == ECONNREFUSED ? SRT_SOCKS_REFUSED
			     : err == ENETUNREACH ? SRT_SOCKS_NET_UNREACHABLE
			     : err == EHOSTUNREACH ? SRT_SOCKS_HOST_UNREACHABLE
						   : SRT_SOCKS_GENERAL_FAILURE;
		px_socks_reply(c, code);
		return;
	}
	if (c->proto == P_RELAY) {
		c->state = ST_CLOSING;
		return;
	}
	char body[900];
	if (c->via)
		snprintf(body, sizeof body, "srt: cannot reach %s:%d through the parent proxy %s: %s",
			 c->host, c->port, c->via->shown, timeout ? "timed out" : strerror(err));
	else
		snprintf(body, sizeof body, "srt: cannot reach %s:%d: %s", c->host, c->port,
			 timeout ? "timed out" : strerror(err));
	if (timeout)
		px_http_reply(c, 504, "Gateway Timeout", body, false);
	else if (px_exhausted(err)) /* srt's own shortage, not the origin's */
		px_http_reply(c, 503, "Service Unavailable", body, false);
	else
		px_http_reply(c, 502, "Bad Gateway", body, false);
}
