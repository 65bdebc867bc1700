/* sandbox.c - host side of a sandbox: prepare everything, clone init into
 * its namespaces, write its user namespace maps, report how it ended. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "diagnose.h"
#include "fds.h"
#include "ignore.h"
#include "init.h"
#include "landlock.h"
#include "mounts.h"
#include "nons/fsrules.h"
#include "nons/nonsmode.h"
#include "nons/metagate.h"
#include "nons/peers.h"
#include "policy.h"
#include "proxy.h"
#include "unixgate.h"
#include "filter.h"
#include "gitenv.h"
#include "gitfresh.h"
#include "standins.h"
#include "util.h"

extern char **environ;

#define READY_TIMEOUT_MS 30000

struct srt_sandbox {
	srt_run run;
	srt_plan plan;
	int *clone_fds;
	const srt_bpf *bpf;  /* embedded, not owned */
	srt_strv env;
	srt_strv landlock_paths;
	srt_strv init_landlock_paths; /* the creation gate: init's own (plus /proc) */
	pthread_mutex_t violation_lock; /* the callback runs one call at a time */
	int record_fd;                  /* the creation gate's records (init.h) */
	pthread_t record_thread;
	bool record_thread_on;
	srt_strv notes;
	srt_mode mode;               /* known once the command runs */
	int landlock_abi;
	pid_t init_pid;
	int pidfd;
	int status_fd;
	int net_fd;          /* our end of the socket the listeners come over
			      * (and, with allowUnixSockets, the command's
			      * seccomp listener) */
	bool reaped;
	srt_proxy *proxy;
	srt_unixgate *gate;  /* allowUnixSockets, else NULL */
	const srt_policy *pol;
	char *command_text;  /* what ignoreViolations command patterns match */
	srt_violation_fn user_cb;
	void *user_data;
	int pass_fds[SRT_MAX_PASS_FDS]; /* the caller's, checked */
	size_t n_pass_fds;
	/* job control (see srt_spawn_options.job_control) */
	int tty_fd;          /* the caller's controlling terminal, or -1 */
	bool tty_eligible;   /* the command's stdin is that terminal */
	bool may_set_fg;     /* its filter allows TIOCSPGRP: lent at start */
	bool lent;           /* the sandbox has the terminal now */
	pid_t resume_pgrp;   /* the sandbox's foreground group when it stopped */
	dev_t pidns_dev;     /* the sandbox's PID namespace */
	ino_t pidns_ino;
	/* no-namespace mode (nons/nonsmode.h) */
	bool nons;
	char tmpdir[64];     /* the private TMPDIR on the host, or "" */
	int nons_fds[2 + SRT_MAX_HOST_PORTS]; /* the proxies' listeners, made here */
	uint16_t nons_ports[2 + SRT_MAX_HOST_PORTS];
	size_t n_nons_fds;
	uint16_t connect_ports[2 + SRT_MAX_HOST_PORTS]; /* what the command may dial */
	size_t n_connect_ports;
	srt_fsrules fsrules; /* its Landlock rules */
	srt_peer_registry *peers; /* connections the gate made to the proxies */
	srt_metagate *meta;  /* chmod, chown, xattrs, times: beneath the roots only */
};

static const char *const always_writable[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts", "/dev/shm",
};

#define NO_PROXY_LIST "localhost,127.0.0.1,::1,169.254.0.0/16,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"

/* Variables the sandbox sets; the caller's values of these are replaced. */
static bool env_overridden(const char *kv)
{
	static const char *const names[] = {
		"TMPDIR", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
		"ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "GIT_SSH_COMMAND",
		"RSYNC_PROXY", "npm_config_proxy", "npm_config_https_proxy",
		"GRPC_PROXY", "grpc_proxy", "FTP_PROXY", "ftp_proxy", "SRT_SANDBOX",
		"JAVA_TOOL_OPTIONS", "DOCKER_HTTP_PROXY", "DOCKER_HTTPS_PROXY",
		"CLOUDSDK_PROXY_TYPE", "CLOUDSDK_PROXY_ADDRESS", "CLOUDSDK_PROXY_PORT",
		"SANDBOX_RUNTIME", "IS_SANDBOX", "GIT_CONFIG_PARAMETERS",
		"CLAUDE_CODE_HOST_HTTP_PROXY_PORT", "CLAUDE_CODE_HOST_SOCKS_PROXY_PORT",
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		size_t l = strlen(names[i]);
		if (strncmp(kv, names[i], l) == 0 && kv[l] == '=')
			return true;
	}
	return false;
}

/* The caller's value of `name` in src, or NULL. */
static const char *env_get(char *const *src, const char *name)
{
	size_t l = strlen(name);
	for (size_t i = 0; src && src[i]; i++)
		if (strncmp(src[i], name, l) == 0 && src[i][l] == '=')
			return src[i] + l + 1;
	return NULL;
}

/* Does one of `set` ("NAME=value") set the variable of kv? */
static bool env_set_in(const srt_strv *set, const char *kv)
{
	size_t l = strcspn(kv, "=");
	for (size_t i = 0; i < set->n; i++)
		if (strncmp(set->v[i], kv, l) == 0 && set->v[i][l] == '=')
			return true;
	return false;
}

