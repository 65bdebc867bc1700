#!/usr/bin/python3
"""Network benchmark: throughput, request rate, memory and policy lookup of srt
(this project) vs. the reference srt.

Run:  /usr/bin/python3 bench/network.py [--rounds N] [--sections LIST]

Standard library only, plus curl, a C compiler and the project's build
(build/srt, build/libsrt_static.a).  Four sections, each interleaved across
rounds (the order of the cases rotates from round to round), min / median /
max reported:

  throughput  a 1 GiB download (curl -o /dev/null, %{speed_download}) from a
              loopback origin: direct on the host, through a bare splice relay
              (one extra hop, no sandbox), and inside our srt and the reference
              through CONNECT, SOCKS5 and absolute-form GET.
  rate        small requests (GET /small), a fresh TCP connection each:
              1 client sequentially and 50 concurrent clients, direct and
              through each proxy mode; requests/s, p50 and p99 latency.
  memory      VmHWM / VmRSS / PSS of every runtime process on the host side
              (ours: srt and its init in the sandbox; the reference: node,
              socat helpers and wrappers) while the command idles, and with
              1,000 idle CONNECT tunnels held open by the command.
  policy      ns per srt_netpolicy_check with 100,000 allowedDomains (a C
              program linked against build/libsrt_static.a), and the start-up
              time of `srt -- true` with that settings file.

The command inside a sandbox is this script (`--inner`), which talks to the
host side over stdin/stdout so that the host can sample the CPU time and
memory of the runtime processes exactly while a task runs.

A case that cannot run (binary missing, reference not installed, proxy mode
refused in a probe) is reported as "n/a" with the reason, never with a
number.  The script never fails on a number: it exits 0 unless it could not
run at all.

Scratch data (never inside the repository): $SRT_BENCH_DIR/net (default
~/.cache/srt-bench/net): compiled helpers (bench/origin.c, bench/netload.c,
bench/policybench.c), settings files.  Results: bench/results/network.json.
"""

import argparse
import base64
import ctypes
import datetime
import glob
import json
import os
import platform
import queue
import re
import resource
import select
import shutil
import signal
import socket
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from benchutil import first_line, free_port, write_json

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
REAL_HOME = os.path.expanduser("~")
THIS = os.path.abspath(__file__)
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

MB = 1e6
MIB = 1 << 20
GIB = 1 << 30
CLK_TCK = os.sysconf("SC_CLK_TCK")
MARK = "@@NB "                  # prefix of the inner driver's protocol lines
PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY", "no_proxy", "NO_PROXY", "ftp_proxy", "FTP_PROXY")

VIA_LABEL = {"direct": "direct", "connect": "CONNECT", "socks": "SOCKS5",
             "get": "absolute-form GET"}


def log(msg):
    print(f"network.py: {msg}", file=sys.stderr, flush=True)



# ==========================================================================
# The inner driver: runs as the sandboxed command (or on the host for the
# direct cases).  Protocol on stdout: lines "@@NB {json}":
#   {"ev": "sync", "i": N}    before task N; waits for "go" on stdin
#   {"ev": "ready", "i": N}   (hold) tunnels open; waits for "go" to close them
#   {"ev": "result", "i": N, ...}
# ==========================================================================

def inner_say(obj):
    sys.stdout.write(MARK + json.dumps(obj) + "\n")
    sys.stdout.flush()


def inner_wait_go(timeout):
    r, _, _ = select.select([sys.stdin], [], [], timeout)
    if not r:
        raise RuntimeError(f"no go from the host within {timeout} s")
    line = sys.stdin.readline()
    if line.strip() != "go":
        raise RuntimeError(f"unexpected line from the host: {line.strip()!r}")


def inner_proxies():
    """The proxies the runtime announces in the environment: ours sets plain
    http://127.0.0.1:3128 and socks5h://127.0.0.1:1080; the reference puts
    per-run credentials in the URLs (http://USER:PASS@localhost:3128, and the
    SOCKS one only in FTP_PROXY - its ALL_PROXY is the HTTP proxy)."""
    def parse(url):
        u = urllib.parse.urlsplit(url)
        host = u.hostname or "127.0.0.1"
        if host == "localhost":
            host = "127.0.0.1"     # its socat listens on IPv4 only
        auth = None
        if u.username is not None:
            auth = urllib.parse.unquote(u.username) + ":" + urllib.parse.unquote(u.password or "")
        return {"url": url, "hostport": f"{host}:{u.port}", "auth": auth,
                "redacted": re.sub(r"//[^@/]*@", "//USER:PASS@", url)}
    out = {}
    for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        v = os.environ.get(k, "")
        if v.startswith("http://"):
            out["http"] = parse(v)
            out["http"]["var"] = k
            break
    for k in ("ALL_PROXY", "all_proxy", "FTP_PROXY", "ftp_proxy"):
        v = os.environ.get(k, "")
        if v.startswith("socks5"):
            out["socks"] = parse(v)
            out["socks"]["var"] = k
            break
    return out


def inner_children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def inner_curl_argv(via, proxies, url, max_time):
    argv = ["curl", "-s", "-S", "-o", "/dev/null", "--max-time", str(max_time),
            "-w", "%{http_code} %{size_download} %{speed_download} %{time_total}"]
    if via == "direct":
        argv += ["--noproxy", "*"]
    elif via in ("connect", "get"):
        if "http" not in proxies:
            raise RuntimeError("no HTTP proxy in the environment")
        argv += ["--noproxy", "", "-x", proxies["http"]["url"]]
        if via == "connect":
            argv += ["-p"]
    elif via == "socks":
        if "socks" not in proxies:
            raise RuntimeError("no socks5 proxy URL in the environment")
        argv += ["--noproxy", "", "-x", proxies["socks"]["url"]]
    return argv + [url]


def inner_curl(via, proxies, url, max_time):
    argv = inner_curl_argv(via, proxies, url, max_time)
    c0 = inner_children_cpu()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=max_time + 30)
    cpu = inner_children_cpu() - c0
    f = p.stdout.split()
    res = {"curl_rc": p.returncode, "client_cpu_s": cpu,
           "error": first_line(p.stderr) or None}
    if len(f) == 4:
        res.update(http_code=int(f[0]), bytes=int(float(f[1])), speed=float(f[2]),
                   time_total=float(f[3]))
    return res


def inner_download(t, proxies):
    url = f"http://{t['target']}/bytes/{t['bytes']}"
    if t.get("parallel", 1) == 1:
        r = inner_curl(t["via"], proxies, url, t["max_time"])
        ok = r.get("http_code") == 200 and r.get("bytes") == t["bytes"] and r["curl_rc"] == 0
        r["ok"] = ok
        if not ok and not r.get("error"):
            r["error"] = f"HTTP {r.get('http_code')}, {r.get('bytes')} of {t['bytes']} bytes"
        return r
    # k parallel downloads: aggregate = all bytes / wall time of the slowest
    k = t["parallel"]
    argv = inner_curl_argv(t["via"], proxies, url, t["max_time"])
    c0 = inner_children_cpu()
    t0 = time.perf_counter()
    ps = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
          for _ in range(k)]
    outs = [p.communicate(timeout=t["max_time"] + 30) for p in ps]
    wall = time.perf_counter() - t0
    cpu = inner_children_cpu() - c0
    speeds, total, errs = [], 0, []
    for p, (o, e) in zip(ps, outs):
        f = o.split()
        if p.returncode == 0 and len(f) == 4 and int(f[0]) == 200:
            speeds.append(float(f[2]))
            total += int(float(f[1]))
        else:
            errs.append(first_line(e) or f"curl exit {p.returncode}")
    ok = not errs and total == k * t["bytes"]
    return {"ok": ok, "speed": total / wall if ok else None, "each_speed": speeds,
            "bytes": total, "client_cpu_s": cpu, "error": errs[0] if errs else None}


