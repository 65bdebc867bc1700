"""Issue 10 item 4: git in a directory that has no repository.

`git init`, `git add` and `git commit` work in an allowWrite directory
without a repository (srt gives the sandbox a private git directory there
and imports it at exit); during the run the host sees no repository there;
what the command puts in the new repository's hooks, config and layout
cannot make git on the host run anything afterwards; a command that leaves
no valid repository leaves no .git, and neither does a killed srt once a
later run has cleaned up.  Every attack checks that it was set up inside
(the old build refused `git init` there) and then runs git on the host."""

import os
import re
import signal
import stat
import subprocess

import pytest

from e2e_util import read_line, wait_until

# The private git directory is the gate-off path (the creation gate lets
# `git init` write the tree itself, judged: test_fsgate.py); `make nons`
# runs this file with the gate off.
pytestmark = pytest.mark.usefixtures("standins")

WRITE_WS = {"filesystem": {"allowWrite": ["."]}}
GENV = {"GIT_AUTHOR_NAME": "E2E", "GIT_AUTHOR_EMAIL": "e2e@example.com",
        "GIT_COMMITTER_NAME": "E2E", "GIT_COMMITTER_EMAIL": "e2e@example.com",
        "GIT_CONFIG_NOSYSTEM": "1"}
INIT = "git init -q -b main && echo hi > f && git add f && git commit -qm inside"


def host_git(sb, args, cwd=None, check=True, timeout=30):
    """git on the host as the identity ("@prog", ...: prog instead of git)."""
    env = dict(GENV, GIT_CEILING_DIRECTORIES=str(sb.base))
    argv = [args[0][1:]] + args[1:] if args[0].startswith("@") else ["git"] + args
    return sb.host(argv, cwd=cwd, env=env, check=check, timeout=timeout)


def run_dir(sb):
    return "/tmp/srt-%d" % sb.uid


def private_dirs(sb, since=()):
    """The private git directories in the run directory (other than those
    listed in `since`: live runs of other tests may have their own)."""
    d = run_dir(sb)
    try:
        return [e for e in os.listdir(d) if re.match(r"run-.*\.git[0-9]+$", e) and e not in since]
    except OSError:
        return []


def test_init_add_commit_imported(sb):
    r = sb.run(INIT + " && git log --oneline && echo done", settings=WRITE_WS, env=GENV)
    assert r.returncode == 0 and "done" in r.stdout, r
    log = host_git(sb, ["log", "--oneline"])
    assert "inside" in log.stdout, log
    assert host_git(sb, ["status", "--porcelain"]).stdout == ""
    git = sb.ws / ".git"
    assert os.listdir(git / "hooks") == [], "hook samples imported"
    assert stat.S_IMODE(os.stat(git).st_mode) == 0o755
    assert os.stat(git / "HEAD").st_uid == sb.uid
    # the user goes on on the host
    sb.mkfile("g", "more\n")
    host_git(sb, ["add", "g"])
    host_git(sb, ["commit", "-qm", "host"])
    assert private_dirs(sb) == [], "private git directory left in the run directory"


def test_host_sees_no_repository_during_run(sb):
    p = sb.popen(INIT + " && echo ready && read x && echo finished",
                 settings=WRITE_WS, env=GENV, stdin=subprocess.PIPE)
    assert read_line(p) == b"ready\n"
    # the command has a repository; the host sees an empty directory, which
    # git does not take for one
    git = sb.ws / ".git"
    assert git.is_dir() and os.listdir(git) == []
    st = host_git(sb, ["status"], check=False)
    assert st.returncode != 0 and "not a git repository" in st.stderr, st
    out, err = p.communicate(b"go\n", timeout=30)
    assert b"finished" in out, (out, err)
    assert "inside" in host_git(sb, ["log", "--oneline"]).stdout


