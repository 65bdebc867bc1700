"""The no-namespace mode (issue #9): where no user namespace can be used,
srt runs the command under Landlock, seccomp and its own gates alone.

On a host where user namespaces work, a test build (meson -Dtest_hooks=true,
the ASan build of `make asan`) takes SRT_TEST_NO_USERNS=1 to behave as if
none could be created; the container tests (tests/containers) run the mode
for real.  Every test here attacks a rule of the mode or checks that
ordinary work still runs, as root and as the unprivileged user.  The module
is skipped with a non-test build.
"""

import http.server
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from e2e_util import PY

HOOK = {"SRT_TEST_NO_USERNS": "1"}
KEY = {"enableWeakerNestedSandbox": True}


def settings(**kw):
    s = dict(KEY)
    s.setdefault("filesystem", {"allowWrite": ["."]})
    for k, v in kw.items():
        s[k] = v
    return s


@pytest.fixture(scope="module", autouse=True)
def test_build(srt_bin):
    env = dict(os.environ, **HOOK)
    r = subprocess.run([srt_bin, "--check"], capture_output=True, text=True, env=env, timeout=60)
    if "mode: no-namespace" not in r.stdout:
        pytest.skip("not a test build (SRT_TEST_NO_USERNS has no effect): " +
                    (r.stdout.splitlines() or ["?"])[-1])


def nrun(sb, cmd, s=None, **kw):
    env = dict(HOOK, **kw.pop("env", {}))
    return sb.run(cmd, settings=settings() if s is None else s, env=env, **kw)


class Origin:
    """A tiny HTTP origin on the host's 127.0.0.1."""

    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"hello from origin\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def test_mode_is_reported(sb):
    r = nrun(sb, "true", opts=["--debug"])
    assert r.returncode == 0, r
    assert "srt: mode: no-namespace" in r.stderr, r.stderr
    # every run says what the mode does not enforce
    assert "mandatory denies inside writable roots" in r.stderr, r.stderr


def test_without_the_key_srt_refuses_and_names_the_mode(sb):
    r = sb.run("echo RAN", settings={"filesystem": {"allowWrite": ["."]}}, env=HOOK)
    assert r.returncode == 125, r
    assert "RAN" not in r.stdout
    assert "enableWeakerNestedSandbox" in r.stderr, r.stderr
    assert "no-namespace mode" in r.stderr, r.stderr


def test_check_reports_the_mode(sb):
    r = sb.run(["--check"], raw=True, env=HOOK, timeout=60)
    assert "\nmode: no-namespace (needs" in r.stdout, r.stdout
    assert "a sandbox started in no-namespace mode" in r.stdout, r.stdout


def test_writes_only_in_writable_roots_and_tmpdir(sb):
    outside = sb.base / "outside.txt"
    outside.write_text("host\n")
    sb.ident.chown(str(outside))
    r = nrun(sb, "echo in > in.txt && cat in.txt && echo t > \"$TMPDIR/t\" && cat \"$TMPDIR/t\""
                 " && echo \"TMP=$TMPDIR\"; echo x >> ../outside.txt; echo rc=$?;"
                 " mkdir ../newdir; echo mk=$?; rm -f ../outside.txt; echo rm=$?")
    assert r.returncode == 0, r
    assert "in\nt\n" in r.stdout, r
    assert "rc=0" not in r.stdout and "mk=0" not in r.stdout and "rm=0" not in r.stdout, r
    assert outside.read_text() == "host\n"
    assert not (sb.base / "newdir").exists()
    tmp = [l for l in r.stdout.splitlines() if l.startswith("TMP=")][0][4:]
    assert tmp and not os.path.exists(tmp), "the private TMPDIR outlived the run: " + tmp


def test_metadata_outside_writable_roots_is_refused(sb):
    outside = sb.base / "meta.txt"
    outside.write_text("x")
    sb.ident.chown(str(outside))
    os.chmod(outside, 0o600)
    before = os.stat(outside)
    body = r"""
import os, sys
t = sys.argv[1]
res = {}
for name, f in [("chmod", lambda: os.chmod(t, 0o666)),
                ("utime", lambda: os.utime(t, (1, 1))),
                ("setxattr", lambda: os.setxattr(t, "user.srt", b"1")),
                ("fchmod", lambda: os.fchmod(os.open(t, os.O_RDONLY), 0o666)),
                ("chmod_in", lambda: (open("mine", "w").close(), os.chmod("mine", 0o700))),
                ("utime_in", lambda: os.utime("mine", (5, 5)))]:
    try:
        f(); res[name] = "ok"
    except OSError as e:
        res[name] = e.errno
print(res)
"""
    r = nrun(sb, [PY, "-c", body, str(outside)])
    assert r.returncode == 0, r
    res = eval(r.stdout.strip().splitlines()[-1])
    import errno
    for k in ("chmod", "utime", "setxattr", "fchmod"):
        assert res[k] == errno.EROFS, (k, res)
    assert res["chmod_in"] == "ok" and res["utime_in"] == "ok", res
    after = os.stat(outside)
    assert (after.st_mode, after.st_mtime_ns) == (before.st_mode, before.st_mtime_ns)
    assert oct((sb.ws / "mine").stat().st_mode & 0o777) == oct(0o700)


