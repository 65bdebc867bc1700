/* The proxy's `authorized` option (proxy.h, nons/peers.h): on a listener of
 * the host's loopback, a client whose port was not registered is closed at
 * once, before anything reaches upstream; a registered one is served, and
 * its registration is consumed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nons/peers.h"
#include "proxy.h"

static int loopback_listener(uint16_t *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s, 8), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return s;
}

/* A client of the proxy; `registry`: bound first and registered, as the
 * gate does. */
static int client(uint16_t port, srt_peer_registry *registry)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (registry) {
		socklen_t al = sizeof a;
		assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
		assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
		srt_peers_add(registry, ntohs(a.sin_port));
	}
	a.sin_port = htons(port);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), 0);
	return s;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

static void test_only_registered_peers(void **state)
{
	(void)state;
	uint16_t up_port, px_port;
	int up = loopback_listener(&up_port);
	int lsn = loopback_listener(&px_port);
	srt_peer_registry *reg = srt_peers_new(0, 0);
	srt_listener l = {lsn, SRT_LISTEN_HTTP, up_port}; /* a raw relay, as hostPorts */
	srt_proxy_options o = {.listeners = &l, .n_listeners = 1, .gate_chan_fd = -1, .authorized = reg};
	srt_error err = {0};
	srt_proxy *px = srt_proxy_start(&o, &err);
	assert_non_null(px);

	/* not registered: closed at once, upstream never dialed */
	int c = client(px_port, NULL);
	assert_true(readable(c, 5000));
	char b[8];
	ssize_t n = read(c, b, sizeof b);
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	close(c);
	assert_false(readable(up, 300));

	/* registered: relayed, the registration consumed */
	c = client(px_port, reg);
	assert_true(readable(up, 5000));
	int u = accept4(up, NULL, NULL, SOCK_CLOEXEC);
	assert_true(u >= 0);
	assert_int_equal(write(u, "hi", 2), 2);
	assert_true(readable(c, 5000));
	assert_int_equal(read(c, b, sizeof b), 2);
	assert_memory_equal(b, "hi", 2);
	assert_int_equal(srt_peers_count(reg), 0);
	close(u);
	close(c);

	/* a registration is good once: the same port again would need another */
	srt_peers_add(reg, 1); /* someone else's: does not let this client in */
	c = client(px_port, NULL);
	assert_true(readable(c, 5000));
	n = read(c, b, sizeof b);
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	close(c);
	assert_false(readable(up, 300));
	assert_int_equal(srt_peers_count(reg), 1);

	srt_proxy_stop(px);
	srt_peers_free(reg);
	close(up);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_registered_peers),
	};
	return cmocka_run_group_tests_name("proxy, authorized peers", tests, NULL, NULL);
}
