/* heads.c - HTTP heads through the proxy: the client's request head is
 * read (bounded), parsed and checked; a CONNECT dials its authority, an
 * absolute-form request is rewritten for the origin (origin-form target,
 * hop-by-hop headers dropped, Host set to the checked target, framing kept
 * as it is relayed; for a parent proxy the absolute form and its
 * credentials); the origin's response head is rewritten back (1xx
 * forwarded, exactly the header that frames the body kept). */
#include "proxy_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "upstream.h"

#define SRT_STR_(x) #x
#define SRT_STR(x) SRT_STR_(x)

static bool token_eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static void handle_http_request(conn *c, const srt_http_request *req)
{
	const char *path = NULL;
	size_t path_len = 0;
	c->is_connect = token_eq(req->method, req->method_len, "CONNECT");
	snprintf(c->method, sizeof c->method, "%.*s", (int)(req->method_len < 15 ? req->method_len : 15),
		 req->method);
	int ok = c->is_connect
			 ? srt_http_parse_authority(req->target, req->target_len, c->host, &c->port)
			 : srt_http_parse_absolute(req->target, req->target_len, c->host, &c->port,
						   &path, &path_len);
	if (ok < 0) {
		px_http_reply(c, 400, "Bad Request",
			   c->is_connect ? "srt: CONNECT needs host:port"
					 : "srt: this proxy takes absolute-form http:// requests (use CONNECT for https)",
			   false);
		return;
	}
	if (!px_admit(c))
		return;
	if (!c->is_connect) {
		/* the rewritten head goes to upstream once connected */
		if (srt_http_request_body(req, &c->req.body) < 0) {
			px_http_reply(c, 400, "Bad Request", "srt: invalid request body framing", false);
			return;
		}
		const srt_http_header *conn_h = srt_http_find(req->headers, req->n_headers, "Connection");
		bool close_req = conn_h && srt_http_has_token(conn_h->value, conn_h->value_len, "close");
		const srt_http_header *pc = srt_http_find(req->headers, req->n_headers, "Proxy-Connection");
		bool ka10 = (conn_h && srt_http_has_token(conn_h->value, conn_h->value_len, "keep-alive")) ||
			    (pc && srt_http_has_token(pc->value, pc->value_len, "keep-alive"));
		c->client_keepalive = req->version_minor == 1 ? !close_req : ka10 && !close_req;
		char line[64], authority[300];
		bool v6 = strchr(c->host, ':') != NULL;
		int n = c->port == 80 ? snprintf(authority, sizeof authority, "%s%s%s", v6 ? "[" : "", c->host, v6 ? "]" : "")
				      : snprintf(authority, sizeof authority, "%s%s%s:%d", v6 ? "[" : "", c->host,
						 v6 ? "]" : "", c->port);
		n = snprintf(line, sizeof line, "%.*s ", (int)req->method_len, req->method);
		px_buf_append(&c->uout, line, (size_t)n, SRT_HTTP_MAX_HEAD * 2);
		if (c->via) { /* a parent proxy takes the absolute form, rebuilt from what was checked */
			px_buf_append(&c->uout, "http://", 7, SRT_HTTP_MAX_HEAD * 2);
			px_buf_append(&c->uout, authority, strlen(authority), SRT_HTTP_MAX_HEAD * 2);
		}
		if (!path)
			px_buf_append(&c->uout, "/", 1, SRT_HTTP_MAX_HEAD * 2);
		else if (*path == '?')
			px_buf_append(&c->uout, "/", 1, SRT_HTTP_MAX_HEAD * 2);
		if (path)
			px_buf_append(&c->uout, path, path_len, SRT_HTTP_MAX_HEAD * 2);
		n = snprintf(line, sizeof line, " HTTP/1.%d\r\n", req->version_minor);
		px_buf_append(&c->uout, line, (size_t)n, SRT_HTTP_MAX_HEAD * 2);
		bool have_length = false;
		for (size_t i = 0; i < req->n_headers; i++) {
			const srt_http_header *h = &req->headers[i];
			/* framing headers stay (the body is relayed as it is), a
			 * length as one plain number ("5, 5" becomes "5") */
			bool framing = token_eq(h->name, h->name_len, "Transfer-Encoding");
			if (token_eq(h->name, h->name_len, "Content-Length")) {
				if (c->req.body.kind == SRT_BODY_LENGTH && !have_length) {
					char cl[40];
					int vn = snprintf(cl, sizeof cl, "Content-Length: %llu\r\n",
							  (unsigned long long)c->req.body.length);
					px_buf_append(&c->uout, cl, (size_t)vn, SRT_HTTP_MAX_HEAD * 2);
					have_length = true;
				}
				continue;
			}
			if (!framing && srt_http_is_hop_by_hop(req->headers, req->n_headers, h))
				continue;
			/* RFC 9112 §3.2.2: the client's Host is replaced by the
			 * target that was checked; forwarded, it would reach a
			 * denied virtual host behind an allowed shared front */
			if (token_eq(h->name, h->name_len, "Host"))
				continue;
			px_buf_append(&c->uout, h->name, h->name_len, SRT_HTTP_MAX_HEAD * 2);
			px_buf_append(&c->uout, ": ", 2, SRT_HTTP_MAX_HEAD * 2);
			px_buf_append(&c->uout, h->value, h->value_len, SRT_HTTP_MAX_HEAD * 2);
			px_buf_append(&c->uout, "\r\n", 2, SRT_HTTP_MAX_HEAD * 2);
		}
		px_buf_append(&c->uout, "Host: ", 6, SRT_HTTP_MAX_HEAD * 2);
		px_buf_append(&c->uout, authority, strlen(authority), SRT_HTTP_MAX_HEAD * 2);
		px_buf_append(&c->uout, "\r\n", 2, SRT_HTTP_MAX_HEAD * 2);
		if (c->via && c->via->auth) {
			/* the client's Proxy-Authorization was dropped (hop by
			 * hop): only the settings' credentials reach the parent */
			px_buf_append(&c->uout, "Proxy-Authorization: ", 21, SRT_HTTP_MAX_HEAD * 2);
			px_buf_append(&c->uout, c->via->auth, strlen(c->via->auth), SRT_HTTP_MAX_HEAD * 2);
			px_buf_append(&c->uout, "\r\n", 2, SRT_HTTP_MAX_HEAD * 2);
		}
		/* HTTP/1.1 keeps the upstream connection open for reuse */
		c->up_keepalive = req->version_minor == 1;
		const char *tail = c->up_keepalive ? "\r\n" : "Connection: close\r\n\r\n";
		if (px_buf_append(&c->uout, tail, strlen(tail), SRT_HTTP_MAX_HEAD * 2) < 0) {
			px_http_reply(c, 431, "Request Header Fields Too Large", "srt: request head too large", false);
			return;
		}
	}
	px_buf_consume(&c->cin, req->head_len);
	px_begin_dial(c);
}