# Each payload runs inside after INIT; `trigger` runs on the host after the
# run.  The payload would create the marker file /BASE/pwned-NAME.
PAYLOADS = {
    "hook_pre_commit": (
        "printf '#!/bin/sh\\ntouch %(m)s\\n' > .git/hooks/pre-commit && "
        "chmod +x .git/hooks/pre-commit",
        [["commit", "-q", "--allow-empty", "-m", "host"]]),
    "hook_post_checkout": (
        "printf '#!/bin/sh\\ntouch %(m)s\\n' > .git/hooks/post-checkout && "
        "chmod +x .git/hooks/post-checkout",
        [["checkout", "-q", "-b", "other"]]),
    "fsmonitor": ("git config core.fsmonitor 'touch %(m)s; false'", [["status"]]),
    "hooks_path": (
        "mkdir hk && printf '#!/bin/sh\\ntouch %(m)s\\n' > hk/pre-commit && "
        "chmod +x hk/pre-commit && git config core.hooksPath \"$PWD/hk\"",
        [["commit", "-q", "--allow-empty", "-m", "host"]]),
    "ssh_command": (
        "git config remote.origin.url ssh://127.0.0.1:1/x && "
        "git config core.sshCommand 'touch %(m)s; false'",
        [["fetch", "-q", "origin"]]),
    # git pages only to a terminal: `script` gives it one
    "pager": ("git config core.pager 'touch %(m)s; cat'", [["@script", "-qc", "git -p log", "/dev/null"]]),
    "upload_pack": (
        "git config remote.origin.url \"$PWD\" && "
        "git config remote.origin.uploadpack 'touch %(m)s; git-upload-pack'",
        [["fetch", "-q", "origin"]]),
    "include_path": (
        "printf '[core]\\n\\tfsmonitor = touch %(m)s; false\\n' > evil.cfg && "
        "git config include.path \"$PWD/evil.cfg\"",
        [["status"]]),
    "filter_clean": (
        "git config filter.x.clean 'touch %(m)s; cat' && echo '* filter=x' > .gitattributes",
        [["add", "-A"], ["status"]]),
    "commondir": (
        "mkdir -p planted && git init -q planted/r && "
        "git -C planted/r config core.fsmonitor 'touch %(m)s; false' && "
        "echo \"$PWD/planted/r/.git\" > .git/commondir",
        [["status"]]),
    "config_symlink": (
        "printf '[core]\\n\\tfsmonitor = touch %(m)s; false\\n' > evil.cfg && "
        "rm .git/config && ln -s \"$PWD/evil.cfg\" .git/config",
        [["status"]]),
    "fifo": ("rm .git/index && mkfifo .git/index", [["status"]]),
    # red team: a remote that is a repository the command planted in its
    # workspace, bare (no .git/hooks to protect): git push runs its hooks
    "local_remote_hooks": (
        "git init -q --bare store.git && "
        "printf '#!/bin/sh\\ntouch %(m)s\\n' > store.git/hooks/pre-receive && "
        "chmod +x store.git/hooks/pre-receive && git remote add origin \"$PWD/store.git\"",
        [["push", "-q", "origin", "main"]]),
    # red team: an interactive rebase left stopped; git status asks for
    # `git rebase --continue`, which runs the todo list's exec lines
    "rebase_exec": (
        "echo b >> f && git commit -qam b && "
        "{ GIT_SEQUENCE_EDITOR=true git rebase -q -i HEAD~1 --exec false >/dev/null 2>&1; "
        "[ -d .git/rebase-merge ]; } && echo 'exec touch %(m)s' > .git/rebase-merge/git-rebase-todo",
        [["rebase", "--continue"]]),
    # red team: a cherry-pick left stopped, whose sequencer/opts names a
    # merge strategy with a '/': git status asks for `git cherry-pick
    # --continue`, which runs git-merge-<strategy>, a file in the workspace
    "sequencer_strategy": (
        "git checkout -qb o && echo b > f && git commit -qam b && echo 2 > g && git add g && "
        "git commit -qm c && git checkout -q main && echo z > f && git commit -qam z && "
        "{ git cherry-pick o~1 o >/dev/null 2>&1; [ -d .git/sequencer ]; } && "
        "echo b > f && git add f && mkdir git-merge-x && "
        "printf '#!/bin/sh\\ntouch %(m)s\\nexit 1\\n' > git-merge-x/evil && chmod +x git-merge-x/evil && "
        "printf '[options]\\n\\tstrategy = x/evil\\n' > .git/sequencer/opts",
        [["cherry-pick", "--continue"]]),
    # red team: the legacy remote files, which the config's remote.*.url
    # check never sees, naming a bare repository planted in the workspace
    "legacy_remotes_file": (
        "git init -q --bare store.git && "
        "printf '#!/bin/sh\\ntouch %(m)s\\n' > store.git/hooks/pre-receive && "
        "chmod +x store.git/hooks/pre-receive && mkdir -p .git/remotes && "
        "printf 'URL: %%s\\nPush: refs/heads/main:refs/heads/main\\n' \"$PWD/store.git\" "
        "> .git/remotes/origin",
        [["push", "-q"], ["push", "-q", "origin"]]),
    # red team: branch.main.remote names a remote whose path url the
    # import drops: for git the bare name is then a path, ./origin, a bare
    # repository planted there, and plain `git push` runs its hook
    "branch_remote_as_path": (
        "git init -q --bare origin && "
        "printf '#!/bin/sh\\ntouch %(m)s\\n' > origin/hooks/pre-receive && "
        "chmod +x origin/hooks/pre-receive && git remote add origin \"$PWD/origin\" && "
        "git config branch.main.remote origin && git config branch.main.merge refs/heads/main",
        [["push", "-q"]]),
    # the remote's path url is dropped, but `git push origin` names it:
    # with no url git reads the name as the path ./origin
    "explicit_push_to_dropped_remote": (
        "git init -q --bare origin && "
        "printf '#!/bin/sh\\ntouch %(m)s\\n' > origin/hooks/pre-receive && "
        "chmod +x origin/hooks/pre-receive && git remote add origin \"$PWD/origin\"",
        [["push", "-q", "origin", "main"], ["push", "-q", "origin", "HEAD"]]),
    "legacy_branches_file": (
        "git init -q --bare store.git && "
        "printf '#!/bin/sh\\ntouch %(m)s\\n' > store.git/hooks/pre-receive && "
        "chmod +x store.git/hooks/pre-receive && mkdir -p .git/branches && "
        "echo \"$PWD/store.git#main\" > .git/branches/origin",
        [["push", "-q", "origin"]]),
}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_does_not_reach_host(sb, name):
    payload, triggers = PAYLOADS[name]
    marker = sb.base / ("pwned-" + name)
    # the marker lies outside the writable root: only the host could make it
    script = "%s && (%s) && echo planted" % (INIT, payload % {"m": marker})
    r = sb.run(script, settings=WRITE_WS, env=GENV)
    assert r.returncode == 0 and "planted" in r.stdout, r
    assert not marker.exists()
    for t in triggers:
        host_git(sb, t, check=False, timeout=20)
    assert not marker.exists(), "the command's %s ran on the host (srt said: %r)" % (
        name, r.stderr)
    # and the repository is still the one the command made
    assert "inside" in host_git(sb, ["log", "--oneline"]).stdout
    git = sb.ws / ".git"
    for rel in ("commondir", "config.worktree", "modules", "worktrees", "rebase-merge",
                "sequencer", "remotes", "branches"):
        assert not os.path.lexists(git / rel), rel
    for dirpath, dirnames, filenames in os.walk(git):
        for f in filenames + dirnames:
            m = os.lstat(os.path.join(dirpath, f)).st_mode
            assert stat.S_ISREG(m) or stat.S_ISDIR(m), os.path.join(dirpath, f)


