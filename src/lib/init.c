/* init.c - PID 1 of the sandbox and the command's final set-up. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "fsgate.h"
#include "fds.h"
#include "nons/fsrules.h"
#include "nons/nonsmode.h"
#include "landlock.h"
#include "mounts.h"
#include "config.h"
#include "netpolicy.h"
#include "util.h"

/* Signals that the host forwards and init passes on to the command. */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP};

static void send_msg(int fd, uint32_t type, const srt_error *err, int value)
{
	srt_msg m = {.type = type, .value = value};
	if (err) {
		m.code = (int32_t)err->code;
		m.sys_errno = err->sys_errno;
		snprintf(m.text, sizeof m.text, "%s", err->message);
	}
	ssize_t n;
	do
		n = write(fd, &m, sizeof m);
	while (n < 0 && errno == EINTR);
}

static _Noreturn void die(const srt_init_ctx *c, const srt_error *err)
{
	send_msg(c->status_fd, SRT_MSG_ERROR, err, 0);
	_exit(125);
}

/* The sandbox's loopback only carries traffic between the command and the
 * proxies: an in-kernel link that never loses a packet.  Two best-effort
 * tunings make each byte over it cheaper (see docs/ARCHITECTURE.md,
 * "Throughput"):
 *  - larger packets: a 256 KiB MTU and, where the kernel has it (6.3+),
 *    "BIG TCP" GSO/GRO sizes, so fewer packets carry the same bytes;
 *  - Reno congestion control: the host default may be BBR, whose pacing
 *    leaves the CPUs idle between bursts on a link with no queue to
 *    protect. */
#define LO_BIG (256 * 1024)
#define LO_CC "reno"

static void loopback_set_gso(void)
{
	/* numbers from linux/if_link.h; older headers lack the IPv4 ones */
	static const unsigned short types[] = {41 /* IFLA_GSO_MAX_SIZE */, 58 /* IFLA_GRO_MAX_SIZE */,
					       63 /* IFLA_GSO_IPV4_MAX_SIZE */,
					       64 /* IFLA_GRO_IPV4_MAX_SIZE */};
	struct nl_u32 {
		struct rtattr a;
		uint32_t v;
	};
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
		struct nl_u32 at[sizeof types / sizeof types[0]];
	} req = {
		.h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_NEWLINK,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1},
		.i = {.ifi_family = AF_UNSPEC, .ifi_index = 1}, /* a new namespace's loopback */
	};
	for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
		req.at[k] = (struct nl_u32){{.rta_len = RTA_LENGTH(4), .rta_type = types[k]}, LO_BIG};
	SRT_AUTOCLOSE int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0 || send(nl, &req, sizeof req, 0) < 0)
		return;
	/* An old kernel rejects the whole message for an unknown attribute:
	 * then keep its defaults.  The answer is read only to drain it. */
	char ack[512];
	(void)!recv(nl, ack, sizeof ack, MSG_DONTWAIT);
}

/* The network namespace's default, so the command's own sockets use it
 * too.  Written through the host's /proc before the sandbox's read-only
 * one is mounted; net sysctls are those of the writer's namespace. */
static void loopback_set_cc(void)
{
	SRT_AUTOCLOSE int fd = open("/proc/sys/net/ipv4/tcp_congestion_control",
				    O_WRONLY | O_CLOEXEC);
	if (fd >= 0)
		(void)!write(fd, LO_CC, sizeof LO_CC - 1);
}

static void loopback_tune(int s)
{
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	ifr.ifr_mtu = LO_BIG;
	(void)ioctl(s, SIOCSIFMTU, &ifr);
	loopback_set_gso();
	loopback_set_cc();
}

static int loopback_up(srt_error *err)
{
	SRT_AUTOCLOSE int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "socket for loopback set-up");
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot read loopback flags");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot bring up loopback");
	loopback_tune(s);
	return 0;
}

/* A listening TCP socket on the sandbox's own loopback. */
static int listen_on(int port, srt_error *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "proxy socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* accepted sockets inherit it even where the namespace default could
	 * not be set (see loopback_tune) */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, LO_CC, sizeof LO_CC - 1);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4096) < 0) {
		srt_fail_errno(err, SRT_E_SETUP, errno, "cannot listen on 127.0.0.1:%d inside the sandbox", port);
		close(fd);
		return -1;
	}
	return fd;
}

