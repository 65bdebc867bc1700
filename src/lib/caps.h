/* caps.h - dropping every capability and verifying it (SPEC §6). */
#ifndef SRT_CAPS_H
#define SRT_CAPS_H

#include <stdbool.h>

#include "srt.h"

/* The highest capability number this kernel knows
 * (/proc/sys/kernel/cap_last_cap), read once by the host process. */
int srt_caps_last(void);

/* Clear the effective, permitted and inheritable sets and set
 * no_new_privs.  With `before_exec`, also lock securebits and clear the
 * bounding and ambient sets, so nothing comes back at execve.  Then read
 * the result back and fail unless it is all empty.  Async-signal-safe. */
int srt_caps_drop_all(int last_cap, bool before_exec, bool may_lack_setpcap, srt_error *err);

#endif
