/* hostmounts.c - the host's mounts of kernel interfaces (see hostmounts.h). */
#include "hostmounts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pathindex.h"

/* Kernel settings and control files, not data: a write changes the host
 * (sysctls, cgroup limits and membership, tracing, BPF pins, EFI
 * variables, binfmt handlers, the host IPC namespace's message queues,
 * NFS server state...).  Device nodes need no entry: every mount inside
 * is nodev. */
static const char *const kernel_fstypes[] = {
	"proc",     "sysfs",     "cgroup",  "cgroup2",    "securityfs", "debugfs",
	"tracefs",  "bpf",       "efivarfs", "pstore",    "configfs",   "fusectl",
	"binfmt_misc", "mqueue", "rpc_pipefs", "nfsd",    "selinuxfs",  "smackfs",
	"nsfs",
};

/* Bound on what is read: far above any real host (hundreds of mounts). */
#define MOUNTINFO_MAX_LINES 100000

static int index_existing(srt_pathindex *seen, const srt_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		if (srt_pathindex_put(seen, sv->v[i], strlen(sv->v[i]), i) < 0)
			return -1;
	return 0;
}

bool srt_fs_is_kernel_interface(const char *fstype)
{
	for (size_t i = 0; i < sizeof kernel_fstypes / sizeof *kernel_fstypes; i++)
		if (strcmp(fstype, kernel_fstypes[i]) == 0)
			return true;
	return false;
}

/* Copy field [f, f+len) to out, undoing the kernel's \ooo escapes. */
static int unescape(const char *f, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = f[i];
		if (c == '\\' && i + 3 < len && f[i + 1] >= '0' && f[i + 1] <= '3' && f[i + 2] >= '0' && f[i + 2] <= '7' &&
		    f[i + 3] >= '0' && f[i + 3] <= '7') {
			c = (char)((f[i + 1] - '0') * 64 + (f[i + 2] - '0') * 8 + (f[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* The next space-separated field of *p: start and length. */
static bool next_field(const char **p, const char **f, size_t *len)
{
	const char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s || *s == '\n')
		return false;
	size_t n = strcspn(s, " \n");
	*f = s;
	*len = n;
	*p = s + n;
	return true;
}

int srt_mountinfo_parse(const char *line, char *mnt, size_t mnt_cap, char *fstype,
			size_t fstype_cap)
{
	/* id parent major:minor root MOUNTPOINT options [optional...] - TYPE source super */
	const char *p = line, *f;
	size_t len;
	for (int i = 0; i < 5; i++)
		if (!next_field(&p, &f, &len))
			return -1;
	if (len == 0 || f[0] != '/' || unescape(f, len, mnt, mnt_cap) < 0)
		return -1;
	/* options, then optional fields up to the lone "-" */
	if (!next_field(&p, &f, &len))
		return -1;
	for (;;) {
		if (!next_field(&p, &f, &len))
			return -1;
		if (len == 1 && f[0] == '-')
			break;
	}
	if (!next_field(&p, &f, &len))
		return -1;
	return unescape(f, len, fstype, fstype_cap);
}

/* Append `path` unless `seen` has it. */
static int push_once(srt_strv *out, srt_pathindex *seen, const char *path)
{
	size_t len = strlen(path);
	if (srt_pathindex_get(seen, path, len, NULL))
		return 0;
	if (srt_strv_push(out, path) < 0)
		return -1;
	return srt_pathindex_put(seen, out->v[out->n - 1], len, out->n - 1);
}

/* Read mountinfo from `f` (bounded), appending kernel mount points. */
static int read_mountinfo(FILE *f, srt_strv *out, srt_pathindex *seen, srt_error *err)
{
	char *line = NULL;
	size_t cap = 0, lines = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		/* (long lines are fine: the super options at the end of an
		 * overlay mount can be kilobytes) */
		char point[PATH_MAX], type[256];
		if (++lines > MOUNTINFO_MAX_LINES)
			rc = srt_fail(err, SRT_E_SYSTEM, "more than %d mounts in /proc/self/mountinfo",
				      MOUNTINFO_MAX_LINES);
		else if (srt_mountinfo_parse(line, point, sizeof point, type, sizeof type) < 0)
			rc = srt_fail(err, SRT_E_SYSTEM, "cannot parse /proc/self/mountinfo line %zu",
				      lines);
		else if (srt_fs_is_kernel_interface(type) && push_once(out, seen, point) < 0)
			rc = srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	free(line);
	return rc;
}

int srt_kernel_mounts(srt_strv *out, srt_error *err)
{
	srt_pathindex seen = {0};
	int rc = index_existing(&seen, out);
	if (rc < 0) {
		srt_pathindex_clear(&seen);
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		srt_pathindex_clear(&seen);
		return srt_fail_errno(err, SRT_E_SYSTEM, errno, "cannot read /proc/self/mountinfo");
	}
	rc = read_mountinfo(f, out, &seen, err);
	fclose(f);
	/* even where /sys is no sysfs mount of its own (some containers) */
	struct stat st;
	if (rc == 0 && stat("/sys", &st) == 0 && S_ISDIR(st.st_mode) &&
	    push_once(out, &seen, "/sys") < 0)
		rc = srt_fail(err, SRT_E_NOMEM, "out of memory");
	srt_pathindex_clear(&seen);
	return rc;
}
