/* check.c - srt_check: which kernel features are here, and whether a real
 * sandbox starts. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "diagnose.h"
#include "landlock.h"
#include "nons/nonsmode.h"
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

/* Run `child` in a raw clone with `flags` (new namespaces).  Returns its
 * exit code, or -errno when the clone itself failed. */
static int probe(unsigned long flags, int (*child)(void))
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		_exit(child ? child() : 0);
	if (pid < 0)
		return -errno;
	int st;
	while (waitpid((pid_t)pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

/* In new user, mount and PID namespaces: can a new proc be mounted?
 * 0 yes, 1 refused (EPERM: a container runtime covers parts of its own
 * /proc), 2 failed otherwise. */
static int new_proc_child(void)
{
	int fs = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
	if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0) < 0)
		return errno == EPERM || errno == EACCES ? 1 : 2;
	return 0;
}

struct host {
	bool userns, netns, new_proc, notify;
	int proc_errno;
	char none_why[1024];
};

/* The same verdict the sandbox's spawn acts on (nons/nonsmode.h): Docker's
 * seccomp profile, max_user_namespaces=0, Ubuntu's AppArmor restriction
 * (created, but nothing works in it), the test build's hook. */
static void check_userns(srt_check_report *r, struct host *h)
{
	srt_check_item *it = item(r, "user namespaces", true);
	h->userns = it->ok = srt_nons_userns_usable(it->detail, sizeof it->detail);
	if (it->ok)
		snprintf(it->detail, sizeof it->detail, "can be created");
}

static void check_netns(srt_check_report *r, struct host *h)
{
	srt_check_item *it = item(r, "network namespace", true);
	int rc = h->userns ? probe(CLONE_NEWUSER | CLONE_NEWNET, NULL) : -EPERM;
	h->netns = it->ok = rc == 0;
	snprintf(it->detail, sizeof it->detail, "%s",
		 it->ok ? "can be created (loopback only, the proxies the way out)"
			: h->userns ? "cannot be created inside a new user namespace"
				    : "not tried: no user namespace");
}

static void check_new_proc(srt_check_report *r, struct host *h)
{
	srt_check_item *it = item(r, "new /proc", false);
	int rc = h->userns ? probe(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID, new_proc_child) : -1;
	h->new_proc = it->ok = rc == 0;
	if (it->ok)
		snprintf(it->detail, sizeof it->detail, "can be mounted for the sandbox's PID namespace");
	else if (rc == 1)
		snprintf(it->detail, sizeof it->detail,
			 "refused (EPERM): a container runtime covers parts of this /proc; nested "
			 "mode uses the container's /proc instead");
	else
		snprintf(it->detail, sizeof it->detail, "%s",
			 h->userns ? "cannot be mounted" : "not tried: no user namespace");
}

static void check_notify(srt_check_report *r, struct host *h)
{
	srt_check_item *it = item(r, "seccomp notify", false);
	struct seccomp_notif_sizes sz;
	h->notify = it->ok = syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) == 0;
	snprintf(it->detail, sizeof it->detail, "%s",
		 it->ok ? "available (allowUnixSockets: connects made on the command's behalf)"
			: "unavailable: allowUnixSockets cannot be honoured (needs Linux >= 5.0)");
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
	int abi = r->landlock_abi = srt_landlock_abi();
	it->ok = abi > 0;
	if (it->ok)
		snprintf(it->detail, sizeof it->detail,
			 "ABI %d (writes limited to the writable roots; ptrace of outside processes "
			 "refused%s%s)",
			 abi, abi >= 4 ? "; network rules available" : "; no network rules (ABI < 4)",
			 abi >= 6 ? "; signal scoping" : "; no signal scoping (ABI < 6)");
	else
		snprintf(it->detail, sizeof it->detail,
			 "unavailable: the sandbox works without this second layer, weaker; enable "
			 "CONFIG_SECURITY_LANDLOCK and add 'landlock' to the lsm= boot parameter");
}

