/* util.c - error formatting, string vectors, path string helpers. */

#include "util.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

__attribute__((format(printf, 3, 0)))
static void vfill(srt_error *err, srt_status code, const char *fmt, va_list ap)
{
	if (!err)
		return;
	err->code = code;
	vsnprintf(err->message, sizeof err->message, fmt, ap);
}

int srt_fail(srt_error *err, srt_status code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfill(err, code, fmt, ap);
	va_end(ap);
	if (err)
		err->sys_errno = 0;
	return -1;
}

int srt_fail_errno(srt_error *err, srt_status code, int errno_value,
		   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfill(err, code, fmt, ap);
	va_end(ap);
	if (err) {
		size_t len = strlen(err->message);
		snprintf(err->message + len, sizeof err->message - len, ": %s",
			 strerror(errno_value));
		err->sys_errno = errno_value;
	}
	return -1;
}

int srt_strv_push_owned(srt_strv *sv, char *s)
{
	if (!s)
		return -1;
	if (sv->n + 2 > sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof *v);
		if (!v) {
			free(s);
			return -1;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

int srt_strv_push(srt_strv *sv, const char *s)
{
	return srt_strv_push_owned(sv, strdup(s));
}

bool srt_strv_contains(const srt_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void srt_strv_clear(srt_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

bool srt_read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

bool srt_parse_prefix_len(const char *s, unsigned max, unsigned *out)
{
	size_t n = strlen(s);
	unsigned v = 0;
	if (n == 0 || n > 3)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

char *srt_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;
	va_start(ap, fmt);
	int r = vasprintf(&out, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : out;
}

char *srt_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	while (dl > 0 && dir[dl - 1] == '/')
		dl--;
	while (*name == '/')
		name++;
	return srt_asprintf("%.*s/%s", (int)dl, dir, name);
}

bool srt_path_is_within(const char *path, const char *root)
{
	size_t rl = strlen(root);
	if (rl == 1 && root[0] == '/')
		return path[0] == '/';
	return strncmp(path, root, rl) == 0 && (path[rl] == '\0' || path[rl] == '/');
}

size_t srt_path_depth(const char *path)
{
	size_t d = 0;
	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1] != '\0' && p[1] != '/')
			d++;
	return d;
}

int srt_send_fds(int sock, const int *fds, size_t n)
{
	if (n == 0 || n > SRT_MAX_PASSED_FDS) {
		errno = EINVAL;
		return -1;
	}
	char byte = 'F';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(SRT_MAX_PASSED_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = CMSG_SPACE(n * sizeof(int))};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	ssize_t r;
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r == 1 ? 0 : -1;
}

int srt_recv_fds(int sock, int *fds, size_t max)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(SRT_MAX_PASSED_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof u.buf};
	ssize_t r;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	struct cmsghdr *cm = r == 1 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
		errno = EPROTO;
		return -1;
	}
	size_t got = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	int tmp[SRT_MAX_PASSED_FDS];
	memcpy(tmp, CMSG_DATA(cm), got * sizeof(int));
	if (got > max || (mh.msg_flags & MSG_CTRUNC)) {
		for (size_t i = 0; i < got; i++)
			close(tmp[i]);
		errno = EPROTO;
		return -1;
	}
	memcpy(fds, tmp, got * sizeof(int));
	return (int)got;
}

int srt_open_path(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {.flags = (uint64_t)(O_PATH | O_CLOEXEC | flags), .resolve = resolve};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

#ifdef SRT_TEST_HOOKS
/* The file system may be read-only here (mounts.c): the pause is shown in
 * the process's name, the resume is a file the test creates on the host. */
void srt_test_hook(const char *name)
{
	const char *dir = getenv("SRT_TEST_HOOK_DIR");
	char p[4096], old[16] = "";
	if (!dir || dir[0] != '/')
		return;
	snprintf(p, sizeof p, "%s/%s.resume", dir, name);
	prctl(PR_GET_NAME, old, 0, 0, 0);
	prctl(PR_SET_NAME, "srt-hook-paused", 0, 0, 0);
	const struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
	for (int i = 0; i < 3000 && access(p, F_OK) < 0; i++)
		nanosleep(&tick, NULL);
	prctl(PR_SET_NAME, old, 0, 0, 0);
}
#endif

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

int srt_pidfd_open_thread(pid_t tid, pid_t tgid)
{
	int fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (fd >= 0 || errno != EINVAL)
		return fd;
	if (tgid <= 0) { /* before Linux 6.9: the group leader */
		char p[64], buf[1024];
		snprintf(p, sizeof p, "/proc/%d/status", (int)tid);
		if (!srt_read_small(p, buf, sizeof buf))
			return -1;
		const char *t = strstr(buf, "\nTgid:");
		tgid = t ? (pid_t)strtol(t + 6, NULL, 10) : 0;
		if (tgid <= 0) {
			errno = ESRCH;
			return -1;
		}
	}
	return (int)syscall(SYS_pidfd_open, tgid, 0);
}
