"""srt --control-fd N: settings updates while the command runs, one
complete settings object per line (the reference 0.0.83's channel).  An
accepted line replaces the network lists for the next connection; an
invalid one is reported and dropped, the previous config staying; nothing
else a line says is applied (srt warns); the command never gets the
descriptor; srt exits with the command, and end of input is not an error.

The command inside waits for marker files the test creates in the
workspace, so that each step is checked after srt has handled a line."""
import http.server
import json
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from e2e_util import read_until

KEPT = b"ignored; the previous config stays in force"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


@pytest.fixture
def origin():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def settings(allowed=(), **fs):
    return {"network": {"allowedDomains": list(allowed)},
            "filesystem": {"allowWrite": ["."], **fs}}


def line(obj):
    import json
    return (json.dumps(obj) + "\n").encode()


# the command's helpers: the status of a request to the origin; wait for a
# marker file; repeat a request until it has the wanted status (bounded)
HELPERS = r"""
code() { curl -s --noproxy '' --max-time 10 -x http://127.0.0.1:3128 -o /dev/null \
         -w '%%{http_code}' http://127.0.0.1:%d/; }
wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; }
until_code() { i=0; while [ "$(code)" != "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
               echo "$2 $(code)"; }
"""


class Run:
    """srt in the background with a control pipe; its output read as it
    comes."""

    def __init__(self, sb, script, start, pipe=None, opts=()):
        self.sb = sb
        if pipe is None:
            pipe = os.pipe()
        self.r, self.w = pipe
        self.p = sb.popen(script, settings=start, pass_fds=(self.r,),
                          opts=["--control-fd", str(self.r)] + list(opts))
        os.close(self.r)
        self.out = b""
        self.err = b""

    def send(self, data):
        if isinstance(self.w, socket.socket):
            self.w.sendall(data)
        else:
            os.write(self.w, data)

    def close(self):
        if isinstance(self.w, socket.socket):
            self.w.close()
        else:
            os.close(self.w)

    def stdout_has(self, token, timeout=40):
        ok, self.out = read_until(self.p.stdout.fileno(), token, timeout, self.out)
        assert ok, (token, self.out, self.err)

    def stderr_has(self, token, timeout=20):
        ok, self.err = read_until(self.p.stderr.fileno(), token, timeout, self.err)
        assert ok, (token, self.out, self.err)

    def step(self, name):
        self.sb.mkfile(name)

    def finish(self, timeout=40):
        rc = self.p.wait(timeout=timeout)
        self.out += self.p.stdout.read()
        self.err += self.p.stderr.read()
        return rc


def test_updates_allow_deny_and_keep_the_rest(sb, origin):
    outside = sb.base / "outside"
    outside.mkdir()
    sb.ident.chown(str(outside))
    script = HELPERS % origin + r"""
echo "start $(code)"
until_code 200 allowed
wait_for step-invalid; echo "after-invalid $(code)"
wait_for step-widen
{ echo x > %s/planted; } 2>/dev/null && echo "widen-write ok" || echo "widen-write refused"
echo "after-widen $(code)"
until_code 403 denied
wait_for step-eof; echo "after-eof $(code)"
""" % outside
    run = Run(sb, script, settings())
    run.stdout_has(b"start 403\n")
    allow = settings(["127.0.0.1:%d" % origin])
    # CRLF and blank lines: one update, nothing said
    run.send(line(allow)[:-1] + b"\r\n\n  \t\n")
    run.stdout_has(b"allowed 200\n")
    # not JSON, a patch, an invalid value: each said, none applied (had one
    # been read as "back to the defaults", the origin would be refused)
    run.send(b"garbage\n")
    run.send(line({"network": {"allowedDomains": []}}))
    run.send(line({"network": {"allowedDomains": ["*"]}, "filesystem": {}}))
    run.stderr_has(b"line 6: ")
    run.step("step-invalid")
    run.stdout_has(b"after-invalid 200\n")
    # a line that would also open the whole file system for writing: the
    # network half is applied, the rest stays as started, and srt says so
    run.send(line({**allow, "filesystem": {"allowWrite": ["/", "."]}}))
    run.stderr_has(b"filesystem.allowWrite cannot change while the command runs")
    run.step("step-widen")
    run.stdout_has(b"after-widen 200\n")
    assert b"widen-write refused\n" in run.out, run.out
    assert not (outside / "planted").exists()
    run.send(line(settings()))
    run.stdout_has(b"denied 403\n")
    # end of input: not an error, the command runs on under the last config
    run.close()
    run.step("step-eof")
    assert run.finish() == 0, (run.out, run.err)
    assert b"after-eof 403\n" in run.out, run.out
    err = run.err.decode()
    assert err.count("ignored; the previous config stays in force") == 3, err
    # every line counts, blank ones too; only the bad ones are reported
    for n in (1, 2, 3):
        assert "line %d:" % n not in err, err
    assert "control fd %d, line 4, column 7: invalid token near 'garbage'" % run.r in err, err
    assert "line 5: \"filesystem\" is missing" in err, err
    assert "line 6: network.allowedDomains[0]" in err, err
    assert "srt: warning: control fd %d, line 7: network lists applied" % run.r in err, err


