"""Issue 8, rules 5 and 6: socket families are an allowlist, and the command
cannot signal or take over anything outside the sandbox (SPEC §2, §5, §6).

Rule 6 on this kernel: Landlock ABI >= 6 also scopes signals, so the
kill(0, ...) tests show the process-group isolation alone only with a build
whose Landlock is capped below 6 (`meson setup B -Dlandlock_max_abi=5`, as
the ASan build of `make test` is); they pass either way.  The terminal tests
do not depend on Landlock (it does not scope ioctls)."""

import fcntl
import os
import signal
import subprocess
import termios
import time

import pytest

from e2e_util import PY, read_until

UNIX_MODES = {
    "default": None,
    "allowAllUnixSockets": {"network": {"allowAllUnixSockets": True}},
    "allowUnixSockets": {"network": {"allowUnixSockets": ["/nonexistent.sock"]}},
}

# ===================== rule 5: socket families =============================

FAMILY_PROBE = r"""
import socket, sys
out = []
for name, fam, typ, proto in [
        ("AF_VSOCK", 40, socket.SOCK_STREAM, 0),
        ("AF_VSOCK_DGRAM", 40, socket.SOCK_DGRAM, 0),
        ("AF_PACKET", 17, socket.SOCK_RAW, 0),
        ("AF_ALG", 38, socket.SOCK_SEQPACKET, 0),
        ("AF_BLUETOOTH", 31, socket.SOCK_STREAM, 0),
        ("AF_XDP", 44, socket.SOCK_RAW, 0),
        ("AF_KEY", 15, socket.SOCK_RAW, 2),
        ("AF_TIPC", 30, socket.SOCK_RDM, 0),
        ("AF_UNSPEC", 0, socket.SOCK_STREAM, 0),
        ("FAMILY_99", 99, socket.SOCK_STREAM, 0),
        ("NETLINK_AUDIT", 16, socket.SOCK_RAW, 9),
        ("NETLINK_CONNECTOR", 16, socket.SOCK_RAW, 11),
        ("NETLINK_CRYPTO", 16, socket.SOCK_RAW, 21),
        ("NETLINK_ROUTE", 16, socket.SOCK_RAW, 0),
        ("AF_INET", 2, socket.SOCK_STREAM, 0),
        ("AF_INET6", 10, socket.SOCK_DGRAM, 0)]:
    try:
        socket.socket(fam, typ, proto).close()
        out.append(name + "=ok")
    except OSError as e:
        out.append("%s=%d" % (name, e.errno))
try:
    socket.socketpair(40, socket.SOCK_STREAM)
    out.append("PAIR_VSOCK=ok")
except OSError as e:
    out.append("PAIR_VSOCK=%d" % e.errno)
print(" ".join(out))
"""

REFUSED = ["AF_VSOCK", "AF_VSOCK_DGRAM", "AF_PACKET", "AF_ALG", "AF_BLUETOOTH",
           "AF_XDP", "AF_KEY", "AF_TIPC", "AF_UNSPEC", "FAMILY_99",
           "NETLINK_AUDIT", "NETLINK_CONNECTOR", "NETLINK_CRYPTO", "PAIR_VSOCK"]


@pytest.mark.parametrize("mode", sorted(UNIX_MODES))
def test_socket_families_outside_the_allowlist_are_refused(sb, mode):
    r = sb.run([PY, "-c", FAMILY_PROBE], settings=UNIX_MODES[mode])
    assert r.returncode == 0, r
    got = dict(kv.split("=") for kv in r.stdout.split())
    wrong = {k: got[k] for k in REFUSED if got[k] != "1"}   # 1 = EPERM
    assert wrong == {}, got
    for k in ("NETLINK_ROUTE", "AF_INET", "AF_INET6"):
        assert got[k] == "ok", got


def test_getaddrinfo_and_interfaces_still_work(sb):
    # AI_ADDRCONFIG and if_nameindex ask NETLINK_ROUTE
    r = sb.run([PY, "-c", "import socket; print(socket.if_nameindex()); "
                "print(socket.getaddrinfo('localhost', 80, "
                "flags=socket.AI_ADDRCONFIG)[0][4])"])
    assert r.returncode == 0, r
    assert "'lo'" in r.stdout, r


# ===================== rule 6: signals =====================================

