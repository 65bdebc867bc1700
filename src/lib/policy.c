/* policy.c - srt_policy_resolve: expand the filesystem settings, search the
 * writable roots for mandatory-deny paths, build the mount plan. */
#include "policy.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostexec.h"
#include "hostmounts.h"
#include "standins.h"
#include "fsgate.h"
#include "upstream.h"
#include "util.h"

static char *home_dir(void)
{
	const char *h = getenv("HOME");
	if (h && h[0] == '/')
		return strdup(h);
	struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_dir ? strdup(pw->pw_dir) : NULL;
}

/* The sandbox has its own /proc and /dev: rules there cannot be honoured. */
static bool in_private_tree(const char *p)
{
	return srt_path_is_within(p, "/proc") || srt_path_is_within(p, "/dev");
}

static int expand_list(srt_policy *pol, const srt_path_list *in,
		       const char *key, srt_resolved_list *out, srt_error *err)
{
	for (size_t i = 0; i < in->n; i++) {
		size_t before = out->n;
		if (srt_path_expand(in->v[i].path, in->v[i].literal, pol->cwd,
				    pol->home, out, &pol->warnings, err) < 0) {
			char msg[sizeof err->message];
			snprintf(msg, sizeof msg, "%s", err->message);
			return srt_fail(err, SRT_E_POLICY, "%s: filesystem.%s[%zu]: %s",
					pol->config_source, key, i, msg);
		}
		/* drop entries the sandbox cannot honour, with a warning */
		for (size_t j = before; j < out->n;) {
			if (!in_private_tree(out->v[j].path)) {
				j++;
				continue;
			}
			if (srt_strv_push_owned(&pol->warnings,
						srt_asprintf("filesystem.%s: %s is inside the sandbox's own /proc or /dev; ignored",
							     key, out->v[j].path)) < 0)
				return srt_fail(err, SRT_E_NOMEM, "out of memory");
			free(out->v[j].path);
			memmove(&out->v[j], &out->v[j + 1], (out->n - j - 1) * sizeof *out->v);
			out->n--;
		}
	}
	return 0;
}

/* A proxy URL whose authority carries credentials ("http://u:p@host"). */
static bool has_userinfo(const char *url)
{
	const char *a = url ? strstr(url, "://") : NULL;
	if (!a)
		return false;
	a += 3;
	size_t n = strcspn(a, "/?#");
	return memchr(a, '@', n) != NULL;
}

/* The settings file in force is hidden (as by denyRead) when its
 * parentProxy carries credentials: srt alone speaks to the parent, and the
 * command, which may read everything else, would read the password there
 * and could send it anywhere it is allowed to reach (red team).  Written
 * elsewhere (the environment's HTTPS_PROXY, which the command's
 * environment does not keep), there is nothing to hide. */