static int build_env(srt_sandbox *sb, const srt_spawn_options *o, srt_error *err)
{
	char *const *src = o->envp ? o->envp : environ;
	const char *java = env_get(src, "JAVA_TOOL_OPTIONS");
	/* git.safeDirectories, numbered on from the caller's GIT_CONFIG_COUNT
	 * (whose own entries below it stay) */
	srt_strv git = {0};
	if (srt_gitenv_safe_dirs(&sb->pol->git_safe_dirs, env_get(src, "GIT_CONFIG_COUNT"), &git,
				 err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && src && src[i]; i++)
		if (!env_overridden(src[i]) && !env_set_in(&git, src[i]))
			rc = srt_strv_push(&sb->env, src[i]);
	for (size_t i = 0; rc == 0 && i < git.n; i++)
		rc = srt_strv_push(&sb->env, git.v[i]);
	srt_strv_clear(&git);
	if (rc < 0)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	char self[4096] = "srt";
	if (o->srt_path)
		snprintf(self, sizeof self, "%s", o->srt_path);
	else {
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		self[n > 0 ? n : 0] = '\0';
	}
	/* no-namespace mode: the listeners are on the host's loopback, on
	 * ports of this run; TMPDIR is a private directory on the host */
	const int hp = sb->nons ? sb->nons_ports[0] : SRT_HTTP_PROXY_PORT;
	const int sp = sb->nons ? sb->nons_ports[1] : SRT_SOCKS_PROXY_PORT;
	char *vars[] = {
		srt_asprintf("TMPDIR=%s", sb->nons ? sb->tmpdir : SRT_SANDBOX_TMPDIR),
		srt_asprintf("SRT_SANDBOX=1"),
		/* what the reference sets, and agents read (the reference's
		 * names: an agent may allow more only inside a sandbox) */
		srt_asprintf("SANDBOX_RUNTIME=1"),
		srt_asprintf("IS_SANDBOX=yes"),
		srt_asprintf("http_proxy=http://127.0.0.1:%d", hp),
		srt_asprintf("HTTP_PROXY=http://127.0.0.1:%d", hp),
		srt_asprintf("https_proxy=http://127.0.0.1:%d", hp),
		srt_asprintf("HTTPS_PROXY=http://127.0.0.1:%d", hp),
		/* as the reference: FTP through SOCKS5 */
		srt_asprintf("ftp_proxy=socks5h://127.0.0.1:%d", sp),
		srt_asprintf("FTP_PROXY=socks5h://127.0.0.1:%d", sp),
		srt_asprintf("grpc_proxy=http://127.0.0.1:%d", hp),
		srt_asprintf("GRPC_PROXY=http://127.0.0.1:%d", hp),
		srt_asprintf("npm_config_proxy=http://127.0.0.1:%d", hp),
		srt_asprintf("npm_config_https_proxy=http://127.0.0.1:%d", hp),
		srt_asprintf("DOCKER_HTTP_PROXY=http://127.0.0.1:%d", hp),
		srt_asprintf("DOCKER_HTTPS_PROXY=http://127.0.0.1:%d", hp),
		srt_asprintf("CLOUDSDK_PROXY_TYPE=http"),
		srt_asprintf("CLOUDSDK_PROXY_ADDRESS=127.0.0.1"),
		srt_asprintf("CLOUDSDK_PROXY_PORT=%d", hp),
		srt_asprintf("RSYNC_PROXY=127.0.0.1:%d", hp),
		/* http://, as the reference: a client that takes ALL_PROXY
		 * (httpx) and lacks SOCKS support fails on socks5h:// */
		srt_asprintf("ALL_PROXY=http://127.0.0.1:%d", hp),
		srt_asprintf("all_proxy=http://127.0.0.1:%d", hp),
		srt_gitenv_parameters(env_get(src, "GIT_CONFIG_PARAMETERS")),
		/* the reference's list: loopback, link-local and the RFC 1918
		 * ranges are never proxied (inside, nothing else is reachable
		 * there anyway) */
		srt_asprintf("NO_PROXY=%s", NO_PROXY_LIST),
		srt_asprintf("no_proxy=%s", NO_PROXY_LIST),
		srt_asprintf("GIT_SSH_COMMAND=ssh -o ProxyCommand='%s --proxy-connect %%h %%p'", self),
		srt_asprintf("JAVA_TOOL_OPTIONS=%s%s-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=%d "
			     "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=%d "
			     "-Dhttp.nonProxyHosts=localhost|127.0.0.1 -DsocksProxyHost=127.0.0.1 "
			     "-DsocksProxyPort=%d",
			     java ? java : "", java ? " " : "", hp, hp, sp),
	};
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
		if (srt_strv_push_owned(&sb->env, vars[i]) < 0)
			rc = -1;
	/* the reference's names for the proxies' ports on the host: only the
	 * no-namespace mode has any (in the full mode the proxies are reached
	 * inside the sandbox's own network namespace, at 3128 and 1080) */
	if (sb->nons &&
	    (srt_strv_push_owned(&sb->env, srt_asprintf("CLAUDE_CODE_HOST_HTTP_PROXY_PORT=%d", hp)) < 0 ||
	     srt_strv_push_owned(&sb->env, srt_asprintf("CLAUDE_CODE_HOST_SOCKS_PROXY_PORT=%d", sp)) < 0))
		rc = -1;
	return rc < 0 ? srt_fail(err, SRT_E_NOMEM, "out of memory") : 0;
}

static int build_landlock_paths(srt_sandbox *sb, srt_error *err)
{
	/* "/" writable: one rule covers every writable bind */
	if (sb->plan.base_writable && srt_strv_push(&sb->landlock_paths, "/") < 0)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	for (size_t i = 0; !sb->plan.base_writable && i < sb->plan.n_ops; i++) {
		const srt_mount_op *o = &sb->plan.ops[i];
		if (o->skip || o->kind != SRT_OP_BIND || !o->writable)
			continue;
		/* beneath a writable bind already (pins): Landlock's walk up the
		 * path crosses mount points, the parent's rule covers it */
		if (o->parent >= 0 && sb->plan.ops[o->parent].kind == SRT_OP_BIND &&
		    sb->plan.ops[o->parent].writable && !sb->plan.ops[o->parent].skip)
			continue;
		if (srt_strv_push(&sb->landlock_paths, o->path) < 0)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < sizeof always_writable / sizeof *always_writable; i++)
		if (srt_strv_push(&sb->landlock_paths, always_writable[i]) < 0)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
	/* allowNestedUserNamespaces: a nested namespace's maps are written
	 * through /proc (uid_map, gid_map, setgroups), which Landlock refused
	 * (it handles writes everywhere).  The sandbox's own /proc shows only
	 * its processes, and its host-global parts (sys, sysrq-trigger, irq,
	 * bus, fs) are read-only mounts (mounts.c); a file reopened through
	 * /proc/self/fd is judged by its own place, not by /proc.  In nested
	 * mode the whole /proc is a read-only mount anyway. */
	if (sb->pol->allow_nested_userns && srt_strv_push(&sb->landlock_paths, "/proc") < 0)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	/* the creation gate: init's domain contains the command's, and /proc,
	 * where init writes the command's maps (fsgate.h) */
	for (size_t i = 0; sb->pol->fs_gate && i < sb->landlock_paths.n; i++)
		if (srt_strv_push(&sb->init_landlock_paths, sb->landlock_paths.v[i]) < 0)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
	if (sb->pol->fs_gate && srt_strv_push(&sb->init_landlock_paths, "/proc") < 0)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	return 0;
}

/* The descriptors the caller names for the command: >= 3 (stdio has its
 * own option), open, not too many. */
static int copy_pass_fds(srt_sandbox *sb, const srt_spawn_options *o, srt_error *err)
{
	if (o->n_pass_fds > SRT_MAX_PASS_FDS)
		return srt_fail(err, SRT_E_INVALID, "at most %d descriptors can be passed, not %zu",
				SRT_MAX_PASS_FDS, o->n_pass_fds);
	if (o->n_pass_fds && !o->pass_fds)
		return srt_fail(err, SRT_E_INVALID, "pass_fds is NULL");
	for (size_t i = 0; i < o->n_pass_fds; i++) {
		int fd = o->pass_fds[i];
		if (fd < 3)
			return srt_fail(err, SRT_E_INVALID,
					"descriptor %d cannot be passed: 0, 1 and 2 are stdio", fd);
		if (fcntl(fd, F_GETFD) < 0)
			return srt_fail_errno(err, SRT_E_INVALID, errno, "descriptor %d to pass", fd);
		sb->pass_fds[sb->n_pass_fds++] = fd;
	}
	return 0;
}

/* A directory (or O_PATH descriptor) given as stdio or passed reaches the
 * command as the sandbox sees it, or as /dev/null (fds.h): say so. */
static int note_directory_fds(srt_sandbox *sb, const srt_spawn_options *o, srt_error *err)
{
	for (size_t i = 0; i < 3 + sb->n_pass_fds; i++) {
		int fd = i < 3 ? (o->stdio[i] >= 0 ? o->stdio[i] : (int)i) : sb->pass_fds[i - 3];
		struct stat st;
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fstat(fd, &st) < 0 ||
		    srt_fd_treatment_for(st.st_mode, fl, false) != SRT_FD_REOPEN_OR_NULL)
			continue;
		char name[32];
		srt_fd_name(i < 3 ? (int)i : fd, name, sizeof name);
		char *note = srt_asprintf("%s is a directory or an O_PATH descriptor: the command "
					  "gets the sandbox's own view of it (the policy applies beneath "
					  "it), or /dev/null where the sandbox hides it", name);
		if (srt_strv_push_owned(&sb->notes, note) < 0)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	return 0;
}

static int write_proc(pid_t pid, const char *file, const char *data, srt_error *err)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, file);
	SRT_AUTOCLOSE int fd = open(p, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(data);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		int e = errno;
		srt_fail_errno(err, SRT_E_KERNEL, e, "cannot write the user namespace map %s", p);
		srt_diagnose_userns_setup(e, err->message, sizeof err->message);
		return -1;
	}
	return 0;
}

