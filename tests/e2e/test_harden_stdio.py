"""Issue 8, rule 4: standard input, output and error reach the command with
the access they were opened with and nothing more; every other descriptor
is closed before exec unless the caller names it (--pass-fd, pass_fds).

A descriptor the caller opened refers to the host's mount, not to the
sandbox's read-only view, so reopening /proc/self/fd/N (or openat(N, ...)
beneath a directory) used to walk the host's mounts.  Each attack below
succeeded against the build before this rule (6b5a7ba)."""
import fcntl
import pathlib
import os
import subprocess
import termios

import pytest

from e2e_util import PY, read_until

REFUSED = ("EACCES", "EROFS", "EPERM", "ENOENT", "EBADF")

# Opens PATH with each of the modes named after it; prints one word per try:
# OK, or the errno name.
OPEN_PROBE = r"""
import errno, os, sys
modes = {"a": os.O_WRONLY | os.O_APPEND, "w": os.O_WRONLY, "rw": os.O_RDWR,
         "r": os.O_RDONLY}
out = []
for m in sys.argv[2:]:
    try:
        fd = os.open(sys.argv[1], modes[m])
        if m != "r":
            os.write(fd, b"PWNED\n")
        os.close(fd)
        out.append("OK")
    except OSError as e:
        out.append(errno.errorcode[e.errno])
print(" ".join(out))
"""

# Beneath directory descriptor N: read a file through /proc/self/fd/N/REL
# and through openat(N, REL), create a file and a directory.
DIR_PROBE = r"""
import errno, os, sys
n, secret, public = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def attempt(f):
    try:
        r = f()
        return "OK:" + (r.strip() if isinstance(r, str) else "")
    except OSError as e:
        return errno.errorcode[e.errno]
def read_at(rel):
    fd = os.open(rel, os.O_RDONLY, dir_fd=n)
    try:
        return os.read(fd, 100).decode()
    finally:
        os.close(fd)
print(attempt(lambda: open("/proc/self/fd/%d/%s" % (n, secret)).read()),
      attempt(lambda: read_at(secret)),
      attempt(lambda: read_at(public)),
      attempt(lambda: open("/proc/self/fd/%d/new-file" % n, "w").write("x")),
      attempt(lambda: os.mkdir("new-dir", dir_fd=n)),
      attempt(lambda: os.open("new-at", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=n)))
"""


def srt(sb, cmd, settings=None, opts=(), stdin=None, stdout=None, stderr=None,
        pass_fds=(), timeout=30):
    """Run srt as the identity with the given descriptors; text output."""
    full = sb.ident.wrap(sb.argv(cmd, settings, opts), sb.env())
    p = subprocess.run(full, cwd=str(sb.ws),
                       stdin=subprocess.DEVNULL if stdin is None else stdin,
                       stdout=subprocess.PIPE if stdout is None else stdout,
                       stderr=subprocess.PIPE if stderr is None else stderr,
                       pass_fds=pass_fds, timeout=timeout, text=True,
                       errors="replace")
    return p


def outside(sb, name, content):
    """A file of the identity outside every writable root."""
    return sb.mkfile(name, content, base=sb.base)


# ---- read-only stdio --------------------------------------------------------

def test_readonly_stdin_outside_writable_roots_cannot_be_reopened_for_writing(sb):
    f = outside(sb, "victim.rc", "orig\n")
    with open(f) as fin:
        p = srt(sb, [PY, "-c", OPEN_PROBE, "/proc/self/fd/0", "a", "w", "rw", "r"],
                stdin=fin)
    assert p.returncode == 0, p.stderr
    a, w, rw, r = p.stdout.split()
    assert a in REFUSED and w in REFUSED and rw in REFUSED, p.stdout
    assert r == "OK"  # reading what the caller gave stays possible
    assert f.read_text() == "orig\n"
    # and the command reads it through its stdin as before
    with open(f) as fin:
        p = srt(sb, ["sh", "-c", "cat /dev/stdin"], stdin=fin)
    assert p.returncode == 0 and p.stdout == "orig\n", p


