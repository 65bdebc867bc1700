/* gitconfig.h - a reader for git's configuration syntax (git-config(1),
 * "CONFIGURATION FILE"), and the one table of settings with which a config
 * makes git run a program or read more configuration.
 *
 * srt reads the configs it protects (they are read-only inside the sandbox)
 * to find what else git on the host would take from a writable place: a
 * core.hooksPath directory, an included file, a program named by path
 * (core.fsmonitor = ./tools/watch.sh).  Those are protected too (policy.c).
 * The text may have been written by an earlier, unprotected run: the reader
 * is pure, bounded and fuzzed (fuzz/fuzz_gitconfig.c). */
#ifndef SRT_GITCONFIG_H
#define SRT_GITCONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* What a setting makes git do with its value. */
typedef enum srt_git_key_kind {
	SRT_GIT_KEY_OTHER,    /* not in the table */
	SRT_GIT_KEY_PROGRAM,  /* a shell command or program git runs */
	SRT_GIT_KEY_HOOKS,    /* core.hooksPath: a directory of programs */
	SRT_GIT_KEY_INCLUDE,  /* include.path, includeIf.<cond>.path */
} srt_git_key_kind;

/* One "section.subsection.name = value" entry.  section and name are
 * lower-cased; subsection is as written (NULL when absent); value is
 * unquoted and unescaped (NULL for a bare boolean "name"). */
typedef void (*srt_gitcfg_fn)(const char *section, const char *subsection,
			      const char *name, const char *value, void *data);

/* Call fn for each entry of `text` (len bytes, need not be NUL-terminated),
 * in order.  Malformed lines are skipped the way git would refuse them:
 * the reader never fails, it only reports fewer entries.  Every entry git
 * reads is reported (a leading UTF-8 byte order mark skipped, as git does;
 * no bound on their number, each takes input); names longer than 255 bytes
 * and values longer than SRT_GITCFG_MAX_VALUE are cut (and reported cut).
 * Returns the number of entries reported. */
#define SRT_GITCFG_MAX_VALUE 4096
size_t srt_gitcfg_parse(const char *text, size_t len, srt_gitcfg_fn fn, void *data);

/* The table: what kind of setting section.subsection.name is. */
srt_git_key_kind srt_git_key_classify(const char *section, const char *subsection,
				      const char *name, const char *value);

/* The program a PROGRAM value runs when it is named by a path: its first
 * shell word (quotes removed, a leading "!" of aliases dropped), copied to
 * out when it contains a '/' ("./x.sh", "tools/x", "/abs", "~/x").
 * False for a bare command name (found through PATH) or an empty value. */
bool srt_git_program_path(const char *value, char *out, size_t cap);

#endif