def inner_load(t, proxies):
    argv = [t["netload"], "load", "-m", t["via"], "-t", t["target"], "-p", "/small",
            "-n", str(t["n"]), "-c", str(t["clients"]), "-D", str(t["duration"]), "-T", "10"]
    if t["via"] != "direct":
        key = "socks" if t["via"] == "socks" else "http"
        if key not in proxies:
            raise RuntimeError(f"no {key} proxy in the environment")
        argv += ["-x", proxies[key]["hostport"]]
        if proxies[key]["auth"]:
            argv += ["-a", proxies[key]["auth"]]
    c0 = inner_children_cpu()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=t["duration"] + 60)
    cpu = inner_children_cpu() - c0
    try:
        r = json.loads(p.stdout)
    except ValueError:
        return {"ok": False, "error": f"netload exit {p.returncode}: "
                f"{first_line(p.stderr) or first_line(p.stdout)}"}
    r["client_cpu_s"] = cpu
    r["completed"] = r.pop("ok")
    r["ok"] = r["completed"] > 0 and r["errors"] == 0
    if not r["ok"]:
        r["error"] = r.get("first_error") or "no request completed"
    return r


def inner_hold(t, proxies, i):
    """Open t['tunnels'] CONNECT tunnels through the HTTP proxy to the
    origin, check a few, hold them until the host says go."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n = t["tunnels"]
    socks, err, t0 = [], None, time.perf_counter()
    if n:
        if "http" not in proxies:
            raise RuntimeError("no HTTP proxy in the environment")
        host, port = proxies["http"]["hostport"].rsplit(":", 1)
        auth = proxies["http"]["auth"]
        hdr = (f"CONNECT {t['target']} HTTP/1.1\r\nHost: {t['target']}\r\n" +
               (f"Proxy-Authorization: Basic {base64.b64encode(auth.encode()).decode()}\r\n"
                if auth else "") + "\r\n").encode()
        deadline = time.monotonic() + t["open_timeout"]
        fails = 0
        while len(socks) < n and time.monotonic() < deadline and fails < 10:
            s = socket.socket()
            s.settimeout(15)
            try:
                s.connect((host, int(port)))
                s.sendall(hdr)
                buf = b""
                while b"\r\n\r\n" not in buf and len(buf) < 8192:
                    d = s.recv(4096)
                    if not d:
                        break
                    buf += d
                status = buf.split(b"\r\n", 1)[0].decode("latin1")
                if not re.match(r"HTTP/1\.[01] 200", status):
                    raise OSError(f"CONNECT reply {status!r}")
                socks.append(s)
                fails = 0
            except OSError as e:
                s.close()
                fails += 1
                err = err or f"tunnel {len(socks) + 1}: {e}"
    open_s = time.perf_counter() - t0
    verified = 0
    for s in socks[:: max(1, len(socks) // 5)][:5]:   # a few, spread out
        try:
            s.sendall(f"GET /small HTTP/1.1\r\nHost: {t['target']}\r\n\r\n".encode())
            buf = b""
            while not buf.endswith(b"hello, world\n") and len(buf) < 4096:
                d = s.recv(4096)
                if not d:
                    break
                buf += d
            verified += buf.endswith(b"hello, world\n")
        except OSError as e:
            err = err or f"tunnel check: {e}"
    inner_say({"ev": "ready", "i": i, "opened": len(socks)})
    inner_wait_go(t.get("hold_timeout", 120))
    for s in socks:
        s.close()
    ok = len(socks) == n and verified == min(5, n) and err is None
    return {"ok": ok, "opened": len(socks), "wanted": n, "verified": verified,
            "open_s": open_s, "error": err}


def inner_probe(t, proxies):
    out = {"proxies": {k: {"var": v["var"], "url": v["redacted"],
                           "credentials": bool(v["auth"])} for k, v in proxies.items()},
           "modes": {}}
    for via in ("connect", "socks", "get"):
        try:
            r = inner_curl(via, proxies, f"http://{t['target']}/small", 20)
            ok = r.get("http_code") == 200 and r.get("bytes") == 13
            out["modes"][via] = {"ok": ok, "detail": None if ok else
                                 (r.get("error") or f"HTTP {r.get('http_code')}")}
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            out["modes"][via] = {"ok": False, "detail": str(e)}
    # Without the proxy: is the host's loopback reachable directly?  (It must not be.)
    host, port = t["target"].rsplit(":", 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=3)
        s.close()
        out["direct_loopback"] = "reachable"
    except OSError as e:
        out["direct_loopback"] = f"not reachable ({e.strerror or e})"
    out["ok"] = True
    return out


def inner_main(spec_json):
    spec = json.loads(spec_json)
    proxies = inner_proxies()
    for i, t in enumerate(spec["tasks"]):
        inner_say({"ev": "sync", "i": i})
        try:
            inner_wait_go(60)
            if t["kind"] == "download":
                r = inner_download(t, proxies)
            elif t["kind"] == "load":
                r = inner_load(t, proxies)
            elif t["kind"] == "hold":
                r = inner_hold(t, proxies, i)
            elif t["kind"] == "probe":
                r = inner_probe(t, proxies)
            else:
                r = {"ok": False, "error": f"unknown task {t['kind']}"}
        except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
            r = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        r.update(ev="result", i=i)
        inner_say(r)
    return 0


# ==========================================================================
# host side: processes
# ==========================================================================

def set_subreaper():
    """Orphans of a run (helpers a runtime leaves behind) are reparented to
    this script, which reaps them and stops those still running."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0          # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def read_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return {"ppid": int(rest[1]), "cpu": sum(int(x) for x in rest[11:15])}


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = read_stat(int(d))
            if st:
                kids.setdefault(st["ppid"], []).append(int(d))
    return kids


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def is_inner(pid):
    cl = cmdline(pid)        # [python, THIS, --inner, spec]; a runtime's own
    return cl[1:3] == [THIS.encode(), b"--inner"]   # argv holds them later


def runtime_pids(root, extra=()):
    """The runtime's processes: the tree under `root` minus the command
    (this script's --inner and everything under it), plus `extra`."""
    kids = children_map()
    out, todo = [], [root] + list(extra)
    seen = set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        if is_inner(p):
            continue
        if os.path.exists(f"/proc/{p}"):
            out.append(p)
        todo.extend(kids.get(p, []))
    return out


def tree_cpu_ticks(root, extra=()):
    """utime+stime+cutime+cstime summed over the runtime processes: a process
    that exits (and is reaped inside the tree) moves its time to its parent's
    cutime, so the difference of two samples is the CPU spent in between."""
    total = 0
    for p in runtime_pids(root, extra):
        st = read_stat(p)
        if st:
            total += st["cpu"]
    return total


def status_kib(pid, keys=("VmHWM", "VmRSS")):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def memory_snapshot(root):
    procs = []
    for p in runtime_pids(root):
        s = status_kib(p)
        if not s:
            continue
        procs.append({"pid": p, "comm": comm(p), "hwm_kib": s.get("VmHWM", 0),
                      "rss_kib": s.get("VmRSS", 0), "pss_kib": pss_kib(p),
                      "main": p == root})
    by = {}
    for x in procs:
        b = by.setdefault(x["comm"], {"count": 0, "hwm_kib": 0, "rss_kib": 0, "pss_kib": 0})
        b["count"] += 1
        b["hwm_kib"] += x["hwm_kib"]
        b["rss_kib"] += x["rss_kib"]
        b["pss_kib"] += x["pss_kib"] or 0
    main = next((x for x in procs if x["main"]), None)
    return {
        "processes": len(procs),
        "main_comm": main["comm"] if main else None,
        "main_hwm_kib": main["hwm_kib"] if main else None,
        "main_rss_kib": main["rss_kib"] if main else None,
        "sum_hwm_kib": sum(x["hwm_kib"] for x in procs),
        "sum_rss_kib": sum(x["rss_kib"] for x in procs),
        "sum_pss_kib": sum(x["pss_kib"] or 0 for x in procs),
        "by_comm": by,
    }


def merge_snapshots(snaps):
    """Peak of each figure over a few snapshots."""
    out = dict(snaps[0])
    for k in ("processes", "main_hwm_kib", "main_rss_kib", "sum_hwm_kib", "sum_rss_kib",
              "sum_pss_kib"):
        vals = [s[k] for s in snaps if s.get(k) is not None]
        out[k] = max(vals) if vals else None
    return out


