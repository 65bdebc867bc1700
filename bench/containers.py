#!/usr/bin/python3
"""Start-up of srt's nested mode inside a podman container and of its
no-namespace mode inside one whose seccomp profile refuses user namespaces
(Docker's default), against the full mode on the host, the reference srt's
nested mode and plain bwrap, measured in the same run.

    bench/install-reference.sh      # once: hyperfine, bwrap, the reference srt
    /usr/bin/python3 bench/containers.py   # ~1 minute on 2 cores

Two rootful podman containers (runc, the host's root as `--rootfs /:O`,
`--network none`) stay up for the whole run: one with podman's default
seccomp profile (nested mode), one with the Docker-like profile of
tests/containers (no user namespace: the no-namespace mode); each round runs
hyperfine once on the host and once inside each (`podman exec`), so the
samples interleave.  Prints a markdown
table (min and median per command, in ms) and the ratios; writes the samples
to bench/results/containers.json.  Exit 0 unless it could not run at all.

Options: --rounds N (5), --runs M (10 per command per round), --srt PATH,
--reference PATH, --no-reference.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from benchutil import first_line, write_json

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "containers"))
from ctr_util import PODMAN_DEFAULT_SECCOMP, nouserns_seccomp  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_REF = os.path.expanduser("~/.cache/srt-bench/reference/node_modules/.bin/srt")
PODMAN = ["podman", "--runtime", "/usr/sbin/runc"]


def log(msg):
    print("containers: " + msg, file=sys.stderr, flush=True)


def hyperfine(prefix, commands, runs, tmp, tag):
    """Run hyperfine (through `prefix`, e.g. podman exec) over `commands`
    {name: shell-free command line}; returns {name: [seconds...]}."""
    # inside a container: its own /tmp (the scratch directory is bound
    # read-only there)
    out = ("/tmp" if prefix else tmp) + "/hf-%s.json" % tag
    argv = prefix + ["hyperfine", "-N", "--style", "none", "-i", "--warmup", "1",
                     "--runs", str(runs), "--export-json", out]
    names = list(commands)
    for n in names:
        argv += ["-n", n, commands[n]]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        log("hyperfine failed: " + first_line(p.stderr))
        return {}
    # inside the container the file is in its overlay: read it there
    data = json.loads(subprocess.run(prefix + ["cat", out], capture_output=True, text=True,
                                     timeout=60, check=True).stdout)
    return {r["command"]: r["times"] for r in data["results"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--srt", default=os.path.join(REPO, "build", "srt"))
    ap.add_argument("--reference", default=DEFAULT_REF)
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--json", default=os.path.join(REPO, "bench", "results", "containers.json"))
    args = ap.parse_args()
    for tool in ("podman", "hyperfine"):
        if not shutil.which(tool):
            log("%s not found (bench/install-reference.sh installs hyperfine; "
                "apt-get install podman runc)" % tool)
            return 1
    ref = None if args.no_reference else args.reference
    if ref and not os.access(ref, os.X_OK):
        log("no reference srt at %s (run bench/install-reference.sh); leaving it out" % ref)
        ref = None

    tmp = tempfile.mkdtemp(prefix="srt-bench-ctr-")
    os.chmod(tmp, 0o755)
    srt = os.path.join(tmp, "srt")
    shutil.copy2(args.srt, srt)  # a rebuild during the run changes nothing
    conf = os.path.join(tmp, "containers.conf")
    with open(conf, "w") as f:
        f.write("[containers]\ndefault_ulimits = []\n")
    settings = os.path.join(tmp, "nested.json")
    with open(settings, "w") as f:
        # the reference wants both sections complete; ours takes the same file
        json.dump({"enableWeakerNestedSandbox": True,
                   "network": {"allowedDomains": [], "deniedDomains": []},
                   "filesystem": {"allowWrite": [], "denyRead": [], "denyWrite": []}}, f)
    full = os.path.join(tmp, "full.json")
    with open(full, "w") as f:
        json.dump({"network": {"allowedDomains": [], "deniedDomains": []},
                   "filesystem": {"allowWrite": [], "denyRead": [], "denyWrite": []}}, f)
    for p in (conf, settings, full):
        os.chmod(p, 0o644)

    profile = os.path.join(tmp, "seccomp-nouserns.json")
    with open(PODMAN_DEFAULT_SECCOMP) as f, open(profile, "w") as g:
        json.dump(nouserns_seccomp(json.load(f)), g)
    os.chmod(profile, 0o644)
    env = dict(os.environ, CONTAINERS_CONF=conf)
    name = "srt-bench-%d" % os.getpid()
    names = [name, name + "-nons"]
    for n, extra in ((names[0], []), (names[1], ["--security-opt", "seccomp=" + profile])):
        start = PODMAN + ["run", "-d", "--rm", "--name", n, "--network", "none",
                          "-v", "%s:%s:ro" % (tmp, tmp), "-w", tmp] + extra + \
            ["--rootfs", "/:O", "sleep", "900"]
        p = subprocess.run(start, capture_output=True, text=True, env=env, cwd="/tmp",
                           timeout=120)
        if p.returncode != 0:
            log("podman cannot run here: " + first_line(p.stderr))
            for m in names:
                subprocess.run(PODMAN + ["rm", "-f", "-t", "0", m], capture_output=True,
                               env=env, timeout=120)
            shutil.rmtree(tmp, ignore_errors=True)
            return 1
    inside = PODMAN + ["exec", "-w", tmp, "-e", "HOME=" + tmp, names[0]]
    inside_nons = PODMAN + ["exec", "-w", tmp, "-e", "HOME=" + tmp, names[1]]
    host_cmds = {"true (host)": "true",
                 "bwrap, host": "bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all true",
                 "srt full mode, host": "%s --settings %s -- true" % (srt, full)}
    ctr_cmds = {"true (container)": "true",
                "bwrap, container (no --proc)": "bwrap --ro-bind / / --dev /dev --unshare-all true",
                "srt nested mode, container": "%s --settings %s -- true" % (srt, settings)}
    if ref:
        ctr_cmds["reference nested mode, container"] = "%s --settings %s -- true" % (ref, settings)
        host_cmds["reference full mode, host"] = "%s --settings %s -- true" % (ref, full)
    nons_cmds = {"srt no-namespace mode, container (Docker-like seccomp)":
                 "%s --settings %s -- true" % (srt, settings)}
    samples = {}
    try:
        for rnd in range(args.rounds):
            log("round %d/%d" % (rnd + 1, args.rounds))
            order = [("host", [], host_cmds), ("ctr", inside, ctr_cmds),
                     ("nons", inside_nons, nons_cmds)]
            order = order[rnd % 3:] + order[:rnd % 3]
            for tag, prefix, cmds in order:
                got = hyperfine(prefix, cmds, args.runs, tmp, "%s-%d" % (tag, rnd))
                for k, v in got.items():
                    samples.setdefault(k, []).extend(v)
    finally:
        for m in names:
            subprocess.run(PODMAN + ["rm", "-f", "-t", "0", m], capture_output=True, env=env,
                           timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)

    def ms(k, f):
        return f(samples[k]) * 1000 if samples.get(k) else float("nan")

    print("| command | min ms | median ms | runs |")
    print("|---|---|---|---|")
    for k in list(host_cmds) + list(ctr_cmds) + list(nons_cmds):
        print("| %s | %.2f | %.2f | %d |" % (k, ms(k, min), ms(k, statistics.median),
                                          len(samples.get(k, []))))
    print()

    def ratio(a, b):
        if samples.get(a) and samples.get(b):
            print("- %s / %s: median %.2f, min %.2f" % (
                a, b, ms(a, statistics.median) / ms(b, statistics.median), ms(a, min) / ms(b, min)))
    ratio("srt nested mode, container", "srt full mode, host")
    ratio("srt nested mode, container", "reference nested mode, container")
    ratio("srt nested mode, container", "bwrap, container (no --proc)")
    ratio("srt no-namespace mode, container (Docker-like seccomp)", "srt full mode, host")
    write_json(args.json, {"samples_s": samples})
    return 0


if __name__ == "__main__":
    sys.exit(main())
