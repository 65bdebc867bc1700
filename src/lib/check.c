/* check.c - srt_check: which kernel features are here, and whether a real
 * sandbox starts. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diagnose.h"
#include "landlock.h"
#include "srt.h"
#include "util.h"

static srt_check_item *item(srt_check_report *r, const char *name, bool required)
{
	if (r->count >= SRT_CHECK_MAX)
		return &r->items[SRT_CHECK_MAX - 1];
	srt_check_item *it = &r->items[r->count++];
	*it = (srt_check_item){.name = name, .required = required};
	return it;
}

static void check_userns(srt_check_report *r)
{
	srt_check_item *it = item(r, "user namespaces", true);
	long pid = syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | SIGCHLD,
			   NULL, NULL, NULL, 0);
	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		int e = errno;
		snprintf(it->detail, sizeof it->detail, "cannot create one: %s", strerror(e));
		srt_diagnose_userns(e, it->detail, sizeof it->detail);
		return;
	}
	int st;
	while (waitpid((pid_t)pid, &st, 0) < 0 && errno == EINTR)
		;
	it->ok = true;
	snprintf(it->detail, sizeof it->detail, "user, mount, PID and network namespaces can be created");
}

static void check_syscall(srt_check_report *r, const char *name, long nr, const char *need)
{
	srt_check_item *it = item(r, name, true);
	/* invalid arguments: ENOSYS means the call is missing */
	long rc = syscall(nr, -1, NULL, 0, NULL, 0);
	it->ok = !(rc < 0 && errno == ENOSYS);
	snprintf(it->detail, sizeof it->detail, "%s", it->ok ? "available" : need);
}

static void check_seccomp(srt_check_report *r)
{
	srt_check_item *it = item(r, "seccomp filters", true);
	char buf[256] = {0};
	srt_read_small("/proc/sys/kernel/seccomp/actions_avail", buf, sizeof buf);
	it->ok = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 && strstr(buf, "errno") && strstr(buf, "kill_process");
	snprintf(it->detail, sizeof it->detail, "%s",
		 it->ok ? "available (errno, kill_process)" : "missing: the kernel needs CONFIG_SECCOMP_FILTER=y");
}

static void check_landlock(srt_check_report *r)
{
	srt_check_item *it = item(r, "Landlock", false);
	r->landlock_abi = srt_landlock_abi();
	it->ok = r->landlock_abi > 0;
	if (it->ok)
		snprintf(it->detail, sizeof it->detail, "ABI %d (writes limited to the writable roots%s)",
			 r->landlock_abi, r->landlock_abi >= 6 ? "; signal scoping" : "");
	else
		snprintf(it->detail, sizeof it->detail,
			 "unavailable: the sandbox works without this second layer; enable CONFIG_SECURITY_LANDLOCK "
			 "and add 'landlock' to the lsm= boot parameter");
}

static void check_sandbox(srt_check_report *r)
{
	srt_check_item *it = item(r, "sandbox start", true);
	srt_error err = {0};
	srt_config *cfg = srt_config_defaults(&err);
	srt_policy *pol = cfg ? srt_policy_resolve(cfg, NULL, &err) : NULL;
	char *argv[] = {"true", NULL};
	srt_spawn_options o = {.argv = argv, .stdio = {-1, -1, -1}};
	srt_sandbox *sb = pol ? srt_sandbox_spawn(pol, &o, &err) : NULL;
	srt_exit ex = {0};
	if (sb && srt_sandbox_wait(sb, &ex, &err) == 0 && !ex.signaled && ex.code == 0) {
		it->ok = true;
		r->can_sandbox = true;
		snprintf(it->detail, sizeof it->detail, "a sandbox started and ran `true`");
	} else {
		snprintf(it->detail, sizeof it->detail, "%s", err.message[0] ? err.message : "the probe command failed");
	}
	srt_sandbox_destroy(sb);
	srt_policy_free(pol);
	srt_config_free(cfg);
}

void srt_check(srt_check_report *r)
{
	*r = (srt_check_report){0};
	struct utsname u;
	srt_check_item *k = item(r, "kernel", true);
	k->ok = uname(&u) == 0;
	snprintf(k->detail, sizeof k->detail, "%s %s", k->ok ? u.sysname : "?", k->ok ? u.release : "");
	check_userns(r);
	check_seccomp(r);
	check_syscall(r, "mount API", SYS_mount_setattr,
		      "missing: open_tree/move_mount/mount_setattr need Linux >= 5.12");
	check_syscall(r, "openat2", SYS_openat2, "missing: needs Linux >= 5.6");
	check_syscall(r, "pidfd", SYS_pidfd_open, "missing: needs Linux >= 5.3");
	check_landlock(r);
	check_sandbox(r);
}
