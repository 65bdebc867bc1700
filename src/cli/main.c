/* srt - run a command inside the sandbox.  A thin client of libsrt: parse
 * the command line, load settings, resolve the policy, spawn, forward
 * signals, report.  Every message here starts with "srt: ". */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "connect.h"
#include "control.h"
#include "srt.h"

#define EXIT_SRT_FAILURE 125

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT,
					SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP};

typedef struct cli {
	const char *settings;
	const char *violations_path;
	const char *connect_host;
	const char *connect_port;
	const char *shell_string;
	bool debug;
	bool check;
	bool print_policy;
	char **command;
	char *shell_argv[4];
	int pass_fds[SRT_MAX_PASS_FDS];
	size_t n_pass_fds;
	int control_fd; /* --control-fd, or 0 */
} cli;

static void usage(FILE *f)
{
	fputs("usage: srt [OPTIONS] [--] COMMAND [ARGS...]\n"
	      "       srt [OPTIONS] -c 'SHELL STRING'\n"
	      "       srt [OPTIONS] 'SHELL STRING WITH SPACES'\n"
	      "\n"
	      "Run COMMAND in a sandbox that limits what it can read, write and reach.\n"
	      "\n"
	      "options:\n"
	      "  -s, --settings FILE\n"
	      "                    settings file (default ~/.srt-settings.json; missing = defaults)\n"
	      "  -c STRING         run STRING with /bin/sh -c\n"
	      "  -d, --debug       explain what is set up (also SRT_DEBUG=1)\n"
	      "  --check           report the kernel features srt relies on, start a probe sandbox\n"
	      "  --print-policy    print the effective policy and exit without running anything\n"
	      "  --violations FILE append every refusal to FILE as JSON lines (/dev/fd/N for a descriptor)\n"
	      "  --pass-fd N       give the command descriptor N (>= 3) too, with its own access\n"
	      "                    (repeatable; every other descriptor above 2 is closed)\n"
	      "  --control-fd N    read settings updates from descriptor N (>= 3) while the command\n"
	      "                    runs: one complete settings object per line; each replaces the\n"
	      "                    network lists (the command does not get N)\n"
	      "  --proxy-connect HOST PORT\n"
	      "                    inside a sandbox: connect to HOST:PORT through srt's proxy and relay\n"
	      "                    stdin/stdout (ssh's ProxyCommand; GIT_SSH_COMMAND uses it)\n"
	      "  -h, --help        this help\n"
	      "  -V, --version     print the version\n"
	      "\n"
	      "exit status: the command's own; 128+N if it was killed by signal N;\n"
	      "125 if srt failed; 126 if the command cannot be executed; 127 if not found.\n",
	      f);
}

static int parse_pass_fd(cli *c, const char *arg)
{
	char *end;
	errno = 0;
	long fd = strtol(arg, &end, 10);
	if (errno || end == arg || *end || fd < 3 || fd > INT_MAX) {
		fprintf(stderr, "srt: --pass-fd needs a descriptor number of 3 or more, not '%s'\n", arg);
		return -1;
	}
	/* checked now, before srt opens anything of its own that could take
	 * that number */
	if (fcntl((int)fd, F_GETFD) < 0) {
		fprintf(stderr, "srt: --pass-fd %ld: %s\n", fd, strerror(errno));
		return -1;
	}
	if (c->n_pass_fds == SRT_MAX_PASS_FDS) {
		fprintf(stderr, "srt: --pass-fd: at most %d descriptors\n", SRT_MAX_PASS_FDS);
		return -1;
	}
	c->pass_fds[c->n_pass_fds++] = (int)fd;
	return 0;
}

