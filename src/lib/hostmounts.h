/* hostmounts.h - the host's mounts of kernel interfaces (proc, sysfs,
 * cgroup, debugfs, ...).  Writing there changes host-global kernel state,
 * so they are never writable inside a sandbox, whatever the settings say
 * (SPEC §5), and never searched for protected names.  Internal. */
#ifndef SRT_HOSTMOUNTS_H
#define SRT_HOSTMOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "srt.h"
#include "util.h"

/* Is `fstype` (as in /proc/self/mountinfo) a kernel interface? */
bool srt_fs_is_kernel_interface(const char *fstype);

/* One line of /proc/PID/mountinfo: its mount point (octal escapes such as
 * \040 undone) and file system type.  Returns 0, or -1 for a malformed
 * line or one that does not fit. */
int srt_mountinfo_parse(const char *line, char *mnt, size_t mnt_cap, char *fstype,
			size_t fstype_cap);

/* Mount points of kernel interfaces in srt's own mount namespace (the
 * sandbox's is a copy of it), "/sys" always among them.  Appended to `out`
 * in mountinfo order, each once. */
int srt_kernel_mounts(srt_strv *out, srt_error *err);

#endif