def test_overlong_line_is_refused_and_skipped(sb, origin):
    script = HELPERS % origin + r"""
echo "start $(code)"
wait_for step-long; echo "after-long $(code)"
until_code 200 allowed
"""
    run = Run(sb, script, settings())
    run.stdout_has(b"start 403\n")
    # a valid line of 1.5 MiB that would allow the origin, were it read
    # (its bulk: denyRead entries), then a good line
    allow = settings(["127.0.0.1:%d" % origin])
    huge = line({**allow, "filesystem": {
        "allowWrite": ["."], "denyRead": ["/nonexistent-srt/%0200d" % i for i in range(7500)]}})
    assert len(huge) > 3 << 19
    threading.Thread(target=run.send, args=(huge,), daemon=True).start()
    run.stderr_has(b"longer than 1048576 bytes")
    run.step("step-long")
    run.stdout_has(b"after-long 403\n")
    run.send(line(allow))
    run.stdout_has(b"allowed 200\n")
    assert run.finish() == 0
    err = run.err.decode()
    assert err.count("longer than 1048576 bytes") == 1, err
    assert "line 1: longer than" in err and "line 2" not in err, err


def test_socket_as_control_channel(sb, origin):
    a, b = socket.socketpair()
    script = HELPERS % origin + "echo \"start $(code)\"; until_code 200 allowed\n"
    run = Run(sb, script, settings(), pipe=(a.fileno(), b))
    a.detach()
    run.stdout_has(b"start 403\n")
    run.send(line(settings(["127.0.0.1:%d" % origin])))
    run.stdout_has(b"allowed 200\n")
    assert run.finish() == 0, run.err
    run.close()


def test_srt_exits_with_the_command_not_with_the_writer(sb):
    r, w = os.pipe()
    t0 = time.monotonic()
    p = sb.popen(["true"], settings=settings(), pass_fds=(r,), opts=["--control-fd", str(r)])
    os.close(r)
    try:
        assert p.wait(timeout=20) == 0   # the write end is still open here
    finally:
        os.close(w)
    assert time.monotonic() - t0 < 20