/* Create the proxies' listeners (3128, 1080, then each hostPorts entry)
 * and hand them to the host process, which serves them from its own
 * network namespace. */
static int send_listeners(const srt_init_ctx *c, srt_error *err)
{
	int fds[2 + SRT_MAX_HOST_PORTS];
	size_t n = 0;
	int rc = 0;
	int ports[2 + SRT_MAX_HOST_PORTS] = {SRT_HTTP_PROXY_PORT, SRT_SOCKS_PROXY_PORT};
	for (size_t i = 0; i < c->n_host_ports && i < SRT_MAX_HOST_PORTS; i++)
		ports[2 + i] = c->host_ports[i];
	size_t want = 2 + (c->n_host_ports < SRT_MAX_HOST_PORTS ? c->n_host_ports : SRT_MAX_HOST_PORTS);
	for (; n < want; n++) {
		fds[n] = listen_on(ports[n], err);
		if (fds[n] < 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && srt_send_fds(c->net_fd, fds, n) < 0)
		rc = srt_fail_errno(err, SRT_E_SETUP, errno, "cannot pass the proxy sockets to srt");
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return rc;
}

static int write_file(const char *path, const char *data, srt_error *err)
{
	SRT_AUTOCLOSE int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(data);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot write %s", path);
	return 0;
}

static long raw_clone(unsigned long flags)
{
	return syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
}

/* ---- the command ---------------------------------------------------- */

static srt_status exec_status(int e)
{
	return e == ENOENT || e == ENOTDIR ? SRT_E_EXEC_NOENT : SRT_E_EXEC_PERM;
}

static int probe_restrictions(const srt_init_ctx *c, srt_error *err)
{
	if (!c->allow_nested_userns) {
		if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM)
			return srt_fail(err, SRT_E_SETUP,
					"seccomp probe failed: a new user namespace could still be created");
	}
	if (!c->allow_unix_sockets) {
		/* allowUnixSockets: stream sockets are allowed, datagram not */
		int s = socket(AF_UNIX, (c->mediate_unix ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
		int sp[2];
		int p = socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp);
		bool refused = s < 0 && errno == EPERM;
		if (s >= 0)
			close(s);
		if (p == 0) {
			close(sp[0]);
			close(sp[1]);
		}
		if (!refused || p == 0)
			return srt_fail(err, SRT_E_SETUP,
					"seccomp probe failed: an AF_UNIX socket could still be created");
	}
	/* socket families are an allowlist; vsock is the one that leaves the
	 * network namespace */
	int v = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool vsock_refused = v < 0 && errno == EPERM;
	if (v >= 0)
		close(v);
	if (!vsock_refused)
		return srt_fail(err, SRT_E_SETUP,
				"seccomp probe failed: an AF_VSOCK socket could still be created");
	/* the filter answers before the descriptor is looked at: EBADF
	 * would mean the call went through */
	pid_t pg = 0;
	if (!c->allow_set_foreground && (ioctl(-1, TIOCSPGRP, &pg) == 0 || errno != EPERM))
		return srt_fail(err, SRT_E_SETUP,
				"seccomp probe failed: the command could still set the terminal's foreground group");
	return 0;
}

/* allowUnixSockets: install the filter with a listener for its connect(2)
 * notifications and hand the listener to srt (unixgate.h). */
static int install_mediated(const srt_init_ctx *c, srt_error *err)
{
	int lfd = srt_seccomp_install_listener(c->bpf);
	if (lfd < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno,
				      "allowUnixSockets: cannot install the seccomp filter with a listener");
	int rc = srt_send_fds(c->net_fd, &lfd, 1);
	close(lfd);
	close(c->net_fd);
	if (rc < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "allowUnixSockets: cannot pass the listener to srt");
	return 0;
}

/* stdio and the descriptors the caller named get their own access only;
 * every other descriptor is closed at exec (fds.h).  Last, just before
 * exec: Landlock is enforced by now. */
static int confine_given_fds(const srt_init_ctx *c, srt_error *err)
{
	static const int std[] = {0, 1, 2};
	bool landlock = c->landlock_abi > 0;
	if (srt_fds_confine(std, 3, landlock, err) < 0 ||
	    srt_fds_confine(c->pass_fds, c->n_pass_fds, landlock, err) < 0)
		return -1;
	return srt_fds_close_others(c->pass_fds, c->n_pass_fds, err);
}

/* The creation gate's filter, with its listener sent to init over
 * `gate_wr` (fsgate.h).  After the main filter: a gated call is notified
 * only when the main filter allows it. */
static int install_gate(const srt_init_ctx *c, int gate_wr, srt_error *err)
{
	int lfd = srt_seccomp_install_listener(c->gate_bpf);
	if (lfd < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno, "cannot install the creation gate's filter");
	int rc = srt_send_fds(gate_wr, &lfd, 1);
	close(lfd);
	close(gate_wr);
	if (rc < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot pass the creation gate's listener to init");
	return 0;
}

static _Noreturn void command_main(const srt_init_ctx *c, int sync_rd, int exec_wr,
				   int ruleset, int gate_wr, const struct rlimit *nofile)
{
	srt_error err = {0};
	char b;
	/* wait until init has written our user namespace maps */
	if (read(sync_rd, &b, 1) != 1)
		_exit(125);
	close(sync_rd);
	/* the command gets the descriptor limit it was given (init raised its own) */
	if (setrlimit(RLIMIT_NOFILE, nofile) < 0) {
		srt_fail_errno(&err, SRT_E_SETUP, errno, "cannot restore the descriptor limit");
		goto fail;
	}
	for (int i = 0; i < 3; i++)
		if (c->stdio[i] >= 0 && c->stdio[i] != i && dup2(c->stdio[i], i) < 0) {
			srt_fail_errno(&err, SRT_E_SETUP, errno, "cannot set up descriptor %d", i);
			goto fail;
		}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);

	/* without a PID namespace, init's death does not end us by itself */
	if (c->no_namespaces && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
		srt_fail_errno(&err, SRT_E_SETUP, errno, "PR_SET_PDEATHSIG");
		goto fail;
	}
	if (srt_caps_drop_all(c->last_cap, true, c->no_namespaces, &err) < 0)
		goto fail;
	if (ruleset >= 0) {
		if (srt_landlock_enforce(ruleset, &err) < 0)
			goto fail;
		close(ruleset);
	}
	if (c->mediate_unix ? install_mediated(c, &err) < 0 : srt_seccomp_install(c->bpf) < 0) {
		if (!c->mediate_unix)
			srt_fail_errno(&err, SRT_E_KERNEL, errno, "cannot install the seccomp filter");
		goto fail;
	}
	if (probe_restrictions(c, &err) < 0 || confine_given_fds(c, &err) < 0)
		goto fail;
	/* last: the descriptors above were reopened by the kernel itself */
	if (gate_wr >= 0 && install_gate(c, gate_wr, &err) < 0)
		goto fail;
	execvpe(c->argv[0], c->argv, c->envp);
	int e = errno;
	srt_fail_errno(&err, exec_status(e), e, "%s", c->argv[0]);
	if (e == ENOENT)
		snprintf(err.message, sizeof err.message, "%s: command not found", c->argv[0]);
fail:
	send_msg(exec_wr, SRT_MSG_ERROR, &err, 0);
	_exit(err.code == SRT_E_EXEC_NOENT ? 127 : err.code == SRT_E_EXEC_PERM ? 126 : 125);
}

/* ---- init ----------------------------------------------------------- */

/* `pid` (of init's PID namespace) as the /proc in place numbers it.  In
 * nested mode that /proc is the container's, whose PID namespace is an
 * ancestor of ours: a pidfd's fdinfo, read through it, gives the number
 * there ("Pid:" is in the namespace of the /proc it is read through). */
static pid_t proc_pid(pid_t pid, bool nested, srt_error *err)
{
	if (!nested)
		return pid;
	SRT_AUTOCLOSE int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "pidfd_open");
	char p[64], buf[1024];
	snprintf(p, sizeof p, "/proc/self/fdinfo/%d", pfd);
	SRT_AUTOCLOSE int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (n <= 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "read %s", p);
	buf[n] = '\0';
	const char *f = strstr(buf, "\nPid:");
	long v = f ? strtol(f + 5, NULL, 10) : 0;
	if (v <= 0)
		return srt_fail(err, SRT_E_SETUP, "no Pid in %s", p);
	return (pid_t)v;
}

