/* gitsanitize.h - what of a git directory the command created in a fresh
 * directory is taken onto the host (gitfresh.c): pure checks, unit-tested
 * and fuzzed (fuzz/fuzz_gitsanitize.c). */
#ifndef SRT_GITSANITIZE_H
#define SRT_GITSANITIZE_H

#include <stdbool.h>
#include <stddef.h>

/* HEAD's content (len bytes) names a branch ("ref: refs/heads/<name>",
 * the name valid as git-check-ref-format(1) has it) or an object id (40
 * or 64 lower-case hex digits), with one optional final newline. */
bool srt_git_head_valid(const char *text, size_t len);

/* Does git index `buf` (len bytes; versions 2 to 4, object ids of
 * `oid_len` bytes: 20 for SHA-1, 32 for SHA-256) hold a gitlink (mode
 * 160000)?  1: yes, 0: no, -1: it does not parse.  A gitlink to a
 * repository the command made in a subdirectory makes a plain `git status`
 * at the top run that repository's config on the host. */
int srt_git_index_has_gitlink(const unsigned char *buf, size_t len, size_t oid_len);

/* A sanitized config: text (NUL-terminated, malloc'd) and the settings
 * named: left out, or with keep_all those kept that make git run a program
 * or read another file ("core.fsmonitor", ... at most 8 names kept, each
 * "section[.subsection].name"; n_dropped counts all). */
typedef struct srt_gitcfg_clean {
	char *text;
	size_t len;
	char dropped[8][96];
	size_t n_dropped;
} srt_gitcfg_clean;

/* Rewrite config `text` (len bytes) keeping only the settings on the
 * allowlist (none of which makes git run a program or read another file),
 * or, with keep_all, every setting as written (filesystem.allowGitConfig:
 * the user lets the command configure git).  Either way the output is
 * re-serialized from the parsed entries, so nothing the parser did not
 * understand reaches the host.  0, or -1 when out of memory. */
int srt_gitcfg_sanitize(const char *text, size_t len, bool keep_all, srt_gitcfg_clean *out);

void srt_gitcfg_clean_free(srt_gitcfg_clean *c);

#endif
