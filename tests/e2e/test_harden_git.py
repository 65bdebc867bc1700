"""Issue 8, rules 2 and 3: the settings files in force are never writable
from inside, and nothing the command writes where git on the host would
take it from (hooksPath, includes, programs named in a protected config,
worktree administrative files, the XDG config, Claude Code's settings,
dotfiles deeper than the search depth) can make host programs run code.
Every test attacks from inside and then checks the host."""

import json
import os

import pytest

GENV = {"GIT_AUTHOR_NAME": "E2E", "GIT_AUTHOR_EMAIL": "e2e@example.com",
        "GIT_COMMITTER_NAME": "E2E", "GIT_COMMITTER_EMAIL": "e2e@example.com",
        "GIT_CONFIG_NOSYSTEM": "1"}


def attempts(sb, actions, settings, cwd=None, env=None):
    """Run each shell action inside one sandbox; return the list of
    'refused' / 'WROTE: action' lines (one per action)."""
    script = "; ".join(
        "(%s) 2>/dev/null && echo 'WROTE: %s' || echo refused"
        % (a, a.replace("'", "")) for a in actions)
    r = sb.run(script, settings=settings, cwd=cwd, env=env)
    assert r.returncode == 0, r
    lines = r.stdout.split("\n")[:len(actions)]
    return lines


def test_settings_file_in_force_cannot_be_changed(sb):
    # the settings file lies inside a writable root (the base directory)
    settings = {"filesystem": {"allowWrite": [str(sb.base)]}}
    path = sb.write_settings(settings)
    before = open(path, "rb").read()
    name = os.path.basename(path)
    acts = [
        "echo '{\"network\":{\"allowedDomains\":[\"*\"]}}' > ../%s" % name,
        "echo x >> ../%s" % name,
        "mv ../%s ../moved.json" % name,
        "rm -f ../%s" % name,
        "python3 -c \"import os; open('../n.json','w').write('{}'); "
        "os.replace('../n.json', '../%s')\"" % name,
        "ln -f ../n.json ../%s" % name,
    ]
    lines = attempts_raw(sb, acts, path)
    assert lines == ["refused"] * len(acts), lines
    assert open(path, "rb").read() == before


def attempts_raw(sb, actions, settings_path):
    script = "; ".join("(%s) 2>/dev/null && echo WROTE || echo refused" % a
                       for a in actions)
    r = sb.run(["--settings", settings_path, "-c", script], raw=True)
    assert r.returncode == 0, r
    return r.stdout.split("\n")[:len(actions)]


def test_default_settings_file_cannot_be_created(sb):
    # --settings elsewhere, the home directory writable: a planted
    # ~/.srt-settings.json would rule every later plain `srt` run
    target = sb.home / ".srt-settings.json"
    if target.exists():
        pytest.skip("the identity already has a settings file")
    settings = {"filesystem": {"allowWrite": [str(sb.home)]}}
    lines = attempts(sb, [
        "echo '{\"network\":{\"allowedDomains\":[\"*\"]}}' > ~/.srt-settings.json",
        "mkdir -p ~/d && echo '{}' > ~/d/x && mv ~/d/x ~/.srt-settings.json",
    ], settings)
    assert lines == ["refused"] * 2, lines
    # after the run nothing of it is left, and a plain run uses defaults
    assert not target.exists() or target.read_text().strip() in ("", "{}")
    assert not target.exists()


def git_repo(sb, path="."):
    sb.host(["git", "init", "-q", "-b", "main", path])
    return sb.ws if path == "." else sb.ws / path


def test_hookspath_directory_is_protected(sb):
    # husky >= 9: core.hooksPath=.husky/_, whose hooks run .husky/<hook>
    git_repo(sb)
    sb.host(["git", "config", "core.hooksPath", ".husky/_"])
    sb.mkfile(".husky/_/pre-commit", "#!/bin/sh\n. \"$(dirname \"$0\")/h\"\n")
    sb.mkfile(".husky/pre-commit", "npm test\n")
    sb.mkfile("lefty/post-commit", "#!/bin/sh\n")
    lines = attempts(sb, [
        "echo 'touch /tmp/pwned' >> .husky/_/pre-commit",
        "echo 'touch /tmp/pwned' >> .husky/pre-commit",
        "echo x > .husky/_/post-checkout",
        "mv .husky .husky2",
    ], {"filesystem": {"allowWrite": ["."]}})
    assert lines == ["refused"] * 4, lines
    assert "pwned" not in (sb.ws / ".husky/pre-commit").read_text()
    assert not (sb.ws / ".husky/_/post-checkout").exists()


def test_missing_hookspath_directory_cannot_be_created(sb):
    git_repo(sb)
    sb.host(["git", "config", "core.hooksPath", "githooks"])
    lines = attempts(sb, [
        "mkdir -p githooks && echo x > githooks/pre-commit",
        "echo x > githooks/pre-commit",
    ], {"filesystem": {"allowWrite": ["."]}})
    assert lines == ["refused"] * 2, lines
    assert not (sb.ws / "githooks" / "pre-commit").exists()


