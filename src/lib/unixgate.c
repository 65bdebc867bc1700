/* unixgate.c - the connect(2) mediator behind allowUnixSockets (see
 * unixgate.h for what it guarantees and why). */
#include "unixgate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "filter.h"
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
	bool nons;          /* the no-namespace mode (srt_unixgate_set_nons) */
	srt_unixgate_nons o; /* its options; o.ports is ours */
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

int srt_unixgate_set_nons(srt_unixgate *g, const srt_unixgate_nons *o, srt_error *err)
{
	uint16_t *ports = NULL;
	if (o->n_ports && !(ports = calloc(o->n_ports, sizeof *ports)))
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	if (o->n_ports)
		memcpy(ports, o->ports, o->n_ports * sizeof *ports);
	free((void *)g->o.ports);
	g->o = *o;
	g->o.ports = ports;
	g->nons = true;
	return 0;
}

void srt_unixgate_free(srt_unixgate *g)
{
	if (!g)
		return;
	free((void *)g->o.ports);
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

static bool port_allowed(const srt_unixgate *g, uint16_t port)
{
	for (size_t i = 0; port && i < g->o.n_ports; i++)
		if (g->o.ports[i] == port)
			return true;
	return false;
}

/* The no-namespace mode's rule for an inet socket (unixgate.h): refused
 * with `call->answer`, or bound to loopback and its local port authorized,
 * for srt_unixgate_finish to connect. */
static void check_inet(const srt_unixgate *g, int domain, srt_gate_call *call)
{
	const struct sockaddr *sa = (const struct sockaddr *)&call->addr;
	if (sa->sa_family == AF_UNSPEC)
		return; /* a disconnect: no destination */
	struct sockaddr_storage local;
	memset(&local, 0, sizeof local);
	socklen_t local_len;
	if (domain == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&call->addr;
		/* the kernel's order: the length, then the family */
		if (call->addrlen < sizeof *sin) {
			call->answer = EINVAL;
			return;
		}
		if (sa->sa_family != AF_INET) {
			call->answer = EAFNOSUPPORT;
			return;
		}
		uint32_t a = ntohl(sin->sin_addr.s_addr);
		if (a >> 24 != 127 && a != INADDR_ANY) {
			call->answer = ENETUNREACH;
			return;
		}
		if (a != INADDR_LOOPBACK || !port_allowed(g, ntohs(sin->sin_port))) {
			call->answer = ECONNREFUSED;
			return;
		}
		struct sockaddr_in *l = (struct sockaddr_in *)&local;
		l->sin_family = AF_INET;
		l->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		local_len = sizeof *l;
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&call->addr;
		if (call->addrlen < 24 /* SIN6_LEN_RFC2133: without the scope id */) {
			call->answer = EINVAL;
			return;
		}
		if (sa->sa_family != AF_INET6) {
			call->answer = EAFNOSUPPORT;
			return;
		}
		bool mapped = IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);
		uint32_t a4 = mapped ? ntohl(s6->sin6_addr.s6_addr32[3]) : 0;
		bool loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) || IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
				(mapped && (a4 >> 24 == 127 || a4 == INADDR_ANY));
		if (!loopback) {
			call->answer = ENETUNREACH;
			return;
		}
		if (!mapped || a4 != INADDR_LOOPBACK || !port_allowed(g, ntohs(s6->sin6_port))) {
			call->answer = ECONNREFUSED;
			return;
		}
		struct sockaddr_in6 *l = (struct sockaddr_in6 *)&local;
		l->sin6_family = AF_INET6;
		l->sin6_addr.s6_addr[10] = l->sin6_addr.s6_addr[11] = 0xff;
		l->sin6_addr.s6_addr32[3] = htonl(INADDR_LOOPBACK);
		local_len = sizeof *l;
	}
	/* already connected: the kernel says so (EISCONN), nothing to register */
	struct sockaddr_storage cur;
	socklen_t cl = sizeof cur;
	if (getpeername(call->sock, (struct sockaddr *)&cur, &cl) == 0)
		return;
	/* the port is known, and registered, before the SYN leaves: bind
	 * first (nons/peers.h); no other socket may share it */
	cl = sizeof cur;
	if (getsockname(call->sock, (struct sockaddr *)&cur, &cl) < 0) {
		call->answer = EBADF;
		return;
	}
	/* sin_port and sin6_port are at the same place */
	uint16_t port = ntohs(((const struct sockaddr_in *)&cur)->sin_port);
	if (!port) {
		int off = 0;
		if (setsockopt(call->sock, SOL_SOCKET, SO_REUSEADDR, &off, sizeof off) < 0 ||
		    setsockopt(call->sock, SOL_SOCKET, SO_REUSEPORT, &off, sizeof off) < 0 ||
		    bind(call->sock, (const struct sockaddr *)&local, local_len) < 0) {
			call->answer = errno == EADDRINUSE || errno == EADDRNOTAVAIL ? EADDRNOTAVAIL
			             : errno == EINVAL ? ENETUNREACH /* IPV6_V6ONLY */ : EPERM;
			return;
		}
		cl = sizeof cur;
		if (getsockname(call->sock, (struct sockaddr *)&cur, &cl) < 0) {
			call->answer = EBADF;
			return;
		}
		port = ntohs(((const struct sockaddr_in *)&cur)->sin_port);
		if (!port) {
			call->answer = EADDRNOTAVAIL;
			return;
		}
	}
	/* the hop to the proxy is loopback only: Reno, as the full mode's
	 * sandbox loopback uses (init.c loopback_tune), instead of a host
	 * default such as BBR whose pacing idles the CPUs; best effort */
	(void)setsockopt(call->sock, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
	if (g->o.authorize)
		g->o.authorize(g->o.authorize_data, port);
}

