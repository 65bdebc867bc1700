/* http.c - pure, incremental, bounded HTTP/1.x parsing (RFC 9110, RFC 9112)
 * for the filtering proxy (SPEC §5).
 *
 * Every input comes from an untrusted peer.  Nothing here allocates, keeps
 * global state, prints, or reads past the length it is given; every loop is
 * bounded by that length (and the head parsers by SRT_HTTP_MAX_HEAD).
 *
 * Head parsing is a single left-to-right pass that decides each check as
 * soon as the bytes it depends on are present, so the result for any prefix
 * of a message is either 0 ("need more") or the result for the whole
 * message: a peer cannot make the proxy buffer 64 KiB of a head that is
 * already known to be bad, and feeding a head byte by byte gives exactly the
 * same answer as feeding it at once.
 *
 * Choices the RFCs leave open, made strictly (smuggling defences):
 *   - request line: exactly one SP between its parts; empty lines before
 *     it are skipped (RFC 9112 §2.2); a request-target is at most 8 KiB and
 *     holds no SP, control character or DEL (bytes >= 0x80 are passed on,
 *     as some clients send raw UTF-8 paths);
 *   - "HTTP/" DIGIT "." DIGIT other than 1.0 / 1.1 is 505; anything that is
 *     not of that form is 400;
 *   - a line beginning with SP/HT after the start line (obs-fold, or
 *     whitespace before the first field) is an error;
 *   - field names are tokens immediately followed by ':'; field values hold
 *     no control character other than HT and no DEL;
 *   - a bare CR (not followed by LF) is an error; bare LF ends a line;
 *   - more than one Host field in a request is 400 (RFC 9112 §3.2).
 */
#include "http.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>

#define MAX_TARGET (8 * 1024)
#define CHUNK_LINE_MAX 4096
#define CHUNK_SIZE_DIGITS 16
#define CHUNK_TRAILERS_MAX (64 * 1024)

/* ------------------------------------------------------------------ */
/* character classes                                                  */

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