/* Outer namespace: root inside maps to the caller (or, for root, identity
 * over the whole range so file owners look right). */
static int write_outer_maps(pid_t pid, srt_error *err)
{
	uid_t u = getuid();
	gid_t g = getgid();
	char um[64], gm[64];
	if (u == 0) {
		snprintf(um, sizeof um, "0 0 4294967295\n");
		snprintf(gm, sizeof gm, "0 0 4294967295\n");
	} else {
		snprintf(um, sizeof um, "0 %u 1\n", (unsigned)u);
		snprintf(gm, sizeof gm, "0 %u 1\n", (unsigned)g);
		if (write_proc(pid, "setgroups", "deny", err) < 0)
			return -1;
	}
	if (write_proc(pid, "uid_map", um, err) < 0 || write_proc(pid, "gid_map", gm, err) < 0)
		return -1;
	return 0;
}

static void inner_maps(srt_init_ctx *c)
{
	uid_t u = getuid();
	gid_t g = getgid();
	if (u == 0) {
		snprintf(c->uid_map, sizeof c->uid_map, "0 0 4294967295\n");
		snprintf(c->gid_map, sizeof c->gid_map, "0 0 4294967295\n");
	} else {
		/* the command sees its real ids; they map to root of the outer
		 * namespace, which is the caller */
		snprintf(c->uid_map, sizeof c->uid_map, "%u 0 1\n", (unsigned)u);
		snprintf(c->gid_map, sizeof c->gid_map, "%u 0 1\n", (unsigned)g);
	}
}

static int read_msg(int fd, srt_msg *m, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -2; /* timed out */
	ssize_t n;
	do
		n = read(fd, m, sizeof *m);
	while (n < 0 && errno == EINTR);
	if (n != sizeof *m)
		return -1;
	m->text[sizeof m->text - 1] = '\0';
	return 0;
}

/* filesystem.allowGitConfig: the command may configure git, so a new
 * repository's config is imported as written (hooks are dropped all the
 * same, and the settings that run programs are named, as for the
 * existing configs it lets the command write).  The one predicate. */
static bool keeps_git_config(const srt_policy *pol)
{
	return pol->allow_git_config;
}

static void reap(srt_sandbox *sb, int *status)
{
	if (sb->reaped || sb->init_pid <= 0)
		return;
	int st = 0;
	while (waitpid(sb->init_pid, &st, __WALL) < 0 && errno == EINTR)
		;
	sb->reaped = true;
	if (status)
		*status = st;
	/* init was the sandbox's PID 1: with it every process of the
	 * sandbox is gone, and nothing can write in its git directories any
	 * more (the notes are the CLI's exit summary) */
	srt_gitfresh_finish(&sb->run, &sb->plan, keeps_git_config(sb->pol), &sb->notes);
}

static int start_proxy(srt_sandbox *sb, srt_error *err);

/* ---- the terminal (job control) --------------------------------------
 *
 * The sandbox is a process group of its own in the caller's session (init
 * and the command: see srt_init_main).  The terminal follows the rules a
 * shell applies to its jobs: srt lends it to the sandbox's group while srt
 * itself would have it (in the foreground), takes it back when the command
 * stops or ends, and never hands it over from the background. */

/* tcgetpgrp answers only on the caller's controlling terminal (ENOTTY on
 * any other file, another terminal included). */
static bool is_ctty(int fd)
{
	return tcgetpgrp(fd) >= 0;
}

/* The caller's controlling terminal, if it has one. */
static int open_ctty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 && !is_ctty(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}


/* Field `n` (1-based, after the command name) of /proc/PID/stat's
 * "pid (comm) state ppid pgrp ..." (state is field 1). */
static long proc_stat_field(int proc, const char *pid, int n)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "%s/stat", pid);
	int fd = openat(proc, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	char *p = strrchr(buf, ')');
	for (int i = 0; p && i < n; i++)
		p = strchr(p + 1, ' ');
	return p ? strtol(p + 1, NULL, 10) : -1;
}

#define MAX_ANCESTORS 64
#define MAX_PROCS_SCANNED 100000

