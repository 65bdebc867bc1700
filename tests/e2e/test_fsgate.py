"""Issue 12 part 2 and issue 8 rule 3: the creation gate.

Protected names are refused wherever and whenever the command makes them
(any depth, directories made during the run), by every route that makes a
name (open, creat, openat2, mkdir, mknod, symlink, link, rename, exchange,
truncate), with nothing shown in the user's tree; git keeps working and
nothing git leaves in a repository the command makes can run a program.
Every attack is checked on the host afterwards."""

import json
import os
import subprocess
import textwrap
import time

import pytest

GENV = {"GIT_AUTHOR_NAME": "E2E", "GIT_AUTHOR_EMAIL": "e2e@example.com",
        "GIT_COMMITTER_NAME": "E2E", "GIT_COMMITTER_EMAIL": "e2e@example.com",
        "GIT_CONFIG_NOSYSTEM": "1"}
WS = {"filesystem": {"allowWrite": ["."]}}

# Each route by which a name can be made, as a Python statement on `p`
# (the path to make) run inside the sandbox; `d` is a scratch file.
ROUTES = {
    "open": "os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o644))",
    "open_trunc": "os.close(os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC))",
    "creat": "libc.creat(p.encode(), 0o644) >= 0 or fail()",
    "openat2": "openat2(p, os.O_WRONLY | os.O_CREAT) >= 0 or fail()",
    "dirfd": "os.close(os.open(os.path.basename(p), os.O_WRONLY | os.O_CREAT, "
             "dir_fd=os.open(os.path.dirname(p) or '.', os.O_RDONLY)))",
    "mkdir": "os.mkdir(p)",
    "mknod": "os.mknod(p, 0o644 | stat.S_IFREG)",
    "mkfifo": "os.mkfifo(p)",
    "symlink": "os.symlink('/etc/passwd', p)",
    "link": "os.link(d, p)",
    "rename": "os.rename(d, p)",
    "exchange": "libc.renameat2(-100, d.encode(), -100, p.encode(), 2) == 0 or fail()",
    "tmpfile_link": "fd = os.open(os.path.dirname(p) or '.', os.O_WRONLY | os.O_TMPFILE); "
                    "os.link('/proc/self/fd/%d' % fd, p, follow_symlinks=True)",
    "via_symlink": "os.symlink(os.path.basename(p), p + '.lnk'); "
                   "os.close(os.open(p + '.lnk', os.O_WRONLY | os.O_CREAT))",
}

DRIVER = textwrap.dedent("""\
    import ctypes, os, stat, sys
    libc = ctypes.CDLL(None, use_errno=True)
    class How(ctypes.Structure):
        _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                    ("resolve", ctypes.c_uint64)]
    def openat2(path, flags, mode=0o644):
        how = How(flags, mode if flags & os.O_CREAT else 0, 0)
        return libc.syscall(437, -100, path.encode(), ctypes.byref(how),
                            ctypes.c_size_t(24))
    def fail():
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    for line in sys.stdin.read().splitlines():
        route, p, stmt = line.split("\\t")
        d = "scratch-%d" % os.getpid()
        open(d, "w").write("[core]\\n\\tfsmonitor = touch /tmp/pwned\\n")
        try:
            os.makedirs(os.path.dirname(p) or ".", exist_ok=True)
            exec(stmt)
            print("MADE", route, p, flush=True)
        except OSError as e:
            print("refused", route, p, e.errno, flush=True)
        for q in (d, p + ".lnk"):
            try: os.unlink(q)
            except OSError: pass
""")


def drive(sb, cases, settings=WS, cwd=None):
    """Run `cases` ((route, path) pairs) inside one sandbox; the lines."""
    sb.mkfile("drv.py", DRIVER)
    stdin = "".join("%s\t%s\t%s\n" % (r, p, ROUTES[r]) for r, p in cases)
    r = sb.run(["python3", str(sb.ws / "drv.py")], settings=settings, input=stdin, cwd=cwd)
    assert r.returncode == 0, r
    return r.stdout.splitlines()


