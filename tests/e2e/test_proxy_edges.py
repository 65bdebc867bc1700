"""The proxy's event handling under edge-triggered readiness (conn.c,
"events"; ARCHITECTURE.md "The progress rule"): a connection that waits
must neither stall (wait on an edge that never comes) nor spin (rerun on a
ready bit nothing clears).  srt's CPU use is measured from /proc/PID/stat
while a connection waits on a peer that is silent."""

import os
import socket
import subprocess
import time

import pytest

from e2e_util import PY, read_line
from test_network import (json_lines, net, script, servers, srt_pid)  # noqa: F401

CPU_BOUND = 0.15  # of one core, while every connection waits


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_share(pid, secs=1.5):
    hz = os.sysconf("SC_CLK_TCK")
    a, t0 = cpu_ticks(pid), time.monotonic()
    time.sleep(secs)
    b, t1 = cpu_ticks(pid), time.monotonic()
    return (b - a) / hz / (t1 - t0)


def run_waiting(sb, port, body, settings=None):
    """Run `body` (a script using netlib) in the sandbox; it prints a line
    once its connection waits, and its result at the end.  Returns (srt's
    CPU share while it waits, the result)."""
    import json
    sc = script(sb, body)
    p = sb.popen([PY, sc], settings=settings or net(["127.0.0.1:%d" % port]),
                 stdout=subprocess.PIPE, text=True)
    pid = srt_pid(sb, p)
    line = read_line(p, timeout=60)
    assert line, (p.poll(), p.stderr.read() if p.poll() is not None else "")
    share = cpu_share(pid)
    rest = p.stdout.read()
    assert p.wait(60) == 0, p.stderr.read()
    return share, json_lines(rest)[-1]


def test_partial_response_head_does_not_spin(sb, servers):
    """The origin sends part of its head, then the rest 3 s later."""
    o = servers.scripted(lambda k, head: b"HTTP/1.1 200 OK\r\nContent-Le",
                         later=b"ngth: 2\r\n\r\nok", after_ms=3000)
    share, res = run_waiting(sb, o.port, r"""
s = socket.create_connection(HTTP, timeout=20)
s.sendall(b"GET http://127.0.0.1:%d/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print("waiting", flush=True)
r = parse_response(recv_until_close(s, 20))
out({"status": r["status"], "body": r["body"]})
""" % o.port)
    assert res == {"status": 200, "body": "ok"}, res
    assert share < CPU_BOUND, "srt used %.0f %% of a core waiting on a partial head" % (share * 100)


def test_origin_gone_mid_upload_does_not_spin(sb, servers):
    """The origin answers a chunked upload at its head and closes; the
    client, reading only once its body is sent, sends on for 2 s."""
    o = servers.scripted(lambda k, head: (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                          b"Connection: close\r\n\r\nok", "close"))
    share, res = run_waiting(sb, o.port, r"""
s = socket.create_connection(HTTP, timeout=20)
s.sendall(b"POST http://127.0.0.1:%d/up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
time.sleep(0.5)
print("waiting", flush=True)
sent = 0
try:
    for i in range(20):
        time.sleep(0.1)
        s.sendall(b"5\r\nhello\r\n")
        sent += 1
    s.sendall(b"0\r\n\r\n")
except OSError:
    pass
r = parse_response(recv_until_close(s, 20))
out({"status": r["status"], "body": r["body"]})
""" % o.port)
    assert res == {"status": 200, "body": "ok"}, res
    assert share < CPU_BOUND, "srt used %.0f %% of a core on a dead upstream" % (share * 100)


