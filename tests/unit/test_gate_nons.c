/* The connect/listen gate of the no-namespace mode (unixgate.h,
 * srt_unixgate_set_nons) against the real kernel: a child installs the
 * no-namespace filter with a listener and makes its calls; this process
 * serves them with srt_unixgate_receive/finish, as gateloop.c does, and
 * accepts on a loopback listener standing for a proxy, whose every
 * client must have been registered before it connected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filter.h"
#include "nons/peers.h"
#include "unixgate.h"
#include "util.h"

static int meta_calls, meta_last_nr;

static int test_meta(void *data, int notify_fd, const struct seccomp_notif *n, struct seccomp_notif_resp *resp)
{
	(void)data;
	(void)notify_fd;
	meta_calls++;
	meta_last_nr = n->data.nr;
	resp->error = -EROFS;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE; /* the gate must not pass it on */
	return 0;
}

static uint16_t proxy_port;
static char tmpdir[64];

/* The command's side; each failed step exits with its own status. */
#define STEP(n, cond)                                                                                 \
	do {                                                                                          \
		if (!(cond))                                                                          \
			_exit(n);                                                                     \
	} while (0)

static int connect4(const char *ip, uint16_t port, int flags)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &a.sin_addr);
	int r = connect(s, (struct sockaddr *)&a, sizeof a);
	int e = errno;
	close(s);
	errno = e;
	return r;
}

static int connect6(const char *ip, uint16_t port)
{
	int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	int r = connect(s, (struct sockaddr *)&a, sizeof a);
	int e = errno;
	close(s);
	errno = e;
	return r;
}

static void child(int chan)
{
	srt_seccomp_options o = {.no_namespaces = true, .mediate_unix = true};
	STEP(2, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	int lfd = srt_seccomp_install_listener(srt_seccomp_program(&o));
	STEP(3, lfd >= 0 && srt_send_fds(chan, &lfd, 1) == 0);
	close(lfd);
	/* the proxy: blocking, then non-blocking */
	STEP(10, connect4("127.0.0.1", proxy_port, 0) == 0);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(proxy_port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int r = connect(s, (struct sockaddr *)&a, sizeof a);
	STEP(11, r == 0 || errno == EINPROGRESS);
	struct pollfd p = {.fd = s, .events = POLLOUT};
	STEP(12, poll(&p, 1, 5000) == 1);
	int soerr = -1;
	socklen_t sl = sizeof soerr;
	STEP(13, getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0);
	/* connected already: the kernel says so (0 the first time after a
	 * non-blocking connect, then EISCONN), nothing registered */
	r = connect(s, (struct sockaddr *)&a, sizeof a);
	STEP(14, r == 0 || errno == EISCONN);
	STEP(14, connect(s, (struct sockaddr *)&a, sizeof a) < 0 && errno == EISCONN);
	/* listen on TCP: the host's */
	STEP(15, listen(s, 1) < 0 && errno == EPERM);
	close(s);
	STEP(16, connect6("::ffff:127.0.0.1", proxy_port) == 0);
	/* elsewhere */
	STEP(20, connect4("127.0.0.1", (uint16_t)(proxy_port + 1), 0) < 0 && errno == ECONNREFUSED);
	STEP(21, connect4("127.0.0.2", proxy_port, 0) < 0 && errno == ECONNREFUSED);
	STEP(22, connect4("0.0.0.0", proxy_port, 0) < 0 && errno == ECONNREFUSED);
	STEP(23, connect4("192.0.2.1", 80, 0) < 0 && errno == ENETUNREACH);
	STEP(24, connect4("192.0.2.1", proxy_port, SOCK_NONBLOCK) < 0 && errno == ENETUNREACH);
	STEP(25, connect6("::1", proxy_port) < 0 && errno == ECONNREFUSED);
	STEP(26, connect6("2001:db8::1", 443) < 0 && errno == ENETUNREACH);
	STEP(27, connect6("::ffff:192.0.2.1", proxy_port) < 0 && errno == ENETUNREACH);
	/* another family on an inet socket, a short address */
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(proxy_port)};
	STEP(29, connect(s, (struct sockaddr *)&a6, sizeof a6) < 0 && errno == EAFNOSUPPORT);
	STEP(29, connect(s, (struct sockaddr *)&a, 8) < 0 && errno == EINVAL);
	close(s);
	/* refused at socket(): no UDP to connect */
	STEP(28, socket(AF_INET, SOCK_DGRAM, 0) < 0 && errno == EPERM);
	/* AF_UNIX: a pathname listener on behalf; abstract names refused */
	int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/s", tmpdir);
	STEP(30, u >= 0 && bind(u, (struct sockaddr *)&sun, sizeof sun) == 0);
	STEP(31, listen(u, 4) == 0);
	close(u);
	u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un abs = {.sun_family = AF_UNIX};
	memcpy(abs.sun_path, "\0srt-test-gate-nons", 19);
	socklen_t abs_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 19);
	STEP(32, bind(u, (struct sockaddr *)&abs, abs_len) == 0);
	STEP(33, listen(u, 4) < 0 && errno == EPERM);
	close(u);
	u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	STEP(34, connect(u, (struct sockaddr *)&abs, abs_len) < 0 && errno == EPERM);
	/* a pathname not in allowUnixSockets (none here) */
	STEP(35, connect(u, (struct sockaddr *)&sun, sizeof sun) < 0 && errno == EACCES);
	close(u);
	/* metadata: the handler's answer */
	STEP(40, chmod("/", 0755) < 0 && errno == EROFS);
	STEP(41, syscall(452 /* fchmodat2 */, AT_FDCWD, "/", 0755, 0) < 0 && errno == EROFS);
	_exit(0);
}

