/* Socket families are an allowlist (issue 8, rule 5): the verdict of every
 * embedded seccomp program for socket(2) and socketpair(2) with each family
 * 0..AF_MAX (and beyond), each netlink protocol, garbage in the upper
 * halves; and ioctl(TIOCSPGRP) per variant.  The programs are run by a small
 * classic-BPF interpreter on a struct seccomp_data, so the verdict is the
 * program's own, not a kernel's answer that could come from somewhere else
 * (AF_PACKET is EPERM for the unprivileged anyway).  One check runs the
 * real kernel too: AF_VSOCK in a child that installed the filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <string.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filter.h"
#include "util.h"

#define ALLOW SECCOMP_RET_ALLOW
#define EPERM_RET (SECCOMP_RET_ERRNO | EPERM)
#define NOTIFY SECCOMP_RET_USER_NOTIF

/* Run a classic BPF program (the subset libseccomp emits) on `d`. */
static uint32_t run_bpf(const srt_bpf *p, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
	const unsigned char *data = (const unsigned char *)d;
	for (unsigned pc = 0, steps = 0; pc < p->len && steps < 100000; pc++, steps++) {
		const struct sock_filter *f = &p->insns[pc];
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(f->k + 4 <= sizeof *d);
			memcpy(&a, data + f->k, 4);
			break;
		case BPF_LD | BPF_MEM:
			a = mem[f->k];
			break;
		case BPF_LDX | BPF_MEM:
			x = mem[f->k];
			break;
		case BPF_ST:
			mem[f->k] = a;
			break;
		case BPF_STX:
			mem[f->k] = x;
			break;
		case BPF_LD | BPF_IMM:
			a = f->k;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f->k;
			break;
		case BPF_ALU | BPF_OR | BPF_K:
			a |= f->k;
			break;
		case BPF_MISC | BPF_TAX:
			x = a;
			break;
		case BPF_MISC | BPF_TXA:
			a = x;
			break;
		case BPF_JMP | BPF_JA:
			pc += f->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & f->k) ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		case BPF_RET | BPF_A:
			return a;
		default:
			fail_msg("opcode 0x%04x at %u not handled by the test's interpreter", f->code, pc);
		}
	}
	fail_msg("program ran off its end");
	return 0;
}

static uint32_t verdict(const srt_bpf *p, int nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct seccomp_data d = {.nr = nr, .arch = AUDIT_ARCH_X86_64, .args = {a0, a1, a2}};
	return run_bpf(p, &d);
}

static bool family_allowed(int f) { return f == AF_INET || f == AF_INET6 || f == AF_NETLINK; }

static bool netlink_allowed(int p, bool nons)
{
	if (nons) /* the no-namespace mode: the host's netlink, route only */
		return p == NETLINK_ROUTE;
	return p == NETLINK_ROUTE || p == NETLINK_SOCK_DIAG || p == NETLINK_XFRM ||
	       p == NETLINK_NETFILTER || p == NETLINK_KOBJECT_UEVENT || p == NETLINK_GENERIC;
}

/* The AF_UNIX verdicts are the unix-socket modes' own (test_filter and the
 * e2e tests cover them); here only that allowAllUnixSockets allows them. */
static void test_socket_families_are_an_allowlist(void **state)
{
	(void)state;
	for (int v = 0; v < SRT_SECCOMP_PROGRAMS; v++) {
		srt_seccomp_options o = srt_seccomp_variant_options(v);
		const srt_bpf *p = srt_seccomp_program(&o);
		for (int f = 0; f <= AF_MAX + 16; f++) {
			if (f == AF_UNIX)
				continue;
			for (int t = SOCK_STREAM; t <= SOCK_SEQPACKET; t++) {
				/* the no-namespace mode: inet TCP streams only */
				bool ok = family_allowed(f) && !(o.no_namespaces && f != AF_NETLINK &&
								 t != SOCK_STREAM);
				uint32_t want = ok ? ALLOW : EPERM_RET;
				uint32_t got = verdict(p, SYS_socket, (uint64_t)f, (uint64_t)t | SOCK_CLOEXEC, 0);
				if (got != want)
					fail_msg("variant %d: socket(%d, %d) gave 0x%x, want 0x%x", v, f, t, got, want);
			}
			/* socketpair: AF_UNIX only */
			assert_int_equal(verdict(p, SYS_socketpair, (uint64_t)f, SOCK_STREAM, 0), EPERM_RET);
		}
		if (o.allow_unix_sockets) {
			assert_int_equal(verdict(p, SYS_socket, AF_UNIX, SOCK_DGRAM, 0), ALLOW);
			assert_int_equal(verdict(p, SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0), ALLOW);
		}
		/* what the kernel truncates must not pick the verdict: AF_VSOCK
		 * with garbage above is refused, and so is an allowed family
		 * with garbage (no honest caller passes one) */
		assert_int_equal(verdict(p, SYS_socket, 0xdead000000000000ULL | AF_VSOCK, SOCK_STREAM, 0),
				 EPERM_RET);
		assert_int_equal(verdict(p, SYS_socket, 0x100000000ULL | AF_INET, SOCK_STREAM, 0), EPERM_RET);
		assert_int_equal(verdict(p, SYS_socket, (uint64_t)-1, SOCK_STREAM, 0), EPERM_RET);
		assert_int_equal(verdict(p, SYS_socketpair, 0x100000000ULL | AF_UNIX, SOCK_STREAM, 0),
				 EPERM_RET);
	}
}

