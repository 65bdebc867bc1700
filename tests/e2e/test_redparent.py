"""Red-team attacks on network.parentProxy (h/redparent): keep-alive and
pipelined client connections whose requests take different routes, and
what a hostile origin behind an honest parent can do to srt's framing."""

import pytest

from e2e_util import PY
from test_network import json_lines, net, origin, script, servers  # noqa: F401
from test_parent_proxy import ORIGIN, parents, pp  # noqa: F401

KEEPALIVE = r"""
P = %(p)d
s = socket.create_connection(HTTP, timeout=20)
def req(host, extra=""):
    return ("GET http://%%s:%%d/hello HTTP/1.1\r\nHost: %%s:%%d\r\n%%s\r\n"
            %% (host, P, host, P, extra)).encode()
hosts = %(hosts)r
res = []
if %(pipe)r:
    s.sendall(b"".join(req(h, "Connection: close\r\n" if i == len(hosts) - 1 else "")
                       for i, h in enumerate(hosts)))
    data = recv_until_close(s, 20).decode("latin-1")
    out({"data": data})
else:
    for i, h in enumerate(hosts):
        try:
            s.sendall(req(h))
        except OSError as e:
            res.append({"host": h, "error": str(e)})
            break
        line, hdrs, rest = read_head(s)
        n = int(hdrs.get("content-length", "0"))
        body = rest + recvn(s, n - len(rest))
        res.append({"host": h, "line": line, "body": body.decode("latin-1")})
    out({"res": res})
"""


@pytest.mark.parametrize("pipe", [False, True])
def test_keepalive_requests_each_take_their_own_route(sb, origin, parents, pipe):
    par = parents({ORIGIN: origin.port, "direct.srt-e2e.invalid": origin.port,
                   "denied.srt-e2e.invalid": origin.port})
    settings = {"network": {
        "allowedDomains": ["*.srt-e2e.invalid", "127.0.0.1:%d" % origin.port],
        "deniedDomains": ["denied.srt-e2e.invalid"],
        "parentProxy": pp(par.url, noProxy="direct.srt-e2e.invalid")}}
    hosts = [ORIGIN, "127.0.0.1", ORIGIN, "127.0.0.1", ORIGIN, "denied.srt-e2e.invalid"]
    sc = script(sb, KEEPALIVE % {"p": origin.port, "hosts": hosts, "pipe": pipe})
    r = sb.run([PY, sc], settings=settings, timeout=90)
    assert r.returncode == 0, r
    (res,) = json_lines(r.stdout)
    if pipe:
        data = res["data"]
        assert data.count("HTTP/1.1 200 OK") == 5, data
        assert data.count("hello from origin") == 5, data
        assert "denied by deniedDomains" in data.rsplit("HTTP/1.1 ", 1)[1], data
    else:
        lines = [x["line"] for x in res["res"]]
        assert lines == ["HTTP/1.1 200 OK"] * 5 + ["HTTP/1.1 403 Forbidden"], res
    # the parent saw exactly the three requests for ORIGIN; the loopback
    # ones went directly, the denied one nowhere
    assert par.targets() == [("GET", "http://%s:%d/hello" % (ORIGIN, origin.port))] * 3
    assert len(origin.requests) == 5


SMUGGLE = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nSMUGGLED!"
HOSTILE = {
    "cl-and-te": ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nTransfer-Encoding: chunked"
                  b"\r\n\r\n0\r\n\r\n" + SMUGGLE),
    "te-and-cl": ("GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 52"
                  b"\r\n\r\n0\r\n\r\n" + SMUGGLE),
    "interim": ("GET", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" + SMUGGLE),
    "head-with-body": ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(SMUGGLE)
                       + SMUGGLE),
    "extra-after-length": ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + SMUGGLE),
    "204-with-body": ("GET", b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n" + SMUGGLE),
    "304-with-body": ("GET", b"HTTP/1.1 304 Not Modified\r\n\r\n" + SMUGGLE),
    "double-length": ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 51\r\n"
                      b"\r\nok" + SMUGGLE),
    "te-not-chunked-last": ("GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n"
                            b"\r\n0\r\n\r\n" + SMUGGLE),
    "bare-lf": ("GET", b"HTTP/1.1 200 OK\nContent-Length: 0\n\n" + SMUGGLE),
}

