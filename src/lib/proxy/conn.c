/* proxy.c - the filtering HTTP and SOCKS5 proxies.
 *
 * Every connection is a small state machine driven by px_conn_run(), which is
 * called whenever one of its sockets is ready and simply tries to make
 * progress on everything non-blockingly (level-triggered; all sockets are
 * O_NONBLOCK).  Handshakes (HTTP heads, SOCKS messages) go through small
 * bounded buffers; established tunnels move bytes with splice(2) through a
 * pipe taken from a pool only while bytes are in flight, so neither memory
 * nor descriptors grow with the size of a transfer or the number of idle
 * tunnels.  Absolute-form HTTP requests are forwarded message by message
 * (the proxy must see each head), with bodies relayed by their framing.
 */
#include "proxy_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include "gateloop.h"
#include "nons/peers.h"
#include "http.h"
#include "socks.h"
#include "util.h"


/* ---- connection life cycle ----------------------------------------- */

/* A connection with client socket `fd` (-1: none), linked into the list. */
conn *px_conn_new(srt_proxy *px, int fd)
{
	conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->px = px;
	c->c = (endpoint){.fd = fd};
	c->u = (endpoint){.fd = -1};
	c->c2u = (half){.pipe = {-1, -1}};
	c->u2c = (half){.pipe = {-1, -1}};
	uv_timer_init(&px->loop, &c->timer);
	c->timer.data = c;
	c->handles = 1;
	c->next = px->conns;
	if (px->conns)
		px->conns->prev = c;
	px->conns = c;
	px->n_conns++;
	return c;
}


void px_conn_free_if_done(conn *c)
{
	if (c->handles > 0)
		return;
	px_buf_free(&c->cin);
	px_buf_free(&c->cout);
	px_buf_free(&c->uin);
	px_buf_free(&c->uout);
	px_buf_free(&c->retry);
	if (c->ai)
		uv_freeaddrinfo(c->ai);
	free(c);
}

static void on_timer_closed(uv_handle_t *h)
{
	conn *c = h->data;
	c->handles--;
	px_conn_free_if_done(c);
}

static void on_poll_closed(uv_handle_t *h)
{
	pollbox *pb = (pollbox *)h;
	conn *c = pb->c;
	close(pb->fd);
	free(pb);
	c->handles--;
	px_conn_free_if_done(c);
}

void px_endpoint_close(conn *c, endpoint *e)
{
	(void)c;
	if (e->fd < 0)
		return;
	if (e->pb)
		uv_close((uv_handle_t *)&e->pb->h, on_poll_closed); /* closes the fd */
	else
		close(e->fd);
	*e = (endpoint){.fd = -1};
}


void px_conn_close(conn *c)
{
	if (c->state == ST_DEAD)
		return;
	if (c->state == ST_IDLE_UP)
		px_idle_unlink(c);
	c->state = ST_DEAD;
	srt_proxy *px = c->px;
	if (c->prev)
		c->prev->next = c->next;
	else
		px->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	px->n_conns--;
	px_pipe_put(px, c->c2u.pipe, c->c2u.pending);
	px_pipe_put(px, c->u2c.pipe, c->u2c.pending);
	px_endpoint_close(c, &c->c);
	px_endpoint_close(c, &c->u);
	uv_close((uv_handle_t *)&c->timer, on_timer_closed);
	/* a pending getaddrinfo holds a reference until its callback; one
	 * not started yet is cancelled (the callback then runs at once) */
	if (c->resolving)
		uv_cancel((uv_req_t *)&c->gai);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	conn *c = ((pollbox *)h)->c;
	(void)events;
	if (status < 0 && status != UV_EBADF) {
		/* error on the socket: let the next read/write see it */
	}
	px_conn_run(c);
}

int px_endpoint_want(conn *c, endpoint *e, int want)
{
	if (e->fd < 0)
		return 0;
	if (!e->pb) {
		e->pb = calloc(1, sizeof *e->pb);
		if (!e->pb)
			return -1;
		if (uv_poll_init(&c->px->loop, &e->pb->h, e->fd) < 0) {
			free(e->pb);
			e->pb = NULL;
			return -1;
		}
		e->pb->fd = e->fd;
		e->pb->c = c;
		c->handles++;
		e->want = -1;
	}
	if (want == e->want)
		return 0;
	e->want = want;
	if (want == 0)
		return uv_poll_stop(&e->pb->h);
	return uv_poll_start(&e->pb->h, want, on_poll);
}

