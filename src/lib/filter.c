/* filter.c - the syscall filter.  Default: allow.  Refused calls return
 * EPERM (clone3: ENOSYS so libc falls back to clone, whose flags we can
 * inspect); socket families are an allowlist.  Any other architecture
 * (i386, x32) kills the process. */
#include "filter.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <linux/fscrypt.h>
#include <linux/fsverity.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* Calls a container runtime's default profile refuses, plus the mount API,
 * keyrings, io_uring and friends.  Every one returns EPERM. */
const char *const srt_seccomp_denied_names[] = {
	/* mount family: policy mounts must stay as they are */
	"mount", "umount2", "pivot_root", "open_tree", "move_mount", "fsopen",
	"fsmount", "fspick", "fsconfig", "mount_setattr", "chroot",
	/* namespaces (unless allowNestedUserNamespaces) */
	"setns",
	/* io_uring bypasses the filter for the calls it performs */
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	/* kernel keyrings are not namespaced */
	"add_key", "request_key", "keyctl",
	/* kernel attack surface */
	"bpf", "perf_event_open", "userfaultfd", "kexec_load",
	"kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "query_module", "get_kernel_syms",
	"open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
	"acct", "swapon", "swapoff", "reboot", "syslog", "quotactl",
	"quotactl_fd", "nfsservctl", "_sysctl", "sysfs", "uselib", "ustat",
	"vm86", "vm86old", "iopl", "ioperm", "settimeofday", "clock_settime",
	"clock_adjtime", "adjtimex", "stime", "fanotify_init",
	"process_madvise", "kcmp", "pidfd_getfd",
	NULL,
};

/* What the no-namespace variant sends to the metadata gate (filter.h). */
const char *const srt_seccomp_metadata_names[] = {
	"chmod", "fchmod", "fchmodat", "fchmodat2",
	"chown", "fchown", "lchown", "fchownat",
	"setxattr", "lsetxattr", "fsetxattr", "setxattrat",
	"removexattr", "lremovexattr", "fremovexattr", "removexattrat",
	"utime", "utimes", "futimesat", "utimensat",
	NULL,
};

/* What the no-namespace variant refuses besides: the host's SysV IPC and
 * POSIX message queues, and file_setattr (inode flags). */
static const char *const nons_denied_names[] = {
	"shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl",
	"semget", "semop", "semtimedop", "semctl", "ipc",
	"mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
	"mq_getsetattr",
	"file_setattr",
	NULL,
};

/* Calls newer than some libseccomp srt builds with (2.5.4 knows none of
 * these): numbered alike on every architecture since Linux 5.1, the
 * unified table (alpha, mips and ia64 excepted, which srt does not build
 * for). */
static const struct {
	const char *name;
	int nr;
} newer_calls[] = {
	{"fchmodat2", 452}, {"setxattrat", 463}, {"removexattrat", 466}, {"file_setattr", 469},
};

int srt_seccomp_resolve(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr != __NR_SCMP_ERROR && nr >= 0)
		return nr;
#if defined(__x86_64__) || defined(__aarch64__) || defined(__riscv) || defined(__powerpc64__) || \
	defined(__s390x__) || defined(__loongarch64)
	for (size_t i = 0; i < sizeof newer_calls / sizeof *newer_calls; i++)
		if (strcmp(newer_calls[i].name, name) == 0)
			return newer_calls[i].nr;
#endif
	return -1;
}

static const uint64_t ns_flags[] = {
	CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET,
	CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP,
};

/* Compare the low 32 bits only: the kernel truncates int arguments, so a
 * full 64-bit compare can be bypassed with garbage in the upper half. */
#define LOW32 0xffffffffULL
#define SOCK_TYPE_MASK 0xf /* the type's bits of socket(2)'s second argument */

/* Refuse (EPERM) socket() with an argument ARG (0 = family, 2 = protocol)
 * outside `allowed`, when `family` is >= 0 only for that family.  Values
 * below the largest allowed one are compared on their low 32 bits, one rule
 * each; everything above it is refused by one full 64-bit compare, which
 * also catches garbage in the upper half whatever the low half says (the
 * kernel truncates the int, so such a call could only be a bypass attempt:
 * refusing it is the safe side).  A family or protocol a later kernel adds
 * is thus refused too. */