/* Parse the response head in uin; forward 1xx; set up the body relay. */
int px_response_head(conn *c)
{
	for (;;) {
		srt_http_response r;
		int pr = srt_http_parse_response(c->uin.p + c->uin.off, buf_data(&c->uin), &r);
		if (pr == 0)
			return buf_data(&c->uin) >= SRT_HTTP_MAX_HEAD ? -1 : 0;
		if (pr < 0)
			return -1;
		bool interim = r.status >= 100 && r.status < 200;
		if (r.status == 101)
			return -1; /* we asked for no upgrade */
		if (!interim) {
			srt_body body;
			if (srt_http_response_body(&r, c->method, strlen(c->method), &body) < 0)
				return -1;
			/* a final answer before the request body is all
			 * through (a refused Expect: 100-continue, an early
			 * error): the client may never send the rest, so the
			 * connection ends with this response */
			if (body.kind == SRT_BODY_UNTIL_CLOSE || !c->req.done)
				c->client_keepalive = false;
			const srt_http_header *ch = srt_http_find(r.headers, r.n_headers, "Connection");
			if (r.version_minor != 1 || body.kind == SRT_BODY_UNTIL_CLOSE ||
			    (ch && srt_http_has_token(ch->value, ch->value_len, "close")))
				c->up_keepalive = false;
			px_relay_init(&c->resp, body);
		}
		/* a parent proxy's 407 is meant for this client: its
		 * challenge goes with it */
		bool parent_auth = c->via && r.status == 407;
		char line[600];
		int n = snprintf(line, sizeof line, "HTTP/1.1 %d %.*s\r\n", r.status,
				 (int)(r.reason_len < 512 ? r.reason_len : 512), r.reason);
		px_buf_append(&c->cout, line, (size_t)n, SRT_HTTP_MAX_HEAD * 2);
		for (size_t i = 0; i < r.n_headers; i++) {
			const srt_http_header *h = &r.headers[i];
			bool te = token_eq(h->name, h->name_len, "Transfer-Encoding");
			bool cl = token_eq(h->name, h->name_len, "Content-Length");
			/* the body is relayed as framed: keep exactly the header
			 * that frames it (chunked beats a length; a body read
			 * until close has neither) */
			if (!interim && (te || cl) && c->resp.body.kind == SRT_BODY_NONE) {
				/* HEAD, 204, 304: no body follows whatever these say,
				 * and they say what a GET would get (curl -I, wget
				 * --spider, cache checks): kept as sent */
			} else if (!interim && (te || cl)) {
				bool keep = (te && c->resp.body.kind == SRT_BODY_CHUNKED) ||
					    (cl && c->resp.body.kind != SRT_BODY_CHUNKED &&
					     c->resp.body.kind != SRT_BODY_UNTIL_CLOSE);
				if (!keep)
					continue;
				if (cl) {
					char v[40];
					int vn = snprintf(v, sizeof v, "Content-Length: %llu\r\n",
							  (unsigned long long)c->resp.body.length);
					px_buf_append(&c->cout, v, (size_t)vn, SRT_HTTP_MAX_HEAD * 2);
					continue;
				}
			} else if (!te && srt_http_is_hop_by_hop(r.headers, r.n_headers, h) &&
				   !(parent_auth && token_eq(h->name, h->name_len, "Proxy-Authenticate"))) {
				continue;
			}
			px_buf_append(&c->cout, h->name, h->name_len, SRT_HTTP_MAX_HEAD * 2);
			px_buf_append(&c->cout, ": ", 2, SRT_HTTP_MAX_HEAD * 2);
			px_buf_append(&c->cout, h->value, h->value_len, SRT_HTTP_MAX_HEAD * 2);
			px_buf_append(&c->cout, "\r\n", 2, SRT_HTTP_MAX_HEAD * 2);
		}
		const char *tail = interim ? "\r\n"
				   : c->client_keepalive ? "Connection: keep-alive\r\n\r\n"
							 : "Connection: close\r\n\r\n";
		if (px_buf_append(&c->cout, tail, strlen(tail), SRT_HTTP_MAX_HEAD * 2) < 0)
			return -1;
		px_buf_consume(&c->uin, r.head_len);
		if (!interim) {
			c->resp_head_done = true;
			return 0;
		}
	}
}

