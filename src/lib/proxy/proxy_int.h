/* proxy_int.h - the proxy's private types, shared by the files of
 * src/lib/proxy/ and by nothing else.
 *
 * Every connection is a small state machine (struct conn) driven by
 * px_conn_run() (conn.c), which is called whenever one of its sockets is
 * ready for what the connection waits on and simply tries to make progress
 * on everything non-blockingly (all sockets are O_NONBLOCK).  Sockets are
 * registered once, edge-triggered, in the proxy's own epoll set (conn.c,
 * "events"); what each endpoint has been told is ready is remembered until
 * an I/O call on it says EAGAIN, so the states see level-triggered
 * semantics without an epoll_ctl each time what they wait on changes.
 * The files, one concern each:
 *   conn.c     connection life cycle, timeouts, the state driver, accept,
 *              the libuv loop (start, stop, live policy updates)
 *   buf.c      bounded byte buffers and their socket reads and writes
 *   reply.c    answers to the client: refusals, errors, violations
 *   dial.c     policy verdict, resolve, resolved-address guard, connect
 *   idle.c     the idle-upstream pool (absolute-form upstream reuse)
 *   splice.c   the splice(2) pump, its pipe pool, CONNECT/SOCKS tunnels
 *   heads.c    HTTP request and response heads: parse, check, rewrite
 *   forward.c  absolute-form forwarding: bodies relayed by their framing
 *   socks5.c   the SOCKS5 handshake
 *   parent.c   parentProxy: the CONNECT to the parent proxy and its reply
 */
#ifndef SRT_PROXY_INT_H
#define SRT_PROXY_INT_H

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "gateloop.h"
#include "http.h"
#include "proxy.h"

#define DEFAULT_MAX_CONNS 8192
/* The connection cap follows srt's descriptor limit (conn.c, px_conn_cap):
 * a connection holds its two sockets and, while bytes are in flight, a
 * pipe of the splice pump; the pipe pool and srt's own descriptors (the
 * sandbox's, the loop's, the resolver's sockets) come off the top. */
#define FDS_PER_CONN 4
#define FD_RESERVE 64
/* Out of descriptors or memory: the listeners stop being polled for this
 * long, or until a connection closes. */
#define ACCEPT_PAUSE_MS 100
/* Out of room, a connection still in its handshake for this long (a real
 * client's takes milliseconds; a slowloris' lasts) gives way to a new one. */
#define EVICT_AFTER_MS 1000
/* A refused or early-answered client is read (and its bytes dropped) for
 * this long or this much after its answer, before the close (conn.c). */
#define LINGER_MS 5000
#define LINGER_BYTES (64u << 20)
#define DEFAULT_HANDSHAKE_MS 30000
#define DEFAULT_CONNECT_MS 15000
#define DEFAULT_RESPONSE_MS 120000
#define RELAY_CAP (64 * 1024)
#define PIPE_SIZE (1024 * 1024)
#define PIPE_POOL 32
/* Work done for one connection per wake-up before the others get a turn.
 * A test build sets it tiny (meson -Dloop_budget=2) so that every
 * "budget used up, come back later" path is taken all the time. */
#ifndef SRT_LOOP_BUDGET
#define SRT_LOOP_BUDGET 64
#endif
/* Idle upstream connections kept for later absolute-form requests to the
 * same host and port (idle.c). */
#define IDLE_UP_MAX 128
#define IDLE_UP_MS 15000

/* What a client connection speaks (SPEC §5). */
enum px_proto {
	P_HTTP,  /* the HTTP proxy: a request head, then CONNECT or forwarding */
	P_SOCKS, /* the SOCKS5 proxy */
	P_RELAY, /* raw bytes to a fixed host port (srt_listener.relay_port) */
};

/* Where a connection is in its life (conn_step in conn.c drives it). */
enum px_state {
	ST_HTTP_HEAD,
	ST_SOCKS_GREETING,
	ST_SOCKS_AUTH,
	ST_SOCKS_REQUEST,
	ST_RESOLVE,
	ST_CONNECT,
	ST_PARENT,  /* CONNECT sent to the parent proxy, its reply awaited */
	ST_TUNNEL,
	ST_FORWARD,
	ST_CLOSING, /* flush what is queued for the client, then close */
	ST_IDLE_UP, /* no client: an idle upstream connection kept for reuse */
	ST_DEAD,
};

typedef struct buf {
	char *p;
	size_t off, len, cap; /* data is p[off..len) */
} buf;

/* Bytes held in a buffer. */
static inline size_t buf_data(const buf *b) { return b->len - b->off; }

typedef struct conn conn;

/* A message body being relayed by its framing. */
typedef struct body_relay {
	srt_body body;
	uint64_t left;      /* SRT_BODY_LENGTH: bytes still to relay */
	srt_chunked chunk;  /* SRT_BODY_CHUNKED: the scanner */
	bool done;
} body_relay;

