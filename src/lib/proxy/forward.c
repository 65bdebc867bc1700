/* forward.c - an absolute-form HTTP exchange once its upstream connection
 * is there: the request body to the origin and the response back, each
 * relayed by its framing (length, chunked via the incremental scanner, or
 * until close) so that what follows it - a pipelined request, the
 * origin's next response - is never taken with it; then the client
 * connection goes back to reading a request head (keep-alive) and the
 * upstream one to the idle pool (idle.c) when the exchange ended cleanly. */
#include "proxy_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* A fresh relay for a body with this framing. */
void px_relay_init(body_relay *r, srt_body body)
{
	*r = (body_relay){.body = body, .left = body.kind == SRT_BODY_LENGTH ? body.length : 0};
	r->done = body.kind == SRT_BODY_NONE || (body.kind == SRT_BODY_LENGTH && body.length == 0);
}

void px_forward_start(conn *c)
{
	c->state = ST_FORWARD;
	px_relay_init(&c->req, c->req.body);
	/* the request body goes on as the client framed it: its lines must
	 * end where any next hop ends them (http.h) */
	c->req.chunk.crlf_only = true;
	c->resp = (body_relay){0};
	c->resp_head_done = false;
	c->req_dropped = false;
	c->resp_out = false;
	/* an inactivity timeout (conn.c, on_timeout): each pass that moves a
	 * byte either way notes it, and the timer, when it fires, waits on
	 * for what is left of the quiet time instead of being restarted on
	 * every byte */
	c->last_move = uv_now(&c->px->loop);
	px_timer_set(c, c->px->o.response_timeout_ms);
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

/* The upstream stopped taking the request (a reset, a closed write side)
 * before its response head was through: did it answer first?  A server
 * that refuses an upload (413, 417, 401) answers and closes without
 * reading the body; its answer, queued before the reset, is still
 * readable.  Then the rest of the request is dropped and the answer
 * relayed, and the client's connection ends after it (its body unsent). */
static bool answered_early(conn *c)
{
	char b;
	if (buf_data(&c->uin) == 0 && recv(c->u.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
		return false;
	c->req_dropped = true;
	c->client_keepalive = false;
	px_buf_free(&c->uout);
	return true;
}

/* The request side of a pass: head and body to upstream. */
static int forward_request(conn *c)
{
	int moved = 0;
	size_t before;
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
	if (px_flush_to(&c->u, &c->uout) < 0 && !c->resp_head_done) {
		if (px_retry_fresh(c))
			return -1;
		if (answered_early(c))
			return 1;
		px_endpoint_close(c, &c->u);
		px_upstream_failed(c, EPIPE, false);
		return -1;
	}
	moved |= buf_data(&c->uout) != before;
	if (req_by_splice(c)) {
		bool eof = false;
		int r = px_splice_body(c->px, &c->req, &c->c2u, &c->c, &c->u, &eof);
		if (r == SPLICE_SRC_ERR || eof || (r == SPLICE_DST_ERR && c->resp_head_done)) {
			px_conn_close(c); /* client gone mid-request, or both done with */
			return -1;
		}
		if (r == SPLICE_DST_ERR) {
			if (answered_early(c))
				return 1;
			px_endpoint_close(c, &c->u);
			px_upstream_failed(c, EPIPE, false);
			return -1;
		}
		moved |= r;
	} else if (!c->req.done && c->req.body.kind != SRT_BODY_LENGTH &&
		   buf_data(&c->cin) < RELAY_CAP) {
		int r = px_read_into(&c->c, &c->cin, RELAY_CAP);
		if (r == 0 || r == -2) { /* client gone mid-request */
			px_conn_close(c);
			return -1;
		}
		moved |= r == 1;
	}
	return moved;
}

/* One pass of request-body and response relaying; returns 1 when bytes
 * moved, 0 when nothing could, -1 when the connection was closed or turned
 * into an error reply. */
static int forward_pass(conn *c)
{
	int moved = 0;
	size_t before;
	if (!c->req_dropped) {
		moved = forward_request(c);
		if (moved < 0)
			return -1;
	}
	/* response: from upstream to the client (a length-framed body, once
	 * its head is relayed, by splice below) */
	bool got = false;
	if (!c->resp.done && !c->u.eof && !resp_length_framed(c) && buf_data(&c->cout) < RELAY_CAP) {
		int r = px_read_into(&c->u, &c->uin, c->resp_head_done ? RELAY_CAP : SRT_HTTP_MAX_HEAD);
		if (r == 0 || r == -2)
			c->u.eof = true;
		got = r == 1;
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
			if (c->resp_out) {
				px_conn_close(c); /* under way: the client sees it cut */
				return -1;
			}
			/* nothing of this response reached the client yet (its
			 * head and a bad chunk-size line came together): the
			 * queued head is dropped and the client told */
			c->cout.off = c->cout.len = 0;
			px_endpoint_close(c, &c->u);
			px_http_reply(c, 502, "Bad Gateway", "srt: malformed chunked response body from upstream",
				      false);
			return -1;
		}
		moved |= buf_data(&c->uin) != before;
		if (c->u.eof && buf_data(&c->uin) == 0 && c->u2c.pending == 0 && !c->resp.done) {
			/* until-close bodies end here; others were truncated
			 * (what the pipe still holds goes out first: splice
			 * below) */
			if (c->resp.body.kind != SRT_BODY_UNTIL_CLOSE)
				c->client_keepalive = false;
			c->resp.done = true;
		}
	}
	if (got && !c->resp.done) {
		/* part of a response came and the rest is awaited: acknowledge
		 * it now.  An origin that writes head and body apart under
		 * Nagle holds the body until its head is acknowledged, and
		 * the kernel delays that ACK up to 40 ms since the proxy sends
		 * nothing back meanwhile: each exchange of a pipelined burst
		 * took 40 ms (1,000 requests: 50 s, direct 0.13 s). */
		int one = 1;
		(void)setsockopt(c->u.fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
	}
	before = buf_data(&c->cout);
	if (px_flush_to(&c->c, &c->cout) < 0) {
		px_conn_close(c);
		return -1;
	}
	if (buf_data(&c->cout) != before) {
		moved = 1;
		c->resp_out |= c->resp_head_done;
	}
	if (resp_by_splice(c)) {
		bool eof = false;
		int r = px_splice_body(c->px, &c->resp, &c->u2c, &c->u, &c->c, &eof);
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
		c->last_move = uv_now(&c->px->loop);
	}
	if (c->resp.done && (c->req.done || !c->client_keepalive) && buf_data(&c->cout) == 0) {
		/* reusable only after a clean exchange with nothing left over */
		if (c->up_keepalive && c->req.done && !c->u.eof && buf_data(&c->uin) == 0 &&
		    buf_data(&c->uout) == 0 && c->c2u.pending == 0)
			px_idle_put(c);
		else
			px_endpoint_close(c, &c->u);
		c->up_reused = false;
		px_buf_free(&c->retry);
		px_buf_free(&c->uin);
		px_buf_free(&c->uout);
		if (!c->client_keepalive && !c->req.done) {
			/* answered before the body was through: the rest of
			 * it is read and dropped before the close (conn.c,
			 * ST_CLOSING), or the client would see a reset */
			c->state = ST_CLOSING;
			return;
		}
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
	if (c->req_dropped) {
		/* nothing more goes upstream */
	} else if (req_by_splice(c)) { /* bytes in the pipe: wait for upstream, else for the client */
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
	if (!c->req.done && !c->req_dropped && buf_data(&c->cin) > 0)
		uw |= UV_WRITABLE;
	/* (a partial response head is not such bytes: it waits on the
	 * origin, and the client, always writable, would rerun it forever) */
	if (c->resp_head_done && !c->resp.done && buf_data(&c->uin) > 0)
		cw |= UV_WRITABLE;
	px_endpoint_want(c, &c->c, cw);
	px_endpoint_want(c, &c->u, uw);
}
