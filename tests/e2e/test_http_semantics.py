"""HTTP semantics through srt's HTTP proxy (issue #11 item 2, SPEC §5).

A table of named cases, each with its expectation, driven from inside the
sandbox through the real srt's HTTP proxy (127.0.0.1:3128) against a real
origin on the host's loopback (SemOrigin below, one thread per
connection, its behaviour chosen by the request path).  Each case runs in
the sandbox as its own srt run (DRIVER, one function per case, which
checks its expectation and prints {"ok": ..., "why": ...}); pytest runs the
table as root and as the unprivileged user (conftest.py).

Then real clients through the proxy: curl (and -I), wget (and --spider),
Python urllib and requests, Node (http.request: Node 20's fetch ignores
http_proxy), git clone over smart HTTP (git http-backend behind a small
CGI server on the host's loopback), and apt-get update and download from a
flat repository of three packages served on the host's loopback.

The inactivity-timeout cases need a test build (meson -Dtest_hooks=true),
where SRT_TEST_PROXY_TIMEOUT_MS sets the proxy's timeout to 1 s; they are
skipped with another srt.  Every case is bounded in time.
"""

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import http.server

import pytest

from e2e_util import PY

TIMEOUT_MS = 1000  # SRT_TEST_PROXY_TIMEOUT_MS for the timeout cases
CURL = "curl -sS --max-time 30 --noproxy '' -x http://127.0.0.1:3128 "
NOENV = "env -u no_proxy -u NO_PROXY "


def net(*ports):
    return {"network": {"allowedDomains": ["127.0.0.1:%d" % p for p in ports],
                        "deniedDomains": []}}


# ===================== the origin =========================================

def _body_of(size):
    """size bytes of a known pattern (its sha256 is checked)."""
    blk = hashlib.sha256(b"srt").hexdigest().encode() * 2048  # 128 KiB
    n, parts = size, []
    while n > 0:
        parts.append(blk[:n])
        n -= len(parts[-1])
    return b"".join(parts)


class SemOrigin:
    """An HTTP/1.1 origin on 127.0.0.1 whose answers are chosen by path:

    /hello[?close=1]   200 "hello\\n" (close=1: Connection: close, closed)
    /head              200 with Content-Length: 1234 (HEAD: no body)
    /headchunked       HEAD answered with Transfer-Encoding: chunked
    /204, /304         no body; 304 with ETag and Content-Length: 1234
    /slow?ms=N         waits N ms, then head and body written apart
    /body[?ms=N]       reads the request body (length or chunked, its
                       trailers noted), answers {"len", "sha", "trailers"}
                       (ms: N ms late, head and body written apart)
    /expect-ok         100 Continue (when asked), then as /body
    /expect-no         417 and Connection: close, the body never read
    /chunked           a chunked body ending in trailers
    /badchunk          a chunked head with a 17-digit chunk-size line
    /silent            never answers (until the peer goes)
    /stall             head and 2 of 10 body bytes, then silence
    /drip?n=N&ms=M     a body of N bytes, one every M ms
    /long?mb=N         N MiB streamed
    /interim           102 and 103 (with Link) before the 200
    /headers?n=N       a 200 with N header fields
    /echo              the request head as the body
    """

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.conns = []
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def close(self):
        self.stop.set()
        self.t.join(5)
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    # -- reading ----------------------------------------------------------
    class _R:
        def __init__(self, c):
            self.c, self.buf = c, b""

        def fill(self):
            d = self.c.recv(1 << 16)
            if not d:
                raise EOFError
            self.buf += d

        def line(self):
            while b"\r\n" not in self.buf:
                self.fill()
            l, self.buf = self.buf.split(b"\r\n", 1)
            return l

        def n(self, k):
            while len(self.buf) < k:
                self.fill()
            d, self.buf = self.buf[:k], self.buf[k:]
            return d

    def _read_body(self, r, hdrs):
        te = hdrs.get("transfer-encoding", "").lower()
        trailers = []
        h = hashlib.sha256()
        total = 0
        if te == "chunked":
            while True:
                size = int(r.line().split(b";")[0], 16)
                if size == 0:
                    break
                d = r.n(size)
                h.update(d)
                total += size
                r.n(2)
            while True:
                l = r.line()
                if not l:
                    break
                trailers.append(l.decode("latin-1"))
        else:
            left = int(hdrs.get("content-length", "0") or 0)
            while left:
                d = r.n(min(left, 1 << 16))
                h.update(d)
                total += len(d)
                left -= len(d)
        return {"len": total, "sha": h.hexdigest(), "trailers": trailers}

    def _serve(self, c):
        r = self._R(c)
        c.settimeout(60)
        try:
            while not self.stop.is_set():
                line = r.line()
                if not line:
                    continue
                method, target, version = line.decode("latin-1").split(" ")
                raw_head = [line]
                hdrs = {}
                while True:
                    l = r.line()
                    if not l:
                        break
                    raw_head.append(l)
                    k, _, v = l.decode("latin-1").partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                u = urllib.parse.urlsplit(target)
                q = dict(urllib.parse.parse_qsl(u.query))
                if not self._answer(c, r, method, u.path, q, hdrs, raw_head):
                    return
                if (version == "HTTP/1.0" and "keep-alive" not in hdrs.get("connection", "").lower()) \
                        or "close" in hdrs.get("connection", "").lower():
                    return
        except (OSError, EOFError, ValueError):
            return
        finally:
            try:
                c.close()
            except OSError:
                pass

    @staticmethod
    def _ok(c, body, extra=b"", ctype=b"text/plain"):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: %d\r\n" % len(body)
                  + extra + b"\r\n" + body)

    def _answer(self, c, r, method, path, q, hdrs, raw_head):
        """Answer one request; False: close the connection."""
        if path not in ("/expect-no",) and ("content-length" in hdrs or "transfer-encoding" in hdrs) \
                and path not in ("/body", "/expect-ok"):
            self._read_body(r, hdrs)
        if path == "/hello":
            if q.get("close"):
                self._ok(c, b"hello\n", b"Connection: close\r\n")
                return False
            self._ok(c, b"hello\n")
        elif path == "/head":
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n"
            c.sendall(head if method == "HEAD" else head + b"x" * 1234)
        elif path == "/headchunked":
            head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            c.sendall(head if method == "HEAD" else head + b"3\r\nabc\r\n0\r\n\r\n")
        elif path == "/204":
            c.sendall(b"HTTP/1.1 204 No Content\r\nX-Kind: none\r\n\r\n")
        elif path == "/304":
            c.sendall(b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 1234\r\n\r\n")
        elif path == "/slow":
            time.sleep(int(q.get("ms", "50")) / 1000)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n")
            time.sleep(0.001)
            c.sendall(b"slow!\n")
        elif path in ("/body", "/expect-ok"):
            if path == "/expect-ok" and hdrs.get("expect", "").lower() == "100-continue":
                c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            got = json.dumps(self._read_body(r, hdrs)).encode()
            if q.get("ms"):  # a slow origin: late, head and body written apart
                time.sleep(int(q["ms"]) / 1000)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(got))
                time.sleep(0.001)
                c.sendall(got)
            else:
                self._ok(c, got, ctype=b"application/json")
        elif path == "/expect-no":
            c.sendall(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return False
        elif path == "/chunked":
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
                      b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Checksum: abc123\r\nX-More: 2\r\n\r\n")
        elif path == "/badchunk":
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"00000000000000005\r\nhello\r\n0\r\n\r\n")
            return False
        elif path == "/silent":
            while not self.stop.is_set():
                r.fill()  # until the peer goes (EOFError)
        elif path == "/stall":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
            while not self.stop.is_set():
                r.fill()
        elif path == "/drip":
            n, ms = int(q.get("n", "10")), int(q.get("ms", "100"))
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
            for _ in range(n):
                time.sleep(ms / 1000)
                c.sendall(b"d")
        elif path == "/long":
            size = int(q.get("mb", "1")) << 20
            body = _body_of(size)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            c.sendall(body)
        elif path == "/interim":
            c.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")
            time.sleep(0.05)
            c.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n")
            time.sleep(0.05)
            self._ok(c, b"final\n")
        elif path == "/headers":
            n = int(q.get("n", "10"))
            extra = b"".join(b"X-H%d: v\r\n" % i for i in range(n - 2))  # + Content-Type/Length
            self._ok(c, b"many\n", extra)
        elif path == "/echo":
            self._ok(c, b"\r\n".join(raw_head) + b"\r\n")
        else:
            c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return True