static void on_timeout(uv_timer_t *t);

void px_timer_set(conn *c, uint64_t ms)
{
	uv_timer_stop(&c->timer);
	if (ms)
		uv_timer_start(&c->timer, on_timeout, ms, 0);
}

static void on_timeout(uv_timer_t *t)
{
	conn *c = t->data;
	switch (c->state) {
	case ST_HTTP_HEAD:
		if (buf_data(&c->cin) == 0 && c->cout.len == 0) {
			px_conn_close(c); /* idle keep-alive connection */
			return;
		}
		px_http_reply(c, 408, "Request Timeout", "srt: request head not received in time", false);
		break;
	case ST_RESOLVE:
	case ST_CONNECT:
		px_endpoint_close(c, &c->u);
		px_upstream_failed(c, ETIMEDOUT, true);
		break;
	case ST_FORWARD:
		if (!c->resp_head_done) {
			px_endpoint_close(c, &c->u);
			px_http_reply(c, 504, "Gateway Timeout", "srt: no response from upstream in time", false);
			break;
		}
		return;
	case ST_SOCKS_GREETING: /* the handshake took too long */
	case ST_SOCKS_AUTH:
	case ST_SOCKS_REQUEST:
	case ST_TUNNEL:
	case ST_CLOSING:        /* the client does not take the answer */
	case ST_IDLE_UP:        /* kept long enough */
	case ST_DEAD:
	default:
		px_conn_close(c);
		return;
	}
	px_conn_run(c);
}

/* A fresh relay for a body with this framing. */
void px_relay_init(body_relay *r, srt_body body)
{
	*r = (body_relay){.body = body, .left = body.kind == SRT_BODY_LENGTH ? body.length : 0};
	r->done = body.kind == SRT_BODY_NONE || (body.kind == SRT_BODY_LENGTH && body.length == 0);
}

/* ---- HTTP ----------------------------------------------------------- */

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
		char line[64];
		int n = snprintf(line, sizeof line, "%.*s ", (int)req->method_len, req->method);
		px_buf_append(&c->uout, line, (size_t)n, SRT_HTTP_MAX_HEAD * 2);
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
		{
			char hh[300];
			bool v6 = strchr(c->host, ':') != NULL;
			n = c->port == 80 ? snprintf(hh, sizeof hh, "Host: %s%s%s\r\n", v6 ? "[" : "", c->host, v6 ? "]" : "")
					  : snprintf(hh, sizeof hh, "Host: %s%s%s:%d\r\n", v6 ? "[" : "", c->host,
						     v6 ? "]" : "", c->port);
			px_buf_append(&c->uout, hh, (size_t)n, SRT_HTTP_MAX_HEAD * 2);
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

void px_forward_start(conn *c)
{
	c->state = ST_FORWARD;
	px_relay_init(&c->req, c->req.body);
	c->resp = (body_relay){0};
	c->resp_head_done = false;
	px_timer_set(c, RESPONSE_HEAD_MS);
}

/* Move body bytes from `from` to `to` (bounded by RELAY_CAP queued) as far
 * as the framing says the message goes; bytes after it stay in `from`. */
static int relay_body(body_relay *r, buf *from, buf *to)
{
	while (!r->done && buf_data(from) > 0 && buf_data(to) < RELAY_CAP) {
		size_t avail = buf_data(from);
		size_t room = RELAY_CAP - buf_data(to);
		size_t take = avail < room ? avail : room;
		if (r->body.kind == SRT_BODY_LENGTH) {
			if (take > r->left)
				take = (size_t)r->left;
			r->left -= take;
			r->done = r->left == 0;
		} else if (r->body.kind == SRT_BODY_CHUNKED) {
			long n = srt_chunked_scan(&r->chunk, from->p + from->off, take, &r->done);
			if (n < 0)
				return -1;
			take = (size_t)n;
		}
		if (px_buf_append(to, from->p + from->off, take, RELAY_CAP * 2) < 0)
			return -1;
		px_buf_consume(from, take);
	}
	return 0;
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
			if (body.kind == SRT_BODY_UNTIL_CLOSE)
				c->client_keepalive = false;
			const srt_http_header *ch = srt_http_find(r.headers, r.n_headers, "Connection");
			if (r.version_minor != 1 || body.kind == SRT_BODY_UNTIL_CLOSE ||
			    (ch && srt_http_has_token(ch->value, ch->value_len, "close")))
				c->up_keepalive = false;
			px_relay_init(&c->resp, body);
		}
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
			if (!interim && (te || cl)) {
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
			} else if (!te && srt_http_is_hop_by_hop(r.headers, r.n_headers, h)) {
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
			px_timer_set(c, 0);
			return 0;
		}
	}
}