static int write_inner_maps(const srt_init_ctx *c, pid_t cmd, bool nested, srt_error *err)
{
	pid_t pid = proc_pid(cmd, nested, err);
	if (pid < 0)
		return -1;
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/uid_map", (int)pid);
	if (write_file(p, c->uid_map, err) < 0)
		return -1;
	snprintf(p, sizeof p, "/proc/%d/gid_map", (int)pid);
	return write_file(p, c->gid_map, err);
}

#define KILL_ROUNDS 3000 /* of about 1 ms: at most a few seconds */

/* No PID namespace to end with init: kill what is left of the command's
 * processes.  Init is their subreaper, so whatever they forked and
 * orphaned is a child of init: kill the command's process group, then
 * every child of init, reaping and waiting a moment between rounds (the
 * killed must die, and their orphans come to us), until none is left
 * (a bounded number of rounds). */
static void kill_descendants(pid_t cmd)
{
	struct timespec ts = {0, 1000000};
	(void)kill(-cmd, SIGKILL);
	for (int round = 0; round < KILL_ROUNDS; round++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (srt_nons_kill_children((int)getpid()) <= 0 &&
		    waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return;
		nanosleep(&ts, NULL);
	}
}

/* Wait until `fd` is readable, serving the creation gate meanwhile (a
 * gate whose listener failed is closed and no longer waited on). */
static void wait_serving(srt_fsgate *gate, int fd)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
				      {.fd = gate ? gate->notify_fd : -1, .events = POLLIN}};
		int r = poll(p, 2, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			return;
		if (p[1].revents & POLLIN) {
			if (srt_fsgate_serve(gate) < 0) {
				close(gate->notify_fd);
				gate->notify_fd = -1;
			}
		} else if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			close(gate->notify_fd);
			gate->notify_fd = -1;
		}
	}
}

