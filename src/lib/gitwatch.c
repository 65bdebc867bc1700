/* gitwatch.c - which writable .git/config files gained settings that make
 * git run programs (see gitwatch.h).  The files are the command's to write
 * during the run: they are read without following symlinks, bounded, by
 * the fuzzed reader (gitconfig.c). */
#include "gitwatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gitconfig.h"
#include "hostexec.h"

typedef struct collect_ctx {
	srt_strv *out;
	bool nomem;
} collect_ctx;

static void collect(const char *section, const char *subsection, const char *name,
		    const char *value, void *data)
{
	collect_ctx *c = data;
	if (c->nomem || c->out->n >= SRT_GITWATCH_MAX_SETTINGS ||
	    srt_git_key_classify(section, subsection, name, value) == SRT_GIT_KEY_OTHER)
		return;
	char *line = srt_asprintf("%s%s%s.%s=%s", section, subsection ? "." : "",
				  subsection ? subsection : "", name, value ? value : "");
	if (srt_strv_push_owned(c->out, line) < 0)
		c->nomem = true;
}

/* 0: read (or missing), 1: there but not readable as a config (too
 * large, a symlink, not a regular file: git may still read it), -1: out
 * of memory. */
static int settings_of(const char *path, srt_strv *out)
{
	size_t len = 0;
	SRT_AUTOFREE char *text = srt_hostexec_read_config(path, &len);
	struct stat st;
	if (!text)
		return lstat(path, &st) < 0 && errno == ENOENT ? 0 : 1;
	collect_ctx c = {.out = out};
	srt_gitcfg_parse(text, len, collect, &c);
	return c.nomem ? -1 : 0;
}

int srt_gitwatch_add(srt_gitwatch *w, const srt_strv *paths, srt_error *err)
{
	for (size_t i = 0; i < paths->n; i++) {
		srt_gitwatch_file *v = realloc(w->v, (w->n + 1) * sizeof *v);
		if (!v)
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		w->v = v;
		srt_gitwatch_file *f = &v[w->n];
		*f = (srt_gitwatch_file){.path = strdup(paths->v[i])};
		w->n++;
		if (!f->path || settings_of(f->path, &f->before) < 0) /* 1: none known */
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
	}
	return 0;
}

/* Append "name" (the part before '=') of each setting of `now` that is
 * not in `before` to buf; returns how many. */
static size_t new_names(const srt_strv *before, const srt_strv *now, char *buf, size_t cap)
{
	size_t count = 0, len = strlen(buf);
	for (size_t i = 0; i < now->n; i++) {
		if (srt_strv_contains(before, now->v[i]))
			continue;
		int r = snprintf(buf + len, cap - len, "%s%.*s", count ? ", " : "",
				 (int)strcspn(now->v[i], "="), now->v[i]);
		if (r > 0 && (size_t)r < cap - len)
			len += (size_t)r;
		count++;
	}
	return count;
}

char *srt_gitwatch_report(const srt_gitwatch *w)
{
	char *msg = NULL;
	for (size_t i = 0; i < w->n; i++) {
		srt_strv now = {0};
		char names[2048] = "";
		int r = settings_of(w->v[i].path, &now);
		size_t count = r == 0 ? new_names(&w->v[i].before, &now, names, sizeof names) : 0;
		srt_strv_clear(&now);
		if (r < 0 || (r == 0 && !count))
			continue;
		char *line = r == 1
			? srt_asprintf("%s%s%s: cannot be checked after the run (allowGitConfig; "
				       "not a regular file of at most 1 MiB, or reached through a "
				       "symlink): git run here on the host may run programs it names",
				       msg ? msg : "", msg ? "\n" : "", w->v[i].path)
			: srt_asprintf("%s%s%s: the command set %s there (allowGitConfig): git "
				       "run here on the host runs what %s; check `git config "
				       "--list --local`",
				       msg ? msg : "", msg ? "\n" : "", w->v[i].path, names,
				       count > 1 ? "they name" : "it names");
		free(msg);
		msg = line;
		if (!msg)
			return NULL;
	}
	return msg;
}

void srt_gitwatch_clear(srt_gitwatch *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].path);
		srt_strv_clear(&w->v[i].before);
	}
	free(w->v);
	*w = (srt_gitwatch){0};
}
