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
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filter.h"

#define ALLOW SECCOMP_RET_ALLOW
#define EPERM_RET (SECCOMP_RET_ERRNO | EPERM)

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

static bool netlink_allowed(int p)
{
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
			uint32_t want = family_allowed(f) ? ALLOW : EPERM_RET;
			for (int t = SOCK_STREAM; t <= SOCK_SEQPACKET; t++) {
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
			uint32_t want = netlink_allowed(proto) ? ALLOW : EPERM_RET;
			uint32_t got = verdict(p, SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (uint64_t)proto);
			if (got != want)
				fail_msg("variant %d: netlink protocol %d gave 0x%x, want 0x%x", v, proto, got, want);
		}
		assert_int_equal(verdict(p, SYS_socket, AF_NETLINK, SOCK_RAW, 0x100000000ULL | NETLINK_AUDIT),
				 EPERM_RET);
		/* the protocol rules are netlink's alone */
		assert_int_equal(verdict(p, SYS_socket, AF_INET, SOCK_STREAM, 6 /* TCP */), ALLOW);
		assert_int_equal(verdict(p, SYS_socket, AF_INET6, SOCK_DGRAM, 17 /* UDP */), ALLOW);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_families_are_an_allowlist),
		cmocka_unit_test(test_netlink_protocols),
		cmocka_unit_test(test_set_foreground_only_when_lent),
		cmocka_unit_test(test_kernel_refuses_vsock),
	};
	return cmocka_run_group_tests_name("filter families", tests, NULL, NULL);
}
