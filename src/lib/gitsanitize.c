/* gitsanitize.c - HEAD validation and the config allowlist for a git
 * directory created in a fresh directory (see gitsanitize.h). */
#include "gitsanitize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gitconfig.h"

#define REF_MAX 1024

/* git-check-ref-format(1), for the part after "refs/heads/": no component
 * starting with '.' or ending with ".lock", no "..", "@{", control
 * characters, space, ~ ^ : ? * [ \, no empty component, no trailing '/' or
 * '.', and not "@" alone. */
static bool branch_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > REF_MAX || (n == 1 && s[0] == '@') || s[n - 1] == '/' || s[n - 1] == '.')
		return false;
	size_t comp = 0; /* start of the current component */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
			return false;
		if (c == '.' && ((i + 1 < n && s[i + 1] == '.') || i == comp))
			return false;
		if (c == '@' && i + 1 < n && s[i + 1] == '{')
			return false;
		if (c == '/' || i + 1 == n) {
			size_t end = c == '/' ? i : n;
			if (end == comp)
				return false;
			if (end - comp >= 5 && memcmp(s + end - 5, ".lock", 5) == 0)
				return false;
			comp = i + 1;
		}
	}
	return true;
}

bool srt_git_head_valid(const char *text, size_t len)
{
	if (len > 0 && text[len - 1] == '\n')
		len--;
	static const char pre[] = "ref: refs/heads/";
	if (len > sizeof pre - 1 && memcmp(text, pre, sizeof pre - 1) == 0)
		return branch_name_valid(text + sizeof pre - 1, len - (sizeof pre - 1));
	if (len != 40 && len != 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	return true;
}

/* ---- the index ------------------------------------------------------- */

static unsigned be32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

#define INDEX_STAT_LEN 40 /* ctime, mtime, dev, ino, mode, uid, gid, size */

int srt_git_index_has_gitlink(const unsigned char *buf, size_t len, size_t oid_len)
{
	if (len < 12 || memcmp(buf, "DIRC", 4) != 0)
		return -1;
	unsigned version = be32(buf + 4), count = be32(buf + 8);
	if (version < 2 || version > 4 || (oid_len != 20 && oid_len != 32))
		return -1;
	size_t off = 12;
	for (unsigned i = 0; i < count; i++) {
		size_t fixed = INDEX_STAT_LEN + oid_len + 2;
		if (off > len || len - off < fixed)
			return -1;
		const unsigned char *e = buf + off;
		unsigned mode = be32(e + 24);
		unsigned flags = (unsigned)e[INDEX_STAT_LEN + oid_len] << 8 | e[INDEX_STAT_LEN + oid_len + 1];
		if ((mode & 0170000) == 0160000)
			return 1;
		if (flags & 0x4000) { /* extended flags */
			if (version < 3)
				return -1;
			fixed += 2;
			if (len - off < fixed)
				return -1;
		}
		size_t p = off + fixed;
		if (version == 4) { /* a varint (bytes stripped from the previous path), then the rest */
			size_t k = 0;
			while (p < len && (buf[p] & 0x80) && k++ < 10)
				p++;
			if (p >= len || k >= 10)
				return -1;
			p++;
		}
		const unsigned char *nul = p < len ? memchr(buf + p, '\0', len - p) : NULL;
		if (!nul)
			return -1;
		size_t name_end = (size_t)(nul - buf); /* index of the NUL */
		if (version == 4)
			off = name_end + 1;
		else /* padded with 1 to 8 NULs to a multiple of 8 */
			off += (fixed + (name_end - p) + 8) & ~(size_t)7;
	}
	return off <= len ? 0 : -1;
}

/* ---- the allowlist --------------------------------------------------- */

static bool is_false(const char *v)
{
	return v && (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 ||
		     strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0);
}

/* A URL git may fetch from without running anything of the command's: one
 * that reaches another host (a network scheme, or ssh's "host:path").  Not
 * the ext:: transport (runs a command) nor fd:: or another helper, not an
 * option, and not a repository on this machine (a path, file://): git push
 * runs that repository's hooks here, and the command can plant one with
 * hooks in its workspace (a bare repository has no .git/hooks to protect;
 * red team). */
static bool url_ok(const char *v)
{
	if (!v || !v[0] || v[0] == '-')
		return false;
	const char *sep = strstr(v, "://");
	if (sep) {
		static const char *const schemes[] = {"https", "http", "ssh", "git", "git+ssh",
						      "ssh+git"};
		for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
			if ((size_t)(sep - v) == strlen(schemes[i]) &&
			    strncasecmp(v, schemes[i], (size_t)(sep - v)) == 0)
				return true;
		return false;
	}
	/* git's scp-like syntax: a colon before any slash ("::" is a helper) */
	const char *colon = strchr(v, ':');
	const char *slash = strchr(v, '/');
	return colon && colon > v && (!slash || colon < slash) && colon[1] != ':';
}

/* The remotes whose url is kept (url_ok), named as they are written back. */
typedef struct remote_names {
	char (*v)[256];
	size_t n, cap;
	bool failed;
} remote_names;

static bool remote_kept(const remote_names *r, const char *name)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (strcmp(r->v[i], name) == 0)
			return true;
	return false;
}

