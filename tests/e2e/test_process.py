"""Processes and the kernel boundary: namespaces, capabilities, seccomp,
/proc/sys, network isolation, signals, lifetime, concurrency and an
interactive shell (SPEC §2, §5 first bullet, §6)."""

import fcntl
import json
import os
import random
import signal
import socket
import subprocess
import termios
import time

import pytest

from e2e_util import PY, wait_until, pgrep, pid_alive, read_until

WRITE_WS = {"filesystem": {"allowWrite": ["."]}}
EPERM_TEXT = "Operation not permitted"


def unique_sleep():
    """A sleep duration nobody else on the host is likely to use."""
    return "%d.%03d" % (random.randint(100000, 999999), random.randint(1, 999))


# ===================== namespaces and privileged operations ================

def test_mount_tool_fails(sb):
    r = sb.run("mount -t tmpfs none /mnt")
    assert r.returncode != 0
    assert "/mnt" in r.stderr


def test_umount_policy_mount_fails(sb):
    sb.mkfile(".bashrc", "original\n")
    sb.mkfile("secret/k", "K\n")
    settings = {"filesystem": {"allowWrite": ["."], "denyRead": ["secret"]}}
    r = sb.run("umount .bashrc; umount -l .bashrc; umount -l secret; "
               "umount -l /; echo pwned >> .bashrc; cat secret/k",
               settings=settings)
    assert "K" not in r.stdout
    # the protected file's mount refuses (EROFS), or the creation gate
    # refuses its name first (EACCES)
    assert "Read-only file system" in r.stderr or "Permission denied" in r.stderr, r.stderr
    assert (sb.ws / ".bashrc").read_text() == "original\n"


@pytest.mark.parametrize("cmd", [["unshare", "-Ur", "true"],
                                 ["unshare", "-m", "true"],
                                 ["unshare", "-n", "true"],
                                 ["unshare", "-U", "true"],
                                 ["chroot", "/", "true"]],
                         ids=["unshare-Ur", "unshare-m", "unshare-n",
                              "unshare-U", "chroot"])
def test_namespace_tools_fail(sb, cmd):
    r = sb.run(cmd)
    assert r.returncode != 0, r
    assert EPERM_TEXT in r.stderr, r.stderr


def test_nested_user_namespaces_when_allowed(sb):
    """allowNestedUserNamespaces: a tool inside (bwrap, a browser's
    sandbox) makes its own user namespace and writes its maps.  Landlock
    refused the map writes until /proc was granted for it.  Root's command
    has no CAP_SETFCAP, and the kernel lets only such a process map the
    parent's uid 0: as root, only the refusal is checked."""
    s = {"allowNestedUserNamespaces": True}
    r = sb.run("unshare -Ur sh -c 'id -u; echo x > /proc/sys/kernel/hostname'; echo done", settings=s)
    if sb.uid == 0:
        assert "done" in r.stdout, r
        return
    assert r.stdout.startswith("0\n"), r   # root inside the nested namespace
    # the host-global parts of the sandbox's /proc stay read-only
    assert "Read-only file system" in r.stderr, r.stderr
    r = sb.run("unshare -Ur true && echo mapped", settings={})
    assert "mapped" not in r.stdout, r


def test_nested_user_namespaces_do_not_open_proc_self_fd(sb):
    """The /proc grant of allowNestedUserNamespaces does not make a file
    reopened through /proc/self/fd writable: it is judged where it is."""
    victim = sb.base / "victim.txt"
    victim.write_text("host\n")
    sb.ident.chown(str(victim))
    with open(victim) as f:  # read-only stdin, outside every writable root
        p = subprocess.run(sb.ident.wrap(sb.argv("echo PWNED >> /proc/self/fd/0; echo rc=$?",
                                                 {"allowNestedUserNamespaces": True}),
                                         sb.env()),
                           stdin=f, capture_output=True, text=True, timeout=60, cwd=str(sb.ws))
    assert "rc=0" not in p.stdout, p
    assert victim.read_text() == "host\n"


def test_nsenter_fails(sb):
    r = sb.run(["nsenter", "-t", "1", "-m", "true"])
    assert r.returncode != 0, r
    assert EPERM_TEXT in r.stderr or "Permission denied" in r.stderr, r.stderr