@pytest.fixture(scope="module")
def sem():
    o = SemOrigin()
    yield o
    o.close()


# ===================== the in-sandbox driver =============================

DRIVER = r'''
import hashlib, json, socket, sys, threading, time

PROXY = ("127.0.0.1", 3128)
CASE, P = sys.argv[1], int(sys.argv[2])
HP = "127.0.0.1:%d" % P
U = "http://" + HP


class Conn:
    """A client connection to the proxy with a response reader."""

    def __init__(self, timeout=20):
        self.s = socket.create_connection(PROXY, timeout=timeout)
        self.buf = b""
        self.timeout = timeout

    def send(self, b):
        self.s.sendall(b)

    def fill(self):
        d = self.s.recv(1 << 16)
        if not d:
            raise EOFError("closed")
        self.buf += d

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        h, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = h.decode("latin-1").split("\r\n")
        hs = []
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hs.append((k.strip().lower(), v.strip()))
        return int(lines[0].split(" ")[1]), lines[0], hs

    def n(self, k):
        while len(self.buf) < k:
            self.fill()
        d, self.buf = self.buf[:k], self.buf[k:]
        return d

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def response(self, method="GET"):
        """(status, headers dict, raw header list, body, interims, raw chunked tail)"""
        interims = []
        while True:
            st, line, hs = self.head()
            if 100 <= st < 200:
                interims.append((st, hs))
                continue
            break
        d = dict(hs)
        if method == "HEAD" or st in (204, 304):
            return st, d, hs, b"", interims
        if d.get("transfer-encoding", "").lower() == "chunked":
            raw = b""
            while True:
                l = self.line()
                raw += l + b"\r\n"
                size = int(l.split(b";")[0], 16)
                if size == 0:
                    break
                raw += self.n(size + 2)
            while True:
                l = self.line()
                raw += l + b"\r\n"
                if not l:
                    break
            return st, d, hs, raw, interims
        if "content-length" in d:
            return st, d, hs, self.n(int(d["content-length"])), interims
        return st, d, hs, self.until_close(), interims

    def until_close(self, limit=10):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            self.s.settimeout(max(0.05, end - time.monotonic()))
            try:
                d = self.s.recv(1 << 16)
            except OSError:
                break
            if not d:
                break
            self.buf += d
        b, self.buf = self.buf, b""
        return b

    def closed_within(self, secs):
        """Does the proxy close this connection within secs (nothing more sent)?"""
        self.s.settimeout(secs)
        try:
            d = self.s.recv(1)
        except socket.timeout:
            return False
        except OSError:
            return True
        return d == b""


def req(method, path, extra="", body=b"", version="1.1"):
    return (("%s %s%s HTTP/%s\r\nHost: %s\r\n%s" % (method, U, path, version, HP, extra))
            .encode() + (b"Content-Length: %d\r\n" % len(body) if body else b"") + b"\r\n" + body)


def result(ok, why=""):
    print(json.dumps({"ok": bool(ok), "why": why},
                     default=lambda o: o.decode("latin-1") if isinstance(o, bytes) else repr(o)), flush=True)
    sys.exit(0)


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ---- the cases ------------------------------------------------------------

def head_length_kept():
    c = Conn()
    c.send(req("HEAD", "/head") + req("GET", "/hello"))
    st, d, hs, body, _ = c.response("HEAD")
    st2, d2, _, body2, _ = c.response()
    result(st == 200 and d.get("content-length") == "1234" and st2 == 200 and body2 == b"hello\n",
           (st, hs, st2, body2.decode("latin-1")))


def head_chunked_kept():
    c = Conn()
    c.send(req("HEAD", "/headchunked") + req("GET", "/hello"))
    st, d, hs, _, _ = c.response("HEAD")
    st2, _, _, body2, _ = c.response()
    result(st == 200 and d.get("transfer-encoding") == "chunked" and "content-length" not in d
           and body2 == b"hello\n", (hs, body2.decode("latin-1")))


def status_304_kept():
    c = Conn()
    c.send(req("GET", "/304", "If-None-Match: \"v1\"\r\n") + req("GET", "/hello"))
    st, d, hs, _, _ = c.response()
    st2, _, _, body2, _ = c.response()
    result(st == 304 and d.get("content-length") == "1234" and d.get("etag") == '"v1"'
           and body2 == b"hello\n", (hs, body2.decode("latin-1")))


def status_204_no_body():
    c = Conn()
    c.send(req("GET", "/204") + req("GET", "/hello"))
    st, d, hs, _, _ = c.response()
    st2, _, _, body2, _ = c.response()
    result(st == 204 and d.get("x-kind") == "none" and "content-length" not in d
           and "transfer-encoding" not in d and body2 == b"hello\n", (hs, body2.decode("latin-1")))


def pipeline(n, bodies, slow):
    c = Conn(timeout=60)
    reqs = []
    for i in range(n):
        extra = "Connection: close\r\n" if i == n - 1 else ""
        if bodies:
            reqs.append(req("POST", ("/body?ms=1&i=%d" if slow else "/body?i=%d") % i, extra,
                            body=b"b%d-" % i * (1 + i % 50)))
        else:
            reqs.append(req("GET", ("/slow?ms=1&i=%d" if slow else "/hello?i=%d") % i, extra))
    w = threading.Thread(target=c.send, args=(b"".join(reqs),), daemon=True)
    t0 = time.monotonic()
    w.start()
    bad = []
    for i in range(n):
        st, d, _, body, _ = c.response()
        if bodies:
            want = b"b%d-" % i * (1 + i % 50)
            got = json.loads(body)
            if st != 200 or got["len"] != len(want) or got["sha"] != sha(want):
                bad.append((i, st, got))
        elif st != 200 or body != (b"slow!\n" if slow else b"hello\n"):
            bad.append((i, st, body.decode("latin-1")))
        if len(bad) > 3:
            break
    closed = c.closed_within(5)
    result(not bad and closed and time.monotonic() - t0 < 40,
           {"bad": bad, "closed": closed, "took": time.monotonic() - t0})


def slow_pipeline(n, bodies):
    pipeline(n, bodies, True)


def expect_accepted():
    c = Conn()
    c.send(req("POST", "/expect-ok", "Expect: 100-continue\r\nContent-Length: 10\r\n"))
    st, line, hs = c.head()  # the 100, before any body byte was sent
    if st != 100:
        result(False, ("no 100 first", line))
    c.send(b"0123456789")
    st, d, _, body, _ = c.response()
    got = json.loads(body)
    result(st == 200 and got["len"] == 10 and got["sha"] == sha(b"0123456789"), (st, got))


def expect_refused():
    c = Conn()
    c.send(req("POST", "/expect-no", "Expect: 100-continue\r\nContent-Length: 10\r\n"))
    t0 = time.monotonic()
    st, d, hs, _, _ = c.response()
    took = time.monotonic() - t0
    # the body is never sent: the proxy says so and ends the connection
    closed = c.closed_within(3)
    result(st == 417 and took < 5 and d.get("connection") == "close" and closed,
           (st, hs, took, closed))


def upload_refused_answered():
    # a client that sends its whole body before it reads (urllib does):
    # srt's own refusal must reach it, not a reset
    c = Conn()
    body = b"u" * (8 << 20)
    try:
        c.send(b"POST http://denied.invalid/up HTTP/1.1\r\nHost: denied.invalid\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body)
    except OSError as e:
        result(False, "sending the body: %s" % e)
    st, d, hs, _, _ = c.response()
    result(st == 403, (st, hs))


def upload_early_answer_answered():
    # the origin answers (417, Connection: close) without reading the body;
    # the client sends all of it first, then reads the answer
    c = Conn()
    body = b"e" * (8 << 20)
    try:
        c.send(req("POST", "/expect-no", "", body))
    except OSError as e:
        result(False, "sending the body: %s" % e)
    st, d, hs, _, _ = c.response()
    result(st == 417 and c.closed_within(10), (st, hs))


def chunked_trailers():
    c = Conn()
    c.send(req("GET", "/chunked") + req("GET", "/hello"))
    st, d, hs, raw, _ = c.response()
    st2, _, _, body2, _ = c.response()
    want = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Checksum: abc123\r\nX-More: 2\r\n\r\n"
    result(st == 200 and raw == want and d.get("transfer-encoding") == "chunked" and body2 == b"hello\n",
           (hs, raw.decode("latin-1")))


def chunked_request_trailers():
    c = Conn()
    body = b"4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\nX-Sum: 77\r\n\r\n"
    c.send(req("POST", "/body", "Transfer-Encoding: chunked\r\n") + body)
    st, _, _, rb, _ = c.response()
    got = json.loads(rb)
    result(st == 200 and got["len"] == 7 and got["sha"] == sha(b"abcdefg") and got["trailers"] == ["X-Sum: 77"],
           (st, got))


def chunked_request_size_too_long():
    c = Conn()
    c.send(req("POST", "/body", "Transfer-Encoding: chunked\r\n") + b"00000000000000004\r\nabcd\r\n0\r\n\r\n")
    st, d, _, body, _ = c.response()
    result(st == 400 and b"chunked" in body, (st, body.decode("latin-1")))


def chunked_request_size_overflow():
    c = Conn()
    c.send(req("POST", "/body", "Transfer-Encoding: chunked\r\n") + b"FFFFFFFFFFFFFFFFF\r\nabcd\r\n")
    st, d, _, body, _ = c.response()
    result(st == 400, (st, body.decode("latin-1")))


def chunked_response_size_too_long():
    c = Conn()
    c.send(req("GET", "/badchunk"))
    st, d, _, body, _ = c.response()
    result(st == 502, (st, body.decode("latin-1")))


def http10_without_keepalive():
    c = Conn()
    c.send(req("GET", "/hello", version="1.0"))
    st, d, hs, body, _ = c.response()
    closed = c.closed_within(3)
    result(st == 200 and body == b"hello\n" and d.get("connection") == "close" and closed,
           (hs, closed))


def http10_keepalive():
    c = Conn()
    c.send(req("GET", "/hello", "Connection: keep-alive\r\n", version="1.0"))
    st, d, hs, body, _ = c.response()
    open_ = not c.closed_within(0.5)
    c.send(req("GET", "/hello?again=1", "Connection: keep-alive\r\n", version="1.0"))
    st2, d2, _, body2, _ = c.response()
    result(st == 200 and d.get("connection") == "keep-alive" and open_ and st2 == 200
           and body2 == b"hello\n", (hs, open_, st2))


def client_connection_close():
    c = Conn()
    c.send(req("GET", "/hello", "Connection: close\r\n"))
    st, d, hs, body, _ = c.response()
    closed = c.closed_within(3)
    result(st == 200 and d.get("connection") == "close" and closed, (hs, closed))


def origin_connection_close():
    c = Conn()
    c.send(req("GET", "/hello?close=1"))
    st, d, hs, body, _ = c.response()
    # the client's connection outlives the origin's: a next request works
    c.send(req("GET", "/hello"))
    st2, _, _, body2, _ = c.response()
    result(st == 200 and body == b"hello\n" and st2 == 200 and body2 == b"hello\n", (hs, st2))


def connect_half_closed():
    s = socket.create_connection(PROXY, timeout=20)
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (HP, HP)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    line = buf.split(b"\r\n")[0]
    rest = buf.split(b"\r\n\r\n", 1)[1]
    s.sendall(("GET /slow?ms=300 HTTP/1.1\r\nHost: %s\r\n\r\n" % HP).encode())
    s.shutdown(socket.SHUT_WR)  # nothing more from the client; the answer still comes
    data = rest
    end = time.monotonic() + 10
    while time.monotonic() < end:
        d = s.recv(65536)
        if not d:
            break
        data += d
    result(b" 200" in line and data.startswith(b"HTTP/1.1 200") and data.endswith(b"slow!\n"),
           (line.decode("latin-1"), data.decode("latin-1")))


def upload_moving_past_timeout():
    # 3x the 1 s inactivity timeout, a piece every 150 ms
    c = Conn(timeout=30)
    pieces = [b"%04d" % i * 64 for i in range(20)]
    total = b"".join(pieces)
    c.send(req("POST", "/body", "Content-Length: %d\r\n" % len(total)))
    for p in pieces:
        time.sleep(0.15)
        c.send(p)
    st, d, _, body, _ = c.response()
    got = json.loads(body) if st == 200 else body.decode("latin-1")
    result(st == 200 and got["len"] == len(total) and got["sha"] == sha(total), (st, got))


def slow_response_past_timeout():
    c = Conn(timeout=30)
    t0 = time.monotonic()
    c.send(req("GET", "/drip?n=15&ms=200"))
    st, d, _, body, _ = c.response()
    result(st == 200 and body == b"d" * 15 and time.monotonic() - t0 > 2.5, (st, body, time.monotonic() - t0))


def silent_origin_504():
    c = Conn(timeout=30)
    t0 = time.monotonic()
    c.send(req("GET", "/silent"))
    st, d, _, body, _ = c.response()
    took = time.monotonic() - t0
    result(st == 504 and 0.8 <= took < 10, (st, took, body.decode("latin-1")))


def silent_body_closed():
    c = Conn(timeout=30)
    t0 = time.monotonic()
    c.send(req("GET", "/stall"))
    st, d, _, _, _ = c.head() + (None, None)
    rest = c.until_close(10)
    took = time.monotonic() - t0
    result(st == 200 and rest == b"ab" and 0.8 <= took < 9, (st, rest, took))


def long_upload():
    c = Conn(timeout=60)
    body = b"u" * (48 << 20)
    c.send(req("POST", "/body", "Content-Length: %d\r\n" % len(body)))
    w = threading.Thread(target=c.send, args=(body,), daemon=True)
    w.start()
    st, d, _, rb, _ = c.response()
    got = json.loads(rb)
    result(st == 200 and got["len"] == len(body) and got["sha"] == sha(body), (st, got["len"]))


def long_response():
    c = Conn(timeout=60)
    c.send(req("GET", "/long?mb=64"))
    st, d, _, body, _ = c.response()
    blk = hashlib.sha256(b"srt").hexdigest().encode() * 2048
    want = hashlib.sha256()
    n = 64 << 20
    while n > 0:
        want.update(blk[:n])
        n -= min(n, len(blk))
    result(st == 200 and len(body) == 64 << 20 and sha(body) == want.hexdigest(), (st, len(body)))


def interim_relayed():
    c = Conn()
    c.send(req("GET", "/interim"))
    st, d, _, body, interims = c.response()
    codes = [i[0] for i in interims]
    links = [dict(i[1]).get("link") for i in interims]
    result(st == 200 and body == b"final\n" and codes == [102, 103] and links[1] == "</s.css>; rel=preload",
           (codes, links, st))


def request_headers_at_limit():
    # 100 fields (SRT_HTTP_MAX_HEADERS) with Host: accepted, all forwarded
    c = Conn()
    extra = "".join("X-F%d: %d\r\n" % (i, i) for i in range(99))
    c.send(req("GET", "/echo", extra))
    st, d, _, body, _ = c.response()
    result(st == 200 and body.count(b"X-F") == 99, (st, body.count(b"X-F")))


def request_headers_over_limit():
    c = Conn()
    extra = "".join("X-F%d: %d\r\n" % (i, i) for i in range(100))
    c.send(req("GET", "/echo", extra))
    st, d, hs, body, _ = c.response()
    closed = c.closed_within(3)
    result(st == 431 and d.get("connection") == "close" and closed and b"100 header fields" in body,
           (st, hs, body.decode("latin-1")))


def response_headers_at_limit():
    c = Conn()
    c.send(req("GET", "/headers?n=100"))
    st, d, hs, body, _ = c.response()
    result(st == 200 and body == b"many\n" and sum(k.startswith("x-h") for k, _ in hs) == 98, (st, len(hs)))


def response_headers_over_limit():
    c = Conn()
    c.send(req("GET", "/headers?n=101"))
    st, d, hs, body, _ = c.response()
    result(st == 502, (st, body.decode("latin-1")))


CASES = {
    "head_length_kept": head_length_kept,
    "head_chunked_kept": head_chunked_kept,
    "304_length_kept": status_304_kept,
    "204_no_body": status_204_no_body,
    "expect_100_accepted": expect_accepted,
    "expect_100_refused": expect_refused,
    "upload_refused_answered": upload_refused_answered,
    "upload_early_answer_answered": upload_early_answer_answered,
    "chunked_response_trailers": chunked_trailers,
    "chunked_request_trailers": chunked_request_trailers,
    "chunked_request_17_digits_400": chunked_request_size_too_long,
    "chunked_request_overflow_400": chunked_request_size_overflow,
    "chunked_response_17_digits_502": chunked_response_size_too_long,
    "http10_without_keepalive": http10_without_keepalive,
    "http10_keepalive": http10_keepalive,
    "connection_close_client": client_connection_close,
    "connection_close_origin": origin_connection_close,
    "connect_half_closed": connect_half_closed,
    "upload_moving_past_timeout": upload_moving_past_timeout,
    "response_moving_past_timeout": slow_response_past_timeout,
    "silent_origin_504": silent_origin_504,
    "silent_body_closed": silent_body_closed,
    "long_upload": long_upload,
    "long_response": long_response,
    "interim_1xx_relayed": interim_relayed,
    "request_headers_at_limit": request_headers_at_limit,
    "request_headers_over_limit_431": request_headers_over_limit,
    "response_headers_at_limit": response_headers_at_limit,
    "response_headers_over_limit_502": response_headers_over_limit,
}
for _n in (1, 2, 40, 1000):
    for _b in (False, True):
        for _s in (False, True):
            CASES["pipeline_%d_%s_%s" % (_n, "bodies" if _b else "get", "slow" if _s else "fast")] = \
                (lambda n=_n, b=_b, s=_s: pipeline(n, b, s))

try:
    CASES[CASE]()
except Exception as e:  # any failure is a failed case, with its reason
    result(False, "%s: %s" % (type(e).__name__, e))
'''