static int refuse_outside(scmp_filter_ctx ctx, int nr, unsigned arg, const int *allowed,
			  size_t n_allowed, int family)
{
	int bound = 0;
	for (size_t i = 0; i < n_allowed; i++)
		if (allowed[i] + 1 > bound)
			bound = allowed[i] + 1;
	const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	struct scmp_arg_cmp fam = SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (scmp_datum_t)family);
	unsigned n_cmp = family >= 0 ? 2 : 1;
	int rc = 0;
	for (int v = 0; rc == 0 && v < bound; v++) {
		bool ok = false;
		for (size_t i = 0; i < n_allowed; i++)
			ok |= allowed[i] == v;
		if (ok)
			continue;
		struct scmp_arg_cmp c[2] = {{arg, SCMP_CMP_MASKED_EQ, LOW32, (scmp_datum_t)v}, fam};
		rc = seccomp_rule_add_array(ctx, eperm, nr, n_cmp, c);
	}
	struct scmp_arg_cmp c[2] = {{arg, SCMP_CMP_GE, (scmp_datum_t)bound, 0}, fam};
	if (rc == 0)
		rc = seccomp_rule_add_array(ctx, eperm, nr, n_cmp, c);
	return rc;
}

/* Socket families are an allowlist (SPEC §5).  AF_INET and AF_INET6 reach
 * only the sandbox's own network namespace (loopback, the proxies);
 * AF_UNIX is further limited by the rules above.  AF_NETLINK stays: glibc's
 * getaddrinfo (AI_ADDRCONFIG), getifaddrs, `ip`, Go, Node and Python ask
 * NETLINK_ROUTE about interfaces, and netlink sockets live in the network
 * namespace.  Of its protocols, only those the kernel keeps per namespace
 * are allowed (route, sock_diag, xfrm, netfilter, generic netlink - whose
 * families without netnsok the kernel hides outside the initial namespace -
 * and uevents, which since 4.18 reach only namespaces of the initial user
 * namespace); audit, connector (process events), SELinux, iSCSI, SCSI
 * transport, RDMA (shared across namespaces by default), crypto (the
 * global algorithm registry) and the rest are refused.
 *
 * Everything else is refused, among them AF_VSOCK (not isolated by a
 * network namespace: in a VM it reaches the hypervisor side and other
 * guests' services), AF_PACKET, AF_BLUETOOTH, AF_XDP, AF_KEY, AF_CAN,
 * AF_TIPC, AF_RDS, AF_QIPCRTR, AF_MCTP, AF_NFC...  and AF_ALG, the kernel
 * crypto API: it leaves nothing, but it is a large, often-vulnerable
 * surface, and no common user-space library needs it (OpenSSL's afalg
 * engine is opt-in, libkcapi and cryptsetup are not for a sandbox, systemd
 * dropped it in v250); callers fall back to their own code.  Refusing at
 * socket() also keeps the command from loading protocol modules (the
 * kernel's request_module("net-pf-N") on first use).
 *
 * socketpair(2) only works for AF_UNIX (every other family ends in
 * EOPNOTSUPP after creating two sockets, module loading included): every
 * other family is refused. */