# Syscall probes run with ctypes inside the sandbox.  Each entry:
# name -> (python expression giving (nr, args), expected errno name).
SYSCALL_PROBE = r"""
import ctypes, errno, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
buf = ctypes.create_string_buffer(4096)
B = ctypes.addressof(buf)
def sc(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(a & (2**64 - 1))
                                            for a in args])
    e = ctypes.get_errno()
    if r == 0 and nr in (56, 435):  # a clone that succeeded: child leaves
        os._exit(0)
    return "OK" if r >= 0 else errno.errorcode.get(e, str(e))
nsfd = os.open("/proc/self/ns/mnt", os.O_RDONLY)
T = {
  "mount":        lambda: sc(165, 0, ctypes.addressof(ctypes.create_string_buffer(b"/mnt")), ctypes.addressof(ctypes.create_string_buffer(b"tmpfs")), 0, 0),
  "umount2":      lambda: sc(166, ctypes.addressof(ctypes.create_string_buffer(b"/")), 2),
  "pivot_root":   lambda: sc(155, ctypes.addressof(ctypes.create_string_buffer(b"/")), ctypes.addressof(ctypes.create_string_buffer(b"/"))),
  "open_tree":    lambda: sc(428, -100, ctypes.addressof(ctypes.create_string_buffer(b"/")), 1),
  "move_mount":   lambda: sc(429, -100, B, -100, B, 0),
  "fsopen":       lambda: sc(430, ctypes.addressof(ctypes.create_string_buffer(b"tmpfs")), 0),
  "fsconfig":     lambda: sc(431, 0, 0, 0, 0, 0),
  "fsmount":      lambda: sc(432, 0, 0, 0),
  "fspick":       lambda: sc(433, -100, ctypes.addressof(ctypes.create_string_buffer(b"/")), 0),
  "mount_setattr":lambda: sc(442, -100, B, 0, B, 32),
  "unshare_user": lambda: sc(272, 0x10000000),
  "unshare_mnt":  lambda: sc(272, 0x00020000),
  "unshare_net":  lambda: sc(272, 0x40000000),
  "clone_newuser":lambda: sc(56, 0x10000000 | 17, 0, 0, 0, 0),
  "setns":        lambda: sc(308, nsfd, 0),
  "socket_unix":  lambda: sc(41, 1, 1, 0),
  "socket_unix_dgram": lambda: sc(41, 1, 2, 0),
  "io_uring_setup":    lambda: sc(425, 4, B),
  "io_uring_enter":    lambda: sc(426, 0, 0, 0, 0, 0, 0),
  "io_uring_register": lambda: sc(427, 0, 0, 0, 0),
  "keyctl":       lambda: sc(250, 0, 0, 0, 0, 0),
  "add_key":      lambda: sc(248, ctypes.addressof(ctypes.create_string_buffer(b"user")), ctypes.addressof(ctypes.create_string_buffer(b"k")), B, 1, -2),
  "request_key":  lambda: sc(249, ctypes.addressof(ctypes.create_string_buffer(b"user")), ctypes.addressof(ctypes.create_string_buffer(b"k")), 0, 0),
  "bpf":          lambda: sc(321, 0, B, 128),
  "perf_event_open": lambda: sc(298, B, 0, -1, -1, 0),
  "userfaultfd":  lambda: sc(323, 0),
  "clone3":       lambda: sc(435, B, 88),
  "kexec_load":   lambda: sc(246, 0, 0, 0, 0),
  "init_module":  lambda: sc(175, B, 16, B),
  "open_by_handle_at": lambda: sc(304, -100, B, 0),
}
print(json.dumps({n: T[n]() for n in sys.argv[1:]}))
"""

SYSCALL_EXPECT = {
    "mount": "EPERM", "umount2": "EPERM", "pivot_root": "EPERM",
    "open_tree": "EPERM", "move_mount": "EPERM", "fsopen": "EPERM",
    "fsconfig": "EPERM", "fsmount": "EPERM", "fspick": "EPERM",
    "mount_setattr": "EPERM", "unshare_user": "EPERM", "unshare_mnt": "EPERM",
    "unshare_net": "EPERM", "clone_newuser": "EPERM", "setns": "EPERM",
    "socket_unix": "EPERM", "socket_unix_dgram": "EPERM",
    "io_uring_setup": "EPERM", "io_uring_enter": "EPERM",
    "io_uring_register": "EPERM", "keyctl": "EPERM", "add_key": "EPERM",
    "request_key": "EPERM", "bpf": "EPERM", "perf_event_open": "EPERM",
    "userfaultfd": "EPERM", "clone3": "ENOSYS", "kexec_load": "EPERM",
    "init_module": "EPERM", "open_by_handle_at": "EPERM",
}


