/* mounts.c - build the sandbox's file system view, by descriptors.
 *
 * 1. Make every mount private to this namespace.
 * 2. Take detached clones (open_tree) of the host subtrees that must come
 *    from the pristine tree (early_source: few, one per policy entry, not
 *    one per protected path) and of the device nodes /dev needs.
 * 3. Make the whole tree read-only, nosuid, nodev in one call
 *    (mount_setattr AT_RECURSIVE).
 * 4. Fresh /proc (with /proc/sys and friends read-only) and a minimal /dev,
 *    each made detached (fsopen/fsmount) and then moved into place.  The
 *    /proc is made before step 3; in nested mode it is a clone of the
 *    container's (make_proc).
 * 5. The plan's ops, parents first.  Each target is opened right before its
 *    op, never through a symlink (openat2 RESOLVE_NO_SYMLINKS; the plan
 *    holds resolved paths, so a symlink on the way means the tree was
 *    changed under us: the run aborts), and the op acts on that descriptor:
 *    a clone moved onto it (move_mount ..._T_EMPTY_PATH), an empty
 *    read-only tmpfs prepared detached with its children's mount points, an
 *    unreadable file cloned from a scratch tmpfs.  Opening a target only
 *    when its turn comes matters: a descriptor taken before a parent's
 *    mount was placed over the path would name the covered directory.
 * 6. The private /dev/shm (TMPDIR inside it).
 * At most a handful of descriptors are open at any time besides the early
 * clones, whatever the number of protected paths.
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

#define NO_LINKS (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
#define RO_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

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

#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467 /* the same number on every architecture */
#endif

/* A detached clone (open_tree OPEN_TREE_CLONE, `flags` say what else) with
 * the mount attributes `set`: one open_tree_attr(2) call where the kernel
 * has it (Linux >= 6.15), else open_tree then mount_setattr on the clone.
 * The same result either way: the attributes are applied to the detached
 * clone before it is attached anywhere.  Init is single-threaded. */
static int clone_with_attrs(int dfd, const char *path, unsigned flags, __u64 set)
{
	static bool no_attr_call;
	unsigned setattr_flags = AT_EMPTY_PATH | (flags & AT_RECURSIVE);
	if (!no_attr_call) {
		struct mount_attr a = {.attr_set = set};
		int t = (int)syscall(SYS_open_tree_attr, dfd, path, flags, &a, sizeof a);
		if (t >= 0)
			return t;
		/* not there (ENOSYS), or refused by a container runtime's
		 * filter (EPERM) or an older variant (EINVAL): the two calls,
		 * from now on; a real error is reported by them again */
		if (errno != ENOSYS && errno != EPERM && errno != EINVAL)
			return -1;
		no_attr_call = true;
	}
	int t = sys_open_tree(dfd, path, flags);
	if (t < 0)
		return -1;
	if (sys_mount_setattr(t, "", setattr_flags, set, 0) < 0) {
		int e = errno;
		close(t);
		errno = e;
		return -2;
	}
	return t;
}

/* ---- descriptors ----------------------------------------------------- */

enum target_kind {
	T_DIR,     /* must be a directory */
	T_ANY,     /* the kernel checks that a tree and its target agree */
	T_LINK_OK, /* the same, and may be a symlink itself (link_ok) */
};

/* `path` (relative to dirfd, or absolute) as an O_PATH descriptor, reached
 * without following any symlink on the way.  A symlink as the last
 * component is opened itself, and accepted only as T_LINK_OK (a mount over
 * it covers the link). */
