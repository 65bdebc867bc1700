/* connect.c - a minimal CONNECT client and relay (no socat needed). */
#include "connect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "srt.h"

#define PROXY_PORT_DEFAULT 3128

/* Port of the proxy from $http_proxy (http://127.0.0.1:PORT), or 3128. */
static int proxy_port(void)
{
	const char *v = getenv("http_proxy");
	const char *colon = v ? strrchr(v, ':') : NULL;
	int p = colon ? atoi(colon + 1) : 0;
	return p > 0 && p < 65536 ? p : PROXY_PORT_DEFAULT;
}

static int write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read the proxy's answer head byte by byte (so no tunnel byte is eaten). */
static int read_head(int s, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(s, buf + n, 1);
		if (r <= 0)
			return -1;
		n++;
		buf[n] = '\0';
		if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
			return 0;
	}
	return -1;
}

int srt_cli_proxy_connect(const char *host, const char *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)proxy_port()),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		fprintf(stderr, "srt: cannot reach the sandbox proxy: %s\n", strerror(errno));
		return 125;
	}
	char req[600];
	bool v6 = strchr(host, ':') != NULL;
	int n = snprintf(req, sizeof req, "CONNECT %s%s%s:%s HTTP/1.1\r\nHost: %s%s%s:%s\r\n\r\n",
			 v6 ? "[" : "", host, v6 ? "]" : "", port, v6 ? "[" : "", host, v6 ? "]" : "", port);
	char head[8192];
	if (n < 0 || (size_t)n >= sizeof req || write_all(s, req, (size_t)n) < 0 ||
	    read_head(s, head, sizeof head) < 0) {
		fprintf(stderr, "srt: proxy-connect: no answer from the proxy\n");
		return 125;
	}
	if (strncmp(head, "HTTP/1.1 200", 12) != 0 && strncmp(head, "HTTP/1.0 200", 12) != 0) {
		char *eol = strstr(head, "\r\n");
		if (eol)
			*eol = '\0';
		/* the names come from the command, the answer may echo them */
		char h[300], pt[40], why[300];
		srt_escape(h, sizeof h, host, 0);
		srt_escape(pt, sizeof pt, port, 0);
		srt_escape(why, sizeof why, head, 0);
		fprintf(stderr, "srt: proxy-connect %s:%s refused: %s\n", h, pt, why);
		return 1;
	}
	/* relay until both directions are done */
	struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = s, .events = POLLIN}};
	bool in_open = true, net_open = true;
	char buf[65536];
	while (net_open) {
		p[0].fd = in_open ? 0 : -1;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents) {
			ssize_t r = read(0, buf, sizeof buf);
			if (r <= 0) {
				in_open = false;
				shutdown(s, SHUT_WR);
			} else if (write_all(s, buf, (size_t)r) < 0) {
				return 1;
			}
		}
		if (p[1].revents) {
			ssize_t r = read(s, buf, sizeof buf);
			if (r <= 0)
				net_open = false;
			else if (write_all(1, buf, (size_t)r) < 0)
				return 1;
		}
	}
	return 0;
}
