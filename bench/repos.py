#!/usr/bin/python3
"""Start-up with 5,000 nested repositories in the writable workspace.

Run:  python3 bench/repos.py [--quick] [--repos N] [--rounds R] [--compare OTHER_SRT]

Standard library only (no hyperfine, no reference srt).  The workspace is a
git repository holding N more (default 5,000), each `gNNN/rNNNNN/.git` with
HEAD, config and hooks/ - the layout issue 8 asks for, and what a command can
plant in its own workspace in about a second.  With allowWrite ["."] every one
of them is searched for, protected (its hooks and config read-only, the
directories above them pinned) and given its stand-ins.

Rows (each command runs `true` or stops after planning):
  srt --print-policy       planning only: settings, the mandatory-deny search,
                           the mount plan (nothing is mounted or created)
  srt -- true              the whole start-up and clean-up
  bwrap --bind WS WS       a floor, not an equivalent: bwrap has no
                           mandatory denies, and the same protection cannot
                           be expressed for it (a --ro-bind of every
                           .git/hooks and .git/config is 20,000 arguments;
                           bwrap refuses more than 9,000, --args included)
  ... --compare OTHER      the same srt rows for another build (e.g. the
                           previous commit), to show before and after

Commands are interleaved: each round runs every command once (order rotated
from round to round).  Min and median wall-clock time and the median CPU time
(user + system of the command and its children) are reported.  A command
that fails its preflight run is "n/a" with the reason, never a number.

Scratch data: $SRT_BENCH_DIR (default ~/.cache/srt-bench)/repos-N/ (generated
once, reused).  Results: bench/results/repos.json.
"""

import argparse
import datetime
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

from benchutil import first_line, write_json

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)


def log(msg):
    print(f"repos.py: {msg}", file=sys.stderr, flush=True)


def repo_dirs(ws, n):
    return [os.path.join(ws, f"g{i // 100:03d}", f"r{i:05d}") for i in range(n)]


def make_git_dir(gitdir):
    os.makedirs(os.path.join(gitdir, "hooks"))
    os.makedirs(os.path.join(gitdir, "objects"))
    os.makedirs(os.path.join(gitdir, "refs", "heads"))
    with open(os.path.join(gitdir, "HEAD"), "w") as f:
        f.write("ref: refs/heads/main\n")
    with open(os.path.join(gitdir, "config"), "w") as f:
        f.write("[core]\n\trepositoryformatversion = 0\n\tbare = false\n")


def ensure_tree(path, n):
    """The workspace with n nested repositories (generated once)."""
    marker = path + ".complete"
    ws = os.path.join(path, "ws")
    if os.path.exists(marker):
        return ws
    log(f"generating {n} nested repositories under {ws} (once)")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(ws)
    make_git_dir(os.path.join(ws, ".git"))
    for d in repo_dirs(ws, n):
        make_git_dir(os.path.join(d, ".git"))
        with open(os.path.join(d, "README"), "w") as f:
            f.write("x\n")
    open(marker, "w").close()
    return ws