def test_deny_read(sb):
    secret = sb.base / "secret"
    secret.mkdir()
    (secret / "key").write_text("TOPSECRET\n")
    (sb.base / "public").write_text("public\n")
    for p in (secret, secret / "key", sb.base / "public"):
        sb.ident.chown(str(p))
    s = settings(filesystem={"allowWrite": ["."], "denyRead": [str(secret)]})
    r = nrun(sb, "cat ../secret/key; echo rc=$?; cat ../public", s=s)
    assert "TOPSECRET" not in r.stdout, r
    assert "public" in r.stdout, r


def test_deny_write_inside_a_writable_root_refuses_to_start(sb):
    s = settings(filesystem={"allowWrite": ["."], "denyWrite": ["./locked"]})
    (sb.ws / "locked").write_text("keep\n")
    r = nrun(sb, "echo RAN", s=s)
    assert r.returncode == 125, r
    assert "RAN" not in r.stdout
    assert "denyWrite" in r.stderr, r.stderr


def test_proxy_reaches_allowed_and_refuses_others(sb, origin):
    s = settings(network={"allowedDomains": ["127.0.0.1"]})
    url = "http://127.0.0.1:%d/" % origin.port
    # NO_PROXY names localhost: name the proxies explicitly
    c = "curl -sS --max-time 20 --noproxy '' "
    r = nrun(sb, c + "-x \"$HTTP_PROXY\" %s; " % url +
             c + "-x \"$HTTP_PROXY\" -o /dev/null -w '%{http_code}' http://example.invalid/; echo; " +
             c + "-x \"$ALL_PROXY\" %s" % url, s=s)
    assert r.stdout.count("hello from origin") == 2, r
    assert "403" in r.stdout, r


def test_direct_connections_udp_and_listening_fail(sb, origin):
    body = r"""
import socket, sys, errno
port = int(sys.argv[1])
res = {}
def t(name, f):
    try:
        f(); res[name] = "ok"
    except OSError as e:
        res[name] = e.errno
t("tcp", lambda: socket.create_connection(("127.0.0.1", port), timeout=5))
t("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
t("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, 1))
def listen():
    s = socket.socket(); s.listen(1)
t("listen", listen)
def bind():
    s = socket.socket(); s.bind(("127.0.0.1", 0))
t("bind", bind)
t("vsock", lambda: socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM))
t("unix", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
print(res)
"""
    r = nrun(sb, [PY, "-c", body, str(origin.port)])
    assert r.returncode == 0, r
    res = eval(r.stdout.strip().splitlines()[-1])
    for k, v in res.items():
        assert v != "ok", (k, res)


