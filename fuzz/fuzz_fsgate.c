/* fuzz_fsgate.c - libFuzzer harness for the creation gate's pure rules
 * (fsgate_rules.c), which judge names and config text the command chose.
 * Input: one byte of object/intent/flags, then the directory, a NUL, the
 * name, a NUL, and the rest as a git config's text.  Invariants: a refusal
 * names its rule; the verdict is a function of its inputs; a protected
 * name from the table is refused as a creation in any directory; in a
 * hooks directory only a regular *.sample file is made; a config the gate
 * calls clean sets nothing of gitconfig.h's table, read back by the same
 * reader git's rules are checked with, and an unclean one names its key. */
#include <stdint.h>
#include <string.h>

#include "fsgate.h"
#include "gitconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dirty_entry(const char *section, const char *subsection, const char *name,
			const char *value, void *arg)
{
	if (srt_git_key_classify(section, subsection, name, value) != SRT_GIT_KEY_OTHER)
		*(int *)arg = 1;
}

static void check_config(const char *text, size_t len)
{
	char key[64];
	bool clean = srt_fsgate_gitconfig_clean(text, len, key, sizeof key);
	int dirty = 0;
	srt_gitcfg_parse(text, len, dirty_entry, &dirty);
	if (clean == (dirty != 0))
		__builtin_trap();
	if (!clean && !key[0])
		__builtin_trap();
}

static void check_judge(const char *dir, const char *name, unsigned sel)
{
	srt_fsg_obj obj = (srt_fsg_obj)(sel & 3);
	srt_fsg_intent intent = (srt_fsg_intent)((sel >> 2) & 3);
	unsigned flags = (sel >> 4) & 7;
	const char *rule = NULL, *again = NULL;
	srt_fsg_verdict v = srt_fsgate_judge(dir, name, obj, intent, flags, &rule);
	if (v == SRT_FSG_REFUSE && (!rule || !rule[0]))
		__builtin_trap();
	if (srt_fsgate_judge(dir, name, obj, intent, flags, &again) != v || again != rule)
		__builtin_trap();
	if (intent == SRT_FSG_CREATE && (strcmp(name, ".bashrc") == 0 ||
					 strcmp(name, ".gitconfig") == 0 ||
					 strcmp(name, ".mcp.json") == 0) && v != SRT_FSG_REFUSE)
		__builtin_trap();
	size_t nl = strlen(name);
	bool sample = nl > 7 && strcmp(name + nl - 7, ".sample") == 0;
	if ((flags & SRT_FSG_DIR_HOOKS) && intent != SRT_FSG_LINK_FROM &&
	    !(obj == SRT_FSG_FILE && sample) && v == SRT_FSG_ALLOW)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	char buf[4097];
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	size_t dl = strnlen(buf, size - 1);
	if (dl >= size - 1)
		return 0;
	const char *dir = buf, *name = buf + dl + 1;
	size_t nl = strnlen(name, size - 1 - dl - 1);
	if (dl + 1 + nl >= size - 1)
		return 0;
	const char *text = name + nl + 1;
	size_t tl = size - 1 - (dl + 1 + nl + 1);
	/* the gate judges absolute directories and single components only */
	if (dir[0] == '/' && name[0] && !strchr(name, '/'))
		check_judge(dir, name, data[0]);
	check_config(text, tl);
	return 0;
}