static int open_target(int dirfd, const char *path, const char *shown, enum target_kind kind,
		       srt_error *err)
{
	int fd = srt_open_path(dirfd, path, O_NOFOLLOW, NO_LINKS);
	if (fd < 0) {
		if (errno == ELOOP || errno == EXDEV)
			return srt_fail(err, SRT_E_SETUP,
					"%s: a symbolic link appeared on its path since the policy was "
					"resolved; refusing to mount through it", shown);
		return srt_fail_errno(err, SRT_E_SETUP, errno,
				      "cannot open %s (did it change while srt started?)", shown);
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		srt_fail_errno(err, SRT_E_SETUP, errno, "fstat %s", shown);
	} else if (S_ISLNK(st.st_mode) && kind != T_LINK_OK) {
		srt_fail(err, SRT_E_SETUP,
			 "%s: is now a symbolic link, swapped in since the policy was resolved; "
			 "refusing to mount on it", shown);
	} else if (kind == T_DIR && !S_ISDIR(st.st_mode)) {
		srt_fail(err, SRT_E_SETUP, "%s is no longer a directory (did it change while srt started?)",
			 shown);
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

/* Move the detached tree `tree` onto what `target` refers to. */
static int place(int tree, int target, const char *shown, srt_error *err)
{
	if (sys_move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot mount on %s", shown);
	return 0;
}

/* A detached clone of the tree at `fd` (submounts included) with `attrs`. */
static int clone_at(int fd, __u64 attrs, const char *shown, srt_error *err)
{
	int t = clone_with_attrs(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
					 AT_RECURSIVE, attrs);
	if (t == -2)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "set flags for %s", shown);
	if (t < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno, "open_tree(%s) failed", shown);
	return t;
}

/* A clone of the host's tree at absolute `path`, before anything is
 * mounted: the source is opened without following symlinks too. */
static int clone_path(const char *path, __u64 attrs, srt_error *err)
{
	SRT_AUTOCLOSE int fd = srt_open_path(AT_FDCWD, path, O_NOFOLLOW, NO_LINKS);
	if (fd < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno,
				      "cannot open %s for binding (a symlink on its path, or did it "
				      "change while srt started?)", path);
	return clone_at(fd, attrs, path, err);
}

struct fs_opt {
	const char *key;
	const char *value; /* NULL: a flag */
};

/* A new, detached instance of file system `type` (fsopen, fsconfig,
 * fsmount) with `attrs` (MOUNT_ATTR_*): the descriptor of its root. */
static int new_fs(const char *type, const struct fs_opt *opts, size_t n_opts, unsigned attrs,
		  srt_error *err)
{
	SRT_AUTOCLOSE int fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno, "fsopen(%s) failed", type);
	for (size_t i = 0; i < n_opts; i++) {
		long r = opts[i].value
			? syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, opts[i].key, opts[i].value, 0)
			: syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, opts[i].key, NULL, 0);
		if (r < 0)
			return srt_fail_errno(err, SRT_E_KERNEL, errno, "%s option %s", type, opts[i].key);
	}
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno, "cannot create a %s instance", type);
	int m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
	if (m < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno, "fsmount(%s) failed", type);
	return m;
}

/* Move the detached mount `m` onto `rel` of `dirfd`. */
static int place_at(int m, int dirfd, const char *rel, const char *shown, srt_error *err)
{
	SRT_AUTOCLOSE int t = open_target(dirfd, rel, shown, T_DIR, err);
	return t < 0 ? -1 : place(m, t, shown, err);
}

/* Create directory `name` in dirfd (or accept our own earlier one when
 * `may_exist`) and return an O_PATH descriptor of it, checked to be a
 * directory reached without a symlink. */
static int make_dir(int dirfd, const char *name, mode_t mode, bool may_exist, const char *shown,
		    srt_error *err)
{
	if (mkdirat(dirfd, name, mode) < 0 && !(may_exist && errno == EEXIST))
		return srt_fail_errno(err, SRT_E_SETUP, errno, "mkdir %s", shown);
	int fd = srt_open_path(dirfd, name, O_DIRECTORY | O_NOFOLLOW, NO_LINKS);
	if (fd < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "open %s", shown);
	return fd;
}

/* Create empty file `name` in dirfd, exclusively, and return it open. */
static int make_file(int dirfd, const char *name, mode_t mode, const char *shown, srt_error *err)
{
	int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "create %s", shown);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != 0) {
		close(fd);
		return srt_fail(err, SRT_E_SETUP, "%s is not the empty file just created", shown);
	}
	return fd;
}

