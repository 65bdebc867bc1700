/* unixgate.h - allowUnixSockets on Linux (SPEC §5).
 *
 * With a non-empty allowUnixSockets (and not allowAllUnixSockets) the
 * command may create stream and seqpacket AF_UNIX sockets, and every
 * connect(2) it makes stops in a seccomp user notification.  srt takes a
 * copy of the command's socket (pidfd_getfd) and of the address, checks
 * the address and performs the connect itself; the command only learns
 * the result.  Nothing the command changes after the check (its memory,
 * its descriptor table, the file at the path) can redirect the connect:
 *  - each allowed entry is identified once, when the gate is created:
 *    opened on the host without following any symlink and kept open
 *    (O_PATH), with its device and inode.  An entry that is not a socket
 *    then stays refused for the run, and a socket its server recreates
 *    later (a new inode) is refused too: a rename onto the listed path
 *    must never reach another socket;
 *  - a pathname is resolved as the command sees it (its root, symlinks
 *    followed inside it), pinned with O_PATH, and must be the very socket
 *    one entry was at start (same device and inode); the connect goes
 *    through srt's own descriptor of that entry (/proc/self/fd), so a
 *    swap after the check cannot redirect it;
 *  - abstract names stay inside the sandbox's own network namespace;
 *  - other families (TCP to the proxies...) are connected as asked, on
 *    srt's copy of the address, without a decision to make.
 * The filter also refuses datagram AF_UNIX sockets (sendto(2) names its
 * target per message) and seccomp listeners of the command's own (a later
 * notifier would take precedence over srt's). */
#ifndef SRT_UNIXGATE_H
#define SRT_UNIXGATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "srt.h"

typedef struct srt_unixgate srt_unixgate;

/* `allowed`: absolute host paths, symlinks already resolved. */
srt_unixgate *srt_unixgate_new(const char *const *allowed, size_t n, srt_error *err);
void srt_unixgate_free(srt_unixgate *g);

/* Was entry `i` a socket when the gate was created?  If not, connects to
 * it are refused for the whole run. */
bool srt_unixgate_identified(const srt_unixgate *g, size_t i);

/* One connect(2) of the command, received and checked. */
typedef struct srt_gate_call {
	uint64_t id;
	int sock;                     /* srt's copy of the command's socket, or -1 */
	int pin;                      /* O_PATH descriptor of the checked socket file, or -1 */
	struct sockaddr_storage addr; /* what srt connects the socket to */
	socklen_t addrlen;
	bool blocking;                /* the socket is in blocking mode */
	int answer;                   /* with sock == -1: the errno to answer (0: none) */
	bool refused;                 /* refused by allowUnixSockets: a violation */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1]; /* what was asked */
} srt_gate_call;

/* Receive one notification from `notify_fd` and check it.  Returns 1 with
 * `call` filled, 0 when there was none to take (or its process is gone),
 * -1 when the descriptor failed. */
int srt_unixgate_receive(const srt_unixgate *g, int notify_fd, srt_gate_call *call);

/* Close what the call holds; a non-zero `answer` replaces its answer. */
void srt_unixgate_drop(srt_gate_call *call, int answer);

/* Connect (may block when `call->blocking`: then run it off the event
 * loop), answer the command and close the call's descriptors. */
void srt_unixgate_finish(int notify_fd, srt_gate_call *call);

#endif
