/* init.h - the sandbox's PID 1 and the command's last steps before exec.
 *
 * The host process clones init into new user, mount, PID, IPC, network, UTS
 * and cgroup namespaces.  Init (root of that outer user namespace) builds
 * the mounts, brings up loopback, prepares Landlock, then clones the command
 * into an inner user namespace, where it has no privilege over the mounts.
 * The command drops every capability, sets no_new_privs, enforces Landlock
 * and seccomp, probes that they hold, and execs.  Init then restricts itself
 * the same way, forwards signals, reaps orphans, and reports the command's
 * end to the host.  When init exits the kernel kills the whole namespace.
 *
 * Everything here runs after a raw clone() of a possibly multi-threaded
 * host process, so it does not allocate: all data is prepared beforehand. */
#ifndef SRT_INIT_H
#define SRT_INIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.h"
#include "nons/fsrules.h"
#include "filter.h"
#include "srt.h"

enum srt_msg_type {
	SRT_MSG_READY = 1, /* the command was executed; value: SRT_READY_* */
	SRT_MSG_ERROR,     /* set-up or exec failed: code, sys_errno, text */
	SRT_MSG_EXIT,      /* the command ended: value = wait status */
	SRT_MSG_STOPPED,   /* the command stopped (report_stops): value = wait status */
	SRT_MSG_VIOLATION, /* the creation gate refused a call (fsgate.h): value =
			    * pid, code = errno, text = the record */
};
/* SRT_MSG_EXIT's code: how many violation records the gate could not send */

#define SRT_READY_NESTED 1 /* nested mode: the container's /proc is used */

typedef struct srt_msg {
	uint32_t type;
	int32_t code;
	int32_t sys_errno;
	int32_t value;
	char text[1024]; /* same size as srt_error.message */
} srt_msg;

typedef struct srt_init_ctx {
	const srt_plan *plan;
	int *clone_fds;              /* plan->n_ops scratch slots */
	const char *cwd;
	char *const *argv;
	char *const *envp;
	int stdio[3];                /* -1: keep */
	const srt_bpf *bpf;
	int landlock_abi;            /* 0: none */
	const char *const *landlock_paths;
	size_t n_landlock_paths;
	int last_cap;                /* /proc/sys/kernel/cap_last_cap */
	bool allow_nested_userns;
	bool no_namespaces;          /* no-namespace mode: init is a plain
				      * child (subreaper), no mounts, no
				      * maps; Landlock from fsrules */
	const srt_fsrules *fsrules;  /* no_namespaces: the Landlock rules */
	const uint16_t *connect_ports; /* no_namespaces: TCP ports the
					* command may connect to */
	size_t n_connect_ports;
	bool weaker_nested;          /* enableWeakerNestedSandbox: the
				      * container's /proc where a new one
				      * cannot be mounted (mounts.c) */
	bool allow_unix_sockets;
	bool mediate_unix;           /* allowUnixSockets: the command sends its
				      * seccomp listener over net_fd */
	bool allow_set_foreground;   /* the filter lets the command tcsetpgrp */
	bool report_stops;           /* send SRT_MSG_STOPPED (job control) */
	bool fs_gate;                /* the creation gate (fsgate.h): the command
				      * installs gate_bpf with a listener that
				      * init serves */
	const srt_bpf *gate_bpf;
	bool gate_git_config_ok;     /* filesystem.allowGitConfig */
	const char *const *init_landlock_paths; /* fs_gate: init's own ruleset
						 * (the command's paths and /proc) */
	size_t n_init_landlock_paths;
	/* inner user namespace maps, written by init for the command */
	char uid_map[64];
	char gid_map[64];
	int status_fd;               /* init -> host messages */
	int record_fd;               /* fs_gate: init -> host violation records
				      * (SRT_MSG_VIOLATION), non-blocking */
	int go_fd;                   /* host -> init: maps written, go */
	int net_fd;                  /* init -> host: the proxies' listening
				      * sockets (SCM_RIGHTS), -1: none */
	const int *host_ports;       /* hostPorts: more listeners, in order */
	size_t n_host_ports;
	int keep_fds[8];             /* fds init must not touch (-1 = none) */
	const int *pass_fds;         /* the caller's descriptors the command
				      * gets (srt_spawn_options.pass_fds) */
	size_t n_pass_fds;
} srt_init_ctx;

/* Never returns. */
_Noreturn void srt_init_main(const srt_init_ctx *ctx);

#endif
