/* filter_runtime.c - the embedded seccomp programs and their installation.
 * The programs are compiled by libseccomp at build time (filter.c via
 * tools/gen_filter.c into filter_bpf.c). */
#include <linux/seccomp.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filter.h"

extern const srt_bpf srt_seccomp_programs[SRT_SECCOMP_PROGRAMS];
extern const int srt_seccomp_metadata_nrs[]; /* ends with -1 */

bool srt_seccomp_is_metadata(int nr)
{
	for (size_t i = 0; nr >= 0 && srt_seccomp_metadata_nrs[i] >= 0; i++)
		if (srt_seccomp_metadata_nrs[i] == nr)
			return true;
	return false;
}

const srt_bpf *srt_seccomp_program(const srt_seccomp_options *o)
{
	return &srt_seccomp_programs[srt_seccomp_variant(o)];
}

int srt_seccomp_install(const srt_bpf *prog)
{
	struct sock_fprog fp = {.len = prog->len, .filter = prog->insns};
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0);
}

int srt_seccomp_install_listener(const srt_bpf *prog)
{
	struct sock_fprog fp = {.len = prog->len, .filter = prog->insns};
	/* WAIT_KILLABLE_RECV (Linux 5.19): once srt has a call, only a fatal
	 * signal interrupts it, so srt's connect and the command's view of it
	 * cannot disagree */
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &fp);
	if (fd < 0 && errno == EINVAL)
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fp);
	return (int)fd;
}
