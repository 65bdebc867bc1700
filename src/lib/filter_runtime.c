/* filter_runtime.c - the embedded seccomp programs and their installation.
 * The programs are compiled by libseccomp at build time (filter.c via
 * tools/gen_filter.c into filter_bpf.c). */
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "filter.h"

extern const srt_bpf srt_seccomp_programs[SRT_SECCOMP_PROGRAMS];

const srt_bpf *srt_seccomp_program(const srt_seccomp_options *o)
{
	return &srt_seccomp_programs[(o->allow_unix_sockets ? 1 : 0) | (o->allow_nested_userns ? 2 : 0) |
				     (o->mediate_unix && !o->allow_unix_sockets ? 4 : 0)];
}

int srt_seccomp_install(const srt_bpf *prog)
{
	struct sock_fprog fp = {.len = prog->len, .filter = prog->insns};
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0);
}