def test_import_drops_group_and_other_write(sb):
    """A repository the command made world-writable (refs, objects, HEAD)
    would let any local user rewrite it on the host after the import: the
    import keeps no write permission for group or others (red team)."""
    r = sb.run(INIT + " && chmod 777 .git/refs .git/objects .git/refs/heads && "
               "chmod 666 .git/HEAD .git/config && chmod g+w,o+w .git && echo planted",
               settings=WRITE_WS, env=GENV)
    assert r.returncode == 0 and "planted" in r.stdout, r
    git = sb.ws / ".git"
    for dirpath, dirnames, filenames in os.walk(git):
        for f in filenames + dirnames:
            p = os.path.join(dirpath, f)
            assert os.lstat(p).st_mode & 0o022 == 0, (p, oct(os.lstat(p).st_mode))
    assert "inside" in host_git(sb, ["log", "--oneline"]).stdout


def test_gitlink_to_planted_repository_is_not_imported(sb):
    """A repository made in a subdirectory during the run, registered as a
    gitlink in the new top-level index: imported, a plain host `git status`
    at the top would recurse into it and run its fsmonitor (issue 8's
    gitlink vector).  The top-level repository is kept aside instead."""
    marker = sb.base / "pwned-gitlink"
    r = sb.run(INIT + " && mkdir sub && git -C sub init -q && "
               "git -C sub commit -q --allow-empty -m s && "
               "git -C sub config core.fsmonitor 'touch %s; false' && "
               "git add sub 2>/dev/null && git commit -qm top && echo planted" % marker,
               settings=WRITE_WS, env=GENV)
    assert r.returncode == 0 and "planted" in r.stdout, r
    host_git(sb, ["status"], check=False)
    assert not marker.exists(), "the gitlinked repository's fsmonitor ran on the host"
    m = re.search(r"kept at (/tmp/srt-[0-9]+/kept-run-[A-Za-z0-9]+\.git[0-9]+)", r.stderr)
    assert m and "gitlink" in r.stderr, r.stderr
    subprocess.run(["rm", "-rf", m.group(1)], timeout=30)