/* Whether every other process of the caller's group is one of its
 * ancestors (a shell script or a launcher waiting for it), rather than a
 * pipeline partner such as the pager of `srt git log | less`, which would
 * lose the terminal if the sandbox got it. */
static bool group_is_ours(void)
{
	int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0)
		return false;
	pid_t anc[MAX_ANCESTORS];
	size_t n_anc = 0;
	char pid[24];
	for (long p = getppid(); p > 1 && n_anc < MAX_ANCESTORS;) {
		anc[n_anc++] = (pid_t)p;
		snprintf(pid, sizeof pid, "%ld", p);
		p = proc_stat_field(proc, pid, 2);
	}
	bool ours = true;
	DIR *d = fdopendir(proc);
	if (!d) {
		close(proc);
		return false;
	}
	pid_t self = getpid(), grp = getpgrp();
	struct dirent *e;
	for (size_t k = 0; ours && k < MAX_PROCS_SCANNED && (e = readdir(d)); k++) {
		char *end;
		long p = strtol(e->d_name, &end, 10);
		if (*end || p <= 0 || p == self || proc_stat_field(dirfd(d), e->d_name, 3) != grp)
			continue;
		bool ancestor = false;
		for (size_t i = 0; i < n_anc; i++)
			ancestor |= anc[i] == p;
		ours = ancestor;
	}
	closedir(d);
	return ours;
}

/* Whether process group `pg` lives in the sandbox (its leader is in the
 * sandbox's PID namespace). */
static bool pgrp_in_sandbox(const srt_sandbox *sb, pid_t pg)
{
	if (pg <= 0)
		return false;
	if (sb->nons) {
		/* no PID namespace: the group's leader must descend from init */
		int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (proc < 0)
			return false;
		char pid[24];
		long p = pg;
		for (int i = 0; i < MAX_ANCESTORS && p > 1 && p != sb->init_pid; i++) {
			snprintf(pid, sizeof pid, "%ld", p);
			p = proc_stat_field(proc, pid, 2);
		}
		close(proc);
		return p == sb->init_pid;
	}
	char p[64];
	struct stat st;
	snprintf(p, sizeof p, "/proc/%d/ns/pid", (int)pg);
	return stat(p, &st) == 0 && st.st_dev == sb->pidns_dev && st.st_ino == sb->pidns_ino;
}

/* tcsetpgrp from what may be a background group: SIGTTOU would stop us. */
static int set_fg(int tty, pid_t pg)
{
	sigset_t ttou, old;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	pthread_sigmask(SIG_BLOCK, &ttou, &old);
	int rc = tcsetpgrp(tty, pg);
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return rc;
}

static bool caller_in_foreground(const srt_sandbox *sb)
{
	return sb->tty_fd >= 0 && tcgetpgrp(sb->tty_fd) == getpgrp();
}

/* Lend the terminal to the sandbox if srt could use it itself now. */
static void lend_terminal(srt_sandbox *sb, pid_t pg, bool group_checked)
{
	if (sb->lent || !sb->tty_eligible || !caller_in_foreground(sb) ||
	    !(group_checked || group_is_ours()))
		return;
	if (set_fg(sb->tty_fd, pg > 0 && pgrp_in_sandbox(sb, pg) ? pg : sb->init_pid) == 0)
		sb->lent = true;
}

/* Take it back, unless someone outside (the user's shell, after srt was
 * stopped by force) holds it now; remember which of the sandbox's groups
 * had it. */
static void take_terminal_back(srt_sandbox *sb)
{
	if (!sb->lent)
		return;
	sb->lent = false;
	pid_t fg = tcgetpgrp(sb->tty_fd);
	sb->resume_pgrp = pgrp_in_sandbox(sb, fg) ? fg : 0;
	char p[64];
	snprintf(p, sizeof p, "/proc/%d", (int)fg);
	if (fg == sb->init_pid || sb->resume_pgrp || (fg > 0 && access(p, F_OK) < 0))
		(void)set_fg(sb->tty_fd, getpgrp());
}

static void *record_reader(void *arg);