static void test_gate_nons(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/srt-gate-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	int lsn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	assert_int_equal(bind(lsn, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(lsn, 16), 0);
	assert_int_equal(getsockname(lsn, (struct sockaddr *)&a, &al), 0);
	proxy_port = ntohs(a.sin_port);

	srt_error err = {0};
	srt_unixgate *g = srt_unixgate_new(NULL, 0, &err);
	assert_non_null(g);
	srt_peer_registry *reg = srt_peers_new(0, 0);
	uint16_t ports[] = {proxy_port};
	srt_unixgate_nons no = {.ports = ports, .n_ports = 1, .authorize = srt_peers_authorize,
				.authorize_data = reg, .meta = test_meta};
	assert_int_equal(srt_unixgate_set_nons(g, &no, &err), 0);

	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sp[0]);
		child(sp[1]);
	}
	close(sp[1]);
	struct pollfd pf = {.fd = sp[0], .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 5000), 1);
	int nfd = -1;
	assert_int_equal(srt_recv_fds(sp[0], &nfd, 1), 1);
	close(sp[0]);
	int accepted = 0, unauthorized = 0;
	for (;;) {
		struct pollfd q[2] = {{.fd = nfd, .events = POLLIN}, {.fd = lsn, .events = POLLIN}};
		assert_true(poll(q, 2, 10000) > 0);
		if (q[1].revents & POLLIN) {
			struct sockaddr_in peer;
			socklen_t pl = sizeof peer;
			int c = accept4(lsn, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
			assert_true(c >= 0);
			accepted++;
			if (peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK) || !srt_peers_take(reg, ntohs(peer.sin_port)))
				unauthorized++;
			close(c);
		}
		if (q[0].revents & (POLLHUP | POLLERR))
			break;
		if (!(q[0].revents & POLLIN))
			continue;
		srt_gate_call call;
		int r = srt_unixgate_receive(g, nfd, &call);
		assert_true(r >= 0);
		if (r == 1)
			srt_unixgate_finish(nfd, &call);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	for (int c; (c = accept4(lsn, NULL, NULL, SOCK_CLOEXEC)) >= 0; accepted++)
		close(c); /* (none should be left: each was taken above) */
	close(nfd);
	close(lsn);
	char path[96];
	snprintf(path, sizeof path, "%s/s", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("the command's step %d failed", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	assert_int_equal(accepted, 3);
	assert_int_equal(unauthorized, 0);
	assert_int_equal(srt_peers_count(reg), 0);
	assert_int_equal(meta_calls, 2);
	assert_int_equal(meta_last_nr, 452);
	srt_peers_free(reg);
	srt_unixgate_free(g);
}

/* allowAllUnixSockets: pathnames as the command resolves them (relative
 * to its working directory), still no abstract names. */
static void child_all(int chan)
{
	srt_seccomp_options o = {.no_namespaces = true, .allow_unix_sockets = true};
	STEP(2, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	int lfd = srt_seccomp_install_listener(srt_seccomp_program(&o));
	STEP(3, lfd >= 0 && srt_send_fds(chan, &lfd, 1) == 0);
	close(lfd);
	STEP(4, chdir(tmpdir) == 0);
	int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX, .sun_path = "srv"};
	STEP(50, connect(u, (struct sockaddr *)&sun, sizeof sun) == 0);
	close(u);
	u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/srv", tmpdir);
	STEP(51, connect(u, (struct sockaddr *)&sun, sizeof sun) == 0);
	close(u);
	u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sun.sun_path, sizeof sun.sun_path, "plain");
	STEP(52, connect(u, (struct sockaddr *)&sun, sizeof sun) < 0 && errno == ECONNREFUSED);
	snprintf(sun.sun_path, sizeof sun.sun_path, "missing");
	STEP(53, connect(u, (struct sockaddr *)&sun, sizeof sun) < 0 && errno == ENOENT);
	struct sockaddr_un abs = {.sun_family = AF_UNIX};
	memcpy(abs.sun_path, "\0srt-test-gate-all", 18);
	STEP(54, connect(u, (struct sockaddr *)&abs, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 18)) < 0 &&
		 errno == EPERM);
	close(u);
	/* TCP as ever: nothing allowed here */
	STEP(55, connect4("127.0.0.1", 80, 0) < 0 && errno == ECONNREFUSED);
	_exit(0);
}

