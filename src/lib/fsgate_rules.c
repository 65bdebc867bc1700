/* fsgate_rules.c - PURE: which names the creation gate refuses (fsgate.h).
 *
 * The names are mandatory.c's table, at any depth:
 *  - a one-component entry (".bashrc", ".vscode") is refused as the name
 *    itself, and a directory entry also as any ancestor of the name;
 *  - a two-component entry (".claude/commands") when the directory is
 *    named after its first component, and a directory entry also as an
 *    ancestor pair;
 *  - the ".git/..." entries are git's own and follow git's rules instead:
 *    in any git directory (".git", or a directory holding HEAD: a bare
 *    layout, a submodule's or worktree's administrative directory) hooks/
 *    may hold samples only, config and config.worktree may arrive only by
 *    a checked rename, and HEAD (which makes it a git directory) only when
 *    those already hold (fsgate.c checks).  `git init`, `git config`,
 *    `git worktree add` keep working; nothing they leave runs a program.
 * A directory renamed to ".git", or into a path through one, is refused:
 * what it holds was never judged as part of a git directory. */
#include "fsgate.h"

#include "gitconfig.h"
#include "mandatory.h"

#include <stdio.h>
#include <string.h>

/* Last component of an absolute path ("" for "/"). */
static const char *last_component(const char *dir, size_t *len)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	size_t s = n;
	while (s > 0 && dir[s - 1] != '/')
		s--;
	*len = n - s;
	return dir + s;
}

static bool comp_is(const char *c, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(c, want, len) == 0;
}

/* Does `dir` have a component `a`, followed by `b` when b != NULL? */
static bool has_components(const char *dir, const char *a, const char *b)
{
	const char *p = dir;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l && comp_is(p, l, a)) {
			if (!b)
				return true;
			const char *q = p + l;
			while (*q == '/')
				q++;
			const char *e2 = strchr(q, '/');
			size_t l2 = e2 ? (size_t)(e2 - q) : strlen(q);
			if (l2 && comp_is(q, l2, b))
				return true;
		}
		p += l;
	}
	return false;
}

static srt_fsg_verdict refuse(const char **rule, const char *why)
{
	*rule = why;
	return SRT_FSG_REFUSE;
}

static bool is_sample(const char *name)
{
	size_t l = strlen(name);
	return l > 7 && strcmp(name + l - 7, ".sample") == 0;
}

static srt_fsg_verdict judge_git(const char *dir, const char *name, srt_fsg_obj obj,
				 srt_fsg_intent intent, unsigned dir_flags, const char **rule)
{
	if (dir_flags & SRT_FSG_DIR_HOOKS) {
		if (intent == SRT_FSG_LINK_FROM)
			return SRT_FSG_ALLOW;
		if (obj == SRT_FSG_FILE && is_sample(name))
			return SRT_FSG_ALLOW;
		return refuse(rule, "mandatory deny .git/hooks (git runs what is there)");
	}
	/* HEAD makes any directory a git directory (with objects/ and refs/) */
	if (strcmp(name, "HEAD") == 0 && intent != SRT_FSG_WRITE && intent != SRT_FSG_LINK_FROM)
		return obj == SRT_FSG_FILE ? SRT_FSG_GITHEAD
					   : refuse(rule, "a git directory's HEAD must be a file");
	if (!(dir_flags & SRT_FSG_DIR_GITDIR))
		return SRT_FSG_ALLOW;
	if (strcmp(name, "hooks") == 0) {
		if (obj == SRT_FSG_DIR && intent == SRT_FSG_CREATE)
			return SRT_FSG_ALLOW; /* an empty one; what goes in is judged */
		if (intent == SRT_FSG_LINK_FROM)
			return SRT_FSG_ALLOW;
		return refuse(rule, "mandatory deny .git/hooks (git runs what is there)");
	}
	/* a repository's own commondir sends git to another directory for its
	 * config and hooks; a worktree's administrative directory needs one
	 * (`git worktree add`), and what it names is a git directory the gate
	 * judged too, or the user's */
	size_t dl;
	const char *dlast = last_component(dir, &dl);
	if (strcmp(name, "commondir") == 0 && comp_is(dlast, dl, ".git") && intent != SRT_FSG_LINK_FROM)
		return refuse(rule, "mandatory deny .git/commondir");
	if (strcmp(name, "config") == 0 || strcmp(name, "config.worktree") == 0) {
		if (dir_flags & SRT_FSG_GITCONFIG_OK)
			return SRT_FSG_ALLOW;
		if (intent == SRT_FSG_RENAME_TO && obj == SRT_FSG_FILE)
			return SRT_FSG_GITCONFIG;
		return refuse(rule, "mandatory deny .git/config (a git directory's config changes "
				    "only by a checked rename)");
	}
	return SRT_FSG_ALLOW;
}

srt_fsg_verdict srt_fsgate_judge(const char *dir, const char *name, srt_fsg_obj obj,
				 srt_fsg_intent intent, unsigned dir_flags, const char **rule)
{
	*rule = NULL;
	size_t dl;
	const char *dlast = last_component(dir, &dl);
	for (size_t i = 0; i < srt_mandatory_name_count; i++) {
		const srt_mandatory_name *m = &srt_mandatory_names[i];
		if (strncmp(m->rel, ".git/", 5) == 0)
			continue; /* judge_git */
		const char *slash = strchr(m->rel, '/');
		if (!slash) {
			/* as a link's source too: a second name would be writable */
			if (strcmp(name, m->rel) == 0)
				return refuse(rule, m->rel);
			if (m->is_dir && has_components(dir, m->rel, NULL))
				return refuse(rule, m->rel);
			continue;
		}
		char first[64];
		size_t fl = (size_t)(slash - m->rel);
		if (fl >= sizeof first)
			continue;
		memcpy(first, m->rel, fl);
		first[fl] = '\0';
		if (comp_is(dlast, dl, first) && strcmp(name, slash + 1) == 0)
			return refuse(rule, m->rel);
		if (m->is_dir && has_components(dir, first, slash + 1))
			return refuse(rule, m->rel);
	}
	if (strcmp(name, ".git") == 0 && obj == SRT_FSG_DIR && intent == SRT_FSG_RENAME_TO)
		return refuse(rule, ".git (a directory renamed into place was never judged as one)");
	if (obj == SRT_FSG_DIR && intent == SRT_FSG_RENAME_TO && has_components(dir, ".git", NULL))
		return refuse(rule, ".git (a directory renamed into place was never judged as one)");
	return judge_git(dir, name, obj, intent, dir_flags, rule);
}

typedef struct clean_scan {
	bool dirty;
	char *key;
	size_t cap;
} clean_scan;

static void clean_entry(const char *section, const char *subsection, const char *name,
			const char *value, void *data)
{
	clean_scan *s = data;
	if (s->dirty || srt_git_key_classify(section, subsection, name, value) == SRT_GIT_KEY_OTHER)
		return;
	s->dirty = true;
	if (s->cap)
		snprintf(s->key, s->cap, "%s%s%s.%s", section, subsection ? "." : "",
			 subsection ? subsection : "", name);
}

bool srt_fsgate_gitconfig_clean(const char *text, size_t len, char *key, size_t cap)
{
	clean_scan s = {.key = key, .cap = cap};
	if (cap)
		key[0] = '\0';
	srt_gitcfg_parse(text, len, clean_entry, &s);
	return !s.dirty;
}