def test_syscalls_refused(sb):
    names = sorted(SYSCALL_EXPECT)
    r = sb.run([PY, "-c", SYSCALL_PROBE] + names)
    assert r.returncode == 0, r
    got = json.loads(r.stdout)
    wrong = {n: got[n] for n in names if got[n] != SYSCALL_EXPECT[n]}
    assert wrong == {}, "unexpected results (expected %s)" % {
        n: SYSCALL_EXPECT[n] for n in wrong}


def test_unix_socket_python(sb):
    r = sb.run([PY, "-c", "import socket\ntry:\n socket.socket(socket.AF_UNIX)"
                "\nexcept OSError as e: print(e.errno, e.strerror)\n"
                "else: print('CREATED')"])
    assert r.returncode == 0, r
    assert r.stdout.strip() == "1 " + EPERM_TEXT


def test_unix_socket_allowed_by_setting(sb):
    r = sb.run([PY, "-c", "import socket; socket.socket(socket.AF_UNIX); "
                "print('CREATED')"],
               settings={"network": {"allowAllUnixSockets": True}})
    assert r.returncode == 0, r
    assert r.stdout.strip() == "CREATED"


X32_SOCKET = ("import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
              "libc.syscall.restype = ctypes.c_long; "
              "r = libc.syscall(ctypes.c_long(0x40000000 | 41), 1, 1, 0); "
              "print('SURVIVED', r, ctypes.get_errno())")


def test_x32_syscall_kills(sb):
    r = sb.run([PY, "-c", X32_SOCKET])
    assert "SURVIVED" not in r.stdout, r
    assert r.returncode in (-31, 128 + 31), r


INT80_GETPID = r"""
import ctypes, mmap, os
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
m.write(b"\xb8\x14\x00\x00\x00\xcd\x80\xc3")   # mov eax,20 (getpid); int 0x80; ret
f = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))
print("SURVIVED", f(), os.getpid())
"""


def test_i386_int80_kills(sb):
    host = subprocess.run([PY, "-c", INT80_GETPID], capture_output=True,
                          text=True, timeout=10)
    if "SURVIVED" not in host.stdout:
        pytest.skip("this kernel has no 32-bit (int 0x80) entry point "
                    "(host probe: rc %d)" % host.returncode)
    r = sb.run([PY, "-c", INT80_GETPID])
    assert "SURVIVED" not in r.stdout, r
    assert r.returncode in (-31, 128 + 31), r


TIOCSTI_PROBE = r"""
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
c = ctypes.c_char(b"x")
out = []
for req in (0x5412, 0xdeadbeef00005412, 0x541C, 0xdeadbeef0000541C):
    r = libc.syscall(ctypes.c_long(16), ctypes.c_ulong(0), ctypes.c_ulong(req),
                     ctypes.c_ulong(ctypes.addressof(c)))
    out.append("OK" if r >= 0 else errno.errorcode[ctypes.get_errno()])
print(" ".join(out))
"""


def test_ioctl_tiocsti_tioclinux_on_pty(sb):
    master, slave = os.openpty()
    # stdin of srt (and of the command) is the pty slave
    full = sb.ident.wrap(sb.argv([PY, "-c", TIOCSTI_PROBE]), sb.env())
    try:
        p = subprocess.run(full, cwd=str(sb.ws), stdin=slave,
                           capture_output=True, text=True, timeout=30)
    finally:
        os.close(slave)
        os.close(master)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    tiocsti, tiocsti_hi, tioclinux, tioclinux_hi = p.stdout.split()
    assert tiocsti == "EPERM"
    assert tiocsti_hi == "EPERM"   # upper 32 bits must not bypass the filter
    assert tioclinux == "EPERM"
    assert tioclinux_hi == "EPERM"


def test_no_capabilities_and_no_new_privs(sb):
    r = sb.run(["cat", "/proc/self/status"])
    assert r.returncode == 0, r
    st = dict(l.split(":", 1) for l in r.stdout.splitlines() if ":" in l)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap].strip(), 16) == 0, "%s = %s" % (cap, st[cap])
    assert st["NoNewPrivs"].strip() == "1"
    assert st["Seccomp"].strip() == "2"
    # the caller's uid is kept
    uids = st["Uid"].split()
    assert all(int(u) == sb.uid for u in uids), uids


