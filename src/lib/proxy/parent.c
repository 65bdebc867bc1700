/* parent.c - parentProxy (upstream.h): a tunnel to an allowed destination
 * asks the parent proxy for one with CONNECT (srt_upstream_connect_head);
 * its reply head is read into uin (bounded by SRT_PARENT_MAX_REPLY, under
 * the connect timer set by the dial) and judged by srt_upstream_reply as
 * soon as it can be; only a 2xx makes the tunnel: srt's own answer goes to
 * the client, then whatever the parent sent after its head, then the
 * spliced bytes.  Any other reply, or one that does not end in time, is
 * answered 502 (SOCKS5: host unreachable) and the parent's socket closed:
 * no byte of it reaches the client. */
#include "proxy_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "socks.h"
#include "upstream.h"

/* A 407 from the parent to an HTTP client: its challenges
 * (Proxy-Authenticate, each kept as sent, bounded) go to the client with
 * srt's 407, so the client learns which credentials the parent wants (they
 * are set in parentProxy: a client's own never reach the parent). */
static void parent_auth_failed(conn *c, const srt_http_response *r)
{
	char extra[PX_REPLY_EXTRA_MAX + 1];
	size_t k = 0;
	for (size_t i = 0; i < r->n_headers; i++) {
		const srt_http_header *h = &r->headers[i];
		if (h->name_len != 18 || strncasecmp(h->name, "Proxy-Authenticate", 18) != 0)
			continue;
		if (k + 20 + h->value_len + 2 > PX_REPLY_EXTRA_MAX)
			break;
		k += (size_t)snprintf(extra + k, sizeof extra - k, "Proxy-Authenticate: %.*s\r\n",
				      (int)h->value_len, h->value);
	}
	extra[k] = '\0';
	char body[1024];
	snprintf(body, sizeof body,
		 "srt: the parent proxy %s asks for credentials (407) for a tunnel to %s:%d; they are "
		 "taken from parentProxy in the settings",
		 c->via->shown, c->host, c->port);
	px_endpoint_close(c, &c->u);
	px_buf_free(&c->uout);
	px_http_reply_with(c, 407, "Proxy Authentication Required", extra, body, false);
	px_buf_free(&c->uin);
}

static void parent_failed(conn *c, const char *what)
{
	px_endpoint_close(c, &c->u);
	px_buf_free(&c->uin);
	px_buf_free(&c->uout);
	if (c->proto == P_SOCKS) {
		px_socks_reply(c, SRT_SOCKS_HOST_UNREACHABLE);
		return;
	}
	char body[1024];
	snprintf(body, sizeof body, "srt: the parent proxy %s did not open a tunnel to %s:%d: %s",
		 c->via->shown, c->host, c->port, what);
	px_http_reply(c, 502, "Bad Gateway", body, false);
}

void px_parent_connect(conn *c)
{
	char head[SRT_PARENT_MAX_HEAD];
	int n = srt_upstream_connect_head(c->via, c->host, c->port, head, sizeof head);
	if (n < 0 || px_buf_append(&c->uout, head, (size_t)n, sizeof head) < 0) {
		parent_failed(c, "the destination cannot be named in a CONNECT request");
		return;
	}
	c->state = ST_PARENT;
}

void px_parent_run(conn *c)
{
	if (px_flush_to(&c->u, &c->uout) < 0) {
		px_endpoint_close(c, &c->u);
		px_upstream_failed(c, EPIPE, false);
		return;
	}
	int r = px_read_into(&c->u, &c->uin, SRT_PARENT_MAX_REPLY);
	srt_parent_reply pr;
	int v = srt_upstream_reply(c->uin.p ? c->uin.p + c->uin.off : "", buf_data(&c->uin), &pr);
	if (v == SRT_PARENT_MORE && (r == 0 || r == -2)) {
		parent_failed(c, "it closed the connection before its reply was complete");
		return;
	}
	if (v == SRT_PARENT_MORE) {
		px_endpoint_want(c, &c->c, 0);
		px_endpoint_want(c, &c->u, UV_READABLE | (buf_data(&c->uout) ? UV_WRITABLE : 0));
		return;
	}
	if (v == SRT_PARENT_REFUSED && pr.status == 407 && c->proto == P_HTTP) {
		/* its whole head is needed for the challenges (bounded by
		 * SRT_PARENT_MAX_REPLY; not complete in time: the timer) */
		srt_http_response resp;
		int hr = srt_http_parse_response(c->uin.p + c->uin.off, buf_data(&c->uin), &resp);
		if (hr == 1) {
			parent_auth_failed(c, &resp);
			return;
		}
		if (hr == 0 && r != 0 && r != -2 && buf_data(&c->uin) < SRT_PARENT_MAX_REPLY) {
			px_endpoint_want(c, &c->c, 0);
			px_endpoint_want(c, &c->u, UV_READABLE);
			return;
		}
		/* garbled or cut: the plain 502 below */
	}
	if (v != SRT_PARENT_OK) {
		char what[300], line[200];
		size_t k = 0;
		/* the status line as text: printable ASCII only, bounded */
		for (size_t i = 0; i < pr.line_len && k + 1 < sizeof line; i++) {
			unsigned char ch = (unsigned char)c->uin.p[c->uin.off + i];
			line[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
		}
		line[k] = '\0';
		if (v == SRT_PARENT_TOO_BIG)
			snprintf(what, sizeof what, "its reply head is longer than %d bytes",
				 SRT_PARENT_MAX_REPLY);
		else if (pr.status)
			snprintf(what, sizeof what, "it answered \"%s\"", line);
		else
			snprintf(what, sizeof what, "its reply is not HTTP/1.x (\"%s\")", line);
		parent_failed(c, what);
		return;
	}
	px_buf_consume(&c->uin, pr.head_len);
	px_buf_free(&c->uout);
	px_connected(c);
	/* what the parent sent after its head is the tunnel's first bytes */
	if (buf_data(&c->uin) > 0 &&
	    px_buf_append(&c->cout, c->uin.p + c->uin.off, buf_data(&c->uin), RELAY_CAP * 2) < 0) {
		px_conn_close(c);
		return;
	}
	px_buf_free(&c->uin);
}
