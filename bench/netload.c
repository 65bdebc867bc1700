/* netload.c - small load tools for bench/network.py (compiled into the
 * scratch directory, never into the repository).
 *
 *   netload load -m MODE -t HOST:PORT [-x HOST:PORT] [-a USER:PASS]
 *                [-p PATH] -n REQUESTS -c CLIENTS [-T SECONDS] [-D SECONDS]
 *       Up to REQUESTS HTTP/1.1 GETs (no new one is started after -D seconds) of PATH on the origin HOST:PORT, each on a
 *       fresh TCP connection ("Connection: close"; the client closes once
 *       the whole body is read), by CLIENTS threads.  MODE:
 *         direct   connect to the origin
 *         get      absolute-form GET through the HTTP proxy -x
 *         connect  CONNECT through the HTTP proxy -x, then GET in the tunnel
 *         socks    SOCKS5 (IPv4 address; user/pass sub-negotiation with -a)
 *       -a adds "Proxy-Authorization: Basic base64(USER:PASS)" for get and
 *       connect.  Every phase is bounded by -T (default 10 s).  Prints one
 *       JSON object: ok, errors, first_error, elapsed_s, rps, latency
 *       percentiles in microseconds (connect() to the last body byte).
 *
 *   netload origin PORT [SECONDS]
 *       A single-threaded epoll HTTP/1.1 origin on 127.0.0.1:PORT that
 *       answers every GET with the 13 bytes of bench/origin.c's /small
 *       (keep-alive unless "Connection: close" or HTTP/1.0) and holds idle
 *       connections at no cost.  bench/origin.c forks per connection, which
 *       costs ~2 ms on a small VM and would cap a fresh-connection request
 *       rate at a few hundred per second.  Prints "ready"; exits after
 *       SECONDS (default 600).
 *
 *   netload rss CMD [ARGS...]
 *       Run CMD, wait, print "<exit status> <peak RSS KiB>" where the peak is
 *       ru_maxrss of wait4(2): the largest process of the run.  (From a
 *       small process: a child forked by a big one starts its high-water
 *       mark at the parent's size.)
 *
 *   netload relay LISTEN_PORT HOST:PORT [SECONDS]
 *       A bare splice(2) TCP relay on 127.0.0.1:LISTEN_PORT to HOST:PORT,
 *       one connection at a time: the cost of "one extra hop, no sandbox,
 *       no policy" on this machine.  Prints "ready" once listening; exits
 *       after SECONDS (default 600).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum mode { M_DIRECT, M_GET, M_CONNECT, M_SOCKS };

static struct {
	enum mode mode;
	struct sockaddr_in origin, proxy;
	char origin_hp[64];
	const char *path;
	const char *auth; /* user:pass */
	char auth_b64[512];
	long n;
	int clients;
	int timeout_s;
	int64_t deadline_us; /* 0 = none: stop taking new requests after it */
} cfg;

static atomic_long next_req;
static atomic_long n_err;
static int64_t *lat_us; /* per request; -1 = failed */
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;
static char first_error[256];

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void note_error(const char *what)
{
	pthread_mutex_lock(&err_mu);
	if (!first_error[0])
		snprintf(first_error, sizeof first_error, "%s", what);
	pthread_mutex_unlock(&err_mu);
}

static int parse_hp(const char *s, struct sockaddr_in *a)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static void b64(const char *in, char *out, size_t cap)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = t[(v >> 18) & 63];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = 0;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_exact(int fd, void *p, size_t n)
{
	char *c = p;
	while (n > 0) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Read an HTTP head into buf (NUL-terminated); returns its length
 * including the blank line, and the number of bytes read past it in *extra. */
static int read_head(int fd, char *buf, size_t cap, size_t *total)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = 0;
		char *e = strstr(buf, "\r\n\r\n");
		if (e) {
			*total = n;
			return (int)(e + 4 - buf);
		}
		if (n >= cap - 1)
			return -1;
	}
}

static int status_of(const char *head)
{
	const char *sp = strchr(head, ' ');
	return sp ? atoi(sp + 1) : 0;
}

static int dial(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = cfg.timeout_s};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)a, sizeof *a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* GET on an established stream (origin-form or absolute-form); reads the
 * whole Content-Length body.  0 on a 200 with the full body. */
