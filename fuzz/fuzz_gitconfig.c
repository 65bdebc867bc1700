/* fuzz_gitconfig.c - libFuzzer harness for the git config reader: every
 * entry it reports has a lower-case section and name, values within the
 * bound, and classifying it and extracting a program path never fail. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gitconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *section, const char *subsection, const char *name,
		  const char *value, void *arg)
{
	size_t *n = arg;
	(*n)++;
	if (!section[0] || !name[0])
		__builtin_trap();
	for (const char *p = section; *p; p++)
		if (isupper((unsigned char)*p))
			__builtin_trap();
	for (const char *p = name; *p; p++)
		if (isupper((unsigned char)*p))
			__builtin_trap();
	if (value && strlen(value) > SRT_GITCFG_MAX_VALUE)
		__builtin_trap();
	(void)srt_git_key_classify(section, subsection, name, value);
	char prog[64];
	if (srt_git_program_path(value, prog, sizeof prog) && !strchr(prog, '/'))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	size_t reported = srt_gitcfg_parse((const char *)data, size, check, &n);
	if (reported != n)
		__builtin_trap();
	return 0;
}
