/* control.h - srt --control-fd N: settings updates while the command runs,
 * one JSON object a line, from a descriptor the caller opened (control.c).
 * An accepted line replaces the network lists for the next connection;
 * everything else stays as the sandbox started, and srt says so. */
#ifndef SRT_CLI_CONTROL_H
#define SRT_CLI_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "srt.h"

/* A longer line is refused (and skipped to its end): ample for any
 * settings object, and a bound on what a writer can make srt hold. */
#define CONTROL_MAX_LINE ((size_t)1 << 20)

/* srt's messages on stderr (main.c): "srt: " + prefix + `what` escaped. */
void say(const char *prefix, const char *what);

/* ---- the line splitter (pure) ---------------------------------------- */

/* Lines end at "\n", "\r\n" or a lone "\r", as the reference's readline
 * splits them.  A line longer than `max` bytes is reported once, as
 * too_long, and its bytes are dropped up to its end. */
typedef struct control_splitter {
	char *buf;
	size_t len, cap, max;
	bool skipping; /* inside a line found too long */
	bool after_cr; /* the previous byte ended a line with "\r" */
} control_splitter;

typedef void (*control_line_fn)(void *data, const char *line, size_t len, bool too_long);

/* Feed bytes; `fn` gets each complete line (without its end).  -1: out of
 * memory (the bytes of the line being read so far are dropped). */
int control_split(control_splitter *s, const char *bytes, size_t n, control_line_fn fn, void *data);
/* End of input: the last line, if it had no end. */
void control_split_end(control_splitter *s, control_line_fn fn, void *data);
void control_splitter_free(control_splitter *s);

/* ---- one line (pure but for `apply`) ---------------------------------- */

typedef enum control_result {
	CONTROL_BLANK,    /* only white space: ignored silently */
	CONTROL_INVALID,  /* not a valid settings object, or too long: dropped */
	CONTROL_FAILED,   /* valid, but the sandbox did not take it */
	CONTROL_APPLIED,  /* the network lists were replaced */
} control_result;

typedef struct control {
	int fd;
	bool is_socket;
	bool got_line;       /* a line (any) came through: a later read error
			      * leaves the command running */
	bool debug;
	unsigned long lineno;
	const char *started; /* srt_config_fixed() of the settings it started with */
	/* replace the running sandbox's network lists (srt_sandbox_update_network) */
	int (*apply)(void *data, const srt_config *cfg, srt_error *err);
	void *apply_data;
	control_splitter split;
	control_result last; /* of the last line handled (tests) */
} control;

/* Judge one line and apply it; says on stderr what became of it. */
control_result control_line(control *c, const char *line, size_t len, bool too_long);

/* The keys whose lines differ between two srt_config_fixed() texts,
 * comma-separated ("" when none).  Malloc'd; NULL when out of memory. */
char *control_fixed_diff(const char *started, const char *update);

/* ---- the descriptor ---------------------------------------------------- */

/* --control-fd ARG: a number >= 3, open and readable.  Checked before srt
 * opens anything of its own that could take that number; marked
 * close-on-exec (nothing srt runs on the host gets it; the command never
 * does: every descriptor it is not given is closed).  Returns the number,
 * or -1 after saying why. */
int control_parse_fd(const char *arg);

/* Start reading (once the sandbox is up): a pipe is made non-blocking, as
 * the reference does (the flag is on the open file description: hand srt
 * an end of its own). */
int control_start(control *c, int fd, const char *started, bool debug);

/* The descriptor is readable: read what is there and handle every complete
 * line.  1: keep polling; 0: closed (end of input, or a read error after a
 * line came through: the command runs on under the last config); -1: it
 * failed before delivering anything (the caller stops the command). */
int control_read(control *c);

void control_end(control *c);

#endif