static int hide_parent_credentials(srt_policy *pol, const srt_config *cfg, srt_error *err)
{
	if (!cfg->settings_path || (!has_userinfo(cfg->parent_http) && !has_userinfo(cfg->parent_https)))
		return 0;
	SRT_AUTOFREE char *abs = cfg->settings_path[0] == '/' ? strdup(cfg->settings_path)
							       : srt_path_join(pol->cwd, cfg->settings_path);
	if (!abs)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	if (in_private_tree(abs)) /* /dev/fd/N: the descriptor is not passed on */
		return 0;
	struct stat st;
	if (stat(abs, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return srt_path_expand(abs, true, pol->cwd, pol->home, &pol->deny_read, &pol->warnings, err);
}

/* allowUnixSockets: "~" and relative entries expanded, symlinks resolved
 * now (a link the command makes later is never followed: unixgate.c). */
static int resolve_unix_sockets(srt_policy *pol, const srt_config *cfg, srt_error *err)
{
	for (size_t i = 0; i < cfg->allow_unix_sockets.n; i++) {
		const char *e = cfg->allow_unix_sockets.v[i];
		if (srt_path_expand(e, true, pol->cwd, pol->home, &pol->allow_unix, &pol->warnings,
				    err) < 0) {
			char msg[sizeof err->message];
			snprintf(msg, sizeof msg, "%s", err->message);
			return srt_fail(err, SRT_E_POLICY, "%s: network.allowUnixSockets[%zu]: %s",
					pol->config_source, i, msg);
		}
		const srt_resolved_path *r = &pol->allow_unix.v[pol->allow_unix.n - 1];
		if (!r->exists &&
		    srt_strv_push_owned(&pol->warnings,
					srt_asprintf("network.allowUnixSockets: %s does not exist (yet)",
						     r->path)) < 0)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	return 0;
}

/* A protected name that is a symlink (dotfile managers do this) is pinned
 * itself, and where it points is protected too when that is writable. */
static int protect_symlink_targets(srt_policy *pol, const srt_strv *roots,
				   srt_error *err)
{
	size_t n = pol->protected_paths.n;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		const srt_protected *pr = &pol->protected_paths.v[i];
		if (!pr->exists || lstat(pr->path, &st) < 0 || !S_ISLNK(st.st_mode))
			continue;
		srt_resolved_path t = {0};
		if (srt_path_resolve(pr->path, &t, err) < 0)
			return -1;
		bool inside = false;
		for (size_t r = 0; r < roots->n; r++)
			inside |= srt_path_is_within(t.path, roots->v[r]);
		if (!t.exists || !inside) {
			free(t.path);
			continue;
		}
		srt_protected *v = realloc(pol->protected_paths.v,
					   (pol->protected_paths.n + 1) * sizeof *v);
		if (!v) {
			free(t.path);
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		}
		pol->protected_paths.v = v;
		v[pol->protected_paths.n++] = (srt_protected){.path = t.path, .is_dir = t.is_dir,
							      .exists = true};
	}
	return 0;
}

/* srt's run directory is hidden in every sandbox (plan.c), unless it is
 * not ours (a symlink, someone else's directory): then srt keeps nothing
 * there (standins.c refuses it) and mounting over it could only fail.  A
 * missing one is listed: srt_run_open creates it before the sandbox starts. */
static int add_private_paths(srt_policy *pol, srt_error *err)
{
	SRT_AUTOFREE char *dir = srt_run_dir_path();
	if (!dir)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	struct stat st;
	if (lstat(dir, &st) == 0 && (!S_ISDIR(st.st_mode) || st.st_uid != getuid()))
		return 0;
	srt_resolved_path r = {0};
	if (srt_path_resolve(dir, &r, err) < 0)
		return -1;
	int rc = srt_strv_push_owned(&pol->private_paths, r.path);
	return rc < 0 ? srt_fail(err, SRT_E_NOMEM, "out of memory") : 0;
}

/* The host's kernel interfaces (hostmounts.c): those outside the
 * sandbox's own /proc and /dev go to the plan (read-only wherever a write
 * root contains them); `skip`, for the mandatory-deny search, gets them
 * all and /proc and /dev too.  An allowWrite entry inside one is named in
 * a warning: it stays read-only. */
static int find_kernel_mounts(srt_policy *pol, srt_strv *skip, srt_error *err)
{
	if (srt_kernel_mounts(skip, err) < 0)
		return -1;
	for (size_t i = 0; i < skip->n; i++) {
		if (in_private_tree(skip->v[i]))
			continue;
		srt_resolved_path *v = realloc(pol->kernel_mounts.v,
					       (pol->kernel_mounts.n + 1) * sizeof *v);
		char *copy = v ? strdup(skip->v[i]) : NULL;
		if (v)
			pol->kernel_mounts.v = v;
		if (!copy)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		v[pol->kernel_mounts.n++] = (srt_resolved_path){.path = copy, .exists = true,
								.is_dir = true};
	}
	for (size_t i = 0; i < pol->allow_write.n; i++)
		for (size_t k = 0; k < pol->kernel_mounts.n; k++)
			if (srt_path_is_within(pol->allow_write.v[i].path, pol->kernel_mounts.v[k].path) &&
			    srt_strv_push_owned(&pol->warnings,
						srt_asprintf("allowWrite path %s is a host kernel interface (%s); it stays read-only",
							     pol->allow_write.v[i].path,
							     pol->kernel_mounts.v[k].path)) < 0)
				return srt_fail(err, SRT_E_NOMEM, "out of memory");
	if (srt_strv_push(skip, "/proc") < 0 || srt_strv_push(skip, "/dev") < 0)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	return 0;
}

/* Is `dir` an existing directory strictly beneath one of `roots` (and not
 * one itself), outside the directories the search skips? */
static bool extra_search_root(const char *dir, const srt_strv *roots, const srt_strv *skip)
{
	bool beneath = false;
	for (size_t r = 0; r < roots->n; r++) {
		if (strcmp(dir, roots->v[r]) == 0)
			return false;
		beneath |= srt_path_is_within(dir, roots->v[r]);
	}
	for (size_t k = 0; k < skip->n; k++)
		if (srt_path_is_within(dir, skip->v[k]))
			return false;
	struct stat st;
	return beneath && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Search for mandatory-deny paths: in each writable root, and in the
 * working directory and home when they lie beneath one.  Those two are
 * where the user runs git and shells afterwards, and with a root far above
 * them ("/", "/home") the depth-limited search of the root would reach
 * neither their missing names (.bash_profile, .git/hooks: stand-ins are made
 * only at a search root) nor, deeper than the search depth, their existing
 * ones. */
static int search_roots(srt_policy *pol, const srt_strv *roots, const srt_strv *skip,
			srt_error *err)
{
	for (size_t i = 0; i < roots->n; i++) {
		bool is_dir = false;
		for (size_t j = 0; j < pol->allow_write.n; j++)
			if (strcmp(pol->allow_write.v[j].path, roots->v[i]) == 0)
				is_dir = pol->allow_write.v[j].is_dir;
		if (is_dir && srt_mandatory_scan_skipping(roots->v[i], pol->search_depth, skip,
							  &pol->protected_paths, err) < 0)
			return -1;
	}
	/* resolved: the plan holds paths without symlinks */
	srt_resolved_path dirs[2] = {{0}};
	int rc = 0;
	if (srt_path_resolve(pol->cwd, &dirs[0], err) < 0 ||
	    srt_path_resolve(pol->home, &dirs[1], err) < 0)
		rc = -1;
	for (size_t i = 0; i < 2 && rc == 0; i++)
		if ((i == 0 || strcmp(dirs[0].path, dirs[1].path) != 0) &&
		    extra_search_root(dirs[i].path, roots, skip))
			rc = srt_mandatory_scan_skipping(dirs[i].path, pol->search_depth, skip,
							 &pol->protected_paths, err);
	free(dirs[0].path);
	free(dirs[1].path);
	return rc;
}

/* Everything the plan protects beyond the settings: kernel interfaces and
 * mandatory-deny paths (with the targets of protected symlinks). */
static int find_protected(srt_policy *pol, const srt_config *cfg, const srt_plan_input *in,
			  srt_error *err)
{
	srt_strv skip = {0}, roots = {0};
	int rc = -1;
	if (find_kernel_mounts(pol, &skip, err) < 0)
		goto done;
	if (srt_plan_write_roots(in, &roots) < 0) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		goto done;
	}
	if (pol->fs_disabled) {
		if (srt_hostexec_protect_settings(pol, cfg, &roots, err) < 0)
			goto done;
	} else if (search_roots(pol, &roots, &skip, err) < 0 ||
		   srt_hostexec_protect(pol, cfg, &roots, err) < 0) {
		goto done;
	}
	if (pol->allow_git_config) {
		srt_strv writable = {0};
		srt_mandatory_allow_git_config(&pol->protected_paths, &writable);
		int r = srt_gitwatch_add(&pol->git_watch, &writable, err);
		srt_strv_clear(&writable);
		if (r < 0)
			goto done;
	}
	if (protect_symlink_targets(pol, &roots, err) < 0)
		goto done;
	rc = 0;
done:
	srt_strv_clear(&skip);
	srt_strv_clear(&roots);
	return rc;
}

/* filesystem.disabled: "/" is the one writable root and the four lists
 * are not applied (the reference's semantics).  What srt keeps: its run
 * directory stays hidden (the journals there make a later run of any
 * policy remove files on the host) and the settings files stay read-only
 * (find_protected), the host's kernel interfaces stay read-only mounts,
 * /proc and /dev are the sandbox's own, TMPDIR is private.  README
 * "filesystem.disabled" says what that is worth. */
static int disabled_filesystem(srt_policy *pol, const srt_config *cfg, srt_error *err)
{
	bool lists = cfg->deny_read.n || cfg->allow_read.n || cfg->allow_write.n ||
		     cfg->deny_write.n;
	srt_resolved_path *root = calloc(1, sizeof *root);
	char *warn = srt_asprintf("filesystem.disabled: the filesystem is unrestricted: the command can "
				  "read and write every file you can (shell startup files and .git/hooks "
				  "included)%s; network rules still apply",
				  lists ? "; denyRead, allowRead, allowWrite and denyWrite are ignored" : "");
	if (!root || !(root->path = strdup("/")) ||
	    srt_strv_push_owned(&pol->warnings, warn) < 0) {
		free(root);
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	root->exists = root->is_dir = true;
	pol->allow_write.v = root;
	pol->allow_write.n = 1;
	return 0;
}

/* git.safeDirectories: "~" and relative entries expanded like the
 * filesystem lists' literal entries, symlinks resolved (git compares them
 * with the repository's real top-level path). */
static int resolve_safe_dirs(srt_policy *pol, const srt_config *cfg, srt_error *err)
{
	for (size_t i = 0; i < cfg->git_safe_dirs.n; i++) {
		srt_resolved_list one = {0};
		int rc = srt_path_expand(cfg->git_safe_dirs.v[i], true, pol->cwd, pol->home, &one,
					 &pol->warnings, err);
		if (rc == 0 && one.n == 1 && !srt_strv_contains(&pol->git_safe_dirs, one.v[0].path))
			rc = srt_strv_push(&pol->git_safe_dirs, one.v[0].path) < 0
				     ? srt_fail(err, SRT_E_NOMEM, "out of memory") : 0;
		srt_resolved_list_clear(&one);
		if (rc < 0) {
			char msg[sizeof err->message];
			snprintf(msg, sizeof msg, "%s", err->message);
			return srt_fail(err, err->code, "%s: git.safeDirectories[%zu]: %s",
					pol->config_source, i, msg);
		}
	}
	return 0;
}

/* filesystem.allowGitConfig: the start-up warning names the risk. */
static int warn_git_config(srt_policy *pol)
{
	return srt_strv_push_owned(&pol->warnings,
				   srt_asprintf("filesystem.allowGitConfig: .git/config files are writable: "
						"the command can set core.hooksPath, core.fsmonitor, "
						"core.sshCommand, an alias or a filter there that git run "
						"on the host later executes (.git/hooks stay protected; srt "
						"names such settings the run adds when it ends)"));
}

static int warn_missing_write_roots(srt_policy *pol)
{
	for (size_t i = 0; i < pol->allow_write.n; i++)
		if (!pol->allow_write.v[i].exists &&
		    srt_strv_push_owned(&pol->warnings,
					srt_asprintf("allowWrite path %s does not exist; it is not writable in this run",
						     pol->allow_write.v[i].path)) < 0)
			return -1;
	return 0;
}

static int copy_network(srt_policy *pol, const srt_config *cfg, srt_error *err)
{
	pol->net = srt_netpolicy_new(cfg, err);
	if (!pol->net)
		return -1;
	pol->guard = srt_guard_new(cfg, err);
	if (!pol->guard)
		return -1;
	/* the fallback reads srt's own environment, not the command's */
	if (srt_upstream_new(cfg->parent_http, cfg->parent_https, cfg->parent_no_proxy, environ,
			     &pol->upstream, &pol->warnings, err) < 0)
		return -1;
	pol->byo_http_port = cfg->http_proxy_port;
	pol->byo_socks_port = cfg->socks_proxy_port;
	memcpy(pol->host_ports, cfg->host_ports, sizeof pol->host_ports);
	pol->n_host_ports = cfg->n_host_ports;
	if (cfg->n_ignore_violations) {
		pol->ignore = calloc(cfg->n_ignore_violations, sizeof *pol->ignore);
		if (!pol->ignore)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		for (size_t i = 0; i < cfg->n_ignore_violations; i++) {
			srt_ignore_rule *d = &pol->ignore[pol->n_ignore++];
			d->command = strdup(cfg->ignore_violations[i].command);
			if (!d->command)
				return srt_fail(err, SRT_E_NOMEM, "out of memory");
			for (size_t j = 0; j < cfg->ignore_violations[i].paths.n; j++)
				if (srt_strv_push(&d->paths, cfg->ignore_violations[i].paths.v[j]) < 0)
					return srt_fail(err, SRT_E_NOMEM, "out of memory");
		}
	}
	return 0;
}

/* Linux >= 5.14: SECCOMP_ADDFD_FLAG_SEND, which the gate answers opens with. */
static bool kernel_has_addfd_send(void)
{
	struct utsname u;
	int major = 0, minor = 0;
	return uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	       (major > 5 || (major == 5 && minor >= 14));
}

/* The creation gate runs where the mounts are srt's own (not the
 * no-namespace or nested modes, which enableWeakerNestedSandbox may choose)
 * and no other seccomp listener is needed (allowUnixSockets has one; the
 * kernel allows one per process).  filesystem.disabled protects nothing.
 * allowNestedUserNamespaces: a nested namespace's maps are written by its
 * own processes through /proc, which init cannot do for them (the kernel
 * wants the writer in the namespace or its parent). */
static bool gate_applies(const srt_policy *pol)
{
#ifdef SRT_TEST_HOOKS
	/* test builds: the stand-ins and private git directories the gate
	 * replaces are still what the other modes use; the suite runs them */
	if (getenv("SRT_TEST_NO_FSGATE"))
		return false;
#endif
	return !pol->weaker_nested && pol->allow_unix.n == 0 && !pol->fs_disabled &&
	       !pol->allow_nested_userns && kernel_has_addfd_send();
}

/* Does the gate refuse creating what `p` names (so that no stand-in is
 * needed to keep it from being made)?  A fresh-git root needs none: `git
 * init` there goes through the gate like anywhere. */
static bool gate_covers(const srt_protected *p)
{
	if (p->fresh_git)
		return true;
	const char *slash = strrchr(p->path, '/');
	if (!slash || !slash[1])
		return false;
	char dir[PATH_MAX];
	size_t dl = slash == p->path ? 1 : (size_t)(slash - p->path);
	if (dl >= sizeof dir)
		return false;
	memcpy(dir, p->path, dl);
	dir[dl] = '\0';
	const char *name = slash + 1;
	size_t l = strlen(dir);
	bool gitdir = l >= 5 && strcmp(dir + l - 5, "/.git") == 0;
	/* in a git directory, hooks/ takes samples only */
	if (gitdir && strcmp(name, "hooks") == 0)
		return true;
	const char *rule;
	return srt_fsgate_judge(dir, name, p->is_dir ? SRT_FSG_DIR : SRT_FSG_FILE, SRT_FSG_CREATE,
				gitdir ? SRT_FSG_DIR_GITDIR : 0, &rule) == SRT_FSG_REFUSE;
}

/* With the gate, a protected name that does not exist is the gate's: no
 * stand-in, no pins (issue #12: nothing shows in the user's tree). */
static int drop_gate_covered(srt_protected_list *l, srt_protected_list *covered)
{
	size_t kept = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (!l->v[i].exists && gate_covers(&l->v[i])) {
			srt_protected *v = realloc(covered->v, (covered->n + 1) * sizeof *v);
			if (!v)
				return -1;
			covered->v = v;
			v[covered->n++] = l->v[i];
		} else {
			l->v[kept++] = l->v[i];
		}
	}
	l->n = kept;
	return 0;
}

srt_policy *srt_policy_resolve(const srt_config *cfg,
			       const srt_policy_context *ctx, srt_error *err)
{
	srt_policy *pol = calloc(1, sizeof *pol);
	if (!pol) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	pol->config_source = strdup(cfg->source ? cfg->source : "<defaults>");
	pol->cwd = ctx && ctx->cwd ? strdup(ctx->cwd) : getcwd(NULL, 0);
	pol->home = ctx && ctx->home ? strdup(ctx->home) : home_dir();
	pol->allow_all_unix_sockets = cfg->allow_all_unix_sockets;
	pol->allow_nested_userns = cfg->allow_nested_user_namespaces;
	pol->weaker_nested = cfg->enable_weaker_nested_sandbox;
	pol->search_depth = cfg->mandatory_deny_search_depth ? cfg->mandatory_deny_search_depth
							     : SRT_DEFAULT_SEARCH_DEPTH;
	pol->fs_disabled = cfg->fs_disabled;
	/* nothing of git's is protected under disabled: the warning is its */
	pol->allow_git_config = cfg->allow_git_config && !cfg->fs_disabled;
	pol->strict_allowlist = cfg->strict_allowlist;
	if (!pol->config_source || !pol->cwd || !pol->home) {
		srt_fail_errno(err, SRT_E_POLICY, errno ? errno : ENOMEM,
			       "cannot determine the working directory or home directory");
		goto fail;
	}
	for (size_t i = 0; i < cfg->warnings.n; i++)
		if (srt_strv_push(&pol->warnings, cfg->warnings.v[i]) < 0) {
			srt_fail(err, SRT_E_NOMEM, "out of memory");
			goto fail;
		}
	if (pol->fs_disabled ? disabled_filesystem(pol, cfg, err) < 0
	    : (expand_list(pol, &cfg->deny_read, "denyRead", &pol->deny_read, err) < 0 ||
	       expand_list(pol, &cfg->allow_read, "allowRead", &pol->allow_read, err) < 0 ||
	       expand_list(pol, &cfg->allow_write, "allowWrite", &pol->allow_write, err) < 0 ||
	       expand_list(pol, &cfg->deny_write, "denyWrite", &pol->deny_write, err) < 0))
		goto fail;
	if (!pol->fs_disabled && hide_parent_credentials(pol, cfg, err) < 0)
		goto fail;
	if (resolve_unix_sockets(pol, cfg, err) < 0 || add_private_paths(pol, err) < 0 ||
	    resolve_safe_dirs(pol, cfg, err) < 0)
		goto fail;
	if (warn_missing_write_roots(pol) < 0 || (pol->allow_git_config && warn_git_config(pol) < 0)) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		goto fail;
	}

	srt_plan_input in = {
		.deny_read = &pol->deny_read, .allow_read = &pol->allow_read,
		.allow_write = &pol->allow_write, .deny_write = &pol->deny_write,
		.protected_paths = &pol->protected_paths, .kernel_mounts = &pol->kernel_mounts,
		.private_paths = &pol->private_paths,
	};
	if (find_protected(pol, cfg, &in, err) < 0)
		goto fail;
	pol->fs_gate = gate_applies(pol);
	if (pol->fs_gate && drop_gate_covered(&pol->protected_paths, &pol->gate_covered) < 0) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		goto fail;
	}
	if (srt_plan_build(&in, &pol->plan, err) < 0)
		goto fail;
	if (copy_network(pol, cfg, err) < 0)
		goto fail;
	return pol;
fail:
	srt_policy_free(pol);
	return NULL;
}