static void test_netlink_protocols(void **state)
{
	(void)state;
	for (int v = 0; v < SRT_SECCOMP_PROGRAMS; v++) {
		srt_seccomp_options o = srt_seccomp_variant_options(v);
		const srt_bpf *p = srt_seccomp_program(&o);
		for (int proto = 0; proto <= MAX_LINKS + 4; proto++) {
			uint32_t want = netlink_allowed(proto, o.no_namespaces) ? ALLOW : EPERM_RET;
			uint32_t got = verdict(p, SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (uint64_t)proto);
			if (got != want)
				fail_msg("variant %d: netlink protocol %d gave 0x%x, want 0x%x", v, proto, got, want);
		}
		assert_int_equal(verdict(p, SYS_socket, AF_NETLINK, SOCK_RAW, 0x100000000ULL | NETLINK_AUDIT),
				 EPERM_RET);
		/* the protocol rules are netlink's alone */
		assert_int_equal(verdict(p, SYS_socket, AF_INET, SOCK_STREAM, 6 /* TCP */), ALLOW);
		assert_int_equal(verdict(p, SYS_socket, AF_INET6, SOCK_DGRAM, 17 /* UDP */),
				 o.no_namespaces ? EPERM_RET : ALLOW);
	}
}

static void test_set_foreground_only_when_lent(void **state)
{
	(void)state;
	for (int v = 0; v < SRT_SECCOMP_PROGRAMS; v++) {
		srt_seccomp_options o = srt_seccomp_variant_options(v);
		const srt_bpf *p = srt_seccomp_program(&o);
		uint32_t want = o.allow_set_foreground ? ALLOW : EPERM_RET;
		assert_int_equal(verdict(p, SYS_ioctl, 0, TIOCSPGRP, 0), want);
		assert_int_equal(verdict(p, SYS_ioctl, 0, 0xdeadbeef00000000ULL | TIOCSPGRP, 0), want);
		/* what job control needs besides stays */
		assert_int_equal(verdict(p, SYS_ioctl, 0, TIOCGPGRP, 0), ALLOW);
		assert_int_equal(verdict(p, SYS_ioctl, 0, TCGETS, 0), ALLOW);
		assert_int_equal(verdict(p, SYS_ioctl, 0, TIOCSTI, 0), EPERM_RET);
	}
}

/* The kernel's own answer for the default program: AF_VSOCK is EPERM,
 * AF_INET works. */
static void test_kernel_refuses_vsock(void **state)
{
	(void)state;
	srt_seccomp_options o = {0};
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || srt_seccomp_install(srt_seccomp_program(&o)) < 0)
			_exit(2);
		int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s >= 0 || errno != EPERM)
			_exit(3);
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		_exit(s >= 0 ? 0 : 4);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static uint32_t verdict6(const srt_bpf *p, int nr, const uint64_t a[6])
{
	struct seccomp_data d = {.nr = nr, .arch = AUDIT_ARCH_X86_64};
	memcpy(d.args, a, sizeof d.args);
	return run_bpf(p, &d);
}

/* The no-namespace variant (filter.h): inet TCP streams only, whatever
 * flags and however the protocol is spelled; netlink route only. */