static int add_family_rules(scmp_filter_ctx ctx, const srt_seccomp_options *o, srt_error *err)
{
	static const int families[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
	static const int netlink[] = {NETLINK_ROUTE, NETLINK_SOCK_DIAG, NETLINK_XFRM,
				      NETLINK_NETFILTER, NETLINK_KOBJECT_UEVENT, NETLINK_GENERIC};
	static const int pair_families[] = {AF_UNIX};
	int rc = refuse_outside(ctx, SCMP_SYS(socket), 0, families, 4, -1);
	/* no network namespace: the other netlink protocols would be the
	 * host's (sock_diag lists every socket of the host, uevents...) */
	if (rc == 0)
		rc = refuse_outside(ctx, SCMP_SYS(socket), 2, netlink, o->no_namespaces ? 1 : 6, AF_NETLINK);
	if (rc == 0)
		rc = refuse_outside(ctx, SCMP_SYS(socketpair), 0, pair_families, 1, -1);
	if (rc < 0)
		return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: socket families");
	return 0;
}

/* The no-namespace variant's own rules (filter.h). */
static int add_nons_rules(scmp_filter_ctx ctx, srt_error *err)
{
	const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	int rc = 0;
	for (size_t i = 0; nons_denied_names[i]; i++) {
		int nr = srt_seccomp_resolve(nons_denied_names[i]);
		if (nr >= 0 && (rc = seccomp_rule_add(ctx, eperm, nr, 0)) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: rule for %s", nons_denied_names[i]);
	}
	for (size_t i = 0; srt_seccomp_metadata_names[i]; i++) {
		int nr = srt_seccomp_resolve(srt_seccomp_metadata_names[i]);
		if (nr >= 0 && (rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0)) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: rule for %s",
					      srt_seccomp_metadata_names[i]);
	}
	/* inet: TCP streams only.  The type's low bits are the type (the
	 * flags above them stay free); the protocol is 0 or IPPROTO_TCP */
	static const int inet[] = {AF_INET, AF_INET6};
	static const int tcp[] = {0, IPPROTO_TCP};
	for (size_t f = 0; rc == 0 && f < 2; f++) {
		for (int t = 0; rc == 0 && t <= SOCK_TYPE_MASK; t++)
			if (t != SOCK_STREAM)
				rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 2,
						      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (scmp_datum_t)inet[f]),
						      SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, (scmp_datum_t)t));
		if (rc == 0)
			rc = refuse_outside(ctx, SCMP_SYS(socket), 2, tcp, 2, inet[f]);
	}
	/* TCP Fast Open connects from sendto/sendmsg, past connect(2) (and
	 * past Landlock's connect rule) */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(sendto), 1,
				      SCMP_A3(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(sendmsg), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(sendmmsg), 1,
				      SCMP_A3(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN));
	/* Inode changes a file's owner may make through any descriptor of it,
	 * read-only ones included (Landlock governs ioctls on devices only):
	 * chattr flags, the inode generation (found by red-teaming), an
	 * encryption policy, fs-verity, ext4's extent migration, btrfs
	 * subvolumes and snapshots (in a directory the command may only
	 * read) */
	static const unsigned long flag_ioctls[] = {
		FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS, FS_IOC_FSSETXATTR, FS_IOC_SETVERSION,
		FS_IOC32_SETVERSION, FS_IOC_SET_ENCRYPTION_POLICY, FS_IOC_ENABLE_VERITY,
		_IO('f', 9) /* EXT4_IOC_MIGRATE */, BTRFS_IOC_SNAP_CREATE, BTRFS_IOC_SNAP_CREATE_V2,
		BTRFS_IOC_SUBVOL_CREATE, BTRFS_IOC_SUBVOL_CREATE_V2, BTRFS_IOC_SNAP_DESTROY,
		BTRFS_IOC_SNAP_DESTROY_V2, BTRFS_IOC_SUBVOL_SETFLAGS, BTRFS_IOC_SET_RECEIVED_SUBVOL,
	};
	for (size_t i = 0; rc == 0 && i < sizeof flag_ioctls / sizeof *flag_ioctls; i++)
		rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, flag_ioctls[i]));
	/* Process groups: without a PID namespace the caller's shell's groups
	 * are visible, and joining its foreground group lets a background
	 * command read what the user types to the shell (found by
	 * red-teaming).  Only a group of one's own: setpgid(pid, 0).  An
	 * interactive shell inside cannot put a pipeline's later processes
	 * into the first one's group (bash says so and goes on). */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(setpgid), 1, SCMP_A1(SCMP_CMP_NE, 0, 0));
	/* Calls that act on another process of the same user with no ptrace
	 * check (Landlock does not scope them; a PID namespace would hide
	 * the targets): only on the caller itself.  The pid (argument 0) of
	 * prlimit64 and sched_* must be 0; setpriority's `which` must be
	 * PRIO_PROCESS (0) and ioprio_set's IOPRIO_WHO_PROCESS (1), with `who`
	 * 0.  Compared on all 64 bits: garbage in the upper half is refused. */
	static const char *const self_only[] = {"prlimit64", "sched_setaffinity", "sched_setparam",
						"sched_setscheduler", "sched_setattr", "migrate_pages",
						"move_pages", NULL};
	for (size_t i = 0; rc == 0 && self_only[i]; i++) {
		int nr = srt_seccomp_resolve(self_only[i]);
		if (nr >= 0)
			rc = seccomp_rule_add(ctx, eperm, nr, 1, SCMP_A0(SCMP_CMP_NE, 0, 0));
	}
	static const struct {
		const char *name;
		scmp_datum_t which;
	} who_only[] = {{"setpriority", 0 /* PRIO_PROCESS */}, {"ioprio_set", 1 /* IOPRIO_WHO_PROCESS */}};
	for (size_t i = 0; rc == 0 && i < sizeof who_only / sizeof *who_only; i++) {
		int nr = srt_seccomp_resolve(who_only[i].name);
		if (nr < 0)
			continue;
		rc = seccomp_rule_add(ctx, eperm, nr, 1, SCMP_A0(SCMP_CMP_NE, who_only[i].which, 0));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, eperm, nr, 1, SCMP_A1(SCMP_CMP_NE, 0, 0));
	}
	if (rc < 0)
		return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: no-namespace rules");
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const srt_seccomp_options *o,
		     srt_error *err)
{
	int rc;
	const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	for (size_t i = 0; srt_seccomp_denied_names[i]; i++) {
		int nr = seccomp_syscall_resolve_name(srt_seccomp_denied_names[i]);
		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue; /* not on this architecture */
		if (o->allow_nested_userns && strcmp(srt_seccomp_denied_names[i], "setns") == 0)
			continue;
		rc = seccomp_rule_add(ctx, eperm, nr, 0);
		if (rc < 0)
			return srt_fail_errno(err, SRT_E_SETUP, -rc,
					      "seccomp: rule for %s",
					      srt_seccomp_denied_names[i]);
	}
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc < 0)
		return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: clone3");
	if (!o->allow_unix_sockets && o->mediate_unix) {
		/* allowUnixSockets: stream and seqpacket sockets, whose
		 * connect(2) srt performs (unixgate.h); datagram ones would name
		 * a target per sendto(2) */
		static const int dgram[] = {SOCK_DGRAM, SOCK_RAW /* = DGRAM for AF_UNIX */};
		rc = 0;
		for (size_t i = 0; rc == 0 && i < 2; i++) {
			rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 2,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, AF_UNIX),
					      SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, dgram[i]));
			if (rc == 0)
				rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(socketpair), 2,
						      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, AF_UNIX),
						      SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, dgram[i]));
		}
		if (rc < 0)
			return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: allowUnixSockets rules");
	} else if (!o->allow_unix_sockets) {
		rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, AF_UNIX));
		/* A datagram socketpair can sendto(2) any host socket by path
		 * (journald, syslog, a notify socket): refused.  Stream and
		 * seqpacket pairs (libuv's child stdio, asyncio's self-pipe)
		 * stay: a connected one cannot be pointed anywhere else. */
		static const int dgram_types[] = {SOCK_DGRAM, SOCK_RAW /* = DGRAM for AF_UNIX */};
		for (size_t i = 0; rc == 0 && i < 2; i++)
			rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(socketpair), 2,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, AF_UNIX),
					      SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, dgram_types[i]));
		if (rc < 0)
			return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: socket");
	}
	if (o->no_namespaces || (!o->allow_unix_sockets && o->mediate_unix)) {
		/* connect(2) goes to srt (and listen(2) in the no-namespace
		 * mode, which has no namespace to keep a listener in) */
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(connect), 0);
		if (rc == 0 && o->no_namespaces)
			rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(listen), 0);
		/* a notifier of the command's own would take precedence over
		 * srt's (the most recent filter wins) and could let calls go on */
		if (rc == 0)
			rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(seccomp), 2,
					      SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0),
					      SCMP_A1(SCMP_CMP_MASKED_EQ, SECCOMP_FILTER_FLAG_NEW_LISTENER,
						      SECCOMP_FILTER_FLAG_NEW_LISTENER));
		if (rc < 0)
			return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: notification rules");
	}
	if (o->no_namespaces && add_nons_rules(ctx, err) < 0)
		return -1;
	if (!o->allow_nested_userns) {
		for (size_t i = 0; i < sizeof ns_flags / sizeof *ns_flags; i++) {
			rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(unshare), 1,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
			if (rc == 0)
				rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(clone), 1,
						      SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
			if (rc < 0)
				return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: namespace flags");
		}
		rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(unshare), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWTIME, CLONE_NEWTIME));
		if (rc < 0)
			return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: CLONE_NEWTIME");
	}
	if (add_family_rules(ctx, o, err) < 0)
		return -1;
	/* terminal injection; and, unless srt lent the terminal to the
	 * sandbox (allow_set_foreground), making itself the terminal's
	 * foreground group: a process that ignores SIGTTOU may do that from
	 * the background, then read what the user types to another job */
	static const unsigned long ioctls[] = {TIOCSTI, TIOCLINUX, TIOCSPGRP};
	size_t n_ioctls = o->allow_set_foreground ? 2 : 3;
	for (size_t i = 0; i < n_ioctls; i++) {
		rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, ioctls[i]));
		if (rc < 0)
			return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: ioctl");
	}
	return 0;
}