static int start_init(srt_sandbox *sb, const srt_policy *pol,
		      const srt_spawn_options *o, srt_error *err)
{
	int st_p[2] = {-1, -1}, go_p[2] = {-1, -1}, net_p[2] = {-1, -1}, rec_p[2] = {-1, -1};
	bool fs_gate = pol->fs_gate && !sb->nons;
	if (pipe2(st_p, O_CLOEXEC) < 0 || pipe2(go_p, O_CLOEXEC) < 0 ||
	    (fs_gate && pipe2(rec_p, O_CLOEXEC) < 0) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, net_p) < 0) {
		srt_fail_errno(err, SRT_E_SYSTEM, errno, "pipe");
		goto fail;
	}
	srt_init_ctx ctx = {
		.plan = &sb->plan,
		.clone_fds = sb->clone_fds,
		.cwd = o->cwd ? o->cwd : pol->cwd,
		.argv = o->argv,
		.envp = sb->env.v,
		.stdio = {o->stdio[0], o->stdio[1], o->stdio[2]},
		.bpf = sb->bpf,
		.landlock_abi = sb->landlock_abi,
		.landlock_paths = (const char *const *)sb->landlock_paths.v,
		.n_landlock_paths = sb->landlock_paths.n,
		.last_cap = srt_caps_last(),
		.allow_nested_userns = pol->allow_nested_userns,
		.weaker_nested = pol->weaker_nested,
		.allow_unix_sockets = pol->allow_all_unix_sockets,
		.mediate_unix = sb->gate != NULL,
		.allow_set_foreground = sb->may_set_fg,
		.report_stops = o->job_control,
		.fs_gate = fs_gate,
		.record_fd = rec_p[1],
		.gate_bpf = &srt_seccomp_fsgate_program,
		.gate_git_config_ok = pol->allow_git_config,
		.init_landlock_paths = (const char *const *)sb->init_landlock_paths.v,
		.n_init_landlock_paths = sb->init_landlock_paths.n,
		.status_fd = st_p[1],
		.go_fd = go_p[0],
		.net_fd = net_p[1],
		.host_ports = pol->host_ports,
		.n_host_ports = pol->n_host_ports,
		.pass_fds = sb->pass_fds,
		.n_pass_fds = sb->n_pass_fds,
		.no_namespaces = sb->nons,
		.fsrules = &sb->fsrules,
		.connect_ports = sb->connect_ports,
		.n_connect_ports = sb->n_connect_ports,
	};
	inner_maps(&ctx);
	unsigned long nsflags = sb->nons ? 0 : CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
						    CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWCGROUP;
	long pid = syscall(SYS_clone, nsflags | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0) {
		int e = errno;
		srt_fail_errno(err, SRT_E_KERNEL, e, "cannot create the sandbox's namespaces");
		srt_diagnose_userns(e, err->message, sizeof err->message);
		srt_nons_hint(srt_landlock_abi(), err->message, sizeof err->message);
		goto fail;
	}
	if (pid == 0) {
		close(st_p[0]);
		close(go_p[1]);
		close(net_p[0]);
		if (rec_p[0] >= 0)
			close(rec_p[0]);
		srt_init_main(&ctx);
	}
	if (rec_p[1] >= 0)
		close(rec_p[1]);
	rec_p[1] = -1;
	if (rec_p[0] >= 0) {
		sb->record_fd = rec_p[0];
		rec_p[0] = -1;
		sb->record_thread_on = pthread_create(&sb->record_thread, NULL, record_reader, sb) == 0;
	}
	sb->init_pid = (pid_t)pid;
	/* its own process group (init does it too: no race) */
	(void)setpgid(sb->init_pid, sb->init_pid);
	close(st_p[1]);
	close(go_p[0]);
	close(net_p[1]);
	st_p[1] = go_p[0] = net_p[1] = -1;
	sb->net_fd = net_p[0];
	net_p[0] = -1;
	sb->status_fd = st_p[0];
	st_p[0] = -1;
	sb->pidfd = (int)syscall(SYS_pidfd_open, sb->init_pid, 0);
	if (sb->pidfd < 0) {
		srt_fail_errno(err, SRT_E_KERNEL, errno, "pidfd_open (needs Linux >= 5.3)");
		goto fail;
	}
	if (!sb->nons && write_outer_maps(sb->init_pid, err) < 0)
		goto fail;
	/* the command may connect as soon as it runs: serve the listeners
	 * made here before it starts */
	if (sb->nons && start_proxy(sb, err) < 0)
		goto fail;
	if (sb->may_set_fg) {
		/* before the command runs, so it never starts in the background
		 * of its own terminal */
		char ns[64];
		struct stat st;
		snprintf(ns, sizeof ns, "/proc/%d/ns/pid", (int)sb->init_pid);
		if (stat(ns, &st) == 0) {
			sb->pidns_dev = st.st_dev;
			sb->pidns_ino = st.st_ino;
		}
		lend_terminal(sb, sb->init_pid, true);
		if (!sb->lent) {
			srt_fail_errno(err, SRT_E_SYSTEM, errno, "cannot give the terminal to the sandbox");
			goto fail;
		}
	}
	if (write(go_p[1], "g", 1) != 1) {
		srt_fail_errno(err, SRT_E_SYSTEM, errno, "cannot start the sandbox");
		goto fail;
	}
	close(go_p[1]);
	go_p[1] = -1;

	/* Init sends the proxies' listeners early (before it starts the
	 * command): start serving them while the command is being set up. */
	struct pollfd pf[2] = {{.fd = sb->net_fd, .events = POLLIN},
			       {.fd = sb->status_fd, .events = POLLIN}};
	int pr;
	do
		pr = poll(pf, 2, READY_TIMEOUT_MS);
	while (pr < 0 && errno == EINTR);
	if (pr > 0 && (pf[0].revents & POLLIN) && !(pf[1].revents & (POLLIN | POLLHUP)) &&
	    start_proxy(sb, err) < 0)
		goto fail;

	srt_msg m;
	int r = read_msg(sb->status_fd, &m, READY_TIMEOUT_MS);
	if (r == 0 && m.type == SRT_MSG_READY && !sb->proxy && start_proxy(sb, err) < 0)
		goto fail;
	if (r == 0 && m.type == SRT_MSG_READY) {
		sb->mode = sb->nons ? SRT_MODE_NO_NAMESPACES
			   : (m.value & SRT_READY_NESTED) ? SRT_MODE_NESTED : SRT_MODE_FULL;
		return 0;
	}
	if (r == 0 && m.type == SRT_MSG_ERROR) {
		err->code = (srt_status)m.code;
		err->sys_errno = m.sys_errno;
		snprintf(err->message, sizeof err->message, "%s", m.text);
		int e = m.sys_errno;
		if ((e == EPERM || e == EACCES) && srt_apparmor_restricts_userns()) {
			/* Ubuntu's restriction: every step in the namespace fails,
			 * and the step's own explanation (a container's /proc...)
			 * would mislead */
			snprintf(err->message, sizeof err->message,
				 "the sandbox's set-up was refused inside its user namespace: %s",
				 strerror(e));
			srt_diagnose_userns_setup(e, err->message, sizeof err->message);
			srt_nons_hint(srt_landlock_abi(), err->message, sizeof err->message);
		} else if (e == EPERM || e == EACCES || e == ENOSPC) {
			srt_diagnose_userns_setup(e, err->message, sizeof err->message);
		}
	} else if (r == -2) {
		srt_fail(err, SRT_E_SETUP, "the sandbox did not start within %d s", READY_TIMEOUT_MS / 1000);
	} else {
		srt_fail(err, SRT_E_SETUP, "the sandbox's init ended during set-up");
	}
fail:
	if (sb->init_pid > 0 && !sb->reaped) {
		if (sb->nons)
			srt_nons_kill_tree(sb->init_pid);
		kill(sb->init_pid, SIGKILL);
		reap(sb, NULL);
	}
	for (int i = 0; i < 2; i++) {
		if (st_p[i] >= 0)
			close(st_p[i]);
		if (go_p[i] >= 0)
			close(go_p[i]);
		if (net_p[i] >= 0)
			close(net_p[i]);
		if (rec_p[i] >= 0)
			close(rec_p[i]);
	}
	return -1;
}

/* The listening sockets init made inside the sandbox's network namespace:
 * 3128, 1080, then one per hostPorts entry. */
_Static_assert(2 + SRT_MAX_HOST_PORTS <= SRT_MAX_PASSED_FDS, "listeners fit in one message");

static int receive_listeners(srt_sandbox *sb, int *fds, size_t want, srt_error *err)
{
	int got = srt_recv_fds(sb->net_fd, fds, want);
	if (got < 0)
		return srt_fail(err, SRT_E_SETUP, "did not receive the proxy sockets from the sandbox");
	if ((size_t)got != want) {
		for (int i = 0; i < got; i++)
			close(fds[i]);
		return srt_fail(err, SRT_E_SETUP, "received %d proxy sockets instead of %zu", got, want);
	}
	if (!sb->gate) { /* else the proxy takes it over for the seccomp listener */
		close(sb->net_fd);
		sb->net_fd = -1;
	}
	return 0;
}

