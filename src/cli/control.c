/* control.c - srt --control-fd N (control.h): the reference 0.0.83's
 * JSON-lines channel.  Each line is a complete settings object, validated
 * as the settings file is ("network" and "filesystem" required); an
 * accepted one replaces allowedDomains, deniedDomains, deniedDomainReasons
 * and deniedResolvedAddresses for the next connection.  A line that is not
 * valid is reported and dropped, the previous config staying in force;
 * nothing a line says can widen anything else. */
#include "control.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* ---- the line splitter ---------------------------------------------- */

static int keep(control_splitter *s, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (s->len + n > s->max) { /* too long: reported at its end */
		s->skipping = true;
		s->len = 0;
		return 0;
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + n)
			cap *= 2;
		if (cap > s->max)
			cap = s->max;
		char *b = realloc(s->buf, cap);
		if (!b) {
			s->skipping = true; /* the rest of this line goes too */
			s->len = 0;
			return -1;
		}
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static void emit(control_splitter *s, control_line_fn fn, void *data)
{
	if (s->skipping)
		fn(data, NULL, 0, true);
	else
		fn(data, s->buf ? s->buf : "", s->len, false);
	s->len = 0;
	s->skipping = false;
}

int control_split(control_splitter *s, const char *data, size_t n, control_line_fn fn, void *ud)
{
	int rc = 0;
	size_t i = 0;
	if (n && s->after_cr && data[0] == '\n')
		i = 1; /* "\r\n": one end */
	s->after_cr = false;
	while (i < n) {
		size_t j = i;
		while (j < n && data[j] != '\n' && data[j] != '\r')
			j++;
		if (!s->skipping && keep(s, data + i, j - i) < 0)
			rc = -1;
		if (j == n)
			break;
		emit(s, fn, ud);
		if (data[j] == '\r') {
			if (j + 1 == n)
				s->after_cr = true;
			else if (data[j + 1] == '\n')
				j++;
		}
		i = j + 1;
	}
	return rc;
}

void control_split_end(control_splitter *s, control_line_fn fn, void *data)
{
	if (s->len || s->skipping)
		emit(s, fn, data);
	s->after_cr = false;
}

void control_splitter_free(control_splitter *s)
{
	free(s->buf);
	*s = (control_splitter){.max = s->max};
}

/* ---- one line -------------------------------------------------------- */

char *control_fixed_diff(const char *a, const char *b)
{
	/* the keys named are a's, each once, with ", " between */
	size_t cap = strlen(a) + 1;
	for (const char *p = a; *p; p++)
		cap += *p == '\n' ? 2 : 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	size_t len = 0;
	out[0] = '\0';
	while (*a) { /* the same keys in the same order: a's lines lead */
		const char *ea = strchrnul(a, '\n'), *eb = strchrnul(b, '\n');
		size_t la = (size_t)(ea - a), lb = (size_t)(eb - b);
		if (la != lb || memcmp(a, b, la) != 0) {
			const char *colon = memchr(a, ':', la); /* "key: value" */
			size_t kl = colon ? (size_t)(colon - a) : la;
			len += (size_t)snprintf(out + len, cap - len, "%s%.*s", len ? ", " : "", (int)kl, a);
		}
		a = *ea ? ea + 1 : ea;
		b = *eb ? eb + 1 : eb;
	}
	return out;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\v' && s[i] != '\f')
			return false;
	return true;
}

/* "srt: control fd N, line L: WHAT (THEN)" */
__attribute__((format(printf, 3, 4)))
static void tell(const control *c, const char *prefix, const char *fmt, ...)
{
	char *what = NULL, *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (asprintf(&line, "control fd %d, line %lu: %s", c->fd, c->lineno,
		     what ? what : "(out of memory)") < 0)
		line = NULL;
	say(prefix, line ? line : "out of memory");
	free(line);
	free(what);
}

#define KEPT "ignored; the previous config stays in force"

control_result control_line(control *c, const char *line, size_t len, bool too_long)
{
	c->got_line = true;
	c->lineno++;
	if (too_long) {
		tell(c, "", "longer than %zu bytes (%s)", CONTROL_MAX_LINE, KEPT);
		return c->last = CONTROL_INVALID;
	}
	if (blank(line, len))
		return c->last = CONTROL_BLANK;
	char name[64];
	snprintf(name, sizeof name, "control fd %d, line %lu", c->fd, c->lineno);
	srt_error err = {0};
	srt_config *cfg = srt_config_parse_update(line, len, name, &err);
	if (!cfg) {
		/* err names the line already; a JSON error also its position,
		 * "NAME:1:COL: ...", said as "NAME, column COL: ..." */
		char *m = NULL;
		size_t nl = strlen(name);
		const char *msg = err.message;
		unsigned col;
		int used = 0;
		if (strncmp(msg, name, nl) == 0 && sscanf(msg + nl, ":1:%u:%n", &col, &used) == 1 &&
		    used > 0) {
			if (asprintf(&m, "%s, column %u:%s (%s)", name, col, msg + nl + used, KEPT) < 0)
				m = NULL;
		} else if (asprintf(&m, "%s (%s)", msg, KEPT) < 0) {
			m = NULL;
		}
		say("", m ? m : err.message);
		free(m);
		return c->last = CONTROL_INVALID;
	}
	char *fixed = srt_config_fixed(cfg);
	int r = c->apply(c->apply_data, cfg, &err);
	srt_config_free(cfg);
	if (r < 0) {
		free(fixed);
		tell(c, "", "not applied: %s (%s)", err.message, "the previous config stays in force");
		return c->last = CONTROL_FAILED;
	}
	char *diff = fixed && c->started ? control_fixed_diff(c->started, fixed) : NULL;
	if (!fixed || !diff)
		tell(c, "warning: ", "network lists applied; cannot tell whether it changes anything "
				     "else (out of memory)");
	else if (*diff)
		tell(c, "warning: ", "network lists applied; %s cannot change while the command runs "
				     "and stay%s as the sandbox started",
		     diff, strchr(diff, ',') ? "" : "s");
	else if (c->debug)
		tell(c, "", "network lists applied");
	free(diff);
	free(fixed);
	return c->last = CONTROL_APPLIED;
}

/* ---- the descriptor -------------------------------------------------- */

/* A regular file is read only once the command runs, and may be one it can
 * write (in its workspace): lines it appended before srt reached them were
 * taken as the caller's (red team).  What the file holds now is what the
 * caller gave: it is copied to a private memory file put at the same
 * number, read as the file would have been.  0, or -1 with errno. */
#define CONTROL_MAX_FILE (64L << 20)

static int snapshot_file(int fd)
{
	int mem = memfd_create("srt-control", MFD_CLOEXEC);
	if (mem < 0)
		return -1;
	char buf[65536];
	long total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n > 0 && (total += n) > CONTROL_MAX_FILE)) {
			int e = n < 0 ? errno : EFBIG;
			close(mem);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(mem, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				int e = errno;
				close(mem);
				errno = e;
				return -1;
			}
			off += w;
		}
	}
	int rc = lseek(mem, 0, SEEK_SET) < 0 || dup3(mem, fd, O_CLOEXEC) < 0 ? -1 : 0;
	int e = errno;
	close(mem);
	errno = e;
	return rc;
}