SMUGGLE_CLIENT = r"""
P, E = %(p)d, %(e)d
s = socket.create_connection(HTTP, timeout=20)
s.sendall(("%(m)s http://evil.srt-e2e.invalid:%%d/x HTTP/1.1\r\nHost: x\r\n\r\n" %% E).encode())
time.sleep(1.0)
try:
    s.sendall(("GET http://%(o)s:%%d/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
               %% P).encode())
except OSError:
    pass
out({"data": recv_until_close(s, 10).decode("latin-1")})
"""


def after_first_response(data, method):
    """The bytes after the first final response in data, as a client
    frames it (RFC 9112 §6.3)."""
    while True:
        head, sep, rest = data.partition("\r\n\r\n")
        assert sep, data
        lines = head.split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = [l.split(":", 1) for l in lines[1:]]
        hdrs = {k.strip().lower(): v.strip() for k, v in hdrs}
        if 100 <= status < 200:
            data = rest
            continue
        break
    if method == "HEAD" or status in (204, 304):
        return rest
    te = hdrs.get("transfer-encoding", "")
    if te:
        assert te.lower() == "chunked", hdrs
        while True:
            size_line, _, rest = rest.partition("\r\n")
            n = int(size_line.split(";")[0], 16)
            if n == 0:
                _, _, rest = rest.partition("\r\n")
                return rest
            rest = rest[n + 2:]
    if "content-length" in hdrs:
        return rest[int(hdrs["content-length"]):]
    return ""  # read until close: all of it is the body


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_origin_behind_the_parent_cannot_answer_the_next_request(
        sb, origin, parents, case):
    """A response the origin frames two ways, or pads past its framing,
    passes an honest parent verbatim (which then closes): srt must not
    hand the client the extra bytes as the answer to its next request,
    which went to another host."""
    from test_network import ScriptedOrigin
    method, answer = HOSTILE[case]
    evil = ScriptedOrigin(lambda k, head: (answer, "close"))
    try:
        par = parents({ORIGIN: origin.port, "evil.srt-e2e.invalid": evil.port})
        sc = script(sb, SMUGGLE_CLIENT % {"p": origin.port, "e": evil.port, "m": method,
                                          "o": ORIGIN})
        r = sb.run([PY, sc], timeout=60, settings={"network": {
            "allowedDomains": ["*.srt-e2e.invalid"], "parentProxy": pp(par.url)}})
        assert r.returncode == 0, r
        data = json_lines(r.stdout)[0]["data"]
        # what follows srt's first answer, framed as srt framed it, is the
        # answer to the second request (or nothing: srt closed)
        rest = after_first_response(data, method)
        assert "SMUGGLED" not in rest, data
        assert rest == "" or "hello from origin" in rest, data
    finally:
        evil.close()


DIRECT = r"""
import errno
P = %(p)d
res = {}
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "127.0.0.2"),
                  (socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::ffff:127.0.0.1"),
                  (socket.AF_INET6, "::1")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((addr, P))
        s.sendall(b"CONNECT %(o)s:%(op)d HTTP/1.1\r\nHost: x\r\n\r\n")
        res[addr] = "connected: %%r" %% s.recv(100)
    except OSError as e:
        res[addr] = errno.errorcode.get(e.errno, str(e.errno))
    s.close()
out(res)
"""


def direct_to_parent(sb, origin, parents, env=None, extra=None):
    par = parents({ORIGIN: origin.port})
    sc = script(sb, DIRECT % {"p": par.port, "o": ORIGIN, "op": origin.port})
    settings = {"network": {"allowedDomains": [ORIGIN], "parentProxy": pp(par.url)}}
    settings.update(extra or {})
    r = sb.run([PY, sc], env=env, timeout=60, settings=settings)
    assert r.returncode == 0, r
    (res,) = json_lines(r.stdout)
    assert not [v for v in res.values() if v.startswith("connected")], res
    assert par.log == [], par.log
    return res


