/* buf.c - the proxy's byte buffers: bounded, grown on demand and freed
 * when empty (idle connections hold none), and their non-blocking socket
 * reads and writes.  Handshakes and forwarded heads and bodies go through
 * them; tunnels and spliced bodies never do. */
#include "proxy_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int buf_room(buf *b, size_t want, size_t max)
{
	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->cap - b->len >= want)
		return 0;
	if (b->off > 0) { /* compact */
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= want)
			return 0;
	}
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < want && cap < max)
		cap *= 2;
	if (cap > max)
		cap = max;
	if (cap - b->len < want)
		return -1; /* full: never report room that is not there (found by the
			    * second network engineer's review, 2026-12-03) */
	char *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

void px_buf_consume(buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

int px_buf_append(buf *b, const void *d, size_t n, size_t max)
{
	if (buf_room(b, n, max) < 0)
		return -1;
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

void px_buf_free(buf *b)
{
	free(b->p);
	*b = (buf){0};
}

/* Read what is available into b (bounded by max).  1: got bytes, 0: EOF,
 * -1: would block or buffer full, -2: error. */
int px_read_into(endpoint *e, buf *b, size_t max)
{
	if (buf_room(b, 1, max) < 0)
		return -1;
	ssize_t n;
	do
		n = recv(e->fd, b->p + b->len, b->cap - b->len, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		b->len += (size_t)n;
		return 1;
	}
	if (n == 0)
		return 0;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -2;
	e->ready &= ~UV_READABLE; /* until the next edge */
	return -1;
}

/* Write as much of b as the socket takes.  0: all written or would block,
 * -2: error, and what b held is dropped: a socket that failed takes
 * nothing more, and bytes left for it would keep its caller waiting on
 * its WRITABLE, which an error reports for good (a request body still
 * coming after the origin answered and went away spun at 100 % CPU). */
int px_flush_to(endpoint *e, buf *b)
{
	while (buf_data(b) > 0) {
		ssize_t n = send(e->fd, b->p + b->off, buf_data(b), MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			e->ready &= ~UV_WRITABLE; /* until the next edge */
			return 0;
		}
		if (n < 0) {
			px_buf_consume(b, buf_data(b));
			return -2;
		}
		px_buf_consume(b, (size_t)n);
	}
	return 0;
}
