"""Issue 10: the reference's keys filesystem.disabled,
filesystem.allowGitConfig, git.safeDirectories and network.strictAllowlist,
and the environment inside the sandbox (ALL_PROXY, GIT_CONFIG_PARAMETERS,
CLAUDE_CODE_HOST_*_PROXY_PORT).  Each test runs as root and as the
unprivileged user; servers are on the host's loopback, started and stopped
here."""

import http.server
import os
import shutil
import subprocess
import threading
import uuid

import pytest

GENV = {"GIT_AUTHOR_NAME": "E2E", "GIT_AUTHOR_EMAIL": "e2e@example.com",
        "GIT_COMMITTER_NAME": "E2E", "GIT_COMMITTER_EMAIL": "e2e@example.com",
        "GIT_CONFIG_NOSYSTEM": "1"}
CURL = "curl -sS --max-time 20 --noproxy '' "
OTHER_UID = 12345  # owns "someone else's" repository in the root variant


class Origin:
    """A tiny HTTP origin on the host's 127.0.0.1."""

    def __init__(self):
        seen = self.seen = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.path)
                body = b"hello from origin\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.t.join(10)


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def lines_of(r):
    return r.stdout.splitlines()


def env_of(r):
    return dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)


def warnings_of(r, key):
    return [l for l in r.stderr.splitlines() if l.startswith("srt: warning: " + key)]


def attempts(sb, actions, settings, cwd=None, env=None):
    """Run each shell action in one sandbox: 'ok' or 'refused' per action."""
    script = "; ".join("(%s) >/dev/null 2>&1 && echo ok || echo refused" % a
                       for a in actions)
    r = sb.run(script, settings=settings, cwd=cwd, env=env)
    assert r.returncode == 0, r
    return lines_of(r)[:len(actions)], r


# ===================== filesystem.disabled =================================

def test_disabled_drops_every_filesystem_rule(sb):
    secret = sb.mkfile("secret/key", "TOPSECRET\n", base=sb.base)
    sb.host(["git", "init", "-q", "."])
    outside = sb.base / "outside"
    settings = {"filesystem": {"disabled": True, "denyRead": [str(secret.parent)],
                               "allowWrite": [], "denyWrite": [str(outside)]}}
    acts = [
        "cat %s" % secret,                       # denyRead ignored
        "echo w > %s" % outside,                 # outside allowWrite, in denyWrite
        "echo 'echo pwned' >> .bashrc",          # mandatory denies not applied
        "echo x > .git/hooks/pre-commit",
        "echo '[core]' >> .git/config",
        "echo '{}' > .mcp.json",
        "echo h > %s/fsk-home-probe" % sb.home,  # home, outside the workspace
    ]
    lines, r = attempts(sb, acts, settings)
    try:
        assert lines == ["ok"] * len(acts), (lines, r)
        assert outside.read_text() == "w\n"
        assert (sb.ws / ".git/hooks/pre-commit").read_text() == "x\n"
        assert "echo pwned" in (sb.ws / ".bashrc").read_text()
        # one warning at start names the unrestricted filesystem
        w = warnings_of(r, "filesystem.disabled")
        assert len(w) == 1, r.stderr
        assert "unrestricted" in w[0] and "ignored" in w[0], w
    finally:
        (sb.home / "fsk-home-probe").unlink(missing_ok=True)


def test_disabled_keeps_srts_own_state_out_of_reach(sb):
    """srt's run directory stays hidden (journals there make a later run
    remove files on the host) and the settings file in force read-only."""
    path = sb.write_settings({"filesystem": {"disabled": True}})
    before = open(path, "rb").read()
    run_dir = "/tmp/srt-%d" % sb.uid
    planted = "planted-" + uuid.uuid4().hex[:8]
    # make sure srt's run directory exists on the host with something in it
    assert sb.run(["true"]).returncode == 0
    assert os.listdir(run_dir), run_dir
    script = "; ".join("(%s) >/dev/null 2>&1 && echo ok || echo refused" % a for a in [
        "echo '{}' > %s" % path,
        "rm -f %s" % path,
        "ls -A %s | grep -q ." % run_dir,
        "touch %s/%s" % (run_dir, planted),
    ])
    r = sb.run(["--settings", path, "-c", script], raw=True)
    assert r.returncode == 0, r
    assert lines_of(r) == ["refused"] * 4, r
    assert open(path, "rb").read() == before
    assert not os.path.exists(os.path.join(run_dir, planted))