/* The compiled program of `ctx`, copied out of libseccomp (memfd). */
static int export_program(scmp_filter_ctx ctx, srt_bpf *out, srt_error *err)
{
	int rc;
	SRT_AUTOCLOSE int fd = memfd_create("srt-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "seccomp: memfd_create");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: export");
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return srt_fail(err, SRT_E_SETUP, "seccomp: exported filter has a bad size");
	out->insns = malloc((size_t)st.st_size);
	if (!out->insns)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	if (pread(fd, out->insns, (size_t)st.st_size, 0) != st.st_size) {
		srt_bpf_free(out);
		return srt_fail_errno(err, SRT_E_SETUP, errno, "seccomp: reading filter");
	}
	out->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	return 0;
}

int srt_seccomp_compile(const srt_seccomp_options *o, srt_bpf *out,
			srt_error *err)
{
	*out = (srt_bpf){0};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return srt_fail(err, SRT_E_SETUP, "seccomp: cannot create filter");
	int rc = -1;
	/* Only the native architecture is in the filter; anything else (i386
	 * int 0x80, x32) hits the bad-architecture action. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
		srt_fail(err, SRT_E_SETUP, "seccomp: cannot set filter attributes");
		goto out;
	}
	if (add_rules(ctx, o, err) < 0)
		goto out;
	rc = export_program(ctx, out, err);
out:
	seccomp_release(ctx);
	return rc;
}

void srt_bpf_free(srt_bpf *prog)
{
	free(prog->insns);
	*prog = (srt_bpf){0};
}

/* ---- the creation gate's filter (fsgate.h) ------------------------------ */

/* Calls that make a name, always notified. */
static const char *const fsgate_names[] = {
	"creat", "mkdir", "mkdirat", "mknod", "mknodat", "symlink", "symlinkat",
	"link", "linkat", "rename", "renameat", "renameat2", "truncate", NULL,
};

/* open(2) and openat(2) only with a flag that writes or creates: reads,
 * the bulk of all opens, never leave the kernel. */
static int add_write_open_rules(scmp_filter_ctx ctx, const char *name, unsigned flags_arg,
				srt_error *err)
{
	static const uint64_t bits[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC};
	int nr = srt_seccomp_resolve(name);
	if (nr < 0)
		return 0;
	for (size_t i = 0; i < sizeof bits / sizeof *bits; i++) {
		struct scmp_arg_cmp cmp = {.arg = flags_arg, .op = SCMP_CMP_MASKED_EQ,
					   .datum_a = bits[i], .datum_b = bits[i]};
		int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1, cmp);
		if (rc < 0)
			return srt_fail_errno(err, SRT_E_SETUP, -rc, "seccomp: gate rule for %s", name);
	}
	return 0;
}

