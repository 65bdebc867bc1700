/* socks.h - pure SOCKS5 (RFC 1928, RFC 1929) message parsing and replies.
 * Incremental: each parser returns 1 when a whole message is in buf, 0 when
 * more bytes are needed, -1 on a protocol error. */
#ifndef SRT_SOCKS_H
#define SRT_SOCKS_H

#include <stddef.h>
#include <stdint.h>

enum {
	SRT_SOCKS_NO_AUTH = 0x00,
	SRT_SOCKS_USERPASS = 0x02,
	SRT_SOCKS_NO_ACCEPTABLE = 0xff,
};

enum {
	SRT_SOCKS_CMD_CONNECT = 1,
	SRT_SOCKS_CMD_BIND = 2,
	SRT_SOCKS_CMD_UDP = 3,
};

enum { /* reply codes */
	SRT_SOCKS_OK = 0x00,
	SRT_SOCKS_GENERAL_FAILURE = 0x01,
	SRT_SOCKS_NOT_ALLOWED = 0x02,
	SRT_SOCKS_NET_UNREACHABLE = 0x03,
	SRT_SOCKS_HOST_UNREACHABLE = 0x04,
	SRT_SOCKS_REFUSED = 0x05,
	SRT_SOCKS_TTL_EXPIRED = 0x06,
	SRT_SOCKS_CMD_UNSUPPORTED = 0x07,
	SRT_SOCKS_ATYP_UNSUPPORTED = 0x08,
};

/* VER=5 NMETHODS METHODS...: picks USERPASS if offered, else NO_AUTH if
 * offered, else NO_ACCEPTABLE (the caller answers 05 FF and closes). */
int srt_socks_parse_greeting(const uint8_t *buf, size_t len, size_t *consumed,
			     int *method);

/* RFC 1929: VER=1 ULEN UNAME PLEN PASSWD.  Any credentials are accepted. */
int srt_socks_parse_userpass(const uint8_t *buf, size_t len, size_t *consumed);

typedef struct srt_socks_request {
	int cmd;
	int atyp;           /* 1 IPv4, 3 domain, 4 IPv6 */
	char host[256];     /* domain as sent (NUL-ended), or textual IP */
	int port;
} srt_socks_request;

/* VER=5 CMD RSV=0 ATYP DST.ADDR DST.PORT.  -1 also for an unknown ATYP
 * (*reply is then SRT_SOCKS_ATYP_UNSUPPORTED) or a domain containing NUL
 * (*reply = SRT_SOCKS_GENERAL_FAILURE); other errors set *reply to
 * SRT_SOCKS_GENERAL_FAILURE. */
int srt_socks_parse_request(const uint8_t *buf, size_t len, size_t *consumed,
			    srt_socks_request *out, int *reply);

/* Build a reply (VER REP RSV ATYP BND.ADDR BND.PORT) with an IPv4 bound
 * address of 0.0.0.0:0; returns its length (10). */
size_t srt_socks_reply(uint8_t out[10], uint8_t code);

#endif