NAMES = [".bashrc", ".zshrc", ".profile", ".gitconfig", ".gitmodules", ".mcp.json",
         ".ripgreprc", ".vscode", ".idea"]


def test_protected_names_refused_at_any_depth_by_every_route(sb):
    sb.host(["git", "init", "-q", "."])
    cases = []
    for route in ROUTES:
        for name in (".bashrc", ".mcp.json", ".vscode"):
            for d in ("", "new/", "a/b/c/d/e/f/g/h/"):
                cases.append((route, d + name))
    # a name in a directory made during the run, below every search depth
    cases += [("open", "n/m/.vscode/settings.json"), ("mkdir", "n/m/.claude/commands"),
              ("open", "n/.claude/settings.json"), ("open", "z/.idea/workspace.xml")]
    lines = drive(sb, cases)
    made = [l for l in lines if l.startswith("MADE")]
    assert not made, made
    assert len(lines) == len(cases)
    for route, p in cases:
        assert not os.path.lexists(sb.ws / p), (route, p)
    # ... and nothing was left to show for it
    st = sb.host(["git", "status", "--porcelain", "--ignored"]).stdout
    assert ".bashrc" not in st and ".vscode" not in st and ".mcp.json" not in st, st


def test_ordinary_names_still_made_by_every_route(sb):
    cases = [(r, "ok-%s" % r) for r in ROUTES] + [(r, "deep/er/ok-%s" % r) for r in ROUTES]
    lines = drive(sb, cases)
    refused = [l for l in lines if not l.startswith("MADE")]
    # exchange needs an existing destination; openat2 is ENOSYS under the
    # gate (callers fall back to openat)
    assert all(" exchange " in l or l.endswith(" 38") for l in refused), refused
    assert len(refused) == 4, refused


def test_no_stand_ins_in_the_users_tree(sb):
    """issue 12: git status during a run shows the user's files only, and
    git add -A inside commits nothing srt made."""
    sb.host(["git", "init", "-q", "."], env=GENV)
    sb.mkfile("README", "hi\n")
    sb.host(["git", "add", "README"], env=GENV)
    sb.host(["git", "commit", "-qm", "one"], env=GENV)
    p = sb.popen("sleep 3", settings=WS)
    time.sleep(1.0)
    during = sb.host(["git", "status", "--porcelain", "--ignored"]).stdout
    p.wait(timeout=30)
    assert during == "", during
    r = sb.run("git add -A && git commit -qm two --allow-empty && git show --stat --format= HEAD",
               settings=WS, env=GENV)
    assert r.returncode == 0, r
    assert r.stdout.strip() == "", r.stdout
    assert sb.host(["git", "status", "--porcelain", "--ignored"]).stdout == ""


