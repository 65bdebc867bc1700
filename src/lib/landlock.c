/* landlock.c - table-driven Landlock set-up by ABI version. */
#include "landlock.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fds.h"
#include "util.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#define SRT_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SRT_SCOPE_SIGNAL (1ULL << 1)

/* Write rights and the ABI that introduced them.  Reads are governed by
 * the mounts; Landlock here only narrows writes. */
static const struct {
	__u64 right;
	int abi;
	bool file; /* applies to a regular file (not only to directories) */
} write_rights[] = {
	{LANDLOCK_ACCESS_FS_WRITE_FILE, 1, true},
	{LANDLOCK_ACCESS_FS_REMOVE_DIR, 1, false},
	{LANDLOCK_ACCESS_FS_REMOVE_FILE, 1, false},
	{LANDLOCK_ACCESS_FS_MAKE_CHAR, 1, false},
	{LANDLOCK_ACCESS_FS_MAKE_DIR, 1, false},
	{LANDLOCK_ACCESS_FS_MAKE_REG, 1, false},
	{LANDLOCK_ACCESS_FS_MAKE_SOCK, 1, false},
	{LANDLOCK_ACCESS_FS_MAKE_FIFO, 1, false},
	{LANDLOCK_ACCESS_FS_MAKE_BLOCK, 1, false},
	{LANDLOCK_ACCESS_FS_MAKE_SYM, 1, false},
	{LANDLOCK_ACCESS_FS_REFER, 2, false},
	{LANDLOCK_ACCESS_FS_TRUNCATE, 3, true},
};
#define N_RIGHTS (sizeof write_rights / sizeof *write_rights)

static __u64 rights_for(int abi, bool file_only)
{
	__u64 r = 0;
	for (size_t i = 0; i < N_RIGHTS; i++)
		if (write_rights[i].abi <= abi && (!file_only || write_rights[i].file))
			r |= write_rights[i].right;
	return r;
}

/* A test build may cap the ABI (meson -Dlandlock_max_abi=5: no signal
 * scoping), to show that what Landlock would also refuse is refused without
 * it.  0: no cap. */
#ifndef SRT_LANDLOCK_MAX_ABI
#define SRT_LANDLOCK_MAX_ABI 0
#endif

int srt_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
			 LANDLOCK_CREATE_RULESET_VERSION);
	if (v < 0)
		return 0;
	return SRT_LANDLOCK_MAX_ABI > 0 && v > SRT_LANDLOCK_MAX_ABI ? SRT_LANDLOCK_MAX_ABI : (int)v;
}

/* internal_ok: a file of an internal file system (a memfd) takes no rule
 * and is skipped: Landlock does not govern those, and no path reaches it. */
static int add_rule_fd(int ruleset, int abi, int fd, bool internal_ok, srt_error *err,
		       const char *what)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "Landlock: stat %s", what);
	bool dir = S_ISDIR(st.st_mode);
	if (!dir && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return 0; /* pipes, sockets: not governed by path rules */
	struct landlock_path_beneath_attr pb = {
		.allowed_access = rights_for(abi, !dir),
		.parent_fd = fd,
	};
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0) {
		if (errno == EBADFD && internal_ok)
			return 0;
		return srt_fail_errno(err, SRT_E_SETUP, errno, "Landlock: rule for %s", what);
	}
	return 0;
}

int srt_landlock_ruleset(int abi, const char *const *paths, size_t n_paths,
			 srt_error *err)
{
	/* Our own copy of the attribute layout: Debian 12's headers predate
	 * the network (ABI 4) and scope (ABI 6) fields. */
	struct {
		__u64 handled_access_fs;
		__u64 handled_access_net;
		__u64 scoped;
	} attr = {.handled_access_fs = rights_for(abi, false)};
	size_t attr_size = sizeof attr.handled_access_fs;
	if (abi >= 6) {
		/* The command may not signal processes outside its domain (our
		 * init) nor reach abstract sockets outside it. */
		attr.scoped = SRT_SCOPE_ABSTRACT_UNIX_SOCKET | SRT_SCOPE_SIGNAL;
		attr_size = sizeof attr;
	}
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (rs < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "Landlock: create ruleset (ABI %d)", abi);
	for (size_t i = 0; i < n_paths; i++) {
		/* never through a symlink: the paths are resolved, and the
		 * mounts on them were placed the same way (mounts.c) */
		int fd = srt_open_path(AT_FDCWD, paths[i], 0, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			srt_fail_errno(err, SRT_E_SETUP, errno, "Landlock: open %s%s", paths[i],
				       errno == ELOOP ? " (a symbolic link appeared on its path)" : "");
			close(rs);
			return -1;
		}
		int rc = add_rule_fd(rs, abi, fd, false, err, paths[i]);
		close(fd);
		if (rc < 0) {
			close(rs);
			return -1;
		}
	}
	return rs;
}