def test_proxy_is_not_usable_by_other_local_processes(sb, origin):
    """The run's proxies listen on the host's loopback: a process outside
    the sandbox that connects to them gets nothing."""
    s = settings(network={"allowedDomains": ["127.0.0.1"]})
    p = sb.popen("echo $HTTP_PROXY; sleep 30", settings=s, env=HOOK)
    try:
        line = p.stdout.readline().decode().strip()
        assert line.startswith("http://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1])
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.settimeout(5)
        c.sendall(b"GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % origin.port)
        try:
            data = c.recv(4096)
        except (ConnectionResetError, socket.timeout):
            data = b""
        assert b"hello from origin" not in data and not data.startswith(b"HTTP/"), data
    finally:
        p.kill()
        p.wait()


def test_outside_processes_cannot_be_signalled(sb):
    victim = subprocess.Popen(sb.ident.wrap(["sleep", "60"], sb.env()))
    try:
        r = nrun(sb, "kill -TERM %d; echo rc=$?; kill -TERM $PPID; echo pp=$?; "
                     "renice -n 19 -p %d >/dev/null 2>&1; echo nice=$?; "
                     "prlimit --nofile=3 --pid %d 2>/dev/null; echo lim=$?; "
                     "taskset -p 1 %d >/dev/null 2>&1; echo aff=$?"
                 % (victim.pid, victim.pid, victim.pid, victim.pid))
        for k in ("rc", "pp", "nice", "lim", "aff"):
            assert "%s=0" % k not in r.stdout, r
        assert os.getpriority(os.PRIO_PROCESS, victim.pid) == 0
        with open("/proc/%d/limits" % victim.pid) as f:
            nofile = [l for l in f if l.startswith("Max open files")][0].split()
        assert int(nofile[3]) > 3, nofile
        time.sleep(0.3)
        assert victim.poll() is None, "the sandbox killed a process outside"
    finally:
        victim.kill()
        victim.wait()


def test_nothing_outlives_the_run(sb):
    marker = "srt-nons-%d" % os.getpid()
    r = nrun(sb, "(setsid sh -c 'sleep 300; : %s' &) ; sleep 0.2; echo started" % marker)
    assert "started" in r.stdout, r
    time.sleep(0.5)
    ps = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    assert ps.stdout.strip() == "", "left running: " + ps.stdout


def test_ordinary_work(sb):
    r = nrun(sb, "git init -q . && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m x "
                 "&& git log --oneline | wc -l && %s -c 'print(6*7)'" % PY)
    assert r.returncode == 0, r
    assert "1\n42" in r.stdout, r


def test_a_forking_orphan_does_not_outlive_the_run(sb):
    marker = "srt-nons-fork-%d" % os.getpid()
    r = nrun(sb, "(setsid sh -c 'while :; do (sleep 300; : %s) & sleep 0.01; done' &) ;"
                 " sleep 0.3; echo started" % marker, timeout=60)
    assert "started" in r.stdout, r
    time.sleep(0.5)
    ps = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    assert ps.stdout.strip() == "", "left running: " + ps.stdout


def test_cannot_join_a_process_group_outside(sb):
    """Without a PID namespace the caller's groups are visible: joining the
    shell's foreground group would let a background command read what the
    user types.  Only groups of one's own."""
    body = r"""
import os
init = os.getppid()
with open("/proc/%d/stat" % init) as f:
    srt = int(f.read().rsplit(")", 1)[1].split()[1])
target = os.getpgid(srt)
try:
    os.setpgid(0, target); print("JOINED", target)
except OSError as e:
    print("refused", e.errno)
os.setpgid(0, 0); print("own", os.getpgid(0) == os.getpid())
"""
    r = nrun(sb, [PY, "-c", body])
    assert r.returncode == 0, r
    assert "JOINED" not in r.stdout and "refused 1" in r.stdout, r
    assert "own True" in r.stdout, r


def test_inode_ioctls_outside_are_refused(sb):
    outside = sb.base / "gen.txt"
    outside.write_text("x")
    sb.ident.chown(str(outside))
    body = r"""
import fcntl, os, struct, sys
FS_IOC_SETVERSION = 0x40087602
FS_IOC_SETFLAGS = 0x40086602
fd = os.open(sys.argv[1], os.O_RDONLY)
for name, req in (("setversion", FS_IOC_SETVERSION), ("setflags", FS_IOC_SETFLAGS)):
    try:
        fcntl.ioctl(fd, req, struct.pack("l", 0)); print(name, "ok")
    except OSError as e:
        print(name, e.errno)
"""
    r = nrun(sb, [PY, "-c", body, str(outside)])
    assert r.returncode == 0, r
    assert "setversion 1\n" in r.stdout and "setflags 1\n" in r.stdout, r


def test_settings_file_inside_a_writable_root_refuses_to_start(sb):
    """Nothing could keep it read-only there: the command could widen the
    policy of later runs."""
    p = sb.ws / "srt.json"
    p.write_text(json.dumps(settings()))
    sb.ident.chown(str(p))
    r = sb.run(["--settings", str(p), "--", "echo", "RAN"], raw=True, env=HOOK)
    assert r.returncode == 125, r
    assert "RAN" not in r.stdout
    assert "settings file" in r.stderr, r.stderr


def test_filesystem_disabled_works_without_namespaces(sb):
    """filesystem.disabled: Landlock grants everything on "/" (no
    filesystem rules), the settings file's protection cannot be held here
    and is named in a warning instead of refusing the run (the command can
    write every startup file anyway); the network is still srt's."""
    secret = sb.base / "secret"
    secret.write_text("TOPSECRET\n")
    sb.ident.chown(str(secret))
    s = dict(KEY, filesystem={"disabled": True, "denyRead": [str(secret)]})
    r = nrun(sb, "cat ../secret; echo w > ../outside && echo WROTE; "
                 "curl -sS --max-time 10 --noproxy '' -x \"$HTTP_PROXY\" -o /dev/null "
                 "-w '%{http_code}\\n' http://unlisted.example/", s=s)
    assert r.returncode == 0, r
    assert "TOPSECRET" in r.stdout and "WROTE" in r.stdout, r
    assert r.stdout.splitlines()[-1] == "403", r
    assert (sb.base / "outside").read_text() == "w\n"
    assert "filesystem.disabled: the filesystem is unrestricted" in r.stderr, r.stderr
    assert "settings file" in r.stderr or "and more" in r.stderr, r.stderr


def test_host_proxy_port_variables(sb):
    """Here the proxies listen on the host's loopback: the reference's
    CLAUDE_CODE_HOST_*_PROXY_PORT name those ports."""
    r = nrun(sb, ["env"])
    env = dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)
    hp = env["HTTP_PROXY"].rsplit(":", 1)[1]
    sp = env["FTP_PROXY"].rsplit(":", 1)[1]
    assert env["CLAUDE_CODE_HOST_HTTP_PROXY_PORT"] == hp, env
    assert env["CLAUDE_CODE_HOST_SOCKS_PROXY_PORT"] == sp, env
    assert env["ALL_PROXY"] == env["HTTP_PROXY"], env