/* branch.<b>.remote names where git push and pull go: a remote (kept only
 * when that remote's url is), "." (this repository), or, a name git finds
 * no url for, a URL or path itself: "origin" with its path url dropped, or
 * "store.git", is the path ./origin or ./store.git, a bare repository the
 * command can plant in its workspace, whose pre-receive hook plain `git
 * push` then runs here (red team). */
static bool branch_remote_ok(const char *v, const remote_names *remotes)
{
	if (!v || !v[0] || v[0] == '-')
		return false;
	return strcmp(v, ".") == 0 || remote_kept(remotes, v) || url_ok(v);
}

/* What a remote whose every url was dropped points to instead: a path
 * that can never exist (nothing is under a character device).  With no url
 * at all, git reads the remote's name as a path: `git push origin` went to
 * ./origin, a bare repository the command planted, and ran its
 * pre-receive hook here (red team).  Kept when read again, so that
 * sanitizing is idempotent (fuzz_gitsanitize). */
#define DROPPED_URL "/dev/null/srt-dropped-url"

/* Settings that neither run a program nor name another file git reads
 * (include.path), a hooks directory or a transport command. */
static bool allowed(const char *sec, const char *sub, const char *name, const char *v,
		    const remote_names *remotes)
{
	if (strcmp(sec, "core") == 0 && !sub) {
		static const char *const core_ok[] = {"repositoryformatversion", "filemode",
						      "logallrefupdates", "ignorecase",
						      "precomposeunicode", "symlinks"};
		for (size_t i = 0; i < sizeof core_ok / sizeof *core_ok; i++)
			if (strcmp(name, core_ok[i]) == 0)
				return true;
		return strcmp(name, "bare") == 0 && is_false(v);
	}
	if (strcmp(sec, "extensions") == 0 && !sub && strcmp(name, "objectformat") == 0)
		return v && (strcmp(v, "sha1") == 0 || strcmp(v, "sha256") == 0);
	if (strcmp(sec, "remote") == 0 && sub) {
		if (strcmp(name, "url") == 0 || strcmp(name, "pushurl") == 0)
			return url_ok(v) || (v && strcmp(v, DROPPED_URL) == 0);
		return strcmp(name, "fetch") == 0 && v && v[0] != '-';
	}
	if (strcmp(sec, "branch") == 0 && sub) {
		if (strcmp(name, "remote") == 0)
			return branch_remote_ok(v, remotes);
		return strcmp(name, "merge") == 0 && v && v[0] != '-';
	}
	if (strcmp(sec, "user") == 0 && !sub)
		return strcmp(name, "name") == 0 || strcmp(name, "email") == 0;
	return false;
}

/* ---- writing --------------------------------------------------------- */

typedef struct writer {
	srt_gitcfg_clean *out;
	const remote_names *remotes;
	remote_names stubbed;   /* remotes given DROPPED_URL */
	size_t cap;
	bool keep_all, failed;
	char sec[256], sub[256];
	bool has_sec, has_sub;
} writer;

static void put(writer *w, const char *s, size_t n)
{
	srt_gitcfg_clean *o = w->out;
	if (w->failed)
		return;
	if (o->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (o->len + n + 1 > cap)
			cap *= 2;
		char *t = realloc(o->text, cap);
		if (!t) {
			w->failed = true;
			return;
		}
		o->text = t;
		w->cap = cap;
	}
	memcpy(o->text + o->len, s, n);
	o->len += n;
	o->text[o->len] = '\0';
}

static void puts_w(writer *w, const char *s)
{
	put(w, s, strlen(s));
}

/* A quoted string as git reads it back: \" \\ \n \t escaped; other bytes
 * as they are (the parser never reports a raw newline in a subsection). */
static void put_quoted(writer *w, const char *s)
{
	put(w, "\"", 1);
	for (; *s; s++) {
		const char *e = *s == '"' ? "\\\"" : *s == '\\' ? "\\\\" : *s == '\n' ? "\\n"
			      : *s == '\t' ? "\\t" : *s == '\b' ? "\\b" : NULL;
		if (e)
			puts_w(w, e);
		else if ((unsigned char)*s >= 0x20)
			put(w, s, 1);
		/* other control bytes cannot be written back: dropped */
	}
	put(w, "\"", 1);
}

static void note_dropped(srt_gitcfg_clean *o, const char *sec, const char *sub, const char *name)
{
	if (o->n_dropped < sizeof o->dropped / sizeof *o->dropped) {
		char *d = o->dropped[o->n_dropped];
		snprintf(d, sizeof o->dropped[0], "%s%s%s.%s", sec, sub ? "." : "", sub ? sub : "", name);
		for (char *c = d; *c; c++) /* named in srt's summary: printable only */
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
	}
	o->n_dropped++;
}

/* A value as it is written back: no control bytes but \n \t \b
 * (put_quoted escapes those), so a value of control bytes alone is empty. */