CHURN = r"""
ECHO, ORIGIN, REFUSED = %d, %d, %d
raise_nofile(4096)

def one_round(k):
    fails = []
    for i in range(k):
        # a CONNECT tunnel: 20 KB each way, the client's half close first
        s, line, hdrs, rest = http_connect("127.0.0.1:%%d" %% ECHO)
        if not line or " 200 " not in line:
            fails.append(("connect", line)); continue
        s.sendall(b"e" * 20000)
        got = len(rest)
        while got < 20000:
            d = s.recv(65536)
            if not d: break
            got += len(d)
        s.shutdown(socket.SHUT_WR)
        tail = recv_until_close(s, 10)
        s.close()
        if got != 20000 or tail:
            fails.append(("echo", got, len(tail)))
        # SOCKS5 to the echo server
        s, rep, _ = socks_connect("127.0.0.1", ECHO)
        if rep != 0:
            fails.append(("socks", rep)); s.close(); continue
        s.sendall(b"x" * 1000)
        if len(recvn(s, 1000)) != 1000:
            fails.append(("socks-echo",))
        s.close()
        # three keep-alive requests, pipelined, to the origin
        s = socket.create_connection(HTTP, timeout=20)
        req = b"GET http://127.0.0.1:%%d/k HTTP/1.1\r\nHost: x\r\n\r\n" %% ORIGIN
        s.sendall(req * 2 + req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        data = recv_until_close(s, 20)
        s.close()
        if data.count(b"HTTP/1.1 200") != 3:
            fails.append(("pipelined", data[:200]))
        # refused: CONNECT and absolute form
        s, line, hdrs, rest = http_connect("127.0.0.1:%%d" %% REFUSED)
        s.close()
        if not line or " 502 " not in line and " 503 " not in line:
            fails.append(("refused", line))
        r = http_get("http://127.0.0.1:%%d/r" %% REFUSED)
        if r["status"] not in (502, 503):
            fails.append(("refused-get", r["status"]))
    return fails

for rnd in range(2):
    fails = one_round(60)
    # connections held idle: tunnels and keep-alive clients
    held = []
    for i in range(60):
        s, line, hdrs, rest = http_connect("127.0.0.1:%%d" %% ECHO)
        held.append(s)
    for i in range(20):
        s = socket.create_connection(HTTP, timeout=20)
        s.sendall(b"GET http://127.0.0.1:%%d/h HTTP/1.1\r\nHost: x\r\n\r\n" %% ORIGIN)
        read_head(s)
        held.append(s)
    out({"round": rnd, "fails": fails[:5], "nfails": len(fails)})
    sys.stdin.readline()
    for s in held:
        s.close()
    time.sleep(1.0)
    out({"closed": rnd})
    sys.stdin.readline()
"""


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test_churn_leaks_nothing_and_idles_quietly(sb, servers):
    """Two rounds of CONNECT (half-closed), SOCKS5, pipelined keep-alive
    and refused connections, then 80 held idle: srt's CPU is near zero
    while they idle, and its descriptors after the second round are those
    after the first (nothing grows per connection)."""
    import json
    from test_network import free_port
    echo = servers.raw(echo=True)
    o = servers.scripted(lambda k, head: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    refused = free_port()
    sc = script(sb, CHURN % (echo.port, o.port, refused))
    p = sb.popen([PY, sc], settings=net(["127.0.0.1:%d" % echo.port, "127.0.0.1:%d" % o.port,
                                          "127.0.0.1:%d" % refused]),
                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = srt_pid(sb, p)
    fds = []
    for rnd in range(2):
        line = read_line(p, timeout=240)
        assert line, (p.poll(), p.stderr.read() if p.poll() is not None else "")
        r = json.loads(line)
        assert r["nfails"] == 0, r
        share = cpu_share(pid)
        assert share < CPU_BOUND, "srt used %.0f %% of a core with 80 idle connections" % (share * 100)
        p.stdin.write("next\n")
        p.stdin.flush()
        assert read_line(p, timeout=60)
        fds.append(fd_count(pid))
        p.stdin.write("next\n")
        p.stdin.flush()
    assert p.wait(60) == 0, p.stderr.read()
    print("srt descriptors after each round: %r" % fds)
    assert fds[1] <= fds[0] + 4, fds


class _Listener:
    """A loopback TCP listener whose accept thread hands each connection to
    on_conn(c); close() stops it."""

    def __init__(self):
        import threading
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.on_conn(c)

    def close(self):
        self._stop = True
        self.thread.join(5)
        self.sock.close()


class EchoServer(_Listener):
    """A threaded echo server that never drops a byte (sendall)."""

    def on_conn(self, c):
        import threading
        threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(60)
        try:
            while True:
                d = c.recv(1 << 16)
                if not d:
                    c.shutdown(socket.SHUT_WR)
                    break
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()


STRESS = r"""
import hashlib, random, threading
ECHO, ORIGIN = %d, %d
raise_nofile(4096)
N, SIZE = %d, %d
res = {}

def pump(s, seed):
    rnd = random.Random(seed)
    data = bytes(rnd.getrandbits(8) for _ in range(4096)) * (SIZE // 4096)
    got = []
    def reader():
        n = 0
        while n < len(data):
            if rnd.random() < 0.02:
                time.sleep(0.05)          # a slow reader now and then
            d = s.recv(rnd.choice((1, 100, 4096, 65536, 1 << 20)))
            if not d:
                break
            got.append(d)
            n += len(d)
    t = threading.Thread(target=reader)
    t.start()
    i = 0
    while i < len(data):
        k = rnd.choice((1, 7, 1000, 65536, 300000))
        s.sendall(data[i:i + k])
        i += k
        if rnd.random() < 0.05:
            time.sleep(0.02)
    s.shutdown(socket.SHUT_WR)
    t.join(120)
    return hashlib.sha256(b"".join(got)).hexdigest() == hashlib.sha256(data).hexdigest()

def work(i):
    try:
        kind = i %% 3
        if kind == 0:
            s, line, hdrs, rest = http_connect("127.0.0.1:%%d" %% ECHO, timeout=120)
            assert " 200 " in line, line
        elif kind == 1:
            s, rep, _ = socks_connect("127.0.0.1", ECHO, timeout=120)
            assert rep == 0, rep
        else:
            s = socket.create_connection(HTTP, timeout=120)
            body = b"u" * SIZE
            s.sendall(b"POST http://127.0.0.1:%%d/p HTTP/1.1\r\nHost: x\r\nContent-Length: %%d\r\n"
                      b"Connection: close\r\n\r\n" %% (ORIGIN, len(body)) + body)
            r = parse_response(recv_until_close(s, 120))
            res[i] = r["status"] == 200 and len(r["body"]) == SIZE
            s.close()
            return
        s.settimeout(120)
        res[i] = pump(s, i)
        s.close()
    except Exception as e:
        res[i] = repr(e)

ts = [threading.Thread(target=work, args=(i,)) for i in range(N)]
t0 = time.monotonic()
for t in ts: t.start()
for t in ts: t.join(300)
bad = {k: v for k, v in res.items() if v is not True}
out({"n": len(res), "bad": bad, "secs": time.monotonic() - t0})
"""


def test_stress_concurrent_transfers_with_slow_readers(sb, servers):
    """30 connections at once - CONNECT and SOCKS5 echoes of 2 MB in
    random pieces with slow readers, and absolute-form 2 MB uploads with
    2 MB answers - every byte arrives, in bounded time."""
    import json
    echo = EchoServer()
    big = b"d" * (2 << 20)
    o = servers.scripted(lambda k, head: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
    try:
        sc = script(sb, STRESS % (echo.port, o.port, 30, 2 << 20))
        r = sb.run([PY, sc], settings=net(["127.0.0.1:%d" % echo.port, "127.0.0.1:%d" % o.port]),
                   timeout=400)
        assert r.returncode == 0, r
        res = json_lines(r.stdout)[-1]
        print(res)
        assert res["n"] == 30 and not res["bad"], res
    finally:
        echo.close()


def test_truncated_response_delivers_what_the_origin_sent(sb, servers):
    """The origin promises 8 MB, sends 3 MB and closes; a slow client gets
    every one of the 3 MB, then the close."""
    body = b"t" * (3 << 20)
    o = servers.scripted(lambda k, head: (b"HTTP/1.1 200 OK\r\nContent-Length: 8000000\r\n\r\n" + body,
                                          "close"))
    sc = script(sb, r"""
s = socket.create_connection(HTTP, timeout=30)
s.sendall(b"GET http://127.0.0.1:%d/t HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(1.0)            # everything on the way fills up
n = 0
while True:
    d = s.recv(8192)
    if not d:
        break
    n += len(d)
    time.sleep(0.0005)
out({"got": n})
""" % o.port)
    r = sb.run([PY, sc], settings=net(["127.0.0.1:%d" % o.port]), timeout=120)
    assert r.returncode == 0, r
    got = json_lines(r.stdout)[-1]["got"]
    head = len(b"HTTP/1.1 200 OK\r\nContent-Length: 8000000\r\n\r\n")
    assert got >= len(body) + head - 200, "the client got %d of %d body bytes" % (got - head, len(body))


class HoldServer(_Listener):
    """Accepts and holds every connection; `half` shuts down its write
    side at once (the origin's half close), else it never writes."""

    def __init__(self, half=False):
        self.half, self.held = half, []
        super().__init__()

    def on_conn(self, c):
        if self.half:
            c.shutdown(socket.SHUT_WR)
        self.held.append(c)

    def close(self):
        super().close()
        for c in self.held:
            c.close()


def test_half_closed_tunnels_idle_quietly(sb):
    """40 CONNECT and SOCKS5 tunnels half closed by the client, 40 by the
    origin, all then idle: srt's CPU stays near zero."""
    client_half, origin_half = HoldServer(), HoldServer(half=True)
    try:
        share, res = run_waiting(sb, client_half.port, r"""
A, B = %d, %d
held = []
for i in range(20):
    for port in (A, B):
        s, line, hdrs, rest = http_connect("127.0.0.1:%%d" %% port)
        assert " 200 " in line, line
        held.append((port, s))
        s2, rep, _ = socks_connect("127.0.0.1", port)
        assert rep == 0, rep
        held.append((port, s2))
for port, s in held:
    if port == A:
        s.shutdown(socket.SHUT_WR)
    else:
        s.settimeout(10)
        assert s.recv(10) == b""      # the origin's half close came through
time.sleep(0.5)
print("waiting", flush=True)
time.sleep(2.5)
for port, s in held:
    if port == B:
        s.sendall(b"still open")      # the other direction still works
out({"held": len(held)})
""" % (client_half.port, origin_half.port),
            settings=net(["127.0.0.1:%d" % client_half.port, "127.0.0.1:%d" % origin_half.port]))
        assert res == {"held": 80}, res
        assert share < CPU_BOUND, "srt used %.0f %% of a core with half-closed tunnels" % (share * 100)
    finally:
        client_half.close()
        origin_half.close()


def test_waiting_on_a_silent_parent_proxy_is_quiet(sb, servers):
    """CONNECT and SOCKS5 requests whose parent proxy has not answered yet
    wait in ST_PARENT without spinning."""
    from test_parent_proxy import Parent, ORIGIN, pp
    par = Parent({ORIGIN: 9}, mode="stall")
    try:
        share, res = run_waiting(sb, par.port, r"""
held = []
for i in range(10):
    s = socket.create_connection(HTTP, timeout=20)
    s.sendall(b"CONNECT %s:80 HTTP/1.1\r\nHost: %s:80\r\n\r\n")
    held.append(s)
    s = socket.create_connection(SOCKS, timeout=20)
    s.sendall(b"\x05\x01\x00")
    recvn(s, 2)
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(%r)]) + %r.encode() + b"\x00\x50")
    held.append(s)
time.sleep(0.5)
print("waiting", flush=True)
time.sleep(2.0)
out({"held": len(held)})
""" % (ORIGIN, ORIGIN, ORIGIN, ORIGIN),
            settings={"network": {"allowedDomains": [ORIGIN], "parentProxy": pp(par.url)}})
        assert res == {"held": 20}, res
        assert len(par.targets()) == 20, par.targets()
        assert share < CPU_BOUND, "srt used %.0f %% of a core waiting on a parent" % (share * 100)
    finally:
        par.close()


def test_silent_peers_in_every_handshake_state_are_quiet(sb):
    """Connections stopped in every waiting state - a partial request
    head, a partial SOCKS5 greeting and request, a request whose origin
    accepted and says nothing, an absolute-form request with its body
    half sent - cost srt no CPU."""
    hold = HoldServer()
    try:
        share, res = run_waiting(sb, hold.port, r"""
P = %d
held = []
for i in range(5):
    s = socket.create_connection(HTTP, timeout=20)
    s.sendall(b"GET http://127.0.0.1:%%d/ HTTP/1.1\r\nHost: x\r\n" %% P)   # no end of head
    held.append(s)
    s = socket.create_connection(SOCKS, timeout=20)
    s.sendall(b"\x05\x02")                                                  # half a greeting
    held.append(s)
    s = socket.create_connection(SOCKS, timeout=20)
    s.sendall(b"\x05\x01\x00")
    recvn(s, 2)
    s.sendall(b"\x05\x01\x00\x01\x7f\x00")                                  # half a request
    held.append(s)
    s = socket.create_connection(HTTP, timeout=20)
    s.sendall(b"GET http://127.0.0.1:%%d/ HTTP/1.1\r\nHost: x\r\n\r\n" %% P)  # origin silent
    held.append(s)
    s = socket.create_connection(HTTP, timeout=20)
    s.sendall(b"POST http://127.0.0.1:%%d/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc" %% P)
    held.append(s)
    s = socket.create_connection(HTTP, timeout=20)
    s.sendall(b"POST http://127.0.0.1:%%d/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab" %% P)
    held.append(s)
time.sleep(0.5)
print("waiting", flush=True)
time.sleep(2.0)
out({"held": len(held)})
""" % hold.port)
        assert res == {"held": 30}, res
        assert share < CPU_BOUND, "srt used %.0f %% of a core with silent peers" % (share * 100)
    finally:
        hold.close()
