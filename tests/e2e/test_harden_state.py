"""srt's own state on the host is out of the command's reach (issue 8, rule 1),
and stand-ins do not change how host programs behave during a run (rule 11).

The run directory /tmp/srt-UID holds the per-user lock and the journals of
live and crashed runs.  Every test here attacks it the way a command inside
a sandbox (or a journal an older build let it write) would, as root and as
the unprivileged user."""

import json
import os
import pwd
import shutil
import subprocess
import time

import pytest

from e2e_util import PY, read_line, wait_until

WRITE_WS = {"filesystem": {"allowWrite": ["."]}}


def run_dir(sb):
    return "/tmp/srt-%d" % sb.uid


def ensure_run_dir(sb):
    """Let srt create the run directory (every run does; the previous build
    only when a run had stand-ins to record)."""
    d = run_dir(sb)
    r = sb.run(["true"])
    assert r.returncode == 0, r
    if not os.path.isdir(d):
        sb.run(["true"], settings=WRITE_WS, cwd=sb.mkdir("mkrundir", base=sb.base))
    assert os.path.isdir(d) and not os.path.islink(d)
    return d


def restore_run_dir(d):
    """Undo what a successful attack (against an older build) did to the
    run directory, which other runs of this user share."""
    if os.path.islink(d):
        os.unlink(d)
    if os.path.isdir(d + ".moved") and not os.path.lexists(d):
        os.rename(d + ".moved", d)
    for junk in ("run-forged.journal", "sub"):
        p = os.path.join(d, junk)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)
    for p in (d + ".moved", d + ".new"):
        if os.path.islink(p):
            os.unlink(p)