def bwrap_argv(bwrap, ws):
    return [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--unshare-all", "--die-with-parent", "--bind", ws, ws, "true"]


class Case:
    def __init__(self, cid, label, argv, reason=None):
        self.id, self.label, self.argv, self.reason = cid, label, argv, reason
        self.wall, self.cpu = [], []
        self.failed = 0


def run_once(argv, cwd, env, timeout):
    """(exit status or None on timeout, wall seconds, stderr)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None, time.perf_counter() - t0, "timed out"
    return p.returncode, time.perf_counter() - t0, err.decode(errors="replace")


def cpu_of_children():
    """CPU seconds of every reaped child so far (user + system)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def preflight(case, cwd, env, timeout):
    if case.reason:
        return
    rc, _, err = run_once(case.argv, cwd, env, timeout)
    if rc != 0:
        case.reason = f"preflight exited {rc}: {first_line(err) or 'no output'}"


def fmt(v):
    return "n/a" if v is None else (f"{v * 1000:.0f}" if v >= 1 else f"{v * 1000:.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=int, default=5000, help="nested repositories (5000)")
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds (10)")
    ap.add_argument("--quick", action="store_true", help="3 rounds (a quick look)")
    ap.add_argument("--srt", default=os.path.join(REPO_ROOT, "build", "srt"))
    ap.add_argument("--compare", help="another srt binary to measure beside it")
    ap.add_argument("--no-bwrap", action="store_true")
    ap.add_argument("--timeout", type=float, default=300, help="per run, seconds (300)")
    ap.add_argument("--json", default=os.path.join(BENCH_DIR, "results", "repos.json"))
    args = ap.parse_args()
    rounds = 3 if args.quick else args.rounds
    if rounds < 1 or args.repos < 1:
        ap.error("--rounds and --repos must be >= 1")

    scratch = os.path.realpath(os.environ.get(
        "SRT_BENCH_DIR", os.path.join(os.path.expanduser("~"), ".cache", "srt-bench")))
    if (scratch + "/").startswith(os.path.realpath(REPO_ROOT) + "/"):
        log(f"SRT_BENCH_DIR={scratch} is inside the repository; choose another place")
        return 2
    try:
        ws = ensure_tree(os.path.join(scratch, f"repos-{args.repos}"), args.repos)
        home = os.path.join(scratch, "home")
        os.makedirs(home, exist_ok=True)
        settings = os.path.join(scratch, "settings", "repos.json")
        write_json(settings, {"filesystem": {"allowWrite": ["."]}})
    except OSError as e:
        log(f"cannot prepare {scratch}: {e}")
        return 2
    env = {k: v for k, v in os.environ.items() if k != "SRT_DEBUG"}
    env["HOME"] = home

    cases = []
    for suffix, binary in (("", args.srt), ("-compare", args.compare)):
        if binary is None:
            continue
        srt = os.path.abspath(binary)
        reason = None if os.access(srt, os.X_OK) else f"{srt} not found or not executable"
        shown = "" if not suffix else f" ({binary})"
        cases.append(Case("policy" + suffix, f"srt --print-policy{shown}",
                          [srt, "--settings", settings, "--print-policy"], reason))
        cases.append(Case("start" + suffix, f"srt -- true{shown}",
                          [srt, "--settings", settings, "--", "true"], reason))
    bwrap = shutil.which("bwrap")
    if not args.no_bwrap:
        cases.append(Case("bwrap", "bwrap --bind WS WS true (floor, no protection)",
                          bwrap_argv(bwrap, ws) if bwrap else None,
                          None if bwrap else "bwrap not found (apt-get install bubblewrap)"))

    for c in cases:
        preflight(c, ws, env, args.timeout)
        if c.reason:
            log(f"{c.label}: n/a: {c.reason}")
    live = [c for c in cases if not c.reason]
    for rnd in range(rounds):
        log(f"round {rnd + 1}/{rounds}")
        k = rnd % len(live) if live else 0
        for c in live[k:] + live[:k]:
            before = cpu_of_children()
            rc, wall, _ = run_once(c.argv, ws, env, args.timeout)
            cpu = cpu_of_children() - before
            if rc == 0:
                c.wall.append(wall)
                c.cpu.append(cpu)
            else:
                c.failed += 1

    print(f"## Start-up with {args.repos:,} nested repositories in the writable workspace "
          f"({rounds} interleaved rounds; {os.cpu_count()} CPUs)\n")
    print("| command | n | min ms | median ms | median CPU ms | note |")
    print("|---|---:|---:|---:|---:|---|")
    rows = []
    for c in cases:
        if c.reason or not c.wall:
            note = c.reason or f"all {c.failed} runs failed"
            print(f"| {c.label} | – | n/a | n/a | n/a | {note} |")
            rows.append({"id": c.id, "label": c.label, "status": "n/a", "reason": note})
            continue
        s = {"n": len(c.wall), "min_s": min(c.wall), "median_s": statistics.median(c.wall),
             "median_cpu_s": statistics.median(c.cpu)}
        note = f"{c.failed} failed runs excluded" if c.failed else ""
        print(f"| {c.label} | {s['n']} | {fmt(s['min_s'])} | {fmt(s['median_s'])} | "
              f"{fmt(s['median_cpu_s'])} | {note} |")
        rows.append({"id": c.id, "label": c.label, "status": "ok", "failed_runs": c.failed,
                     "command": c.argv[:4] + (["..."] if len(c.argv) > 4 else []),
                     "wall_s": c.wall, "cpu_s": c.cpu, **s})
    print(f"\nWorkspace: {ws} ({args.repos} repositories `gNNN/rNNNNN/.git` and the "
          f"workspace's own); settings: allowWrite [\".\"].")
    write_json(args.json, {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
        "repos": args.repos, "rounds": rounds, "workspace": ws, "rows": rows,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
