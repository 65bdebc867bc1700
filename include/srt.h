/* srt.h - public interface of libsrt, the sandbox runtime library.
 *
 * The library never prints and never exits.  Every fallible call takes a
 * `srt_error *` and fills it with a code and a human-readable message; the
 * caller (for example the srt command) decides how to show it.
 *
 * Typical use:
 *
 *     srt_error err = {0};
 *     srt_config *cfg = srt_config_load(NULL, &err);          // ~/.srt-settings.json
 *     srt_policy *pol = srt_policy_resolve(cfg, NULL, &err);  // paths, globs, plan
 *     srt_sandbox *sb = srt_sandbox_spawn(pol, &opts, &err);  // runs argv inside
 *     srt_exit ex; srt_sandbox_wait(sb, &ex, &err);
 *     srt_sandbox_destroy(sb); srt_policy_free(pol); srt_config_free(cfg);
 */
#ifndef SRT_H
#define SRT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SRT_VERSION "0.1.0"

/* Error codes.  SRT_OK is zero so `if (err.code)` reads naturally. */
typedef enum srt_status {
	SRT_OK = 0,
	SRT_E_CONFIG,      /* settings file missing pieces, not JSON, invalid */
	SRT_E_POLICY,      /* paths or patterns that cannot be resolved */
	SRT_E_KERNEL,      /* a kernel feature the sandbox needs is missing */
	SRT_E_SETUP,       /* a sandbox set-up step failed */
	SRT_E_EXEC_NOENT,  /* command not found (exit 127) */
	SRT_E_EXEC_PERM,   /* command found but not executable (exit 126) */
	SRT_E_SYSTEM,      /* other system call failure */
	SRT_E_NOMEM,
	SRT_E_INVALID,     /* bad argument from the caller */
} srt_status;

typedef struct srt_error {
	srt_status code;
	int sys_errno;      /* errno of the failing call, 0 if none */
	char message[1024]; /* "what failed: why (fix)" - no "srt: " prefix */
} srt_error;

/* ---- configuration ----------------------------------------------------- */

typedef struct srt_config srt_config;

/* Load settings.  path == NULL means the default ~/.srt-settings.json, and a
 * missing default file yields the built-in defaults.  An explicit path that
 * does not exist, or any file that is empty, unreadable, not JSON or fails
 * validation, is an error naming file, line and column or the key path. */
srt_config *srt_config_load(const char *path, srt_error *err);

/* Parse settings from memory; `name` is used in error messages. */
srt_config *srt_config_parse(const char *json, size_t len, const char *name,
			     srt_error *err);

/* The built-in defaults (no network, writes only to the private temp dir). */
srt_config *srt_config_defaults(srt_error *err);

/* Where the settings came from ("<defaults>" or the file name). */
const char *srt_config_source(const srt_config *cfg);

void srt_config_free(srt_config *cfg);

/* Parse settings given while a sandbox runs (srt --control-fd), validated as
 * srt_config_parse validates a file; "network" and "filesystem" must both
 * be there: an update is a complete settings object, not a patch (a key it
 * leaves out is back to its default). */
srt_config *srt_config_parse_update(const char *json, size_t len, const char *name,
				    srt_error *err);

/* What of `cfg` a running sandbox keeps as it started, whatever an update
 * says (every setting but the network lists srt_sandbox_update_network
 * applies), as canonical text: one "key: value" line per setting, always
 * the same keys in the same order, so that two configs' texts compare line
 * by line.  Malloc'd; NULL when out of memory. */
char *srt_config_fixed(const srt_config *cfg);

/* ---- policy ------------------------------------------------------------ */

/* Context for resolving relative paths and "~".  NULL fields are taken from
 * the calling process (getcwd(), $HOME or the password database). */
typedef struct srt_policy_context {
	const char *cwd;
	const char *home;
} srt_policy_context;

typedef struct srt_policy srt_policy;

/* Resolve the settings against the file system: expand "~", relative paths
 * and globs, resolve symlinks, search for mandatory-deny paths, and compute
 * the mount plan.  Nothing is created or changed on the host. */
srt_policy *srt_policy_resolve(const srt_config *cfg,
			       const srt_policy_context *ctx, srt_error *err);

/* Non-fatal findings (for example a glob that matched nothing). */
size_t srt_policy_warning_count(const srt_policy *pol);
const char *srt_policy_warning(const srt_policy *pol, size_t i);

/* filesystem.allowGitConfig, after a run: the .git/config files the key
 * made writable that now hold settings with which git runs a program or
 * reads more configuration (core.hooksPath, core.fsmonitor, "!" aliases,
 * include.path... gitconfig.c's table) that they did not hold when the
 * policy was resolved.  One line per file naming it and the settings
 * (malloc'd, the caller frees), or NULL when there are none.  The names
 * come from files the command could write: escape them before showing
 * (srt_escape). */
char *srt_policy_git_config_changes(const srt_policy *pol);

/* A human-readable description of the effective policy (malloc'd, caller
 * frees).  Returns NULL on allocation failure. */
char *srt_policy_describe(const srt_policy *pol);

void srt_policy_free(srt_policy *pol);