static _Noreturn void supervise(const srt_init_ctx *c, pid_t cmd, int sfd, srt_fsgate *gate)
{
	int status = 0;
	for (;;) {
		struct signalfd_siginfo si;
		if (gate && gate->notify_fd >= 0)
			wait_serving(gate, sfd);
		ssize_t n = read(sfd, &si, sizeof si);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof si)
			_exit(125);
		if (si.ssi_signo != SIGCHLD) {
			/* Only what srt (or another process outside) sent us: a
			 * signal the terminal generated went to the whole
			 * foreground group, the command included, and one sent
			 * from inside came from the command's own side.  Without
			 * namespaces every sender has a pid, and the command
			 * cannot signal us (Landlock's signal scope). */
			if (si.ssi_code != SI_KERNEL && (si.ssi_pid == 0 || c->no_namespaces))
				kill(cmd, (int)si.ssi_signo);
			continue;
		}
		for (;;) { /* reap everything that ended; report the command's stops */
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG | (c->report_stops ? WUNTRACED : 0));
			if (p <= 0)
				break;
			if (p == cmd && WIFSTOPPED(st)) {
				send_msg(c->status_fd, SRT_MSG_STOPPED, NULL, st);
				continue;
			}
			if (p == cmd) {
				status = st;
				if (c->no_namespaces)
					kill_descendants(cmd);
				srt_error report = {.code = 0};
				if (gate && gate->dropped)
					report.code = (srt_status)(gate->dropped > INT32_MAX ? INT32_MAX
								   : (int32_t)gate->dropped);
				send_msg(c->status_fd, SRT_MSG_EXIT, gate ? &report : NULL, status);
				_exit(0); /* the kernel kills the rest of the namespace */
			}
		}
	}
}

