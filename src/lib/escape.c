/* escape.c - the one escaping of text that comes from inside the sandbox
 * (see srt_escape in srt.h for the contract and why). */
#include <stdbool.h>
#include <stdlib.h>

#include "srt.h"

static bool kept(unsigned char c, unsigned flags)
{
	if (c == '\\')
		return false;
	if (c == '"' && (flags & SRT_ESCAPE_JSON))
		return false;
	if ((c == '\n' || c == '\t') && (flags & SRT_ESCAPE_LINES) && !(flags & SRT_ESCAPE_JSON))
		return true;
	return c >= 0x20 && c <= 0x7e;
}

/* The escaped form of one byte into `piece` (NUL-terminated); its length. */
static size_t escape_byte(unsigned char c, unsigned flags, char piece[8])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	if (kept(c, flags)) {
		piece[n++] = (char)c;
	} else if (c == '"') {
		piece[n++] = '\\'; /* JSON only: a quote stays readable as a quote */
		piece[n++] = '"';
	} else {
		piece[n++] = '\\';
		if (flags & SRT_ESCAPE_JSON)
			piece[n++] = '\\';
		piece[n++] = 'x';
		piece[n++] = hex[c >> 4];
		piece[n++] = hex[c & 15];
	}
	piece[n] = '\0';
	return n;
}

size_t srt_escape(char *out, size_t cap, const char *in, unsigned flags)
{
	size_t need = 0;
	bool full = false;
	for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p; p++) {
		char piece[8];
		size_t n = escape_byte(*p, flags, piece);
		/* an escape that does not fit whole is not begun: a cut
		 * "\x1" must not read as a different byte */
		if (!full && need + n < cap) {
			for (size_t i = 0; i < n; i++)
				out[need + i] = piece[i];
		} else {
			if (!full && cap)
				out[need] = '\0';
			full = true;
		}
		need += n;
	}
	if (!full && cap)
		out[need] = '\0';
	return need;
}

char *srt_escape_dup(const char *in, unsigned flags)
{
	size_t n = srt_escape(NULL, 0, in, flags);
	char *s = malloc(n + 1);
	if (s)
		srt_escape(s, n + 1, in, flags);
	return s;
}
