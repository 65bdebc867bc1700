/* libfds - the descriptors an embedding program gives the command through
 * the library: stdio[0] and pass_fds carry their own access, every other
 * descriptor is closed (issue 8, rule 4).
 *   usage: libfds RO_FILE WO_FILE
 * RO_FILE, opened read-only at a number above 2, is the command's stdin
 * (stdio[0]); WO_FILE, opened write-only, is passed with pass_fds; RO_FILE
 * opened once more is leaked (not named).  The command checks what it got;
 * invalid pass_fds are refused.  Exits 0 and prints "libfds: ok" when every
 * step behaved as specified. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "srt.h"

/* $1: stdin's number in the caller, $2: the passed descriptor, $3: leaked */
static const char script[] =
	"read -r line; [ \"$line\" = orig ] || exit 11; "
	"(echo PWNED >> /proc/self/fd/0) 2>/dev/null && exit 12; "
	"echo written >&$2 || exit 13; "
	"[ -e /proc/self/fd/$1 ] && exit 14; "
	"[ -e /proc/self/fd/$3 ] && exit 15; "
	"exit 0";

static int fail(const char *what, const srt_error *err)
{
	fprintf(stderr, "libfds: %s%s%s\n", what, err ? ": " : "", err ? err->message : "");
	return 1;
}

static int refused(const srt_policy *pol, char **args, int fd)
{
	srt_error err = {0};
	srt_spawn_options o = {.argv = args, .stdio = {-1, -1, -1}, .pass_fds = &fd, .n_pass_fds = 1};
	srt_sandbox *sb = srt_sandbox_spawn(pol, &o, &err);
	if (sb) {
		srt_sandbox_destroy(sb);
		return 0;
	}
	return err.code == SRT_E_INVALID;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int ro = open(argv[1], O_RDONLY | O_CLOEXEC);
	int wo = open(argv[2], O_WRONLY | O_CLOEXEC);
	int leak = open(argv[1], O_RDONLY); /* not close-on-exec: a leak */
	if (ro < 3 || wo < 3 || leak < 3)
		return fail("open", NULL);

	srt_error err = {0};
	srt_config *cfg = srt_config_defaults(&err);
	srt_policy *pol = cfg ? srt_policy_resolve(cfg, NULL, &err) : NULL;
	if (!pol)
		return fail("policy", &err);

	char n_ro[16], n_wo[16], n_leak[16];
	snprintf(n_ro, sizeof n_ro, "%d", ro);
	snprintf(n_wo, sizeof n_wo, "%d", wo);
	snprintf(n_leak, sizeof n_leak, "%d", leak);
	char *args[] = {"/bin/bash", "-c", (char *)script, "bash", n_ro, n_wo, n_leak, NULL};
	srt_spawn_options o = {.argv = args, .stdio = {ro, -1, -1}, .pass_fds = &wo, .n_pass_fds = 1};
	srt_sandbox *sb = srt_sandbox_spawn(pol, &o, &err);
	if (!sb)
		return fail("spawn", &err);
	srt_exit ex;
	if (srt_sandbox_wait(sb, &ex, &err) < 0)
		return fail("wait", &err);
	srt_sandbox_destroy(sb);
	if (ex.signaled || ex.code != 0) {
		fprintf(stderr, "libfds: the command's check %d failed\n", ex.code);
		return 1;
	}

	char *t[] = {"/bin/true", NULL};
	if (!refused(pol, t, 1) || !refused(pol, t, 987))
		return fail("pass_fds with stdio or a closed descriptor was not refused", NULL);
	srt_policy_free(pol);
	srt_config_free(cfg);
	printf("libfds: ok\n");
	return 0;
}
