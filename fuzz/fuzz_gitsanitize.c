/* fuzz_gitsanitize.c - libFuzzer harness for the config allowlist of a
 * repository created in a fresh directory and for HEAD validation: what the
 * sanitizer writes, read back, holds no setting of git's executable table,
 * and sanitizing it again changes nothing (both with and without keeping
 * every setting); the index reader stays within its input. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gitconfig.h"
#include "gitsanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_program(const char *section, const char *subsection, const char *name,
		       const char *value, void *arg)
{
	(void)arg;
	if (srt_git_key_classify(section, subsection, name, value) != SRT_GIT_KEY_OTHER)
		__builtin_trap();
}

static void idempotent(const char *text, size_t len, bool keep_all)
{
	srt_gitcfg_clean a, b;
	if (srt_gitcfg_sanitize(text, len, keep_all, &a) < 0)
		return;
	if (!keep_all)
		srt_gitcfg_parse(a.text, a.len, no_program, NULL);
	if (srt_gitcfg_sanitize(a.text, a.len, keep_all, &b) == 0) {
		if (b.len != a.len || memcmp(a.text, b.text, a.len) != 0 || (!keep_all && b.n_dropped) ||
		    (keep_all && b.n_dropped != a.n_dropped))
			__builtin_trap();
		srt_gitcfg_clean_free(&b);
	}
	srt_gitcfg_clean_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	/* the index reader stays within the input (ASan) whatever it holds */
	(void)srt_git_index_has_gitlink(data, size, 20);
	(void)srt_git_index_has_gitlink(data, size, 32);
	idempotent(text, size, false);
	idempotent(text, size, true);
	if (srt_git_head_valid(text, size)) {
		/* a valid HEAD names a branch below refs/heads, or an object */
		size_t n = size && text[size - 1] == '\n' ? size - 1 : size;
		bool ref = n > 16 && memcmp(text, "ref: refs/heads/", 16) == 0;
		if (memchr(text, '\0', size) || memchr(text, '\n', n) ||
		    (ref ? memmem(text, n, "..", 2) || memmem(text, n, "//", 2) || memmem(text, n, "/.", 2)
			 : n != 40 && n != 64))
			__builtin_trap();
	}
	return 0;
}
