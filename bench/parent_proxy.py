#!/usr/bin/python3
"""parentProxy benchmark: a 1 GiB CONNECT download through srt chained to an
upstream proxy, against the same download through that upstream directly
(issue #10: the ratio must be >= 0.9).

Run:  /usr/bin/python3 bench/parent_proxy.py [--rounds N] [--gib G] [--srt PATH]

Standard library only, plus curl, a C compiler and build/srt.  On the host's
loopback: bench/origin.c (GET /bytes/N with sendfile(2)) and bench/upstream.c
(the "corporate" CONNECT proxy: splice(2), 1 MiB pipes, any host name goes to
127.0.0.1:port).  The cases, interleaved (the order rotates each round), each
a `curl -p` download of G GiB of http://origin.bench.invalid:PORT/bytes/N
(CONNECT, then GET inside the tunnel):

  upstream   curl on the host -> upstream -> origin (the baseline)
  srt+parent curl in srt's sandbox -> srt's HTTP proxy (CONNECT) ->
             parentProxy = upstream -> origin
  srt+parent socks  the same with curl as a SOCKS5 client of srt (srt asks
             the upstream with CONNECT)
  srt direct curl in srt's sandbox -> srt -> origin, no parent (context:
             the name is then an allow-listed 127.0.0.1 literal)

Reported: MB/s (curl's %{speed_download}) min / median / max per case, and
the ratios of the medians (and of the minima) to the baseline, after one
uncounted warm-up run of each case; the issue's
target is srt+parent / upstream >= 0.9.  srt's own environment is stripped
of *_PROXY variables so that only the settings name the parent.  Scratch
data: $SRT_BENCH_DIR/parent (default ~/.cache/srt-bench/parent); results:
bench/results/parent_proxy.json.  Exits 0 unless it could not run at all.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

from benchutil import first_line, free_port, write_json

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
GIB = 1 << 30
MB = 1e6
NAME = "origin.bench.invalid"
PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY", "no_proxy", "NO_PROXY")


def log(msg):
    print(f"parent_proxy.py: {msg}", file=sys.stderr, flush=True)


def build(scratch):
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise RuntimeError("no C compiler (cc) found")
    out = {}
    for name in ("origin", "upstream"):
        src = os.path.join(BENCH_DIR, name + ".c")
        dst = os.path.join(scratch, name)
        if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(src):
            p = subprocess.run([cc, "-O2", "-o", dst + ".tmp", src], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if p.returncode != 0:
                raise RuntimeError(f"compiling {name} failed: {first_line(p.stdout)}")
            os.replace(dst + ".tmp", dst)
        out[name] = dst
    return out


def start(argv):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if line.strip() != "ready":
        p.kill()
        raise RuntimeError(f"{argv[0]} did not start")
    return p


def curl_argv(proxy, url, max_time):
    return ["curl", "-sS", "-p", "--noproxy", "", "-x", proxy, "-o", "/dev/null",
            "--max-time", str(max_time), "-w", "%{http_code} %{size_download} %{speed_download}",
            url]


def run_case(case, ctx):
    url = f"http://{NAME}:{ctx['origin_port']}/bytes/{ctx['bytes']}"
    if case == "upstream":
        argv = curl_argv(f"http://127.0.0.1:{ctx['up_port']}", url, ctx["max_time"])
    else:
        proxy = "socks5h://127.0.0.1:1080" if case == "srt+parent socks" else "http://127.0.0.1:3128"
        inner = curl_argv(proxy, url, ctx["max_time"])
        if proxy.startswith("socks"):
            inner.remove("-p")
        settings = ctx["settings_direct"] if case == "srt direct" else ctx["settings_parent"]
        argv = [ctx["srt"], "--settings", settings, "--"] + inner
    if case == "srt direct":
        argv[-1] = f"http://127.0.0.1:{ctx['origin_port']}/bytes/{ctx['bytes']}"
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=ctx["env"], cwd=ctx["scratch"], timeout=ctx["max_time"] + 60)
    parts = p.stdout.split()
    if p.returncode != 0 or len(parts) != 3 or parts[0] != "200" or int(parts[1]) != ctx["bytes"]:
        return None, f"rc {p.returncode}: {p.stdout.strip()} {first_line(p.stderr)}"
    return float(parts[2]) / MB, None


def summary(vals):
    if not vals:
        return None
    vals = sorted(vals)
    return {"n": len(vals), "min": vals[0], "median": statistics.median(vals), "max": vals[-1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--srt", default=os.path.join(REPO_ROOT, "build", "srt"))
    ap.add_argument("--json", default=os.path.join(BENCH_DIR, "results", "parent_proxy.json"))
    args = ap.parse_args()
    if not os.access(args.srt, os.X_OK):
        log(f"{args.srt} not found (meson setup build && ninja -C build)")
        return 1
    if not shutil.which("curl"):
        log("curl not found")
        return 1
    scratch = os.path.join(os.environ.get("SRT_BENCH_DIR") or
                           os.path.expanduser("~/.cache/srt-bench"), "parent")
    os.makedirs(scratch, exist_ok=True)
    tools = build(scratch)
    origin_port, up_port = free_port(), free_port()
    procs = [start([tools["origin"], str(origin_port)]), start([tools["upstream"], str(up_port)])]
    ctx = {"srt": os.path.abspath(args.srt), "scratch": scratch, "origin_port": origin_port,
           "up_port": up_port, "bytes": int(args.gib * GIB), "max_time": 300,
           "env": {k: v for k, v in os.environ.items() if k not in PROXY_VARS}}
    for key, net in (("settings_parent", {"allowedDomains": [NAME],
                                          "parentProxy": {"http": f"http://127.0.0.1:{up_port}"}}),
                     ("settings_direct", {"allowedDomains": [f"127.0.0.1:{origin_port}"]})):
        path = os.path.join(scratch, key + ".json")
        with open(path, "w") as f:
            json.dump({"network": net}, f)
        ctx[key] = path
    cases = ["upstream", "srt+parent", "srt+parent socks", "srt direct"]
    samples = {c: [] for c in cases}
    failures = {c: [] for c in cases}
    try:
        for c in cases:  # warm-up, not counted: page cache, first fork, first sandbox
            run_case(c, ctx)
        for r in range(args.rounds):
            order = cases[r % len(cases):] + cases[:r % len(cases)]
            for c in order:
                v, err = run_case(c, ctx)
                if v is None:
                    failures[c].append(err)
                    log(f"round {r + 1}: {c}: {err}")
                else:
                    samples[c].append(v)
            log(f"round {r + 1}/{args.rounds}: " +
                ", ".join(f"{c} {samples[c][-1]:.0f}" for c in cases if samples[c]))
    finally:
        for p in procs:
            p.kill()
            p.wait()
    res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
           "rounds": args.rounds, "bytes": ctx["bytes"], "unit": "MB/s",
           "cases": {c: {"summary": summary(samples[c]), "samples": samples[c],
                         "failures": failures[c]} for c in cases}}
    base = res["cases"]["upstream"]["summary"]
    print(f"1 GiB CONNECT download, {args.rounds} interleaved rounds, MB/s (curl speed_download)"
          if args.gib == 1 else f"{args.gib} GiB CONNECT download, {args.rounds} rounds, MB/s")
    print(f"{'case':<20} {'min':>8} {'median':>8} {'max':>8}  {'median/upstream':>16} {'min/upstream':>13}")
    ratios = {}
    for c in cases:
        s = res["cases"][c]["summary"]
        if not s:
            print(f"{c:<20} {'n/a':>8}  ({failures[c][0] if failures[c] else 'not run'})")
            continue
        rm = s["median"] / base["median"] if base else None
        rn = s["min"] / base["min"] if base else None
        ratios[c] = {"median": rm, "min": rn}
        print(f"{c:<20} {s['min']:>8.0f} {s['median']:>8.0f} {s['max']:>8.0f}  "
              f"{rm if rm is not None else float('nan'):>16.3f} "
              f"{rn if rn is not None else float('nan'):>13.3f}")
    res["ratios"] = ratios
    met = None
    if "srt+parent" in ratios and ratios["srt+parent"]["median"] is not None:
        met = ratios["srt+parent"]["median"] >= 0.9
    res["target"] = {"what": "srt+parent median / upstream median >= 0.9", "met": met}
    print("target (issue #10): srt+parent / upstream >= 0.9 (medians): "
          + {True: "MET", False: "NOT MET", None: "NOT MEASURED"}[met])
    write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