static void test_gate_nons_all_unix(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/srt-gate-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	char path[96];
	snprintf(path, sizeof path, "%s/plain", tmpdir);
	int f = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(f >= 0);
	close(f);
	int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/srv", tmpdir);
	assert_int_equal(bind(srv, (struct sockaddr *)&sun, sizeof sun), 0);
	assert_int_equal(listen(srv, 8), 0);
	srt_error err = {0};
	srt_unixgate *g = srt_unixgate_new(NULL, 0, &err);
	srt_unixgate_nons no = {.allow_all_unix = true};
	assert_int_equal(srt_unixgate_set_nons(g, &no, &err), 0);
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sp[0]);
		child_all(sp[1]);
	}
	close(sp[1]);
	struct pollfd pf = {.fd = sp[0], .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 5000), 1);
	int nfd = -1;
	assert_int_equal(srt_recv_fds(sp[0], &nfd, 1), 1);
	close(sp[0]);
	for (;;) {
		struct pollfd q = {.fd = nfd, .events = POLLIN};
		assert_true(poll(&q, 1, 10000) > 0);
		if (q.revents & (POLLHUP | POLLERR))
			break;
		srt_gate_call call;
		int r = srt_unixgate_receive(g, nfd, &call);
		assert_true(r >= 0);
		if (r == 1)
			srt_unixgate_finish(nfd, &call);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	int accepted = 0;
	fcntl(srv, F_SETFL, O_NONBLOCK);
	for (int c; (c = accept4(srv, NULL, NULL, SOCK_CLOEXEC)) >= 0; accepted++)
		close(c);
	close(nfd);
	close(srv);
	unlink(sun.sun_path);
	unlink(path);
	rmdir(tmpdir);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("the command's step %d failed", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	assert_int_equal(accepted, 2);
	srt_unixgate_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate_nons),
		cmocka_unit_test(test_gate_nons_all_unix),
	};
	return cmocka_run_group_tests_name("gate, no-namespace mode", tests, NULL, NULL);
}