def test_command_cannot_reach_the_control_fd(sb, origin):
    """The descriptor is closed in the command, and no process of the
    sandbox holds it where the command could reach it (/proc/*/fd): it
    cannot read the updates, nor take them away from srt."""
    r, w = os.pipe()
    ino = os.fstat(r).st_ino
    script = HELPERS % origin + r"""
echo "fd-open $([ -e /proc/self/fd/%d ] && echo yes || echo no)"
found=0
for f in /proc/[0-9]*/fd/* /proc/[0-9]*/task/*/fd/*; do
    case "$(readlink "$f" 2>/dev/null)" in "pipe:[%d]") found=1; echo "reaches $f";; esac
    # reading it through the magic link would take srt's updates
    timeout 1 cat "$f" 2>/dev/null </dev/null | head -c 64 | grep -q allowedDomains && echo "read-update $f"
done
echo "scan-done $found"
wait_for step-read; echo "after $(code)"
""" % (r, ino)
    run = Run(sb, script, settings(), pipe=(r, w))
    # an update already waiting in the channel while the command scans
    run.send(line(settings(["127.0.0.1:%d" % origin])))
    run.stdout_has(b"scan-done")
    run.step("step-read")
    assert run.finish() == 0, run.err
    assert b"fd-open no\n" in run.out, run.out
    assert b"reaches" not in run.out and b"read-update" not in run.out, run.out
    assert b"scan-done 0\n" in run.out, run.out
    # srt, not the command, read the update
    assert b"after 200\n" in run.out, (run.out, run.err)
    run.close()


@pytest.mark.parametrize("arg", ["0", "2", "-1", "3x", " 5", "0x10", ""])
def test_bad_descriptor_numbers_are_refused(sb, arg):
    r = sb.run(["echo", "RAN"], settings=settings(), opts=["--control-fd", arg])
    assert r.returncode == 125, r
    assert "RAN" not in r.stdout
    assert r.stderr.startswith("srt: --control-fd needs a descriptor number of 3 or more"), r


def test_unusable_descriptors_are_refused_before_running(sb):
    marker = sb.ws / "ran"
    cmd = ["sh", "-c", "echo RAN; : > ran"]
    # not open
    r = sb.run(cmd, settings=settings(), opts=["--control-fd", "61"])
    assert r.returncode == 125 and "RAN" not in r.stdout, r
    assert "--control-fd 61 is not usable: Bad file descriptor" in r.stderr, r
    # a write-only end, and a directory: open, but nothing to read
    pr, pw = os.pipe()
    d = os.open(str(sb.ws), os.O_RDONLY | os.O_DIRECTORY)
    try:
        for fd, why in ((pw, "Bad file descriptor"), (d, "Is a directory")):
            p = sb.popen(cmd, settings=settings(), pass_fds=(fd,),
                         opts=["--control-fd", str(fd)])
            out, err = p.communicate(timeout=30)
            assert p.returncode == 125 and b"RAN" not in out, (out, err)
            assert ("--control-fd %d is not usable: %s" % (fd, why)).encode() in err, err
    finally:
        for fd in (pr, pw, d):
            os.close(fd)
    # the same number for --pass-fd: never given to the command
    r2, w2 = os.pipe()
    try:
        p = sb.popen(cmd, settings=settings(), pass_fds=(r2,),
                     opts=["--control-fd", str(r2), "--pass-fd", str(r2)])
        out, err = p.communicate(timeout=30)
        assert p.returncode == 125 and b"RAN" not in out, (out, err)
        assert b"cannot be both --control-fd and --pass-fd" in err, err
    finally:
        os.close(r2)
        os.close(w2)
    assert not marker.exists()


def test_channel_dead_before_any_update_stops_the_command(sb):
    """A read error before a single line came through (a TCP reset here):
    the caller's updates go nowhere, so the command is stopped and srt
    fails.  (End of input is not such an error.)"""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    cli = socket.create_connection(srv.getsockname())
    conn, _ = srv.accept()
    srv.close()
    p = sb.popen(["sleep", "60"], settings=settings(), pass_fds=(cli.fileno(),),
                 opts=["--control-fd", str(cli.fileno())])
    cli.close()
    time.sleep(0.5)
    # SO_LINGER 0: close sends a reset; srt's read gets ECONNRESET
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    t0 = time.monotonic()
    out, err = p.communicate(timeout=30)
    assert p.returncode == 125, (out, err)
    assert time.monotonic() - t0 < 15
    assert b"failed before delivering an update: Connection reset by peer" in err, err