/* ---- /proc --------------------------------------------------------- */

#define PROC_ATTRS (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

/* Why nested mode is needed, what it weakens, and how to enable it. */
#define NESTED_HINT                                                                              \
	"cannot mount a new /proc: a container runtime hides parts of this /proc (mounts over "    \
	"/proc/kcore, /proc/keys, ...), and the kernel refuses a new one in a user namespace. "    \
	"Nested mode works here: set \"enableWeakerNestedSandbox\": true in the settings. It "     \
	"uses the container's /proc, so the command can see the container's processes (their "     \
	"command lines and status); writes, reads, network, signals and ptrace stay as in the "    \
	"full mode (srt --check tells more)"

/* The sandbox's /proc, detached, made before the tree becomes read-only:
 * a new instance for its PID namespace.  Where a container runtime has
 * covered parts of its own /proc, the kernel refuses a new instance in a
 * user namespace (it would reveal what the covers hide: EPERM).  With
 * `weaker_nested` the container's /proc is cloned instead, its covers
 * included (they are locked to it), and *nested is set; init makes it
 * read-only once it has written the command's maps (srt_mounts_seal_proc). */
static int make_proc(bool weaker_nested, bool *nested, srt_error *err)
{
	*nested = false;
	int proc = new_fs("proc", NULL, 0, PROC_ATTRS, err);
	if (proc >= 0)
		return proc;
	int e = err->sys_errno;
	if (e != EPERM)
		return srt_fail_errno(err, SRT_E_KERNEL, e, "cannot mount a new /proc");
	if (!weaker_nested) {
		srt_fail(err, SRT_E_KERNEL, NESTED_HINT);
		err->sys_errno = EPERM;
		return -1;
	}
	SRT_AUTOCLOSE int host = srt_open_path(AT_FDCWD, "/proc", O_DIRECTORY | O_NOFOLLOW, NO_LINKS);
	if (host < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "nested mode: cannot open /proc");
	proc = clone_at(host, PROC_ATTRS, "/proc (nested mode)", err);
	if (proc >= 0)
		*nested = true;
	return proc;
}

int srt_mounts_seal_proc(srt_error *err)
{
	SRT_AUTOCLOSE int proc = srt_open_path(AT_FDCWD, "/proc", O_DIRECTORY | O_NOFOLLOW, NO_LINKS);
	if (proc < 0 || sys_mount_setattr(proc, "", AT_EMPTY_PATH | AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "nested mode: cannot make /proc read-only");
	return 0;
}

/* Put the /proc made by make_proc in place, with the host-global kernel
 * settings read-only in it. */
static int place_proc(int proc, srt_error *err)
{
	if (place_at(proc, AT_FDCWD, "/proc", "/proc", err) < 0)
		return -1;
	static const char *const ro[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};
	for (size_t i = 0; i < sizeof ro / sizeof *ro; i++) {
		SRT_AUTOCLOSE int fd = srt_open_path(proc, ro[i], O_NOFOLLOW, NO_LINKS | RESOLVE_BENEATH);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "open /proc/%s", ro[i]);
		SRT_AUTOCLOSE int t = clone_at(fd, RO_ATTRS, ro[i], err);
		if (t < 0 || place(t, fd, ro[i], err) < 0)
			return -1;
	}
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
		/* before the tree becomes nodev: the clones keep their flags */
		fds[i] = clone_path(p, MOUNT_ATTR_NOSUID, err);
		if (fds[i] < 0)
			return -1;
	}
	return 0;
}

/* Fill the /dev tmpfs `dev` (in place already): the bound nodes, a new
 * devpts instance, an empty shm directory (its tmpfs comes last, see
 * build_shm) and the usual links; then the tmpfs itself read-only. */