def test_allow_git_config_keeps_config_not_hooks(sb):
    """filesystem.allowGitConfig lets the command configure git: the new
    repository's config is imported as written (its executable settings
    named at exit), the hooks are dropped all the same."""
    marker = sb.base / "pwned-agc"
    settings = {"filesystem": {"allowWrite": ["."], "allowGitConfig": True}}
    r = sb.run(INIT + " && git config core.pager 'less -R' && git config alias.st status && "
               "printf '#!/bin/sh\\ntouch %s\\n' > .git/hooks/pre-commit && "
               "chmod +x .git/hooks/pre-commit && echo planted" % marker,
               settings=settings, env=GENV)
    assert r.returncode == 0 and "planted" in r.stdout, r
    assert host_git(sb, ["config", "core.pager"]).stdout.strip() == "less -R"
    assert host_git(sb, ["config", "alias.st"]).stdout.strip() == "status"
    assert "core.pager" in r.stderr and "allowGitConfig" in r.stderr, r.stderr
    host_git(sb, ["commit", "-q", "--allow-empty", "-m", "host"])
    assert not marker.exists(), "a hook ran with allowGitConfig"


def test_dropped_settings_are_named(sb):
    r = sb.run(INIT + " && git config core.fsmonitor 'x' && git config user.name Kept && "
               "printf '#!/bin/sh\\n' > .git/hooks/pre-commit", settings=WRITE_WS, env=GENV)
    assert r.returncode == 0, r
    assert "core.fsmonitor" in r.stderr and "pre-commit" in r.stderr, r.stderr
    assert host_git(sb, ["config", "user.name"]).stdout.strip() == "Kept"


@pytest.mark.parametrize("script", [
    # half-made: no valid HEAD
    "mkdir -p .git/objects .git/refs && echo garbage > .git/HEAD; exit 1",
    "git init -q && rm .git/HEAD && exit 1",
    # a HEAD that points outside refs/heads
    "git init -q && echo 'ref: ../../x' > .git/HEAD",
    # dies half-way
    "git init -q && rm -r .git/refs && kill -9 $$",
])
def test_no_valid_repository_leaves_no_git(sb, script):
    r = sb.run(script + "; echo ran", settings=WRITE_WS, env=GENV)
    assert "ran" in r.stdout or r.returncode != 0, r
    assert not os.path.lexists(sb.ws / ".git"), os.listdir(sb.ws)
    assert private_dirs(sb) == []


def test_srt_killed_leaves_nothing_a_later_run_cannot_clean(sb):
    p = sb.popen(INIT + " && echo ready && exec sleep 300", settings=WRITE_WS, env=GENV)
    assert read_line(p) == b"ready\n"
    assert private_dirs(sb), "no private git directory during the run"
    os.kill(p.pid, signal.SIGKILL)   # srt itself (env and setpriv exec it)
    p.wait(timeout=10)
    # its sandbox goes with it; the host still sees no repository
    st = host_git(sb, ["status"], check=False)
    assert st.returncode != 0, st
    r = sb.run(["true"], cwd=sb.base)   # a later run replays the journal
    assert r.returncode == 0, r
    assert wait_until(lambda: not os.path.lexists(sb.ws / ".git"), 5), os.listdir(sb.ws)
    assert private_dirs(sb) == [], "the killed run's private git directory is left"


def test_git_created_on_host_meanwhile_is_kept(sb):
    p = sb.popen(INIT + " && echo ready && read x && echo finished",
                 settings=WRITE_WS, env=GENV, stdin=subprocess.PIPE)
    assert read_line(p) == b"ready\n"
    host_git(sb, ["init", "-q", "-b", "main"])
    host_git(sb, ["commit", "-q", "--allow-empty", "-m", "on-host"])
    out, err = p.communicate(b"go\n", timeout=30)
    assert b"finished" in out, (out, err)
    log = host_git(sb, ["log", "--oneline"]).stdout
    assert "on-host" in log and "inside" not in log, log
    assert b"appeared there on the host" in err, err
    m = re.search(rb"kept at (/tmp/srt-[0-9]+/kept-run-[A-Za-z0-9]+\.git[0-9]+)", err)
    assert m, err
    k = m.group(1).decode()
    try:
        assert os.path.isfile(os.path.join(k, "HEAD"))
    finally:
        subprocess.run(["rm", "-rf", k], timeout=30)


