/* test_fds.c - the treatment of the descriptors the command gets (fds.h):
 * the decision table, reopening, /dev/null for a directory that is gone,
 * and close-on-exec for every descriptor not named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fds.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *what;
	mode_t mode;
	int flags;
	bool tty;
	srt_fd_treatment want;
	bool grants_write;
} cases[] = {
	{"read-only file", S_IFREG, O_RDONLY, false, SRT_FD_REOPEN, false},
	{"write-only file", S_IFREG, O_WRONLY, false, SRT_FD_AS_GIVEN, true},
	{"append file", S_IFREG, O_WRONLY | O_APPEND, false, SRT_FD_AS_GIVEN, true},
	{"read-write file", S_IFREG, O_RDWR, false, SRT_FD_AS_GIVEN, true},
	{"O_PATH file", S_IFREG, O_PATH, false, SRT_FD_REOPEN_OR_NULL, false},
	{"directory", S_IFDIR, O_RDONLY, false, SRT_FD_REOPEN_OR_NULL, false},
	{"O_PATH directory", S_IFDIR, O_PATH, false, SRT_FD_REOPEN_OR_NULL, false},
	{"read-only device", S_IFCHR, O_RDONLY, false, SRT_FD_REOPEN, false},
	{"read-only block device", S_IFBLK, O_RDONLY, false, SRT_FD_REOPEN, false},
	{"writable device", S_IFCHR, O_RDWR, false, SRT_FD_AS_GIVEN, true},
	{"terminal", S_IFCHR, O_RDWR, true, SRT_FD_AS_GIVEN, true},
	{"read-only terminal", S_IFCHR, O_RDONLY, true, SRT_FD_AS_GIVEN, false},
	{"pipe", S_IFIFO, O_RDONLY, false, SRT_FD_AS_GIVEN, false},
	{"pipe, write end", S_IFIFO, O_WRONLY, false, SRT_FD_AS_GIVEN, false},
	{"socket", S_IFSOCK, O_RDWR, false, SRT_FD_AS_GIVEN, false},
	{"O_PATH symlink", S_IFLNK, O_PATH | O_NOFOLLOW, false, SRT_FD_REOPEN_OR_NULL, false},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		srt_fd_treatment t = srt_fd_treatment_for(cases[i].mode, cases[i].flags, cases[i].tty);
		if (t != cases[i].want || srt_fd_grants_write(cases[i].mode, cases[i].flags) !=
						  cases[i].grants_write)
			fail_msg("%s: treatment %d, want %d", cases[i].what, (int)t, (int)cases[i].want);
	}
}

static char dir_tmpl[] = "/tmp/srt-test-fds-XXXXXX";

static void test_readonly_file_is_reopened_at_its_offset(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/f", dir_tmpl);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("0123456789", f);
	fclose(f);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 4, SEEK_SET), 4);
	int old = dup(fd); /* the caller's open file description */
	srt_error err = {0};
	assert_int_equal(srt_fds_confine(&fd, 1, true, &err), 0);
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, '4');
	/* a new description: reading it did not move the caller's */
	assert_int_equal(lseek(old, 0, SEEK_CUR), 4);
	close(old);
	close(fd);
	unlink(path);
}

static void test_directory_gone_becomes_dev_null(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/d", dir_tmpl);
	assert_int_equal(mkdir(path, 0700), 0);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(rmdir(path), 0);
	srt_error err = {0};
	assert_int_equal(srt_fds_confine(&fd, 1, true, &err), 0);
	struct stat st, null;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(stat("/dev/null", &null), 0);
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev);
	close(fd);
}

static void test_pipes_are_left_alone(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct stat before, after;
	assert_int_equal(fstat(p[0], &before), 0);
	srt_error err = {0};
	assert_int_equal(srt_fds_confine(p, 2, false, &err), 0);
	assert_int_equal(fstat(p[0], &after), 0);
	assert_true(before.st_ino == after.st_ino);
	close(p[0]);
	close(p[1]);
}

static void test_only_named_descriptors_survive_exec(void **state)
{
	(void)state;
	int fds[6];
	for (size_t i = 0; i < LEN(fds); i++) {
		fds[i] = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: a leak */
		assert_true(fds[i] >= 3);
	}
	/* fds[4] was opened close-on-exec by the caller but is named */
	assert_int_equal(fcntl(fds[4], F_SETFD, FD_CLOEXEC), 0);
	int keep[] = {fds[4], fds[1], fds[1]};
	int stdin_flags = fcntl(0, F_GETFD);
	srt_error err = {0};
	assert_int_equal(srt_fds_close_others(keep, LEN(keep), &err), 0);
	for (size_t i = 0; i < LEN(fds); i++) {
		bool kept = i == 1 || i == 4;
		int fl = fcntl(fds[i], F_GETFD);
		assert_true(fl >= 0);
		if (kept != !(fl & FD_CLOEXEC))
			fail_msg("descriptor %d: FD_CLOEXEC %d", fds[i], fl & FD_CLOEXEC);
	}
	/* stdio is never touched */
	assert_int_equal(fcntl(0, F_GETFD), stdin_flags);
	for (size_t i = 0; i < LEN(fds); i++)
		close(fds[i]);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir_tmpl) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir_tmpl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_readonly_file_is_reopened_at_its_offset),
		cmocka_unit_test(test_directory_gone_becomes_dev_null),
		cmocka_unit_test(test_pipes_are_left_alone),
		cmocka_unit_test(test_only_named_descriptors_survive_exec),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
