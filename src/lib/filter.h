/* filter.h - the system-call filter of SPEC §6, built with libseccomp in
 * the host process and exported as a BPF program that the sandbox's
 * processes load with a single prctl (no allocation after clone). */
#ifndef SRT_FILTER_H
#define SRT_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>

#include "srt.h"

typedef struct srt_seccomp_options {
	bool allow_unix_sockets;        /* allowAllUnixSockets */
	bool allow_nested_userns;       /* allowNestedUserNamespaces */
} srt_seccomp_options;

typedef struct srt_bpf {
	struct sock_filter *insns;
	unsigned short len;
} srt_bpf;

int srt_seccomp_build(const srt_seccomp_options *opts, srt_bpf *out,
		      srt_error *err);
/* Install it in the calling thread (needs no_new_privs).  Async-signal-safe. */
int srt_seccomp_install(const srt_bpf *prog);
void srt_bpf_free(srt_bpf *prog);

/* Names of the refused calls, for the policy description. */
extern const char *const srt_seccomp_denied_names[];

#endif