def test_disabled_keeps_the_network_and_dev_restricted(sb, origin):
    settings = {"filesystem": {"disabled": True},
                "network": {"allowedDomains": ["localhost"]}}
    url = "http://127.0.0.1:%d/direct" % origin.port
    r = sb.run(CURL + "%s; echo rc=$?; " % url
               + CURL + "-x \"$HTTP_PROXY\" -o /dev/null -w '%%{http_code}\\n' "
               "http://127.0.0.1:%d/proxied; " % origin.port
               + "find /dev -type b | wc -l", settings=settings)
    assert r.returncode == 0, r
    out = lines_of(r)
    assert "hello from origin" not in r.stdout, r   # own network namespace
    assert out[-2] == "403", r                      # not in allowedDomains
    assert out[-1] == "0", r                        # the sandbox's own /dev
    assert origin.seen == [], origin.seen


def test_disabled_false_changes_nothing(sb):
    sb.host(["git", "init", "-q", "."])
    lines, r = attempts(sb, ["echo x > .git/hooks/pre-commit", "echo y > ../outside"],
                        {"filesystem": {"disabled": False, "allowWrite": ["."]}})
    assert lines == ["refused", "refused"], r
    assert not warnings_of(r, "filesystem.disabled"), r.stderr


# ===================== filesystem.allowGitConfig ===========================

def repo_with_remote(sb, rel="."):
    sb.mkdir(rel) if rel != "." else None
    sb.host(["git", "init", "-q", rel])
    sb.host(["git", "-C", rel, "remote", "add", "origin", "https://example.com/a.git"])


def remote_url(sb, rel="."):
    return sb.host(["git", "-C", rel, "remote", "get-url", "origin"]).stdout.strip()


@pytest.mark.parametrize("allow", [False, True])
def test_allow_git_config_lets_remote_set_url_work(sb, allow):
    repo_with_remote(sb)
    repo_with_remote(sb, "sub/nested")
    fs = {"allowWrite": ["."]}
    if allow:
        fs["allowGitConfig"] = True
    r = sb.run("git remote set-url origin https://example.com/b.git && echo TOP; "
               "git -C sub/nested remote set-url origin https://example.com/c.git && echo NESTED",
               settings={"filesystem": fs}, env=GENV)
    want = ("https://example.com/b.git", "https://example.com/c.git") if allow \
        else ("https://example.com/a.git", "https://example.com/a.git")
    assert (remote_url(sb), remote_url(sb, "sub/nested")) == want, r
    assert (("TOP" in r.stdout) and ("NESTED" in r.stdout)) == allow, r
    w = warnings_of(r, "filesystem.allowGitConfig")
    assert len(w) == (1 if allow else 0), r.stderr
    if allow:
        for risk in ("core.hooksPath", "core.fsmonitor", ".git/hooks stay protected"):
            assert risk in w[0], w


def test_allow_git_config_keeps_hooks_and_the_rest_protected(sb):
    repo_with_remote(sb)
    settings = {"filesystem": {"allowWrite": ["."], "allowGitConfig": True}}
    acts = [
        "echo 'exit 0' > .git/hooks/pre-commit",
        "mkdir -p .git/hooks/x",
        "echo . > .git/commondir",
        "echo '[user]' > .gitconfig",
        "echo 'echo pwned' >> .bashrc",
    ]
    lines, r = attempts(sb, acts, settings)
    assert lines == ["refused"] * len(acts), (lines, r)
    assert not (sb.ws / ".git/hooks/pre-commit").exists()
    assert not (sb.ws / ".bashrc").exists()


def test_allow_git_config_names_what_the_run_made_git_run(sb):
    """The accepted risk, made visible: settings with which git on the host
    would run a program, added during the run, are named when it ends."""
    repo_with_remote(sb)
    repo_with_remote(sb, "sub/nested")
    settings = {"filesystem": {"allowWrite": ["."], "allowGitConfig": True}}
    r = sb.run("git remote set-url origin https://example.com/b.git", settings=settings)
    assert r.returncode == 0, r
    assert "the command set" not in r.stderr, r.stderr  # a URL runs nothing
    r = sb.run("git config core.hooksPath /tmp/elsewhere && git config alias.x '!id' && "
               "git -C sub/nested config core.fsmonitor ./watch.sh", settings=settings)
    assert r.returncode == 0, r
    top = [l for l in r.stderr.splitlines() if "%s/.git/config: the command set" % sb.ws in l]
    assert len(top) == 1 and "core.hookspath, alias.x" in top[0], r.stderr
    nested = "%s/sub/nested/.git/config: the command set core.fsmonitor" % sb.ws
    assert nested in r.stderr, r.stderr
    # too large to be read back: said so, never passed over in silence
    r = sb.run("head -c 2000000 /dev/zero | tr '\\0' '#' >> .git/config", settings=settings)
    assert r.returncode == 0, r
    assert "%s/.git/config: cannot be checked" % sb.ws in r.stderr, r.stderr


