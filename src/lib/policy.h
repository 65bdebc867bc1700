/* policy.h - the resolved policy: settings turned into real paths and a
 * mount plan (policy.c).  Internal layout of the public srt_policy. */
#ifndef SRT_POLICY_H
#define SRT_POLICY_H

#include "config.h"
#include "mandatory.h"
#include "paths.h"
#include "plan.h"

struct srt_policy {
	char *cwd;
	char *home;
	srt_resolved_list deny_read, allow_read, allow_write, deny_write;
	srt_protected_list protected_paths;
	srt_plan plan;
	srt_strv warnings;
	bool allow_all_unix_sockets;
	bool allow_nested_userns;
	bool weaker_nested;
	int search_depth;
	char *config_source;
};

#endif