class Reaper:
    """Reaps orphans reparented to us (we are a subreaper) and stops the
    ones a run left running; never touches the servers we keep."""
    def __init__(self):
        self.keep = set()
        self.killed = []

    def my_children(self):
        me = os.getpid()
        return [int(d) for d in os.listdir("/proc") if d.isdigit()
                and (read_stat(int(d)) or {}).get("ppid") == me]

    def sweep(self, busy=(), grace=3.0):
        deadline = time.monotonic() + grace
        while True:
            left = []
            for p in self.my_children():
                if p in self.keep or p in busy:
                    continue
                try:
                    rp, _ = os.waitpid(p, os.WNOHANG)
                except ChildProcessError:
                    continue
                if rp == 0:
                    left.append(p)
            if not left:
                return
            if time.monotonic() >= deadline:
                for p in left:
                    self.killed.append(f"{p} ({comm(p)})")
                    try:
                        os.kill(p, signal.SIGKILL)
                        os.waitpid(p, 0)
                    except (ProcessLookupError, ChildProcessError):
                        pass
                return
            time.sleep(0.05)


REAPER = Reaper()


class Server:
    """A helper server on 127.0.0.1:PORT that prints "ready" once listening."""
    def __init__(self, name, argv_fn, max_age=480):
        self.name = name
        self.argv_fn = argv_fn      # port -> argv
        self.max_age = max_age      # restart before bench/origin.c's 10-minute alarm
        self.p = None
        self.port = None
        self.started = 0

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def ensure(self):
        if self.alive() and time.monotonic() - self.started < self.max_age:
            return
        self.stop()
        last = None
        for attempt in range(5):
            port = self.port if (self.port and attempt == 0) else free_port()
            p = subprocess.Popen(self.argv_fn(port), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            r, _, _ = select.select([p.stdout], [], [], 5)
            line = p.stdout.readline() if r else ""
            if line.strip() == "ready":
                self.p, self.port, self.started = p, port, time.monotonic()
                REAPER.keep.add(p.pid)
                return
            p.kill()
            _, err = p.communicate()
            last = first_line(err) or "did not print ready"
        raise RuntimeError(f"{self.name}: could not start: {last}")

    def stop(self):
        if self.p is None:
            return
        REAPER.keep.discard(self.p.pid)
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(3)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p = None


# ==========================================================================
# host side: runtimes and sessions
# ==========================================================================

class Runtime:
    def __init__(self, rid, label, binary, reason=None):
        self.id = rid            # "direct" | "ours" | "ref"
        self.label = label
        self.binary = binary     # None for direct
        self.reason = reason     # why n/a
        self.mode_reason = {}    # via -> why n/a (from the probe)
        self.probe = None

    def argv(self, settings):
        if self.binary is None:
            return []
        return [self.binary, "--settings", settings, "--"]


class NonsRuntime(Runtime):
    """Our srt in its no-namespace mode: a test build (-Dtest_hooks=true)
    with SRT_TEST_NO_USERNS=1 stands for a host without user namespaces;
    the settings are the same with enableWeakerNestedSandbox added."""

    def argv(self, settings):
        if self.binary is None:
            return []
        with open(settings) as f:
            s = json.load(f)
        s["enableWeakerNestedSandbox"] = True
        nons = settings[:-len(".json")] + "-nons.json"
        write_json(nons, s)
        return ["env", "SRT_TEST_NO_USERNS=1", self.binary, "--settings", nons, "--"]


def limit_nofile():
    """Runtimes start with the common default soft limit of 1,024
    descriptors (they must raise their own for many tunnels)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))


class SessionError(Exception):
    def __init__(self, msg, results=(), task=None):
        super().__init__(msg)
        self.results = list(results)   # results of the tasks completed before
        self.task = task               # index of the task in progress, or None


def exit_text(rc):
    if rc is not None and rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit {rc}"


def run_session(rt, ctx, tasks, extra_cpu_pids=(), on_ready=None, start_timeout=60):
    """Run the inner driver with `tasks` inside runtime `rt` (on the host for
    direct).  Returns the task results, each with runtime_cpu_s (CPU time of
    the runtime processes while the task ran) and wall_s."""
    spec = json.dumps({"tasks": tasks})
    argv = rt.argv(ctx.settings()) + [PY, THIS, "--inner", spec]
    errf = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen(argv, cwd=ctx.work, env=ctx.env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=errf, text=True, bufsize=1,
                         preexec_fn=limit_nofile, start_new_session=True)
    q = queue.Queue()

    def reader():
        for line in p.stdout:
            if line.startswith(MARK):
                try:
                    q.put(json.loads(line[len(MARK):]))
                except ValueError:
                    pass
        q.put(None)
    th = threading.Thread(target=reader, daemon=True)
    th.start()

    def next_ev(timeout):
        try:
            ev = q.get(timeout=timeout)
        except queue.Empty:
            raise SessionError(f"no answer from the command within {timeout:.0f} s")
        if ev is None:
            errf.seek(0)
            raise SessionError(f"the run ended early ({rt.label} {exit_text(p.wait())}): "
                               f"{first_line(errf.read()) or 'no output'}")
        return ev

    def go():
        p.stdin.write("go\n")
        p.stdin.flush()

    results = []
    current = None
    try:
        for i, t in enumerate(tasks):
            current = None
            results_ready = {}
            ev = next_ev(start_timeout if i == 0 else 30)
            if ev.get("ev") != "sync":
                raise SessionError(f"unexpected event {ev}")
            c0 = tree_cpu_ticks(p.pid, extra_cpu_pids)
            w0 = time.perf_counter()
            current = i
            go()
            while True:
                ev = next_ev(t.get("timeout", 300))
                if ev.get("ev") == "ready":
                    if on_ready:
                        ev["snapshot"] = on_ready(p.pid)
                    results_ready = ev
                    go()
                    continue
                if ev.get("ev") == "result":
                    ev["wall_s"] = time.perf_counter() - w0
                    ev["runtime_cpu_s"] = (tree_cpu_ticks(p.pid, extra_cpu_pids) - c0) / CLK_TCK
                    if t["kind"] == "hold":
                        ev["snapshot"] = results_ready.get("snapshot")
                    results.append(ev)
                    break
        current = None
        p.stdin.close()
        try:
            rc = p.wait(30)
        except subprocess.TimeoutExpired:
            raise SessionError("the command did not exit within 30 s after its last task")
        if rc != 0:
            errf.seek(0)
            log(f"{rt.id}: the run ended with {exit_text(rc)} after its last task: "
                f"{first_line(errf.read())}")
        return results
    except (SessionError, OSError) as e:
        errf.seek(0)
        tail = first_line(errf.read())
        raise SessionError(f"{e}{' / stderr: ' + tail if tail else ''}", results,
                           current) from None
    finally:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)   # the group of the run we started
            except ProcessLookupError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        REAPER.sweep()
        errf.close()


class Context:
    def __init__(self, scratch, home, work, env):
        self.scratch = scratch
        self.home = home
        self.work = work
        self.env = env
        self.servers = []
        self._settings = None
        self._settings_ports = None

    def settings(self):
        """A complete settings file (the reference requires every key) that
        allows exactly the loopback origins, by IP literal and port."""
        ports = tuple(sorted(s.port for s in self.servers if s.port))
        if self._settings and ports == self._settings_ports:
            return self._settings
        path = os.path.join(self.scratch, "settings", "network.json")
        write_json(path, {
            "network": {"allowedDomains": [f"127.0.0.1:{p}" for p in ports],
                        "deniedDomains": []},
            "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
        })
        self._settings, self._settings_ports = path, ports
        return path



# ==========================================================================
# statistics and formatting
# ==========================================================================

def summary(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    return {"n": len(vals), "min": vals[0], "median": statistics.median(vals),
            "max": vals[-1]}


def fnum(v, digits=None):
    if v is None:
        return "n/a"
    if digits is not None:
        return f"{v:.{digits}f}"
    a = abs(v)
    return f"{v:.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}"


def verdict(met):
    return {True: "MET", False: "NOT MET", None: "NOT MEASURED"}[met]


class Case:
    def __init__(self, cid, label, rt, reason=None, **kw):
        self.id = cid
        self.label = label
        self.rt = rt
        self.reason = reason
        self.samples = []      # task results (ok ones)
        self.failures = []     # error strings
        self.skipped = []      # rounds lost because an earlier case crashed the session
        self.__dict__.update(kw)

    @property
    def available(self):
        return self.reason is None

    def add(self, r):
        if r.get("ok"):
            self.samples.append(r)
        else:
            self.failures.append(r.get("error") or "failed")

    def fail_all(self, why):
        self.failures.append(why)

    def final_reason(self):
        if self.reason:
            return self.reason
        if not self.samples:
            if self.failures:
                return f"all {len(self.failures)} runs failed: {self.failures[0]}"
            return f"never ran: {self.skipped[0]}" if self.skipped else "not run"
        return None

    def note(self):
        out = []
        if self.failures and self.samples:
            out.append(f"{len(self.failures)} failed runs excluded ({self.failures[0]})")
        if self.skipped:
            out.append(f"{len(self.skipped)} rounds not run ({self.skipped[0]})")
        return "; ".join(out)


# ==========================================================================
# sections
# ==========================================================================

def rotate(seq, k):
    if not seq:
        return seq
    k %= len(seq)
    return seq[k:] + seq[:k]


def run_groups(groups, rounds, ctx, label):
    """groups: list of (runtime, [cases], make_task(case) -> task, extra_pids_fn,
    on_ready).  Each round runs every group once (one session per group, its
    cases in rotated order); the order of the groups rotates too."""
    for rnd in range(rounds):
        log(f"{label}: round {rnd + 1}/{rounds}")
        for rt, cases, make_task, extra_fn, on_ready in rotate(groups, rnd):
            cases = [c for c in cases if c.available]
            if not cases:
                continue
            cases = rotate(cases, rnd)
            try:
                for s in ctx.servers:
                    s.ensure()
                tasks = [make_task(c) for c in cases]
                res = run_session(rt, ctx, tasks, extra_cpu_pids=extra_fn(),
                                  on_ready=on_ready)
                for c, r in zip(cases, res):
                    c.add(r)
            except SessionError as e:
                done = len(e.results)
                for c, r in zip(cases, e.results):
                    c.add(r)
                rest = cases[done:]
                if e.task is not None and rest:
                    log(f"{label}: {rt.id}: during {rest[0].id}: {e}")
                    rest[0].fail_all(str(e))
                    for c in rest[1:]:
                        c.skipped.append(f"session ended during {rest[0].id}")
                else:
                    log(f"{label}: {rt.id}: {e}")
                    for c in rest:
                        c.fail_all(str(e))
            except (RuntimeError, OSError) as e:
                log(f"{label}: {rt.id}: {e}")
                for c in cases:
                    c.fail_all(str(e))


def probe_runtimes(runtimes, ctx, target):
    for rt in runtimes:
        if rt.reason or rt.binary is None:
            continue
        try:
            for s in ctx.servers:
                s.ensure()
            r = run_session(rt, ctx, [{"kind": "probe", "target": target(), "timeout": 120}])[0]
        except (SessionError, RuntimeError, OSError) as e:
            rt.reason = f"probe run failed: {e}"
            log(f"{rt.id}: n/a: {rt.reason}")
            continue
        rt.probe = r
        for via, m in r.get("modes", {}).items():
            if not m["ok"]:
                rt.mode_reason[via] = f"probe GET /small through {VIA_LABEL[via]} failed: {m['detail']}"
                log(f"{rt.id} {via}: n/a: {rt.mode_reason[via]}")
        log(f"{rt.id}: proxies {json.dumps(r.get('proxies'))}; host loopback without "
            f"the proxy: {r.get('direct_loopback')}")


def section_throughput(args, ctx, rts, tools):
    bulk = Server("origin", lambda port: [tools["origin"], str(port)])
    relay = Server("relay", lambda port: [tools["netload"], "relay", str(port),
                                          f"127.0.0.1:{bulk.port}", "3600"])
    ctx.servers = [bulk]
    try:
        bulk.ensure()
    except RuntimeError as e:
        return {"reason": str(e)}, []
    ctx.servers = [bulk, relay]
    probe_runtimes([rts["ours"], rts["ref"], rts["nons"]], ctx, lambda: f"127.0.0.1:{bulk.port}")
    nbytes = args.download_bytes
    max_time = max(60, int(nbytes / (10 * MB)))    # gives up below 10 MB/s

    def task(case):
        port = relay.port if case.id == "relay" else bulk.port
        return {"kind": "download", "via": case.via, "target": f"127.0.0.1:{port}",
                "bytes": nbytes, "parallel": case.parallel, "max_time": max_time,
                "timeout": max_time + 60}

    d = rts["direct"]
    cases = {
        "direct": Case("direct", "direct (host curl)", d, via="direct", parallel=1),
        "direct2": Case("direct2", "direct, 2 parallel downloads (aggregate)", d,
                        via="direct", parallel=2),
        "relay": Case("relay", "bare splice relay on the host (1 extra hop, no sandbox)",
                      d, via="direct", parallel=1),
    }
    groups = [(d, [cases["direct"]], task, lambda: (), None),
              (d, [cases["direct2"]], task, lambda: (), None),
              (d, [cases["relay"]], task,
               lambda: (relay.p.pid,) if relay.alive() else (), None)]
    for rid, name in (("ours", "srt"), ("ref", "reference"), ("nons", "srt no-namespace mode")):
        rt = rts[rid]
        cs = []
        for via in ("connect", "socks", "get"):
            c = Case(f"{rid}-{via}", f"{name}, {VIA_LABEL[via]}", rt,
                     reason=rt.reason or rt.mode_reason.get(via), via=via, parallel=1)
            cases[c.id] = c
            cs.append(c)
        groups.append((rt, cs, task, lambda: (), None))
    try:
        relay.ensure()
    except RuntimeError as e:
        cases["relay"].reason = str(e)
    # the origin serves a sparse file: the first read of it fills the page
    # cache (~4x slower); warm it so that no case pays for that
    log("throughput: warm-up download")
    subprocess.run(["curl", "-s", "-o", "/dev/null", "--noproxy", "*", "--max-time",
                    str(max_time), f"http://127.0.0.1:{bulk.port}/bytes/{nbytes}"],
                   timeout=max_time + 30, check=False)
    run_groups(groups, args.rounds, ctx, "throughput")
    relay.stop()
    bulk.stop()
    ctx.servers = []

    base = summary([r["speed"] for r in cases["direct"].samples])
    rows = []
    for c in cases.values():
        s = summary([r["speed"] for r in c.samples])
        cpu = summary([r["runtime_cpu_s"] / (r["bytes"] / GIB) for r in c.samples])
        ccpu = summary([r["client_cpu_s"] / (r["bytes"] / GIB) for r in c.samples])
        e = {"id": c.id, "label": c.label, "status": "ok" if s else "n/a",
             "reason": c.final_reason(), "note": c.note(),
             "speed_bytes_per_s": s, "runtime_cpu_s_per_gib": cpu,
             "client_cpu_s_per_gib": ccpu,
             "samples": [{k: r.get(k) for k in ("speed", "each_speed", "runtime_cpu_s",
                                                  "client_cpu_s", "wall_s", "bytes")}
                         for r in c.samples],
             "failures": c.failures, "skipped": c.skipped}
        if s and base:
            e["pct_of_direct_median"] = 100 * s["median"] / base["median"]
            e["pct_of_direct_max"] = 100 * s["max"] / base["max"]
        rows.append(e)
    return {"bytes": nbytes, "rounds": args.rounds}, rows


def section_rate(args, ctx, rts, tools):
    small = Server("epoll origin", lambda port: [tools["netload"], "origin", str(port), "3600"])
    relay = Server("relay", lambda port: [tools["netload"], "relay", str(port),
                                          f"127.0.0.1:{small.port}", "3600"])
    ctx.servers = [small]
    try:
        small.ensure()
    except RuntimeError as e:
        return {"reason": str(e)}, []
    if any(rt.probe is None and rt.binary and not rt.reason for rt in rts.values()):
        probe_runtimes([rts["ours"], rts["ref"]], ctx, lambda: f"127.0.0.1:{small.port}")
    ctx.servers = [small, relay]

    def task(case):
        port = relay.port if case.id.startswith("relay") else small.port
        return {"kind": "load", "via": case.via, "target": f"127.0.0.1:{port}",
                "clients": case.clients, "n": args.rate_max_requests,
                "duration": args.rate_seconds, "netload": tools["netload"],
                "timeout": args.rate_seconds + 120}

    cases = {}
    groups = []
    for rid, name, vias in (("direct", "direct", ("direct",)),
                            ("ours", "srt", ("get", "connect", "socks")),
                            ("ref", "reference", ("get", "connect", "socks"))):
        rt = rts[rid]
        cs = []
        for via in vias:
            for clients in (1, args.clients):
                c = Case(f"{rid}-{via}-c{clients}",
                         f"{name}{', ' + VIA_LABEL[via] if rid != 'direct' else ''}", rt,
                         reason=rt.reason or rt.mode_reason.get(via), via=via,
                         clients=clients)
                cases[c.id] = c
                cs.append(c)
        groups.append((rt, cs, task, lambda: (), None))
        if rid == "direct":
            # the relay serves one connection at a time: sequential only
            c = Case("relay-direct-c1", "bare splice relay on the host (1 extra hop, no "
                     "sandbox)", rt, via="direct", clients=1)
            cases[c.id] = c
            groups.append((rt, [c], task,
                           lambda: (relay.p.pid,) if relay.alive() else (), None))
    try:
        relay.ensure()
    except RuntimeError as e:
        cases["relay-direct-c1"].reason = str(e)
    run_groups(groups, args.rounds, ctx, "rate")
    relay.stop()
    small.stop()
    ctx.servers = []

    rows = []
    for c in cases.values():
        s = summary([r["rps"] for r in c.samples])
        base = summary([r["rps"] for r in cases[f"direct-direct-c{c.clients}"].samples])
        e = {"id": c.id, "label": c.label, "via": c.via, "clients": c.clients,
             "status": "ok" if s else "n/a", "reason": c.final_reason(), "note": c.note(),
             "rps": s,
             "p50_us": summary([r["p50_us"] for r in c.samples]),
             "p99_us": summary([r["p99_us"] for r in c.samples]),
             "requests": summary([r["completed"] for r in c.samples]),
             "runtime_cpu_us_per_req": summary([1e6 * r["runtime_cpu_s"] / r["completed"]
                                                for r in c.samples]),
             "samples": [{k: r.get(k) for k in ("rps", "completed", "p50_us", "p90_us", "p99_us",
                                                  "max_us", "elapsed_s", "runtime_cpu_s",
                                                  "client_cpu_s")} for r in c.samples],
             "failures": c.failures, "skipped": c.skipped}
        if s and base:
            e["pct_of_direct_median"] = 100 * s["median"] / base["median"]
        rows.append(e)
    return {"seconds_per_measurement": args.rate_seconds, "clients": args.clients,
            "rounds": args.rounds}, rows


def section_memory(args, ctx, rts, tools):
    small = Server("epoll origin", lambda port: [tools["netload"], "origin", str(port), "3600"])
    ctx.servers = [small]
    try:
        small.ensure()
    except RuntimeError as e:
        return {"reason": str(e)}, []

    def task(case):
        return {"kind": "hold", "tunnels": case.tunnels, "target": f"127.0.0.1:{small.port}",
                "open_timeout": 240, "hold_timeout": 120, "timeout": 400}

    def on_ready(root):
        time.sleep(0.5)
        snaps = []
        for _ in range(3):
            snaps.append(memory_snapshot(root))
            time.sleep(0.25)
        return merge_snapshots(snaps)

    cases = {}
    groups = []
    for rid, name in (("ours", "srt"), ("ref", "reference")):
        rt = rts[rid]
        reason = rt.reason or (rt.mode_reason.get("connect") and
                               f"CONNECT unusable: {rt.mode_reason['connect']}")
        for n in (0, args.tunnels):
            c = Case(f"{rid}-t{n}", f"{name}, " + (f"{n} idle CONNECT tunnels" if n else
                                                    "command sleeping"), rt,
                     reason=rt.reason if n == 0 else reason, tunnels=n)
            cases[c.id] = c
            groups.append((rt, [c], task, lambda: (), on_ready))
    run_groups(groups, args.memory_rounds, ctx, "memory")
    small.stop()
    ctx.servers = []

    rows = []
    for c in cases.values():
        snaps = [r["snapshot"] for r in c.samples if r.get("snapshot")]
        e = {"id": c.id, "label": c.label, "runtime": c.rt.id, "tunnels": c.tunnels,
             "status": "ok" if snaps else "n/a",
             "reason": c.final_reason() or (None if snaps else "no snapshot"),
             "note": c.note(),
             "runtime_cpu_s": summary([r["runtime_cpu_s"] for r in c.samples]),
             "open_s": summary([r.get("open_s") for r in c.samples]) if c.tunnels else None,
             "failures": c.failures, "skipped": c.skipped, "snapshots": snaps}
        for k in ("main_hwm_kib", "main_rss_kib", "sum_hwm_kib", "sum_rss_kib",
                  "sum_pss_kib", "processes"):
            e[k] = summary([s[k] for s in snaps])
        rows.append(e)
    return {"tunnels": args.tunnels, "rounds": args.memory_rounds}, rows


def timed_run(argv, env, timeout=120):
    """(seconds, exit status) of one run, with little overhead: posix_spawn
    + wait4 (no shell, no pipes)."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, setsid=True)
    killer = threading.Timer(timeout, lambda: os.kill(pid, signal.SIGKILL))
    killer.start()
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        killer.cancel()
    return time.perf_counter() - t0, os.waitstatus_to_exitcode(status)


def peak_rss(netload, argv, env, timeout=120):
    """ru_maxrss (KiB) of a run measured by `netload rss` (a small parent, so
    that its size does not leak into the child's high-water mark)."""
    try:
        p = subprocess.run([netload, "rss"] + argv, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=timeout)
        rc, kib = p.stdout.split()
        return int(kib) if int(rc) == 0 else None
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def section_policy(args, ctx, rts, tools):
    meta, rows = {"domains": args.domains}, []
    big = os.path.join(ctx.scratch, "settings", f"domains-{args.domains}.json")
    small = os.path.join(ctx.scratch, "settings", "domains-100.json")
    pb = tools.get("policybench")
    if not pb:
        meta["reason"] = tools.get("policybench_reason")
        return meta, rows
    for n, path in ((args.domains, big), (100, small)):
        rc = subprocess.run([pb, "gen", str(n), path], stderr=subprocess.PIPE, text=True)
        if rc.returncode != 0:
            meta["reason"] = f"policybench gen failed: {first_line(rc.stderr)}"
            return meta, rows
    # lookups: alternate the big and the small policy
    look = {n: [] for n in (args.domains, 100)}
    errs = {}
    for rnd in range(args.memory_rounds):
        log(f"policy lookups: round {rnd + 1}/{args.memory_rounds}")
        for n, path in rotate([(args.domains, big), (100, small)], rnd):
            p = subprocess.run([pb, "bench", path, str(n), str(args.lookups), "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=600)
            try:
                look[n].append(json.loads(p.stdout))
            except ValueError:
                errs[n] = f"policybench exit {p.returncode}: {first_line(p.stderr)}"
    for n in (args.domains, 100):
        runs = look[n]
        ns = [x for r in runs for x in r["ns_per_lookup"]]
        rows.append({"id": f"lookup-{n}", "kind": "lookup", "entries": n,
                     "status": "ok" if ns else "n/a", "reason": errs.get(n) if not ns else None,
                     "ns_per_lookup": summary(ns),
                     "parse_ms": summary([r["parse_ms"] for r in runs]),
                     "index_ms": summary([r["index_ms"] for r in runs]),
                     "wrong_verdicts": sum(r["wrong_verdicts"] for r in runs) if runs else None,
                     "wrong_example": next((r["wrong_example"] for r in runs
                                            if r["wrong_example"]), None),
                     "hit_fraction": runs[0]["hit_fraction"] if runs else None,
                     "file_bytes": runs[0]["file_bytes"] if runs else None,
                     "runs": runs})

    # start-up with the big file vs. a small one
    true_bin = shutil.which("true") or "/bin/true"
    scases = [{"id": "true", "label": "true (bare)", "argv": [true_bin], "reason": None}]
    for rid, name in (("ours", "srt"), ("ref", "reference")):
        rt = rts[rid]
        for tag, path, what in (("small", small, "100 domains"),
                                ("big", big, f"{args.domains:,} domains")):
            scases.append({"id": f"{rid}-{tag}", "label": f"{name} -- true, {what}",
                           "argv": rt.argv(path) + [true_bin] if rt.binary else None,
                           "reason": rt.reason, "runtime": rid})
    env = dict(ctx.env)
    os.chdir(ctx.work)        # posix_spawn has no cwd: run from the scratch work dir
    for c in scases:
        c["samples"], c["rss"], c["failures"] = [], [], []
        if c["reason"]:
            continue
        try:
            dt, rc = timed_run(c["argv"], env)     # preflight / warm-up
        except OSError as e:
            c["reason"] = f"cannot execute: {e}"
            continue
        if rc != 0:
            p = subprocess.run(c["argv"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=120)
            c["reason"] = (f"preflight exited {rc}: "
                           f"{first_line(p.stderr) or first_line(p.stdout)}")
    before = reference_leftovers()
    for rnd in range(args.startup_rounds):
        if rnd % 5 == 0:
            log(f"start-up with {args.domains:,} domains: round {rnd + 1}/{args.startup_rounds}")
        for c in rotate([c for c in scases if not c["reason"]], rnd):
            dt, rc = timed_run(c["argv"], env)
            if rc == 0:
                c["samples"].append(dt)
            else:
                c["failures"].append(f"exit {rc}")
    for rnd in range(3):          # peak memory: a few separate runs
        for c in [c for c in scases if not c["reason"]]:
            kib = peak_rss(tools["netload"], c["argv"], env)
            if kib is not None:
                c["rss"].append(kib)
    remove_reference_leftovers(before)
    for c in scases:
        s = summary([x * 1000 for x in c["samples"]])
        rows.append({"id": f"startup-{c['id']}", "kind": "startup", "label": c["label"],
                     "command": c["argv"], "status": "ok" if s else "n/a",
                     "reason": c["reason"] or (None if s else
                                               f"all runs failed ({c['failures'][:1]})"),
                     "ms": s, "peak_rss_kib": summary(c["rss"]),
                     "failures": c["failures"]})
    meta["settings_big"] = big
    meta["settings_small"] = small
    return meta, rows


def reference_leftovers():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "srt-mux-*-*.sock")))


def remove_reference_leftovers(before):
    removed = 0
    for path in reference_leftovers() - before:
        m = re.search(r"srt-mux-(\d+)-\d+\.sock$", path)
        if not m or os.path.exists(f"/proc/{m.group(1)}"):
            continue
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
                removed += 1
        except OSError:
            pass
    return removed


# ==========================================================================
# tools
# ==========================================================================

def build_tools(scratch, srt):
    """Compile the helpers into the scratch directory (when their source is
    newer).  Returns {name: path} and reasons for the missing ones."""
    out = {}
    bindir = os.path.join(scratch, "bin")
    os.makedirs(bindir, exist_ok=True)
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise RuntimeError("no C compiler (cc) found")

    def compile_(name, sources, flags, deps=()):
        dst = os.path.join(bindir, name)
        newest = max(os.path.getmtime(s) for s in list(sources) + list(deps))
        if os.path.exists(dst) and os.path.getmtime(dst) >= newest:
            return dst
        p = subprocess.run([cc, "-O2", "-o", dst + ".tmp"] + list(sources) + flags,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"compiling {name} failed: {first_line(p.stdout)}")
        os.replace(dst + ".tmp", dst)
        return dst
    out["origin"] = compile_("origin", [os.path.join(BENCH_DIR, "origin.c")], [])
    out["netload"] = compile_("netload", [os.path.join(BENCH_DIR, "netload.c")], ["-pthread"])
    lib = os.path.join(os.path.dirname(srt), "libsrt_static.a")
    if not os.path.exists(lib):
        out["policybench_reason"] = f"{lib} not found (meson setup build && ninja -C build)"
        return out
    libs = ["-lseccomp", "-ljansson", "-luv", "-lpthread", "-ldl", "-lrt"]
    if shutil.which("pkg-config"):
        p = subprocess.run(["pkg-config", "--libs", "libseccomp", "jansson", "libuv"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode == 0 and p.stdout.strip():
            libs = p.stdout.split()
    hdrs = [os.path.join(REPO_ROOT, "src", "lib", h) for h in ("netpolicy.h", "config.h")]
    try:
        out["policybench"] = compile_(
            "policybench", [os.path.join(BENCH_DIR, "policybench.c"), lib],
            ["-I" + os.path.join(REPO_ROOT, "include"), "-I" + os.path.join(REPO_ROOT, "src", "lib")]
            + libs, deps=hdrs)
    except RuntimeError as e:
        out["policybench_reason"] = str(e)
    return out


def find_reference(args):
    if args.no_reference:
        return None, "skipped (--no-reference)"
    if args.reference:
        return (args.reference, None) if os.access(args.reference, os.X_OK) else \
            (None, f"--reference {args.reference} is not an executable")
    if os.environ.get("SRT_BENCH_REFERENCE"):
        p = os.environ["SRT_BENCH_REFERENCE"]
        return (p, None) if os.access(p, os.X_OK) else \
            (None, f"SRT_BENCH_REFERENCE={p} is not an executable")
    ref_dir = os.environ.get("SRT_BENCH_REFERENCE_DIR",
                             os.path.join(REAL_HOME, ".cache", "srt-bench", "reference"))
    p = os.path.join(ref_dir, "node_modules", ".bin", "srt")
    if os.access(p, os.X_OK):
        return p, None
    return None, f"reference not installed at {p} (run bench/install-reference.sh)"


def tool_version(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.strip().splitlines()[0] if p.returncode == 0 and p.stdout.strip() else None


# ==========================================================================
# report
# ==========================================================================

def print_report(res, args):
    meta = res["meta"]
    print(f"## srt network benchmark ({os.cpu_count()} CPUs, kernel {platform.release()}, "
          f"reference {meta['reference'].get('version') or 'n/a'})\n")
    print(f"Load average (1/5/15 min) at start {' '.join(meta['loadavg_at_start'])}, at end "
          f"{' '.join(meta['loadavg_at_end'])}; {meta['duration_s']:.0f} s in all.\n")
    th = res["sections"].get("throughput")
    if th:
        print(f"### Throughput: {th['meta'].get('bytes', 0) / GIB:g} GiB download, "
              f"{th['meta'].get('rounds')} rounds (MB = 10^6 bytes)\n")
        if th["meta"].get("reason"):
            print(f"n/a: {th['meta']['reason']}\n")
        print("| path | n | median MB/s | min – max MB/s | % of direct (median) "
              "| runtime CPU s/GiB | curl CPU s/GiB | note |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for e in th["rows"]:
            if e["status"] != "ok":
                print(f"| {e['label']} | – | n/a | n/a | n/a | n/a | n/a | {e['reason']} |")
                continue
            s = e["speed_bytes_per_s"]
            pct = fnum(e.get("pct_of_direct_median"), 0) + " %" if "pct_of_direct_median" in e else "–"
            cpu = e["runtime_cpu_s_per_gib"]
            print(f"| {e['label']} | {s['n']} | {s['median'] / MB:.0f} | "
                  f"{s['min'] / MB:.0f} – {s['max'] / MB:.0f} | {pct} | "
                  f"{fnum(cpu['median']) if cpu and e['id'] not in ('direct', 'direct2') else '–'} | "
                  f"{fnum(e['client_cpu_s_per_gib']['median'])} | {e['note']} |")
        rows = {e["id"]: e for e in th["rows"]}
        one, two = rows.get("direct"), rows.get("direct2")
        if one and two and one["status"] == "ok" and two["status"] == "ok":
            k = two["speed_bytes_per_s"]["median"] / one["speed_bytes_per_s"]["median"]
            print(f"\nOrigin check: 2 parallel direct downloads (one origin process each) "
                  f"together reach {k:.2f}× one download" +
                  (": one download already uses what the CPUs give, so the limit is the "
                   "machine, not the origin; a proxy hop competes for the same CPUs."
                   if k < 1.3 else ": the origin has headroom beyond one download."))
        print("\nruntime CPU: user+system time of the runtime's processes on the host side "
              "(ours: srt + its init; reference: node, socat, wrappers; relay: the relay) "
              "while the download ran, per GiB.\n")
    ra = res["sections"].get("rate")
    if ra:
        print(f"### Request rate: GET /small, a fresh connection per request, "
              f"{ra['meta'].get('seconds_per_measurement')} s per measurement, "
              f"{ra['meta'].get('rounds')} rounds\n")
        if ra["meta"].get("reason"):
            print(f"n/a: {ra['meta']['reason']}\n")
        print("| path | clients | n | median req/s | min – max req/s | % of direct (median) "
              "| p50 ms | p99 ms | runtime CPU µs/req | note |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for e in ra["rows"]:
            if e["status"] != "ok":
                print(f"| {e['label']} | {e['clients']} | – | n/a | n/a | n/a | n/a | n/a "
                      f"| n/a | {e['reason']} |")
                continue
            s = e["rps"]
            pct = fnum(e.get("pct_of_direct_median"), 0) + " %" if "pct_of_direct_median" in e else "–"
            cpu = e["runtime_cpu_us_per_req"]
            print(f"| {e['label']} | {e['clients']} | {s['n']} | {s['median']:.0f} | "
                  f"{s['min']:.0f} – {s['max']:.0f} | {pct} | "
                  f"{fnum(e['p50_us']['median'] / 1000)} | {fnum(e['p99_us']['median'] / 1000)} | "
                  f"{fnum(cpu['median']) if cpu and e['id'].split('-')[0] in ('ours', 'ref', 'relay') else '–'} | {e['note']} |")
        print("\np50 / p99: median over the measurements of each measurement's "
              "percentile (connect() to the last body byte).\n")
    me = res["sections"].get("memory")
    if me:
        print(f"### Memory of the runtime processes on the host side "
              f"({me['meta'].get('rounds')} rounds; MiB, max over the rounds)\n")
        if me["meta"].get("reason"):
            print(f"n/a: {me['meta']['reason']}\n")
        print("| runtime, state | n | main process VmHWM | processes | Σ VmHWM | Σ VmRSS "
              "| Σ PSS | tunnels opened in (s) | note |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for e in me["rows"]:
            if e["status"] != "ok":
                print(f"| {e['label']} | – | n/a | n/a | n/a | n/a | n/a | n/a | {e['reason']} |")
                continue
            snap = e["snapshots"][-1]
            comp = ", ".join(f"{v['count']}× {k}" for k, v in
                             sorted(snap["by_comm"].items(), key=lambda kv: -kv[1]["count"]))
            note = "; ".join(x for x in (e["note"], comp) if x)
            mb = lambda k: fnum(e[k]["max"] / 1024)
            print(f"| {e['label']} | {e['main_hwm_kib']['n']} | {mb('main_hwm_kib')} "
                  f"({e['snapshots'][0]['main_comm']}) | {e['processes']['max']} | "
                  f"{mb('sum_hwm_kib')} | {mb('sum_rss_kib')} | {mb('sum_pss_kib')} | "
                  f"{fnum(e['open_s']['median']) if e['open_s'] else '–'} | {note} |")
        print("\nΣ: over every process of the runtime (the sandboxed command excluded); "
              "VmHWM is each process's peak resident set, PSS shares pages fairly "
              "between processes.\n")
    po = res["sections"].get("policy")
    if po:
        print(f"### Policy: {po['meta']['domains']:,} allowedDomains\n")
        if po["meta"].get("reason"):
            print(f"n/a: {po['meta']['reason']}\n")
        lk = [e for e in po["rows"] if e["kind"] == "lookup"]
        if lk:
            print("| entries | n | min ns/lookup | median ns/lookup | parse ms | index ms "
                  "| wrong verdicts | note |")
            print("|---:|---:|---:|---:|---:|---:|---:|---|")
            for e in lk:
                if e["status"] != "ok":
                    print(f"| {e['entries']:,} | – | n/a | n/a | n/a | n/a | n/a | {e['reason']} |")
                    continue
                s = e["ns_per_lookup"]
                print(f"| {e['entries']:,} | {s['n']} | {s['min']:.0f} | {s['median']:.0f} | "
                      f"{fnum(e['parse_ms']['median'])} | {fnum(e['index_ms']['median'])} | "
                      f"{e['wrong_verdicts']} | {e['hit_fraction'] * 100:.0f} % hits |")
            print()
        st = [e for e in po["rows"] if e["kind"] == "startup"]
        if st:
            print("| start-up | n | min ms | median ms | peak RSS MiB (median) | note |")
            print("|---|---:|---:|---:|---:|---|")
            for e in st:
                if e["status"] != "ok":
                    print(f"| {e['label']} | – | n/a | n/a | n/a | {e['reason']} |")
                    continue
                print(f"| {e['label']} | {e['ms']['n']} | {fnum(e['ms']['min'])} | "
                      f"{fnum(e['ms']['median'])} | "
                      f"{fnum(e['peak_rss_kib']['median'] / 1024) if e['peak_rss_kib'] else 'n/a'} | "
                      f"{(str(len(e['failures'])) + ' failed runs') if e['failures'] else ''} |")
            print("\npeak RSS: ru_maxrss of the run, i.e. of its largest process "
                  "(3 separate runs).\n")
    print("### Targets\n")
    print("| target | verdict | measured |")
    print("|---|---|---|")
    for t in res["targets"]:
        print(f"| {t['target']} | **{verdict(t['met'])}** | {t['detail']} |")
    print()
    for line in meta.get("findings", []):
        print(f"* {line}")


def compute_targets(res):
    targets = []
    sec = res["sections"]

    def row(section, rid):
        for e in (sec.get(section) or {}).get("rows", []):
            if e["id"] == rid:
                return e
        return None

    for via, name in (("connect", "CONNECT"), ("socks", "SOCKS5")):
        e, d = row("throughput", f"ours-{via}"), row("throughput", "direct")
        size = (sec.get("throughput") or {}).get("meta", {}).get("bytes", GIB)
        t = {"id": f"throughput-{via}",
             "target": f"{size / GIB:g} GiB download through {name} ≥ 90 % of direct"}
        if e and e["status"] == "ok" and d and d["status"] == "ok":
            pct = e["pct_of_direct_median"]
            t["met"] = pct >= 90
            t["detail"] = (f"{pct:.0f} % ({e['speed_bytes_per_s']['median'] / MB:.0f} vs "
                           f"{d['speed_bytes_per_s']['median'] / MB:.0f} MB/s, medians)")
            rl = row("throughput", "relay")
            if rl and "pct_of_direct_median" in rl:
                t["detail"] += f"; bare splice relay: {rl['pct_of_direct_median']:.0f} %"
        else:
            t["met"] = None
            t["detail"] = (e or {}).get("reason") or (d or {}).get("reason") or "not run"
        targets.append(t)
    clients = (sec.get("rate") or {}).get("meta", {}).get("clients", 50)
    for c, what in ((1, "sequential"), (clients, f"{clients} concurrent clients")):
        e, d = row("rate", f"ours-get-c{c}"), row("rate", f"direct-direct-c{c}")
        t = {"id": f"rate-get-c{c}",
             "target": f"requests/s through the HTTP proxy (GET), {what} ≥ 50 % of direct"}
        if e and e["status"] == "ok" and d and d["status"] == "ok":
            pct = e["pct_of_direct_median"]
            t["met"] = pct >= 50
            t["detail"] = f"{pct:.0f} % ({e['rps']['median']:.0f} vs {d['rps']['median']:.0f} req/s)"
            rl = row("rate", f"relay-direct-c{c}")
            if rl and "pct_of_direct_median" in rl:
                t["detail"] += f"; bare splice relay: {rl['pct_of_direct_median']:.0f} %"
        else:
            t["met"] = None
            t["detail"] = (e or {}).get("reason") or (d or {}).get("reason") or "not run"
        targets.append(t)
    tun = (sec.get("memory") or {}).get("meta", {}).get("tunnels", 1000)
    for n, limit in ((0, 8), (tun, 64)):
        e = row("memory", f"ours-t{n}")
        what = "idle" if n == 0 else f"with {n} idle tunnels"
        t = {"id": f"memory-t{n}", "target": f"srt resident memory {what} < {limit} MiB"}
        if e and e["status"] == "ok":
            v = e["sum_hwm_kib"]["max"] / 1024
            t["met"] = v < limit
            t["detail"] = (f"{v:.1f} MiB (Σ VmHWM of srt and its init, max of "
                           f"{e['sum_hwm_kib']['n']}; srt alone {e['main_hwm_kib']['max'] / 1024:.1f})")
        else:
            t["met"] = None
            t["detail"] = (e or {}).get("reason") or "not run"
        targets.append(t)
    doms = (sec.get("policy") or {}).get("meta", {}).get("domains", 100000)
    e = row("policy", f"lookup-{doms}")
    t = {"id": "policy-lookup", "target": f"policy lookup with {doms:,} domains < 1 µs"}
    if e and e["status"] == "ok":
        v = e["ns_per_lookup"]["median"]
        t["met"] = v < 1000 and e["wrong_verdicts"] == 0
        t["detail"] = (f"{v:.0f} ns median, {e['ns_per_lookup']['min']:.0f} ns min"
                       + (f"; {e['wrong_verdicts']} WRONG verdicts" if e["wrong_verdicts"] else ""))
    else:
        t["met"] = None
        t["detail"] = (e or {}).get("reason") or (sec.get("policy") or {}).get(
            "meta", {}).get("reason") or "not run"
    targets.append(t)
    return targets


# ==========================================================================

SECTIONS = ("throughput", "rate", "memory", "policy")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--inner":
        return inner_main(sys.argv[2])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleaved rounds for throughput and request rate (default 5)")
    ap.add_argument("--memory-rounds", type=int, default=3,
                    help="rounds for memory and policy lookups (default 3)")
    ap.add_argument("--startup-rounds", type=int, default=10,
                    help="start-up runs per command with the big settings file (default 10)")
    ap.add_argument("--sections", default=",".join(SECTIONS),
                    help=f"comma-separated subset of {','.join(SECTIONS)}")
    ap.add_argument("--download-bytes", type=int, default=GIB,
                    help="size of the download (default 1 GiB)")
    ap.add_argument("--rate-seconds", type=float, default=3.0,
                    help="duration of one request-rate measurement (default 3 s)")
    ap.add_argument("--rate-max-requests", type=int, default=200000,
                    help="upper bound of requests per measurement (default 200000)")
    ap.add_argument("--clients", type=int, default=50,
                    help="concurrent clients for the request rate (default 50)")
    ap.add_argument("--tunnels", type=int, default=1000,
                    help="idle CONNECT tunnels for the memory section (default 1000)")
    ap.add_argument("--domains", type=int, default=100000,
                    help="allowedDomains for the policy section (default 100000)")
    ap.add_argument("--lookups", type=int, default=2000000,
                    help="lookups per timed repetition (default 2000000)")
    ap.add_argument("--srt", default=os.path.join(REPO_ROOT, "build", "srt"),
                    help="our srt binary (default build/srt)")
    ap.add_argument("--reference", help="reference srt executable (default: "
                    "$SRT_BENCH_REFERENCE, else the install-reference.sh location)")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference")
    ap.add_argument("--nons-srt", default=os.path.join(REPO_ROOT, "build-hooks", "srt"),
                    help="a test build of srt (-Dtest_hooks=true) for the no-namespace "
                         "mode's throughput row (default: build-hooks/srt)")
    ap.add_argument("--json", default=os.path.join(BENCH_DIR, "results", "network.json"),
                    help="where to write the JSON results (default bench/results/network.json)")
    args = ap.parse_args()
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        ap.error(f"unknown section(s): {', '.join(bad)}")
    if min(args.rounds, args.memory_rounds, args.startup_rounds, args.clients) < 1 or \
            args.download_bytes < 1 or args.rate_seconds <= 0 or args.tunnels < 1 or \
            args.domains < 8 or args.lookups < 1:
        ap.error("counts must be positive (--domains >= 8)")
    if not shutil.which("curl"):
        log("curl not found (apt-get install curl)")
        return 2

    scratch_root = os.path.realpath(os.environ.get(
        "SRT_BENCH_DIR", os.path.join(REAL_HOME, ".cache", "srt-bench")))
    if (scratch_root + "/").startswith(os.path.realpath(REPO_ROOT) + "/"):
        log(f"SRT_BENCH_DIR={scratch_root} is inside the repository; choose another place")
        return 2
    scratch = os.path.join(scratch_root, "net")
    home = os.path.join(scratch_root, "home")
    work = os.path.join(scratch, "work")
    try:
        for d in (scratch, home, work):
            os.makedirs(d, exist_ok=True)
        if os.path.lexists(os.path.join(home, ".srt-settings.json")):
            os.remove(os.path.join(home, ".srt-settings.json"))
    except OSError as e:
        log(f"cannot prepare scratch directory {scratch}: {e}")
        return 2

    srt = os.path.abspath(args.srt)
    srt_reason = None
    if not os.access(srt, os.X_OK):
        srt_reason = f"{srt} not found or not executable (meson setup build && ninja -C build)"
    try:
        tools = build_tools(scratch, srt)
    except RuntimeError as e:
        log(str(e))
        return 2
    ref, ref_reason = find_reference(args)

    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env["HOME"] = home
    env.pop("SRT_DEBUG", None)
    rts = {"direct": Runtime("direct", "direct", None),
           "ours": Runtime("ours", "srt", srt if not srt_reason else None, srt_reason),
           "ref": Runtime("ref", "reference", ref, ref_reason),
           "nons": NonsRuntime("nons", "srt no-namespace mode",
                               args.nons_srt if os.access(args.nons_srt, os.X_OK) else None,
                               None if os.access(args.nons_srt, os.X_OK) else
                               f"{args.nons_srt} not found (meson setup build-hooks "
                               "-Dtest_hooks=true && ninja -C build-hooks)")}
    ctx = Context(scratch, home, work, env)
    have_subreaper = set_subreaper()

    res = {"sections": {}}
    started = time.monotonic()
    loadavg_start = open("/proc/loadavg").read().split()[:3]
    before = reference_leftovers()
    fns = {"throughput": section_throughput, "rate": section_rate,
           "memory": section_memory, "policy": section_policy}
    try:
        for s in sections:
            log(f"section {s}")
            meta, rows = fns[s](args, ctx, rts, tools)
            res["sections"][s] = {"meta": meta, "rows": rows}
    except KeyboardInterrupt:
        log("interrupted: reporting what was measured")
    finally:
        for srv in ctx.servers:
            srv.stop()
        REAPER.sweep()
    removed = remove_reference_leftovers(before)

    findings = []
    for rid in ("ours", "ref"):
        rt = rts[rid]
        if rt.probe:
            px = rt.probe.get("proxies", {})
            findings.append(
                f"{rt.label}: proxies announced inside: " +
                ", ".join(f"{v['var']}={v['url']}" for v in px.values()) +
                f"; host loopback without the proxy: {rt.probe.get('direct_loopback')}; "
                "through the proxy with allowedDomains 127.0.0.1:PORT: " +
                ", ".join(f"{VIA_LABEL[k]} {'ok' if m['ok'] else 'FAILED: ' + str(m['detail'])}"
                          for k, m in rt.probe.get("modes", {}).items()))
    if REAPER.killed:
        findings.append(f"stopped {len(REAPER.killed)} processes the runs left behind: "
                        f"{', '.join(REAPER.killed[:10])}")
    rc, head, _ = (lambda p: (p.returncode, p.stdout, p.stderr))(subprocess.run(
        ["git", "-C", REPO_ROOT, "rev-parse", "HEAD"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True))
    dirty = subprocess.run(["git", "-C", REPO_ROOT, "status", "--porcelain",
                            "--untracked-files=no"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True).stdout
    res["meta"] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
        "loadavg_at_start": loadavg_start,
        "loadavg_at_end": open("/proc/loadavg").read().split()[:3],
        "duration_s": round(time.monotonic() - started, 1),
        "curl": tool_version(["curl", "--version"]),
        "srt": {"path": srt, "reason": srt_reason,
                "mtime": (datetime.datetime.fromtimestamp(
                    os.path.getmtime(srt), datetime.timezone.utc).isoformat(timespec="seconds")
                    if os.path.exists(srt) else None),
                "commit": head.strip() if rc == 0 else None, "dirty": bool(dirty.strip())},
        "reference": {"path": ref, "reason": ref_reason,
                      "version": tool_version([ref, "--version"]) if ref else None},
        "probes": {rid: rts[rid].probe for rid in ("ours", "ref")},
        "subreaper": have_subreaper,
        "removed_reference_sockets": removed,
        "scratch_dir": scratch,
        "args": vars(args),
        "findings": findings,
    }
    res["targets"] = compute_targets(res)
    print_report(res, args)
    try:
        write_json(os.path.abspath(args.json), res)
        log(f"wrote {args.json}")
    except OSError as e:
        log(f"could not write {args.json}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
