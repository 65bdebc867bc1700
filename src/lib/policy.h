/* policy.h - the resolved policy: settings turned into real paths and a
 * mount plan (policy.c).  Internal layout of the public srt_policy. */
#ifndef SRT_POLICY_H
#define SRT_POLICY_H

#include "config.h"
#include "mandatory.h"
#include "paths.h"
#include "gitwatch.h"
#include "guard.h"
#include "netpolicy.h"
#include "plan.h"

struct srt_policy {
	char *cwd;
	char *home;
	srt_resolved_list deny_read, allow_read, allow_write, deny_write;
	srt_resolved_list allow_unix;   /* allowUnixSockets: host paths */
	srt_protected_list protected_paths;
	/* missing protected names the creation gate refuses: no stand-in;
	 * kept for the no-namespace mode's list of what it cannot hold */
	srt_protected_list gate_covered;
	srt_strv private_paths;         /* srt's own state (the run directory) */
	srt_resolved_list kernel_mounts; /* host kernel interfaces outside /proc and /dev */
	srt_plan plan;
	srt_strv warnings;
	bool allow_all_unix_sockets;
	bool allow_nested_userns;
	bool weaker_nested;
	int search_depth;
	char *config_source;
	bool fs_disabled;        /* filesystem.disabled (policy.c) */
	bool fs_gate;            /* the creation gate runs (fsgate.h): the
				  * protected names it refuses get no stand-in */
	bool allow_git_config;   /* filesystem.allowGitConfig */
	bool strict_allowlist;   /* network.strictAllowlist (no prompt to skip yet) */
	srt_strv git_safe_dirs;  /* git.safeDirectories: absolute, symlinks resolved */
	srt_gitwatch git_watch;  /* allowGitConfig: the configs made writable */
	/* network */
	srt_netpolicy *net;
	srt_guard *guard;
	struct srt_upstream *upstream; /* parentProxy (upstream.h), NULL: none */
	int byo_http_port, byo_socks_port;
	int host_ports[SRT_MAX_HOST_PORTS];
	size_t n_host_ports;
	srt_ignore_rule *ignore;
	size_t n_ignore;
};

#endif
