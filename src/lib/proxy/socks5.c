/* socks5.c - the SOCKS5 handshake (RFC 1928, RFC 1929): greeting, optional
 * username/password (any is accepted: the policy is by destination), then
 * a CONNECT request checked like any other destination.  The messages are
 * parsed by the pure parser in socks.c. */
#include "proxy_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "socks.h"

/* A domain written as a bracketed IPv6 literal ("[::1]") is that address,
 * as the policy reads it (domain.c): kept without its brackets, the form
 * the HTTP proxy's parser gives and the dial takes for a literal.  With the
 * brackets the dial looked the text up as a name (/etc/hosts, DNS search
 * domains: "[::1].corp.example") and dialed what came back, not the
 * literal the policy allowed (red team). */
static void unbracket(char *host)
{
	size_t n = strlen(host);
	struct in6_addr a;
	char tmp[INET6_ADDRSTRLEN];
	if (n < 3 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= sizeof tmp)
		return;
	memcpy(tmp, host + 1, n - 2);
	tmp[n - 2] = '\0';
	if (inet_pton(AF_INET6, tmp, &a) == 1)
		memcpy(host, tmp, n - 1); /* with the NUL */
}

void px_socks_run(conn *c)
{
	int rounds;
	for (rounds = 0; rounds < 16; rounds++) {
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
				if (req.atyp == 3)
					unbracket(c->host);
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
		int rr = px_read_into(&c->c, &c->cin, 1024);
		if (rr == 1)
			continue;
		if (rr == 0 || rr == -2) {
			px_conn_close(c);
			return;
		}
		break;
	}
	if (px_flush_to(&c->c, &c->cout) < 0) {
		px_conn_close(c);
		return;
	}
	px_endpoint_want(c, &c->c, UV_READABLE | (buf_data(&c->cout) ? UV_WRITABLE : 0));
	if (rounds == 16) /* the bound ended it: what was read may be a whole message */
		px_conn_defer(c);
}
