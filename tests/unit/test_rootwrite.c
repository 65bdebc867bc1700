/* test_rootwrite.c - allowWrite ["/"] and the host's kernel interfaces:
 * mountinfo parsing, the plan with "/" as a write root and kernel mounts,
 * and the mandatory-deny search skipping directories. */
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

#include "fstree.h"
#include "hostmounts.h"
#include "mandatory.h"
#include "plan.h"

#define RP(p, d) {.path = (char *)(p), .exists = true, .is_dir = (d)}

/* ---- mountinfo ------------------------------------------------------ */

static void test_mountinfo_lines(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		const char *mnt, *type; /* NULL: malformed */
	} cases[] = {
		{"22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n",
		 "/sys", "sysfs"},
		/* no optional fields */
		{"30 22 0:26 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw", "/sys/fs/cgroup",
		 "cgroup2"},
		/* several optional fields; escaped space and backslash */
		{"40 1 0:40 / /mnt/my\\040dir\\134x rw shared:1 master:2 - tmpfs tmpfs rw",
		 "/mnt/my dir\\x", "tmpfs"},
		{"41 1 0:41 / /run/x rw - fuse.sshfs host:/ rw", "/run/x", "fuse.sshfs"},
		{"41 1 0:41 / /run/x rw shared:1", NULL, NULL},   /* no separator */
		{"41 1 0:41 / relative rw - ext4 /dev/x rw", NULL, NULL},
		{"41 1 0:41", NULL, NULL},
		{"", NULL, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char mnt[PATH_MAX], type[64];
		int rc = srt_mountinfo_parse(cases[i].line, mnt, sizeof mnt, type, sizeof type);
		if (!cases[i].mnt) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(mnt, cases[i].mnt);
		assert_string_equal(type, cases[i].type);
	}
	/* a mount point that does not fit is refused, not cut */
	char small[8], type[64];
	assert_int_equal(srt_mountinfo_parse(cases[0].line, small, 4, type, sizeof type), -1);
}

static void test_kernel_fstypes(void **state)
{
	(void)state;
	const char *yes[] = {"proc", "sysfs", "cgroup", "cgroup2", "debugfs", "tracefs", "bpf",
			     "securityfs", "efivarfs", "binfmt_misc", "mqueue", "configfs"};
	const char *no[] = {"ext4", "tmpfs", "overlay", "xfs", "fuse.sshfs", "nfs4", "sysfsx", ""};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		assert_true(srt_fs_is_kernel_interface(yes[i]));
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		assert_false(srt_fs_is_kernel_interface(no[i]));
}

static void test_kernel_mounts_of_this_host(void **state)
{
	(void)state;
	srt_strv v = {0};
	srt_error err = {0};
	assert_int_equal(srt_kernel_mounts(&v, &err), 0);
	assert_true(srt_strv_contains(&v, "/sys"));
	assert_true(srt_strv_contains(&v, "/proc"));
	for (size_t i = 0; i < v.n; i++)
		for (size_t j = i + 1; j < v.n; j++)
			assert_string_not_equal(v.v[i], v.v[j]);
	srt_strv_clear(&v);
}

/* ---- the plan ------------------------------------------------------- */

static const srt_mount_op *find_op(const srt_plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_ops; i++)
		if (strcmp(p->ops[i].path, path) == 0)
			return &p->ops[i];
	return NULL;
}

static void assert_op(const srt_plan *p, const char *path, srt_op_kind k, bool w)
{
	const srt_mount_op *o = find_op(p, path);
	if (!o)
		fail_msg("no op for %s", path);
	assert_int_equal(o->kind, k);
	if (k == SRT_OP_BIND)
		assert_int_equal(o->writable, w);
}

static void test_root_as_write_root(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/", true)};
	srt_resolved_path dr[] = {RP("/home/u/.ssh", true)};
	srt_resolved_path km[] = {RP("/sys", true), RP("/sys/fs/cgroup", true),
				  RP("/run/rpc_pipefs", true), RP("/home/u/.ssh/bpf", true)};
	srt_protected prot[] = {
		{.path = "/.bashrc", .is_dir = false, .exists = false},
		{.path = "/home/u/.bashrc", .is_dir = false, .exists = true},
		{.path = "/home/u/proj/.git/hooks", .is_dir = true, .exists = true},
	};
	srt_resolved_list W = {w, 1}, DR = {dr, 1}, KM = {km, 4};
	srt_protected_list P = {prot, 3};
	srt_plan_input in = {.allow_write = &W, .deny_read = &DR, .kernel_mounts = &KM,
			     .protected_paths = &P};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	assert_true(p.base_writable);
	assert_int_equal(p.write_roots.n, 1);
	assert_string_equal(p.write_roots.v[0], "/");
	/* nothing is stacked on / itself */
	assert_null(find_op(&p, "/"));
	assert_op(&p, "/.bashrc", SRT_OP_BIND, false);
	assert_int_equal(find_op(&p, "/.bashrc")->parent, -1);
	/* pins from / down, writable; protected read-only */
	assert_op(&p, "/home", SRT_OP_BIND, true);
	assert_op(&p, "/home/u", SRT_OP_BIND, true);
	assert_op(&p, "/home/u/.bashrc", SRT_OP_BIND, false);
	assert_op(&p, "/home/u/proj/.git", SRT_OP_BIND, true);
	assert_op(&p, "/home/u/proj/.git/hooks", SRT_OP_BIND, false);
	/* kernel interfaces read-only; beneath one, or in a hidden directory,
	 * nothing more is needed */
	assert_op(&p, "/sys", SRT_OP_BIND, false);
	assert_string_equal(find_op(&p, "/sys")->why, "host kernel interface");
	assert_null(find_op(&p, "/sys/fs/cgroup"));
	assert_op(&p, "/run/rpc_pipefs", SRT_OP_BIND, false);
	assert_op(&p, "/home/u/.ssh", SRT_OP_HIDE_DIR, false);
	assert_null(find_op(&p, "/home/u/.ssh/bpf"));
	/* kernel mounts are no stand-ins: they exist */
	for (size_t i = 0; i < p.n_standins; i++)
		assert_false(srt_path_is_within(p.standins[i].path, "/sys"));
	srt_plan c;
	assert_int_equal(srt_plan_copy(&p, &c, NULL), 0);
	assert_true(c.base_writable);
	srt_plan_clear(&c);
	srt_plan_clear(&p);
}