# name -> expectation (the driver checks it; this is what it means)
TABLE = {
    "head_length_kept": "HEAD: the origin's Content-Length: 1234 reaches the client, no body; the next pipelined GET is intact",
    "head_chunked_kept": "HEAD: the origin's Transfer-Encoding: chunked is kept, no body, no Content-Length added",
    "304_length_kept": "304: ETag and Content-Length: 1234 kept as sent, no body; next response intact",
    "204_no_body": "204: no body, no framing header made up, next response intact",
    "expect_100_accepted": "Expect: 100-continue: the 100 comes before any body byte, then the 200 for the body",
    "expect_100_refused": "Expect: 100-continue refused (417): the final answer comes without the body, says Connection: close, the connection ends",
    "upload_refused_answered": "an 8 MiB upload to a denied host, sent whole before reading: srt's 403 arrives (no reset)",
    "upload_early_answer_answered": "an 8 MiB upload answered 417 by the origin before its body is read, sent whole before reading: the 417 arrives, then the close",
    "chunked_response_trailers": "chunked response: chunks, extension and trailers relayed byte for byte; next response intact",
    "chunked_request_trailers": "chunked request: the origin gets the data and the trailer",
    "chunked_request_17_digits_400": "chunk-size line of 17 hex digits in a request body: 400",
    "chunked_request_overflow_400": "chunk-size past uint64 in a request body: 400",
    "chunked_response_17_digits_502": "chunk-size line of 17 hex digits in a response body: 502",
    "http10_without_keepalive": "HTTP/1.0 without keep-alive: response with Connection: close, then the proxy closes",
    "http10_keepalive": "HTTP/1.0 with Connection: keep-alive: response says keep-alive, a second request on it works",
    "connection_close_client": "client's Connection: close: response says close, the proxy closes",
    "connection_close_origin": "origin's Connection: close: the response is complete and the client connection serves the next request",
    "connect_half_closed": "CONNECT tunnel, client shuts its write side after the request: the (slow) answer still arrives",
    "upload_moving_past_timeout": "an upload that keeps moving for 3x the inactivity timeout succeeds",
    "response_moving_past_timeout": "a response dripping for 3x the inactivity timeout arrives whole",
    "silent_origin_504": "an origin that never answers: 504 after the inactivity timeout (1 s), not later",
    "silent_body_closed": "an origin silent mid-body: the client gets what came, then the close after the timeout",
    "long_upload": "48 MiB upload, checked by sha256",
    "long_response": "64 MiB response, checked by sha256",
    "interim_1xx_relayed": "102 and 103 (with Link) relayed before the 200",
    "request_headers_at_limit": "a request of 100 header fields (the limit) is accepted and forwarded whole",
    "request_headers_over_limit_431": "101 request header fields: 431 and the connection closed",
    "response_headers_at_limit": "a response of 100 header fields is relayed",
    "response_headers_over_limit_502": "a response of 101 header fields: 502",
}
for _n in (1, 2, 40, 1000):
    TABLE["pipeline_%d_get_fast" % _n] = "%d pipelined GETs, fast origin: all answered in order, then closed" % _n
    TABLE["pipeline_%d_get_slow" % _n] = ("%d pipelined GETs, slow origin (1 ms, head and body apart): all in order" % _n)
    TABLE["pipeline_%d_bodies_fast" % _n] = "%d pipelined POSTs with bodies: each body reaches the origin whole, in order" % _n
    TABLE["pipeline_%d_bodies_slow" % _n] = ("%d pipelined POSTs with bodies, slow origin: each body whole, "
                                             "answers in order" % _n)