@pytest.mark.parametrize("name,settings", [
    (".bashrc", {"filesystem": {"allowWrite": ["."]}}),               # mandatory deny
    ("locked.txt", {"filesystem": {"allowWrite": ["."], "denyWrite": ["locked.txt"]}}),
])
def test_readonly_stdin_protected_inside_a_writable_root_stays_protected(sb, name, settings):
    # Landlock alone allows writes beneath the writable root: only the
    # sandbox's read-only mount over the protected file stops a reopen.
    f = sb.mkfile(name, "orig\n")
    with open(f) as fin:
        p = srt(sb, [PY, "-c", OPEN_PROBE, "/dev/stdin", "a", "w"], settings=settings,
                stdin=fin)
    assert p.returncode == 0, p.stderr
    assert all(x in REFUSED for x in p.stdout.split()), p.stdout
    assert f.read_text() == "orig\n"


def test_readonly_stdin_in_writable_root_keeps_its_position(sb):
    f = sb.mkfile("data.txt", "line1\nline2\nline3\n")
    with open(f) as fin:
        fin.readline()  # the caller consumed the first line
        os.lseek(fin.fileno(), len("line1\n"), os.SEEK_SET)
        p = srt(sb, ["cat"], settings={"filesystem": {"allowWrite": ["."]}}, stdin=fin)
    assert p.returncode == 0 and p.stdout == "line2\nline3\n", p


def test_denyread_file_given_as_stdin_is_readable_not_writable(sb):
    f = outside(sb, "secret.txt", "SECRET\n")
    st = {"filesystem": {"denyRead": [str(f)]}}
    with open(f) as fin:
        p = srt(sb, ["sh", "-c", "cat; cat %s 2>/dev/null || echo hidden" % f],
                settings=st, stdin=fin)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "SECRET\nhidden\n"  # given explicitly; by path it stays hidden
    with open(f) as fin:
        p = srt(sb, [PY, "-c", OPEN_PROBE, "/proc/self/fd/0", "a", "rw"], settings=st,
                stdin=fin)
    assert p.returncode == 0, p.stderr
    assert all(x in REFUSED for x in p.stdout.split()), p.stdout
    assert f.read_text() == "SECRET\n"


def test_hidden_file_inside_writable_root_as_stdin_is_refused(sb):
    # .env is hidden and beneath a writable root: the sandbox cannot reopen
    # it, and Landlock would let /proc/self/fd/0 be reopened for writing, so
    # srt refuses to run (fail closed) instead of handing it over.
    f = sb.mkfile(".env", "TOKEN=1\n")
    st = {"filesystem": {"allowWrite": ["."], "denyRead": [".env"]}}
    with open(f) as fin:
        p = srt(sb, ["sh", "-c", "echo PWNED >> /proc/self/fd/0; echo ran"],
                settings=st, stdin=fin)
    assert p.returncode == 125, (p.returncode, p.stdout, p.stderr)
    assert "ran" not in p.stdout
    assert "srt: standard input is open read-only" in p.stderr, p.stderr
    assert "pipe" in p.stderr
    assert f.read_text() == "TOKEN=1\n"
    # the way the message suggests works
    r = sb.host(["sh", "-c", "cat .env | %s --settings %s -- cat"
                 % (sb.srt, sb.write_settings(st))])
    assert r.stdout == "TOKEN=1\n"


# ---- directories -------------------------------------------------------------

def _tree(sb):
    d = sb.mkdir("tree", base=sb.base)
    sb.mkfile("tree/secret/key", "SECRET\n", base=sb.base)
    sb.mkfile("tree/pub.txt", "PUBLIC\n", base=sb.base)
    return d, {"filesystem": {"denyRead": [str(d / "secret")]}}


def test_directory_as_stdin_grants_nothing_beneath(sb):
    d, st = _tree(sb)
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # python refuses a directory as its stdin: hand fd 0 on as fd 3
        p = srt(sb, ["sh", "-c", 'exec 3<&0 </dev/null; exec "$@"', "sh",
                     PY, "-c", DIR_PROBE, "3", "secret/key", "pub.txt"],
                settings=st, stdin=fd)
    finally:
        os.close(fd)
    assert p.returncode == 0, p.stderr
    via_proc, via_openat, public, new_file, new_dir, new_at = p.stdout.split()
    assert via_proc in REFUSED and via_openat in REFUSED, p.stdout
    assert public == "OK:PUBLIC"  # reading what the policy allows still works
    assert new_file in REFUSED and new_dir in REFUSED and new_at in REFUSED, p.stdout
    assert sorted(os.listdir(d)) == ["pub.txt", "secret"]
    assert "standard input is a directory" in p.stderr


