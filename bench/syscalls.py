#!/usr/bin/python3
"""Syscalls per proxied request: how many system calls srt's host process
makes for one fresh-connection request through each proxy mode.

Run:  /usr/bin/python3 bench/syscalls.py [--srt build/srt] [--requests N]

Needs strace.  A loopback origin (a thread of this script) answers
`GET /small` with a short body.  For each mode (CONNECT, SOCKS5,
absolute-form GET) srt runs this script as the command (`--inner`), which
waits until the host side has attached `strace -c` to every thread of the
srt process (not its children: the command and srt's init inside are not
counted), then makes N requests, each on a fresh connection to the proxy.
The table gives syscalls per request in all and per syscall name, the
counts of a warm-up request excluded by subtracting a run of 0 requests
(start-up and shutdown of the sandbox are in both).

Counts, not timings: they hardly depend on the machine's load, so a change
to the proxy's event handling shows here.  One caveat: strace -c counts an
epoll_wait that blocked far less often than it happens (a loop that slept in
it once per wake-up shows ~0.1 per request), while a non-blocking one is
always counted; compare the "without epoll_wait" row across builds that
wait differently.  Results:
bench/results/syscalls.json.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from benchutil import write_json

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
THIS = os.path.abspath(__file__)
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
BODY = b"x" * 64
MODES = ("connect", "socks5", "get")


# ---- the command inside ---------------------------------------------------

def recv_until(s, marker, limit=65536):
    data = b""
    while marker not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed early: %r" % data[:200])
        data += chunk
        if len(data) > limit:
            raise RuntimeError("answer too long")
    return data


def read_response(s, already=b""):
    data = already
    while b"\r\n\r\n" not in data:
        data += s.recv(4096) or b""
    head, rest = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    want = int(m.group(1)) if m else 0
    while len(rest) < want:
        chunk = s.recv(4096)
        if not chunk:
            break
        rest += chunk
    if not head.startswith(b"HTTP/1.1 200") or len(rest) < want:
        raise RuntimeError("bad answer: %r" % head[:200])


def one_request(mode, port):
    s = socket.create_connection(("127.0.0.1", 3128 if mode != "socks5" else 1080), timeout=10)
    try:
        req = b"GET /small HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % port
        if mode == "connect":
            s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (port, port))
            got = recv_until(s, b"\r\n\r\n")
            if not got.startswith(b"HTTP/1.1 200"):
                raise RuntimeError("CONNECT refused: %r" % got[:200])
            s.sendall(req)
            read_response(s, got.split(b"\r\n\r\n", 1)[1])
        elif mode == "socks5":
            s.sendall(b"\x05\x01\x00")
            recv_until(s, b"\x00", 2)
            s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") + port.to_bytes(2, "big"))
            got = b""
            while len(got) < 10:
                got += s.recv(10 - len(got)) or b""
            if got[1] != 0:
                raise RuntimeError("SOCKS5 refused: %r" % got)
            s.sendall(req)
            read_response(s)
        else:
            s.sendall(b"GET http://127.0.0.1:%d/small HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                      b"Connection: close\r\n\r\n" % (port, port))
            read_response(s)
    finally:
        s.close()


def inner(mode, port, n, ready_file):
    deadline = time.monotonic() + 30
    while not os.path.exists(ready_file):     # the host attaches strace first
        if time.monotonic() > deadline:
            sys.exit("inner: strace never attached")
        time.sleep(0.02)
    for _ in range(n):
        one_request(mode, port)


# ---- the host side ---------------------------------------------------------

class Origin(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = c.recv(4096)
                if not chunk:
                    return
                data += chunk
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                      % len(BODY) + BODY)
        except OSError:
            pass
        finally:
            c.close()


def parse_strace_c(text):
    """{syscall: calls} from strace -c's table."""
    counts = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 5 and re.match(r"^[\d.]+$", f[0]) and f[-1] != "total":
            try:
                counts[f[-1]] = int(f[3])
            except ValueError:
                continue
    return counts


def measure(srt, mode, port, n, scratch):
    ready = os.path.join(scratch, "ready-%s-%d" % (mode, n))
    settings = os.path.join(scratch, "settings.json")
    with open(settings, "w") as f:
        json.dump({"network": {"allowedDomains": ["127.0.0.1"]},
                   "filesystem": {"allowWrite": [], "denyRead": [], "denyWrite": []}}, f)
    argv = [srt, "--settings", settings, "--", PY, THIS, "--inner", mode, str(port), str(n), ready]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # every thread of the srt process (the proxy's loop is one), none of its children
    deadline = time.monotonic() + 10
    tids = []
    while time.monotonic() < deadline:
        try:
            tids = sorted(os.listdir("/proc/%d/task" % p.pid))
        except FileNotFoundError:
            break
        if len(tids) >= 2:
            break
        time.sleep(0.01)
    out = os.path.join(scratch, "strace-%s-%d.txt" % (mode, n))
    st = subprocess.Popen(["strace", "-c", "-o", out] + sum((["-p", t] for t in tids), []),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)                           # strace attached (it prints nothing to wait on)
    open(ready, "w").close()
    try:
        _, err = p.communicate(timeout=120)
    finally:
        st.terminate()
        st.wait(timeout=10)
    if p.returncode != 0:
        raise RuntimeError("%s: srt exited %d: %s" % (mode, p.returncode, err.decode()[-500:]))
    os.unlink(ready)
    with open(out) as f:
        return parse_strace_c(f.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--srt", default=os.path.join(REPO_ROOT, "build", "srt"))
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--json", default=os.path.join(BENCH_DIR, "results", "syscalls.json"))
    ap.add_argument("--keep", metavar="DIR", help="keep strace's tables in DIR")
    ap.add_argument("--inner", nargs=4, metavar=("MODE", "PORT", "N", "READY"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inner:
        inner(a.inner[0], int(a.inner[1]), int(a.inner[2]), a.inner[3])
        return
    if not shutil.which("strace"):
        sys.exit("syscalls.py: needs strace")
    origin = Origin()
    origin.start()
    results = {}
    with tempfile.TemporaryDirectory(prefix="srt-syscalls-") as scratch:
        if a.keep:
            scratch = a.keep
            os.makedirs(scratch, exist_ok=True)
        os.chmod(scratch, 0o755)
        for mode in MODES:
            base = measure(a.srt, mode, origin.port, 0, scratch)
            full = measure(a.srt, mode, origin.port, a.requests, scratch)
            per = {k: (full.get(k, 0) - base.get(k, 0)) / a.requests for k in set(full) | set(base)}
            per = {k: v for k, v in per.items() if v > 0.05}
            results[mode] = {"total": sum(per.values()), "by_syscall": per}
    print("## Syscalls of srt's host process per fresh-connection request (%d requests, strace -c)\n"
          % a.requests)
    names = sorted({k for r in results.values() for k in r["by_syscall"]},
                   key=lambda k: -max(r["by_syscall"].get(k, 0) for r in results.values()))
    print("| syscall | " + " | ".join(MODES) + " |")
    print("|---|" + "---:|" * len(MODES))
    print("| **total** | " + " | ".join("**%.1f**" % results[m]["total"] for m in MODES) + " |")
    print("| total without epoll_wait | " + " | ".join(
        "%.1f" % (results[m]["total"] - results[m]["by_syscall"].get("epoll_wait", 0)) for m in MODES) + " |")
    for k in names:
        print("| %s | " % k + " | ".join("%.1f" % results[m]["by_syscall"].get(k, 0) for m in MODES) + " |")
    write_json(a.json, {"requests": a.requests, "srt": a.srt, "results": results})


if __name__ == "__main__":
    main()