TIMEOUT_CASES = {"upload_moving_past_timeout", "response_moving_past_timeout",
                 "silent_origin_504", "silent_body_closed"}


@pytest.fixture(scope="module")
def hooks_build(srt_bin):
    r = subprocess.run([srt_bin, "--version"], capture_output=True, text=True, timeout=10)
    return "(test hooks)" in r.stdout


def _driver(sb):
    p = sb.base / "http_semantics_driver.py"
    if not p.exists():
        p.write_text(DRIVER)
        os.chmod(p, 0o644)
    return str(p)


@pytest.mark.parametrize("case", sorted(TABLE))
def test_http_semantics(sb, sem, hooks_build, case):
    env = None
    if case in TIMEOUT_CASES:
        if not hooks_build:
            pytest.skip("needs a -Dtest_hooks=true build (SRT_TEST_PROXY_TIMEOUT_MS)")
        env = {"SRT_TEST_PROXY_TIMEOUT_MS": str(TIMEOUT_MS)}
    r = sb.run([PY, _driver(sb), case, str(sem.port)], settings=net(sem.port), env=env, timeout=90)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    assert lines, (case, TABLE[case], r)
    assert lines[0]["ok"], "%s: expected: %s; got: %r" % (case, TABLE[case], lines[0]["why"])
    assert r.returncode == 0, r.stderr[-3000:]  # srt itself clean (ASan/LSan builds too)