static int http_get(int fd, int absolute, char *err, size_t errlen)
{
	char req[1024];
	int l;
	if (absolute)
		l = snprintf(req, sizeof req,
			     "GET http://%s%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
			     "Proxy-Connection: close\r\n%s%s%s\r\n",
			     cfg.origin_hp, cfg.path, cfg.origin_hp,
			     cfg.auth ? "Proxy-Authorization: Basic " : "",
			     cfg.auth ? cfg.auth_b64 : "", cfg.auth ? "\r\n" : "");
	else
		l = snprintf(req, sizeof req,
			     "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
			     cfg.path, cfg.origin_hp);
	if (write_all(fd, req, (size_t)l) < 0) {
		snprintf(err, errlen, "write request: %s", strerror(errno));
		return -1;
	}
	char buf[8192];
	size_t total;
	int hl = read_head(fd, buf, sizeof buf, &total);
	if (hl < 0) {
		snprintf(err, errlen, "read response head: %s", errno ? strerror(errno) : "EOF");
		return -1;
	}
	int st = status_of(buf);
	if (st != 200) {
		char *eol = strstr(buf, "\r\n");
		if (eol)
			*eol = 0;
		snprintf(err, errlen, "response: %.200s", buf);
		return -1;
	}
	const char *cl = strcasestr(buf, "\r\ncontent-length:");
	if (!cl) {
		snprintf(err, errlen, "response without Content-Length");
		return -1;
	}
	long long want = atoll(cl + 17) - (long long)(total - (size_t)hl);
	while (want > 0) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "read body: %s", r < 0 ? strerror(errno) : "early EOF");
			return -1;
		}
		want -= r;
	}
	return 0;
}

static int one_request(char *err, size_t errlen)
{
	const struct sockaddr_in *to = cfg.mode == M_DIRECT ? &cfg.origin : &cfg.proxy;
	errno = 0;
	int fd = dial(to);
	if (fd < 0) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		return -1;
	}
	int rc = -1;
	if (cfg.mode == M_DIRECT) {
		rc = http_get(fd, 0, err, errlen);
	} else if (cfg.mode == M_GET) {
		rc = http_get(fd, 1, err, errlen);
	} else if (cfg.mode == M_CONNECT) {
		char req[768], buf[4096];
		int l = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n",
				 cfg.origin_hp, cfg.origin_hp,
				 cfg.auth ? "Proxy-Authorization: Basic " : "",
				 cfg.auth ? cfg.auth_b64 : "", cfg.auth ? "\r\n" : "");
		size_t total;
		int hl;
		if (write_all(fd, req, (size_t)l) < 0) {
			snprintf(err, errlen, "write CONNECT: %s", strerror(errno));
		} else if ((hl = read_head(fd, buf, sizeof buf, &total)) < 0) {
			snprintf(err, errlen, "read CONNECT reply: %s", errno ? strerror(errno) : "EOF");
		} else if (status_of(buf) != 200) {
			char *eol = strstr(buf, "\r\n");
			if (eol)
				*eol = 0;
			snprintf(err, errlen, "CONNECT reply: %.200s", buf);
		} else if ((size_t)hl != total) {
			snprintf(err, errlen, "bytes after the CONNECT reply");
		} else {
			rc = http_get(fd, 0, err, errlen);
		}
	} else { /* SOCKS5 */
		unsigned char m[600];
		unsigned char greet[3] = {5, 1, cfg.auth ? 2 : 0};
		if (write_all(fd, greet, 3) < 0 || read_exact(fd, m, 2) < 0) {
			snprintf(err, errlen, "SOCKS greeting: %s", errno ? strerror(errno) : "EOF");
			goto out;
		}
		if (m[0] != 5 || m[1] != greet[2]) {
			snprintf(err, errlen, "SOCKS method reply %u %u", m[0], m[1]);
			goto out;
		}
		if (cfg.auth) {
			const char *colon = strchr(cfg.auth, ':');
			size_t ul = colon ? (size_t)(colon - cfg.auth) : strlen(cfg.auth);
			const char *pw = colon ? colon + 1 : "";
			size_t pl = strlen(pw);
			if (ul > 255 || pl > 255) {
				snprintf(err, errlen, "SOCKS credentials too long");
				goto out;
			}
			size_t k = 0;
			m[k++] = 1;
			m[k++] = (unsigned char)ul;
			memcpy(m + k, cfg.auth, ul);
			k += ul;
			m[k++] = (unsigned char)pl;
			memcpy(m + k, pw, pl);
			k += pl;
			if (write_all(fd, m, k) < 0 || read_exact(fd, m, 2) < 0 || m[1] != 0) {
				snprintf(err, errlen, "SOCKS authentication failed");
				goto out;
			}
		}
		unsigned char rq[10] = {5, 1, 0, 1};
		memcpy(rq + 4, &cfg.origin.sin_addr, 4);
		memcpy(rq + 8, &cfg.origin.sin_port, 2);
		if (write_all(fd, rq, sizeof rq) < 0 || read_exact(fd, m, 5) < 0) {
			snprintf(err, errlen, "SOCKS request: %s", errno ? strerror(errno) : "EOF");
			goto out;
		}
		if (m[1] != 0) {
			snprintf(err, errlen, "SOCKS reply code %u", m[1]);
			goto out;
		}
		size_t rest = m[3] == 1 ? 5 : m[3] == 4 ? 17 : m[3] == 3 ? (size_t)m[4] + 2 : 0;
		if (!rest || read_exact(fd, m, rest) < 0) {
			snprintf(err, errlen, "SOCKS reply address");
			goto out;
		}
		rc = http_get(fd, 0, err, errlen);
	}
