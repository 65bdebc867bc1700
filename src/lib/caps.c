/* caps.c - capability dropping with raw syscalls (no libcap needed). */
#include "caps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

int srt_caps_last(void)
{
	char buf[16];
	if (srt_read_small("/proc/sys/kernel/cap_last_cap", buf, sizeof buf))
		return atoi(buf);
	/* Probe upwards: PR_CAPBSET_READ fails with EINVAL past the last. */
	int c = 0;
	while (c < 64 && prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) >= 0)
		c++;
	return c - 1;
}

/* CapBnd from /proc/self/status is zero?  (one read instead of a prctl per
 * capability) */
static int bounding_is_empty(void)
{
	char buf[4096];
	if (!srt_read_small("/proc/self/status", buf, sizeof buf))
		return -1;
	const char *p = strstr(buf, "\nCapBnd:");
	if (!p)
		return -1;
	return strtoull(p + 8, NULL, 16) == 0;
}

/* Does the calling thread hold CAP_SETPCAP (needed for securebits and the
 * bounding set)? */
static bool has_setpcap(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	return syscall(SYS_capget, &hdr, data) == 0 && (data[0].effective & (1u << CAP_SETPCAP));
}

int srt_caps_drop_all(int last, bool before_exec, bool may_lack_setpcap, srt_error *err)
{
	/* Without a user namespace of its own (no-namespace mode) an
	 * unprivileged command has no CAP_SETPCAP: its securebits and bounding
	 * set stay, and no_new_privs alone keeps exec from granting anything
	 * (the kernel intersects what exec would give with what it had). */
	bool skip_bounding = before_exec && may_lack_setpcap && !has_setpcap();
	if (before_exec && !skip_bounding) {
		/* Root inside the namespace must not regain anything on exec. */
		if (prctl(PR_SET_SECUREBITS,
			  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
				  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
				  SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
			  0, 0, 0) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot lock securebits");
		for (int c = 0; c <= last; c++)
			if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0)
				return srt_fail_errno(err, SRT_E_SETUP, errno,
						      "cannot drop capability %d from the bounding set", c);
	}
	if (before_exec && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot clear ambient capabilities");
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	if (syscall(SYS_capset, &hdr, data) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot clear capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot set no_new_privs");

	/* verify */
	if (syscall(SYS_capget, &hdr, data) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "capget");
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return srt_fail(err, SRT_E_SETUP, "capabilities remain after dropping them");
	if (before_exec && !skip_bounding && bounding_is_empty() != 1)
		return srt_fail(err, SRT_E_SETUP, "capabilities remain in the bounding set");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return srt_fail(err, SRT_E_SETUP, "no_new_privs did not stick");
	return 0;
}
