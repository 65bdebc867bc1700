"""Fixtures of the container tests: srt inside Debian's podman with runc.

Every (profile, identity) pair is one `podman run`: inside.py, run in the
container as the identity (or as root, switching to it, in maxuserns0),
starts the servers, runs every probe as the identity and prints the
results as one JSON line; test_podman.py asserts on them.
See README.md for the exact command lines.

The srt binary is $SRT_BIN, or build/srt of this repository, copied once per
session (with inside.py, the CONTAINERS_CONF file and the seccomp profile)
to /tmp/srt-ctr-bin-*/, which is bind-mounted read-only at the same path in
every container.  The unprivileged identity is the host's system user
srt-ctr (created on demand; `--rootfs /:O` shows the host's /etc/passwd).
"""

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from ctr_util import (CLIENT_TIMEOUT, PODMAN_DEFAULT_SECCOMP, PROFILES,
                      RESULT, RUN_TIMEOUT, RUNC, nouserns_seccomp,
                      podman_base, podman_env, read_maxns)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SRT = os.environ.get("SRT_BIN") or str(REPO / "build" / "srt")
CTR_USER = "srt-ctr"


def _ensure_user():
    try:
        return pwd.getpwnam(CTR_USER)
    except KeyError:
        pass
    r = subprocess.run(["useradd", "--system", "--create-home",
                        "--shell", "/bin/bash", CTR_USER],
                       capture_output=True, text=True, timeout=30)
    if r.returncode not in (0, 9):  # 9: created concurrently
        pytest.fail("cannot create user %s: %s" % (CTR_USER, r.stderr))
    return pwd.getpwnam(CTR_USER)


def pytest_report_header(config):
    return "srt binary: %s; podman --runtime %s (running as uid %d)" % (
        SRT, RUNC, os.geteuid())


class Containers:
    """One podman run per (profile, identity), on first use; killed at
    teardown if still there."""

    def __init__(self, d, login):
        self.d = d
        self.login = login
        self.names = []
        self.cache = {}

    def argv(self, profile, identity, name):
        popts, dopts = PROFILES[profile]
        # the unprivileged user: `podman run --user` where the driver need
        # not be root (in maxuserns0 it makes the user namespace first, then
        # switches with setpriv)
        user = (["--user", self.login]
                if identity == "user" and "--limit-userns" not in dopts
                else [])
        return (podman_base(self.d) + ["--name", name,
                                       "--timeout", str(RUN_TIMEOUT)]
                + user + [o.format(dir=self.d) for o in popts]
                + ["--rootfs", "/:O", "python3", str(self.d / "inside.py"),
                   "--srt", str(self.d / "srt"), "--identity", identity,
                   "--login", self.login if identity == "user" else "root"]
                + dopts)

    def results(self, profile, identity):
        key = (profile, identity)
        if key in self.cache:
            return self.cache[key]
        name = "srt-ctr-%s-%s-%s" % (profile, identity, uuid.uuid4().hex[:8])
        self.names.append(name)
        argv = self.argv(profile, identity, name)
        t = time.monotonic()
        try:
            p = subprocess.run(argv, env=podman_env(self.d), cwd="/",
                               stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, errors="replace",
                               timeout=CLIENT_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            self.kill(name)
            res = {"_error": "podman run timed out after %ds: %s\n%s"
                   % (CLIENT_TIMEOUT, e.stdout, e.stderr)}
        else:
            line = [l for l in p.stdout.splitlines() if l.startswith(RESULT)]
            if p.returncode == 0 and line:
                res = json.loads(line[-1][len(RESULT):])
            else:
                res = {"_error": "podman run exited %d without a result:\n"
                       "command: %s\nstdout: %s\nstderr: %s"
                       % (p.returncode, " ".join(argv), p.stdout[-4000:],
                          p.stderr[-4000:])}
        res["_secs"] = round(time.monotonic() - t, 2)
        res["_argv"] = argv
        self.cache[key] = res
        return res

    def kill(self, name):
        subprocess.run(["podman", "rm", "--force", "--time", "0", name],
                       env=podman_env(self.d), capture_output=True,
                       timeout=60)

    def close(self):
        for n in self.names:
            self.kill(n)


@pytest.fixture(scope="session")
def host_maxns():
    """The host's user.max_user_namespaces before any container ran."""
    return read_maxns()


@pytest.fixture(scope="session")
def containers(host_maxns):
    if os.geteuid() != 0:
        pytest.skip("podman cannot run here: these tests run rootful podman "
                    "and need root (CI runs them as root)")
    if not shutil.which("podman"):
        pytest.skip("podman cannot run here: podman is not installed "
                    "(scripts/install-deps.sh test installs it)")
    if not os.path.isfile(SRT):
        pytest.exit("srt binary not found at %s (build it with `meson setup "
                    "build && ninja -C build`, or set SRT_BIN)" % SRT,
                    returncode=4)
    d = Path(tempfile.mkdtemp(prefix="srt-ctr-bin-", dir="/tmp"))
    os.chmod(d, 0o755)
    try:
        shutil.copyfile(SRT, d / "srt")
        os.chmod(d / "srt", 0o755)
        shutil.copyfile(HERE / "inside.py", d / "inside.py")
        os.chmod(d / "inside.py", 0o644)
        # root here lacks CAP_SYS_RESOURCE: no default rlimits to set
        (d / "containers.conf").write_text("[containers]\ndefault_ulimits = []\n")
        with open(PODMAN_DEFAULT_SECCOMP) as f:
            prof = nouserns_seccomp(json.load(f))
        (d / "seccomp-nouserns.json").write_text(json.dumps(prof, indent=1))
        for f in d.iterdir():
            os.chmod(f, 0o755 if f.name == "srt" else 0o644)
    except OSError as e:
        shutil.rmtree(d, ignore_errors=True)
        pytest.fail("cannot prepare the container tests: %s" % e)
    # can podman run at all?  The one reason to skip.
    probe = podman_base(d) + ["--rootfs", "/:O", "true"]
    try:
        p = subprocess.run(probe, env=podman_env(d), cwd="/",
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=120)
        why = None if p.returncode == 0 else "exit %d: %s" % (
            p.returncode, p.stderr.strip()[-1000:])
    except (OSError, subprocess.TimeoutExpired) as e:
        why = str(e)
    if why:
        shutil.rmtree(d, ignore_errors=True)
        pytest.skip("podman cannot run here (`CONTAINERS_CONF=%s %s`): %s"
                    % (d / "containers.conf", " ".join(probe), why))
    c = Containers(d, _ensure_user().pw_name)
    try:
        yield c
    finally:
        c.close()
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def ctr(request, containers):
    """(profile, identity, results) of that pair's container run; tests
    choose the pairs with @pytest.mark.parametrize("ctr", pairs(...),
    indirect=True)."""
    profile, identity = request.param
    res = containers.results(profile, identity)
    if "_error" in res:
        pytest.fail(res["_error"])
    return profile, identity, res
