"""network.parentProxy: srt applies its own policy, then reaches allowed
destinations through an upstream ("parent") HTTP proxy - CONNECT for
CONNECT and SOCKS clients, the absolute form for plain HTTP - except
noProxy matches and loopback, which it dials itself behind its
resolved-address guard.  Unset keys fall back to HTTP_PROXY / HTTPS_PROXY /
NO_PROXY of srt's own environment (the reference 0.0.83's rules).

The parent here is a real proxy written below, on the host's 127.0.0.1: it
records what it is asked, maps the names it knows (*.srt-e2e.invalid, which
never resolve anywhere else) to loopback servers, can require credentials
and can misbehave.  A request that reaches the origin therefore went
through the parent; one srt dials itself fails to resolve.
"""

import base64
import selectors
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from e2e_util import PY
from test_network import (assert_violation, json_lines, net, origin,  # noqa: F401
                          script, servers, violations, vpath, free_port, need)

ORIGIN = "origin.srt-e2e.invalid"
HEAD_MAX = 1 << 16


class Parent:
    """An upstream HTTP proxy: CONNECT and absolute-form GET.  `names` maps
    a host name to a loopback port; `mode` is "ok", "early" (bytes right
    after its 200 head), "refuse" (403), "garbage", "huge" (a head that
    never ends), "stall" (no answer); `auth` is the Proxy-Authorization it
    requires.  Everything waits for bounded times; close() stops it."""

    def __init__(self, names, mode="ok", auth=None):
        self.names, self.mode, self.auth = names, mode, auth
        self.log = []
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                c, _ = self.lsock.accept()
            except (socket.timeout, OSError):
                continue
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            self.threads.append(t)
            t.start()

    def _hold(self, c, secs=20):
        """Keep c open until the peer closes it (or secs pass)."""
        end = time.monotonic() + secs
        c.settimeout(0.2)
        while time.monotonic() < end and not self.stopping.is_set():
            try:
                if not c.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def _relay(self, a, b, first=b"", secs=60):
        if first:
            b.sendall(first)
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        end = time.monotonic() + secs
        open_ = 2
        while open_ and time.monotonic() < end and not self.stopping.is_set():
            for key, _ in sel.select(0.2):
                try:
                    d = key.fileobj.recv(1 << 20)
                except OSError:
                    d = b""
                if not d:
                    sel.unregister(key.fileobj)
                    open_ -= 1
                    try:
                        key.data.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                key.data.sendall(d)
        sel.close()

    def _serve(self, c):
        try:
            c.settimeout(20)
            buf = b""
            while b"\r\n\r\n" not in buf and len(buf) < HEAD_MAX:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
            head, _, rest = buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            hdrs = [l.split(":", 1) for l in lines[1:]]
            hdrs = [(k.strip(), v.strip()) for k, v in hdrs]
            self.log.append({"method": method, "target": target, "headers": hdrs})
            got = [v for k, v in hdrs if k.lower() == "proxy-authorization"]
            if self.auth and got != [self.auth]:
                c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                          b"Proxy-Authenticate: Basic realm=\"t\"\r\n"
                          b"Content-Length: 9\r\nConnection: close\r\n\r\nauth, pls")
                return
            if method == "CONNECT":
                self._connect(c, target, rest)
            else:
                self._forward(c, method, target, hdrs)
        except OSError:
            pass
        finally:
            c.close()

    def _connect(self, c, target, rest):
        mode = self.mode
        if mode == "refuse":
            c.sendall(b"HTTP/1.1 403 Forbidden by the corporate proxy\r\n"
                      b"Content-Length: 0\r\n\r\n")
            return
        if mode == "garbage":
            c.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            return self._hold(c)
        if mode == "huge":  # a head that never ends, in pieces
            c.sendall(b"HTTP/1.1 200 OK\r\n")
            for _ in range(40):
                c.sendall(b"X-Pad: " + b"a" * 1000 + b"\r\n")
            return self._hold(c)
        if mode == "stall":
            return self._hold(c, 40)
        host, _, port = target.rpartition(":")
        dst = self.names.get(host)
        if dst is None:
            c.sendall(b"HTTP/1.1 502 Unknown Host\r\nContent-Length: 0\r\n\r\n")
            return
        u = socket.create_connection(("127.0.0.1", dst), timeout=10)
        head = b"HTTP/1.1 200 Connection established\r\nVia: 1.1 parent\r\n\r\n"
        if mode == "early":  # in the same segment as the head
            head += b"EARLY-FROM-PARENT\n"
        c.sendall(head)
        try:
            self._relay(c, u, rest)
        finally:
            u.close()

    def _forward(self, c, method, target, hdrs):
        t = urlsplit(target)
        dst = self.names.get(t.hostname)
        if t.scheme != "http" or dst is None:
            c.sendall(b"HTTP/1.1 502 Unknown Host\r\nContent-Length: 0\r\n"
                      b"Connection: close\r\n\r\n")
            return
        u = socket.create_connection(("127.0.0.1", dst), timeout=10)
        keep = [(k, v) for k, v in hdrs
                if k.lower() not in ("proxy-authorization", "connection")]
        req = "%s %s HTTP/1.1\r\n" % (method, (t.path or "/") + ("?" + t.query if t.query else ""))
        req += "".join("%s: %s\r\n" % kv for kv in keep) + "Connection: close\r\n\r\n"
        u.sendall(req.encode("latin-1"))
        try:
            self._relay(u, c)
        finally:
            u.close()

    def targets(self):
        return [(e["method"], e["target"]) for e in self.log]

    def close(self):
        self.stopping.set()
        for t in self.threads:
            t.join(10)
        self.lsock.close()


