/* mounts.c - build the sandbox's file system view.
 *
 * 1. Make every mount private to this namespace.
 * 2. Take detached clones (open_tree) of every host subtree the plan binds,
 *    and of the few device nodes /dev needs, while the tree is pristine.
 * 3. Make the whole tree read-only, nosuid, nodev in one call
 *    (mount_setattr AT_RECURSIVE).
 * 4. Fresh /proc (with /proc/sys and friends read-only) and a minimal /dev.
 * 5. Apply the plan's ops, parents first: writable or read-only clones moved
 *    into place, empty read-only tmpfs over hidden directories, an
 *    unreadable file over hidden files.  TMPDIR is a directory in the
 *    private /dev/shm.
 * The mounts are made in a user namespace that the command is not root of,
 * so it can neither unmount nor remount them; seccomp refuses the calls too.
 */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from_dfd, const char *from, int to_dfd,
			  const char *to, unsigned flags)
{
	return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

static int sys_mount_setattr(int dfd, const char *path, unsigned flags,
			     __u64 set, __u64 clr)
{
	struct mount_attr a = {.attr_set = set, .attr_clr = clr};
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, &a, sizeof a);
}

/* Open `path` without following any symlink on the way: the plan holds
 * resolved paths, so a symlink here means the tree changed under us. */
static int open_nofollow(const char *path)
{
	return srt_open_path(AT_FDCWD, path, O_NOFOLLOW, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

static int clone_tree(const char *path, srt_error *err)
{
	SRT_AUTOCLOSE int fd = open_nofollow(path);
	if (fd < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno,
				      "cannot open %s for binding (did it change while srt started?)", path);
	int t = sys_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					      AT_EMPTY_PATH | AT_RECURSIVE);
	if (t < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno,
				      "open_tree(%s) failed (needs Linux >= 5.2)", path);
	return t;
}

static int place(int tree, const char *target, srt_error *err)
{
	if (sys_move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot mount on %s", target);
	return 0;
}

/* mkdir -p of `rel` components below `base`, the last one a directory or an
 * empty file.  Used to create mount points inside a fresh tmpfs. */
static int make_mountpoint(const char *base, const char *path, bool is_dir,
			   srt_error *err)
{
	char buf[4096];
	size_t bl = strlen(base);
	if (strlen(path) >= sizeof buf || !srt_path_is_within(path, base))
		return srt_fail(err, SRT_E_SETUP, "mount point %s too long", path);
	strcpy(buf, path);
	for (char *q = buf + (bl == 1 ? 1 : bl + 1); (q = strchr(q, '/')) != NULL; q++) {
		*q = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "mkdir %s", buf);
		*q = '/';
	}
	if (is_dir) {
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "mkdir %s", buf);
	} else {
		int fd = open(buf, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "create %s", buf);
		close(fd);
	}
	return 0;
}

static int make_children_mountpoints(const srt_plan *plan, size_t idx,
				     srt_error *err)
{
	for (size_t j = idx + 1; j < plan->n_ops; j++)
		if (plan->ops[j].parent == (int)idx && !plan->ops[j].skip &&
		    make_mountpoint(plan->ops[idx].path, plan->ops[j].path,
				    plan->ops[j].is_dir, err) < 0)
			return -1;
	return 0;
}

