/* upstream.c - a loopback CONNECT proxy for benchmarks that is not the
 * bottleneck (the "corporate proxy" of bench/parent_proxy.py): CONNECT
 * host:port is answered 200 and tunnelled to 127.0.0.1:port whatever the
 * host (a name the benchmark invents need not resolve); bytes move with
 * splice(2) through 1 MiB pipes, one process per direction, one fork per
 * connection.  Anything but CONNECT gets 405.
 *   usage: upstream PORT   (prints "ready"; exits after 10 minutes, or when killed) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* from -> to until EOF, then half-close `to`. */
static void pump(int from, int to)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	for (;;) {
		ssize_t n = splice(from, NULL, p[1], NULL, 1 << 20, SPLICE_F_MOVE);
		if (n <= 0)
			break;
		while (n > 0) {
			ssize_t w = splice(p[0], NULL, to, NULL, (size_t)n, SPLICE_F_MOVE);
			if (w <= 0)
				goto out;
			n -= w;
		}
	}
out:
	shutdown(to, SHUT_WR);
}

static void serve(int c)
{
	char buf[8192];
	size_t n = 0;
	char *end = NULL;
	while (!end) {
		ssize_t r = read(c, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			return;
		n += (size_t)r;
		buf[n] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end && n >= sizeof buf - 1)
			return;
	}
	char host[300];
	int port = 0;
	if (sscanf(buf, "CONNECT %299[^ ] HTTP/1.", host) != 1) {
		static const char no[] = "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n";
		write_all(c, no, sizeof no - 1);
		return;
	}
	char *colon = strrchr(host, ':');
	if (colon)
		port = atoi(colon + 1);
	int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (port < 1 || port > 65535 || connect(u, (struct sockaddr *)&a, sizeof a) < 0) {
		static const char bad[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
		write_all(c, bad, sizeof bad - 1);
		return;
	}
	setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	size_t used = (size_t)(end + 4 - buf);
	if (write_all(c, ok, sizeof ok - 1) < 0 || write_all(u, buf + used, n - used) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		pump(c, u);
		_exit(0);
	}
	pump(u, c);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	signal(SIGCHLD, SIG_IGN);
	alarm(600);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4096) < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (fork() == 0) {
			close(s);
			signal(SIGCHLD, SIG_DFL);
			serve(c);
			_exit(0);
		}
		close(c);
	}
}