static void check_sandbox(srt_check_report *r)
{
	srt_check_item *it = item(r, "sandbox start", true);
	if (r->mode == SRT_MODE_NONE) {
		snprintf(it->detail, sizeof it->detail, "not tried: no mode is available here");
		return;
	}
	srt_error err = {0};
	srt_config *cfg = srt_config_defaults(&err);
	if (cfg)
		cfg->enable_weaker_nested_sandbox = r->mode_needs_key;
	srt_policy *pol = cfg ? srt_policy_resolve(cfg, NULL, &err) : NULL;
	char *argv[] = {"true", NULL};
	srt_spawn_options o = {.argv = argv, .stdio = {-1, -1, -1}};
	srt_sandbox *sb = pol ? srt_sandbox_spawn(pol, &o, &err) : NULL;
	srt_exit ex = {0};
	if (sb && srt_sandbox_wait(sb, &ex, &err) == 0 && !ex.signaled && ex.code == 0 &&
	    srt_sandbox_mode(sb) == r->mode) {
		it->ok = true;
		r->can_sandbox = true;
		snprintf(it->detail, sizeof it->detail, "a sandbox started in %s mode and ran `true`",
			 r->mode == SRT_MODE_NESTED	    ? "nested"
			 : r->mode == SRT_MODE_NO_NAMESPACES ? "no-namespace"
							     : "full");
	} else {
		snprintf(it->detail, sizeof it->detail, "%s",
			 err.message[0] ? err.message
			 : sb ? "the probe sandbox started in another mode than expected"
			      : "the probe command failed");
	}
	srt_sandbox_destroy(sb);
	srt_policy_free(pol);
	srt_config_free(cfg);
}

/* ---- what the mode enforces ---------------------------------------- */

static void prop(srt_check_report *r, const char *name, bool enforced, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void prop(srt_check_report *r, const char *name, bool enforced, const char *fmt, ...)
{
	if (r->n_props >= SRT_CHECK_PROPS)
		return;
	srt_check_property *p = &r->props[r->n_props++];
	*p = (srt_check_property){.name = name, .enforced = enforced};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->how, sizeof p->how, fmt, ap);
	va_end(ap);
}