/* Is the rest of this body going by splice (nothing of it buffered)? */
static bool by_splice(const body_relay *r, const buf *in, const buf *out, const half *h)
{
	return r->body.kind == SRT_BODY_LENGTH && !r->done &&
	       (h->pending > 0 || (buf_data(in) == 0 && buf_data(out) == 0));
}

static bool req_by_splice(const conn *c)
{
	return by_splice(&c->req, &c->cin, &c->uout, &c->c2u);
}

/* A response body that goes by splice once its buffered bytes are out:
 * nothing of it is read into uin. */
static bool resp_length_framed(const conn *c)
{
	return c->resp_head_done && c->resp.body.kind == SRT_BODY_LENGTH;
}

static bool resp_by_splice(const conn *c)
{
	return resp_length_framed(c) && by_splice(&c->resp, &c->uin, &c->cout, &c->u2c);
}

/* One pass of request-body and response relaying; returns 1 when bytes
 * moved, 0 when nothing could, -1 when the connection was closed or turned
 * into an error reply. */
static int forward_pass(conn *c)
{
	int moved = 0;
	size_t before;
	/* request: head and body to upstream */
	if (relay_body(&c->req, &c->cin, &c->uout) < 0) {
		if (c->resp_head_done || buf_data(&c->cout) > 0) {
			px_conn_close(c); /* a response is under way: just stop */
			return -1;
		}
		px_endpoint_close(c, &c->u);
		px_http_reply(c, 400, "Bad Request", "srt: malformed chunked request body", false);
		return -1;
	}
	before = buf_data(&c->uout);
	if (px_flush_to(c->u.fd, &c->uout) < 0 && !c->resp_head_done) {
		if (px_retry_fresh(c))
			return -1;
		px_endpoint_close(c, &c->u);
		px_upstream_failed(c, EPIPE, false);
		return -1;
	}
	moved |= buf_data(&c->uout) != before;
	if (req_by_splice(c)) {
		bool eof = false;
		int r = px_splice_body(c->px, &c->req, &c->c2u, c->c.fd, c->u.fd, &eof);
		if (r == SPLICE_SRC_ERR || eof || (r == SPLICE_DST_ERR && c->resp_head_done)) {
			px_conn_close(c); /* client gone mid-request, or both done with */
			return -1;
		}
		if (r == SPLICE_DST_ERR) {
			px_endpoint_close(c, &c->u);
			px_upstream_failed(c, EPIPE, false);
			return -1;
		}
		moved |= r;
	} else if (!c->req.done && c->req.body.kind != SRT_BODY_LENGTH &&
		   buf_data(&c->cin) < RELAY_CAP) {
		int r = px_read_into(c->c.fd, &c->cin, RELAY_CAP);
		if (r == 0 || r == -2) { /* client gone mid-request */
			px_conn_close(c);
			return -1;
		}
		moved |= r == 1;
	}
	/* response: from upstream to the client (a length-framed body, once
	 * its head is relayed, by splice below) */
	if (!c->resp.done && !c->u.eof && !resp_length_framed(c) && buf_data(&c->cout) < RELAY_CAP) {
		int r = px_read_into(c->u.fd, &c->uin, c->resp_head_done ? RELAY_CAP : SRT_HTTP_MAX_HEAD);
		if (r == 0 || r == -2)
			c->u.eof = true;
		moved |= r != -1;
	}
	if (!c->resp_head_done) {
		if (c->u.eof && px_retry_fresh(c))
			return -1;
		if (px_response_head(c) < 0 || (c->u.eof && !c->resp_head_done)) {
			px_endpoint_close(c, &c->u);
			px_http_reply(c, 502, "Bad Gateway", "srt: no valid response from upstream", false);
			return -1;
		}
	}
	if (c->resp_head_done) {
		before = buf_data(&c->uin);
		if (relay_body(&c->resp, &c->uin, &c->cout) < 0) {
			px_conn_close(c);
			return -1;
		}
		moved |= buf_data(&c->uin) != before;
		if (c->u.eof && buf_data(&c->uin) == 0 && !c->resp.done) {
			/* until-close bodies end here; others were truncated */
			if (c->resp.body.kind != SRT_BODY_UNTIL_CLOSE)
				c->client_keepalive = false;
			c->resp.done = true;
		}
	}
	before = buf_data(&c->cout);
	if (px_flush_to(c->c.fd, &c->cout) < 0) {
		px_conn_close(c);
		return -1;
	}
	moved |= buf_data(&c->cout) != before;
	if (resp_by_splice(c)) {
		bool eof = false;
		int r = px_splice_body(c->px, &c->resp, &c->u2c, c->u.fd, c->c.fd, &eof);
		if (r == SPLICE_DST_ERR) {
			px_conn_close(c);
			return -1;
		}
		if (r == SPLICE_SRC_ERR || eof) { /* truncated: the client sees it close */
			c->u.eof = true;
			c->client_keepalive = false;
			c->resp.done = c->u2c.pending == 0;
		}
		moved |= r == 1;
	}
	return moved;
}

