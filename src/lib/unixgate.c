/* unixgate.c - the connect(2) mediator behind allowUnixSockets (see
 * unixgate.h for what it guarantees and why). */
#include "unixgate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

/* One allowUnixSockets entry, identified when the sandbox is created.  The
 * O_PATH descriptor keeps that very inode alive (its number cannot be
 * reused) and is what srt connects through, so neither a rename onto the
 * listed path nor a swap after the check reaches another socket. */
struct unix_pin {
	char *path;
	int fd; /* -1: not a socket at start, refused for this run */
	dev_t dev;
	ino_t ino;
};

struct srt_unixgate {
	struct unix_pin *pins;
	size_t n;
	struct seccomp_notif_sizes sizes;
};

/* Open `path` without following any symlink and keep it if it is a socket. */
static void pin_socket(struct unix_pin *p)
{
	struct stat st;
	int fd = srt_open_path(AT_FDCWD, p->path, O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		close(fd);
		return;
	}
	p->fd = fd;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
}

srt_unixgate *srt_unixgate_new(const char *const *allowed, size_t n, srt_error *err)
{
	srt_unixgate *g = calloc(1, sizeof *g);
	if (!g || (n && !(g->pins = calloc(n, sizeof *g->pins)))) {
		free(g);
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	for (; g->n < n; g->n++) {
		struct unix_pin *p = &g->pins[g->n];
		p->fd = -1;
		if (!(p->path = strdup(allowed[g->n]))) {
			srt_unixgate_free(g);
			srt_fail(err, SRT_E_NOMEM, "out of memory");
			return NULL;
		}
		pin_socket(p);
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &g->sizes) < 0) {
		srt_fail_errno(err, SRT_E_KERNEL, errno,
			       "allowUnixSockets needs seccomp user notification (Linux >= 5.0)");
		srt_unixgate_free(g);
		return NULL;
	}
	return g;
}

void srt_unixgate_free(srt_unixgate *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->pins[i].path);
		if (g->pins[i].fd >= 0)
			close(g->pins[i].fd);
	}
	free(g->pins);
	free(g);
}

bool srt_unixgate_identified(const srt_unixgate *g, size_t i)
{
	return i < g->n && g->pins[i].fd >= 0;
}

/* The entry whose socket, identified at start, is the file behind `pin`;
 * NULL when none is. */
static const struct unix_pin *allowed_pin(const srt_unixgate *g, int pin)
{
	struct stat want;
	if (fstat(pin, &want) < 0 || !S_ISSOCK(want.st_mode))
		return NULL;
	for (size_t i = 0; i < g->n; i++)
		if (g->pins[i].fd >= 0 && g->pins[i].dev == want.st_dev &&
		    g->pins[i].ino == want.st_ino)
			return &g->pins[i];
	return NULL;
}

static bool still_waiting(int notify_fd, uint64_t id)
{
	return ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Check a pathname: resolved in the command's own root (its mounts, its
 * symlinks), it must be an allowed socket.  On success the address names
 * the pinned file through /proc/self/fd, else `call->answer` says why. */