def test_uid_preserved(sb):
    r = sb.run(["id", "-u"])
    assert r.returncode == 0, r
    assert int(r.stdout) == sb.uid


def test_setuid_binary_gains_nothing(sb):
    if sb.uid == 0:
        pytest.skip("only meaningful for an unprivileged caller")
    su = "/usr/bin/su" if os.path.exists("/usr/bin/su") else None
    if not su or not (os.stat(su).st_mode & 0o4000):
        pytest.skip("no setuid su")
    r = sb.run([PY, "-c", "import os; print(os.geteuid())"])
    assert int(r.stdout) == sb.uid
    r = sb.run(["su", "-c", "id -u", "root"], input="", timeout=15)
    assert r.stdout.strip() != "0"


# ===================== PID namespace =======================================

def test_ps_shows_only_sandbox(sb):
    host = sb.host_popen(["sleep", unique_sleep()])
    r = sb.run(["ps", "-eo", "pid=,ppid=,comm=,args="])
    assert r.returncode == 0, r
    rows = [l.split(None, 3) for l in r.stdout.splitlines()]
    pids = {int(x[0]): x for x in rows}
    assert 1 in pids, r.stdout
    assert pids[1][2] == "srt", "PID 1 is %r" % (pids[1],)
    assert {x[2] for x in rows} <= {"srt", "ps"}, r.stdout
    assert len(rows) <= 3, r.stdout
    assert "sleep" not in r.stdout
    assert host.poll() is None


def test_kill_outside_process_fails(sb):
    host = sb.host_popen(["sleep", unique_sleep()])
    assert pid_alive(host.pid)
    r = sb.run(["sh", "-c", 'kill -9 "$1"; kill -TERM "$1"; echo done',
                "sh", str(host.pid)])
    assert "No such process" in r.stderr, r.stderr
    time.sleep(0.1)
    assert host.poll() is None, "a process outside the sandbox was killed"


def test_pid1_cannot_be_signalled_to_escape(sb):
    """Killing the sandbox's init ends the sandbox; it does not leak."""
    n = unique_sleep()
    r = sb.run("sleep %s >/dev/null 2>&1 & kill -9 1; sleep 1; echo alive" % n,
               timeout=20)
    # whatever the outcome, nothing survives the sandbox
    assert wait_until(lambda: not pgrep("sleep " + n), 5), \
        "sandboxed process survived: %s" % pgrep("sleep " + n)
    del r


def test_background_processes_die_with_command(sb):
    n = unique_sleep()
    r = sb.run("sleep %s >/dev/null 2>&1 & setsid sleep %s >/dev/null 2>&1 & "
               "echo started" % (n, n), timeout=20)
    assert r.returncode == 0, r
    assert r.stdout == "started\n"
    assert wait_until(lambda: not pgrep("sleep " + n), 5), \
        "background processes outlived the command"


# ===================== host-global kernel settings =========================

@pytest.mark.parametrize("path", ["/proc/sys/kernel/hostname",
                                  "/proc/sys/kernel/core_pattern",
                                  "/proc/sys/net/ipv4/ip_forward",
                                  "/proc/sys/net/ipv4/ping_group_range",
                                  "/proc/sys/vm/drop_caches"])
def test_proc_sys_read_only(sb, path):
    before = open(path).read() if os.access(path, os.R_OK) else None
    r = sb.run(["sh", "-c", 'echo 1 > "$1"', "sh", path])
    assert r.returncode != 0, r
    assert "Read-only file system" in r.stderr or \
        "Permission denied" in r.stderr, r.stderr
    if before is not None:
        assert open(path).read() == before


def test_sys_read_only(sb):
    r = sb.run("echo 1 > /sys/kernel/mm/transparent_hugepage/enabled; "
               "echo x > /sys/srt-e2e")
    assert r.returncode != 0
    assert "Read-only file system" in r.stderr or \
        "Permission denied" in r.stderr, r.stderr


def test_hostname_change_does_not_affect_host(sb):
    host_before = socket.gethostname()
    r = sb.run([PY, "-c", "import socket\ntry:\n socket.sethostname('srt-e2e-evil')"
                "\nexcept OSError as e: print(e.errno, e.strerror)\n"
                "else: print('CHANGED')\nprint(socket.gethostname())"])
    assert r.returncode == 0, r
    r2 = sb.run("hostname srt-e2e-evil; hostname")
    assert socket.gethostname() == host_before
    assert "srt-e2e-evil" not in open("/proc/sys/kernel/hostname").read()
    # refused, or at most changed inside the sandbox's own UTS namespace
    lines = r.stdout.splitlines()
    assert lines[0] == "1 " + EPERM_TEXT or lines[0] == "CHANGED"
    del r2