static int parse_args(cli *c, int argc, char **argv)
{
	enum { OPT_SETTINGS = 256, OPT_DEBUG, OPT_CHECK, OPT_PRINT, OPT_VERSION, OPT_VIOLATIONS,
	       OPT_CONNECT, OPT_PASS_FD, OPT_CONTROL_FD };
	static const struct option opts[] = {
		{"settings", required_argument, NULL, OPT_SETTINGS},
		{"debug", no_argument, NULL, OPT_DEBUG},
		{"check", no_argument, NULL, OPT_CHECK},
		{"print-policy", no_argument, NULL, OPT_PRINT},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{"violations", required_argument, NULL, OPT_VIOLATIONS},
		{"proxy-connect", required_argument, NULL, OPT_CONNECT},
		{"pass-fd", required_argument, NULL, OPT_PASS_FD},
		{"control-fd", required_argument, NULL, OPT_CONTROL_FD},
		{NULL, 0, NULL, 0},
	};
	int o;
	opterr = 0;
	/* '+': stop at the first non-option, so `srt ls -la` works */
	/* -s, -d, -V: the reference's short forms */
	while ((o = getopt_long(argc, argv, "+hc:s:dV", opts, NULL)) != -1) {
		switch (o) {
		case 's':
		case OPT_SETTINGS:
			c->settings = optarg;
			break;
		case 'd':
		case OPT_DEBUG:
			c->debug = true;
			break;
		case OPT_CHECK:
			c->check = true;
			break;
		case OPT_PRINT:
			c->print_policy = true;
			break;
		case OPT_VIOLATIONS:
			c->violations_path = optarg;
			break;
		case OPT_CONNECT:
			c->connect_host = optarg;
			if (optind >= argc) {
				fprintf(stderr, "srt: --proxy-connect needs HOST PORT\n");
				return -1;
			}
			c->connect_port = argv[optind++];
			return 0;
		case OPT_PASS_FD:
			if (parse_pass_fd(c, optarg) < 0)
				return -1;
			break;
		case OPT_CONTROL_FD:
			if ((c->control_fd = control_parse_fd(optarg)) < 0)
				return -1;
			break;
		case 'c':
			c->shell_string = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
		case OPT_VERSION:
#ifdef SRT_TEST_HOOKS
			printf("srt %s (test hooks)\n", SRT_VERSION);
#else
			printf("srt %s\n", SRT_VERSION);
#endif
			exit(0);
		default:
			if (optopt > 0 && optopt < 256)
				fprintf(stderr, "srt: option -%c %s\n", optopt,
					optopt == 'c' ? "needs an argument" : "is unknown");
			else if (optopt >= 256)
				fprintf(stderr, "srt: option %s needs an argument\n", argv[optind - 1]);
			else
				fprintf(stderr, "srt: unknown option %s\n", argv[optind - 1]);
			fprintf(stderr, "srt: try 'srt --help'\n");
			return -1;
		}
	}
	for (size_t i = 0; c->control_fd && i < c->n_pass_fds; i++)
		if (c->pass_fds[i] == c->control_fd) {
			/* the channel that carries the policy never reaches the
			 * command it confines */
			fprintf(stderr, "srt: descriptor %d cannot be both --control-fd and --pass-fd\n",
				c->control_fd);
			return -1;
		}
	char **rest = argv + optind;
	int nrest = argc - optind;
	if (c->shell_string) {
		/* sh -c STRING [ARG0 ARGS...] */
		c->shell_argv[0] = "/bin/sh";
		c->shell_argv[1] = "-c";
		c->shell_argv[2] = (char *)c->shell_string;
		c->shell_argv[3] = NULL;
		if (nrest > 0) {
			char **v = calloc((size_t)nrest + 4, sizeof *v);
			if (!v)
				return -1;
			memcpy(v, c->shell_argv, 3 * sizeof *v);
			memcpy(v + 3, rest, (size_t)nrest * sizeof *v);
			c->command = v;
		} else {
			c->command = c->shell_argv;
		}
	} else if (nrest == 1 && strchr(rest[0], ' ')) {
		/* reference compatibility: one argument with a space is a shell string */
		c->shell_argv[0] = "/bin/sh";
		c->shell_argv[1] = "-c";
		c->shell_argv[2] = rest[0];
		c->shell_argv[3] = NULL;
		c->command = c->shell_argv;
	} else if (nrest > 0) {
		c->command = rest;
	}
	if (!c->command && !c->check && !c->print_policy && !c->connect_host) {
		fprintf(stderr, "srt: no command given; try 'srt --help'\n");
		return -1;
	}
	return 0;
}