static const char *clean_value(const char *value, char vw[SRT_GITCFG_MAX_VALUE + 1])
{
	if (!value)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; value[i] && n < SRT_GITCFG_MAX_VALUE; i++)
		if ((unsigned char)value[i] >= 0x20 || value[i] == '\n' || value[i] == '\t' ||
		    value[i] == '\b')
			vw[n++] = value[i];
	vw[n] = '\0';
	return vw;
}

/* A subsection as it is written back: no control bytes (a subsection
 * knows no escapes but \" and \\). */
static const char *clean_sub(const char *sub, char subw[256])
{
	if (!sub)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; sub[i] && n + 1 < 256; i++)
		if ((unsigned char)sub[i] >= 0x20)
			subw[n++] = sub[i];
	subw[n] = '\0';
	return subw;
}

/* First pass: the remotes whose url is kept. */
static void collect_remote(const char *sec, const char *sub, const char *name,
			   const char *value, void *data)
{
	remote_names *r = data;
	char vw[SRT_GITCFG_MAX_VALUE + 1], subw[256];
	if (r->failed || strcmp(sec, "remote") != 0 || !sub || strcmp(name, "url") != 0 ||
	    !url_ok(clean_value(value, vw)))
		return;
	sub = clean_sub(sub, subw);
	if (remote_kept(r, sub))
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 8;
		char(*v)[256] = realloc(r->v, cap * sizeof *v);
		if (!v) {
			r->failed = true;
			return;
		}
		r->v = v;
		r->cap = cap;
	}
	snprintf(r->v[r->n++], 256, "%s", sub);
}

static void write_header(writer *w, const char *sec, const char *sub);

static void stub_remote(writer *w, const char *sub)
{
	char subw[256];
	sub = clean_sub(sub, subw);
	if (remote_kept(w->remotes, sub) || remote_kept(&w->stubbed, sub))
		return;
	remote_names *r = &w->stubbed;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 8;
		char(*v)[256] = realloc(r->v, cap * sizeof *v);
		if (!v) {
			w->failed = true;
			return;
		}
		r->v = v;
		r->cap = cap;
	}
	snprintf(r->v[r->n++], 256, "%s", sub);
	write_header(w, "remote", sub);
	puts_w(w, "\turl = \"" DROPPED_URL "\"\n");
}

static void entry(const char *sec, const char *sub, const char *name, const char *value,
		  void *data)
{
	writer *w = data;
	/* judged as it is written */
	char vw[SRT_GITCFG_MAX_VALUE + 1];
	value = clean_value(value, vw);
	if (!w->keep_all && !allowed(sec, sub, name, value, w->remotes)) {
		note_dropped(w->out, sec, sub, name);
		if (strcmp(sec, "remote") == 0 && sub &&
		    (strcmp(name, "url") == 0 || strcmp(name, "pushurl") == 0))
			stub_remote(w, sub);
		return;
	}
	if (w->keep_all && srt_git_key_classify(sec, sub, name, value) != SRT_GIT_KEY_OTHER)
		note_dropped(w->out, sec, sub, name); /* kept, and named */
	char subw[256];
	sub = clean_sub(sub, subw);
	write_header(w, sec, sub);
	put(w, "\t", 1);
	puts_w(w, name);
	if (value) {
		puts_w(w, " = ");
		put_quoted(w, value);
	}
	put(w, "\n", 1);
}

/* A section header when it changes (sub: cleaned). */
static void write_header(writer *w, const char *sec, const char *sub)
{
	if (!w->has_sec || strcmp(w->sec, sec) != 0 || w->has_sub != (sub != NULL) ||
	    (sub && strcmp(w->sub, sub) != 0)) {
		snprintf(w->sec, sizeof w->sec, "%s", sec);
		snprintf(w->sub, sizeof w->sub, "%s", sub ? sub : "");
		w->has_sec = true;
		w->has_sub = sub != NULL;
		put(w, "[", 1);
		puts_w(w, sec);
		if (sub) {
			put(w, " ", 1);
			put_quoted(w, sub);
		}
		puts_w(w, "]\n");
	}
}

int srt_gitcfg_sanitize(const char *text, size_t len, bool keep_all, srt_gitcfg_clean *out)
{
	*out = (srt_gitcfg_clean){0};
	remote_names remotes = {0};
	if (!keep_all)
		srt_gitcfg_parse(text, len, collect_remote, &remotes);
	writer w = {.out = out, .keep_all = keep_all, .remotes = &remotes};
	put(&w, "", 0); /* an empty config is "" rather than NULL */
	if (!remotes.failed)
		srt_gitcfg_parse(text, len, entry, &w);
	free(remotes.v);
	free(w.stubbed.v);
	if (w.failed || remotes.failed) {
		srt_gitcfg_clean_free(out);
		return -1;
	}
	return 0;
}

void srt_gitcfg_clean_free(srt_gitcfg_clean *c)
{
	free(c->text);
	c->text = NULL;
	c->len = 0;
}