static void test_nons_sockets(void **state)
{
	(void)state;
	for (int v = 0; v < SRT_SECCOMP_PROGRAMS; v++) {
		srt_seccomp_options o = srt_seccomp_variant_options(v);
		const srt_bpf *p = srt_seccomp_program(&o);
		uint32_t refused = o.no_namespaces ? EPERM_RET : ALLOW;
		static const int inet[] = {AF_INET, AF_INET6};
		for (int f = 0; f < 2; f++) {
			uint64_t fam = (uint64_t)inet[f];
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_STREAM, 0), ALLOW);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
						 IPPROTO_TCP), ALLOW);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_DGRAM, 0), refused);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP), refused);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_DGRAM, IPPROTO_ICMP), refused);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_RAW, IPPROTO_TCP), refused);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_SEQPACKET, IPPROTO_SCTP), refused);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_STREAM, IPPROTO_SCTP), refused);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_STREAM, IPPROTO_MPTCP), refused);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_STREAM, IPPROTO_UDPLITE), refused);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_PACKET, 0), refused);
			assert_int_equal(verdict(p, SYS_socket, fam, SOCK_STREAM, 0x100000000ULL | IPPROTO_TCP),
					 refused);
			for (int t = 0; t <= 15; t++)
				if (t != SOCK_STREAM)
					assert_int_equal(verdict(p, SYS_socket, fam, (uint64_t)t | SOCK_NONBLOCK, 0),
							 refused);
		}
		assert_int_equal(verdict(p, SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), ALLOW);
		assert_int_equal(verdict(p, SYS_socket, AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG), refused);
		assert_int_equal(verdict(p, SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT), refused);
	}
}

static void test_nons_calls(void **state)
{
	(void)state;
	for (int v = 0; v < SRT_SECCOMP_PROGRAMS; v++) {
		srt_seccomp_options o = srt_seccomp_variant_options(v);
		const srt_bpf *p = srt_seccomp_program(&o);
		bool nons = o.no_namespaces;
		uint32_t refused = nons ? EPERM_RET : ALLOW;
		/* TCP Fast Open connects from sendto/sendmsg/sendmmsg */
		const uint64_t to[6] = {3, 0, 10, MSG_FASTOPEN | MSG_NOSIGNAL, 0, 16};
		const uint64_t to_plain[6] = {3, 0, 10, MSG_NOSIGNAL | MSG_DONTWAIT, 0, 16};
		const uint64_t msg[6] = {3, 0, MSG_FASTOPEN};
		const uint64_t mmsg[6] = {3, 0, 1, MSG_FASTOPEN};
		assert_int_equal(verdict6(p, SYS_sendto, to), refused);
		assert_int_equal(verdict6(p, SYS_sendto, to_plain), ALLOW);
		assert_int_equal(verdict6(p, SYS_sendmsg, msg), refused);
		assert_int_equal(verdict(p, SYS_sendmsg, 3, 0, MSG_NOSIGNAL), ALLOW);
		assert_int_equal(verdict6(p, SYS_sendmmsg, mmsg), refused);
		assert_int_equal(verdict(p, SYS_sendmmsg, 3, 0, 1), ALLOW);
		/* the host's SysV IPC and message queues */
		static const int ipc[] = {SYS_shmget, SYS_shmat, SYS_shmctl, SYS_msgget, SYS_msgsnd,
					  SYS_msgrcv, SYS_msgctl, SYS_semget, SYS_semop, SYS_semtimedop,
					  SYS_semctl, SYS_mq_open, SYS_mq_unlink, SYS_mq_timedsend,
					  SYS_mq_timedreceive, SYS_mq_notify, SYS_mq_getsetattr};
		for (size_t i = 0; i < sizeof ipc / sizeof *ipc; i++)
			assert_int_equal(verdict(p, ipc[i], 0, 0, 0), refused);
		/* chattr */
		assert_int_equal(verdict(p, SYS_ioctl, 3, FS_IOC_SETFLAGS, 0), refused);
		assert_int_equal(verdict(p, SYS_ioctl, 3, FS_IOC_FSSETXATTR, 0), refused);
		assert_int_equal(verdict(p, 469 /* file_setattr */, 0, 0, 0), refused);
		assert_int_equal(verdict(p, SYS_ioctl, 3, FS_IOC_GETFLAGS, 0), ALLOW);
		/* connect and listen go to srt; listen only in this mode */
		bool notified = nons || (o.mediate_unix && !o.allow_unix_sockets);
		assert_int_equal(verdict(p, SYS_connect, 3, 0, 16), notified ? NOTIFY : ALLOW);
		assert_int_equal(verdict(p, SYS_listen, 3, 128, 0), nons ? NOTIFY : ALLOW);
		assert_int_equal(verdict(p, SYS_seccomp, SECCOMP_SET_MODE_FILTER,
					 SECCOMP_FILTER_FLAG_NEW_LISTENER, 0),
				 notified ? EPERM_RET : ALLOW);
		/* the metadata calls, the newer ones by number */
		static const int meta[] = {SYS_chmod, SYS_fchmod, SYS_fchmodat, 452 /* fchmodat2 */,
					   SYS_chown, SYS_fchown, SYS_lchown, SYS_fchownat,
					   SYS_setxattr, SYS_lsetxattr, SYS_fsetxattr, 463 /* setxattrat */,
					   SYS_removexattr, SYS_lremovexattr, SYS_fremovexattr,
					   466 /* removexattrat */, SYS_utime, SYS_utimes, SYS_futimesat,
					   SYS_utimensat};
		for (size_t i = 0; i < sizeof meta / sizeof *meta; i++) {
			assert_true(srt_seccomp_is_metadata(meta[i]));
			assert_int_equal(verdict(p, meta[i], 0, 0, 0), nons ? NOTIFY : ALLOW);
		}
		/* what stays */
		assert_false(srt_seccomp_is_metadata(SYS_connect));
		assert_false(srt_seccomp_is_metadata(-1));
		assert_int_equal(verdict(p, SYS_getxattr, 0, 0, 0), ALLOW);
		assert_int_equal(verdict(p, SYS_stat, 0, 0, 0), ALLOW);
		assert_int_equal(verdict(p, SYS_shmdt, 0, 0, 0), ALLOW);
		assert_int_equal(verdict(p, SYS_mount, 0, 0, 0), EPERM_RET);
	}
}