static const char *mode_name(srt_mode m)
{
	switch (m) {
	case SRT_MODE_FULL:
		return "full";
	case SRT_MODE_NESTED:
		return "nested";
	case SRT_MODE_NO_NAMESPACES:
		return "no-namespace";
	case SRT_MODE_NONE:
	default:
		return "none";
	}
}

static int run_check(void)
{
	srt_check_report r;
	srt_check(&r);
	for (size_t i = 0; i < r.count; i++)
		printf("%-18s %-4s %s\n", r.items[i].name,
		       r.items[i].ok ? "ok" : (r.items[i].required ? "FAIL" : "warn"), r.items[i].detail);
	printf("\nmode: %s%s\n", mode_name(r.mode),
	       r.mode_needs_key ? " (needs \"enableWeakerNestedSandbox\": true in the settings; "
				  "without it srt refuses to start here)"
				: "");
	for (size_t i = 0; i < r.n_props; i++)
		printf("  %-18s %-8s %s\n", r.props[i].name, r.props[i].enforced ? "enforced" : "weaker",
		       r.props[i].how);
	printf("%s\n", !r.can_sandbox ? "srt cannot start a sandbox here"
			: r.mode_needs_key ? (r.mode == SRT_MODE_NESTED
						      ? "a sandbox can start here, in nested mode "
							"(with \"enableWeakerNestedSandbox\": true)"
						      : "a sandbox can start here, in the no-namespace mode "
							"(with \"enableWeakerNestedSandbox\": true)")
					   : "a sandbox can start here");
	return r.can_sandbox ? 0 : EXIT_SRT_FAILURE;
}

/* ---- violations --------------------------------------------------- */

#define SUMMARY_MAX 10

/* One kind's share of the exit summary: how many, and the first distinct
 * few. */
typedef struct violation_tally {
	size_t count;
	char seen[SUMMARY_MAX][400];
	size_t n_seen;
} violation_tally;

typedef struct violation_log {
	FILE *out;            /* --violations, or NULL */
	violation_tally net, fs;
} violation_log;

/* What comes from inside (a host, a path) is escaped (srt_escape): the
 * record is plain ASCII, so always valid UTF-8 JSON, and still names it. */
static void json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	char *e = srt_escape_dup(s, SRT_ESCAPE_JSON);
	fprintf(f, "\"%s\"", e ? e : "(out of memory)");
	free(e);
}

/* srt's own messages on stderr: "srt: " + `what`, escaped (it can name
 * paths or hosts the command chose), then a newline. */
void say(const char *prefix, const char *what)
{
	char *e = srt_escape_dup(what, SRT_ESCAPE_LINES);
	fprintf(stderr, "srt: %s%s\n", prefix, e ? e : "(out of memory)");
	free(e);
}

static void tally(violation_tally *t, const char *key)
{
	t->count++;
	for (size_t i = 0; i < t->n_seen; i++)
		if (strcmp(t->seen[i], key) == 0)
			return;
	if (t->n_seen < SUMMARY_MAX)
		snprintf(t->seen[t->n_seen++], sizeof t->seen[0], "%s", key);
}

static bool is_filesystem(const srt_violation *v)
{
	return v->kind && strcmp(v->kind, "filesystem") == 0;
}

/* The summary line of a refusal: escaped, since it names what the
 * command chose. */
static void summary_key(const srt_violation *v, char *key, size_t len)
{
	char what[256], reason[128];
	srt_escape(reason, sizeof reason, v->reason ? v->reason : "", 0);
	if (is_filesystem(v)) {
		srt_escape(what, sizeof what, v->resolved ? v->resolved : v->path ? v->path : "", 0);
		snprintf(key, len, "%s %s (%s)", v->op ? v->op : "?", what, reason);
	} else {
		srt_escape(what, sizeof what, v->host ? v->host : "", 0);
		snprintf(key, len, "%s:%d (%s)", what, v->port, reason);
	}
}

static void json_field(FILE *f, const char *name, const char *value)
{
	fprintf(f, ",\"%s\":", name);
	json_string(f, value);
}

