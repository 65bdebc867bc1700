/* gitconfig.c - git configuration syntax reader and the table of settings
 * that run programs (see gitconfig.h). */
#include "gitconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 256

typedef struct reader {
	const char *p, *end;
} reader;

static int peek(const reader *r)
{
	return r->p < r->end ? (unsigned char)*r->p : -1;
}

static void skip_blanks(reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r'))
		r->p++;
}

static void skip_line(reader *r)
{
	while (r->p < r->end && *r->p != '\n')
		r->p++;
	if (r->p < r->end)
		r->p++;
}

/* "[section]", "[section \"sub\"]" or the old "[section.sub]".  On success
 * the reader is after ']'. */
static bool read_header(reader *r, char *sec, char *sub, bool *has_sub)
{
	size_t n = 0;
	r->p++; /* '[' */
	*has_sub = false;
	/* git has no bound on a name's length: a longer one is read to its
	 * end and kept cut (no name of the table is that long), never taken
	 * for a malformed header, which would hide the section's entries */
	while (r->p < r->end && (isalnum((unsigned char)*r->p) || *r->p == '-' || *r->p == '.')) {
		if (n + 1 < NAME_MAX_LEN)
			sec[n++] = (char)tolower((unsigned char)*r->p);
		r->p++;
	}
	sec[n] = '\0';
	if (n == 0)
		return false;
	char *dot = strchr(sec, '.');
	if (dot) { /* old syntax: the subsection is lower-cased too */
		if (dot == sec)
			return false; /* no section name: git refuses it */
		*dot = '\0';
		snprintf(sub, NAME_MAX_LEN, "%s", dot + 1);
		*has_sub = true;
		if (peek(r) != ']')
			return false;
		r->p++;
		return true;
	}
	if (peek(r) == ']') {
		r->p++;
		return true;
	}
	skip_blanks(r);
	if (peek(r) != '"')
		return false;
	r->p++;
	size_t m = 0;
	for (;;) {
		int c = peek(r);
		if (c < 0 || c == '\n')
			return false;
		r->p++;
		if (c == '"')
			break;
		if (c == '\\') {
			c = peek(r);
			if (c < 0 || c == '\n')
				return false;
			r->p++;
		}
		if (m + 1 < NAME_MAX_LEN) /* cut, as the section name above */
			sub[m++] = (char)c;
	}
	sub[m] = '\0';
	*has_sub = true;
	if (peek(r) != ']')
		return false;
	r->p++;
	return true;
}

/* The value after '=' up to the end of the (possibly continued) line. */
static void read_value(reader *r, char *out, size_t cap)
{
	size_t n = 0, keep = 0; /* keep: length without trailing blanks */
	bool quoted = false;
	skip_blanks(r);
	while (r->p < r->end) {
		char c = *r->p;
		if (c == '\n')
			break;
		r->p++;
		if (!quoted && (c == '#' || c == ';')) {
			while (r->p < r->end && *r->p != '\n')
				r->p++; /* the newline is the caller's */
			break;
		}
		if (c == '"') {
			quoted = !quoted;
			keep = n;
			continue;
		}
		if (c == '\\' && r->p < r->end) {
			char e = *r->p++;
			if (e == '\n')
				continue; /* continuation */
			c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'b' ? '\b' : e;
			if (n + 1 < cap)
				out[n++] = c;
			keep = n;
			continue;
		}
		if (c == '\r')
			continue;
		if (!quoted && (c == ' ' || c == '\t')) {
			if (n > 0 && n + 1 < cap && out[n - 1] != ' ')
				out[n++] = ' '; /* runs of blanks collapse */
			continue;
		}
		if (n + 1 < cap)
			out[n++] = c;
		keep = n;
	}
	out[keep] = '\0';
}