_Noreturn void srt_init_main(const srt_init_ctx *c)
{
	srt_error err = {0};
	char b;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(125);
	/* A process group of our own, which the command inherits (srt does
	 * the same from its side; whichever runs first wins).  Groups span
	 * PID namespaces: in srt's group, the command's kill(0, sig) would
	 * reach srt and whoever started it, whatever Landlock can scope. */
	if (setpgid(0, 0) < 0)
		_exit(125);
	/* the host writes our maps, then says go (EOF: it died or gave up) */
	if (read(c->go_fd, &b, 1) != 1)
		_exit(125);
	close(c->go_fd);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
		sigaddset(&set, forwarded[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die(c, &err);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		srt_fail_errno(&err, SRT_E_SETUP, errno, "signalfd");
		die(c, &err);
	}

	/* Init's own descriptor limit as high as allowed: the mount plan's early
	 * clones are open at once (mounts.c).  The command gets the caller's. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0) {
		srt_fail_errno(&err, SRT_E_SETUP, errno, "getrlimit");
		die(c, &err);
	}
	struct rlimit raised = {.rlim_cur = nofile.rlim_max, .rlim_max = nofile.rlim_max};
	(void)setrlimit(RLIMIT_NOFILE, &raised); /* best effort: it can only help */

	/* loopback first: its tuning writes a sysctl through the host's /proc */
	bool nested = false;
	if (c->no_namespaces) {
		/* orphans of the command become ours, to be killed at the end */
		if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
			srt_fail_errno(&err, SRT_E_SETUP, errno, "PR_SET_CHILD_SUBREAPER");
			die(c, &err);
		}
	} else if (loopback_up(&err) < 0 ||
		   srt_mounts_apply(c->plan, c->clone_fds, c->weaker_nested, &nested, &err) < 0) {
		die(c, &err);
	}
	/* With the container's /proc the command can name processes outside
	 * the sandbox: srt's own, the container's shell.  Their /proc/PID/root,
	 * cwd, fd, environ and mem are guarded by the ptrace access check,
	 * whose capability rule refuses them (they are in an ancestor user
	 * namespace, where the command has no CAP_SYS_PTRACE), and Landlock's
	 * domain rule refuses them again; the files their owner may write
	 * without that check are on a read-only mount (srt_mounts_seal_proc,
	 * once the command's maps are written). */
	if (c->net_fd >= 0 && !c->no_namespaces) { /* else srt made them */
		if (send_listeners(c, &err) < 0)
			die(c, &err);
		if (!c->mediate_unix) /* else the command sends its listener over it */
			close(c->net_fd);
	}
	if (chdir(c->cwd) < 0) {
		srt_fail_errno(&err, SRT_E_SETUP, errno,
			       "the working directory %s is not reachable inside the sandbox", c->cwd);
		die(c, &err);
	}
	int ruleset = -1;
	if (c->landlock_abi > 0) {
		ruleset = c->no_namespaces
			? srt_landlock_ruleset_nons(c->landlock_abi, c->fsrules, c->connect_ports,
						    c->n_connect_ports, &err)
			: srt_landlock_ruleset(c->landlock_abi, c->landlock_paths,
					       c->n_landlock_paths, &err);
		if (ruleset < 0)
			die(c, &err);
		for (int i = 0; i < 3; i++)
			if (srt_landlock_allow_fd(ruleset, c->landlock_abi,
						  c->stdio[i] >= 0 ? c->stdio[i] : i, &err) < 0)
				die(c, &err);
		for (size_t i = 0; i < c->n_pass_fds; i++)
			if (srt_landlock_allow_fd(ruleset, c->landlock_abi, c->pass_fds[i], &err) < 0)
				die(c, &err);
	}

	/* The creation gate: init performs the gated calls under a Landlock
	 * domain the command's is nested in (the command's rules plus /proc,
	 * where init writes the maps; the gate refuses /proc itself), so init
	 * may read the command's memory and descriptors, and what it does for
	 * the command is what the command could do. */
	int gate_sp[2] = {-1, -1};
	if (c->fs_gate) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, gate_sp) < 0) {
			srt_fail_errno(&err, SRT_E_SETUP, errno, "socketpair");
			die(c, &err);
		}
		if (c->landlock_abi > 0) {
			int irs = srt_landlock_ruleset(c->landlock_abi, c->init_landlock_paths,
						       c->n_init_landlock_paths, &err);
			if (irs < 0)
				die(c, &err);
			for (int i = 0; i < 3; i++)
				if (srt_landlock_allow_fd(irs, c->landlock_abi,
							  c->stdio[i] >= 0 ? c->stdio[i] : i, &err) < 0)
					die(c, &err);
			for (size_t i = 0; i < c->n_pass_fds; i++)
				if (srt_landlock_allow_fd(irs, c->landlock_abi, c->pass_fds[i], &err) < 0)
					die(c, &err);
			if (srt_landlock_enforce(irs, &err) < 0)
				die(c, &err);
			close(irs);
		}
	}

	int sync_p[2], exec_p[2];
	if (pipe2(sync_p, O_CLOEXEC) < 0 || pipe2(exec_p, O_CLOEXEC) < 0) {
		srt_fail_errno(&err, SRT_E_SETUP, errno, "pipe");
		die(c, &err);
	}
	long pid = raw_clone(c->no_namespaces ? SIGCHLD : CLONE_NEWUSER | SIGCHLD);
	if (pid < 0) {
		srt_fail_errno(&err, SRT_E_KERNEL, errno,
			       "cannot create the command's user namespace");
		die(c, &err);
	}
	if (pid == 0) {
		close(sync_p[1]);
		close(exec_p[0]);
		close(sfd);
		if (gate_sp[0] >= 0)
			close(gate_sp[0]);
		command_main(c, sync_p[0], exec_p[1], ruleset, gate_sp[1], &nofile);
	}
	close(sync_p[0]);
	close(exec_p[1]);
	if (gate_sp[1] >= 0)
		close(gate_sp[1]);
	if (c->mediate_unix && c->net_fd >= 0)
		close(c->net_fd);
	if (ruleset >= 0)
		close(ruleset);
	if ((!c->no_namespaces && write_inner_maps(c, (pid_t)pid, nested, &err) < 0) ||
	    (nested && srt_mounts_seal_proc(&err) < 0)) {
		kill((pid_t)pid, SIGKILL);
		die(c, &err);
	}
	/* With the gate, init acts for the command from now on: as the
	 * command's user, with no capability, and filtered like it. */
	if (c->fs_gate) {
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if (srt_caps_drop_all(c->last_cap, false, false, &err) < 0 || srt_seccomp_install(c->bpf) < 0) {
			kill((pid_t)pid, SIGKILL);
			die(c, &err);
		}
	}
	if (write(sync_p[1], "g", 1) != 1) {
		srt_fail_errno(&err, SRT_E_SETUP, errno, "cannot start the command");
		die(c, &err);
	}
	close(sync_p[1]);

	srt_fsgate gate_state, *gate = NULL;
	if (c->fs_gate) {
		/* the command sends the listener right after its filters; EOF:
		 * it failed before (its report is on the exec pipe) */
		struct pollfd gp = {.fd = gate_sp[0], .events = POLLIN};
		int lfd = -1;
		int pr;
		do
			pr = poll(&gp, 1, 30000);
		while (pr < 0 && errno == EINTR);
		if (pr > 0 && srt_recv_fds(gate_sp[0], &lfd, 1) == 1) {
			if (srt_fsgate_open(&gate_state, lfd, c->record_fd) < 0) {
				srt_fail_errno(&err, SRT_E_SETUP, errno, "cannot set up the creation gate");
				kill((pid_t)pid, SIGKILL);
				die(c, &err);
			}
			gate_state.git_config_ok = c->gate_git_config_ok;
			gate = &gate_state;
		} else if (pr == 0) {
			srt_fail(&err, SRT_E_SETUP, "the command did not send the creation gate's listener");
			kill((pid_t)pid, SIGKILL);
			die(c, &err);
		}
		close(gate_sp[0]);
		if (gate)
			wait_serving(gate, exec_p[0]);
	}

	/* EOF on the exec pipe: the command was executed */
	srt_msg m;
	ssize_t n;
	do
		n = read(exec_p[0], &m, sizeof m);
	while (n < 0 && errno == EINTR);
	close(exec_p[0]);
	if (n == sizeof m) {
		m.text[sizeof m.text - 1] = '\0';
		ssize_t w;
		do
			w = write(c->status_fd, &m, sizeof m);
		while (w < 0 && errno == EINTR);
		_exit(125);
	}
	send_msg(c->status_fd, SRT_MSG_READY, NULL, nested ? SRT_READY_NESTED : 0);

	/* init itself now holds nothing the command could use */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* init never executes anything: its bounding set does not matter */
	if (!c->fs_gate &&
	    (srt_caps_drop_all(c->last_cap, false, false, &err) < 0 || srt_seccomp_install(c->bpf) < 0)) {
		kill((pid_t)pid, SIGKILL);
		die(c, &err);
	}
	supervise(c, (pid_t)pid, sfd, gate);
}