void px_forward_run(conn *c)
{
	for (int i = 0; i < SRT_LOOP_BUDGET; i++) {
		int r = forward_pass(c);
		if (r < 0)
			return;
		if (r == 0)
			break;
	}
	if (c->resp.done && c->req.done && buf_data(&c->cout) == 0) {
		/* reusable only after a clean exchange with nothing left over */
		if (c->up_keepalive && !c->u.eof && buf_data(&c->uin) == 0 && buf_data(&c->uout) == 0)
			px_idle_put(c);
		else
			px_endpoint_close(c, &c->u);
		c->up_reused = false;
		px_buf_free(&c->retry);
		px_buf_free(&c->uin);
		px_buf_free(&c->uout);
		if (!c->client_keepalive) {
			shutdown(c->c.fd, SHUT_WR);
			px_conn_close(c);
			return;
		}
		c->state = ST_HTTP_HEAD; /* next request on this connection */
		px_timer_set(c, c->px->o.handshake_timeout_ms);
		return;
	}
	/* level-triggered: ask for exactly what would let us progress */
	int cw = 0, uw = 0;
	if (req_by_splice(c)) { /* bytes in the pipe: wait for upstream, else for the client */
		if (c->c2u.pending > 0)
			uw |= UV_WRITABLE;
		else
			cw |= UV_READABLE;
	} else if (!c->req.done && c->req.body.kind != SRT_BODY_LENGTH && buf_data(&c->cin) < RELAY_CAP)
		cw |= UV_READABLE;
	if (resp_by_splice(c)) {
		if (c->u2c.pending > 0)
			cw |= UV_WRITABLE;
		else
			uw |= UV_READABLE;
	} else if (!c->resp.done && !c->u.eof && buf_data(&c->cout) < RELAY_CAP &&
		 !resp_length_framed(c))
		uw |= UV_READABLE;
	if (buf_data(&c->cout) > 0)
		cw |= UV_WRITABLE;
	if (buf_data(&c->uout) > 0)
		uw |= UV_WRITABLE;
	/* bytes already buffered but not yet relayed (the pass budget ran
	 * out): ask for the socket they go to, so we come back */
	if (!c->req.done && buf_data(&c->cin) > 0)
		uw |= UV_WRITABLE;
	if (!c->resp.done && buf_data(&c->uin) > 0)
		cw |= UV_WRITABLE;
	px_endpoint_want(c, &c->c, cw);
	px_endpoint_want(c, &c->u, uw);
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
			px_http_reply(c, status, phrase, "srt: malformed request", false);
			return;
		}
		int rr = px_read_into(c->c.fd, &c->cin, SRT_HTTP_MAX_HEAD);
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
	px_endpoint_want(c, &c->c, UV_READABLE);
}

/* ---- SOCKS5 --------------------------------------------------------- */

