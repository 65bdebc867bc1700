/* gitwatch.h - filesystem.allowGitConfig's check after the run: the
 * .git/config files the key made writable are read when the policy is
 * resolved and again after the run, and the settings with which git runs
 * a program or reads more configuration (gitconfig.h's table) that were
 * not there before are named (srt_policy_git_config_changes in srt.h). */
#ifndef SRT_GITWATCH_H
#define SRT_GITWATCH_H

#include <stddef.h>

#include "srt.h"
#include "util.h"

/* Settings taken from one config; past that the rest is not compared. */
#define SRT_GITWATCH_MAX_SETTINGS 256

typedef struct srt_gitwatch_file {
	char *path;
	srt_strv before; /* "section[.subsection].name=value" of the table's settings */
} srt_gitwatch_file;

typedef struct srt_gitwatch {
	srt_gitwatch_file *v;
	size_t n;
} srt_gitwatch;

/* Remember the table's settings of each of `paths` as they are now (a
 * missing or unreadable file has none).  Returns 0, or -1 with err set. */
int srt_gitwatch_add(srt_gitwatch *w, const srt_strv *paths, srt_error *err);

/* The message naming, per file, the settings it holds now and did not
 * before (malloc'd), or NULL when there are none or out of memory. */
char *srt_gitwatch_report(const srt_gitwatch *w);

void srt_gitwatch_clear(srt_gitwatch *w);

#endif
