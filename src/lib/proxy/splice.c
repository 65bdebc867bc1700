/* splice.c - bytes moved without user space: splice(2) through a pipe
 * taken from a small pool only while bytes are in flight, so neither
 * memory nor descriptors grow with the size of a transfer or the number of
 * idle tunnels.  CONNECT and SOCKS5 tunnels and relays go through it all
 * their life; a Content-Length body of a forwarded message once its
 * buffered bytes are out (forward.c). */
#include "proxy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* ---- pipe pool ------------------------------------------------------ */

static int pipe_get(srt_proxy *px, int p[2])
{
	if (px->n_pool > 0) {
		px->n_pool--;
		p[0] = px->pool[px->n_pool][0];
		p[1] = px->pool[px->n_pool][1];
		return 0;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
		if (px_exhausted(errno))
			px_pause_accept(px); /* no new clients until some close */
		return -1;
	}
	(void)fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE); /* best effort */
	return 0;
}

/* Give a pipe back: to the pool only when it is empty (`pending` bytes
 * still in it would reach the next tunnel that takes it), else close it. */
void px_pipe_put(srt_proxy *px, int p[2], size_t pending)
{
	if (p[0] < 0)
		return;
	if (pending == 0 && px->n_pool < PIPE_POOL && !px->stopping) {
		px->pool[px->n_pool][0] = p[0];
		px->pool[px->n_pool][1] = p[1];
		px->n_pool++;
	} else {
		close(p[0]);
		close(p[1]);
	}
	p[0] = p[1] = -1;
}

/* ---- the pump -------------------------------------------------------- */

/* Move bytes from -> to through h's pipe, at most *left of them from the
 * source (left NULL: until it ends).  The pipe is taken from the pool only
 * for bytes in flight and given back as soon as it is empty; h->src_eof
 * records the source's end.  Returns 1 when bytes moved, 0 when none could,
 * SPLICE_SRC_ERR or SPLICE_DST_ERR; *want_from / *want_to get the events
 * that let this direction go on. */
static int splice_pump(srt_proxy *px, half *h, endpoint *from, endpoint *to, uint64_t *left, int *want_from,
		       int *want_to)
{
	int moved = 0;
	for (int rounds = 0; rounds < SRT_LOOP_BUDGET; rounds++) {
		bool progress = false;
		if (!h->src_eof && (!left || *left > 0)) {
			if (h->pipe[0] < 0 && pipe_get(px, h->pipe) < 0)
				return SPLICE_SRC_ERR;
			size_t want = left && *left < PIPE_SIZE ? (size_t)*left : PIPE_SIZE;
			bool pipe_empty = h->pending == 0;
			ssize_t n = splice(from->fd, NULL, h->pipe[1], NULL, want,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				if (left)
					*left -= (uint64_t)n;
				h->pending += (size_t)n;
				progress = true;
			} else if (n == 0) {
				h->src_eof = true;
				progress = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				return SPLICE_SRC_ERR;
			} else if (pipe_empty && errno == EAGAIN) {
				/* an empty pipe has room: it is the socket that
				 * has nothing (a full pipe says EAGAIN too) */
				from->ready &= ~UV_READABLE;
				*want_from |= UV_READABLE;
			}
		}
		if (h->pending > 0) {
			ssize_t n = splice(h->pipe[0], NULL, to->fd, NULL, h->pending,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				h->pending -= (size_t)n;
				progress = true;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				return SPLICE_DST_ERR;
			} else if (n < 0 && errno == EAGAIN) {
				to->ready &= ~UV_WRITABLE; /* the pipe has bytes: the socket is full */
				*want_to |= UV_WRITABLE;
			}
		}
		if (h->pending == 0)
			px_pipe_put(px, h->pipe, 0); /* idle: give the descriptors back */
		if (!progress)
			break;
		moved = 1;
	}
	/* Whatever ended the loop (the budget, or nothing left to do), ask
	 * for the event that lets this direction go on: bytes in the pipe
	 * wait for the destination, an empty pipe for the source.  (Asking
	 * for nothing when the budget ran out with bytes in the pipe stalled
	 * about 1 % of large transfers for good.) */
	if (h->pending > 0)
		*want_to |= UV_WRITABLE;
	else if (!h->src_eof && (!left || *left > 0))
		*want_from |= UV_READABLE;
	return moved;
}