/* One socket of a connection.  `ready` is what the kernel last reported
 * (edge-triggered) and no I/O call has since found wanting: UV_READABLE is
 * cleared by a read that would block, UV_WRITABLE by a write that would
 * block.  The connection runs when ready & want is not empty. */
typedef struct endpoint {
	int fd;
	int want;       /* UV_READABLE | UV_WRITABLE currently waited on */
	int ready;      /* UV_READABLE | UV_WRITABLE possibly ready */
	uint32_t slot;  /* its entry in px->slots, 0: not registered */
	bool eof;       /* read side saw EOF */
} endpoint;

/* What an epoll event names: a slot, checked by its generation, so that an
 * event still queued for a socket closed since (its registration lives on
 * while another process holds a copy of the descriptor) finds nothing. */
typedef struct ep_slot {
	conn *c;        /* NULL: free */
	uint32_t gen;
	bool upstream;  /* c->u, else c->c */
	uint32_t next_free;
} ep_slot;

typedef struct half { /* one direction of a spliced tunnel */
	int pipe[2];
	size_t pending;
	bool src_eof;
	bool done;      /* shut down the write side of the destination */
} half;

typedef struct listen_handle {
	uv_poll_t h;
	srt_listener l;
} listen_handle;

struct srt_proxy {
	srt_proxy_options o;
	uv_loop_t loop;
	uv_thread_t thread;
	uv_async_t stop;
	struct listen_handle *listen;
	size_t n_listen;
	conn *conns;
	size_t n_conns;
	int pool[PIPE_POOL][2];
	size_t n_pool;
	bool stopping;
	/* the connections' sockets (conn.c, "events"): one epoll set, itself
	 * polled by the loop; slots[0] is never used */
	int ep_fd;
	uv_poll_t ep_watch;
	ep_slot *slots;
	uint32_t n_slots, free_slot;
	uint64_t batch;
	/* exhaustion (conn.c): max_conns derived from RLIMIT_NOFILE, the
	 * listeners paused, and a spare descriptor given up to accept a client
	 * only to tell it 503 when accept4 itself fails with EMFILE */
	bool auto_cap;
	bool paused;
	uv_timer_t resume;
	int spare_fd;
	/* live policy updates: handed over under the lock, swapped on the loop */
	uv_mutex_t lock;
	uv_cond_t taken;
	uv_async_t update;
	srt_netpolicy *pending_np, *owned_np;
	srt_guard *pending_guard, *owned_guard;
	srt_gateloop *gate;   /* allowUnixSockets, else NULL */
	/* idle upstream connections, most recently used first */
	conn *idle_first, *idle_last;
	size_t n_idle;
	/* connections whose step budget ran out mid-way (px_conn_defer) */
	uv_idle_t defer_idle;
	conn *deferred;
};

struct conn {
	srt_proxy *px;
	conn *prev, *next;
	enum px_proto proto;
	enum px_state state;
	uint64_t born;        /* uv_now when accepted */
	uint64_t batch;       /* px->batch when last queued to run on an event */
	endpoint c, u;
	buf cin, cout, uin, uout;
	uv_timer_t timer;
	int handles;          /* open libuv handles + pending requests */
	uv_getaddrinfo_t gai;
	bool resolving;       /* gai in flight */
	struct addrinfo *ai, *ai_next;
	struct sockaddr_storage literal;
	bool literal_used;
	char host[SRT_HTTP_MAX_HOST + 1];
	int port;
	bool literal_ok;      /* allowed by an explicit IP-literal entry */
	const struct srt_parent *via; /* parentProxy: dial this instead (px_admit decides) */
	int dial_err;         /* why the last connect attempt failed */
	const char *guard_reason;
	/* HTTP forwarding */
	bool is_connect;
	bool lingering;       /* ST_CLOSING: the answer is out, input dropped */
	size_t lingered;      /* bytes dropped so far */
	bool client_keepalive;
	char method[16];
	body_relay req, resp;  /* request body toward upstream, response body back */
	bool resp_head_done;
	bool req_dropped;      /* the upstream answered before taking the whole request */
	bool resp_out;         /* a byte of the final response went to the client */
	uint64_t last_move;    /* uv_now when a byte of the exchange last moved */
	bool up_keepalive;     /* the upstream may keep this connection open */
	bool up_reused;        /* the upstream connection came from the idle list */
	buf retry;             /* the request head, to send again on a fresh one */
	conn *idle_prev, *idle_next;
	conn *defer_next;     /* on px->deferred's list (holds a handle count) */
	bool defer_queued;
	half c2u, u2c;
};

/* What splice_pump and px_splice_body return on an error: which side failed. */
enum { SPLICE_SRC_ERR = -1, SPLICE_DST_ERR = -2 };

/* Internal functions shared by these files: not exported from libsrt (they
 * were static to one file before the split). */