def test_git_works_and_new_repositories_cannot_run_code(sb):
    sb.host(["git", "init", "-q", "."], env=GENV)
    sb.host(["git", "commit", "-q", "--allow-empty", "-m", "root"], env=GENV)
    script = textwrap.dedent("""\
        set -e
        mkdir sub && cd sub && git init -q && git config user.name me
        echo x > f && git add f && git commit -qm one
        ls .git/hooks | grep -q sample
        cd .. && git worktree add -q wt && test -f wt/.git
        git -c protocol.file.allow=always submodule add -q ./sub mod 2>&1 | tail -1
        echo GIT-OK
        for h in sub/.git/hooks/pre-commit sub/.git/hooks/post-checkout \\
                 mod/.git/hooks/pre-commit .git/modules/mod/hooks/pre-commit; do
            (echo '#!/bin/sh' > $h) 2>/dev/null && echo WROTE $h || true
        done
        (mv sub/.git/hooks/pre-commit.sample sub/.git/hooks/pre-commit) 2>/dev/null && echo WROTE mv || true
        (cd sub && git config core.fsmonitor 'touch /tmp/x') 2>/dev/null && echo WROTE fsmonitor || true
        (cd sub && git config core.hooksPath h) 2>/dev/null && echo WROTE hookspath || true
        (printf '[core]\\n\\tfsmonitor = evil\\n' > c && mv c sub/.git/config) 2>/dev/null && echo WROTE cfg || true
        (cd sub/.git && ln -sf ../../c2 config) 2>/dev/null && echo WROTE cfglink || true
        (mkdir -p b1/objects b1/refs && printf '[core]\\n\\tfsmonitor=evil\\n' > b1/config &&
         echo 'ref: refs/heads/main' > b1/HEAD) 2>/dev/null && echo WROTE bare1 || true
        (mkdir -p b2/objects b2/refs && echo 'ref: refs/heads/main' > b2/HEAD &&
         printf '[core]\\n\\tfsmonitor=evil\\n' > b2/config) 2>/dev/null && echo WROTE bare2 || true
        (mkdir -p b3/objects b3/refs b3/hooks && echo '#!/bin/sh' > b3/hooks/post-checkout &&
         echo 'ref: refs/heads/main' > b3/HEAD) 2>/dev/null && echo WROTE bare3 || true
        (mkdir -p x/hooks && echo '#!/bin/sh' > x/hooks/pre-commit && mv x sub2.git &&
         mkdir n2 && mv sub2.git n2/.git) 2>/dev/null && echo WROTE renamed-git || true
        echo DONE
        """)
    r = sb.run(script, settings=WS, env=GENV)
    assert "GIT-OK" in r.stdout and "DONE" in r.stdout, r
    assert "WROTE" not in r.stdout, r.stdout
    ws = sb.ws
    for bad in ("sub/.git/hooks/pre-commit", "b1/HEAD", "b2/config", "b3/HEAD", "n2/.git"):
        assert not os.path.lexists(ws / bad), bad
    cfg = (ws / "sub/.git/config").read_text()
    assert "fsmonitor" not in cfg and "hooksPath" not in cfg and "name = me" in cfg, cfg
    # host git in the new repositories runs nothing
    assert sb.host(["git", "-C", str(ws / "sub"), "status", "--porcelain"]).returncode == 0


def test_existing_deep_protected_files_stay_read_only(sb):
    deep = "a/b/c/d/e/f"
    for n in (".bashrc", ".mcp.json"):
        sb.mkfile("%s/%s" % (deep, n), "user\n")
    sb.mkfile(deep + "/r/.git/config", "[core]\n\tbare = false\n")
    sb.mkfile(deep + "/r/.git/HEAD", "ref: refs/heads/main\n")
    acts = [
        "echo evil >> %s/.bashrc" % deep,
        "echo evil > %s/.mcp.json" % deep,
        "truncate -s 0 %s/.bashrc" % deep,
        "python3 -c \"import os; os.truncate('%s/.bashrc', 0)\"" % deep,
        "ln %s/.bashrc alias && echo evil >> alias" % deep,
        "exec 3<%s/.bashrc && echo evil > /proc/self/fd/3" % deep,
        "echo x > t && mv t %s/.bashrc" % deep,
        "printf '[core]\\n\\tfsmonitor=evil\\n' >> %s/r/.git/config" % deep,
        "cd %s/r && git config core.fsmonitor evil" % deep,
    ]
    script = "; ".join("(%s) 2>/dev/null && echo WROTE || echo refused" % a for a in acts)
    r = sb.run(script, settings=WS, env=GENV)
    assert r.stdout.split() == ["refused"] * len(acts), (r.stdout, acts)
    assert (sb.ws / deep / ".bashrc").read_text() == "user\n"
    assert (sb.ws / deep / ".mcp.json").read_text() == "user\n"
    assert "fsmonitor" not in (sb.ws / deep / "r/.git/config").read_text()