KILL_SELF_GROUP = r"""
import os, signal, sys
sig = int(sys.argv[1])
if sig == -1:
    try:
        os.kill(-1, signal.SIGKILL)      # every process of the PID namespace
    except ProcessLookupError:           # but itself and init: none here
        pass
    print("after-kill-all", flush=True)
else:
    os.kill(0, sig)                      # the caller's whole process group
    print("after-kill-%d" % sig, flush=True)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGSTOP, -1],
                         ids=["TERM", "KILL", "STOP", "kill-1"])
def test_kill_own_group_reaches_only_the_sandbox(sb, sig):
    """A host shell shares srt's process group (no job control: `sh -c`),
    as a script or launcher does.  kill(0, SIG) from the command must reach
    neither; srt reports the command's own end.  SIGSTOP: the command stops
    itself, srt (in an orphaned group: nobody to give a terminal back to)
    resumes it."""
    sb.mkfile("k.py", KILL_SELF_GROUP)
    script = ('"$SRT" -- %s k.py %d; echo "srt-exit=$?"; echo survived-$((40+2))'
              % (PY, sig))
    p = sb.host_popen(["sh", "-c", script], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE)
    p_env_note = ""
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate(timeout=10)
        p_env_note = " (timed out: the sandbox was left stopped)"
    text = out.decode(errors="replace")
    assert "survived-42" in text, (p.returncode, text, err, p_env_note)
    if sig in (signal.SIGTERM, signal.SIGKILL):
        assert "srt-exit=%d" % (128 + sig) in text, text
    else:
        assert "srt-exit=0" in text, (text, err)


@pytest.fixture(autouse=True)
def _srt_in_env(sb, monkeypatch):
    """host_popen runs with sb.env(): put srt's path in it as $SRT."""
    orig = sb.env

    def env(extra=None):
        e = orig(extra)
        e.setdefault("SRT", sb.srt)
        return e
    monkeypatch.setattr(sb, "env", env)


REACH_OUT = r"""
import ctypes, errno, fcntl, os, signal, sys
pg = int(sys.argv[1])
res = []
def attempt(name, f):
    try:
        f()
        res.append(name + "=ok")
    except OSError as e:
        res.append("%s=%s" % (name, errno.errorcode[e.errno]))
attempt("killpg", lambda: os.killpg(pg, signal.SIGTERM))
attempt("kill-neg", lambda: os.kill(-pg, signal.SIGTERM))
attempt("kill-pid", lambda: os.kill(pg, signal.SIGTERM))
r, w = os.pipe()
attempt("setown", lambda: fcntl.fcntl(r, fcntl.F_SETOWN, -pg))
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def pidfd():
    if libc.syscall(434, pg, 0) < 0:
        raise OSError(ctypes.get_errno(), "pidfd_open")
attempt("pidfd_open", pidfd)
print(" ".join(res))
"""


def test_outside_group_unreachable_by_number(sb):
    """killpg/kill(-N)/kill(N)/F_SETOWN/pidfd_open name the host shell's
    group by its number: none reaches it (not in the PID namespace)."""
    sb.mkfile("r.py", REACH_OUT)
    script = ('"$SRT" -- %s r.py $$; echo survived-$((40+2))' % PY)
    p = sb.host_popen(["sh", "-c", script], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=30)
    text = out.decode(errors="replace")
    assert "survived-42" in text, (text, err)
    got = dict(kv.split("=") for kv in text.split("\n")[0].split())
    assert got == {k: "ESRCH" for k in
                   ("killpg", "kill-neg", "kill-pid", "setown", "pidfd_open")}, got


# ===================== rule 6: the terminal =================================

