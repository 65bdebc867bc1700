/* nonsmode.h - the no-namespace mode's host side (issue #9): where no user
 * namespace can be used, the sandbox is Landlock, seccomp and srt's own
 * gates alone (README "Containers and CI").  This file holds what the host
 * process prepares for it: whether the mode is needed and possible, the
 * proxies' listeners on the host's loopback, the private TMPDIR. */
#ifndef SRT_NONSMODE_H
#define SRT_NONSMODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "srt.h"

/* Landlock ABI the mode needs: signal and abstract-socket scoping (6),
 * network rules (4), truncate (3), refer (2). */
#define SRT_NONS_LANDLOCK_ABI 6

/* Can a user namespace be created and used here?  False under Docker's
 * default seccomp profile, user.max_user_namespaces=0, or Ubuntu's
 * AppArmor restriction (created, but nothing works in it); `why` then
 * says which (diagnose.h).  Costs one clone. */
bool srt_nons_userns_usable(char *why, size_t len);

/* Test builds (-Dtest_hooks=true) with SRT_TEST_NO_USERNS set: behave as if
 * no user namespace could be created.  Always false otherwise. */
bool srt_nons_forced(void);

/* Whether this host allows the mode (Landlock ABI, seccomp user
 * notification): 0, or -1 with err saying what is missing. */
int srt_nons_requirements(int landlock_abi, srt_error *err);

/* Append to `buf` what a user must know where no user namespace works:
 * the mode that would run, its key, and what it weakens (or why it cannot
 * run here). */
void srt_nons_hint(int landlock_abi, char *buf, size_t len);

/* What the mode does not enforce, one line: for warnings and --check. */
extern const char srt_nons_weaker[];

/* `n` listening TCP sockets on 127.0.0.1, ports chosen by the kernel
 * (per run): fds[i] and ports[i].  -1 with err (nothing left open). */
int srt_nons_listeners(int *fds, uint16_t *ports, size_t n, srt_error *err);

/* A private directory for TMPDIR: /tmp/srt-tmp-XXXXXX (mode 0700), its
 * path in `out`.  Removed by srt_nons_tmpdir_remove. */
int srt_nons_tmpdir(char *out, size_t len, srt_error *err);

/* Remove it and everything the command left in it, by descriptors, never
 * following a symlink (the command could have planted any). */
void srt_nons_tmpdir_remove(const char *path);

/* SIGKILL every child of process `pid` (its /proc/PID/task/PID/children,
 * so `pid` must be single-threaded: init is).  Returns how many were
 * signalled, or -1 when the list cannot be read.  No allocation: init
 * calls it after a raw clone. */
int srt_nons_kill_children(int pid);

/* Kill init's children (the command and what init reaps for it: it is
 * their subreaper), round after round until none is left or a bound is
 * reached; init itself is left to the caller. */
void srt_nons_kill_tree(int init_pid);

#endif