size_t srt_policy_warning_count(const srt_policy *pol) { return pol->warnings.n; }

char *srt_policy_git_config_changes(const srt_policy *pol)
{
	return srt_gitwatch_report(&pol->git_watch);
}

const char *srt_policy_warning(const srt_policy *pol, size_t i)
{
	return i < pol->warnings.n ? pol->warnings.v[i] : NULL;
}

static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if (*buf && *len + (size_t)n < *cap) {
			*len += (size_t)n;
			return 0;
		}
		size_t ncap = (*cap + (size_t)n + 1) * 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
}

char *srt_policy_describe(const srt_policy *pol)
{
	char *b = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	rc |= append(&b, &len, &cap, "settings: %s\nworking directory: %s\nhome: %s\n",
		     pol->config_source, pol->cwd, pol->home);
	if (pol->fs_disabled)
		rc |= append(&b, &len, &cap, "filesystem.disabled: no filesystem rules (only srt's own state below is kept)\n");
	rc |= append(&b, &len, &cap, "reads: allowed everywhere except hidden paths below\n");
	rc |= append(&b, &len, &cap, "writable roots (plus the private TMPDIR, /dev/shm, /dev/null...):\n");
	if (pol->plan.write_roots.n == 0)
		rc |= append(&b, &len, &cap, "  (none)\n");
	for (size_t i = 0; i < pol->plan.write_roots.n; i++)
		rc |= append(&b, &len, &cap, "  %s\n", pol->plan.write_roots.v[i]);
	rc |= append(&b, &len, &cap, pol->plan.base_writable
		     ? "mount plan (applied in order over the host's own tree, left writable: \"/\" is a writable root):\n"
		     : "mount plan (applied in order over a read-only view of /):\n");
	for (size_t i = 0; i < pol->plan.n_ops; i++) {
		const srt_mount_op *o = &pol->plan.ops[i];
		const char *what = o->kind == SRT_OP_BIND ? (o->writable ? "writable" : "read-only")
			       : o->kind == SRT_OP_HIDE_DIR ? "hidden (empty directory)"
			       : "hidden (unreadable file)";
		rc |= append(&b, &len, &cap, "  %-26s %s  [%s]\n", what, o->path, o->why);
	}
	/* the plan holds a stand-in for every protected name; one is made only
	 * where nothing is there when the run starts (an existing file is
	 * protected as it is, and listed above) */
	bool heading = false;
	for (size_t i = 0; i < pol->plan.n_standins; i++) {
		struct stat st;
		if (lstat(pol->plan.standins[i].path, &st) == 0)
			continue;
		if (!heading)
			rc |= append(&b, &len, &cap,
				     "stand-ins created on the host while running (removed at exit):\n");
		heading = true;
		rc |= append(&b, &len, &cap, "  %s%s\n", pol->plan.standins[i].path,
			     pol->plan.standins[i].is_dir ? "/" : "");
	}
	rc |= append(&b, &len, &cap, "mandatory deny search depth: %d\n", pol->search_depth);
	rc |= append(&b, &len, &cap, "creation gate: %s\n",
		     pol->fs_gate ? "on (protected names are refused wherever and whenever they are "
				    "made; no stand-ins)"
				  : "off (stand-ins for missing protected names; the gate needs the full "
				    "mode, no allowUnixSockets, no allowNestedUserNamespaces)");
	rc |= append(&b, &len, &cap,
		     "network: own namespace with loopback only; HTTP proxy 127.0.0.1:%d, SOCKS5 127.0.0.1:%d inside\n",
		     SRT_HTTP_PROXY_PORT, SRT_SOCKS_PROXY_PORT);
	if (pol->byo_http_port || pol->byo_socks_port)
		rc |= append(&b, &len, &cap, "  forwarded unfiltered to your own proxy: http -> 127.0.0.1:%d, socks -> 127.0.0.1:%d (0 = srt's filter)\n",
			     pol->byo_http_port, pol->byo_socks_port);
	rc |= append(&b, &len, &cap, "  domain rules: %zu (denied first, then allowed, else denied%s)\n",
		     srt_netpolicy_size(pol->net),
		     pol->strict_allowlist ? "; strictAllowlist: never asked" : "");
	if (pol->upstream) {
		const srt_parent *ph = srt_upstream_parent(pol->upstream, false);
		const srt_parent *pt = srt_upstream_parent(pol->upstream, true);
		rc |= append(&b, &len, &cap, "  allowed destinations reached through the parent proxy: "
			     "plain HTTP via %s, CONNECT/SOCKS via %s; directly: localhost, loopback%s%s\n",
			     ph ? ph->shown : "(none: directly)", pt ? pt->shown : "(none: directly)",
			     srt_upstream_no_proxy(pol->upstream)[0] ? ", noProxy " : "",
			     srt_upstream_no_proxy(pol->upstream));
	}
	for (size_t i = 0; i < pol->n_host_ports; i++)
		rc |= append(&b, &len, &cap, "  localhost:%d inside reaches the host's 127.0.0.1:%d (hostPorts)\n",
			     pol->host_ports[i], pol->host_ports[i]);
	rc |= append(&b, &len, &cap, "unix sockets: %s\n",
		     pol->allow_all_unix_sockets ? "allowed"
		     : pol->allow_unix.n ? "connect(2) only to these (datagram sockets refused):"
					 : "socket(AF_UNIX) refused");
	for (size_t i = 0; !pol->allow_all_unix_sockets && i < pol->allow_unix.n; i++)
		rc |= append(&b, &len, &cap, "  %s\n", pol->allow_unix.v[i].path);
	if (pol->allow_git_config)
		rc |= append(&b, &len, &cap, "git: .git/config files writable (allowGitConfig)\n");
	for (size_t i = 0; i < pol->git_safe_dirs.n; i++)
		rc |= append(&b, &len, &cap, "git: safe.directory %s (and beneath it)\n",
			     pol->git_safe_dirs.v[i]);
	rc |= append(&b, &len, &cap, "nested user namespaces: %s\n",
		     pol->allow_nested_userns ? "allowed" : "refused");
	for (size_t i = 0; i < pol->warnings.n; i++)
		rc |= append(&b, &len, &cap, "warning: %s\n", pol->warnings.v[i]);
	if (rc) {
		free(b);
		return NULL;
	}
	return b;
}

void srt_policy_free(srt_policy *pol)
{
	if (!pol)
		return;
	free(pol->cwd);
	free(pol->home);
	free(pol->config_source);
	srt_resolved_list_clear(&pol->deny_read);
	srt_resolved_list_clear(&pol->allow_read);
	srt_resolved_list_clear(&pol->allow_write);
	srt_resolved_list_clear(&pol->deny_write);
	srt_resolved_list_clear(&pol->allow_unix);
	srt_protected_list_clear(&pol->protected_paths);
	srt_protected_list_clear(&pol->gate_covered);
	srt_strv_clear(&pol->private_paths);
	srt_resolved_list_clear(&pol->kernel_mounts);
	srt_plan_clear(&pol->plan);
	srt_strv_clear(&pol->warnings);
	srt_strv_clear(&pol->git_safe_dirs);
	srt_gitwatch_clear(&pol->git_watch);
	srt_netpolicy_free(pol->net);
	srt_guard_free(pol->guard);
	srt_upstream_free(pol->upstream);
	for (size_t i = 0; i < pol->n_ignore; i++) {
		free(pol->ignore[i].command);
		srt_strv_clear(&pol->ignore[i].paths);
	}
	free(pol->ignore);
	free(pol);
}