#pragma GCC visibility push(hidden)

/* buf.c: px_read_into 1 got bytes, 0 EOF, -1 would block or full, -2
 * error; px_flush_to 0 all written or would block, -2 error.  Both clear
 * the endpoint's ready bit when the socket would block. */
void px_buf_consume(buf *b, size_t n);
int px_buf_append(buf *b, const void *d, size_t n, size_t max);
void px_buf_free(buf *b);
int px_read_into(endpoint *e, buf *b, size_t max);
int px_flush_to(endpoint *e, buf *b);

/* conn.c: life cycle; px_conn_run steps a connection until its state
 * stops changing, each state asking for the events it waits on */
conn *px_conn_new(srt_proxy *px, int fd);
void px_conn_free_if_done(conn *c);
void px_endpoint_close(conn *c, endpoint *e);
void px_conn_close(conn *c);
/* -1: the socket could not join the event set; c is then closed */
int px_endpoint_want(conn *c, endpoint *e, int want);
/* An endpoint moved to another connection (idle.c): its slot follows. */
void px_endpoint_moved(conn *to, endpoint *e);
/* The epoll set and its watcher on the loop; closed on stop. */
int px_events_init(srt_proxy *px);
void px_events_close(srt_proxy *px);
/* The progress rule (ARCHITECTURE.md): a round of work that ends on its
 * budget rather than on a socket that would block calls px_conn_defer, and
 * the connection is run again on the next loop iteration, after the other
 * connections' I/O.  px_defer_init/close: the loop's handle for it. */
void px_conn_defer(conn *c);
int px_defer_init(srt_proxy *px);
void px_defer_close(srt_proxy *px);
void px_timer_set(conn *c, uint64_t ms);
void px_conn_run(conn *c);
/* out of descriptors or memory (errno): stop polling the listeners for a
 * while instead of spinning on them (resumed by a timer or a close) */
bool px_exhausted(int err);
void px_pause_accept(srt_proxy *px);

/* dial.c: px_admit answers a refusal and returns false when the policy
 * says no; px_begin_dial[_fresh] go from an admitted destination to
 * ST_RESOLVE / ST_CONNECT (without _fresh an idle upstream may serve) */
bool px_admit(conn *c);
void px_begin_dial(conn *c);
void px_begin_dial_fresh(conn *c);
void px_check_connect(conn *c);

/* forward.c: ST_FORWARD */
void px_relay_init(body_relay *r, srt_body body);
void px_forward_start(conn *c);
void px_forward_run(conn *c);

/* heads.c: ST_HTTP_HEAD; px_response_head parses the response head in uin
 * (-1: invalid, answered 502 by the caller) */
int px_response_head(conn *c);
void px_http_head_run(conn *c);

/* idle.c: ST_IDLE_UP; px_retry_fresh sends a request again on a fresh
 * connection when a reused one failed before any response byte */
void px_idle_unlink(conn *c);
void px_idle_close_all(srt_proxy *px);
void px_idle_put(conn *c);
bool px_idle_take(conn *c);
bool px_idle_still_usable(conn *c);
bool px_retry_fresh(conn *c);

/* reply.c: each answer but SOCKS success turns the connection to ST_CLOSING */
void px_http_reply(conn *c, int status, const char *phrase, const char *body, bool blocked);
/* the same with extra header lines (each ending in CRLF, at most
 * PX_REPLY_EXTRA_MAX bytes in all, else left out) */
#define PX_REPLY_EXTRA_MAX 4096
void px_http_reply_with(conn *c, int status, const char *phrase, const char *extra,
			const char *body, bool blocked);
void px_socks_reply(conn *c, uint8_t code);
void px_refuse(conn *c, const char *rule, const char *reason);
void px_upstream_failed(conn *c, int err, bool timeout);

/* parent.c: ST_PARENT; px_parent_connect sends the CONNECT once connected
 * to the parent, px_parent_run reads and judges its reply and makes the
 * tunnel (px_connected) on a 2xx */
void px_parent_connect(conn *c);
void px_parent_run(conn *c);

/* dial.c: what a connection turns into once its upstream is connected
 * (through a parent: after the parent's 2xx) */
void px_connected(conn *c);

/* socks5.c: ST_SOCKS_GREETING, ST_SOCKS_AUTH, ST_SOCKS_REQUEST */
void px_socks_run(conn *c);

/* splice.c: ST_TUNNEL; px_splice_body moves the rest of a Content-Length
 * body (the caller has checked that none of it is buffered) */
void px_pipe_put(srt_proxy *px, int p[2], size_t pending);
void px_tunnel_start(conn *c);
void px_tunnel_run(conn *c);
int px_splice_body(srt_proxy *px, body_relay *r, half *h, endpoint *from, endpoint *to, bool *eof);

#pragma GCC visibility pop

#endif