/* ---- sandbox ----------------------------------------------------------- */

/* ---- violations -------------------------------------------------------- */

/* One refusal the runtime saw.  Strings are valid only during the call.
 * `host` comes from inside the sandbox, byte for byte: pass it through
 * srt_escape before showing or recording it. */
typedef struct srt_violation {
	const char *kind;      /* "network" or "filesystem" */
	/* kind "network" (NULL/0 for "filesystem"): */
	const char *protocol;  /* "http", "connect", "socks5", "unix" */
	const char *host;      /* as the client asked for it (raw bytes) */
	int port;
	const char *rule;      /* the matching settings entry, or NULL */
	const char *reason;    /* why it was refused */
	double time;           /* seconds since the epoch */
	/* kind "filesystem" (NULL/0 for "network"): */
	const char *op;        /* the system call refused: "openat", "mkdir", "renameat2"... */
	const char *path;      /* as the command named it (raw bytes from inside) */
	const char *resolved;  /* as resolved inside the sandbox, or NULL (raw bytes) */
	int pid;               /* in the sandbox's PID namespace, 0 if unknown */
	const char *comm;      /* the process's name (raw bytes), or NULL */
} srt_violation;

/* Called one call at a time (srt_spawn_options.on_violation). */
typedef void (*srt_violation_fn)(const srt_violation *v, void *data);

typedef struct srt_spawn_options {
	char *const *argv;  /* argv[0] is looked up in PATH inside the sandbox */
	char *const *envp;  /* NULL: the caller's environ */
	const char *cwd;    /* NULL: the caller's working directory */
	/* stdin/stdout/stderr of the command; -1 means "inherit the caller's
	 * descriptor of the same number". */
	int stdio[3];
	/* Refusals, network and filesystem (may be NULL).  The callback runs
	 * on the proxy thread or the creation gate's record thread while the
	 * sandbox lives, one call at a time; every record is delivered before
	 * srt_sandbox_wait returns. */
	srt_violation_fn on_violation;
	void *violation_data;
	/* Path of the srt executable, used inside the sandbox as ssh's
	 * ProxyCommand (GIT_SSH_COMMAND); NULL: /proc/self/exe's target. */
	const char *srt_path;
	/* More of the caller's descriptors the command gets, at the same
	 * numbers (each >= 3 and open; at most SRT_MAX_PASS_FDS).  Every other
	 * descriptor above 2 is closed before the command runs.  These and
	 * stdio carry the access they were opened with and nothing more: a
	 * read-only file or a directory is reopened through the sandbox's own
	 * view of it (so /proc/self/fd/N cannot reach the host's writable mount
	 * or what denyRead hides); a directory the sandbox hides becomes
	 * /dev/null; only a descriptor open for writing lets its file be
	 * written. */
	const int *pass_fds;
	size_t n_pass_fds;
	/* Job control on the caller's controlling terminal (the srt command
	 * sets it).  The sandbox always runs in a process group of its own;
	 * with job_control, when the caller is in the terminal's foreground
	 * group, the command's stdin is that terminal and nobody but the
	 * caller's ancestors shares the caller's group, the sandbox's group is
	 * made the foreground group for the run (and may then set it itself,
	 * for a shell's jobs), and srt_sandbox_wait() also reports stops.
	 * Without it the command never gets the terminal's foreground. */
	bool job_control;
	/* The command as the caller states it, which ignoreViolations command
	 * patterns are matched against (the reference's commandText; the srt
	 * command gives the -c string).  NULL: argv, shell-quoted and joined
	 * by spaces. */
	const char *command_text;
} srt_spawn_options;

#define SRT_MAX_PASS_FDS 64

typedef struct srt_exit {
	bool signaled;  /* killed by a signal */
	int code;       /* exit code, or the signal number when signaled or stopped */
	bool stopped;   /* job_control: the command stopped (code = the signal); the
			 * terminal is back with the caller's group.  Stop yourself if
			 * you like, then srt_sandbox_continue() and wait again. */
} srt_exit;

typedef struct srt_sandbox srt_sandbox;

/* Create the sandbox and start argv inside it.  Returns once the command
 * has been executed (or failed to be): an exec failure is reported here as
 * SRT_E_EXEC_NOENT / SRT_E_EXEC_PERM. */
srt_sandbox *srt_sandbox_spawn(const srt_policy *pol,
			       const srt_spawn_options *opts, srt_error *err);

/* A descriptor that becomes readable when the command has finished; poll it
 * next to your own descriptors, then call srt_sandbox_wait(). */
int srt_sandbox_fd(const srt_sandbox *sb);

/* Replace the network policy of a running sandbox with the network
 * section of `cfg` (allowedDomains, deniedDomains, deniedDomainReasons,
 * deniedResolvedAddresses).  Listeners (httpProxyPort, socksProxyPort,
 * hostPorts) cannot change while running.  Decisions made after this call
 * returns use the new policy (connections already established stay). */
int srt_sandbox_update_network(srt_sandbox *sb, const srt_config *cfg,
			       srt_error *err);

/* Deliver a signal to the command. */
int srt_sandbox_signal(srt_sandbox *sb, int sig, srt_error *err);

