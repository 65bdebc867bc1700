/* ignore.h - ignoreViolations, matched the way the reference 0.0.83 matches
 * it (ignore.c).  Pure functions. */
#ifndef SRT_IGNORE_H
#define SRT_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "srt.h"

/* The command text the command patterns are matched against, as the
 * reference's CLI makes it from argv: each argument single-quoted unless it
 * is made of characters no POSIX shell treats specially, joined by spaces
 * (its quote()).  Malloc'd, NULL when out of memory. */
char *srt_shell_quote(char *const *argv);

/* The line the patterns are matched against, as the reference writes a
 * proxy's refusal: "deny network-outbound HOST:PORT (REASON)" (a socket
 * path has no port: "deny network-outbound PATH (REASON)"); a refusal of the
 * creation gate as "deny file-write-OP PATH (REASON)", PATH as resolved
 * inside the sandbox where known (the reference's macOS log lines name
 * file-write-create, file-write-data...).  Raw bytes, as
 * they came from inside.  Malloc'd, NULL when out of memory. */
char *srt_violation_line(const srt_violation *v);

/* Should this violation be suppressed?  A rule applies to every command
 * when its key is exactly "*", else when the key is a substring of
 * `command`; it suppresses when one of its patterns is a substring of
 * `line`.  Plain substrings, case-sensitive: no globs, no prefixes. */
bool srt_ignore_matches(const srt_ignore_rule *rules, size_t n, const char *command,
			const char *line);

#endif
