/* diagnose.h - turn a failed namespace step into a message that names the
 * host setting at fault and the fix (SPEC §6: fail closed, loudly).
 *
 * Each function appends ". <cause>: <fix>" to buf, which already holds the
 * failing step ("cannot ...: Operation not permitted"), and returns true
 * when it named a cause; buf is left as it was otherwise.  They read the
 * host's settings under a proc tree: "/proc" (SRT_DIAGNOSE_PROC), or a fake
 * one in the unit tests:
 *   <proc>/sys/kernel/apparmor_restrict_unprivileged_userns   (Ubuntu)
 *   <proc>/sys/kernel/unprivileged_userns_clone               (Debian < 11)
 *   <proc>/sys/user/max_user_namespaces
 *   <proc>/self/attr/apparmor/current     this process's AppArmor label
 *   <proc>/self/exe                       the program that runs
 * Call them in srt's own process, never inside the sandbox (they read
 * /proc/self). */
#ifndef SRT_DIAGNOSE_H
#define SRT_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SRT_DIAGNOSE_PROC "/proc"

/* Creating a user namespace (clone or unshare with CLONE_NEWUSER) failed
 * with errno `e`.  The _at form takes the proc tree and the real uid. */
bool srt_diagnose_userns(int e, char *buf, size_t len);
bool srt_diagnose_userns_at(const char *proc, int e, uid_t uid, char *buf, size_t len);

/* A step after the clone succeeded failed with errno `e`: writing the
 * uid_map or gid_map, a mount, pivot_root, sethostname, a nested user
 * namespace, fsopen("proc").  This is how Ubuntu's AppArmor restriction
 * (23.10+) shows: the kernel creates the namespace, then moves an
 * unconfined creator into the unprivileged_userns profile, which denies
 * every capability in it (EPERM) and has no mount rule (EACCES).  Also a
 * confining profile (a container's, such as docker-default) that refuses
 * the step, and the nesting limit (ENOSPC).  False for anything else, so
 * that the caller's own explanation (a container's partly hidden /proc)
 * stands. */
bool srt_diagnose_userns_setup(int e, char *buf, size_t len);
bool srt_diagnose_userns_setup_at(const char *proc, int e, uid_t uid, char *buf, size_t len);

/* Does the AppArmor restriction apply to this process: the sysctl is 1, the
 * uid is not 0 and the process runs unconfined (not under srt's profile or
 * another one)?  Then a user namespace can be created but nothing can be
 * done in it, whatever a clone-only probe says. */
bool srt_apparmor_restricts_userns(void);
bool srt_apparmor_restricts_userns_at(const char *proc, uid_t uid);

#endif