# ===================== real clients =======================================

def test_curl_get_and_head(sb, sem):
    u = "http://127.0.0.1:%d" % sem.port
    r = sb.run(CURL + "%s/hello; " % u + CURL + "-I %s/head" % u, settings=net(sem.port))
    assert r.returncode == 0, r
    assert r.stdout.startswith("hello\n"), r.stdout
    assert re.search(r"(?im)^content-length: 1234\r?$", r.stdout), r.stdout


def test_wget_get_and_spider(sb, sem):
    if not shutil.which("wget"):
        pytest.skip("wget is not installed (scripts/install-deps.sh test)")
    u = "http://127.0.0.1:%d" % sem.port
    px = "-e use_proxy=on -e http_proxy=http://127.0.0.1:3128 "
    r = sb.run(NOENV + "wget -q -O - " + px + "%s/hello && " % u + NOENV
               + "wget -S --spider " + px + "%s/head 2>&1" % u, settings=net(sem.port))
    assert r.returncode == 0, r
    assert r.stdout.startswith("hello\n"), r.stdout
    assert "Content-Length: 1234" in r.stdout, r.stdout
    assert "Length: 1234" in r.stdout and "Remote file exists" in r.stdout, r.stdout


URLLIB = r'''
import sys, urllib.request
P = int(sys.argv[1])
o = urllib.request.build_opener(urllib.request.ProxyHandler({"http": "http://127.0.0.1:3128"}))
r = o.open("http://127.0.0.1:%d/hello" % P, timeout=20)
print(r.status, r.read().decode().strip())
r = o.open(urllib.request.Request("http://127.0.0.1:%d/head" % P, method="HEAD"), timeout=20)
print(r.status, r.headers["Content-Length"])
r = o.open(urllib.request.Request("http://127.0.0.1:%d/body" % P, data=b"x" * 100000), timeout=20)
print(r.status, r.read().decode())
'''