out:
	close(fd);
	return rc;
}

static void *worker(void *arg)
{
	(void)arg;
	char err[256];
	for (;;) {
		if (cfg.deadline_us && now_us() >= cfg.deadline_us)
			return NULL;
		long i = atomic_fetch_add(&next_req, 1);
		if (i >= cfg.n)
			return NULL;
		int64_t t0 = now_us();
		if (one_request(err, sizeof err) == 0) {
			lat_us[i] = now_us() - t0;
		} else {
			lat_us[i] = -1;
			atomic_fetch_add(&n_err, 1);
			note_error(err);
		}
	}
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int cmd_load(int argc, char **argv)
{
	cfg.path = "/small";
	cfg.n = 1000;
	cfg.clients = 1;
	cfg.timeout_s = 10;
	const char *target = NULL, *proxy = NULL, *mode = "direct";
	double duration = 0;
	int opt;
	while ((opt = getopt(argc, argv, "m:t:x:a:p:n:c:T:D:")) != -1) {
		switch (opt) {
		case 'm': mode = optarg; break;
		case 't': target = optarg; break;
		case 'x': proxy = optarg; break;
		case 'a': cfg.auth = optarg; break;
		case 'p': cfg.path = optarg; break;
		case 'n': cfg.n = atol(optarg); break;
		case 'c': cfg.clients = atoi(optarg); break;
		case 'T': cfg.timeout_s = atoi(optarg); break;
		case 'D': duration = atof(optarg); break;
		default: return 2;
		}
	}
	if (!strcmp(mode, "direct"))
		cfg.mode = M_DIRECT;
	else if (!strcmp(mode, "get"))
		cfg.mode = M_GET;
	else if (!strcmp(mode, "connect"))
		cfg.mode = M_CONNECT;
	else if (!strcmp(mode, "socks"))
		cfg.mode = M_SOCKS;
	else {
		fprintf(stderr, "netload: unknown mode %s\n", mode);
		return 2;
	}
	if (!target || parse_hp(target, &cfg.origin) < 0 ||
	    (cfg.mode != M_DIRECT && (!proxy || parse_hp(proxy, &cfg.proxy) < 0)) ||
	    cfg.n < 1 || cfg.n > 10000000 || cfg.clients < 1 || cfg.clients > 1000 ||
	    cfg.timeout_s < 1) {
		fprintf(stderr, "netload load: bad arguments (need -t IPv4:PORT, -x for proxy modes)\n");
		return 2;
	}
	snprintf(cfg.origin_hp, sizeof cfg.origin_hp, "%s", target);
	if (cfg.auth)
		b64(cfg.auth, cfg.auth_b64, sizeof cfg.auth_b64);
	lat_us = calloc((size_t)cfg.n, sizeof *lat_us);
	pthread_t *th = calloc((size_t)cfg.clients, sizeof *th);
	if (!lat_us || !th)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	int64_t t0 = now_us();
	if (duration > 0)
		cfg.deadline_us = t0 + (int64_t)(duration * 1e6);
	int started = 0;
	for (int i = 0; i < cfg.clients; i++) {
		if (pthread_create(&th[i], NULL, worker, NULL) != 0)
			break;
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	double elapsed = (double)(now_us() - t0) / 1e6;
	long ok = 0, issued = atomic_load(&next_req);
	if (issued > cfg.n)
		issued = cfg.n;
	for (long i = 0; i < issued; i++)
		if (lat_us[i] >= 0)
			lat_us[ok++] = lat_us[i];
	qsort(lat_us, (size_t)ok, sizeof *lat_us, cmp64);
#define PCT(p) (ok ? lat_us[(long)((double)(ok - 1) * (p) + 0.5)] : -1)
	printf("{\"mode\": \"%s\", \"clients\": %d, \"requests\": %ld, \"ok\": %ld, "
	       "\"issued\": %ld, \"errors\": %ld, \"elapsed_s\": %.6f, \"rps\": %.1f, "
	       "\"p50_us\": %lld, \"p90_us\": %lld, \"p99_us\": %lld, \"max_us\": %lld, "
	       "\"first_error\": ",
	       mode, started, cfg.n, ok, issued, (long)atomic_load(&n_err), elapsed,
	       elapsed > 0 ? (double)ok / elapsed : 0.0, (long long)PCT(0.50),
	       (long long)PCT(0.90), (long long)PCT(0.99), (long long)PCT(1.0));
	if (first_error[0])
		json_str(first_error);
	else
		printf("null");
	printf("}\n");
	return 0;
}

/* ---- relay ----------------------------------------------------------- */

/* Move what is readable from `from` into the pipe: 1 on EOF, -1 on error. */
static int fill(int from, int pipefd[2], size_t *inpipe)
{
	ssize_t n = splice(from, NULL, pipefd[1], NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n == 0)
		return 1;
	if (n > 0)
		*inpipe += (size_t)n;
	else if (errno != EAGAIN)
		return -1;
	return 0;
}

/* Move what the pipe holds to `to`, as far as it accepts. */
static int drain(int pipefd[2], int to, size_t *inpipe)
{
	while (*inpipe > 0) {
		ssize_t w = splice(pipefd[0], NULL, to, NULL, *inpipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (w > 0)
			*inpipe -= (size_t)w;
		else if (w < 0 && errno == EAGAIN)
			return 0;
		else
			return -1;
	}
	return 0;
}

static void relay_one(int c, const struct sockaddr_in *to)
{
	int u = socket(AF_INET, SOCK_STREAM, 0);
	if (u < 0 || connect(u, (const struct sockaddr *)to, sizeof *to) < 0) {
		if (u >= 0)
			close(u);
		return;
	}
	fcntl(c, F_SETFL, O_NONBLOCK);
	fcntl(u, F_SETFL, O_NONBLOCK);
	int p[2][2];
	if (pipe2(p[0], O_NONBLOCK) < 0)
		goto done;
	if (pipe2(p[1], O_NONBLOCK) < 0) {
		close(p[0][0]);
		close(p[0][1]);
		goto done;
	}
	fcntl(p[0][1], F_SETPIPE_SZ, 1 << 20);
	fcntl(p[1][1], F_SETPIPE_SZ, 1 << 20);
	int src[2] = {c, u}, dst[2] = {u, c};
	size_t in[2] = {0, 0};
	int eof[2] = {0, 0};
	while (!(eof[0] && eof[1] && !in[0] && !in[1])) {
		struct pollfd pf[2];
		for (int d = 0; d < 2; d++) {
			/* pf[d] watches src[d] for reading and, when the other
			 * direction has bytes queued, for writing */
			pf[d].fd = src[d];
			pf[d].events = (short)((eof[d] ? 0 : POLLIN) | (in[1 - d] ? POLLOUT : 0));
		}
		if (poll(pf, 2, 30000) <= 0)
			break;
		int bad = 0;
		for (int d = 0; d < 2 && !bad; d++) {
			if (!eof[d] && (pf[d].revents & (POLLIN | POLLHUP | POLLERR))) {
				int r = fill(src[d], p[d], &in[d]);
				if (r < 0)
					bad = 1;
				else if (r == 1)
					eof[d] = 1;
			}
			if (!bad && drain(p[d], dst[d], &in[d]) < 0)
				bad = 1;
			if (!bad && eof[d] && !in[d])
				shutdown(dst[d], SHUT_WR);
		}
		if (bad)
			break;
	}
	for (int d = 0; d < 2; d++) {
		close(p[d][0]);
		close(p[d][1]);
	}
done:
	close(u);
}

static int cmd_relay(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	struct sockaddr_in to;
	if (parse_hp(argv[2], &to) < 0)
		return 2;
	alarm(argc > 3 ? (unsigned)atoi(argv[3]) : 600);
	signal(SIGPIPE, SIG_IGN);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 128) < 0) {
		perror("netload relay: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		relay_one(c, &to);
		close(c);
	}
}

/* ---- origin ---------------------------------------------------------- */

#define ORIGIN_REQ_MAX 8192

typedef struct oconn {
	char *buf;
	size_t n;
} oconn;

static int cmd_origin(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	alarm(argc > 2 ? (unsigned)atoi(argv[2]) : 600);
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	size_t maxfd = rl.rlim_cur > 1048576 ? 1048576 : (size_t)rl.rlim_cur;
	oconn *cs = calloc(maxfd, sizeof *cs);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (!cs || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4096) < 0) {
		perror("netload origin: bind");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	printf("ready\n");
	fflush(stdout);
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n"
				   "Content-Type: application/octet-stream\r\n\r\nhello, world\n";
	static const char resp_close[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n"
					 "Content-Type: application/octet-stream\r\n"
					 "Connection: close\r\n\r\nhello, world\n";
	struct epoll_event evs[256];
	for (;;) {
		int k = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < k; i++) {
			int fd = evs[i].data.fd;
			if (fd == s) {
				for (;;) {
					int c = accept4(s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (c < 0)
						break;
					if ((size_t)c >= maxfd) {
						close(c);
						continue;
					}
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				}
				continue;
			}
			oconn *oc = &cs[fd];
			int drop = 0;
			for (;;) {
				if (!oc->buf && !(oc->buf = malloc(ORIGIN_REQ_MAX))) {
					drop = 1;
					break;
				}
				ssize_t r = read(fd, oc->buf + oc->n, ORIGIN_REQ_MAX - 1 - oc->n);
				if (r < 0 && errno == EAGAIN)
					break;
				if (r <= 0) {
					drop = 1;
					break;
				}
				oc->n += (size_t)r;
				oc->buf[oc->n] = 0;
				char *end;
				while (!drop && (end = strstr(oc->buf, "\r\n\r\n"))) {
					*end = 0;
					int cl = strstr(oc->buf, "HTTP/1.0") || strcasestr(oc->buf, "Connection: close");
					const char *rs = cl ? resp_close : resp;
					size_t rl2 = cl ? sizeof resp_close - 1 : sizeof resp - 1;
					if (write(fd, rs, rl2) != (ssize_t)rl2 || cl)
						drop = 1;
					size_t used = (size_t)(end + 4 - oc->buf);
					memmove(oc->buf, oc->buf + used, oc->n - used + 1);
					oc->n -= used;
				}
				if (drop)
					break;
				if (oc->n >= ORIGIN_REQ_MAX - 1) {
					drop = 1;
					break;
				}
			}
			if (drop) {
				close(fd); /* also leaves the epoll set */
				free(oc->buf);
				oc->buf = NULL;
				oc->n = 0;
			}
		}
	}
}

static int cmd_rss(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) < 0)
		return 1;
	printf("%d %ld\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), ru.ru_maxrss);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "load"))
		return cmd_load(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "origin"))
		return cmd_origin(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "rss"))
		return cmd_rss(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "relay"))
		return cmd_relay(argc - 1, argv + 1);
	fprintf(stderr, "usage: netload load ... | netload origin PORT [SECONDS] | netload rss CMD... | netload relay LISTEN_PORT HOST:PORT [SECONDS]\n");
	return 2;
}