void px_socks_run(conn *c)
{
	for (int rounds = 0; rounds < 16; rounds++) {
		const uint8_t *p = (const uint8_t *)(c->cin.p ? c->cin.p + c->cin.off : "");
		size_t n = buf_data(&c->cin), used = 0;
		int r = 0;
		if (c->state == ST_SOCKS_GREETING) {
			int method = SRT_SOCKS_NO_ACCEPTABLE;
			r = srt_socks_parse_greeting(p, n, &used, &method);
			if (r == 1) {
				px_buf_consume(&c->cin, used);
				uint8_t ans[2] = {5, (uint8_t)method};
				px_buf_append(&c->cout, ans, 2, RELAY_CAP);
				if (method == SRT_SOCKS_NO_ACCEPTABLE) {
					c->state = ST_CLOSING;
					return;
				}
				c->state = method == SRT_SOCKS_USERPASS ? ST_SOCKS_AUTH : ST_SOCKS_REQUEST;
				continue;
			}
		} else if (c->state == ST_SOCKS_AUTH) {
			r = srt_socks_parse_userpass(p, n, &used);
			if (r == 1) { /* any credentials are accepted */
				px_buf_consume(&c->cin, used);
				uint8_t ans[2] = {1, 0};
				px_buf_append(&c->cout, ans, 2, RELAY_CAP);
				c->state = ST_SOCKS_REQUEST;
				continue;
			}
		} else {
			srt_socks_request req;
			int reply = SRT_SOCKS_GENERAL_FAILURE;
			r = srt_socks_parse_request(p, n, &used, &req, &reply);
			if (r == 1) {
				px_buf_consume(&c->cin, used);
				snprintf(c->host, sizeof c->host, "%s", req.host);
				c->port = req.port;
				if (req.cmd != SRT_SOCKS_CMD_CONNECT) {
					px_socks_reply(c, SRT_SOCKS_CMD_UNSUPPORTED);
					return;
				}
				if (req.port == 0) {
					px_socks_reply(c, SRT_SOCKS_GENERAL_FAILURE);
					return;
				}
				if (px_admit(c))
					px_begin_dial(c);
				return;
			}
			if (r < 0) {
				px_socks_reply(c, (uint8_t)reply);
				return;
			}
		}
		if (r < 0) {
			if (c->state == ST_SOCKS_GREETING) { /* "no acceptable methods" */
				uint8_t ans[2] = {5, SRT_SOCKS_NO_ACCEPTABLE};
				px_buf_append(&c->cout, ans, 2, RELAY_CAP);
			}
			c->state = ST_CLOSING;
			return;
		}
		/* need more bytes */
		if (n >= 600) {
			c->state = ST_CLOSING;
			return;
		}
		int rr = px_read_into(c->c.fd, &c->cin, 1024);
		if (rr == 1)
			continue;
		if (rr == 0 || rr == -2) {
			px_conn_close(c);
			return;
		}
		break;
	}
	if (px_flush_to(c->c.fd, &c->cout) < 0) {
		px_conn_close(c);
		return;
	}
	px_endpoint_want(c, &c->c, UV_READABLE | (buf_data(&c->cout) ? UV_WRITABLE : 0));
}

/* ---- the driver ----------------------------------------------------- */

static void conn_step(conn *c)
{
	switch (c->state) {
	case ST_HTTP_HEAD:
		px_http_head_run(c);
		break;
	case ST_SOCKS_GREETING:
	case ST_SOCKS_AUTH:
	case ST_SOCKS_REQUEST:
		px_socks_run(c);
		break;
	case ST_RESOLVE:
		px_endpoint_want(c, &c->c, 0);
		break;
	case ST_CONNECT:
		px_check_connect(c);
		if (c->state == ST_CONNECT) {
			px_endpoint_want(c, &c->c, 0);
			px_endpoint_want(c, &c->u, UV_WRITABLE);
		}
		return;
	case ST_TUNNEL:
		px_tunnel_run(c);
		break;
	case ST_FORWARD:
		px_forward_run(c);
		break;
	case ST_IDLE_UP: /* readable while idle: closed by the origin, or junk */
		px_conn_close(c);
		return;
	case ST_CLOSING:
		if (c->u.fd >= 0)
			px_endpoint_close(c, &c->u);
		if (px_flush_to(c->c.fd, &c->cout) < 0 || buf_data(&c->cout) == 0) {
			/* drain nothing more; closing now is the clean refusal */
			shutdown(c->c.fd, SHUT_WR);
			px_conn_close(c);
			return;
		}
		px_timer_set(c, 5000);
		px_endpoint_want(c, &c->c, UV_WRITABLE);
		break;
	case ST_DEAD:
	default:
		break;
	}
}

