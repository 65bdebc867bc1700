/* connect.h - `srt --proxy-connect HOST PORT`: ssh's ProxyCommand inside the
 * sandbox.  Opens a CONNECT tunnel through the sandbox's HTTP proxy and
 * relays stdin/stdout over it. */
#ifndef SRT_CLI_CONNECT_H
#define SRT_CLI_CONNECT_H

int srt_cli_proxy_connect(const char *host, const char *port);

#endif