static void test_kernel_mount_inside_other_write_roots(void **state)
{
	(void)state;
	/* a write root containing a kernel interface, and one inside it */
	srt_resolved_path w[] = {RP("/srv", true), RP("/sys/fs/cgroup/mine", true)};
	srt_resolved_path km[] = {RP("/sys", true), RP("/srv/data/bpf", true)};
	srt_resolved_list W = {w, 2}, KM = {km, 2};
	srt_plan_input in = {.allow_write = &W, .kernel_mounts = &KM};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	assert_false(p.base_writable);
	assert_int_equal(p.write_roots.n, 1);
	assert_string_equal(p.write_roots.v[0], "/srv");
	assert_op(&p, "/srv", SRT_OP_BIND, true);
	assert_op(&p, "/srv/data/bpf", SRT_OP_BIND, false);
	/* the read-only base already covers /sys: no op, none for the entry */
	assert_null(find_op(&p, "/sys"));
	assert_null(find_op(&p, "/sys/fs/cgroup/mine"));
	for (size_t i = 0; i < p.n_ops; i++)
		assert_false(p.ops[i].writable && srt_path_is_within(p.ops[i].path, "/sys"));
	srt_plan_clear(&p);
}

static void test_root_denied_is_not_a_write_root(void **state)
{
	(void)state;
	srt_resolved_path w[] = {RP("/", true), RP("/w", true)};
	srt_resolved_path dw[] = {RP("/", true)};
	srt_resolved_list W = {w, 2}, DW = {dw, 1};
	srt_plan_input in = {.allow_write = &W, .deny_write = &DW};
	srt_plan p;
	assert_int_equal(srt_plan_build(&in, &p, NULL), 0);
	assert_false(p.base_writable);
	assert_int_equal(p.write_roots.n, 0);
	for (size_t i = 0; i < p.n_ops; i++)
		assert_false(p.ops[i].kind == SRT_OP_BIND && p.ops[i].writable);
	srt_plan_clear(&p);
}

/* ---- the search skips directories ----------------------------------- */

static int setup(void **state)
{
	(void)state;
	char t[] = "/tmp/srt-test-rootw-XXXXXX";
	if (!mkdtemp(t) || !realpath(t, base))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(base, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

static bool listed(const srt_protected_list *l, const char *path)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (strcmp(l->v[i].path, path) == 0)
			return true;
	return false;
}

static void test_scan_skips_listed_directories(void **state)
{
	(void)state;
	touch(P("a/.bashrc"));
	touch(P("kern/.bashrc"));
	mkdirs(P("kern/x/.git/hooks"));
	touch(P("a/kern/.zshrc")); /* same name, other place: searched */
	srt_strv skip = {0};
	assert_int_equal(srt_strv_push(&skip, P("kern")), 0);
	assert_int_equal(srt_strv_push(&skip, "/nonexistent"), 0);
	srt_protected_list out = {0};
	srt_error err = {0};
	if (srt_mandatory_scan_skipping(base, 3, &skip, &out, &err) != 0)
		fail_msg("scan: %s", err.message);
	assert_true(listed(&out, P("a/.bashrc")));
	assert_true(listed(&out, P("a/kern/.zshrc")));
	for (size_t i = 0; i < out.n; i++)
		assert_false(srt_path_is_within(out.v[i].path, P("kern")));
	srt_protected_list_clear(&out);
	/* without the list, the same tree is searched there too */
	assert_int_equal(srt_mandatory_scan(base, 3, &out, &err), 0);
	assert_true(listed(&out, P("kern/.bashrc")));
	assert_true(listed(&out, P("kern/x/.git/hooks")));
	srt_protected_list_clear(&out);
	srt_strv_clear(&skip);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo_lines),
		cmocka_unit_test(test_kernel_fstypes),
		cmocka_unit_test(test_kernel_mounts_of_this_host),
		cmocka_unit_test(test_root_as_write_root),
		cmocka_unit_test(test_kernel_mount_inside_other_write_roots),
		cmocka_unit_test(test_root_denied_is_not_a_write_root),
		cmocka_unit_test_setup_teardown(test_scan_skips_listed_directories, setup, teardown),
	};
	return cmocka_run_group_tests_name("rootwrite", tests, NULL, NULL);
}