int srt_seccomp_fsgate_compile(srt_bpf *out, srt_error *err)
{
	*out = (srt_bpf){0};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return srt_fail(err, SRT_E_SETUP, "seccomp: cannot create filter");
	int rc = -1;
	/* the main filter kills other architectures; this one lets them pass
	 * to it */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
		srt_fail(err, SRT_E_SETUP, "seccomp: cannot set filter attributes");
		goto out;
	}
	for (size_t i = 0; fsgate_names[i]; i++) {
		int nr = srt_seccomp_resolve(fsgate_names[i]);
		int r = nr < 0 ? 0 : seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
		if (r < 0) {
			srt_fail_errno(err, SRT_E_SETUP, -r, "seccomp: gate rule for %s", fsgate_names[i]);
			goto out;
		}
	}
	if (add_write_open_rules(ctx, "open", 1, err) < 0 || add_write_open_rules(ctx, "openat", 2, err) < 0)
		goto out;
	/* openat2's flags are in memory the filter cannot read, and the gate
	 * cannot hand back the O_PATH descriptors it is mostly used for (the
	 * kernel's ADDFD refuses them): "not here", and callers (rustix,
	 * systemd) fall back to openat */
	int o2 = srt_seccomp_resolve("openat2");
	int r2 = o2 < 0 ? 0 : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), o2, 0);
	if (r2 < 0) {
		srt_fail_errno(err, SRT_E_SETUP, -r2, "seccomp: gate rule for openat2");
		goto out;
	}
	rc = export_program(ctx, out, err);
out:
	seccomp_release(ctx);
	return rc;
}
