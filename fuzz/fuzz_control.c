/* fuzz_control.c - libFuzzer harness for srt --control-fd's reader
 * (src/cli/control.c): the input is what a writer sends down the channel,
 * read in pieces of varying size, split into lines and each judged as a
 * settings update (srt_config_parse_update, srt_config_fixed and the diff
 * against the settings the sandbox started with). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void say(const char *prefix, const char *what)
{
	/* main.c escapes what it prints; here: every message is a string */
	if (!prefix || !what || strlen(what) == 0)
		__builtin_trap();
}

typedef struct state {
	size_t lines, applied, max;
	control *c;
} state;

static int apply(void *data, const srt_config *cfg, srt_error *err)
{
	state *st = data;
	(void)err;
	if (!cfg)
		__builtin_trap();
	st->applied++;
	return 0;
}

static void on_line(void *data, const char *line, size_t len, bool too_long)
{
	state *st = data;
	st->lines++;
	if (!too_long) {
		if (len > st->max || memchr(line, '\n', len) || memchr(line, '\r', len))
			__builtin_trap();
	}
	control_line(st->c, line, len, too_long);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* the first two bytes: the line bound (small, so that overlong lines
	 * happen) and the size of the pieces the rest is read in */
	size_t max = 16 + (size_t)data[0] * 16;
	size_t piece = 1 + data[1] % 64;
	data += 2;
	size = size - 2;
	static char *started;
	if (!started) {
		srt_error e = {0};
		srt_config *cfg = srt_config_defaults(&e);
		started = cfg ? srt_config_fixed(cfg) : NULL;
		srt_config_free(cfg);
		if (!started)
			__builtin_trap();
	}
	control c = {.fd = 3, .started = started, .split = {.max = max}};
	state st = {.max = max, .c = &c};
	c.apply = apply;
	c.apply_data = &st;
	for (size_t off = 0; off < size; off += piece) {
		size_t n = size - off < piece ? size - off : piece;
		if (control_split(&c.split, (const char *)data + off, n, on_line, &st) < 0)
			__builtin_trap(); /* out of memory: not with these bounds */
	}
	control_split_end(&c.split, on_line, &st);
	if (st.applied > st.lines || c.lineno != st.lines || c.split.len != 0)
		__builtin_trap();
	control_end(&c);
	return 0;
}