static void json_record(FILE *f, const srt_violation *v)
{
	fprintf(f, "{\"time\":%.3f,\"kind\":", v->time);
	json_string(f, v->kind);
	if (is_filesystem(v)) {
		json_field(f, "op", v->op);
		json_field(f, "path", v->path);
		json_field(f, "resolved", v->resolved);
		json_field(f, "rule", v->rule);
		json_field(f, "reason", v->reason);
		fprintf(f, ",\"pid\":%d", v->pid);
		json_field(f, "comm", v->comm);
	} else {
		json_field(f, "protocol", v->protocol);
		json_field(f, "host", v->host);
		fprintf(f, ",\"port\":%d", v->port);
		json_field(f, "rule", v->rule);
		json_field(f, "reason", v->reason);
	}
	fputs("}\n", f);
	fflush(f);
}

/* Runs on the proxy thread or the gate's record thread, one call at a
 * time. */
static void on_violation(const srt_violation *v, void *data)
{
	violation_log *log = data;
	char key[400];
	summary_key(v, key, sizeof key);
	tally(is_filesystem(v) ? &log->fs : &log->net, key);
	if (log->out)
		json_record(log->out, v);
}

static void print_tally(const violation_tally *t, const char *one, const char *many)
{
	if (t->count == 0)
		return;
	fprintf(stderr, "srt: %zu %s by the sandbox:\n", t->count, t->count == 1 ? one : many);
	for (size_t i = 0; i < t->n_seen; i++)
		fprintf(stderr, "srt:   %s\n", t->seen[i]);
	if (t->count > t->n_seen)
		fprintf(stderr, "srt:   ...\n");
}

static void print_summary(const violation_log *log)
{
	print_tally(&log->net, "network request was blocked", "network requests were blocked");
	print_tally(&log->fs, "filesystem change was refused", "filesystem changes were refused");
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int exit_code_for(srt_status s)
{
	return s == SRT_E_EXEC_NOENT ? 127 : s == SRT_E_EXEC_PERM ? 126 : EXIT_SRT_FAILURE;
}

static int apply_update(void *sb, const srt_config *cfg, srt_error *err)
{
	return srt_sandbox_update_network(sb, cfg, err);
}

/* The forwarded signals arrive on a signalfd.  SIGTTOU stays blocked too:
 * srt may write to the terminal and hand it over while in the background
 * (the command starts with an empty mask). */
static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof forwarded_signals / sizeof *forwarded_signals; i++)
		sigaddset(set, forwarded_signals[i]);
	sigset_t all = *set;
	sigaddset(&all, SIGTTOU);
	if (sigprocmask(SIG_BLOCK, &all, NULL) < 0)
		return -1;
	return signalfd(-1, set, SFD_CLOEXEC);
}

/* Stop srt itself as the command stopped, so that the user's shell gets
 * the terminal back; returns once continued.  SIGSTOP becomes SIGTSTP: in
 * an orphaned process group, with nobody to continue us, the kernel then
 * discards it instead of stopping us for good. */
static void stop_like(int sig)
{
	if (sig != SIGTTIN && sig != SIGTTOU)
		sig = SIGTSTP;
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	signal(sig, SIG_DFL);
	kill(getpid(), sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL); /* delivered here: we stop */
	sigprocmask(SIG_BLOCK, &one, NULL);
}

/* After srt was continued (fg, bg): resume the command, or, when it may
 * only run in the foreground and we are in the background, stop again as a
 * background job that wants the terminal does.  Each try needs a SIGCONT,
 * so this cannot spin. */
static void resume(srt_sandbox *sb, srt_error *err)
{
	if (srt_sandbox_continue(sb, err) == 0)
		stop_like(SIGTTOU);
}

/* Wait for the command, forwarding the signals srt receives.  The sandbox
 * is a process group of its own: what the terminal sends to its foreground
 * group reaches the command directly when srt lent it the terminal, and
 * reaches srt (which forwards it) when not.  A stop of the command stops
 * srt (the terminal is back with srt's group by then); SIGCONT resumes it. */