/* ---- tunnels -------------------------------------------------------- */

void px_tunnel_start(conn *c)
{
	c->state = ST_TUNNEL;
	c->c2u = (half){.pipe = {-1, -1}};
	c->u2c = (half){.pipe = {-1, -1}};
	/* bytes the client sent after its request go first */
	if (buf_data(&c->cin) > 0) {
		px_buf_append(&c->uout, c->cin.p + c->cin.off, buf_data(&c->cin), RELAY_CAP * 2);
		px_buf_consume(&c->cin, buf_data(&c->cin));
	}
	px_buf_free(&c->cin);
}

/* One direction of a tunnel: spliced until its source ends, then the
 * destination's write side is shut down - unless the other direction has
 * ended too: the tunnel is then closed at once, and close(2) sends the
 * same FIN (both sockets were read to their end, so nothing unread turns
 * it into a reset).  -1 on error, else whether anything moved;
 * *want_from / *want_to get the events needed. */
static int tunnel_half(srt_proxy *px, half *h, const half *other, endpoint *from, endpoint *to, int *want_from,
		       int *want_to)
{
	int moved = splice_pump(px, h, from, to, NULL, want_from, want_to);
	if (moved < 0)
		return -1;
	if (h->src_eof && h->pending == 0 && !h->done) {
		if (!other->done)
			shutdown(to->fd, SHUT_WR);
		h->done = true;
	}
	return moved;
}

void px_tunnel_run(conn *c)
{
	int cw = 0, uw = 0;
	/* queued bytes (replies, early client data) go before spliced ones */
	if (px_flush_to(&c->c, &c->cout) < 0 || px_flush_to(&c->u, &c->uout) < 0) {
		px_conn_close(c);
		return;
	}
	if (buf_data(&c->cout) > 0)
		cw |= UV_WRITABLE;
	else if (c->cout.p)
		px_buf_free(&c->cout); /* idle tunnels hold no buffers */
	if (buf_data(&c->uout) > 0)
		uw |= UV_WRITABLE;
	else if (c->uout.p)
		px_buf_free(&c->uout);
	if (buf_data(&c->uout) == 0 && !c->c2u.done &&
	    tunnel_half(c->px, &c->c2u, &c->u2c, &c->c, &c->u, &cw, &uw) < 0) {
		px_conn_close(c);
		return;
	}
	if (buf_data(&c->cout) == 0 && !c->u2c.done &&
	    tunnel_half(c->px, &c->u2c, &c->c2u, &c->u, &c->c, &uw, &cw) < 0) {
		px_conn_close(c);
		return;
	}
	if (c->c2u.done && c->u2c.done) {
		px_conn_close(c);
		return;
	}
	px_endpoint_want(c, &c->c, cw);
	px_endpoint_want(c, &c->u, uw);
}

/* ---- length-framed bodies by splice(2) ------------------------------ *
 * Once the bytes of a Content-Length body that arrived with its head are
 * relayed, the rest goes through a pipe with splice(2), like a tunnel,
 * never through user space.  At most the body's `left` bytes are taken
 * from the source, so what follows the body (a pipelined request, the
 * origin's next response) stays in its socket. */

/* Returns 1 when bytes moved, 0 when none could, SPLICE_SRC_ERR or
 * SPLICE_DST_ERR; *eof when the source ended before the body did (the
 * body is then done, truncated). */
int px_splice_body(srt_proxy *px, body_relay *r, half *h, endpoint *from, endpoint *to, bool *eof)
{
	/* the events to wait for are asked by px_forward_run, after all its
	 * passes, by the same rule */
	int want_from = 0, want_to = 0;
	int moved = splice_pump(px, h, from, to, &r->left, &want_from, &want_to);
	*eof = h->src_eof;
	if (moved >= 0 && h->pending == 0 && (r->left == 0 || h->src_eof))
		r->done = true;
	return moved;
}
