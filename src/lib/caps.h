/* caps.h - dropping every capability and verifying it (SPEC §6). */
#ifndef SRT_CAPS_H
#define SRT_CAPS_H

#include "srt.h"

/* Lock securebits, clear the bounding and ambient sets, then the effective,
 * permitted and inheritable sets; set no_new_privs.  Then read everything
 * back and fail unless it is all empty.  Async-signal-safe (no allocation). */
int srt_caps_drop_all(srt_error *err);

#endif
