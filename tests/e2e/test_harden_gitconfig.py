"""Red-team attacks on srt's reading of git configuration (gitconfig.c):
under filesystem.allowGitConfig the command may write .git/config, and the
one defence left is the warning at the end of the run that names what it
added that makes git on the host run a program (gitwatch.c).  Each config
here is one git reads and obeys (checked on the host with `git status` in
the test that runs git itself) but that srt's reader used to read
differently from git, so that the warning said nothing.  Root and
unprivileged (sb fixture)."""

import os
import subprocess

import pytest

GENV = {"GIT_AUTHOR_NAME": "E2E", "GIT_AUTHOR_EMAIL": "e2e@example.com",
        "GIT_COMMITTER_NAME": "E2E", "GIT_COMMITTER_EMAIL": "e2e@example.com",
        "GIT_CONFIG_NOSYSTEM": "1"}
SETTINGS = {"filesystem": {"allowWrite": ["."], "allowGitConfig": True}}
LONG = "f" * 300          # a subsection name longer than srt's old 256-byte bound
GLOB = "/**" * 100        # an includeIf gitdir pattern of 300 bytes that matches every path

# name -> shell text that (re)writes .git/config inside the sandbox, and the
# setting srt must then name
CONFIGS = {
    # git skips a UTF-8 byte order mark at the start of a config
    "bom": ("printf '\\357\\273\\277[core]\\n\\trepositoryformatversion = 0\\n"
            "\\tfsmonitor = ./watch.sh\\n' > .git/config", "core.fsmonitor"),
    # git has no limit on the number of entries (srt stopped at 100000)
    "padding": ("{ printf '[core]\\n\\trepositoryformatversion = 0\\n[x]\\n'; "
                "yes a | head -n 100001; printf '[core]\\n\\tfsmonitor = ./watch.sh\\n'; "
                "} > .git/config", "core.fsmonitor"),
    # git has no limit on a subsection's length
    "long-subsection": ("printf '[core]\\n\\trepositoryformatversion = 0\\n[filter \"%s\"]\\n"
                        "\\tclean = ./watch.sh\\n' > .git/config" % LONG, "filter." + "f" * 200),
    "long-includeif": ("printf '[core]\\n\\trepositoryformatversion = 0\\n[includeIf \"gitdir:%s\"]\\n"
                       "\\tpath = ../inc.cfg\\n' > .git/config" % GLOB, "includeif."),
    # the ext transport runs the command of the URL (git fetch, pull, push)
    "ext-url": ("printf '[core]\\n\\trepositoryformatversion = 0\\n[protocol \"ext\"]\\n"
                "\\tallow = always\\n[remote \"origin\"]\\n\\turl = \"ext::sh -c touch%% ran.log\"\\n'"
                " > .git/config", "protocol.ext.allow, remote.origin.url"),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_allow_git_config_warning_is_not_fooled(sb, name):
    sb.host(["git", "init", "-q", "."])
    script, setting = CONFIGS[name]
    r = sb.run(script, settings=SETTINGS)
    assert r.returncode == 0, r
    said = [l for l in r.stderr.splitlines()
            if "%s/.git/config: the command set" % sb.ws in l
            or "%s/.git/config: cannot be checked" % sb.ws in l]
    assert said, r.stderr
    if "cannot be checked" not in said[0]:
        assert setting in said[0], said


def test_git_obeys_those_configs(sb):
    """The configs above are not malformed: git on the host runs what they
    name (so that the warning test attacks something real)."""
    sb.host(["git", "init", "-q", "."])
    sb.mkfile("watch.sh", "#!/bin/sh\necho RAN >> ran.log\nexit 1\n")
    (sb.ws / "watch.sh").chmod(0o755)
    for name in ("bom", "padding"):
        (sb.ws / "ran.log").unlink(missing_ok=True)
        sb.host(["sh", "-c", CONFIGS[name][0]])
        sb.host(["git", "status", "--porcelain"], env=GENV, check=False)
        assert (sb.ws / "ran.log").exists(), name
    (sb.ws / "ran.log").unlink(missing_ok=True)
    sb.host(["sh", "-c", CONFIGS["ext-url"][0]])
    sb.host(["git", "fetch", "-q", "origin"], env=GENV, check=False)
    assert (sb.ws / "ran.log").exists()


# ---- config.worktree, under the default policy ---------------------------
# `git config extensions.worktreeConfig true` (also done by git
# sparse-checkout) makes git read .git/config.worktree, and
# .git/worktrees/<name>/config.worktree in a linked worktree, without
# creating them: srt protected them only when present, so the command
# created one with a core.fsmonitor that git on the host then ran.

WRITE_WS = {"filesystem": {"allowWrite": ["."]}}


def worktree_config_repo(sb):
    sb.host(["git", "init", "-q", "."])
    sb.host(["git", "config", "extensions.worktreeConfig", "true"])
    sb.host(["git", "commit", "-q", "--allow-empty", "-m", "i"], env=GENV)
    sb.host(["git", "worktree", "add", "-q", str(sb.ws / "linked")], env=GENV)
    gitdir = sb.host(["git", "-C", "linked", "rev-parse", "--git-dir"]).stdout.strip()
    return os.path.relpath(gitdir, str(sb.ws))


def test_config_worktree_cannot_be_planted(sb):
    admin = worktree_config_repo(sb)
    assert admin.startswith(".git/worktrees/"), admin
    for rel in (".git/config.worktree", admin + "/config.worktree"):
        assert not (sb.ws / rel).exists(), rel
    fsm = "[core]\\n\\tfsmonitor = ./watch.sh\\n"
    r = sb.run("printf '%s' > .git/config.worktree; printf '%s' > %s/config.worktree; exit 0"
               % (fsm, fsm, admin), settings=WRITE_WS)
    assert r.returncode == 0, r
    for cwd in (".", "linked"):
        got = sb.host(["git", "-C", cwd, "config", "--get", "core.fsmonitor"], check=False,
                      env={"GIT_CONFIG_NOSYSTEM": "1"})
        assert "watch.sh" not in got.stdout, (cwd, got)
    # the stand-ins are gone after the run, as if never made
    for rel in (".git/config.worktree", admin + "/config.worktree"):
        assert not (sb.ws / rel).exists(), rel