size_t srt_gitcfg_parse(const char *text, size_t len, srt_gitcfg_fn fn, void *data)
{
	reader r = {text, text + len};
	char sec[NAME_MAX_LEN] = "", sub[NAME_MAX_LEN] = "", name[NAME_MAX_LEN];
	static const size_t vcap = SRT_GITCFG_MAX_VALUE + 1;
	char value[SRT_GITCFG_MAX_VALUE + 1];
	bool has_sub = false, in_section = false;
	size_t count = 0;
	/* git skips a UTF-8 byte order mark at the start of a file */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		r.p += 3;
	/* no bound on the number of entries: git has none, and one stopped
	 * short would hide what follows (each entry takes a byte of `len`) */
	while (r.p < r.end) {
		skip_blanks(&r);
		int c = peek(&r);
		if (c < 0)
			break;
		if (c == '\n' || c == '#' || c == ';') {
			skip_line(&r);
			continue;
		}
		if (c == '[') {
			in_section = read_header(&r, sec, sub, &has_sub);
			if (!in_section)
				skip_line(&r);
			continue; /* an entry may follow on the same line */
		}
		if (!isalpha(c) || !in_section) {
			skip_line(&r);
			continue;
		}
		size_t n = 0;
		while (r.p < r.end && (isalnum((unsigned char)*r.p) || *r.p == '-')) {
			if (n + 1 < sizeof name)
				name[n++] = (char)tolower((unsigned char)*r.p);
			r.p++;
		}
		name[n] = '\0';
		skip_blanks(&r);
		c = peek(&r);
		if (c == '=') {
			r.p++;
			read_value(&r, value, vcap);
			fn(sec, has_sub ? sub : NULL, name, value, data);
		} else if (c < 0 || c == '\n' || c == '#' || c == ';') {
			fn(sec, has_sub ? sub : NULL, name, NULL, data);
		} else {
			skip_line(&r);
			continue; /* git refuses such a file; report nothing more of the line */
		}
		count++;
		skip_line(&r);
	}
	return count;
}

/* ---- the table -----------------------------------------------------
 * Settings that make git (or a command git starts) run a program, from
 * git-config(1) and the pages it points to (git 2.39-2.47).  "*" stands for
 * any subsection (a driver, tool, remote or URL name); NULL means the
 * setting has no subsection.  A value is a shell command unless noted. */
static const struct {
	const char *section, *subsection, *name;
	srt_git_key_kind kind;
	const char *prefix; /* the value must start with it (NULL: any value) */
} git_keys[] = {
	{"core", NULL, "hookspath", SRT_GIT_KEY_HOOKS},
	{"include", NULL, "path", SRT_GIT_KEY_INCLUDE},
	{"includeif", "*", "path", SRT_GIT_KEY_INCLUDE},
	{"core", NULL, "fsmonitor", SRT_GIT_KEY_PROGRAM}, /* also a boolean */
	{"core", NULL, "sshcommand", SRT_GIT_KEY_PROGRAM},
	{"core", NULL, "pager", SRT_GIT_KEY_PROGRAM},
	{"core", NULL, "editor", SRT_GIT_KEY_PROGRAM},
	{"core", NULL, "askpass", SRT_GIT_KEY_PROGRAM},
	{"core", NULL, "gitproxy", SRT_GIT_KEY_PROGRAM},
	{"core", NULL, "alternaterefscommand", SRT_GIT_KEY_PROGRAM},
	{"sequence", NULL, "editor", SRT_GIT_KEY_PROGRAM},
	{"pager", NULL, NULL, SRT_GIT_KEY_PROGRAM},       /* pager.<cmd> */
	{"alias", NULL, NULL, SRT_GIT_KEY_PROGRAM, "!"},  /* alias.<name> = "!cmd" */
	{"diff", NULL, "external", SRT_GIT_KEY_PROGRAM},
	{"diff", "*", "command", SRT_GIT_KEY_PROGRAM},
	{"diff", "*", "textconv", SRT_GIT_KEY_PROGRAM},
	{"merge", "*", "driver", SRT_GIT_KEY_PROGRAM},
	{"filter", "*", "clean", SRT_GIT_KEY_PROGRAM},
	{"filter", "*", "smudge", SRT_GIT_KEY_PROGRAM},
	{"filter", "*", "process", SRT_GIT_KEY_PROGRAM},
	{"credential", NULL, "helper", SRT_GIT_KEY_PROGRAM},
	{"credential", "*", "helper", SRT_GIT_KEY_PROGRAM},
	{"gpg", NULL, "program", SRT_GIT_KEY_PROGRAM},
	{"gpg", "*", "program", SRT_GIT_KEY_PROGRAM},     /* gpg.ssh/x509.program */
	{"gpg", "ssh", "defaultkeycommand", SRT_GIT_KEY_PROGRAM},
	{"interactive", NULL, "difffilter", SRT_GIT_KEY_PROGRAM},
	{"difftool", "*", "cmd", SRT_GIT_KEY_PROGRAM},
	{"difftool", "*", "path", SRT_GIT_KEY_PROGRAM},
	{"mergetool", "*", "cmd", SRT_GIT_KEY_PROGRAM},
	{"mergetool", "*", "path", SRT_GIT_KEY_PROGRAM},
	{"web", NULL, "browser", SRT_GIT_KEY_PROGRAM},
	{"browser", "*", "cmd", SRT_GIT_KEY_PROGRAM},
	{"browser", "*", "path", SRT_GIT_KEY_PROGRAM},
	{"man", "*", "cmd", SRT_GIT_KEY_PROGRAM},
	{"man", "*", "path", SRT_GIT_KEY_PROGRAM},
	{"remote", "*", "uploadpack", SRT_GIT_KEY_PROGRAM},
	{"remote", "*", "receivepack", SRT_GIT_KEY_PROGRAM},
	{"remote", "*", "vcs", SRT_GIT_KEY_PROGRAM},      /* git-remote-<vcs> */
	/* "ext::<command> <args>": git-remote-ext runs the command (classified
	 * once protocol.ext.allow or protocol.allow lets it (not "never") */
	{"remote", "*", "url", SRT_GIT_KEY_PROGRAM, "ext::"},
	{"remote", "*", "pushurl", SRT_GIT_KEY_PROGRAM, "ext::"},
	{"protocol", NULL, "allow", SRT_GIT_KEY_PROGRAM},
	{"protocol", "*", "allow", SRT_GIT_KEY_PROGRAM},
	{"remote", "*", "proxy", SRT_GIT_KEY_PROGRAM},    /* may be a command */
	{"submodule", "*", "update", SRT_GIT_KEY_PROGRAM},/* "!command" */
	{"uploadpack", NULL, "packobjectshook", SRT_GIT_KEY_PROGRAM},
	{"tar", "*", "command", SRT_GIT_KEY_PROGRAM},
	{"trailer", "*", "command", SRT_GIT_KEY_PROGRAM},
	{"trailer", "*", "cmd", SRT_GIT_KEY_PROGRAM},
	{"sendemail", NULL, "sendmailcmd", SRT_GIT_KEY_PROGRAM},
	{"sendemail", NULL, "smtpserver", SRT_GIT_KEY_PROGRAM},
	{"sendemail", NULL, "tocmd", SRT_GIT_KEY_PROGRAM},
	{"sendemail", NULL, "cccmd", SRT_GIT_KEY_PROGRAM},
	{"sendemail", NULL, "headercmd", SRT_GIT_KEY_PROGRAM},
	{"imap", NULL, "tunnel", SRT_GIT_KEY_PROGRAM},
	{"instaweb", NULL, "httpd", SRT_GIT_KEY_PROGRAM},
	{"instaweb", NULL, "browser", SRT_GIT_KEY_PROGRAM},
	{"ssh", NULL, "variant", SRT_GIT_KEY_OTHER},      /* a name, not a program */
	{"http", NULL, "proxy", SRT_GIT_KEY_OTHER},
};

