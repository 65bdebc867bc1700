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

typedef struct srt_proxy_options {
	const srt_netpolicy *policy;   /* borrowed; outlives the proxy */
	const srt_guard *guard;        /* borrowed */
	int http_fd;                   /* listening sockets (taken over) */
	int socks_fd;
	int byo_http_port;             /* httpProxyPort: relay, no filter */
	int byo_socks_port;            /* socksProxyPort */
	srt_violation_fn on_violation; /* may be NULL */
	void *violation_data;
	size_t max_conns;              /* 0: default */
	unsigned handshake_timeout_ms; /* 0: default (30 s) */
	unsigned connect_timeout_ms;   /* 0: default (15 s) */
} srt_proxy_options;

srt_proxy *srt_proxy_start(const srt_proxy_options *o, srt_error *err);

/* Stop accepting, close every connection, join the thread, free. */
void srt_proxy_stop(srt_proxy *px);

/* Number of refusals recorded so far. */
size_t srt_proxy_violation_count(const srt_proxy *px);

#endif
