/* config_compat.c - the reference's keys srt in C does not implement (see
 * config_compat.h).  The lists come from the reference 0.0.83's schema
 * (dist/sandbox/sandbox-config.js). */
#include "config_compat.h"

#include <ctype.h>
#include <string.h>

struct compat {
	const char *section; /* NULL: top level */
	const char *key;
	srt_compat_kind kind;
	const char *why;
};

#define MACOS "means something on macOS only"
#define WINDOWS "means something on Windows only"
#define HELPER "names a helper program of the reference; srt in C needs none"

static const struct compat table[] = {
	{NULL, "enableWeakerNetworkIsolation", SRT_COMPAT_IGNORED, MACOS},
	{NULL, "allowAppleEvents", SRT_COMPAT_IGNORED, MACOS},
	{NULL, "allowPty", SRT_COMPAT_IGNORED, MACOS},
	{NULL, "windows", SRT_COMPAT_IGNORED, WINDOWS},
	{NULL, "ripgrep", SRT_COMPAT_IGNORED, HELPER},
	{NULL, "seccomp", SRT_COMPAT_IGNORED, HELPER},
	{NULL, "bwrapPath", SRT_COMPAT_IGNORED, HELPER},
	{NULL, "socatPath", SRT_COMPAT_IGNORED, HELPER},
	{NULL, "javaAgentJarPath", SRT_COMPAT_IGNORED, HELPER},
	{"network", "allowMachLookup", SRT_COMPAT_IGNORED, MACOS},
	/* security keys: refused until built (issue #13) */
	{NULL, "credentials", SRT_COMPAT_NOT_BUILT, "secrets would reach the sandbox unmasked"},
	{"network", "tlsTerminate", SRT_COMPAT_NOT_BUILT, "no TLS termination: requests inside tunnels are not seen"},
	{"network", "mitmProxy", SRT_COMPAT_NOT_BUILT, "traffic would not go through that proxy"},
	{"network", "filterRequest", SRT_COMPAT_NOT_BUILT, "requests would not be filtered"},
	{"network", "allowPlaintextHeaderSet", SRT_COMPAT_NOT_BUILT, "request rules are not built"},
	{"network", "stripResponseHeaders", SRT_COMPAT_NOT_BUILT, "response headers would not be stripped"},
	{"network", "refuseOpaqueTunnels", SRT_COMPAT_NOT_BUILT, "opaque tunnels would not be refused"},
	{"network", "requireHostMatch", SRT_COMPAT_NOT_BUILT, "Host would not be checked against SNI"},
	{"network", "ambiguousRequestTarget", SRT_COMPAT_NOT_BUILT, "request rules are not built"},
};

static int same_section(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

srt_compat_kind srt_compat_lookup(const char *section, const char *key, const char **why)
{
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (same_section(table[i].section, section) && strcmp(table[i].key, key) == 0) {
			if (why)
				*why = table[i].why;
			return table[i].kind;
		}
	return SRT_COMPAT_UNKNOWN;
}

int srt_compat_is_noop(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_FALSE:
	case JSON_NULL:
		return 1;
	case JSON_INTEGER:
		return json_integer_value(v) == 0;
	case JSON_STRING:
		return json_string_length(v) == 0;
	case JSON_ARRAY:
		return json_array_size(v) == 0;
	case JSON_OBJECT:
		return json_object_size(v) == 0;
	case JSON_TRUE:
	case JSON_REAL:
	default:
		return 0;
	}
}

#define NAME_MAX_CMP 64

/* Levenshtein distance, case-insensitive, of two short names (longer ones
 * are never close). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > NAME_MAX_CMP || lb > NAME_MAX_CMP)
		return (size_t)-1;
	size_t row[NAME_MAX_CMP + 1];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void consider(const char *key, const char *cand, const char **best, size_t *best_d)
{
	size_t d = distance(key, cand);
	if (d < *best_d) {
		*best_d = d;
		*best = cand;
	}
}

const char *srt_compat_closest(const char *section, const char *key, const char *const *known)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (size_t i = 0; known && known[i]; i++)
		consider(key, known[i], &best, &best_d);
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (same_section(table[i].section, section))
			consider(key, table[i].key, &best, &best_d);
	/* a typo: a few edits, and fewer than a third of the name */
	size_t len = strlen(key), limit = len / 3 > 3 ? 3 : len / 3;
	if (limit < 1)
		limit = 1;
	return best && best_d <= limit ? best : NULL;
}