# ===================== network =============================================

def test_only_loopback_interface(sb):
    r = sb.run(["cat", "/proc/net/dev"])
    assert r.returncode == 0, r
    ifaces = [l.split(":")[0].strip() for l in r.stdout.splitlines()[2:]]
    assert ifaces == ["lo"], ifaces


def test_tcp_to_host_loopback_fails(sb):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    port = srv.getsockname()[1]
    try:
        r = sb.run([PY, "-c",
                    "import socket,sys\ns=socket.socket()\ns.settimeout(3)\n"
                    "try:\n s.connect(('127.0.0.1', %d)); s.sendall(b'LEAK')\n"
                    "except OSError as e: print('ERR', type(e).__name__)\n"
                    "else: print('CONNECTED')" % port], timeout=20)
        assert r.returncode == 0, r
        assert r.stdout.startswith("ERR"), r.stdout
        srv.settimeout(0.3)
        with pytest.raises(socket.timeout):
            c, _ = srv.accept()
            c.close()
    finally:
        srv.close()


def test_udp_to_host_loopback_not_delivered(sb):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    try:
        r = sb.run([PY, "-c",
                    "import socket\ns=socket.socket(socket.AF_INET,"
                    "socket.SOCK_DGRAM)\nfor i in range(5):\n"
                    " try: s.sendto(b'LEAK', ('127.0.0.1', %d))\n"
                    " except OSError as e: print('ERR', e)\nprint('sent')"
                    % port], timeout=20)
        assert r.returncode == 0, r
        srv.settimeout(0.5)
        with pytest.raises(socket.timeout):
            data = srv.recvfrom(100)
            raise AssertionError("datagram reached the host: %r" % (data,))
    finally:
        srv.close()


def test_no_route_out(sb):
    # No packet can leave: the namespace has no route at all (the address
    # is TEST-NET-1 and is never contacted, the call fails locally).
    r = sb.run([PY, "-c",
                "import socket\ns=socket.socket()\ns.settimeout(3)\n"
                "try:\n s.connect(('192.0.2.1', 80))\n"
                "except OSError as e: print(e.strerror)\n"
                "else: print('CONNECTED')"], timeout=20)
    assert r.returncode == 0, r
    assert r.stdout.strip() == "Network is unreachable", r.stdout


def test_sandbox_loopback_works(sb):
    r = sb.run([PY, "-c",
                "import socket\nsrv=socket.socket(); srv.bind(('127.0.0.1',0));"
                " srv.listen(1)\nc=socket.create_connection(srv.getsockname(),"
                " timeout=3)\na,_=srv.accept(); c.sendall(b'ping'); "
                "print(a.recv(4).decode())"], timeout=20)
    assert r.returncode == 0, r
    assert r.stdout.strip() == "ping"


# ===================== signals and lifetime ================================

SIGNALS = ["INT", "TERM", "HUP", "QUIT", "USR1", "USR2", "WINCH"]


@pytest.mark.parametrize("sig", SIGNALS)
def test_signal_reaches_command(sb, sig):
    script = ("trap 'echo got-%s; exit 7' %s; echo ready; "
              "i=0; while [ $i -lt 300 ]; do sleep 0.1 & wait $!; "
              "i=$((i+1)); done; echo timeout" % (sig, sig))
    p = sb.popen(["bash", "-c", script])
    ok, out = read_until(p.stdout.fileno(), b"ready\n", 15)
    assert ok, out
    os.kill(p.pid, getattr(signal, "SIG" + sig))
    try:
        rest, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("command did not react to SIG%s" % sig)
    out += rest
    assert b"got-" + sig.encode() in out, (out, err)
    assert p.returncode == 7, (p.returncode, out, err)


def test_signal_default_action_gives_128_plus_n(sb):
    p = sb.popen(["sh", "-c", "echo ready; exec sleep 30"])
    ok, out = read_until(p.stdout.fileno(), b"ready\n", 15)
    assert ok, out
    time.sleep(0.1)  # let the exec happen
    os.kill(p.pid, signal.SIGTERM)
    p.communicate(timeout=15)
    assert p.returncode == 128 + signal.SIGTERM