def test_hidden_directory_as_stdin_becomes_dev_null(sb):
    d, st = _tree(sb)
    fd = os.open(d / "secret", os.O_RDONLY | os.O_DIRECTORY)
    try:
        p = srt(sb, ["sh", "-c", "ls -a /proc/self/fd/0/ 2>&1; readlink /proc/self/fd/0; "
                     "cat /proc/self/fd/0/key 2>&1 || true"], settings=st, stdin=fd)
    finally:
        os.close(fd)
    assert p.returncode == 0, p.stderr
    assert "SECRET" not in p.stdout and "key" not in p.stdout.replace("/key", ""), p.stdout
    assert "/dev/null" in p.stdout.splitlines(), p.stdout


def test_o_path_stdin_cannot_be_upgraded(sb):
    f = outside(sb, "path-only.txt", "orig\n")
    fd = os.open(f, os.O_PATH)
    try:
        p = srt(sb, [PY, "-c", OPEN_PROBE, "/proc/self/fd/0", "a", "rw"], stdin=fd)
    finally:
        os.close(fd)
    assert p.returncode == 0, p.stderr
    assert all(x in REFUSED for x in p.stdout.split()), p.stdout
    assert f.read_text() == "orig\n"


# ---- writable stdio -----------------------------------------------------------

def test_stdout_file_outside_writable_roots_is_writable_that_file_only(sb):
    out = outside(sb, "out.log", "")
    other = outside(sb, "other.log", "keep\n")
    with open(out, "w") as fout:
        p = srt(sb, ["sh", "-c", "echo one; echo two >> /dev/stdout; "
                     "echo x >> %s 2>/dev/null || echo refused >&2" % other],
                stdout=fout)
    assert p.returncode == 0, p.stderr
    assert out.read_text() == "one\ntwo\n"
    assert "refused" in p.stderr
    assert other.read_text() == "keep\n"


def test_memfd_and_deleted_files_as_stdio_work(sb):
    mem = os.memfd_create("srt-e2e-out")
    tmpf = outside(sb, "gone.txt", "from a deleted file\n")
    fin = open(tmpf)
    os.unlink(tmpf)  # like a shell's here-document
    try:
        p = srt(sb, ["cat"], stdin=fin, stdout=mem)
        assert p.returncode == 0, p.stderr
        os.lseek(mem, 0, os.SEEK_SET)
        assert os.read(mem, 100) == b"from a deleted file\n"
    finally:
        fin.close()
        os.close(mem)


# ---- other descriptors -----------------------------------------------------

FD_PROBE = r"""
import errno, os, sys
out = []
for n in map(int, sys.argv[1:]):
    try:
        os.fstat(n)
        out.append("open")
    except OSError as e:
        out.append(errno.errorcode[e.errno])
print(" ".join(out), sorted(int(x) for x in os.listdir("/proc/self/fd"))[:4])
"""


def test_leaked_descriptors_are_closed(sb):
    d, st = _tree(sb)
    dfd = os.open(d / "secret", os.O_RDONLY | os.O_DIRECTORY)  # a denyRead directory
    ffd = os.open(outside(sb, "leak.txt", "orig\n"), os.O_RDWR)
    try:
        p = srt(sb, [PY, "-c", FD_PROBE, str(dfd), str(ffd)], settings=st,
                pass_fds=(dfd, ffd))
        q = srt(sb, ["sh", "-c", "cat /proc/self/fd/%d/key 2>&1; ls /proc/self/fd/" % dfd],
                settings=st, pass_fds=(dfd, ffd))
    finally:
        os.close(dfd)
        os.close(ffd)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[:2] == ["EBADF", "EBADF"], p.stdout
    assert "SECRET" not in q.stdout, q.stdout


def test_pass_fd_keeps_a_named_descriptor_with_its_own_access(sb):
    ro = outside(sb, "ro.txt", "orig\n")
    wo = outside(sb, "wo.txt", "")
    rfd = os.open(ro, os.O_RDONLY)
    wfd = os.open(wo, os.O_WRONLY)
    leak = os.open(ro, os.O_RDONLY)
    script = ('read line <&{r}; echo "read:$line"; echo written >&{w}; '
              '(echo PWNED >> /proc/self/fd/{r}) 2>/dev/null && echo widened; '
              '[ -e /proc/self/fd/{l} ] && echo leaked; echo done').format(r=rfd, w=wfd, l=leak)
    try:
        p = srt(sb, ["bash", "-c", script], opts=["--pass-fd", str(rfd), "--pass-fd", str(wfd)],
                pass_fds=(rfd, wfd, leak))
    finally:
        for fd in (rfd, wfd, leak):
            os.close(fd)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "read:orig\ndone\n", p.stdout
    assert ro.read_text() == "orig\n"
    assert wo.read_text() == "written\n"