static void on_violation(const srt_violation *v, void *data)
{
	srt_sandbox *sb = data;
	if (sb->pol->n_ignore) {
		/* out of memory: reported rather than lost */
		SRT_AUTOFREE char *line = srt_violation_line(v);
		if (srt_ignore_matches(sb->pol->ignore, sb->pol->n_ignore, sb->command_text, line))
			return;
	}
	if (sb->user_cb) {
		pthread_mutex_lock(&sb->violation_lock);
		sb->user_cb(v, sb->user_data);
		pthread_mutex_unlock(&sb->violation_lock);
	}
}

/* A record of the creation gate (SRT_MSG_VIOLATION, fsgate.h): NUL-separated
 * strings from init; what they name came from the command. */
static void gate_violation(srt_sandbox *sb, const srt_msg *m)
{
	const char *f[5];
	size_t at = 0;
	for (int i = 0; i < 5; i++) {
		f[i] = at < sizeof m->text ? m->text + at : "";
		at += strnlen(f[i], sizeof m->text - (at < sizeof m->text ? at : sizeof m->text)) + 1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	srt_violation v = {
		.kind = "filesystem",
		.rule = f[3][0] ? f[3] : NULL,
		.reason = strerror(m->code),
		.time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9,
	};
	v.op = f[0];
	v.path = f[1];
	v.resolved = f[2][0] ? f[2] : NULL;
	v.pid = m->value;
	v.comm = f[4];
	on_violation(&v, sb);
}

/* The creation gate's records, on a thread of their own (the callback
 * runs one call at a time with the proxy's: violation_lock), until init and
 * every process of the sandbox have closed the pipe. */
static void *record_reader(void *arg)
{
	srt_sandbox *sb = arg;
	for (;;) {
		srt_msg m;
		ssize_t n = read(sb->record_fd, &m, sizeof m);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof m)
			return NULL;
		m.text[sizeof m.text - 1] = '\0';
		if (m.type == SRT_MSG_VIOLATION)
			gate_violation(sb, &m);
	}
}

static void join_record_reader(srt_sandbox *sb)
{
	if (!sb->record_thread_on)
		return;
	pthread_join(sb->record_thread, NULL);
	sb->record_thread_on = false;
}

/* The gate could not send every record (its channel was full): say how
 * many, never lose them silently. */
static void gate_dropped(srt_sandbox *sb, int32_t n)
{
	if (n <= 0)
		return;
	char why[128];
	snprintf(why, sizeof why, "%d more refusals were not recorded (the record channel was full)",
		 (int)n);
	srt_violation v = {.kind = "filesystem", .reason = why};
	v.op = "dropped";
	v.path = "";
	on_violation(&v, sb);
}

/* The gate identifies the listed sockets now; one that is not there is
 * refused for the run, and the user is told why. */
static srt_unixgate *new_gate(srt_sandbox *sb, srt_error *err)
{
	const srt_policy *pol = sb->pol;
	const char *paths[pol->allow_unix.n];
	for (size_t i = 0; i < pol->allow_unix.n; i++)
		paths[i] = pol->allow_unix.v[i].path;
	srt_unixgate *g = srt_unixgate_new(paths, pol->allow_unix.n, err);
	for (size_t i = 0; g && i < pol->allow_unix.n; i++) {
		if (srt_unixgate_identified(g, i))
			continue;
		char *note = srt_asprintf("network.allowUnixSockets: %s is not a socket at start: "
					  "connects to it are refused for this run",
					  paths[i]);
		if (srt_strv_push_owned(&sb->notes, note) < 0) {
			srt_unixgate_free(g);
			srt_fail(err, SRT_E_NOMEM, "out of memory");
			return NULL;
		}
	}
	return g;
}

static int start_proxy(srt_sandbox *sb, srt_error *err)
{
	int fds[2 + SRT_MAX_HOST_PORTS];
	/* no-namespace mode: hostPorts are dialled directly (the gate lets
	 * the command connect to them), only the two proxies listen */
	size_t n = sb->nons ? 2 : 2 + sb->pol->n_host_ports;
	if (sb->nons) {
		for (size_t i = 0; i < n; i++)
			fds[i] = srt_steal_fd(&sb->nons_fds[i]);
	} else if (receive_listeners(sb, fds, n, err) < 0) {
		return -1;
	}
	srt_listener ls[2 + SRT_MAX_HOST_PORTS];
	ls[0] = (srt_listener){fds[0], SRT_LISTEN_HTTP, sb->pol->byo_http_port};
	ls[1] = (srt_listener){fds[1], SRT_LISTEN_SOCKS, sb->pol->byo_socks_port};
	for (size_t i = 2; i < n; i++)
		ls[i] = (srt_listener){fds[i], SRT_LISTEN_HTTP, sb->pol->host_ports[i - 2]};
	srt_proxy_options po = {
		.policy = sb->pol->net,
		.guard = sb->pol->guard,
		.listeners = ls,
		.n_listeners = n,
		.on_violation = on_violation,
		.violation_data = sb,
		.gate = sb->gate,
		.gate_chan_fd = sb->gate ? sb->net_fd : -1,
		.authorized = sb->peers,
		.upstream = sb->pol->upstream,
	};
#ifdef SRT_TEST_HOOKS
	/* e2e tests of the inactivity timeout take seconds, not minutes */
	const char *rt = getenv("SRT_TEST_PROXY_TIMEOUT_MS");
	if (rt)
		po.response_timeout_ms = (unsigned)strtoul(rt, NULL, 10);
#endif
	if (sb->gate)
		sb->net_fd = -1; /* the proxy's now, whatever happens */
	sb->proxy = srt_proxy_start(&po, err);
	if (!sb->proxy) {
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		return -1;
	}
	return 0;
}

/* The metadata gate: the writable roots and the private TMPDIR. */
static srt_metagate *new_metagate(const srt_sandbox *sb, srt_error *err)
{
	const srt_strv *w = &sb->pol->plan.write_roots;
	const char **roots = calloc(w->n + 1, sizeof *roots);
	if (!roots) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < w->n; i++)
		roots[i] = w->v[i];
	roots[w->n] = sb->tmpdir;
	srt_metagate *mg = srt_metagate_new(roots, w->n + 1, err);
	free(roots);
	return mg;
}

/* The gate's hook for the metadata calls (nons/metagate.h). */
static int meta_call(void *data, int notify_fd, const struct seccomp_notif *n,
		     struct seccomp_notif_resp *resp)
{
	return srt_metagate_handle(data, notify_fd, n, resp) ? 0 : -1;
}