def test_python_urllib(sb, sem):
    p = sb.base / "u.py"
    p.write_text(URLLIB)
    r = sb.run(NOENV + "%s %s %d" % (PY, p, sem.port), settings=net(sem.port))
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "200 hello" and lines[1] == "200 1234", r.stdout
    assert json.loads(lines[2].split(" ", 1)[1])["len"] == 100000, r.stdout


REQUESTS = r'''
import sys, requests
P = int(sys.argv[1])
s = requests.Session()
s.proxies = {"http": "http://127.0.0.1:3128"}
u = "http://127.0.0.1:%d" % P
print(s.get(u + "/hello", timeout=20).text.strip())
h = s.head(u + "/head", timeout=20)
print(h.status_code, h.headers["Content-Length"])
print(s.post(u + "/body", data=iter([b"a" * 1000] * 50), timeout=20).json()["len"])  # chunked
print(s.get(u + "/chunked", timeout=20).text)
'''


def test_python_requests(sb, sem):
    r = subprocess.run([PY, "-c", "import requests"], capture_output=True, timeout=30)
    if r.returncode != 0:
        pytest.skip("python3-requests is not installed (scripts/install-deps.sh test)")
    p = sb.base / "rq.py"
    p.write_text(REQUESTS)
    r = sb.run(NOENV + "%s %s %d" % (PY, p, sem.port), settings=net(sem.port))
    assert r.returncode == 0, r
    assert r.stdout.splitlines() == ["hello", "200 1234", "50000", "hello world"], r.stdout


