"""Fixtures for the srt end-to-end tests.

Every test that uses the ``sb`` fixture (or ``run``) runs twice: once as the
invoking user (``root`` in CI) and once as the unprivileged system user
``srt-e2e`` (created on demand, commands run through ``setpriv``).  Each test
gets a fresh base directory under /tmp owned by that identity:

    BASE/            parent of the workspace (writable on the host)
    BASE/ws/         workspace, the working directory of srt
    BASE/home/       scratch HOME for the root identity
    BASE/s-N.json    settings files written by run(settings=...)

The srt binary is $SRT_BIN, or build/srt of this repository; it is copied
once per session to /tmp/srt-e2e-bin-*/srt so that a rebuild during the run
cannot break tests half-way.

Helpers (see Sandbox): sb.run(cmd, settings=dict|str|None, cwd=, input=,
timeout=, env=, opts=, raw=) -> Result(returncode, stdout, stderr), where a
str cmd runs as `srt -c STRING`, a list as `srt -- ARGV`, and raw=True passes
cmd as srt's whole argument list; sb.popen(...) for background runs;
sb.host(...) / sb.host_popen(...) for plain host commands as the identity.
The `run` fixture is sb.run.  Run as root: the "user" variant needs it and
is skipped otherwise.
"""

import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from e2e_util import Result, DEFAULT_TIMEOUT

REPO = Path(__file__).resolve().parent.parent.parent
SRT = os.environ.get("SRT_BIN") or str(REPO / "build" / "srt")
E2E_USER = "srt-e2e"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _is_root():
    return os.geteuid() == 0


def pytest_report_header(config):
    return "srt binary: %s (running as uid %d)" % (SRT, os.geteuid())


@pytest.fixture(scope="session")
def srt_bin():
    """A private snapshot of the srt binary, so that a rebuild of build/srt
    while the suite runs cannot make tests fail spuriously."""
    if not os.path.isfile(SRT):
        pytest.exit("srt binary not found at %s (build it with `meson setup "
                    "build && ninja -C build`, or set SRT_BIN)" % SRT,
                    returncode=4)
    d = Path(tempfile.mkdtemp(prefix="srt-e2e-bin-", dir="/tmp"))
    os.chmod(d, 0o755)
    dst = d / "srt"
    err = ""
    for _ in range(10):  # bounded: wait out a concurrent re-link
        try:
            shutil.copyfile(SRT, dst)
            os.chmod(dst, 0o755)
            r = subprocess.run([str(dst), "--version"], capture_output=True,
                               text=True, timeout=10)
            if r.returncode == 0:
                break
            err = r.stderr
        except OSError as e:
            err = str(e)
        time.sleep(0.5)
    else:
        shutil.rmtree(d, ignore_errors=True)
        pytest.exit("cannot use the srt binary %s: %s" % (SRT, err),
                    returncode=4)
    yield str(dst)
    shutil.rmtree(d, ignore_errors=True)


def _ensure_user():
    """Create the unprivileged test user if it is missing (idempotent)."""
    try:
        return pwd.getpwnam(E2E_USER)
    except KeyError:
        pass
    r = subprocess.run(["useradd", "--system", "--create-home",
                        "--shell", "/bin/bash", E2E_USER],
                       capture_output=True, text=True, timeout=30)
    # exit 9: created concurrently by someone else - fine.
    if r.returncode not in (0, 9):
        pytest.fail("cannot create user %s: %s" % (E2E_USER, r.stderr))
    pw = pwd.getpwnam(E2E_USER)
    if not os.path.isdir(pw.pw_dir):
        os.makedirs(pw.pw_dir, mode=0o755)
        os.chown(pw.pw_dir, pw.pw_uid, pw.pw_gid)
    return pw


class Identity:
    def __init__(self, name, uid, gid, home, login):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home  # real home of a "user"; None for "root" (scratch)
        self.login = login

    def wrap(self, argv, env):
        """argv that runs `argv` as this identity with exactly `env`."""
        envargs = ["%s=%s" % kv for kv in env.items()]
        if self.name == "user":
            return (["setpriv", "--reuid", self.login, "--regid", self.login,
                     "--init-groups", "--reset-env", "/usr/bin/env", "-i"]
                    + envargs + list(argv))
        return ["/usr/bin/env", "-i"] + envargs + list(argv)

    def chown(self, path):
        if _is_root():
            os.chown(path, self.uid, self.gid)


@pytest.fixture(scope="session")
def e2e_user():
    if not _is_root():
        pytest.skip("the 'user' variant needs root to create and switch to "
                    "the unprivileged user %s (CI runs the suite as root)"
                    % E2E_USER)
    return _ensure_user()


@pytest.fixture(params=["root", "user"])
def identity(request):
    if request.param == "user":
        pw = request.getfixturevalue("e2e_user")
        return Identity("user", pw.pw_uid, pw.pw_gid, pw.pw_dir, pw.pw_name)
    # "root": whoever runs the suite (root in CI), with a scratch HOME.
    pw = pwd.getpwuid(os.geteuid())
    return Identity("root", os.geteuid(), os.getegid(), None, pw.pw_name)


