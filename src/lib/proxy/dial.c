/* dial.c - from an allowed destination to a connected upstream socket: the
 * policy's verdict, the localhost and IP-literal checks, the lookup, the
 * resolved-address guard on every address it gives (the address that
 * passed is the one dialed: no second lookup), the non-blocking connect
 * tried address by address, and what the connection turns into once
 * connected (a tunnel or a forwarded exchange). */
#include "proxy_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "socks.h"
#include "upstream.h"

/* The policy's verdict on c->host:c->port (SPEC §5), for both proxies:
 * false after answering a refusal. */
bool px_admit(conn *c)
{
	srt_net_verdict v;
	c->via = NULL; /* a keep-alive connection's earlier request chose its own */
	srt_netpolicy_check(c->px->o.policy, c->host, c->port, &v);
	if (!v.allowed) {
		px_refuse(c, v.rule, v.reason);
		return false;
	}
	c->literal_ok = v.by_ip_literal;
	/* how to reach it: through the parent proxy, or directly (reach()) */
	c->via = srt_upstream_route(c->px->o.upstream, c->host, c->proto == P_SOCKS || c->is_connect);
	return true;
}

static void start_connect(conn *c);

static bool is_localhost_name(const char *h)
{
	size_t n = strlen(h);
	if (n > 0 && h[n - 1] == '.')
		n--;
	if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
		return true;
	return n > 10 && strncasecmp(h + n - 10, ".localhost", 10) == 0;
}

