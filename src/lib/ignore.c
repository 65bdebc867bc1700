/* ignore.c - ignoreViolations as the reference 0.0.83 matches it
 * (sandbox-violation-store.js, shouldIgnoreViolation): the key "*" applies
 * to every command, any other key when it occurs in the command text; a
 * pattern suppresses a violation when it occurs in the violation's line.
 * Substrings only, so "*.example.com" as a pattern matches nothing but that
 * literal text.  A suppressed refusal is still refused: this only decides
 * what is reported. */
#include "ignore.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* The reference's bare-word set: nothing in it is special to a shell, and
 * "=" only after the first character (zsh's equals expansion). */
static bool bare_word(const char *s)
{
	static const char first[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789_./:@+,-";
	if (!*s || !strchr(first, *s))
		return false;
	for (s++; *s; s++)
		if (*s != '=' && !strchr(first, *s))
			return false;
	return true;
}

char *srt_shell_quote(char *const *argv)
{
	size_t cap = 1;
	for (size_t i = 0; argv && argv[i]; i++) {
		size_t q = 0;
		for (const char *p = argv[i]; *p; p++)
			q += *p == '\'' ? 5 : 1; /* ' becomes '"'"' */
		cap += q + 3;
	}
	char *out = malloc(cap);
	if (!out)
		return NULL;
	char *o = out;
	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			*o++ = ' ';
		const char *a = argv[i];
		if (bare_word(a)) {
			size_t l = strlen(a);
			memcpy(o, a, l);
			o += l;
			continue;
		}
		*o++ = '\'';
		for (; *a; a++) {
			if (*a == '\'') {
				memcpy(o, "'\"'\"'", 5);
				o += 5;
			} else {
				*o++ = *a;
			}
		}
		*o++ = '\'';
	}
	*o = '\0';
	return out;
}

char *srt_violation_line(const srt_violation *v)
{
	if (v->kind && strcmp(v->kind, "filesystem") == 0)
		return srt_asprintf("deny file-write-%s %s (%s)", v->op ? v->op : "",
				    v->resolved ? v->resolved : v->path ? v->path : "",
				    v->reason ? v->reason : "");
	const char *host = v->host ? v->host : "";
	const char *reason = v->reason ? v->reason : "";
	if (v->port > 0)
		return srt_asprintf("deny network-outbound %s:%d (%s)", host, v->port, reason);
	return srt_asprintf("deny network-outbound %s (%s)", host, reason);
}

static bool any_in(const srt_strv *patterns, const char *line)
{
	for (size_t j = 0; j < patterns->n; j++)
		if (strstr(line, patterns->v[j]))
			return true;
	return false;
}

bool srt_ignore_matches(const srt_ignore_rule *rules, size_t n, const char *command,
			const char *line)
{
	if (!line)
		return false;
	for (size_t i = 0; i < n; i++) {
		const srt_ignore_rule *r = &rules[i];
		bool applies = strcmp(r->command, "*") == 0 || (command && strstr(command, r->command));
		if (applies && any_in(&r->paths, line))
			return true;
	}
	return false;
}
