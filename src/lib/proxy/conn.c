/* conn.c - the proxy's connections and its loop: a connection's life
 * (created on accept, its sockets polled, its timer, closed and freed once
 * libuv has let go of every handle), the driver that steps its state
 * machine, accept, and the libuv loop on its own thread with its start,
 * stop and live policy updates.
 *
 * Handshakes (HTTP heads, SOCKS messages) go through small bounded buffers
 * (buf.c); established tunnels move bytes with splice(2) through a pipe
 * taken from a pool only while bytes are in flight (splice.c), so neither
 * memory nor descriptors grow with the size of a transfer or the number of
 * idle tunnels.  Absolute-form HTTP requests are forwarded message by
 * message (the proxy must see each head), with bodies relayed by their
 * framing (heads.c, forward.c). */
#include "proxy_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nons/peers.h"
#include "util.h"

/* ---- connection life cycle ----------------------------------------- */

/* A connection with client socket `fd` (-1: none), linked into the list. */
conn *px_conn_new(srt_proxy *px, int fd)
{
	conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->px = px;
	c->born = uv_now(&px->loop);
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

/* ---- events ----------------------------------------------------------
 * Every socket of every connection is added once to the proxy's own epoll
 * set, edge-triggered for both directions, and never modified: the loop
 * polls that set's descriptor, and on_events takes what it reports.  An
 * edge sets the endpoint's ready bits; an I/O call that would block clears
 * one (buf.c, splice.c); the connection runs when something it waits on is
 * ready, and px_endpoint_want runs it again (deferred) when it asks for
 * something already ready - the level-triggered contract the states were
 * written for, at two epoll_ctl per tunnel instead of one per change of
 * what it waits on (about 11 before). */

#define EVENTS_PER_WAIT 64

static uint64_t slot_token(const srt_proxy *px, uint32_t i)
{
	return (uint64_t)px->slots[i].gen << 32 | i;
}

static uint32_t slot_take(srt_proxy *px, conn *c, bool upstream)
{
	if (!px->free_slot) {
		uint32_t n = px->n_slots ? px->n_slots * 2 : 64;
		if (n > (1u << 24))
			return 0;
		ep_slot *s = realloc(px->slots, n * sizeof *s);
		if (!s)
			return 0;
		memset(s + px->n_slots, 0, (n - px->n_slots) * sizeof *s);
		/* slot 0 means "none": free list of the new ones, 0 ends it */
		for (uint32_t i = n - 1; i >= (px->n_slots ? px->n_slots : 1); i--) {
			s[i].next_free = px->free_slot;
			px->free_slot = i;
		}
		px->slots = s;
		px->n_slots = n;
	}
	uint32_t i = px->free_slot;
	px->free_slot = px->slots[i].next_free;
	px->slots[i].c = c;
	px->slots[i].upstream = upstream;
	return i;
}

static void slot_free(srt_proxy *px, uint32_t i)
{
	if (!i)
		return;
	px->slots[i].c = NULL;
	px->slots[i].gen++; /* events still queued for it name a stale slot */
	px->slots[i].next_free = px->free_slot;
	px->free_slot = i;
}

void px_endpoint_moved(conn *to, endpoint *e)
{
	if (e->slot) {
		to->px->slots[e->slot].c = to;
		to->px->slots[e->slot].upstream = e == &to->u;
	}
}

static void on_events(uv_poll_t *h, int status, int events)
{
	srt_proxy *px = h->data;
	(void)status;
	(void)events;
	conn *run[EVENTS_PER_WAIT];
	/* bounded: the others on the loop (listeners, timers) get a turn */
	for (int round = 0; round < 4; round++) {
		struct epoll_event ev[EVENTS_PER_WAIT];
		int n = epoll_wait(px->ep_fd, ev, EVENTS_PER_WAIT, 0);
		if (n <= 0)
			return;
		px->batch++;
		int n_run = 0;
		/* first every event's bits, then each connection once: both of
		 * its sockets may be in one batch */
		for (int i = 0; i < n; i++) {
			uint32_t si = (uint32_t)ev[i].data.u64;
			if (si >= px->n_slots || px->slots[si].gen != (uint32_t)(ev[i].data.u64 >> 32))
				continue;
			conn *c = px->slots[si].c;
			if (!c)
				continue;
			endpoint *e = px->slots[si].upstream ? &c->u : &c->c;
			uint32_t got = ev[i].events;
			if (got & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
				e->ready |= UV_READABLE;
			if (got & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				e->ready |= UV_WRITABLE;
			if ((e->ready & e->want) && c->batch != px->batch) {
				c->batch = px->batch;
				run[n_run++] = c;
			}
		}
		/* a connection closed by another's run stays allocated until
		 * libuv's close callbacks, after this one: px_conn_run on it
		 * does nothing */
		for (int i = 0; i < n_run; i++)
			px_conn_run(run[i]);
		if (n < EVENTS_PER_WAIT)
			return;
	}
}

int px_events_init(srt_proxy *px)
{
	px->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (px->ep_fd < 0)
		return -1;
	if (uv_poll_init(&px->loop, &px->ep_watch, px->ep_fd) < 0) {
		close(px->ep_fd);
		px->ep_fd = -1;
		return -1;
	}
	px->ep_watch.data = px;
	uv_poll_start(&px->ep_watch, UV_READABLE, on_events);
	return 0;
}

/* On stop, after every connection is closed; the descriptor is closed with
 * the loop (srt_proxy_stop), after libuv has let go of it. */
void px_events_close(srt_proxy *px)
{
	if (px->ep_fd >= 0)
		uv_close((uv_handle_t *)&px->ep_watch, NULL);
}

void px_endpoint_close(conn *c, endpoint *e)
{
	if (e->fd < 0)
		return;
	/* close(2) takes the socket out of the epoll set unless another
	 * process holds a copy; the slot's generation covers that case */
	slot_free(c->px, e->slot);
	close(e->fd);
	*e = (endpoint){.fd = -1};
}


static void on_resume(uv_timer_t *t);

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
	/* descriptors come free: a paused listener may take clients again
	 * (next loop turn) */
	if (px->paused && !px->stopping)
		uv_timer_start(&px->resume, on_resume, 0, 0);
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

/* Wait on `want` (UV_READABLE | UV_WRITABLE, 0: nothing) of e.  The socket
 * joins the epoll set the first time it waits on something (an event is
 * then reported at once if it is ready); what it asks for that is already
 * ready, as far as the proxy knows, runs the connection again on the next
 * loop iteration, as a level-triggered poll would.  -1: it could not join
 * the set, and the connection is closed. */
int px_endpoint_want(conn *c, endpoint *e, int want)
{
	if (e->fd < 0)
		return 0;
	e->want = want;
	if (want && !e->slot) {
		srt_proxy *px = c->px;
		/* a socket that cannot join the set would never hear of an
		 * event (epoll_ctl says ENOSPC once fs.epoll.max_user_watches,
		 * counted per user, is used up by any process of srt's user):
		 * its connection is closed now rather than left waiting for
		 * good, which a tunnel, without timeout, would */
		uint32_t si = slot_take(px, c, e == &c->u);
		if (!si) {
			px_conn_close(c);
			return -1;
		}
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
					 .data.u64 = slot_token(px, si)};
		if (epoll_ctl(px->ep_fd, EPOLL_CTL_ADD, e->fd, &ev) < 0) {
			slot_free(px, si);
			px_conn_close(c);
			return -1;
		}
		e->slot = si;
	}
	if (e->ready & want)
		px_conn_defer(c);
	return 0;
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
	case ST_PARENT:
		px_endpoint_close(c, &c->u);
		px_upstream_failed(c, ETIMEDOUT, true);
		break;
	case ST_FORWARD: {
		/* an inactivity timeout: forward.c notes when bytes moved */
		uint64_t quiet = uv_now(&c->px->loop) - c->last_move;
		if (quiet < c->px->o.response_timeout_ms) {
			px_timer_set(c, c->px->o.response_timeout_ms - quiet);
			return;
		}
		if (!c->resp_head_done) {
			px_endpoint_close(c, &c->u);
			px_http_reply(c, 504, "Gateway Timeout", "srt: no response from upstream in time", false);
			break;
		}
		px_conn_close(c);
		return;
	}
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

/* ---- the driver ----------------------------------------------------- */

/* A closing connection whose answer is out reads and drops what its client
 * still sends, until the client closes, LINGER_BYTES have come or the
 * LINGER_MS timer ends it (ST_CLOSING in on_timeout). */
static void linger(conn *c)
{
	for (int i = 0; i < SRT_LOOP_BUDGET; i++) {
		char sink[16384];
		ssize_t n = recv(c->c.fd, sink, sizeof sink, MSG_DONTWAIT);
		if (n > 0) {
			c->lingered += (size_t)n;
			if (c->lingered >= LINGER_BYTES)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->c.ready &= ~UV_READABLE;
			px_endpoint_want(c, &c->c, UV_READABLE);
			return;
		}
		px_conn_close(c); /* the client closed (or failed): done */
		return;
	}
	if (c->lingered >= LINGER_BYTES) {
		px_conn_close(c);
		return;
	}
	/* the budget ended it with bytes still coming: next turn */
	px_endpoint_want(c, &c->c, UV_READABLE);
	px_conn_defer(c);
}

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
	case ST_PARENT:
		px_parent_run(c);
		break;
	case ST_TUNNEL:
		px_tunnel_run(c);
		break;
	case ST_FORWARD:
		px_forward_run(c);
		break;
	case ST_IDLE_UP: /* readable while idle: closed by the origin, or junk */
		if (px_idle_still_usable(c))
			return; /* the ready bit was older than the idle time */
		px_conn_close(c);
		return;
	case ST_CLOSING:
		if (c->u.fd >= 0)
			px_endpoint_close(c, &c->u);
		if (!c->lingering) {
			if (px_flush_to(&c->c, &c->cout) < 0) {
				px_conn_close(c);
				return;
			}
			if (buf_data(&c->cout) > 0) {
				px_timer_set(c, 5000);
				px_endpoint_want(c, &c->c, UV_WRITABLE);
				break;
			}
			/* the answer is out: say so, then take what the client
			 * still sends (the body of a refused upload) until it
			 * closes - closing with its bytes unread would reset the
			 * connection, and a client that sends its whole body
			 * before reading saw "broken pipe", never the answer */
			shutdown(c->c.fd, SHUT_WR);
			c->lingering = true;
			px_timer_set(c, LINGER_MS);
		}
		linger(c);
		break;
	case ST_DEAD:
	default:
		break;
	}
}

/* Step until the state stops changing (a step that moves to a new state
 * lets that state register what it waits for).  When the bound is reached
 * with the state still changing, the state just entered has asked for
 * nothing yet - a pipelined request that took an idle upstream would wait
 * forever with its head unsent (issue #11) - so it runs again on the next
 * loop iteration. */
void px_conn_run(conn *c)
{
	for (int i = 0; i < 16; i++) {
		enum px_state before = c->state;
		conn_step(c);
		if (c->state == before || c->state == ST_DEAD)
			return;
	}
	px_conn_defer(c);
}

static void on_deferred(uv_idle_t *h)
{
	srt_proxy *px = h->data;
	conn *list = px->deferred; /* those deferred while these run wait for the next turn */
	px->deferred = NULL;
	uv_idle_stop(h);
	while (list) {
		conn *c = list;
		list = c->defer_next;
		c->defer_next = NULL;
		c->defer_queued = false;
		c->handles--;
		if (c->state == ST_DEAD)
			px_conn_free_if_done(c);
		else
			px_conn_run(c);
	}
}

void px_conn_defer(conn *c)
{
	srt_proxy *px = c->px;
	if (c->defer_queued || c->state == ST_DEAD || px->stopping)
		return;
	c->defer_queued = true;
	c->handles++; /* kept until on_deferred, even if closed before */
	c->defer_next = px->deferred;
	px->deferred = c;
	/* an active idle handle makes the loop poll without blocking */
	uv_idle_start(&px->defer_idle, on_deferred);
}

int px_defer_init(srt_proxy *px)
{
	px->defer_idle.data = px;
	return uv_idle_init(&px->loop, &px->defer_idle);
}

/* On stop, after every connection is closed: release the deferred ones. */
void px_defer_close(srt_proxy *px)
{
	uv_idle_stop(&px->defer_idle);
	while (px->deferred) {
		conn *c = px->deferred;
		px->deferred = c->defer_next;
		c->defer_queued = false;
		c->handles--;
		px_conn_free_if_done(c);
	}
	uv_close((uv_handle_t *)&px->defer_idle, NULL);
}

/* ---- accept, and what it does out of descriptors --------------------- */

/* How many connections srt's descriptor limit (its soft limit, read now)
 * lets the proxy hold: FDS_PER_CONN each, after the pipe pool and srt's
 * own.  Raising the soft limit is the caller's business (the CLI raises it
 * to the hard limit once the command has started with the caller's): a
 * library does not change process-wide state behind its caller's back, so
 * the cap is read again when reached. */
static size_t px_conn_cap(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return DEFAULT_MAX_CONNS;
	rlim_t fixed = FD_RESERVE + 2 * PIPE_POOL;
	if (rl.rlim_cur < fixed + FDS_PER_CONN)
		return 1;
	rlim_t n = (rl.rlim_cur - fixed) / FDS_PER_CONN;
	return n < DEFAULT_MAX_CONNS ? (size_t)n : DEFAULT_MAX_CONNS;
}

bool px_exhausted(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS;
}

static void on_accept(uv_poll_t *h, int status, int events);

static void on_resume(uv_timer_t *t)
{
	srt_proxy *px = t->data;
	if (px->stopping || !px->paused)
		return;
	px->paused = false;
	if (px->spare_fd < 0)
		px->spare_fd = eventfd(0, EFD_CLOEXEC);
	for (size_t i = 0; i < px->n_listen; i++)
		uv_poll_start(&px->listen[i].h, UV_READABLE, on_accept);
}

/* A level-triggered listener with clients waiting stays readable however
 * often accept4 fails: stop polling it instead of spinning, for
 * ACCEPT_PAUSE_MS or until a connection closes (px_conn_close). */
void px_pause_accept(srt_proxy *px)
{
	if (px->stopping)
		return;
	if (!px->paused) {
		px->paused = true;
		for (size_t i = 0; i < px->n_listen; i++)
			uv_poll_stop(&px->listen[i].h);
	}
	if (!uv_is_active((uv_handle_t *)&px->resume))
		uv_timer_start(&px->resume, on_resume, ACCEPT_PAUSE_MS, 0);
}

/* The no-namespace mode: 127.0.0.1 with a port the gate registered (taken). */
static bool peer_authorized(srt_peer_registry *r, const struct sockaddr_storage *peer, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;
	if (len < sizeof *sin || sin->sin_family != AF_INET || ntohl(sin->sin_addr.s_addr) != INADDR_LOOPBACK)
		return false;
	return srt_peers_take(r, ntohs(sin->sin_port));
}

/* Out of room: close the oldest connection that began a handshake and has
 * not finished it after EVICT_AFTER_MS (a slowloris holding a partial
 * head), answering 408, so that a flood of them cannot lock new clients
 * out until the handshake timeout.  A client that has sent nothing yet is
 * left alone (the cap's contract: the next one is refused 503).  Whether
 * one was closed. */
static bool evict_stale_handshake(srt_proxy *px)
{
	uint64_t now = uv_now(&px->loop);
	conn *oldest = NULL;
	for (conn *c = px->conns; c; c = c->next) { /* newest first */
		bool partial = (c->state == ST_HTTP_HEAD && buf_data(&c->cin) > 0) ||
			       c->state == ST_SOCKS_AUTH || c->state == ST_SOCKS_REQUEST;
		if (partial && now - c->born >= EVICT_AFTER_MS)
			oldest = c;
	}
	if (!oldest)
		return false;
	if (oldest->state == ST_HTTP_HEAD) {
		px_http_reply(oldest, 408, "Request Timeout",
			      "srt: request head not received in time", false);
		px_conn_run(oldest); /* a short answer, then closed (or in ST_CLOSING) */
	}
	px_conn_close(oldest); /* no-op when already closed */
	return true;
}

/* A client that cannot be served now: told so where the protocol allows
 * (the HTTP proxy answers 503; SOCKS and raw relays see a close). */
static void refuse_busy(const listen_handle *lh, int fd, const char *why)
{
	if (lh->l.kind == SRT_LISTEN_HTTP && !lh->l.relay_port) {
		char busy[256];
		int n = snprintf(busy, sizeof busy,
				 "HTTP/1.1 503 Service Unavailable\r\nX-Proxy-Error: %s\r\n"
				 "Content-Length: 0\r\nConnection: close\r\n\r\n",
				 why);
		(void)!send(fd, busy, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	close(fd);
}

/* accept4 failed for want of descriptors: give up the spare one to take
 * the waiting clients one by one and tell each 503 (bounded), then pause. */
static void refuse_exhausted(srt_proxy *px, const listen_handle *lh)
{
	for (int i = 0; i < 64 && px->spare_fd >= 0; i++) {
		close(px->spare_fd);
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof peer;
		int fd = accept4(lh->l.fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			if (px->o.authorized && !peer_authorized(px->o.authorized, &peer, peer_len))
				close(fd);
			else
				refuse_busy(lh, fd, "out-of-descriptors");
		}
		/* -1 when another thread took it meanwhile: got back on resume */
		px->spare_fd = eventfd(0, EFD_CLOEXEC);
		if (fd < 0)
			break;
	}
	px_pause_accept(px);
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
	for (int i = 0; i < 64 && !px->paused; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof peer;
		int fd = accept4(lh->l.fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			/* a stale handshake closed gives its descriptors back
			 * once libuv has let go of them: the close re-arms */
			if (px_exhausted(e)) {
				px_pause_accept(px);
				if (!evict_stale_handshake(px))
					refuse_exhausted(px, lh);
			}
			else if (e == ECONNABORTED || e == EPROTO)
				continue; /* that client is gone; others may wait */
			return;
		}
		if (px->o.authorized && !peer_authorized(px->o.authorized, &peer, peer_len)) {
			close(fd); /* another local user's, not the command's */
			continue;
		}
		if (px->n_conns >= px->o.max_conns && px->auto_cap)
			px->o.max_conns = px_conn_cap(); /* the soft limit may have been raised */
		if (px->n_conns >= px->o.max_conns)
			(void)evict_stale_handshake(px);
		if (px->n_conns >= px->o.max_conns) {
			refuse_busy(lh, fd, "too-many-connections");
			continue;
		}
		conn *c = px_conn_new(px, fd);
		if (!c) {
			refuse_busy(lh, fd, "out-of-memory");
			px_pause_accept(px);
			return;
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
	uv_close((uv_handle_t *)&px->resume, NULL);
	while (px->conns)
		px_conn_close(px->conns);
	px_defer_close(px);
	px_events_close(px);
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
	px->spare_fd = -1;
	px->auto_cap = !px->o.max_conns;
	if (px->auto_cap)
		px->o.max_conns = px_conn_cap();
	if (!px->o.handshake_timeout_ms)
		px->o.handshake_timeout_ms = DEFAULT_HANDSHAKE_MS;
	if (!px->o.connect_timeout_ms)
		px->o.connect_timeout_ms = DEFAULT_CONNECT_MS;
	if (!px->o.response_timeout_ms)
		px->o.response_timeout_ms = DEFAULT_RESPONSE_MS;
	int rc = uv_loop_init(&px->loop);
	if (rc < 0) {
		free(px);
		srt_fail(err, SRT_E_SYSTEM, "proxy event loop: %s", uv_strerror(rc));
		return NULL;
	}
	px->loop.data = px;
	if (px_events_init(px) < 0) {
		srt_fail(err, SRT_E_SYSTEM, "proxy event set: %s", strerror(errno));
		uv_loop_close(&px->loop);
		free(px);
		return NULL;
	}
	px_defer_init(px);
	uv_async_init(&px->loop, &px->stop, on_stop);
	px->stop.data = px;
	uv_mutex_init(&px->lock);
	uv_cond_init(&px->taken);
	uv_async_init(&px->loop, &px->update, on_update);
	px->update.data = px;
	uv_timer_init(&px->loop, &px->resume);
	px->resume.data = px;
	px->spare_fd = eventfd(0, EFD_CLOEXEC);
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
		close(px->ep_fd);
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
		close(px->ep_fd);
		free(px->listen);
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
	if (px->ep_fd >= 0)
		close(px->ep_fd);
	free(px->slots);
	if (px->spare_fd >= 0)
		close(px->spare_fd);
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
