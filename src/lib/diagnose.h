/* diagnose.h - turn a failed namespace step into a message that names the
 * host setting at fault and the fix (SPEC §6: fail closed, loudly). */
#ifndef SRT_DIAGNOSE_H
#define SRT_DIAGNOSE_H

#include <stddef.h>

/* Append the likely cause of a user-namespace failure with errno `e` to
 * buf (which already holds the failing step). */
void srt_diagnose_userns(int e, char *buf, size_t len);

#endif