NODE = r'''
// Node 20's fetch (undici) ignores http_proxy: a plain http.request to the
// proxy with the absolute-form target, as proxy-aware Node clients do
const http = require("http");
const P = process.argv[2];
function get(method, path) {
  return new Promise((res, rej) => {
    const r = http.request({host: "127.0.0.1", port: 3128, method,
                            path: `http://127.0.0.1:${P}${path}`,
                            headers: {Host: `127.0.0.1:${P}`}}, (resp) => {
      let b = "";
      resp.on("data", (d) => (b += d));
      resp.on("end", () => res([resp.statusCode, resp.headers["content-length"], b]));
    });
    r.on("error", rej);
    r.setTimeout(20000, () => r.destroy(new Error("timeout")));
    r.end();
  });
}
(async () => {
  console.log(JSON.stringify(await get("GET", "/hello")));
  console.log(JSON.stringify(await get("HEAD", "/head")));
  console.log(JSON.stringify(await get("GET", "/chunked")));
})().catch((e) => { console.error(e); process.exit(1); });
'''


def test_node_http(sb, sem):
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    p = sb.base / "n.js"
    p.write_text(NODE)
    r = sb.run([node, str(p), str(sem.port)], settings=net(sem.port))
    assert r.returncode == 0, r
    assert [json.loads(l) for l in r.stdout.splitlines()] == [
        [200, "6", "hello\n"], [200, "1234", ""], [200, None, "hello world"]], r.stdout