/* Resume a stopped sandbox (job_control): give it the terminal again when
 * the caller is in the terminal's foreground group, then SIGCONT it.
 * Returns 1 when resumed, 0 when not: the sandbox may set the terminal's
 * foreground group (it had the terminal at start) and the caller is in the
 * background, where it could take the terminal from the user's next job;
 * call again once in the foreground.  -1 on error. */
int srt_sandbox_continue(srt_sandbox *sb, srt_error *err);

/* Wait for the command to finish (blocking) and report how it ended.  When
 * it ends, every other process of the sandbox has been killed.  With
 * job_control it also returns when the command stopped (out->stopped). */
int srt_sandbox_wait(srt_sandbox *sb, srt_exit *out, srt_error *err);

/* Kill whatever still runs, remove every host-side trace, free. */
void srt_sandbox_destroy(srt_sandbox *sb);

/* How the sandbox was built (known once spawn returned it).
 * SRT_MODE_NESTED (policy key enableWeakerNestedSandbox, where a container
 * runtime keeps a new /proc from being mounted): everything as in the full
 * mode except that /proc is the container's, so the command sees the
 * container's processes. */
typedef enum srt_mode {
	SRT_MODE_FULL = 0,
	SRT_MODE_NESTED,
	SRT_MODE_NO_NAMESPACES, /* no user namespace here: Landlock, seccomp and
				 * srt's gates alone (README "Containers and CI") */
	SRT_MODE_NONE, /* srt_check only: no sandbox can be built here */
} srt_mode;

srt_mode srt_sandbox_mode(const srt_sandbox *sb);

/* Non-fatal findings of the spawn: a protection the kernel lacks (Landlock),
 * a protected path that could not be pinned.  srt_sandbox_wait() may add
 * more once the sandbox has ended: what happened to a repository the
 * command created in a directory that had none (imported, what of it was
 * dropped, or where it was kept aside).  Valid until destroy. */
size_t srt_sandbox_note_count(const srt_sandbox *sb);
const char *srt_sandbox_note(const srt_sandbox *sb, size_t i);

/* The private temporary directory of this run, as the command sees it
 * (TMPDIR inside; it lives in the sandbox's own /dev/shm tmpfs). */
const char *srt_sandbox_tmpdir(const srt_sandbox *sb);

/* ---- escaping ---------------------------------------------------------- */

/* Text that may come from inside the sandbox (a SOCKS5 name, a path, an
 * error naming one) must not reach a terminal or a JSON reader as it is:
 * escape sequences would speak as srt, and invalid UTF-8 breaks JSON.
 * srt_escape keeps printable ASCII (0x20-0x7e) but the backslash and
 * writes every other byte as \xNN (lower-case hex), so the result is
 * plain ASCII that still identifies the original exactly (UTF-8, C1
 * controls and bidi overrides included).  Flags:
 *  SRT_ESCAPE_LINES  keep newline and tab (multi-line text);
 *  SRT_ESCAPE_JSON   the contents of a JSON string: the double quote and
 *                    the backslash of each escape are JSON-escaped too
 *                    (newline and tab are then escaped as well).
 * Like snprintf: writes at most cap - 1 bytes and a NUL (never half an
 * escape) and returns the length the whole escaping needs. */
#define SRT_ESCAPE_LINES 1u
#define SRT_ESCAPE_JSON 2u
size_t srt_escape(char *out, size_t cap, const char *in, unsigned flags);

/* The same, into a new string (free it); NULL when out of memory. */
char *srt_escape_dup(const char *in, unsigned flags);

/* ---- self-check -------------------------------------------------------- */

typedef struct srt_check_item {
	const char *name;   /* "user namespaces", "seccomp", "Landlock", ... */
	bool ok;
	bool required;      /* false: the sandbox works without it, weaker */
	char detail[1024];  /* what was found, and the fix when not ok */
} srt_check_item;

/* One property of the sandbox the mode gives here, and what enforces it. */
typedef struct srt_check_property {
	const char *name;   /* "filesystem writes", "process visibility", ... */
	bool enforced;      /* false: weaker than the full mode, or not at all */
	char how[512];      /* the mechanism, or what is weaker */
} srt_check_property;

#define SRT_CHECK_MAX 16
#define SRT_CHECK_PROPS 8

typedef struct srt_check_report {
	srt_check_item items[SRT_CHECK_MAX];
	size_t count;
	int landlock_abi;   /* 0 when unavailable */
	bool can_sandbox;   /* a real sandbox started and ran a probe */
	srt_mode mode;      /* the strongest mode this host allows */
	bool mode_needs_key;  /* enableWeakerNestedSandbox must be set for it */
	srt_check_property props[SRT_CHECK_PROPS];
	size_t n_props;
} srt_check_report;

/* Probe the host (user, mount, PID and network namespaces, a new /proc,
 * seccomp and its user notification, Landlock), choose the mode, describe
 * what it enforces, and start a probe sandbox in it. */
void srt_check(srt_check_report *report);

#ifdef __cplusplus
}
#endif

#endif /* SRT_H */