/* How long a command stopped over a dead control channel has between
 * SIGTERM and SIGKILL. */
#define CONTROL_KILL_GRACE_MS 2000

static int supervise(srt_sandbox *sb, int sfd, control *ctl, bool *ctl_failed, srt_exit *ex,
		     srt_error *err)
{
	/* the control channel, when there is one, is read only now that the
	 * sandbox is up: what was written before waited in it */
	struct pollfd p[3] = {{.fd = sfd, .events = POLLIN},
			      {.fd = srt_sandbox_fd(sb), .events = POLLIN},
			      {.fd = ctl ? ctl->fd : -1, .events = POLLIN}};
	double kill_at = 0;
	for (;;) {
		int timeout = -1;
		if (kill_at > 0) {
			double left = kill_at - now_ms();
			if (left <= 0) {
				srt_sandbox_signal(sb, SIGKILL, err);
				kill_at = 0;
			} else {
				timeout = (int)left + 1;
			}
		}
		if (poll(p, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents) {
			int r = srt_sandbox_wait(sb, ex, err);
			if (r < 0 || !ex->stopped)
				return r;
			stop_like(ex->code);
			resume(sb, err);
			continue;
		}
		if (p[2].revents) {
			int r = control_read(ctl);
			if (r <= 0)
				p[2].fd = -1; /* closed: the command runs on */
			if (r < 0) {
				/* it died before delivering anything: updates sent
				 * into it (tightening ones too) would go nowhere */
				*ctl_failed = true;
				srt_sandbox_signal(sb, SIGTERM, err);
				kill_at = now_ms() + CONTROL_KILL_GRACE_MS;
			}
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) != sizeof si)
				continue;
			if (si.ssi_signo == SIGCONT)
				resume(sb, err);
			else
				srt_sandbox_signal(sb, (int)si.ssi_signo, err);
		}
	}
}

