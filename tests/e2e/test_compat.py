"""Compatibility with the reference srt 0.0.83 (issue #10, items 1 and 6).

The data lives in tests/e2e/compat/:
  table.json    the compatibility table: settings files the reference takes
                or refuses, srt's expected answer for each, the behaviour
                probe run when srt takes it, and the intentional differences
                (each listed, with its reason, in README.md's "Differences
                from the reference")
  readme/       every settings example of the reference's README, verbatim,
                named after its heading (extract_readme.py writes them)
  schema_keys.mjs  prints every key path of the reference's zod schema

The srt half runs everywhere, as root and as the unprivileged user (the sb
fixture).  The reference half needs the reference installed ($SRT_REFERENCE,
default below, with node, bwrap, socat and rg); without it those tests skip
with a message, so `make test` does not depend on npm.  It runs the same
files through the reference's own CLI and fails on any accept/reject
difference the table does not list as intentional, and feeds every key of
the reference's schema to srt, failing on one srt calls unknown.

How the reference answers (measured on 0.0.83, root and unprivileged): a
file it takes runs the command (`-- true` exits 0); a file it refuses exits
1 with "Error: FILE does not hold a valid config — ..." (or "is not valid
JSON", or "is empty"); a sandbox that cannot start for another reason (no
bwrap, say) also exits 1, with another "Error:" line, and is reported as
such, never counted as a refusal.
"""

import copy
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
COMPAT = HERE / "compat"
REPO = HERE.parent.parent
sys.path.insert(0, str(COMPAT))
import extract_readme  # noqa: E402
import schema_parity  # noqa: E402

TABLE = json.loads((COMPAT / "table.json").read_text())
ENTRIES = TABLE["entries"]
DIFFERENCES = {d["title"]: d["reason"] for d in TABLE["differences"]}
README_EXPECT = TABLE["readme_examples"]
README_FILES = [e["file"] for e in json.loads((COMPAT / "readme" / "headings.json").read_text())]

REFERENCE = Path(os.environ.get("SRT_REFERENCE") or extract_readme.DEFAULT_REFERENCE)

