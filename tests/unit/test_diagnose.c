/* test_diagnose.c - the diagnosis of refused user namespaces, against fake
 * proc trees (sysctls, the AppArmor label, /proc/self/exe) built under a
 * mkdtemp directory: AppArmor is not enabled where these tests run, so
 * Ubuntu's restriction is only ever seen through such a tree. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "diagnose.h"
#include "fstree.h"
#include "install_paths.h"

#define AA "sys/kernel/apparmor_restrict_unprivileged_userns"
#define CLONE "sys/kernel/unprivileged_userns_clone"
#define MAXNS "sys/user/max_user_namespaces"
#define LABEL "self/attr/apparmor/current"
#define USER 1000

static int setup(void **state)
{
	(void)state;
	char t[] = "/tmp/srt-test-diag-XXXXXX";
	if (!mkdtemp(t) || !realpath(t, base))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(base, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

/* <base>/<rel> holds `text` (what the kernel shows: a value and "\n") */
static void put(const char *rel, const char *text)
{
	const char *path = P("%s", rel);
	touch(path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void exe(const char *target)
{
	mkdirs(P("self"));
	link_to(target, P("self/exe"));
}

/* The message for a failure of the creation (setup == false) or of a step
 * after it, with the step's own text in front as the callers have it. */
static char msg[1024];

static bool diag(bool setup_step, int e, uid_t uid)
{
	snprintf(msg, sizeof msg, "cannot create the sandbox's namespaces: %s", strerror(e));
	return setup_step ? srt_diagnose_userns_setup_at(base, e, uid, msg, sizeof msg)
			  : srt_diagnose_userns_at(base, e, uid, msg, sizeof msg);
}

static void has(const char *text)
{
	if (!strstr(msg, text))
		fail_msg("\"%s\" not in \"%s\"", text, msg);
}

static void lacks(const char *text)
{
	if (strstr(msg, text))
		fail_msg("\"%s\" in \"%s\"", text, msg);
}

static void unchanged(int e)
{
	char want[1024];
	snprintf(want, sizeof want, "cannot create the sandbox's namespaces: %s", strerror(e));
	assert_string_equal(msg, want);
}

/* Both fixes, whatever the stage: srt's profile and the sysctl. */
static void has_apparmor_fixes(void)
{
	has("kernel.apparmor_restrict_unprivileged_userns=1");
	has("`sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`");
	if (SRT_APPARMOR_PROFILE[0]) {
		char cmd[PATH_MAX + 64];
		snprintf(cmd, sizeof cmd, "`sudo apparmor_parser -r %s`", SRT_APPARMOR_PROFILE);
		has(cmd);
	} else {
		has("AppArmor profile that allows `userns,`");
	}
}

static void test_apparmor_clone_refused(void **state)
{
	(void)state;
	put(AA, "1\n");
	put(LABEL, "unconfined\n");
	assert_true(diag(false, EACCES, USER));
	has_apparmor_fixes();
	has("refused one to srt, which runs unconfined");
	assert_true(diag(false, EPERM, USER));
	has_apparmor_fixes();
	/* not what AppArmor does: the other causes apply */
	assert_true(diag(false, ENOSPC, USER));
	lacks("AppArmor");
	has("A limit on user namespaces was reached");
}

/* Ubuntu 24.04: the clone succeeds, then every capability is denied in the
 * namespace (EPERM: the id maps, sethostname) and so is every mount
 * (EACCES: unprivileged_userns has no mount rule). */
static void test_apparmor_setup_step_denied(void **state)
{
	(void)state;
	put(AA, "1\n");
	put(LABEL, "unconfined\n");
	assert_true(diag(true, EPERM, USER));
	has_apparmor_fixes();
	has("the kernel created its namespaces but AppArmor denies every capability and mount in them");
	assert_true(diag(true, EACCES, USER));
	has_apparmor_fixes();
	/* other errors are not AppArmor's and are left to the caller */
	assert_false(diag(true, ENOENT, USER));
	unchanged(ENOENT);
	assert_false(diag(true, EINVAL, USER));
	unchanged(EINVAL);
}

static void test_apparmor_spares_root(void **state)
{
	(void)state;
	put(AA, "1\n");
	put(LABEL, "unconfined\n");
	assert_false(srt_apparmor_restricts_userns_at(base, 0));
	assert_true(srt_apparmor_restricts_userns_at(base, USER));
	assert_false(diag(true, EPERM, 0));
	unchanged(EPERM);
	assert_false(diag(false, EACCES, 0));
	unchanged(EACCES);
	/* root refused by something else: the seccomp explanation */
	assert_true(diag(false, EPERM, 0));
	lacks("AppArmor");
	has("seccomp profile refuses CLONE_NEWUSER");
}

static void test_apparmor_sysctl_off_or_absent(void **state)
{
	(void)state;
	put(LABEL, "unconfined\n");
	assert_false(srt_apparmor_restricts_userns_at(base, USER)); /* absent: not Ubuntu */
	assert_false(diag(true, EPERM, USER));
	unchanged(EPERM);
	put(AA, "0\n");
	assert_false(srt_apparmor_restricts_userns_at(base, USER));
	assert_false(diag(true, EACCES, USER));
	put(AA, "garbage\n");
	assert_false(srt_apparmor_restricts_userns_at(base, USER));
	put(AA, "");
	assert_false(srt_apparmor_restricts_userns_at(base, USER));
}

/* An unreadable label counts as unconfined: the sysctl decides. */
static void test_apparmor_label_absent(void **state)
{
	(void)state;
	put(AA, "1\n");
	assert_true(srt_apparmor_restricts_userns_at(base, USER));
	assert_true(diag(true, EPERM, USER));
	has_apparmor_fixes();
	put(LABEL, "\n");
	assert_true(srt_apparmor_restricts_userns_at(base, USER));
}

/* Under srt's own profile the restriction does not apply: an EPERM there
 * has another cause. */
static void test_apparmor_srt_profile_loaded(void **state)
{
	(void)state;
	put(AA, "1\n");
	put(LABEL, "srt (unconfined)\n");
	assert_false(srt_apparmor_restricts_userns_at(base, USER));
	assert_false(diag(true, EPERM, USER));
	unchanged(EPERM);
	assert_false(diag(true, EACCES, USER));
	assert_true(diag(false, EPERM, USER));
	lacks("AppArmor");
}

/* A confining profile (a container's, or the agent's own) decides alone. */
static void test_apparmor_other_profile(void **state)
{
	(void)state;
	put(LABEL, "docker-default (enforce)\n");
	assert_true(diag(false, EACCES, USER));
	has("srt runs under the AppArmor profile 'docker-default' (enforce), which does not allow "
	    "it user namespaces: add `userns,` to that profile");
	lacks("apparmor_restrict");
	assert_true(diag(true, EACCES, 0)); /* root in a container too */
	has("'docker-default' (enforce), which may refuse this");
	has("--security-opt apparmor=unconfined");
	assert_true(diag(true, EPERM, USER));
	has("'docker-default' (enforce)");
	/* EPERM at the clone is seccomp's answer (Docker's default profile) */
	assert_true(diag(false, EPERM, 0));
	has("seccomp profile refuses CLONE_NEWUSER");
	lacks("docker-default");
	/* an unconfined-mode profile of someone else's (an editor's) denies nothing
	 * after the clone; it counts as a profile, not as unconfined */
	put(AA, "1\n");
	put(LABEL, "code (unconfined)\n");
	assert_false(srt_apparmor_restricts_userns_at(base, USER));
	assert_false(diag(true, EPERM, USER));
	assert_true(diag(false, EACCES, USER));
	has("'code' (unconfined), which does not allow it user namespaces");
	/* complain mode denies nothing */
	put(LABEL, "agent (complain)\n");
	assert_false(diag(true, EPERM, USER));
	/* a label without a mode */
	put(LABEL, "odd\n");
	assert_true(diag(false, EACCES, USER));
	has("profile 'odd', which");
}

/* The profile covers the installed path only: a build tree's srt or an
 * embedding program is named. */
static void test_apparmor_names_the_running_program(void **state)
{
	(void)state;
	put(AA, "1\n");
	put(LABEL, "unconfined\n");
	exe("/home/dev/srt/build/srt");
	assert_true(diag(true, EPERM, USER));
	if (SRT_APPARMOR_PROFILE[0]) {
		char want[2 * PATH_MAX];
		snprintf(want, sizeof want, "it covers %s only, and this program is %s",
			 SRT_INSTALLED_BINARY, "/home/dev/srt/build/srt");
		has(want);
	} else {
		has("give /home/dev/srt/build/srt an AppArmor profile");
	}
	unlink(P("self/exe"));
	link_to(SRT_INSTALLED_BINARY, P("self/exe"));
	assert_true(diag(true, EPERM, USER));
	lacks("this program is");
}

static void test_unprivileged_userns_clone(void **state)
{
	(void)state;
	put(CLONE, "0\n");
	assert_true(diag(false, EPERM, USER));
	has("`sudo sysctl kernel.unprivileged_userns_clone=1`");
	lacks("AppArmor");
	assert_true(diag(false, EPERM, 0)); /* root is not affected: seccomp's answer */
	lacks("unprivileged_userns_clone");
	put(CLONE, "1\n");
	assert_true(diag(false, EPERM, USER));
	lacks("unprivileged_userns_clone");
	/* not a reason for a step after the clone */
	put(CLONE, "0\n");
	assert_false(diag(true, EPERM, USER));
}

static void test_max_user_namespaces(void **state)
{
	(void)state;
	put(MAXNS, "0\n");
	assert_true(diag(false, ENOSPC, USER));
	has("user.max_user_namespaces is 0: run `sudo sysctl user.max_user_namespaces=15000`");
	assert_true(diag(false, ENOSPC, 0));
	has("user.max_user_namespaces is 0");
	put(MAXNS, "15000\n");
	assert_true(diag(false, ENOSPC, USER));
	has("user.max_user_namespaces (15000) for this user, or 32 levels of nesting");
	/* a nested clone inside the sandbox hitting the limit */
	assert_true(diag(true, ENOSPC, USER));
	has("user.max_user_namespaces (15000)");
	unlink(P(MAXNS));
	assert_true(diag(false, ENOSPC, USER));
	has("user.max_user_namespaces, or 32 levels");
}

/* No sysctl at all (an empty tree): errno alone. */
static void test_absent_files(void **state)
{
	(void)state;
	assert_true(diag(false, EPERM, USER));
	has("seccomp profile refuses CLONE_NEWUSER");
	assert_true(diag(false, ENOSYS, USER));
	has("CONFIG_USER_NS=y");
	assert_true(diag(false, EINVAL, 0));
	assert_false(diag(false, ENOMEM, USER));
	unchanged(ENOMEM);
	assert_false(diag(true, EPERM, USER));
	unchanged(EPERM);
	assert_false(srt_apparmor_restricts_userns_at(base, USER));
	/* a tree that does not exist at all */
	snprintf(msg, sizeof msg, "x");
	assert_false(srt_diagnose_userns_setup_at("/nonexistent/srt-proc", EPERM, USER, msg, sizeof msg));
	assert_string_equal(msg, "x");
}

/* Small and full buffers: truncated, terminated, never overrun. */
static void test_truncation(void **state)
{
	(void)state;
	put(AA, "1\n");
	put(LABEL, "unconfined\n");
	char small[24 + 8];
	memset(small, 'Z', sizeof small);
	snprintf(small, 24, "step: x");
	assert_true(srt_diagnose_userns_setup_at(base, EPERM, USER, small, 24));
	assert_int_equal(strlen(small), 23);
	assert_memory_equal(small, "step: x. AppArmor restr", 23);
	for (size_t i = 24; i < sizeof small; i++)
		assert_int_equal(small[i], 'Z');
	char full[8] = "1234567";
	assert_true(srt_diagnose_userns_setup_at(base, EPERM, USER, full, sizeof full));
	assert_string_equal(full, "1234567");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apparmor_clone_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apparmor_setup_step_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apparmor_spares_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apparmor_sysctl_off_or_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apparmor_label_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apparmor_srt_profile_loaded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apparmor_other_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apparmor_names_the_running_program, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unprivileged_userns_clone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_user_namespaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
	};
	return cmocka_run_group_tests_name("diagnose", tests, NULL, NULL);
}