static void check_pathname(const srt_unixgate *g, int root, srt_gate_call *call)
{
	if (call->path[0] != '/') {
		call->answer = EACCES; /* relative to the command's cwd: not supported */
		call->refused = true;
		return;
	}
	call->pin = srt_open_path(root, call->path, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (call->pin < 0) {
		call->answer = errno == ELOOP || errno == EXDEV ? EACCES : errno;
		return;
	}
	struct stat st;
	if (fstat(call->pin, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		call->answer = ECONNREFUSED; /* what connect(2) says for a non-socket */
		return;
	}
	const struct unix_pin *p = allowed_pin(g, call->pin);
	if (!p) {
		call->answer = EACCES;
		call->refused = true;
		return;
	}
	/* connect through srt's own pin, not the command's view of the path */
	close(call->pin);
	call->pin = fcntl(p->fd, F_DUPFD_CLOEXEC, 3);
	if (call->pin < 0) {
		call->answer = EPERM;
		return;
	}
	struct sockaddr_un *sun = (struct sockaddr_un *)&call->addr;
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	int n = snprintf(sun->sun_path, sizeof sun->sun_path, "/proc/self/fd/%d", call->pin);
	call->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
}

void srt_unixgate_drop(srt_gate_call *call, int answer)
{
	if (call->sock >= 0)
		close(call->sock);
	if (call->pin >= 0)
		close(call->pin);
	call->sock = call->pin = -1;
	if (answer)
		call->answer = answer;
}

int srt_unixgate_receive(const srt_unixgate *g, int notify_fd, srt_gate_call *call)
{
	*call = (srt_gate_call){.sock = -1, .pin = -1};
	size_t size = g->sizes.seccomp_notif > sizeof(struct seccomp_notif) ? g->sizes.seccomp_notif
									     : sizeof(struct seccomp_notif);
	SRT_AUTOFREE struct seccomp_notif *n = calloc(1, size);
	if (!n)
		return 0; /* the command waits; the next poll retries */
	if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, n) < 0)
		return errno == EINTR || errno == ENOENT || errno == EAGAIN ? 0 : -1;
	call->id = n->id;
	if (n->data.nr != SYS_connect) {
		call->answer = ENOSYS; /* the filter notifies connect(2) only */
		return 1;
	}
	int target_fd = (int)(uint32_t)n->data.args[0];
	socklen_t len = (socklen_t)(uint32_t)n->data.args[2];
	if (len < sizeof(sa_family_t) || len > sizeof call->addr) {
		call->answer = EINVAL;
		return 1;
	}
	/* Everything read about the process is trusted only once the
	 * notification is known to be still pending afterwards: then the pid
	 * was still that thread's. */
	SRT_AUTOCLOSE int pidfd = (int)syscall(SYS_pidfd_open, n->pid, 0);
	struct iovec local = {.iov_base = &call->addr, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)n->data.args[1], .iov_len = len};
	ssize_t got = process_vm_readv((pid_t)n->pid, &local, 1, &remote, 1, 0);
	if (!still_waiting(notify_fd, call->id))
		return 0; /* gone: nobody to answer */
	if (pidfd < 0) {
		call->answer = EPERM;
		return 1;
	}
	if (got != (ssize_t)len) {
		call->answer = EFAULT;
		return 1;
	}
	call->addrlen = len;
	call->sock = (int)syscall(SYS_pidfd_getfd, pidfd, target_fd, 0);
	if (call->sock < 0) {
		srt_unixgate_drop(call, errno == EBADF ? EBADF : EPERM);
		return 1;
	}
	int domain = 0;
	socklen_t dl = sizeof domain;
	if (getsockopt(call->sock, SOL_SOCKET, SO_DOMAIN, &domain, &dl) < 0) {
		srt_unixgate_drop(call, errno == ENOTSOCK ? ENOTSOCK : EBADF);
		return 1;
	}
	int fl = fcntl(call->sock, F_GETFL);
	call->blocking = fl >= 0 && !(fl & O_NONBLOCK);
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&call->addr;
	if (domain != AF_UNIX || sun->sun_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path) || sun->sun_path[0] == '\0')
		return 1; /* not a pathname: the kernel decides on our copy */
	/* a pathname is resolved in the command's root: open it, then make
	 * sure the pid was still the caller's when we did */
	char root_path[48];
	snprintf(root_path, sizeof root_path, "/proc/%u/root", n->pid);
	SRT_AUTOCLOSE int root = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || !still_waiting(notify_fd, call->id)) {
		srt_unixgate_drop(call, EPERM);
		return 1;
	}
	size_t path_len = len - offsetof(struct sockaddr_un, sun_path);
	memcpy(call->path, sun->sun_path, path_len < sizeof sun->sun_path ? path_len : sizeof sun->sun_path);
	call->path[sizeof call->path - 1] = '\0';
	check_pathname(g, root, call);
	if (call->answer)
		srt_unixgate_drop(call, 0);
	return 1;
}

void srt_unixgate_finish(int notify_fd, srt_gate_call *call)
{
	if (call->sock >= 0) {
		int r;
		do
			r = connect(call->sock, (struct sockaddr *)&call->addr, call->addrlen);
		while (r < 0 && errno == EINTR && call->blocking);
		call->answer = r < 0 ? errno : 0;
	}
	srt_unixgate_drop(call, 0);
	struct seccomp_notif_resp resp = {.id = call->id, .error = call->answer ? -call->answer : 0};
	/* ENOENT: the command stopped waiting (it died): nothing to do */
	(void)ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}