/* The kernel's own answers for the no-namespace program: refusals, and
 * connect, listen and chmod reaching the listener (this test answers them
 * with errors the kernel would not give, which the child must see). */
static void test_kernel_nons(void **state)
{
	(void)state;
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sp[0]);
		srt_seccomp_options o = {.no_namespaces = true};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(2);
		int lfd = srt_seccomp_install_listener(srt_seccomp_program(&o));
		if (lfd < 0 || srt_send_fds(sp[1], &lfd, 1) < 0)
			_exit(3);
		close(lfd);
		if (socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) >= 0 || errno != EPERM)
			_exit(4);
		if (socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6) >= 0 || errno != EPERM)
			_exit(5);
		if (socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG) >= 0 || errno != EPERM)
			_exit(6);
		if (syscall(SYS_shmget, 0 /* IPC_PRIVATE */, 4096, 0600) >= 0 || errno != EPERM)
			_exit(7);
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			_exit(8);
		char c = 'x';
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (sendto(s, &c, 1, MSG_FASTOPEN, (struct sockaddr *)&sin, sizeof sin) >= 0 || errno != EPERM)
			_exit(9);
		if (connect(s, (struct sockaddr *)&sin, sizeof sin) == 0 || errno != EXDEV)
			_exit(10);
		if (listen(s, 5) == 0 || errno != ENOTTY)
			_exit(11);
		if (chmod("/", 0755) == 0 || errno != EROFS)
			_exit(12);
		_exit(0);
	}
	close(sp[1]);
	struct pollfd pf = {.fd = sp[0], .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 5000), 1);
	int lfd = -1;
	assert_int_equal(srt_recv_fds(sp[0], &lfd, 1), 1);
	close(sp[0]);
	static const struct {
		int nr, err;
	} want[] = {{SYS_connect, EXDEV}, {SYS_listen, ENOTTY}, {SYS_chmod, EROFS}};
	for (size_t i = 0; i < 3; i++) {
		struct pollfd q = {.fd = lfd, .events = POLLIN};
		assert_int_equal(poll(&q, 1, 5000), 1);
		struct seccomp_notif n;
		memset(&n, 0, sizeof n);
		assert_int_equal(ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &n), 0);
		assert_int_equal(n.data.nr, want[i].nr);
		struct seccomp_notif_resp r = {.id = n.id, .error = -want[i].err};
		assert_int_equal(ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &r), 0);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(lfd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_families_are_an_allowlist),
		cmocka_unit_test(test_netlink_protocols),
		cmocka_unit_test(test_set_foreground_only_when_lent),
		cmocka_unit_test(test_kernel_refuses_vsock),
		cmocka_unit_test(test_nons_sockets),
		cmocka_unit_test(test_nons_calls),
		cmocka_unit_test(test_kernel_nons),
	};
	return cmocka_run_group_tests_name("filter families", tests, NULL, NULL);
}