srt_git_key_kind srt_git_key_classify(const char *section, const char *subsection,
				      const char *name, const char *value)
{
	for (size_t i = 0; i < sizeof git_keys / sizeof *git_keys; i++) {
		if (strcasecmp(git_keys[i].section, section) != 0)
			continue;
		const char *ts = git_keys[i].subsection;
		if (ts ? !subsection || (strcmp(ts, "*") != 0 && strcasecmp(ts, subsection) != 0)
		       : subsection != NULL)
			continue;
		if (git_keys[i].name && strcasecmp(git_keys[i].name, name) != 0)
			continue;
		/* some run a program only with a value of that shape */
		if (git_keys[i].prefix &&
		    (!value || strncmp(value, git_keys[i].prefix, strlen(git_keys[i].prefix)) != 0))
			return SRT_GIT_KEY_OTHER;
		/* what lets an ext:: URL run: anything but "never" */
		if (strcmp(git_keys[i].section, "protocol") == 0 && value &&
		    strcasecmp(value, "never") == 0)
			return SRT_GIT_KEY_OTHER;
		return git_keys[i].kind;
	}
	return SRT_GIT_KEY_OTHER;
}

bool srt_git_program_path(const char *value, char *out, size_t cap)
{
	if (!value || cap == 0)
		return false;
	const char *p = value;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '!')
		p++;
	else if (strncmp(p, "ext::", 5) == 0) /* a URL of the ext transport */
		p += 5;
	while (*p == ' ' || *p == '\t')
		p++;
	/* the first shell word, with simple quoting */
	size_t n = 0;
	char q = 0;
	for (; *p; p++) {
		if (q) {
			if (*p == q) {
				q = 0;
				continue;
			}
		} else if (*p == '\'' || *p == '"') {
			q = *p;
			continue;
		} else if (*p == ' ' || *p == '\t' || *p == ';' || *p == '|' || *p == '&') {
			break;
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = *p;
	}
	out[n] = '\0';
	return n > 0 && strchr(out, '/') != NULL;
}