int srt_landlock_allow_fd(int ruleset, int abi, int fd, srt_error *err)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fstat(fd, &st) < 0)
		return 0; /* not open: nothing to allow */
	/* Only the access the descriptor was opened with: a read-only one gets
	 * no rule, so reopening /proc/self/fd/N for writing is refused. */
	if (!srt_fd_grants_write(st.st_mode, fl))
		return 0;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	/* Re-open through /proc to get an O_PATH descriptor of the same file. */
	int pfd = open(proc, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return 0; /* not reopenable: nothing to allow */
	int rc = add_rule_fd(ruleset, abi, pfd, true, err, "a descriptor given to the command");
	close(pfd);
	return rc;
}

int srt_landlock_enforce(int ruleset, srt_error *err)
{
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "Landlock: restrict_self");
	return 0;
}

/* ---- the no-namespace mode ------------------------------------------- */

uint64_t srt_landlock_fs_all(int abi)
{
	if (abi < 1)
		return 0;
	uint64_t r = (SRT_LL_MAKE_SYM << 1) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
	if (abi >= 2)
		r |= SRT_LL_REFER;
	if (abi >= 3)
		r |= SRT_LL_TRUNCATE;
	if (abi >= 5)
		r |= SRT_LL_IOCTL_DEV;
	return r;
}

uint64_t srt_landlock_fs_write(int abi)
{
	return srt_landlock_fs_all(abi) & ~(SRT_LL_READ_FILE | SRT_LL_READ_DIR | SRT_LL_EXECUTE);
}

#define SRT_LL_NET_BIND_TCP (1ULL << 0)
#define SRT_LL_NET_CONNECT_TCP (1ULL << 1)
#define SRT_LL_RULE_NET_PORT 2 /* LANDLOCK_RULE_NET_PORT, ABI 4 */

/* struct landlock_net_port_attr (ABI 4), not in Debian 12's headers */
struct srt_ll_net_port_attr {
	__u64 allowed_access;
	__u64 port;
};

/* One rule; 0 when it is skipped (see landlock.h), -1 with err set. */
static int add_nons_rule(int rs, int abi, const srt_landlock_rule *r, srt_error *err)
{
	int fd = srt_open_path(AT_FDCWD, r->path, O_NOFOLLOW,
			       RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EACCES)
			return 0;
		return srt_fail_errno(err, SRT_E_SETUP, errno, "Landlock: open %s", r->path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return srt_fail_errno(err, SRT_E_SETUP, e, "Landlock: stat %s", r->path);
	}
	uint64_t access = r->access & srt_landlock_fs_all(abi);
	if (!S_ISDIR(st.st_mode))
		access &= SRT_LL_FILE_RIGHTS;
	if (S_ISLNK(st.st_mode) || access == 0) {
		close(fd); /* a symlink: what it leads to has its own rules */
		return 0;
	}
	struct landlock_path_beneath_attr pb = {.allowed_access = access, .parent_fd = fd};
	long rc = syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	int e = errno;
	close(fd);
	if (rc < 0 && e != EBADFD) /* EBADFD: an internal file system */
		return srt_fail_errno(err, SRT_E_SETUP, e, "Landlock: rule for %s", r->path);
	return 0;
}

int srt_landlock_ruleset_nons(int abi, const srt_landlock_rules *rules,
			      const uint16_t *connect_ports, size_t n_ports, srt_error *err)
{
	if (abi < 6)
		return srt_fail(err, SRT_E_KERNEL,
				"Landlock ABI %d: the sandbox without namespaces needs ABI 6 or later "
				"(Linux 6.12: signal and abstract socket scoping, TCP rules)", abi);
	struct {
		__u64 handled_access_fs;
		__u64 handled_access_net;
		__u64 scoped;
	} attr = {
		.handled_access_fs = srt_landlock_fs_all(abi),
		.handled_access_net = SRT_LL_NET_BIND_TCP | SRT_LL_NET_CONNECT_TCP,
		.scoped = SRT_SCOPE_ABSTRACT_UNIX_SOCKET | SRT_SCOPE_SIGNAL,
	};
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (rs < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "Landlock: create ruleset (ABI %d)", abi);
	for (size_t i = 0; rules && i < rules->n; i++)
		if (add_nons_rule(rs, abi, &rules->v[i], err) < 0) {
			close(rs);
			return -1;
		}
	for (size_t i = 0; i < n_ports; i++) {
		struct srt_ll_net_port_attr np = {.allowed_access = SRT_LL_NET_CONNECT_TCP,
						  .port = connect_ports[i]};
		if (connect_ports[i] == 0)
			continue; /* port 0: not a port one connects to */
		if (syscall(SYS_landlock_add_rule, rs, SRT_LL_RULE_NET_PORT, &np, 0) < 0) {
			srt_fail_errno(err, SRT_E_SETUP, errno, "Landlock: TCP rule for port %u",
				       (unsigned)connect_ports[i]);
			close(rs);
			return -1;
		}
	}
	return rs;
}