static bool parse_literal(const char *host, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char tmp[SRT_HTTP_MAX_HOST + 1];
	snprintf(tmp, sizeof tmp, "%s", host);
	size_t n = strlen(tmp);
	if (n > 1 && tmp[n - 1] == '.')
		tmp[n - 1] = '\0';
	if (inet_pton(AF_INET, tmp, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return true;
	}
	if (inet_pton(AF_INET6, tmp, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return true;
	}
	return false;
}

static const char *addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	const void *a = sa->sa_family == AF_INET
				? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
				: (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (!inet_ntop(sa->sa_family, a, out, (socklen_t)len))
		snprintf(out, len, "?");
	return out;
}

/* May this resolved address be dialed?  NULL if yes, else the reason. */
static const char *address_refused(conn *c, const struct sockaddr *sa)
{
	const char *why = srt_guard_check(c->px->o.guard, sa);
	if (!why)
		return NULL;
	char t[INET6_ADDRSTRLEN];
	/* reaching a literal by name grants nothing the literal does not */
	if (srt_netpolicy_literal_allowed(c->px->o.policy, addr_text(sa, t, sizeof t), c->port))
		return NULL;
	return why;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	conn *c = req->data;
	c->handles--;
	c->resolving = false;
	if (c->state != ST_RESOLVE) { /* closed, or timed out and answered */
		if (res)
			uv_freeaddrinfo(res);
		px_conn_free_if_done(c);
		return;
	}
	if (status < 0 || !res) {
		if (res)
			uv_freeaddrinfo(res);
		if (c->proto == P_SOCKS) {
			px_socks_reply(c, SRT_SOCKS_HOST_UNREACHABLE);
		} else {
			char body[600];
			snprintf(body, sizeof body, "srt: cannot resolve %s: %s", c->via ? c->via->host : c->host,
				 uv_strerror(status));
			px_http_reply(c, 502, "Bad Gateway", body, false);
		}
		px_conn_run(c);
		return;
	}
	/* Drop every address the guard refuses; dial a survivor (no second
	 * lookup: the address that passed the check is the one dialed). */
	struct addrinfo **pp = &res;
	const char *first_reason = NULL;
	while (*pp) {
		/* the parent proxy's address is the settings' choice, not the
		 * sandbox's: the guard is for destinations srt dials */
		const char *why = c->via ? NULL : address_refused(c, (*pp)->ai_addr);
		if (why) {
			if (!first_reason)
				first_reason = why;
			struct addrinfo *bad = *pp;
			*pp = bad->ai_next;
			bad->ai_next = NULL;
			uv_freeaddrinfo(bad);
		} else {
			pp = &(*pp)->ai_next;
		}
	}
	if (!res) {
		char reason[512];
		snprintf(reason, sizeof reason, "%s resolves only to refused addresses (%s)", c->host,
			 first_reason ? first_reason : "none");
		px_refuse(c, "resolved-address guard", reason);
		px_conn_run(c);
		return;
	}
	c->ai = res;
	c->ai_next = res;
	start_connect(c);
	px_conn_run(c);
}

/* How an allowed destination is reached, the one place that decides it:
 * an IP literal is checked by the guard (unless an explicit literal entry
 * allowed it); then an idle upstream connection serves (`reuse`,
 * absolute-form requests only), else the literal is dialed, else the
 * addresses a lookup gives (each checked by the guard, on_resolved).
 * Ends in px_connected(), or with ST_CONNECT and a connect in progress, or
 * with ST_RESOLVE and the lookup in flight, or with the client answered.
 * Through a parent proxy (c->via, px_admit) the same steps reach the
 * parent instead: srt dials the parent, and the parent resolves the
 * destination (the reference's rule), so the guard judges neither. */
static void reach(conn *c, bool reuse)
{
	const char *dhost = c->via ? c->via->host : c->host;
	int dport = c->via ? c->via->port : c->port;
	if (parse_literal(dhost, dport, &c->literal)) {
		if (c->proto != P_RELAY && !c->literal_ok && !c->via) {
			const char *why = srt_guard_check(c->px->o.guard, (struct sockaddr *)&c->literal);
			if (why) {
				px_refuse(c, "resolved-address guard", why);
				return;
			}
		}
	}
	if (reuse && c->proto == P_HTTP && !c->is_connect && px_idle_take(c)) {
		px_connected(c);
		return;
	}
	if (c->literal.ss_family != AF_UNSPEC) {
		c->literal_used = true;
		start_connect(c);
		return;
	}
	char port[8];
	snprintf(port, sizeof port, "%d", dport);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_ADDRCONFIG};
	c->gai.data = c;
	if (uv_getaddrinfo(&c->px->loop, &c->gai, on_resolved, dhost, port, &hints) < 0) {
		px_upstream_failed(c, EHOSTUNREACH, false);
		return;
	}
	c->handles++;
	c->resolving = true;
}

/* Resolve (unless a literal) and dial c->host:c->port; `reuse`: an
 * absolute-form request may take an idle connection instead. */
static void dial(conn *c, bool reuse)
{
	/* a keep-alive client connection dials anew for each request */
	if (c->ai)
		uv_freeaddrinfo(c->ai);
	c->ai = c->ai_next = NULL;
	c->literal_used = false;
	c->dial_err = 0;
	c->state = ST_RESOLVE;
	px_timer_set(c, c->px->o.connect_timeout_ms);
	if (c->proto != P_RELAY && is_localhost_name(c->host)) {
		px_refuse(c, NULL, "localhost is never reachable by name");
		return;
	}
	reach(c, reuse);
}

void px_begin_dial(conn *c) { dial(c, true); }
void px_begin_dial_fresh(conn *c) { dial(c, false); }

/* Try the next candidate address; on the last failure answer the client. */
static void start_connect(conn *c)
{
	int last_err = c->dial_err ? c->dial_err : EHOSTUNREACH;
	for (;;) {
		const struct sockaddr *sa;
		socklen_t len;
		if (c->literal_used) {
			if (c->ai_next == (void *)-1)
				break;
			sa = (const struct sockaddr *)&c->literal;
			len = c->literal.ss_family == AF_INET ? sizeof(struct sockaddr_in)
							    : sizeof(struct sockaddr_in6);
			c->ai_next = (void *)-1;
		} else {
			if (!c->ai_next)
				break;
			sa = c->ai_next->ai_addr;
			len = c->ai_next->ai_addrlen;
			c->ai_next = c->ai_next->ai_next;
		}
		int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			last_err = errno;
			if (px_exhausted(last_err)) {
				px_pause_accept(c->px); /* no new clients until some close */
				break;
			}
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(fd, sa, len) == 0 || errno == EINPROGRESS) {
			c->u = (endpoint){.fd = fd};
			c->state = ST_CONNECT;
			return;
		}
		last_err = errno;
		close(fd);
	}
	px_upstream_failed(c, last_err, false);
}


void px_connected(conn *c)
{
	if (c->via && (c->proto == P_SOCKS || c->is_connect) && c->state != ST_PARENT) {
		px_parent_connect(c); /* the tunnel is the parent's, once it agrees */
		return;
	}
	px_timer_set(c, 0);
	if (c->proto == P_SOCKS) {
		px_socks_reply(c, SRT_SOCKS_OK);
		px_tunnel_start(c);
	} else if (c->proto == P_RELAY || c->is_connect) {
		if (c->is_connect) {
			static const char ok[] = "HTTP/1.1 200 Connection Established\r\n\r\n";
			px_buf_append(&c->cout, ok, sizeof ok - 1, RELAY_CAP);
		}
		px_tunnel_start(c);
	} else {
		px_forward_start(c);
	}
}

void px_check_connect(conn *c)
{
	/* a connecting socket reports writable (or an error) once the
	 * handshake is over: until that edge there is nothing to ask */
	if (!(c->u.ready & UV_WRITABLE))
		return;
	int err = 0;
	socklen_t l = sizeof err;
	if (getsockopt(c->u.fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		err = errno;
	if (err == 0) {
		px_connected(c);
		return;
	}
	c->dial_err = err;
	px_endpoint_close(c, &c->u);
	start_connect(c);
}