int main(int argc, char **argv)
{
	cli c = {0};
	/* The reference's `srt proxy` subcommand (its first word, as there): a
	 * command named proxy runs as `srt -- proxy`. */
	if (argc > 1 && strcmp(argv[1], "proxy") == 0) {
		fprintf(stderr, "srt: proxy: the standalone proxy is not built yet: it terminates "
				"every CONNECT with TLS, which srt in C does not do yet (run a command "
				"named proxy with `srt -- proxy`)\n");
		return EXIT_SRT_FAILURE;
	}
	if (parse_args(&c, argc, argv) < 0)
		return EXIT_SRT_FAILURE;
	const char *dbg = getenv("SRT_DEBUG");
	if (dbg && *dbg && strcmp(dbg, "0") != 0)
		c.debug = true;
	if (c.check)
		return run_check();
	if (c.connect_host)
		return srt_cli_proxy_connect(c.connect_host, c.connect_port);

	srt_error err = {0};
	double t_start = now_ms();
	srt_config *cfg = srt_config_load(c.settings, &err);
	double t_settings = now_ms();
	if (!cfg) {
		say("", err.message);
		return EXIT_SRT_FAILURE;
	}
	srt_policy *pol = srt_policy_resolve(cfg, NULL, &err);
	double t_policy = now_ms();
	/* what a control line cannot change, to tell when one asks for it */
	char *started = pol && c.control_fd ? srt_config_fixed(cfg) : NULL;
	/* the policy holds what it needs: free the settings before the
	 * sandbox's processes are cloned from this one */
	srt_config_free(cfg);
	if (!pol) {
		say("", err.message);
		return EXIT_SRT_FAILURE;
	}
	for (size_t i = 0; i < srt_policy_warning_count(pol); i++)
		say("warning: ", srt_policy_warning(pol, i));
	if (c.print_policy || c.debug) {
		/* paths in it may have been named from inside (a repository a
		 * command created in an earlier run): escaped, lines kept */
		char *d = srt_policy_describe(pol);
		char *e = d ? srt_escape_dup(d, SRT_ESCAPE_LINES) : NULL;
		if (e)
			fputs(e, c.print_policy ? stdout : stderr);
		free(e);
		free(d);
		if (c.print_policy) {
			srt_policy_free(pol);
			return 0;
		}
	}

	sigset_t set;
	int sfd = block_signals(&set);
	if (sfd < 0) {
		fprintf(stderr, "srt: cannot set up signal handling: %s\n", strerror(errno));
		return EXIT_SRT_FAILURE;
	}
	violation_log vlog = {0};
	if (c.violations_path) {
		vlog.out = fopen(c.violations_path, "ae");
		if (!vlog.out) {
			fprintf(stderr, "srt: cannot open %s: %s\n", c.violations_path, strerror(errno));
			return EXIT_SRT_FAILURE;
		}
	}
	srt_spawn_options o = {.argv = c.command, .stdio = {-1, -1, -1},
			       .on_violation = on_violation, .violation_data = &vlog,
			       .pass_fds = c.pass_fds, .n_pass_fds = c.n_pass_fds,
			       .job_control = true,
			       /* a shell string is the command as the user wrote it
				* (NULL otherwise: the library quotes argv) */
			       .command_text = c.shell_argv[2]};
	srt_sandbox *sb = srt_sandbox_spawn(pol, &o, &err);
	double t_spawned = now_ms();
	int code;
	if (!sb) {
		say("", err.message);
		code = exit_code_for(err.code);
	} else {
		for (size_t i = 0; i < srt_sandbox_note_count(sb); i++)
			say("warning: ", srt_sandbox_note(sb, i));
		if (c.debug)
			fprintf(stderr, "srt: mode: %s%s\n", mode_name(srt_sandbox_mode(sb)),
				srt_sandbox_mode(sb) == SRT_MODE_NESTED
					? " (enableWeakerNestedSandbox: the container's /proc, read-only)"
					: "");
		/* The proxies hold two sockets (and briefly pipes) per tunnel:
		 * raise srt's own descriptor limit now that the command has
		 * started with the caller's. */
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		srt_exit ex = {0};
		control ctl = {.apply = apply_update, .apply_data = sb};
		bool ctl_failed = false;
		if (c.control_fd && control_start(&ctl, c.control_fd, started, c.debug) < 0) {
			fprintf(stderr, "srt: control fd %d: %s\n", c.control_fd, strerror(errno));
			ctl_failed = true;
			srt_sandbox_signal(sb, SIGKILL, &err);
		}
		size_t n_notes = srt_sandbox_note_count(sb);
		int sup = supervise(sb, sfd, c.control_fd && !ctl_failed ? &ctl : NULL, &ctl_failed, &ex,
				    &err);
		/* what srt did at the end (a new repository imported, what of it
		 * was dropped) */
		for (size_t i = n_notes; i < srt_sandbox_note_count(sb); i++)
			say("", srt_sandbox_note(sb, i));
		if (sup < 0) {
			say("", err.message[0] ? err.message : strerror(errno));
			code = EXIT_SRT_FAILURE;
		} else if (ctl_failed) {
			/* srt stopped it: its status is not the run's result */
			code = EXIT_SRT_FAILURE;
		} else {
			code = ex.signaled ? 128 + ex.code : ex.code;
			if (c.debug) {
				fprintf(stderr, "srt: command %s %d\n",
					ex.signaled ? "killed by signal" : "exited with", ex.code);
				fprintf(stderr, "srt: timing: settings %.2f ms, policy %.2f ms, "
					"sandbox set-up until exec %.2f ms, command and teardown %.2f ms\n",
					t_settings - t_start, t_policy - t_settings,
					t_spawned - t_policy, now_ms() - t_spawned);
			}
		}
		control_end(&ctl);
		srt_sandbox_destroy(sb); /* joins the proxy thread */
		char *gc = srt_policy_git_config_changes(pol);
		for (char *line = gc, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			say("warning: ", line);
		}
		free(gc);
	}
	free(started);
	print_summary(&vlog);
	if (vlog.out)
		fclose(vlog.out);
	close(sfd);
	srt_policy_free(pol);
	if (c.command != c.shell_argv && c.shell_string)
		free(c.command);
	return code;
}
