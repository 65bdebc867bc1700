/* diagnose.c - why user namespaces fail on this host, by name. */
#include "diagnose.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Read a small integer sysctl; -1 when absent. */
static long read_sysctl(const char *path)
{
	char buf[32];
	return srt_read_small(path, buf, sizeof buf) ? strtol(buf, NULL, 10) : -1;
}

static void add(char *buf, size_t len, const char *text)
{
	size_t l = strlen(buf);
	if (l < len)
		snprintf(buf + l, len - l, "%s", text);
}

void srt_diagnose_userns(int e, char *buf, size_t len)
{
	if (read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1 && getuid() != 0) {
		add(buf, len, ". AppArmor restricts unprivileged user namespaces on this host (Ubuntu 23.10+): "
			      "run `sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`, or install an "
			      "AppArmor profile for srt that allows 'userns,'");
		return;
	}
	if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0 && getuid() != 0) {
		add(buf, len, ". Unprivileged user namespaces are disabled: run "
			      "`sudo sysctl kernel.unprivileged_userns_clone=1`");
		return;
	}
	if (read_sysctl("/proc/sys/user/max_user_namespaces") == 0) {
		add(buf, len, ". user.max_user_namespaces is 0: run `sudo sysctl user.max_user_namespaces=15000`");
		return;
	}
	if (e == ENOSPC) {
		add(buf, len, ". The limit on nested user namespaces was reached (srt inside too many sandboxes)");
		return;
	}
	if (e == EPERM || e == ENOSYS || e == EINVAL) {
		add(buf, len, ". The kernel or a container's seccomp profile refuses CLONE_NEWUSER "
			      "(Docker's default profile does): run the container with a profile that allows "
			      "user namespaces, or check that the kernel has CONFIG_USER_NS=y");
		return;
	}
}