def test_pass_fd_directory_grants_nothing_beneath(sb):
    d, st = _tree(sb)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        p = srt(sb, [PY, "-c", DIR_PROBE, str(dfd), "secret/key", "pub.txt"], settings=st,
                opts=["--pass-fd", str(dfd)], pass_fds=(dfd,))
    finally:
        os.close(dfd)
    assert p.returncode == 0, p.stderr
    via_proc, via_openat, public, new_file, new_dir, new_at = p.stdout.split()
    assert via_proc in REFUSED and via_openat in REFUSED, p.stdout
    assert public == "OK:PUBLIC"
    assert new_file in REFUSED and new_dir in REFUSED and new_at in REFUSED, p.stdout


@pytest.mark.parametrize("arg,why", [("1", "3 or more"), ("x", "3 or more"),
                                     ("987", "Bad file descriptor")])
def test_pass_fd_refuses_stdio_and_closed_descriptors(sb, arg, why):
    p = srt(sb, ["true"], opts=["--pass-fd", arg])
    assert p.returncode == 125
    assert "srt: --pass-fd" in p.stderr and why in p.stderr, p.stderr


# ---- everyday use keeps working ---------------------------------------------

STD_NAMES = "echo x > /dev/stdout; echo y > /dev/stderr; cat /dev/stdin"


def test_dev_std_names_with_pipes(sb):
    # the pipes belong to the identity, as they would in its own shell
    r = sb.host(["sh", "-c", "echo in | %s -- sh -c '%s' 2>&1 | cat" % (sb.srt, STD_NAMES)])
    assert sorted(r.stdout.splitlines()) == ["in", "x", "y"], r


def test_dev_std_names_with_files(sb):
    src = outside(sb, "in.txt", "in\n")
    out, err = outside(sb, "o.txt", ""), outside(sb, "e.txt", "")
    with open(src) as fin, open(out, "a") as fo, open(err, "a") as fe:
        p = srt(sb, ["sh", "-c", "echo x >> /dev/stdout; echo y >> /dev/stderr; cat /dev/stdin"],
                stdin=fin, stdout=fo, stderr=fe)
    assert p.returncode == 0
    assert out.read_text() == "x\nin\n" and err.read_text() == "y\n"


def test_dev_std_names_with_a_terminal(sb):
    master, slave = os.openpty()
    sb.ident.chown("/proc/self/fd/%d" % slave)  # the identity's terminal, as at a login
    full = sb.ident.wrap(sb.argv(["sh", "-c", "echo x > /dev/stdout; echo y > /dev/stderr; "
                                  "head -n1 /dev/stdin; echo tty > /dev/tty"]), sb.env())
    p = subprocess.Popen(full, cwd=str(sb.ws), stdin=slave, stdout=slave, stderr=slave,
                         start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    sb._procs.append(p)
    os.close(slave)
    try:
        ok, out = read_until(master, b"y\r\n", 15)
        assert ok, out
        os.write(master, b"typed\n")
        ok, out = read_until(master, b"tty\r\n", 15, out)
        assert ok, out
        assert p.wait(timeout=15) == 0
        assert b"x\r\n" in out and b"typed" in out
    finally:
        os.close(master)


# ---- the library ---------------------------------------------------------------

BUILD = pathlib.Path(os.environ.get("SRT_BIN")
                     or pathlib.Path(__file__).resolve().parents[2] / "build" / "srt").parent
LIBFDS = BUILD / "tests" / "libfds"


def test_library_stdio_and_pass_fds_carry_their_own_access(sb):
    """tests/lib/libfds.c: stdin given as stdio[0] from a number above 2,
    a write-only file in pass_fds, one more descriptor leaked; invalid
    pass_fds refused."""
    if not LIBFDS.exists():
        pytest.skip("tests/lib/libfds not built next to %s" % BUILD)
    ro = outside(sb, "lib-ro.txt", "orig\n")
    wo = outside(sb, "lib-wo.txt", "")
    r = sb.host([str(LIBFDS), str(ro), str(wo)], check=False, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "libfds: ok" in r.stdout
    assert ro.read_text() == "orig\n"
    assert wo.read_text() == "written\n"