/* field-content byte: HT, SP, VCHAR, obs-text */
static bool is_field_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool eq_nocase(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ------------------------------------------------------------------ */
/* head parsing                                                       */

/* Result codes of the internal scanners. */
enum { R_MORE = 0, R_OK = 1, R_BAD = -1 };

/* Line end at b[*pp]: CRLF or bare LF. */
static int scan_eol(const char *b, size_t lim, size_t *pp)
{
	size_t p = *pp;
	if (p >= lim)
		return R_MORE;
	if (b[p] == '\n') {
		*pp = p + 1;
		return R_OK;
	}
	if (b[p] != '\r')
		return R_BAD;
	if (p + 1 >= lim)
		return R_MORE;
	if (b[p + 1] != '\n')
		return R_BAD;
	*pp = p + 2;
	return R_OK;
}

/* "HTTP/" DIGIT "." DIGIT; R_BAD as soon as a byte does not fit. */
static int scan_version(const char *b, size_t lim, size_t *pp, int *major,
			int *minor)
{
	static const char name[] = "HTTP/";
	size_t p = *pp;
	for (size_t i = 0; i < 5; i++, p++) {
		if (p >= lim)
			return R_MORE;
		if (b[p] != name[i])
			return R_BAD;
	}
	if (p >= lim)
		return R_MORE;
	if (b[p] < '0' || b[p] > '9')
		return R_BAD;
	*major = b[p++] - '0';
	if (p >= lim)
		return R_MORE;
	if (b[p++] != '.')
		return R_BAD;
	if (p >= lim)
		return R_MORE;
	if (b[p] < '0' || b[p] > '9')
		return R_BAD;
	*minor = b[p++] - '0';
	*pp = p;
	return R_OK;
}

/* Header fields up to and including the empty line.  *status gets 400 or
 * 431 on R_BAD. */
static int scan_fields(const char *b, size_t lim, size_t *pp,
		       srt_http_header *hs, size_t *nh, int *status)
{
	size_t p = *pp;
	size_t n = 0;

	*nh = 0;
	*status = 400;
	/* each iteration consumes at least one byte, p < lim */
	while (p < lim) {
		unsigned char c = (unsigned char)b[p];
		if (c == '\r' || c == '\n') {
			int r = scan_eol(b, lim, &p);
			if (r != R_OK)
				return r;
			*pp = p;
			*nh = n;
			return R_OK;
		}
		if (is_ows(c))
			return R_BAD; /* obs-fold or whitespace after start line */
		if (n == SRT_HTTP_MAX_HEADERS) {
			*status = 431;
			return R_BAD;
		}

		size_t name = p;
		while (p < lim && is_tchar((unsigned char)b[p]))
			p++;
		if (p >= lim)
			return R_MORE;
		if (b[p] != ':' || p == name)
			return R_BAD; /* incl. whitespace before ':' */
		size_t name_end = p++;

		while (p < lim && is_ows((unsigned char)b[p]))
			p++;
		size_t value = p;
		while (p < lim && is_field_byte((unsigned char)b[p]))
			p++;
		if (p >= lim)
			return R_MORE;
		size_t value_end = p;
		int r = scan_eol(b, lim, &p);
		if (r != R_OK)
			return r; /* NUL, other control, bare CR: R_BAD */
		while (value_end > value && is_ows((unsigned char)b[value_end - 1]))
			value_end--;

		hs[n].name = b + name;
		hs[n].name_len = name_end - name;
		hs[n].value = b + value;
		hs[n].value_len = value_end - value;
		n++;
		*nh = n;
	}
	return R_MORE;
}

static int scan_request_line(const char *b, size_t lim, size_t *pp,
			     srt_http_request *req, int *status)
{
	size_t p = *pp;

	*status = 400;
	/* RFC 9112 §2.2: ignore empty lines before the request line */
	while (p < lim && (b[p] == '\r' || b[p] == '\n')) {
		int r = scan_eol(b, lim, &p);
		if (r != R_OK)
			return r;
	}

	size_t m = p;
	while (p < lim && is_tchar((unsigned char)b[p]))
		p++;
	if (p >= lim)
		return R_MORE;
	if (b[p] != ' ' || p == m)
		return R_BAD;
	req->method = b + m;
	req->method_len = p - m;
	p++;

	size_t t = p;
	while (p < lim) {
		unsigned char c = (unsigned char)b[p];
		if (c <= 0x20 || c == 0x7f)
			break;
		if (p - t >= MAX_TARGET) {
			*status = 414;
			return R_BAD;
		}
		p++;
	}
	if (p >= lim)
		return R_MORE;
	if (b[p] != ' ' || p == t)
		return R_BAD;
	req->target = b + t;
	req->target_len = p - t;
	p++;

	int major = 0, minor = 0;
	int r = scan_version(b, lim, &p, &major, &minor);
	if (r != R_OK)
		return r;
	r = scan_eol(b, lim, &p);
	if (r != R_OK)
		return r;
	if (major != 1 || minor > 1) {
		*status = 505;
		return R_BAD;
	}
	req->version_minor = minor;
	*pp = p;
	return R_OK;
}

int srt_http_parse_request(const char *buf, size_t len, srt_http_request *req,
			   int *http_status)
{
	int dummy;
	int *status = http_status ? http_status : &dummy;
	size_t lim = len < SRT_HTTP_MAX_HEAD ? len : SRT_HTTP_MAX_HEAD;
	size_t p = 0, hosts = 0;
	int st = 400, r;

	*status = 0;
	if (!req || (!buf && len))
		goto bad;
	req->n_headers = 0;
	req->head_len = 0;

	r = scan_request_line(buf, lim, &p, req, &st);
	if (r == R_OK)
		r = scan_fields(buf, lim, &p, req->headers, &req->n_headers,
				&st);
	if (r == R_BAD)
		goto bad;
	if (r == R_MORE) {
		if (len >= SRT_HTTP_MAX_HEAD) {
			st = 431;
			goto bad;
		}
		return 0;
	}

	/* RFC 9112 §3.2: more than one Host is 400 */
	for (size_t i = 0; i < req->n_headers; i++)
		if (eq_nocase(req->headers[i].name, req->headers[i].name_len,
			      "host", 4))
			hosts++;
	if (hosts > 1) {
		st = 400;
		goto bad;
	}
	req->head_len = p;
	return 1;
bad:
	*status = st;
	return -1;
}

int srt_http_parse_response(const char *buf, size_t len,
			    srt_http_response *resp)
{
	size_t lim = len < SRT_HTTP_MAX_HEAD ? len : SRT_HTTP_MAX_HEAD;
	size_t p = 0;
	int major = 0, minor = 0, st;

	if (!resp || (!buf && len))
		return -1;
	resp->n_headers = 0;
	resp->head_len = 0;

	int r = scan_version(buf, lim, &p, &major, &minor);
	if (r == R_OK && (major != 1 || minor > 1))
		return -1;
	if (r == R_OK) {
		if (p >= lim)
			r = R_MORE;
		else if (buf[p++] != ' ')
			r = R_BAD;
	}
	int code = 0;
	for (int i = 0; r == R_OK && i < 3; i++) {
		if (p >= lim) {
			r = R_MORE;
			break;
		}
		unsigned char c = (unsigned char)buf[p++];
		if (c < '0' || c > '9' || (i == 0 && c == '0'))
			r = R_BAD;
		else
			code = code * 10 + (c - '0');
	}
	if (r == R_OK) {
		/* SP reason-phrase, or (leniently) no SP and an empty reason */
		if (p >= lim) {
			r = R_MORE;
		} else if (buf[p] == ' ') {
			p++;
		} else if (buf[p] != '\r' && buf[p] != '\n') {
			r = R_BAD;
		}
	}
	size_t reason = p;
	if (r == R_OK) {
		while (p < lim && is_field_byte((unsigned char)buf[p]))
			p++;
		size_t reason_end = p;
		r = scan_eol(buf, lim, &p);
		resp->status = code;
		resp->reason = buf + reason;
		resp->reason_len = reason_end - reason;
		resp->version_minor = minor;
	}
	if (r == R_OK)
		r = scan_fields(buf, lim, &p, resp->headers, &resp->n_headers,
				&st);
	if (r == R_BAD)
		return -1;
	if (r == R_MORE)
		return len >= SRT_HTTP_MAX_HEAD ? -1 : 0;
	resp->head_len = p;
	return 1;
}

/* ------------------------------------------------------------------ */
/* headers and lists                                                  */

const srt_http_header *srt_http_find(const srt_http_header *h, size_t n,
				     const char *name)
{
	if (!h || !name)
		return NULL;
	size_t nl = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (h[i].name && eq_nocase(h[i].name, h[i].name_len, name, nl))
			return &h[i];
	return NULL;
}

/* Calls each non-empty, OWS-trimmed element of a comma-separated list;
 * stops early when fn returns true, and returns that. */
typedef bool (*list_fn)(const char *e, size_t elen, void *arg);

static bool list_each(const char *v, size_t len, list_fn fn, void *arg)
{
	size_t i = 0;
	if (!v)
		return false;
	while (i < len) {
		size_t s = i;
		while (i < len && v[i] != ',')
			i++;
		size_t e = i;
		while (s < e && is_ows((unsigned char)v[s]))
			s++;
		while (e > s && is_ows((unsigned char)v[e - 1]))
			e--;
		if (e > s && fn(v + s, e - s, arg))
			return true;
		i++; /* skip ',' (or step past the end) */
	}
	return false;
}

struct token_arg {
	const char *token;
	size_t len;
};

static bool token_match(const char *e, size_t elen, void *arg)
{
	const struct token_arg *t = arg;
	return eq_nocase(e, elen, t->token, t->len);
}

static bool has_token_n(const char *value, size_t len, const char *token,
			size_t tlen)
{
	struct token_arg t = {token, tlen};
	if (!token || tlen == 0)
		return false;
	return list_each(value, len, token_match, &t);
}

bool srt_http_has_token(const char *value, size_t len, const char *token)
{
	if (!token)
		return false;
	return has_token_n(value, len, token, strlen(token));
}

/* ------------------------------------------------------------------ */
/* body framing                                                       */

static bool is_name(const srt_http_header *h, const char *name, size_t nl)
{
	return h->name && eq_nocase(h->name, h->name_len, name, nl);
}

struct cl_state {
	bool present;
	bool bad;
	uint64_t value;
};

/* Content-Length elements: each must be the same decimal number.  Unlike
 * list_each, an empty element is an error here. */
static void cl_value(const char *v, size_t len, struct cl_state *cl)
{
	size_t i = 0;
	if (len == 0 || !v) {
		cl->bad = true;
		return;
	}
	while (i <= len && !cl->bad) {
		size_t s = i;
		while (i < len && v[i] != ',')
			i++;
		size_t e = i;
		while (s < e && is_ows((unsigned char)v[s]))
			s++;
		while (e > s && is_ows((unsigned char)v[e - 1]))
			e--;
		if (e == s) {
			cl->bad = true;
			break;
		}
		uint64_t n = 0;
		for (size_t k = s; k < e; k++) {
			unsigned char c = (unsigned char)v[k];
			if (c < '0' || c > '9' ||
			    n > (UINT64_MAX - (uint64_t)(c - '0')) / 10) {
				cl->bad = true;
				return;
			}
			n = n * 10 + (uint64_t)(c - '0');
		}
		if (cl->present && n != cl->value) {
			cl->bad = true;
			return;
		}
		cl->present = true;
		cl->value = n;
		i++; /* past ',' or past the end: loop ends */
	}
}

static void content_length(const srt_http_header *h, size_t n,
			   struct cl_state *cl)
{
	cl->present = false;
	cl->bad = false;
	cl->value = 0;
	for (size_t i = 0; i < n && !cl->bad; i++)
		if (is_name(&h[i], "content-length", 14)) {
			cl_value(h[i].value, h[i].value_len, cl);
			cl->present = true;
		}
}

struct te_state {
	bool present;
	size_t codings;  /* non-empty elements over all Transfer-Encoding */
	size_t chunked;  /* how many are "chunked" */
	bool last_chunked;
};

static bool te_element(const char *e, size_t elen, void *arg)
{
	struct te_state *te = arg;
	te->codings++;
	te->last_chunked = eq_nocase(e, elen, "chunked", 7);
	if (te->last_chunked)
		te->chunked++;
	return false;
}

static void transfer_encoding(const srt_http_header *h, size_t n,
			      struct te_state *te)
{
	memset(te, 0, sizeof *te);
	for (size_t i = 0; i < n; i++)
		if (is_name(&h[i], "transfer-encoding", 17)) {
			te->present = true;
			(void)list_each(h[i].value, h[i].value_len, te_element,
					te);
		}
}

/* Request framing.  A body of Content-Length 0 is reported as
 * SRT_BODY_LENGTH with length 0; SRT_BODY_NONE means no framing header. */
int srt_http_request_body(const srt_http_request *req, srt_body *out)
{
	struct te_state te;
	struct cl_state cl;

	if (!req || !out)
		return -1;
	out->kind = SRT_BODY_NONE;
	out->length = 0;
	size_t n = req->n_headers < SRT_HTTP_MAX_HEADERS ? req->n_headers
							 : SRT_HTTP_MAX_HEADERS;
	transfer_encoding(req->headers, n, &te);
	content_length(req->headers, n, &cl);
	if (te.present) {
		/* TE+CL, TE in HTTP/1.0 (RFC 9112 §6.1), and anything but a
		 * single "chunked" are refused */
		if (cl.present || req->version_minor == 0 || te.codings != 1 ||
		    te.chunked != 1)
			return -1;
		out->kind = SRT_BODY_CHUNKED;
		return 0;
	}
	if (cl.bad)
		return -1;
	if (cl.present) {
		out->kind = SRT_BODY_LENGTH;
		out->length = cl.value;
	}
	return 0;
}

/* Response framing (RFC 9112 §6.3).  Transfer-Encoding overrides
 * Content-Length here (the caller must then not forward Content-Length);
 * an HTTP/1.0 response with Transfer-Encoding, or one whose final coding is
 * not chunked, is read until close; "chunked" applied twice is an error. */
int srt_http_response_body(const srt_http_response *resp, const char *method,
			   size_t method_len, srt_body *out)
{
	struct te_state te;
	struct cl_state cl;

	if (!resp || !out)
		return -1;
	out->kind = SRT_BODY_NONE;
	out->length = 0;
	if (!method)
		method_len = 0;

	int s = resp->status;
	if ((method_len == 4 && memcmp(method, "HEAD", 4) == 0) ||
	    (s >= 100 && s <= 199) || s == 204 || s == 304)
		return 0;
	if (method_len == 7 && memcmp(method, "CONNECT", 7) == 0 && s >= 200 &&
	    s <= 299)
		return 0;

	size_t n = resp->n_headers < SRT_HTTP_MAX_HEADERS ? resp->n_headers
							  : SRT_HTTP_MAX_HEADERS;
	transfer_encoding(resp->headers, n, &te);
	if (te.present) {
		if (te.chunked > 1)
			return -1;
		if (resp->version_minor == 1 && te.last_chunked)
			out->kind = SRT_BODY_CHUNKED;
		else
			out->kind = SRT_BODY_UNTIL_CLOSE;
		return 0;
	}
	content_length(resp->headers, n, &cl);
	if (cl.bad)
		return -1;
	if (cl.present) {
		out->kind = SRT_BODY_LENGTH;
		out->length = cl.value;
		return 0;
	}
	out->kind = SRT_BODY_UNTIL_CLOSE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* chunked bodies                                                     */

/* A zero-initialised srt_chunked is ready for the first chunk-size line. */
enum {
	CH_SIZE = 0,   /* chunk-size hex digits */
	CH_SIZE_WS,    /* BWS after the size: only ';' may follow */
	CH_EXT,        /* chunk extensions up to the line end */
	CH_SIZE_LF,    /* CR seen at the end of the size line */
	CH_DATA,       /* `remaining` data bytes */
	CH_DATA_CR,    /* CRLF (or LF) after the data */
	CH_DATA_LF,
	CH_TR_START,   /* start of a trailer line (or the final empty line) */
	CH_TR_NAME,
	CH_TR_VALUE,
	CH_TR_LF,      /* CR seen at the end of a trailer line */
	CH_END_LF,     /* CR of the final empty line seen */
	CH_DONE,
	CH_ERROR,
};

long srt_chunked_scan(srt_chunked *c, const char *buf, size_t len, bool *done)
{
	bool dummy;
	bool *fin = done ? done : &dummy;
	size_t i = 0;

	*fin = false;
	if (!c)
		return -1;
	if (c->state == CH_DONE) {
		*fin = true;
		return 0;
	}
	if (c->state < CH_SIZE || c->state > CH_DONE || (!buf && len))
		goto bad;
	if (len > (size_t)LONG_MAX)
		len = (size_t)LONG_MAX;

	while (i < len) {
		unsigned char ch = (unsigned char)buf[i];
		switch (c->state) {
		case CH_SIZE: {
			int h = hexval(ch);
			if (h >= 0) {
				/* at most 16 hex digits (leading zeros count):
				 * no size line can hide a size past uint64 */
				if (c->digits >= CHUNK_SIZE_DIGITS ||
				    c->remaining > (UINT64_MAX >> 4))
					goto bad; /* overflow */
				c->remaining = (c->remaining << 4) | (uint64_t)h;
				if (c->digits < INT_MAX)
					c->digits++;
			} else if (c->digits == 0) {
				goto bad;
			} else if (ch == ';') {
				c->state = CH_EXT;
			} else if (is_ows(ch)) {
				c->state = CH_SIZE_WS;
			} else if (ch == '\r') {
				c->state = CH_SIZE_LF;
				i++;
				break;
			} else if (ch == '\n' && !c->crlf_only) {
				goto size_line_end;
			} else {
				goto bad;
			}
			if (++c->line_len > CHUNK_LINE_MAX)
				goto bad;
			i++;
			break;
		}
		case CH_SIZE_WS:
			if (ch == ';')
				c->state = CH_EXT;
			else if (!is_ows(ch))
				goto bad;
			if (++c->line_len > CHUNK_LINE_MAX)
				goto bad;
			i++;
			break;
		case CH_EXT:
			if (ch == '\r') {
				c->state = CH_SIZE_LF;
				i++;
				break;
			}
			if (ch == '\n' && !c->crlf_only)
				goto size_line_end;
			if (!is_field_byte(ch) || ++c->line_len > CHUNK_LINE_MAX)
				goto bad;
			i++;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				goto bad;
		size_line_end:
			i++;
			c->line_len = 0;
			c->digits = 0;
			c->state = c->remaining ? CH_DATA : CH_TR_START;
			break;
		case CH_DATA: {
			uint64_t avail = (uint64_t)(len - i);
			uint64_t take = c->remaining < avail ? c->remaining : avail;
			i += (size_t)take;
			c->remaining -= take;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			if (ch == '\r')
				c->state = CH_DATA_LF;
			else if (ch == '\n' && !c->crlf_only)
				c->state = CH_SIZE;
			else
				goto bad;
			i++;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				goto bad;
			c->state = CH_SIZE;
			i++;
			break;
		case CH_TR_START:
			if (ch == '\r') {
				c->state = CH_END_LF;
			} else if (ch == '\n' && !c->crlf_only) {
				i++;
				goto finished;
			} else if (is_tchar(ch)) {
				c->state = CH_TR_NAME;
				c->line_len = 1;
			} else {
				goto bad; /* incl. obs-fold */
			}
			if (++c->trailer_total > CHUNK_TRAILERS_MAX)
				goto bad;
			i++;
			break;
		case CH_TR_NAME:
			if (ch == ':')
				c->state = CH_TR_VALUE;
			else if (!is_tchar(ch))
				goto bad;
			if (++c->line_len > CHUNK_LINE_MAX ||
			    ++c->trailer_total > CHUNK_TRAILERS_MAX)
				goto bad;
			i++;
			break;
		case CH_TR_VALUE:
			if (ch == '\r') {
				c->state = CH_TR_LF;
			} else if (ch == '\n' && !c->crlf_only) {
				c->state = CH_TR_START;
				c->line_len = 0;
			} else if (!is_field_byte(ch)) {
				goto bad;
			} else if (++c->line_len > CHUNK_LINE_MAX) {
				goto bad;
			}
			if (++c->trailer_total > CHUNK_TRAILERS_MAX)
				goto bad;
			i++;
			break;
		case CH_TR_LF:
			if (ch != '\n')
				goto bad;
			c->state = CH_TR_START;
			c->line_len = 0;
			if (++c->trailer_total > CHUNK_TRAILERS_MAX)
				goto bad;
			i++;
			break;
		case CH_END_LF:
			if (ch != '\n')
				goto bad;
			i++;
			goto finished;
		default:
			goto bad;
		}
	}
	return (long)i;

finished:
	c->state = CH_DONE;
	*fin = true;
	return (long)i;
bad:
	c->state = CH_ERROR;
	return -1;
}

/* ------------------------------------------------------------------ */
/* authorities and absolute URIs                                      */

static bool is_name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* host [":" port] in s[0..len).  A host is a name of letters, digits, '-',
 * '.', '_' (which excludes userinfo, spaces, controls, '/', '%' and the
 * like) or a bracketed IPv6 literal that inet_pton accepts (no zone).
 * port: 1..65535, at most 5 digits; when missing (or empty, RFC 3986
 * §3.2.3) def_port is used, and def_port 0 means the port is required. */
static int parse_hostport(const char *s, size_t len, char *host, int *port,
			  int def_port)
{
	size_t hs, he, i;

	if (!s || !host || !port || len == 0)
		return -1;
	if (s[0] == '[') {
		for (i = 1; i < len && s[i] != ']'; i++)
			;
		if (i >= len)
			return -1;
		hs = 1;
		he = i;
		i++; /* past ']' */
		char tmp[INET6_ADDRSTRLEN];
		struct in6_addr a6;
		if (he - hs == 0 || he - hs >= sizeof tmp)
			return -1;
		for (size_t k = hs; k < he; k++) {
			unsigned char c = (unsigned char)s[k];
			if (!(hexval(c) >= 0 || c == ':' || c == '.'))
				return -1;
		}
		memcpy(tmp, s + hs, he - hs);
		tmp[he - hs] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return -1;
	} else {
		for (i = 0; i < len && s[i] != ':'; i++)
			if (!is_name_byte((unsigned char)s[i]))
				return -1;
		hs = 0;
		he = i;
		if (he == 0)
			return -1;
	}
	if (he - hs > SRT_HTTP_MAX_HOST)
		return -1;

	int p = def_port;
	if (i < len) {
		if (s[i] != ':')
			return -1;
		i++;
		size_t digits = len - i;
		if (digits == 0) {
			if (def_port == 0)
				return -1;
		} else {
			if (digits > 5)
				return -1;
			p = 0;
			for (; i < len; i++) {
				if (s[i] < '0' || s[i] > '9')
					return -1;
				p = p * 10 + (s[i] - '0');
			}
		}
	}
	if (p < 1 || p > 65535)
		return -1;

	for (size_t k = hs; k < he; k++)
		host[k - hs] = (char)lower((unsigned char)s[k]);
	host[he - hs] = '\0';
	*port = p;
	return 0;
}

int srt_http_parse_authority(const char *s, size_t len, char *host, int *port)
{
	int r = parse_hostport(s, len, host, port, 0);
	if (r < 0 && host)
		host[0] = '\0';
	return r;
}

/* absolute-form "http://authority[path-abempty][?query][#fragment]".
 * On success *path points at the first '/' or '?' after the authority and
 * *path_len runs up to a '#' or the end; a fragment is never part of it.
 * When the path starts with '?' ("http://h?q") the caller must prepend '/'
 * when it rebuilds the request line.  No path at all gives *path = NULL,
 * *path_len = 0, meaning "/".  The whole string must be free of SP, control
 * characters and DEL, so the result can be put on a request line as is. */
int srt_http_parse_absolute(const char *s, size_t len, char *host, int *port,
			    const char **path, size_t *path_len)
{
	static const char scheme[] = "http://";

	if (host)
		host[0] = '\0';
	if (!s || !host || !port || !path || !path_len || len < 7)
		return -1;
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)s[k];
		if (c <= 0x20 || c == 0x7f)
			return -1;
	}
	for (size_t k = 0; k < 7; k++)
		if (lower((unsigned char)s[k]) != (unsigned char)scheme[k])
			return -1;

	size_t a = 7, e = 7;
	while (e < len && s[e] != '/' && s[e] != '?' && s[e] != '#')
		e++;
	if (parse_hostport(s + a, e - a, host, port, 80) < 0) {
		host[0] = '\0';
		return -1;
	}
	if (e < len && s[e] != '#') {
		size_t q = e;
		while (q < len && s[q] != '#')
			q++;
		*path = s + e;
		*path_len = q - e;
	} else {
		*path = NULL;
		*path_len = 0;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* hop-by-hop                                                         */

static const char *const hop_names[] = {
	"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
	"proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
};

/* The fixed list, plus names listed in any Connection field - except
 * Content-Length and Host: a peer that lists them must not be able to make
 * the proxy strip the framing (request smuggling) or the target. */
bool srt_http_is_hop_by_hop(const srt_http_header *all, size_t n,
			    const srt_http_header *h)
{
	if (!h || !h->name)
		return false;
	for (size_t i = 0; i < sizeof hop_names / sizeof hop_names[0]; i++)
		if (eq_nocase(h->name, h->name_len, hop_names[i],
			      strlen(hop_names[i])))
			return true;
	if (is_name(h, "content-length", 14) || is_name(h, "host", 4))
		return false;
	if (!all)
		return false;
	for (size_t i = 0; i < n; i++)
		if (is_name(&all[i], "connection", 10) &&
		    has_token_n(all[i].value, all[i].value_len, h->name,
				h->name_len))
			return true;
	return false;
}