def read_or_empty(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:  # another run's journal, gone meanwhile
        return b""


def snapshot(d, names):
    """What the host has in the run directory: its mode, and the inode, mode
    and content of `names` (other runs, even other engineers' tests, may add
    and remove journals meanwhile)."""
    st = os.lstat(d)
    out = {".": (st.st_uid, st.st_mode, st.st_ino)}
    for e in names:
        p = os.path.join(d, e)
        s = os.lstat(p)
        out[e] = (s.st_uid, s.st_mode, s.st_ino, open(p, "rb").read())
    return out


# The command's attempts, each reported as ok/failed: every one must fail.
ATTACKS = r'''
import fcntl, json, os, sys
d = sys.argv[1]
res = {}
def attempt(name, fn):
    try:
        fn()
        res[name] = "ok"
    except OSError as e:
        res[name] = "failed: %s" % e.strerror
try:
    res["listing"] = os.listdir(d)
except OSError as e:
    res["listing"] = "failed: %s" % e.strerror
def create():
    open(os.path.join(d, "run-forged.journal"), "wb").write(b"x")
def write_lock():
    open(os.path.join(d, "lock"), "ab").write(b"x")
def lock_it():
    fd = os.open(os.path.join(d, "lock"), os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
def lock_dir():
    fd = os.open(d, os.O_RDONLY)
    # the directory itself is what the command sees: it must not be the host's
    st = os.fstat(fd)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    if (st.st_dev, st.st_ino) == (int(sys.argv[2]), int(sys.argv[3])):
        return
    raise OSError(0, "not the host directory")
def mkdir():
    os.mkdir(os.path.join(d, "sub"))
def rename():
    os.rename(d, d + ".moved")
def chmod():
    os.chmod(d, 0o777)
def rmdir():
    os.rmdir(d)
def symlink_over():
    os.symlink("/", d + ".new")
    os.rename(d + ".new", d)
for name, fn in [("create", create), ("write lock", write_lock),
                 ("lock the lock file", lock_it), ("lock the directory", lock_dir),
                 ("mkdir", mkdir), ("rename", rename),
                 ("chmod", chmod), ("rmdir", rmdir), ("symlink over", symlink_over)]:
    attempt(name, fn)
try:
    os.unlink(d + ".new")
except OSError:
    pass
print(json.dumps(res))
'''


@pytest.mark.usefixtures("standins")
@pytest.mark.parametrize("root", ["/tmp", "/"])
def test_run_directory_unreachable_from_inside(sb, root):
    """allowWrite ["/tmp"] (or "/") contains the run directory: the command
    can neither list, create, write, lock, chmod nor rename anything of it,
    while another run's journal is live in it."""
    d = ensure_run_dir(sb)
    # a live run elsewhere, so that the directory holds a live journal
    other = sb.mkdir("other", base=sb.base)
    live = sb.popen("echo ready; read x", settings=WRITE_WS, cwd=other,
                    stdin=subprocess.PIPE)
    assert read_line(live) == b"ready\n"
    journals = [e for e in os.listdir(d) if e.endswith(".journal") and
                str(other).encode() in read_or_empty(os.path.join(d, e))]
    assert len(journals) == 1, "the live run left no journal to attack"
    before = snapshot(d, ["lock"] + journals)
    st = os.stat(d)
    try:
        r = sb.run([PY, "-c", ATTACKS, d, str(st.st_dev), str(st.st_ino)],
                   settings={"filesystem": {"allowWrite": [root]}})
        moved = os.path.lexists(d + ".moved") or os.path.islink(d)
        after = None if moved else snapshot(d, ["lock"] + journals)
        forged = os.path.lexists(os.path.join(d, "run-forged.journal"))
    finally:
        restore_run_dir(d)
    if root == "/" and r.returncode == 125:
        live.communicate(b"go\n", timeout=20)
        pytest.skip("allowWrite [\"/\"] does not start in this build: %s"
                    % r.stderr.strip())
    assert r.returncode == 0, r
    res = json.loads(r.stdout)
    assert res.pop("listing") in ([], "failed: Permission denied"), res
    succeeded = [k for k, v in res.items() if v == "ok"]
    assert succeeded == [], "from inside: %s (all: %s)" % (succeeded, res)
    # the host's directory is as it was, and the live run is unharmed
    assert not moved and not forged
    assert after == before
    out, err = live.communicate(b"go\n", timeout=20)
    assert live.returncode == 0, err
    assert os.listdir(other) == [], "the live run's stand-ins were left"


def statx_record(path):
    """The journal record srt writes for `path` (type, dev, ino, birth and
    change times), as a forger inside would compute it with stat(1)."""
    st = os.lstat(path)
    w = subprocess.run(["stat", "-c", "%.9W", path], capture_output=True,
                       text=True, check=True).stdout.strip()
    bs, bn = (w.split(".") + ["0"])[:2] if w not in ("0", "-") else ("0", "0")
    kind = "d" if os.path.isdir(path) else "f"
    return "%s %d %d %d %d %d %d %s" % (
        kind, st.st_dev, st.st_ino, int(bs), int(bn),
        st.st_ctime_ns // 10**9, st.st_ctime_ns % 10**9, path)


def test_forged_journal_deletes_nothing(sb):
    """A journal planted in the run directory (what an older build let the
    command write) naming files outside every writable root, with their
    real device and inode, must not make a later innocent run delete them."""
    d = ensure_run_dir(sb)
    outside = sb.mkdir("outside", base=sb.base)
    victims = [sb.mkfile("victim", "", base=outside),
               sb.mkfile(".bashrc", "", base=outside),
               sb.mkfile(".git/config", "", base=outside)]
    vdir = sb.mkdir("emptydir", base=outside)
    # a path through a symlink to a victim's directory
    os.symlink(str(outside), str(sb.base / "link"))
    recs = []
    for v in victims + [vdir]:
        st = os.lstat(v)
        kind = "d" if os.path.isdir(v) else "f"
        # the previous build's format, and this build's
        recs.append("%s %d %d %s" % (kind, st.st_dev, st.st_ino, v))
        recs.append(statx_record(str(v)))
    st = os.lstat(victims[0])
    recs.append("f %d %d %s" % (st.st_dev, st.st_ino, sb.base / "link" / "victim"))
    journal = os.path.join(d, "run-forged.journal")
    with open(journal, "wb") as f:
        f.write(b"".join(r.encode() + b"\0" for r in recs))
    sb.ident.chown(journal)
    try:
        r = sb.run(["true"])                  # an innocent later run
        assert r.returncode == 0, r
        gone = [str(v) for v in victims + [vdir] if not os.path.lexists(v)]
        assert gone == [], "a forged journal made srt delete %s" % gone
    finally:
        if os.path.lexists(journal):
            os.unlink(journal)


def test_held_lock_fails_within_bound_naming_holder(sb):
    """A process that holds the per-user lock makes srt fail within its
    bound (10 s) with an error naming it, never hang."""
    d = ensure_run_dir(sb)
    holder = sb.host_popen(
        [PY, "-c", "import fcntl, sys, time\n"
         "f = open(sys.argv[1])\n"
         "fcntl.flock(f, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\n"
         "time.sleep(120)\n", os.path.join(d, "lock")],
        stdout=subprocess.PIPE)
    assert read_line(holder) == b"locked\n"
    t0 = time.monotonic()
    try:
        r = sb.run(["echo", "RAN-MARKER"], settings=WRITE_WS, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("srt hung on the held lock")
    took = time.monotonic() - t0
    assert r.returncode == 125, r
    assert "RAN-MARKER" not in r.stdout
    assert r.stderr.startswith("srt: ") and ("pid %d" % holder.pid) in r.stderr, r.stderr
    assert took < 20, took
    holder.kill()
    holder.wait(timeout=10)
    r = sb.run(["echo", "RAN-MARKER"], settings=WRITE_WS)
    assert r.returncode == 0 and "RAN-MARKER" in r.stdout, r


STATE_USER = "srt-e2e-state"


def state_user():
    """An unprivileged user of this test file alone: its run directory is
    not shared with other test runs (whose srt may be another build)."""
    try:
        return pwd.getpwnam(STATE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/bin/sh", STATE_USER], capture_output=True, timeout=30)
        return pwd.getpwnam(STATE_USER)


def as_user(pw, argv, home):
    return ["setpriv", "--reuid", pw.pw_name, "--regid", pw.pw_name, "--init-groups",
            "--reset-env", "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=" + home,
            "LC_ALL=C"] + [k + "=" + os.environ[k] for k in ("SRT_TEST_NO_FSGATE",)
                           if k in os.environ] + list(argv)


@pytest.mark.usefixtures("standins")
def test_standin_in_use_survives_when_other_user_cannot_see_it(sb, e2e_user):
    """The first run creates the stand-ins and exits first, seeing /proc with
    hidepid=2 (it cannot see the second run's processes); the second run
    (root) still relies on them: its protection must hold after the first
    exited.  Root variant: root both times (same user); user variant: an
    unprivileged user first, then root (cross-user)."""
    settings = sb.write_settings(WRITE_WS)
    os.chmod(sb.ws, 0o1777)  # shared: root without capabilities writes there too
    first = [sb.srt, "--settings", settings, "--", "sh", "-c", "echo ready; read x"]
    if sb.ident.name == "user":
        pw = state_user()
        first_argv = as_user(pw, first, str(sb.base))
        again = as_user(pw, [sb.srt, "--", "true"], str(sb.base))
    else:
        first_argv = sb.ident.wrap(first, sb.env())
        again = sb.ident.wrap([sb.srt, "--", "true"], sb.env())
    # the first run sees a /proc mounted hidepid=2 (a mount namespace of its own)
    a = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         'mount -t proc -o hidepid=2 proc /proc && exec "$@"', "sh"] + first_argv,
        cwd=str(sb.ws), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True)
    sb._procs.append(a)
    assert read_line(a) == b"ready\n", a.stderr.read1() if a.poll() is not None else ""
    assert (sb.ws / ".bashrc").exists()
    home = sb.mkdir("roothome", base=sb.base)
    b = subprocess.Popen([sb.srt, "--settings", settings, "--", "sh", "-c",
                          "echo ready; read x; "
                          "echo pwned > .bashrc; echo pwned > .profile; "
                          "echo pwned > .mcp.json; echo control > control; "
                          "echo finished"], cwd=str(sb.ws),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(home),
                              "LC_ALL": "C"})
    sb._procs.append(b)
    assert read_line(b) == b"ready\n"
    out, err = a.communicate(b"go\n", timeout=20)        # the first ends
    assert a.returncode == 0, err
    out, err = b.communicate(b"go\n", timeout=20)
    assert b"finished" in out, (out, err)
    # the second run could write in the workspace: the test is not vacuous
    assert (sb.ws / "control").read_text() == "control\n", err
    os.unlink(sb.ws / "control")
    leaked = [rel for rel in (".bashrc", ".profile", ".mcp.json")
              if (sb.ws / rel).exists() and (sb.ws / rel).read_text() == "pwned\n"]
    assert leaked == [], "protected paths written after the other run exited: " \
        "%s (stderr: %r)" % (leaked, err)
    # the first user's next run removes what it kept for the second one
    r = subprocess.run(again, cwd=str(sb.base), capture_output=True, timeout=30)
    assert r.returncode == 0, r
    assert sorted(os.listdir(sb.ws)) == [], "stand-ins left after both runs"


@pytest.mark.usefixtures("standins")
def test_crash_recovery_keeps_standin_another_run_uses(sb):
    """A killed run's stand-ins are removed by the next run, but not while a
    live sandbox still mounts them (then by a later run)."""
    a = sb.popen("echo ready; exec sleep 300", settings=WRITE_WS)
    assert read_line(a) == b"ready\n"
    b = sb.popen("echo ready; read x; echo pwned > .bashrc; echo finished",
                 settings=WRITE_WS, stdin=subprocess.PIPE)
    assert read_line(b) == b"ready\n"
    os.killpg(a.pid, 9)
    a.wait(timeout=10)
    r = sb.run(["true"], cwd=sb.base)          # replays the killed run's journal
    assert r.returncode == 0, r
    assert (sb.ws / ".bashrc").exists(), "a stand-in in use was removed"
    out, err = b.communicate(b"go\n", timeout=20)
    assert b"finished" in out, (out, err)
    assert not (sb.ws / ".bashrc").exists() or \
        (sb.ws / ".bashrc").read_text() == "", "protection lost"
    r = sb.run(["true"], cwd=sb.base)
    assert r.returncode == 0, r
    assert wait_until(lambda: os.listdir(sb.ws) == [], 5), os.listdir(sb.ws)


def _long_run_then_write(sb):
    return sb.popen("echo ready; read x; echo pwned > .bashrc; echo finished",
                    settings=WRITE_WS, stdin=subprocess.PIPE)


def _still_protected(sb, a):
    assert (sb.ws / ".bashrc").exists(), "a stand-in the long run mounts was removed"
    out, err = a.communicate(b"go\n", timeout=20)
    assert b"finished" in out, (out, err)
    assert b"Read-only file system" in err, (out, err)
    assert not (sb.ws / ".bashrc").exists() or \
        (sb.ws / ".bashrc").read_text() == "", "protection lost: .bashrc written"


@pytest.mark.usefixtures("standins")
def test_short_run_keeps_standin_the_run_that_made_it_uses(sb):
    """Two sandboxes in one directory, as an agent running tools in parallel
    does: the second adopts the first's stand-ins.  When the second ends
    first, it must not remove them: the kernel then detaches the first
    run's read-only mount of `.bashrc`, and its command writes the file
    on the host (the previous build let it)."""
    a = _long_run_then_write(sb)
    assert read_line(a) == b"ready\n"
    r = sb.run(["true"], settings=WRITE_WS)      # adopts, then ends first
    assert r.returncode == 0, r
    _still_protected(sb, a)
    assert wait_until(lambda: os.listdir(sb.ws) == [], 5), os.listdir(sb.ws)


@pytest.mark.usefixtures("standins")
def test_killed_adopter_replay_keeps_standin_its_maker_uses(sb):
    """The same through crash recovery: the run that adopted the stand-ins
    is killed, and the next run replays its journal while the run that
    made them still mounts them."""
    a = _long_run_then_write(sb)
    assert read_line(a) == b"ready\n"
    b = sb.popen("echo ready; exec sleep 300", settings=WRITE_WS)
    assert read_line(b) == b"ready\n"
    os.killpg(b.pid, 9)
    b.wait(timeout=10)
    r = sb.run(["true"], cwd=sb.base)          # replays the killed run's journal
    assert r.returncode == 0, r
    _still_protected(sb, a)
    r = sb.run(["true"], cwd=sb.base)
    assert r.returncode == 0, r
    assert wait_until(lambda: os.listdir(sb.ws) == [], 5), os.listdir(sb.ws)


# ===================== rule 11: stand-ins change nothing on the host ========

@pytest.mark.usefixtures("standins")
def test_standins_do_not_change_host_programs(sb):
    """While a sandbox runs with a writable home, its stand-ins are on the
    host: a host login shell still reads ~/.profile (an empty stand-in
    ~/.bash_profile made bash skip it), and the JSON ones still parse."""
    home = sb.mkdir("home2", base=sb.base)
    sb.mkfile(".profile", "export FROM_PROFILE=profile-was-read\n", base=home)
    p = sb.popen("echo ready; read x", settings={"filesystem": {"allowWrite": [str(home)]}},
                 env={"HOME": str(home)}, stdin=subprocess.PIPE)
    assert read_line(p) == b"ready\n"
    try:
        assert (home / ".bash_profile").exists(), "no stand-in: nothing tested"
        r = sb.host(["bash", "-l", "-c", 'echo "[$FROM_PROFILE]"'],
                    env={"HOME": str(home)})
        assert r.stdout.strip().endswith("[profile-was-read]"), r
        bad = []
        for rel in (".mcp.json",):
            try:
                json.loads((home / rel).read_text())
            except ValueError as e:
                bad.append("%s: %s" % (rel, e))
        assert bad == [], bad
    finally:
        p.communicate(b"go\n", timeout=20)
    assert p.returncode == 0
    assert sorted(os.listdir(home)) == [".profile"]
