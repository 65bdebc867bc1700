/* gateloop.h - serving the allowUnixSockets mediator (unixgate.h) on the
 * proxies' libuv loop. */
#ifndef SRT_GATELOOP_H
#define SRT_GATELOOP_H

#include <uv.h>

#include "srt.h"
#include "unixgate.h"

typedef struct srt_gateloop srt_gateloop;

/* Wait on `chan_fd` (taken over) for the seccomp listener the command
 * sends (SCM_RIGHTS), then answer its connect(2) calls.  Refusals go to
 * `on_violation` (on the loop thread).  NULL when out of memory. */
srt_gateloop *srt_gateloop_start(uv_loop_t *loop, int chan_fd, const srt_unixgate *gate,
				 srt_violation_fn on_violation, void *data);

/* Stop (on the loop thread); the memory goes with the handles. */
void srt_gateloop_close(srt_gateloop *gl);

#endif