static int set_ro(const char *path, bool recursive, srt_error *err)
{
	if (sys_mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0,
			      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot make %s read-only", path);
	return 0;
}

static int fresh_tmpfs(const char *path, const char *opts, srt_error *err)
{
	if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot mount tmpfs on %s", path);
	return 0;
}

/* ---- /dev ---------------------------------------------------------- */

static const char *const dev_nodes[] = {"null", "zero", "full", "random",
					"urandom", "tty"};
#define N_DEV (sizeof dev_nodes / sizeof *dev_nodes)

static int clone_dev_nodes(int fds[N_DEV], srt_error *err)
{
	for (size_t i = 0; i < N_DEV; i++) {
		char p[64];
		snprintf(p, sizeof p, "/dev/%s", dev_nodes[i]);
		fds[i] = clone_tree(p, err);
		if (fds[i] < 0)
			return -1;
	}
	return 0;
}

/* An unreadable empty file to put over hidden files: made on a scratch
 * tmpfs at /dev/shm (before the real one), cloned once per hidden file; the
 * scratch tmpfs is then detached (a clone of an unlinked file could not be
 * mounted, a clone of a detached file system can). */
static int clone_denied_files(const srt_plan *plan, int *clone_fds, srt_error *err)
{
	static const char file[] = "/dev/shm/denied";
	bool need = false;
	for (size_t i = 0; i < plan->n_ops; i++)
		if (plan->ops[i].kind == SRT_OP_HIDE_FILE && !plan->ops[i].skip)
			need = true;
	if (!need)
		return 0;
	if (fresh_tmpfs("/dev/shm", "mode=0700,size=4k", err) < 0)
		return -1;
	int fd = open(file, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "create %s", file);
	close(fd);
	if (chmod(file, 0) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "chmod %s", file);
	for (size_t i = 0; i < plan->n_ops; i++) {
		if (plan->ops[i].kind != SRT_OP_HIDE_FILE || plan->ops[i].skip)
			continue;
		clone_fds[i] = sys_open_tree(AT_FDCWD, file, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (clone_fds[i] < 0)
			return srt_fail_errno(err, SRT_E_KERNEL, errno, "open_tree(%s)", file);
		if (sys_mount_setattr(clone_fds[i], "", AT_EMPTY_PATH,
				      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "read-only hidden file");
	}
	if (umount2("/dev/shm", MNT_DETACH) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "umount the scratch /dev/shm");
	return 0;
}

static int build_dev(int fds[N_DEV], const srt_plan *plan, int *clone_fds, srt_error *err)
{
	if (fresh_tmpfs("/dev", "mode=0755,size=64k", err) < 0)
		return -1;
	for (size_t i = 0; i < N_DEV; i++) {
		char p[64];
		snprintf(p, sizeof p, "/dev/%s", dev_nodes[i]);
		int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "create %s", p);
		close(fd);
		if (place(fds[i], p, err) < 0)
			return -1;
		close(fds[i]);
		fds[i] = -1;
	}
	if (mkdir("/dev/pts", 0755) < 0 || mkdir("/dev/shm", 01777) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "mkdir in /dev");
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=620") < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot mount devpts on /dev/pts");
	if (clone_denied_files(plan, clone_fds, err) < 0 ||
	    fresh_tmpfs("/dev/shm", "mode=1777", err) < 0)
		return -1;
	/* the private TMPDIR: inside the sandbox's own tmpfs, so nothing of it
	 * exists on the host and it is gone when the sandbox ends */
	if (mkdir(SRT_SANDBOX_TMPDIR, 0700) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "mkdir %s", SRT_SANDBOX_TMPDIR);
	static const char *const links[][2] = {
		{"pts/ptmx", "/dev/ptmx"},       {"/proc/self/fd", "/dev/fd"},
		{"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"},
		{"/proc/self/fd/2", "/dev/stderr"},
	};
	for (size_t i = 0; i < sizeof links / sizeof *links; i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "symlink %s", links[i][1]);
	/* the /dev tmpfs itself read-only; the bound nodes, pts and shm keep
	 * their own flags */
	if (sys_mount_setattr(AT_FDCWD, "/dev", 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot make /dev read-only");
	return 0;
}

/* ---- /proc --------------------------------------------------------- */

static int build_proc(srt_error *err)
{
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno,
				      "cannot mount a new /proc (is /proc partly hidden by a container runtime?)");
	/* host-global kernel settings stay read-only */
	static const char *const ro[] = {"/proc/sys", "/proc/sysrq-trigger",
					 "/proc/irq", "/proc/bus", "/proc/fs"};
	for (size_t i = 0; i < sizeof ro / sizeof *ro; i++) {
		if (access(ro[i], F_OK) < 0)
			continue;
		if (mount(ro[i], ro[i], NULL, MS_BIND | MS_REC, NULL) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "bind %s", ro[i]);
		if (set_ro(ro[i], true, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- the plan ------------------------------------------------------ */

static int clone_bind_sources(const srt_plan *plan, int *clone_fds, srt_error *err)
{
	for (size_t i = 0; i < plan->n_ops; i++) {
		const srt_mount_op *o = &plan->ops[i];
		if (o->kind != SRT_OP_BIND || o->skip)
			continue;
		clone_fds[i] = clone_tree(o->path, err);
		if (clone_fds[i] < 0)
			return -1;
		__u64 set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
		if (!o->writable)
			set |= MOUNT_ATTR_RDONLY;
		if (sys_mount_setattr(clone_fds[i], "", AT_EMPTY_PATH | AT_RECURSIVE, set, 0) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "set flags for %s", o->path);
	}
	return 0;
}

static int apply_op(const srt_plan *plan, size_t i, int *clone_fds, srt_error *err)
{
	const srt_mount_op *o = &plan->ops[i];
	switch (o->kind) {
	case SRT_OP_BIND:
	case SRT_OP_HIDE_FILE:
		if (place(clone_fds[i], o->path, err) < 0)
			return -1;
		close(clone_fds[i]);
		clone_fds[i] = -1;
		return 0;
	case SRT_OP_HIDE_DIR:
		if (fresh_tmpfs(o->path, "mode=0555,size=64k", err) < 0 ||
		    make_children_mountpoints(plan, i, err) < 0)
			return -1;
		return set_ro(o->path, false, err);
	default:
		return srt_fail(err, SRT_E_SETUP, "unknown mount op");
	}
}

int srt_mounts_apply(const srt_plan *plan, int *clone_fds, srt_error *err)
{
	int dev_fds[N_DEV];
	for (size_t i = 0; i < N_DEV; i++)
		dev_fds[i] = -1;
	for (size_t i = 0; i < plan->n_ops; i++)
		clone_fds[i] = -1;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot make mounts private");
	if (clone_bind_sources(plan, clone_fds, err) < 0 || clone_dev_nodes(dev_fds, err) < 0)
		return -1;
	/* read-only unless "/" is a writable root: nothing can be stacked on
	 * "/" itself (see srt_plan.base_writable), so the host's tree stays
	 * as it is, and the plan covers what must not be written */
	if (sys_mount_setattr(AT_FDCWD, "/", AT_RECURSIVE,
			      (plan->base_writable ? 0 : MOUNT_ATTR_RDONLY) | MOUNT_ATTR_NOSUID |
				      MOUNT_ATTR_NODEV, 0) < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno,
				      "cannot make the file system read-only (mount_setattr needs Linux >= 5.12)");
	if (build_proc(err) < 0 || build_dev(dev_fds, plan, clone_fds, err) < 0)
		return -1;
	for (size_t i = 0; i < plan->n_ops; i++)
		if (!plan->ops[i].skip && apply_op(plan, i, clone_fds, err) < 0)
			return -1;
	return 0;
}
