/* socks.c - pure SOCKS5 message parsing (RFC 1928) and username/password
 * sub-negotiation (RFC 1929) for the proxy (SPEC §5).
 *
 * Every parser only looks at buf[0..len), decides each check as soon as the
 * bytes it depends on are present (so a prefix of a message gives 0 or the
 * result of the whole message), and never allocates or prints.
 *
 * Leniency, on purpose: the request's RSV byte is ignored; any CMD value is
 * returned for the caller to answer (0x07 for BIND, UDP ASSOCIATE and
 * unknown commands); an empty username or password is accepted (curl sends
 * one); DST.PORT 0 is returned as 0 for the caller to refuse.
 */
#include "socks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

int srt_socks_parse_greeting(const uint8_t *buf, size_t len, size_t *consumed,
			     int *method)
{
	if (!buf && len)
		return -1;
	if (len < 1)
		return 0;
	if (buf[0] != 5)
		return -1;
	if (len < 2)
		return 0;
	size_t n = buf[1];
	if (n == 0)
		return -1;
	if (len < 2 + n)
		return 0;

	bool userpass = false, noauth = false;
	for (size_t i = 0; i < n; i++) {
		if (buf[2 + i] == SRT_SOCKS_USERPASS)
			userpass = true;
		else if (buf[2 + i] == SRT_SOCKS_NO_AUTH)
			noauth = true;
	}
	if (method)
		*method = userpass ? SRT_SOCKS_USERPASS
			: noauth   ? SRT_SOCKS_NO_AUTH
				   : SRT_SOCKS_NO_ACCEPTABLE;
	if (consumed)
		*consumed = 2 + n;
	return 1;
}

int srt_socks_parse_userpass(const uint8_t *buf, size_t len, size_t *consumed)
{
	if (!buf && len)
		return -1;
	if (len < 1)
		return 0;
	if (buf[0] != 1)
		return -1;
	if (len < 2)
		return 0;
	size_t ulen = buf[1];
	if (len < 3 + ulen)
		return 0;
	size_t plen = buf[2 + ulen];
	if (len < 3 + ulen + plen)
		return 0;
	if (consumed)
		*consumed = 3 + ulen + plen;
	return 1;
}

int srt_socks_parse_request(const uint8_t *buf, size_t len, size_t *consumed,
			    srt_socks_request *out, int *reply)
{
	int dummy;
	int *rep = reply ? reply : &dummy;
	int atyp;
	size_t addr_len, need;

	*rep = SRT_SOCKS_GENERAL_FAILURE;
	if (!out || (!buf && len))
		return -1;
	if (len < 1)
		goto more;
	if (buf[0] != 5)
		return -1;
	if (len < 4)
		goto more;
	/* buf[2] is RSV: ignored */
	atyp = buf[3];
	switch (atyp) {
	case 1:
		addr_len = 4;
		need = 4 + 4 + 2;
		break;
	case 3:
		if (len < 5)
			goto more;
		addr_len = buf[4];
		if (addr_len == 0)
			return -1;
		need = 5 + addr_len + 2;
		break;
	case 4:
		addr_len = 16;
		need = 4 + 16 + 2;
		break;
	default:
		*rep = SRT_SOCKS_ATYP_UNSUPPORTED;
		return -1;
	}
	if (atyp == 3 && memchr(buf + 5, 0, addr_len < len - 5 ? addr_len
							 : len - 5))
		return -1; /* NUL in the domain, as soon as it is seen */
	if (len < need)
		goto more;

	out->cmd = buf[1];
	out->atyp = atyp;
	if (atyp == 3) {
		memcpy(out->host, buf + 5, addr_len);
		out->host[addr_len] = '\0';
	} else if (!inet_ntop(atyp == 1 ? AF_INET : AF_INET6, buf + 4,
			      out->host, sizeof out->host)) {
		return -1;
	}
	out->port = (int)buf[need - 2] << 8 | (int)buf[need - 1];
	if (consumed)
		*consumed = need;
	*rep = SRT_SOCKS_OK;
	return 1;
more:
	*rep = SRT_SOCKS_OK;
	return 0;
}

size_t srt_socks_reply(uint8_t out[10], uint8_t code)
{
	static const uint8_t tmpl[10] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	memcpy(out, tmpl, sizeof tmpl);
	out[1] = code;
	return sizeof tmpl;
}