/* No user namespace here (`why`): set up the no-namespace mode, or say
 * why it cannot run. */
static int prepare_nons(srt_sandbox *sb, const char *why, srt_error *err)
{
	const srt_policy *pol = sb->pol;
	int abi = srt_landlock_abi();
	srt_strv refuse = {0}, unheld = {0};
	int rc = -1;
	if (srt_nons_requirements(abi, err) < 0 ||
	    srt_fsrules_conflicts(pol, &refuse, &unheld, err) < 0)
		goto out;
	if (refuse.n) {
		/* what the user asked for and Landlock cannot hold: refuse */
		srt_fail(err, SRT_E_POLICY, "%s", refuse.v[0]);
		goto out;
	}
	if (srt_nons_tmpdir(sb->tmpdir, sizeof sb->tmpdir, err) < 0) {
		sb->tmpdir[0] = '\0';
		goto out;
	}
	if (srt_nons_listeners(sb->nons_fds, sb->nons_ports, 2, err) < 0)
		goto out;
	sb->n_nons_fds = 2;
	sb->nons = true;
	sb->connect_ports[sb->n_connect_ports++] = sb->nons_ports[0];
	sb->connect_ports[sb->n_connect_ports++] = sb->nons_ports[1];
	for (size_t i = 0; i < pol->n_host_ports && i < SRT_MAX_HOST_PORTS; i++)
		sb->connect_ports[sb->n_connect_ports++] = (uint16_t)pol->host_ports[i];
	if (srt_fsrules_build(pol, sb->tmpdir, abi, &sb->fsrules, err) < 0 ||
	    !(sb->meta = new_metagate(sb, err)) || !(sb->peers = srt_peers_new(0, 0))) {
		if (!err->message[0])
			srt_fail(err, SRT_E_NOMEM, "out of memory");
		goto out;
	}
	char *note = srt_asprintf("%s: %s%s%s%s", why, srt_nons_weaker,
				  unheld.n ? "; not held here: " : "", unheld.n ? unheld.v[0] : "",
				  unheld.n > 1 ? " (and more, see --debug)" : "");
	if (srt_strv_push_owned(&sb->notes, note) < 0) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		char reason[sizeof err->message];
		snprintf(reason, sizeof reason, "%s", err->message);
		srt_fail(err, err->code, "%s; the no-namespace mode cannot run: %s", why, reason);
	}
	srt_strv_clear(&refuse);
	srt_strv_clear(&unheld);
	return rc;
}

srt_sandbox *srt_sandbox_spawn(const srt_policy *pol, const srt_spawn_options *o,
			       srt_error *err)
{
	if (!pol || !o || !o->argv || !o->argv[0]) {
		srt_fail(err, SRT_E_INVALID, "no command given");
		return NULL;
	}
	srt_sandbox *sb = calloc(1, sizeof *sb);
	if (!sb) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	sb->pidfd = sb->status_fd = sb->net_fd = sb->tty_fd = sb->record_fd = -1;
	pthread_mutex_init(&sb->violation_lock, NULL);
	sb->pol = pol;
	sb->user_cb = o->on_violation;
	sb->user_data = o->violation_data;
	sb->run.journal_fd = sb->run.dir_fd = -1;
	sb->command_text = o->command_text ? strdup(o->command_text) : srt_shell_quote(o->argv);
	if (!sb->command_text) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		goto fail;
	}
	bool mediate = pol->allow_unix.n > 0 && !pol->allow_all_unix_sockets;
	sb->tty_fd = o->job_control ? open_ctty() : -1;
	if (sb->tty_fd >= 0) {
		sb->tty_eligible = is_ctty(o->stdio[0] >= 0 ? o->stdio[0] : 0);
		/* lent at start (set-up fails otherwise): the filter lets the
		 * command manage its jobs' foreground itself */
		sb->may_set_fg = sb->tty_eligible && caller_in_foreground(sb) && group_is_ours();
	}
	/* With the key, where no user namespace can be used: the no-namespace
	 * mode.  Without it, start_init fails and says what would run. */
	char why[512];
	if ((pol->weaker_nested || srt_nons_forced()) && !srt_nons_userns_usable(why, sizeof why)) {
		if (!pol->weaker_nested) { /* as start_init would find it */
			srt_fail(err, SRT_E_KERNEL, "cannot create the sandbox's namespaces: %s", why);
			srt_nons_hint(srt_landlock_abi(), err->message, sizeof err->message);
			goto fail;
		}
		if (prepare_nons(sb, why, err) < 0)
			goto fail;
	}
	/* the AF_UNIX rules as in the full mode; in the no-namespace mode
	 * every connect goes through srt's gate */
	srt_seccomp_options so = {.allow_unix_sockets = pol->allow_all_unix_sockets,
				  .allow_nested_userns = pol->allow_nested_userns,
				  .mediate_unix = mediate,
				  .allow_set_foreground = sb->may_set_fg,
				  .no_namespaces = sb->nons};
	if ((mediate || sb->nons) && !(sb->gate = new_gate(sb, err)))
		goto fail;
	if (sb->nons) {
		srt_unixgate_nons gn = {.ports = sb->connect_ports, .n_ports = sb->n_connect_ports,
					.allow_all_unix = pol->allow_all_unix_sockets,
					.authorize = srt_peers_authorize, .authorize_data = sb->peers,
					.meta = meta_call, .meta_data = sb->meta};
		if (srt_unixgate_set_nons(sb->gate, &gn, err) < 0)
			goto fail;
	}
	/* the mount plan, stand-ins and their Landlock paths: not without
	 * namespaces (its Landlock rules are sb->fsrules) */
	if (copy_pass_fds(sb, o, err) < 0 || note_directory_fds(sb, o, err) < 0 ||
	    (!sb->nons && (srt_plan_copy(&pol->plan, &sb->plan, err) < 0 ||
			   srt_run_open(&sb->run, &sb->plan, err) < 0 ||
			   srt_run_create_standins(&sb->run, &sb->plan, &sb->notes, err) < 0 ||
			   srt_gitfresh_prepare(&sb->run, &sb->plan, err) < 0 ||
			   build_landlock_paths(sb, err) < 0)) ||
	    !(sb->bpf = srt_seccomp_program(&so)) || build_env(sb, o, err) < 0)
		goto fail;
	sb->landlock_abi = srt_landlock_abi();
	if (sb->landlock_abi == 0 &&
	    srt_strv_push(&sb->notes, "Landlock is not available on this kernel: writes are limited by "
				      "the mounts alone (enable CONFIG_SECURITY_LANDLOCK and lsm=landlock)") < 0) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		goto fail;
	}
	sb->clone_fds = calloc(sb->plan.n_ops + 1, sizeof *sb->clone_fds);
	if (!sb->clone_fds) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		goto fail;
	}
	if (start_init(sb, pol, o, err) < 0)
		goto fail;
	return sb;