def test_no_namespace_mode(sb, origin):
    """The same in the no-namespace mode (a test-hooks build): an update
    applies, and the command, a process of the host's PID namespace there,
    reaches no copy of the descriptor (srt's, init's) through /proc."""
    hook = {"SRT_TEST_NO_USERNS": "1"}
    chk = subprocess.run([sb.srt, "--check"], capture_output=True, text=True,
                         env=dict(os.environ, **hook), timeout=60)
    if "mode: no-namespace" not in chk.stdout:
        pytest.skip("not a test-hooks build: SRT_TEST_NO_USERNS has no effect")
    r, w = os.pipe()
    ino = os.fstat(r).st_ino
    script = (HELPERS % origin).replace("http://127.0.0.1:3128", '"$HTTP_PROXY"') + r"""
echo "start $(code)"
echo "fd-open $([ -e /proc/self/fd/%d ] && echo yes || echo no)"
for f in /proc/[0-9]*/fd/*; do
    case "$(readlink "$f" 2>/dev/null)" in "pipe:[%d]") echo "reaches $f";; esac
done
echo scan-done
until_code 200 allowed
""" % (r, ino)
    start = dict(settings(), enableWeakerNestedSandbox=True)
    p = sb.popen(script, settings=start, pass_fds=(r,), env=hook,
                 opts=["--control-fd", str(r)])
    os.close(r)
    try:
        ok, out = read_until(p.stdout.fileno(), b"scan-done", 60)
        assert ok and b"start 403\n" in out, out
        os.write(w, line(dict(settings(["127.0.0.1:%d" % origin]), enableWeakerNestedSandbox=True)))
        ok, out = read_until(p.stdout.fileno(), b"allowed 200\n", 40, out)
        assert ok, (out, p.stderr.read1() if hasattr(p.stderr, "read1") else b"")
    finally:
        os.close(w)
    assert p.wait(timeout=30) == 0
    assert b"fd-open no\n" in out and b"reaches" not in out, out


def test_a_named_fifo_is_refused(sb, origin):
    """Red team: a control fd that is a named FIFO can be opened for writing
    by whoever reaches its path, the command included (here in its
    workspace; a read-only mount does not refuse a FIFO's writer).  Before
    the rule the command wrote an update into it that allowed the origin,
    and reached it."""
    fifo = sb.ws / "ctl"
    os.mkfifo(str(fifo))
    sb.ident.chown(str(fifo))
    # opened here, read end and a write end held so that srt sees no EOF
    r = os.open(str(fifo), os.O_RDONLY | os.O_NONBLOCK)
    w = os.open(str(fifo), os.O_WRONLY)
    try:
        update = json.dumps(settings(["127.0.0.1"])).replace('"', '\\"')
        script = HELPERS % origin + r"""
echo "before $(code)"
echo "%s" > ctl
until_code 200 after
""" % update
        run = Run(sb, script, settings(), pipe=(r, w))
        rc = run.finish(timeout=60)
        assert b"after 200" not in run.out, (run.out, run.err)
        assert rc == 125 and b"is a named FIFO" in run.err, (rc, run.out, run.err)
    finally:
        os.close(w)


def test_a_file_is_read_as_it_was_given(sb, origin):
    """Red team: a control fd that is a regular file the command can write
    (here in its workspace) was read only once the command ran: a line it
    appended before srt reached the end was applied as the caller's.  The
    file starts with many blank lines so that srt is still reading when the
    command appends (blank lines are ignored)."""
    f = sb.ws / "updates.jsonl"
    f.write_bytes(b"\n" * (8 << 20) + line(settings()))
    sb.ident.chown(str(f))
    update = json.dumps(settings(["127.0.0.1"])).replace('"', '\\"')
    script = HELPERS % origin + r"""
echo "%s" >> updates.jsonl
i=0; while [ "$(code)" != 200 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
echo "after $(code)"
""" % update
    fd = os.open(str(f), os.O_RDONLY)
    p = sb.popen(script, settings=settings(), pass_fds=(fd,), opts=["--control-fd", str(fd)])
    os.close(fd)
    out, err = p.communicate(timeout=90)
    assert b"after 200" not in out, (out, err)
    assert b"after 403" in out, (out, err)