/* Step until the state stops changing (a step that moves to a new state
 * lets that state register what it waits for). */
void px_conn_run(conn *c)
{
	for (int i = 0; i < 16; i++) {
		enum px_state before = c->state;
		conn_step(c);
		if (c->state == before || c->state == ST_DEAD)
			return;
	}
}

/* The no-namespace mode: 127.0.0.1 with a port the gate registered (taken). */
static bool peer_authorized(srt_peer_registry *r, const struct sockaddr_storage *peer, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;
	if (len < sizeof *sin || sin->sin_family != AF_INET || ntohl(sin->sin_addr.s_addr) != INADDR_LOOPBACK)
		return false;
	return srt_peers_take(r, ntohs(sin->sin_port));
}

static void on_accept(uv_poll_t *h, int status, int events)
{
	srt_proxy *px = h->loop->data;
	const listen_handle *lh = (const listen_handle *)h;
	(void)events;
	if (status < 0)
		return;
	enum px_proto proto_kind = lh->l.kind == SRT_LISTEN_HTTP ? P_HTTP : P_SOCKS;
	int relay_port = lh->l.relay_port;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof peer;
		int fd = accept4(lh->l.fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (px->o.authorized && !peer_authorized(px->o.authorized, &peer, peer_len)) {
			close(fd); /* another local user's, not the command's */
			continue;
		}
		if (px->n_conns >= px->o.max_conns) {
			/* clean refusal: say so where the protocol allows, close */
			if (proto_kind == P_HTTP && !relay_port) {
				static const char busy[] =
					"HTTP/1.1 503 Service Unavailable\r\nX-Proxy-Error: too-many-connections\r\n"
					"Content-Length: 0\r\nConnection: close\r\n\r\n";
				(void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			}
			close(fd);
			continue;
		}
		conn *c = px_conn_new(px, fd);
		if (!c) {
			close(fd);
			continue;
		}
		if (relay_port) {
			c->proto = P_RELAY;
			snprintf(c->host, sizeof c->host, "127.0.0.1");
			c->port = relay_port;
			px_begin_dial(c);
		} else {
			c->proto = proto_kind;
			c->state = proto_kind == P_HTTP ? ST_HTTP_HEAD : ST_SOCKS_GREETING;
			px_timer_set(c, px->o.handshake_timeout_ms);
		}
		px_conn_run(c);
	}
}

static void on_update(uv_async_t *a)
{
	srt_proxy *px = a->data;
	uv_mutex_lock(&px->lock);
	srt_netpolicy *np = px->pending_np;
	srt_guard *g = px->pending_guard;
	px->pending_np = NULL;
	px->pending_guard = NULL;
	uv_cond_broadcast(&px->taken);
	uv_mutex_unlock(&px->lock);
	if (np) { /* connections decide with the policy current when they ask */
		srt_netpolicy_free(px->owned_np);
		px->owned_np = np;
		px->o.policy = np;
	}
	if (g) {
		srt_guard_free(px->owned_guard);
		px->owned_guard = g;
		px->o.guard = g;
	}
	/* connections dialed under the old rules are not reused under new ones */
	if (np || g)
		px_idle_close_all(px);
}

int srt_proxy_update(srt_proxy *px, srt_netpolicy *np, srt_guard *guard)
{
	uv_mutex_lock(&px->lock);
	srt_netpolicy_free(px->pending_np);
	srt_guard_free(px->pending_guard);
	px->pending_np = np;
	px->pending_guard = guard;
	int rc = uv_async_send(&px->update) < 0 ? -1 : 0;
	/* return once the loop has it (bounded: 5 s) */
	for (int i = 0; rc == 0 && i < 50 && (px->pending_np || px->pending_guard); i++)
		uv_cond_timedwait(&px->taken, &px->lock, 100 * 1000 * 1000ULL);
	if (px->pending_np || px->pending_guard)
		rc = -1;
	uv_mutex_unlock(&px->lock);
	return rc;
}

static void on_stop(uv_async_t *a)
{
	srt_proxy *px = a->data;
	px->stopping = true;
	uv_close((uv_handle_t *)&px->update, NULL);
	while (px->conns)
		px_conn_close(px->conns);
	for (size_t i = 0; i < px->n_listen; i++)
		uv_close((uv_handle_t *)&px->listen[i].h, NULL);
	srt_gateloop_close(px->gate);
	px->gate = NULL;
	uv_close((uv_handle_t *)&px->stop, NULL);
}

static void loop_main(void *arg)
{
	srt_proxy *px = arg;
	/* splice(2) into a socket the peer reset raises SIGPIPE (it has no
	 * MSG_NOSIGNAL): keep it pending on this thread instead of letting it
	 * kill the process; the call itself fails with EPIPE. */
	sigset_t pipe_set;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	uv_run(&px->loop, UV_RUN_DEFAULT);
}

srt_proxy *srt_proxy_start(const srt_proxy_options *o, srt_error *err)
{
	srt_proxy *px = calloc(1, sizeof *px);
	if (!px) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	px->o = *o;
	if (!px->o.max_conns)
		px->o.max_conns = DEFAULT_MAX_CONNS;
	if (!px->o.handshake_timeout_ms)
		px->o.handshake_timeout_ms = DEFAULT_HANDSHAKE_MS;
	if (!px->o.connect_timeout_ms)
		px->o.connect_timeout_ms = DEFAULT_CONNECT_MS;
	int rc = uv_loop_init(&px->loop);
	if (rc < 0) {
		free(px);
		srt_fail(err, SRT_E_SYSTEM, "proxy event loop: %s", uv_strerror(rc));
		return NULL;
	}
	px->loop.data = px;
	uv_async_init(&px->loop, &px->stop, on_stop);
	px->stop.data = px;
	uv_mutex_init(&px->lock);
	uv_cond_init(&px->taken);
	uv_async_init(&px->loop, &px->update, on_update);
	px->update.data = px;
	px->listen = calloc(o->n_listeners + 1, sizeof *px->listen);
	for (size_t i = 0; px->listen && i < o->n_listeners; i++) {
		listen_handle *lh = &px->listen[px->n_listen];
		lh->l = o->listeners[i];
		if (uv_poll_init(&px->loop, &lh->h, lh->l.fd) < 0) {
			close(lh->l.fd);
			continue;
		}
		uv_poll_start(&lh->h, UV_READABLE, on_accept);
		px->n_listen++;
	}
	if (o->gate && o->gate_chan_fd >= 0 &&
	    !(px->gate = srt_gateloop_start(&px->loop, o->gate_chan_fd, o->gate, o->on_violation,
					     o->violation_data))) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		on_stop(&px->stop);
		uv_run(&px->loop, UV_RUN_DEFAULT);
		uv_loop_close(&px->loop);
		free(px->listen);
		free(px);
		return NULL;
	}
	rc = uv_thread_create(&px->thread, loop_main, px);
	if (rc < 0) {
		srt_fail(err, SRT_E_SYSTEM, "proxy thread: %s", uv_strerror(rc));
		on_stop(&px->stop);
		uv_run(&px->loop, UV_RUN_DEFAULT);
		uv_loop_close(&px->loop);
		free(px);
		return NULL;
	}
	return px;
}


void srt_proxy_stop(srt_proxy *px)
{
	if (!px)
		return;
	uv_async_send(&px->stop);
	uv_thread_join(&px->thread);
	for (size_t i = 0; i < px->n_pool; i++) {
		close(px->pool[i][0]);
		close(px->pool[i][1]);
	}
	uv_loop_close(&px->loop);
	for (size_t i = 0; i < px->n_listen; i++)
		close(px->listen[i].l.fd);
	free(px->listen);
	srt_netpolicy_free(px->pending_np);
	srt_netpolicy_free(px->owned_np);
	srt_guard_free(px->pending_guard);
	srt_guard_free(px->owned_guard);
	uv_cond_destroy(&px->taken);
	uv_mutex_destroy(&px->lock);
	free(px);
}