void px_http_head_run(conn *c)
{
	for (int rounds = 0; rounds < 16; rounds++) {
		srt_http_request req;
		int status = 400;
		int r = srt_http_parse_request(c->cin.p ? c->cin.p + c->cin.off : "", buf_data(&c->cin), &req,
					       &status);
		if (r == 1) {
			handle_http_request(c, &req);
			return;
		}
		if (r < 0) {
			const char *phrase = status == 431 ? "Request Header Fields Too Large"
					     : status == 414 ? "URI Too Long"
					     : status == 505 ? "HTTP Version Not Supported"
							     : "Bad Request";
			/* a clear refusal: which limit, not just "malformed" */
			const char *why = status == 431 ? "srt: request head too large: at most "
							  SRT_STR(SRT_HTTP_MAX_HEADERS) " header fields and 64 KiB"
					  : status == 414 ? "srt: request target too long (at most 8 KiB)"
					  : status == 505 ? "srt: only HTTP/1.0 and HTTP/1.1 are spoken here"
							  : "srt: malformed request";
			px_http_reply(c, status, phrase, why, false);
			return;
		}
		int rr = px_read_into(&c->c, &c->cin, SRT_HTTP_MAX_HEAD);
		if (rr == 1)
			continue;
		if (rr == 0 || rr == -2) {
			px_conn_close(c);
			return;
		}
		if (buf_data(&c->cin) >= SRT_HTTP_MAX_HEAD) {
			px_http_reply(c, 431, "Request Header Fields Too Large", "srt: request head too large", false);
			return;
		}
		px_endpoint_want(c, &c->c, UV_READABLE);
		return;
	}
	/* the bound, not the socket, ended this: what the last read brought
	 * may complete the head, and no more bytes may come */
	px_endpoint_want(c, &c->c, UV_READABLE);
	px_conn_defer(c);
}