@pytest.fixture
def parents():
    made = []

    def make(*a, **kw):
        p = Parent(*a, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def pp(url, **kw):
    d = {"http": url}
    d.update(kw)
    return d


# The three ways a client asks srt for a destination.
THREE = r"""
host, port = %(host)r, %(port)d
r = http_get("http://%%s:%%d/hello" %% (host, port))
out({"proto": "http", "status": r["status"], "body": r["body"],
     "blocked": r["headers"].get("x-proxy-error"),
     "challenge": r["headers"].get("proxy-authenticate")})
s, line, hdrs, rest = http_connect("%%s:%%d" %% (host, port))
res = {"proto": "connect", "line": line, "rest": rest.decode("latin-1"),
       "challenge": hdrs.get("proxy-authenticate")}
if line and " 200 " in line:
    res["get"] = get_over(s, "%%s:%%d" %% (host, port))["body"]
else:
    res["rest"] += recv_until_close(s, 5).decode("latin-1")
out(res)
s, code, _ = socks_connect(host, port)
res = {"proto": "socks5", "code": code}
if code == 0:
    res["get"] = get_over(s, "%%s:%%d" %% (host, port))["body"]
out(res)
"""


def three(sb, host, port, settings, env=None, opts=()):
    sc = script(sb, THREE % {"host": host, "port": port})
    r = sb.run([PY, sc], settings=settings, env=env, opts=opts, timeout=90)
    assert r.returncode == 0, r
    return r, {x["proto"]: x for x in json_lines(r.stdout)}


def assert_through(res):
    assert res["http"]["status"] == 200, res
    assert res["http"]["body"] == "hello from origin\n", res
    assert res["connect"]["line"].startswith("HTTP/1.1 200"), res
    assert res["connect"]["get"] == "hello from origin\n", res
    assert res["socks5"]["code"] == 0, res
    assert res["socks5"]["get"] == "hello from origin\n", res


def assert_no_tunnel(res, status=502):
    assert res["connect"]["line"].startswith("HTTP/1.1 %d" % status), res
    assert res["socks5"]["code"] == 4, res  # host unreachable, as the reference


def test_allowed_destination_goes_through_the_parent(sb, origin, parents):
    par = parents({ORIGIN: origin.port})
    vp = vpath(sb)
    r, res = three(sb, ORIGIN, origin.port,
                   {"network": {"allowedDomains": [ORIGIN], "parentProxy": pp(par.url)}},
                   opts=["--violations", vp])
    assert_through(res)
    hp = "%s:%d" % (ORIGIN, origin.port)
    assert par.targets() == [("GET", "http://%s/hello" % hp), ("CONNECT", hp),
                             ("CONNECT", hp)]
    # the absolute form carries the checked target as Host too
    assert ("Host", hp) in par.log[0]["headers"], par.log[0]
    assert ("Host", hp) in par.log[1]["headers"], par.log[1]
    assert violations(vp) == []
    assert [q["path"] for q in origin.requests] == ["/hello"] * 3


def test_policy_first_denied_never_reaches_the_parent(sb, origin, parents):
    par = parents({ORIGIN: origin.port, "evil.srt-e2e.invalid": origin.port})
    vp = vpath(sb)
    settings = {"network": {"allowedDomains": [ORIGIN, "*.srt-e2e.invalid"],
                            "deniedDomains": ["evil.srt-e2e.invalid"],
                            "parentProxy": pp(par.url)}}
    for host in ("evil.srt-e2e.invalid", "other.example"):
        r, res = three(sb, host, origin.port, settings, opts=["--violations", vp])
        assert res["http"]["status"] == 403, res
        assert res["http"]["blocked"] == "blocked-by-sandbox", res
        assert res["connect"]["line"].startswith("HTTP/1.1 403"), res
        assert res["socks5"]["code"] == 2, res
        recs = violations(vp)
        for proto in ("http", "connect", "socks5"):
            assert_violation(recs, proto, host, origin.port)
    assert par.log == []
    assert origin.requests == []


def test_no_proxy_and_loopback_are_dialed_directly(sb, origin, parents):
    names = {ORIGIN: origin.port, "direct.srt-e2e.invalid": origin.port,
             "a.other.srt-e2e.invalid": origin.port}
    par = parents(names)
    settings = {"network": {
        "allowedDomains": ["*.srt-e2e.invalid", "127.0.0.1:%d" % origin.port],
        "parentProxy": pp(par.url, noProxy=" direct.srt-e2e.invalid:80 , *.other.srt-e2e.invalid")}}
    # noProxy names: srt dials them itself, and they do not resolve
    for host in ("direct.srt-e2e.invalid", "a.other.srt-e2e.invalid"):
        r, res = three(sb, host, origin.port, settings)
        assert res["http"]["status"] in (502, 504), res
        assert "cannot resolve" in res["http"]["body"], res
        assert res["connect"]["line"].split()[1] in ("502", "504"), res
        assert res["socks5"]["code"] == 4, res
    assert par.log == []
    # loopback always goes directly (and is allowed here by its literal)
    r, res = three(sb, "127.0.0.1", origin.port, settings)
    assert_through(res)
    assert par.log == []
    # anything else still goes through the parent
    r, res = three(sb, ORIGIN, origin.port, settings)
    assert_through(res)
    assert len(par.log) == 3


def test_guard_stays_on_direct_dials_not_on_the_parent_route(sb, origin, parents):
    """A noProxy name srt dials itself meets the resolved-address guard; the
    same name through the parent is the parent's to resolve."""
    if sb.ident.name != "root":
        pytest.skip("needs a custom /etc/hosts around srt (bind mount in a "
                    "private mount namespace), which only root can set up")
    need("unshare")
    import subprocess
    hosts = sb.base / "hosts"
    hosts.write_text("127.0.0.1 localhost\n127.0.0.1 guarded.test\n")
    hosts.chmod(0o644)
    par = parents({"guarded.test": origin.port})
    sc = script(sb, THREE % {"host": "guarded.test", "port": origin.port})

    def run(no_proxy):
        vp = str(sb.base / ("v-%d.jsonl" % len(no_proxy)))
        settings = {"network": {"allowedDomains": ["guarded.test"],
                                "parentProxy": pp(par.url, noProxy=no_proxy)}}
        inner = sb.argv([PY, sc], settings=settings, opts=["--violations", vp])
        argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /etc/hosts && exec "$@"', str(hosts)] + inner
        p = subprocess.run(sb.ident.wrap(argv, sb.env()), cwd=str(sb.ws),
                           capture_output=True, text=True, timeout=90)
        assert p.returncode == 0, p
        return {x["proto"]: x for x in json_lines(p.stdout)}, violations(vp)

    res, recs = run("guarded.test")
    assert res["http"]["status"] == 403, res
    assert res["connect"]["line"].startswith("HTTP/1.1 403"), res
    assert res["socks5"]["code"] == 2, res
    for proto in ("http", "connect", "socks5"):
        assert_violation(recs, proto, "guarded.test", origin.port, "resolved-address guard")
    assert par.log == [] and origin.requests == []
    res, recs = run("")
    assert_through(res)
    assert recs == [] and len(par.log) == 3


def test_environment_of_srt_stands_in_for_unset_keys(sb, origin, parents):
    par = parents({ORIGIN: origin.port})
    settings = net([ORIGIN])
    for var in ("HTTP_PROXY", "http_proxy"):
        par.log.clear()
        r, res = three(sb, ORIGIN, origin.port, settings, env={var: par.url})
        assert_through(res)
        assert len(par.log) == 3, (var, par.log)
    # HTTPS_PROXY alone: tunnels through it, plain HTTP directly (curl's rule)
    par.log.clear()
    r, res = three(sb, ORIGIN, origin.port, settings, env={"HTTPS_PROXY": par.url})
    assert res["http"]["status"] in (502, 504), res
    assert res["connect"]["get"] == "hello from origin\n", res
    assert res["socks5"]["get"] == "hello from origin\n", res
    assert [m for m, _ in par.targets()] == ["CONNECT", "CONNECT"]
    # NO_PROXY from the environment too
    par.log.clear()
    r, res = three(sb, ORIGIN, origin.port, settings,
                   env={"HTTP_PROXY": par.url, "NO_PROXY": "srt-e2e.invalid"})
    assert res["http"]["status"] in (502, 504), res
    assert par.log == []
    # a key in the settings hides its variable
    dead = "http://127.0.0.1:%d" % free_port()
    par.log.clear()
    r, res = three(sb, ORIGIN, origin.port,
                   {"network": {"allowedDomains": [ORIGIN], "parentProxy": pp(par.url)}},
                   env={"HTTP_PROXY": dead, "HTTPS_PROXY": dead})
    assert res["http"]["status"] == 200, res
    assert res["connect"]["line"].split()[1] == "502", res  # https came from HTTPS_PROXY
    # an unusable variable is ignored with a warning, naming no value
    r, res = three(sb, ORIGIN, origin.port, settings,
                   env={"HTTP_PROXY": "socks5://u:secret@127.0.0.1:1"})
    assert "HTTP_PROXY in srt's environment is not a usable parent proxy URL" in r.stderr, r
    assert "secret" not in r.stderr
    assert res["http"]["status"] in (502, 504), res


def test_credentials_from_the_url_only(sb, origin, parents):
    want = "Basic " + base64.b64encode(b"corp user:p@ss").decode()
    par = parents({ORIGIN: origin.port}, auth=want)
    url = "http://corp%20user:p%40ss@127.0.0.1:" + str(par.port)
    settings = {"network": {"allowedDomains": [ORIGIN], "parentProxy": pp(url)}}
    r, res = three(sb, ORIGIN, origin.port, settings)
    assert_through(res)
    assert all(("Proxy-Authorization", want) in e["headers"] for e in par.log), par.log
    # a client's own Proxy-Authorization never reaches the parent
    sc = script(sb, r"""
r = http_get("http://%s:%d/hello", extra=b"Proxy-Authorization: Basic ZXZpbDpldmls\r\n")
out({"status": r["status"]})
""" % (ORIGIN, origin.port))
    par.log.clear()
    r = sb.run([PY, sc], settings=settings)
    assert json_lines(r.stdout) == [{"status": 200}], r
    got = [v for k, v in par.log[0]["headers"] if k.lower() == "proxy-authorization"]
    assert got == [want], par.log
    # the policy shows where traffic goes, never the password
    r = sb.run(["true"], settings=settings, opts=["--print-policy"])
    assert "http://***@127.0.0.1:%d" % par.port in r.stdout, r.stdout
    assert "p%40ss" not in r.stdout and "corp" not in r.stdout
    # without them the parent says 407: relayed for plain HTTP, no tunnel;
    # both times with the parent's challenge (issue #11: the CONNECT's
    # 407 became a 502 without it, the plain one lost it as hop-by-hop)
    settings["network"]["parentProxy"] = pp(par.url)
    r, res = three(sb, ORIGIN, origin.port, settings)
    assert res["http"]["status"] == 407, res
    assert res["http"]["challenge"] == 'Basic realm="t"', res
    assert_no_tunnel(res, status=407)
    assert res["connect"]["challenge"] == 'Basic realm="t"', res
    assert len(origin.requests) == 4, origin.requests


def test_credentials_in_the_settings_file_are_not_readable_inside(sb, origin, parents):
    """red team: the command may read everything not denied, the settings
    file among them, where parentProxy's password stands in clear (and an
    allowed origin could be sent it).  srt alone needs it: with
    credentials in parentProxy the settings file in force is hidden."""
    want = "Basic " + base64.b64encode(b"u:s3cret-pw").decode()
    par = parents({ORIGIN: origin.port}, auth=want)
    settings = {"network": {"allowedDomains": [ORIGIN],
                            "parentProxy": pp("http://u:s3cret-pw@127.0.0.1:%d" % par.port)}}
    path = sb.write_settings(settings)
    r = sb.run(["cat", path], opts=["--settings", path])
    assert "s3cret-pw" not in r.stdout, r
    # the parent route still works, with the credentials srt holds
    r, res = three(sb, ORIGIN, origin.port, settings)
    assert_through(res)
    # without credentials nothing is hidden
    settings["network"]["parentProxy"] = pp(par.url)
    path = sb.write_settings(settings)
    r = sb.run(["cat", path], opts=["--settings", path])
    assert r.returncode == 0 and '"parentProxy"' in r.stdout, r


def test_parent_refusing_or_unreachable(sb, origin, parents):
    par = parents({ORIGIN: origin.port}, mode="refuse")
    r, res = three(sb, ORIGIN, origin.port,
                   {"network": {"allowedDomains": [ORIGIN], "parentProxy": pp(par.url)}})
    assert_no_tunnel(res)
    assert "403 Forbidden by the corporate proxy" in res["connect"]["rest"], res
    assert [q["path"] for q in origin.requests] == ["/hello"]  # the plain GET only
    origin.requests.clear()
    dead = "http://127.0.0.1:%d" % free_port()
    r, res = three(sb, ORIGIN, origin.port,
                   {"network": {"allowedDomains": [ORIGIN], "parentProxy": pp(dead)}})
    assert res["http"]["status"] == 502, res
    assert "through the parent proxy" in res["http"]["body"], res
    assert_no_tunnel(res)
    assert origin.requests == []


def test_bytes_after_the_parents_head_belong_to_the_tunnel(sb, origin, parents):
    par = parents({ORIGIN: origin.port}, mode="early")
    sc = script(sb, r"""
s, line, hdrs, rest = http_connect("%(h)s:%(p)d")
rest += recvn(s, len(b"EARLY-FROM-PARENT\n") - len(rest))
out({"proto": "connect", "line": line, "rest": rest.decode()})
out({"proto": "connect-get", "body": get_over(s, "%(h)s:%(p)d")["body"]})
s, code, _ = socks_connect("%(h)s", %(p)d)
out({"proto": "socks5", "code": code, "rest": recvn(s, 18).decode()})
out({"proto": "socks5-get", "body": get_over(s, "%(h)s:%(p)d")["body"]})
""" % {"h": ORIGIN, "p": origin.port})
    r = sb.run([PY, sc], settings={"network": {"allowedDomains": [ORIGIN],
                                               "parentProxy": pp(par.url)}})
    res = {x["proto"]: x for x in json_lines(r.stdout)}
    assert res["connect"]["line"] == "HTTP/1.1 200 Connection Established", res
    assert res["connect"]["rest"] == "EARLY-FROM-PARENT\n", res
    assert res["connect-get"]["body"].endswith("hello from origin\n"), res
    assert res["socks5"] == {"proto": "socks5", "code": 0, "rest": "EARLY-FROM-PARENT\n"}, res
    assert res["socks5-get"]["body"].endswith("hello from origin\n"), res


@pytest.mark.parametrize("mode", ["garbage", "huge"])
def test_bad_parent_reply_is_refused_not_waited_on(sb, origin, parents, mode):
    par = parents({ORIGIN: origin.port}, mode=mode)
    t0 = time.monotonic()
    r, res = three(sb, ORIGIN, origin.port,
                   {"network": {"allowedDomains": [ORIGIN], "parentProxy": pp(par.url)}})
    assert_no_tunnel(res)
    # both refusals came long before the 15 s connect timeout
    assert time.monotonic() - t0 < 12, time.monotonic() - t0
    assert "200 OK" not in res["connect"]["rest"] and "X-Pad" not in res["connect"]["rest"], res
    assert [q["path"] for q in origin.requests] == ["/hello"]  # the plain GET only


def test_silent_parent_times_out(sb, origin, parents):
    par = parents({ORIGIN: origin.port}, mode="stall")
    sc = script(sb, r"""
import time
t0 = time.monotonic()
s, line, hdrs, rest = http_connect("%s:%d", timeout=40)
out({"line": line, "secs": time.monotonic() - t0})
""" % (ORIGIN, origin.port))
    r = sb.run([PY, sc], timeout=90,
               settings={"network": {"allowedDomains": [ORIGIN], "parentProxy": pp(par.url)}})
    (res,) = json_lines(r.stdout)
    assert res["line"].startswith("HTTP/1.1 504"), res
    assert 10 < res["secs"] < 30, res


def test_settings_refused_clearly(sb):
    for bad, msg in (("https://127.0.0.1:1", "a parent proxy reached over TLS (https://) "
                      "is not supported yet"),
                     ("socks5://127.0.0.1:1", "the parent proxy URL must start with http://")):
        r = sb.run(["true"], settings={"network": {"parentProxy": {"https": bad}}})
        assert r.returncode == 125, r
        assert "network.parentProxy.https: " + msg in r.stderr, r.stderr
    r = sb.run(["true"], env={"HTTPS_PROXY": "https://u:secret@127.0.0.1:1"})
    assert r.returncode == 125, r
    assert "HTTPS_PROXY in srt's environment: a parent proxy reached over TLS" in r.stderr
    assert "secret" not in r.stderr


def test_no_namespace_mode_goes_through_the_parent_too(sb, origin, parents, srt_bin):
    """The no-namespace mode's proxies (on the host's loopback, their ports
    the run's own) take the same routes.  Needs a test build (make nons)."""
    import os
    import subprocess
    hook = {"SRT_TEST_NO_USERNS": "1"}
    chk = subprocess.run([srt_bin, "--check"], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, **hook))
    if "mode: no-namespace" not in chk.stdout:
        pytest.skip("not a test build (SRT_TEST_NO_USERNS has no effect)")
    par = parents({ORIGIN: origin.port})
    sc = script(sb, """
import os, urllib.parse, netlib
for var, name in (("HTTP_PROXY", "HTTP"), ("FTP_PROXY", "SOCKS")):
    u = urllib.parse.urlsplit(os.environ[var])
    setattr(netlib, name, (u.hostname, u.port))
""" + THREE % {"host": ORIGIN, "port": origin.port})
    r = sb.run([PY, sc], env=hook, timeout=90,
               settings={"enableWeakerNestedSandbox": True,
                         "network": {"allowedDomains": [ORIGIN], "parentProxy": pp(par.url)}})
    assert r.returncode == 0, r
    assert_through({x["proto"]: x for x in json_lines(r.stdout)})
    assert [m for m, _ in par.targets()] == ["GET", "CONNECT", "CONNECT"]
