/* idle.c - the idle-upstream pool: upstream connections of absolute-form
 * exchanges kept for later requests of the same sandbox to the same host
 * and port (ARCHITECTURE.md, "Upstream reuse"). */
#include "proxy_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* ---- upstream reuse ------------------------------------------------- *
 * An absolute-form request whose exchange ended cleanly (HTTP/1.1 both
 * ways, a framed response, nothing after it, no "close") leaves its
 * upstream connection on the idle list; a later request of the same
 * sandbox to the same host and port - checked against the policy like any
 * other - takes it instead of resolving and dialing.  The list is per
 * proxy (one sandbox), bounded (IDLE_UP_MAX, IDLE_UP_MS) and emptied when
 * the policy changes.  An idle connection that becomes readable (the
 * origin closed it, or sent bytes nobody asked for) is dropped. */

/* Move the upstream endpoint (and its epoll slot) from one connection to
 * another. */
static void upstream_move(conn *from, conn *to)
{
	to->u = from->u;
	px_endpoint_moved(to, &to->u);
	from->u = (endpoint){.fd = -1};
}

void px_idle_unlink(conn *c)
{
	srt_proxy *px = c->px;
	if (c->idle_prev)
		c->idle_prev->idle_next = c->idle_next;
	else
		px->idle_first = c->idle_next;
	if (c->idle_next)
		c->idle_next->idle_prev = c->idle_prev;
	else
		px->idle_last = c->idle_prev;
	c->idle_prev = c->idle_next = NULL;
	px->n_idle--;
}

void px_idle_close_all(srt_proxy *px)
{
	while (px->idle_first)
		px_conn_close(px->idle_first);
}

/* Keep c's upstream connection for reuse (or close it). */
void px_idle_put(conn *c)
{
	srt_proxy *px = c->px;
	conn *y = px->stopping ? NULL : px_conn_new(px, -1);
	if (!y) {
		px_endpoint_close(c, &c->u);
		return;
	}
	upstream_move(c, y);
	y->proto = P_HTTP;
	memcpy(y->host, c->host, sizeof y->host);
	y->port = c->port;
	y->via = c->via;
	y->state = ST_IDLE_UP;
	y->idle_next = px->idle_first;
	if (px->idle_first)
		px->idle_first->idle_prev = y;
	else
		px->idle_last = y;
	px->idle_first = y;
	px->n_idle++;
	px_timer_set(y, IDLE_UP_MS);
	if (px_endpoint_want(y, &y->u, UV_READABLE) < 0)
		px_conn_close(y);
	else if (px->n_idle > IDLE_UP_MAX)
		px_conn_close(px->idle_last);
}

static bool has_body(const srt_body *b)
{
	return b->kind != SRT_BODY_NONE && !(b->kind == SRT_BODY_LENGTH && b->length == 0);
}

/* Is this idle connection still open with nothing unread? */
static bool idle_usable(endpoint *e)
{
	char b;
	ssize_t n = recv(e->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		e->ready &= ~UV_READABLE;
		return true;
	}
	return false;
}

/* Woken while idle: the readiness may be older than the idle time (the
 * last read of the response stopped at its end, before any EAGAIN). */
bool px_idle_still_usable(conn *c)
{
	return idle_usable(&c->u);
}

/* Give c an idle upstream connection to its host and port, if there is a
 * usable one.  The request head is kept, to be sent again on a fresh
 * connection should the origin close this one before answering. */
bool px_idle_take(conn *c)
{
	srt_proxy *px = c->px;
	conn *y = px->idle_first;
	while (y) {
		conn *next = y->idle_next;
		if (y->port == c->port && y->via == c->via && strcasecmp(y->host, c->host) == 0) {
			if (!idle_usable(&y->u)) {
				px_conn_close(y);
			} else if (!has_body(&c->req.body) &&
				   px_buf_append(&c->retry, c->uout.p + c->uout.off, buf_data(&c->uout),
					      SRT_HTTP_MAX_HEAD * 2) < 0) {
				return false;
			} else {
				upstream_move(y, c);
				px_conn_close(y);
				c->up_reused = true;
				return true;
			}
		}
		y = next;
	}
	return false;
}

/* The reused connection failed before any byte of a response: dial anew
 * and send the head again (only requests without a body are retried). */
bool px_retry_fresh(conn *c)
{
	if (!c->up_reused || buf_data(&c->retry) == 0 || buf_data(&c->uin) > 0 || c->resp_head_done)
		return false;
	px_endpoint_close(c, &c->u);
	c->up_reused = false;
	px_buf_free(&c->uout);
	c->uout = c->retry;
	c->retry = (buf){0};
	c->u.eof = false;
	px_begin_dial_fresh(c);
	return true;
}