def test_allow_git_config_with_a_missing_config(sb):
    """A .git without a config: no stand-in is made for it, and the
    command may create it."""
    sb.mkdir(".git/hooks")
    sb.mkfile(".git/HEAD", "ref: refs/heads/main\n")
    settings = {"filesystem": {"allowWrite": ["."], "allowGitConfig": True}}
    lines, r = attempts(sb, ["printf '[core]\\n\\tbare = false\\n' > .git/config",
                             "touch .git/hooks/post-checkout"], settings)
    assert lines == ["ok", "refused"], r
    assert (sb.ws / ".git/config").read_text() == "[core]\n\tbare = false\n"


# ===================== git.safeDirectories =================================

def foreign_repo(sb, path):
    """A repository that belongs to someone else: OTHER_UID in the root
    variant, root in the user variant (created here, as root)."""
    os.makedirs(path)
    subprocess.run(["git", "init", "-q", str(path)], check=True, capture_output=True,
                   env=dict(os.environ, **GENV))
    if sb.ident.name == "root":
        for d, dirs, files in os.walk(path):
            for n in [d] + [os.path.join(d, f) for f in dirs + files]:
                os.lchown(n, OTHER_UID, OTHER_UID)
    # readable and searchable for the unprivileged user
    subprocess.run(["chmod", "-R", "a+rX", str(path)], check=True)


def git_status(sb, settings, cwd=None, env=None):
    e = dict(GENV, **(env or {}))
    return sb.run("git status --porcelain >/dev/null && echo SAFE", settings=settings,
                  cwd=cwd, env=e)


@pytest.mark.parametrize("spelling", ["absolute", "relative", "home"])
def test_safe_directories_let_git_use_a_foreign_repository(sb, spelling):
    if spelling == "home":
        # "~": a repository in the home directory (real for the user variant)
        repo = sb.home / ("fsk-repo-%s" % uuid.uuid4().hex[:8])
        entry = "~/" + repo.name
    else:
        repo = sb.ws / "repo"
        entry = str(repo) if spelling == "absolute" else "../repo"  # from cwd
    try:
        foreign_repo(sb, repo)
        r = git_status(sb, None, cwd=repo)
        assert "SAFE" not in r.stdout and "dubious ownership" in r.stderr, r
        r = git_status(sb, {"git": {"safeDirectories": [entry]}}, cwd=repo)
        assert "SAFE" in r.stdout, r
        # a repository beneath a listed directory too (the "<dir>/*" entry
        # needs git >= 2.46): the listed one itself is what is checked here
    finally:
        shutil.rmtree(repo, ignore_errors=True)


def test_safe_directories_grant_no_write(sb):
    repo = sb.ws / "repo"
    foreign_repo(sb, repo)
    sb.mkfile("f", "x\n")
    r = sb.run("git status --porcelain >/dev/null && echo SAFE; "
               "echo x > .git/description && echo WROTE; git commit -q --allow-empty -m m "
               "&& echo COMMITTED",
               settings={"git": {"safeDirectories": [str(repo)]}}, cwd=repo, env=GENV)
    assert "SAFE" in r.stdout, r
    assert "WROTE" not in r.stdout and "COMMITTED" not in r.stdout, r