/* allowAllUnixSockets in the no-namespace mode: the path as the command
 * would resolve it (from its cwd when relative, symlinks followed), pinned
 * and connected through the pin. */
static void pin_any_pathname(srt_gate_call *call, int root, int cwd)
{
	bool abs = call->path[0] == '/';
	call->pin = srt_open_path(abs ? root : cwd, call->path, 0,
				  abs ? RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS : RESOLVE_NO_MAGICLINKS);
	if (call->pin < 0) {
		call->answer = errno == ELOOP || errno == EXDEV ? EACCES : errno;
		return;
	}
	struct stat st;
	if (fstat(call->pin, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		call->answer = ECONNREFUSED;
		return;
	}
	struct sockaddr_un *sun = (struct sockaddr_un *)&call->addr;
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	int n = snprintf(sun->sun_path, sizeof sun->sun_path, "/proc/self/fd/%d", call->pin);
	call->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
}

/* listen(2) in the no-namespace mode: AF_UNIX sockets bound to a path (or
 * not bound) only. */
static void check_listen(const srt_gate_call *call, int domain, int *answer)
{
	if (domain != AF_UNIX) {
		*answer = EPERM;
		return;
	}
	struct sockaddr_un sun;
	socklen_t len = sizeof sun;
	memset(&sun, 0, sizeof sun);
	if (getsockname(call->sock, (struct sockaddr *)&sun, &len) < 0) {
		*answer = EBADF;
		return;
	}
	if (len > offsetof(struct sockaddr_un, sun_path) && sun.sun_path[0] == '\0')
		*answer = EPERM; /* an abstract name: the host's */
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

/* A copy of the caller's descriptor `fd`, once the notification is known
 * to be still pending (the pid was still that thread's); -1 with
 * `call->answer` set, or -2 when the call is gone. */
static int copy_socket(int notify_fd, const struct seccomp_notif *n, int fd, srt_gate_call *call)
{
	SRT_AUTOCLOSE int pidfd = srt_pidfd_open_thread((pid_t)n->pid, 0);
	if (!still_waiting(notify_fd, call->id))
		return -2;
	if (pidfd < 0) {
		call->answer = EPERM;
		return -1;
	}
	int sock = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (sock < 0)
		call->answer = errno == EBADF ? EBADF : EPERM;
	return sock;
}

static int receive_listen(int notify_fd, const struct seccomp_notif *n, srt_gate_call *call)
{
	call->op = SRT_GATE_LISTEN;
	call->backlog = (int)(uint32_t)n->data.args[1];
	int sock = copy_socket(notify_fd, n, (int)(uint32_t)n->data.args[0], call);
	if (sock == -2)
		return 0;
	if (sock < 0)
		return 1;
	call->sock = sock;
	int domain = 0;
	socklen_t dl = sizeof domain;
	int answer = 0;
	if (getsockopt(call->sock, SOL_SOCKET, SO_DOMAIN, &domain, &dl) < 0)
		answer = errno == ENOTSOCK ? ENOTSOCK : EBADF;
	else
		check_listen(call, domain, &answer);
	if (answer)
		srt_unixgate_drop(call, answer);
	return 1;
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
	int nr = n->data.nr;
	if (g->nons && srt_seccomp_is_metadata(nr)) {
		call->op = SRT_GATE_META;
		memcpy(&call->notif, n, sizeof call->notif);
		call->meta = g->o.meta;
		call->meta_data = g->o.meta_data;
		return 1;
	}
	if (g->nons && nr == SYS_listen)
		return receive_listen(notify_fd, n, call);
	if (nr != SYS_connect) {
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
	SRT_AUTOCLOSE int pidfd = srt_pidfd_open_thread((pid_t)n->pid, 0);
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
	if (g->nons && (domain == AF_INET || domain == AF_INET6)) {
		check_inet(g, domain, call);
		if (call->answer)
			srt_unixgate_drop(call, 0);
		return 1;
	}
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&call->addr;
	if (g->nons && domain == AF_UNIX && sun->sun_family == AF_UNIX &&
	    len > offsetof(struct sockaddr_un, sun_path) && sun->sun_path[0] == '\0') {
		srt_unixgate_drop(call, EPERM); /* abstract: the host's, past Landlock's scoping */
		return 1;
	}
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
	if (g->nons && g->o.allow_all_unix) {
		snprintf(root_path, sizeof root_path, "/proc/%u/cwd", n->pid);
		SRT_AUTOCLOSE int cwd = call->path[0] == '/' ? -1 : open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (call->path[0] != '/' && (cwd < 0 || !still_waiting(notify_fd, call->id))) {
			srt_unixgate_drop(call, EPERM);
			return 1;
		}
		pin_any_pathname(call, root, cwd);
	} else
		check_pathname(g, root, call);
	if (call->answer)
		srt_unixgate_drop(call, 0);
	return 1;
}

void srt_unixgate_finish(int notify_fd, srt_gate_call *call)
{
	if (call->op == SRT_GATE_META) {
		struct seccomp_notif_resp resp = {.id = call->id, .error = -EPERM};
		if (call->meta) {
			resp.error = 0;
			if (call->meta(call->meta_data, notify_fd, &call->notif, &resp) < 0)
				return;
		}
		resp.id = call->id;
		resp.flags = 0; /* never let the call go on: the kernel would read it again */
		(void)ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
		return;
	}
	if (call->sock >= 0 && call->op == SRT_GATE_LISTEN) {
		call->answer = listen(call->sock, call->backlog) < 0 ? errno : 0;
	} else if (call->sock >= 0) {
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
