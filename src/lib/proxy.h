/* proxy.h - the filtering HTTP and SOCKS5 proxies (SPEC §5).  They accept on
 * listening sockets that live in the sandbox's network namespace (created by
 * init, passed to the host with SCM_RIGHTS) and dial out from the host's
 * namespace.  One libuv loop on one thread serves every connection. */
#ifndef SRT_PROXY_H
#define SRT_PROXY_H

#include "guard.h"
#include "netpolicy.h"
#include "srt.h"

typedef struct srt_proxy srt_proxy;

typedef enum srt_listen_kind {
	SRT_LISTEN_HTTP,  /* the filtering HTTP proxy */
	SRT_LISTEN_SOCKS, /* the filtering SOCKS5 proxy */
} srt_listen_kind;

typedef struct srt_listener {
	int fd;           /* a listening socket (taken over by the proxy) */
	srt_listen_kind kind;
	int relay_port;   /* non-zero: relay raw bytes to the host's
			   * 127.0.0.1:relay_port instead (httpProxyPort,
			   * socksProxyPort, hostPorts) */
} srt_listener;

typedef struct srt_proxy_options {
	const srt_netpolicy *policy;   /* borrowed; outlives the proxy */
	const srt_guard *guard;        /* borrowed */
	const srt_listener *listeners; /* copied */
	size_t n_listeners;
	srt_violation_fn on_violation; /* may be NULL */
	void *violation_data;
	size_t max_conns;              /* 0: default */
	unsigned handshake_timeout_ms; /* 0: default (30 s) */
	unsigned connect_timeout_ms;   /* 0: default (15 s) */
	/* An absolute-form exchange with no byte moved either way for this
	 * long: 504 before the response head, else the connection closed.
	 * An inactivity timeout, never a total duration.  0: default (120 s) */
	unsigned response_timeout_ms;
	/* allowUnixSockets (unixgate.h): the command's seccomp listener
	 * arrives over gate_chan_fd (taken over); NULL / -1: none */
	const struct srt_unixgate *gate;
	int gate_chan_fd;
	/* The no-namespace mode (nons/peers.h): the listeners are on the
	 * host's 127.0.0.1, so a client is served only when its address is
	 * 127.0.0.1 and its port was registered by the gate (consumed here);
	 * any other is closed at once, before a byte is read, and is not
	 * recorded as a violation (it is not the command's: every connect of
	 * the command goes through the gate, which registers it).  NULL: every
	 * client is served (the full mode: the listeners are in the sandbox's
	 * own network namespace).  Borrowed; outlives the proxy. */
	struct srt_peer_registry *authorized;
	/* parentProxy (upstream.h): allowed destinations are reached through
	 * it; NULL: directly.  Borrowed; outlives the proxy. */
	const struct srt_upstream *upstream;
} srt_proxy_options;

srt_proxy *srt_proxy_start(const srt_proxy_options *o, srt_error *err);

/* Stop accepting, close every connection, join the thread, free. */
void srt_proxy_stop(srt_proxy *px);

/* Replace the domain policy and the address guard while running (both
 * taken over; either may be NULL to keep the current one).  Thread-safe;
 * applies to every decision made after the proxy thread picks it up. */
int srt_proxy_update(srt_proxy *px, srt_netpolicy *np, srt_guard *guard);


#endif