def test_programs_and_includes_of_protected_config(sb):
    git_repo(sb)
    sb.host(["git", "config", "core.fsmonitor", "./tools/fsmon.sh"])
    sb.host(["git", "config", "diff.bin.textconv", "'scripts/conv' --flag"])
    sb.host(["git", "config", "alias.st", "!./tools/st.sh -s"])
    sb.host(["git", "config", "include.path", "../team.gitconfig"])
    sb.mkfile("team.gitconfig", "[core]\n\tpager = ./tools/pager.sh\n")
    sb.mkfile("tools/fsmon.sh", "#!/bin/sh\n")
    sb.mkfile("scripts/conv", "#!/bin/sh\ncat\n")
    lines = attempts(sb, [
        "echo 'touch /tmp/pwned' >> tools/fsmon.sh",
        "echo x >> scripts/conv",
        "echo x > tools/st.sh",          # missing: cannot be created
        "echo '[core] fsmonitor = /bin/x' >> team.gitconfig",
        "echo x > tools/pager.sh",       # named by the included file
        "echo x > tools/other.sh",       # an ordinary file stays writable
    ], {"filesystem": {"allowWrite": ["."]}})
    assert lines == ["refused"] * 5 + ["WROTE: echo x > tools/other.sh"], lines
    assert (sb.ws / "tools/fsmon.sh").read_text() == "#!/bin/sh\n"
    assert not (sb.ws / "tools/st.sh").exists()
    assert not (sb.ws / "tools/pager.sh").exists()


def test_worktree_administrative_files_are_protected(sb):
    git_repo(sb)
    sb.host(["git", "commit", "-q", "--allow-empty", "-m", "i"], env=GENV)
    sb.host(["git", "worktree", "add", "-q", str(sb.base / "wt")])
    # a planted repository elsewhere the commondir could point to
    evil = sb.ws / "evil"
    sb.host(["git", "init", "-q", "--bare", str(evil)])
    admin = ".git/worktrees/wt"
    assert (sb.ws / admin / "commondir").exists()
    lines = attempts(sb, [
        "echo %s > %s/commondir" % (evil, admin),
        "echo x > %s/gitdir" % admin,
        "mv %s .git/worktrees/moved" % admin,
    ], {"filesystem": {"allowWrite": ["."]}})
    assert lines == ["refused"] * 3, lines
    assert (sb.ws / admin / "commondir").read_text().strip() == "../.."
    # git inside still works, adding a worktree included
    r = sb.run("git worktree add -q ../wt2 && git -C ../wt2 status --short && echo ok",
               settings={"filesystem": {"allowWrite": [".", str(sb.base)]}},
               env=GENV)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r


def test_xdg_git_config_cannot_be_planted(sb):
    settings = {"filesystem": {"allowWrite": [str(sb.home)]}}
    cfg = sb.home / ".config" / "git" / "config"
    if cfg.exists():
        pytest.skip("identity has an XDG git config")
    lines = attempts(sb, [
        "mkdir -p ~/.config/git && printf '[core]\\n\\tpager = touch /tmp/x\\n' > ~/.config/git/config",
    ], settings)
    assert lines == ["refused"], lines
    assert not cfg.exists()


@pytest.mark.parametrize("name", [".claude/settings.json", ".claude/settings.local.json"])
def test_claude_settings_define_no_hooks(sb, name):
    hook = json.dumps({"hooks": {"SessionStart": [{"hooks": [
        {"type": "command", "command": "touch /tmp/pwned"}]}]}})
    lines = attempts(sb, ["mkdir -p .claude; echo '%s' > %s" % (hook, name)],
                     {"filesystem": {"allowWrite": ["."]}})
    assert lines == ["refused"], lines
    sb.mkfile(name, "{}\n")
    lines = attempts(sb, ["echo '%s' > %s" % (hook, name), "rm -f %s" % name],
                     {"filesystem": {"allowWrite": ["."]}})
    assert lines == ["refused"] * 2, lines
    assert (sb.ws / name).read_text() == "{}\n"


def test_dotfiles_of_home_and_project_beyond_search_depth(sb):
    # depth 1 only: the home directory and the project sit deeper, but
    # the shell and git on the host read exactly these files
    home = sb.mkdir("a/b/home")
    proj = sb.mkdir("c/d/proj")
    sb.host(["git", "init", "-q", str(proj)])
    settings = {"filesystem": {"allowWrite": [str(sb.ws)]},
                "mandatoryDenySearchDepth": 1}
    lines = attempts(sb, [
        "echo 'touch /tmp/pwned' >> $HOME/.bashrc",
        "echo x >> .git/config",
        "echo x > .git/hooks/pre-commit",
    ], settings, cwd=proj, env={"HOME": str(home)})
    assert lines == ["refused"] * 3, lines
    assert not (home / ".bashrc").exists()
    assert not (proj / ".git/hooks/pre-commit").exists()