def test_everyday_writes_through_the_gate(sb):
    """Paths the gate must get right: the command's own descriptors by
    name, relative and '..' paths, umask, O_TMPFILE, FIFOs, TMPDIR."""
    script = textwrap.dedent("""\
        set -e
        exec >> log 2>> errlog
        echo out >> /dev/stdout
        echo err > /dev/stderr
        echo fd1 >> /proc/self/fd/1
        echo null > /dev/null
        mkdir -p d1/d2 && cd d1/d2 && echo up > ../../up.txt && cd ../..
        (umask 077 && echo m > private.txt) && stat -c %a private.txt
        (umask 022 && mkdir pub) && stat -c %a pub
        echo t > "$TMPDIR/t" && cat "$TMPDIR/t"
        mkfifo f && (cat f > fifo.out &) && echo viafifo > f && sleep 0.2 && cat fifo.out
        python3 -c "import tempfile,os; f=tempfile.NamedTemporaryFile(dir='.',delete=False); f.write(b'x'); f.close(); os.replace(f.name,'replaced')"
        test -s replaced && cat up.txt
        exec 4>held && echo viafd > /proc/self/fd/4 && cat held
        echo END
        """)
    r = sb.run(script + "\nexec >&- 2>&-", settings=WS)
    assert r.returncode == 0, r
    r = type(r)(0, (sb.ws / "log").read_text(), (sb.ws / "errlog").read_text())
    for want in ("out", "fd1", "600", "755", "t", "viafifo", "up", "viafd", "END"):
        assert want in r.stdout.split(), (want, r.stdout)
    assert "err" in r.stderr


def test_gate_does_not_write_through_inits_own_descriptors(sb):
    """init holds the caller's stdio as the host opened it (srt's stdin is
    the host's writable-mount file): a symlink to /dev/stdin must not reach
    it (the gate never resolves /proc/self), nor /dev/stdin itself."""
    victim = sb.mkfile("victim.txt", "user\n")
    sb.mkdir("w")
    settings = sb.write_settings({"filesystem": {"allowWrite": [str(sb.ws / "w")]}})
    script = ("cd w; ln -s /dev/stdin l0; ln -s /proc/self/fd/0 l1; ln -s /dev/fd/0 l2; "
              "for l in l0 l1 l2 /dev/stdin /proc/self/fd/0; do "
              "(echo evil > $l) 2>/dev/null && echo WROTE $l || echo refused; done")
    argv = sb.ident.wrap(["sh", "-c", '"$0" --settings "$1" -c "$2" < "$3"', sb.srt,
                          str(settings), script, str(victim)], sb.env())
    r = subprocess.run(argv, cwd=str(sb.ws), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r
    assert r.stdout.split() == ["refused"] * 5, r.stdout
    assert victim.read_text() == "user\n"


def test_proc_stays_unwritable_through_the_gate(sb):
    acts = ["echo 1 > /proc/1/oom_score_adj", "echo x > /proc/1/comm",
            "python3 -c \"open('/proc/1/mem','wb')\"",
            "echo x > /proc/self/attr/current", "echo x > /proc/sys/kernel/hostname"]
    script = "; ".join("(%s) 2>/dev/null && echo WROTE || echo refused" % a for a in acts)
    r = sb.run(script, settings=WS)
    assert r.stdout.split() == ["refused"] * len(acts), r.stdout


def test_refusals_are_recorded(sb):
    out = sb.base / "v.jsonl"
    path = sb.write_settings(WS)
    r = sb.run(["--settings", str(path), "--violations", str(out), "-c",
                "echo x > .bashrc; mkdir -p q/.vscode; echo y > /usr/nope; true"], raw=True)
    assert r.returncode == 0, r
    recs = [json.loads(l) for l in out.read_text().splitlines()]
    fs = [v for v in recs if v["kind"] == "filesystem"]
    assert len(fs) == 3, recs
    assert any(".bashrc" in (v.get("path") or "") and v.get("rule") for v in fs), fs
    assert any("/usr/nope" in (v.get("path") or "") for v in fs), fs
