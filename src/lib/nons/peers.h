/* peers.h - the local clients the connect gate let through to srt's own
 * proxy listeners (the no-namespace mode).
 *
 * Without a network namespace, srt's proxy listeners are on the host's
 * 127.0.0.1, where every local user can reach them.  Only the command may
 * use them: the gate (unixgate.h), which performs every connect(2) of the
 * command, binds the command's socket to 127.0.0.1:0 first when it is not
 * bound, reads the local port the kernel chose, registers that port here
 * and only then connects.  The proxy (proxy.h, `authorized`) takes the
 * peer's port out of the registry when it accepts, and closes at once a
 * connection whose peer is not 127.0.0.1 with a registered port.
 *
 * Why bind before connect: with the kernel's implicit bind at connect(2),
 * the port is known only once the handshake is done, and the proxy may
 * accept (on its loop) before the gate could register it.  Bound first,
 * the port is registered before the SYN leaves.
 *
 * What remains:
 *  - an entry is consumed by the first accept from its port, and expires
 *    after `ttl_ms` (30 s by default) if none comes; the table is bounded
 *    (4096 entries by default): when full, the oldest entry is dropped (its
 *    client, if it ever arrives, is refused);
 *  - the port belongs to the command's socket from the bind until that
 *    socket is closed; no other socket can bind it meanwhile (srt clears
 *    SO_REUSEADDR and SO_REUSEPORT on it before the bind).  If the connect
 *    never reaches the proxy's accept (it failed, or the command closed the
 *    socket before the handshake was done), the entry stays until it
 *    expires, and another local user who binds that very port and
 *    connects to the proxy within the window is accepted once.  The window
 *    is the rest of `ttl_ms`, for one guessed port per failed connect (to
 *    a listener srt itself serves on loopback, which does not fail in
 *    practice).
 *
 * Thread-safe (one mutex): the gate and the proxy may run on different
 * threads. */
#ifndef SRT_NONS_PEERS_H
#define SRT_NONS_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srt_peer_registry srt_peer_registry;

#define SRT_PEERS_DEFAULT_CAPACITY 4096
#define SRT_PEERS_DEFAULT_TTL_MS 30000

/* 0: the default.  NULL when out of memory. */
srt_peer_registry *srt_peers_new(size_t capacity, unsigned ttl_ms);
void srt_peers_free(srt_peer_registry *r);

/* Register a local port (0 is never registered). */
void srt_peers_add(srt_peer_registry *r, uint16_t port);
/* Was `port` registered and not expired?  Consumes one registration. */
bool srt_peers_take(srt_peer_registry *r, uint16_t port);
/* How many live registrations there are (for tests and diagnostics). */
size_t srt_peers_count(srt_peer_registry *r);

/* The same at a given time on CLOCK_MONOTONIC, in ms (for the tests). */
void srt_peers_add_at(srt_peer_registry *r, uint16_t port, uint64_t now_ms);
bool srt_peers_take_at(srt_peer_registry *r, uint16_t port, uint64_t now_ms);
size_t srt_peers_count_at(srt_peer_registry *r, uint64_t now_ms);

/* The gate's authorize callback (unixgate.h): `data` is the registry. */
void srt_peers_authorize(void *data, uint16_t local_port);

#endif
