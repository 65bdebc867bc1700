/* fstree.h - helpers for unit tests that build real trees under a scratch
 * directory `base` (each test file defines it and creates it in setup). */
#ifndef SRT_TEST_FSTREE_H
#define SRT_TEST_FSTREE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[PATH_MAX]; /* realpath of the test's mkdtemp */

/* base + "/" + printf(fmt) in a static ring of buffers. */
static inline const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *P(const char *fmt, ...)
{
	static char ring[8][PATH_MAX * 2];
	static unsigned at;
	char *b = ring[at++ % 8];
	int n = snprintf(b, PATH_MAX, "%s/", base);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b + n, PATH_MAX, fmt, ap);
	va_end(ap);
	return b;
}

static inline void mkdirs(const char *path)
{
	char buf[PATH_MAX * 2 + 64];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", buf, strerror(errno));
}

static inline void touch(const char *path)
{
	char dir[PATH_MAX * 2 + 64];
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("create %s: %s", path, strerror(errno));
	close(fd);
}

static inline void link_to(const char *target, const char *linkpath)
{
	if (symlink(target, linkpath) < 0)
		fail_msg("symlink %s -> %s: %s", linkpath, target, strerror(errno));
}

static inline int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

#endif