int control_parse_fd(const char *arg)
{
	char *end;
	errno = 0;
	long fd = strtol(arg, &end, 10);
	/* digits only, as the reference: not " 5", "+5", "0x10" */
	bool digits = arg[0] >= '0' && arg[0] <= '9';
	if (errno || !digits || end == arg || *end || fd < 3 || fd > INT_MAX) {
		fprintf(stderr, "srt: --control-fd needs a descriptor number of 3 or more "
				"(0-2 are stdin, stdout and stderr), not '%s'\n", arg);
		return -1;
	}
	/* A zero-length read asks whether reading is allowed at all, without
	 * reading or waiting: EBADF when closed or open only for writing (a
	 * pipe's write end), EISDIR for a directory; 0 for every readable
	 * kind.  Refused now rather than found dead once the command runs. */
	char b;
	if (fcntl((int)fd, F_GETFD) < 0 || read((int)fd, &b, 0) < 0) {
		fprintf(stderr, "srt: --control-fd %ld is not usable: %s; refusing to run the "
				"command without the control channel it asks for\n", fd, strerror(errno));
		return -1;
	}
	/* A named FIFO has more writers than the caller: whoever can open its
	 * path, the command among them wherever it may write (and opening a
	 * FIFO for writing is not refused by a read-only mount).  Its lines
	 * would be taken as the caller's: refused, an anonymous pipe or a
	 * socket has no name to open (red team). */
	struct stat st;
	struct statfs sf;
	if (fstat((int)fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    (fstatfs((int)fd, &sf) < 0 || sf.f_type != PIPEFS_MAGIC)) {
		fprintf(stderr, "srt: --control-fd %ld is a named FIFO: the command could open it "
				"and send updates itself; pass an anonymous pipe or a socket\n", fd);
		return -1;
	}
	if (fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode) && snapshot_file((int)fd) < 0) {
		fprintf(stderr, "srt: --control-fd %ld: cannot read the file%s: %s\n", fd,
			errno == EFBIG ? " (more than 64 MiB)" : "", strerror(errno));
		return -1;
	}
	if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "srt: --control-fd %ld: %s\n", fd, strerror(errno));
		return -1;
	}
	return (int)fd;
}

int control_start(control *c, int fd, const char *started, bool debug)
{
	c->fd = fd;
	c->started = started;
	c->debug = debug;
	c->split.max = CONTROL_MAX_LINE;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	c->is_socket = S_ISSOCK(st.st_mode);
	/* a socket is read with MSG_DONTWAIT; a pipe has no such flag per
	 * call.  Never blocking matters: srt exits with the command, not
	 * when the writer is done. */
	if (S_ISFIFO(st.st_mode)) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -1;
	}
	if (debug)
		fprintf(stderr, "srt: listening for config updates on fd %d\n", fd);
	return 0;
}

static void on_line(void *data, const char *line, size_t len, bool too_long)
{
	control_line(data, line, len, too_long);
}

int control_read(control *c)
{
	char buf[65536];
	ssize_t n;
	do
		n = c->is_socket ? recv(c->fd, buf, sizeof buf, MSG_DONTWAIT) : read(c->fd, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 1;
	if (n < 0) {
		int e = errno;
		if (!c->got_line) {
			fprintf(stderr, "srt: control fd %d failed before delivering an update: %s; "
					"stopping the command, which was started with a control channel\n",
				c->fd, strerror(e));
			return -1;
		}
		fprintf(stderr, "srt: cannot read control fd %d: %s; the control channel is closed, "
				"no further updates will be applied\n", c->fd, strerror(e));
		return 0;
	}
	if (n == 0) {
		/* the writer closed its end: the command runs on under the
		 * config last applied */
		control_split_end(&c->split, on_line, c);
		if (c->debug)
			fprintf(stderr, "srt: control fd %d: end of input\n", c->fd);
		return 0;
	}
	if (control_split(&c->split, buf, (size_t)n, on_line, c) < 0)
		tell(c, "", "out of memory (the line being read is %s)", KEPT);
	return 1;
}

void control_end(control *c)
{
	control_splitter_free(&c->split);
}