def test_parent_unreachable_directly_from_inside(sb, origin, parents):
    """srt's policy is the only way to the parent: the command's own
    network namespace has no route to the host's loopback."""
    direct_to_parent(sb, origin, parents)


def test_parent_unreachable_directly_without_namespaces(sb, origin, parents, srt_bin):
    """Without namespaces the command shares the host's network stack and
    the parent listens on its loopback: Landlock's TCP rule and srt's
    connect gate let it reach only srt's own proxies' ports."""
    import os
    import subprocess
    hook = {"SRT_TEST_NO_USERNS": "1"}
    chk = subprocess.run([srt_bin, "--check"], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, **hook))
    if "mode: no-namespace" not in chk.stdout:
        pytest.skip("not a test build (SRT_TEST_NO_USERNS has no effect)")
    res = direct_to_parent(sb, origin, parents, env=hook,
                           extra={"enableWeakerNestedSandbox": True})
    print(res)


ENVIRON = r"""
import os
res = {"env": os.environ.get("HTTP_PROXY", ""), "read": []}
pid = os.getpid()
for _ in range(8):
    try:
        with open("/proc/%d/status" % pid) as f:
            pid = int([l for l in f if l.startswith("PPid:")][0].split()[1])
    except OSError:
        break
    if pid <= 1:
        break
    for what in ("environ", "cmdline", "mem"):
        try:
            with open("/proc/%d/%s" % (pid, what), "rb") as f:
                d = f.read(1 << 20)
            res["read"].append([pid, what, "SECRET-PW" in d.decode("latin-1")])
        except OSError as e:
            res["read"].append([pid, what, e.strerror])
out(res)
"""


@pytest.mark.parametrize("nons", [False, True])
def test_parent_credentials_in_srts_environment_stay_out_of_reach(sb, origin, parents,
                                                                  srt_bin, nons):
    """HTTP_PROXY with the corporate password is srt's, not the command's:
    its own variable points at srt, and srt's environment (in the
    no-namespace mode the command sees srt in /proc) stays closed."""
    import os
    import subprocess
    env = {}
    extra = {}
    if nons:
        env = {"SRT_TEST_NO_USERNS": "1"}
        chk = subprocess.run([srt_bin, "--check"], capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, **env))
        if "mode: no-namespace" not in chk.stdout:
            pytest.skip("not a test build (SRT_TEST_NO_USERNS has no effect)")
        extra = {"enableWeakerNestedSandbox": True}
    par = parents({ORIGIN: origin.port})
    env["HTTP_PROXY"] = "http://corp:SECRET-PW@127.0.0.1:%d" % par.port
    sc = script(sb, ENVIRON)
    settings = {"network": {"allowedDomains": [ORIGIN]}}
    settings.update(extra)
    r = sb.run([PY, sc], env=env, timeout=60, settings=settings)
    assert r.returncode == 0, r
    (res,) = json_lines(r.stdout)
    print(res)
    assert "SECRET-PW" not in res["env"], res
    assert not [x for x in res["read"] if x[2] is True], res
    assert "SECRET-PW" not in r.stderr


def test_long_parent_credentials_work_for_tunnels_too(sb, origin, parents):
    """A token as the proxy password (a JWT is easily 1 KiB): the CONNECT
    that carries it must not be refused for its length (found: a
    600-byte header buffer made every tunnel 502 while plain HTTP passed)."""
    import base64
    token = "t0k" * 400
    want = "Basic " + base64.b64encode(("corp:" + token).encode()).decode()
    par = parents({ORIGIN: origin.port}, auth=want)
    url = "http://corp:%s@127.0.0.1:%d" % (token, par.port)
    from test_parent_proxy import three, assert_through
    r, res = three(sb, ORIGIN, origin.port,
                   {"network": {"allowedDomains": [ORIGIN], "parentProxy": pp(url)}})
    assert_through(res)
    assert token not in r.stderr


