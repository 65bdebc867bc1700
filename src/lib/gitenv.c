/* gitenv.c - git configuration through the environment (see gitenv.h). */
#include "gitenv.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* git reads the pairs as 'key=value' items, single-quoted (sq_quote),
 * separated by spaces; items later in the list win */
#define OURS "'http.proxyAuthMethod=basic'"

char *srt_gitenv_parameters(const char *caller)
{
	if (!caller || !caller[0])
		return srt_asprintf("GIT_CONFIG_PARAMETERS=" OURS);
	return srt_asprintf("GIT_CONFIG_PARAMETERS=" OURS " %s", caller);
}

/* The caller's count as git would take it; anything else numbers from 0
 * (the reference's parseInt: leading digits) */
static long caller_start(const char *s)
{
	if (!s)
		return 0;
	errno = 0;
	char *end;
	long n = strtol(s, &end, 10);
	if (end == s || errno || n < 0 || n > INT_MAX / 2)
		return 0;
	return n;
}

static int emit(srt_strv *out, long *n, const char *key, const char *value)
{
	char *k = srt_asprintf("GIT_CONFIG_KEY_%ld=%s", *n, key);
	char *v = srt_asprintf("GIT_CONFIG_VALUE_%ld=%s", *n, value);
	(*n)++;
	int rc = srt_strv_push_owned(out, k);
	if (srt_strv_push_owned(out, v) < 0)
		rc = -1;
	return rc;
}

int srt_gitenv_safe_dirs(const srt_strv *dirs, const char *caller_count, srt_strv *out,
			 srt_error *err)
{
	if (!dirs->n || (caller_count && strcmp(caller_count, "0") == 0))
		return 0;
	long n = caller_start(caller_count);
	int rc = 0;
	if (dirs->n > SRT_GITENV_SAFE_DIRS_MAX) {
		rc = emit(out, &n, "safe.directory", "*");
	} else {
		for (size_t i = 0; rc == 0 && i < dirs->n; i++) {
			const char *d = dirs->v[i];
			/* "/" keeps its slash: "" would reset git's list, and
			 * a doubled slash before the star never matches */
			SRT_AUTOFREE char *glob = srt_asprintf("%s%s*", d,
							       strcmp(d, "/") == 0 ? "" : "/");
			rc = glob ? emit(out, &n, "safe.directory", d) : -1;
			if (rc == 0)
				rc = emit(out, &n, "safe.directory", glob);
		}
	}
	if (rc == 0)
		rc = srt_strv_push_owned(out, srt_asprintf("GIT_CONFIG_COUNT=%ld", n));
	return rc < 0 ? srt_fail(err, SRT_E_NOMEM, "out of memory") : 0;
}
