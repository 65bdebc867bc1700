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
 * notifier would take precedence over srt's).
 *
 * The no-namespace mode (srt_unixgate_set_nons; filter.h no_namespaces):
 * every connect(2) and listen(2) of the command comes here, whatever the
 * AF_UNIX options, and is performed by srt on its copy of the socket,
 * never let through (the kernel would read the address again, after the
 * check):
 *  - AF_INET to 127.0.0.1:P, P one of the allowed ports (srt's proxy
 *    listeners, hostPorts): srt clears SO_REUSEADDR and SO_REUSEPORT on
 *    the socket, binds it to 127.0.0.1:0 when it is not bound yet, reads
 *    the local port the kernel chose and hands it to `authorize` (the
 *    proxy accepts only registered peers: nons/peers.h says why the bind
 *    comes first and what remains), then connects, blocking or not as the
 *    socket is, and answers with the result.  AF_INET6 likewise for
 *    ::ffff:127.0.0.1:P (bound to ::ffff:127.0.0.1:0; the kernel refuses
 *    it on an IPV6_V6ONLY socket).  A socket already connected is left
 *    to the kernel (EISCONN) without a registration;
 *  - any other loopback destination (the rest of 127.0.0.0/8, 0.0.0.0,
 *    ::1, ::, their mapped forms; other ports): ECONNREFUSED; any other
 *    address: ENETUNREACH (what the full mode's empty network namespace
 *    answers; neither is recorded as a violation, as there); AF_UNSPEC (a
 *    TCP disconnect) is performed as asked; another family on an inet
 *    socket: EAFNOSUPPORT;
 *  - AF_UNIX pathnames: allowUnixSockets as in the full mode; with
 *    allowAllUnixSockets (`allow_all_unix`) the path is resolved as the
 *    command would (relative ones from its working directory, symlinks
 *    followed), pinned with O_PATH and connected through srt's pin;
 *    abstract names: EPERM whatever the options (they are the host's
 *    here, and srt's own connect would bypass the command's Landlock
 *    scoping);
 *  - other families (netlink) are connected as asked on srt's copy;
 *  - listen(2): on an AF_UNIX socket bound to a pathname (or not bound:
 *    the kernel's EINVAL), srt performs listen(copy, backlog) and answers
 *    its result; an abstract name: EPERM (it would be the host's); any
 *    other family: EPERM (a TCP listener would be the host's, reachable
 *    from outside);
 *  - the metadata calls (srt_seccomp_is_metadata) go to the `meta`
 *    handler, on the thread that serves the gate (gateloop.c: the proxy's
 *    loop); without one they are refused with EPERM.  The handler's answer
 *    is sent with its id and flags forced (never ..._FLAG_CONTINUE). */
#ifndef SRT_UNIXGATE_H
#define SRT_UNIXGATE_H

#include <linux/seccomp.h>
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

/* The metadata gate: fill `resp` (its error or val; srt sets the id and
 * the flags); return 0 to send it, -1 when there is nothing to answer (the
 * call is gone). */
typedef int (*srt_unixgate_meta_fn)(void *data, int notify_fd, const struct seccomp_notif *n,
				    struct seccomp_notif_resp *resp);

typedef struct srt_unixgate_nons {
	const uint16_t *ports;   /* loopback TCP ports the command may reach (copied) */
	size_t n_ports;
	bool allow_all_unix;     /* allowAllUnixSockets */
	void (*authorize)(void *data, uint16_t local_port); /* may be NULL */
	void *authorize_data;    /* e.g. a srt_peer_registry with srt_peers_authorize */
	srt_unixgate_meta_fn meta; /* may be NULL: EPERM */
	void *meta_data;
} srt_unixgate_nons;

/* Switch the gate to the no-namespace mode (see above).  Before the gate
 * serves its first call; the callbacks' data must outlive the gate. */
int srt_unixgate_set_nons(srt_unixgate *g, const srt_unixgate_nons *o, srt_error *err);

typedef enum srt_gate_op {
	SRT_GATE_CONNECT,
	SRT_GATE_LISTEN, /* no-namespace mode */
	SRT_GATE_META,   /* no-namespace mode: for the meta handler */
} srt_gate_op;

/* One connect(2) of the command (or, in the no-namespace mode, listen(2)
 * or a metadata call), received and checked. */
typedef struct srt_gate_call {
	uint64_t id;
	srt_gate_op op;
	int backlog;                  /* SRT_GATE_LISTEN */
	struct seccomp_notif notif;   /* SRT_GATE_META: the call */
	srt_unixgate_meta_fn meta;    /* SRT_GATE_META: its handler, or NULL */
	void *meta_data;
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

/* Connect (may block when `call->blocking` for SRT_GATE_CONNECT: then run
 * it off the event loop), listen, or call the meta handler (on the thread
 * the gate's owner chose for it: see above), answer the command and close
 * the call's descriptors. */
void srt_unixgate_finish(int notify_fd, srt_gate_call *call);

#endif