# The reference's smallest valid file: its schema requires these five lists.
# Table entries are merged onto it (unless "bare"), so that each tests the
# key it names and not the reference's required keys.
BASE = {"network": {"allowedDomains": [], "deniedDomains": []},
        "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}

REF_REJECT = re.compile(r"does not hold a valid config|is not valid JSON|is empty\. Delete it")


def merge(a, b):
    out = copy.deepcopy(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def entry_text(entry, ws, port):
    """The settings file of a table entry, placeholders filled in:
    @WS@ the workspace, @PORT@ the local origin's port."""
    if "text" in entry:
        text = entry["text"]
    else:
        s = entry["settings"] if entry.get("bare") else merge(BASE, entry["settings"])
        text = json.dumps(s, indent=2) + "\n"
    return text.replace("@WS@", str(ws)).replace("@PORT@", str(port))


def readme_text(name):
    return (COMPAT / "readme" / name).read_text()


def expected_reference(expect):
    """What the reference answers: srt's answer unless an intentional
    difference is listed."""
    if "difference" not in expect:
        return expect["srt"]
    return "reject" if expect["srt"] == "accept" else "accept"


# ---- a local origin for the network probes ----------------------------

class _Origin(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"compat-origin\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def origin_port():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


# ---- behaviour probes --------------------------------------------------
# Each runs commands in the sandbox the settings file makes and asserts what
# the table's entry promises.  run(cmd) runs `srt --settings FILE -- sh -c cmd`.

NET_SCRIPT = r'''
import json, socket, sys
def get(host, port):
    s = socket.create_connection(("127.0.0.1", 3128), timeout=15)
    s.sendall(("GET http://%s:%d/compat HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
               % (host, port, host, port)).encode())
    data = b""
    while len(data) < 1 << 20:
        d = s.recv(65536)
        if not d:
            break
        data += d
    head, _, body = data.partition(b"\r\n\r\n")
    return [head.split(b"\r\n")[0].decode(errors="replace"),
            "x-proxy-error: blocked-by-sandbox" in head.decode(errors="replace").lower(),
            body.decode(errors="replace")]
out = {}
for name, host, port in [a.split(",") for a in sys.argv[1:]]:
    out[name] = get(host, int(port))
print(json.dumps(out))
'''


def net_results(run, targets):
    r = run("/usr/bin/python3 -c '%s' %s" % (NET_SCRIPT.replace("'", "'\\''"),
                                            " ".join(",".join(map(str, t)) for t in targets)))
    assert r.returncode == 0, r
    return json.loads(r.stdout.strip().splitlines()[-1])


def status(res):
    return res[0].split(" ")[1] if " " in res[0] else res[0]


def assert_refused(res):
    assert status(res) == "403" and res[1], res


def probe_net(sb, run, port):
    got = net_results(run, [("allowed", "127.0.0.1", port), ("denied", "denied.example.com", 80),
                            ("unlisted", "unlisted.example.com", 80)])
    assert status(got["allowed"]) == "200" and got["allowed"][2] == "compat-origin\n", got
    assert_refused(got["denied"])
    assert_refused(got["unlisted"])


def probe_net_deny_all(sb, run, port):
    got = net_results(run, [("allowed", "127.0.0.1", port)])
    assert_refused(got["allowed"])  # deniedDomains "*" wins over the allowed literal


def probe_readme_github(sb, run, port):
    got = net_results(run, [("unlisted", "example.com", 80)])
    assert_refused(got["unlisted"])


def assert_write_fails(run, rel, ws):
    before = (ws / rel).read_bytes() if (ws / rel).exists() else None
    r = run("echo compat > '%s'" % rel)
    assert r.returncode != 0, (rel, r)
    after = (ws / rel).read_bytes() if (ws / rel).exists() else None
    assert after == before, (rel, before, after)


def assert_write_works(run, rel, ws):
    r = run("echo compat > '%s' && cat '%s'" % (rel, rel))
    assert r.returncode == 0 and r.stdout == "compat\n", (rel, r)


def probe_no_write(sb, run, port):
    assert_write_fails(run, "f", sb.ws)


def probe_write(sb, run, port):
    assert_write_works(run, "f", sb.ws)
    assert_write_fails(run, str(sb.base / "outside"), sb.ws)


def probe_denywrite(sb, run, port):
    assert_write_works(run, "ok", sb.ws)
    assert_write_fails(run, ".env", sb.ws)


class HomeSecret:
    """~/.ssh/compat-key-PID on the host (the user variant's home is real:
    only what this creates is removed)."""

    def __init__(self, sb):
        self.sb = sb
        self.dir = sb.home / ".ssh"
        self.made_dir = not self.dir.exists()
        if self.made_dir:
            self.dir.mkdir(mode=0o700)
            sb.ident.chown(str(self.dir))
        self.path = self.dir / ("compat-key-%d" % os.getpid())
        self.path.write_text("secret\n")
        sb.ident.chown(str(self.path))

    def assert_hidden(self, run):
        r = run("cat '%s'" % self.path)
        assert r.returncode != 0 and "secret" not in r.stdout, r

    def close(self):
        self.path.unlink(missing_ok=True)
        if self.made_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def probe_denyread(sb, run, port):
    key = HomeSecret(sb)
    try:
        key.assert_hidden(run)
        r = run("cat /etc/hostname >/dev/null && echo readable")
        assert r.stdout == "readable\n", r
    finally:
        key.close()


def probe_allowread(sb, run, port):
    sb.mkfile("priv/other", "hidden\n")
    sb.mkfile("priv/keep/x", "shown\n")
    r = run("cat priv/other")
    assert r.returncode != 0 and "hidden" not in r.stdout, r
    r = run("cat priv/keep/x")
    assert r.returncode == 0 and r.stdout == "shown\n", r


def probe_literal(sb, run, port):
    assert_write_fails(run, "a*b", sb.ws)
    assert_write_works(run, "axb", sb.ws)  # the literal is no pattern


def probe_slash_glob(sb, run, port):
    sb.mkfile("g/d1/secret", "hidden\n")
    r = run("cat g/d1/secret")
    assert r.returncode != 0 and "hidden" not in r.stdout, r


def probe_unix_blocked(sb, run, port):
    r = run("/usr/bin/python3 -c 'import socket; socket.socket(socket.AF_UNIX)'")
    assert r.returncode != 0 and "PermissionError" in r.stderr, r


def probe_unix_unlisted(sb, run, port):
    import socket
    sock_path = str(sb.base / "other.sock")
    srv = socket.socket(socket.AF_UNIX)
    try:
        srv.bind(sock_path)
        os.chmod(sock_path, 0o777)
        srv.listen(4)
        r = run("/usr/bin/python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect(\"%s\")'"
                % sock_path)
        assert r.returncode != 0 and "PermissionError" in r.stderr, r
    finally:
        srv.close()


def probe_unix_allowed(sb, run, port):
    r = run("/usr/bin/python3 -c 'import socket; socket.socket(socket.AF_UNIX); print(\"made\")'")
    assert r.returncode == 0 and r.stdout == "made\n", r


def probe_userns(sb, run, port):
    r = run("unshare -U true && echo nested")
    assert r.returncode == 0 and r.stdout == "nested\n", r


def probe_no_userns(sb, run, port):
    r = run("unshare -U true")
    assert r.returncode != 0, r


def probe_depth_5(sb, run, port):
    # below the default depth (3), within 5
    sb.mkfile("a/b/c/d/.bashrc", "mine\n")
    assert_write_fails(run, "a/b/c/d/.bashrc", sb.ws)
    assert_write_works(run, "a/b/c/d/ok", sb.ws)


def probe_fs_disabled(sb, run, port):
    target = sb.base / "outside"
    r = run("echo compat > '%s'" % target)
    assert r.returncode == 0 and target.read_text() == "compat\n", r


def probe_gitconfig(sb, run, port):
    sb.mkfile(".git/config", "[core]\n\tbare = false\n")
    sb.mkdir(".git/hooks")
    r = run("printf '[compat]\\n\\tx = 1\\n' >> .git/config")
    assert r.returncode == 0 and "[compat]" in (sb.ws / ".git/config").read_text(), r
    assert_write_fails(run, ".git/hooks/pre-commit", sb.ws)


def probe_safe_directory(sb, run, port):
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    r = run("git config --get-all safe.directory")
    assert r.returncode == 0 and str(sb.ws) in r.stdout.split("\n"), r


def probe_readme_mcp(sb, run, port):
    d = sb.home / "sensitive-folder"
    made = not d.exists()
    if made:
        d.mkdir()
        sb.ident.chown(str(d))
    try:
        assert_write_fails(run, str(d / "test.txt"), sb.ws)
        assert_write_works(run, "ok", sb.ws)
    finally:
        if made:
            shutil.rmtree(d, ignore_errors=True)


def probe_readme_complete(sb, run, port):
    key = HomeSecret(sb)
    try:
        assert_write_works(run, "ok", sb.ws)
        assert_write_fails(run, ".env", sb.ws)
        assert_write_fails(run, ".bashrc", sb.ws)
        key.assert_hidden(run)
    finally:
        key.close()


def probe_readme_restrict(sb, run, port):
    sb.mkdir("secrets")
    key = HomeSecret(sb)
    try:
        assert_write_works(run, "ok", sb.ws)
        assert_write_fails(run, ".env", sb.ws)
        assert_write_fails(run, "secrets/x", sb.ws)
        key.assert_hidden(run)
    finally:
        key.close()


PROBES = {name[len("probe_"):].replace("_", "-"): fn
          for name, fn in list(globals().items()) if name.startswith("probe_")}


# ---- the srt half ----------------------------------------------------------

def srt_answer(sb, text):
    """(answer, stderr, run): 'accept' when `srt --settings F -- true` runs
    the command, 'reject' when srt refuses the file (exit 125 naming it);
    anything else is returned as it is, for the assertion to show."""
    path = sb.write_settings(text)
    r = sb.run(["true"], opts=["--settings", path])
    if r.returncode == 0:
        answer = "accept"
    elif r.returncode == 125 and ("srt: %s" % path) in r.stderr:
        answer = "reject"
    else:
        answer = "exit %d" % r.returncode

    def run(cmd):
        return sb.run(["sh", "-c", cmd], opts=["--settings", path])
    return answer, r.stderr, run


def check_srt(sb, expect, text, port):
    answer, err, run = srt_answer(sb, text)
    why = " (key being built on %s)" % expect["pending"] if "pending" in expect else ""
    assert answer == expect["srt"], "srt should %s this file%s, got %s:\n%s\n%s" % (
        expect["srt"], why, answer, text, err)
    if answer == "reject":
        if "error" in expect:
            assert expect["error"] in err, err
        return
    if "warn" in expect:
        assert expect["warn"] in err, err
    if "probe" in expect:
        PROBES[expect["probe"]](sb, run, port)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_table(sb, origin_port, entry):
    check_srt(sb, entry, entry_text(entry, sb.ws, origin_port), origin_port)


@pytest.mark.parametrize("name", README_FILES)
def test_reference_readme_example(sb, origin_port, name):
    """Every settings example of the reference's README, as it stands."""
    check_srt(sb, README_EXPECT[name], readme_text(name), origin_port)


def readme_differences_section():
    text = (REPO / "README.md").read_text()
    m = re.search(r"^## Differences from the reference\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, "README.md has no section \"Differences from the reference\""
    m2 = re.search(r"^### Settings files\n(.*?)(?=^#|\Z)", m.group(1), re.S | re.M)
    assert m2, "README.md's differences section has no \"### Settings files\" list"
    return m2.group(1)


def test_table_and_readme_agree():
    """The intentional differences of the table are the README's list, each
    with its reason; every entry names an existing probe and difference."""
    section = readme_differences_section()
    titles = [t.replace("`", "") for t in re.findall(r"^- \*\*(.+?)\*\*", section, re.M)]
    assert sorted(titles) == sorted(DIFFERENCES), (titles, sorted(DIFFERENCES))
    flat = re.sub(r"\s+", " ", section.replace("`", ""))
    for title, reason in DIFFERENCES.items():
        assert "**%s**: %s" % (title, reason) in flat, "README.md lists %r without the reason %r" % (
            title, reason)
    used = set()
    for e in list(ENTRIES) + list(README_EXPECT.values()):
        assert e["srt"] in ("accept", "reject"), e
        assert e.get("probe") is None or e["probe"] in PROBES, e
        assert e.get("difference") is None or e["difference"] in DIFFERENCES, e
        assert not (e["srt"] == "reject" and ("probe" in e or "warn" in e)), e
        used.add(e.get("difference"))
    assert set(DIFFERENCES) <= used, set(DIFFERENCES) - used
    assert sorted(README_EXPECT) == sorted(README_FILES)
    names = [e["name"] for e in ENTRIES]
    assert len(names) == len(set(names))


# ---- the reference half ------------------------------------------------------

def reference_skip_reason():
    if not (REFERENCE / "dist" / "cli.js").is_file():
        return "the reference srt is not installed at %s (set SRT_REFERENCE; " \
               "bench/install-reference.sh installs it)" % REFERENCE
    missing = [b for b in ("node", "bwrap", "socat", "rg") if not shutil.which(b)]
    if missing:
        return "the reference srt needs %s, not installed here" % ", ".join(missing)
    return None


@pytest.fixture(scope="session")
def reference_cli():
    """The reference's CLI, in a copy every identity can read (its install
    under /root is not readable by the unprivileged user)."""
    why = reference_skip_reason()
    if why:
        pytest.skip(why)
    modules = REFERENCE.parent.parent  # node_modules: the package and its dependencies
    d = Path(tempfile.mkdtemp(prefix="srt-compat-ref-", dir="/tmp"))
    os.chmod(d, 0o755)
    rel = REFERENCE.relative_to(modules)
    shutil.copytree(modules, d / "node_modules", symlinks=True)
    subprocess.run(["chmod", "-R", "a+rX", str(d)], check=True, timeout=60)
    yield d / "node_modules" / rel / "dist" / "cli.js"
    shutil.rmtree(d, ignore_errors=True)


def reference_cli_answer(sb, cli, path):
    """The reference CLI's answer to `srt --settings PATH -- true`: 'reject'
    when it refuses the file, else 'accept' (the schema took it), with
    whether the sandbox then started."""
    argv = sb.ident.wrap([shutil.which("node"), str(cli), "--settings", str(path), "--", "true"],
                         sb.env())
    p = subprocess.run(argv, cwd=str(sb.ws), capture_output=True, text=True, timeout=120)
    if p.returncode == 1 and REF_REJECT.search(p.stderr):
        return "reject", True, p.stderr
    return "accept", p.returncode == 0, p.stderr


def reference_validate(sb, cli, paths):
    """The reference's loadConfig() on each file (what its CLI calls first),
    in one node process, as the test's identity: 'accept' or 'reject'."""
    script = COMPAT / "ref_validate.mjs"
    argv = sb.ident.wrap([shutil.which("node"), str(script), str(cli.parent.parent)]
                         + [str(p) for p in paths], sb.env())
    p = subprocess.run(argv, cwd=str(sb.ws), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    got = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(got) == len(paths), p.stdout
    return [("accept" if g["kind"] == "ok" else "reject", g["reason"]) for g in got]


def test_reference_answers_as_the_table_says(sb, reference_cli, origin_port):
    """Every table entry and README example through the reference: an answer
    other than srt's must be a listed intentional difference, and a listed
    difference must still be one.  The reference's own loadConfig() judges
    every file; its CLI (sequential runs: the reference's runs in one
    directory race on the mount points they leave there) judges the README
    examples and the minimal file, and must agree with it."""
    cases = [(e["name"], e, entry_text(e, sb.ws, origin_port)) for e in ENTRIES]
    cases += [("README " + n, README_EXPECT[n], readme_text(n)) for n in README_FILES]
    paths = []
    for i, (_, _, text) in enumerate(cases):
        path = sb.base / ("ref-%d.json" % i)
        path.write_bytes(text.encode())
        os.chmod(path, 0o644)
        paths.append(path)
    answers = reference_validate(sb, reference_cli, paths)
    cli_checked = [i for i, c in enumerate(cases) if c[0].startswith("README ")] + [0]
    not_started = []
    for i in cli_checked:
        answer, started, err = reference_cli_answer(sb, reference_cli, paths[i])
        assert answer == answers[i][0], "the reference CLI answered %s, its loadConfig %s: %s\n%s" % (
            answer, answers[i][0], cases[i][0], err)
        if not started:
            not_started.append("%s: %s" % (cases[i][0], err.strip()))
    agreed, intentional, bad = 0, 0, []
    for (name, expect, text), (answer, reason) in zip(cases, answers):
        want = expected_reference(expect)
        if answer != want:
            what = ("the reference answered %s, srt's table says %s and lists no intentional "
                    "difference" % (answer, expect["srt"]) if "difference" not in expect else
                    "the reference answered %s: the listed difference %r no longer holds"
                    % (answer, expect["difference"]))
            bad.append("%s: %s\n%s%s" % (name, what, text, reason))
        elif "difference" in expect:
            intentional += 1
        else:
            agreed += 1
    print("\ncompatibility table (%s): %d entries, %d agreed, %d intentional differences, "
          "%d unexpected; reference CLI runs: %d, sandbox not started in %d%s"
          % (sb.ident.name, len(cases), agreed, intentional, len(bad), len(cli_checked),
             len(not_started), "".join("\n  " + n for n in not_started)))
    assert not bad, "\n\n".join(bad)


def test_readme_copies_are_the_references(reference_cli):
    """tests/e2e/compat/readme/ holds the reference README's examples as it
    has them now (re-run extract_readme.py after updating the reference)."""
    now = extract_readme.extract((REFERENCE / "README.md").read_text())
    assert now == extract_readme.stored(), \
        "the reference README's settings examples changed: run tests/e2e/compat/extract_readme.py"


# ---- schema parity ---------------------------------------------------------------

def key_paths(v, prefix=""):
    """The key paths a settings object holds, spelled as schema_keys.mjs
    spells them."""
    out = set()
    if isinstance(v, dict):
        for k, x in v.items():
            p = "%s.%s" % (prefix, k) if prefix else k
            out.add(p)
            out |= key_paths(x, p)
    elif isinstance(v, list):
        for x in v:
            out |= key_paths(x, prefix + "[]")
    return out


def test_every_reference_schema_key_is_known(sb, reference_cli):
    """Every key of the reference's schema (schema_parity.py): srt accepts
    it, ignores it with a warning or refuses it as not supported yet, never
    calls it unknown; and the table holds each in some entry."""
    keys = schema_parity.schema_keys(REFERENCE)
    leaves = {re.sub(r"\[\]", "", k).split(".")[-1] for k in keys}
    missed = schema_parity.spelled_keys(REFERENCE) - leaves
    assert not missed, "keys the walk of the schema missed: %s" % sorted(missed)
    held = set()
    for e in ENTRIES:
        if "settings" in e:
            held |= key_paths(e["settings"])
    for n in README_FILES:
        held |= key_paths(json.loads(readme_text(n)))
    assert not set(keys) - held, "keys no table entry holds: %s" % sorted(set(keys) - held)
    verdicts = {}
    for k in keys:
        path = sb.write_settings(json.dumps(schema_parity.sample_for(k)))
        r = sb.run(["true"], opts=["--settings", path])
        verdicts[k] = schema_parity.classify(r.returncode, r.stderr, path)
    counts = {}
    for v in verdicts.values():
        counts[v] = counts.get(v, 0) + 1
    print("\nreference schema keys (%s): %d; %s" % (sb.ident.name, len(keys), ", ".join(
        "%s %d" % kv for kv in sorted(counts.items()))))
    unknown = {k: v for k, v in verdicts.items() if v not in schema_parity.KNOWN}
    assert not unknown, json.dumps(unknown, indent=1)