fail:
	srt_sandbox_destroy(sb);
	return NULL;
}

int srt_sandbox_fd(const srt_sandbox *sb) { return sb->status_fd; }

size_t srt_sandbox_note_count(const srt_sandbox *sb) { return sb->notes.n; }

srt_mode srt_sandbox_mode(const srt_sandbox *sb) { return sb->mode; }

const char *srt_sandbox_note(const srt_sandbox *sb, size_t i)
{
	return i < sb->notes.n ? sb->notes.v[i] : NULL;
}

const char *srt_sandbox_tmpdir(const srt_sandbox *sb)
{
	(void)sb;
	return SRT_SANDBOX_TMPDIR;
}

int srt_sandbox_update_network(srt_sandbox *sb, const srt_config *cfg, srt_error *err)
{
	if (!sb->proxy)
		return srt_fail(err, SRT_E_INVALID, "the sandbox has no proxy running");
	srt_netpolicy *np = srt_netpolicy_new(cfg, err);
	if (!np)
		return -1;
	srt_guard *g = srt_guard_new(cfg, err);
	if (!g) {
		srt_netpolicy_free(np);
		return -1;
	}
	if (srt_proxy_update(sb->proxy, np, g) < 0)
		return srt_fail(err, SRT_E_SYSTEM, "cannot reach the proxy thread");
	return 0;
}

int srt_sandbox_signal(srt_sandbox *sb, int sig, srt_error *err)
{
	if (sb->reaped)
		return 0;
	if (syscall(SYS_pidfd_send_signal, sb->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
		return srt_fail_errno(err, SRT_E_SYSTEM, errno, "cannot forward signal %d", sig);
	return 0;
}

int srt_sandbox_continue(srt_sandbox *sb, srt_error *err)
{
	if (sb->reaped)
		return 1;
	if (!sb->lent && sb->tty_fd >= 0) {
		lend_terminal(sb, sb->resume_pgrp, false);
		/* it had the terminal and may set its foreground group: it runs
		 * in the foreground only, or it could take the terminal from
		 * whatever the user runs next */
		if (!sb->lent && sb->may_set_fg)
			return 0;
	}
	/* the whole group, as a shell's fg/bg does, and the command, wherever
	 * it went (through init, as every signal) */
	(void)kill(-sb->init_pid, SIGCONT);
	if (sb->resume_pgrp > 0 && sb->resume_pgrp != sb->init_pid && pgrp_in_sandbox(sb, sb->resume_pgrp))
		(void)kill(-sb->resume_pgrp, SIGCONT);
	return srt_sandbox_signal(sb, SIGCONT, err) < 0 ? -1 : 1;
}

int srt_sandbox_wait(srt_sandbox *sb, srt_exit *out, srt_error *err)
{
	srt_msg m;
	int r;
	/* A command that stopped for the terminal it can never get here
	 * (its stdin is not the terminal) waits as it is: ^C still reaches it
	 * through srt, and stopping srt would hang a program that started it
	 * with pipes. */
	do
		r = read_msg(sb->status_fd, &m, -1);
	while (r == 0 && m.type == SRT_MSG_STOPPED && !sb->tty_eligible &&
	       (WSTOPSIG(m.value) == SIGTTIN || WSTOPSIG(m.value) == SIGTTOU));
	int st = 0;
	take_terminal_back(sb);
	*out = (srt_exit){0};
	if (r == 0 && m.type == SRT_MSG_STOPPED && WIFSTOPPED(m.value)) {
		out->stopped = true;
		out->code = WSTOPSIG(m.value);
		return 0;
	}
	/* The command is gone and init is killing the rest: stop the proxies
	 * now, so closing their sockets (which ends the network namespace)
	 * overlaps with init's exit instead of following it. */
	srt_proxy_stop(sb->proxy);
	sb->proxy = NULL;
	reap(sb, &st);
	join_record_reader(sb); /* every record is delivered before the end */
	if (r == 0 && m.type == SRT_MSG_EXIT) {
		st = m.value;
		gate_dropped(sb, m.code);
	}
	else if (WIFEXITED(st))
		return srt_fail(err, SRT_E_SETUP, "the sandbox's init ended without a report (status %d)",
				WEXITSTATUS(st));
	if (WIFSIGNALED(st)) {
		out->signaled = true;
		out->code = WTERMSIG(st);
	} else {
		out->signaled = false;
		out->code = WEXITSTATUS(st);
	}
	return 0;
}

void srt_sandbox_destroy(srt_sandbox *sb)
{
	if (!sb)
		return;
	if (sb->tty_fd >= 0) {
		take_terminal_back(sb);
		close(sb->tty_fd);
	}
	if (sb->init_pid > 0 && !sb->reaped) {
		if (sb->nons) /* no namespace ends with init: its children first */
			srt_nons_kill_tree(sb->init_pid);
		kill(sb->init_pid, SIGKILL);
		reap(sb, NULL);
	}
	join_record_reader(sb);
	if (sb->record_fd >= 0)
		close(sb->record_fd);
	srt_proxy_stop(sb->proxy);
	srt_unixgate_free(sb->gate);
	for (size_t i = 0; i < sb->n_nons_fds; i++)
		if (sb->nons_fds[i] >= 0)
			close(sb->nons_fds[i]);
	srt_nons_tmpdir_remove(sb->tmpdir);
	srt_fsrules_free(&sb->fsrules);
	srt_peers_free(sb->peers);
	srt_metagate_free(sb->meta);
	if (sb->net_fd >= 0)
		close(sb->net_fd);
	if (sb->pidfd >= 0)
		close(sb->pidfd);
	if (sb->status_fd >= 0)
		close(sb->status_fd);
	srt_run_close(&sb->run);
	srt_plan_clear(&sb->plan);
	free(sb->clone_fds);
	srt_strv_clear(&sb->env);
	srt_strv_clear(&sb->landlock_paths);
	srt_strv_clear(&sb->init_landlock_paths);
	srt_strv_clear(&sb->notes);
	free(sb->command_text);
	free(sb);
}
