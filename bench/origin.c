/* origin.c - a loopback HTTP/1.1 origin for benchmarks that is not the
 * bottleneck: GET /bytes/N answers N zero bytes with sendfile(2) from a
 * sparse file; GET /small answers 13 bytes.  Keep-alive; one forked process
 * per connection; listen backlog 4096.
 *   usage: origin PORT   (exits after 10 minutes, or when killed) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

static int zero_fd;

static void serve(int c)
{
	char buf[8192];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(c, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			return;
		n += (size_t)r;
		buf[n] = 0;
		char *end = strstr(buf, "\r\n\r\n");
		if (!end) {
			if (n >= sizeof buf - 1)
				return;
			continue;
		}
		long long want = 13;
		char *p = strstr(buf, "/bytes/");
		if (p && p < end)
			want = atoll(p + 7);
		int close_after = strstr(buf, "HTTP/1.0") != NULL || strcasestr(buf, "Connection: close") != NULL;
		char head[256];
		int hl = snprintf(head, sizeof head,
				  "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\nContent-Type: application/octet-stream\r\n%s\r\n",
				  want, close_after ? "Connection: close\r\n" : "");
		if (write(c, head, (size_t)hl) != hl)
			return;
		if (p && p < end) {
			off_t off = 0;
			while (want > 0) {
				ssize_t s = sendfile(c, zero_fd, &off, want > (1 << 30) ? (1 << 30) : (size_t)want);
				if (s <= 0)
					return;
				want -= s;
				if (off >= (1LL << 40))
					off = 0;
			}
		} else if (write(c, "hello, world\n", 13) != 13) {
			return;
		}
		size_t used = (size_t)(end + 4 - buf);
		memmove(buf, buf + used, n - used);
		n -= used;
		if (close_after)
			return;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	signal(SIGCHLD, SIG_IGN);
	alarm(600);
	char path[] = "/tmp/srt-origin-XXXXXX";
	zero_fd = mkstemp(path);
	unlink(path);
	if (zero_fd < 0 || ftruncate(zero_fd, 1LL << 40) < 0)
		return 1;
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
			serve(c);
			_exit(0);
		}
		close(c);
	}
}