class Sandbox:
    """Per-test helper: paths, settings files and ways to run srt."""

    def __init__(self, srt, ident, base):
        self.srt = srt
        self.ident = ident
        self.base = base
        self.ws = base / "ws"
        self.ws.mkdir()
        ident.chown(str(self.ws))
        if ident.home:
            self.home = Path(ident.home)
        else:
            self.home = base / "home"
            self.home.mkdir()
            ident.chown(str(self.home))
        self.uid = ident.uid
        self._nsettings = 0
        self._procs = []

    # -- helpers ---------------------------------------------------------
    def env(self, extra=None):
        e = {
            "PATH": BASE_PATH,
            "HOME": str(self.home),
            "USER": self.ident.login,
            "LOGNAME": self.ident.login,
            "LC_ALL": "C",
            "LANG": "C",
            "TERM": "dumb",
        }
        # test builds: the gate-off paths (stand-ins, private git
        # directories) are run by `make nons` with this set
        if os.environ.get("SRT_TEST_NO_FSGATE"):
            e["SRT_TEST_NO_FSGATE"] = "1"
        if extra:
            e.update(extra)
        return e

    def write_settings(self, settings):
        """Write settings (dict -> JSON, str/bytes -> verbatim); return path."""
        self._nsettings += 1
        p = self.base / ("s-%d.json" % self._nsettings)
        if isinstance(settings, (dict, list)):
            data = json.dumps(settings, indent=2).encode()
        elif isinstance(settings, str):
            data = settings.encode()
        else:
            data = settings
        p.write_bytes(data)
        os.chmod(p, 0o644)
        return str(p)

    def argv(self, cmd, settings=None, opts=(), raw=False):
        """srt argv.  raw: cmd is srt's whole argument list.  Otherwise a
        str is run as `srt -c STRING` and a list as `srt -- ARGV...`."""
        if raw:
            return [self.srt] + list(cmd)
        a = [self.srt]
        if settings is not None:
            a += ["--settings", self.write_settings(settings)]
        a += list(opts)
        if isinstance(cmd, str):
            a += ["-c", cmd]
        else:
            a += ["--"] + list(cmd)
        return a

    def run(self, cmd, settings=None, cwd=None, input=None,
            timeout=DEFAULT_TIMEOUT, env=None, opts=(), raw=False,
            binary=None):
        """Run srt as this identity; return Result(returncode, out, err).
        Output is bytes when input is bytes or binary=True, else text."""
        if binary is None:
            binary = isinstance(input, (bytes, bytearray))
        full = self.ident.wrap(self.argv(cmd, settings, opts, raw),
                               self.env(env))
        kw = {} if binary else {"text": True, "errors": "replace"}
        p = subprocess.run(full, cwd=str(cwd or self.ws), input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, **kw)
        return Result(p.returncode, p.stdout, p.stderr)

    def popen(self, cmd, settings=None, cwd=None, env=None, opts=(),
              raw=False, **kw):
        """Start srt in the background (own session); killed at teardown."""
        full = self.ident.wrap(self.argv(cmd, settings, opts, raw),
                               self.env(env))
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen(full, cwd=str(cwd or self.ws), **kw)
        self._procs.append(p)
        return p

    def host(self, argv, cwd=None, env=None, timeout=DEFAULT_TIMEOUT,
             check=True):
        """Run a plain command on the host (no sandbox) as this identity."""
        full = self.ident.wrap(argv, self.env(env))
        p = subprocess.run(full, cwd=str(cwd or self.ws), capture_output=True,
                           text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("host command %r failed (%d): %s"
                                 % (argv, p.returncode, p.stderr))
        return Result(p.returncode, p.stdout, p.stderr)

    def host_popen(self, argv, **kw):
        """Start a plain host process as this identity; killed at teardown."""
        full = self.ident.wrap(argv, self.env())
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen(full, cwd=str(self.ws), **kw)
        self._procs.append(p)
        return p

    def mkfile(self, rel, content="", base=None):
        """Create a file (and parents) owned by the identity."""
        root = Path(base) if base else self.ws
        p = root / rel
        parts = []
        d = p.parent
        while d != root and not d.exists():
            parts.append(d)
            d = d.parent
        p.parent.mkdir(parents=True, exist_ok=True)
        for d in parts:
            self.ident.chown(str(d))
        p.write_text(content)
        self.ident.chown(str(p))
        return p

    def mkdir(self, rel, base=None):
        root = Path(base) if base else self.ws
        p = root / rel
        todo = []
        d = p
        while d != root and not d.exists():
            todo.append(d)
            d = d.parent
        p.mkdir(parents=True, exist_ok=True)
        for d in todo:
            self.ident.chown(str(d))
        return p

    def cleanup(self):
        for p in self._procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    p.kill()
                except ProcessLookupError:
                    pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for f in (p.stdout, p.stderr, p.stdin):
                if f:
                    f.close()


@pytest.fixture
def sb(srt_bin, identity):
    base = Path(tempfile.mkdtemp(prefix="srt-e2e-", dir="/tmp"))
    os.chmod(base, 0o755)
    identity.chown(str(base))
    s = Sandbox(srt_bin, identity, base)
    home_settings = s.home / ".srt-settings.json"
    had_settings = home_settings.exists()
    try:
        yield s
    finally:
        s.cleanup()
        if identity.home and not had_settings and home_settings.exists():
            home_settings.unlink()
        shutil.rmtree(base, ignore_errors=True)


_GATE = {}


def gate_on(sb):
    """Does this srt run the creation gate (fsgate.h) for a writable
    workspace?  Then missing protected names get no stand-ins and a root
    without .git no private git directory: the tests of those paths run
    with the gate off (`make nons`: SRT_TEST_NO_FSGATE=1, a test build)."""
    if "on" not in _GATE:
        r = sb.run(["--settings", sb.write_settings({"filesystem": {"allowWrite": ["."]}}),
                    "--print-policy"], raw=True)
        _GATE["on"] = "creation gate: on" in r.stdout
    return _GATE["on"]


@pytest.fixture
def standins(sb):
    """Skip unless the gate is off (see gate_on)."""
    if gate_on(sb):
        pytest.skip("the creation gate replaces stand-ins here; `make nons` runs this "
                    "with the gate off (SRT_TEST_NO_FSGATE=1)")
    return sb


@pytest.fixture
def run(sb):
    return sb.run
