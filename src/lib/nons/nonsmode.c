/* nonsmode.c - host side of the no-namespace mode (see nonsmode.h). */
#include "nons/nonsmode.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diagnose.h"
#include "util.h"

const char srt_nons_weaker[] =
	"no-namespace mode (Landlock, seccomp and srt's gates alone): the mandatory denies inside "
	"writable roots (.git/hooks, .git/config, .bashrc, ...) are not enforced; the command sees "
	"every process of this host or container and their sockets in /proc; names inside denyRead "
	"directories can be listed (not read); /dev/shm and System V IPC are refused";

bool srt_nons_forced(void)
{
#ifdef SRT_TEST_HOOKS
	/* test builds: the e2e suite runs the no-namespace mode on any host */
	return getenv("SRT_TEST_NO_USERNS") != NULL;
#else
	return false;
#endif
}

bool srt_nons_userns_usable(char *why, size_t len)
{
	if (len)
		why[0] = '\0';
	if (srt_nons_forced()) {
		snprintf(why, len, "user namespaces disabled by SRT_TEST_NO_USERNS (test build)");
		return false;
	}
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		int e = errno;
		snprintf(why, len, "cannot create a user namespace: %s", strerror(e));
		srt_diagnose_userns(e, why, len);
		return false;
	}
	int st;
	while (waitpid((pid_t)pid, &st, 0) < 0 && errno == EINTR)
		;
	if (srt_apparmor_restricts_userns()) {
		snprintf(why, len, "a user namespace is created but nothing works in it");
		srt_diagnose_userns_setup(EPERM, why, len);
		return false;
	}
	return true;
}

int srt_nons_requirements(int landlock_abi, srt_error *err)
{
	if (landlock_abi < SRT_NONS_LANDLOCK_ABI)
		return srt_fail(err, SRT_E_KERNEL,
				"the no-namespace mode needs Landlock ABI %d (Linux 6.12: it is what keeps "
				"the command from signalling processes outside, without a PID namespace); "
				"this kernel has %s%d",
				SRT_NONS_LANDLOCK_ABI, landlock_abi ? "ABI " : "", landlock_abi);
	struct seccomp_notif_sizes sz;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno,
				      "the no-namespace mode needs seccomp user notification");
	return 0;
}

static void append(char *buf, size_t len, const char *a, const char *b)
{
	size_t l = strlen(buf);
	if (l < len)
		snprintf(buf + l, len - l, "%s%s", a, b);
}

void srt_nons_hint(int landlock_abi, char *buf, size_t len)
{
	srt_error e = {0};
	if (srt_nons_requirements(landlock_abi, &e) < 0) {
		append(buf, len, ". srt's no-namespace mode cannot run here either: ", e.message);
		return;
	}
	append(buf, len, ". srt can run here in its ", srt_nons_weaker);
	append(buf, len, "; set \"enableWeakerNestedSandbox\": true to accept that", "");
}

int srt_nons_listeners(int *fds, uint16_t *ports, size_t n, srt_error *err)
{
	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t al = sizeof a;
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		/* accepted sockets inherit it: see unixgate.c on Reno */
		if (fds[i] >= 0)
			(void)setsockopt(fds[i], IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof a) < 0 ||
		    listen(fds[i], 512) < 0 || getsockname(fds[i], (struct sockaddr *)&a, &al) < 0) {
			int e = errno;
			for (size_t j = 0; j <= i; j++)
				if (fds[j] >= 0)
					close(fds[j]);
			return srt_fail_errno(err, SRT_E_SYSTEM, e, "cannot listen on 127.0.0.1 for the proxies");
		}
		ports[i] = ntohs(a.sin_port);
	}
	return 0;
}

int srt_nons_tmpdir(char *out, size_t len, srt_error *err)
{
	const char *base = "/tmp";
	if (snprintf(out, len, "%s/srt-tmp-XXXXXX", base) >= (int)len)
		return srt_fail(err, SRT_E_SYSTEM, "TMPDIR path too long");
	if (!mkdtemp(out))
		return srt_fail_errno(err, SRT_E_SYSTEM, errno, "cannot create a private TMPDIR in %s", base);
	return 0;
}

#define REMOVE_MAX_DEPTH 256

/* Empty directory `dfd` (taken over), never following a symlink: every
 * entry is removed relative to its parent's descriptor. */
static void empty_dir(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0 || (errno != EISDIR && errno != EPERM))
			continue;
		int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0 && depth < REMOVE_MAX_DEPTH)
			empty_dir(sub, depth + 1);
		else if (sub >= 0)
			close(sub);
		(void)unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

void srt_nons_tmpdir_remove(const char *path)
{
	if (!path || !path[0])
		return;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	empty_dir(fd, 0);
	(void)rmdir(path);
}

int srt_nons_kill_children(int pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	int killed = 0;
	for (char *p = buf, *end; *p; p = end) {
		long child = strtol(p, &end, 10);
		if (end == p)
			break;
		if (child > 0 && kill((pid_t)child, SIGKILL) == 0)
			killed++;
	}
	return killed;
}

#define KILL_ROUNDS 2000

void srt_nons_kill_tree(int init_pid)
{
	/* init reaps them; give it a moment between rounds */
	struct timespec ts = {0, 500000};
	for (int round = 0; round < KILL_ROUNDS && srt_nons_kill_children(init_pid) > 0; round++)
		nanosleep(&ts, NULL);
}