static void describe_mode(srt_check_report *r, const struct host *h)
{
	if (r->mode == SRT_MODE_NONE) {
		static const char *const all[] = {"filesystem writes", "filesystem reads",
						  "mandatory denies", "network", "unix sockets",
						  "process visibility", "signals"};
		for (size_t i = 0; i < sizeof all / sizeof *all; i++)
			prop(r, all[i], false, "not enforced: srt refuses to run here (%s)", h->none_why);
		return;
	}
	if (r->mode == SRT_MODE_NO_NAMESPACES) {
		prop(r, "filesystem writes", true,
		     "Landlock: writes only beneath allowWrite and a private TMPDIR; chmod, chown, "
		     "extended attributes and timestamps outside them refused by srt's seccomp gate");
		prop(r, "filesystem reads", true,
		     "Landlock: read rights on everything but the denyRead paths (names inside a "
		     "denied directory can still be listed; files created later in an ancestor of a "
		     "denied path are unreadable)");
		prop(r, "mandatory denies", false,
		     "NOT ENFORCED inside writable roots (Landlock rights cover everything beneath a "
		     "root): .git/hooks, .git/config, .bashrc... there are writable; srt refuses to "
		     "start when a denyWrite path or the settings file lies in a writable root");
		prop(r, "network", true,
		     "seccomp: TCP only, every connect made by srt, to its proxies (on this host's "
		     "loopback, ports of the run, used only by connections srt made) and hostPorts; "
		     "no UDP or raw sockets; Landlock network rules too; no listening TCP sockets");
		prop(r, "unix sockets", true, "socket(AF_UNIX) refused by seccomp; allowUnixSockets "
					      "connects made by srt; abstract sockets scoped by Landlock");
		prop(r, "process visibility", false,
		     "WEAKER: no PID namespace: the command sees every process of this host or "
		     "container in /proc; their files, memory and environment stay closed (Landlock)");
		prop(r, "signals", true, "Landlock signal scoping (no PID namespace); System V IPC "
					 "and POSIX message queues refused by seccomp");
		return;
	}
	bool ll = r->landlock_abi > 0;
	prop(r, "filesystem writes", true,
	     "read-only mounts outside allowWrite and the private TMPDIR, in a mount namespace the "
	     "command cannot change%s", ll ? "; Landlock write rules too" : "");
	prop(r, "filesystem reads", true, "denyRead paths covered by empty mounts");
	prop(r, "mandatory denies", true,
	     "protected paths in writable roots mounted read-only (to the search depth; names "
	     "created during the run below it are not covered, see README)");
	prop(r, "network", true,
	     "own network namespace with loopback only (TCP and UDP reach nothing else); srt's "
	     "HTTP and SOCKS5 proxies apply the domain policy; socket families an allowlist "
	     "(AF_VSOCK, AF_PACKET and the rest refused by seccomp)");
	prop(r, "unix sockets", true, "socket(AF_UNIX) refused by seccomp%s",
	     h->notify ? "; allowUnixSockets connects made by srt on the command's behalf"
		       : "; allowUnixSockets unavailable (no seccomp user notification)");
	if (r->mode == SRT_MODE_NESTED)
		prop(r, "process visibility", false,
		     "WEAKER: own PID namespace, but the container's /proc, read-only: the command "
		     "sees the container's processes (command lines, status, mount tables, the "
		     "container's sockets in /proc/PID/net; /proc/PID numbers differ from getpid()); "
		     "their files, descriptors, environment and memory stay closed (the ptrace "
		     "check%s)", r->landlock_abi > 0 ? ", and Landlock" : "");
	else
		prop(r, "process visibility", true, "own PID namespace and a new /proc");
	prop(r, "signals", true, "own PID namespace and process group%s",
	     r->landlock_abi >= 6 ? "; Landlock signal scoping" : "");
}

static void choose_mode(srt_check_report *r, struct host *h)
{
	r->mode = SRT_MODE_NONE;
	srt_error e = {0};
	if (h->userns && h->netns && h->new_proc)
		r->mode = SRT_MODE_FULL;
	else if (h->userns && h->netns)
		r->mode = SRT_MODE_NESTED;
	else if (!h->userns && srt_nons_requirements(r->landlock_abi, &e) == 0)
		r->mode = SRT_MODE_NO_NAMESPACES;
	else
		snprintf(h->none_why, sizeof h->none_why, "%s",
			 !h->userns ? e.message : "no network namespace can be created");
	r->mode_needs_key = r->mode == SRT_MODE_NESTED || r->mode == SRT_MODE_NO_NAMESPACES;
	/* the no-namespace mode does without them: a warning, not a failure */
	for (size_t i = 0; r->mode == SRT_MODE_NO_NAMESPACES && i < r->count; i++)
		if (!strcmp(r->items[i].name, "user namespaces") ||
		    !strcmp(r->items[i].name, "network namespace"))
			r->items[i].required = false;
}

void srt_check(srt_check_report *r)
{
	*r = (srt_check_report){0};
	struct host h = {0};
	struct utsname u;
	srt_check_item *k = item(r, "kernel", true);
	k->ok = uname(&u) == 0;
	snprintf(k->detail, sizeof k->detail, "%s %s", k->ok ? u.sysname : "?", k->ok ? u.release : "");
	check_userns(r, &h);
	check_netns(r, &h);
	check_new_proc(r, &h);
	check_seccomp(r);
	check_notify(r, &h);
	check_syscall(r, "mount API", SYS_mount_setattr,
		      "missing: open_tree/move_mount/mount_setattr need Linux >= 5.12");
	check_syscall(r, "openat2", SYS_openat2, "missing: needs Linux >= 5.6");
	check_syscall(r, "pidfd", SYS_pidfd_open, "missing: needs Linux >= 5.3");
	check_landlock(r);
	choose_mode(r, &h);
	describe_mode(r, &h);
	check_sandbox(r);
}