def test_safe_directories_continue_the_callers_git_config_count(sb):
    repo = sb.ws / "repo"
    foreign_repo(sb, repo)
    caller = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.name",
              "GIT_CONFIG_VALUE_0": "From Caller",
              # a stale entry above the caller's count is ours to replace
              "GIT_CONFIG_KEY_1": "core.pager", "GIT_CONFIG_VALUE_1": "x"}
    r = sb.run("git status --porcelain >/dev/null && echo SAFE; git config user.name; "
               "env | grep '^GIT_CONFIG_' | sort",
               settings={"git": {"safeDirectories": [str(repo)]}}, cwd=repo, env=caller)
    assert "SAFE" in r.stdout and "From Caller" in r.stdout, r
    env = env_of(r)
    assert env["GIT_CONFIG_COUNT"] == "3", env
    assert env["GIT_CONFIG_KEY_1"] == env["GIT_CONFIG_KEY_2"] == "safe.directory", env
    assert env["GIT_CONFIG_VALUE_1"] == str(repo), env
    assert env["GIT_CONFIG_VALUE_2"] == str(repo) + "/*", env
    # "0" is the caller's opt-out: nothing added, git refuses again
    r = git_status(sb, {"git": {"safeDirectories": [str(repo)]}}, cwd=repo,
                   env={"GIT_CONFIG_COUNT": "0"})
    assert "SAFE" not in r.stdout and "dubious ownership" in r.stderr, r


# ===================== network.strictAllowlist =============================

@pytest.mark.parametrize("strict", [False, True])
def test_strict_allowlist_is_deny_by_default_either_way(sb, origin, strict):
    settings = {"network": {"allowedDomains": ["127.0.0.1"], "strictAllowlist": strict}}
    r = sb.run(CURL + "-x \"$HTTP_PROXY\" http://127.0.0.1:%d/allowed; " % origin.port
               + CURL + "-x \"$HTTP_PROXY\" -o /dev/null -w '%{http_code}\\n' "
               "http://unlisted.example/", settings=settings)
    assert "hello from origin" in r.stdout, r
    assert lines_of(r)[-1] == "403", r
    assert origin.seen == ["/allowed"], origin.seen
    p = sb.run(["true"], settings=settings, opts=["--print-policy"])
    assert ("strictAllowlist" in p.stdout) == strict, p


# ===================== the environment =====================================

def test_environment_variables(sb):
    caller = {"CLAUDE_CODE_HOST_HTTP_PROXY_PORT": "1", "CLAUDE_CODE_HOST_SOCKS_PROXY_PORT": "2",
              "ALL_PROXY": "socks5h://elsewhere:9"}
    r = sb.run(["env"], env=caller)
    assert r.returncode == 0, r
    env = env_of(r)
    # http:// on purpose: a client without SOCKS support (httpx) fails on socks5h
    assert env["ALL_PROXY"] == env["all_proxy"] == "http://127.0.0.1:3128", env
    assert env["FTP_PROXY"] == env["ftp_proxy"] == "socks5h://127.0.0.1:1080", env
    assert env["GIT_CONFIG_PARAMETERS"] == "'http.proxyAuthMethod=basic'", env
    # the proxies have no host port in the full mode: neither ours nor the
    # caller's value would be true
    assert "CLAUDE_CODE_HOST_HTTP_PROXY_PORT" not in env, env
    assert "CLAUDE_CODE_HOST_SOCKS_PROXY_PORT" not in env, env
    assert env["SANDBOX_RUNTIME"] == "1" and env["SRT_SANDBOX"] == "1", env


def test_git_reads_git_config_parameters_merged_with_the_callers(sb):
    r = sb.run("git config --get http.proxyAuthMethod; git config --get a.b",
               env={"GIT_CONFIG_PARAMETERS": "'a.b=from caller'"})
    assert lines_of(r) == ["basic", "from caller"], r
    # the caller's own http.proxyAuthMethod comes later and wins
    r = sb.run("git config --get http.proxyAuthMethod",
               env={"GIT_CONFIG_PARAMETERS": "'http.proxyAuthMethod'='anyauth'"})
    assert lines_of(r) == ["anyauth"], r


def test_curl_goes_through_all_proxy(sb, origin):
    """Only ALL_PROXY set (the other proxy variables removed): curl takes
    it, and the request is filtered like any other."""
    settings = {"network": {"allowedDomains": ["127.0.0.1"]}}
    unset = "env -u HTTP_PROXY -u http_proxy -u HTTPS_PROXY -u https_proxy "
    r = sb.run(unset + CURL + "http://127.0.0.1:%d/via-all-proxy; " % origin.port
               + unset + CURL + "-o /dev/null -w '%{http_code}\\n' http://unlisted.example/",
               settings=settings)
    assert "hello from origin" in r.stdout, r
    assert lines_of(r)[-1] == "403", r
    assert origin.seen == ["/via-all-proxy"], origin.seen
