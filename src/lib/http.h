/* http.h - pure, incremental, bounded HTTP/1.x parsing for the proxy.
 * Nothing here allocates or does I/O; every input comes from an untrusted
 * peer (the sandboxed command or an upstream server). */
#ifndef SRT_HTTP_H
#define SRT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRT_HTTP_MAX_HEAD (64 * 1024)   /* request/response head incl. CRLFCRLF */
#define SRT_HTTP_MAX_HEADERS 100
#define SRT_HTTP_MAX_HOST 255

typedef struct srt_http_header {
	const char *name;   /* points into the caller's buffer */
	size_t name_len;
	const char *value;  /* leading/trailing whitespace trimmed */
	size_t value_len;
} srt_http_header;

typedef struct srt_http_request {
	const char *method;
	size_t method_len;
	const char *target;     /* request-target as sent */
	size_t target_len;
	int version_minor;      /* HTTP/1.0 -> 0, HTTP/1.1 -> 1 */
	srt_http_header headers[SRT_HTTP_MAX_HEADERS];
	size_t n_headers;
	size_t head_len;        /* bytes of the head including the final CRLFCRLF */
} srt_http_request;

typedef struct srt_http_response {
	int status;             /* 100..999 */
	const char *reason;
	size_t reason_len;
	int version_minor;
	srt_http_header headers[SRT_HTTP_MAX_HEADERS];
	size_t n_headers;
	size_t head_len;
} srt_http_response;

/* Parse a request head from buf[0..len).
 * Returns 1 when complete (req filled, req->head_len set), 0 when more bytes
 * are needed (and len < SRT_HTTP_MAX_HEAD), -1 on error with *http_status the
 * status code to answer: 400 malformed, 414 target too long, 431 head too
 * large / too many headers, 505 not HTTP/1.0 or 1.1.  Bare LF line endings
 * are accepted; obsolete line folding, NUL, and whitespace between a header
 * name and ':' are errors (smuggling defences). */
int srt_http_parse_request(const char *buf, size_t len, srt_http_request *req,
			   int *http_status);

/* Same for a response head; errors are answered 502 by the proxy. */
int srt_http_parse_response(const char *buf, size_t len,
			    srt_http_response *resp);

/* Case-insensitive header lookup; returns the first match or NULL. */
const srt_http_header *srt_http_find(const srt_http_header *h, size_t n,
				     const char *name);

/* Does a comma-separated header value list contain `token` (any case)? */
bool srt_http_has_token(const char *value, size_t len, const char *token);

/* Message body framing (RFC 9112 §6.3). */
typedef enum srt_body_kind {
	SRT_BODY_NONE,
	SRT_BODY_LENGTH,     /* exactly `length` bytes */
	SRT_BODY_CHUNKED,
	SRT_BODY_UNTIL_CLOSE /* responses only */
} srt_body_kind;

typedef struct srt_body {
	srt_body_kind kind;
	uint64_t length;
} srt_body;

/* Request framing.  Errors (-1, answer 400): Transfer-Encoding together
 * with Content-Length, a Transfer-Encoding other than exactly "chunked",
 * invalid or conflicting Content-Length values. */
int srt_http_request_body(const srt_http_request *req, srt_body *out);

/* Response framing, given the request's method (HEAD, CONNECT) and status
 * (1xx, 204, 304 have no body). -1 on invalid framing. */
int srt_http_response_body(const srt_http_response *resp, const char *method,
			   size_t method_len, srt_body *out);

/* Incremental chunked-body scanner: feed the raw bytes as they arrive; it
 * reports how many of them belong to the body (framing included) so a proxy
 * can forward them untouched and know where the message ends.  Chunk-size
 * lines and trailers are bounded (4 KiB each, 64 KiB of trailers); a chunk
 * size has at most 16 hex digits (leading zeros included), so it always
 * fits a uint64_t.  Trailers are part of the body: passed on as they are. */
typedef struct srt_chunked {
	int state;
	uint64_t remaining;   /* data bytes left in the current chunk */
	size_t line_len;      /* bytes in the current size/trailer line */
	size_t trailer_total;
	int digits;
	/* CRLF only (a bare LF is an error): set for bodies srt forwards
	 * as they are to a next hop that may end lines only at CRLF, where
	 * a bare LF srt took for a line end would let the next hop see the
	 * rest as a request of its own (red team: through a parent proxy,
	 * to any host).  Zero: a bare LF also ends a line. */
	bool crlf_only;
} srt_chunked;

/* Returns the number of bytes of buf consumed (<= len); sets *done when the
 * body (incl. trailers and the final CRLF) ended at that point; -1 on
 * malformed framing. */
long srt_chunked_scan(srt_chunked *c, const char *buf, size_t len, bool *done);

/* "host:port" of CONNECT (IPv6 in brackets). host is copied (NUL-ended,
 * brackets removed, lower-cased) into host[SRT_HTTP_MAX_HOST + 1].  A port
 * is required.  -1 on error. */
int srt_http_parse_authority(const char *s, size_t len, char *host, int *port);

/* "http://host[:port]/path?query" (absolute-form).  Only the http scheme
 * (any case).  Default port 80.  *path points into s (a missing path is
 * reported as "/" via path=NULL, path_len=0).  Userinfo ("user@") is an
 * error.  -1 on error. */
int srt_http_parse_absolute(const char *s, size_t len, char *host, int *port,
			    const char **path, size_t *path_len);

/* Hop-by-hop header? (Connection, Keep-Alive, Proxy-Connection,
 * Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding,
 * Upgrade) - plus any name listed in the message's Connection header. */
bool srt_http_is_hop_by_hop(const srt_http_header *all, size_t n,
			    const srt_http_header *h);

#endif