class GitCGI(http.server.BaseHTTPRequestHandler):
    """git http-backend as CGI (smart HTTP), on the host's loopback."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if not size:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _cgi(self):
        u = urllib.parse.urlsplit(self.path)
        body = self._body()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "GIT_PROJECT_ROOT": self.server.root, "GIT_HTTP_EXPORT_ALL": "1",
               "REQUEST_METHOD": self.command, "PATH_INFO": u.path, "QUERY_STRING": u.query,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
               "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
               "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", "")}
        p = subprocess.run(["git", "http-backend"], input=body, env=env,
                           capture_output=True, timeout=60)
        head, _, out = p.stdout.partition(b"\r\n\r\n")
        status = "200 OK"
        hdrs = []
        for l in head.decode("latin-1").split("\r\n"):
            k, _, v = l.partition(":")
            if k.lower() == "status":
                status = v.strip()
            elif k:
                hdrs.append((k, v.strip()))
        self.send_response(int(status.split()[0]), status.split(" ", 1)[1] if " " in status else "")
        for k, v in hdrs:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = _cgi


@pytest.fixture
def git_server(sb):
    root = sb.base / "git-root"
    root.mkdir()
    src = sb.base / "git-src"
    src.mkdir()
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_SYSTEM="/dev/null",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    g = lambda *a, cwd=src: subprocess.run(["git", *a], cwd=str(cwd), env=env, check=True,
                                           capture_output=True, timeout=60)
    g("init", "-q", "-b", "main")
    for i in range(3):
        (src / ("f%d.txt" % i)).write_text("file %d\n" % i * 1000)
        g("add", ".")
        g("commit", "-q", "-m", "commit %d" % i)
    g("clone", "-q", "--bare", str(src), str(root / "repo.git"), cwd=sb.base)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GitCGI)
    srv.root = str(root)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_git_clone_over_http(sb, git_server):
    port = git_server
    r = sb.run(NOENV + "git -c http.proxy=http://127.0.0.1:3128 clone -q "
               "http://127.0.0.1:%d/repo.git out && git -C out log --format=%%s && cat out/f2.txt | wc -c"
               % port, settings=dict(net(port), filesystem={"allowWrite": [str(sb.ws)]}), timeout=120)
    assert r.returncode == 0, r
    assert r.stdout.split() == ["commit", "2", "commit", "1", "commit", "0", "7000"], r


# ---- apt: a flat repository on the host's loopback ------------------------

def _apt_repo(root):
    """Three packages of 200 kB each, their Packages index and a Release
    listing it (unsigned: the source is [trusted=yes])."""
    import gzip
    repo = root / "repo"
    repo.mkdir(parents=True)
    entries = []
    for i in range(3):
        name = "srt-apt-test%d" % i
        d = root / "pkg" / name
        (d / "DEBIAN").mkdir(parents=True)
        doc = d / "usr" / "share" / "doc" / name
        doc.mkdir(parents=True)
        (doc / "data").write_bytes(_body_of(200000 + i))
        (d / "DEBIAN" / "control").write_text(
            "Package: %s\nVersion: 1.0\nArchitecture: all\n"
            "Maintainer: srt <srt@example.invalid>\nDescription: test\n" % name)
        deb = repo / ("%s_1.0_all.deb" % name)
        subprocess.run(["dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(d), str(deb)],
                       check=True, capture_output=True, timeout=60)
        data = deb.read_bytes()
        entries.append("Package: %s\nVersion: 1.0\nArchitecture: all\n"
                       "Maintainer: srt <srt@example.invalid>\nFilename: ./%s\nSize: %d\n"
                       "SHA256: %s\nDescription: test\n" % (name, deb.name, len(data), sha(data)))
    pk = "\n".join(entries).encode()
    (repo / "Packages").write_bytes(pk)
    pgz = gzip.compress(pk)
    (repo / "Packages.gz").write_bytes(pgz)
    (repo / "Release").write_text(
        "Origin: srt-test\nLabel: srt-test\nDate: Thu, 03 Dec 2026 00:00:00 UTC\nSHA256:\n"
        " %s %d Packages\n %s %d Packages.gz\n" % (sha(pk), len(pk), sha(pgz), len(pgz)))
    return repo


def sha(b):
    return hashlib.sha256(b).hexdigest()


class _AptFiles(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: apt pipelines its requests

    def log_message(self, *a):
        pass


@pytest.fixture
def apt_server(sb):
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        pytest.skip("apt-get or dpkg-deb missing")
    repo = _apt_repo(sb.base / "apt")
    handler = lambda *a, **k: _AptFiles(*a, directory=str(repo), **k)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield repo, srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_apt_update_and_download(sb, apt_server):
    """apt-get update and apt-get download of three packages through the
    proxy (apt's own HTTP client: keep-alive, pipelined requests); each
    .deb arrives byte for byte."""
    repo, port = apt_server
    d = sb.ws / "apt"
    for sub in ("lists/partial", "cache/archives/partial", "state"):
        sb.mkdir("apt/" + sub)
    sb.mkfile("apt/status")
    sb.mkfile("apt/sources.list", "deb [trusted=yes] http://127.0.0.1:%d/ ./\n" % port)
    o = ("-q -o Dir::Etc::SourceList={d}/sources.list -o Dir::Etc::SourceParts=/nonexistent "
         "-o Dir::State={d}/state -o Dir::State::Lists={d}/lists -o Dir::Cache={d}/cache "
         "-o Dir::State::status={d}/status -o Debug::NoLocking=1 -o APT::Sandbox::User=root "
         "-o Acquire::http::Proxy=http://127.0.0.1:3128").format(d=d)
    r = sb.run(NOENV + "sh -c 'apt-get %s update && apt-get %s download "
               "srt-apt-test0 srt-apt-test1 srt-apt-test2'" % (o, o),
               settings=dict(net(port), filesystem={"allowWrite": [str(sb.ws)]}), timeout=120)
    assert r.returncode == 0, r
    for i in range(3):
        name = "srt-apt-test%d_1.0_all.deb" % i
        got = sb.ws / name
        assert got.exists(), (name, r.stdout[-2000:])
        assert sha(got.read_bytes()) == sha((repo / name).read_bytes()), name