def test_sigkill_of_srt_kills_sandbox(sb):
    n1, n2, n3 = unique_sleep(), unique_sleep(), unique_sleep()
    p = sb.popen("setsid sleep %s >/dev/null 2>&1 & "
                 "(sleep %s >/dev/null 2>&1 &) ; echo ready; exec sleep %s"
                 % (n1, n2, n3))
    ok, out = read_until(p.stdout.fileno(), b"ready\n", 15)
    assert ok, out
    pats = ["sleep " + n for n in (n1, n2, n3)]
    assert wait_until(lambda: all(pgrep(x) for x in pats), 5), \
        "sandboxed sleeps did not start"
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=10)
    assert wait_until(lambda: not any(pgrep(x) for x in pats), 5), \
        "processes survived SIGKILL of srt: %s" % [pgrep(x) for x in pats]


def test_ten_sandboxes_at_once(sb):
    procs = []
    for i in range(10):
        procs.append(sb.popen(
            "echo $$ > out-%d; sleep 0.3; echo done-%d; cat out-%d" % (i, i, i),
            settings=WRITE_WS))
    results = []
    for i, p in enumerate(procs):
        out, err = p.communicate(timeout=60)
        results.append((p.returncode, out.decode(), err.decode()))
    for i, (rc, out, err) in enumerate(results):
        assert rc == 0, (i, rc, err)
        lines = out.split()
        assert lines[0] == "done-%d" % i
        # each sandbox has its own PID namespace: the shell is PID 2 or so
        assert int(lines[1]) < 10, out
    assert sorted(os.listdir(sb.ws)) == sorted("out-%d" % i for i in range(10))


# ===================== interactive shell ===================================

def _pty_shell(sb, argv):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")

    def make_ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    full = sb.ident.wrap(sb.argv(argv), sb.env({"PS1": "E2E$ ",
                                                "TERM": "dumb"}))
    p = subprocess.Popen(full, cwd=str(sb.ws), stdin=slave, stdout=slave,
                         stderr=slave, start_new_session=True,
                         preexec_fn=make_ctty)
    sb._procs.append(p)
    os.close(slave)
    return p, master


def test_interactive_shell_job_control(sb):
    p, m = _pty_shell(sb, ["bash", "--norc", "--noprofile", "-i"])
    try:
        ok, out = read_until(m, b"E2E$ ", 15)
        assert ok, out
        os.write(m, b"echo hi-$((40+2)); sleep 100 &\n")
        ok, out = read_until(m, b"hi-42", 10, out)
        assert ok, out
        os.write(m, b"jobs\n")
        ok, out = read_until(m, b"Running", 10, out)
        assert ok, out
        os.write(m, b"echo tty-$((1+1)) > /dev/tty\n")   # /dev/tty writable
        ok, out = read_until(m, b"tty-2", 10, out)
        assert ok, out
        os.write(m, b"fg %1\n")
        time.sleep(0.5)
        os.write(m, b"\x1a")                      # ^Z stops the fg job
        ok, out = read_until(m, b"Stopped", 10, out)
        assert ok, out
        os.write(m, b"kill %1; stty size; exit 5\n")
        ok, out = read_until(m, b"24 80", 10, out)
        assert ok, out
        assert p.wait(timeout=15) == 5
        text = out.decode(errors="replace")
        assert "no job control" not in text, text
        assert "cannot set terminal process group" not in text, text
    finally:
        os.close(m)


def test_interactive_shell_window_resize(sb):
    p, m = _pty_shell(sb, ["bash", "--norc", "--noprofile", "-i"])
    try:
        ok, out = read_until(m, b"E2E$ ", 15)
        assert ok, out
        os.write(m, b"trap 'echo winch-seen' WINCH; echo armed\n")
        ok, out = read_until(m, b"armed\r\n", 10, out)
        assert ok, out
        # resize the terminal; the kernel signals the foreground group, and
        # srt forwards the WINCH it receives itself
        fcntl.ioctl(m, termios.TIOCSWINSZ, b"\x28\x00\x64\x00\x00\x00\x00\x00")
        os.kill(p.pid, signal.SIGWINCH)
        os.write(m, b"stty size\n")
        ok, out = read_until(m, b"40 100", 10, out)
        assert ok, out
        ok, out = read_until(m, b"winch-seen", 5, out)
        assert ok, out
        os.write(m, b"exit\n")
        p.wait(timeout=15)
    finally:
        os.close(m)