def _kill_session(sid):
    """SIGKILL every process of session `sid` (the pty shell's): a job in
    a process group of its own would survive a killpg of the shell."""
    for e in os.listdir("/proc")[:100000]:
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:
                os.kill(int(e), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass


def _pty_shell(sb):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")

    def make_ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    full = sb.ident.wrap(["bash", "--norc", "--noprofile", "-i"],
                         sb.env({"PS1": "E2E$ ", "TERM": "dumb"}))
    p = subprocess.Popen(full, cwd=str(sb.ws), stdin=slave, stdout=slave,
                         stderr=slave, start_new_session=True,
                         preexec_fn=make_ctty)
    sb._procs.append(p)
    os.close(slave)
    ok, out = read_until(master, b"E2E$ ", 15)
    assert ok, out
    return p, master, out


STEAL = r"""
import os, signal
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
signal.signal(signal.SIGTTIN, signal.SIG_IGN)
try:
    os.tcsetpgrp(0, os.getpgrp())
    r = "took"
except OSError as e:
    r = str(e.errno)
print("SET" + "PGRP:" + r, flush=True)
try:
    d = os.read(0, 200)
    print("RE" + "AD:" + repr(d), flush=True)
except OSError as e:
    print("RE" + "AD-ERR:%d" % e.errno, flush=True)
"""


def test_background_sandbox_cannot_take_the_terminal(sb):
    """`srt agent &`: the command ignores SIGTTOU, makes itself the
    terminal's foreground group, and reads what the user types next."""
    sb.mkfile("steal.py", STEAL)
    p, m, out = _pty_shell(sb)
    try:
        os.write(m, b'"$SRT" -- %s steal.py &\n' % PY.encode())
        ok, out = read_until(m, b"SETPGRP:", 15, out)
        assert ok, out
        ok, out = read_until(m, b"\n", 5, out[out.index(b"SETPGRP:"):])
        time.sleep(0.5)
        os.write(m, b"echo shell-alive-$((6*7))\n")
        ok, out = read_until(m, b"shell-alive-42", 10, out)
        text = out.decode(errors="replace")
        assert ok, text
        assert "SETPGRP:1" in text, text          # EPERM
        assert "READ:" not in text, text          # it read the user's line
        os.write(m, b"wait; exit 3\n")
        assert p.wait(timeout=15) == 3
    finally:
        _kill_session(p.pid)
        os.close(m)


def test_ctrl_z_kill_tstp_0_gives_the_shell_back_and_fg_resumes(sb):
    """vim's ^Z: kill(0, SIGTSTP) from the command.  The shell gets the
    terminal back (the job shows Stopped), `fg` resumes it."""
    p, m, out = _pty_shell(sb)
    try:
        os.write(m, b"\"$SRT\" -- sh -c 'kill -TSTP 0; echo resumed-$((40+2))'\n")
        ok, out = read_until(m, b"Stopped", 15, out)
        assert ok, out
        os.write(m, b"echo prompt-$((1+1))\n")
        ok, out = read_until(m, b"prompt-2", 10, out)
        assert ok, out
        os.write(m, b"fg\n")
        ok, out = read_until(m, b"resumed-42", 15, out)
        assert ok, out
        os.write(m, b"echo rc=$?-done\n")
        ok, out = read_until(m, b"rc=0-done", 10, out)
        assert ok, out
        os.write(m, b"exit 4\n")
        assert p.wait(timeout=15) == 4
    finally:
        _kill_session(p.pid)
        os.close(m)


def test_terminal_ctrl_z_fg_and_ctrl_c_reach_the_command(sb):
    p, m, out = _pty_shell(sb)
    try:
        os.write(m, b'"$SRT" -- sleep 100\n')
        time.sleep(1.0)
        os.write(m, b"\x1a")                      # ^Z
        ok, out = read_until(m, b"Stopped", 15, out)
        assert ok, out
        os.write(m, b"jobs -l; fg\n")
        ok, out = read_until(m, b"sleep 100", 10, out[out.index(b"Stopped"):])
        assert ok, out
        time.sleep(1.0)
        os.write(m, b"\x03")                      # ^C
        os.write(m, b"echo rc=$?-$((1+1))\n")
        ok, out = read_until(m, b"rc=130-2", 15, out)
        assert ok, out
        os.write(m, b"exit 5\n")
        assert p.wait(timeout=15) == 5
    finally:
        _kill_session(p.pid)
        os.close(m)


def test_background_read_stops_and_fg_hands_the_terminal_over(sb):
    """A background sandbox that reads the terminal stops (as any job does);
    `fg` gives it the terminal, and it reads the line typed then."""
    p, m, out = _pty_shell(sb)
    try:
        os.write(m, b"\"$SRT\" -- %s -c 'print(\"got-\" + input())' &\n"
                 % PY.encode())
        time.sleep(1.5)
        os.write(m, b"jobs\n")
        ok, out = read_until(m, b"Stopped", 15, out)
        assert ok, out
        os.write(m, b"fg\n")
        time.sleep(1.0)
        os.write(m, b"hello\n")
        ok, out = read_until(m, b"got-hello", 15, out)
        assert ok, out
        os.write(m, b"exit 6\n")
        assert p.wait(timeout=15) == 6
    finally:
        _kill_session(p.pid)
        os.close(m)