static int fill_dev(int dev, int fds[N_DEV], srt_error *err)
{
	for (size_t i = 0; i < N_DEV; i++) {
		SRT_AUTOCLOSE int node = make_file(dev, dev_nodes[i], 0666, dev_nodes[i], err);
		if (node < 0 || place(fds[i], node, dev_nodes[i], err) < 0)
			return -1;
		close(fds[i]);
		fds[i] = -1;
	}
	static const struct fs_opt pts_opts[] = {{"newinstance", NULL}, {"ptmxmode", "0666"},
						 {"mode", "620"}};
	SRT_AUTOCLOSE int pts = make_dir(dev, "pts", 0755, false, "/dev/pts", err);
	SRT_AUTOCLOSE int shm = pts < 0 ? -1 : make_dir(dev, "shm", 01777, false, "/dev/shm", err);
	SRT_AUTOCLOSE int devpts = shm < 0 ? -1 : new_fs("devpts", pts_opts, 3,
							 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err);
	if (devpts < 0 || place(devpts, pts, "/dev/pts", err) < 0)
		return -1;
	static const char *const links[][2] = {
		{"pts/ptmx", "ptmx"},       {"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
	};
	for (size_t i = 0; i < sizeof links / sizeof *links; i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0)
			return srt_fail_errno(err, SRT_E_SETUP, errno, "symlink /dev/%s", links[i][1]);
	/* the /dev tmpfs itself read-only; the bound nodes, pts and shm keep
	 * their own flags */
	if (sys_mount_setattr(dev, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot make /dev read-only");
	return 0;
}

/* /dev as a tmpfs (see fill_dev).  Returns its descriptor. */
static int build_dev(int fds[N_DEV], srt_error *err)
{
	static const struct fs_opt dev_opts[] = {{"mode", "0755"}, {"size", "64k"}};
	int dev = new_fs("tmpfs", dev_opts, 2, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	if (dev < 0)
		return -1;
	if (place_at(dev, AT_FDCWD, "/dev", "/dev", err) < 0 || fill_dev(dev, fds, err) < 0) {
		close(dev);
		return -1;
	}
	return dev;
}

static bool plan_hides_files(const srt_plan *plan)
{
	for (size_t i = 0; i < plan->n_ops; i++)
		if (plan->ops[i].kind == SRT_OP_HIDE_FILE && !plan->ops[i].skip)
			return true;
	return false;
}

/* The unreadable empty file that hidden files are covered with lives on a
 * scratch tmpfs at /dev/shm while the plan is carried out: each hidden file
 * gets its own clone of it (a clone needs its source attached in this
 * namespace).  Returns the scratch tmpfs's descriptor. */
static int scratch_denied_file(int dev, srt_error *err)
{
	static const struct fs_opt opts[] = {{"mode", "0700"}, {"size", "4k"}};
	int scratch = new_fs("tmpfs", opts, 2, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	if (scratch < 0)
		return -1;
	SRT_AUTOCLOSE int f = make_file(scratch, "denied", 0, "the scratch denied file", err);
	if (f >= 0 && fchmod(f, 0) < 0)
		srt_fail_errno(err, SRT_E_SETUP, errno, "chmod the denied file");
	else if (f >= 0 && place_at(scratch, dev, "shm", "/dev/shm (scratch)", err) == 0)
		return scratch;
	close(scratch);
	return -1;
}

/* Detach the scratch tmpfs (if any), then the private /dev/shm with the
 * sandbox's TMPDIR in it: nothing of it exists on the host and it is gone
 * when the sandbox ends. */
static int build_shm(int dev, int scratch, srt_error *err)
{
	if (scratch >= 0 && umount2("/dev/shm", MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "umount the scratch /dev/shm");
	static const struct fs_opt opts[] = {{"mode", "1777"}};
	SRT_AUTOCLOSE int shm = new_fs("tmpfs", opts, 1, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	if (shm < 0)
		return -1;
	_Static_assert(sizeof SRT_SANDBOX_TMPDIR == sizeof "/dev/shm/tmp", "TMPDIR is /dev/shm/tmp");
	SRT_AUTOCLOSE int tmp = make_dir(shm, "tmp", 0700, false, SRT_SANDBOX_TMPDIR, err);
	if (tmp < 0)
		return -1;
	return place_at(shm, dev, "shm", "/dev/shm", err);
}

/* ---- the plan ------------------------------------------------------ */

/* The op that encloses op i, skipping ops that were skipped. */
static int enclosing(const srt_plan *plan, size_t i)
{
	int p = plan->ops[i].parent;
	while (p >= 0 && plan->ops[p].skip)
		p = plan->ops[p].parent;
	return p;
}

/* Must bind op i's source be cloned from the pristine tree, before it is
 * made read-only?  Not when the tree as it stands at its turn already shows
 * the host's files there with the flags it needs: every bind placed shows
 * the host's subtree at its path (by induction, parents first), so below a
 * bind a clone of the current view is the host's own; a read-only op only
 * adds RDONLY, a writable one needs a writable bind above it (a clone keeps
 * the flags of what it clones, and no flag is ever cleared).  Below a
 * hidden directory the view is our tmpfs: pristine.  So only write roots,
 * writable entries under read-only ones and entries under hidden
 * directories are cloned early: pins and protected paths, however many,
 * are cloned one at a time. */
static bool early_source(const srt_plan *plan, size_t i)
{
	const srt_mount_op *o = &plan->ops[i];
	if (o->kind != SRT_OP_BIND)
		return false;
	if (o->source) /* a private git directory: in the run directory, hidden later */
		return true;
	int p = enclosing(plan, i);
	if (p < 0)
		return o->writable; /* the read-only host tree is all above it */
	return plan->ops[p].kind != SRT_OP_BIND || (o->writable && !plan->ops[p].writable);
}

static __u64 bind_attrs(const srt_mount_op *o)
{
	return o->writable ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV : RO_ATTRS;
}

static int clone_early_sources(const srt_plan *plan, int *clone_fds, srt_error *err)
{
	for (size_t i = 0; i < plan->n_ops; i++) {
		if (plan->ops[i].skip || !early_source(plan, i))
			continue;
		const srt_mount_op *o = &plan->ops[i];
		clone_fds[i] = clone_path(o->source ? o->source : o->path, bind_attrs(o), err);
		if (clone_fds[i] < 0)
			return -1;
	}
	return 0;
}

/* Create the mount point of `child` (below `base`) in the tmpfs `root`,
 * directory by directory, never through a symlink. */
static int make_mountpoint(int root, const char *base, const srt_mount_op *child, srt_error *err)
{
	size_t bl = strlen(base);
	const char *rel = child->path + (bl == 1 ? 1 : bl + 1);
	char comp[256];
	SRT_AUTOCLOSE int dir = fcntl(root, F_DUPFD_CLOEXEC, 0);
	if (dir < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "dup");
	for (;;) {
		size_t n = strcspn(rel, "/");
		if (n == 0 || n >= sizeof comp)
			return srt_fail(err, SRT_E_SETUP, "bad mount point %s", child->path);
		memcpy(comp, rel, n);
		comp[n] = '\0';
		bool last = rel[n] == '\0';
		if (last && !child->is_dir) {
			int f = make_file(dir, comp, 0644, child->path, err);
			if (f < 0)
				return -1;
			close(f);
			return 0;
		}
		/* the intermediate directories may be another child's too */
		int next = make_dir(dir, comp, 0755, !last, child->path, err);
		if (next < 0)
			return -1;
		close(dir);
		dir = next;
		if (last)
			return 0;
		rel += n + 1;
	}
}

/* An empty read-only tmpfs for hidden directory op i, with the mount points
 * of the ops beneath it made while it is detached and still writable. */
static int hidden_dir(const srt_plan *plan, size_t i, srt_error *err)
{
	static const struct fs_opt opts[] = {{"mode", "0555"}, {"size", "64k"}};
	int t = new_fs("tmpfs", opts, 2, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	if (t < 0)
		return -1;
	for (size_t j = i + 1; j < plan->n_ops; j++)
		if (plan->ops[j].parent == (int)i && !plan->ops[j].skip &&
		    make_mountpoint(t, plan->ops[i].path, &plan->ops[j], err) < 0)
			goto fail;
	if (sys_mount_setattr(t, "", AT_EMPTY_PATH, RO_ATTRS, 0) < 0) {
		srt_fail_errno(err, SRT_E_SETUP, errno, "cannot make %s read-only", plan->ops[i].path);
		goto fail;
	}
	return t;
fail:
	close(t);
	return -1;
}

/* A read-only clone of the scratch tmpfs's denied file. */
static int denied_file(int scratch, srt_error *err)
{
	int t = clone_with_attrs(scratch, "denied", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC, RO_ATTRS);
	if (t == -2)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "read-only hidden file");
	if (t < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno, "open_tree(the denied file)");
	return t;
}

static int apply_op(const srt_plan *plan, size_t i, int *clone_fds, int scratch, srt_error *err)
{
	const srt_mount_op *o = &plan->ops[i];
	enum target_kind kind = o->kind == SRT_OP_HIDE_DIR ? T_DIR : o->link_ok ? T_LINK_OK : T_ANY;
	SRT_AUTOCLOSE int target = open_target(AT_FDCWD, o->path, o->path, kind, err);
	if (target < 0)
		return -1;
	SRT_AUTOCLOSE int tree = -1;
	switch (o->kind) {
	case SRT_OP_BIND:
		if (o->fresh_git && clone_fds[i] < 0) /* never the host's own .git, writable */
			return srt_fail(err, SRT_E_SETUP, "%s: no private git directory", o->path);
		/* lazily: the source is the target as it stands now */
		tree = clone_fds[i] >= 0 ? srt_steal_fd(&clone_fds[i])
					 : clone_at(target, bind_attrs(o), o->path, err);
		break;
	case SRT_OP_HIDE_FILE:
		tree = denied_file(scratch, err);
		break;
	case SRT_OP_HIDE_DIR:
		tree = hidden_dir(plan, i, err);
		break;
	default:
		return srt_fail(err, SRT_E_SETUP, "unknown mount op");
	}
	return tree < 0 ? -1 : place(tree, target, o->path, err);
}

int srt_mounts_apply(const srt_plan *plan, int *clone_fds, bool weaker_nested, bool *nested,
		     srt_error *err)
{
	int dev_fds[N_DEV];
	for (size_t i = 0; i < N_DEV; i++)
		dev_fds[i] = -1;
	for (size_t i = 0; i < plan->n_ops; i++)
		clone_fds[i] = -1;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return srt_fail_errno(err, SRT_E_SETUP, errno, "cannot make mounts private");
	if (clone_early_sources(plan, clone_fds, err) < 0 || clone_dev_nodes(dev_fds, err) < 0)
		return -1;
	SRT_AUTOCLOSE int proc = make_proc(weaker_nested, nested, err);
	if (proc < 0)
		return -1;
	/* read-only unless "/" is a writable root: nothing can be stacked on
	 * "/" itself (see srt_plan.base_writable), so the host's tree stays
	 * as it is, and the plan covers what must not be written */
	if (sys_mount_setattr(AT_FDCWD, "/", AT_RECURSIVE,
			      plan->base_writable ? RO_ATTRS & ~MOUNT_ATTR_RDONLY : RO_ATTRS, 0) < 0)
		return srt_fail_errno(err, SRT_E_KERNEL, errno,
				      "cannot make the file system read-only (mount_setattr needs Linux >= 5.12)");
	if (place_proc(proc, err) < 0)
		return -1;
	SRT_AUTOCLOSE int dev = build_dev(dev_fds, err);
	if (dev < 0)
		return -1;
	SRT_AUTOCLOSE int scratch = plan_hides_files(plan) ? scratch_denied_file(dev, err) : -1;
	if (scratch < 0 && plan_hides_files(plan))
		return -1;
	srt_test_hook("before-mount-ops");
	for (size_t i = 0; i < plan->n_ops; i++)
		if (!plan->ops[i].skip && apply_op(plan, i, clone_fds, scratch, err) < 0)
			return -1;
	return build_shm(dev, scratch, err);
}