class CrlfParent:
    """A keep-alive parent proxy whose chunked-body reader ends lines only
    at CRLF (a bare LF is part of a chunk extension, as many parsers take
    it); it answers every request itself and logs its target."""

    def __init__(self):
        import socket
        import threading
        self.log = []
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        import socket
        import threading
        while not self.stopping.is_set():
            try:
                c, _ = self.lsock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(10)
        buf = [b""]

        def line():
            while b"\r\n" not in buf[0]:
                d = c.recv(65536)
                if not d:
                    raise EOFError
                buf[0] += d
            ln, buf[0] = buf[0].split(b"\r\n", 1)
            return ln

        def take(n):
            while len(buf[0]) < n:
                d = c.recv(65536)
                if not d:
                    raise EOFError
                buf[0] += d
            out, buf[0] = buf[0][:n], buf[0][n:]
            return out
        try:
            for _ in range(8):
                start = line().decode("latin-1")
                hdrs = []
                while True:
                    h = line()
                    if not h:
                        break
                    hdrs.append(h.decode("latin-1").lower())
                self.log.append(start.split(" ")[1])
                if "transfer-encoding: chunked" in hdrs:
                    for _ in range(100):
                        n = int(line().split(b";")[0], 16)
                        if n == 0:
                            while line():
                                pass
                            break
                        take(n + 2)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except (EOFError, OSError, ValueError):
            pass
        finally:
            c.close()

    def close(self):
        self.stopping.set()
        self.thread.join(10)
        self.lsock.close()


def lf_smuggling_body(smuggled):
    """A chunked body srt (bare LF ends a line) and a CRLF-only reader
    split differently: the reader sees `smuggled` as a request of its own."""
    rest = b"\r\n0\r\n\r\n" + smuggled
    l2 = b"%x\n" % len(rest)
    f = b"Z" * len(l2)
    return (b"%x;x\n" % (len(f) + 2) + f + b"\r\n" + b"\r\n" + l2 + rest
            + b"\r\n0\r\n\r\n")


def test_chunked_request_body_cannot_smuggle_a_request_to_the_parent(sb):
    """The request body goes to the parent as the client framed it: a bare
    LF srt took for a line end, where the parent reads on to the CRLF,
    would hand the parent a second request srt never checked - to any
    host (found: srt accepted bare LF in chunked request bodies)."""
    par = CrlfParent()
    try:
        smuggled = (b"GET http://denied.srt-e2e.invalid/secret HTTP/1.1\r\n"
                    b"Host: denied.srt-e2e.invalid\r\n\r\n")
        body = lf_smuggling_body(smuggled)
        sc = script(sb, r"""
s = socket.create_connection(HTTP, timeout=20)
s.sendall(b"POST http://%s/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + %r)
out({"data": recv_until_close(s, 5).decode("latin-1")})
""" % (ORIGIN, body))
        r = sb.run([PY, sc], timeout=60, settings={"network": {
            "allowedDomains": [ORIGIN], "parentProxy": pp(par.url)}})
        assert r.returncode == 0, r
        assert not [t for t in par.log if "denied" in t], par.log
    finally:
        par.close()


def test_chunked_request_body_cannot_smuggle_a_request_to_the_origin(sb):
    """The same bytes on the direct route: the second request would reach
    the allowed origin with a Host srt never checked (a denied virtual
    host behind an allowed shared front)."""
    org = CrlfParent()  # an origin that reads lines to CRLF alike
    try:
        smuggled = b"GET /secret HTTP/1.1\r\nHost: denied.srt-e2e.invalid\r\n\r\n"
        sc = script(sb, r"""
s = socket.create_connection(HTTP, timeout=20)
s.sendall(b"POST http://127.0.0.1:%d/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + %r)
out({"data": recv_until_close(s, 5).decode("latin-1")})
""" % (org.port, lf_smuggling_body(smuggled)))
        r = sb.run([PY, sc], timeout=60, settings=net(["127.0.0.1:%d" % org.port]))
        assert r.returncode == 0, r
        assert "/secret" not in org.log, org.log
    finally:
        org.close()
