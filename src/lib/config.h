/* config.h - the parsed and validated settings (SPEC §3).  Produced by
 * config.c from ~/.srt-settings.json or built-in defaults. */
#ifndef SRT_CONFIG_H
#define SRT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h"
#include "srt.h"
#include "util.h"

/* One entry of a filesystem list: a string, or {"path": ..., "literal": true}.
 * `path` is as written (not yet resolved: may start with "~" or be relative). */
#define SRT_MAX_HOST_PORTS 64

typedef struct srt_path_entry {
	char *path;
	bool literal; /* never treated as a glob */
} srt_path_entry;

typedef struct srt_path_list {
	srt_path_entry *v;
	size_t n;
} srt_path_list;

typedef struct srt_domain_list {
	srt_domain_pattern *v; /* parsed by domain.c, the one pattern parser */
	size_t n;
} srt_domain_list;

typedef struct srt_reason {
	char *entry;   /* the deniedDomains entry, exactly as written */
	char *reason;
} srt_reason;

typedef struct srt_cidr {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network address, host bits cleared */
	unsigned prefix;        /* 0..32 or 0..128 */
} srt_cidr;

typedef struct srt_ignore_rule {
	char *command;  /* command pattern ("*" = any) */
	srt_strv paths;
} srt_ignore_rule;

struct srt_config {
	char *source; /* file name, or "<defaults>" */
	/* the file the settings come from, or the default path that was
	 * looked for and is missing (NULL for built-in or parsed text):
	 * protected in every sandbox, existing or not */
	char *settings_path;

	/* network */
	srt_domain_list allowed_domains;
	srt_domain_list denied_domains;
	srt_reason *denied_reasons;
	size_t n_denied_reasons;
	srt_cidr *denied_resolved;
	size_t n_denied_resolved;
	srt_strv allow_unix_sockets;
	bool allow_all_unix_sockets;
	bool allow_local_binding;
	int http_proxy_port;  /* 0 = unset, else 1..65535 */
	int socks_proxy_port; /* 0 = unset, else 1..65535 */
	/* strictAllowlist: hosts outside allowedDomains are refused without
	 * asking anyone (srt has no approval prompt yet: they are refused
	 * either way; kept for the prompt, issue #12) */
	bool strict_allowlist;
	/* hostPorts (extension): localhost:PORT inside reaches the host's
	 * 127.0.0.1:PORT, unfiltered (a development server) */
	int host_ports[SRT_MAX_HOST_PORTS];
	size_t n_host_ports;
	/* parentProxy (upstream.h): as written, NULL when unset (then srt's
	 * own HTTP_PROXY / HTTPS_PROXY / NO_PROXY stand in) */
	char *parent_http, *parent_https, *parent_no_proxy;

	/* filesystem */
	srt_path_list deny_read;
	srt_path_list allow_read;
	srt_path_list allow_write;
	srt_path_list deny_write;
	/* disabled: no filesystem rules at all (the four lists above and the
	 * mandatory denies are not applied; see policy.c) */
	bool fs_disabled;
	/* allowGitConfig: .git/config files are writable (.git/hooks not) */
	bool allow_git_config;

	/* git.safeDirectories, as written ("~" and relative: policy.c) */
	srt_strv git_safe_dirs;

	srt_ignore_rule *ignore_violations;
	size_t n_ignore_violations;

	bool enable_weaker_nested_sandbox;
	bool allow_nested_user_namespaces;
	int mandatory_deny_search_depth; /* 1..10, default 3 */

	/* the reference's keys that mean nothing here, accepted (config_compat.h) */
	srt_strv warnings;
};

#define SRT_DEFAULT_SEARCH_DEPTH 3

/* The default settings file, ~/.srt-settings.json (malloc'd), or NULL with
 * err set when there is no home directory. */
char *srt_config_default_path(srt_error *err);

#endif