def test_init_in_working_subdirectory_and_parent(sb):
    sub = sb.mkdir("sub")
    settings = {"filesystem": {"allowWrite": [str(sb.ws)]}}
    r = sb.run("git init -q -b main && git commit -q --allow-empty -m insub && "
               "git init -q -b main .. && git -C .. commit -q --allow-empty -m inroot",
               settings=settings, cwd=sub, env=GENV)
    assert r.returncode == 0, r
    assert "insub" in host_git(sb, ["log", "--oneline"], cwd=sub).stdout
    assert "inroot" in host_git(sb, ["log", "--oneline"]).stdout


def test_several_roots(sb):
    a, b = sb.mkdir("a"), sb.mkdir("b")
    settings = {"filesystem": {"allowWrite": [str(a), str(b)]}}
    r = sb.run("for d in a b; do git -C $d init -q -b main && "
               "git -C $d commit -q --allow-empty -m in-$d || exit 1; done",
               settings=settings, env=GENV)
    assert r.returncode == 0, r
    assert "in-a" in host_git(sb, ["log", "--oneline"], cwd=a).stdout
    assert "in-b" in host_git(sb, ["log", "--oneline"], cwd=b).stdout
    # the workspace itself was not writable: nothing there
    assert not os.path.lexists(sb.ws / ".git")


def test_other_file_system_is_copied(sb):
    """The run directory is on another file system than the root (a tmpfs
    here): the repository is copied, sanitized the same way."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = sb.base / "mnt"
    mnt.mkdir()
    marker = sb.base / "pwned-copy"
    settings = sb.write_settings({"filesystem": {"allowWrite": [str(mnt / "ws")]}})
    inner = ("%s && printf '#!/bin/sh\\ntouch %s\\n' > .git/hooks/pre-commit && "
             "chmod +x .git/hooks/pre-commit && git config core.fsmonitor 'touch %s' && "
             "ln -s /etc .git/lnk && echo planted") % (INIT, marker, marker)
    srt = sb.ident.wrap([sb.srt, "--settings", settings, "-c", inner], sb.env(GENV))
    host = sb.ident.wrap(["sh", "-c", "git status >/dev/null; git commit -q --allow-empty -m host;"
                          " git log --oneline; ls -A .git/hooks; ls -A .git"],
                         sb.env(dict(GENV, GIT_CEILING_DIRECTORIES=str(mnt))))
    q = lambda argv: " ".join("'%s'" % a.replace("'", "'\\''") for a in argv)
    script = ("mount -t tmpfs -o mode=755 tmpfs %s && mkdir %s/ws && chown %d:%d %s/ws && "
              "cd %s/ws && %s && echo ---- && %s") % (
        mnt, mnt, sb.ident.uid, sb.ident.gid, mnt, mnt, q(srt), q(host))
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "planted" in r.stdout, r
    after = r.stdout.split("----", 1)[1]
    assert "inside" in after and "host" in after, after
    assert "lnk" not in after and "pre-commit" not in after, after
    assert not marker.exists(), "a hook or fsmonitor of the copied repository ran"
    assert "core.fsmonitor" in r.stderr, r.stderr


def test_home_as_the_root(sb):
    """allowWrite ["~"] with no repository there: the same private git
    directory at ~/.git."""
    git = sb.home / ".git"
    if os.path.lexists(git):
        pytest.skip("the identity's home already has a .git")
    try:
        r = sb.run(INIT + " && echo done", settings={"filesystem": {"allowWrite": ["~"]}},
                   cwd=sb.home, env=GENV)
        assert r.returncode == 0 and "done" in r.stdout, r
        env = dict(GENV, GIT_CEILING_DIRECTORIES=os.path.dirname(str(sb.home)))
        log = sb.host(["git", "log", "--oneline"], cwd=sb.home, env=env)
        assert "inside" in log.stdout
        assert os.listdir(git / "hooks") == []
    finally:
        subprocess.run(["rm", "-rf", str(git), str(sb.home / "f")], timeout=30)
